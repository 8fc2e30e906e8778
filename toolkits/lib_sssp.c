/*
 * lib_sssp.c -- gasp_sssp (gasp_toolkits.h): single-source shortest paths over
 * non-negative edge weights as a vertex program, by label correcting
 * (Bellman 1958, Ford 1956; the GraphLab SSSP toolkit, Low et al. 2012).
 *
 * Every vertex holds a tentative distance, infinity at first; the source
 * is sent 0 as a message.  A vertex whose distance dropped pushes: it
 * offers d(v) + w(v, u) as a message to each neighbour u the offer would
 * improve (the engine keeps the smallest offer per vertex), and an update
 * lowers d to its best offer.  The same program can pull: gather
 * min(d(u) + w(u, v)) over the edges that lead into v -- the in-edges with
 * --directed, every edge otherwise (edges are then walked both ways).
 *
 * --engine sync (default) chooses per superstep between pushing from the
 * frontier and pulling everywhere (push_pull, by the edges each reads);
 * --engine async pushes, with the priority scheduler (unless another is
 * named) and priority -d, so nearer vertices settle first, as in Dijkstra.
 * Both reach the same fixed point: every d(v) is the smallest, over the
 * paths from the source, of the path's weights summed from the source
 * on, in floating point, so the two engines agree exactly.
 *
 * Distances are read and written with relaxed atomics, so the vertex
 * consistency model (neighbours read while they update) is safe too.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sp_vertex {
  double dist;
  int changed; /* set by apply when dist dropped: scatter then signals */
} sp_vertex;

typedef struct sp {
  const double *w; /* edge weights by slot, NULL: all 1 */
  int directed;
} sp;

static double load_dist(const void *vd) {
  uint64_t b = __atomic_load_n((const uint64_t *)&((const sp_vertex *)vd)->dist,
                               __ATOMIC_RELAXED);
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static void store_dist(sp_vertex *v, double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  __atomic_store_n((uint64_t *)&v->dist, b, __ATOMIC_RELAXED);
}

static void sp_init(gasp_ctx *ctx, void *vd) {
  (void)ctx;
  sp_vertex *v = vd;
  v->dist = INFINITY;
  v->changed = 0;
}

static void sp_acc_init(const gasp_ctx *ctx, void *acc) {
  (void)ctx;
  *(double *)acc = INFINITY;
}

/* Bulk pull: the smallest d(u) + w over the edges into the centre. */
static void sp_gather(const gasp_ctx *ctx, const void *v, const gasp_nbrs *nb,
                      void *acc) {
  (void)v;
  const sp *p = gasp_ctx_user(ctx);
  const char *vdata = nb->vertex_data;
  size_t vs = nb->vertex_size;
  double best = *(const double *)acc;
  for (uint64_t i = 0; i < nb->n_in; i++) {
    double d = load_dist(vdata + (size_t)nb->in[i] * vs);
    if (d == INFINITY) continue;
    d += p->w ? p->w[nb->in_slot[i]] : 1.0;
    if (d < best) best = d;
  }
  for (uint64_t i = 0; i < nb->n_out; i++) {
    double d = load_dist(vdata + (size_t)nb->out[i] * vs);
    if (d == INFINITY) continue;
    d += p->w ? p->w[nb->out_slot0 + i] : 1.0;
    if (d < best) best = d;
  }
  *(double *)acc = best;
}

static void sp_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)ctx;
  sp_vertex *v = vd;
  double best = *(const double *)acc;
  v->changed = best < v->dist;
  if (v->changed) store_dist(v, best);
}

static gasp_dir sp_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  const sp *p = gasp_ctx_user(ctx);
  if (!((const sp_vertex *)vd)->changed) return GASP_DIR_NONE;
  return p->directed ? GASP_DIR_OUT : GASP_DIR_ALL;
}

