/*
 * test_toolkits_lib.c -- the toolkits as library calls (gasp_toolkits.h)
 * on graphs built from arrays in memory (gasp_graph_from_coo), against
 * references written here -- a queue BFS with the smallest parent, Dijkstra,
 * union-find, peeling for k-cores, every vertex triple for triangles -- for
 * every direction the engine may take, several thread counts and both
 * engines where they apply; and the same answers as the `gasp` command on
 * the same graph written to a file.  Matrix factorization against normal
 * equations solved here and the properties of its objective; LDA against
 * its count invariants and planted topics.
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

/* Writes c as an edge list "src<TAB>dst[<TAB>weight]" to `path` (weights
 * with every digit, so the file loads as the arrays did). */
static void write_coo(const char *path, const coo *c, int weighted) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (uint64_t i = 0; i < c->m; i++) {
    fprintf(f, "%llu\t%llu", (unsigned long long)c->s[i],
            (unsigned long long)c->t[i]);
    if (weighted) fprintf(f, "\t%.17g", c->w[i]);
    fputc('\n', f);
  }
  fclose(f);
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

/* Label propagation's rule in synchronous rounds, every vertex
 * recomputed every round from the edge list itself: scores by label over
 * the edges both ways (self loops out), keep the own label on a tie it is
 * in, else the smallest tied.  Returns the rounds run; *converged when
 * the last changed nothing; changes[r]: labels round r+1 changed. */
static uint64_t ref_labelprop(const gasp_graph *g, const coo *c, int weighted,
                              uint64_t max_iter, gasp_vid *label,
                              int *converged, uint64_t *changes) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint64_t *off = calloc(n + 1, sizeof *off);
  gasp_vid *nbr = malloc(2 * c->m * sizeof *nbr), *s = malloc(c->m * sizeof *s);
  gasp_vid *t = malloc(c->m * sizeof *t), *next = malloc(n * sizeof *next);
  double *w = malloc(2 * c->m * sizeof *w), *score = calloc(n, sizeof *score);
  for (uint64_t i = 0; i < c->m; i++) {
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, c->s[i], &s[i]), 0);
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, c->t[i], &t[i]), 0);
    if (s[i] != t[i]) off[s[i] + 1]++, off[t[i] + 1]++;
  }
  for (gasp_vid v = 0; v < n; v++)
    off[v + 1] += off[v];
  uint64_t *pos = malloc(n * sizeof *pos);
  memcpy(pos, off, n * sizeof *pos);
  for (uint64_t i = 0; i < c->m; i++)
    if (s[i] != t[i]) {
      double x = weighted ? c->w[i] : 1.0;
      nbr[pos[s[i]]] = t[i], w[pos[s[i]]++] = x;
      nbr[pos[t[i]]] = s[i], w[pos[t[i]]++] = x;
    }
  for (gasp_vid v = 0; v < n; v++)
    label[v] = v;
  uint64_t rounds = 0;
  *converged = 0;
  while (rounds < max_iter && !*converged) {
    uint64_t changed = 0;
    for (gasp_vid v = 0; v < n; v++) {
      next[v] = label[v];
      if (off[v] == off[v + 1]) continue;
      for (uint64_t j = off[v]; j < off[v + 1]; j++)
        score[label[nbr[j]]] += w[j];
      double top = 0;
      for (uint64_t j = off[v]; j < off[v + 1]; j++)
        top = score[label[nbr[j]]] > top ? score[label[nbr[j]]] : top;
      if (score[label[v]] != top) {
        gasp_vid best = GASP_VID_NONE;
        for (uint64_t j = off[v]; j < off[v + 1]; j++)
          if (score[label[nbr[j]]] == top && label[nbr[j]] < best)
            best = label[nbr[j]];
        next[v] = best;
      }
      for (uint64_t j = off[v]; j < off[v + 1]; j++)
        score[label[nbr[j]]] = 0;
      changed += next[v] != label[v];
    }
    memcpy(label, next, n * sizeof *label);
    changes[rounds++] = changed;
    *converged = changed == 0;
  }
  free(off), free(nbr), free(s), free(t), free(next), free(w), free(score);
  free(pos);
  return rounds;
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
  double *r1 = malloc(n * sizeof *r1); /* blocked, one thread */
  for (int personal = 0; personal < 2; personal++) {
    double *ref = ref_pagerank(g, 0.85, personal ? tele : NULL);
    /* async; sync, where auto pulls (400 vertices fit any L2); sync with
     * the cache-blocked gather (blocks of 64 destinations: 7 of them) */
    for (int kind = 0; kind < 3; kind++)
      for (int threads = 1; threads <= 3; threads++) {
        int async = kind == 0, blocked = kind == 2;
        if (threads == 3 && !blocked) continue;
        gasp_pagerank_opts o;
        gasp_pagerank_opts_init(&o);
        o.engine.threads = threads;
        o.engine.engine = async ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
        o.engine.blocked = blocked ? GASP_BLOCK_ON : GASP_BLOCK_AUTO;
        o.engine.block_vertices = 64;
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
        assert_int_equal(st.blocked_iterations, blocked ? st.iterations : 0);
        if (blocked) { /* sums in a fixed order: the same bits */
          assert_true(st.blocked_bytes > 0);
          if (threads == 1)
            memcpy(r1, r, n * sizeof *r);
          else
            assert_memory_equal(r, r1, n * sizeof *r);
        }
      }
    free(ref);
  }
  free(r1);
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
    for (int kind = 0; kind < 3; kind++) { /* async, sync, sync blocked */
      int async = kind == 0;
      gasp_pagerank_opts o;
      gasp_pagerank_opts_init(&o);
      o.engine.threads = 2;
      o.engine.engine = async ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC;
      o.engine.blocked = kind == 2 ? GASP_BLOCK_ON : GASP_BLOCK_OFF;
      o.engine.block_vertices = 64;
      o.weighted = 1;
      o.teleport = personal ? telew : NULL;
      gasp_run_stats st;
      assert_int_equal(gasp_pagerank(gw, &o, rw, &st, NULL), GASP_OK);
      assert_int_equal(st.blocked_iterations, kind == 2 ? st.iterations : 0);
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
  write_coo(file, &c, 0);
  FILE *f;
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

/* Residuals the iteration callback saw. */
typedef struct lp_seen {
  uint64_t n, res[128];
} lp_seen;

static int lp_on_iter(void *user, const gasp_iter_info *info) {
  lp_seen *s = user;
  if (s->n < 128) s->res[s->n++] = (uint64_t)info->residual;
  return 0;
}

/* A label is stable when the rule would keep it: no label scores more. */
static void assert_lp_stable(const gasp_graph *g, const gasp_vid *label) {
  gasp_vid n = gasp_graph_num_vertices(g);
  const double *w = gasp_graph_weights(g);
  gasp_adjacency a[2];
  gasp_graph_out_edges(g, &a[0]);
  gasp_graph_in_edges(g, &a[1]);
  double *score = calloc(n, sizeof *score);
  for (gasp_vid v = 0; v < n; v++) {
    for (int pass = 0; pass < 3; pass++) /* add, check, clear */
      for (int k = 0; k < 2; k++)
        for (uint64_t j = a[k].off[v]; j < a[k].off[v + 1]; j++) {
          gasp_vid u = a[k].nbr[j];
          if (u == v) continue;
          double x = w ? w[k ? a[k].slot[j] : j] : 1.0;
          if (pass == 0) score[label[u]] += x;
          if (pass == 1) assert_true(score[label[u]] <= score[label[v]]);
          if (pass == 2) score[label[u]] = 0;
        }
  }
  free(score);
}

static void test_labelprop(void **state) {
  (void)state;
  static const uint64_t iters[] = {1, 2, 7, 100};
  for (int gi = 0; gi < 3; gi++) {
    /* sparse (paths and stars that oscillate), denser, weighted */
    coo c = make_coo(gi ? 600 : 900, gi ? 3000 : 700, 31 + (uint64_t)gi);
    int weighted = gi == 2;
    for (uint64_t i = 0; i < c.m; i++)
      c.w[i] /= 8; /* not integers, still exact sums */
    gasp_graph *g = build(&c, weighted);
    gasp_vid n = gasp_graph_num_vertices(g);
    gasp_vid *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
    uint64_t changes[128];
    int conv;
    for (size_t k = 0; k < sizeof iters / sizeof *iters; k++) {
      uint64_t rounds =
          ref_labelprop(g, &c, weighted, iters[k], want, &conv, changes);
      for (int threads = 1; threads <= 3; threads += 2) {
        gasp_labelprop_opts o;
        gasp_labelprop_opts_init(&o);
        o.engine.engine = GASP_ENGINE_SYNC;
        o.engine.max_iter = iters[k];
        o.engine.threads = threads;
        lp_seen seen = {0};
        o.engine.on_iteration = lp_on_iter;
        o.engine.on_iteration_user = &seen;
        gasp_run_stats st;
        assert_int_equal(gasp_labelprop(g, &o, got, &st, NULL), GASP_OK);
        assert_memory_equal(got, want, n * sizeof *got);
        assert_int_equal(st.iterations, rounds);
        assert_int_equal(st.reason == GASP_STOP_CONVERGED, conv);
        /* the residual: labels changed per round */
        assert_int_equal(seen.n, rounds);
        assert_memory_equal(seen.res, changes, rounds * sizeof *changes);
      }
    }
    if (gi == 0) assert_false(conv); /* oscillates: the test means it */
    /* the default: async on the chromatic schedule ends, on a fixed point
     * of the rule, with the same labels for any number of threads */
    gasp_vid *first = malloc(n * sizeof *first);
    for (int threads = 1; threads <= 4; threads *= 2) {
      gasp_labelprop_opts o;
      gasp_labelprop_opts_init(&o);
      o.engine.threads = threads;
      gasp_run_stats st;
      assert_int_equal(gasp_labelprop(g, &o, got, &st, NULL), GASP_OK);
      assert_int_equal(st.reason, GASP_STOP_CONVERGED);
      assert_true(st.colors > 0);
      assert_lp_stable(g, got);
      if (threads == 1) memcpy(first, got, n * sizeof *got);
      assert_memory_equal(got, first, n * sizeof *got);
    }
    free(first);
    free(want);
    free(got);
    gasp_graph_free(&g);
    free_coo(&c);
  }
  /* error paths: a status and the reason, nothing run */
  coo c = make_coo(50, 100, 3);
  gasp_graph *g = build(&c, 0);
  gasp_vid *lab = malloc(gasp_graph_num_vertices(g) * sizeof *lab);
  gasp_labelprop_opts o;
  gasp_labelprop_opts_init(&o);
  gasp_error err;
  gasp_run_stats st;
  assert_int_equal(gasp_labelprop(g, &o, NULL, &st, &err), GASP_EINVAL);
  assert_int_equal(err.code, GASP_EINVAL);
  assert_true(err.msg[0] != 0);
  assert_int_equal(st.updates, 0);
  assert_int_equal(gasp_labelprop(NULL, &o, lab, NULL, &err), GASP_EINVAL);
  assert_int_equal(gasp_labelprop(g, NULL, lab, NULL, NULL), GASP_EINVAL);
  free(lab);
  gasp_graph_free(&g);
  free_coo(&c);
}

/* The call on arrays answers as `gasp labelprop` on the same file, for
 * the default engine and for sync rounds. */
static void test_labelprop_same_as_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  coo c = make_coo(700, 3500, 37);
  for (uint64_t i = 0; i < c.m; i++)
    c.w[i] /= 4;
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "g.el"), *outp = tu_path(dir, "out.tsv");
  write_coo(file, &c, 1);
  FILE *f;
  gasp_graph *g = build(&c, 1);
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_vid *lab = malloc(n * sizeof *lab);
  for (int sync = 0; sync < 2; sync++) {
    gasp_labelprop_opts o;
    gasp_labelprop_opts_init(&o);
    if (sync) o.engine.engine = GASP_ENGINE_SYNC;
    assert_int_equal(gasp_labelprop(g, &o, lab, NULL, NULL), GASP_OK);
    const char *args[] = {"labelprop", "-i",       file,   "-o", outp,
                          "--quiet",   "--engine", "sync", NULL};
    if (!sync) args[6] = NULL;
    tu_result r = tu_gasp_runv(args);
    assert_int_equal(r.status, 0);
    tu_result_free(&r);
    f = fopen(outp, "r");
    for (gasp_vid v = 0; v < n; v++) {
      unsigned long long id, comm;
      assert_int_equal(fscanf(f, "%llu\t%llu", &id, &comm), 2);
      assert_int_equal(id, gasp_graph_gid(g, v));
      assert_int_equal(comm, gasp_graph_gid(g, lab[v]));
    }
    assert_int_equal(fscanf(f, "%*s"), EOF);
    fclose(f);
  }
  free(lab);
  free(file);
  free(outp);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_coo(&c);
}

/* The library on arrays answers as the command on the file. */
static void test_same_as_cli(void **state) {
  TU_NEED_BIN();
  coo c = make_coo(500, 2500, 21);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "g.el"), *outp = tu_path(dir, "out.tsv");
  write_coo(file, &c, 1);
  FILE *f;
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

/* ---- matrix factorization (gasp_als, gasp_sgd) --------------------- */

