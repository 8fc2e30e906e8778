/*
 * lib_cc.c -- gasp_cc (gasp_toolkits.h): weakly connected components by
 * minimum-label
 * propagation as a vertex program (the GraphLab connected-components
 * toolkit; label propagation as in Shiloach and Vishkin 1982 without the
 * hooking, and Kang, Tsourakakis, Faloutsos, "PEGASUS", ICDM 2009).
 *
 * Edges are taken as undirected: the gather reads in- and out-neighbours.
 * Every vertex starts with its own local id as label and repeatedly takes
 * the smallest label among itself and its neighbours; at the fixed point
 * every vertex holds the smallest local id of its component, which (local
 * ids ascend with original ids) is the vertex with the smallest original
 * id; on a reordered graph the components are renamed after the run by
 * their smallest original id.  Output: "id<TAB>component" with the component named by that
 * original id (in a bipartite graph, the id on that vertex's side).
 *
 * The label is the vertex data, so the bulk gather is one tight
 * min-loop over the neighbours' labels.  The program gives the engine
 * both ways to move a label (push_pull): a vertex whose label dropped
 * sends it as a message (combined by minimum) to the neighbours with a
 * larger label; the sync engine chooses per superstep between that push
 * and a pull (every vertex gathers), Beamer-style, by the edges each
 * would read (gasp.h: push_pull).  A superstep that changes no label ends
 * the run: nothing is left to push.
 *
 * --algorithm afforest (the default with the sync engine): Afforest
 * (Sutton, Ben-Nun, Barak, "Optimizing Parallel Graph Connectivity
 * Computation via Subgraph Sampling", IPDPS 2018) as two supersteps of a
 * vertex program over a lock-free union-find the program keeps: superstep
 * 1 links each vertex with its first two neighbours (gather) and then
 * compresses every vertex to its root (apply); between the supersteps the
 * driver samples 1024 vertices for the most frequent component; superstep
 * 2 links the remaining edges of the vertices outside it, and compresses.
 * Links always point the larger root at the smaller, so every root is the
 * smallest local id of its component, as with label propagation.
 * --algorithm labelprop is the propagation above.
 *
 * With --engine async the array is read and written with relaxed atomics;
 * any consistency model is enough (labels only decrease and only the
 * centre writes its own label, so a stale read only costs an extra
 * signal); the priority scheduler runs smaller labels first.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-thread count of label changes, padded to a cache line; written
 * only by its thread, read by the driver (relaxed atomics). */
typedef struct cc_count {
  uint64_t n;
  char pad[56];
} cc_count;

typedef struct cc {
  uint8_t *changed; /* by vertex: the last update lowered its label */
  gasp_vid nv;
  cc_count *count; /* per thread */
  int threads;
  uint64_t reported; /* total at the last iteration */
  gasp_engine *e;    /* distributed: reductions */
  gasp_dist *dist;   /* distributed: labels are global vertex indices */
  int stale;         /* bounded staleness: no reductions */
  /* the caller's per-iteration callback, behind ours */
  int (*user_iter)(void *user, const gasp_iter_info *info);
  void *user_iter_arg;
} cc;

static inline gasp_vid load_label(const gasp_vid *label, gasp_vid u) {
  return __atomic_load_n(&label[u], __ATOMIC_RELAXED);
}

/* The smallest label over the neighbours (and the accumulator: the
 * vertex's message, or its own label at first).  Under the sync engine
 * no label changes while gathers run; async updates read with relaxed
 * atomics (a stale label only costs a later message). */
static void cc_gather(const gasp_ctx *ctx, const void *v, const gasp_nbrs *nb,
                      void *acc) {
  (void)ctx;
  (void)v;
  const gasp_vid *label = nb->vertex_data;
  gasp_vid m0 = *(gasp_vid *)acc, m1 = m0;
  const gasp_vid *a = nb->in;
  uint64_t i = 0, n = nb->n_in;
  for (; i + 1 < n; i += 2) {
    gasp_vid x = load_label(label, a[i]), y = load_label(label, a[i + 1]);
    m0 = x < m0 ? x : m0;
    m1 = y < m1 ? y : m1;
  }
  if (i < n && load_label(label, a[i]) < m0) m0 = load_label(label, a[i]);
  a = nb->out;
  n = nb->n_out;
  for (i = 0; i + 1 < n; i += 2) {
    gasp_vid x = load_label(label, a[i]), y = load_label(label, a[i + 1]);
    m0 = x < m0 ? x : m0;
    m1 = y < m1 ? y : m1;
  }
  if (i < n && load_label(label, a[i]) < m0) m0 = load_label(label, a[i]);
  *(gasp_vid *)acc = m0 < m1 ? m0 : m1;
}

