/*
 * generate.c -- synthetic inputs and a fast edge-list writer.
 *
 *  - Kronecker / R-MAT graphs as the Graph500 specification describes them
 *    (Chakrabarti, Zhan, Faloutsos, "R-MAT: A Recursive Model for Graph
 *    Mining", SDM 2004; Graph500 spec 3.0): per edge, `scale` quadrant
 *    choices with probabilities a, b, c, d, then labels scrambled by a
 *    seeded Fisher-Yates permutation.
 *  - Uniform G(n, m) graphs with replacement.
 *  - Ratings from a low-rank model, each user's distinct items drawn by
 *    Floyd's algorithm (Bentley and Floyd, "A sample of brilliance",
 *    CACM 1987).
 *  - LDA corpora (Blei, Ng, Jordan, JMLR 2003), words drawn from topics with
 *    Vose's alias method (Vose, IEEE TSE 1991).
 *
 * Determinism: every random stream is derived from (seed, tag, index) where
 * the index is a fixed-size block of edges, a user, a topic or a document,
 * never a thread, so the output is the same for any number of threads.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define GEN_STR(x) #x
#ifdef _OPENMP
#define GEN_OMP(x) _Pragma(GEN_STR(omp x))
#else
#define GEN_OMP(x)
#endif

static inline int thread_id(void) {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

/* Tags that keep the streams of different uses apart. */
enum {
  TAG_KRON = 1,
  TAG_PERM,
  TAG_UNIFORM,
  TAG_USER_F,
  TAG_ITEM_F,
  TAG_RATE,
  TAG_PHI,
  TAG_DOC
};

#define GEN_BLOCK 65536u /* edges per random stream (kronecker, uniform) */

static void stream(gasp__rng *r, uint64_t seed, uint64_t tag, uint64_t idx) {
  gasp__rng_seed(r, gasp__mix(seed, tag), idx);
}

/* ---------------------------------------------------------------- */
/* Edge lists                                                        */
/* ---------------------------------------------------------------- */

void gasp_edge_list_free(gasp_edge_list **e) {
  if (!e || !*e) return;
  free((*e)->src);
  free((*e)->dst);
  free((*e)->weight);
  free(*e);
  *e = NULL;
}

static int edge_list_new(gasp_edge_list **out, uint64_t n, int weighted) {
  *out = NULL;
  if ((uint64_t)(size_t)n != n) return GASP_ENOMEM;
  gasp_edge_list *e = gasp__calloc(1, sizeof *e);
  if (!e) return GASP_ENOMEM;
  e->n = n;
  e->src = gasp__malloc_array((size_t)n, sizeof *e->src);
  e->dst = gasp__malloc_array((size_t)n, sizeof *e->dst);
  if (weighted) e->weight = gasp__malloc_array((size_t)n, sizeof *e->weight);
  if (!e->src || !e->dst || (weighted && !e->weight)) {
    gasp_edge_list_free(&e);
    return GASP_ENOMEM;
  }
  *out = e;
  return GASP_OK;
}

/* ---------------------------------------------------------------- */
/* Kronecker / R-MAT                                                 */
/* ---------------------------------------------------------------- */

static int prob_ok(double p) { return p >= 0.0 && p <= 1.0; }

static int kron_check(int scale, int edge_factor, double *a, double *b,
                      double *c) {
  if (scale < 1 || scale > 31 || edge_factor < 1) return GASP_EINVAL;
  if (*a == 0.0 && *b == 0.0 && *c == 0.0) {
    *a = 0.57;
    *b = 0.19;
    *c = 0.19;
  }
  if (!prob_ok(*a) || !prob_ok(*b) || !prob_ok(*c)) return GASP_EINVAL;
  if (*a + *b + *c > 1.0 + 1e-12) return GASP_EINVAL;
  return GASP_OK;
}

/* p scaled to a 32-bit threshold: a 32-bit uniform u is below it with
 * probability p (to within 2^-32). */
static uint64_t threshold32(double p) {
  double t = ldexp(p, 32);
  return t >= 4294967296.0 ? 4294967296ull : (uint64_t)t;
}

