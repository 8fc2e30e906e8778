/*
 * test_messages.c -- signals with messages, bulk scatter, constant
 * directions and the sync engine's push/pull choice, against references
 * written here:
 *  - every vertex messages its out-neighbours once; the sum each receives
 *    is its in-degree (one combined message per superstep under sync, the
 *    total over updates under async), with per-edge and bulk scatter;
 *  - shortest paths pushed as messages (no gather) equal Dijkstra, on
 *    every engine, scheduler and locking;
 *  - BFS depths, SSSP distances and components of push_pull programs
 *    equal the serial references whether the engine pushes, pulls or
 *    chooses (components also on the async engines), and the
 *    choice really pulls on a dense frontier and pushes on a sparse one;
 *  - combiners, and programs the engine must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gasp.h"

static uint64_t mix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Random directed multigraph with integer weights 1..9 (exact sums). */
static gasp_graph *random_graph(uint64_t n, uint64_t m, uint64_t seed) {
  gasp_builder *b;
  assert_int_equal(gasp_builder_new(&b, GASP_BUILD_WEIGHTED), GASP_OK);
  uint64_t s = seed;
  for (uint64_t i = 0; i < m; i++) {
    uint64_t u = mix(&s) % n, v = mix(&s) % n;
    double w = (double)(1 + mix(&s) % 9);
    assert_int_equal(gasp_builder_add_edge(b, u, v, w), GASP_OK);
  }
  for (uint64_t i = 0; i < n; i++)
    assert_int_equal(gasp_builder_add_vertex(b, GASP_SIDE_LEFT, i), GASP_OK);
  gasp_graph *g;
  assert_int_equal(gasp_builder_finish(b, 2, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  return g;
}

typedef struct run_cfg {
  gasp_engine_kind engine;
  gasp_scheduler sched;
  gasp_locking locking;
  gasp_consistency cons;
  gasp_direction dir;
  int threads;
} run_cfg;

static const run_cfg configs[] = {
    {GASP_ENGINE_SYNC, GASP_SCHED_FIFO, 0, GASP_CONSISTENCY_EDGE, 0, 1},
    {GASP_ENGINE_SYNC, GASP_SCHED_FIFO, 0, GASP_CONSISTENCY_EDGE, 0, 4},
    {GASP_ENGINE_ASYNC, GASP_SCHED_FIFO, GASP_LOCKING_LOCKS,
     GASP_CONSISTENCY_VERTEX, 0, 4},
    {GASP_ENGINE_ASYNC, GASP_SCHED_PRIORITY, GASP_LOCKING_LOCKS,
     GASP_CONSISTENCY_EDGE, 0, 3},
    {GASP_ENGINE_ASYNC, GASP_SCHED_SWEEP, GASP_LOCKING_CHROMATIC,
     GASP_CONSISTENCY_EDGE, 0, 2},
    {GASP_ENGINE_ASYNC, GASP_SCHED_FIFO, GASP_LOCKING_LOCKS,
     GASP_CONSISTENCY_FULL, 0, 2},
};
#define NCONFIGS (sizeof configs / sizeof *configs)

static gasp_engine *engine(gasp_graph *g, const gasp_program *p,
                           const run_cfg *c) {
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.engine = c->engine;
  o.scheduler = c->sched;
  o.locking = c->locking;
  o.consistency = c->cons;
  o.direction = c->dir;
  o.threads = c->threads;
  gasp_engine *e = NULL;
  gasp_error err;
  int rc = gasp_engine_new(&e, g, p, &o, &err);
  if (rc) print_error("engine: %s\n", err.msg);
  assert_int_equal(rc, GASP_OK);
  return e;
}

/* ---- in-degree by messages -------------------------------------------
 * Superstep 0: every vertex sends 1 along each out-edge.  Afterwards a
 * vertex adds each message it is updated with.  msg_size (8) differs
 * from acc_size (0): the update reads gasp_ctx_msg(). */
typedef struct cnt_vertex {
  uint64_t got, updates_with_msg;
  int sent, scatter_now;
} cnt_vertex;

static void cnt_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)acc;
  cnt_vertex *v = vd;
  const uint64_t *m = gasp_ctx_msg(ctx);
  if (m) {
    v->got += *m;
    v->updates_with_msg++;
  }
}

static void cnt_scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  (void)vd;
  uint64_t one = 1;
  assert_int_equal(e->dir, GASP_DIR_OUT);
  gasp_signal_msg(ctx, e->nbr, &one);
}