/* Labels start as vertex indices, the same on every rank. */
static void cc_init(gasp_ctx *ctx, void *vd) {
  const cc *p = gasp_ctx_user(ctx);
  gasp_vid v = gasp_ctx_vertex(ctx);
  *(gasp_vid *)vd = p->dist ? gasp_dist_global_id(p->dist, v) : v;
}

/* A vertex's first gather starts from its own label. */
static void cc_acc_init(const gasp_ctx *ctx, void *acc) {
  const gasp_graph *g = gasp_ctx_graph(ctx);
  const gasp_vid *label = gasp_graph_vertex_data((gasp_graph *)g);
  *(gasp_vid *)acc = load_label(label, gasp_ctx_vertex(ctx));
}

static void cc_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  cc *p = gasp_ctx_user(ctx);
  gasp_vid *label = vd, m = *(const gasp_vid *)acc;
  gasp_vid self = gasp_ctx_vertex(ctx);
  p->changed[self] = m < *label;
  if (!p->changed[self]) return;
  __atomic_store_n(label, m, __ATOMIC_RELAXED);
  cc_count *c = &p->count[gasp_ctx_thread(ctx)];
  __atomic_store_n(&c->n, __atomic_load_n(&c->n, __ATOMIC_RELAXED) + 1,
                   __ATOMIC_RELAXED);
}

static gasp_dir cc_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  (void)vd;
  const cc *p = gasp_ctx_user(ctx);
  return p->changed[gasp_ctx_vertex(ctx)] ? GASP_DIR_ALL : GASP_DIR_NONE;
}

/* Push: the new label to every neighbour it improves (async: smaller
 * labels first under the priority scheduler). */
static void cc_scatter(gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb) {
  const cc *p = gasp_ctx_user(ctx);
  const gasp_vid *label = nb->vertex_data;
  gasp_vid m = load_label(vd, 0);
  double prio = (double)(p->nv - m);
  for (uint64_t i = 0; i < nb->n_in; i++)
    if (load_label(label, nb->in[i]) > m)
      gasp_signal_msg_priority(ctx, nb->in[i], &m, prio);
  for (uint64_t i = 0; i < nb->n_out; i++)
    if (load_label(label, nb->out[i]) > m)
      gasp_signal_msg_priority(ctx, nb->out[i], &m, prio);
}

/* The caller's per-iteration callback sees, as the residual, the labels
 * changed since the previous iteration (of every rank: a collective, which
 * every rank makes once per superstep, except with bounded staleness). */
static int cc_iteration(void *user, const gasp_iter_info *info) {
  cc *p = user;
  uint64_t total = 0;
  for (int t = 0; t < p->threads; t++)
    total += __atomic_load_n(&p->count[t].n, __ATOMIC_RELAXED);
  if (p->dist && !p->stale) {
    double v = (double)total;
    if (gasp_engine_allreduce(p->e, &v, 1, GASP_REDUCE_SUM) == GASP_OK)
      total = (uint64_t)v;
  }
  gasp_iter_info mine = *info;
  mine.residual = (double)(total - p->reported);
  p->reported = total;
  return p->user_iter ? p->user_iter(p->user_iter_arg, &mine) : 0;
}

/* ---- Afforest --------------------------------------------------------- */

typedef struct af {
  gasp_vid *comp;
  gasp_vid nv;
  int phase;     /* 0: neighbour rounds; 1: the rest */
  gasp_vid skip; /* phase 1: the sampled frequent component */
  uint64_t seed;
  int (*user_iter)(void *user, const gasp_iter_info *info);
  void *user_iter_arg;
} af;

#define AF_ROUNDS 2

static inline gasp_vid af_load(const gasp_vid *c, gasp_vid u) {
  return __atomic_load_n(&c[u], __ATOMIC_RELAXED);
}

/* Joins the trees of u and v, pointing the larger root at the smaller. */
static void af_link(gasp_vid *comp, gasp_vid u, gasp_vid v) {
  gasp_vid p1 = af_load(comp, u), p2 = af_load(comp, v);
  while (p1 != p2) {
    gasp_vid high = p1 > p2 ? p1 : p2, low = p1 + p2 - high;
    gasp_vid ph = af_load(comp, high);
    if (ph == low) break;
    if (ph == high) {
      gasp_vid expect = high;
      if (__atomic_compare_exchange_n(&comp[high], &expect, low, 0,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        break;
    }
    p1 = af_load(comp, af_load(comp, high));
    p2 = af_load(comp, low);
  }
}

static gasp_vid af_find(const gasp_vid *comp, gasp_vid u) {
  gasp_vid c = af_load(comp, u);
  while (c != af_load(comp, c))
    c = af_load(comp, c);
  return c;
}

/* Links v with neighbours first .. last-1 of its out-then-in list. */
static void af_link_range(gasp_vid *comp, gasp_vid v, const gasp_nbrs *nb,
                          uint64_t first, uint64_t last) {
  for (uint64_t k = first; k < last; k++) {
    gasp_vid u = k < nb->n_out ? nb->out[k] : nb->in[k - nb->n_out];
    af_link(comp, v, u);
  }
}

static void af_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb,
                      void *acc) {
  af *p = gasp_ctx_user(ctx);
  gasp_vid v = gasp_ctx_vertex(ctx);
  uint64_t n = nb->n_out + nb->n_in;
  uint64_t r = n < AF_ROUNDS ? n : AF_ROUNDS;
  if (p->phase == 0)
    af_link_range(p->comp, v, nb, 0, r);
  else if (af_find(p->comp, v) != p->skip)
    af_link_range(p->comp, v, nb, r, n);
}

/* Compress: point v straight at its root. */
static void af_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  af *p = gasp_ctx_user(ctx);
  gasp_vid v = gasp_ctx_vertex(ctx);
  __atomic_store_n(&p->comp[v], af_find(p->comp, v), __ATOMIC_RELAXED);
}

