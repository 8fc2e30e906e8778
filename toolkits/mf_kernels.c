/*
 * mf_kernels.c -- the inner loops of matrix factorization.
 *
 * ALS (Zhou, Wilkinson, Schreiber, Pan, "Large-scale parallel
 * collaborative filtering for the Netflix Prize", AAIM 2008; implicit
 * feedback: Hu, Koren, Volinsky, "Collaborative filtering for implicit
 * feedback datasets", ICDM 2008): each vertex solves its k x k normal
 * equations.  The rank-one updates y y^T are accumulated four neighbours
 * at a time into a float matrix that stays in L1 (one load and store of A
 * per four neighbours), then the system is solved by Cholesky in double.
 *
 * SGD (Koren, Bell, Volinsky, "Matrix factorization techniques for
 * recommender systems", IEEE Computer 2009): the vertex's own vector stays
 * in registers across its ratings while the neighbours' vectors are only
 * read.
 *
 * Vectors are padded to whole 8-float vectors, so the loops below have a
 * trip count the compiler vectorises fully; the hot functions are built
 * for AVX+FMA and for the baseline, the best chosen at load time.
 */
#pragma GCC optimize("O3")
#include "mf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&         \
    !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
#define MF_CLONES __attribute__((target_clones("fma", "default")))
#else
#define MF_CLONES
#endif

/* The body, inlined below with the padded rank as a constant for the
 * common ranks so that the inner loops unroll into whole registers. */
static inline __attribute__((always_inline)) void
normal_eq(int k, const int kp, int stride, const float *F, const mf_nbrs *nb,
          const float *r, const float *wt, double alpha, float *A, float *b) {
  memset(A, 0, (size_t)k * (size_t)kp * sizeof *A);
  memset(b, 0, (size_t)kp * sizeof *b);
  const int implicit = alpha > 0;
  const float fa = (float)alpha;
  size_t j = 0;
  for (; j + 4 <= nb->n; j += 4) {
    const float *y0 = F + (size_t)nb->nbr[j] * (size_t)stride;
    const float *y1 = F + (size_t)nb->nbr[j + 1] * (size_t)stride;
    const float *y2 = F + (size_t)nb->nbr[j + 2] * (size_t)stride;
    const float *y3 = F + (size_t)nb->nbr[j + 3] * (size_t)stride;
    float r0 = r[mf_slot(nb, j)], r1 = r[mf_slot(nb, j + 1)];
    float r2 = r[mf_slot(nb, j + 2)], r3 = r[mf_slot(nb, j + 3)];
    float w0 = 1, w1 = 1, w2 = 1, w3 = 1;
    if (implicit) {
      w0 = fa * r0, w1 = fa * r1, w2 = fa * r2, w3 = fa * r3;
      r0 = 1 + w0, r1 = 1 + w1, r2 = 1 + w2, r3 = 1 + w3;
    } else if (wt) {
      w0 = wt[mf_slot(nb, j)], w1 = wt[mf_slot(nb, j + 1)];
      w2 = wt[mf_slot(nb, j + 2)], w3 = wt[mf_slot(nb, j + 3)];
      r0 *= w0, r1 *= w1, r2 *= w2, r3 *= w3;
    }
    for (int c = 0; c < kp; c++)
      b[c] += r0 * y0[c] + r1 * y1[c] + r2 * y2[c] + r3 * y3[c];
    for (int i = 0; i < k; i++) { /* upper triangle, whole vectors */
      float a0 = w0 * y0[i], a1 = w1 * y1[i], a2 = w2 * y2[i], a3 = w3 * y3[i];
      float *row = A + (size_t)i * (size_t)kp;
      for (int c = i & ~7; c < kp; c++)
        row[c] += a0 * y0[c] + a1 * y1[c] + a2 * y2[c] + a3 * y3[c];
    }
  }
  for (; j < nb->n; j++) {
    const float *y = F + (size_t)nb->nbr[j] * (size_t)stride;
    float rj = r[mf_slot(nb, j)], w = 1;
    if (implicit) {
      w = fa * rj;
      rj = 1 + w;
    } else if (wt) {
      w = wt[mf_slot(nb, j)];
      rj *= w;
    }
    for (int c = 0; c < kp; c++)
      b[c] += rj * y[c];
    for (int i = 0; i < k; i++) {
      float a = w * y[i];
      float *row = A + (size_t)i * (size_t)kp;
      for (int c = i & ~7; c < kp; c++)
        row[c] += a * y[c];
    }
  }
  for (int i = 0; i < k; i++) /* mirror into the lower triangle */
    for (int c = 0; c < i; c++)
      A[(size_t)i * (size_t)kp + (size_t)c] =
          A[(size_t)c * (size_t)kp + (size_t)i];
}

