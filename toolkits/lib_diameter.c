/*
 * lib_diameter.c -- gasp_diameter (gasp_toolkits.h): the neighbourhood
 * function and the diameter, estimated by HyperANF (Boldi, Rosa, Vigna,
 * "HyperANF: approximating the neighbourhood function of very large
 * graphs on a budget", WWW 2011) or exact from a search from every
 * vertex (msbfs.c).
 *
 * HyperANF: vertex x keeps a HyperLogLog counter (Flajolet, Fusy,
 * Gandouet, Meunier, "HyperLogLog: the analysis of a near-optimal
 * cardinality estimation algorithm", AofA 2007) of its ball B(x, t), the
 * vertices within t steps: 2^b byte registers, started with x itself.
 * B(x, t + 1) is x's ball and its out-neighbours' balls of radius t, so
 * superstep t takes the register-wise maximum of x's counter and theirs.
 * Pulling, x reads the counters of the out-neighbours that grew in the
 * superstep before (the others it has merged already); pushing, a counter
 * that grew is sent to the in-neighbours as a message, combined by
 * maximum.  The run ends when no counter grows.  N(t), the sum of the
 * balls' sizes, is an aggregator over the counters' estimates, kept in
 * fixed point so that the sum is exact and the same on any threads or
 * ranks.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"
#include "msbfs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define FIX 65536.0 /* estimates in units of 2^-16 */

typedef struct hanf {
  gasp_dist *dist;
  int undirected, bits;
  size_t m;        /* registers */
  uint64_t seed;   /* mixed */
  double alpha;    /* HyperLogLog's bias correction for m */
  double pow2[66]; /* 2^-k */
  uint64_t *est;   /* per local vertex: its counter's estimate, fixed point */
  uint32_t *stamp; /* per local vertex: 1 + the superstep its counter last
                      grew in (0: never), mirrored to ghosts */
  uint32_t cur;    /* the aggregator counts counters stamped this */
  gasp_engine *e;
  int agg;
  double *nf; /* N(0), N(1), ...: while counters grow */
  uint64_t steps, cap;
  int rc; /* a failure inside on_iteration */
  int (*user_iter)(void *, const gasp_iter_info *);
  void *user_iter_user;
} hanf;

/* N(t) and the counters that grew, over every rank. */
typedef struct nsum {
  uint64_t lo, hi; /* the sum of the estimates, 128 bits */
  uint64_t grew;
} nsum;

static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The estimate of a counter: the harmonic mean of 2^register, or linear
 * counting of the empty registers while the count is small. */
static double estimate(const hanf *p, const uint8_t *r) {
  double z = 0;
  uint64_t zeros = 0;
  for (size_t j = 0; j < p->m; j++) {
    z += p->pow2[r[j]];
    zeros += r[j] == 0;
  }
  double m = (double)p->m, e = p->alpha * m * m / z;
  if (e <= 2.5 * m && zeros) e = m * log(m / (double)zeros);
  return e;
}

static uint64_t fixed(double e) { return (uint64_t)(e * FIX + 0.5); }

static void hanf_init(gasp_ctx *ctx, void *vd) {
  hanf *p = gasp_ctx_user(ctx);
  gasp_vid v = gasp_ctx_vertex(ctx);
  uint64_t idx = p->dist ? gasp_dist_global_id(p->dist, v) : v;
  uint64_t h = mix(idx ^ p->seed);
  uint8_t *r = vd;
  uint64_t w = h << p->bits;
  int rho = w ? __builtin_clzll(w) + 1 : 64 - p->bits + 1;
  if (rho > 64 - p->bits + 1) rho = 64 - p->bits + 1;
  r[h >> (64 - p->bits)] = (uint8_t)rho;
  p->est[v] = fixed(estimate(p, r));
}

static gasp_dir hanf_gather_dir(const gasp_ctx *ctx, const void *vd) {
  (void)vd;
  const hanf *p = gasp_ctx_user(ctx);
  return p->undirected ? GASP_DIR_ALL : GASP_DIR_OUT;
}

/* Byte-wise maximum of 8 registers at once: every register is below 128,
 * so (a | H) - b keeps a byte's top bit exactly where a >= b, and no
 * borrow crosses bytes. */
static inline uint64_t max8(uint64_t a, uint64_t b) {
  const uint64_t H = 0x8080808080808080ull;
  uint64_t ge = ((a | H) - b) & H;
  uint64_t sel = (ge - (ge >> 7)) | ge;
  return (a & sel) | (b & ~sel);
}

/* acc = max(acc, r) over m registers (a multiple of 16); non-zero when
 * acc grew. */
