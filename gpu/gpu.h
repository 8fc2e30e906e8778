/*
 * gpu.h -- the device apply: a batcher that packs vertices' data and
 * accumulators structure-of-arrays into pinned host buffers, copies them
 * to the device, runs the program's device_apply and copies the vertex
 * data back, over a ring of slots each with its own stream, so that one
 * batch's copies overlap another's kernel.
 *
 * The device is reached only through a table of operations: the CUDA
 * build provides one (device_cuda.cu); the tests provide a host-side mock
 * whose "device memory" is ordinary memory, which exercises the packing,
 * batch boundaries and flushes without a GPU.
 */
#ifndef GASP_GPU_H
#define GASP_GPU_H

#include "gasp.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Operations on one device.  `dev` is the table's own context.  Copies
 * are 2-D: `rows` rows of `width` bytes, `spitch`/`dpitch` (>= width)
 * bytes apart.
 * Every call returns 0 or -1 (then error() says why). */
typedef struct gasp__gpu_ops {
  void *(*host_alloc)(void *dev, size_t bytes); /* pinned */
  void (*host_free)(void *dev, void *p);
  void *(*dev_alloc)(void *dev, size_t bytes);
  void (*dev_free)(void *dev, void *p);
  int (*stream_new)(void *dev, void **stream);
  void (*stream_free)(void *dev, void *stream);
  int (*copy_in)(void *dev, void *dst, size_t dpitch, const void *src,
                 size_t spitch, size_t width, size_t rows, void *stream);
  int (*copy_out)(void *dev, void *dst, size_t dpitch, const void *src,
                  size_t spitch, size_t width, size_t rows, void *stream);
  /* waits until everything enqueued on the stream is done, and reports
   * an error a kernel on it raised */
  int (*wait)(void *dev, void *stream);
  const char *(*error)(void *dev);
  void (*close)(void *dev); /* frees dev */
} gasp__gpu_ops;

/* The CUDA device table, or NULL in a build without CUDA or with no
 * device (name then says why); *dev receives a context for device 0. */
const gasp__gpu_ops *gasp__gpu_open(void **dev, char *name, size_t len);

#define GASP__GPU_SLOTS 2
/* Items per batch at most: a plane of 8-byte words is then 512 MiB, well
 * inside what a 2-D copy's pitch may be. */
#define GASP__GPU_CAP_MAX ((uint64_t)1 << 26)

typedef struct gasp__gpu_slot {
  void *stream;
  char *h_v, *h_a; /* pinned: SoA planes of cap words */
  gasp_vid *h_vid;
  char *d_v, *d_a;
  gasp_vid *d_vid;
  uint64_t n;   /* items packed */
  int inflight; /* enqueued on the device, not yet unpacked */
} gasp__gpu_slot;

typedef struct gasp__gpu_batcher {
  const gasp__gpu_ops *ops;
  void *dev;
  const gasp_program *prog;
  char *vbase; /* host vertex data: vertex v at vbase + v * vertex_size */
  size_t word, vwords, awords;
  uint64_t cap;   /* items per batch */
  double flush_s; /* a partial batch older than this is sent (0: never) */
  gasp__gpu_slot slot[GASP__GPU_SLOTS];
  int nslots, cur; /* slots in the ring, the one being filled */
  double t_first;  /* when the filling slot got its first item */
  uint64_t iteration;
  /* called for every vertex once its new data is back on the host */
  void (*done)(void *arg, gasp_vid v);
  void *done_arg;
  gasp_gpu_stats *st; /* shared tallies (the caller serialises) */
  char err[200];
} gasp__gpu_batcher;

/* Why a batch was sent. */
enum { GASP__FLUSH_FULL, GASP__FLUSH_TIME, GASP__FLUSH_IDLE };

/* A batcher over `nslots` (1 .. GASP__GPU_SLOTS) slots of `cap` items.
 * Returns 0, GASP_EINVAL for a program whose sizes are not whole words,
 * or GASP_EIO / GASP_ENOMEM with b->err set (a device failure: EIO). */
int gasp__gpu_batcher_init(gasp__gpu_batcher *b, const gasp__gpu_ops *ops,
                           void *dev, const gasp_program *prog, void *vbase,
                           uint64_t cap, int nslots, double flush_s,
                           gasp_gpu_stats *st);
void gasp__gpu_batcher_destroy(gasp__gpu_batcher *b);
/* Packs vertex v (its current data) and its accumulator; sends the batch
 * when it is full, or (flush_s > 0) when its first item is flush_s old at
 * `now`.  A slot is reused only after its previous batch came back; with
 * one slot a batch sent is waited for at once (its vertices are back and
 * their done callbacks have run when this returns). */
int gasp__gpu_add(gasp__gpu_batcher *b, gasp_vid v, const void *acc,
                  double now);
/* Sends the partial batch (reason GASP__FLUSH_*), if any, and waits for
 * every batch in flight; on return every vertex added is back. */
int gasp__gpu_drain(gasp__gpu_batcher *b, int reason);
/* Items waiting in the slot being filled. */
static inline uint64_t gasp__gpu_pending(const gasp__gpu_batcher *b) {
  return b->slot[b->cur].n;
}

#ifdef __cplusplus
}
#endif
#endif