static void cnt_scatter_vertex(gasp_ctx *ctx, const void *vd,
                               const gasp_nbrs *nb) {
  (void)vd;
  uint64_t one = 1;
  assert_int_equal(nb->n_in, 0);
  for (uint64_t i = 0; i < nb->n_out; i++)
    gasp_signal_msg(ctx, nb->out[i], &one);
}

/* The first update of a vertex scatters (async: it may come with a
 * message already), the later ones do not. */
static void cnt_apply_mark(gasp_ctx *ctx, void *vd, const void *acc) {
  cnt_vertex *v = vd;
  cnt_apply(ctx, vd, acc);
  v->scatter_now = !v->sent;
  v->sent = 1;
}

static void cnt_init(gasp_ctx *ctx, void *vd) {
  (void)ctx;
  memset(vd, 0, sizeof(cnt_vertex));
}

static gasp_dir cnt_scatter_once(const gasp_ctx *ctx, const void *vd) {
  (void)ctx;
  return ((const cnt_vertex *)vd)->scatter_now ? GASP_DIR_OUT : GASP_DIR_NONE;
}

static void run_count(gasp_graph *g, const run_cfg *c, int bulk) {
  gasp_program p;
  memset(&p, 0, sizeof p);
  p.vertex_size = sizeof(cnt_vertex);
  p.init_vertex = cnt_init;
  p.apply = cnt_apply_mark;
  p.scatter_edges = cnt_scatter_once;
  if (bulk)
    p.scatter_vertex = cnt_scatter_vertex;
  else
    p.scatter = cnt_scatter;
  p.msg_size = sizeof(uint64_t);
  p.combine = gasp_combine_sum_u64;
  gasp_engine *e = engine(g, &p, c);
  gasp_engine_signal_all(e, 1.0);
  gasp_run_stats st;
  assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
  assert_int_equal(st.reason, GASP_STOP_CONVERGED);
  const cnt_vertex *vd = gasp_graph_vertex_data(g);
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++) {
    assert_int_equal(vd[v].got, gasp_graph_in_degree(g, v));
    if (c->engine == GASP_ENGINE_SYNC) /* one combined message */
      assert_true(vd[v].updates_with_msg == (gasp_graph_in_degree(g, v) > 0));
  }
  if (c->engine == GASP_ENGINE_SYNC) assert_int_equal(st.iterations, 2);
  gasp_engine_free(&e);
}

static void test_combined_messages(void **state) {
  (void)state;
  gasp_graph *g = random_graph(300, 3000, 5);
  for (size_t i = 0; i < NCONFIGS; i++)
    for (int bulk = 0; bulk < 2; bulk++)
      run_count(g, &configs[i], bulk);
  gasp_graph_free(&g);
}

/* ---- references -------------------------------------------------------- */

/* Dijkstra over out-edges (O(n^2), small graphs). */
static double *dijkstra(const gasp_graph *g, gasp_vid src) {
  gasp_vid n = gasp_graph_num_vertices(g);
  double *d = malloc(n * sizeof *d);
  char *done = calloc(n, 1);
  const double *w = gasp_graph_weights(g);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (gasp_vid v = 0; v < n; v++)
    d[v] = INFINITY;
  d[src] = 0;
  for (;;) {
    gasp_vid best = GASP_VID_NONE;
    for (gasp_vid v = 0; v < n; v++)
      if (!done[v] && d[v] < INFINITY &&
          (best == GASP_VID_NONE || d[v] < d[best]))
        best = v;
    if (best == GASP_VID_NONE) break;
    done[best] = 1;
    for (uint64_t j = out.off[best]; j < out.off[best + 1]; j++) {
      double nd = d[best] + (w ? w[j] : 1.0);
      if (nd < d[out.nbr[j]]) d[out.nbr[j]] = nd;
    }
  }
  free(done);
  return d;
}

/* BFS depths over out-edges; UINT32_MAX when unreachable. */
static uint32_t *bfs(const gasp_graph *g, gasp_vid src) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint32_t *d = malloc(n * sizeof *d);
  gasp_vid *q = malloc(n * sizeof *q);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (gasp_vid v = 0; v < n; v++)
    d[v] = UINT32_MAX;
  uint64_t h = 0, t = 0;
  d[src] = 0;
  q[t++] = src;
  while (h < t) {
    gasp_vid u = q[h++];
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++)
      if (d[out.nbr[j]] == UINT32_MAX) {
        d[out.nbr[j]] = d[u] + 1;
        q[t++] = out.nbr[j];
      }
  }
  free(q);
  return d;
}

/* ---- SSSP pushed as messages ------------------------------------------
 * A vertex's message is the best distance offered to it; apply keeps the
 * smaller; a vertex whose distance dropped offers d + w along its
 * out-edges.  Push only: no gather at all.  With push_pull the same
 * program also gathers min(d(u) + w) over its in-edges. */
