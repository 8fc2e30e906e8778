/*
 * sched_fifo.c -- the "fifo" scheduler: first signalled, first updated.
 *
 * One queue per thread, each a growable ring buffer behind its own
 * mutex.  push() appends to the caller's queue; pop() takes the oldest
 * vertex of the caller's queue and, when that is empty, steals the oldest
 * of the other queues, visited round-robin from the caller's neighbour.
 * Order is FIFO per queue (exactly FIFO with one thread).
 *
 * push() cannot fail, so should a ring fail to grow the vertex goes to a
 * spill set (one flag byte per vertex, allocated up front) that pop()
 * drains once the queues are empty; it is never touched otherwise.
 */
#include "engine_internal.h"

#include <string.h>

#define INITIAL_CAP 64

typedef struct queue {
  pthread_mutex_t mu;
  gasp_vid *buf;
  size_t cap, head;
  size_t n; /* written under mu, read without it: atomic */
  char pad[64];
} queue;

struct gasp__sched {
  queue *q;
  int nq;
  gasp_vid nv;
  uint8_t *spill;        /* atomic flags */
  uint64_t nspill;       /* atomic: flags set */
  gasp_vid spill_cursor; /* atomic, a hint */
};

static void destroy(gasp__sched *s) {
  if (!s) return;
  if (s->q) {
    for (int i = 0; i < s->nq; i++) {
      pthread_mutex_destroy(&s->q[i].mu);
      free(s->q[i].buf);
    }
    free(s->q);
  }
  free(s->spill);
  free(s);
}

static int create(gasp__sched **out, gasp_vid nv, int threads) {
  *out = NULL;
  if (threads < 1) return GASP_EINVAL;
  gasp__sched *s = gasp__calloc(1, sizeof *s);
  if (!s) return GASP_ENOMEM;
  s->nv = nv;
  s->q = gasp__calloc((size_t)threads, sizeof *s->q);
  s->spill = gasp__calloc((size_t)nv + 1, 1);
  if (!s->q || !s->spill) {
    destroy(s);
    return GASP_ENOMEM;
  }
  for (int i = 0; i < threads; i++) {
    queue *q = &s->q[i];
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
      destroy(s);
      return GASP_ENOMEM;
    }
    s->nq = i + 1;
    q->cap = INITIAL_CAP;
    q->buf = gasp__malloc(q->cap * sizeof *q->buf);
    if (!q->buf) {
      destroy(s);
      return GASP_ENOMEM;
    }
  }
  *out = s;
  return GASP_OK;
}

/* Doubles q's ring, keeping the order; called with q->mu held. */
static int grow(queue *q) {
  size_t cap = q->cap * 2;
  if (cap < q->cap || cap > SIZE_MAX / sizeof *q->buf) return 0;
  gasp_vid *b = gasp__malloc(cap * sizeof *b);
  if (!b) return 0;
  size_t first = q->cap - q->head;
  if (first > q->n) first = q->n;
  memcpy(b, q->buf + q->head, first * sizeof *b);
  memcpy(b + first, q->buf, (q->n - first) * sizeof *b);
  free(q->buf);
  q->buf = b;
  q->cap = cap;
  q->head = 0;
  return 1;
}

static void push(gasp__sched *s, int tid, gasp_vid v, double priority) {
  (void)priority;
  queue *q = &s->q[(unsigned)tid % (unsigned)s->nq];
  pthread_mutex_lock(&q->mu);
  if (q->n < q->cap || grow(q)) {
    size_t t = q->head + q->n;
    if (t >= q->cap) t -= q->cap;
    q->buf[t] = v;
    __atomic_store_n(&q->n, q->n + 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&q->mu);
    return;
  }
  pthread_mutex_unlock(&q->mu);
  /* out of memory: keep v in the spill set */
  if (!__atomic_exchange_n(&s->spill[v], 1, __ATOMIC_ACQ_REL))
    __atomic_fetch_add(&s->nspill, 1, __ATOMIC_RELEASE);
}

/* Takes the oldest vertex of q, if any. */
static int take(queue *q, gasp_vid *v) {
  if (__atomic_load_n(&q->n, __ATOMIC_RELAXED) == 0) return 0;
  pthread_mutex_lock(&q->mu);
  if (q->n == 0) {
    pthread_mutex_unlock(&q->mu);
    return 0;
  }
  *v = q->buf[q->head];
  q->head = q->head + 1 == q->cap ? 0 : q->head + 1;
  __atomic_store_n(&q->n, q->n - 1, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&q->mu);
  return 1;
}

static int take_spill(gasp__sched *s, gasp_vid *v) {
  if (__atomic_load_n(&s->nspill, __ATOMIC_ACQUIRE) == 0) return 0;
  gasp_vid start = __atomic_load_n(&s->spill_cursor, __ATOMIC_RELAXED);
  if (start >= s->nv) start = 0;
  for (gasp_vid i = 0; i < s->nv; i++) {
    gasp_vid u = start + i < s->nv ? start + i : start + i - s->nv;
    if (__atomic_load_n(&s->spill[u], __ATOMIC_RELAXED) &&
        __atomic_exchange_n(&s->spill[u], 0, __ATOMIC_ACQ_REL)) {
      __atomic_fetch_sub(&s->nspill, 1, __ATOMIC_RELEASE);
      __atomic_store_n(&s->spill_cursor, u + 1, __ATOMIC_RELAXED);
      *v = u;
      return 1;
    }
  }
  return 0;
}

static int pop(gasp__sched *s, int tid, gasp_vid *v) {
  int own = (int)((unsigned)tid % (unsigned)s->nq);
  for (int i = 0; i < s->nq; i++) {
    int k = own + i < s->nq ? own + i : own + i - s->nq;
    if (take(&s->q[k], v)) return 1;
  }
  return take_spill(s, v);
}

const gasp__sched_ops gasp__sched_fifo = {.name = "fifo",
                                          .create = create,
                                          .destroy = destroy,
                                          .push = push,
                                          .pop = pop,
                                          .raise = NULL};
