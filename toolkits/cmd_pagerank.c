/*
 * cmd_pagerank.c -- `gasp pagerank`: PageRank (Brin and Page 1998) as a
 * vertex program.
 *
 * Convention (networkx, most textbooks): with damping d, teleport
 * distribution p (uniform 1/N, or uniform over the --personalized set) and
 * D the rank held by dangling vertices (no out-edges),
 *     r_v = (1 - d) p_v + d (sum_{u -> v} r_u / outdeg(u) + D p_v),
 * so the ranks sum to 1 and a dangling vertex's mass is spread over p.
 *
 * --engine sync: classic power iteration (Jacobi), every vertex updated
 * every superstep; ends when the L1 change of the rank vector is below
 * --tol.  The gather is a bulk pull over in-edges reading a dense array of
 * contributions r_u / outdeg(u).  Mixed precision: while the L1 change is
 * above 1e-5 (and the tolerance asks for less) the contributions are kept
 * as floats -- half the cache footprint of the randomly read array, the
 * precision gapbs uses throughout -- with ranks and sums in double; then
 * the array is rebuilt in double from the ranks and the iteration goes on
 * to the tolerance, so the result is the double-precision fixed point.
 *
 * --engine async: delta PageRank with the priority scheduler.  It solves
 * x = (1 - d) p + d A x (dangling mass dropped), whose solution is
 * proportional to the ranks above (the dangling term only rescales it), and
 * normalises x to sum 1 at the end; a vertex whose value moved by more
 * than tol / N re-signals its out-neighbours with that change as priority.
 */
#include "toolkit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct pr_vertex {
  double rank;
  double teleport; /* p_v */
} pr_vertex;

/* Per-thread partial sums, padded to a cache line. */
typedef struct pr_partial {
  double change, dangling;
  char pad[48];
} pr_partial;

typedef struct pr {
  double damping, tol, n;
  double *contrib;  /* r_u / outdeg(u), 0 for dangling */
  float *contrib_f; /* the same in float, while use_float */
  int use_float;
  double dangling;  /* D of the previous superstep */
  pr_partial *part; /* per thread */
  int threads;
  double residual; /* L1 change of the last superstep */
  const char *personalized;
  gasp_graph *g;
  int top;
  uint64_t iterations;
  gasp_engine *e; /* for the reductions of a distributed run */
  gasp_vid local; /* vertices of the graph this process holds */
} pr;

static void pr_init(gasp_ctx *ctx, void *vd) {
  pr *p = gasp_ctx_user(ctx);
  pr_vertex *v = vd;
  /* teleport is filled by the driver before this runs only for
   * personalised runs; here the uniform case */
  if (!p->personalized) v->teleport = 1.0 / p->n;
  v->rank = v->teleport;
  uint64_t out = gasp_ctx_out_degree(ctx);
  double c = out ? v->rank / (double)out : 0.0;
  p->contrib[gasp_ctx_vertex(ctx)] = c;
  if (p->contrib_f) p->contrib_f[gasp_ctx_vertex(ctx)] = (float)c;
}

static void pr_gather_f(const float *contrib, const gasp_nbrs *nb, void *acc) {
  const gasp_vid *in = nb->in;
  double s0 = 0, s1 = 0;
  uint64_t i = 0, n = nb->n_in;
  for (; i + 1 < n; i += 2) {
    __builtin_prefetch(&contrib[in[i + 16 < n ? i + 16 : i]]);
    __builtin_prefetch(&contrib[in[i + 17 < n ? i + 17 : i]]);
    s0 += contrib[in[i]];
    s1 += contrib[in[i + 1]];
  }
  if (i < n) s0 += contrib[in[i]];
  *(double *)acc = s0 + s1;
}

static void pr_gather(const gasp_ctx *ctx, const void *v, const gasp_nbrs *nb,
                      void *acc) {
  const pr *pp = gasp_ctx_user(ctx);
  if (pp->use_float) {
    pr_gather_f(pp->contrib_f, nb, acc);
    return;
  }
  const double *contrib = pp->contrib;
  const gasp_vid *in = nb->in;
  double s0 = 0, s1 = 0;
  uint64_t i = 0, n = nb->n_in;
  /* The reads are random and latency-bound: fetch a few ahead. */
  for (; i + 1 < n; i += 2) {
    __builtin_prefetch(&contrib[in[i + 16 < n ? i + 16 : i]]);
    __builtin_prefetch(&contrib[in[i + 17 < n ? i + 17 : i]]);
    s0 += contrib[in[i]];
    s1 += contrib[in[i + 1]];
  }
  if (i < n) s0 += contrib[in[i]];
  *(double *)acc = s0 + s1;
}

