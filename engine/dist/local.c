/*
 * local.c -- one rank's share of a partitioned graph: the local graph
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
  uint32_t *loc = gasp__malloc((nvg ? nvg : 1) * sizeof *loc);
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
  d->global = gasp__malloc((nv ? nv : 1) * sizeof *d->global);
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
  l->gid = gasp__malloc((nv ? nv : 1) * sizeof *l->gid);
  l->out_off = gasp__malloc((nv + 1) * sizeof *l->out_off);
  l->in_off = gasp__malloc((nv + 1) * sizeof *l->in_off);
  l->out_nbr = gasp__malloc((ne ? ne : 1) * sizeof *l->out_nbr);
  l->in_nbr = gasp__malloc((ne ? ne : 1) * sizeof *l->in_nbr);
  l->in_slot = gasp__malloc((ne ? ne : 1) * sizeof *l->in_slot);
  d->slot_global = gasp__malloc((ne ? ne : 1) * sizeof *d->slot_global);
  if (g->weight) l->weight = gasp__malloc((ne ? ne : 1) * sizeof *l->weight);
  slot_local = gasp__malloc((g->ne ? g->ne : 1) * sizeof *slot_local);
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
  uint64_t *nsend = gasp__calloc((size_t)P, sizeof *nsend);
  uint64_t *nrecv = gasp__calloc((size_t)P, sizeof *nrecv);
  gasp_vid *stamp = gasp__malloc((size_t)P * sizeof *stamp);
  d->send = gasp__calloc((size_t)P, sizeof *d->send);
  d->recv = gasp__calloc((size_t)P, sizeof *d->recv);
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
        d->send[p] = gasp__malloc((nsend[p] ? nsend[p] : 1) * sizeof **d->send);
        d->recv[p] = gasp__malloc((nrecv[p] ? nrecv[p] : 1) * sizeof **d->recv);
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

int gasp__dist_build(gasp_dist **out, const gasp_graph *g,
                     const uint32_t *owner, int parts, int rank,
                     gasp_error *err) {
  *out = NULL;
  if (g->by_gid) /* the local graphs keep ids ascending within each run */
    return gasp__fail(err, GASP_ENOTSUP, NULL, 0,
                      "a reordered graph (gasp_graph_reorder) does not run "
                      "across ranks; convert it without --reorder");
  for (uint64_t v = 0; v < g->nv; v++)
    if (owner[v] >= (uint32_t)parts)
      return gasp__fail(err, GASP_EINVAL, NULL, 0,
                        "owner map names part %u of a %d-rank cluster",
                        owner[v], parts);
  gasp_dist *d = gasp__calloc(1, sizeof *d);
  if (!d) return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  d->rank = rank;
  d->size = parts;
  d->global_nv = g->nv;
  d->global_ne = g->ne;
  d->global_nleft = g->bipartite ? g->nleft : g->nv;
  d->owner_of = gasp__malloc((g->nv ? g->nv : 1) * sizeof *d->owner_of);
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
  const void **send = gasp__calloc((size_t)P, sizeof *send);
  size_t *len = gasp__calloc((size_t)P, sizeof *len);
  const void **recv = gasp__calloc((size_t)P, sizeof *recv);
  size_t *rlen = gasp__calloc((size_t)P, sizeof *rlen);
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
  if (d->rank == 0 && size) {
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

/* ---- lists and sums along the ghost lists ----------------------------
 *
 * Both collectives below send along the agreed per-peer lists, so the
 * payloads carry no vertex ids for the vertices they are about: to peer p
 * go the entries of send[p] (ghost lists) or recv[p] (sums to owners) in
 * list order, and p reads them against its own recv / send list for this
 * rank.  Every size and every id received is checked before it is used;
 * a rank that cannot take part (bad arguments) still makes the exchange,
 * with empty payloads, so its peers fail at once with GASP_EPEER instead
 * of waiting for a timeout. */

/* global id -> local id for a dist read from a partition file, which
 * does not store it. */
static int ensure_loc(gasp_dist *d) {
  if (d->loc) return GASP_OK;
  uint32_t *loc =
      gasp__malloc_array(d->global_nv ? d->global_nv : 1, sizeof *loc);
  if (!loc) return GASP_ENOMEM;
  for (uint64_t v = 0; v < d->global_nv; v++)
    loc[v] = NONE;
  for (gasp_vid v = 0; v < d->local->nv; v++)
    loc[d->global[v]] = v;
  d->loc = loc;
  return GASP_OK;
}

/* The exchange scratch: per-peer pointer and length arrays. */
typedef struct xchg {
  const void **send, **recv;
  size_t *len, *rlen;
} xchg;

static int xchg_alloc(xchg *x, int P) {
  x->send = gasp__calloc((size_t)P, sizeof *x->send);
  x->recv = gasp__calloc((size_t)P, sizeof *x->recv);
  x->len = gasp__calloc((size_t)P, sizeof *x->len);
  x->rlen = gasp__calloc((size_t)P, sizeof *x->rlen);
  return x->send && x->recv && x->len && x->rlen ? GASP_OK : GASP_ENOMEM;
}

static void xchg_free(xchg *x) {
  free(x->send);
  free(x->recv);
  free(x->len);
  free(x->rlen);
}

/* Checks the caller's lists: offsets in order, items local ids. */
static int lists_ok(const gasp_dist *d, const uint64_t *off,
                    const gasp_vid *items) {
  gasp_vid no = d->local->nowned, nv = d->local->nv;
  for (gasp_vid v = 0; v < no; v++) {
    if (off[v] > off[v + 1]) return 0;
    for (uint64_t j = off[v]; j < off[v + 1]; j++)
      if (items[j] >= nv) return 0;
  }
  return 1;
}

/* Peer p's payload of ghost lists: nrecv[p] uint64 lengths, then the
 * members as global ids (gasp_vid).  Checks its size and ids and adds the
 * members kept here to cnt (by ghost) or, with items, writes them at
 * pos[ghost].  Returns 0, or -1 for a malformed payload. */
static int read_lists(const gasp_dist *d, int p, const uint8_t *b, size_t len,
                      uint64_t *cnt, uint64_t *pos, gasp_vid *items) {
  uint64_t nr = d->nrecv[p], total = 0;
  gasp_vid no = d->local->nowned;
  if (nr == 0 || !b) return nr == 0 && len == 0 ? 0 : -1;
  if (len / sizeof(uint64_t) < nr) return -1;
  size_t left = len - (size_t)nr * sizeof(uint64_t);
  for (uint64_t k = 0; k < nr; k++) {
    uint64_t n;
    memcpy(&n, b + k * sizeof n, sizeof n);
    if (n > left / sizeof(gasp_vid) - total) return -1;
    total += n;
  }
  if (left != total * sizeof(gasp_vid)) return -1;
  const uint8_t *m = b + (size_t)nr * sizeof(uint64_t);
  for (uint64_t k = 0; k < nr; k++) {
    uint64_t n;
    memcpy(&n, b + k * sizeof n, sizeof n);
    gasp_vid ghost = d->recv[p][k] - no;
    for (uint64_t j = 0; j < n; j++, m += sizeof(gasp_vid)) {
      gasp_vid gv;
      memcpy(&gv, m, sizeof gv);
      if (gv >= d->global_nv) return -1;
      uint32_t lv = d->loc[gv];
      if (lv == NONE) continue;
      if (items)
        items[pos[ghost]++] = lv;
      else
        cnt[ghost]++;
    }
  }
  return 0;
}

/* Empty payloads to every peer: a rank that cannot take part still
 * makes the step, so the others fail on its payload at once. */
static void take_part(gasp_dist *d) {
  gasp_error ignored;
  if (d->size > 1 && d->cluster)
    gasp_cluster_exchange(d->cluster, NULL, NULL, NULL, NULL, &ignored);
}

/* The ghost lists payloads of this rank's owned vertices, one buffer with
 * a part per peer; NULL when out of memory. */
static uint8_t *pack_lists(const gasp_dist *d, const uint64_t *off,
                           const gasp_vid *items, xchg *x) {
  size_t total = 0;
  for (int p = 0; p < d->size; p++) {
    x->len[p] = (size_t)d->nsend[p] * sizeof(uint64_t);
    for (uint64_t k = 0; k < d->nsend[p]; k++) {
      gasp_vid v = d->send[p][k];
      x->len[p] += (size_t)(off[v + 1] - off[v]) * sizeof(gasp_vid);
    }
    total += x->len[p];
  }
  uint8_t *buf = gasp__malloc(total ? total : 1), *w = buf;
  if (!buf) return NULL;
  for (int p = 0; p < d->size; p++) {
    x->send[p] = w;
    for (uint64_t k = 0; k < d->nsend[p]; k++, w += sizeof(uint64_t)) {
      gasp_vid v = d->send[p][k];
      uint64_t n = off[v + 1] - off[v];
      memcpy(w, &n, sizeof n);
    }
    for (uint64_t k = 0; k < d->nsend[p]; k++) {
      gasp_vid v = d->send[p][k];
      for (uint64_t j = off[v]; j < off[v + 1]; j++, w += sizeof(gasp_vid))
        memcpy(w, &d->global[items[j]], sizeof(gasp_vid));
    }
  }
  return buf;
}

int gasp_dist_ghost_lists(gasp_dist *d, const uint64_t *off,
                          const gasp_vid *items, uint64_t **ghost_off,
                          gasp_vid **ghost_items, gasp_error *err) {
  gasp__error_clear(err);
  if (ghost_off) *ghost_off = NULL;
  if (ghost_items) *ghost_items = NULL;
  if (!d || !off || !items || !ghost_off || !ghost_items) {
    if (d) take_part(d);
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "missing argument");
  }
  const int P = d->size;
  gasp_vid no = d->local->nowned, ng = d->local->nv - no;
  if (P > 1 && !d->cluster)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "the dist has no cluster");
  if (!lists_ok(d, off, items)) {
    take_part(d);
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "ghost lists: offsets out of order or an item past the "
                      "local graph");
  }
  xchg x = {0};
  uint8_t *buf = NULL;
  uint64_t *goff = gasp__calloc((size_t)ng + 1, sizeof *goff), *pos = NULL;
  gasp_vid *git = NULL;
  int rc = GASP_ENOMEM;
  if (!goff || xchg_alloc(&x, P) || ensure_loc(d) ||
      !(buf = pack_lists(d, off, items, &x))) {
    take_part(d);
    goto oom;
  }
  if (P > 1 && (rc = gasp_cluster_exchange(d->cluster, x.send, x.len, x.recv,
                                           x.rlen, err)))
    goto out;
  /* count, lay out, fill (the payloads stay valid until the next
   * collective) */
  for (int p = 0; p < P; p++) {
    if (p == d->rank) continue;
    if (read_lists(d, p, x.recv[p], x.rlen[p], goff + 1, NULL, NULL)) {
      rc = gasp__fail(err, GASP_EPEER, NULL, 0,
                      "rank %d: peer %d sent ghost lists of %zu bytes that "
                      "do not match the agreed vertex lists",
                      d->rank, p, x.rlen[p]);
      goto out;
    }
  }
  for (gasp_vid i = 0; i < ng; i++)
    goff[i + 1] += goff[i];
  rc = GASP_ENOMEM;
  pos = gasp__malloc_array((size_t)ng + 1, sizeof *pos);
  git = gasp__malloc_array(goff[ng] ? goff[ng] : 1, sizeof *git);
  if (!pos || !git) goto oom;
  memcpy(pos, goff, ((size_t)ng + 1) * sizeof *pos);
  for (int p = 0; p < P; p++)
    if (p != d->rank) read_lists(d, p, x.recv[p], x.rlen[p], NULL, pos, git);
  *ghost_off = goff;
  *ghost_items = git;
  goff = NULL;
  git = NULL;
  rc = GASP_OK;
  goto out;
