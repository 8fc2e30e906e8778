/*
 * input.h -- reading input files: plain or gzip (detected by content),
 * in large blocks split at line boundaries for parallel parsing.
 */
#ifndef GASP_INPUT_H
#define GASP_INPUT_H

#include "internal.h"

#include <zlib.h>

typedef struct gasp__input {
  const char *path;
  int fd;
  gzFile gz;       /* non-NULL for gzip input */
  uint64_t size;   /* file size in bytes      */
  int eof;
} gasp__input;

/* Opens `path`; GASP_EIO with err filled when it cannot be read. */
int gasp__input_open(gasp__input *in, const char *path, gasp_error *err);
void gasp__input_close(gasp__input *in);
/* Reads up to len bytes; *got < len only at end of input.  Truncated or
 * corrupt gzip data fails with GASP_EIO. */
int gasp__input_read(gasp__input *in, void *buf, size_t len, size_t *got,
                     gasp_error *err);
/* Bytes of the underlying file consumed so far. */
uint64_t gasp__input_offset(gasp__input *in);

/* Line-block reader: hands out buffers that end at a line boundary (the
 * last line may lack its newline at end of input).  The buffer is
 * NUL-terminated one byte past the block. */
typedef struct gasp__lines {
  gasp__input *in;
  char *buf;
  size_t cap;      /* allocated bytes minus one for the NUL              */
  size_t len;      /* bytes in buf                                        */
  size_t block;    /* bytes of the current block (ends after a newline)  */
  uint64_t line0;  /* 1-based number of the first line of the block       */
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
