/*
 * lib_spectral.c -- gasp_spectral (gasp_toolkits.h): spectral clustering
 * after Ng, Jordan and Weiss ("On spectral clustering: analysis and an
 * algorithm", NIPS 2001).  The affinity is the graph taken as undirected,
 * W = (A + A^T) / 2 without self loops; L = D^-1/2 W D^-1/2 (D the row
 * sums); its k largest eigenvectors come from symmetric Lanczos with full
 * reorthogonalisation and thick restarts (Wu and Simon, "Thick-restart
 * Lanczos method for large symmetric eigenvalue problems", SIAM J. Matrix
 * Anal. Appl. 22, 2000): with Q (orthonormal) the recurrence keeps
 * L Q = Q T + beta_p q_{p+1} e_p^T, T = Q^T L Q filled from the
 * Gram-Schmidt coefficients (tridiagonal but for the arrow a restart
 * leaves); the eigenpairs of T by Jacobi rotations give the Ritz pairs,
 * their residuals |beta_p s_{p,i}|.  Each product with L is a superstep
 * (lanczos.c: x / sqrt(d) published, W gathered, scaled by 1 / sqrt(d)).
 * Each vertex's row of the eigenvectors, scaled to unit length, is a
 * point; gasp_kmeans, seeded by gasp_kmeans_plusplus, clusters them.
 *
 * Isolated vertices (no edge to another vertex, D = 0) are rows of zeros
 * in L: they are left out of the eigenproblem and of k-means, and get
 * GASP_SPECTRAL_NONE, so they neither add zero eigenvalues nor pull a
 * centre towards the origin.
 */
#include "gasp_toolkits.h"
#include "lanczos.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void gasp_spectral_opts_init(gasp_spectral_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->k = 2;
  o->tol = 1e-10;
  o->seed = 1;
}

typedef struct spec {
  lz_op op;
  int k, p, kk;
  size_t n;
  uint8_t *mem;  /* the vertex takes part (not isolated) */
  double *dinv;  /* 1 / sqrt(d), 0 when isolated */
  double *Q, *T; /* p + 1 basis vectors; combined ones */
  double *y, *H, *Hw, *Z, *d, *coef, *scratch;
  double anorm, beta;
  uint64_t draws, products;
} spec;

static void spec_free(spec *S) {
  gasp__lz_close(&S->op);
  free(S->mem);
  free(S->dinv);
  free(S->Q);
  free(S->T);
  free(S->y);
  free(S->H);
  free(S->Hw);
  free(S->Z);
  free(S->d);
  free(S->coef);
  free(S->scratch);
}

/* Degrees of the local vertices (every edge of an owned vertex is local),
 * which vertices take part, and the counts over every rank. */
static int degrees(spec *S, gasp_graph *g, uint64_t *total, uint64_t *iso,
                   gasp_error *err) {
  size_t n = S->n ? S->n : 1;
  if (!(S->mem = gasp__calloc(n, 1)) ||
      !(S->dinv = gasp__calloc_array(n, sizeof *S->dinv)))
    return tk_lib_fail(err, GASP_ENOMEM, "spectral: out of memory");
  const double *w = gasp_graph_weights(g);
  gasp_adjacency out, in;
  gasp_graph_out_edges(g, &out);
  gasp_graph_in_edges(g, &in);
  double f[3] = {0, 0, 0}; /* vertices, isolated, a bad weight */
  for (gasp_vid v = 0; v < S->op.owned; v++) {
    double d = 0;
    for (uint64_t e = out.off[v]; e < out.off[v + 1]; e++) {
      double x = w ? w[e] : 1;
      if (!(x >= 0) || !isfinite(x)) f[2] = 1;
      if (out.nbr[e] != v) d += 0.5 * x;
    }
    for (uint64_t e = in.off[v]; e < in.off[v + 1]; e++)
      if (in.nbr[e] != v) d += 0.5 * (w ? w[in.slot[e]] : 1);
    f[0] += 1;
    if (d > 0) {
      S->mem[v] = 1;
      S->dinv[v] = 1 / sqrt(d);
    } else {
      f[1] += 1;
    }
  }
  int rc = gasp__lz_allreduce(&S->op, f, 3, err);
  if (rc) return rc;
  if (f[2] > 0)
    return tk_lib_fail(err, GASP_EINVAL,
                       "spectral: a weight is negative or not finite (the "
                       "affinity must be non-negative)");
  *total = (uint64_t)f[0];
  *iso = (uint64_t)f[1];
  return GASP_OK;
}

