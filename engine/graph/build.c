/*
 * build.c -- turns edges in original 64-bit ids into a gasp_graph.
 *
 * Steps, each parallel over all threads:
 *  1. id map: every id seen (per side for bipartite graphs) goes into a
 *     direct table (one slot per possible id) or a dense bitmap with per-word
 * ranks when the id range is small relative to the edge count, else into a
 * lock-free open-addressing hash table that grows by doubling; ids are then
 * ranked in ascending order, so local ids follow original ids.
 *  2. relabel: each chunk of raw edges becomes 32-bit pairs and is freed at
 *     once (the raw chunks are the largest thing alive).
 *  3. CSR and CSC: three stable counting-sort passes (below), so every
 *     list is sorted, duplicates keep input order, each in-edge knows its
 *     slot (its CSR position), and the result does not depend on the number
 *     of threads.
 *
 * Peak memory for an unweighted graph is about 24 bytes per edge (raw
 * chunks plus pairs, shrinking as chunks are freed); the finished graph is
 * 12 bytes per edge plus 24 bytes per vertex.
 */
#include "graph_internal.h"
#include "sort.h"

#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

GASP__DEFINE_SORT(sort_u64, uint64_t, GASP__LESS_PLAIN)

typedef struct id_range {
  gasp_side side;
  gasp_gid lo, hi;
} id_range;

struct gasp_builder {
  unsigned flags;
  gasp__chunk *chunks;
  size_t nchunks, cap;
  gasp__chunk cur; /* being filled by gasp_builder_add_edge */
  gasp_gid *extra[2];
  uint64_t nextra[2], extra_cap[2];
  id_range *ranges;
  size_t nranges, ranges_cap;
};

/* ---------------------------------------------------------------- */
/* Builder object                                                    */
/* ---------------------------------------------------------------- */

void gasp__chunk_release(gasp__chunk *c) {
  free(c->src);
  free(c->dst);
  free(c->w);
  memset(c, 0, sizeof *c);
}

int gasp_builder_new(gasp_builder **out, unsigned flags) {
  *out = NULL;
  if ((flags & GASP_BUILD_BIPARTITE) && (flags & GASP_BUILD_SYMMETRIC))
    return GASP_EINVAL;
  gasp_builder *b = gasp__calloc(1, sizeof *b);
  if (!b) return GASP_ENOMEM;
  b->flags = flags;
  *out = b;
  return GASP_OK;
}

static void builder_reset(gasp_builder *b) {
  for (size_t i = 0; i < b->nchunks; i++)
    gasp__chunk_release(&b->chunks[i]);
  free(b->chunks);
  gasp__chunk_release(&b->cur);
  for (int s = 0; s < 2; s++) {
    free(b->extra[s]);
    b->extra[s] = NULL;
    b->nextra[s] = b->extra_cap[s] = 0;
  }
  free(b->ranges);
  b->chunks = NULL;
  b->ranges = NULL;
  b->nchunks = b->cap = b->nranges = b->ranges_cap = 0;
}

void gasp_builder_free(gasp_builder **pb) {
  if (!pb || !*pb) return;
  builder_reset(*pb);
  free(*pb);
  *pb = NULL;
}

unsigned gasp__builder_flags(const gasp_builder *b) { return b->flags; }
void gasp__builder_set_flags(gasp_builder *b, unsigned flags) {
  b->flags = flags;
}

int gasp__builder_add_chunk(gasp_builder *b, gasp__chunk *c) {
  if (c->n == 0) {
    gasp__chunk_release(c);
    return GASP_OK;
  }
  if (b->nchunks == b->cap) {
    size_t ncap = b->cap ? 2 * b->cap : 64;
    gasp__chunk *nc = gasp__realloc(b->chunks, ncap * sizeof *nc);
    if (!nc) return GASP_ENOMEM;
    b->chunks = nc;
    b->cap = ncap;
  }
  b->chunks[b->nchunks++] = *c;
  memset(c, 0, sizeof *c);
  return GASP_OK;
}

static int flush_current(gasp_builder *b) {
  if (b->cur.n == 0) return GASP_OK;
  return gasp__builder_add_chunk(b, &b->cur);
}

