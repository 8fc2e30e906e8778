/*
 * lib_pagerank.c -- gasp_pagerank (gasp_toolkits.h): PageRank (Brin and
 * Page 1998) as a vertex program.
 *
 * Convention (networkx, most textbooks): with damping d, teleport
 * distribution p (uniform 1/N, or the caller's, normalised) and D the rank
 * held by dangling vertices (no out-edges),
 *     r_v = (1 - d) p_v + d (sum_{u -> v} r_u / outdeg(u) + D p_v),
 * so the ranks sum to 1 and a dangling vertex's mass is spread over p.
 * Weighted (opts.weighted): u passes r_u w(u, v) / W_u along each out-edge,
 * W_u the sum of its out-weights (networkx's transition matrix); a vertex
 * with W_u = 0 is dangling.  The weights are copied once into in-edge
 * order, so a gather reads them in sequence.
 *
 * Sync engine: classic power iteration (Jacobi), every vertex updated
 * every superstep; ends when the L1 change of the rank vector is below
 * tol.  The gather is a bulk pull over in-edges reading a dense array of
 * contributions r_u / outdeg(u).  Mixed precision
 * (when the tolerance asks for less than 1e-5): the randomly read array
 * holds floats -- half the cache footprint, the precision gapbs uses
 * throughout -- with ranks and sums in double.  While the L1 change is
 * above 1e-5 the floats are the contributions r_u / outdeg(u).  Then one
 * superstep reads them rebuilt in double, which puts the ranks on the
 * double-precision iteration, and from there on the floats carry the
 * changes: the iteration is linear, so the change
 * delta' = d (A delta + D(delta) p) follows from the last one alone, and
 * each superstep adds it to the ranks in double.  A float's rounding
 * (2^-24 of a change) then costs 2^-24 of the changes' sum, about
 * 1e-5 / (1 - d) * 6e-8 ~ 4e-12 in L1, below what the double iteration's
 * tolerances leave, while every superstep keeps the float footprint.
 * Across ranks the contributions travel as doubles (an engine mirror).
 *
 * Async engine: delta PageRank with the priority scheduler.  It solves
 * x = (1 - d) p + d A x (dangling mass dropped), whose solution is
 * proportional to the ranks above (the dangling term only rescales it), and
 * normalises x to sum 1 at the end; a vertex whose value moved by more
 * than tol / N re-signals its out-neighbours with that change as priority.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct pr_vertex {
  double rank;
  double teleport; /* p_v */
} pr_vertex;

/* Per-thread partial sums, padded to a cache line.  The sync power
 * iteration sums the change and the dangling mass in fixed point (units
 * of 2^-60, each term rounded, then exact integer adds): which vertices a
 * worker happened to apply then cannot move a bit of the sums, so a run
 * -- one stopped and resumed from a checkpoint too -- gives the same ranks
 * every time.  Both sums are at most 2 (an L1 distance between two
 * distributions; a part of one), 2^61 units, so they cannot overflow; a
 * term's rounding is 2^-61 at most, far below a double sum's error over
 * as many terms.  The async engine keeps its update's change in
 * `change`. */
typedef struct pr_partial {
  double change, dangling;
  int64_t xchange, xdangling;
  char pad[32];
} pr_partial;

static inline int64_t pr_fix(double x) { /* x >= 0 */
  return (int64_t)(x * 0x1p60 + 0.5);
}
static inline int64_t pr_sfix(double x) {
  return x < 0 ? -pr_fix(-x) : pr_fix(x);
}

/* Precision modes of the sync power iteration (see the top). */
enum {
  PR_DOUBLE = 0, /* contrib: r / outdeg in double */
  PR_FLOAT = 1,  /* contrib_f: r / outdeg in float */
  PR_SWITCH = 2, /* the one superstep that reads contrib in double and
                    leaves the change in contrib_f */
  PR_DELTA = 3   /* contrib_f: the last change / outdeg; p->dangling the
                    dangling vertices' change */
};
static inline double pr_unfix(int64_t x) { return (double)x * 0x1p-60; }

