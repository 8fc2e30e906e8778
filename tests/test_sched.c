/*
 * test_sched.c -- the async engine's schedulers (fifo, sweep, priority):
 * single-thread ordering, empty pops, tiny vertex counts, and a stress
 * test where four pthreads push and pop concurrently and every push must
 * come back from exactly one pop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "engine_internal.h"

static const gasp__sched_ops *const all[] = {
    &gasp__sched_fifo, &gasp__sched_sweep, &gasp__sched_priority};
#define NALL (sizeof all / sizeof *all)

static gasp__sched *mk(const gasp__sched_ops *ops, gasp_vid nv, int threads) {
  gasp__sched *s = NULL;
  assert_int_equal(ops->create(&s, nv, threads), GASP_OK);
  assert_non_null(s);
  return s;
}

static gasp_vid pop1(const gasp__sched_ops *ops, gasp__sched *s, int tid) {
  gasp_vid v = 0;
  assert_int_equal(ops->pop(s, tid, &v), 1);
  return v;
}

static void assert_empty(const gasp__sched_ops *ops, gasp__sched *s,
                         int threads) {
  for (int t = 0; t < threads; t++) {
    gasp_vid v = 12345;
    assert_int_equal(ops->pop(s, t, &v), 0);
  }
}

/* ---- common ---------------------------------------------------------- */

static void test_names(void **state) {
  (void)state;
  assert_string_equal(gasp__sched_fifo.name, "fifo");
  assert_string_equal(gasp__sched_sweep.name, "sweep");
  assert_string_equal(gasp__sched_priority.name, "priority");
}

static void test_bad_threads(void **state) {
  (void)state;
  for (size_t k = 0; k < NALL; k++) {
    gasp__sched *s = (gasp__sched *)1;
    assert_int_equal(all[k]->create(&s, 10, 0), GASP_EINVAL);
    assert_null(s);
  }
}

static void test_empty_and_tiny(void **state) {
  (void)state;
  for (size_t k = 0; k < NALL; k++) {
    const gasp__sched_ops *ops = all[k];
    for (int threads = 1; threads <= 5; threads += 4) {
      gasp__sched *s = mk(ops, 0, threads);
      assert_empty(ops, s, threads);
      ops->destroy(s);

      s = mk(ops, 1, threads);
      assert_empty(ops, s, threads);
      for (int round = 0; round < 3; round++) {
        ops->push(s, threads - 1, 0, 1.0);
        assert_int_equal(pop1(ops, s, 0), 0);
        assert_empty(ops, s, threads);
      }
      ops->destroy(s);

      s = mk(ops, 1000, threads);
      assert_empty(ops, s, threads);
      ops->destroy(s);
    }
    ops->destroy(NULL);
  }
}

/* ---- fifo ------------------------------------------------------------ */

static void test_fifo_order(void **state) {
  (void)state;
  const gasp__sched_ops *ops = &gasp__sched_fifo;
  gasp__sched *s = mk(ops, 5000, 1);
  /* enough to make the ring grow while wrapped around */
  gasp_vid next_in = 0, next_out = 0;
  for (int i = 0; i < 50; i++) ops->push(s, 0, (next_in++ * 7) % 5000, 0);
  for (int i = 0; i < 30; i++)
    assert_int_equal(pop1(ops, s, 0), (next_out++ * 7) % 5000);
  for (int i = 0; i < 4000; i++) ops->push(s, 0, (next_in++ * 7) % 5000, 0);
  while (next_out < next_in)
    assert_int_equal(pop1(ops, s, 0), (next_out++ * 7) % 5000);
  assert_empty(ops, s, 1);
  ops->destroy(s);
}

static void test_fifo_steal(void **state) {
  (void)state;
  const gasp__sched_ops *ops = &gasp__sched_fifo;
  gasp__sched *s = mk(ops, 100, 3);
  ops->push(s, 1, 10, 0);
  ops->push(s, 1, 11, 0);
  ops->push(s, 2, 20, 0);
  ops->push(s, 0, 5, 0);
  assert_int_equal(pop1(ops, s, 0), 5);  /* own queue first */
  assert_int_equal(pop1(ops, s, 0), 10); /* then queue 1, FIFO */
  assert_int_equal(pop1(ops, s, 2), 20); /* own */
  assert_int_equal(pop1(ops, s, 2), 11); /* stolen from 1 */
  assert_empty(ops, s, 3);
  ops->destroy(s);
}

/* ---- sweep ----------------------------------------------------------- */

