/*
 * cmd_triangles.c -- `gasp triangles`: the command over gasp_triangles
 * (lib_triangles.c, degree-ordered neighbour-list intersection): flags,
 * loading (every rank in a distributed run), the call, and the totals and
 * per-vertex counts gathered and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

/* ---- driver --------------------------------------------------------- */

enum { O_PER_VERTEX = OPT_FIRST_PRIVATE, O_DIRECTED, O_CLUSTERING };

typedef struct tri_args {
  int per_vertex, directed, clustering;
} tri_args;

static int handle(int opt, const char *arg, void *u) {
  (void)arg;
  tri_args *a = u;
  switch (opt) {
  case O_PER_VERTEX: a->per_vertex = 1; return 0;
  case O_DIRECTED: a->directed = 1; return 0;
  case O_CLUSTERING: a->clustering = 1; return 0;
  }
  return -1;
}

static const char help[] =
    "usage: gasp triangles [options] -i GRAPH\n\n"
    "Counts the triangles of the graph taken as undirected (self loops and\n"
    "repeated edges ignored), exactly, by intersecting degree-ordered\n"
    "neighbour lists.  Prints the total; per-vertex counts (triangles each\n"
    "vertex is in) go to -o FILE, or to stdout with --per-vertex.  Runs\n"
    "across processes too (--np N), with the same counts.\n\n"
    "With --directed (one process) each triangle's arcs are classified at\n"
    "each corner x, over ordered pairs (y, z) of the other two: cycle\n"
    "(x->y->z->x), through (y->x->z with y->z), in (y->x, z->x with y->z)\n"
    "and out (x->y, x->z with y->z); the summary gives the 3-cycles and the\n"
    "transitive triangles.  With --clustering, the local clustering\n"
    "coefficient 2T/(d(d-1)) of every vertex and their average.\n\n"
    "options:\n"
    "      --per-vertex     write 'id<TAB>count' lines (stdout unless -o)\n"
    "      --directed       directed types: 'id<TAB>cycle<TAB>through<TAB>in"
    "<TAB>out'\n"
    "      --clustering     'id<TAB>count<TAB>coefficient'; the average in "
    "the\n"
    "                       summary\n" TK_HELP;

static int fmt_count(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%llu", (unsigned long long)((uint64_t *)user)[v]);
}

static int fmt_directed(char *buf, size_t cap, gasp_vid v, void *user) {
  const uint64_t *c = (const uint64_t *)user + 4 * (size_t)v;
  return snprintf(buf, cap, "%llu\t%llu\t%llu\t%llu", (unsigned long long)c[0],
                  (unsigned long long)c[1], (unsigned long long)c[2],
                  (unsigned long long)c[3]);
}

typedef struct clust_out {
  const uint64_t *count;
  const double *coef;
} clust_out;

static int fmt_clustering(char *buf, size_t cap, gasp_vid v, void *user) {
  const clust_out *o = user;
  return snprintf(buf, cap, "%llu\t%.10g", (unsigned long long)o->count[v],
                  o->coef[v]);
}

