/*
 * test_checkpoint.c -- gasp_engine_checkpoint / gasp_engine_resume:
 *  - a run stopped after checkpoint k and resumed in a fresh engine ends
 *    with the bits of an uninterrupted run: a PageRank-style program whose
 *    frontier shrinks (priorities), a min-label program carrying messages
 *    and an aggregator, and the caller's own state section;
 *  - automatic checkpoints (every N supersteps) keep the newest two
 *    complete generations and leave no temporaries;
 *  - a damaged, truncated or manifest-less generation is passed over for
 *    the one before; when none is left, GASP_EFORMAT;
 *  - another graph, program or run key is refused with what differs; an
 *    empty directory is GASP_ENOENT;
 *  - the commands (1, 2 and 4 ranks), and under bounded staleness, where
 *    each rank cuts at its own superstep with the payloads in flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_internal.h"
#include "gasp_toolkits.h"
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>

/* ---- graphs and programs --------------------------------------------- */

static gasp_graph *graph(uint64_t n, uint64_t m, uint64_t seed) {
  gasp_builder *b;
  assert_int_equal(gasp_builder_new(&b, 0), GASP_OK);
  tu_rng rng = {seed};
  for (uint64_t i = 0; i < n; i++) /* a cycle: every vertex has out-edges */
    assert_int_equal(gasp_builder_add_edge(b, i, (i + 1) % n, 1), GASP_OK);
  for (uint64_t i = 0; i < m; i++)
    assert_int_equal(gasp_builder_add_edge(b, tu_below(&rng, n),
                                           tu_below(&rng, n), 1),
                     GASP_OK);
  gasp_graph *g;
  assert_int_equal(gasp_builder_finish(b, 2, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  return g;
}

/* PageRank with a tolerance: a vertex whose rank moved signals its
 * out-neighbours with the change as priority. */
typedef struct prv {
  double rank, inv_out, change;
} prv;

static void pr_init(gasp_ctx *ctx, void *vd) {
  prv *v = vd;
  v->rank = 1.0 / gasp_ctx_num_vertices(ctx);
  v->inv_out = 1.0 / (double)gasp_ctx_out_degree(ctx);
  v->change = 1;
}

static void pr_gather(const gasp_ctx *c, const void *v, const gasp_edge *e,
                      void *acc) {
  (void)c, (void)v;
  const prv *u = e->nbr_data;
  *(double *)acc += u->rank * u->inv_out;
}

static void pr_sum(const gasp_ctx *c, void *acc, const void *o) {
  (void)c;
  *(double *)acc += *(const double *)o;
}

static void pr_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  prv *v = vd;
  double nr = 0.15 / gasp_ctx_num_vertices(ctx) + 0.85 * *(const double *)acc;
  v->change = fabs(nr - v->rank);
  v->rank = nr;
}

static void pr_scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  const prv *v = vd;
  if (v->change > 1e-9) gasp_signal_priority(ctx, e->nbr, v->change);
}

static gasp_program pr_program(void) {
  gasp_program p;
  memset(&p, 0, sizeof p);
  p.vertex_size = sizeof(prv);
  p.acc_size = sizeof(double);
  p.init_vertex = pr_init;
  p.gather_dir = GASP_DIR_IN;
  p.gather = pr_gather;
  p.sum = pr_sum;
  p.apply = pr_apply;
  p.scatter_dir = GASP_DIR_OUT;
  p.scatter = pr_scatter;
  return p;
}

/* Minimum label over the undirected graph, pushed as messages; the
 * update counts itself in its vertex data. */
typedef struct mlv {
  uint32_t label, updates;
} mlv;

static void ml_init(gasp_ctx *ctx, void *vd) {
  mlv *v = vd;
  v->label = (uint32_t)(gasp_ctx_gid(ctx) * 2654435761u % 1000003u);
}

static void ml_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)acc;
  mlv *v = vd;
  const uint32_t *m = gasp_ctx_msg(ctx);
  v->updates++;
  if (m && *m < v->label) v->label = *m;
}

static void ml_scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  const mlv *v = vd;
  const mlv *u = e->nbr_data;
  if (v->label < u->label) gasp_signal_msg(ctx, e->nbr, &v->label);
}

static void cnt_map(const gasp_graph *g, gasp_vid v, const void *vd, void *acc,
                    void *user) {
  (void)g, (void)v, (void)user;
  *(uint64_t *)acc += ((const mlv *)vd)->label;
}

static void cnt_combine(void *acc, const void *o, void *user) {
  (void)user;
  *(uint64_t *)acc += *(const uint64_t *)o;
}

static gasp_program ml_program(void) {
  gasp_program p;
  memset(&p, 0, sizeof p);
  p.vertex_size = sizeof(mlv);
  p.acc_size = sizeof(uint32_t);
  p.init_vertex = ml_init;
  p.apply = ml_apply;
  p.scatter_dir = GASP_DIR_ALL;
  p.scatter = ml_scatter;
  p.msg_size = sizeof(uint32_t);
  p.combine = gasp_combine_min_u32;
  return p;
}

/* ---- helpers -------------------------------------------------------- */

typedef struct run {
  gasp_engine *e;
  int agg;
  uint64_t side[4]; /* the caller's state: [0] iterations seen, [1] a sum */
  uint64_t die_at;  /* SIGKILL this process at this iteration (0: never) */
} run;

