/*
 * lib_lda_infer.c -- gasp_lda_infer (gasp_toolkits.h): topic mixtures of
 * new documents under a trained LDA model, and held-out perplexity by
 * document completion.
 *
 * Folding in (Griffiths & Steyvers 2004; Heinrich, "Parameter estimation
 * for text analysis", 2005): the topics phi of the model stay fixed and
 * each document's topic assignments are resampled by Gibbs from
 *
 *   p(z_i = k | rest) ~ (n_dk + alpha) phi_wk
 *
 * (n_dk without token i).  Documents are independent given phi, so each
 * document is one vertex update of the sync engine that runs all its
 * sweeps.  theta_d is the average of (n_dk + alpha) / (n_d + K alpha)
 * over the sweeps of the second half (the first half is burn-in).
 *
 * Perplexity, document completion (Wallach, Murray, Salakhutdinov,
 * Mimno, "Evaluation methods for topic models", ICML 2009): each
 * document's tokens are shuffled (seeded; a bag of words has no order to
 * keep), theta is estimated from the first half as above, and the second
 * half is scored with p(w) = sum_k theta_dk phi_wk; perplexity =
 * exp(-sum log p(w) / held-out tokens).  Tokens of words that the model
 * does not know are left out and counted.
 */
#include "gasp_toolkits.h"
#include "lda.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct inf_thread {
  int32_t *ndk;
  double *theta; /* running sum of theta over the kept sweeps */
  float *p;
  uint32_t *z;       /* the document's topics            */
  const float **row; /* the document's phi rows (known words) */
  double ll;         /* held-out log-likelihood          */
  uint64_t heldout;
  char pad[48];
} inf_thread;

typedef struct inf_run {
  lda_corpus c;
  int K, perplexity;
  double alpha;
  uint64_t iters, seed;
  int64_t *model_row; /* corpus word -> row of phi, -1 when unknown */
  float *phi;         /* K floats per word of the corpus the model has */
  double *theta;      /* D x K output (the caller's) */
  inf_thread *th;
  int threads;
} inf_run;

static int sample_topic(const float *p, int K, float u) {
  for (int k = 0; k < K - 1; k++) {
    if (u < p[k]) return k;
    u -= p[k];
  }
  return K - 1;
}

static void infer_doc(inf_run *r, inf_thread *t, gasp_vid d) {
  const int K = r->K;
  const float alpha = (float)r->alpha;
  uint32_t n = 0;
  for (uint64_t i = r->c.doc_off[d]; i < r->c.doc_off[d + 1]; i++) {
    int64_t mr = r->model_row[r->c.word[i]];
    if (mr >= 0) t->row[n++] = r->phi + (size_t)mr * (size_t)K;
  }
  lda_rng rng = lda_rng_for(r->seed, d, 0);
  /* document completion: a seeded shuffle, the first half estimates */
  uint32_t nest = n;
  if (r->perplexity) {
    for (uint32_t i = n; i > 1; i--) {
      uint32_t j = (uint32_t)(((lda_next(&rng) >> 32) * i) >> 32);
      const float *tmp = t->row[i - 1];
      t->row[i - 1] = t->row[j];
      t->row[j] = tmp;
    }
    nest = (n + 1) / 2;
  }
  memset(t->ndk, 0, (size_t)K * sizeof *t->ndk);
  memset(t->theta, 0, (size_t)K * sizeof *t->theta);
  for (uint32_t i = 0; i < nest; i++) {
    uint32_t k = (uint32_t)(((lda_next(&rng) >> 32) * (uint64_t)K) >> 32);
    t->z[i] = k;
    t->ndk[k]++;
  }
  uint64_t kept = 0;
  double norm = 1.0 / ((double)nest + K * r->alpha);
  for (uint64_t it = 0; it < r->iters; it++) {
    for (uint32_t i = 0; i < nest; i++) {
      const float *phi = t->row[i];
      t->ndk[t->z[i]]--;
      float total = 0;
      for (int k = 0; k < K; k++) {
        t->p[k] = ((float)t->ndk[k] + alpha) * phi[k];
        total += t->p[k];
      }
      int k = sample_topic(t->p, K, lda_uniform(&rng) * total);
      t->z[i] = (uint32_t)k;
      t->ndk[k]++;
    }
    if (it >= r->iters / 2) {
      for (int k = 0; k < K; k++)
        t->theta[k] += (t->ndk[k] + r->alpha) * norm;
      kept++;
    }
  }
  double *out = r->theta + (size_t)d * (size_t)K;
  for (int k = 0; k < K; k++)
    out[k] = kept ? t->theta[k] / (double)kept : (t->ndk[k] + r->alpha) * norm;
  for (uint32_t i = nest; i < n; i++) {
    double pw = 0;
    for (int k = 0; k < K; k++)
      pw += out[k] * t->row[i][k];
    t->ll += log(pw);
    t->heldout++;
  }
}

