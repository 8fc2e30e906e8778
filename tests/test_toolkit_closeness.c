/*
 * test_toolkit_closeness.c -- gasp_closeness and gasp_diameter (and the
 * `gasp closeness` and `gasp diameter` commands) against references
 * written here: a queue BFS from every vertex gives every distance, and
 * from them closeness as NetworkX defines it (closeness_centrality with
 * wf_improved, harmonic_centrality; distances into the vertex), the same
 * restricted to a sample of sources and scaled, eccentricities, the exact
 * neighbourhood function N(t) and the effective diameter.  Random graphs
 * directed and undirected, with isolated vertices and several components;
 * paths, stars, cycles and grids with known values; 1 to 3 threads and
 * both directions of the engine; HyperANF's estimates within a few
 * standard errors of the exact N(t) (a fixed seed: the test is
 * deterministic); the commands equal to the library on 1 and 2 ranks;
 * refusals.
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

/* ---- graphs ------------------------------------------------------------ */

typedef struct edges {
  uint64_t n, m; /* vertices 0 .. n-1 (some without edges), edges */
  gasp_gid *s, *t;
} edges;

static edges random_edges(uint64_t n, uint64_t m, uint64_t seed) {
  edges e = {n, m, malloc(m * sizeof(gasp_gid)), malloc(m * sizeof(gasp_gid))};
  assert_true(e.s && e.t);
  tu_rng r = {seed};
  for (uint64_t i = 0; i < m; i++) {
    e.s[i] = tu_below(&r, n);
    e.t[i] = tu_below(&r, n);
  }
  return e;
}

static edges empty_edges(uint64_t n, uint64_t cap) {
  edges e = {n, 0, malloc(cap * sizeof(gasp_gid)),
             malloc(cap * sizeof(gasp_gid))};
  assert_true(e.s && e.t);
  return e;
}

static void add(edges *e, gasp_gid s, gasp_gid t) {
  e->s[e->m] = s;
  e->t[e->m++] = t;
}

static void free_edges(edges *e) {
  free(e->s);
  free(e->t);
}

/* Vertex i is local id i (every id below n is a vertex). */
static gasp_graph *build(const edges *e) {
  gasp_graph *g = NULL;
  assert_int_equal(
      gasp_graph_from_coo(&g, e->m, e->s, e->t, NULL, e->n, 0, 2, NULL),
      GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(g), e->n);
  return g;
}

/* ---- references -------------------------------------------------------- */

/* d[s * n + v]: hops from s to v along the edges (both ways when
 * undirected), -1 when v is unreachable; a queue BFS from every vertex. */
static int32_t *all_pairs(const gasp_graph *g, int undirected) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency out, in;
  gasp_graph_out_edges(g, &out);
  gasp_graph_in_edges(g, &in);
  int32_t *d = malloc((size_t)n * n * sizeof *d + 1);
  gasp_vid *q = malloc(n * sizeof *q + 1);
  assert_true(d && q);
  for (gasp_vid s = 0; s < n; s++) {
    int32_t *ds = d + (size_t)s * n;
    for (gasp_vid v = 0; v < n; v++)
      ds[v] = -1;
    uint64_t head = 0, tail = 0;
    ds[s] = 0;
    q[tail++] = s;
    while (head < tail) {
      gasp_vid u = q[head++];
      for (int way = 0; way < 1 + undirected; way++) {
        const gasp_adjacency *a = way ? &in : &out;
        for (uint64_t j = a->off[u]; j < a->off[u + 1]; j++)
          if (ds[a->nbr[j]] < 0) {
            ds[a->nbr[j]] = ds[u] + 1;
            q[tail++] = a->nbr[j];
          }
      }
    }
  }
  free(q);
  return d;
}

/* Closeness of every vertex v from the sources src[0 .. k) (every vertex
 * when src is NULL), from distances into v as NetworkX measures them.
 * Exact: closeness_centrality = (r / D) * (r / (n - 1)), r the other
 * vertices that reach v and D their distances' sum (0 when D = 0), and
 * harmonic_centrality = sum of 1 / d.  A sample of k_v sources other than
 * v stands for all n - 1: r, D and the harmonic sum are scaled by
 * (n - 1) / k_v, which leaves (r / D) (r / k_v). */
