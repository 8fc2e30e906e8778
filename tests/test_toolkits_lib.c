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

/* ---- LDA ----------------------------------------------------------------- */

/* A bag-of-words corpus as entries (document, word, count): documents
 * 7 + 3d, words 100 + w (ids that are not the local ids). */
typedef struct bow {
  uint64_t m, D, W;
  gasp_gid *doc, *word;
  double *cnt;
  int *topic; /* planted corpora: each document's topic */
} bow;

static void bow_add(bow *b, uint64_t d, uint64_t w, double c) {
  b->doc = realloc(b->doc, (b->m + 1) * sizeof *b->doc);
  b->word = realloc(b->word, (b->m + 1) * sizeof *b->word);
  b->cnt = realloc(b->cnt, (b->m + 1) * sizeof *b->cnt);
  b->doc[b->m] = 7 + 3 * d;
  b->word[b->m] = 100 + w;
  b->cnt[b->m++] = c;
}

/* Random entries, counts 1..4, every document and word in some entry. */
static bow make_bow(uint64_t D, uint64_t W, uint64_t seed) {
  bow b = {0, D, W, NULL, NULL, NULL, NULL};
  tu_rng r = {seed};
  for (uint64_t d = 0; d < D; d++)
    for (uint64_t w = 0; w < W; w++)
      if (tu_below(&r, 100) < 15 || w % D == d || d % W == w)
        bow_add(&b, d, w, (double)(1 + tu_below(&r, 4)));
  return b;
}

/* Planted topics: K disjoint vocabularies of `per` words; document d
 * draws `len` tokens from vocabulary d % K. */
static bow make_planted(uint64_t D, int K, uint64_t per, int len,
                        uint64_t seed) {
  bow b = {0, D, (uint64_t)K * per, NULL, NULL, NULL, NULL};
  b.topic = malloc(D * sizeof *b.topic);
  uint32_t *n = malloc(b.W * sizeof *n);
  tu_rng r = {seed};
  for (uint64_t d = 0; d < D; d++) {
    b.topic[d] = (int)(d % (uint64_t)K);
    memset(n, 0, b.W * sizeof *n);
    for (int i = 0; i < len; i++)
      n[(uint64_t)b.topic[d] * per + tu_below(&r, per)]++;
    for (uint64_t w = 0; w < b.W; w++)
      if (n[w]) bow_add(&b, d, w, n[w]);
  }
  free(n);
  return b;
}

static void free_bow(bow *b) {
  free(b->doc);
  free(b->word);
  free(b->cnt);
  free(b->topic);
}

static gasp_graph *build_bow(const bow *b) {
  gasp_graph *g = NULL;
  assert_int_equal(
      gasp_graph_from_coo(&g, b->m, b->doc, b->word, b->cnt, 0,
                          GASP_BUILD_BIPARTITE | GASP_BUILD_WEIGHTED, 1, NULL),
      GASP_OK);
  return g;
}

/* Document rows sum to the documents' lengths, word rows to the words'
 * frequencies, the two sides' columns to the same topic totals, and all
 * to the tokens. */
static void check_lda_counts(const gasp_graph *g, const uint32_t *cnt, int K,
                             const gasp_lda_info *in) {
  gasp_vid D = gasp_graph_num_left(g), n = gasp_graph_num_vertices(g);
  gasp_adjacency out, inn;
  gasp_graph_out_edges(g, &out);
  gasp_graph_in_edges(g, &inn);
  const double *w = gasp_graph_weights(g);
  uint64_t tokens = 0, *col = calloc(2 * (size_t)K, sizeof *col);
  for (gasp_vid v = 0; v < n; v++) {
    uint64_t len = 0, row = 0;
    if (v < D)
      for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++)
        len += (uint64_t)w[j];
    else
      for (uint64_t j = inn.off[v]; j < inn.off[v + 1]; j++)
        len += (uint64_t)w[inn.slot[j]];
    for (int k = 0; k < K; k++) {
      row += cnt[(size_t)v * K + k];
      col[(v < D ? 0 : K) + k] += cnt[(size_t)v * K + k];
    }
    if (row != len)
      fail_msg("vertex %u (%s): counts sum to %llu, %llu tokens", v,
               v < D ? "document" : "word", (unsigned long long)row,
               (unsigned long long)len);
    if (v < D) tokens += len;
  }
  for (int k = 0; k < K; k++)
    assert_int_equal(col[k], col[K + k]);
  assert_int_equal(in->tokens, tokens);
  assert_int_equal(in->documents, D);
  assert_int_equal(in->words, n - D);
  free(col);
}

