/*
 * test_oom.c -- allocation failure, SQLite's way: every allocation the
 * library makes goes through one allocator (engine/alloc.c) with a
 * fail-after-N hook, and each operation below is run again and again with
 * allocation 0, 1, 2, ... made to fail (once, and from there on), until it
 * makes no allocation the hook can fail.  Every run must end either with
 * GASP_ENOMEM and a message, or -- where the library could do without the
 * memory -- with GASP_OK and the same result as a run without failures.
 * Nothing may crash, and nothing may leak (LeakSanitizer, in the
 * sanitizer build).
 *
 * Operations: loading (an edge list, gzip, Matrix Market, a snapshot),
 * building from arrays, saving a snapshot, partitioning, partition files
 * (writing and reading), a one-rank cluster's dist_new, the engine
 * through each toolkit call on one and two threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alloc.h"
#include "gasp.h"
#include "gasp_toolkits.h"
#include "testutil.h"

/* ---- digests of results -------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

static uint64_t graph_digest(const gasp_graph *g) {
  uint64_t h = 0xcbf29ce484222325ull;
  gasp_vid n = gasp_graph_num_vertices(g);
  h = fnv(h, &n, sizeof n);
  const double *w = gasp_graph_weights(g);
  gasp_adjacency a;
  gasp_graph_out_edges(g, &a);
  for (gasp_vid v = 0; v < n; v++) {
    gasp_gid id = gasp_graph_gid(g, v);
    h = fnv(h, &id, sizeof id);
    for (uint64_t j = a.off[v]; j < a.off[v + 1]; j++) {
      gasp_gid t = gasp_graph_gid(g, a.nbr[j]);
      h = fnv(h, &t, sizeof t);
      if (w) h = fnv(h, &w[a.slot ? a.slot[j] : j], sizeof *w);
    }
  }
  return h;
}

/* ---- the sweep ------------------------------------------------------ */

/* An operation: does its whole work (allocating and freeing everything
 * it makes), returns a status, and on GASP_OK a digest of its result. */
typedef int (*op_fn)(void *arg, uint64_t *digest, gasp_error *err);

/* Runs op with each allocation in turn made to fail, once and then from
 * there on; returns the number of allocations of a clean run. */
static long sweep(const char *name, op_fn op, void *arg) {
  /* GASP_OOM_ONLY=TEXT: only the operations whose name has TEXT */
  const char *only = getenv("GASP_OOM_ONLY");
  if (only && !strstr(name, only)) return 0;
  gasp_error err;
  uint64_t ref = 0;
  memset(&err, 0, sizeof err);
  gasp__alloc_fail_after(0, 0);
  gasp__alloc_fail_after(-1, 0);
  int rc = op(arg, &ref, &err);
  if (rc != GASP_OK) fail_msg("%s: %s without failures", name, err.msg);
  /* GASP_OOM_FROM=N starts at allocation N (with a debugger, break at
   * gasp__alloc_injected for where it failed) */
  long n = getenv("GASP_OOM_FROM") ? atol(getenv("GASP_OOM_FROM")) : 0,
       clean = -1;
  for (;; n++) {
    for (int persistent = 0; persistent < 2; persistent++) {
      uint64_t dig = 0;
      memset(&err, 0, sizeof err);
      gasp__alloc_fail_after(n, persistent);
      rc = op(arg, &dig, &err);
      long made = gasp__alloc_count(), failed = gasp__alloc_failed();
      gasp__alloc_fail_after(-1, 0);
      if (failed == 0) { /* it made n allocations or fewer: done */
        if (rc != GASP_OK) fail_msg("%s: %s", name, err.msg);
        clean = made;
        break;
      }
      if (rc == GASP_OK) {
        if (dig != ref)
          fail_msg("%s: allocation %ld failed (%s), and the call succeeded "
                   "with a different result",
                   name, n, persistent ? "and on" : "once");
      } else if (rc != GASP_ENOMEM || !err.msg[0]) {
        fail_msg("%s: allocation %ld failed (%s): status %s, message '%s' "
                 "(want GASP_ENOMEM with a message)",
                 name, n, persistent ? "and on" : "once", gasp_err_name(rc),
                 err.msg);
      }
    }
    if (clean >= 0) break;
  }
  print_message("%-40s %ld allocations, each failed in turn\n", name, clean);
  return clean;
}

/* ---- inputs --------------------------------------------------------- */

static char dir[256];

