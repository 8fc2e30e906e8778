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
 * Distance 2 (full consistency) runs the same rounds on the square of the
 * graph through summaries of each vertex's neighbourhood (below).
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

/* Global vertex gu outranks gv. */
static int above_g(uint64_t gu, uint64_t gv) {
  uint64_t hu = mix(gu), hv = mix(gv);
  return hu != hv ? hu > hv : gu > gv;
}

/* u outranks v (local ids) */
static int above(const gasp_dist *d, gasp_vid u, gasp_vid v) {
  return above_g(d->global[u], d->global[v]);
}

/* One exchange of per-peer byte runs packed into one buffer. */
typedef struct swap {
  uint8_t *buf;
  const void **send, **recv;
  size_t *len, *rlen;
} swap;

static void swap_free(swap *w) {
  free(w->buf);
  free(w->send);
  free(w->len);
  free(w->recv);
  free(w->rlen);
}

static int swap_new(swap *w, int P, size_t bytes, gasp_error *err) {
  w->buf = gasp__malloc(bytes ? bytes : 1);
  w->send = gasp__calloc((size_t)P, sizeof *w->send);
  w->len = gasp__calloc((size_t)P, sizeof *w->len);
  w->recv = gasp__calloc((size_t)P, sizeof *w->recv);
  w->rlen = gasp__calloc((size_t)P, sizeof *w->rlen);
  if (w->buf && w->send && w->len && w->recv && w->rlen) return GASP_OK;
  swap_free(w);
  return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
}

/* Sends every owned colour the peers hold as ghosts. */
static int share(gasp_dist *d, uint32_t *color, gasp_error *err) {
  const int P = d->size;
  uint64_t total = 0;
  for (int p = 0; p < P; p++)
    total += p == d->rank ? 0 : d->nsend[p];
  swap x;
  int rc = swap_new(&x, P, total * sizeof(uint32_t), err);
  if (rc) return rc;
  uint8_t *w = x.buf;
  for (int p = 0; p < P; p++) {
    if (p == d->rank) continue;
    x.send[p] = w;
    x.len[p] = d->nsend[p] * sizeof(uint32_t);
    for (uint64_t k = 0; k < d->nsend[p]; k++, w += sizeof(uint32_t))
      memcpy(w, &color[d->send[p][k]], sizeof(uint32_t));
  }
  if ((rc = gasp_cluster_exchange(d->cluster, x.send, x.len, x.recv, x.rlen,
                                  err)))
    goto out;
  for (int p = 0; p < P; p++) {
    if (p == d->rank) continue;
    if (x.rlen[p] != d->nrecv[p] * sizeof(uint32_t)) {
      rc = gasp__fail(err, GASP_EPEER, NULL, 0,
                      "rank %d: peer %d sent %zu bytes of colours for %llu "
                      "ghosts",
                      d->rank, p, x.rlen[p], (unsigned long long)d->nrecv[p]);
      goto out;
    }
    for (uint64_t k = 0; k < d->nrecv[p]; k++)
      memcpy(&color[d->recv[p][k]],
             (const uint8_t *)x.recv[p] + k * sizeof(uint32_t),
             sizeof(uint32_t));
  }
out:
  swap_free(&x);
  return rc;
}

/* The end of a round: the colours travel to the ghosts, and *more says
 * whether any rank has vertices left. */
static int end_round(gasp_dist *d, uint32_t *color, uint64_t left, int *more,
                     gasp_error *err) {
  int rc = share(d, color, err);
  double n = (double)left;
  if (!rc) rc = gasp_cluster_allreduce(d->cluster, &n, 1, GASP_REDUCE_SUM, err);
  *more = n > 0;
  return rc;
}

/* ---- distance 2 --------------------------------------------------------
 *
 * Two vertices within distance 2 share a middle vertex u (one of them, or
 * a common neighbour), and u's owner sees both: it has u's whole
 * adjacency.  So each round every rank summarises each owned u over its
 * closed neighbourhood N[u] -- the two highest-priority uncoloured members
 * and the colours used -- and sends the summaries of the vertices peers
 * hold as ghosts.  An uncoloured owned v is then the highest uncoloured
 * vertex within distance 2 iff no middle u in N[v] (v included) has an
 * uncoloured member other than v above it; it takes the smallest colour
 * no middle lists.  Two vertices within distance 2 cannot both be the
 * highest, so a round's choices never clash (plain Jones-Plassmann on the
 * square of the graph, without building it). */

typedef struct mid {
  uint64_t top[2]; /* global id + 1 of the highest uncoloured, 0: none */
  uint64_t off;    /* its colours: pool[off .. off + n) */
  uint32_t n;
} mid;

