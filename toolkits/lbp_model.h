/*
 * lbp_model.h -- the inputs and outputs of `gasp lbp` (lbp_model.c): the
 * model as read from a factor list or a PGM image (a grid MRF) or made
 * as a synthetic noisy image, and the writers of images and beliefs.
 * Each function returns 0 or an exit code, the failure printed (naming
 * FILE:LINE for input).
 */
#ifndef GASP_LBP_MODEL_H
#define GASP_LBP_MODEL_H

#include "toolkit.h"

typedef struct lbp_model {
  uint64_t n, m, ucap, mcap, ulen, ulcap, plen, plcap;
  gasp_gid *id;   /* factor lists: variable ids in file order */
  uint32_t *card; /* n */
  double *unary;
  uint64_t *u, *v, *poff;
  double *pair;
  /* id -> index (open addressing, index + 1; 0 empty) */
  uint64_t *hkey, *hval, hcap;
  /* images */
  int w, h, k;
  double *pix;     /* observed intensities, 0 .. 255 */
  uint32_t *truth; /* --synthetic: the clean image's levels */
} lbp_model;

typedef struct lbp_args {
  int colors, synthetic, linear;
  const char *image_flag, *synth_flag; /* one given, for refusals */
  double sigma, smoothing, truncate, damping, noise;
  const char *noisy_out, *beliefs;
} lbp_args;

void lbp_model_free(lbp_model *md);
/* "lbp: out of memory", and EXIT_RUNTIME */
int lbp_oom(void);
/* Reads -i: a PGM (P2 or P5, by its magic number) as a grid model after
 * a's flags (*image 1), else a factor list (*image 0). */
int lbp_read_input(lbp_model *md, const char *path, const lbp_args *a,
                   int *image);
/* An n x n noisy image of flat shapes at a few of the k levels, and its
 * clean levels (md->truth). */
int lbp_synthetic(lbp_model *md, int n, int k, double noise, uint64_t seed);
/* The grid model of md->pix. */
int lbp_grid_model(lbp_model *md, const lbp_args *a);
/* A P5 image of levels lv (0 .. k-1), or of intensities pix. */
int lbp_write_pgm(const char *path, int w, int h, const uint32_t *lv, int k,
                  const double *pix);
/* 'id<TAB>state<TAB>beliefs' per variable, ascending id. */
int lbp_write_beliefs(const char *path, const lbp_model *md, const double *b,
                      const uint32_t *map);

#endif
