/*
 * cmd_closeness.c -- `gasp closeness`: the command over gasp_closeness
 * (lib_closeness.c, bit-parallel breadth-first searches on the sync
 * engine): flags, exact or sampled by the graph's size, loading (every
 * rank in a distributed run), the call, and the scores gathered,
 * summarised and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

/* Above this many vertices a search from every vertex is refused, and
 * without --samples or --exact the command samples. */
#define EXACT_LIMIT 65536
#define AUTO_SAMPLES 256

typedef struct cl_args {
  int harmonic, exact, have_samples;
  uint64_t samples;
} cl_args;

enum { O_SAMPLES = OPT_FIRST_PRIVATE, O_HARMONIC, O_EXACT };

static int handle(int opt, const char *arg, void *u) {
  cl_args *a = u;
  switch (opt) {
  case O_SAMPLES:
    a->have_samples = 1;
    if (cli_parse_u64("--samples", arg, &a->samples)) return -1;
    if (a->samples == 0) {
      cli_error("--samples: at least one source");
      return -1;
    }
    return 0;
  case O_HARMONIC: a->harmonic = 1; return 0;
  case O_EXACT: a->exact = 1; return 0;
  }
  return -1;
}

static const char help[] =
    "usage: gasp closeness [options] -i GRAPH\n\n"
    "Closeness centrality from breadth-first searches (hop counts), many\n"
    "sources at once, a bit each (multi-source BFS, Then et al. 2014), on\n"
    "the sync engine.  Distances run from the sources into each vertex\n"
    "(NetworkX's convention for directed graphs; --undirected: both "
    "ways).\n"
    "Classic closeness is Wasserman and Faust's, for graphs that are not\n"
    "connected: (r / D) (r / (n - 1)), r the vertices that reach v and D\n"
    "the sum of their distances (NetworkX's closeness_centrality);\n"
    "--harmonic gives the sum of 1 / d (harmonic_centrality).\n"
    "Exact (every vertex a source) up to 65536 vertices; above that, or\n"
    "with --samples K, K sources drawn from --seed stand for all\n"
    "(Eppstein and Wang 2001: r, D and the harmonic sum scaled by\n"
    "(n - 1) / k), 256 when not given.  Runs across ranks (--np).\n"
    "Output: 'id<TAB>score'.\n\n"
    "options:\n"
    "      --samples K      estimate from K sources drawn from --seed\n"
    "      --exact          every vertex a source (up to 65536 vertices)\n"
    "      --harmonic       harmonic centrality instead\n"
    "      --undirected     follow edges both ways\n"
    "      --seed N         the sample of sources (1)\n" TK_HELP;

static int fmt_score(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%.12g", ((const double *)user)[v]);
}

/* Chooses the sources; 0 or an exit code (the reason printed). */
static int plan(tk_opts *o, const cl_args *a, uint64_t n, uint64_t *samples) {
  if (a->exact && n > EXACT_LIMIT) {
    cli_error("closeness: --exact searches from every vertex; %llu vertices "
              "are more than %d: use --samples K",
              (unsigned long long)n, EXACT_LIMIT);
    return EXIT_USAGE;
  }
  *samples = a->have_samples ? a->samples : 0;
  if (!a->exact && !a->have_samples && n > EXACT_LIMIT) {
    *samples = AUTO_SAMPLES;
    if (!o->c.quiet && !o->c.json && tk_is_root(o))
      fprintf(stderr,
              "gasp: closeness: %llu vertices: estimating from %d sampled "
              "sources (--samples K, --exact)\n",
              (unsigned long long)n, AUTO_SAMPLES);
  }
  return 0;
}

