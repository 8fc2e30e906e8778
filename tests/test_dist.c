/*
 * test_dist.c -- distributed sync runs: a graph partitioned (METIS and
 * hash) over 2, 3 and 4 forked ranks gives the same results as one
 * process -- PageRank (30 power iterations: the same values up to float
 * summation order, 1e-9 in L1) and min-label connected components (the
 * same labels in the same number of supersteps) -- and the local graphs
 * hold exactly the owned vertices, their ghosts and the edges with an
 * owned end.  The ghost-list collectives: gasp_dist_ghost_lists gives
 * every ghost its owner's list (checked against the whole graph) and
 * gasp_dist_sum_to_owners adds ghosts' values into their owners'; a peer
 * that sends malformed payloads makes them fail with GASP_EPEER naming
 * it, and a rank with bad arguments makes its peers fail at once.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>

#include "gasp.h"
#include "testutil.h"

static const char KEY[] = "dist-test-key-abcdefgh";

/* ---- two programs that keep what neighbours read in vertex data ------- */

typedef struct prv {
  double rank, contrib;
  uint64_t outdeg;
} prv;

static void pr_init(gasp_ctx *ctx, void *vd) {
  prv *p = vd;
  double n = (double)gasp_ctx_num_vertices(ctx);
  p->outdeg = gasp_ctx_out_degree(ctx);
  p->rank = 1.0 / n;
  p->contrib = p->outdeg ? p->rank / (double)p->outdeg : 0;
}
static gasp_dir pr_in(const gasp_ctx *ctx, const void *v) {
  return GASP_DIR_IN;
}
static void pr_gather(const gasp_ctx *ctx, const void *v, const gasp_edge *e,
                      void *acc) {
  *(double *)acc += ((const prv *)e->nbr_data)->contrib;
}
static void pr_sum(const gasp_ctx *ctx, void *acc, const void *o) {
  *(double *)acc += *(const double *)o;
}
static void pr_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  prv *p = vd;
  double n = (double)gasp_ctx_num_vertices(ctx);
  p->rank = 0.15 / n + 0.85 * *(const double *)acc;
  p->contrib = p->outdeg ? p->rank / (double)p->outdeg : 0;
}

/* The same PageRank with the contributions in a side array the engine
 * mirrors (gasp_engine_mirror), as the pagerank toolkit keeps them. */
typedef struct side {
  double *contrib;
} side;

static void ps_init(gasp_ctx *ctx, void *vd) {
  side *s = gasp_ctx_user(ctx);
  double *rank = vd, n = (double)gasp_ctx_num_vertices(ctx);
  uint64_t out = gasp_ctx_out_degree(ctx);
  *rank = 1.0 / n;
  s->contrib[gasp_ctx_vertex(ctx)] = out ? *rank / (double)out : 0;
}
static void ps_gather(const gasp_ctx *ctx, const void *v, const gasp_edge *e,
                      void *acc) {
  const side *s = gasp_ctx_user(ctx);
  *(double *)acc += s->contrib[e->nbr];
}
static void ps_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  side *s = gasp_ctx_user(ctx);
  double *rank = vd, n = (double)gasp_ctx_num_vertices(ctx);
  uint64_t out = gasp_ctx_out_degree(ctx);
  *rank = 0.15 / n + 0.85 * *(const double *)acc;
  s->contrib[gasp_ctx_vertex(ctx)] = out ? *rank / (double)out : 0;
}

typedef struct ccv {
  uint64_t label;
  uint64_t changed;
} ccv;

static void cc_init(gasp_ctx *ctx, void *vd) {
  ccv *c = vd;
  c->label = gasp_ctx_gid(ctx);
  c->changed = 1;
}
static gasp_dir cc_all(const gasp_ctx *ctx, const void *v) {
  return GASP_DIR_ALL;
}
static void cc_acc_init(const gasp_ctx *ctx, void *acc) {
  *(uint64_t *)acc = UINT64_MAX;
}
static void cc_gather(const gasp_ctx *ctx, const void *v, const gasp_edge *e,
                      void *acc) {
  uint64_t l = ((const ccv *)e->nbr_data)->label;
  if (l < *(uint64_t *)acc) *(uint64_t *)acc = l;
}
static void cc_sum(const gasp_ctx *ctx, void *acc, const void *o) {
  if (*(const uint64_t *)o < *(uint64_t *)acc)
    *(uint64_t *)acc = *(const uint64_t *)o;
}
static void cc_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  ccv *c = vd;
  uint64_t m = *(const uint64_t *)acc;
  c->changed = m < c->label;
  if (c->changed) c->label = m;
}
static gasp_dir cc_scatter_edges(const gasp_ctx *ctx, const void *v) {
  return ((const ccv *)v)->changed ? GASP_DIR_ALL : GASP_DIR_NONE;
}
static void cc_scatter(gasp_ctx *ctx, const void *v, const gasp_edge *e) {
  gasp_signal(ctx, e->nbr);
}

