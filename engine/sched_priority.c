/*
 * sched_priority.c -- the "priority" scheduler: largest priority first.
 *
 * Vertex v lives in shard v % nshards (nshards = threads), an indexed
 * binary max-heap behind its own mutex.  Each shard's heap has room for
 * all its vertices up front, so push() never allocates.  The position of
 * each vertex in its heap and its queued priority are per-vertex arrays,
 * an entry only touched under the lock of the vertex's shard.
 *
 * push() of a queued vertex raises its priority to the larger of the two
 * and sifts it up; raise() does the same but leaves an unqueued vertex
 * alone.  pop() compares the shards' tops through an atomic
 * snapshot of each (size and top priority, republished under the lock
 * after every change), takes from the shard with the largest top, and
 * falls back to any non-empty shard if that one was emptied meanwhile.
 * With several shards the order is thus only approximately by priority;
 * with one thread it is exact.  NaN counts as -infinity.
 */
#include "engine_internal.h"

#include <math.h>
#include <string.h>

#define NOT_QUEUED UINT32_MAX

typedef struct shard {
  pthread_mutex_t mu;
  gasp_vid *heap; /* vertex ids, slice of the shared array */
  uint32_t len;   /* under mu */
  uint32_t n;     /* atomic snapshot of len */
  uint64_t top;   /* atomic snapshot: bits of the top's priority */
  char pad[64];
} shard;

struct gasp__sched {
  shard *sh;
  int nsh, ninit;
  gasp_vid *heaps; /* all shards' heaps, nv ids */
  uint32_t *pos;   /* per vertex: index in its heap or NOT_QUEUED */
  double *prio;    /* per vertex: queued priority */
};

static uint64_t bits_of(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static double of_bits(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static void destroy(gasp__sched *s) {
  if (!s) return;
  for (int i = 0; i < s->ninit; i++)
    pthread_mutex_destroy(&s->sh[i].mu);
  free(s->sh);
  free(s->heaps);
  free(s->pos);
  free(s->prio);
  free(s);
}

static int create(gasp__sched **out, gasp_vid nv, int threads) {
  *out = NULL;
  if (threads < 1) return GASP_EINVAL;
  gasp__sched *s = gasp__calloc(1, sizeof *s);
  if (!s) return GASP_ENOMEM;
  s->nsh = threads;
  s->sh = gasp__calloc((size_t)threads, sizeof *s->sh);
  s->heaps = gasp__malloc(((size_t)nv + 1) * sizeof *s->heaps);
  s->pos = gasp__malloc(((size_t)nv + 1) * sizeof *s->pos);
  s->prio = gasp__malloc(((size_t)nv + 1) * sizeof *s->prio);
  if (!s->sh || !s->heaps || !s->pos || !s->prio) {
    destroy(s);
    return GASP_ENOMEM;
  }
  memset(s->pos, 0xff, ((size_t)nv + 1) * sizeof *s->pos);
  /* shard i holds the vertices v < nv with v % threads == i */
  size_t q = nv / (size_t)threads, r = nv % (size_t)threads, off = 0;
  for (int i = 0; i < threads; i++) {
    shard *h = &s->sh[i];
    if (pthread_mutex_init(&h->mu, NULL) != 0) {
      destroy(s);
      return GASP_ENOMEM;
    }
    s->ninit = i + 1;
    h->heap = s->heaps + off;
    h->top = bits_of(-INFINITY);
    off += q + ((size_t)i < r);
  }
  *out = s;
  return GASP_OK;
}

static void place(gasp__sched *s, shard *h, uint32_t i, gasp_vid v) {
  h->heap[i] = v;
  s->pos[v] = i;
}

static void sift_up(gasp__sched *s, shard *h, uint32_t i) {
  gasp_vid v = h->heap[i];
  double p = s->prio[v];
  while (i > 0) {
    uint32_t up = (i - 1) / 2;
    if (!(s->prio[h->heap[up]] < p)) break;
    place(s, h, i, h->heap[up]);
    i = up;
  }
  place(s, h, i, v);
}

static void sift_down(gasp__sched *s, shard *h, uint32_t i) {
  gasp_vid v = h->heap[i];
  double p = s->prio[v];
  uint32_t n = h->len;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && s->prio[h->heap[c + 1]] > s->prio[h->heap[c]]) c++;
    if (!(s->prio[h->heap[c]] > p)) break;
    place(s, h, i, h->heap[c]);
    i = c;
  }
  place(s, h, i, v);
}

