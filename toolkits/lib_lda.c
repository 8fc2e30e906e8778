/*
 * lib_lda.c -- gasp_lda (gasp_toolkits.h): latent Dirichlet allocation
 * (Blei, Ng, Jordan 2003) by collapsed Gibbs sampling (Griffiths &
 * Steyvers, "Finding scientific topics", PNAS 2004) as a vertex program on
 * the document-word graph, in the manner of GraphLab's cgs_lda.
 *
 * Graph: documents are the left side, words the right side, one edge per
 * (document, word) entry with its count, whose tokens each carry a topic z
 * (the token arrays of lda.h).  Every vertex holds its topic counts (n_dk
 * for a document, n_wk for a word, int32, rows padded to a multiple of 8
 * topics).  The topic totals n_k are an aggregator over the word
 * vertices, refreshed after every superstep.
 *
 * One superstep of the sync engine is one Gibbs sweep: the apply of a
 * document resamples its tokens in turn from the exact full conditional
 *
 *   p(z_i = k | rest) ~ (n_dk + alpha) (n_wk + beta) / (n_k + W beta)
 *
 * (counts without token i).  Word vertices do nothing; their counts are
 * written by the documents' applies.
 *
 * Sampler (lda_kernel.h): dense, exact, vectorised; per token one pass of
 * K/8 vector multiplies a_k (n_wk + beta) with a_k = (n_dk + alpha) /
 * (n_k + W beta) cached per document, and a branch-free inverse-CDF draw.
 * Chosen by measurement on UCI KOS, one thread, 200 sweeps (bench/lda,
 * bench/README.md): plain exact Gibbs 21-23 M tokens/s at K = 20 and
 * 6-7.5 M at K = 100; SparseLDA's s/r/q buckets (bench/ldasparse.c) 19-26 M
 * and 12-15 M -- on KOS a frequent word has non-zero counts in most of
 * the topics, so the walk over them is not much shorter than the dense
 * pass and costs the list upkeep; this kernel 38-39 M and 22-24.5 M, with
 * the exact sampler's likelihood.  The Metropolis-Hastings samplers
 * (AliasLDA, LightLDA, WarpLDA) are cheaper per token but mix worse per
 * sweep (WarpLDA -8.48 against -8.33 per token after 200 sweeps at
 * K = 100), which the quality bar (within 0.02 of exact) rules out.  An
 * AVX-512 build of the kernel (16 lanes) measured slower on this Zen 4
 * (double-pumped 512-bit units): 17.0 against 19.7 M at K = 100; it stays
 * selectable (opts.kernel "avx512").  The kernel is compiled for AVX2+FMA
 * and for the baseline (target attributes, no per-file flags) and picked
 * at run time.
 *
 * Threads (Hogwild, as Yahoo!LDA and GraphLab's cgs_lda): documents are
 * sampled concurrently; n_wk is updated with relaxed atomic adds and read
 * without locks; each thread keeps its own copy of n_k, taken from the
 * aggregate when it starts its part of a superstep and updated with its
 * own moves, so on one thread the sampler is exact collapsed Gibbs and on
 * T threads it sees the other threads' moves of n_k one sweep late (the
 * AD-LDA approximation of Newman et al. 2009).  The test against a plain
 * serial sampler (tests/test_toolkit_lda.c) bounds the effect.  Vector
 * loads of a count row while another thread adds to one entry read each
 * 4-byte count either before or after the add (aligned 4-byte loads are
 * single-copy atomic on x86-64 and AArch64); under ThreadSanitizer the
 * loads are relaxed atomic loads, which is what they stand for.
 *
 * Across ranks (AD-LDA, Newman et al. 2009): every rank samples the
 * documents it owns (their tokens come from its local graph) and holds
 * every word row; after each sweep the ranks sum their changes to the
 * word rows, so all hold the same rows again.
 *
 * Likelihood: log p(w, z) of Griffiths & Steyvers per token, from an
 * aggregator (parallel over vertices, lgamma tables for small counts).
 */
#include "gasp_toolkits.h"
#include "lda.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__SANITIZE_THREAD__)
#define LDA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LDA_TSAN 1
#endif
#endif
#ifndef LDA_TSAN
#define LDA_TSAN 0
#endif