static void pr_apply_sync(gasp_ctx *ctx, void *vd, const void *acc) {
  pr *p = gasp_ctx_user(ctx);
  pr_vertex *v = vd;
  double r = (1 - p->damping) * v->teleport +
             p->damping * (*(const double *)acc + p->dangling * v->teleport);
  pr_partial *pt = &p->part[gasp_ctx_thread(ctx)];
  pt->change += fabs(r - v->rank);
  v->rank = r;
  uint64_t out = gasp_ctx_out_degree(ctx);
  if (!out)
    pt->dangling += r;
  else if (p->use_float)
    p->contrib_f[gasp_ctx_vertex(ctx)] = (float)(r / (double)out);
  else
    p->contrib[gasp_ctx_vertex(ctx)] = r / (double)out;
}

/* After each superstep: residual and the dangling mass for the next. */
static int pr_done(void *user, const gasp_iter_info *info, double residual) {
  pr *p = user;
  p->iterations = info->iteration;
  return residual < p->tol;
}

static double pr_residual(void *user) {
  pr *p = user;
  double change = 0, dangling = 0;
  for (int t = 0; t < p->threads; t++) {
    change += p->part[t].change;
    dangling += p->part[t].dangling;
    p->part[t].change = p->part[t].dangling = 0;
  }
  double sums[2] = {change, dangling}; /* over every rank */
  if (gasp_engine_allreduce(p->e, sums, 2, GASP_REDUCE_SUM) == GASP_OK)
    change = sums[0], dangling = sums[1];
  p->dangling = dangling;
  p->residual = change;
  if (p->use_float && change < 1e-5) { /* float has done its part */
    const pr_vertex *vd = gasp_graph_vertex_data(p->g);
    for (gasp_vid v = 0; v < p->local; v++) {
      uint64_t out = gasp_graph_out_degree(p->g, v);
      p->contrib[v] = out ? vd[v].rank / (double)out : 0.0;
    }
    p->use_float = 0;
    change = 1.0; /* not converged: the double phase decides */
  }
  return change;
}

/* ---- sync on the device ----------------------------------------------
 *
 * With a CUDA device (--gpu auto/on) a sync run keeps the whole iteration
 * on the device (pr_gpu.cu): the apply alone is a handful of flops per
 * vertex against 16 bytes each way over PCIe, so batching only it would
 * lose to the CPU; the graph, ranks and contributions stay resident and
 * only the L1 change and dangling mass come back per iteration.  The
 * engine still initialises the vertices, and the trace, progress and
 * stopping rule are the CPU run's. */

static double pr_residual_gpu(void *user) { return ((pr *)user)->residual; }

#ifdef GASP_TOOLKIT_CUDA
#include "pr_gpu.h"

/* pr_run_gpu's answer when, under --gpu auto, the graph did not go onto
 * the device (too large for its memory, or the device refused): the
 * vertices are untouched and the CPU run follows. */
#define PR_GPU_DECLINED (-1)

static int pr_run_gpu(pr *p, gasp_graph *g, tk_opts *o, gasp_run_stats *st) {
  pr_vertex *vd = gasp_graph_vertex_data(g);
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency in;
  gasp_graph_in_edges(g, &in);
  size_t nb = (n ? n : 1) * sizeof(double);
  uint64_t *outdeg = malloc((n ? n : 1) * sizeof *outdeg);
  double *tele = malloc(nb), *rank = malloc(nb);
  pr_gpu *d = NULL;
  char err[256];
  int rc = EXIT_RUNTIME;
  if (!outdeg || !tele || !rank) {
    cli_error("pagerank: out of memory");
    goto out;
  }
  for (gasp_vid v = 0; v < n; v++) {
    outdeg[v] = gasp_graph_out_degree(g, v);
    tele[v] = vd[v].teleport;
    rank[v] = vd[v].rank;
  }
  pr_gpu_graph pg = {n, in.num_edges, in.off, in.nbr, outdeg, tele, rank};
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
    if (pr_gpu_step(d, p->damping, &p->residual, err, sizeof err)) {
      cli_error("pagerank: %s", err);
      goto out;
    }
    st->iterations = it;
    st->updates += n;
    gasp_iter_info info = {it, n, st->updates, cli_now() - t0, 0};
    if (o->eng.on_iteration &&
        o->eng.on_iteration(o->eng.on_iteration_user, &info)) {
      st->reason = GASP_STOP_PROGRAM;
      break;
    }
  }
  if (pr_gpu_ranks(d, rank, err, sizeof err)) {
    cli_error("pagerank: %s", err);
    goto out;
  }
  for (gasp_vid v = 0; v < n; v++)
    vd[v].rank = rank[v];
  st->seconds = cli_now() - t0;
  rc = 0;
