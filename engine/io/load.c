/*
 * load.c -- gasp_graph_load(): format detection and the parallel text
 * loaders (edge list, adjacency list, Matrix Market, UCI bag-of-words,
 * lda-c corpora and "doc word count" triples).
 *
 * Input is read in blocks of 16 MiB per thread that end at a line
 * boundary; each block is cut into one piece per thread and the pieces are
 * parsed at once (parse_text.c).  Format headers (Matrix Market banner and
 * size line, UCI counts) are read serially from the first block.  Errors
 * name the file and the line: every piece counts its lines, so the global
 * line number of the first failing piece is the block's first line plus
 * the lines of the pieces before it.
 */
#include "input.h"
#include "parse_text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BLOCK_PER_THREAD ((size_t)16 << 20)

void gasp_load_opts_init(gasp_load_opts *o) {
  memset(o, 0, sizeof *o);
  o->format = GASP_FORMAT_AUTO;
  o->weighted = -1;
}

static const struct {
  const char *name;
  gasp_format f;
} format_names[] = {{"auto", GASP_FORMAT_AUTO},
                    {"edgelist", GASP_FORMAT_EDGELIST},
                    {"snap", GASP_FORMAT_EDGELIST},
                    {"el", GASP_FORMAT_EDGELIST},
                    {"adj", GASP_FORMAT_ADJ},
                    {"mtx", GASP_FORMAT_MTX},
                    {"uci", GASP_FORMAT_UCI},
                    {"gasp", GASP_FORMAT_SNAPSHOT},
                    {"ratings", GASP_FORMAT_RATINGS},
                    /* text corpora (LDA) */
                    {"ldac", GASP_FORMAT_LDAC},
                    {"triples", GASP_FORMAT_TRIPLES},
                    {"corpus", GASP_FORMAT_CORPUS}};

int gasp_format_parse(const char *name, gasp_format *out) {
  for (size_t i = 0; i < sizeof format_names / sizeof *format_names; i++)
    if (strcmp(name, format_names[i].name) == 0) {
      *out = format_names[i].f;
      return GASP_OK;
    }
  return GASP_EINVAL;
}

const char *gasp_format_name(gasp_format f) {
  switch (f) {
  case GASP_FORMAT_AUTO: return "auto";
  case GASP_FORMAT_EDGELIST: return "edgelist";
  case GASP_FORMAT_ADJ: return "adj";
  case GASP_FORMAT_MTX: return "mtx";
  case GASP_FORMAT_UCI: return "uci";
  case GASP_FORMAT_SNAPSHOT: return "gasp";
  case GASP_FORMAT_RATINGS: return "ratings";
  case GASP_FORMAT_LDAC: return "ldac";
  case GASP_FORMAT_TRIPLES: return "triples";
  case GASP_FORMAT_CORPUS: return "corpus";
  }
  return "unknown";
}

/* ---------------------------------------------------------------- */
/* Detection                                                         */
/* ---------------------------------------------------------------- */

static int has_suffix(const char *s, size_t n, const char *suf) {
  size_t k = strlen(suf);
  return n >= k && strncasecmp(s + n - k, suf, k) == 0;
}

static gasp_format format_by_name(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (has_suffix(base, n, ".gz")) n -= 3;
  if (has_suffix(base, n, ".mtx")) return GASP_FORMAT_MTX;
  if (has_suffix(base, n, ".adj")) return GASP_FORMAT_ADJ;
  if (has_suffix(base, n, ".gasp")) return GASP_FORMAT_SNAPSHOT;
  if (strncmp(base, "docword.", 8) == 0) return GASP_FORMAT_UCI;
  if (has_suffix(base, n, ".ldac")) return GASP_FORMAT_LDAC;
  return GASP_FORMAT_AUTO;
}

/* A corpus by its first data line (within the first bytes): "N w:c ..."
 * is LDA-C, a single number a UCI header, anything else triples. */
static gasp_format sniff_corpus(const char *buf, size_t n) {
  size_t p = 0;
  while (p < n) {
    const char *l = buf + p;
    const char *nl = memchr(l, '\n', n - p);
    size_t m = nl ? (size_t)(nl - l) : n - p;
    size_t k = 0;
    while (k < m && (l[k] == ' ' || l[k] == '\t' || l[k] == '\r'))
      k++;
    if (k < m && l[k] != '#' && l[k] != '%') {
      if (memchr(l + k, ':', m - k)) return GASP_FORMAT_LDAC;
      return gasp__count_columns(l + k, m - k) == 1 ? GASP_FORMAT_UCI
                                                    : GASP_FORMAT_TRIPLES;
    }
    p += m + 1;
  }
  return GASP_FORMAT_TRIPLES;
}

