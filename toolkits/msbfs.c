/*
 * msbfs.c -- multi-source breadth-first search through the engine, bit
 * parallel (Then, Kaufmann, Chirigati, Hoang-Vu, Pham, Kemper, Neumann,
 * Vo, "The more the merrier: efficient multi-source graph traversal",
 * VLDB 2014): up to 64 W sources share one search, a bit each in W 64-bit
 * words, so every edge is read once per batch instead of once per source.
 *
 * A vertex holds `seen` (the sources that have reached it) and `fresh`
 * (those that reached it in its last update, stamped with that
 * superstep).  Sources start with their own bit as a message.  Pushing,
 * a vertex with fresh bits sends its out-neighbours the ones they have
 * not seen, as messages combined by OR; pulling, a vertex with sources
 * still unseen ORs the fresh words of the in-neighbours stamped in the
 * superstep before.  Either way a vertex receives, in superstep t, the
 * sources at distance exactly t, so the engine's push_pull choice (and
 * threads and ranks) changes nothing in the result.
 */
#include "msbfs.h"
#include "lib_fail.h"

#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 8 /* 512 sources a batch */

typedef struct ms {
  gasp__msbfs *m;
  gasp_dist *dist;
  int W;           /* words per source set */
  size_t rec;      /* words per vertex record: seen, fresh */
  uint32_t *stamp; /* per local vertex: 1 + the superstep of its last fresh
                      sources, mirrored to ghosts */
  uint64_t base;   /* engine supersteps before this batch's run */
  uint64_t mask[MAX_WORDS]; /* this batch's sources */
  int threads;
  uint64_t *count; /* per thread, a cache line each: bits set this step */
  uint32_t *last;  /* per thread, 64 W: the last distance a bit was set */
  uint64_t *hist;  /* pairs at each distance, this rank */
  uint64_t levels, cap;
  int oom;
  int (*user_iter)(void *, const gasp_iter_info *);
  void *user_iter_user;
} ms;

#define LINE 8 /* uint64_t per cache line */

static const uint64_t *rec_of(const gasp_nbrs *nb, gasp_vid u) {
  return (const uint64_t *)((const char *)nb->vertex_data +
                            (size_t)u * nb->vertex_size);
}

#define OR_FN(W)                                                               \
  static void or_##W(void *a, const void *b) {                                 \
    uint64_t *x = a;                                                           \
    const uint64_t *y = b;                                                     \
    for (int i = 0; i < W; i++)                                                \
      x[i] |= y[i];                                                            \
  }
OR_FN(1)
OR_FN(2)
OR_FN(4)
OR_FN(8)
#undef OR_FN

static gasp_dir ms_gather_dir(const gasp_ctx *ctx, const void *vd) {
  const ms *p = gasp_ctx_user(ctx);
  const uint64_t *seen = vd;
  for (int w = 0; w < p->W; w++)
    if ((seen[w] & p->mask[w]) != p->mask[w])
      return p->m->undirected ? GASP_DIR_ALL : GASP_DIR_IN;
  return GASP_DIR_NONE;
}

/* ORs the fresh words of the neighbours stamped `stamp` into acc; stops
 * once acc and seen cover the batch. */
static int or_fresh(const ms *p, const gasp_nbrs *nb, const gasp_vid *nbr,
                    uint64_t n, uint32_t stamp, const uint64_t *seen,
                    uint64_t *acc) {
  int W = p->W;
  for (uint64_t i = 0; i < n; i++) {
    if (p->stamp[nbr[i]] != stamp) continue;
    const uint64_t *r = rec_of(nb, nbr[i]);
    int full = 1;
    for (int w = 0; w < W; w++) {
      acc[w] |= r[W + w];
      full &= ((acc[w] | seen[w]) & p->mask[w]) == p->mask[w];
    }
    if (full) return 1;
  }
  return 0;
}

static void ms_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb,
                      void *acc) {
  const ms *p = gasp_ctx_user(ctx);
  /* neighbours updated in the superstep before carry stamp t */
  uint32_t stamp = (uint32_t)gasp_ctx_iteration(ctx);
  if (!or_fresh(p, nb, nb->in, nb->n_in, stamp, vd, acc))
    or_fresh(p, nb, nb->out, nb->n_out, stamp, vd, acc);
}