static const char *path_of(const char *name) {
  static char p[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

/* A small graph with a few components, weights and a self loop. */
#define NE 64
static gasp_gid src[NE], dst[NE];
static double wt[NE];

static void make_inputs(void) {
  tu_rng r = {42};
  for (int i = 0; i < NE; i++) {
    src[i] = (gasp_gid)(tu_below(&r, 30) * 3);
    dst[i] = (gasp_gid)(tu_below(&r, 30) * 3 + (i % 7 == 0 ? 0 : 1));
    wt[i] = 0.5 + (double)tu_below(&r, 8);
  }
  src[5] = dst[5] = 9; /* a self loop */
  FILE *f = fopen(path_of("g.el"), "w");
  assert_non_null(f);
  fputs("# a test graph\n", f);
  for (int i = 0; i < NE; i++)
    fprintf(f, "%llu\t%llu\t%g\n", (unsigned long long)src[i],
            (unsigned long long)dst[i], wt[i]);
  assert_int_equal(fclose(f), 0);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s'", path_of("g.el"),
           path_of("g.el.gz"));
  assert_int_equal(system(cmd), 0);
  f = fopen(path_of("g.mtx"), "w");
  assert_non_null(f);
  fprintf(f,
          "%%%%MatrixMarket matrix coordinate real general\n"
          "%% comment\n91 91 %d\n",
          NE);
  for (int i = 0; i < NE; i++)
    fprintf(f, "%llu %llu %g\n", (unsigned long long)src[i] + 1,
            (unsigned long long)dst[i] + 1, wt[i]);
  assert_int_equal(fclose(f), 0);
}

static gasp_graph *make_graph(int threads) {
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_from_coo(&g, NE, src, dst, wt, 0,
                                       GASP_BUILD_WEIGHTED, threads, NULL),
                   GASP_OK);
  return g;
}

static uint64_t file_digest(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  uint64_t h = 0;
  unsigned char buf[4096];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, f)) > 0)
    h = fnv(h, buf, k);
  fclose(f);
  return h;
}

/* ---- operations: input and graphs ----------------------------------- */

typedef struct load_arg {
  const char *file;
  gasp_format format;
  int threads;
} load_arg;

static int op_load(void *a, uint64_t *digest, gasp_error *err) {
  const load_arg *la = a;
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.format = la->format;
  o.threads = la->threads;
  gasp_graph *g = NULL;
  int rc = gasp_graph_load(&g, path_of(la->file), &o, err);
  if (rc == GASP_OK) *digest = graph_digest(g);
  gasp_graph_free(&g);
  return rc;
}

static int op_from_coo(void *a, uint64_t *digest, gasp_error *err) {
  int threads = *(int *)a;
  gasp_graph *g = NULL;
  int rc = gasp_graph_from_coo(&g, NE, src, dst, wt, 0,
                               GASP_BUILD_WEIGHTED | GASP_BUILD_SYMMETRIC,
                               threads, err);
  if (rc == GASP_OK) *digest = graph_digest(g);
  gasp_graph_free(&g);
  return rc;
}

static int op_save_snapshot(void *a, uint64_t *digest, gasp_error *err) {
  const gasp_graph *g = a;
  const char *p = path_of("saved.gasp");
  unlink(p);
  int rc = gasp_graph_save_snapshot(g, p, err);
  /* a failed save leaves nothing behind */
  struct stat sb;
  if (rc != GASP_OK && stat(p, &sb) == 0) fail_msg("a failed save left %s", p);
  if (rc == GASP_OK) *digest = file_digest(p);
  return rc;
}

/* Loads the snapshot and reorders it: each allocation of both fails in
 * turn. */
typedef struct reorder_arg {
  const char *path;
  gasp_reorder how;
} reorder_arg;

/* The snapshot loaded and reordered (*g NULL or the graph either way). */
static int load_reordered(const reorder_arg *ra, gasp_graph **g,
                          gasp_error *err) {
  gasp_load_opts lo;
  gasp_load_opts_init(&lo);
  lo.threads = 1;
  int rc = gasp_graph_load(g, path_of(ra->path), &lo, err);
  return rc ? rc : gasp_graph_reorder(g, ra->how, err);
}

static int op_reorder(void *a, uint64_t *digest, gasp_error *err) {
  gasp_graph *g = NULL;
  int rc = load_reordered(a, &g, err);
  if (rc == GASP_OK) {
    *digest = graph_digest(g);
    const gasp_vid *ord = gasp_graph_id_order(g);
    *digest = fnv(*digest, ord, gasp_graph_num_vertices(g) * sizeof *ord);
  }
  gasp_graph_free(&g);
  return rc;
}

