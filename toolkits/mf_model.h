/*
 * mf_model.h -- matrix factorization model files.
 *
 * `gasp als|sgd -o PREFIX` writes
 *   PREFIX.users.tsv   "user<TAB>f1 ... fk" per user, ascending id
 *   PREFIX.items.tsv   "item<TAB>f1 ... fk" per item, ascending id
 *                      (biased models: a last column holds the bias)
 *   PREFIX.model       "key<TAB>value" lines: method, rank, biased,
 *                      implicit, mean, min_rating, max_rating
 * and `gasp predict --model PREFIX` reads them back.
 */
#ifndef GASP_MF_MODEL_H
#define GASP_MF_MODEL_H

#include "cli.h"
#include "mf.h"

#include <stdio.h>

typedef struct mf_side {
  uint64_t n;
  gasp_gid *id; /* ascending */
  float *f;     /* n rows of `stride` floats */
} mf_side;

typedef struct mf_model {
  char method[64];
  int k, stride, biased, implicit;
  double mean, rmin, rmax;
  mf_side users, items;
} mf_model;

/* Writes the three files (each under a temporary name, renamed into
 * place).  Rows come from vertex data F (stride floats per vertex) of the
 * bipartite graph g: users are the left side, items the right.  Returns 0
 * or an exit code (the failure printed). */
int mf_model_write(const char *prefix, const mf_model *meta,
                   const gasp_graph *g, const float *F);

/* Reads a model; returns 0 or an exit code (the failure printed, naming
 * file and line).  Free with mf_model_free(). */
int mf_model_read(const char *prefix, mf_model *m);
void mf_model_free(mf_model *m);

/* Row of `id` in a side, or -1. */
int64_t mf_side_find(const mf_side *s, gasp_gid id);

/* Prediction for a (user row, item row) pair; a row of -1 is unknown:
 * the mean plus whatever biases are known (implicit: 0).  Clamped to the
 * rating range unless implicit. */
double mf_model_predict(const mf_model *m, int64_t u, int64_t i);

/* Parses "user item ..." (blanks, tabs, a comma or "::" between fields,
 * extra columns ignored): returns 0, or -1 with a reason in why. */
int mf_parse_pair(const char *line, gasp_gid *u, gasp_gid *i, int need_item,
                  char *why, size_t whylen);

/* Result files written under a temporary name and renamed into place by
 * mf_out_close(o, ok) when ok (removed otherwise); both return 0 or an
 * exit code (the failure printed). */
typedef struct mf_outfile {
  char *path;
  FILE *f;
  cli_out out;
} mf_outfile;
int mf_out_open(mf_outfile *o, const char *prefix, const char *suffix);
int mf_out_close(mf_outfile *o, int ok);

/* Loads a ratings file (ratings format unless --format or a .mtx/.gasp
 * name says otherwise) as a bipartite weighted graph; 0 or an exit code. */
int mf_load_ratings(const cli_common *c, const char *path, gasp_graph **g,
                    double *secs);

#endif
