/*
 * cmd_pagerank.c -- `gasp pagerank`: the command over gasp_pagerank
 * (lib_pagerank.c): flags, the --personalized set, loading (every rank in
 * a distributed run), the call, and the ranks gathered and written.  With
 * a CUDA device (--gpu) the sync power iteration runs on the device
 * instead (pr_gpu.cu, built into this command as a user of libgasp would
 * build their kernels).
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct pr {
  double damping;
  const char *personalized;
  int top;
} pr;

/* ---- sync on the device ----------------------------------------------
 *
 * With a CUDA device (--gpu auto/on) a sync run keeps the whole iteration
 * on the device (pr_gpu.cu): the apply alone is a handful of flops per
 * vertex against 16 bytes each way over PCIe, so batching only it would
 * lose to the CPU; the graph, ranks and contributions stay resident and
 * only the L1 change and dangling mass come back per iteration.  The
 * trace, progress and stopping rule are those of gasp_pagerank's sync
 * run. */

#ifdef GASP_TOOLKIT_CUDA
#include "pr_gpu.h"

/* pr_run_gpu's answer when, under --gpu auto, the graph did not go onto
 * the device (too large for its memory, or the device refused): the CPU
 * run follows. */
#define PR_GPU_DECLINED (-1)

/* tele: the teleport distribution (summing to 1), NULL for uniform. */
static int pr_run_gpu(const pr *p, gasp_graph *g, tk_opts *o,
                      const double *tele, double tol, double *rank,
                      gasp_run_stats *st) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency in;
  gasp_graph_in_edges(g, &in);
  size_t nb = (n ? n : 1) * sizeof(double);
  uint64_t *outdeg = malloc((n ? n : 1) * sizeof *outdeg);
  double *t = malloc(nb);
  pr_gpu *d = NULL;
  char err[256];
  int rc = EXIT_RUNTIME;
  if (!outdeg || !t) {
    cli_error("pagerank: out of memory");
    goto out;
  }
  for (gasp_vid v = 0; v < n; v++) {
    outdeg[v] = gasp_graph_out_degree(g, v);
    rank[v] = t[v] = tele ? tele[v] : 1.0 / (double)n;
  }
  pr_gpu_graph pg = {n, in.num_edges, in.off, in.nbr, outdeg, t, rank};
  if (pr_gpu_new(&d, &pg, err, sizeof err)) {
    if (o->eng.gpu == GASP_GPU_AUTO) { /* nothing changed yet: the CPU runs */
      if (!o->c.quiet)
        fprintf(stderr, "gasp: pagerank: %s; running on the CPU\n", err);
      rc = PR_GPU_DECLINED;
    } else {
      cli_error("pagerank: %s", err);
    }
    goto out;
  }
  double t0 = cli_now();
  memset(st, 0, sizeof *st);
  st->reason = GASP_STOP_MAX_ITER;
  for (uint64_t it = 1; it <= o->eng.max_iter; it++) {
    double residual;
    if (pr_gpu_step(d, p->damping, &residual, err, sizeof err)) {
      cli_error("pagerank: %s", err);
      goto out;
    }
    st->iterations = it;
    st->updates += n;
    gasp_iter_info info = {it, n, st->updates, cli_now() - t0, residual};
    if (o->eng.on_iteration &&
        o->eng.on_iteration(o->eng.on_iteration_user, &info)) {
      st->reason = GASP_STOP_PROGRAM;
      break;
    }
    if (residual < tol) {
      st->reason = GASP_STOP_CONVERGED;
      break;
    }
  }
  if (pr_gpu_ranks(d, rank, err, sizeof err)) {
    cli_error("pagerank: %s", err);
    goto out;
  }
  st->seconds = cli_now() - t0;
  rc = 0;
out:
  pr_gpu_free(d);
  free(outdeg);
  free(t);
  return rc;
}
#endif

/* ---- driver --------------------------------------------------------- */

enum {
  O_DAMPING = OPT_FIRST_PRIVATE,
  O_PERSONALIZED,
  O_TOP,
  O_BLOCKED,
  O_BLOCK_VERTICES
};

typedef struct pr_args {
  pr *p;
  tk_opts *o;
} pr_args;

static int handle(int opt, const char *arg, void *u) {
  pr_args *a = u;
  pr *p = a->p;
  switch (opt) {
  case O_BLOCKED:
    if (gasp_block_mode_parse(arg, &a->o->eng.blocked) == GASP_OK) return 0;
    cli_error("--blocked: expected auto, on or off, got '%s'", arg);
    return -1;
  case O_BLOCK_VERTICES: {
    uint64_t n;
    if (cli_parse_u64("--block-vertices", arg, &n)) return -1;
    if (n < 64 || n > (1u << 30)) {
      cli_error("--block-vertices: must be 64..2^30");
      return -1;
    }
    a->o->eng.block_vertices = (uint32_t)n;
    return 0;
  }
  case O_DAMPING:
    if (cli_parse_double("--damping", arg, &p->damping)) return -1;
    if (p->damping < 0 || p->damping >= 1) {
      cli_error("--damping: must be in [0, 1)");
      return -1;
    }
    return 0;
  case O_PERSONALIZED: p->personalized = arg; return 0;
  case O_TOP: return cli_parse_int("--top", arg, &p->top);
  }
  return -1;
}

