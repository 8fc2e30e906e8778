/*
 * mf_gpu.cu -- ALS half-steps on a CUDA device (see mf_gpu.h): the kernel
 * that runs the stages of mf_gpu_stages.h with one thread block per vertex,
 * and the host functions that keep F and the ratings resident on device 0.
 *
 * Block memory (dynamic shared memory, sized by mf_layout_init): the packed
 * augmented system [A | b] in double, (k+1)(k+2)/2 doubles (41 KB at
 * k = 100), two tiles of MF_TILE neighbour rows in float, and O(k)
 * scratch.  When that exceeds what a block may have (k above about 200 on
 * an H100), [A | b] moves to a workspace in global memory, one per
 * resident block, and the grid is sized to the resident blocks.  Otherwise
 * the grid has one block per vertex, so the hardware balances vertices of
 * very different degrees.
 *
 * Threads per block: 64, 128 or 256, the largest that keeps the threads of
 * the accumulation (one per 4 x 4 block of the upper triangle of A) busy
 * in most rounds (k = 100: 128 threads, 350 blocks in 3 rounds).
 */
#include <cuda_runtime.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_gpu.h"
#include "mf_gpu_stages.h"

#define MAX_THREADS 256

struct mf_gpu {
  int k, stride, nthreads;
  uint64_t nv, nnz;
  float *F; /* device copies */
  uint64_t *off;
  gasp_vid *nbr;
  float *r;
  double *yty; /* k x k */
  int have_yty;
  double lambda, alpha;
  mf_layout L; /* L.p == SIZE_MAX: [A | b] in ws */
  double *ws;  /* nws blocks of ws_stride doubles */
  size_t ws_stride;
  unsigned nws;
  cudaEvent_t ws_done; /* orders solves that share ws */
  int have_event;
};

/* ---- errors -------------------------------------------------------------- */

