/*
 * lib_triangles.c -- gasp_triangles (gasp_toolkits.h): exact undirected
 * triangle counting by degree-ordered neighbour-list intersection (Schank
 * and Wagner 2005, "forward" algorithm; Chiba and Nishizeki 1985), as
 * three gather-apply passes over every vertex.
 *
 * Edges count as undirected; self loops and repeated edges (in either
 * direction) are ignored.  Vertices are ranked by (degree, id) with the
 * simple undirected degree, and each edge is oriented from the lower-
 * ranked end to the higher, which leaves every vertex at most
 * O(sqrt(edges)) higher neighbours.  Each triangle v < u < w (by rank) is
 * then found exactly once, at v, as w in H(v) n H(u) for u in H(v), where
 * H(x) is the set of x's higher-ranked neighbours.
 *
 *  pass 1  gather the in- and out-lists (both sorted by local id), merge
 *          them without self or repeats: apply stores the degree.  The
 *          driver then ranks the vertices (a counting sort by degree).
 *  pass 2  the same merge keeps the neighbours that outrank the centre,
 *          as ranks, in the centre's own segment of the program's H
 *          array; segments are in rank order, so the busy high-ranked
 *          lists sit together (GAP's relabelling, without touching the
 *          graph), and the driver packs them afterwards.
 *  pass 3  mark H(v) in a per-thread bitmap, then count the marked
 *          members of H(u) for every u in H(v): the work is the sum of
 *          |H(u)| over the oriented edges, O(edges^1.5) at worst.
 *
 * Per-vertex counts (when asked for) add one per triangle to each of its
 * three corners with relaxed atomics; the total is exact (uint64).
 *
 * Across ranks (opts.engine.dist) each rank runs the passes over the
 * vertices it owns; the ordering is by (degree, global id) on every rank,
 * so all ranks orient each edge alike (see "distributed runs" below).
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <stdlib.h>
#include <string.h>

typedef struct tri_vertex {
  uint32_t deg; /* distinct neighbours other than itself */
  uint64_t low; /* triangles in which this vertex ranks lowest */
} tri_vertex;

/* Arrays indexed by rank r (0 = lowest) unless named otherwise. */
typedef struct tri {
  int pass;
  gasp_vid *rank;  /* by local id */
  gasp_vid *vert;  /* distributed: local id of rank r, else NULL */
  uint64_t *off;   /* H of rank r: h[off[r] .. off[r + 1]) after packing */
  uint32_t *hcnt;  /* |H| before packing */
  gasp_vid *h;     /* ranks */
  uint64_t *count; /* per-vertex triangles, NULL when not wanted */
  uint64_t **mark; /* per thread: bitmap over the ranks, kept zero */
  int threads;
  /* directed counts (one process): 4 per local id -- cycle, through, in,
   * out -- and the arcs of each H entry; NULL when not asked */
  uint64_t *dcount;
  uint8_t *hdir; /* beside h: bit 0 the arc centre -> member, bit 1 back */
  uint8_t **dir; /* per thread, by rank: the arcs with the lowest corner */
} tri;

/* |H(v) n b| with H(v) marked in the bitmap `mark`; with `count`, adds
 * one to each common element's per-vertex count. */
static uint64_t intersect(const uint64_t *mark, const gasp_vid *b, uint64_t nb,
                          uint64_t *count) {
  uint64_t k = 0;
  for (uint64_t j = 0; j < nb; j++) {
    gasp_vid w = b[j];
    if (!(mark[w >> 6] >> (w & 63) & 1)) continue;
    if (count) __atomic_fetch_add(&count[w], 1, __ATOMIC_RELAXED);
    k++;
  }
  return k;
}

static void add(uint64_t *c, uint64_t k) {
  if (k) __atomic_fetch_add(c, k, __ATOMIC_RELAXED);
}

/* The directed triangle types at corner x of the triangle {x, y, z}, as
 * ordered pairs (y, z) of the other two corners, added to c[0..4):
 *   cycle    x -> y -> z -> x
 *   through  y -> x -> z with y -> z
 *   in       y -> x, z -> x with y -> z
 *   out      x -> y, x -> z with y -> z
 * xy is the arc x -> y, and so on. */
