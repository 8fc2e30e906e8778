/*
 * lib_svd.c -- gasp_svd (gasp_toolkits.h): the largest singular triplets
 * of a sparse matrix held as a graph, by Golub-Kahan-Lanczos
 * bidiagonalisation (Golub and Kahan 1965) with full reorthogonalisation
 * and thick restarts (Baglama and Reichel, "Augmented implicitly
 * restarted Lanczos bidiagonalization methods", SIAM J. Sci. Comput. 27,
 * 2005), as GraphLab's svd toolkit computes them.
 *
 * With V (n x p, orthonormal) and U (m x p) the recurrence keeps
 *   A V = U B,   A^T U = V B^T + beta_p v_{p+1} e_p^T,
 * B upper triangular (bidiagonal but for the column after the kept
 * vectors of a restart), filled from the Gram-Schmidt coefficients
 * themselves, so it is the projection U^T A V the arithmetic produced.
 * The SVD of B (p x p, one-sided Jacobi, in process) gives the Ritz
 * triplets: sigma_i, u_i = U x_i, v_i = V y_i, with the residual
 * ||A^T u_i - sigma_i v_i|| = |beta_p x_{p,i}| (A v_i = sigma_i u_i
 * holds by construction).  A restart keeps the kk = k + (p - k) / 2
 * leading Ritz vectors and v_{p+1}, and goes on from there.
 *
 * Each product A x (x on the columns) or A^T y (y on the rows) is a
 * superstep of the sync engine (lanczos.c), so the same code runs across
 * ranks; the vectors live on the owned vertices, dot products are
 * reduced over the ranks.
 */
#include "gasp_toolkits.h"
#include "lanczos.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void gasp_svd_opts_init(gasp_svd_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->k = 10;
  o->tol = 1e-10;
  o->seed = 1;
}

typedef struct svd {
  lz_op op;
  int k, p, kk;
  size_t n; /* local vertices (owned and ghosts) */
  uint8_t *row, *col, *side;
  double *V, *U;  /* p + 1 and p basis vectors of n */
  double *T;      /* kk (or k) combined vectors, for restarts and results */
  double *y;      /* a product */
  double *B, *Bw; /* p x p and a copy the dense SVD destroys */
  double *X, *Y, *s, *coef, *scratch;
  double *snap;       /* the k values at the last convergence */
  double anorm, beta; /* the largest figure seen; beta_p */
  uint64_t draws, products;
} svd;

static void svd_free(svd *S) {
  gasp__lz_close(&S->op);
  free(S->row);
  free(S->col);
  free(S->side);
  free(S->V);
  free(S->U);
  free(S->T);
  free(S->y);
  free(S->B);
  free(S->Bw);
  free(S->X);
  free(S->Y);
  free(S->s);
  free(S->coef);
  free(S->scratch);
  free(S->snap);
}

/* Rows, columns and their counts over every rank; every weight finite. */
static int roles(svd *S, gasp_graph *g, gasp_dist *dist, uint64_t *m,
                 uint64_t *ncol, gasp_error *err) {
  size_t n = S->n ? S->n : 1;
  if (!(S->row = gasp__malloc(n)) || !(S->col = gasp__malloc(n)) ||
      !(S->side = gasp__malloc(n)))
    return tk_lib_fail(err, GASP_ENOMEM, "svd: out of memory");
  double f[4] = {0, 0, 0, 0}; /* a right vertex; rows; columns; bad weight */
  for (size_t v = 0; v < S->n; v++) {
    gasp_side sd = dist ? gasp_dist_side(dist, (gasp_vid)v)
                        : gasp_graph_side(g, (gasp_vid)v);
    S->side[v] = sd == GASP_SIDE_RIGHT;
    if (S->side[v]) f[0] = 1;
  }
  const double *w = gasp_graph_weights(g);
  for (uint64_t e = 0; e < gasp_graph_num_edges(g); e++)
    if (!isfinite(w[e])) f[3] = 1;
  int rc = gasp__lz_allreduce(&S->op, f, 4, err);
  if (rc) return rc;
  int bip = f[0] > 0;
  f[1] = f[2] = 0;
  for (size_t v = 0; v < S->n; v++) {
    S->row[v] = !bip || !S->side[v];
    S->col[v] = !bip || S->side[v];
    if (v < S->op.owned) f[1] += S->row[v], f[2] += S->col[v];
  }
  if ((rc = gasp__lz_allreduce(&S->op, f + 1, 2, err))) return rc;
  *m = (uint64_t)f[1];
  *ncol = (uint64_t)f[2];
  if (f[3] > 0)
    return tk_lib_fail(err, GASP_EINVAL,
                       "svd: the matrix has a value that "
                       "is not finite");
  return GASP_OK;
}

