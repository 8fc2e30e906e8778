/*
 * engine.c -- the gasp_engine object shared by the sync and async engines:
 * options, construction (data allocation, init callbacks), signalling
 * between runs, the per-vertex gather / apply / scatter steps, context
 * accessors and aggregators.
 *
 * The model is GraphLab's / PowerGraph's gather-apply-scatter (Low et al.,
 * "Distributed GraphLab", VLDB 2012; Gonzalez et al., "PowerGraph",
 * OSDI 2012).
 */
#include "dist_internal.h"
#include "engine_internal.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Options                                                           */
/* ---------------------------------------------------------------- */

void gasp_engine_opts_init(gasp_engine_opts *o) {
  memset(o, 0, sizeof *o);
  o->engine = GASP_ENGINE_SYNC;
  o->consistency = GASP_CONSISTENCY_EDGE;
  o->scheduler = GASP_SCHED_FIFO;
  o->locking = GASP_LOCKING_DEFAULT;
}

#define PARSE_FN(fname, type, ...)                                             \
  int fname(const char *s, type *out) {                                        \
    static const struct {                                                      \
      const char *name;                                                        \
      type value;                                                              \
    } t[] = {__VA_ARGS__};                                                     \
    for (size_t i = 0; s && i < sizeof t / sizeof *t; i++)                     \
      if (strcmp(s, t[i].name) == 0) {                                         \
        *out = t[i].value;                                                     \
        return GASP_OK;                                                        \
      }                                                                        \
    return GASP_EINVAL;                                                        \
  }

PARSE_FN(gasp_engine_kind_parse, gasp_engine_kind, {"sync", GASP_ENGINE_SYNC},
         {"async", GASP_ENGINE_ASYNC})
PARSE_FN(gasp_consistency_parse, gasp_consistency,
         {"vertex", GASP_CONSISTENCY_VERTEX}, {"edge", GASP_CONSISTENCY_EDGE},
         {"full", GASP_CONSISTENCY_FULL})
PARSE_FN(gasp_scheduler_parse, gasp_scheduler, {"fifo", GASP_SCHED_FIFO},
         {"sweep", GASP_SCHED_SWEEP}, {"priority", GASP_SCHED_PRIORITY})
PARSE_FN(gasp_locking_parse, gasp_locking, {"default", GASP_LOCKING_DEFAULT},
         {"locks", GASP_LOCKING_LOCKS}, {"chromatic", GASP_LOCKING_CHROMATIC})
PARSE_FN(gasp_gpu_mode_parse, gasp_gpu_mode, {"auto", GASP_GPU_AUTO},
         {"on", GASP_GPU_ON}, {"off", GASP_GPU_OFF})
PARSE_FN(gasp_direction_parse, gasp_direction, {"auto", GASP_DIRECTION_AUTO},
         {"push", GASP_DIRECTION_PUSH}, {"pull", GASP_DIRECTION_PULL})
PARSE_FN(gasp_block_mode_parse, gasp_block_mode, {"auto", GASP_BLOCK_AUTO},
         {"on", GASP_BLOCK_ON}, {"off", GASP_BLOCK_OFF})

/* ---------------------------------------------------------------- */
/* Construction                                                      */
/* ---------------------------------------------------------------- */

typedef struct init_job {
  gasp_engine *e;
  gasp__range vr, er;
} init_job;

static void init_worker(void *arg, int tid) {
  init_job *j = arg;
  gasp_engine *e = j->e;
  gasp_graph *g = e->g;
  gasp_ctx ctx = {{e->prog.user, 0, 0, NULL}, e, tid, NULL, NULL, 0, 0, NULL};
  (void)ctx.state;
  uint64_t lo, hi;
  if (e->prog.init_vertex)
    while (gasp__range_next(&j->vr, &lo, &hi))
      for (uint64_t v = lo; v < hi; v++) {
        ctx.h.v = (gasp_vid)v;
        e->prog.init_vertex(&ctx, gasp__vdata(e, (gasp_vid)v));
      }
  if (e->prog.init_edge)
    while (gasp__range_next(&j->er, &lo, &hi))
      for (uint64_t s = lo; s < hi; s++) {
        ctx.h.v = GASP_VID_NONE;
        e->prog.init_edge(&ctx, (char *)g->edata + s * e->prog.edge_size, s,
                          g->weight ? g->weight[s] : 1.0);
      }
}

static int check_program(const gasp_program *p, gasp_error *err) {
  if (!p->apply && !p->scatter && !p->gather && !p->gather_vertex)
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "program has no gather, apply or scatter");
  if ((p->gather || p->gather_vertex) && p->acc_size == 0)
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "program gathers but declares acc_size 0");
  if (p->gather && !p->sum && !p->gather_vertex)
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "program has gather but no sum");
  if ((p->msg_size > 0) != (p->combine != NULL))
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "program's messages need both msg_size and combine");
  if (p->push_pull &&
      (p->msg_size != p->acc_size || !p->msg_size ||
       !(p->gather || p->gather_vertex) || !(p->scatter || p->scatter_vertex)))
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "push_pull needs a gather, a scatter, and messages of "
                      "the accumulator's size (msg_size == acc_size)");
  if (p->gather_source &&
      (p->acc_size != sizeof(double) || p->gather_edges || p->acc_init ||
       p->msg_size || p->push_pull ||
       (p->gather_dir != GASP_DIR_IN) || !(p->gather || p->gather_vertex)))
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "gather_source needs a gather (or gather_vertex) over "
                      "gather_dir GASP_DIR_IN into a double (acc_size 8), "
                      "with no gather_edges, acc_init, messages or push_pull");
  if (p->gather_source_weighted && !p->gather_source)
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "gather_source_weighted without gather_source");
  size_t w = p->device_word ? p->device_word : 4;
  if (p->device_apply &&
      ((w != 4 && w != 8) || p->vertex_size % w || p->acc_size % w))
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "program's device_word must be 4 or 8 and divide "
                      "vertex_size and acc_size");
  return GASP_OK;
}

