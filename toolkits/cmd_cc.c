/*
 * cmd_cc.c -- `gasp cc`: weakly connected components by minimum-label
 * propagation as a vertex program (the GraphLab connected-components
 * toolkit; label propagation as in Shiloach and Vishkin 1982 without the
 * hooking, and Kang, Tsourakakis, Faloutsos, "PEGASUS", ICDM 2009).
 *
 * Edges are taken as undirected: the gather reads in- and out-neighbours.
 * Every vertex starts with its own local id as label and repeatedly takes
 * the smallest label among itself and its neighbours; at the fixed point
 * every vertex holds the smallest local id of its component, which (local
 * ids ascend with original ids) is the vertex with the smallest original
 * id.  Output: "id<TAB>component" with the component named by that
 * original id (in a bipartite graph, the id on that vertex's side).
 *
 * The labels live in a dense array kept by the program (not in vertex
 * data), so the bulk gather is one tight min-loop over neighbour ids.
 * The sync engine runs dense supersteps first (every vertex re-signals
 * itself and pulls) while the changed vertices cover more than 1/20 of
 * the edges, then sparse ones: a vertex whose label dropped signals only
 * the neighbours whose label is larger (push-style filter), so the
 * frontier holds just the vertices that can still improve.  The signals
 * are sent from apply in one loop over the adjacency (public
 * gasp_graph_in_edges / out_edges), not from a per-edge scatter callback.
 *
 * --algorithm afforest (the default with the sync engine): Afforest
 * (Sutton, Ben-Nun, Barak, "Optimizing Parallel Graph Connectivity
 * Computation via Subgraph Sampling", IPDPS 2018) as two supersteps of a
 * vertex program over a lock-free union-find the program keeps: superstep
 * 1 links each vertex with its first two neighbours (gather) and then
 * compresses every vertex to its root (apply); between the supersteps the
 * driver samples 1024 vertices for the most frequent component; superstep
 * 2 links the remaining edges of the vertices outside it, and compresses.
 * Links always point the larger root at the smaller, so every root is the
 * smallest local id of its component, as with label propagation.
 * --algorithm labelprop is the propagation above.
 *
 * With --engine async the array is read and written with relaxed atomics;
 * any consistency model is enough (labels only decrease and only the
 * centre writes its own label, so a stale read only costs an extra
 * signal); the priority scheduler runs smaller labels first.
 */
#include "toolkit.h"

#include <stdlib.h>
#include <string.h>

/* Per-thread count of label changes, padded to a cache line; written
 * only by its thread, read by the driver (relaxed atomics). */
typedef struct cc_count {
  uint64_t n, edges; /* labels changed, and their vertices' degrees */
  char pad[48];
} cc_count;

typedef struct cc {
  gasp_vid *label;
  gasp_vid nv;
  gasp_adjacency in, out;
  /* sync: 1 while a vertex is signalled for the next superstep (set by
   * push, cleared by the vertex's own gather) */
  uint8_t *mark;
  int async;
  int dense;    /* sync: this superstep keeps every vertex active */
  int fixpoint; /* sync: the last superstep changed no label */
  cc_count *count; /* per thread */
  int threads;
  uint64_t reported, reported_edges; /* totals at the last iteration */
  uint64_t dense_edges; /* dense while changed vertices' degrees exceed it */
  gasp_engine *e;       /* distributed: reductions */
  int distributed;      /* every rank takes part in the reductions */
  int stale;            /* bounded staleness: no reductions, push only */
  gasp_vid owned;       /* vertices this rank updates (the rest: ghosts) */
} cc;

static inline gasp_vid load_label(const gasp_vid *label, gasp_vid u) {
  return __atomic_load_n(&label[u], __ATOMIC_RELAXED);
}

static gasp_dir cc_all(const gasp_ctx *c, const void *v) {
  (void)c;
  (void)v;
  return GASP_DIR_ALL;
}