typedef struct pr {
  double damping, tol, n;
  double *contrib;  /* r_u / outdeg(u), 0 for dangling */
  float *contrib_f; /* the same in float (PR_FLOAT), or the change's */
  int mode;         /* PR_* */
  int use_float;    /* the gathers read contrib_f (PR_FLOAT, PR_DELTA) */
  int blocked;      /* the program declares gather_source */
  double dangling;  /* D of the previous superstep */
  pr_partial *part; /* per thread */
  int threads;
  const double *inv_w; /* weighted: 1 / W_u, 0 for dangling; else NULL */
  const double *w_in;  /* weighted: w by in-edge position */
  const uint64_t *in_off;
  gasp_graph *g;
  gasp_engine *e; /* for the reductions of a distributed run */
  gasp_vid local; /* vertices of the graph this process holds */
  int converged;
  int failed; /* the status of a failed collective in pr_iteration */
  int (*user_iter)(void *user, const gasp_iter_info *info);
  void *user_iter_arg;
} pr;

/* What v passes per unit of edge weight: r / outdeg(v), or r / W_v
 * weighted; 0 for a dangling vertex. */
static inline double pr_contrib(const pr *p, gasp_vid v, uint64_t out,
                                double r) {
  if (p->inv_w) return r * p->inv_w[v];
  return out ? r / (double)out : 0.0;
}

static inline int pr_dangling(const pr *p, gasp_vid v, uint64_t out) {
  return p->inv_w ? p->inv_w[v] == 0 : out == 0;
}

static void pr_init(gasp_ctx *ctx, void *vd) {
  pr *p = gasp_ctx_user(ctx);
  pr_vertex *v = vd;
  gasp_vid id = gasp_ctx_vertex(ctx);
  v->teleport = v->rank = 1.0 / p->n; /* the caller's teleport comes later */
  double c = pr_contrib(p, id, gasp_ctx_out_degree(ctx), v->rank);
  p->contrib[id] = c;
  if (p->contrib_f) p->contrib_f[id] = (float)c;
}

/* The reads are random and latency-bound: fetch a few ahead. */
#define PR_GATHER_BODY(contrib)                                                \
  do {                                                                         \
    const gasp_vid *in = nb->in;                                               \
    double s0 = 0, s1 = 0;                                                     \
    uint64_t i = 0, n = nb->n_in;                                              \
    for (; i + 1 < n; i += 2) {                                                \
      s0 += (contrib)[in[i]];                                                  \
      s1 += (contrib)[in[i + 1]];                                              \
    }                                                                          \
    if (i < n) s0 += (contrib)[in[i]];                                         \
    *(double *)acc = s0 + s1;                                                  \
  } while (0)

/* Weighted: contributions times the in-edges' weights, in sequence. */
#define PR_GATHER_W(contrib)                                                   \
  do {                                                                         \
    const gasp_vid *in = nb->in;                                               \
    const double *w = pp->w_in + pp->in_off[gasp_ctx_vertex(ctx)];             \
    double s0 = 0;                                                             \
    for (uint64_t i = 0, n = nb->n_in; i < n; i++) {                           \
      __builtin_prefetch(&(contrib)[in[i + 16 < n ? i + 16 : i]]);             \
      s0 += (contrib)[in[i]] * w[i];                                           \
    }                                                                          \
    *(double *)acc = s0;                                                       \
  } while (0)

static void pr_gather_weighted(const gasp_ctx *ctx, const void *v,
                               const gasp_nbrs *nb, void *acc) {
  (void)v;
  const pr *pp = gasp_ctx_user(ctx);
  if (pp->use_float) {
    const float *cf = pp->contrib_f;
    PR_GATHER_W(cf);
  } else {
    const double *cd = pp->contrib;
    PR_GATHER_W(cd);
  }
}

static void pr_gather(const gasp_ctx *ctx, const void *v, const gasp_nbrs *nb,
                      void *acc) {
  (void)v;
  const pr *pp = gasp_ctx_user(ctx);
  if (pp->use_float) {
    const float *cf = pp->contrib_f;
    PR_GATHER_BODY(cf);
  } else {
    const double *cd = pp->contrib;
    PR_GATHER_BODY(cd);
  }
}

/* The cache-blocked gather's value of a source: what pr_gather reads. */
static double pr_source(const gasp_ctx *ctx, const void *v) {
  (void)v;
  const pr *pp = gasp_ctx_user(ctx);
  gasp_vid u = gasp_ctx_vertex(ctx);
  return pp->use_float ? (double)pp->contrib_f[u] : pp->contrib[u];
}

