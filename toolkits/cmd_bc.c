/*
 * cmd_bc.c -- `gasp bc`: the command over gasp_bc (lib_bc.c, Brandes'
 * betweenness centrality through the engine): flags, the sources,
 * loading (every rank in a distributed run), the call, and the scores
 * gathered, summarised and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

typedef struct bc_args {
  uint64_t samples;
  const char *sources; /* --sources ID[,ID...] */
  gasp_bc_norm norm;
  int top;
} bc_args;

enum { O_SAMPLES = OPT_FIRST_PRIVATE, O_SOURCES, O_NORMALIZE, O_TOP };

static int handle(int opt, const char *arg, void *u) {
  bc_args *a = u;
  switch (opt) {
  case O_SAMPLES:
    if (cli_parse_u64("--samples", arg, &a->samples)) return -1;
    if (!a->samples) {
      cli_error("--samples: must be at least 1");
      return -1;
    }
    return 0;
  case O_SOURCES: a->sources = arg; return 0;
  case O_NORMALIZE:
    if (!strcmp(arg, "none"))
      a->norm = GASP_BC_NORM_NONE;
    else if (!strcmp(arg, "max"))
      a->norm = GASP_BC_NORM_MAX;
    else if (!strcmp(arg, "networkx"))
      a->norm = GASP_BC_NORM_NETWORKX;
    else {
      cli_error("--normalize: '%s' is not none, max or networkx", arg);
      return -1;
    }
    return 0;
  case O_TOP: return cli_parse_int("--top", arg, &a->top);
  }
  return -1;
}

static const char help[] =
    "usage: gasp bc [options] -i GRAPH\n\n"
    "Betweenness centrality by Brandes' algorithm: from each source a\n"
    "level-synchronous BFS on the sync engine counts shortest paths (push or\n"
    "pull per level), then dependencies accumulate level by level from the\n"
    "deepest.  Every vertex is a source (exact), or --samples K distinct\n"
    "ones drawn for --seed, or the --sources given.  Unweighted: weights are\n"
    "ignored, and so are self loops and repeated edges (paths in the simple\n"
    "graph).  With --undirected every edge goes both ways and each unordered\n"
    "pair counts twice (networkx halves that when not normalising).\n"
    "Output: 'id<TAB>score'.  --normalize: none (the sum over the sources),\n"
    "max (divided by the largest, as the GAP benchmark suite's bc, which also\n"
    "credits each source with the vertices it reaches; gasp does not) or\n"
    "networkx (its normalized=True: by (n-1)(n-2); from k sources, a source\n"
    "by (k-1)(n-2), the rest by k(n-2)).\n\n"
    "options:\n"
    "      --samples K      K sources drawn uniformly (default: all)\n"
    "      --seed N         the sample's seed (1)\n"
    "      --sources ID[,ID...]  these sources (each entry counts)\n"
    "      --undirected     follow edges both ways\n"
    "      --normalize M    none (default), max or networkx\n"
    "      --top K          print the K highest-scored vertices\n" TK_HELP;

/* --sources as global vertex indices of the whole graph; returns 0 or an
 * exit code (message printed). */
static int parse_sources(const gasp_graph *whole, const char *list,
                         gasp_vid **out, uint64_t *n) {
  uint64_t cap = 1;
  for (const char *s = list; *s; s++)
    cap += *s == ',';
  gasp_vid *v = malloc(cap * sizeof *v);
  if (!v) {
    cli_error("bc: out of memory");
    return EXIT_RUNTIME;
  }
  uint64_t k = 0;
  const char *s = list;
  do {
    char *end;
    unsigned long long id = strtoull(s, &end, 10);
    if (end == s || (*end && *end != ',') || *s == '-' ||
        gasp_graph_find(whole, GASP_SIDE_LEFT, id, &v[k]) != GASP_OK) {
      cli_error("--sources: unknown vertex id '%.*s'", (int)strcspn(s, ","), s);
      free(v);
      return EXIT_USAGE;
    }
    k++;
    s = *end ? end + 1 : end;
  } while (*s);
  *out = v;
  *n = k;
  return 0;
}

static int fmt_score(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%.17g", ((const double *)user)[v]);
}

static int cmp_score(const void *a, const void *b, void *u) {
  const double *r = u;
  gasp_vid x = *(const gasp_vid *)a, y = *(const gasp_vid *)b;
  if (r[x] != r[y]) return r[x] > r[y] ? -1 : 1;
  return x < y ? -1 : x > y;
}

