/*
 * test_toolkit_lbp.c -- gasp_lbp and `gasp lbp` against references
 * written here: the exact marginals of small random trees by enumerating
 * every joint state (BP is exact on a tree), and a plain flooding BP in
 * linear space (a different evaluation order and normalisation from the
 * library's log-space leave-one-out products) on loopy grids.  Both
 * engines (residual BP on the priority scheduler, fifo and sweep too, and
 * flooding BP), 1 and 2 threads; the command's denoising of a PGM image
 * against the clean image; the factor-list format; bad inputs refused
 * naming FILE:LINE with nothing written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gasp_toolkits.h"
#include "testutil.h"

/* ---- models -------------------------------------------------------------- */

typedef struct mrf {
  uint64_t n, m;
  uint32_t card[64];
  double unary[64 * 4];
  uint64_t uoff[65];
  uint64_t u[256], v[256];
  double pair[256 * 16];
  uint64_t poff[257];
} mrf;

static double unif(tu_rng *r) {
  return (double)(tu_next(r) >> 11) / 9007199254740992.0;
}

static void add_var(mrf *M, uint32_t k, tu_rng *r) {
  M->card[M->n] = k;
  M->uoff[M->n + 1] = M->uoff[M->n] + k;
  for (uint32_t x = 0; x < k; x++)
    M->unary[M->uoff[M->n] + x] = 0.05 + 2 * unif(r);
  M->n++;
}

/* a factor u - v with random potentials; strength scales the spread */
static void add_factor(mrf *M, uint64_t a, uint64_t b, double strength,
                       tu_rng *r) {
  uint64_t f = M->m++;
  M->u[f] = a, M->v[f] = b;
  uint64_t sz = (uint64_t)M->card[a] * M->card[b];
  M->poff[f + 1] = M->poff[f] + sz;
  for (uint64_t i = 0; i < sz; i++)
    M->pair[M->poff[f] + i] = exp(strength * (2 * unif(r) - 1));
}

static gasp_mrf view(const mrf *M) {
  gasp_mrf g = {M->n, M->card, M->unary, M->m, M->u, M->v, M->pair, M->poff};
  return g;
}

/* A random tree: vertex i > 0 hangs from a random earlier vertex; the
 * factor's orientation is random too.  Cardinalities 2 or 3. */
static void random_tree(mrf *M, uint64_t n, uint64_t seed) {
  memset(M, 0, sizeof *M);
  tu_rng r = {seed};
  for (uint64_t i = 0; i < n; i++)
    add_var(M, 2 + (uint32_t)tu_below(&r, 2), &r);
  for (uint64_t i = 1; i < n; i++) {
    uint64_t p = tu_below(&r, i);
    if (tu_below(&r, 2))
      add_factor(M, p, i, 1.5, &r);
    else
      add_factor(M, i, p, 1.5, &r);
  }
}

/* An h x w grid of K-state variables with random potentials. */
static void random_grid(mrf *M, int h, int w, uint32_t k, double strength,
                        uint64_t seed) {
  memset(M, 0, sizeof *M);
  tu_rng r = {seed};
  for (int i = 0; i < h * w; i++)
    add_var(M, k, &r);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      if (x + 1 < w) add_factor(M, y * w + x, y * w + x + 1, strength, &r);
      if (y + 1 < h) add_factor(M, y * w + x, (y + 1) * w + x, strength, &r);
    }
}

/* ---- references ------------------------------------------------------------
 */

/* Exact marginals by enumerating every joint state. */
static void brute_marginals(const mrf *M, double *marg) {
  uint64_t total = 1;
  for (uint64_t i = 0; i < M->n; i++)
    total *= M->card[i];
  memset(marg, 0, M->uoff[M->n] * sizeof *marg);
  uint32_t x[64] = {0};
  double Z = 0;
  for (uint64_t s = 0; s < total; s++) {
    uint64_t t = s;
    for (uint64_t i = 0; i < M->n; i++) {
      x[i] = (uint32_t)(t % M->card[i]);
      t /= M->card[i];
    }
    double p = 1;
    for (uint64_t i = 0; i < M->n; i++)
      p *= M->unary[M->uoff[i] + x[i]];
    for (uint64_t f = 0; f < M->m; f++)
      p *= M->pair[M->poff[f] + x[M->u[f]] * M->card[M->v[f]] + x[M->v[f]]];
    Z += p;
    for (uint64_t i = 0; i < M->n; i++)
      marg[M->uoff[i] + x[i]] += p;
  }
  for (uint64_t i = 0; i < M->uoff[M->n]; i++)
    marg[i] /= Z;
}

