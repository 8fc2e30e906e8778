/*
 * lda_model.c -- the file side of `gasp lda` and `gasp lda-infer`
 * (lda_model.h): corpus checks, the model file, result files.
 */
#include "lda_model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The checks of gasp_lda, with the command's messages (the library's
 * name the entry, not the input). */
int lda_corpus_check(const gasp_graph *g, const char *input) {
  if (!gasp_graph_is_bipartite(g)) {
    cli_error("%s: not a bag-of-words corpus (give --format uci, ldac or "
              "triples)",
              input);
    return EXIT_USAGE;
  }
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  const double *cnt = gasp_graph_weights(g);
  uint64_t tokens = 0;
  for (uint64_t s = 0; s < out.num_edges; s++) {
    double x = cnt ? cnt[s] : 1.0;
    if (x < 1 || x != floor(x) || x > 4294967295.0) {
      cli_error("%s: count %g of an entry is not a positive integer", input, x);
      return EXIT_USAGE;
    }
    tokens += (uint64_t)x;
  }
  if (tokens == 0) {
    cli_error("%s: the corpus has no tokens", input);
    return EXIT_USAGE;
  }
  if (tokens > UINT32_MAX) {
    cli_error("%s: %llu tokens: more than 2^32-1 are not supported", input,
              (unsigned long long)tokens);
    return EXIT_USAGE;
  }
  return 0;
}

void lda_corpus_format(cli_common *c) {
  /* the library tells the corpus formats apart from the stream itself */
  if (c->format == GASP_FORMAT_AUTO) c->format = GASP_FORMAT_CORPUS;
}

/* ---- output files ---------------------------------------------------- */

int lda_out_open(lda_out *o, const char *path) { return cli_out_open(o, path); }

int lda_out_close(lda_out *o, int bad) { return cli_out_close(o, !bad); }

/* ---- the model file -------------------------------------------------- */

void lda_model_free(lda_model *m) {
  free(m->ids);
  free(m->phi);
  m->ids = NULL;
  m->phi = NULL;
}

static int model_fail(lda_model *m, FILE *f, const char *path, uint64_t line,
                      const char *why) {
  if (line)
    cli_error("%s:%llu: %s", path, (unsigned long long)line, why);
  else
    cli_error("%s: %s", path, why);
  if (f) fclose(f);
  lda_model_free(m);
  return EXIT_USAGE;
}

/* Grows the word arrays to hold `need` rows (doubling, at most m->W), so
 * that memory follows the lines actually read, not the header's claim. */
static int model_reserve(lda_model *m, uint64_t *cap, uint64_t need, int K) {
  if (need <= *cap) return 0;
  uint64_t n = *cap ? *cap * 2 : 1024;
  if (n > m->W) n = m->W;
  if (n < need) n = need;
  gasp_gid *ids = realloc(m->ids, (size_t)n * sizeof *ids);
  if (!ids) return -1;
  m->ids = ids;
  double *phi = realloc(m->phi, (size_t)n * (size_t)K * sizeof *phi);
  if (!phi) return -1;
  memset(phi + (size_t)*cap * (size_t)K, 0,
         (size_t)(n - *cap) * (size_t)K * sizeof *phi);
  m->phi = phi;
  *cap = n;
  return 0;
}

int lda_model_read(lda_model *m, const char *path) {
  memset(m, 0, sizeof *m);
  FILE *f = fopen(path, "r");
  if (!f) {
    cli_error("%s: cannot open: %s", path, strerror(errno));
    return EXIT_USAGE;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  uint64_t ln = 0, tokens = 0;
  char values[16] = "";
  long long K = 0;
  if ((len = getline(&line, &cap, f)) < 0 ||
      sscanf(line,
             "# gasp-lda topics=%lld alpha=%lf beta=%lf words=%llu "
             "tokens=%llu values=%15s",
             &K, &m->alpha, &m->beta, (unsigned long long *)&m->W,
             (unsigned long long *)&tokens, values) != 6 ||
      K < 1 || m->W < 1 || !(m->beta > 0) || !(m->alpha > 0) ||
      !isfinite(m->alpha) || !isfinite(m->beta) ||
      (strcmp(values, "phi") && strcmp(values, "counts"))) {
    free(line);
    return model_fail(m, f, path, 1,
                      "not a gasp lda model (header '# gasp-lda topics=K "
                      "alpha=A beta=B words=W tokens=N values=phi|counts' "
                      "expected; write one with gasp lda -o PREFIX)");
  }
  if (K > GASP_LDA_MAX_TOPICS) {
    free(line);
    return model_fail(m, f, path, 1, "topics=K is over the limit of 65535");
  }
  /* Each word line holds an id and K values, at least 2K + 2 bytes: a
   * header claiming more words than the file can hold is corrupt (and
   * W times the row size must not overflow). */
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) {
    uint64_t body = (uint64_t)sb.st_size - (uint64_t)len + 1;
    if (m->W > body / (2 * (uint64_t)K + 2)) {
      char why[160];
      snprintf(why, sizeof why,
               "the header's words=%llu topics=%lld cannot fit in the %llu "
               "bytes of the file (truncated or corrupt model)",
               (unsigned long long)m->W, K, (unsigned long long)sb.st_size);
      free(line);
      return model_fail(m, f, path, 1, why);
    }
  }
  ln = 1;
  m->K = (int)K;
  int counts = !strcmp(values, "counts");
  uint64_t rows = 0;
  double *nk = calloc((size_t)K, sizeof *nk);
  if (!nk) {
    free(line);
    lda_model_free(m);
    fclose(f);
    cli_error("lda-infer: out of memory");
    return EXIT_RUNTIME;
  }
  uint64_t w = 0;
  const char *why = NULL;
  while (!why && (len = getline(&line, &cap, f)) >= 0) {
    ln++;
    if (w == m->W) {
      why = "more word lines than the header's words=W";
      break;
    }
    if (model_reserve(m, &rows, w + 1, m->K)) {
      free(line);
      free(nk);
      lda_model_free(m);
      fclose(f);
      cli_error("lda-infer: out of memory");
      return EXIT_RUNTIME;
    }
    char *p = line, *e;
    errno = 0;
    unsigned long long id = strtoull(p, &e, 10);
    if (e == p || *p == '-' || errno || (w && id <= m->ids[w - 1])) {
      why = "expected a word id (ascending) at the start of the line";
      break;
    }
    m->ids[w] = id;
    p = e;
    for (int k = 0; k < m->K; k++) {
      double v = strtod(p, &e);
      if (e == p || !isfinite(v) || v < 0) {
        why = "expected K non-negative numbers after the word id";
        break;
      }
      m->phi[w * (size_t)m->K + (size_t)k] = v;
      nk[k] += v;
      p = e;
    }
    while (!why && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
      p++;
    if (!why && *p) why = "more than K values on the line";
    w++;
  }
  free(line);
  if (!why && w != m->W) {
    free(nk);
    return model_fail(m, f, path, ln,
                      "fewer word lines than the header's words=W");
  }
  if (why) {
    free(nk);
    return model_fail(m, f, path, ln, why);
  }
  fclose(f);
  if (counts) /* counts -> phi, as `gasp lda` computes it */
    for (uint64_t i = 0; i < m->W; i++)
      for (int k = 0; k < m->K; k++) {
        double *x = &m->phi[i * (size_t)m->K + (size_t)k];
        *x = (*x + m->beta) / (nk[k] + (double)m->W * m->beta);
      }
  free(nk);
  return 0;
}
