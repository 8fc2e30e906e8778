/*
 * test_gpu.c -- the device apply without a GPU: the batcher and both
 * engines run on a host-side mock of the device whose streams queue their
 * work and run it only when waited for, as a real device may.  So a slot
 * repacked before its batch came back, a copy of the wrong extent, or a
 * batch never waited for shows up as wrong results.
 *
 *  - packing: the device sees word w of item i at w * pitch + i, for 4-
 *    and 8-byte words; only the batch's vertices change on the host;
 *  - batch boundaries and flushes: full, by age (a controlled clock), at
 *    the end; done callbacks in the order added; two streams in flight;
 *  - engines: min-label components (sync, async under locks with every
 *    consistency and scheduler, chromatic) equal a union-find reference,
 *    and a power iteration equals the CPU apply bit for bit; under locks
 *    a detector sees no two adjacent vertices in an update at once for
 *    edge/full consistency (and does see them for vertex consistency:
 *    batches hold many vertices, so the detector is shown to work);
 *  - a device failure fails the run with the device's reason, releasing
 *    every lock (the next run succeeds); --gpu on with no device or no
 *    device apply is refused; auto with no device takes the CPU path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_internal.h"
#include "gpu.h"

/* ---- the mock device --------------------------------------------------- */

typedef struct mock_op {
  void *dst;
  const void *src;
  size_t dpitch, spitch, width, rows;
  void (*fn)(void *arg); /* a "kernel": fn(arg), arg owned by the op */
  void *arg;
} mock_op;

typedef struct mock_stream {
  mock_op *op;
  size_t n, cap;
  uint64_t copies; /* copies enqueued on it so far */
} mock_stream;

typedef struct mock_dev {
  int fail;                         /* atomic: waits fail while set */
  uint64_t streams_busy, most_busy; /* atomic: streams with queued work */
  uint64_t live;                    /* allocations not yet freed */
  /* the fail_copy-th copy on a stream fails, on the first stream to get
   * there (counted per stream: the async engine's workers copy on their
   * own streams at once, so a count over the device would fail whichever
   * copy came fourth, not a batch's fourth) */
  uint64_t fail_copy, failed_copy; /* atomic */
} mock_dev;

static void enqueue(mock_stream *s, mock_op op) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 8;
    s->op = realloc(s->op, s->cap * sizeof *s->op);
    assert_non_null(s->op);
  }
  s->op[s->n++] = op;
}

static void *m_alloc(void *dev, size_t bytes) {
  __atomic_fetch_add(&((mock_dev *)dev)->live, 1, __ATOMIC_RELAXED);
  return malloc(bytes ? bytes : 1);
}
static void m_free(void *dev, void *p) {
  if (!p) return;
  __atomic_fetch_sub(&((mock_dev *)dev)->live, 1, __ATOMIC_RELAXED);
  free(p);
}
static int m_stream_new(void *dev, void **s) {
  __atomic_fetch_add(&((mock_dev *)dev)->live, 1, __ATOMIC_RELAXED);
  *s = calloc(1, sizeof(mock_stream));
  return *s ? 0 : -1;
}
static void m_stream_free(void *dev, void *sp) {
  mock_stream *s = sp;
  __atomic_fetch_sub(&((mock_dev *)dev)->live, 1, __ATOMIC_RELAXED);
  for (size_t i = 0; i < s->n; i++)
    free(s->op[i].arg);
  free(s->op);
  free(s);
}
static void note_busy(mock_dev *d, mock_stream *s) {
  if (s->n) return; /* already counted */
  uint64_t b = __atomic_add_fetch(&d->streams_busy, 1, __ATOMIC_RELAXED);
  uint64_t m = __atomic_load_n(&d->most_busy, __ATOMIC_RELAXED);
  while (b > m &&
         !__atomic_compare_exchange_n(&d->most_busy, &m, b, 1, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED))
    ;
}
static int m_copy(void *dev, void *dst, size_t dpitch, const void *src,
                  size_t spitch, size_t width, size_t rows, void *s) {
  mock_dev *d = dev;
  mock_stream *ms = s;
  uint64_t k = ++ms->copies; /* a stream is used by one thread at a time */
  if (k == __atomic_load_n(&d->fail_copy, __ATOMIC_RELAXED) &&
      !__atomic_exchange_n(&d->failed_copy, 1, __ATOMIC_RELAXED))
    return -1;
  note_busy(dev, s);
  enqueue(s, (mock_op){dst, src, dpitch, spitch, width, rows, NULL, NULL});
  return 0;
}
/* Runs the stream's queue now: copies read their source only now. */
static int m_wait(void *dev, void *sp) {
  mock_dev *d = dev;
  mock_stream *s = sp;
  if (s->n) __atomic_fetch_sub(&d->streams_busy, 1, __ATOMIC_RELAXED);
  for (size_t i = 0; i < s->n; i++) {
    mock_op *o = &s->op[i];
    if (o->fn) {
      o->fn(o->arg);
      free(o->arg);
    } else {
      for (size_t r = 0; r < o->rows; r++)
        memcpy((char *)o->dst + r * o->dpitch,
               (const char *)o->src + r * o->spitch, o->width);
    }
  }
  s->n = 0;
  return __atomic_load_n(&d->fail, __ATOMIC_RELAXED) ? -1 : 0;
}
static const char *m_error(void *dev) {
  (void)dev;
  return "mock device: unspecified launch failure";
}

