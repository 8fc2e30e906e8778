/*
 * test_dist_engine.c -- the engines across ranks beyond the barrier:
 *
 *  - async (chromatic schedule across ranks): one sweep of "one more than
 *    the largest neighbour" leaves the two ends of every edge different,
 *    which fails if two neighbours run in the same colour step or a ghost
 *    is not refreshed between colour steps (the later one would read the
 *    earlier one's old value); min-label components equal one process;
 *    under full consistency the colouring, gathered, is proper at distance
 *    2 over the whole graph and components again equal one process's;
 *    --locking locks is refused.
 *  - bounded staleness (--staleness S): every gather sees each neighbour's
 *    data from at most S supersteps before the previous one (stamped in
 *    the data), S = 0 is never stale, min-label components end converged
 *    (quiescence) with the labels of one process, and a rank that dies
 *    mid-run is reported by the others, naming it, instead of a hang.
 *  - messages: components pushed as min-label messages (a push_pull
 *    program) equal one process's labels whether the sync engine pushes,
 *    pulls or chooses, with bounded staleness, and on the async engine:
 *    messages to ghosts reach their owners.
 *
 * Ranks are forked processes meeting on loopback.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gasp.h"
#include "ghost.h"
#include "testutil.h"

static const char KEY[] = "dist-engine-test-key-0123";

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- programs ------------------------------------------------------ */

static gasp_dir all_edges(const gasp_ctx *ctx, const void *v) {
  (void)ctx;
  (void)v;
  return GASP_DIR_ALL;
}

/* one more than the largest neighbour */
static void up_gather(const gasp_ctx *ctx, const void *v, const gasp_edge *e,
                      void *acc) {
  uint64_t x = *(const uint64_t *)e->nbr_data;
  if (x > *(uint64_t *)acc) *(uint64_t *)acc = x;
}
static void up_sum(const gasp_ctx *ctx, void *acc, const void *o) {
  if (*(const uint64_t *)o > *(uint64_t *)acc)
    *(uint64_t *)acc = *(const uint64_t *)o;
}
static void up_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  *(uint64_t *)vd = *(const uint64_t *)acc + 1;
}

/* min-label components */
static void cc_init(gasp_ctx *ctx, void *vd) {
  *(uint64_t *)vd = gasp_ctx_gid(ctx);
}
static void cc_acc_init(const gasp_ctx *ctx, void *acc) {
  *(uint64_t *)acc = UINT64_MAX;
}
static void cc_gather(const gasp_ctx *ctx, const void *v, const gasp_edge *e,
                      void *acc) {
  uint64_t l = *(const uint64_t *)e->nbr_data;
  if (l < *(uint64_t *)acc) *(uint64_t *)acc = l;
}
static void cc_sum(const gasp_ctx *ctx, void *acc, const void *o) {
  if (*(const uint64_t *)o < *(uint64_t *)acc)
    *(uint64_t *)acc = *(const uint64_t *)o;
}
typedef struct ccs {
  uint8_t *changed; /* by local id */
} ccs;
static void cc_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  ccs *c = gasp_ctx_user(ctx);
  uint64_t m = *(const uint64_t *)acc, *l = vd;
  c->changed[gasp_ctx_vertex(ctx)] = m < *l;
  if (m < *l) *l = m;
}
static gasp_dir cc_scatter_edges(const gasp_ctx *ctx, const void *v) {
  ccs *c = gasp_ctx_user(ctx);
  return c->changed[gasp_ctx_vertex(ctx)] ? GASP_DIR_ALL : GASP_DIR_NONE;
}
static void cc_scatter(gasp_ctx *ctx, const void *v, const gasp_edge *e) {
  gasp_signal(ctx, e->nbr);
}

/* the same with messages: a changed vertex sends its label to every
 * neighbour with a larger one (push); pull gathers as above */
static void ccm_scatter(gasp_ctx *ctx, const void *v, const gasp_edge *e) {
  if (*(const uint64_t *)v < *(const uint64_t *)e->nbr_data)
    gasp_signal_msg(ctx, e->nbr, v);
}

/* staleness probe: each superstep stamps the vertex with its number and
 * records how far behind the previous superstep its oldest neighbour's
 * stamp was */
