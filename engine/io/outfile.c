/*
 * outfile.c -- output files written atomically: an unnamed file in the
 * target's directory (O_TMPFILE), given a name and renamed over the target
 * on commit, so an interrupted or killed writer leaves nothing behind;
 * where the file system has no unnamed files, a named temporary beside
 * the target, removed on abort.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates "TARGET.tmp.PID.N" exclusively with `mode` (less the umask, as
 * for any new file); returns the fd and sets *tmp, or -1 with errno. */
static int create_temp(const char *target, mode_t mode, char **tmp) {
  size_t n = strlen(target) + 48;
  if (!(*tmp = gasp__malloc(n))) return -1;
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

/* An unnamed file in the directory of `target`, or -1 (errno) where the
 * file system or kernel has none or /proc (to name it later) is absent. */
static int open_unnamed(const char *target, mode_t mode) {
#ifdef O_TMPFILE
  if (access("/proc/self/fd", X_OK) != 0) return -1;
  const char *slash = strrchr(target, '/');
  char *dir = slash ? gasp__strndup(target, (size_t)(slash - target) + 1)
                    : gasp__strdup(".");
  if (!dir) return -1;
  int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
  free(dir);
  return fd;
#else
  (void)target, (void)mode;
  errno = EOPNOTSUPP;
  return -1;
#endif
}

/* Gives the unnamed file fd the name "TARGET.tmp.PID.N", written into
 * name (strlen(target) + 48 bytes); 0 or -1. */
static int name_unnamed(int fd, const char *target, char *name) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  size_t n = strlen(target) + 48;
  static unsigned counter;
  for (int tries = 0; tries < 100; tries++) {
    unsigned k = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    snprintf(name, n, "%s.tmp.%ld.%u", target, (long)getpid(), k);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0)
      return 0;
    if (errno != EEXIST) break;
  }
  return -1;
}

/* A regular file (or a new one) is written beside itself and renamed over
 * when complete; a symlink is followed (its target replaced, the link
 * kept); anything else (a device, a FIFO) is written in place, never
 * replaced. */
int gasp__outfile_open(gasp__outfile *f, const char *path, gasp_error *err) {
  f->path = f->tmp = f->name = NULL;
  f->fd = -1;
  f->unnamed = 0;
  struct stat sb, lsb;
  int exists = stat(path, &sb) == 0;
  int dangling = !exists && lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode);
  if ((exists && !S_ISREG(sb.st_mode)) || dangling) {
    f->path = gasp__strdup(path);
    if (!f->path) return gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
    f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  } else {
    f->path = exists ? gasp__realpath(path) : gasp__strdup(path);
    if (!f->path) {
      int e = errno;
      return gasp__fail(err, e == ENOMEM ? GASP_ENOMEM : GASP_EIO, path, 0,
                        "cannot create: %s", strerror(e));
    }
    mode_t mode = exists ? 0600 : 0666;
    f->name = gasp__malloc(strlen(f->path) + 48);
    f->fd = f->name ? open_unnamed(f->path, mode) : -1;
    f->unnamed = f->fd >= 0;
    if (!f->unnamed) f->fd = create_temp(f->path, mode, &f->tmp);
    if (f->fd >= 0 && exists) fchmod(f->fd, sb.st_mode & 07777);
  }
  if (f->fd < 0) {
    int e = errno;
    free(f->path);
    free(f->name);
    f->path = f->name = NULL;
    return gasp__fail(err, e == ENOMEM ? GASP_ENOMEM : GASP_EIO, path, 0,
                      "cannot create: %s", strerror(e));
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
  if (f->unnamed) {
    if (name_unnamed(f->fd, f->path, f->name) == 0)
      f->tmp = f->name, f->name = NULL;
    else
      rc = gasp__fail(err, GASP_EIO, f->path, 0,
                      "cannot name the new file: %s", strerror(errno));
  }
  if (close(f->fd) != 0 && rc == GASP_OK)
    rc = gasp__fail(err, GASP_EIO, f->path, 0, "close failed: %s",
                    strerror(errno));
  f->fd = -1;
  if (rc == GASP_OK && f->tmp && rename(f->tmp, f->path) != 0)
    rc = gasp__fail(err, GASP_EIO, f->path, 0, "cannot rename into place: %s",
                    strerror(errno));
  if (rc != GASP_OK && f->tmp) unlink(f->tmp);
  free(f->path);
  free(f->tmp);
  free(f->name);
  f->path = f->tmp = f->name = NULL;
  return rc;
}

void gasp__outfile_abort(gasp__outfile *f) {
  if (f->fd >= 0) close(f->fd);
  if (f->tmp) unlink(f->tmp);
  free(f->path);
  free(f->tmp);
  free(f->name);
  f->path = f->tmp = f->name = NULL;
  f->fd = -1;
}