/* Per-thread state, on its own cache lines. */
typedef struct lda_thread {
  int64_t *nk;    /* topic totals as this thread sees them       */
  float *inv;     /* 1 / (n_k + W beta), 0 in the padding        */
  float *a;       /* (n_dk + alpha) inv_k of the current document */
  float *cum;     /* the running lane sums C_j of the conditional */
  uint64_t seen;  /* superstep whose totals nk holds, plus one    */
  uint64_t moved; /* tokens that changed topic (this superstep)   */
  char pad[16];
} lda_thread;

typedef struct lda_run lda_run;
typedef uint64_t (*lda_kernel)(lda_run *r, lda_thread *t, gasp_vid d,
                               uint64_t iter);

struct lda_run {
  lda_corpus c;
  int K, Kp, threads, shared;
  float alpha, beta, vbeta;
  double alpha_d, beta_d;
  uint64_t seed;
  uint32_t *z;  /* topic of each token */
  int32_t *cnt; /* c.D document rows, then c.W word rows, of Kp counts */
  int nk_id, ll_id;
  lda_thread *th;
  lda_kernel kernel;
  const char *kernel_name;
  lda_lgamma lga, lgb;
  gasp_engine *e;
  gasp_vid D_all;      /* documents of the whole corpus */
  uint64_t tokens_all; /* tokens of the whole corpus */
  /* across ranks: the counts are the program's own (every word row on
   * every rank), reconciled after each sweep */
  gasp_dist *dist;
  int32_t *snap; /* W x Kp word rows as of the last reconciliation */
  double *delta; /* W x K changes, summed over the ranks */
  int64_t *nk_d; /* the topic totals of the reconciled rows */
  /* the caller's callbacks and what they are told */
  const gasp_lda_opts *o;
  gasp_lda_info info;
  int failed; /* status of a collective that failed between sweeps */
  double t_run, t_last;
};

/* ---- the sampling kernel -------------------------------------------- */

/* lda_kernel.h is a template: each inclusion defines sample_doc_<W> for
 * vectors of W floats, compiled here for AVX-512, AVX2 and the baseline
 * and picked at run time. */
#define LK_W 8
#include "lda_kernel.h"
#undef LK_W
#define LK_W 16
#include "lda_kernel.h"
#undef LK_W

#if defined(__x86_64__) && defined(__GNUC__)
#define LDA_X86 1
__attribute__((
    target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))) static uint64_t
kernel_avx512(lda_run *r, lda_thread *t, gasp_vid d, uint64_t iter) {
  return sample_doc_16(r, t, d, iter);
}

__attribute__((target("avx2,fma"))) static uint64_t
kernel_avx2(lda_run *r, lda_thread *t, gasp_vid d, uint64_t iter) {
  return sample_doc_8(r, t, d, iter);
}
#else
#define LDA_X86 0
#endif

static uint64_t kernel_base(lda_run *r, lda_thread *t, gasp_vid d,
                            uint64_t iter) {
  return sample_doc_8(r, t, d, iter);
}

/* AVX2 when the processor has it, else the baseline build of the same
 * kernel; `lanes` is the padding of the topic rows it needs.  want
 * "avx512" or "baseline" picks another where the processor allows. */
static lda_kernel pick_kernel(const char *want, const char **name, int *lanes) {
  *lanes = 8;
#if LDA_X86
  __builtin_cpu_init();
  int has512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
  int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (has512 && want && !strcmp(want, "avx512")) {
    *name = "avx512";
    *lanes = 16;
    return kernel_avx512;
  }
  if (has2 && (!want || strcmp(want, "baseline"))) {
    *name = "avx2";
    return kernel_avx2;
  }
#endif
  (void)want;
  *name = "baseline";
  return kernel_base;
}

/* ---- the vertex program --------------------------------------------- */

