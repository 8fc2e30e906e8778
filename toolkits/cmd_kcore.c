/*
 * cmd_kcore.c -- `gasp kcore`: the command over gasp_kcore (lib_kcore.c,
 * local h-index updates after Montresor et al. 2013): flags, loading
 * (every rank in a distributed run), the call, and the core numbers
 * gathered, summarised and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

/* ---- driver --------------------------------------------------------- */

static const char help[] =
    "usage: gasp kcore [options] -i GRAPH\n\n"
    "Core number of every vertex of the graph taken as undirected (self\n"
    "loops and repeated edges ignored), by local h-index updates (Montresor\n"
    "et al. 2013).  Output: 'id<TAB>core'; the summary gives the degeneracy\n"
    "(largest core number).\n\n"
    "options:\n" TK_HELP TK_CHECKPOINT_HELP;

static int fmt_core(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%u", ((const uint32_t *)user)[v]);
}

int cmd_kcore(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.reorder_ok = 1; /* results independent of vertex order */
  o.dist_ok = 1;      /* across ranks: sync h-index updates */
  o.checkpoint_ok = 1; /* sync */
  o.staleness_ok = 1; /* monotone: any schedule reaches the coreness */
  o.takes &= ~(TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB | TK_TAKES_SEED |
               TK_TAKES_WEIGHTS);
  int rc = tk_parse(argc, argv, &o, NULL, help, NULL, NULL);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  int async = o.eng.engine == GASP_ENGINE_ASYNC;

  gasp_graph *g = NULL;
  tk_iter it = {0};
  double load_s = 0;
  uint32_t *core = NULL, *all = NULL; /* all: every vertex, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_vid n = gasp_graph_num_vertices(g);
  if (!(core = malloc((n ? (size_t)n : 1) * sizeof *core))) {
    cli_error("kcore: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "kcore"))) goto out;
  gasp_kcore_opts ko;
  gasp_kcore_opts_init(&ko);
  ko.engine = o.eng;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_kcore(g, &ko, core, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const uint32_t *c = core;
  if (o.eng.dist) {
    all = tk_dist_results(&o, NULL, &st, core, sizeof *core, &rc);
    if (rc) goto out;
    c = all;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  n = gasp_graph_num_vertices(rg);
  uint32_t degeneracy = 0;
  uint64_t in_max = 0;
  for (gasp_vid v = 0; v < n; v++)
    if (c[v] > degeneracy) degeneracy = c[v];
  for (gasp_vid v = 0; v < n; v++)
    in_max += c[v] == degeneracy;
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_core, (void *)c))) goto out;
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
  tk_graph_free(&o, &g);
  free(core);
  free(all);
  return rc;
}