static const char help[] =
    "usage: gasp pagerank [options] -i GRAPH\n\n"
    "PageRank with damping d; dangling vertices' rank is spread over the\n"
    "teleport distribution (uniform, or the --personalized set), so ranks\n"
    "sum to 1.  A graph with a weight column gives weighted PageRank (u\n"
    "passes rank along u -> v in proportion to its weight) unless\n"
    "--unweighted.  --engine sync (default) is power iteration stopping when "
    "the\n"
    "L1 change is below --tol (1e-10); --engine async is delta PageRank with\n"
    "the priority scheduler.\n\n"
    "options:\n"
    "      --damping D      damping factor (0.85)\n"
    "      --personalized ID[,ID...]  teleport only to these vertices\n"
    "      --top K          print the K highest-ranked vertices\n"
    "      --blocked M      auto|on|off: the sync engine's cache-blocked\n"
    "                       gather (sources write their contributions into\n"
    "                       per-block bins, then each block of destinations,\n"
    "                       sized to the L2, adds its bin); auto blocks on one\n"
    "                       process when the contributions (8 bytes a vertex)\n"
    "                       outgrow half the L3, there are 4 or more edges\n"
    "                       per vertex and the graph is not reordered\n"
    "      --block-vertices N  destinations per block (default: four sums "
    "of a\n"
    "                       block's doubles in half the L2)\n" TK_HELP
        TK_CHECKPOINT_HELP;

/* The --personalized set as teleport weights: 1 / |set| for its members
 * held here, 0 elsewhere; returns 0 or an exit code (message printed).
 * Ids are checked against `whole` (the whole graph; in a distributed run
 * g is this rank's part, which may not hold them). */
static int set_teleport(const gasp_graph *g, const gasp_graph *whole,
                        const char *list, double *tele) {
  gasp_vid n = gasp_graph_num_vertices(g), nw = gasp_graph_num_vertices(whole);
  uint8_t *in = calloc(nw ? nw : 1, 1);
  if (!in) {
    cli_error("pagerank: out of memory");
    return EXIT_RUNTIME;
  }
  for (gasp_vid v = 0; v < n; v++)
    tele[v] = 0;
  long count = 0;
  const char *s = list;
  while (*s) {
    char *end;
    unsigned long long id = strtoull(s, &end, 10);
    gasp_vid v, w;
    if (end == s || (*end && *end != ',') ||
        gasp_graph_find(whole, GASP_SIDE_LEFT, id, &w) != GASP_OK) {
      cli_error("--personalized: unknown vertex id '%.*s'",
                (int)strcspn(s, ","), s);
      free(in);
      return EXIT_USAGE;
    }
    if (!in[w]) count++;
    in[w] = 1;
    if (gasp_graph_find(g, GASP_SIDE_LEFT, id, &v) == GASP_OK) tele[v] = 1;
    s = *end ? end + 1 : end;
  }
  for (gasp_vid v = 0; v < n; v++)
    tele[v] /= (double)count;
  free(in);
  return 0;
}

static int fmt_rank(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%.12g", ((const double *)user)[v]);
}

static int cmp_rank(const void *a, const void *b, void *u) {
  const double *r = u;
  gasp_vid x = *(const gasp_vid *)a, y = *(const gasp_vid *)b;
  if (r[x] != r[y]) return r[x] > r[y] ? -1 : 1;
  return x < y ? -1 : x > y;
}

static void print_top(const gasp_graph *g, const double *r, int k) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_vid *idx = malloc((size_t)n * sizeof *idx);
  if (!idx) return;
  for (gasp_vid v = 0; v < n; v++)
    idx[v] = v;
  qsort_r(idx, n, sizeof *idx, cmp_rank, (void *)r);
  for (int i = 0; i < k && (gasp_vid)i < n; i++)
    printf("%llu\t%.12g\n", (unsigned long long)gasp_graph_gid(g, idx[i]),
           r[idx[i]]);
  free(idx);
}

