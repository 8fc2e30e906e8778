/*
 * alloc.h -- the one allocator every allocation in libgasp goes through.
 *
 * The functions behave as their C library namesakes (memory from them is
 * freed with free()), with one addition for tests: gasp__alloc_fail_after
 * makes the allocations after the next N fail, so a test can fail each
 * allocation of an operation in turn and check that it ends with a clean
 * error, no leak and no crash (SQLite's way of testing out-of-memory).
 */
#ifndef GASP_ALLOC_H
#define GASP_ALLOC_H

#include <stddef.h>

void *gasp__malloc(size_t size);
void *gasp__calloc(size_t n, size_t size);
void *gasp__realloc(void *p, size_t size);
char *gasp__strdup(const char *s);
char *gasp__strndup(const char *s, size_t n);
char *gasp__realpath(const char *path);
/* posix_memalign's contract: 0, or an errno value (ENOMEM). */
int gasp__posix_memalign(void **p, size_t align, size_t size);
void *gasp__aligned_alloc(size_t align, size_t size);

/* Allocation with an overflow check on n * size; NULL on failure or
 * overflow.  Arrays of 4 MiB and more are aligned to 2 MiB and marked for
 * transparent huge pages. */
void *gasp__malloc_array(size_t n, size_t size);
void *gasp__calloc_array(size_t n, size_t size);

/* ---- failure injection (tests) ---------------------------------------
 * After gasp__alloc_fail_after(n, persistent) the next n allocations
 * succeed and the one after fails; with `persistent` every later one
 * fails too, until the next call.  n < 0 turns injection off (the
 * default).  gasp__alloc_count() is the number of allocations made since
 * the last gasp__alloc_fail_after, gasp__alloc_failed() the number that
 * were made to fail.  Process-wide: a test hook, not an API (not exported
 * from the shared library). */
void gasp__alloc_fail_after(long n, int persistent);
long gasp__alloc_count(void);
long gasp__alloc_failed(void);
void gasp__alloc_injected(void); /* called at each failure: a breakpoint */

#endif
