/*
 * input.c -- plain and gzip input, read in large line-aligned blocks.
 */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gasp__input_open(gasp__input *in, const char *path, gasp_error *err) {
  memset(in, 0, sizeof *in);
  in->path = path;
  in->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (in->fd < 0)
    return gasp__fail(err, GASP_EIO, path, 0, "cannot open: %s",
                      strerror(errno));
  struct stat sb;
  if (fstat(in->fd, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      close(in->fd);
      in->fd = -1;
      return gasp__fail(err, GASP_EIO, path, 0, "is a directory");
    }
    in->size = (uint64_t)sb.st_size;
  }
  unsigned char magic[2];
  ssize_t r = pread(in->fd, magic, 2, 0);
  if (r == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    int fd2 = dup(in->fd);
    in->gz = fd2 >= 0 ? gzdopen(fd2, "rb") : NULL;
    if (!in->gz) {
      if (fd2 >= 0) close(fd2);
      close(in->fd);
      in->fd = -1;
      return gasp__fail(err, GASP_ENOMEM, path, 0, "cannot start gzip reader");
    }
    gzbuffer(in->gz, 1 << 20);
  }
  return GASP_OK;
}

void gasp__input_close(gasp__input *in) {
  if (in->gz) gzclose(in->gz);
  if (in->fd >= 0) close(in->fd);
  in->gz = NULL;
  in->fd = -1;
}

uint64_t gasp__input_offset(gasp__input *in) {
  if (in->gz) {
    z_off_t o = gzoffset(in->gz);
    return o > 0 ? (uint64_t)o : 0;
  }
  off_t o = lseek(in->fd, 0, SEEK_CUR);
  return o > 0 ? (uint64_t)o : 0;
}

/* zlib prefixes its messages with the stream's name ("<fd:4>: "). */
static const char *gz_reason(const char *m) {
  if (!m || !*m) return "read error";
  const char *c = strstr(m, ">: ");
  return c ? c + 3 : m;
}

int gasp__input_read(gasp__input *in, void *buf, size_t len, size_t *got,
                     gasp_error *err) {
  *got = 0;
  char *p = buf;
  while (len > 0 && !in->eof) {
    if (in->gz) {
      unsigned want = len > (1u << 30) ? (1u << 30) : (unsigned)len;
      int r = gzread(in->gz, p, want);
      if (r < 0) {
        int zerr;
        return gasp__fail(err, GASP_EIO, in->path, 0, "corrupt gzip data: %s",
                          gz_reason(gzerror(in->gz, &zerr)));
      }
      if (r == 0) {
        /* zlib reports a truncated stream as an error at the end. */
        int zerr;
        const char *m = gzerror(in->gz, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END)
          return gasp__fail(err, GASP_EIO, in->path, 0,
                            "gzip data: %s (truncated file?)", gz_reason(m));
        in->eof = 1;
        break;
      }
      p += r;
      *got += (size_t)r;
      len -= (size_t)r;
      continue;
    }
    ssize_t r = read(in->fd, p, len > (1u << 30) ? (1u << 30) : len);
    if (r < 0) {
      if (errno == EINTR) continue;
      return gasp__fail(err, GASP_EIO, in->path, 0, "read failed: %s",
                        strerror(errno));
    }
    if (r == 0) {
      in->eof = 1;
      break;
    }
    p += r;
    *got += (size_t)r;
    len -= (size_t)r;
  }
  return GASP_OK;
}

/* ---------------------------------------------------------------- */

int gasp__lines_init(gasp__lines *l, gasp__input *in, size_t block_size) {
  memset(l, 0, sizeof *l);
  l->in = in;
  l->cap = block_size;
  l->buf = malloc(block_size + 1);
  l->line0 = 1;
  return l->buf ? GASP_OK : GASP_ENOMEM;
}

void gasp__lines_free(gasp__lines *l) {
  free(l->buf);
  l->buf = NULL;
}

