/*
 * test_partition.c -- hash partitioning and partition quality figures.
 *
 * gasp_partition_hash() is checked for determinism, range, independence of
 * the input order, side awareness and balance; gasp_partition_stats_compute()
 * against figures computed here by brute force from the raw edge list
 * (edge cut, balances, ghosts per part as explicit sets).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "gasp.h"
#include "testutil.h"

#include <sys/resource.h>

typedef struct raw {
  size_t n;
  gasp_gid *src, *dst;
} raw;

static gasp_graph *build_raw(const raw *r, unsigned flags, const gasp_gid *iso,
                             size_t niso, int reverse) {
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, flags), GASP_OK);
  for (size_t k = 0; k < r->n; k++) {
    size_t i = reverse ? r->n - 1 - k : k;
    assert_int_equal(gasp_builder_add_edge(b, r->src[i], r->dst[i], 1),
                     GASP_OK);
  }
  for (size_t i = 0; i < niso; i++)
    assert_int_equal(gasp_builder_add_vertex(b, GASP_SIDE_LEFT, iso[i]),
                     GASP_OK);
  gasp_graph *g = NULL;
  assert_int_equal(gasp_builder_finish(b, 2, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  return g;
}

static raw random_raw(uint64_t seed, size_t n, uint64_t idspace) {
  raw r = {n, malloc(n * sizeof(gasp_gid)), malloc(n * sizeof(gasp_gid))};
  assert_true(r.src && r.dst);
  tu_rng g = {seed};
  for (size_t i = 0; i < n; i++) {
    r.src[i] = tu_below(&g, idspace) * 1000003u;
    r.dst[i] = i % 17 == 0 ? r.src[i] : tu_below(&g, idspace) * 1000003u;
  }
  return r;
}

static void raw_free(raw *r) {
  free(r->src);
  free(r->dst);
}

/* ---- hash ----------------------------------------------------------- */

static void test_hash_basic(void **state) {
  (void)state;
  raw r = random_raw(1, 5000, 3000);
  gasp_gid iso[] = {5, 6, 7};
  gasp_graph *g = build_raw(&r, 0, iso, 3, 0);
  gasp_graph *h = build_raw(&r, 0, iso, 3, 1); /* edges in reverse order */
  gasp_gid more[] = {5, 6, 7, 1, 2, 3, 4, 999999999999ull};
  gasp_graph *k = build_raw(&r, 0, more, 8, 0); /* other vertices too */
  gasp_vid nv = gasp_graph_num_vertices(g), nk = gasp_graph_num_vertices(k);
  uint32_t *o1 = malloc(nv * sizeof *o1), *o2 = malloc(nv * sizeof *o2);
  uint32_t *ok = malloc(nk * sizeof *ok);
  int parts_list[] = {1, 2, 3, 7, 64};
  for (size_t pi = 0; pi < sizeof parts_list / sizeof *parts_list; pi++) {
    int parts = parts_list[pi];
    memset(o1, 0xff, nv * sizeof *o1);
    assert_int_equal(gasp_partition_hash(g, parts, o1), GASP_OK);
    assert_int_equal(gasp_partition_hash(g, parts, o2), GASP_OK);
    assert_memory_equal(o1, o2, nv * sizeof *o1);
    for (gasp_vid v = 0; v < nv; v++)
      assert_true(o1[v] < (uint32_t)parts);
    assert_int_equal(gasp_partition_hash(h, parts, o2), GASP_OK);
    assert_memory_equal(o1, o2, nv * sizeof *o1);
    /* the owner follows the original id, not the local id */
    assert_int_equal(gasp_partition_hash(k, parts, ok), GASP_OK);
    for (gasp_vid v = 0; v < nv; v++) {
      gasp_vid u;
      assert_int_equal(
          gasp_graph_find(k, GASP_SIDE_LEFT, gasp_graph_gid(g, v), &u),
          GASP_OK);
      assert_int_equal(ok[u], o1[v]);
    }
    if (parts > 1) {
      /* used parts: all of them for a few thousand vertices */
      int *seen = calloc((size_t)parts, sizeof *seen);
      for (gasp_vid v = 0; v < nv; v++)
        seen[o1[v]] = 1;
      for (int p = 0; p < parts; p++)
        assert_true(seen[p]);
      free(seen);
    }
  }
  assert_int_equal(gasp_partition_hash(g, 0, o1), GASP_EINVAL);
  assert_int_equal(gasp_partition_hash(g, -3, o1), GASP_EINVAL);
  assert_int_equal(gasp_partition_hash(g, 2, NULL), GASP_EINVAL);
  free(o1);
  free(o2);
  free(ok);
  gasp_graph_free(&g);
  gasp_graph_free(&h);
  gasp_graph_free(&k);
  raw_free(&r);
}