static void ref_closeness(const int32_t *d, gasp_vid n, const gasp_vid *src,
                          uint64_t k, int harmonic, double *out) {
  if (!src) k = n;
  for (gasp_vid v = 0; v < n; v++) {
    double r = 0, sum = 0, h = 0, kv = 0;
    for (uint64_t i = 0; i < k; i++) {
      gasp_vid s = src ? src[i] : (gasp_vid)i;
      if (s == v) continue;
      kv++;
      int32_t x = d[(size_t)s * n + v];
      if (x > 0) {
        r++;
        sum += x;
        h += 1.0 / x;
      }
    }
    if (harmonic)
      out[v] = kv ? h * ((double)(n - 1) / kv) : 0;
    else
      out[v] = sum > 0 ? (r / sum) * (r / kv) : 0;
  }
}

static void ref_ecc(const int32_t *d, gasp_vid n, uint32_t *ecc) {
  for (gasp_vid s = 0; s < n; s++) {
    ecc[s] = 0;
    for (gasp_vid v = 0; v < n; v++)
      if (d[(size_t)s * n + v] > (int32_t)ecc[s])
        ecc[s] = (uint32_t)d[(size_t)s * n + v];
  }
}

/* N(t) for t = 0 .. the largest distance: pairs (s, v) with d <= t. */
static double *ref_nf(const int32_t *d, gasp_vid n, uint64_t *len) {
  int32_t mx = 0;
  for (size_t i = 0; i < (size_t)n * n; i++)
    if (d[i] > mx) mx = d[i];
  *len = n ? (uint64_t)mx + 1 : 0;
  double *nf = calloc(*len + 1, sizeof *nf);
  assert_non_null(nf);
  for (size_t i = 0; i < (size_t)n * n; i++)
    if (d[i] >= 0)
      for (int32_t t = d[i]; t <= mx; t++)
        nf[t]++;
  return nf;
}

/* The smallest t with N(t) >= 0.9 N(last), interpolated linearly from
 * t - 1 (WebGraph's effective diameter). */
static double ref_effective(const double *nf, uint64_t len) {
  if (!len) return 0;
  double want = 0.9 * nf[len - 1];
  uint64_t t = 0;
  while (nf[t] < want)
    t++;
  if (t == 0) return 0;
  return (double)(t - 1) + (want - nf[t - 1]) / (nf[t] - nf[t - 1]);
}

static void assert_close(double got, double want, double rel, const char *what,
                         uint64_t v) {
  if (fabs(got - want) > rel * fmax(1.0, fabs(want)))
    fail_msg("%s: vertex %llu: %.17g, want %.17g", what, (unsigned long long)v,
             got, want);
}

/* ---- closeness --------------------------------------------------------- */

static double *closeness(gasp_graph *g, int threads, gasp_direction dir,
                         int harmonic, int undirected, uint64_t samples,
                         uint64_t seed) {
  gasp_closeness_opts o;
  gasp_closeness_opts_init(&o);
  o.engine.threads = threads;
  o.engine.direction = dir;
  o.harmonic = harmonic;
  o.undirected = undirected;
  o.samples = samples;
  o.seed = seed;
  gasp_vid n = gasp_graph_num_vertices(g);
  double *s = malloc(n * sizeof *s + 1);
  assert_non_null(s);
  gasp_run_stats st;
  gasp_error err;
  int rc = gasp_closeness(g, &o, s, &st, &err);
  if (rc) fail_msg("gasp_closeness: %s", err.msg);
  assert_int_equal(st.reason, GASP_STOP_CONVERGED);
  return s;
}

static void check_known(const edges *e, int undirected, const double *cl,
                        const double *hc) {
  gasp_graph *g = build(e);
  gasp_vid n = (gasp_vid)e->n;
  double *a = closeness(g, 1, GASP_DIRECTION_AUTO, 0, undirected, 0, 1);
  double *b = closeness(g, 2, GASP_DIRECTION_AUTO, 1, undirected, 0, 1);
  for (gasp_vid v = 0; v < n; v++) {
    assert_close(a[v], cl[v], 1e-14, "closeness", v);
    assert_close(b[v], hc[v], 1e-14, "harmonic", v);
  }
  free(a);
  free(b);
  gasp_graph_free(&g);
}

