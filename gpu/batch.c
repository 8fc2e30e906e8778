/*
 * batch.c -- the device-apply batcher (gpu.h): vertices are packed, as
 * they are added, into the filling slot's pinned buffers, word w of item i
 * at plane offset w * cap + i (structure of arrays: a kernel with one
 * thread per item reads each field coalesced).  A full slot (or one whose
 * first item has waited flush_s) is sent: one 2-D copy each for the ids,
 * the vertex planes and the accumulator planes, the program's
 * device_apply, one 2-D copy back of the vertex planes, all on the slot's
 * stream; filling moves on to the next slot of the ring.  A slot is
 * refilled only after its batch came back and was unpacked into the host
 * vertex data, so with two slots the host packs one batch while the
 * other's copies and kernel run.
 *
 * Plain C over the operations table: built with and without CUDA, and
 * tested against a host-side mock of the device.
 */
#include "gpu.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

static int fail(gasp__gpu_batcher *b, int code, const char *what) {
  const char *why = b->ops->error ? b->ops->error(b->dev) : NULL;
  snprintf(b->err, sizeof b->err, "GPU: %s%s%s", what, why ? ": " : "",
           why ? why : "");
  return code;
}

int gasp__gpu_batcher_init(gasp__gpu_batcher *b, const gasp__gpu_ops *ops,
                           void *dev, const gasp_program *prog, void *vbase,
                           uint64_t cap, int nslots, double flush_s,
                           gasp_gpu_stats *st) {
  memset(b, 0, sizeof *b);
  b->ops = ops;
  b->dev = dev;
  b->prog = prog;
  b->vbase = vbase;
  b->word = prog->device_word ? prog->device_word : 4;
  /* a plane's pitch (cap words) stays far below the 2-D copies' limit */
  b->cap = cap < 1 ? 1 : cap > GASP__GPU_CAP_MAX ? GASP__GPU_CAP_MAX : cap;
  b->nslots = nslots < 1                 ? 1
              : nslots > GASP__GPU_SLOTS ? GASP__GPU_SLOTS
                                         : nslots;
  b->flush_s = flush_s;
  b->st = st;
  if ((b->word != 4 && b->word != 8) || prog->vertex_size % b->word ||
      prog->acc_size % b->word || !prog->device_apply) {
    snprintf(b->err, sizeof b->err,
             "GPU: the program's device_word must be 4 or 8 and divide "
             "vertex_size and acc_size");
    return GASP_EINVAL;
  }
  b->vwords = prog->vertex_size / b->word;
  b->awords = prog->acc_size / b->word;
  size_t vbytes = b->vwords * b->word * b->cap;
  size_t abytes = b->awords * b->word * b->cap;
  size_t ibytes = b->cap * sizeof(gasp_vid);
  for (int i = 0; i < b->nslots; i++) {
    gasp__gpu_slot *s = &b->slot[i];
    if (ops->stream_new(dev, &s->stream))
      return fail(b, GASP_EIO, "cannot create a stream");
    s->h_vid = ops->host_alloc(dev, ibytes);
    s->d_vid = ops->dev_alloc(dev, ibytes);
    if (vbytes) {
      s->h_v = ops->host_alloc(dev, vbytes);
      s->d_v = ops->dev_alloc(dev, vbytes);
    }
    if (abytes) {
      s->h_a = ops->host_alloc(dev, abytes);
      s->d_a = ops->dev_alloc(dev, abytes);
    }
    if (!s->h_vid || !s->d_vid || (vbytes && (!s->h_v || !s->d_v)) ||
        (abytes && (!s->h_a || !s->d_a)))
      return fail(b, GASP_ENOMEM, "cannot allocate the batch buffers");
  }
  return GASP_OK;
}

void gasp__gpu_batcher_destroy(gasp__gpu_batcher *b) {
  if (!b->ops) return;
  for (int i = 0; i < b->nslots; i++) {
    gasp__gpu_slot *s = &b->slot[i];
    if (s->stream) {
      b->ops->wait(b->dev, s->stream);
      b->ops->stream_free(b->dev, s->stream);
    }
    b->ops->host_free(b->dev, s->h_vid);
    b->ops->host_free(b->dev, s->h_v);
    b->ops->host_free(b->dev, s->h_a);
    b->ops->dev_free(b->dev, s->d_vid);
    b->ops->dev_free(b->dev, s->d_v);
    b->ops->dev_free(b->dev, s->d_a);
  }
  memset(b, 0, sizeof *b);
}

/* Scatters `words` words of `src` into planes: word w to dst[w * cap]. */
static void pack(char *dst, const char *src, size_t words, size_t word,
                 uint64_t cap) {
  size_t stride = (size_t)cap * word;
  if (word == 4)
    for (size_t w = 0; w < words; w++)
      memcpy(dst + w * stride, src + w * 4, 4);
  else
    for (size_t w = 0; w < words; w++)
      memcpy(dst + w * stride, src + w * 8, 8);
}

/* Gathers a vertex back from the planes.  Each word is stored whole
 * (relaxed atomic stores, plain moves on x86), as a program's own apply
 * would: under vertex consistency neighbours read it meanwhile. */
