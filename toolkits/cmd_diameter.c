/*
 * cmd_diameter.c -- `gasp diameter`: the command over gasp_diameter
 * (lib_diameter.c: HyperANF, or exact eccentricities by bit-parallel
 * breadth-first searches): flags, loading (every rank in a distributed
 * run), the call, and the eccentricities gathered, summarised and
 * written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <stdlib.h>
#include <string.h>

/* --exact searches from every vertex: refused above this many. */
#define EXACT_LIMIT 65536

typedef struct dm_args {
  int exact, bits;
} dm_args;

enum { O_EXACT = OPT_FIRST_PRIVATE, O_BITS, O_REGISTERS };

static int handle(int opt, const char *arg, void *u) {
  dm_args *a = u;
  uint64_t r;
  switch (opt) {
  case O_EXACT: a->exact = 1; return 0;
  case O_BITS:
    if (cli_parse_int("--bits", arg, &a->bits)) return -1;
    if (a->bits < 4 || a->bits > 16) {
      cli_error("--bits: 4 to 16 (16 to 65536 registers), not %d", a->bits);
      return -1;
    }
    return 0;
  case O_REGISTERS:
    if (cli_parse_u64("--registers", arg, &r)) return -1;
    for (a->bits = 4; a->bits <= 16 && (1ull << a->bits) != r; a->bits++) {
    }
    if (a->bits > 16) {
      cli_error("--registers: a power of two from 16 to 65536, not %s", arg);
      return -1;
    }
    return 0;
  }
  return -1;
}

static const char help[] =
    "usage: gasp diameter [options] -i GRAPH\n\n"
    "The neighbourhood function N(t) (pairs within t steps along the\n"
    "edges; --undirected: both ways) and the diameter, by HyperANF (Boldi,\n"
    "Rosa, Vigna 2011): every vertex keeps a HyperLogLog counter of the\n"
    "vertices within t steps, merged with its neighbours' each superstep\n"
    "until none grows.  The summary gives a lower bound on the diameter\n"
    "(the supersteps in which a counter grew), the effective diameter (90%\n"
    "of the reachable pairs lie within it, interpolated) and the relative\n"
    "standard error of each counter, 1.04 / sqrt(registers).  --exact\n"
    "searches from every vertex instead (up to 65536 vertices): exact\n"
    "eccentricities, diameter, radius and effective diameter.  Sync\n"
    "engine; runs across ranks (--np).\n"
    "Output: 'id<TAB>eccentricity' (HyperANF: a lower bound on it).\n\n"
    "options:\n"
    "      --exact          eccentricities by a search from every vertex\n"
    "      --bits B         2^B registers a counter, 4 to 16 (6)\n"
    "      --registers M    the same as a count: 16, 32, ... 65536\n"
    "      --undirected     follow edges both ways\n"
    "      --seed N         the counters' hash (1)\n"
    "      --max-iter N     HyperANF: at most N supersteps\n" TK_HELP;

static int fmt_ecc(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%u", ((const uint32_t *)user)[v]);
}