static const gasp__gpu_ops mock_ops = {
    m_alloc, m_free, m_alloc, m_free,  m_stream_new, m_stream_free,
    m_copy,  m_copy, m_wait,  m_error, NULL};

/* Queues fn on the batch's stream with a copy of the batch. */
static void launch(const gasp_device_batch *b, void (*fn)(void *)) {
  gasp_device_batch *copy = malloc(sizeof *copy);
  assert_non_null(copy);
  *copy = *b;
  enqueue(b->stream, (mock_op){0, 0, 0, 0, 0, 0, fn, copy});
}

/* ---- the batcher ------------------------------------------------------ */

#define NV 10

typedef struct layout_case {
  size_t word, vwords, awords;
  uint64_t seen[NV]; /* times each vertex reached the device */
  uint64_t done_order[64];
  uint64_t ndone;
} layout_case;

static uint64_t expect_word(gasp_vid v, size_t w, int acc) {
  return 1000 * (uint64_t)v + 10 * (uint64_t)w + (uint64_t)acc;
}

static uint64_t get_word(const void *base, size_t word, size_t w, uint64_t i,
                         uint64_t pitch) {
  return word == 4 ? GASP_SOA(base, uint32_t, w, i, pitch)
                   : GASP_SOA(base, uint64_t, w, i, pitch);
}

static void layout_kernel(void *arg) {
  gasp_device_batch *b = arg;
  layout_case *c = b->user;
  for (uint64_t i = 0; i < b->n; i++) {
    gasp_vid v = b->vid[i];
    c->seen[v]++;
    for (size_t w = 0; w < c->vwords; w++) {
      assert_int_equal(get_word(b->vertex, c->word, w, i, b->pitch),
                       expect_word(v, w, 0));
      if (c->word == 4)
        GASP_SOA(b->vertex, uint32_t, w, i, b->pitch) += 7;
      else
        GASP_SOA(b->vertex, uint64_t, w, i, b->pitch) += 7;
    }
    for (size_t w = 0; w < c->awords; w++)
      assert_int_equal(get_word(b->acc, c->word, w, i, b->pitch),
                       expect_word(v, w, 1));
  }
}

static int layout_apply(const gasp_device_batch *b) {
  launch(b, layout_kernel);
  return 0;
}

static void layout_done(void *arg, gasp_vid v) {
  layout_case *c = arg;
  c->done_order[c->ndone++] = v;
}

static void fill_words(void *p, size_t word, size_t words, gasp_vid v,
                       int acc) {
  for (size_t w = 0; w < words; w++)
    if (word == 4)
      ((uint32_t *)p)[w] = (uint32_t)expect_word(v, w, acc);
    else
      ((uint64_t *)p)[w] = expect_word(v, w, acc);
}

static void run_layout(size_t word, size_t vwords, size_t awords, int nslots) {
  mock_dev dev = {0};
  layout_case c = {word, vwords, awords, {0}, {0}, 0};
  gasp_program p = {0};
  p.vertex_size = vwords * word;
  p.acc_size = awords * word;
  p.device_apply = layout_apply;
  p.device_word = word;
  p.user = &c;
  char *vdata = malloc(NV * p.vertex_size), acc[64];
  for (gasp_vid v = 0; v < NV; v++)
    fill_words(vdata + v * p.vertex_size, word, vwords, v, 0);
  gasp_gpu_stats st = {0};
  gasp__gpu_batcher b;
  assert_int_equal(
      gasp__gpu_batcher_init(&b, &mock_ops, &dev, &p, vdata, 4, nslots, 0, &st),
      GASP_OK);
  b.done = layout_done;
  b.done_arg = &c;
  /* vertices 9, 7, 5, ..., then 0 2 4 6 8 except 4: nine of ten */
  static const gasp_vid order[] = {9, 7, 5, 3, 1, 0, 2, 6, 8};
  for (size_t i = 0; i < 9; i++) {
    fill_words(acc, word, awords, order[i], 1);
    assert_int_equal(gasp__gpu_add(&b, order[i], acc, 0), GASP_OK);
  }
  assert_int_equal(gasp__gpu_drain(&b, GASP__FLUSH_IDLE), GASP_OK);
  /* three batches: 4 + 4 (full) + 1 (end) */
  assert_int_equal(st.batches, 3);
  assert_int_equal(st.vertices, 9);
  assert_int_equal(st.flush_full, 2);
  assert_int_equal(st.flush_idle, 1);
  assert_int_equal(st.bytes_in,
                   9 * (sizeof(gasp_vid) + p.vertex_size + p.acc_size));
  assert_int_equal(st.bytes_out, 9 * p.vertex_size);
  if (nslots == 2) assert_true(dev.most_busy >= 2); /* overlapped */
  assert_int_equal(c.ndone, 9);
  for (size_t i = 0; i < 9; i++) {
    assert_int_equal(c.done_order[i], order[i]);
    assert_int_equal(c.seen[order[i]], 1);
  }
  assert_int_equal(c.seen[4], 0);
  for (gasp_vid v = 0; v < NV; v++)
    for (size_t w = 0; w < vwords; w++) {
      uint64_t got = word == 4 ? ((uint32_t *)(vdata + v * p.vertex_size))[w]
                               : ((uint64_t *)(vdata + v * p.vertex_size))[w];
      assert_int_equal(got, expect_word(v, w, 0) + (v == 4 ? 0 : 7));
    }
  gasp__gpu_batcher_destroy(&b);
  assert_int_equal(dev.live, 0);
  free(vdata);
}

