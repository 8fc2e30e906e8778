/*
 * test_toolkit_pagerank.c -- `gasp pagerank` against a dense power
 * iteration written here with the networkx convention (dangling mass spread
 * over the teleport distribution, ranks summing to 1): random graphs with
 * dangling vertices and sparse ids, the sync engine and the async engine
 * under every consistency model and scheduler, personalised PageRank,
 * --top, --json, and the shared SNAP graphs (L1 distance below 1e-8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

typedef struct ref_graph {
  uint64_t n;    /* vertices, indexed by rank of id */
  uint64_t *ids; /* sorted original ids */
  uint64_t m;
  uint64_t *src, *dst; /* dense indexes */
} ref_graph;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static uint64_t index_of(const ref_graph *g, uint64_t id) {
  uint64_t *p = bsearch(&id, g->ids, g->n, sizeof id, cmp_u64);
  assert_non_null(p);
  return (uint64_t)(p - g->ids);
}

/* Reads "src dst" lines (skipping # comments) into a reference graph. */
static ref_graph read_edges(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  ref_graph g = {0};
  uint64_t cap = 1024;
  uint64_t *raw = malloc(2 * cap * sizeof *raw);
  char line[256];
  while (fgets(line, sizeof line, f)) {
    unsigned long long a, b;
    if (line[0] == '#' || sscanf(line, "%llu %llu", &a, &b) != 2) continue;
    if (g.m == cap) {
      cap *= 2;
      raw = realloc(raw, 2 * cap * sizeof *raw);
    }
    raw[2 * g.m] = a;
    raw[2 * g.m + 1] = b;
    g.m++;
  }
  fclose(f);
  g.ids = malloc(2 * g.m * sizeof *g.ids);
  memcpy(g.ids, raw, 2 * g.m * sizeof *g.ids);
  qsort(g.ids, 2 * g.m, sizeof *g.ids, cmp_u64);
  for (uint64_t i = 0; i < 2 * g.m; i++)
    if (g.n == 0 || g.ids[g.n - 1] != g.ids[i]) g.ids[g.n++] = g.ids[i];
  g.src = malloc(g.m * sizeof *g.src);
  g.dst = malloc(g.m * sizeof *g.dst);
  for (uint64_t i = 0; i < g.m; i++) {
    g.src[i] = index_of(&g, raw[2 * i]);
    g.dst[i] = index_of(&g, raw[2 * i + 1]);
  }
  free(raw);
  return g;
}

static void ref_free(ref_graph *g) {
  free(g->ids);
  free(g->src);
  free(g->dst);
}

/* Power iteration: x = (1-d) p + d (A x + D p), to an L1 change < 1e-15. */
static double *ref_pagerank(const ref_graph *g, double d, const double *p) {
  uint64_t n = g->n;
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  uint64_t *deg = calloc(n, sizeof *deg);
  for (uint64_t i = 0; i < g->m; i++)
    deg[g->src[i]]++;
  for (uint64_t v = 0; v < n; v++)
    x[v] = p[v];
  for (int it = 0; it < 100000; it++) {
    double dangling = 0;
    for (uint64_t v = 0; v < n; v++)
      if (!deg[v]) dangling += x[v];
    for (uint64_t v = 0; v < n; v++)
      y[v] = (1 - d) * p[v] + d * dangling * p[v];
    for (uint64_t i = 0; i < g->m; i++)
      y[g->dst[i]] += d * x[g->src[i]] / (double)deg[g->src[i]];
    double diff = 0;
    for (uint64_t v = 0; v < n; v++)
      diff += fabs(y[v] - x[v]);
    double *t = x;
    x = y;
    y = t;
    if (diff < 1e-15) break;
  }
  free(y);
  free(deg);
  return x;
}

/* Parses "id<TAB>rank" output into ranks by dense index. */
static double *read_ranks(const ref_graph *g, const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  double *r = malloc(g->n * sizeof *r);
  unsigned long long id, last = 0;
  double x;
  uint64_t count = 0;
  while (fscanf(f, "%llu\t%lf\n", &id, &x) == 2) {
    if (count) assert_true(id > last); /* ascending ids */
    last = id;
    r[index_of(g, id)] = x;
    count++;
  }
  fclose(f);
  assert_int_equal(count, g->n);
  return r;
}

