/*
 * from_arrays.c -- graphs from a caller's edge arrays (COO) or compressed
 * rows (CSR), for programs and bindings that hold their graph in memory:
 * the edges go through the builder, as a loader's do, so the graph is the
 * one a file with the same edges would give.
 */
#include "internal.h"

#include <stdio.h>

static int add_all(gasp_builder *b, uint64_t m, const gasp_gid *src,
                   const gasp_gid *dst, const uint64_t *off, uint64_t n,
                   const double *w, gasp_error *err) {
  uint64_t v = 0;
  for (uint64_t i = 0; i < m; i++) {
    if (off)
      while (off[v + 1] <= i)
        v++;
    gasp_gid s = off ? v : src[i];
    int rc = gasp_builder_add_edge(b, s, dst[i], w ? w[i] : 1.0);
    if (rc)
      return gasp__fail(err, rc, NULL, 0, "edge %llu (%llu -> %llu): %s",
                        (unsigned long long)i, (unsigned long long)s,
                        (unsigned long long)dst[i],
                        rc == GASP_ERANGE ? "id above the largest allowed"
                                          : gasp_strerror(rc));
  }
  for (uint64_t u = 0; u < n; u++) {
    int rc = gasp_builder_add_vertex(b, GASP_SIDE_LEFT, u);
    if (rc)
      return gasp__fail(err, rc, NULL, 0, "vertex %llu: %s",
                        (unsigned long long)u, gasp_strerror(rc));
  }
  return GASP_OK;
}

static int build(gasp_graph **out, uint64_t m, const gasp_gid *src,
                 const gasp_gid *dst, const uint64_t *off, uint64_t n,
                 const double *w, unsigned flags, int threads,
                 gasp_error *err) {
  gasp_builder *b = NULL;
  int rc = gasp_builder_new(&b, flags | (w ? GASP_BUILD_WEIGHTED : 0));
  if (rc) return gasp__fail(err, rc, NULL, 0, "out of memory");
  rc = add_all(b, m, src, dst, off, n, w, err);
  if (!rc) rc = gasp_builder_finish(b, threads, out, err);
  gasp_builder_free(&b);
  return rc;
}

int gasp_graph_from_coo(gasp_graph **out, uint64_t num_edges,
                        const gasp_gid *src, const gasp_gid *dst,
                        const double *weight, uint64_t num_vertices,
                        unsigned flags, int threads, gasp_error *err) {
  if (!out) return gasp__fail(err, GASP_EINVAL, NULL, 0, "no output graph");
  *out = NULL;
  gasp__error_clear(err);
  if (num_edges && (!src || !dst))
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "no source or target array");
  return build(out, num_edges, src, dst, NULL, num_vertices, weight, flags,
               threads, err);
}

int gasp_graph_from_csr(gasp_graph **out, uint64_t n, const uint64_t *off,
                        const gasp_gid *nbr, const double *weight,
                        unsigned flags, int threads, gasp_error *err) {
  if (!out) return gasp__fail(err, GASP_EINVAL, NULL, 0, "no output graph");
  *out = NULL;
  gasp__error_clear(err);
  if (!off) return gasp__fail(err, GASP_EINVAL, NULL, 0, "no offset array");
  if (off[0] != 0)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "off[0] is %llu, not 0",
                      (unsigned long long)off[0]);
  for (uint64_t v = 0; v < n; v++)
    if (off[v + 1] < off[v])
      return gasp__fail(err, GASP_EINVAL, NULL, 0,
                        "off[%llu] = %llu is below off[%llu] = %llu",
                        (unsigned long long)(v + 1),
                        (unsigned long long)off[v + 1], (unsigned long long)v,
                        (unsigned long long)off[v]);
  if (off[n] && !nbr)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "no neighbour array");
  if (n > GASP_MAX_VERTICES)
    return gasp__fail(err, GASP_ERANGE, NULL, 0, "%llu rows: more than %llu",
                      (unsigned long long)n,
                      (unsigned long long)GASP_MAX_VERTICES);
  return build(out, off[n], NULL, nbr, off, n, weight, flags, threads, err);
}