/* Sync: no label changes while the gathers run (apply comes after every
 * gather), so the loop reads the array plainly. */
static void cc_gather(const gasp_ctx *ctx, const void *v, const gasp_nbrs *nb,
                      void *acc) {
  (void)v;
  cc *p = gasp_ctx_user(ctx);
  const gasp_vid *label = p->label;
  gasp_vid self = gasp_ctx_vertex(ctx);
  if (p->mark[self]) p->mark[self] = 0;
  gasp_vid m0 = label[self], m1 = m0;
  const gasp_vid *a = nb->in;
  uint64_t i = 0, n = nb->n_in;
  for (; i + 1 < n; i += 2) {
    gasp_vid x = label[a[i]], y = label[a[i + 1]];
    m0 = x < m0 ? x : m0;
    m1 = y < m1 ? y : m1;
  }
  if (i < n && label[a[i]] < m0) m0 = label[a[i]];
  a = nb->out;
  n = nb->n_out;
  for (i = 0; i + 1 < n; i += 2) {
    gasp_vid x = label[a[i]], y = label[a[i + 1]];
    m0 = x < m0 ? x : m0;
    m1 = y < m1 ? y : m1;
  }
  if (i < n && label[a[i]] < m0) m0 = label[a[i]];
  *(gasp_vid *)acc = m0 < m1 ? m0 : m1;
}

static void cc_gather_async(const gasp_ctx *ctx, const void *v,
                            const gasp_nbrs *nb, void *acc) {
  (void)v;
  const gasp_vid *label = ((const cc *)gasp_ctx_user(ctx))->label;
  /* The engine clears the vertex's scheduled flag before this gather; the
   * fence keeps the loads below from passing that store, so a neighbour
   * that lowered its label and saw the flag still set (and so did not
   * queue us again) is seen here. */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  gasp_vid m = load_label(label, gasp_ctx_vertex(ctx));
  for (uint64_t i = 0; i < nb->n_in; i++) {
    gasp_vid x = load_label(label, nb->in[i]);
    m = x < m ? x : m;
  }
  for (uint64_t i = 0; i < nb->n_out; i++) {
    gasp_vid x = load_label(label, nb->out[i]);
    m = x < m ? x : m;
  }
  *(gasp_vid *)acc = m;
}

/* Signals the neighbours in nbr[0..n) whose label is larger than m.  In
 * a sync superstep one signal per vertex is enough: `mark` skips the
 * repeats (a racy duplicate only meets the engine's own check).  Async
 * updates signal every time: the neighbour may have run since. */
static void push(cc *p, gasp_ctx *ctx, const gasp_vid *nbr, uint64_t n,
                 gasp_vid m) {
  const gasp_vid *label = p->label;
  if (p->async) {
    for (uint64_t i = 0; i < n; i++)
      if (load_label(label, nbr[i]) > m)
        gasp_signal_priority(ctx, nbr[i], (double)(p->nv - m));
    return;
  }
  uint8_t *mark = p->mark;
  for (uint64_t i = 0; i < n; i++) {
    gasp_vid u = nbr[i];
    if (load_label(label, u) > m && !__atomic_load_n(&mark[u], __ATOMIC_RELAXED)) {
      __atomic_store_n(&mark[u], 1, __ATOMIC_RELAXED);
      gasp_signal(ctx, u);
    }
  }
}

/* Takes the smaller label.  Sparse supersteps (and async updates) push
 * it: the neighbours it improves are signalled here, in one tight loop
 * over the adjacency, rather than by a scatter callback per edge (several
 * times faster).  In a sync superstep other applies may lower their
 * labels concurrently; reading a neighbour's old label can only cost an
 * extra signal, reading its new one is exact.  Dense supersteps keep
 * every vertex active instead: while most labels change, pulling
 * everywhere is cheaper than pushing. */