static void test_hash_balance(void **state) {
  (void)state;
  /* consecutive ids, the case a poor hash (id % parts in disguise or a
   * weak mix) handles worst, and a large random graph */
  raw r = random_raw(2, 600000, 400000);
  for (size_t i = 0; i < r.n / 2; i++) {
    r.src[i] = i;
    r.dst[i] = i + 1;
  }
  gasp_graph *g = build_raw(&r, 0, NULL, 0, 0);
  gasp_vid nv = gasp_graph_num_vertices(g);
  assert_true(nv > 300000);
  uint32_t *o = malloc(nv * sizeof *o);
  int parts_list[] = {2, 8, 13};
  for (size_t pi = 0; pi < 3; pi++) {
    int parts = parts_list[pi];
    assert_int_equal(gasp_partition_hash(g, parts, o), GASP_OK);
    uint64_t cnt[16] = {0};
    for (gasp_vid v = 0; v < nv; v++)
      cnt[o[v]]++;
    double mean = (double)nv / parts;
    for (int p = 0; p < parts; p++)
      if (fabs((double)cnt[p] - mean) > 0.03 * mean)
        fail_msg("parts=%d: part %d holds %llu vertices, mean %.0f", parts, p,
                 (unsigned long long)cnt[p], mean);
    gasp_partition_stats st;
    assert_int_equal(gasp_partition_stats_compute(g, parts, o, 2, &st),
                     GASP_OK);
    assert_true(st.vertex_balance < 1.03);
    assert_true(st.edge_balance < 1.1);
    /* a random assignment cuts about 1 - 1/parts of the edges that are
     * not self loops */
    size_t loops = 0;
    for (size_t i = 0; i < r.n; i++)
      loops += r.src[i] == r.dst[i];
    double want = (1.0 - 1.0 / parts) * (double)(r.n - loops) / (double)r.n;
    assert_true(fabs(st.edge_cut_fraction - want) < 0.02);
  }
  free(o);
  gasp_graph_free(&g);
  raw_free(&r);
}

static void test_hash_sides(void **state) {
  (void)state;
  /* bipartite: the same number on both sides is two vertices, and the side
   * takes part in the hash */
  raw r = {4000, malloc(4000 * sizeof(gasp_gid)),
           malloc(4000 * sizeof(gasp_gid))};
  for (size_t i = 0; i < r.n; i++) {
    r.src[i] = i;
    r.dst[i] = i;
  }
  gasp_graph *g = build_raw(&r, GASP_BUILD_BIPARTITE, NULL, 0, 0);
  gasp_vid nv = gasp_graph_num_vertices(g), nleft = gasp_graph_num_left(g);
  assert_int_equal(nleft, 4000);
  uint32_t *o = malloc(nv * sizeof *o);
  assert_int_equal(gasp_partition_hash(g, 8, o), GASP_OK);
  size_t differ = 0;
  for (gasp_vid v = 0; v < nleft; v++)
    differ += o[v] != o[nleft + v];
  /* independent sides would differ 7/8 of the time */
  assert_true(differ > 4000 / 2);
  free(o);
  gasp_graph_free(&g);
  raw_free(&r);
}

/* ---- statistics against brute force -------------------------------- */