static int cmp_vid(const void *a, const void *b) {
  gasp_vid x = *(const gasp_vid *)a, y = *(const gasp_vid *)b;
  return (x > y) - (x < y);
}

/* Between the supersteps: the most frequent of 1024 sampled roots (a
 * fixed seed, so runs repeat); the caller's callback first. */
static int af_between(void *user, const gasp_iter_info *info) {
  af *p = user;
  if (p->user_iter && p->user_iter(p->user_iter_arg, info)) return 1;
  if (p->phase == 1 || p->nv == 0) return 1;
  enum { SAMPLES = 1024 };
  gasp_vid smp[SAMPLES];
  uint64_t x = p->seed;
  for (int i = 0; i < SAMPLES; i++) {
    x += 0x9E3779B97F4A7C15ull; /* splitmix64 */
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    smp[i] = af_load(p->comp, (gasp_vid)(z % p->nv));
  }
  qsort(smp, SAMPLES, sizeof *smp, cmp_vid);
  gasp_vid best = smp[0];
  int run = 1, best_run = 1;
  for (int i = 1; i < SAMPLES; i++) {
    run = smp[i] == smp[i - 1] ? run + 1 : 1;
    if (run > best_run) {
      best_run = run;
      best = smp[i];
    }
  }
  p->skip = best;
  p->phase = 1;
  return 0;
}

/* ---- the call ---------------------------------------------------------- */

void gasp_cc_opts_init(gasp_cc_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->algorithm = GASP_CC_AUTO;
  o->seed = 1;
}

/* Afforest: two supersteps, every vertex active, over the union-find in
 * component[] itself. */
static int run_afforest(gasp_graph *g, const gasp_cc_opts *o, gasp_vid *comp,
                        gasp_run_stats *st, gasp_error *err) {
  gasp_vid nv = gasp_graph_num_vertices(g);
  af a = {comp,
          nv,
          0,
          0,
          o->seed,
          o->engine.on_iteration,
          o->engine.on_iteration_user};
  for (gasp_vid v = 0; v < nv; v++)
    comp[v] = v;
  gasp_program prog = {0};
  prog.acc_size = sizeof(gasp_vid);
  prog.gather_dir = GASP_DIR_ALL;
  prog.gather_vertex = af_gather;
  prog.apply = af_apply;
  prog.user = &a;
  gasp_engine_opts eo = o->engine;
  eo.always_active = 1;
  eo.max_iter = 2;
  eo.on_iteration = af_between;
  eo.on_iteration_user = &a;
  gasp_engine *e = NULL;
  int rc = gasp_engine_new(&e, g, &prog, &eo, err);
  /* checkpoints: the union-find and where the rounds are */
  char key[64];
  snprintf(key, sizeof key, "cc afforest seed=%llu",
           (unsigned long long)a.seed);
  if (!rc && (eo.checkpoint_dir || eo.resume_dir) &&
      ((rc = gasp_engine_set_checkpoint_key(e, key)) ||
       (rc = gasp_engine_checkpoint_state(e, "cc.comp", comp,
                                          (size_t)nv * sizeof *comp)) ||
       (rc = gasp_engine_checkpoint_state(e, "cc.phase", &a.phase,
                                          sizeof a.phase)) ||
       (rc = gasp_engine_checkpoint_state(e, "cc.skip", &a.skip,
                                          sizeof a.skip))))
    tk_lib_fail(err, rc, "cc: out of memory");
  else if (!rc)
    rc = gasp_engine_run(e, st);
  if (rc && e && err) *err = *gasp_engine_last_error(e);
  /* both supersteps ran: the labels are final */
  if (!rc && (st->iterations == 2 || nv == 0)) st->reason = GASP_STOP_CONVERGED;
  gasp_engine_free(&e);
  return rc;
}