/* Ratings of U users (ids 3u + 1) on I items (ids 5i + 2, I prime): each
 * user rates `per` distinct items, 3 + x_u . y_i of rank-3 factors plus
 * noise, in halves within 1 .. 5.  lu, li: local ids of each rating's ends
 * once a graph is built (mf_graph). */
typedef struct ratings {
  uint64_t m;
  gasp_gid *u, *i;
  double *r;
  gasp_vid *lu, *li;
} ratings;

static ratings make_ratings(int U, int I, int per, uint64_t seed) {
  ratings R = {(uint64_t)U * (uint64_t)per, NULL, NULL, NULL, NULL, NULL};
  R.u = malloc(R.m * sizeof *R.u);
  R.i = malloc(R.m * sizeof *R.i);
  R.r = malloc(R.m * sizeof *R.r);
  R.lu = malloc(R.m * sizeof *R.lu);
  R.li = malloc(R.m * sizeof *R.li);
  double *P = malloc((size_t)(U + I) * 3 * sizeof *P), *Q = P + 3 * U;
  tu_rng rng = {seed};
  for (int j = 0; j < 3 * (U + I); j++)
    P[j] = (double)tu_below(&rng, 1000) / 1000.0 - 0.5;
  uint64_t j = 0;
  for (int u = 0; u < U; u++) {
    uint64_t it = tu_below(&rng, (uint64_t)I);
    uint64_t step = 1 + tu_below(&rng, (uint64_t)I - 1); /* I prime */
    for (int q = 0; q < per; q++, j++, it = (it + step) % (uint64_t)I) {
      double x = 3 + 2 * (P[3 * u] * Q[3 * it] + P[3 * u + 1] * Q[3 * it + 1] +
                          P[3 * u + 2] * Q[3 * it + 2]);
      x += 0.3 * ((double)tu_below(&rng, 1000) / 500.0 - 1);
      x = round(2 * x) / 2;
      R.u[j] = 3 * (gasp_gid)u + 1;
      R.i[j] = 5 * (gasp_gid)it + 2;
      R.r[j] = x < 1 ? 1 : x > 5 ? 5 : x;
    }
  }
  free(P);
  return R;
}

static void free_ratings(ratings *R) {
  free(R->u);
  free(R->i);
  free(R->r);
  free(R->lu);
  free(R->li);
}

static gasp_graph *mf_graph(ratings *R) {
  gasp_graph *g = NULL;
  gasp_error err;
  assert_int_equal(
      gasp_graph_from_coo(&g, R->m, R->u, R->i, R->r, 0,
                          GASP_BUILD_WEIGHTED | GASP_BUILD_BIPARTITE, 1, &err),
      GASP_OK);
  for (uint64_t j = 0; j < R->m; j++) {
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, R->u[j], &R->lu[j]),
                     GASP_OK);
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, R->i[j], &R->li[j]),
                     GASP_OK);
  }
  return g;
}

static double dotk(const float *x, const float *y, int k) {
  double s = 0;
  for (int c = 0; c < k; c++)
    s += (double)x[c] * y[c];
  return s;
}

/* What explicit ALS minimises: squared errors + lambda (n_u |x_u|^2 +
 * n_i |y_i|^2), n the vertex's ratings. */
static double als_objective(const ratings *R, const float *F, int k,
                            double lambda) {
  double obj = 0;
  for (uint64_t j = 0; j < R->m; j++) {
    const float *x = F + (size_t)R->lu[j] * k, *y = F + (size_t)R->li[j] * k;
    double e = R->r[j] - dotk(x, y, k);
    obj += e * e + lambda * (dotk(x, x, k) + dotk(y, y, k));
  }
  return obj;
}

/* Train RMSE of factors F (and biases around mu when bias is not NULL). */
static double mf_rmse(const ratings *R, const float *F, const float *bias,
                      double mu, int k) {
  double s = 0;
  for (uint64_t j = 0; j < R->m; j++) {
    gasp_vid u = R->lu[j], i = R->li[j];
    double p = dotk(F + (size_t)u * k, F + (size_t)i * k, k);
    if (bias) p += mu + bias[u] + bias[i];
    s += (R->r[j] - p) * (R->r[j] - p);
  }
  return sqrt(s / (double)R->m);
}

/* The normal equations of vertex v (a user when `user`) with the other
 * side's rows from F, in double: explicit (alpha 0)
 *   (sum y y^T + lambda n I) x = sum r y,
 * implicit (YtY: the other side's Gram matrix)
 *   (YtY + sum alpha r y y^T + lambda I) x = sum (1 + alpha r) y.
 * Returns the relative residual of the library's x (float), and the
 * solution by Gaussian elimination in sol. */
static double normal_eq_residual(const ratings *R, const float *F, int k,
                                 double lambda, double alpha, const double *yty,
                                 gasp_vid v, int user, const float *x,
                                 double *sol) {
  double A[64] = {0}, b[8] = {0};
  int n = 0;
  for (uint64_t j = 0; j < R->m; j++) {
    if ((user ? R->lu[j] : R->li[j]) != v) continue;
    const float *y = F + (size_t)(user ? R->li[j] : R->lu[j]) * k;
    double w = alpha > 0 ? alpha * R->r[j] : 1;
    double c = alpha > 0 ? 1 + alpha * R->r[j] : R->r[j];
    for (int a = 0; a < k; a++) {
      b[a] += c * y[a];
      for (int q = 0; q < k; q++)
        A[a * k + q] += w * y[a] * y[q];
    }
    n++;
  }
  for (int a = 0; a < k; a++) {
    A[a * k + a] += alpha > 0 ? lambda : lambda * n;
    for (int q = 0; alpha > 0 && q < k; q++)
      A[a * k + q] += yty[a * k + q];
  }
  tu_dense_solve(k, A, b, sol);
  double res = 0, nb = 0;
  for (int a = 0; a < k; a++) {
    double s = -b[a];
    for (int q = 0; q < k; q++)
      s += A[a * k + q] * x[q];
    res += s * s;
    nb += b[a] * b[a];
  }
  return sqrt(res) / (1 + sqrt(nb));
}

/* Gram matrix of rows [lo, hi) of F. */
static void gram_rows(const float *F, int k, gasp_vid lo, gasp_vid hi,
                      double *yty) {
  memset(yty, 0, (size_t)(k * k) * sizeof *yty);
  for (gasp_vid v = lo; v < hi; v++)
    for (int a = 0; a < k; a++)
      for (int q = 0; q < k; q++)
        yty[a * k + q] += (double)F[(size_t)v * k + a] * F[(size_t)v * k + q];
}

/* Each sweep's factors and figures, as the callbacks saw them. */
typedef struct mf_seen {
  int k, sweeps, iter_calls, stop_at;
  gasp_vid nv;
  float *F[8], *bias[8];
  double rmse[8], residual[8], seconds[8];
} mf_seen;

static int mf_keep(void *user, const gasp_mf_sweep *s) {
  mf_seen *m = user;
  assert_true(s->sweep >= 1 && s->sweep <= 8);
  assert_int_equal(s->sweep, (uint64_t)m->sweeps + 1);
  assert_non_null(s->engine);
  assert_true(s->sweep_seconds >= 0 && s->seconds >= s->sweep_seconds);
  assert_int_equal(s->updates, s->sweep * m->nv);
  size_t n = (size_t)m->nv * (size_t)m->k;
  m->F[m->sweeps] = malloc(n * sizeof(float));
  memcpy(m->F[m->sweeps], s->factors, n * sizeof(float));
  if (s->bias) {
    m->bias[m->sweeps] = malloc(m->nv * sizeof(float));
    memcpy(m->bias[m->sweeps], s->bias, m->nv * sizeof(float));
  }
  m->rmse[m->sweeps++] = s->train_rmse;
  return (int)s->sweep == m->stop_at;
}

static int mf_iter(void *user, const gasp_iter_info *info) {
  mf_seen *m = user;
  assert_true(info->iteration >= 1 && info->iteration <= 8);
  m->residual[info->iteration - 1] = info->residual;
  m->iter_calls++;
  return 0;
}

static void mf_seen_free(mf_seen *m) {
  for (int s = 0; s < 8; s++) {
    free(m->F[s]);
    free(m->bias[s]);
    m->F[s] = m->bias[s] = NULL;
  }
  m->sweeps = m->iter_calls = 0;
}

static void mf_watch(gasp_mf_opts *o, mf_seen *m) {
  o->on_sweep = mf_keep;
  o->on_sweep_user = m;
  o->engine.on_iteration = mf_iter;
  o->engine.on_iteration_user = m;
}

/* ALS against the normal equations written here: each sweep's users
 * solve theirs with the previous sweep's items, the items theirs with the
 * new users (Gaussian elimination, residual 1e-4); the regularised
 * objective falls monotonically; the train RMSE the callbacks see is the
 * factors'; the same factors on 1 and 2 threads; a callback stops the
 * run. */
static void test_als_lib(void **state) {
  (void)state;
  const int k = 3, sweeps = 6;
  const double lambda = 0.05;
  ratings R = make_ratings(60, 37, 8, 5);
  gasp_graph *g = mf_graph(&R);
  gasp_vid nv = gasp_graph_num_vertices(g), nl = gasp_graph_num_left(g);
  assert_int_equal(nl, 60);
  float *F = malloc((size_t)nv * k * sizeof *F);
  mf_seen seen = {k, 0, 0, 0, nv, {0}, {0}, {0}, {0}, {0}};
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  assert_int_equal(o.rank, 20);
  o.rank = k;
  o.lambda = lambda;
  o.engine.max_iter = sweeps;
  o.engine.threads = 2;
  mf_watch(&o, &seen);
  gasp_mf_info info;
  gasp_run_stats st;
  gasp_error err;
  assert_int_equal(gasp_als(g, &o, F, &info, &st, &err), GASP_OK);
  assert_int_equal(st.iterations, sweeps);
  assert_int_equal(st.reason, GASP_STOP_MAX_ITER);
  assert_int_equal(st.updates, (uint64_t)sweeps * nv);
  assert_int_equal(seen.sweeps, sweeps);
  assert_int_equal(seen.iter_calls, sweeps);
  assert_false(info.gpu.used);
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  for (uint64_t j = 0; j < R.m; j++) {
    sum += R.r[j];
    lo = fmin(lo, R.r[j]);
    hi = fmax(hi, R.r[j]);
  }
  assert_true(fabs(info.mean - sum / (double)R.m) < 1e-12);
  assert_true(info.min_rating == lo && info.max_rating == hi);
  assert_memory_equal(F, seen.F[sweeps - 1], (size_t)nv * k * sizeof *F);
  assert_true(info.train_rmse == seen.rmse[sweeps - 1]);
  double worst = 0, worst_x = 0, prev = INFINITY;
  for (int s = 0; s < sweeps; s++) {
    const float *Fs = seen.F[s];
    double rmse = mf_rmse(&R, Fs, NULL, 0, k);
    if (fabs(rmse - seen.rmse[s]) > 1e-6)
      fail_msg("sweep %d: train RMSE %g, the factors' %g", s + 1, seen.rmse[s],
               rmse);
    assert_true(seen.residual[s] == seen.rmse[s]);
    double obj = als_objective(&R, Fs, k, lambda);
    if (obj > prev * (1 + 1e-6))
      fail_msg("sweep %d: objective rose from %.9g to %.9g", s + 1, prev, obj);
    prev = obj;
    if (s == 0) continue;
    for (gasp_vid v = 0; v < nv; v++) {
      double sol[8];
      const float *x = Fs + (size_t)v * k;
      int user = v < nl;
      /* users read the items of the sweep before, items the new users */
      double r = normal_eq_residual(&R, user ? seen.F[s - 1] : Fs, k, lambda, 0,
                                    NULL, v, user, x, sol);
      worst = fmax(worst, r);
      for (int c = 0; c < k; c++)
        worst_x = fmax(worst_x, fabs(sol[c] - x[c]) / (1 + fabs(sol[c])));
    }
  }
  if (worst > 1e-4 || worst_x > 1e-4)
    fail_msg("normal equations: residual %g, solution off by %g", worst,
             worst_x);
  /* one thread: the same bits */
  float *F1 = malloc((size_t)nv * k * sizeof *F1);
  o.engine.threads = 1;
  o.on_sweep = NULL;
  o.engine.on_iteration = NULL;
  assert_int_equal(gasp_als(g, &o, F1, NULL, NULL, NULL), GASP_OK);
  assert_memory_equal(F1, F, (size_t)nv * k * sizeof *F);
  /* a callback ends the run: the factors of that sweep */
  float *F2 = seen.F[1];
  seen.F[1] = NULL;
  mf_seen_free(&seen);
  seen.stop_at = 2;
  mf_watch(&o, &seen);
  assert_int_equal(gasp_als(g, &o, F1, NULL, &st, NULL), GASP_OK);
  assert_int_equal(st.iterations, 2);
  assert_int_equal(st.reason, GASP_STOP_PROGRAM);
  assert_memory_equal(F1, F2, (size_t)nv * k * sizeof *F);
  /* the default sweeps: 10 */
  mf_seen_free(&seen);
  o.engine.max_iter = 0;
  o.on_sweep = NULL;
  o.engine.on_iteration = NULL;
  assert_int_equal(gasp_als(g, &o, F1, NULL, &st, NULL), GASP_OK);
  assert_int_equal(st.iterations, 10);
  mf_seen_free(&seen);
  free(F);
  free(F1);
  free(F2);
  gasp_graph_free(&g);
  free_ratings(&R);
}