static int on_iter(void *user, const gasp_iter_info *info) {
  run *r = user;
  r->side[0]++;
  r->side[1] = r->side[1] * 31 + info->active;
  if (r->die_at && info->iteration == r->die_at) raise(SIGKILL);
  return 0;
}

static void start(run *r, gasp_graph *g, const gasp_program *p, int threads,
                  const char *ckdir, uint64_t every, const char *key) {
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.threads = threads;
  o.checkpoint_dir = ckdir;
  o.checkpoint_every = every;
  o.on_iteration = on_iter;
  o.on_iteration_user = r;
  uint64_t die = r->die_at;
  memset(r, 0, sizeof *r);
  r->die_at = die;
  gasp_error err;
  if (gasp_engine_new(&r->e, g, p, &o, &err)) fail_msg("engine: %s", err.msg);
  r->agg = -1;
  if (p->msg_size) {
    gasp_aggregator a;
    memset(&a, 0, sizeof a);
    a.size = sizeof(uint64_t);
    a.map_vertex = cnt_map;
    a.combine = cnt_combine;
    a.period_iterations = 1;
    assert_int_equal(gasp_engine_add_aggregator(r->e, &a, &r->agg), GASP_OK);
  }
  assert_int_equal(
      gasp_engine_checkpoint_state(r->e, "side", r->side, sizeof r->side),
      GASP_OK);
  assert_int_equal(gasp_engine_set_checkpoint_key(r->e, key), GASP_OK);
}

static void signal_all(run *r) {
  assert_int_equal(gasp_engine_signal_all(r->e, 1), GASP_OK);
}

static gasp_run_stats go(run *r) {
  gasp_run_stats st;
  if (gasp_engine_run(r->e, &st))
    fail_msg("run: %s", gasp_engine_last_error(r->e)->msg);
  return st;
}

/* The vertex data after an uninterrupted run, and the caller's state. */
typedef struct outcome {
  void *vdata;
  size_t bytes;
  uint64_t side[4], iteration, updates, agg;
} outcome;

static outcome finish(run *r, gasp_graph *g, size_t vsize) {
  outcome o;
  o.bytes = gasp_graph_num_vertices(g) * vsize;
  o.vdata = malloc(o.bytes);
  memcpy(o.vdata, gasp_graph_vertex_data(g), o.bytes);
  memcpy(o.side, r->side, sizeof o.side);
  o.iteration = r->e->iteration;
  o.updates = r->e->updates;
  o.agg = 0;
  if (r->agg >= 0) memcpy(&o.agg, r->e->aggs[r->agg].value, sizeof o.agg);
  return o;
}

static void same(const outcome *a, const outcome *b, const char *what) {
  if (a->iteration != b->iteration || a->updates != b->updates)
    fail_msg("%s: iteration %llu, %llu updates; uninterrupted %llu, %llu",
             what, (unsigned long long)b->iteration,
             (unsigned long long)b->updates, (unsigned long long)a->iteration,
             (unsigned long long)a->updates);
  if (memcmp(a->side, b->side, sizeof a->side))
    fail_msg("%s: the caller's state differs", what);
  if (a->agg != b->agg) fail_msg("%s: the aggregate differs", what);
  if (memcmp(a->vdata, b->vdata, a->bytes))
    fail_msg("%s: the vertex data differ", what);
}

static void outcome_free(outcome *o) { free(o->vdata); }

/* Counts entries of dir named like prefix*. */
static int count_named(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    n += !strncmp(de->d_name, prefix, strlen(prefix));
  closedir(d);
  return n;
}

/* The generation directory of iteration it, and its rank 0 file. */
static char *gen(const char *dir, uint64_t it, const char *file) {
  char *p = malloc(strlen(dir) + 64);
  sprintf(p, "%s/step-%020llu%s%s", dir, (unsigned long long)it,
          file ? "/" : "", file ? file : "");
  return p;
}

typedef gasp_program (*prog_fn)(void);

/* A child runs with a checkpoint every `every` supersteps and is killed
 * (SIGKILL) at superstep die_at; a fresh engine resumes from the newest
 * checkpoint and runs to the end: the same bits as a run never stopped,
 * on 1 and 2 threads. */
static void kill_and_resume(prog_fn pf, uint64_t every, uint64_t die_at,
                            uint64_t want_from) {
  gasp_graph *g = graph(3000, 9000, 5);
  gasp_program p = pf();
  for (int threads = 1; threads <= 2; threads++) {
    run r;
    r.die_at = 0;
    start(&r, g, &p, threads, NULL, 0, "test run");
    signal_all(&r);
    go(&r);
    outcome want = finish(&r, g, p.vertex_size);
    gasp_engine_free(&r.e);
    if (want.iteration <= die_at)
      fail_msg("the run ends at %llu, before the kill at %llu",
               (unsigned long long)want.iteration,
               (unsigned long long)die_at);

    char *dir = tu_mkdtemp();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      run c;
      c.die_at = die_at;
      start(&c, g, &p, threads, dir, every, "test run");
      signal_all(&c);
      gasp_run_stats st;
      gasp_engine_run(c.e, &st);
      _exit(3); /* not killed: the test fails below */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(count_named(dir, "step-"), 2); /* the newest two */

    run q;
    q.die_at = 0;
    start(&q, g, &p, threads, NULL, 0, "test run");
    uint64_t from = 0;
    if (gasp_engine_resume(q.e, dir, &from))
      fail_msg("resume: %s", gasp_engine_last_error(q.e)->msg);
    assert_int_equal(from, want_from);
    assert_int_equal(q.e->iteration, want_from);
    assert_int_equal(q.side[0], want_from); /* the caller's state is back */
    go(&q);
    outcome got = finish(&q, g, p.vertex_size);
    same(&want, &got, threads == 1 ? "1 thread" : "2 threads");
    outcome_free(&got);
    outcome_free(&want);
    gasp_engine_free(&q.e);
    tu_rmtree(dir); /* frees it */
  }
  gasp_graph_free(&g);
}

