/*
 * test_toolkit_cc_labelprop.c -- `gasp cc` and `gasp labelprop`, run as separate
 * processes and compared with independent references written here:
 *
 *  cc:        union-find over random graphs with many components (long
 *             paths, stars, dense clusters, vertices with only a self
 *             loop, duplicate edges, sparse ids), the sync engine and the
 *             async engine under every consistency model x scheduler; the
 *             largest weakly connected components SNAP publishes for the
 *             shared CA-GrQc (4158) and Wiki-Vote (7066) graphs.
 *  labelprop: a plain reimplementation of the documented rule (every
 *             vertex recomputed every round), unweighted and weighted,
 *             at several --max-iter and thread counts: labels, iterations
 *             and convergence must be identical; the async chromatic
 *             schedule ends with labels independent of the thread count;
 *             across ranks sync rounds give one process's labels (weights
 *             that are not integers too), and the default and async
 *             engines say that theirs may differ.
 *
 * Also the --json keys, --trace, and exit status 2 for bad input.  The
 * binary comes from $GASP_BIN (skipped without it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#define COUNT(a) (sizeof(a) / sizeof *(a))

static int setup(void **state) {
  *state = tu_mkdtemp();
  return 0;
}

static int teardown(void **state) {
  tu_rmtree(*state);
  return 0;
}

#define RUN(...) tu_gasp_runv((const char *const[]){__VA_ARGS__, NULL})

/* Runs gasp, which must succeed; returns its stdout (malloc'd). */
static char *run_out(const char *const *args) {
  tu_result r = tu_gasp_runv(args);
  if (r.status != 0) fail_msg("gasp %s exited %d: %s", args[0], r.status, r.err);
  free(r.err);
  return r.out;
}

#define OUT(...) run_out((const char *const[]){__VA_ARGS__, NULL})

/* The --json line after the per-vertex lines of `-o - --json`. */
static const char *json_line(const char *out) {
  const char *j = strrchr(out, '{');
  assert_non_null(j);
  return j;
}

/* ---- the --json summary: one line, one flat object -------------------- */

/* The text of `key`'s value (malloc'd), or NULL when absent; the key must
 * not appear twice. */
static char *json_get(const char *json, const char *key) {
  size_t n = strlen(json);
  assert_true(n > 2 && json[0] == '{' && json[n - 2] == '}' && json[n - 1] == '\n');
  assert_true(strchr(json, '\n') == json + n - 1);
  char pat[80];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *v = strstr(json, pat);
  if (!v) return NULL;
  assert_null(strstr(v + 1, pat));
  v += strlen(pat);
  size_t len = *v == '"' ? strcspn(v + 1, "\"") + 2 : strcspn(v, ",}");
  return strndup(v, len);
}

static uint64_t json_u64(const char *json, const char *key) {
  char *v = json_get(json, key), *e;
  if (!v) fail_msg("JSON has no key '%s': %s", key, json);
  uint64_t x = strtoull(v, &e, 10);
  assert_true(e > v && *e == '\0');
  free(v);
  return x;
}

static int json_true(const char *json, const char *key) {
  char *v = json_get(json, key);
  if (!v) fail_msg("JSON has no key '%s': %s", key, json);
  int t = !strcmp(v, "true");
  assert_true(t || !strcmp(v, "false"));
  free(v);
  return t;
}

/* ---- random graphs in original ids ------------------------------------ */

typedef struct rgraph {
  uint64_t n, m;    /* vertices (dense 0..n-1, ascending ids), edges */
  uint64_t *id;     /* original id of each vertex */
  uint64_t *s, *d;  /* edges, dense */
  unsigned *w;      /* weights (1..3), or NULL */
  int tenths;       /* weights written as w / 10 */
} rgraph;

static void rg_free(rgraph *g) {
  free(g->id);
  free(g->s);
  free(g->d);
  free(g->w);
}

static void rg_add(rgraph *g, uint64_t cap, uint64_t a, uint64_t b) {
  assert_true(g->m < cap);
  g->s[g->m] = a;
  g->d[g->m] = b;
  g->m++;
}