static int alloc_basis(spec *S, gasp_error *err) {
  size_t n = S->n ? S->n : 1, p = (size_t)S->p;
  size_t keep = (size_t)(S->kk > S->k ? S->kk : S->k);
  S->Q = gasp__malloc_array((p + 1) * n, sizeof *S->Q);
  S->T = gasp__malloc_array(keep * n, sizeof *S->T);
  S->y = gasp__malloc_array(n, sizeof *S->y);
  S->H = gasp__calloc_array(p * p, sizeof *S->H);
  S->Hw = gasp__malloc_array(p * p, sizeof *S->Hw);
  S->Z = gasp__malloc_array(p * p, sizeof *S->Z);
  S->d = gasp__malloc_array(p, sizeof *S->d);
  S->coef = gasp__malloc_array(p + 2, sizeof *S->coef);
  S->scratch = gasp__malloc_array(p + 2, sizeof *S->scratch);
  if (!S->Q || !S->T || !S->y || !S->H || !S->Hw || !S->Z || !S->d ||
      !S->coef || !S->scratch)
    return tk_lib_fail(err, GASP_ENOMEM, "spectral: out of memory");
  return GASP_OK;
}

/* Lanczos steps start .. p-1: column j of T and q_{j+1}. */
static int steps(spec *S, int start, uint64_t seed, gasp_error *err) {
  size_t n = S->n;
  int p = S->p, rc;
  for (int j = start; j < p; j++) {
    double n0, nn, b;
    if ((rc = gasp__lz_product(&S->op, LZ_SYM, S->mem, S->Q + (size_t)j * n,
                               S->mem, S->y, err)) ||
        (rc = gasp__lz_orth(&S->op, S->Q, j + 1, S->y, S->coef, &n0, &nn,
                            S->scratch, err)))
      return rc;
    S->products++;
    for (int i = 0; i <= j; i++) {
      S->H[(size_t)i * p + j] = S->H[(size_t)j * p + i] = S->coef[i];
      S->anorm = fmax(S->anorm, fabs(S->coef[i]));
    }
    S->anorm = fmax(S->anorm, n0);
    if (j + 1 == p && !(nn > 1e-12 * fmax(S->anorm, n0))) {
      S->beta = 0;
      memset(S->Q + (size_t)p * n, 0, (n ? n : 1) * sizeof *S->Q);
      break;
    }
    if ((rc = gasp__lz_next(&S->op, S->Q, j + 1, S->y, n0, nn, S->anorm, S->mem,
                            NULL, seed, &S->draws, S->Q + (size_t)(j + 1) * n,
                            &b, S->coef, S->scratch, err)))
      return rc;
    if (j + 1 == p) S->beta = b;
  }
  return GASP_OK;
}

static double ritz(spec *S) {
  int p = S->p;
  memcpy(S->Hw, S->H, (size_t)p * p * sizeof *S->H);
  gasp__lz_sym_eig(p, S->Hw, S->d, S->Z);
  double top = 0, w = 0;
  for (int i = 0; i < p; i++)
    top = fmax(top, fabs(S->d[i]));
  for (int i = 0; i < S->k; i++) {
    double r = fabs(S->beta * S->Z[(size_t)(p - 1) * p + i]);
    w = fmax(w, top > 0 ? r / top : r);
  }
  return w;
}

/* Thick restart: the kk leading Ritz vectors, then q_{p+1} -- or, to
 * check converged pairs (fresh), the k converged ones only (their
 * residuals, which the new basis no longer holds, are below tol) and a
 * random vector orthogonal to them. */
static int restart(spec *S, int fresh, uint64_t seed, gasp_error *err) {
  size_t n = S->n;
  int p = S->p, kk = fresh ? S->k : S->kk;
  gasp__lz_combine((gasp_vid)n, S->Q, p, S->Z, p, kk, S->T);
  memcpy(S->Q + (size_t)kk * n, S->Q + (size_t)p * n, n * sizeof *S->Q);
  memcpy(S->Q, S->T, (size_t)kk * n * sizeof *S->Q);
  memset(S->H, 0, (size_t)p * p * sizeof *S->H);
  for (int i = 0; i < kk; i++)
    S->H[(size_t)i * p + i] = S->d[i];
  if (!fresh) return GASP_OK;
  double b;
  return gasp__lz_next(&S->op, S->Q, kk, S->y, 0, 0, 0, S->mem, NULL, seed,
                       &S->draws, S->Q + (size_t)kk * n, &b, S->coef,
                       S->scratch, err);
}

