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
 *
 * Messages are double-buffered: a superstep's updates read buffer mcur,
 * its signals combine into the other, and the buffers swap with the
 * frontier.  Programs with push_pull get direction optimisation (see
 * gasp.h): after the applies the vertices with something to push (scatter
 * direction not NONE) are counted with their edges, and the next superstep
 * either has them scatter messages (push) or has every vertex gather
 * (pull), whichever reads fewer edges.
 */
#include "dist_internal.h"
#include "engine_internal.h"
#include "ghost.h"

#include <stdint.h>
#include <string.h>

/* A cache line each: the threads push onto theirs at once. */
typedef struct vlist {
  _Alignas(64) gasp_vid *v;
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
  int phase;       /* 0 gather, 1 apply, 2 scatter or (push_pull) scan */
  uint64_t *newly; /* per thread */
  /* push_pull: the frontier F of vertices with something to push */
  int pp;
  int pull;          /* this superstep pulls; after the scan, the next one */
  int pulled;        /* this superstep pulled */
  double last_nf;    /* |F| (over all ranks) after the superstep before */
  vlist *flists;     /* per thread: F */
  uint64_t (*fc)[8]; /* per thread, a cache line each: |F|, F's edges */
  gasp_vid *fvec;    /* F, concatenated */
  uint64_t nf;
  uint8_t *fflag;  /* distributed: F's flags, the values the barrier ships */
  uint64_t *fbits; /* one process: F's bitmap for the pull that follows */
  int blocked;     /* the gathers run blocked (gasp__blocked_gather) */
  gasp_run_stats *st;
  /* pull_skips_final: a pull's gather lists the vertices that gathered
   * (per thread, then tvec), and the apply and scan run over those */
  vlist *tlists;
  gasp_vid *tvec;
  uint64_t nt;
  char *acc0; /* per thread: scratch for 2 accumulators, acc0_stride apart */
  size_t acc0_stride;
  /* pull_block on one process: per thread, a block's vertices, their hits
   * and accumulators (BLOCK of each, blk_stride bytes apart) */
  char *blk;
  size_t blk_stride;
  int use_t; /* this superstep's later phases walk tvec */
} sync_state;

static inline void list_push(vlist *l, gasp_vid v) {
  if (l->n == l->cap) {
    uint64_t ncap = l->cap ? 2 * l->cap : 1024;
    gasp_vid *nv = gasp__realloc(l->v, ncap * sizeof *nv);
    if (!nv) {
      l->oom = 1;
      return;
    }
    l->v = nv;
    l->cap = ncap;
  }
  l->v[l->n++] = v;
}

/* Concatenates the threads' lists into out (NULL: drops them) and
 * empties them; their total, or UINT64_MAX when one ran out of memory
 * (then nothing is copied or emptied). */
static uint64_t join_lists(vlist *l, int T, gasp_vid *out) {
  uint64_t n = 0;
  for (int t = 0; t < T; t++)
    if (l[t].oom) return UINT64_MAX;
  for (int t = 0; t < T; t++) {
    if (out && l[t].n) memcpy(out + n, l[t].v, l[t].n * sizeof *out);
    n += l[t].n;
    l[t].n = 0;
  }
  return n;
}

void gasp__sync_signal(gasp_ctx *ctx, gasp_vid v, double prio) {
  (void)prio;
  gasp_engine *e = ctx->e;
  if (__atomic_load_n(&e->next[v], __ATOMIC_RELAXED) ||
      __atomic_exchange_n(&e->next[v], 1, __ATOMIC_RELAXED))
    return;
  sync_state *s = ctx->state;
  list_push(&s->lists[ctx->tid], v);
}

static uint64_t degree_in(const gasp_graph *g, gasp_vid v, gasp_dir d) {
  return (d & GASP_DIR_IN ? g->in_off[v + 1] - g->in_off[v] : 0) +
         (d & GASP_DIR_OUT ? g->out_off[v + 1] - g->out_off[v] : 0);
}

/* push_pull, after the applies: is v in F? */
static void scan_vertex(sync_state *s, gasp_ctx *ctx, gasp_vid v) {
  gasp_dir d = gasp__scatter_dir(ctx);
  if (d == GASP_DIR_NONE) return;
  list_push(&s->flists[ctx->tid], v);
  s->fc[ctx->tid][0]++;
  s->fc[ctx->tid][1] += degree_in(s->e->g, v, d);
  if (s->fflag) s->fflag[v] = 1;
}

/* One vertex's step of this phase.  Inline with the phase and the
 * message flag as constants of the worker's loop, so the compiler can
 * specialise the loop for each (a few nanoseconds a vertex matter when a
 * program does little per vertex). */
static inline __attribute__((always_inline)) void
run_vertex(sync_state *s, gasp_ctx *ctx, gasp_vid v, int phase, int msgs) {
  gasp_engine *e = s->e;
  ctx->h.v = v;
  if (msgs) {
    ctx->msg = gasp__msg_peek(e, e->mcur, v);
    ctx->plain = (e->mflag[e->mcur][v] & GASP__MF_PLAIN) != 0;
  }
  if (phase == 0)
    gasp__do_gather(ctx, s->acc + (size_t)v * e->prog.acc_size);
  else if (phase == 5) { /* a pull that passes final vertices over */
    gasp_dir dir = gasp__gather_dir(ctx);
    if (dir == GASP_DIR_NONE && !ctx->msg) return;
    char *a0 = s->acc0 + (size_t)ctx->tid * s->acc0_stride;
    if (!gasp__gather_in_changed(ctx, s->acc + (size_t)v * e->prog.acc_size,
                                 dir, a0) &&
        !ctx->msg)
      return; /* nothing reached it */
    list_push(&s->tlists[ctx->tid], v);
  }
  else if (phase == 1)
    gasp__do_apply(ctx, s->acc + (size_t)v * e->prog.acc_size);
  else if (phase == 4) { /* push_pull: the scan right after the apply */
    gasp__do_apply(ctx, s->acc + (size_t)v * e->prog.acc_size);
    scan_vertex(s, ctx, v);
  } else if (phase == 2)
    scan_vertex(s, ctx, v);
  else
    gasp__do_scatter(ctx);
}

/* A pull that passes final vertices over reads the adjacency of the rest,
 * scattered once most are final (BFS: the unreached, of low degree,
 * between the long lists of the reached): a cache miss a vertex, which
 * the work of an update between them keeps from overlapping.  So the loop
 * asks for the head of the in-edge list (a pull's usual direction)
 * PULL_PREFETCH vertices ahead. */
#define PULL_PREFETCH 16

static inline void prefetch_adjacency(const sync_state *s, gasp_vid v) {
  const gasp_graph *g = s->e->g;
  __builtin_prefetch(g->in_nbr + g->in_off[v]);
}

/* The largest block of a pull_block call (the dense phases' chunk). */
#define BLOCK 2048

