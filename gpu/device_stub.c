/*
 * device_stub.c -- the GPU entry points of a build without CUDA: no device
 * is ever reported, so every run takes the CPU path.
 */
#include "gpu.h"
#include "internal.h"

#include <stdio.h>

int gasp_gpu_compiled(void) { return 0; }

int gasp_gpu_probe(char *name, size_t len) {
  if (name && len) snprintf(name, len, "none (built without CUDA)");
  return 0;
}

const gasp__gpu_ops *gasp__gpu_open(void **dev, char *name, size_t len) {
  *dev = NULL;
  gasp_gpu_probe(name, len);
  return NULL;
}