typedef struct sp_vertex {
  double dist;
  int changed;
} sp_vertex;

static double ld(const double *p) {
  uint64_t b = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static void st(double *p, double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  __atomic_store_n((uint64_t *)p, b, __ATOMIC_RELAXED);
}

static void sp_init(gasp_ctx *ctx, void *vd) {
  (void)ctx;
  ((sp_vertex *)vd)->dist = INFINITY;
  ((sp_vertex *)vd)->changed = 0;
}

static void sp_acc_init(const gasp_ctx *ctx, void *acc) {
  (void)ctx;
  *(double *)acc = INFINITY;
}

static void sp_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  sp_vertex *v = vd;
  double m = *(const double *)acc;
  if (!gasp_ctx_msg(ctx) &&
      gasp_ctx_vertex(ctx) == *(gasp_vid *)gasp_ctx_user(ctx))
    m = 0; /* the source, in the first superstep */
  v->changed = m < v->dist;
  if (v->changed) st(&v->dist, m);
}

static gasp_dir sp_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  (void)ctx;
  return ((const sp_vertex *)vd)->changed ? GASP_DIR_OUT : GASP_DIR_NONE;
}

static void sp_scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  const double *w = gasp_graph_weights(gasp_ctx_graph(ctx));
  double d = ld(&((const sp_vertex *)vd)->dist) + w[e->slot];
  if (d < ld(&((const sp_vertex *)e->nbr_data)->dist))
    gasp_signal_msg_priority(ctx, e->nbr, &d, -d);
}

static void sp_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb,
                      void *acc) {
  (void)vd;
  const double *w = gasp_graph_weights(gasp_ctx_graph(ctx));
  double best = *(double *)acc;
  for (uint64_t i = 0; i < nb->n_in; i++) {
    double d = ld(&((const sp_vertex *)((const char *)nb->vertex_data +
                                        nb->in[i] * nb->vertex_size))
                       ->dist) +
               w[nb->in_slot[i]];
    if (d < best) best = d;
  }
  *(double *)acc = best;
}

static gasp_program sp_program(gasp_vid *src, int push_pull) {
  gasp_program p;
  memset(&p, 0, sizeof p);
  p.vertex_size = sizeof(sp_vertex);
  p.acc_size = sizeof(double);
  p.msg_size = sizeof(double);
  p.combine = gasp_combine_min_f64;
  p.init_vertex = sp_init;
  p.acc_init = sp_acc_init;
  p.apply = sp_apply;
  p.scatter_edges = sp_scatter_dir;
  p.scatter = sp_scatter;
  p.user = src;
  if (push_pull) {
    p.gather_vertex = sp_gather;
    p.gather_dir = GASP_DIR_IN;
    p.push_pull = 1;
  }
  return p;
}

static void check_sp(gasp_graph *g, gasp_vid src, const run_cfg *c,
                     int push_pull, gasp_run_stats *stats) {
  gasp_program p = sp_program(&src, push_pull);
  gasp_engine *e = engine(g, &p, c);
  gasp_engine_signal(e, src, 0.0);
  gasp_run_stats st_;
  assert_int_equal(gasp_engine_run(e, &st_), GASP_OK);
  assert_int_equal(st_.reason, GASP_STOP_CONVERGED);
  double *ref = dijkstra(g, src);
  const sp_vertex *vd = gasp_graph_vertex_data(g);
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++)
    if (vd[v].dist != ref[v]) {
      print_error("vertex %u: %g, Dijkstra %g (config engine %d dir %d)\n", v,
                  vd[v].dist, ref[v], c->engine, c->dir);
      fail();
    }
  free(ref);
  if (stats) *stats = st_;
  gasp_engine_free(&e);
}

static void test_sssp_push(void **state) {
  (void)state;
  gasp_graph *g = random_graph(500, 4000, 11);
  for (size_t i = 0; i < NCONFIGS; i++) {
    check_sp(g, 3, &configs[i], 0, NULL);
    check_sp(g, 3, &configs[i], 1, NULL); /* async: push, gather unmessaged */
  }
  gasp_graph_free(&g);
}

