/*
 * test_graph.c -- the builder (gasp_builder_*) and the graph accessors.
 *
 * Every built graph is compared with a reference computed here from the
 * raw edges by plain sorting: ids ranked by sorting the distinct ids (per
 * side for bipartite graphs), edges as (source, target, weight) triples
 * sorted with qsort for the out-lists and as (target, source) pairs for
 * the in-lists; statistics by brute force over the triples.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>

#include "gasp.h"
#include "testutil.h"

/* ---- input description ------------------------------------------------ */

typedef struct spec {
  unsigned flags;
  size_t n, cap;
  gasp_gid *src, *dst;
  double *w;
  size_t nx, xcap; /* extra vertices from gasp_builder_add_vertex */
  gasp_side *xside;
  gasp_gid *xid;
} spec;

static void spec_edge(spec *s, gasp_gid a, gasp_gid b, double w) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 256;
    s->src = realloc(s->src, s->cap * sizeof *s->src);
    s->dst = realloc(s->dst, s->cap * sizeof *s->dst);
    s->w = realloc(s->w, s->cap * sizeof *s->w);
    assert_true(s->src && s->dst && s->w);
  }
  s->src[s->n] = a;
  s->dst[s->n] = b;
  s->w[s->n] = w;
  s->n++;
}

static void spec_vertex(spec *s, gasp_side side, gasp_gid id) {
  if (s->nx == s->xcap) {
    s->xcap = s->xcap ? 2 * s->xcap : 64;
    s->xside = realloc(s->xside, s->xcap * sizeof *s->xside);
    s->xid = realloc(s->xid, s->xcap * sizeof *s->xid);
    assert_true(s->xside && s->xid);
  }
  s->xside[s->nx] = side;
  s->xid[s->nx] = id;
  s->nx++;
}

static void spec_free(spec *s) {
  free(s->src);
  free(s->dst);
  free(s->w);
  free(s->xside);
  free(s->xid);
  memset(s, 0, sizeof *s);
}

static gasp_graph *build(const spec *s, int threads) {
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, s->flags), GASP_OK);
  assert_non_null(b);
  for (size_t i = 0; i < s->n; i++)
    assert_int_equal(gasp_builder_add_edge(b, s->src[i], s->dst[i], s->w[i]),
                     GASP_OK);
  for (size_t i = 0; i < s->nx; i++)
    assert_int_equal(gasp_builder_add_vertex(b, s->xside[i], s->xid[i]), GASP_OK);
  gasp_graph *g = NULL;
  gasp_error err;
  int rc = gasp_builder_finish(b, threads, &g, &err);
  if (rc) fail_msg("gasp_builder_finish: %s (%s)", gasp_strerror(rc), err.msg);
  assert_non_null(g);
  gasp_builder_free(&b);
  assert_null(b);
  return g;
}

/* ---- the reference ---------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts and deduplicates ids[0..n); returns the distinct count. */
static size_t sort_unique(gasp_gid *ids, size_t n) {
  if (n == 0) return 0;
  qsort(ids, n, sizeof *ids, cmp_u64);
  size_t k = 1;
  for (size_t i = 1; i < n; i++)
    if (ids[i] != ids[k - 1]) ids[k++] = ids[i];
  return k;
}

static uint32_t rank_of(const gasp_gid *ids, size_t n, gasp_gid id) {
  const gasp_gid *p = bsearch(&id, ids, n, sizeof *ids, cmp_u64);
  assert_non_null(p);
  return (uint32_t)(p - ids);
}

typedef struct trip {
  uint32_t s, d;
  double w;
} trip;

static int cmp_trip(const void *a, const void *b) {
  const trip *x = a, *y = b;
  if (x->s != y->s) return x->s < y->s ? -1 : 1;
  if (x->d != y->d) return x->d < y->d ? -1 : 1;
  if (x->w != y->w) return x->w < y->w ? -1 : 1;
  return 0;
}

static int cmp_trip_in(const void *a, const void *b) {
  const trip *x = a, *y = b;
  if (x->d != y->d) return x->d < y->d ? -1 : 1;
  if (x->s != y->s) return x->s < y->s ? -1 : 1;
  return 0;
}

/* Builds the reference for `s` and compares every array of `g` with it,
 * and the statistics with brute-force figures. */
