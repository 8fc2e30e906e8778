/*
 * input.c -- plain and gzip input, read in large line-aligned blocks.
 */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAW_CHUNK ((size_t)1 << 20) /* compressed bytes per read */

/* read() that retries on EINTR; -1 with errno on failure. */
static ssize_t read_some(int fd, void *buf, size_t len) {
  if (len > ((size_t)1 << 30)) len = (size_t)1 << 30;
  for (;;) {
    ssize_t r = read(fd, buf, len);
    if (r >= 0 || errno != EINTR) return r;
  }
}

/* Appends to the raw buffer until it holds `want` bytes or the file
 * ends. */
static int raw_fill(gasp__input *in, size_t want, gasp_error *err) {
  if (in->raw_pos && in->raw_pos == in->raw_len) in->raw_pos = in->raw_len = 0;
  while (!in->raw_eof && in->raw_len < want) {
    ssize_t r = read_some(in->fd, in->raw + in->raw_len, want - in->raw_len);
    if (r < 0)
      return gasp__fail(err, GASP_EIO, in->path, 0, "read failed: %s",
                        strerror(errno));
    if (r == 0) in->raw_eof = 1;
    in->raw_len += (size_t)r;
    in->consumed += (uint64_t)r;
  }
  return GASP_OK;
}

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
    in->regular = S_ISREG(sb.st_mode);
    if (in->regular) in->size = (uint64_t)sb.st_size;
  }
  in->raw_cap = GASP__PEEK;
  in->raw = gasp__malloc(in->raw_cap);
  if (!in->raw) {
    gasp__input_close(in);
    return gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
  }
  /* The detection prefix: read, not pread, so that a pipe loses nothing. */
  int rc = raw_fill(in, GASP__PEEK, err);
  if (rc) {
    gasp__input_close(in);
    return rc;
  }
  if (in->raw_len >= 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b) {
    unsigned char *big = gasp__realloc(in->raw, RAW_CHUNK);
    if (!big || inflateInit2(&in->zs, 16 + MAX_WBITS) != Z_OK) {
      if (big) in->raw = big;
      gasp__input_close(in);
      return gasp__fail(err, GASP_ENOMEM, path, 0, "cannot start gzip reader");
    }
    in->raw = big;
    in->raw_cap = RAW_CHUNK;
    in->gz = 1;
    in->zs_live = 1;
    in->zs.next_in = in->raw;
    in->zs.avail_in = (uInt)in->raw_len;
  }
  return GASP_OK;
}

void gasp__input_close(gasp__input *in) {
  if (in->zs_live) inflateEnd(&in->zs);
  if (in->fd >= 0) close(in->fd);
  free(in->raw);
  in->raw = NULL;
  in->zs_live = 0;
  in->fd = -1;
}

const unsigned char *gasp__input_raw_head(const gasp__input *in, size_t *n) {
  *n = in->raw_len < GASP__PEEK ? in->raw_len : GASP__PEEK;
  return in->raw;
}

uint64_t gasp__input_offset(gasp__input *in) {
  uint64_t pending = in->raw_len - in->raw_pos;
  if (in->gz) pending = in->zs.avail_in;
  return in->consumed - pending;
}

/* Refills the compressed input of inflate(): keeps the `keep` unread
 * bytes at next_in and reads more after them. */
static int gz_refill(gasp__input *in, gasp_error *err) {
  z_stream *z = &in->zs;
  size_t keep = z->avail_in;
  memmove(in->raw, z->next_in, keep);
  in->raw_len = keep;
  if (!in->raw_eof) {
    ssize_t r = read_some(in->fd, in->raw + keep, in->raw_cap - keep);
    if (r < 0)
      return gasp__fail(err, GASP_EIO, in->path, 0, "read failed: %s",
                        strerror(errno));
    if (r == 0) in->raw_eof = 1;
    in->raw_len += (size_t)r;
    in->consumed += (uint64_t)r;
  }
  z->next_in = in->raw;
  z->avail_in = (uInt)in->raw_len;
  return GASP_OK;
}

