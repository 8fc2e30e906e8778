/*
 * test_toolkit_bc.c -- betweenness centrality (gasp_bc and `gasp bc`)
 * against Brandes' algorithm written here (a queue, a stack and
 * predecessor lists over the edge arrays themselves, not the graph):
 * known values on a path, a star and a diamond; random directed and
 * undirected graphs of several densities with self loops and repeated
 * edges (which count once: paths in the simple graph), for 1-3 threads
 * and every direction the engine may take; the sample (reproducible, and
 * the reference over the same sources); the normalisations; the command's
 * output against the call's, across 1-3 ranks; and the refusals.
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

/* Edges over ids 0 .. n-1 (written to files as 7 * id + 3, so that file
 * ids are not local ids). */
typedef struct edges {
  uint64_t n, m;
  gasp_gid *s, *t;
} edges;

static gasp_gid file_id(gasp_gid i) { return 7 * i + 3; }

/* m random edges on n vertices, plus self loops and repeats of the
 * first edges. */
static edges random_edges(uint64_t n, uint64_t m, uint64_t seed) {
  uint64_t extra = 2 + m / 10;
  edges e = {n, m + extra, malloc((m + extra) * sizeof(gasp_gid)),
             malloc((m + extra) * sizeof(gasp_gid))};
  tu_rng r = {seed};
  for (uint64_t i = 0; i < m; i++) {
    e.s[i] = file_id(tu_below(&r, n));
    e.t[i] = file_id(tu_below(&r, n));
  }
  for (uint64_t i = 0; i < extra; i++) {
    uint64_t j = tu_below(&r, m);
    e.s[m + i] = e.s[j];
    e.t[m + i] = i % 2 ? e.s[j] : e.t[j]; /* a loop, or the edge again */
  }
  return e;
}

static edges fixed_edges(uint64_t n, const gasp_gid (*st)[2], uint64_t m) {
  edges e = {n, m, malloc(m * sizeof(gasp_gid)), malloc(m * sizeof(gasp_gid))};
  for (uint64_t i = 0; i < m; i++) {
    e.s[i] = file_id(st[i][0]);
    e.t[i] = file_id(st[i][1]);
  }
  return e;
}

static void free_edges(edges *e) {
  free(e->s);
  free(e->t);
}

static gasp_graph *build(const edges *e) {
  gasp_graph *g = NULL;
  assert_int_equal(
      gasp_graph_from_coo(&g, e->m, e->s, e->t, NULL, 0, 0, 1, NULL), GASP_OK);
  return g;
}

static void write_edges(const char *path, const edges *e) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (uint64_t i = 0; i < e->m; i++)
    fprintf(f, "%llu\t%llu\n", (unsigned long long)e->s[i],
            (unsigned long long)e->t[i]);
  fclose(f);
}

/* ---- the reference --------------------------------------------------- */

/* Distinct neighbours of every vertex (ids 0 .. n-1): out-edges, and
 * in-edges too when undirected; self loops dropped. */
typedef struct adj {
  uint64_t *off;
  uint64_t *nbr;
} adj;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static adj make_adj(const edges *e, int undirected) {
  uint64_t n = e->n, cap = e->m * 2;
  uint64_t *pair = malloc(2 * cap * sizeof *pair), k = 0;
  for (uint64_t i = 0; i < e->m; i++) {
    uint64_t a = (e->s[i] - 3) / 7, b = (e->t[i] - 3) / 7;
    if (a == b) continue;
    pair[2 * k] = a * n + b, k++;
    if (undirected) pair[2 * k] = b * n + a, k++;
  }
  uint64_t *key = malloc((k ? k : 1) * sizeof *key);
  for (uint64_t i = 0; i < k; i++)
    key[i] = pair[2 * i];
  qsort(key, k, sizeof *key, cmp_u64);
  adj a = {calloc(n + 1, sizeof(uint64_t)), malloc((k ? k : 1) * 8)};
  uint64_t m = 0;
  for (uint64_t i = 0; i < k; i++) {
    if (i && key[i] == key[i - 1]) continue;
    a.nbr[m++] = key[i] % n;
    a.off[key[i] / n + 1]++;
  }
  for (uint64_t v = 0; v < n; v++)
    a.off[v + 1] += a.off[v];
  free(pair);
  free(key);
  return a;
}

/* Brandes (2001) from each of the k sources (every vertex when src is
 * NULL): bc[id] += delta_s(id), the source itself left out. */
