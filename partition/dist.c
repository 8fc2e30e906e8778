/*
 * dist.c -- one rank's share of a partitioned graph: the local graph
 * (owned vertices, then ghosts) and the per-peer vertex lists the ghost
 * exchange is agreed on.
 *
 * Local ids: the vertices the owner map gives this rank come first, in
 * ascending global id, then the ghosts -- remote vertices adjacent to an
 * owned one -- in ascending global id.  Because both runs are ascending,
 * a global adjacency list maps to two ascending runs (owned targets, then
 * ghost targets), so local lists stay sorted without a sort.  The local
 * graph holds every edge with an owned end (cut edges are held by both
 * ranks).
 *
 * Agreement: send[p] lists the owned vertices adjacent to a vertex p owns
 * and recv[p] the ghosts p owns, both ascending by global id.  Rank p's
 * recv list for this rank is exactly this rank's send list for p (the
 * same vertices, the same order), computed on each side from the same
 * graph and owner map, so an exchange step carries values in that order
 * plus a bitmap, never ids.
 */
#include "graph_internal.h"
#include "dist_internal.h"

#include <string.h>

#define NONE UINT32_MAX
#define PENDING (UINT32_MAX - 1)

static int build_local(gasp_dist *d, const gasp_graph *g, const uint32_t *owner,
                       uint32_t rank) {
  uint64_t nvg = g->nv;
  uint32_t *loc = malloc((nvg ? nvg : 1) * sizeof *loc);
  if (!loc) return GASP_ENOMEM;
  uint32_t *slot_local = NULL; /* global edge slot -> local slot */
  gasp_vid no = 0, ng = 0;
  for (uint64_t v = 0; v < nvg; v++)
    loc[v] = owner[v] == rank ? no++ : NONE;
  for (uint64_t v = 0; v < nvg; v++) {
    if (owner[v] != rank) continue;
    for (int dir = 0; dir < 2; dir++) {
      const uint64_t *off = dir ? g->in_off : g->out_off;
      const gasp_vid *nbr = dir ? g->in_nbr : g->out_nbr;
      for (uint64_t j = off[v]; j < off[v + 1]; j++)
        if (loc[nbr[j]] == NONE) loc[nbr[j]] = PENDING;
    }
  }
  for (uint64_t v = 0; v < nvg; v++)
    if (loc[v] == PENDING) loc[v] = no + ng++;
  gasp_vid nv = no + ng;
  gasp_graph *l = gasp__graph_alloc();
  d->global = malloc((nv ? nv : 1) * sizeof *d->global);
  if (!l || !d->global) goto oom;
  for (uint64_t v = 0; v < nvg; v++)
    if (loc[v] != NONE) d->global[loc[v]] = (gasp_vid)v;
  /* count the kept edges */
  uint64_t ne = 0;
  for (gasp_vid lv = 0; lv < nv; lv++) {
    gasp_vid v = d->global[lv];
    for (uint64_t j = g->out_off[v]; j < g->out_off[v + 1]; j++)
      ne += owner[v] == rank || owner[g->out_nbr[j]] == rank;
  }
  l->nv = nv;
  l->nowned = no;
  l->nleft = nv;
  l->ne = ne;
  l->gid = malloc((nv ? nv : 1) * sizeof *l->gid);
  l->out_off = malloc((nv + 1) * sizeof *l->out_off);
  l->in_off = malloc((nv + 1) * sizeof *l->in_off);
  l->out_nbr = malloc((ne ? ne : 1) * sizeof *l->out_nbr);
  l->in_nbr = malloc((ne ? ne : 1) * sizeof *l->in_nbr);
  l->in_slot = malloc((ne ? ne : 1) * sizeof *l->in_slot);
  d->slot_global = malloc((ne ? ne : 1) * sizeof *d->slot_global);
  if (g->weight) l->weight = malloc((ne ? ne : 1) * sizeof *l->weight);
  slot_local = malloc((g->ne ? g->ne : 1) * sizeof *slot_local);
  if (!l->gid || !l->out_off || !l->in_off || !l->out_nbr || !l->in_nbr ||
      !l->in_slot || !d->slot_global || (g->weight && !l->weight) ||
      !slot_local)
    goto oom;
  /* out-lists: owned targets, then ghost targets (each run ascending) */
  uint64_t e = 0;
  for (gasp_vid lv = 0; lv < nv; lv++) {
    gasp_vid v = d->global[lv];
    l->gid[lv] = g->gid[v];
    l->out_off[lv] = e;
    for (int pass = 0; pass < 2; pass++)
      for (uint64_t j = g->out_off[v]; j < g->out_off[v + 1]; j++) {
        gasp_vid u = g->out_nbr[j];
        if (!(owner[v] == rank || owner[u] == rank)) continue;
        if ((loc[u] >= no) != pass) continue;
        l->out_nbr[e] = loc[u];
        d->slot_global[e] = j;
        slot_local[j] = (uint32_t)e;
        if (l->weight) l->weight[e] = g->weight[j];
        e++;
      }
  }
  l->out_off[nv] = e;
  /* in-lists the same way; in_slot maps through the global slot, which
   * also tells repeated edges u -> v apart */
  e = 0;
  for (gasp_vid lv = 0; lv < nv; lv++) {
    gasp_vid v = d->global[lv];
    l->in_off[lv] = e;
    for (int pass = 0; pass < 2; pass++)
      for (uint64_t j = g->in_off[v]; j < g->in_off[v + 1]; j++) {
        gasp_vid u = g->in_nbr[j];
        if (!(owner[v] == rank || owner[u] == rank)) continue;
        if ((loc[u] >= no) != pass) continue;
        gasp_vid lu = loc[u];
        l->in_nbr[e] = lu;
        /* the global slot of this in-edge identifies the copy among
         * repeated edges u -> v */
        (void)lu;
        l->in_slot[e] = slot_local[g->in_slot[j]];
        e++;
      }
  }
  l->in_off[nv] = e;
  free(slot_local);
  d->local = l;
  d->loc = loc;
  return GASP_OK;
oom:
  gasp_graph_free(&l);
  free(loc);
  free(slot_local);
  return GASP_ENOMEM;
}

