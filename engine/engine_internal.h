/*
 * engine_internal.h -- the engine object, its thread pool, schedulers
 * (backends behind one table) and consistency locking, shared by
 * engine.c, sync.c, async.c, sched_*.c, lock.c and color.c.
 */
#ifndef GASP_ENGINE_INTERNAL_H
#define GASP_ENGINE_INTERNAL_H

#include "gpu.h"
#include "graph_internal.h"

#include <pthread.h>
#include <string.h>

/* ---- thread pool ----------------------------------------------------
 * A fixed team of pthreads (TSan understands them, unlike libgomp).
 * gasp__pool_run() runs fn(arg, tid) on every team member, the calling
 * thread being tid 0, and returns when all are done. */
typedef struct gasp__pool gasp__pool;
typedef void (*gasp__pool_fn)(void *arg, int tid);

int gasp__pool_new(gasp__pool **out, int threads);
void gasp__pool_free(gasp__pool **p);
int gasp__pool_size(const gasp__pool *p);
void gasp__pool_run(gasp__pool *p, gasp__pool_fn fn, void *arg);

/* Dynamic loop helper: hands out [lo, hi) chunks of 0 .. n-1. */
typedef struct gasp__range {
  uint64_t next; /* atomic */
  uint64_t n, chunk;
} gasp__range;
static inline int gasp__range_next(gasp__range *r, uint64_t *lo, uint64_t *hi) {
  uint64_t b = __atomic_fetch_add(&r->next, r->chunk, __ATOMIC_RELAXED);
  if (b >= r->n) return 0;
  *lo = b;
  *hi = b + r->chunk < r->n ? b + r->chunk : r->n;
  return 1;
}

/* ---- schedulers -----------------------------------------------------
 * The async engine asks a scheduler for the next vertex to update.  The
 * engine owns the per-vertex "scheduled" state; a scheduler only orders
 * vertices handed to it with push() (at most once per scheduling) and
 * returns them from pop().  Both are called concurrently from workers
 * (tid identifies the caller).  For the priority scheduler, push() of a
 * vertex already queued raises its priority (the engine passes the merged
 * priority). */
typedef struct gasp__sched gasp__sched;
typedef struct gasp__sched_ops {
  const char *name;
  int (*create)(gasp__sched **out, gasp_vid nv, int threads);
  void (*destroy)(gasp__sched *s);
  void (*push)(gasp__sched *s, int tid, gasp_vid v, double priority);
  /* 1 and *v set, or 0 when this scheduler has nothing right now */
  int (*pop)(gasp__sched *s, int tid, gasp_vid *v);
  /* optional: raise the priority of v if it is queued, else do nothing */
  void (*raise)(gasp__sched *s, int tid, gasp_vid v, double priority);
} gasp__sched_ops;

extern const gasp__sched_ops gasp__sched_fifo;
extern const gasp__sched_ops gasp__sched_sweep;
extern const gasp__sched_ops gasp__sched_priority;

/* ---- locks and colouring -------------------------------------------- */

/* Per-vertex reader-writer spin locks, one 32-bit word each: bit 31 is
 * the writer, the low bits count readers. */
void gasp__rw_rdlock(uint32_t *l);
void gasp__rw_rdunlock(uint32_t *l);
void gasp__rw_wrlock(uint32_t *l);
void gasp__rw_wrunlock(uint32_t *l);
/* 1 when taken at once, 0 when held by another (nothing taken then). */
int gasp__rw_tryrdlock(uint32_t *l);
int gasp__rw_trywrlock(uint32_t *l);

/* The sorted, duplicate-free neighbours of v (in and out, without v
 * itself) into *buf (grown as needed); returns their number. */
uint64_t gasp__neighbours(const gasp_graph *g, gasp_vid v, gasp_vid **buf,
                          uint64_t *cap);

/* Greedy colouring in vertex order: distance 1 (no two adjacent vertices
 * share a colour) or distance 2 (no two vertices within two hops).
 * color[] has nv entries; returns the number of colours or a negative
 * status. */
int gasp__color_graph(const gasp_graph *g, int distance, uint32_t *color);

/* ---- the engine ------------------------------------------------------ */

/* A caller's state saved with checkpoints (gasp_engine_checkpoint_state). */
typedef struct gasp__blocked gasp__blocked;