static void test_pagerank_resumes(void **state) {
  (void)state;
  kill_and_resume(pr_program, 4, 10, 8);
}

static void test_messages_resume(void **state) {
  (void)state;
  kill_and_resume(ml_program, 2, 5, 4);
}

/* Between runs: a checkpoint written by hand, the aggregator's value and
 * the pending messages restored before any run. */
static void test_between_runs(void **state) {
  (void)state;
  gasp_graph *g = graph(500, 1500, 9);
  gasp_program p = ml_program();
  run r;
  r.die_at = 0;
  start(&r, g, &p, 2, NULL, 0, "k");
  signal_all(&r);
  /* stop after 3 supersteps through the stop flag of on_iteration */
  gasp_engine_free(&r.e);
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.max_iter = 3;
  o.threads = 2;
  gasp_engine *e;
  assert_int_equal(gasp_engine_new(&e, g, &p, &o, NULL), GASP_OK);
  gasp_aggregator a;
  memset(&a, 0, sizeof a);
  a.size = sizeof(uint64_t);
  a.map_vertex = cnt_map;
  a.combine = cnt_combine;
  a.period_iterations = 1;
  int id;
  assert_int_equal(gasp_engine_add_aggregator(e, &a, &id), GASP_OK);
  assert_int_equal(gasp_engine_signal_all(e, 1), GASP_OK);
  gasp_run_stats st;
  assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
  assert_int_equal(st.iterations, 3);
  char *dir = tu_mkdtemp();
  assert_int_equal(gasp_engine_checkpoint(e, dir), GASP_OK);
  assert_int_equal(count_named(dir, "step-"), 1);
  char *sd = gen(dir, 3, NULL);
  assert_int_equal(count_named(sd, "rank-0.ckpt"), 1);
  assert_int_equal(count_named(sd, "MANIFEST"), 1);
  assert_int_equal(count_named(sd, "rank-0.ckpt.tmp"), 0);
  size_t nv = gasp_graph_num_vertices(g);
  uint8_t *flags = malloc(nv), *mf = malloc(nv);
  memcpy(flags, e->active, nv);
  memcpy(mf, e->mflag[e->mcur], nv);
  uint64_t aggv;
  memcpy(&aggv, e->aggs[id].value, sizeof aggv);
  /* the rest of the run, uninterrupted */
  o.max_iter = 0;
  e->opts.max_iter = 0;
  assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
  void *want = malloc(nv * sizeof(mlv));
  memcpy(want, gasp_graph_vertex_data(g), nv * sizeof(mlv));
  uint64_t want_it = e->iteration;
  gasp_engine_free(&e);
  /* a fresh engine from the checkpoint */
  o.max_iter = 0;
  assert_int_equal(gasp_engine_new(&e, g, &p, &o, NULL), GASP_OK);
  assert_int_equal(gasp_engine_add_aggregator(e, &a, &id), GASP_OK);
  uint64_t from;
  assert_int_equal(gasp_engine_resume(e, dir, &from), GASP_OK);
  assert_int_equal(from, 3);
  assert_memory_equal(e->active, flags, nv);
  assert_memory_equal(e->mflag[e->mcur], mf, nv);
  assert_true(memcmp(e->aggs[id].value, &aggv, sizeof aggv) == 0);
  assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
  assert_int_equal(e->iteration, want_it);
  assert_memory_equal(gasp_graph_vertex_data(g), want, nv * sizeof(mlv));
  gasp_engine_free(&e);
  free(want);
  free(flags);
  free(mf);
  free(sd);
  tu_rmtree(dir); /* frees it */
  gasp_graph_free(&g);
}

/* Writes generations at supersteps 2 and 4 of the PageRank program. */
static char *two_generations(gasp_graph *g) {
  gasp_program p = pr_program();
  char *dir = tu_mkdtemp();
  run r;
  r.die_at = 0;
  start(&r, g, &p, 2, dir, 2, "test run");
  r.e->opts.max_iter = 5;
  signal_all(&r);
  go(&r);
  gasp_engine_free(&r.e);
  assert_int_equal(count_named(dir, "step-"), 2);
  return dir;
}

static uint64_t resume_from(gasp_graph *g, const char *dir, int *rc,
                            gasp_error *err) {
  gasp_program p = pr_program();
  run r;
  r.die_at = 0;
  start(&r, g, &p, 1, NULL, 0, "test run");
  uint64_t from = 0;
  *rc = gasp_engine_resume(r.e, dir, &from);
  *err = *gasp_engine_last_error(r.e);
  gasp_engine_free(&r.e);
  return *rc ? 0 : from;
}