typedef struct stamp {
  int64_t step, lag;
} stamp;
static void st_init(gasp_ctx *ctx, void *vd) {
  stamp *s = vd;
  s->step = -1;
  s->lag = 0;
}
static void st_acc_init(const gasp_ctx *ctx, void *acc) {
  *(int64_t *)acc = INT64_MAX;
}
static void st_gather(const gasp_ctx *ctx, const void *v, const gasp_edge *e,
                      void *acc) {
  int64_t x = ((const stamp *)e->nbr_data)->step;
  if (x < *(int64_t *)acc) *(int64_t *)acc = x;
}
static void st_sum(const gasp_ctx *ctx, void *acc, const void *o) {
  if (*(const int64_t *)o < *(int64_t *)acc)
    *(int64_t *)acc = *(const int64_t *)o;
}
static void st_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  stamp *s = vd;
  int64_t t = (int64_t)gasp_ctx_iteration(ctx), oldest = *(const int64_t *)acc;
  if (oldest != INT64_MAX && t - 1 - oldest > s->lag) s->lag = t - 1 - oldest;
  s->step = t;
}

/* ---- the graph and the ranks ---------------------------------------- */

static gasp_graph *make_graph(void) {
  gasp_edge_list *el = NULL;
  if (gasp_generate_kronecker(&el, 10, 6, 0, 0, 0, 7, 1)) return NULL;
  gasp_builder *b = NULL;
  if (gasp_builder_new(&b, 0)) return NULL;
  for (uint64_t i = 0; i < el->n; i++)
    gasp_builder_add_edge(b, el->src[i], el->dst[i], 1);
  for (gasp_gid c = 0; c < 4; c++) /* a few long paths: many rounds */
    for (gasp_gid j = 0; j < 30; j++)
      gasp_builder_add_edge(b, 5000 + 100 * c + j, 5000 + 100 * c + j + 1, 1);
  gasp_edge_list_free(&el);
  gasp_graph *g = NULL;
  gasp_builder_finish(b, 1, &g, NULL);
  gasp_builder_free(&b);
  return g;
}

typedef struct job {
  int staleness; /* < 0: the async engine */
  int die_rank;  /* >= 0: this rank dies at superstep 3 */
  int metis;     /* else hash partitions */
} job;

static int die_at_3(void *user, const gasp_iter_info *info) {
  (void)user;
  if (info->iteration == 3) _exit(0); /* no goodbye: a lost peer */
  return 0;
}

/* Runs `prog` on the local graph; gathers vertex data (8 or 16 bytes) to
 * rank 0's `all`.  On failure returns the library's status, and `why`
 * names the call that failed with the library's message. */
static int run(gasp_dist *d, const gasp_program *prog, gasp_engine_opts *o,
               void *all, gasp_run_stats *st, char *why, size_t wlen) {
  gasp_engine *e = NULL;
  gasp_error err;
  gasp_graph *l = gasp_dist_graph(d);
  int rc = gasp_engine_new(&e, l, prog, o, &err);
  if (rc) {
    snprintf(why, wlen, "gasp_engine_new: %s", err.msg);
    return rc;
  }
  if (!o->always_active) gasp_engine_signal_all(e, 0);
  rc = gasp_engine_run(e, st);
  if (rc)
    snprintf(why, wlen, "gasp_engine_run: %s", gasp_engine_last_error(e)->msg);
  else if ((rc = gasp_dist_gather(d, gasp_graph_vertex_data(l),
                                  prog->vertex_size, all, &err)))
    snprintf(why, wlen, "gasp_dist_gather: %s", err.msg);
  gasp_engine_free(&e);
  return rc;
}

/* In rank_main: runs `prog` with run(); a failure is recorded at the
 * caller's line, naming the program and the library's message, and ends
 * the rank's checks. */