static int fail(char *err, size_t len, const char *fmt, ...) {
  if (err && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static int cuda_fail(char *err, size_t len, const char *what, cudaError_t rc) {
  cudaGetLastError(); /* clear a non-sticky error */
  return fail(err, len, "mf_gpu: %s: %s", what, cudaGetErrorString(rc));
}

#define CU(call, what)                                                         \
  do {                                                                         \
    cudaError_t rc_ = (call);                                                  \
    if (rc_ != cudaSuccess) return cuda_fail(err, len, what, rc_);             \
  } while (0)

/* ---- kernels ------------------------------------------------------------- */

/* One block per vertex of the batch (grid-strided when the grid is
 * smaller); every thread walks the same sequence of stages. */
static __global__ void __launch_bounds__(MAX_THREADS)
    als_kernel(mf_solve_args a, mf_layout L, double *ws, size_t ws_stride) {
  extern __shared__ __align__(16) unsigned char smem[];
  mf_smem s;
  mf_carve(&L, smem, ws ? ws + blockIdx.x * ws_stride : NULL, &s);
  for (uint64_t item = blockIdx.x; item < a.n; item += gridDim.x) {
    mf_vjob j;
    if (mf_job_init(a, item, &j)) continue; /* uniform over the block */
    for (mf_state st = mf_first(&j); st.phase != MF_DONE;
         st = mf_next(&j, &s, st)) {
      mf_stage(&j, &s, st, (int)threadIdx.x, (int)blockDim.x);
      __syncthreads();
    }
  }
}

/* rows[i * stride + c] -> F[vid[i] * stride + c] */
static __global__ void scatter_rows(float *F, int stride, const gasp_vid *vid,
                                    uint64_t n, const float *rows) {
  const uint64_t total = n * (uint64_t)stride;
  for (uint64_t e = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; e < total;
       e += (uint64_t)gridDim.x * blockDim.x) {
    uint64_t i = e / (uint64_t)stride, c = e % (uint64_t)stride;
    F[(size_t)vid[i] * (size_t)stride + c] = rows[e];
  }
}

/* ---- sizing -------------------------------------------------------------- */

/* Items of the accumulation stage (4 x 4 blocks of A, pieces of b): the
 * largest block size with at least 85% of its thread slots used, else the
 * one using most. */
static int pick_threads(int k) {
  const long nb = (k + 3) / 4, items = nb * (nb + 1) / 2 + nb;
  int best = MAX_THREADS;
  double best_eff = 0;
  for (int t = MAX_THREADS; t >= 64; t /= 2) {
    double eff = (double)items / (double)(((items + t - 1) / t) * t);
    if (eff >= 0.85) return t;
    if (eff > best_eff) best = t, best_eff = eff;
  }
  return best;
}

/* ---- handle -------------------------------------------------------------- */

void mf_gpu_free(mf_gpu *m) {
  if (!m) return;
  cudaDeviceSynchronize(); /* enqueued solves may still use the buffers */
  cudaFree(m->F);
  cudaFree(m->off);
  cudaFree(m->nbr);
  cudaFree(m->r);
  cudaFree(m->yty);
  cudaFree(m->ws);
  if (m->have_event) cudaEventDestroy(m->ws_done);
  free(m);
}

static int check_graph(const mf_gpu_graph *g, char *err, size_t len) {
  if (g->k < 1 || g->k > 4096)
    return fail(err, len, "mf_gpu: k = %d out of range", g->k);
  if (g->stride < mf_kq(g->k) || g->stride % 4)
    return fail(err, len,
                "mf_gpu: stride %d for k = %d (need >= %d, a multiple of 4)",
                g->stride, g->k, mf_kq(g->k));
  if (g->nv >= (uint64_t)GASP_VID_NONE)
    return fail(err, len, "mf_gpu: %llu rows", (unsigned long long)g->nv);
  if (!g->off || (g->nv && !g->F))
    return fail(err, len, "mf_gpu: missing F or off");
  for (uint64_t v = 0; v < g->nv; v++)
    if (g->off[v] > g->off[v + 1])
      return fail(err, len, "mf_gpu: off decreases at vertex %llu",
                  (unsigned long long)v);
  const uint64_t nnz = g->off[g->nv];
  if (nnz && (!g->nbr || !g->r))
    return fail(err, len, "mf_gpu: missing nbr or r");
  for (uint64_t p = 0; p < nnz; p++)
    if (g->nbr[p] >= g->nv)
      return fail(err, len, "mf_gpu: neighbour %u at position %llu >= nv",
                  (unsigned)g->nbr[p], (unsigned long long)p);
  return 0;
}

/* Shared memory, block size and (for large k) the workspace. */
static int size_kernel(mf_gpu *m, char *err, size_t len) {
  int dev = 0, optin = 0, sms = 0;
  CU(cudaGetDevice(&dev), "cudaGetDevice");
  CU(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                            dev),
     "shared memory per block");
  CU(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev),
     "multiprocessor count");
  m->nthreads = pick_threads(m->k);
  mf_layout_init(&m->L, m->k, 1);
  if (m->L.bytes > (size_t)optin) mf_layout_init(&m->L, m->k, 0);
  if (m->L.bytes > (size_t)optin)
    return fail(err, len,
                "mf_gpu: k = %d needs %zu bytes of shared memory per block "
                "even with the normal equations in global memory; the device "
                "allows %d",
                m->k, m->L.bytes, optin);
  /* the device's limit, the same for every handle: a handle made later
   * for a smaller k must not lower it under an earlier handle's launches */
  CU(cudaFuncSetAttribute(als_kernel,
                          cudaFuncAttributeMaxDynamicSharedMemorySize, optin),
     "shared memory attribute");
  int per_sm = 0;
  CU(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, als_kernel,
                                                   m->nthreads, m->L.bytes),
     "occupancy");
  if (per_sm < 1)
    return fail(err, len,
                "mf_gpu: k = %d: no block of %d threads with %zu bytes of "
                "shared memory fits a multiprocessor",
                m->k, m->nthreads, m->L.bytes);
  if (m->L.p != SIZE_MAX) return 0;
  m->nws = (unsigned)(per_sm * (sms > 0 ? sms : 1));
  m->ws_stride = (mf_p_doubles(m->k) + 31) & ~(size_t)31;
  CU(cudaMalloc((void **)&m->ws, m->nws * m->ws_stride * sizeof(double)),
     "workspace");
  CU(cudaEventCreateWithFlags(&m->ws_done, cudaEventDisableTiming),
     "cudaEventCreate");
  m->have_event = 1;
  return 0;
}