static double l1(const double *a, const double *b, uint64_t n) {
  double s = 0;
  for (uint64_t i = 0; i < n; i++)
    s += fabs(a[i] - b[i]);
  return s;
}

static const char *bin(void) {
  const char *b = getenv("GASP_BIN");
  if (!b) skip();
  return b;
}

/* Runs gasp pagerank with extra args; returns L1 distance to ref. */
static double run_and_compare(const char *graph, const ref_graph *g,
                              const double *ref, char **extra, int nextra) {
  char *dir = tu_mkdtemp();
  char *out = tu_path(dir, "ranks.tsv");
  char *argv[32] = {(char *)bin(), "pagerank", "-i",     (char *)graph,
                    "-o",          out,        "--quiet"};
  int k = 7;
  for (int i = 0; i < nextra; i++)
    argv[k++] = extra[i];
  argv[k] = NULL;
  tu_result r;
  tu_run(argv, &r);
  if (r.status != 0) fail_msg("gasp pagerank failed: %s", r.err);
  double *x = read_ranks(g, out);
  double d = l1(x, ref, g->n);
  double sum = 0;
  for (uint64_t v = 0; v < g->n; v++)
    sum += x[v];
  assert_true(fabs(sum - 1) < 1e-9);
  free(x);
  tu_result_free(&r);
  free(out);
  tu_rmtree(dir);
  return d;
}

/* A random graph with dangling vertices and sparse ids. */
static char *write_random(char *dir, uint64_t n, uint64_t m, uint64_t seed) {
  char *path = tu_path(dir, "g.el");
  FILE *f = fopen(path, "w");
  tu_rng rng = {seed};
  fprintf(f, "# random test graph\n");
  for (uint64_t i = 0; i < m; i++) {
    uint64_t u = tu_below(&rng, n), v = tu_below(&rng, n);
    if (u % 7 == 0) continue; /* every 7th vertex has no out-edges */
    fprintf(f, "%llu\t%llu\n", (unsigned long long)(u * 1000 + 3),
            (unsigned long long)(v * 1000 + 3));
  }
  fclose(f);
  return path;
}

