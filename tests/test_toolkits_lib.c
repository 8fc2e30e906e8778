/*
 * test_toolkits_lib.c -- the toolkits as library calls (gasp_toolkits.h)
 * on graphs built from arrays in memory (gasp_graph_from_coo), against
 * references written here -- a queue BFS with the smallest parent, Dijkstra,
 * union-find, peeling for k-cores, every vertex triple for triangles -- for
 * every direction the engine may take, several thread counts and both
 * engines where they apply; and the same answers as the `gasp` command on
 * the same graph written to a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gasp_toolkits.h"
#include "testutil.h"

typedef struct coo {
  uint64_t m, n;
  gasp_gid *s, *t;
  double *w;
} coo;

/* n vertices (ids 10 * i: not the local ids), m random edges, weights
 * 1..9 (integers: sums are exact). */
static coo make_coo(uint64_t n, uint64_t m, uint64_t seed) {
  coo c = {m, n, malloc(m * sizeof(gasp_gid)), malloc(m * sizeof(gasp_gid)),
           malloc(m * sizeof(double))};
  tu_rng r = {seed};
  for (uint64_t i = 0; i < m; i++) {
    c.s[i] = 10 * (tu_next(&r) % n);
    c.t[i] = 10 * (tu_next(&r) % n);
    c.w[i] = (double)(1 + tu_next(&r) % 9);
  }
  return c;
}

static void free_coo(coo *c) {
  free(c->s);
  free(c->t);
  free(c->w);
}

static gasp_graph *build(const coo *c, int weighted) {
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_from_coo(&g, c->m, c->s, c->t,
                                       weighted ? c->w : NULL, 0, 0, 2, NULL),
                   GASP_OK);
  return g;
}

/* ---- references ------------------------------------------------------- */

static void ref_bfs(const gasp_graph *g, gasp_vid src, int undirected,
                    uint32_t *depth, gasp_vid *parent) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency a[2];
  gasp_graph_out_edges(g, &a[0]);
  gasp_graph_in_edges(g, &a[1]);
  gasp_vid *q = malloc(n * sizeof *q);
  for (gasp_vid v = 0; v < n; v++) {
    depth[v] = GASP_BFS_UNREACHED;
    parent[v] = GASP_VID_NONE;
  }
  uint64_t h = 0, t = 0;
  depth[src] = 0;
  parent[src] = src;
  q[t++] = src;
  while (h < t) { /* level by level: a vertex's first discoverer is the */
    gasp_vid u = q[h++]; /* smallest-index one level up only if we keep min */
    for (int d = 0; d < 1 + undirected; d++)
      for (uint64_t j = a[d].off[u]; j < a[d].off[u + 1]; j++) {
        gasp_vid x = a[d].nbr[j];
        if (depth[x] == GASP_BFS_UNREACHED) {
          depth[x] = depth[u] + 1;
          parent[x] = u;
          q[t++] = x;
        } else if (depth[x] == depth[u] + 1 && u < parent[x]) {
          parent[x] = u;
        }
      }
  }
  free(q);
}

static double *ref_dijkstra(const gasp_graph *g, gasp_vid src, int undirected) {
  gasp_vid n = gasp_graph_num_vertices(g);
  const double *w = gasp_graph_weights(g);
  gasp_adjacency a[2];
  gasp_graph_out_edges(g, &a[0]);
  gasp_graph_in_edges(g, &a[1]);
  double *d = malloc(n * sizeof *d);
  char *done = calloc(n, 1);
  for (gasp_vid v = 0; v < n; v++)
    d[v] = INFINITY;
  d[src] = 0;
  for (;;) {
    gasp_vid b = GASP_VID_NONE;
    for (gasp_vid v = 0; v < n; v++)
      if (!done[v] && d[v] < INFINITY && (b == GASP_VID_NONE || d[v] < d[b]))
        b = v;
    if (b == GASP_VID_NONE) break;
    done[b] = 1;
    for (int k = 0; k < 1 + undirected; k++)
      for (uint64_t j = a[k].off[b]; j < a[k].off[b + 1]; j++) {
        uint64_t slot = k ? a[k].slot[j] : j;
        double nd = d[b] + (w ? w[slot] : 1.0);
        if (nd < d[a[k].nbr[j]]) d[a[k].nbr[j]] = nd;
      }
  }
  free(done);
  return d;
}