static void cc_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)vd;
  cc *p = gasp_ctx_user(ctx);
  gasp_vid self = gasp_ctx_vertex(ctx), m = *(const gasp_vid *)acc;
  if (p->dense) gasp_signal(ctx, self);
  if (m >= load_label(p->label, self)) return;
  __atomic_store_n(&p->label[self], m, __ATOMIC_RELAXED);
  const gasp_vid *in = p->in.nbr + p->in.off[self];
  const gasp_vid *out = p->out.nbr + p->out.off[self];
  uint64_t nin = p->in.off[self + 1] - p->in.off[self];
  uint64_t nout = p->out.off[self + 1] - p->out.off[self];
  cc_count *c = &p->count[gasp_ctx_thread(ctx)];
  __atomic_store_n(&c->n, __atomic_load_n(&c->n, __ATOMIC_RELAXED) + 1,
                   __ATOMIC_RELAXED);
  __atomic_store_n(&c->edges,
                   __atomic_load_n(&c->edges, __ATOMIC_RELAXED) + nin + nout,
                   __ATOMIC_RELAXED);
  if (p->dense) return;
  push(p, ctx, in, nin, m);
  push(p, ctx, out, nout, m);
}

/* --trace residual: labels changed since the previous report.  Also
 * picks the next sync superstep's mode: dense while the changed vertices
 * have more than 1/20 of the edge ends (the switch of Beamer, Asanovic,
 * Patterson's direction-optimizing BFS, SC 2012), then sparse for good:
 * a dense superstep needs every vertex active, which only a dense one
 * before it (or the start) provides. */
static double cc_residual(void *user) {
  cc *p = user;
  uint64_t total = 0, edges = 0;
  for (int t = 0; t < p->threads; t++) {
    total += __atomic_load_n(&p->count[t].n, __ATOMIC_RELAXED);
    edges += __atomic_load_n(&p->count[t].edges, __ATOMIC_RELAXED);
  }
  if (p->distributed) { /* totals of every rank (collective: even a rank
                           without ghosts takes part); a ghost's mark is
                           cleared for the next signal to it */
    double v[2] = {(double)total, (double)edges};
    if (!p->stale && gasp_engine_allreduce(p->e, v, 2, GASP_REDUCE_SUM) == GASP_OK)
      total = (uint64_t)v[0], edges = (uint64_t)v[1];
    memset(p->mark + p->owned, 0, p->nv - p->owned);
  }
  uint64_t d = total - p->reported;
  if (p->dense) p->dense = edges - p->reported_edges > p->dense_edges;
  p->reported = total;
  p->reported_edges = edges;
  return (double)d;
}

/* A sync superstep that changed nothing ends the run: every vertex it did
 * not update was already no larger than its neighbours (each lowered
 * label was pushed), so all labels are final -- and a dense superstep
 * would otherwise go on forever. */
static int cc_done(void *user, const gasp_iter_info *info, double changed) {
  (void)info;
  cc *p = user;
  if (p->async) return 0;
  p->fixpoint = changed == 0;
  return p->fixpoint;
}

/* ---- Afforest --------------------------------------------------------- */

typedef struct af {
  gasp_vid *comp;
  gasp_vid nv;
  int phase;     /* 0: neighbour rounds; 1: the rest */
  gasp_vid skip; /* phase 1: the sampled frequent component */
  uint64_t seed;
} af;

#define AF_ROUNDS 2

static inline gasp_vid af_load(const gasp_vid *c, gasp_vid u) {
  return __atomic_load_n(&c[u], __ATOMIC_RELAXED);
}