/* Values worked out by hand. */
static void test_closeness_known(void **state) {
  (void)state;
  /* the path 0 -> 1 -> 2 -> 3: vertex v is reached by v sources at
   * distances 1 .. v */
  edges p = empty_edges(4, 3);
  for (int i = 0; i < 3; i++)
    add(&p, i, i + 1);
  double pc[] = {0, 1.0 / 3, (2.0 / 3) * (2.0 / 3), (3.0 / 6) * (3.0 / 3)};
  double ph[] = {0, 1, 1 + 0.5, 1 + 0.5 + 1.0 / 3};
  check_known(&p, 0, pc, ph);
  /* the same path undirected: the ends at 1, 2, 3, the middle at 1, 1, 2 */
  double uc[] = {3.0 / 6, 3.0 / 4, 3.0 / 4, 3.0 / 6};
  double uh[] = {1 + 0.5 + 1.0 / 3, 2.5, 2.5, 1 + 0.5 + 1.0 / 3};
  check_known(&p, 1, uc, uh);
  free_edges(&p);
  /* a star, centre 0, four leaves (edges out of the centre, undirected) */
  edges s = empty_edges(5, 4);
  for (int i = 1; i < 5; i++)
    add(&s, 0, i);
  double sc[] = {1, 4.0 / 7, 4.0 / 7, 4.0 / 7, 4.0 / 7};
  double sh[] = {4, 2.5, 2.5, 2.5, 2.5};
  check_known(&s, 1, sc, sh);
  /* directed, a leaf is reached from the centre only: (1 / 1) (1 / 4) */
  double dc[] = {0, 0.25, 0.25, 0.25, 0.25};
  double dh[] = {0, 1, 1, 1, 1};
  check_known(&s, 0, dc, dh);
  free_edges(&s);
  /* a cycle of 6 taken both ways: distances 1, 1, 2, 2, 3 */
  edges c = empty_edges(6, 6);
  for (int i = 0; i < 6; i++)
    add(&c, i, (i + 1) % 6);
  double cc[6], ch[6];
  for (int i = 0; i < 6; i++) {
    cc[i] = 5.0 / 9;
    ch[i] = 1 + 1 + 0.5 + 0.5 + 1.0 / 3;
  }
  check_known(&c, 1, cc, ch);
  /* directed: distances 1 .. 5 */
  for (int i = 0; i < 6; i++) {
    cc[i] = 5.0 / 15;
    ch[i] = 1 + 0.5 + 1.0 / 3 + 0.25 + 0.2;
  }
  check_known(&c, 0, cc, ch);
  free_edges(&c);
  /* two isolated vertices and an edge: a graph not connected */
  edges t = empty_edges(4, 1);
  add(&t, 2, 3);
  double tc[] = {0, 0, 0, 1.0 / 3}, th[] = {0, 0, 0, 1};
  check_known(&t, 0, tc, th);
  free_edges(&t);
}

/* Random graphs: sparse ones with isolated vertices and many components,
 * denser ones, and one of more than 512 vertices (several batches). */
static void test_closeness_random(void **state) {
  (void)state;
  static const struct {
    uint64_t n, m;
  } shapes[] = {{150, 160}, {200, 800}, {700, 1500}};
  for (size_t gi = 0; gi < sizeof shapes / sizeof *shapes; gi++) {
    edges e = random_edges(shapes[gi].n, shapes[gi].m, 11 + gi);
    gasp_graph *g = build(&e);
    gasp_vid n = (gasp_vid)e.n;
    double *want = malloc(n * sizeof *want);
    for (int und = 0; und < 2; und++) {
      int32_t *d = all_pairs(g, und);
      for (int harm = 0; harm < 2; harm++) {
        ref_closeness(d, n, NULL, 0, harm, want);
        double *first = NULL;
        for (int t = 1; t <= 3; t++)
          for (int dir = 0; dir < 3; dir++) {
            double *s = closeness(g, t, (gasp_direction)dir, harm, und, 0, 1);
            for (gasp_vid v = 0; v < n; v++)
              assert_close(s[v], want[v], 1e-12,
                           harm ? "harmonic" : "closeness", v);
            if (!first)
              first = s;
            else { /* the same bits whatever the threads and directions */
              assert_memory_equal(s, first, n * sizeof *s);
              free(s);
            }
          }
        free(first);
      }
      free(d);
    }
    free(want);
    gasp_graph_free(&g);
    free_edges(&e);
  }
}