static void ms_apply(gasp_ctx *ctx, void *vd, const void *accp) {
  ms *p = gasp_ctx_user(ctx);
  gasp__msbfs *m = p->m;
  uint64_t *seen = vd, *fresh = seen + p->W;
  const uint64_t *acc = accp;
  uint64_t it = gasp_ctx_iteration(ctx), d = it - p->base, pop = 0;
  uint64_t nw[MAX_WORDS];
  for (int w = 0; w < p->W; w++) {
    nw[w] = acc[w] & ~seen[w] & p->mask[w];
    pop += (uint64_t)__builtin_popcountll(nw[w]);
  }
  if (!pop) return;
  for (int w = 0; w < p->W; w++) {
    seen[w] |= nw[w];
    fresh[w] = nw[w];
  }
  gasp_vid v = gasp_ctx_vertex(ctx);
  p->stamp[v] = (uint32_t)it + 1;
  int tid = gasp_ctx_thread(ctx);
  if (d > 0) {
    if (m->reach) m->reach[v] += pop;
    if (m->dsum) m->dsum[v] += d * pop;
    if (m->hsum) m->hsum[v] += (double)pop / (double)d;
  }
  p->count[(size_t)tid * LINE] += pop;
  if (p->last) {
    uint32_t *l = p->last + (size_t)tid * 64 * (size_t)p->W;
    for (int w = 0; w < p->W; w++)
      for (uint64_t x = nw[w]; x; x &= x - 1)
        l[w * 64 + __builtin_ctzll(x)] = (uint32_t)d;
  }
}

static gasp_dir ms_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  const ms *p = gasp_ctx_user(ctx);
  (void)vd;
  if (p->stamp[gasp_ctx_vertex(ctx)] != (uint32_t)gasp_ctx_iteration(ctx) + 1)
    return GASP_DIR_NONE;
  return p->m->undirected ? GASP_DIR_ALL : GASP_DIR_OUT;
}

/* Sends each neighbour the fresh sources it has not seen (a ghost's copy
 * may lag, which only sends more). */
static void send_fresh(gasp_ctx *ctx, const ms *p, const gasp_nbrs *nb,
                       const gasp_vid *nbr, uint64_t n, const uint64_t *fresh) {
  uint64_t out[MAX_WORDS];
  for (uint64_t i = 0; i < n; i++) {
    const uint64_t *r = rec_of(nb, nbr[i]);
    uint64_t any = 0;
    for (int w = 0; w < p->W; w++) {
      out[w] = fresh[w] & ~r[w];
      any |= out[w];
    }
    if (any) gasp_signal_msg(ctx, nbr[i], out);
  }
}

static void ms_scatter(gasp_ctx *ctx, const void *vd, const gasp_nbrs *nb) {
  const ms *p = gasp_ctx_user(ctx);
  const uint64_t *fresh = (const uint64_t *)vd + p->W;
  send_fresh(ctx, p, nb, nb->out, nb->n_out, fresh);
  send_fresh(ctx, p, nb, nb->in, nb->n_in, fresh);
}

/* After every superstep: the (source, vertex) pairs found in it, which
 * the caller's callback sees as the residual. */
static int ms_on_iteration(void *user, const gasp_iter_info *info) {
  ms *p = user;
  uint64_t n = 0, d = info->iteration - 1 - p->base;
  for (int t = 0; t < p->threads; t++) {
    n += p->count[(size_t)t * LINE];
    p->count[(size_t)t * LINE] = 0;
  }
  if (p->m->pairs) {
    if (d >= p->cap) {
      uint64_t cap = p->cap ? 2 * p->cap : 64;
      while (cap <= d)
        cap *= 2;
      uint64_t *h = gasp__realloc(p->hist, cap * sizeof *h);
      if (!h) {
        p->oom = 1;
        return 1;
      }
      memset(h + p->cap, 0, (cap - p->cap) * sizeof *h);
      p->hist = h;
      p->cap = cap;
    }
    p->hist[d] += n;
    if (n && d + 1 > p->levels) p->levels = d + 1;
  }
  gasp_iter_info in = *info;
  in.residual = (double)n;
  return p->user_iter ? p->user_iter(p->user_iter_user, &in) : 0;
}

