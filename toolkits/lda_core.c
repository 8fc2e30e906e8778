/*
 * lda_core.c -- the token layout and log-gamma tables shared by gasp_lda
 * and gasp_lda_infer (lda.h).
 */
#include "lda.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct lda_entry {
  uint32_t word, count;
} lda_entry;

static int entry_cmp(const void *a, const void *b) {
  const lda_entry *x = a, *y = b;
  return x->word < y->word ? -1 : x->word > y->word;
}

/* Document d's entries in ascending word order: on one process the
 * out-edges are (targets sorted); a rank's local graph lists its own
 * words before its ghosts, so they are sorted here. */
static int doc_entries(const gasp_graph *g, const gasp_adjacency *out,
                       const double *cnt, gasp_vid d, gasp_vid D, gasp_vid W,
                       const gasp_dist *dist, gasp_vid D_all, lda_entry *e,
                       gasp_error *err) {
  uint64_t n = out->off[d + 1] - out->off[d];
  for (uint64_t j = 0; j < n; j++) {
    uint64_t s = out->off[d] + j;
    gasp_vid t = out->nbr[s];
    double x = cnt ? cnt[s] : 1.0;
    int64_t w = dist ? (int64_t)gasp_dist_global_id(dist, t) - (int64_t)D_all
                     : (int64_t)t - (int64_t)D;
    if (w < 0 || w >= (int64_t)W)
      return tk_lib_fail(err, GASP_EINVAL,
                         "document %llu has an edge to vertex %llu, which is "
                         "not a word (not a bag-of-words corpus)",
                         (unsigned long long)gasp_graph_gid(g, d),
                         (unsigned long long)gasp_graph_gid(g, t));
    if (x < 1 || x != floor(x) || x > 4294967295.0)
      return tk_lib_fail(err, GASP_EINVAL,
                         "count %g of an entry is not a positive integer "
                         "(document %llu, word %llu)",
                         x, (unsigned long long)gasp_graph_gid(g, d),
                         (unsigned long long)gasp_graph_gid(g, t));
    e[j].word = (uint32_t)w;
    e[j].count = (uint32_t)x;
  }
  if (dist) qsort(e, n, sizeof *e, entry_cmp);
  return GASP_OK;
}

int gasp__lda_corpus_build(lda_corpus *c, const gasp_graph *g, gasp_vid D,
                           gasp_vid W, const gasp_dist *dist, gasp_vid D_all,
                           gasp_error *err) {
  memset(c, 0, sizeof *c);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  const double *cnt = gasp_graph_weights(g);
  uint64_t tokens = 0, most = 1;
  for (gasp_vid d = 0; d < D; d++) {
    uint64_t n = out.off[d + 1] - out.off[d];
    most = n > most ? n : most;
    for (uint64_t s = out.off[d]; s < out.off[d + 1]; s++) {
      double x = cnt ? cnt[s] : 1.0;
      if (x >= 1 && x <= 4294967295.0) tokens += (uint64_t)x;
    }
  }
  if (tokens > UINT32_MAX)
    return tk_lib_fail(err, GASP_EINVAL,
                       "%llu tokens: more than 2^32-1 are not supported",
                       (unsigned long long)tokens);
  c->D = D;
  c->W = W;
  c->doc_off = gasp__malloc(((size_t)D + 1) * sizeof *c->doc_off);
  c->word = gasp__malloc((tokens ? tokens : 1) * sizeof *c->word);
  c->doc_id = dist ? gasp__malloc(((size_t)D + 1) * sizeof *c->doc_id) : NULL;
  lda_entry *e = gasp__malloc(most * sizeof *e);
  if (!c->doc_off || !c->word || !e || (dist && !c->doc_id)) {
    free(e);
    gasp__lda_corpus_free(c);
    return tk_lib_fail(err, GASP_ENOMEM, "lda: out of memory");
  }
  /* Within a document the entries are dealt round-robin (one token of
   * each entry, then a second of those with two or more, ...), so that
   * tokens of one word do not follow each other: a token's count update
   * would otherwise stall the next token's vector read of the same row. */
  uint64_t t = 0;
  for (gasp_vid d = 0; d < D; d++) {
    c->doc_off[d] = t;
    if (dist) c->doc_id[d] = gasp_dist_global_id(dist, d);
    int rc = doc_entries(g, &out, cnt, d, D, W, dist, D_all, e, err);
    if (rc) {
      free(e);
      gasp__lda_corpus_free(c);
      return rc;
    }
    uint64_t n = out.off[d + 1] - out.off[d];
    uint32_t rounds = 1;
    for (uint64_t j = 0; j < n; j++)
      rounds = e[j].count > rounds ? e[j].count : rounds;
    for (uint32_t round = 0; round < rounds; round++)
      for (uint64_t j = 0; j < n; j++)
        if (e[j].count > round) c->word[t++] = e[j].word;
  }
  c->doc_off[D] = t;
  c->tokens = t;
  free(e);
  return GASP_OK;
}

void gasp__lda_corpus_free(lda_corpus *c) {
  free(c->doc_off);
  free(c->word);
  free(c->doc_id);
  c->doc_off = NULL;
  c->word = NULL;
  c->doc_id = NULL;
}

/* lgamma_r: lgamma() writes the global signgam, a data race between
 * threads. */
double gasp__lda_lgamma(double x) {
  int sign;
  return lgamma_r(x, &sign);
}

int gasp__lda_lgamma_init(lda_lgamma *t, double c, uint32_t n) {
  t->c = c;
  t->n = n;
  t->tab = gasp__malloc(n * sizeof *t->tab);
  if (!t->tab) return -1;
  for (uint32_t i = 0; i < n; i++)
    t->tab[i] = gasp__lda_lgamma(i + c);
  return 0;
}

void gasp__lda_lgamma_free(lda_lgamma *t) {
  free(t->tab);
  t->tab = NULL;
}

double gasp__lda_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