static void check_against_reference(const gasp_graph *g, const spec *s) {
  int bip = (s->flags & GASP_BUILD_BIPARTITE) != 0;
  int sym = (s->flags & GASP_BUILD_SYMMETRIC) != 0;
  int weighted = (s->flags & GASP_BUILD_WEIGHTED) != 0;
  /* ids per side */
  gasp_gid *ids[2];
  size_t nids[2] = {0, 0};
  for (int k = 0; k < 2; k++) {
    ids[k] = malloc((2 * s->n + s->nx + 1) * sizeof(gasp_gid));
    assert_non_null(ids[k]);
  }
  for (size_t i = 0; i < s->n; i++) {
    ids[0][nids[0]++] = s->src[i];
    ids[bip][nids[bip]++] = s->dst[i];
  }
  for (size_t i = 0; i < s->nx; i++) {
    int k = bip && s->xside[i] == GASP_SIDE_RIGHT;
    ids[k][nids[k]++] = s->xid[i];
  }
  nids[0] = sort_unique(ids[0], nids[0]);
  nids[1] = sort_unique(ids[1], nids[1]);
  size_t nv = nids[0] + nids[1];
  assert_int_equal(gasp_graph_num_vertices(g), nv);
  assert_int_equal(gasp_graph_num_owned(g), nv);
  assert_int_equal(gasp_graph_num_left(g), nids[0]);
  assert_int_equal(gasp_graph_is_bipartite(g), bip);
  tu_assert_side_ids(g, GASP_SIDE_LEFT, ids[0], nids[0]);
  if (bip) tu_assert_side_ids(g, GASP_SIDE_RIGHT, ids[1], nids[1]);
  /* triples */
  trip *t = malloc((2 * s->n + 1) * sizeof *t);
  assert_non_null(t);
  size_t ne = 0;
  for (size_t i = 0; i < s->n; i++) {
    uint32_t a = rank_of(ids[0], nids[0], s->src[i]);
    uint32_t b = rank_of(ids[bip], nids[bip], s->dst[i]) +
                 (bip ? (uint32_t)nids[0] : 0);
    double w = weighted ? s->w[i] : 1.0;
    t[ne++] = (trip){a, b, w};
    if (sym && a != b) t[ne++] = (trip){b, a, w};
  }
  qsort(t, ne, sizeof *t, cmp_trip);
  assert_int_equal(gasp_graph_num_edges(g), ne);
  tu_check_structure(g);
  gasp_adjacency out, in;
  gasp_graph_out_edges(g, &out);
  gasp_graph_in_edges(g, &in);
  const double *gw = gasp_graph_weights(g);
  assert_int_equal(gw != NULL, weighted);
  uint64_t *odeg = calloc(nv + 1, sizeof *odeg), *ideg = calloc(nv + 1, sizeof *ideg);
  assert_true(odeg && ideg);
  for (size_t i = 0; i < ne; i++) {
    odeg[t[i].s]++;
    ideg[t[i].d]++;
  }
  uint64_t pos = 0;
  for (size_t v = 0; v < nv; v++) {
    if (out.off[v] != pos)
      fail_msg("out_off[%zu] = %llu, want %llu", v, (unsigned long long)out.off[v],
               (unsigned long long)pos);
    pos += odeg[v];
  }
  assert_int_equal(out.off[nv], ne);
  for (size_t i = 0; i < ne; i++)
    if (out.nbr[i] != t[i].d)
      fail_msg("out_nbr[%zu] = %u, want %u", i, out.nbr[i], t[i].d);
  if (weighted) {
    /* Within a run of equal (source, target) the order of the weights is
     * not specified: compare the runs as sorted multisets. */
    double *tmp = malloc((ne + 1) * sizeof *tmp);
    assert_non_null(tmp);
    memcpy(tmp, gw, ne * sizeof *tmp);
    for (size_t i = 0; i < ne;) {
      size_t j = i + 1;
      while (j < ne && t[j].s == t[i].s && t[j].d == t[i].d) j++;
      for (size_t a = i + 1; a < j; a++) /* insertion sort; runs are short */
        for (size_t b = a; b > i && tmp[b - 1] > tmp[b]; b--) {
          double x = tmp[b];
          tmp[b] = tmp[b - 1];
          tmp[b - 1] = x;
        }
      for (size_t a = i; a < j; a++)
        if (tmp[a] != t[a].w)
          fail_msg("weight of edge %u -> %u: got %g, want %g", t[a].s, t[a].d,
                   tmp[a], t[a].w);
      i = j;
    }
    free(tmp);
  }
  /* in-lists: sources sorted per target */
  qsort(t, ne, sizeof *t, cmp_trip_in);
  pos = 0;
  for (size_t v = 0; v < nv; v++) {
    assert_int_equal(in.off[v], pos);
    pos += ideg[v];
  }
  for (size_t i = 0; i < ne; i++)
    if (in.nbr[i] != t[i].s) fail_msg("in_nbr[%zu] = %u, want %u", i, in.nbr[i], t[i].s);
  /* statistics by brute force */
  qsort(t, ne, sizeof *t, cmp_trip);
  uint64_t loops = 0, dups = 0, iso = 0;
  uint64_t omin = UINT64_MAX, omax = 0, imin = UINT64_MAX, imax = 0;
  for (size_t i = 0; i < ne; i++) {
    loops += t[i].s == t[i].d;
    dups += i > 0 && t[i].s == t[i - 1].s && t[i].d == t[i - 1].d;
  }
  for (size_t v = 0; v < nv; v++) {
    iso += odeg[v] == 0 && ideg[v] == 0;
    if (odeg[v] < omin) omin = odeg[v];
    if (odeg[v] > omax) omax = odeg[v];
    if (ideg[v] < imin) imin = ideg[v];
    if (ideg[v] > imax) imax = ideg[v];
  }
  for (int threads = 1; threads <= 2; threads++) {
    gasp_graph_stats st;
    assert_int_equal(gasp_graph_stats_compute(g, threads, &st), GASP_OK);
    assert_int_equal(st.vertices, nv);
    assert_int_equal(st.edges, ne);
    assert_int_equal(st.self_loops, loops);
    assert_int_equal(st.duplicate_edges, dups);
    assert_int_equal(st.isolated, iso);
    if (nv) {
      assert_int_equal(st.min_out_degree, omin);
      assert_int_equal(st.max_out_degree, omax);
      assert_int_equal(st.min_in_degree, imin);
      assert_int_equal(st.max_in_degree, imax);
      assert_true(fabs(st.mean_degree - (double)ne / (double)nv) < 1e-12);
    }
    assert_int_equal(st.weighted, weighted);
    assert_int_equal(st.bipartite, bip);
    assert_int_equal(st.left_vertices, nids[0]);
    assert_int_equal(st.right_vertices, nids[1]);
  }
  free(odeg);
  free(ideg);
  free(t);
  free(ids[0]);
  free(ids[1]);
}

/* ---- generators of test inputs ---------------------------------------- */

/* A pool of `k` distinct sparse ids: 1e15 + i*7919 and ids at the top of
 * the range (2^63-1 downwards), plus 0. */