static int upload(mf_gpu *m, const mf_gpu_graph *g, char *err, size_t len) {
  const size_t nf = (size_t)g->nv * (size_t)g->stride;
  const size_t nnz = (size_t)m->nnz, kk = (size_t)m->k * (size_t)m->k;
  /* at least one element each, so that every pointer is a real one */
  CU(cudaMalloc((void **)&m->F, (nf ? nf : 1) * sizeof(float)), "alloc F");
  CU(cudaMalloc((void **)&m->off, (size_t)(g->nv + 1) * sizeof(uint64_t)),
     "alloc off");
  CU(cudaMalloc((void **)&m->nbr, (nnz ? nnz : 1) * sizeof(gasp_vid)),
     "alloc nbr");
  CU(cudaMalloc((void **)&m->r, (nnz ? nnz : 1) * sizeof(float)), "alloc r");
  CU(cudaMalloc((void **)&m->yty, kk * sizeof(double)), "alloc YtY");
  if (nf)
    CU(cudaMemcpy(m->F, g->F, nf * sizeof(float), cudaMemcpyHostToDevice),
       "copy F");
  CU(cudaMemcpy(m->off, g->off, (size_t)(g->nv + 1) * sizeof(uint64_t),
                cudaMemcpyHostToDevice),
     "copy off");
  if (nnz) {
    CU(cudaMemcpy(m->nbr, g->nbr, nnz * sizeof(gasp_vid),
                  cudaMemcpyHostToDevice),
       "copy nbr");
    CU(cudaMemcpy(m->r, g->r, nnz * sizeof(float), cudaMemcpyHostToDevice),
       "copy r");
  }
  /* done before any solve on a non-blocking stream reads them */
  CU(cudaDeviceSynchronize(), "copying the graph");
  return 0;
}

int mf_gpu_new(mf_gpu **out, const mf_gpu_graph *g, char *err, size_t len) {
  if (!out || !g) return fail(err, len, "mf_gpu_new: NULL argument");
  *out = NULL;
  if (check_graph(g, err, len)) return -1;
  CU(cudaSetDevice(0), "device 0");
  mf_gpu *m = (mf_gpu *)calloc(1, sizeof *m);
  if (!m) return fail(err, len, "mf_gpu: out of memory");
  m->k = g->k;
  m->stride = g->stride;
  m->nv = g->nv;
  m->nnz = g->off[g->nv];
  if (size_kernel(m, err, len) || upload(m, g, err, len)) {
    mf_gpu_free(m);
    return -1;
  }
  *out = m;
  return 0;
}

int mf_gpu_params(mf_gpu *m, double lambda, double alpha, const double *yty,
                  char *err, size_t len) {
  if (!m) return fail(err, len, "mf_gpu_params: NULL handle");
  if (!(lambda >= 0) || !isfinite(lambda) || !(alpha >= 0) || !isfinite(alpha))
    return fail(err, len, "mf_gpu_params: lambda %g, alpha %g", lambda, alpha);
  if (alpha > 0 && !yty)
    return fail(err, len, "mf_gpu_params: implicit (alpha %g) without YtY",
                alpha);
  CU(cudaDeviceSynchronize(), "waiting for the device");
  if (alpha > 0) {
    m->have_yty = 0;
    CU(cudaMemcpy(m->yty, yty, (size_t)m->k * (size_t)m->k * sizeof(double),
                  cudaMemcpyHostToDevice),
       "copy YtY");
    /* a copy from pageable memory may return before its DMA ends, and the
     * solves run on non-blocking streams that do not wait for it */
    CU(cudaDeviceSynchronize(), "copy YtY");
    m->have_yty = 1;
  }
  m->lambda = lambda;
  m->alpha = alpha;
  return 0;
}

