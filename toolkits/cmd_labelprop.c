/*
 * cmd_labelprop.c -- `gasp labelprop`: community detection by label
 * propagation (Raghavan, Albert, Kumara, "Near linear time algorithm to
 * detect community structures in large-scale networks", Phys. Rev. E 76,
 * 036106, 2007), made deterministic.
 *
 * Every vertex starts with its own local id as label.  An update of v
 * scores each label by the edges that join v to a vertex holding it:
 *
 *   - edges are undirected: every in-edge and every out-edge of v counts,
 *     so a pair of reciprocal edges u -> v, v -> u counts twice (a
 *     --symmetric load therefore doubles every score alike);
 *   - self loops do not count;
 *   - an edge counts 1, or its weight when the graph is weighted (the sum
 *     is taken in adjacency order: in-edges by ascending source, then
 *     out-edges by ascending target; weights should be positive).
 *
 * Let M be the largest score and T the labels scoring M.  v keeps its
 * label if that label is in T, and otherwise takes the smallest label in
 * T.  A vertex without counted edges keeps its label.
 *
 * Default engine: async with edge consistency on the chromatic schedule
 * (below), which converges and is deterministic for any thread count.
 *
 * --engine sync: synchronous rounds, every vertex updated from
 * the previous round's labels, until a round changes no label or after
 * --max-iter rounds (100).  The result is fully determined by the graph.
 * Only vertices with a neighbour that changed in the previous round are
 * recomputed (the others would reproduce their label: a new label is
 * always in T, so it is kept while the neighbours stand still), which
 * gives the same labels as recomputing all.  Synchronous updates may
 * oscillate with period 2 (two vertices joined by one edge swap labels
 * forever, as do the centre and leaves of a star); the run then ends at
 * --max-iter with "converged": false.
 *
 * --engine async: Raghavan et al.'s asynchronous updates, each vertex
 * seeing its neighbours' latest labels.  A label changes only when
 * another scores strictly more, so (under edge or full consistency, with
 * positive weights) the total weight of edges inside communities grows
 * with every change and the run ends.  With edge consistency on the
 * chromatic schedule (the default locking for edge) the colour classes of
 * a greedy colouring update in turn, each class at once from the latest
 * labels: the semi-synchronous propagation of Cordasco and Gargano
 * ("Community detection via semi-synchronous label propagation
 * algorithms", 2010), deterministic for any number of threads.  With
 * locks the order depends on timing (deterministic on one thread only).
 *
 * Community = the original id of the vertex whose label it carries.
 */
#include "toolkit.h"

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
  lp_thread *th;
  int threads, async;
  unsigned bits_max; /* table size 2^bits_max fits the largest degree */
  uint64_t reported;
  gasp_engine *e;  /* distributed: reductions */
  int distributed; /* every rank takes part in the reductions */
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

static double lp_residual(void *user) {
  lp *p = user;
  uint64_t total = 0;
  for (int t = 0; t < p->threads; t++)
    total += __atomic_load_n(&p->th[t].changes, __ATOMIC_RELAXED);
  if (p->distributed) { /* every rank's changes (collective) */
    double v = (double)total;
    if (gasp_engine_allreduce(p->e, &v, 1, GASP_REDUCE_SUM) == GASP_OK)
      total = (uint64_t)v;
  }
  uint64_t d = total - p->reported;
  p->reported = total;
  return (double)d;
}

/* ---- driver --------------------------------------------------------- */

static const char help[] =
    "usage: gasp labelprop [options] -i GRAPH\n\n"
    "Communities by label propagation (Raghavan, Albert, Kumara 2007) with a\n"
    "deterministic rule.  Edges are undirected (each in- and out-edge counts;\n"
    "self loops do not); an edge counts 1, or its weight in a weighted graph.\n"
    "Each vertex takes the label with the largest count among its neighbours;\n"
    "on a tie it keeps its own label if that is among the tied, else takes\n"
    "the smallest.  Default: async, edge consistency, chromatic schedule\n"
    "(converges; the same labels for any thread count).  --engine sync:\n"
    "synchronous rounds until no\n"
    "label changes or --max-iter rounds (100); they may oscillate (reported\n"
    "as not converged).  --engine async: asynchronous updates, which end;\n"
    "with edge consistency on the chromatic schedule (the default) colour\n"
    "classes update in turn, deterministic for any number of threads.\n"
    "Output: 'id<TAB>community', the community named by the original id of\n"
    "the vertex whose label it carries.\n\n"
    "options:\n" TK_HELP;

typedef struct lp_out {
  const gasp_graph *g;
  const gasp_vid *label;
} lp_out;

