/*
 * cmd_scc.c -- `gasp scc`: the command over gasp_scc (lib_scc.c, trimming,
 * forward colouring and backward search on the sync engine): flags,
 * loading (every rank in a distributed run), the call, and the components
 * gathered, summarised and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: gasp scc [options] -i GRAPH\n\n"
    "Strongly connected components of the directed graph: rounds of\n"
    "trimming (a vertex with no remaining in- or out-neighbour is a\n"
    "component of its own), forward colouring by the largest id reaching\n"
    "each vertex, and a backward search from each colour's root (Orzan\n"
    "2004), on the sync engine.  Output: 'id<TAB>component', a component\n"
    "named by its largest id; the summary gives their number and the\n"
    "largest one's size.\n\n"
    "options:\n" TK_HELP;

typedef struct scc_out {
  const gasp_graph *g;
  const gasp_vid *comp;
} scc_out;

static int fmt_scc(char *buf, size_t cap, gasp_vid v, void *user) {
  const scc_out *o = user;
  if (o->comp[v] == GASP_VID_NONE) return snprintf(buf, cap, "-");
  return snprintf(buf, cap, "%llu",
                  (unsigned long long)gasp_graph_gid(o->g, o->comp[v]));
}

int cmd_scc(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.dist_ok = 1;
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB |
               TK_TAKES_SEED | TK_TAKES_WEIGHTS | TK_TAKES_SYMMETRIC);
  o.sync_only = "phases of whole supersteps";
  int rc = tk_parse(argc, argv, &o, NULL, help, NULL, NULL);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  gasp_vid *comp = NULL, *all = NULL, *size = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_vid n = gasp_graph_num_vertices(g);
  if (!(comp = malloc((n ? (size_t)n : 1) * sizeof *comp))) {
    cli_error("scc: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "scc"))) goto out;
  gasp_scc_opts so;
  gasp_scc_opts_init(&so);
  so.engine = o.eng;
  gasp_run_stats st;
  gasp_error err;
  uint64_t count = 0;
  int grc = gasp_scc(g, &so, comp, &count, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const gasp_vid *c = comp;
  if (o.eng.dist) {
    all = tk_dist_results(&o, NULL, &st, comp, sizeof *comp, &rc);
    if (rc) goto out;
    c = all;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  n = gasp_graph_num_vertices(rg);
  int converged = st.reason == GASP_STOP_CONVERGED;
  uint64_t largest = 0, placed = 0;
  if (!(size = calloc(n ? (size_t)n : 1, sizeof *size))) {
    cli_error("scc: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  for (gasp_vid v = 0; v < n; v++)
    if (c[v] != GASP_VID_NONE) {
      placed++;
      if (++size[c[v]] > largest) largest = size[c[v]];
    }
  scc_out so_out = {rg, c};
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_scc, &so_out))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "scc");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "components", count);
    cli_json_u64(&j, "largest", largest);
    cli_json_u64(&j, "unplaced", n - placed);
    tk_json_run(&j, &st, 0, converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: scc: %llu strongly connected components, the largest of "
            "%llu vertices; %s after %llu supersteps (%llu updates) in "
            "%.3f s\n",
            (unsigned long long)count, (unsigned long long)largest,
            converged ? "done" : "stopped", (unsigned long long)st.iterations,
            (unsigned long long)st.updates, st.seconds);
  }
  if (!converged && n > placed) /* a warning, even with --quiet */
    fprintf(stderr,
            "gasp: scc: stopped with %llu vertices not yet placed ('-' in "
            "the output); raise --max-iter\n",
            (unsigned long long)(n - placed));
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(comp);
  free(all);
  free(size);
  return rc;
}