static void test_sync_and_async(void **state) {
  (void)bin();
  char *dir = tu_mkdtemp();
  char *path = write_random(dir, 400, 3000, 5);
  ref_graph g = read_edges(path);
  double *p = malloc(g.n * sizeof *p);
  for (uint64_t v = 0; v < g.n; v++)
    p[v] = 1.0 / (double)g.n;
  double *ref = ref_pagerank(&g, 0.85, p);
  assert_true(run_and_compare(path, &g, ref, NULL, 0) < 1e-8);
  char *t1[] = {"--threads", "1"};
  assert_true(run_and_compare(path, &g, ref, t1, 2) < 1e-8);
  const char *cons[] = {"vertex", "edge", "full"};
  const char *sched[] = {"fifo", "sweep", "priority"};
  for (int c = 0; c < 3; c++)
    for (int s = 0; s < 3; s++) {
      char *a[] = {
          "--engine",    "async",          "--consistency", (char *)cons[c],
          "--scheduler", (char *)sched[s], "--threads",     "3"};
      double d = run_and_compare(path, &g, ref, a, 8);
      if (d > 1e-7) fail_msg("async %s %s: L1 %g", cons[c], sched[s], d);
    }
  /* the cache-blocked gather (7 blocks of 64), on 1 and 3 threads */
  char *bk[] = {"--blocked", "on", "--block-vertices", "64", "-t", "1"};
  assert_true(run_and_compare(path, &g, ref, bk, 6) < 1e-8);
  bk[5] = "3";
  assert_true(run_and_compare(path, &g, ref, bk, 6) < 1e-8);
  {
    char *argv[] = {(char *)bin(), "pagerank", "-i", path, "--quiet", "--json",
                    "--blocked", "on", "--block-vertices", "64", NULL};
    tu_result r;
    tu_run(argv, &r);
    assert_int_equal(r.status, 0);
    assert_true(tu_contains(r.out, "\"gather\":\"blocked\""));
    assert_true(tu_contains(r.out, "\"blocked_pairs\":"));
    assert_true(tu_contains(r.out, "\"rss_bytes_per_edge\":"));
    tu_result_free(&r);
    argv[7] = "off"; /* and auto: 400 vertices fit any L2 */
    for (int a = 0; a < 2; a++, argv[7] = "auto") {
      tu_run(argv, &r);
      assert_int_equal(r.status, 0);
      assert_true(tu_contains(r.out, "\"gather\":\"pull\""));
      tu_result_free(&r);
    }
    /* refusals: one line each, naming the reason */
    char *bad[] = {(char *)bin(), "pagerank", "-i", path, "--quiet",
                   "--blocked", "on", "--engine", "async", NULL};
    tu_run(bad, &r);
    assert_int_not_equal(r.status, 0);
    assert_true(tu_contains(r.err, "blocked gather"));
    tu_result_free(&r);
    bad[6] = "sometimes";
    tu_run(bad, &r);
    assert_int_equal(r.status, 2);
    assert_true(tu_contains(r.err, "--blocked: expected auto, on or off"));
    tu_result_free(&r);
    char *small[] = {(char *)bin(), "pagerank", "-i", path,
                     "--block-vertices", "8", NULL};
    tu_run(small, &r);
    assert_int_equal(r.status, 2);
    assert_true(tu_contains(r.err, "--block-vertices: must be 64..2^30"));
    tu_result_free(&r);
  }
  /* damping changes the answer: the reference follows */
  double *ref5 = ref_pagerank(&g, 0.5, p);
  char *dm[] = {"--damping", "0.5"};
  assert_true(run_and_compare(path, &g, ref5, dm, 2) < 1e-8);
  free(ref5);
  free(ref);
  free(p);
  ref_free(&g);
  free(path);
  tu_rmtree(dir);
}

static void test_personalized(void **state) {
  (void)bin();
  char *dir = tu_mkdtemp();
  char *path = write_random(dir, 300, 2000, 9);
  ref_graph g = read_edges(path);
  double *p = calloc(g.n, sizeof *p);
  p[index_of(&g, g.ids[3])] = 0.5;
  p[index_of(&g, g.ids[10])] = 0.5;
  double *ref = ref_pagerank(&g, 0.85, p);
  char list[64];
  snprintf(list, sizeof list, "%llu,%llu", (unsigned long long)g.ids[3],
           (unsigned long long)g.ids[10]);
  char *a[] = {"--personalized", list};
  assert_true(run_and_compare(path, &g, ref, a, 2) < 1e-8);
  char *b[] = {"--personalized", list, "--engine", "async"};
  assert_true(run_and_compare(path, &g, ref, b, 4) < 1e-7);
  /* an unknown id is a usage error */
  char *argv[] = {(char *)bin(), "pagerank",       "-i",        path,
                  "--quiet",     "--personalized", "999999999", NULL};
  tu_result r;
  tu_run(argv, &r);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "gasp: --personalized: unknown vertex id"));
  tu_result_free(&r);
  free(ref);
  free(p);
  ref_free(&g);
  free(path);
  tu_rmtree(dir);
}

/* --np N: the same ranks as one process (and the power-iteration
 * reference) with METIS and hash partitions and with personalisation; a
 * toolkit that needs lock-step supersteps refuses --staleness. */