/* Opens the device for a program with a device apply, unless --gpu off;
 * with --gpu on, no device is an error. */
static int open_gpu(gasp_engine *e, gasp_error *err) {
  gasp_gpu_stats *st = &e->gpu;
  if (e->opts.gpu == GASP_GPU_OFF) {
    snprintf(st->device, sizeof st->device, "none (GPU off)");
    return GASP_OK;
  }
  if (!e->prog.device_apply) {
    snprintf(st->device, sizeof st->device,
             "none (the program has no device apply)");
    if (e->opts.gpu == GASP_GPU_ON)
      return gasp__fail(err, GASP_ENOTSUP, NULL, 0,
                        "GPU on, but the program has no device apply");
    return GASP_OK;
  }
  e->gpu_ops = gasp__gpu_open(&e->gpu_dev, st->device, sizeof st->device);
  st->used = e->gpu_ops != NULL;
  if (!st->used && e->opts.gpu == GASP_GPU_ON)
    return gasp__fail(err, GASP_ENODEV, NULL, 0, "GPU on, but no device: %s",
                      st->device);
  return GASP_OK;
}

static void close_gpu(gasp_engine *e) {
  if (e->gpu_b) gasp__gpu_batcher_destroy(e->gpu_b);
  if (e->gpu_tb)
    for (int t = 0; t < e->T; t++)
      gasp__gpu_batcher_destroy(&e->gpu_tb[t]);
  free(e->gpu_b);
  free(e->gpu_tb);
  e->gpu_b = e->gpu_tb = NULL;
  if (e->gpu_ops && e->gpu_ops->close) e->gpu_ops->close(e->gpu_dev);
  e->gpu_ops = NULL;
  e->gpu_dev = NULL;
}

void gasp__engine_set_gpu(gasp_engine *e, const gasp__gpu_ops *ops, void *dev,
                          const char *name) {
  close_gpu(e);
  e->gpu_ops = ops;
  e->gpu_dev = dev;
  memset(&e->gpu, 0, sizeof e->gpu);
  e->gpu.used = ops != NULL;
  snprintf(e->gpu.device, sizeof e->gpu.device, "%s", name ? name : "");
}

uint64_t gasp__gpu_cap(const gasp_engine *e) {
  return e->opts.gpu_batch ? e->opts.gpu_batch : 65536;
}

double gasp__gpu_flush_s(const gasp_engine *e) {
  return (e->opts.gpu_flush_ms > 0 ? e->opts.gpu_flush_ms : 1.0) / 1000.0;
}

/* The apply of a sync superstep or a colour class on the device: the
 * vertices stream through the engine's batcher (two slots, two streams:
 * one batch is packed while the other is copied and applied), then every
 * batch is waited for.  vids NULL: the active vertices of 0 .. n-1.  The
 * accumulator of item i is at acc + (by_vertex ? v : i) * acc_size. */
int gasp__gpu_apply(gasp_engine *e, const gasp_vid *vids, uint64_t n,
                    const char *acc, int by_vertex) {
  if (!e->gpu_b) {
    if (!(e->gpu_b = gasp__calloc(1, sizeof *e->gpu_b)))
      return gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
    int rc = gasp__gpu_batcher_init(e->gpu_b, e->gpu_ops, e->gpu_dev, &e->prog,
                                    e->g->vdata, gasp__gpu_cap(e),
                                    GASP__GPU_SLOTS, 0, &e->gpu);
    if (rc) {
      gasp__fail(&e->err, rc, NULL, 0, "%s", e->gpu_b->err);
      gasp__gpu_batcher_destroy(e->gpu_b);
      free(e->gpu_b);
      e->gpu_b = NULL;
      return rc;
    }
  }
  gasp__gpu_batcher *b = e->gpu_b;
  b->iteration = e->iteration;
  size_t asize = e->prog.acc_size;
  int rc = GASP_OK;
  for (uint64_t i = 0; i < n && !rc; i++) {
    gasp_vid v = vids ? vids[i] : (gasp_vid)i;
    if (!vids && !e->active[v]) continue;
    rc = gasp__gpu_add(b, v, acc + (size_t)(by_vertex ? v : i) * asize, 0);
  }
  int r2 = gasp__gpu_drain(b, GASP__FLUSH_IDLE);
  if (!rc) rc = r2;
  if (rc) return gasp__fail(&e->err, rc, NULL, 0, "%s", b->err);
  return GASP_OK;
}

void gasp_engine_gpu_stats(const gasp_engine *e, gasp_gpu_stats *out) {
  *out = e->gpu;
}

