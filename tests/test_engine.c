/*
 * test_engine.c -- the GAS engines against independent references:
 *  - a PageRank-style program reaches the fixed point of a plain power
 *    iteration written here, for the sync engine and for every async
 *    consistency x scheduler x locking combination;
 *  - a detector program records with atomics which vertices are inside an
 *    update and counts overlaps of adjacent (edge) or distance-2 (full)
 *    vertices: none under edge/full, some under vertex consistency (which
 *    proves the detector can see them);
 *  - colourings are proper; aggregators equal direct sums; stop and
 *    max_iter end runs with the right reason;
 *  - a program without vertex data sees NULL vertex data everywhere;
 *  - gasp_engine_map visits every item once and its sums equal a serial
 *    sum (the same bits each call for static blocks);
 *  - the cache-blocked gather gives every superstep the sums of its
 *    sources' previous values, on any thread count, in float and double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define DAMPING 0.85

/* ---- graphs --------------------------------------------------------- */

/* Random directed graph plus a cycle, so every vertex has an out-edge. */
static gasp_graph *random_graph(uint64_t n, uint64_t m, uint64_t seed) {
  gasp_builder *b;
  assert_int_equal(gasp_builder_new(&b, 0), GASP_OK);
  uint64_t s = seed;
  for (uint64_t i = 0; i < n; i++)
    assert_int_equal(
        gasp_builder_add_edge(b, i * 3 + 7, ((i + 1) % n) * 3 + 7, 1), 0);
  for (uint64_t i = 0; i < m; i++) {
    uint64_t u = gasp__splitmix64(&s) % n, v = gasp__splitmix64(&s) % n;
    assert_int_equal(gasp_builder_add_edge(b, u * 3 + 7, v * 3 + 7, 1), 0);
  }
  gasp_graph *g;
  assert_int_equal(gasp_builder_finish(b, 2, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  return g;
}

/* ---- the PageRank-style program --------------------------------------
 * x_v = (1 - d) / N + d * sum_{u -> v} x_u / outdeg(u); a vertex whose
 * rank moved by more than tol signals its out-neighbours (with the change
 * as priority).  Neighbour data is read and the centre written with
 * atomics, so the program is race-free even under vertex consistency
 * (for ThreadSanitizer). */
typedef struct pr_params {
  double tol;
  double n;
} pr_params;

static double load_d(const double *p) {
  uint64_t b = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static void store_d(double *p, double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  __atomic_store_n((uint64_t *)p, b, __ATOMIC_RELAXED);
}

static gasp_dir pr_in(const gasp_ctx *c, const void *v) { return GASP_DIR_IN; }
static gasp_dir pr_out(const gasp_ctx *c, const void *v) {
  return GASP_DIR_OUT;
}

static void pr_sum(const gasp_ctx *c, void *acc, const void *o) {
  *(double *)acc += *(const double *)o;
}

typedef struct pr2_vertex {
  double rank, inv_out, change;
} pr2_vertex;

static void pr2_init(gasp_ctx *ctx, void *vd) {
  pr2_vertex *v = vd;
  v->rank = 1.0 / gasp_ctx_num_vertices(ctx);
  v->inv_out = 1.0 / (double)gasp_ctx_out_degree(ctx);
  v->change = 1.0;
}

static void pr2_gather(const gasp_ctx *c, const void *v, const gasp_edge *e,
                       void *acc) {
  const pr2_vertex *u = e->nbr_data;
  *(double *)acc += load_d(&u->rank) * u->inv_out;
}

static void pr2_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  pr2_vertex *v = vd;
  const pr_params *p = gasp_ctx_user(ctx);
  double nr = (1 - DAMPING) / p->n + DAMPING * *(const double *)acc;
  v->change = fabs(nr - v->rank);
  store_d(&v->rank, nr);
}

static void pr2_scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  const pr2_vertex *v = vd;
  const pr_params *p = gasp_ctx_user(ctx);
  if (v->change > p->tol) gasp_signal_priority(ctx, e->nbr, v->change);
}

static gasp_program pr_program(pr_params *p) {
  gasp_program prog;
  memset(&prog, 0, sizeof prog);
  prog.vertex_size = sizeof(pr2_vertex);
  prog.acc_size = sizeof(double);
  prog.init_vertex = pr2_init;
  prog.gather_edges = pr_in;
  prog.gather = pr2_gather;
  prog.sum = pr_sum;
  prog.apply = pr2_apply;
  prog.scatter_edges = pr_out;
  prog.scatter = pr2_scatter;
  prog.user = p;
  return prog;
}

/* Independent reference: plain power iteration to a tiny residual. */
static double *power_iteration(const gasp_graph *g) {
  uint64_t n = gasp_graph_num_vertices(g);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  for (uint64_t v = 0; v < n; v++)
    x[v] = 1.0 / (double)n;
  for (int it = 0; it < 10000; it++) {
    for (uint64_t v = 0; v < n; v++)
      y[v] = (1 - DAMPING) / (double)n;
    for (uint64_t u = 0; u < n; u++) {
      uint64_t deg = out.off[u + 1] - out.off[u];
      for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++)
        y[out.nbr[j]] += DAMPING * x[u] / (double)deg;
    }
    double diff = 0;
    for (uint64_t v = 0; v < n; v++)
      diff += fabs(y[v] - x[v]);
    double *t = x;
    x = y;
    y = t;
    if (diff < 1e-15) break;
  }
  free(y);
  return x;
}

