/*
 * sched_sweep.c -- the "sweep" scheduler: round-robin over vertex ids.
 *
 * Queued vertices are bits of a bitmap of 64-bit words, swept cyclically
 * from a persistent cursor (ascending ids, wrapping to the start) that all
 * workers share (see create() for why not one range per worker; the code
 * still supports several ranges, each with its own cursor, tried in turn
 * from the caller's own).
 *
 * pop() owns a vertex by clearing its bit with an atomic fetch-and: only
 * the thread that sees the bit go from 1 to 0 returns it, so a vertex is
 * returned once per push.  Counts of queued vertices per range and in
 * total let pop() skip empty ranges, and return at once when nothing is
 * queued, without scanning.  push() raises the counts before setting the
 * bit and pop() lowers them after clearing it, so a count is never below
 * the number of bits set in its range.
 */
#include "engine_internal.h"

typedef struct range {
  size_t lo, hi;   /* words [lo, hi) */
  uint64_t count;  /* atomic: queued vertices, an upper bound */
  uint64_t cursor; /* atomic: next vertex id to look at */
  char pad[32];
} range;

struct gasp__sched {
  uint64_t *bits; /* atomic words */
  range *r;
  int nr;
  gasp_vid nv;
  size_t words;
  char pad[64];
  uint64_t total; /* atomic: queued vertices, an upper bound */
};

static void destroy(gasp__sched *s) {
  if (!s) return;
  free(s->bits);
  free(s->r);
  free(s);
}

static int create(gasp__sched **out, gasp_vid nv, int threads) {
  *out = NULL;
  if (threads < 1) return GASP_EINVAL;
  gasp__sched *s = gasp__calloc(1, sizeof *s);
  if (!s) return GASP_ENOMEM;
  s->nv = nv;
  /* One cyclic sweep shared by all workers.  Per-thread ranges (each
   * worker sweeping its own share) were measured to degrade into eager
   * scheduling: a worker whose share holds few vertices revisits them as
   * soon as a neighbour signals, before signals can merge (residual
   * PageRank: 20x the updates with 3 threads).  A shared cursor keeps the
   * round-robin order global, so a vertex waits one sweep and collects its
   * signals.  The range structure is kept for a later partitioned sweep. */
  s->nr = 1;
  (void)threads;
  s->words = ((size_t)nv + 63) / 64;
  s->bits = gasp__calloc(s->words + 1, sizeof *s->bits);
  s->r = gasp__calloc(1, sizeof *s->r);
  if (!s->bits || !s->r) {
    destroy(s);
    return GASP_ENOMEM;
  }
  for (int i = 0; i < s->nr; i++) {
    s->r[i].lo = s->words * (size_t)i / (size_t)s->nr;
    s->r[i].hi = s->words * (size_t)(i + 1) / (size_t)s->nr;
    s->r[i].cursor = s->r[i].lo * 64;
  }
  *out = s;
  return GASP_OK;
}

/* The range holding word w (ranges are the even split made in create). */
static int range_of(const gasp__sched *s, size_t w) {
  int i = (int)(w * (size_t)s->nr / s->words); /* a guess, then exact */
  if (i >= s->nr) i = s->nr - 1;
  while (i > 0 && s->r[i].lo > w)
    i--;
  while (i + 1 < s->nr && s->r[i].hi <= w)
    i++;
  return i;
}

static void push(gasp__sched *s, int tid, gasp_vid v, double priority) {
  (void)tid;
  (void)priority;
  size_t w = v / 64;
  range *r = &s->r[range_of(s, w)];
  __atomic_fetch_add(&r->count, 1, __ATOMIC_ACQ_REL);
  __atomic_fetch_add(&s->total, 1, __ATOMIC_ACQ_REL);
  __atomic_fetch_or(&s->bits[w], 1ull << (v % 64), __ATOMIC_ACQ_REL);
}

/* Tries to claim a set bit of word w at or above bit `from`. */
static int claim(gasp__sched *s, size_t w, unsigned from, gasp_vid *v) {
  uint64_t mask = from >= 64 ? 0 : ~0ull << from;
  uint64_t x = __atomic_load_n(&s->bits[w], __ATOMIC_ACQUIRE) & mask;
  while (x) {
    unsigned b = (unsigned)__builtin_ctzll(x);
    uint64_t bit = 1ull << b;
    uint64_t old = __atomic_fetch_and(&s->bits[w], ~bit, __ATOMIC_ACQ_REL);
    if (old & bit) {
      *v = (gasp_vid)(w * 64 + b);
      return 1;
    }
    x = old & mask & ~bit; /* someone else took it; look further on */
  }
  return 0;
}

/* One cyclic sweep of range r from its cursor. */
static int sweep(gasp__sched *s, range *r, gasp_vid *v) {
  if (r->lo == r->hi || __atomic_load_n(&r->count, __ATOMIC_ACQUIRE) == 0)
    return 0;
  uint64_t c = __atomic_load_n(&r->cursor, __ATOMIC_RELAXED);
  if (c < r->lo * 64 || c >= r->hi * 64) c = r->lo * 64;
  size_t w0 = c / 64, n = r->hi - r->lo;
  unsigned b0 = (unsigned)(c % 64);
  int found = claim(s, w0, b0, v);
  for (size_t i = 1; !found && i <= n; i++) {
    size_t w = w0 + i < r->hi ? w0 + i : w0 + i - n;
    found = claim(s, w, 0, v); /* i == n: the bits of w0 below b0 */
  }
  if (!found) return 0;
  __atomic_fetch_sub(&r->count, 1, __ATOMIC_ACQ_REL);
  __atomic_fetch_sub(&s->total, 1, __ATOMIC_ACQ_REL);
  __atomic_store_n(&r->cursor, (uint64_t)*v + 1, __ATOMIC_RELAXED);
  return 1;
}

static int pop(gasp__sched *s, int tid, gasp_vid *v) {
  if (__atomic_load_n(&s->total, __ATOMIC_ACQUIRE) == 0) return 0;
  int own = (int)((unsigned)tid % (unsigned)s->nr);
  for (int i = 0; i < s->nr; i++) {
    int k = own + i < s->nr ? own + i : own + i - s->nr;
    if (sweep(s, &s->r[k], v)) return 1;
  }
  return 0;
}

const gasp__sched_ops gasp__sched_sweep = {.name = "sweep",
                                           .create = create,
                                           .destroy = destroy,
                                           .push = push,
                                           .pop = pop,
                                           .raise = NULL};