int gasp_engine_new(gasp_engine **out, gasp_graph *g, const gasp_program *prog,
                    const gasp_engine_opts *opts, gasp_error *err) {
  *out = NULL;
  gasp__error_clear(err);
  if (!g || !prog)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "no graph or program");
  if (opts && (opts->threads < 0 || opts->threads > GASP_MAX_THREADS))
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "%d threads: from 1 to %d (0: all cores)", opts->threads,
                      GASP_MAX_THREADS);
  if (opts && opts->dist) {
    if (opts->engine == GASP_ENGINE_ASYNC &&
        opts->locking == GASP_LOCKING_LOCKS)
      return gasp__fail(err, GASP_ENOTSUP, NULL, 0,
                        "the async engine runs across ranks on the chromatic "
                        "schedule (no distributed locks)");
    if (opts->staleness && opts->checkpoint_dir &&
        opts->checkpoint_seconds > 0)
      return gasp__fail(err, GASP_ENOTSUP, NULL, 0,
                        "under bounded staleness checkpoints are taken by "
                        "superstep count (checkpoint_every): the ranks are "
                        "at different supersteps and cannot agree on a "
                        "time");
    if (g != opts->dist->local)
      return gasp__fail(err, GASP_EINVAL, NULL, 0,
                        "a distributed run needs the rank's local graph "
                        "(gasp_dist_graph)");
  }
  int rc = check_program(prog, err);
  if (rc) return rc;
  gasp_engine *e = gasp__calloc(1, sizeof *e);
  if (!e) return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  e->g = g;
  e->prog = *prog;
  if (opts)
    e->opts = *opts;
  else
    gasp_engine_opts_init(&e->opts);
  e->T = gasp__threads(e->opts.threads);
  uint64_t nv = g->nv;
  e->active = gasp__calloc(nv ? nv : 1, 1);
  e->next = gasp__calloc(nv ? nv : 1, 1);
  /* calloc: only the async engine's priority scheduler writes it, and a
   * fresh mapping's pages cost nothing until then */
  e->prio = gasp__calloc(nv ? nv : 1, sizeof *e->prio);
  if (!e->active || !e->next || !e->prio) goto nomem;
  static const struct {
    void (*fn)(void *, const void *);
    size_t size;
    int kind;
  } combiners[] = {{gasp_combine_min_u32, 4, GASP__COMB_MIN_U32},
                   {gasp_combine_min_u64, 8, GASP__COMB_MIN_U64},
                   {gasp_combine_min_f64, 8, GASP__COMB_MIN_F64},
                   {gasp_combine_max_f64, 8, GASP__COMB_MAX_F64},
                   {gasp_combine_sum_f64, 8, GASP__COMB_SUM_F64},
                   {gasp_combine_sum_u64, 8, GASP__COMB_SUM_U64}};
  for (size_t i = 0; i < sizeof combiners / sizeof *combiners; i++)
    if (prog->combine == combiners[i].fn && prog->msg_size == combiners[i].size)
      e->mkind = combiners[i].kind;
  for (int b = 0; b < 2 && prog->msg_size; b++) {
    e->msg[b] = gasp__malloc_array(nv ? nv : 1, prog->msg_size);
    e->mflag[b] = gasp__calloc(nv ? nv : 1, 1);
    if (!e->msg[b] || !e->mflag[b]) goto nomem;
  }
  if ((rc = gasp_graph_alloc_data(g, prog->vertex_size, prog->edge_size)))
    goto nomem;
  if ((rc = gasp__pool_new(&e->pool, e->T))) goto nomem;
  if ((unsigned)e->opts.blocked > GASP_BLOCK_OFF) {
    gasp_engine_free(&e);
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "unknown blocked mode %d",
                      (int)opts->blocked);
  }
  if (e->opts.blocked == GASP_BLOCK_ON && !gasp__blocked_eligible(e, err)) {
    gasp_engine_free(&e);
    return GASP_ENOTSUP;
  }
  if ((rc = open_gpu(e, err))) {
    gasp_engine_free(&e);
    return rc;
  }
  init_job j = {e, {0, nv, 1024}, {0, g->ne, 65536}};
  gasp__pool_run(e->pool, init_worker, &j);
  *out = e;
  return GASP_OK;
nomem:
  gasp_engine_free(&e);
  return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
}

void gasp_engine_free(gasp_engine **pe) {
  if (!pe || !*pe) return;
  gasp_engine *e = *pe;
  gasp__pool_free(&e->pool);
  close_gpu(e);
  for (int i = 0; i < e->naggs; i++) {
    free(e->aggs[i].value);
    free(e->aggs[i].partials);
  }
  free(e->aggs);
  free(e->ck);
  free(e->ck_key);
  free(e->resume_fbits);
  gasp__ssp_cut_free(&e->resume_ssp);
  gasp__blocked_free(&e->blk);
  free(e->active);
  free(e->next);
  free(e->prio);
  free(e->color);
  free(e->locks);
  for (int b = 0; b < 2; b++) {
    free(e->msg[b]);
    free(e->mflag[b]);
  }
  free(e);
  *pe = NULL;
}

int gasp_engine_mirror(gasp_engine *e, void *array, size_t elem_size) {
  if (!array || !elem_size) return GASP_EINVAL;
  if (e->nmirror == (int)(sizeof e->mirror / sizeof *e->mirror))
    return GASP_ERANGE;
  e->mirror[e->nmirror].base = array;
  e->mirror[e->nmirror].size = elem_size;
  e->nmirror++;
  return GASP_OK;
}

