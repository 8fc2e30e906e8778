/*
 * fuzz_vocab.c -- libFuzzer harness of the vocabulary reader: a small
 * fixed corpus (UCI, LDA-C or triples) loaded with the fuzz input as its
 * vocabulary file (gasp_load_opts.vocab), plain, gzip-compressed or as a
 * raw gzip stream.
 *
 * Input: one selector byte, then the vocabulary.
 *   bits 0-1: the corpus (uci, ldac, triples, corpus detection of uci)
 *   bits 2-3: the vocabulary as is (0, 3), gzip-compressed (1), behind a
 *             gzip magic (2)
 *   bit 4:    the corpus through a pipe-like anonymous file or named
 * A corpus that loads has its right-side vertices (words) named.
 */
#include "fuzz_util.h"

static const struct {
  gasp_format format;
  const char *text;
} corpora[] = {
    {GASP_FORMAT_UCI, "3\n5\n4\n1 1 2\n1 3 1\n2 5 4\n3 2 1\n"},
    {GASP_FORMAT_LDAC, "2 0:1 2:3\n0\n1 4:2\n"},
    {GASP_FORMAT_TRIPLES, "1 1 2\n1 3 1\n2 5 4\n3 2 1\n"},
    {GASP_FORMAT_CORPUS, "3\n5\n2\n1 1 2\n3 4 1\n"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t sel = data[0];
  data++;
  size--;
  unsigned char *buf = NULL;
  const void *vocab = data;
  size_t n = size;
  switch ((sel >> 2) & 3) {
  case 1: vocab = buf = fuzz_gzip(data, size, 6, &n); break;
  case 2:
    if (!(buf = malloc(size + 2))) abort();
    buf[0] = 0x1f, buf[1] = 0x8b;
    memcpy(buf + 2, data, size);
    vocab = buf;
    n = size + 2;
    break;
  default: break;
  }
  int c = sel & 3;
  char vpath[64], cpath[256];
  int vfd = fuzz_memfile(vocab, n, vpath, sizeof vpath), cfd = -1;
  if (sel & 16) {
    fuzz_put_file("corpus.txt", corpora[c].text, strlen(corpora[c].text));
    snprintf(cpath, sizeof cpath, "%s/corpus.txt", fuzz_dir());
  } else {
    cfd = fuzz_memfile(corpora[c].text, strlen(corpora[c].text), cpath,
                       sizeof cpath);
  }
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.format = corpora[c].format;
  o.threads = 1;
  o.vocab = vpath;
  gasp_graph *g = NULL;
  gasp_error err;
  int rc = gasp_graph_load(&g, cpath, &o, &err);
  if (rc == GASP_OK) {
    fuzz_check_graph(g, 1);
    FUZZ_CHECK(gasp_graph_is_bipartite(g));
    gasp_vid nv = gasp_graph_num_vertices(g);
    for (gasp_vid v = gasp_graph_num_left(g); v < nv; v++)
      FUZZ_CHECK(gasp_graph_name(g, v) != NULL);
  } else {
    FUZZ_CHECK(rc < 0 && g == NULL && err.code == rc && err.msg[0]);
  }
  gasp_graph_free(&g);
  close(vfd);
  if (cfd >= 0) close(cfd);
  free(buf);
  return 0;
}