static void check_pagerank(gasp_engine_kind kind, gasp_consistency cons,
                           gasp_scheduler sched, gasp_locking lock) {
  gasp_graph *g = random_graph(300, 2400, 42);
  double *ref = power_iteration(g);
  pr_params p = {1e-12, (double)gasp_graph_num_vertices(g)};
  gasp_program prog = pr_program(&p);
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.engine = kind;
  o.consistency = cons;
  o.scheduler = sched;
  o.locking = lock;
  o.threads = 4;
  gasp_engine *e;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, NULL), GASP_OK);
  gasp_engine_signal_all(e, 1.0);
  gasp_run_stats st;
  assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
  assert_int_equal(st.reason, GASP_STOP_CONVERGED);
  assert_true(st.updates >= gasp_graph_num_vertices(g));
  const pr2_vertex *vd = gasp_graph_vertex_data(g);
  double maxerr = 0;
  for (uint64_t v = 0; v < gasp_graph_num_vertices(g); v++) {
    double d = fabs(vd[v].rank - ref[v]);
    if (d > maxerr) maxerr = d;
  }
  if (maxerr > 1e-9)
    fail_msg("engine %d consistency %d scheduler %d locking %d: max error %g",
             kind, cons, sched, lock, maxerr);
  free(ref);
  gasp_engine_free(&e);
  gasp_graph_free(&g);
}

static void test_pagerank_sync(void **state) {
  check_pagerank(GASP_ENGINE_SYNC, GASP_CONSISTENCY_EDGE, GASP_SCHED_FIFO,
                 GASP_LOCKING_DEFAULT);
}

static void test_pagerank_async_all(void **state) {
  for (int c = 0; c < 3; c++)
    for (int s = 0; s < 3; s++)
      for (int l = 1; l <= 2; l++)
        check_pagerank(GASP_ENGINE_ASYNC, (gasp_consistency)c,
                       (gasp_scheduler)s, (gasp_locking)l);
}

/* ---- consistency detector ------------------------------------------ */

typedef struct det_state {
  const gasp_graph *g;
  int *inside;           /* per vertex, atomic */
  uint64_t self, d1, d2; /* overlaps seen, atomic */
  int spin;
} det_state;

typedef struct det_vertex {
  int remaining;
} det_vertex;

static int any_inside_nbr(det_state *s, gasp_vid v, int dist2) {
  const gasp_graph *g = s->g;
  gasp_adjacency a[2];
  gasp_graph_in_edges(g, &a[0]);
  gasp_graph_out_edges(g, &a[1]);
  int hit = 0;
  for (int d = 0; d < 2; d++)
    for (uint64_t j = a[d].off[v]; j < a[d].off[v + 1]; j++) {
      gasp_vid u = a[d].nbr[j];
      if (u == v) continue;
      if (!dist2) {
        hit |= __atomic_load_n(&s->inside[u], __ATOMIC_SEQ_CST);
        continue;
      }
      for (int d2 = 0; d2 < 2; d2++)
        for (uint64_t k = a[d2].off[u]; k < a[d2].off[u + 1]; k++) {
          gasp_vid w = a[d2].nbr[k];
          if (w != v && w != u)
            hit |= __atomic_load_n(&s->inside[w], __ATOMIC_SEQ_CST);
        }
    }
  return hit;
}

