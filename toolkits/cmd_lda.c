/*
 * cmd_lda.c -- `gasp lda`: latent Dirichlet allocation (Blei, Ng, Jordan
 * 2003) by collapsed Gibbs sampling (Griffiths & Steyvers, "Finding
 * scientific topics", PNAS 2004) as a vertex program on the
 * document-word graph, in the manner of GraphLab's cgs_lda.
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
 * sweep (the anchors: WarpLDA -8.48 against -8.33 per token after
 * 200 sweeps at K = 100), which the quality bar (within 0.02 of exact)
 * rules out.  An AVX-512 build of the kernel (16 lanes) measured slower on
 * this Zen 4 (double-pumped 512-bit units): 17.0 against 19.7 M at
 * K = 100; it stays selectable (GASP_LDA_KERNEL=avx512).  The kernel is
 * compiled for AVX2+FMA and for the baseline and picked at run time.
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
 * Likelihood: log p(w, z) of Griffiths & Steyvers per token, from an
 * aggregator (parallel over vertices, lgamma tables for small counts).
 */
#include "lda.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
  int32_t *cnt; /* vertex data: D + W rows of Kp counts */
  int nk_id, ll_id;
  lda_thread *th;
  lda_kernel kernel;
  lda_lgamma lga, lgb;
  gasp_engine *e;
  /* across ranks (AD-LDA, Newman et al. 2009): every rank holds the whole
   * corpus and every count row, samples the documents it owns, and after
   * each sweep the ranks sum their changes to the word rows */
  gasp_dist *dist;
  int32_t *snap; /* W x Kp word rows as of the last reconciliation */
  double *delta; /* W x K changes, summed over the ranks */
  int64_t *nk_d; /* the topic totals of the reconciled rows */
  /* reporting */
  FILE *trace;
  cli_progress progress;
  int want_ll;
  double t0, t_last, sample_s, last_ll;
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
 * kernel; `lanes` is the padding of the topic rows it needs.
 * GASP_LDA_KERNEL=avx512|baseline picks another (benchmarks, tests). */
