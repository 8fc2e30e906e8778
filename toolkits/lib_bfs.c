/*
 * lib_bfs.c -- gasp_bfs (gasp_toolkits.h): breadth-first search, direction
 * optimising (Beamer, Asanovic, Patterson, "Direction-optimizing
 * breadth-first search", SC 2012) through the engine's push_pull.
 *
 * A vertex holds (depth << 32 | parent), all ones while unreached; the
 * accumulator and the messages are such pairs, combined by minimum, so the
 * smallest depth wins and, among parents one level up, the smallest
 * vertex index.  The vertices reached in superstep t (depth t) form the
 * frontier: pushing, each offers (t + 1, itself) to its unreached
 * out-neighbours (as a message across ranks; on one process through an
 * array of offers, see struct bfs); pulling, each unreached vertex looks for reached
 * in-neighbours, which all have depth t.  Either way a vertex gets the
 * same depth and parent, so the result does not depend on the engine's
 * choices, the thread count or the ranks.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT64_MAX
#define OFFER_NONE UINT32_MAX

typedef struct bfs {
  gasp_dist *dist; /* parents as global vertex indices */
  int undirected;
  int sorted; /* one process: neighbour lists ascend by index */
  /* One process: the offers of a push superstep, all of one depth, so a
   * parent index + 1 a vertex (4 bytes, as GAPBS's parent array): the
   * smallest kept by an atomic minimum, the vertex signalled (plainly) by
   * whoever made the first offer (OFFER_NONE before); 0 once the vertex
   * is reached, which turns every later offer away.  A push thus reads
   * this one array per edge, where a message per edge would cost four
   * scattered arrays and as many calls; across ranks the offers travel as
   * messages. */
  uint32_t *offer;
  /* One process, for bfs_pull_block: the vertex data and the adjacency */
  const uint64_t *data;
  gasp_adjacency in, out;
} bfs;

static inline uint64_t load(const uint64_t *p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint64_t index_of(const bfs *p, gasp_vid v) {
  return p->dist ? gasp_dist_global_id(p->dist, v) : v;
}

static void bfs_init(gasp_ctx *ctx, void *vd) {
  (void)ctx;
  *(uint64_t *)vd = NONE;
}

static void bfs_acc_init(const gasp_ctx *ctx, void *acc) {
  (void)ctx;
  *(uint64_t *)acc = NONE;
}

static gasp_dir bfs_pull_dir(const gasp_ctx *ctx, const void *vd) {
  const bfs *p = gasp_ctx_user(ctx);
  if (*(const uint64_t *)vd != NONE) return GASP_DIR_NONE;
  /* offered in a push: the offer is the answer, no gather */
  if (p->offer && p->offer[gasp_ctx_vertex(ctx)] != OFFER_NONE)
    return GASP_DIR_NONE;
  return p->undirected ? GASP_DIR_ALL : GASP_DIR_IN;
}

/* The smallest-index reached neighbour of a list: on one process the
 * lists ascend, so the first one found; across ranks (local order is not
 * global order) the whole list. */
static uint64_t first_reached(const bfs *p, const uint64_t *data,
                              const gasp_vid *nbr, uint64_t n) {
  uint64_t best = NONE;
  for (uint64_t i = 0; i < n; i++) {
    if (load(&data[nbr[i]]) == NONE) continue;
    uint64_t idx = index_of(p, nbr[i]);
    if (idx < best) best = idx;
    if (p->sorted) break;
  }
  return best;
}

/* The first neighbour in the engine's frontier bitmap (one process: the
 * lists ascend, so the smallest index). */
static uint64_t first_in_frontier(const uint64_t *bits, const gasp_vid *nbr,
                                  uint64_t n) {
  for (uint64_t i = 0; i < n; i++)
    if ((bits[nbr[i] / 64] >> (nbr[i] % 64)) & 1) return nbr[i];
  return NONE;
}

/* Pull: an unreached vertex's reached in-neighbours are one level up: the
 * frontier of the superstep before, whose bitmap (a bit a vertex) the
 * engine gives on one process; else their vertex data tells. */
static void bfs_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb,
                       void *acc) {
  (void)vd;
  const bfs *p = gasp_ctx_user(ctx);
  const uint64_t *data = nb->vertex_data;
  uint64_t a, b;
  if (nb->frontier) {
    a = first_in_frontier(nb->frontier, nb->in, nb->n_in);
    b = first_in_frontier(nb->frontier, nb->out, nb->n_out);
  } else {
    a = first_reached(p, data, nb->in, nb->n_in);
    b = first_reached(p, data, nb->out, nb->n_out);
  }
  uint64_t parent = a < b ? a : b;
  if (parent == NONE) return;
  uint64_t pair = (gasp_ctx_iteration(ctx) << 32) | parent;
  if (pair < *(uint64_t *)acc) *(uint64_t *)acc = pair;
}

