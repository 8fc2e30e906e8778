/*
 * cmd_labelprop.c -- `gasp labelprop`: the command over gasp_labelprop
 * (lib_labelprop.c, deterministic label propagation): flags and the
 * engine default, loading (every rank in a distributed run), the call,
 * and the communities gathered, counted and written.
 *
 * Default engine: async with edge consistency on the chromatic schedule,
 * which converges and is deterministic for any thread count; across
 * ranks sync rounds.  Sync rounds give the same labels on any number of
 * ranks as in one process; async across ranks runs on another colouring
 * than one process, so its labels may differ.  A distributed run says
 * which: "same_as_one_process" in --json, a line in the summary.
 *
 * Community = the original id of the vertex whose label it carries.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

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
    "Across ranks (--np, --rank) the default is --engine sync, whose labels\n"
    "are those of one process with --engine sync; --engine async colours the\n"
    "graph differently across ranks, so its labels may differ from one\n"
    "process's.  --json then tells which: same_as_one_process.\n\n"
    "options:\n" TK_HELP TK_CHECKPOINT_HELP;

typedef struct lp_out {
  const gasp_graph *g;
  const gasp_vid *label;
} lp_out;

static int fmt_community(char *buf, size_t cap, gasp_vid v, void *user) {
  const lp_out *o = user;
  return snprintf(buf, cap, "%llu",
                  (unsigned long long)gasp_graph_gid(o->g, o->label[v]));
}

int cmd_labelprop(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.dist_ok = 1; /* across ranks: synchronous rounds by default */
  o.checkpoint_ok = 1; /* sync, or between chromatic sweeps */
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
  /* Across ranks only sync rounds are the labels one process computes
   * with the same flags (one process's default is the chromatic schedule,
   * and async across ranks colours differently). */
  int same_as_one = o.engine_set && !async;
  if (!o.eng.max_iter) o.eng.max_iter = 100;

  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  gasp_vid *label = NULL, *all = NULL; /* all: every label, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_dist *dist = o.eng.dist;
  gasp_vid nv = gasp_graph_num_vertices(g);
  int weighted = gasp_graph_weights(g) != NULL;
  label = malloc((nv ? (size_t)nv : 1) * sizeof *label);
  if (!label) {
    cli_error("labelprop: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "labelprop"))) goto out;
  gasp_labelprop_opts lo;
  gasp_labelprop_opts_init(&lo);
  lo.engine = o.eng;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_labelprop(g, &lo, label, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const gasp_vid *result = label;
  gasp_vid n = nv;
  if (dist) {
    all = tk_dist_results(&o, NULL, &st, label, sizeof *label, &rc);
    if (rc) goto out;
    if (!tk_is_root(&o)) goto out;
    result = all;
    n = (gasp_vid)gasp_dist_global_vertices(dist);
  }
  gasp_graph *rg = tk_result_graph(&o, g);

  uint64_t communities = 0, largest = 0;
  if (tk_count_groups(result, n, &communities, &largest)) {
    cli_error("labelprop: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  int converged = st.reason == GASP_STOP_CONVERGED;
  lp_out out = {rg, result};
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_community, &out))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "labelprop");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "communities", communities);
    cli_json_u64(&j, "largest_community", largest);
    cli_json_bool(&j, "weighted", weighted);
    if (dist) cli_json_bool(&j, "same_as_one_process", same_as_one);
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
    if (dist && !same_as_one)
      fprintf(stderr, "gasp: labelprop: %s\n",
              async ? "async across ranks colours the graph otherwise than "
                      "one process: the labels may differ from a one-process "
                      "run (--engine sync: the same on any number of ranks)"
                    : "across ranks the default engine is sync: the labels "
                      "of a one-process --engine sync run, not of the "
                      "one-process default (async, chromatic schedule)");
  }
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(all);
  free(label);
  return rc;
}