static void unpack(char *dst, const char *src, size_t words, size_t word,
                   uint64_t cap) {
  size_t stride = (size_t)cap * word;
  if (word == 4)
    for (size_t w = 0; w < words; w++) {
      uint32_t x;
      memcpy(&x, src + w * stride, 4);
      __atomic_store_n((uint32_t *)(void *)(dst + w * 4), x, __ATOMIC_RELAXED);
    }
  else
    for (size_t w = 0; w < words; w++) {
      uint64_t x;
      memcpy(&x, src + w * stride, 8);
      __atomic_store_n((uint64_t *)(void *)(dst + w * 8), x, __ATOMIC_RELAXED);
    }
}

/* Waits for slot i's batch and unpacks it into the vertex data. */
static int finish(gasp__gpu_batcher *b, int i) {
  gasp__gpu_slot *s = &b->slot[i];
  if (!s->inflight) return GASP_OK;
  double t0 = gasp__now();
  int rc = b->ops->wait(b->dev, s->stream);
  s->inflight = 0;
  if (rc) {
    s->n = 0;
    return fail(b, GASP_EIO, "a device batch failed");
  }
  size_t vsize = b->prog->vertex_size;
  for (uint64_t j = 0; j < s->n; j++) {
    gasp_vid v = s->h_vid[j];
    unpack(b->vbase + (size_t)v * vsize, s->h_v + j * b->word, b->vwords,
           b->word, b->cap);
  }
  if (b->done)
    for (uint64_t j = 0; j < s->n; j++)
      b->done(b->done_arg, s->h_vid[j]);
  s->n = 0;
  if (b->st) b->st->seconds += gasp__now() - t0;
  return GASP_OK;
}

/* Sends the filling slot's batch and moves on to the next slot. */
static int submit(gasp__gpu_batcher *b, int reason) {
  gasp__gpu_slot *s = &b->slot[b->cur];
  uint64_t n = s->n;
  if (n == 0 || s->inflight) return GASP_OK; /* nothing new in it */
  double t0 = gasp__now();
  const gasp__gpu_ops *o = b->ops;
  size_t w = b->word, plane = (size_t)b->cap * w, row = (size_t)n * w;
  size_t ids = n * sizeof(gasp_vid);
  gasp_device_batch db = {n,      b->cap,    s->d_vid,      s->d_v,
                          s->d_a, s->stream, b->prog->user, b->iteration};
  int rc = GASP_OK;
  if (o->copy_in(b->dev, s->d_vid, ids, s->h_vid, ids, ids, 1, s->stream) ||
      (b->vwords && o->copy_in(b->dev, s->d_v, plane, s->h_v, plane, row,
                               b->vwords, s->stream)) ||
      (b->awords && o->copy_in(b->dev, s->d_a, plane, s->h_a, plane, row,
                               b->awords, s->stream)))
    rc = fail(b, GASP_EIO, "copy to the device failed");
  else if (b->prog->device_apply(&db)) /* its reason is the program's */
    rc = GASP_EIO,
    snprintf(b->err, sizeof b->err, "GPU: the program's device apply failed");
  else if (b->vwords && o->copy_out(b->dev, s->h_v, plane, s->d_v, plane, row,
                                    b->vwords, s->stream))
    rc = fail(b, GASP_EIO, "copy from the device failed");
  if (rc) {
    /* what was enqueued may still read the slot's buffers: let it end,
     * and drop the batch (the run fails; a later run starts empty) */
    o->wait(b->dev, s->stream);
    s->n = 0;
    return rc;
  }
  s->inflight = 1;
  if (b->st) {
    b->st->batches++;
    b->st->vertices += n;
    b->st->flush_full += reason == GASP__FLUSH_FULL;
    b->st->flush_time += reason == GASP__FLUSH_TIME;
    b->st->flush_idle += reason == GASP__FLUSH_IDLE;
    b->st->bytes_in += n * (sizeof(gasp_vid) + (b->vwords + b->awords) * w);
    b->st->bytes_out += n * b->vwords * w;
    b->st->seconds += gasp__now() - t0;
  }
  b->cur = (b->cur + 1) % b->nslots;
  return GASP_OK;
}

int gasp__gpu_add(gasp__gpu_batcher *b, gasp_vid v, const void *acc,
                  double now) {
  gasp__gpu_slot *s = &b->slot[b->cur];
  if (s->inflight) { /* refilling this slot: its last batch must be back */
    int rc = finish(b, b->cur);
    if (rc) return rc;
  }
  if (s->n == 0) b->t_first = now;
  size_t w = b->word;
  s->h_vid[s->n] = v;
  pack(s->h_v + s->n * w, b->vbase + (size_t)v * b->prog->vertex_size,
       b->vwords, w, b->cap);
  if (b->awords) pack(s->h_a + s->n * w, acc, b->awords, w, b->cap);
  s->n++;
  int reason = s->n == b->cap ? GASP__FLUSH_FULL
               : b->flush_s > 0 && now - b->t_first >= b->flush_s
                   ? GASP__FLUSH_TIME
                   : -1;
  if (reason < 0) return GASP_OK;
  /* with one slot there is nothing to overlap: wait for it at once */
  return b->nslots == 1 ? gasp__gpu_drain(b, reason) : submit(b, reason);
}

int gasp__gpu_drain(gasp__gpu_batcher *b, int reason) {
  int rc = submit(b, reason);
  /* oldest first: the slot to be filled next was sent longest ago */
  for (int k = 0; k < b->nslots; k++) {
    int r2 = finish(b, (b->cur + k) % b->nslots);
    if (!rc) rc = r2;
  }
  return rc;
}