static void brute_stats(const gasp_graph *g, const raw *r, gasp_side dst_side,
                        int parts, const uint32_t *owner,
                        gasp_partition_stats *want) {
  gasp_vid nv = gasp_graph_num_vertices(g);
  size_t ne = r->n;
  gasp_vid *s = malloc((ne + 1) * sizeof *s), *d = malloc((ne + 1) * sizeof *d);
  for (size_t i = 0; i < ne; i++) {
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, r->src[i], &s[i]),
                     GASP_OK);
    assert_int_equal(gasp_graph_find(g, dst_side, r->dst[i], &d[i]), GASP_OK);
  }
  uint64_t cut = 0, vmax = 0, emax = 0, gtot = 0, gmax = 0;
  for (size_t i = 0; i < ne; i++)
    cut += owner[s[i]] != owner[d[i]];
  unsigned char *in = malloc(nv + 1);
  for (int p = 0; p < parts; p++) {
    uint64_t vc = 0, ec = 0, gh = 0;
    for (gasp_vid v = 0; v < nv; v++)
      vc += owner[v] == (uint32_t)p;
    for (size_t i = 0; i < ne; i++)
      ec += owner[s[i]] == (uint32_t)p;
    memset(in, 0, nv + 1);
    for (size_t i = 0; i < ne; i++) {
      if (owner[s[i]] == (uint32_t)p && owner[d[i]] != (uint32_t)p)
        in[d[i]] = 1;
      if (owner[d[i]] == (uint32_t)p && owner[s[i]] != (uint32_t)p)
        in[s[i]] = 1;
    }
    for (gasp_vid v = 0; v < nv; v++)
      gh += in[v];
    if (vc > vmax) vmax = vc;
    if (ec > emax) emax = ec;
    gtot += gh;
    if (gh > gmax) gmax = gh;
  }
  want->parts = parts;
  want->edge_cut_fraction = ne ? (double)cut / (double)ne : 0;
  want->vertex_balance = (double)vmax * parts / nv;
  want->edge_balance = ne ? (double)emax * parts / (double)ne : 1;
  want->ghosts_total = gtot;
  want->ghosts_max = gmax;
  free(in);
  free(s);
  free(d);
}

static void compare_stats(const gasp_graph *g, const raw *r, gasp_side dst_side,
                          int parts, const uint32_t *owner) {
  gasp_partition_stats want, got;
  brute_stats(g, r, dst_side, parts, owner, &want);
  for (int t = 1; t <= 2; t++) {
    memset(&got, 0x77, sizeof got);
    assert_int_equal(gasp_partition_stats_compute(g, parts, owner, t, &got),
                     GASP_OK);
    assert_int_equal(got.parts, parts);
    if (fabs(got.edge_cut_fraction - want.edge_cut_fraction) > 1e-12 ||
        fabs(got.vertex_balance - want.vertex_balance) > 1e-12 ||
        fabs(got.edge_balance - want.edge_balance) > 1e-12 ||
        got.ghosts_total != want.ghosts_total ||
        got.ghosts_max != want.ghosts_max)
      fail_msg(
          "parts=%d threads=%d: got cut %g vbal %g ebal %g ghosts %llu/%llu, "
          "want cut %g vbal %g ebal %g ghosts %llu/%llu",
          parts, t, got.edge_cut_fraction, got.vertex_balance, got.edge_balance,
          (unsigned long long)got.ghosts_total,
          (unsigned long long)got.ghosts_max, want.edge_cut_fraction,
          want.vertex_balance, want.edge_balance,
          (unsigned long long)want.ghosts_total,
          (unsigned long long)want.ghosts_max);
  }
}

static void test_stats_brute_force(void **state) {
  (void)state;
  tu_rng rng = {3};
  for (int round = 0; round < 6; round++) {
    raw r = random_raw(10 + (uint64_t)round, 300 + 200 * (size_t)round,
                       60 + 40 * (uint64_t)round);
    gasp_gid iso[] = {1, 2, 3};
    gasp_graph *g = build_raw(&r, 0, iso, 3, 0);
    gasp_vid nv = gasp_graph_num_vertices(g);
    uint32_t *o = malloc(nv * sizeof *o);
    for (int parts = 1; parts <= 5; parts++) {
      /* hash owners and arbitrary (skewed) owners */
      assert_int_equal(gasp_partition_hash(g, parts, o), GASP_OK);
      compare_stats(g, &r, GASP_SIDE_LEFT, parts, o);
      for (gasp_vid v = 0; v < nv; v++)
        o[v] =
            (uint32_t)(tu_below(&rng, 3) ? 0 : tu_below(&rng, (uint64_t)parts));
      compare_stats(g, &r, GASP_SIDE_LEFT, parts, o);
    }
    free(o);
    gasp_graph_free(&g);
    raw_free(&r);
  }
  /* a bipartite graph */
  raw r = random_raw(20, 800, 100);
  gasp_graph *g = build_raw(&r, GASP_BUILD_BIPARTITE, NULL, 0, 0);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint32_t *o = malloc(nv * sizeof *o);
  for (int parts = 1; parts <= 4; parts++) {
    assert_int_equal(gasp_partition_hash(g, parts, o), GASP_OK);
    compare_stats(g, &r, GASP_SIDE_RIGHT, parts, o);
  }
  free(o);
  gasp_graph_free(&g);
  raw_free(&r);
}

