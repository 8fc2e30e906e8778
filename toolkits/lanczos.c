/*
 * lanczos.c -- the pieces gasp_svd and gasp_spectral share (lanczos.h):
 *
 *  - sparse products y = A x, A^T x or the symmetric part of A as
 *    supersteps of the sync engine: a superstep in which the owned
 *    vertices of x's set publish x as their vertex data (which the engine
 *    sends to the ranks holding them as ghosts), then one in which the
 *    vertices of y's set gather it along their edges, in edge order, so a
 *    product is the same on any thread count;
 *  - the basis: Gram-Schmidt against the Lanczos vectors, twice
 *    (Giraud et al., "twice is enough"), with one reduction across ranks
 *    per pass, and reproducible random vectors;
 *  - the small dense problems of size nv, in process: the symmetric
 *    eigenproblem by cyclic Jacobi rotations and the SVD by one-sided
 *    (Hestenes) Jacobi rotations, both accurate to the last digits
 *    without LAPACK.
 */
#include "lanczos.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- products on the engine ------------------------------------------ */

static gasp_dir lz_edges(const gasp_ctx *ctx, const void *v) {
  (void)v;
  const lz_op *op = gasp_ctx_user(ctx);
  switch (op->phase) {
  case LZ_ROWS: return GASP_DIR_OUT;
  case LZ_COLS: return GASP_DIR_IN;
  case LZ_SYM: return GASP_DIR_ALL;
  default: return GASP_DIR_NONE;
  }
}

static double xof(const gasp_nbrs *nb, gasp_vid j) {
  return *(const double *)((const char *)nb->vertex_data +
                           (size_t)j * nb->vertex_size);
}

static void lz_gather(const gasp_ctx *ctx, const void *vp, const gasp_nbrs *nb,
                      void *acc) {
  (void)vp;
  const lz_op *op = gasp_ctx_user(ctx);
  const double *w = op->w;
  double s = 0;
  if (op->phase == LZ_SYM) {
    gasp_vid self = gasp_ctx_vertex(ctx);
    for (uint64_t i = 0; i < nb->n_out; i++)
      if (nb->out[i] != self)
        s += 0.5 * (w ? w[nb->out_slot0 + i] : 1) * xof(nb, nb->out[i]);
    for (uint64_t i = 0; i < nb->n_in; i++)
      if (nb->in[i] != self)
        s += 0.5 * (w ? w[nb->in_slot[i]] : 1) * xof(nb, nb->in[i]);
  } else {
    for (uint64_t i = 0; i < nb->n_out; i++)
      s += (w ? w[nb->out_slot0 + i] : 1) * xof(nb, nb->out[i]);
    for (uint64_t i = 0; i < nb->n_in; i++)
      s += (w ? w[nb->in_slot[i]] : 1) * xof(nb, nb->in[i]);
  }
  *(double *)acc = s;
}

static void lz_apply(gasp_ctx *ctx, void *vp, const void *acc) {
  lz_op *op = gasp_ctx_user(ctx);
  gasp_vid self = gasp_ctx_vertex(ctx);
  double sc = op->scale ? op->scale[self] : 1;
  if (op->phase == LZ_PUBLISH)
    *(double *)vp = op->src[self] * sc;
  else
    op->dst[self] = *(const double *)acc * sc;
}

int gasp__lz_open(lz_op *op, gasp_graph *g, const gasp_engine_opts *eo0,
                  gasp_error *err) {
  op->g = g;
  op->e = NULL;
  op->n = gasp_graph_num_vertices(g);
  op->owned = gasp_graph_num_owned(g);
  op->w = gasp_graph_weights(g);
  memset(&op->st, 0, sizeof op->st);
  gasp_program prog = {0};
  prog.vertex_size = sizeof(double);
  prog.acc_size = sizeof(double);
  prog.gather_edges = lz_edges;
  prog.gather_vertex = lz_gather;
  prog.apply = lz_apply;
  prog.user = op;
  gasp_engine_opts eo = *eo0;
  eo.max_iter = 1; /* a run is one superstep */
  eo.always_active = 0;
  eo.on_iteration = NULL;
  eo.gpu = GASP_GPU_OFF;
  return gasp_engine_new(&op->e, g, &prog, &eo, err);
}