static void test_distributed(void **state) {
  (void)bin();
  char *dir = tu_mkdtemp();
  char *path = write_random(dir, 500, 4000, 11);
  ref_graph g = read_edges(path);
  double *p = malloc(g.n * sizeof *p);
  for (uint64_t v = 0; v < g.n; v++)
    p[v] = 1.0 / (double)g.n;
  double *ref = ref_pagerank(&g, 0.85, p);
  const char *nps[] = {"1", "2", "3", "4"};
  for (int i = 0; i < 4; i++)
    for (int hash = 0; hash < 2; hash++) {
      char *a[] = {"--np",        (char *)nps[i],
                   "--partition", hash ? "hash" : "metis",
                   "--threads",   "1"};
      double d = run_and_compare(path, &g, ref, a, 6);
      if (d > 1e-8)
        fail_msg("--np %s %s: L1 %g", nps[i], hash ? "hash" : "metis", d);
      /* delta PageRank on the chromatic schedule across ranks: within its
       * tolerance of the fixed point */
      char *b[] = {
          "--np",     (char *)nps[i], "--partition", hash ? "hash" : "metis",
          "--engine", "async",        "--tol",       "1e-12"};
      d = run_and_compare(path, &g, ref, b, 8);
      if (d > 1e-8)
        fail_msg("--np %s %s async: L1 %g", nps[i], hash ? "hash" : "metis", d);
    }
  for (uint64_t v = 0; v < g.n; v++)
    p[v] = 0;
  p[index_of(&g, g.ids[4])] = 0.5;
  p[index_of(&g, g.ids[40])] = 0.5;
  double *refp = ref_pagerank(&g, 0.85, p);
  char list[64];
  snprintf(list, sizeof list, "%llu,%llu", (unsigned long long)g.ids[4],
           (unsigned long long)g.ids[40]);
  char *a[] = {"--np", "3", "--personalized", list};
  assert_true(run_and_compare(path, &g, refp, a, 4) < 1e-8);
  /* partitioned once into files, each rank reading its own */
  char *prefix = tu_path(dir, "parts");
  char *pa[] = {(char *)bin(), "partition", "-i",   path,      "--parts",
                "3",           "-o",        prefix, "--quiet", NULL};
  tu_result pr;
  tu_run(pa, &pr);
  assert_int_equal(pr.status, 0);
  tu_result_free(&pr);
  {
    char *fa[] = {"--np", "3", "--partitions", prefix};
    double d = run_and_compare(path, &g, ref, fa, 4);
    if (d > 1e-8) fail_msg("--partitions: L1 %g", d);
  }
  char *wrong[] = {(char *)bin(), "pagerank", "--partitions", prefix,
                   "--np",        "2",        "--quiet",      NULL};
  tu_run(wrong, &pr);
  assert_int_equal(pr.status, 2); /* part 0 of 3 read by a 2-rank cluster */
  assert_true(tu_contains(pr.err, "rank 0 of 2") ||
              tu_contains(pr.err, "rank 1 of 2"));
  tu_result_free(&pr);
  char *alone[] = {(char *)bin(), "pagerank", "--partitions",
                   prefix,        "--quiet",  NULL};
  tu_run(alone, &pr);
  assert_int_equal(pr.status, 2);
  tu_result_free(&pr);
  free(prefix);
  /* every toolkit runs across ranks now; lda's sweeps must stay in lock
   * step (its word counts are reconciled after each), so it refuses
   * bounded staleness */
  char *argv[] = {(char *)bin(), "lda",         "-i", path, "--np",
                  "2",           "--staleness", "1",  NULL};
  tu_result r;
  tu_run(argv, &r);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "lock-step"));
  tu_result_free(&r);
  free(refp);
  free(ref);
  free(p);
  ref_free(&g);
  free(path);
  tu_rmtree(dir);
}

