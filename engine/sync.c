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
#include "dist_internal.h"
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

/* ---- distributed barrier ---------------------------------------------
 *
 * To each peer p, one payload: a bitmap over send[p] (the owned vertices p
 * holds as ghosts) marking those updated in this superstep, their vertex
 * data in list order, then a bitmap over recv[p] (the ghosts p owns)
 * marking those signalled here.  From p, the same with the lists'
 * roles swapped.  `all` sends every value (the first barrier of a run, so
 * ghosts start from their owners' data).  The sizes are checked exactly:
 * a payload that does not match the agreed lists is the peer's error. */

static size_t bm_bytes(uint64_t n) { return (size_t)((n + 7) / 8); }

static int dist_barrier(sync_state *s, int all, gasp_error *err) {
  gasp_engine *e = s->e;
  gasp_dist *d = e->opts.dist;
  gasp_graph *g = e->g;
  const int P = d->size;
  const size_t vd_size = e->prog.vertex_size;
  size_t vs = vd_size; /* bytes per vertex on the wire */
  for (int m = 0; m < e->nmirror; m++) vs += e->mirror[m].size;
  const uint8_t *vd = g->vdata;
  if (P == 1) return GASP_OK; /* no peers, no ghosts */
  size_t total = 0;
  size_t *off = calloc((size_t)P + 1, sizeof *off);
  const void **send = calloc((size_t)P, sizeof *send);
  size_t *len = calloc((size_t)P, sizeof *len);
  const void **recv = calloc((size_t)P, sizeof *recv);
  size_t *rlen = calloc((size_t)P, sizeof *rlen);
  int rc = GASP_ENOMEM;
  if (!off || !send || !len || !recv || !rlen) goto out;
  for (int p = 0; p < P; p++) {
    uint64_t changed = 0;
    for (uint64_t k = 0; k < d->nsend[p]; k++) changed += all || e->active[d->send[p][k]];
    off[p] = total;
    total += bm_bytes(d->nsend[p]) + changed * vs + bm_bytes(d->nrecv[p]);
  }
  if (total > d->buf_cap || !d->buf) { /* at least a byte: no ghosts at all */
    uint8_t *nb = realloc(d->buf, total ? total : 1);
    if (!nb) goto out;
    d->buf = nb;
    d->buf_cap = total ? total : 1;
  }
  memset(d->buf, 0, total);
  for (int p = 0; p < P; p++) {
    uint8_t *b = d->buf + off[p], *vals = b + bm_bytes(d->nsend[p]);
    for (uint64_t k = 0; k < d->nsend[p]; k++) {
      gasp_vid v = d->send[p][k];
      if (!(all || e->active[v])) continue;
      b[k / 8] |= (uint8_t)(1u << (k % 8));
      if (vd_size) memcpy(vals, vd + (size_t)v * vd_size, vd_size);
      vals += vd_size;
      for (int m = 0; m < e->nmirror; m++) {
        size_t ms = e->mirror[m].size;
        memcpy(vals, (const uint8_t *)e->mirror[m].base + (size_t)v * ms, ms);
        vals += ms;
      }
    }
    for (uint64_t k = 0; k < d->nrecv[p]; k++)
      if (e->next[d->recv[p][k]]) vals[k / 8] |= (uint8_t)(1u << (k % 8));
    send[p] = b;
    len[p] = (size_t)(vals + bm_bytes(d->nrecv[p]) - b);
    d->bytes_sent_steps += len[p];
  }
  if ((rc = gasp_cluster_exchange(d->cluster, send, len, recv, rlen, err))) goto out;
  /* ghosts' signals went to their owners: drop them here */
  for (gasp_vid v = g->nowned; v < g->nv; v++) e->next[v] = 0;
  int T = gasp__pool_size(e->pool);
  for (int t = 0; t < T; t++) {
    vlist *l = &s->lists[t];
    uint64_t k = 0;
    for (uint64_t i = 0; i < l->n; i++)
      if (l->v[i] < g->nowned) l->v[k++] = l->v[i];
    l->n = k;
  }
  for (int p = 0; p < P; p++) {
    if (p == d->rank) continue;
    const uint8_t *b = recv[p];
    uint64_t nr = d->nrecv[p], ns = d->nsend[p], changed = 0;
    if (rlen[p] < bm_bytes(nr) + bm_bytes(ns)) goto bad;
    for (uint64_t k = 0; k < nr; k++) changed += (b[k / 8] >> (k % 8)) & 1;
    if (rlen[p] != bm_bytes(nr) + changed * vs + bm_bytes(ns)) goto bad;
    const uint8_t *vals = b + bm_bytes(nr);
    for (uint64_t k = 0; k < nr; k++)
      if ((b[k / 8] >> (k % 8)) & 1) {
        gasp_vid v = d->recv[p][k];
        if (vd_size) memcpy((uint8_t *)g->vdata + (size_t)v * vd_size, vals, vd_size);
        vals += vd_size;
        for (int m = 0; m < e->nmirror; m++) {
          size_t ms = e->mirror[m].size;
          memcpy((uint8_t *)e->mirror[m].base + (size_t)v * ms, vals, ms);
          vals += ms;
        }
      }
    for (uint64_t k = 0; k < ns; k++) /* remote signals for owned vertices */
      if ((vals[k / 8] >> (k % 8)) & 1) {
        gasp_vid v = d->send[p][k];
        if (!e->next[v]) {
          e->next[v] = 1;
          list_push(&s->lists[0], v);
        }
      }
    continue;
  bad:
    rc = gasp__fail(err, GASP_EPEER, NULL, 0,
                    "rank %d: peer %d sent a ghost update of %zu bytes that "
                    "does not match the agreed vertex lists",
                    d->rank, p, rlen[p]);
    goto out;
  }
  rc = GASP_OK;
out:
  if (rc == GASP_ENOMEM && err && !err->msg[0])
    gasp__fail(err, rc, NULL, 0, "out of memory");
  free(off);
  free(send);
  free(len);
  free(recv);
  free(rlen);
  return rc;
}

