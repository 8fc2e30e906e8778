/*
 * input.h -- reading input files: plain or gzip (detected by content),
 * in large blocks split at line boundaries for parallel parsing.
 *
 * An input is opened once and read front to back, never reopened or
 * re-read by offset, so pipes, FIFOs and /dev/stdin work like files: the
 * first bytes used to detect gzip and the format are kept in a buffer and
 * handed out again by the first reads.
 */
#ifndef GASP_INPUT_H
#define GASP_INPUT_H

#include "internal.h"

#include <zlib.h>

/* Bytes kept from the start of an input for format detection. */
#define GASP__PEEK 512

typedef struct gasp__input {
  const char *path;
  int fd;
  int regular;       /* a regular file (size known, may be mapped)       */
  uint64_t size;     /* file size in bytes (regular files), else 0       */
  uint64_t consumed; /* bytes read from the file (compressed, for gzip) */
  int eof;
  /* raw bytes read from fd but not consumed yet: the detection prefix,
   * and for gzip the compressed input of inflate() */
  unsigned char *raw;
  size_t raw_cap, raw_pos, raw_len;
  int raw_eof;
  /* gzip */
  int gz;
  z_stream zs;
  int zs_live;
  /* decompressed bytes peeked by gasp__input_peek, read again first */
  char peek[GASP__PEEK];
  size_t peek_pos, peek_len;
} gasp__input;

/* Opens `path`; GASP_EIO with err filled when it cannot be read. */
int gasp__input_open(gasp__input *in, const char *path, gasp_error *err);
void gasp__input_close(gasp__input *in);
/* Reads up to len bytes; *got < len only at end of input.  Truncated or
 * corrupt gzip data fails with GASP_EIO. */
int gasp__input_read(gasp__input *in, void *buf, size_t len, size_t *got,
                     gasp_error *err);
/* The first bytes of the file as stored (before decompression): at most
 * GASP__PEEK, fewer only for a shorter file.  Valid right after open. */
const unsigned char *gasp__input_raw_head(const gasp__input *in, size_t *n);
/* Up to n <= GASP__PEEK bytes of the (decompressed) content from the
 * current position, without consuming them. */
int gasp__input_peek(gasp__input *in, size_t n, const char **data, size_t *got,
                     gasp_error *err);
/* Bytes of the underlying file consumed so far. */
uint64_t gasp__input_offset(gasp__input *in);

/* Line-block reader: hands out buffers that end at a line boundary (the
 * last line may lack its newline at end of input).  The buffer is
 * NUL-terminated one byte past the block.  A NUL byte in the input and a
 * line longer than GASP_LINE_MAX are errors naming the line. */
typedef struct gasp__lines {
  gasp__input *in;
  char *buf;
  size_t cap;     /* allocated bytes minus one for the NUL              */
  size_t len;     /* bytes in buf                                        */
  size_t block;   /* bytes of the current block (ends after a newline)  */
  uint64_t line0; /* 1-based number of the first line of the block       */
} gasp__lines;

int gasp__lines_init(gasp__lines *l, gasp__input *in, size_t block_size);
void gasp__lines_free(gasp__lines *l);
/* Next block: *data and *n describe it (n == 0 at end of input).  The
 * caller reports how many lines the block held with gasp__lines_done(). */
int gasp__lines_next(gasp__lines *l, char **data, size_t *n, gasp_error *err);
void gasp__lines_done(gasp__lines *l, uint64_t lines_in_block);

/* Splits buf[0..n) into `parts` pieces at line boundaries: cut[i] is the
 * start of piece i, cut[parts] = n. */
void gasp__split_lines(const char *buf, size_t n, int parts, size_t *cut);

#endif