/* Flooding BP in linear space: msg[2f] is u -> v (card v entries), msg[2f
 * + 1] is v -> u; each new message the product of the unary and every
 * other incoming message, taken factor by factor; until the largest change
 * is below tol. */
static void ref_bp(const mrf *M, double tol, double *belief) {
  static double old[512][4], nw[512][4];
  memset(nw, 0, sizeof nw);
  for (uint64_t f = 0; f < M->m; f++)
    for (uint32_t x = 0; x < 4; x++) {
      old[2 * f][x] = 1.0 / M->card[M->v[f]];
      old[2 * f + 1][x] = 1.0 / M->card[M->u[f]];
    }
  for (int it = 0; it < 100000; it++) {
    double worst = 0;
    for (uint64_t f = 0; f < M->m; f++)
      for (int dir = 0; dir < 2; dir++) {
        uint64_t a = dir ? M->v[f] : M->u[f], b = dir ? M->u[f] : M->v[f];
        double c[4];
        for (uint32_t x = 0; x < M->card[a]; x++) {
          c[x] = M->unary[M->uoff[a] + x];
          for (uint64_t g = 0; g < M->m; g++) {
            if (g == f) continue;
            if (M->v[g] == a) c[x] *= old[2 * g][x];
            if (M->u[g] == a) c[x] *= old[2 * g + 1][x];
          }
        }
        double s = 0;
        for (uint32_t y = 0; y < M->card[b]; y++) {
          double t = 0;
          for (uint32_t x = 0; x < M->card[a]; x++) {
            uint32_t xu = dir ? y : x, xv = dir ? x : y;
            t += c[x] * M->pair[M->poff[f] + xu * M->card[M->v[f]] + xv];
          }
          nw[2 * f + dir][y] = t;
          s += t;
        }
        for (uint32_t y = 0; y < M->card[b]; y++) {
          nw[2 * f + dir][y] /= s;
          worst = fmax(worst, fabs(nw[2 * f + dir][y] - old[2 * f + dir][y]));
        }
      }
    memcpy(old, nw, sizeof old);
    if (worst < tol) break;
  }
  for (uint64_t i = 0; i < M->n; i++) {
    double s = 0;
    for (uint32_t x = 0; x < M->card[i]; x++) {
      double b = M->unary[M->uoff[i] + x];
      for (uint64_t g = 0; g < M->m; g++) {
        if (M->v[g] == i) b *= old[2 * g][x];
        if (M->u[g] == i) b *= old[2 * g + 1][x];
      }
      belief[M->uoff[i] + x] = b;
      s += b;
    }
    for (uint32_t x = 0; x < M->card[i]; x++)
      belief[M->uoff[i] + x] /= s;
  }
}

static double max_diff(const double *a, const double *b, uint64_t n) {
  double d = 0;
  for (uint64_t i = 0; i < n; i++)
    d = fmax(d, fabs(a[i] - b[i]));
  return d;
}

/* gasp_lbp with an engine, scheduler and thread count; asserts success */
static void run_lbp(const mrf *M, gasp_engine_kind eng, gasp_scheduler sch,
                    int threads, double tol, double *belief, uint32_t *map,
                    gasp_lbp_info *info) {
  gasp_lbp_opts o;
  gasp_lbp_opts_init(&o);
  o.engine.engine = eng;
  o.engine.scheduler = sch;
  o.engine.threads = threads;
  o.tol = tol;
  gasp_mrf g = view(M);
  gasp_error err;
  gasp_run_stats st;
  int rc = gasp_lbp(&g, &o, belief, map, info, &st, &err);
  if (rc) fail_msg("gasp_lbp: %s", tu_err(&err));
  assert_true(info->converged);
  assert_int_equal(info->updates, st.updates);
}

/* ---- the library ------------------------------------------------------------
 */