out:
  pr_gpu_free(d);
  free(outdeg);
  free(tele);
  free(rank);
  return rc;
}
#endif

/* ---- async: delta PageRank ------------------------------------------ */

static void pr_apply_async(gasp_ctx *ctx, void *vd, const void *acc) {
  pr *p = gasp_ctx_user(ctx);
  pr_vertex *v = vd;
  double x = (1 - p->damping) * v->teleport + p->damping * *(const double *)acc;
  double change = fabs(x - v->rank);
  v->rank = x;
  uint64_t out = gasp_ctx_out_degree(ctx);
  double c = out ? x / (double)out : 0.0;
  uint64_t bits;
  memcpy(&bits, &c, sizeof bits);
  __atomic_store_n((uint64_t *)&p->contrib[gasp_ctx_vertex(ctx)], bits,
                   __ATOMIC_RELAXED);
  pr_partial *pt = &p->part[gasp_ctx_thread(ctx)];
  pt->change = change; /* read by scatter of this same update */
}

static void pr_gather_async(const gasp_ctx *ctx, const void *v,
                            const gasp_nbrs *nb, void *acc) {
  const double *contrib = ((const pr *)gasp_ctx_user(ctx))->contrib;
  double s = 0;
  for (uint64_t i = 0; i < nb->n_in; i++) {
    uint64_t b = __atomic_load_n((const uint64_t *)&contrib[nb->in[i]],
                                 __ATOMIC_RELAXED);
    double c;
    memcpy(&c, &b, sizeof c);
    s += c;
  }
  *(double *)acc = s;
}

static void pr_scatter_async(gasp_ctx *ctx, const void *vd,
                             const gasp_edge *e) {
  pr *p = gasp_ctx_user(ctx);
  double change = p->part[gasp_ctx_thread(ctx)].change;
  if (change > p->tol / p->n) gasp_signal_priority(ctx, e->nbr, change);
}

/* ---- driver --------------------------------------------------------- */

/* The contributions are read at random every iteration: on 2 MiB pages
 * they cost far fewer TLB misses. */
static void *alloc_huge(size_t n, size_t size) {
  void *p = NULL;
  size_t bytes = n * size;
  if (bytes < ((size_t)4 << 20)) return calloc(n, size);
  if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);
#endif
  memset(p, 0, bytes);
  return p;
}

enum { O_DAMPING = OPT_FIRST_PRIVATE, O_PERSONALIZED, O_TOP };

static int handle(int opt, const char *arg, void *u) {
  pr *p = u;
  switch (opt) {
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
    "sum to 1.  --engine sync (default) is power iteration stopping when the\n"
    "L1 change is below --tol (1e-10); --engine async is delta PageRank with\n"
    "the priority scheduler.\n\n"
    "options:\n"
    "      --damping D      damping factor (0.85)\n"
    "      --personalized ID[,ID...]  teleport only to these vertices\n"
    "      --top K          print the K highest-ranked vertices\n" TK_HELP;

/* Marks the personalisation set; returns its size or -1 (message printed). */
/* Ids are checked against `whole` (the whole graph; in a distributed run
 * g is this rank's part, which may not hold them). */
static long set_teleport(gasp_graph *g, const gasp_graph *whole,
                         const char *list) {
  pr_vertex *vd = gasp_graph_vertex_data(g);
  gasp_vid n = gasp_graph_num_vertices(g), nw = gasp_graph_num_vertices(whole);
  uint8_t *in = calloc(nw ? nw : 1, 1);
  if (!in) return -1;
  for (gasp_vid v = 0; v < n; v++)
    vd[v].teleport = 0;
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
      return -1;
    }
    if (!in[w]) count++;
    in[w] = 1;
    if (gasp_graph_find(g, GASP_SIDE_LEFT, id, &v) == GASP_OK)
      vd[v].teleport = 1;
    s = *end ? end + 1 : end;
  }
  for (gasp_vid v = 0; v < n; v++)
    vd[v].teleport /= (double)count;
  free(in);
  return count;
}

