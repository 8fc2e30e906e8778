/*
 * mf_gpu.h -- ALS on a CUDA device: the factor matrix F and the ratings
 * (CSR) stay resident on device 0, and each half-step solves a batch of
 * vertices of one side there, one thread block per vertex: the k x k
 * normal equations are built on the device from the neighbours' rows (no
 * k^2 floats per vertex cross the bus) and solved by Cholesky in double.
 * The math is in mf_gpu_stages.h; the CPU reference is als_solve in
 * lib_mf.c (mf_normal_eq + mf_cholesky_solve).
 *
 * Plain C, usable from C and from CUDA; built into libgasp (for gasp_als)
 * by nvcc, or as mf_gpu_stub.c in a build without CUDA, whose functions
 * all fail.  mf_gpu_new fails with the CUDA runtime's reason when there is
 * no usable device.
 *
 * Threads: a handle is driven from one host thread at a time.  Solves are
 * asynchronous on the caller's stream; mf_gpu_params and
 * mf_gpu_upload_rows first wait for all work on the device, so they never
 * change data that an enqueued solve still reads.  When the normal
 * equations do not fit in shared memory (large k), the solves of one
 * handle share a workspace and are serialised across streams by an event.
 *
 * Errors: functions return 0 or -1; on -1 a message is written to err (when
 * err is not NULL and len > 0).  Nothing prints, nothing exits.
 */
#ifndef GASP_MF_GPU_H
#define GASP_MF_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "gasp.h" /* gasp_vid is uint32_t */

/* Non-static names in libgasp are internal (gasp__). */
#define mf_gpu_new gasp__mf_gpu_new
#define mf_gpu_free gasp__mf_gpu_free
#define mf_gpu_params gasp__mf_gpu_params
#define mf_gpu_solve gasp__mf_gpu_solve
#define mf_gpu_upload_rows gasp__mf_gpu_upload_rows

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mf_gpu mf_gpu;

/* The local graph as the CPU holds it; mf_gpu_new copies everything. */
typedef struct mf_gpu_graph {
  int k, stride;       /* factors, floats per row of F (stride >= k, a
                          multiple of 4: mf_stride() rows qualify) */
  uint64_t nv;         /* rows of F (all local vertices, both sides) */
  const float *F;      /* host factor matrix nv x stride (initial values) */
  const uint64_t *off; /* nv+1: ratings of v at positions off[v]..off[v+1) */
  const gasp_vid *nbr; /* neighbour vertex (row of F) per position */
  const float *r;      /* rating per position */
} mf_gpu_graph;

/* Uploads F and the adjacency (CSR) to device 0 and sizes the kernel for k
 * (1 <= k; k is refused with a message when a block's memory for it does
 * not fit the device).  On success *out is a handle for mf_gpu_free; on
 * failure *out is NULL and nothing stays allocated.  Returns 0 or -1 with
 * err filled. */
int mf_gpu_new(mf_gpu **out, const mf_gpu_graph *g, char *err, size_t len);

/* Waits for the handle's work and frees it; NULL is a no-op. */
void mf_gpu_free(mf_gpu *m);

/* Parameters for the next solves: lambda, alpha (0 explicit), and for
 * implicit runs YtY (k*k doubles, row-major, copied to the device), NULL
 * otherwise.  Waits for the device first (an enqueued solve may read the
 * previous YtY).  0 or -1 + err. */
int mf_gpu_params(mf_gpu *m, double lambda, double alpha, const double *yty,
                  char *err, size_t len);

/* Solves the vertices d_vid[0..n) (device pointer to local ids, all on one
 * side), on `stream` (a cudaStream_t passed as void*; NULL: the default
 * stream): writes each new row into the resident F on the device, and into
 * d_out (device) in structure-of-arrays layout: float c of batch item i at
 * d_out[c * pitch + i], for c in 0..stride-1 (pitch >= n; d_out may be NULL
 * to write F only).  A vertex whose system is not positive definite, or
 * with no ratings in an explicit run, keeps its row (which is what d_out
 * receives); an id >= nv is skipped (its d_out column is not written).
 * Asynchronous (only enqueues); d_vid and d_out must stay valid until the
 * stream reaches the solve.  0 or -1 + err. */
int mf_gpu_solve(mf_gpu *m, const gasp_vid *d_vid, uint64_t n, float *d_out,
                 uint64_t pitch, void *stream, char *err, size_t len);

/* Copies host rows F[v] (stride floats each) for v in vid[0..n) to the
 * device copy (after the CPU changed them); vid and F are host memory.
 * Waits for the device first and returns when the copy is done.  0 or -1 +
 * err. */
int mf_gpu_upload_rows(mf_gpu *m, const gasp_vid *vid, uint64_t n,
                       const float *F, char *err, size_t len);

#ifdef __cplusplus
}
#endif

#endif