/* Implicit feedback: the normal equations with the other side's Gram
 * matrix; no train RMSE; negative ratings refused. */
static void test_als_implicit_lib(void **state) {
  (void)state;
  const int k = 3;
  const double lambda = 0.1, alpha = 2;
  ratings R = make_ratings(50, 31, 6, 9);
  for (uint64_t j = 0; j < R.m; j++)
    R.r[j] = R.r[j] > 3 ? 2 : 1; /* counts */
  gasp_graph *g = mf_graph(&R);
  gasp_vid nv = gasp_graph_num_vertices(g), nl = gasp_graph_num_left(g);
  float *F = malloc((size_t)nv * k * sizeof *F);
  mf_seen seen = {k, 0, 0, 0, nv, {0}, {0}, {0}, {0}, {0}};
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  o.rank = k;
  o.lambda = lambda;
  o.alpha = alpha;
  o.engine.max_iter = 3;
  mf_watch(&o, &seen);
  gasp_mf_info info;
  assert_int_equal(gasp_als(g, &o, F, &info, NULL, NULL), GASP_OK);
  assert_int_equal(seen.sweeps, 3);
  assert_true(isnan(info.train_rmse) && isnan(seen.rmse[2]));
  double worst = 0, yty[9], sol[8];
  for (int s = 1; s < 3; s++) {
    gram_rows(seen.F[s - 1], k, nl, nv, yty); /* users: the old items */
    for (gasp_vid v = 0; v < nl; v++)
      worst = fmax(worst,
                   normal_eq_residual(&R, seen.F[s - 1], k, lambda, alpha, yty,
                                      v, 1, seen.F[s] + (size_t)v * k, sol));
    gram_rows(seen.F[s], k, 0, nl, yty); /* items: the new users */
    for (gasp_vid v = nl; v < nv; v++)
      worst =
          fmax(worst, normal_eq_residual(&R, seen.F[s], k, lambda, alpha, yty,
                                         v, 0, seen.F[s] + (size_t)v * k, sol));
  }
  if (worst > 1e-4) fail_msg("implicit normal equations: residual %g", worst);
  mf_seen_free(&seen);
  gasp_graph_free(&g);
  R.r[R.m / 2] = -1;
  g = mf_graph(&R);
  gasp_error err;
  o.on_sweep = NULL;
  o.engine.on_iteration = NULL;
  assert_int_equal(gasp_als(g, &o, F, NULL, NULL, &err), GASP_EINVAL);
  assert_true(tu_contains(err.msg, "non-negative"));
  free(F);
  gasp_graph_free(&g);
  free_ratings(&R);
}

/* SGD, plain and biased: the train RMSE falls and is the factors' (with
 * the mean and biases); the same factors on 1 and 2 threads. */
static void test_sgd_lib(void **state) {
  (void)state;
  const int k = 3, epochs = 20;
  ratings R = make_ratings(80, 41, 10, 13);
  gasp_graph *g = mf_graph(&R);
  gasp_vid nv = gasp_graph_num_vertices(g);
  float *F = malloc((size_t)nv * k * sizeof *F), *B = malloc(nv * sizeof *B);
  float *F1 = malloc((size_t)nv * k * sizeof *F1),
        *B1 = malloc(nv * sizeof *B1);
  for (int biased = 0; biased < 2; biased++) {
    mf_seen seen = {k, 0, 0, 0, nv, {0}, {0}, {0}, {0}, {0}};
    gasp_mf_opts o;
    gasp_mf_opts_init(&o);
    o.rank = k;
    o.lambda = 0.02;
    o.biased = biased;
    o.engine.max_iter = 8; /* watched */
    o.engine.threads = 2;
    mf_watch(&o, &seen);
    gasp_mf_info info;
    gasp_run_stats st;
    assert_int_equal(gasp_sgd(g, &o, F, B, &info, &st, NULL), GASP_OK);
    assert_int_equal(st.iterations, 8);
    for (int s = 0; s < 8; s++) {
      double rmse =
          mf_rmse(&R, seen.F[s], biased ? seen.bias[s] : NULL, info.mean, k);
      if (fabs(rmse - seen.rmse[s]) > 1e-5)
        fail_msg("%s epoch %d: train RMSE %g, the factors' %g",
                 biased ? "biased" : "plain", s + 1, seen.rmse[s], rmse);
      assert_true(biased == (seen.bias[s] != NULL));
    }
    for (int s = 1; s < 8; s++)
      if (!(seen.rmse[s] < seen.rmse[s - 1]))
        fail_msg("%s: train RMSE %g after epoch %d, %g after %d",
                 biased ? "biased" : "plain", seen.rmse[s - 1], s, seen.rmse[s],
                 s + 1);
    mf_seen_free(&seen);
    /* longer, on 2 threads and on 1: the same bits */
    o.on_sweep = NULL;
    o.engine.on_iteration = NULL;
    o.engine.max_iter = epochs;
    assert_int_equal(gasp_sgd(g, &o, F, B, &info, NULL, NULL), GASP_OK);
    o.engine.threads = 1;
    assert_int_equal(gasp_sgd(g, &o, F1, B1, NULL, NULL, NULL), GASP_OK);
    assert_memory_equal(F, F1, (size_t)nv * k * sizeof *F);
    if (biased) assert_memory_equal(B, B1, nv * sizeof *B);
    double rmse = mf_rmse(&R, F, biased ? B : NULL, info.mean, k);
    assert_true(fabs(rmse - info.train_rmse) < 1e-5);
    if (!(rmse < 0.45))
      fail_msg("%s: train RMSE %g", biased ? "biased" : "plain", rmse);
  }
  free(F);
  free(B);
  free(F1);
  free(B1);
  gasp_graph_free(&g);
  free_ratings(&R);
}

/* The edge slot of rating j (its user's out-edge to its item). */
static uint64_t rating_slot(gasp_graph *g, const ratings *R, uint64_t j) {
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (uint64_t s = out.off[R->lu[j]]; s < out.off[R->lu[j] + 1]; s++)
    if (out.nbr[s] == R->li[j]) return s;
  fail_msg("rating %llu has no edge", (unsigned long long)j);
  return 0;
}

/* Weighted ALS: every weight 1 is ALS (the same bits); with weights, each
 * half-step solves (sum w y y^T + lambda W I) x = sum w r y, checked here
 * by Gaussian elimination in double from the sweep before; the same bits
 * on 1 and 2 threads; refusals. */
static void test_wals_lib(void **state) {
  (void)state;
  const int k = 3, sweeps = 4;
  const double lambda = 0.05;
  ratings R = make_ratings(60, 37, 8, 29);
  gasp_graph *g = mf_graph(&R);
  gasp_vid nv = gasp_graph_num_vertices(g), nl = gasp_graph_num_left(g);
  uint64_t E = gasp_graph_num_edges(g);
  size_t nk = (size_t)nv * k;
  double *w = malloc(E * sizeof *w), *wr = malloc(R.m * sizeof *wr);
  float *F = malloc(nk * sizeof *F), *F1 = malloc(nk * sizeof *F1);
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  o.rank = k;
  o.lambda = lambda;
  o.engine.max_iter = sweeps;
  o.engine.threads = 2;
  for (uint64_t s = 0; s < E; s++)
    w[s] = 1;
  assert_int_equal(gasp_wals(g, &o, w, F, NULL, NULL, NULL), GASP_OK);
  assert_int_equal(gasp_als(g, &o, F1, NULL, NULL, NULL), GASP_OK);
  assert_memory_equal(F, F1, nk * sizeof *F);

  /* weights 0.25 .. 10 (some 0), by rating and by slot */
  tu_rng rng = {77};
  for (uint64_t j = 0; j < R.m; j++) {
    wr[j] = j % 11 == 3 ? 0 : 0.25 * (double)(1 + tu_below(&rng, 40));
    w[rating_slot(g, &R, j)] = wr[j];
  }
  mf_seen seen = {k, 0, 0, 0, nv, {0}, {0}, {0}, {0}, {0}};
  mf_watch(&o, &seen);
  gasp_mf_info info;
  gasp_error err;
  assert_int_equal(gasp_wals(g, &o, w, F, &info, NULL, &err), GASP_OK);
  assert_int_equal(seen.sweeps, sweeps);
  double worst = 0;
  for (int s = 1; s < sweeps; s++)
    for (gasp_vid v = 0; v < nv; v++) {
      int user = v < nl;
      /* users solve against the items of sweep s-1, items against the
       * users of sweep s */
      const float *other = user ? seen.F[s - 1] : seen.F[s];
      double A[9] = {0}, b[3] = {0}, W = 0, sol[3];
      for (uint64_t j = 0; j < R.m; j++) {
        if ((user ? R.lu[j] : R.li[j]) != v) continue;
        const float *y = other + (size_t)(user ? R.li[j] : R.lu[j]) * k;
        W += wr[j];
        for (int a = 0; a < k; a++) {
          b[a] += wr[j] * R.r[j] * y[a];
          for (int q = 0; q < k; q++)
            A[a * k + q] += wr[j] * y[a] * y[q];
        }
      }
      for (int a = 0; a < k; a++)
        A[a * k + a] += lambda * W;
      tu_dense_solve(k, A, b, sol);
      for (int a = 0; a < k; a++)
        worst = fmax(worst, fabs(seen.F[s][(size_t)v * k + a] - sol[a]) /
                                (1 + fabs(sol[a])));
    }
  if (worst > 1e-4) fail_msg("wals: factors off the weighted solve by %g", worst);
  /* the train RMSE is the unweighted one */
  assert_true(fabs(mf_rmse(&R, F, NULL, 0, k) - info.train_rmse) < 1e-5);
  mf_seen_free(&seen);
  o.on_sweep = NULL;
  o.engine.on_iteration = NULL;
  /* weights change the answer; 1 and 2 threads agree */
  assert_int_equal(gasp_als(g, &o, F1, NULL, NULL, NULL), GASP_OK);
  assert_true(memcmp(F, F1, nk * sizeof *F) != 0);
  o.engine.threads = 1;
  assert_int_equal(gasp_wals(g, &o, w, F1, NULL, NULL, NULL), GASP_OK);
  assert_memory_equal(F, F1, nk * sizeof *F);
  /* refusals */
  assert_int_equal(gasp_wals(g, &o, NULL, F1, NULL, NULL, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "wals"));
  w[5] = -1;
  assert_int_equal(gasp_wals(g, &o, w, F1, NULL, NULL, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "slot 5"));
  w[5] = NAN;
  assert_int_equal(gasp_wals(g, &o, w, F1, NULL, NULL, &err), GASP_EINVAL);
  w[5] = 1;
  o.alpha = 1;
  assert_int_equal(gasp_wals(g, &o, w, F1, NULL, NULL, &err), GASP_EINVAL);
  o.alpha = 0;
  o.engine.gpu = GASP_GPU_ON;
  assert_int_equal(gasp_wals(g, &o, w, F1, NULL, NULL, &err), GASP_ENOTSUP);
  assert_non_null(strstr(err.msg, "wals"));
  free(w);
  free(wr);
  free(F);
  free(F1);
  gasp_graph_free(&g);
  free_ratings(&R);
}

/* SVD++ after `sweeps` sweeps: rows, biases, and implicit factors (a
 * user's p, an item's y). */
static void svdpp_after(gasp_graph *g, gasp_mf_opts *o, int sweeps, float *F,
                        float *B, float *Y, gasp_mf_info *info) {
  o->engine.max_iter = (uint64_t)sweeps;
  gasp_error err;
  int rc = gasp_svdpp(g, o, F, B, Y, info, NULL, &err);
  if (rc) fail_msg("svdpp: %s", err.msg);
}

/* SVD++: with no step on y it is biased SGD; a user's row is p + |N(u)|^-1/2
 * sum y_j (the y of the sweep before); each sweep's y is the step written
 * here, from the rows and biases the library left; the train RMSE is the
 * rows'; the same bits on 1 and 2 threads; refusals. */