/* Global view at the barrier: the active vertices of the next superstep
 * and whether any rank asked to stop. */
static int dist_global(sync_state *s, uint64_t *active, int *stop) {
  gasp_engine *e = s->e;
  double v[2] = {(double)s->nfront, (double)*stop};
  int rc = gasp_cluster_allreduce(e->opts.dist->cluster, v, 2, GASP_REDUCE_SUM, &e->err);
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

static int sync_loop(sync_state *s, gasp_run_stats *st) {
  gasp_engine *e = s->e;
  double t0 = gasp__now();
  uint64_t nv = e->g->nv;
  gasp_dist *d = e->opts.dist;
  uint64_t global_front = s->nfront;
  int global_stop = 0;
  if (d) { /* ghosts start from their owners' data */
    int rc = dist_barrier(s, 1, &e->err);
    if (!rc) rc = dist_global(s, &global_front, &global_stop);
    if (rc) return rc;
  }
  for (int first = 1;; first = 0) {
    if (global_front == 0) {
      st->reason = GASP_STOP_CONVERGED;
      break;
    }
    if (d ? global_stop && !first : __atomic_load_n(&e->stop, __ATOMIC_RELAXED)) {
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
    int rc = d ? dist_barrier(s, 0, &e->err) : GASP_OK;
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
    global_front = s->nfront;
    gasp__aggregate_due(e, 0, gasp__now());
    if (e->opts.on_iteration) {
      gasp_iter_info info = {e->iteration, ran, st->updates, gasp__now() - t0};
      if (e->opts.on_iteration(e->opts.on_iteration_user, &info))
        __atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
    }
    if (d) {
      global_stop = __atomic_load_n(&e->stop, __ATOMIC_RELAXED);
      if ((rc = dist_global(s, &global_front, &global_stop))) return rc;
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
    for (gasp_vid v = no; v < e->g->nv; v++) e->active[v] = 0;
    if (s.dense && !e->opts.always_active) {
      k = 0;
      for (gasp_vid v = 0; v < no; v++) k += e->active[v];
    } else if (e->opts.always_active) {
      k = no;
    }
    s.nfront = k;
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