static void ref_bc(const edges *e, int undirected, const uint64_t *src,
                   uint64_t k, double *bc) {
  uint64_t n = e->n;
  adj a = make_adj(e, undirected);
  double *sigma = malloc(n * sizeof *sigma), *delta = malloc(n * sizeof *delta);
  int64_t *dist = malloc(n * sizeof *dist);
  uint64_t *queue = malloc(n * sizeof *queue), *stack = malloc(n * 8);
  for (uint64_t v = 0; v < n; v++)
    bc[v] = 0;
  uint64_t todo = src ? k : n;
  for (uint64_t i = 0; i < todo; i++) {
    uint64_t s = src ? src[i] : i, h = 0, t = 0, top = 0;
    for (uint64_t v = 0; v < n; v++) {
      sigma[v] = 0;
      delta[v] = 0;
      dist[v] = -1;
    }
    sigma[s] = 1;
    dist[s] = 0;
    queue[t++] = s;
    while (h < t) {
      uint64_t u = queue[h++];
      stack[top++] = u;
      for (uint64_t j = a.off[u]; j < a.off[u + 1]; j++) {
        uint64_t w = a.nbr[j];
        if (dist[w] < 0) {
          dist[w] = dist[u] + 1;
          queue[t++] = w;
        }
        if (dist[w] == dist[u] + 1) sigma[w] += sigma[u];
      }
    }
    while (top) { /* farthest first: every successor is done before u */
      uint64_t u = stack[--top];
      for (uint64_t j = a.off[u]; j < a.off[u + 1]; j++) {
        uint64_t w = a.nbr[j];
        if (dist[w] == dist[u] + 1)
          delta[u] += sigma[u] / sigma[w] * (1 + delta[w]);
      }
      if (u != s) bc[u] += delta[u];
    }
  }
  free(a.off);
  free(a.nbr);
  free(sigma);
  free(delta);
  free(dist);
  free(queue);
  free(stack);
}

/* The reference per local vertex of g. */
static void ref_by_vertex(const gasp_graph *g, const double *by_id,
                          double *out) {
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++)
    out[v] = by_id[(gasp_graph_gid(g, v) - 3) / 7];
}

static void assert_close(const double *got, const double *want, uint64_t n,
                         double tol, const char *what) {
  for (uint64_t v = 0; v < n; v++) {
    double d = fabs(got[v] - want[v]);
    if (!(d <= tol * (1 + fabs(want[v]))))
      fail_msg("%s: vertex %llu: %.17g, want %.17g", what,
               (unsigned long long)v, got[v], want[v]);
  }
}

/* ---- known graphs ------------------------------------------------------ */

static void check_known(const edges *e, int undirected, const double *want,
                        gasp_bc_norm norm, const char *what) {
  gasp_graph *g = build(e);
  gasp_vid n = gasp_graph_num_vertices(g);
  assert_int_equal(n, e->n);
  double *s = malloc(n * sizeof *s);
  for (int t = 1; t <= 3; t++) {
    gasp_bc_opts o;
    gasp_bc_opts_init(&o);
    o.engine.threads = t;
    o.undirected = undirected;
    o.norm = norm;
    gasp_run_stats st;
    assert_int_equal(gasp_bc(g, &o, s, &st, NULL), GASP_OK);
    assert_int_equal(st.reason, GASP_STOP_CONVERGED);
    assert_close(s, want, n, 1e-12, what);
  }
  free(s);
  gasp_graph_free(&g);
}