/* A thread's first document of a superstep takes the fresh totals. */
static void refresh_totals(lda_run *r, lda_thread *t, const gasp_ctx *ctx,
                           uint64_t iter) {
  const int64_t *agg = r->dist ? r->nk_d : gasp_ctx_aggregate(ctx, r->nk_id);
  memcpy(t->nk, agg, (size_t)r->Kp * sizeof *t->nk);
  for (int k = 0; k < r->K; k++)
    t->inv[k] = 1.0f / ((float)t->nk[k] + r->vbeta);
  t->seen = iter + 1;
}

/* Documents are local ids 0 .. c.D-1 (across ranks, the owned ones come
 * first); words do nothing: their counts move with the documents. */
static void lda_apply(gasp_ctx *ctx, void *v, const void *acc) {
  (void)v;
  (void)acc;
  lda_run *r = gasp_ctx_user(ctx);
  gasp_vid d = gasp_ctx_vertex(ctx);
  if (d >= r->c.D) return;
  lda_thread *t = &r->th[gasp_ctx_thread(ctx)];
  uint64_t iter = gasp_ctx_iteration(ctx);
  if (t->seen != iter + 1) refresh_totals(r, t, ctx, iter);
  uint64_t m = r->kernel(r, t, d, iter);
  __atomic_store_n(&t->moved, __atomic_load_n(&t->moved, __ATOMIC_RELAXED) + m,
                   __ATOMIC_RELAXED);
}

/* Topic totals: the sum of the word rows. */
static void nk_map(const gasp_graph *g, gasp_vid v, const void *vd, void *acc,
                   void *user) {
  (void)g;
  lda_run *r = user;
  if (v < r->c.D) return;
  const int32_t *row = vd;
  int64_t *s = acc;
  for (int k = 0; k < r->K; k++)
    s[k] += row[k];
}

static void nk_combine(void *acc, const void *other, void *user) {
  lda_run *r = user;
  int64_t *s = acc;
  const int64_t *o = other;
  for (int k = 0; k < r->Kp; k++)
    s[k] += o[k];
}

/* ---- the likelihood --------------------------------------------------- */

/* The likelihood's sums over vertices (the lgamma terms of the counts)
 * and the totals, in one pass. */
typedef struct ll_acc {
  double sum;
  int64_t nk[];
} ll_acc;

/* A document's terms: sum_k lgamma(n_dk + alpha) - lgamma(n_d + K alpha). */
static double doc_terms(const lda_run *r, gasp_vid d, const int32_t *row) {
  double x = 0;
  for (int k = 0; k < r->K; k++)
    x += lda_lg(&r->lga, row[k]);
  uint64_t nd = r->c.doc_off[d + 1] - r->c.doc_off[d];
  return x - gasp__lda_lgamma((double)nd + r->K * r->alpha_d);
}

static void ll_map(const gasp_graph *g, gasp_vid v, const void *vd, void *acc,
                   void *user) {
  (void)g;
  lda_run *r = user;
  ll_acc *s = acc;
  const int32_t *row = vd;
  double x = 0;
  if (v < r->c.D) {
    x = doc_terms(r, v, row);
  } else {
    for (int k = 0; k < r->K; k++) {
      x += lda_lg(&r->lgb, row[k]);
      s->nk[k] += row[k];
    }
  }
  s->sum += x;
}

static void ll_combine(void *acc, const void *other, void *user) {
  lda_run *r = user;
  ll_acc *s = acc;
  const ll_acc *o = other;
  s->sum += o->sum;
  for (int k = 0; k < r->K; k++)
    s->nk[k] += o->nk[k];
}

/* log p(w, z) / tokens (Griffiths & Steyvers 2004, eqs. 2 and 3) from the
 * sum of the count terms and the topic totals. */
static double ll_finish(const lda_run *r, double sum, const int64_t *nk) {
  double K = r->K, W = r->c.W, D = r->D_all, a = r->alpha_d, b = r->beta_d;
  double ll = sum;
  ll += K * (gasp__lda_lgamma(W * b) - W * gasp__lda_lgamma(b));
  for (int k = 0; k < r->K; k++)
    ll -= gasp__lda_lgamma((double)nk[k] + W * b);
  ll += D * (gasp__lda_lgamma(K * a) - K * gasp__lda_lgamma(a));
  return ll / (double)r->tokens_all;
}