/* Entering the update: mark, then look at the neighbourhood. */
static gasp_dir det_enter(const gasp_ctx *ctx, const void *vd) {
  det_state *s = gasp_ctx_user(ctx);
  gasp_vid v = gasp_ctx_vertex(ctx);
  if (__atomic_exchange_n(&s->inside[v], 1, __ATOMIC_SEQ_CST))
    __atomic_fetch_add(&s->self, 1, __ATOMIC_RELAXED);
  if (any_inside_nbr(s, v, 0)) __atomic_fetch_add(&s->d1, 1, __ATOMIC_RELAXED);
  if (any_inside_nbr(s, v, 1)) __atomic_fetch_add(&s->d2, 1, __ATOMIC_RELAXED);
  return GASP_DIR_NONE;
}

/* Stay inside a while (so overlaps can happen), then leave. */
static void det_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  det_state *s = gasp_ctx_user(ctx);
  det_vertex *v = vd;
  volatile uint64_t x = 0;
  for (int i = 0; i < s->spin; i++)
    x += (uint64_t)i;
  if (v->remaining > 0) v->remaining--;
  __atomic_store_n(&s->inside[gasp_ctx_vertex(ctx)], 0, __ATOMIC_SEQ_CST);
}

static gasp_dir det_scatter_edges(const gasp_ctx *ctx, const void *vd) {
  return ((const det_vertex *)vd)->remaining > 0 ? GASP_DIR_ALL : GASP_DIR_NONE;
}

static void det_scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  gasp_signal(ctx, e->nbr);
}

static void det_init(gasp_ctx *ctx, void *vd) {
  ((det_vertex *)vd)->remaining = 20;
}

/* Runs the detector once; fills overlaps. */
static void run_detector(gasp_graph *g, gasp_consistency c, gasp_locking l,
                         det_state *s) {
  memset(s->inside, 0, gasp_graph_num_vertices(g) * sizeof *s->inside);
  s->self = s->d1 = s->d2 = 0;
  gasp_program prog;
  memset(&prog, 0, sizeof prog);
  prog.vertex_size = sizeof(det_vertex);
  prog.init_vertex = det_init;
  prog.gather_edges = det_enter;
  prog.apply = det_apply;
  prog.scatter_edges = det_scatter_edges;
  prog.scatter = det_scatter;
  prog.user = s;
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.engine = GASP_ENGINE_ASYNC;
  o.consistency = c;
  o.locking = l;
  o.threads = 4;
  gasp_engine *e;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, NULL), GASP_OK);
  gasp_engine_signal_all(e, 0);
  gasp_run_stats st;
  assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
  assert_int_equal(st.reason, GASP_STOP_CONVERGED);
  gasp_engine_free(&e);
}

static gasp_graph *dense_graph(void) { return random_graph(48, 400, 7); }

static void test_consistency_detector(void **state) {
  gasp_graph *g = dense_graph();
  det_state s = {g,   calloc(gasp_graph_num_vertices(g), sizeof(int)), 0, 0, 0,
                 3000};
  for (int l = 1; l <= 2; l++) {
    /* edge: never adjacent; distance-2 overlaps are allowed and must be
     * seen at least once over some runs (the detector works); a loaded
     * machine (sanitizers, other jobs) may need many runs to interleave,
     * and the loop stops at the first */
    uint64_t d2 = 0;
    for (int attempt = 0; attempt < 200 && d2 == 0; attempt++) {
      run_detector(g, GASP_CONSISTENCY_EDGE, (gasp_locking)l, &s);
      assert_int_equal(s.self, 0);
      assert_int_equal(s.d1, 0);
      d2 += s.d2;
    }
    assert_true(d2 > 0);
    run_detector(g, GASP_CONSISTENCY_FULL, (gasp_locking)l, &s);
    assert_int_equal(s.self, 0);
    assert_int_equal(s.d1, 0);
    assert_int_equal(s.d2, 0);
    /* vertex: the same detector must catch adjacent overlaps */
    uint64_t d1 = 0;
    for (int attempt = 0; attempt < 200 && d1 == 0; attempt++) {
      run_detector(g, GASP_CONSISTENCY_VERTEX, (gasp_locking)l, &s);
      assert_int_equal(s.self, 0);
      d1 += s.d1;
    }
    assert_true(d1 > 0);
  }
  free(s.inside);
  gasp_graph_free(&g);
}

/* ---- colouring --------------------------------------------------------- */

