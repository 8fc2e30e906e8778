/*
 * test_toolkits_lib.c -- the toolkits as library calls (gasp_toolkits.h)
 * on graphs built from arrays in memory (gasp_graph_from_coo), against
 * references written here -- a queue BFS with the smallest parent, Dijkstra,
 * union-find -- for every direction the engine may take, several thread
 * counts and both engines where they apply; and the same answers as the
 * `gasp` command on the same graph written to a file.
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

/* Power iteration pushing along out-edges, weighted when the graph is
 * (u passes r_u w / W_u; W_u = 0: dangling). */
static double *ref_pagerank(const gasp_graph *g, double d, const double *tele) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  const double *wt = gasp_graph_weights(g);
  double *W = calloc(n, sizeof *W);
  for (gasp_vid u = 0; u < n; u++)
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++)
      W[u] += wt ? wt[j] : 1.0;
  double *r = malloc(n * sizeof *r), *x = malloc(n * sizeof *x);
  double *p = malloc(n * sizeof *p), tsum = 0;
  for (gasp_vid v = 0; v < n; v++)
    tsum += tele ? tele[v] : 1.0;
  for (gasp_vid v = 0; v < n; v++)
    r[v] = p[v] = (tele ? tele[v] : 1.0) / tsum;
  for (int it = 0; it < 10000; it++) { /* push along out-edges */
    double dang = 0, change = 0;
    for (gasp_vid v = 0; v < n; v++) {
      x[v] = 0;
      if (W[v] == 0) dang += r[v];
    }
    for (gasp_vid u = 0; u < n; u++)
      for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++)
        x[out.nbr[j]] += r[u] * (wt ? wt[j] : 1.0) / W[u];
    for (gasp_vid v = 0; v < n; v++) {
      double nv = (1 - d) * p[v] + d * (x[v] + dang * p[v]);
      change += fabs(nv - r[v]);
      r[v] = nv;
    }
    if (change < 1e-14) break;
  }
  free(W);
  free(x);
  free(p);
  return r;
}

static gasp_vid uf_find(gasp_vid *p, gasp_vid x) {
  while (p[x] != x)
    x = p[x] = p[p[x]];
  return x;
}

/* ---- tests ------------------------------------------------------------ */

typedef struct pr_seen {
  uint64_t calls;
  double last;
  uint64_t stop_at;
} pr_seen;

static int pr_on_iter(void *user, const gasp_iter_info *info) {
  pr_seen *s = user;
  s->calls++;
  s->last = info->residual;
  return s->stop_at && info->iteration >= s->stop_at;
}

/* Power iteration and delta PageRank, uniform and personalised, against a
 * plain push-style power iteration; the residual the caller sees; the
 * refusals. */
