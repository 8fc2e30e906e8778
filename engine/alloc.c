/*
 * alloc.c -- the one allocator of libgasp (see alloc.h): the C library's,
 * behind a failure-injection check, and big arrays on huge pages.
 */
#include "alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Failure injection.  `armed` is read on every allocation (a relaxed load
 * of a flag that is almost always 0); the rest only while it is set. */
static int armed;
static int persistent;
static long remaining, counted, failed;

void gasp__alloc_fail_after(long n, int persist) {
  __atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&counted, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&failed, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&remaining, n, __ATOMIC_SEQ_CST);
  __atomic_store_n(&persistent, persist, __ATOMIC_SEQ_CST);
  if (n >= 0) __atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
}

long gasp__alloc_count(void) {
  return __atomic_load_n(&counted, __ATOMIC_SEQ_CST);
}
long gasp__alloc_failed(void) {
  return __atomic_load_n(&failed, __ATOMIC_SEQ_CST);
}

/* Called for each allocation made to fail: a place for a debugger's
 * breakpoint ("break gasp__alloc_injected"). */
__attribute__((noinline)) void gasp__alloc_injected(void) {
  __asm__ volatile("");
}

/* 1 when this allocation is to fail. */
static int inject(void) {
  if (__builtin_expect(!__atomic_load_n(&armed, __ATOMIC_RELAXED), 1)) return 0;
  __atomic_fetch_add(&counted, 1, __ATOMIC_SEQ_CST);
  long left = __atomic_sub_fetch(&remaining, 1, __ATOMIC_SEQ_CST);
  if (left >= 0) return 0;
  if (left < -1 && !__atomic_load_n(&persistent, __ATOMIC_SEQ_CST)) return 0;
  __atomic_fetch_add(&failed, 1, __ATOMIC_SEQ_CST);
  gasp__alloc_injected();
  errno = ENOMEM; /* as the C library's would */
  return 1;
}

void *gasp__malloc(size_t size) { return inject() ? NULL : malloc(size); }

void *gasp__calloc(size_t n, size_t size) {
  return inject() ? NULL : calloc(n, size);
}

void *gasp__realloc(void *p, size_t size) {
  return inject() ? NULL : realloc(p, size);
}

char *gasp__strdup(const char *s) { return inject() ? NULL : strdup(s); }

char *gasp__strndup(const char *s, size_t n) {
  return inject() ? NULL : strndup(s, n);
}

char *gasp__realpath(const char *path) {
  return inject() ? NULL : realpath(path, NULL);
}

int gasp__posix_memalign(void **p, size_t align, size_t size) {
  if (inject()) return ENOMEM;
  return posix_memalign(p, align, size);
}

void *gasp__aligned_alloc(size_t align, size_t size) {
  return inject() ? NULL : aligned_alloc(align, size);
}

/* Large arrays are aligned to 2 MiB and marked for transparent huge
 * pages: building a graph touches hundreds of MiB of fresh memory, and
 * 4 KiB page faults cost more than the work itself.  free() and realloc()
 * work on them as usual. */
#define BIG_ARRAY ((size_t)4 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

static void *malloc_big(size_t bytes) {
  void *p;
  if (gasp__posix_memalign(&p, HUGE_PAGE, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

void *gasp__malloc_array(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  size_t bytes = n * size;
  if (bytes >= BIG_ARRAY) return malloc_big(bytes);
  return gasp__malloc(bytes ? bytes : 1);
}

void *gasp__calloc_array(size_t n, size_t size) {
  if (n == 0 || size == 0) return gasp__calloc(1, 1);
  if (n > SIZE_MAX / size) return NULL;
  size_t bytes = n * size;
  if (bytes < BIG_ARRAY) return gasp__calloc(n, size);
  void *p = malloc_big(bytes);
  if (p) memset(p, 0, bytes);
  return p;
}
