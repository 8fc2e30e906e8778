/*
 * lda_model.h -- the file side of `gasp lda` and `gasp lda-infer`: the
 * corpus checks with the command's messages, the model file, and result
 * files.  The sampling is libgasp's (gasp_lda, gasp_lda_infer).
 */
#ifndef GASP_LDA_MODEL_H
#define GASP_LDA_MODEL_H

#include "gasp_toolkits.h"
#include "toolkit.h"

/* Checks that g (the whole corpus) is a bag-of-words graph whose counts
 * are positive integers, at most 2^32-1 tokens in all; returns 0, or
 * prints why not ("INPUT: reason") and returns an exit code. */
int lda_corpus_check(const gasp_graph *g, const char *input);
/* --format auto for text corpora: docword.* is UCI, *.ldac LDA-C, *.gasp
 * a snapshot; otherwise by the first data line: a single number is a UCI
 * header, "N w:c ..." is LDA-C, else "doc word count" triples. */
/* (GASP_FORMAT_CORPUS: the library reads the line from the stream.) */
void lda_corpus_format(cli_common *c);

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
  double *phi;   /* W x K, row-major */
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
