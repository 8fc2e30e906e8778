/*
 * async.c -- the asynchronous engine (GraphLab's locking engine, Low et
 * al., VLDB 2012): worker threads take signalled vertices from a
 * scheduler and run gather-apply-scatter on each at once, seeing the
 * latest data of their neighbours, under one of two ways of enforcing the
 * consistency model:
 *
 *  locks      per-vertex reader-writer locks over the centre and its
 *             neighbours, taken in ascending id order (deadlock-free):
 *             vertex = write the centre; edge = write the centre, read the
 *             neighbours; full = write the centre and the neighbours.
 *  chromatic  a greedy colouring (distance 1 for edge, distance 2 for
 *             full, one class for vertex) run one colour class at a time:
 *             vertices of one class never conflict, so no locks are taken.
 *             The scheduler's order does not apply; classes are swept in
 *             turn until nothing is signalled.
 *
 * Termination is quiescence, not a timeout: `pending` counts vertices
 * that are scheduled or running; a signal increments it before the
 * signalling update's own decrement, so pending == 0 means no update runs
 * and none is queued, and no new signal can appear.
 */
#include "dist_internal.h"
#include "engine_internal.h"
#include "ghost.h"

#include <math.h>
#include <sched.h>
#include <string.h>

typedef struct async_state {
  gasp_engine *e;
  void **acc;      /* per thread */
  gasp_vid **nbuf; /* per thread neighbour buffers */
  uint64_t *ncap;
  uint64_t limit; /* max updates, 0 = none */
  int reason;     /* atomic: GASP_STOP_* + 1 when set */
  /* pausing workers so the driving thread can aggregate */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int pause, paused;
  double t0, last_agg_check;
  uint64_t last_iter_reported;
  int oom;
  /* chromatic */
  gasp_vid **class_v;
  uint64_t *class_n;
  gasp_vid *batch;
  uint64_t nbatch;
  gasp__range r;
} async_state;