/* Components of the reordered graph, renamed by smallest id. */
static int op_cc_reordered(void *a, uint64_t *digest, gasp_error *err) {
  gasp_graph *g = NULL;
  int rc = load_reordered(a, &g, err);
  gasp_vid n = g ? gasp_graph_num_vertices(g) : 0;
  gasp_vid *c = malloc((n ? n : 1) * sizeof *c);
  assert_non_null(c);
  gasp_cc_opts o;
  gasp_cc_opts_init(&o);
  o.engine.threads = 1;
  if (rc == GASP_OK) rc = gasp_cc(g, &o, c, NULL, err);
  if (rc == GASP_OK) {
    *digest = 0;
    for (gasp_vid v = 0; v < n; v++) {
      gasp_gid id = gasp_graph_gid(g, c[v]);
      *digest = fnv(*digest, &id, sizeof id);
    }
  }
  free(c);
  gasp_graph_free(&g);
  return rc;
}

typedef struct part_arg {
  gasp_graph *g;
  const char *method;
} part_arg;

static int op_partition(void *a, uint64_t *digest, gasp_error *err) {
  const part_arg *pa = a;
  gasp_vid n = gasp_graph_num_vertices(pa->g);
  uint32_t *owner = malloc(n * sizeof *owner);
  assert_non_null(owner);
  int rc = gasp_partition(pa->g, pa->method, 3, 1, owner, err);
  if (rc == GASP_OK) *digest = fnv(0, owner, n * sizeof *owner);
  free(owner);
  return rc;
}

static int op_save_parts(void *a, uint64_t *digest, gasp_error *err) {
  gasp_graph *g = a;
  gasp_vid n = gasp_graph_num_vertices(g);
  uint32_t *owner = malloc(n * sizeof *owner);
  assert_non_null(owner);
  for (gasp_vid v = 0; v < n; v++)
    owner[v] = 0;
  int rc = gasp_dist_save_parts(g, owner, 1, path_of("p"), err);
  free(owner);
  if (rc == GASP_OK) *digest = file_digest(path_of("p.0.gpart"));
  return rc;
}

static gasp_cluster *one_rank(void) {
  gasp_cluster_opts co;
  gasp_cluster_opts_init(&co);
  co.rank = 0;
  co.size = 1;
  co.key = "a key for the test";
  co.key_len = strlen(co.key);
  gasp_cluster *c = NULL;
  assert_int_equal(gasp_cluster_new(&c, &co, NULL), GASP_OK);
  return c;
}

static int op_dist_load(void *a, uint64_t *digest, gasp_error *err) {
  gasp_cluster *c = a;
  gasp_dist *d = NULL;
  int rc = gasp_dist_load(&d, c, path_of("p"), err);
  if (rc == GASP_OK) *digest = graph_digest(gasp_dist_graph(d));
  gasp_dist_free(&d);
  return rc;
}

typedef struct dist_arg {
  gasp_cluster *c;
  gasp_graph *g;
} dist_arg;

static int op_dist_new(void *a, uint64_t *digest, gasp_error *err) {
  const dist_arg *da = a;
  gasp_vid n = gasp_graph_num_vertices(da->g);
  uint32_t *owner = calloc(n, sizeof *owner);
  assert_non_null(owner);
  gasp_dist *d = NULL;
  int rc = gasp_dist_new(&d, da->c, da->g, owner, err);
  if (rc == GASP_OK) *digest = graph_digest(gasp_dist_graph(d));
  gasp_dist_free(&d);
  free(owner);
  return rc;
}

static void test_input_and_graphs(void **state) {
  (void)state;
  for (int t = 1; t <= 2; t++) {
    load_arg el = {"g.el", GASP_FORMAT_AUTO, t};
    load_arg gz = {"g.el.gz", GASP_FORMAT_AUTO, t};
    load_arg mm = {"g.mtx", GASP_FORMAT_AUTO, t};
    sweep(t == 1 ? "load edge list, 1 thread" : "load edge list, 2 threads",
          op_load, &el);
    sweep("load gzip edge list", op_load, &gz);
    sweep("load Matrix Market", op_load, &mm);
    sweep("graph from arrays", op_from_coo, &t);
  }
  gasp_graph *g = make_graph(1);
  sweep("save snapshot", op_save_snapshot, g);
  assert_int_equal(gasp_graph_save_snapshot(g, path_of("g.gasp"), NULL),
                   GASP_OK);
  load_arg snap = {"g.gasp", GASP_FORMAT_AUTO, 1};
  sweep("load snapshot", op_load, &snap);
  reorder_arg rd = {"g.gasp", GASP_REORDER_DEGREE},
              rb = {"g.gasp", GASP_REORDER_DBG},
              rr = {"g.gasp", GASP_REORDER_RCM};
  sweep("reorder (degree)", op_reorder, &rd);
  sweep("reorder (dbg)", op_reorder, &rb);
  sweep("reorder (rcm)", op_reorder, &rr);
  sweep("cc on a reordered graph", op_cc_reordered, &rd);
  part_arg ph = {g, "hash"}, pm = {g, "metis"};
  sweep("partition (hash)", op_partition, &ph);
  sweep("partition (metis)", op_partition, &pm);
  sweep("write partition files", op_save_parts, g);
  uint32_t *owner = calloc(gasp_graph_num_vertices(g), sizeof *owner);
  assert_non_null(owner);
  assert_int_equal(gasp_dist_save_parts(g, owner, 1, path_of("p"), NULL),
                   GASP_OK);
  free(owner);
  gasp_cluster *c = one_rank();
  sweep("read partition file", op_dist_load, c);
  dist_arg da = {c, g};
  sweep("dist_new (one rank)", op_dist_new, &da);
  gasp_cluster_free(&c);
  gasp_graph_free(&g);
}