static gasp_vid uf_find(gasp_vid *p, gasp_vid x) {
  while (p[x] != x)
    x = p[x] = p[p[x]];
  return x;
}

/* ---- tests ------------------------------------------------------------ */

static void test_bfs(void **state) {
  (void)state;
  coo c = make_coo(3000, 12000, 5);
  gasp_graph *g = build(&c, 0);
  gasp_vid n = gasp_graph_num_vertices(g);
  uint32_t *rd = malloc(n * sizeof *rd), *d = malloc(n * sizeof *d);
  gasp_vid *rp = malloc(n * sizeof *rp), *p = malloc(n * sizeof *p);
  for (int und = 0; und < 2; und++) {
    ref_bfs(g, 7, und, rd, rp);
    for (int dir = 0; dir < 3; dir++)
      for (int threads = 1; threads <= 3; threads += 2) {
        gasp_bfs_opts o;
        gasp_bfs_opts_init(&o);
        o.undirected = und;
        o.engine.direction = (gasp_direction)dir;
        o.engine.threads = threads;
        gasp_run_stats st;
        assert_int_equal(gasp_bfs(g, &o, 7, d, p, &st, NULL), GASP_OK);
        assert_memory_equal(d, rd, n * sizeof *d);
        assert_memory_equal(p, rp, n * sizeof *p);
        assert_int_equal(st.reason, GASP_STOP_CONVERGED);
        if (dir == GASP_DIRECTION_PULL) assert_true(st.pull_iterations > 0);
        if (dir == GASP_DIRECTION_PUSH) assert_int_equal(st.pull_iterations, 0);
      }
  }
  gasp_bfs_opts o;
  gasp_bfs_opts_init(&o);
  o.engine.engine = GASP_ENGINE_ASYNC;
  gasp_error err;
  assert_int_equal(gasp_bfs(g, &o, 7, d, p, NULL, &err), GASP_ENOTSUP);
  assert_true(err.msg[0] != 0);
  free(rd);
  free(d);
  free(rp);
  free(p);
  gasp_graph_free(&g);
  free_coo(&c);
}

static void test_sssp(void **state) {
  (void)state;
  coo c = make_coo(800, 4000, 9);
  gasp_graph *g = build(&c, 1);
  gasp_vid n = gasp_graph_num_vertices(g);
  double *d = malloc(n * sizeof *d);
  for (int und = 0; und < 2; und++) {
    double *ref = ref_dijkstra(g, 3, und);
    for (int eng = 0; eng < 2; eng++)
      for (int dir = 0; dir < 3; dir++) {
        if (eng && dir) continue;
        gasp_sssp_opts o;
        gasp_sssp_opts_init(&o);
        o.directed = !und;
        o.engine.engine = eng ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
        o.engine.direction = (gasp_direction)dir;
        o.engine.threads = 2;
        assert_int_equal(gasp_sssp(g, &o, 3, d, NULL, NULL), GASP_OK);
        for (gasp_vid v = 0; v < n; v++)
          assert_true(d[v] == ref[v]);
      }
    free(ref);
  }
  /* a negative weight is refused, naming the edge */
  c.w[5] = -1;
  gasp_graph *bad = build(&c, 1);
  gasp_sssp_opts o;
  gasp_sssp_opts_init(&o);
  gasp_error err;
  assert_int_equal(gasp_sssp(bad, &o, 3, d, NULL, &err), GASP_EINVAL);
  assert_true(tu_contains(err.msg, "weight -1"));
  gasp_graph_free(&bad);
  free(d);
  gasp_graph_free(&g);
  free_coo(&c);
}