static void test_sssp_push_pull(void **state) {
  (void)state;
  gasp_graph *g = random_graph(2000, 30000, 17);
  run_cfg c = configs[1];
  gasp_run_stats auto_st, push_st, pull_st;
  c.dir = GASP_DIRECTION_AUTO;
  check_sp(g, 0, &c, 1, &auto_st);
  c.dir = GASP_DIRECTION_PUSH;
  check_sp(g, 0, &c, 1, &push_st);
  c.dir = GASP_DIRECTION_PULL;
  check_sp(g, 0, &c, 1, &pull_st);
  assert_int_equal(push_st.pull_iterations, 0);
  assert_true(pull_st.pull_iterations > 0);
  /* the frontier of a dense random graph grows past 1/20 of the edges,
   * then shrinks: AUTO both pulls and pushes */
  assert_true(auto_st.pull_iterations > 0);
  assert_true(auto_st.pull_iterations < auto_st.iterations);
  gasp_graph_free(&g);
}

/* ---- BFS, push_pull ---------------------------------------------------
 * Depth in vertex data, with a "new" bit while the vertex has yet to push
 * it; the accumulator and message are a candidate depth (min).  Pull
 * skips vertices already reached; a reached vertex updated again (in a
 * pull superstep) drops its bit, having been read by every gather of the
 * superstep before. */
#define NEW 0x80000000u
static void bfs_init(gasp_ctx *ctx, void *vd) {
  (void)ctx;
  *(uint32_t *)vd = UINT32_MAX;
}

static void bfs_acc_init(const gasp_ctx *ctx, void *acc) {
  *(uint32_t *)acc =
      gasp_ctx_vertex(ctx) == *(gasp_vid *)gasp_ctx_user(ctx) ? 0 : UINT32_MAX;
}

static gasp_dir bfs_gather_dir(const gasp_ctx *ctx, const void *vd) {
  (void)ctx;
  return *(const uint32_t *)vd == UINT32_MAX ? GASP_DIR_IN : GASP_DIR_NONE;
}

static void bfs_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb,
                       void *acc) {
  (void)ctx;
  (void)vd;
  const uint32_t *depth = nb->vertex_data;
  uint32_t best = *(uint32_t *)acc;
  for (uint64_t i = 0; i < nb->n_in; i++) {
    uint32_t d = depth[nb->in[i]];
    if (d != UINT32_MAX && (d & ~NEW) + 1 < best) best = (d & ~NEW) + 1;
  }
  *(uint32_t *)acc = best;
}

static void bfs_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)ctx;
  uint32_t *d = vd, m = *(const uint32_t *)acc;
  if (*d == UINT32_MAX) {
    if (m != UINT32_MAX) *d = m | NEW;
  } else {
    *d &= ~NEW;
  }
}

static gasp_dir bfs_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  (void)ctx;
  uint32_t d = *(const uint32_t *)vd;
  return d != UINT32_MAX && (d & NEW) ? GASP_DIR_OUT : GASP_DIR_NONE;
}

static void bfs_scatter_vertex(gasp_ctx *ctx, const void *vd,
                               const gasp_nbrs *nb) {
  uint32_t next = (*(const uint32_t *)vd & ~NEW) + 1;
  const uint32_t *depth = nb->vertex_data;
  for (uint64_t i = 0; i < nb->n_out; i++)
    if (depth[nb->out[i]] == UINT32_MAX)
      gasp_signal_msg(ctx, nb->out[i], &next);
}

static void bfs_run(gasp_graph *g, gasp_vid src, gasp_direction dir,
                    gasp_run_stats *out) {
  gasp_program p;
  memset(&p, 0, sizeof p);
  p.vertex_size = p.acc_size = p.msg_size = sizeof(uint32_t);
  p.combine = gasp_combine_min_u32;
  p.init_vertex = bfs_init;
  p.acc_init = bfs_acc_init;
  p.gather_edges = bfs_gather_dir;
  p.gather_vertex = bfs_gather;
  p.apply = bfs_apply;
  p.scatter_edges = bfs_scatter_dir;
  p.scatter_vertex = bfs_scatter_vertex;
  p.push_pull = 1;
  p.user = &src;
  run_cfg c = configs[1];
  c.dir = dir;
  gasp_engine *e = engine(g, &p, &c);
  gasp_engine_signal(e, src, 0.0);
  assert_int_equal(gasp_engine_run(e, out), GASP_OK);
  uint32_t *ref = bfs(g, src);
  uint32_t *d = gasp_graph_vertex_data(g);
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++) {
    uint32_t got = d[v] == UINT32_MAX ? d[v] : d[v] & ~NEW;
    assert_int_equal(got, ref[v]);
  }
  free(ref);
  gasp_engine_free(&e);
}

