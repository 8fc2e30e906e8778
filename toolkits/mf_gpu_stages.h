/*
 * mf_gpu_stages.h -- the per-vertex ALS solve of the GPU path, written as
 * a sequence of block-cooperative stages that compile for the device
 * (mf_gpu.cu: one thread block per vertex) and for the host
 * (tests/test_mf_gpu.c, which emulates a block by running a stage for
 * every thread id in turn, then the next stage).
 *
 * The rules that make the emulation faithful:
 *
 *  - mf_stage(job, sm, st, tid, nthreads) does thread tid's share of stage
 *    st (strided loops: item tid, tid + nthreads, ...); the block
 *    synchronises between two stages;
 *  - within a stage no thread reads a location that another thread writes
 *    in that stage;
 *  - the sequence of stages depends on the data (the number of neighbour
 *    tiles, a failed pivot), so it is driven by mf_first / mf_next, which
 *    every thread evaluates after the barrier from values no thread
 *    changes before the next barrier (the pivot status is kept in two
 *    slots, written by alternate stages).
 *
 * Every shared value has one writer and the order of every sum is fixed by
 * the data, not by the thread count, so the result is bit-for-bit the same
 * for any block size and any order of the threads (the test checks this).
 *
 * The math (Zhou et al., AAIM 2008; implicit: Hu, Koren, Volinsky, ICDM
 * 2008; the CPU reference is mf_normal_eq + mf_cholesky_solve in
 * mf_kernels.c).  For a vertex with neighbours y_j and ratings r_j:
 *   A = sum_j w_j y_j y_j^T (+ YtY),  b = sum_j c_j y_j,
 *   explicit: w = 1, c = r, ridge lambda n;
 *   implicit: w = alpha r, c = 1 + alpha r, ridge lambda;
 * x solves (A + ridge I) x = b.  The stages:
 *
 *   INIT     P = YtY + ridge I (upper triangle), b = 0; load tile 0;
 *   ACC t    add tile t of MF_TILE neighbours (products in float, as the
 *            CPU, summed per tile in float registers and added into the
 *            double P); load tile t + 1 into the other buffer;
 *   SCALE0   row 0 of the Cholesky factor U (A = U^T U);
 *   COL j    rows j + 2 .. k updated with row j, and row j + 1 updated and
 *            scaled: one barrier per column (j = 0 .. k - 2);
 *   BACK hi  U x = z for the MF_BACK_ROWS rows below hi, solved by every
 *            thread, then the rows above updated (k / MF_BACK_ROWS stages);
 *   WRITE    x into the vertex's row of F and into the batch output.
 *
 * The right-hand side is column k of the augmented matrix [A | b], so the
 * forward substitution U^T z = b falls out of the factorisation.  The
 * augmented matrix is stored as the packed upper triangle of a (k+1) x
 * (k+1) matrix (the corner (k, k) is scratch).  If a pivot is not positive
 * (or is NaN), the vertex keeps its row, like the CPU.
 *
 * Each thread of ACC owns 4 x 4 blocks of A (and 4-entry pieces of b):
 * per neighbour it reads two float4 from the tile (all threads of a warp
 * read the same neighbour row, so the reads broadcast) for 16 multiply-adds.
 */
#ifndef GASP_MF_GPU_STAGES_H
#define GASP_MF_GPU_STAGES_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "gasp.h"

#ifdef __CUDACC__
#define MF_HD __host__ __device__
#else
#define MF_HD
#endif

/* Unrolling of the loops over a tile's neighbours (device only; a pragma
 * the host compiler would warn about). */
#ifdef __CUDA_ARCH__
#define MF_UNROLL _Pragma("unroll 4")
#else
#define MF_UNROLL
#endif

#define MF_TILE 32     /* neighbours per tile */
#define MF_BACK_ROWS 4 /* rows per back-substitution stage */

/* ---- memory of a block -------------------------------------------------- */

/* Doubles of the packed augmented matrix [A | b] of rank k. */
MF_HD static inline size_t mf_p_doubles(int k) {
  return (size_t)(k + 1) * (size_t)(k + 2) / 2;
}

