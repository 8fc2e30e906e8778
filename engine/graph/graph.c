/*
 * graph.c -- the gasp_graph object: accessors, vertex/edge data, id
 * lookup and summary statistics.  Construction lives in build.c (from
 * edges) and snapshot.c (from a binary snapshot).
 */
#include "graph_internal.h"

#include <string.h>
#include <sys/mman.h>

gasp_graph *gasp__graph_alloc(void) {
  return gasp__calloc(1, sizeof(gasp_graph));
}

/* Frees p unless it points into the snapshot mapping. */
static void release(gasp_graph *g, void *p) {
  uintptr_t c = (uintptr_t)p, m = (uintptr_t)g->map;
  if (m && c >= m && c <= m + g->map_len) return; /* end: empty section */
  free(p);
}

void gasp_graph_free(gasp_graph **pg) {
  if (!pg || !*pg) return;
  gasp_graph *g = *pg;
  release(g, g->gid);
  release(g, g->by_gid);
  release(g, g->out_off);
  release(g, g->out_nbr);
  release(g, g->in_off);
  release(g, g->in_nbr);
  release(g, g->in_slot);
  release(g, g->weight);
  release(g, g->names);
  release(g, g->name_off);
  if (g->map) munmap(g->map, g->map_len);
  free(g->vdata);
  free(g->edata);
  free(g);
  *pg = NULL;
}

gasp_vid gasp_graph_num_vertices(const gasp_graph *g) { return g->nv; }
gasp_vid gasp_graph_num_owned(const gasp_graph *g) { return g->nowned; }
uint64_t gasp_graph_num_edges(const gasp_graph *g) { return g->ne; }

void gasp_graph_out_edges(const gasp_graph *g, gasp_adjacency *a) {
  a->num_vertices = g->nv;
  a->num_edges = g->ne;
  a->off = g->out_off;
  a->nbr = g->out_nbr;
  a->slot = NULL;
}

void gasp_graph_in_edges(const gasp_graph *g, gasp_adjacency *a) {
  a->num_vertices = g->nv;
  a->num_edges = g->ne;
  a->off = g->in_off;
  a->nbr = g->in_nbr;
  a->slot = g->in_slot;
}

uint64_t gasp_graph_out_degree(const gasp_graph *g, gasp_vid v) {
  return g->out_off[v + 1] - g->out_off[v];
}

uint64_t gasp_graph_in_degree(const gasp_graph *g, gasp_vid v) {
  return g->in_off[v + 1] - g->in_off[v];
}

gasp_gid gasp_graph_gid(const gasp_graph *g, gasp_vid v) { return g->gid[v]; }

int gasp_graph_is_bipartite(const gasp_graph *g) { return g->bipartite; }
gasp_vid gasp_graph_num_left(const gasp_graph *g) { return g->nleft; }

gasp_side gasp_graph_side(const gasp_graph *g, gasp_vid v) {
  return v < g->nleft ? GASP_SIDE_LEFT : GASP_SIDE_RIGHT;
}