static void test_pack_layout(void **state) {
  (void)state;
  run_layout(4, 3, 2, 2);
  run_layout(8, 2, 1, 2);
  run_layout(4, 5, 0, 1); /* no accumulator; one slot */
  run_layout(8, 1, 3, 1);
}

static void test_flush_by_age(void **state) {
  (void)state;
  mock_dev dev = {0};
  layout_case c = {4, 1, 1, {0}, {0}, 0};
  gasp_program p = {0};
  p.vertex_size = p.acc_size = 4;
  p.device_apply = layout_apply;
  p.user = &c;
  char vdata[NV * 4], acc[4];
  for (gasp_vid v = 0; v < NV; v++)
    fill_words(vdata + 4 * v, 4, 1, v, 0);
  gasp_gpu_stats st = {0};
  gasp__gpu_batcher b;
  assert_int_equal(
      gasp__gpu_batcher_init(&b, &mock_ops, &dev, &p, vdata, 100, 1, 0.5, &st),
      GASP_OK);
  b.done = layout_done;
  b.done_arg = &c;
  static const double at[] = {10.0, 10.1, 10.4, 10.6, 10.7, 11.3};
  for (gasp_vid v = 0; v < 6; v++) {
    fill_words(acc, 4, 1, v, 1);
    assert_int_equal(gasp__gpu_add(&b, v, acc, at[v]), GASP_OK);
    /* the fourth item is 0.6 s after the first: sent (one slot: back at
     * once); the sixth 0.6 s after the fifth */
    assert_int_equal(st.batches, v < 3 ? 0 : v < 5 ? 1 : 2);
    assert_int_equal(c.ndone, v < 3 ? 0 : v < 5 ? 4 : 6);
    assert_int_equal(gasp__gpu_pending(&b), v < 3 ? v + 1 : v < 5 ? v - 3 : 0);
  }
  assert_int_equal(st.flush_time, 2);
  assert_int_equal(gasp__gpu_drain(&b, GASP__FLUSH_IDLE), GASP_OK);
  assert_int_equal(st.batches, 2); /* nothing left to send */
  gasp__gpu_batcher_destroy(&b);
}

static void test_bad_program(void **state) {
  (void)state;
  mock_dev dev = {0};
  gasp_program p = {0};
  p.vertex_size = 12;
  p.acc_size = 4;
  p.device_word = 8;
  p.device_apply = layout_apply;
  gasp__gpu_batcher b;
  char v[12];
  assert_int_equal(
      gasp__gpu_batcher_init(&b, &mock_ops, &dev, &p, v, 4, 2, 0, NULL),
      GASP_EINVAL);
  gasp__gpu_batcher_destroy(&b);
  assert_int_equal(dev.live, 0);
}

/* ---- engines: min-label components ------------------------------------- */

static gasp_graph *random_graph(uint64_t n, uint64_t m, uint64_t seed) {
  gasp_builder *bd;
  assert_int_equal(gasp_builder_new(&bd, 0), GASP_OK);
  uint64_t s = seed;
  for (uint64_t i = 0; i < m; i++) {
    uint64_t u = gasp__splitmix64(&s) % n, v = gasp__splitmix64(&s) % n;
    assert_int_equal(gasp_builder_add_edge(bd, u, v, 1), 0);
  }
  for (uint64_t i = 0; i < n; i++) /* every vertex present */
    assert_int_equal(gasp_builder_add_edge(bd, i, i, 1), 0);
  gasp_graph *g;
  assert_int_equal(gasp_builder_finish(bd, 2, &g, NULL), GASP_OK);
  gasp_builder_free(&bd);
  return g;
}