static void test_bfs_directions(void **state) {
  (void)state;
  gasp_graph *g = random_graph(5000, 60000, 23);
  gasp_run_stats a, push, pull;
  bfs_run(g, 1, GASP_DIRECTION_PUSH, &push);
  bfs_run(g, 1, GASP_DIRECTION_PULL, &pull);
  bfs_run(g, 1, GASP_DIRECTION_AUTO, &a);
  assert_int_equal(push.pull_iterations, 0);
  assert_true(pull.pull_iterations > 0);
  assert_true(a.pull_iterations > 0 && a.pull_iterations < a.iterations);
  /* a pull superstep updates every vertex, a push one only the messaged:
   * pushing throughout updates fewest */
  assert_true(push.updates < a.updates);
  gasp_graph_free(&g);
}

/* ---- pull_skips_final ------------------------------------------------
 * BFS as gasp_bfs keeps it: the depth alone, a vertex in F when it was
 * reached in this superstep.  With pull_skips_final a pull leaves reached
 * vertices alone: no apply of a reached vertex (without a message) may
 * happen, nor of one whose gather found nothing (its accumulator as
 * acc_init left it); every apply is counted as an update, and the depths
 * are a queue BFS's whichever way the engine goes.  A reached vertex that
 * halted (gasp_ctx_halt) is not even asked for its gather direction in a
 * later pull; without the vote it is.  With pull_block the pulls' gathers
 * go through it, a block at a time, with the same results. */
typedef struct psf {
  gasp_vid src;
  int halt; /* apply votes to halt once the vertex is reached */
  const uint32_t *depth; /* pull_block: the vertex data */
  gasp_adjacency in;
  uint64_t applies, final_applies, idle_applies, asked_halted;
  uint64_t blocks, block_vertices, gathers;
} psf;

static gasp_dir psf_gather_dir(const gasp_ctx *ctx, const void *vd) {
  psf *u = gasp_ctx_user(ctx);
  uint32_t d = *(const uint32_t *)vd;
  if (d != UINT32_MAX && (uint64_t)d + 1 < gasp_ctx_iteration(ctx))
    __atomic_fetch_add(&u->asked_halted, 1, __ATOMIC_RELAXED);
  return d == UINT32_MAX ? GASP_DIR_IN : GASP_DIR_NONE;
}

static void psf_acc_init(const gasp_ctx *ctx, void *acc) {
  const psf *u = gasp_ctx_user(ctx);
  *(uint32_t *)acc = gasp_ctx_vertex(ctx) == u->src ? 0 : UINT32_MAX;
}

/* pull_block: psf_gather_dir, psf_acc_init and psf_gather for each. */
static uint64_t psf_pull_block(const gasp_ctx *ctx, const gasp_vid *vs,
                               uint64_t n, const uint64_t *frontier, void *acc,
                               uint32_t *hit) {
  psf *u = gasp_ctx_user(ctx);
  assert_non_null(frontier);
  __atomic_fetch_add(&u->blocks, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&u->block_vertices, n, __ATOMIC_RELAXED);
  uint64_t k = 0;
  for (uint64_t i = 0; i < n; i++) {
    gasp_vid v = vs[i];
    if (i) assert_true(vs[i - 1] < v); /* ascending */
    if (u->depth[v] != UINT32_MAX) continue;
    uint32_t a = v == u->src ? 0 : UINT32_MAX;
    for (uint64_t j = u->in.off[v]; j < u->in.off[v + 1]; j++)
      if (u->depth[u->in.nbr[j]] != UINT32_MAX) {
        uint32_t t = (uint32_t)gasp_ctx_iteration(ctx);
        if (t < a) a = t;
        break;
      }
    if (a == (v == u->src ? 0 : UINT32_MAX)) continue; /* as it started */
    ((uint32_t *)acc)[k] = a;
    hit[k++] = (uint32_t)i;
  }
  return k;
}

static void psf_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb,
                       void *acc) {
  (void)vd;
  __atomic_fetch_add(&((psf *)gasp_ctx_user(ctx))->gathers, 1,
                     __ATOMIC_RELAXED);
  const uint32_t *depth = nb->vertex_data;
  for (uint64_t i = 0; i < nb->n_in; i++)
    if (depth[nb->in[i]] != UINT32_MAX) { /* one level up */
      uint32_t t = (uint32_t)gasp_ctx_iteration(ctx);
      if (t < *(uint32_t *)acc) *(uint32_t *)acc = t;
      return;
    }
}

static void psf_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  psf *u = gasp_ctx_user(ctx);
  uint32_t *d = vd, m = *(const uint32_t *)acc;
  __atomic_fetch_add(&u->applies, 1, __ATOMIC_RELAXED);
  if (*d != UINT32_MAX && !gasp_ctx_msg(ctx))
    __atomic_fetch_add(&u->final_applies, 1, __ATOMIC_RELAXED);
  if (*d == UINT32_MAX && m == UINT32_MAX && !gasp_ctx_msg(ctx))
    __atomic_fetch_add(&u->idle_applies, 1, __ATOMIC_RELAXED);
  if (*d == UINT32_MAX && m != UINT32_MAX) {
    *d = m;
    if (u->halt) gasp_ctx_halt(ctx);
  }
}