/* A pull over [lo, hi) through the program's pull_block: the vertices
 * that take part go in blocks; one with a message goes alone. */
static void pull_blocks(sync_state *s, gasp_ctx *ctx, uint64_t lo, uint64_t hi,
                        int msgs) {
  gasp_engine *e = s->e;
  const uint8_t *active = e->active;
  const uint8_t *mf = msgs ? e->mflag[e->mcur] : NULL;
  size_t as = e->prog.acc_size;
  char *b = s->blk + (size_t)ctx->tid * s->blk_stride;
  gasp_vid *vs = (gasp_vid *)(void *)b;
  uint32_t *hit = (uint32_t *)(void *)(b + BLOCK * sizeof *vs);
  char *acc = b + BLOCK * (sizeof *vs + sizeof *hit);
  while (lo < hi) {
    uint64_t end = hi - lo > BLOCK ? lo + BLOCK : hi, n = 0;
    for (uint64_t v = lo; v < end; v++) {
      if (!active[v]) continue;
      if (mf && mf[v])
        run_vertex(s, ctx, (gasp_vid)v, 5, msgs);
      else
        vs[n++] = (gasp_vid)v;
    }
    uint64_t k =
        n ? e->prog.pull_block(ctx, vs, n, ctx->frontier, acc, hit) : 0;
    vlist *t = &s->tlists[ctx->tid];
    for (uint64_t j = 0; j < k; j++) {
      gasp_vid v = vs[hit[j]];
      memcpy(s->acc + (size_t)v * as, acc + j * as, as);
      list_push(t, v);
    }
    lo = end;
  }
}

static inline __attribute__((always_inline)) void
phase_loop(sync_state *s, gasp_ctx *ctx, int phase, int msgs) {
  const uint8_t *active = s->e->active;
  const gasp_vid *list = s->use_t ? s->tvec : s->frontier;
  int dense = s->dense && !s->use_t;
  uint64_t lo, hi;
  while (gasp__range_next(&s->r, &lo, &hi)) {
    if (dense && phase == 5 && s->blk) {
      pull_blocks(s, ctx, lo, hi, msgs);
    } else if (dense && phase == 5) {
      for (uint64_t v = lo; v < hi; v++) {
        if (v + PULL_PREFETCH < hi && active[v + PULL_PREFETCH])
          prefetch_adjacency(s, (gasp_vid)(v + PULL_PREFETCH));
        if (active[v]) run_vertex(s, ctx, (gasp_vid)v, phase, msgs);
      }
    } else if (dense) {
      for (uint64_t v = lo; v < hi; v++)
        if (active[v]) run_vertex(s, ctx, (gasp_vid)v, phase, msgs);
    } else {
      for (uint64_t i = lo; i < hi; i++)
        run_vertex(s, ctx, list[i], phase, msgs);
    }
  }
}

/* Phases: 0 gather, 1 apply, 2 the push_pull scan, 3 scatter. */
static void phase_worker(void *arg, int tid) {
  sync_state *s = arg;
  gasp_engine *e = s->e;
  gasp_ctx ctx = {{e->prog.user, e->iteration, 0, e->halted},
                  e,
                  tid,
                  s,
                  NULL,
                  s->pull,
                  0,
                  s->pull ? s->fbits : NULL};
  /* 0 gather; 1 apply (4: and the push_pull scan, which then needs no
   * pass of its own); 2 the scan alone (after a device apply); 3 scatter */
  int phase = s->phase == 2 && !s->pp  ? 3
              : s->phase == 1 && s->pp ? 4
                                       : s->phase;
  if (phase == 0 && s->tlists && s->pull) phase = 5;
  if (e->prog.msg_size) {
    switch (phase) {
    case 0: phase_loop(s, &ctx, 0, 1); break;
    case 5: phase_loop(s, &ctx, 5, 1); break;
    case 1: phase_loop(s, &ctx, 1, 1); break;
    case 2: phase_loop(s, &ctx, 2, 1); break;
    case 4: phase_loop(s, &ctx, 4, 1); break;
    default: phase_loop(s, &ctx, 3, 1); break;
    }
  } else {
    switch (phase) {
    case 0: phase_loop(s, &ctx, 0, 0); break;
    case 5: phase_loop(s, &ctx, 5, 0); break;
    case 1: phase_loop(s, &ctx, 1, 0); break;
    case 4: phase_loop(s, &ctx, 4, 0); break;
    default: phase_loop(s, &ctx, 3, 0); break;
    }
  }
}

/* push_pull: F's scatter (a push superstep's messages). */
static void push_worker(void *arg, int tid) {
  sync_state *s = arg;
  gasp_engine *e = s->e;
  gasp_ctx ctx = {
      {e->prog.user, e->iteration, 0, e->halted}, e, tid, s, NULL, 0, 0, NULL};
  uint64_t lo, hi;
  while (gasp__range_next(&s->r, &lo, &hi))
    for (uint64_t i = lo; i < hi; i++) {
      ctx.h.v = s->fvec[i];
      ctx.msg = gasp__msg_peek(e, e->mcur, ctx.h.v);
      gasp__do_scatter(&ctx);
    }
}

/* The messages the old frontier read are spent; the buffer they came in
 * takes the next superstep's signals. */
static void rotate_msgs(sync_state *s, int dense) {
  gasp_engine *e = s->e;
  if (!e->prog.msg_size) return;
  uint8_t *f = e->mflag[e->mcur];
  if (dense)
    memset(f, 0, e->g->nv);
  else
    for (uint64_t i = 0; i < s->nfront; i++)
      f[s->frontier[i]] = 0;
  e->mcur = 1 - e->mcur;
  e->mout = 1 - e->mcur;
}

/* Collects the next frontier from the per-thread lists and flags (a pull
 * superstep: every owned vertex). */
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
    for (uint64_t i = 0; i < s->nfront; i++)
      e->active[s->frontier[i]] = 0;
  rotate_msgs(s, s->dense);
  uint8_t *tmp = e->active;
  e->active = e->next;
  e->next = tmp;
  if (s->pp && s->pull) {
    gasp_vid no = e->g->nowned;
    if (e->halted) /* the signalled, and every vertex that has not halted */
      for (gasp_vid v = 0; v < no; v++)
        e->active[v] |= (uint8_t)(e->halted[v] ^ 1);
    else
      memset(e->active, 1, no);
    memset(e->active + no, 0, e->g->nv - no);
    s->nfront = no;
    s->dense = 1;
    join_lists(s->lists, T, NULL);
    return GASP_OK;
  }
  s->nfront = n;
  s->dense = n > e->g->nv / 16;
  join_lists(s->lists, T, s->dense ? NULL : s->frontier);
  return GASP_OK;
}

/* ---- distributed barrier ---------------------------------------------
 *
 * Owners send the vertices updated in this superstep (e->active) to the
 * ranks holding them as ghosts and ghost signals (e->next) to their owners
 * (ghost.c); `all` sends every value (the first barrier of a run, so
 * ghosts start from their owners' data). */