static void print_top(const gasp_graph *g, const double *r, int k) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_vid *idx = malloc((n ? (size_t)n : 1) * sizeof *idx);
  if (!idx) return;
  for (gasp_vid v = 0; v < n; v++)
    idx[v] = v;
  qsort_r(idx, n, sizeof *idx, cmp_score, (void *)r);
  for (int i = 0; i < k && (gasp_vid)i < n; i++)
    printf("%llu\t%.17g\n", (unsigned long long)gasp_graph_gid(g, idx[i]),
           r[idx[i]]);
  free(idx);
}

static const char *norm_name(gasp_bc_norm n) {
  return n == GASP_BC_NORM_MAX        ? "max"
         : n == GASP_BC_NORM_NETWORKX ? "networkx"
                                      : "none";
}

int cmd_bc(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  bc_args a = {0, NULL, GASP_BC_NORM_NONE, 0};
  static const struct option extra[] = {
      {"samples", required_argument, 0, O_SAMPLES},
      {"sources", required_argument, 0, O_SOURCES},
      {"normalize", required_argument, 0, O_NORMALIZE},
      {"top", required_argument, 0, O_TOP},
      {0, 0, 0, 0}};
  o.dist_ok = 1;
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB |
               TK_TAKES_WEIGHTS | TK_TAKES_MAX_ITER);
  o.sync_only = "level by level";
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (a.sources && a.samples) {
    cli_error("bc: --sources and --samples do not go together");
    return EXIT_USAGE;
  }
  /* --undirected: the library walks both lists; the graph is not copied */
  int undirected = o.c.symmetric;
  o.c.symmetric = 0;
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  double *score = NULL, *all = NULL;
  gasp_vid *src = NULL;
  uint64_t nsrc = 0;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_graph *rg = tk_result_graph(&o, g);
  if (a.sources && (rc = parse_sources(rg, a.sources, &src, &nsrc))) goto out;
  gasp_vid nv = gasp_graph_num_vertices(g);
  if (!(score = malloc((nv ? (size_t)nv : 1) * sizeof *score))) {
    cli_error("bc: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "bc"))) goto out;
  gasp_bc_opts bo;
  gasp_bc_opts_init(&bo);
  bo.engine = o.eng;
  bo.undirected = undirected;
  bo.samples = a.samples;
  bo.seed = o.c.seed;
  bo.sources = src;
  bo.num_sources = nsrc;
  bo.norm = a.norm;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_bc(g, &bo, score, &st, &err);
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
  gasp_vid n = gasp_graph_num_vertices(rg);
  uint64_t sources = nsrc ? nsrc : a.samples && a.samples < n ? a.samples : n;
  int done = st.reason == GASP_STOP_CONVERGED;
  gasp_vid best = 0;
  for (gasp_vid v = 1; v < n; v++)
    if (s[v] > s[best]) best = v;
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_score, (void *)s))) goto out;
  if (a.top > 0) print_top(rg, s, a.top);
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "bc");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "sources", sources);
    cli_json_bool(&j, "exact", sources == n && !nsrc);
    cli_json_bool(&j, "undirected", undirected);
    cli_json_str(&j, "normalize", norm_name(a.norm));
    if (n) {
      cli_json_u64(&j, "max_vertex", gasp_graph_gid(rg, best));
      cli_json_num(&j, "max_score", s[best]);
    }
    cli_json_u64(&j, "pull_iterations", st.pull_iterations);
    cli_json_num(&j, "seconds_per_source",
                 sources ? st.seconds / (double)sources : 0);
    tk_json_run(&j, &st, 0, done, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: bc: %llu source%s%s; the largest score %.6g (vertex "
            "%llu); %llu supersteps (%llu pulled) in %.3f s (%.3f ms a "
            "source)\n",
            (unsigned long long)sources, sources == 1 ? "" : "s",
            sources == n && !nsrc ? " (exact)" : "", n ? s[best] : 0.0,
            n ? (unsigned long long)gasp_graph_gid(rg, best) : 0ull,
            (unsigned long long)st.iterations,
            (unsigned long long)st.pull_iterations, st.seconds,
            sources ? 1e3 * st.seconds / (double)sources : 0.0);
  }
  if (!done) /* a warning, even with --quiet */
    fprintf(stderr, "gasp: bc: stopped early; the scores are those of the "
                    "sources finished\n");
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(score);
  free(all);
  free(src);
  return rc;
}
