/*
 * msbfs.h -- multi-source breadth-first search on the sync engine, shared
 * by gasp_closeness and gasp_diameter's exact mode (msbfs.c).  Internal to
 * libgasp; built on the public API only.
 */
#ifndef GASP_TOOLKITS_MSBFS_H
#define GASP_TOOLKITS_MSBFS_H

#include "gasp.h"

/* One search from many sources along out-edges (both ways with
 * undirected): what each vertex learns about the sources that reach it,
 * and what each source learns about how far it reaches.  Outputs left
 * NULL are not kept. */
typedef struct gasp__msbfs {
  gasp_graph *g;                  /* the graph (a rank's local graph) */
  const gasp_engine_opts *engine; /* sync; max_iter and always_active are
                                    not used */
  int undirected;
  const gasp_vid *sources; /* k vertex indices (global across ranks),
                              strictly ascending */
  uint64_t k;
  /* per local vertex v (owned ones final), over the sources s != v that
   * reach it: how many, the sum of d(s, v), the sum of 1 / d(s, v) */
  uint64_t *reach, *dsum;
  double *hsum;
  /* per local vertex: for an owned source, the largest finite distance
   * from it (its eccentricity); other entries are left alone */
  uint32_t *ecc;
  /* when set: *pairs receives a malloc'd array of *levels counts, the
   * (source, vertex) pairs at distance t, summed over every rank, for t
   * = 0 .. *levels - 1 (the caller frees it) */
  uint64_t **pairs;
  uint64_t *levels;
} gasp__msbfs;

/* Runs the search in batches of up to 512 sources, one engine run each.
 * stats sums the runs.  GASP_ENOTSUP on the async engine and with bounded
 * staleness; GASP_ECANCELED when on_iteration stops a run; GASP_ENOMEM;
 * a distributed run's errors. */
int gasp__msbfs_run(gasp__msbfs *m, gasp_run_stats *stats, gasp_error *err);

/* Position of index x in the ascending list s[0 .. k), or -1. */
int64_t gasp__msbfs_find(const gasp_vid *s, uint64_t k, gasp_vid x);

#endif