static gasp_program pagerank_prog(void) {
  gasp_program p = {0};
  p.vertex_size = sizeof(prv);
  p.acc_size = sizeof(double);
  p.init_vertex = pr_init;
  p.gather_edges = pr_in;
  p.gather = pr_gather;
  p.sum = pr_sum;
  p.apply = pr_apply;
  return p;
}

static gasp_program cc_prog(void) {
  gasp_program p = {0};
  p.vertex_size = sizeof(ccv);
  p.acc_size = sizeof(uint64_t);
  p.init_vertex = cc_init;
  p.acc_init = cc_acc_init;
  p.gather_edges = cc_all;
  p.gather = cc_gather;
  p.sum = cc_sum;
  p.apply = cc_apply;
  p.scatter_edges = cc_scatter_edges;
  p.scatter = cc_scatter;
  return p;
}

/* A Kronecker graph (scale 9) plus a few separate components. */
static gasp_graph *make_graph(void) {
  gasp_edge_list *el = NULL;
  if (gasp_generate_kronecker(&el, 9, 8, 0, 0, 0, 3, 1)) return NULL;
  gasp_builder *b = NULL;
  if (gasp_builder_new(&b, 0)) return NULL;
  for (uint64_t i = 0; i < el->n; i++)
    gasp_builder_add_edge(b, el->src[i], el->dst[i], 1);
  for (gasp_gid c = 0; c < 5; c++) /* paths 1000+10c -> ... */
    for (gasp_gid j = 0; j < 4; j++)
      gasp_builder_add_edge(b, 1000 + 10 * c + j, 1000 + 10 * c + j + 1, 1);
  gasp_edge_list_free(&el);
  gasp_graph *g = NULL;
  gasp_builder_finish(b, 1, &g, NULL);
  gasp_builder_free(&b);
  return g;
}

typedef struct result {
  double pr[1 << 12], ps[1 << 12];
  uint64_t cc[1 << 12];
  uint64_t cc_steps;
} result;