/* The pull on one process, a block at a time (gasp_program.pull_block):
 * bfs_pull_dir and bfs_gather for each vertex, in one loop that asks for
 * the neighbour list a few vertices ahead. */
#define AHEAD 8

static uint64_t bfs_pull_block(const gasp_ctx *ctx, const gasp_vid *vs,
                               uint64_t n, const uint64_t *bits, void *accv,
                               uint32_t *hit) {
  const bfs *p = gasp_ctx_user(ctx);
  const uint64_t *data = p->data;
  const gasp_adjacency in = p->in, out = p->out;
  uint64_t *acc = accv, depth = gasp_ctx_iteration(ctx) << 32, k = 0;
  for (uint64_t i = 0; i < n; i++) {
    if (i + AHEAD < n) __builtin_prefetch(in.nbr + in.off[vs[i + AHEAD]]);
    gasp_vid v = vs[i];
    if (data[v] != NONE || (p->offer && p->offer[v] != OFFER_NONE)) continue;
    uint64_t a =
        first_in_frontier(bits, in.nbr + in.off[v], in.off[v + 1] - in.off[v]);
    if (p->undirected) {
      uint64_t b = first_in_frontier(bits, out.nbr + out.off[v],
                                     out.off[v + 1] - out.off[v]);
      if (b < a) a = b;
    }
    if (a == NONE) continue;
    acc[k] = depth | a;
    hit[k++] = (uint32_t)i;
  }
  return k;
}

static void bfs_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  const bfs *p = gasp_ctx_user(ctx);
  uint64_t *v = vd, a = *(const uint64_t *)acc;
  if (p->offer && *v == NONE) {
    uint32_t *o = &p->offer[gasp_ctx_vertex(ctx)];
    if (*o != OFFER_NONE && *o) { /* offered: depth this superstep */
      uint64_t b = (gasp_ctx_iteration(ctx) << 32) | (uint64_t)(*o - 1);
      if (b < a) a = b;
    }
    if (a != NONE) *o = 0; /* reached: pushes pass it by */
  }
  if (*v == NONE && a != NONE) {
    __atomic_store_n(v, a, __ATOMIC_RELAXED);
    gasp_ctx_halt(ctx); /* later pulls pass it over */
  }
}

/* Reached in this superstep: push. */
static gasp_dir bfs_push_dir(const gasp_ctx *ctx, const void *vd) {
  const bfs *p = gasp_ctx_user(ctx);
  uint64_t v = *(const uint64_t *)vd;
  if (v == NONE || v >> 32 != gasp_ctx_iteration(ctx)) return GASP_DIR_NONE;
  return p->undirected ? GASP_DIR_ALL : GASP_DIR_OUT;
}

/* One process: offers parent index + 1 `mine` to w, signalling w if it
 * had no offer. */