static void test_tree_exact(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 6; seed++) {
    mrf M;
    random_tree(&M, 6 + seed % 3, 100 + seed);
    double exact[64 * 4], b[64 * 4];
    uint32_t map[64];
    brute_marginals(&M, exact);
    static const struct {
      gasp_engine_kind e;
      gasp_scheduler s;
    } runs[] = {{GASP_ENGINE_SYNC, GASP_SCHED_FIFO},
                {GASP_ENGINE_ASYNC, GASP_SCHED_PRIORITY},
                {GASP_ENGINE_ASYNC, GASP_SCHED_FIFO},
                {GASP_ENGINE_ASYNC, GASP_SCHED_SWEEP}};
    for (size_t r = 0; r < sizeof runs / sizeof *runs; r++)
      for (int t = 1; t <= 2; t++) {
        gasp_lbp_info info;
        memset(b, 0, sizeof b);
        run_lbp(&M, runs[r].e, runs[r].s, t, 1e-14, b, map, &info);
        double d = max_diff(b, exact, M.uoff[M.n]);
        if (!(d < 1e-9))
          fail_msg("tree %llu, run %zu, %d threads: beliefs %.3g off the "
                   "exact marginals",
                   (unsigned long long)seed, r, t, d);
        for (uint64_t i = 0; i < M.n; i++) { /* MAP: the largest marginal */
          const double *e = exact + M.uoff[i];
          for (uint32_t x = 0; x < M.card[i]; x++)
            assert_true(e[map[i]] >= e[x] - 1e-12);
        }
      }
  }
}

/* Damping changes the path, not the fixed point: a damped run on a tree
 * still ends at the exact marginals. */
static void test_tree_damped(void **state) {
  (void)state;
  mrf M;
  random_tree(&M, 8, 7);
  double exact[64 * 4], b[64 * 4];
  brute_marginals(&M, exact);
  for (int e = 0; e < 2; e++) {
    gasp_lbp_opts o;
    gasp_lbp_opts_init(&o);
    o.engine.engine = e ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
    o.engine.threads = 2;
    o.damping = 0.4;
    o.tol = 1e-14;
    gasp_mrf g = view(&M);
    gasp_lbp_info info;
    gasp_error err;
    assert_int_equal(gasp_lbp(&g, &o, b, NULL, &info, NULL, &err), GASP_OK);
    double d = max_diff(b, exact, M.uoff[M.n]);
    if (!(d < 1e-9 && info.converged))
      fail_msg("%s, damped: beliefs %.3g off the exact marginals after %llu "
               "updates (converged %d)",
               e ? "async" : "sync", d, (unsigned long long)info.updates,
               info.converged);
  }
}

/* Loopy grids: both engines against the reference flooding BP, and
 * against each other, on 1 and 2 threads. */
static void test_loopy_grid(void **state) {
  (void)state;
  static mrf M;
  static double ref[64 * 4], b[5][64 * 4];
  for (int k = 2; k <= 3; k++) {
    random_grid(&M, 5, 6, (uint32_t)k, 0.8, 40 + k);
    ref_bp(&M, 1e-13, ref);
    uint64_t len = M.uoff[M.n];
    gasp_lbp_info info[5];
    uint32_t map[5][64];
    run_lbp(&M, GASP_ENGINE_SYNC, GASP_SCHED_FIFO, 1, 1e-12, b[0], map[0],
            &info[0]);
    run_lbp(&M, GASP_ENGINE_SYNC, GASP_SCHED_FIFO, 2, 1e-12, b[1], map[1],
            &info[1]);
    run_lbp(&M, GASP_ENGINE_ASYNC, GASP_SCHED_PRIORITY, 1, 1e-12, b[2], map[2],
            &info[2]);
    run_lbp(&M, GASP_ENGINE_ASYNC, GASP_SCHED_PRIORITY, 2, 1e-12, b[3], map[3],
            &info[3]);
    run_lbp(&M, GASP_ENGINE_ASYNC, GASP_SCHED_FIFO, 2, 1e-12, b[4], map[4],
            &info[4]);
    /* flooding BP is the same on any number of threads, bit for bit */
    assert_memory_equal(b[0], b[1], len * sizeof(double));
    assert_int_equal(info[0].updates, info[1].updates);
    assert_int_equal(info[0].updates, info[0].iterations * M.n);
    for (int r = 0; r < 5; r++) {
      double d = max_diff(b[r], ref, len);
      if (!(d < 1e-8))
        fail_msg("K %d, run %d: beliefs %.3g off the reference BP", k, r, d);
      assert_true(info[r].residual < 1e-9);
      assert_memory_equal(map[r], map[0], M.n * sizeof(uint32_t));
    }
    /* residual BP skips the messages that have settled */
    assert_true(info[2].updates < info[0].updates);
  }
}

