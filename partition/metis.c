/*
 * metis.c -- edge-cut partitioning by METIS k-way (Karypis and Kumar, "A
 * fast and high quality multilevel scheme for partitioning irregular
 * graphs", SIAM J. Sci. Comput. 20(1), 1998).
 *
 * METIS wants an undirected graph without self loops or repeated edges, so
 * each vertex's neighbour list is the union of its out- and in-neighbours
 * (both lists are sorted, so one merge per vertex, no sort).  A vertex
 * weighs 1 + its degree (in plus out): balancing weight then balances the
 * edges each part gathers over, which is what bounds a superstep, rather
 * than the vertex counts.  Debian's METIS is built with 32-bit indices:
 * graphs past 2^31-1 vertices or adjacency entries fail with GASP_ERANGE
 * (hash partitioning has no such limit).
 */
#include "graph_internal.h"

#include <metis.h>
#include <string.h>

/* Merges the sorted lists a[0..na) and b[0..nb), skipping `self` and
 * repeats; writes into out (when non-NULL) and returns the count. */
static uint64_t merge_nbrs(const gasp_vid *a, uint64_t na, const gasp_vid *b,
                           uint64_t nb, gasp_vid self, idx_t *out) {
  uint64_t i = 0, j = 0, n = 0;
  int64_t last = -1;
  while (i < na || j < nb) {
    gasp_vid x;
    if (j >= nb || (i < na && a[i] <= b[j]))
      x = a[i++];
    else
      x = b[j++];
    if (x == self || (int64_t)x == last) continue;
    last = (int64_t)x;
    if (out) out[n] = (idx_t)x;
    n++;
  }
  return n;
}

int gasp_partition_metis(const gasp_graph *g, int parts, uint64_t seed,
                         uint32_t *owner, gasp_error *err) {
  gasp__error_clear(err);
  if (parts < 1 || !owner)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "parts must be at least 1");
  uint64_t nv = g->nv;
  if (parts == 1 || nv <= (uint64_t)parts) {
    /* nothing to cut (METIS refuses more parts than vertices) */
    for (uint64_t v = 0; v < nv; v++)
      owner[v] = (uint32_t)(v % (uint64_t)parts);
    return GASP_OK;
  }
  if (nv > (uint64_t)INT32_MAX)
    return gasp__fail(err, GASP_ERANGE, NULL, 0,
                      "%llu vertices exceed METIS's 32-bit indices; use "
                      "hash partitioning",
                      (unsigned long long)nv);
  idx_t *xadj = gasp__malloc((nv + 1) * sizeof *xadj);
  idx_t *vwgt = gasp__malloc(nv * sizeof *vwgt);
  idx_t *part = gasp__malloc(nv * sizeof *part);
  idx_t *adj = NULL;
  int rc = GASP_ENOMEM;
  if (!xadj || !vwgt || !part) goto out;
  uint64_t total = 0;
  xadj[0] = 0;
  for (uint64_t v = 0; v < nv; v++) {
    uint64_t no = g->out_off[v + 1] - g->out_off[v];
    uint64_t ni = g->in_off[v + 1] - g->in_off[v];
    total += merge_nbrs(g->out_nbr + g->out_off[v], no,
                        g->in_nbr + g->in_off[v], ni, (gasp_vid)v, NULL);
    if (total > (uint64_t)INT32_MAX) {
      rc = gasp__fail(err, GASP_ERANGE, NULL, 0,
                      "more than 2^31-1 adjacency entries exceed METIS's "
                      "32-bit indices; use hash partitioning");
      goto out;
    }
    xadj[v + 1] = (idx_t)total;
    uint64_t w = 1 + no + ni;
    vwgt[v] = (idx_t)(w > (uint64_t)INT32_MAX / 2 ? INT32_MAX / 2 : w);
  }
  adj = gasp__malloc((total ? total : 1) * sizeof *adj);
  if (!adj) goto out;
  for (uint64_t v = 0; v < nv; v++)
    merge_nbrs(g->out_nbr + g->out_off[v], g->out_off[v + 1] - g->out_off[v],
               g->in_nbr + g->in_off[v], g->in_off[v + 1] - g->in_off[v],
               (gasp_vid)v, adj + xadj[v]);
  idx_t n = (idx_t)nv, ncon = 1, np = parts, cut = 0;
  idx_t options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = (idx_t)(seed & 0x7fffffff);
  options[METIS_OPTION_NUMBERING] = 0;
  int m = METIS_PartGraphKway(&n, &ncon, xadj, adj, vwgt, NULL, NULL, &np, NULL,
                              NULL, options, &cut, part);
  if (m == METIS_ERROR_MEMORY) {
    rc = GASP_ENOMEM; /* the message below */
    goto out;
  }
  if (m != METIS_OK) {
    rc =
        gasp__fail(err, GASP_EINVAL, NULL, 0,
                   "METIS could not partition %llu vertices into %d parts "
                   "(%s)",
                   (unsigned long long)nv, parts,
                   m == METIS_ERROR_INPUT ? "invalid input" : "internal error");
    goto out;
  }
  for (uint64_t v = 0; v < nv; v++)
    owner[v] = (uint32_t)part[v];
  rc = GASP_OK;
out:
  if (rc == GASP_ENOMEM && err && !err->msg[0])
    gasp__fail(err, GASP_ENOMEM, NULL, 0,
               "out of memory partitioning %llu vertices into %d parts",
               (unsigned long long)nv, parts);
  free(xadj);
  free(vwgt);
  free(part);
  free(adj);
  return rc;
}
