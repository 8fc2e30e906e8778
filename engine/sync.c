/*
 * sync.c -- the bulk-synchronous engine (GraphLab's synchronous engine,
 * after Valiant's BSP): each superstep gathers for every active vertex,
 * then applies, then scatters; signals made during a superstep activate
 * vertices for the next one.  Gathers therefore read the previous
 * superstep's vertex data (apply runs only after every gather finished),
 * which makes the engine edge-consistent by construction.
 *
 * Frontier: signals append newly activated vertices to per-thread lists
 * (sparse); when a superstep's frontier is large the phases walk the flag
 * array in id order instead (dense), which reads the graph sequentially.
 * The barrier between supersteps is where a distributed run exchanges
 * ghost data (gasp__sync_exchange, a no-op on one partition).
 */
#include "engine_internal.h"

#include <string.h>

typedef struct vlist {
  gasp_vid *v;
  uint64_t n, cap;
  int oom;
} vlist;

typedef struct sync_state {
  gasp_engine *e;
  char *acc;          /* nv x acc_size */
  vlist *lists;       /* per thread: vertices activated for the next step */
  gasp_vid *frontier; /* this step's vertices (sparse) */
  uint64_t nfront;
  int dense;
  gasp__range r;
  int phase; /* 0 gather, 1 apply, 2 scatter */
  uint64_t *newly; /* per thread */
} sync_state;

static void list_push(vlist *l, gasp_vid v) {
  if (l->n == l->cap) {
    uint64_t ncap = l->cap ? 2 * l->cap : 1024;
    gasp_vid *nv = realloc(l->v, ncap * sizeof *nv);
    if (!nv) {
      l->oom = 1;
      return;
    }
    l->v = nv;
    l->cap = ncap;
  }
  l->v[l->n++] = v;
}

void gasp__sync_signal(gasp_ctx *ctx, gasp_vid v, double prio) {
  (void)prio;
  gasp_engine *e = ctx->e;
  if (__atomic_exchange_n(&e->next[v], 1, __ATOMIC_RELAXED)) return;
  sync_state *s = ctx->state;
  list_push(&s->lists[ctx->tid], v);
}

static void run_vertex(sync_state *s, gasp_ctx *ctx, gasp_vid v) {
  gasp_engine *e = s->e;
  ctx->v = v;
  void *acc = s->acc + (size_t)v * e->prog.acc_size;
  if (s->phase == 0)
    gasp__do_gather(ctx, acc);
  else if (s->phase == 1)
    gasp__do_apply(ctx, acc);
  else
    gasp__do_scatter(ctx);
}

static void phase_worker(void *arg, int tid) {
  sync_state *s = arg;
  gasp_engine *e = s->e;
  gasp_ctx ctx = {e, 0, tid, e->iteration, s};
  uint64_t lo, hi;
  while (gasp__range_next(&s->r, &lo, &hi)) {
    if (s->dense) {
      for (uint64_t v = lo; v < hi; v++)
        if (e->active[v]) run_vertex(s, &ctx, (gasp_vid)v);
    } else {
      for (uint64_t i = lo; i < hi; i++) run_vertex(s, &ctx, s->frontier[i]);
    }
  }
}

/* Collects the next frontier from the per-thread lists and flags. */
static int next_frontier(sync_state *s) {
  gasp_engine *e = s->e;
  uint64_t n = 0;
  int T = gasp__pool_size(e->pool);
  for (int t = 0; t < T; t++) {
    if (s->lists[t].oom) return GASP_ENOMEM;
    n += s->lists[t].n;
  }
  /* The old frontier's flags go down, the new ones come up. */
  if (s->dense)
    memset(e->active, 0, e->g->nv);
  else
    for (uint64_t i = 0; i < s->nfront; i++) e->active[s->frontier[i]] = 0;
  uint8_t *tmp = e->active;
  e->active = e->next;
  e->next = tmp;
  s->nfront = n;
  s->dense = n > e->g->nv / 16;
  if (!s->dense) {
    uint64_t k = 0;
    for (int t = 0; t < T; t++) {
      if (s->lists[t].n)
        memcpy(s->frontier + k, s->lists[t].v, s->lists[t].n * sizeof(gasp_vid));
      k += s->lists[t].n;
    }
  }
  for (int t = 0; t < T; t++) s->lists[t].n = 0;
  return GASP_OK;
}

