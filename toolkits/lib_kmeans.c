/*
 * lib_kmeans.c -- gasp_kmeans (gasp_toolkits.h): k-means clustering of
 * points held by the vertices (Lloyd's iteration; k-means++ seeding,
 * Arthur and Vassilvitskii, SODA 2007), as GraphLab's kmeans toolkit runs
 * it: each superstep of the sync engine assigns every point to its
 * nearest centre, and an aggregator sums the points of each cluster (over
 * every rank, in rank order), from which the next centres are the means.
 * An empty cluster keeps its centre.  The run stops when no point moved,
 * when the objective (the sum of squared distances) fell by less than tol
 * relative to itself, or after max_iter supersteps.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct km_vertex {
  uint32_t cluster;
  uint32_t moved;
} km_vertex;

typedef struct km {
  const double *points; /* dim per local vertex */
  int k, dim;
  double *centres; /* k x dim, the ones the next superstep assigns to */
  int ran;         /* a superstep has run: aggregates are of assignments */
  double objective, prev_objective;
  uint64_t moved;
  double tol;
  int (*user_iter)(void *, const gasp_iter_info *);
  void *user_iter_arg;
  int converged;
} km;

static double dist2(const double *a, const double *b, int d) {
  double s = 0;
  for (int c = 0; c < d; c++) {
    double t = a[c] - b[c];
    s += t * t;
  }
  return s;
}

/* The nearest centre (the smallest index among equals). */
static uint32_t nearest(const km *p, const double *x, double *d2) {
  uint32_t best = 0;
  double bd = INFINITY;
  for (int j = 0; j < p->k; j++) {
    double d = dist2(x, p->centres + (size_t)j * p->dim, p->dim);
    if (d < bd) bd = d, best = (uint32_t)j;
  }
  if (d2) *d2 = bd;
  return best;
}

static void km_apply(gasp_ctx *ctx, void *vp, const void *acc) {
  (void)acc;
  km *p = gasp_ctx_user(ctx);
  km_vertex *v = vp;
  gasp_vid self = gasp_ctx_vertex(ctx);
  uint32_t c = nearest(p, p->points + (size_t)self * p->dim, NULL);
  v->moved = c != v->cluster;
  v->cluster = c;
  if (!__atomic_load_n(&p->ran, __ATOMIC_RELAXED))
    __atomic_store_n(&p->ran, 1, __ATOMIC_RELAXED);
}

/* The aggregate: k x dim sums, k counts, the objective, points moved. */
static size_t agg_doubles(const km *p) {
  return (size_t)p->k * (size_t)p->dim + (size_t)p->k + 2;
}

static void km_map(const gasp_graph *g, gasp_vid v, const void *vd, void *acc,
                   void *user) {
  (void)g;
  const km *p = user;
  const km_vertex *x = vd;
  if (x->cluster == UINT32_MAX) return; /* before the first assignment */
  double *a = acc;
  const double *pt = p->points + (size_t)v * p->dim;
  double *sum = a + (size_t)x->cluster * p->dim;
  for (int c = 0; c < p->dim; c++)
    sum[c] += pt[c];
  size_t kd = (size_t)p->k * (size_t)p->dim;
  a[kd + x->cluster] += 1;
  a[kd + (size_t)p->k] +=
      dist2(pt, p->centres + (size_t)x->cluster * p->dim, p->dim);
  a[kd + (size_t)p->k + 1] += x->moved;
}

static void km_combine(void *acc, const void *other, void *user) {
  const km *p = user;
  double *a = acc;
  const double *b = other;
  for (size_t i = 0; i < agg_doubles(p); i++)
    a[i] += b[i];
}

/* The new centres: each cluster's mean (an empty one keeps its own). */
static void km_finalize(void *acc, void *user) {
  km *p = user;
  if (!p->ran) return; /* the aggregate before the first superstep */
  const double *a = acc;
  size_t kd = (size_t)p->k * (size_t)p->dim;
  for (int j = 0; j < p->k; j++) {
    double n = a[kd + (size_t)j];
    if (n > 0)
      for (int c = 0; c < p->dim; c++)
        p->centres[(size_t)j * p->dim + c] = a[(size_t)j * p->dim + c] / n;
  }
  p->prev_objective = p->objective;
  p->objective = a[kd + (size_t)p->k];
  p->moved = (uint64_t)a[kd + (size_t)p->k + 1];
}

static int km_iteration(void *user, const gasp_iter_info *info) {
  km *p = user;
  gasp_iter_info mine = *info;
  mine.residual = p->objective;
  int stop = p->user_iter ? p->user_iter(p->user_iter_arg, &mine) : 0;
  /* the first superstep's assignment is the first with an objective */
  if (info->iteration > 0 &&
      (p->moved == 0 ||
       p->prev_objective - p->objective <= p->tol * p->objective))
    p->converged = 1;
  return stop || p->converged;
}

void gasp_kmeans_opts_init(gasp_kmeans_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->k = 8;
  o->seed = 1;
  o->tol = 1e-9;
}

