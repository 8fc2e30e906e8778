/*
 * fuzz_load.c -- libFuzzer harness of the text loaders: gasp_graph_load()
 * in every text format (and auto and corpus detection), plain, gzip
 * compressed by the harness, or as a raw gzip stream.
 *
 * Input: two selector bytes, then the file's content.
 *   byte 0: the format (auto, edgelist, adj, mtx, uci, ratings, ldac,
 *           triples, corpus), modulo 9
 *   byte 1: bits 0-1 the content as is (0, 3), gzip-compressed at a level
 *           taken from bits 6-7 (1), or behind a gzip magic so that the
 *           bytes themselves are the compressed stream (2);
 *           bit 2 symmetric; bit 3 bipartite; bits 4-5 weighted
 *           (-1, 0, 1, -1)
 *   byte 2: the file's name (for detection by name): an anonymous file,
 *           x.mtx, x.adj, docword.x.txt, x.ldac, x.el.gz, modulo 6
 * A graph that loads must be consistent (fuzz_check_graph).
 */
#include "fuzz_util.h"

static const gasp_format formats[] = {
    GASP_FORMAT_AUTO, GASP_FORMAT_EDGELIST, GASP_FORMAT_ADJ,
    GASP_FORMAT_MTX,  GASP_FORMAT_UCI,      GASP_FORMAT_RATINGS,
    GASP_FORMAT_LDAC, GASP_FORMAT_TRIPLES,  GASP_FORMAT_CORPUS};
static const char *const names[] = {
    NULL, "x.mtx", "x.adj", "docword.x.txt", "x.ldac", "x.el.gz"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  uint8_t fsel = data[0], mode = data[1], nsel = data[2];
  data += 3;
  size -= 3;
  unsigned char *buf = NULL;
  const void *body = data;
  size_t n = size;
  switch (mode & 3) {
  case 1: body = buf = fuzz_gzip(data, size, (mode >> 6) * 3, &n); break;
  case 2:
    if (!(buf = malloc(size + 2))) abort();
    buf[0] = 0x1f, buf[1] = 0x8b;
    memcpy(buf + 2, data, size);
    body = buf;
    n = size + 2;
    break;
  default: break;
  }
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.format = formats[fsel % (sizeof formats / sizeof *formats)];
  o.threads = 1;
  o.symmetric = (mode >> 2) & 1;
  o.bipartite = (mode >> 3) & 1;
  static const int weighted[] = {-1, 0, 1, -1};
  o.weighted = weighted[(mode >> 4) & 3];

  char path[256];
  int fd = -1;
  const char *name = names[nsel % (sizeof names / sizeof *names)];
  if (name) {
    fuzz_put_file(name, body, n);
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
  } else {
    fd = fuzz_memfile(body, n, path, sizeof path);
  }
  gasp_graph *g = NULL;
  gasp_error err;
  int rc = gasp_graph_load(&g, path, &o, &err);
  if (rc == GASP_OK) {
    FUZZ_CHECK(g != NULL);
    fuzz_check_graph(g, 1);
  } else {
    FUZZ_CHECK(rc < 0 && g == NULL && err.code == rc && err.msg[0]);
  }
  gasp_graph_free(&g);
  if (fd >= 0) close(fd);
  free(buf);
  return 0;
}