static void test_cc(void **state) {
  (void)state;
  coo c = make_coo(4000, 3000, 13); /* many components */
  gasp_graph *g = build(&c, 0);
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_vid *uf = malloc(n * sizeof *uf), *comp = malloc(n * sizeof *comp);
  for (gasp_vid v = 0; v < n; v++)
    uf[v] = v;
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (gasp_vid v = 0; v < n; v++)
    for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++) {
      gasp_vid a = uf_find(uf, v), b = uf_find(uf, out.nbr[j]);
      if (a != b) uf[a > b ? a : b] = a < b ? a : b;
    }
  static const gasp_cc_algorithm algs[] = {GASP_CC_AUTO, GASP_CC_AFFOREST,
                                           GASP_CC_LABELPROP};
  for (int i = 0; i < 3; i++)
    for (int eng = 0; eng < 2; eng++) {
      gasp_cc_opts o;
      gasp_cc_opts_init(&o);
      o.algorithm = algs[i];
      o.engine.engine = eng ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
      o.engine.threads = 3;
      int rc = gasp_cc(g, &o, comp, NULL, NULL);
      if (eng && algs[i] == GASP_CC_AFFOREST) {
        assert_int_equal(rc, GASP_ENOTSUP);
        continue;
      }
      assert_int_equal(rc, GASP_OK);
      for (gasp_vid v = 0; v < n; v++)
        assert_int_equal(comp[v], uf_find(uf, v));
    }
  free(uf);
  free(comp);
  gasp_graph_free(&g);
  free_coo(&c);
}

/* The library on arrays answers as the command on the file. */
static void test_same_as_cli(void **state) {
  TU_NEED_BIN();
  coo c = make_coo(500, 2500, 21);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "g.el"), *outp = tu_path(dir, "out.tsv");
  FILE *f = fopen(file, "w");
  for (uint64_t i = 0; i < c.m; i++)
    fprintf(f, "%llu\t%llu\t%g\n", (unsigned long long)c.s[i],
            (unsigned long long)c.t[i], c.w[i]);
  fclose(f);
  gasp_graph *g = build(&c, 1);
  gasp_vid n = gasp_graph_num_vertices(g), src;
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, c.s[0], &src), GASP_OK);
  char srcs[32];
  snprintf(srcs, sizeof srcs, "%llu", (unsigned long long)c.s[0]);
  uint32_t *d = malloc(n * sizeof *d);
  gasp_vid *p = malloc(n * sizeof *p);
  double *sd = malloc(n * sizeof *sd);
  gasp_bfs_opts bo;
  gasp_bfs_opts_init(&bo);
  assert_int_equal(gasp_bfs(g, &bo, src, d, p, NULL, NULL), GASP_OK);
  gasp_sssp_opts so;
  gasp_sssp_opts_init(&so);
  so.directed = 1;
  assert_int_equal(gasp_sssp(g, &so, src, sd, NULL, NULL), GASP_OK);
  const char *bargs[] = {"bfs", "-i", file,      "--source", srcs,
                         "-o",  outp, "--quiet", NULL};
  tu_result r = tu_gasp_runv(bargs);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  f = fopen(outp, "r");
  for (gasp_vid v = 0; v < n; v++) { /* ascending id = local id order */
    unsigned long long id, par;
    char dep[32], ps[32];
    assert_int_equal(fscanf(f, "%llu\t%31s\t%31s", &id, dep, ps), 3);
    assert_int_equal(id, gasp_graph_gid(g, v));
    if (d[v] == GASP_BFS_UNREACHED) {
      assert_string_equal(dep, "inf");
    } else {
      assert_int_equal(strtoul(dep, NULL, 10), d[v]);
      par = strtoull(ps, NULL, 10);
      assert_int_equal(par, gasp_graph_gid(g, p[v]));
    }
  }
  fclose(f);
  const char *sargs[] = {"sssp",       "-i", file, "--source", srcs,
                         "--directed", "-o", outp, "--quiet",  NULL};
  r = tu_gasp_runv(sargs);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  f = fopen(outp, "r");
  for (gasp_vid v = 0; v < n; v++) {
    unsigned long long id;
    char ds[64];
    assert_int_equal(fscanf(f, "%llu\t%63s", &id, ds), 2);
    assert_true(sd[v] == (strcmp(ds, "inf") ? strtod(ds, NULL) : INFINITY));
  }
  fclose(f);
  free(d);
  free(p);
  free(sd);
  free(file);
  free(outp);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_coo(&c);
  (void)state;
}

/* ---- k-core and triangles --------------------------------------------- */

/* The graph taken as undirected, self loops and repeats dropped, as an
 * n x n 0/1 matrix (row-major, malloc'd). */