static uint64_t max_into(uint8_t *acc, const uint8_t *r, size_t m) {
#ifdef __SSE2__
  __m128i grew = _mm_setzero_si128();
  for (size_t j = 0; j < m; j += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(acc + j));
    __m128i x = _mm_max_epu8(a, _mm_loadu_si128((const __m128i *)(r + j)));
    grew = _mm_or_si128(grew, _mm_xor_si128(x, a));
    _mm_storeu_si128((__m128i *)(acc + j), x);
  }
  return (uint64_t)(_mm_movemask_epi8(
                        _mm_cmpeq_epi8(grew, _mm_setzero_si128())) != 0xffff);
#else
  uint64_t grew = 0;
  for (size_t j = 0; j < m; j += 8) {
    uint64_t a, b;
    memcpy(&a, acc + j, 8);
    memcpy(&b, r + j, 8);
    uint64_t x = max8(a, b);
    grew |= x ^ a;
    memcpy(acc + j, &x, 8);
  }
  return grew;
#endif
}

static void merge_grown(const hanf *p, const gasp_nbrs *nb, const gasp_vid *nbr,
                        uint64_t n, uint32_t stamp, uint8_t *acc) {
  const uint8_t *base = nb->vertex_data;
  for (uint64_t i = 0; i < n; i++)
    if (p->stamp[nbr[i]] == stamp)
      max_into(acc, base + (size_t)nbr[i] * p->m, p->m);
}

static void hanf_gather(const gasp_ctx *ctx, const void *vd,
                        const gasp_nbrs *nb, void *acc) {
  (void)vd;
  const hanf *p = gasp_ctx_user(ctx);
  /* grown in superstep t - 1: stamp t (the initial counters: 0) */
  uint32_t stamp = (uint32_t)gasp_ctx_iteration(ctx);
  merge_grown(p, nb, nb->out, nb->n_out, stamp, acc);
  merge_grown(p, nb, nb->in, nb->n_in, stamp, acc);
}

static void hanf_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  hanf *p = gasp_ctx_user(ctx);
  if (!max_into(vd, acc, p->m)) return;
  gasp_vid v = gasp_ctx_vertex(ctx);
  p->stamp[v] = (uint32_t)gasp_ctx_iteration(ctx) + 1;
  p->est[v] = fixed(estimate(p, vd));
}

static gasp_dir hanf_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  (void)vd;
  const hanf *p = gasp_ctx_user(ctx);
  if (p->stamp[gasp_ctx_vertex(ctx)] != (uint32_t)gasp_ctx_iteration(ctx) + 1)
    return GASP_DIR_NONE;
  return p->undirected ? GASP_DIR_ALL : GASP_DIR_IN;
}

static void hanf_scatter(gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb) {
  gasp_vid self = gasp_ctx_vertex(ctx);
  for (uint64_t i = 0; i < nb->n_in; i++)
    if (nb->in[i] != self) gasp_signal_msg(ctx, nb->in[i], vd);
  for (uint64_t i = 0; i < nb->n_out; i++)
    if (nb->out[i] != self) gasp_signal_msg(ctx, nb->out[i], vd);
}

/* Register-wise maximum, for every register count: the combiner has no
 * user pointer, so the count is in the function. */
#define MAX_FN(B)                                                              \
  static void max_##B(void *a, const void *b) {                                \
    (void)max_into(a, b, (size_t)1 << B);                                      \
  }
MAX_FN(4)
MAX_FN(5)
MAX_FN(6)
MAX_FN(7)
MAX_FN(8)
MAX_FN(9)
MAX_FN(10)
MAX_FN(11)
MAX_FN(12)
MAX_FN(13)
MAX_FN(14)
MAX_FN(15)
MAX_FN(16)
#undef MAX_FN
static void (*const max_fns[])(void *, const void *) = {
    max_4,  max_5,  max_6,  max_7,  max_8,  max_9, max_10,
    max_11, max_12, max_13, max_14, max_15, max_16};

/* ---- N(t): an aggregator over the estimates ---------------------------- */

static void nsum_add(nsum *a, uint64_t lo, uint64_t hi, uint64_t grew) {
  uint64_t l = a->lo + lo;
  a->hi += hi + (l < a->lo);
  a->lo = l;
  a->grew += grew;
}

static void nsum_map(const gasp_graph *g, gasp_vid v, const void *vd, void *acc,
                     void *user) {
  (void)g;
  (void)vd;
  const hanf *p = user;
  nsum_add(acc, p->est[v], 0, p->stamp[v] == p->cur);
}

static void nsum_combine(void *acc, const void *other, void *user) {
  (void)user;
  const nsum *o = other;
  nsum_add(acc, o->lo, o->hi, o->grew);
}