/* Decompresses into buf; concatenated gzip members are read as one
 * stream, and bytes after the last member that do not start another are
 * ignored (as gzread() does). */
static int gz_read(gasp__input *in, char *buf, size_t len, size_t *got,
                   gasp_error *err) {
  z_stream *z = &in->zs;
  int rc;
  while (len > 0 && !in->eof) {
    if (in->zs_live == 2) { /* after a member: another one, or the end */
      while (z->avail_in < 2 && !in->raw_eof)
        if ((rc = gz_refill(in, err))) return rc;
      if (z->avail_in < 2 || z->next_in[0] != 0x1f || z->next_in[1] != 0x8b) {
        in->eof = 1;
        break;
      }
      inflateReset(z);
      in->zs_live = 1;
    }
    if (z->avail_in == 0) {
      if ((rc = gz_refill(in, err))) return rc;
      if (z->avail_in == 0)
        return gasp__fail(err, GASP_EIO, in->path, 0,
                          "gzip data: unexpected end of file (truncated "
                          "file?)");
    }
    size_t want = len > (1u << 30) ? (1u << 30) : len;
    z->next_out = (unsigned char *)buf;
    z->avail_out = (uInt)want;
    int zr = inflate(z, Z_NO_FLUSH);
    size_t made = want - z->avail_out;
    buf += made;
    *got += made;
    len -= made;
    if (zr == Z_STREAM_END)
      in->zs_live = 2;
    else if (zr != Z_OK && !(zr == Z_BUF_ERROR && z->avail_in == 0))
      return gasp__fail(err, GASP_EIO, in->path, 0, "corrupt gzip data: %s",
                        z->msg ? z->msg : "inflate failed");
  }
  return GASP_OK;
}

static int raw_read(gasp__input *in, char *buf, size_t len, size_t *got,
                    gasp_error *err) {
  size_t have = in->raw_len - in->raw_pos;
  if (have) {
    size_t k = have < len ? have : len;
    memcpy(buf, in->raw + in->raw_pos, k);
    in->raw_pos += k;
    buf += k;
    len -= k;
    *got += k;
  }
  while (len > 0 && !in->eof) {
    if (in->raw_eof) {
      in->eof = 1;
      break;
    }
    ssize_t r = read_some(in->fd, buf, len);
    if (r < 0)
      return gasp__fail(err, GASP_EIO, in->path, 0, "read failed: %s",
                        strerror(errno));
    if (r == 0) {
      in->eof = 1;
      break;
    }
    in->consumed += (uint64_t)r;
    buf += r;
    *got += (size_t)r;
    len -= (size_t)r;
  }
  return GASP_OK;
}

int gasp__input_read(gasp__input *in, void *buf, size_t len, size_t *got,
                     gasp_error *err) {
  *got = 0;
  char *p = buf;
  size_t have = in->peek_len - in->peek_pos;
  if (have) {
    size_t k = have < len ? have : len;
    memcpy(p, in->peek + in->peek_pos, k);
    in->peek_pos += k;
    p += k;
    len -= k;
    *got += k;
    if (in->peek_pos == in->peek_len) in->peek_pos = in->peek_len = 0;
  }
  if (len == 0) return GASP_OK;
  size_t more = 0;
  int rc = in->gz ? gz_read(in, p, len, &more, err)
                  : raw_read(in, p, len, &more, err);
  *got += more;
  return rc;
}