static void test_closeness_sampled(void **state) {
  (void)state;
  edges e = random_edges(300, 700, 5);
  gasp_graph *g = build(&e);
  gasp_vid n = (gasp_vid)e.n;
  gasp_vid *src = malloc(n * sizeof *src), *again = malloc(n * sizeof *again);
  double *want = malloc(n * sizeof *want);
  /* the sample: distinct, ascending, below n, a function of the seed */
  assert_int_equal(gasp_closeness_sources(n, 40, 9, src), 40);
  for (int i = 0; i < 40; i++) {
    assert_true(src[i] < n);
    if (i) assert_true(src[i] > src[i - 1]);
  }
  assert_int_equal(gasp_closeness_sources(n, 40, 9, again), 40);
  assert_memory_equal(src, again, 40 * sizeof *src);
  assert_int_equal(gasp_closeness_sources(n, 40, 10, again), 40);
  assert_memory_not_equal(src, again, 40 * sizeof *src);
  assert_int_equal(gasp_closeness_sources(n, 0, 9, again), n);
  assert_int_equal(gasp_closeness_sources(n, n + 5, 9, again), n);
  for (gasp_vid v = 0; v < n; v++)
    assert_int_equal(again[v], v);
  /* a sample as large as the graph but one */
  assert_int_equal(gasp_closeness_sources(n, n - 1, 3, again), n - 1);
  for (gasp_vid v = 1; v < n - 1; v++)
    assert_true(again[v] > again[v - 1]);
  for (int und = 0; und < 2; und++) {
    int32_t *d = all_pairs(g, und);
    for (int harm = 0; harm < 2; harm++) {
      ref_closeness(d, n, src, 40, harm, want);
      double *a = closeness(g, 1, GASP_DIRECTION_AUTO, harm, und, 40, 9);
      double *b = closeness(g, 3, GASP_DIRECTION_PULL, harm, und, 40, 9);
      for (gasp_vid v = 0; v < n; v++)
        assert_close(a[v], want[v], 1e-12, "sampled", v);
      assert_memory_equal(a, b, n * sizeof *a);
      free(a);
      free(b);
    }
    free(d);
  }
  free(src);
  free(again);
  free(want);
  gasp_graph_free(&g);
  free_edges(&e);
}

/* ---- diameter ---------------------------------------------------------- */

typedef struct dres {
  uint32_t *ecc;
  double nf[256];
  gasp_diameter_info info;
  gasp_run_stats st;
} dres;

static dres diameter(gasp_graph *g, int threads, gasp_direction dir, int exact,
                     int undirected, int bits, uint64_t seed) {
  gasp_diameter_opts o;
  gasp_diameter_opts_init(&o);
  o.engine.threads = threads;
  o.engine.direction = dir;
  o.exact = exact;
  o.undirected = undirected;
  o.bits = bits;
  o.seed = seed;
  dres r;
  memset(&r, 0, sizeof r);
  r.ecc = malloc(gasp_graph_num_vertices(g) * sizeof *r.ecc + 1);
  assert_non_null(r.ecc);
  gasp_error err;
  int rc = gasp_diameter(g, &o, r.ecc, r.nf, 256, &r.info, &r.st, &err);
  if (rc) fail_msg("gasp_diameter: %s", err.msg);
  assert_int_equal(r.st.reason, GASP_STOP_CONVERGED);
  return r;
}

static void test_diameter_exact(void **state) {
  (void)state;
  static const struct {
    uint64_t n, m;
  } shapes[] = {{120, 130}, {200, 600}, {600, 1300}};
  for (size_t gi = 0; gi < sizeof shapes / sizeof *shapes; gi++) {
    edges e = random_edges(shapes[gi].n, shapes[gi].m, 21 + gi);
    gasp_graph *g = build(&e);
    gasp_vid n = (gasp_vid)e.n;
    uint32_t *ecc = malloc(n * sizeof *ecc);
    for (int und = 0; und < 2; und++) {
      int32_t *d = all_pairs(g, und);
      ref_ecc(d, n, ecc);
      uint64_t len;
      double *nf = ref_nf(d, n, &len);
      uint32_t diam = 0, rad = UINT32_MAX;
      for (gasp_vid v = 0; v < n; v++) {
        if (ecc[v] > diam) diam = ecc[v];
        if (ecc[v] && ecc[v] < rad) rad = ecc[v];
      }
      for (int t = 1; t <= 3; t++) {
        dres r = diameter(g, t, (gasp_direction)(t - 1), 1, und, 0, 0);
        assert_memory_equal(r.ecc, ecc, n * sizeof *ecc);
        assert_int_equal(r.info.exact, 1);
        assert_int_equal(r.info.diameter, diam);
        assert_int_equal(r.info.radius, rad == UINT32_MAX ? 0 : rad);
        assert_int_equal(r.info.steps, len);
        assert_true(len <= 256);
        assert_memory_equal(r.nf, nf, len * sizeof *nf);
        assert_true(r.info.pairs == nf[len - 1]);
        assert_close(r.info.effective, ref_effective(nf, len), 1e-12,
                     "effective diameter", 0);
        assert_true(r.info.rse == 0);
        free(r.ecc);
      }
      free(nf);
      free(d);
    }
    free(ecc);
    gasp_graph_free(&g);
    free_edges(&e);
  }
}

/* HyperANF against the exact N(t): each estimate within three standard
 * errors (each counter's relative error is about rse, so their sum's is
 * at most that), the bounds below the exact values. */