static void test_coloring(void **state) {
  gasp_graph *g = random_graph(200, 1500, 9);
  uint64_t n = gasp_graph_num_vertices(g);
  uint32_t *col = malloc(n * sizeof *col);
  gasp_adjacency a[2];
  gasp_graph_in_edges(g, &a[0]);
  gasp_graph_out_edges(g, &a[1]);
  for (int dist = 1; dist <= 2; dist++) {
    int k = gasp__color_graph(g, dist, col);
    assert_true(k > 0);
    for (uint64_t v = 0; v < n; v++) {
      assert_true(col[v] < (uint32_t)k);
      for (int d = 0; d < 2; d++)
        for (uint64_t j = a[d].off[v]; j < a[d].off[v + 1]; j++) {
          gasp_vid u = a[d].nbr[j];
          if (u != v) assert_int_not_equal(col[u], col[v]);
          if (dist < 2) continue;
          for (int d2 = 0; d2 < 2; d2++)
            for (uint64_t i = a[d2].off[u]; i < a[d2].off[u + 1]; i++) {
              gasp_vid w = a[d2].nbr[i];
              if (w != v) assert_int_not_equal(col[w], col[v]);
            }
        }
    }
  }
  free(col);
  gasp_graph_free(&g);
}

/* ---- aggregators, stop, max_iter ------------------------------------- */

static void agg_rank(const gasp_graph *g, gasp_vid v, const void *vd, void *acc,
                     void *user) {
  *(double *)acc += ((const pr2_vertex *)vd)->rank;
}
static void agg_edges(const gasp_graph *g, gasp_vid s, gasp_vid d,
                      gasp_eid slot, const void *ed, void *acc, void *user) {
  uint64_t *c = acc;
  c[0]++;
  c[1] += s + 2 * (uint64_t)d;
}
static void agg_add(void *acc, const void *o, void *user) {
  *(double *)acc += *(const double *)o;
}
static void agg_add2(void *acc, const void *o, void *user) {
  ((uint64_t *)acc)[0] += ((const uint64_t *)o)[0];
  ((uint64_t *)acc)[1] += ((const uint64_t *)o)[1];
}

static void test_aggregators(void **state) {
  gasp_graph *g = random_graph(500, 3000, 3);
  pr_params p = {1e-10, (double)gasp_graph_num_vertices(g)};
  gasp_program prog = pr_program(&p);
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  gasp_engine *e;
  gasp_error err;
  /* more threads than GASP_MAX_THREADS (or negative) are refused */
  o.threads = GASP_MAX_THREADS + 1;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "threads"));
  assert_null(e);
  o.threads = -2;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, &err), GASP_EINVAL);
  o.threads = 3;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, NULL), GASP_OK);
  gasp_aggregator a = {sizeof(double), agg_rank, NULL, agg_add,
                       NULL,           1,        0,    NULL};
  gasp_aggregator b = {
      2 * sizeof(uint64_t), NULL, agg_edges, agg_add2, NULL, 0, 0, NULL};
  int ia, ib;
  assert_int_equal(gasp_engine_add_aggregator(e, &a, &ia), GASP_OK);
  assert_int_equal(gasp_engine_add_aggregator(e, &b, &ib), GASP_OK);
  gasp_engine_signal_all(e, 0);
  assert_int_equal(gasp_engine_run(e, NULL), GASP_OK);
  double sum;
  assert_int_equal(gasp_engine_aggregate(e, ia, &sum), GASP_OK);
  const pr2_vertex *vd = gasp_graph_vertex_data(g);
  double direct = 0;
  for (uint64_t v = 0; v < gasp_graph_num_vertices(g); v++)
    direct += vd[v].rank;
  assert_true(fabs(sum - direct) < 1e-12);
  uint64_t c[2];
  assert_int_equal(gasp_engine_aggregate(e, ib, c), GASP_OK);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  uint64_t want = 0;
  for (uint64_t u = 0; u < out.num_vertices; u++)
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++)
      want += u + 2 * (uint64_t)out.nbr[j];
  assert_int_equal(c[0], gasp_graph_num_edges(g));
  assert_int_equal(c[1], want);
  assert_int_equal(gasp_engine_aggregate(e, 7, c), GASP_EINVAL);
  gasp_engine_free(&e);
  gasp_graph_free(&g);
}

/* A program that reads the periodic aggregate from its context: every
 * update after the first aggregation must see a value, and (sync) the
 * value is the vertex count the aggregator maps. */
