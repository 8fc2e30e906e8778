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
  char **mbuf;     /* per thread: the update's message */
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
  int ck_failed; /* a checkpoint failed (locks: written by the driver) */
  /* chromatic */
  gasp_vid **class_v;
  uint64_t *class_n;
  gasp_vid *batch;
  uint64_t nbatch;
  gasp__range r;
  /* device apply */
  struct gpu_worker *gw; /* locking: per worker */
  char *gacc;            /* chromatic: accumulators of a class, in order */
  int gpu_rc;            /* atomic: first device failure */
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

/* Releases the scope of v: the centre and its k neighbours nb. */
static void release(gasp_engine *e, gasp_vid v, const gasp_vid *nb,
                    uint64_t k) {
  uint32_t *L = e->locks;
  int full = e->opts.consistency == GASP_CONSISTENCY_FULL;
  for (uint64_t i = 0; i < k; i++) {
    if (full)
      gasp__rw_wrunlock(&L[nb[i]]);
    else
      gasp__rw_rdunlock(&L[nb[i]]);
  }
  gasp__rw_wrunlock(&L[v]);
}

/* Takes the scope of v in ascending id order; with `try`, gives up (and
 * releases what it took) instead of waiting, returning 0. */
static int acquire(gasp_engine *e, gasp_vid v, const gasp_vid *nb, uint64_t k,
                   int try) {
  uint32_t *L = e->locks;
  int full = e->opts.consistency == GASP_CONSISTENCY_FULL;
  int centre_done = 0;
  uint64_t i = 0;
  for (; i <= k; i++) {
    if (!centre_done && (i == k || nb[i] > v)) {
      if (!try)
        gasp__rw_wrlock(&L[v]);
      else if (!gasp__rw_trywrlock(&L[v]))
        break;
      centre_done = 1;
    }
    if (i == k) return 1;
    if (!try) {
      if (full)
        gasp__rw_wrlock(&L[nb[i]]);
      else
        gasp__rw_rdlock(&L[nb[i]]);
    } else if (!(full ? gasp__rw_trywrlock(&L[nb[i]])
                      : gasp__rw_tryrdlock(&L[nb[i]]))) {
      break;
    }
  }
  /* a try failed at neighbour i (or at the centre): undo */
  for (uint64_t j = 0; j < i; j++) {
    if (full)
      gasp__rw_wrunlock(&L[nb[j]]);
    else
      gasp__rw_rdunlock(&L[nb[j]]);
  }
  if (centre_done) gasp__rw_wrunlock(&L[v]);
  return 0;
}

/* The scope of v into the worker's buffer: *n neighbours; -1 when out of
 * memory.  Then takes it (try: 0 when it is busy). */
static int lock_vertex(async_state *s, int tid, gasp_vid v, uint64_t *n,
                       int try) {
  gasp_engine *e = s->e;
  uint64_t k = 0;
  if (e->opts.consistency != GASP_CONSISTENCY_VERTEX) {
    k = gasp__neighbours(e->g, v, &s->nbuf[tid], &s->ncap[tid]);
    if (k == UINT64_MAX) return -1;
  }
  *n = k;
  return acquire(e, v, s->nbuf[tid], k, try);
}

static void unlock_vertex(async_state *s, int tid, gasp_vid v, uint64_t n) {
  release(s->e, v, s->nbuf[tid], n);
}

/* ---- one update ----------------------------------------------------- */

/* Gathers for v into acc. */
static void update_begin(async_state *s, gasp_ctx *ctx, gasp_vid v, void *acc) {
  gasp_engine *e = s->e;
  ctx->h.v = v;
  ctx->h.iteration = __atomic_load_n(&e->updates, __ATOMIC_RELAXED) /
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
  /* A message sent after this take comes with a signal that schedules v
   * again (the flag is down), so none is lost. */
  ctx->msg = NULL;
  ctx->plain = 1;
  if (e->prog.msg_size) {
    unsigned f = gasp__msg_take(e, 0, v, s->mbuf[ctx->tid]);
    if (f & GASP__MF_MSG) ctx->msg = s->mbuf[ctx->tid];
    ctx->plain = (f & GASP__MF_PLAIN) != 0;
  }
  gasp__do_gather(ctx, acc);
}