/* One process: an aggregator over the vertices. */
static int log_likelihood(lda_run *r, double *out) {
  size_t sz = sizeof(ll_acc) + (size_t)r->Kp * sizeof(int64_t);
  ll_acc *s = gasp__malloc(sz);
  if (!s) return GASP_ENOMEM;
  int rc = gasp_engine_aggregate(r->e, r->ll_id, s);
  if (!rc) *out = ll_finish(r, s->sum, s->nk);
  free(s);
  return rc;
}

/* Across ranks (a collective): the reconciled word rows and each rank's
 * own documents (the only document rows it has). */
static int log_likelihood_dist(lda_run *r, double *out) {
  size_t Kp = (size_t)r->Kp;
  double x[1] = {0};
  for (gasp_vid d = 0; d < r->c.D; d++)
    x[0] += doc_terms(r, d, r->cnt + (size_t)d * Kp);
  int rc = gasp_engine_allreduce(r->e, x, 1, GASP_REDUCE_SUM);
  if (rc) return rc;
  const int32_t *words = r->cnt + (size_t)r->c.D * Kp;
  for (gasp_vid w = 0; w < r->c.W; w++)
    for (int k = 0; k < r->K; k++)
      x[0] += lda_lg(&r->lgb, words[(size_t)w * Kp + (size_t)k]);
  *out = ll_finish(r, x[0], r->nk_d);
  return GASP_OK;
}

static int loglik(lda_run *r, double *out) {
  return r->dist ? log_likelihood_dist(r, out) : log_likelihood(r, out);
}

/* ---- across ranks ------------------------------------------------------ */

/* Every rank's changes to the word rows (since the last reconciliation)
 * summed over the ranks and applied, so all ranks hold the same rows
 * again, and the totals recomputed.  Counts travel as doubles (exact
 * below 2^53). */
static int reconcile(lda_run *r) {
  size_t K = (size_t)r->K, Kp = (size_t)r->Kp, W = r->c.W;
  int32_t *words = r->cnt + (size_t)r->c.D * Kp;
  for (size_t w = 0; w < W; w++)
    for (size_t k = 0; k < K; k++)
      r->delta[w * K + k] = (double)(words[w * Kp + k] - r->snap[w * Kp + k]);
  int rc = gasp_engine_allreduce(r->e, r->delta, W * K, GASP_REDUCE_SUM);
  if (rc) return rc;
  memset(r->nk_d, 0, Kp * sizeof *r->nk_d);
  for (size_t w = 0; w < W; w++)
    for (size_t k = 0; k < K; k++) {
      int32_t x = r->snap[w * Kp + k] + (int32_t)r->delta[w * K + k];
      words[w * Kp + k] = r->snap[w * Kp + k] = x;
      r->nk_d[k] += x;
    }
  return GASP_OK;
}

/* ---- between sweeps ------------------------------------------------------ */

static int on_iteration(void *user, const gasp_iter_info *it) {
  lda_run *r = user;
  if (r->dist && (r->failed = reconcile(r))) return 1;
  double now = gasp__lda_now();
  gasp_lda_info *in = &r->info;
  in->sweep = it->iteration;
  in->sweep_seconds = now - r->t_last;
  in->sampling_seconds += in->sweep_seconds;
  in->run_seconds = now - r->t_run;
  in->moved = 0;
  for (int t = 0; t < r->threads; t++) {
    in->moved += __atomic_load_n(&r->th[t].moved, __ATOMIC_RELAXED);
    __atomic_store_n(&r->th[t].moved, 0, __ATOMIC_RELAXED);
  }
  in->loglik = NAN;
  if (r->o->sweep_loglik && (r->failed = loglik(r, &in->loglik))) return 1;
  int stop = 0;
  if (r->o->on_sweep && r->o->on_sweep(r->o->on_sweep_user, in)) stop = 1;
  if (r->o->engine.on_iteration) {
    gasp_iter_info mine = *it;
    mine.residual = in->loglik;
    if (r->o->engine.on_iteration(r->o->engine.on_iteration_user, &mine))
      stop = 1;
  }
  r->t_last = gasp__lda_now(); /* the likelihood is not sampling time */
  return stop;
}

