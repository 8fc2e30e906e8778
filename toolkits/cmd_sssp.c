/*
 * cmd_sssp.c -- `gasp sssp`: single-source shortest paths over
 * non-negative edge weights as a vertex program, by label correcting
 * (Bellman 1958, Ford 1956; the GraphLab SSSP toolkit, Low et al. 2012).
 *
 * Every vertex holds a tentative distance, infinity at first; the source
 * is sent 0 as a message.  A vertex whose distance dropped pushes: it
 * offers d(v) + w(v, u) as a message to each neighbour u the offer would
 * improve (the engine keeps the smallest offer per vertex), and an update
 * lowers d to its best offer.  The same program can pull: gather
 * min(d(u) + w(u, v)) over the edges that lead into v -- the in-edges with
 * --directed, every edge otherwise (edges are then walked both ways).
 *
 * --engine sync (default) chooses per superstep between pushing from the
 * frontier and pulling everywhere (push_pull, by the edges each reads);
 * --engine async pushes, with the priority scheduler (unless another is
 * named) and priority -d, so nearer vertices settle first, as in Dijkstra.
 * Both reach the same fixed point: every d(v) is the smallest, over the
 * paths from the source, of the path's weights summed from the source
 * on, in floating point, so the two engines agree exactly.
 *
 * Distances are read and written with relaxed atomics, so the vertex
 * consistency model (neighbours read while they update) is safe too.
 */
#include "toolkit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct sp_vertex {
  double dist;
  int changed; /* set by apply when dist dropped: scatter then signals */
} sp_vertex;

typedef struct sp {
  const double *w; /* edge weights by slot, NULL: all 1 */
  int directed, async;
  gasp_vid source;
  const char *source_arg;
  uint64_t source_id;
  int have_source;
} sp;

static double load_dist(const void *vd) {
  uint64_t b = __atomic_load_n((const uint64_t *)&((const sp_vertex *)vd)->dist,
                               __ATOMIC_RELAXED);
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static void store_dist(sp_vertex *v, double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  __atomic_store_n((uint64_t *)&v->dist, b, __ATOMIC_RELAXED);
}

static void sp_init(gasp_ctx *ctx, void *vd) {
  (void)ctx;
  sp_vertex *v = vd;
  v->dist = INFINITY;
  v->changed = 0;
}

static void sp_acc_init(const gasp_ctx *ctx, void *acc) {
  (void)ctx;
  *(double *)acc = INFINITY;
}

/* Bulk pull: the smallest d(u) + w over the edges into the centre. */
static void sp_gather(const gasp_ctx *ctx, const void *v, const gasp_nbrs *nb,
                      void *acc) {
  (void)v;
  const sp *p = gasp_ctx_user(ctx);
  const char *vdata = nb->vertex_data;
  size_t vs = nb->vertex_size;
  double best = *(const double *)acc;
  for (uint64_t i = 0; i < nb->n_in; i++) {
    double d = load_dist(vdata + (size_t)nb->in[i] * vs);
    if (d == INFINITY) continue;
    d += p->w ? p->w[nb->in_slot[i]] : 1.0;
    if (d < best) best = d;
  }
  for (uint64_t i = 0; i < nb->n_out; i++) {
    double d = load_dist(vdata + (size_t)nb->out[i] * vs);
    if (d == INFINITY) continue;
    d += p->w ? p->w[nb->out_slot0 + i] : 1.0;
    if (d < best) best = d;
  }
  *(double *)acc = best;
}

static void sp_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)ctx;
  sp_vertex *v = vd;
  double best = *(const double *)acc;
  v->changed = best < v->dist;
  if (v->changed) store_dist(v, best);
}

static gasp_dir sp_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  const sp *p = gasp_ctx_user(ctx);
  if (!((const sp_vertex *)vd)->changed) return GASP_DIR_NONE;
  return p->directed ? GASP_DIR_OUT : GASP_DIR_ALL;
}

