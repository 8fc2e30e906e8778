/*
 * pr_gpu.cu -- PageRank iterations on the device (pr_gpu.h).
 *
 * Per iteration:
 *  1. contrib: c[u] = r[u] / outdeg(u) (0 when dangling), and the dangling
 *     mass D = sum of r over dangling vertices (a block reduction, one
 *     atomic per block);
 *  2. pull: a warp per vertex sums c over its in-neighbours (lanes stride
 *     the list, a shuffle reduction ends it), lane 0 applies
 *     r'[v] = (1-d) p[v] + d (sum + D p[v]) and the block sums |r' - r|;
 *  then the rank buffers swap.  The two scalars come back with one copy.
 * Everything is double, so the result is the CPU's fixed point within the
 * tolerance (the CPU's float phase ends at 1e-5 and double finishes).
 */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

#include "pr_gpu.h"

struct pr_gpu {
  uint64_t n, m;
  uint64_t *off;
  gasp_vid *nbr;
  double *inv_out; /* 1 / outdeg, 0 when dangling */
  double *tele, *r, *r2, *c;
  double *scal; /* [0] dangling mass, [1] L1 change */
};

static int cuda_fail(cudaError_t rc, const char *what, char *err, size_t len) {
  if (rc == cudaSuccess) return 0;
  if (err && len) snprintf(err, len, "GPU: %s: %s", what, cudaGetErrorString(rc));
  cudaGetLastError();
  return -1;
}

#define BLOCK 256

__device__ static double block_sum(double x, double *sh) {
  for (int o = 16; o > 0; o >>= 1)
    x += __shfl_down_sync(0xffffffffu, x, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) sh[warp] = x;
  __syncthreads();
  x = threadIdx.x < (BLOCK / 32) ? sh[threadIdx.x] : 0.0;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1)
      x += __shfl_down_sync(0xffffffffu, x, o);
  return x; /* valid in thread 0 */
}

__global__ static void contrib_kernel(uint64_t n, const double *r,
                                      const double *inv_out, double *c,
                                      double *scal) {
  __shared__ double sh[BLOCK / 32];
  double dang = 0;
  for (uint64_t v = blockIdx.x * (uint64_t)BLOCK + threadIdx.x; v < n;
       v += (uint64_t)gridDim.x * BLOCK) {
    double io = inv_out[v];
    c[v] = r[v] * io;
    if (io == 0.0) dang += r[v];
  }
  dang = block_sum(dang, sh);
  if (threadIdx.x == 0) atomicAdd(&scal[0], dang);
}

__global__ static void pull_kernel(uint64_t n, const uint64_t *off,
                                   const gasp_vid *nbr, const double *c,
                                   const double *tele, const double *r,
                                   double *r2, double d, double *scal) {
  __shared__ double sh[BLOCK / 32];
  const double D = scal[0];
  int lane = threadIdx.x & 31;
  uint64_t warps = (uint64_t)gridDim.x * (BLOCK / 32);
  double change = 0;
  for (uint64_t v = (blockIdx.x * (uint64_t)BLOCK + threadIdx.x) >> 5; v < n;
       v += warps) {
    double s = 0;
    for (uint64_t j = off[v] + lane; j < off[v + 1]; j += 32)
      s += c[nbr[j]];
    for (int o = 16; o > 0; o >>= 1)
      s += __shfl_down_sync(0xffffffffu, s, o);
    if (lane == 0) {
      double x = (1 - d) * tele[v] + d * (s + D * tele[v]);
      change += fabs(x - r[v]);
      r2[v] = x;
    }
  }
  change = block_sum(change, sh);
  if (threadIdx.x == 0) atomicAdd(&scal[1], change);
}

extern "C" size_t pr_gpu_bytes(uint64_t n, uint64_t m) {
  return (size_t)(n + 1) * 8 + (size_t)m * sizeof(gasp_vid) + (size_t)n * 8 * 5 +
         16;
}

extern "C" void pr_gpu_free(pr_gpu *p) {
  if (!p) return;
  cudaFree(p->off);
  cudaFree(p->nbr);
  cudaFree(p->inv_out);
  cudaFree(p->tele);
  cudaFree(p->r);
  cudaFree(p->r2);
  cudaFree(p->c);
  cudaFree(p->scal);
  free(p);
}

