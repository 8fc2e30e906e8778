/*
 * reorder.c -- gasp_graph_reorder (gasp.h): renumbers a graph's vertices
 * for locality, keeping their original ids.
 *
 *   degree  by out-degree, largest first (ties in the old order): the
 *           sources a pull gather reads most sit together at the front;
 *   dbg     degree-based grouping (Faldu, Diamond and Grot, IISWC 2019):
 *           a few groups by out-degree relative to the mean (2^k times the
 *           mean, hottest first, the coldest below half the mean), the old
 *           order kept inside each group -- most of degree's gain, and
 *           whatever locality the old order had;
 *   rcm     reverse Cuthill-McKee (1969) on the undirected structure:
 *           breadth-first from a low-degree vertex of each component,
 *           neighbours by ascending degree, the whole order reversed --
 *           neighbours get near ids (a narrow band).
 *
 * The new graph's lists are sorted again, its in-edges rebuilt from its
 * out-edges (so in-edge slots point back to them) and its weights follow
 * their edges.  Ids no longer ascend with the local index, so the graph
 * keeps `by_gid`, its vertices in ascending id order, for
 * gasp_graph_find and for outputs in id order (gasp_graph_id_order).
 */
#include "graph_internal.h"

#include <stdlib.h>
#include <string.h>

int gasp_reorder_parse(const char *s, gasp_reorder *out) {
  static const struct {
    const char *name;
    gasp_reorder r;
  } t[] = {{"none", GASP_REORDER_NONE},
           {"degree", GASP_REORDER_DEGREE},
           {"dbg", GASP_REORDER_DBG},
           {"rcm", GASP_REORDER_RCM}};
  for (size_t i = 0; s && i < sizeof t / sizeof *t; i++)
    if (!strcmp(s, t[i].name)) {
      *out = t[i].r;
      return GASP_OK;
    }
  return GASP_EINVAL;
}

const gasp_vid *gasp_graph_id_order(const gasp_graph *g) { return g->by_gid; }