static gasp_gid *sparse_pool(size_t k) {
  gasp_gid *p = malloc(k * sizeof *p);
  assert_non_null(p);
  for (size_t i = 0; i < k; i++) {
    if (i == 0)
      p[i] = 0;
    else if (i % 5 == 0)
      p[i] = GASP_GID_MAX - (gasp_gid)i; /* distinct from each other */
    else
      p[i] = 1000000000000000ull + (gasp_gid)i * 7919u;
  }
  return p;
}

/* n random edges between ids of `pool` (k ids), with self loops and
 * repeated pairs (of different weights) mixed in. */
static void random_edges(spec *s, tu_rng *r, const gasp_gid *pool, size_t k,
                         size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint64_t x = tu_below(r, 100);
    double w = (double)(int64_t)tu_below(r, 2001) / 8.0 - 125.0;
    if (x < 5 && s->n > 0) { /* repeat an earlier pair */
      size_t j = tu_below(r, s->n);
      spec_edge(s, s->src[j], s->dst[j], w);
    } else if (x < 10) {
      gasp_gid a = pool[tu_below(r, k)];
      spec_edge(s, a, a, w);
    } else {
      spec_edge(s, pool[tu_below(r, k)], pool[tu_below(r, k)], w);
    }
  }
}

/* ---- tests ------------------------------------------------------------ */

static void test_sparse_ids(void **state) {
  (void)state;
  tu_rng r = {11};
  gasp_gid *pool = sparse_pool(5000);
  spec s = {0};
  random_edges(&s, &r, pool, 5000, 40000);
  gasp_graph *g = build(&s, 2);
  check_against_reference(g, &s);
  /* ids not in the graph */
  gasp_vid v = 7;
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, 1, &v), GASP_ENOENT);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, GASP_GID_MAX - 1, NULL),
                   GASP_ENOENT);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, 1000000000000000ull + 1, NULL),
                   GASP_ENOENT);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, 0, NULL), GASP_ENOENT);
  /* the largest id is the last vertex */
  gasp_vid nv = gasp_graph_num_vertices(g);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, GASP_GID_MAX - 5, &v), GASP_OK);
  assert_int_equal(v, nv - 1);
  assert_int_equal(gasp_graph_gid(g, 0), 0);
  gasp_graph_free(&g);
  assert_null(g);
  spec_free(&s);
  free(pool);
}

static void test_dense_ids(void **state) {
  (void)state;
  tu_rng r = {12};
  gasp_gid pool[1000];
  for (size_t i = 0; i < 1000; i++) pool[i] = i * 3; /* gaps: 1, 2 unused */
  spec s = {0};
  random_edges(&s, &r, pool, 1000, 30000);
  gasp_graph *g = build(&s, 1);
  check_against_reference(g, &s);
  gasp_graph *g2 = build(&s, 2);
  tu_assert_graphs_equal(g, g2);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, 4, NULL), GASP_ENOENT);
  gasp_graph_free(&g);
  gasp_graph_free(&g2);
  spec_free(&s);
}

/* The id map has several representations, chosen by the id range and
 * the number of edges (a direct table, a bitmap with ranks, a hash); ids
 * at word boundaries (63, 64, ...) and the ends of the range in each. */
static void test_id_map_shapes(void **state) {
  (void)state;
  static const struct {
    uint64_t range;
    size_t edges;
  } shapes[] = {{500, 20000},          /* small range, many edges  */
                {5000000, 20000},      /* medium range, few edges  */
                {300000000, 200000},   /* wide range               */
                {(uint64_t)1 << 45, 20000}, {GASP_GID_MAX, 5000}};
  for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
    tu_rng r = {100 + k};
    size_t np = 3000;
    gasp_gid *pool = malloc(np * sizeof *pool);
    assert_non_null(pool);
    uint64_t top = shapes[k].range - 1;
    gasp_gid fixed[] = {0, 1, 62, 63, 64, 65, 127, 128, 4095, 4096, top, top - 1, top - 64};
    size_t nf = sizeof fixed / sizeof *fixed;
    for (size_t i = 0; i < np; i++)
      pool[i] = i < nf ? (fixed[i] <= top ? fixed[i] : top) : tu_below(&r, shapes[k].range);
    for (unsigned flags = 0; flags <= GASP_BUILD_BIPARTITE; flags += GASP_BUILD_BIPARTITE) {
      spec s = {.flags = flags};
      for (size_t i = 0; i < nf; i++) spec_edge(&s, pool[i], pool[nf - 1 - i], 1);
      random_edges(&s, &r, pool, np, shapes[k].edges);
      spec_vertex(&s, GASP_SIDE_LEFT, top);
      gasp_graph *g = build(&s, 2);
      check_against_reference(g, &s);
      gasp_graph *g1 = build(&s, 1);
      tu_assert_graphs_equal(g, g1);
      gasp_graph_free(&g);
      gasp_graph_free(&g1);
      spec_free(&s);
    }
    free(pool);
  }
}