int gasp__lines_next(gasp__lines *l, char **data, size_t *n, gasp_error *err) {
  /* Move the unconsumed tail (a partial line) to the front. */
  if (l->block) {
    memmove(l->buf, l->buf + l->block, l->len - l->block);
    l->len -= l->block;
    l->block = 0;
  }
  for (;;) {
    size_t got = 0;
    if (l->len < l->cap) {
      int rc = gasp__input_read(l->in, l->buf + l->len, l->cap - l->len, &got,
                                err);
      if (rc) return rc;
      l->len += got;
    }
    if (l->len == 0) {
      *data = l->buf;
      *n = 0;
      return GASP_OK;
    }
    if (l->in->eof) {
      l->block = l->len;
      break;
    }
    char *nl = memrchr(l->buf, '\n', l->len);
    if (nl) {
      l->block = (size_t)(nl - l->buf) + 1;
      break;
    }
    /* One line longer than the buffer: grow. */
    size_t ncap = l->cap * 2;
    char *nb = realloc(l->buf, ncap + 1);
    if (!nb) return gasp__fail(err, GASP_ENOMEM, l->in->path, 0, "out of memory");
    l->buf = nb;
    l->cap = ncap;
  }
  /* Keep the byte after the block for the NUL; remember it. */
  if (l->block == l->len) {
    l->buf[l->block] = '\0';
  }
  *data = l->buf;
  *n = l->block;
  return GASP_OK;
}

void gasp__lines_done(gasp__lines *l, uint64_t lines_in_block) {
  l->line0 += lines_in_block;
}

void gasp__split_lines(const char *buf, size_t n, int parts, size_t *cut) {
  cut[0] = 0;
  for (int i = 1; i < parts; i++) {
    size_t want = n / (size_t)parts * (size_t)i;
    if (want < cut[i - 1]) want = cut[i - 1];
    const char *nl = want < n ? memchr(buf + want, '\n', n - want) : NULL;
    cut[i] = nl ? (size_t)(nl - buf) + 1 : n;
  }
  cut[parts] = n;
}

/* ---------------------------------------------------------------- */
/* Public line reader                                                */
/* ---------------------------------------------------------------- */

struct gasp_text_reader {
  gasp__input in;
  gasp__lines lines;
  char *blk;
  size_t n, pos;
  uint64_t lineno;
  char *path;
};

int gasp_text_reader_open(gasp_text_reader **out, const char *path,
                          gasp_error *err) {
  *out = NULL;
  gasp__error_clear(err);
  if (!path) return gasp__fail(err, GASP_EINVAL, NULL, 0, "no input path");
  gasp_text_reader *r = calloc(1, sizeof *r);
  if (!r || !(r->path = strdup(path))) {
    free(r);
    return gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
  }
  int rc = gasp__input_open(&r->in, r->path, err);
  if (rc) {
    free(r->path);
    free(r);
    return rc;
  }
  if (gasp__lines_init(&r->lines, &r->in, (size_t)1 << 20)) {
    gasp__input_close(&r->in);
    free(r->path);
    free(r);
    return gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
  }
  *out = r;
  return GASP_OK;
}

int gasp_text_reader_next(gasp_text_reader *r, const char **line, size_t *len,
                          uint64_t *lineno, gasp_error *err) {
  if (r->pos >= r->n) {
    if (r->n) gasp__lines_done(&r->lines, 0);
    int rc = gasp__lines_next(&r->lines, &r->blk, &r->n, err);
    if (rc) return rc;
    r->pos = 0;
    if (r->n == 0) return 0;
  }
  char *p = r->blk + r->pos;
  char *nl = memchr(p, '\n', r->n - r->pos);
  size_t l = nl ? (size_t)(nl - p) : r->n - r->pos;
  r->pos += nl ? l + 1 : l;
  p[l] = '\0'; /* the newline, or the byte past the block */
  if (l && p[l - 1] == '\r') p[--l] = '\0';
  *line = p;
  *len = l;
  *lineno = ++r->lineno;
  if (memchr(p, '\0', l))
    return gasp__fail(err, GASP_EPARSE, r->path, r->lineno,
                      "NUL byte in a text line (binary input?)");
  return 1;
}

void gasp_text_reader_free(gasp_text_reader **r) {
  if (!r || !*r) return;
  gasp__lines_free(&(*r)->lines);
  gasp__input_close(&(*r)->in);
  free((*r)->path);
  free(*r);
  *r = NULL;
}