static void test_stats_by_hand(void **state) {
  (void)state;
  /* 0->1, 1->2, 2->0, 2->3, 3->3 with owners {0, 0, 1, 1}:
   * cut edges 1->2 and 2->0 (2 of 5); part 0 sees 2 as a ghost, part 1
   * sees 0 and 1; vertices 2 and 2, out-edges 2 and 3. */
  raw r = {5, malloc(5 * sizeof(gasp_gid)), malloc(5 * sizeof(gasp_gid))};
  gasp_gid es[5][2] = {{0, 1}, {1, 2}, {2, 0}, {2, 3}, {3, 3}};
  for (int i = 0; i < 5; i++) {
    r.src[i] = es[i][0];
    r.dst[i] = es[i][1];
  }
  gasp_graph *g = build_raw(&r, 0, NULL, 0, 0);
  uint32_t o[4] = {0, 0, 1, 1};
  gasp_partition_stats st;
  assert_int_equal(gasp_partition_stats_compute(g, 2, o, 1, &st), GASP_OK);
  assert_int_equal(st.parts, 2);
  assert_true(fabs(st.edge_cut_fraction - 0.4) < 1e-12);
  assert_true(fabs(st.vertex_balance - 1.0) < 1e-12);
  assert_true(fabs(st.edge_balance - 3.0 * 2 / 5) < 1e-12);
  assert_int_equal(st.ghosts_total, 3);
  assert_int_equal(st.ghosts_max, 2);
  /* one part: nothing cut, no ghosts */
  uint32_t z[4] = {0, 0, 0, 0};
  assert_int_equal(gasp_partition_stats_compute(g, 1, z, 2, &st), GASP_OK);
  assert_true(st.edge_cut_fraction == 0);
  assert_int_equal(st.ghosts_total, 0);
  assert_int_equal(st.ghosts_max, 0);
  assert_true(fabs(st.vertex_balance - 1) < 1e-12);
  assert_true(fabs(st.edge_balance - 1) < 1e-12);
  /* three parts, one empty: balance against the mean over all parts */
  uint32_t t[4] = {0, 0, 0, 2};
  assert_int_equal(gasp_partition_stats_compute(g, 3, t, 1, &st), GASP_OK);
  assert_true(fabs(st.vertex_balance - 3.0 * 3 / 4) < 1e-12);
  /* bad arguments */
  uint32_t bad[4] = {0, 0, 5, 1};
  assert_int_equal(gasp_partition_stats_compute(g, 2, bad, 1, &st),
                   GASP_EINVAL);
  assert_int_equal(gasp_partition_stats_compute(g, 0, o, 1, &st), GASP_EINVAL);
  assert_int_equal(gasp_partition_stats_compute(g, 2, NULL, 1, &st),
                   GASP_EINVAL);
  assert_int_equal(gasp_partition_stats_compute(g, 2, o, 1, NULL), GASP_EINVAL);
  gasp_graph_free(&g);
  raw_free(&r);
}

static void test_single_part_large(void **state) {
  (void)state;
  raw r = random_raw(4, 50000, 20000);
  gasp_graph *g = build_raw(&r, GASP_BUILD_SYMMETRIC, NULL, 0, 0);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint32_t *o = malloc(nv * sizeof *o);
  assert_int_equal(gasp_partition_hash(g, 1, o), GASP_OK);
  for (gasp_vid v = 0; v < nv; v++)
    assert_int_equal(o[v], 0);
  gasp_partition_stats st;
  assert_int_equal(gasp_partition_stats_compute(g, 1, o, 0, &st), GASP_OK);
  assert_true(st.edge_cut_fraction == 0);
  assert_int_equal(st.ghosts_total, 0);
  assert_int_equal(st.ghosts_max, 0);
  assert_true(fabs(st.vertex_balance - 1) < 1e-12);
  assert_true(fabs(st.edge_balance - 1) < 1e-12);
  free(o);
  gasp_graph_free(&g);
  raw_free(&r);
}