/* Damage passes over to the generation before; when every one is
 * damaged, GASP_EFORMAT naming the file. */
static void test_damaged(void **state) {
  (void)state;
  gasp_graph *g = graph(400, 1200, 3);
  int rc;
  gasp_error err;
  for (int kind = 0; kind < 4; kind++) {
    char *dir = two_generations(g);
    char *f4 = gen(dir, 4, "rank-0.ckpt"), *m4 = gen(dir, 4, "MANIFEST");
    char *f2 = gen(dir, 2, "rank-0.ckpt");
    struct stat sb;
    assert_int_equal(stat(f4, &sb), 0);
    if (kind == 0) { /* a flipped byte in the middle */
      FILE *f = fopen(f4, "r+b");
      fseek(f, (long)(sb.st_size / 2), SEEK_SET);
      int c = fgetc(f);
      fseek(f, (long)(sb.st_size / 2), SEEK_SET);
      fputc(c ^ 0x40, f);
      fclose(f);
    } else if (kind == 1) { /* truncated */
      assert_int_equal(truncate(f4, sb.st_size - 100), 0);
    } else if (kind == 2) { /* no manifest: never completed */
      assert_int_equal(unlink(m4), 0);
    } else { /* no file */
      assert_int_equal(unlink(f4), 0);
    }
    assert_int_equal(resume_from(g, dir, &rc, &err), 2);
    assert_int_equal(rc, GASP_OK);
    /* the older one damaged as well: nothing to resume from */
    assert_int_equal(truncate(f2, 10), 0);
    resume_from(g, dir, &rc, &err);
    assert_int_equal(rc, GASP_EFORMAT);
    if (!strstr(err.file, "step-0000"))
      fail_msg("kind %d: %s: %s", kind, err.file, err.msg);
    free(f4);
    free(m4);
    free(f2);
    tu_rmtree(dir); /* frees it */
  }
  gasp_graph_free(&g);
}

/* Another graph, program or run key: refused, saying which. */
static void test_mismatch(void **state) {
  (void)state;
  gasp_graph *g = graph(400, 1200, 3);
  char *dir = two_generations(g);
  int rc;
  gasp_error err;
  gasp_graph *other = graph(400, 1200, 4); /* same size, other edges */
  resume_from(other, dir, &rc, &err);
  assert_int_equal(rc, GASP_EINVAL);
  assert_non_null(strstr(err.msg, "another graph"));
  gasp_graph_free(&other);
  other = graph(401, 1200, 3);
  resume_from(other, dir, &rc, &err);
  assert_int_equal(rc, GASP_EINVAL);
  assert_non_null(strstr(err.msg, "401"));
  gasp_graph_free(&other);
  /* another program */
  gasp_program p = ml_program();
  run r;
  r.die_at = 0;
  start(&r, g, &p, 1, NULL, 0, "test run");
  assert_int_equal(gasp_engine_resume(r.e, dir, NULL), GASP_EINVAL);
  assert_non_null(strstr(gasp_engine_last_error(r.e)->msg, "another program"));
  gasp_engine_free(&r.e);
  /* another key */
  p = pr_program();
  start(&r, g, &p, 1, NULL, 0, "other options");
  assert_int_equal(gasp_engine_resume(r.e, dir, NULL), GASP_EINVAL);
  assert_non_null(strstr(gasp_engine_last_error(r.e)->msg, "other options"));
  /* an empty directory, and none at all */
  char *empty = tu_mkdtemp();
  assert_int_equal(gasp_engine_resume(r.e, empty, NULL), GASP_ENOENT);
  char *none = tu_path(empty, "none");
  assert_int_equal(gasp_engine_resume(r.e, none, NULL), GASP_ENOENT);
  /* bad arguments */
  assert_int_equal(gasp_engine_checkpoint_state(r.e, "side", r.side, 8),
                   GASP_EINVAL); /* a name twice */
  assert_int_equal(gasp_engine_checkpoint_state(r.e, "", r.side, 8),
                   GASP_EINVAL);
  assert_int_equal(gasp_engine_checkpoint(r.e, ""), GASP_EINVAL);
  gasp_engine_free(&r.e);
  free(none);
  tu_rmtree(empty); /* frees it */
  tu_rmtree(dir); /* frees it */
  gasp_graph_free(&g);
}

/* gasp_pagerank, killed after a checkpoint (before and after its switch
 * from float to double contributions) and resumed through
 * engine.resume_dir: the ranks, iterations and updates of a run never
 * stopped, on 1 and 2 threads. */
typedef struct pr_die {
  uint64_t at, first, calls; /* kill at; the first iteration seen, calls */
} pr_die;

static int pr_die_cb(void *user, const gasp_iter_info *info) {
  pr_die *d = user;
  if (d->at && info->iteration == d->at) raise(SIGKILL);
  if (!d->calls++) d->first = info->iteration;
  return 0;
}