/* Index of (i, c), i <= c <= k, in the packed rows of [A | b]. */
MF_HD static inline int mf_pidx(int k, int i, int c) {
  return i * (2 * k + 3 - i) / 2 + (c - i);
}

/* Floats of a neighbour row kept in a tile: k rounded up to whole float4. */
MF_HD static inline int mf_kq(int k) { return (k + 3) & ~3; }

MF_HD static inline size_t mf_round16(size_t b) {
  return (b + 15) & ~(size_t)15;
}

/* Byte offsets in a block's shared memory; p is SIZE_MAX when P lives in
 * global memory (a per-block workspace) because it does not fit. */
typedef struct mf_layout {
  size_t p, rdiag, x, y, w, status, bytes;
} mf_layout;

MF_HD static inline void mf_layout_init(mf_layout *L, int k, int p_shared) {
  size_t o = 0;
  L->p = SIZE_MAX;
  if (p_shared) {
    L->p = o;
    o += mf_round16(mf_p_doubles(k) * sizeof(double));
  }
  L->rdiag = o;
  o += mf_round16((size_t)k * sizeof(double));
  L->x = o;
  o += mf_round16((size_t)k * sizeof(double));
  L->y = o;
  o += 2 * (size_t)MF_TILE * (size_t)mf_kq(k) * sizeof(float);
  L->w = o;
  o += 4 * (size_t)MF_TILE * sizeof(float);
  L->status = o;
  o += mf_round16(2 * sizeof(int));
  L->bytes = o;
}

/* The pieces of a block's memory. */
typedef struct mf_smem {
  double *P;     /* packed [A | b], then U and z          */
  double *rdiag; /* k: 1 / U[i][i]                         */
  double *x;     /* k: the solution                        */
  float *Y;      /* 2 tiles of MF_TILE rows of kq floats   */
  float *w, *cw; /* 2 tiles: per neighbour weight in A, b  */
  int *status;   /* 2 slots: 1 when a pivot failed         */
} mf_smem;

/* base: 16-byte aligned, L->bytes long; Pg: the block's P when L->p is
 * SIZE_MAX (mf_p_doubles(k) doubles), ignored otherwise. */
MF_HD static inline void mf_carve(const mf_layout *L, void *base, double *Pg,
                                  mf_smem *s) {
  unsigned char *m = (unsigned char *)base;
  s->P = L->p == SIZE_MAX ? Pg : (double *)(m + L->p);
  s->rdiag = (double *)(m + L->rdiag);
  s->x = (double *)(m + L->x);
  s->Y = (float *)(m + L->y);
  s->w = (float *)(m + L->w);
  s->cw = s->w + 2 * MF_TILE;
  s->status = (int *)(m + L->status);
}

/* ---- one vertex's job ---------------------------------------------------- */

/* A batch as the kernel receives it (device pointers on the device). */
typedef struct mf_solve_args {
  int k, stride;
  uint64_t nv;          /* rows of F */
  float *F;             /* nv x stride, the vertices' rows written back */
  const uint64_t *off;  /* nv + 1 */
  const gasp_vid *nbr;  /* neighbour per rating */
  const float *r;       /* rating */
  const double *yty;    /* k x k (implicit), else NULL */
  double lambda, alpha; /* alpha 0: explicit */
  const gasp_vid *vid;  /* n vertices to solve */
  uint64_t n;
  float *out;     /* float c of item i at out[c * pitch + i]; may be NULL */
  uint64_t pitch; /* >= n */
} mf_solve_args;

typedef struct mf_vjob {
  int k, kq, stride, implicit;
  uint64_t n;          /* neighbours */
  const float *F;      /* all rows */
  const gasp_vid *nbr; /* the n neighbours */
  const float *r;      /* their ratings */
  const float *self;   /* the vertex's current row */
  float *row;          /* where its new row goes (the same row of F) */
  float *out;          /* float c at out[c * pitch], or NULL */
  uint64_t pitch;
  const double *yty; /* NULL: explicit */
  double ridge;
  float alpha;
} mf_vjob;