/* A model whose potentials contradict each other: a star whose centre
 * gets state 0 forced by one leaf and state 1 by another. */
static void test_contradiction(void **state) {
  (void)state;
  uint32_t card[4] = {2, 2, 2, 2};
  double unary[8] = {1, 1, 1, 0, 0, 1, 1, 1};
  uint64_t u[3] = {0, 0, 0}, v[3] = {1, 2, 3};
  double eq[4] = {1, 0, 0, 1};
  uint64_t poff[3] = {0, 0, 0};
  gasp_mrf g = {4, card, unary, 3, u, v, eq, poff};
  for (int e = 0; e < 2; e++) {
    gasp_lbp_opts o;
    gasp_lbp_opts_init(&o);
    o.engine.engine = e ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
    o.engine.threads = 1;
    gasp_error err;
    double b[8];
    assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_ERANGE);
    assert_true(tu_contains(err.msg, "contradict"));
  }
}

static void test_lib_errors(void **state) {
  (void)state;
  uint32_t card[3] = {2, 2, 2};
  double unary[6] = {1, 2, 3, 4, 5, 6};
  uint64_t u[2] = {0, 1}, v[2] = {1, 2};
  double pair[8] = {1, 2, 3, 4, 1, 2, 3, 4};
  gasp_lbp_opts o;
  gasp_lbp_opts_init(&o);
  o.engine.threads = 1;
  gasp_error err;
  double b[6];
  gasp_mrf g = {3, card, unary, 2, u, v, pair, NULL};
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_OK);
  uint32_t c0[3] = {2, 0, 2};
  g.card = c0;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_EINVAL);
  assert_true(tu_contains(err.msg, "variable 1 has no states"));
  g.card = card;
  uint64_t far[2] = {1, 3};
  g.v = far;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_EINVAL);
  assert_true(tu_contains(err.msg, "factor 1 names variable 3"));
  uint64_t self[2] = {1, 1};
  g.v = self;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_EINVAL);
  assert_true(tu_contains(err.msg, "itself"));
  g.v = v;
  double neg[6] = {1, 2, 3, -4, 5, 6};
  g.unary = neg;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_EINVAL);
  assert_true(tu_contains(err.msg, "variable 1"));
  double zero[6] = {1, 2, 0, 0, 5, 6};
  g.unary = zero;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_EINVAL);
  assert_true(tu_contains(err.msg, "all 0"));
  g.unary = unary;
  double nanp[8] = {1, 2, 3, 4, 1, NAN, 3, 4};
  g.pair = nanp;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_EINVAL);
  assert_true(tu_contains(err.msg, "factor 1"));
  g.pair = pair;
  o.engine.consistency = GASP_CONSISTENCY_VERTEX;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_ENOTSUP);
  o.engine.consistency = GASP_CONSISTENCY_EDGE;
  o.damping = 1;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_EINVAL);
  o.damping = 0;
  o.tol = NAN;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_EINVAL);
  o.tol = 1e-5;
  g.n = 0;
  assert_int_equal(gasp_lbp(&g, &o, b, NULL, NULL, NULL, &err), GASP_EINVAL);
}

/* ---- the command -----------------------------------------------------------
 */

enum { IW = 48, IH = 40, IK = 4 };

static uint32_t clean_level(int x, int y) {
  if (x > 8 && x < 26 && y > 6 && y < 30) return 3;
  if ((x - 34) * (x - 34) + (y - 24) * (y - 24) < 100) return 2;
  if (y > 33) return 0;
  return 1;
}

/* Writes the noisy image (P2 or P5) and returns the noisy image's error:
 * the fraction of pixels whose nearest level is not the clean one. */
static double write_noisy(const char *path, int binary, uint64_t seed) {
  tu_rng r = {seed};
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fprintf(f, binary ? "P5\n# noisy\n%d %d\n255\n" : "P2\n# noisy\n%d %d\n255\n",
          IW, IH);
  int bad = 0;
  for (int y = 0; y < IH; y++)
    for (int x = 0; x < IW; x++) {
      double u1 = unif(&r) + 1e-300, u2 = unif(&r);
      double g = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
      double v = 85.0 * clean_level(x, y) + 45 * g;
      int p = (int)lround(v < 0 ? 0 : v > 255 ? 255 : v);
      if ((uint32_t)lround(p / 85.0) != clean_level(x, y)) bad++;
      if (binary)
        fputc(p, f);
      else
        fprintf(f, "%d%c", p, x + 1 == IW ? '\n' : ' ');
    }
  assert_int_equal(fclose(f), 0);
  return (double)bad / (IW * IH);
}