int cmd_pagerank(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.reorder_ok = 1; /* results independent of vertex order */
  o.takes &= ~(TK_TAKES_VOCAB | TK_TAKES_SEED);
  pr p;
  memset(&p, 0, sizeof p);
  p.damping = 0.85;
  static const struct option extra[] = {
      {"damping", required_argument, 0, O_DAMPING},
      {"personalized", required_argument, 0, O_PERSONALIZED},
      {"top", required_argument, 0, O_TOP},
      {"blocked", required_argument, 0, O_BLOCKED},
      {"block-vertices", required_argument, 0, O_BLOCK_VERTICES},
      {0, 0, 0, 0}};
  pr_args args = {&p, &o};
  o.dist_ok = 1; /* --np N: sync power iteration across ranks */
  o.checkpoint_ok = 1; /* the power iteration (sync) */
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &args);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  gasp_pagerank_opts po;
  gasp_pagerank_opts_init(&po);
  po.damping = p.damping;
  if (o.tol >= 0) po.tol = o.tol;
  if (!o.eng.max_iter) o.eng.max_iter = 1000; /* as gasp_pagerank's */
  int async = o.eng.engine == GASP_ENGINE_ASYNC;

  gasp_graph *g = NULL;
  tk_iter it = {0};
  double load_s = 0;
  double *ranks = NULL, *tele = NULL;
  double *all = NULL; /* distributed: every rank's results, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_dist *dist = o.eng.dist;
  gasp_vid local = gasp_graph_num_vertices(g);
  size_t nl = local ? (size_t)local : 1;
  /* a weight column makes it weighted PageRank (unless --unweighted) */
  po.weighted = gasp_graph_weights(g) != NULL;
  char gpu_name[128];
  int gpu = tk_use_gpu(&o, "pagerank",
                       async  ? "the device runs the sync power iteration"
                       : dist ? "the device runs on one process"
                       : po.weighted ? "the device runs unweighted PageRank"
                                     : NULL,
                       gpu_name, sizeof gpu_name);
  if (gpu < 0) {
    rc = EXIT_USAGE;
    goto out;
  }
  o.eng.gpu = GASP_GPU_OFF; /* the program itself has no device apply */
  if (!(ranks = malloc(nl * sizeof *ranks)) ||
      (p.personalized && !(tele = malloc(nl * sizeof *tele)))) {
    cli_error("pagerank: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if (p.personalized &&
      (rc = set_teleport(g, tk_result_graph(&o, g), p.personalized, tele)))
    goto out;
  po.teleport = tele;
  if ((rc = tk_iter_start(&it, &o, "pagerank"))) goto out;
  gasp_run_stats st;
#ifdef GASP_TOOLKIT_CUDA
  if (gpu && (rc = pr_run_gpu(&p, g, &o, tele, po.tol, ranks, &st)) ==
                 PR_GPU_DECLINED) {
    gpu = 0;
    snprintf(gpu_name, sizeof gpu_name, "none");
    rc = 0;
  }
  if (rc) goto out;
#endif
  if (!gpu) {
    po.engine = o.eng;
    gasp_error err;
    int grc = gasp_pagerank(g, &po, ranks, &st, &err);
    if (grc) {
      rc = cli_fail(&err, grc);
      goto out;
    }
  }
  tk_iter_end(&it);
  int converged = st.reason == GASP_STOP_CONVERGED;
  const double *r = ranks;
  if (dist) { /* the results, in global order, on rank 0 */
    all = tk_dist_results(&o, NULL, &st, ranks, sizeof *ranks, &rc);
    if (rc) goto out;
    r = all;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_rank, (void *)r))) goto out;
  if (p.top > 0) print_top(rg, r, p.top);
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "pagerank");
    cli_json_u64(&j, "vertices", gasp_graph_num_vertices(rg));
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    cli_json_str(&j, "engine", async ? "async" : "sync");
    cli_json_bool(&j, "weighted", po.weighted);
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "iterations", st.iterations);
    cli_json_u64(&j, "updates", st.updates);
    cli_json_bool(&j, "converged", converged);
    if (!async) cli_json_num(&j, "residual", it.last_residual);
    cli_json_num(&j, "damping", p.damping);
    cli_json_str(&j, "gpu", gpu ? gpu_name : "none");
    cli_json_num(&j, "seconds", st.seconds);
    cli_json_num(&j, "seconds_per_iteration",
                 st.iterations ? st.seconds / (double)st.iterations : 0);
    cli_json_str(&j, "gather", st.blocked_iterations ? "blocked" : "pull");
    if (st.blocked_iterations) {
      cli_json_u64(&j, "blocked_iterations", st.blocked_iterations);
      cli_json_u64(&j, "blocked_bytes", st.blocked_bytes);
      cli_json_u64(&j, "blocked_pairs", st.blocked_pairs);
      cli_json_num(&j, "blocked_build_seconds", st.blocked_build_seconds);
    }
    /* the supersteps alone (a blocked run's bins are built once) */
    cli_json_num(&j, "superstep_seconds",
                 st.iterations ? (st.seconds - st.blocked_build_seconds) /
                                     (double)st.iterations
                               : 0);
    tk_json_memory(&j, gasp_graph_num_edges(g));
    cli_json_num(&j, "load_seconds", load_s);
    tk_checkpoint_json(&j, &st);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: pagerank: %s%s after %llu iterations (%llu updates) in "
            "%.3f s (%.1f ms/iteration)%s\n",
            po.weighted ? "weighted, " : "",
            converged ? "converged" : "stopped",
            (unsigned long long)st.iterations, (unsigned long long)st.updates,
            st.seconds,
            st.iterations ? 1e3 * st.seconds / (double)st.iterations : 0.0,
            gpu ? " on the GPU" : "");
  }
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(all);
  free(ranks);
  free(tele);
  return rc;
}