/* send[p]: owned vertices adjacent to a vertex p owns; recv[p]: ghosts p
 * owns (both ascending, as local ids are). */
static int build_lists(gasp_dist *d, const uint32_t *owner) {
  gasp_graph *l = d->local;
  int P = d->size;
  uint64_t *nsend = calloc((size_t)P, sizeof *nsend);
  uint64_t *nrecv = calloc((size_t)P, sizeof *nrecv);
  gasp_vid *stamp = malloc((size_t)P * sizeof *stamp);
  d->send = calloc((size_t)P, sizeof *d->send);
  d->recv = calloc((size_t)P, sizeof *d->recv);
  d->nsend = nsend;
  d->nrecv = nrecv;
  if (!nsend || !nrecv || !stamp || !d->send || !d->recv) {
    free(stamp);
    return GASP_ENOMEM;
  }
  for (int pass = 0; pass < 2; pass++) {
    for (int p = 0; p < P; p++)
      stamp[p] = NONE;
    if (pass) {
      for (int p = 0; p < P; p++) {
        d->send[p] = malloc((nsend[p] ? nsend[p] : 1) * sizeof **d->send);
        d->recv[p] = malloc((nrecv[p] ? nrecv[p] : 1) * sizeof **d->recv);
        if (!d->send[p] || !d->recv[p]) {
          free(stamp);
          return GASP_ENOMEM;
        }
        nsend[p] = nrecv[p] = 0;
      }
    }
    for (gasp_vid v = 0; v < l->nowned; v++)
      for (int dir = 0; dir < 2; dir++) {
        const uint64_t *off = dir ? l->in_off : l->out_off;
        const gasp_vid *nbr = dir ? l->in_nbr : l->out_nbr;
        for (uint64_t j = off[v]; j < off[v + 1]; j++) {
          if (nbr[j] < l->nowned) continue;
          uint32_t p = owner[d->global[nbr[j]]];
          if (stamp[p] == v) continue;
          stamp[p] = v;
          if (pass) d->send[p][nsend[p]] = v;
          nsend[p]++;
        }
      }
    for (gasp_vid v = l->nowned; v < l->nv; v++) {
      uint32_t p = owner[d->global[v]];
      if (pass) d->recv[p][nrecv[p]] = v;
      nrecv[p]++;
    }
  }
  free(stamp);
  return GASP_OK;
}

int gasp__dist_build(gasp_dist **out, const gasp_graph *g, const uint32_t *owner,
                     int parts, int rank, gasp_error *err) {
  *out = NULL;
  for (uint64_t v = 0; v < g->nv; v++)
    if (owner[v] >= (uint32_t)parts)
      return gasp__fail(err, GASP_EINVAL, NULL, 0,
                        "owner map names part %u of a %d-rank cluster",
                        owner[v], parts);
  gasp_dist *d = calloc(1, sizeof *d);
  if (!d) return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  d->rank = rank;
  d->size = parts;
  d->global_nv = g->nv;
  d->global_ne = g->ne;
  d->global_nleft = g->bipartite ? g->nleft : g->nv;
  d->owner_of = malloc((g->nv ? g->nv : 1) * sizeof *d->owner_of);
  if (!d->owner_of) {
    free(d);
    return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  }
  memcpy(d->owner_of, owner, g->nv * sizeof *owner);
  int rc = build_local(d, g, owner, (uint32_t)rank);
  if (!rc) rc = build_lists(d, owner);
  if (rc) {
    gasp_dist_free(&d);
    return gasp__fail(err, rc, NULL, 0, "out of memory");
  }
  *out = d;
  return GASP_OK;
}