typedef struct d2 {
  gasp_dist *d;
  const gasp_graph *g;
  uint32_t *color;
  mid *m; /* per local vertex: owned from here, ghosts from owners */
  uint32_t *pool;
  uint64_t npool, cap;
  gasp_vid *nb;
  uint64_t nbcap;
  gasp_error *err;
} d2;

static int pool_room(d2 *x, uint64_t more) {
  if (x->npool + more <= x->cap) return GASP_OK;
  uint64_t cap = x->cap ? x->cap : 1024;
  while (cap < x->npool + more)
    cap *= 2;
  uint32_t *p = gasp__realloc(x->pool, cap * sizeof *p);
  if (!p) return gasp__fail(x->err, GASP_ENOMEM, NULL, 0, "out of memory");
  x->pool = p;
  x->cap = cap;
  return GASP_OK;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* The summary of owned u over N[u]. */
static int summarise(d2 *x, gasp_vid u) {
  uint64_t k = gasp__neighbours(x->g, u, &x->nb, &x->nbcap);
  if (k == UINT64_MAX)
    return gasp__fail(x->err, GASP_ENOMEM, NULL, 0, "out of memory");
  int rc = pool_room(x, k + 1);
  if (rc) return rc;
  mid *m = &x->m[u];
  m->top[0] = m->top[1] = 0;
  m->off = x->npool;
  uint32_t *c = x->pool + x->npool, n = 0;
  for (uint64_t i = 0; i <= k; i++) {
    gasp_vid w = i < k ? x->nb[i] : u;
    if (x->color[w] != NONE) {
      c[n++] = x->color[w];
      continue;
    }
    uint64_t gw = x->d->global[w] + 1;
    if (!m->top[0] || above_g(gw - 1, m->top[0] - 1)) {
      m->top[1] = m->top[0];
      m->top[0] = gw;
    } else if (!m->top[1] || above_g(gw - 1, m->top[1] - 1)) {
      m->top[1] = gw;
    }
  }
  qsort(c, n, sizeof *c, cmp_u32);
  uint32_t u2 = 0;
  for (uint32_t i = 0; i < n; i++)
    if (i == 0 || c[i] != c[i - 1]) c[u2++] = c[i];
  m->n = u2;
  x->npool += u2;
  return GASP_OK;
}

/* Sends the summaries of owned vertices to the ranks holding them. */
static int share_summaries(d2 *x) {
  gasp_dist *d = x->d;
  const int P = d->size;
  size_t total = 0;
  for (int p = 0; p < P; p++)
    for (uint64_t k = 0; p != d->rank && k < d->nsend[p]; k++)
      total += 20 + 4 * (size_t)x->m[d->send[p][k]].n;
  swap sw;
  int rc = swap_new(&sw, P, total, x->err);
  if (rc) return rc;
  const void **send = sw.send, **recv = sw.recv;
  size_t *len = sw.len, *rlen = sw.rlen;
  uint8_t *w = sw.buf;
  for (int p = 0; p < P; p++) {
    if (p == d->rank) continue;
    send[p] = w;
    for (uint64_t k = 0; k < d->nsend[p]; k++) {
      const mid *m = &x->m[d->send[p][k]];
      memcpy(w, m->top, 16);
      memcpy(w + 16, &m->n, 4);
      memcpy(w + 20, x->pool + m->off, 4 * (size_t)m->n);
      w += 20 + 4 * (size_t)m->n;
    }
    len[p] = (size_t)(w - (const uint8_t *)send[p]);
  }
  if ((rc = gasp_cluster_exchange(d->cluster, send, len, recv, rlen, x->err)))
    goto out;
  for (int p = 0; p < P && !rc; p++) {
    if (p == d->rank) continue;
    const uint8_t *r = recv[p], *end = r + rlen[p];
    for (uint64_t k = 0; k < d->nrecv[p] && !rc; k++) {
      mid *m = &x->m[d->recv[p][k]];
      uint32_t n = 0;
      if (end - r >= 20) memcpy(&n, r + 16, 4);
      if (end - r < 20 || (size_t)(end - r - 20) / 4 < n) {
        rc = gasp__fail(x->err, GASP_EPEER, NULL, 0,
                        "rank %d: peer %d sent truncated colouring summaries",
                        d->rank, p);
        break;
      }
      if ((rc = pool_room(x, n))) break;
      memcpy(m->top, r, 16);
      m->n = n;
      m->off = x->npool;
      memcpy(x->pool + x->npool, r + 20, 4 * (size_t)n);
      x->npool += n;
      r += 20 + 4 * (size_t)n;
    }
    if (!rc && r != end)
      rc = gasp__fail(x->err, GASP_EPEER, NULL, 0,
                      "rank %d: peer %d sent %zu bytes of colouring "
                      "summaries past its ghosts",
                      d->rank, p, (size_t)(end - r));
  }
out:
  swap_free(&sw);
  return rc;
}

static int color2(gasp_engine *e, uint32_t *color, gasp_error *err) {
  gasp_dist *d = e->opts.dist;
  const gasp_graph *g = e->g;
  gasp_vid nv = g->nv, no = g->nowned;
  d2 x = {d,    g, color, gasp__calloc(nv ? nv : 1, sizeof(mid)), NULL, 0, 0,
          NULL, 0, err};
  uint32_t *seen = NULL; /* seen[c] == v + 1: a middle of v lists c */
  uint64_t scap = 0;
  int rc =
      x.m ? GASP_OK : gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  for (gasp_vid v = 0; v < nv; v++)
    color[v] = NONE;
  while (!rc) {
    x.npool = 0;
    for (gasp_vid u = 0; u < no && !rc; u++)
      rc = summarise(&x, u);
    if (rc || (rc = share_summaries(&x))) break;
    uint64_t left = 0;
    for (gasp_vid v = 0; v < no && !rc; v++) {
      if (color[v] != NONE) continue;
      uint64_t k = gasp__neighbours(g, v, &x.nb, &x.nbcap), gv = d->global[v];
      if (k == UINT64_MAX) {
        rc = gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
        break;
      }
      int ready = 1;
      for (uint64_t i = 0; i <= k && ready; i++) {
        const mid *m = &x.m[i < k ? x.nb[i] : v];
        uint64_t t = m->top[0] == gv + 1 ? m->top[1] : m->top[0];
        ready = !t || !above_g(t - 1, gv);
      }
      if (!ready) {
        left++;
        continue;
      }
      for (uint64_t i = 0; i <= k; i++) {
        const mid *m = &x.m[i < k ? x.nb[i] : v];
        for (uint32_t j = 0; j < m->n; j++) {
          uint32_t c = x.pool[m->off + j];
          if (c >= scap) {
            uint64_t ncap = scap ? scap : 64;
            while (ncap <= c)
              ncap *= 2;
            uint32_t *ns = gasp__realloc(seen, ncap * sizeof *ns);
            if (!ns) {
              rc = gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
              break;
            }
            memset(ns + scap, 0, (ncap - scap) * sizeof *ns);
            seen = ns;
            scap = ncap;
          }
          seen[c] = v + 1;
        }
      }
      uint32_t c = 0;
      while (c < scap && seen[c] == v + 1)
        c++;
      color[v] = c;
    }
    int more = 0;
    if (rc || (rc = end_round(d, color, left, &more, err)) || !more) break;
  }
  free(x.m);
  free(x.pool);
  free(x.nb);
  free(seen);
  return rc;
}

/* Distance 1: Jones-Plassmann, greedy within a rank's round. */
static int color1(gasp_engine *e, uint32_t *color, gasp_error *err) {
  gasp_dist *d = e->opts.dist;
  const gasp_graph *g = e->g;
  gasp_vid nv = g->nv, no = g->nowned;
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
        uint32_t *ns = gasp__realloc(seen, (size_t)(k + 1) * sizeof *ns);
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
    int more = 0;
    if ((rc = end_round(d, color, left, &more, err))) goto out;
    if (!more) break;
  }
  goto out;
oom:
  rc = gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
out:
  free(nb);
  free(seen);
  return rc;
}

int gasp__dist_color(gasp_engine *e, int distance, uint32_t *color,
                     int *ncolors, gasp_error *err) {
  gasp_dist *d = e->opts.dist;
  gasp_vid nv = e->g->nv, no = e->g->nowned;
  if (distance == 0) {
    memset(color, 0, (size_t)nv * sizeof *color);
    *ncolors = d->global_nv ? 1 : 0;
    return GASP_OK;
  }
  int rc = distance == 2 ? color2(e, color, err) : color1(e, color, err);
  if (rc) return rc;
  double most = 0;
  for (gasp_vid v = 0; v < no; v++)
    if ((double)color[v] + 1 > most) most = (double)color[v] + 1;
  if ((rc = gasp_cluster_allreduce(d->cluster, &most, 1, GASP_REDUCE_MAX, err)))
    return rc;
  *ncolors = (int)most;
  return GASP_OK;
}