/* ---- setup ------------------------------------------------------------ */

static void *alloc_lines(size_t n, size_t size) {
  void *p = NULL;
  if (gasp__posix_memalign(&p, 64, (n ? n : 1) * size) != 0) return NULL;
  memset(p, 0, (n ? n : 1) * size);
  return p;
}

static int alloc_threads(lda_run *r) {
  r->th = alloc_lines((size_t)r->threads, sizeof *r->th);
  if (!r->th) return -1;
  for (int t = 0; t < r->threads; t++) {
    lda_thread *th = &r->th[t];
    th->nk = alloc_lines((size_t)r->Kp, sizeof *th->nk);
    th->inv = alloc_lines((size_t)r->Kp, sizeof *th->inv);
    th->a = alloc_lines((size_t)r->Kp, sizeof *th->a);
    th->cum = alloc_lines((size_t)r->Kp, sizeof *th->cum);
    if (!th->nk || !th->inv || !th->a || !th->cum) return -1;
  }
  return 0;
}

static void free_threads(lda_run *r) {
  if (!r->th) return;
  for (int t = 0; t < r->threads; t++) {
    free(r->th[t].nk);
    free(r->th[t].inv);
    free(r->th[t].a);
    free(r->th[t].cum);
  }
  free(r->th);
  r->th = NULL;
}

/* Topics drawn uniformly, counts to match (per document from its own
 * stream: the same whichever rank holds it). */
static void init_topics(lda_run *r) {
  const lda_corpus *c = &r->c;
  size_t Kp = (size_t)r->Kp;
  for (gasp_vid d = 0; d < c->D; d++) {
    lda_rng rng = lda_rng_for(r->seed, lda_doc_id(c, d), UINT64_MAX);
    int32_t *ndk = r->cnt + d * Kp;
    for (uint64_t i = c->doc_off[d]; i < c->doc_off[d + 1]; i++) {
      uint32_t k = (uint32_t)(((lda_next(&rng) >> 32) * (uint64_t)r->K) >> 32);
      r->z[i] = k;
      ndk[k]++;
      r->cnt[((size_t)c->D + c->word[i]) * Kp + k]++;
    }
  }
}

/* The engine's failure, as err. */
static int engine_fail(lda_run *r, int rc, gasp_error *err) {
  const gasp_error *e = gasp_engine_last_error(r->e);
  if (e->code && e->msg[0]) {
    if (err) *err = *e;
    return rc;
  }
  return tk_lib_fail(err, rc, "%s", gasp_strerror(rc));
}

/* One process: the corpus is the whole bipartite graph; the counts are
 * the vertex data, summed by two aggregators. */
static int setup_local(lda_run *r, gasp_graph *g, gasp_program *prog,
                       const gasp_engine_opts *eo, gasp_error *err) {
  if (!gasp_graph_is_bipartite(g))
    return tk_lib_fail(err, GASP_EINVAL,
                       "not a bag-of-words corpus (documents on the left side "
                       "of a bipartite graph, words on the right)");
  gasp_vid D = gasp_graph_num_left(g);
  int rc = gasp__lda_corpus_build(&r->c, g, D, gasp_graph_num_vertices(g) - D,
                                  NULL, 0, err);
  if (rc) return rc;
  r->D_all = D;
  r->tokens_all = r->c.tokens;
  if (!r->tokens_all)
    return tk_lib_fail(err, GASP_EINVAL, "the corpus has no tokens");
  prog->vertex_size = (size_t)r->Kp * sizeof(int32_t);
  if ((rc = gasp_engine_new(&r->e, g, prog, eo, err))) return rc;
  r->threads = gasp_engine_threads(r->e);
  r->cnt = gasp_graph_vertex_data(g);
  gasp_aggregator nk_agg = {0}, ll_agg = {0};
  nk_agg.size = (size_t)r->Kp * sizeof(int64_t);
  nk_agg.map_vertex = nk_map;
  nk_agg.combine = nk_combine;
  nk_agg.period_iterations = 1;
  nk_agg.user = r;
  ll_agg.size = sizeof(ll_acc) + (size_t)r->Kp * sizeof(int64_t);
  ll_agg.map_vertex = ll_map;
  ll_agg.combine = ll_combine;
  ll_agg.user = r;
  if (!(r->z = gasp__malloc((r->c.tokens ? r->c.tokens : 1) * sizeof *r->z)) ||
      alloc_threads(r) ||
      gasp_engine_add_aggregator(r->e, &nk_agg, &r->nk_id) != GASP_OK ||
      gasp_engine_add_aggregator(r->e, &ll_agg, &r->ll_id) != GASP_OK)
    return tk_lib_fail(err, GASP_ENOMEM, "lda: out of memory");
  init_topics(r);
  return GASP_OK;
}