static void test_top_and_json(void **state) {
  (void)bin();
  char *dir = tu_mkdtemp();
  char *path = write_random(dir, 200, 1500, 13);
  ref_graph g = read_edges(path);
  double *p = malloc(g.n * sizeof *p);
  for (uint64_t v = 0; v < g.n; v++)
    p[v] = 1.0 / (double)g.n;
  double *ref = ref_pagerank(&g, 0.85, p);
  char *argv[] = {(char *)bin(), "pagerank", "-i",     path, "--quiet",
                  "--top",       "3",        "--json", NULL};
  tu_result r;
  tu_run(argv, &r);
  assert_int_equal(r.status, 0);
  /* three "id<TAB>rank" lines, the largest reference ranks, then JSON */
  uint64_t best[3];
  for (int k = 0; k < 3; k++) {
    uint64_t b = UINT64_MAX;
    for (uint64_t v = 0; v < g.n; v++) {
      int taken = 0;
      for (int j = 0; j < k; j++)
        taken |= best[j] == v;
      if (!taken && (b == UINT64_MAX || ref[v] > ref[b])) b = v;
    }
    best[k] = b;
  }
  char *line = r.out;
  for (int k = 0; k < 3; k++) {
    unsigned long long id;
    double x;
    assert_int_equal(sscanf(line, "%llu\t%lf", &id, &x), 2);
    assert_int_equal(id, g.ids[best[k]]);
    assert_true(fabs(x - ref[best[k]]) < 1e-9);
    line = strchr(line, '\n') + 1;
  }
  assert_true(tu_contains(line, "{\"toolkit\":\"pagerank\""));
  assert_true(tu_contains(line, "\"converged\":true"));
  assert_true(tu_contains(line, "\"iterations\":"));
  tu_result_free(&r);
  free(ref);
  free(p);
  ref_free(&g);
  free(path);
  tu_rmtree(dir);
}

/* A weight column makes it weighted PageRank (networkx's default: u -> v
 * with probability w / the sum of u's out-weights), said in the summary;
 * --unweighted drops it.  Expected ranks: networkx.pagerank's convention
 * (dangling mass spread uniformly) by plain power iteration, by hand, on
 * this four-vertex graph (vertex 4 dangling). */
static void test_weighted(void **state) {
  (void)state;
  (void)bin();
  char *dir = tu_mkdtemp();
  char *path = tu_path(dir, "w.el");
  FILE *f = fopen(path, "w");
  fputs("1 2 3\n2 1 3\n2 3 1\n3 1 2\n3 4 1\n", f);
  fclose(f);
  static const double nx[4] = {0.380800917362, 0.381961271475, 0.139447261906,
                               0.097790549257};
  for (int unweighted = 0; unweighted < 2; unweighted++) {
    char *argv[] = {(char *)bin(),
                    "pagerank",
                    "-i",
                    path,
                    "-o",
                    "-",
                    "--json",
                    "--quiet",
                    "--tol",
                    "1e-13",
                    unweighted ? "--unweighted" : NULL,
                    NULL};
    tu_result r;
    tu_run(argv, &r);
    assert_int_equal(r.status, 0);
    const char *line = r.out;
    double sum = 0, far = 0;
    for (int k = 0; k < 4; k++) {
      unsigned long long id;
      double x;
      assert_int_equal(sscanf(line, "%llu\t%lf", &id, &x), 2);
      assert_int_equal(id, (unsigned long long)k + 1);
      sum += x;
      far = fmax(far, fabs(x - nx[k]));
      line = strchr(line, '\n') + 1;
    }
    assert_true(fabs(sum - 1) < 1e-9);
    if (unweighted) {
      assert_true(far > 1e-3);
      assert_true(tu_contains(line, "\"weighted\":false"));
    } else {
      assert_true(far < 1e-9);
      assert_true(tu_contains(line, "\"weighted\":true"));
    }
    tu_result_free(&r);
  }
  free(path);
  tu_rmtree(dir);
}

static void snap_graph(const char *name) {
  const char *src = getenv("GASP_SRCDIR");
  (void)bin();
  if (!src) skip();
  char path[4096];
  snprintf(path, sizeof path, "%s/../shared/data/graphs/%s", src, name);
  if (!tu_exists(path)) skip();
  ref_graph g = read_edges(path);
  double *p = malloc(g.n * sizeof *p);
  for (uint64_t v = 0; v < g.n; v++)
    p[v] = 1.0 / (double)g.n;
  double *ref = ref_pagerank(&g, 0.85, p);
  char *tol[] = {"--tol", "1e-12"};
  double d = run_and_compare(path, &g, ref, tol, 2);
  if (d >= 1e-8) fail_msg("%s: L1 distance %g", name, d);
  char *as[] = {"--tol", "1e-12", "--engine", "async"};
  d = run_and_compare(path, &g, ref, as, 4);
  if (d >= 1e-8) fail_msg("%s async: L1 distance %g", name, d);
  free(ref);
  free(p);
  ref_free(&g);
}