static inline void corner(uint64_t *c, int xy, int yx, int xz, int zx, int yz,
                          int zy) {
  c[0] += (uint64_t)(xy && yz && zx) + (uint64_t)(xz && zy && yx);
  c[1] += (uint64_t)(yx && xz && yz) + (uint64_t)(zx && xy && zy);
  c[2] += (uint64_t)(yx && zx) * (uint64_t)(yz + zy);
  c[3] += (uint64_t)(xy && xz) * (uint64_t)(yz + zy);
}

/* Directed types of the triangles with lowest corner r (H(r) marked, the
 * arcs with r in dir by rank): r's and each u's figures are summed here
 * and added once, w's as found. */
static void classify_at(const tri *t, gasp_vid r, const uint64_t *mark,
                        const uint8_t *dir) {
  const gasp_vid *hv = t->h + t->off[r];
  uint64_t nv = t->off[r + 1] - t->off[r], cr[4] = {0, 0, 0, 0};
  for (uint64_t i = 0; i < nv; i++) {
    gasp_vid u = hv[i];
    int ru = dir[u] & 1, ur = dir[u] >> 1 & 1;
    const gasp_vid *hu = t->h + t->off[u];
    const uint8_t *du = t->hdir + t->off[u];
    uint64_t cu[4] = {0, 0, 0, 0};
    for (uint64_t j = 0; j < t->off[u + 1] - t->off[u]; j++) {
      gasp_vid w = hu[j];
      if (!(mark[w >> 6] >> (w & 63) & 1)) continue;
      int rw = dir[w] & 1, wr = dir[w] >> 1 & 1;
      int uw = du[j] & 1, wu = du[j] >> 1 & 1;
      uint64_t cw[4] = {0, 0, 0, 0};
      corner(cr, ru, ur, rw, wr, uw, wu);
      corner(cu, ur, ru, uw, wu, rw, wr);
      corner(cw, wr, rw, wu, uw, ru, ur);
      uint64_t *pw = t->dcount + 4 * (size_t)t->vert[w];
      for (int k = 0; k < 4; k++)
        add(&pw[k], cw[k]);
    }
    uint64_t *pu = t->dcount + 4 * (size_t)t->vert[u];
    for (int k = 0; k < 4; k++)
      add(&pu[k], cu[k]);
  }
  uint64_t *pr = t->dcount + 4 * (size_t)t->vert[r];
  for (int k = 0; k < 4; k++)
    add(&pr[k], cr[k]);
}

/* Triangles in which rank r is the lowest corner. */
static uint64_t count_at(const tri *t, gasp_vid r, uint64_t *mark, int tid) {
  const gasp_vid *hv = t->h + t->off[r];
  uint64_t nv = t->off[r + 1] - t->off[r], total = 0;
  if (nv < 2) return 0;
  for (uint64_t i = 0; i < nv; i++)
    mark[hv[i] >> 6] |= 1ull << (hv[i] & 63);
  if (t->dcount) { /* the arcs with r, by rank, then every triangle */
    uint8_t *dir = t->dir[tid];
    const uint8_t *dr = t->hdir + t->off[r];
    for (uint64_t i = 0; i < nv; i++)
      dir[hv[i]] = dr[i];
    classify_at(t, r, mark, dir);
  }
  for (uint64_t i = 0; i < nv; i++) {
    gasp_vid u = hv[i];
    uint64_t k =
        intersect(mark, t->h + t->off[u], t->off[u + 1] - t->off[u], t->count);
    if (k && t->count) __atomic_fetch_add(&t->count[u], k, __ATOMIC_RELAXED);
    total += k;
  }
  for (uint64_t i = 0; i < nv; i++)
    mark[hv[i] >> 6] = 0;
  return total;
}