static void pr_apply_sync(gasp_ctx *ctx, void *vd, const void *acc) {
  pr *p = gasp_ctx_user(ctx);
  pr_vertex *v = vd;
  pr_partial *pt = &p->part[gasp_ctx_thread(ctx)];
  gasp_vid id = gasp_ctx_vertex(ctx);
  uint64_t out = gasp_ctx_out_degree(ctx);
  if (p->mode == PR_DELTA) { /* the change, from the last one */
    double dr =
        p->damping * (*(const double *)acc + p->dangling * v->teleport);
    pt->xchange += pr_fix(fabs(dr));
    v->rank += dr;
    if (pr_dangling(p, id, out))
      pt->xdangling += pr_sfix(dr);
    else
      p->contrib_f[id] = (float)pr_contrib(p, id, out, dr);
    return;
  }
  double r = (1 - p->damping) * v->teleport +
             p->damping * (*(const double *)acc + p->dangling * v->teleport);
  double dr = r - v->rank;
  pt->xchange += pr_fix(fabs(dr));
  v->rank = r;
  if (p->mode == PR_SWITCH) { /* the next superstep pushes changes */
    if (pr_dangling(p, id, out))
      pt->xdangling += pr_sfix(dr);
    else
      p->contrib_f[id] = (float)pr_contrib(p, id, out, dr);
  } else if (pr_dangling(p, id, out))
    pt->xdangling += pr_fix(r);
  else if (p->use_float)
    p->contrib_f[id] = (float)pr_contrib(p, id, out, r);
  else
    p->contrib[id] = pr_contrib(p, id, out, r);
}

/* After each superstep: the L1 change (the caller's callback sees it as
 * the residual), the dangling mass for the next, and the stopping rule.
 * Every rank makes the one allreduce, once per superstep. */
static int pr_iteration(void *user, const gasp_iter_info *info) {
  pr *p = user;
  int64_t xc = 0, xd = 0;
  for (int t = 0; t < p->threads; t++) {
    xc += p->part[t].xchange;
    xd += p->part[t].xdangling;
    p->part[t].xchange = p->part[t].xdangling = 0;
  }
  double change = pr_unfix(xc), dangling = pr_unfix(xd);
  double sums[2] = {change, dangling}; /* over every rank */
  int rc = gasp_engine_allreduce(p->e, sums, 2, GASP_REDUCE_SUM);
  if (rc) {
    p->failed = rc;
    return 1;
  }
  change = sums[0], dangling = sums[1];
  p->dangling = dangling;
  gasp_iter_info mine = *info;
  mine.residual = change;
  int stop = 0;
  if (p->mode == PR_FLOAT && change < 1e-5) { /* onto the double iteration */
    const pr_vertex *vd = gasp_graph_vertex_data(p->g);
    for (gasp_vid v = 0; v < p->local; v++)
      p->contrib[v] =
          pr_contrib(p, v, gasp_graph_out_degree(p->g, v), vd[v].rank);
    p->mode = PR_SWITCH; /* not converged: the double iteration decides */
    p->use_float = 0;
    if (p->blocked) gasp_engine_source_float(p->e, 0);
  } else if (p->mode == PR_SWITCH) { /* from now on the changes */
    p->mode = PR_DELTA;
    p->use_float = 1;
    if (p->blocked) gasp_engine_source_float(p->e, 1);
    if (change < p->tol) p->converged = stop = 1;
  } else if (change < p->tol) {
    p->converged = stop = 1;
  }
  if (p->user_iter && p->user_iter(p->user_iter_arg, &mine)) {
    p->converged = 0;
    stop = 1;
  }
  return stop;
}

/* ---- async: delta PageRank ------------------------------------------ */

static void pr_apply_async(gasp_ctx *ctx, void *vd, const void *acc) {
  pr *p = gasp_ctx_user(ctx);
  pr_vertex *v = vd;
  double x = (1 - p->damping) * v->teleport + p->damping * *(const double *)acc;
  double change = fabs(x - v->rank);
  v->rank = x;
  double c = pr_contrib(p, gasp_ctx_vertex(ctx), gasp_ctx_out_degree(ctx), x);
  uint64_t bits;
  memcpy(&bits, &c, sizeof bits);
  __atomic_store_n((uint64_t *)&p->contrib[gasp_ctx_vertex(ctx)], bits,
                   __ATOMIC_RELAXED);
  pr_partial *pt = &p->part[gasp_ctx_thread(ctx)];
  pt->change = change; /* read by scatter of this same update */
}

