/*
 * mf_gpu_stub.c -- mf_gpu.h in a build without CUDA: no device to open,
 * so gasp_als never gets past gasp_gpu_probe to these; they fail cleanly
 * all the same.
 */
#include "mf_gpu.h"

#include <stdio.h>

static int no_cuda(char *err, size_t len) {
  if (err && len) snprintf(err, len, "this gasp was built without CUDA");
  return -1;
}

int mf_gpu_new(mf_gpu **out, const mf_gpu_graph *g, char *err, size_t len) {
  (void)g;
  *out = NULL;
  return no_cuda(err, len);
}

void mf_gpu_free(mf_gpu *m) { (void)m; }

int mf_gpu_params(mf_gpu *m, double lambda, double alpha, const double *yty,
                  char *err, size_t len) {
  (void)m, (void)lambda, (void)alpha, (void)yty;
  return no_cuda(err, len);
}

int mf_gpu_solve(mf_gpu *m, const gasp_vid *d_vid, uint64_t n, float *d_out,
                 uint64_t pitch, void *stream, char *err, size_t len) {
  (void)m, (void)d_vid, (void)n, (void)d_out, (void)pitch, (void)stream;
  return no_cuda(err, len);
}

int mf_gpu_upload_rows(mf_gpu *m, const gasp_vid *vid, uint64_t n,
                       const float *F, char *err, size_t len) {
  (void)m, (void)vid, (void)n, (void)F;
  return no_cuda(err, len);
}
