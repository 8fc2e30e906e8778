/*
 * lib_closeness.c -- gasp_closeness (gasp_toolkits.h): closeness and
 * harmonic centrality from breadth-first searches, exact (every vertex a
 * source) or estimated from a sample of sources (Eppstein and Wang, "Fast
 * approximation of centrality", SODA 2001).
 *
 * The searches are the bit-parallel multi-source BFS of msbfs.c: each
 * vertex adds up, as sources reach it, how many did, the sum of their
 * distances and the sum of their reciprocals; the scores follow from
 * these at the end.  Distances run from the sources into the vertex
 * (NetworkX's convention for directed graphs).
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"
#include "msbfs.h"

#include <stdlib.h>
#include <string.h>

void gasp_closeness_opts_init(gasp_closeness_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->seed = 1;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t x = (*s += 0x9e3779b97f4a7c15ull);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static int cmp_vid(const void *a, const void *b) {
  gasp_vid x = *(const gasp_vid *)a, y = *(const gasp_vid *)b;
  return (x > y) - (x < y);
}

/* Inserts x into the open-addressed set (size a power of two, empty slots
 * GASP_VID_NONE); 0 when it was there. */
static int set_add(gasp_vid *set, uint64_t size, gasp_vid x) {
  uint64_t h = (x * 0x9e3779b97f4a7c15ull) & (size - 1);
  while (set[h] != GASP_VID_NONE) {
    if (set[h] == x) return 0;
    h = (h + 1) & (size - 1);
  }
  set[h] = x;
  return 1;
}

/* Floyd's sampling of k distinct values below n (Bentley, "Programming
 * pearls: a sample of brilliance", CACM 30(9), 1987): each value j of the
 * last k adds a uniform draw below j + 1, or j itself when the draw was
 * taken.  A hash set answers "taken?"; should it not be allocated, a scan
 * of the values so far gives the same answers, slowly. */
uint64_t gasp_closeness_sources(uint64_t n, uint64_t samples, uint64_t seed,
                                gasp_vid *out) {
  if (samples == 0 || samples >= n) {
    for (uint64_t i = 0; i < n; i++)
      out[i] = (gasp_vid)i;
    return n;
  }
  uint64_t size = 16;
  while (size < 2 * samples)
    size *= 2;
  gasp_vid *set = gasp__malloc_array(size, sizeof *set);
  uint64_t s = seed, k = 0;
  if (!set) { /* without room for a set: quadratic membership tests */
    for (uint64_t j = n - samples; j < n; j++) {
      gasp_vid t =
          (gasp_vid)(((unsigned __int128)splitmix(&s) * (j + 1)) >> 64);
      for (uint64_t i = 0; i < k; i++)
        if (out[i] == t) {
          t = (gasp_vid)j;
          break;
        }
      out[k++] = t;
    }
  } else {
    memset(set, 0xff, size * sizeof *set);
    for (uint64_t j = n - samples; j < n; j++) {
      gasp_vid t =
          (gasp_vid)(((unsigned __int128)splitmix(&s) * (j + 1)) >> 64);
      if (!set_add(set, size, t)) {
        t = (gasp_vid)j;
        set_add(set, size, t);
      }
      out[k++] = t;
    }
    free(set);
  }
  qsort(out, k, sizeof *out, cmp_vid);
  return k;
}

int gasp_closeness(gasp_graph *g, const gasp_closeness_opts *o, double *score,
                   gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (!g || !o || !score)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  gasp_dist *dist = o->engine.dist;
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint64_t n = dist ? gasp_dist_global_vertices(dist) : nv;
  uint64_t k = o->samples == 0 || o->samples >= n ? n : o->samples;
  gasp_vid *src = gasp__malloc_array(k ? k : 1, sizeof *src);
  size_t cnt = nv ? nv : 1;
  uint64_t *reach = NULL, *dsum = NULL;
  double *hsum = NULL;
  if (o->harmonic)
    hsum = gasp__calloc_array(cnt, sizeof *hsum);
  else {
    reach = gasp__calloc_array(cnt, sizeof *reach);
    dsum = gasp__calloc_array(cnt, sizeof *dsum);
  }
  int rc = GASP_OK;
  if (!src || (o->harmonic ? !hsum : !reach || !dsum)) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "closeness: out of memory");
    goto out;
  }
  gasp_closeness_sources(n, o->samples, o->seed, src);
  gasp__msbfs m = {g,    &o->engine, o->undirected, src,  k,   reach,
                   dsum, hsum,       NULL,          NULL, NULL};
  if ((rc = gasp__msbfs_run(&m, st, err))) goto out;
  for (gasp_vid v = 0; v < nv; v++) {
    gasp_vid idx = dist ? gasp_dist_global_id(dist, v) : v;
    uint64_t kv = k - (k == n || gasp__msbfs_find(src, k, idx) >= 0);
    if (!kv)
      score[v] = 0;
    else if (o->harmonic)
      score[v] = hsum[v] * ((double)(n - 1) / (double)kv);
    else
      score[v] = dsum[v] ? ((double)reach[v] / (double)dsum[v]) *
                               ((double)reach[v] / (double)kv)
                         : 0;
  }
out:
  free(src);
  free(reach);
  free(dsum);
  free(hsum);
  return rc;
}