static void pr_gather_async(const gasp_ctx *ctx, const void *v,
                            const gasp_nbrs *nb, void *acc) {
  (void)v;
  const pr *p = gasp_ctx_user(ctx);
  const double *contrib = p->contrib;
  const double *w = p->w_in ? p->w_in + p->in_off[gasp_ctx_vertex(ctx)] : NULL;
  double s = 0;
  for (uint64_t i = 0; i < nb->n_in; i++) {
    uint64_t b = __atomic_load_n((const uint64_t *)&contrib[nb->in[i]],
                                 __ATOMIC_RELAXED);
    double c;
    memcpy(&c, &b, sizeof c);
    s += w ? c * w[i] : c;
  }
  *(double *)acc = s;
}

static void pr_scatter_async(gasp_ctx *ctx, const void *vd,
                             const gasp_edge *e) {
  (void)vd;
  pr *p = gasp_ctx_user(ctx);
  double change = p->part[gasp_ctx_thread(ctx)].change;
  if (change > p->tol / p->n) gasp_signal_priority(ctx, e->nbr, change);
}

/* ---- the call ---------------------------------------------------------- */

void gasp_pagerank_opts_init(gasp_pagerank_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->damping = 0.85;
  o->tol = 1e-10;
}

/* The contributions are read at random every iteration: on 2 MiB pages
 * they cost far fewer TLB misses. */
static void *alloc_huge(size_t n, size_t size) {
  void *p = NULL;
  size_t bytes = n * size;
  if (bytes < ((size_t)4 << 20)) return gasp__calloc(n, size);
  if (gasp__posix_memalign(&p, (size_t)2 << 20, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);
#endif
  memset(p, 0, bytes);
  return p;
}

static void *alloc_lines(size_t n, size_t size) {
  void *p = NULL;
  if (gasp__posix_memalign(&p, 64, n * size) != 0) return NULL;
  memset(p, 0, n * size);
  return p;
}

/* Starts from the caller's teleport weights: non-negative and finite, with
 * a positive sum over the owned vertices of every rank (a collective),
 * normalised to sum 1. */
static int set_teleport(pr *p, const double *tele, gasp_error *err) {
  double sum = 0;
  gasp_vid owned = gasp_graph_num_owned(p->g);
  for (gasp_vid v = 0; v < owned; v++) {
    double t = tele[v];
    if (!(t >= 0) || t == INFINITY)
      return tk_lib_fail(err, GASP_EINVAL,
                         "teleport weight of vertex %llu is %g; weights must "
                         "be finite and non-negative",
                         (unsigned long long)gasp_graph_gid(p->g, v), t);
    sum += t;
  }
  int rc = gasp_engine_allreduce(p->e, &sum, 1, GASP_REDUCE_SUM);
  if (rc) {
    if (err) *err = *gasp_engine_last_error(p->e);
    return rc;
  }
  if (!(sum > 0))
    return tk_lib_fail(err, GASP_EINVAL, "teleport weights sum to 0");
  pr_vertex *vd = gasp_graph_vertex_data(p->g);
  for (gasp_vid v = 0; v < p->local; v++) {
    vd[v].teleport = vd[v].rank = tele[v] / sum;
    p->contrib[v] =
        pr_contrib(p, v, gasp_graph_out_degree(p->g, v), vd[v].rank);
    if (p->contrib_f) p->contrib_f[v] = (float)p->contrib[v];
  }
  return GASP_OK;
}

/* Weighted: the out-weight sums and the weights in in-edge order; weights
 * must be finite and non-negative (err names the edge). */
static int set_weights(pr *p, double **inv_w, double **w_in, gasp_error *err) {
  const double *w = gasp_graph_weights(p->g);
  if (!w)
    return tk_lib_fail(err, GASP_EINVAL,
                       "weighted PageRank needs a graph with edge weights");
  gasp_adjacency out, in;
  gasp_graph_out_edges(p->g, &out);
  gasp_graph_in_edges(p->g, &in);
  size_t nl = p->local ? (size_t)p->local : 1;
  *inv_w = gasp__malloc(nl * sizeof **inv_w);
  *w_in = gasp__malloc((in.num_edges ? in.num_edges : 1) * sizeof **w_in);
  if (!*inv_w || !*w_in)
    return tk_lib_fail(err, GASP_ENOMEM, "pagerank: out of memory");
  for (gasp_vid v = 0; v < p->local; v++) {
    double sum = 0;
    for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++) {
      if (!(w[j] >= 0) || w[j] == INFINITY)
        return tk_lib_fail(
            err, GASP_EINVAL,
            "edge %llu -> %llu has weight %g; weighted PageRank needs finite "
            "non-negative weights",
            (unsigned long long)gasp_graph_gid(p->g, v),
            (unsigned long long)gasp_graph_gid(p->g, out.nbr[j]), w[j]);
      sum += w[j];
    }
    (*inv_w)[v] = sum > 0 ? 1.0 / sum : 0.0;
  }
  for (uint64_t j = 0; j < in.num_edges; j++)
    (*w_in)[j] = w[in.slot[j]];
  p->inv_w = *inv_w;
  p->w_in = *w_in;
  p->in_off = in.off;
  return GASP_OK;
}