/* Runs both programs on g (local graph when d) and fills r on rank 0. */
static int run_both(gasp_graph *g, gasp_dist *d, result *r) {
  const char *how = d ? "across ranks" : "one process";
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.threads = 2;
  o.dist = d;
  o.always_active = 1;
  o.max_iter = 30;
  gasp_program pp = pagerank_prog(), cp = cc_prog();
  gasp_engine *e = NULL;
  gasp_error err;
  uint64_t N = d ? gasp_dist_global_vertices(d) : gasp_graph_num_vertices(g);
  if (N > (1 << 12))
    return TU_RANK_FAIL("%llu vertices, past the result's room",
                        (unsigned long long)N);
  if (gasp_engine_new(&e, g, &pp, &o, &err))
    return TU_RANK_FAIL("%s: pagerank: gasp_engine_new: %s", how, err.msg);
  gasp_run_stats st;
  if (gasp_engine_run(e, &st))
    return TU_RANK_FAIL("%s: pagerank: gasp_engine_run: %s", how,
                        gasp_engine_last_error(e)->msg);
  if (st.iterations != 30)
    return TU_RANK_FAIL("%s: pagerank: %llu supersteps, want 30", how,
                        (unsigned long long)st.iterations);
  prv *all = calloc(N, sizeof *all);
  const prv *loc = gasp_graph_vertex_data(g);
  if (d) {
    if (gasp_dist_gather(d, loc, sizeof(prv), all, &err))
      return TU_RANK_FAIL("pagerank: gasp_dist_gather: %s", err.msg);
  } else {
    memcpy(all, loc, N * sizeof *all);
  }
  for (uint64_t v = 0; v < N; v++)
    r->pr[v] = all[v].rank;
  free(all);
  gasp_engine_free(&e);
  /* side-array PageRank */
  side sd = {calloc(gasp_graph_num_vertices(g), sizeof(double))};
  gasp_program sp = pagerank_prog();
  sp.vertex_size = sizeof(double);
  sp.init_vertex = ps_init;
  sp.gather = ps_gather;
  sp.apply = ps_apply;
  sp.user = &sd;
  if (gasp_engine_new(&e, g, &sp, &o, &err))
    return TU_RANK_FAIL("%s: side-array pagerank: gasp_engine_new: %s", how,
                        err.msg);
  int mrc = gasp_engine_mirror(e, sd.contrib, sizeof(double));
  if (mrc)
    return TU_RANK_FAIL("%s: gasp_engine_mirror: %s", how, gasp_err_name(mrc));
  if (gasp_engine_run(e, &st))
    return TU_RANK_FAIL("%s: side-array pagerank: gasp_engine_run: %s", how,
                        gasp_engine_last_error(e)->msg);
  if (st.iterations != 30)
    return TU_RANK_FAIL("%s: side-array pagerank: %llu supersteps, want 30",
                        how, (unsigned long long)st.iterations);
  double *ranks = calloc(N, sizeof *ranks);
  if (d) {
    if (gasp_dist_gather(d, gasp_graph_vertex_data(g), sizeof(double), ranks,
                         &err))
      return TU_RANK_FAIL("side-array pagerank: gasp_dist_gather: %s", err.msg);
  } else {
    memcpy(ranks, gasp_graph_vertex_data(g), N * sizeof *ranks);
  }
  for (uint64_t v = 0; v < N; v++)
    r->ps[v] = ranks[v];
  free(ranks);
  free(sd.contrib);
  gasp_engine_free(&e);
  o.always_active = 0;
  o.max_iter = 0;
  if (gasp_engine_new(&e, g, &cp, &o, &err))
    return TU_RANK_FAIL("%s: components: gasp_engine_new: %s", how, err.msg);
  gasp_engine_signal_all(e, 0);
  if (gasp_engine_run(e, &st))
    return TU_RANK_FAIL("%s: components: gasp_engine_run: %s", how,
                        gasp_engine_last_error(e)->msg);
  if (st.reason != GASP_STOP_CONVERGED)
    return TU_RANK_FAIL("%s: components: stopped for %d, not converged", how,
                        (int)st.reason);
  r->cc_steps = st.iterations;
  ccv *cl = calloc(N, sizeof *cl);
  const ccv *lc = gasp_graph_vertex_data(g);
  if (d) {
    if (gasp_dist_gather(d, lc, sizeof(ccv), cl, &err))
      return TU_RANK_FAIL("components: gasp_dist_gather: %s", err.msg);
  } else {
    memcpy(cl, lc, N * sizeof *cl);
  }
  for (uint64_t v = 0; v < N; v++)
    r->cc[v] = cl[v].label;
  free(cl);
  gasp_engine_free(&e);
  return 0;
}

/* Checks the local graph against the global one: owned first, ghosts
 * exactly the remote neighbours, edges exactly those with an owned end,
 * each with its weight slot consistent between CSR and CSC. */