/* A bounded-staleness checkpoint's channel state (checkpoint.c, sync.c):
 * the cut is taken after the rank's superstep t_next - 1; from each peer
 * p, the ghost payloads of supersteps applied[p] .. upto[p] - 1 (upto[p]
 * is t_next for a peer sharing ghosts, else 0) were sent before the peer's
 * own cut but not yet applied here.  msgs: those payloads as they came
 * off the wire (type byte, 64-bit step, ghost payload), in order per
 * peer. */
#define GASP__SSP_STEP 1 /* a payload's type byte */
#define GASP__SSP_HEAD 9 /* type byte, then a 64-bit step */

typedef struct gasp__ssp_msg {
  int peer;
  uint8_t *data;
  size_t n;
} gasp__ssp_msg;

typedef struct gasp__ssp_cut {
  uint64_t t_next;
  int nranks;
  uint64_t *applied, *upto; /* nranks each */
  gasp__ssp_msg *msgs;
  size_t nmsgs;
} gasp__ssp_cut;

void gasp__ssp_cut_free(gasp__ssp_cut **c);

/* A rank's checkpoint file written in two halves: the state at the cut
 * when it is taken, then the peers' payloads as they arrive; committed
 * (trailer, fsync, rename) once the last has come, or abandoned. */
typedef struct gasp__ck_file gasp__ck_file;

/* Opens generation e->iteration's file and writes the engine's state and
 * the cut's header (cut->msgs unused: payloads follow by
 * gasp__ck_payload). */
int gasp__ck_open(gasp_engine *e, const gasp__ssp_cut *cut,
                  gasp__ck_file **out);
int gasp__ck_payload(gasp_engine *e, gasp__ck_file *f, int peer,
                     const uint8_t *data, size_t n);
/* The file's generation (iteration). */
uint64_t gasp__ck_iteration(const gasp__ck_file *f);
/* Commits (counted in the run's statistics) or abandons, and frees. */
int gasp__ck_commit(gasp_engine *e, gasp__ck_file **f);
void gasp__ck_abandon(gasp__ck_file **f);
/* Rank 0: generation `it`'s MANIFEST, once every rank has committed. */
int gasp__ck_manifest(gasp_engine *e, uint64_t it);
/* This rank's files of generations before the newest one older than
 * `it` (so `it` and the one before it stay). */
void gasp__ck_prune(gasp_engine *e, uint64_t it);

typedef struct gasp__ck_state {
  char name[64];
  void *data;
  size_t size;
} gasp__ck_state;

typedef struct agg_slot {
  gasp_aggregator a;
  void *value;    /* latest result, NULL before the first */
  void *partials; /* threads x size */
  double last;    /* when last computed (async periodic) */
} agg_slot;

struct gasp_engine {
  gasp_graph *g;
  gasp_program prog;
  gasp_engine_opts opts;
  int T;
  gasp__pool *pool;
  gasp_error err;

  /* activation: sync uses active/next flags; async the scheduled flags */
  uint8_t *active, *next;
  /* A sync run of a pull_skips_final program: the vertices that called
   * gasp_ctx_halt(), which its pulls pass over (NULL otherwise). */
  uint8_t *halted;
  double *prio; /* pending priority per vertex (priority scheduler) */
  uint64_t nsignalled;

  agg_slot *aggs;
  int naggs;

  int stop; /* atomic: set by gasp_ctx_stop */
  uint64_t iteration;
  uint64_t updates;

  /* distributed runs: per-vertex side arrays that travel with the vertex
   * data of updated vertices (gasp_engine_mirror) */
  struct {
    void *base;
    size_t size;
  } mirror[8];
  int nmirror;

  uint32_t *color; /* chromatic schedule, lazily built */
  int ncolors, color_distance;

  /* async */
  const gasp__sched_ops *sched_ops;
  gasp__sched *sched;
  uint32_t *locks;  /* per-vertex rw locks (locking = locks) */
  uint64_t pending; /* atomic: scheduled or running updates */
  int chromatic;    /* this run uses the colour schedule */
  int in_ssp;       /* a bounded-staleness run is under way */

  /* device apply: the device's operations when runs use it, else NULL */
  const gasp__gpu_ops *gpu_ops;
  void *gpu_dev;
  gasp_gpu_stats gpu;
  gasp__gpu_batcher *gpu_b;  /* sync engine, made at first use */
  gasp__gpu_batcher *gpu_tb; /* async engine: one per worker */