static void tri_gather(const gasp_ctx *ctx, const void *vp, const gasp_nbrs *nb,
                       void *acc) {
  (void)vp;
  tri *t = gasp_ctx_user(ctx);
  gasp_vid self = gasp_ctx_vertex(ctx);
  if (t->pass == 3) {
    *(uint64_t *)acc = count_at(t, t->rank[self], t->mark[gasp_ctx_thread(ctx)],
                                gasp_ctx_thread(ctx));
    return;
  }
  /* passes 1 and 2: merge the sorted in- and out-lists, skipping repeats */
  const gasp_vid *a = nb->in, *b = nb->out;
  uint64_t na = nb->n_in, nbn = nb->n_out, i = 0, j = 0, n = 0;
  gasp_vid last = GASP_VID_NONE, rs = 0;
  gasp_vid *out = NULL;
  uint8_t *dir = NULL;
  if (t->pass == 2) {
    rs = t->rank[self];
    out = t->h + t->off[rs];
    if (t->hdir) dir = t->hdir + t->off[rs];
  }
  int kept = 0; /* the last distinct neighbour went into out */
  while (i < na || j < nbn) {
    int from_in = j >= nbn || (i < na && a[i] <= b[j]);
    gasp_vid x = from_in ? a[i++] : b[j++];
    /* in-list: x -> centre (bit 1); out-list: centre -> x (bit 0) */
    uint8_t bit = from_in ? 2 : 1;
    if (x == self) continue;
    if (x == last) {
      if (dir && kept) dir[n - 1] |= bit;
      continue;
    }
    last = x;
    kept = 0;
    if (!out) {
      n++;
    } else if (t->rank[x] > rs) {
      if (dir) dir[n] = bit;
      out[n++] = t->rank[x];
      kept = 1;
    }
  }
  *(uint64_t *)acc = n;
}

static void tri_apply(gasp_ctx *ctx, void *vp, const void *acc) {
  tri *t = gasp_ctx_user(ctx);
  tri_vertex *v = vp;
  uint64_t x = *(const uint64_t *)acc;
  gasp_vid self = gasp_ctx_vertex(ctx);
  if (t->pass == 1) {
    v->deg = (uint32_t)x;
  } else if (t->pass == 2) {
    t->hcnt[t->rank[self]] = (uint32_t)x;
  } else {
    v->low = x;
    if (t->count && x)
      __atomic_fetch_add(&t->count[t->rank[self]], x, __ATOMIC_RELAXED);
  }
}

/* Ranks by (degree, id) with a counting sort, taking the vertices in
 * `order` (local ids in ascending global id; NULL: local id order), and
 * lays out the H segments in rank order with the degree as room for the
 * vertices below `owned` (the others get theirs from their owners);
 * returns the room in all. */
static uint64_t rank_vertices(tri *t, const tri_vertex *vd, gasp_vid n,
                              const gasp_vid *order, gasp_vid owned,
                              uint32_t *bucket, uint32_t maxdeg) {
  memset(bucket, 0, ((size_t)maxdeg + 2) * sizeof *bucket);
  for (gasp_vid v = 0; v < n; v++)
    bucket[vd[v].deg + 1]++;
  for (uint32_t d = 0; d <= maxdeg; d++)
    bucket[d + 1] += bucket[d];
  for (gasp_vid i = 0; i < n; i++) {
    gasp_vid v = order ? order[i] : i;
    t->rank[v] = bucket[vd[v].deg]++;
  }
  if (t->vert)
    for (gasp_vid v = 0; v < n; v++)
      t->vert[t->rank[v]] = v;
  /* bucket[d] is now the end of degree d's ranks: room per rank */
  uint64_t sum = 0;
  gasp_vid r = 0;
  for (uint32_t d = 0; d <= maxdeg; d++)
    for (; r < bucket[d]; r++) {
      t->off[r] = sum;
      sum += !t->vert || t->vert[r] < owned ? d : 0;
    }
  t->off[n] = sum;
  return sum;
}

/* Packs the H segments to their lengths, in place (they only move left). */
static void pack(tri *t, gasp_vid n) {
  uint64_t to = 0;
  for (gasp_vid r = 0; r < n; r++) {
    uint64_t from = t->off[r];
    t->off[r] = to;
    memmove(t->h + to, t->h + from, (size_t)t->hcnt[r] * sizeof *t->h);
    if (t->hdir) memmove(t->hdir + to, t->hdir + from, t->hcnt[r]);
    to += t->hcnt[r];
  }
  t->off[n] = to;
}

