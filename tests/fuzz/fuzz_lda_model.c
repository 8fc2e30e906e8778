/*
 * fuzz_lda_model.c -- libFuzzer harness of the model reader of
 * `gasp lda-infer` (lda_model_read, toolkits/lda_model.c): the input is
 * a PREFIX.word-topic.tsv file.  A model that reads must be what the
 * header says (K topics, W rows of ascending ids, finite non-negative
 * phi), and it is handed, as the command does, to gasp_lda_infer on a
 * three-document corpus (two sweeps on one thread; document completion
 * when the input's length is odd).
 * The reader reports its failures on stderr: run with -close_fd_mask=2.
 */
#include "fuzz_util.h"

#include "lda_model.h"

#include <math.h>

static gasp_graph *corpus;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  /* documents 0..2 (left), words 1..4 (right), counts as weights */
  static const gasp_gid src[] = {0, 0, 1, 2, 2};
  static const gasp_gid dst[] = {1, 3, 2, 4, 1};
  static const double cnt[] = {2, 1, 3, 1, 1};
  gasp_error err;
  if (gasp_graph_from_coo(&corpus, 5, src, dst, cnt, 3, GASP_BUILD_BIPARTITE, 1,
                          &err)) {
    fprintf(stderr, "fuzz_lda_model: %s\n", err.msg);
    abort();
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  int fd = fuzz_memfile(data, size, path, sizeof path);
  lda_model m;
  int rc = lda_model_read(&m, path);
  close(fd);
  if (rc) {
    FUZZ_CHECK(m.ids == NULL && m.phi == NULL);
    return 0;
  }
  FUZZ_CHECK(m.K >= 1 && m.K <= GASP_LDA_MAX_TOPICS && m.W >= 1);
  FUZZ_CHECK(m.alpha > 0 && isfinite(m.alpha) && m.beta > 0);
  for (uint64_t w = 0; w < m.W; w++) {
    FUZZ_CHECK(w == 0 || m.ids[w - 1] < m.ids[w]);
    for (int k = 0; k < m.K; k++) {
      double v = m.phi[w * (size_t)m.K + (size_t)k];
      FUZZ_CHECK(isfinite(v) && v >= 0);
    }
  }
  gasp_lda_infer_opts io;
  gasp_lda_infer_opts_init(&io);
  io.engine.threads = 1;
  io.alpha = m.alpha;
  io.sweeps = 2;
  io.perplexity = size & 1;
  gasp_vid D = gasp_graph_num_left(corpus);
  double *theta = calloc(((size_t)D + 1) * (size_t)m.K, sizeof *theta);
  if (!theta) abort();
  gasp_lda_model lm = {m.K, m.W, m.ids, m.phi};
  gasp_lda_infer_info info;
  gasp_run_stats st;
  gasp_error err;
  rc = gasp_lda_infer(corpus, &io, &lm, theta, &info, &st, &err);
  FUZZ_CHECK(rc <= 0);
  if (rc == GASP_OK) FUZZ_CHECK(info.documents == D);
  free(theta);
  lda_model_free(&m);
  return 0;
}