  /* messages (prog.msg_size > 0): a slot and a flag byte per vertex in
   * each of two buffers.  The sync engine's superstep reads buffer mcur
   * and signals into 1 - mcur; the async engine uses buffer 0 only. */
  char *msg[2];
  uint8_t *mflag[2];
  int mcur;
  /* the buffer whose messages to ghosts travel at the next exchange */
  int mout;
  /* the program's combine when it is one of the library's (GASP__COMB_*),
   * which the sync engine folds with atomics instead of a lock */
  int mkind;

  /* checkpoints (checkpoint.c) */
  gasp__ck_state *ck; /* the caller's sections */
  int nck;
  char *ck_key; /* the run key, or NULL */
  uint64_t ck_key_hash, ck_graph_hash;
  int ck_hashed;         /* ck_graph_hash computed */
  double ck_last;        /* when the last automatic checkpoint was written */
  uint64_t ck_last_iter; /* and at which iteration */
  /* where the current run began (iteration, updates): saved with a
   * checkpoint, so a resumed run counts from the interrupted run's start */
  uint64_t run_iter0, run_upd0;
  int resumed; /* opts.resume_dir has been restored */
  /* a push_pull program's state when the next superstep pulls: written
   * with a checkpoint (ck_fbits: F's bitmap on one process, else NULL) and,
   * restored, taken by the next sync run (resume_fbits malloc'd) */
  gasp_run_stats *ck_stats; /* the running run's, for its checkpoint figures */
  uint64_t ck_bytes;        /* bytes of the last checkpoint file written */
  int ck_pull, resume_pull;
  const uint64_t *ck_fbits;
  uint64_t *resume_fbits;
  /* a bounded-staleness cut restored (the peers' payloads that were in
   * flight), taken by the next sync run; NULL otherwise */
  gasp__ssp_cut *resume_ssp;

  /* cache-blocked gather (blocked.c): the bins, built at first use, and
   * whether their values are floats */
  gasp__blocked *blk;
  int src_float;
};

enum {
  GASP__COMB_OTHER = 0,
  GASP__COMB_MIN_U32,
  GASP__COMB_MIN_U64,
  GASP__COMB_MIN_F64,
  GASP__COMB_MAX_F64,
  GASP__COMB_SUM_F64,
  GASP__COMB_SUM_U64
};

/* Message flag bits. */
#define GASP__MF_MSG 1u   /* the slot holds a message */
#define GASP__MF_LOCK 2u  /* a thread is combining into the slot */
#define GASP__MF_PLAIN 4u /* also signalled without a message: gather */

/* Combines msg into v's slot of buffer b (copies it when the slot is
 * empty), under the slot's lock: any thread, any time. */
void gasp__msg_put(gasp_engine *e, int b, gasp_vid v, const void *msg);
/* The same for a buffer no thread takes messages from meanwhile (the sync
 * engine's next superstep): the library's combiners then fold lock-free,
 * and an offer that changes nothing writes nothing. */
void gasp__msg_put_sync(gasp_engine *e, int b, gasp_vid v, const void *msg);
/* Marks v in buffer b as signalled without a message (no-op for a
 * program without messages). */
void gasp__msg_plain(gasp_engine *e, int b, gasp_vid v);
/* Moves v's message out of buffer b into out and clears its flags;
 * returns the flags it had (GASP__MF_MSG: out holds the message). */
unsigned gasp__msg_take(gasp_engine *e, int b, gasp_vid v, void *out);
/* v's message in buffer b (no lock: for a phase no one writes it), or
 * NULL. */
static inline const void *gasp__msg_peek(const gasp_engine *e, int b,
                                         gasp_vid v) {
  return e->mflag[b] && (e->mflag[b][v] & GASP__MF_MSG)
             ? e->msg[b] + (size_t)v * e->prog.msg_size
             : NULL;
}

/* Replaces the engine's device (the tests' host-side mock); ops NULL
 * returns to the CPU apply.  The engine closes dev when freed. */
void gasp__engine_set_gpu(gasp_engine *e, const gasp__gpu_ops *ops, void *dev,
                          const char *name);