/* Atomic max on a double; returns the merged value. */
static double prio_max(double *p, double x) {
  uint64_t *w = (uint64_t *)p, cur = __atomic_load_n(w, __ATOMIC_RELAXED);
  for (;;) {
    double c;
    memcpy(&c, &cur, sizeof c);
    if (!(x > c)) return c;
    uint64_t nx;
    memcpy(&nx, &x, sizeof nx);
    if (__atomic_compare_exchange_n(w, &cur, nx, 1, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
      return x;
  }
}

static void prio_store(double *p, double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  __atomic_store_n((uint64_t *)p, b, __ATOMIC_RELAXED);
}

void gasp__async_signal(gasp_ctx *ctx, gasp_vid v, double prio) {
  gasp_engine *e = ctx->e;
  if (isnan(prio)) prio = 0.0;
  if (__atomic_exchange_n(&e->active[v], 1, __ATOMIC_SEQ_CST) == 0) {
    prio_store(&e->prio[v], prio);
    __atomic_fetch_add(&e->pending, 1, __ATOMIC_ACQ_REL);
    if (!e->chromatic) e->sched_ops->push(e->sched, ctx->tid, v, prio);
    return;
  }
  double merged = prio_max(&e->prio[v], prio);
  if (!e->chromatic && e->sched_ops->raise)
    e->sched_ops->raise(e->sched, ctx->tid, v, merged);
}

/* ---- locking ---------------------------------------------------------- */

static int lock_vertex(async_state *s, int tid, gasp_vid v, uint64_t *n) {
  gasp_engine *e = s->e;
  uint32_t *L = e->locks;
  if (e->opts.consistency == GASP_CONSISTENCY_VERTEX) {
    gasp__rw_wrlock(&L[v]);
    *n = 0;
    return 0;
  }
  uint64_t k = gasp__neighbours(e->g, v, &s->nbuf[tid], &s->ncap[tid]);
  if (k == UINT64_MAX) return -1;
  *n = k;
  const gasp_vid *nb = s->nbuf[tid];
  int full = e->opts.consistency == GASP_CONSISTENCY_FULL;
  int centre_done = 0;
  for (uint64_t i = 0; i <= k; i++) {
    if (!centre_done && (i == k || nb[i] > v)) {
      gasp__rw_wrlock(&L[v]);
      centre_done = 1;
    }
    if (i == k) break;
    if (full)
      gasp__rw_wrlock(&L[nb[i]]);
    else
      gasp__rw_rdlock(&L[nb[i]]);
  }
  return 0;
}

static void unlock_vertex(async_state *s, int tid, gasp_vid v, uint64_t n) {
  gasp_engine *e = s->e;
  uint32_t *L = e->locks;
  int full = e->opts.consistency == GASP_CONSISTENCY_FULL;
  const gasp_vid *nb = s->nbuf[tid];
  for (uint64_t i = 0; i < n; i++) {
    if (full)
      gasp__rw_wrunlock(&L[nb[i]]);
    else
      gasp__rw_rdunlock(&L[nb[i]]);
  }
  gasp__rw_wrunlock(&L[v]);
}

/* ---- one update ----------------------------------------------------- */

static void update(async_state *s, gasp_ctx *ctx, gasp_vid v) {
  gasp_engine *e = s->e;
  ctx->v = v;
  ctx->iteration = __atomic_load_n(&e->updates, __ATOMIC_RELAXED) /
                   (e->g->nv ? e->g->nv : 1);
  /* Clear the flag first: a signal arriving during the update schedules
   * the vertex again, so no change goes unseen. */
  prio_store(&e->prio[v], 0.0);
  __atomic_store_n(&e->active[v], 0, __ATOMIC_RELEASE);
  /* Store-load fence (Dekker): the gather's reads of neighbour data must
   * not move above the flag clear, or a neighbour that writes and then
   * finds the flag still set would be missed (it does not re-queue v, and
   * v reads the old value). */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  void *acc = s->acc[ctx->tid];
  gasp__do_gather(ctx, acc);
  gasp__do_apply(ctx, acc);
  gasp__do_scatter(ctx);
  uint64_t u = __atomic_add_fetch(&e->updates, 1, __ATOMIC_RELAXED);
  if (s->limit && u >= s->limit) {
    int none = 0;
    __atomic_compare_exchange_n(&s->reason, &none, GASP_STOP_MAX_ITER + 1, 0,
                                __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  }
}

static int should_stop(async_state *s) {
  if (__atomic_load_n(&s->e->stop, __ATOMIC_RELAXED)) {
    int none = 0;
    __atomic_compare_exchange_n(&s->reason, &none, GASP_STOP_PROGRAM + 1, 0,
                                __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  }
  return __atomic_load_n(&s->reason, __ATOMIC_RELAXED) != 0;
}

/* Driving thread's duties between updates: per-iteration callback and
 * periodic aggregators, with the other workers paused -- unless they are
 * idle already (chromatic schedule, between colour steps). */
static void drive(async_state *s, int others_idle) {
  gasp_engine *e = s->e;
  uint64_t nv = e->g->nv ? e->g->nv : 1;
  uint64_t done = __atomic_load_n(&e->updates, __ATOMIC_RELAXED);
  uint64_t it = done / nv;
  if (e->opts.on_iteration && it > s->last_iter_reported) {
    s->last_iter_reported = it;
    gasp_iter_info info = {it, nv, done, gasp__now() - s->t0};
    if (e->opts.on_iteration(e->opts.on_iteration_user, &info))
      __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
  }
  if (e->naggs == 0) return;
  double now = gasp__now();
  if (now - s->last_agg_check < 0.01) return;
  s->last_agg_check = now;
  int due = 0;
  for (int i = 0; i < e->naggs; i++)
    if (e->aggs[i].a.period_seconds > 0 &&
        now - e->aggs[i].last >= e->aggs[i].a.period_seconds)
      due = 1;
  if (!due) return;
  if (others_idle) {
    gasp__aggregate_serial(e, now);
    return;
  }
  int others = gasp__pool_size(e->pool) - 1;
  pthread_mutex_lock(&s->mu);
  __atomic_store_n(&s->pause, 1, __ATOMIC_RELAXED);
  while (s->paused < others)
    pthread_cond_wait(&s->cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
  gasp__aggregate_serial(e, now);
  pthread_mutex_lock(&s->mu);
  __atomic_store_n(&s->pause, 0, __ATOMIC_RELAXED);
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* Workers other than the driver stop here while it aggregates. */
static void maybe_pause(async_state *s) {
  if (!__atomic_load_n(&s->pause, __ATOMIC_RELAXED)) return;
  pthread_mutex_lock(&s->mu);
  if (__atomic_load_n(&s->pause, __ATOMIC_RELAXED)) {
    s->paused++;
    pthread_cond_broadcast(&s->cv);
    while (__atomic_load_n(&s->pause, __ATOMIC_RELAXED))
      pthread_cond_wait(&s->cv, &s->mu);
    s->paused--;
  }
  pthread_mutex_unlock(&s->mu);
}

static void lock_worker(void *arg, int tid) {
  async_state *s = arg;
  gasp_engine *e = s->e;
  gasp_ctx ctx = {e, 0, tid, 0, s};
  unsigned idle = 0;
  for (;;) {
    if (tid == 0)
      drive(s, 0);
    else
      maybe_pause(s);
    if (should_stop(s)) break;
    gasp_vid v;
    if (e->sched_ops->pop(e->sched, tid, &v)) {
      idle = 0;
      uint64_t n;
      if (lock_vertex(s, tid, v, &n)) {
        __atomic_store_n(&s->oom, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
        __atomic_fetch_sub(&e->pending, 1, __ATOMIC_ACQ_REL);
        continue;
      }
      update(s, &ctx, v);
      unlock_vertex(s, tid, v, n);
      __atomic_fetch_sub(&e->pending, 1, __ATOMIC_ACQ_REL);
      continue;
    }
    if (__atomic_load_n(&e->pending, __ATOMIC_ACQUIRE) == 0) break;
    if (++idle > 16) sched_yield();
  }
  /* A worker leaving while the driver waits for a pause must count. */
  if (tid != 0) {
    pthread_mutex_lock(&s->mu);
    s->paused++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
}

/* ---- chromatic schedule ------------------------------------------- */

static int build_classes(async_state *s) {
  gasp_engine *e = s->e;
  int dist = e->opts.consistency == GASP_CONSISTENCY_FULL   ? 2
             : e->opts.consistency == GASP_CONSISTENCY_EDGE ? 1
                                                            : 0;
  uint64_t nv = e->g->nv;
  if (!e->color || e->color_distance != dist) {
    free(e->color);
    e->color = gasp__malloc_array(nv ? nv : 1, sizeof *e->color);
    if (!e->color) return GASP_ENOMEM;
    if (e->opts.dist) { /* every rank must agree: ghosts' colours too */
      int rc = gasp__dist_color(e, dist, e->color, &e->ncolors, &e->err);
      if (rc) {
        free(e->color);
        e->color = NULL;
        return rc;
      }
    } else if (dist == 0) {
      memset(e->color, 0, nv * sizeof *e->color);
      e->ncolors = nv ? 1 : 0;
    } else {
      int c = gasp__color_graph(e->g, dist, e->color);
      if (c < 0) return c;
      e->ncolors = c;
    }
    e->color_distance = dist;
  }
  int C = e->ncolors;
  s->class_n = calloc((size_t)C + 1, sizeof *s->class_n);
  s->class_v = calloc((size_t)C + 1, sizeof *s->class_v);
  s->batch = gasp__malloc_array(nv ? nv : 1, sizeof *s->batch);
  if (!s->class_n || !s->class_v || !s->batch) return GASP_ENOMEM;
  if (e->opts.dist) nv = e->g->nowned; /* classes of owned vertices */
  for (uint64_t v = 0; v < nv; v++)
    s->class_n[e->color[v]]++;
  for (int c = 0; c < C; c++)
    if (!(s->class_v[c] =
              gasp__malloc_array(s->class_n[c] + 1, sizeof(gasp_vid))))
      return GASP_ENOMEM;
  memset(s->class_n, 0, ((size_t)C + 1) * sizeof *s->class_n);
  for (uint64_t v = 0; v < nv; v++) {
    uint32_t c = e->color[v];
    s->class_v[c][s->class_n[c]++] = (gasp_vid)v;
  }
  return GASP_OK;
}

static void class_worker(void *arg, int tid) {
  async_state *s = arg;
  gasp_ctx ctx = {s->e, 0, tid, 0, s};
  uint64_t lo, hi;
  while (gasp__range_next(&s->r, &lo, &hi))
    for (uint64_t i = lo; i < hi; i++) {
      update(s, &ctx, s->batch[i]);
      __atomic_fetch_sub(&s->e->pending, 1, __ATOMIC_ACQ_REL);
    }
}

/* Updates the active vertices of colour class c (they never conflict)
 * and leaves them in s->batch; returns how many. */
static uint64_t run_class(async_state *s, int c) {
  gasp_engine *e = s->e;
  uint64_t n = 0;
  for (uint64_t i = 0; i < s->class_n[c]; i++) {
    gasp_vid v = s->class_v[c][i];
    if (__atomic_load_n(&e->active[v], __ATOMIC_RELAXED)) s->batch[n++] = v;
  }
  if (n == 0) return 0;
  uint64_t chunk = n / (4 * (uint64_t)gasp__pool_size(e->pool));
  s->r = (gasp__range){0, n, chunk < 1 ? 1 : chunk > 64 ? 64 : chunk};
  /* Waking the team costs more than a handful of updates. */
  if (n <= 8)
    class_worker(s, 0);
  else
    gasp__pool_run(e->pool, class_worker, s);
  return n;
}

static int chromatic_loop(async_state *s) {
  gasp_engine *e = s->e;
  int rc = build_classes(s);
  if (rc) return rc;
  while (__atomic_load_n(&e->pending, __ATOMIC_ACQUIRE) > 0) {
    for (int c = 0; c < e->ncolors; c++) {
      if (should_stop(s)) return GASP_OK;
      if (run_class(s, c) == 0) continue;
      drive(s, 1);
    }
  }
  return GASP_OK;
}

/* ---- chromatic schedule across ranks ------------------------------
 *
 * Every rank steps through the same colour classes (the colouring is
 * global, dist_color.c); after each class the owners send the vertices it
 * updated to the ranks holding them as ghosts and ghost signals travel to
 * their owners (ghost.c), so the next class reads fresh data: the same
 * sweep as on one process, with a collective per class.  Stopping is
 * decided by every rank together once per sweep: no vertex active
 * anywhere, a program's stop on any rank, or the update budget of all
 * ranks spent. */

static void dist_signal(void *arg, gasp_vid v) {
  gasp_engine *e = arg;
  if (!e->active[v]) {
    e->active[v] = 1;
    e->pending++;
  }
}

/* Ghost flags were signals for their owners, sent now: drop them. */
static void drop_ghost_signals(gasp_engine *e) {
  for (gasp_vid v = e->g->nowned; v < e->g->nv; v++)
    if (e->active[v]) {
      e->active[v] = 0;
      e->pending--;
    }
}

static int chromatic_dist(async_state *s, gasp_run_stats *st) {
  gasp_engine *e = s->e;
  gasp_dist *d = e->opts.dist;
  uint64_t nv = e->g->nv;
  uint8_t *changed = calloc(nv ? nv : 1, 1);
  int rc = changed ? build_classes(s) : GASP_ENOMEM;
  /* ghosts start from their owners' data */
  if (!rc) rc = gasp__ghost_exchange(e, 1, changed, NULL, NULL, NULL, &e->err);
  drop_ghost_signals(e); /* only owners update */
  uint64_t sweeps = 0, start = e->updates;
  while (!rc) {
    double v[3] = {(double)e->pending, (double)(e->updates - start),
                   (double)__atomic_load_n(&e->stop, __ATOMIC_RELAXED)};
    if ((rc = gasp_cluster_allreduce(d->cluster, v, 3, GASP_REDUCE_SUM,
                                     &e->err)))
      break;
    if (v[0] == 0) break; /* converged */
    if (v[2] > 0) {
      s->reason = GASP_STOP_PROGRAM + 1;
      break;
    }
    if (e->opts.max_iter &&
        v[1] >= (double)e->opts.max_iter * (double)d->global_nv) {
      s->reason = GASP_STOP_MAX_ITER + 1;
      break;
    }
    uint64_t ran = 0;
    for (int c = 0; c < e->ncolors && !rc; c++) {
      uint64_t n = run_class(s, c); /* s->batch[0 .. n) ran */
      for (uint64_t i = 0; i < n; i++)
        changed[s->batch[i]] = 1;
      rc = gasp__ghost_exchange(e, 0, changed, e->active, dist_signal, e,
                                &e->err);
      drop_ghost_signals(e);
      for (uint64_t i = 0; i < n; i++)
        changed[s->batch[i]] = 0;
      ran += n;
    }
    sweeps++;
    if (!rc && e->opts.on_iteration) { /* every rank, once per sweep */
      gasp_iter_info info = {e->iteration + sweeps, ran, e->updates - start,
                             gasp__now() - s->t0};
      if (e->opts.on_iteration(e->opts.on_iteration_user, &info))
        __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
    }
  }
  st->iterations = sweeps;
  free(changed);
  return rc;
}

/* ---- run -------------------------------------------------------------- */

static void state_free(async_state *s, int T) {
  for (int t = 0; t < T; t++) {
    if (s->acc) free(s->acc[t]);
    if (s->nbuf) free(s->nbuf[t]);
  }
  free(s->acc);
  free(s->nbuf);
  free(s->ncap);
  if (s->class_v)
    for (int c = 0; c < s->e->ncolors; c++)
      free(s->class_v[c]);
  free(s->class_v);
  free(s->class_n);
  free(s->batch);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
}

static const gasp__sched_ops *sched_for(gasp_scheduler k) {
  switch (k) {
  case GASP_SCHED_SWEEP: return &gasp__sched_sweep;
  case GASP_SCHED_PRIORITY: return &gasp__sched_priority;
  default: return &gasp__sched_fifo;
  }
}

int gasp__async_run(gasp_engine *e, gasp_run_stats *st) {
  int T = gasp__pool_size(e->pool);
  uint64_t nv = e->g->nv;
  async_state s;
  memset(&s, 0, sizeof s);
  s.e = e;
  pthread_mutex_init(&s.mu, NULL);
  pthread_cond_init(&s.cv, NULL);
  s.t0 = gasp__now();
  s.limit = e->opts.max_iter ? e->opts.max_iter * (nv ? nv : 1) : 0;
  s.last_iter_reported = e->updates / (nv ? nv : 1);
  /* Default (measured by bench/engine, see README): the chromatic
   * schedule for edge consistency, locks for vertex and full (distance-2
   * colourings of power-law graphs need thousands of colours). */
  gasp_locking lk = e->opts.locking;
  if (lk == GASP_LOCKING_DEFAULT)
    lk = e->opts.consistency == GASP_CONSISTENCY_EDGE || e->opts.dist
             ? GASP_LOCKING_CHROMATIC
             : GASP_LOCKING_LOCKS;
  e->chromatic = lk == GASP_LOCKING_CHROMATIC;
  int rc = GASP_ENOMEM;
  s.acc = calloc((size_t)T, sizeof *s.acc);
  s.nbuf = calloc((size_t)T, sizeof *s.nbuf);
  s.ncap = calloc((size_t)T, sizeof *s.ncap);
  if (!s.acc || !s.nbuf || !s.ncap) goto out;
  for (int t = 0; t < T; t++)
    if (!(s.acc[t] = malloc(e->prog.acc_size ? e->prog.acc_size : 1))) goto out;
  uint64_t start_updates = e->updates;
  /* Queue what was signalled before the run. */
  e->pending = 0;
  if (!e->chromatic) {
    e->sched_ops = sched_for(e->opts.scheduler);
    if (e->sched_ops->create(&e->sched, (gasp_vid)nv, T)) goto out;
    if (!e->locks &&
        !(e->locks = gasp__calloc_array(nv ? nv : 1, sizeof *e->locks)))
      goto out;
  }
  for (uint64_t v = 0; v < nv; v++)
    if (e->active[v]) {
      e->pending++;
      if (!e->chromatic)
        e->sched_ops->push(e->sched, (int)(v % (uint64_t)T), (gasp_vid)v,
                           e->prio[v]);
    }
  if (e->chromatic && e->opts.dist) {
    s.limit = 0; /* decided by all ranks together */
    rc = chromatic_dist(&s, st);
    st->colors = e->ncolors;
  } else if (e->chromatic) {
    rc = chromatic_loop(&s);
    st->colors = e->ncolors;
  } else {
    gasp__pool_run(e->pool, lock_worker, &s);
    rc = GASP_OK;
  }
  if (s.oom) rc = GASP_ENOMEM;
  st->updates = e->updates - start_updates;
  if (!e->opts.dist) st->iterations = nv ? (st->updates + nv - 1) / nv : 0;
  e->iteration += st->iterations;
  st->reason =
      s.reason ? (gasp_stop_reason)(s.reason - 1) : GASP_STOP_CONVERGED;
  e->nsignalled = e->pending;
out:
  if (e->sched) e->sched_ops->destroy(e->sched);
  e->sched = NULL;
  state_free(&s, T);
  return rc;
}