/* Binary search of gid[lo, hi), which is ascending. */
static int find_run(const gasp_graph *g, uint64_t lo, uint64_t hi, gasp_gid id,
                    gasp_vid *out) {
  uint64_t end = hi;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (g->gid[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < end && g->gid[lo] == id) {
    if (out) *out = (gasp_vid)lo;
    return GASP_OK;
  }
  return GASP_ENOENT;
}

/* A reordered graph: binary search along by_gid. */
static int find_ordered(const gasp_graph *g, gasp_gid id, gasp_vid *out) {
  uint64_t lo = 0, hi = g->nv;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (g->gid[g->by_gid[mid]] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < g->nv && g->gid[g->by_gid[lo]] == id) {
    if (out) *out = g->by_gid[lo];
    return GASP_OK;
  }
  return GASP_ENOENT;
}

int gasp_graph_find(const gasp_graph *g, gasp_side side, gasp_gid id,
                    gasp_vid *out) {
  if (g->by_gid) /* reordered: one side, every vertex owned */
    return side == GASP_SIDE_LEFT ? find_ordered(g, id, out) : GASP_ENOENT;
  /* Ids ascend within each side, and within the owned vertices and the
   * ghosts of a rank's local graph: binary search each run. */
  if (!g->bipartite && side == GASP_SIDE_RIGHT) return GASP_ENOENT;
  uint64_t lo = side == GASP_SIDE_LEFT ? 0 : g->nleft;
  uint64_t hi = side == GASP_SIDE_LEFT ? g->nleft : g->nv;
  if (g->nowned >= hi || g->nowned <= lo) return find_run(g, lo, hi, id, out);
  if (find_run(g, lo, g->nowned, id, out) == GASP_OK) return GASP_OK;
  return find_run(g, g->nowned, hi, id, out);
}

const double *gasp_graph_weights(const gasp_graph *g) { return g->weight; }

const char *gasp_graph_name(const gasp_graph *g, gasp_vid v) {
  if (!g->name_off || v >= g->nv) return NULL;
  if (g->name_off[v + 1] == g->name_off[v]) return NULL;
  return g->names + g->name_off[v];
}

int gasp__graph_set_names(gasp_graph *g, gasp_vid first, char **strs,
                          uint64_t count) {
  if ((uint64_t)first + count > g->nv) return GASP_EINVAL;
  uint64_t total = 0;
  for (uint64_t i = 0; i < count; i++)
    total += strlen(strs[i]) + 1;
  uint64_t *off = gasp__malloc_array((size_t)g->nv + 1, sizeof *off);
  char *names = gasp__malloc(total ? total : 1);
  if (!off || !names) {
    free(off);
    free(names);
    return GASP_ENOMEM;
  }
  uint64_t pos = 0;
  for (uint64_t v = 0; v <= g->nv; v++) {
    off[v] = pos;
    if (v >= first && v < first + count) {
      size_t n = strlen(strs[v - first]) + 1;
      memcpy(names + pos, strs[v - first], n);
      pos += n;
    }
  }
  release(g, g->names);
  release(g, g->name_off);
  g->names = names;
  g->name_off = off;
  return GASP_OK;
}

int gasp_graph_alloc_data(gasp_graph *g, size_t vertex_size, size_t edge_size) {
  void *vd = NULL, *ed = NULL;
  if (vertex_size && !(vd = gasp__calloc_array(g->nv, vertex_size)))
    return GASP_ENOMEM;
  if (edge_size && !(ed = gasp__calloc_array(g->ne, edge_size))) {
    free(vd);
    return GASP_ENOMEM;
  }
  free(g->vdata);
  free(g->edata);
  g->vdata = vd;
  g->edata = ed;
  g->vsize = vertex_size;
  g->esize = edge_size;
  return GASP_OK;
}

void *gasp_graph_vertex_data(gasp_graph *g) { return g->vdata; }
void *gasp_graph_edge_data(gasp_graph *g) { return g->edata; }
size_t gasp_graph_vertex_size(const gasp_graph *g) { return g->vsize; }
size_t gasp_graph_edge_size(const gasp_graph *g) { return g->esize; }

uint64_t gasp_graph_structure_bytes(const gasp_graph *g) {
  uint64_t b = (uint64_t)g->nv * sizeof(gasp_gid) +
               2 * ((uint64_t)g->nv + 1) * sizeof(uint64_t) +
               g->ne * (2 * sizeof(gasp_vid) + sizeof(uint32_t));
  if (g->weight) b += g->ne * sizeof(double);
  if (g->name_off) b += ((uint64_t)g->nv + 1) * 8 + g->name_off[g->nv];
  return b;
}

int gasp_graph_stats_compute(const gasp_graph *g, int threads,
                             gasp_graph_stats *s) {
  memset(s, 0, sizeof *s);
  s->vertices = g->nv;
  s->edges = g->ne;
  s->weighted = g->weight != NULL;
  s->bipartite = g->bipartite;
  s->left_vertices = g->nleft;
  s->right_vertices = g->nv - g->nleft;
  s->mean_degree = g->nv ? (double)g->ne / (double)g->nv : 0.0;
  if (g->nv == 0) return GASP_OK;
  uint64_t loops = 0, dups = 0, isolated = 0;
  uint64_t omin = UINT64_MAX, omax = 0, imin = UINT64_MAX, imax = 0;
  int64_t n = g->nv;
  int T = g->ne < 100000 ? 1 : gasp__threads(threads);
#pragma omp parallel for num_threads(T) schedule(dynamic, 4096) \
    reduction(+ : loops, dups, isolated) reduction(min : omin, imin)            \
    reduction(max : omax, imax)
  for (int64_t v = 0; v < n; v++) {
    uint64_t b = g->out_off[v], e = g->out_off[v + 1];
    uint64_t od = e - b, id = g->in_off[v + 1] - g->in_off[v];
    for (uint64_t j = b; j < e; j++) {
      if (g->out_nbr[j] == (gasp_vid)v) loops++;
      if (j > b && g->out_nbr[j] == g->out_nbr[j - 1]) dups++;
    }
    if (od == 0 && id == 0) isolated++;
    if (od < omin) omin = od;
    if (od > omax) omax = od;
    if (id < imin) imin = id;
    if (id > imax) imax = id;
  }
  s->self_loops = loops;
  s->duplicate_edges = dups;
  s->isolated = isolated;
  s->min_out_degree = omin;
  s->max_out_degree = omax;
  s->min_in_degree = imin;
  s->max_in_degree = imax;
  return GASP_OK;
}
