/*
 * lock.c -- per-vertex reader-writer spin locks for the async engine's
 * consistency models, the neighbour sets they are taken over, and greedy
 * graph colouring for the chromatic alternative.
 *
 * Locks are always acquired in ascending vertex id (the neighbour set is
 * sorted and the centre is merged into it), so two updates can never wait
 * on each other in a cycle: deadlock-free by the usual resource-ordering
 * argument (Dijkstra; as in GraphLab's locking engine).
 */
#include "engine_internal.h"

#include <sched.h>
#include <string.h>

#define WRITER 0x80000000u

static inline void backoff(unsigned *spins) {
  if (++*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    sched_yield();
  }
}

void gasp__rw_rdlock(uint32_t *l) {
  unsigned spins = 0;
  for (;;) {
    uint32_t v = __atomic_load_n(l, __ATOMIC_RELAXED);
    if (!(v & WRITER) &&
        __atomic_compare_exchange_n(l, &v, v + 1, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return;
    backoff(&spins);
  }
}

void gasp__rw_rdunlock(uint32_t *l) {
  __atomic_fetch_sub(l, 1, __ATOMIC_RELEASE);
}

void gasp__rw_wrlock(uint32_t *l) {
  unsigned spins = 0;
  for (;;) {
    uint32_t v = 0;
    if (__atomic_compare_exchange_n(l, &v, WRITER, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return;
    backoff(&spins);
  }
}

int gasp__rw_tryrdlock(uint32_t *l) {
  uint32_t v = __atomic_load_n(l, __ATOMIC_RELAXED);
  while (!(v & WRITER))
    if (__atomic_compare_exchange_n(l, &v, v + 1, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return 1;
  return 0;
}

int gasp__rw_trywrlock(uint32_t *l) {
  uint32_t v = 0;
  return __atomic_compare_exchange_n(l, &v, WRITER, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED);
}

void gasp__rw_wrunlock(uint32_t *l) {
  __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

uint64_t gasp__neighbours(const gasp_graph *g, gasp_vid v, gasp_vid **buf,
                          uint64_t *cap) {
  uint64_t ib = g->in_off[v], ie = g->in_off[v + 1];
  uint64_t ob = g->out_off[v], oe = g->out_off[v + 1];
  uint64_t need = (ie - ib) + (oe - ob);
  if (need > *cap) {
    uint64_t ncap = *cap ? *cap : 64;
    while (ncap < need)
      ncap *= 2;
    gasp_vid *nb = gasp__realloc(*buf, ncap * sizeof *nb);
    if (!nb) return UINT64_MAX;
    *buf = nb;
    *cap = ncap;
  }
  /* Merge two sorted lists, dropping duplicates and v itself. */
  gasp_vid *out = *buf;
  uint64_t n = 0, i = ib, o = ob;
  while (i < ie || o < oe) {
    gasp_vid x;
    if (o >= oe || (i < ie && g->in_nbr[i] <= g->out_nbr[o]))
      x = g->in_nbr[i++];
    else
      x = g->out_nbr[o++];
    if (x == v || (n > 0 && out[n - 1] == x)) continue;
    out[n++] = x;
  }
  return n;
}

/* ---- greedy colouring ------------------------------------------------ */

int gasp__color_graph(const gasp_graph *g, int distance, uint32_t *color) {
  uint64_t nv = g->nv;
  gasp_vid *nb = NULL, *nb2 = NULL;
  uint64_t cap = 0, cap2 = 0;
  /* used[c] == v + 1 marks colour c as taken for vertex v */
  uint64_t ucap = 64, ncolors = 0;
  uint64_t *used = gasp__calloc(ucap, sizeof *used);
  if (!used) return GASP_ENOMEM;
  for (uint64_t v = 0; v < nv; v++)
    color[v] = UINT32_MAX;
  int rc = 0;
  for (uint64_t v = 0; v < nv && rc == 0; v++) {
    uint64_t n = gasp__neighbours(g, (gasp_vid)v, &nb, &cap);
    if (n == UINT64_MAX) {
      rc = GASP_ENOMEM;
      break;
    }
    for (uint64_t k = 0; k <= n && rc == 0; k++) {
      /* k < n: neighbour u; distance 2 also marks u's neighbours */
      if (k == n) break;
      gasp_vid u = nb[k];
      if (color[u] != UINT32_MAX) used[color[u]] = v + 1;
      if (distance < 2) continue;
      uint64_t n2 = gasp__neighbours(g, u, &nb2, &cap2);
      if (n2 == UINT64_MAX) {
        rc = GASP_ENOMEM;
        break;
      }
      for (uint64_t j = 0; j < n2; j++)
        if (nb2[j] != v && color[nb2[j]] != UINT32_MAX)
          used[color[nb2[j]]] = v + 1;
    }
    if (rc) break;
    uint64_t c = 0;
    while (c < ncolors && used[c] == v + 1)
      c++;
    if (c == ncolors) {
      ncolors++;
      if (ncolors > ucap) {
        uint64_t *nu = gasp__realloc(used, 2 * ucap * sizeof *nu);
        if (!nu) {
          rc = GASP_ENOMEM;
          break;
        }
        memset(nu + ucap, 0, ucap * sizeof *nu);
        used = nu;
        ucap *= 2;
      }
    }
    color[v] = (uint32_t)c;
  }
  free(used);
  free(nb);
  free(nb2);
  return rc ? rc : (int)ncolors;
}