/* n vertices in groups of assorted shapes; every vertex has an edge. */
static rgraph rg_components(uint64_t n, uint64_t seed) {
  tu_rng r = {seed};
  rgraph g = {n, 0, malloc(n * sizeof(uint64_t)), NULL, NULL, NULL, 0};
  uint64_t cap = 8 * n + 64, next = 3;
  g.s = malloc(cap * sizeof *g.s);
  g.d = malloc(cap * sizeof *g.d);
  for (uint64_t v = 0; v < n; v++) g.id[v] = next += 1 + tu_below(&r, 1000);
  uint64_t *perm = malloc(n * sizeof *perm);
  for (uint64_t v = 0; v < n; v++) perm[v] = v;
  for (uint64_t v = n; v > 1; v--) {
    uint64_t j = tu_below(&r, v), t = perm[v - 1];
    perm[v - 1] = perm[j];
    perm[j] = t;
  }
  for (uint64_t at = 0; at < n;) {
    uint64_t k = tu_below(&r, 10) == 0 ? 20 + tu_below(&r, n / 4 + 1)
                                       : 1 + tu_below(&r, 6);
    if (k > n - at) k = n - at;
    uint64_t *c = perm + at;
    int shape = (int)tu_below(&r, 3); /* path, random tree, star */
    if (k == 1) rg_add(&g, cap, c[0], c[0]);
    for (uint64_t i = 1; i < k; i++) {
      uint64_t j = shape == 0 ? i - 1 : shape == 1 ? tu_below(&r, i) : 0;
      if (tu_below(&r, 2))
        rg_add(&g, cap, c[i], c[j]);
      else
        rg_add(&g, cap, c[j], c[i]);
      if (tu_below(&r, 8) == 0) rg_add(&g, cap, c[j], c[i]); /* reciprocal */
      if (tu_below(&r, 16) == 0) rg_add(&g, cap, c[i], c[i]); /* loop */
    }
    for (uint64_t x = k / 3; x > 0 && shape == 1; x--)
      rg_add(&g, cap, c[tu_below(&r, k)], c[tu_below(&r, k)]);
    at += k;
  }
  free(perm);
  return g;
}

/* Planted communities: mostly edges inside blocks, a few across. */
static rgraph rg_planted(uint64_t n, uint64_t m, int weighted, uint64_t seed) {
  tu_rng r = {seed};
  rgraph g = {n, 0, malloc(n * sizeof(uint64_t)), malloc(m * sizeof(uint64_t)),
              malloc(m * sizeof(uint64_t)), NULL, 0};
  if (weighted) g.w = malloc(m * sizeof *g.w);
  uint64_t next = 100;
  for (uint64_t v = 0; v < n; v++) g.id[v] = next += 1 + tu_below(&r, 50);
  uint64_t block = 25;
  for (uint64_t v = 0; v < n; v++) { /* each vertex gets one edge */
    uint64_t b = v / block * block;
    uint64_t u = b + tu_below(&r, (n - b < block ? n - b : block));
    rg_add(&g, m, v, u);
  }
  while (g.m < m) {
    uint64_t a = tu_below(&r, n), b;
    if (tu_below(&r, 10) == 0)
      b = tu_below(&r, n);
    else {
      uint64_t lo = a / block * block;
      b = lo + tu_below(&r, (n - lo < block ? n - lo : block));
    }
    rg_add(&g, m, a, b);
  }
  for (uint64_t i = 0; weighted && i < m; i++) g.w[i] = 1 + (unsigned)tu_below(&r, 3);
  return g;
}

static char *rg_write(void **state, const char *name, const rgraph *g) {
  char *path = tu_path(*state, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "# test graph\n");
  for (uint64_t i = 0; i < g->m; i++) {
    fprintf(f, "%llu\t%llu", (unsigned long long)g->id[g->s[i]],
            (unsigned long long)g->id[g->d[i]]);
    if (g->w && g->tenths)
      fprintf(f, "\t%u.%u", g->w[i] / 10, g->w[i] % 10);
    else if (g->w)
      fprintf(f, "\t%u", g->w[i]);
    fputc('\n', f);
  }
  assert_int_equal(fclose(f), 0);
  return path;
}