typedef struct seen_state {
  uint64_t seen, missing, wrong;
} seen_state;

static void count_vertex(const gasp_graph *g, gasp_vid v, const void *vd,
                         void *acc, void *user) {
  *(double *)acc += 1;
}

static void seen_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  seen_state *s = gasp_ctx_user(ctx);
  const double *a = gasp_ctx_aggregate(ctx, 0);
  if (!a)
    __atomic_fetch_add(&s->missing, 1, __ATOMIC_RELAXED);
  else if (*a != (double)gasp_ctx_num_vertices(ctx))
    __atomic_fetch_add(&s->wrong, 1, __ATOMIC_RELAXED);
  else
    __atomic_fetch_add(&s->seen, 1, __ATOMIC_RELAXED);
  uint64_t *n = vd;
  if (++*n < 50) gasp_signal(ctx, gasp_ctx_vertex(ctx));
}

static void test_periodic_aggregator(void **state) {
  gasp_graph *g = random_graph(64, 200, 11);
  for (int k = 0; k < 2; k++) {
    seen_state s = {0, 0, 0};
    gasp_program prog;
    memset(&prog, 0, sizeof prog);
    prog.vertex_size = sizeof(uint64_t);
    prog.apply = seen_apply;
    prog.user = &s;
    gasp_engine_opts o;
    gasp_engine_opts_init(&o);
    o.engine = k ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
    o.threads = 3;
    gasp_engine *e;
    assert_int_equal(gasp_engine_new(&e, g, &prog, &o, NULL), GASP_OK);
    gasp_aggregator a = {sizeof(double), count_vertex, NULL, agg_add, NULL, 2,
                         0.001,          NULL};
    assert_int_equal(gasp_engine_add_aggregator(e, &a, NULL), GASP_OK);
    gasp_engine_signal_all(e, 0);
    gasp_run_stats st;
    assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
    assert_int_equal(st.reason, GASP_STOP_CONVERGED);
    assert_int_equal(s.seen, 64 * 50);
    assert_int_equal(s.missing + s.wrong, 0);
    gasp_engine_free(&e);
  }
  gasp_graph_free(&g);
}

static int stop_after;
static void stop_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  if (gasp_ctx_iteration(ctx) >= (uint64_t)stop_after) gasp_ctx_stop(ctx);
  gasp_signal(ctx, gasp_ctx_vertex(ctx)); /* never converges by itself */
}

static void test_stop_and_max_iter(void **state) {
  gasp_graph *g = random_graph(100, 300, 5);
  gasp_program prog;
  memset(&prog, 0, sizeof prog);
  prog.vertex_size = 8;
  prog.apply = stop_apply;
  for (int k = 0; k < 2; k++) {
    gasp_engine_opts o;
    gasp_engine_opts_init(&o);
    o.engine = k ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
    o.threads = 2;
    gasp_engine *e;
    assert_int_equal(gasp_engine_new(&e, g, &prog, &o, NULL), GASP_OK);
    stop_after = 5;
    gasp_engine_signal_all(e, 0);
    gasp_run_stats st;
    assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
    assert_int_equal(st.reason, GASP_STOP_PROGRAM);
    assert_true(st.iterations >= 5);
    gasp_engine_free(&e);
    o.max_iter = 3;
    assert_int_equal(gasp_engine_new(&e, g, &prog, &o, NULL), GASP_OK);
    stop_after = 1000000;
    gasp_engine_signal_all(e, 0);
    assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
    assert_int_equal(st.reason, GASP_STOP_MAX_ITER);
    if (!k) assert_int_equal(st.iterations, 3);
    if (k) assert_true(st.updates >= 300 && st.updates < 300 + 100);
    gasp_engine_free(&e);
  }
  gasp_graph_free(&g);
}

/* ---- a program without vertex data ----------------------------------
 * vertex_size 0 (the program keeps its state elsewhere, as LDA does):
 * every callback sees NULL vertex data, the centre's and the neighbours',
 * rather than an offset from a null pointer. */
static int nodata_bad;

static void nodata_gather(const gasp_ctx *c, const void *v, const gasp_edge *e,
                          void *acc) {
  if (v || e->nbr_data) __atomic_store_n(&nodata_bad, 1, __ATOMIC_RELAXED);
  *(double *)acc += 1;
}

static void nodata_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  if (vd || *(const double *)acc != (double)gasp_ctx_in_degree(ctx))
    __atomic_store_n(&nodata_bad, 1, __ATOMIC_RELAXED);
}