int gasp_builder_add_edge(gasp_builder *b, gasp_gid src, gasp_gid dst,
                          double weight) {
  if (src > GASP_GID_MAX || dst > GASP_GID_MAX) return GASP_ERANGE;
  gasp__chunk *c = &b->cur;
  if (c->n == c->cap) {
    if (c->cap >= (1u << 20)) {
      int rc = flush_current(b);
      if (rc) return rc;
    }
    uint64_t ncap = c->cap ? 2 * c->cap : 1024;
    gasp_gid *s = gasp__realloc(c->src, ncap * sizeof *s);
    if (!s) return GASP_ENOMEM;
    c->src = s;
    gasp_gid *d = gasp__realloc(c->dst, ncap * sizeof *d);
    if (!d) return GASP_ENOMEM;
    c->dst = d;
    if (b->flags & GASP_BUILD_WEIGHTED) {
      double *w = gasp__realloc(c->w, ncap * sizeof *w);
      if (!w) return GASP_ENOMEM;
      c->w = w;
    }
    c->cap = ncap;
  }
  c->src[c->n] = src;
  c->dst[c->n] = dst;
  if (c->w) c->w[c->n] = weight;
  c->n++;
  if (src == dst) c->loops++;
  gasp_gid m = src > dst ? src : dst;
  if (m > c->max_id) c->max_id = m;
  return GASP_OK;
}

int gasp__builder_add_vertices(gasp_builder *b, gasp_side side,
                               const gasp_gid *ids, uint64_t n) {
  int s = side == GASP_SIDE_RIGHT;
  if (s && !(b->flags & GASP_BUILD_BIPARTITE)) return GASP_EINVAL;
  if (b->nextra[s] + n > b->extra_cap[s]) {
    uint64_t ncap = b->extra_cap[s] ? b->extra_cap[s] : 256;
    while (ncap < b->nextra[s] + n)
      ncap *= 2;
    gasp_gid *e = gasp__realloc(b->extra[s], ncap * sizeof *e);
    if (!e) return GASP_ENOMEM;
    b->extra[s] = e;
    b->extra_cap[s] = ncap;
  }
  for (uint64_t i = 0; i < n; i++) {
    if (ids[i] > GASP_GID_MAX) return GASP_ERANGE;
    b->extra[s][b->nextra[s]++] = ids[i];
  }
  return GASP_OK;
}

int gasp_builder_add_vertex(gasp_builder *b, gasp_side side, gasp_gid id) {
  return gasp__builder_add_vertices(b, side, &id, 1);
}

int gasp__builder_add_range(gasp_builder *b, gasp_side side, gasp_gid lo,
                            gasp_gid hi) {
  if (side == GASP_SIDE_RIGHT && !(b->flags & GASP_BUILD_BIPARTITE))
    return GASP_EINVAL;
  if (lo > hi) return GASP_OK;
  if (hi > GASP_GID_MAX) return GASP_ERANGE;
  if (b->nranges == b->ranges_cap) {
    size_t ncap = b->ranges_cap ? 2 * b->ranges_cap : 4;
    id_range *r = gasp__realloc(b->ranges, ncap * sizeof *r);
    if (!r) return GASP_ENOMEM;
    b->ranges = r;
    b->ranges_cap = ncap;
  }
  b->ranges[b->nranges++] = (id_range){side, lo, hi};
  return GASP_OK;
}

/* ---------------------------------------------------------------- */
/* Id maps                                                           */
/* ---------------------------------------------------------------- */

typedef struct idmap {
  int dense;
  /* direct: one 32-bit slot per id in 0 .. max (marks, then ranks) */
  uint32_t *direct;
  uint64_t ndirect;
  /* dense: bit per id in 0 .. max, rank of each 64-id word */
  uint64_t *bits;
  uint32_t *rank;
  uint64_t nwords;
  /* hash: keys stored as id + 1 (0 = empty), values = rank */
  uint64_t *keys;
  uint32_t *vals;
  uint64_t mask;
  uint64_t count, limit;
  uint64_t nids; /* distinct ids after finalize */
} idmap;