static int fmt_community(char *buf, size_t cap, gasp_vid v, void *user) {
  const lp_out *o = user;
  return snprintf(buf, cap, "%llu",
                  (unsigned long long)gasp_graph_gid(o->g, o->label[v]));
}

static int lp_alloc_threads(lp *p, const gasp_graph *g) {
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
  p->th = tk_calloc_lines((size_t)p->threads, sizeof *p->th);
  if (!p->th) return -1;
  for (int t = 0; t < p->threads; t++) {
    p->th[t].key = malloc(cap * sizeof *p->th[t].key);
    p->th[t].score = malloc(cap * sizeof *p->th[t].score);
    if (!p->th[t].key || !p->th[t].score) return -1;
  }
  return 0;
}

int cmd_labelprop(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  lp p;
  memset(&p, 0, sizeof p);
  o.dist_ok = 1; /* across ranks: synchronous rounds */
  /* weights count: --weighted / --unweighted stay */
  o.takes &= ~(TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB | TK_TAKES_SEED);
  int rc = tk_parse(argc, argv, &o, NULL, help, NULL, NULL);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  /* Default: the chromatic schedule under edge consistency, which always
   * converges and gives the same labels for any number of threads (each
   * colour class updates at once from the other classes' labels).  Across
   * ranks the engine is sync: the same labels as `--engine sync`. */
  if (!o.engine_set && o.d.size <= 1) {
    o.eng.engine = GASP_ENGINE_ASYNC;
    o.eng.consistency = GASP_CONSISTENCY_EDGE;
    if (o.eng.locking == GASP_LOCKING_DEFAULT)
      o.eng.locking = GASP_LOCKING_CHROMATIC;
  }
  int async = o.eng.engine == GASP_ENGINE_ASYNC;
  p.async = async;
  if (!o.eng.max_iter) o.eng.max_iter = 100;

  gasp_graph *g = NULL;
  gasp_engine *e = NULL;
  double load_s = 0;
  tk_iter it = {0};
  gasp_vid *all = NULL; /* distributed: every label, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_dist *dist = o.eng.dist;
  p.e = NULL;
  gasp_vid nv = gasp_graph_num_vertices(g);
  p.distributed = dist != NULL;
  p.dist = dist;
  p.changed = calloc(nv ? (size_t)nv : 1, 1);
  if (!p.changed) {
    cli_error("labelprop: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  p.weight = gasp_graph_weights(g);
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
  it.residual = lp_residual;
  it.user = &p;
  if ((rc = tk_iter_start(&it, &o, "labelprop"))) goto out;
  if ((rc = tk_engine_new(&e, g, &prog, &o))) goto out;
  p.e = e;
  p.threads = gasp_engine_threads(e);
  if (lp_alloc_threads(&p, g)) {
    cli_error("labelprop: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  gasp_engine_signal_all(e, 1.0);
  gasp_run_stats st;
  if ((rc = tk_run(e, &st))) goto out;
  tk_iter_end(&it);
  const gasp_vid *label = gasp_graph_vertex_data(g);
  if (dist) {
    all = tk_dist_results(&o, e, &st, label, sizeof *label, &rc);
    if (rc) goto out;
    if (!tk_is_root(&o)) goto out;
    label = all;
    nv = (gasp_vid)gasp_dist_global_vertices(dist);
  }
  gasp_graph *rg = tk_result_graph(&o, g);

  uint64_t communities = 0, largest = 0;
  if (tk_count_groups(label, nv, &communities, &largest)) {
    cli_error("labelprop: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  int converged = st.reason == GASP_STOP_CONVERGED;
  lp_out lo = {rg, label};
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_community, &lo))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "labelprop");
    cli_json_u64(&j, "vertices", nv);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "communities", communities);
    cli_json_u64(&j, "largest_community", largest);
    cli_json_bool(&j, "weighted", p.weight != NULL);
    tk_json_run(&j, &st, async, converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: labelprop: %llu communities, largest %llu vertices; %s "
            "after %llu iterations (%llu updates) in %.3f s\n",
            (unsigned long long)communities, (unsigned long long)largest,
            converged ? "converged" : "stopped (not converged)",
            (unsigned long long)st.iterations, (unsigned long long)st.updates,
            st.seconds);
  }
out:
  tk_iter_end(&it);
  gasp_engine_free(&e);
  tk_graph_free(&o, &g);
  free(all);
  if (p.th)
    for (int t = 0; t < p.threads; t++) {
      free(p.th[t].key);
      free(p.th[t].score);
    }
  free(p.th);
  free(p.changed);
  return rc;
}