/* ---- METIS ---------------------------------------------------------- */

/* A w x h grid (edges right and down, one direction only). */
static gasp_graph *grid(int w, int h) {
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, 0), GASP_OK);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      gasp_gid v = (gasp_gid)(y * w + x);
      if (x + 1 < w)
        assert_int_equal(gasp_builder_add_edge(b, v, v + 1, 1), GASP_OK);
      if (y + 1 < h)
        assert_int_equal(gasp_builder_add_edge(b, v + (gasp_gid)w, v, 1),
                         GASP_OK);
    }
  gasp_graph *g = NULL;
  assert_int_equal(gasp_builder_finish(b, 1, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  return g;
}

/* Two cliques joined by nothing: METIS puts each in one part (cut 0); a
 * grid is cut along a line, far fewer edges than hashing cuts; parts are
 * balanced; the same seed gives the same parts. */
static void test_metis(void **state) {
  (void)state;
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, 0), GASP_OK);
  for (gasp_gid c = 0; c < 2; c++)
    for (gasp_gid i = 0; i < 12; i++)
      for (gasp_gid j = 0; j < 12; j++)
        if (i != j)
          assert_int_equal(
              gasp_builder_add_edge(b, c * 100 + i, c * 100 + j, 1), GASP_OK);
  gasp_graph *g = NULL;
  assert_int_equal(gasp_builder_finish(b, 1, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  uint32_t owner[24];
  gasp_error err;
  assert_int_equal(gasp_partition_metis(g, 2, 1, owner, &err), GASP_OK);
  for (int v = 1; v < 12; v++)
    assert_int_equal(owner[v], owner[0]);
  for (int v = 13; v < 24; v++)
    assert_int_equal(owner[v], owner[12]);
  assert_int_not_equal(owner[0], owner[12]);
  gasp_partition_stats ps;
  assert_int_equal(gasp_partition_stats_compute(g, 2, owner, 1, &ps), GASP_OK);
  assert_true(ps.edge_cut_fraction == 0 && ps.ghosts_total == 0);
  /* more parts than vertices: every part index valid */
  assert_int_equal(gasp_partition_metis(g, 40, 1, owner, &err), GASP_OK);
  for (int v = 0; v < 24; v++)
    assert_true(owner[v] < 40);
  assert_int_equal(gasp_partition_metis(g, 0, 1, owner, &err), GASP_EINVAL);
  gasp_graph_free(&g);

  g = grid(40, 40);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint32_t *m1 = malloc(nv * sizeof *m1), *m2 = malloc(nv * sizeof *m2),
           *h = malloc(nv * sizeof *h);
  assert_true(m1 && m2 && h);
  for (int parts = 2; parts <= 4; parts += 2) {
    assert_int_equal(gasp_partition_metis(g, parts, 7, m1, &err), GASP_OK);
    assert_int_equal(gasp_partition_metis(g, parts, 7, m2, &err), GASP_OK);
    assert_memory_equal(m1, m2, nv * sizeof *m1);
    assert_int_equal(gasp_partition_hash(g, parts, h), GASP_OK);
    gasp_partition_stats pm, ph;
    assert_int_equal(gasp_partition_stats_compute(g, parts, m1, 2, &pm),
                     GASP_OK);
    assert_int_equal(gasp_partition_stats_compute(g, parts, h, 2, &ph),
                     GASP_OK);
    /* a 40 x 40 grid has 3120 edges; a straight cut into p strips cuts
     * 40 (p - 1) of them */
    if (!(pm.edge_cut_fraction < 0.05 &&
          pm.edge_cut_fraction * 8 < ph.edge_cut_fraction))
      fail_msg("%d parts: METIS cut %g, hash cut %g", parts,
               pm.edge_cut_fraction, ph.edge_cut_fraction);
    assert_true(pm.vertex_balance < 1.1 && pm.edge_balance < 1.15);
  }
  free(m1), free(m2), free(h);
  gasp_graph_free(&g);
}

/* Address space in use now (bytes), from /proc/self/statm. */
static uint64_t vm_size(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long long pages = 0;
  if (f) {
    if (fscanf(f, "%llu", &pages) != 1) pages = 0;
    fclose(f);
  }
  return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The child's status in metis_under_limit when METIS had room enough. */
#define METIS_FITS 2

/* Partitions a 300000-vertex grid under an address-space limit `margin`
 * bytes above what is in use, in a child; 1 when it failed as it should,
 * 0 when it had room enough; fails the test on any other end. */
static int metis_under_limit(uint64_t margin) {
  static const char want[] = "out of memory partitioning 300000 vertices";
  tu_child ch;
  if (tu_child_fork(&ch) == 0) {
    gasp_graph *g = grid(600, 500);
    uint32_t *owner = malloc(300000 * sizeof *owner);
    if (!g || !owner) tu_child_exit(TU_RANK_FAIL("no grid to partition"));
    uint64_t lim = vm_size() + margin;
    struct rlimit rl = {(rlim_t)lim, (rlim_t)lim};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
      tu_child_exit(TU_RANK_FAIL("setrlimit: %s", strerror(errno)));
    gasp_error err;
    int rc = gasp_partition_metis(g, 4, 1, owner, &err);
    const char *msg = rc ? err.msg : "";
    fprintf(stderr, "metis with %llu MiB to spare: %s: %s\n",
            (unsigned long long)(margin >> 20), gasp_err_name(rc), msg);
    if (rc == GASP_OK) tu_child_exit(METIS_FITS);
    if (rc != GASP_ENOMEM || !strstr(msg, want) || strstr(msg, "status"))
      tu_child_exit(TU_RANK_FAIL("%s: %s; want ENOMEM saying '%s'",
                                 gasp_err_name(rc), msg, want));
    tu_child_exit(0);
  }
  tu_child_wait(&ch);
  if (ch.status != 0 && ch.status != METIS_FITS)
    fail_msg("metis with %llu MiB to spare: %s",
             (unsigned long long)(margin >> 20), ch.msg);
  return ch.status == 0;
}

/* When METIS runs out of memory the error says so in gasp's words (not
 * "status -3"), naming the graph's size: tried with less and less room,
 * from enough for METIS down to less than gasp's own arrays. */
/* The methods by name: the table lists metis then hash, each name runs
 * its partitioner (the same owners as the direct call), and an unknown
 * name is refused with a message naming it. */
static void test_by_name(void **state) {
  (void)state;
  assert_string_equal(gasp_partition_method(0), "metis");
  assert_string_equal(gasp_partition_method(1), "hash");
  assert_null(gasp_partition_method(2));
  assert_null(gasp_partition_method(-1));
  gasp_graph *g = grid(12, 9);
  gasp_vid n = gasp_graph_num_vertices(g);
  uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  gasp_error err;
  assert_int_equal(gasp_partition(g, "metis", 4, 7, a, &err), GASP_OK);
  assert_int_equal(gasp_partition_metis(g, 4, 7, b, &err), GASP_OK);
  assert_memory_equal(a, b, n * sizeof *a);
  assert_int_equal(gasp_partition(g, NULL, 4, 7, a, &err), GASP_OK);
  assert_memory_equal(a, b, n * sizeof *a);
  assert_int_equal(gasp_partition(g, "hash", 3, 0, a, &err), GASP_OK);
  assert_int_equal(gasp_partition_hash(g, 3, b), GASP_OK);
  assert_memory_equal(a, b, n * sizeof *a);
  assert_int_equal(gasp_partition(g, "hash", 0, 0, a, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "hash"));
  assert_int_equal(gasp_partition(g, "spectral", 2, 0, a, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "'spectral'"));
  free(a);
  free(b);
  gasp_graph_free(&g);
}

static void test_metis_out_of_memory(void **state) {
  (void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  skip(); /* the sanitizers need far more address space than a limit leaves */
#endif
  if (vm_size() == 0) skip();
  int failed = 0;
  for (uint64_t mib = 256; mib >= 1; mib /= 2)
    failed += metis_under_limit(mib << 20);
  assert_true(failed > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_basic),
      cmocka_unit_test(test_hash_balance),
      cmocka_unit_test(test_hash_sides),
      cmocka_unit_test(test_stats_brute_force),
      cmocka_unit_test(test_stats_by_hand),
      cmocka_unit_test(test_single_part_large),
      cmocka_unit_test(test_metis),
      cmocka_unit_test(test_metis_out_of_memory),
      cmocka_unit_test(test_by_name),
  };
  return cmocka_run_group_tests_name("partition", tests, NULL, NULL);
}