/* The eigenvectors: k per vertex in S->T, then Lanczos with restarts. */
static int eigen(spec *S, const gasp_spectral_opts *o, uint64_t members,
                 gasp_spectral_info *info, gasp_error *err) {
  int k = o->k, rc;
  uint64_t want =
      o->nv ? (uint64_t)o->nv : (uint64_t)(2 * k > k + 10 ? 2 * k : k + 10);
  if (want > members) want = members;
  if (want < (uint64_t)k || (want == (uint64_t)k && members > (uint64_t)k))
    return tk_lib_fail(err, GASP_EINVAL,
                       "spectral: nv %d must be more than k %d", o->nv, k);
  S->p = (int)want;
  S->kk = k + (S->p - k) / 2;
  if (S->kk >= S->p) S->kk = S->p - 1;
  info->nv = S->p;
  if ((rc = alloc_basis(S, err))) return rc;
  double n0, nn, b;
  gasp__lz_random(&S->op, S->mem, NULL, o->seed, 0, S->y);
  if ((rc = gasp__lz_orth(&S->op, S->Q, 0, S->y, S->coef, &n0, &nn, S->scratch,
                          err)) ||
      (rc = gasp__lz_next(&S->op, S->Q, 0, S->y, n0, nn, 0, S->mem, NULL,
                          o->seed, &S->draws, S->Q, &b, S->coef, S->scratch,
                          err)))
    return rc;
  int max_restarts = o->max_restarts ? o->max_restarts : 100;
  double snap[64], *sn = k <= 64 ? snap : NULL;
  if (!sn && !(sn = gasp__malloc_array((size_t)k, sizeof *sn)))
    return tk_lib_fail(err, GASP_ENOMEM, "spectral: out of memory");
  int checked = 0;
  for (int start = 0;;) {
    if ((rc = steps(S, start, o->seed, err))) break;
    double worst = ritz(S);
    info->max_residual = worst;
    /* converged: done when a restart from a fresh random direction found
     * nothing new (a repeated eigenvalue shows once per start vector) */
    int conv = !(worst > o->tol), done = conv && checked;
    double eps = fmax(o->tol, 1e-9) * fmax(fabs(S->d[0]), 1e-300);
    for (int i = 0; done && i < k; i++)
      if (!(fabs(S->d[i] - sn[i]) <= eps)) done = 0;
    if (o->engine.on_iteration) {
      gasp_iter_info it = {(uint64_t)info->restarts + 1, S->op.owned,
                           S->op.st.updates, S->op.st.seconds, worst};
      if (o->engine.on_iteration(o->engine.on_iteration_user, &it)) done = 2;
    }
    if (done || info->restarts >= max_restarts ||
        (conv && (uint64_t)S->p == members)) {
      info->converged = conv;
      break;
    }
    if (conv) memcpy(sn, S->d, (size_t)k * sizeof *sn);
    checked = conv;
    if ((rc = restart(S, conv, o->seed, err))) break;
    start = conv ? S->k : S->kk;
    info->restarts++;
  }
  if (sn != snap) free(sn);
  if (rc) return rc;
  gasp__lz_combine((gasp_vid)S->n, S->Q, S->p, S->Z, S->p, k, S->T);
  return GASP_OK;
}

/* The normalised rows of every vertex of the whole graph (gathered on
 * every rank through a sum), k values then a membership flag, in global
 * order; on one process the local order. */
static int gather_rows(spec *S, const gasp_spectral_opts *o, double **rows,
                       uint64_t *nrows, gasp_error *err) {
  gasp_dist *dist = o->engine.dist;
  int k = o->k;
  uint64_t N = dist ? gasp_dist_global_vertices(dist) : S->n;
  double *R =
      gasp__calloc_array((size_t)(N ? N : 1) * (size_t)(k + 1), sizeof *R);
  if (!R) return tk_lib_fail(err, GASP_ENOMEM, "spectral: out of memory");
  for (gasp_vid v = 0; v < S->op.owned; v++) {
    if (!S->mem[v]) continue;
    uint64_t gv = dist ? gasp_dist_global_id(dist, v) : v;
    double *r = R + gv * (uint64_t)(k + 1), s = 0;
    for (int i = 0; i < k; i++) {
      r[i] = S->T[(size_t)i * S->n + v];
      s += r[i] * r[i];
    }
    s = sqrt(s);
    for (int i = 0; i < k; i++)
      r[i] = s > 0 ? r[i] / s : 0;
    r[k] = 1;
  }
  int rc;
  if (dist &&
      (rc = gasp__lz_allreduce(&S->op, R, (size_t)N * (size_t)(k + 1), err))) {
    free(R);
    return rc;
  }
  *rows = R;
  *nrows = N;
  return GASP_OK;
}