gasp_side gasp_dist_side(const gasp_dist *d, gasp_vid local) {
  return d->global[local] < d->global_nleft ? GASP_SIDE_LEFT : GASP_SIDE_RIGHT;
}

int gasp_dist_new(gasp_dist **out, gasp_cluster *c, const gasp_graph *g,
                  const uint32_t *owner, gasp_error *err) {
  *out = NULL;
  gasp__error_clear(err);
  if (!c || !g || !owner)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "missing argument");
  int rc = gasp__dist_build(out, g, owner, gasp_cluster_size(c),
                            gasp_cluster_rank(c), err);
  if (rc == GASP_OK) (*out)->cluster = c;
  return rc;
}

void gasp_dist_free(gasp_dist **dp) {
  if (!dp || !*dp) return;
  gasp_dist *d = *dp;
  gasp_graph_free(&d->local);
  if (d->send)
    for (int p = 0; p < d->size; p++)
      free(d->send[p]);
  if (d->recv)
    for (int p = 0; p < d->size; p++)
      free(d->recv[p]);
  free(d->send);
  free(d->recv);
  free(d->nsend);
  free(d->nrecv);
  free(d->global);
  free(d->loc);
  free(d->slot_global);
  free(d->owner_of);
  free(d->gids);
  free(d->buf);
  free(d);
  *dp = NULL;
}

gasp_graph *gasp_dist_graph(gasp_dist *d) { return d->local; }
gasp_cluster *gasp_dist_cluster(gasp_dist *d) { return d->cluster; }
gasp_vid gasp_dist_global_id(const gasp_dist *d, gasp_vid local) {
  return d->global[local];
}
uint64_t gasp_dist_global_vertices(const gasp_dist *d) { return d->global_nv; }
uint64_t gasp_dist_global_edges(const gasp_dist *d) { return d->global_ne; }

uint64_t gasp_dist_ghost_values(const gasp_dist *d) {
  uint64_t n = 0;
  for (int p = 0; p < d->size; p++)
    n += d->nrecv[p];
  return n;
}

int gasp_dist_gather(gasp_dist *d, const void *local_data, size_t size,
                     void *global_data, gasp_error *err) {
  int P = d->size;
  gasp_vid no = d->local->nowned;
  const void **send = calloc((size_t)P, sizeof *send);
  size_t *len = calloc((size_t)P, sizeof *len);
  const void **recv = calloc((size_t)P, sizeof *recv);
  size_t *rlen = calloc((size_t)P, sizeof *rlen);
  int rc = GASP_ENOMEM;
  if (!send || !len || !recv || !rlen) {
    gasp__fail(err, rc, NULL, 0, "out of memory");
    goto out;
  }
  if (d->rank != 0) {
    send[0] = local_data;
    len[0] = (size_t)no * size;
  }
  if ((rc = gasp_cluster_exchange(d->cluster, send, len, recv, rlen, err)))
    goto out;
  if (d->rank == 0) {
    /* rank p's owned vertices in ascending global id: those with owner p */
    uint8_t *gd = global_data;
    for (gasp_vid v = 0; v < no; v++)
      memcpy(gd + (size_t)d->global[v] * size,
             (const uint8_t *)local_data + (size_t)v * size, size);
    /* rank p sends its owned vertices in ascending global id: the
     * vertices the owner map gives p, in order */
    for (int p = 1; p < P; p++) {
      uint64_t want = 0;
      for (uint64_t v = 0; v < d->global_nv; v++)
        want += d->owner_of[v] == (uint32_t)p;
      if (rlen[p] != want * size) {
        rc =
            gasp__fail(err, GASP_EPEER, NULL, 0,
                       "rank %d sent %zu bytes of vertex values, expected %llu",
                       p, rlen[p], (unsigned long long)(want * size));
        goto out;
      }
      const uint8_t *src = recv[p];
      uint64_t k = 0;
      for (uint64_t v = 0; v < d->global_nv; v++)
        if (d->owner_of[v] == (uint32_t)p)
          memcpy(gd + v * size, src + (k++) * size, size);
    }
  }
  rc = GASP_OK;
out:
  free(send);
  free(len);
  free(recv);
  free(rlen);
  return rc;
}