/* Batch size and async flush age from the options. */
uint64_t gasp__gpu_cap(const gasp_engine *e);
double gasp__gpu_flush_s(const gasp_engine *e);
/* Applies vertices on the device (sync superstep, colour class): vids
 * NULL means the active ones of 0 .. n-1; item i's accumulator is at
 * acc + (by_vertex ? v : i) * acc_size.  Sets e->err on failure. */
int gasp__gpu_apply(gasp_engine *e, const gasp_vid *vids, uint64_t n,
                    const char *acc, int by_vertex);

/* Aggregation on the calling thread only (async pauses its workers and
 * aggregates without the pool). */
void gasp__aggregate_serial(gasp_engine *e, double now);

struct gasp_ctx {
  gasp_ctx_head h; /* first: the inline accessors of gasp.h read it */
  gasp_engine *e;
  int tid;
  void *state;              /* the running engine's own state */
  const void *msg;          /* the update's combined message, or NULL */
  int pull;                 /* a pull superstep: messaged vertices gather too */
  int plain;                /* signalled without a message too: gather */
  const uint64_t *frontier; /* pull superstep, one process: F's bitmap */
};

/* Runs the program's gather over v's edges into acc (zeroed or
 * acc_init'ed first); apply; scatter.  Shared by both engines. */
void gasp__do_gather(gasp_ctx *ctx, void *acc);
void gasp__do_apply(gasp_ctx *ctx, const void *acc);
/* A pull's gather along `dir`, which the caller has asked gather_edges
 * for (gasp_program.pull_skips_final). */
void gasp__do_gather_in(gasp_ctx *ctx, void *acc, gasp_dir dir);
/* Visits v's edges in `dir`, calling the program's gather (acc != NULL)
 * or scatter (acc == NULL) once per edge. */
void gasp__each_edge(gasp_ctx *ctx, const void *vd, gasp_dir dir, void *acc);
void gasp__do_scatter(gasp_ctx *ctx);

/* Computes every aggregator whose period is due (force: all); 0, or the
 * failure of combining values over the ranks (e->err says why). */
int gasp__aggregate_due(gasp_engine *e, int force, double now);

/* Writes a checkpoint of the engine's state now (a superstep boundary or
 * between runs) to dir; every rank calls it.  Sets e->err on failure. */
int gasp__checkpoint_write(gasp_engine *e, const char *dir);
/* The automatic checkpoint of opts.checkpoint_*, when due at `count`
 * (supersteps or sweeps of the run; a period in seconds by rank 0's clock,
 * an allreduce across ranks): written as the generation of iteration
 * `name`, and counted in the running run's statistics. */
int gasp__checkpoint_due(gasp_engine *e, uint64_t count, uint64_t name);
/* Its two halves: whether one is due (*due; a collective across ranks
 * for a period in seconds), and writing it (counted in the run's
 * statistics). */
int gasp__checkpoint_is_due(gasp_engine *e, uint64_t count, int *due);
int gasp__checkpoint_counted(gasp_engine *e, uint64_t count, uint64_t name);

int gasp__sync_run(gasp_engine *e, gasp_run_stats *st);

/* Cache-blocked gather (blocked.c, gasp_program.gather_source).
 * eligible: the program and run allow it (why: the reason when not, if
 * non-NULL); pays: opts.blocked and the rule of gasp.h say to block;
 * gather: a superstep's gather of every vertex into acc (nv doubles),
 * building the bins at first use; free: the bins. */
int gasp__blocked_eligible(const gasp_engine *e, gasp_error *why);
int gasp__blocked_pays(const gasp_engine *e);
int gasp__blocked_gather(gasp_engine *e, double *acc, gasp_run_stats *st);
void gasp__blocked_free(gasp__blocked **b);
int gasp__async_run(gasp_engine *e, gasp_run_stats *st);

/* Signal hooks the engines install (ctx->e decides which). */
void gasp__sync_signal(gasp_ctx *ctx, gasp_vid v, double prio);
void gasp__async_signal(gasp_ctx *ctx, gasp_vid v, double prio);

/* Vertex v's data; NULL for a program without vertex data (vertex_size
 * 0, no array), never an offset from a null pointer. */
static inline void *gasp__vdata(const gasp_engine *e, gasp_vid v) {
  char *base = e->g->vdata;
  return base ? base + (size_t)v * e->prog.vertex_size : NULL;
}

/* Gather and scatter directions of the update in ctx (inline: once per
 * update on the hot path). */