/* The job of batch item `item`; -1 (nothing to do) if its id is not a row
 * of F. */
MF_HD static inline int mf_job_init(mf_solve_args a, uint64_t item,
                                    mf_vjob *j) {
  gasp_vid v = a.vid[item];
  if ((uint64_t)v >= a.nv) return -1;
  uint64_t o = a.off[v];
  j->k = a.k;
  j->kq = mf_kq(a.k);
  j->stride = a.stride;
  j->implicit = a.alpha > 0;
  j->n = a.off[v + 1] - o;
  j->F = a.F;
  j->nbr = a.nbr + o;
  j->r = a.r + o;
  j->row = a.F + (size_t)v * (size_t)a.stride;
  j->self = j->row;
  j->out = a.out ? a.out + item : NULL;
  j->pitch = a.pitch;
  j->yty = j->implicit ? a.yty : NULL;
  j->ridge = j->implicit ? a.lambda : a.lambda * (double)j->n;
  j->alpha = (float)a.alpha;
  return 0;
}

/* ---- the stage machine --------------------------------------------------- */

enum {
  MF_INIT,
  MF_ACC,    /* idx: tile */
  MF_SCALE0, /* row 0 of U */
  MF_COL,    /* idx: column j */
  MF_BACK,   /* idx: hi, rows [max(hi - MF_BACK_ROWS, 0), hi) */
  MF_WRITE,  /* keep: write the current row back unchanged */
  MF_DONE
};

typedef struct mf_state {
  int phase, keep;
  uint64_t idx;
} mf_state;

MF_HD static inline mf_state mf_st(int phase, int keep, uint64_t idx) {
  mf_state s;
  s.phase = phase;
  s.keep = keep;
  s.idx = idx;
  return s;
}

MF_HD static inline mf_state mf_first(const mf_vjob *j) {
  /* explicit with no ratings: nothing to fit, keep the row (as the CPU) */
  return j->n == 0 && !j->implicit ? mf_st(MF_WRITE, 1, 0)
                                   : mf_st(MF_INIT, 0, 0);
}

/* Called by every thread after the barrier that ends stage st. */
MF_HD static inline mf_state mf_next(const mf_vjob *j, const mf_smem *s,
                                     mf_state st) {
  const int k = j->k;
  switch (st.phase) {
  case MF_INIT: return j->n ? mf_st(MF_ACC, 0, 0) : mf_st(MF_SCALE0, 0, 0);
  case MF_ACC:
    return (st.idx + 1) * MF_TILE < j->n ? mf_st(MF_ACC, 0, st.idx + 1)
                                         : mf_st(MF_SCALE0, 0, 0);
  case MF_SCALE0:
    if (s->status[0]) return mf_st(MF_WRITE, 1, 0);
    return k > 1 ? mf_st(MF_COL, 0, 0) : mf_st(MF_BACK, 0, (uint64_t)k);
  case MF_COL:
    if (s->status[(st.idx + 1) & 1]) return mf_st(MF_WRITE, 1, 0);
    return st.idx + 2 < (uint64_t)k ? mf_st(MF_COL, 0, st.idx + 1)
                                    : mf_st(MF_BACK, 0, (uint64_t)k);
  case MF_BACK:
    return st.idx > MF_BACK_ROWS ? mf_st(MF_BACK, 0, st.idx - MF_BACK_ROWS)
                                 : mf_st(MF_WRITE, 0, 0);
  default: return mf_st(MF_DONE, 0, 0);
  }
}

/* ---- helpers ------------------------------------------------------------- */

/* Walks the upper triangle {(i, c): 0 <= i <= c < m} from item e0 in steps
 * of `step`, without a division per item.  Row p is paired with row
 * m - 1 - p into a row of m + 1 items (p < (m + 1) / 2), so consecutive
 * items are consecutive columns of one row. */
typedef struct mf_tri {
  int m, p, q, dp, dq, i, c;
} mf_tri;

MF_HD static inline void mf_tri_set(mf_tri *t) {
  if (t->q < t->m - t->p) {
    t->i = t->p;
    t->c = t->p + t->q;
  } else {
    t->i = t->m - 1 - t->p;
    t->c = t->i + t->q - (t->m - t->p);
  }
}