MF_CLONES
void mf_normal_eq(int k, int stride, const float *F, const mf_nbrs *nb,
                  const float *r, const float *wt, double alpha, float *A,
                  float *b) {
  switch (mf_kpad(k)) {
  case 8: normal_eq(k, 8, stride, F, nb, r, wt, alpha, A, b); break;
  case 16: normal_eq(k, 16, stride, F, nb, r, wt, alpha, A, b); break;
  case 24: normal_eq(k, 24, stride, F, nb, r, wt, alpha, A, b); break;
  case 32: normal_eq(k, 32, stride, F, nb, r, wt, alpha, A, b); break;
  case 56: normal_eq(k, 56, stride, F, nb, r, wt, alpha, A, b); break;
  case 104: normal_eq(k, 104, stride, F, nb, r, wt, alpha, A, b); break;
  default:
    normal_eq(k, mf_kpad(k), stride, F, nb, r, wt, alpha, A, b);
    break;
  }
}

/* Right-looking Cholesky A = U^T U with U upper triangular in the upper
 * half of A (row-major): after row j is scaled, the trailing rows are
 * updated with contiguous multiply-adds (A[i][c] -= U[j][i] U[j][c] for
 * c >= i), which vectorise, rather than with the dot products of the
 * left-looking form, which do not without reassociation. */
MF_CLONES
int mf_cholesky_solve(int k, double *A, double ridge, const double *b,
                      double *x) {
  const size_t K = (size_t)k;
  for (size_t j = 0; j < K; j++) {
    double *Uj = A + j * K;
    double d = Uj[j] + ridge;
    if (!(d > 0)) return -1;
    d = sqrt(d);
    double inv = 1.0 / d;
    Uj[j] = d;
    for (size_t c = j + 1; c < K; c++)
      Uj[c] *= inv;
    for (size_t i = j + 1; i < K; i++) {
      double l = Uj[i];
      double *Ai = A + i * K;
      for (size_t c = i; c < K; c++)
        Ai[c] -= l * Uj[c];
    }
  }
  double y[k];
  for (size_t i = 0; i < K; i++)
    y[i] = b[i];
  for (size_t i = 0; i < K; i++) { /* U^T y = b: column sweep */
    const double *Ui = A + i * K;
    y[i] /= Ui[i];
    for (size_t c = i + 1; c < K; c++)
      y[c] -= Ui[c] * y[i];
  }
  for (size_t i = K; i-- > 0;) { /* U x = y */
    const double *Ui = A + i * K;
    double s = y[i];
    for (size_t c = i + 1; c < K; c++)
      s -= Ui[c] * y[c];
    y[i] = s / Ui[i];
  }
  memcpy(x, y, K * sizeof *x);
  return 0;
}

/* 8-float vectors (GCC vector extensions: AVX registers in the FMA clone,
 * pairs of SSE registers in the baseline). */
typedef float v8 __attribute__((vector_size(32), aligned(4)));

static inline float hsum(v8 a) {
  float s = 0;
  for (int q = 0; q < 4; q++)
    s += a[q] + a[q + 4];
  return s;
}

static inline __attribute__((always_inline)) float
vdot(const v8 *a, const float *b, int nv) {
  v8 s = a[0] * *(const v8 *)b;
  for (int c = 1; c < nv; c++)
    s += a[c] * *(const v8 *)(b + 8 * c);
  return hsum(s);
}