static void inf_apply(gasp_ctx *ctx, void *v, const void *acc) {
  (void)v;
  (void)acc;
  inf_run *r = gasp_ctx_user(ctx);
  gasp_vid d = gasp_ctx_vertex(ctx);
  if (d < r->c.D) infer_doc(r, &r->th[gasp_ctx_thread(ctx)], d);
}

static int inf_alloc(inf_run *r, uint64_t max_doc) {
  /* a cache line each: the held-out sums are written at every document */
  void *p = NULL;
  if (gasp__posix_memalign(&p, 64, (size_t)r->threads * sizeof *r->th))
    return -1;
  memset(p, 0, (size_t)r->threads * sizeof *r->th);
  r->th = p;
  for (int t = 0; t < r->threads; t++) {
    inf_thread *th = &r->th[t];
    th->ndk = gasp__calloc((size_t)r->K, sizeof *th->ndk);
    th->theta = gasp__calloc((size_t)r->K, sizeof *th->theta);
    th->p = gasp__calloc((size_t)r->K, sizeof *th->p);
    th->z = gasp__malloc((max_doc + 1) * sizeof *th->z);
    th->row = gasp__malloc((max_doc + 1) * sizeof *th->row);
    if (!th->ndk || !th->theta || !th->p || !th->z || !th->row) return -1;
  }
  return 0;
}

static void inf_free(inf_run *r) {
  if (r->th)
    for (int t = 0; t < r->threads; t++) {
      free(r->th[t].ndk);
      free(r->th[t].theta);
      free(r->th[t].p);
      free(r->th[t].z);
      free(r->th[t].row);
    }
  free(r->th);
  free(r->model_row);
  free(r->phi);
  gasp__lda_corpus_free(&r->c);
}

static int check_model(const gasp_lda_model *m, gasp_error *err) {
  if (m->topics < 1 || m->topics > GASP_LDA_MAX_TOPICS)
    return tk_lib_fail(err, GASP_EINVAL,
                       "model: topics: expected 1..%d, got %d",
                       GASP_LDA_MAX_TOPICS, m->topics);
  if (m->words && (!m->word_ids || !m->phi))
    return tk_lib_fail(err, GASP_EINVAL, "model: no word ids or phi");
  for (uint64_t w = 0; w < m->words; w++) {
    if (w && m->word_ids[w] <= m->word_ids[w - 1])
      return tk_lib_fail(err, GASP_EINVAL,
                         "model: word id %llu (row %llu) is not above the "
                         "previous row's",
                         (unsigned long long)m->word_ids[w],
                         (unsigned long long)w);
    for (int k = 0; k < m->topics; k++) {
      double x = m->phi[w * (uint64_t)m->topics + (uint64_t)k];
      if (!(x >= 0) || !isfinite(x))
        return tk_lib_fail(err, GASP_EINVAL,
                           "model: phi %g of word %llu, topic %d is not a "
                           "non-negative number",
                           x, (unsigned long long)m->word_ids[w], k);
    }
  }
  return GASP_OK;
}

/* Each corpus word's row of the model (matched by id; the model's ids
 * ascend), its phi row copied to single precision; counts the tokens of
 * unknown words. */
static int match_words(inf_run *r, const gasp_graph *g, const gasp_lda_model *m,
                       uint64_t *unknown) {
  gasp_vid D = r->c.D, W = r->c.W;
  size_t K = (size_t)r->K;
  r->model_row = gasp__malloc(((size_t)W + 1) * sizeof *r->model_row);
  if (!r->model_row) return -1;
  uint64_t known = 0;
  for (gasp_vid w = 0; w < W; w++) {
    gasp_gid id = gasp_graph_gid(g, D + w);
    uint64_t lo = 0, hi = m->words;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (m->word_ids[mid] < id)
        lo = mid + 1;
      else
        hi = mid;
    }
    r->model_row[w] = lo < m->words && m->word_ids[lo] == id ? (int64_t)lo : -1;
    known += r->model_row[w] >= 0;
  }
  r->phi = gasp__malloc(((size_t)known + 1) * K * sizeof *r->phi);
  if (!r->phi) return -1;
  int64_t next = 0;
  for (gasp_vid w = 0; w < W; w++) {
    if (r->model_row[w] < 0) continue;
    const double *src = m->phi + (size_t)r->model_row[w] * K;
    for (size_t k = 0; k < K; k++)
      r->phi[(size_t)next * K + k] = (float)src[k];
    r->model_row[w] = next++;
  }
  *unknown = 0;
  for (uint64_t i = 0; i < r->c.tokens; i++)
    *unknown += r->model_row[r->c.word[i]] < 0;
  return 0;
}