/* Checkpoints of the power iteration (sync): besides the engine's state,
 * the contributions the next gather reads, the dangling mass and which
 * precision is on; the run key names the options that shape the ranks. */
static int checkpoint_state(pr *p, const gasp_pagerank_opts *o, size_t nl) {
  uint64_t th = 0;
  if (o->teleport)
    for (gasp_vid v = 0; v < p->local; v++) {
      uint64_t b;
      memcpy(&b, &o->teleport[v], sizeof b);
      th = (th ^ b) * 0x100000001b3ull;
    }
  char key[160];
  snprintf(key, sizeof key,
           "pagerank sync damping=%.15g tol=%.15g weighted=%d teleport=%016llx",
           p->damping, p->tol, p->inv_w != NULL, (unsigned long long)th);
  int rc;
  if ((rc = gasp_engine_set_checkpoint_key(p->e, key)) ||
      (rc = gasp_engine_checkpoint_state(p->e, "pagerank.contrib", p->contrib,
                                         nl * sizeof *p->contrib)) ||
      (p->contrib_f &&
       (rc = gasp_engine_checkpoint_state(p->e, "pagerank.contrib_f",
                                          p->contrib_f,
                                          nl * sizeof *p->contrib_f))) ||
      (rc = gasp_engine_checkpoint_state(p->e, "pagerank.dangling",
                                         &p->dangling, sizeof p->dangling)) ||
      (rc = gasp_engine_checkpoint_state(p->e, "pagerank.mode", &p->mode,
                                         sizeof p->mode)) ||
      (rc = gasp_engine_checkpoint_state(p->e, "pagerank.use_float",
                                         &p->use_float, sizeof p->use_float)))
    return rc;
  return GASP_OK;
}

