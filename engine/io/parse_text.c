/*
 * parse_text.c -- the tokenizer shared by the text formats: edge lists
 * (SNAP, CSV, TSV), adjacency lists, Matrix Market and UCI bodies, and
 * lda-c corpora ("N w:c w:c ..." per document line).
 *
 * A piece (a run of whole lines) is parsed by one thread into a chunk of
 * raw edges; pieces are independent, so a block of input is parsed on all
 * threads at once.  Integers are parsed by hand (strict: digits only, at
 * most 2^63 - 1); weights with a fast path for integers and strtod()
 * otherwise.  The first error in a piece stops it and records the line.
 */
#include "parse_text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { E_NONE, E_PARSE, E_RANGE, E_NOMEM };

static inline int is_sep(char c) {
  return c == ' ' || c == '\t' || c == ',' || c == ':';
}
static inline int is_eol(const char *p, const char *end) {
  return p >= end || *p == '\n' || *p == '\r';
}

typedef struct cursor {
  const char *p, *end;
  gasp__piece *out;
  uint64_t line; /* 1-based within the piece */
} cursor;

static int set_error(cursor *c, int code, const char *fmt, ...)
    GASP__PRINTF(3, 4);
static int set_error(cursor *c, int code, const char *fmt, ...) {
  gasp__piece *o = c->out;
  o->err_code = code == E_RANGE   ? GASP_ERANGE
                : code == E_NOMEM ? GASP_ENOMEM
                                  : GASP_EPARSE;
  o->err_line = c->line;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->err_msg, sizeof o->err_msg, fmt, ap);
  va_end(ap);
  return -1;
}

/* Copies the token at p (up to a separator or end of line) for messages. */
static const char *token_text(const char *p, const char *end, char *buf,
                              size_t len) {
  size_t n = 0;
  while (p + n < end && !is_sep(p[n]) && p[n] != '\n' && p[n] != '\r' &&
         n + 1 < len)
    n++;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)p[i];
    buf[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
  }
  buf[n] = '\0';
  return buf;
}

/* Skips separators between fields: blanks with at most one comma or one
 * "::" (MovieLens ratings.dat). */
static inline void skip_sep(cursor *c) {
  const char *p = c->p;
  while (p < c->end && (*p == ' ' || *p == '\t'))
    p++;
  if (p < c->end && *p == ',') {
    p++;
    while (p < c->end && (*p == ' ' || *p == '\t'))
      p++;
  } else if (p + 1 < c->end && p[0] == ':' && p[1] == ':') {
    p += 2;
    while (p < c->end && (*p == ' ' || *p == '\t'))
      p++;
  }
  c->p = p;
}

/* Parses one id field; `what` names it in messages ("id", "count"). */
static inline __attribute__((always_inline)) int
parse_id(cursor *c, const char *what, uint64_t *out) {
  const char *p = c->p;
  char tok[40];
  if (GASP__UNLIKELY(p >= c->end || *p < '0' || *p > '9')) {
    if (p < c->end && *p == '-' && p + 1 < c->end && p[1] >= '0' && p[1] <= '9')
      return set_error(c, E_RANGE, "negative %s %s", what,
                       token_text(p, c->end, tok, sizeof tok));
    return set_error(c, E_PARSE, "non-numeric %s '%s'", what,
                     token_text(p, c->end, tok, sizeof tok));
  }
  uint64_t v = 0;
  const char *s = p;
  /* Up to 18 digits cannot overflow: no checks in the common case. */
  const char *fast_end = c->end - p > 18 ? p + 18 : c->end;
  while (p < fast_end && (unsigned)(*p - '0') <= 9)
    v = v * 10 + (uint64_t)(*p++ - '0');
  while (p < c->end && *p >= '0' && *p <= '9') {
    unsigned d = (unsigned)(*p - '0');
    if (GASP__UNLIKELY(v > 922337203685477580ull ||
                       (v == 922337203685477580ull && d > 7)))
      return set_error(c, E_RANGE, "%s %s out of range (max 2^63-1)", what,
                       token_text(s, c->end, tok, sizeof tok));
    v = v * 10 + d;
    p++;
  }
  if (GASP__UNLIKELY(p < c->end && !is_sep(*p) && *p != '\n' && *p != '\r'))
    return set_error(c, E_PARSE, "non-numeric %s '%s'", what,
                     token_text(s, c->end, tok, sizeof tok));
  c->p = p;
  *out = v;
  return 0;
}