static uint64_t outdeg(const gasp_graph *g, gasp_vid v) {
  return g->out_off[v + 1] - g->out_off[v];
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts (key << 32 | index) words: by key, then index. */
static void sort_packed(uint64_t *w, uint64_t n) {
  if (n > 1) qsort(w, n, sizeof *w, cmp_u64);
}

/* A stable sort of 0..n-1 by key (descending when `desc`): order[new] =
 * old.  Counting when the keys are below n + 1 (the usual degrees: no more
 * memory than the order itself), else a comparison sort, so that one huge
 * key (a vertex with millions of repeated edges) costs no table of its
 * size. */
static int counting_order(const uint32_t *key, uint64_t n, int desc,
                          gasp_vid *order) {
  uint32_t top = 0;
  for (uint64_t v = 0; v < n; v++)
    if (key[v] > top) top = key[v];
  if (top > n || top == UINT32_MAX) {
    uint64_t *w = gasp__malloc_array(n ? n : 1, sizeof *w);
    if (!w) return GASP_ENOMEM;
    for (uint64_t v = 0; v < n; v++)
      w[v] = (uint64_t)(desc ? top - key[v] : key[v]) << 32 | v;
    sort_packed(w, n);
    for (uint64_t i = 0; i < n; i++)
      order[i] = (gasp_vid)w[i];
    free(w);
    return GASP_OK;
  }
  uint32_t nkeys = top + 1;
  uint64_t *start = gasp__calloc((size_t)nkeys + 1, sizeof *start);
  if (!start) return GASP_ENOMEM;
  for (uint64_t v = 0; v < n; v++)
    start[(desc ? nkeys - 1 - key[v] : key[v]) + 1]++;
  for (uint32_t k = 0; k < nkeys; k++)
    start[k + 1] += start[k];
  for (uint64_t v = 0; v < n; v++)
    order[start[desc ? nkeys - 1 - key[v] : key[v]]++] = (gasp_vid)v;
  free(start);
  return GASP_OK;
}

static int order_degree(const gasp_graph *g, int dbg, gasp_vid *order) {
  uint64_t n = g->nv;
  uint32_t *key = gasp__malloc_array(n ? n : 1, sizeof *key);
  if (!key) return GASP_ENOMEM;
  double mean = n ? (double)g->ne / (double)n : 0;
  for (uint64_t v = 0; v < n; v++) {
    uint64_t d = outdeg(g, (gasp_vid)v);
    if (!dbg) { /* out-degrees are below 2^32 (edge slots are 32-bit) */
      key[v] = (uint32_t)(d < UINT32_MAX ? d : UINT32_MAX);
      continue;
    }
    /* groups: below mean / 2, then [mean 2^(k-2), mean 2^(k-1)), 7 the
     * rest */
    double lim = mean / 2;
    uint32_t k = 0;
    while (k < 7 && (double)d >= lim) {
      k++;
      lim *= 2;
    }
    key[v] = k;
  }
  int rc = counting_order(key, n, 1, order);
  free(key);
  return rc;
}

/* Reverse Cuthill-McKee over in- and out-neighbours together. */
static int order_rcm(const gasp_graph *g, gasp_vid *order) {
  uint64_t n = g->nv;
  uint8_t *seen = gasp__calloc(n ? n : 1, 1);
  uint32_t *deg = gasp__malloc_array(n ? n : 1, sizeof *deg);
  gasp_vid *byd = gasp__malloc_array(n ? n : 1, sizeof *byd);
  uint64_t *nb = NULL; /* unseen neighbours as (degree << 32 | index) */
  uint64_t nbcap = 0;
  int rc = GASP_ENOMEM;
  if (!seen || !deg || !byd) goto out;
  for (uint64_t v = 0; v < n; v++) {
    uint64_t d = outdeg(g, (gasp_vid)v) + g->in_off[v + 1] - g->in_off[v];
    deg[v] = (uint32_t)(d < UINT32_MAX ? d : UINT32_MAX - 1);
  }
  /* the starts: by ascending degree */
  if ((rc = counting_order(deg, n, 0, byd))) goto out;
  uint64_t head = 0, tail = 0;
  for (uint64_t s = 0; s < n; s++) {
    gasp_vid root = byd[s];
    if (seen[root]) continue;
    seen[root] = 1;
    order[tail++] = root;
    while (head < tail) {
      gasp_vid u = order[head++];
      uint64_t k = 0, need = outdeg(g, u) + g->in_off[u + 1] - g->in_off[u];
      if (need > nbcap) {
        uint64_t *t = gasp__realloc(nb, need * sizeof *nb);
        if (!t) {
          rc = GASP_ENOMEM;
          goto out;
        }
        nb = t;
        nbcap = need;
      }
      for (int dir = 0; dir < 2; dir++) {
        const uint64_t *off = dir ? g->in_off : g->out_off;
        const gasp_vid *nbr = dir ? g->in_nbr : g->out_nbr;
        for (uint64_t j = off[u]; j < off[u + 1]; j++) {
          gasp_vid x = nbr[j];
          if (seen[x]) continue;
          seen[x] = 1;
          nb[k++] = (uint64_t)deg[x] << 32 | x;
        }
      }
      sort_packed(nb, k); /* by ascending degree, then index */
      for (uint64_t a = 0; a < k; a++)
        order[tail++] = (gasp_vid)nb[a];
    }
  }
  for (uint64_t i = 0; i < n / 2; i++) { /* reversed */
    gasp_vid t = order[i];
    order[i] = order[n - 1 - i];
    order[n - 1 - i] = t;
  }
  rc = GASP_OK;
out:
  free(seen);
  free(deg);
  free(byd);
  free(nb);
  return rc;
}

typedef struct pair_w {
  gasp_vid v;
  double w;
} pair_w;

static int cmp_vid(const void *a, const void *b) {
  gasp_vid x = *(const gasp_vid *)a, y = *(const gasp_vid *)b;
  return x < y ? -1 : x > y;
}

static int cmp_pw(const void *a, const void *b) {
  gasp_vid x = ((const pair_w *)a)->v, y = ((const pair_w *)b)->v;
  return x < y ? -1 : x > y;
}

/* The graph g renumbered so that new vertex i is old vertex order[i]. */
static int relabel(const gasp_graph *g, const gasp_vid *order, gasp_graph **out) {
  uint64_t n = g->nv, ne = g->ne;
  gasp_graph *h = gasp__graph_alloc();
  gasp_vid *pos = gasp__malloc_array(n ? n : 1, sizeof *pos);
  uint64_t *cur = gasp__malloc_array(n + 1, sizeof *cur);
  pair_w *tmp = NULL;
  if (!h || !pos || !cur) goto nomem;
  h->nv = h->nowned = h->nleft = (gasp_vid)n;
  h->ne = ne;
  h->gid = gasp__malloc_array(n ? n : 1, sizeof *h->gid);
  h->by_gid = gasp__malloc_array(n ? n : 1, sizeof *h->by_gid);
  h->out_off = gasp__malloc_array(n + 1, sizeof *h->out_off);
  h->in_off = gasp__malloc_array(n + 1, sizeof *h->in_off);
  h->out_nbr = gasp__malloc_array(ne ? ne : 1, sizeof *h->out_nbr);
  h->in_nbr = gasp__malloc_array(ne ? ne : 1, sizeof *h->in_nbr);
  h->in_slot = gasp__malloc_array(ne ? ne : 1, sizeof *h->in_slot);
  if (g->weight && !(h->weight = gasp__malloc_array(ne ? ne : 1, 8)))
    goto nomem;
  if (!h->gid || !h->by_gid || !h->out_off || !h->in_off || !h->out_nbr ||
      !h->in_nbr || !h->in_slot)
    goto nomem;
  for (uint64_t i = 0; i < n; i++)
    pos[order[i]] = (gasp_vid)i;
  h->out_off[0] = h->in_off[0] = 0;
  for (uint64_t i = 0; i < n; i++) {
    gasp_vid o = order[i];
    h->gid[i] = g->gid[o];
    h->out_off[i + 1] = h->out_off[i] + outdeg(g, o);
    h->in_off[i + 1] = h->in_off[i] + (g->in_off[o + 1] - g->in_off[o]);
  }
  /* the vertices by ascending id: the old ones' order, renumbered */
  for (uint64_t i = 0; i < n; i++)
    h->by_gid[i] = pos[g->by_gid ? g->by_gid[i] : (gasp_vid)i];
  uint64_t most = 0;
  for (uint64_t i = 0; i < n; i++)
    if (outdeg(g, (gasp_vid)i) > most) most = outdeg(g, (gasp_vid)i);
  if (g->weight && !(tmp = gasp__malloc_array(most ? most : 1, sizeof *tmp)))
    goto nomem;
  for (uint64_t i = 0; i < n; i++) {
    gasp_vid o = order[i];
    uint64_t a = g->out_off[o], d = outdeg(g, o), at = h->out_off[i];
    if (g->weight) {
      for (uint64_t k = 0; k < d; k++)
        tmp[k] = (pair_w){pos[g->out_nbr[a + k]], g->weight[a + k]};
      qsort(tmp, d, sizeof *tmp, cmp_pw); /* equal ids: a repeated edge */
      for (uint64_t k = 0; k < d; k++) {
        h->out_nbr[at + k] = tmp[k].v;
        h->weight[at + k] = tmp[k].w;
      }
    } else {
      for (uint64_t k = 0; k < d; k++)
        h->out_nbr[at + k] = pos[g->out_nbr[a + k]];
      qsort(h->out_nbr + at, d, sizeof *h->out_nbr, cmp_vid);
    }
  }
  /* in-edges by transposition: each list ascends by source */
  memcpy(cur, h->in_off, (n + 1) * sizeof *cur);
  for (uint64_t u = 0; u < n; u++)
    for (uint64_t j = h->out_off[u]; j < h->out_off[u + 1]; j++) {
      gasp_vid v = h->out_nbr[j];
      h->in_nbr[cur[v]] = (gasp_vid)u;
      h->in_slot[cur[v]++] = (uint32_t)j;
    }
  if (g->name_off) { /* names follow their vertices */
    h->name_off = gasp__malloc_array(n + 1, sizeof *h->name_off);
    h->names = gasp__malloc(g->name_off[n] ? g->name_off[n] : 1);
    if (!h->name_off || !h->names) goto nomem;
    h->name_off[0] = 0;
    for (uint64_t i = 0; i < n; i++) {
      uint64_t a = g->name_off[order[i]], b = g->name_off[order[i] + 1];
      memcpy(h->names + h->name_off[i], g->names + a, b - a);
      h->name_off[i + 1] = h->name_off[i] + (b - a);
    }
  }
  free(pos);
  free(cur);
  free(tmp);
  *out = h;
  return GASP_OK;
nomem:
  free(pos);
  free(cur);
  free(tmp);
  gasp_graph_free(&h);
  return GASP_ENOMEM;
}

int gasp_graph_reorder(gasp_graph **g, gasp_reorder how, gasp_error *err) {
  gasp__error_clear(err);
  if (!g || !*g) return gasp__fail(err, GASP_EINVAL, NULL, 0, "no graph");
  gasp_graph *old = *g;
  if ((unsigned)how > GASP_REORDER_RCM)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "unknown reordering %d",
                      (int)how);
  if (how == GASP_REORDER_NONE) return GASP_OK;
  if (old->bipartite)
    return gasp__fail(err, GASP_ENOTSUP, NULL, 0,
                      "a bipartite graph keeps each side in id order (no "
                      "reordering)");
  if (old->nowned != old->nv)
    return gasp__fail(err, GASP_ENOTSUP, NULL, 0,
                      "a rank's part of a distributed graph cannot be "
                      "reordered (reorder the whole graph)");
  if (old->vdata || old->edata)
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "the graph has program data (reorder it before an "
                      "engine runs on it)");
  gasp_vid *order = gasp__malloc_array(old->nv ? old->nv : 1, sizeof *order);
  int rc = order ? GASP_OK : GASP_ENOMEM;
  if (!rc)
    rc = how == GASP_REORDER_RCM ? order_rcm(old, order)
                                 : order_degree(old, how == GASP_REORDER_DBG,
                                                order);
  gasp_graph *h = NULL;
  if (!rc) rc = relabel(old, order, &h);
  free(order);
  if (rc)
    return gasp__fail(err, rc, NULL, 0, "out of memory reordering %llu "
                      "vertices", (unsigned long long)old->nv);
  gasp_graph_free(g);
  *g = h;
  return GASP_OK;
}