int gasp_engine_allreduce(gasp_engine *e, double *vals, size_t n,
                          gasp_reduce_op op) {
  if (!e->opts.dist) return GASP_OK;
  if (e->in_ssp)
    return gasp__fail(&e->err, GASP_ENOTSUP, NULL, 0,
                      "no collectives during a run with bounded staleness: "
                      "the ranks are at different supersteps");
  return gasp_cluster_allreduce(e->opts.dist->cluster, vals, n, op, &e->err);
}

int gasp_engine_signal(gasp_engine *e, gasp_vid v, double priority) {
  if (v >= e->g->nv) return GASP_EINVAL;
  gasp__msg_plain(e, e->opts.engine == GASP_ENGINE_ASYNC ? 0 : e->mcur, v);
  if (!e->active[v]) {
    e->active[v] = 1;
    e->prio[v] = priority;
    e->nsignalled++;
  } else if (priority > e->prio[v]) {
    e->prio[v] = priority;
  }
  return GASP_OK;
}

int gasp_engine_signal_all(gasp_engine *e, double priority) {
  for (gasp_vid v = 0; v < e->g->nv; v++)
    gasp_engine_signal(e, v, priority);
  return GASP_OK;
}

/* Between runs a pending message waits in the buffer the next run's first
 * updates read: the sync engine's current one, the async engine's only
 * one. */
int gasp_engine_signal_msg(gasp_engine *e, gasp_vid v, const void *msg,
                           double priority) {
  if (v >= e->g->nv || !e->prog.msg_size || !msg) return GASP_EINVAL;
  int b = e->opts.engine == GASP_ENGINE_ASYNC ? 0 : e->mcur;
  gasp__msg_put(e, b, v, msg);
  if (!e->active[v]) { /* as gasp_engine_signal, but not a plain signal */
    e->active[v] = 1;
    e->prio[v] = priority;
    e->nsignalled++;
  } else if (priority > e->prio[v]) {
    e->prio[v] = priority;
  }
  return GASP_OK;
}

const gasp_error *gasp_engine_last_error(const gasp_engine *e) {
  return &e->err;
}

int gasp_engine_run(gasp_engine *e, gasp_run_stats *st) {
  gasp_run_stats tmp;
  if (!st) st = &tmp;
  memset(st, 0, sizeof *st);
  gasp__error_clear(&e->err);
  __atomic_store_n(&e->stop, 0, __ATOMIC_RELAXED);
  e->run_iter0 = e->iteration;
  e->run_upd0 = e->updates;
  if (e->opts.resume_dir && !e->resumed) {
    e->resumed = 1;
    double r0 = gasp__now();
    int rrc = gasp_engine_resume(e, e->opts.resume_dir, &st->resumed_from);
    if (rrc) return rrc;
    st->resumed = 1;
    st->resume_seconds = gasp__now() - r0;
    /* e->run_iter0 and run_upd0 are the interrupted run's */
    st->iterations = e->iteration - e->run_iter0;
    st->updates = e->updates - e->run_upd0;
  }
  if (e->resume_ssp &&
      !(e->opts.engine == GASP_ENGINE_SYNC && e->opts.dist &&
        e->opts.dist->size > 1 && e->opts.staleness))
    return gasp__fail(&e->err, GASP_EINVAL, e->opts.resume_dir, 0,
                      "the checkpoint was taken under bounded staleness, "
                      "with peers' payloads in flight: resume it with "
                      "staleness on the same ranks");
  e->ck_stats = st;
  int rc = gasp__aggregate_due(e, 1, gasp__now());
  if (rc) return gasp__error_default(&e->err, rc, NULL);
  double t0 = gasp__now();
  rc = e->opts.engine == GASP_ENGINE_ASYNC ? gasp__async_run(e, st)
                                           : gasp__sync_run(e, st);
  st->seconds = gasp__now() - t0;
  st->threads = gasp__pool_size(e->pool);
  e->ck_stats = NULL;
  return gasp__error_default(&e->err, rc, NULL);
}

/* ---------------------------------------------------------------- */
/* Gather, apply, scatter                                            */
/* ---------------------------------------------------------------- */

static inline void *vdata(gasp_engine *e, gasp_vid v) {
  return gasp__vdata(e, v);
}

static inline void *edata(gasp_engine *e, uint64_t slot) {
  return e->g->edata ? (char *)e->g->edata + slot * e->prog.edge_size : NULL;
}

/* Visits v's edges in `dir`, calling the program's gather (acc != NULL)
 * or scatter (acc == NULL) once per edge. */
void gasp__each_edge(gasp_ctx *ctx, const void *vd, gasp_dir dir, void *acc) {
  gasp_engine *e = ctx->e;
  const gasp_program *p = &e->prog;
  const gasp_graph *g = e->g;
  gasp_vid v = ctx->h.v;
  gasp_edge ed;
  for (int d = GASP_DIR_IN; d <= GASP_DIR_OUT; d++) {
    if (!(dir & d)) continue;
    int in = d == GASP_DIR_IN;
    const uint64_t *off = in ? g->in_off : g->out_off;
    const gasp_vid *nbr = in ? g->in_nbr : g->out_nbr;
    ed.dir = (gasp_dir)d;
    for (uint64_t j = off[v]; j < off[v + 1]; j++) {
      ed.nbr = nbr[j];
      ed.slot = in ? g->in_slot[j] : j;
      ed.data = edata(e, ed.slot);
      ed.nbr_data = vdata(e, ed.nbr);
      if (acc)
        p->gather(ctx, vd, &ed, acc);
      else
        p->scatter(ctx, vd, &ed);
    }
  }
}