static void check_hyperanf(gasp_graph *g, int und, int bits, int lb_exact) {
  gasp_vid n = gasp_graph_num_vertices(g);
  int32_t *d = all_pairs(g, und);
  uint32_t *ecc = malloc(n * sizeof *ecc + 1);
  ref_ecc(d, n, ecc);
  uint64_t len;
  double *nf = ref_nf(d, n, &len);
  dres first = diameter(g, 1, GASP_DIRECTION_AUTO, 0, und, bits, 1);
  double rse = 1.04 / sqrt((double)(1u << bits));
  assert_true(first.info.rse == rse);
  assert_int_equal(first.info.registers, 1u << bits);
  assert_int_equal(first.info.exact, 0);
  assert_true(first.info.steps >= 1 && first.info.steps <= len);
  assert_int_equal(first.info.diameter, first.info.steps - 1);
  if (lb_exact) assert_int_equal(first.info.diameter, len - 1);
  for (uint64_t t = 0; t < len; t++) {
    double est = first.nf[t < first.info.steps ? t : first.info.steps - 1];
    if (fabs(est - nf[t]) > 3 * rse * nf[t])
      fail_msg("N(%llu): %.1f estimated, %.0f exact (rse %.3f)",
               (unsigned long long)t, est, nf[t], rse);
  }
  assert_true(fabs(first.info.pairs - nf[len - 1]) <= 3 * rse * nf[len - 1]);
  assert_true(first.info.pairs == first.nf[first.info.steps - 1]);
  for (gasp_vid v = 0; v < n; v++)
    assert_true(first.ecc[v] <= ecc[v]);
  /* the same bits on any threads, either way */
  for (int t = 2; t <= 3; t++)
    for (int dir = 0; dir < 3; dir++) {
      dres r = diameter(g, t, (gasp_direction)dir, 0, und, bits, 1);
      assert_memory_equal(r.ecc, first.ecc, n * sizeof *r.ecc);
      assert_memory_equal(r.nf, first.nf, sizeof r.nf);
      assert_memory_equal(&r.info, &first.info, sizeof r.info);
      free(r.ecc);
    }
  free(first.ecc);
  free(nf);
  free(ecc);
  free(d);
}

static void test_hyperanf_random(void **state) {
  (void)state;
  static const struct {
    uint64_t n, m;
  } shapes[] = {{150, 170}, {300, 900}, {400, 3000}};
  for (size_t gi = 0; gi < sizeof shapes / sizeof *shapes; gi++) {
    edges e = random_edges(shapes[gi].n, shapes[gi].m, 31 + gi);
    gasp_graph *g = build(&e);
    for (int und = 0; und < 2; und++)
      check_hyperanf(g, und, 10, 0);
    gasp_graph_free(&g);
    free_edges(&e);
  }
}

/* Graphs on which every step of every ball adds a vertex whose register
 * shows it (with 2^12 registers and this seed): the lower bound is the
 * diameter. */
static void test_hyperanf_exact_bound(void **state) {
  (void)state;
  edges p = empty_edges(30, 29), c = empty_edges(20, 20),
        q = empty_edges(36, 60);
  for (int i = 0; i < 29; i++)
    add(&p, i, i + 1);
  for (int i = 0; i < 20; i++)
    add(&c, i, (i + 1) % 20);
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 6; j++) {
      if (j < 5) add(&q, 6 * i + j, 6 * i + j + 1);
      if (i < 5) add(&q, 6 * i + j, 6 * i + j + 6);
    }
  gasp_graph *gp = build(&p), *gc = build(&c), *gq = build(&q);
  check_hyperanf(gp, 0, 12, 1); /* diameter 29 */
  check_hyperanf(gp, 1, 12, 1);
  check_hyperanf(gc, 0, 12, 1); /* 19 */
  check_hyperanf(gc, 1, 12, 1); /* 10 */
  check_hyperanf(gq, 0, 12, 1); /* 10 */
  check_hyperanf(gq, 1, 12, 1); /* 10 */
  gasp_graph_free(&gp);
  gasp_graph_free(&gc);
  gasp_graph_free(&gq);
  free_edges(&p);
  free_edges(&c);
  free_edges(&q);
}

/* ---- errors and stops -------------------------------------------------- */

static int stop_at_2(void *user, const gasp_iter_info *info) {
  (void)user;
  return info->iteration >= 2;
}