/* Offers d(v) + w to each neighbour it improves. */
static void sp_scatter(gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb) {
  const sp *p = gasp_ctx_user(ctx);
  const char *vdata = nb->vertex_data;
  size_t vs = nb->vertex_size;
  double d0 = load_dist(vd);
  for (uint64_t i = 0; i < nb->n_out; i++) {
    double d = d0 + (p->w ? p->w[nb->out_slot0 + i] : 1.0);
    if (d < load_dist(vdata + (size_t)nb->out[i] * vs))
      gasp_signal_msg_priority(ctx, nb->out[i], &d, -d);
  }
  for (uint64_t i = 0; i < nb->n_in; i++) {
    double d = d0 + (p->w ? p->w[nb->in_slot[i]] : 1.0);
    if (d < load_dist(vdata + (size_t)nb->in[i] * vs))
      gasp_signal_msg_priority(ctx, nb->in[i], &d, -d);
  }
}

/* ---- driver --------------------------------------------------------- */

enum { O_SOURCE = OPT_FIRST_PRIVATE, O_DIRECTED };

static int handle(int opt, const char *arg, void *u) {
  sp *p = u;
  switch (opt) {
  case O_SOURCE:
    p->source_arg = arg;
    p->have_source = 1;
    return cli_parse_u64("--source", arg, &p->source_id);
  case O_DIRECTED: p->directed = 1; return 0;
  }
  return -1;
}

static const char help[] =
    "usage: gasp sssp --source ID [options] -i GRAPH\n\n"
    "Single-source shortest paths over non-negative edge weights (1 when the\n"
    "graph is unweighted) by label correcting: a vertex whose distance\n"
    "dropped signals its neighbours.  Edges are walked both ways unless\n"
    "--directed.  --engine sync (default) runs supersteps over the frontier;\n"
    "--engine async uses the priority scheduler, nearest first.  Output:\n"
    "'id<TAB>distance', 'inf' when unreachable.\n\n"
    "options:\n"
    "      --source ID      the source vertex (required)\n"
    "      --directed       follow edges from source to target only\n" TK_HELP;

static int fmt_dist(char *buf, size_t cap, gasp_vid v, void *user) {
  double d = ((const sp_vertex *)user)[v].dist;
  if (d == INFINITY) return snprintf(buf, cap, "inf");
  if (d == floor(d) && d < 9007199254740992.0)
    return snprintf(buf, cap, "%.0f", d);
  return snprintf(buf, cap, "%.17g", d);
}

/* Rejects negative and NaN weights; returns 0 or an exit code. */
static int check_weights(const gasp_graph *g) {
  const double *w = gasp_graph_weights(g);
  if (!w) return 0;
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (gasp_vid v = 0; v < out.num_vertices; v++)
    for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++)
      if (!(w[j] >= 0)) {
        cli_error("sssp: edge %llu -> %llu has weight %g; shortest paths need "
                  "non-negative weights",
                  (unsigned long long)gasp_graph_gid(g, v),
                  (unsigned long long)gasp_graph_gid(g, out.nbr[j]), w[j]);
        return EXIT_USAGE;
      }
  return 0;
}

/* Finds the --source vertex; returns 0 or an exit code. */
/* The source must be in the whole graph; on a rank that does not hold it
 * the local id is GASP_VID_NONE-like (UINT32_MAX: no local vertex). */
static int find_source(const gasp_graph *g, const gasp_graph *whole, sp *p) {
  gasp_vid w;
  if (gasp_graph_find(whole, GASP_SIDE_LEFT, p->source_id, &w) != GASP_OK) {
    cli_error("--source: unknown vertex id %s", p->source_arg);
    return EXIT_USAGE;
  }
  if (gasp_graph_find(g, GASP_SIDE_LEFT, p->source_id, &p->source) != GASP_OK)
    p->source = UINT32_MAX;
  return 0;
}