static lda_kernel pick_kernel(int K, const char **name, int *lanes) {
  const char *want = getenv("GASP_LDA_KERNEL");
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
  (void)K;
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

static void lda_apply(gasp_ctx *ctx, void *v, const void *acc) {
  (void)v;
  (void)acc;
  lda_run *r = gasp_ctx_user(ctx);
  gasp_vid d = gasp_ctx_vertex(ctx);
  if (r->dist) d = gasp_dist_global_id(r->dist, d); /* the corpus is whole */
  if (d >= r->c.D) return; /* words: their counts move with the documents */
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

/* The likelihood's sums over vertices (the lgamma terms of the counts)
 * and the totals, in one pass. */
typedef struct ll_acc {
  double sum;
  int64_t nk[];
} ll_acc;

static void ll_map(const gasp_graph *g, gasp_vid v, const void *vd, void *acc,
                   void *user) {
  (void)g;
  lda_run *r = user;
  ll_acc *s = acc;
  const int32_t *row = vd;
  double x = 0;
  if (v < r->c.D) {
    for (int k = 0; k < r->K; k++)
      x += lda_lg(&r->lga, row[k]);
    uint64_t nd = r->c.doc_off[v + 1] - r->c.doc_off[v];
    x -= lda_lgamma_slow((double)nd + r->K * r->alpha_d);
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

/* log p(w, z) / tokens (Griffiths & Steyvers 2004, eqs. 2 and 3). */
static double log_likelihood(lda_run *r) {
  size_t sz = sizeof(ll_acc) + (size_t)r->Kp * sizeof(int64_t);
  ll_acc *s = malloc(sz);
  if (!s || gasp_engine_aggregate(r->e, r->ll_id, s) != GASP_OK) {
    free(s);
    return NAN;
  }
  double K = r->K, W = r->c.W, D = r->c.D, a = r->alpha_d, b = r->beta_d;
  double ll = s->sum;
  ll += K * (lda_lgamma_slow(W * b) - W * lda_lgamma_slow(b));
  for (int k = 0; k < r->K; k++)
    ll -= lda_lgamma_slow((double)s->nk[k] + W * b);
  ll += D * (lda_lgamma_slow(K * a) - K * lda_lgamma_slow(a));
  free(s);
  return ll / (double)r->c.tokens;
}

/* Across ranks, after a sweep: every rank's changes to the word rows
 * (since the last reconciliation) summed over the ranks and applied, so
 * all ranks hold the same rows again, and the totals recomputed.  Counts
 * travel as doubles (exact below 2^53). */
static int reconcile(lda_run *r) {
  size_t K = (size_t)r->K, Kp = (size_t)r->Kp, W = r->c.W;
  int32_t *words = r->cnt + (size_t)r->c.D * Kp;
  for (size_t w = 0; w < W; w++)
    for (size_t k = 0; k < K; k++)
      r->delta[w * K + k] = (double)(words[w * Kp + k] - r->snap[w * Kp + k]);
  if (gasp_engine_allreduce(r->e, r->delta, W * K, GASP_REDUCE_SUM)) return -1;
  memset(r->nk_d, 0, Kp * sizeof *r->nk_d);
  for (size_t w = 0; w < W; w++)
    for (size_t k = 0; k < K; k++) {
      int32_t x = r->snap[w * Kp + k] + (int32_t)r->delta[w * K + k];
      words[w * Kp + k] = r->snap[w * Kp + k] = x;
      r->nk_d[k] += x;
    }
  return 0;
}

/* Across ranks: the likelihood from the reconciled word rows and each
 * rank's own documents (the only rows of them it keeps current). */
static double log_likelihood_dist(lda_run *r) {
  size_t Kp = (size_t)r->Kp;
  double x[1] = {0};
  for (gasp_vid v = 0; v < gasp_graph_num_owned(gasp_dist_graph(r->dist));
       v++) {
    gasp_vid d = gasp_dist_global_id(r->dist, v);
    if (d >= r->c.D) continue;
    const int32_t *row = r->cnt + (size_t)d * Kp;
    for (int k = 0; k < r->K; k++)
      x[0] += lda_lg(&r->lga, row[k]);
    uint64_t nd = r->c.doc_off[d + 1] - r->c.doc_off[d];
    x[0] -= lda_lgamma_slow((double)nd + r->K * r->alpha_d);
  }
  if (gasp_engine_allreduce(r->e, x, 1, GASP_REDUCE_SUM)) return NAN;
  double ll = x[0];
  for (gasp_vid w = 0; w < r->c.W; w++)
    for (int k = 0; k < r->K; k++)
      ll += lda_lg(&r->lgb, r->cnt[((size_t)r->c.D + w) * Kp + (size_t)k]);
  double K = r->K, W = r->c.W, D = r->c.D, a = r->alpha_d, b = r->beta_d;
  ll += K * (lda_lgamma_slow(W * b) - W * lda_lgamma_slow(b));
  for (int k = 0; k < r->K; k++)
    ll -= lda_lgamma_slow((double)r->nk_d[k] + W * b);
  ll += D * (lda_lgamma_slow(K * a) - K * lda_lgamma_slow(a));
  return ll / (double)r->c.tokens;
}

static int on_iteration(void *user, const gasp_iter_info *info) {
  lda_run *r = user;
  if (r->dist && reconcile(r)) return 1; /* the run reports the error */
  double now = cli_now(), dt = now - r->t_last;
  r->sample_s += dt;
  uint64_t moved = 0;
  for (int t = 0; t < r->threads; t++) {
    moved += __atomic_load_n(&r->th[t].moved, __ATOMIC_RELAXED);
    __atomic_store_n(&r->th[t].moved, 0, __ATOMIC_RELAXED);
  }
  double tps = dt > 0 ? (double)r->c.tokens / dt : 0;
  if (r->want_ll)
    r->last_ll = r->dist ? log_likelihood_dist(r) : log_likelihood(r);
  if (r->trace)
    fprintf(r->trace, "%llu\t%u\t%llu\t%.10g\t%.6f\t%.0f\n",
            (unsigned long long)info->iteration, r->c.D,
            (unsigned long long)moved, r->last_ll, now - r->t0, tps);
  if (r->progress.enabled) {
    fprintf(stderr,
            "\r\033[Kgasp: lda: iteration %llu, log-likelihood/token %.4f, "
            "%.1f M tokens/s",
            (unsigned long long)info->iteration, r->last_ll, tps / 1e6);
    fflush(stderr);
    r->progress.drawn = 1;
  }
  r->t_last = cli_now(); /* the likelihood is not sampling time */
  return 0;
}

/* ---- setup ------------------------------------------------------------ */

static int alloc_threads(lda_run *r) {
  r->th = tk_calloc_lines((size_t)r->threads, sizeof *r->th);
  if (!r->th) return -1;
  for (int t = 0; t < r->threads; t++) {
    lda_thread *th = &r->th[t];
    th->nk = tk_calloc_lines((size_t)r->Kp, sizeof *th->nk);
    th->inv = tk_calloc_lines((size_t)r->Kp, sizeof *th->inv);
    th->a = tk_calloc_lines((size_t)r->Kp, sizeof *th->a);
    th->cum = tk_calloc_lines((size_t)r->Kp, sizeof *th->cum);
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

/* Topics drawn uniformly, counts to match. */
static void init_topics(lda_run *r) {
  const lda_corpus *c = &r->c;
  size_t Kp = (size_t)r->Kp;
  for (gasp_vid d = 0; d < c->D; d++) {
    lda_rng rng = lda_rng_for(r->seed, d, UINT64_MAX);
    int32_t *ndk = r->cnt + d * Kp;
    for (uint64_t i = c->doc_off[d]; i < c->doc_off[d + 1]; i++) {
      uint32_t k = (uint32_t)(((lda_next(&rng) >> 32) * (uint64_t)r->K) >> 32);
      r->z[i] = k;
      ndk[k]++;
      r->cnt[((size_t)c->D + c->word[i]) * Kp + k]++;
    }
  }
}

/* ---- outputs ------------------------------------------------------------ */

static int write_doc_topic(const lda_run *r, const gasp_graph *g,
                           const char *path) {
  lda_out o;
  int rc = lda_out_open(&o, path);
  if (rc) return rc;
  double ka = r->K * r->alpha_d;
  for (gasp_vid d = 0; d < r->c.D; d++) {
    const int32_t *row = r->cnt + (size_t)d * (size_t)r->Kp;
    double nd = (double)(r->c.doc_off[d + 1] - r->c.doc_off[d]);
    fprintf(o.f, "%llu", (unsigned long long)gasp_graph_gid(g, d));
    for (int k = 0; k < r->K; k++)
      fprintf(o.f, "\t%.6g", (row[k] + r->alpha_d) / (nd + ka));
    fputc('\n', o.f);
  }
  return lda_out_close(&o, 0);
}

static int write_word_topic(const lda_run *r, const gasp_graph *g,
                            const char *path, int counts, const int64_t *nk) {
  lda_out o;
  int rc = lda_out_open(&o, path);
  if (rc) return rc;
  double wb = r->c.W * r->beta_d;
  fprintf(o.f,
          "# gasp-lda topics=%d alpha=%.17g beta=%.17g words=%u tokens=%llu "
          "values=%s\n",
          r->K, r->alpha_d, r->beta_d, r->c.W, (unsigned long long)r->c.tokens,
          counts ? "counts" : "phi");
  for (gasp_vid w = 0; w < r->c.W; w++) {
    const int32_t *row = r->cnt + ((size_t)r->c.D + w) * (size_t)r->Kp;
    fprintf(o.f, "%llu", (unsigned long long)gasp_graph_gid(g, r->c.D + w));
    for (int k = 0; k < r->K; k++) {
      if (counts)
        fprintf(o.f, "\t%d", row[k]);
      else
        fprintf(o.f, "\t%.9g", (row[k] + r->beta_d) / ((double)nk[k] + wb));
    }
    fputc('\n', o.f);
  }
  return lda_out_close(&o, 0);
}

/* Each topic's n most frequent words: "topic k<TAB>word word ...". */
static int print_top_words(const lda_run *r, const gasp_graph *g, int n,
                           FILE *f) {
  if (n > (int)r->c.W) n = (int)r->c.W;
  gasp_vid *best = malloc((size_t)(n ? n : 1) * sizeof *best);
  if (!best) return -1;
  for (int k = 0; k < r->K; k++) {
    int have = 0;
    for (gasp_vid w = 0; w < r->c.W; w++) {
      int32_t x = r->cnt[((size_t)r->c.D + w) * (size_t)r->Kp + (size_t)k];
      int pos = have;
      /* insertion into the sorted top list; ties by smaller word first */
      while (
          pos > 0 &&
          r->cnt[((size_t)r->c.D + best[pos - 1]) * (size_t)r->Kp + (size_t)k] <
              x)
        pos--;
      if (pos >= n) continue;
      if (have < n) have++;
      memmove(best + pos + 1, best + pos,
              (size_t)(have - 1 - pos) * sizeof *best);
      best[pos] = w;
    }
    fprintf(f, "topic %d\t", k);
    for (int i = 0; i < have; i++) {
      const char *name = gasp_graph_name(g, r->c.D + best[i]);
      if (name)
        fprintf(f, "%s%s", i ? " " : "", name);
      else
        fprintf(f, "%s%llu", i ? " " : "",
                (unsigned long long)gasp_graph_gid(g, r->c.D + best[i]));
    }
    fputc('\n', f);
  }
  free(best);
  return 0;
}

/* ---- command line ------------------------------------------------------- */

static const char help[] =
    "usage: gasp lda [options] -i CORPUS\n\n"
    "Topics by collapsed Gibbs sampling (Griffiths & Steyvers 2004): an exact\n"
    "dense sampler, vectorised, documents in parallel (word-topic counts\n"
    "shared without locks, topic totals refreshed every sweep).  Input: UCI\n"
    "bag-of-words (docword.*), LDA-C (*.ldac) or 'doc word count' triples\n"
    "(detected by name or first line; --format uci|ldac|triples), gzip read\n"
    "transparently; --vocab names the words.\n\n"
    "options:\n"
    "  -k, --topics K       topics (20)\n"
    "      --alpha A        document-topic prior (50/K)\n"
    "      --beta B         topic-word prior (0.01)\n"
    "      --iters N        Gibbs sweeps (200; also --max-iter)\n"
    "      --top-words N    print each topic's N most frequent words\n"
    "  -o, --output PREFIX  write PREFIX.doc-topic.tsv (theta: 'doc<TAB>K\n"
    "                       values') and PREFIX.word-topic.tsv (the model: a\n"
    "                       '# gasp-lda ...' header, then "
    "'word<TAB>phi_1..K')\n"
    "      --counts         word-topic counts n_wk instead of phi\n"
    "      --trace FILE     per sweep: iteration, documents, tokens moved,\n"
    "                       log-likelihood per token, seconds, tokens/s\n"
    "      --seed N         random seed (1)\n" CLI_COMMON_HELP
    "Summary (stderr, or --json on stdout): log p(w,z) per token after the\n"
    "last sweep, tokens/s of the sweeps (likelihood evaluation excluded).\n"
    "With --json the top words go to stderr.\n";

enum {
  OPT_TOPICS = OPT_FIRST_PRIVATE,
  OPT_ALPHA,
  OPT_BETA,
  OPT_ITERS,
  OPT_TOP,
  OPT_COUNTS
};

typedef struct lda_args {
  int K, top;
  double alpha, beta;
  int counts;
} lda_args;

static int parse(int argc, char **argv, tk_opts *o, lda_args *a) {
  static const struct option opts[] = {
      TK_OPTIONS,
      {"topics", required_argument, 0, OPT_TOPICS},
      {"alpha", required_argument, 0, OPT_ALPHA},
      {"beta", required_argument, 0, OPT_BETA},
      {"iters", required_argument, 0, OPT_ITERS},
      {"top-words", required_argument, 0, OPT_TOP},
      {"counts", no_argument, 0, OPT_COUNTS},
      {0, 0, 0, 0}};
  int opt;
  optind = 1;
  while ((opt = cli_getopt(argc, argv, CLI_COMMON_SHORT "k:", opts)) != -1) {
    if (opt == CLI_OPT_BAD) return EXIT_USAGE;
    if (opt == 'h') {
      fputs(help, stdout);
      return TK_HELP_SHOWN;
    }
    int r = tk_opt(o, opt, optarg);
    if (r < 0) return EXIT_USAGE;
    if (r > 0) continue;
    switch (opt) {
    case 'k':
    case OPT_TOPICS:
      if (cli_parse_int("--topics", optarg, &a->K)) return EXIT_USAGE;
      if (a->K < 1 || a->K > LDA_MAX_TOPICS) {
        cli_error("--topics: expected 1..%d, got %d", LDA_MAX_TOPICS, a->K);
        return EXIT_USAGE;
      }
      break;
    case OPT_ALPHA:
    case OPT_BETA: {
      double *x = opt == OPT_ALPHA ? &a->alpha : &a->beta;
      const char *name = opt == OPT_ALPHA ? "--alpha" : "--beta";
      if (cli_parse_double(name, optarg, x)) return EXIT_USAGE;
      if (!(*x > 0) || !isfinite(*x)) {
        cli_error("%s: must be a positive number", name);
        return EXIT_USAGE;
      }
      break;
    }
    case OPT_ITERS:
      if (cli_parse_u64("--iters", optarg, &o->eng.max_iter)) return EXIT_USAGE;
      break;
    case OPT_TOP:
      if (cli_parse_int("--top-words", optarg, &a->top)) return EXIT_USAGE;
      if (a->top < 0) {
        cli_error("--top-words: must not be negative");
        return EXIT_USAGE;
      }
      break;
    case OPT_COUNTS: a->counts = 1; break;
    default: fputs(help, stderr); return EXIT_USAGE;
    }
  }
  if (cli_positional(&o->c, argc, argv)) return EXIT_USAGE;
  if (o->eng.engine != GASP_ENGINE_SYNC) {
    cli_error("lda: runs on the sync engine (one superstep per Gibbs sweep)");
    return EXIT_USAGE;
  }
  return tk_dist_launch(o); /* refuses --np: dist_ok is not set */
}

/* Across ranks, for the outputs: every document row, each from its owner
 * (the other ranks' copies are stale), summed into every rank. */
static int gather_docs(lda_run *r) {
  size_t K = (size_t)r->K, Kp = (size_t)r->Kp, D = r->c.D;
  double *x = calloc(D * K + 1, sizeof *x);
  if (!x) {
    cli_error("lda: out of memory");
    return EXIT_RUNTIME;
  }
  gasp_graph *l = gasp_dist_graph(r->dist);
  for (gasp_vid v = 0; v < gasp_graph_num_owned(l); v++) {
    gasp_vid d = gasp_dist_global_id(r->dist, v);
    if (d < D)
      for (size_t k = 0; k < K; k++)
        x[(size_t)d * K + k] = r->cnt[(size_t)d * Kp + k];
  }
  if (gasp_engine_allreduce(r->e, x, D * K, GASP_REDUCE_SUM)) {
    free(x);
    cli_error("lda: %s", gasp_engine_last_error(r->e)->msg);
    return EXIT_RUNTIME;
  }
  for (size_t d = 0; d < D; d++)
    for (size_t k = 0; k < K; k++)
      r->cnt[d * Kp + k] = (int32_t)x[d * K + k];
  free(x);
  return 0;
}

static char *suffixed(const char *prefix, const char *suffix) {
  size_t n = strlen(prefix) + strlen(suffix) + 1;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s%s", prefix, suffix);
  return p;
}

int cmd_lda(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_GPU |
               TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS);
  lda_args a = {20, 0, -1, 0.01, 0};
  o.dist_ok = 1; /* across ranks: AD-LDA over the owned documents */
  int rc = parse(argc, argv, &o, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (!o.eng.max_iter) o.eng.max_iter = 200;
  if (a.alpha < 0) a.alpha = 50.0 / a.K;
  if (o.c.output && !strcmp(o.c.output, "-")) {
    cli_error("lda: -o takes a file name prefix, not '-'");
    return EXIT_USAGE;
  }
  lda_corpus_format(&o.c);

  lda_run r;
  memset(&r, 0, sizeof r);
  gasp_graph *g = NULL;
  char *doc_path = NULL, *word_path = NULL;
  double load_s = 0;
  int64_t *nk = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  r.dist = o.eng.dist;
  gasp_graph *gg = r.dist ? o.d.global : g; /* the whole corpus */
  int root = tk_is_root(&o);
  if ((rc = lda_corpus_build(&r.c, gg, o.c.input))) goto out;
  r.K = a.K;
  r.alpha_d = a.alpha;
  r.beta_d = a.beta;
  r.alpha = (float)a.alpha;
  r.beta = (float)a.beta;
  r.vbeta = (float)(r.c.W * a.beta);
  r.seed = o.c.seed;
  const char *kname;
  int lanes;
  r.kernel = pick_kernel(a.K, &kname, &lanes);
  r.Kp = (a.K + lanes - 1) / lanes * lanes;
  r.z = malloc(r.c.tokens * sizeof *r.z);
  if (!r.z || lda_lgamma_init(&r.lga, a.alpha, 4096) ||
      lda_lgamma_init(&r.lgb, a.beta, 4096)) {
    cli_error("lda: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }

  gasp_program prog = {0};
  /* across ranks the counts are the program's own (every rank has every
   * row): the engine only schedules the owned documents */
  prog.vertex_size = r.dist ? 0 : (size_t)r.Kp * sizeof(int32_t);
  prog.apply = lda_apply;
  prog.user = &r;
  o.eng.always_active = 1;
  o.eng.on_iteration = on_iteration;
  o.eng.on_iteration_user = &r;
  if ((rc = tk_engine_new(&r.e, g, &prog, &o))) goto out;
  r.threads = gasp_engine_threads(r.e);
  r.shared = r.threads > 1;
  size_t rows = (size_t)r.c.D + r.c.W, wk = (size_t)r.c.W * (size_t)r.Kp;
  if (r.dist) {
    r.cnt = tk_calloc_lines(rows * (size_t)r.Kp, sizeof *r.cnt);
    r.snap = malloc((wk ? wk : 1) * sizeof *r.snap);
    r.delta = malloc(((size_t)r.c.W * (size_t)r.K + 1) * sizeof *r.delta);
    r.nk_d = tk_calloc_lines((size_t)r.Kp, sizeof *r.nk_d);
    if (!r.cnt || !r.snap || !r.delta || !r.nk_d || alloc_threads(&r)) {
      cli_error("lda: out of memory");
      rc = EXIT_RUNTIME;
      goto out;
    }
  } else {
    r.cnt = gasp_graph_vertex_data(g);
  }
  gasp_aggregator nk_agg = {0}, ll_agg = {0};
  nk_agg.size = (size_t)r.Kp * sizeof(int64_t);
  nk_agg.map_vertex = nk_map;
  nk_agg.combine = nk_combine;
  nk_agg.period_iterations = 1;
  nk_agg.user = &r;
  ll_agg.size = sizeof(ll_acc) + (size_t)r.Kp * sizeof(int64_t);
  ll_agg.map_vertex = ll_map;
  ll_agg.combine = ll_combine;
  ll_agg.user = &r;
  if (!r.dist &&
      (alloc_threads(&r) ||
       gasp_engine_add_aggregator(r.e, &nk_agg, &r.nk_id) != GASP_OK ||
       gasp_engine_add_aggregator(r.e, &ll_agg, &r.ll_id) != GASP_OK)) {
    cli_error("lda: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  init_topics(&r); /* the same on every rank: seeded per document */
  if (r.dist) {
    memcpy(r.snap, r.cnt + (size_t)r.c.D * (size_t)r.Kp, wk * sizeof *r.snap);
    for (size_t w = 0; w < r.c.W; w++)
      for (int k = 0; k < r.K; k++)
        r.nk_d[k] += r.snap[w * (size_t)r.Kp + (size_t)k];
  }
  if (o.trace) {
    if (!(r.trace = fopen(o.trace, "w"))) {
      cli_error("%s: cannot create: %s", o.trace, strerror(errno));
      rc = EXIT_USAGE;
      goto out;
    }
    fputs("iteration\tdocuments\ttokens_moved\tlog_likelihood_per_token\t"
          "seconds\ttokens_per_second\n",
          r.trace);
  }
  cli_progress_init(&r.progress, "lda", o.c.quiet);
  /* across ranks the likelihood is collective: every rank or none */
  r.want_ll = r.dist || r.trace || r.progress.enabled;
  r.last_ll = NAN;
  if (!o.c.quiet && !o.c.json)
    fprintf(stderr,
            "gasp: lda: %u documents, %u words, %llu tokens, K = %d, alpha = "
            "%g, beta = %g, %d thread%s (%s kernel)\n",
            r.c.D, r.c.W, (unsigned long long)r.c.tokens, r.K, a.alpha, a.beta,
            r.threads, r.threads == 1 ? "" : "s", kname);
  r.t0 = r.t_last = cli_now();
  gasp_run_stats st;
  rc = gasp_engine_run(r.e, &st);
  double train_s = cli_now() - r.t0;
  cli_progress_end(&r.progress);
  if (rc) {
    cli_error("lda: engine run failed: %s", gasp_strerror(rc));
    rc = EXIT_RUNTIME;
    goto out;
  }
  double ll = r.dist ? log_likelihood_dist(&r) : log_likelihood(&r);
  double tps =
      r.sample_s > 0 ? (double)r.c.tokens * st.iterations / r.sample_s : 0;

  nk = calloc((size_t)r.Kp, sizeof *nk);
  if (!nk || (r.dist ? (memcpy(nk, r.nk_d, (size_t)r.Kp * sizeof *nk), 0)
                     : gasp_engine_aggregate(r.e, r.nk_id, nk) != GASP_OK)) {
    cli_error("lda: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if (r.dist && o.c.output && (rc = gather_docs(&r))) goto out;
  if (r.dist) { /* the totals every rank adds to (bytes, updates) */
    tk_dist_results(&o, r.e, &st, NULL, 0, &rc);
    if (rc) goto out;
  }
  if (!root) goto out;
  if (o.c.output) {
    doc_path = suffixed(o.c.output, ".doc-topic.tsv");
    word_path = suffixed(o.c.output, ".word-topic.tsv");
    if (!doc_path || !word_path) {
      rc = EXIT_RUNTIME;
      goto out;
    }
    if ((rc = write_doc_topic(&r, gg, doc_path))) goto out;
    if ((rc = write_word_topic(&r, gg, word_path, a.counts, nk))) {
      unlink(doc_path); /* no half of a result */
      goto out;
    }
  }
  if (a.top && print_top_words(&r, gg, a.top, o.c.json ? stderr : stdout)) {
    rc = EXIT_RUNTIME;
    goto out;
  }
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "lda");
    cli_json_u64(&j, "documents", r.c.D);
    cli_json_u64(&j, "words", r.c.W);
    cli_json_u64(&j, "tokens", r.c.tokens);
    cli_json_u64(&j, "topics", (uint64_t)r.K);
    cli_json_num(&j, "alpha", a.alpha);
    cli_json_num(&j, "beta", a.beta);
    cli_json_u64(&j, "iterations", st.iterations);
    cli_json_u64(&j, "threads", (uint64_t)r.threads);
    cli_json_u64(&j, "seed", r.seed);
    cli_json_str(&j, "kernel", kname);
    cli_json_num(&j, "log_likelihood_per_token", ll);
    cli_json_num(&j, "seconds", train_s);
    cli_json_num(&j, "sampling_seconds", r.sample_s);
    cli_json_num(&j, "tokens_per_second", tps);
    tk_dist_json(&o, &j, st.iterations);
    cli_json_num(&j, "load_seconds", load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: lda: %llu sweeps in %.3f s: log-likelihood/token %.4f, "
            "%.1f M tokens/s\n",
            (unsigned long long)st.iterations, train_s, ll, tps / 1e6);
  }
out:
  if (r.trace) fclose(r.trace);
  gasp_engine_free(&r.e);
  if (r.dist) free(r.cnt);
  free(r.snap);
  free(r.delta);
  free(r.nk_d);
  tk_graph_free(&o, &g);
  free_threads(&r);
  lda_corpus_free(&r.c);
  lda_lgamma_free(&r.lga);
  lda_lgamma_free(&r.lgb);
  free(r.z);
  free(nk);
  free(doc_path);
  free(word_path);
  return rc;
}