static int fmt_rank(char *buf, size_t cap, gasp_vid v, void *user) {
  const pr_vertex *vd = user;
  return snprintf(buf, cap, "%.12g", vd[v].rank);
}

static int cmp_rank(const void *a, const void *b, void *u) {
  const pr_vertex *vd = u;
  gasp_vid x = *(const gasp_vid *)a, y = *(const gasp_vid *)b;
  if (vd[x].rank != vd[y].rank) return vd[x].rank > vd[y].rank ? -1 : 1;
  return x < y ? -1 : x > y;
}

static void print_top(const gasp_graph *g, const pr_vertex *vd, int k) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_vid *idx = malloc((size_t)n * sizeof *idx);
  if (!idx) return;
  for (gasp_vid v = 0; v < n; v++)
    idx[v] = v;
  qsort_r(idx, n, sizeof *idx, cmp_rank, (void *)vd);
  for (int i = 0; i < k && (gasp_vid)i < n; i++)
    printf("%llu\t%.12g\n", (unsigned long long)gasp_graph_gid(g, idx[i]),
           vd[idx[i]].rank);
  free(idx);
}

int cmd_pagerank(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.takes &= ~(TK_TAKES_VOCAB | TK_TAKES_SEED | TK_TAKES_WEIGHTS);
  pr p;
  memset(&p, 0, sizeof p);
  p.damping = 0.85;
  static const struct option extra[] = {
      {"damping", required_argument, 0, O_DAMPING},
      {"personalized", required_argument, 0, O_PERSONALIZED},
      {"top", required_argument, 0, O_TOP},
      {0, 0, 0, 0}};
  o.dist_ok = 1; /* --np N: sync power iteration across ranks */
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &p);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  p.tol = o.tol >= 0 ? o.tol : 1e-10;
  if (!o.eng.max_iter)
    o.eng.max_iter = 1000; /* stops a run that cannot converge */
  int async = o.eng.engine == GASP_ENGINE_ASYNC;
  if (async && o.eng.scheduler == GASP_SCHED_FIFO)
    o.eng.scheduler = GASP_SCHED_PRIORITY;

  gasp_graph *g = NULL;
  gasp_engine *e = NULL;
  tk_iter it = {0};
  double load_s = 0;
  pr_vertex *all = NULL; /* distributed: every rank's results, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_dist *dist = o.eng.dist;
  p.local = gasp_graph_num_vertices(g);
  p.n = dist ? (double)gasp_dist_global_vertices(dist) : (double)p.local;
  p.contrib = alloc_huge(p.local ? (size_t)p.local : 1, sizeof *p.contrib);
  p.g = g;
  char gpu_name[128];
  int gpu = tk_use_gpu(&o, "pagerank",
                       async  ? "the device runs the sync power iteration"
                       : dist ? "the device runs on one process"
                              : NULL,
                       gpu_name, sizeof gpu_name);
  if (gpu < 0) {
    rc = EXIT_USAGE;
    goto out;
  }
  o.eng.gpu = GASP_GPU_OFF; /* the program itself has no device apply */
  /* across ranks the contributions travel as doubles (one mirror) */
  p.use_float = !async && p.tol < 1e-5 && !dist && !gpu;
  if (p.use_float && !(p.contrib_f = (float *)alloc_huge(
                           p.local ? (size_t)p.local : 1, sizeof(float)))) {
    cli_error("pagerank: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  gasp_program prog = {0};
  prog.vertex_size = sizeof(pr_vertex);
  prog.acc_size = sizeof(double);
  prog.init_vertex = pr_init;
  prog.gather_dir = GASP_DIR_IN;
  prog.gather_vertex = async ? pr_gather_async : pr_gather;
  prog.apply = async ? pr_apply_async : pr_apply_sync;
  if (async) {
    prog.scatter_dir = GASP_DIR_OUT;
    prog.scatter = pr_scatter_async;
  }
  prog.user = &p;
  it.residual = async ? NULL : gpu ? pr_residual_gpu : pr_residual;
  it.done = async ? NULL : pr_done;
  it.user = &p;
  if ((rc = tk_iter_start(&it, &o, "pagerank"))) goto out;
  o.eng.always_active = !async;
  if (!p.contrib) {
    cli_error("pagerank: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_engine_new(&e, g, &prog, &o))) goto out;
  p.e = e;
  if (dist && gasp_engine_mirror(e, p.contrib, sizeof *p.contrib)) {
    rc = EXIT_RUNTIME;
    goto out;
  }
  p.threads = gasp_engine_threads(e);
  p.part = tk_calloc_lines((size_t)p.threads, sizeof *p.part);
  if (!p.part) {
    rc = EXIT_RUNTIME;
    goto out;
  }
  pr_vertex *vd = gasp_graph_vertex_data(g);
  if (p.personalized) {
    if (set_teleport(g, tk_result_graph(&o, g), p.personalized) < 0) {
      rc = EXIT_USAGE;
      goto out;
    }
    for (gasp_vid v = 0; v < p.local; v++) {
      uint64_t out = gasp_graph_out_degree(g, v);
      vd[v].rank = vd[v].teleport;
      p.contrib[v] = out ? vd[v].rank / (double)out : 0;
      if (p.contrib_f) p.contrib_f[v] = (float)p.contrib[v];
    }
  }
  /* the dangling mass of the starting vector (owned vertices, summed
   * over the ranks) */
  for (gasp_vid v = 0; v < gasp_graph_num_owned(g); v++)
    if (gasp_graph_out_degree(g, v) == 0) p.dangling += vd[v].rank;
  if (gasp_engine_allreduce(e, &p.dangling, 1, GASP_REDUCE_SUM)) {
    cli_error("pagerank: %s", gasp_engine_last_error(e)->msg);
    rc = EXIT_RUNTIME;
    goto out;
  }
  gasp_engine_signal_all(e, 1.0);
  gasp_run_stats st;
#ifdef GASP_TOOLKIT_CUDA
  if (gpu && (rc = pr_run_gpu(&p, g, &o, &st)) == PR_GPU_DECLINED) {
    gpu = 0;
    snprintf(gpu_name, sizeof gpu_name, "none");
    rc = 0;
  }
  if (rc) goto out;
#endif
  if (!gpu && (rc = tk_run(e, &st))) goto out;
  tk_iter_end(&it);
  double total = 0; /* delta PageRank leaves the mass to normalise */
  for (gasp_vid v = 0; v < gasp_graph_num_owned(g); v++)
    total += vd[v].rank;
  if (async && gasp_engine_allreduce(e, &total, 1, GASP_REDUCE_SUM)) {
    cli_error("pagerank: %s", gasp_engine_last_error(e)->msg);
    rc = EXIT_RUNTIME;
    goto out;
  }
  if (async && total > 0)
    for (gasp_vid v = 0; v < p.local; v++)
      vd[v].rank /= total;
  int converged = async ? st.reason == GASP_STOP_CONVERGED
                        : p.residual < p.tol && st.iterations > 0;
  if (dist) { /* the results, in global order, on rank 0 */
    all = tk_dist_results(&o, e, &st, vd, sizeof *vd, &rc);
    if (rc) goto out;
    vd = all;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_rank, vd))) goto out;
  if (p.top > 0) print_top(rg, vd, p.top);
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "pagerank");
    cli_json_u64(&j, "vertices", gasp_graph_num_vertices(rg));
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    cli_json_str(&j, "engine", async ? "async" : "sync");
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "iterations", st.iterations);
    cli_json_u64(&j, "updates", st.updates);
    cli_json_bool(&j, "converged", converged);
    if (!async) cli_json_num(&j, "residual", p.residual);
    cli_json_num(&j, "damping", p.damping);
    cli_json_str(&j, "gpu", gpu ? gpu_name : "none");
    cli_json_num(&j, "seconds", st.seconds);
    cli_json_num(&j, "seconds_per_iteration",
                 st.iterations ? st.seconds / (double)st.iterations : 0);
    cli_json_num(&j, "load_seconds", load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: pagerank: %s after %llu iterations (%llu updates) in "
            "%.3f s (%.1f ms/iteration)%s\n",
            converged ? "converged" : "stopped",
            (unsigned long long)st.iterations, (unsigned long long)st.updates,
            st.seconds,
            st.iterations ? 1e3 * st.seconds / (double)st.iterations : 0.0,
            gpu ? " on the GPU" : "");
  }
out:
  tk_iter_end(&it);
  gasp_engine_free(&e);
  tk_graph_free(&o, &g);
  free(all);
  free(p.contrib);
  free(p.contrib_f);
  free(p.part);
  return rc;
}