/* k-means of the member rows, on a graph of one vertex per member. */
static int cluster_rows(const gasp_spectral_opts *o, const double *R,
                        uint64_t N, uint64_t members, uint32_t *label,
                        gasp_spectral_info *info, gasp_error *err) {
  int k = o->k, rc;
  double *pts = gasp__malloc_array((size_t)members * k, sizeof *pts);
  double *cent = gasp__malloc_array((size_t)k * k, sizeof *cent);
  double *init = gasp__malloc_array((size_t)k * k, sizeof *init);
  uint32_t *cl = gasp__malloc_array((size_t)members, sizeof *cl);
  gasp_graph *kg = NULL;
  if (!pts || !cent || !init || !cl) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "spectral: out of memory");
    goto out;
  }
  uint64_t c = 0;
  for (uint64_t x = 0; x < N; x++)
    if (R[x * (uint64_t)(k + 1) + (uint64_t)k] > 0)
      memcpy(pts + c++ * (uint64_t)k, R + x * (uint64_t)(k + 1),
             (size_t)k * sizeof *pts);
  if ((rc = gasp_graph_from_coo(&kg, 0, NULL, NULL, NULL, members, 0,
                                o->engine.threads, err)))
    goto out;
  if ((rc = gasp_kmeans_plusplus(pts, members, k, k, o->seed, init))) {
    rc = tk_lib_fail(err, rc, "spectral: k-means seeding failed");
    goto out;
  }
  gasp_kmeans_opts ko;
  gasp_kmeans_opts_init(&ko);
  ko.engine.threads = o->engine.threads;
  ko.k = k;
  ko.seed = o->seed;
  ko.init = init;
  ko.engine.max_iter = o->kmeans_max_iter;
  gasp_kmeans_info ki;
  if ((rc = gasp_kmeans(kg, &ko, pts, k, cl, cent, &ki, NULL, err))) goto out;
  info->objective = ki.objective;
  info->kmeans_iterations = ki.iterations;
  info->kmeans_converged = ki.converged;
  c = 0;
  for (uint64_t x = 0; x < N; x++)
    label[x] = R[x * (uint64_t)(k + 1) + (uint64_t)k] > 0 ? cl[c++]
                                                          : GASP_SPECTRAL_NONE;
out:
  gasp_graph_free(&kg);
  free(pts);
  free(cent);
  free(init);
  free(cl);
  return rc;
}

int gasp_spectral(gasp_graph *g, const gasp_spectral_opts *o, uint32_t *cluster,
                  double *eigenvalues, double *embedding,
                  gasp_spectral_info *info, gasp_run_stats *stats,
                  gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  gasp_spectral_info info0;
  if (!info) info = &info0;
  memset(st, 0, sizeof *st);
  memset(info, 0, sizeof *info);
  if (!g || !o || !cluster)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  if (o->engine.engine == GASP_ENGINE_ASYNC || o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "spectral runs on the sync engine "
                       "(a product a superstep)");
  if (o->k < 1 || o->k > 1 << 12 || o->nv < 0 || o->nv > 1 << 16 ||
      o->max_restarts < 0 || !(o->tol >= 0))
    return tk_lib_fail(err, GASP_EINVAL,
                       "spectral: k %d, nv %d, max_restarts %d or tol %g out "
                       "of range",
                       o->k, o->nv, o->max_restarts, o->tol);
  spec S;
  memset(&S, 0, sizeof S);
  S.k = o->k;
  S.n = gasp_graph_num_vertices(g);
  double *R = NULL;
  uint32_t *label = NULL;
  uint64_t total = 0, iso = 0, N = 0;
  int rc;
  if ((rc = gasp__lz_open(&S.op, g, &o->engine, err)) ||
      (rc = degrees(&S, g, &total, &iso, err)))
    goto out;
  S.op.scale = S.dinv;
  info->vertices = total;
  info->isolated = iso;
  if ((uint64_t)o->k > total - iso) {
    rc = tk_lib_fail(err, GASP_EINVAL,
                     "spectral: %d clusters for %llu vertices with edges", o->k,
                     (unsigned long long)(total - iso));
    goto out;
  }
  if ((rc = eigen(&S, o, total - iso, info, err))) goto out;
  info->products = S.products;
  if (eigenvalues)
    for (int i = 0; i < o->k; i++)
      eigenvalues[i] = S.d[i];
  if ((rc = gather_rows(&S, o, &R, &N, err))) goto out;
  if (!(label = gasp__malloc_array((size_t)(N ? N : 1), sizeof *label))) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "spectral: out of memory");
    goto out;
  }
  if ((rc = cluster_rows(o, R, N, total - iso, label, info, err))) goto out;
  for (gasp_vid v = 0; v < S.n; v++) {
    uint64_t gv = o->engine.dist ? gasp_dist_global_id(o->engine.dist, v) : v;
    cluster[v] = label[gv];
    if (embedding)
      for (int i = 0; i < o->k; i++)
        embedding[(size_t)v * o->k + i] = R[gv * (uint64_t)(o->k + 1) + i];
  }
  *st = S.op.st;
out:
  spec_free(&S);
  free(R);
  free(label);
  return rc;
}
