/*
 * lib_scc.c -- gasp_scc (gasp_toolkits.h): strongly connected components
 * of a directed graph by colouring (Orzan, "On distributed verification
 * and verified distribution", PhD thesis, 2004; the form used by Pregel
 * systems, e.g. Yan et al., "Pregel algorithms for graph connectivity
 * problems with performance guarantees", VLDB 2014), on the sync engine.
 *
 * Each round, over the vertices without a component:
 *   trim     a vertex with no such in-neighbour, or no such out-neighbour,
 *            is a component of its own; peeling repeats while it finds
 *            some (a chain falls away a vertex per superstep, instead of
 *            a round per vertex);
 *   forward  every vertex takes the largest index that reaches it (its
 *            own at first, then the largest pushed along out-edges);
 *   backward each vertex that kept its own index is a root: its component
 *            is the vertices of its colour that reach it, found by
 *            pushing along in-edges within the colour.
 * A vertex's component is named by the largest index in it, so the result
 * does not depend on threads, ranks or the order of updates.  Keys are
 * stored as ~(index + 1) so that the engine's minimum combiner keeps the
 * largest index (and no key is the all-ones "none").
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT64_MAX

enum { PH_TRIM = 0, PH_FORWARD = 1, PH_BACKWARD = 2 };

typedef struct scc_vertex {
  uint64_t key;   /* the key of the largest index reaching it, this round */
  uint64_t comp;  /* the key of its component's largest index, or NONE */
  uint32_t round; /* the round `key` belongs to */
  uint32_t fresh; /* changed in this update: push it */
} scc_vertex;

typedef struct scc {
  gasp_dist *dist;
  int phase;
  uint32_t round;
  uint64_t *found; /* per thread: components found (trim and roots) */
} scc;

/* ~(index + 1): never NONE, and the largest index has the smallest key. */
static uint64_t own_key(const scc *p, gasp_vid v) {
  return ~((uint64_t)(p->dist ? gasp_dist_global_id(p->dist, v) : v) + 1);
}

static gasp_vid index_of_key(uint64_t key) { return (gasp_vid)(~key - 1); }

static const scc_vertex *at(const gasp_nbrs *nb, gasp_vid u) {
  return (const scc_vertex *)((const char *)nb->vertex_data +
                              (size_t)u * nb->vertex_size);
}

static void scc_init(gasp_ctx *ctx, void *vd) {
  (void)ctx;
  scc_vertex *v = vd;
  v->key = v->comp = NONE;
  v->round = UINT32_MAX;
  v->fresh = 0;
}

/* Trim: count the neighbours still without a component, each way (self
 * loops do not count); the accumulator holds "has an in-neighbour" and
 * "has an out-neighbour". */
static gasp_dir scc_gather_dir(const gasp_ctx *ctx, const void *vd) {
  const scc *p = gasp_ctx_user(ctx);
  const scc_vertex *v = vd;
  return p->phase == PH_TRIM && v->comp == NONE ? GASP_DIR_ALL : GASP_DIR_NONE;
}

static void scc_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb,
                       void *accp) {
  (void)vd;
  uint64_t *acc = accp;
  gasp_vid self = gasp_ctx_vertex(ctx);
  uint64_t has = 0;
  for (uint64_t i = 0; i < nb->n_in && !(has & 1); i++)
    if (nb->in[i] != self && at(nb, nb->in[i])->comp == NONE) has |= 1;
  for (uint64_t i = 0; i < nb->n_out && !(has & 2); i++)
    if (nb->out[i] != self && at(nb, nb->out[i])->comp == NONE) has |= 2;
  *acc = has;
}

static void count_found(scc *p, const gasp_ctx *ctx) {
  uint64_t *f = &p->found[gasp_ctx_thread(ctx)];
  __atomic_store_n(f, __atomic_load_n(f, __ATOMIC_RELAXED) + 1,
                   __ATOMIC_RELAXED);
}