oom:
  rc = gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
out:
  xchg_free(&x);
  free(buf);
  free(goff);
  free(pos);
  free(git);
  return rc;
}

int gasp_dist_sum_to_owners(gasp_dist *d, uint64_t *vals, gasp_error *err) {
  gasp__error_clear(err);
  if (!d || !vals)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "missing argument");
  const int P = d->size;
  gasp_vid no = d->local->nowned, nv = d->local->nv;
  if (P == 1) return GASP_OK; /* no ghosts */
  if (!d->cluster)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "the dist has no cluster");
  xchg x = {0};
  uint64_t *buf = gasp__malloc_array(nv - no ? nv - no : 1, sizeof *buf);
  int rc = xchg_alloc(&x, P);
  if (rc || !buf) {
    take_part(d);
    rc = gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
    goto out;
  }
  uint64_t *w = buf;
  for (int p = 0; p < P; p++) {
    x.send[p] = w;
    x.len[p] = (size_t)d->nrecv[p] * sizeof *w;
    for (uint64_t k = 0; k < d->nrecv[p]; k++)
      *w++ = vals[d->recv[p][k]];
  }
  if ((rc = gasp_cluster_exchange(d->cluster, x.send, x.len, x.recv, x.rlen,
                                  err)))
    goto out;
  for (int p = 0; p < P; p++) /* all checked before any is added */
    if (p != d->rank && x.rlen[p] != (size_t)d->nsend[p] * sizeof *w) {
      rc = gasp__fail(err, GASP_EPEER, NULL, 0,
                      "rank %d: peer %d sent %zu bytes of ghost values, "
                      "expected %llu",
                      d->rank, p, x.rlen[p],
                      (unsigned long long)(d->nsend[p] * sizeof *w));
      goto out;
    }
  for (int p = 0; p < P; p++) {
    if (p == d->rank) continue;
    const uint8_t *b = x.recv[p];
    for (uint64_t k = 0; k < d->nsend[p]; k++) {
      uint64_t a;
      memcpy(&a, b + k * sizeof a, sizeof a);
      vals[d->send[p][k]] += a;
    }
  }
  for (gasp_vid v = no; v < nv; v++)
    vals[v] = 0;
out:
  xchg_free(&x);
  free(buf);
  return rc;
}