static void test_known(void **state) {
  (void)state;
  /* a path 0 -> 1 -> 2 -> 3 -> 4: v lies on i * (4 - i) ordered pairs */
  static const gasp_gid path[][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 4}};
  edges e = fixed_edges(5, path, 4);
  check_known(&e, 0, (double[]){0, 3, 4, 3, 0}, GASP_BC_NORM_NONE, "path");
  check_known(&e, 1, (double[]){0, 6, 8, 6, 0}, GASP_BC_NORM_NONE,
              "undirected path");
  check_known(&e, 1, (double[]){0, 0.75, 1, 0.75, 0}, GASP_BC_NORM_MAX,
              "path, max");
  /* networkx: path_graph(5), normalized: 6 / (4 * 3) = 0.5 */
  check_known(&e, 1, (double[]){0, 0.5, 8.0 / 12, 0.5, 0},
              GASP_BC_NORM_NETWORKX, "path, networkx");
  free_edges(&e);
  /* a star of 6 leaves around 0: the centre is on all 6 * 5 pairs */
  static const gasp_gid star[][2] = {{0, 1}, {2, 0}, {0, 3},
                                     {4, 0}, {0, 5}, {6, 0}};
  e = fixed_edges(7, star, 6);
  check_known(&e, 1, (double[]){30, 0, 0, 0, 0, 0, 0}, GASP_BC_NORM_NONE,
              "star");
  check_known(&e, 1, (double[]){1, 0, 0, 0, 0, 0, 0}, GASP_BC_NORM_NETWORKX,
              "star, networkx");
  free_edges(&e);
  /* a diamond 0 -> {1, 2} -> 3, 3 -> 4: two shortest paths from 0 to 3
   * and 4, each through 1 and 2 once */
  static const gasp_gid diamond[][2] = {{0, 1}, {0, 2}, {1, 3}, {2, 3},
                                        {3, 4}, {1, 3}, {2, 2}};
  e = fixed_edges(5, diamond, 7);
  check_known(&e, 0, (double[]){0, 1, 1, 3, 0}, GASP_BC_NORM_NONE, "diamond");
  free_edges(&e);
}

/* A path of 600 vertices from two sources: depths past 255 (where the
 * one-process loop leaves its byte depths for the vertex records).  From
 * s, v > s lies on the paths to the n - 1 - v vertices beyond it, and
 * (undirected) v < s on those to the v vertices before it. */
static void test_long_path(void **state) {
  (void)state;
  enum { N = 600 };
  gasp_gid(*st)[2] = malloc((N - 1) * sizeof *st);
  for (gasp_gid i = 0; i + 1 < N; i++)
    st[i][0] = i, st[i][1] = i + 1;
  edges e = fixed_edges(N, (const gasp_gid(*)[2])st, N - 1);
  gasp_graph *g = build(&e);
  double *s = malloc(N * sizeof *s);
  gasp_vid src[2] = {0, 40};
  for (int und = 0; und <= 1; und++)
    for (int t = 1; t <= 2; t++) {
      gasp_bc_opts o;
      gasp_bc_opts_init(&o);
      o.engine.threads = t;
      o.undirected = und;
      o.sources = src;
      o.num_sources = 2;
      assert_int_equal(gasp_bc(g, &o, s, NULL, NULL), GASP_OK);
      for (gasp_vid v = 0; v < N; v++) {
        double want = 0;
        for (int i = 0; i < 2; i++) {
          if (v > src[i]) want += N - 1 - v;
          if (und && v < src[i]) want += v;
        }
        if (s[v] != want)
          fail_msg("vertex %u: %.17g, want %.17g", v, s[v], want);
      }
    }
  free(s);
  free(st);
  gasp_graph_free(&g);
  free_edges(&e);
}

/* ---- random graphs against the reference ---------------------------- */

static const uint64_t sizes[][2] = {
    {150, 120}, {200, 400}, {200, 1500}, {300, 4000}, {60, 1800}};
#define NSIZES (sizeof sizes / sizeof *sizes)

static void test_random(void **state) {
  (void)state;
  for (size_t gi = 0; gi < NSIZES; gi++) {
    edges e = random_edges(sizes[gi][0], sizes[gi][1], 11 + gi);
    gasp_graph *g = build(&e);
    gasp_vid n = gasp_graph_num_vertices(g);
    double *by_id = malloc(e.n * sizeof *by_id);
    double *want = malloc(n * sizeof *want), *s = malloc(n * sizeof *s);
    double *first = malloc(n * sizeof *first);
    for (int und = 0; und <= 1; und++) {
      ref_bc(&e, und, NULL, 0, by_id);
      ref_by_vertex(g, by_id, want);
      int runs = 0;
      for (int t = 1; t <= 3; t++)
        for (int dir = 0; dir <= 2; dir++) {
          gasp_bc_opts o;
          gasp_bc_opts_init(&o);
          o.engine.threads = t;
          o.engine.direction = (gasp_direction)dir;
          o.undirected = und;
          gasp_run_stats st;
          assert_int_equal(gasp_bc(g, &o, s, &st, NULL), GASP_OK);
          char what[96];
          snprintf(what, sizeof what, "graph %zu, %s, %d threads, direction %d",
                   gi, und ? "undirected" : "directed", t, dir);
          assert_close(s, want, n, 1e-10, what);
          if (dir == GASP_DIRECTION_PULL) assert_true(st.pull_iterations > 0);
          /* the same bits for any threads and directions */
          if (runs++)
            assert_memory_equal(s, first, n * sizeof *s);
          else
            memcpy(first, s, n * sizeof *s);
        }
    }
    free(by_id);
    free(want);
    free(s);
    free(first);
    gasp_graph_free(&g);
    free_edges(&e);
  }
}

