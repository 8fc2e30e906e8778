/*
 * lda.h -- pieces shared by the LDA calls of libgasp (gasp_lda in
 * lib_lda.c, gasp_lda_infer in lib_lda_infer.c): the token layout of a
 * bag-of-words graph, the random numbers and the log-gamma tables of the
 * likelihood.  Public API of libgasp only (include/gasp.h).
 */
#ifndef GASP_LDA_H
#define GASP_LDA_H

#include "gasp.h"

/* A corpus seen as tokens.  Documents are local ids 0 .. D-1 of the graph
 * (its left side; across ranks the owned documents, which precede the
 * owned words), words are numbered 0 .. W-1 in the whole corpus (global
 * vertex index less the number of documents).  Each (d, w, count) edge
 * contributes `count` tokens, laid out document by document (a
 * document's entries in ascending word order, dealt round-robin, see
 * lda_core.c): document d owns tokens doc_off[d] .. doc_off[d+1]-1 and
 * token i is word word[i]. */
typedef struct lda_corpus {
  gasp_vid D;        /* documents held here                         */
  gasp_vid W;        /* words of the whole corpus                   */
  uint64_t tokens;   /* tokens held here                            */
  uint64_t *doc_off; /* D + 1 entries */
  uint32_t *word;    /* tokens entries */
  gasp_vid *doc_id;  /* D global document indices; NULL: 0 .. D-1   */
} lda_corpus;

/* Document d's index in the whole corpus (its random streams). */
static inline uint64_t lda_doc_id(const lda_corpus *c, gasp_vid d) {
  return c->doc_id ? c->doc_id[d] : d;
}

/* Builds the token layout of g's first D vertices (the documents; their
 * out-edges lead to the words).  dist NULL: one process, words are local
 * ids D .. D+W-1.  Otherwise g is the rank's local graph and D_all the
 * documents of the whole corpus: a word is global vertex index less D_all.
 * Returns GASP_OK, or GASP_EINVAL (a count that is not a positive integer,
 * more than 2^32-1 tokens; err says which) or GASP_ENOMEM. */
int gasp__lda_corpus_build(lda_corpus *c, const gasp_graph *g, gasp_vid D,
                           gasp_vid W, const gasp_dist *dist, gasp_vid D_all,
                           gasp_error *err);
void gasp__lda_corpus_free(lda_corpus *c);

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
int gasp__lda_lgamma_init(lda_lgamma *t, double c, uint32_t n);
void gasp__lda_lgamma_free(lda_lgamma *t);
double gasp__lda_lgamma(double x);
static inline double lda_lg(const lda_lgamma *t, int64_t n) {
  return (uint64_t)n < t->n ? t->tab[n] : gasp__lda_lgamma((double)n + t->c);
}

/* Seconds on a monotonic clock. */
double gasp__lda_now(void);

#endif
