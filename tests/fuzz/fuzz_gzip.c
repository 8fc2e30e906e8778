/*
 * fuzz_gzip.c -- libFuzzer harness of the gzip input layer with raw,
 * mutated compressed streams: the input (behind a gzip magic when it
 * lacks one) is read line by line through gasp_text_reader and loaded as
 * an edge list, the two readers of gzip input in the library.
 * Corrupt or truncated streams must fail cleanly.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned char *buf = NULL;
  const void *body = data;
  size_t n = size;
  if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) {
    if (!(buf = malloc(size + 2))) abort();
    buf[0] = 0x1f, buf[1] = 0x8b;
    memcpy(buf + 2, data, size);
    body = buf;
    n = size + 2;
  }
  char path[64];
  int fd = fuzz_memfile(body, n, path, sizeof path);
  gasp_error err;

  /* line by line: numbers count up, no line holds a newline or NUL */
  gasp_text_reader *r = NULL;
  int rc = gasp_text_reader_open(&r, path, &err);
  if (rc == GASP_OK) {
    const char *line;
    size_t len;
    uint64_t ln, prev = 0;
    while ((rc = gasp_text_reader_next(r, &line, &len, &ln, &err)) == 1) {
      FUZZ_CHECK(ln == prev + 1);
      FUZZ_CHECK(strlen(line) == len && !memchr(line, '\n', len));
      prev = ln;
    }
    FUZZ_CHECK(rc == 0 || (rc < 0 && err.code == rc));
    gasp_text_reader_free(&r);
    FUZZ_CHECK(r == NULL);
  } else {
    FUZZ_CHECK(rc < 0 && r == NULL);
  }

  /* the block reader of the loaders */
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.format = GASP_FORMAT_EDGELIST;
  o.threads = 1;
  gasp_graph *g = NULL;
  rc = gasp_graph_load(&g, path, &o, &err);
  if (rc == GASP_OK)
    fuzz_check_graph(g, 1);
  else
    FUZZ_CHECK(rc < 0 && g == NULL && err.code == rc);
  gasp_graph_free(&g);
  close(fd);
  free(buf);
  return 0;
}
