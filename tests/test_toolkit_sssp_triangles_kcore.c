/*
 * test_toolkit_sssp_triangles_kcore.c -- `gasp sssp`, `gasp triangles` and `gasp kcore`,
 * run as separate processes on graphs written to a temporary directory
 * and checked against independent references written here:
 *
 *  sssp       Dijkstra with a binary heap, on random weighted graphs with
 *             unreachable vertices, directed and undirected, sync and
 *             async engines under every consistency model; distances must
 *             agree exactly;
 *  triangles  brute-force enumeration of vertex triples (small graphs
 *             with repeated edges and self loops), total and per vertex,
 *             in one process and across ranks; across 1 to 4 ranks
 *             (METIS, hash, partition files) the summary figures and
 *             the per-vertex file must equal one process's exactly;
 *  kcore      peeling (repeatedly remove a vertex of least degree).
 *
 * With $GASP_SRCDIR/../shared/data/graphs present, the published SNAP
 * triangle counts (CA-GrQc 48260, Wiki-Vote 608389) and peeling on those
 * graphs are checked too.  The binary comes from $GASP_BIN.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "gasp.h"
#include "testutil.h"

#define COUNT(a) (sizeof(a) / sizeof *(a))
#define ID(i) (3 * (uint64_t)(i) + 5) /* original id of index i */

static int setup(void **state) {
  *state = tu_mkdtemp();
  return 0;
}

static int teardown(void **state) {
  tu_rmtree(*state);
  return 0;
}

/* A graph on n vertices (ids ID(i)): edges as index pairs and weights. */
typedef struct graph {
  int n, m;
  int *s, *d;
  double *w;
} graph;

static void graph_free(graph *g) {
  free(g->s);
  free(g->d);
  free(g->w);
}

/* Writes "src dst [weight]" lines; weights with %.17g. */
static char *graph_write(void **state, const char *name, const graph *g,
                         int weighted) {
  size_t cap = (size_t)g->m * 64 + 64, len = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  len += (size_t)snprintf(buf, cap, "# test graph\n");
  for (int i = 0; i < g->m; i++) {
    len += (size_t)snprintf(buf + len, cap - len, "%llu\t%llu",
                            (unsigned long long)ID(g->s[i]),
                            (unsigned long long)ID(g->d[i]));
    if (weighted)
      len += (size_t)snprintf(buf + len, cap - len, "\t%.17g", g->w[i]);
    buf[len++] = '\n';
  }
  char *p = tu_path(*state, name);
  tu_write_bytes(p, buf, len);
  free(buf);
  return p;
}

/* Random multigraph: m edges among the first n - 4 vertices (so the last
 * four sit apart: two joined to each other, two with self loops only),
 * with repeats and self loops, and every vertex present. */
static void graph_random(graph *g, tu_rng *r, int n, int m) {
  g->n = n;
  g->m = m + n + 2;
  g->s = malloc((size_t)g->m * sizeof *g->s);
  g->d = malloc((size_t)g->m * sizeof *g->d);
  g->w = malloc((size_t)g->m * sizeof *g->w);
  assert_true(g->s && g->d && g->w);
  int k = 0, core = n - 4;
  for (int i = 0; i < m; i++, k++) {
    g->s[k] = (int)tu_below(r, (uint64_t)core);
    g->d[k] = tu_below(r, 10) == 0 ? g->s[k] : (int)tu_below(r, (uint64_t)core);
    if (i > 0 && tu_below(r, 8) == 0) { /* a repeat, maybe reversed */
      int j = (int)tu_below(r, (uint64_t)i);
      g->s[k] = tu_below(r, 2) ? g->s[j] : g->d[j];
      g->d[k] = g->s[k] == g->s[j] ? g->d[j] : g->s[j];
    }
  }
  for (int v = 0; v < n; v++, k++)
    g->s[k] = g->d[k] = v; /* presence */
  g->s[k] = n - 4, g->d[k++] = n - 3;
  g->s[k] = n - 3, g->d[k++] = n - 4;
  for (int i = 0; i < g->m; i++) {
    uint64_t c = tu_below(r, 4);
    g->w[i] = c == 0   ? (double)tu_below(r, 10)
              : c == 1 ? 0.1 * (double)tu_below(r, 30)
              : c == 2 ? 0.0
                       : (double)tu_below(r, 1u << 20) / 7919.0;
  }
}