static uint8_t *undirected_matrix(const gasp_graph *g) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint8_t *a = calloc((size_t)n * n, 1);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (gasp_vid u = 0; u < n; u++)
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++) {
      gasp_vid v = out.nbr[j];
      if (u != v) a[(size_t)u * n + v] = a[(size_t)v * n + u] = 1;
    }
  return a;
}

/* Peeling (Batagelj and Zaversnik): remove a vertex of least remaining
 * degree; its core number is the largest such degree seen so far. */
static void ref_kcore(const gasp_graph *g, uint32_t *core) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint8_t *a = undirected_matrix(g), *gone = calloc(n ? n : 1, 1);
  uint32_t *deg = calloc(n ? n : 1, sizeof *deg), k = 0;
  for (gasp_vid u = 0; u < n; u++)
    for (gasp_vid v = 0; v < n; v++)
      deg[u] += a[(size_t)u * n + v];
  for (gasp_vid step = 0; step < n; step++) {
    gasp_vid best = GASP_VID_NONE;
    for (gasp_vid v = 0; v < n; v++)
      if (!gone[v] && (best == GASP_VID_NONE || deg[v] < deg[best])) best = v;
    if (deg[best] > k) k = deg[best];
    core[best] = k;
    gone[best] = 1;
    for (gasp_vid v = 0; v < n; v++)
      if (!gone[v] && a[(size_t)best * n + v]) deg[v]--;
  }
  free(a);
  free(gone);
  free(deg);
}

/* Every triple i < j < k of the matrix; per[v]: triangles v is in. */
static gasp_triangles_totals ref_triangles(const gasp_graph *g, uint64_t *per) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint8_t *a = undirected_matrix(g);
  gasp_triangles_totals t = {0, 0, 0};
  memset(per, 0, n * sizeof *per);
  for (gasp_vid i = 0; i < n; i++) {
    uint64_t d = 0;
    for (gasp_vid j = 0; j < n; j++)
      d += a[(size_t)i * n + j];
    t.wedges += d * (d ? d - 1 : 0) / 2;
    t.edges += d;
    for (gasp_vid j = i + 1; j < n; j++) {
      if (!a[(size_t)i * n + j]) continue;
      for (gasp_vid k = j + 1; k < n; k++)
        if (a[(size_t)i * n + k] && a[(size_t)j * n + k]) {
          t.triangles++;
          per[i]++;
          per[j]++;
          per[k]++;
        }
    }
  }
  t.edges /= 2;
  free(a);
  return t;
}

/* A clique of 6 (ids 0..5) with a pendant path 5-6-7, the same edges
 * again reversed, and ids 8 and 9 without edges: cores 5, 1 and 0, 20
 * triangles. */
static gasp_graph *clique_with_tail(void) {
  gasp_gid s[2 * 17], t[2 * 17];
  uint64_t m = 0;
  for (gasp_gid i = 0; i < 6; i++)
    for (gasp_gid j = i + 1; j < 6; j++)
      s[m] = i, t[m++] = j;
  s[m] = 5, t[m++] = 6;
  s[m] = 6, t[m++] = 7;
  for (uint64_t i = 0; i < 17; i++)
    s[m] = t[i], t[m++] = s[i];
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_from_coo(&g, m, s, t, NULL, 10, 0, 1, NULL),
                   GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(g), 10);
  return g;
}

/* Random graphs of several densities (self loops and repeated edges
 * among them) and the clique with a tail. */
static gasp_graph *kt_graph(int i) {
  static const uint64_t size[][2] = {{300, 1500}, {200, 3000}, {400, 500}};
  if (i == 3) return clique_with_tail();
  coo c = make_coo(size[i][0], size[i][1], 31 + (uint64_t)i);
  gasp_graph *g = build(&c, 0);
  free_coo(&c);
  return g;
}

enum { KT_GRAPHS = 4 };