/* Checkpoints (a sweep is a superstep): the engine keeps the counts when
 * they are its vertex data (one process) and the aggregators (topic
 * totals); the tokens' topics, and across ranks the count rows and the
 * reconciled word rows and totals, are the program's own.  A sweep's
 * random numbers follow from the seed, the document and the sweep, so
 * with one thread a resumed run samples as the interrupted one would
 * have (with several, Hogwild's interleaving varies from run to run). */
static int checkpoint_state(lda_run *r, gasp_error *err) {
  char key[160];
  snprintf(key, sizeof key, "lda K=%d alpha=%.15g beta=%.15g seed=%llu %s",
           r->K, r->alpha_d, r->beta_d, (unsigned long long)r->seed,
           r->kernel_name);
  size_t kp = (size_t)r->Kp, wk = (size_t)r->c.W * kp;
  int rc = gasp_engine_set_checkpoint_key(r->e, key);
  if (!rc)
    rc = gasp_engine_checkpoint_state(r->e, "lda.z", r->z,
                                      r->c.tokens * sizeof *r->z);
  if (!rc && r->dist)
    rc = gasp_engine_checkpoint_state(
        r->e, "lda.counts", r->cnt,
        ((size_t)r->c.D * kp + wk) * sizeof *r->cnt);
  if (!rc && r->dist)
    rc = gasp_engine_checkpoint_state(r->e, "lda.snap", r->snap,
                                      wk * sizeof *r->snap);
  if (!rc && r->dist)
    rc = gasp_engine_checkpoint_state(r->e, "lda.nk", r->nk_d,
                                      kp * sizeof *r->nk_d);
  return rc ? tk_lib_fail(err, rc, "lda: out of memory") : GASP_OK;
}

/* Across ranks: this rank's documents from its local graph, every word
 * row; the ranks agree that all of them are set up (or all fail) and sum
 * their first counts into the word rows. */
static int setup_dist(lda_run *r, gasp_graph *g, gasp_program *prog,
                      const gasp_engine_opts *eo, gasp_error *err) {
  gasp_vid owned = gasp_graph_num_owned(g), D = 0;
  while (D < owned && gasp_dist_side(r->dist, D) == GASP_SIDE_LEFT)
    D++;
  prog->vertex_size = 0; /* the counts are the program's own */
  int rc = gasp_engine_new(&r->e, g, prog, eo, err);
  if (rc) return rc;
  r->threads = gasp_engine_threads(r->e);
  double docs = D;
  if ((rc = gasp_engine_allreduce(r->e, &docs, 1, GASP_REDUCE_SUM)))
    return engine_fail(r, rc, err);
  r->D_all = (gasp_vid)docs;
  gasp_vid W = (gasp_vid)(gasp_dist_global_vertices(r->dist) - r->D_all);
  gasp_error mine;
  int local = gasp__lda_corpus_build(&r->c, g, D, W, r->dist, r->D_all, &mine);
  size_t wk = (size_t)W * (size_t)r->Kp;
  if (!local &&
      (!(r->z = gasp__malloc((r->c.tokens ? r->c.tokens : 1) * sizeof *r->z)) ||
       !(r->cnt =
             alloc_lines((size_t)D * (size_t)r->Kp + wk, sizeof *r->cnt)) ||
       !(r->snap = gasp__calloc(wk ? wk : 1, sizeof *r->snap)) ||
       !(r->delta =
             gasp__malloc(((size_t)W * (size_t)r->K + 1) * sizeof *r->delta)) ||
       !(r->nk_d = alloc_lines((size_t)r->Kp, sizeof *r->nk_d)) ||
       alloc_threads(r)))
    local = tk_lib_fail(&mine, GASP_ENOMEM, "lda: out of memory");
  double agree[2] = {local ? 1 : 0, (double)r->c.tokens};
  if ((rc = gasp_engine_allreduce(r->e, agree, 2, GASP_REDUCE_SUM)))
    return engine_fail(r, rc, err);
  if (local) {
    if (err) *err = mine;
    return local;
  }
  if (agree[0] > 0)
    return tk_lib_fail(err, GASP_EINVAL,
                       "lda: another rank could not set up its documents");
  r->tokens_all = (uint64_t)agree[1];
  if (!r->tokens_all)
    return tk_lib_fail(err, GASP_EINVAL, "the corpus has no tokens");
  if (r->tokens_all > UINT32_MAX)
    return tk_lib_fail(err, GASP_EINVAL,
                       "%llu tokens: more than 2^32-1 are not supported",
                       (unsigned long long)r->tokens_all);
  init_topics(r);
  if ((rc = reconcile(r))) return engine_fail(r, rc, err);
  return GASP_OK;
}