static void scc_apply(gasp_ctx *ctx, void *vd, const void *accp) {
  scc *p = gasp_ctx_user(ctx);
  scc_vertex *v = vd;
  gasp_vid self = gasp_ctx_vertex(ctx);
  v->fresh = 0;
  if (v->comp != NONE) return; /* a late message */
  const uint64_t *m = gasp_ctx_msg(ctx);
  switch (p->phase) {
  case PH_TRIM:
    if (*(const uint64_t *)accp != 3) { /* a component of its own */
      v->comp = own_key(p, self);
      v->fresh = 1;
      count_found(p, ctx);
    }
    break;
  case PH_FORWARD:
    if (v->round != p->round) {
      v->round = p->round;
      v->key = own_key(p, self);
      v->fresh = 1;
    }
    if (m && *m < v->key) {
      v->key = *m;
      v->fresh = 1;
    }
    break;
  case PH_BACKWARD:
    if (m && *m == v->key && v->round == p->round) {
      v->comp = v->key;
      v->fresh = 1;
      if (v->key == own_key(p, self)) count_found(p, ctx);
    }
    break;
  }
}

static gasp_dir scc_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  const scc *p = gasp_ctx_user(ctx);
  if (!((const scc_vertex *)vd)->fresh) return GASP_DIR_NONE;
  return p->phase == PH_FORWARD    ? GASP_DIR_OUT
         : p->phase == PH_BACKWARD ? GASP_DIR_IN
                                   : GASP_DIR_ALL;
}

static void scc_scatter(gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb) {
  const scc *p = gasp_ctx_user(ctx);
  const scc_vertex *v = vd;
  gasp_vid self = gasp_ctx_vertex(ctx);
  if (p->phase == PH_TRIM) { /* neighbours may have lost their last one */
    for (uint64_t i = 0; i < nb->n_in; i++)
      if (nb->in[i] != self && at(nb, nb->in[i])->comp == NONE)
        gasp_signal(ctx, nb->in[i]);
    for (uint64_t i = 0; i < nb->n_out; i++)
      if (nb->out[i] != self && at(nb, nb->out[i])->comp == NONE)
        gasp_signal(ctx, nb->out[i]);
    return;
  }
  if (p->phase == PH_FORWARD) {
    for (uint64_t i = 0; i < nb->n_out; i++) {
      const scc_vertex *x = at(nb, nb->out[i]);
      /* keys only fall within a round: a neighbour already as low needs
       * nothing (a ghost's copy may lag, never undercut) */
      if (x->comp != NONE) continue;
      /* a neighbour not yet in this round starts from its own key */
      uint64_t k = x->round == p->round ? x->key : own_key(p, nb->out[i]);
      if (k <= v->key) continue;
      gasp_signal_msg(ctx, nb->out[i], &v->key);
    }
    return;
  }
  for (uint64_t i = 0; i < nb->n_in; i++) { /* backward, within the colour */
    const scc_vertex *x = at(nb, nb->in[i]);
    if (x->comp == NONE && x->round == p->round && x->key == v->key)
      gasp_signal_msg(ctx, nb->in[i], &v->key);
  }
}

/* ---- the call ---------------------------------------------------------- */

void gasp_scc_opts_init(gasp_scc_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
}

static void add_stats(gasp_run_stats *to, const gasp_run_stats *s) {
  to->iterations += s->iterations;
  to->updates += s->updates;
  to->pull_iterations += s->pull_iterations;
  to->seconds += s->seconds;
  to->threads = s->threads;
  if (s->reason != GASP_STOP_CONVERGED) to->reason = s->reason;
}

/* One phase: a run over what is signalled; its stats added to st. */
static int run_phase(gasp_engine *e, scc *p, int phase, gasp_run_stats *st,
                     gasp_error *err) {
  p->phase = phase;
  gasp_run_stats s;
  int rc = gasp_engine_run(e, &s);
  if (rc) {
    if (err) *err = *gasp_engine_last_error(e);
    return rc;
  }
  add_stats(st, &s);
  return GASP_OK;
}

