/*
 * lanczos.h -- what gasp_svd (lib_svd.c) and gasp_spectral
 * (lib_spectral.c) share: sparse products as supersteps of the sync
 * engine, the basis of Lanczos vectors over the owned vertices of every
 * rank (dot products reduced across ranks), and the small dense problems
 * solved in process by Jacobi rotations.  Internal to libgasp.
 */
#ifndef GASP_TOOLKITS_LANCZOS_H
#define GASP_TOOLKITS_LANCZOS_H

#include "gasp.h"

#include <stdint.h>

/* What a superstep of the product engine does. */
enum {
  LZ_PUBLISH = 0, /* apply: x[v] = src[v] * scale[v] (no gather); the
                     engine then sends x to the ghosts */
  LZ_ROWS = 1,    /* dst[v] = scale[v] sum over out-edges w x[j]  (A x)  */
  LZ_COLS = 2,    /* dst[v] = scale[v] sum over in-edges w x[i]   (A^T x) */
  LZ_SYM = 3      /* dst[v] = scale[v] sum over both, w / 2, no self loops */
};

typedef struct lz_op {
  gasp_graph *g;
  gasp_engine *e;
  gasp_vid n, owned;
  const double *w;     /* weights by slot; NULL: 1 */
  int phase;           /* LZ_* of the run under way */
  const double *src;   /* LZ_PUBLISH */
  double *dst;         /* products */
  const double *scale; /* NULL: 1 */
  gasp_run_stats st;   /* every run so far */
} lz_op;

/* Starts the engine (vertex data: the published x) with the caller's
 * engine options (sync only; threads and dist kept). */
int gasp__lz_open(lz_op *op, gasp_graph *g, const gasp_engine_opts *eo,
                  gasp_error *err);
void gasp__lz_close(lz_op *op);
/* dst = the product `phase` of src: publishes src on the owned vertices
 * with from[v] set, then computes dst on the owned vertices with to[v]
 * set (dst is 0 elsewhere).  Two supersteps. */
int gasp__lz_product(lz_op *op, int phase, const uint8_t *from,
                     const double *src, const uint8_t *to, double *dst,
                     gasp_error *err);
/* Sums n values over every rank (in rank order). */
int gasp__lz_allreduce(lz_op *op, double *vals, size_t n, gasp_error *err);

/* Vectors: n_local doubles, zero outside their vertex set; Q holds j
 * basis vectors, Q + i n_local the i-th.  dot products run over the
 * owned vertices (ghost entries are ignored) and are reduced. */
/* x -= sum_i c_i Q_i twice (classical Gram-Schmidt, reorthogonalised);
 * coef[i] gets the sum of both passes' coefficients; *norm0 ||x|| before,
 * *norm after.  scratch: j + 1 doubles. */
int gasp__lz_orth(lz_op *op, const double *Q, int j, double *x, double *coef,
                  double *norm0, double *norm, double *scratch,
                  gasp_error *err);
/* A random vector on the owned vertices with mask[v] (uniform in [-1, 1],
 * from the vertex's id and side, the seed and `draw`: the same on any
 * thread count or ranks). */
void gasp__lz_random(const lz_op *op, const uint8_t *mask, const uint8_t *side,
                     uint64_t seed, uint64_t draw, double *x);
/* out_i = sum_j Q_j M[j * ld + i] for i < cols (Q: rows vectors). */
int gasp__lz_combine(gasp_vid n, const double *Q, int rows, const double *M,
                     int ld, int cols, double *out);

/* The next basis vector from y (Q: j vectors; norm0 and norm as
 * gasp__lz_orth gave them): y / norm, *beta = norm; or, when y has
 * vanished against the basis (norm <= 1e-12 max(anorm, norm0)), a random
 * vector on mask orthogonalised against Q, *beta = 0 (the Lanczos
 * recurrence broke down on an invariant subspace).  y is overwritten.
 * coef: j doubles, scratch: j + 1. */
int gasp__lz_next(lz_op *op, const double *Q, int j, double *y, double norm0,
                  double norm, double anorm, const uint8_t *mask,
                  const uint8_t *side, uint64_t seed, uint64_t *draws,
                  double *out, double *beta, double *coef, double *scratch,
                  gasp_error *err);

/* Dense: the eigenvalues (descending) and eigenvectors (columns of Z,
 * p x p row-major) of the symmetric p x p S by cyclic Jacobi rotations.
 * S is destroyed.  Returns GASP_ENOMEM or GASP_OK. */
int gasp__lz_sym_eig(int p, double *S, double *d, double *Z);
/* Dense: the SVD B = X diag(s) Y^T of the p x p B (row-major) by one-sided
 * Jacobi rotations (Hestenes), s descending; X and Y orthogonal (columns
 * of a zero singular value completed).  B is destroyed. */
int gasp__lz_svd(int p, double *B, double *s, double *X, double *Y);

#endif