/* ---- sssp ------------------------------------------------------------ */

typedef struct heap_item {
  double d;
  int v;
} heap_item;

/* Dijkstra with a binary heap (lazy deletion). */
static void dijkstra(const graph *g, int src, int directed, int weighted,
                     double *dist) {
  int n = g->n, ne = directed ? g->m : 2 * g->m;
  int *off = calloc((size_t)n + 1, sizeof *off),
      *to = malloc((size_t)ne * sizeof *to);
  double *wt = malloc((size_t)ne * sizeof *wt);
  heap_item *h = malloc(((size_t)ne + 1) * sizeof *h);
  assert_true(off && to && wt && h);
  for (int i = 0; i < g->m; i++) {
    off[g->s[i] + 1]++;
    if (!directed) off[g->d[i] + 1]++;
  }
  for (int v = 0; v < n; v++)
    off[v + 1] += off[v];
  int *pos = malloc((size_t)n * sizeof *pos);
  assert_non_null(pos);
  memcpy(pos, off, (size_t)n * sizeof *pos);
  for (int i = 0; i < g->m; i++) {
    double w = weighted ? g->w[i] : 1.0;
    to[pos[g->s[i]]] = g->d[i], wt[pos[g->s[i]]++] = w;
    if (!directed) to[pos[g->d[i]]] = g->s[i], wt[pos[g->d[i]]++] = w;
  }
  for (int v = 0; v < n; v++)
    dist[v] = INFINITY;
  int hn = 0;
  dist[src] = 0;
  h[hn++] = (heap_item){0, src};
  while (hn) {
    heap_item top = h[0];
    h[0] = h[--hn];
    for (int i = 0;;) { /* sift down */
      int c = 2 * i + 1;
      if (c >= hn) break;
      if (c + 1 < hn && h[c + 1].d < h[c].d) c++;
      if (!(h[c].d < h[i].d)) break;
      heap_item t = h[c];
      h[c] = h[i], h[i] = t, i = c;
    }
    if (top.d > dist[top.v]) continue;
    for (int j = off[top.v]; j < off[top.v + 1]; j++) {
      double nd = top.d + wt[j];
      if (!(nd < dist[to[j]])) continue;
      dist[to[j]] = nd;
      int i = hn++;
      h[i] = (heap_item){nd, to[j]};
      while (i > 0 && h[(i - 1) / 2].d > h[i].d) { /* sift up */
        heap_item t = h[(i - 1) / 2];
        h[(i - 1) / 2] = h[i], h[i] = t, i = (i - 1) / 2;
      }
    }
  }
  free(off), free(to), free(wt), free(h), free(pos);
}

/* Parses "id<TAB>value" lines (one per vertex, ascending ids) into
 * val[index]; "inf" reads as infinity. */
static void parse_values(const char *text, int n, double *val) {
  const char *p = text;
  for (int i = 0; i < n; i++) {
    char *e;
    unsigned long long id = strtoull(p, &e, 10);
    if (e == p || *e != '\t' || id != ID(i))
      fail_msg("line %d: want id %llu: '%.40s'", i, (unsigned long long)ID(i),
               p);
    p = e + 1;
    if (strncmp(p, "inf\n", 4) == 0) {
      val[i] = INFINITY;
      p += 4;
      continue;
    }
    val[i] = strtod(p, &e);
    if (e == p || *e != '\n') fail_msg("line %d: bad value '%.40s'", i, p);
    p = e + 1;
  }
  if (*p) fail_msg("extra output: '%.40s'", p);
}

static const char *engines[][8] = {
    {"--engine", "sync", NULL},
    {"--engine", "async", NULL},
    {"--engine", "async", "--consistency", "vertex", NULL},
    {"--engine", "async", "--consistency", "edge", "--locking", "locks", NULL},
    {"--engine", "async", "--consistency", "full", NULL},
    {"--engine", "async", "--scheduler", "fifo", "--consistency", "edge", NULL},
    {"--engine", "async", "--scheduler", "sweep", NULL},
};

/* And across ranks, METIS and hash, for the toolkits that run so: sync,
 * async (chromatic) and bounded staleness reach the same answers. */