static void test_pagerank_toolkit(void **state) {
  (void)state;
  gasp_graph *g = graph(5000, 30000, 21);
  size_t n = gasp_graph_num_vertices(g);
  double *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
  /* pulling, and with the cache-blocked gather (20 blocks of 256) */
  for (int pass = 0; pass < 4; pass++) {
    int threads = 1 + pass % 2, blocked = pass >= 2;
    gasp_pagerank_opts o;
    gasp_pagerank_opts_init(&o);
    o.tol = 1e-12;
    o.engine.threads = threads;
    o.engine.blocked = blocked ? GASP_BLOCK_ON : GASP_BLOCK_OFF;
    o.engine.block_vertices = 256;
    gasp_run_stats ws, gs;
    gasp_error err;
    if (gasp_pagerank(g, &o, want, &ws, &err)) fail_msg("%s", err.msg);
    assert_true(ws.iterations > 30);
    const uint64_t kills[] = {7, ws.iterations - 3};
    for (int k = 0; k < 2; k++) {
      char *dir = tu_mkdtemp();
      pid_t pid = fork();
      assert_true(pid >= 0);
      if (pid == 0) {
        pr_die d = {kills[k], 0, 0};
        gasp_pagerank_opts c = o;
        c.engine.checkpoint_dir = dir;
        c.engine.checkpoint_every = 5;
        c.engine.on_iteration = pr_die_cb;
        c.engine.on_iteration_user = &d;
        gasp_pagerank(g, &c, got, NULL, NULL);
        _exit(3);
      }
      int status;
      assert_int_equal(waitpid(pid, &status, 0), pid);
      assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      gasp_pagerank_opts r = o;
      r.engine.resume_dir = dir;
      r.engine.checkpoint_dir = dir;
      r.engine.checkpoint_every = 5;
      pr_die seen = {0, 0, 0};
      r.engine.on_iteration = pr_die_cb;
      r.engine.on_iteration_user = &seen;
      if (gasp_pagerank(g, &r, got, &gs, &err))
        fail_msg("resume: %s", err.msg);
      /* it went on from the last checkpoint before the kill */
      uint64_t from = (kills[k] - 1) / 5 * 5;
      assert_int_equal(seen.first, from + 1);
      assert_int_equal(seen.calls, ws.iterations - from);
      assert_int_equal(gs.iterations, ws.iterations);
      assert_int_equal(gs.updates, ws.updates);
      assert_int_equal(gs.reason, ws.reason);
      assert_int_equal(ws.blocked_iterations, blocked ? ws.iterations : 0);
      assert_memory_equal(got, want, n * sizeof *got);
      /* another damping: refused, naming the options */
      r.damping = 0.8;
      r.engine.on_iteration = NULL;
      assert_int_equal(gasp_pagerank(g, &r, got, NULL, &err), GASP_EINVAL);
      assert_non_null(strstr(err.msg, "damping=0.8"));
      tu_rmtree(dir); /* frees it */
    }
  }
  free(want);
  free(got);
  gasp_graph_free(&g);
}

/* The commands that keep checkpoints, on 1, 2 and 4 ranks: stopped at
 * --max-iter 3 with a checkpoint every superstep (push and pull
 * boundaries alike), then --resume: the output of a run never stopped,
 * byte for byte; the run key tells the commands apart.  The matrix
 * factorizations (1 and 2 ranks) likewise, between sweeps, and LDA (one
 * thread a rank, 1 and 2 ranks). */