/* ---- sampled sources ---------------------------------------------------- */

static void test_sample(void **state) {
  (void)state;
  gasp_vid a[40], b[40], c[40];
  gasp_bc_sample(1000, 40, 5, a);
  gasp_bc_sample(1000, 40, 5, b);
  gasp_bc_sample(1000, 40, 6, c);
  assert_memory_equal(a, b, sizeof a);
  assert_memory_not_equal(a, c, sizeof a);
  for (int i = 0; i < 40; i++) {
    assert_true(a[i] < 1000);
    if (i) assert_true(a[i] > a[i - 1]);
  }
  gasp_bc_sample(5, 9, 1, a); /* k >= n: all of them */
  for (gasp_vid i = 0; i < 5; i++)
    assert_int_equal(a[i], i);
  /* uniform enough: the mean of many draws of 1 out of 10 */
  uint64_t sum = 0;
  for (uint64_t seed = 1; seed <= 2000; seed++) {
    gasp_bc_sample(10, 1, seed, a);
    sum += a[0];
  }
  assert_true(sum > 2000 * 4 && sum < 2000 * 5);
}

static void test_sampled(void **state) {
  (void)state;
  edges e = random_edges(300, 900, 3);
  gasp_graph *g = build(&e);
  gasp_vid n = gasp_graph_num_vertices(g);
  enum { K = 17 };
  gasp_vid src[K];
  uint64_t ids[K];
  gasp_bc_sample(n, K, 9, src);
  for (int i = 0; i < K; i++)
    ids[i] = (gasp_graph_gid(g, src[i]) - 3) / 7;
  double *by_id = malloc(e.n * sizeof *by_id), *want = malloc(n * 8);
  double *s = malloc(n * 8), *s2 = malloc(n * 8);
  for (int und = 0; und <= 1; und++) {
    ref_bc(&e, und, ids, K, by_id);
    ref_by_vertex(g, by_id, want);
    for (int t = 1; t <= 3; t++) {
      gasp_bc_opts o;
      gasp_bc_opts_init(&o);
      o.engine.threads = t;
      o.undirected = und;
      o.samples = K;
      o.seed = 9;
      assert_int_equal(gasp_bc(g, &o, s, NULL, NULL), GASP_OK);
      assert_close(s, want, n, 1e-10, "sampled");
      /* the same sources given, the same scores */
      o.samples = 0;
      o.sources = src;
      o.num_sources = K;
      assert_int_equal(gasp_bc(g, &o, s2, NULL, NULL), GASP_OK);
      assert_memory_equal(s, s2, n * sizeof *s);
      /* networkx's scaling from k sources */
      o.norm = GASP_BC_NORM_NETWORKX;
      assert_int_equal(gasp_bc(g, &o, s2, NULL, NULL), GASP_OK);
      for (gasp_vid v = 0; v < n; v++) {
        int is = 0;
        for (int i = 0; i < K; i++)
          is |= src[i] == v;
        double x = want[v] / ((double)(n - 2) * (is ? K - 1 : K));
        assert_true(fabs(s2[v] - x) <= 1e-12 * (1 + x));
      }
    }
  }
  /* another seed, other scores; a repeated source counts twice */
  gasp_bc_opts o;
  gasp_bc_opts_init(&o);
  o.samples = K;
  o.seed = 10;
  assert_int_equal(gasp_bc(g, &o, s2, NULL, NULL), GASP_OK);
  o.seed = 9;
  assert_int_equal(gasp_bc(g, &o, s, NULL, NULL), GASP_OK);
  assert_memory_not_equal(s, s2, n * sizeof *s);
  gasp_vid twice[2] = {src[0], src[0]}, once[1] = {src[0]};
  o.samples = 0;
  o.sources = twice;
  o.num_sources = 2;
  assert_int_equal(gasp_bc(g, &o, s, NULL, NULL), GASP_OK);
  o.sources = once;
  o.num_sources = 1;
  assert_int_equal(gasp_bc(g, &o, s2, NULL, NULL), GASP_OK);
  for (gasp_vid v = 0; v < n; v++)
    assert_true(s[v] == 2 * s2[v]);
  free(by_id);
  free(want);
  free(s);
  free(s2);
  gasp_graph_free(&g);
  free_edges(&e);
}

