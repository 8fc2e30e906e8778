/*
 * internal.h -- helpers shared inside libgasp (not installed).
 *
 * Internal non-static names carry the `gasp__` prefix.
 */
#ifndef GASP_INTERNAL_H
#define GASP_INTERNAL_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "alloc.h"
#include "gasp.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__GNUC__)
#define GASP__PRINTF(a, b) __attribute__((format(printf, a, b)))
#define GASP__LIKELY(x) __builtin_expect(!!(x), 1)
#define GASP__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define GASP__PRINTF(a, b)
#define GASP__LIKELY(x) (x)
#define GASP__UNLIKELY(x) (x)
#endif

/* Fills `err` (when non-NULL) and returns `code`, so a failing path can
 * end with `return gasp__fail(err, GASP_EPARSE, path, line, "...", ...)`.
 * `file` may be NULL; `line` 0 means "not about a line". */
int gasp__fail(gasp_error *err, int code, const char *file, uint64_t line,
               const char *fmt, ...) GASP__PRINTF(5, 6);
void gasp__error_clear(gasp_error *err);
/* For an entry point's exit: a failure (code) that no inner call
 * described gets the status's own message (e.g. "out of memory"), naming
 * `file` when not NULL.  Returns code. */
int gasp__error_default(gasp_error *err, int code, const char *file);

/* Number of threads to use: `requested` when > 0 (at most
 * GASP_MAX_THREADS), else OMP_NUM_THREADS or all cores. */
int gasp__threads(int requested);

/* Seconds on a monotonic clock. */
double gasp__now(void);


/* ---- deterministic random numbers ---------------------------------- */

static inline uint64_t gasp__rotl64(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

/* SplitMix64 (Steele, Lea, Flood 2014): a counter-based generator, so a
 * stream can be derived from (seed, index) and results do not depend on
 * how work is split over threads. */
static inline uint64_t gasp__splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Mixes two words into one well-distributed seed. */
static inline uint64_t gasp__mix(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0xD6E8FEB86659FD93ull);
  return gasp__splitmix64(&s);
}

/* xoshiro256** (Blackman, Vigna 2018) for long per-thread streams. */
typedef struct gasp__rng {
  uint64_t s[4];
} gasp__rng;

void gasp__rng_seed(gasp__rng *r, uint64_t seed, uint64_t stream);
uint64_t gasp__rng_next(gasp__rng *r);
/* Uniform double in [0, 1). */
double gasp__rng_uniform(gasp__rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t gasp__rng_below(gasp__rng *r, uint64_t n);
/* Standard normal (Marsaglia polar method). */
double gasp__rng_normal(gasp__rng *r);
/* Gamma(shape, 1) (Marsaglia and Tsang 2000), shape > 0. */
double gasp__rng_gamma(gasp__rng *r, double shape);

/* ---- output files --------------------------------------------------- */

/* A file written unnamed (O_TMPFILE) or under a temporary name in the
 * target's directory and renamed into place by gasp__outfile_commit();
 * gasp__outfile_abort() removes it, so a failed write leaves nothing
 * behind (and an unnamed one nothing even when the process is killed).  Only
 * regular files are replaced: a symlink's target is (the link stays), and a
 * device or FIFO is written in place.  New files get 0666 less the umask,
 * a replaced file keeps its mode. */
typedef struct gasp__outfile {
  char *path;
  char *tmp;   /* the temporary's name once it has one */
  char *name;  /* unnamed: room for that name, so commit allocates nothing */
  int fd;
  int unnamed; /* fd is an O_TMPFILE file, named at commit */
} gasp__outfile;

int gasp__outfile_open(gasp__outfile *f, const char *path, gasp_error *err);
/* Writes all of buf; GASP_EIO on failure (err filled). */
int gasp__outfile_write(gasp__outfile *f, const void *buf, size_t len,
                        gasp_error *err);
int gasp__outfile_commit(gasp__outfile *f, gasp_error *err);
void gasp__outfile_abort(gasp__outfile *f);

/* ---- 64-bit checksum ------------------------------------------------ */

/* A streaming 64-bit hash in the style of XXH64 (four lanes of
 * multiply-rotate rounds), fast enough to verify snapshots at memory
 * speed.  Not cryptographic: it detects corruption, not tampering. */
typedef struct gasp__hash {
  uint64_t v[4];
  uint64_t total;
  unsigned char buf[32];
  unsigned used;
} gasp__hash;

void gasp__hash_init(gasp__hash *h, uint64_t seed);
void gasp__hash_update(gasp__hash *h, const void *data, size_t len);
uint64_t gasp__hash_final(const gasp__hash *h);

#endif /* GASP_INTERNAL_H */