static const char *dist[][10] = {
    {"--engine", "sync", "--np", "2", NULL},
    {"--engine", "sync", "--np", "3", "--partition", "hash", NULL},
    {"--engine", "async", "--np", "2", NULL}, /* chromatic across ranks */
    {"--engine", "sync", "--np", "3", "--staleness", "2", NULL},
    {"--engine", "sync", "--np", "2", "--staleness", "6", "--partition", "hash",
     NULL},
};
/* the first of them step in lock step (for toolkits that need it) */
#define DIST_LOCKSTEP 3

/* Runs `tool` with args + engine flags + "-o out", parses the values. */
static void run_values(void **state, const char **args, const char **eng, int n,
                       double *val) {
  const char *argv[40];
  int k = 0;
  for (; args[k]; k++)
    argv[k] = args[k];
  for (int i = 0; eng[i]; i++)
    argv[k++] = eng[i];
  char *out = tu_path(*state, "values.out");
  argv[k++] = "-o", argv[k++] = out, argv[k++] = "-t", argv[k++] = "4";
  argv[k++] = "--quiet", argv[k] = NULL;
  tu_result r = tu_gasp_runv(argv);
  if (r.status != 0)
    fail_msg("%s %s: exit %d: %s", args[0], eng[1], r.status, r.err);
  assert_string_equal(r.err, "");
  char *text = tu_read_file(out, NULL);
  assert_non_null(text);
  parse_values(text, n, val);
  free(text);
  free(out);
  tu_result_free(&r);
}

static void check_sssp(void **state, const graph *g, const char *file, int src,
                       int directed, int weighted) {
  double *want = malloc((size_t)g->n * sizeof *want),
         *got = malloc((size_t)g->n * sizeof *got);
  assert_true(want && got);
  dijkstra(g, src, directed, weighted, want);
  char id[32];
  snprintf(id, sizeof id, "%llu", (unsigned long long)ID(src));
  const char *args[] = {
      "sssp", "-i", file, "--source", id, directed ? "--directed" : NULL, NULL};
  for (size_t e = 0; e < COUNT(engines) + COUNT(dist); e++) {
    const char **eng =
        e < COUNT(engines) ? engines[e] : dist[e - COUNT(engines)];
    run_values(state, args, eng, g->n, got);
    for (int v = 0; v < g->n; v++)
      if (!(got[v] == want[v]))
        fail_msg("%s %s directed=%d: vertex %llu: got %.17g, want %.17g",
                 eng[1], eng[3] ? eng[3] : "", directed,
                 (unsigned long long)ID(v), got[v], want[v]);
  }
  free(want);
  free(got);
}

static void test_sssp_random(void **state) {
  TU_NEED_BIN();
  tu_rng r = {42};
  for (int round = 0; round < 4; round++) {
    graph g;
    graph_random(&g, &r, 40 + 30 * round, 80 + 90 * round);
    int weighted = round != 1;
    char *file = graph_write(state, "g.txt", &g, weighted);
    int src = (int)tu_below(&r, (uint64_t)g.n - 4);
    check_sssp(state, &g, file, src, round & 1, weighted);
    check_sssp(state, &g, file, src, !(round & 1), weighted);
    graph_free(&g);
    free(file);
  }
}

static void test_sssp_json_and_errors(void **state) {
  TU_NEED_BIN();
  char *p = tu_path(*state, "w.txt");
  tu_write_str(p, "1 2 0.5\n2 3 2\n3 1 1\n7 8 1\n");
  const char *a1[] = {"sssp", "--json", "--quiet", "--source", "1", p, NULL};
  tu_result r = tu_gasp_runv(a1);
  assert_int_equal(r.status, 0);
  assert_int_equal(tu_json_num(r.out, "reachable"), 3);
  assert_true(tu_json_num(r.out, "max_distance") == 1.0);
  assert_true(tu_contains(r.out, "\"toolkit\":\"sssp\""));
  assert_true(tu_json_num(r.out, "iterations") >= 1);
  tu_result_free(&r);
  const char *a2[] = {"sssp", "--quiet", "--source", "1", "--directed",
                      "-o",   "-",       p,          NULL};
  r = tu_gasp_runv(a2);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "1\t0\n2\t0.5\n3\t2.5\n7\tinf\n8\tinf\n");
  tu_result_free(&r);
  /* unknown source, missing source, negative and NaN weights: exit 2 */
  const char *a3[] = {"sssp", "--quiet", "--source", "12345", p, NULL};
  r = tu_gasp_runv(a3);
  assert_int_equal(r.status, 2);
  assert_string_equal(r.err, "gasp: --source: unknown vertex id 12345\n");
  tu_result_free(&r);
  const char *a4[] = {"sssp", p, NULL};
  r = tu_gasp_runv(a4);
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  tu_write_str(p, "1 2 0.5\n2 3 -2\n");
  const char *a5[] = {"sssp", "--quiet", "--source", "1", p, NULL};
  r = tu_gasp_runv(a5);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "non-negative"));
  tu_result_free(&r);
  tu_write_str(p, "1 2 0.5\n2 3 nan\n");
  r = tu_gasp_runv(a5);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "gasp: "));
  tu_result_free(&r);
  free(p);
}