/* log p(w, z) per token (Griffiths & Steyvers 2004) from the counts. */
static double ref_loglik(const gasp_graph *g, const uint32_t *cnt, int K,
                         double a, double b) {
  gasp_vid D = gasp_graph_num_left(g), n = gasp_graph_num_vertices(g);
  double W = n - D, ll = 0, N = 0;
  double *nk = calloc((size_t)K, sizeof *nk);
  for (gasp_vid v = 0; v < n; v++) {
    double len = 0;
    for (int k = 0; k < K; k++) {
      double x = cnt[(size_t)v * K + k];
      ll += lgamma(x + (v < D ? a : b));
      len += x;
      if (v >= D) nk[k] += x;
    }
    if (v < D) {
      ll -= lgamma(len + K * a);
      N += len;
    }
  }
  for (int k = 0; k < K; k++)
    ll -= lgamma(nk[k] + W * b);
  ll += D * (lgamma(K * a) - K * lgamma(a));
  ll += K * (lgamma(W * b) - W * lgamma(b));
  free(nk);
  return ll / N;
}

static void test_lda_counts(void **state) {
  bow b = make_bow(60, 80, 31);
  gasp_graph *g = build_bow(&b);
  gasp_vid n = gasp_graph_num_vertices(g);
  const int K = 5;
  uint32_t *cnt = malloc((size_t)n * K * sizeof *cnt);
  for (int t = 1; t <= 2; t++) {
    gasp_lda_opts o;
    gasp_lda_opts_init(&o);
    o.topics = K;
    o.engine.threads = t;
    o.engine.max_iter = 10;
    gasp_lda_info in;
    gasp_run_stats st;
    assert_int_equal(gasp_lda(g, &o, cnt, &in, &st, NULL), GASP_OK);
    check_lda_counts(g, cnt, K, &in);
    assert_int_equal(st.iterations, 10);
    assert_int_equal(in.sweep, 10);
    assert_int_equal(in.threads, t);
    assert_non_null(in.kernel);
    assert_true(in.sampling_seconds > 0);
    double want = ref_loglik(g, cnt, K, 50.0 / K, 0.01);
    if (!(fabs(in.loglik - want) < 1e-8))
      fail_msg("%d threads: log-likelihood %.12f, formula %.12f", t, in.loglik,
               want);
  }
  free(cnt);
  gasp_graph_free(&g);
  free_bow(&b);
  (void)state;
}

typedef struct lda_trace {
  double ll[64], residual[64];
  int n, stop_at;
} lda_trace;

static int lda_on_sweep(void *user, const gasp_lda_info *in) {
  lda_trace *t = user;
  assert_int_equal(in->sweep, (uint64_t)t->n + 1);
  if (t->n < 64) t->ll[t->n] = in->loglik;
  t->n++;
  return t->stop_at && t->n == t->stop_at;
}

static int lda_on_iteration(void *user, const gasp_iter_info *info) {
  lda_trace *t = user;
  if (info->iteration <= 64) t->residual[info->iteration - 1] = info->residual;
  return 0;
}

/* One thread gives one result per seed, evaluating the likelihood in
 * between or not; another seed another. */