void gasp__lz_close(lz_op *op) { gasp_engine_free(&op->e); }

static int lz_run(lz_op *op, const uint8_t *mask, gasp_error *err) {
  for (gasp_vid v = 0; v < op->owned; v++)
    if (!mask || mask[v]) gasp_engine_signal(op->e, v, 0);
  gasp_run_stats st;
  int rc = gasp_engine_run(op->e, &st);
  if (rc) {
    if (err) *err = *gasp_engine_last_error(op->e);
    return rc;
  }
  op->st.updates += st.updates;
  op->st.iterations += st.iterations;
  op->st.seconds += st.seconds;
  op->st.threads = st.threads;
  op->st.reason = st.reason;
  return GASP_OK;
}

int gasp__lz_product(lz_op *op, int phase, const uint8_t *from,
                     const double *src, const uint8_t *to, double *dst,
                     gasp_error *err) {
  int rc;
  op->phase = LZ_PUBLISH;
  op->src = src;
  if ((rc = lz_run(op, from, err))) return rc;
  memset(dst, 0, (op->n ? (size_t)op->n : 1) * sizeof *dst);
  op->phase = phase;
  op->dst = dst;
  return lz_run(op, to, err);
}

int gasp__lz_allreduce(lz_op *op, double *vals, size_t n, gasp_error *err) {
  int rc = gasp_engine_allreduce(op->e, vals, n, GASP_REDUCE_SUM);
  if (rc && err) *err = *gasp_engine_last_error(op->e);
  return rc;
}

/* ---- the basis ----------------------------------------------------------- */

int gasp__lz_orth(lz_op *op, const double *Q, int j, double *x, double *coef,
                  double *norm0, double *norm, double *scratch,
                  gasp_error *err) {
  size_t n = op->n;
  gasp_vid owned = op->owned;
  int rc;
  for (int i = 0; i < j; i++)
    coef[i] = 0;
  for (int pass = 0; pass < 2; pass++) {
    double *c = scratch;
    for (int i = 0; i < j; i++) {
      const double *q = Q + (size_t)i * n;
      double s = 0;
      for (gasp_vid v = 0; v < owned; v++)
        s += q[v] * x[v];
      c[i] = s;
    }
    if (pass == 0) { /* ||x|| before, in the same reduction */
      double s = 0;
      for (gasp_vid v = 0; v < owned; v++)
        s += x[v] * x[v];
      c[j] = s;
    } else if (j == 0) {
      break;
    }
    if ((rc = gasp__lz_allreduce(op, c, (size_t)j + (pass == 0), err)))
      return rc;
    if (pass == 0) *norm0 = sqrt(c[j]);
    for (int i = 0; i < j; i++) {
      const double *q = Q + (size_t)i * n;
      double ci = c[i];
      coef[i] += ci;
      for (size_t v = 0; v < n; v++)
        x[v] -= ci * q[v];
    }
  }
  double s = 0;
  for (gasp_vid v = 0; v < owned; v++)
    s += x[v] * x[v];
  if ((rc = gasp__lz_allreduce(op, &s, 1, err))) return rc;
  *norm = sqrt(s);
  return GASP_OK;
}

static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void gasp__lz_random(const lz_op *op, const uint8_t *mask, const uint8_t *side,
                     uint64_t seed, uint64_t draw, double *x) {
  memset(x, 0, (op->n ? (size_t)op->n : 1) * sizeof *x);
  uint64_t s = mix(mix(seed) ^ mix(draw + 0x51ed27ull));
  for (gasp_vid v = 0; v < op->owned; v++) {
    if (mask && !mask[v]) continue;
    uint64_t h = mix(
        s ^ mix(gasp_graph_gid(op->g, v) * 2 + (side ? (uint64_t)side[v] : 0)));
    x[v] = (double)(h >> 11) * (2.0 / 9007199254740992.0) - 1.0;
  }
}