void gasp__do_gather(gasp_ctx *ctx, void *acc) {
  gasp__acc_start(ctx, acc);
  const gasp_program *p = &ctx->e->prog;
  if (p->push_pull && ctx->msg && !ctx->pull && !ctx->plain) return;
  gasp__gather_along(ctx, acc, gasp__gather_dir(ctx));
}

void gasp__do_gather_in(gasp_ctx *ctx, void *acc, gasp_dir dir) {
  gasp__acc_start(ctx, acc);
  gasp__gather_along(ctx, acc, dir);
}

void gasp__do_apply(gasp_ctx *ctx, const void *acc) {
  gasp_engine *e = ctx->e;
  if (e->prog.apply) e->prog.apply(ctx, vdata(e, ctx->h.v), acc);
}

void gasp__do_scatter(gasp_ctx *ctx) {
  gasp_engine *e = ctx->e;
  const gasp_program *p = &e->prog;
  if (!p->scatter && !p->scatter_vertex) return;
  gasp_dir dir = gasp__scatter_dir(ctx);
  if (dir == GASP_DIR_NONE) return;
  const void *vd = vdata(e, ctx->h.v);
  if (p->scatter_vertex) {
    gasp_nbrs n;
    gasp__fill_nbrs(e, ctx->h.v, dir, &n);
    p->scatter_vertex(ctx, vd, &n);
    return;
  }
  gasp__each_edge(ctx, vd, dir, NULL);
}

/* ---------------------------------------------------------------- */
/* Messages                                                          */
/* ---------------------------------------------------------------- */

static uint8_t mflag_lock(uint8_t *f) {
  for (;;) {
    uint8_t o = __atomic_fetch_or(f, GASP__MF_LOCK, __ATOMIC_ACQUIRE);
    if (!(o & GASP__MF_LOCK)) return o;
    while (__atomic_load_n(f, __ATOMIC_RELAXED) & GASP__MF_LOCK)
      __builtin_ia32_pause();
  }
}

/* Sets MSG and drops the lock in one release, so whoever sees MSG sees
 * the slot; PLAIN may be set meanwhile by a lock-free signal: keep it. */