static gasp_vid find(gasp_vid *p, gasp_vid x) {
  while (p[x] != x)
    x = p[x] = p[p[x]];
  return x;
}

/* The smallest local id of each vertex's component. */
static gasp_vid *ref_components(gasp_graph *g) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_vid *p = malloc(n * sizeof *p);
  for (gasp_vid v = 0; v < n; v++)
    p[v] = v;
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (gasp_vid u = 0; u < n; u++)
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++) {
      gasp_vid a = find(p, u), b = find(p, out.nbr[j]);
      if (a < b)
        p[b] = a;
      else
        p[a] = b;
    }
  for (gasp_vid v = 0; v < n; v++)
    p[v] = find(p, v);
  return p;
}

typedef struct cc_vertex {
  uint32_t label, changed;
} cc_vertex;

typedef struct cc_prog {
  gasp_graph *g;
  uint32_t *inside; /* detector: updates under way per vertex */
  uint64_t overlaps;
  int detect;
  int sleep_us;   /* slow gathers, so batches age */
  int fail_apply; /* atomic: the device apply enqueues, then fails */
} cc_prog;

static void cc_init(gasp_ctx *ctx, void *vd) {
  cc_vertex *v = vd;
  v->label = gasp_ctx_vertex(ctx);
  v->changed = 1;
}
static gasp_dir cc_all(const gasp_ctx *c, const void *v) {
  (void)c, (void)v;
  return GASP_DIR_ALL;
}
static void cc_acc_init(const gasp_ctx *c, void *acc) {
  (void)c;
  *(uint32_t *)acc = UINT32_MAX;
}
static uint32_t load_label(const void *vd) {
  return __atomic_load_n(&((const cc_vertex *)vd)->label, __ATOMIC_RELAXED);
}
static void cc_gather(const gasp_ctx *ctx, const void *vd, const gasp_edge *e,
                      void *acc) {
  (void)vd;
  cc_prog *p = gasp_ctx_user(ctx);
  uint32_t l = load_label(e->nbr_data);
  if (l < *(uint32_t *)acc) *(uint32_t *)acc = l;
  if (p->detect && e->nbr != gasp_ctx_vertex(ctx) &&
      __atomic_load_n(&p->inside[e->nbr], __ATOMIC_ACQUIRE))
    __atomic_fetch_add(&p->overlaps, 1, __ATOMIC_RELAXED);
}
static void cc_sum(const gasp_ctx *c, void *acc, const void *o) {
  (void)c;
  if (*(const uint32_t *)o < *(uint32_t *)acc)
    *(uint32_t *)acc = *(const uint32_t *)o;
}
/* the CPU apply and the "kernel" compute the same */
static void cc_step(uint32_t *label, uint32_t *changed, uint32_t acc) {
  *changed = acc < *label;
  if (acc < *label) __atomic_store_n(label, acc, __ATOMIC_RELAXED);
}
static void cc_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)ctx;
  cc_vertex *v = vd;
  cc_step(&v->label, &v->changed, *(const uint32_t *)acc);
}
static void cc_kernel(void *arg) {
  gasp_device_batch *b = arg;
  for (uint64_t i = 0; i < b->n; i++)
    cc_step(&GASP_SOA(b->vertex, uint32_t, 0, i, b->pitch),
            &GASP_SOA(b->vertex, uint32_t, 1, i, b->pitch),
            GASP_SOA(b->acc, uint32_t, 0, i, b->pitch));
}
static int cc_device_apply(const gasp_device_batch *b) {
  launch(b, cc_kernel);
  return __atomic_load_n(&((cc_prog *)b->user)->fail_apply, __ATOMIC_RELAXED)
             ? -1
             : 0;
}
static gasp_dir cc_scatter_edges(const gasp_ctx *c, const void *vd) {
  (void)c;
  return ((const cc_vertex *)vd)->changed ? GASP_DIR_ALL : GASP_DIR_NONE;
}
static void cc_scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  if (load_label(e->nbr_data) > load_label(vd)) gasp_signal(ctx, e->nbr);
}

/* The detector brackets each update from the start of its gather
 * (acc_init) to the start of its scatter (scatter_edges), the stretch a
 * batch holds a vertex; a gather that finds a neighbour inside counts an
 * overlap. */
static void cc_enter(const gasp_ctx *c, void *acc) {
  cc_prog *p = gasp_ctx_user(c);
  __atomic_fetch_add(&p->inside[gasp_ctx_vertex(c)], 1, __ATOMIC_ACQ_REL);
  if (p->sleep_us) {
    struct timespec ts = {0, p->sleep_us * 1000L};
    nanosleep(&ts, NULL);
  }
  *(uint32_t *)acc = UINT32_MAX;
}
static gasp_dir cc_leave(const gasp_ctx *c, const void *vd) {
  cc_prog *p = gasp_ctx_user(c);
  __atomic_fetch_sub(&p->inside[gasp_ctx_vertex(c)], 1, __ATOMIC_ACQ_REL);
  return cc_scatter_edges(c, vd);
}

