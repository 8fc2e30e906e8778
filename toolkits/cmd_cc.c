/*
 * cmd_cc.c -- `gasp cc`: the command over gasp_cc (lib_cc.c, the
 * algorithms: Afforest, and minimum-label propagation pushed or pulled):
 * flags, loading (every rank in a distributed run), the call, and the
 * components gathered, counted and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

/* ---- driver --------------------------------------------------------- */

static const char help[] =
    "usage: gasp cc [options] -i GRAPH\n\n"
    "Weakly connected components (edges taken as undirected) by minimum-\n"
    "label propagation.  Each vertex's component is named by the smallest\n"
    "original id in it.  --engine sync (default) runs supersteps, every\n"
    "vertex active while many labels change, then only the vertices a\n"
    "changed neighbour can improve; --engine async works with any\n"
    "--consistency and --scheduler (priority: smaller labels first).\n"
    "--algorithm afforest (default with sync) links sampled neighbours into\n"
    "a lock-free union-find first (Afforest, two supersteps);\n"
    "--algorithm labelprop is minimum-label propagation.\n\n"
    "options:\n" TK_HELP TK_CHECKPOINT_HELP;

static int set_algorithm(int opt, const char *arg, void *u) {
  if (strcmp(arg, "afforest") && strcmp(arg, "labelprop")) {
    cli_error("--algorithm: expected afforest or labelprop, got '%s'", arg);
    return -1;
  }
  *(const char **)u = arg;
  return 0;
}

typedef struct cc_out {
  const gasp_graph *g;
  const gasp_vid *label;
} cc_out;

static int fmt_component(char *buf, size_t cap, gasp_vid v, void *user) {
  const cc_out *o = user;
  return snprintf(buf, cap, "%llu",
                  (unsigned long long)gasp_graph_gid(o->g, o->label[v]));
}

int cmd_cc(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.reorder_ok = 1; /* components renamed by their smallest id */
  static const struct option extra[] = {
      {"algorithm", required_argument, 0, OPT_FIRST_PRIVATE}, {0, 0, 0, 0}};
  const char *algo = NULL;
  o.dist_ok = 1;      /* across ranks: minimum-label propagation */
  o.checkpoint_ok = 1; /* sync: Afforest or label propagation */
  o.staleness_ok = 1; /* monotone: any schedule reaches the same labels */
  o.takes &= ~(TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB | TK_TAKES_WEIGHTS);
  int rc = tk_parse(argc, argv, &o, extra, help, set_algorithm, &algo);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  int async = o.eng.engine == GASP_ENGINE_ASYNC;
  gasp_cc_opts co;
  gasp_cc_opts_init(&co);
  co.seed = o.c.seed;
  co.algorithm = !algo                           ? GASP_CC_AUTO
                 : strcmp(algo, "afforest") == 0 ? GASP_CC_AFFOREST
                                                 : GASP_CC_LABELPROP;
  if (co.algorithm == GASP_CC_AFFOREST && o.d.size > 1) {
    cli_error("cc: --algorithm afforest runs in one process (across ranks: "
              "labelprop)");
    return EXIT_USAGE;
  }
  if (co.algorithm == GASP_CC_AFFOREST && async) {
    cli_error("cc: --algorithm afforest runs on the sync engine");
    return EXIT_USAGE;
  }
  int afforest = co.algorithm == GASP_CC_AFFOREST ||
                 (co.algorithm == GASP_CC_AUTO && !async && o.d.size <= 1);

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
  label = malloc((nv ? (size_t)nv : 1) * sizeof *label);
  if (!label) {
    cli_error("cc: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "cc"))) goto out;
  co.engine = o.eng;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_cc(g, &co, label, &st, &err);
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

  uint64_t components = 0, largest = 0;
  if (tk_count_groups(result, n, &components, &largest)) {
    cli_error("cc: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  int converged = st.reason == GASP_STOP_CONVERGED;
  cc_out out = {rg, result};
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_component, &out))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "cc");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "components", components);
    cli_json_u64(&j, "largest_component", largest);
    cli_json_str(&j, "algorithm", afforest ? "afforest" : "labelprop");
    cli_json_u64(&j, "threads", (uint64_t)st.threads);
    tk_json_run(&j, &st, async, converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: cc: %llu components, largest %llu vertices; %s after %llu "
            "iterations (%llu updates) in %.3f s\n",
            (unsigned long long)components, (unsigned long long)largest,
            converged ? "converged" : "stopped",
            (unsigned long long)st.iterations, (unsigned long long)st.updates,
            st.seconds);
  }
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(all);
  free(label);
  return rc;
}
