/*
 * lda.h -- pieces shared by `gasp lda` and `gasp lda-infer`: the token
 * layout of a bag-of-words graph, the random numbers, the log-gamma
 * tables of the likelihood, and the model file.  Public API of libgasp
 * only (include/gasp.h).
 */
#ifndef GASP_LDA_H
#define GASP_LDA_H

#include "toolkit.h"

/* Topic rows are padded to a multiple of LDA_LANES entries (zero
 * probability) so that the sampler runs whole vectors. */
#define LDA_LANES 8
/* The most topics a model may have (gasp lda -k, and model files). */
#define LDA_MAX_TOPICS 65535
static inline int lda_padded(int k) {
  return (k + LDA_LANES - 1) / LDA_LANES * LDA_LANES;
}

/* A corpus seen as tokens: documents are the graph's left side (local
 * ids 0..D-1), words its right side (local ids D..D+W-1, word index
 * w = vid - D).  Each edge (d, w, count) contributes `count` tokens, laid
 * out document by document (a document's entries dealt round-robin, see
 * lda_core.c): document d owns tokens doc_off[d] .. doc_off[d+1]-1 and
 * token i is word word[i]. */
typedef struct lda_corpus {
  gasp_vid D, W;
  uint64_t tokens;
  uint64_t *doc_off; /* D + 1 entries */
  uint32_t *word;    /* tokens entries */
} lda_corpus;

/* Builds the token layout; returns 0, or prints why not and returns an
 * exit code (not bipartite, a count that is not a positive integer, too
 * many tokens). */
int lda_corpus_build(lda_corpus *c, const gasp_graph *g, const char *input);
void lda_corpus_free(lda_corpus *c);
/* --format auto for text corpora: docword.* is UCI, *.ldac LDA-C, *.gasp
 * a snapshot; otherwise by the first data line: a single number is a UCI
 * header, "N w:c ..." is LDA-C, else "doc word count" triples. */
/* (GASP_FORMAT_CORPUS: the library reads the line from the stream.) */
void lda_corpus_format(cli_common *c);

/* wyrand (Wang Yi): one 64x64->128 multiply per number, passes BigCrush
 * and PractRand; one stream per (seed, document, iteration), so a run is
 * reproducible whatever the thread schedule (on one thread exactly). */
typedef struct lda_rng {
  uint64_t s;
} lda_rng;
static inline uint64_t lda_next(lda_rng *r) {
  r->s += 0xa0761d6478bd642full;
  __uint128_t t = (__uint128_t)r->s * (r->s ^ 0xe7037ed1a0b428dbull);
  return (uint64_t)(t >> 64) ^ (uint64_t)t;
}
static inline float lda_uniform(lda_rng *r) { /* [0, 1) */
  return (float)(lda_next(r) >> 40) * (1.0f / 16777216.0f);
}
static inline lda_rng lda_rng_for(uint64_t seed, uint64_t doc, uint64_t iter) {
  lda_rng r = {seed ^ (doc * 0x9E3779B97F4A7C15ull) ^
               (iter * 0xD1B54A32D192ED03ull)};
  lda_next(&r);
  return r;
}

/* lgamma(n + c) for integer n >= 0: a table for small n, lgamma_r above. */
typedef struct lda_lgamma {
  double c;
  double *tab;
  uint32_t n;
} lda_lgamma;
int lda_lgamma_init(lda_lgamma *t, double c, uint32_t n);
void lda_lgamma_free(lda_lgamma *t);
double lda_lgamma_slow(double x);
static inline double lda_lg(const lda_lgamma *t, int64_t n) {
  return (uint64_t)n < t->n ? t->tab[n] : lda_lgamma_slow((double)n + t->c);
}

/* The model file PREFIX.word-topic.tsv: a header line
 *   # gasp-lda topics=K alpha=A beta=B words=W tokens=N values=phi|counts
 * then one line per word, "word-id<TAB>v_1 ... <TAB>v_K": phi_wk =
 * p(word w | topic k) = (n_wk + beta) / (n_k + W beta), or the counts
 * n_wk.  Either reloads as a model for `gasp lda-infer`. */
typedef struct lda_model {
  int K;
  double alpha, beta;
  uint64_t W;
  gasp_gid *ids; /* W word ids, ascending */
  float *phi;    /* W x lda_padded(K), row-major, padding 0 */
} lda_model;
/* Reads a model; prints "FILE:LINE: reason" and returns an exit code on
 * failure. */
int lda_model_read(lda_model *m, const char *path);
void lda_model_free(lda_model *m);

/* Result files: see cli_out (cli.h).  lda_out_close(o, bad) discards the
 * file when `bad`. */
typedef cli_out lda_out;
int lda_out_open(lda_out *o, const char *path);
int lda_out_close(lda_out *o, int bad);

#endif