static void test_sweep_order(void **state) {
  (void)state;
  const gasp__sched_ops *ops = &gasp__sched_sweep;
  gasp__sched *s = mk(ops, 300, 1);
  gasp_vid in[] = {200, 5, 64, 63, 299, 0, 130};
  for (size_t i = 0; i < sizeof in / sizeof *in; i++)
    ops->push(s, 0, in[i], 0);
  gasp_vid want[] = {0, 5, 63, 64, 130};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    assert_int_equal(pop1(ops, s, 0), want[i]);
  /* cursor now at 131: ids below it come after those above, cyclically */
  ops->push(s, 0, 1, 0);
  ops->push(s, 0, 131, 0);
  ops->push(s, 0, 130, 0);
  gasp_vid want2[] = {131, 200, 299, 1, 130};
  for (size_t i = 0; i < sizeof want2 / sizeof *want2; i++)
    assert_int_equal(pop1(ops, s, 0), want2[i]);
  assert_empty(ops, s, 1);
  ops->destroy(s);
}

/* With several workers there is still one sweep: whichever thread pops,
 * vertices come out in ascending order from the shared cursor, wrapping. */
static void test_sweep_shared(void **state) {
  (void)state;
  const gasp__sched_ops *ops = &gasp__sched_sweep;
  gasp__sched *s = mk(ops, 256, 4);
  ops->push(s, 0, 200, 0);
  ops->push(s, 0, 70, 0);
  ops->push(s, 0, 10, 0);
  ops->push(s, 0, 65, 0);
  assert_int_equal(pop1(ops, s, 1), 10);
  assert_int_equal(pop1(ops, s, 3), 65);
  ops->push(s, 0, 20, 0); /* behind the cursor: waits for the wrap */
  assert_int_equal(pop1(ops, s, 2), 70);
  assert_int_equal(pop1(ops, s, 0), 200);
  assert_int_equal(pop1(ops, s, 1), 20);
  assert_empty(ops, s, 4);
  ops->destroy(s);
}

/* ---- priority -------------------------------------------------------- */

static void test_priority_order(void **state) {
  (void)state;
  const gasp__sched_ops *ops = &gasp__sched_priority;
  enum { N = 2000 };
  gasp__sched *s = mk(ops, N, 1);
  /* distinct priorities in a scrambled order */
  for (gasp_vid v = 0; v < N; v++)
    ops->push(s, 0, v, (double)((v * 7919u) % N));
  /* raising: a queued vertex moves up; a lower value changes nothing */
  ops->push(s, 0, 3, 1e9);
  ops->push(s, 0, 4, -5.0);
  ops->push(s, 0, 5, NAN);
  assert_int_equal(pop1(ops, s, 0), 3);
  double last = INFINITY;
  for (int i = 1; i < N; i++) {
    gasp_vid v = pop1(ops, s, 0);
    assert_true(v != 3);
    double p = (double)((v * 7919u) % N);
    assert_true(p < last);
    last = p;
  }
  assert_empty(ops, s, 1);

  /* NaN counts as -inf: after everything else, before nothing */
  ops->push(s, 0, 7, NAN);
  ops->push(s, 0, 8, -1e300);
  ops->push(s, 0, 9, -INFINITY);
  assert_int_equal(pop1(ops, s, 0), 8);
  gasp_vid a = pop1(ops, s, 0), b = pop1(ops, s, 0);
  assert_true((a == 7 && b == 9) || (a == 9 && b == 7));
  ops->push(s, 0, 7, NAN);
  ops->push(s, 0, 7, 2.0); /* raises -inf */
  ops->push(s, 0, 9, 1.0);
  assert_int_equal(pop1(ops, s, 0), 7);
  assert_int_equal(pop1(ops, s, 0), 9);
  assert_empty(ops, s, 1);
  ops->destroy(s);
}

static void test_priority_raise(void **state) {
  (void)state;
  assert_null(gasp__sched_fifo.raise);
  assert_null(gasp__sched_sweep.raise);
  const gasp__sched_ops *ops = &gasp__sched_priority;
  assert_non_null(ops->raise);
  gasp__sched *s = mk(ops, 10, 1);
  ops->raise(s, 0, 4, 9.0); /* not queued: nothing */
  assert_empty(ops, s, 1);
  ops->push(s, 0, 1, 1.0);
  ops->push(s, 0, 2, 2.0);
  ops->push(s, 0, 3, 3.0);
  ops->raise(s, 0, 1, 5.0);  /* moves to the top */
  ops->raise(s, 0, 3, 0.5);  /* never lowers */
  ops->raise(s, 0, 2, NAN);  /* -inf: nothing */
  ops->raise(s, 0, 5, 99.0); /* not queued: nothing */
  assert_int_equal(pop1(ops, s, 0), 1);
  assert_int_equal(pop1(ops, s, 0), 3);
  assert_int_equal(pop1(ops, s, 0), 2);
  ops->raise(s, 0, 2, 9.0); /* popped: nothing */
  assert_empty(ops, s, 1);
  ops->destroy(s);
}

static void test_priority_shards(void **state) {
  (void)state;
  const gasp__sched_ops *ops = &gasp__sched_priority;
  gasp__sched *s = mk(ops, 100, 3);
  for (gasp_vid v = 0; v < 30; v++) ops->push(s, (int)v % 3, v, (double)v);
  ops->push(s, 1, 0, 100.0); /* raise in shard 0 */
  /* sequential pops see exact tops, so exact order */
  assert_int_equal(pop1(ops, s, 2), 0);
  for (int v = 29; v >= 1; v--) assert_int_equal(pop1(ops, s, v % 3), v);
  assert_empty(ops, s, 3);
  ops->destroy(s);
}