/* Ghost exchange at the barrier: nothing to do on one partition; the
 * distributed runtime replaces this with the owner -> ghost update. */
static int sync_exchange(gasp_engine *e) {
  (void)e;
  return GASP_OK;
}

/* Chunk of vertices a worker claims at a time: `most`, but small enough
 * for 32 chunks per thread, so that a superstep of a few thousand costly
 * updates (LDA documents, all on one side of the graph) still spreads
 * over all threads (floor 16). */
static uint64_t grain(uint64_t work, uint64_t most, const gasp_engine *e) {
  uint64_t per = work / (32 * (uint64_t)gasp__pool_size(e->pool));
  return per < 16 ? 16 : per < most ? per : most;
}

static int sync_loop(sync_state *s, gasp_run_stats *st) {
  gasp_engine *e = s->e;
  double t0 = gasp__now();
  uint64_t nv = e->g->nv;
  for (;;) {
    if (s->nfront == 0) {
      st->reason = GASP_STOP_CONVERGED;
      break;
    }
    if (__atomic_load_n(&e->stop, __ATOMIC_RELAXED)) {
      st->reason = GASP_STOP_PROGRAM;
      break;
    }
    if (e->opts.max_iter && st->iterations >= e->opts.max_iter) {
      st->reason = GASP_STOP_MAX_ITER;
      break;
    }
    uint64_t work = s->dense ? nv : s->nfront;
    for (s->phase = 0; s->phase < 3; s->phase++) {
      if (s->phase == 2 && !e->prog.scatter) break;
      s->r = (gasp__range){0, work, grain(work, s->dense ? 2048 : 256, e)};
      gasp__pool_run(e->pool, phase_worker, s);
    }
    int rc = sync_exchange(e);
    if (rc) return rc;
    uint64_t ran = s->nfront;
    st->updates += ran;
    e->updates += ran;
    st->iterations++;
    e->iteration++;
    if (e->opts.always_active) {
      for (int t = 0; t < gasp__pool_size(e->pool); t++) s->lists[t].n = 0;
      memset(e->next, 0, nv); /* signals are moot: all stay active */
    } else if ((rc = next_frontier(s))) {
      return rc;
    }
    gasp__aggregate_due(e, 0, gasp__now());
    if (e->opts.on_iteration) {
      gasp_iter_info info = {e->iteration, ran, st->updates, gasp__now() - t0};
      if (e->opts.on_iteration(e->opts.on_iteration_user, &info))
        __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
    }
  }
  e->nsignalled = s->nfront;
  /* Pending vertices stay flagged in e->active for a later run. */
  if (!s->dense)
    for (uint64_t i = 0; i < s->nfront; i++) e->active[s->frontier[i]] = 1;
  return GASP_OK;
}

int gasp__sync_run(gasp_engine *e, gasp_run_stats *st) {
  uint64_t nv = e->g->nv;
  int T = gasp__pool_size(e->pool);
  sync_state s;
  memset(&s, 0, sizeof s);
  s.e = e;
  s.acc = gasp__malloc_array(nv ? nv : 1, e->prog.acc_size ? e->prog.acc_size : 1);
  s.lists = calloc((size_t)T, sizeof *s.lists);
  s.frontier = gasp__malloc_array(nv ? nv : 1, sizeof *s.frontier);
  int rc = GASP_ENOMEM;
  if (!s.acc || !s.lists || !s.frontier) goto out;
  memset(e->next, 0, nv);
  uint64_t n = 0;
  for (uint64_t v = 0; v < nv; v++)
    if (e->active[v]) s.frontier[n++] = (gasp_vid)v;
  s.nfront = n;
  s.dense = n > nv / 16;
  if (e->opts.always_active) {
    memset(e->active, 1, nv);
    s.nfront = nv;
    s.dense = 1;
  }
  rc = sync_loop(&s, st);
out:
  if (s.lists)
    for (int t = 0; t < T; t++) free(s.lists[t].v);
  free(s.lists);
  free(s.acc);
  free(s.frontier);
  return rc;
}