static void test_snap_wiki_vote(void **state) { snap_graph("Wiki-Vote.txt"); }
static void test_snap_ca_grqc(void **state) { snap_graph("CA-GrQc.txt"); }

static void test_bad_input(void **state) {
  char *dir = tu_mkdtemp();
  char *path = tu_path(dir, "bad.el");
  tu_write_str(path, "1 2\n2 x\n");
  char *out = tu_path(dir, "out.tsv");
  char *argv[] = {(char *)bin(), "pagerank", "-i", path, "-o", out, NULL};
  tu_result r;
  tu_run(argv, &r);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, ":2: "));
  assert_false(tu_exists(out));
  tu_result_free(&r);
  char *argv2[] = {(char *)bin(), "pagerank", "-i", path,
                   "--damping",   "1.5",      NULL};
  tu_run(argv2, &r);
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  free(out);
  free(path);
  tu_rmtree(dir);
}

/* What the engines cannot do across ranks is refused up front, with the
 * reason: power iteration stops on a global residual (no staleness), no
 * distributed locks.  (Full consistency runs: a distance-2 colouring.) */
static void test_distributed_refusals(void **state) {
  (void)state;
  char *dir = tu_mkdtemp();
  char *path = write_random(dir, 200, 1500, 3);
  static const char *bad[][8] = {
      {"--np", "2", "--staleness", "2", NULL},
      {"--np", "2", "--engine", "async", "--staleness", "1", NULL},
      {"--np", "2", "--engine", "async", "--locking", "locks", NULL},
  };
  static const char *why[] = {"lock-step", "--staleness", "chromatic"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *argv[16] = {(char *)bin(), "pagerank", "-i", path, "--quiet"};
    int k = 5;
    for (int j = 0; bad[i][j]; j++)
      argv[k++] = (char *)bad[i][j];
    argv[k] = NULL;
    tu_result r;
    tu_run(argv, &r);
    if (r.status != 2 || !tu_contains(r.err, why[i]))
      fail_msg("case %zu: exit %d: %s", i, r.status, r.err);
    tu_result_free(&r);
  }
  free(path);
  tu_rmtree(dir);
}

/* Runs gasp with argv (NULL-terminated, without the binary); exit 0
 * expected. */
static void gasp_ok(char **args) {
  char *argv[40] = {(char *)bin()};
  int k = 1;
  while (*args)
    argv[k++] = *args++;
  argv[k] = NULL;
  tu_result r;
  tu_run(argv, &r);
  if (r.status != 0) fail_msg("gasp %s failed: %s", argv[1], r.err);
  tu_result_free(&r);
}

/* --checkpoint / --resume on 1, 2 and 4 ranks: a run stopped at
 * --max-iter and resumed writes the ranks of a run never stopped, byte
 * for byte; the launcher killed (SIGKILL) while writing checkpoints takes
 * its ranks with it, and --resume finishes the run to the same bytes;
 * a checkpoint of other options or another rank count is refused. */