/* ---- operations: the engine through the toolkits -------------------- */

typedef struct run_arg {
  gasp_graph *g;
  int threads;
  gasp_engine_kind engine;
  gasp_scheduler sched; /* async; kcore and cc */
  gasp_consistency cons;
  gasp_locking locking;
  int set; /* use the three above */
} run_arg;

static int op_pagerank(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_pagerank_opts o;
  gasp_pagerank_opts_init(&o);
  o.engine.threads = ra->threads;
  o.engine.engine = ra->engine;
  o.weighted = 1;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  double *r = malloc(n * sizeof *r);
  assert_non_null(r);
  int rc = gasp_pagerank(ra->g, &o, r, NULL, err);
  if (rc == GASP_OK) { /* async's order varies with threads: to 1e-6 */
    uint64_t h = 0;
    for (gasp_vid v = 0; v < n; v++) {
      long long q = llround(r[v] * 1e6);
      h = fnv(h, &q, sizeof q);
    }
    *digest = h;
  }
  free(r);
  return rc;
}

/* Sync PageRank with the cache-blocked gather (blocks of 64): the bins
 * are built at the first superstep, their values grow from floats to
 * doubles for the one exact superstep and back. */
static int op_pr_blocked(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_pagerank_opts o;
  gasp_pagerank_opts_init(&o);
  o.engine.threads = ra->threads;
  o.engine.blocked = GASP_BLOCK_ON;
  o.engine.block_vertices = 64;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  double *r = malloc(n * sizeof *r);
  assert_non_null(r);
  gasp_run_stats st;
  int rc = gasp_pagerank(ra->g, &o, r, &st, err);
  if (rc == GASP_OK) {
    assert_int_equal(st.blocked_iterations, st.iterations);
    *digest = fnv(0, r, n * sizeof *r);
  }
  free(r);
  return rc;
}

/* Sync PageRank writing checkpoints (every 2 supersteps of 6) into a
 * fresh directory, and one resuming from them (to 10 supersteps). */
static int pr_checkpointed(const run_arg *ra, const char *ck, const char *from,
                           uint64_t *digest, gasp_error *err) {
  gasp_pagerank_opts o;
  gasp_pagerank_opts_init(&o);
  o.engine.threads = ra->threads;
  o.tol = 0;
  o.engine.max_iter = from ? 10 : 6;
  o.engine.checkpoint_dir = ck;
  o.engine.checkpoint_every = 2;
  o.engine.resume_dir = from;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  double *r = malloc(n * sizeof *r);
  assert_non_null(r);
  int rc = gasp_pagerank(ra->g, &o, r, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, r, n * sizeof *r);
  free(r);
  return rc;
}

static int op_pr_checkpoint(void *a, uint64_t *digest, gasp_error *err) {
  char *ck = tu_mkdtemp();
  int rc = pr_checkpointed(a, ck, NULL, digest, err);
  tu_rmtree(ck);
  return rc;
}

static int op_pr_resume(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  static char *made[3]; /* by thread count: left for the process's end */
  if (!made[ra->threads]) {
    made[ra->threads] = tu_mkdtemp();
    uint64_t d; /* made in the sweep's first, clean run */
    assert_int_equal(pr_checkpointed(ra, made[ra->threads], NULL, &d, NULL),
                     GASP_OK);
  }
  return pr_checkpointed(ra, NULL, made[ra->threads], digest, err);
}

static int op_cc(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_cc_opts o;
  gasp_cc_opts_init(&o);
  o.engine.threads = ra->threads;
  o.engine.engine = ra->engine;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  gasp_vid *c = malloc(n * sizeof *c);
  assert_non_null(c);
  int rc = gasp_cc(ra->g, &o, c, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, c, n * sizeof *c);
  free(c);
  return rc;
}