int64_t gasp__msbfs_find(const gasp_vid *s, uint64_t k, gasp_vid x) {
  uint64_t lo = 0, hi = k;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (s[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < k && s[lo] == x ? (int64_t)lo : -1;
}

static void add_stats(gasp_run_stats *to, const gasp_run_stats *s) {
  to->iterations += s->iterations;
  to->updates += s->updates;
  to->pull_iterations += s->pull_iterations;
  to->seconds += s->seconds;
  to->threads = s->threads;
  if (s->reason != GASP_STOP_CONVERGED) to->reason = s->reason;
}

static int engine_fail(gasp_engine *e, int rc, gasp_error *err) {
  if (err) *err = *gasp_engine_last_error(e);
  return rc;
}

/* The batch's eccentricities: the largest distance any thread saw each
 * source's bit set at, over every rank, to the owned sources. */
static int batch_ecc(gasp_engine *e, ms *p, const gasp_vid *local,
                     uint64_t first, uint64_t nb, double *buf,
                     gasp_error *err) {
  size_t per = 64 * (size_t)p->W;
  for (uint64_t b = 0; b < nb; b++) {
    uint32_t mx = 0;
    for (int t = 0; t < p->threads; t++)
      if (p->last[(size_t)t * per + b] > mx) mx = p->last[(size_t)t * per + b];
    buf[b] = mx;
  }
  memset(p->last, 0, (size_t)p->threads * per * sizeof *p->last);
  int rc = gasp_engine_allreduce(e, buf, nb, GASP_REDUCE_MAX);
  if (rc) return engine_fail(e, rc, err);
  for (uint64_t b = 0; b < nb; b++)
    if (local[first + b] != GASP_VID_NONE)
      p->m->ecc[local[first + b]] = (uint32_t)buf[b];
  return GASP_OK;
}

/* Every rank's pair counts summed (exact below 2^53). */
static int sum_hist(gasp_engine *e, ms *p, gasp_error *err) {
  if (!p->m->engine->dist || !p->m->pairs) return GASP_OK;
  /* ranks agree on the supersteps, not on which found the last pair */
  double lv = (double)p->levels;
  int rc = gasp_engine_allreduce(e, &lv, 1, GASP_REDUCE_MAX);
  if (rc) return engine_fail(e, rc, err);
  p->levels = (uint64_t)lv;
  if (!p->levels) return GASP_OK;
  double *d = gasp__malloc_array(p->levels, sizeof *d);
  if (!d) return tk_lib_fail(err, GASP_ENOMEM, "msbfs: out of memory");
  for (uint64_t t = 0; t < p->levels; t++)
    d[t] = t < p->cap ? (double)p->hist[t] : 0;
  rc = gasp_engine_allreduce(e, d, p->levels, GASP_REDUCE_SUM);
  if (rc) {
    free(d);
    return engine_fail(e, rc, err);
  }
  if (p->levels > p->cap) {
    uint64_t *h = gasp__realloc(p->hist, p->levels * sizeof *h);
    if (!h) {
      free(d);
      return tk_lib_fail(err, GASP_ENOMEM, "msbfs: out of memory");
    }
    p->hist = h;
    p->cap = p->levels;
  }
  for (uint64_t t = 0; t < p->levels; t++)
    p->hist[t] = (uint64_t)d[t];
  free(d);
  return GASP_OK;
}

/* The local id of each source this rank owns, GASP_VID_NONE for the
 * others (k entries). */
static gasp_vid *owned_sources(const gasp__msbfs *m, gasp_dist *dist) {
  gasp_vid *local = gasp__malloc_array(m->k ? m->k : 1, sizeof *local);
  if (!local) return NULL;
  gasp_vid owned = gasp_graph_num_owned(m->g);
  if (!dist) {
    for (uint64_t i = 0; i < m->k; i++)
      local[i] = m->sources[i] < owned ? m->sources[i] : GASP_VID_NONE;
    return local;
  }
  for (uint64_t i = 0; i < m->k; i++)
    local[i] = GASP_VID_NONE;
  for (gasp_vid v = 0; v < owned; v++) {
    int64_t at =
        gasp__msbfs_find(m->sources, m->k, gasp_dist_global_id(dist, v));
    if (at >= 0) local[at] = v;
  }
  return local;
}

static int run_batches(gasp_engine *e, ms *p, const gasp_vid *local,
                       gasp_run_stats *st, gasp_error *err) {
  gasp__msbfs *m = p->m;
  size_t per = 64 * (size_t)p->W;
  double buf[64 * MAX_WORDS];
  void *vd = gasp_graph_vertex_data(m->g);
  size_t bytes = (size_t)gasp_graph_num_vertices(m->g) * p->rec * 8;
  for (uint64_t first = 0; first < m->k; first += per) {
    uint64_t nb = m->k - first < per ? m->k - first : per;
    memset(p->mask, 0, sizeof p->mask);
    for (uint64_t b = 0; b < nb; b++)
      p->mask[b / 64] |= 1ull << (b % 64);
    memset(vd, 0, bytes);
    for (uint64_t b = 0; b < nb; b++) {
      if (local[first + b] == GASP_VID_NONE) continue;
      uint64_t own[MAX_WORDS] = {0};
      own[b / 64] = 1ull << (b % 64);
      int rc = gasp_engine_signal_msg(e, local[first + b], own, 0.0);
      if (rc) return tk_lib_fail(err, rc, "msbfs: cannot signal a source");
    }
    gasp_run_stats s;
    int rc = gasp_engine_run(e, &s);
    if (rc) return engine_fail(e, rc, err);
    add_stats(st, &s);
    p->base += s.iterations;
    if (p->oom) return tk_lib_fail(err, GASP_ENOMEM, "msbfs: out of memory");
    if (s.reason != GASP_STOP_CONVERGED)
      return tk_lib_fail(err, GASP_ECANCELED,
                         "the search was stopped before its end");
    if (m->ecc && (rc = batch_ecc(e, p, local, first, nb, buf, err))) return rc;
  }
  return sum_hist(e, p, err);
}

int gasp__msbfs_run(gasp__msbfs *m, gasp_run_stats *st, gasp_error *err) {
  memset(st, 0, sizeof *st);
  st->reason = GASP_STOP_CONVERGED;
  if (m->pairs) *m->pairs = NULL;
  if (m->levels) *m->levels = 0;
  if (m->engine->engine == GASP_ENGINE_ASYNC)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "breadth-first searches run on the sync engine (level "
                       "by level)");
  if (m->engine->staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "breadth-first searches need whole supersteps (no "
                       "--staleness)");
  ms p = {0};
  p.m = m;
  p.dist = m->engine->dist;
  int W = 1;
  while (W < MAX_WORDS && (uint64_t)W * 64 < m->k)
    W *= 2;
  p.W = W;
  p.rec = 2 * (size_t)W;
  p.user_iter = m->engine->on_iteration;
  p.user_iter_user = m->engine->on_iteration_user;
  static void (*const ors[])(void *, const void *) = {or_1, or_2, 0, or_4,
                                                      0,    0,    0, or_8};
  gasp_program prog = {0};
  prog.vertex_size = p.rec * sizeof(uint64_t);
  prog.acc_size = prog.msg_size = (size_t)W * sizeof(uint64_t);
  prog.combine = ors[W - 1];
  prog.gather_edges = ms_gather_dir;
  prog.gather_vertex = ms_gather;
  prog.apply = ms_apply;
  prog.scatter_edges = ms_scatter_dir;
  prog.scatter_vertex = ms_scatter;
  prog.push_pull = 1;
  prog.user = &p;
  gasp_engine_opts eo = *m->engine;
  eo.max_iter = 0;
  eo.always_active = 0;
  eo.on_iteration = ms_on_iteration;
  eo.on_iteration_user = &p;
  gasp_engine *e = NULL;
  gasp_vid *local = NULL;
  int rc = gasp_engine_new(&e, m->g, &prog, &eo, err);
  if (rc) return rc;
  p.threads = gasp_engine_threads(e);
  p.count = gasp__calloc((size_t)p.threads * LINE, sizeof *p.count);
  p.stamp =
      gasp__calloc_array(gasp_graph_num_vertices(m->g) + 1, sizeof *p.stamp);
  if (m->ecc)
    p.last = gasp__calloc((size_t)p.threads * 64 * (size_t)W, sizeof *p.last);
  local = owned_sources(m, p.dist);
  if (!p.count || !p.stamp || (m->ecc && !p.last) || !local) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "msbfs: out of memory");
    goto out;
  }
  if ((rc = gasp_engine_mirror(e, p.stamp, sizeof *p.stamp))) {
    rc = tk_lib_fail(err, rc, "msbfs: %s", gasp_strerror(rc));
    goto out;
  }
  if ((rc = run_batches(e, &p, local, st, err))) goto out;
  if (m->pairs) {
    *m->pairs = p.hist;
    *m->levels = p.levels;
    p.hist = NULL;
  }
out:
  gasp_engine_free(&e);
  free(p.count);
  free(p.stamp);
  free(p.last);
  free(p.hist);
  free(local);
  return rc;
}