static void test_checkpoint_resume(void **state) {
  (void)state;
  (void)bin();
  char *dir = tu_mkdtemp();
  char *path = write_random(dir, 3000, 30000, 17);
  char *full = tu_path(dir, "full.tsv"), *part = tu_path(dir, "part.tsv"),
       *res = tu_path(dir, "res.tsv");
  const char *nps[] = {"1", "2", "4"};
  for (int i = 0; i < 3; i++) {
    char *ck = tu_path(dir, "ck");
    char *a[] = {"pagerank", "-i", path, "--tol", "1e-13", "--np",
                 (char *)nps[i], "-t", "1", "-o", full, "--quiet", NULL};
    gasp_ok(a);
    char *b[] = {"pagerank", "-i", path, "--tol", "1e-13", "--np",
                 (char *)nps[i], "-t", "1", "-o", part, "--quiet",
                 "--max-iter", "13", "--checkpoint", ck,
                 "--checkpoint-every", "4", NULL};
    gasp_ok(b);
    assert_false(tu_same_file(full, part));
    char *c[] = {"pagerank", "-i", path, "--tol", "1e-13", "--np",
                 (char *)nps[i], "-t", "1", "-o", res, "--quiet",
                 "--resume", ck, NULL};
    gasp_ok(c);
    if (!tu_same_file(full, res))
      fail_msg("--np %s: resumed ranks differ from a whole run", nps[i]);
    /* other options, another rank count: refused */
    char *d[] = {(char *)bin(), "pagerank", "-i", path, "--tol", "1e-13",
                 "--damping", "0.8", "--np", (char *)nps[i], "--resume", ck,
                 "--quiet", NULL};
    tu_result r;
    tu_run(d, &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "damping=0.8"));
    tu_result_free(&r);
    char *e[] = {(char *)bin(), "pagerank", "-i", path, "--tol", "1e-13",
                 "--np", i == 1 ? "3" : "2", "--resume", ck, "--quiet", NULL};
    tu_run(e, &r);
    assert_true(r.status != 0);
    if (!strstr(r.err, "ranks") && !strstr(r.err, "rank-"))
      fail_msg("another rank count: %s", r.err);
    tu_result_free(&r);
    tu_rmtree(ck); /* frees it */
  }
  /* the launcher killed mid-run */
  char *ck = tu_path(dir, "ck2");
  char *big = write_random(dir, 60000, 600000, 23);
  char *a[] = {"pagerank", "-i", big, "--tol", "0", "--max-iter", "60",
               "--np", "2", "-t", "1", "-o", full, "--quiet", NULL};
  gasp_ok(a);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char *argv[] = {(char *)bin(), "pagerank", "-i", big, "--tol", "0",
                    "--max-iter", "60", "--np", "2", "-t", "1", "-o", part,
                    "--quiet", "--checkpoint", ck, "--checkpoint-every", "5",
                    NULL};
    execv(argv[0], argv);
    _exit(127);
  }
  char *first = tu_path(ck, "step-00000000000000000010");
  struct stat sb;
  for (int w = 0; w < 6000 && stat(first, &sb) != 0; w++)
    usleep(5000);
  kill(pid, SIGKILL);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  char *c[] = {"pagerank", "-i", big, "--tol", "0", "--max-iter", "60",
               "--np", "2", "-t", "1", "-o", res, "--quiet", "--resume", ck,
               NULL};
  gasp_ok(c);
  if (!tu_same_file(full, res))
    fail_msg("killed %s and resumed: the ranks differ",
             WIFSIGNALED(status) ? "mid-run" : "(after the end)");
  free(first);
  tu_rmtree(ck);
  /* --restart: a rank killed mid-run, every rank relaunched from the
   * newest checkpoint; the run ends well with the same ranks */
  ck = tu_path(dir, "ck3");
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char *argv[] = {(char *)bin(), "pagerank", "-i", big, "--tol", "0",
                    "--max-iter", "60", "--np", "2", "-t", "1", "-o", res,
                    "--quiet", "--checkpoint", ck, "--checkpoint-every", "5",
                    "--restart", "1", NULL};
    execv(argv[0], argv);
    _exit(127);
  }
  first = tu_path(ck, "step-00000000000000000010/MANIFEST");
  for (int w = 0; w < 6000 && stat(first, &sb) != 0; w++)
    usleep(5000);
  tu_kill_rank1(pid);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (!tu_same_file(full, res)) fail_msg("--restart: the ranks differ");
  free(first);
  tu_rmtree(ck);
  /* --restart needs --np and a checkpoint directory */
  char *bad[] = {(char *)bin(), "pagerank", "-i", big, "--restart", "1",
                 "--quiet", NULL};
  tu_result br;
  tu_run(bad, &br);
  assert_int_equal(br.status, 2);
  assert_non_null(strstr(br.err, "--restart"));
  tu_result_free(&br);
  free(big);
  free(path);
  free(full);
  free(part);
  free(res);
  tu_rmtree(dir);
}