static void test_svdpp_lib(void **state) {
  (void)state;
  const int k = 3;
  ratings R = make_ratings(70, 43, 9, 21);
  gasp_graph *g = mf_graph(&R);
  gasp_vid nv = gasp_graph_num_vertices(g), nl = gasp_graph_num_left(g);
  size_t nk = (size_t)nv * k;
  float *F[4], *B[4], *Y[4];
  for (int s = 0; s < 4; s++) {
    F[s] = malloc(nk * sizeof(float));
    B[s] = malloc(nv * sizeof(float));
    Y[s] = malloc(nk * sizeof(float));
  }
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  o.rank = k;
  o.lambda = 0.02;
  o.engine.threads = 2;
  gasp_mf_info info;

  /* lr_implicit 0: y stays 0 and the model is biased SGD's */
  o.lr_implicit = 0;
  svdpp_after(g, &o, 10, F[0], B[0], Y[0], &info);
  o.biased = 1;
  assert_int_equal(gasp_sgd(g, &o, F[1], B[1], NULL, NULL, NULL), GASP_OK);
  o.biased = 0;
  for (size_t q = 0; q < nk; q++) {
    if (fabsf(F[0][q] - F[1][q]) > 1e-4f)
      fail_msg("lr_implicit 0: factor %zu is %g, biased SGD's %g", q,
               (double)F[0][q], (double)F[1][q]);
    if ((gasp_vid)(q / k) >= nl) assert_true(Y[0][q] == 0);
  }
  for (gasp_vid v = 0; v < nv; v++)
    assert_true(fabsf(B[0][v] - B[1][v]) <= 1e-4f);

  /* sweeps 1, 2 and 3 */
  o.lr_implicit = 0.05;
  o.lambda_implicit = 2;
  double mu = 0;
  for (int s = 1; s <= 3; s++) {
    svdpp_after(g, &o, s, F[s], B[s], Y[s], &info);
    mu = info.mean;
    assert_true(fabs(mf_rmse(&R, F[s], B[s], mu, k) - info.train_rmse) < 1e-5);
  }
  uint64_t *n = calloc(nv, sizeof *n);
  for (uint64_t j = 0; j < R.m; j++)
    n[R.lu[j]]++, n[R.li[j]]++;
  double *z = calloc(nk, sizeof *z), *G = calloc(nk, sizeof *G);
  for (int s = 2; s <= 3; s++) {
    /* the rows: p + z, z from the y of sweep s-1 */
    memset(z, 0, nk * sizeof *z);
    for (uint64_t j = 0; j < R.m; j++)
      for (int c = 0; c < k; c++)
        z[(size_t)R.lu[j] * k + c] +=
            Y[s - 1][(size_t)R.li[j] * k + c] / sqrt((double)n[R.lu[j]]);
    for (gasp_vid u = 0; u < nl; u++)
      for (int c = 0; c < k; c++) {
        size_t q = (size_t)u * k + c;
        if (fabs(F[s][q] - (Y[s][q] + z[q])) > 1e-5)
          fail_msg("sweep %d: user %u's row %g, p + z %g", s, u, (double)F[s][q],
                   Y[s][q] + z[q]);
      }
    /* y: a step along the sum of the raters' g = n_u^-1 sum_i e_ui q_i
     * (errors from the users' new rows and biases and the items of sweep
     * s-1) */
    memset(G, 0, nk * sizeof *G); /* users: g; items: the sum of g */
    for (uint64_t j = 0; j < R.m; j++) {
      gasp_vid u = R.lu[j], i = R.li[j];
      double e = R.r[j] - (mu + B[s][u] + B[s - 1][i] +
                           dotk(F[s] + (size_t)u * k, F[s - 1] + (size_t)i * k,
                                k));
      for (int c = 0; c < k; c++)
        G[(size_t)u * k + c] +=
            e * F[s - 1][(size_t)i * k + c] / (double)n[u];
    }
    for (uint64_t j = 0; j < R.m; j++)
      for (int c = 0; c < k; c++)
        G[(size_t)R.li[j] * k + c] += G[(size_t)R.lu[j] * k + c];
    double lr = o.lr_implicit * pow(o.decay, s - 1);
    for (gasp_vid i = nl; i < nv; i++)
      for (int c = 0; c < k; c++) {
        size_t q = (size_t)i * k + c;
        double want = Y[s - 1][q] + lr * (G[q] - o.lambda_implicit * Y[s - 1][q]);
        if (fabs(Y[s][q] - want) > 1e-5 * (1 + fabs(want)))
          fail_msg("sweep %d: item %u's y[%d] %g, want %g", s, i, c,
                   (double)Y[s][q], want);
      }
  }
  /* y moved */
  int moved = 0;
  for (size_t q = (size_t)nl * k; q < nk; q++)
    moved += Y[3][q] != 0;
  assert_true(moved > 0);
  /* 1 and 2 threads: the same bits */
  o.engine.threads = 1;
  svdpp_after(g, &o, 3, F[0], B[0], Y[0], NULL);
  assert_memory_equal(F[0], F[3], nk * sizeof(float));
  assert_memory_equal(B[0], B[3], nv * sizeof(float));
  assert_memory_equal(Y[0], Y[3], nk * sizeof(float));
  /* refusals */
  gasp_error err;
  assert_int_equal(gasp_svdpp(g, &o, F[0], NULL, NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  assert_non_null(strstr(err.msg, "svdpp"));
  o.lr_implicit = -1;
  assert_int_equal(gasp_svdpp(g, &o, F[0], B[0], NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  assert_non_null(strstr(err.msg, "lr_implicit"));
  o.lr_implicit = 0.01;
  o.lambda_implicit = NAN;
  assert_int_equal(gasp_svdpp(g, &o, F[0], B[0], NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  o.lambda_implicit = 1;
  o.engine.gpu = GASP_GPU_ON;
  assert_int_equal(gasp_svdpp(g, &o, F[0], B[0], NULL, NULL, NULL, &err),
                   GASP_ENOTSUP);
  assert_non_null(strstr(err.msg, "svdpp"));
  free(n);
  free(z);
  free(G);
  for (int s = 0; s < 4; s++) {
    free(F[s]);
    free(B[s]);
    free(Y[s]);
  }
  gasp_graph_free(&g);
  free_ratings(&R);
}

/* Refusals: what is not a ratings graph, options out of range, engines and
 * devices the methods do not run on. */
/* NMF's objective: squared error over the ratings + lambda per row. */
static double nmf_objective(const ratings *R, const float *F, int k, int nv,
                            double lambda) {
  double obj = 0;
  for (uint64_t j = 0; j < R->m; j++) {
    const float *x = F + (size_t)R->lu[j] * k, *y = F + (size_t)R->li[j] * k;
    double e = R->r[j] - dotk(x, y, k);
    obj += e * e;
  }
  for (int v = 0; v < nv; v++)
    obj += lambda * dotk(F + (size_t)v * k, F + (size_t)v * k, k);
  return obj;
}

/* One multiplicative half-step written here, in double: the rows of one
 * side (left: users) from the other side's rows in F. */
static void nmf_half(const ratings *R, float *F, int k, int nv, double lambda,
                     int users) {
  double *A = calloc((size_t)nv * k * k, sizeof *A);
  double *b = calloc((size_t)nv * k, sizeof *b);
  for (uint64_t j = 0; j < R->m; j++) {
    gasp_vid me = users ? R->lu[j] : R->li[j],
             other = users ? R->li[j] : R->lu[j];
    const float *y = F + (size_t)other * k;
    for (int c = 0; c < k; c++) {
      b[(size_t)me * k + c] += R->r[j] * y[c];
      for (int d = 0; d < k; d++)
        A[((size_t)me * k + c) * k + d] += (double)y[c] * y[d];
    }
  }
  float *out = malloc((size_t)nv * k * sizeof *out);
  memcpy(out, F, (size_t)nv * k * sizeof *out);
  for (uint64_t j = 0; j < R->m; j++) {
    gasp_vid me = users ? R->lu[j] : R->li[j];
    const float *x = F + (size_t)me * k;
    for (int c = 0; c < k; c++) {
      double den = lambda * x[c];
      for (int d = 0; d < k; d++)
        den += A[((size_t)me * k + c) * k + d] * x[d];
      out[(size_t)me * k + c] =
          den > 0 ? (float)(x[c] * b[(size_t)me * k + c] / den) : 0.0f;
    }
  }
  memcpy(F, out, (size_t)nv * k * sizeof *out);
  free(out);
  free(A);
  free(b);
}

/* NMF: the factors stay non-negative, the objective never rises, each
 * sweep is the update written here applied to the one before (users,
 * then items with the new users), the same on 1 and 2 threads; and what
 * it refuses. */
static void test_nmf_lib(void **state) {
  (void)state;
  const int k = 3, sweeps = 6;
  const double lambda = 0.05;
  ratings R = make_ratings(60, 37, 8, 5);
  gasp_graph *g = mf_graph(&R);
  gasp_vid nv = gasp_graph_num_vertices(g);
  float *F = malloc((size_t)nv * k * sizeof *F);
  float *F1 = malloc((size_t)nv * k * sizeof *F1);
  mf_seen seen = {k, 0, 0, 0, nv, {0}, {0}, {0}, {0}, {0}};
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  o.rank = k;
  o.lambda = lambda;
  o.engine.max_iter = sweeps;
  o.engine.threads = 2;
  mf_watch(&o, &seen);
  gasp_mf_info info;
  gasp_run_stats st;
  gasp_error err;
  assert_int_equal(gasp_nmf(g, &o, F, &info, &st, &err), GASP_OK);
  assert_int_equal(st.iterations, sweeps);
  assert_int_equal(seen.sweeps, sweeps);
  double prev = INFINITY;
  for (int s = 0; s < sweeps; s++) {
    for (size_t q = 0; q < (size_t)nv * k; q++)
      assert_true(seen.F[s][q] >= 0);
    double obj = nmf_objective(&R, seen.F[s], k, (int)nv, lambda);
    assert_true(obj <= prev * (1 + 1e-6));
    prev = obj;
    /* the train RMSE the callback saw is the factors' */
    assert_true(fabs(seen.rmse[s] - mf_rmse(&R, seen.F[s], NULL, 0, k)) < 1e-4);
    if (s == 0) continue;
    float *ref = malloc((size_t)nv * k * sizeof *ref);
    memcpy(ref, seen.F[s - 1], (size_t)nv * k * sizeof *ref);
    nmf_half(&R, ref, k, (int)nv, lambda, 1);
    nmf_half(&R, ref, k, (int)nv, lambda, 0);
    for (size_t q = 0; q < (size_t)nv * k; q++)
      assert_true(fabs(ref[q] - seen.F[s][q]) <= 1e-4 * (1 + fabs(ref[q])));
    free(ref);
  }
  assert_memory_equal(F, seen.F[sweeps - 1], (size_t)nv * k * sizeof *F);
  /* the objective fell a long way from the first sweep */
  assert_true(prev < 0.8 * nmf_objective(&R, seen.F[0], k, (int)nv, lambda));
  mf_seen_free(&seen);
  o.engine.threads = 1;
  o.on_sweep = NULL;
  o.engine.on_iteration = NULL;
  assert_int_equal(gasp_nmf(g, &o, F1, NULL, NULL, &err), GASP_OK);
  assert_memory_equal(F, F1, (size_t)nv * k * sizeof *F);
  /* refusals */
  o.alpha = 1;
  assert_int_equal(gasp_nmf(g, &o, F1, NULL, NULL, &err), GASP_EINVAL);
  o.alpha = 0;
  o.engine.gpu = GASP_GPU_ON;
  assert_int_equal(gasp_nmf(g, &o, F1, NULL, NULL, &err), GASP_ENOTSUP);
  assert_non_null(strstr(err.msg, "nmf"));
  o.engine.gpu = GASP_GPU_OFF;
  gasp_graph_free(&g);
  R.r[7] = -1; /* a negative rating */
  g = mf_graph(&R);
  assert_int_equal(gasp_nmf(g, &o, F1, NULL, NULL, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "non-negative"));
  gasp_graph_free(&g);
  free(F);
  free(F1);
  free_ratings(&R);
}

/* ---- Jacobi ---------------------------------------------------------- */

/* A random n x n matrix, strictly diagonally dominant when `dominant`
 * (else with a weak diagonal), some entries given twice (they add up),
 * and b; as COO (1-based ids) and dense (row-major). */
typedef struct sys {
  int n;
  uint64_t m;
  gasp_gid *r, *c;
  double *v, *A, *b;
} sys;

static sys make_sys(int n, uint64_t seed, int dominant) {
  sys S = {n, 0, NULL, NULL, NULL, NULL, NULL};
  size_t cap = (size_t)n * 8;
  S.r = malloc(cap * sizeof *S.r);
  S.c = malloc(cap * sizeof *S.c);
  S.v = malloc(cap * sizeof *S.v);
  S.A = calloc((size_t)n * n, sizeof *S.A);
  S.b = malloc((size_t)n * sizeof *S.b);
  tu_rng rng = {seed};
  for (int i = 0; i < n; i++) {
    double off = 0;
    for (int q = 0; q < 5; q++) {
      int j = (int)tu_below(&rng, (uint64_t)n);
      if (j == i) continue;
      double v = (double)tu_below(&rng, 2001) / 1000.0 - 1.0;
      S.r[S.m] = (gasp_gid)i + 1, S.c[S.m] = (gasp_gid)j + 1, S.v[S.m++] = v;
      S.A[(size_t)i * n + j] += v;
    }
    for (int j = 0; j < n; j++)
      if (j != i) off += fabs(S.A[(size_t)i * n + j]);
    double d = dominant ? off + 0.5 + (double)tu_below(&rng, 100) / 100.0
                        : 0.1 + off / 4;
    /* the diagonal in two entries, which add up */
    S.r[S.m] = (gasp_gid)i + 1, S.c[S.m] = (gasp_gid)i + 1, S.v[S.m++] = d / 2;
    S.r[S.m] = (gasp_gid)i + 1, S.c[S.m] = (gasp_gid)i + 1, S.v[S.m++] = d / 2;
    S.A[(size_t)i * n + i] += d;
    S.b[i] = (double)tu_below(&rng, 10001) / 1000.0 - 5.0;
  }
  return S;
}

static void free_sys(sys *S) {
  free(S->r);
  free(S->c);
  free(S->v);
  free(S->A);
  free(S->b);
}

static gasp_graph *sys_graph(const sys *S) {
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_from_coo(&g, S->m, S->r, S->c, S->v, 0,
                                       GASP_BUILD_WEIGHTED, 1, NULL),
                   GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(g), S->n);
  return g;
}

/* Jacobi against Gaussian elimination written here: x to 1e-8 for a
 * given b and for b = A 1 (all ones), converged and dominant, the same
 * bits on 1-3 threads; a weak diagonal diverges and says so; a row
 * without a diagonal and the async engine are refused. */
static void test_jacobi(void **state) {
  (void)state;
  sys S = make_sys(150, 3, 1);
  gasp_graph *g = sys_graph(&S);
  int n = S.n;
  /* local ids ascend with the ids here: row i is local id i - 1 */
  for (int i = 0; i < n; i++)
    assert_int_equal(gasp_graph_gid(g, (gasp_vid)i), (gasp_gid)i + 1);
  double *ref = malloc((size_t)n * sizeof *ref), *x = malloc((size_t)n * 8);
  double *first = malloc((size_t)n * sizeof *first);
  tu_dense_solve(n, S.A, S.b, ref);
  for (int t = 1; t <= 3; t++) {
    gasp_jacobi_opts o;
    gasp_jacobi_opts_init(&o);
    o.engine.threads = t;
    gasp_jacobi_info info;
    gasp_run_stats st;
    assert_int_equal(gasp_jacobi(g, &o, S.b, x, &info, &st, NULL), GASP_OK);
    assert_true(info.converged && info.dominant);
    assert_true(info.residual < 1e-9);
    assert_int_equal(info.sweeps, st.iterations);
    for (int i = 0; i < n; i++)
      assert_true(fabs(x[i] - ref[i]) <= 1e-8 * (1 + fabs(ref[i])));
    if (t == 1)
      memcpy(first, x, (size_t)n * sizeof *x);
    else
      assert_memory_equal(x, first, (size_t)n * sizeof *x);
  }
  gasp_jacobi_opts o;
  gasp_jacobi_opts_init(&o);
  gasp_jacobi_info info;
  assert_int_equal(gasp_jacobi(g, &o, NULL, x, &info, NULL, NULL), GASP_OK);
  for (int i = 0; i < n; i++)
    assert_true(fabs(x[i] - 1) <= 1e-8);
  gasp_error err;
  o.engine.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_jacobi(g, &o, NULL, x, &info, NULL, &err),
                   GASP_ENOTSUP);
  gasp_graph_free(&g);
  /* a weak diagonal: the iteration grows; not converged, said so */
  sys W = make_sys(60, 4, 0);
  g = sys_graph(&W);
  gasp_jacobi_opts_init(&o);
  o.engine.max_iter = 200;
  assert_int_equal(gasp_jacobi(g, &o, W.b, x, &info, NULL, &err), GASP_OK);
  assert_false(info.converged);
  assert_false(info.dominant);
  gasp_graph_free(&g);
  /* row 3 without its diagonal */
  gasp_gid r[] = {1, 2, 3, 3, 2}, c[] = {1, 2, 1, 2, 3};
  double v[] = {2, 3, 1, 1, 1};
  assert_int_equal(
      gasp_graph_from_coo(&g, 5, r, c, v, 0, GASP_BUILD_WEIGHTED, 1, NULL),
      GASP_OK);
  gasp_jacobi_opts_init(&o);
  assert_int_equal(gasp_jacobi(g, &o, NULL, x, &info, NULL, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "row 3"));
  gasp_graph_free(&g);
  free(ref);
  free(x);
  free(first);
  free_sys(&S);
  free_sys(&W);
}

static void test_jacobi_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  sys S = make_sys(120, 8, 1);
  char *dir = tu_mkdtemp();
  char *mtx = tu_path(dir, "A.mtx"), *rhs = tu_path(dir, "b.txt");
  char *outp = tu_path(dir, "x.tsv"), *bad = tu_path(dir, "bad.txt");
  FILE *f = fopen(mtx, "w");
  fprintf(f, "%%%%MatrixMarket matrix coordinate real general\n%d %d %llu\n",
          S.n, S.n, (unsigned long long)S.m);
  for (uint64_t j = 0; j < S.m; j++)
    fprintf(f, "%llu %llu %.17g\n", (unsigned long long)S.r[j],
            (unsigned long long)S.c[j], S.v[j]);
  fclose(f);
  f = fopen(rhs, "w");
  for (int i = 0; i < S.n; i++)
    fprintf(f, "%d %.17g\n", i + 1, S.b[i]);
  fclose(f);
  f = fopen(bad, "w");
  fprintf(f, "1 2.5\n999 1\n");
  fclose(f);
  double *ref = malloc((size_t)S.n * sizeof *ref);
  tu_dense_solve(S.n, S.A, S.b, ref);
  for (int np = 1; np <= 3; np += 2) {
    char nps[8];
    snprintf(nps, sizeof nps, "%d", np);
    const char *args[] = {"jacobi", "-i",     mtx,       "--rhs", rhs, "-o",
                          outp,     "--json", "--quiet", "--np",  nps, NULL};
    tu_result r = tu_gasp_runv(args);
    assert_int_equal(r.status, 0);
    assert_true(tu_json_num(r.out, "residual") < 1e-9);
    assert_non_null(strstr(r.out, "\"converged\":true"));
    tu_result_free(&r);
    f = fopen(outp, "r");
    assert_non_null(f);
    for (int i = 0; i < S.n; i++) {
      unsigned long long id;
      double xi;
      assert_int_equal(fscanf(f, "%llu\t%lf", &id, &xi), 2);
      assert_int_equal(id, (unsigned long long)i + 1);
      assert_true(fabs(xi - ref[i]) <= 1e-8 * (1 + fabs(ref[i])));
    }
    fclose(f);
  }
  const char *badrhs[] = {"jacobi", "-i", mtx, "--rhs", bad, NULL};
  tu_result r = tu_gasp_runv(badrhs);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "bad.txt:2: row 999 is not in the matrix"));
  tu_result_free(&r);
  const char *async[] = {"jacobi", "-i", mtx, "--engine", "async", NULL};
  r = tu_gasp_runv(async);
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  free(ref);
  free(mtx);
  free(rhs);
  free(outp);
  free(bad);
  tu_rmtree(dir);
  free_sys(&S);
}

/* ---- k-means ------------------------------------------------------------ */

/* Lloyd's iteration written here from the given centres until no point
 * moves: the assignment (smallest index among equal distances) and the
 * centres (the means; an empty cluster keeps its centre). */
static void ref_lloyd(const double *x, int n, int dim, int k, double *c,
                      uint32_t *cl) {
  for (int i = 0; i < n; i++)
    cl[i] = UINT32_MAX;
  for (int round = 0; round < 1000; round++) {
    int moved = 0;
    for (int i = 0; i < n; i++) {
      uint32_t best = 0;
      double bd = INFINITY;
      for (int j = 0; j < k; j++) {
        double d = 0;
        for (int q = 0; q < dim; q++) {
          double t = x[(size_t)i * dim + q] - c[(size_t)j * dim + q];
          d += t * t;
        }
        if (d < bd) bd = d, best = (uint32_t)j;
      }
      moved += best != cl[i];
      cl[i] = best;
    }
    if (!moved) return;
    for (int j = 0; j < k; j++) {
      double cnt = 0, *sum = calloc((size_t)dim, sizeof *sum);
      for (int i = 0; i < n; i++)
        if (cl[i] == (uint32_t)j) {
          cnt++;
          for (int q = 0; q < dim; q++)
            sum[q] += x[(size_t)i * dim + q];
        }
      if (cnt > 0)
        for (int q = 0; q < dim; q++)
          c[(size_t)j * dim + q] = sum[q] / cnt;
      free(sum);
    }
  }
  fail_msg("the reference Lloyd iteration did not settle");
}

/* Points around k centres in dim dimensions, overlapping a little. */
static double *make_points(int n, int dim, int k, uint64_t seed) {
  double *x = malloc((size_t)n * dim * sizeof *x);
  tu_rng rng = {seed};
  for (int i = 0; i < n; i++)
    for (int q = 0; q < dim; q++)
      x[(size_t)i * dim + q] = 4.0 * (double)((i % k + q) % k) +
                               (double)tu_below(&rng, 6001) / 1000.0 - 3.0;
  return x;
}

/* k-means against Lloyd's iteration written here from the same seeding;
 * the seeding picks distinct points of the set, the same for a seed; 1-3
 * threads assign alike; refusals. */
static void test_kmeans(void **state) {
  (void)state;
  const int n = 500, dim = 3, k = 5;
  double *x = make_points(n, dim, k, 11);
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_from_coo(&g, 0, NULL, NULL, NULL, n, 0, 1, NULL),
                   GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(g), n);
  double *init = malloc((size_t)k * dim * sizeof *init);
  double *init2 = malloc((size_t)k * dim * sizeof *init2);
  assert_int_equal(gasp_kmeans_plusplus(x, n, dim, k, 3, init), GASP_OK);
  assert_int_equal(gasp_kmeans_plusplus(x, n, dim, k, 3, init2), GASP_OK);
  assert_memory_equal(init, init2, (size_t)k * dim * sizeof *init);
  for (int j = 0; j < k; j++) { /* each centre is one of the points */
    int found = 0;
    for (int i = 0; i < n && !found; i++)
      found = !memcmp(init + (size_t)j * dim, x + (size_t)i * dim,
                      (size_t)dim * sizeof *x);
    assert_true(found);
  }
  double *ref = malloc((size_t)k * dim * sizeof *ref);
  memcpy(ref, init, (size_t)k * dim * sizeof *ref);
  uint32_t *rcl = malloc((size_t)n * sizeof *rcl), *cl = malloc((size_t)n * 4);
  ref_lloyd(x, n, dim, k, ref, rcl);
  double *c = malloc((size_t)k * dim * sizeof *c);
  for (int t = 1; t <= 3; t++) {
    gasp_kmeans_opts o;
    gasp_kmeans_opts_init(&o);
    o.k = k;
    o.seed = 3;
    o.tol = 0;
    o.engine.threads = t;
    gasp_kmeans_info info;
    assert_int_equal(gasp_kmeans(g, &o, x, dim, cl, c, &info, NULL, NULL),
                     GASP_OK);
    assert_true(info.converged);
    assert_memory_equal(cl, rcl, (size_t)n * sizeof *cl);
    double obj = 0;
    for (int i = 0; i < n; i++)
      for (int q = 0; q < dim; q++) {
        double d = x[(size_t)i * dim + q] - ref[(size_t)rcl[i] * dim + q];
        obj += d * d;
      }
    assert_true(fabs(info.objective - obj) <= 1e-9 * obj);
    for (int q = 0; q < k * dim; q++)
      assert_true(fabs(c[q] - ref[q]) <= 1e-12 * (1 + fabs(ref[q])));
  }
  gasp_kmeans_opts o;
  gasp_kmeans_opts_init(&o);
  gasp_error err;
  o.k = n + 1;
  assert_int_equal(gasp_kmeans(g, &o, x, dim, cl, c, NULL, NULL, &err),
                   GASP_EINVAL);
  o.k = k;
  o.engine.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_kmeans(g, &o, x, dim, cl, c, NULL, NULL, &err),
                   GASP_ENOTSUP);
  o.engine.engine = GASP_ENGINE_SYNC;
  x[7] = NAN;
  assert_int_equal(gasp_kmeans(g, &o, x, dim, cl, c, NULL, NULL, &err),
                   GASP_EINVAL);
  assert_non_null(strstr(err.msg, "not finite"));
  gasp_graph_free(&g);
  free(x);
  free(init);
  free(init2);
  free(ref);
  free(rcl);
  free(cl);
  free(c);
}