static void test_weighted_multigraph(void **state) {
  (void)state;
  spec s = {.flags = GASP_BUILD_WEIGHTED};
  /* the same pair many times with different weights, in scrambled order */
  double ws[] = {3.5, -1, 0, 1e300, -2.25, 3.5, 7};
  for (size_t i = 0; i < sizeof ws / sizeof *ws; i++) {
    spec_edge(&s, 50, 10, ws[i]);
    spec_edge(&s, 10, 50, -ws[i]);
    spec_edge(&s, 10, 10, ws[i] / 2);
  }
  spec_edge(&s, 50, 5, 0.125);
  spec_edge(&s, 5, 50, 9);
  gasp_graph *g = build(&s, 2);
  check_against_reference(g, &s);
  /* by hand: vertex 50 (local 2) has out-edges to 5 then seven to 10 */
  gasp_vid v50;
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, 50, &v50), GASP_OK);
  assert_int_equal(v50, 2);
  assert_int_equal(gasp_graph_out_degree(g, v50), 8);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  const double *w = gasp_graph_weights(g);
  assert_int_equal(out.nbr[out.off[v50]], 0);
  assert_true(w[out.off[v50]] == 0.125);
  double sum = 0;
  for (uint64_t j = out.off[v50] + 1; j < out.off[v50 + 1]; j++) sum += w[j];
  assert_true(sum == 3.5 - 1 + 0 + 1e300 - 2.25 + 3.5 + 7);
  gasp_graph_free(&g);
  spec_free(&s);

  tu_rng r = {13};
  gasp_gid *pool = sparse_pool(300);
  spec s2 = {.flags = GASP_BUILD_WEIGHTED};
  random_edges(&s2, &r, pool, 300, 20000);
  g = build(&s2, 2);
  check_against_reference(g, &s2);
  gasp_graph_free(&g);
  spec_free(&s2);
  free(pool);
}

static void test_symmetric(void **state) {
  (void)state;
  spec s = {.flags = GASP_BUILD_SYMMETRIC};
  spec_edge(&s, 1, 2, 1);
  spec_edge(&s, 2, 2, 1); /* self loop: kept once */
  spec_edge(&s, 3, 1, 1);
  spec_edge(&s, 1, 2, 1); /* duplicate */
  gasp_graph *g = build(&s, 1);
  assert_int_equal(gasp_graph_num_edges(g), 7);
  check_against_reference(g, &s);
  gasp_graph_stats st;
  assert_int_equal(gasp_graph_stats_compute(g, 1, &st), GASP_OK);
  assert_int_equal(st.self_loops, 1);
  assert_int_equal(st.duplicate_edges, 2);
  gasp_graph_free(&g);
  spec_free(&s);

  tu_rng r = {14};
  gasp_gid *pool = sparse_pool(700);
  spec s2 = {.flags = GASP_BUILD_SYMMETRIC | GASP_BUILD_WEIGHTED};
  random_edges(&s2, &r, pool, 700, 15000);
  g = build(&s2, 2);
  check_against_reference(g, &s2);
  /* symmetric: in-list of every vertex equals its out-list */
  gasp_adjacency out, in;
  gasp_graph_out_edges(g, &out);
  gasp_graph_in_edges(g, &in);
  assert_memory_equal(out.off, in.off, (gasp_graph_num_vertices(g) + 1) * 8);
  assert_memory_equal(out.nbr, in.nbr, gasp_graph_num_edges(g) * 4);
  gasp_graph_free(&g);
  spec_free(&s2);
  free(pool);
}

static void test_bipartite(void **state) {
  (void)state;
  /* users 1..40 and items 1..60: the same numbers on both sides are
   * different vertices */
  tu_rng r = {15};
  spec s = {.flags = GASP_BUILD_BIPARTITE | GASP_BUILD_WEIGHTED};
  for (int i = 0; i < 3000; i++)
    spec_edge(&s, 1 + tu_below(&r, 40), 1 + tu_below(&r, 60),
              (double)tu_below(&r, 5) + 1);
  spec_edge(&s, 7, 7, 2.5); /* not a self loop: left 7 -> right 7 */
  spec_vertex(&s, GASP_SIDE_LEFT, 1000);            /* isolated user   */
  spec_vertex(&s, GASP_SIDE_RIGHT, 5000);           /* isolated item   */
  spec_vertex(&s, GASP_SIDE_RIGHT, GASP_GID_MAX);   /* isolated item   */
  spec_vertex(&s, GASP_SIDE_RIGHT, 3);              /* already present */
  gasp_graph *g = build(&s, 2);
  check_against_reference(g, &s);
  assert_true(gasp_graph_is_bipartite(g));
  gasp_vid nleft = gasp_graph_num_left(g);
  assert_int_equal(nleft, 41);
  assert_int_equal(gasp_graph_num_vertices(g), 41 + 62);
  gasp_vid a, b;
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, 7, &a), GASP_OK);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, 7, &b), GASP_OK);
  assert_int_equal(a, 6);
  assert_int_equal(b, nleft + 6);
  assert_int_equal(gasp_graph_side(g, a), GASP_SIDE_LEFT);
  assert_int_equal(gasp_graph_side(g, b), GASP_SIDE_RIGHT);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, 5000, NULL), GASP_ENOENT);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, 1000, NULL), GASP_ENOENT);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, GASP_GID_MAX, &b), GASP_OK);
  assert_int_equal(b, gasp_graph_num_vertices(g) - 1);
  gasp_graph_stats st;
  assert_int_equal(gasp_graph_stats_compute(g, 2, &st), GASP_OK);
  assert_int_equal(st.self_loops, 0);
  assert_int_equal(st.isolated, 3);
  gasp_graph_free(&g);
  spec_free(&s);
}

static void test_stats_by_hand(void **state) {
  (void)state;
  spec s = {0};
  spec_edge(&s, 1, 2, 1);
  spec_edge(&s, 1, 2, 1);
  spec_edge(&s, 2, 2, 1);
  spec_edge(&s, 3, 1, 1);
  spec_vertex(&s, GASP_SIDE_LEFT, 9);
  gasp_graph *g = build(&s, 1);
  gasp_graph_stats st;
  assert_int_equal(gasp_graph_stats_compute(g, 0, &st), GASP_OK);
  assert_int_equal(st.vertices, 4);
  assert_int_equal(st.edges, 4);
  assert_int_equal(st.self_loops, 1);
  assert_int_equal(st.duplicate_edges, 1);
  assert_int_equal(st.isolated, 1);
  assert_int_equal(st.min_out_degree, 0);
  assert_int_equal(st.max_out_degree, 2);
  assert_int_equal(st.min_in_degree, 0);
  assert_int_equal(st.max_in_degree, 3);
  assert_true(st.mean_degree == 1.0);
  assert_int_equal(st.weighted, 0);
  assert_int_equal(st.left_vertices, 4);
  assert_int_equal(st.right_vertices, 0);
  assert_null(gasp_graph_weights(g));
  assert_null(gasp_graph_name(g, 0));
  check_against_reference(g, &s);
  gasp_graph_free(&g);
  spec_free(&s);
}