/* Republishes h's size and top; called with h->mu held. */
static void publish(gasp__sched *s, shard *h) {
  double t = h->len ? s->prio[h->heap[0]] : -INFINITY;
  __atomic_store_n(&h->top, bits_of(t), __ATOMIC_RELAXED);
  __atomic_store_n(&h->n, h->len, __ATOMIC_RELEASE);
}

/* Inserts v, or raises it when queued; only raises when `insert` is 0. */
static void put(gasp__sched *s, gasp_vid v, double priority, int insert) {
  if (isnan(priority)) priority = -INFINITY;
  shard *h = &s->sh[v % (gasp_vid)s->nsh];
  pthread_mutex_lock(&h->mu);
  uint32_t i = s->pos[v];
  if (i == NOT_QUEUED) {
    if (insert) {
      s->prio[v] = priority;
      i = h->len++;
      h->heap[i] = v;
      sift_up(s, h, i);
      publish(s, h);
    }
  } else if (priority > s->prio[v]) {
    s->prio[v] = priority;
    sift_up(s, h, i);
    if (s->pos[v] == 0) publish(s, h);
  }
  pthread_mutex_unlock(&h->mu);
}

static void push(gasp__sched *s, int tid, gasp_vid v, double priority) {
  (void)tid;
  put(s, v, priority, 1);
}

static void raise_priority(gasp__sched *s, int tid, gasp_vid v,
                           double priority) {
  (void)tid;
  put(s, v, priority, 0);
}

/* Takes h's top, if any. */
static int take(gasp__sched *s, shard *h, gasp_vid *v) {
  if (__atomic_load_n(&h->n, __ATOMIC_ACQUIRE) == 0) return 0;
  pthread_mutex_lock(&h->mu);
  if (h->len == 0) {
    pthread_mutex_unlock(&h->mu);
    return 0;
  }
  gasp_vid u = h->heap[0];
  s->pos[u] = NOT_QUEUED;
  if (--h->len > 0) {
    h->heap[0] = h->heap[h->len];
    sift_down(s, h, 0);
  }
  publish(s, h);
  pthread_mutex_unlock(&h->mu);
  *v = u;
  return 1;
}

static int pop(gasp__sched *s, int tid, gasp_vid *v) {
  int own = (int)((unsigned)tid % (unsigned)s->nsh);
  int best = -1;
  double bp = 0;
  /* the caller's own shard wins ties, to spread the lock traffic */
  for (int i = 0; i < s->nsh; i++) {
    int k = own + i < s->nsh ? own + i : own + i - s->nsh;
    shard *h = &s->sh[k];
    if (__atomic_load_n(&h->n, __ATOMIC_ACQUIRE) == 0) continue;
    double t = of_bits(__atomic_load_n(&h->top, __ATOMIC_RELAXED));
    if (best < 0 || t > bp) {
      best = k;
      bp = t;
    }
  }
  if (best < 0) return 0;
  if (take(s, &s->sh[best], v)) return 1;
  for (int i = 0; i < s->nsh; i++) {
    int k = own + i < s->nsh ? own + i : own + i - s->nsh;
    if (take(s, &s->sh[k], v)) return 1;
  }
  return 0;
}

const gasp__sched_ops gasp__sched_priority = {.name = "priority",
                                              .create = create,
                                              .destroy = destroy,
                                              .push = push,
                                              .pop = pop,
                                              .raise = raise_priority};
