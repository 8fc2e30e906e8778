/*
 * hash.c -- hash partitioning: the fallback when METIS is unwanted and
 * the baseline METIS is compared to.
 */
#include "graph_internal.h"

#include <string.h>

int gasp_partition_hash(const gasp_graph *g, int parts, uint32_t *owner) {
  if (parts < 1 || !owner) return GASP_EINVAL;
  int64_t nv = g->nv;
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < nv; v++) {
    uint64_t key =
        gasp__mix(g->gid[v], (uint64_t)gasp_graph_side(g, (gasp_vid)v));
    owner[v] = (uint32_t)(key % (uint64_t)parts);
  }
  return GASP_OK;
}
