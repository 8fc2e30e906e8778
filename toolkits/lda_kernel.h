/*
 * lda_kernel.h -- the sampling kernel of gasp_lda, a template over the
 * vector width: lib_lda.c includes it with LK_W = 8 and LK_W = 16 after
 * defining lda_run and lda_thread, and gets sample_doc_8 and
 * sample_doc_16 (always inlined into target-specific wrappers).  Topic
 * rows are padded to a multiple of LK_W (zero probability).
 *
 * Per token, the pass computes p_k = a_k (n_wk + beta) with
 * a_k = (n_dk + alpha) / (n_k + W beta) one block of LK_W topics at a
 * time, with all counts (token i included), and stores the running lane
 * sums C_j (lane l of C_j: the sum of p over blocks 0..j in lane l).  The
 * draw inverts the cumulative distribution in an order fixed before u is
 * drawn, so as exact as any: the token's own topic first (with its
 * conditional p_old, the token taken out), then the others in lane-major
 * order (topics 0, W, 2W, ..., then 1, W+1, ...).  So:
 *
 *  - the token stays iff u < p_old, decided from the pass's total alone
 *    (most tokens after burn-in; they write nothing);
 *  - otherwise, with off_l the sum of the lanes before l, the position of
 *    u - p_old is the number of (j, l) with off_l + C_j[l] <= u - p_old
 *    (old's entry emptied): one vector compare per block, no branch.
 *
 * Measured on KOS (K = 100, one thread): a scan with a data-dependent
 * exit mispredicts at every token and was most of the plain sampler's
 * time; a branch on "moved" (about 40% of the tokens) mispredicts at every
 * move and throws away the next token's speculative work, so it is taken
 * as early as possible (right after the total).  Writes of the document
 * factor a are whole-vector (a scalar store into a vector that is read
 * next stalls store forwarding).
 */
#if !defined(LK_W) || (LK_W != 8 && LK_W != 16)
#error "define LK_W as 8 or 16 before including lda_kernel.h"
#endif

#define LK_CAT2(a, b) a##b
#define LK_CAT(a, b) LK_CAT2(a, b)
#define LK(name) LK_CAT(name, LK_W)
#define LK_INLINE static inline __attribute__((always_inline))

typedef float LK(lk_vf) __attribute__((vector_size(4 * LK_W)));
typedef int32_t LK(lk_vi) __attribute__((vector_size(4 * LK_W)));
/* unaligned views for loads and stores */
typedef float LK(lk_vfu)
    __attribute__((vector_size(4 * LK_W), aligned(4), may_alias));
typedef int32_t LK(lk_viu)
    __attribute__((vector_size(4 * LK_W), aligned(4), may_alias));

#define VF LK(lk_vf)
#define VI LK(lk_vi)
#define VFU LK(lk_vfu)
#define VIU LK(lk_viu)

LK_INLINE VF LK(row_f)(const int32_t *row, int j) {
#if LDA_TSAN
  VF x;
  for (int l = 0; l < LK_W; l++)
    x[l] = (float)__atomic_load_n(&row[j + l], __ATOMIC_RELAXED);
  return x;
#else
  return __builtin_convertvector(*(const VIU *)(row + j), VF);
#endif
}

#if LK_W == 8
static const VI LK(lane_id) = {0, 1, 2, 3, 4, 5, 6, 7};

/* Inclusive prefix sum of the lanes: two steps within each 128-bit half
 * (cheap shifts), then the low half's sum into the high half. */
LK_INLINE VF LK(prefix)(VF x) {
  const VF z = {0};
  x += __builtin_shufflevector(z, x, 0, 8, 9, 10, 0, 12, 13, 14);
  x += __builtin_shufflevector(z, x, 0, 0, 8, 9, 0, 0, 12, 13);
  return x + __builtin_shufflevector(x, z, 8, 8, 8, 8, 3, 3, 3, 3);
}

LK_INLINE float LK(hsum_f)(VF m) {
  m += __builtin_shufflevector(m, m, 4, 5, 6, 7, 0, 1, 2, 3);
  m += __builtin_shufflevector(m, m, 2, 3, 0, 1, 6, 7, 4, 5);
  m += __builtin_shufflevector(m, m, 1, 0, 3, 2, 5, 4, 7, 6);
  return m[0];
}