static void test_kmeans_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  const int n = 300, dim = 2, k = 4;
  double *x = make_points(n, dim, k, 12);
  char *dir = tu_mkdtemp();
  char *pts = tu_path(dir, "p.txt"), *outp = tu_path(dir, "c.tsv");
  char *bad = tu_path(dir, "bad.txt");
  FILE *f = fopen(pts, "w");
  fprintf(f, "# id x y\n");
  for (int i = 0; i < n; i++) /* ids in file order 10, 13, 16, ... */
    fprintf(f, "%d,%.17g,%.17g\n", 10 + 3 * i, x[2 * i], x[2 * i + 1]);
  fclose(f);
  f = fopen(bad, "w");
  fprintf(f, "1 0.5 0.5\n2 1 1 1\n");
  fclose(f);
  double *init = malloc((size_t)k * dim * sizeof *init);
  assert_int_equal(gasp_kmeans_plusplus(x, n, dim, k, 5, init), GASP_OK);
  uint32_t *rcl = malloc((size_t)n * sizeof *rcl);
  ref_lloyd(x, n, dim, k, init, rcl);
  for (int np = 1; np <= 2; np++) {
    char nps[8];
    snprintf(nps, sizeof nps, "%d", np);
    const char *args[] = {"kmeans",  "-i",    pts, "-k", "4",  "--seed",
                          "5",       "--tol", "0", "-o", outp, "--json",
                          "--quiet", "--np",  nps, NULL};
    tu_result r = tu_gasp_runv(args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"converged\":true"));
    tu_result_free(&r);
    f = fopen(outp, "r");
    assert_non_null(f);
    for (int i = 0; i < n; i++) {
      unsigned long long id, c;
      assert_int_equal(fscanf(f, "%llu\t%llu", &id, &c), 2);
      assert_int_equal(id, 10 + 3 * (unsigned long long)i);
      assert_int_equal(c, rcl[i]);
    }
    fclose(f);
  }
  const char *badargs[] = {"kmeans", "-i", bad, "-k", "1", NULL};
  tu_result r = tu_gasp_runv(badargs);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "bad.txt:2: 3 coordinates"));
  tu_result_free(&r);
  const char *many[] = {"kmeans", "-i", pts, "-k", "301", NULL};
  r = tu_gasp_runv(many);
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  free(x);
  free(init);
  free(rcl);
  free(pts);
  free(outp);
  free(bad);
  tu_rmtree(dir);
}