MF_HD static inline void mf_tri_begin(mf_tri *t, int m, int e0, int step) {
  t->m = m;
  t->p = e0 / (m + 1);
  t->q = e0 % (m + 1);
  t->dp = step / (m + 1);
  t->dq = step % (m + 1);
  mf_tri_set(t);
}

MF_HD static inline void mf_tri_next(mf_tri *t) {
  t->p += t->dp;
  t->q += t->dq;
  if (t->q > t->m) {
    t->q -= t->m + 1;
    t->p++;
  }
  mf_tri_set(t);
}

MF_HD static inline int mf_tri_count(int m) { return m * (m + 1) / 2; }

/* 16 bytes from global to shared memory: asynchronous on the device (the
 * copy overlaps the stage's arithmetic; mf_copy_wait ends the stage).  The
 * PTX of cp.async (sm_80 on), as CUTLASS writes it, rather than
 * <cuda_pipeline.h>, whose headers warn under -Wshadow. */
MF_HD static inline void mf_copy4(float *dst, const float *src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  unsigned d = (unsigned)__cvta_generic_to_shared(dst);
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d),
               "l"(src));
#else
  dst[0] = src[0], dst[1] = src[1], dst[2] = src[2], dst[3] = src[3];
#endif
}

MF_HD static inline void mf_copy_wait(void) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
  asm volatile("cp.async.wait_group 0;\n" ::: "memory");
#endif
}

MF_HD static inline void mf_ld4(const float *p, float v[4]) {
#ifdef __CUDA_ARCH__
  float4 f = *(const float4 *)p;
  v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
#else
  v[0] = p[0], v[1] = p[1], v[2] = p[2], v[3] = p[3];
#endif
}

/* ---- stages -------------------------------------------------------------- */

/* Tile t: the rows of neighbours t * MF_TILE .. into buffer t & 1 (whole
 * float4, coalesced along each row), and their weights. */
MF_HD static inline void mf_load_tile(const mf_vjob *j, const mf_smem *s,
                                      uint64_t t, int tid, int nthreads) {
  const uint64_t t0 = t * MF_TILE;
  const int cnt = j->n - t0 < MF_TILE ? (int)(j->n - t0) : MF_TILE;
  const int q4 = j->kq / 4, items = cnt * q4;
  float *Y = s->Y + (t & 1) * MF_TILE * j->kq;
  int a = tid / q4, q = tid % q4; /* neighbour, float4 within its row */
  const int da = nthreads / q4, dq = nthreads % q4;
  for (int e = tid; e < items; e += nthreads) {
    const float *src = j->F + (size_t)j->nbr[t0 + a] * (size_t)j->stride;
    mf_copy4(Y + a * j->kq + 4 * q, src + 4 * q);
    a += da;
    q += dq;
    if (q >= q4) q -= q4, a++;
  }
  float *w = s->w + (t & 1) * MF_TILE, *cw = s->cw + (t & 1) * MF_TILE;
  for (int e = tid; e < cnt; e += nthreads) {
    float r = j->r[t0 + e], wj = 1, cj = r;
    if (j->implicit) {
      wj = j->alpha * r;
      cj = 1 + wj;
    }
    w[e] = wj;
    cw[e] = cj;
  }
}

MF_HD static inline void mf_stage_init(const mf_vjob *j, const mf_smem *s,
                                       int tid, int nthreads) {
  const int k = j->k, total = mf_tri_count(k + 1);
  mf_tri it;
  mf_tri_begin(&it, k + 1, tid, nthreads);
  for (int e = tid; e < total; e += nthreads) {
    double v = 0;
    if (it.c < k) {
      if (j->yty) v = j->yty[(size_t)it.i * (size_t)k + (size_t)it.c];
      if (it.i == it.c) v += j->ridge;
    }
    s->P[mf_pidx(k, it.i, it.c)] = v;
    mf_tri_next(&it);
  }
  if (j->n) mf_load_tile(j, s, 0, tid, nthreads);
  mf_copy_wait();
}

