/*
 * cmd_colour.c -- `gasp colour`: the command over gasp_colour
 * (lib_colour.c, greedy colouring in degree, random, natural or saturation
 * order): flags, loading (every rank in a distributed run), the call, the
 * colours gathered, checked to be proper, summarised and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

typedef struct colour_args {
  gasp_colour_order order;
  const char *order_arg;
} colour_args;

enum { O_ORDER = OPT_FIRST_PRIVATE };

static int handle(int opt, const char *arg, void *u) {
  colour_args *a = u;
  if (opt != O_ORDER) return -1;
  a->order_arg = arg;
  if (gasp_colour_order_parse(arg, &a->order) == GASP_OK) return 0;
  cli_error("--order: '%s' is not degree, random, natural or saturation", arg);
  return EXIT_USAGE;
}

static const char help[] =
    "usage: gasp colour [options] -i GRAPH\n\n"
    "Greedy vertex colouring of the graph taken as undirected (self loops\n"
    "and repeated edges ignored): each vertex takes the smallest colour no\n"
    "neighbour before it in the order has.  The degree, random and natural\n"
    "orders run as Jones-Plassmann rounds on the sync engine (the colouring\n"
    "of a sequential greedy pass in that order, on any threads and ranks);\n"
    "the saturation order (DSatur) is sequential and runs on one process.\n"
    "The colouring is checked to be proper before it is written.  Output:\n"
    "'id<TAB>colour' (colours from 0); the summary gives the colours used.\n\n"
    "options:\n"
    "      --order ORDER    degree (largest first; default), random, natural\n"
    "                       (ascending id) or saturation (DSatur)\n"
    "      --seed N         ties of the degree order, the random "
    "order\n" TK_HELP;

static int fmt_colour(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%u", ((const uint32_t *)user)[v]);
}

/* The first edge whose ends share a colour (or touch an uncoloured
 * vertex), or 0 when the colouring is proper. */
static int find_clash(const gasp_graph *g, const uint32_t *c, gasp_vid *a,
                      gasp_vid *b) {
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  gasp_vid n = gasp_graph_num_vertices(g);
  for (gasp_vid v = 0; v < n; v++)
    for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++) {
      gasp_vid u = out.nbr[j];
      if (c[v] == UINT32_MAX || (u != v && c[u] == c[v])) {
        *a = v;
        *b = u;
        return 1;
      }
    }
  return 0;
}

int cmd_colour(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  colour_args a = {GASP_COLOUR_DEGREE, "degree"};
  static const struct option extra[] = {
      {"order", required_argument, 0, O_ORDER}, {0, 0, 0, 0}};
  o.dist_ok = 1;
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB |
               TK_TAKES_WEIGHTS);
  o.sync_only = "Jones-Plassmann rounds";
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (a.order == GASP_COLOUR_SATURATION && o.d.size > 1) {
    cli_error("colour: the saturation order (DSatur) runs on one process; "
              "use --order degree or random across ranks");
    return EXIT_USAGE;
  }
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  uint32_t *colour = NULL, *all = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_vid n = gasp_graph_num_vertices(g);
  if (!(colour = malloc((n ? (size_t)n : 1) * sizeof *colour))) {
    cli_error("colour: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "colour"))) goto out;
  gasp_colour_opts co;
  gasp_colour_opts_init(&co);
  co.engine = o.eng;
  co.order = a.order;
  co.seed = o.c.seed;
  gasp_run_stats st;
  gasp_error err;
  uint32_t used = 0;
  int grc = gasp_colour(g, &co, colour, &used, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const uint32_t *c = colour;
  if (o.eng.dist) {
    all = tk_dist_results(&o, NULL, &st, colour, sizeof *colour, &rc);
    if (rc) goto out;
    c = all;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  n = gasp_graph_num_vertices(rg);
  int converged = st.reason == GASP_STOP_CONVERGED;
  gasp_vid x, y;
  if (find_clash(rg, c, &x, &y)) {
    if (c[x] == UINT32_MAX)
      cli_error("colour: stopped before vertex %llu had a colour (after %llu "
                "supersteps; raise --max-iter)",
                (unsigned long long)gasp_graph_gid(rg, x),
                (unsigned long long)st.iterations);
    else
      cli_error("colour: vertices %llu and %llu are adjacent and both have "
                "colour %u",
                (unsigned long long)gasp_graph_gid(rg, x),
                (unsigned long long)gasp_graph_gid(rg, y), c[x]);
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_colour, (void *)c))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "colour");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    tk_dist_json(&o, &j, st.iterations);
    cli_json_str(&j, "order", a.order_arg);
    cli_json_u64(&j, "colours", used);
    cli_json_bool(&j, "proper", 1);
    tk_json_run(&j, &st, 0, converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    if (a.order == GASP_COLOUR_SATURATION)
      fprintf(stderr,
              "gasp: colour: %u colours (saturation order), proper; "
              "sequential in %.3f s\n",
              used, st.seconds);
    else
      fprintf(stderr,
              "gasp: colour: %u colours (%s order), proper; %llu supersteps "
              "(%llu updates) in %.3f s\n",
              used, a.order_arg, (unsigned long long)st.iterations,
              (unsigned long long)st.updates, st.seconds);
  }
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(colour);
  free(all);
  return rc;
}