/* ---- distributed runs ------------------------------------------------
 *
 * Each rank runs the passes over the vertices it owns; pass 1's degrees
 * reach the ghosts with the vertex data at the barrier, so each rank can
 * rank its local vertices (owned and ghosts) by (degree, global id) --
 * the global order restricted to them.  Pass 2 builds H(v) for owned v;
 * gasp_dist_ghost_lists then gives each ghost u its owner's H(u),
 * restricted to the vertices held here.  That is all pass 3 needs: a
 * triangle counted at an owned v has its other two corners among v's
 * neighbours, which are all here.  The per-vertex counts made at ghost
 * corners go back to their owners (gasp_dist_sum_to_owners), and the
 * totals are summed over the ranks. */

/* Local ids in ascending global id: the owned run and the ghost run are
 * each ascending, so one merge. */
static void global_order(const gasp_dist *d, gasp_vid n, gasp_vid no,
                         gasp_vid *order) {
  gasp_vid i = 0, j = no, k = 0;
  while (i < no || j < n)
    order[k++] = j >= n || (i < no && gasp_dist_global_id(d, i) <
                                          gasp_dist_global_id(d, j))
                     ? i++
                     : j++;
}

/* After pass 2: sends H(v) of the owned vertices to the ranks holding
 * them as ghosts, and lays out H anew, packed in rank order, with the
 * ghosts' lists received (as ranks; only the higher-ranked members, which
 * a correct peer sends anyway).  Returns a status. */
static int share_lists(tri *t, gasp_dist *d, gasp_vid n, gasp_vid no,
                       gasp_error *err) {
  uint64_t *soff = gasp__malloc(((size_t)no + 1) * sizeof *soff), *goff = NULL;
  uint64_t *off = gasp__malloc(((size_t)n + 1) * sizeof *off);
  gasp_vid *sit = NULL, *git = NULL, *h = NULL;
  int rc = GASP_ENOMEM;
  if (!soff || !off) goto oom;
  soff[0] = 0;
  for (gasp_vid v = 0; v < no; v++)
    soff[v + 1] = soff[v] + t->hcnt[t->rank[v]];
  if (!(sit = gasp__malloc((soff[no] ? soff[no] : 1) * sizeof *sit))) goto oom;
  for (gasp_vid v = 0; v < no; v++) { /* ranks back to local ids */
    const gasp_vid *hv = t->h + t->off[t->rank[v]];
    for (uint64_t i = 0; i < soff[v + 1] - soff[v]; i++)
      sit[soff[v] + i] = t->vert[hv[i]];
  }
  if ((rc = gasp_dist_ghost_lists(d, soff, sit, &goff, &git, err))) goto out;
  uint64_t sum = 0;
  for (gasp_vid r = 0; r < n; r++) {
    gasp_vid v = t->vert[r];
    off[r] = sum;
    if (v < no) {
      sum += t->hcnt[r];
      continue;
    }
    for (uint64_t j = goff[v - no]; j < goff[v - no + 1]; j++)
      sum += t->rank[git[j]] > r;
  }
  off[n] = sum;
  if (!(h = gasp__malloc((sum ? sum : 1) * sizeof *h))) goto oom;
  for (gasp_vid r = 0; r < n; r++) {
    gasp_vid v = t->vert[r], *dst = h + off[r];
    if (v < no) {
      memcpy(dst, t->h + t->off[r], (size_t)t->hcnt[r] * sizeof *dst);
      continue;
    }
    for (uint64_t j = goff[v - no]; j < goff[v - no + 1]; j++)
      if (t->rank[git[j]] > r) *dst++ = t->rank[git[j]];
  }
  free(t->h);
  free(t->off);
  t->h = h;
  t->off = off;
  h = NULL;
  off = NULL;
  rc = GASP_OK;
  goto out;
oom:
  rc = tk_lib_fail(err, GASP_ENOMEM, "out of memory");
out:
  free(soff);
  free(off);
  free(sit);
  free(goff);
  free(git);
  free(h);
  return rc;
}

/* Sums x[0..k) over the ranks exactly: as 32-bit halves, which doubles
 * add without rounding (k <= 4). */