int gasp_pagerank(gasp_graph *g, const gasp_pagerank_opts *o, double *ranks,
                  gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (!g || !o || !ranks)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  if (!(o->damping >= 0 && o->damping < 1))
    return tk_lib_fail(err, GASP_EINVAL, "damping %g is not in [0, 1)",
                       o->damping);
  if (!(o->tol >= 0))
    return tk_lib_fail(err, GASP_EINVAL, "tolerance %g is negative", o->tol);
  gasp_engine_opts eo = o->engine;
  int async = eo.engine == GASP_ENGINE_ASYNC;
  if (!async && eo.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "power iteration takes a barrier per superstep (no "
                       "bounded staleness)");
  if (async && eo.scheduler == GASP_SCHED_FIFO)
    eo.scheduler = GASP_SCHED_PRIORITY;
  if (!eo.max_iter) eo.max_iter = 1000; /* stops a run that cannot converge */
  eo.always_active = !async;

  pr p;
  memset(&p, 0, sizeof p);
  p.damping = o->damping;
  p.tol = o->tol;
  p.g = g;
  p.local = gasp_graph_num_vertices(g);
  p.n = eo.dist ? (double)gasp_dist_global_vertices(eo.dist) : (double)p.local;
  p.use_float = !async && p.tol < 1e-5 && !eo.dist;
  p.mode = p.use_float ? PR_FLOAT : PR_DOUBLE;
  p.user_iter = eo.on_iteration;
  p.user_iter_arg = eo.on_iteration_user;
  if (!async) {
    eo.on_iteration = pr_iteration;
    eo.on_iteration_user = &p;
  }
  double *inv_w = NULL, *w_in = NULL;
  int rc = o->weighted ? set_weights(&p, &inv_w, &w_in, err) : GASP_OK;
  if (rc) {
    free(inv_w);
    free(w_in);
    return rc;
  }
  size_t nl = p.local ? (size_t)p.local : 1;
  p.contrib = alloc_huge(nl, sizeof *p.contrib);
  if (p.use_float) p.contrib_f = alloc_huge(nl, sizeof *p.contrib_f);
  gasp_engine *e = NULL;
  if (!p.contrib || (p.use_float && !p.contrib_f)) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "pagerank: out of memory");
    goto out;
  }

  gasp_program prog = {0};
  prog.vertex_size = sizeof(pr_vertex);
  prog.acc_size = sizeof(double);
  prog.init_vertex = pr_init;
  prog.gather_dir = GASP_DIR_IN;
  prog.gather_vertex = async     ? pr_gather_async
                       : p.inv_w ? pr_gather_weighted
                                 : pr_gather;
  prog.apply = async ? pr_apply_async : pr_apply_sync;
  if (async) {
    prog.scatter_dir = GASP_DIR_OUT;
    prog.scatter = pr_scatter_async;
  }
  /* a sum of one value per source: the engine may block the gather (it
   * does on one process, when the contributions outgrow the L2) */
  p.blocked = !async && !eo.dist;
  if (p.blocked) {
    prog.gather_source = pr_source; /* r / outdeg, or r / W_u weighted */
    prog.gather_source_weighted = p.inv_w != NULL;
  }
  prog.user = &p;
  /* init_vertex starts from the uniform teleport; the caller's weights
   * are summed over the ranks, which takes the engine */
  if ((rc = gasp_engine_new(&e, g, &prog, &eo, err))) goto out;
  p.e = e;
  if (p.blocked) gasp_engine_source_float(e, p.use_float);
  if (o->teleport && (rc = set_teleport(&p, o->teleport, err))) goto out;
  if (eo.dist && (rc = gasp_engine_mirror(e, p.contrib, sizeof *p.contrib))) {
    if (err) *err = *gasp_engine_last_error(e);
    goto out;
  }
  if (!async && (eo.checkpoint_dir || eo.resume_dir) &&
      (rc = checkpoint_state(&p, o, nl))) {
    if (err) *err = *gasp_engine_last_error(e);
    if (rc == GASP_ENOMEM)
      rc = tk_lib_fail(err, GASP_ENOMEM, "pagerank: out of memory");
    goto out;
  }
  p.threads = gasp_engine_threads(e);
  if (!(p.part = alloc_lines((size_t)p.threads, sizeof *p.part))) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "pagerank: out of memory");
    goto out;
  }
  /* the dangling mass of the starting vector (owned vertices, summed
   * over the ranks) */
  const pr_vertex *vd = gasp_graph_vertex_data(g);
  for (gasp_vid v = 0; v < gasp_graph_num_owned(g); v++)
    if (pr_dangling(&p, v, gasp_graph_out_degree(g, v)))
      p.dangling += vd[v].rank;
  if ((rc = gasp_engine_allreduce(e, &p.dangling, 1, GASP_REDUCE_SUM))) {
    if (err) *err = *gasp_engine_last_error(e);
    goto out;
  }
  gasp_engine_signal_all(e, 1.0);
  rc = gasp_engine_run(e, st);
  if (!rc) rc = p.failed;
  if (rc) {
    if (err) *err = *gasp_engine_last_error(e);
    goto out;
  }
  if (!async) st->reason = p.converged ? GASP_STOP_CONVERGED : st->reason;
  double total = 0; /* delta PageRank leaves the mass to normalise */
  for (gasp_vid v = 0; v < gasp_graph_num_owned(g); v++)
    total += vd[v].rank;
  if (async && (rc = gasp_engine_allreduce(e, &total, 1, GASP_REDUCE_SUM))) {
    if (err) *err = *gasp_engine_last_error(e);
    goto out;
  }
  double scale = async && total > 0 ? 1.0 / total : 1.0;
  for (gasp_vid v = 0; v < p.local; v++)
    ranks[v] = vd[v].rank * scale;
out:
  gasp_engine_free(&e);
  free(inv_w);
  free(w_in);
  free(p.contrib);
  free(p.contrib_f);
  free(p.part);
  return rc;
}