static gasp_program cc_program(cc_prog *p, int device) {
  gasp_program prog = {0};
  prog.vertex_size = sizeof(cc_vertex);
  prog.acc_size = sizeof(uint32_t);
  prog.init_vertex = cc_init;
  prog.acc_init = cc_acc_init;
  prog.gather_edges = cc_all;
  prog.gather = cc_gather;
  prog.sum = cc_sum;
  prog.apply = cc_apply;
  prog.scatter_edges = cc_scatter_edges;
  prog.scatter = cc_scatter;
  prog.user = p;
  if (device) prog.device_apply = cc_device_apply;
  return prog;
}

typedef struct run_cfg {
  gasp_engine_kind engine;
  gasp_consistency cons;
  gasp_scheduler sched;
  gasp_locking locking;
  int device;
  uint32_t batch;
  double flush_ms;
  int threads, detect, sleep_us;
} run_cfg;

/* Runs min-label on g with the mock device (cfg.device) or the CPU apply;
 * checks the labels; returns the detector's overlaps. */
static uint64_t run_cc(gasp_graph *g, const gasp_vid *want, run_cfg cfg,
                       gasp_gpu_stats *gst) {
  gasp_vid n = gasp_graph_num_vertices(g);
  cc_prog p = {g, calloc(n, sizeof(uint32_t)), 0, cfg.detect, cfg.sleep_us, 0};
  gasp_program prog = cc_program(&p, cfg.device);
  if (cfg.detect || cfg.sleep_us) {
    prog.acc_init = cc_enter;
    prog.scatter_edges = cc_leave;
  }
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.engine = cfg.engine;
  o.consistency = cfg.cons;
  o.scheduler = cfg.sched;
  o.locking = cfg.locking;
  o.threads = cfg.threads ? cfg.threads : 2;
  o.gpu = cfg.device ? GASP_GPU_AUTO : GASP_GPU_OFF;
  o.gpu_batch = cfg.batch;
  o.gpu_flush_ms = cfg.flush_ms;
  gasp_engine *e;
  gasp_error err;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, &err), GASP_OK);
  mock_dev dev = {0};
  if (cfg.device) gasp__engine_set_gpu(e, &mock_ops, &dev, "mock");
  assert_int_equal(gasp_engine_signal_all(e, 0), GASP_OK);
  gasp_run_stats st;
  int rc = gasp_engine_run(e, &st);
  if (rc) fail_msg("run failed: %s", gasp_engine_last_error(e)->msg);
  const cc_vertex *vd = gasp_graph_vertex_data(g);
  for (gasp_vid v = 0; v < n; v++)
    assert_int_equal(vd[v].label, want[v]);
  gasp_gpu_stats s;
  gasp_engine_gpu_stats(e, &s);
  if (cfg.device) {
    assert_true(s.used);
    assert_int_equal(s.vertices, st.updates);
    assert_true(s.batches > 0 && s.batches <= st.updates);
  } else {
    assert_false(s.used);
    assert_int_equal(s.batches, 0);
  }
  if (gst) *gst = s;
  gasp_engine_free(&e);
  assert_int_equal(dev.live, 0);
  free(p.inside);
  return p.overlaps;
}

static void test_engines_components(void **state) {
  (void)state;
  gasp_graph *g = random_graph(3000, 2600, 11);
  gasp_vid *want = ref_components(g);
  /* sync, with batches smaller than a superstep */
  run_cc(g, want, (run_cfg){GASP_ENGINE_SYNC, 0, 0, 0, 1, 256, 0, 2, 0, 0},
         NULL);
  run_cc(g, want, (run_cfg){GASP_ENGINE_SYNC, 0, 0, 0, 0, 0, 0, 2, 0, 0}, NULL);
  for (int c = 0; c < 3; c++)
    for (int s = 0; s < 3; s++) {
      run_cfg cfg = {GASP_ENGINE_ASYNC,
                     (gasp_consistency)c,
                     (gasp_scheduler)s,
                     GASP_LOCKING_LOCKS,
                     1,
                     64,
                     5,
                     2,
                     0,
                     0};
      run_cc(g, want, cfg, NULL);
      cfg.locking = GASP_LOCKING_CHROMATIC;
      if (c < 2) run_cc(g, want, cfg, NULL);
    }
  free(want);
  gasp_graph_free(&g);
}

/* Under locks, a batch holds its vertices' scopes from gather to
 * scatter: edge and full consistency must keep adjacent vertices out of
 * updates at once (also one worker's own batch), vertex consistency lets
 * them overlap -- which shows the detector sees overlaps. */
