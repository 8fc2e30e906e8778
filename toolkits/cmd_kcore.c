/*
 * cmd_kcore.c -- `gasp kcore`: the core number of every vertex (the
 * largest k such that the vertex belongs to a subgraph of minimum degree
 * k; Seidman 1983) by local updates, after Montresor, De Pellegrini and
 * Miorandi, "Distributed k-core decomposition", IEEE TPDS 24(2), 2013.
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
#include "toolkit.h"

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

/* ---- driver --------------------------------------------------------- */

static const char help[] =
    "usage: gasp kcore [options] -i GRAPH\n\n"
    "Core number of every vertex of the graph taken as undirected (self\n"
    "loops and repeated edges ignored), by local h-index updates (Montresor\n"
    "et al. 2013).  Output: 'id<TAB>core'; the summary gives the degeneracy\n"
    "(largest core number).\n\n"
    "options:\n" TK_HELP;

static int fmt_core(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%u", ((const kc_vertex *)user)[v].core);
}

int cmd_kcore(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.dist_ok = 1;      /* across ranks: sync h-index updates */
  o.staleness_ok = 1; /* monotone: any schedule reaches the coreness */
  o.takes &= ~(TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB | TK_TAKES_SEED |
               TK_TAKES_WEIGHTS);
  int rc = tk_parse(argc, argv, &o, NULL, help, NULL, NULL);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  int async = o.eng.engine == GASP_ENGINE_ASYNC;

  gasp_graph *g = NULL;
  gasp_engine *e = NULL;
  kc p = {0};
  p.overlap = async && o.eng.consistency == GASP_CONSISTENCY_VERTEX;
  int threads = 0;
  tk_iter it = {0};
  double load_s = 0;
  kc_vertex *all = NULL; /* distributed: every vertex, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  /* Across ranks a scatter reads a ghost's bound as of the last barrier,
   * which may be above its new value: signal as for overlapping updates
   * (whenever the neighbour's bound exceeds the new one). */
  if (o.eng.dist) p.overlap = 1;
  gasp_vid n = gasp_graph_num_vertices(g);
  uint64_t maxdeg = 0;
  for (gasp_vid v = 0; v < n; v++) {
    uint64_t d = gasp_graph_in_degree(g, v) + gasp_graph_out_degree(g, v);
    if (d > maxdeg) maxdeg = d;
  }
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
  if ((rc = tk_iter_start(&it, &o, "kcore"))) goto out;
  if ((rc = tk_engine_new(&e, g, &prog, &o))) goto out;
  threads = gasp_engine_threads(e);
  p.scratch = calloc((size_t)threads, sizeof *p.scratch);
  int ok = p.scratch != NULL;
  for (int t = 0; ok && t < threads; t++)
    ok = (p.scratch[t] = malloc(((size_t)maxdeg + 1) * sizeof(uint32_t))) !=
         NULL;
  if (!ok) {
    cli_error("kcore: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  gasp_engine_signal_all(e, 0.0);
  gasp_run_stats st;
  if ((rc = tk_run(e, &st))) goto out;
  tk_iter_end(&it);
  const kc_vertex *vd = gasp_graph_vertex_data(g);
  if (o.eng.dist) {
    all = tk_dist_results(&o, e, &st, vd, sizeof *vd, &rc);
    if (rc) goto out;
    vd = all;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  n = gasp_graph_num_vertices(rg);
  uint32_t degeneracy = 0;
  uint64_t in_max = 0;
  for (gasp_vid v = 0; v < n; v++)
    if (vd[v].core > degeneracy) degeneracy = vd[v].core;
  for (gasp_vid v = 0; v < n; v++)
    in_max += vd[v].core == degeneracy;
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_core, (void *)vd))) goto out;
  int converged = st.reason == GASP_STOP_CONVERGED;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "kcore");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "degeneracy", degeneracy);
    cli_json_u64(&j, "max_core_vertices", n ? in_max : 0);
    tk_json_run(&j, &st, async, converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: kcore: degeneracy %u (%llu vertices in the %u-core); %s "
            "after %llu iterations (%llu updates) in %.3f s\n",
            degeneracy, (unsigned long long)(n ? in_max : 0), degeneracy,
            converged ? "converged" : "stopped",
            (unsigned long long)st.iterations, (unsigned long long)st.updates,
            st.seconds);
  }
out:
  tk_iter_end(&it);
  gasp_engine_free(&e);
  tk_graph_free(&o, &g);
  free(all);
  if (p.scratch)
    for (int t = 0; t < threads; t++)
      free(p.scratch[t]);
  free(p.scratch);
  return rc;
}