/* A seeded uniform permutation of 0 .. n-1 (Fisher-Yates), n <= 2^31. */
static uint32_t *random_perm(uint64_t n, uint64_t seed) {
  uint32_t *p = gasp__malloc_array((size_t)n, sizeof *p);
  if (!p) return NULL;
  for (uint64_t i = 0; i < n; i++)
    p[i] = (uint32_t)i;
  gasp__rng r;
  stream(&r, seed, TAG_PERM, 0);
  for (uint64_t i = n - 1; i > 0; i--) {
    uint64_t j = gasp__rng_below(&r, i + 1);
    uint32_t t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

typedef struct kron_params {
  int scale;
  uint64_t t[3]; /* cumulative thresholds of a, a+b, a+b+c */
  const uint32_t *perm;
  uint64_t seed;
} kron_params;

/* xoshiro256** step (as gasp__rng_next) on local state, so the hot loop
 * below inlines it. */
static inline uint64_t xo_next(uint64_t *s) {
  uint64_t out = gasp__rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = gasp__rotl64(s[3], 45);
  return out;
}

/* One level: u < t0 is quadrant a, then b, c, d.  The source bit is set
 * for c and d, the target bit for b and d, i.e. (u>=t0) ^ (u>=t1) ^ (u>=t2). */
static inline void kron_level(const uint64_t *t, uint64_t u, int l, uint64_t *s,
                              uint64_t *d) {
  uint64_t g0 = u >= t[0], g1 = u >= t[1], g2 = u >= t[2];
  *s |= g1 << l;
  *d |= (g0 ^ g1 ^ g2) << l;
}

/* One edge in unscrambled labels; each 64-bit draw serves two levels. */
static inline void kron_edge(uint64_t *st, const kron_params *kp, uint64_t *src,
                             uint64_t *dst) {
  uint64_t s = 0, d = 0;
  int l = 0;
  for (; l + 1 < kp->scale; l += 2) {
    uint64_t bits = xo_next(st);
    kron_level(kp->t, bits & 0xFFFFFFFFull, l, &s, &d);
    kron_level(kp->t, bits >> 32, l + 1, &s, &d);
  }
  if (l < kp->scale) kron_level(kp->t, xo_next(st) >> 32, l, &s, &d);
  *src = s;
  *dst = d;
}

static void kron_block(gasp_edge_list *e, const kron_params *kp, uint64_t blk) {
  gasp__rng r;
  stream(&r, kp->seed, TAG_KRON, blk);
  uint64_t lo = blk * GEN_BLOCK, hi = lo + GEN_BLOCK;
  if (hi > e->n) hi = e->n;
  uint64_t st[4] = {r.s[0], r.s[1], r.s[2], r.s[3]};
  for (uint64_t i = lo; i < hi; i++)
    kron_edge(st, kp, &e->src[i], &e->dst[i]);
  /* Relabel in a separate tight loop: its independent loads from perm
   * overlap their cache misses, which the generation loop would not. */
  for (uint64_t i = lo; i < hi; i++) {
    e->src[i] = kp->perm[e->src[i]];
    e->dst[i] = kp->perm[e->dst[i]];
  }
}

int gasp_generate_kronecker(gasp_edge_list **out, int scale, int edge_factor,
                            double a, double b, double c, uint64_t seed,
                            int threads) {
  if (!out) return GASP_EINVAL;
  *out = NULL;
  int rc = kron_check(scale, edge_factor, &a, &b, &c);
  if (rc != GASP_OK) return rc;
  uint64_t n = 1ull << scale, m = (uint64_t)edge_factor * n;
  kron_params kp = {
      scale,
      {threshold32(a), threshold32(a + b), threshold32(a + b + c)},
      NULL,
      seed};
  uint32_t *perm = random_perm(n, seed);
  if (!perm) return GASP_ENOMEM;
  kp.perm = perm;
  gasp_edge_list *e;
  rc = edge_list_new(&e, m, 0);
  if (rc != GASP_OK) {
    free(perm);
    return rc;
  }
  int64_t nb = (int64_t)((m + GEN_BLOCK - 1) / GEN_BLOCK);
  int nt = gasp__threads(threads);
  (void)nt;
  GEN_OMP(parallel for num_threads(nt) schedule(dynamic, 4))
  for (int64_t blk = 0; blk < nb; blk++)
    kron_block(e, &kp, (uint64_t)blk);
  free(perm);
  e->num_vertices = n;
  *out = e;
  return GASP_OK;
}

/* ---------------------------------------------------------------- */
/* Uniform                                                           */
/* ---------------------------------------------------------------- */

static void uniform_block(gasp_edge_list *e, uint64_t seed, uint64_t blk) {
  gasp__rng r;
  stream(&r, seed, TAG_UNIFORM, blk);
  uint64_t lo = blk * GEN_BLOCK, hi = lo + GEN_BLOCK, nv = e->num_vertices;
  if (hi > e->n) hi = e->n;
  for (uint64_t i = lo; i < hi; i++) {
    e->src[i] = gasp__rng_below(&r, nv);
    e->dst[i] = gasp__rng_below(&r, nv);
  }
}

int gasp_generate_uniform(gasp_edge_list **out, uint64_t vertices,
                          uint64_t edges, uint64_t seed, int threads) {
  if (!out) return GASP_EINVAL;
  *out = NULL;
  if (vertices < 1) return GASP_EINVAL;
  gasp_edge_list *e;
  int rc = edge_list_new(&e, edges, 0);
  if (rc != GASP_OK) return rc;
  e->num_vertices = vertices;
  int64_t nb = (int64_t)((edges + GEN_BLOCK - 1) / GEN_BLOCK);
  int nt = gasp__threads(threads);
  (void)nt;
  GEN_OMP(parallel for num_threads(nt) schedule(dynamic, 4))
  for (int64_t blk = 0; blk < nb; blk++)
    uniform_block(e, seed, (uint64_t)blk);
  *out = e;
  return GASP_OK;
}

/* ---------------------------------------------------------------- */
/* Ratings                                                           */
/* ---------------------------------------------------------------- */

/* rows x rank entries N(0, sd^2), one stream per row. */
static void normal_rows(double *x, uint64_t rows, int rank, double sd,
                        uint64_t seed, uint64_t tag) {
  GEN_OMP(parallel for schedule(static))
  for (int64_t i = 0; i < (int64_t)rows; i++) {
    gasp__rng r;
    stream(&r, seed, tag, (uint64_t)i);
    double *row = x + (size_t)i * (size_t)rank;
    for (int k = 0; k < rank; k++)
      row[k] = sd * gasp__rng_normal(&r);
  }
}

/* Open-addressing set of item ids; UINT64_MAX marks an empty slot (ids
 * are below `items` <= UINT64_MAX). */
typedef struct pick_set {
  uint64_t *slot;
  uint64_t mask;
  int shift;
} pick_set;

/* Inserts key; returns 1 when it was new, 0 when already present. */
static int pick_insert(pick_set *h, uint64_t key) {
  uint64_t i = (key * 0x9E3779B97F4A7C15ull) >> h->shift;
  for (;; i = (i + 1) & h->mask) {
    if (h->slot[i] == key) return 0;
    if (h->slot[i] == UINT64_MAX) {
      h->slot[i] = key;
      return 1;
    }
  }
}

/* Floyd's algorithm: k distinct values of 0 .. n-1, uniformly, into out. */
static void floyd_pick(gasp__rng *r, uint64_t n, uint64_t k, pick_set *h,
                       uint64_t *out) {
  memset(h->slot, 0xFF, (size_t)(h->mask + 1) * sizeof *h->slot);
  uint64_t c = 0;
  for (uint64_t j = n - k; j < n; j++) {
    uint64_t t = gasp__rng_below(r, j + 1);
    if (!pick_insert(h, t)) {
      pick_insert(h, j);
      t = j;
    }
    out[c++] = t;
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

typedef struct ratings_model {
  uint64_t users, items, per_user;
  int rank;
  double mean, noise;
  const double *u, *v;
  uint64_t seed;
} ratings_model;

static void ratings_user(gasp_edge_list *e, const ratings_model *m, pick_set *h,
                         uint64_t user) {
  gasp__rng r;
  stream(&r, m->seed, TAG_RATE, user);
  size_t base = (size_t)(user * m->per_user), rk = (size_t)m->rank;
  floyd_pick(&r, m->items, m->per_user, h, e->dst + base);
  qsort(e->dst + base, (size_t)m->per_user, sizeof *e->dst, cmp_u64);
  const double *uu = m->u + (size_t)user * rk;
  for (uint64_t j = 0; j < m->per_user; j++) {
    const double *vv = m->v + (size_t)e->dst[base + j] * rk;
    double dot = 0.0;
    for (size_t k = 0; k < rk; k++)
      dot += uu[k] * vv[k];
    e->src[base + j] = user;
    e->weight[base + j] = m->mean + dot + m->noise * gasp__rng_normal(&r);
  }
}

static int ratings_check(uint64_t users, uint64_t items, int rank,
                         uint64_t per_user, double mean, double noise) {
  if (users < 1 || items < 1 || rank < 1) return GASP_EINVAL;
  if (per_user < 1 || per_user > items) return GASP_EINVAL;
  if (!isfinite(mean) || !isfinite(noise) || noise < 0.0) return GASP_EINVAL;
  if (per_user > UINT64_MAX / users) return GASP_ENOMEM;
  return GASP_OK;
}

/* Per-thread pick sets sized to a power of two >= 2 * per_user. */
static uint64_t *pick_tables(int nt, uint64_t per_user, pick_set *proto) {
  int bits = 1;
  while (bits < 63 && (1ull << bits) < 2 * per_user)
    bits++;
  proto->mask = (1ull << bits) - 1;
  proto->shift = 64 - bits;
  if ((uint64_t)(size_t)(proto->mask + 1) != proto->mask + 1) return NULL;
  return gasp__malloc_array((size_t)nt * (size_t)(proto->mask + 1),
                            sizeof(uint64_t));
}

static int ratings_fill(gasp_edge_list *e, const ratings_model *m) {
  int nt = gasp__threads(0);
  pick_set proto;
  uint64_t *tables = pick_tables(nt, m->per_user, &proto);
  if (!tables) return GASP_ENOMEM;
  GEN_OMP(parallel num_threads(nt)) {
    pick_set h = proto;
    h.slot = tables + (size_t)thread_id() * (size_t)(proto.mask + 1);
    GEN_OMP(for schedule(dynamic, 64))
    for (int64_t u = 0; u < (int64_t)m->users; u++)
      ratings_user(e, m, &h, (uint64_t)u);
  }
  free(tables);
  return GASP_OK;
}

int gasp_generate_ratings(gasp_edge_list **out, uint64_t users, uint64_t items,
                          int rank, uint64_t per_user, double mean,
                          double noise, uint64_t seed, double **factors_out) {
  if (!out) return GASP_EINVAL;
  *out = NULL;
  if (factors_out) *factors_out = NULL;
  int rc = ratings_check(users, items, rank, per_user, mean, noise);
  if (rc != GASP_OK) return rc;
  if (users > UINT64_MAX - items) return GASP_ENOMEM;
  uint64_t rows = users + items;
  if ((uint64_t)(size_t)rows != rows) return GASP_ENOMEM;
  double *f = gasp__malloc_array((size_t)rows, sizeof(double) * (size_t)rank);
  if (!f) return GASP_ENOMEM;
  gasp_edge_list *e;
  rc = edge_list_new(&e, users * per_user, 1);
  if (rc != GASP_OK) {
    free(f);
    return rc;
  }
  double sd = 1.0 / sqrt((double)rank);
  double *fv = f + (size_t)users * (size_t)rank;
  normal_rows(f, users, rank, sd, seed, TAG_USER_F);
  normal_rows(fv, items, rank, sd, seed, TAG_ITEM_F);
  ratings_model m = {users, items, per_user, rank, mean, noise, f, fv, seed};
  rc = ratings_fill(e, &m);
  if (rc != GASP_OK) {
    gasp_edge_list_free(&e);
    free(f);
    return rc;
  }
  e->num_vertices = users;
  e->num_right = items;
  if (factors_out)
    *factors_out = f;
  else
    free(f);
  *out = e;
  return GASP_OK;
}

/* ---------------------------------------------------------------- */
/* LDA corpus                                                        */
/* ---------------------------------------------------------------- */

/* p ~ Dirichlet(conc, ..., conc) of dimension n, by normalised gammas.  If
 * every gamma underflows (tiny conc) the draw falls back to uniform. */
static void dirichlet(gasp__rng *r, double conc, double *p, uint64_t n) {
  double s = 0.0;
  for (uint64_t i = 0; i < n; i++) {
    p[i] = gasp__rng_gamma(r, conc);
    s += p[i];
  }
  if (!(s > 0.0) || !isfinite(s)) {
    for (uint64_t i = 0; i < n; i++)
      p[i] = 1.0 / (double)n;
    return;
  }
  for (uint64_t i = 0; i < n; i++)
    p[i] /= s;
}

/* Vose's alias table for p[0..n-1]; work holds 2n entries. */
static void alias_build(const double *p, uint32_t n, double *prob,
                        uint32_t *alias, uint32_t *work) {
  uint32_t *small = work, *large = work + n, ns = 0, nl = 0;
  for (uint32_t i = 0; i < n; i++) {
    prob[i] = p[i] * (double)n;
    alias[i] = i;
    if (prob[i] < 1.0)
      small[ns++] = i;
    else
      large[nl++] = i;
  }
  while (ns && nl) {
    uint32_t s = small[--ns], l = large[nl - 1];
    alias[s] = l;
    prob[l] = (prob[l] + prob[s]) - 1.0;
    if (prob[l] < 1.0) {
      nl--;
      small[ns++] = l;
    }
  }
  while (nl)
    prob[large[--nl]] = 1.0;
  while (ns)
    prob[small[--ns]] = 1.0;
}

static inline uint32_t alias_draw(gasp__rng *r, const double *prob,
                                  const uint32_t *alias, uint32_t n) {
  uint32_t j = (uint32_t)gasp__rng_below(r, n);
  return gasp__rng_uniform(r) < prob[j] ? j : alias[j];
}

/* Sorts a[0..n-1] ascending: quicksort (Hoare partition, which splits runs
 * of equal keys evenly), insertion sort for short ranges. */
static void sort_u32(uint32_t *a, size_t n) {
  while (n > 16) {
    uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
    uint32_t piv =
        x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    size_t i = 0, j = n - 1;
    for (;;) {
      while (a[i] < piv)
        i++;
      while (a[j] > piv)
        j--;
      if (i >= j) break;
      uint32_t t = a[i];
      a[i++] = a[j];
      a[j--] = t;
    }
    size_t left = j + 1; /* a[0..j] <= piv <= a[j+1..n-1] */
    if (left < n - left) {
      sort_u32(a, left);
      a += left;
      n -= left;
    } else {
      sort_u32(a + left, n - left);
      n = left;
    }
  }
  for (size_t i = 1; i < n; i++) {
    uint32_t v = a[i];
    size_t j = i;
    for (; j > 0 && a[j - 1] > v; j--)
      a[j] = a[j - 1];
    a[j] = v;
  }
}

typedef struct lda_model {
  uint64_t docs, len;
  uint32_t vocab;
  int topics;
  double alpha;
  double *phi;     /* topics x vocab */
  double *prob;    /* alias tables, topics x vocab */
  uint32_t *alias; /* topics x vocab */
  uint64_t seed;
} lda_model;

static int lda_tables(lda_model *m) {
  size_t kv = (size_t)m->topics * m->vocab;
  m->phi = gasp__malloc_array(kv, sizeof(double));
  m->prob = gasp__malloc_array(kv, sizeof(double));
  m->alias = gasp__malloc_array(kv, sizeof(uint32_t));
  return (m->phi && m->prob && m->alias) ? GASP_OK : GASP_ENOMEM;
}

static void lda_phi(lda_model *m, double beta, uint32_t *work) {
  GEN_OMP(parallel for schedule(dynamic, 1))
  for (int k = 0; k < m->topics; k++) {
    gasp__rng r;
    stream(&r, m->seed, TAG_PHI, (uint64_t)k);
    dirichlet(&r, beta, m->phi + (size_t)k * m->vocab, m->vocab);
  }
  for (int k = 0; k < m->topics; k++) {
    size_t o = (size_t)k * m->vocab;
    alias_build(m->phi + o, m->vocab, m->prob + o, m->alias + o, work);
  }
}

/* Draws document d's tokens into tok (sorted) and returns the number of
 * distinct words.  cdf is scratch of `topics` doubles. */
static uint64_t lda_doc(const lda_model *m, uint64_t d, double *cdf,
                        uint32_t *tok) {
  gasp__rng r;
  stream(&r, m->seed, TAG_DOC, d);
  int kt = m->topics;
  dirichlet(&r, m->alpha, cdf, (uint64_t)kt);
  for (int k = 1; k < kt; k++)
    cdf[k] += cdf[k - 1];
  double total = cdf[kt - 1];
  for (uint64_t t = 0; t < m->len; t++) {
    double u = gasp__rng_uniform(&r) * total;
    int lo = 0, hi = kt - 1; /* first k with cdf[k] > u */
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (cdf[mid] > u)
        hi = mid;
      else
        lo = mid + 1;
    }
    size_t o = (size_t)lo * m->vocab;
    tok[t] = alias_draw(&r, m->prob + o, m->alias + o, m->vocab);
  }
  sort_u32(tok, (size_t)m->len);
  uint64_t distinct = 1;
  for (uint64_t t = 1; t < m->len; t++)
    distinct += tok[t] != tok[t - 1];
  return distinct;
}

/* Run-length encodes document d's sorted tokens into e from slot o. */
static void lda_emit(gasp_edge_list *e, const uint32_t *tok, uint64_t len,
                     uint64_t d, uint64_t o) {
  for (uint64_t t = 0; t < len;) {
    uint64_t s = t;
    while (t < len && tok[t] == tok[s])
      t++;
    e->src[o] = d + 1;
    e->dst[o] = (uint64_t)tok[s] + 1;
    e->weight[o] = (double)(t - s);
    o++;
  }
}

/* Two passes over the documents: draw and count, then emit. */
static int lda_corpus(const lda_model *m, gasp_edge_list **out) {
  int nt = gasp__threads(0);
  uint32_t *tok = gasp__malloc_array((size_t)(m->docs * m->len), 4);
  uint64_t *off = gasp__malloc_array((size_t)m->docs + 1, sizeof *off);
  double *cdf = gasp__malloc_array((size_t)nt * (size_t)m->topics, 8);
  int rc = (tok && off && cdf) ? GASP_OK : GASP_ENOMEM;
  if (rc == GASP_OK) {
    GEN_OMP(parallel for num_threads(nt) schedule(dynamic, 16))
    for (int64_t d = 0; d < (int64_t)m->docs; d++)
      off[d + 1] =
          lda_doc(m, (uint64_t)d, cdf + (size_t)thread_id() * (size_t)m->topics,
                  tok + (size_t)d * m->len);
    off[0] = 0;
    for (uint64_t d = 0; d < m->docs; d++)
      off[d + 1] += off[d];
    rc = edge_list_new(out, off[m->docs], 1);
  }
  if (rc == GASP_OK) {
    gasp_edge_list *e = *out;
    GEN_OMP(parallel for num_threads(nt) schedule(dynamic, 64))
    for (int64_t d = 0; d < (int64_t)m->docs; d++)
      lda_emit(e, tok + (size_t)d * m->len, m->len, (uint64_t)d, off[d]);
    e->num_vertices = m->docs;
    e->num_right = m->vocab;
  }
  free(tok);
  free(off);
  free(cdf);
  return rc;
}

static int lda_check(uint64_t docs, uint64_t vocab, int topics,
                     uint64_t doc_length, double alpha, double beta) {
  if (docs < 1 || vocab < 1 || vocab > UINT32_MAX || topics < 1)
    return GASP_EINVAL;
  if (doc_length < 1) return GASP_EINVAL;
  if (!(alpha > 0.0) || !isfinite(alpha) || !(beta > 0.0) || !isfinite(beta))
    return GASP_EINVAL;
  if (docs > UINT64_MAX / doc_length || docs == UINT64_MAX) return GASP_ENOMEM;
  uint64_t tokens = docs * doc_length;
  if ((uint64_t)(size_t)tokens != tokens) return GASP_ENOMEM;
  return GASP_OK;
}

int gasp_generate_lda_corpus(gasp_edge_list **out, uint64_t docs,
                             uint64_t vocab, int topics, uint64_t doc_length,
                             double alpha, double beta, uint64_t seed,
                             double **phi_out) {
  if (!out) return GASP_EINVAL;
  *out = NULL;
  if (phi_out) *phi_out = NULL;
  int rc = lda_check(docs, vocab, topics, doc_length, alpha, beta);
  if (rc != GASP_OK) return rc;
  lda_model m = {docs, doc_length, (uint32_t)vocab, topics, alpha, NULL, NULL,
                 NULL, seed};
  uint32_t *work = gasp__malloc_array(2 * (size_t)vocab, sizeof *work);
  rc = work ? lda_tables(&m) : GASP_ENOMEM;
  if (rc == GASP_OK) {
    lda_phi(&m, beta, work);
    rc = lda_corpus(&m, out);
  }
  free(work);
  free(m.prob);
  free(m.alias);
  if (rc == GASP_OK && phi_out)
    *phi_out = m.phi;
  else
    free(m.phi);
  return rc;
}

/* ---------------------------------------------------------------- */
/* Writing edge lists                                                */
/* ---------------------------------------------------------------- */

#define WRITE_BLOCK 65536u /* lines formatted per buffer */
#define LINE_BYTES 80u     /* bound on one line: 20 + 1 + 20 + 1 + 25 + 1 */

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "7475767778798081828384858687888990919293949596979899";

/* Writes v in decimal at p; returns the end. */
static inline char *put_u64(char *p, uint64_t v) {
  char tmp[20], *q = tmp + 20;
  while (v >= 100) {
    unsigned i = (unsigned)(v % 100) * 2;
    v /= 100;
    q -= 2;
    memcpy(q, digit_pairs + i, 2);
  }
  if (v >= 10) {
    q -= 2;
    memcpy(q, digit_pairs + v * 2, 2);
  } else {
    *--q = (char)('0' + v);
  }
  size_t n = (size_t)(tmp + 20 - q);
  memcpy(p, q, n);
  return p + n;
}

/* Integral weights below 2^53 as integers, others with %.17g. */
static inline char *put_weight(char *p, double w) {
  if (w == floor(w) && fabs(w) < 0x1p53) {
    if (w < 0) {
      *p++ = '-';
      return put_u64(p, (uint64_t)-w);
    }
    return put_u64(p, (uint64_t)w);
  }
  return p + snprintf(p, 32, "%.17g", w);
}

static size_t format_block(const gasp_edge_list *e, uint64_t lo, uint64_t hi,
                           char *buf) {
  char *p = buf;
  for (uint64_t i = lo; i < hi; i++) {
    p = put_u64(p, e->src[i]);
    *p++ = '\t';
    p = put_u64(p, e->dst[i]);
    if (e->weight) {
      *p++ = '\t';
      p = put_weight(p, e->weight[i]);
    }
    *p++ = '\n';
  }
  return (size_t)(p - buf);
}

/* Threads format blocks round-robin into their own buffers and write them
 * in block order (an ordered loop), so formatting overlaps writing. */
static int write_blocks(gasp__outfile *f, const gasp_edge_list *e, int threads,
                        gasp_error *err) {
  uint64_t nb = (e->n + WRITE_BLOCK - 1) / WRITE_BLOCK;
  if (nb == 0) return GASP_OK;
  int nt = gasp__threads(threads);
  if ((uint64_t)nt > nb) nt = (int)nb;
  size_t cap = (size_t)WRITE_BLOCK * LINE_BYTES;
  char *bufs = gasp__malloc_array((size_t)nt, cap);
  if (!bufs) return gasp__fail(err, GASP_ENOMEM, f->path, 0, "out of memory");
  int rc = GASP_OK, failed = 0;
  GEN_OMP(parallel for num_threads(nt) ordered schedule(static, 1))
  for (int64_t b = 0; b < (int64_t)nb; b++) {
    char *buf = bufs + cap * (size_t)thread_id();
    uint64_t lo = (uint64_t)b * WRITE_BLOCK, hi = lo + WRITE_BLOCK;
    if (hi > e->n) hi = e->n;
    int stop;
    GEN_OMP(atomic read)
    stop = failed;
    size_t len = stop ? 0 : format_block(e, lo, hi, buf);
    GEN_OMP(ordered) {
      if (rc == GASP_OK && len > 0) {
        rc = gasp__outfile_write(f, buf, len, err);
        if (rc != GASP_OK) {
          GEN_OMP(atomic write)
          failed = 1;
        }
      }
    }
  }
  free(bufs);
  return rc;
}

int gasp_edge_list_write(const gasp_edge_list *e, const char *path,
                         const char *header, int threads, gasp_error *err) {
  gasp__error_clear(err);
  if (!e || !path || (e->n > 0 && (!e->src || !e->dst)))
    return gasp__fail(err, GASP_EINVAL, path, 0, "invalid edge list or path");
  gasp__outfile f;
  int rc = gasp__outfile_open(&f, path, err);
  if (rc != GASP_OK) return rc;
  if (header && header[0])
    rc = gasp__outfile_write(&f, header, strlen(header), err);
  if (rc == GASP_OK) rc = write_blocks(&f, e, threads, err);
  if (rc != GASP_OK) {
    gasp__outfile_abort(&f);
    return rc;
  }
  return gasp__outfile_commit(&f, err);
}