/* The caller's rows (num_vertices x K, local ids): a document's n_dk, a
 * word's n_wk; across ranks the ghost documents' rows are zero. */
static void copy_counts(const lda_run *r, const gasp_graph *g, uint32_t *out) {
  gasp_vid n = gasp_graph_num_vertices(g);
  size_t K = (size_t)r->K, Kp = (size_t)r->Kp;
  for (gasp_vid v = 0; v < n; v++) {
    const int32_t *row = NULL;
    if (!r->dist || v < r->c.D)
      row = r->cnt + (size_t)v * Kp;
    else if (gasp_dist_side(r->dist, v) == GASP_SIDE_RIGHT)
      row = r->cnt +
            ((size_t)r->c.D + gasp_dist_global_id(r->dist, v) - r->D_all) * Kp;
    for (size_t k = 0; k < K; k++)
      out[(size_t)v * K + k] = row ? (uint32_t)row[k] : 0;
  }
}

/* ---- the call ---------------------------------------------------------- */

void gasp_lda_opts_init(gasp_lda_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->topics = 20;
  o->beta = 0.01;
  o->seed = 1;
}

static int check_opts(const gasp_lda_opts *o, gasp_error *err) {
  if (o->topics < 1 || o->topics > GASP_LDA_MAX_TOPICS)
    return tk_lib_fail(err, GASP_EINVAL, "topics: expected 1..%d, got %d",
                       GASP_LDA_MAX_TOPICS, o->topics);
  if (!(o->alpha >= 0) || !isfinite(o->alpha))
    return tk_lib_fail(err, GASP_EINVAL, "alpha %g is not a positive number",
                       o->alpha);
  if (!(o->beta > 0) || !isfinite(o->beta))
    return tk_lib_fail(err, GASP_EINVAL, "beta %g is not a positive number",
                       o->beta);
  if (o->kernel && strcmp(o->kernel, "avx2") && strcmp(o->kernel, "avx512") &&
      strcmp(o->kernel, "baseline"))
    return tk_lib_fail(err, GASP_EINVAL,
                       "kernel '%s': expected avx2, avx512 or baseline",
                       o->kernel);
  if (o->engine.engine != GASP_ENGINE_SYNC)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "lda runs on the sync engine (one superstep per Gibbs "
                       "sweep)");
  if (o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "lda reconciles the word counts at every sweep (no "
                       "bounded staleness)");
  return GASP_OK;
}

static void free_run(lda_run *r) {
  gasp_engine_free(&r->e);
  if (r->dist) free(r->cnt);
  free(r->snap);
  free(r->delta);
  free(r->nk_d);
  free_threads(r);
  gasp__lda_corpus_free(&r->c);
  gasp__lda_lgamma_free(&r->lga);
  gasp__lda_lgamma_free(&r->lgb);
  free(r->z);
}