static void test_batched_consistency(void **state) {
  (void)state;
  gasp_graph *g = random_graph(2000, 6000, 5);
  gasp_vid *want = ref_components(g);
  for (int c = 0; c < 3; c++)
    for (int threads = 1; threads <= 3; threads += 2) {
      run_cfg cfg = {GASP_ENGINE_ASYNC,
                     (gasp_consistency)c,
                     GASP_SCHED_FIFO,
                     GASP_LOCKING_LOCKS,
                     1,
                     128,
                     50,
                     threads,
                     1,
                     0};
      uint64_t overlaps = run_cc(g, want, cfg, NULL);
      if (c == GASP_CONSISTENCY_VERTEX)
        assert_true(overlaps > 0);
      else
        assert_int_equal(overlaps, 0);
      cfg.locking = GASP_LOCKING_CHROMATIC; /* edge: a distance-1 colouring */
      if (c == GASP_CONSISTENCY_EDGE)
        assert_int_equal(run_cc(g, want, cfg, NULL), 0);
    }
  free(want);
  gasp_graph_free(&g);
}

/* Batches are sent when their first vertex has waited gpu_flush_ms, not
 * only when full or when the scheduler runs dry. */
static void test_async_flush_by_age(void **state) {
  (void)state;
  gasp_graph *g = random_graph(400, 300, 9);
  gasp_vid *want = ref_components(g);
  gasp_gpu_stats st;
  /* 200 us per gather, batches of 4096, sent after 2 ms */
  run_cc(g, want,
         (run_cfg){GASP_ENGINE_ASYNC, GASP_CONSISTENCY_EDGE, GASP_SCHED_SWEEP,
                   GASP_LOCKING_LOCKS, 1, 4096, 2, 2, 0, 200},
         &st);
  assert_true(st.flush_time > 0);
  assert_int_equal(st.flush_full, 0);
  assert_true(st.batches < st.vertices / 3); /* batches, not single updates */
  /* batches of 8: sent full */
  run_cc(g, want,
         (run_cfg){GASP_ENGINE_ASYNC, GASP_CONSISTENCY_EDGE, GASP_SCHED_SWEEP,
                   GASP_LOCKING_LOCKS, 1, 8, 1000, 1, 0, 0},
         &st);
  assert_true(st.flush_full > 0);
  free(want);
  gasp_graph_free(&g);
}

/* ---- a power iteration: the device apply equals the CPU apply ---------- */

typedef struct pw_vertex {
  double x, outdeg;
} pw_vertex;

static void pw_init(gasp_ctx *ctx, void *vd) {
  pw_vertex *v = vd;
  v->x = 1.0 / (double)gasp_ctx_num_vertices(ctx);
  v->outdeg = (double)gasp_ctx_out_degree(ctx);
}
static gasp_dir pw_in(const gasp_ctx *c, const void *v) {
  (void)c, (void)v;
  return GASP_DIR_IN;
}
static void pw_gather(const gasp_ctx *c, const void *vd, const gasp_edge *e,
                      void *acc) {
  (void)c, (void)vd;
  const pw_vertex *u = e->nbr_data;
  *(double *)acc += u->x / u->outdeg;
}
static void pw_sum(const gasp_ctx *c, void *acc, const void *o) {
  (void)c;
  *(double *)acc += *(const double *)o;
}
static double pw_step(double x, double acc) {
  return 0.15 / 3000.0 + 0.85 * acc + 1e-3 * x;
}
static void pw_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)ctx;
  pw_vertex *v = vd;
  v->x = pw_step(v->x, *(const double *)acc);
}
static void pw_kernel(void *arg) {
  gasp_device_batch *b = arg;
  for (uint64_t i = 0; i < b->n; i++) {
    double *x = &GASP_SOA(b->vertex, double, 0, i, b->pitch);
    *x = pw_step(*x, GASP_SOA(b->acc, double, 0, i, b->pitch));
  }
}
static int pw_device_apply(const gasp_device_batch *b) {
  launch(b, pw_kernel);
  return 0;
}