static gasp_dir psf_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  uint32_t d = *(const uint32_t *)vd;
  return d != UINT32_MAX && d == gasp_ctx_iteration(ctx) ? GASP_DIR_OUT
                                                        : GASP_DIR_NONE;
}

static void psf_scatter(gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb) {
  uint32_t next = *(const uint32_t *)vd + 1;
  const uint32_t *depth = nb->vertex_data;
  for (uint64_t i = 0; i < nb->n_out; i++)
    if (depth[nb->out[i]] == UINT32_MAX)
      gasp_signal_msg(ctx, nb->out[i], &next);
}

static void test_pull_skips_final(void **state) {
  (void)state;
  gasp_graph *g = random_graph(5000, 40000, 29);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint32_t *ref = bfs(g, 3);
  const gasp_direction dirs[] = {GASP_DIRECTION_PULL, GASP_DIRECTION_PUSH,
                                 GASP_DIRECTION_AUTO};
  for (int t = 1; t <= 2; t++)
    for (size_t k = 0; k < 4 * sizeof dirs / sizeof *dirs; k++) {
      int halt = k % 2, block = k / 2 % 2;
      psf u;
      memset(&u, 0, sizeof u);
      u.src = 3;
      u.halt = halt;
      gasp_program p;
      memset(&p, 0, sizeof p);
      p.vertex_size = p.acc_size = p.msg_size = sizeof(uint32_t);
      p.combine = gasp_combine_min_u32;
      p.init_vertex = bfs_init;
      p.acc_init = psf_acc_init;
      p.gather_edges = psf_gather_dir;
      p.gather_vertex = psf_gather;
      p.apply = psf_apply;
      p.scatter_edges = psf_scatter_dir;
      p.scatter_vertex = psf_scatter;
      p.push_pull = 1;
      p.pull_skips_final = 1;
      if (block) p.pull_block = psf_pull_block;
      p.user = &u;
      run_cfg c = configs[1];
      c.dir = dirs[k / 4];
      c.threads = t;
      gasp_engine *e = engine(g, &p, &c);
      u.depth = gasp_graph_vertex_data(g);
      gasp_graph_in_edges(g, &u.in);
      gasp_engine_signal(e, 3, 0.0);
      gasp_run_stats st;
      assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
      const uint32_t *d = gasp_graph_vertex_data(g);
      for (gasp_vid v = 0; v < nv; v++)
        assert_int_equal(d[v], ref[v]);
      assert_int_equal(u.final_applies, 0);
      assert_int_equal(u.idle_applies, 0);
      assert_int_equal(u.applies, st.updates);
      if (!block) assert_int_equal(u.blocks, 0);
      if (dirs[k / 4] == GASP_DIRECTION_PULL) {
        assert_true(st.pull_iterations > 1);
        assert_true(st.updates < (uint64_t)nv * st.pull_iterations);
        /* every vertex applies once, when reached */
        assert_true(st.updates <= (uint64_t)nv);
        if (halt || block) /* a block reads the depths, asks nothing */
          assert_int_equal(u.asked_halted, 0);
        else
          assert_true(u.asked_halted > 0);
        if (block) { /* the pulls through blocks: one gather, the source's */
          assert_true(u.blocks > 0);
          assert_int_equal(u.gathers, 1);
          /* halted vertices are not in the blocks */
          if (halt)
            assert_true(u.block_vertices < (uint64_t)nv * st.pull_iterations);
        }
      }
      gasp_engine_free(&e);
    }
  free(ref);
  gasp_graph_free(&g);
}

/* ---- components, push_pull, every engine --------------------------------
 * Min-label over edges both ways; a changed vertex messages its label to
 * the neighbours with larger ones.  Every vertex starts signalled without
 * a message, so it must gather once even when a message reaches it first
 * (async): a vertex whose smaller neighbour never changes is told nothing. */
typedef struct cc_vertex {
  uint32_t label;
  int changed;
} cc_vertex;

static void cc_init(gasp_ctx *ctx, void *vd) {
  ((cc_vertex *)vd)->label = gasp_ctx_vertex(ctx);
  ((cc_vertex *)vd)->changed = 0;
}

static void cc_acc_init(const gasp_ctx *ctx, void *acc) {
  (void)ctx;
  *(uint32_t *)acc = UINT32_MAX;
}