/* ---- triangles and k-core references ------------------------------- */

/* Symmetric 0/1 adjacency matrix without loops or repeats. */
static unsigned char *adjacency(const graph *g) {
  unsigned char *a = calloc((size_t)g->n * (size_t)g->n, 1);
  assert_non_null(a);
  for (int i = 0; i < g->m; i++)
    if (g->s[i] != g->d[i])
      a[g->s[i] * g->n + g->d[i]] = a[g->d[i] * g->n + g->s[i]] = 1;
  return a;
}

static uint64_t brute_triangles(const graph *g, uint64_t *per) {
  unsigned char *a = adjacency(g);
  int n = g->n;
  uint64_t t = 0;
  memset(per, 0, (size_t)n * sizeof *per);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (a[i * n + j])
        for (int k = j + 1; k < n; k++)
          if (a[i * n + k] && a[j * n + k]) t++, per[i]++, per[j]++, per[k]++;
  free(a);
  return t;
}

/* Core numbers by peeling a least-degree vertex at a time (O(n^2)). */
static void peel(int n, const unsigned char *a, uint32_t *core) {
  int *deg = calloc((size_t)n, sizeof *deg);
  unsigned char *gone = calloc((size_t)n, 1);
  assert_true(deg && gone);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      deg[i] += a[(size_t)i * n + j];
  int k = 0;
  for (int step = 0; step < n; step++) {
    int best = -1;
    for (int v = 0; v < n; v++)
      if (!gone[v] && (best < 0 || deg[v] < deg[best])) best = v;
    if (deg[best] > k) k = deg[best];
    core[best] = (uint32_t)k;
    gone[best] = 1;
    for (int u = 0; u < n; u++)
      if (a[(size_t)best * n + u]) deg[u]--;
  }
  free(deg);
  free(gone);
}

static void test_triangles_random(void **state) {
  TU_NEED_BIN();
  tu_rng r = {7};
  for (int round = 0; round < 5; round++) {
    graph g;
    int n = 12 + 10 * round;
    graph_random(&g, &r, n, round == 4 ? n * n : 3 * n * (round + 1));
    char *file = graph_write(state, "t.txt", &g, 0);
    uint64_t *per = malloc((size_t)n * sizeof *per);
    double *got = malloc((size_t)n * sizeof *got);
    assert_true(per && got);
    uint64_t want = brute_triangles(&g, per);
    const char *args[] = {"triangles", "-i", file, NULL};
    for (size_t e = 0; e < 3 + DIST_LOCKSTEP; e++) {
      const char **eng = e < 3 ? engines[e] : dist[e - 3];
      run_values(state, args, eng, n, got);
      for (int v = 0; v < n; v++)
        if (got[v] != (double)per[v])
          fail_msg("round %d %s %s: vertex %d: %g triangles, want %llu", round,
                   eng[1], eng[3] ? eng[3] : "", v, got[v],
                   (unsigned long long)per[v]);
    }
    const char *j[] = {"triangles", "--json", "--quiet", file, NULL};
    tu_result res = tu_gasp_runv(j);
    assert_int_equal(res.status, 0);
    assert_true(tu_contains(res.out, "\"toolkit\":\"triangles\""));
    if (tu_json_num(res.out, "triangles") != (double)want)
      fail_msg("round %d: %s, want %llu", round, res.out,
               (unsigned long long)want);
    tu_result_free(&res);
    /* --per-vertex prints the counts on stdout */
    const char *pv[] = {"triangles", "--per-vertex", "--quiet", file, NULL};
    res = tu_gasp_runv(pv);
    assert_int_equal(res.status, 0);
    parse_values(res.out, n, got);
    for (int v = 0; v < n; v++)
      assert_true(got[v] == (double)per[v]);
    tu_result_free(&res);
    free(per), free(got), free(file);
    graph_free(&g);
  }
}