static int parse_weight(cursor *c, const gasp__text_spec *spec, double *out) {
  const char *p = c->p;
  char tok[40];
  /* Fast path: a plain non-negative integer below 2^53 is exact. */
  uint64_t v = 0;
  const char *q = p;
  while (q < c->end && *q >= '0' && *q <= '9' && v < (1ull << 53)) {
    v = v * 10 + (uint64_t)(*q - '0');
    q++;
  }
  if (q > p && v < (1ull << 53) &&
      (q >= c->end || is_sep(*q) || *q == '\n' || *q == '\r')) {
    c->p = q;
    *out = (double)v;
  } else {
    char *e;
    double w = strtod(p, &e);
    if (e == p || (e < c->end && !is_sep(*e) && *e != '\n' && *e != '\r') ||
        e > c->end)
      return set_error(c, E_PARSE, "non-numeric %s '%s'", spec->weight_name,
                       token_text(p, c->end, tok, sizeof tok));
    if (!isfinite(w))
      return set_error(c, E_PARSE, "%s '%s' is not a finite number",
                       spec->weight_name,
                       token_text(p, c->end, tok, sizeof tok));
    c->p = e;
    *out = w;
  }
  if (spec->weight_count && (*out < 1 || *out != floor(*out)))
    return set_error(c, *out < 0 ? E_RANGE : E_PARSE,
                     "%s '%s' is not a positive integer", spec->weight_name,
                     token_text(p, c->end, tok, sizeof tok));
  return 0;
}

static int range_check(cursor *c, uint64_t v, gasp_gid lo, gasp_gid hi,
                       const char *what) {
  if (GASP__LIKELY(v >= lo && v <= hi)) return 0;
  return set_error(c, E_RANGE, "%s %llu out of range %llu..%llu", what,
                   (unsigned long long)v, (unsigned long long)lo,
                   (unsigned long long)hi);
}

static int chunk_reserve(gasp__chunk *ch, uint64_t need, int weighted) {
  if (need <= ch->cap) return 0;
  if (ch->cap == 0) { /* first allocation: huge-page friendly */
    ch->src = gasp__malloc_array(need, sizeof *ch->src);
    ch->dst = gasp__malloc_array(need, sizeof *ch->dst);
    if (weighted) ch->w = gasp__malloc_array(need, sizeof *ch->w);
    if (!ch->src || !ch->dst || (weighted && !ch->w)) return -1;
    ch->cap = need;
    return 0;
  }
  uint64_t ncap = ch->cap;
  while (ncap < need)
    ncap *= 2;
  gasp_gid *s = gasp__realloc(ch->src, ncap * sizeof *s);
  if (!s) return -1;
  ch->src = s;
  gasp_gid *d = gasp__realloc(ch->dst, ncap * sizeof *d);
  if (!d) return -1;
  ch->dst = d;
  if (weighted) {
    double *w = gasp__realloc(ch->w, ncap * sizeof *w);
    if (!w) return -1;
    ch->w = w;
  }
  ch->cap = ncap;
  return 0;
}

static inline void push_edge(gasp__chunk *ch, gasp_gid s, gasp_gid d,
                             double w) {
  ch->src[ch->n] = s;
  ch->dst[ch->n] = d;
  if (ch->w) ch->w[ch->n] = w;
  ch->n++;
  if (s == d) ch->loops++;
  gasp_gid m = s > d ? s : d;
  if (m > ch->max_id) ch->max_id = m;
}

/* Moves past the end of the current line; requires only blanks remain
 * unless extra columns are allowed. */