static void test_isolated_only(void **state) {
  (void)state;
  spec s = {0};
  spec_vertex(&s, GASP_SIDE_LEFT, 42);
  spec_vertex(&s, GASP_SIDE_LEFT, 7);
  spec_vertex(&s, GASP_SIDE_LEFT, 42); /* twice: one vertex */
  spec_vertex(&s, GASP_SIDE_LEFT, 1ull << 50);
  gasp_graph *g = build(&s, 2);
  assert_int_equal(gasp_graph_num_vertices(g), 3);
  assert_int_equal(gasp_graph_num_edges(g), 0);
  check_against_reference(g, &s);
  gasp_graph_free(&g);
  spec_free(&s);
  /* isolated vertices next to edges, ids interleaved */
  spec s2 = {0};
  for (gasp_gid i = 0; i < 100; i += 2) spec_edge(&s2, i, i + 10, 1);
  for (gasp_gid i = 1; i < 200; i += 2) spec_vertex(&s2, GASP_SIDE_LEFT, i);
  spec_vertex(&s2, GASP_SIDE_LEFT, 4); /* also an edge end */
  g = build(&s2, 2);
  check_against_reference(g, &s2);
  gasp_graph_free(&g);
  spec_free(&s2);
}

static void test_empty_builder(void **state) {
  (void)state;
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, 0), GASP_OK);
  gasp_graph *g = (gasp_graph *)&b; /* must be overwritten */
  int rc = gasp_builder_finish(b, 1, &g, NULL);
  if (rc == GASP_OK) {
    assert_non_null(g);
    assert_int_equal(gasp_graph_num_vertices(g), 0);
    assert_int_equal(gasp_graph_num_edges(g), 0);
    gasp_graph_stats st;
    assert_int_equal(gasp_graph_stats_compute(g, 1, &st), GASP_OK);
    assert_int_equal(st.vertices, 0);
    gasp_graph_free(&g);
  } else {
    assert_null(g);
  }
  gasp_builder_free(&b);
}

static void test_builder_reuse(void **state) {
  (void)state;
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, GASP_BUILD_WEIGHTED), GASP_OK);
  assert_int_equal(gasp_builder_add_edge(b, 5, 6, 2.0), GASP_OK);
  assert_int_equal(gasp_builder_add_vertex(b, GASP_SIDE_LEFT, 99), GASP_OK);
  gasp_graph *g1 = NULL, *g2 = NULL;
  assert_int_equal(gasp_builder_finish(b, 1, &g1, NULL), GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(g1), 3);
  /* the builder starts empty again: nothing of the first graph remains */
  spec s = {.flags = GASP_BUILD_WEIGHTED};
  spec_edge(&s, 1, 2, 0.5);
  spec_edge(&s, 2, 3, 1.5);
  for (size_t i = 0; i < s.n; i++)
    assert_int_equal(gasp_builder_add_edge(b, s.src[i], s.dst[i], s.w[i]), GASP_OK);
  assert_int_equal(gasp_builder_finish(b, 2, &g2, NULL), GASP_OK);
  check_against_reference(g2, &s);
  gasp_builder_free(&b);
  assert_null(b);
  gasp_graph_free(&g1);
  gasp_graph_free(&g2);
  spec_free(&s);
}

static void test_alloc_data(void **state) {
  (void)state;
  tu_rng r = {16};
  gasp_gid pool[200];
  for (int i = 0; i < 200; i++) pool[i] = (gasp_gid)i * 11;
  spec s = {0};
  random_edges(&s, &r, pool, 200, 3000);
  gasp_graph *g = build(&s, 2);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint64_t ne = gasp_graph_num_edges(g);
  assert_null(gasp_graph_vertex_data(g));
  assert_null(gasp_graph_edge_data(g));
  for (int round = 0; round < 2; round++) {
    size_t vs = round ? 24 : 8, es = round ? 3 : 16;
    assert_int_equal(gasp_graph_alloc_data(g, vs, es), GASP_OK);
    unsigned char *vd = gasp_graph_vertex_data(g), *ed = gasp_graph_edge_data(g);
    assert_non_null(vd);
    assert_non_null(ed);
    assert_int_equal(gasp_graph_vertex_size(g), vs);
    assert_int_equal(gasp_graph_edge_size(g), es);
    for (size_t i = 0; i < (size_t)nv * vs; i++) assert_int_equal(vd[i], 0);
    for (size_t i = 0; i < (size_t)ne * es; i++) assert_int_equal(ed[i], 0);
    memset(vd, 0xab, (size_t)nv * vs); /* dirty: the next round must clear */
    memset(ed, 0xcd, (size_t)ne * es);
  }
  /* data does not change the structure */
  check_against_reference(g, &s);
  assert_int_equal(gasp_graph_alloc_data(g, 0, 0), GASP_OK);
  assert_int_equal(gasp_graph_vertex_size(g), 0);
  uint64_t sb = gasp_graph_structure_bytes(g);
  assert_true(sb >= (uint64_t)nv * 8 + 2 * ((uint64_t)nv + 1) * 8 + ne * 12);
  gasp_graph_free(&g);
  spec_free(&s);
}