/* ---- errors and stopping ----------------------------------------------- */

static int stop_at(void *user, const gasp_iter_info *info) {
  return info->iteration >= *(uint64_t *)user;
}

static void test_errors(void **state) {
  (void)state;
  edges e = random_edges(100, 300, 4);
  gasp_graph *g = build(&e);
  gasp_vid n = gasp_graph_num_vertices(g);
  double *s = malloc(n * sizeof *s);
  gasp_bc_opts o;
  gasp_error err;
  gasp_bc_opts_init(&o);
  o.engine.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_bc(g, &o, s, NULL, &err), GASP_ENOTSUP);
  assert_non_null(strstr(err.msg, "sync engine"));
  gasp_bc_opts_init(&o);
  o.engine.staleness = 1;
  assert_int_equal(gasp_bc(g, &o, s, NULL, &err), GASP_ENOTSUP);
  gasp_bc_opts_init(&o);
  assert_int_equal(gasp_bc(g, &o, NULL, NULL, &err), GASP_EINVAL);
  assert_int_equal(gasp_bc(NULL, &o, s, NULL, &err), GASP_EINVAL);
  gasp_vid bad = n;
  o.sources = &bad;
  o.num_sources = 1;
  assert_int_equal(gasp_bc(g, &o, s, NULL, &err), GASP_EINVAL);
  assert_non_null(strstr(err.msg, "not a vertex"));
  gasp_bc_opts_init(&o);
  o.norm = (gasp_bc_norm)7;
  assert_int_equal(gasp_bc(g, &o, s, NULL, &err), GASP_EINVAL);
  /* stopped by the iteration callback: the sources finished count */
  gasp_bc_opts_init(&o);
  uint64_t at = 20;
  o.engine.on_iteration = stop_at;
  o.engine.on_iteration_user = &at;
  gasp_run_stats st;
  assert_int_equal(gasp_bc(g, &o, s, &st, &err), GASP_OK);
  assert_int_equal(st.reason, GASP_STOP_PROGRAM);
  assert_true(st.iterations >= 20 && st.iterations < 40);
  free(s);
  gasp_graph_free(&g);
  free_edges(&e);
}

/* ---- the command -------------------------------------------------------- */

/* Reads `gasp bc -o` output: n lines "id<TAB>score" in the order of g. */
static void read_scores(const char *path, const gasp_graph *g, double *s) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++) {
    unsigned long long id;
    assert_int_equal(fscanf(f, "%llu\t%lf", &id, &s[v]), 2);
    assert_int_equal(id, gasp_graph_gid(g, v));
  }
  int c;
  while ((c = fgetc(f)) == '\n') {
  }
  assert_int_equal(c, EOF);
  fclose(f);
}