static void nodata_scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  if (vd || e->nbr_data) __atomic_store_n(&nodata_bad, 1, __ATOMIC_RELAXED);
}

static void test_no_vertex_data(void **state) {
  gasp_graph *g = random_graph(200, 800, 11);
  gasp_program prog;
  memset(&prog, 0, sizeof prog);
  prog.acc_size = sizeof(double);
  prog.gather_edges = pr_in;
  prog.gather = nodata_gather;
  prog.sum = pr_sum;
  prog.apply = nodata_apply;
  prog.scatter_edges = pr_out;
  prog.scatter = nodata_scatter;
  for (int k = 0; k < 2; k++) {
    gasp_engine_opts o;
    gasp_engine_opts_init(&o);
    o.engine = k ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
    o.threads = 2;
    o.max_iter = 2;
    gasp_engine *e;
    assert_int_equal(gasp_engine_new(&e, g, &prog, &o, NULL), GASP_OK);
    nodata_bad = 0;
    gasp_engine_signal_all(e, 0);
    gasp_run_stats st;
    assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
    assert_true(st.updates > 0);
    assert_int_equal(nodata_bad, 0);
    gasp_engine_free(&e);
  }
  gasp_graph_free(&g);
}

static void test_parse_names(void **state) {
  gasp_engine_kind k;
  gasp_consistency c;
  gasp_scheduler s;
  gasp_locking l;
  assert_int_equal(gasp_engine_kind_parse("async", &k), 0);
  assert_int_equal(k, GASP_ENGINE_ASYNC);
  assert_int_equal(gasp_consistency_parse("full", &c), 0);
  assert_int_equal(c, GASP_CONSISTENCY_FULL);
  assert_int_equal(gasp_scheduler_parse("priority", &s), 0);
  assert_int_equal(s, GASP_SCHED_PRIORITY);
  assert_int_equal(gasp_locking_parse("chromatic", &l), 0);
  assert_int_equal(gasp_scheduler_parse("lifo", &s), GASP_EINVAL);
  assert_int_equal(gasp_engine_kind_parse(NULL, &k), GASP_EINVAL);
}

/* ---- gasp_engine_map ---------------------------------------------------
 * Every item is visited once, on a worker index in range; sums of squares
 * equal the serial sum, and with grain 0 the result is the same bits on
 * every call. */
typedef struct map_state {
  int *seen; /* per item, atomic */
  int threads;
  int bad_tid; /* atomic */
} map_state;

static void map_sq(void *user, uint64_t i, int tid, void *part) {
  map_state *m = user;
  __atomic_fetch_add(&m->seen[i], 1, __ATOMIC_RELAXED);
  if (tid < 0 || tid >= m->threads)
    __atomic_store_n(&m->bad_tid, 1, __ATOMIC_RELAXED);
  if (part) {
    double x = 1.0 / (double)(i + 1);
    ((double *)part)[0] += x * x;
    ((double *)part)[1] += 1;
  }
}

static void map_add(void *out, const void *part, void *user) {
  (void)user;
  ((double *)out)[0] += ((const double *)part)[0];
  ((double *)out)[1] += ((const double *)part)[1];
}

static void test_engine_map(void **state) {
  gasp_graph *g = dense_graph();
  gasp_program prog;
  memset(&prog, 0, sizeof prog);
  prog.vertex_size = 8;
  prog.apply = det_apply;
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.threads = 3;
  gasp_engine *e;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, NULL), GASP_OK);
  static const uint64_t sizes[] = {0, 1, 2, 7, 1000, 100003};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
    for (uint64_t grain = 0; grain <= 64; grain += 64) {
      uint64_t n = sizes[k];
      map_state m = {calloc(n + 1, sizeof(int)), 3, 0};
      double sum[2] = {-1, -1}, again[2], ref = 0;
      assert_int_equal(
          gasp_engine_map(e, n, grain, map_sq, sizeof sum, map_add, &m, sum),
          GASP_OK);
      for (uint64_t i = 0; i < n; i++) {
        assert_int_equal(m.seen[i], 1);
        ref += 1.0 / (double)(i + 1) / (double)(i + 1);
      }
      assert_int_equal(m.bad_tid, 0);
      assert_true(sum[1] == (double)n);
      assert_true(fabs(sum[0] - ref) <= 1e-12 * (ref + 1));
      if (grain == 0) {
        assert_int_equal(
            gasp_engine_map(e, n, 0, map_sq, sizeof again, map_add, &m, again),
            GASP_OK);
        assert_memory_equal(sum, again, sizeof sum);
      }
      /* no reduction: items only */
      assert_int_equal(gasp_engine_map(e, n, grain, map_sq, 0, NULL, &m, NULL),
                       GASP_OK);
      for (uint64_t i = 0; i < n; i++)
        assert_int_equal(m.seen[i], grain == 0 ? 3 : 2);
      free(m.seen);
    }
  assert_int_equal(gasp_engine_map(e, 5, 0, map_sq, 8, NULL, NULL, NULL),
                   GASP_EINVAL);
  gasp_engine_free(&e);
  gasp_graph_free(&g);
}