static void test_mf_lib_errors(void **state) {
  (void)state;
  ratings R = make_ratings(20, 11, 4, 3);
  gasp_graph *g = mf_graph(&R), *plain = NULL, *unw = NULL;
  coo c = make_coo(30, 90, 4);
  plain = build(&c, 1);
  gasp_error err;
  assert_int_equal(gasp_graph_from_coo(&unw, R.m, R.u, R.i, NULL, 0,
                                       GASP_BUILD_BIPARTITE, 1, &err),
                   GASP_OK);
  gasp_vid nv = gasp_graph_num_vertices(plain) > gasp_graph_num_vertices(g)
                    ? gasp_graph_num_vertices(plain)
                    : gasp_graph_num_vertices(g);
  float *F = malloc((size_t)nv * 20 * sizeof *F), *B = malloc(nv * sizeof *B);
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  o.engine.max_iter = 1;
  gasp_mf_opts bad;
#define MF_REFUSED(call, want, words)                                          \
  do {                                                                         \
    memset(&err, 0, sizeof err);                                               \
    assert_int_equal(call, want);                                              \
    assert_int_equal(err.code, want);                                          \
    if (!tu_contains(err.msg, words))                                          \
      fail_msg("%s: '%s' does not say '%s'", #call, err.msg, words);           \
  } while (0)
  MF_REFUSED(gasp_als(NULL, &o, F, NULL, NULL, &err), GASP_EINVAL, "no graph");
  MF_REFUSED(gasp_sgd(g, &o, NULL, B, NULL, NULL, &err), GASP_EINVAL,
             "factors");
  MF_REFUSED(gasp_als(plain, &o, F, NULL, NULL, &err), GASP_EINVAL,
             "not a ratings graph");
  MF_REFUSED(gasp_sgd(unw, &o, F, B, NULL, NULL, &err), GASP_EINVAL,
             "not a ratings graph");
  bad = o;
  bad.engine.engine = GASP_ENGINE_ASYNC;
  MF_REFUSED(gasp_als(g, &bad, F, NULL, NULL, &err), GASP_ENOTSUP,
             "sync engine");
  bad = o;
  bad.engine.staleness = 1;
  MF_REFUSED(gasp_sgd(g, &bad, F, B, NULL, NULL, &err), GASP_ENOTSUP,
             "sync engine");
  bad = o;
  bad.rank = 0;
  MF_REFUSED(gasp_als(g, &bad, F, NULL, NULL, &err), GASP_EINVAL, "rank");
  bad.rank = 1025;
  MF_REFUSED(gasp_sgd(g, &bad, F, B, NULL, NULL, &err), GASP_EINVAL, "rank");
  bad = o;
  bad.lambda = -1;
  MF_REFUSED(gasp_als(g, &bad, F, NULL, NULL, &err), GASP_EINVAL, "lambda");
  bad = o;
  bad.alpha = -1;
  MF_REFUSED(gasp_als(g, &bad, F, NULL, NULL, &err), GASP_EINVAL, "alpha");
  bad = o;
  bad.lr = 0;
  MF_REFUSED(gasp_sgd(g, &bad, F, B, NULL, NULL, &err), GASP_EINVAL, "lr");
  bad = o;
  bad.decay = NAN;
  MF_REFUSED(gasp_sgd(g, &bad, F, B, NULL, NULL, &err), GASP_EINVAL, "decay");
  bad = o;
  bad.biased = 1;
  MF_REFUSED(gasp_sgd(g, &bad, F, NULL, NULL, NULL, &err), GASP_EINVAL, "bias");
  bad = o;
  bad.engine.gpu = GASP_GPU_ON;
  MF_REFUSED(gasp_sgd(g, &bad, F, B, NULL, NULL, &err), GASP_ENOTSUP,
             "no device kernel");
  char name[128];
  gasp_mf_info info;
  if (gasp_gpu_probe(name, sizeof name) <= 0) {
    MF_REFUSED(gasp_als(g, &bad, F, NULL, NULL, &err), GASP_ENODEV, "gpu on");
    bad.engine.gpu = GASP_GPU_AUTO; /* the CPU, without a word */
    assert_int_equal(gasp_als(g, &bad, F, &info, NULL, &err), GASP_OK);
    assert_false(info.gpu.used);
  }
#undef MF_REFUSED
  free(F);
  free(B);
  gasp_graph_free(&g);
  gasp_graph_free(&plain);
  gasp_graph_free(&unw);
  free_coo(&c);
  free_ratings(&R);
}

/* Reads PREFIX.users.tsv or .items.tsv into rows of F (k factors, then the
 * bias when B is not NULL) by the ids of g; returns the rows read. */
static gasp_vid read_model_rows(const char *path, const gasp_graph *g,
                                gasp_side side, int k, float *F, float *B) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  unsigned long long id;
  gasp_vid rows = 0;
  while (fscanf(f, "%llu", &id) == 1) {
    gasp_vid v;
    assert_int_equal(gasp_graph_find(g, side, id, &v), GASP_OK);
    for (int c = 0; c < k; c++)
      assert_int_equal(fscanf(f, "%f", &F[(size_t)v * k + c]), 1);
    if (B) assert_int_equal(fscanf(f, "%f", &B[v]), 1);
    rows++;
  }
  fclose(f);
  return rows;
}

/* gasp als, sgd --biased, nmf and svdpp on the ratings written to a file
 * write the factors (and biases, and mean) of the calls on the arrays. */
static void test_mf_same_as_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  const int k = 3;
  ratings R = make_ratings(70, 29, 7, 17);
  gasp_graph *g = mf_graph(&R);
  gasp_vid nv = gasp_graph_num_vertices(g), nl = gasp_graph_num_left(g);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "r.tsv"), *pre = tu_path(dir, "m");
  char *users = tu_path(dir, "m.users.tsv"),
       *items = tu_path(dir, "m.items.tsv");
  char *model = tu_path(dir, "m.model");
  FILE *f = fopen(file, "w");
  for (uint64_t j = 0; j < R.m; j++)
    fprintf(f, "%llu\t%llu\t%g\n", (unsigned long long)R.u[j],
            (unsigned long long)R.i[j], R.r[j]);
  fclose(f);
  float *F = malloc((size_t)nv * k * sizeof *F), *B = malloc(nv * sizeof *B);
  float *C = malloc((size_t)nv * k * sizeof *C), *CB = malloc(nv * sizeof *CB);
  for (int method = 0; method < 4; method++) { /* als, sgd, nmf, svdpp */
    int sgd = method == 1 || method == 3; /* with biases */
    gasp_mf_opts o;
    gasp_mf_opts_init(&o);
    o.rank = k;
    o.lambda = 0.05;
    o.seed = 7;
    o.biased = sgd;
    o.engine.max_iter = 4;
    o.engine.threads = 2;
    gasp_mf_info info;
    int rc = method == 3   ? gasp_svdpp(g, &o, F, B, NULL, &info, NULL, NULL)
             : sgd         ? gasp_sgd(g, &o, F, B, &info, NULL, NULL)
             : method == 2 ? gasp_nmf(g, &o, F, &info, NULL, NULL)
                           : gasp_als(g, &o, F, &info, NULL, NULL);
    assert_int_equal(rc, GASP_OK);
    const char *args[] = {method == 3   ? "svdpp"
                          : sgd         ? "sgd"
                          : method == 2 ? "nmf"
                                        : "als",
                          "-i",
                          file,
                          "-k",
                          "3",
                          "--lambda",
                          "0.05",
                          "--seed",
                          "7",
                          "--max-iter",
                          "4",
                          "-t",
                          "2",
                          "-o",
                          pre,
                          "--quiet",
                          method == 1 ? "--biased" : NULL,
                          NULL};
    tu_result r = tu_gasp_runv(args);
    assert_int_equal(r.status, 0);
    tu_result_free(&r);
    memset(C, 0, (size_t)nv * k * sizeof *C);
    assert_int_equal(
        read_model_rows(users, g, GASP_SIDE_LEFT, k, C, sgd ? CB : NULL), nl);
    assert_int_equal(
        read_model_rows(items, g, GASP_SIDE_RIGHT, k, C, sgd ? CB : NULL),
        nv - nl);
    assert_memory_equal(C, F, (size_t)nv * k * sizeof *F);
    if (sgd) assert_memory_equal(CB, B, nv * sizeof *B);
    char *text = tu_read_file(model, NULL);
    const char *mean = strstr(text, "\nmean\t");
    assert_non_null(mean);
    assert_true(strtod(mean + 6, NULL) == info.mean);
    free(text);
  }
  free(F);
  free(B);
  free(C);
  free(CB);
  free(file);
  free(pre);
  free(users);
  free(items);
  free(model);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_ratings(&R);
}

/* gasp wals on 'user item rating weight' lines (a header, commas) writes
 * the factors of gasp_wals with those weights; across 2 ranks the same up
 * to summation order; bad weight files refused with file:line. */
static void test_wals_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  const int k = 3;
  ratings R = make_ratings(50, 31, 6, 41);
  gasp_graph *g = mf_graph(&R);
  gasp_vid nv = gasp_graph_num_vertices(g), nl = gasp_graph_num_left(g);
  uint64_t E = gasp_graph_num_edges(g);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "r.csv"), *pre = tu_path(dir, "m");
  char *users = tu_path(dir, "m.users.tsv"),
       *items = tu_path(dir, "m.items.tsv");
  double *w = malloc(E * sizeof *w);
  FILE *f = fopen(file, "w");
  fprintf(f, "user,item,rating,weight\n");
  for (uint64_t j = 0; j < R.m; j++) {
    double wj = 0.5 * (double)(1 + j % 7);
    w[rating_slot(g, &R, j)] = wj;
    fprintf(f, "%llu,%llu,%g,%g\n", (unsigned long long)R.u[j],
            (unsigned long long)R.i[j], R.r[j], wj);
  }
  fclose(f);
  size_t nk = (size_t)nv * k;
  float *F = malloc(nk * sizeof *F), *C = calloc(nk, sizeof *C);
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  o.rank = k;
  o.lambda = 0.05;
  o.seed = 3;
  o.engine.max_iter = 4;
  assert_int_equal(gasp_wals(g, &o, w, F, NULL, NULL, NULL), GASP_OK);
  for (int np = 1; np <= 2; np++) {
    const char *args[] = {"wals", "-i", file, "-k", "3", "--lambda", "0.05",
                          "--seed", "3", "--max-iter", "4", "-o", pre,
                          "--quiet", np == 2 ? "--np" : NULL, "2", NULL};
    tu_result r = tu_gasp_runv(args);
    if (r.status != 0) fail_msg("gasp wals (np %d): %s", np, r.err);
    tu_result_free(&r);
    assert_int_equal(read_model_rows(users, g, GASP_SIDE_LEFT, k, C, NULL), nl);
    assert_int_equal(read_model_rows(items, g, GASP_SIDE_RIGHT, k, C, NULL),
                     nv - nl);
    if (np == 1) assert_memory_equal(C, F, nk * sizeof *F);
    for (size_t q = 0; q < nk; q++)
      if (fabsf(C[q] - F[q]) > 1e-4f * (1 + fabsf(F[q])))
        fail_msg("wals --np %d: factor %zu %g, the library's %g", np, q,
                 (double)C[q], (double)F[q]);
  }
  /* refusals, each naming the file and line */
  static const struct {
    const char *text, *want;
  } bad[] = {{"1 2 3 1\n1 3 4\n", "bad.tsv:2: expected a weight"},
             {"1 2 3 1\n1 2 4 2\n", "bad.tsv:2: user 1 rated item 2 before"},
             {"1 2 3 1\n4 5 3 nan\n", "bad.tsv:2:"},
             {"1 2 3 -2\n", "bad.tsv:1: the weight -2"},
             {"1 2 x 1\n", "bad.tsv:1: expected a rating"},
             {"", "no ratings"}};
  char *badf = tu_path(dir, "bad.tsv");
  for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
    f = fopen(badf, "w");
    fputs(bad[b].text, f);
    fclose(f);
    const char *args[] = {"wals", "-i", badf, "--quiet", NULL};
    tu_result r = tu_gasp_runv(args);
    assert_int_equal(r.status, 2);
    if (!strstr(r.err, bad[b].want))
      fail_msg("case %zu: %s, want %s", b, r.err, bad[b].want);
    tu_result_free(&r);
  }
  free(badf);
  free(w);
  free(F);
  free(C);
  free(file);
  free(pre);
  free(users);
  free(items);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_ratings(&R);
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
  write_coo(file, &c, 0);
  FILE *f;
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

/* Directed types by every vertex triple of the arc matrix (self loops and
 * repeats dropped): per[4 v + k] for k = cycle, through, in, out. */
static gasp_directed_triangles ref_directed(const gasp_graph *g,
                                            uint64_t *per) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint8_t *m = calloc((size_t)n * n, 1);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (gasp_vid u = 0; u < n; u++)
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++)
      if (out.nbr[j] != u) m[(size_t)u * n + out.nbr[j]] = 1;