static int check_local(const gasp_graph *g, gasp_dist *d, const uint32_t *owner,
                       int rank) {
  gasp_graph *l = gasp_dist_graph(d);
  gasp_vid nl = gasp_graph_num_vertices(l), no = gasp_graph_num_owned(l);
  uint64_t want_owned = 0, want_edges = 0;
  gasp_adjacency go, lo, li;
  gasp_graph_out_edges(g, &go);
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++) {
    want_owned += owner[v] == (uint32_t)rank;
    for (uint64_t j = go.off[v]; j < go.off[v + 1]; j++)
      want_edges +=
          owner[v] == (uint32_t)rank || owner[go.nbr[j]] == (uint32_t)rank;
  }
  if (no != want_owned || gasp_graph_num_edges(l) != want_edges)
    return TU_RANK_FAIL("local graph: %u owned, %llu edges; want %llu, %llu",
                        no, (unsigned long long)gasp_graph_num_edges(l),
                        (unsigned long long)want_owned,
                        (unsigned long long)want_edges);
  gasp_graph_out_edges(l, &lo);
  gasp_graph_in_edges(l, &li);
  for (gasp_vid v = 0; v < nl; v++) {
    gasp_vid gv = gasp_dist_global_id(d, v);
    TU_RANK_CHECK_MSG((owner[gv] == (uint32_t)rank) == (v < no),
                      "local %u (global %u, owner %u) of %u owned", v, gv,
                      owner[gv], no);
    TU_RANK_CHECK_MSG(gasp_graph_gid(l, v) == gasp_graph_gid(g, gv),
                      "local %u, global %u", v, gv);
    gasp_vid f; /* ids ascend in two runs: owned, then ghosts */
    TU_RANK_CHECK_MSG(
        !gasp_graph_find(l, GASP_SIDE_LEFT, gasp_graph_gid(l, v), &f) && f == v,
        "local %u", v);
    TU_RANK_CHECK_MSG(v == 0 || v == no || gasp_dist_global_id(d, v - 1) < gv,
                      "local %u, global %u", v, gv);
    for (uint64_t j = lo.off[v]; j + 1 < lo.off[v + 1]; j++)
      TU_RANK_CHECK_MSG(lo.nbr[j] <= lo.nbr[j + 1], "out-list of local %u", v);
    for (uint64_t j = li.off[v]; j < li.off[v + 1]; j++) {
      uint32_t s = li.slot[j];
      gasp_vid u = li.nbr[j];
      TU_RANK_CHECK_MSG(s >= lo.off[u] && s < lo.off[u + 1] && lo.nbr[s] == v,
                        "in-edge %u -> %u: slot %u", u, v, s);
    }
    if (v < no)
      TU_RANK_CHECK_MSG(
          gasp_graph_out_degree(l, v) == gasp_graph_out_degree(g, gv) &&
              gasp_graph_in_degree(l, v) == gasp_graph_in_degree(g, gv),
          "degrees of owned local %u (global %u)", v, gv);
  }
  return 0;
}

static int cmp_vid(const void *a, const void *b) {
  gasp_vid x = *(const gasp_vid *)a, y = *(const gasp_vid *)b;
  return (x > y) - (x < y);
}

/* Ghost u's list as received: in range, and as global ids (sorted) the
 * out-neighbours of u in the whole graph that this rank holds. */
static int check_ghost_list(const gasp_graph *g, gasp_dist *d,
                            const gasp_vid *here, gasp_vid u,
                            const gasp_vid *got, uint64_t n, gasp_vid *a,
                            gasp_vid *b) {
  gasp_adjacency go;
  gasp_graph_out_edges(g, &go);
  gasp_vid nl = gasp_graph_num_vertices(gasp_dist_graph(d));
  gasp_vid gu = gasp_dist_global_id(d, u);
  uint64_t k = 0;
  for (uint64_t j = go.off[gu]; j < go.off[gu + 1]; j++)
    if (here[go.nbr[j]] != GASP_VID_NONE) a[k++] = go.nbr[j];
  if (k != n)
    return TU_RANK_FAIL("ghost %u (global %u): %llu in its list, want %llu", u,
                        gu, (unsigned long long)n, (unsigned long long)k);
  for (uint64_t j = 0; j < n; j++) {
    if (got[j] >= nl)
      return TU_RANK_FAIL("ghost %u: id %u in its list, past %u local", u,
                          got[j], nl);
    b[j] = gasp_dist_global_id(d, got[j]);
  }
  qsort(a, k, sizeof *a, cmp_vid);
  qsort(b, k, sizeof *b, cmp_vid);
  if (k && memcmp(a, b, k * sizeof *a))
    return TU_RANK_FAIL("ghost %u (global %u): not its out-neighbours here", u,
                        gu);
  return 0;
}

/* The two collectives on the rank's share: every owned vertex's out-list
 * to the ghosts' holders, and per-vertex values whose sum at the owner
 * says who sent what ((rank + 1) << 40 plus the global id, from every
 * rank that holds the vertex as a ghost). */