static int alloc_basis(svd *S, gasp_error *err) {
  size_t n = S->n ? S->n : 1, p = (size_t)S->p;
  size_t keep = (size_t)(S->kk > S->k ? S->kk : S->k);
  S->V = gasp__malloc_array((p + 1) * n, sizeof *S->V);
  S->U = gasp__malloc_array(p * n, sizeof *S->U);
  S->T = gasp__malloc_array(keep * n, sizeof *S->T);
  S->y = gasp__malloc_array(n, sizeof *S->y);
  S->B = gasp__calloc_array(p * p, sizeof *S->B);
  S->Bw = gasp__malloc_array(p * p, sizeof *S->Bw);
  S->X = gasp__malloc_array(p * p, sizeof *S->X);
  S->Y = gasp__malloc_array(p * p, sizeof *S->Y);
  S->s = gasp__malloc_array(p, sizeof *S->s);
  S->coef = gasp__malloc_array(p + 1, sizeof *S->coef);
  S->scratch = gasp__malloc_array(p + 2, sizeof *S->scratch);
  S->snap = gasp__malloc_array((size_t)S->k, sizeof *S->snap);
  if (!S->snap || !S->V || !S->U || !S->T || !S->y || !S->B || !S->Bw ||
      !S->X || !S->Y || !S->s || !S->coef || !S->scratch)
    return tk_lib_fail(err, GASP_ENOMEM, "svd: out of memory");
  return GASP_OK;
}

static double fmax3(double a, double b, double c) {
  return fmax(a, fmax(b, c));
}

/* Lanczos steps start .. p-1: column j of B, u_j, and v_{j+1}. */
static int steps(svd *S, int start, uint64_t seed, gasp_error *err) {
  size_t n = S->n;
  int p = S->p, rc;
  for (int j = start; j < p; j++) {
    double *vj = S->V + (size_t)j * n, *uj = S->U + (size_t)j * n;
    double n0, nn, a, b;
    if ((rc = gasp__lz_product(&S->op, LZ_ROWS, S->col, vj, S->row, S->y,
                               err)) ||
        (rc = gasp__lz_orth(&S->op, S->U, j, S->y, S->coef, &n0, &nn,
                            S->scratch, err)))
      return rc;
    S->products++;
    for (int i = 0; i < j; i++) {
      S->B[(size_t)i * p + j] = S->coef[i];
      S->anorm = fmax(S->anorm, fabs(S->coef[i]));
    }
    if ((rc = gasp__lz_next(&S->op, S->U, j, S->y, n0, nn, S->anorm, S->row,
                            S->side, seed, &S->draws, uj, &a, S->coef,
                            S->scratch, err)))
      return rc;
    S->B[(size_t)j * p + j] = a;
    if ((rc = gasp__lz_product(&S->op, LZ_COLS, S->row, uj, S->col, S->y,
                               err)) ||
        (rc = gasp__lz_orth(&S->op, S->V, j + 1, S->y, S->coef, &n0, &nn,
                            S->scratch, err)))
      return rc;
    S->products++;
    S->anorm = fmax3(S->anorm, a, n0);
    if (j + 1 == p && !(nn > 1e-12 * fmax(S->anorm, n0))) {
      S->beta = 0; /* an invariant subspace: the triplets are exact */
      memset(S->V + (size_t)p * n, 0, (n ? n : 1) * sizeof *S->V);
      break;
    }
    if ((rc =
             gasp__lz_next(&S->op, S->V, j + 1, S->y, n0, nn, S->anorm, S->col,
                           S->side, seed, &S->draws, S->V + (size_t)(j + 1) * n,
                           &b, S->coef, S->scratch, err)))
      return rc;
    if (j + 1 == p) S->beta = b;
  }
  return GASP_OK;
}

/* The SVD of B, and the largest Ritz residual of the wanted triplets
 * relative to sigma_1. */
static int ritz(svd *S, double *worst) {
  int p = S->p;
  memcpy(S->Bw, S->B, (size_t)p * p * sizeof *S->B);
  if (gasp__lz_svd(p, S->Bw, S->s, S->X, S->Y)) return GASP_ENOMEM;
  double w = 0;
  for (int i = 0; i < S->k; i++) {
    double r = fabs(S->beta * S->X[(size_t)(p - 1) * p + i]);
    w = fmax(w, S->s[0] > 0 ? r / S->s[0] : 0);
  }
  *worst = w;
  return GASP_OK;
}

/* Thick restart: the kk leading Ritz vectors, then v_{p+1} -- or, to
 * check converged triplets (fresh), the k converged ones only (their
 * residuals, which the new basis no longer holds, are below tol) and a
 * random vector orthogonal to them. */