static void summary(tk_opts *o, gasp_graph *g, gasp_graph *rg, const double *s,
                    const cl_args *a, int undirected, uint64_t k,
                    const gasp_run_stats *st, double load_s) {
  gasp_vid n = gasp_graph_num_vertices(rg);
  gasp_vid best = 0;
  double sum = 0;
  for (gasp_vid v = 0; v < n; v++) {
    sum += s[v];
    if (s[v] > s[best]) best = v;
  }
  int exact = k >= n;
  const char *what = a->harmonic ? "harmonic" : "wasserman-faust";
  if (o->c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "closeness");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(o, g));
    tk_dist_json(o, &j, st->iterations);
    cli_json_str(&j, "variant", what);
    cli_json_bool(&j, "undirected", undirected);
    cli_json_bool(&j, "exact", exact);
    cli_json_u64(&j, "sources", k);
    if (!exact) cli_json_u64(&j, "seed", o->c.seed);
    cli_json_num(&j, "max_score", n ? s[best] : 0);
    if (n) cli_json_u64(&j, "max_vertex", gasp_graph_gid(rg, best));
    cli_json_num(&j, "mean_score", n ? sum / n : 0);
    cli_json_u64(&j, "pull_iterations", st->pull_iterations);
    tk_json_run(&j, st, 0, 1, load_s);
    cli_json_end(&j);
  } else if (!o->c.quiet) {
    char from[160];
    if (exact)
      snprintf(from, sizeof from, "from all %llu sources (exact)",
               (unsigned long long)k);
    else
      snprintf(from, sizeof from,
               "estimated from %llu sampled sources (seed %llu; sums scaled "
               "by (n - 1) / k, Eppstein-Wang)",
               (unsigned long long)k, (unsigned long long)o->c.seed);
    fprintf(stderr,
            "gasp: closeness: %s closeness of %u vertices %s; largest %.6g "
            "(id %llu), mean %.6g; %llu supersteps (%llu pulled) in %.3f s\n",
            a->harmonic ? "harmonic" : "Wasserman-Faust", n, from,
            n ? s[best] : 0,
            n ? (unsigned long long)gasp_graph_gid(rg, best) : 0ull,
            n ? sum / n : 0, (unsigned long long)st->iterations,
            (unsigned long long)st->pull_iterations, st->seconds);
  }
}

int cmd_closeness(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  cl_args a = {0, 0, 0, 0};
  static const struct option extra[] = {
      {"samples", required_argument, 0, O_SAMPLES},
      {"harmonic", no_argument, 0, O_HARMONIC},
      {"exact", no_argument, 0, O_EXACT},
      {0, 0, 0, 0}};
  o.dist_ok = 1;
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB |
               TK_TAKES_WEIGHTS | TK_TAKES_MAX_ITER);
  o.sync_only = "level by level";
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (a.exact && a.have_samples) {
    cli_error("closeness: --exact and --samples exclude each other");
    return EXIT_USAGE;
  }
  /* --undirected: the searches follow edges both ways (the graph is
   * loaded as it is, not symmetrised) */
  int undirected = o.c.symmetric;
  o.c.symmetric = 0;
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  double *score = NULL, *all = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_graph *rg = tk_result_graph(&o, g);
  uint64_t n = gasp_graph_num_vertices(rg), samples;
  if ((rc = plan(&o, &a, n, &samples))) goto out;
  gasp_vid nv = gasp_graph_num_vertices(g);
  if (!(score = malloc((nv ? (size_t)nv : 1) * sizeof *score))) {
    cli_error("closeness: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "closeness"))) goto out;
  gasp_closeness_opts co;
  gasp_closeness_opts_init(&co);
  co.engine = o.eng;
  co.harmonic = a.harmonic;
  co.undirected = undirected;
  co.samples = samples;
  co.seed = o.c.seed;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_closeness(g, &co, score, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const double *s = score;
  if (o.eng.dist) {
    all = tk_dist_results(&o, NULL, &st, score, sizeof *score, &rc);
    if (rc) goto out;
    s = all;
  }
  if (!tk_is_root(&o)) goto out;
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_score, (void *)s))) goto out;
  uint64_t k = samples == 0 || samples >= n ? n : samples;
  summary(&o, g, rg, s, &a, undirected, k, &st, load_s);
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(score);
  free(all);
  return rc;
}
