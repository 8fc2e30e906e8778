/*
 * lib_labelprop.c -- gasp_labelprop (gasp_toolkits.h): community
 * detection by label propagation (Raghavan, Albert, Kumara, "Near linear
 * time algorithm to detect community structures in large-scale networks",
 * Phys. Rev. E 76, 036106, 2007), made deterministic.
 *
 * Every vertex starts with its own vertex index as label (the local id on
 * one process, the global index across ranks).  An update of v scores
 * each label by the edges that join v to a vertex holding it:
 *
 *   - edges are undirected: every in-edge and every out-edge of v counts,
 *     so a pair of reciprocal edges u -> v, v -> u counts twice (a
 *     symmetric load therefore doubles every score alike);
 *   - self loops do not count;
 *   - an edge counts 1, or its weight when the graph is weighted (the sum
 *     is taken in adjacency order: in-edges by ascending source, then
 *     out-edges by ascending target, by global index across ranks;
 *     weights should be positive).
 *
 * Let M be the largest score and T the labels scoring M.  v keeps its
 * label if that label is in T, and otherwise takes the smallest label in
 * T.  A vertex without counted edges keeps its label.
 *
 * Sync engine: synchronous rounds, every vertex updated from the previous
 * round's labels, until a round changes no label or after max_iter
 * rounds.  The result is fully determined by the graph, on any number of
 * threads or ranks.  Only vertices with a neighbour that changed in the
 * previous round are recomputed (the others would reproduce their label:
 * a new label is always in T, so it is kept while the neighbours stand
 * still), which gives the same labels as recomputing all.  Synchronous
 * updates may oscillate with period 2 (two vertices joined by one edge
 * swap labels forever, as do the centre and leaves of a star); the run
 * then ends at max_iter, not converged.
 *
 * Async engine: Raghavan et al.'s asynchronous updates, each vertex
 * seeing its neighbours' latest labels.  A label changes only when
 * another scores strictly more, so (under edge or full consistency, with
 * positive weights) the total weight of edges inside communities grows
 * with every change and the run ends.  With edge consistency on the
 * chromatic schedule (the engine's default locking for edge) the colour
 * classes of a greedy colouring update in turn, each class at once from
 * the latest labels: the semi-synchronous propagation of Cordasco and
 * Gargano ("Community detection via semi-synchronous label propagation
 * algorithms", 2010), deterministic for any number of threads.  Its
 * labels depend on the colouring, which across ranks is another one (a
 * Jones-Plassmann colouring every rank agrees on), so they may differ
 * from one process's.  With locks the order depends on timing
 * (deterministic on one thread only).
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <stdlib.h>
#include <string.h>

/* Per-thread scratch: an open-addressing table label -> score, and a
 * change counter (written only by its thread, read by the driver). */
typedef struct lp_thread {
  gasp_vid *key;
  double *score;
  uint64_t changes;
  char pad[40];
} lp_thread;

typedef struct lp {
  uint8_t *changed;     /* by vertex: the last update changed its label */
  gasp_dist *dist;      /* distributed: labels are global vertex indices */
  const double *weight; /* NULL: every edge counts 1 */
  /* distributed and weighted: the global index of each local vertex, to
   * add weights in the order one process adds them; else NULL */
  gasp_vid *global;
  gasp_vid nowned;
  lp_thread *th;
  int threads;
  unsigned bits_max; /* table size 2^bits_max fits the largest degree */
  uint64_t reported; /* changes at the last iteration */
  gasp_engine *e;    /* distributed: reductions */
  /* the caller's per-iteration callback, behind ours */
  int (*user_iter)(void *user, const gasp_iter_info *info);
  void *user_iter_arg;
} lp;

static inline gasp_vid load_label(const gasp_vid *label, gasp_vid u) {
  return __atomic_load_n(&label[u], __ATOMIC_RELAXED);
}

/* Labels start as vertex indices, the same on every rank. */
static void lp_init(gasp_ctx *ctx, void *vd) {
  const lp *p = gasp_ctx_user(ctx);
  gasp_vid v = gasp_ctx_vertex(ctx);
  *(gasp_vid *)vd = p->dist ? gasp_dist_global_id(p->dist, v) : v;
}

static inline void add_score(gasp_vid *key, double *score, unsigned bits,
                             gasp_vid l, double w) {
  uint32_t mask = (1u << bits) - 1;
  uint32_t h = (uint32_t)(l * 2654435761u) >> (32 - bits);
  while (key[h] != l) {
    if (key[h] == GASP_VID_NONE) {
      key[h] = l;
      score[h] = 0;
      break;
    }
    h = (h + 1) & mask;
  }
  score[h] += w;
}

/* The weight of the i-th edge of a list: in-edges through their slots,
 * out-edges from out_slot0 on (in_slot NULL). */
static inline double edge_weight(const double *w, const uint32_t *in_slot,
                                 gasp_eid out_slot0, uint64_t i) {
  return in_slot ? w[in_slot[i]] : w[out_slot0 + i];
}