static int cc_run(gasp_graph *g, const gasp_cc_opts *o, gasp_vid *component,
                  gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (!g || !o || !component)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  int async = o->engine.engine == GASP_ENGINE_ASYNC;
  gasp_dist *dist = o->engine.dist;
  gasp_cc_algorithm alg = o->algorithm;
  if (alg == GASP_CC_AUTO)
    alg = !async && !dist ? GASP_CC_AFFOREST : GASP_CC_LABELPROP;
  if (alg == GASP_CC_AFFOREST && (async || dist))
    return tk_lib_fail(
        err, GASP_ENOTSUP,
        dist ? "Afforest runs in one process (across ranks: labelprop)"
             : "Afforest runs on the sync engine");
  if (alg == GASP_CC_AFFOREST) return run_afforest(g, o, component, st, err);

  gasp_vid nv = gasp_graph_num_vertices(g);
  cc p;
  memset(&p, 0, sizeof p);
  p.nv = dist ? (gasp_vid)gasp_dist_global_vertices(dist) : nv;
  p.dist = dist;
  /* With bounded staleness the ranks are at different supersteps: no
   * global count; the engine pushes and its quiescence ends the run. */
  p.stale = dist && o->engine.staleness > 0 && !async;
  p.user_iter = o->engine.on_iteration;
  p.user_iter_arg = o->engine.on_iteration_user;
  p.changed = gasp__calloc(nv ? (size_t)nv : 1, 1);
  gasp_program prog = {0};
  prog.vertex_size = sizeof(gasp_vid);
  prog.acc_size = prog.msg_size = sizeof(gasp_vid);
  prog.combine = gasp_combine_min_u32;
  prog.init_vertex = cc_init;
  prog.acc_init = cc_acc_init;
  prog.gather_dir = GASP_DIR_ALL;
  prog.gather_vertex = cc_gather;
  prog.apply = cc_apply;
  prog.scatter_edges = cc_scatter_dir;
  prog.scatter_vertex = cc_scatter;
  prog.push_pull = 1;
  prog.user = &p;
  gasp_engine_opts eo = o->engine;
  eo.on_iteration = cc_iteration;
  eo.on_iteration_user = &p;
  gasp_engine *e = NULL;
  int rc = p.changed ? gasp_engine_new(&e, g, &prog, &eo, err)
                     : tk_lib_fail(err, GASP_ENOMEM, "out of memory");
  if (!rc) {
    p.e = e;
    p.threads = gasp_engine_threads(e);
    p.count = gasp__calloc((size_t)p.threads, sizeof *p.count);
    if (!p.count) rc = tk_lib_fail(err, GASP_ENOMEM, "out of memory");
  }
  if (!rc && (eo.checkpoint_dir || eo.resume_dir) &&
      ((rc = gasp_engine_set_checkpoint_key(e, "cc labelprop")) ||
       (rc = gasp_engine_checkpoint_state(e, "cc.changed", p.changed,
                                          nv ? (size_t)nv : 1))))
    tk_lib_fail(err, rc, "cc: out of memory");
  if (!rc) {
    const gasp_vid *label = gasp_graph_vertex_data(g);
    for (gasp_vid v = 0; v < nv; v++)
      gasp_engine_signal(e, v, (double)(p.nv - label[v]));
    rc = gasp_engine_run(e, st);
    if (rc && err) *err = *gasp_engine_last_error(e);
    if (!rc) memcpy(component, label, (size_t)nv * sizeof *component);
  }
  gasp_engine_free(&e);
  free(p.changed);
  free(p.count);
  return rc;
}

/* A reordered graph (gasp_graph_reorder): the same components, named by
 * the member with the smallest original id -- the first one met in id
 * order -- instead of the smallest local id. */
static int name_by_id(const gasp_graph *g, gasp_vid *component,
                      gasp_error *err) {
  const gasp_vid *order = gasp_graph_id_order(g);
  if (!order) return GASP_OK;
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_vid *name = gasp__malloc_array(n ? (size_t)n : 1, sizeof *name);
  if (!name) return tk_lib_fail(err, GASP_ENOMEM, "cc: out of memory");
  for (gasp_vid v = 0; v < n; v++)
    name[v] = GASP_VID_NONE;
  for (gasp_vid i = 0; i < n; i++) {
    gasp_vid v = order[i];
    if (name[component[v]] == GASP_VID_NONE) name[component[v]] = v;
  }
  for (gasp_vid v = 0; v < n; v++)
    component[v] = name[component[v]];
  free(name);
  return GASP_OK;
}

int gasp_cc(gasp_graph *g, const gasp_cc_opts *o, gasp_vid *component,
            gasp_run_stats *stats, gasp_error *err) {
  int rc = cc_run(g, o, component, stats, err);
  return rc ? rc : name_by_id(g, component, err);
}