static int sum_exact(gasp_dist *d, uint64_t *x, int k, gasp_error *err) {
  double v[8];
  for (int i = 0; i < k; i++) {
    v[2 * i] = (double)(x[i] & 0xffffffffu);
    v[2 * i + 1] = (double)(x[i] >> 32);
  }
  int rc = gasp_cluster_allreduce(gasp_dist_cluster(d), v, 2 * (size_t)k,
                                  GASP_REDUCE_SUM, err);
  if (rc) return rc;
  for (int i = 0; i < k; i++)
    x[i] = ((uint64_t)v[2 * i + 1] << 32) + (uint64_t)v[2 * i];
  return GASP_OK;
}

/* ---- the call ---------------------------------------------------------- */

void gasp_triangles_opts_init(gasp_triangles_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
}

/* One pass over every vertex, its figures added to st. */
static int run_pass(gasp_engine *e, tri *t, int pass, gasp_run_stats *st,
                    gasp_error *err) {
  t->pass = pass;
  gasp_run_stats ps;
  gasp_engine_signal_all(e, 0.0);
  int rc = gasp_engine_run(e, &ps);
  if (rc) {
    if (err) *err = *gasp_engine_last_error(e);
    return rc;
  }
  st->updates += ps.updates;
  st->iterations += ps.iterations;
  st->seconds += ps.seconds;
  st->colors = ps.colors;
  st->threads = ps.threads;
  if (ps.reason != GASP_STOP_CONVERGED)
    return tk_lib_fail(err, GASP_ECANCELED, "pass %d was stopped early", pass);
  return GASP_OK;
}

/* The figures of a run: over this rank's vertices, then over all. */
enum { S_TRIANGLES, S_WEDGES, S_DEGREES, S_WANT, S_N };

/* Pass 1, the ranking, pass 2 (and the ghost lists), pass 3.  Fills the
 * sums over the owned vertices. */
static int count(gasp_engine *e, gasp_graph *g, gasp_dist *d, tri *t,
                 gasp_run_stats *st, uint64_t *sum, gasp_error *err) {
  gasp_vid n = gasp_graph_num_vertices(g), no = gasp_graph_num_owned(g);
  int rc = run_pass(e, t, 1, st, err);
  if (rc) return rc;
  const tri_vertex *vd = gasp_graph_vertex_data(g);
  uint32_t maxdeg = 0;
  for (gasp_vid v = 0; v < n; v++) /* ghosts too: they are ranked */
    if (vd[v].deg > maxdeg) maxdeg = vd[v].deg;
  for (gasp_vid v = 0; v < no; v++)
    sum[S_WEDGES] += (uint64_t)vd[v].deg * (vd[v].deg ? vd[v].deg - 1 : 0) / 2;
  uint32_t *bucket = gasp__malloc(((size_t)maxdeg + 2) * sizeof *bucket);
  gasp_vid *order =
      d ? gasp__malloc((n ? (size_t)n : 1) * sizeof *order) : NULL;
  uint64_t room = 0;
  if (bucket && (!d || order)) {
    if (order) global_order(d, n, no, order);
    room = rank_vertices(t, vd, n, order, no, bucket, maxdeg);
    t->h = gasp__malloc((room ? room : 1) * sizeof *t->h);
    if (t->dcount && !(t->hdir = gasp__malloc(room ? room : 1))) {
      free(t->h);
      t->h = NULL;
    }
  }
  free(bucket);
  free(order);
  if (!t->h) return tk_lib_fail(err, GASP_ENOMEM, "out of memory");
  sum[S_DEGREES] = room; /* the owned vertices' degrees */
  if ((rc = run_pass(e, t, 2, st, err))) return rc;
  if (d)
    rc = share_lists(t, d, n, no, err);
  else
    pack(t, n);
  if (rc || (rc = run_pass(e, t, 3, st, err))) return rc;
  for (gasp_vid v = 0; v < no; v++)
    sum[S_TRIANGLES] += vd[v].low;
  return GASP_OK;
}

/* Across ranks: the sums over every rank, and the per-vertex counts made
 * at ghost corners added to their owners' (every rank asked for them, or
 * none did). */