static void test_id_range(void **state) {
  (void)state;
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, GASP_BUILD_BIPARTITE), GASP_OK);
  gasp_gid big = (gasp_gid)INT64_MAX + 1;
  assert_int_equal(gasp_builder_add_edge(b, big, 1, 1), GASP_ERANGE);
  assert_int_equal(gasp_builder_add_edge(b, 1, big, 1), GASP_ERANGE);
  assert_int_equal(gasp_builder_add_edge(b, UINT64_MAX, UINT64_MAX, 1), GASP_ERANGE);
  assert_int_equal(gasp_builder_add_vertex(b, GASP_SIDE_LEFT, big), GASP_ERANGE);
  assert_int_equal(gasp_builder_add_vertex(b, GASP_SIDE_RIGHT, UINT64_MAX),
                   GASP_ERANGE);
  /* the largest valid id works; the rejected calls added nothing */
  assert_int_equal(gasp_builder_add_edge(b, GASP_GID_MAX, GASP_GID_MAX, 1), GASP_OK);
  gasp_graph *g = NULL;
  assert_int_equal(gasp_builder_finish(b, 1, &g, NULL), GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(g), 2);
  assert_int_equal(gasp_graph_num_edges(g), 1);
  assert_int_equal(gasp_graph_gid(g, 0), GASP_GID_MAX);
  assert_int_equal(gasp_graph_gid(g, 1), GASP_GID_MAX);
  gasp_graph_free(&g);
  gasp_builder_free(&b);
}

static void test_free_null(void **state) {
  (void)state;
  gasp_graph_free(NULL);
  gasp_graph *g = NULL;
  gasp_graph_free(&g);
  assert_null(g);
  gasp_builder_free(NULL);
  gasp_builder *b = NULL;
  gasp_builder_free(&b);
  assert_null(b);
  gasp_edge_list_free(NULL);
  /* a builder freed with edges still in it */
  assert_int_equal(gasp_builder_new(&b, GASP_BUILD_WEIGHTED), GASP_OK);
  for (int i = 0; i < 5000; i++) gasp_builder_add_edge(b, i, i + 1, 1);
  gasp_builder_add_vertex(b, GASP_SIDE_LEFT, 77777);
  gasp_builder_free(&b);
  assert_null(b);
}

/* More than one internal chunk (over 2^20 edges), sparse ids that make the
 * id map grow while several threads insert: the result must not depend on
 * the number of threads. */
static void test_threads_identical(void **state) {
  (void)state;
  tu_rng r = {17};
  size_t k = 400000;
  gasp_gid *pool = malloc(k * sizeof *pool);
  assert_non_null(pool);
  for (size_t i = 0; i < k; i++) pool[i] = (tu_next(&r) >> 1) | 1; /* 63 bits */
  spec s = {.flags = GASP_BUILD_WEIGHTED};
  random_edges(&s, &r, pool, k, 2300000);
  gasp_graph *g1 = build(&s, 1);
  gasp_graph *g2 = build(&s, 2);
  gasp_graph *g3 = build(&s, 3);
  tu_assert_graphs_equal(g1, g2);
  tu_assert_graphs_equal(g1, g3);
  check_against_reference(g2, &s);
  gasp_graph_free(&g1);
  gasp_graph_free(&g2);
  gasp_graph_free(&g3);
  /* dense ids, symmetric, same check */
  spec d = {.flags = GASP_BUILD_SYMMETRIC};
  for (size_t i = 0; i < 1200000; i++)
    spec_edge(&d, tu_below(&r, 50000), tu_below(&r, 50000), 1);
  g1 = build(&d, 1);
  g2 = build(&d, 2);
  tu_assert_graphs_equal(g1, g2);
  check_against_reference(g2, &d);
  gasp_graph_free(&g1);
  gasp_graph_free(&g2);
  spec_free(&s);
  spec_free(&d);
  free(pool);
}

static void test_error_helpers(void **state) {
  (void)state;
  assert_string_equal(gasp_err_name(GASP_EPARSE), "EPARSE");
  assert_string_equal(gasp_err_name(GASP_OK), "OK");
  assert_string_equal(gasp_strerror(GASP_ECHECKSUM), "checksum mismatch");
  assert_string_equal(gasp_strerror(-12345), "unknown error");
  gasp_error e = {.code = GASP_EPARSE, .line = 12};
  snprintf(e.file, sizeof e.file, "a.txt");
  snprintf(e.msg, sizeof e.msg, "bad");
  char buf[64];
  assert_string_equal(gasp_error_format(&e, buf, sizeof buf), "a.txt:12: bad");
  e.line = 0;
  assert_string_equal(gasp_error_format(&e, buf, sizeof buf), "a.txt: bad");
  e.file[0] = '\0';
  assert_string_equal(gasp_error_format(&e, buf, sizeof buf), "bad");
  char small[4];
  e.line = 3;
  snprintf(e.file, sizeof e.file, "long-name.txt");
  gasp_error_format(&e, small, sizeof small);
  assert_int_equal(strlen(small), 3);
  gasp_format f;
  assert_int_equal(gasp_format_parse("mtx", &f), GASP_OK);
  assert_int_equal(f, GASP_FORMAT_MTX);
  assert_int_equal(gasp_format_parse("snap", &f), GASP_OK);
  assert_int_equal(f, GASP_FORMAT_EDGELIST);
  assert_int_equal(gasp_format_parse("bogus", &f), GASP_EINVAL);
  assert_string_equal(gasp_format_name(GASP_FORMAT_UCI), "uci");
}


