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
  FILE *f = fopen(file, "w");
  for (uint64_t i = 0; i < c.m; i++)
    fprintf(f, "%llu\t%llu\t%.17g\n", (unsigned long long)c.s[i],
            (unsigned long long)c.t[i], c.w[i]);
  fclose(f);
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
      cmocka_unit_test(test_bfs),
      cmocka_unit_test(test_sssp),
      cmocka_unit_test(test_cc),
      cmocka_unit_test(test_labelprop),
      cmocka_unit_test(test_labelprop_same_as_cli),
      cmocka_unit_test(test_same_as_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