static int combine_ranks(tri *t, gasp_dist *d, gasp_vid n, uint64_t *sum,
                         uint64_t *per_vertex, gasp_error *err) {
  sum[S_WANT] = per_vertex != NULL;
  int rc = sum_exact(d, sum, S_N, err);
  if (rc) return rc;
  if (sum[S_WANT] &&
      sum[S_WANT] != (uint64_t)gasp_cluster_size(gasp_dist_cluster(d)))
    return tk_lib_fail(err, GASP_EINVAL,
                       "per-vertex counts asked for on some ranks only "
                       "(every rank or none)");
  if (!per_vertex) return GASP_OK;
  for (gasp_vid v = 0; v < n; v++)
    per_vertex[v] = t->count[t->rank[v]];
  return gasp_dist_sum_to_owners(d, per_vertex, err);
}

static void tri_free(tri *t) {
  free(t->off);
  free(t->rank);
  free(t->vert);
  free(t->hcnt);
  free(t->h);
  free(t->count);
  free(t->dcount);
  free(t->hdir);
  if (t->dir)
    for (int i = 0; i < t->threads; i++)
      free(t->dir[i]);
  free(t->dir);
  if (t->mark)
    for (int i = 0; i < t->threads; i++)
      free(t->mark[i]);
  free(t->mark);
}

/* The undirected count, and with `directed` (4 per vertex, or NULL) the
 * directed types at every corner. */
static int triangles(gasp_graph *g, const gasp_triangles_opts *o,
                     uint64_t *per_vertex, gasp_triangles_totals *totals,
                     uint64_t *directed, gasp_run_stats *stats,
                     gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (!g || !o || !totals)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or totals");
  memset(totals, 0, sizeof *totals);
  gasp_dist *d = o->engine.dist;
  if (d && o->engine.engine == GASP_ENGINE_SYNC && o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "triangle counting across ranks needs lock-step "
                       "supersteps (staleness 0)");
  gasp_vid n = gasp_graph_num_vertices(g);
  tri t;
  memset(&t, 0, sizeof t);
  gasp_program prog = {0};
  prog.vertex_size = sizeof(tri_vertex);
  prog.acc_size = sizeof(uint64_t);
  prog.gather_dir = GASP_DIR_ALL;
  prog.gather_vertex = tri_gather;
  prog.apply = tri_apply;
  prog.user = &t;
  gasp_engine_opts eo = o->engine;
  eo.max_iter = 0; /* every pass runs to its end */
  eo.always_active = 0;
  gasp_engine *e = NULL;
  int rc = gasp_engine_new(&e, g, &prog, &eo, err);
  if (rc) return rc;
  t.off = gasp__malloc(((size_t)n + 1) * sizeof *t.off);
  t.rank = gasp__malloc((n ? (size_t)n : 1) * sizeof *t.rank);
  t.hcnt = gasp__malloc((n ? (size_t)n : 1) * sizeof *t.hcnt);
  if (d || directed)
    t.vert = gasp__malloc((n ? (size_t)n : 1) * sizeof *t.vert);
  if (per_vertex) t.count = gasp__calloc(n ? (size_t)n : 1, sizeof *t.count);
  if (directed)
    t.dcount = gasp__calloc(4 * (n ? (size_t)n : 1), sizeof *t.dcount);
  t.threads = gasp_engine_threads(e);
  t.mark = gasp__calloc((size_t)t.threads, sizeof *t.mark);
  int ok = t.off && t.rank && t.hcnt && (!(d || directed) || t.vert) &&
           (!per_vertex || t.count) && (!directed || t.dcount) && t.mark;
  for (int i = 0; ok && i < t.threads; i++)
    ok = (t.mark[i] = gasp__calloc((size_t)n / 64 + 1, sizeof(uint64_t))) !=
         NULL;
  if (ok && directed) {
    ok = (t.dir = gasp__calloc((size_t)t.threads, sizeof *t.dir)) != NULL;
    for (int i = 0; ok && i < t.threads; i++)
      ok = (t.dir[i] = gasp__malloc(n ? (size_t)n : 1)) != NULL;
  }
  uint64_t sum[S_N] = {0};
  if (!ok)
    rc = tk_lib_fail(err, GASP_ENOMEM, "out of memory");
  else if (!(rc = count(e, g, d, &t, st, sum, err)) && d)
    rc = combine_ranks(&t, d, n, sum, per_vertex, err);
  if (!rc) {
    if (per_vertex && !d)
      for (gasp_vid v = 0; v < n; v++)
        per_vertex[v] = t.count[t.rank[v]];
    totals->triangles = sum[S_TRIANGLES];
    totals->wedges = sum[S_WEDGES];
    totals->edges = sum[S_DEGREES] / 2;
    st->reason = GASP_STOP_CONVERGED;
    if (directed) memcpy(directed, t.dcount, 4 * (size_t)n * sizeof *directed);
  }
  gasp_engine_free(&e);
  tri_free(&t);
  return rc;
}