static void mflag_publish(uint8_t *f) {
  uint8_t o = __atomic_load_n(f, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(
      f, &o, (uint8_t)((o | GASP__MF_MSG) & ~GASP__MF_LOCK), 1,
      __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
  }
}

void gasp__msg_put(gasp_engine *e, int b, gasp_vid v, const void *msg) {
  size_t ms = e->prog.msg_size;
  char *slot = e->msg[b] + (size_t)v * ms;
  uint8_t *f = &e->mflag[b][v];
  if (mflag_lock(f) & GASP__MF_MSG)
    e->prog.combine(slot, msg);
  else
    memcpy(slot, msg, ms);
  mflag_publish(f);
}

/* Atomic folds of the library's combiners into a slot that holds a
 * message: an offer that changes nothing is a load. */
static void fold_atomic(int kind, void *slot, const void *msg) {
  switch (kind) {
#define CAS_MIN(T)                                                             \
  {                                                                            \
    T m, cur = __atomic_load_n((T *)slot, __ATOMIC_RELAXED);                   \
    memcpy(&m, msg, sizeof m);                                                 \
    while (m < cur &&                                                          \
           !__atomic_compare_exchange_n((T *)slot, &cur, m, 1,                 \
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) { \
    }                                                                          \
    return;                                                                    \
  }
  case GASP__COMB_MIN_U32: CAS_MIN(uint32_t)
  case GASP__COMB_MIN_U64: CAS_MIN(uint64_t)
#undef CAS_MIN
  case GASP__COMB_SUM_U64: {
    uint64_t m;
    memcpy(&m, msg, sizeof m);
    __atomic_fetch_add((uint64_t *)slot, m, __ATOMIC_RELAXED);
    return;
  }
  default: { /* doubles, through their bits */
    uint64_t bits = __atomic_load_n((uint64_t *)slot, __ATOMIC_RELAXED), nb;
    for (;;) {
      double cur, m, x;
      memcpy(&cur, &bits, sizeof cur);
      memcpy(&m, msg, sizeof m);
      x = cur;
      if (kind == GASP__COMB_MIN_F64)
        gasp_combine_min_f64(&x, &m);
      else if (kind == GASP__COMB_MAX_F64)
        gasp_combine_max_f64(&x, &m);
      else
        x = cur + m;
      memcpy(&nb, &x, sizeof nb);
      if (nb == bits ||
          __atomic_compare_exchange_n((uint64_t *)slot, &bits, nb, 1,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    }
  }
  }
}

void gasp__msg_put_sync(gasp_engine *e, int b, gasp_vid v, const void *msg) {
  if (e->mkind == GASP__COMB_OTHER) {
    gasp__msg_put(e, b, v, msg);
    return;
  }
  size_t ms = e->prog.msg_size;
  char *slot = e->msg[b] + (size_t)v * ms;
  uint8_t *f = &e->mflag[b][v];
  for (;;) {
    uint8_t o = __atomic_load_n(f, __ATOMIC_ACQUIRE);
    if (o & GASP__MF_MSG) {
      fold_atomic(e->mkind, slot, msg);
      return;
    }
    /* the first message: whoever takes the lock writes the slot */
    o = __atomic_fetch_or(f, GASP__MF_LOCK, __ATOMIC_ACQUIRE);
    if (o & GASP__MF_LOCK) {
      while (__atomic_load_n(f, __ATOMIC_RELAXED) & GASP__MF_LOCK)
        __builtin_ia32_pause();
      continue;
    }
    if (!(o & GASP__MF_MSG)) memcpy(slot, msg, ms);
    mflag_publish(f);
    if (o & GASP__MF_MSG) fold_atomic(e->mkind, slot, msg);
    return;
  }
}

void gasp__msg_plain(gasp_engine *e, int b, gasp_vid v) {
  if (e->mflag[b])
    __atomic_fetch_or(&e->mflag[b][v], GASP__MF_PLAIN, __ATOMIC_RELEASE);
}

unsigned gasp__msg_take(gasp_engine *e, int b, gasp_vid v, void *out) {
  uint8_t *f = &e->mflag[b][v];
  if (!__atomic_load_n(f, __ATOMIC_ACQUIRE)) return 0;
  unsigned had = mflag_lock(f) & (GASP__MF_MSG | GASP__MF_PLAIN);
  if (had & GASP__MF_MSG)
    memcpy(out, e->msg[b] + (size_t)v * e->prog.msg_size, e->prog.msg_size);
  __atomic_fetch_and(f,
                     (uint8_t) ~(GASP__MF_MSG | GASP__MF_PLAIN | GASP__MF_LOCK),
                     __ATOMIC_RELEASE);
  return had;
}

#define COMBINE_FN(name, T, expr)                                              \
  void name(void *msg, const void *other) {                                    \
    T a, b;                                                                    \
    memcpy(&a, msg, sizeof a);                                                 \
    memcpy(&b, other, sizeof b);                                               \
    a = (expr);                                                                \
    memcpy(msg, &a, sizeof a);                                                 \
  }
COMBINE_FN(gasp_combine_min_f64, double, b < a || a != a ? b : a)
COMBINE_FN(gasp_combine_max_f64, double, b > a || a != a ? b : a)
COMBINE_FN(gasp_combine_sum_f64, double, a + b)
COMBINE_FN(gasp_combine_min_u32, uint32_t, b < a ? b : a)
COMBINE_FN(gasp_combine_min_u64, uint64_t, b < a ? b : a)
COMBINE_FN(gasp_combine_sum_u64, uint64_t, a + b)
#undef COMBINE_FN

/* ---------------------------------------------------------------- */
/* Context                                                           */
/* ---------------------------------------------------------------- */

gasp_gid gasp_ctx_gid(const gasp_ctx *c) { return c->e->g->gid[c->h.v]; }
uint64_t gasp_ctx_in_degree(const gasp_ctx *c) {
  return gasp_graph_in_degree(c->e->g, c->h.v);
}
uint64_t gasp_ctx_out_degree(const gasp_ctx *c) {
  return gasp_graph_out_degree(c->e->g, c->h.v);
}
gasp_vid gasp_ctx_num_vertices(const gasp_ctx *c) {
  return c->e->opts.dist ? (gasp_vid)c->e->opts.dist->global_nv : c->e->g->nv;
}
int gasp_ctx_thread(const gasp_ctx *c) { return c->tid; }
int gasp_engine_threads(const gasp_engine *e) {
  return gasp__pool_size(e->pool);
}
const gasp_graph *gasp_ctx_graph(const gasp_ctx *c) { return c->e->g; }

const void *gasp_ctx_aggregate(const gasp_ctx *c, int id) {
  if (id < 0 || id >= c->e->naggs) return NULL;
  return c->e->aggs[id].value;
}

void gasp_signal(gasp_ctx *c, gasp_vid v) { gasp_signal_priority(c, v, 0.0); }

/* A plain signal asks for a gather, even of a vertex that also gets a
 * message (which alone would let a push_pull program skip it). */
void gasp_signal_priority(gasp_ctx *c, gasp_vid v, double priority) {
  gasp_engine *e = c->e;
  if (v >= e->g->nv) return;
  if (e->opts.engine == GASP_ENGINE_ASYNC) {
    gasp__msg_plain(e, 0, v);
    gasp__async_signal(c, v, priority);
  } else {
    gasp__msg_plain(e, 1 - e->mcur, v);
    gasp__sync_signal(c, v, priority);
  }
}

void gasp_signal_nbrs(gasp_ctx *c, gasp_dir dir, double priority) {
  gasp_engine *e = c->e;
  const gasp_graph *g = e->g;
  gasp_vid self = c->h.v;
  int sync = e->opts.engine != GASP_ENGINE_ASYNC;
  for (int d = GASP_DIR_IN; d <= GASP_DIR_OUT; d++) {
    if (!(dir & d)) continue;
    const uint64_t *off = d == GASP_DIR_IN ? g->in_off : g->out_off;
    const gasp_vid *nbr = d == GASP_DIR_IN ? g->in_nbr : g->out_nbr;
    for (uint64_t j = off[self]; j < off[self + 1]; j++) {
      gasp_vid u = nbr[j];
      if (u == self) continue;
      if (sync && !e->mflag[0] &&
          __atomic_load_n(&e->next[u], __ATOMIC_RELAXED))
        continue; /* already signalled for the next superstep */
      gasp_signal_priority(c, u, priority);
    }
  }
}

void gasp_signal_msg(gasp_ctx *c, gasp_vid v, const void *msg) {
  gasp_signal_msg_priority(c, v, msg, 0.0);
}

/* The message is in place before the signal, so the update it schedules
 * finds it (async: the receiver takes it after clearing its flag). */
void gasp_signal_msg_priority(gasp_ctx *c, gasp_vid v, const void *msg,
                              double priority) {
  gasp_engine *e = c->e;
  if (v >= e->g->nv || !e->prog.msg_size || !msg) return;
  if (e->opts.engine == GASP_ENGINE_ASYNC) {
    gasp__msg_put(e, 0, v, msg);
    gasp__async_signal(c, v, priority);
  } else {
    gasp__msg_put_sync(e, 1 - e->mcur, v, msg);
    gasp__sync_signal(c, v, priority);
  }
}

const void *gasp_ctx_msg(const gasp_ctx *c) { return c->msg; }

void gasp_ctx_stop(gasp_ctx *c) {
  __atomic_store_n(&c->e->stop, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- */
/* Aggregators                                                       */
/* ---------------------------------------------------------------- */

int gasp_engine_add_aggregator(gasp_engine *e, const gasp_aggregator *a,
                               int *id) {
  if (!a || a->size == 0 || !a->combine || (!a->map_vertex && !a->map_edge))
    return GASP_EINVAL;
  agg_slot *n = gasp__realloc(e->aggs, (size_t)(e->naggs + 1) * sizeof *n);
  if (!n) return GASP_ENOMEM;
  e->aggs = n;
  agg_slot *s = &e->aggs[e->naggs];
  memset(s, 0, sizeof *s);
  s->a = *a;
  s->partials = gasp__calloc_array((size_t)e->T, a->size);
  s->value = gasp__calloc(1, a->size);
  if (!s->partials || !s->value) {
    free(s->partials);
    free(s->value);
    return GASP_ENOMEM;
  }
  if (id) *id = e->naggs;
  e->naggs++;
  return GASP_OK;
}

typedef struct agg_job {
  gasp_engine *e;
  agg_slot *s;
  gasp__range vr, er;
} agg_job;

static void agg_worker(void *arg, int tid) {
  agg_job *j = arg;
  gasp_engine *e = j->e;
  const gasp_graph *g = e->g;
  const gasp_aggregator *a = &j->s->a;
  void *acc = (char *)j->s->partials + (size_t)tid * a->size;
  memset(acc, 0, a->size);
  uint64_t lo, hi;
  if (a->map_vertex)
    while (gasp__range_next(&j->vr, &lo, &hi))
      for (uint64_t v = lo; v < hi; v++)
        a->map_vertex(g, (gasp_vid)v, vdata(e, (gasp_vid)v), acc, a->user);
  if (a->map_edge)
    while (gasp__range_next(&j->er, &lo, &hi)) {
      /* find the source of slot lo, then walk forward */
      uint64_t s = 0, n = g->nv;
      while (s < n) {
        uint64_t mid = s + (n - s) / 2;
        if (g->out_off[mid + 1] <= lo)
          s = mid + 1;
        else
          n = mid;
      }
      for (uint64_t k = lo; k < hi; k++) {
        while (g->out_off[s + 1] <= k)
          s++;
        a->map_edge(g, (gasp_vid)s, g->out_nbr[k], k, edata(e, k), acc,
                    a->user);
      }
    }
}

/* Every rank's value, combined in rank order into `value` (the same
 * bytes on every rank): one all-to-all of the a->size bytes. */
static int aggregate_ranks(gasp_engine *e, const gasp_aggregator *a,
                           void *value) {
  const gasp_dist *d = e->opts.dist;
  int size = d->size;
  const void **send = gasp__calloc((size_t)size, sizeof *send);
  const void **recv = gasp__calloc((size_t)size, sizeof *recv);
  size_t *slen = gasp__calloc((size_t)size, sizeof *slen);
  size_t *rlen = gasp__calloc((size_t)size, sizeof *rlen);
  void *mine = gasp__malloc(a->size);
  int rc = GASP_ENOMEM;
  if (!send || !recv || !slen || !rlen || !mine) goto out;
  memcpy(mine, value, a->size);
  for (int r = 0; r < size; r++) {
    send[r] = mine;
    slen[r] = r == d->rank ? 0 : a->size;
  }
  rc = gasp_cluster_exchange(d->cluster, send, slen, recv, rlen, &e->err);
  if (rc) goto out;
  for (int r = 0; r < size; r++)
    if (r != d->rank && rlen[r] != a->size) {
      rc = gasp__fail(&e->err, GASP_EPEER, NULL, 0,
                      "rank %d: an aggregator of %zu bytes from rank %d has "
                      "%zu",
                      d->rank, a->size, r, rlen[r]);
      goto out;
    }
  for (int r = 0; r < size; r++) {
    const void *v = r == d->rank ? mine : recv[r];
    if (r == 0)
      memcpy(value, v, a->size);
    else
      a->combine(value, v, a->user);
  }
out:
  free(send);
  free(recv);
  free(slen);
  free(rlen);
  free(mine);
  return rc;
}

/* In a distributed run the rank maps its own vertices and their out-edges
 * (not the ghosts'); when `across`, the ranks' values are combined too,
 * a collective every rank makes at the same point (between supersteps of
 * the sync engine, at the start of a run, gasp_engine_aggregate). */
static int aggregate_one(gasp_engine *e, agg_slot *s, int serial, int across) {
  const gasp_aggregator *a = &s->a;
  uint64_t nv = e->opts.dist ? e->g->nowned : e->g->nv;
  agg_job j = {e, s, {0, nv, 4096}, {0, e->g->out_off[nv], 65536}};
  if (serial)
    agg_worker(&j, 0);
  else
    gasp__pool_run(e->pool, agg_worker, &j);
  memcpy(s->value, s->partials, a->size);
  for (int t = 1; !serial && t < gasp__pool_size(e->pool); t++)
    a->combine(s->value, (char *)s->partials + (size_t)t * a->size, a->user);
  if (across) {
    int rc = aggregate_ranks(e, a, s->value);
    if (rc) return rc;
  }
  if (a->finalize) a->finalize(s->value, a->user);
  return GASP_OK;
}

/* Whether aggregates are combined over the ranks now: the sync engine's
 * ranks meet between supersteps, except under bounded staleness. */
static int aggregate_across(const gasp_engine *e) {
  return e->opts.dist && e->opts.dist->size > 1 &&
         e->opts.engine == GASP_ENGINE_SYNC && !e->in_ssp;
}

/* 0, or the failure of combining over the ranks (in e->err). */
static int aggregate_due(gasp_engine *e, int force, double now, int serial) {
  for (int i = 0; i < e->naggs; i++) {
    agg_slot *s = &e->aggs[i];
    int due = force;
    if (!due && e->opts.engine == GASP_ENGINE_SYNC && s->a.period_iterations)
      due = e->iteration % s->a.period_iterations == 0;
    if (!due && e->opts.engine == GASP_ENGINE_ASYNC && s->a.period_seconds > 0)
      due = now - s->last >= s->a.period_seconds;
    if (!due) continue;
    int rc = aggregate_one(e, s, serial, aggregate_across(e));
    if (rc) return rc;
    s->last = now;
  }
  return GASP_OK;
}

int gasp__aggregate_due(gasp_engine *e, int force, double now) {
  return aggregate_due(e, force, now, 0);
}

void gasp__aggregate_serial(gasp_engine *e, double now) {
  /* async: within this rank only, which cannot fail */
  (void)aggregate_due(e, 0, now, 1);
}

typedef struct map_job {
  gasp_map_fn fn;
  void *user;
  uint64_t n, grain;
  char *partials;
  size_t stride;
  int T;
  gasp__range r;
} map_job;

static void map_worker(void *arg, int tid) {
  map_job *j = arg;
  void *part = j->partials ? j->partials + (size_t)tid * j->stride : NULL;
  if (part) memset(part, 0, j->stride);
  uint64_t lo, hi;
  if (j->grain == 0) {
    lo = j->n * (uint64_t)tid / (uint64_t)j->T;
    hi = j->n * (uint64_t)(tid + 1) / (uint64_t)j->T;
    for (uint64_t i = lo; i < hi; i++)
      j->fn(j->user, i, tid, part);
    return;
  }
  while (gasp__range_next(&j->r, &lo, &hi))
    for (uint64_t i = lo; i < hi; i++)
      j->fn(j->user, i, tid, part);
}

int gasp_engine_map(gasp_engine *e, uint64_t n, uint64_t grain, gasp_map_fn fn,
                    size_t partial_size,
                    void (*combine)(void *out, const void *partial, void *user),
                    void *user, void *out) {
  if (!e || !fn || (partial_size && (!combine || !out))) return GASP_EINVAL;
  int T = gasp__pool_size(e->pool);
  map_job j = {fn, user, n, grain, NULL, 0, T, {0, n, grain ? grain : 1}};
  if (partial_size) { /* a cache line apart: workers write them at once */
    j.stride = (partial_size + 63) & ~(size_t)63;
    if (!(j.partials = gasp__malloc_array((size_t)T, j.stride)))
      return GASP_ENOMEM;
  }
  if (n <= (grain ? grain : 1) || T == 1) {
    j.T = 1;
    j.grain = 0;
    map_worker(&j, 0);
  } else {
    gasp__pool_run(e->pool, map_worker, &j);
  }
  if (partial_size) {
    memcpy(out, j.partials, partial_size);
    for (int t = 1; t < j.T; t++)
      combine(out, j.partials + (size_t)t * j.stride, user);
    free(j.partials);
  }
  return GASP_OK;
}

int gasp_engine_aggregate(gasp_engine *e, int id, void *out) {
  if (id < 0 || id >= e->naggs) return GASP_EINVAL;
  int rc = aggregate_one(e, &e->aggs[id], 0, aggregate_across(e));
  if (rc == GASP_OK && out) memcpy(out, e->aggs[id].value, e->aggs[id].a.size);
  return rc;
}