/* ---- reordering ---------------------------------------------------------
 * gasp_graph_reorder: the same graph in original ids (every weighted edge,
 * repeated ones too, and every isolated vertex), lists sorted, in-edge
 * slots naming their out-edges, ids found again, the id order ascending;
 * degree and dbg put out-degrees (groups) in non-increasing order; rcm
 * turns a path with scrambled ids into one of bandwidth 1; a snapshot
 * keeps it all; and the refusals. */
typedef struct tri {
  gasp_gid u, v;
  double w;
} tri;

static int cmp_tri(const void *a, const void *b) {
  const tri *x = a, *y = b;
  if (x->u != y->u) return x->u < y->u ? -1 : 1;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  return x->w < y->w ? -1 : x->w > y->w;
}

static tri *edges_by_id(const gasp_graph *g) {
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  const double *w = gasp_graph_weights(g);
  tri *t = malloc((out.num_edges ? out.num_edges : 1) * sizeof *t);
  for (uint64_t u = 0; u < out.num_vertices; u++)
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++)
      t[j] = (tri){gasp_graph_gid(g, (gasp_vid)u),
                   gasp_graph_gid(g, out.nbr[j]), w ? w[j] : 1};
  qsort(t, out.num_edges, sizeof *t, cmp_tri);
  return t;
}

static void check_reordered(const gasp_graph *a, const gasp_graph *b) {
  uint64_t n = gasp_graph_num_vertices(a), m = gasp_graph_num_edges(a);
  assert_int_equal(gasp_graph_num_vertices(b), n);
  assert_int_equal(gasp_graph_num_edges(b), m);
  tri *x = edges_by_id(a), *y = edges_by_id(b);
  assert_memory_equal(x, y, m * sizeof *x);
  free(x), free(y);
  const gasp_vid *ord = gasp_graph_id_order(b);
  assert_non_null(ord);
  gasp_adjacency out, in;
  gasp_graph_out_edges(b, &out);
  gasp_graph_in_edges(b, &in);
  for (uint64_t i = 0; i < n; i++) {
    assert_true(ord[i] < n);
    if (i) assert_true(gasp_graph_gid(b, ord[i - 1]) < gasp_graph_gid(b, ord[i]));
    gasp_vid v;
    assert_int_equal(gasp_graph_find(b, GASP_SIDE_LEFT, gasp_graph_gid(a, i), &v),
                     GASP_OK);
    assert_int_equal(gasp_graph_gid(b, v), gasp_graph_gid(a, i));
    for (uint64_t j = out.off[i] + 1; j < out.off[i + 1]; j++)
      assert_true(out.nbr[j - 1] <= out.nbr[j]);
    for (uint64_t j = in.off[i]; j < in.off[i + 1]; j++) {
      if (j > in.off[i]) assert_true(in.nbr[j - 1] <= in.nbr[j]);
      uint64_t sl = in.slot[j];
      assert_true(out.off[in.nbr[j]] <= sl && sl < out.off[in.nbr[j] + 1]);
      assert_int_equal(out.nbr[sl], i);
    }
  }
  assert_int_equal(gasp_graph_find(b, GASP_SIDE_LEFT, 999999999, NULL),
                   GASP_ENOENT);
}

/* The group of dbg: below mean / 2, then [mean 2^(k-2), mean 2^(k-1)),
 * the last (7) open-ended. */
static int dbg_group(const gasp_graph *g, uint64_t d) {
  double mean = (double)gasp_graph_num_edges(g) /
                (double)gasp_graph_num_vertices(g),
         lim = mean / 2;
  int k = 0;
  while (k < 7 && (double)d >= lim) {
    k++;
    lim *= 2;
  }
  return k;
}

