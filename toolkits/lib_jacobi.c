/*
 * lib_jacobi.c -- gasp_jacobi (gasp_toolkits.h): the Jacobi iteration for
 * A x = b, A a sparse square matrix held as a weighted graph (row i's
 * entries a_ij are the out-edges i -> j with weight a_ij, the diagonal a
 * self loop; repeated entries add up, as in a Matrix Market file).
 *
 * Each sweep is one superstep of the sync engine over every row:
 *   x_i <- (b_i - sum_{j != i} a_ij x_j) / a_ii
 * gathered from the out-neighbours' values of the sweep before, so the
 * result is the same for any thread count or ranks (the sums run in edge
 * order).  It converges for a strictly diagonally dominant A (and for
 * other matrices whose iteration matrix has spectral radius below 1); the
 * run stops when the largest change of a sweep is at most tol (1 + the
 * largest |x_i|), or after max_iter sweeps.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct jac_vertex {
  double x, diag, b;
  double change; /* |x_new - x| of the last sweep */
} jac_vertex;

typedef struct jac {
  const double *w; /* weights by edge slot */
  double *worst;   /* per thread: the largest change and |x| this sweep */
  int threads;
  double tol;
  gasp_engine *e;
  int (*user_iter)(void *, const gasp_iter_info *);
  void *user_iter_arg;
  double last_change;
  int failed;    /* an allreduce failed in on_iteration */
  int converged; /* the tolerance ended the run */
} jac;

static void jac_gather(const gasp_ctx *ctx, const void *vp, const gasp_nbrs *nb,
                       void *acc) {
  (void)vp;
  const jac *p = gasp_ctx_user(ctx);
  gasp_vid self = gasp_ctx_vertex(ctx);
  const char *vd = nb->vertex_data;
  double s = 0;
  for (uint64_t i = 0; i < nb->n_out; i++) {
    gasp_vid j = nb->out[i];
    if (j == self) continue;
    s += p->w[nb->out_slot0 + i] *
         ((const jac_vertex *)(vd + (size_t)j * nb->vertex_size))->x;
  }
  *(double *)acc = s;
}

static void jac_apply(gasp_ctx *ctx, void *vp, const void *acc) {
  jac *p = gasp_ctx_user(ctx);
  jac_vertex *v = vp;
  double x = (v->b - *(const double *)acc) / v->diag;
  v->change = fabs(x - v->x);
  v->x = x;
  double *w = p->worst + 2 * (size_t)gasp_ctx_thread(ctx);
  if (v->change > w[0]) w[0] = v->change;
  if (fabs(x) > w[1]) w[1] = fabs(x);
}

/* After each sweep: the largest change and value over threads and ranks;
 * converged when the change is at most tol (1 + largest |x|). */
static int jac_iteration(void *user, const gasp_iter_info *info) {
  jac *p = user;
  double w[2] = {0, 0};
  for (int t = 0; t < p->threads; t++) {
    w[0] = fmax(w[0], p->worst[2 * t]);
    w[1] = fmax(w[1], p->worst[2 * t + 1]);
    p->worst[2 * t] = p->worst[2 * t + 1] = 0;
  }
  if (gasp_engine_allreduce(p->e, w, 2, GASP_REDUCE_MAX)) {
    p->failed = 1;
    return 1;
  }
  p->last_change = w[0];
  gasp_iter_info mine = *info;
  mine.residual = w[0];
  int stop = p->user_iter ? p->user_iter(p->user_iter_arg, &mine) : 0;
  if (!(w[0] > p->tol * (1 + w[1])) && isfinite(w[0])) p->converged = 1;
  return stop || p->converged || !isfinite(w[0]);
}

void gasp_jacobi_opts_init(gasp_jacobi_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->tol = 1e-10;
}

/* ||b - A x||_2 / ||b||_2 over the owned rows of every rank (||b|| = 0:
 * the absolute norm). */
static int residual(gasp_graph *g, gasp_engine *e, const double *w, double *out,
                    gasp_error *err) {
  const jac_vertex *vd = gasp_graph_vertex_data(g);
  gasp_adjacency a;
  gasp_graph_out_edges(g, &a);
  double s[2] = {0, 0};
  for (gasp_vid i = 0; i < gasp_graph_num_owned(g); i++) {
    double r = vd[i].b;
    for (uint64_t k = a.off[i]; k < a.off[i + 1]; k++)
      r -= w[k] * vd[a.nbr[k]].x;
    s[0] += r * r;
    s[1] += vd[i].b * vd[i].b;
  }
  int rc = gasp_engine_allreduce(e, s, 2, GASP_REDUCE_SUM);
  if (rc) {
    if (err) *err = *gasp_engine_last_error(e);
    return rc;
  }
  *out = s[1] > 0 ? sqrt(s[0] / s[1]) : sqrt(s[0]);
  return GASP_OK;
}