static void test_errors(void **state) {
  (void)state;
  edges e = random_edges(80, 200, 3);
  gasp_graph *g = build(&e);
  double s[80];
  uint32_t ecc[80];
  double nf[8];
  gasp_error err;
  gasp_closeness_opts co;
  gasp_diameter_opts dop;
  gasp_diameter_info info;
  gasp_run_stats st;
  gasp_closeness_opts_init(&co);
  assert_int_equal(gasp_closeness(NULL, &co, s, NULL, &err), GASP_EINVAL);
  assert_int_equal(gasp_closeness(g, &co, NULL, NULL, &err), GASP_EINVAL);
  co.engine.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_closeness(g, &co, s, NULL, &err), GASP_ENOTSUP);
  assert_true(err.msg[0] != '\0');
  gasp_closeness_opts_init(&co);
  co.engine.staleness = 1;
  assert_int_equal(gasp_closeness(g, &co, s, NULL, &err), GASP_ENOTSUP);
  gasp_closeness_opts_init(&co);
  co.engine.on_iteration = stop_at_2;
  assert_int_equal(gasp_closeness(g, &co, s, NULL, &err), GASP_ECANCELED);
  assert_true(err.msg[0] != '\0');

  gasp_diameter_opts_init(&dop);
  assert_int_equal(dop.bits, 6);
  assert_int_equal(gasp_diameter(NULL, &dop, ecc, NULL, 0, NULL, NULL, &err),
                   GASP_EINVAL);
  for (int b = 3; b <= 17; b += 14) {
    dop.bits = b;
    assert_int_equal(gasp_diameter(g, &dop, ecc, NULL, 0, &info, NULL, &err),
                     GASP_EINVAL);
  }
  gasp_diameter_opts_init(&dop);
  dop.engine.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_diameter(g, &dop, ecc, NULL, 0, &info, NULL, &err),
                   GASP_ENOTSUP);
  dop.exact = 1;
  assert_int_equal(gasp_diameter(g, &dop, ecc, NULL, 0, &info, NULL, &err),
                   GASP_ENOTSUP);
  gasp_diameter_opts_init(&dop);
  dop.exact = 1;
  dop.engine.on_iteration = stop_at_2;
  assert_int_equal(gasp_diameter(g, &dop, ecc, NULL, 0, &info, NULL, &err),
                   GASP_ECANCELED);
  /* HyperANF stopped after two supersteps: what it has, and why */
  gasp_diameter_opts_init(&dop);
  dop.engine.max_iter = 2;
  assert_int_equal(gasp_diameter(g, &dop, ecc, nf, 8, &info, &st, &err),
                   GASP_OK);
  assert_int_equal(st.reason, GASP_STOP_MAX_ITER);
  assert_int_equal(st.iterations, 2);
  assert_int_equal(info.steps, 3);
  assert_int_equal(info.diameter, 2);
  for (int v = 0; v < 80; v++)
    assert_true(ecc[v] <= 2);
  /* without ecc and nf */
  gasp_diameter_opts_init(&dop);
  assert_int_equal(gasp_diameter(g, &dop, NULL, NULL, 0, &info, NULL, &err),
                   GASP_OK);
  dop.exact = 1;
  assert_int_equal(gasp_diameter(g, &dop, NULL, NULL, 0, NULL, NULL, &err),
                   GASP_OK);
  gasp_graph_free(&g);
  free_edges(&e);
}

/* ---- the commands ------------------------------------------------------ */

/* The same graph as a file and in memory: ids 10 i, only the vertices the
 * edges name. */
typedef struct fixture {
  char *dir, *file, *out;
  gasp_graph *g;
} fixture;

static fixture make_fixture(uint64_t n, uint64_t m, uint64_t seed) {
  fixture f;
  edges e = random_edges(n, m, seed);
  for (uint64_t i = 0; i < m; i++) {
    e.s[i] *= 10;
    e.t[i] *= 10;
  }
  f.dir = tu_mkdtemp();
  f.file = tu_path(f.dir, "g.el");
  f.out = tu_path(f.dir, "out.tsv");
  FILE *fp = fopen(f.file, "w");
  assert_non_null(fp);
  for (uint64_t i = 0; i < m; i++)
    fprintf(fp, "%llu %llu\n", (unsigned long long)e.s[i],
            (unsigned long long)e.t[i]);
  fclose(fp);
  f.g = NULL;
  assert_int_equal(gasp_graph_from_coo(&f.g, m, e.s, e.t, NULL, 0, 0, 1, NULL),
                   GASP_OK);
  free_edges(&e);
  return f;
}

static void free_fixture(fixture *f) {
  gasp_graph_free(&f->g);
  free(f->file);
  free(f->out);
  tu_rmtree(f->dir);
}

