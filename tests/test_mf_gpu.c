/*
 * test_mf_gpu.c -- the stages of the GPU ALS solve (mf_gpu_stages.h) run on
 * the host, a thread block emulated by running each stage for every thread
 * id in turn, then the next stage (no device is needed).  Checked: the new
 * rows against a dense double-precision solve written here and against the
 * CPU kernels (mf_normal_eq + mf_cholesky_solve, as als_solve uses them);
 * explicit and implicit runs; ranks 1 to 100; vertices with no, one, a few
 * and many ratings (tile boundaries included); the same bits for every
 * block size, thread order and place of the normal equations (a stage that
 * read another thread's write of the same stage, or depended on the thread
 * count, would differ); vertices that keep their row (no ratings, a matrix
 * that is not positive definite) without disturbing the next vertex.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gasp.h"
#include "mf.h"
#include "mf_gpu_stages.h"
#include "testutil.h"

/* ---- random numbers (SplitMix64) ----------------------------------------- */

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t next(rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint64_t below(rng *r, uint64_t n) { return next(r) % n; }

static double uniform(rng *r) { /* [-1, 1) */
  return (double)(next(r) >> 11) * 0x1.0p-52 - 1.0;
}

/* ---- a bipartite ratings problem ----------------------------------------- */

/* Users 0 .. nu-1, items nu .. nv-1; CSR over all vertices, each rating
 * stored at both ends. */
typedef struct problem {
  int k, stride;
  uint64_t nu, nv;
  float *F; /* nv x stride, padding zero */
  uint64_t *off;
  gasp_vid *nbr;
  float *r;
} problem;

/* From m ratings (user eu[x], item ei[x] in 0 .. ni-1, rating er[x]);
 * random factors in [-1, 1). */
static void problem_build(problem *p, int k, int nu, int ni, const gasp_vid *eu,
                          const gasp_vid *ei, const float *er, size_t m,
                          uint64_t seed) {
  rng g = {seed};
  p->k = k;
  p->stride = mf_stride(k, 0);
  p->nu = (uint64_t)nu;
  p->nv = (uint64_t)(nu + ni);
  p->F = calloc(p->nv * (size_t)p->stride, sizeof *p->F);
  p->off = calloc(p->nv + 1, sizeof *p->off);
  p->nbr = malloc(2 * (m ? m : 1) * sizeof *p->nbr);
  p->r = malloc(2 * (m ? m : 1) * sizeof *p->r);
  uint64_t *fill = malloc((p->nv + 1) * sizeof *fill);
  assert_true(p->F && p->off && p->nbr && p->r && fill);
  for (uint64_t v = 0; v < p->nv; v++)
    for (int c = 0; c < k; c++)
      p->F[v * (size_t)p->stride + (size_t)c] = (float)uniform(&g);
  for (size_t x = 0; x < m; x++)
    p->off[eu[x] + 1]++, p->off[(size_t)nu + ei[x] + 1]++;
  for (uint64_t v = 0; v < p->nv; v++)
    p->off[v + 1] += p->off[v];
  memcpy(fill, p->off, (p->nv + 1) * sizeof *fill);
  for (size_t x = 0; x < m; x++) {
    gasp_vid it = (gasp_vid)nu + ei[x];
    uint64_t a = fill[eu[x]]++, b = fill[it]++;
    p->nbr[a] = it, p->r[a] = er[x];
    p->nbr[b] = eu[x], p->r[b] = er[x];
  }
  free(fill);
}

/* User u rates deg[u] random items (repeats possible), ratings 0.5 .. 5. */
static void problem_make(problem *p, int k, const int *deg, int nu, int ni,
                         uint64_t seed) {
  rng g = {seed};
  size_t m = 0;
  for (int u = 0; u < nu; u++)
    m += (size_t)deg[u];
  gasp_vid *eu = malloc((m ? m : 1) * sizeof *eu);
  gasp_vid *ei = malloc((m ? m : 1) * sizeof *ei);
  float *er = malloc((m ? m : 1) * sizeof *er);
  assert_true(eu && ei && er);
  size_t e = 0;
  for (int u = 0; u < nu; u++)
    for (int d = 0; d < deg[u]; d++, e++) {
      eu[e] = (gasp_vid)u;
      ei[e] = (gasp_vid)below(&g, (uint64_t)ni);
      er[e] = (float)(1 + below(&g, 9)) * 0.5f;
    }
  problem_build(p, k, nu, ni, eu, ei, er, m, seed + 1);
  free(eu), free(ei), free(er);
}

static void problem_free(problem *p) {
  free(p->F), free(p->off), free(p->nbr), free(p->r);
}

/* Y^T Y over the rows [lo, hi) (the other side of an implicit half-step). */
static double *gram(const problem *p, uint64_t lo, uint64_t hi) {
  const int k = p->k;
  double *G = calloc((size_t)(k * k), sizeof *G);
  assert_non_null(G);
  for (uint64_t v = lo; v < hi; v++) {
    const float *y = p->F + v * (size_t)p->stride;
    for (int i = 0; i < k; i++)
      for (int c = 0; c < k; c++)
        G[i * k + c] += (double)y[i] * y[c];
  }
  return G;
}

/* ---- the emulated block -------------------------------------------------- */

enum { FORWARD, REVERSE, SHUFFLED };

/* Runs one batch as the kernel would, one emulated block per item; the
 * block memory starts as NaN (0xff bytes), so reading what no stage wrote
 * shows up.  before_write (or NULL): per item, the stage before WRITE. */
static void run_batch(const mf_solve_args *a, int nthreads, int order,
                      int p_shared, mf_state *before_write) {
  mf_layout L;
  mf_layout_init(&L, a->k, p_shared);
  size_t bytes = (L.bytes + 63) & ~(size_t)63;
  void *mem = aligned_alloc(64, bytes);
  double *Pg = malloc(mf_p_doubles(a->k) * sizeof *Pg);
  int *perm = malloc((size_t)nthreads * sizeof *perm);
  assert_true(mem && Pg && perm);
  memset(mem, 0xff, bytes);
  memset(Pg, 0xff, mf_p_doubles(a->k) * sizeof *Pg);
  rng g = {(uint64_t)nthreads * 7919u + (uint64_t)order};
  for (int t = 0; t < nthreads; t++)
    perm[t] = order == REVERSE ? nthreads - 1 - t : t;
  mf_smem s;
  mf_carve(&L, mem, Pg, &s);
  for (uint64_t item = 0; item < a->n; item++) {
    mf_vjob j;
    if (mf_job_init(*a, item, &j)) continue;
    mf_state prev = mf_st(MF_DONE, 0, 0);
    for (mf_state st = mf_first(&j); st.phase != MF_DONE;
         prev = st, st = mf_next(&j, &s, st)) {
      if (st.phase == MF_WRITE && before_write) before_write[item] = prev;
      if (order == SHUFFLED)
        for (int t = nthreads - 1; t > 0; t--) {
          int u = (int)below(&g, (uint64_t)t + 1), x = perm[t];
          perm[t] = perm[u], perm[u] = x;
        }
      for (int t = 0; t < nthreads; t++)
        mf_stage(&j, &s, st, perm[t], nthreads);
    }
  }
  free(mem), free(Pg), free(perm);
}

/* ---- references ---------------------------------------------------------- */


/* The new row of v in double, summed here; 0, or 1 if v keeps its row (no
 * ratings in an explicit run). */
static int dense_ref(const problem *p, const float *F, gasp_vid v,
                     double lambda, double alpha, const double *yty,
                     double *x) {
  const int k = p->k;
  const uint64_t o = p->off[v], n = p->off[v + 1] - o;
  if (n == 0 && alpha == 0) return 1;
  double *A = calloc((size_t)(k * k), sizeof *A);
  double *b = calloc((size_t)k, sizeof *b);
  assert_true(A && b);
  for (uint64_t e = o; e < o + n; e++) {
    const float *y = F + (size_t)p->nbr[e] * (size_t)p->stride;
    double r = p->r[e], w = alpha > 0 ? alpha * r : 1;
    double c = alpha > 0 ? 1 + alpha * r : r;
    for (int i = 0; i < k; i++) {
      b[i] += c * y[i];
      for (int q = 0; q < k; q++)
        A[i * k + q] += w * y[i] * y[q];
    }
  }
  double ridge = alpha > 0 ? lambda : lambda * (double)n;
  for (int i = 0; i < k; i++) {
    A[i * k + i] += ridge;
    for (int q = 0; q < k && yty; q++)
      A[i * k + q] += yty[i * k + q];
  }
  tu_dense_solve(k, A, b, x);
  free(A), free(b);
  return 0;
}

/* The CPU path (als_solve in cmd_mf.c): 0, or 1 if v keeps its row. */
static int cpu_ref(const problem *p, const float *F, gasp_vid v, double lambda,
                   double alpha, const double *yty, double *x) {
  const int k = p->k, kp = mf_kpad(k);
  const uint64_t o = p->off[v], n = p->off[v + 1] - o;
  if (n == 0 && alpha == 0) return 1;
  float *A = aligned_alloc(64, sizeof(float) * (size_t)((k * kp + 15) & ~15));
  float *b = aligned_alloc(64, sizeof(float) * (size_t)((kp + 15) & ~15));
  double *Ad = malloc(sizeof(double) * (size_t)(k * k));
  double *bd = malloc(sizeof(double) * (size_t)k);
  assert_true(A && b && Ad && bd);
  mf_nbrs nb = {(size_t)n, p->nbr + o, 0};
  mf_normal_eq(k, p->stride, F, &nb, p->r + o, NULL, alpha, A, b);
  for (int i = 0; i < k; i++) {
    for (int q = 0; q < k; q++)
      Ad[i * k + q] = (double)A[i * kp + q] + (yty ? yty[i * k + q] : 0);
    bd[i] = b[i];
  }
  double ridge = alpha > 0 ? lambda : lambda * (double)n;
  int rc = mf_cholesky_solve(k, Ad, ridge, bd, x);
  free(A), free(b), free(Ad), free(bd);
  return rc ? 1 : 0;
}

/* ---- a half-step checked ------------------------------------------------ */

typedef struct config {
  int nthreads, order, p_shared;
} config;

static const config configs[] = {
    {1, FORWARD, 1},   {32, FORWARD, 1},  {32, REVERSE, 0},
    {37, SHUFFLED, 1}, {128, REVERSE, 1}, {256, SHUFFLED, 0},
};
#define NCONFIGS (sizeof configs / sizeof *configs)

/* Largest |difference| over the vertex's k entries, relative to 1 + the
 * largest |entry| of the reference. */
static double rel_err(int k, const float *x, size_t pitch, const double *ref) {
  double big = 0, err = 0;
  for (int c = 0; c < k; c++) {
    if (fabs(ref[c]) > big) big = fabs(ref[c]);
    double d = fabs((double)x[(size_t)c * pitch] - ref[c]);
    if (!(d <= err)) err = d; /* NaN wins */
  }
  return err / (1 + big);
}

#define TOL 1e-4

/* Solves the vertices [lo, hi) of p (one side) under every config; all
 * give the same bits (outputs and F); the rows match both references, or
 * are kept where keep[v - lo] (NULL: where an explicit run has no
 * ratings), as the CPU decides too.  p->F is advanced to the result.
 * Returns the worst relative error. */
static double half_step(problem *p, uint64_t lo, uint64_t hi, double lambda,
                        double alpha, const double *yty, const int *keep) {
  const int k = p->k, stride = p->stride;
  const uint64_t n = hi - lo, pitch = n + 3;
  const size_t nf = p->nv * (size_t)stride, no = (size_t)stride * pitch;
  gasp_vid *vid = malloc(n * sizeof *vid);
  float *out0 = malloc(no * sizeof *out0), *out = malloc(no * sizeof *out);
  float *F0 = malloc(nf * sizeof *F0), *F = malloc(nf * sizeof *F);
  double *xd = malloc((size_t)k * sizeof *xd), *xc = malloc(k * sizeof *xc);
  assert_true(vid && out0 && out && F0 && F && xd && xc);
  for (uint64_t i = 0; i < n; i++) /* a scrambled order (reversed if 7 | n) */
    vid[i] = (gasp_vid)(n % 7 ? lo + (i * 7) % n : hi - 1 - i);
  for (size_t c = 0; c < NCONFIGS; c++) {
    memcpy(F, p->F, nf * sizeof *F);
    for (size_t e = 0; e < no; e++)
      out[e] = -7.0f; /* the pitch's slack must stay untouched */
    mf_solve_args a = {k,   stride, p->nv, F,   p->off, p->nbr, p->r,
                       yty, lambda, alpha, vid, n,      out,    pitch};
    run_batch(&a, configs[c].nthreads, configs[c].order, configs[c].p_shared,
              NULL);
    if (c == 0) {
      memcpy(out0, out, no * sizeof *out);
      memcpy(F0, F, nf * sizeof *F);
    } else if (memcmp(out, out0, no * sizeof *out) ||
               memcmp(F, F0, nf * sizeof *F)) {
      fail_msg("k %d: %d threads (order %d, P %s) differ from 1 thread", k,
               configs[c].nthreads, configs[c].order,
               configs[c].p_shared ? "shared" : "global");
    }
  }
  for (size_t c = 0; c < (size_t)stride; c++)
    for (uint64_t i = n; i < pitch; i++)
      assert_true(out0[c * pitch + i] == -7.0f);
  double worst = 0;
  for (uint64_t i = 0; i < n; i++) {
    const gasp_vid v = vid[i];
    const uint64_t deg = p->off[v + 1] - p->off[v];
    const float *self = p->F + (size_t)v * (size_t)stride;
    const float *row = F0 + (size_t)v * (size_t)stride;
    const float *x = out0 + i;
    int kept = keep ? keep[v - lo] : deg == 0 && alpha == 0;
    if (cpu_ref(p, p->F, v, lambda, alpha, yty, xc) != kept)
      fail_msg("k %d vertex %u: the CPU %s", k, (unsigned)v,
               kept ? "solves it" : "keeps the row");
    for (int c = 0; c < stride; c++) {
      float want = kept || c >= k ? self[c] : x[(size_t)c * pitch];
      assert_true(x[(size_t)c * pitch] == want); /* kept, or padding */
      assert_true(row[c] == want);               /* F holds the output */
    }
    if (kept) continue;
    assert_int_equal(dense_ref(p, p->F, v, lambda, alpha, yty, xd), 0);
    double ed = rel_err(k, x, pitch, xd), ec = rel_err(k, x, pitch, xc);
    if (!(ed <= TOL) || !(ec <= TOL))
      fail_msg("k %d vertex %u (%llu ratings, alpha %g): relative error %.3g "
               "against the dense solve, %.3g against the CPU",
               k, (unsigned)v, (unsigned long long)deg, alpha, ed, ec);
    if (ed > worst) worst = ed;
    if (ec > worst) worst = ec;
  }
  memcpy(p->F, F0, nf * sizeof *F0);
  free(vid), free(out0), free(out), free(F0), free(F), free(xd), free(xc);
  return worst;
}

/* Degrees of the users: none, one, a few, around the tile size, many. */
static const int degrees[] = {0, 1, 2, 3, 5, 31, 32, 33, 64, 65, 150};
#define NUSERS ((int)(sizeof degrees / sizeof *degrees))
static const int ranks[] = {1, 4, 7, 20, 50, 100};

static void run_als(int ni, double lambda, double alpha) {
  for (size_t ri = 0; ri < sizeof ranks / sizeof *ranks; ri++) {
    problem p;
    problem_make(&p, ranks[ri], degrees, NUSERS, ni, 1000 + ri);
    double worst = 0;
    for (int sweep = 0; sweep < 2; sweep++) {
      double *yty = alpha > 0 ? gram(&p, p.nu, p.nv) : NULL;
      double e = half_step(&p, 0, p.nu, lambda, alpha, yty, NULL); /* users */
      free(yty);
      if (e > worst) worst = e;
      yty = alpha > 0 ? gram(&p, 0, p.nu) : NULL;
      e = half_step(&p, p.nu, p.nv, lambda, alpha, yty, NULL); /* items */
      free(yty);
      if (e > worst) worst = e;
    }
    print_message("k %3d alpha %g: worst relative error %.2e\n", ranks[ri],
                  alpha, worst);
    problem_free(&p);
  }
}

static void test_explicit(void **state) {
  (void)state;
  run_als(37, 0.05, 0);
}

static void test_implicit(void **state) {
  (void)state;
  /* more items than factors and lambda 1 keep the systems well conditioned
   * (YtY of fewer rows than k is singular), so float sums suffice */
  run_als(120, 1.0, 1.0);
}

/* ---- rows that are kept -------------------------------------------------- */

/* With lambda = 0, a vertex whose k - 1 neighbours all have a zero in
 * factor z (and are generic otherwise) meets a zero pivot at z, exactly
 * (every product into it is zero), and no earlier one, so it keeps its
 * row, as on the CPU: z = 0 fails in the first row of the factor, z = 3
 * and z = 6 in the column stages (the last column included).
 * The vertex after a failed one is solved normally.  An implicit NaN
 * rating gives a NaN pivot. */
static void test_not_positive_definite(void **state) {
  (void)state;
  enum { K = 7, NU = 6, NI = 30, M = 6 + 20 + 6 + 20 + 6 + 20 };
  /* items 0-5 have factor 0 zeroed, 6-11 factor 3, 12-17 factor 6 */
  const int zero_first[] = {0, -1, 6, -1, 12, -1}, zero_at[] = {0, 3, 6};
  const int deg[NU] = {6, 20, 6, 20, 6, 20};
  gasp_vid eu[M], ei[M];
  float er[M];
  rng g = {99};
  int e = 0;
  for (int u = 0; u < NU; u++)
    for (int d = 0; d < deg[u]; d++, e++) {
      eu[e] = (gasp_vid)u;
      ei[e] = zero_first[u] >= 0 ? (gasp_vid)(zero_first[u] + d)
                                 : (gasp_vid)below(&g, NI);
      er[e] = (float)(1 + below(&g, 9)) * 0.5f;
    }
  assert_int_equal(e, M);
  problem p;
  problem_build(&p, K, NU, NI, eu, ei, er, M, 5);
  for (int it = 0; it < 18; it++)
    p.F[(size_t)(NU + it) * (size_t)p.stride + (size_t)zero_at[it / 6]] = 0;

  /* explicit, lambda 0: users 0, 2, 4 keep their rows */
  const int keep[NU] = {1, 0, 1, 0, 1, 0};
  float *F = malloc(p.nv * (size_t)p.stride * sizeof *F);
  assert_non_null(F);
  memcpy(F, p.F, p.nv * (size_t)p.stride * sizeof *F);
  half_step(&p, 0, NU, 0.0, 0.0, NULL, keep);
  /* where each failed: the stage that found the pivot, then WRITE */
  gasp_vid vid[NU];
  mf_state before[NU];
  for (int u = 0; u < NU; u++)
    vid[u] = (gasp_vid)u;
  mf_solve_args a = {K,    p.stride, p.nv, F,   p.off, p.nbr, p.r,
                     NULL, 0.0,      0.0,  vid, NU,    NULL,  0};
  run_batch(&a, 32, FORWARD, 1, before);
  assert_int_equal(before[0].phase, MF_SCALE0);
  assert_int_equal(before[2].phase, MF_COL);
  assert_int_equal((int)before[2].idx, 2); /* row 3 finished in column 2 */
  assert_int_equal(before[4].phase, MF_COL);
  assert_int_equal((int)before[4].idx, K - 2);
  for (int u = 1; u < NU; u += 2)
    assert_int_equal(before[u].phase, MF_BACK);
  free(F);

  /* implicit: a NaN rating of user 3; the others (users 0, 2, 4 too, with
   * YtY) are solved */
  p.r[p.off[3] + 5] = NAN;
  double *yty = gram(&p, p.nu, p.nv);
  const int keep2[NU] = {0, 0, 0, 1, 0, 0};
  half_step(&p, 0, NU, 0.1, 1.0, yty, keep2);
  free(yty);
  problem_free(&p);
}

/* The triangle walk visits every (i, c), i <= c < m, once, from any start
 * and step. */
static void test_triangle_walk(void **state) {
  (void)state;
  for (int m = 1; m <= 30; m++)
    for (int step = 1; step <= 70; step += 1 + step / 4) {
      int total = mf_tri_count(m);
      char *seen = calloc((size_t)(m * m), 1);
      assert_non_null(seen);
      for (int e0 = 0; e0 < step; e0++) {
        mf_tri t;
        mf_tri_begin(&t, m, e0, step);
        for (int e = e0; e < total; e += step) {
          assert_true(t.i >= 0 && t.i <= t.c && t.c < m);
          assert_int_equal(seen[t.i * m + t.c]++, 0);
          mf_tri_next(&t);
        }
      }
      for (int i = 0; i < m; i++)
        for (int c = i; c < m; c++)
          assert_int_equal(seen[i * m + c], 1);
      free(seen);
    }
}

/* A vertex id outside F is skipped; the packed index is the row-major
 * position in the upper triangle. */
static void test_bounds(void **state) {
  (void)state;
  for (int k = 1; k < 20; k++) {
    int pos = 0;
    for (int i = 0; i <= k; i++)
      for (int c = i; c <= k; c++)
        assert_int_equal(mf_pidx(k, i, c), pos++);
    assert_int_equal((size_t)pos, mf_p_doubles(k));
  }
  uint64_t off[3] = {0, 0, 0};
  gasp_vid vid[2] = {1, 2};
  float F[16] = {0};
  mf_solve_args a = {3,    8,   2,   F,   off, NULL, NULL,
                     NULL, 0.1, 0.0, vid, 2,   NULL, 0};
  mf_vjob j;
  assert_int_equal(mf_job_init(a, 0, &j), 0);
  assert_int_equal(mf_job_init(a, 1, &j), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_explicit),
      cmocka_unit_test(test_implicit),
      cmocka_unit_test(test_not_positive_definite),
      cmocka_unit_test(test_triangle_walk),
      cmocka_unit_test(test_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