static double nsum_value(const nsum *s) {
  return (ldexp((double)s->hi, 64) + (double)s->lo) / FIX;
}

static int nf_append(hanf *p, double x) {
  if (p->steps == p->cap) {
    uint64_t cap = p->cap ? 2 * p->cap : 32;
    double *nf = gasp__realloc(p->nf, cap * sizeof *nf);
    if (!nf) return GASP_ENOMEM;
    p->nf = nf;
    p->cap = cap;
  }
  p->nf[p->steps++] = x;
  return GASP_OK;
}

/* After superstep t: N(t + 1) while counters grow; the caller's callback
 * sees it as the residual. */
static int hanf_on_iteration(void *user, const gasp_iter_info *info) {
  hanf *p = user;
  nsum s;
  p->cur = (uint32_t)info->iteration;
  int rc = gasp_engine_aggregate(p->e, p->agg, &s);
  if (!rc && s.grew) rc = nf_append(p, nsum_value(&s));
  if (rc) {
    p->rc = rc;
    return 1;
  }
  gasp_iter_info in = *info;
  in.residual = nsum_value(&s);
  return p->user_iter ? p->user_iter(p->user_iter_user, &in) : 0;
}

/* ---- the call ---------------------------------------------------------- */

void gasp_diameter_opts_init(gasp_diameter_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->bits = 6;
  o->seed = 1;
}

/* The distance within which 90% of the pairs lie, linearly interpolated
 * between the steps of N (WebGraph's effective diameter). */
static double effective(const double *nf, uint64_t n) {
  if (!n) return 0;
  double target = 0.9 * nf[n - 1];
  uint64_t i = 0;
  while (i < n && nf[i] < target)
    i++;
  if (i == 0 || i == n) return 0;
  return (double)(i - 1) + (target - nf[i - 1]) / (nf[i] - nf[i - 1]);
}

static void finish(gasp_diameter_info *info, const double *nf, uint64_t n,
                   double *out, uint64_t out_len) {
  info->steps = n;
  info->pairs = n ? nf[n - 1] : 0;
  info->effective = effective(nf, n);
  for (uint64_t t = 0; t < n && t < out_len; t++)
    out[t] = nf[t];
}

/* rc, with the engine's reason, or the code's when it gave none. */
static int engine_fail(gasp_engine *e, int rc, gasp_error *err) {
  const gasp_error *le = gasp_engine_last_error(e);
  if (le->code) {
    if (err) *err = *le;
    return rc;
  }
  return tk_lib_fail(err, rc, "diameter: %s", gasp_strerror(rc));
}

static int hyperanf(gasp_graph *g, const gasp_diameter_opts *o, uint32_t *ecc,
                    double *nf, uint64_t nf_len, gasp_diameter_info *info,
                    gasp_run_stats *st, gasp_error *err) {
  hanf p = {0};
  p.dist = o->engine.dist;
  p.undirected = o->undirected;
  p.bits = o->bits;
  p.m = (size_t)1 << o->bits;
  p.seed = mix(o->seed);
  p.alpha = p.m == 16   ? 0.673
            : p.m == 32 ? 0.697
            : p.m == 64 ? 0.709
                        : 0.7213 / (1 + 1.079 / (double)p.m);
  p.cur = UINT32_MAX;
  for (int k = 0; k < 66; k++)
    p.pow2[k] = ldexp(1.0, -k);
  p.user_iter = o->engine.on_iteration;
  p.user_iter_user = o->engine.on_iteration_user;
  info->registers = (uint32_t)p.m;
  info->rse = 1.04 / sqrt((double)p.m);
  gasp_vid nv = gasp_graph_num_vertices(g);
  p.est = gasp__calloc_array(nv ? nv : 1, sizeof *p.est);
  p.stamp = gasp__calloc_array(nv ? nv : 1, sizeof *p.stamp);
  int rc = GASP_OK;
  if (!p.est || !p.stamp) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "diameter: out of memory");
    goto out;
  }
  gasp_program prog = {0};
  prog.vertex_size = p.m;
  prog.acc_size = prog.msg_size = p.m;
  prog.combine = max_fns[o->bits - 4];
  prog.init_vertex = hanf_init;
  prog.gather_edges = hanf_gather_dir;
  prog.gather_vertex = hanf_gather;
  prog.apply = hanf_apply;
  prog.scatter_edges = hanf_scatter_dir;
  prog.scatter_vertex = hanf_scatter;
  prog.push_pull = 1;
  prog.user = &p;
  gasp_engine_opts eo = o->engine;
  eo.always_active = 0;
  eo.on_iteration = hanf_on_iteration;
  eo.on_iteration_user = &p;
  gasp_aggregator agg = {0};
  agg.size = sizeof(nsum);
  agg.map_vertex = nsum_map;
  agg.combine = nsum_combine;
  agg.user = &p;
  nsum s;
  if ((rc = gasp_engine_new(&p.e, g, &prog, &eo, err))) goto out;
  if ((rc = gasp_engine_mirror(p.e, p.stamp, sizeof *p.stamp)) ||
      (rc = gasp_engine_add_aggregator(p.e, &agg, &p.agg)) ||
      (rc = gasp_engine_aggregate(p.e, p.agg, &s)) ||
      (rc = nf_append(&p, nsum_value(&s))) ||
      (rc = gasp_engine_signal_all(p.e, 0.0))) {
    engine_fail(p.e, rc, err);
    goto out;
  }
  if ((rc = gasp_engine_run(p.e, st))) {
    engine_fail(p.e, rc, err);
    goto out;
  }
  if (p.rc) {
    rc = tk_lib_fail(err, p.rc, "diameter: %s", gasp_strerror(p.rc));
    goto out;
  }
  info->diameter = p.steps - 1;
  if (ecc) memcpy(ecc, p.stamp, (size_t)nv * sizeof *ecc);
  finish(info, p.nf, p.steps, nf, nf_len);