static double *power(gasp_graph *g, int device, uint32_t batch) {
  gasp_program prog = {0};
  prog.vertex_size = sizeof(pw_vertex);
  prog.acc_size = sizeof(double);
  prog.init_vertex = pw_init;
  prog.gather_edges = pw_in;
  prog.gather = pw_gather;
  prog.sum = pw_sum;
  prog.apply = pw_apply;
  prog.device_apply = pw_device_apply;
  prog.device_word = 8;
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.always_active = 1;
  o.max_iter = 12;
  o.threads = 2;
  o.gpu = device ? GASP_GPU_AUTO : GASP_GPU_OFF;
  o.gpu_batch = batch;
  gasp_engine *e;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, NULL), GASP_OK);
  mock_dev dev = {0};
  if (device) gasp__engine_set_gpu(e, &mock_ops, &dev, "mock");
  gasp_run_stats st;
  assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_gpu_stats gs;
  gasp_engine_gpu_stats(e, &gs);
  assert_int_equal(gs.vertices, device ? 12 * (uint64_t)n : 0);
  if (device) assert_int_equal(gs.batches, 12 * ((n + batch - 1) / batch));
  double *x = malloc(n * sizeof *x);
  const pw_vertex *vd = gasp_graph_vertex_data(g);
  for (gasp_vid v = 0; v < n; v++)
    x[v] = vd[v].x;
  gasp_engine_free(&e);
  assert_int_equal(dev.live, 0);
  return x;
}

static void test_sync_equals_cpu(void **state) {
  (void)state;
  gasp_graph *g = random_graph(3000, 20000, 3);
  gasp_vid n = gasp_graph_num_vertices(g);
  double *cpu = power(g, 0, 0);
  static const uint32_t batches[] = {1, 7, 1024, 3000, 65536};
  for (size_t i = 0; i < sizeof batches / sizeof *batches; i++) {
    double *dev = power(g, 1, batches[i]);
    assert_memory_equal(cpu, dev, n * sizeof *cpu); /* the same operations */
    free(dev);
  }
  free(cpu);
  gasp_graph_free(&g);
}

/* ---- failures and modes ------------------------------------------------ */

/* An engine on 2 threads over the mock device: k = 0 sync, 1 async with
 * locks, 2 async chromatic. */
static gasp_engine *mock_engine(gasp_graph *g, const gasp_program *prog, int k,
                                uint32_t batch, mock_dev *dev) {
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.engine = k == 0 ? GASP_ENGINE_SYNC : GASP_ENGINE_ASYNC;
  o.locking = k == 1 ? GASP_LOCKING_LOCKS : GASP_LOCKING_CHROMATIC;
  o.threads = 2;
  o.gpu_batch = batch;
  gasp_engine *e;
  assert_int_equal(gasp_engine_new(&e, g, prog, &o, NULL), GASP_OK);
  gasp__engine_set_gpu(e, &mock_ops, dev, "mock");
  return e;
}

/* After a failed run: the next one on the same engine finds the
 * components, no lock is left taken, and freeing the engine frees every
 * device allocation. */
static void recovers(gasp_engine *e, gasp_graph *g, const gasp_vid *want,
                     const mock_dev *dev) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_run_stats st;
  gasp_engine_signal_all(e, 0);
  assert_int_equal(gasp_engine_run(e, &st), GASP_OK);
  const cc_vertex *vd = gasp_graph_vertex_data(g);
  for (gasp_vid v = 0; v < n; v++)
    assert_int_equal(vd[v].label, want[v]);
  if (e->locks)
    for (gasp_vid v = 0; v < n; v++)
      assert_int_equal(e->locks[v], 0);
  gasp_engine_free(&e);
  assert_int_equal(dev->live, 0);
}

static void test_device_failure(void **state) {
  (void)state;
  gasp_graph *g = random_graph(1500, 1400, 21);
  gasp_vid *want = ref_components(g);
  for (int k = 0; k < 3; k++) {
    cc_prog p = {g, calloc(1500, sizeof(uint32_t)), 0, 0, 0, 0};
    gasp_program prog = cc_program(&p, 1);
    mock_dev dev = {1, 0, 0, 0, 0, 0}; /* every wait fails */
    gasp_engine *e = mock_engine(g, &prog, k, 64, &dev);
    gasp_engine_signal_all(e, 0);
    gasp_run_stats st;
    assert_int_equal(gasp_engine_run(e, &st), GASP_EIO);
    const gasp_error *err = gasp_engine_last_error(e);
    assert_int_equal(err->code, GASP_EIO);
    assert_non_null(strstr(err->msg, "unspecified launch failure"));
    /* every lock was released: the device recovers and the run finishes */
    __atomic_store_n(&dev.fail, 0, __ATOMIC_RELAXED);
    recovers(e, g, want, &dev);
    free(p.inside);
  }
  free(want);
  gasp_graph_free(&g);
}

/* No slot of a batcher holds items or queued device work. */
static void assert_batcher_idle(const gasp__gpu_batcher *b) {
  for (int i = 0; i < b->nslots; i++) {
    assert_int_equal(b->slot[i].n, 0);
    assert_int_equal(((const mock_stream *)b->slot[i].stream)->n, 0);
  }
}

/* A copy or the program's apply fails part way through a batch, in each
 * engine: the run fails with the right message (a failed apply does not
 * borrow the device's last error), the failed slot is left empty with its
 * stream drained (nothing enqueued still reads the slot's buffers, and no
 * stale batch is sent by the next run), and the next run is right. */