/* The 4 x 4 block (bi, bj) of A: sum over the tile's cnt neighbours. */
MF_HD static inline void mf_acc_block(const mf_vjob *j, const mf_smem *s,
                                      const float *Y, const float *w, int cnt,
                                      int bi, int bj) {
  const int k = j->k, kq = j->kq;
  float acc[4][4] = {{0}};
  const float *yi = Y + 4 * bi, *yc = Y + 4 * bj;
  MF_UNROLL
  for (int n = 0; n < cnt; n++) {
    float u[4], v[4];
    mf_ld4(yi + n * kq, u);
    mf_ld4(yc + n * kq, v);
    if (j->implicit) {
      const float wn = w[n];
      for (int a = 0; a < 4; a++)
        u[a] *= wn;
    }
    for (int a = 0; a < 4; a++)
      for (int b = 0; b < 4; b++)
        acc[a][b] += u[a] * v[b];
  }
  for (int a = 0; a < 4; a++) {
    int i = 4 * bi + a;
    if (i >= k) break;
    for (int b = 0; b < 4; b++) {
      int c = 4 * bj + b;
      if (c >= i && c < k) s->P[mf_pidx(k, i, c)] += acc[a][b];
    }
  }
}

/* Entries 4 q .. 4 q + 3 of b. */
MF_HD static inline void mf_acc_b(const mf_vjob *j, const mf_smem *s,
                                  const float *Y, const float *cw, int cnt,
                                  int q) {
  const int k = j->k, kq = j->kq;
  float acc[4] = {0, 0, 0, 0};
  MF_UNROLL
  for (int n = 0; n < cnt; n++) {
    float v[4];
    mf_ld4(Y + n * kq + 4 * q, v);
    const float c = cw[n];
    for (int b = 0; b < 4; b++)
      acc[b] += c * v[b];
  }
  for (int b = 0; b < 4 && 4 * q + b < k; b++)
    s->P[mf_pidx(k, 4 * q + b, k)] += acc[b];
}

MF_HD static inline void mf_stage_acc(const mf_vjob *j, const mf_smem *s,
                                      uint64_t t, int tid, int nthreads) {
  const uint64_t t0 = t * MF_TILE;
  const int cnt = j->n - t0 < MF_TILE ? (int)(j->n - t0) : MF_TILE;
  if (t0 + MF_TILE < j->n) mf_load_tile(j, s, t + 1, tid, nthreads);
  const int buf = (int)(t & 1);
  const float *Y = s->Y + buf * MF_TILE * j->kq;
  const int nb = (j->k + 3) / 4, ntri = mf_tri_count(nb);
  mf_tri it;
  mf_tri_begin(&it, nb, tid, nthreads);
  int e = tid;
  for (; e < ntri; e += nthreads) {
    mf_acc_block(j, s, Y, s->w + buf * MF_TILE, cnt, it.i, it.c);
    mf_tri_next(&it);
  }
  for (; e < ntri + nb; e += nthreads)
    mf_acc_b(j, s, Y, s->cw + buf * MF_TILE, cnt, e - ntri);
  mf_copy_wait();
}

MF_HD static inline double mf_rsqrt_pivot(double d2) {
  return d2 > 0 ? 1.0 / sqrt(d2) : 0.0;
}

/* Row 0 of U (and z_0). */
MF_HD static inline void mf_stage_scale0(const mf_vjob *j, const mf_smem *s,
                                         int tid, int nthreads) {
  const int k = j->k;
  const double d2 = s->P[0], inv = mf_rsqrt_pivot(d2);
  for (int c = 1 + tid; c <= k; c += nthreads)
    s->P[c] *= inv; /* mf_pidx(k, 0, c) == c */
  if (tid == 0) {
    s->status[0] = !(d2 > 0);
    s->rdiag[0] = inv;
  }
}

/* Column j: row j of U is final.  Row j + 1 gets its last update and is
 * scaled (each of its threads forms the pivot itself from values nobody
 * writes in this stage); rows j + 2 .. k get row j's update. */
