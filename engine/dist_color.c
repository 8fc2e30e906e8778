/*
 * dist_color.c -- a colouring of a partitioned graph that every rank
 * agrees on (a ghost has its owner's colour), for the chromatic schedule
 * across ranks.  Jones and Plassmann (1993): each vertex has a random
 * priority (a hash of its global id, so no rank needs to ask); in each
 * round a vertex whose uncoloured neighbours all rank below it takes the
 * smallest colour its neighbours do not have, and the round's colours
 * travel to the ghosts.  Within a rank a round colours greedily in
 * vertex order (a vertex coloured earlier in the round counts as
 * coloured), so the rounds are only as many as the longest chain of
 * priorities that crosses partitions.  At most max degree + 1 colours.
 */
#include "dist_internal.h"
#include "engine_internal.h"
#include "ghost.h"

#include <string.h>

#define NONE UINT32_MAX

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* u outranks v */
static int above(const gasp_dist *d, gasp_vid u, gasp_vid v) {
  uint64_t gu = d->global[u], gv = d->global[v], hu = mix(gu), hv = mix(gv);
  return hu != hv ? hu > hv : gu > gv;
}

/* Sends every owned colour the peers hold as ghosts. */
static int share(gasp_dist *d, uint32_t *color, gasp_error *err) {
  const int P = d->size;
  uint64_t total = 0;
  for (int p = 0; p < P; p++)
    total += p == d->rank ? 0 : d->nsend[p];
  uint32_t *buf = gasp__malloc_array(total ? total : 1, sizeof *buf);
  const void **send = calloc((size_t)P, sizeof *send);
  size_t *len = calloc((size_t)P, sizeof *len);
  const void **recv = calloc((size_t)P, sizeof *recv);
  size_t *rlen = calloc((size_t)P, sizeof *rlen);
  int rc = GASP_ENOMEM;
  if (!buf || !send || !len || !recv || !rlen) {
    gasp__fail(err, rc, NULL, 0, "out of memory");
    goto out;
  }
  uint32_t *w = buf;
  for (int p = 0; p < P; p++) {
    if (p == d->rank) continue;
    send[p] = w;
    len[p] = d->nsend[p] * sizeof *w;
    for (uint64_t k = 0; k < d->nsend[p]; k++)
      *w++ = color[d->send[p][k]];
  }
  if ((rc = gasp_cluster_exchange(d->cluster, send, len, recv, rlen, err)))
    goto out;
  for (int p = 0; p < P; p++) {
    if (p == d->rank) continue;
    if (rlen[p] != d->nrecv[p] * sizeof(uint32_t)) {
      rc = gasp__fail(err, GASP_EPEER, NULL, 0,
                      "rank %d: peer %d sent %zu bytes of colours for %llu "
                      "ghosts",
                      d->rank, p, rlen[p], (unsigned long long)d->nrecv[p]);
      goto out;
    }
    for (uint64_t k = 0; k < d->nrecv[p]; k++) {
      uint32_t c;
      memcpy(&c, (const uint8_t *)recv[p] + k * sizeof c, sizeof c);
      color[d->recv[p][k]] = c;
    }
  }
out:
  free(buf);
  free(send);
  free(len);
  free(recv);
  free(rlen);
  return rc;
}

int gasp__dist_color(gasp_engine *e, int distance, uint32_t *color,
                     int *ncolors, gasp_error *err) {
  gasp_dist *d = e->opts.dist;
  const gasp_graph *g = e->g;
  gasp_vid nv = g->nv, no = g->nowned;
  if (distance == 0) {
    memset(color, 0, (size_t)nv * sizeof *color);
    *ncolors = d->global_nv ? 1 : 0;
    return GASP_OK;
  }
  if (distance != 1)
    return gasp__fail(err, GASP_ENOTSUP, NULL, 0,
                      "full consistency across ranks would need a distance-2 "
                      "colouring of the whole graph; use edge consistency");
  for (gasp_vid v = 0; v < nv; v++)
    color[v] = NONE;
  gasp_vid *nb = NULL;
  uint64_t cap = 0, mcap = 0;
  uint32_t *seen = NULL; /* seen[c] == v + 1: colour c is next to v */
  int rc = GASP_OK;
  for (;;) {
    uint64_t left = 0;
    for (gasp_vid v = 0; v < no; v++) {
      if (color[v] != NONE) continue;
      uint64_t k = gasp__neighbours(g, v, &nb, &cap);
      if (k == UINT64_MAX) goto oom;
      int ready = 1;
      for (uint64_t i = 0; i < k && ready; i++)
        ready = color[nb[i]] != NONE || !above(d, nb[i], v);
      if (!ready) {
        left++;
        continue;
      }
      if (k + 1 > mcap) {
        uint32_t *ns = realloc(seen, (size_t)(k + 1) * sizeof *ns);
        if (!ns) goto oom;
        memset(ns + mcap, 0, (size_t)(k + 1 - mcap) * sizeof *ns);
        seen = ns;
        mcap = k + 1;
      }
      for (uint64_t i = 0; i < k; i++)
        if (color[nb[i]] < mcap) seen[color[nb[i]]] = v + 1;
      uint32_t c = 0;
      while (seen[c] == v + 1)
        c++;
      color[v] = c;
    }
    if ((rc = share(d, color, err))) goto out;
    double n = (double)left;
    if ((rc = gasp_cluster_allreduce(d->cluster, &n, 1, GASP_REDUCE_SUM, err)))
      goto out;
    if (n == 0) break;
  }
  double most = 0;
  for (gasp_vid v = 0; v < no; v++)
    if ((double)color[v] + 1 > most) most = (double)color[v] + 1;
  if ((rc = gasp_cluster_allreduce(d->cluster, &most, 1, GASP_REDUCE_MAX, err)))
    goto out;
  *ncolors = (int)most;
  goto out;
oom:
  rc = gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
out:
  free(nb);
  free(seen);
  return rc;
}