static inline gasp_dir gasp__gather_dir(gasp_ctx *ctx) {
  const gasp_program *p = &ctx->e->prog;
  if (!p->gather_edges) return p->gather_dir;
  return p->gather_edges(ctx, gasp__vdata(ctx->e, ctx->h.v));
}

static inline gasp_dir gasp__scatter_dir(gasp_ctx *ctx) {
  const gasp_program *p = &ctx->e->prog;
  if (!p->scatter_edges) return p->scatter_dir;
  return p->scatter_edges(ctx, gasp__vdata(ctx->e, ctx->h.v));
}

/* v's adjacency in `dir` for a bulk gather or scatter. */
static inline __attribute__((always_inline)) void
gasp__fill_nbrs(const gasp_engine *e, gasp_vid v, gasp_dir dir, gasp_nbrs *n) {
  const gasp_graph *g = e->g;
  n->n_in = n->n_out = 0;
  n->in = g->in_nbr + g->in_off[v];
  n->in_slot = g->in_slot + g->in_off[v];
  n->out = g->out_nbr + g->out_off[v];
  n->out_slot0 = g->out_off[v];
  if (dir & GASP_DIR_IN) n->n_in = g->in_off[v + 1] - g->in_off[v];
  if (dir & GASP_DIR_OUT) n->n_out = g->out_off[v + 1] - g->out_off[v];
  n->vertex_data = g->vdata;
  n->vertex_size = e->prog.vertex_size;
  n->edge_data = g->edata;
  n->edge_size = e->prog.edge_size;
  n->frontier = NULL;
}

/* The accumulator starts as the update's message when they are the same
 * size, else from acc_init or zeros.  (A push_pull program's messaged
 * vertex gathers only in a pull superstep.) */
static inline __attribute__((always_inline)) void gasp__acc_start(gasp_ctx *ctx,
                                                                  void *acc) {
  const gasp_program *p = &ctx->e->prog;
  if (!p->acc_size) return;
  if (ctx->msg && p->msg_size == p->acc_size)
    memcpy(acc, ctx->msg, p->acc_size);
  else if (p->acc_init)
    p->acc_init(ctx, acc);
  else
    memset(acc, 0, p->acc_size);
}

/* The program's gather over the update's edges in `dir` into acc. */
static inline __attribute__((always_inline)) void
gasp__gather_along(gasp_ctx *ctx, void *acc, gasp_dir dir) {
  gasp_engine *e = ctx->e;
  const gasp_program *p = &e->prog;
  gasp_vid v = ctx->h.v;
  if (dir == GASP_DIR_NONE || (!p->gather && !p->gather_vertex)) return;
  const void *vd = gasp__vdata(e, v);
  if (p->gather_vertex) {
    gasp_nbrs n;
    gasp__fill_nbrs(e, v, dir, &n);
    n.frontier = ctx->frontier;
    p->gather_vertex(ctx, vd, &n, acc);
    return;
  }
  gasp__each_edge(ctx, vd, dir, acc);
}

/* An accumulator's copy; the common sizes without a call. */
static inline void gasp__copy_acc(void *to, const void *from, size_t n) {
  if (n == 8)
    memcpy(to, from, 8);
  else if (n == 4)
    memcpy(to, from, 4);
  else
    memcpy(to, from, n);
}

/* Equal accumulators; the common sizes without a call. */
static inline int gasp__same_acc(const void *a, const void *b, size_t n) {
  if (n == 8) {
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    return x == y;
  }
  if (n == 4) {
    uint32_t x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    return x == y;
  }
  return memcmp(a, b, n) == 0;
}

/* The gather of gasp__do_gather_in, but only when it changed the
 * accumulator from its start does it write acc and return 1; scratch: 2
 * x acc_size bytes.  Inline: a pull that passes final vertices over
 * spends little else on a vertex. */
static inline __attribute__((always_inline)) int
gasp__gather_in_changed(gasp_ctx *ctx, void *acc, gasp_dir dir, void *scratch) {
  size_t n = ctx->e->prog.acc_size;
  char *a = scratch, *start = a + n;
  gasp__acc_start(ctx, a);
  gasp__copy_acc(start, a, n);
  gasp__gather_along(ctx, a, dir);
  if (gasp__same_acc(start, a, n)) return 0;
  gasp__copy_acc(acc, a, n);
  return 1;
}

#endif