/* ---- the cache-blocked gather -----------------------------------------
 * A program whose sources change every superstep (x' = (5x + it) mod 1021,
 * small integers, so every sum is exact in float and double alike) and
 * whose vertices record what they gathered and the x their sources had.
 * Blocked (blocks of 64 destinations over 1000 vertices with hubs,
 * vertices without in- or out-edges, 1 to 3 threads, double and float
 * values; and one block of 65536), each superstep's sum must equal the one computed here from the
 * edge lists, and the run must end with the pulling run's vertex data. */
typedef struct bk_vertex {
  double x, prev, got;
} bk_vertex;

static double bk_source(const gasp_ctx *c, const void *v) {
  (void)c;
  return ((const bk_vertex *)v)->x;
}

static void bk_init(gasp_ctx *c, void *vd) {
  bk_vertex *v = vd;
  v->x = (double)(gasp_ctx_gid(c) * 37 % 1021);
}

static void bk_gather(const gasp_ctx *c, const void *v, const gasp_nbrs *nb,
                      void *acc) {
  (void)v;
  gasp_graph *g = (gasp_graph *)gasp_ctx_graph(c);
  const bk_vertex *vd = gasp_graph_vertex_data(g);
  const double *w = gasp_graph_weights(g);
  gasp_adjacency in;
  gasp_graph_in_edges(g, &in);
  const uint32_t *slot = in.slot + in.off[gasp_ctx_vertex(c)];
  double s = 0;
  for (uint64_t i = 0; i < nb->n_in; i++)
    s += (w ? w[slot[i]] : 1.0) * vd[nb->in[i]].x;
  *(double *)acc = s;
}

static void bk_apply(gasp_ctx *c, void *vd, const void *acc) {
  bk_vertex *v = vd;
  v->got = *(const double *)acc;
  v->prev = v->x;
  v->x = fmod(5 * v->x + (double)gasp_ctx_iteration(c), 1021);
}