int gasp_lda(gasp_graph *g, const gasp_lda_opts *o, uint32_t *counts,
             gasp_lda_info *info, gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (info) {
    memset(info, 0, sizeof *info);
    info->loglik = NAN;
  }
  if (!g || !o || !counts)
    return tk_lib_fail(err, GASP_EINVAL, "no corpus, options or result array");
  int rc = check_opts(o, err);
  if (rc) return rc;

  lda_run r;
  memset(&r, 0, sizeof r);
  r.o = o;
  r.K = o->topics;
  r.alpha_d = o->alpha > 0 ? o->alpha : 50.0 / r.K;
  r.beta_d = o->beta;
  r.alpha = (float)r.alpha_d;
  r.beta = (float)r.beta_d;
  r.seed = o->seed;
  int lanes;
  r.kernel = pick_kernel(o->kernel, &r.kernel_name, &lanes);
  r.Kp = (r.K + lanes - 1) / lanes * lanes;
  gasp_engine_opts eo = o->engine;
  if (!eo.max_iter) eo.max_iter = 200;
  eo.always_active = 1;
  eo.on_iteration = on_iteration;
  eo.on_iteration_user = &r;
  r.dist = eo.dist;
  gasp_program prog = {0};
  prog.apply = lda_apply;
  prog.user = &r;
  if (gasp__lda_lgamma_init(&r.lga, r.alpha_d, 4096) ||
      gasp__lda_lgamma_init(&r.lgb, r.beta_d, 4096)) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "lda: out of memory");
    goto out;
  }
  rc = r.dist ? setup_dist(&r, g, &prog, &eo, err)
              : setup_local(&r, g, &prog, &eo, err);
  if (!rc && (eo.checkpoint_dir || eo.resume_dir))
    rc = checkpoint_state(&r, err);
  if (rc) goto out;
  r.vbeta = (float)(r.c.W * r.beta_d);
  r.shared = r.threads > 1;
  r.info.documents = r.D_all;
  r.info.words = r.c.W;
  r.info.tokens = r.tokens_all;
  r.info.threads = r.threads;
  r.info.kernel = r.kernel_name;
  r.info.loglik = NAN;
  r.t_run = r.t_last = gasp__lda_now();
  rc = gasp_engine_run(r.e, st);
  if (!rc) rc = r.failed;
  if (rc) {
    const gasp_error *e = gasp_engine_last_error(r.e);
    rc = tk_lib_fail(err, rc, "lda: engine run failed: %s",
                     e->code && e->msg[0] ? e->msg : gasp_strerror(rc));
    goto out;
  }
  if ((rc = loglik(&r, &r.info.loglik))) {
    rc = engine_fail(&r, rc, err);
    goto out;
  }
  copy_counts(&r, g, counts);
  if (info) *info = r.info;
out:
  free_run(&r);
  return rc;
}

/* ---- theta and phi ------------------------------------------------------ */

void gasp_lda_theta(const uint32_t *doc_counts, uint64_t docs, int K,
                    double alpha, double *theta) {
  double ka = K * alpha;
  for (uint64_t d = 0; d < docs; d++) {
    const uint32_t *row = doc_counts + d * (uint64_t)K;
    double nd = 0;
    for (int k = 0; k < K; k++)
      nd += row[k];
    for (int k = 0; k < K; k++)
      theta[d * (uint64_t)K + (uint64_t)k] = (row[k] + alpha) / (nd + ka);
  }
}

int gasp_lda_phi(const uint32_t *word_counts, uint64_t words, int K,
                 double beta, double *phi) {
  if (!word_counts || !phi || K < 1) return GASP_EINVAL;
  double *nk = gasp__calloc((size_t)K, sizeof *nk);
  if (!nk) return GASP_ENOMEM;
  for (uint64_t w = 0; w < words; w++)
    for (int k = 0; k < K; k++)
      nk[k] += word_counts[w * (uint64_t)K + (uint64_t)k];
  double wb = (double)words * beta;
  for (uint64_t w = 0; w < words; w++)
    for (int k = 0; k < K; k++) {
      uint64_t i = w * (uint64_t)K + (uint64_t)k;
      phi[i] = (word_counts[i] + beta) / (nk[k] + wb);
    }
  free(nk);
  return GASP_OK;
}