static void test_kcore(void **state) {
  (void)state;
  for (int gi = 0; gi < KT_GRAPHS; gi++) {
    gasp_graph *g = kt_graph(gi);
    gasp_vid n = gasp_graph_num_vertices(g);
    uint32_t *ref = malloc(n * sizeof *ref), *core = malloc(n * sizeof *core);
    ref_kcore(g, ref);
    if (gi == 3) { /* the clique's five, the tail's ones */
      for (gasp_vid v = 0; v < n; v++)
        assert_int_equal(ref[v], v < 6 ? 5 : v < 8 ? 1 : 0);
    }
    for (int eng = 0; eng < 2; eng++)
      for (int cons = 0; cons < 3; cons++)
        for (int threads = 1; threads <= 3; threads += 2) {
          if (!eng && cons) continue;
          gasp_kcore_opts o;
          gasp_kcore_opts_init(&o);
          o.engine.engine = eng ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
          o.engine.consistency = (gasp_consistency)cons;
          o.engine.threads = threads;
          gasp_run_stats st;
          memset(core, 0xff, n * sizeof *core);
          assert_int_equal(gasp_kcore(g, &o, core, &st, NULL), GASP_OK);
          assert_int_equal(st.reason, GASP_STOP_CONVERGED);
          for (gasp_vid v = 0; v < n; v++)
            if (core[v] != ref[v])
              fail_msg("graph %d engine %d consistency %d threads %d: "
                       "vertex %u: core %u, want %u",
                       gi, eng, cons, threads, v, core[v], ref[v]);
        }
    /* stopped after one superstep: upper bounds (the degrees) */
    gasp_kcore_opts o;
    gasp_kcore_opts_init(&o);
    o.engine.max_iter = 1;
    gasp_run_stats st;
    assert_int_equal(gasp_kcore(g, &o, core, &st, NULL), GASP_OK);
    if (st.reason == GASP_STOP_MAX_ITER)
      for (gasp_vid v = 0; v < n; v++)
        assert_true(core[v] >= ref[v]);
    free(ref);
    free(core);
    gasp_graph_free(&g);
  }
}

static void test_kcore_errors(void **state) {
  (void)state;
  gasp_graph *g = clique_with_tail();
  uint32_t core[10];
  gasp_kcore_opts o;
  gasp_kcore_opts_init(&o);
  gasp_error err;
  gasp_run_stats st;
  assert_int_equal(gasp_kcore(g, &o, NULL, &st, &err), GASP_EINVAL);
  assert_int_equal(err.code, GASP_EINVAL);
  assert_true(err.msg[0] != 0);
  assert_int_equal(gasp_kcore(NULL, &o, core, NULL, &err), GASP_EINVAL);
  assert_int_equal(gasp_kcore(g, NULL, core, NULL, NULL), GASP_EINVAL);
  /* neither stats nor err needed */
  assert_int_equal(gasp_kcore(g, &o, core, NULL, NULL), GASP_OK);
  assert_int_equal(core[0], 5);
  gasp_graph_free(&g);
}

static void test_triangles(void **state) {
  (void)state;
  for (int gi = 0; gi < KT_GRAPHS; gi++) {
    gasp_graph *g = kt_graph(gi);
    gasp_vid n = gasp_graph_num_vertices(g);
    uint64_t *ref = malloc(n * sizeof *ref), *per = malloc(n * sizeof *per);
    gasp_triangles_totals want = ref_triangles(g, ref);
    if (gi == 3) assert_int_equal(want.triangles, 20);
    assert_true(want.triangles > 0);
    for (int eng = 0; eng < 2; eng++)
      for (int cons = 0; cons < 3; cons++)
        for (int threads = 1; threads <= 3; threads += 2)
          for (int pv = 0; pv < 2; pv++) {
            if (!eng && cons) continue;
            gasp_triangles_opts o;
            gasp_triangles_opts_init(&o);
            o.engine.engine = eng ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
            o.engine.consistency = (gasp_consistency)cons;
            o.engine.threads = threads;
            o.engine.max_iter = 1; /* not used: every pass runs */
            gasp_triangles_totals tot;
            gasp_run_stats st;
            memset(per, 0xff, n * sizeof *per);
            assert_int_equal(
                gasp_triangles(g, &o, pv ? per : NULL, &tot, &st, NULL),
                GASP_OK);
            assert_int_equal(st.reason, GASP_STOP_CONVERGED);
            assert_true(st.iterations >= 3);
            assert_int_equal(tot.triangles, want.triangles);
            assert_int_equal(tot.wedges, want.wedges);
            assert_int_equal(tot.edges, want.edges);
            if (pv) assert_memory_equal(per, ref, n * sizeof *per);
          }
    free(ref);
    free(per);
    gasp_graph_free(&g);
  }
}