static uint32_t lbl(const void *vd) {
  return __atomic_load_n(&((const cc_vertex *)vd)->label, __ATOMIC_RELAXED);
}

static void cc_gather(const gasp_ctx *ctx, const void *vd, const gasp_edge *e,
                      void *acc) {
  (void)ctx;
  (void)vd;
  if (lbl(e->nbr_data) < *(uint32_t *)acc) *(uint32_t *)acc = lbl(e->nbr_data);
}

static void cc_sum(const gasp_ctx *ctx, void *acc, const void *o) {
  (void)ctx;
  gasp_combine_min_u32(acc, o);
}

static void cc_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)ctx;
  cc_vertex *v = vd;
  uint32_t m = *(const uint32_t *)acc;
  v->changed = m < v->label;
  if (v->changed) __atomic_store_n(&v->label, m, __ATOMIC_RELAXED);
}

static gasp_dir cc_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  (void)ctx;
  return ((const cc_vertex *)vd)->changed ? GASP_DIR_ALL : GASP_DIR_NONE;
}

static void cc_scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  uint32_t l = lbl(vd);
  if (l < lbl(e->nbr_data)) gasp_signal_msg(ctx, e->nbr, &l);
}

static gasp_vid find(gasp_vid *p, gasp_vid x) {
  while (p[x] != x)
    x = p[x] = p[p[x]];
  return x;
}

static void test_cc_push_pull(void **state) {
  (void)state;
  gasp_graph *g = random_graph(3000, 2500, 31); /* many small components */
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_vid *uf = malloc(n * sizeof *uf);
  for (gasp_vid v = 0; v < n; v++)
    uf[v] = v;
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (gasp_vid v = 0; v < n; v++)
    for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++) {
      gasp_vid a = find(uf, v), b = find(uf, out.nbr[j]);
      if (a < b) uf[b] = a;
      if (b < a) uf[a] = b;
    }
  gasp_program p;
  memset(&p, 0, sizeof p);
  p.vertex_size = sizeof(cc_vertex);
  p.acc_size = p.msg_size = sizeof(uint32_t);
  p.combine = gasp_combine_min_u32;
  p.init_vertex = cc_init;
  p.acc_init = cc_acc_init;
  p.gather_dir = GASP_DIR_ALL;
  p.gather = cc_gather;
  p.sum = cc_sum;
  p.apply = cc_apply;
  p.scatter_edges = cc_scatter_dir;
  p.scatter = cc_scatter;
  p.push_pull = 1;
  for (size_t i = 0; i < NCONFIGS; i++)
    for (int dir = 0; dir < 3; dir++) {
      if (configs[i].engine == GASP_ENGINE_ASYNC && dir) continue;
      run_cfg c = configs[i];
      c.dir = (gasp_direction)dir;
      gasp_engine *e = engine(g, &p, &c);
      gasp_engine_signal_all(e, 0);
      assert_int_equal(gasp_engine_run(e, NULL), GASP_OK);
      const cc_vertex *vd = gasp_graph_vertex_data(g);
      for (gasp_vid v = 0; v < n; v++)
        assert_int_equal(vd[v].label, find(uf, v));
      gasp_engine_free(&e);
    }
  free(uf);
  gasp_graph_free(&g);
}

/* ---- gasp_signal_nbrs --------------------------------------------------
 * Every vertex's first update signals its out-neighbours (not itself):
 * the second round updates exactly the vertices with an in-edge from
 * another vertex, once each. */
static void sn_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)acc;
  uint32_t *n = vd;
  if ((*n)++ == 0) gasp_signal_nbrs(ctx, GASP_DIR_OUT, 1.0);
}

static void test_signal_nbrs(void **state) {
  (void)state;
  gasp_graph *g = random_graph(400, 1200, 9); /* self loops and repeats */
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency in;
  gasp_graph_in_edges(g, &in);
  uint64_t want = 0;
  for (gasp_vid v = 0; v < n; v++) {
    int other = 0;
    for (uint64_t j = in.off[v]; j < in.off[v + 1]; j++)
      other |= in.nbr[j] != v;
    want += other;
  }
  assert_true(want > 0 && want < n);
  gasp_program p;
  memset(&p, 0, sizeof p);
  p.vertex_size = sizeof(uint32_t);
  p.apply = sn_apply;
  for (size_t i = 0; i < NCONFIGS; i++) {
    gasp_engine *e = engine(g, &p, &configs[i]);
    gasp_engine_signal_all(e, 1.0);
    gasp_run_stats st;
    assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
    const uint32_t *cnt = gasp_graph_vertex_data(g);
    uint64_t second = 0;
    for (gasp_vid v = 0; v < n; v++) {
      assert_true(cnt[v] >= 1);
      second += cnt[v] > 1;
    }
    if (configs[i].engine == GASP_ENGINE_SYNC) {
      assert_int_equal(second, want);
      assert_int_equal(st.updates, n + want);
    } else { /* a neighbour may run before or after the signal */
      assert_true(second <= want);
    }
    gasp_engine_free(&e);
  }
  gasp_graph_free(&g);
}