static void test_lda_reproducible(void **state) {
  bow b = make_bow(40, 50, 32);
  gasp_graph *g = build_bow(&b);
  size_t sz = (size_t)gasp_graph_num_vertices(g) * 6 * sizeof(uint32_t);
  uint32_t *c[3] = {malloc(sz), malloc(sz), malloc(sz)};
  double ll[3];
  for (int i = 0; i < 3; i++) {
    gasp_lda_opts o;
    gasp_lda_opts_init(&o);
    o.topics = 6;
    o.engine.threads = 1;
    o.engine.max_iter = 12;
    o.seed = i == 2 ? 8 : 7;
    lda_trace tr = {{0}, {0}, 0, 0};
    if (i == 1) { /* the callbacks leave the chain alone */
      o.sweep_loglik = 1;
      o.on_sweep = lda_on_sweep;
      o.on_sweep_user = &tr;
    }
    gasp_lda_info in;
    assert_int_equal(gasp_lda(g, &o, c[i], &in, NULL, NULL), GASP_OK);
    ll[i] = in.loglik;
    if (i == 1) {
      assert_int_equal(tr.n, 12);
      assert_true(fabs(tr.ll[11] - in.loglik) < 1e-12);
    }
  }
  assert_memory_equal(c[0], c[1], sz);
  assert_true(ll[0] == ll[1]);
  assert_memory_not_equal(c[0], c[2], sz);
  for (int i = 0; i < 3; i++)
    free(c[i]);
  gasp_graph_free(&g);
  free_bow(&b);
  (void)state;
}

/* Topics of disjoint vocabularies: the likelihood climbs over the sweeps
 * (seen by on_sweep and by engine.on_iteration as the residual), every
 * recovered topic puts its mass on one vocabulary, a different one each,
 * and each document's largest theta is its vocabulary's topic.  map:
 * planted topic -> recovered topic. */
static uint32_t *train_planted(const bow *b, gasp_graph *g, int K, int *map) {
  gasp_vid D = gasp_graph_num_left(g), n = gasp_graph_num_vertices(g);
  gasp_vid W = n - D;
  uint32_t *cnt = malloc((size_t)n * K * sizeof *cnt);
  gasp_lda_opts o;
  gasp_lda_opts_init(&o);
  o.topics = K;
  o.alpha = 0.5;
  o.engine.threads = 2;
  o.engine.max_iter = 60;
  o.sweep_loglik = 1;
  lda_trace tr = {{0}, {0}, 0, 0};
  o.on_sweep = lda_on_sweep;
  o.on_sweep_user = &tr;
  o.engine.on_iteration = lda_on_iteration;
  o.engine.on_iteration_user = &tr;
  gasp_lda_info in;
  assert_int_equal(gasp_lda(g, &o, cnt, &in, NULL, NULL), GASP_OK);
  check_lda_counts(g, cnt, K, &in);
  assert_int_equal(tr.n, 60);
  for (int i = 0; i < 60; i++)
    assert_true(tr.ll[i] == tr.residual[i]);
  double first = tr.ll[0], last = 0;
  for (int i = 50; i < 60; i++)
    last += tr.ll[i] / 10;
  if (!(last > first + 0.2))
    fail_msg("log-likelihood/token %.4f after one sweep, %.4f at the end",
             first, last);
  double *phi = malloc((size_t)W * K * sizeof *phi);
  assert_int_equal(gasp_lda_phi(cnt + (size_t)D * K, W, K, 0.01, phi), GASP_OK);
  int used[16] = {0};
  uint64_t per = b->W / (uint64_t)K;
  for (int k = 0; k < K; k++) {
    double mass[16] = {0}, sum = 0;
    for (gasp_vid w = 0; w < W; w++) {
      uint64_t block = (gasp_graph_gid(g, D + w) - 100) / per;
      mass[block] += phi[(size_t)w * K + k];
      sum += phi[(size_t)w * K + k];
    }
    assert_true(fabs(sum - 1) < 1e-9);
    int best = 0;
    for (int t = 1; t < K; t++)
      if (mass[t] > mass[best]) best = t;
    if (mass[best] < 0.9 || used[best]++)
      fail_msg("topic %d: %.3f of its mass on vocabulary %d (taken: %d)", k,
               mass[best], best, used[best] > 1);
    map[best] = k;
  }
  double *theta = malloc((size_t)D * K * sizeof *theta);
  gasp_lda_theta(cnt, D, K, 0.5, theta);
  for (gasp_vid d = 0; d < D; d++) {
    int best = 0;
    double sum = 0;
    for (int k = 0; k < K; k++) {
      sum += theta[(size_t)d * K + k];
      if (theta[(size_t)d * K + k] > theta[(size_t)d * K + best]) best = k;
    }
    assert_true(fabs(sum - 1) < 1e-9);
    assert_int_equal(best, map[b->topic[(gasp_graph_gid(g, d) - 7) / 3]]);
  }
  free(theta);
  free(phi);
  return cnt;
}