static int end_line(cursor *c, const gasp__text_spec *spec) {
  const char *p = c->p;
  while (p < c->end && (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r'))
    p++;
  if (p < c->end && *p != '\n') {
    if (!spec->extra_cols_ok) {
      c->p = p;
      return set_error(c, E_PARSE, "too many columns (expected %d)",
                       spec->ncols);
    }
    const char *nl = memchr(p, '\n', (size_t)(c->end - p));
    p = nl ? nl : c->end;
  }
  c->p = p < c->end ? p + 1 : p;
  return 0;
}

static int parse_edge_line(cursor *c, const gasp__text_spec *spec) {
  uint64_t s = 0, d = 0;
  double w = 1.0;
  if (parse_id(c, spec->id_name, &s)) return -1;
  skip_sep(c);
  if (is_eol(c->p, c->end))
    return set_error(c, E_PARSE, "missing column (expected %d, found 1)",
                     spec->ncols);
  if (parse_id(c, spec->id_name, &d)) return -1;
  if (spec->ncols >= 3) {
    skip_sep(c);
    if (is_eol(c->p, c->end))
      return set_error(c, E_PARSE, "missing column (expected %d, found 2)",
                       spec->ncols);
    if (parse_weight(c, spec, &w)) return -1;
  }
  if (range_check(c, s, spec->min_id, spec->max_src, spec->src_name) ||
      range_check(c, d, spec->min_id, spec->max_dst, spec->dst_name))
    return -1;
  if (end_line(c, spec)) return -1;
  gasp__chunk *ch = &c->out->chunk;
  if (GASP__UNLIKELY(ch->n == ch->cap) &&
      chunk_reserve(ch, ch->n + 1, spec->keep_weight))
    return set_error(c, E_NOMEM, "out of memory");
  push_edge(ch, s, d, w);
  return 0;
}

static int push_isolated(gasp__piece *o, gasp_gid v) {
  if (o->niso == o->iso_cap) {
    uint64_t ncap = o->iso_cap ? 2 * o->iso_cap : 64;
    gasp_gid *n = gasp__realloc(o->iso, ncap * sizeof *n);
    if (!n) return -1;
    o->iso = n;
    o->iso_cap = ncap;
  }
  o->iso[o->niso++] = v;
  return 0;
}

static int parse_adj_line(cursor *c, const gasp__text_spec *spec) {
  uint64_t s = 0, n = 0, d = 0;
  if (parse_id(c, spec->id_name, &s)) return -1;
  skip_sep(c);
  if (is_eol(c->p, c->end))
    return set_error(c, E_PARSE, "missing column: expected 'src n dst...'");
  if (parse_id(c, "neighbour count", &n)) return -1;
  if (n == 0 && push_isolated(c->out, s))
    return set_error(c, E_NOMEM, "out of memory");
  gasp__chunk *ch = &c->out->chunk;
  for (uint64_t k = 0; k < n; k++) {
    skip_sep(c);
    if (is_eol(c->p, c->end))
      return set_error(c, E_PARSE, "expected %llu neighbours, found %llu",
                       (unsigned long long)n, (unsigned long long)k);
    if (parse_id(c, spec->id_name, &d)) return -1;
    if (GASP__UNLIKELY(ch->n == ch->cap) && chunk_reserve(ch, ch->n + 1, 0))
      return set_error(c, E_NOMEM, "out of memory");
    push_edge(ch, s, d, 1.0);
  }
  const char *p = c->p;
  while (p < c->end && (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r'))
    p++;
  if (p < c->end && *p != '\n')
    return set_error(c, E_PARSE, "more neighbours than the count %llu",
                     (unsigned long long)n);
  c->p = p < c->end ? p + 1 : p;
  return 0;
}

/* ---- lda-c: "N w:c w:c ..." ----------------------------------------- */

static int parse_ldac_line(cursor *c, const gasp__text_spec *spec) {
  uint64_t n = 0, w = 0;
  double cnt = 0;
  gasp_gid doc = c->line - 1;
  if (parse_id(c, "term count", &n)) return -1;
  if (n == 0 && push_isolated(c->out, doc))
    return set_error(c, E_NOMEM, "out of memory");
  gasp__chunk *ch = &c->out->chunk;
  for (uint64_t k = 0; k < n; k++) {
    skip_sep(c);
    if (is_eol(c->p, c->end))
      return set_error(c, E_PARSE, "the line declares %llu terms but has %llu",
                       (unsigned long long)n, (unsigned long long)k);
    const char *colon = c->p;
    while (colon < c->end && *colon >= '0' && *colon <= '9')
      colon++;
    if (colon >= c->end || *colon != ':') {
      char tok[40];
      if (*c->p == '-')
        return set_error(c, E_RANGE, "negative word id %s",
                         token_text(c->p, c->end, tok, sizeof tok));
      return set_error(c, E_PARSE, "malformed term '%s' (expected word:count)",
                       token_text(c->p, c->end, tok, sizeof tok));
    }
    cursor wc = *c;
    wc.end = colon;
    if (parse_id(&wc, spec->dst_name, &w)) return -1;
    c->p = colon + 1;
    if (parse_weight(c, spec, &cnt)) return -1;
    if (range_check(c, w, spec->min_id, spec->max_dst, spec->dst_name))
      return -1;
    if (GASP__UNLIKELY(ch->n == ch->cap) && chunk_reserve(ch, ch->n + 1, 1))
      return set_error(c, E_NOMEM, "out of memory");
    push_edge(ch, doc, w, cnt);
  }
  const char *p = c->p;
  while (p < c->end && (*p == ' ' || *p == '\t' || *p == '\r'))
    p++;
  if (p < c->end && *p != '\n')
    return set_error(c, E_PARSE, "more terms than the declared %llu",
                     (unsigned long long)n);
  c->p = p < c->end ? p + 1 : p;
  return 0;
}

void gasp__piece_release(gasp__piece *o) {
  gasp__chunk_release(&o->chunk);
  free(o->iso);
  o->iso = NULL;
  o->niso = o->iso_cap = 0;
}

int gasp__parse_piece(const gasp__text_spec *spec, const char *buf, size_t n,
                      gasp__piece *out) {
  memset(out, 0, sizeof *out);
  cursor c = {buf, buf + n, out, 1};
  /* Preallocate for the densest possible edge list ("1 2\n" per 4 bytes):
   * untouched pages cost nothing, and the chunk is shrunk at the end. */
  if (spec->kind == GASP__TEXT_EDGES &&
      chunk_reserve(&out->chunk, n / 4 + 16, spec->keep_weight)) {
    set_error(&c, E_NOMEM, "out of memory");
    return out->err_code;
  }
  while (c.p < c.end) {
    const char *p = c.p;
    while (p < c.end && (*p == ' ' || *p == '\t'))
      p++;
    if (p >= c.end) break;
    if (spec->kind == GASP__TEXT_LDAC && (*p == '\n' || *p == '\r')) {
      set_error(&c, E_PARSE,
                "empty line (a document without words is "
                "written '0')");
      break;
    }
    if ((*p < '0' || *p > '9') &&
        (*p == '\n' || *p == '\r' || (*p && strchr(spec->comments, *p)))) {
      const char *nl = memchr(p, '\n', (size_t)(c.end - p));
      c.p = nl ? nl + 1 : c.end;
      c.line++;
      continue;
    }
    c.p = p;
    int rc = spec->kind == GASP__TEXT_ADJ    ? parse_adj_line(&c, spec)
             : spec->kind == GASP__TEXT_LDAC ? parse_ldac_line(&c, spec)
                                             : parse_edge_line(&c, spec);
    if (rc) break;
    out->entries++;
    c.line++;
  }
  out->lines = c.line - 1;
  /* Shrink the preallocation to what was used. */
  gasp__chunk *ch = &out->chunk;
  if (ch->cap > ch->n + 1024) {
    uint64_t keep = ch->n ? ch->n : 1;
    gasp_gid *s = gasp__realloc(ch->src, keep * sizeof *s);
    gasp_gid *d = gasp__realloc(ch->dst, keep * sizeof *d);
    if (s) ch->src = s;
    if (d) ch->dst = d;
    if (ch->w) {
      double *w = gasp__realloc(ch->w, keep * sizeof *w);
      if (w) ch->w = w;
    }
    ch->cap = keep;
  }
  return out->err_code;
}

int gasp__count_columns(const char *line, size_t n) {
  const char *p = line, *end = line + n;
  int cols = 0;
  while (p < end && *p != '\n') {
    while (p < end && (is_sep(*p) || *p == '\r'))
      p++;
    if (p >= end || *p == '\n') break;
    cols++;
    while (p < end && !is_sep(*p) && *p != '\n' && *p != '\r')
      p++;
  }
  return cols;
}

void gasp__text_spec_init(gasp__text_spec *s) {
  memset(s, 0, sizeof *s);
  s->kind = GASP__TEXT_EDGES;
  s->ncols = 2;
  s->comments = "#%";
  s->min_id = 0;
  s->max_src = s->max_dst = GASP_GID_MAX;
  s->id_name = "id";
  s->src_name = "source id";
  s->dst_name = "target id";
  s->weight_name = "weight";
}