void gasp_lda_infer_opts_init(gasp_lda_infer_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->sweeps = 100;
  o->seed = 1;
}

int gasp_lda_infer(gasp_graph *g, const gasp_lda_infer_opts *o,
                   const gasp_lda_model *m, double *theta,
                   gasp_lda_infer_info *info, gasp_run_stats *stats,
                   gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (info) {
    memset(info, 0, sizeof *info);
    info->perplexity = NAN;
  }
  if (!g || !o || !m || !theta)
    return tk_lib_fail(err, GASP_EINVAL,
                       "no corpus, options, model or result array");
  int rc = check_model(m, err);
  if (rc) return rc;
  if (!(o->alpha >= 0) || !isfinite(o->alpha))
    return tk_lib_fail(err, GASP_EINVAL, "alpha %g is not a positive number",
                       o->alpha);
  if (!o->sweeps)
    return tk_lib_fail(err, GASP_EINVAL, "sweeps: must be at least 1");
  if (o->engine.dist)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "lda inference runs on one process (documents are "
                       "independent: give each process its own)");
  if (!gasp_graph_is_bipartite(g))
    return tk_lib_fail(err, GASP_EINVAL,
                       "not a bag-of-words corpus (documents on the left side "
                       "of a bipartite graph, words on the right)");
  inf_run r;
  memset(&r, 0, sizeof r);
  gasp_engine *e = NULL;
  gasp_vid D = gasp_graph_num_left(g);
  if ((rc = gasp__lda_corpus_build(&r.c, g, D, gasp_graph_num_vertices(g) - D,
                                   NULL, 0, err)))
    goto out;
  if (!r.c.tokens) {
    rc = tk_lib_fail(err, GASP_EINVAL, "the corpus has no tokens");
    goto out;
  }
  r.K = m->topics;
  r.alpha = o->alpha > 0 ? o->alpha : 50.0 / r.K;
  r.iters = o->sweeps;
  r.seed = o->seed;
  r.perplexity = o->perplexity;
  r.theta = theta;
  uint64_t unknown = 0, max_doc = 0;
  if (match_words(&r, g, m, &unknown)) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "lda-infer: out of memory");
    goto out;
  }
  for (gasp_vid d = 0; d < D; d++) {
    uint64_t n = r.c.doc_off[d + 1] - r.c.doc_off[d];
    max_doc = n > max_doc ? n : max_doc;
  }
  gasp_program prog = {0};
  prog.apply = inf_apply;
  prog.user = &r;
  gasp_engine_opts eo = o->engine;
  eo.engine = GASP_ENGINE_SYNC;
  eo.always_active = 1;
  eo.max_iter = 1; /* one superstep: every document runs its sweeps */
  if ((rc = gasp_engine_new(&e, g, &prog, &eo, err))) goto out;
  r.threads = gasp_engine_threads(e);
  if (inf_alloc(&r, max_doc)) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "lda-infer: out of memory");
    goto out;
  }
  if ((rc = gasp_engine_run(e, st))) {
    const gasp_error *le = gasp_engine_last_error(e);
    rc = tk_lib_fail(err, rc, "engine run failed: %s",
                     le->code && le->msg[0] ? le->msg : gasp_strerror(rc));
    goto out;
  }
  double ll = 0;
  uint64_t heldout = 0;
  for (int t = 0; t < r.threads; t++) {
    ll += r.th[t].ll;
    heldout += r.th[t].heldout;
  }
  if (info) {
    info->documents = D;
    info->tokens = r.c.tokens;
    info->unknown_tokens = unknown;
    info->heldout_tokens = heldout;
    info->perplexity = heldout ? exp(-ll / (double)heldout) : NAN;
    info->threads = r.threads;
  }
out:
  gasp_engine_free(&e);
  inf_free(&r);
  return rc;
}