/* ---- concurrent stress ---------------------------------------------- */

enum { STRESS_THREADS = 4, STRESS_NV = 777, STRESS_OPS = 60000 };

typedef struct stress {
  const gasp__sched_ops *ops;
  gasp__sched *s;
  uint8_t queued[STRESS_NV];   /* atomic, as the engine's flags */
  uint64_t pushes[STRESS_NV];  /* atomic */
  uint64_t pops[STRESS_NV];    /* atomic */
  uint64_t dup;                /* atomic: pops of an unqueued vertex */
  uint64_t bad;                /* atomic: ids out of range */
} stress;

typedef struct worker {
  stress *st;
  int tid;
} worker;

static void got(stress *st, gasp_vid v) {
  if (v >= STRESS_NV) {
    __atomic_fetch_add(&st->bad, 1, __ATOMIC_RELAXED);
    return;
  }
  __atomic_fetch_add(&st->pops[v], 1, __ATOMIC_RELAXED);
  if (!__atomic_exchange_n(&st->queued[v], 0, __ATOMIC_ACQ_REL))
    __atomic_fetch_add(&st->dup, 1, __ATOMIC_RELAXED);
}

static void *stress_main(void *arg) {
  worker *w = arg;
  stress *st = w->st;
  uint64_t rng = 0x9E3779B97F4A7C15ull * (uint64_t)(w->tid + 1);
  for (int i = 0; i < STRESS_OPS; i++) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    if (rng % 5 < 3) { /* push a few, biased to a hot set */
      gasp_vid v = (gasp_vid)((rng >> 8) % (rng % 2 ? 64 : STRESS_NV));
      if (!__atomic_exchange_n(&st->queued[v], 1, __ATOMIC_ACQ_REL)) {
        __atomic_fetch_add(&st->pushes[v], 1, __ATOMIC_RELAXED);
        st->ops->push(st->s, w->tid, v, (double)(rng >> 40));
      } else if (st->ops->raise) { /* queued or not: must not insert */
        st->ops->raise(st->s, w->tid, v, (double)(rng >> 30));
      }
    } else {
      gasp_vid v;
      if (st->ops->pop(st->s, w->tid, &v)) got(st, v);
    }
  }
  return NULL;
}

static void run_stress(const gasp__sched_ops *ops) {
  stress *st = calloc(1, sizeof *st);
  assert_non_null(st);
  st->ops = ops;
  st->s = mk(ops, STRESS_NV, STRESS_THREADS);
  pthread_t th[STRESS_THREADS];
  worker w[STRESS_THREADS];
  for (int t = 0; t < STRESS_THREADS; t++) {
    w[t].st = st;
    w[t].tid = t;
    assert_int_equal(pthread_create(&th[t], NULL, stress_main, &w[t]), 0);
  }
  for (int t = 0; t < STRESS_THREADS; t++)
    assert_int_equal(pthread_join(th[t], NULL), 0);
  /* drain what is left, from every tid */
  gasp_vid v;
  for (int t = 0; t < STRESS_THREADS; t++)
    while (ops->pop(st->s, t, &v)) got(st, v);
  assert_empty(ops, st->s, STRESS_THREADS);

  uint64_t tpush = 0, tpop = 0;
  for (gasp_vid u = 0; u < STRESS_NV; u++) {
    assert_int_equal(st->pops[u], st->pushes[u]);
    assert_int_equal(st->queued[u], 0);
    tpush += st->pushes[u];
    tpop += st->pops[u];
  }
  assert_int_equal(st->dup, 0);
  assert_int_equal(st->bad, 0);
  assert_int_equal(tpop, tpush);
  assert_true(tpush > STRESS_NV); /* vertices were re-pushed */
  ops->destroy(st->s);
  free(st);
}

static void test_stress_fifo(void **state) {
  (void)state;
  run_stress(&gasp__sched_fifo);
}

static void test_stress_sweep(void **state) {
  (void)state;
  run_stress(&gasp__sched_sweep);
}

static void test_stress_priority(void **state) {
  (void)state;
  run_stress(&gasp__sched_priority);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_bad_threads),
      cmocka_unit_test(test_empty_and_tiny),
      cmocka_unit_test(test_fifo_order),
      cmocka_unit_test(test_fifo_steal),
      cmocka_unit_test(test_sweep_order),
      cmocka_unit_test(test_sweep_shared),
      cmocka_unit_test(test_priority_order),
      cmocka_unit_test(test_priority_raise),
      cmocka_unit_test(test_priority_shards),
      cmocka_unit_test(test_stress_fifo),
      cmocka_unit_test(test_stress_sweep),
      cmocka_unit_test(test_stress_priority),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
