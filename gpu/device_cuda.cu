/*
 * device_cuda.cu -- the CUDA build's device: detection (gasp_gpu_probe)
 * and the operations table the batcher runs on (gpu.h): pinned host
 * buffers, device buffers, non-blocking streams, 2-D asynchronous copies.
 * The CUDA runtime is linked statically; with no driver or no device,
 * cudaGetDeviceCount() fails and the library reports zero devices, so runs
 * fall back to the CPU.
 */
#include <cuda_runtime.h>
#include <stdio.h>

#include <atomic>
#include <new>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

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
  rc = cudaGetDeviceProperties(&prop, 0);
  if (rc != cudaSuccess) {
    if (name && len)
      snprintf(name, len, "none (device 0: %s)", cudaGetErrorString(rc));
    cudaGetLastError();
    return 0;
  }
  /* the kernels are built for compute 7.5 and up (gpu/include.am) */
  if (prop.major * 10 + prop.minor < 75) {
    if (name && len)
      snprintf(name, len, "none (%s is compute %d.%d; gasp needs 7.5)",
               prop.name, prop.major, prop.minor);
    return 0;
  }
  /* a device in a prohibited or busy exclusive mode shows here, when its
   * context is made, not at the first batch */
  rc = cudaSetDevice(0);
  if (rc == cudaSuccess) rc = cudaFree(0);
  if (rc != cudaSuccess) {
    if (name && len)
      snprintf(name, len, "none (%s: %s)", prop.name, cudaGetErrorString(rc));
    cudaGetLastError();
    return 0;
  }
  if (name && len)
    snprintf(name, len, "%s (compute %d.%d, %.1f GiB)", prop.name, prop.major,
             prop.minor, (double)prop.totalGlobalMem / (1024.0 * 1024 * 1024));
  return count;
}

namespace {

/* The context: the last failure, for error().  Async workers share it, so
 * the store is atomic (a message may then name another worker's failure:
 * both are the device's).  cudaGetLastError() clears the runtime's copy,
 * so that a later, unrelated launch check does not report it again. */
struct cuda_dev {
  std::atomic<int> last;
};

int check(void *dev, cudaError_t rc) {
  if (rc == cudaSuccess) return 0;
  static_cast<cuda_dev *>(dev)->last.store((int)rc, std::memory_order_relaxed);
  cudaGetLastError();
  return -1;
}

void *host_alloc(void *dev, size_t bytes) {
  void *p = NULL;
  if (check(dev, cudaHostAlloc(&p, bytes ? bytes : 1, cudaHostAllocDefault)))
    return NULL;
  return p;
}
void host_free(void *, void *p) {
  if (p) cudaFreeHost(p);
}
void *dev_alloc(void *dev, size_t bytes) {
  void *p = NULL;
  if (check(dev, cudaMalloc(&p, bytes ? bytes : 1))) return NULL;
  return p;
}
void dev_free(void *, void *p) {
  if (p) cudaFree(p);
}
int stream_new(void *dev, void **s) {
  cudaStream_t st;
  if (check(dev, cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking)))
    return -1;
  *s = st;
  return 0;
}
void stream_free(void *, void *s) { cudaStreamDestroy((cudaStream_t)s); }
int copy2d(void *dev, void *dst, size_t dpitch, const void *src, size_t spitch,
           size_t width, size_t rows, void *s, cudaMemcpyKind kind) {
  return check(dev, cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, rows,
                                      kind, (cudaStream_t)s));
}
int copy_in(void *dev, void *dst, size_t dpitch, const void *src, size_t spitch,
            size_t width, size_t rows, void *s) {
  return copy2d(dev, dst, dpitch, src, spitch, width, rows, s,
                cudaMemcpyHostToDevice);
}
int copy_out(void *dev, void *dst, size_t dpitch, const void *src,
             size_t spitch, size_t width, size_t rows, void *s) {
  return copy2d(dev, dst, dpitch, src, spitch, width, rows, s,
                cudaMemcpyDeviceToHost);
}
int wait_stream(void *dev, void *s) {
  return check(dev, cudaStreamSynchronize((cudaStream_t)s));
}
const char *error(void *dev) {
  return cudaGetErrorString(
      (cudaError_t) static_cast<cuda_dev *>(dev)->last.load(
          std::memory_order_relaxed));
}
void close_dev(void *dev) { delete static_cast<cuda_dev *>(dev); }

const gasp__gpu_ops cuda_ops = {host_alloc,  host_free,   dev_alloc, dev_free,
                                stream_new,  stream_free, copy_in,   copy_out,
                                wait_stream, error,       close_dev};

} // namespace

extern "C" const gasp__gpu_ops *gasp__gpu_open(void **dev, char *name,
                                               size_t len) {
  *dev = NULL;
  if (gasp_gpu_probe(name, len) <= 0) return NULL;
  cuda_dev *d = new (std::nothrow) cuda_dev();
  if (!d || cudaSetDevice(0) != cudaSuccess) {
    if (name && len) snprintf(name, len, "none (cannot use device 0)");
    delete d;
    return NULL;
  }
  *dev = d;
  return &cuda_ops;
}