/* Joins the trees of u and v, pointing the larger root at the smaller. */
static void af_link(gasp_vid *comp, gasp_vid u, gasp_vid v) {
  gasp_vid p1 = af_load(comp, u), p2 = af_load(comp, v);
  while (p1 != p2) {
    gasp_vid high = p1 > p2 ? p1 : p2, low = p1 + p2 - high;
    gasp_vid ph = af_load(comp, high);
    if (ph == low) break;
    if (ph == high) {
      gasp_vid expect = high;
      if (__atomic_compare_exchange_n(&comp[high], &expect, low, 0,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        break;
    }
    p1 = af_load(comp, af_load(comp, high));
    p2 = af_load(comp, low);
  }
}

static gasp_vid af_find(const gasp_vid *comp, gasp_vid u) {
  gasp_vid c = af_load(comp, u);
  while (c != af_load(comp, c)) c = af_load(comp, c);
  return c;
}

/* Links v with neighbours first .. last-1 of its out-then-in list. */
static void af_link_range(gasp_vid *comp, gasp_vid v, const gasp_nbrs *nb,
                          uint64_t first, uint64_t last) {
  for (uint64_t k = first; k < last; k++) {
    gasp_vid u = k < nb->n_out ? nb->out[k] : nb->in[k - nb->n_out];
    af_link(comp, v, u);
  }
}

static void af_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb,
                      void *acc) {
  af *p = gasp_ctx_user(ctx);
  gasp_vid v = gasp_ctx_vertex(ctx);
  uint64_t n = nb->n_out + nb->n_in;
  uint64_t r = n < AF_ROUNDS ? n : AF_ROUNDS;
  if (p->phase == 0)
    af_link_range(p->comp, v, nb, 0, r);
  else if (af_find(p->comp, v) != p->skip)
    af_link_range(p->comp, v, nb, r, n);
}

/* Compress: point v straight at its root. */
static void af_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  af *p = gasp_ctx_user(ctx);
  gasp_vid v = gasp_ctx_vertex(ctx);
  __atomic_store_n(&p->comp[v], af_find(p->comp, v), __ATOMIC_RELAXED);
}

static int cmp_vid(const void *a, const void *b) {
  gasp_vid x = *(const gasp_vid *)a, y = *(const gasp_vid *)b;
  return (x > y) - (x < y);
}

/* Between the supersteps: the most frequent of 1024 sampled roots (a
 * fixed seed, so runs repeat). */