/* Reads 'id<TAB>value' lines: one per vertex, in id order. */
static double *read_values(const char *path, const gasp_graph *g) {
  gasp_vid n = gasp_graph_num_vertices(g);
  double *x = malloc(n * sizeof *x + 1);
  FILE *f = fopen(path, "r");
  assert_true(x && f);
  for (gasp_vid v = 0; v < n; v++) {
    unsigned long long id;
    assert_int_equal(fscanf(f, "%llu\t%lf", &id, &x[v]), 2);
    assert_int_equal(id, gasp_graph_gid(g, v));
  }
  int c;
  while ((c = fgetc(f)) == '\n') {
  }
  assert_int_equal(c, EOF);
  fclose(f);
  return x;
}

/* Runs a command (args, then --np N unless N is 0), expecting success;
 * returns its JSON. */
static char *run_ok(const char **args, int np) {
  const char *argv[40];
  int k = 0;
  for (; args[k]; k++)
    argv[k] = args[k];
  char nps[8];
  if (np) {
    snprintf(nps, sizeof nps, "%d", np);
    argv[k++] = "--np";
    argv[k++] = nps;
  }
  argv[k] = NULL;
  tu_result r = tu_gasp_runv(argv);
  if (r.status != 0)
    fail_msg("%s %s: exit %d: %s", args[0], args[1], r.status, r.err);
  free(r.err);
  return r.out;
}

static void test_closeness_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  fixture f = make_fixture(250, 600, 51);
  gasp_vid n = gasp_graph_num_vertices(f.g);
  static const struct {
    int harmonic, undirected;
    uint64_t samples, seed;
  } cases[] = {
      {0, 0, 0, 1}, {1, 0, 0, 1}, {0, 1, 0, 1}, {1, 1, 30, 7}, {0, 0, 30, 7}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    double *want =
        closeness(f.g, 2, GASP_DIRECTION_AUTO, cases[c].harmonic,
                  cases[c].undirected, cases[c].samples, cases[c].seed);
    char ks[24], seeds[24];
    snprintf(ks, sizeof ks, "%llu", (unsigned long long)cases[c].samples);
    snprintf(seeds, sizeof seeds, "%llu", (unsigned long long)cases[c].seed);
    const char *args[16] = {"closeness", "-i",      f.file,   "-o", f.out,
                            "--json",    "--quiet", "--seed", seeds};
    int k = 9;
    if (cases[c].harmonic) args[k++] = "--harmonic";
    if (cases[c].undirected) args[k++] = "--undirected";
    if (cases[c].samples) {
      args[k++] = "--samples";
      args[k++] = ks;
    }
    for (int np = 0; np <= 2; np++) {
      char *json = run_ok(args, np);
      double *got = read_values(f.out, f.g);
      for (gasp_vid v = 0; v < n; v++)
        assert_close(got[v], want[v], 1e-10, "closeness command", v);
      assert_true(tu_json_num(json, "vertices") == n);
      assert_true(tu_json_num(json, "sources") ==
                  (cases[c].samples ? cases[c].samples : n));
      assert_true(tu_contains(json, cases[c].samples ? "\"exact\":false"
                                                     : "\"exact\":true"));
      assert_true(tu_json_num(json, "ranks") == (np ? np : 1));
      free(got);
      free(json);
    }
    free(want);
  }
  free_fixture(&f);
}

static void test_diameter_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  fixture f = make_fixture(250, 500, 61);
  gasp_vid n = gasp_graph_num_vertices(f.g);
  for (int exact = 0; exact < 2; exact++)
    for (int und = 0; und < 2; und++) {
      dres want = diameter(f.g, 1, GASP_DIRECTION_AUTO, exact, und, 8, 3);
      const char *args[16] = {"diameter", "-i",     f.file,    "-o",
                              f.out,      "--json", "--quiet", "--seed",
                              "3",        "--bits", "8"};
      int k = 11;
      if (exact) args[k++] = "--exact";
      if (und) args[k++] = "--undirected";
      for (int np = 0; np <= 2; np++) {
        char *json = run_ok(args, np);
        double *got = read_values(f.out, f.g);
        for (gasp_vid v = 0; v < n; v++)
          assert_true(got[v] == want.ecc[v]);
        assert_true(tu_json_num(json, "diameter_lower_bound") ==
                    want.info.diameter);
        assert_true(tu_json_num(json, "steps") == want.info.steps);
        assert_close(tu_json_num(json, "pairs"), want.info.pairs, 1e-9, "pairs",
                     0);
        assert_close(tu_json_num(json, "effective_diameter"),
                     want.info.effective, 1e-9, "effective diameter", 0);
        if (exact) {
          assert_true(tu_json_num(json, "diameter") == want.info.diameter);
          assert_true(tu_json_num(json, "radius") == want.info.radius);
        } else {
          assert_true(tu_json_num(json, "registers") == 256);
          assert_close(tu_json_num(json, "relative_std_error"), 1.04 / 16, 1e-9,
                       "rse", 0);
        }
        free(got);
        free(json);
      }
      free(want.ecc);
    }
  /* --registers M is --bits log2 M */
  const char *a[] = {"diameter", "-i",     f.file, "--json", "--registers",
                     "256",      "--seed", "3",    NULL};
  char *json = run_ok(a, 0);
  dres want = diameter(f.g, 1, GASP_DIRECTION_AUTO, 0, 0, 8, 3);
  assert_true(tu_json_num(json, "diameter_lower_bound") == want.info.diameter);
  assert_close(tu_json_num(json, "pairs"), want.info.pairs, 1e-9, "pairs", 0);
  free(want.ecc);
  free(json);
  free_fixture(&f);
}