/* Reads a P5 image of IW x IH written by gasp lbp; returns its error. */
static double image_error(const char *path) {
  size_t n;
  char *b = tu_read_file(path, &n);
  assert_non_null(b);
  char head[32];
  int len = snprintf(head, sizeof head, "P5\n%d %d\n255\n", IW, IH);
  assert_memory_equal(b, head, (size_t)len);
  assert_int_equal(n, (size_t)len + IW * IH);
  int bad = 0;
  for (int y = 0; y < IH; y++)
    for (int x = 0; x < IW; x++) {
      unsigned char p = (unsigned char)b[len + y * IW + x];
      assert_true(p % 85 == 0); /* a level, not a grey in between */
      if (p / 85u != clean_level(x, y)) bad++;
    }
  free(b);
  return (double)bad / (IW * IH);
}

static void test_denoise_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  char *dir = tu_mkdtemp();
  for (int binary = 0; binary <= 1; binary++) {
    char *in = tu_path(dir, binary ? "noisy5.pgm" : "noisy2.pgm");
    char *oa = tu_path(dir, "async.pgm"), *os = tu_path(dir, "sync.pgm");
    double noisy = write_noisy(in, binary, 11);
    assert_true(noisy > 0.2); /* the noise is real */
    const char *a[] = {"lbp",     "-i", in,       "-o", oa,  "--colors", "4",
                       "--sigma", "45", "--json", "-t", "2", NULL};
    tu_result r = tu_gasp_runv(a);
    if (r.status != 0) fail_msg("gasp lbp: %s", r.err);
    assert_true(tu_contains(r.out, "\"engine\":\"async\""));
    assert_true(tu_contains(r.out, "\"scheduler\":\"priority\""));
    assert_true(tu_contains(r.out, "\"converged\":true"));
    double ua = tu_json_num(r.out, "updates");
    tu_result_free(&r);
    const char *s[] = {"lbp",      "-i",     in,        "-o", os,
                       "--colors", "4",      "--sigma", "45", "--engine",
                       "sync",     "--json", NULL};
    r = tu_gasp_runv(s);
    if (r.status != 0) fail_msg("gasp lbp --engine sync: %s", r.err);
    assert_true(tu_contains(r.out, "\"converged\":true"));
    double us = tu_json_num(r.out, "updates");
    assert_true(tu_json_num(r.out, "variables") == IW * IH);
    tu_result_free(&r);
    double ea = image_error(oa), es = image_error(os);
    if (!(ea < noisy / 4 && es < noisy / 4))
      fail_msg("denoised errors %.3f (async), %.3f (sync) against %.3f noisy",
               ea, es, noisy);
    assert_true(fabs(ea - es) < 0.01);
    assert_true(ua < us); /* residual BP skips what has converged */
    free(in);
    free(oa);
    free(os);
  }
  tu_rmtree(dir);
}

/* The factor-list format: a tree's beliefs against its exact marginals,
 * ids not in order. */
