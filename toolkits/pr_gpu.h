/*
 * pr_gpu.h -- PageRank iterations on a CUDA device (pr_gpu.cu): the
 * in-edge CSR, the ranks and the contributions stay on the device, and
 * each iteration is two kernels (contributions and the dangling mass; a
 * pull over in-edges with the apply and the L1 change), so only two
 * doubles cross PCIe per iteration.  Built only with CUDA.
 */
#ifndef GASP_PR_GPU_H
#define GASP_PR_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "gasp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pr_gpu pr_gpu;

typedef struct pr_gpu_graph {
  uint64_t n, m;
  const uint64_t *in_off; /* n + 1 */
  const gasp_vid *in_nbr; /* m */
  const uint64_t *outdeg; /* n (in the whole graph) */
  const double *teleport; /* n */
  const double *rank;     /* n: the starting vector */
} pr_gpu_graph;

/* Bytes of device memory a graph needs. */
size_t pr_gpu_bytes(uint64_t n, uint64_t m);
/* Uploads the graph to device 0; -1 with err when it does not fit or the
 * device fails. */
int pr_gpu_new(pr_gpu **out, const pr_gpu_graph *g, char *err, size_t len);
/* One power iteration with damping d: r' = (1-d) p + d (A r/deg + D p),
 * D the dangling mass of r; *change receives |r' - r|_1. */
int pr_gpu_step(pr_gpu *p, double damping, double *change, char *err,
                size_t len);
/* Copies the ranks back (n doubles). */
int pr_gpu_ranks(pr_gpu *p, double *rank, char *err, size_t len);
void pr_gpu_free(pr_gpu *p);

#ifdef __cplusplus
}
#endif
#endif
