/*
 * sys.c -- thread counts, the clock, checked allocation (big arrays
 * on huge pages where the kernel offers them) and the version.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* Large arrays are aligned to 2 MiB and marked for transparent huge
 * pages: building a graph touches hundreds of MiB of fresh memory, and
 * 4 KiB page faults cost more than the work itself.  free() and realloc()
 * work on them as usual. */
#define BIG_ARRAY ((size_t)4 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

static void *malloc_big(size_t bytes) {
  void *p;
  if (posix_memalign(&p, HUGE_PAGE, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

void *gasp__malloc_array(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  size_t bytes = n * size;
  if (bytes >= BIG_ARRAY) return malloc_big(bytes);
  return malloc(bytes ? bytes : 1);
}

void *gasp__calloc_array(size_t n, size_t size) {
  if (n == 0 || size == 0) return calloc(1, 1);
  if (n > SIZE_MAX / size) return NULL;
  size_t bytes = n * size;
  if (bytes < BIG_ARRAY) return calloc(n, size);
  void *p = malloc_big(bytes);
  if (p) memset(p, 0, bytes);
  return p;
}

const char *gasp_version_string(void) { return PACKAGE_VERSION; }