static int check_collectives(const gasp_graph *g, gasp_dist *d,
                             const uint32_t *owner, int rank, int size) {
  gasp_graph *l = gasp_dist_graph(d);
  gasp_vid nl = gasp_graph_num_vertices(l), no = gasp_graph_num_owned(l);
  gasp_vid nv = gasp_graph_num_vertices(g);
  gasp_adjacency lo, go, gi;
  gasp_graph_out_edges(l, &lo);
  gasp_graph_out_edges(g, &go);
  gasp_graph_in_edges(g, &gi);
  uint64_t *goff = NULL;
  gasp_vid *git = NULL;
  gasp_error err;
  if (gasp_dist_ghost_lists(d, lo.off, lo.nbr, &goff, &git, &err))
    return TU_RANK_FAIL("gasp_dist_ghost_lists: %s", err.msg);
  gasp_vid *here = malloc(nv * sizeof *here);
  gasp_vid *a = malloc((go.num_edges + 1) * sizeof *a);
  gasp_vid *b = malloc((go.num_edges + 1) * sizeof *b);
  int rc = goff[0] != 0 ? TU_RANK_FAIL("ghost list offsets begin at %llu",
                                       (unsigned long long)goff[0])
                        : 0;
  for (gasp_vid v = 0; v < nv; v++)
    here[v] = GASP_VID_NONE;
  for (gasp_vid v = 0; v < nl; v++)
    here[gasp_dist_global_id(d, v)] = v;
  for (gasp_vid i = 0; i < nl - no && !rc; i++)
    rc = check_ghost_list(g, d, here, no + i, git + goff[i],
                          goff[i + 1] - goff[i], a, b);
  free(goff);
  free(git);
  free(here);
  free(a);
  free(b);
  uint64_t *vals = malloc((nl ? nl : 1) * sizeof *vals);
  for (gasp_vid v = 0; v < nl; v++) {
    uint64_t gv = gasp_dist_global_id(d, v);
    vals[v] = v < no ? gv : ((uint64_t)(rank + 1) << 40) + gv;
  }
  if (!rc && gasp_dist_sum_to_owners(d, vals, &err))
    rc = TU_RANK_FAIL("gasp_dist_sum_to_owners: %s", err.msg);
  char *seen = calloc((size_t)size, 1);
  for (gasp_vid v = 0; v < no && !rc; v++) {
    gasp_vid gv = gasp_dist_global_id(d, v);
    uint64_t want = gv;
    memset(seen, 0, (size_t)size);
    for (int dir = 0; dir < 2; dir++) {
      const gasp_adjacency *adj = dir ? &gi : &go;
      for (uint64_t j = adj->off[gv]; j < adj->off[gv + 1]; j++) {
        uint32_t p = owner[adj->nbr[j]];
        if (p == (uint32_t)rank || seen[p]) continue;
        seen[p] = 1;
        want += ((uint64_t)(p + 1) << 40) + gv;
      }
    }
    if (vals[v] != want)
      rc = TU_RANK_FAIL("sum at owned %u (global %u): %#llx, want %#llx", v, gv,
                        (unsigned long long)vals[v], (unsigned long long)want);
  }
  for (gasp_vid v = no; v < nl && !rc; v++)
    if (vals[v] != 0)
      rc = TU_RANK_FAIL("ghost %u kept %#llx after the sum, want 0", v,
                        (unsigned long long)vals[v]);
  free(seen);
  free(vals);
  return rc;
}

static const char *parts_prefix; /* set: ranks read partition files */

static gasp_cluster *join(int rank, int size, int port, int lfd,
                          gasp_error *err) {
  return tu_join_cluster(rank, size, port, lfd, KEY, 30, err);
}