static void remote_signal(void *arg, gasp_vid v, const void *msg) {
  sync_state *s = arg;
  if (msg)
    gasp__msg_put(s->e, 1 - s->e->mcur, v, msg);
  else
    gasp__msg_plain(s->e, 1 - s->e->mcur, v);
  if (!s->e->next[v]) {
    s->e->next[v] = 1;
    list_push(&s->lists[0], v);
  }
}

/* Signals for ghosts went to their owners: drop them here. */
static void drop_ghost_signals(sync_state *s) {
  gasp_engine *e = s->e;
  gasp_graph *g = e->g;
  for (gasp_vid v = g->nowned; v < g->nv; v++)
    e->next[v] = 0;
  if (e->prog.msg_size)
    memset(e->mflag[1 - e->mcur] + g->nowned, 0, g->nv - g->nowned);
  int T = gasp__pool_size(e->pool);
  for (int t = 0; t < T; t++) {
    vlist *l = &s->lists[t];
    uint64_t k = 0;
    for (uint64_t i = 0; i < l->n; i++)
      if (l->v[i] < g->nowned) l->v[k++] = l->v[i];
    l->n = k;
  }
}

static int dist_barrier(sync_state *s, int all, gasp_error *err) {
  gasp_engine *e = s->e;
  const uint8_t *changed = s->fflag && !all ? s->fflag : e->active;
  int rc =
      gasp__ghost_exchange(e, all, changed, e->next, remote_signal, s, err);
  if (s->fflag)
    for (uint64_t i = 0; i < s->nf; i++)
      s->fflag[s->fvec[i]] = 0;
  if (rc) return rc;
  drop_ghost_signals(s);
  return GASP_OK;
}

/* Global view at the barrier: the active vertices of the next superstep
 * and whether any rank asked to stop. */
