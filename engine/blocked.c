/*
 * blocked.c -- the sync engine's cache-blocked gather for programs whose
 * gather is a sum over the in-edges of one value per source
 * (gasp_program.gather_source): propagation blocking (Beamer, Asanovic
 * and Patterson, IPDPS 2017) in the partition-centric layout of Lakhotia,
 * Kannan and Prasanna (USENIX ATC 2018).
 *
 * The destinations are cut into blocks of bs vertices (a power of two),
 * sized so that a block's double accumulators fit in one core's L2; the
 * sources into chunks, the work units of the first pass.  Built once per
 * engine from the out-edges (each list sorted, so a source's edges into
 * one block are consecutive):
 *   pair_off, ppart  per source u, the blocks it has edges into (a "pair"
 *                    per source and block), as 16-bit block numbers;
 *   vstart           per chunk and block, where the chunk's values begin in
 *                    that block's bin (bins are laid out block by block,
 *                    chunk by chunk, source by source);
 *   dst, eoff        per block, its in-edges in the same order, each the
 *                    destination's offset in the block, with the top bit
 *                    set on the first edge of a pair: 16 bits an edge for
 *                    blocks of up to 32768 destinations (the default on
 *                    an L2 of 512 KiB or less), else 32.
 * A superstep's gather is then two passes (the sums are the same numbers
 * added in the same order on any thread count):
 *   1. scatter (per chunk): each source computes its value once and writes
 *      it to the bin of every block it has edges into -- sequential writes
 *      to one cursor per block;
 *   2. gather (per block): zero the block's accumulators, then walk the
 *      block's dst in order, stepping to the next value at every flagged
 *      edge, adding it into acc[offset] -- the values and dst stream, the
 *      random adds hit the L2.
 * Memory traffic per superstep: 2 (or 4) bytes per edge of dst read, the values
 * (4 or 8 bytes a pair) written and read, 2 bytes a pair of ppart;
 * against a pull's random read of a value per edge.
 *
 * When it pays (GASP_BLOCK_AUTO): the sources' values, at 8 bytes a
 * vertex, exceed half the shared L3 -- below that a pull's random reads
 * hit the L3, which measured as fast as the blocked passes on this
 * project's 2-core EPYC (Kronecker 20, 645 K vertices) -- and there are 4
 * or more edges a vertex, and the graph was not reordered for locality
 * (gasp_graph_reorder): on a degree-ordered graph the sources read most
 * share a few cache lines and a pull measured as fast as blocking.
 * Kronecker 22 (2.4 M vertices, 128 M arcs), one thread: 0.30-0.32 s a
 * superstep blocked against 0.42-0.48 s pulling; reordered by degree,
 * 0.25-0.28 either way (bench/kernels).
 */
#include "engine_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


struct gasp__blocked {
  uint32_t bs;     /* destinations per block, a power of two */
  unsigned shift;  /* log2 bs */
  uint32_t P;      /* blocks */
  uint64_t S;      /* source chunks */
  uint64_t chunk;  /* sources per chunk */
  uint64_t pairs;  /* (source, block) pairs */
  uint64_t *pair_off; /* nv + 1 */
  uint16_t *ppart;    /* pairs */
  uint64_t *vstart;   /* S x P */
  uint64_t *voff;     /* P + 1: a block's first value */
  uint64_t *eoff;     /* P + 1: a block's first edge in dst */
  void *dst;          /* ne: uint16_t (bs <= 32768) or uint32_t */
  double *w;          /* ne: the edges' weights in dst's order, or NULL */
  size_t dword;       /* 2 or 4 */
  void *vals;         /* pairs x word */
  size_t word;        /* 4 or 8: the values' size now */
  size_t vcap;        /* bytes allocated for vals */
  uint64_t *cur;      /* T x P cursors of the scatter pass */
  double *scratch;    /* T x 3 x bs: the gather's other three sums */
  uint64_t bytes;
};

/* A cache's size in bytes (level 2: one core's; 3: the one its core
 * shares), from sysfs (the kernel's view of this core's cache), then
 * sysconf (glibc's; on AMD it may give a whole socket's L3); `fallback` if
 * neither says. */