int mf_gpu_solve(mf_gpu *m, const gasp_vid *d_vid, uint64_t n, float *d_out,
                 uint64_t pitch, void *stream, char *err, size_t len) {
  if (!m) return fail(err, len, "mf_gpu_solve: NULL handle");
  if (n == 0) return 0;
  if (!d_vid) return fail(err, len, "mf_gpu_solve: NULL vertex list");
  if (d_out && pitch < n)
    return fail(err, len, "mf_gpu_solve: pitch %llu < batch %llu",
                (unsigned long long)pitch, (unsigned long long)n);
  if (m->alpha > 0 && !m->have_yty)
    return fail(err, len, "mf_gpu_solve: implicit without YtY");
  mf_solve_args a;
  a.k = m->k;
  a.stride = m->stride;
  a.nv = m->nv;
  a.F = m->F;
  a.off = m->off;
  a.nbr = m->nbr;
  a.r = m->r;
  a.yty = m->alpha > 0 ? m->yty : NULL;
  a.lambda = m->lambda;
  a.alpha = m->alpha;
  a.vid = d_vid;
  a.n = n;
  a.out = d_out;
  a.pitch = pitch;
  cudaStream_t s = (cudaStream_t)stream;
  const int shared = m->L.p != SIZE_MAX;
  const uint64_t cap = shared ? (uint64_t)INT32_MAX : (uint64_t)m->nws;
  const unsigned grid = (unsigned)(n < cap ? n : cap);
  if (!shared) CU(cudaStreamWaitEvent(s, m->ws_done, 0), "ordering solves");
  als_kernel<<<grid, m->nthreads, m->L.bytes, s>>>(a, m->L, m->ws,
                                                   m->ws_stride);
  CU(cudaGetLastError(), "launching the solve");
  if (!shared) CU(cudaEventRecord(m->ws_done, s), "ordering solves");
  return 0;
}

int mf_gpu_upload_rows(mf_gpu *m, const gasp_vid *vid, uint64_t n,
                       const float *F, char *err, size_t len) {
  if (!m) return fail(err, len, "mf_gpu_upload_rows: NULL handle");
  if (n == 0) return 0;
  if (!vid || !F) return fail(err, len, "mf_gpu_upload_rows: NULL argument");
  for (uint64_t i = 0; i < n; i++)
    if (vid[i] >= m->nv)
      return fail(err, len, "mf_gpu_upload_rows: vertex %u >= nv %llu",
                  (unsigned)vid[i], (unsigned long long)m->nv);
  const size_t stride = (size_t)m->stride, bytes = (size_t)n * stride * 4;
  float *rows = (float *)malloc(bytes);
  if (!rows) return fail(err, len, "mf_gpu_upload_rows: out of memory");
  for (uint64_t i = 0; i < n; i++)
    memcpy(rows + i * stride, F + (size_t)vid[i] * stride, stride * 4);
  float *d_rows = NULL;
  gasp_vid *d_vid = NULL;
  cudaError_t rc = cudaDeviceSynchronize();
  const char *what = "waiting for the device";
  if (rc == cudaSuccess) {
    what = "staging rows";
    rc = cudaMalloc((void **)&d_rows, bytes);
  }
  if (rc == cudaSuccess) rc = cudaMalloc((void **)&d_vid, n * sizeof *vid);
  if (rc == cudaSuccess)
    rc = cudaMemcpy(d_rows, rows, bytes, cudaMemcpyHostToDevice);
  if (rc == cudaSuccess)
    rc = cudaMemcpy(d_vid, vid, n * sizeof *vid, cudaMemcpyHostToDevice);
  if (rc == cudaSuccess) {
    what = "scattering rows";
    uint64_t blocks = (n * stride + 255) / 256;
    scatter_rows<<<(unsigned)(blocks < 65535 ? blocks : 65535), 256>>>(
        m->F, m->stride, d_vid, n, d_rows);
    rc = cudaGetLastError();
  }
  if (rc == cudaSuccess) rc = cudaDeviceSynchronize();
  cudaFree(d_rows);
  cudaFree(d_vid);
  free(rows);
  return rc == cudaSuccess ? 0 : cuda_fail(err, len, what, rc);
}