static int restart(svd *S, int fresh, uint64_t seed, gasp_error *err) {
  size_t n = S->n;
  int p = S->p, kk = fresh ? S->k : S->kk;
  gasp__lz_combine((gasp_vid)n, S->V, p, S->Y, p, kk, S->T);
  memcpy(S->V + (size_t)kk * n, S->V + (size_t)p * n, n * sizeof *S->V);
  memcpy(S->V, S->T, (size_t)kk * n * sizeof *S->V);
  gasp__lz_combine((gasp_vid)n, S->U, p, S->X, p, kk, S->T);
  memcpy(S->U, S->T, (size_t)kk * n * sizeof *S->U);
  memset(S->B, 0, (size_t)p * p * sizeof *S->B);
  for (int i = 0; i < kk; i++)
    S->B[(size_t)i * p + i] = S->s[i];
  if (!fresh) return GASP_OK;
  double b;
  return gasp__lz_next(&S->op, S->V, kk, S->y, 0, 0, 0, S->col, S->side, seed,
                       &S->draws, S->V + (size_t)kk * n, &b, S->coef,
                       S->scratch, err);
}

/* Whether the k wanted values are those of the last check. */
static int settled(const svd *S, const double *snap, double tol) {
  double eps = fmax(tol, 1e-9) * S->s[0];
  for (int i = 0; i < S->k; i++)
    if (!(fabs(S->s[i] - snap[i]) <= eps)) return 0;
  return 1;
}

/* The explicit residuals of the k triplets, U and V at T and V. */
static int residuals(svd *S, double *res, gasp_error *err) {
  size_t n = S->n;
  int rc;
  for (int i = 0; i < S->k; i++) {
    const double *vi = S->V + (size_t)i * n, *ui = S->U + (size_t)i * n;
    double r[2] = {0, 0};
    if ((rc = gasp__lz_product(&S->op, LZ_ROWS, S->col, vi, S->row, S->y, err)))
      return rc;
    for (gasp_vid v = 0; v < S->op.owned; v++) {
      double d = S->y[v] - S->s[i] * ui[v];
      r[0] += d * d;
    }
    if ((rc = gasp__lz_product(&S->op, LZ_COLS, S->row, ui, S->col, S->y, err)))
      return rc;
    for (gasp_vid v = 0; v < S->op.owned; v++) {
      double d = S->y[v] - S->s[i] * vi[v];
      r[1] += d * d;
    }
    if ((rc = gasp__lz_allreduce(&S->op, r, 2, err))) return rc;
    res[i] = sqrt(r[0] + r[1]);
  }
  return GASP_OK;
}

static int check_opts(const gasp_svd_opts *o, gasp_graph *g, double *sigma,
                      gasp_error *err) {
  if (!g || !o || !sigma)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  if (o->engine.engine == GASP_ENGINE_ASYNC || o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "svd runs on the sync engine (a product a superstep)");
  if (o->k < 1 || o->k > 1 << 16)
    return tk_lib_fail(err, GASP_EINVAL, "svd: k %d out of range (1 .. 65536)",
                       o->k);
  if (o->nv < 0 || o->nv > 1 << 16)
    return tk_lib_fail(err, GASP_EINVAL, "svd: nv %d out of range", o->nv);
  if (o->max_restarts < 0 || !(o->tol >= 0))
    return tk_lib_fail(err, GASP_EINVAL,
                       "svd: max_restarts %d or tol %g negative",
                       o->max_restarts, o->tol);
  if (!gasp_graph_weights(g))
    return tk_lib_fail(err, GASP_EINVAL,
                       "svd: not a matrix with values (the graph has no "
                       "weights)");
  return GASP_OK;
}

/* The basis size: nv or max(2k, k + 10), at most min(m, n); more than k
 * unless k = min(m, n).  0, or -1 for an nv that is too small. */
static int basis_size(const gasp_svd_opts *o, uint64_t mn, int *p, int *kk) {
  int k = o->k;
  uint64_t want =
      o->nv ? (uint64_t)o->nv : (uint64_t)(2 * k > k + 10 ? 2 * k : k + 10);
  if (want > mn) want = mn;
  if (want < (uint64_t)k || (want == (uint64_t)k && mn > (uint64_t)k))
    return -1;
  *p = (int)want;
  *kk = k + (*p - k) / 2;
  if (*kk >= *p) *kk = *p - 1;
  return 0;
}

