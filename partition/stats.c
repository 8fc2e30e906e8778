/*
 * stats.c -- the quality figures of a partition: edge cut, vertex and
 * edge balance, ghost counts.
 */
#include "graph_internal.h"

#include <string.h>

/* Ghosts of part p: distinct vertices owned elsewhere that are adjacent
 * (either direction) to a vertex p owns.  Counted with one mark array per
 * part, one part at a time, so memory stays O(V). */
static uint64_t count_ghosts(const gasp_graph *g, uint32_t p,
                             const uint32_t *owner, uint32_t *mark, int T) {
  uint64_t n = 0;
  int64_t nv = g->nv;
#pragma omp parallel for num_threads(T) schedule(dynamic, 1024) reduction(+ : n)
  for (int64_t v = 0; v < nv; v++) {
    if (owner[v] != p) continue;
    for (int dir = 0; dir < 2; dir++) {
      const uint64_t *off = dir ? g->in_off : g->out_off;
      const gasp_vid *nbr = dir ? g->in_nbr : g->out_nbr;
      for (uint64_t j = off[v]; j < off[v + 1]; j++) {
        gasp_vid u = nbr[j];
        if (owner[u] != p &&
            __atomic_exchange_n(&mark[u], p + 1, __ATOMIC_RELAXED) != p + 1)
          n++;
      }
    }
  }
  return n;
}

int gasp_partition_stats_compute(const gasp_graph *g, int parts,
                                 const uint32_t *owner, int threads,
                                 gasp_partition_stats *out) {
  if (parts < 1 || !owner || !out) return GASP_EINVAL;
  memset(out, 0, sizeof *out);
  out->parts = parts;
  int T = gasp__threads(threads);
  uint64_t *vcount = gasp__calloc((size_t)parts, sizeof *vcount);
  uint64_t *ecount = gasp__calloc((size_t)parts, sizeof *ecount);
  uint32_t *mark = gasp__calloc(g->nv ? g->nv : 1, sizeof *mark);
  if (!vcount || !ecount || !mark) {
    free(vcount);
    free(ecount);
    free(mark);
    return GASP_ENOMEM;
  }
  uint64_t cut = 0;
  for (uint64_t v = 0; v < g->nv; v++) {
    if (owner[v] >= (uint32_t)parts) {
      free(vcount);
      free(ecount);
      free(mark);
      return GASP_EINVAL;
    }
    vcount[owner[v]]++;
    ecount[owner[v]] += g->out_off[v + 1] - g->out_off[v];
    for (uint64_t j = g->out_off[v]; j < g->out_off[v + 1]; j++)
      cut += owner[g->out_nbr[j]] != owner[v];
  }
  uint64_t vmax = 0, emax = 0;
  for (int p = 0; p < parts; p++) {
    if (vcount[p] > vmax) vmax = vcount[p];
    if (ecount[p] > emax) emax = ecount[p];
    uint64_t gh = count_ghosts(g, (uint32_t)p, owner, mark, T);
    out->ghosts_total += gh;
    if (gh > out->ghosts_max) out->ghosts_max = gh;
  }
  out->edge_cut_fraction = g->ne ? (double)cut / (double)g->ne : 0.0;
  out->vertex_balance = g->nv ? (double)vmax * parts / (double)g->nv : 1.0;
  out->edge_balance = g->ne ? (double)emax * parts / (double)g->ne : 1.0;
  free(vcount);
  free(ecount);
  free(mark);
  return GASP_OK;
}