static uint64_t rg_index(const rgraph *g, uint64_t id) {
  uint64_t lo = 0, hi = g->n;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (g->id[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == g->n || g->id[lo] != id) fail_msg("unknown id %llu", (unsigned long long)id);
  return lo;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Reads a SNAP edge list ("src dst" lines, # comments). */
static rgraph rg_read(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  rgraph g = {0};
  uint64_t cap = 1024;
  g.s = malloc(cap * sizeof *g.s);
  g.d = malloc(cap * sizeof *g.d);
  char line[256];
  unsigned long long a, b;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || sscanf(line, "%llu %llu", &a, &b) != 2) continue;
    if (g.m == cap) {
      cap *= 2;
      g.s = realloc(g.s, cap * sizeof *g.s);
      g.d = realloc(g.d, cap * sizeof *g.d);
    }
    g.s[g.m] = a;
    g.d[g.m++] = b;
  }
  fclose(f);
  g.id = malloc(2 * g.m * sizeof *g.id);
  memcpy(g.id, g.s, g.m * sizeof *g.id);
  memcpy(g.id + g.m, g.d, g.m * sizeof *g.id);
  qsort(g.id, 2 * g.m, sizeof *g.id, cmp_u64);
  for (uint64_t i = 0; i < 2 * g.m; i++)
    if (g.n == 0 || g.id[g.n - 1] != g.id[i]) g.id[g.n++] = g.id[i];
  for (uint64_t i = 0; i < g.m; i++) {
    g.s[i] = rg_index(&g, g.s[i]);
    g.d[i] = rg_index(&g, g.d[i]);
  }
  return g;
}

/* Reads "id<TAB>value" lines: one per vertex in ascending id order; the
 * value is an original id, returned as a dense index.  A --json line may
 * follow. */
static uint64_t *read_result(const rgraph *g, const char *text) {
  uint64_t *val = malloc(g->n * sizeof *val);
  const char *p = text;
  for (uint64_t v = 0; v < g->n; v++) {
    char *e;
    unsigned long long id = strtoull(p, &e, 10);
    assert_true(e > p && *e == '\t');
    if (id != g->id[v]) fail_msg("line %llu: id %llu, want %llu", (unsigned long long)v + 1, id, (unsigned long long)g->id[v]);
    p = e + 1;
    unsigned long long c = strtoull(p, &e, 10);
    assert_true(e > p && *e == '\n');
    val[v] = rg_index(g, c);
    p = e + 1;
  }
  assert_true(*p == '\0' || *p == '{'); /* the end, or a --json line */
  return val;
}

/* ---- cc: union-find reference ----------------------------------------- */

static uint64_t uf_find(uint64_t *parent, uint64_t x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}

/* Component of each vertex as the smallest dense index in it. */
static uint64_t *ref_cc(const rgraph *g) {
  uint64_t *parent = malloc(g->n * sizeof *parent);
  for (uint64_t v = 0; v < g->n; v++) parent[v] = v;
  for (uint64_t i = 0; i < g->m; i++) {
    uint64_t a = uf_find(parent, g->s[i]), b = uf_find(parent, g->d[i]);
    if (a < b) parent[b] = a; /* the root stays the smallest index */
    else parent[a] = b;
  }
  for (uint64_t v = 0; v < g->n; v++) parent[v] = uf_find(parent, v);
  return parent;
}

static void check_cc(const rgraph *g, const uint64_t *want, const char *out,
                     const char *what) {
  uint64_t *got = read_result(g, out);
  for (uint64_t v = 0; v < g->n; v++)
    if (got[v] != want[v])
      fail_msg("%s: vertex %llu in component %llu, want %llu", what,
               (unsigned long long)g->id[v], (unsigned long long)g->id[got[v]],
               (unsigned long long)g->id[want[v]]);
  free(got);
}

static void test_cc_random(void **state) {
  TU_NEED_BIN();
  static const uint64_t sizes[] = {40, 3000, 3000, 12000, 500};
  for (uint64_t seed = 1; seed <= COUNT(sizes); seed++) {
    rgraph g = rg_components(sizes[seed - 1], seed);
    char name[32];
    snprintf(name, sizeof name, "cc%llu.txt", (unsigned long long)seed);
    char *path = rg_write(state, name, &g);
    uint64_t *want = ref_cc(&g);
    uint64_t comps = 0, largest = 0, *size = calloc(g.n, sizeof *size);
    for (uint64_t v = 0; v < g.n; v++) {
      comps += want[v] == v;
      if (++size[want[v]] > largest) largest = size[want[v]];
    }
    free(size);
    static const char *algo[] = {"afforest", "labelprop"};
    for (size_t a = 0; a < COUNT(algo); a++)
      for (int t = 1; t <= 3; t += 2) {
        char threads[8];
        snprintf(threads, sizeof threads, "%d", t);
        char *out = OUT("cc", "-i", path, "-o", "-", "--json", "-t", threads,
                        "--algorithm", algo[a]);
        check_cc(&g, want, out, algo[a]);
        assert_int_equal(json_u64(json_line(out), "components"), comps);
        assert_int_equal(json_u64(json_line(out), "largest_component"), largest);
        assert_int_equal(json_u64(json_line(out), "vertices"), g.n);
        free(out);
      }
    char *out;
    static const char *cons[] = {"vertex", "edge", "full"};
    static const char *sched[] = {"fifo", "sweep", "priority"};
    for (size_t c = 0; c < COUNT(cons); c++)
      for (size_t s = 0; s < COUNT(sched); s++) {
        char what[64];
        snprintf(what, sizeof what, "async %s %s", cons[c], sched[s]);
        out = OUT("cc", "-i", path, "-o", "-", "--quiet", "-t", "4", "--engine",
                  "async", "--consistency", cons[c], "--scheduler", sched[s]);
        check_cc(&g, want, out, what);
        free(out);
      }
    out = OUT("cc", "-i", path, "-o", "-", "--quiet", "-t", "3", "--engine",
              "async", "--consistency", "edge", "--locking", "locks");
    check_cc(&g, want, out, "async edge locks");
    free(out);
    /* across ranks (label propagation), METIS and hash partitions */
    static const char *nps[] = {"1", "2", "4"}, *parts[] = {"metis", "hash"};
    for (size_t i = 0; i < COUNT(nps); i++)
      for (size_t q = 0; q < COUNT(parts); q++) {
        char what[64];
        snprintf(what, sizeof what, "--np %s %s", nps[i], parts[q]);
        out = OUT("cc", "-i", path, "-o", "-", "--json", "-t", "1", "--np", nps[i],
                  "--partition", parts[q]);
        check_cc(&g, want, out, what);
        assert_int_equal(json_u64(json_line(out), "components"), comps);
        assert_int_equal(json_u64(json_line(out), "largest_component"), largest);
        free(out);
        /* async on the chromatic schedule, and bounded staleness */
        out = OUT("cc", "-i", path, "-o", "-", "--quiet", "--np", nps[i],
                  "--partition", parts[q], "--engine", "async");
        check_cc(&g, want, out, "async across ranks");
        free(out);
        /* full consistency: distance-2 classes, a collective step each
         * (hundreds on these graphs' stars), so not on the largest */
        if (i == 1 && q == 0 && g.n <= 3000) {
          out = OUT("cc", "-i", path, "-o", "-", "--quiet", "--np", nps[i],
                    "--engine", "async", "--consistency", "full");
          check_cc(&g, want, out, "async full consistency across ranks");
          free(out);
        }
        out = OUT("cc", "-i", path, "-o", "-", "--quiet", "--np", nps[i],
                  "--partition", parts[q], "--staleness", q ? "1" : "4");
        check_cc(&g, want, out, "bounded staleness");
        free(out);
      }
    free(want);
    free(path);
    rg_free(&g);
  }
}

/* SNAP's published largest weakly connected components. */
static void test_cc_snap(void **state) {
  (void)state;
  TU_NEED_BIN();
  const char *src = getenv("GASP_SRCDIR");
  if (!src || !*src) skip();
  static const struct {
    const char *file;
    uint64_t vertices, largest;
  } sets[] = {{"CA-GrQc.txt", 5242, 4158}, {"Wiki-Vote.txt", 7115, 7066}};
  int ran = 0;
  for (size_t i = 0; i < COUNT(sets); i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/../shared/data/graphs/%s", src, sets[i].file);
    if (!tu_exists(path)) continue;
    rgraph g = rg_read(path);
    uint64_t *want = ref_cc(&g);
    for (int mode = 0; mode < 3; mode++) {
      char *out = OUT("cc", "-o", "-", "--json", "--quiet", "--engine",
                      mode == 2 ? "async" : "sync", "--algorithm",
                      mode == 0 ? "afforest" : "labelprop", path);
      check_cc(&g, want, out, sets[i].file);
      assert_int_equal(json_u64(json_line(out), "vertices"), sets[i].vertices);
      assert_int_equal(json_u64(json_line(out), "largest_component"),
                       sets[i].largest);
      free(out);
    }
    free(want);
    rg_free(&g);
    ran++;
  }
  if (!ran) skip();
}

/* ---- labelprop: the documented rule, recomputed in full ---------------- */

typedef struct lp_ref {
  uint64_t *label;
  uint64_t iterations;
  int converged;
} lp_ref;

/* Incident edges of each vertex as the program sees them: in-edges by
 * ascending source, then out-edges by ascending target (integer weights
 * make the order moot for the sums, but it is the documented one). */
static lp_ref ref_labelprop(const rgraph *g, uint64_t max_iter) {
  uint64_t n = g->n;
  uint64_t *off = calloc(n + 1, sizeof *off), *nbr = malloc(2 * g->m * sizeof *nbr);
  double *w = malloc(2 * g->m * sizeof *w);
  for (uint64_t i = 0; i < g->m; i++) off[g->s[i] + 1]++, off[g->d[i] + 1]++;
  for (uint64_t v = 0; v < n; v++) off[v + 1] += off[v];
  uint64_t *pos = malloc(n * sizeof *pos);
  memcpy(pos, off, n * sizeof *pos);
  for (uint64_t i = 0; i < g->m; i++) {
    double x = g->w ? g->w[i] : 1.0;
    nbr[pos[g->d[i]]] = g->s[i], w[pos[g->d[i]]++] = x;
    nbr[pos[g->s[i]]] = g->d[i], w[pos[g->s[i]]++] = x;
  }
  lp_ref out = {malloc(n * sizeof(uint64_t)), 0, 0};
  uint64_t *next = malloc(n * sizeof *next);
  double *score = calloc(n, sizeof *score);
  for (uint64_t v = 0; v < n; v++) out.label[v] = v;
  while (out.iterations < max_iter) {
    out.iterations++;
    int changed = 0;
    for (uint64_t v = 0; v < n; v++) {
      for (uint64_t j = off[v]; j < off[v + 1]; j++)
        if (nbr[j] != v) score[out.label[nbr[j]]] += w[j];
      double top = 0;
      int any = 0;
      for (uint64_t j = off[v]; j < off[v + 1]; j++)
        if (nbr[j] != v) {
          double s = score[out.label[nbr[j]]];
          top = !any || s > top ? s : top;
          any = 1;
        }
      uint64_t pick = out.label[v], best = UINT64_MAX;
      if (any && score[pick] != top) {
        for (uint64_t j = off[v]; j < off[v + 1]; j++) {
          uint64_t l = out.label[nbr[j]];
          if (nbr[j] != v && score[l] == top && l < best) best = l;
        }
        pick = best;
      }
      next[v] = pick;
      changed |= pick != out.label[v];
      for (uint64_t j = off[v]; j < off[v + 1]; j++) score[out.label[nbr[j]]] = 0;
    }
    memcpy(out.label, next, n * sizeof *next);
    if (!changed) {
      out.converged = 1;
      break;
    }
  }
  free(off), free(nbr), free(w), free(pos), free(next), free(score);
  return out;
}

static void check_labelprop(void **state, const rgraph *g, const char *name) {
  char *path = rg_write(state, name, g);
  static const char *iters[] = {"1", "2", "7", "100"};
  for (size_t k = 0; k < COUNT(iters); k++) {
    lp_ref want = ref_labelprop(g, strtoull(iters[k], NULL, 10));
    /* one process on 1 and 3 threads, then 2 ranks (METIS) and 3 (hash) */
    for (int t = 1; t <= 5; t += 2) {
      char threads[8];
      snprintf(threads, sizeof threads, "%d", t <= 3 ? t : 1);
      const char *np = t == 5 ? (k % 2 ? "3" : "2") : "1";
      const char *part = k % 2 ? "hash" : "metis";
      char *out = OUT("labelprop", "-i", path, "-o", "-", "--json", "-t",
                      threads, "--max-iter", iters[k], "--engine", "sync",
                      "--np", np, "--partition", part);
      uint64_t *got = read_result(g, out), *size = calloc(g->n, sizeof *size);
      uint64_t communities = 0, largest = 0;
      for (uint64_t v = 0; v < g->n; v++) {
        if (got[v] != want.label[v])
          fail_msg("%s --max-iter %s -t %d: vertex %llu got %llu, want %llu",
                   name, iters[k], t, (unsigned long long)g->id[v],
                   (unsigned long long)g->id[got[v]],
                   (unsigned long long)g->id[want.label[v]]);
        communities += ++size[got[v]] == 1;
        largest = size[got[v]] > largest ? size[got[v]] : largest;
      }
      const char *json = json_line(out);
      assert_int_equal(json_u64(json, "iterations"), want.iterations);
      assert_int_equal(json_true(json, "converged"), want.converged);
      assert_int_equal(json_true(json, "weighted"), g->w != NULL);
      assert_int_equal(json_u64(json, "communities"), communities);
      assert_int_equal(json_u64(json, "largest_community"), largest);
      free(got);
      free(size);
      free(out);
    }
    free(want.label);
  }
  free(path);
}

static void test_labelprop_reference(void **state) {
  TU_NEED_BIN();
  rgraph g = rg_components(60, 11); /* paths and stars: oscillates */
  check_labelprop(state, &g, "lp-shapes.txt");
  rg_free(&g);
  g = rg_planted(400, 3000, 0, 12);
  check_labelprop(state, &g, "lp-planted.txt");
  rg_free(&g);
  g = rg_planted(300, 1500, 1, 13);
  check_labelprop(state, &g, "lp-weighted.txt");
  rg_free(&g);
}

/* --json keys; async updates end, on any consistency. */
static void test_labelprop_json(void **state) {
  TU_NEED_BIN();
  char *p = tu_path(*state, "two.txt");
  tu_write_str(p, "1 2\n2 3\n3 1\n3 10\n10 11\n11 12\n12 13\n13 10\n10 12\n");
  char *out = OUT("labelprop", "-i", p, "--json", "--quiet");
  static const char *keys[] = {"vertices", "edges", "communities",
                               "largest_community", "iterations", "converged",
                               "seconds", "engine"};
  assert_true(!strncmp(out, "{\"toolkit\":\"labelprop\",", 23));
  for (size_t i = 0; i < COUNT(keys); i++) {
    char *v = json_get(out, keys[i]);
    if (!v) fail_msg("labelprop --json lacks '%s': %s", keys[i], out);
    free(v);
  }
  free(out);
  out = OUT("labelprop", "-i", p, "--json", "--quiet", "--engine", "async",
            "--consistency", "vertex", "-t", "2");
  assert_true(json_true(out, "converged"));
  free(out);
  free(p);
}

/* The chromatic schedule (semi-synchronous updates) ends, and its labels
 * do not depend on the number of threads. */
static void test_labelprop_chromatic(void **state) {
  TU_NEED_BIN();
  rgraph g = rg_planted(2000, 12000, 0, 21);
  char *path = rg_write(state, "chromatic.txt", &g), *first = NULL;
  static const char *threads[] = {"1", "2", "4"};
  for (size_t i = 0; i < COUNT(threads); i++) {
    char *out = OUT("labelprop", "-i", path, "-o", "-", "--json", "-t",
                    threads[i], "--engine", "async", "--consistency", "edge",
                    "--locking", "chromatic");
    free(read_result(&g, out));
    assert_true(json_true(json_line(out), "converged"));
    *strrchr(out, '{') = '\0';
    if (first) assert_string_equal(out, first);
    if (first) free(out);
    else first = out;
  }
  free(first);
  free(path);
  rg_free(&g);
}

/* The per-vertex lines of `-o - --json` output, and their length. */
static size_t result_len(const char *out) {
  return (size_t)(json_line(out) - out);
}

/* Across ranks, sync rounds are one process's: the same labels, rounds
 * and convergence on 2 and 3 ranks, METIS or hash, also with weights
 * that are not integers (added in another order, their sums round
 * differently and can break a tie).  The default engine (sync across ranks, the
 * chromatic schedule in one process) and async say that they may differ,
 * in --json and in the summary. */
static void test_labelprop_ranks(void **state) {
  TU_NEED_BIN();
  for (uint64_t seed = 0; seed < 3; seed++) {
    rgraph g = rg_planted(300, 1500, 1, 40 + seed);
    tu_rng r = {seed + 7};
    for (uint64_t i = 0; i < g.m; i++)
      g.w[i] = 1 + (unsigned)tu_below(&r, 7);
    g.tenths = 1; /* 0.1 .. 0.7 */
    char name[32];
    snprintf(name, sizeof name, "lp-ranks%llu.txt", (unsigned long long)seed);
    char *path = rg_write(state, name, &g);
    char *one =
        OUT("labelprop", "-i", path, "-o", "-", "--json", "--engine", "sync");
    assert_null(json_get(json_line(one), "same_as_one_process"));
    static const char *nps[] = {"2", "3"}, *parts[] = {"metis", "hash"};
    for (size_t i = 0; i < COUNT(nps); i++)
      for (size_t q = 0; q < COUNT(parts); q++) {
        char *out =
            OUT("labelprop", "-i", path, "-o", "-", "--json", "--engine",
                "sync", "--np", nps[i], "--partition", parts[q]);
        if (result_len(out) != result_len(one) ||
            memcmp(out, one, result_len(one)))
          fail_msg("%s --np %s --partition %s: labels differ from one process",
                   name, nps[i], parts[q]);
        const char *j = json_line(out), *j1 = json_line(one);
        assert_int_equal(json_u64(j, "iterations"), json_u64(j1, "iterations"));
        assert_int_equal(json_true(j, "converged"), json_true(j1, "converged"));
        assert_true(json_true(j, "weighted"));
        assert_true(json_true(j, "same_as_one_process"));
        free(out);
      }
    if (seed == 0) {
      /* the default across ranks: sync rounds, and it says so */
      char *out =
          OUT("labelprop", "-i", path, "-o", "-", "--json", "--np", "2");
      assert_int_equal(result_len(out), result_len(one));
      assert_memory_equal(out, one, result_len(one));
      char *eng = json_get(json_line(out), "engine");
      assert_string_equal(eng, "\"sync\"");
      free(eng);
      assert_false(json_true(json_line(out), "same_as_one_process"));
      free(out);
      tu_result res = RUN("labelprop", "-i", path, "--np", "2");
      assert_int_equal(res.status, 0);
      assert_true(
          tu_contains(res.err, "across ranks the default engine is sync"));
      tu_result_free(&res);
      /* async across ranks ends, but on another colouring */
      out = OUT("labelprop", "-i", path, "--json", "--quiet", "--np", "2",
                "--engine", "async");
      assert_true(json_true(out, "converged"));
      assert_false(json_true(out, "same_as_one_process"));
      free(out);
      res = RUN("labelprop", "-i", path, "--np", "2", "--engine", "async");
      assert_int_equal(res.status, 0);
      assert_true(tu_contains(res.err, "the labels may differ"));
      tu_result_free(&res);
    }
    free(one);
    free(path);
    rg_free(&g);
  }
}

/* ---- json, trace, errors ----------------------------------------------- */

static void test_cc_json_trace(void **state) {
  TU_NEED_BIN();
  char *p = tu_path(*state, "g.txt"), *t = tu_path(*state, "trace.tsv");
  tu_write_str(p, "1 2\n2 3\n3 4\n4 5\n7 8\n9 9\n");
  tu_result r = RUN("cc", "-i", p, "--json", "--quiet", "--trace", t,
                    "--algorithm", "labelprop");
  assert_int_equal(r.status, 0);
  assert_string_equal(r.err, "");
  assert_true(!strncmp(r.out, "{\"toolkit\":\"cc\",", 16));
  static const char *keys[] = {"edges", "iterations", "seconds"};
  for (size_t i = 0; i < COUNT(keys); i++) {
    char *v = json_get(r.out, keys[i]);
    if (!v) fail_msg("cc --json lacks '%s': %s", keys[i], r.out);
    free(v);
  }
  assert_int_equal(json_u64(r.out, "vertices"), 8);
  assert_int_equal(json_u64(r.out, "components"), 3);
  assert_int_equal(json_u64(r.out, "largest_component"), 5);
  assert_true(json_true(r.out, "converged"));
  uint64_t iters = json_u64(r.out, "iterations");
  assert_true(iters >= 4); /* 1 -> 5 is four hops */
  tu_result_free(&r);
  char *trace = tu_read_file(t, NULL);
  assert_non_null(trace);
  assert_true(!strncmp(trace, "iteration\tactive\tupdates\tresidual\tseconds\n", 42));
  uint64_t lines = 0;
  for (char *c = trace; *c; c++) lines += *c == '\n';
  assert_int_equal(lines, iters + 1);
  free(trace);
  char *out = OUT("cc", "-i", p, "--json", "--quiet");
  assert_int_equal(json_u64(out, "iterations"), 2); /* afforest: two steps */
  assert_true(json_true(out, "converged"));
  assert_int_equal(json_u64(out, "components"), 3);
  free(out);
  out = OUT("cc", "-i", p, "--json", "--quiet", "--max-iter", "2",
            "--algorithm", "labelprop");
  assert_int_equal(json_u64(out, "iterations"), 2);
  assert_false(json_true(out, "converged"));
  free(out);
  /* summary on stderr without --quiet */
  r = RUN("cc", "-i", p);
  assert_int_equal(r.status, 0);
  assert_true(tu_contains(r.err, "3 components"));
  assert_string_equal(r.out, "");
  tu_result_free(&r);
  free(p);
  free(t);
}

static void test_bad_input(void **state) {
  TU_NEED_BIN();
  char *bad = tu_path(*state, "bad.txt"), *none = tu_path(*state, "none.txt");
  char *good = tu_path(*state, "good.txt");
  tu_write_str(bad, "1 2\n2 x\n");
  tu_write_str(good, "1 2\n");
  static const char *tk[] = {"cc", "labelprop"};
  for (size_t i = 0; i < COUNT(tk); i++) {
    const char *cases[][6] = {{tk[i], "-i", bad, NULL},
                              {tk[i], "-i", none, NULL},
                              {tk[i], NULL},
                              {tk[i], "-i", good, "--engine", "bogus", NULL},
                              {tk[i], "-i", good, "--max-iter", "-3", NULL},
                              {tk[i], good, "extra", NULL}};
    for (size_t c = 0; c < COUNT(cases); c++) {
      tu_result r = tu_gasp_runv(cases[c]);
      if (r.status != 2) fail_msg("%s case %zu: exit %d", tk[i], c, r.status);
      assert_true(tu_contains(r.err, "gasp: "));
      if (c == 0) assert_true(tu_contains(r.err, "bad.txt:2:"));
      if (c == 3) assert_true(tu_contains(r.err, "--engine"));
      tu_result_free(&r);
    }
    char *out = OUT(tk[i], "--help");
    assert_true(tu_contains(out, "usage: gasp"));
    free(out);
  }
  free(bad);
  free(none);
  free(good);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cc_random, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cc_snap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cc_json_trace, setup, teardown),
      cmocka_unit_test_setup_teardown(test_labelprop_reference, setup, teardown),
      cmocka_unit_test_setup_teardown(test_labelprop_json, setup, teardown),
      cmocka_unit_test_setup_teardown(test_labelprop_chromatic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_labelprop_ranks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
  };
  return cmocka_run_group_tests_name("toolkits_a", tests, NULL, NULL);
}