static int rank_main(int rank, int size, int port, int lfd, int metis) {
  gasp_error err;
  gasp_cluster *c = join(rank, size, port, lfd, &err);
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
  if (parts_prefix) {
    if (gasp_dist_load(&d, c, parts_prefix, &err))
      return TU_RANK_FAIL("gasp_dist_load: %s", tu_err(&err));
    const gasp_gid *ids = gasp_dist_global_gids(d);
    TU_RANK_CHECK_MSG(ids, "a loaded dist has the global ids");
    for (gasp_vid v = 0; v < nv; v++)
      TU_RANK_CHECK_MSG(ids[v] == gasp_graph_gid(g, v), "global %u", v);
  } else if (gasp_dist_new(&d, c, g, owner, &err)) {
    return TU_RANK_FAIL("gasp_dist_new: %s", err.msg);
  }
  int rc = check_local(g, d, owner, rank);
  if (!rc) rc = check_collectives(g, d, owner, rank, size);
  result *ref = calloc(1, sizeof *ref), *got = calloc(1, sizeof *got);
  if (!rc) rc = run_both(g, NULL, ref); /* one process, here */
  if (!rc) rc = run_both(gasp_dist_graph(d), d, got);
  if (!rc && rank == 0) {
    double l1 = 0;
    double l1s = 0;
    for (gasp_vid v = 0; v < nv; v++) {
      l1 += fabs(ref->pr[v] - got->pr[v]);
      l1s += fabs(ref->pr[v] - got->ps[v]);
    }
    if (l1 > 1e-9)
      rc = TU_RANK_FAIL("pagerank: L1 distance %g from one process", l1);
    if (!rc && l1s > 1e-9)
      rc = TU_RANK_FAIL("side-array pagerank: L1 distance %g from one "
                        "process",
                        l1s);
    for (gasp_vid v = 0; v < nv && !rc; v++)
      if (ref->cc[v] != got->cc[v])
        rc = TU_RANK_FAIL("components: vertex %u has label %llu, one "
                          "process %llu",
                          v, (unsigned long long)got->cc[v],
                          (unsigned long long)ref->cc[v]);
    if (!rc && ref->cc_steps != got->cc_steps)
      rc = TU_RANK_FAIL("components: %llu supersteps, one process %llu",
                        (unsigned long long)got->cc_steps,
                        (unsigned long long)ref->cc_steps);
  }
  if (!rc && size > 1 && gasp_dist_ghost_values(d) == 0 && metis == 0)
    rc = TU_RANK_FAIL("no ghost values sent across %d ranks", size);
  free(ref);
  free(got);
  free(owner);
  gasp_dist_free(&d);
  gasp_graph_free(&g);
  gasp_cluster_free(&c);
  return rc;
}

typedef int (*rank_fn)(int rank, int size, int port, int lfd, int metis);

typedef struct rank_job {
  rank_fn fn;
  int metis;
} rank_job;

static int run_job(int rank, int size, int port, int lfd, void *arg) {
  const rank_job *j = arg;
  return j->fn(rank, size, port, lfd, j->metis);
}

/* Forks `size` ranks running fn; every rank must end with status 0. */
static void run_ranks_fn(rank_fn fn, int size, int metis, const char *what) {
  rank_job j = {fn, metis};
  tu_fork_ranks(size, run_job, &j, what);
}

static void run_ranks(int size, int metis, const char *what) {
  run_ranks_fn(rank_main, size, metis, what);
}

static void test_dist_matches_single(void **state) {
  (void)state;
  for (int metis = 0; metis < 2; metis++)
    for (int size = 1; size <= 4; size++) {
      run_ranks(size, metis, metis ? "metis" : "hash");
    }
}

/* Partition files: written once, each rank reads its own; the same
 * results as above; a damaged file and a file for another cluster size
 * are refused with the file named. */