static int af_between(void *user, const gasp_iter_info *info, double res) {
  af *p = user;
  (void)info;
  (void)res;
  if (p->phase == 1 || p->nv == 0) return 1;
  enum { SAMPLES = 1024 };
  gasp_vid smp[SAMPLES];
  uint64_t x = p->seed;
  for (int i = 0; i < SAMPLES; i++) {
    x += 0x9E3779B97F4A7C15ull; /* splitmix64 */
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    smp[i] = af_load(p->comp, (gasp_vid)(z % p->nv));
  }
  qsort(smp, SAMPLES, sizeof *smp, cmp_vid);
  gasp_vid best = smp[0];
  int run = 1, best_run = 1;
  for (int i = 1; i < SAMPLES; i++) {
    run = smp[i] == smp[i - 1] ? run + 1 : 1;
    if (run > best_run) {
      best_run = run;
      best = smp[i];
    }
  }
  p->skip = best;
  p->phase = 1;
  return 0;
}

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
    "options:\n" TK_HELP;

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
  cc p;
  memset(&p, 0, sizeof p);
  static const struct option extra[] = {
      {"algorithm", required_argument, 0, OPT_FIRST_PRIVATE}, {0, 0, 0, 0}};
  const char *algo = NULL;
  o.dist_ok = 1; /* across ranks: minimum-label propagation */
  o.staleness_ok = 1; /* monotone: any schedule reaches the same labels */
  int rc = tk_parse(argc, argv, &o, extra, help, set_algorithm, &algo);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  int async = o.eng.engine == GASP_ENGINE_ASYNC;
  int distributed = o.d.size > 1;
  int afforest = algo ? strcmp(algo, "afforest") == 0 : !async && !distributed;
  if (afforest && distributed) {
    cli_error("cc: --algorithm afforest runs in one process (across ranks: "
              "labelprop)");
    return EXIT_USAGE;
  }
  if (afforest && async) {
    cli_error("cc: --algorithm afforest runs on the sync engine");
    return EXIT_USAGE;
  }
  af a = {0};

  gasp_graph *g = NULL;
  gasp_engine *e = NULL;
  double load_s = 0;
  tk_iter it = {0};
  gasp_vid *all = NULL; /* distributed: every label, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_dist *dist = o.eng.dist;
  p.nv = gasp_graph_num_vertices(g);
  p.owned = gasp_graph_num_owned(g);
  p.distributed = dist != NULL;
  p.async = async;
  gasp_graph_in_edges(g, &p.in);
  gasp_graph_out_edges(g, &p.out);
  p.label = malloc((p.nv ? (size_t)p.nv : 1) * sizeof *p.label);
  p.mark = calloc(p.nv ? (size_t)p.nv : 1, sizeof *p.mark);
  /* With bounded staleness the ranks are at different supersteps: no
   * global count can pick dense supersteps or see the fixed point, so
   * every superstep pushes and the engine's quiescence ends the run. */
  p.stale = dist && o.eng.staleness > 0 && !async;
  p.dense = !async && !p.stale;
  p.dense_edges = dist ? 2 * gasp_dist_global_edges(dist) / 20
                       : (p.in.num_edges + p.out.num_edges) / 20;
  if (!p.label || !p.mark) {
    cli_error("cc: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  /* labels are global vertex indices, the same on every rank */
  for (gasp_vid v = 0; v < p.nv; v++) p.label[v] = dist ? gasp_dist_global_id(dist, v) : v;
  gasp_program prog = {0};
  prog.acc_size = sizeof(gasp_vid);
  prog.gather_edges = cc_all;
  prog.gather_vertex = async ? cc_gather_async : cc_gather;
  prog.apply = cc_apply;
  prog.user = &p;
  it.residual = cc_residual;
  it.done = p.stale ? NULL : cc_done;
  it.user = &p;
  if (afforest) {
    a.comp = p.label;
    a.nv = p.nv;
    a.seed = o.c.seed;
    prog.gather_vertex = af_gather;
    prog.apply = af_apply;
    prog.user = &a;
    it.residual = NULL;
    it.done = af_between;
    it.user = &a;
    o.eng.always_active = 1;
    o.eng.max_iter = 2;
  }
  if ((rc = tk_iter_start(&it, &o, "cc"))) goto out;
  if ((rc = tk_engine_new(&e, g, &prog, &o))) goto out;
  p.e = e;
  if (dist && gasp_engine_mirror(e, p.label, sizeof *p.label)) {
    rc = EXIT_RUNTIME;
    goto out;
  }
  p.threads = gasp_engine_threads(e);
  p.count = tk_calloc_lines((size_t)p.threads, sizeof *p.count);
  if (!p.count) {
    cli_error("cc: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  for (gasp_vid v = 0; v < p.nv && !afforest; v++)
    gasp_engine_signal(e, v, (double)(p.nv - v));
  gasp_run_stats st;
  if ((rc = tk_run(e, &st))) goto out;
  tk_iter_end(&it);
  gasp_vid *label = p.label, n = p.nv;
  if (dist) {
    all = tk_dist_results(&o, e, &st, p.label, sizeof *p.label, &rc);
    if (rc) goto out;
    if (!tk_is_root(&o)) goto out;
    label = all;
    n = (gasp_vid)gasp_dist_global_vertices(dist);
  }
  gasp_graph *rg = tk_result_graph(&o, g);

  uint64_t components = 0, largest = 0;
  if (tk_count_groups(label, n, &components, &largest)) {
    cli_error("cc: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  int converged = afforest ? st.iterations == 2 || p.nv == 0
                          : st.reason == GASP_STOP_CONVERGED || p.fixpoint;
  cc_out co = {rg, label};
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_component, &co))) goto out;
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
    cli_json_u64(&j, "threads", (uint64_t)p.threads);
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
  gasp_engine_free(&e);
  tk_graph_free(&o, &g);
  free(all);
  free(p.label);
  free(p.mark);
  free(p.count);
  return rc;
}