/* Adds one weighted list of a rank's local graph in ascending global
 * index, as one process adds it: the list is two ascending runs, the
 * owned neighbours (local ids below nowned) and then the ghosts, merged
 * here.  Floating-point sums depend on the order, and a tie that one
 * process sees must be the same tie across ranks. */
static void add_list_global(const lp *p, gasp_vid *key, double *score,
                            unsigned bits, const gasp_vid *label, gasp_vid self,
                            const gasp_vid *nbr, uint64_t n,
                            const uint32_t *in_slot, gasp_eid out_slot0) {
  uint64_t lo = 0, hi = n; /* first ghost */
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (nbr[mid] < p->nowned)
      lo = mid + 1;
    else
      hi = mid;
  }
  uint64_t i = 0, j = lo;
  while (i < lo || j < n) {
    uint64_t k =
        j == n || (i < lo && p->global[nbr[i]] < p->global[nbr[j]]) ? i++ : j++;
    gasp_vid u = nbr[k];
    if (u != self)
      add_score(key, score, bits, load_label(label, u),
                edge_weight(p->weight, in_slot, out_slot0, k));
  }
}

static void lp_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb,
                      void *acc) {
  lp *p = gasp_ctx_user(ctx);
  const gasp_vid *label = nb->vertex_data;
  gasp_vid self = gasp_ctx_vertex(ctx);
  gasp_vid own = load_label(vd, 0);
  uint64_t deg = nb->n_in + nb->n_out;
  unsigned bits = 1;
  while (bits < p->bits_max && (1ull << bits) < 2 * deg)
    bits++;
  lp_thread *t = &p->th[gasp_ctx_thread(ctx)];
  gasp_vid *key = t->key;
  double *score = t->score;
  size_t cap = (size_t)1 << bits;
  memset(key, 0xff, cap * sizeof *key);
  const double *w = p->weight;
  if (p->global) {
    add_list_global(p, key, score, bits, label, self, nb->in, nb->n_in,
                    nb->in_slot, 0);
    add_list_global(p, key, score, bits, label, self, nb->out, nb->n_out, NULL,
                    nb->out_slot0);
  } else {
    for (uint64_t i = 0; i < nb->n_in; i++) {
      gasp_vid u = nb->in[i];
      if (u != self)
        add_score(key, score, bits, load_label(label, u),
                  w ? w[nb->in_slot[i]] : 1.0);
    }
    for (uint64_t i = 0; i < nb->n_out; i++) {
      gasp_vid u = nb->out[i];
      if (u != self)
        add_score(key, score, bits, load_label(label, u),
                  w ? w[nb->out_slot0 + i] : 1.0);
    }
  }
  gasp_vid best = own;
  double top = 0;
  int own_top = 0, any = 0;
  for (size_t h = 0; h < cap; h++) {
    gasp_vid l = key[h];
    if (l == GASP_VID_NONE) continue;
    double s = score[h];
    if (!any || s > top) {
      any = 1;
      top = s;
      best = l;
      own_top = l == own;
    } else if (s == top) {
      if (l < best) best = l;
      own_top |= l == own;
    }
  }
  *(gasp_vid *)acc = own_top || !any ? own : best;
}

static void lp_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  lp *p = gasp_ctx_user(ctx);
  gasp_vid self = gasp_ctx_vertex(ctx), l = *(const gasp_vid *)acc;
  p->changed[self] = l != *(const gasp_vid *)vd;
  if (!p->changed[self]) return;
  __atomic_store_n((gasp_vid *)vd, l, __ATOMIC_RELAXED);
  lp_thread *t = &p->th[gasp_ctx_thread(ctx)];
  __atomic_store_n(&t->changes,
                   __atomic_load_n(&t->changes, __ATOMIC_RELAXED) + 1,
                   __ATOMIC_RELAXED);
}

static gasp_dir lp_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  (void)vd;
  const lp *p = gasp_ctx_user(ctx);
  return p->changed[gasp_ctx_vertex(ctx)] ? GASP_DIR_ALL : GASP_DIR_NONE;
}

/* A changed label changes the neighbours' scores: signal them (not the
 * vertex itself: its self loops do not count). */
static void lp_scatter(gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb) {
  (void)vd;
  (void)nb;
  gasp_signal_nbrs(ctx, GASP_DIR_ALL, 0.0);
}

/* The caller's per-iteration callback sees, as the residual, the labels
 * changed since the previous iteration (of every rank: a collective,
 * which every rank makes once per superstep or sweep). */
static int lp_iteration(void *user, const gasp_iter_info *info) {
  lp *p = user;
  uint64_t total = 0;
  for (int t = 0; t < p->threads; t++)
    total += __atomic_load_n(&p->th[t].changes, __ATOMIC_RELAXED);
  if (p->dist) {
    double v = (double)total;
    if (gasp_engine_allreduce(p->e, &v, 1, GASP_REDUCE_SUM) == GASP_OK)
      total = (uint64_t)v;
  }
  gasp_iter_info mine = *info;
  mine.residual = (double)(total - p->reported);
  p->reported = total;
  return p->user_iter(p->user_iter_arg, &mine);
}