static void test_partition_files(void **state) {
  (void)state;
  char dir[] = "/tmp/gasp-parts-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char prefix[64];
  snprintf(prefix, sizeof prefix, "%s/g", dir);
  gasp_error err;
  for (int metis = 0; metis < 2; metis++) {
    int size = 3;
    /* partitioned in a child: this process forks the ranks next, and a
     * process that has started OpenMP threads must not fork workers */
    tu_child w0;
    if (tu_child_fork(&w0) == 0) {
      gasp_graph *g = make_graph();
      gasp_vid nv = g ? gasp_graph_num_vertices(g) : 0;
      uint32_t *owner = malloc((nv ? nv : 1) * sizeof *owner);
      int rc = 0;
      if (!g)
        rc = TU_RANK_FAIL("make_graph failed");
      else if (metis && gasp_partition_metis(g, size, 1, owner, &err))
        rc = TU_RANK_FAIL("gasp_partition_metis: %s", err.msg);
      else if (!metis && gasp_partition_hash(g, size, owner))
        rc = TU_RANK_FAIL("gasp_partition_hash failed");
      else if (gasp_dist_save_parts(g, owner, size, prefix, &err))
        rc = TU_RANK_FAIL("gasp_dist_save_parts: %s", tu_err(&err));
      tu_child_exit(rc);
    }
    tu_child_assert_ok(&w0, "writing the partition files");
    parts_prefix = prefix;
    run_ranks(size, metis,
              metis ? "partition files, metis" : "partition files, hash");
    parts_prefix = NULL;
  }
  /* a flipped byte: the checksum names the file */
  char path[96];
  snprintf(path, sizeof path, "%s.1.gpart", prefix);
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  fseek(f, 200, SEEK_SET);
  int ch = fgetc(f);
  fseek(f, 200, SEEK_SET);
  fputc(ch ^ 0x40, f);
  fclose(f);
  /* loading needs a cluster: a one-rank cluster cannot load part 1 of 3,
   * and the file check comes first for the damaged one */
  gasp_cluster_opts co;
  gasp_cluster_opts_init(&co);
  co.rank = 0;
  co.size = 1;
  co.key = KEY;
  co.key_len = strlen(KEY);
  gasp_cluster *c = NULL;
  assert_int_equal(gasp_cluster_new(&c, &co, &err), GASP_OK);
  gasp_dist *d = NULL;
  /* part 0 of 3 is not a one-rank set */
  assert_int_equal(gasp_dist_load(&d, c, prefix, &err), GASP_EINVAL);
  assert_true(strstr(err.msg, "rank 0 of 1") != NULL);
  gasp_graph *g = make_graph();
  assert_non_null(g);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint32_t *owner = malloc(nv * sizeof *owner);
  assert_int_equal(gasp_partition_hash(g, 3, owner), GASP_OK);
  assert_int_equal(gasp_dist_save_parts(g, owner, 1, prefix, &err),
                   GASP_EINVAL);
  for (gasp_vid v = 0; v < nv; v++)
    owner[v] = 0;
  assert_int_equal(gasp_dist_save_parts(g, owner, 1, prefix, &err), GASP_OK);
  assert_int_equal(gasp_dist_load(&d, c, prefix, &err), GASP_OK);
  gasp_dist_free(&d);
  /* the damaged part 1, renamed as a one-rank set */
  char p0[96];
  snprintf(p0, sizeof p0, "%s.0.gpart", prefix);
  assert_int_equal(rename(path, p0), 0);
  int rc = gasp_dist_load(&d, c, prefix, &err);
  assert_true(rc == GASP_ECHECKSUM);
  assert_true(strstr(err.file, ".0.gpart") != NULL);
  gasp_cluster_free(&c);
  free(owner);
  gasp_graph_free(&g);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

/* ---- malformed payloads ------------------------------------------- */

/* Rank 1 answers rank 0's collectives with payloads of the right step but
 * the wrong shape, through gasp_cluster_exchange; rank 0 must refuse each
 * with GASP_EPEER naming peer 1 (and leave its values alone).  Then rank 0
 * passes an item past its graph: GASP_EINVAL there, and rank 1's proper
 * call fails at once with GASP_EPEER naming peer 0.  A proper call on
 * both sides then succeeds: the cluster stays in step. */
static int malformed_main(int rank, int size, int port, int lfd, int metis) {
  (void)metis;
  gasp_error err;
  gasp_cluster *c = join(rank, size, port, lfd, &err);
  if (!c) return TU_RANK_FAIL("gasp_cluster_new: %s", err.msg);
  gasp_graph *g = make_graph();
  TU_RANK_CHECK(g);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint32_t *owner = malloc(nv * sizeof *owner);
  gasp_dist *d = NULL;
  if (gasp_partition_hash(g, size, owner))
    return TU_RANK_FAIL("gasp_partition_hash failed");
  if (gasp_dist_new(&d, c, g, owner, &err))
    return TU_RANK_FAIL("gasp_dist_new: %s", err.msg);
  gasp_graph *l = gasp_dist_graph(d);
  gasp_vid nl = gasp_graph_num_vertices(l), no = gasp_graph_num_owned(l);
  gasp_adjacency lo, go, gi;
  gasp_graph_out_edges(l, &lo);
  gasp_graph_out_edges(g, &go);
  gasp_graph_in_edges(g, &gi);
  uint64_t *goff = NULL;
  gasp_vid *git = NULL;
  int rc = 0;
  if (rank == 0) {
    for (int round = 0; round < 3 && !rc; round++) {
      int st = gasp_dist_ghost_lists(d, lo.off, lo.nbr, &goff, &git, &err);
      if (st != GASP_EPEER || !strstr(err.msg, "peer 1") || goff || git)
        rc = TU_RANK_FAIL("malformed ghost lists, round %d: %s (%s)%s; want "
                          "EPEER naming peer 1 and no lists",
                          round, gasp_err_name(st), err.msg,
                          goff || git ? ", lists returned" : "");
    }
    uint64_t *vals = malloc(nl * sizeof *vals);
    for (gasp_vid v = 0; v < nl; v++)
      vals[v] = 7;
    int st = gasp_dist_sum_to_owners(d, vals, &err);
    if (!rc && (st != GASP_EPEER || !strstr(err.msg, "peer 1")))
      rc = TU_RANK_FAIL("malformed sums: %s (%s); want EPEER naming peer 1",
                        gasp_err_name(st), err.msg);
    for (gasp_vid v = 0; v < nl && !rc; v++)
      if (vals[v] != 7)
        rc = TU_RANK_FAIL("malformed sums changed local %u to %llu", v,
                          (unsigned long long)vals[v]);
    free(vals);
    gasp_vid *bad = malloc((lo.num_edges + 1) * sizeof *bad);
    memcpy(bad, lo.nbr, lo.num_edges * sizeof *bad);
    bad[0] = nl; /* not a local id */
    st = gasp_dist_ghost_lists(d, lo.off, bad, &goff, &git, &err);
    if (!rc && (st != GASP_EINVAL || goff || git))
      rc = TU_RANK_FAIL("an out-edge to local %u: %s (%s)%s; want EINVAL and "
                        "no lists",
                        nl, gasp_err_name(st), err.msg,
                        goff || git ? ", lists returned" : "");
    free(bad);
  } else {
    /* rank 0 holds as ghosts the vertices here next to one it owns */
    uint64_t k = 0;
    for (gasp_vid v = 0; v < nv; v++) {
      int next = 0;
      for (uint64_t j = go.off[v]; j < go.off[v + 1]; j++)
        next |= owner[go.nbr[j]] == 0;
      for (uint64_t j = gi.off[v]; j < gi.off[v + 1]; j++)
        next |= owner[gi.nbr[j]] == 0;
      k += owner[v] == 1 && next;
    }
    TU_RANK_CHECK_MSG(k > 0 && no > 0, "%llu vertices next to rank 0, %u owned",
                      (unsigned long long)k, no);
    uint8_t *buf = calloc(k * 8 + 8, 1);
    const void *send[2] = {buf, NULL};
    size_t len[2] = {3, 0}; /* shorter than the lengths */
    if (gasp_cluster_exchange(c, send, len, NULL, NULL, &err))
      rc = TU_RANK_FAIL("short lengths: gasp_cluster_exchange: %s", err.msg);
    uint64_t huge = UINT64_MAX; /* a length past the payload */
    memcpy(buf, &huge, 8);
    len[0] = k * 8 + 4;
    if (gasp_cluster_exchange(c, send, len, NULL, NULL, &err))
      rc = TU_RANK_FAIL("a huge length: gasp_cluster_exchange: %s", err.msg);
    uint64_t one = 1; /* the right sizes, an id past the graph */
    gasp_vid past = nv + 5;
    memcpy(buf, &one, 8);
    memcpy(buf + k * 8, &past, sizeof past);
    if (gasp_cluster_exchange(c, send, len, NULL, NULL, &err))
      rc = TU_RANK_FAIL("an id past the graph: gasp_cluster_exchange: %s",
                        err.msg);
    len[0] = 5; /* sums: not k values */
    if (gasp_cluster_exchange(c, send, len, NULL, NULL, &err))
      rc = TU_RANK_FAIL("5-byte sums: gasp_cluster_exchange: %s", err.msg);
    free(buf);
    int st = gasp_dist_ghost_lists(d, lo.off, lo.nbr, &goff, &git, &err);
    if (!rc && (st != GASP_EPEER || !strstr(err.msg, "peer 0")))
      rc = TU_RANK_FAIL("after rank 0's bad call: %s (%s); want EPEER naming "
                        "peer 0",
                        gasp_err_name(st), err.msg);
  }
  /* both in step again */
  if (!rc && gasp_dist_ghost_lists(d, lo.off, lo.nbr, &goff, &git, &err))
    rc = TU_RANK_FAIL("in step again: gasp_dist_ghost_lists: %s", err.msg);
  free(goff);
  free(git);
  free(owner);
  gasp_dist_free(&d);
  gasp_graph_free(&g);
  gasp_cluster_free(&c);
  return rc;
}

static void test_collectives_malformed(void **state) {
  (void)state;
  run_ranks_fn(malformed_main, 2, 0, "malformed payloads");
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dist_matches_single),
      cmocka_unit_test(test_collectives_malformed),
      /* last: it starts OpenMP threads in this process, after which the
       * tests above could not fork ranks */
      cmocka_unit_test(test_partition_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