/* Runs triangles on file with extra flags, -o out, --json and --quiet;
 * returns the JSON text (malloc'd). */
static char *triangles_json(const char *file, const char *out,
                            const char *const *extra) {
  const char *argv[32];
  int k = 0;
  argv[k++] = "triangles", argv[k++] = "-i", argv[k++] = file;
  for (; *extra; extra++)
    argv[k++] = *extra;
  argv[k++] = "-o", argv[k++] = out, argv[k++] = "--json";
  argv[k++] = "--quiet", argv[k] = NULL;
  tu_result r = tu_gasp_runv(argv);
  if (r.status != 0)
    fail_msg("triangles %s: exit %d: %s", file, r.status, r.err);
  char *json = r.out;
  r.out = NULL;
  tu_result_free(&r);
  return json;
}

/* Across ranks: exactly the figures and the per-vertex file of one
 * process, whatever the ranks, partitioner, threads or partition files. */
static void check_triangles_dist(void **state, const char *file) {
  static const char *runs[][8] = {
      {"--np", "1", NULL},
      {"--np", "2", NULL},
      {"--np", "4", NULL},
      {"--np", "2", "--partition", "hash", NULL},
      {"--np", "4", "--partition", "hash", NULL},
      {"--np", "3", "--partition", "hash", "-t", "1", NULL},
  };
  static const char *keys[] = {"vertices",      "edges",  "undirected_edges",
                               "triangles",     "wedges", "transitivity",
                               "max_per_vertex"};
  char *ref_out = tu_path(*state, "tri1.out"),
       *out = tu_path(*state, "triN.out");
  const char *one_process[] = {NULL};
  char *ref = triangles_json(file, ref_out, one_process);
  char *want = tu_read_file(ref_out, NULL);
  assert_non_null(want);
  assert_true(tu_json_num(ref, "triangles") > 0);
  for (size_t i = 0; i < COUNT(runs) + 1; i++) {
    char *json;
    if (i < COUNT(runs)) {
      json = triangles_json(file, out, runs[i]);
    } else { /* partition files, each rank reading its own */
      char *prefix = tu_path(*state, "parts");
      const char *pa[] = {"partition", "-i",   file,      "--parts", "3",
                          "-o",        prefix, "--quiet", NULL};
      tu_result r = tu_gasp_runv(pa);
      assert_int_equal(r.status, 0);
      tu_result_free(&r);
      const char *fa[] = {
          "triangles", "--partitions", prefix,    "--np", "3", "-o",
          out,         "--json",       "--quiet", NULL};
      r = tu_gasp_runv(fa);
      if (r.status != 0) fail_msg("--partitions: exit %d: %s", r.status, r.err);
      json = r.out;
      r.out = NULL;
      tu_result_free(&r);
      free(prefix);
    }
    const char *what = i < COUNT(runs) ? runs[i][1] : "partition files";
    for (size_t k = 0; k < COUNT(keys); k++) {
      if (i == COUNT(runs) && !strcmp(keys[k], "edges")) continue;
      if (tu_json_num(json, keys[k]) != tu_json_num(ref, keys[k]))
        fail_msg("%s --np %s %s: %s %s, one process %s", file, what,
                 i < COUNT(runs) && runs[i][2] ? runs[i][3] : "", keys[k], json,
                 ref);
    }
    if (i > 0 && i < COUNT(runs))
      assert_true(tu_json_num(json, "ranks") == atof(runs[i][1]));
    char *got = tu_read_file(out, NULL);
    assert_non_null(got);
    if (strcmp(got, want))
      fail_msg("%s --np %s: the per-vertex file differs from one process's",
               file, what);
    free(got);
    free(json);
  }
  /* --per-vertex to stdout: rank 0 alone writes it */
  const char *pv1[] = {"triangles",    "-i",      file,
                       "--per-vertex", "--quiet", NULL};
  const char *pv4[] = {"triangles", "-i",   file, "--per-vertex",
                       "--quiet",   "--np", "4",  NULL};
  tu_result a = tu_gasp_runv(pv1), b = tu_gasp_runv(pv4);
  assert_int_equal(a.status, 0);
  assert_int_equal(b.status, 0);
  assert_string_equal(a.out, want);
  assert_string_equal(b.out, want);
  tu_result_free(&a);
  tu_result_free(&b);
  free(want), free(ref), free(ref_out), free(out);
}