/* Scatters from ctx->h.v (applied) and counts the update. */
static void update_end(async_state *s, gasp_ctx *ctx) {
  gasp__do_scatter(ctx);
  uint64_t u = __atomic_add_fetch(&s->e->updates, 1, __ATOMIC_RELAXED);
  if (s->limit && u >= s->limit) {
    int none = 0;
    __atomic_compare_exchange_n(&s->reason, &none, GASP_STOP_MAX_ITER + 1, 0,
                                __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  }
}

static void update(async_state *s, gasp_ctx *ctx, gasp_vid v) {
  void *acc = s->acc[ctx->tid];
  update_begin(s, ctx, v, acc);
  gasp__do_apply(ctx, acc);
  update_end(s, ctx);
}

static int should_stop(async_state *s) {
  if (__atomic_load_n(&s->e->stop, __ATOMIC_RELAXED)) {
    int none = 0;
    __atomic_compare_exchange_n(&s->reason, &none, GASP_STOP_PROGRAM + 1, 0,
                                __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  }
  return __atomic_load_n(&s->reason, __ATOMIC_RELAXED) != 0;
}

static void gpu_flush_own(async_state *s, int tid);

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
    gasp_iter_info info = {it, nv, done, gasp__now() - s->t0, 0};
    if (e->opts.on_iteration(e->opts.on_iteration_user, &info))
      __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
  }
  /* a checkpoint (locks: none of the workers is inside an update while
   * they are paused; the chromatic schedule writes its own between
   * sweeps) */
  int ck = 0;
  if (!e->chromatic && !others_idle && e->opts.checkpoint_dir &&
      gasp__checkpoint_is_due(e, it, &ck) != GASP_OK)
    ck = 0;
  if (e->naggs == 0 && !ck) return;
  double now = gasp__now();
  if (!ck && now - s->last_agg_check < 0.01) return;
  s->last_agg_check = now;
  int due = 0;
  for (int i = 0; i < e->naggs; i++)
    if (e->aggs[i].a.period_seconds > 0 &&
        now - e->aggs[i].last >= e->aggs[i].a.period_seconds)
      due = 1;
  if (!due && !ck) return;
  if (others_idle) {
    gasp__aggregate_serial(e, now);
    return;
  }
  int others = gasp__pool_size(e->pool) - 1;
  gpu_flush_own(s, 0); /* a worker may wait for a scope the driver holds */
  pthread_mutex_lock(&s->mu);
  __atomic_store_n(&s->pause, 1, __ATOMIC_RELAXED);
  while (s->paused < others)
    pthread_cond_wait(&s->cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
  if (due) gasp__aggregate_serial(e, now);
  if (ck && gasp__checkpoint_counted(e, it, it) != GASP_OK) {
    /* e->err says why; the run stops with it */
    __atomic_store_n(&s->ck_failed, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
  }
  pthread_mutex_lock(&s->mu);
  __atomic_store_n(&s->pause, 0, __ATOMIC_RELAXED);
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* Workers other than the driver stop here while it aggregates (holding
 * no locks: a worker waiting for one would never get here). */
static void maybe_pause(async_state *s, int tid) {
  if (!__atomic_load_n(&s->pause, __ATOMIC_RELAXED)) return;
  gpu_flush_own(s, tid);
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

/* ---- device apply under locks -----------------------------------------
 *
 * A worker gathers for the vertices it pops, with their scopes locked, into
 * its own batch; the batch goes to the device when it is full, when its
 * first vertex has waited gpu_flush_ms, when the scheduler runs dry, or
 * before the worker pauses, and when it comes back each vertex scatters
 * and releases its scope, in the order added.  While it holds a batch a
 * worker only tries locks: a busy scope sends the batch first (releasing
 * everything), then waits for the scope holding nothing, so no cycle of
 * waiting workers can form. */

typedef struct gpu_worker {
  async_state *s;
  gasp_ctx ctx;
  gasp__gpu_batcher *b;
  gasp_vid *item;   /* the batch's vertices, in order added */
  uint64_t *nlock;  /* their scopes' sizes */
  uint64_t n, head; /* items, the next to come back */
  gasp_vid *scope;  /* the scopes' neighbours, concatenated */
  uint64_t nscope, scope_cap, scope_head;
  gasp_gpu_stats st; /* this worker's tallies, summed after the run */
} gpu_worker;

/* Records the first device failure (its message, when given, goes to the
 * engine's error) and stops the run. */
static void gpu_fail(async_state *s, int rc, const char *msg) {
  int none = 0;
  if (__atomic_compare_exchange_n(&s->gpu_rc, &none, rc, 0, __ATOMIC_ACQ_REL,
                                  __ATOMIC_RELAXED) &&
      msg)
    gasp__fail(&s->e->err, rc, NULL, 0, "%s", msg);
  __atomic_store_n(&s->e->stop, 1, __ATOMIC_RELAXED);
}

/* A vertex of the batch is back: scatter, count, release its scope. */
static void gpu_done(void *arg, gasp_vid v) {
  gpu_worker *w = arg;
  async_state *s = w->s;
  uint64_t k = w->nlock[w->head];
  w->ctx.h.v = v;
  w->ctx.msg = NULL; /* the message went into the accumulator */
  update_end(s, &w->ctx);
  release(s->e, v, w->scope + w->scope_head, k);
  w->scope_head += k;
  if (++w->head == w->n) w->n = w->head = w->nscope = w->scope_head = 0;
  __atomic_fetch_sub(&s->e->pending, 1, __ATOMIC_ACQ_REL);
}

/* Sends the batch and waits for it; after a device failure the vertices
 * still held are released unapplied (the run fails). */
static void gpu_flush(gpu_worker *w, int reason) {
  if (w->n == 0) return;
  int rc = gasp__gpu_drain(w->b, reason);
  if (rc) gpu_fail(w->s, rc, w->b->err);
  if (w->n == 0) return; /* all came back (gpu_done resets) */
  while (w->head < w->n) {
    uint64_t k = w->nlock[w->head];
    release(w->s->e, w->item[w->head], w->scope + w->scope_head, k);
    w->scope_head += k;
    w->head++;
    __atomic_fetch_sub(&w->s->e->pending, 1, __ATOMIC_ACQ_REL);
  }
  w->n = w->head = w->nscope = w->scope_head = 0;
  w->b->slot[0].n = 0;
}

/* v's scope is locked (its k neighbours in the worker's buffer): gather
 * and add it to the batch. */
static void gpu_add(gpu_worker *w, int tid, gasp_vid v, uint64_t k) {
  async_state *s = w->s;
  if (w->nscope + k > w->scope_cap) {
    uint64_t cap = w->scope_cap ? w->scope_cap : 1024;
    while (cap < w->nscope + k)
      cap *= 2;
    gasp_vid *p = gasp__realloc(w->scope, cap * sizeof *p);
    if (!p) { /* give up this vertex: unlock and requeue nothing */
      release(s->e, v, s->nbuf[tid], k);
      __atomic_store_n(&s->oom, 1, __ATOMIC_RELAXED);
      __atomic_store_n(&s->e->stop, 1, __ATOMIC_RELAXED);
      __atomic_fetch_sub(&s->e->pending, 1, __ATOMIC_ACQ_REL);
      return;
    }
    w->scope = p;
    w->scope_cap = cap;
  }
  if (k) memcpy(w->scope + w->nscope, s->nbuf[tid], k * sizeof *w->scope);
  w->nscope += k;
  w->item[w->n] = v;
  w->nlock[w->n] = k;
  w->n++;
  void *acc = s->acc[tid];
  update_begin(s, &w->ctx, v, acc);
  w->b->iteration = w->ctx.h.iteration;
  int rc = gasp__gpu_add(w->b, v, acc, gasp__now());
  if (rc) {
    gpu_fail(s, rc, w->b->err);
    gpu_flush(w, GASP__FLUSH_IDLE);
  }
}

static void gpu_flush_own(async_state *s, int tid) {
  if (s->gw) gpu_flush(&s->gw[tid], GASP__FLUSH_IDLE);
}

/* A worker of the locking engine; with a device, it batches (gpu_add). */
static void lock_worker(void *arg, int tid) {
  async_state *s = arg;
  gasp_engine *e = s->e;
  gpu_worker *w = s->gw ? &s->gw[tid] : NULL;
  gasp_ctx ctx = {{e->prog.user, 0, 0, NULL}, e, tid, s, NULL, 0, 0, NULL};
  unsigned idle = 0;
  for (;;) {
    if (tid == 0)
      drive(s, 0);
    else
      maybe_pause(s, tid);
    if (w && w->n && gasp__now() - w->b->t_first >= w->b->flush_s)
      gpu_flush(w, GASP__FLUSH_TIME);
    if (should_stop(s)) break;
    gasp_vid v;
    if (e->sched_ops->pop(e->sched, tid, &v)) {
      idle = 0;
      uint64_t n;
      int got = lock_vertex(s, tid, v, &n, w && w->n > 0);
      if (got == 0) { /* busy: send the batch, then wait holding nothing */
        gpu_flush(w, GASP__FLUSH_IDLE);
        got = acquire(e, v, s->nbuf[tid], n, 0);
      }
      if (got < 0) {
        __atomic_store_n(&s->oom, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
        __atomic_fetch_sub(&e->pending, 1, __ATOMIC_ACQ_REL);
        continue;
      }
      if (w) {
        gpu_add(w, tid, v, n);
        continue;
      }
      update(s, &ctx, v);
      unlock_vertex(s, tid, v, n);
      __atomic_fetch_sub(&e->pending, 1, __ATOMIC_ACQ_REL);
      continue;
    }
    if (w) gpu_flush(w, GASP__FLUSH_IDLE); /* nothing to add: send it */
    if (__atomic_load_n(&e->pending, __ATOMIC_ACQUIRE) == 0) break;
    if (++idle > 16) sched_yield();
  }
  if (w) gpu_flush(w, GASP__FLUSH_IDLE);
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
  s->class_n = gasp__calloc((size_t)C + 1, sizeof *s->class_n);
  s->class_v = gasp__calloc((size_t)C + 1, sizeof *s->class_v);
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
  uint64_t most = 0;
  for (uint64_t v = 0; v < nv; v++) {
    uint32_t c = e->color[v];
    s->class_v[c][s->class_n[c]++] = (gasp_vid)v;
    if (s->class_n[c] > most) most = s->class_n[c];
  }
  if (e->gpu_ops &&
      !(s->gacc = gasp__malloc_array(most ? most : 1,
                                     e->prog.acc_size ? e->prog.acc_size : 1)))
    return GASP_ENOMEM;
  return GASP_OK;
}

static void class_worker(void *arg, int tid) {
  async_state *s = arg;
  gasp_ctx ctx = {
      {s->e->prog.user, 0, 0, NULL}, s->e, tid, s, NULL, 0, 0, NULL};
  uint64_t lo, hi;
  while (gasp__range_next(&s->r, &lo, &hi))
    for (uint64_t i = lo; i < hi; i++) {
      update(s, &ctx, s->batch[i]);
      __atomic_fetch_sub(&s->e->pending, 1, __ATOMIC_ACQ_REL);
    }
}

/* Device apply on the chromatic schedule: a class is gathered by the
 * team, applied on the device in batches, then scattered by the team. */
static void class_gather(void *arg, int tid) {
  async_state *s = arg;
  gasp_ctx ctx = {
      {s->e->prog.user, 0, 0, NULL}, s->e, tid, s, NULL, 0, 0, NULL};
  size_t asize = s->e->prog.acc_size;
  uint64_t lo, hi;
  while (gasp__range_next(&s->r, &lo, &hi))
    for (uint64_t i = lo; i < hi; i++)
      update_begin(s, &ctx, s->batch[i], s->gacc + i * asize);
}

static void class_scatter(void *arg, int tid) {
  async_state *s = arg;
  gasp_ctx ctx = {
      {s->e->prog.user, 0, 0, NULL}, s->e, tid, s, NULL, 0, 0, NULL};
  uint64_t lo, hi;
  while (gasp__range_next(&s->r, &lo, &hi))
    for (uint64_t i = lo; i < hi; i++) {
      ctx.h.v = s->batch[i];
      ctx.msg = NULL; /* the message went into the accumulator */
      update_end(s, &ctx);
      __atomic_fetch_sub(&s->e->pending, 1, __ATOMIC_ACQ_REL);
    }
}

static void class_gpu(async_state *s, uint64_t n) {
  gasp_engine *e = s->e;
  gasp__range r = s->r;
  gasp__pool_run(e->pool, class_gather, s);
  int rc = gasp__gpu_apply(e, s->batch, n, s->gacc, 0);
  if (rc) gpu_fail(s, rc, NULL); /* the class still scatters, unapplied */
  s->r = r;
  gasp__pool_run(e->pool, class_scatter, s);
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
  if (s->gacc) class_gpu(s, n);
  /* Waking the team costs more than a handful of updates. */
  else if (n <= 8)
    class_worker(s, 0);
  else
    gasp__pool_run(e->pool, class_worker, s);
  return n;
}

/* The chromatic schedule's checkpoints (opts.checkpoint_*): after a
 * whole sweep over the colour classes nothing is half done -- the vertex
 * data, the flags of the vertices still to update and their messages
 * (buffer 0) are the state.  A checkpoint is named by the sweeps since
 * the run began (every checkpoint_every sweeps); a resumed run counts on
 * from there. */
static int chromatic_checkpoint(async_state *s, uint64_t sweeps) {
  gasp_engine *e = s->e;
  return gasp__checkpoint_due(e, sweeps, e->run_iter0 + sweeps);
}

static int chromatic_loop(async_state *s) {
  gasp_engine *e = s->e;
  int rc = build_classes(s);
  if (rc) return rc;
  uint64_t sweeps = e->iteration - e->run_iter0; /* resumed: not 0 */
  while (__atomic_load_n(&e->pending, __ATOMIC_ACQUIRE) > 0) {
    for (int c = 0; c < e->ncolors; c++) {
      if (should_stop(s)) return GASP_OK;
      if (run_class(s, c) == 0) continue;
      drive(s, 1);
    }
    if ((rc = chromatic_checkpoint(s, ++sweeps))) return rc;
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

static void dist_signal(void *arg, gasp_vid v, const void *msg) {
  gasp_engine *e = arg;
  if (msg)
    gasp__msg_put(e, 0, v, msg);
  else
    gasp__msg_plain(e, 0, v);
  if (!e->active[v]) {
    e->active[v] = 1;
    e->pending++;
  }
}

/* Ghost flags were signals for their owners, sent now: drop them. */
static void drop_ghost_signals(gasp_engine *e) {
  if (e->prog.msg_size)
    memset(e->mflag[0] + e->g->nowned, 0, e->g->nv - e->g->nowned);
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
  uint8_t *changed = gasp__calloc(nv ? nv : 1, 1);
  int rc = changed ? build_classes(s) : GASP_ENOMEM;
  /* ghosts start from their owners' data */
  if (!rc) rc = gasp__ghost_exchange(e, 1, changed, NULL, NULL, NULL, &e->err);
  drop_ghost_signals(e); /* only owners update */
  uint64_t sweeps = e->iteration - e->run_iter0, start = e->run_upd0;
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
      gasp_iter_info info = {e->run_iter0 + sweeps, ran, e->updates - start,
                             gasp__now() - s->t0, 0};
      if (e->opts.on_iteration(e->opts.on_iteration_user, &info))
        __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
    }
    if (!rc) rc = chromatic_checkpoint(s, sweeps);
  }
  st->iterations = sweeps;
  free(changed);
  return rc;
}

/* ---- run -------------------------------------------------------------- */

static void state_free(async_state *s, int T) {
  for (int t = 0; t < T; t++) {
    if (s->acc) free(s->acc[t]);
    if (s->mbuf) free(s->mbuf[t]);
    if (s->nbuf) free(s->nbuf[t]);
  }
  free(s->acc);
  free(s->mbuf);
  free(s->nbuf);
  free(s->ncap);
  if (s->class_v)
    for (int c = 0; c < s->e->ncolors; c++)
      free(s->class_v[c]);
  free(s->class_v);
  free(s->class_n);
  free(s->batch);
  free(s->gacc);
  if (s->gw)
    for (int t = 0; t < T; t++) {
      free(s->gw[t].item);
      free(s->gw[t].nlock);
      free(s->gw[t].scope);
    }
  free(s->gw);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
}

/* Per-worker batches (one slot each: a worker waits for its own batch)
 * of gpu_batch vertices, 4096 by default: a batch holds its scopes'
 * locks. */
static int gpu_workers(async_state *s, int T) {
  gasp_engine *e = s->e;
  uint64_t cap = e->opts.gpu_batch ? e->opts.gpu_batch : 4096;
  if (!e->gpu_tb) {
    if (!(e->gpu_tb = gasp__calloc((size_t)T, sizeof *e->gpu_tb)))
      return GASP_ENOMEM;
    for (int t = 0; t < T; t++) {
      int rc = gasp__gpu_batcher_init(&e->gpu_tb[t], e->gpu_ops, e->gpu_dev,
                                      &e->prog, e->g->vdata, cap, 1,
                                      gasp__gpu_flush_s(e), &e->gpu);
      if (rc) return gasp__fail(&e->err, rc, NULL, 0, "%s", e->gpu_tb[t].err);
    }
  }
  if (!(s->gw = gasp__calloc((size_t)T, sizeof *s->gw))) return GASP_ENOMEM;
  for (int t = 0; t < T; t++) {
    gpu_worker *w = &s->gw[t];
    w->s = s;
    w->ctx = (gasp_ctx){{e->prog.user, 0, 0, NULL}, e, t, s, NULL, 0, 0, NULL};
    w->b = &e->gpu_tb[t];
    w->b->done = gpu_done;
    w->b->done_arg = w;
    w->b->st = &w->st;
    w->item = gasp__malloc_array(w->b->cap, sizeof *w->item);
    w->nlock = gasp__malloc_array(w->b->cap, sizeof *w->nlock);
    if (!w->item || !w->nlock) return GASP_ENOMEM;
  }
  return GASP_OK;
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
  /* the update budget counts from the run's start (a resumed run's: the
   * interrupted one's) */
  s.limit =
      e->opts.max_iter ? e->opts.max_iter * (nv ? nv : 1) + e->run_upd0 : 0;
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
  s.acc = gasp__calloc((size_t)T, sizeof *s.acc);
  s.mbuf = gasp__calloc((size_t)T, sizeof *s.mbuf);
  s.nbuf = gasp__calloc((size_t)T, sizeof *s.nbuf);
  s.ncap = gasp__calloc((size_t)T, sizeof *s.ncap);
  if (!s.acc || !s.mbuf || !s.nbuf || !s.ncap) goto out;
  for (int t = 0; t < T; t++)
    if (!(s.acc[t] = gasp__malloc(e->prog.acc_size ? e->prog.acc_size : 1)) ||
        !(s.mbuf[t] = gasp__malloc(e->prog.msg_size ? e->prog.msg_size : 1)))
      goto out;
  e->mout = 0;
  uint64_t start_updates = e->run_upd0; /* resumed: the interrupted run's */
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
  } else if (e->gpu_ops) {
    if ((rc = gpu_workers(&s, T))) goto out;
    gasp__pool_run(e->pool, lock_worker, &s);
    for (int t = 0; t < T; t++) {
      gasp_gpu_stats *a = &e->gpu, *w = &s.gw[t].st;
      a->batches += w->batches;
      a->vertices += w->vertices;
      a->flush_full += w->flush_full;
      a->flush_time += w->flush_time;
      a->flush_idle += w->flush_idle;
      a->bytes_in += w->bytes_in;
      a->bytes_out += w->bytes_out;
      a->seconds += w->seconds;
    }
  } else {
    gasp__pool_run(e->pool, lock_worker, &s);
    rc = GASP_OK;
  }
  if (s.oom) rc = GASP_ENOMEM;
  if (s.ck_failed && !rc) rc = e->err.code ? e->err.code : GASP_EIO;
  if (s.gpu_rc && !rc) rc = s.gpu_rc; /* e->err says why */
  st->updates = e->updates - start_updates;
  if (!e->opts.dist) st->iterations = nv ? (st->updates + nv - 1) / nv : 0;
  e->iteration = e->run_iter0 + st->iterations;
  st->reason =
      s.reason ? (gasp_stop_reason)(s.reason - 1) : GASP_STOP_CONVERGED;
  e->nsignalled = e->pending;
out:
  if (e->sched) e->sched_ops->destroy(e->sched);
  e->sched = NULL;
  state_free(&s, T);
  return rc;
}