static void test_factor_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  char *dir = tu_mkdtemp();
  char *in = tu_path(dir, "tree.txt"), *out = tu_path(dir, "b.tsv");
  mrf M;
  random_tree(&M, 7, 5);
  static const gasp_gid ids[7] = {30, 4, 17, 1000, 2, 8, 9};
  FILE *f = fopen(in, "w");
  assert_non_null(f);
  fprintf(f, "# a random tree\n\n");
  for (uint64_t i = 0; i < M.n; i++) {
    fprintf(f, "var %llu %u", (unsigned long long)ids[i], M.card[i]);
    for (uint32_t x = 0; x < M.card[i]; x++)
      fprintf(f, " %.17g", M.unary[M.uoff[i] + x]);
    fprintf(f, "\n");
  }
  for (uint64_t e = 0; e < M.m; e++) {
    fprintf(f, "edge\t%llu %llu", (unsigned long long)ids[M.u[e]],
            (unsigned long long)ids[M.v[e]]);
    for (uint64_t x = M.poff[e]; x < M.poff[e + 1]; x++)
      fprintf(f, " %.17g", M.pair[x]);
    fprintf(f, "\n");
  }
  assert_int_equal(fclose(f), 0);
  double exact[64 * 4];
  brute_marginals(&M, exact);
  for (int e = 0; e < 2; e++) {
    const char *a[] = {"lbp",     "-i",       in,
                       "-o",      out,        "--tol",
                       "1e-14",   "--engine", e ? "async" : "sync",
                       "--quiet", NULL};
    tu_result r = tu_gasp_runv(a);
    if (r.status != 0) fail_msg("gasp lbp: %s", r.err);
    tu_result_free(&r);
    char *t = tu_read_file(out, NULL);
    assert_non_null(t);
    char *p = t;
    gasp_gid prev = 0;
    for (uint64_t row = 0; row < M.n; row++) {
      char *end;
      gasp_gid id = strtoull(p, &end, 10);
      assert_true(row == 0 || id > prev); /* ascending ids */
      prev = id;
      uint64_t i = 0;
      while (ids[i] != id)
        assert_true(++i < M.n);
      unsigned long st = strtoul(end, &end, 10);
      double best = -1;
      for (uint32_t x = 0; x < M.card[i]; x++) {
        double b = strtod(end, &end);
        assert_true(fabs(b - exact[M.uoff[i] + x]) < 1e-9);
        best = fmax(best, exact[M.uoff[i] + x]);
      }
      assert_true(exact[M.uoff[i] + st] >= best - 1e-12);
      assert_true(*end == '\n');
      p = end + 1;
    }
    assert_true(*p == 0);
    free(t);
  }
  free(in);
  free(out);
  tu_rmtree(dir);
}

/* Bad input: exit status 2, one line naming FILE:LINE, no output file. */
static void refused(const char *dir, const char *name, const char *text,
                    size_t len, const char *want) {
  char *in = tu_path(dir, name), *out = tu_path(dir, "out");
  tu_write_bytes(in, text, len);
  const char *a[] = {"lbp", "-i", in, "-o", out, NULL};
  tu_result r = tu_gasp_runv(a);
  char where[600];
  snprintf(where, sizeof where, "%s:%s", in, want);
  if (r.status != 2 || !tu_contains(r.err, where))
    fail_msg("%s: status %d, stderr '%s', wanted '%s'", name, r.status, r.err,
             where);
  const char *nl = strchr(r.err, '\n');
  assert_true(nl && nl[1] == 0); /* one line */
  assert_false(tu_exists(out));
  tu_result_free(&r);
  free(in);
  free(out);
}

#define REFUSED(dir, name, text, want)                                         \
  refused(dir, name, text, sizeof text - 1, want)

static void test_bad_input_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  char *dir = tu_mkdtemp();
  REFUSED(dir, "f1", "var 1 2 1 1\nbogus 1 2\n",
          "2: expected a 'var' or 'edge'");
  REFUSED(dir, "f2", "var 1 2 1 1\n\nedge 1 7 1 1 1 1\n",
          "3: unknown variable 7");
  REFUSED(dir, "f3", "var 1 2 1 1\nvar 2 3 1 1 1\nedge 1 2 1 1 1 1 1\n",
          "3: the pairwise table needs 2 x 3 = 6 values, got 5");
  REFUSED(dir, "f4", "var 1 2 1 1\nvar 2 2 1 1\nedge 1 2 1 1 1 1 1\n",
          "3: the pairwise table needs 2 x 2 = 4 values, got more");
  REFUSED(dir, "f5", "# x\nvar 1 3 1 -0.5 1\n", "2: unary potential 2 is -0.5");
  REFUSED(dir, "f6", "var 1 2 1 1\nvar 2 2 1 1\nedge 1 2 1 nan 1 1\n",
          "3: pairwise potential 2 is nan");
  REFUSED(dir, "f7", "var 1 2 1 1\nvar 1 2 1 1\n",
          "2: variable 1 is declared twice");
  REFUSED(dir, "f8", "var 1 2 1 1\nedge 1 1 1 1 1 1\n", "2: an edge joins");
  REFUSED(dir, "f9", "var 1 2 0 0\n", "1: the unary potentials are all 0");
  REFUSED(dir, "f10", "var 1 0\n", "1: variable 1: expected its number");
  REFUSED(dir, "f11", "var 1 2 1 x\n", "1: unary potential 2 is not a number");
  REFUSED(dir, "p1", "P5\n4 4\n255\nabc",
          "4: truncated: the pixel data holds 3 of 16");
  REFUSED(dir, "p2", "P2\n2 2\n255\n1 2\n3 x\n",
          "5: pixel 4 of 4: not a number");
  REFUSED(dir, "p3", "P2\n# c\n2 2\n255\n1 2\n3\n",
          "7: pixel 4 of 4: the file ends");
  REFUSED(dir, "p4", "P2\n2 2\n15\n1 2\n3 16\n",
          "5: pixel 4 is 16, above maxval 15");
  REFUSED(dir, "p5", "P5\n2 x\n", "2: a PGM header");
  /* refusals of the command line */
  const char *np[] = {"lbp", "--synthetic", "16", "--np", "2", NULL};
  tu_result r = tu_gasp_runv(np);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "lbp runs as one process (its messages"));
  tu_result_free(&r);
  const char *vc[] = {"lbp",           "--synthetic", "16",
                      "--consistency", "vertex",      NULL};
  r = tu_gasp_runv(vc);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "edge or full"));
  tu_result_free(&r);
  char *fl = tu_path(dir, "ok.txt");
  tu_write_str(fl, "var 1 2 1 1\n");
  const char *im[] = {"lbp", "-i", fl, "--colors", "4", NULL};
  r = tu_gasp_runv(im);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "--colors is for images"));
  tu_result_free(&r);
  const char *sy[] = {"lbp", "-i", fl, "--noise", "4", NULL};
  r = tu_gasp_runv(sy);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "--noise is for the --synthetic image"));
  tu_result_free(&r);
  const char *fm[] = {"lbp", "-i", fl, "--format", "mtx", NULL};
  r = tu_gasp_runv(fm);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "--format does not apply"));
  tu_result_free(&r);
  free(fl);
  const char *h[] = {"lbp", "--help", NULL};
  r = tu_gasp_runv(h);
  assert_int_equal(r.status, 0);
  assert_true(tu_contains(r.out, "var ID K"));
  assert_true(tu_contains(r.out, "no --np"));
  tu_result_free(&r);
  tu_rmtree(dir);
}