static void test_commands(void **state) {
  (void)state;
  TU_NEED_BIN();
  char *dir = tu_mkdtemp();
  char *path = tu_path(dir, "g.el");
  FILE *f = fopen(path, "w");
  tu_rng rng = {31};
  for (int i = 0; i < 40000; i++)
    fprintf(f, "%llu %llu\n", (unsigned long long)tu_below(&rng, 9000) * 3,
            (unsigned long long)tu_below(&rng, 9000) * 3);
  fclose(f);
  char *full = tu_path(dir, "full.tsv"), *res = tu_path(dir, "res.tsv"),
       *part = tu_path(dir, "part.tsv");
  /* a command and up to four flags; one process only when marked */
  static const char *const cmds[][6] = {
      {"cc", NULL},
      {"cc", "--algorithm", "labelprop", NULL},
      {"sssp", "--source", "30", NULL},
      {"kcore", NULL},
      {"labelprop", NULL},
      {"labelprop", "--engine", "sync", NULL},
      {"pagerank", "--tol", "1e-12", NULL},
      /* the async engine with locks, paused for a checkpoint */
      {"kcore", "--engine", "async", "--locking", "locks", NULL},
      {"sssp", "--source", "30", "--engine", "async", NULL}};
  const char *nps[] = {"1", "2", "4"};
  for (size_t c = 0; c < sizeof cmds / sizeof *cmds; c++)
    for (int n = 0; n < 3; n++) {
      /* Afforest, the chromatic schedule and locks run in one process */
      int async = 0;
      for (int q = 1; cmds[c][q]; q++)
        async |= !strcmp(cmds[c][q], "async");
      if (n > 0 && (async || (!cmds[c][1] && (!strcmp(cmds[c][0], "cc") ||
                                             !strcmp(cmds[c][0], "labelprop")))))
        continue;
      char *ck = tu_path(dir, "ck");
      const char *a[24] = {cmds[c][0], "-i", path, "--np", nps[n], "-t", "1",
                           "--quiet", "-o"};
      int k = 9, base;
      a[k++] = full;
      for (int q = 1; cmds[c][q]; q++)
        a[k++] = cmds[c][q];
      base = k;
      a[k] = NULL;
      tu_result r = tu_gasp_runv(a);
      if (r.status) fail_msg("%s: %s", cmds[c][0], r.err);
      tu_result_free(&r);
      a[8 + 1] = part;
      k = base;
      a[k++] = "--max-iter", a[k++] = "3", a[k++] = "--checkpoint",
      a[k++] = ck, a[k++] = "--checkpoint-every", a[k++] = "1";
      a[k] = NULL;
      r = tu_gasp_runv(a);
      if (r.status) fail_msg("%s stopped: %s", cmds[c][0], r.err);
      tu_result_free(&r);
      a[8 + 1] = res;
      k = base;
      a[k++] = "--resume", a[k++] = ck;
      a[k] = NULL;
      r = tu_gasp_runv(a);
      if (r.status) fail_msg("%s resumed: %s", cmds[c][0], r.err);
      tu_result_free(&r);
      size_t nf, nr;
      char *x = tu_read_file(full, &nf), *y = tu_read_file(res, &nr);
      if (nf != nr || memcmp(x, y, nf))
        fail_msg("%s %s %s --np %s: resumed output differs", cmds[c][0],
                 cmds[c][1] ? cmds[c][2] : "",
                 cmds[c][1] && cmds[c][3] ? cmds[c][4] : "", nps[n]);
      free(x);
      free(y);
      /* another command's checkpoint is refused */
      const char *o[] = {strcmp(cmds[c][0], "kcore") ? "kcore" : "cc",
                         "-i", path, "--np", nps[n], "--resume", ck,
                         "--quiet", NULL};
      if (strcmp(o[0], "cc") || n == 0) {
        r = tu_gasp_runv(o);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "another program"));
        tu_result_free(&r);
      }
      tu_rmtree(ck); /* frees it */
    }
  /* matrix factorization: checkpoints between sweeps, the model files */
  char *rat = tu_path(dir, "r.tsv");
  f = fopen(rat, "w");
  for (int u = 0; u < 300; u++)
    for (int q = 0; q < 12; q++)
      fprintf(f, "%d\t%llu\t%g\n", u, (unsigned long long)tu_below(&rng, 200),
              1 + 0.5 * (double)tu_below(&rng, 9));
  fclose(f);
  static const char *const mfs[][2] = {
      {"als", NULL}, {"sgd", "--biased"}, {"svdpp", NULL}, {"nmf", NULL}};
  char *pre_full = tu_path(dir, "mfull"), *pre_res = tu_path(dir, "mres");
  char *pre_part = tu_path(dir, "mpart");
  char *fu = tu_path(dir, "mfull.users.tsv"), *ru = tu_path(dir, "mres.users.tsv");
  char *fi = tu_path(dir, "mfull.items.tsv"), *ri = tu_path(dir, "mres.items.tsv");
  for (size_t c = 0; c < sizeof mfs / sizeof *mfs; c++)
    for (int n = 0; n < 2; n++) {
      char *ck = tu_path(dir, "ck");
      const char *a[24] = {mfs[c][0], "-i", rat, "--np", nps[n], "-t", "1",
                           "--quiet", "-k", "4", "--max-iter", "9", "-o",
                           pre_full};
      int k = 14;
      if (mfs[c][1]) a[k++] = mfs[c][1];
      int base = k;
      a[k] = NULL;
      tu_result r = tu_gasp_runv(a);
      if (r.status) fail_msg("%s: %s", mfs[c][0], r.err);
      tu_result_free(&r);
      a[10 + 1] = "5", a[13] = pre_part;
      k = base;
      a[k++] = "--checkpoint", a[k++] = ck, a[k++] = "--checkpoint-every",
      a[k++] = "2";
      a[k] = NULL;
      r = tu_gasp_runv(a);
      if (r.status) fail_msg("%s stopped: %s", mfs[c][0], r.err);
      tu_result_free(&r);
      a[10 + 1] = "9", a[13] = pre_res;
      k = base;
      a[k++] = "--resume", a[k++] = ck;
      a[k] = NULL;
      r = tu_gasp_runv(a);
      if (r.status) fail_msg("%s resumed: %s", mfs[c][0], r.err);
      tu_result_free(&r);
      for (int side = 0; side < 2; side++) {
        size_t nf, nr;
        char *x = tu_read_file(side ? fi : fu, &nf),
             *y = tu_read_file(side ? ri : ru, &nr);
        if (nf != nr || memcmp(x, y, nf))
          fail_msg("%s --np %s: resumed %s differ", mfs[c][0], nps[n],
                   side ? "items" : "users");
        free(x);
        free(y);
      }
      tu_rmtree(ck); /* frees it */
    }
  /* LDA on one thread a rank: a sweep's random numbers follow from the
   * seed, the document and the sweep */
  char *corpus = tu_path(dir, "c.txt");
  const char *gen_args[] = {"generate", "lda", "--docs", "200",
                            "--vocab-size", "300", "--topics", "4", "-o",
                            corpus, "--quiet", NULL};
  tu_result gr = tu_gasp_runv(gen_args);
  assert_int_equal(gr.status, 0);
  tu_result_free(&gr);
  char *fd = tu_path(dir, "mfull.doc-topic.tsv"),
       *rd = tu_path(dir, "mres.doc-topic.tsv");
  char *fw = tu_path(dir, "mfull.word-topic.tsv"),
       *rw = tu_path(dir, "mres.word-topic.tsv");
  for (int n = 0; n < 2; n++) {
    char *ck = tu_path(dir, "ck");
    const char *a[] = {"lda", "-i", corpus, "-k", "4", "--iters", "15",
                       "-t", "1", "--np", nps[n], "--quiet", "-o", pre_full,
                       NULL, NULL, NULL, NULL, NULL};
    tu_result r = tu_gasp_runv(a);
    if (r.status) fail_msg("lda: %s", r.err);
    tu_result_free(&r);
    a[6] = "7", a[13] = pre_part, a[14] = "--checkpoint", a[15] = ck,
    a[16] = "--checkpoint-every", a[17] = "3";
    r = tu_gasp_runv(a);
    if (r.status) fail_msg("lda stopped: %s", r.err);
    tu_result_free(&r);
    a[6] = "15", a[13] = pre_res, a[14] = "--resume", a[16] = NULL;
    r = tu_gasp_runv(a);
    if (r.status) fail_msg("lda resumed: %s", r.err);
    tu_result_free(&r);
    for (int side = 0; side < 2; side++) {
      size_t nf, nr;
      char *x = tu_read_file(side ? fw : fd, &nf),
           *y = tu_read_file(side ? rw : rd, &nr);
      if (nf != nr || memcmp(x, y, nf))
        fail_msg("lda --np %s: resumed %s differ", nps[n],
                 side ? "word topics" : "document topics");
      free(x);
      free(y);
    }
    tu_rmtree(ck); /* frees it */
  }
  free(corpus), free(fd), free(rd), free(fw), free(rw);
  free(pre_full), free(pre_res), free(pre_part);
  free(fu), free(ru), free(fi), free(ri), free(rat);
  free(full);
  free(res);
  free(part);
  free(path);
  tu_rmtree(dir);
}