out:
  gasp_engine_free(&p.e);
  free(p.est);
  free(p.stamp);
  free(p.nf);
  return rc;
}

static int exact(gasp_graph *g, const gasp_diameter_opts *o, uint32_t *ecc,
                 double *nf, uint64_t nf_len, gasp_diameter_info *info,
                 gasp_run_stats *st, gasp_error *err) {
  gasp_dist *dist = o->engine.dist;
  gasp_vid nv = gasp_graph_num_vertices(g), owned = gasp_graph_num_owned(g);
  uint64_t n = dist ? gasp_dist_global_vertices(dist) : nv;
  uint32_t *e = ecc ? ecc : gasp__malloc_array(nv ? nv : 1, sizeof *e);
  gasp_vid *src = gasp__malloc_array(n ? n : 1, sizeof *src);
  uint64_t *pairs = NULL, levels = 0;
  double *cum = NULL;
  int rc = GASP_OK;
  if (!e || !src) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "diameter: out of memory");
    goto out;
  }
  memset(e, 0, (size_t)nv * sizeof *e);
  gasp_closeness_sources(n, 0, 0, src);
  gasp__msbfs m = {g,    &o->engine, o->undirected, src,    n, NULL, NULL,
                   NULL, e,          &pairs,        &levels};
  if ((rc = gasp__msbfs_run(&m, st, err))) goto out;
  double none = 4294967296.0, r = none; /* above every eccentricity */
  for (gasp_vid v = 0; v < owned; v++)
    if (e[v] && e[v] < r) r = e[v];
  if (dist && (rc = gasp_cluster_allreduce(gasp_dist_cluster(dist), &r, 1,
                                           GASP_REDUCE_MIN, err)))
    goto out;
  if (!(cum = gasp__malloc_array(levels ? levels : 1, sizeof *cum))) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "diameter: out of memory");
    goto out;
  }
  for (uint64_t t = 0; t < levels; t++)
    cum[t] = (t ? cum[t - 1] : 0) + (double)pairs[t];
  info->diameter = levels ? levels - 1 : 0;
  info->radius = r == none ? 0 : (uint64_t)r;
  finish(info, cum, levels, nf, nf_len);
out:
  if (e != ecc) free(e);
  free(src);
  free(pairs);
  free(cum);
  return rc;
}

int gasp_diameter(gasp_graph *g, const gasp_diameter_opts *o, uint32_t *ecc,
                  double *nf, uint64_t nf_len, gasp_diameter_info *info,
                  gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  gasp_diameter_info itmp;
  if (!info) info = &itmp;
  memset(st, 0, sizeof *st);
  memset(info, 0, sizeof *info);
  if (!g || !o) return tk_lib_fail(err, GASP_EINVAL, "no graph or options");
  info->exact = o->exact;
  if (o->engine.engine == GASP_ENGINE_ASYNC)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "the diameter runs on the sync engine (step by step)");
  if (o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "the diameter needs whole supersteps (no --staleness)");
  if (o->exact) return exact(g, o, ecc, nf, nf_len, info, st, err);
  if (o->bits < 4 || o->bits > 16)
    return tk_lib_fail(err, GASP_EINVAL,
                       "HyperLogLog counters take 2^4 to 2^16 registers (bits "
                       "%d)",
                       o->bits);
  return hyperanf(g, o, ecc, nf, nf_len, info, st, err);
}