LK_INLINE int LK(hsum_i)(VI m) {
  m += __builtin_shufflevector(m, m, 4, 5, 6, 7, 0, 1, 2, 3);
  m += __builtin_shufflevector(m, m, 2, 3, 0, 1, 6, 7, 4, 5);
  m += __builtin_shufflevector(m, m, 1, 0, 3, 2, 5, 4, 7, 6);
  return m[0];
}
#else
static const VI LK(lane_id) = {0, 1, 2,  3,  4,  5,  6,  7,
                               8, 9, 10, 11, 12, 13, 14, 15};

/* Inclusive prefix sum of the lanes: two steps within each 128-bit
 * quarter, then the quarters' sums carried across. */
LK_INLINE VF LK(prefix)(VF x) {
  const VF z = {0};
  x += __builtin_shufflevector(z, x, 0, 16, 17, 18, 0, 20, 21, 22, 0, 24, 25,
                               26, 0, 28, 29, 30);
  x += __builtin_shufflevector(z, x, 0, 0, 16, 17, 0, 0, 20, 21, 0, 0, 24, 25,
                               0, 0, 28, 29);
  /* quarter sums in lanes 3, 7, 11, 15: carry them forward */
  VF q = __builtin_shufflevector(x, z, 16, 16, 16, 16, 3, 3, 3, 3, 7, 7, 7, 7,
                                 11, 11, 11, 11);
  q += __builtin_shufflevector(q, z, 16, 16, 16, 16, 16, 16, 16, 16, 4, 4, 4, 4,
                               8, 8, 8, 8);
  q += __builtin_shufflevector(q, z, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
                               16, 4, 4, 4, 4);
  return x + q;
}

LK_INLINE float LK(hsum_f)(VF m) {
  m += __builtin_shufflevector(m, m, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3,
                               4, 5, 6, 7);
  m += __builtin_shufflevector(m, m, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8,
                               9, 10, 11);
  m += __builtin_shufflevector(m, m, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14,
                               15, 12, 13);
  m += __builtin_shufflevector(m, m, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13,
                               12, 15, 14);
  return m[0];
}

LK_INLINE int LK(hsum_i)(VI m) {
  m += __builtin_shufflevector(m, m, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3,
                               4, 5, 6, 7);
  m += __builtin_shufflevector(m, m, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8,
                               9, 10, 11);
  m += __builtin_shufflevector(m, m, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14,
                               15, 12, 13);
  m += __builtin_shufflevector(m, m, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13,
                               12, 15, 14);
  return m[0];
}
#endif

/* a[k] = x by a whole-vector read-modify-write: a vector load of a block
 * just written by a scalar store cannot take its data from the store
 * buffer and waits for the store to retire. */
LK_INLINE void LK(set_lane)(float *a, int k, float x) {
  const VI zi = {0};
  VFU *p = (VFU *)(a + (k & ~(LK_W - 1)));
  VI m = LK(lane_id) == zi + (k & (LK_W - 1));
  *p = (VF)(((VI)((VF){0} + x) & m) | ((VI)*p & ~m));
}