static void test_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  edges e = random_edges(400, 1600, 21);
  char *dir = tu_mkdtemp();
  char *file = tu_path(dir, "g.el"), *outp = tu_path(dir, "out.tsv");
  char *trace = tu_path(dir, "trace.tsv");
  write_edges(file, &e);
  gasp_graph *g = build(&e);
  gasp_vid n = gasp_graph_num_vertices(g);
  double *lib = malloc(n * 8), *got = malloc(n * 8), *by_id = malloc(e.n * 8);
  double *want = malloc(n * 8);
  struct {
    const char *flags[4];
    int undirected;
    uint64_t samples;
  } cases[] = {{{NULL}, 0, 0},
               {{"--undirected", NULL}, 1, 0},
               {{"--samples", "25", "--seed", "4"}, 0, 25},
               {{"--samples", "30", "--undirected", NULL}, 1, 30}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    gasp_bc_opts o;
    gasp_bc_opts_init(&o);
    o.undirected = cases[c].undirected;
    o.samples = cases[c].samples;
    o.seed = cases[c].samples == 25 ? 4 : 1;
    assert_int_equal(gasp_bc(g, &o, lib, NULL, NULL), GASP_OK);
    if (!o.samples) {
      ref_bc(&e, o.undirected, NULL, 0, by_id);
      ref_by_vertex(g, by_id, want);
      assert_close(lib, want, n, 1e-10, "library");
    }
    for (int np = 1; np <= 3; np++) {
      char nps[8];
      snprintf(nps, sizeof nps, "%d", np);
      const char *args[24] = {"bc",     "-i",   file, "-o",      outp,
                              "--json", "--np", nps,  "--trace", trace};
      int k = 10;
      for (int f = 0; f < 4 && cases[c].flags[f]; f++)
        args[k++] = cases[c].flags[f];
      args[k] = NULL;
      tu_result r = tu_gasp_runv(args);
      if (r.status != 0) fail_msg("bc exited %d: %s", r.status, r.err);
      assert_true(tu_json_num(r.out, "vertices") == n);
      assert_true(tu_json_num(r.out, "sources") ==
                  (cases[c].samples ? cases[c].samples : n));
      assert_true(tu_json_num(r.out, "ranks") == np);
      tu_result_free(&r);
      read_scores(outp, g, got);
      char what[64];
      snprintf(what, sizeof what, "case %zu, %d ranks", c, np);
      if (np == 1) /* printed with every digit: the call's bits */
        assert_memory_equal(got, lib, n * sizeof *got);
      else /* sums over another order of neighbours */
        assert_close(got, lib, n, 1e-12, what);
      char *t = tu_read_file(trace, NULL);
      assert_non_null(t);
      assert_true(strlen(t) > 0);
      free(t);
    }
  }
  /* --sources by file id, --top and --normalize */
  char list[64];
  snprintf(list, sizeof list, "%llu,%llu", (unsigned long long)e.s[0],
           (unsigned long long)e.t[5]);
  const char *srcs[] = {"bc",        "-i",      file,          "-o",  outp,
                        "--sources", list,      "--normalize", "max", "--top",
                        "3",         "--quiet", NULL};
  tu_result r = tu_gasp_runv(srcs);
  assert_int_equal(r.status, 0);
  int lines = 0;
  for (const char *p = r.out; *p; p++)
    lines += *p == '\n';
  assert_int_equal(lines, 3);
  assert_non_null(strstr(r.out, "\t1\n")); /* the largest, scaled to 1 */
  tu_result_free(&r);
  read_scores(outp, g, got);
  gasp_vid sv[2];
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, e.s[0], &sv[0]), 0);
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, e.t[5], &sv[1]), 0);
  gasp_bc_opts o;
  gasp_bc_opts_init(&o);
  o.sources = sv;
  o.num_sources = 2;
  o.norm = GASP_BC_NORM_MAX;
  assert_int_equal(gasp_bc(g, &o, lib, NULL, NULL), GASP_OK);
  assert_memory_equal(got, lib, n * sizeof *got);
  /* refusals: exit 2 and one line */
  const char *async[] = {"bc", "-i", file, "--engine", "async", NULL};
  const char *maxit[] = {"bc", "-i", file, "--max-iter", "3", NULL};
  const char *tol[] = {"bc", "-i", file, "--tol", "0.1", NULL};
  const char *wt[] = {"bc", "-i", file, "--weighted", NULL};
  const char *zero[] = {"bc", "-i", file, "--samples", "0", NULL};
  const char *both[] = {"bc", "-i",        file, "--samples",
                        "3",  "--sources", "3",  NULL};
  const char *unknown[] = {"bc", "-i", file, "--sources", "3,5", NULL};
  const char *norm[] = {"bc", "-i", file, "--normalize", "half", NULL};
  const char *stale[] = {"bc", "-i",          file, "--np",
                         "2",  "--staleness", "1",  NULL};
  const char **bad[] = {async, maxit,   tol,  wt,   zero,
                        both,  unknown, norm, stale};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    tu_result rr = tu_gasp_runv(bad[i]);
    if (rr.status != 2)
      fail_msg("case %zu exited %d: %s", i, rr.status, rr.err);
    assert_true(strncmp(rr.err, "gasp: ", 6) == 0);
    tu_result_free(&rr);
  }
  free(lib);
  free(got);
  free(by_id);
  free(want);
  free(file);
  free(outp);
  free(trace);
  tu_rmtree(dir);
  gasp_graph_free(&g);
  free_edges(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known),   cmocka_unit_test(test_long_path),
      cmocka_unit_test(test_random),  cmocka_unit_test(test_sample),
      cmocka_unit_test(test_sampled), cmocka_unit_test(test_errors),
      cmocka_unit_test(test_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