int gasp_svd(gasp_graph *g, const gasp_svd_opts *o, double *sigma, double *u,
             double *v, double *residual, gasp_svd_info *info,
             gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  gasp_svd_info info0;
  if (!info) info = &info0;
  memset(st, 0, sizeof *st);
  memset(info, 0, sizeof *info);
  int rc = check_opts(o, g, sigma, err);
  if (rc) return rc;
  svd S;
  memset(&S, 0, sizeof S);
  S.k = o->k;
  S.n = gasp_graph_num_vertices(g);
  uint64_t m = 0, ncol = 0;
  if ((rc = gasp__lz_open(&S.op, g, &o->engine, err)) ||
      (rc = roles(&S, g, o->engine.dist, &m, &ncol, err)))
    goto out;
  info->rows = m;
  info->cols = ncol;
  uint64_t mn = m < ncol ? m : ncol;
  if ((uint64_t)o->k > mn) {
    rc = tk_lib_fail(err, GASP_EINVAL,
                     "svd: k %d is more than min(rows %llu, columns %llu)",
                     o->k, (unsigned long long)m, (unsigned long long)ncol);
    goto out;
  }
  if (basis_size(o, mn, &S.p, &S.kk)) {
    rc = tk_lib_fail(err, GASP_EINVAL,
                     "svd: nv %d must be more than k %d (or k = min(m, n))",
                     o->nv, o->k);
    goto out;
  }
  info->nv = S.p;
  if ((rc = alloc_basis(&S, err))) goto out;
  /* v_1: random on the columns, normalised */
  {
    double n0, nn, b;
    gasp__lz_random(&S.op, S.col, S.side, o->seed, 0, S.y);
    if ((rc = gasp__lz_orth(&S.op, S.V, 0, S.y, S.coef, &n0, &nn, S.scratch,
                            err)) ||
        (rc =
             gasp__lz_next(&S.op, S.V, 0, S.y, n0, nn, 0, S.col, S.side,
                           o->seed, &S.draws, S.V, &b, S.coef, S.scratch, err)))
      goto out;
  }
  int max_restarts = o->max_restarts ? o->max_restarts : 100;
  double worst = 0, *snap = S.snap;
  int checked = 0;
  for (int start = 0;;) {
    if ((rc = steps(&S, start, o->seed, err))) goto out;
    if ((rc = ritz(&S, &worst))) {
      rc = tk_lib_fail(err, rc, "svd: out of memory");
      goto out;
    }
    /* converged: done when a restart from a fresh random direction
     * (orthogonal to the triplets) found nothing new -- one starting
     * vector sees a repeated value once; the fresh one finds its copies */
    int conv = !(worst > o->tol);
    int done = conv && checked && settled(&S, snap, o->tol);
    if (o->engine.on_iteration) {
      gasp_iter_info it = {(uint64_t)info->restarts + 1, S.op.owned,
                           S.op.st.updates, S.op.st.seconds, worst};
      if (o->engine.on_iteration(o->engine.on_iteration_user, &it)) done = 2;
    }
    if (done || info->restarts >= max_restarts) {
      info->converged = done == 1 || conv;
      break;
    }
    if (conv && (uint64_t)S.p == mn) { /* the whole space */
      info->converged = 1;
      break;
    }
    if (conv) memcpy(snap, S.s, (size_t)S.k * sizeof *snap);
    checked = conv;
    if ((rc = restart(&S, conv, o->seed, err))) goto out;
    start = conv ? S.k : S.kk;
    info->restarts++;
  }
  /* the k triplets: V y_i and U x_i */
  gasp__lz_combine((gasp_vid)S.n, S.V, S.p, S.Y, S.p, S.k, S.T);
  memcpy(S.V, S.T, (size_t)S.k * S.n * sizeof *S.V);
  gasp__lz_combine((gasp_vid)S.n, S.U, S.p, S.X, S.p, S.k, S.T);
  memcpy(S.U, S.T, (size_t)S.k * S.n * sizeof *S.U);
  double *res = S.scratch; /* p + 2 >= k */
  if ((rc = residuals(&S, res, err))) goto out;
  for (int i = 0; i < S.k; i++) {
    sigma[i] = S.s[i];
    if (residual) residual[i] = res[i];
    double r = S.s[0] > 0 ? res[i] / S.s[0] : res[i];
    if (r > info->max_residual) info->max_residual = r;
  }
  for (size_t x = 0; x < S.n; x++)
    for (int i = 0; i < S.k; i++) {
      if (u) u[x * (size_t)S.k + i] = S.U[(size_t)i * S.n + x];
      if (v) v[x * (size_t)S.k + i] = S.V[(size_t)i * S.n + x];
    }
  info->products = S.products;
  *st = S.op.st;
out:
  svd_free(&S);
  return rc;
}