static inline uint64_t hash_id(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

static void idmap_release(idmap *m) {
  free(m->direct);
  free(m->bits);
  free(m->rank);
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

static int idmap_init(idmap *m, gasp_gid max_id, uint64_t nitems) {
  memset(m, 0, sizeof *m);
  /* Direct table when it costs at most about 2 bytes per item. */
  if (max_id < ((uint64_t)1 << 32) - 1 && (max_id + 1) * 4 <= 2 * nitems) {
    m->ndirect = max_id + 1;
    m->direct = gasp__calloc_array(m->ndirect, sizeof *m->direct);
    return m->direct ? GASP_OK : GASP_ENOMEM;
  }
  /* Dense when the bitmap and ranks (3/16 byte per id) cost at most about
   * 1.5 bytes per item. */
  if (max_id < ((uint64_t)1 << 40) && max_id / 8 <= nitems + (1u << 20)) {
    m->dense = 1;
    m->nwords = max_id / 64 + 1;
    m->bits = gasp__calloc(m->nwords, sizeof *m->bits);
    m->rank = gasp__malloc_array(m->nwords, sizeof *m->rank);
    return m->bits && m->rank ? GASP_OK : GASP_ENOMEM;
  }
  uint64_t cap = 1024;
  while (cap < nitems / 8 && cap < ((uint64_t)1 << 40))
    cap *= 2;
  m->keys = gasp__calloc(cap, sizeof *m->keys);
  if (!m->keys) return GASP_ENOMEM;
  m->mask = cap - 1;
  m->limit = cap / 10 * 7;
  return GASP_OK;
}

/* Inserts id; returns 1 when it was new.  Thread-safe. */
static inline int hash_insert(uint64_t *keys, uint64_t mask, uint64_t id) {
  uint64_t key = id + 1, i = hash_id(id) & mask;
  for (;;) {
    uint64_t k = __atomic_load_n(&keys[i], __ATOMIC_RELAXED);
    if (k == key) return 0;
    if (k == 0) {
      uint64_t expected = 0;
      if (__atomic_compare_exchange_n(&keys[i], &expected, key, 0,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return 1;
      if (expected == key) return 0;
    }
    i = (i + 1) & mask;
  }
}

static int hash_grow(idmap *m) {
  uint64_t ncap = (m->mask + 1) * 2;
  uint64_t *nk = gasp__calloc(ncap, sizeof *nk);
  if (!nk) return GASP_ENOMEM;
  for (uint64_t i = 0; i <= m->mask; i++)
    if (m->keys[i]) hash_insert(nk, ncap - 1, m->keys[i] - 1);
  free(m->keys);
  m->keys = nk;
  m->mask = ncap - 1;
  m->limit = ncap / 10 * 7;
  return GASP_OK;
}

/* An id stream: an array of ids, consumed from `pos`. */
typedef struct id_stream {
  const gasp_gid *ids;
  uint64_t n, pos;
} id_stream;

static int idmap_add_streams(idmap *m, id_stream *st, size_t ns, int T) {
  if (m->direct) {
    int64_t nsi = (int64_t)ns;
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int64_t s = 0; s < nsi; s++) {
      const gasp_gid *ids = st[s].ids;
      for (uint64_t i = 0; i < st[s].n; i++)
        __atomic_store_n(&m->direct[ids[i]], 1, __ATOMIC_RELAXED);
    }
    return GASP_OK;
  }
  if (m->dense) {
    int64_t nsi = (int64_t)ns;
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int64_t s = 0; s < nsi; s++) {
      const gasp_gid *ids = st[s].ids;
      for (uint64_t i = 0; i < st[s].n; i++) {
        uint64_t *w = &m->bits[ids[i] >> 6], bit = 1ull << (ids[i] & 63);
        if (!(__atomic_load_n(w, __ATOMIC_RELAXED) & bit))
          __atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
      }
    }
    return GASP_OK;
  }
  for (;;) {
    int full = 0;
    int64_t nsi = (int64_t)ns;
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int64_t s = 0; s < nsi; s++) {
      uint64_t i = st[s].pos;
      for (; i < st[s].n; i++) {
        if (__atomic_load_n(&full, __ATOMIC_RELAXED)) break;
        if (hash_insert(m->keys, m->mask, st[s].ids[i]) &&
            __atomic_add_fetch(&m->count, 1, __ATOMIC_RELAXED) >= m->limit) {
          __atomic_store_n(&full, 1, __ATOMIC_RELAXED);
          i++;
          break;
        }
      }
      st[s].pos = i;
    }
    if (!full) return GASP_OK;
    int rc = hash_grow(m);
    if (rc) return rc;
  }
}

/* Assigns ranks; writes the ascending ids to gid_out (nids entries, which
 * the caller sized with idmap_count()). */
static uint64_t idmap_count(const idmap *m) {
  if (m->direct) {
    uint64_t c = 0;
    for (uint64_t i = 0; i < m->ndirect; i++)
      c += m->direct[i];
    return c;
  }
  if (!m->dense) return m->count;
  uint64_t c = 0;
  for (uint64_t w = 0; w < m->nwords; w++)
    c += __builtin_popcountll(m->bits[w]);
  return c;
}

static int idmap_finalize(idmap *m, gasp_gid *gid_out, int T) {
  if (m->direct) {
    uint64_t r = 0;
    for (uint64_t i = 0; i < m->ndirect; i++) {
      if (m->direct[i]) {
        gid_out[r] = i;
        m->direct[i] = (uint32_t)r++;
      }
    }
    m->nids = r;
    return GASP_OK;
  }
  if (m->dense) {
    uint64_t r = 0;
    for (uint64_t w = 0; w < m->nwords; w++) {
      m->rank[w] = (uint32_t)r;
      r += __builtin_popcountll(m->bits[w]);
    }
    m->nids = r;
    int64_t nw = (int64_t)m->nwords;
#pragma omp parallel for num_threads(T) schedule(static, 4096)
    for (int64_t w = 0; w < nw; w++) {
      uint64_t bits = m->bits[w], k = m->rank[w];
      while (bits) {
        gid_out[k++] = (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(bits);
        bits &= bits - 1;
      }
    }
    return GASP_OK;
  }
  uint64_t k = 0;
  for (uint64_t i = 0; i <= m->mask; i++)
    if (m->keys[i]) gid_out[k++] = m->keys[i] - 1;
  sort_u64(gid_out, k);
  m->nids = k;
  m->vals = gasp__malloc_array(m->mask + 1, sizeof *m->vals);
  if (!m->vals) return GASP_ENOMEM;
  int64_t nk = (int64_t)k;
#pragma omp parallel for num_threads(T) schedule(static, 4096)
  for (int64_t r = 0; r < nk; r++) {
    uint64_t id = gid_out[r], i = hash_id(id) & m->mask;
    while (m->keys[i] != id + 1)
      i = (i + 1) & m->mask;
    m->vals[i] = (uint32_t)r;
  }
  return GASP_OK;
}

static inline uint32_t idmap_get(const idmap *m, gasp_gid id) {
  if (m->direct) return m->direct[id];
  if (m->dense) {
    uint64_t w = id >> 6;
    return m->rank[w] + (uint32_t)__builtin_popcountll(
                            m->bits[w] & ((1ull << (id & 63)) - 1));
  }
  uint64_t i = hash_id(id) & m->mask;
  while (m->keys[i] != id + 1)
    i = (i + 1) & m->mask;
  return m->vals[i];
}

/* ---------------------------------------------------------------- */
/* Graph construction                                                */
/* ---------------------------------------------------------------- */

typedef struct build_state {
  gasp_builder *b;
  int T;
  int weighted, bipartite, symmetric;
  idmap map[2];
  gasp_gid *gid[2];
  uint64_t nids[2];
  gasp_graph *g;
  uint32_t *ps, *pd; /* relabelled pairs */
  double *pw;
} build_state;

/* Adds the ids of extra vertices and ranges on `side` to its map. */
static int add_extra_ids(build_state *st, int side) {
  gasp_builder *b = st->b;
  idmap *m = &st->map[side];
  id_stream one = {b->extra[side], b->nextra[side], 0};
  int rc = idmap_add_streams(m, &one, 1, st->T);
  for (size_t r = 0; rc == GASP_OK && r < b->nranges; r++) {
    if ((int)b->ranges[r].side != side) continue;
    /* Ranges are few; insert them in pieces through the stream path. */
    gasp_gid buf[4096];
    for (gasp_gid lo = b->ranges[r].lo; rc == GASP_OK;) {
      uint64_t n = 0;
      while (n < 4096) {
        buf[n++] = lo;
        if (lo == b->ranges[r].hi) break;
        lo++;
      }
      id_stream s = {buf, n, 0};
      rc = idmap_add_streams(m, &s, 1, 1);
      if (buf[n - 1] == b->ranges[r].hi) break;
    }
  }
  return rc;
}

/* Bytes this process may use: physical memory, lowered by RLIMIT_AS and
 * RLIMIT_DATA when they are set. */
static uint64_t memory_available(void) {
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  uint64_t m =
      pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : UINT64_MAX;
  static const int res[] = {RLIMIT_AS, RLIMIT_DATA};
  for (int i = 0; i < 2; i++) {
    struct rlimit rl;
    if (getrlimit(res[i], &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)rl.rlim_cur < m)
      m = (uint64_t)rl.rlim_cur;
  }
  return m;
}

/* Declared id ranges (a Matrix Market or UCI header) can claim billions
 * of vertices in a few bytes of input.  Refuse them before inserting
 * every id one by one: the ranges alone imply at least the longest range
 * per side, and the finished graph needs 24 bytes per vertex (ids and two
 * offset arrays). */
static int check_ranges(const gasp_builder *b, int bipartite, gasp_error *err) {
  uint64_t longest[2] = {0, 0};
  for (size_t r = 0; r < b->nranges; r++) {
    uint64_t n = b->ranges[r].hi - b->ranges[r].lo + 1;
    int s = bipartite ? (int)b->ranges[r].side : 0;
    if (n > longest[s]) longest[s] = n;
  }
  uint64_t nv = longest[0] + longest[1];
  if (nv < longest[0] || nv > GASP_MAX_VERTICES)
    return gasp__fail(err, GASP_ERANGE, NULL, 0,
                      "the declared sizes imply at least %llu vertices, over "
                      "the limit of %llu",
                      (unsigned long long)nv,
                      (unsigned long long)GASP_MAX_VERTICES);
  uint64_t avail = memory_available();
  if (nv > avail / 24)
    return gasp__fail(err, GASP_ENOMEM, NULL, 0,
                      "the declared sizes imply %llu vertices, which need at "
                      "least %.1f GiB; %.1f GiB of memory is available",
                      (unsigned long long)nv, (double)nv * 24 / (1 << 30),
                      (double)avail / (1 << 30));
  return GASP_OK;
}

static int build_maps(build_state *st, gasp_error *err) {
  gasp_builder *b = st->b;
  int rc = check_ranges(b, st->bipartite, err);
  if (rc) return rc;
  gasp_gid maxid[2] = {0, 0};
  uint64_t items = 0;
  for (size_t c = 0; c < b->nchunks; c++) {
    gasp__chunk *ch = &b->chunks[c];
    items += ch->n;
    if (ch->max_id > maxid[0]) maxid[0] = ch->max_id;
  }
  maxid[1] = maxid[0];
  for (int s = 0; s < 2; s++) {
    for (uint64_t i = 0; i < b->nextra[s]; i++)
      if (b->extra[s][i] > maxid[s]) maxid[s] = b->extra[s][i];
    items += b->nextra[s];
  }
  for (size_t r = 0; r < b->nranges; r++) {
    int s = b->ranges[r].side;
    if (b->ranges[r].hi > maxid[s]) maxid[s] = b->ranges[r].hi;
    items += b->ranges[r].hi - b->ranges[r].lo + 1;
  }
  int nsides = st->bipartite ? 2 : 1;
  size_t nstreams = 2 * b->nchunks;
  id_stream *streams = gasp__calloc_array(nstreams, sizeof *streams);
  if (!streams) return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  rc = GASP_OK;
  for (int s = 0; s < nsides && rc == GASP_OK; s++) {
    rc = idmap_init(&st->map[s], maxid[s], items);
    if (rc) break;
    size_t ns = 0;
    for (size_t c = 0; c < b->nchunks; c++) {
      gasp__chunk *ch = &b->chunks[c];
      if (!st->bipartite || s == 0)
        streams[ns++] = (id_stream){ch->src, ch->n, 0};
      if (!st->bipartite || s == 1)
        streams[ns++] = (id_stream){ch->dst, ch->n, 0};
    }
    rc = idmap_add_streams(&st->map[s], streams, ns, st->T);
    if (rc == GASP_OK) rc = add_extra_ids(st, s);
    if (rc) break;
    uint64_t n = idmap_count(&st->map[s]);
    st->gid[s] = gasp__malloc_array(n, sizeof(gasp_gid));
    if (!st->gid[s]) {
      rc = GASP_ENOMEM;
      break;
    }
    rc = idmap_finalize(&st->map[s], st->gid[s], st->T);
    st->nids[s] = n;
  }
  free(streams);
  if (rc)
    return gasp__fail(err, rc, NULL, 0, "building the id map: %s",
                      gasp_strerror(rc));
  if (st->nids[0] + st->nids[1] > GASP_MAX_VERTICES)
    return gasp__fail(err, GASP_ERANGE, NULL, 0,
                      "%llu vertices exceed the limit of %llu per partition",
                      (unsigned long long)(st->nids[0] + st->nids[1]),
                      (unsigned long long)GASP_MAX_VERTICES);
  return GASP_OK;
}

/* Relabels every chunk into the pair arrays, freeing chunks as it goes. */
static int relabel(build_state *st) {
  gasp_builder *b = st->b;
  uint64_t *start = gasp__malloc_array(b->nchunks + 1, sizeof *start);
  if (!start) return GASP_ENOMEM;
  uint64_t pos = 0;
  for (size_t c = 0; c < b->nchunks; c++) {
    start[c] = pos;
    pos += b->chunks[c].n;
    if (st->symmetric) pos += b->chunks[c].n - b->chunks[c].loops;
  }
  start[b->nchunks] = pos;
  uint32_t off_right = st->bipartite ? (uint32_t)st->nids[0] : 0;
  const idmap *ml = &st->map[0], *mr = &st->map[st->bipartite ? 1 : 0];
  int64_t nc = (int64_t)b->nchunks;
#pragma omp parallel for num_threads(st->T) schedule(dynamic, 1)
  for (int64_t c = 0; c < nc; c++) {
    gasp__chunk *ch = &b->chunks[c];
    uint64_t o = start[c], r = start[c] + ch->n;
    uint32_t *ps = st->ps, *pd = st->pd;
    for (uint64_t i = 0; i < ch->n; i++) {
      uint32_t s = idmap_get(ml, ch->src[i]);
      uint32_t d = idmap_get(mr, ch->dst[i]) + off_right;
      ps[o + i] = s;
      pd[o + i] = d;
      if (st->pw) st->pw[o + i] = ch->w ? ch->w[i] : 1.0;
      if (st->symmetric && s != d) {
        ps[r] = d;
        pd[r] = s;
        if (st->pw) st->pw[r] = st->pw[o + i];
        r++;
      }
    }
    gasp__chunk_release(ch);
  }
  free(start);
  return GASP_OK;
}

/* ---- stable counting sorts ------------------------------------------
 *
 * Three stable counting-sort passes turn the pairs into both directions
 * with no atomics and no comparison sort:
 *   P1  pairs -> targets grouped by source (input order within a source);
 *   P2  walk P1 in source order, place each edge by target: every in-list
 *       comes out sorted by source (the CSC);
 *   P3  walk the CSC in target order, place each edge by source: every
 *       out-list comes out sorted by target (the CSR), and the CSC entry
 *       being walked learns its edge slot -- written sequentially.
 * Stability across threads comes from per-group histograms: group g's
 * cursor for key k starts after the key-k entries of groups 0 .. g-1, and
 * groups take contiguous input ranges, so the result is the same for any
 * number of threads.  Groups need G * V counters, so G is capped to keep
 * them under about 2 bytes per edge (G = 1 is a serial pass). */

typedef struct hist {
  int G;
  uint32_t *cnt; /* G x nv */
} hist;

static int hist_init(hist *h, uint64_t nv, uint64_t ne, int T) {
  uint64_t g = nv ? ne / (2 * nv) : 1;
  if (g > (uint64_t)T) g = (uint64_t)T;
  if (g < 1) g = 1;
  h->G = (int)g;
  h->cnt = gasp__malloc_array(g * nv + 1, sizeof *h->cnt);
  return h->cnt ? GASP_OK : GASP_ENOMEM;
}

/* Turns per-group counts into per-group start cursors and fills off[]
 * (nv + 1 entries) with the totals' exclusive prefix sum. */
static void hist_cursors(hist *h, uint64_t nv, uint64_t *off, int T) {
  int64_t nvi = (int64_t)nv;
  int G = h->G;
#pragma omp parallel for num_threads(T) schedule(static, 8192)
  for (int64_t v = 0; v < nvi; v++) {
    uint64_t t = 0;
    for (int g = 0; g < G; g++)
      t += h->cnt[(uint64_t)g * nv + (uint64_t)v];
    off[v + 1] = t;
  }
  off[0] = 0;
  for (uint64_t v = 1; v <= nv; v++)
    off[v] += off[v - 1];
#pragma omp parallel for num_threads(T) schedule(static, 8192)
  for (int64_t v = 0; v < nvi; v++) {
    uint64_t run = off[v];
    for (int g = 0; g < G; g++) {
      uint32_t *c = &h->cnt[(uint64_t)g * nv + (uint64_t)v];
      uint32_t k = *c;
      *c = (uint32_t)run; /* positions < 2^32 (GASP_MAX_EDGES) */
      run += k;
    }
  }
}

/* P1: flat pairs -> vals grouped by key, input order kept. */
static void scatter_flat(build_state *st, hist *h, const uint32_t *key,
                         const uint32_t *val, const double *win,
                         uint64_t *off_out, uint32_t *vout, double *wout) {
  uint64_t nv = st->g->nv, ne = st->g->ne;
  int G = h->G;
  memset(h->cnt, 0, (size_t)G * nv * sizeof *h->cnt);
#pragma omp parallel for num_threads(G) schedule(static, 1)
  for (int k = 0; k < G; k++) {
    uint32_t *c = h->cnt + (uint64_t)k * nv;
    uint64_t lo = ne * (uint64_t)k / (uint64_t)G;
    uint64_t hi = ne * (uint64_t)(k + 1) / (uint64_t)G;
    for (uint64_t i = lo; i < hi; i++)
      c[key[i]]++;
  }
  hist_cursors(h, nv, off_out, st->T);
#pragma omp parallel for num_threads(G) schedule(static, 1)
  for (int k = 0; k < G; k++) {
    uint32_t *c = h->cnt + (uint64_t)k * nv;
    uint64_t lo = ne * (uint64_t)k / (uint64_t)G;
    uint64_t hi = ne * (uint64_t)(k + 1) / (uint64_t)G;
    for (uint64_t i = lo; i < hi; i++) {
      uint32_t p = c[key[i]]++;
      vout[p] = val[i];
      if (wout) wout[p] = win[i];
    }
  }
}

/* Smallest v in 0 .. nv with off[v] >= x. */
static inline uint64_t lower_bound_u64(const uint64_t *off, uint64_t nv,
                                       uint64_t x) {
  uint64_t lo = 0, hi = nv;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (off[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Key range [*klo, *khi) of group k: contiguous keys holding about 1/G of
 * the entries. */
static void group_keys(const uint64_t *off, uint64_t nv, uint64_t ne, int k,
                       int G, uint64_t *klo, uint64_t *khi) {
  *klo = k == 0 ? 0 : lower_bound_u64(off, nv, ne * (uint64_t)k / (uint64_t)G);
  *khi = k == G - 1
             ? nv
             : lower_bound_u64(off, nv, ne * (uint64_t)(k + 1) / (uint64_t)G);
}

/* P2 and P3: walks the lists of keys 0 .. nv-1 in order (entries
 * off_in[k] .. off_in[k+1]-1, values vin) and regroups them by value:
 * entry (k, v) is placed at p in v's output list, vout[p] = k.  With
 * `slot`, slot[j] = p for each input entry j. */
static void regroup(build_state *st, hist *h, const uint64_t *off_in,
                    const uint32_t *vin, const double *win, uint64_t *off_out,
                    uint32_t *vout, double *wout, uint32_t *slot) {
  uint64_t nv = st->g->nv, ne = st->g->ne;
  int G = h->G;
  memset(h->cnt, 0, (size_t)G * nv * sizeof *h->cnt);
#pragma omp parallel for num_threads(G) schedule(static, 1)
  for (int k = 0; k < G; k++) {
    uint32_t *c = h->cnt + (uint64_t)k * nv;
    uint64_t klo, khi;
    group_keys(off_in, nv, ne, k, G, &klo, &khi);
    for (uint64_t j = off_in[klo]; j < off_in[khi]; j++)
      c[vin[j]]++;
  }
  hist_cursors(h, nv, off_out, st->T);
#pragma omp parallel for num_threads(G) schedule(static, 1)
  for (int k = 0; k < G; k++) {
    uint32_t *c = h->cnt + (uint64_t)k * nv;
    uint64_t klo, khi;
    group_keys(off_in, nv, ne, k, G, &klo, &khi);
    for (uint64_t key = klo; key < khi; key++) {
      for (uint64_t j = off_in[key]; j < off_in[key + 1]; j++) {
        uint32_t p = c[vin[j]]++;
        vout[p] = (uint32_t)key;
        if (wout) wout[p] = win[j];
        if (slot) slot[j] = p;
      }
    }
  }
}

static int build_both(build_state *st) {
  gasp_graph *g = st->g;
  uint64_t ne = g->ne;
  hist h = {0, NULL};
  uint32_t *by_src = NULL;
  double *w1 = NULL, *w2 = NULL;
  int rc = GASP_ENOMEM;
  if (hist_init(&h, g->nv, ne, st->T)) goto out;
  /* P1: by source; out_off gets the out-degree prefix sums. */
  if (!(by_src = gasp__malloc_array(ne, sizeof *by_src))) goto out;
  if (st->pw && !(w1 = gasp__malloc_array(ne, sizeof *w1))) goto out;
  scatter_flat(st, &h, st->ps, st->pd, st->pw, g->out_off, by_src, w1);
  free(st->ps);
  free(st->pd);
  free(st->pw);
  st->ps = st->pd = NULL;
  st->pw = NULL;
  /* P2: the CSC, sorted by source. */
  if (!(g->in_nbr = gasp__malloc_array(ne, sizeof *g->in_nbr))) goto out;
  if (w1 && !(w2 = gasp__malloc_array(ne, sizeof *w2))) goto out;
  regroup(st, &h, g->out_off, by_src, w1, g->in_off, g->in_nbr, w2, NULL);
  free(by_src);
  by_src = NULL;
  free(w1);
  w1 = NULL;
  /* P3: the CSR, sorted by target, and the CSC's slots. */
  if (!(g->out_nbr = gasp__malloc_array(ne, sizeof *g->out_nbr))) goto out;
  if (!(g->in_slot = gasp__malloc_array(ne, sizeof *g->in_slot))) goto out;
  if (w2 && !(g->weight = gasp__malloc_array(ne, sizeof *g->weight))) goto out;
  regroup(st, &h, g->in_off, g->in_nbr, w2, g->out_off, g->out_nbr, g->weight,
          g->in_slot);
  rc = GASP_OK;
out:
  free(h.cnt);
  free(by_src);
  free(w1);
  free(w2);
  return rc;
}

static void state_release(build_state *st) {
  for (int s = 0; s < 2; s++) {
    idmap_release(&st->map[s]);
    free(st->gid[s]);
    st->gid[s] = NULL;
  }
  free(st->ps);
  free(st->pd);
  free(st->pw);
  st->ps = st->pd = NULL;
  st->pw = NULL;
}

static int alloc_graph_arrays(build_state *st, uint64_t ne) {
  gasp_graph *g = st->g;
  uint64_t nv = g->nv;
  g->out_off = gasp__calloc_array(nv + 1, sizeof *g->out_off);
  g->in_off = gasp__calloc_array(nv + 1, sizeof *g->in_off);
  st->ps = gasp__malloc_array(ne, sizeof *st->ps);
  st->pd = gasp__malloc_array(ne, sizeof *st->pd);
  if (!g->out_off || !g->in_off || !st->ps || !st->pd) return GASP_ENOMEM;
  if (st->weighted && !(st->pw = gasp__malloc_array(ne, sizeof *st->pw)))
    return GASP_ENOMEM;
  return GASP_OK;
}

int gasp_builder_finish(gasp_builder *b, int threads, gasp_graph **out,
                        gasp_error *err) {
  *out = NULL;
  gasp__error_clear(err);
  if (threads < 0 || threads > GASP_MAX_THREADS)
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "%d threads: expected 0 (all cores) to %d", threads,
                      GASP_MAX_THREADS);
  int rc = flush_current(b);
  if (rc) return gasp__fail(err, rc, NULL, 0, "out of memory");
  build_state st;
  memset(&st, 0, sizeof st);
  st.b = b;
  st.T = gasp__threads(threads);
  st.weighted = (b->flags & GASP_BUILD_WEIGHTED) != 0;
  st.bipartite = (b->flags & GASP_BUILD_BIPARTITE) != 0;
  st.symmetric = (b->flags & GASP_BUILD_SYMMETRIC) != 0;

  uint64_t ne = 0;
  for (size_t c = 0; c < b->nchunks; c++) {
    ne += b->chunks[c].n;
    if (st.symmetric) ne += b->chunks[c].n - b->chunks[c].loops;
  }
  if (ne > GASP_MAX_EDGES) {
    rc = gasp__fail(err, GASP_ERANGE, NULL, 0,
                    "%llu edges exceed the limit of %llu per partition",
                    (unsigned long long)ne, (unsigned long long)GASP_MAX_EDGES);
    goto done;
  }
  /* Small graphs: threads cost more than they save. */
  if (ne < 100000) st.T = 1;
  if ((rc = build_maps(&st, err))) goto done;

  gasp_graph *g = st.g = gasp__graph_alloc();
  if (!g) goto nomem;
  g->nv = g->nowned = (gasp_vid)(st.nids[0] + st.nids[1]);
  g->nleft = (gasp_vid)st.nids[0];
  g->bipartite = st.bipartite;
  g->ne = ne;
  if (st.bipartite) {
    g->gid = gasp__malloc_array(g->nv, sizeof *g->gid);
    if (!g->gid) goto nomem;
    memcpy(g->gid, st.gid[0], st.nids[0] * sizeof *g->gid);
    memcpy(g->gid + st.nids[0], st.gid[1], st.nids[1] * sizeof *g->gid);
  } else {
    g->gid = st.gid[0];
    st.gid[0] = NULL;
  }
  if (alloc_graph_arrays(&st, ne)) goto nomem;
  if (relabel(&st)) goto nomem;
  idmap_release(&st.map[0]);
  idmap_release(&st.map[1]);
  if (build_both(&st)) goto nomem;
  *out = g;
  st.g = NULL;
  rc = GASP_OK;
  goto done;
nomem:
  rc =
      gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory building the graph");
done:
  gasp_graph_free(&st.g);
  state_release(&st);
  builder_reset(b);
  return rc;
}