/* The pass keeps the vertex's vector v in registers.  An SGD step is
 *   e_t = r_t - v_t . y_t,   v_{t+1} = s v_t + g_t y_t   (s = 1 - lr lambda,
 *   g_t = lr e_t),
 * so each prediction waits for the previous update and then a whole dot
 * product: a chain of latency, not of work.  The next prediction is
 * instead assembled from products that do not wait for g_t:
 *   v_{t+1} . y_{t+1} = s (v_t . y_{t+1}) + g_t (y_t . y_{t+1}),
 * which leaves one multiply-add on the chain from one rating to the next
 * (the same value in exact arithmetic; each v_t . y is taken afresh, so
 * rounding does not accumulate). */
static inline __attribute__((always_inline)) void
sgd_pass(const mf_sgd_par *p, const int nv, float *x, const float *F,
         const mf_nbrs *nb, const float *r, size_t start) {
  const int kp = 8 * nv;
  const size_t stride = (size_t)p->stride;
  v8 v[nv];
  for (int c = 0; c < nv; c++)
    memcpy(&v[c], x + 8 * c, sizeof(v8));
  const int biased = p->biased;
  float bias = biased ? x[kp] : 0;
  const float lr = p->lr, lamb = p->lambda_bias, mu = biased ? p->mu : 0;
  const float shrink = 1 - lr * p->lambda;
  const size_t n = nb->n;
  const gasp_vid *nbr = nb->nbr;
  const float *rr = r + nb->slot0;
  size_t j = start;
  const float *y = F + (size_t)nbr[j] * stride;
  float d = vdot(v, y, nv);
  for (size_t t = 0; t < n; t++) {
    size_t jn = j + 1 == n ? 0 : j + 1;
    const float *yn = F + (size_t)nbr[jn] * stride;
    float pred = d + (biased ? mu + bias + y[kp] : 0);
    float g = lr * (rr[j] - pred);
    float a = vdot(v, yn, nv); /* v_t . y_{t+1}: does not wait for g */
    v8 s = *(const v8 *)y * *(const v8 *)yn;
    for (int c = 1; c < nv; c++)
      s += *(const v8 *)(y + 8 * c) * *(const v8 *)(yn + 8 * c);
    float yy = hsum(s); /* y_t . y_{t+1} */
    for (int c = 0; c < nv; c++)
      v[c] = shrink * v[c] + g * *(const v8 *)(y + 8 * c);
    if (biased) bias += g - lr * lamb * bias;
    d = shrink * a + g * yy;
    y = yn;
    j = jn;
  }
  for (int c = 0; c < nv; c++)
    memcpy(x + 8 * c, &v[c], sizeof(v8));
  if (biased) x[kp] = bias;
}

MF_CLONES
void mf_sgd_pass(const mf_sgd_par *p, float *x, const float *F,
                 const mf_nbrs *nb, const float *r, size_t start) {
  if (nb->n == 0) return;
  switch (mf_kpad(p->k) / 8) {
  case 1: sgd_pass(p, 1, x, F, nb, r, start); break;
  case 2: sgd_pass(p, 2, x, F, nb, r, start); break;
  case 3: sgd_pass(p, 3, x, F, nb, r, start); break;
  case 4: sgd_pass(p, 4, x, F, nb, r, start); break;
  case 7: sgd_pass(p, 7, x, F, nb, r, start); break;
  case 13: sgd_pass(p, 13, x, F, nb, r, start); break;
  default: sgd_pass(p, mf_kpad(p->k) / 8, x, F, nb, r, start); break;
  }
}

MF_CLONES
double mf_sse(const mf_sgd_par *p, const float *x, const float *F,
              const mf_nbrs *nb, const float *r) {
  const int kp = mf_kpad(p->k);
  double s = 0;
  float base = p->biased ? p->mu + x[kp] : 0;
  for (size_t j = 0; j < nb->n; j++) {
    const float *y = F + (size_t)nb->nbr[j] * (size_t)p->stride;
    float pred = base + mf_dot(x, y, kp);
    if (p->biased) pred += y[kp];
    float e = r[mf_slot(nb, j)] - pred;
    s += (double)e * e;
  }
  return s;
}