/* Writes `paths` paths of `len` vertices (ids in order along each, the
 * last vertex of each path joined to the first of the next when `ring`;
 * weights 1..9 when `weighted`) to dir/name. */
static char *write_paths(const char *dir, const char *name, int paths, int len,
                         int weighted) {
  char *path = tu_path(dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  tu_rng rng = {paths * 1000 + len};
  for (int k = 0; k < paths; k++)
    for (int i = 0; i + 1 < len; i++) {
      long a = (long)k * len + i;
      if (weighted)
        fprintf(f, "%ld %ld %u\n", a, a + 1, 1 + (unsigned)tu_below(&rng, 9));
      else
        fprintf(f, "%ld %ld\n", a, a + 1);
    }
  fclose(f);
  return path;
}

/* Bounded staleness: cc (label propagation) and sssp on paths cut
 * by the hash partition, so that most edges cross ranks and a label's
 * front crosses one nearly every superstep.  Stopped at --max-iter 60 with
 * a checkpoint every 7 supersteps, resumed: the output of one process,
 * byte for byte, from generation 56.  Each rank takes its cut at its own
 * superstep 56 with the peers' payloads in flight; a resume that dropped
 * them leaves a front stalled where its signal was lost (checked by hand:
 * most of these runs then end with wrong labels).  Also: the launcher
 * killed after a generation is complete and --resume, and --restart after
 * a rank is killed, end with the same bytes; an SSP checkpoint resumed
 * without --staleness and --checkpoint-seconds with --staleness are
 * refused. */
static void test_staleness(void **state) {
  (void)state;
  TU_NEED_BIN();
  char *dir = tu_mkdtemp();
  char *paths = write_paths(dir, "p.el", 20, 300, 0);
  char *wpaths = write_paths(dir, "w.el", 20, 300, 1);
  char *full = tu_path(dir, "full.tsv"), *res = tu_path(dir, "res.tsv"),
       *part = tu_path(dir, "part.tsv"), *ck = tu_path(dir, "ck");
  char *m56 = gen(ck, 56, "MANIFEST"), *m49 = gen(ck, 49, "MANIFEST");
  static const struct {
    const char *cmd, *extra[3];
    int weighted;
    const char *np, *S;
  } runs[] = {
      {"cc", {"--algorithm", "labelprop", NULL}, 0, "2", "1"},
      {"cc", {"--algorithm", "labelprop", NULL}, 0, "4", "3"},
      {"sssp", {"--source", "0", NULL}, 1, "2", "2"},
      {"sssp", {"--source", "0", NULL}, 1, "3", "1"},
  };
  for (size_t c = 0; c < sizeof runs / sizeof *runs; c++) {
    const char *in = runs[c].weighted ? wpaths : paths;
    const char *a[32] = {runs[c].cmd, "-i", in, "--symmetric", "-t", "1",
                         "--quiet", "-o", full};
    int k = 9;
    for (int q = 0; q < 3 && runs[c].extra[q]; q++)
      a[k++] = runs[c].extra[q];
    a[k] = NULL;
    tu_result r = tu_gasp_runv(a); /* one process */
    if (r.status) fail_msg("%s: %s", runs[c].cmd, r.err);
    tu_result_free(&r);
    a[8] = part;
    int base = k;
    a[k++] = "--np", a[k++] = runs[c].np, a[k++] = "--staleness",
    a[k++] = runs[c].S, a[k++] = "--partition", a[k++] = "hash";
    int dist = k;
    a[k++] = "--max-iter", a[k++] = "60", a[k++] = "--checkpoint",
    a[k++] = ck, a[k++] = "--checkpoint-every", a[k++] = "7";
    a[k] = NULL;
    r = tu_gasp_runv(a);
    if (r.status) fail_msg("%s stopped: %s", runs[c].cmd, r.err);
    tu_result_free(&r);
    struct stat sb;
    if (stat(m56, &sb) || stat(m49, &sb))
      fail_msg("%s --np %s: generations 49 and 56 not both complete",
               runs[c].cmd, runs[c].np);
    assert_int_equal(count_named(ck, "step-"), 2);
    if (tu_same_file(full, part))
      fail_msg("%s: 60 supersteps already finish the run", runs[c].cmd);
    a[8] = res;
    k = dist;
    a[k++] = "--resume", a[k++] = ck, a[k++] = "--json";
    a[k] = NULL;
    r = tu_gasp_runv(a);
    if (r.status) fail_msg("%s resumed: %s", runs[c].cmd, r.err);
    if (!tu_contains(r.out, "\"resumed_from\":56"))
      fail_msg("%s: resumed from another generation: %s", runs[c].cmd, r.out);
    tu_result_free(&r);
    if (!tu_same_file(full, res))
      fail_msg("%s --np %s --staleness %s: resumed output differs from one "
               "process",
               runs[c].cmd, runs[c].np, runs[c].S);
    if (c == 0) {
      /* without --staleness: refused, naming why */
      k = base;
      a[k++] = "--np", a[k++] = runs[c].np, a[k++] = "--partition",
      a[k++] = "hash", a[k++] = "--resume", a[k++] = ck;
      a[k] = NULL;
      r = tu_gasp_runv(a);
      assert_int_not_equal(r.status, 0);
      if (!tu_contains(r.err, "bounded staleness"))
        fail_msg("resumed without --staleness: %s", r.err);
      tu_result_free(&r);
      /* --checkpoint-seconds cannot be agreed on */
      k = base;
      a[k++] = "--np", a[k++] = runs[c].np, a[k++] = "--staleness",
      a[k++] = runs[c].S, a[k++] = "--checkpoint", a[k++] = ck,
      a[k++] = "--checkpoint-seconds", a[k++] = "1";
      a[k] = NULL;
      r = tu_gasp_runv(a);
      assert_int_equal(r.status, 2);
      assert_true(tu_contains(r.err, "--checkpoint-every"));
      tu_result_free(&r);
    }
    tu_rmtree(ck); /* frees it */
    ck = tu_path(dir, "ck");
  }
  /* killed mid-run: the launcher after generation 20 is complete, then
   * --resume; and --restart with rank 1 killed */
  char *longp = write_paths(dir, "long.el", 4, 3000, 0);
  const char *one[] = {"cc", "-i", longp, "--symmetric", "--algorithm",
                       "labelprop", "-t", "1", "--quiet", "-o", full, NULL};
  tu_result r = tu_gasp_runv(one);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  char *m20 = gen(ck, 20, "MANIFEST");
  for (int restart = 0; restart < 2; restart++) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      char *argv[] = {(char *)tu_gasp_bin(), "cc", "-i", longp, "--symmetric",
                      "--algorithm", "labelprop", "-t", "1", "--quiet", "-o",
                      res, "--np", "2", "--staleness", "2", "--partition",
                      "hash", "--checkpoint", ck, "--checkpoint-every", "10",
                      restart ? "--restart" : NULL, "1", NULL};
      execv(argv[0], argv);
      _exit(127);
    }
    struct stat sb;
    for (int w = 0; w < 6000 && stat(m20, &sb) != 0; w++)
      usleep(5000);
    int status;
    if (!restart) {
      kill(pid, SIGKILL);
      assert_int_equal(waitpid(pid, &status, 0), pid);
      const char *c[] = {"cc", "-i", longp, "--symmetric", "--algorithm",
                         "labelprop", "-t", "1", "--quiet", "-o", res, "--np",
                         "2", "--staleness", "2", "--partition", "hash",
                         "--resume", ck, NULL};
      r = tu_gasp_runv(c);
      if (r.status) fail_msg("resumed after the kill: %s", r.err);
      tu_result_free(&r);
      if (!tu_same_file(full, res))
        fail_msg("killed %s and resumed: the labels differ",
                 WIFSIGNALED(status) ? "mid-run" : "(after the end)");
    } else {
      tu_kill_rank1(pid);
      assert_int_equal(waitpid(pid, &status, 0), pid);
      assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      if (!tu_same_file(full, res)) fail_msg("--restart: the labels differ");
    }
    tu_rmtree(ck);
    ck = tu_path(dir, "ck");
  }
  free(m20);
  free(longp);
  free(m56);
  free(m49);
  free(ck);
  free(full);
  free(res);
  free(part);
  free(paths);
  free(wpaths);
  tu_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pagerank_resumes),
      cmocka_unit_test(test_messages_resume),
      cmocka_unit_test(test_between_runs),
      cmocka_unit_test(test_damaged),
      cmocka_unit_test(test_mismatch),
      cmocka_unit_test(test_pagerank_toolkit),
      cmocka_unit_test(test_commands),
      cmocka_unit_test(test_staleness),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