static int op_labelprop(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_labelprop_opts o;
  gasp_labelprop_opts_init(&o);
  o.engine.threads = ra->threads;
  o.engine.engine = ra->engine;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  gasp_vid *l = malloc(n * sizeof *l);
  assert_non_null(l);
  int rc = gasp_labelprop(ra->g, &o, l, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, l, n * sizeof *l);
  free(l);
  return rc;
}

static int op_sssp(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_sssp_opts o;
  gasp_sssp_opts_init(&o);
  o.engine.threads = ra->threads;
  o.engine.engine = ra->engine;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  double *d = malloc(n * sizeof *d);
  assert_non_null(d);
  int rc = gasp_sssp(ra->g, &o, 0, d, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, d, n * sizeof *d);
  free(d);
  return rc;
}

static int op_bfs(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_bfs_opts o;
  gasp_bfs_opts_init(&o);
  o.engine.threads = ra->threads;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  uint32_t *depth = malloc(n * sizeof *depth);
  gasp_vid *parent = malloc(n * sizeof *parent);
  assert_true(depth && parent);
  int rc = gasp_bfs(ra->g, &o, 0, depth, parent, NULL, err);
  if (rc == GASP_OK)
    *digest = fnv(fnv(0, depth, n * sizeof *depth), parent, n * sizeof *parent);
  free(depth);
  free(parent);
  return rc;
}

static int op_kcore(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_kcore_opts o;
  gasp_kcore_opts_init(&o);
  o.engine.threads = ra->threads;
  o.engine.engine = ra->engine;
  if (ra->set) {
    o.engine.scheduler = ra->sched;
    o.engine.consistency = ra->cons;
    o.engine.locking = ra->locking;
  }
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  uint32_t *core = malloc(n * sizeof *core);
  assert_non_null(core);
  int rc = gasp_kcore(ra->g, &o, core, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, core, n * sizeof *core);
  free(core);
  return rc;
}

static int op_triangles(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_triangles_opts o;
  gasp_triangles_opts_init(&o);
  o.engine.threads = ra->threads;
  o.engine.engine = ra->engine;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  uint64_t *pv = malloc(n * sizeof *pv);
  assert_non_null(pv);
  gasp_triangles_totals tot;
  int rc = gasp_triangles(ra->g, &o, pv, &tot, NULL, err);
  if (rc == GASP_OK)
    *digest = fnv(fnv(0, pv, n * sizeof *pv), &tot, sizeof tot);
  free(pv);
  return rc;
}

static int op_colour(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_colour_opts o;
  gasp_colour_opts_init(&o);
  o.engine.threads = ra->threads;
  /* the async slot of the table: the saturation order */
  o.order = ra->engine == GASP_ENGINE_ASYNC ? GASP_COLOUR_SATURATION
                                            : GASP_COLOUR_DEGREE;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  uint32_t *c = malloc(n * sizeof *c);
  assert_non_null(c);
  int rc = gasp_colour(ra->g, &o, c, NULL, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, c, n * sizeof *c);
  free(c);
  return rc;
}

static int op_scc(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_scc_opts o;
  gasp_scc_opts_init(&o);
  o.engine.threads = ra->threads;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  gasp_vid *c = malloc(n * sizeof *c);
  assert_non_null(c);
  int rc = gasp_scc(ra->g, &o, c, NULL, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, c, n * sizeof *c);
  free(c);
  return rc;
}

static int op_closeness(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_closeness_opts o;
  gasp_closeness_opts_init(&o);
  o.engine.threads = ra->threads;
  /* the async slot of the table: sampled harmonic centrality */
  if (ra->engine == GASP_ENGINE_ASYNC) {
    o.harmonic = 1;
    o.samples = 5;
  }
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  double *s = malloc(n * sizeof *s);
  assert_non_null(s);
  int rc = gasp_closeness(ra->g, &o, s, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, s, n * sizeof *s);
  free(s);
  return rc;
}

static int op_bc(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_bc_opts o;
  gasp_bc_opts_init(&o);
  o.engine.threads = ra->threads;
  o.samples = 5; /* a sample, and a scaling that allocates */
  o.norm = GASP_BC_NORM_NETWORKX;
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  double *s = malloc(n * sizeof *s);
  assert_non_null(s);
  int rc = gasp_bc(ra->g, &o, s, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, s, n * sizeof *s);
  free(s);
  return rc;
}

static int op_diameter(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_diameter_opts o;
  gasp_diameter_opts_init(&o);
  o.engine.threads = ra->threads;
  o.exact = ra->engine == GASP_ENGINE_ASYNC; /* the async slot: exact */
  gasp_vid n = gasp_graph_num_vertices(ra->g);
  uint32_t *ecc = malloc(n * sizeof *ecc);
  assert_non_null(ecc);
  double nf[64] = {0};
  gasp_diameter_info info;
  int rc = gasp_diameter(ra->g, &o, ecc, nf, 64, &info, NULL, err);
  if (rc == GASP_OK)
    *digest = fnv(fnv(fnv(0, ecc, n * sizeof *ecc), nf, sizeof nf), &info,
                  sizeof info);
  free(ecc);
  return rc;
}