/* Offers d(v) + w to each neighbour it improves. */
static void sp_scatter(gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb) {
  const sp *p = gasp_ctx_user(ctx);
  const char *vdata = nb->vertex_data;
  size_t vs = nb->vertex_size;
  double d0 = load_dist(vd);
  for (uint64_t i = 0; i < nb->n_out; i++) {
    double d = d0 + (p->w ? p->w[nb->out_slot0 + i] : 1.0);
    if (d < load_dist(vdata + (size_t)nb->out[i] * vs))
      gasp_signal_msg_priority(ctx, nb->out[i], &d, -d);
  }
  for (uint64_t i = 0; i < nb->n_in; i++) {
    double d = d0 + (p->w ? p->w[nb->in_slot[i]] : 1.0);
    if (d < load_dist(vdata + (size_t)nb->in[i] * vs))
      gasp_signal_msg_priority(ctx, nb->in[i], &d, -d);
  }
}

/* ---- the call ---------------------------------------------------------- */

void gasp_sssp_opts_init(gasp_sssp_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
}

/* Negative and NaN weights are refused, naming the edge by original ids
 * (a rank checks its own edges). */
static int check_weights(const gasp_graph *g, gasp_error *err) {
  const double *w = gasp_graph_weights(g);
  if (!w) return GASP_OK;
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (gasp_vid v = 0; v < out.num_vertices; v++)
    for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++)
      if (!(w[j] >= 0))
        return tk_lib_fail(
            err, GASP_EINVAL,
            "edge %llu -> %llu has weight %g; shortest paths need "
            "non-negative weights",
            (unsigned long long)gasp_graph_gid(g, v),
            (unsigned long long)gasp_graph_gid(g, out.nbr[j]), w[j]);
  return GASP_OK;
}

int gasp_sssp(gasp_graph *g, const gasp_sssp_opts *o, gasp_vid source,
              double *dist, gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (!g || !o || !dist)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  gasp_vid nv = gasp_graph_num_vertices(g);
  if (source != GASP_VID_NONE && source >= nv)
    return tk_lib_fail(err, GASP_EINVAL, "source %u is not a vertex", source);
  int rc = check_weights(g, err);
  if (rc) return rc;
  sp p = {gasp_graph_weights(g), o->directed};
  gasp_program prog = {0};
  prog.vertex_size = sizeof(sp_vertex);
  prog.acc_size = sizeof(double);
  prog.msg_size = sizeof(double);
  prog.combine = gasp_combine_min_f64;
  prog.init_vertex = sp_init;
  prog.acc_init = sp_acc_init;
  prog.gather_dir = p.directed ? GASP_DIR_IN : GASP_DIR_ALL;
  prog.gather_vertex = sp_gather;
  prog.apply = sp_apply;
  prog.scatter_edges = sp_scatter_dir;
  prog.scatter_vertex = sp_scatter;
  prog.push_pull = 1;
  prog.user = &p;
  gasp_engine_opts eo = o->engine;
  if (eo.engine == GASP_ENGINE_ASYNC && eo.scheduler == GASP_SCHED_FIFO)
    eo.scheduler = GASP_SCHED_PRIORITY;
  gasp_engine *e = NULL;
  if ((rc = gasp_engine_new(&e, g, &prog, &eo, err))) return rc;
  if (eo.checkpoint_dir || eo.resume_dir) { /* the state is the engine's */
    char key[96];
    snprintf(key, sizeof key, "sssp source=%lld directed=%d",
             source == GASP_VID_NONE ? -1ll
             : eo.dist ? (long long)gasp_dist_global_id(eo.dist, source)
                       : (long long)gasp_graph_gid(g, source),
             p.directed);
    if ((rc = gasp_engine_set_checkpoint_key(e, key))) {
      tk_lib_fail(err, rc, "sssp: out of memory");
      gasp_engine_free(&e);
      return rc;
    }
  }
  /* the source's owner starts the run (a ghost copy never updates) */
  double zero = 0.0;
  if (source != GASP_VID_NONE && source < gasp_graph_num_owned(g))
    gasp_engine_signal_msg(e, source, &zero, 0.0);
  rc = gasp_engine_run(e, st);
  if (rc && err) *err = *gasp_engine_last_error(e);
  if (!rc) {
    const sp_vertex *vd = gasp_graph_vertex_data(g);
    for (gasp_vid v = 0; v < nv; v++)
      dist[v] = vd[v].dist;
  }
  gasp_engine_free(&e);
  return rc;
}