/* --directed: the types per corner and the totals (one process). */
static int run_directed(tk_opts *o, const char *out_path) {
  gasp_graph *g = NULL;
  double load_s = 0;
  uint64_t *dc = NULL;
  tk_iter it = {0};
  int rc = tk_load(o, &g, &load_s);
  if (rc) {
    tk_graph_free(o, &g);
    return rc;
  }
  gasp_vid n = gasp_graph_num_vertices(g);
  if (!(dc = malloc(4 * (n ? (size_t)n : 1) * sizeof *dc))) {
    cli_error("triangles: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, o, "triangles"))) goto out;
  gasp_triangles_opts to;
  gasp_triangles_opts_init(&to);
  to.engine = o->eng;
  gasp_directed_triangles tot;
  gasp_run_stats st;
  gasp_error err;
  double t0 = cli_now();
  int grc = gasp_triangles_directed(g, &to, dc, &tot, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  double wall = cli_now() - t0;
  tk_iter_end(&it);
  if ((rc = tk_write_vertices(out_path, g, fmt_directed, dc))) goto out;
  if (o->c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "triangles");
    cli_json_bool(&j, "directed", 1);
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", gasp_graph_num_edges(g));
    cli_json_u64(&j, "triangles", tot.triangles);
    cli_json_u64(&j, "cycles", tot.cycles);
    cli_json_u64(&j, "through", tot.through);
    cli_json_u64(&j, "iterations", st.iterations);
    cli_json_num(&j, "seconds", st.seconds);
    cli_json_num(&j, "wall_seconds", wall);
    cli_json_num(&j, "load_seconds", load_s);
    cli_json_end(&j);
  } else if (!o->c.quiet) {
    fprintf(stderr,
            "gasp: triangles: %llu triangles (undirected): %llu 3-cycles, "
            "%llu transitive (through) in %.3f s\n",
            (unsigned long long)tot.triangles, (unsigned long long)tot.cycles,
            (unsigned long long)tot.through, wall);
  }
out:
  tk_iter_end(&it);
  tk_graph_free(o, &g);
  free(dc);
  return rc;
}

int cmd_triangles(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.reorder_ok = 1; /* results independent of vertex order */
  tri_args a = {0, 0, 0};
  static const struct option extra[] = {
      {"per-vertex", no_argument, 0, O_PER_VERTEX},
      {"directed", no_argument, 0, O_DIRECTED},
      {"clustering", no_argument, 0, O_CLUSTERING},
      {0, 0, 0, 0}};
  o.dist_ok = 1; /* across ranks: ghosts get their owners' H lists */
  /* two passes that must both run: no --max-iter; the engine flags stay
   * (the count runs on either engine) */
  o.takes &= ~(TK_TAKES_MAX_ITER | TK_TAKES_TOL | TK_TAKES_GPU |
               TK_TAKES_VOCAB | TK_TAKES_SEED | TK_TAKES_WEIGHTS);
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  const char *out_path = o.c.output ? o.c.output : a.per_vertex ? "-" : NULL;
  if (a.directed && a.clustering) {
    cli_error("triangles: --directed and --clustering do not go together");
    return EXIT_USAGE;
  }
  if (a.directed && o.d.size > 1) {
    cli_error("triangles: --directed runs on one process (a triangle's arcs "
              "are looked up where it is found)");
    return EXIT_USAGE;
  }
  if (a.directed) return run_directed(&o, out_path);

  gasp_graph *g = NULL;
  tk_iter it = {0};
  double load_s = 0;
  uint64_t *count = NULL, *all = NULL; /* all: every vertex, on rank 0 */
  double *coef = NULL, *all_coef = NULL, avg = 0;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_dist *dist = o.eng.dist;
  gasp_vid n = gasp_graph_num_vertices(g);
  if ((out_path || a.clustering) &&
      !(count = malloc((n ? (size_t)n : 1) * sizeof *count))) {
    cli_error("triangles: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "triangles"))) goto out;
  gasp_triangles_opts to;
  gasp_triangles_opts_init(&to);
  to.engine = o.eng;
  gasp_triangles_totals tot;
  gasp_run_stats st;
  gasp_error err;
  double t0 = cli_now();
  int grc = gasp_triangles(g, &to, count, &tot, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  if (a.clustering) {
    if (!(coef = malloc((n ? (size_t)n : 1) * sizeof *coef))) {
      cli_error("triangles: out of memory");
      rc = EXIT_RUNTIME;
      goto out;
    }
    if ((grc = gasp_clustering(g, dist, count, coef, &avg, &err))) {
      rc = cli_fail(&err, grc);
      goto out;
    }
    if (dist && !(all_coef = tk_dist_gather(&o, coef, sizeof *coef, &rc)) && rc)
      goto out;
  }
  if (dist && count && !(all = tk_dist_gather(&o, count, sizeof *count, &rc)) &&
      rc)
    goto out;
  if (dist && (rc = tk_dist_finish(&o))) goto out;
  double wall = cli_now() - t0;
  tk_iter_end(&it);
  if (!tk_is_root(&o)) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  gasp_vid nr = gasp_graph_num_vertices(rg);
  const uint64_t *c = all ? all : count;
  uint64_t maxv = 0;
  for (gasp_vid v = 0; c && v < nr; v++)
    if (c[v] > maxv) maxv = c[v];
  clust_out co = {c, all_coef ? all_coef : coef};
  if (a.clustering
          ? (rc = tk_write_vertices(out_path, rg, fmt_clustering, &co))
          : (rc = tk_write_vertices(out_path, rg, fmt_count, (void *)c)))
    goto out;
  double transitivity =
      tot.wedges ? 3.0 * (double)tot.triangles / (double)tot.wedges : 0.0;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "triangles");
    cli_json_u64(&j, "vertices", nr);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    cli_json_u64(&j, "undirected_edges", tot.edges);
    cli_json_u64(&j, "triangles", tot.triangles);
    cli_json_u64(&j, "wedges", tot.wedges);
    cli_json_num(&j, "transitivity", transitivity);
    if (c) cli_json_u64(&j, "max_per_vertex", maxv);
    if (a.clustering) cli_json_num(&j, "average_clustering", avg);
    tk_dist_json(&o, &j, st.iterations);
    cli_json_str(&j, "engine",
                 o.eng.engine == GASP_ENGINE_ASYNC ? "async" : "sync");
    cli_json_u64(&j, "iterations", st.iterations);
    cli_json_num(&j, "seconds", st.seconds);
    cli_json_num(&j, "wall_seconds", wall);
    cli_json_num(&j, "load_seconds", load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    char avg_text[64] = "";
    if (a.clustering)
      snprintf(avg_text, sizeof avg_text, ", average clustering %.6g", avg);
    fprintf(stderr,
            "gasp: triangles: %llu triangles over %llu undirected edges "
            "(transitivity %.6g%s) in %.3f s\n",
            (unsigned long long)tot.triangles, (unsigned long long)tot.edges,
            transitivity, avg_text, wall);
  }
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(count);
  free(all);
  free(coef);
  free(all_coef);
  return rc;
}
