/*
 * sys.c -- thread counts, the clock and the version (allocation is in
 * alloc.c).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int gasp__threads(int requested) {
  /* entry points refuse more with GASP_EINVAL; none may start more */
  if (requested > GASP_MAX_THREADS) return GASP_MAX_THREADS;
  if (requested > 0) return requested;
#ifdef _OPENMP
  return omp_get_max_threads(); /* OMP_NUM_THREADS, else all cores */
#else
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
#endif
}

double gasp__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *gasp_version_string(void) { return PACKAGE_VERSION; }