/* --synthetic: the summary's errors, and the same image for a seed.
 * Loopy BP has several fixed points on this image, and residual BP on
 * two threads visits the messages in an order that varies from run to
 * run: on seed 3 some runs settle with a strip between a level-0 and a
 * level-2 shape at level 1 (2 to 4% of the pixels; more under
 * ThreadSanitizer's scheduling).  So the quality bound is checked where
 * the order is fixed (one thread, the same updates every run), and the
 * two-thread run on an image without that strip, with room to spare. */
static void test_synthetic_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  char *dir = tu_mkdtemp();
  char *n1 = tu_path(dir, "n1.pgm"), *n2 = tu_path(dir, "n2.pgm");
  const char *a[] = {"lbp",    "--synthetic", "48", "--noisy-out", n1,
                     "--json", "--seed",      "3",  "-t",          "1",
                     NULL};
  tu_result r = tu_gasp_runv(a);
  if (r.status != 0) fail_msg("gasp lbp: %s", r.err);
  double ne = tu_json_num(r.out, "noisy_error"),
         de = tu_json_num(r.out, "denoised_error");
  assert_true(ne > 0.3 && de < ne / 10);
  tu_result_free(&r);
  const char *b[] = {"lbp",    "--synthetic", "48", "--json", "--seed",
                     "1",      "-t",          "2",  NULL};
  r = tu_gasp_runv(b);
  if (r.status != 0) fail_msg("gasp lbp: %s", r.err);
  ne = tu_json_num(r.out, "noisy_error");
  de = tu_json_num(r.out, "denoised_error");
  assert_true(ne > 0.3 && de < ne / 5);
  tu_result_free(&r);
  a[4] = n2;
  r = tu_gasp_runv(a);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  size_t l1, l2;
  char *b1 = tu_read_file(n1, &l1), *b2 = tu_read_file(n2, &l2);
  assert_true(b1 && b2 && l1 == l2 && l1 > 48 * 48);
  assert_memory_equal(b1, b2, l1);
  free(b1);
  free(b2);
  free(n1);
  free(n2);
  tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tree_exact),
      cmocka_unit_test(test_tree_damped),
      cmocka_unit_test(test_loopy_grid),
      cmocka_unit_test(test_contradiction),
      cmocka_unit_test(test_lib_errors),
      cmocka_unit_test(test_denoise_cli),
      cmocka_unit_test(test_factor_cli),
      cmocka_unit_test(test_bad_input_cli),
      cmocka_unit_test(test_synthetic_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