#define A(x, y) m[(size_t)(x)*n + (y)]
  gasp_directed_triangles t = {0, 0, 0};
  memset(per, 0, 4 * n * sizeof *per);
  uint64_t cyc = 0;
  for (gasp_vid i = 0; i < n; i++)
    for (gasp_vid j = i + 1; j < n; j++) {
      if (!A(i, j) && !A(j, i)) continue;
      for (gasp_vid k = j + 1; k < n; k++) {
        if ((!A(i, k) && !A(k, i)) || (!A(j, k) && !A(k, j))) continue;
        t.triangles++;
        gasp_vid c[3] = {i, j, k};
        for (int xi = 0; xi < 3; xi++)
          for (int yi = 0; yi < 3; yi++) {
            if (yi == xi) continue;
            gasp_vid x = c[xi], y = c[yi], z = c[3 - xi - yi];
            uint64_t *p = per + 4 * (size_t)x;
            p[0] += A(x, y) && A(y, z) && A(z, x);
            p[1] += A(y, x) && A(x, z) && A(y, z);
            p[2] += A(y, x) && A(z, x) && A(y, z);
            p[3] += A(x, y) && A(x, z) && A(y, z);
          }
      }
    }
#undef A
  for (gasp_vid v = 0; v < n; v++) {
    cyc += per[4 * (size_t)v];
    t.through += per[4 * (size_t)v + 1];
  }
  t.cycles = cyc / 3;
  free(m);
  return t;
}

static void test_triangles_directed(void **state) {
  (void)state;
  for (int gi = 0; gi < KT_GRAPHS; gi++) {
    gasp_graph *g = kt_graph(gi);
    gasp_vid n = gasp_graph_num_vertices(g);
    uint64_t *ref = malloc(4 * n * sizeof *ref), *got = malloc(4 * n * 8);
    uint64_t *und = malloc(n * sizeof *und);
    gasp_directed_triangles want = ref_directed(g, ref);
    for (int t = 1; t <= 3; t++) {
      gasp_triangles_opts o;
      gasp_triangles_opts_init(&o);
      o.engine.threads = t;
      gasp_directed_triangles tot;
      assert_int_equal(gasp_triangles_directed(g, &o, got, &tot, NULL, NULL),
                       GASP_OK);
      assert_memory_equal(got, ref, 4 * n * sizeof *got);
      assert_int_equal(tot.triangles, want.triangles);
      assert_int_equal(tot.cycles, want.cycles);
      assert_int_equal(tot.through, want.through);
      uint64_t sin = 0, sout = 0;
      for (gasp_vid v = 0; v < n; v++)
        sin += got[4 * v + 2], sout += got[4 * v + 3];
      assert_int_equal(sin, tot.through); /* each transitive triple once */
      assert_int_equal(sout, tot.through);
    }
    /* clustering: 2 T / (d (d - 1)) against the triple loops' counts */
    gasp_triangles_totals ut = ref_triangles(g, und);
    (void)ut;
    uint8_t *a = undirected_matrix(g);
    double *coef = malloc(n * sizeof *coef), avg = -1, sum = 0;
    assert_int_equal(gasp_clustering(g, NULL, und, coef, &avg, NULL), GASP_OK);
    for (gasp_vid v = 0; v < n; v++) {
      uint64_t d = 0;
      for (gasp_vid u = 0; u < n; u++)
        d += a[(size_t)v * n + u];
      double c =
          d < 2 ? 0 : 2.0 * (double)und[v] / ((double)d * (double)(d - 1));
      assert_true(fabs(coef[v] - c) <= 1e-12);
      sum += c;
    }
    assert_true(fabs(avg - sum / (double)n) <= 1e-12);
    free(a);
    free(coef);
    free(ref);
    free(got);
    free(und);
    gasp_graph_free(&g);
  }
  /* a directed 3-cycle, a transitive triangle, and both at once */
  gasp_gid s[] = {0, 1, 2, 10, 10, 11, 20, 21, 22, 21};
  gasp_gid d[] = {1, 2, 0, 11, 12, 12, 21, 22, 20, 20};
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_from_coo(&g, 10, s, d, NULL, 0, 0, 1, NULL),
                   GASP_OK);
  gasp_triangles_opts o;
  gasp_triangles_opts_init(&o);
  gasp_directed_triangles tot;
  uint64_t per[9 * 4];
  assert_int_equal(gasp_triangles_directed(g, &o, per, &tot, NULL, NULL),
                   GASP_OK);
  assert_int_equal(tot.triangles, 3);
  assert_int_equal(tot.cycles, 2); /* 0->1->2->0 and 20->21->22->20 */
  /* the third triangle (20, 21, 22) has a reciprocal pair: a cycle and
   * transitive triples at once; every corner as the triple loops say */
  uint64_t ref9[9 * 4];
  gasp_directed_triangles want = ref_directed(g, ref9);
  assert_memory_equal(per, ref9, sizeof per);
  assert_int_equal(tot.through, want.through);
  assert_int_equal(per[4 * 3 + 3], 1); /* 10: out (10->11, 10->12, 11->12) */
  assert_int_equal(per[4 * 5 + 2], 1); /* 12: in */
  assert_int_equal(per[4 * 4 + 1], 1); /* 11: through */
  gasp_graph_free(&g);
}

static void test_triangles_directed_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  coo cg = make_coo(300, 2500, 19);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "g.el"), *outp = tu_path(dir, "out.tsv");
  write_coo(file, &cg, 0);
  gasp_graph *g = build(&cg, 0);
  gasp_vid n = gasp_graph_num_vertices(g);
  uint64_t *per = malloc(4 * n * sizeof *per), *und = malloc(n * sizeof *und);
  gasp_directed_triangles want = ref_directed(g, per);
  const char *args[] = {"triangles",  "-i",     file,      "-o", outp,
                        "--directed", "--json", "--quiet", NULL};
  tu_result r = tu_gasp_runv(args);
  assert_int_equal(r.status, 0);
  assert_true(tu_json_num(r.out, "cycles") == (double)want.cycles);
  assert_true(tu_json_num(r.out, "through") == (double)want.through);
  tu_result_free(&r);
  FILE *f = fopen(outp, "r");
  assert_non_null(f);
  for (gasp_vid v = 0; v < n; v++) {
    unsigned long long id, c[4];
    assert_int_equal(fscanf(f, "%llu\t%llu\t%llu\t%llu\t%llu", &id, &c[0],
                            &c[1], &c[2], &c[3]),
                     5);
    assert_int_equal(id, gasp_graph_gid(g, v));
    for (int k = 0; k < 4; k++)
      assert_int_equal(c[k], per[4 * v + k]);
  }
  fclose(f);
  /* clustering: one process and three ranks write the same */
  ref_triangles(g, und);
  double *coef = malloc(n * sizeof *coef), avg;
  assert_int_equal(gasp_clustering(g, NULL, und, coef, &avg, NULL), GASP_OK);
  for (int np = 1; np <= 3; np += 2) {
    char nps[8];
    snprintf(nps, sizeof nps, "%d", np);
    const char *cargs[] = {
        "triangles", "-i",      file,   "-o", outp, "--clustering",
        "--json",    "--quiet", "--np", nps,  NULL};
    r = tu_gasp_runv(cargs);
    assert_int_equal(r.status, 0);
    assert_true(fabs(tu_json_num(r.out, "average_clustering") - avg) <= 1e-9);
    tu_result_free(&r);
    f = fopen(outp, "r");
    assert_non_null(f);
    for (gasp_vid v = 0; v < n; v++) {
      unsigned long long id, t;
      double c;
      assert_int_equal(fscanf(f, "%llu\t%llu\t%lf", &id, &t, &c), 3);
      assert_int_equal(id, gasp_graph_gid(g, v));
      assert_int_equal(t, und[v]);
      assert_true(fabs(c - coef[v]) <= 1e-9 * (1 + coef[v]));
    }
    fclose(f);
  }
  const char *np2[] = {"triangles", "-i", file,      "--directed",
                       "--np",      "2",  "--quiet", NULL};
  const char *both[] = {"triangles",  "-i",           file,
                        "--directed", "--clustering", NULL};
  const char **cases[] = {np2, both};
  for (int i = 0; i < 2; i++) {
    r = tu_gasp_runv(cases[i]);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "gasp: "));
    tu_result_free(&r);
  }
  free(per);
  free(und);
  free(coef);
  free(file);
  free(outp);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_coo(&cg);
}

/* ---- colouring ----------------------------------------------------------- */

/* Sequential greedy colouring in ascending id order (local order here). */
static void ref_greedy_natural(const gasp_graph *g, uint32_t *colour) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint8_t *a = undirected_matrix(g), *used = calloc(n + 1, 1);
  for (gasp_vid v = 0; v < n; v++) {
    memset(used, 0, n + 1);
    for (gasp_vid u = 0; u < v; u++)
      if (a[(size_t)v * n + u]) used[colour[u]] = 1;
    uint32_t c = 0;
    while (used[c])
      c++;
    colour[v] = c;
  }
  free(a);
  free(used);
}

/* DSatur by the book, in O(n^2) steps: the uncoloured vertex with the
 * most distinct colours among its neighbours, then the larger degree,
 * then the smaller id, takes the smallest colour free around it. */
static void ref_dsatur(const gasp_graph *g, uint32_t *colour) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint8_t *a = undirected_matrix(g), *used = calloc(n + 1, 1);
  uint32_t *deg = calloc(n ? n : 1, sizeof *deg);
  for (gasp_vid v = 0; v < n; v++) {
    colour[v] = UINT32_MAX;
    for (gasp_vid u = 0; u < n; u++)
      deg[v] += a[(size_t)v * n + u];
  }
  for (gasp_vid step = 0; step < n; step++) {
    gasp_vid best = GASP_VID_NONE;
    uint32_t best_sat = 0;
    for (gasp_vid v = 0; v < n; v++) {
      if (colour[v] != UINT32_MAX) continue;
      memset(used, 0, n + 1);
      uint32_t sat = 0;
      for (gasp_vid u = 0; u < n; u++)
        if (a[(size_t)v * n + u] && colour[u] != UINT32_MAX &&
            !used[colour[u]]++)
          sat++;
      if (best == GASP_VID_NONE || sat > best_sat ||
          (sat == best_sat && deg[v] > deg[best])) /* ids ascend with v */
        best = v, best_sat = sat;
    }
    memset(used, 0, n + 1);
    for (gasp_vid u = 0; u < n; u++)
      if (a[(size_t)best * n + u] && colour[u] != UINT32_MAX)
        used[colour[u]] = 1;
    uint32_t c = 0;
    while (used[c])
      c++;
    colour[best] = c;
  }
  free(a);
  free(used);
  free(deg);
}

/* Proper, and greedy (Grundy): a vertex of colour c has neighbours of
 * every colour below c.  Returns the colours used. */
static uint32_t check_greedy(const gasp_graph *g, const uint32_t *colour) {
  gasp_vid n = gasp_graph_num_vertices(g);
  uint8_t *a = undirected_matrix(g), *seen = calloc(n + 1, 1);
  uint32_t top = 0;
  for (gasp_vid v = 0; v < n; v++) {
    assert_true(colour[v] <= n);
    memset(seen, 0, n + 1);
    for (gasp_vid u = 0; u < n; u++)
      if (a[(size_t)v * n + u]) {
        assert_int_not_equal(colour[u], colour[v]);
        seen[colour[u]] = 1;
      }
    for (uint32_t c = 0; c < colour[v]; c++)
      assert_true(seen[c]);
    if (colour[v] + 1 > top) top = colour[v] + 1;
  }
  free(a);
  free(seen);
  return top;
}

static void test_colour(void **state) {
  (void)state;
  for (int gi = 0; gi < KT_GRAPHS; gi++) {
    gasp_graph *g = kt_graph(gi);
    gasp_vid n = gasp_graph_num_vertices(g);
    uint32_t *ref = malloc(n * sizeof *ref), *c = malloc(n * sizeof *c);
    uint32_t *first = malloc(n * sizeof *first);
    for (int order = 0; order < 4; order++) {
      if (order == GASP_COLOUR_NATURAL) ref_greedy_natural(g, ref);
      if (order == GASP_COLOUR_SATURATION) ref_dsatur(g, ref);
      for (int t = 1; t <= 3; t++) {
        gasp_colour_opts o;
        gasp_colour_opts_init(&o);
        o.order = (gasp_colour_order)order;
        o.engine.threads = t;
        uint32_t used = 0;
        gasp_run_stats st;
        assert_int_equal(gasp_colour(g, &o, c, &used, &st, NULL), GASP_OK);
        assert_int_equal(st.reason, GASP_STOP_CONVERGED);
        assert_int_equal(check_greedy(g, c), used);
        if (order == GASP_COLOUR_NATURAL || order == GASP_COLOUR_SATURATION)
          assert_memory_equal(c, ref, n * sizeof *c);
        if (t == 1)
          memcpy(first, c, n * sizeof *c);
        else /* the same for any thread count */
          assert_memory_equal(c, first, n * sizeof *c);
      }
    }
    /* the clique of 6 needs 6 colours in every order */
    if (gi == 3) assert_int_equal(check_greedy(g, first), 6);
    free(ref);
    free(c);
    free(first);
    gasp_graph_free(&g);
  }
}