int cmd_sssp(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  sp p;
  memset(&p, 0, sizeof p);
  static const struct option extra[] = {
      {"source", required_argument, 0, O_SOURCE},
      {"directed", no_argument, 0, O_DIRECTED},
      {0, 0, 0, 0}};
  o.dist_ok = 1; /* across ranks: sync label correcting */
  o.staleness_ok = 1; /* monotone: any schedule reaches the same distances */
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &p);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (!p.have_source) {
    cli_error("sssp: --source ID is required");
    return EXIT_USAGE;
  }
  p.async = o.eng.engine == GASP_ENGINE_ASYNC;
  if (p.async && o.eng.scheduler == GASP_SCHED_FIFO)
    o.eng.scheduler = GASP_SCHED_PRIORITY;

  gasp_graph *g = NULL;
  gasp_engine *e = NULL;
  double load_s = 0;
  tk_iter it = {0};
  sp_vertex *all = NULL; /* distributed: every vertex, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_graph *rg = tk_result_graph(&o, g);
  /* weights: of the whole graph when this process has it, else (a
   * partition file) of this rank's edges, every rank checking its own */
  if ((rc = find_source(g, rg, &p)) ||
      (rc = check_weights(gasp_graph_num_edges(rg) ? rg : g)))
    goto out;
  p.w = gasp_graph_weights(g);
  gasp_program prog = {0};
  prog.vertex_size = sizeof(sp_vertex);
  prog.acc_size = sizeof(double);
  prog.msg_size = sizeof(double);
  prog.combine = gasp_combine_min_f64;
  prog.init_vertex = sp_init;
  prog.acc_init = sp_acc_init;
  prog.gather_dir = p.directed ? GASP_DIR_IN : GASP_DIR_ALL;
  prog.gather_vertex = sp_gather;
  prog.apply = sp_apply;
  prog.scatter_edges = sp_scatter_dir;
  prog.scatter_vertex = sp_scatter;
  prog.push_pull = 1;
  prog.user = &p;
  if ((rc = tk_iter_start(&it, &o, "sssp"))) goto out;
  if ((rc = tk_engine_new(&e, g, &prog, &o))) goto out;
  gasp_run_stats st;
  /* the source's owner starts the run (a ghost copy never updates) */
  double zero = 0.0;
  if (p.source < gasp_graph_num_owned(g))
    gasp_engine_signal_msg(e, p.source, &zero, 0.0);
  if ((rc = tk_run(e, &st))) goto out;
  tk_iter_end(&it);
  const sp_vertex *vd = gasp_graph_vertex_data(g);
  if (o.eng.dist) {
    all = tk_dist_results(&o, e, &st, vd, sizeof *vd, &rc);
    if (rc) goto out;
    vd = all;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_vid n = gasp_graph_num_vertices(rg);
  uint64_t reachable = 0;
  double maxd = 0;
  for (gasp_vid v = 0; v < n; v++)
    if (vd[v].dist < INFINITY) {
      reachable++;
      if (vd[v].dist > maxd) maxd = vd[v].dist;
    }
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_dist, (void *)vd))) goto out;
  int converged = st.reason == GASP_STOP_CONVERGED;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "sssp");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    cli_json_u64(&j, "source", p.source_id);
    tk_dist_json(&o, &j, st.iterations);
    cli_json_bool(&j, "directed", p.directed);
    cli_json_bool(&j, "weighted", p.w != NULL);
    cli_json_u64(&j, "reachable", reachable);
    cli_json_num(&j, "max_distance", maxd);
    tk_json_run(&j, &st, p.async, converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: sssp: %llu of %u vertices reachable, max distance %.17g; "
            "%s after %llu iterations (%llu updates) in %.3f s\n",
            (unsigned long long)reachable, n, maxd,
            converged ? "converged" : "stopped",
            (unsigned long long)st.iterations, (unsigned long long)st.updates,
            st.seconds);
  }
out:
  tk_iter_end(&it);
  gasp_engine_free(&e);
  tk_graph_free(&o, &g);
  free(all);
  return rc;
}