static void test_pagerank(void **state) {
  (void)state;
  coo c = make_coo(400, 1600, 5); /* dangling vertices too */
  gasp_graph *g = build(&c, 0);
  gasp_vid n = gasp_graph_num_vertices(g);
  double *tele = calloc(n, sizeof *tele);
  tele[3] = 2, tele[17] = 1, tele[n - 1] = 1;
  double *r = malloc(n * sizeof *r);
  for (int personal = 0; personal < 2; personal++) {
    double *ref = ref_pagerank(g, 0.85, personal ? tele : NULL);
    for (int async = 0; async < 2; async++)
      for (int threads = 1; threads <= 2; threads++) {
        gasp_pagerank_opts o;
        gasp_pagerank_opts_init(&o);
        o.engine.threads = threads;
        o.engine.engine = async ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
        o.teleport = personal ? tele : NULL;
        pr_seen seen = {0, -1, 0};
        o.engine.on_iteration = pr_on_iter;
        o.engine.on_iteration_user = &seen;
        gasp_run_stats st;
        gasp_error err;
        assert_int_equal(gasp_pagerank(g, &o, r, &st, &err), GASP_OK);
        assert_int_equal(st.reason, GASP_STOP_CONVERGED);
        double sum = 0, worst = 0;
        for (gasp_vid v = 0; v < n; v++) {
          sum += r[v];
          worst = fmax(worst, fabs(r[v] - ref[v]));
        }
        assert_true(fabs(sum - 1) < 1e-9);
        assert_true(worst < (async ? 1e-8 : 1e-11));
        if (!async) {
          assert_int_equal(seen.calls, st.iterations);
          assert_true(seen.last >= 0 && seen.last < 1e-10);
        }
      }
    free(ref);
  }
  /* weighted (some zero weights: vertices whose out-weights are all 0
   * are dangling), both engines, personalised too; and weights refused */
  coo cw = make_coo(400, 1600, 6);
  for (uint64_t i = 0; i < cw.m; i += 7)
    cw.w[i] = 0;
  gasp_graph *gw = build(&cw, 1), *gu = build(&cw, 0);
  gasp_vid nw = gasp_graph_num_vertices(gw);
  double *rw = malloc(nw * sizeof *rw), *telew = calloc(nw, sizeof *telew);
  telew[1] = 3, telew[nw / 2] = 1;
  for (int personal = 0; personal < 2; personal++) {
    double *ref = ref_pagerank(gw, 0.85, personal ? telew : NULL);
    double *unw = ref_pagerank(gu, 0.85, personal ? telew : NULL);
    for (int async = 0; async < 2; async++) {
      gasp_pagerank_opts o;
      gasp_pagerank_opts_init(&o);
      o.engine.threads = 2;
      o.engine.engine = async ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
      o.weighted = 1;
      o.teleport = personal ? telew : NULL;
      assert_int_equal(gasp_pagerank(gw, &o, rw, NULL, NULL), GASP_OK);
      double worst = 0, apart = 0;
      for (gasp_vid v = 0; v < nw; v++) {
        worst = fmax(worst, fabs(rw[v] - ref[v]));
        apart = fmax(apart, fabs(rw[v] - unw[v]));
      }
      assert_true(worst < (async ? 1e-8 : 1e-11));
      assert_true(apart > 1e-4); /* the weights matter */
    }
    free(ref);
    free(unw);
  }
  gasp_pagerank_opts ow;
  gasp_pagerank_opts_init(&ow);
  ow.weighted = 1;
  gasp_error errw;
  assert_int_equal(gasp_pagerank(g, &ow, r, NULL, &errw), GASP_EINVAL);
  assert_non_null(strstr(errw.msg, "weights"));
  cw.w[3] = -2;
  gasp_graph *gneg = build(&cw, 1);
  assert_int_equal(gasp_pagerank(gneg, &ow, rw, NULL, &errw), GASP_EINVAL);
  assert_non_null(strstr(errw.msg, "weight -2"));
  free(rw);
  free(telew);
  gasp_graph_free(&gneg);
  gasp_graph_free(&gu);
  gasp_graph_free(&gw);
  free_coo(&cw);
  /* the caller's callback stops the run: not converged */
  gasp_pagerank_opts o;
  gasp_pagerank_opts_init(&o);
  pr_seen seen = {0, -1, 3};
  o.engine.on_iteration = pr_on_iter;
  o.engine.on_iteration_user = &seen;
  gasp_run_stats st;
  assert_int_equal(gasp_pagerank(g, &o, r, &st, NULL), GASP_OK);
  assert_int_equal(st.iterations, 3);
  assert_int_equal(st.reason, GASP_STOP_PROGRAM);
  assert_true(seen.last > 1e-6);
  /* refusals */
  gasp_error err;
  gasp_pagerank_opts_init(&o);
  assert_int_equal(gasp_pagerank(g, &o, NULL, NULL, &err), GASP_EINVAL);
  o.damping = 1;
  assert_int_equal(gasp_pagerank(g, &o, r, NULL, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "damping"));
  gasp_pagerank_opts_init(&o);
  tele[5] = -1;
  o.teleport = tele;
  assert_int_equal(gasp_pagerank(g, &o, r, NULL, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "teleport"));
  memset(tele, 0, n * sizeof *tele);
  assert_int_equal(gasp_pagerank(g, &o, r, NULL, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "sum to 0"));
  gasp_pagerank_opts_init(&o);
  o.engine.staleness = 2;
  assert_int_equal(gasp_pagerank(g, &o, r, NULL, &err), GASP_ENOTSUP);
  free(r);
  free(tele);
  gasp_graph_free(&g);
  free_coo(&c);
}

/* The library's ranks are the command's, personalised too. */
static void test_pagerank_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  coo c = make_coo(300, 1500, 8);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "g.el"), *outp = tu_path(dir, "out.tsv");
  FILE *f = fopen(file, "w");
  for (uint64_t i = 0; i < c.m; i++)
    fprintf(f, "%llu %llu\n", (unsigned long long)c.s[i],
            (unsigned long long)c.t[i]);
  fclose(f);
  gasp_graph *g = build(&c, 0);
  gasp_vid n = gasp_graph_num_vertices(g), a, b;
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, c.s[0], &a), GASP_OK);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, c.t[1], &b), GASP_OK);
  double *tele = calloc(n, sizeof *tele), *r = malloc(n * sizeof *r);
  tele[a] = tele[b] = 1;
  char set[64];
  snprintf(set, sizeof set, "%llu,%llu", (unsigned long long)c.s[0],
           (unsigned long long)c.t[1]);
  for (int personal = 0; personal < 2; personal++) {
    gasp_pagerank_opts o;
    gasp_pagerank_opts_init(&o);
    o.teleport = personal ? tele : NULL;
    assert_int_equal(gasp_pagerank(g, &o, r, NULL, NULL), GASP_OK);
    const char *args[] = {"pagerank", "-i", file, "-o", outp, "--quiet",
                          "-t",       "2",  NULL, NULL, NULL};
    if (personal) args[8] = "--personalized", args[9] = set;
    tu_result res = tu_gasp_runv(args);
    assert_int_equal(res.status, 0);
    tu_result_free(&res);
    f = fopen(outp, "r");
    for (gasp_vid v = 0; v < n; v++) {
      unsigned long long id;
      double x;
      assert_int_equal(fscanf(f, "%llu\t%lf", &id, &x), 2);
      assert_int_equal(id, gasp_graph_gid(g, v));
      assert_true(fabs(x - r[v]) <= 1e-11 * fmax(1, r[v]));
    }
    fclose(f);
  }
  free(r);
  free(tele);
  free(file);
  free(outp);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_coo(&c);
}

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pagerank), cmocka_unit_test(test_pagerank_cli),
      cmocka_unit_test(test_bfs),      cmocka_unit_test(test_sssp),
      cmocka_unit_test(test_cc),       cmocka_unit_test(test_same_as_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