/* Resamples the tokens of document d; returns how many moved. */
LK_INLINE uint64_t LK(sample_doc_)(lda_run *r, lda_thread *t, gasp_vid d,
                                   uint64_t iter) {
  const lda_corpus *c = &r->c;
  const int Kp = r->Kp, K = r->K, shared = r->shared, nb = Kp / LK_W;
  const uint64_t nb_inv = ((1ull << 32) + (uint64_t)nb - 1) / (uint64_t)nb;
  int32_t *ndk = r->cnt + (size_t)d * (size_t)Kp;
  int32_t *wbase = r->cnt + (size_t)c->D * (size_t)Kp;
  int64_t *nk = t->nk;
  float *inv = t->inv, *a = t->a;
  VFU *C = (VFU *)t->cum;
  const float alpha = r->alpha, beta = r->beta, vbeta = r->vbeta;
  uint32_t *z = r->z;
  const uint32_t *word = c->word;
  for (int k = 0; k < K; k++)
    a[k] = ((float)ndk[k] + alpha) * inv[k];
  lda_rng rng = lda_rng_for(r->seed, lda_doc_id(c, d), iter);
  uint64_t i0 = c->doc_off[d], i1 = c->doc_off[d + 1], moved = 0;
  const VF zero = {0};
  const VI zi = {0};
  for (uint64_t i = i0; i < i1; i++) {
    const int32_t *row = wbase + (size_t)word[i] * (size_t)Kp;
    if (i + 4 < c->tokens) { /* rows are in L2/L3: fetch ahead */
      const char *nx = (const char *)(wbase + (size_t)word[i + 4] * (size_t)Kp);
      for (int l = 0; l < Kp * 4; l += 64)
        __builtin_prefetch(nx + l);
    }
    int old = (int)z[i], jo = old / LK_W;
    /* token i leaves the counts of topic `old`: a_old for the document
     * and the total, and p_old is its conditional */
    float inv_old = 1.0f / ((float)(nk[old] - 1) + vbeta);
    float a_old = ((float)(ndk[old] - 1) + alpha) * inv_old;
    float nw = (float)(shared ? __atomic_load_n(&row[old], __ATOMIC_RELAXED)
                              : row[old]);
    float p_old = a_old * (nw - 1.0f + beta);
    const int lo_ = old & (LK_W - 1);
    VF acc0 = zero, acc1 = zero; /* two chains: half the add latency */
    int j = 0;
    for (; j + 1 < nb; j += 2) {
      acc0 += *(const VFU *)(a + LK_W * j) * (LK(row_f)(row, LK_W * j) + beta);
      C[j] = acc0 + acc1;
      acc1 += *(const VFU *)(a + LK_W * j + LK_W) *
              (LK(row_f)(row, LK_W * j + LK_W) + beta);
      C[j + 1] = acc0 + acc1;
    }
    if (j < nb) {
      acc0 += *(const VFU *)(a + LK_W * j) * (LK(row_f)(row, LK_W * j) + beta);
      C[j] = acc0 + acc1;
    }
    /* The pass has `old` with all counts, p_full; the conditional has
     * p_old there.  The draw orders the topics `old` first (an order
     * fixed before u is drawn, so as exact as any): the token stays iff
     * u < p_old -- decided right after the pass's total, before any
     * search, which makes the branch that mispredicts at every move
     * resolve early. */
    VF lanes = acc0 + acc1;
    float p_full = a[old] * (nw + beta);
    float u = lda_uniform(&rng) * (LK(hsum_f)(lanes) - p_full + p_old);
    if (u < p_old) continue;
    /* the others in lane-major order, old's entry emptied: the count of
     * running sums (less p_full in lane old % W from block jo on) below
     * u - p_old */
    VF pf = (VF)((VI)(zero + p_full) & (LK(lane_id) == zi + lo_));
    lanes -= pf;
    VF off = LK(prefix)(lanes) - lanes;
    VF uo = (zero + (u - p_old)) - off;
    VI cnt0 = zi, cnt1 = zi, jv = zi, jov = zi + jo;
    for (j = 0; j + 1 < nb; j += 2, jv += 2) {
      cnt0 += (VI)(C[j] <= uo + (VF)((VI)pf & (jv >= jov)));
      cnt1 += (VI)(C[j + 1] <= uo + (VF)((VI)pf & (jv + 1 >= jov)));
    }
    if (j < nb) cnt0 += (VI)(C[j] <= uo + (VF)((VI)pf & (jv >= jov)));
    uint32_t pos = (uint32_t)-LK(hsum_i)(cnt0 + cnt1);
    if (pos > (uint32_t)(LK_W * nb - 1))
      pos = (uint32_t)(LK_W * nb - 1); /* rounding */
    uint32_t lane = (uint32_t)(((uint64_t)pos * nb_inv) >> 32);
    int k = LK_W * (int)(pos - lane * (uint32_t)nb) + (int)lane;
    if (k >= K) k = K - 1; /* rounding past the last topic */
    if (k == old) continue;
    ndk[old]--;
    nk[old]--;
    inv[old] = inv_old;
    ndk[k]++;
    nk[k]++;
    inv[k] = 1.0f / ((float)nk[k] + vbeta);
    /* a is read as vectors by the next token: written as vectors too */
    LK(set_lane)(a, old, a_old);
    LK(set_lane)(a, k, ((float)ndk[k] + alpha) * inv[k]);
    z[i] = (uint32_t)k;
    int32_t *wr = (int32_t *)row;
    if (shared) {
      __atomic_fetch_sub(&wr[old], 1, __ATOMIC_RELAXED);
      __atomic_fetch_add(&wr[k], 1, __ATOMIC_RELAXED);
    } else {
      wr[old]--;
      wr[k]++;
    }
    moved++;
  }
  return moved;
}

#undef VF
#undef VI
#undef VFU
#undef VIU
#undef LK_INLINE
#undef LK
#undef LK_CAT
#undef LK_CAT2