/* Sum over threads (and ranks) of the components found so far. */
static int found_total(gasp_engine *e, const scc *p, int threads,
                       uint64_t *total, gasp_error *err) {
  double f = 0;
  for (int t = 0; t < threads; t++)
    f += (double)p->found[t];
  int rc = gasp_engine_allreduce(e, &f, 1, GASP_REDUCE_SUM);
  if (rc && err) *err = *gasp_engine_last_error(e);
  *total = (uint64_t)f;
  return rc;
}

int gasp_scc(gasp_graph *g, const gasp_scc_opts *o, gasp_vid *component,
             uint64_t *components, gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  uint64_t count_tmp;
  if (!components) components = &count_tmp;
  *components = 0;
  if (!g || !o || !component)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  if (o->engine.engine == GASP_ENGINE_ASYNC)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "strongly connected components run on the sync engine "
                       "(phases of whole supersteps)");
  if (o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "strongly connected components need whole supersteps "
                       "(no --staleness)");
  scc p = {o->engine.dist, PH_TRIM, 0, NULL};
  gasp_program prog = {0};
  prog.vertex_size = sizeof(scc_vertex);
  prog.acc_size = sizeof(uint64_t);
  prog.msg_size = sizeof(uint64_t);
  prog.combine = gasp_combine_min_u64;
  prog.init_vertex = scc_init;
  prog.gather_edges = scc_gather_dir;
  prog.gather_vertex = scc_gather;
  prog.apply = scc_apply;
  prog.scatter_edges = scc_scatter_dir;
  prog.scatter_vertex = scc_scatter;
  prog.user = &p;
  gasp_engine_opts eo = o->engine;
  gasp_engine *e = NULL;
  int rc = gasp_engine_new(&e, g, &prog, &eo, err);
  if (rc) return rc;
  int threads = gasp_engine_threads(e);
  gasp_vid owned = gasp_graph_num_owned(g), n = gasp_graph_num_vertices(g);
  scc_vertex *vd = gasp_graph_vertex_data(g);
  double left = (double)owned;
  if (!(p.found = gasp__calloc((size_t)threads, sizeof *p.found))) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "scc: out of memory");
    goto out;
  }
  if ((rc = gasp_engine_allreduce(e, &left, 1, GASP_REDUCE_SUM))) {
    if (err) *err = *gasp_engine_last_error(e);
    goto out;
  }
  uint64_t total = (uint64_t)left, done = 0;
  st->reason = GASP_STOP_CONVERGED;
  for (p.round = 0; done < total; p.round++) {
    for (gasp_vid v = 0; v < owned; v++)
      if (vd[v].comp == NONE) gasp_engine_signal(e, v, 0.0);
    if ((rc = run_phase(e, &p, PH_TRIM, st, err))) goto out;
    for (gasp_vid v = 0; v < owned; v++)
      if (vd[v].comp == NONE) gasp_engine_signal(e, v, 0.0);
    if ((rc = run_phase(e, &p, PH_FORWARD, st, err))) goto out;
    for (gasp_vid v = 0; v < owned; v++)
      if (vd[v].comp == NONE && vd[v].round == p.round &&
          vd[v].key == own_key(&p, v))
        gasp_engine_signal_msg(e, v, &vd[v].key, 0.0);
    if ((rc = run_phase(e, &p, PH_BACKWARD, st, err))) goto out;
    if ((rc = found_total(e, &p, threads, components, err))) goto out;
    /* every vertex found belongs to a component counted once, at its
     * root or as a trimmed singleton: count the vertices instead */
    double d = 0;
    for (gasp_vid v = 0; v < owned; v++)
      d += vd[v].comp != NONE;
    if ((rc = gasp_engine_allreduce(e, &d, 1, GASP_REDUCE_SUM))) {
      if (err) *err = *gasp_engine_last_error(e);
      goto out;
    }
    done = (uint64_t)d;
    if (st->reason != GASP_STOP_CONVERGED) break; /* max_iter, on_iteration */
  }
  for (gasp_vid v = 0; v < n; v++)
    component[v] =
        vd[v].comp == NONE ? GASP_VID_NONE : index_of_key(vd[v].comp);
out:
  gasp_engine_free(&e);
  free(p.found);
  return rc;
}