static inline void offer_to(gasp_ctx *ctx, uint32_t *offer, gasp_vid w,
                            uint32_t mine) {
  uint32_t cur = __atomic_load_n(&offer[w], __ATOMIC_RELAXED);
  while (mine < cur) {
    if (__atomic_compare_exchange_n(&offer[w], &cur, mine, 1,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
      if (cur == OFFER_NONE) gasp_signal(ctx, w);
      return;
    }
  }
}

static void bfs_scatter(gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb) {
  const bfs *p = gasp_ctx_user(ctx);
  uint64_t offer = (((*(const uint64_t *)vd >> 32) + 1) << 32) |
                   index_of(p, gasp_ctx_vertex(ctx));
  if (p->offer) { /* a reached vertex's 0 turns the offer away */
    uint32_t mine = (uint32_t)gasp_ctx_vertex(ctx) + 1;
    for (uint64_t i = 0; i < nb->n_out; i++)
      offer_to(ctx, p->offer, nb->out[i], mine);
    for (uint64_t i = 0; i < nb->n_in; i++)
      offer_to(ctx, p->offer, nb->in[i], mine);
    return;
  }
  const uint64_t *data = nb->vertex_data;
  for (uint64_t i = 0; i < nb->n_out; i++)
    if (load(&data[nb->out[i]]) == NONE)
      gasp_signal_msg(ctx, nb->out[i], &offer);
  for (uint64_t i = 0; i < nb->n_in; i++)
    if (load(&data[nb->in[i]]) == NONE) gasp_signal_msg(ctx, nb->in[i], &offer);
}

void gasp_bfs_opts_init(gasp_bfs_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
}

int gasp_bfs(gasp_graph *g, const gasp_bfs_opts *o, gasp_vid source,
             uint32_t *depth, gasp_vid *parent, gasp_run_stats *stats,
             gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (!g || !o || !depth)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  if (o->engine.engine == GASP_ENGINE_ASYNC)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "BFS runs on the sync engine (level by level)");
  gasp_vid nv = gasp_graph_num_vertices(g);
  if (source != GASP_VID_NONE && source >= nv)
    return tk_lib_fail(err, GASP_EINVAL, "the source is not a vertex");
  bfs p = {o->engine.dist,
           o->undirected,
           o->engine.dist == NULL,
           NULL,
           NULL,
           {0},
           {0}};
  if (!o->engine.dist && nv < OFFER_NONE - 1) {
    p.offer = malloc((nv ? nv : 1) * sizeof *p.offer);
    if (!p.offer) return tk_lib_fail(err, GASP_ENOMEM, "out of memory");
    memset(p.offer, 0xff, (nv ? nv : 1) * sizeof *p.offer);
  }
  gasp_program prog = {0};
  prog.vertex_size = prog.acc_size = prog.msg_size = sizeof(uint64_t);
  prog.combine = gasp_combine_min_u64;
  prog.init_vertex = bfs_init;
  prog.acc_init = bfs_acc_init;
  prog.gather_edges = bfs_pull_dir;
  prog.gather_vertex = bfs_gather;
  prog.apply = bfs_apply;
  prog.scatter_edges = bfs_push_dir;
  prog.scatter_vertex = bfs_scatter;
  prog.push_pull = 1;
  prog.pull_skips_final = 1; /* reached vertices sit out the pulls */
  prog.pull_block = bfs_pull_block;
  prog.user = &p;
  gasp_engine *e = NULL;
  int rc = gasp_engine_new(&e, g, &prog, &o->engine, err);
  if (rc) {
    free(p.offer);
    return rc;
  }
  p.data = gasp_graph_vertex_data(g); /* the engine's, from here on */
  gasp_graph_in_edges(g, &p.in);
  gasp_graph_out_edges(g, &p.out);
  if (source != GASP_VID_NONE && source < gasp_graph_num_owned(g)) {
    uint64_t self = index_of(&p, source); /* depth 0, its own parent */
    gasp_engine_signal_msg(e, source, &self, 0.0);
  }
  rc = gasp_engine_run(e, st);
  if (rc && err) *err = *gasp_engine_last_error(e);
  if (!rc) {
    const uint64_t *vd = gasp_graph_vertex_data(g);
    for (gasp_vid v = 0; v < nv; v++) {
      depth[v] = vd[v] == NONE ? GASP_BFS_UNREACHED : (uint32_t)(vd[v] >> 32);
      if (parent) parent[v] = vd[v] == NONE ? GASP_VID_NONE : (gasp_vid)vd[v];
    }
  }
  gasp_engine_free(&e);
  free(p.offer);
  return rc;
}