static long cache_bytes(int level, long fallback) {
  long b = -1;
  FILE *f = fopen(level == 2 ? "/sys/devices/system/cpu/cpu0/cache/index2/size"
                             : "/sys/devices/system/cpu/cpu0/cache/index3/size",
                  "r");
  if (f) {
    long k;
    char unit = 0;
    if (fscanf(f, "%ld%c", &k, &unit) >= 1 && k > 0)
      b = unit == 'M' ? k << 20 : unit == 'K' ? k << 10 : k;
    fclose(f);
  }
#if defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
  if (b <= 0)
    b = sysconf(level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
#endif
  return b > 0 ? b : fallback;
}

static long l2_bytes(void) { return cache_bytes(2, 512L << 10); }
static long l3_bytes(void) { return cache_bytes(3, 8L << 20); }

static uint32_t block_size(const gasp_engine *e) {
  uint64_t want = e->opts.block_vertices;
  /* four partial sums of a block (see GATHER_BODY) in half the L2 */
  if (!want) want = (uint64_t)l2_bytes() / 2 / 4 / sizeof(double);
  if (want < 64) want = 64;
  if (want > (1u << 30)) want = 1u << 30;
  uint32_t bs = 64;
  while (bs < want) bs <<= 1;
  return bs;
}

int gasp__blocked_eligible(const gasp_engine *e, gasp_error *why) {
  const gasp_program *p = &e->prog;
  const char *no = NULL;
  if (!p->gather_source)
    no = "the program has no gather_source";
  else if (e->opts.engine != GASP_ENGINE_SYNC)
    no = "the async engine gathers vertex by vertex";
  else if (!e->opts.always_active)
    no = "blocked gathers need every vertex active (always_active)";
  else if (e->opts.dist)
    no = "blocked gathers run on one process (no dist)";
  else if ((e->g->nv + (uint64_t)block_size(e) - 1) / block_size(e) > 65535)
    no = "more than 65535 blocks (raise block_vertices)";
  if (!no) return 1;
  if (why) gasp__fail(why, GASP_ENOTSUP, NULL, 0, "blocked gather: %s", no);
  return 0;
}

int gasp__blocked_pays(const gasp_engine *e) {
  switch (e->opts.blocked) {
  case GASP_BLOCK_OFF: return 0;
  case GASP_BLOCK_ON: return gasp__blocked_eligible(e, NULL);
  default: break;
  }
  const gasp_graph *g = e->g;
  return gasp__blocked_eligible(e, NULL) && !g->by_gid &&
         (uint64_t)g->nv * sizeof(double) > (uint64_t)l3_bytes() / 2 &&
         g->ne >= 4 * (uint64_t)g->nv;
}

void gasp__blocked_free(gasp__blocked **pb) {
  gasp__blocked *b = *pb;
  if (!b) return;
  free(b->pair_off);
  free(b->ppart);
  free(b->vstart);
  free(b->voff);
  free(b->eoff);
  free(b->dst);
  free(b->w);
  free(b->vals);
  free(b->cur);
  free(b->scratch);
  free(b);
  *pb = NULL;
}

/* The streamed arrays on 2 MiB pages where the kernel allows it: a
 * gigabyte of 4 KiB pages costs a quarter of a million faults to touch
 * and as many TLB entries to stream. */
static void *alloc_big(size_t n, size_t size) {
  if (n > SIZE_MAX / size) return NULL;
  size_t bytes = n * size, align = (size_t)2 << 20;
  if (bytes < align) return gasp__malloc(bytes ? bytes : 1);
  void *p = NULL;
  if (gasp__posix_memalign(&p, align, (bytes + align - 1) / align * align))
    return NULL;
  madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

/* ---- building ------------------------------------------------------- */

typedef struct build_job {
  gasp_engine *e;
  gasp__blocked *b;
  uint64_t *pcnt; /* S x P pairs, then (prefixed) value starts */
  uint64_t *ecnt; /* S x P edges, then (prefixed) edge starts */
  gasp__range r;
  int fill;
} build_job;

static void build_worker(void *arg, int tid) {
  (void)tid;
  build_job *j = arg;
  const gasp_graph *g = j->e->g;
  gasp__blocked *b = j->b;
  uint64_t lo, hi;
  while (gasp__range_next(&j->r, &lo, &hi))
    for (uint64_t s = lo; s < hi; s++) {
      uint64_t *pc = j->pcnt + s * b->P, *ec = j->ecnt + s * b->P;
      uint64_t u0 = s * b->chunk, u1 = u0 + b->chunk;
      if (u1 > g->nv) u1 = g->nv;
      for (uint64_t u = u0; u < u1; u++) {
        const gasp_vid *nb = g->out_nbr + g->out_off[u];
        uint64_t n = g->out_off[u + 1] - g->out_off[u], k = 0;
        uint64_t pair = j->fill ? b->pair_off[u] : 0;
        for (uint64_t i = 0; i < n;) {
          uint32_t p = nb[i] >> b->shift;
          uint64_t i1 = i + 1;
          while (i1 < n && nb[i1] >> b->shift == p) i1++;
          if (j->fill) {
            b->ppart[pair + k] = (uint16_t)p;
            if (b->w) /* by edge slot: the out-edge's position */
              memcpy(b->w + ec[p], g->weight + g->out_off[u] + i,
                     (i1 - i) * sizeof *b->w);
            uint32_t mask = b->bs - 1;
            if (b->dword == 2) {
              uint16_t *d = (uint16_t *)b->dst + ec[p];
              d[0] = (uint16_t)((nb[i] & mask) | 0x8000u);
              for (uint64_t t = i + 1; t < i1; t++)
                d[t - i] = (uint16_t)(nb[t] & mask);
            } else {
              uint32_t *d = (uint32_t *)b->dst + ec[p];
              d[0] = (nb[i] & mask) | 0x80000000u;
              for (uint64_t t = i + 1; t < i1; t++)
                d[t - i] = nb[t] & mask;
            }
          }
          pc[p]++;
          ec[p] += i1 - i;
          k++;
          i = i1;
        }
        if (!j->fill) b->pair_off[u + 1] = k;
      }
    }
}

/* Builds the bins' structure for the engine's graph. */
static int blocked_build(gasp_engine *e, gasp__blocked **out) {
  const gasp_graph *g = e->g;
  int T = gasp__pool_size(e->pool);
  gasp__blocked *b = gasp__calloc(1, sizeof *b);
  build_job j = {0};
  if (!b) goto nomem;
  b->bs = block_size(e);
  while ((1u << b->shift) < b->bs) b->shift++;
  uint64_t nv = g->nv;
  b->P = (uint32_t)((nv + b->bs - 1) / b->bs);
  if (!b->P) b->P = 1;
  /* chunks: enough for the threads to balance, few enough that the S x P
   * tables stay small */
  uint64_t S = 64 * (uint64_t)T;
  if (S * b->P > (1u << 22)) S = (1u << 22) / b->P;
  if (S < 1) S = 1;
  b->chunk = (nv + S - 1) / S;
  if (!b->chunk) b->chunk = 1;
  b->S = S = (nv + b->chunk - 1) / b->chunk;
  if (!S) b->S = S = 1;
  b->pair_off = gasp__calloc_array(nv + 1, sizeof *b->pair_off);
  b->vstart = gasp__calloc_array(S * b->P, sizeof *b->vstart);
  b->voff = gasp__calloc_array((size_t)b->P + 1, sizeof *b->voff);
  b->eoff = gasp__calloc_array((size_t)b->P + 1, sizeof *b->eoff);
  b->cur = gasp__malloc_array((size_t)T * b->P, sizeof *b->cur);
  b->scratch = gasp__malloc_array((size_t)T * 3 * b->bs, sizeof *b->scratch);
  b->dword = b->bs <= 32768 ? 2 : 4;
  b->dst = alloc_big(g->ne ? g->ne : 1, b->dword);
  if (e->prog.gather_source_weighted && g->weight &&
      !(b->w = alloc_big(g->ne ? g->ne : 1, sizeof *b->w)))
    goto nomem;
  j.pcnt = b->vstart;
  j.ecnt = gasp__calloc_array(S * b->P, sizeof *j.ecnt);
  if (!b->pair_off || !b->vstart || !b->voff || !b->eoff || !b->cur ||
      !b->scratch || !b->dst || !j.ecnt)
    goto nomem;
  j.e = e;
  j.b = b;
  j.r = (gasp__range){0, S, 1};
  gasp__pool_run(e->pool, build_worker, &j);
  for (uint64_t u = 0; u < nv; u++)
    b->pair_off[u + 1] += b->pair_off[u];
  b->pairs = b->pair_off[nv];
  /* prefix by block, then chunk: bins block by block */
  uint64_t pv = 0, pe = 0;
  for (uint32_t p = 0; p < b->P; p++) {
    b->voff[p] = pv;
    b->eoff[p] = pe;
    for (uint64_t s = 0; s < S; s++) {
      uint64_t c = j.pcnt[s * b->P + p], d = j.ecnt[s * b->P + p];
      j.pcnt[s * b->P + p] = pv;
      j.ecnt[s * b->P + p] = pe;
      pv += c;
      pe += d;
    }
  }
  b->voff[b->P] = pv;
  b->eoff[b->P] = pe;
  b->ppart = gasp__malloc_array(b->pairs ? b->pairs : 1, sizeof *b->ppart);
  if (!b->ppart) goto nomem;
  /* the fill pass moves the counters; the value starts are kept */
  uint64_t *vkeep = gasp__malloc_array(S * b->P, sizeof *vkeep);
  if (!vkeep) goto nomem;
  memcpy(vkeep, j.pcnt, S * b->P * sizeof *vkeep);
  j.fill = 1;
  j.r = (gasp__range){0, S, 1};
  gasp__pool_run(e->pool, build_worker, &j);
  memcpy(b->vstart, vkeep, S * b->P * sizeof *vkeep);
  free(vkeep);
  free(j.ecnt);
  b->bytes = (nv + 1) * sizeof *b->pair_off + b->pairs * sizeof *b->ppart +
             S * b->P * sizeof *b->vstart + 2 * ((uint64_t)b->P + 1) * 8 +
             g->ne * b->dword + (uint64_t)T * b->P * sizeof *b->cur +
             (b->w ? g->ne * sizeof *b->w : 0);
  *out = b;
  return GASP_OK;
nomem:
  free(j.ecnt);
  gasp__blocked_free(&b);
  return gasp__fail(&e->err, GASP_ENOMEM, NULL, 0,
                    "out of memory building the blocked gather's bins");
}

/* ---- a superstep's gather -------------------------------------------- */

typedef struct run_job {
  gasp_engine *e;
  gasp__blocked *b;
  double *acc;
  gasp__range r;
} run_job;

#define SCATTER_BODY(T_)                                                       \
  do {                                                                         \
    T_ *vals = b->vals;                                                        \
    for (uint64_t u = u0; u < u1; u++) {                                       \
      uint64_t k0 = b->pair_off[u], k1 = b->pair_off[u + 1];                   \
      if (k0 == k1) continue;                                                  \
      ctx.h.v = (gasp_vid)u;                                                   \
      T_ x = (T_)src(&ctx, gasp__vdata(e, (gasp_vid)u));                       \
      for (uint64_t k = k0; k < k1; k++)                                       \
        vals[cur[b->ppart[k]]++] = x;                                          \
    }                                                                          \
  } while (0)

static void scatter_worker(void *arg, int tid) {
  run_job *j = arg;
  gasp_engine *e = j->e;
  gasp__blocked *b = j->b;
  double (*src)(const gasp_ctx *, const void *) = e->prog.gather_source;
  gasp_ctx ctx = {
      {e->prog.user, e->iteration, 0, NULL}, e, tid, NULL, NULL, 0, 0, NULL};
  uint64_t *cur = b->cur + (size_t)tid * b->P;
  uint64_t lo, hi;
  while (gasp__range_next(&j->r, &lo, &hi))
    for (uint64_t s = lo; s < hi; s++) {
      memcpy(cur, b->vstart + s * b->P, b->P * sizeof *cur);
      uint64_t u0 = s * b->chunk, u1 = u0 + b->chunk;
      if (u1 > e->g->nv) u1 = e->g->nv;
      if (b->word == 4)
        SCATTER_BODY(float);
      else
        SCATTER_BODY(double);
    }
}

/* The add loop: k steps to the next value at each flagged edge (k starts
 * one before the block's first value; the block's first edge is flagged).
 * Edges go round-robin to four partial sums of the block, added together
 * at the end: a hub destination, which nearly every source of a block
 * reaches a few edges apart, would otherwise chain its adds through the
 * store-to-load forwarding of one accumulator. */
#define GATHER_BODY(T_, D_, SH_)                                                \
  do {                                                                         \
    const T_ *vals = (const T_ *)b->vals + b->voff[p];                         \
    const D_ *d = (const D_ *)b->dst + b->eoff[p];                             \
    uint64_t n = b->eoff[p + 1] - b->eoff[p], i = 0;                           \
    int64_t k = -1;                                                            \
    for (; i + 4 <= n; i += 4) {                                               \
      uint32_t x0 = d[i], x1 = d[i + 1], x2 = d[i + 2], x3 = d[i + 3];         \
      k += x0 >> SH_;                                                          \
      a0[x0 & mask] += (double)vals[k];                                        \
      k += x1 >> SH_;                                                          \
      a1[x1 & mask] += (double)vals[k];                                        \
      k += x2 >> SH_;                                                          \
      a2[x2 & mask] += (double)vals[k];                                        \
      k += x3 >> SH_;                                                          \
      a3[x3 & mask] += (double)vals[k];                                        \
    }                                                                          \
    for (; i < n; i++) {                                                       \
      uint32_t x = d[i];                                                       \
      k += x >> SH_;                                                           \
      a0[x & mask] += (double)vals[k];                                         \
    }                                                                          \
  } while (0)

#define GATHER_BODY_W(T_, D_, SH_)                                                \
  do {                                                                         \
    const T_ *vals = (const T_ *)b->vals + b->voff[p];                         \
    const D_ *d = (const D_ *)b->dst + b->eoff[p];                             \
    const double *w = b->w + b->eoff[p];                                       \
    uint64_t n = b->eoff[p + 1] - b->eoff[p], i = 0;                           \
    int64_t k = -1;                                                            \
    for (; i + 4 <= n; i += 4) {                                               \
      uint32_t x0 = d[i], x1 = d[i + 1], x2 = d[i + 2], x3 = d[i + 3];         \
      k += x0 >> SH_;                                                          \
      a0[x0 & mask] += w[i] * (double)vals[k];                                        \
      k += x1 >> SH_;                                                          \
      a1[x1 & mask] += w[i + 1] * (double)vals[k];                                        \
      k += x2 >> SH_;                                                          \
      a2[x2 & mask] += w[i + 2] * (double)vals[k];                                        \
      k += x3 >> SH_;                                                          \
      a3[x3 & mask] += w[i + 3] * (double)vals[k];                                        \
    }                                                                          \
    for (; i < n; i++) {                                                       \
      uint32_t x = d[i];                                                       \
      k += x >> SH_;                                                           \
      a0[x & mask] += w[i] * (double)vals[k];                                         \
    }                                                                          \
  } while (0)

static void gather_worker(void *arg, int tid) {
  (void)tid;
  run_job *j = arg;
  gasp__blocked *b = j->b;
  uint64_t nv = j->e->g->nv;
  uint32_t mask = b->bs - 1;
  double *scratch = b->scratch + (size_t)tid * 3 * b->bs;
  uint64_t lo, hi;
  while (gasp__range_next(&j->r, &lo, &hi))
    for (uint64_t p = lo; p < hi; p++) {
      uint64_t v0 = p << b->shift, v1 = v0 + b->bs;
      if (v1 > nv) v1 = nv;
      double *a0 = j->acc + v0, *a1 = scratch, *a2 = a1 + b->bs,
             *a3 = a2 + b->bs;
      size_t len = (v1 - v0) * sizeof *a0;
      memset(a0, 0, len);
      memset(a1, 0, len);
      memset(a2, 0, len);
      memset(a3, 0, len);
      if (b->w && b->dword == 2 && b->word == 4)
        GATHER_BODY_W(float, uint16_t, 15);
      else if (b->w && b->dword == 2)
        GATHER_BODY_W(double, uint16_t, 15);
      else if (b->w && b->word == 4)
        GATHER_BODY_W(float, uint32_t, 31);
      else if (b->w)
        GATHER_BODY_W(double, uint32_t, 31);
      else if (b->dword == 2 && b->word == 4)
        GATHER_BODY(float, uint16_t, 15);
      else if (b->dword == 2)
        GATHER_BODY(double, uint16_t, 15);
      else if (b->word == 4)
        GATHER_BODY(float, uint32_t, 31);
      else
        GATHER_BODY(double, uint32_t, 31);
      for (uint64_t v = 0; v < v1 - v0; v++)
        a0[v] += a1[v] + (a2[v] + a3[v]);
    }
}

int gasp__blocked_gather(gasp_engine *e, double *acc, gasp_run_stats *st) {
  if (!e->blk) {
    double t0 = gasp__now();
    int rc = blocked_build(e, &e->blk);
    if (rc) return rc;
    st->blocked_build_seconds += gasp__now() - t0;
  }
  gasp__blocked *b = e->blk;
  size_t word = e->src_float ? 4 : 8;
  size_t need = (b->pairs ? b->pairs : 1) * word;
  if (need > b->vcap) {
    void *v = alloc_big(need, 1);
    if (!v)
      return gasp__fail(&e->err, GASP_ENOMEM, NULL, 0,
                        "out of memory for the blocked gather's values");
    free(b->vals);
    b->vals = v;
    b->vcap = need;
  }
  b->word = word;
  st->blocked_bytes = b->bytes + b->vcap;
  st->blocked_pairs = b->pairs;
  run_job j = {e, b, acc, {0, b->S, 1}};
  gasp__pool_run(e->pool, scatter_worker, &j);
  j.r = (gasp__range){0, b->P, 1};
  gasp__pool_run(e->pool, gather_worker, &j);
  st->blocked_iterations++;
  return GASP_OK;
}

int gasp_engine_source_float(gasp_engine *e, int on) {
  if (!e || !e->prog.gather_source) return GASP_EINVAL;
  e->src_float = on != 0;
  return GASP_OK;
}