static gasp_graph *skewed_graph(int weighted) {
  gasp_builder *b;
  assert_int_equal(gasp_builder_new(&b, weighted ? GASP_BUILD_WEIGHTED : 0),
                   GASP_OK);
  uint64_t s = 11;
  for (uint64_t i = 0; i < 6000; i++) { /* hubs: low ids, squared */
    uint64_t r = gasp__splitmix64(&s) % 1000, u = r * r / 1000;
    uint64_t v = gasp__splitmix64(&s) % 1000;
    if (v % 10 == 3) continue; /* no in-edges */
    if (u % 10 == 7) u = (u + 1) % 1000; /* no out-edges */
    /* weights of a few bits: the weighted sums stay exact too */
    assert_int_equal(gasp_builder_add_edge(b, u, v, 0.25 * (double)(i % 7)), 0);
  }
  assert_int_equal(gasp_builder_add_edge(b, 999, 999, 3), 0); /* a loop */
  gasp_graph *g;
  assert_int_equal(gasp_builder_finish(b, 2, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  return g;
}

static gasp_program bk_program(int weighted) {
  gasp_program p = {0};
  p.vertex_size = sizeof(bk_vertex);
  p.acc_size = sizeof(double);
  p.init_vertex = bk_init;
  p.gather_dir = GASP_DIR_IN;
  p.gather_vertex = bk_gather;
  p.apply = bk_apply;
  p.gather_source = bk_source;
  p.gather_source_weighted = weighted;
  return p;
}

/* Every superstep's sums, blocked and pulled, on the weighted graph with
 * the weighted program, or unweighted. */
static void blocked_gather_on(int weighted) {
  gasp_graph *g = skewed_graph(weighted);
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency in;
  gasp_graph_in_edges(g, &in);
  const double *wt = gasp_graph_weights(g);
  assert_true(weighted ? wt != NULL : wt == NULL);
  gasp_program p = bk_program(weighted);
  bk_vertex *want = malloc(n * sizeof *want);
  /* pull; blocked in double, in float (16-bit offsets); one block of
   * 65536 (32-bit offsets) */
  for (int mode = 0; mode < 4; mode++)
    for (int threads = 1; threads <= 3; threads++) {
      if (mode == 0 && threads > 1) continue;
      gasp_engine_opts o;
      gasp_engine_opts_init(&o);
      o.threads = threads;
      o.always_active = 1;
      o.max_iter = 1;
      o.blocked = mode ? GASP_BLOCK_ON : GASP_BLOCK_OFF;
      o.block_vertices = mode == 3 ? 65536 : 64;
      gasp_engine *e;
      gasp_error err;
      assert_int_equal(gasp_engine_new(&e, g, &p, &o, &err), GASP_OK);
      assert_int_equal(gasp_engine_source_float(e, mode == 2), GASP_OK);
      const bk_vertex *vd = gasp_graph_vertex_data(g);
      for (int step = 0; step < 5; step++) { /* a superstep a run */
        gasp_run_stats st;
        assert_int_equal(gasp_engine_signal_all(e, 1), GASP_OK);
        assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
        assert_int_equal(st.blocked_iterations, mode ? 1 : 0);
        if (mode && step == 0) assert_true(st.blocked_bytes > 0);
        for (gasp_vid v = 0; v < n; v++) {
          double s = 0;
          for (uint64_t j = in.off[v]; j < in.off[v + 1]; j++)
            s += (wt ? wt[in.slot[j]] : 1.0) * vd[in.nbr[j]].prev;
          if (vd[v].got != s)
            fail_msg("weighted %d, mode %d, %d threads, superstep %d: vertex "
                     "%u gathered %g, want %g",
                     weighted, mode, threads, step, v, vd[v].got, s);
        }
      }
      if (mode == 0)
        memcpy(want, vd, n * sizeof *want);
      else
        assert_memory_equal(vd, want, n * sizeof *want);
      gasp_engine_free(&e);
    }
  free(want);
  gasp_graph_free(&g);
}

static void test_blocked_gather(void **state) {
  (void)state;
  for (int weighted = 0; weighted < 2; weighted++)
    blocked_gather_on(weighted);
  gasp_graph *g = skewed_graph(0);
  gasp_program p = bk_program(0);
  /* refusals: blocking needs every vertex active, a double accumulator */
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.blocked = GASP_BLOCK_ON;
  gasp_engine *e;
  gasp_error err;
  assert_int_equal(gasp_engine_new(&e, g, &p, &o, &err), GASP_ENOTSUP);
  assert_non_null(strstr(err.msg, "always_active"));
  o.always_active = 1;
  o.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_engine_new(&e, g, &p, &o, &err), GASP_ENOTSUP);
  gasp_program q = p;
  q.acc_size = 4;
  assert_int_equal(gasp_engine_new(&e, g, &q, NULL, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "gather_source"));
  q = p;
  q.gather_source = NULL;
  o.engine = GASP_ENGINE_SYNC;
  assert_int_equal(gasp_engine_new(&e, g, &q, &o, &err), GASP_ENOTSUP);
  assert_int_equal(gasp_engine_new(&e, g, &q, NULL, &err), GASP_OK);
  assert_int_equal(gasp_engine_source_float(e, 1), GASP_EINVAL);
  gasp_engine_free(&e);
  q = p;
  q.gather_source = NULL;
  q.gather_source_weighted = 1;
  assert_int_equal(gasp_engine_new(&e, g, &q, NULL, &err), GASP_EINVAL);
  gasp_engine_free(&e);
  gasp_graph_free(&g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pagerank_sync),
      cmocka_unit_test(test_pagerank_async_all),
      cmocka_unit_test(test_consistency_detector),
      cmocka_unit_test(test_coloring),
      cmocka_unit_test(test_aggregators),
      cmocka_unit_test(test_periodic_aggregator),
      cmocka_unit_test(test_stop_and_max_iter),
      cmocka_unit_test(test_no_vertex_data),
      cmocka_unit_test(test_parse_names),
      cmocka_unit_test(test_engine_map),
      cmocka_unit_test(test_blocked_gather),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