#define RUN_OR_OUT(prog)                                                       \
  do {                                                                         \
    if (run(d, prog, &o, vals, &st, why, sizeof why)) {                        \
      rc = TU_RANK_FAIL("%s: %s", #prog, why);                                 \
      goto out;                                                                \
    }                                                                          \
  } while (0)

/* The index of the first of n labels where a and b differ, or -1. */
static int64_t first_diff(const uint64_t *a, const uint64_t *b, gasp_vid n) {
  for (gasp_vid v = 0; v < n; v++)
    if (a[v] != b[v]) return (int64_t)v;
  return -1;
}

/* In rank_main, on rank 0 when nothing failed yet: the gathered labels
 * equal one process's, else the first vertex that differs is recorded. */
#define CHECK_REF(what)                                                        \
  do {                                                                         \
    int64_t k_ = rc || rank ? -1 : first_diff(vals, ref, nv);                  \
    if (k_ >= 0)                                                               \
      rc = TU_RANK_FAIL("%s: vertex %lld has label %llu, one process %llu",    \
                        what, (long long)k_, (unsigned long long)vals[k_],     \
                        (unsigned long long)ref[k_]);                          \
  } while (0)

/* The colouring full consistency runs on: no two vertices within
 * distance 2 share a colour, i.e. the closed neighbourhood of every
 * vertex of the whole graph has distinct colours. */
static int check_distance2(gasp_dist *d, gasp_graph *g, gasp_engine_opts *o,
                           const gasp_program *prog, int rank) {
  gasp_engine *e = NULL;
  gasp_error err;
  gasp_graph *l = gasp_dist_graph(d);
  gasp_vid nl = gasp_graph_num_vertices(l), nv = gasp_graph_num_vertices(g);
  if (gasp_engine_new(&e, l, prog, o, &err))
    return TU_RANK_FAIL("gasp_engine_new: %s", err.msg);
  uint32_t *color = calloc(nl ? nl : 1, sizeof *color);
  uint32_t *all = calloc(nv, sizeof *all);
  int ncolors = 0, rc = 0;
  if (gasp__dist_color(e, 2, color, &ncolors, &err))
    rc = TU_RANK_FAIL("gasp__dist_color: %s", err.msg);
  else if (gasp_dist_gather(d, color, sizeof *color, all, &err))
    rc = TU_RANK_FAIL("gasp_dist_gather: %s", err.msg);
  if (!rc && rank == 0) {
    gasp_adjacency out, in;
    gasp_graph_out_edges(g, &out);
    gasp_graph_in_edges(g, &in);
    uint64_t maxdeg = 0;
    for (gasp_vid u = 0; u < nv && !rc; u++) {
      const gasp_adjacency *a[2] = {&out, &in};
      uint64_t deg = 0;
      for (int s1 = 0; s1 < 2 && !rc; s1++)
        for (uint64_t i = a[s1]->off[u]; i < a[s1]->off[u + 1] && !rc; i++) {
          gasp_vid x = a[s1]->nbr[i];
          deg++;
          if (x != u && all[x] == all[u])
            rc = TU_RANK_FAIL("vertices %u and %u (neighbours) have colour %u",
                              u, x, all[u]);
          for (int s2 = 0; s2 < 2 && !rc; s2++)
            for (uint64_t j = a[s2]->off[u]; j < a[s2]->off[u + 1]; j++) {
              gasp_vid y = a[s2]->nbr[j];
              if (y != x && y != u && x != u && all[x] == all[y]) {
                rc = TU_RANK_FAIL("vertices %u and %u (both next to %u) "
                                  "have colour %u",
                                  x, y, u, all[x]);
                break;
              }
            }
        }
      if (deg > maxdeg) maxdeg = deg;
      if (!rc && all[u] >= (uint32_t)ncolors)
        rc = TU_RANK_FAIL("vertex %u has colour %u of %d", u, all[u], ncolors);
    }
    if (!rc && (uint64_t)ncolors < 2)
      rc = TU_RANK_FAIL("%d colours, want at least 2", ncolors);
  }
  free(color);
  free(all);
  gasp_engine_free(&e);
  return rc;
}

static int rank_main(int rank, int size, int port, int lfd, void *arg) {
  const job *jb = arg;
  int metis = jb->metis;
  gasp_error err;
  gasp_cluster *c = tu_join_cluster(rank, size, port, lfd, KEY, 20, &err);
  if (!c) return TU_RANK_FAIL("gasp_cluster_new: %s", err.msg);
  gasp_graph *g = make_graph();
  TU_RANK_CHECK(g);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint32_t *owner = malloc(nv * sizeof *owner);
  if (metis && gasp_partition_metis(g, size, 1, owner, &err))
    return TU_RANK_FAIL("gasp_partition_metis: %s", err.msg);
  if (!metis && gasp_partition_hash(g, size, owner))
    return TU_RANK_FAIL("gasp_partition_hash failed");
  gasp_dist *d = NULL;
  if (gasp_dist_new(&d, c, g, owner, &err))
    return TU_RANK_FAIL("gasp_dist_new: %s", err.msg);
  gasp_vid nl = gasp_graph_num_vertices(gasp_dist_graph(d));
  uint64_t *vals = calloc(nv, 2 * sizeof(uint64_t));
  uint64_t *ref = calloc(nv, sizeof *ref);
  ccs cs = {calloc(nv, 1)};
  char why[600] = ""; /* a call's name and the library's message */
  int rc = 0;
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.threads = 2;
  gasp_run_stats st;
  gasp_program cc = {0};
  cc.vertex_size = sizeof(uint64_t);
  cc.acc_size = sizeof(uint64_t);
  cc.init_vertex = cc_init;
  cc.acc_init = cc_acc_init;
  cc.gather_edges = all_edges;
  cc.gather = cc_gather;
  cc.sum = cc_sum;
  cc.apply = cc_apply;
  cc.scatter_edges = cc_scatter_edges;
  cc.scatter = cc_scatter;
  cc.user = &cs;
  gasp_program ccm = cc;
  ccm.gather_edges = NULL;
  ccm.gather_dir = GASP_DIR_ALL;
  ccm.scatter = ccm_scatter;
  ccm.msg_size = sizeof(uint64_t);
  ccm.combine = gasp_combine_min_u64;
  ccm.push_pull = 1;
  /* the reference: one process, here */
  {
    gasp_engine *e = NULL;
    if (gasp_engine_new(&e, g, &cc, &o, &err))
      return TU_RANK_FAIL("gasp_engine_new (reference): %s", err.msg);
    gasp_engine_signal_all(e, 0);
    if (gasp_engine_run(e, &st))
      return TU_RANK_FAIL("gasp_engine_run (reference): %s",
                          gasp_engine_last_error(e)->msg);
    memcpy(ref, gasp_graph_vertex_data(g), nv * sizeof *ref);
    gasp_engine_free(&e);
  }
  o.dist = d;
  if (jb->staleness < 0) { /* async, chromatic across ranks */
    o.engine = GASP_ENGINE_ASYNC;
    o.consistency = GASP_CONSISTENCY_EDGE;
    gasp_program up = {0};
    up.vertex_size = sizeof(uint64_t);
    up.acc_size = sizeof(uint64_t);
    up.gather_edges = all_edges;
    up.gather = up_gather;
    up.sum = up_sum;
    up.apply = up_apply;
    o.max_iter = 1; /* every vertex once */
    RUN_OR_OUT(&up);
    if (st.colors < 2)
      rc = TU_RANK_FAIL("async up: %u colours, want at least 2",
                        (unsigned)st.colors);
    if (!rc && rank == 0) {
      gasp_adjacency out;
      gasp_graph_out_edges(g, &out);
      for (gasp_vid v = 0; v < nv && !rc; v++) {
        if (vals[v] == 0 || vals[v] > (uint64_t)st.colors)
          rc = TU_RANK_FAIL("async up: vertex %u has %llu, not in 1..%u", v,
                            (unsigned long long)vals[v], (unsigned)st.colors);
        for (uint64_t j = out.off[v]; j < out.off[v + 1] && !rc; j++)
          if (out.nbr[j] != v && vals[out.nbr[j]] == vals[v])
            rc = TU_RANK_FAIL("async up: neighbours %u and %u both have %llu",
                              v, out.nbr[j], (unsigned long long)vals[v]);
      }
    }
    o.max_iter = 0;
    if (!rc) RUN_OR_OUT(&cc);
    if (!rc && st.reason != GASP_STOP_CONVERGED)
      rc = TU_RANK_FAIL("async cc: stopped for %d, not converged",
                        (int)st.reason);
    CHECK_REF("async cc");
    memset(cs.changed, 0, nl);
    if (!rc) RUN_OR_OUT(&ccm);
    CHECK_REF("async ccm");
    /* full consistency: a distance-2 colouring every rank agrees on
     * (checked over the whole graph on rank 0), and the same components */
    o.consistency = GASP_CONSISTENCY_FULL;
    if (!rc) rc = check_distance2(d, g, &o, &cc, rank);
    memset(cs.changed, 0, nl);
    if (!rc) RUN_OR_OUT(&cc);
    if (!rc && st.reason != GASP_STOP_CONVERGED)
      rc = TU_RANK_FAIL("async cc, full consistency: stopped for %d, not "
                        "converged",
                        (int)st.reason);
    CHECK_REF("async cc, full consistency");
    o.locking = GASP_LOCKING_LOCKS; /* no distributed locks */
    gasp_engine *e = NULL;
    int lrc = rc ? GASP_ENOTSUP
                 : gasp_engine_new(&e, gasp_dist_graph(d), &cc, &o, &err);
    if (lrc != GASP_ENOTSUP)
      rc = TU_RANK_FAIL("--locking locks across ranks: %s, want ENOTSUP",
                        gasp_err_name(lrc));
    gasp_engine_free(&e);
    o.locking = GASP_LOCKING_DEFAULT;
    goto out;
  }
  o.staleness = (unsigned)jb->staleness;
  if (jb->die_rank >= 0 && rank == jb->die_rank) o.on_iteration = die_at_3;
  gasp_program sp = {0};
  sp.vertex_size = sizeof(stamp);
  sp.acc_size = sizeof(int64_t);
  sp.init_vertex = st_init;
  sp.acc_init = st_acc_init;
  sp.gather_edges = all_edges;
  sp.gather = st_gather;
  sp.sum = st_sum;
  sp.apply = st_apply;
  o.always_active = 1;
  o.max_iter = 40;
  if (jb->die_rank >= 0) { /* the survivors must name the lost peer */
    char want[32];
    snprintf(want, sizeof want, "peer %d", jb->die_rank);
    if (!run(d, &sp, &o, vals, &st, why, sizeof why))
      rc = TU_RANK_FAIL("the run ended well, want a lost %s", want);
    else if (!strstr(why, want))
      rc = TU_RANK_FAIL("expected a lost %s, got '%s'", want, why);
    /* stay connected a moment: a survivor that left at once could be
     * the first loss another survivor sees, and it would name this one */
    sleep(2);
    goto out;
  }
  RUN_OR_OUT(&sp);
  if (st.iterations != 40 || st.reason != GASP_STOP_MAX_ITER)
    rc = TU_RANK_FAIL("staleness: %llu supersteps, stopped for %d; want 40, "
                      "the limit",
                      (unsigned long long)st.iterations, (int)st.reason);
  if (!rc && rank == 0) {
    const stamp *s = (const stamp *)vals;
    for (gasp_vid v = 0; v < nv && !rc; v++) {
      if (s[v].step != 39)
        rc = TU_RANK_FAIL("staleness: vertex %u stamped step %lld, want 39", v,
                          (long long)s[v].step);
      else if (s[v].lag > jb->staleness)
        rc = TU_RANK_FAIL("staleness: vertex %u read data %lld supersteps "
                          "old, bound %d",
                          v, (long long)s[v].lag, jb->staleness);
    }
  }
  o.always_active = 0;
  o.max_iter = 0;
  o.on_iteration = NULL;
  memset(cs.changed, 0, nl);
  if (!rc) RUN_OR_OUT(&cc);
  if (!rc && st.reason != GASP_STOP_CONVERGED)
    rc = TU_RANK_FAIL("staleness cc: stopped for %d, not converged",
                      (int)st.reason);
  CHECK_REF("staleness cc");
  for (int dir = 0; dir < 3 && !rc; dir++) { /* auto, push, pull */
    o.direction = (gasp_direction)dir;
    memset(cs.changed, 0, nl);
    RUN_OR_OUT(&ccm);
    if (st.reason != GASP_STOP_CONVERGED)
      rc = TU_RANK_FAIL("ccm, direction %d: stopped for %d, not converged", dir,
                        (int)st.reason);
    CHECK_REF(dir == 0 ? "ccm, auto" : dir == 1 ? "ccm, push" : "ccm, pull");
    /* lock-step ranks agree on each superstep's direction */
    if (!rc && !jb->staleness && dir == 2 && st.pull_iterations == 0)
      rc = TU_RANK_FAIL("ccm, pull: no superstep pulled");
    if (!rc && (jb->staleness || dir == 1) && st.pull_iterations)
      rc = TU_RANK_FAIL("ccm, %s: %llu supersteps pulled, want none",
                        jb->staleness ? "staleness" : "push",
                        (unsigned long long)st.pull_iterations);
  }
out:
  free(vals);
  free(ref);
  free(cs.changed);
  free(owner);
  gasp_dist_free(&d);
  gasp_graph_free(&g);
  gasp_cluster_free(&c);
  return rc;
}

/* Forks `size` ranks (the rank told to die ends with 0 too); a lost peer
 * must be noticed well within the cluster timeout. */
static void run_ranks(int size, int metis, job *jb, const char *what) {
  jb->metis = metis;
  double t0 = now();
  tu_fork_ranks(size, rank_main, jb, what);
  if (jb->die_rank >= 0 && now() - t0 > 10)
    fail_msg("%s: the lost peer took %.1f s to notice", what, now() - t0);
}

static void test_async_chromatic_across_ranks(void **state) {
  (void)state;
  job jb = {-1, -1, 0};
  for (int metis = 0; metis < 2; metis++)
    for (int size = 1; size <= 4; size++)
      run_ranks(size, metis, &jb, metis ? "async, metis" : "async, hash");
}

static void test_bounded_staleness(void **state) {
  (void)state;
  static const int S[] = {0, 1, 3};
  for (size_t i = 0; i < sizeof S / sizeof *S; i++)
    for (int size = 2; size <= 4; size += 2) {
      job jb = {S[i], -1, 0};
      char what[64];
      snprintf(what, sizeof what, "staleness %d", S[i]);
      run_ranks(size, i % 2, &jb, what);
    }
}

static void test_staleness_lost_peer(void **state) {
  (void)state;
  job jb = {2, 1, 1};
  run_ranks(3, 1, &jb, "staleness 2, rank 1 dies");
}

/* ---- aggregators across ranks ---------------------------------------- */

/* A vertex holds a counter; each superstep adds 1.  The aggregator sums
 * the counters, counts vertices and edges; every superstep's apply
 * records what it read, which must be the whole graph's figures on every
 * rank (each rank maps only what it owns, and the ranks combine). */
typedef struct agg_sums {
  uint64_t sum, vertices, edges;
} agg_sums;

typedef struct agg_state {
  int id;
  uint64_t seen_sum[8]; /* by superstep */
} agg_state;

static void ag_init(gasp_ctx *ctx, void *vd) {
  *(uint64_t *)vd = gasp_ctx_gid(ctx) % 1000;
}

static void ag_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)acc;
  agg_state *a = gasp_ctx_user(ctx);
  const agg_sums *v = gasp_ctx_aggregate(ctx, a->id);
  uint64_t it = gasp_ctx_iteration(ctx);
  if (v && it < 8) __atomic_store_n(&a->seen_sum[it], v->sum, __ATOMIC_RELAXED);
  *(uint64_t *)vd += 1;
}