/* ---- combiners and refusals -------------------------------------------- */

static void test_combiners(void **state) {
  (void)state;
  double a = 3, b = 2, nan = NAN;
  gasp_combine_min_f64(&a, &b);
  assert_true(a == 2);
  gasp_combine_max_f64(&a, &(double){7});
  assert_true(a == 7);
  gasp_combine_sum_f64(&a, &(double){0.5});
  assert_true(a == 7.5);
  gasp_combine_min_f64(&nan, &b);
  assert_true(nan == 2);
  a = 1;
  gasp_combine_min_f64(&a, &(double){NAN});
  assert_true(a == 1);
  uint32_t x = 9;
  gasp_combine_min_u32(&x, &(uint32_t){4});
  assert_int_equal(x, 4);
  uint64_t y = 5;
  gasp_combine_min_u64(&y, &(uint64_t){8});
  assert_int_equal(y, 5);
  gasp_combine_sum_u64(&y, &(uint64_t){8});
  assert_int_equal(y, 13);
}

static void test_refused_programs(void **state) {
  (void)state;
  gasp_graph *g = random_graph(10, 20, 1);
  gasp_vid src = 0;
  gasp_engine *e = NULL;
  gasp_error err;
  gasp_program p = sp_program(&src, 0);
  p.combine = NULL; /* messages without a combiner */
  assert_int_equal(gasp_engine_new(&e, g, &p, NULL, &err), GASP_EINVAL);
  p = sp_program(&src, 1);
  p.msg_size = 4; /* push_pull with a message unlike the accumulator */
  assert_int_equal(gasp_engine_new(&e, g, &p, NULL, &err), GASP_EINVAL);
  p = sp_program(&src, 1);
  p.gather_vertex = NULL; /* push_pull without a gather */
  assert_int_equal(gasp_engine_new(&e, g, &p, NULL, &err), GASP_EINVAL);
  assert_null(e);
  /* a program without messages cannot be sent one */
  memset(&p, 0, sizeof p);
  p.vertex_size = sizeof(cnt_vertex);
  p.apply = cnt_apply;
  assert_int_equal(gasp_engine_new(&e, g, &p, NULL, &err), GASP_OK);
  uint64_t one = 1;
  assert_int_equal(gasp_engine_signal_msg(e, 0, &one, 0), GASP_EINVAL);
  gasp_engine_free(&e);
  gasp_direction d;
  assert_int_equal(gasp_direction_parse("pull", &d), GASP_OK);
  assert_int_equal(d, GASP_DIRECTION_PULL);
  assert_int_equal(gasp_direction_parse("sideways", &d), GASP_EINVAL);
  gasp_graph_free(&g);
}

/* A message sent before the run starts the receiver with it. */
static void test_signal_msg_before_run(void **state) {
  (void)state;
  gasp_graph *g = random_graph(200, 1500, 3);
  for (size_t i = 0; i < NCONFIGS; i++) {
    gasp_vid none = GASP_VID_NONE; /* no vertex is the source by itself */
    gasp_program p = sp_program(&none, 0);
    gasp_engine *e = engine(g, &p, &configs[i]);
    double zero = 0, worse = 5;
    assert_int_equal(gasp_engine_signal_msg(e, 7, &worse, 0), GASP_OK);
    assert_int_equal(gasp_engine_signal_msg(e, 7, &zero, 0), GASP_OK);
    assert_int_equal(gasp_engine_run(e, NULL), GASP_OK);
    double *ref = dijkstra(g, 7);
    const sp_vertex *vd = gasp_graph_vertex_data(g);
    for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++)
      assert_true(vd[v].dist == ref[v]);
    free(ref);
    gasp_engine_free(&e);
  }
  gasp_graph_free(&g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_combined_messages),
      cmocka_unit_test(test_sssp_push),
      cmocka_unit_test(test_sssp_push_pull),
      cmocka_unit_test(test_bfs_directions),
      cmocka_unit_test(test_pull_skips_final),
      cmocka_unit_test(test_cc_push_pull),
      cmocka_unit_test(test_signal_nbrs),
      cmocka_unit_test(test_combiners),
      cmocka_unit_test(test_refused_programs),
      cmocka_unit_test(test_signal_msg_before_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