/* Above 65536 vertices: exact searches are refused, closeness samples. */
static void test_large_graph_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  char *dir = tu_mkdtemp(), *file = tu_path(dir, "star.el");
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  for (int i = 1; i <= 65600; i++)
    fprintf(f, "0 %d\n", i);
  fclose(f);
  const char *cl[] = {"closeness", "-i", file, "--json", "-t", "2", NULL};
  char *json = run_ok(cl, 0);
  assert_true(tu_contains(json, "\"exact\":false"));
  assert_true(tu_json_num(json, "sources") == 256);
  free(json);
  const char *ex1[] = {"closeness", "-i", file, "--exact", NULL};
  const char *ex2[] = {"diameter", "-i", file, "--exact", NULL};
  const char *const *ex[] = {ex1, ex2};
  for (int i = 0; i < 2; i++) {
    tu_result r = tu_gasp_runv(ex[i]);
    assert_int_equal(r.status, 2);
    assert_true(tu_contains(r.err, "gasp: "));
    assert_true(tu_contains(r.err, "65536"));
    tu_result_free(&r);
  }
  free(file);
  tu_rmtree(dir);
}

static void test_refusals_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  fixture f = make_fixture(40, 80, 71);
  const char *i = f.file;
  const char *cases[][10] = {
      {"closeness", "-i", i, "--engine", "async"},
      {"closeness", "-i", i, "--exact", "--samples", "5"},
      {"closeness", "-i", i, "--samples", "0"},
      {"closeness", "-i", i, "--max-iter", "3"},
      {"closeness", "-i", i, "--tol", "0.1"},
      {"closeness", "-i", i, "--weighted"},
      {"closeness", "-i", i, "--gpu", "on"},
      {"diameter", "-i", i, "--engine", "async"},
      {"diameter", "-i", i, "--bits", "3"},
      {"diameter", "-i", i, "--bits", "17"},
      {"diameter", "-i", i, "--registers", "100"},
      {"diameter", "-i", i, "--exact", "--max-iter", "3"},
      {"diameter", "-i", i, "--scheduler", "fifo"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    tu_result r = tu_gasp_runv(cases[c]);
    if (r.status != 2)
      fail_msg("%s %s %s: exit %d, want 2", cases[c][0], cases[c][3],
               cases[c][4] ? cases[c][4] : "", r.status);
    /* one line, naming the tool */
    assert_true(strncmp(r.err, "gasp: ", 6) == 0);
    assert_non_null(strchr(r.err, '\n'));
    assert_true(strchr(r.err, '\n')[1] == '\0');
    tu_result_free(&r);
  }
  /* --help says what runs where */
  const char *h1[] = {"closeness", "--help", NULL};
  const char *h2[] = {"diameter", "--help", NULL};
  const char *const *hs[] = {h1, h2};
  for (int k = 0; k < 2; k++) {
    tu_result r = tu_gasp_runv(hs[k]);
    assert_int_equal(r.status, 0);
    assert_true(tu_contains(r.out, "--np"));
    assert_true(tu_contains(r.out, "sync"));
    tu_result_free(&r);
  }
  free_fixture(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_closeness_known),
      cmocka_unit_test(test_closeness_random),
      cmocka_unit_test(test_closeness_sampled),
      cmocka_unit_test(test_diameter_exact),
      cmocka_unit_test(test_hyperanf_random),
      cmocka_unit_test(test_hyperanf_exact_bound),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_closeness_cli),
      cmocka_unit_test(test_diameter_cli),
      cmocka_unit_test(test_large_graph_cli),
      cmocka_unit_test(test_refusals_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