int gasp__lz_combine(gasp_vid n, const double *Q, int rows, const double *M,
                     int ld, int cols, double *out) {
  for (int i = 0; i < cols; i++) {
    double *o = out + (size_t)i * n;
    memset(o, 0, (n ? (size_t)n : 1) * sizeof *o);
    for (int j = 0; j < rows; j++) {
      double m = M[(size_t)j * ld + i];
      if (m == 0) continue;
      const double *q = Q + (size_t)j * n;
      for (gasp_vid v = 0; v < n; v++)
        o[v] += m * q[v];
    }
  }
  return GASP_OK;
}

/* ---- dense problems ------------------------------------------------------ */

/* Sorts the p values d descending with the columns of Z (p x p) and, when
 * Z2 is not NULL, of Z2 alike (selection sort: p is small). */
static void sort_desc(int p, double *d, double *Z, double *Z2) {
  for (int i = 0; i < p; i++) {
    int best = i;
    for (int j = i + 1; j < p; j++)
      if (d[j] > d[best]) best = j;
    if (best == i) continue;
    double t = d[i];
    d[i] = d[best];
    d[best] = t;
    for (int r = 0; r < p; r++) {
      t = Z[(size_t)r * p + i];
      Z[(size_t)r * p + i] = Z[(size_t)r * p + best];
      Z[(size_t)r * p + best] = t;
      if (Z2) {
        t = Z2[(size_t)r * p + i];
        Z2[(size_t)r * p + i] = Z2[(size_t)r * p + best];
        Z2[(size_t)r * p + best] = t;
      }
    }
  }
}

int gasp__lz_sym_eig(int p, double *S, double *d, double *Z) {
  for (int i = 0; i < p; i++)
    for (int j = 0; j < p; j++)
      Z[(size_t)i * p + j] = i == j;
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0, diag = 0;
    for (int i = 0; i < p; i++) {
      diag += S[(size_t)i * p + i] * S[(size_t)i * p + i];
      for (int j = i + 1; j < p; j++)
        off += S[(size_t)i * p + j] * S[(size_t)i * p + j];
    }
    if (off <= 1e-32 * diag || off == 0) break;
    for (int a = 0; a < p; a++)
      for (int b = a + 1; b < p; b++) {
        double apq = S[(size_t)a * p + b];
        if (apq == 0) continue;
        double app = S[(size_t)a * p + a], aqq = S[(size_t)b * p + b];
        double theta = (aqq - app) / (2 * apq);
        double t =
            (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        /* S <- J^T S J with J the rotation in the (a, b) plane */
        for (int r = 0; r < p; r++) {
          double sra = S[(size_t)r * p + a], srb = S[(size_t)r * p + b];
          S[(size_t)r * p + a] = c * sra - s * srb;
          S[(size_t)r * p + b] = s * sra + c * srb;
        }
        for (int r = 0; r < p; r++) {
          double sar = S[(size_t)a * p + r], sbr = S[(size_t)b * p + r];
          S[(size_t)a * p + r] = c * sar - s * sbr;
          S[(size_t)b * p + r] = s * sar + c * sbr;
        }
        for (int r = 0; r < p; r++) {
          double za = Z[(size_t)r * p + a], zb = Z[(size_t)r * p + b];
          Z[(size_t)r * p + a] = c * za - s * zb;
          Z[(size_t)r * p + b] = s * za + c * zb;
        }
      }
  }
  for (int i = 0; i < p; i++)
    d[i] = S[(size_t)i * p + i];
  sort_desc(p, d, Z, NULL);
  return GASP_OK;
}