static void test_lda_planted(void **state) {
  const int K = 4;
  bow b = make_planted(80, K, 25, 60, 33);
  gasp_graph *g = build_bow(&b);
  int map[4];
  free(train_planted(&b, g, K, map));
  /* on_sweep ends the run */
  uint32_t *cnt = malloc((size_t)gasp_graph_num_vertices(g) * K * sizeof *cnt);
  gasp_lda_opts o;
  gasp_lda_opts_init(&o);
  o.topics = K;
  lda_trace tr = {{0}, {0}, 0, 3};
  o.on_sweep = lda_on_sweep;
  o.on_sweep_user = &tr;
  gasp_lda_info in;
  gasp_run_stats st;
  assert_int_equal(gasp_lda(g, &o, cnt, &in, &st, NULL), GASP_OK);
  assert_int_equal(st.iterations, 3);
  assert_int_equal(st.reason, GASP_STOP_PROGRAM);
  assert_true(isnan(tr.ll[0])); /* no sweep_loglik */
  assert_true(isfinite(in.loglik));
  check_lda_counts(g, cnt, K, &in);
  free(cnt);
  gasp_graph_free(&g);
  free_bow(&b);
  (void)state;
}

/* New documents of the planted topics against the trained model: each
 * document's largest theta is its topic; a word the model lacks is
 * skipped and counted; document completion scores half of the rest. */
static void test_lda_infer(void **state) {
  const int K = 4;
  bow b = make_planted(80, K, 25, 60, 34);
  gasp_graph *g = build_bow(&b);
  int map[4];
  uint32_t *cnt = train_planted(&b, g, K, map);
  gasp_vid D = gasp_graph_num_left(g), W = gasp_graph_num_vertices(g) - D;
  double *phi = malloc((size_t)W * K * sizeof *phi);
  gasp_gid *ids = malloc(W * sizeof *ids);
  assert_int_equal(gasp_lda_phi(cnt + (size_t)D * K, W, K, 0.01, phi), GASP_OK);
  for (gasp_vid w = 0; w < W; w++)
    ids[w] = gasp_graph_gid(g, D + w);
  gasp_lda_model m = {K, W, ids, phi};
  bow nb = make_planted(30, K, 25, 40, 35);
  bow_add(&nb, 0, 5000, 3); /* word id 5100: not in the model */
  gasp_graph *ng = build_bow(&nb);
  gasp_vid ND = gasp_graph_num_left(ng);
  double *theta[2] = {malloc((size_t)ND * K * sizeof(double)),
                      malloc((size_t)ND * K * sizeof(double))};
  gasp_lda_infer_info in;
  for (int i = 0; i < 2; i++) {
    gasp_lda_infer_opts io;
    gasp_lda_infer_opts_init(&io);
    io.alpha = 0.5;
    io.engine.threads = 1;
    io.perplexity = 1;
    assert_int_equal(gasp_lda_infer(ng, &io, &m, theta[i], &in, NULL, NULL),
                     GASP_OK);
  }
  assert_memory_equal(theta[0], theta[1], (size_t)ND * K * sizeof(double));
  assert_int_equal(in.documents, 30);
  assert_int_equal(in.tokens, 30 * 40 + 3);
  assert_int_equal(in.unknown_tokens, 3);
  assert_int_equal(in.heldout_tokens, 30 * 20);
  assert_true(in.perplexity > 1 && in.perplexity < 30); /* uniform: 100 */
  gasp_lda_infer_opts io;
  gasp_lda_infer_opts_init(&io);
  io.alpha = 0.5;
  assert_int_equal(gasp_lda_infer(ng, &io, &m, theta[0], &in, NULL, NULL),
                   GASP_OK);
  assert_true(isnan(in.perplexity));
  for (gasp_vid d = 0; d < ND; d++) {
    int best = 0;
    for (int k = 1; k < K; k++)
      if (theta[0][(size_t)d * K + k] > theta[0][(size_t)d * K + best])
        best = k;
    assert_int_equal(best, map[nb.topic[(gasp_graph_gid(ng, d) - 7) / 3]]);
  }
  free(theta[0]);
  free(theta[1]);
  gasp_graph_free(&ng);
  free_bow(&nb);
  free(ids);
  free(phi);
  free(cnt);
  gasp_graph_free(&g);
  free_bow(&b);
  (void)state;
}

