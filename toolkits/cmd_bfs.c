/*
 * cmd_bfs.c -- `gasp bfs`: the command over gasp_bfs (lib_bfs.c,
 * direction-optimising breadth-first search through the engine): flags,
 * the source, loading (every rank in a distributed run), the call, and
 * the depths and parents gathered and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

typedef struct bfs_args {
  int undirected, have_source;
  const char *source_arg;
  uint64_t source_id;
} bfs_args;

enum { O_SOURCE = OPT_FIRST_PRIVATE, O_UNDIRECTED };

static int handle(int opt, const char *arg, void *u) {
  bfs_args *a = u;
  switch (opt) {
  case O_SOURCE:
    a->source_arg = arg;
    a->have_source = 1;
    return cli_parse_u64("--source", arg, &a->source_id);
  case O_UNDIRECTED: a->undirected = 1; return 0;
  }
  return -1;
}

static const char help[] =
    "usage: gasp bfs --source ID [options] -i GRAPH\n\n"
    "Breadth-first search from the source along the edges (both ways with\n"
    "--undirected), direction-optimising: the engine pushes from a small\n"
    "frontier and has the unreached vertices pull when it is large (Beamer\n"
    "et al. 2012).  Output: 'id<TAB>depth<TAB>parent', the parent being the\n"
    "smallest-id vertex one level up with an edge to it (the source is its\n"
    "own); 'inf<TAB>-' when unreachable.  Sync engine.\n\n"
    "options:\n"
    "      --source ID      the source vertex (required)\n"
    "      --undirected     follow edges both ways\n" TK_HELP;

typedef struct bfs_out {
  const gasp_graph *g;
  const uint32_t *depth;
  const gasp_vid *parent;
} bfs_out;

static int fmt_bfs(char *buf, size_t cap, gasp_vid v, void *user) {
  const bfs_out *o = user;
  if (o->depth[v] == GASP_BFS_UNREACHED) return snprintf(buf, cap, "inf\t-");
  return snprintf(buf, cap, "%u\t%llu", o->depth[v],
                  (unsigned long long)gasp_graph_gid(o->g, o->parent[v]));
}

int cmd_bfs(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  bfs_args a = {0, 0, NULL, 0};
  static const struct option extra[] = {
      {"source", required_argument, 0, O_SOURCE},
      {"undirected", no_argument, 0, O_UNDIRECTED},
      {0, 0, 0, 0}};
  o.dist_ok = 1;
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB |
               TK_TAKES_SEED | TK_TAKES_WEIGHTS);
  o.sync_only = "level by level";
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (!a.have_source) {
    cli_error("bfs: --source ID is required");
    return EXIT_USAGE;
  }
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  uint32_t *depth = NULL, *all_depth = NULL;
  gasp_vid *parent = NULL, *all_parent = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_graph *rg = tk_result_graph(&o, g);
  gasp_vid source = GASP_VID_NONE, w;
  if (gasp_graph_find(rg, GASP_SIDE_LEFT, a.source_id, &w) != GASP_OK) {
    cli_error("--source: unknown vertex id %s", a.source_arg);
    rc = EXIT_USAGE;
    goto out;
  }
  if (gasp_graph_find(g, GASP_SIDE_LEFT, a.source_id, &w) == GASP_OK)
    source = w;
  gasp_vid nv = gasp_graph_num_vertices(g);
  depth = malloc((nv ? (size_t)nv : 1) * sizeof *depth);
  parent = malloc((nv ? (size_t)nv : 1) * sizeof *parent);
  if (!depth || !parent) {
    cli_error("bfs: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "bfs"))) goto out;
  gasp_bfs_opts bo;
  gasp_bfs_opts_init(&bo);
  bo.engine = o.eng;
  bo.undirected = a.undirected;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_bfs(g, &bo, source, depth, parent, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const uint32_t *d = depth;
  const gasp_vid *p = parent;
  if (o.eng.dist) {
    all_depth = tk_dist_results(&o, NULL, &st, depth, sizeof *depth, &rc);
    if (!rc) all_parent = tk_dist_gather(&o, parent, sizeof *parent, &rc);
    if (rc) goto out;
    d = all_depth;
    p = all_parent;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_vid n = gasp_graph_num_vertices(rg);
  uint64_t reached = 0;
  uint32_t maxd = 0;
  for (gasp_vid v = 0; v < n; v++)
    if (d[v] != GASP_BFS_UNREACHED) {
      reached++;
      if (d[v] > maxd) maxd = d[v];
    }
  bfs_out bout = {rg, d, p};
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_bfs, &bout))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "bfs");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    cli_json_u64(&j, "source", a.source_id);
    tk_dist_json(&o, &j, st.iterations);
    cli_json_bool(&j, "undirected", a.undirected);
    cli_json_u64(&j, "reached", reached);
    cli_json_u64(&j, "max_depth", maxd);
    cli_json_u64(&j, "pull_iterations", st.pull_iterations);
    tk_json_run(&j, &st, 0, st.reason == GASP_STOP_CONVERGED, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: bfs: %llu of %u vertices reached, depth %u; %llu "
            "supersteps (%llu pulled) in %.3f s\n",
            (unsigned long long)reached, n, maxd,
            (unsigned long long)st.iterations,
            (unsigned long long)st.pull_iterations, st.seconds);
  }
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(depth);
  free(parent);
  free(all_depth);
  free(all_parent);
  return rc;
}