static void ag_vertex(const gasp_graph *g, gasp_vid v, const void *vd,
                      void *acc, void *user) {
  (void)g, (void)v, (void)user;
  ((agg_sums *)acc)->sum += *(const uint64_t *)vd;
  ((agg_sums *)acc)->vertices++;
}

static void ag_edge(const gasp_graph *g, gasp_vid s, gasp_vid d, gasp_eid slot,
                    const void *ed, void *acc, void *user) {
  (void)g, (void)s, (void)d, (void)slot, (void)ed, (void)user;
  ((agg_sums *)acc)->edges++;
}

static void ag_combine(void *acc, const void *o, void *user) {
  (void)user;
  agg_sums *a = acc;
  const agg_sums *b = o;
  a->sum += b->sum, a->vertices += b->vertices, a->edges += b->edges;
}

static int agg_main(int rank, int size, int port, int lfd, void *arg) {
  int metis = *(const int *)arg;
  gasp_error err;
  gasp_cluster *c = tu_join_cluster(rank, size, port, lfd, KEY, 20, &err);
  if (!c) return TU_RANK_FAIL("gasp_cluster_new: %s", err.msg);
  gasp_graph *g = make_graph();
  TU_RANK_CHECK(g);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint64_t ne = gasp_graph_num_edges(g), base = 0;
  for (gasp_vid v = 0; v < nv; v++)
    base += gasp_graph_gid(g, v) % 1000;
  uint32_t *owner = malloc(nv * sizeof *owner);
  if (metis && gasp_partition_metis(g, size, 1, owner, &err))
    return TU_RANK_FAIL("gasp_partition_metis: %s", err.msg);
  if (!metis && gasp_partition_hash(g, size, owner))
    return TU_RANK_FAIL("gasp_partition_hash failed");
  gasp_dist *d = NULL;
  if (gasp_dist_new(&d, c, g, owner, &err))
    return TU_RANK_FAIL("gasp_dist_new: %s", err.msg);
  agg_state st = {0, {0}};
  gasp_program p = {0};
  p.vertex_size = sizeof(uint64_t);
  p.init_vertex = ag_init;
  p.apply = ag_apply;
  p.user = &st;
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.threads = 2;
  o.dist = d;
  o.max_iter = 4;
  o.always_active = 1;
  gasp_engine *e = NULL;
  int rc = 0;
  if (gasp_engine_new(&e, gasp_dist_graph(d), &p, &o, &err))
    rc = TU_RANK_FAIL("gasp_engine_new: %s", err.msg);
  gasp_aggregator a = {
      sizeof(agg_sums), ag_vertex, ag_edge, ag_combine, NULL, 1, 0, NULL};
  int arc = rc ? 0 : gasp_engine_add_aggregator(e, &a, &st.id);
  if (arc)
    rc = TU_RANK_FAIL("gasp_engine_add_aggregator: %s", gasp_err_name(arc));
  gasp_run_stats rs;
  if (!rc && gasp_engine_run(e, &rs))
    rc = TU_RANK_FAIL("gasp_engine_run: %s", gasp_engine_last_error(e)->msg);
  /* superstep k read the sums after k - 1 supersteps (0: before the run) */
  for (uint64_t k = 0; k < 4 && !rc; k++)
    if (st.seen_sum[k] != base + k * nv)
      rc = TU_RANK_FAIL("superstep %llu read the sum %llu, want %llu",
                        (unsigned long long)k,
                        (unsigned long long)st.seen_sum[k],
                        (unsigned long long)(base + k * nv));
  agg_sums all;
  arc = rc ? 0 : gasp_engine_aggregate(e, st.id, &all);
  if (arc) rc = TU_RANK_FAIL("gasp_engine_aggregate: %s", gasp_err_name(arc));
  if (!rc &&
      (all.vertices != nv || all.edges != ne || all.sum != base + 4 * nv))
    rc = TU_RANK_FAIL(
        "aggregate: %llu vertices, %llu edges, sum %llu; want "
        "%llu, %llu, %llu",
        (unsigned long long)all.vertices, (unsigned long long)all.edges,
        (unsigned long long)all.sum, (unsigned long long)nv,
        (unsigned long long)ne, (unsigned long long)(base + 4 * nv));
  gasp_engine_free(&e);
  free(owner);
  gasp_dist_free(&d);
  gasp_graph_free(&g);
  gasp_cluster_free(&c);
  return rc;
}

static void test_aggregators_across_ranks(void **state) {
  (void)state;
  for (int metis = 0; metis < 2; metis++)
    for (int size = 1; size <= 3; size++)
      tu_fork_ranks(size, agg_main, &metis,
                    metis ? "aggregators, metis" : "aggregators, hash");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_async_chromatic_across_ranks),
      cmocka_unit_test(test_bounded_staleness),
      cmocka_unit_test(test_staleness_lost_peer),
      cmocka_unit_test(test_aggregators_across_ranks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