/* Jacobi on a tridiagonal system (4 on the diagonal, -1 beside it),
 * built from arrays in the operation. */
static int op_jacobi(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  enum { N = 40 };
  gasp_gid r[3 * N], c[3 * N];
  double v[3 * N];
  uint64_t m = 0;
  for (gasp_gid i = 1; i <= N; i++) {
    r[m] = i, c[m] = i, v[m++] = 4;
    if (i > 1) r[m] = i, c[m] = i - 1, v[m++] = -1;
    if (i < N) r[m] = i, c[m] = i + 1, v[m++] = -1;
  }
  gasp_graph *g = NULL;
  int rc = gasp_graph_from_coo(&g, m, r, c, v, 0, GASP_BUILD_WEIGHTED,
                               ra->threads, err);
  if (rc) return rc;
  gasp_jacobi_opts o;
  gasp_jacobi_opts_init(&o);
  o.engine.threads = ra->threads;
  double x[N];
  gasp_jacobi_info info;
  rc = gasp_jacobi(g, &o, NULL, x, &info, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, x, sizeof x);
  gasp_graph_free(&g);
  return rc;
}

/* k-means of 60 points in 2 dimensions (the vertices of a graph without
 * edges, built in the operation), seeded by k-means++. */
static int op_kmeans(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  enum { N = 60 };
  double x[2 * N], c[3 * 2];
  for (int i = 0; i < N; i++) {
    x[2 * i] = (i % 3) * 5.0 + (i % 7) * 0.1;
    x[2 * i + 1] = (i % 3) * 2.0 - (i % 5) * 0.1;
  }
  gasp_graph *g = NULL;
  int rc = gasp_graph_from_coo(&g, 0, NULL, NULL, NULL, N, 0, ra->threads, err);
  if (rc) return rc;
  gasp_kmeans_opts o;
  gasp_kmeans_opts_init(&o);
  o.k = 3;
  o.engine.threads = ra->threads;
  uint32_t cl[N];
  rc = gasp_kmeans(g, &o, x, 2, cl, c, NULL, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, cl, sizeof cl);
  gasp_graph_free(&g);
  return rc;
}

/* The 4 largest singular values of a 30 x 20 matrix (rows left, columns
 * right), built from arrays in the operation. */
static int op_svd(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  enum { M = 30, N = 20 };
  gasp_gid r[M * 4], c[M * 4];
  double v[M * 4];
  uint64_t m = 0;
  for (gasp_gid i = 0; i < M; i++)
    for (gasp_gid q = 0; q < 4; q++) {
      r[m] = i, c[m] = (i * 3 + q * 7) % N;
      v[m++] = 1.0 + (double)((i * 5 + q) % 9) / 4.0;
    }
  gasp_graph *g = NULL;
  int rc = gasp_graph_from_coo(&g, m, r, c, v, 0,
                               GASP_BUILD_WEIGHTED | GASP_BUILD_BIPARTITE,
                               ra->threads, err);
  if (rc) return rc;
  gasp_svd_opts o;
  gasp_svd_opts_init(&o);
  o.k = 4;
  o.engine.threads = ra->threads;
  double s[4];
  rc = gasp_svd(g, &o, s, NULL, NULL, NULL, NULL, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, s, sizeof s);
  gasp_graph_free(&g);
  return rc;
}

/* Spectral clustering of two 8-cliques joined by an edge. */
static int op_spectral(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  gasp_gid s[64], d[64];
  uint64_t m = 0;
  for (gasp_gid b = 0; b < 2; b++)
    for (gasp_gid i = 0; i < 8; i++)
      for (gasp_gid j = i + 1; j < 8; j += 2)
        s[m] = b * 8 + i, d[m++] = b * 8 + j;
  s[m] = 0, d[m++] = 8;
  gasp_graph *g = NULL;
  int rc = gasp_graph_from_coo(&g, m, s, d, NULL, 0, 0, ra->threads, err);
  if (rc) return rc;
  gasp_spectral_opts o;
  gasp_spectral_opts_init(&o);
  o.k = 2;
  o.engine.threads = ra->threads;
  uint32_t cl[16];
  rc = gasp_spectral(g, &o, cl, NULL, NULL, NULL, NULL, err);
  if (rc == GASP_OK) *digest = fnv(0, cl, sizeof cl);
  gasp_graph_free(&g);
  return rc;
}