static void expect_lda_error(gasp_graph *g, const gasp_lda_opts *o,
                             uint32_t *cnt, int code, const char *says) {
  gasp_error err;
  assert_int_equal(gasp_lda(g, o, cnt, NULL, NULL, &err), code);
  assert_int_equal(err.code, code);
  if (!strstr(err.msg, says))
    fail_msg("error '%s' does not say '%s'", err.msg, says);
}

static void test_lda_errors(void **state) {
  bow b = make_bow(10, 12, 36);
  gasp_graph *g = build_bow(&b);
  uint32_t *cnt = malloc((size_t)gasp_graph_num_vertices(g) * 8 * sizeof *cnt);
  gasp_lda_opts o;
  gasp_lda_opts_init(&o);
  o.topics = 8;
  o.engine.max_iter = 2;
  expect_lda_error(NULL, &o, cnt, GASP_EINVAL, "no corpus");
  expect_lda_error(g, &o, NULL, GASP_EINVAL, "result array");
  gasp_lda_opts bad = o;
  bad.topics = 0;
  expect_lda_error(g, &bad, cnt, GASP_EINVAL, "topics");
  bad = o;
  bad.beta = 0;
  expect_lda_error(g, &bad, cnt, GASP_EINVAL, "beta");
  bad = o;
  bad.alpha = -1;
  expect_lda_error(g, &bad, cnt, GASP_EINVAL, "alpha");
  bad = o;
  bad.kernel = "sse9";
  expect_lda_error(g, &bad, cnt, GASP_EINVAL, "kernel");
  bad = o;
  bad.engine.engine = GASP_ENGINE_ASYNC;
  expect_lda_error(g, &bad, cnt, GASP_ENOTSUP, "sync engine");
  /* not bipartite; a count that is not a positive integer */
  gasp_graph *h = NULL;
  assert_int_equal(gasp_graph_from_coo(&h, b.m, b.doc, b.word, b.cnt, 0,
                                       GASP_BUILD_WEIGHTED, 1, NULL),
                   GASP_OK);
  expect_lda_error(h, &o, cnt, GASP_EINVAL, "not a bag-of-words corpus");
  gasp_graph_free(&h);
  b.cnt[b.m - 1] = 1.5;
  h = build_bow(&b);
  char says[96];
  snprintf(says, sizeof says,
           "count 1.5 of an entry is not a positive "
           "integer (document %llu, word %llu)",
           (unsigned long long)b.doc[b.m - 1],
           (unsigned long long)b.word[b.m - 1]);
  expect_lda_error(h, &o, cnt, GASP_EINVAL, says);
  gasp_graph_free(&h);

  /* inference: the model and options */
  gasp_gid ids[2] = {100, 101};
  double phi[2 * 8];
  for (int i = 0; i < 16; i++)
    phi[i] = 0.5;
  gasp_lda_model m = {8, 2, ids, phi};
  double *theta = malloc(10 * 8 * sizeof *theta);
  gasp_lda_infer_opts io;
  gasp_lda_infer_opts_init(&io);
  gasp_error err;
  assert_int_equal(gasp_lda_infer(g, &io, &m, theta, NULL, NULL, &err),
                   GASP_OK);
  assert_int_equal(gasp_lda_infer(g, &io, &m, NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  ids[1] = 100;
  assert_int_equal(gasp_lda_infer(g, &io, &m, theta, NULL, NULL, &err),
                   GASP_EINVAL);
  assert_non_null(strstr(err.msg, "word id 100"));
  ids[1] = 101;
  phi[3] = -1;
  assert_int_equal(gasp_lda_infer(g, &io, &m, theta, NULL, NULL, &err),
                   GASP_EINVAL);
  assert_non_null(strstr(err.msg, "phi"));
  phi[3] = 0.5;
  m.topics = 0;
  assert_int_equal(gasp_lda_infer(g, &io, &m, theta, NULL, NULL, &err),
                   GASP_EINVAL);
  m.topics = 8;
  io.sweeps = 0;
  assert_int_equal(gasp_lda_infer(g, &io, &m, theta, NULL, NULL, &err),
                   GASP_EINVAL);
  assert_non_null(strstr(err.msg, "sweeps"));
  double x[4];
  assert_int_equal(gasp_lda_phi(NULL, 2, 2, 0.01, x), GASP_EINVAL);
  free(theta);
  free(cnt);
  gasp_graph_free(&g);
  free_bow(&b);
  (void)state;
}

/* gasp lda and gasp lda-infer on the corpus written as triples: the same
 * counts, theta and likelihood as the calls, one thread, one seed. */
static void test_lda_same_as_cli(void **state) {
  TU_NEED_BIN();
  bow b = make_bow(50, 70, 37);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "corpus.txt"), *prefix = tu_path(dir, "m");
  char *thetap = tu_path(dir, "theta.tsv");
  FILE *f = fopen(file, "w");
  for (uint64_t i = 0; i < b.m; i++)
    fprintf(f, "%llu %llu %g\n", (unsigned long long)b.doc[i],
            (unsigned long long)b.word[i], b.cnt[i]);
  fclose(f);
  gasp_graph *g = build_bow(&b);
  const int K = 4;
  gasp_vid D = gasp_graph_num_left(g), W = gasp_graph_num_vertices(g) - D;
  uint32_t *cnt = malloc((size_t)(D + W) * K * sizeof *cnt);
  gasp_lda_opts o;
  gasp_lda_opts_init(&o);
  o.topics = K;
  o.seed = 9;
  o.engine.threads = 1;
  o.engine.max_iter = 15;
  gasp_lda_info in;
  assert_int_equal(gasp_lda(g, &o, cnt, &in, NULL, NULL), GASP_OK);
  const char *args[] = {"lda",  "-i",      file,      "--format", "triples",
                        "-k",   "4",       "-t",      "1",        "--seed",
                        "9",    "--iters", "15",      "--counts", "-o",
                        prefix, "--json",  "--quiet", NULL};
  tu_result r = tu_gasp_runv(args);
  if (r.status) fail_msg("gasp lda: %s", r.err);
  assert_true(fabs(tu_json_num(r.out, "log_likelihood_per_token") - in.loglik) <
              1e-8);
  tu_result_free(&r);
  char fn[600];
  snprintf(fn, sizeof fn, "%s.word-topic.tsv", prefix);
  f = fopen(fn, "r");
  char line[256];
  assert_non_null(fgets(line, sizeof line, f)); /* the header */
  unsigned long long id;
  gasp_vid rows = 0;
  while (fscanf(f, "%llu", &id) == 1) {
    gasp_vid v;
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, id, &v), GASP_OK);
    for (int k = 0; k < K; k++) {
      unsigned x;
      assert_int_equal(fscanf(f, "%u", &x), 1);
      assert_int_equal(x, cnt[(size_t)v * K + k]);
    }
    rows++;
  }
  assert_int_equal(rows, W);
  fclose(f);
  double *theta = malloc((size_t)D * K * sizeof *theta);
  gasp_lda_theta(cnt, D, K, 50.0 / K, theta);
  snprintf(fn, sizeof fn, "%s.doc-topic.tsv", prefix);
  f = fopen(fn, "r");
  for (gasp_vid d = 0; d < D; d++) {
    assert_int_equal(fscanf(f, "%llu", &id), 1);
    assert_int_equal(id, gasp_graph_gid(g, d));
    for (int k = 0; k < K; k++) {
      double x;
      assert_int_equal(fscanf(f, "%lf", &x), 1);
      assert_true(fabs(x - theta[(size_t)d * K + k]) < 1e-5 * x);
    }
  }
  fclose(f);

  /* lda-infer with that model on the same corpus */
  double *phi = malloc((size_t)W * K * sizeof *phi);
  gasp_gid *ids = malloc(W * sizeof *ids);
  assert_int_equal(gasp_lda_phi(cnt + (size_t)D * K, W, K, 0.01, phi), GASP_OK);
  for (gasp_vid w = 0; w < W; w++)
    ids[w] = gasp_graph_gid(g, D + w);
  gasp_lda_model m = {K, W, ids, phi};
  gasp_lda_infer_opts io;
  gasp_lda_infer_opts_init(&io);
  io.engine.threads = 1;
  io.sweeps = 20;
  io.perplexity = 1;
  gasp_lda_infer_info ii;
  assert_int_equal(gasp_lda_infer(g, &io, &m, theta, &ii, NULL, NULL), GASP_OK);
  const char *iargs[] = {"lda-infer", "-m",      prefix, "-i",
                         file,        "-t",      "1",    "--iters",
                         "20",        "-o",      thetap, "--perplexity",
                         "--json",    "--quiet", NULL};
  r = tu_gasp_runv(iargs);
  if (r.status) fail_msg("gasp lda-infer: %s", r.err);
  double ppl = tu_json_num(r.out, "perplexity");
  assert_true(fabs(ppl - ii.perplexity) < 1e-8 * ppl);
  assert_int_equal((uint64_t)tu_json_num(r.out, "heldout_tokens"),
                   ii.heldout_tokens);
  tu_result_free(&r);
  f = fopen(thetap, "r");
  for (gasp_vid d = 0; d < D; d++) {
    assert_int_equal(fscanf(f, "%llu", &id), 1);
    for (int k = 0; k < K; k++) {
      double x;
      assert_int_equal(fscanf(f, "%lf", &x), 1);
      assert_true(fabs(x - theta[(size_t)d * K + k]) < 1e-5 * x);
    }
  }
  fclose(f);
  free(ids);
  free(phi);
  free(theta);
  free(cnt);
  free(file);
  free(prefix);
  free(thetap);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_bow(&b);
  (void)state;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pagerank),
      cmocka_unit_test(test_pagerank_cli),
      cmocka_unit_test(test_bfs),
      cmocka_unit_test(test_sssp),
      cmocka_unit_test(test_cc),
      cmocka_unit_test(test_same_as_cli),
      cmocka_unit_test(test_lda_counts),
      cmocka_unit_test(test_lda_reproducible),
      cmocka_unit_test(test_lda_planted),
      cmocka_unit_test(test_lda_infer),
      cmocka_unit_test(test_lda_errors),
      cmocka_unit_test(test_lda_same_as_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