static void test_failure_sites(void **state) {
  (void)state;
  gasp_graph *g = random_graph(1200, 1100, 5);
  gasp_vid *want = ref_components(g);
  static const struct {
    uint64_t copy; /* copies per batch: ids, vertex, acc, back */
    int apply;
    const char *says;
  } site[] = {{1, 0, "copy to the device failed: mock device"},
              {3, 0, "copy to the device failed: mock device"},
              {4, 0, "copy from the device failed: mock device"},
              {0, 1, "the program's device apply failed"}};
  for (size_t f = 0; f < sizeof site / sizeof *site; f++)
    for (int k = 0; k < 3; k++) {
      cc_prog p = {g, NULL, 0, 0, 0, site[f].apply};
      gasp_program prog = cc_program(&p, 1);
      mock_dev dev = {0};
      dev.fail_copy = site[f].copy;
      gasp_engine *e = mock_engine(g, &prog, k, 50, &dev);
      gasp_engine_signal_all(e, 0);
      gasp_run_stats st;
      assert_int_equal(gasp_engine_run(e, &st), GASP_EIO);
      const char *msg = gasp_engine_last_error(e)->msg;
      if (!strstr(msg, site[f].says) ||
          (site[f].apply && strstr(msg, "mock device")))
        fail_msg("site %zu engine %d: \"%s\"", f, k, msg);
      if (e->gpu_b) assert_batcher_idle(e->gpu_b);
      if (e->gpu_tb)
        for (int t = 0; t < 2; t++)
          if (e->gpu_tb[t].ops) assert_batcher_idle(&e->gpu_tb[t]);
      __atomic_store_n(&dev.fail_copy, 0, __ATOMIC_RELAXED);
      __atomic_store_n(&p.fail_apply, 0, __ATOMIC_RELAXED);
      recovers(e, g, want, &dev);
    }
  free(want);
  gasp_graph_free(&g);
}

static void test_modes(void **state) {
  (void)state;
  gasp_graph *g = random_graph(200, 100, 2);
  gasp_vid *want = ref_components(g);
  cc_prog p = {g, NULL, 0, 0, 0, 0};
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  gasp_engine *e;
  gasp_error err;
  gasp_gpu_stats st;
  char name[128];
  int devices = gasp_gpu_probe(name, sizeof name);
  /* on, no device apply: refused whatever the machine */
  gasp_program prog = cc_program(&p, 0);
  o.gpu = GASP_GPU_ON;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, &err), GASP_ENOTSUP);
  assert_non_null(strstr(err.msg, "no device apply"));
  assert_null(e);
  /* on, with one: refused where there is no device */
  prog = cc_program(&p, 1);
  if (devices == 0) {
    assert_int_equal(gasp_engine_new(&e, g, &prog, &o, &err), GASP_ENODEV);
    assert_non_null(strstr(err.msg, "no device"));
    /* auto: the CPU apply, same answers */
    o.gpu = GASP_GPU_AUTO;
    assert_int_equal(gasp_engine_new(&e, g, &prog, &o, &err), GASP_OK);
    gasp_engine_gpu_stats(e, &st);
    assert_false(st.used);
    assert_string_equal(st.device, name);
    gasp_engine_signal_all(e, 0);
    assert_int_equal(gasp_engine_run(e, NULL), GASP_OK);
    const cc_vertex *vd = gasp_graph_vertex_data(g);
    for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++)
      assert_int_equal(vd[v].label, want[v]);
    gasp_engine_free(&e);
  }
  /* off: never the device */
  o.gpu = GASP_GPU_OFF;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, &err), GASP_OK);
  gasp_engine_gpu_stats(e, &st);
  assert_false(st.used);
  assert_non_null(strstr(st.device, "off"));
  gasp_engine_free(&e);
  /* a word size that does not divide the records */
  prog.device_word = 8;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, &err), GASP_EINVAL);
  prog.device_word = 3;
  assert_int_equal(gasp_engine_new(&e, g, &prog, &o, &err), GASP_EINVAL);
  gasp_gpu_mode m;
  assert_int_equal(gasp_gpu_mode_parse("on", &m), GASP_OK);
  assert_int_equal(m, GASP_GPU_ON);
  assert_int_equal(gasp_gpu_mode_parse("yes", &m), GASP_EINVAL);
  free(want);
  gasp_graph_free(&g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pack_layout),
      cmocka_unit_test(test_flush_by_age),
      cmocka_unit_test(test_bad_program),
      cmocka_unit_test(test_engines_components),
      cmocka_unit_test(test_batched_consistency),
      cmocka_unit_test(test_async_flush_by_age),
      cmocka_unit_test(test_sync_equals_cpu),
      cmocka_unit_test(test_device_failure),
      cmocka_unit_test(test_failure_sites),
      cmocka_unit_test(test_modes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