/* ---------------------------------------------------------------- */
/* The text loading loop                                             */
/* ---------------------------------------------------------------- */

typedef struct text_load {
  const char *path;
  const gasp_load_opts *opts;
  gasp__text_spec spec;
  gasp_builder *b;
  int T;
  gasp__input *in;
  gasp__lines lines;
  uint64_t entries;
  uint64_t declared;      /* entries the header declares (mtx, uci), else 0 */
  uint64_t declared_line; /* the header line that declares them */
  int check_declared;
  uint64_t vocab_words; /* ldac, triples: words in --vocab, else 0 */
  double t0;
  gasp_error *err;
} text_load;

/* Reads one header line from the start of the first block: returns its
 * length without the newline and advances *pos past it.  *line is the
 * number of the next line, so the line just read is *line - 1. */
static size_t take_line(const char *buf, size_t n, size_t *pos, uint64_t *line,
                        const char **start) {
  const char *p = buf + *pos;
  const char *nl = memchr(p, '\n', n - *pos);
  size_t len = nl ? (size_t)(nl - p) : n - *pos;
  *start = p;
  *pos += nl ? len + 1 : len;
  (*line)++;
  while (len > 0 &&
         (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
    len--;
  return len;
}

static int report_progress(text_load *tl, uint64_t edges) {
  if (!tl->opts->progress) return GASP_OK;
  gasp_progress p = {"read", gasp__input_offset(tl->in), tl->in->size, edges,
                     gasp__now() - tl->t0};
  if (tl->opts->progress(tl->opts->progress_user, &p))
    return gasp__fail(tl->err, GASP_ECANCELED, tl->path, 0, "canceled");
  return GASP_OK;
}

/* Parses buf[0..n), whose first line is line `line0`, on all threads and
 * hands the edges to the builder.  *nlines receives the lines consumed. */
static int parse_block(text_load *tl, const char *buf, size_t n, uint64_t line0,
                       uint64_t *nlines) {
  int parts = tl->T;
  if (n < ((size_t)1 << 16)) parts = 1;
  size_t cut[parts + 1];
  gasp__piece *pieces = gasp__calloc((size_t)parts, sizeof *pieces);
  if (!pieces)
    return gasp__fail(tl->err, GASP_ENOMEM, tl->path, 0, "out of memory");
  gasp__split_lines(buf, n, parts, cut);
#pragma omp parallel for num_threads(parts) schedule(static, 1)
  for (int i = 0; i < parts; i++)
    gasp__parse_piece(&tl->spec, buf + cut[i], cut[i + 1] - cut[i], &pieces[i]);
  int rc = GASP_OK;
  uint64_t line = line0;
  for (int i = 0; i < parts; i++) {
    gasp__piece *pc = &pieces[i];
    if (tl->spec.kind == GASP__TEXT_LDAC && line > 1) {
      /* lda-c documents are numbered by line: the piece counted from 0 */
      gasp__chunk *ch = &pc->chunk;
      for (uint64_t k = 0; k < ch->n; k++)
        ch->src[k] += line - 1;
      for (uint64_t k = 0; k < pc->niso; k++)
        pc->iso[k] += line - 1;
      if (ch->n) ch->max_id += line - 1;
    }
    if (rc == GASP_OK && pc->err_code) {
      rc = gasp__fail(tl->err, pc->err_code, tl->path, line + pc->err_line - 1,
                      "%s", pc->err_msg);
    }
    if (rc == GASP_OK && pc->niso &&
        gasp__builder_add_vertices(tl->b, GASP_SIDE_LEFT, pc->iso, pc->niso))
      rc = gasp__fail(tl->err, GASP_ENOMEM, tl->path, 0, "out of memory");
    tl->entries += pc->entries;
    if (rc == GASP_OK && gasp__builder_add_chunk(tl->b, &pc->chunk))
      rc = gasp__fail(tl->err, GASP_ENOMEM, tl->path, 0, "out of memory");
    line += pc->lines;
    gasp__piece_release(pc);
  }
  free(pieces);
  *nlines = line - line0;
  return rc;
}

/* Format-specific handling of the first block: may consume header lines
 * (advancing *pos and *line) and adjust tl->spec and the builder. */
typedef int (*header_fn)(text_load *tl, const char *buf, size_t n, size_t *pos,
                         uint64_t *line);

static int run_text(text_load *tl, header_fn header) {
  size_t bs = BLOCK_PER_THREAD * (size_t)tl->T;
  /* a small plain file needs no more than itself (the buffer grows should
   * the file grow while read) */
  const gasp__input *in = tl->in;
  if (in->regular && !in->gz && in->size + 1 < bs)
    bs = in->size < ((size_t)64 << 10) ? (size_t)64 << 10 : in->size + 1;
  int rc = gasp__lines_init(&tl->lines, tl->in, bs);
  if (rc) return gasp__fail(tl->err, rc, tl->path, 0, "out of memory");
  uint64_t edges = 0;
  for (int first = 1;; first = 0) {
    char *buf;
    size_t n;
    if ((rc = gasp__lines_next(&tl->lines, &buf, &n, tl->err))) return rc;
    if (n == 0 && !first) break;
    size_t pos = 0;
    uint64_t line = tl->lines.line0;
    if (first && (rc = header(tl, buf, n, &pos, &line))) return rc;
    if (n == 0) break;
    uint64_t nl = 0;
    if ((rc = parse_block(tl, buf + pos, n - pos, line, &nl))) return rc;
    gasp__lines_done(&tl->lines, (line - tl->lines.line0) + nl);
    edges = tl->entries;
    if ((rc = report_progress(tl, edges))) return rc;
  }
  return GASP_OK;
}

/* ---- edge lists and adjacency lists -------------------------------- */

/* Finds the first line of buf[0..n) that is neither blank nor a comment:
 * its offset, length (with the newline) and first non-blank column, and
 * the lines before it.  Returns 0 when there is none. */
static int first_data_line(const char *buf, size_t n, size_t *off, size_t *len,
                           size_t *col, uint64_t *before) {
  size_t p = 0;
  uint64_t ln = 0;
  while (p < n) {
    const char *l = buf + p;
    const char *nl = memchr(l, '\n', n - p);
    size_t m = nl ? (size_t)(nl - l) + 1 : n - p;
    size_t k = 0;
    while (k < m && (l[k] == ' ' || l[k] == '\t'))
      k++;
    if (k < m && l[k] != '\n' && l[k] != '\r' && l[k] != '#' && l[k] != '%') {
      *off = p, *len = m, *col = k;
      if (before) *before = ln;
      return 1;
    }
    p += m;
    ln++;
  }
  return 0;
}

static int header_edgelist(text_load *tl, const char *buf, size_t n,
                           size_t *pos, uint64_t *line) {
  /* The first data line fixes the number of columns. */
  size_t off, len, k;
  if (first_data_line(buf, n, &off, &len, &k, NULL))
    tl->spec.ncols = gasp__count_columns(buf + off, len) >= 3 ? 3 : 2;
  int w = tl->opts->weighted;
  tl->spec.keep_weight = w > 0 || (w < 0 && tl->spec.ncols == 3);
  unsigned flags = gasp__builder_flags(tl->b);
  if (tl->spec.keep_weight) flags |= GASP_BUILD_WEIGHTED;
  gasp__builder_set_flags(tl->b, flags);
  (void)pos;
  (void)line;
  return GASP_OK;
}

/* Ratings: "user item rating [extra]" with blanks, tabs, commas or "::"
 * between fields; a first line that does not start with a digit is a
 * column header (ratings.csv) and is skipped. */
static int header_ratings(text_load *tl, const char *buf, size_t n, size_t *pos,
                          uint64_t *line) {
  if (gasp__builder_flags(tl->b) & GASP_BUILD_SYMMETRIC)
    return gasp__fail(tl->err, GASP_EINVAL, tl->path, 0,
                      "--symmetric does not apply to ratings (users and "
                      "items are separate sides)");
  size_t off, len, k;
  uint64_t skipped;
  if (first_data_line(buf, n, &off, &len, &k, &skipped) && skipped == 0) {
    char c = buf[off + k];
    if ((c < '0' || c > '9') && c != '-') {
      *pos = off + len; /* a header line: "userId,movieId,rating,..." */
      *line += 1;
    }
  }
  unsigned flags = gasp__builder_flags(tl->b) | GASP_BUILD_BIPARTITE;
  if (tl->opts->weighted != 0) flags |= GASP_BUILD_WEIGHTED;
  gasp__builder_set_flags(tl->b, flags);
  tl->spec.ncols = 3;
  tl->spec.keep_weight = tl->opts->weighted != 0;
  tl->spec.extra_cols_ok = 1;
  tl->spec.src_name = "user id";
  tl->spec.dst_name = "item id";
  tl->spec.weight_name = "rating";
  return GASP_OK;
}

static int header_none(text_load *tl, const char *buf, size_t n, size_t *pos,
                       uint64_t *line) {
  return GASP_OK;
}

/* ---- Matrix Market and UCI headers --------------------------------- */

static int parse_u64_word(const char **p, uint64_t *v) {
  const char *s = *p;
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s < '0' || *s > '9') return -1;
  uint64_t x = 0;
  while (*s >= '0' && *s <= '9') {
    if (x > (GASP_GID_MAX - 9) / 10) return -1;
    x = x * 10 + (uint64_t)(*s++ - '0');
  }
  *p = s;
  *v = x;
  return 0;
}

/* Reads `want` integers from the next non-comment header line(s); with
 * one_line they must all stand on one line. */
static int read_counts(text_load *tl, const char *buf, size_t n, size_t *pos,
                       uint64_t *line, int want, int one_line, uint64_t *out,
                       const char *what) {
  char tmp[256];
  int got = 0;
  while (got < want) {
    if (*pos >= n)
      return gasp__fail(tl->err, GASP_EPARSE, tl->path, *line,
                        "missing header line: expected %s", what);
    const char *s;
    size_t len = take_line(buf, n, pos, line, &s);
    size_t k0 = 0;
    while (k0 < len && (s[k0] == ' ' || s[k0] == '\t'))
      k0++;
    if (k0 == len || s[k0] == '%') continue;
    if (len >= sizeof tmp) len = sizeof tmp - 1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    const char *p = tmp;
    int k = 0;
    while (got + k < want && parse_u64_word(&p, &out[got + k]) == 0)
      k++;
    while (*p == ' ' || *p == '\t')
      p++;
    if (k == 0 || *p != '\0' || (one_line && k != want))
      return gasp__fail(tl->err, GASP_EPARSE, tl->path, *line - 1,
                        "malformed header: expected %s", what);
    got += k;
  }
  return GASP_OK;
}

static int mtx_banner(text_load *tl, const char *buf, size_t n, size_t *pos,
                      uint64_t *line, int *pattern, int *symmetric) {
  const char *s;
  size_t len = take_line(buf, n, pos, line, &s);
  char tmp[256], obj[64], fmt[64], field[64], sym[64];
  if (len >= sizeof tmp) len = sizeof tmp - 1;
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  if (sscanf(tmp, "%%%%MatrixMarket %63s %63s %63s %63s", obj, fmt, field,
             sym) != 4)
    return gasp__fail(tl->err, GASP_EFORMAT, tl->path, *line - 1,
                      "not a Matrix Market banner ('%%%%MatrixMarket matrix "
                      "coordinate FIELD SYMMETRY' expected)");
  if (strcasecmp(obj, "matrix") != 0 || strcasecmp(fmt, "coordinate") != 0)
    return gasp__fail(tl->err, GASP_ENOTSUP, tl->path, *line - 1,
                      "only 'matrix coordinate' Matrix Market files are "
                      "supported");
  if (strcasecmp(field, "pattern") == 0)
    *pattern = 1;
  else if (strcasecmp(field, "real") == 0 || strcasecmp(field, "integer") == 0)
    *pattern = 0;
  else
    return gasp__fail(tl->err, GASP_ENOTSUP, tl->path, *line - 1,
                      "Matrix Market field '%s' is not supported (real, "
                      "integer or pattern)",
                      field);
  if (strcasecmp(sym, "general") == 0)
    *symmetric = 0;
  else if (strcasecmp(sym, "symmetric") == 0)
    *symmetric = 1;
  else
    return gasp__fail(tl->err, GASP_ENOTSUP, tl->path, *line - 1,
                      "Matrix Market symmetry '%s' is not supported (general "
                      "or symmetric)",
                      sym);
  return GASP_OK;
}

/* A square matrix is a graph on vertices 1..N; a rectangular one is
 * bipartite, rows on the left and columns on the right. */
static int header_mtx(text_load *tl, const char *buf, size_t n, size_t *pos,
                      uint64_t *line) {
  int pattern = 0, symmetric = 0, rc;
  if (n == 0)
    return gasp__fail(tl->err, GASP_EPARSE, tl->path, 0, "empty file");
  if ((rc = mtx_banner(tl, buf, n, pos, line, &pattern, &symmetric))) return rc;
  uint64_t c[3];
  if ((rc = read_counts(tl, buf, n, pos, line, 3, 1, c,
                        "'ROWS COLUMNS ENTRIES'")))
    return rc;
  if (c[0] == 0 || c[1] == 0)
    return gasp__fail(tl->err, GASP_EPARSE, tl->path, *line - 1,
                      "matrix has no rows or no columns");
  int square = c[0] == c[1];
  if (symmetric && !square)
    return gasp__fail(tl->err, GASP_EPARSE, tl->path, *line - 1,
                      "symmetric matrix must be square");
  unsigned flags = gasp__builder_flags(tl->b);
  if (!square && (flags & GASP_BUILD_SYMMETRIC))
    return gasp__fail(tl->err, GASP_EINVAL, tl->path, 0,
                      "--symmetric does not apply to a rectangular (bipartite) "
                      "matrix");
  if (!square) flags |= GASP_BUILD_BIPARTITE;
  if (symmetric && (flags & GASP_BUILD_BIPARTITE))
    return gasp__fail(tl->err, GASP_EINVAL, tl->path, *line - 1,
                      "a symmetric matrix cannot be read as bipartite");
  if (symmetric) flags |= GASP_BUILD_SYMMETRIC;
  if (!pattern && tl->opts->weighted != 0) flags |= GASP_BUILD_WEIGHTED;
  if (pattern && tl->opts->weighted > 0) flags |= GASP_BUILD_WEIGHTED;
  gasp__builder_set_flags(tl->b, flags);
  tl->spec.ncols = pattern ? 2 : 3;
  tl->spec.keep_weight = (flags & GASP_BUILD_WEIGHTED) != 0;
  tl->spec.comments = "%";
  tl->spec.min_id = 1;
  tl->spec.max_src = c[0];
  tl->spec.max_dst = c[1];
  tl->spec.src_name = "row index";
  tl->spec.dst_name = "column index";
  tl->spec.id_name = "index";
  tl->spec.weight_name = "value";
  tl->declared = c[2];
  tl->declared_line = *line - 1;
  tl->check_declared = 1;
  if (!(flags & GASP_BUILD_BIPARTITE))
    return gasp__builder_add_range(tl->b, GASP_SIDE_LEFT, 1, c[0]);
  if ((rc = gasp__builder_add_range(tl->b, GASP_SIDE_LEFT, 1, c[0]))) return rc;
  return gasp__builder_add_range(tl->b, GASP_SIDE_RIGHT, 1, c[1]);
}

/* UCI bag-of-words: three header lines D, W, NNZ, then "doc word count"
 * triples, 1-based.  Documents are the left side, words the right. */
static int header_uci(text_load *tl, const char *buf, size_t n, size_t *pos,
                      uint64_t *line) {
  uint64_t c[3];
  int rc;
  if (n == 0)
    return gasp__fail(tl->err, GASP_EPARSE, tl->path, 0, "empty file");
  if ((rc = read_counts(tl, buf, n, pos, line, 3, 0, c,
                        "the counts D, W and NNZ on three lines")))
    return rc;
  if (gasp__builder_flags(tl->b) & GASP_BUILD_SYMMETRIC)
    return gasp__fail(tl->err, GASP_EINVAL, tl->path, 0,
                      "--symmetric does not apply to a bag-of-words corpus "
                      "(documents and words are separate sides)");
  unsigned flags = gasp__builder_flags(tl->b) | GASP_BUILD_BIPARTITE;
  if (tl->opts->weighted != 0) flags |= GASP_BUILD_WEIGHTED;
  gasp__builder_set_flags(tl->b, flags);
  tl->spec.ncols = 3;
  tl->spec.keep_weight = tl->opts->weighted != 0;
  tl->spec.weight_count = 1;
  tl->spec.comments = "#%";
  tl->spec.min_id = 1;
  tl->spec.max_src = c[0] ? c[0] : 1;
  tl->spec.max_dst = c[1] ? c[1] : 1;
  tl->spec.src_name = "document id";
  tl->spec.dst_name = "word id";
  tl->spec.id_name = "id";
  tl->spec.weight_name = "count";
  if (c[0] == 0 || c[1] == 0)
    return gasp__fail(tl->err, GASP_EPARSE, tl->path, *line - 1,
                      "header declares no documents or no words");
  tl->declared = c[2];
  tl->declared_line = *line - 1;
  tl->check_declared = 1;
  if ((rc = gasp__builder_add_range(tl->b, GASP_SIDE_LEFT, 1, c[0]))) return rc;
  return gasp__builder_add_range(tl->b, GASP_SIDE_RIGHT, 1, c[1]);
}

/* ---- lda-c and triples (LDA corpora) -------------------------------- */

/* Shared by the corpus formats without a header: bipartite, counts as
 * weights, and with a vocabulary of W words the word ids first..first+W-1
 * (all present as vertices, so that line w of the vocabulary names the
 * w-th word). */
static int corpus_common(text_load *tl, gasp_gid first) {
  if (gasp__builder_flags(tl->b) & GASP_BUILD_SYMMETRIC)
    return gasp__fail(tl->err, GASP_EINVAL, tl->path, 0,
                      "--symmetric does not apply to a bag-of-words corpus "
                      "(documents and words are separate sides)");
  unsigned flags = gasp__builder_flags(tl->b) | GASP_BUILD_BIPARTITE;
  if (tl->opts->weighted != 0) flags |= GASP_BUILD_WEIGHTED;
  gasp__builder_set_flags(tl->b, flags);
  tl->spec.keep_weight = tl->opts->weighted != 0;
  tl->spec.weight_count = 1;
  tl->spec.src_name = "document id";
  tl->spec.dst_name = "word id";
  tl->spec.id_name = "id";
  tl->spec.weight_name = "count";
  tl->spec.min_id = first;
  if (!tl->vocab_words) return GASP_OK;
  tl->spec.max_dst = first + tl->vocab_words - 1;
  return gasp__builder_add_range(tl->b, GASP_SIDE_RIGHT, first,
                                 tl->spec.max_dst);
}

static int header_ldac(text_load *tl, const char *buf, size_t n, size_t *pos,
                       uint64_t *line) {
  if (n == 0)
    return gasp__fail(tl->err, GASP_EPARSE, tl->path, 0, "empty file");
  tl->spec.kind = GASP__TEXT_LDAC;
  tl->spec.comments = "";
  return corpus_common(tl, 0);
}

static int header_triples(text_load *tl, const char *buf, size_t n, size_t *pos,
                          uint64_t *line) {
  tl->spec.ncols = 3;
  tl->spec.comments = "#%";
  /* with a vocabulary the ids are 1-based, as in the UCI body */
  return corpus_common(tl, tl->vocab_words ? 1 : 0);
}

/* Reads a whole vocabulary file (plain or gzip) once: it may be a pipe,
 * and the words are needed twice (counted before loading, named after). */
static int read_vocab(const char *path, char **out, size_t *out_len,
                      gasp_error *err) {
  gasp__input in;
  int rc = gasp__input_open(&in, path, err);
  if (rc) return rc;
  size_t cap = 1 << 16, len = 0;
  char *all = gasp__malloc(cap);
  for (;;) {
    size_t got;
    if (all && len + 4096 > cap) {
      char *na = gasp__realloc(all, cap * 2);
      if (!na) {
        free(all);
        all = NULL;
      }
      all = na;
      cap *= 2;
    }
    if (!all) {
      rc = gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
      break;
    }
    if ((rc = gasp__input_read(&in, all + len, cap - len - 1, &got, err)))
      break;
    len += got;
    if (got == 0) break;
  }
  gasp__input_close(&in);
  if (rc) {
    free(all);
    return rc;
  }
  all[len] = '\0';
  *out = all;
  *out_len = len;
  return GASP_OK;
}

/* Lines in a vocabulary (a last line without newline counts). */
static int count_vocab(const char *path, const char *all, size_t len,
                       uint64_t *words, gasp_error *err) {
  uint64_t n = 0;
  for (const char *p = all, *e = all + len;
       (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    n++;
  *words = n + (len && all[len - 1] != '\n');
  if (*words == 0)
    return gasp__fail(err, GASP_EPARSE, path, 0, "empty vocabulary");
  return GASP_OK;
}

/* Names the right-side vertices from a vocabulary read by read_vocab()
 * (one word per line, line w naming word id w; taken apart in place);
 * lines past the header's W are ignored. */
static int load_vocab(gasp_graph *g, const char *path, char *all, size_t len,
                      gasp_error *err) {
  int rc = GASP_OK;
  gasp_vid nwords = g->nv - g->nleft;
  char **words = gasp__calloc(nwords ? nwords : 1, sizeof *words);
  if (!words) return gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
  uint64_t count = 0;
  for (char *p = all; p < all + len;) {
    char *nl = memchr(p, '\n', (size_t)(all + len - p));
    char *e = nl ? nl : all + len;
    if (e > p && e[-1] == '\r') e[-1] = '\0';
    *e = '\0';
    if (count < nwords) words[count] = p;
    count++;
    p = e + 1;
  }
  /* Fewer words than the header declares leaves words unnamed: an error.
   * More is accepted (published copies of UCI KOS carry one extra line);
   * the words past W name nothing, since no document can use them. */
  if (count < nwords) {
    rc =
        gasp__fail(err, GASP_EPARSE, path, count + 1,
                   "vocabulary has %llu words, the corpus header declares %llu",
                   (unsigned long long)count, (unsigned long long)nwords);
  } else {
    rc = gasp__graph_set_names(g, g->nleft, words, nwords);
    if (rc) gasp__fail(err, rc, path, 0, "out of memory");
  }
  free(words);
  return rc;
}

/* ---------------------------------------------------------------- */
/* Entry point                                                       */
/* ---------------------------------------------------------------- */

int gasp__snapshot_load(gasp_graph **out, const char *path,
                        const gasp_load_opts *opts, gasp_error *err);

/* Loads from `in`, already open (and maybe peeked at); the caller closes
 * it. */
static int load_text(gasp_graph **out, gasp__input *in, gasp_format fmt,
                     const gasp_load_opts *opts, gasp_error *err) {
  const char *path = in->path;
  text_load tl;
  memset(&tl, 0, sizeof tl);
  tl.path = path;
  tl.opts = opts;
  tl.err = err;
  tl.T = gasp__threads(opts->threads);
  tl.in = in;
  if (in->regular && !in->gz && in->size < ((uint64_t)1 << 20))
    tl.T = 1; /* small */
  tl.t0 = gasp__now();
  gasp__text_spec_init(&tl.spec);
  unsigned flags = opts->symmetric ? GASP_BUILD_SYMMETRIC : 0;
  int rc = gasp_builder_new(&tl.b, flags);
  if (rc) return gasp__fail(err, rc, path, 0, "out of memory");
  char *vocab = NULL; /* ldac, triples: read once, before the corpus */
  size_t vocab_len = 0;
  header_fn header = header_edgelist;
  if (fmt == GASP_FORMAT_ADJ) {
    tl.spec.kind = GASP__TEXT_ADJ;
    header = header_none;
  } else if (fmt == GASP_FORMAT_MTX) {
    header = header_mtx;
  } else if (fmt == GASP_FORMAT_UCI) {
    header = header_uci;
  } else if (fmt == GASP_FORMAT_RATINGS) {
    header = header_ratings;
  } else if (fmt == GASP_FORMAT_LDAC || fmt == GASP_FORMAT_TRIPLES) {
    header = fmt == GASP_FORMAT_LDAC ? header_ldac : header_triples;
    if (opts->vocab &&
        ((rc = read_vocab(opts->vocab, &vocab, &vocab_len, err)) ||
         (rc = count_vocab(opts->vocab, vocab, vocab_len, &tl.vocab_words,
                           err))))
      goto out;
  }
  if (opts->bipartite && fmt != GASP_FORMAT_RATINGS) {
    if (opts->symmetric) {
      rc = gasp__fail(err, GASP_EINVAL, path, 0,
                      "bipartite input cannot be symmetrised");
      goto out;
    }
    gasp__builder_set_flags(tl.b,
                            gasp__builder_flags(tl.b) | GASP_BUILD_BIPARTITE);
  }
  if ((rc = run_text(&tl, header))) goto out;
  if (tl.check_declared && tl.entries != tl.declared) {
    rc = gasp__fail(err, GASP_EPARSE, path, tl.declared_line,
                    "header declares %llu entries but the file has %llu",
                    (unsigned long long)tl.declared,
                    (unsigned long long)tl.entries);
    goto out;
  }
  if (tl.entries == 0 && !tl.check_declared) {
    rc = gasp__fail(err, GASP_EPARSE, path, 0, "no edges found (empty input)");
    goto out;
  }
  gasp__lines_free(&tl.lines);
  uint64_t bytes = gasp__input_offset(in);
  if (opts->progress) {
    gasp_progress p = {"build", bytes, in->size, tl.entries,
                       gasp__now() - tl.t0};
    opts->progress(opts->progress_user, &p);
  }
  if ((rc = gasp_builder_finish(tl.b, tl.T, out, err))) {
    if (err && !err->file[0]) snprintf(err->file, sizeof err->file, "%s", path);
    goto out;
  }
  if ((fmt == GASP_FORMAT_UCI || fmt == GASP_FORMAT_LDAC ||
       fmt == GASP_FORMAT_TRIPLES) &&
      opts->vocab &&
      ((!vocab && (rc = read_vocab(opts->vocab, &vocab, &vocab_len, err))) ||
       (rc = load_vocab(*out, opts->vocab, vocab, vocab_len, err))))
    gasp_graph_free(out);
out:
  free(vocab);
  gasp__lines_free(&tl.lines);
  gasp_builder_free(&tl.b);
  return rc;
}

int gasp_graph_load(gasp_graph **out, const char *path,
                    const gasp_load_opts *opts, gasp_error *err) {
  gasp_load_opts defaults;
  if (!opts) {
    gasp_load_opts_init(&defaults);
    opts = &defaults;
  }
  *out = NULL;
  gasp__error_clear(err);
  if (!path) return gasp__fail(err, GASP_EINVAL, NULL, 0, "no input path");
  if (opts->threads < 0 || opts->threads > GASP_MAX_THREADS)
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "%d threads: expected 0 (all cores) to %d", opts->threads,
                      GASP_MAX_THREADS);
  gasp_format fmt = opts->format;
  if (fmt == GASP_FORMAT_AUTO) fmt = format_by_name(path);
  /* One open for detection and loading: a pipe cannot be read twice. */
  gasp__input in;
  int rc = gasp__input_open(&in, path, err);
  if (rc) return rc;
  size_t nraw;
  const unsigned char *raw = gasp__input_raw_head(&in, &nraw);
  int snap = nraw >= 8 && memcmp(raw, "GASPSNAP", 8) == 0;
  if ((fmt == GASP_FORMAT_AUTO || fmt == GASP_FORMAT_EDGELIST) && snap &&
      opts->format == GASP_FORMAT_AUTO)
    fmt = GASP_FORMAT_SNAPSHOT;
  if (fmt == GASP_FORMAT_CORPUS) {
    fmt = format_by_name(path);
    if (snap) fmt = GASP_FORMAT_SNAPSHOT;
    if (fmt != GASP_FORMAT_UCI && fmt != GASP_FORMAT_LDAC &&
        fmt != GASP_FORMAT_SNAPSHOT) {
      const char *head;
      size_t got = 0;
      if ((rc = gasp__input_peek(&in, GASP__PEEK, &head, &got, err))) goto out;
      fmt = sniff_corpus(head, got);
    }
  }
  if (fmt == GASP_FORMAT_AUTO) {
    /* Content: a Matrix Market banner, else an edge list. */
    const char *head;
    size_t got = 0;
    if ((rc = gasp__input_peek(&in, 14, &head, &got, err))) goto out;
    fmt = got == 14 && strncasecmp(head, "%%MatrixMarket", 14) == 0
              ? GASP_FORMAT_MTX
              : GASP_FORMAT_EDGELIST;
  }
  if (fmt == GASP_FORMAT_SNAPSHOT) {
    /* A snapshot is mapped, not streamed. */
    if (!in.regular) {
      rc = gasp__fail(err, GASP_EINVAL, path, 0,
                      "a snapshot must be a regular file (it is mapped, not "
                      "read from a pipe)");
      goto out;
    }
    gasp__input_close(&in);
    return gasp__error_default(err, gasp__snapshot_load(out, path, opts, err),
                               path);
  }
  rc = load_text(out, &in, fmt, opts, err);
out:
  gasp__input_close(&in);
  return gasp__error_default(err, rc, path);
}