static void test_triangles_distributed(void **state) {
  TU_NEED_BIN();
  /* a multigraph with repeated (also reversed) edges and self loops,
   * against brute force too */
  tu_rng r = {2024};
  graph g;
  int n = 400;
  graph_random(&g, &r, n, 9000);
  char *file = graph_write(state, "multi.txt", &g, 0);
  uint64_t *per = malloc((size_t)n * sizeof *per);
  assert_non_null(per);
  uint64_t want = brute_triangles(&g, per);
  check_triangles_dist(state, file);
  const char *j[] = {"triangles", "-i",     file,      "--np",
                     "3",         "--json", "--quiet", NULL};
  tu_result res = tu_gasp_runv(j);
  assert_int_equal(res.status, 0);
  if (tu_json_num(res.out, "triangles") != (double)want)
    fail_msg("multigraph: %s, want %llu", res.out, (unsigned long long)want);
  tu_result_free(&res);
  free(per), free(file);
  graph_free(&g);
  /* a skewed Kronecker graph: hubs are ghosts on every rank */
  char *kron = tu_path(*state, "kron.el");
  const char *gen[] = {"generate",      "kronecker", "--scale", "11",
                       "--edge-factor", "12",        "-o",      kron,
                       "--quiet",       NULL};
  res = tu_gasp_runv(gen);
  assert_int_equal(res.status, 0);
  tu_result_free(&res);
  check_triangles_dist(state, kron);
  free(kron);
  /* the bundled sample */
  const char *src = getenv("GASP_SRCDIR");
  if (src && *src) {
    char *sample = tu_path(src, "data/sample.el");
    if (tu_exists(sample)) check_triangles_dist(state, sample);
    free(sample);
  }
}

static void test_kcore_random(void **state) {
  TU_NEED_BIN();
  tu_rng r = {99};
  for (int round = 0; round < 5; round++) {
    graph g;
    int n = 15 + 12 * round;
    graph_random(&g, &r, n, (round + 1) * 2 * n);
    char *file = graph_write(state, "k.txt", &g, 0);
    unsigned char *a = adjacency(&g);
    uint32_t *want = malloc((size_t)n * sizeof *want), kmax = 0;
    double *got = malloc((size_t)n * sizeof *got);
    assert_true(want && got);
    peel(n, a, want);
    for (int v = 0; v < n; v++)
      kmax = want[v] > kmax ? want[v] : kmax;
    const char *args[] = {"kcore", "-i", file, NULL};
    for (size_t e = 0; e < COUNT(engines) + COUNT(dist); e++) {
      const char **eng =
          e < COUNT(engines) ? engines[e] : dist[e - COUNT(engines)];
      run_values(state, args, eng, n, got);
      for (int v = 0; v < n; v++)
        if (got[v] != (double)want[v])
          fail_msg("round %d %s %s: vertex %d: core %g, want %u", round, eng[1],
                   eng[3] ? eng[3] : "", v, got[v], want[v]);
    }
    const char *j[] = {"kcore", "--json", "--quiet", file, NULL};
    tu_result res = tu_gasp_runv(j);
    assert_int_equal(res.status, 0);
    assert_int_equal(tu_json_num(res.out, "degeneracy"), kmax);
    tu_result_free(&res);
    free(a), free(want), free(got), free(file);
    graph_free(&g);
  }
}

