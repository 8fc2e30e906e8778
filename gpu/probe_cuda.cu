/*
 * probe_cuda.cu -- GPU detection for a CUDA build.  The CUDA runtime is
 * linked statically; with no driver or no device, cudaGetDeviceCount()
 * fails and the library reports zero devices, so runs fall back to the CPU.
 */
#include <cuda_runtime.h>
#include <stdio.h>

#include "gasp.h"

extern "C" GASP_EXTERN int gasp_gpu_compiled(void) { return 1; }

extern "C" GASP_EXTERN int gasp_gpu_probe(char *name, size_t len) {
  int count = 0;
  cudaError_t rc = cudaGetDeviceCount(&count);
  if (rc != cudaSuccess || count <= 0) {
    if (name && len)
      snprintf(name, len, "none (%s)",
               rc != cudaSuccess ? cudaGetErrorString(rc) : "no device");
    cudaGetLastError(); /* clear the sticky error state */
    return 0;
  }
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    if (name && len) snprintf(name, len, "device 0 (properties unavailable)");
    return count;
  }
  if (name && len)
    snprintf(name, len, "%s (compute %d.%d, %.1f GiB)", prop.name, prop.major,
             prop.minor, (double)prop.totalGlobalMem / (1024.0 * 1024 * 1024));
  return count;
}