static void test_triangles_errors(void **state) {
  (void)state;
  gasp_graph *g = clique_with_tail();
  uint64_t per[10];
  gasp_triangles_opts o;
  gasp_triangles_opts_init(&o);
  gasp_triangles_totals tot;
  gasp_error err;
  assert_int_equal(gasp_triangles(g, &o, per, NULL, NULL, &err), GASP_EINVAL);
  assert_int_equal(err.code, GASP_EINVAL);
  assert_true(err.msg[0] != 0);
  assert_int_equal(gasp_triangles(NULL, &o, per, &tot, NULL, &err),
                   GASP_EINVAL);
  assert_int_equal(gasp_triangles(g, NULL, per, &tot, NULL, NULL), GASP_EINVAL);
  /* per_vertex may be NULL */
  assert_int_equal(gasp_triangles(g, &o, NULL, &tot, NULL, NULL), GASP_OK);
  assert_int_equal(tot.triangles, 20);
  gasp_graph_free(&g);
}

/* gasp kcore and gasp triangles on the file answer as the calls. */
static void test_kcore_triangles_same_as_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  coo c = make_coo(500, 4000, 23);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "g.el"), *outp = tu_path(dir, "out.tsv");
  FILE *f = fopen(file, "w");
  for (uint64_t i = 0; i < c.m; i++)
    fprintf(f, "%llu\t%llu\n", (unsigned long long)c.s[i],
            (unsigned long long)c.t[i]);
  fclose(f);
  gasp_graph *g = build(&c, 0);
  gasp_vid n = gasp_graph_num_vertices(g);
  uint32_t *core = malloc(n * sizeof *core);
  uint64_t *per = malloc(n * sizeof *per);
  gasp_kcore_opts ko;
  gasp_kcore_opts_init(&ko);
  assert_int_equal(gasp_kcore(g, &ko, core, NULL, NULL), GASP_OK);
  gasp_triangles_opts to;
  gasp_triangles_opts_init(&to);
  gasp_triangles_totals tot;
  assert_int_equal(gasp_triangles(g, &to, per, &tot, NULL, NULL), GASP_OK);
  const char *kargs[] = {"kcore", "-i", file, "-o", outp, "--quiet", NULL};
  tu_result r = tu_gasp_runv(kargs);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  f = fopen(outp, "r");
  for (gasp_vid v = 0; v < n; v++) { /* ascending id = local id order */
    unsigned long long id, k;
    assert_int_equal(fscanf(f, "%llu\t%llu", &id, &k), 2);
    assert_int_equal(id, gasp_graph_gid(g, v));
    assert_int_equal(k, core[v]);
  }
  fclose(f);
  const char *targs[] = {"triangles", "-i",     file,      "-o",
                         outp,        "--json", "--quiet", NULL};
  r = tu_gasp_runv(targs);
  assert_int_equal(r.status, 0);
  assert_true(tu_json_num(r.out, "triangles") == (double)tot.triangles);
  assert_true(tu_json_num(r.out, "wedges") == (double)tot.wedges);
  assert_true(tu_json_num(r.out, "undirected_edges") == (double)tot.edges);
  tu_result_free(&r);
  f = fopen(outp, "r");
  for (gasp_vid v = 0; v < n; v++) {
    unsigned long long id, k;
    assert_int_equal(fscanf(f, "%llu\t%llu", &id, &k), 2);
    assert_int_equal(id, gasp_graph_gid(g, v));
    assert_int_equal(k, per[v]);
  }
  fclose(f);
  free(core);
  free(per);
  free(file);
  free(outp);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_coo(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bfs),
      cmocka_unit_test(test_sssp),
      cmocka_unit_test(test_cc),
      cmocka_unit_test(test_same_as_cli),
      cmocka_unit_test(test_kcore),
      cmocka_unit_test(test_kcore_errors),
      cmocka_unit_test(test_triangles),
      cmocka_unit_test(test_triangles_errors),
      cmocka_unit_test(test_kcore_triangles_same_as_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
