/*
 * mf.h -- matrix factorization on the ratings graph: the numeric kernels
 * (normal equations, Cholesky, SGD passes) of gasp_als and gasp_sgd
 * (lib_mf.c, in libgasp), also compiled into `gasp` for its evaluation and
 * `gasp predict`.  Internal: not installed.
 *
 * A factor vector is `stride` floats: the k factors, zero padding up to a
 * multiple of 8 (kp) so that loops run in whole vectors, and for biased
 * models the bias at index kp.  Padding stays zero under every kernel.
 */
#ifndef GASP_MF_H
#define GASP_MF_H

#include <stddef.h>
#include <stdint.h>

#include "gasp.h"

/* Non-static names in libgasp are internal (gasp__). */
#define mf_normal_eq gasp__mf_normal_eq
#define mf_cholesky_solve gasp__mf_cholesky_solve
#define mf_sgd_pass gasp__mf_sgd_pass
#define mf_sse gasp__mf_sse

/* Floats of k factors rounded up to whole 8-float vectors. */
static inline int mf_kpad(int k) { return (k + 7) & ~7; }
/* Floats per vertex: padded factors, plus a vector holding the bias. */
static inline int mf_stride(int k, int biased) {
  return mf_kpad(k) + (biased ? 8 : 0);
}

/* Neighbour j of a vertex: factors at F + nbr[j] * stride, rating
 * r[slot0 + j] (a vertex's ratings are contiguous). */
typedef struct mf_nbrs {
  size_t n;
  const gasp_vid *nbr;
  uint64_t slot0;
} mf_nbrs;

static inline uint64_t mf_slot(const mf_nbrs *nb, size_t j) {
  return nb->slot0 + j;
}

/* Normal equations of one vertex, accumulated in float:
 *   A = sum_j w_j y_j y_j^T,   b = sum_j c_j y_j
 * explicit (alpha = 0): w_j = 1, c_j = r_j;
 * weighted (alpha = 0, wt not NULL; wt by slot as r): w_j = wt_j,
 * c_j = wt_j r_j;
 * implicit (alpha > 0): w_j = alpha r_j (the confidence minus one; the
 * caller adds Y^T Y), c_j = 1 + alpha r_j (preference 1).
 * A is k rows of kp floats (row i = A[i][0..kp), symmetric), b is kp
 * floats. */
void mf_normal_eq(int k, int stride, const float *F, const mf_nbrs *nb,
                  const float *r, const float *wt, double alpha, float *A,
                  float *b);

/* Solves (A + ridge I) x = b in double by Cholesky; A is k x k row-major
 * (overwritten by its factor), x receives k values.  Returns 0, or -1
 * when the matrix is not positive definite (x untouched). */
int mf_cholesky_solve(int k, double *A, double ridge, const double *b,
                      double *x);

/* One SGD pass of a vertex over its ratings with the neighbours fixed:
 * for each rating r (in order start, start+1, ... wrapping around):
 *   e = r - (mu + b_self + b_nbr + x . y)       (biases when biased)
 *   x += lr (e y - lambda x),  b_self += lr (e - lambda_bias b_self)
 * x is the vertex's vector (stride floats), updated in place. */
typedef struct mf_sgd_par {
  int k, stride, biased;
  float lr, lambda, lambda_bias, mu;
} mf_sgd_par;
void mf_sgd_pass(const mf_sgd_par *p, float *x, const float *F,
                 const mf_nbrs *nb, const float *r, size_t start);

/* Squared training error of vertex x against its neighbours. */
double mf_sse(const mf_sgd_par *p, const float *x, const float *F,
              const mf_nbrs *nb, const float *r);

/* x . y over kp floats (a multiple of 8) in eight independent lanes, so
 * the loop vectorises without reassociating a float sum (no
 * -ffast-math). */
static inline float mf_dot(const float *restrict a, const float *restrict b,
                           int kp) {
  float l[8] = {0};
  for (int c = 0; c < kp; c += 8)
    for (int q = 0; q < 8; q++)
      l[q] += a[c + q] * b[c + q];
  return ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
}

/* Prediction x . y (+ mu + biases), not clamped. */
static inline float mf_predict(const mf_sgd_par *p, const float *x,
                               const float *y) {
  const int kp = mf_kpad(p->k);
  float pred = mf_dot(x, y, kp);
  if (p->biased) pred += p->mu + x[kp] + y[kp];
  return pred;
}

#endif
