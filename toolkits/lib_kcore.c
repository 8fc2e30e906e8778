/*
 * lib_kcore.c -- gasp_kcore (gasp_toolkits.h): the core number of every
 * vertex (the largest k such that the vertex belongs to a subgraph of
 * minimum degree k; Seidman 1983) by local updates, after Montresor, De
 * Pellegrini and Miorandi, "Distributed k-core decomposition", IEEE TPDS
 * 24(2), 2013.
 *
 * Every vertex keeps an upper bound of its core number, "infinity" at
 * first.  An update gathers its neighbours' bounds and lowers its own to
 * the largest k <= its bound such that at least k neighbours have bounds
 * >= k (an h-index; the first update yields the degree).  A vertex whose
 * bound dropped from b to b' signals the neighbours whose bounds k lie in
 * (b', b]: their count of neighbours with bounds >= k fell; for the others
 * it did not.  That test needs a neighbour's update not to overlap ours
 * (sync supersteps, or async edge and full consistency); under async
 * vertex consistency every neighbour with k > b' is signalled.  Bounds
 * only fall, and the fixed point is the core numbers for any order of
 * updates, so the sync engine (supersteps over the signalled frontier)
 * and the async engine (any scheduler and consistency model) agree.
 *
 * The graph is taken as undirected with self loops and repeated edges
 * ignored: the sorted in- and out-lists are merged into distinct
 * neighbours.  Bounds are read and written with relaxed atomics so the
 * vertex consistency model is safe too.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <stdlib.h>
#include <string.h>

#define KC_INF UINT32_MAX

typedef struct kc_vertex {
  uint32_t core; /* upper bound; the core number once converged */
  uint32_t prev; /* the bound before the last update lowered it, else 0 */
} kc_vertex;

typedef struct kc {
  uint32_t **scratch; /* per thread: count of bounds, cap + 1 entries */
  int overlap;        /* neighbours may update at once (async, vertex) */
} kc;

static uint32_t load_core(const void *vd) {
  return __atomic_load_n(&((const kc_vertex *)vd)->core, __ATOMIC_RELAXED);
}

static void kc_init(gasp_ctx *ctx, void *vd) {
  (void)ctx;
  kc_vertex *v = vd;
  v->core = KC_INF;
  v->prev = 0;
}

/* The new bound: the h-index of the distinct neighbours' bounds, capped
 * by the current one. */
static void kc_gather(const gasp_ctx *ctx, const void *vp, const gasp_nbrs *nb,
                      void *acc) {
  const kc *p = gasp_ctx_user(ctx);
  uint32_t *cnt = p->scratch[gasp_ctx_thread(ctx)];
  uint64_t na = nb->n_in, nbn = nb->n_out, i = 0, j = 0;
  uint32_t cap = load_core(vp);
  if ((uint64_t)cap > na + nbn) cap = (uint32_t)(na + nbn);
  memset(cnt, 0, ((size_t)cap + 1) * sizeof *cnt);
  const gasp_vid *a = nb->in, *b = nb->out;
  const char *vdata = nb->vertex_data;
  size_t vs = nb->vertex_size;
  gasp_vid self = gasp_ctx_vertex(ctx), last = GASP_VID_NONE;
  while (i < na || j < nbn) {
    gasp_vid x = (j >= nbn || (i < na && a[i] <= b[j])) ? a[i++] : b[j++];
    if (x == last || x == self) continue;
    last = x;
    uint32_t c = load_core(vdata + (size_t)x * vs);
    cnt[c < cap ? c : cap]++;
  }
  uint32_t k = cap;
  uint64_t atleast = 0;
  for (; k > 0; k--) {
    atleast += cnt[k];
    if (atleast >= k) break;
  }
  *(uint32_t *)acc = k;
}

static void kc_apply(gasp_ctx *ctx, void *vp, const void *acc) {
  (void)ctx;
  kc_vertex *v = vp;
  uint32_t k = *(const uint32_t *)acc;
  v->prev = k < v->core ? v->core : 0;
  if (v->prev) __atomic_store_n(&v->core, k, __ATOMIC_RELAXED);
}