int gasp_jacobi(gasp_graph *g, const gasp_jacobi_opts *o, const double *b,
                double *x, gasp_jacobi_info *info, gasp_run_stats *stats,
                gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  gasp_jacobi_info info0;
  if (!info) info = &info0;
  memset(st, 0, sizeof *st);
  memset(info, 0, sizeof *info);
  if (!g || !o || !x)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  if (o->engine.engine == GASP_ENGINE_ASYNC)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "jacobi runs on the sync engine (a sweep a superstep)");
  if (o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "jacobi: sweeps are whole supersteps (no staleness)");
  if (!(o->tol >= 0))
    return tk_lib_fail(err, GASP_EINVAL, "jacobi: tol %g is negative", o->tol);
  const double *w = gasp_graph_weights(g);
  if (!w || gasp_graph_is_bipartite(g))
    return tk_lib_fail(err, GASP_EINVAL,
                       "jacobi: not a square matrix with values (a weighted "
                       "graph of one vertex set)");
  gasp_vid n = gasp_graph_num_vertices(g), owned = gasp_graph_num_owned(g);
  jac p = {w,
           NULL,
           0,
           o->tol,
           NULL,
           o->engine.on_iteration,
           o->engine.on_iteration_user,
           0,
           0,
           0};
  gasp_program prog = {0};
  prog.vertex_size = sizeof(jac_vertex);
  prog.acc_size = sizeof(double);
  prog.gather_dir = GASP_DIR_OUT;
  prog.gather_vertex = jac_gather;
  prog.apply = jac_apply;
  prog.user = &p;
  gasp_engine_opts eo = o->engine;
  eo.always_active = 1;
  eo.on_iteration = jac_iteration;
  eo.on_iteration_user = &p;
  if (!eo.max_iter) eo.max_iter = 1000;
  int rc = gasp_engine_new(&p.e, g, &prog, &eo, err);
  if (rc) return rc;
  p.threads = gasp_engine_threads(p.e);
  if (!(p.worst = gasp__calloc(2 * (size_t)p.threads, sizeof *p.worst))) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "jacobi: out of memory");
    goto out;
  }
  /* the diagonal (self loops, added up), b, x = 0; strict diagonal
   * dominance row by row */
  jac_vertex *vd = gasp_graph_vertex_data(g);
  gasp_adjacency a;
  gasp_graph_out_edges(g, &a);
  double flags[2] = {0, 1}; /* a zero diagonal (its row + 1); dominant */
  for (gasp_vid i = 0; i < n; i++) {
    /* repeated entries add up before |a_ij| (the list ascends, so a
     * column's entries are next to each other) */
    double d = 0, off = 0, run = 0;
    for (uint64_t k = a.off[i]; k < a.off[i + 1]; k++) {
      if (a.nbr[k] == i) {
        d += w[k];
        continue;
      }
      run += w[k];
      if (k + 1 == a.off[i + 1] || a.nbr[k + 1] != a.nbr[k]) {
        off += fabs(run);
        run = 0;
      }
    }
    vd[i].diag = d;
    vd[i].x = 0;
    vd[i].change = 0;
    if (b) {
      vd[i].b = b[i];
    } else { /* A 1: the solution is all ones */
      double s = 0;
      for (uint64_t k = a.off[i]; k < a.off[i + 1]; k++)
        s += w[k];
      vd[i].b = s;
    }
    if (i < owned && d == 0 && flags[0] == 0)
      flags[0] = (double)gasp_graph_gid(g, i) + 1;
    if (i < owned && !(fabs(d) > off)) flags[1] = 0;
  }
  double bad[2] = {flags[0], -flags[1]}; /* max row id; min dominance */
  if ((rc = gasp_engine_allreduce(p.e, bad, 2, GASP_REDUCE_MAX))) {
    if (err) *err = *gasp_engine_last_error(p.e);
    goto out;
  }
  if (bad[0] > 0) {
    rc = tk_lib_fail(err, GASP_EINVAL,
                     "jacobi: row %.0f has no diagonal entry (or it is 0)",
                     bad[0] - 1);
    goto out;
  }
  info->dominant = bad[1] == -1;
  rc = gasp_engine_run(p.e, st);
  if (!rc && p.failed) rc = GASP_EPEER;
  if (rc) {
    if (err) *err = *gasp_engine_last_error(p.e);
    goto out;
  }
  info->sweeps = st->iterations;
  info->max_change = p.last_change;
  if ((rc = residual(g, p.e, w, &info->residual, err))) goto out;
  info->converged = p.converged && isfinite(info->residual);
  for (gasp_vid i = 0; i < n; i++)
    x[i] = vd[i].x;
out:
  gasp_engine_free(&p.e);
  free(p.worst);
  return rc;
}