static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int gasp_kmeans_plusplus(const double *points, uint64_t n, int dim, int k,
                         uint64_t seed, double *centres) {
  if (!points || !centres || k < 1 || dim < 1 || n < (uint64_t)k)
    return GASP_EINVAL;
  double *d2 = gasp__malloc_array(n, sizeof *d2);
  if (!d2) return GASP_ENOMEM;
  uint64_t s = mix(seed);
  uint64_t first = mix(s) % n;
  memcpy(centres, points + first * (uint64_t)dim,
         (size_t)dim * sizeof *centres);
  for (uint64_t i = 0; i < n; i++)
    d2[i] = dist2(points + i * (uint64_t)dim, centres, dim);
  for (int j = 1; j < k; j++) {
    double total = 0;
    for (uint64_t i = 0; i < n; i++)
      total += d2[i];
    uint64_t pick = n - 1;
    s = mix(s + (uint64_t)j);
    double r = (double)(s >> 11) * (1.0 / 9007199254740992.0) * total;
    if (total > 0) {
      double acc = 0;
      for (uint64_t i = 0; i < n; i++) {
        acc += d2[i];
        if (acc > r) {
          pick = i;
          break;
        }
      }
    } else { /* every point is a centre already: any point */
      pick = s % n;
    }
    double *c = centres + (size_t)j * dim;
    memcpy(c, points + pick * (uint64_t)dim, (size_t)dim * sizeof *c);
    for (uint64_t i = 0; i < n; i++) {
      double d = dist2(points + i * (uint64_t)dim, c, dim);
      if (d < d2[i]) d2[i] = d;
    }
  }
  free(d2);
  return GASP_OK;
}

int gasp_kmeans(gasp_graph *g, const gasp_kmeans_opts *o, const double *points,
                int dim, uint32_t *cluster, double *centres,
                gasp_kmeans_info *info, gasp_run_stats *stats,
                gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  gasp_kmeans_info info0;
  if (!info) info = &info0;
  memset(st, 0, sizeof *st);
  memset(info, 0, sizeof *info);
  if (!g || !o || !points || !cluster || !centres)
    return tk_lib_fail(err, GASP_EINVAL,
                       "no graph, options, points, result or centres");
  if (o->k < 1 || dim < 1 || dim > 1 << 20)
    return tk_lib_fail(err, GASP_EINVAL,
                       "kmeans: k %d or dimension %d out "
                       "of range",
                       o->k, dim);
  if (o->engine.engine == GASP_ENGINE_ASYNC || o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "kmeans runs on the sync engine (Lloyd's rounds)");
  gasp_vid n = gasp_graph_num_vertices(g);
  for (size_t i = 0; i < (size_t)n * (size_t)dim; i++)
    if (!isfinite(points[i]))
      return tk_lib_fail(
          err, GASP_EINVAL, "kmeans: a coordinate of vertex %llu is not finite",
          (unsigned long long)gasp_graph_gid(g, (gasp_vid)(i / (size_t)dim)));
  km p;
  memset(&p, 0, sizeof p);
  p.points = points;
  p.k = o->k;
  p.dim = dim;
  p.tol = o->tol;
  p.user_iter = o->engine.on_iteration;
  p.user_iter_arg = o->engine.on_iteration_user;
  p.objective = INFINITY;
  if (!(p.centres =
            gasp__malloc_array((size_t)o->k * (size_t)dim, sizeof *p.centres)))
    return tk_lib_fail(err, GASP_ENOMEM, "kmeans: out of memory");
  int rc;
  if (o->init) {
    memcpy(p.centres, o->init, (size_t)o->k * (size_t)dim * sizeof *p.centres);
  } else if (o->engine.dist) {
    free(p.centres);
    return tk_lib_fail(err, GASP_EINVAL,
                       "kmeans across ranks needs the starting centres "
                       "(opts.init; gasp_kmeans_plusplus over all points)");
  } else if ((rc = gasp_kmeans_plusplus(points, n, dim, o->k, o->seed,
                                        p.centres))) {
    free(p.centres);
    return tk_lib_fail(err, rc,
                       rc == GASP_ENOMEM
                           ? "kmeans: out of memory"
                           : "kmeans: fewer points than clusters");
  }
  gasp_program prog = {0};
  prog.vertex_size = sizeof(km_vertex);
  prog.apply = km_apply;
  prog.user = &p;
  gasp_engine_opts eo = o->engine;
  eo.always_active = 1;
  eo.on_iteration = km_iteration;
  eo.on_iteration_user = &p;
  if (!eo.max_iter) eo.max_iter = 100;
  gasp_engine *e = NULL;
  if ((rc = gasp_engine_new(&e, g, &prog, &eo, err))) goto out;
  km_vertex *vd = gasp_graph_vertex_data(g);
  for (gasp_vid v = 0; v < n; v++)
    vd[v].cluster = UINT32_MAX, vd[v].moved = 0;
  gasp_aggregator a = {0};
  a.size = agg_doubles(&p) * sizeof(double);
  a.map_vertex = km_map;
  a.combine = km_combine;
  a.finalize = km_finalize;
  a.period_iterations = 1;
  a.user = &p;
  int id;
  if ((rc = gasp_engine_add_aggregator(e, &a, &id))) {
    rc = tk_lib_fail(err, rc, "kmeans: out of memory");
    goto out;
  }
  gasp_engine_signal_all(e, 0.0);
  if ((rc = gasp_engine_run(e, st))) {
    if (err) *err = *gasp_engine_last_error(e);
    goto out;
  }
  info->iterations = st->iterations;
  info->converged = p.converged;
  for (gasp_vid v = 0; v < n; v++)
    cluster[v] = vd[v].cluster;
  /* the centres of the final assignment (the means of its clusters) and
   * its objective against them, over every rank */
  memcpy(centres, p.centres, (size_t)o->k * (size_t)dim * sizeof *centres);
  double obj = 0;
  for (gasp_vid v = 0; v < gasp_graph_num_owned(g); v++)
    obj += dist2(points + (size_t)v * dim,
                 p.centres + (size_t)vd[v].cluster * dim, dim);
  if ((rc = gasp_engine_allreduce(e, &obj, 1, GASP_REDUCE_SUM))) {
    if (err) *err = *gasp_engine_last_error(e);
    goto out;
  }
  info->objective = obj;
out:
  gasp_engine_free(&e);
  free(p.centres);
  return rc;
}