/* Loopy belief propagation on a 5 x 5 grid of 3-state variables (one
 * smoothing table for every factor), built from arrays in the operation. */
static int op_lbp(void *a, uint64_t *digest, gasp_error *err) {
  const run_arg *ra = a;
  enum { W = 5, N = W * W, M = 2 * W * (W - 1) };
  uint32_t card[N];
  double unary[3 * N], pair[9];
  uint64_t u[M], v[M], off[M];
  uint64_t m = 0;
  for (int i = 0; i < N; i++) {
    card[i] = 3;
    for (int x = 0; x < 3; x++)
      unary[3 * i + x] = 1 + ((i * 7 + x * 3) % 5);
    if (i % W + 1 < W) u[m] = i, v[m] = i + 1, off[m++] = 0;
    if (i + W < N) u[m] = i, v[m] = i + W, off[m++] = 0;
  }
  for (int x = 0; x < 9; x++)
    pair[x] = x % 4 == 0 ? 2.0 : 0.5;
  gasp_mrf mrf = {N, card, unary, m, u, v, pair, off};
  gasp_lbp_opts o;
  gasp_lbp_opts_init(&o);
  o.engine.engine = ra->engine;
  o.engine.threads = ra->threads;
  double b[3 * N];
  uint32_t map[N];
  int rc = gasp_lbp(&mrf, &o, b, map, NULL, NULL, err);
  if (rc == GASP_OK) *digest = fnv(fnv(0, b, sizeof b), map, sizeof map);
  return rc;
}

static void test_engine_runs(void **state) {
  (void)state;
  static const struct {
    const char *name;
    op_fn op;
    int async; /* the async engine too */
  } ops[] = {
      {"pagerank", op_pagerank, 1},
      {"cc", op_cc, 1},
      {"labelprop", op_labelprop, 1},
      {"sssp", op_sssp, 1},
      {"bfs", op_bfs, 0},
      {"kcore", op_kcore, 1},
      {"triangles", op_triangles, 1},
      {"colour", op_colour, 1},
      {"scc", op_scc, 0},
      {"closeness", op_closeness, 1},
      {"diameter", op_diameter, 1},
      {"bc", op_bc, 0},
      {"jacobi", op_jacobi, 0},
      {"kmeans", op_kmeans, 0},
      {"svd", op_svd, 0},
      {"spectral", op_spectral, 0},
      {"pagerank checkpoints", op_pr_checkpoint, 0},
      {"pagerank resume", op_pr_resume, 0},
      {"pagerank blocked", op_pr_blocked, 0},
      {"lbp", op_lbp, 1},
  };
  for (int t = 1; t <= 2; t++) {
    gasp_graph *g = make_graph(t);
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
      for (int e = 0; e <= ops[i].async; e++) {
        run_arg ra = {.g = g,
                      .threads = t,
                      .engine = e ? GASP_ENGINE_ASYNC : GASP_ENGINE_SYNC};
        char name[64];
        const char *how = e ? "async" : "sync";
        if (ops[i].op == op_colour) how = e ? "DSatur" : "degree order";
        if (ops[i].op == op_closeness) how = e ? "sampled harmonic" : "exact";
        if (ops[i].op == op_diameter) how = e ? "exact" : "HyperANF";
        snprintf(name, sizeof name, "%s, %s, %d thread%s", ops[i].name, how, t,
                 t > 1 ? "s" : "");
        /* labelprop's async answer depends on the order of updates */
        if (e && t > 1 && ops[i].op == op_labelprop) continue;
        /* and so do async lbp's last bits */
        if (e && t > 1 && ops[i].op == op_lbp) continue;
        sweep(name, ops[i].op, &ra);
      }
    gasp_graph_free(&g);
  }
}

/* The async engine's schedulers, consistency models and ways of
 * enforcing them (k-core numbers are the same whatever the order). */
static void test_async_variants(void **state) {
  (void)state;
  static const char *sn[] = {"fifo", "sweep", "priority"};
  static const char *cn[] = {"vertex", "edge", "full"};
  static const char *ln[] = {"default", "locks", "chromatic"};
  gasp_graph *g = make_graph(2);
  for (int sc = 0; sc < 3; sc++)
    for (int c = 0; c < 3; c++)
      for (int l = 0; l < 3; l++) {
        run_arg ra = {g,
                      2,
                      GASP_ENGINE_ASYNC,
                      (gasp_scheduler)sc,
                      (gasp_consistency)c,
                      (gasp_locking)l,
                      1};
        char name[96];
        snprintf(name, sizeof name, "kcore, async %s %s %s", sn[sc], cn[c],
                 ln[l]);
        sweep(name, op_kcore, &ra);
      }
  gasp_graph_free(&g);
}

