/*
 * cmd_sssp.c -- `gasp sssp`: the command over gasp_sssp (lib_sssp.c):
 * flags, the source, loading (every rank in a distributed run), the call,
 * and the distances gathered and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct sp {
  int directed;
  gasp_vid source;
  const char *source_arg;
  uint64_t source_id;
  int have_source;
} sp;

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
    "      --directed       follow edges from source to target only\n" TK_HELP TK_CHECKPOINT_HELP;

static int fmt_dist(char *buf, size_t cap, gasp_vid v, void *user) {
  double d = ((const double *)user)[v];
  if (d == INFINITY) return snprintf(buf, cap, "inf");
  if (d == floor(d) && d < 9007199254740992.0)
    return snprintf(buf, cap, "%.0f", d);
  return snprintf(buf, cap, "%.17g", d);
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
  o.reorder_ok = 1; /* results independent of vertex order */
  sp p;
  memset(&p, 0, sizeof p);
  static const struct option extra[] = {
      {"source", required_argument, 0, O_SOURCE},
      {"directed", no_argument, 0, O_DIRECTED},
      {0, 0, 0, 0}};
  o.dist_ok = 1;      /* across ranks: sync label correcting */
  o.checkpoint_ok = 1; /* sync */
  o.staleness_ok = 1; /* monotone: any schedule reaches the same distances */
  o.takes &= ~(TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB | TK_TAKES_SEED);
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &p);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (!p.have_source) {
    cli_error("sssp: --source ID is required");
    return EXIT_USAGE;
  }
  int async = o.eng.engine == GASP_ENGINE_ASYNC;

  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  double *dist = NULL, *all = NULL; /* all: every vertex, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_graph *rg = tk_result_graph(&o, g);
  if ((rc = find_source(g, rg, &p))) goto out;
  gasp_vid nv = gasp_graph_num_vertices(g);
  if (!(dist = malloc((nv ? (size_t)nv : 1) * sizeof *dist))) {
    cli_error("sssp: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "sssp"))) goto out;
  gasp_sssp_opts so;
  gasp_sssp_opts_init(&so);
  so.engine = o.eng;
  so.directed = p.directed;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_sssp(g, &so, p.source, dist, &st, &err);
  if (grc) { /* a bad weight is the input's fault: exit 2 */
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const double *d = dist;
  if (o.eng.dist) {
    all = tk_dist_results(&o, NULL, &st, dist, sizeof *dist, &rc);
    if (rc) goto out;
    d = all;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_vid n = gasp_graph_num_vertices(rg);
  uint64_t reachable = 0;
  double maxd = 0;
  for (gasp_vid v = 0; v < n; v++)
    if (d[v] < INFINITY) {
      reachable++;
      if (d[v] > maxd) maxd = d[v];
    }
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_dist, (void *)d))) goto out;
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
    cli_json_bool(&j, "weighted", gasp_graph_weights(g) != NULL);
    cli_json_u64(&j, "reachable", reachable);
    cli_json_num(&j, "max_distance", maxd);
    tk_json_run(&j, &st, async, converged, load_s);
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
  tk_graph_free(&o, &g);
  free(dist);
  free(all);
  return rc;
}