/* ---- the call ---------------------------------------------------------- */

void gasp_labelprop_opts_init(gasp_labelprop_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine); /* edge consistency, default locking */
  o->engine.engine = GASP_ENGINE_ASYNC;
  o->engine.max_iter = 100;
}

/* Per-thread score tables sized for the largest degree, and (distributed,
 * weighted) the global index of every local vertex. */
static int lp_alloc(lp *p, const gasp_graph *g) {
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint64_t maxdeg = 0;
  for (gasp_vid v = 0; v < nv; v++) {
    uint64_t d = gasp_graph_in_degree(g, v) + gasp_graph_out_degree(g, v);
    maxdeg = d > maxdeg ? d : maxdeg;
  }
  p->bits_max = 1;
  while (p->bits_max < 31 && (1ull << p->bits_max) < 2 * maxdeg)
    p->bits_max++;
  size_t cap = (size_t)1 << p->bits_max;
  void *th = NULL; /* a cache line each */
  if (gasp__posix_memalign(&th, 64, (size_t)p->threads * sizeof *p->th))
    return GASP_ENOMEM;
  p->th = th;
  memset(p->th, 0, (size_t)p->threads * sizeof *p->th);
  for (int t = 0; t < p->threads; t++) {
    p->th[t].key = gasp__malloc(cap * sizeof *p->th[t].key);
    p->th[t].score = gasp__malloc(cap * sizeof *p->th[t].score);
    if (!p->th[t].key || !p->th[t].score) return GASP_ENOMEM;
  }
  if (p->dist && p->weight) {
    p->global = gasp__malloc((nv ? (size_t)nv : 1) * sizeof *p->global);
    if (!p->global) return GASP_ENOMEM;
    for (gasp_vid v = 0; v < nv; v++)
      p->global[v] = gasp_dist_global_id(p->dist, v);
    p->nowned = gasp_graph_num_owned(g);
  }
  return GASP_OK;
}

static void lp_free(lp *p) {
  if (p->th)
    for (int t = 0; t < p->threads; t++) {
      free(p->th[t].key);
      free(p->th[t].score);
    }
  free(p->th);
  free(p->changed);
  free(p->global);
}

int gasp_labelprop(gasp_graph *g, const gasp_labelprop_opts *o, gasp_vid *label,
                   gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (!g || !o || !label)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  if (o->engine.dist && o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "label propagation's rounds need lock-step supersteps "
                       "(staleness 0)");
  gasp_vid nv = gasp_graph_num_vertices(g);
  lp p;
  memset(&p, 0, sizeof p);
  p.dist = o->engine.dist;
  p.weight = gasp_graph_weights(g);
  p.changed = gasp__calloc(nv ? (size_t)nv : 1, 1);
  gasp_program prog = {0};
  prog.vertex_size = sizeof(gasp_vid);
  prog.acc_size = sizeof(gasp_vid);
  prog.init_vertex = lp_init;
  prog.gather_dir = GASP_DIR_ALL;
  prog.gather_vertex = lp_gather;
  prog.apply = lp_apply;
  prog.scatter_edges = lp_scatter_dir;
  prog.scatter_vertex = lp_scatter;
  prog.user = &p;
  gasp_engine_opts eo = o->engine;
  if (eo.on_iteration) { /* ours reports the labels changed */
    p.user_iter = eo.on_iteration;
    p.user_iter_arg = eo.on_iteration_user;
    eo.on_iteration = lp_iteration;
    eo.on_iteration_user = &p;
  }
  gasp_engine *e = NULL;
  int rc = p.changed ? gasp_engine_new(&e, g, &prog, &eo, err)
                     : tk_lib_fail(err, GASP_ENOMEM, "out of memory");
  if (!rc) {
    p.e = e;
    p.threads = gasp_engine_threads(e);
    if (lp_alloc(&p, g)) rc = tk_lib_fail(err, GASP_ENOMEM, "out of memory");
  }
  /* checkpoints: the labels are the vertex data; which changed last */
  if (!rc && (eo.checkpoint_dir || eo.resume_dir)) {
    char key[64];
    snprintf(key, sizeof key, "labelprop %s weighted=%d",
             eo.engine == GASP_ENGINE_ASYNC ? "chromatic" : "sync",
             p.weight != NULL);
    if ((rc = gasp_engine_set_checkpoint_key(e, key)) ||
        (rc = gasp_engine_checkpoint_state(e, "labelprop.changed", p.changed,
                                           nv ? (size_t)nv : 1)))
      tk_lib_fail(err, rc, "out of memory");
  }
  if (!rc) {
    gasp_engine_signal_all(e, 1.0);
    rc = gasp_engine_run(e, st);
    if (rc && err) *err = *gasp_engine_last_error(e);
  }
  if (!rc) memcpy(label, gasp_graph_vertex_data(g), (size_t)nv * sizeof *label);
  gasp_engine_free(&e);
  lp_free(&p);
  return rc;
}