/* A clique of 6 with a pendant path: cores 5 and 1, 20 triangles. */
static void test_small_cases(void **state) {
  TU_NEED_BIN();
  char text[512] = "";
  for (int i = 1; i <= 6; i++)
    for (int j = i + 1; j <= 6; j++)
      snprintf(text + strlen(text), sizeof text - strlen(text),
               "%d %d\n%d %d\n", i, j, j, i);
  strcat(text, "6 7\n7 8\n8 8\n9 9\n");
  char *p = tu_path(*state, "c.txt");
  tu_write_str(p, text);
  const char *a1[] = {"kcore", "--quiet", "-o", "-", p, NULL};
  tu_result r = tu_gasp_runv(a1);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out,
                      "1\t5\n2\t5\n3\t5\n4\t5\n5\t5\n6\t5\n7\t1\n8\t1\n9\t0\n");
  tu_result_free(&r);
  const char *a2[] = {"triangles", "--quiet", "--per-vertex", p, NULL};
  r = tu_gasp_runv(a2);
  assert_int_equal(r.status, 0);
  assert_string_equal(
      r.out, "1\t10\n2\t10\n3\t10\n4\t10\n5\t10\n6\t10\n7\t0\n8\t0\n9\t0\n");
  tu_result_free(&r);
  const char *a3[] = {"triangles", p, NULL};
  r = tu_gasp_runv(a3);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.out, "");
  assert_true(tu_contains(r.err, "20 triangles"));
  tu_result_free(&r);
  free(p);
}

/* ---- SNAP data sets ------------------------------------------------ */

static void test_snap(void **state) {
  (void)state;
  TU_NEED_BIN();
  const char *src = getenv("GASP_SRCDIR");
  if (!src || !*src) skip();
  static const struct {
    const char *file;
    double triangles;
  } sets[] = {{"CA-GrQc.txt", 48260}, {"Wiki-Vote.txt", 608389}};
  int ran = 0;
  for (size_t i = 0; i < COUNT(sets); i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/../shared/data/graphs/%s", src,
             sets[i].file);
    if (!tu_exists(path)) continue;
    ran++;
    const char *a[] = {"triangles", "--json", "--quiet", path, NULL};
    tu_result r = tu_gasp_runv(a);
    assert_int_equal(r.status, 0);
    if (tu_json_num(r.out, "triangles") != sets[i].triangles)
      fail_msg("%s: %s, want %.0f triangles", sets[i].file, r.out,
               sets[i].triangles);
    tu_result_free(&r);
    /* core numbers against peeling of the same graph */
    gasp_graph *g = NULL;
    assert_int_equal(gasp_graph_load(&g, path, NULL, NULL), GASP_OK);
    int n = (int)gasp_graph_num_vertices(g);
    unsigned char *adj = calloc((size_t)n * (size_t)n, 1);
    uint32_t *want = malloc((size_t)n * sizeof *want);
    assert_true(adj && want);
    gasp_adjacency out;
    gasp_graph_out_edges(g, &out);
    for (int v = 0; v < n; v++)
      for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++)
        if ((int)out.nbr[j] != v)
          adj[(size_t)v * n + out.nbr[j]] = adj[(size_t)out.nbr[j] * n + v] = 1;
    peel(n, adj, want);
    char *o = tu_path(*state, "core.out");
    const char *k[] = {"kcore", "--quiet", "-o", o, path, NULL};
    r = tu_gasp_runv(k);
    assert_int_equal(r.status, 0);
    char *text = tu_read_file(o, NULL), *p = text;
    for (int v = 0; v < n; v++) {
      char *e;
      unsigned long long id = strtoull(p, &e, 10);
      assert_int_equal(id, gasp_graph_gid(g, (gasp_vid)v));
      unsigned long c = strtoul(e + 1, &p, 10);
      if (c != want[v])
        fail_msg("%s: vertex %llu: core %lu, want %u", sets[i].file, id, c,
                 want[v]);
      p++;
    }
    tu_result_free(&r);
    free(text), free(o), free(adj), free(want);
    gasp_graph_free(&g);
  }
  if (!ran) skip();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sssp_random),
      cmocka_unit_test(test_sssp_json_and_errors),
      cmocka_unit_test(test_triangles_random),
      cmocka_unit_test(test_triangles_distributed),
      cmocka_unit_test(test_kcore_random),
      cmocka_unit_test(test_small_cases),
      cmocka_unit_test(test_snap),
  };
  return cmocka_run_group_tests_name("toolkits_b", tests, setup, teardown);
}