static int dist_global(sync_state *s, uint64_t extra, uint64_t *active,
                       int *stop) {
  gasp_engine *e = s->e;
  double v[2] = {(double)(s->nfront + extra), (double)*stop};
  int rc = gasp_cluster_allreduce(e->opts.dist->cluster, v, 2, GASP_REDUCE_SUM,
                                  &e->err);
  if (rc) return rc;
  *active = (uint64_t)v[0];
  *stop = v[1] > 0;
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

/* push_pull, after the scan: gathers F from the threads' lists and
 * decides whether the next superstep pulls (see gasp.h). */
static int decide_direction(sync_state *s) {
  gasp_engine *e = s->e;
  int T = gasp__pool_size(e->pool);
  uint64_t nf = join_lists(s->flists, T, s->fvec), mf = 0;
  if (nf == UINT64_MAX)
    return gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
  for (int t = 0; t < T; t++) {
    mf += s->fc[t][1];
    s->fc[t][0] = s->fc[t][1] = 0;
  }
  s->nf = nf;
  double gnf = (double)nf, gwork = (double)(nf + mf);
  double edges = (double)e->g->ne;
  gasp_dist *d = e->opts.dist;
  if (d && !e->in_ssp) {
    double v[2] = {gnf, gwork};
    int rc = gasp_cluster_allreduce(d->cluster, v, 2, GASP_REDUCE_SUM, &e->err);
    if (rc) return rc;
    gnf = v[0];
    gwork = v[1];
    edges = (double)d->global_ne;
  }
  if (!e->prog.gather_edges && e->prog.gather_dir == GASP_DIR_ALL) edges *= 2;
  switch (e->in_ssp ? GASP_DIRECTION_PUSH : e->opts.direction) {
  case GASP_DIRECTION_PUSH: s->pull = 0; break;
  case GASP_DIRECTION_PULL: s->pull = gnf > 0; break;
  default: {
    /* Beamer et al.'s hysteresis: pushing, pull once F's edges pass
     * 1/GASP_PULL_DIVISOR of the graph's; pulling, go on while F holds
     * more than 1/GASP_PUSH_DIVISOR of the vertices or is still growing
     * (a push from a large F of low degree costs a random access per edge,
     * where a pull stops at the first hit). */
    double nv = d ? (double)d->global_nv : (double)e->g->nv;
    if (s->pull)
      s->pull = gnf > 0 && (gnf > nv / GASP_PUSH_DIVISOR || gnf >= s->last_nf);
    else
      s->pull = gnf > 0 && gwork > edges / GASP_PULL_DIVISOR;
    break;
  }
  }
  s->last_nf = gnf;
  if (s->pull && s->fbits) { /* the bitmap the pull's gathers may read */
    memset(s->fbits, 0, ((size_t)e->g->nv + 63) / 64 * sizeof *s->fbits);
    for (uint64_t i = 0; i < nf; i++)
      s->fbits[s->fvec[i] / 64] |= 1ull << (s->fvec[i] % 64);
  }
  return GASP_OK;
}

/* pull_skips_final, after a pull's gathers: the vertices that gathered,
 * in tvec, for the apply and scan. */
static int gather_touched(sync_state *s) {
  gasp_engine *e = s->e;
  uint64_t n = join_lists(s->tlists, gasp__pool_size(e->pool), s->tvec);
  if (n == UINT64_MAX)
    return gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
  s->nt = n;
  s->use_t = 1;
  return GASP_OK;
}

/* Gather, apply and scatter over this superstep's frontier. */
static int run_phases(sync_state *s) {
  gasp_engine *e = s->e;
  uint64_t work = s->dense ? e->g->nv : s->nfront;
  s->pulled = s->pull;
  for (s->phase = 0; s->phase < 3; s->phase++) {
    if (s->phase == 2 && !e->prog.scatter && !e->prog.scatter_vertex) break;
    if (s->phase == 2 && s->pp && !e->gpu_ops) continue; /* scanned in 1 */
    if (s->phase == 0 && s->blocked) { /* every vertex, in two passes */
      int rc = gasp__blocked_gather(e, (double *)(void *)s->acc, s->st);
      if (rc) return rc;
      continue;
    }
    if (s->phase == 1 && e->gpu_ops) { /* a batch per gpu_batch vertices */
      int rc = gasp__gpu_apply(e, s->dense ? NULL : s->frontier,
                               s->dense ? e->g->nv : s->nfront, s->acc, 1);
      if (rc) return rc;
      continue;
    }
    s->r = (gasp__range){0, work, grain(work, s->dense ? 2048 : 256, e)};
    gasp__pool_run(e->pool, phase_worker, s);
    if (s->phase == 0 && s->tlists && s->pull) { /* what gathered */
      int rc = gather_touched(s);
      if (rc) return rc;
      work = s->nt;
    }
  }
  if (!s->pp) return GASP_OK;
  int rc = decide_direction(s);
  if (rc || s->pull || s->nf == 0) return rc;
  s->r = (gasp__range){0, s->nf, grain(s->nf, 256, e)};
  gasp__pool_run(e->pool, push_worker, s);
  return GASP_OK;
}

/* Writes the automatic checkpoint when one is due (opts.checkpoint_*).
 * The state then is what a run that stopped here would leave: the next
 * frontier's flags in e->active, its messages in buffer mcur; when the
 * next superstep pulls, that too (and on one process F's bitmap), which
 * a resumed run takes up (e->resume_pull).  Across ranks the iteration
 * count is common; a period in seconds follows rank 0's clock (an
 * allreduce). */
static int maybe_checkpoint(sync_state *s) {
  gasp_engine *e = s->e;
  if (e->in_ssp) return GASP_OK; /* ssp_checkpoint, after the payload */
  e->ck_pull = s->pp && s->pull;
  e->ck_fbits = e->ck_pull ? s->fbits : NULL;
  int rc = gasp__checkpoint_due(e, e->iteration, e->iteration);
  e->ck_pull = 0;
  e->ck_fbits = NULL;
  return rc;
}

/* After a superstep's phases (and exchange): counts it, makes the next
 * frontier, refreshes due aggregators, calls on_iteration and writes a
 * checkpoint when one is due. */
static int end_superstep(sync_state *s, gasp_run_stats *st, double t0) {
  gasp_engine *e = s->e;
  uint64_t ran = s->use_t ? s->nt : s->nfront;
  s->use_t = 0;
  st->pull_iterations += (uint64_t)s->pulled;
  st->updates += ran;
  e->updates += ran;
  st->iterations++;
  e->iteration++;
  if (e->opts.always_active) {
    for (int t = 0; t < gasp__pool_size(e->pool); t++)
      s->lists[t].n = 0;
    memset(e->next, 0, e->g->nv); /* signals are moot: all stay active */
    rotate_msgs(s, 1);
  } else {
    int rc = next_frontier(s);
    if (rc) return rc;
  }
  int rc = gasp__aggregate_due(e, 0, gasp__now());
  if (rc) return rc;
  if (e->opts.on_iteration) {
    gasp_iter_info info = {e->iteration, ran, st->updates, gasp__now() - t0, 0};
    if (e->opts.on_iteration(e->opts.on_iteration_user, &info))
      __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
  }
  return maybe_checkpoint(s);
}

/* ---- bounded staleness -----------------------------------------------
 *
 * Stale synchronous parallel (Ho et al., NIPS 2013) over the ghost
 * payloads of the barrier: after each superstep t a rank posts its
 * payload, tagged t, to every rank it shares ghosts with, and it may start
 * superstep t only once it has applied every such peer's payloads up to
 * t - S - 1 (S = opts.staleness); payloads that have arrived for steps
 * below t are applied too, newer ones wait, so S = 0 would be the barrier.
 * Remote signals join the superstep during which they are applied.
 *
 * Termination (quiescence): after each superstep a rank tells rank 0
 * whether it still has work -- a vertex active for its next superstep or
 * a signal sent in this one.  Once every rank has reported superstep T and
 * none had work in T-S .. T, nothing can be active anywhere: a payload a
 * rank may not have applied yet is from T-S or later and carries no
 * signal.  Rank 0 then tells every rank to stop (also when a program asked
 * to stop).  Each rank ends with FIN to every peer and waits for theirs,
 * applying what is still queued, so ghosts are coherent afterwards and no
 * message of this run is left for the next.
 *
 * Checkpoints (opts.checkpoint_every) at a consistent cut, in the manner
 * of Chandy and Lamport with the step tags as markers.  A rank takes its
 * part of generation c after its own superstep c - 1 (the ranks pass
 * through it at different times): its state then, and the channel state,
 * which is every peer payload of a superstep below c that it has not
 * applied yet -- those queued now, and those still to come, recorded as
 * they arrive.  A peer's payloads come in order, so the channel from p is
 * recorded once p's payload of superstep c - 1 is in; the staleness bound
 * makes that happen within S + 1 of the rank's own supersteps.  Nothing
 * the rank applied before its cut comes from after a peer's cut (it
 * applies only payloads of earlier supersteps), so the cut is consistent.
 * The file is written in two halves: the state at the cut, then the
 * payloads; when the last is in it is committed and the rank tells rank 0
 * (CKW), which writes the generation's MANIFEST when every rank has and
 * tells them (CKDONE) to prune.  A rank keeps at most one file open: the
 * next cut waits for it.  When the run ends (after FIN, nothing more to
 * come), an open file is committed if its channels are complete, else
 * abandoned (a peer stopped before the cut), and the ranks settle the
 * newest complete generation with a collective.  Resumed, a rank starts at
 * superstep c with the recorded payloads queued; rank 0 counts every rank
 * as active at c - 1 (their reports of it went with the run). */

enum {
  SSP_STEP = GASP__SSP_STEP,
  SSP_STATUS = 2,
  SSP_STOP = 3,
  SSP_FIN = 4,
  SSP_CKW = 5,   /* to rank 0: the rank committed generation `step` */
  SSP_CKDONE = 6 /* from rank 0: generation `step` is complete */
};
#define SSP_HEAD GASP__SSP_HEAD

typedef struct ssp_msg {
  uint8_t *data;
  size_t n;
  uint64_t step;
  struct ssp_msg *next;
} ssp_msg;

typedef struct ssp {
  sync_state *s;
  gasp_dist *d;
  uint64_t t, S;
  uint8_t *nbr, *fin;
  uint64_t *applied, *received;
  ssp_msg **qh, **qt;
  int stop;                        /* GASP_STOP_* + 1, from rank 0 */
  int64_t *reported, *last_active; /* rank 0: per rank */
  int stop_asked, stop_sent, finishing;
  uint8_t *buf;
  size_t cap;
  int rc;
  uint64_t arrivals, seen; /* messages taken; as of an idle wait's start */
  unsigned idle;           /* supersteps in a row with nothing to do */
  /* checkpoints */
  int ck_on;           /* opts.checkpoint_dir with checkpoint_every */
  gasp__ck_file *ck;   /* open: waiting for payloads of steps <= ck_step */
  uint64_t ck_step;
  int64_t ck_newest;   /* the newest generation committed here, or -1 */
  int64_t ck_done;     /* rank 0: the newest with a MANIFEST, or -1 */
  uint64_t *gen_it;    /* rank 0: generations not yet complete */
  int *gen_n;          /* and how many ranks committed each */
  size_t ngen, gencap;
} ssp;

static void put_u64(uint8_t *b, uint64_t x) { memcpy(b, &x, sizeof x); }
static uint64_t get_u64(const uint8_t *b) {
  uint64_t x;
  memcpy(&x, b, sizeof x);
  return x;
}

/* A remote signal applied at the start of a superstep joins it. */
static void activate_now(void *arg, gasp_vid v, const void *msg) {
  sync_state *s = arg;
  if (msg)
    gasp__msg_put(s->e, s->e->mcur, v, msg);
  else
    gasp__msg_plain(s->e, s->e->mcur, v);
  if (s->e->active[v]) return;
  s->e->active[v] = 1;
  if (!s->dense) s->frontier[s->nfront] = v;
  s->nfront++;
}

static int ssp_send(ssp *x, int p, int type, uint64_t step, const uint8_t *tail,
                    size_t n) {
  uint8_t m[SSP_HEAD + 2];
  m[0] = (uint8_t)type;
  put_u64(m + 1, step);
  if (n) memcpy(m + SSP_HEAD, tail, n);
  return gasp__cluster_post(x->d->cluster, p, m, SSP_HEAD + n, &x->s->e->err);
}

static void ssp_status(ssp *x, int r, uint64_t step, int active, int stop) {
  x->reported[r] = (int64_t)step;
  if (active) x->last_active[r] = (int64_t)step;
  if (stop) x->stop_asked = 1;
}

/* Rank 0: stop everyone when a program asked or nothing is left. */
static void ssp_decide(ssp *x) {
  gasp_dist *d = x->d;
  if (d->rank != 0 || x->stop_sent) return;
  int reason = -1;
  if (x->stop_asked) {
    reason = GASP_STOP_PROGRAM;
  } else {
    int64_t T = INT64_MAX;
    for (int r = 0; r < d->size; r++)
      if (x->reported[r] < T) T = x->reported[r];
    int idle = T >= 0;
    for (int r = 0; r < d->size && idle; r++)
      idle = x->last_active[r] < T - (int64_t)x->S;
    if (idle) reason = GASP_STOP_CONVERGED;
  }
  if (reason < 0) return;
  x->stop_sent = 1;
  x->stop = reason + 1;
  uint8_t why = (uint8_t)reason;
  for (int r = 1; r < d->size && !x->rc; r++)
    x->rc = ssp_send(x, r, SSP_STOP, 0, &why, 1);
}

/* Rank 0: one more rank committed generation it; at the last, the
 * MANIFEST, and every rank is told to prune. */
static int ck_count(ssp *x, uint64_t it) {
  gasp_dist *d = x->d;
  size_t i = 0;
  while (i < x->ngen && x->gen_it[i] != it)
    i++;
  if (i == x->ngen) {
    if (x->ngen == x->gencap) {
      size_t nc = x->gencap ? 2 * x->gencap : 4;
      uint64_t *a = gasp__realloc(x->gen_it, nc * sizeof *a);
      if (a) x->gen_it = a;
      int *b = a ? gasp__realloc(x->gen_n, nc * sizeof *b) : NULL;
      if (!b)
        return gasp__fail(&x->s->e->err, GASP_ENOMEM, NULL, 0,
                          "out of memory");
      x->gen_n = b;
      x->gencap = nc;
    }
    x->gen_it[i] = it;
    x->gen_n[i] = 0;
    x->ngen++;
  }
  if (++x->gen_n[i] < d->size) return GASP_OK;
  x->gen_it[i] = x->gen_it[x->ngen - 1]; /* complete: off the list */
  x->gen_n[i] = x->gen_n[x->ngen - 1];
  x->ngen--;
  int rc = gasp__ck_manifest(x->s->e, it);
  if (rc) return rc;
  if ((int64_t)it > x->ck_done) x->ck_done = (int64_t)it;
  if (x->finishing) return GASP_OK; /* the end settles the rest */
  for (int r = 1; r < d->size && !rc; r++)
    rc = ssp_send(x, r, SSP_CKDONE, it, NULL, 0);
  if (!rc) gasp__ck_prune(x->s->e, it);
  return rc;
}

/* Whether the open file's channels are all recorded: every peer sharing
 * ghosts has sent its payload of superstep ck_step. */
static int ck_recorded(const ssp *x) {
  for (int p = 0; p < x->d->size; p++)
    if (x->nbr[p] && x->received[p] <= x->ck_step) return 0;
  return 1;
}

/* Commits the open file once it is whole, and says so to rank 0 (not
 * while finishing: the end settles it). */
static int ck_try_commit(ssp *x) {
  if (!x->ck || !ck_recorded(x)) return GASP_OK;
  gasp_engine *e = x->s->e;
  uint64_t it = gasp__ck_iteration(x->ck);
  int rc = gasp__ck_commit(e, &x->ck);
  if (rc) return rc;
  x->ck_newest = (int64_t)it;
  if (x->finishing) return GASP_OK;
  if (x->d->rank == 0) return ck_count(x, it);
  return ssp_send(x, 0, SSP_CKW, it, NULL, 0);
}

/* Takes what has arrived; step payloads queue until their turn. */
static int ssp_drain(ssp *x) {
  gasp_dist *d = x->d;
  gasp_error *err = &x->s->e->err;
  uint8_t *m;
  size_t n;
  for (int p = 0; p < d->size; p++) {
    if (p == d->rank) continue;
    while (gasp__cluster_take(d->cluster, p, &m, &n)) {
      x->arrivals++;
      int type = n >= SSP_HEAD ? m[0] : 0;
      uint64_t step = n >= SSP_HEAD ? get_u64(m + 1) : 0;
      const char *bad = NULL;
      if (type == SSP_STEP) {
        if (!x->nbr[p] || step != x->received[p])
          bad = "a superstep out of order";
        ssp_msg *q = bad ? NULL : gasp__malloc(sizeof *q);
        if (q) {
          *q = (ssp_msg){m, n, step, NULL};
          m = NULL;
          if (x->qt[p])
            x->qt[p]->next = q;
          else
            x->qh[p] = q;
          x->qt[p] = q;
          x->received[p]++;
          if (x->ck && step <= x->ck_step) {
            int rc = gasp__ck_payload(x->s->e, x->ck, p, q->data, q->n);
            if (rc) return rc;
          }
        } else if (!bad) {
          free(m);
          return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
        }
      } else if (type == SSP_STATUS && d->rank == 0 && n == SSP_HEAD + 2) {
        ssp_status(x, p, step, m[SSP_HEAD], m[SSP_HEAD + 1]);
      } else if (type == SSP_STOP && p == 0 && n == SSP_HEAD + 1 &&
                 m[SSP_HEAD] <= GASP_STOP_PROGRAM) {
        x->stop = m[SSP_HEAD] + 1;
      } else if (type == SSP_FIN && n == SSP_HEAD) {
        x->fin[p] = 1;
      } else if (type == SSP_CKW && d->rank == 0 && n == SSP_HEAD &&
                 x->ck_on) {
        int rc = ck_count(x, step);
        if (rc) {
          free(m);
          return rc;
        }
      } else if (type == SSP_CKDONE && p == 0 && n == SSP_HEAD && x->ck_on) {
        gasp__ck_prune(x->s->e, step);
      } else {
        bad = "a message this engine does not know";
      }
      free(m);
      if (bad)
        return gasp__fail(err, GASP_EPEER, NULL, 0, "rank %d: peer %d sent %s",
                          d->rank, p, bad);
    }
  }
  ssp_decide(x);
  if (!x->rc && x->ck && !x->finishing) x->rc = ck_try_commit(x);
  return x->rc;
}

/* Applies the queued payloads of supersteps before t (all when
 * finishing). */
static int ssp_apply(ssp *x) {
  gasp_dist *d = x->d;
  for (int p = 0; p < d->size; p++) {
    ssp_msg *q;
    while ((q = x->qh[p]) && (x->finishing || q->step < x->t)) {
      int rc =
          gasp__ghost_unpack(x->s->e, p, q->data + SSP_HEAD, q->n - SSP_HEAD,
                             activate_now, x->s, NULL, &x->s->e->err);
      x->qh[p] = q->next;
      if (!x->qh[p]) x->qt[p] = NULL;
      free(q->data);
      free(q);
      if (rc) return rc;
      x->applied[p]++;
    }
  }
  return GASP_OK;
}

static int ssp_ready(void *arg) {
  ssp *x = arg;
  if ((x->rc = ssp_drain(x)) || (x->rc = ssp_apply(x))) return 1;
  gasp_dist *d = x->d;
  if (x->finishing) {
    for (int p = 0; p < d->size; p++)
      if (p != d->rank && !x->fin[p]) return 0;
    return 1;
  }
  if (x->stop) return 1;
  for (int p = 0; p < d->size; p++)
    if (x->nbr[p] && !x->fin[p] && x->applied[p] + x->S < x->t) return 0;
  return 1;
}

static int ssp_idle_ready(void *arg) {
  ssp *x = arg;
  if ((x->rc = ssp_drain(x)) || (x->rc = ssp_apply(x))) return 1;
  return x->stop || x->s->nfront > 0 || x->arrivals != x->seen;
}

/* A rank with nothing active still steps (its empty supersteps are what
 * lets rank 0 see quiescence), but not as fast as it can: it first waits
 * for a message, 50 us doubling up to 12.8 ms while it stays idle, so an
 * idle rank neither floods rank 0 with reports nor takes the CPU from the
 * ranks with work. */
static int ssp_idle(ssp *x) {
  sync_state *s = x->s;
  if (s->e->opts.always_active || s->nfront > 0) {
    x->idle = 0;
    return GASP_OK;
  }
  double wait = 50e-6 * (double)(1u << (x->idle < 8 ? x->idle : 8));
  x->idle++;
  x->seen = x->arrivals;
  int rc =
      gasp__cluster_idle(x->d->cluster, ssp_idle_ready, x, wait, &s->e->err);
  return rc ? rc : x->rc;
}

static int ssp_wait(ssp *x, const char *what) {
  gasp__cluster_poll(x->d->cluster);
  if (ssp_ready(x)) return x->rc;
  int rc = gasp__cluster_wait(x->d->cluster, ssp_ready, x, what, &x->s->e->err);
  return rc ? rc : x->rc;
}

/* Posts superstep t's payload to every peer sharing ghosts; returns
 * whether it carried a signal. */
static int ssp_post_step(ssp *x, int *signalled) {
  sync_state *s = x->s;
  gasp_engine *e = s->e;
  gasp_dist *d = x->d;
  *signalled = 0;
  for (gasp_vid v = e->g->nowned; v < e->g->nv && !*signalled; v++)
    *signalled = e->next[v];
  for (int p = 0; p < d->size; p++) {
    if (!x->nbr[p]) continue;
    size_t n = SSP_HEAD + gasp__ghost_size(e, p, 0, e->active);
    if (n > x->cap) {
      uint8_t *nb = gasp__realloc(x->buf, n);
      if (!nb)
        return gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
      x->buf = nb;
      x->cap = n;
    }
    x->buf[0] = SSP_STEP;
    put_u64(x->buf + 1, x->t);
    n = SSP_HEAD +
        gasp__ghost_pack(e, p, 0, e->active, e->next, x->buf + SSP_HEAD);
    d->bytes_sent_steps += n;
    int rc = gasp__cluster_post(d->cluster, p, x->buf, n, &e->err);
    if (rc) return rc;
  }
  return GASP_OK;
}

static int ck_wait_ready(void *arg) {
  ssp *x = arg;
  if ((x->rc = ssp_drain(x))) return 1;
  return !x->ck || x->stop;
}

/* After superstep x->t (counted in e->iteration): this rank's part of a
 * generation when one is due (see above). */
static int ssp_checkpoint(ssp *x) {
  sync_state *s = x->s;
  gasp_engine *e = s->e;
  gasp_dist *d = x->d;
  if (!x->ck_on) return GASP_OK;
  int due;
  int rc = gasp__checkpoint_is_due(e, e->iteration, &due);
  if (rc || !due) return rc;
  if (x->ck) { /* the one before first */
    gasp__cluster_poll(d->cluster);
    if (!ck_wait_ready(x))
      rc = gasp__cluster_wait(d->cluster, ck_wait_ready, x,
                              "peers' payloads for a checkpoint", &e->err);
    if (rc || (rc = x->rc)) return rc;
    if (x->ck) return GASP_OK; /* stopping: passed over */
  }
  gasp__ssp_cut cut = {x->t + 1, d->size, x->applied, NULL, NULL, 0};
  cut.upto = gasp__malloc((size_t)d->size * sizeof *cut.upto);
  if (!cut.upto)
    return gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
  for (int p = 0; p < d->size; p++)
    cut.upto[p] = x->nbr[p] ? x->t + 1 : 0;
  e->ck_pull = s->pp && s->pull;
  rc = gasp__ck_open(e, &cut, &x->ck);
  e->ck_pull = 0;
  free(cut.upto);
  if (rc) return rc;
  x->ck_step = x->t;
  for (int p = 0; p < d->size && !rc; p++) /* in flight and queued */
    for (ssp_msg *q = x->qh[p]; q && q->step <= x->t && !rc; q = q->next)
      rc = gasp__ck_payload(e, x->ck, p, q->data, q->n);
  if (rc) return rc;
  e->ck_last = gasp__now();
  e->ck_last_iter = e->iteration;
  return ck_try_commit(x);
}

/* The end of a run with checkpoints, every peer's FIN in: the open file
 * committed if its channels are whole, else abandoned; the newest
 * generation every rank committed gets its MANIFEST (if it has none yet)
 * and the generations before the one before it go. */
static int ck_settle(ssp *x) {
  gasp_engine *e = x->s->e;
  int rc = GASP_OK;
  if (x->ck && ck_recorded(x))
    rc = ck_try_commit(x);
  else
    gasp__ck_abandon(&x->ck);
  double v = rc ? -2 : (double)x->ck_newest;
  int arc = gasp_engine_allreduce(e, &v, 1, GASP_REDUCE_MIN);
  if (rc || (rc = arc)) return rc;
  if (v < -1.5)
    return gasp__fail(&e->err, GASP_EIO, NULL, 0,
                      "checkpoint: another rank failed to write its file");
  if (v < 0) return GASP_OK;
  uint64_t it = (uint64_t)v;
  if (x->d->rank == 0 && (int64_t)it > x->ck_done)
    rc = gasp__ck_manifest(e, it);
  double f = rc ? 1 : 0;
  arc = gasp_engine_allreduce(e, &f, 1, GASP_REDUCE_MAX);
  if (rc || (rc = arc)) return rc;
  if (f > 0)
    return gasp__fail(&e->err, GASP_EIO, NULL, 0,
                      "checkpoint: rank 0 failed to write the manifest");
  gasp__ck_prune(e, it);
  return GASP_OK;
}

static int ssp_steps(ssp *x, gasp_run_stats *st, double t0) {
  sync_state *s = x->s;
  gasp_engine *e = s->e;
  gasp_dist *d = x->d;
  for (;;) {
    int rc = ssp_wait(x, "peers within the staleness bound");
    if (!rc) rc = ssp_idle(x);
    if (rc) return rc;
    if (x->stop) {
      st->reason = (gasp_stop_reason)(x->stop - 1);
      return GASP_OK;
    }
    if (e->opts.max_iter && st->iterations >= e->opts.max_iter) {
      st->reason = GASP_STOP_MAX_ITER;
      return GASP_OK;
    }
    if ((rc = run_phases(s))) return rc;
    int signalled;
    if ((rc = ssp_post_step(x, &signalled))) return rc;
    if (s->fflag) /* the payload shipped every updated vertex */
      for (uint64_t i = 0; i < s->nf; i++)
        s->fflag[s->fvec[i]] = 0;
    drop_ghost_signals(s);
    if ((rc = end_superstep(s, st, t0))) return rc;
    int active = e->opts.always_active || s->nfront > 0 || signalled;
    int stop = __atomic_load_n(&e->stop, __ATOMIC_RELAXED);
    if (d->rank == 0) {
      ssp_status(x, 0, x->t, active, stop);
      ssp_decide(x);
      if (x->rc) return x->rc;
    } else {
      uint8_t b[2] = {(uint8_t)active, (uint8_t)stop};
      if ((rc = ssp_send(x, 0, SSP_STATUS, x->t, b, 2))) return rc;
    }
    if ((rc = ssp_checkpoint(x))) return rc;
    x->t++;
  }
}

/* A resumed cut: the payloads that were in flight queue as if just
 * received (e->resume_ssp, checked against this rank's peers). */
static int ssp_restore(ssp *x) {
  gasp_engine *e = x->s->e;
  gasp__ssp_cut *c = e->resume_ssp;
  if (!c) return GASP_OK;
  int ok = c->nranks == x->d->size && c->t_next == x->t;
  for (int p = 0; p < x->d->size && ok; p++)
    ok = x->nbr[p] ? c->upto[p] == x->t : c->upto[p] == 0;
  if (!ok)
    return gasp__fail(&e->err, GASP_EINVAL, NULL, 0,
                      "checkpoint: its payloads in flight are for other "
                      "peers or supersteps than this run's");
  for (int p = 0; p < x->d->size; p++)
    if (x->nbr[p]) {
      x->applied[p] = c->applied[p];
      x->received[p] = c->upto[p];
    }
  for (size_t i = 0; i < c->nmsgs; i++) {
    gasp__ssp_msg *m = &c->msgs[i];
    ssp_msg *q = gasp__malloc(sizeof *q);
    if (!q) return gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
    *q = (ssp_msg){m->data, m->n, get_u64(m->data + 1), NULL};
    m->data = NULL;
    int p = m->peer;
    if (x->qt[p])
      x->qt[p]->next = q;
    else
      x->qh[p] = q;
    x->qt[p] = q;
  }
  gasp__ssp_cut_free(&e->resume_ssp);
  return GASP_OK;
}

static int ssp_loop(sync_state *s, gasp_run_stats *st, double t0) {
  gasp_engine *e = s->e;
  gasp_dist *d = e->opts.dist;
  const int P = d->size;
  ssp x;
  memset(&x, 0, sizeof x);
  x.s = s;
  x.d = d;
  x.S = e->opts.staleness;
  x.nbr = gasp__calloc((size_t)P, 1);
  x.fin = gasp__calloc((size_t)P, 1);
  x.applied = gasp__calloc((size_t)P, sizeof *x.applied);
  x.received = gasp__calloc((size_t)P, sizeof *x.received);
  x.qh = gasp__calloc((size_t)P, sizeof *x.qh);
  x.qt = gasp__calloc((size_t)P, sizeof *x.qt);
  x.reported = gasp__malloc((size_t)P * sizeof *x.reported);
  x.last_active = gasp__malloc((size_t)P * sizeof *x.last_active);
  int rc = GASP_ENOMEM;
  if (!x.nbr || !x.fin || !x.applied || !x.received || !x.qh || !x.qt ||
      !x.reported || !x.last_active) {
    gasp__fail(&e->err, rc, NULL, 0, "out of memory");
    goto out;
  }
  /* the superstep this run goes on from (a resumed run's, else 0) */
  uint64_t start = e->iteration - e->run_iter0;
  x.t = start;
  x.ck_on = e->opts.checkpoint_dir && e->opts.checkpoint_every;
  x.ck_newest = x.ck_done = -1;
  for (int p = 0; p < P; p++) {
    x.nbr[p] = p != d->rank && (d->nsend[p] || d->nrecv[p]);
    x.reported[p] = -1;
    x.last_active[p] = (int64_t)start - 1;
    if (x.nbr[p]) x.received[p] = x.applied[p] = start;
  }
  if ((rc = ssp_restore(&x))) goto out;
  e->in_ssp = 1;
  rc = ssp_steps(&x, st, t0);
  e->in_ssp = 0;
  if (rc) goto out;
  for (int p = 0; p < P && !rc; p++)
    if (p != d->rank) rc = ssp_send(&x, p, SSP_FIN, x.t, NULL, 0);
  x.finishing = 1;
  if (!rc) rc = ssp_wait(&x, "peers to finish");
  if (!rc && x.ck_on) rc = ck_settle(&x);
out:
  e->in_ssp = 0;
  gasp__ck_abandon(&x.ck);
  gasp__ssp_cut_free(&e->resume_ssp);
  free(x.gen_it);
  free(x.gen_n);
  for (int p = 0; x.qh && p < P; p++)
    for (ssp_msg *q = x.qh[p], *n; q; q = n) {
      n = q->next;
      free(q->data);
      free(q);
    }
  free(x.nbr);
  free(x.fin);
  free(x.applied);
  free(x.received);
  free(x.qh);
  free(x.qt);
  free(x.reported);
  free(x.last_active);
  free(x.buf);
  return rc;
}

static int sync_loop(sync_state *s, gasp_run_stats *st) {
  gasp_engine *e = s->e;
  double t0 = gasp__now();
  gasp_dist *d = e->opts.dist;
  uint64_t global_front = s->nfront;
  int global_stop = 0;
  if (d) { /* ghosts start from their owners' data */
    int rc = dist_barrier(s, 1, &e->err);
    /* a resumed cut's payloads in flight are work too */
    uint64_t inflight = e->resume_ssp ? e->resume_ssp->nmsgs : 0;
    if (!rc) rc = dist_global(s, inflight, &global_front, &global_stop);
    if (rc) return rc;
    if (e->opts.staleness && d->size > 1 && global_front && !global_stop) {
      rc = ssp_loop(s, st, t0);
      if (rc) return rc;
      goto done;
    }
  }
  for (int first = 1;; first = 0) {
    if (global_front == 0) {
      st->reason = GASP_STOP_CONVERGED;
      break;
    }
    if (d ? global_stop && !first
          : __atomic_load_n(&e->stop, __ATOMIC_RELAXED)) {
      st->reason = GASP_STOP_PROGRAM;
      break;
    }
    if (e->opts.max_iter && st->iterations >= e->opts.max_iter) {
      st->reason = GASP_STOP_MAX_ITER;
      break;
    }
    int rc = run_phases(s);
    if (!rc && d) rc = dist_barrier(s, 0, &e->err);
    if (rc) return rc;
    if ((rc = end_superstep(s, st, t0))) return rc;
    global_front = s->nfront;
    if (d) {
      global_stop = __atomic_load_n(&e->stop, __ATOMIC_RELAXED);
      if ((rc = dist_global(s, 0, &global_front, &global_stop))) return rc;
    }
  }
done:
  gasp__ssp_cut_free(&e->resume_ssp); /* nothing was in flight anywhere */
  e->nsignalled = s->nfront;
  /* Pending vertices stay flagged in e->active for a later run. */
  if (!s->dense)
    for (uint64_t i = 0; i < s->nfront; i++)
      e->active[s->frontier[i]] = 1;
  return GASP_OK;
}

/* Zeroed per-thread slots on cache lines of their own. */
static void *calloc_lines(size_t n, size_t size) {
  size_t bytes = (n * size + 63) & ~(size_t)63;
  void *p = gasp__aligned_alloc(64, bytes ? bytes : 64);
  if (p) memset(p, 0, bytes);
  return p;
}

int gasp__sync_run(gasp_engine *e, gasp_run_stats *st) {
  uint64_t nv = e->g->nv;
  int T = gasp__pool_size(e->pool);
  sync_state s;
  memset(&s, 0, sizeof s);
  s.e = e;
  s.acc =
      gasp__malloc_array(nv ? nv : 1, e->prog.acc_size ? e->prog.acc_size : 1);
  s.lists = calloc_lines((size_t)T, sizeof *s.lists);
  s.frontier = gasp__malloc_array(nv ? nv : 1, sizeof *s.frontier);
  int rc = GASP_ENOMEM;
  if (!s.acc || !s.lists || !s.frontier) goto out;
  s.pp = e->prog.push_pull;
  if (s.pp) {
    s.flists = calloc_lines((size_t)T, sizeof *s.flists);
    s.fc = calloc_lines((size_t)T, sizeof *s.fc);
    s.fvec = gasp__malloc_array(nv ? nv : 1, sizeof *s.fvec);
    if (e->opts.dist)
      s.fflag = gasp__calloc(nv ? nv : 1, 1);
    else
      s.fbits = gasp__calloc((nv + 63) / 64 + 1, sizeof *s.fbits);
    if (!s.flists || !s.fc || !s.fvec || (e->opts.dist ? !s.fflag : !s.fbits))
      goto out;
    if (e->prog.pull_skips_final && !e->gpu_ops) {
      s.tlists = calloc_lines((size_t)T, sizeof *s.tlists);
      s.tvec = gasp__malloc_array(nv ? nv : 1, sizeof *s.tvec);
      s.acc0_stride = (2 * e->prog.acc_size + 63) & ~(size_t)63;
      s.acc0 = gasp__malloc_array((size_t)T, s.acc0_stride);
      e->halted = gasp__calloc_array(nv ? nv : 1, 1);
      if (!s.tlists || !s.tvec || !s.acc0 || !e->halted) goto out;
      if (e->prog.pull_block && s.fbits) {
        s.blk_stride =
            (BLOCK * (sizeof(gasp_vid) + sizeof(uint32_t) + e->prog.acc_size) +
             63) &
            ~(size_t)63;
        if (!(s.blk = calloc_lines((size_t)T, s.blk_stride))) goto out;
      }
    }
  }
  memset(e->next, 0, nv);
  if (e->prog.msg_size) memset(e->mflag[1 - e->mcur], 0, nv);
  e->mout = 1 - e->mcur;
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
  if (e->opts.dist) { /* only owned vertices update */
    gasp_vid no = e->g->nowned;
    uint64_t k = 0;
    for (uint64_t i = 0; i < s.nfront; i++)
      if (s.dense ? e->active[i] && i < no : s.frontier[i] < no) k++;
    if (!s.dense) {
      uint64_t j = 0;
      for (uint64_t i = 0; i < s.nfront; i++)
        if (s.frontier[i] < no) s.frontier[j++] = s.frontier[i];
    }
    for (gasp_vid v = no; v < e->g->nv; v++)
      e->active[v] = 0;
    if (s.dense && !e->opts.always_active) {
      k = 0;
      for (gasp_vid v = 0; v < no; v++)
        k += e->active[v];
    } else if (e->opts.always_active) {
      k = no;
    }
    s.nfront = k;
  }
  if (e->resume_pull) { /* resumed where the next superstep pulls */
    s.pull = s.pp;
    if (s.fbits && e->resume_fbits)
      memcpy(s.fbits, e->resume_fbits,
             ((size_t)nv + 63) / 64 * sizeof *s.fbits);
    e->resume_pull = 0;
    free(e->resume_fbits);
    e->resume_fbits = NULL;
  }
  s.st = st;
  s.blocked = gasp__blocked_pays(e);
  rc = sync_loop(&s, st);
out:
  if (s.lists)
    for (int t = 0; t < T; t++)
      free(s.lists[t].v);
  free(s.lists);
  if (s.flists)
    for (int t = 0; t < T; t++)
      free(s.flists[t].v);
  free(s.flists);
  if (s.tlists)
    for (int t = 0; t < T; t++)
      free(s.tlists[t].v);
  free(s.tlists);
  free(s.tvec);
  free(s.acc0);
  free(s.blk);
  free(e->halted);
  e->halted = NULL;
  free(s.fc);
  free(s.fvec);
  free(s.fflag);
  free(s.fbits);
  free(s.acc);
  free(s.frontier);
  return rc;
}