int gasp__lz_svd(int p, double *B, double *s, double *X, double *Y) {
  /* W = B Y, columns made orthogonal; W is B itself */
  double *W = B;
  for (int i = 0; i < p; i++)
    for (int j = 0; j < p; j++)
      Y[(size_t)i * p + j] = i == j;
  for (int sweep = 0; sweep < 100; sweep++) {
    int rotated = 0;
    for (int a = 0; a < p; a++)
      for (int b = a + 1; b < p; b++) {
        double alpha = 0, beta = 0, gamma = 0;
        for (int r = 0; r < p; r++) {
          double wa = W[(size_t)r * p + a], wb = W[(size_t)r * p + b];
          alpha += wa * wa;
          beta += wb * wb;
          gamma += wa * wb;
        }
        if (gamma == 0 || fabs(gamma) <= 1e-15 * sqrt(alpha * beta)) continue;
        rotated = 1;
        double zeta = (beta - alpha) / (2 * gamma);
        double t =
            (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
        double c = 1 / sqrt(1 + t * t), sn = c * t;
        for (int r = 0; r < p; r++) {
          double wa = W[(size_t)r * p + a], wb = W[(size_t)r * p + b];
          W[(size_t)r * p + a] = c * wa - sn * wb;
          W[(size_t)r * p + b] = sn * wa + c * wb;
          double ya = Y[(size_t)r * p + a], yb = Y[(size_t)r * p + b];
          Y[(size_t)r * p + a] = c * ya - sn * yb;
          Y[(size_t)r * p + b] = sn * ya + c * yb;
        }
      }
    if (!rotated) break;
  }
  double smax = 0;
  for (int i = 0; i < p; i++) {
    double n2 = 0;
    for (int r = 0; r < p; r++)
      n2 += W[(size_t)r * p + i] * W[(size_t)r * p + i];
    s[i] = sqrt(n2);
    if (s[i] > smax) smax = s[i];
  }
  for (int i = 0; i < p; i++)
    for (int r = 0; r < p; r++)
      X[(size_t)r * p + i] = s[i] > 0 ? W[(size_t)r * p + i] / s[i] : 0;
  sort_desc(p, s, X, Y);
  /* columns of (near) zero singular values: complete X to an orthogonal
   * matrix, Gram-Schmidt (twice) on unit vectors */
  double small = 64 * 2.2e-16 * smax;
  for (int i = 0; i < p; i++) {
    if (s[i] > small && s[i] > 0) continue;
    for (int e = 0; e < p; e++) {
      double x[512],
          *col = p <= 512 ? x : gasp__malloc_array((size_t)p, sizeof *col);
      if (!col) return GASP_ENOMEM;
      for (int r = 0; r < p; r++)
        col[r] = r == e;
      for (int pass = 0; pass < 2; pass++)
        for (int q = 0; q < p; q++) {
          if (q == i || (q > i && !(s[q] > small && s[q] > 0))) continue;
          double d = 0;
          for (int r = 0; r < p; r++)
            d += X[(size_t)r * p + q] * col[r];
          for (int r = 0; r < p; r++)
            col[r] -= d * X[(size_t)r * p + q];
        }
      double n2 = 0;
      for (int r = 0; r < p; r++)
        n2 += col[r] * col[r];
      int ok = n2 > 0.25;
      if (ok)
        for (int r = 0; r < p; r++)
          X[(size_t)r * p + i] = col[r] / sqrt(n2);
      if (col != x) free(col);
      if (ok) break;
    }
  }
  return GASP_OK;
}

/* ---- the next basis vector ---------------------------------------------- */

int gasp__lz_next(lz_op *op, const double *Q, int j, double *y, double norm0,
                  double norm, double anorm, const uint8_t *mask,
                  const uint8_t *side, uint64_t seed, uint64_t *draws,
                  double *out, double *beta, double *coef, double *scratch,
                  gasp_error *err) {
  size_t n = op->n ? op->n : 1;
  double big = anorm > norm0 ? anorm : norm0;
  if (norm > 1e-12 * big && norm > 0) {
    for (size_t v = 0; v < n; v++)
      out[v] = y[v] / norm;
    *beta = norm;
    return GASP_OK;
  }
  /* breakdown: an invariant subspace; go on from a random direction
   * orthogonal to the basis (its coefficient in the projection is 0) */
  *beta = 0;
  for (int tries = 0; tries < 3; tries++) {
    gasp__lz_random(op, mask, side, seed, ++*draws, y);
    double n0, nn;
    int rc = gasp__lz_orth(op, Q, j, y, coef, &n0, &nn, scratch, err);
    if (rc) return rc;
    if (nn > 1e-3 * n0 && nn > 0) {
      for (size_t v = 0; v < n; v++)
        out[v] = y[v] / nn;
      return GASP_OK;
    }
  }
  memset(out, 0, n * sizeof *out); /* no room left: the space is spanned */
  return GASP_OK;
}