static gasp_dir kc_scatter_dir(const gasp_ctx *ctx, const void *vp) {
  (void)ctx;
  return ((const kc_vertex *)vp)->prev ? GASP_DIR_ALL : GASP_DIR_NONE;
}

static void kc_scatter(gasp_ctx *ctx, const void *vp, const gasp_edge *e) {
  const kc *p = gasp_ctx_user(ctx);
  const kc_vertex *v = vp;
  uint32_t k = load_core(e->nbr_data);
  if (k > v->core && (k <= v->prev || p->overlap)) gasp_signal(ctx, e->nbr);
}

/* ---- the call ---------------------------------------------------------- */

void gasp_kcore_opts_init(gasp_kcore_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
}

/* The largest in- plus out-degree: room for the distinct neighbours. */
static uint64_t max_degree(const gasp_graph *g) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint64_t maxdeg = 0;
  for (gasp_vid v = 0; v < n; v++) {
    uint64_t d = gasp_graph_in_degree(g, v) + gasp_graph_out_degree(g, v);
    if (d > maxdeg) maxdeg = d;
  }
  return maxdeg;
}

/* Per-thread counts of the neighbours' bounds, up to maxdeg. */
static int alloc_scratch(kc *p, uint64_t maxdeg, int threads) {
  p->scratch = gasp__calloc((size_t)threads, sizeof *p->scratch);
  if (!p->scratch) return GASP_ENOMEM;
  for (int t = 0; t < threads; t++)
    if (!(p->scratch[t] =
              gasp__malloc(((size_t)maxdeg + 1) * sizeof(uint32_t))))
      return GASP_ENOMEM;
  return GASP_OK;
}

int gasp_kcore(gasp_graph *g, const gasp_kcore_opts *o, uint32_t *core,
               gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (!g || !o || !core)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  kc p = {NULL, 0};
  /* Across ranks a scatter reads a ghost's bound as of the last barrier,
   * which may be above its new value: signal as for overlapping updates
   * (whenever the neighbour's bound exceeds the new one). */
  p.overlap = o->engine.dist != NULL ||
              (o->engine.engine == GASP_ENGINE_ASYNC &&
               o->engine.consistency == GASP_CONSISTENCY_VERTEX);
  uint64_t maxdeg = max_degree(g);
  gasp_program prog = {0};
  prog.vertex_size = sizeof(kc_vertex);
  prog.acc_size = sizeof(uint32_t);
  prog.init_vertex = kc_init;
  prog.gather_dir = GASP_DIR_ALL;
  prog.gather_vertex = kc_gather;
  prog.apply = kc_apply;
  prog.scatter_edges = kc_scatter_dir;
  prog.scatter = kc_scatter;
  prog.user = &p;
  gasp_engine *e = NULL;
  int rc = gasp_engine_new(&e, g, &prog, &o->engine, err);
  if (rc) return rc;
  int threads = gasp_engine_threads(e);
  if ((o->engine.checkpoint_dir || o->engine.resume_dir) &&
      (rc = gasp_engine_set_checkpoint_key(e, "kcore"))) {
    tk_lib_fail(err, rc, "kcore: out of memory");
    goto out;
  }
  if ((rc = alloc_scratch(&p, maxdeg, threads))) {
    tk_lib_fail(err, rc, "out of memory");
    goto out;
  }
  gasp_engine_signal_all(e, 0.0);
  rc = gasp_engine_run(e, st);
  if (rc && err) *err = *gasp_engine_last_error(e);
  if (!rc) {
    const kc_vertex *vd = gasp_graph_vertex_data(g);
    gasp_vid n = gasp_graph_num_vertices(g);
    for (gasp_vid v = 0; v < n; v++)
      core[v] = vd[v].core;
  }
out:
  gasp_engine_free(&e);
  if (p.scratch)
    for (int t = 0; t < threads; t++)
      free(p.scratch[t]);
  free(p.scratch);
  return rc;
}