static void test_reorder(void **state) {
  (void)state;
  gasp_builder *bld;
  assert_int_equal(gasp_builder_new(&bld, GASP_BUILD_WEIGHTED), GASP_OK);
  tu_rng r = {17};
  for (int i = 0; i < 3000; i++) { /* skewed, with repeats and loops */
    uint64_t a = tu_below(&r, 300), u = a * a / 300, v = tu_below(&r, 300);
    assert_int_equal(gasp_builder_add_edge(bld, u * 7 + 5, v * 7 + 5,
                                           (double)(i % 13)),
                     GASP_OK);
  }
  assert_int_equal(gasp_builder_add_vertex(bld, GASP_SIDE_LEFT, 4000), GASP_OK);
  gasp_graph *g;
  assert_int_equal(gasp_builder_finish(bld, 2, &g, NULL), GASP_OK);
  gasp_builder_free(&bld);
  assert_null(gasp_graph_id_order(g));
  char *dir = tu_mkdtemp();
  char *snap = tu_path(dir, "r.gasp");
  for (int how = GASP_REORDER_DEGREE; how <= GASP_REORDER_RCM; how++) {
    gasp_graph *h = NULL;
    gasp_load_opts lo;
    gasp_load_opts_init(&lo);
    /* a copy of g through a snapshot, reordered, twice over for degree */
    assert_int_equal(gasp_graph_save_snapshot(g, snap, NULL), GASP_OK);
    assert_int_equal(gasp_graph_load(&h, snap, &lo, NULL), GASP_OK);
    gasp_error err;
    assert_int_equal(gasp_graph_reorder(&h, (gasp_reorder)how, &err), GASP_OK);
    check_reordered(g, h);
    uint64_t n = gasp_graph_num_vertices(h);
    if (how != GASP_REORDER_RCM)
      for (uint64_t v = 1; v < n; v++) {
        uint64_t d0 = gasp_graph_out_degree(h, (gasp_vid)(v - 1)),
                 d1 = gasp_graph_out_degree(h, (gasp_vid)v);
        if (how == GASP_REORDER_DEGREE)
          assert_true(d0 >= d1);
        else /* dbg: groups by out-degree against the mean, hottest first */
          assert_true(dbg_group(h, d0) >= dbg_group(h, d1));
      }
    if (how == GASP_REORDER_DEGREE) /* again: the order composes */
      assert_int_equal(gasp_graph_reorder(&h, GASP_REORDER_RCM, &err), GASP_OK);
    check_reordered(g, h);
    /* the snapshot keeps the order */
    assert_int_equal(gasp_graph_save_snapshot(h, snap, NULL), GASP_OK);
    gasp_graph *k = NULL;
    assert_int_equal(gasp_graph_load(&k, snap, &lo, NULL), GASP_OK);
    check_reordered(g, k);
    assert_memory_equal(gasp_graph_id_order(k), gasp_graph_id_order(h),
                        n * sizeof(gasp_vid));
    for (uint64_t v = 0; v < n; v++)
      assert_int_equal(gasp_graph_gid(k, (gasp_vid)v),
                       gasp_graph_gid(h, (gasp_vid)v));
    gasp_graph_free(&k);
    gasp_graph_free(&h);
  }
  /* a degree above the vertex count (repeated edges): the comparison
   * sort's path, the same orders */
  assert_int_equal(gasp_builder_new(&bld, 0), GASP_OK);
  for (int i = 0; i < 12; i++)
    assert_int_equal(gasp_builder_add_edge(bld, 30, i % 2 ? 10 : 20, 1), GASP_OK);
  assert_int_equal(gasp_builder_add_edge(bld, 10, 20, 1), GASP_OK);
  assert_int_equal(gasp_builder_add_edge(bld, 20, 40, 1), GASP_OK);
  gasp_graph *m;
  assert_int_equal(gasp_builder_finish(bld, 1, &m, NULL), GASP_OK);
  gasp_builder_free(&bld);
  for (int how = GASP_REORDER_DEGREE; how <= GASP_REORDER_RCM; how++) {
    gasp_graph *h = NULL;
    assert_int_equal(gasp_graph_save_snapshot(m, snap, NULL), GASP_OK);
    gasp_load_opts lo;
    gasp_load_opts_init(&lo);
    assert_int_equal(gasp_graph_load(&h, snap, &lo, NULL), GASP_OK);
    assert_int_equal(gasp_graph_reorder(&h, (gasp_reorder)how, NULL), GASP_OK);
    check_reordered(m, h);
    if (how == GASP_REORDER_DEGREE) { /* 30 (12 edges), then 10 and 20, 40 */
      assert_int_equal(gasp_graph_gid(h, 0), 30);
      assert_int_equal(gasp_graph_gid(h, 3), 40);
    }
    gasp_graph_free(&h);
  }
  gasp_graph_free(&m);
  /* rcm: a path 0 - 1 - ... - 99 under scrambled ids has bandwidth 1 */
  assert_int_equal(gasp_builder_new(&bld, 0), GASP_OK);
  for (uint64_t i = 0; i + 1 < 100; i++)
    assert_int_equal(gasp_builder_add_edge(bld, (i * 37) % 101, ((i + 1) * 37) % 101, 1),
                     GASP_OK);
  gasp_graph *p;
  assert_int_equal(gasp_builder_finish(bld, 1, &p, NULL), GASP_OK);
  gasp_builder_free(&bld);
  assert_int_equal(gasp_graph_reorder(&p, GASP_REORDER_RCM, NULL), GASP_OK);
  gasp_adjacency out;
  gasp_graph_out_edges(p, &out);
  for (uint64_t u = 0; u < out.num_vertices; u++)
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++)
      assert_true(out.nbr[j] + 1 == u || u + 1 == out.nbr[j]);
  /* refusals */
  gasp_reorder how;
  assert_int_equal(gasp_reorder_parse("dbg", &how), GASP_OK);
  assert_int_equal(how, GASP_REORDER_DBG);
  assert_int_equal(gasp_reorder_parse("random", &how), GASP_EINVAL);
  gasp_error err;
  assert_int_equal(gasp_graph_reorder(&p, (gasp_reorder)9, &err), GASP_EINVAL);
  assert_int_equal(gasp_graph_alloc_data(p, 8, 0), GASP_OK);
  assert_int_equal(gasp_graph_reorder(&p, GASP_REORDER_DEGREE, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "program data"));
  gasp_graph_free(&p);
  assert_int_equal(gasp_builder_new(&bld, GASP_BUILD_BIPARTITE), GASP_OK);
  assert_int_equal(gasp_builder_add_edge(bld, 1, 2, 1), GASP_OK);
  assert_int_equal(gasp_builder_finish(bld, 1, &p, NULL), GASP_OK);
  gasp_builder_free(&bld);
  assert_int_equal(gasp_graph_reorder(&p, GASP_REORDER_DEGREE, &err), GASP_ENOTSUP);
  assert_int_equal(gasp_graph_reorder(&p, GASP_REORDER_NONE, &err), GASP_OK);
  gasp_graph_free(&p);
  gasp_graph_free(&g);
  free(snap);
  tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sparse_ids),
      cmocka_unit_test(test_dense_ids),
      cmocka_unit_test(test_id_map_shapes),
      cmocka_unit_test(test_weighted_multigraph),
      cmocka_unit_test(test_symmetric),
      cmocka_unit_test(test_bipartite),
      cmocka_unit_test(test_stats_by_hand),
      cmocka_unit_test(test_isolated_only),
      cmocka_unit_test(test_empty_builder),
      cmocka_unit_test(test_builder_reuse),
      cmocka_unit_test(test_alloc_data),
      cmocka_unit_test(test_id_range),
      cmocka_unit_test(test_free_null),
      cmocka_unit_test(test_threads_identical),
      cmocka_unit_test(test_error_helpers),
      cmocka_unit_test(test_reorder),
  };
  return cmocka_run_group_tests_name("graph", tests, NULL, NULL);
}