int gasp__input_peek(gasp__input *in, size_t n, const char **data, size_t *got,
                     gasp_error *err) {
  if (n > GASP__PEEK) n = GASP__PEEK;
  if (in->peek_pos) {
    memmove(in->peek, in->peek + in->peek_pos, in->peek_len - in->peek_pos);
    in->peek_len -= in->peek_pos;
    in->peek_pos = 0;
  }
  while (in->peek_len < n && !in->eof) {
    size_t more = 0;
    int rc = in->gz ? gz_read(in, in->peek + in->peek_len, n - in->peek_len,
                              &more, err)
                    : raw_read(in, in->peek + in->peek_len, n - in->peek_len,
                               &more, err);
    if (rc) return rc;
    in->peek_len += more;
    if (more == 0) break;
  }
  *data = in->peek;
  *got = in->peek_len < n ? in->peek_len : n;
  return GASP_OK;
}

/* ---------------------------------------------------------------- */

int gasp__lines_init(gasp__lines *l, gasp__input *in, size_t block_size) {
  memset(l, 0, sizeof *l);
  l->in = in;
  l->cap = block_size;
  l->buf = gasp__malloc(block_size + 1);
  l->line0 = 1;
  return l->buf ? GASP_OK : GASP_ENOMEM;
}

void gasp__lines_free(gasp__lines *l) {
  free(l->buf);
  l->buf = NULL;
}

/* The line of buf[pos] when buf starts at line `line0`. */
static uint64_t line_at(const char *buf, size_t pos, uint64_t line0) {
  uint64_t n = line0;
  for (const char *p = buf, *e = buf + pos;
       (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    n++;
  return n;
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
      int rc =
          gasp__input_read(l->in, l->buf + l->len, l->cap - l->len, &got, err);
      if (rc) return rc;
      /* Text never holds NUL bytes: stop at once on binary input (a
       * stray binary file, /dev/zero) rather than parse or buffer it. */
      const char *z = memchr(l->buf + l->len, '\0', got);
      if (z)
        return gasp__fail(err, GASP_EPARSE, l->in->path,
                          line_at(l->buf, (size_t)(z - l->buf), l->line0),
                          "NUL byte in a text line (binary input?)");
      l->len += got;
    }
    if (l->len == 0) {
      *data = l->buf;
      *n = 0;
      return GASP_OK;
    }
    char *nl = memrchr(l->buf, '\n', l->len);
    size_t tail = nl ? l->len - (size_t)(nl - l->buf) - 1 : l->len;
    if (tail > GASP_LINE_MAX)
      return gasp__fail(err, GASP_EPARSE, l->in->path,
                        line_at(l->buf, l->len - tail, l->line0),
                        "line longer than %u MiB (the limit; binary "
                        "input?)",
                        (unsigned)(GASP_LINE_MAX >> 20));
    if (l->in->eof) {
      l->block = l->len;
      break;
    }
    if (nl) {
      l->block = (size_t)(nl - l->buf) + 1;
      break;
    }
    /* One line longer than the buffer: grow (up to the line limit). */
    size_t ncap = l->cap * 2;
    if (ncap > GASP_LINE_MAX + 1) ncap = GASP_LINE_MAX + 1;
    if (ncap <= l->cap) ncap = l->cap + 1;
    char *nb = gasp__realloc(l->buf, ncap + 1);
    if (!nb)
      return gasp__fail(err, GASP_ENOMEM, l->in->path, 0, "out of memory");
    l->buf = nb;
    l->cap = ncap;
  }
  /* A block larger than the limit (many threads) could hold a longer
   * line whole: the limit must not depend on the thread count. */
  if (l->block > GASP_LINE_MAX) {
    const char *p = l->buf, *end = l->buf + l->block;
    while (p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      const char *e = nl ? nl : end;
      if ((size_t)(e - p) > GASP_LINE_MAX)
        return gasp__fail(err, GASP_EPARSE, l->in->path,
                          line_at(l->buf, (size_t)(p - l->buf), l->line0),
                          "line longer than %u MiB (the limit; binary "
                          "input?)",
                          (unsigned)(GASP_LINE_MAX >> 20));
      p = e + 1;
    }
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
  gasp_text_reader *r = gasp__calloc(1, sizeof *r);
  if (!r || !(r->path = gasp__strdup(path))) {
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