static void test_colour_errors(void **state) {
  (void)state;
  gasp_graph *g = clique_with_tail();
  uint32_t c[10];
  gasp_colour_opts o;
  gasp_colour_opts_init(&o);
  gasp_error err;
  o.engine.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_colour(g, &o, c, NULL, NULL, &err), GASP_ENOTSUP);
  assert_non_null(strstr(err.msg, "sync engine"));
  gasp_colour_opts_init(&o);
  o.order = (gasp_colour_order)7;
  assert_int_equal(gasp_colour(g, &o, c, NULL, NULL, &err), GASP_EINVAL);
  assert_int_equal(gasp_colour(g, &o, NULL, NULL, NULL, &err), GASP_EINVAL);
  gasp_colour_order ord;
  assert_int_equal(gasp_colour_order_parse("saturation", &ord), GASP_OK);
  assert_int_equal(ord, GASP_COLOUR_SATURATION);
  assert_int_equal(gasp_colour_order_parse("largest", &ord), GASP_EINVAL);
  /* stopped after two supersteps: the uncoloured are marked, not passed
   * off as colour 0, and the reason says so */
  gasp_colour_opts_init(&o);
  o.order = GASP_COLOUR_NATURAL;
  o.engine.max_iter = 2;
  gasp_run_stats st;
  assert_int_equal(gasp_colour(g, &o, c, NULL, &st, &err), GASP_OK);
  assert_int_equal(st.reason, GASP_STOP_MAX_ITER);
  int uncoloured = 0;
  for (int v = 0; v < 10; v++)
    uncoloured += c[v] == UINT32_MAX;
  assert_true(uncoloured > 0);
  gasp_graph_free(&g);
}

/* Reads "id<TAB>colour" lines of n vertices in local order. */
static void read_colours(const char *path, const gasp_graph *g, uint32_t *c) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  gasp_vid n = gasp_graph_num_vertices(g);
  for (gasp_vid v = 0; v < n; v++) {
    unsigned long long id, k;
    assert_int_equal(fscanf(f, "%llu\t%llu", &id, &k), 2);
    assert_int_equal(id, gasp_graph_gid(g, v));
    c[v] = (uint32_t)k;
  }
  fclose(f);
}

static void test_colour_same_as_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  coo cg = make_coo(500, 4000, 29);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "g.el"), *outp = tu_path(dir, "out.tsv");
  write_coo(file, &cg, 0);
  gasp_graph *g = build(&cg, 0);
  gasp_vid n = gasp_graph_num_vertices(g);
  uint32_t *lib = malloc(n * sizeof *lib), *cli = malloc(n * sizeof *cli);
  static const char *orders[] = {"degree", "random", "natural", "saturation"};
  for (int order = 0; order < 4; order++) {
    gasp_colour_opts o;
    gasp_colour_opts_init(&o);
    o.order = (gasp_colour_order)order;
    uint32_t used;
    assert_int_equal(gasp_colour(g, &o, lib, &used, NULL, NULL), GASP_OK);
    for (int np = 1; np <= (order == 3 ? 1 : 3); np += 2) {
      char nps[8];
      snprintf(nps, sizeof nps, "%d", np);
      const char *args[] = {"colour",  "-i",      file,          "-o",
                            outp,      "--order", orders[order], "--json",
                            "--quiet", "--np",    nps,           NULL};
      tu_result r = tu_gasp_runv(args);
      assert_int_equal(r.status, 0);
      assert_true(tu_json_num(r.out, "colours") == (double)used);
      assert_non_null(strstr(r.out, "\"proper\":true"));
      tu_result_free(&r);
      read_colours(outp, g, cli);
      assert_memory_equal(cli, lib, n * sizeof *cli);
    }
  }
  /* what the command refuses, in one line and status 2 */
  const char *sat[] = {"colour", "-i", file,      "--order", "saturation",
                       "--np",   "2",  "--quiet", NULL};
  const char *bad[] = {"colour", "-i", file, "--order", "largest", NULL};
  const char *async[] = {"colour", "-i", file, "--engine", "async", NULL};
  const char *tol[] = {"colour", "-i", file, "--tol", "1", NULL};
  const char **cases[] = {sat, bad, async, tol};
  for (int i = 0; i < 4; i++) {
    tu_result r = tu_gasp_runv(cases[i]);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "gasp: "));
    tu_result_free(&r);
  }
  free(lib);
  free(cli);
  free(file);
  free(outp);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_coo(&cg);
}

/* ---- strongly connected components ------------------------------------ */

/* Tarjan's algorithm, iterative: comp[v] is the largest local id in v's
 * component (local ids ascend with the original ids here). */
static void ref_scc(const gasp_graph *g, gasp_vid *comp) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  gasp_vid *index = malloc((n + 1) * sizeof *index);
  gasp_vid *low = malloc((n + 1) * sizeof *low);
  gasp_vid *stack = malloc((n + 1) * sizeof *stack);
  gasp_vid *call = malloc((n + 1) * sizeof *call);
  uint64_t *next = malloc((n + 1) * sizeof *next);
  uint8_t *on = calloc(n + 1, 1);
  gasp_vid counter = 0, sp = 0;
  for (gasp_vid v = 0; v < n; v++)
    index[v] = GASP_VID_NONE;
  for (gasp_vid r = 0; r < n; r++) {
    if (index[r] != GASP_VID_NONE) continue;
    gasp_vid depth = 0;
    call[depth++] = r;
    index[r] = low[r] = counter++;
    next[r] = out.off[r];
    stack[sp++] = r;
    on[r] = 1;
    while (depth) {
      gasp_vid v = call[depth - 1];
      if (next[v] < out.off[v + 1]) {
        gasp_vid w = out.nbr[next[v]++];
        if (index[w] == GASP_VID_NONE) {
          index[w] = low[w] = counter++;
          next[w] = out.off[w];
          stack[sp++] = w;
          on[w] = 1;
          call[depth++] = w;
        } else if (on[w] && index[w] < low[v]) {
          low[v] = index[w];
        }
        continue;
      }
      depth--;
      if (depth && low[v] < low[call[depth - 1]]) low[call[depth - 1]] = low[v];
      if (low[v] != index[v]) continue;
      gasp_vid top = 0, k = sp;
      do {
        k--;
        if (stack[k] > top) top = stack[k];
      } while (stack[k] != v);
      while (sp > k) {
        gasp_vid w = stack[--sp];
        on[w] = 0;
        comp[w] = top;
      }
    }
  }
  free(index);
  free(low);
  free(stack);
  free(call);
  free(next);
  free(on);
}

/* Directed graphs: random ones of several densities, and cycles joined
 * into a chain with descending ids (a round per link without trimming). */
static gasp_graph *scc_graph(int i) {
  if (i == 3) {
    enum { C = 40, L = 5 }; /* 40 cycles of 5, cycle c -> cycle c - 1 */
    gasp_gid s[C * L + C], t[C * L + C];
    uint64_t m = 0;
    for (gasp_gid c = 0; c < C; c++) {
      for (gasp_gid j = 0; j < L; j++)
        s[m] = c * L + j, t[m++] = c * L + (j + 1) % L;
      if (c) s[m] = c * L, t[m++] = (c - 1) * L + 2;
    }
    gasp_graph *g = NULL;
    assert_int_equal(gasp_graph_from_coo(&g, m, s, t, NULL, 0, 0, 1, NULL),
                     GASP_OK);
    return g;
  }
  static const uint64_t size[][2] = {{300, 400}, {300, 900}, {1000, 1500}};
  coo c = make_coo(size[i][0], size[i][1], 77 + (uint64_t)i);
  gasp_graph *g = build(&c, 0);
  free_coo(&c);
  return g;
}

static void test_scc(void **state) {
  (void)state;
  for (int gi = 0; gi < 4; gi++) {
    gasp_graph *g = scc_graph(gi);
    gasp_vid n = gasp_graph_num_vertices(g);
    gasp_vid *ref = malloc(n * sizeof *ref), *c = malloc(n * sizeof *c);
    ref_scc(g, ref);
    uint64_t want = 0;
    for (gasp_vid v = 0; v < n; v++)
      want += ref[v] == v;
    for (int t = 1; t <= 3; t++) {
      gasp_scc_opts o;
      gasp_scc_opts_init(&o);
      o.engine.threads = t;
      uint64_t count = 0;
      gasp_run_stats st;
      assert_int_equal(gasp_scc(g, &o, c, &count, &st, NULL), GASP_OK);
      assert_int_equal(st.reason, GASP_STOP_CONVERGED);
      assert_memory_equal(c, ref, n * sizeof *c);
      assert_int_equal(count, want);
    }
    if (gi == 3) assert_int_equal(want, 40);
    free(ref);
    free(c);
    gasp_graph_free(&g);
  }
  /* refusals, and a run stopped early says so */
  gasp_graph *g = scc_graph(3);
  gasp_vid *c = malloc(gasp_graph_num_vertices(g) * sizeof *c);
  gasp_scc_opts o;
  gasp_scc_opts_init(&o);
  gasp_error err;
  o.engine.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_scc(g, &o, c, NULL, NULL, &err), GASP_ENOTSUP);
  assert_non_null(strstr(err.msg, "sync engine"));
  gasp_scc_opts_init(&o);
  assert_int_equal(gasp_scc(g, &o, NULL, NULL, NULL, &err), GASP_EINVAL);
  o.engine.max_iter = 1;
  gasp_run_stats st;
  assert_int_equal(gasp_scc(g, &o, c, NULL, &st, &err), GASP_OK);
  assert_int_equal(st.reason, GASP_STOP_MAX_ITER);
  int unplaced = 0;
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++)
    unplaced += c[v] == GASP_VID_NONE;
  assert_true(unplaced > 0);
  free(c);
  gasp_graph_free(&g);
}

static void test_scc_same_as_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  coo cg = make_coo(600, 1500, 41);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "g.el"), *outp = tu_path(dir, "out.tsv");
  write_coo(file, &cg, 0);
  gasp_graph *g = build(&cg, 0);
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_vid *ref = malloc(n * sizeof *ref);
  ref_scc(g, ref);
  uint64_t want = 0;
  for (gasp_vid v = 0; v < n; v++)
    want += ref[v] == v;
  for (int np = 1; np <= 3; np++) {
    char nps[8];
    snprintf(nps, sizeof nps, "%d", np);
    const char *args[] = {"scc",    "-i",      file,   "-o", outp,
                          "--json", "--quiet", "--np", nps,  NULL};
    tu_result r = tu_gasp_runv(args);
    assert_int_equal(r.status, 0);
    assert_true(tu_json_num(r.out, "components") == (double)want);
    tu_result_free(&r);
    FILE *f = fopen(outp, "r");
    assert_non_null(f);
    for (gasp_vid v = 0; v < n; v++) {
      unsigned long long id, k;
      assert_int_equal(fscanf(f, "%llu\t%llu", &id, &k), 2);
      assert_int_equal(id, gasp_graph_gid(g, v));
      assert_int_equal(k, gasp_graph_gid(g, ref[v]));
    }
    fclose(f);
  }
  const char *async[] = {"scc", "-i", file, "--engine", "async", NULL};
  const char *sym[] = {"scc", "-i", file, "--symmetric", NULL};
  const char **cases[] = {async, sym};
  for (int i = 0; i < 2; i++) {
    tu_result r = tu_gasp_runv(cases[i]);
    assert_int_equal(r.status, 2);
    tu_result_free(&r);
  }
  free(ref);
  free(file);
  free(outp);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_coo(&cg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pagerank),
      cmocka_unit_test(test_triangles_directed),
      cmocka_unit_test(test_triangles_directed_cli),
      cmocka_unit_test(test_colour),
      cmocka_unit_test(test_nmf_lib),
      cmocka_unit_test(test_jacobi),
      cmocka_unit_test(test_jacobi_cli),
      cmocka_unit_test(test_kmeans),
      cmocka_unit_test(test_kmeans_cli),
      cmocka_unit_test(test_colour_errors),
      cmocka_unit_test(test_colour_same_as_cli),
      cmocka_unit_test(test_scc),
      cmocka_unit_test(test_scc_same_as_cli),
      cmocka_unit_test(test_pagerank_cli),
      cmocka_unit_test(test_bfs),
      cmocka_unit_test(test_sssp),
      cmocka_unit_test(test_cc),
      cmocka_unit_test(test_labelprop),
      cmocka_unit_test(test_labelprop_same_as_cli),
      cmocka_unit_test(test_same_as_cli),
      cmocka_unit_test(test_lda_counts),
      cmocka_unit_test(test_lda_reproducible),
      cmocka_unit_test(test_lda_planted),
      cmocka_unit_test(test_lda_infer),
      cmocka_unit_test(test_lda_errors),
      cmocka_unit_test(test_lda_same_as_cli),
      cmocka_unit_test(test_als_lib),
      cmocka_unit_test(test_als_implicit_lib),
      cmocka_unit_test(test_sgd_lib),
      cmocka_unit_test(test_svdpp_lib),
      cmocka_unit_test(test_wals_lib),
      cmocka_unit_test(test_wals_cli),
      cmocka_unit_test(test_mf_lib_errors),
      cmocka_unit_test(test_mf_same_as_cli),
      cmocka_unit_test(test_kcore),
      cmocka_unit_test(test_kcore_errors),
      cmocka_unit_test(test_triangles),
      cmocka_unit_test(test_triangles_errors),
      cmocka_unit_test(test_kcore_triangles_same_as_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
