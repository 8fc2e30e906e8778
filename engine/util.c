/*
 * util.c -- error reporting, thread counts, clocks, checked allocation,
 * random numbers, atomic output files and the snapshot checksum.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- */
/* Errors                                                            */
/* ---------------------------------------------------------------- */

const char *gasp_strerror(int status) {
  if (status == GASP_OK) return "success";
  switch (status) {
#define XX(name, code, msg)                                                    \
  case GASP_##name: return msg;
    GASP_ERRNO_MAP(XX)
#undef XX
  }
  return "unknown error";
}

const char *gasp_err_name(int status) {
  if (status == GASP_OK) return "OK";
  switch (status) {
#define XX(name, code, msg)                                                    \
  case GASP_##name: return #name;
    GASP_ERRNO_MAP(XX)
#undef XX
  }
  return "UNKNOWN";
}

void gasp__error_clear(gasp_error *err) {
  if (!err) return;
  err->code = GASP_OK;
  err->line = 0;
  err->file[0] = '\0';
  err->msg[0] = '\0';
}

int gasp__fail(gasp_error *err, int code, const char *file, uint64_t line,
               const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  err->line = line;
  snprintf(err->file, sizeof err->file, "%s", file ? file : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

char *gasp_error_format(const gasp_error *err, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  if (!err) {
    buf[0] = '\0';
    return buf;
  }
  const char *msg = err->msg[0] ? err->msg : gasp_strerror(err->code);
  if (err->file[0] && err->line)
    snprintf(buf, len, "%s:%llu: %s", err->file, (unsigned long long)err->line,
             msg);
  else if (err->file[0])
    snprintf(buf, len, "%s: %s", err->file, msg);
  else
    snprintf(buf, len, "%s", msg);
  return buf;
}

/* ---------------------------------------------------------------- */
/* Threads, time, memory                                             */
/* ---------------------------------------------------------------- */

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

/* ---------------------------------------------------------------- */
/* Random numbers                                                    */
/* ---------------------------------------------------------------- */

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

void gasp__rng_seed(gasp__rng *r, uint64_t seed, uint64_t stream) {
  uint64_t s = gasp__mix(seed, stream);
  for (int i = 0; i < 4; i++)
    r->s[i] = gasp__splitmix64(&s);
}

uint64_t gasp__rng_next(gasp__rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double gasp__rng_uniform(gasp__rng *r) {
  return (double)(gasp__rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t gasp__rng_below(gasp__rng *r, uint64_t n) {
  /* Lemire's multiply-shift with rejection. */
  uint64_t x = gasp__rng_next(r);
  unsigned __int128 m = (unsigned __int128)x * n;
  uint64_t l = (uint64_t)m;
  if (l < n) {
    uint64_t t = -n % n;
    while (l < t) {
      x = gasp__rng_next(r);
      m = (unsigned __int128)x * n;
      l = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double gasp__rng_normal(gasp__rng *r) {
  double u, v, s;
  do {
    u = 2.0 * gasp__rng_uniform(r) - 1.0;
    v = 2.0 * gasp__rng_uniform(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  return u * sqrt(-2.0 * log(s) / s);
}

double gasp__rng_gamma(gasp__rng *r, double shape) {
  if (shape < 1.0) {
    /* Boost: Gamma(a) = Gamma(a + 1) * U^(1/a). */
    double u;
    do
      u = gasp__rng_uniform(r);
    while (u == 0.0);
    return gasp__rng_gamma(r, shape + 1.0) * pow(u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = gasp__rng_normal(r);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    double u = gasp__rng_uniform(r);
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0.0 && log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
  }
}

/* ---------------------------------------------------------------- */
/* Output files written atomically                                   */
/* ---------------------------------------------------------------- */

/* Creates "TARGET.tmp.PID.N" exclusively with `mode` (less the umask, as
 * for any new file); returns the fd and sets *tmp, or -1 with errno. */
static int create_temp(const char *target, mode_t mode, char **tmp) {
  size_t n = strlen(target) + 48;
  if (!(*tmp = malloc(n))) return -1;
  static unsigned counter;
  for (int tries = 0; tries < 100; tries++) {
    unsigned k = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    snprintf(*tmp, n, "%s.tmp.%ld.%u", target, (long)getpid(), k);
    int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EEXIST) break;
  }
  int e = errno;
  free(*tmp);
  *tmp = NULL;
  errno = e;
  return -1;
}

/* A regular file (or a new one) is written beside itself and renamed over
 * when complete; a symlink is followed (its target replaced, the link
 * kept); anything else (a device, a FIFO) is written in place, never
 * replaced. */
int gasp__outfile_open(gasp__outfile *f, const char *path, gasp_error *err) {
  f->path = f->tmp = NULL;
  f->fd = -1;
  struct stat sb, lsb;
  int exists = stat(path, &sb) == 0;
  int dangling = !exists && lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode);
  if ((exists && !S_ISREG(sb.st_mode)) || dangling) {
    f->path = strdup(path);
    if (!f->path) return gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
    f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  } else {
    f->path = exists ? realpath(path, NULL) : strdup(path);
    if (!f->path) {
      int e = errno;
      return gasp__fail(err, e == ENOMEM ? GASP_ENOMEM : GASP_EIO, path, 0,
                        "cannot create: %s", strerror(e));
    }
    f->fd = create_temp(f->path, exists ? 0600 : 0666, &f->tmp);
    if (f->fd >= 0 && exists) fchmod(f->fd, sb.st_mode & 07777);
  }
  if (f->fd < 0) {
    int e = errno;
    free(f->path);
    f->path = NULL;
    return gasp__fail(err, GASP_EIO, path, 0, "cannot create: %s", strerror(e));
  }
  return GASP_OK;
}

int gasp__outfile_write(gasp__outfile *f, const void *buf, size_t len,
                        gasp_error *err) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(f->fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return gasp__fail(err, GASP_EIO, f->path, 0, "write failed: %s",
                        strerror(errno));
    }
    p += w;
    len -= (size_t)w;
  }
  return GASP_OK;
}

int gasp__outfile_commit(gasp__outfile *f, gasp_error *err) {
  int rc = GASP_OK;
  if (close(f->fd) != 0)
    rc = gasp__fail(err, GASP_EIO, f->path, 0, "close failed: %s",
                    strerror(errno));
  f->fd = -1;
  if (rc == GASP_OK && f->tmp && rename(f->tmp, f->path) != 0)
    rc = gasp__fail(err, GASP_EIO, f->path, 0, "cannot rename into place: %s",
                    strerror(errno));
  if (rc != GASP_OK && f->tmp) unlink(f->tmp);
  free(f->path);
  free(f->tmp);
  f->path = f->tmp = NULL;
  return rc;
}

void gasp__outfile_abort(gasp__outfile *f) {
  if (f->fd >= 0) close(f->fd);
  if (f->tmp) unlink(f->tmp);
  free(f->path);
  free(f->tmp);
  f->path = f->tmp = NULL;
  f->fd = -1;
}

/* ---------------------------------------------------------------- */
/* Checksum                                                          */
/* ---------------------------------------------------------------- */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static inline uint64_t round64(uint64_t acc, uint64_t in) {
  acc += in * P2;
  acc = rotl(acc, 31);
  return acc * P1;
}

static inline uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

void gasp__hash_init(gasp__hash *h, uint64_t seed) {
  h->v[0] = seed + P1 + P2;
  h->v[1] = seed + P2;
  h->v[2] = seed;
  h->v[3] = seed - P1;
  h->total = 0;
  h->used = 0;
}

void gasp__hash_update(gasp__hash *h, const void *data, size_t len) {
  const unsigned char *p = data;
  h->total += len;
  if (h->used) {
    size_t take = 32 - h->used;
    if (take > len) take = len;
    memcpy(h->buf + h->used, p, take);
    h->used += (unsigned)take;
    p += take;
    len -= take;
    if (h->used < 32) return;
    for (int i = 0; i < 4; i++)
      h->v[i] = round64(h->v[i], load64(h->buf + 8 * i));
    h->used = 0;
  }
  uint64_t v0 = h->v[0], v1 = h->v[1], v2 = h->v[2], v3 = h->v[3];
  while (len >= 32) {
    v0 = round64(v0, load64(p));
    v1 = round64(v1, load64(p + 8));
    v2 = round64(v2, load64(p + 16));
    v3 = round64(v3, load64(p + 24));
    p += 32;
    len -= 32;
  }
  h->v[0] = v0;
  h->v[1] = v1;
  h->v[2] = v2;
  h->v[3] = v3;
  if (len) {
    memcpy(h->buf, p, len);
    h->used = (unsigned)len;
  }
}

uint64_t gasp__hash_final(const gasp__hash *h) {
  uint64_t acc = rotl(h->v[0], 1) + rotl(h->v[1], 7) + rotl(h->v[2], 12) +
                 rotl(h->v[3], 18);
  for (int i = 0; i < 4; i++) {
    acc ^= round64(0, h->v[i]);
    acc = acc * P1 + P4;
  }
  acc += h->total;
  const unsigned char *p = h->buf;
  unsigned len = h->used;
  while (len >= 8) {
    acc ^= round64(0, load64(p));
    acc = rotl(acc, 27) * P1 + P4;
    p += 8;
    len -= 8;
  }
  while (len > 0) {
    acc ^= (*p) * P5;
    acc = rotl(acc, 11) * P1;
    p++;
    len--;
  }
  acc ^= acc >> 33;
  acc *= P2;
  acc ^= acc >> 29;
  acc *= P3;
  acc ^= acc >> 32;
  return acc;
}