extern "C" int pr_gpu_new(pr_gpu **out, const pr_gpu_graph *g, char *err,
                          size_t len) {
  *out = NULL;
  size_t freeb = 0, total = 0;
  if (cuda_fail(cudaMemGetInfo(&freeb, &total), "cannot query the device", err,
                len))
    return -1;
  size_t need = pr_gpu_bytes(g->n, g->m);
  if (need + (64u << 20) > freeb) {
    if (err && len)
      snprintf(err, len,
               "GPU: the graph needs %.1f GiB of device memory, %.1f GiB free",
               need / 1073741824.0, freeb / 1073741824.0);
    return -1;
  }
  pr_gpu *p = (pr_gpu *)calloc(1, sizeof *p);
  double *inv = (double *)malloc((g->n ? g->n : 1) * sizeof *inv);
  if (!p || !inv) {
    free(p);
    free(inv);
    if (err && len) snprintf(err, len, "out of memory");
    return -1;
  }
  p->n = g->n;
  p->m = g->m;
  for (uint64_t v = 0; v < g->n; v++)
    inv[v] = g->outdeg[v] ? 1.0 / (double)g->outdeg[v] : 0.0;
  size_t nb = (g->n ? g->n : 1) * sizeof(double);
  int rc = cuda_fail(cudaMalloc(&p->off, (g->n + 1) * sizeof *p->off),
                     "cudaMalloc", err, len) ||
           cuda_fail(cudaMalloc(&p->nbr, (g->m ? g->m : 1) * sizeof *p->nbr),
                     "cudaMalloc", err, len) ||
           cuda_fail(cudaMalloc(&p->inv_out, nb), "cudaMalloc", err, len) ||
           cuda_fail(cudaMalloc(&p->tele, nb), "cudaMalloc", err, len) ||
           cuda_fail(cudaMalloc(&p->r, nb), "cudaMalloc", err, len) ||
           cuda_fail(cudaMalloc(&p->r2, nb), "cudaMalloc", err, len) ||
           cuda_fail(cudaMalloc(&p->c, nb), "cudaMalloc", err, len) ||
           cuda_fail(cudaMalloc(&p->scal, 2 * sizeof(double)), "cudaMalloc",
                     err, len);
  if (!rc)
    rc = cuda_fail(cudaMemcpy(p->off, g->in_off, (g->n + 1) * sizeof *p->off,
                              cudaMemcpyHostToDevice),
                   "copy to the device", err, len) ||
         cuda_fail(cudaMemcpy(p->nbr, g->in_nbr, g->m * sizeof *p->nbr,
                              cudaMemcpyHostToDevice),
                   "copy to the device", err, len) ||
         cuda_fail(cudaMemcpy(p->inv_out, inv, g->n * sizeof(double),
                              cudaMemcpyHostToDevice),
                   "copy to the device", err, len) ||
         cuda_fail(cudaMemcpy(p->tele, g->teleport, g->n * sizeof(double),
                              cudaMemcpyHostToDevice),
                   "copy to the device", err, len) ||
         cuda_fail(cudaMemcpy(p->r, g->rank, g->n * sizeof(double),
                              cudaMemcpyHostToDevice),
                   "copy to the device", err, len);
  free(inv);
  if (rc) {
    pr_gpu_free(p);
    return -1;
  }
  *out = p;
  return 0;
}

extern "C" int pr_gpu_step(pr_gpu *p, double damping, double *change,
                           char *err, size_t len) {
  if (p->n == 0) {
    *change = 0;
    return 0;
  }
  if (cuda_fail(cudaMemset(p->scal, 0, 2 * sizeof(double)), "cudaMemset", err,
                len))
    return -1;
  uint64_t blocks = (p->n + BLOCK - 1) / BLOCK;
  if (blocks > 65535) blocks = 65535;
  contrib_kernel<<<(unsigned)blocks, BLOCK>>>(p->n, p->r, p->inv_out, p->c,
                                               p->scal);
  uint64_t wblocks = (p->n * 32 + BLOCK - 1) / BLOCK;
  if (wblocks > 1048576) wblocks = 1048576;
  pull_kernel<<<(unsigned)wblocks, BLOCK>>>(p->n, p->off, p->nbr, p->c, p->tele,
                                            p->r, p->r2, damping, p->scal);
  if (cuda_fail(cudaGetLastError(), "kernel launch", err, len)) return -1;
  double s[2];
  if (cuda_fail(cudaMemcpy(s, p->scal, sizeof s, cudaMemcpyDeviceToHost),
                "an iteration", err, len))
    return -1;
  double *t = p->r;
  p->r = p->r2;
  p->r2 = t;
  *change = s[1];
  return 0;
}

extern "C" int pr_gpu_ranks(pr_gpu *p, double *rank, char *err, size_t len) {
  return cuda_fail(cudaMemcpy(rank, p->r, p->n * sizeof(double),
                              cudaMemcpyDeviceToHost),
                   "copy from the device", err, len);
}