static void summary(tk_opts *o, gasp_graph *g, gasp_graph *rg,
                    const gasp_diameter_info *in, int undirected,
                    const gasp_run_stats *st, double load_s) {
  gasp_vid n = gasp_graph_num_vertices(rg);
  int converged = st->reason == GASP_STOP_CONVERGED;
  if (o->c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "diameter");
    cli_json_u64(&j, "vertices", n);
    cli_json_u64(&j, "edges", tk_result_edges(o, g));
    tk_dist_json(o, &j, st->iterations);
    cli_json_str(&j, "method", in->exact ? "exact" : "hyperanf");
    cli_json_bool(&j, "undirected", undirected);
    if (in->exact) {
      cli_json_u64(&j, "diameter", in->diameter);
      cli_json_u64(&j, "radius", in->radius);
    } else {
      cli_json_u64(&j, "registers", in->registers);
      cli_json_u64(&j, "seed", o->c.seed);
      cli_json_num(&j, "relative_std_error", in->rse);
    }
    cli_json_u64(&j, "diameter_lower_bound", in->diameter);
    cli_json_num(&j, "effective_diameter", in->effective);
    cli_json_num(&j, "pairs", in->pairs);
    cli_json_u64(&j, "steps", in->steps);
    cli_json_u64(&j, "pull_iterations", st->pull_iterations);
    tk_json_run(&j, st, 0, converged, load_s);
    cli_json_end(&j);
  } else if (!o->c.quiet) {
    if (in->exact)
      fprintf(stderr,
              "gasp: diameter: exact, from every vertex: diameter %llu, "
              "radius %llu, effective diameter %.3f, %.0f reachable pairs; "
              "%llu supersteps in %.3f s\n",
              (unsigned long long)in->diameter, (unsigned long long)in->radius,
              in->effective, in->pairs, (unsigned long long)st->iterations,
              st->seconds);
    else
      fprintf(stderr,
              "gasp: diameter: HyperANF, %u registers a counter: diameter at "
              "least %llu, effective diameter %.3f, %.4g reachable pairs "
              "(each counter within %.1f%% at one standard error); %llu "
              "supersteps in %.3f s\n",
              in->registers, (unsigned long long)in->diameter, in->effective,
              in->pairs, 100 * in->rse, (unsigned long long)st->iterations,
              st->seconds);
  }
  if (!converged) /* a warning, even with --quiet */
    fprintf(stderr,
            "gasp: diameter: stopped after %llu supersteps with "
            "counters still growing: the figures are lower bounds\n",
            (unsigned long long)st->iterations);
}

int cmd_diameter(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  dm_args a = {0, 6};
  static const struct option extra[] = {
      {"exact", no_argument, 0, O_EXACT},
      {"bits", required_argument, 0, O_BITS},
      {"registers", required_argument, 0, O_REGISTERS},
      {0, 0, 0, 0}};
  o.dist_ok = 1;
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_GPU | TK_TAKES_VOCAB |
               TK_TAKES_WEIGHTS);
  o.sync_only = "step by step";
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (a.exact && o.eng.max_iter) {
    cli_error("diameter: --max-iter bounds HyperANF; --exact searches run to "
              "their end");
    return EXIT_USAGE;
  }
  /* --undirected: edges followed both ways (the graph is loaded as it
   * is, not symmetrised) */
  int undirected = o.c.symmetric;
  o.c.symmetric = 0;
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  uint32_t *ecc = NULL, *all = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_graph *rg = tk_result_graph(&o, g);
  uint64_t n = gasp_graph_num_vertices(rg);
  if (a.exact && n > EXACT_LIMIT) {
    cli_error("diameter: --exact searches from every vertex; %llu vertices "
              "are more than %d: leave it out for HyperANF's estimate",
              (unsigned long long)n, EXACT_LIMIT);
    rc = EXIT_USAGE;
    goto out;
  }
  gasp_vid nv = gasp_graph_num_vertices(g);
  if (!(ecc = malloc((nv ? (size_t)nv : 1) * sizeof *ecc))) {
    cli_error("diameter: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "diameter"))) goto out;
  gasp_diameter_opts dopt;
  gasp_diameter_opts_init(&dopt);
  dopt.engine = o.eng;
  dopt.exact = a.exact;
  dopt.undirected = undirected;
  dopt.bits = a.bits;
  dopt.seed = o.c.seed;
  gasp_diameter_info info;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_diameter(g, &dopt, ecc, NULL, 0, &info, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const uint32_t *e = ecc;
  if (o.eng.dist) {
    all = tk_dist_results(&o, NULL, &st, ecc, sizeof *ecc, &rc);
    if (rc) goto out;
    e = all;
  }
  if (!tk_is_root(&o)) goto out;
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_ecc, (void *)e))) goto out;
  summary(&o, g, rg, &info, undirected, &st, load_s);
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(ecc);
  free(all);
  return rc;
}