/* ---- matrix factorization and LDA ------------------------------------ */

static gasp_graph *ratings_graph(void) {
  enum { M = 120 };
  gasp_gid u[M], i[M];
  double r[M];
  tu_rng rng = {7};
  for (int j = 0; j < M; j++) {
    u[j] = (gasp_gid)tu_below(&rng, 20);
    i[j] = (gasp_gid)tu_below(&rng, 15);
    r[j] = 1 + (double)tu_below(&rng, 5);
  }
  gasp_graph *g = NULL;
  assert_int_equal(
      gasp_graph_from_coo(&g, M, u, i, r, 0,
                          GASP_BUILD_BIPARTITE | GASP_BUILD_WEIGHTED, 1, NULL),
      GASP_OK);
  return g;
}

typedef struct mf_arg {
  gasp_graph *g;
  int als, threads;
} mf_arg;

static int op_mf(void *a, uint64_t *digest, gasp_error *err) {
  const mf_arg *ma = a;
  gasp_mf_opts o;
  gasp_mf_opts_init(&o);
  o.rank = 4;
  o.engine.threads = ma->threads;
  o.engine.max_iter = 3;
  o.biased = !ma->als; /* SGD; SVD++ implies it */
  gasp_vid n = gasp_graph_num_vertices(ma->g);
  float *f = malloc(n * 4 * sizeof *f), *b = malloc(n * sizeof *b);
  float *y = malloc(n * 4 * sizeof *y);
  uint64_t E = gasp_graph_num_edges(ma->g);
  double *w = malloc(E * sizeof *w);
  assert_true(f && b && y && w);
  for (uint64_t s = 0; s < E; s++)
    w[s] = 0.5 + (double)(s % 3);
  /* als 1: ALS, 2: NMF, 3: SVD++, 4: weighted ALS, 0: SGD */
  int rc = ma->als == 4   ? gasp_wals(ma->g, &o, w, f, NULL, NULL, err)
           : ma->als == 3 ? gasp_svdpp(ma->g, &o, f, b, y, NULL, NULL, err)
           : ma->als == 2 ? gasp_nmf(ma->g, &o, f, NULL, NULL, err)
           : ma->als      ? gasp_als(ma->g, &o, f, NULL, NULL, err)
                          : gasp_sgd(ma->g, &o, f, b, NULL, NULL, err);
  if (rc == GASP_OK)
    *digest = fnv(ma->als == 3 ? fnv(0, y, n * 4 * sizeof *y) : 0, f,
                  n * 4 * sizeof *f);
  free(f);
  free(b);
  free(y);
  free(w);
  return rc;
}

static int op_lda(void *a, uint64_t *digest, gasp_error *err) {
  const mf_arg *la = a;
  gasp_lda_opts o;
  gasp_lda_opts_init(&o);
  o.topics = 3;
  o.engine.threads = la->threads;
  o.engine.max_iter = 3;
  gasp_vid n = gasp_graph_num_vertices(la->g);
  uint32_t *cnt = malloc(n * 3 * sizeof *cnt);
  assert_non_null(cnt);
  int rc = gasp_lda(la->g, &o, cnt, NULL, NULL, err);
  /* Hogwild across threads: the digest only on one thread */
  if (rc == GASP_OK)
    *digest = la->threads > 1 ? 1 : fnv(0, cnt, n * 3 * sizeof *cnt);
  free(cnt);
  return rc;
}

static void test_mf_lda(void **state) {
  (void)state;
  gasp_graph *g = ratings_graph();
  for (int t = 1; t <= 2; t++) {
    mf_arg als = {g, 1, t}, sgd = {g, 0, t}, lda = {g, 0, t}, nmf = {g, 2, t},
           svdpp = {g, 3, t}, wals = {g, 4, t};
    sweep(t == 1 ? "als, 1 thread" : "als, 2 threads", op_mf, &als);
    sweep(t == 1 ? "nmf, 1 thread" : "nmf, 2 threads", op_mf, &nmf);
    sweep(t == 1 ? "sgd, 1 thread" : "sgd, 2 threads", op_mf, &sgd);
    sweep(t == 1 ? "svdpp, 1 thread" : "svdpp, 2 threads", op_mf, &svdpp);
    sweep(t == 1 ? "wals, 1 thread" : "wals, 2 threads", op_mf, &wals);
    sweep(t == 1 ? "lda, 1 thread" : "lda, 2 threads", op_lda, &lda);
  }
  gasp_graph_free(&g);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/gasp_oom_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  make_inputs();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_input_and_graphs),
      cmocka_unit_test(test_engine_runs),
      cmocka_unit_test(test_async_variants),
      cmocka_unit_test(test_mf_lda),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