int gasp_triangles(gasp_graph *g, const gasp_triangles_opts *o,
                   uint64_t *per_vertex, gasp_triangles_totals *totals,
                   gasp_run_stats *stats, gasp_error *err) {
  return triangles(g, o, per_vertex, totals, NULL, stats, err);
}

int gasp_triangles_directed(gasp_graph *g, const gasp_triangles_opts *o,
                            uint64_t *per_vertex,
                            gasp_directed_triangles *totals,
                            gasp_run_stats *stats, gasp_error *err) {
  if (!g || !o || !totals)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or totals");
  memset(totals, 0, sizeof *totals);
  if (o->engine.dist)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "directed triangle types run on one process (a "
                       "triangle's arcs are looked up where it is found)");
  gasp_vid n = gasp_graph_num_vertices(g);
  uint64_t *dc = per_vertex
                     ? per_vertex
                     : gasp__malloc(4 * (n ? (size_t)n : 1) * sizeof *dc);
  if (!dc) return tk_lib_fail(err, GASP_ENOMEM, "out of memory");
  gasp_triangles_totals und;
  int rc = triangles(g, o, NULL, &und, dc, stats, err);
  if (!rc) {
    uint64_t cyc = 0, thr = 0;
    for (gasp_vid v = 0; v < n; v++) {
      cyc += dc[4 * (size_t)v];
      thr += dc[4 * (size_t)v + 1];
    }
    totals->triangles = und.triangles;
    totals->cycles = cyc / 3;
    totals->through = thr;
  }
  if (dc != per_vertex) free(dc);
  return rc;
}

int gasp_clustering(const gasp_graph *g, gasp_dist *dist,
                    const uint64_t *triangles_at, double *coef, double *average,
                    gasp_error *err) {
  if (!g || !triangles_at || (!coef && !average))
    return tk_lib_fail(err, GASP_EINVAL, "no graph, counts or result");
  gasp_vid n = gasp_graph_num_vertices(g), no = gasp_graph_num_owned(g);
  gasp_adjacency in, out;
  gasp_graph_in_edges(g, &in);
  gasp_graph_out_edges(g, &out);
  double sum[2] = {0, (double)no};
  for (gasp_vid v = 0; v < n; v++) {
    if (v >= no) { /* a ghost: its owner has its figure */
      if (coef) coef[v] = 0;
      continue;
    }
    /* distinct neighbours other than v: the sorted lists merged */
    const gasp_vid *a = in.nbr + in.off[v], *b = out.nbr + out.off[v];
    uint64_t na = in.off[v + 1] - in.off[v], nb = out.off[v + 1] - out.off[v];
    uint64_t i = 0, j = 0, deg = 0;
    gasp_vid last = GASP_VID_NONE;
    while (i < na || j < nb) {
      gasp_vid x = (j >= nb || (i < na && a[i] <= b[j])) ? a[i++] : b[j++];
      if (x == last || x == v) continue;
      last = x;
      deg++;
    }
    double c = deg < 2 ? 0.0
                       : 2.0 * (double)triangles_at[v] /
                             ((double)deg * (double)(deg - 1));
    if (coef) coef[v] = c;
    sum[0] += c;
  }
  if (dist) {
    int rc = gasp_cluster_allreduce(gasp_dist_cluster(dist), sum, 2,
                                    GASP_REDUCE_SUM, err);
    if (rc) return rc;
  }
  if (average) *average = sum[1] > 0 ? sum[0] / sum[1] : 0.0;
  return GASP_OK;
}