MF_HD static inline void mf_stage_col(const mf_vjob *j, const mf_smem *s,
                                      int col, int tid, int nthreads) {
  const int k = j->k, r1 = col + 1;
  double *P = s->P;
  const double *U = P + mf_pidx(k, col, col) - col; /* U[c]: entry (col, c) */
  const double u = U[r1];
  const double d2 = P[mf_pidx(k, r1, r1)] - u * u;
  const int nrow = k - r1, m = k - col - 1;
  int e = tid;
  if (e < nrow || tid == 0) {
    const double inv = mf_rsqrt_pivot(d2);
    double *R = P + mf_pidx(k, r1, r1) - r1; /* R[c]: entry (r1, c) */
    for (; e < nrow; e += nthreads) {
      int c = r1 + 1 + e;
      R[c] = (R[c] - u * U[c]) * inv;
    }
    if (tid == 0) {
      s->status[r1 & 1] = !(d2 > 0);
      s->rdiag[r1] = inv;
    }
  }
  const int total = nrow + mf_tri_count(m), base = col + 2;
  if (e >= total) return;
  mf_tri it;
  mf_tri_begin(&it, m, e - nrow, nthreads);
  for (; e < total; e += nthreads) {
    int i = base + it.i, c = base + it.c;
    P[mf_pidx(k, i, c)] -= U[i] * U[c];
    mf_tri_next(&it);
  }
}

/* U x = z for rows [lo, hi): every thread solves the small block itself,
 * then the rows above subtract its contribution from their z.  Fixed trip
 * counts keep xl in registers on the device. */
MF_HD static inline void mf_stage_back(const mf_vjob *j, const mf_smem *s,
                                       int hi, int tid, int nthreads) {
  const int k = j->k, lo = hi > MF_BACK_ROWS ? hi - MF_BACK_ROWS : 0;
  double *P = s->P;
  double xl[MF_BACK_ROWS];
  for (int a = MF_BACK_ROWS - 1; a >= 0; a--) {
    const int i = lo + a;
    xl[a] = 0;
    if (i >= hi) continue;
    double z = P[mf_pidx(k, i, k)];
    for (int b = a + 1; b < MF_BACK_ROWS; b++)
      if (lo + b < hi) z -= P[mf_pidx(k, i, lo + b)] * xl[b];
    xl[a] = z * s->rdiag[i];
  }
  for (int r = tid; r < lo; r += nthreads) {
    const double *R = P + mf_pidx(k, r, r) - r; /* R[c]: entry (r, c) */
    double z = R[k];
    for (int b = 0; b < MF_BACK_ROWS; b++)
      if (lo + b < hi) z -= R[lo + b] * xl[b];
    P[mf_pidx(k, r, k)] = z;
  }
  if (tid == 0)
    for (int a = 0; a < MF_BACK_ROWS && lo + a < hi; a++)
      s->x[lo + a] = xl[a];
}

MF_HD static inline void mf_stage_write(const mf_vjob *j, const mf_smem *s,
                                        int keep, int tid, int nthreads) {
  for (int c = tid; c < j->stride; c += nthreads) {
    float v;
    if (!keep && c < j->k) {
      v = (float)s->x[c];
      j->row[c] = v;
    } else {
      v = j->self[c];
    }
    if (j->out) j->out[(size_t)c * j->pitch] = v;
  }
}

/* Thread tid's share of stage st. */
MF_HD static inline void mf_stage(const mf_vjob *j, const mf_smem *s,
                                  mf_state st, int tid, int nthreads) {
  switch (st.phase) {
  case MF_INIT: mf_stage_init(j, s, tid, nthreads); break;
  case MF_ACC: mf_stage_acc(j, s, st.idx, tid, nthreads); break;
  case MF_SCALE0: mf_stage_scale0(j, s, tid, nthreads); break;
  case MF_COL: mf_stage_col(j, s, (int)st.idx, tid, nthreads); break;
  case MF_BACK: mf_stage_back(j, s, (int)st.idx, tid, nthreads); break;
  case MF_WRITE: mf_stage_write(j, s, st.keep, tid, nthreads); break;
  default: break;
  }
}

#endif