/* A snapshot reordered by gasp convert --reorder (each way): ranks the
 * reference's, written in ascending id order (read_ranks checks), pulling
 * and blocked; cc's output the file's; commands whose results follow
 * vertex order (labelprop), and --np, refuse it. */
static void test_reordered(void **state) {
  (void)bin();
  char *dir = tu_mkdtemp();
  char *path = write_random(dir, 400, 3000, 9);
  ref_graph g = read_edges(path);
  double *p = malloc(g.n * sizeof *p);
  for (uint64_t v = 0; v < g.n; v++)
    p[v] = 1.0 / (double)g.n;
  double *ref = ref_pagerank(&g, 0.85, p);
  char *snap = tu_path(dir, "r.gasp");
  const char *how[] = {"degree", "dbg", "rcm"};
  for (int k = 0; k < 3; k++) {
    char *cv[] = {(char *)bin(), "convert", "-i",  path,  "--reorder",
                  (char *)how[k], "-o",     snap, "--quiet", NULL};
    tu_result r;
    tu_run(cv, &r);
    if (r.status != 0) fail_msg("convert --reorder %s: %s", how[k], r.err);
    tu_result_free(&r);
    assert_true(run_and_compare(snap, &g, ref, NULL, 0) < 1e-8);
    char *bk[] = {"--blocked", "on", "--block-vertices", "64"};
    assert_true(run_and_compare(snap, &g, ref, bk, 4) < 1e-8);
    /* cc: the same output as on the file (components named by their
     * smallest id, in id order), both algorithms; labelprop refuses */
    for (int a = 0; a < 2; a++) {
      char *o1 = tu_path(dir, "cc1.tsv"), *o2 = tu_path(dir, "cc2.tsv");
      char *alg = a ? "labelprop" : "afforest";
      char *c1[] = {(char *)bin(), "cc", "-i", path, "-o", o1, "--quiet",
                    "--algorithm", alg, NULL};
      char *c2[] = {(char *)bin(), "cc", "-i", snap, "-o", o2, "--quiet",
                    "--algorithm", alg, NULL};
      tu_run(c1, &r);
      assert_int_equal(r.status, 0);
      tu_result_free(&r);
      tu_run(c2, &r);
      assert_int_equal(r.status, 0);
      tu_result_free(&r);
      if (!tu_same_file(o1, o2)) fail_msg("cc --algorithm %s differs on --reorder %s", alg, how[k]);
      free(o1), free(o2);
    }
    char *lp[] = {(char *)bin(), "labelprop", "-i", snap, "--quiet", NULL};
    tu_run(lp, &r);
    assert_int_equal(r.status, 2);
    assert_true(tu_contains(r.err, "reordered"));
    tu_result_free(&r);
    char *np[] = {(char *)bin(), "pagerank", "-i", snap, "--quiet",
                  "--np",        "2",        NULL};
    tu_run(np, &r);
    assert_int_not_equal(r.status, 0);
    assert_true(tu_contains(r.err, "reorder"));
    tu_result_free(&r);
  }
  char *bad[] = {(char *)bin(), "convert", "-i", path, "--reorder", "random",
                 "-o", snap, NULL};
  tu_result r;
  tu_run(bad, &r);
  assert_int_equal(r.status, 2);
  assert_true(tu_contains(r.err, "--reorder: expected none, degree, dbg or rcm"));
  tu_result_free(&r);
  free(ref);
  free(p);
  free(snap);
  ref_free(&g);
  free(path);
  tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync_and_async),
      cmocka_unit_test(test_personalized),
      cmocka_unit_test(test_top_and_json),
      cmocka_unit_test(test_weighted),
      cmocka_unit_test(test_distributed),
      cmocka_unit_test(test_distributed_refusals),
      cmocka_unit_test(test_snap_wiki_vote),
      cmocka_unit_test(test_snap_ca_grqc),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_checkpoint_resume),
      cmocka_unit_test(test_reordered),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
