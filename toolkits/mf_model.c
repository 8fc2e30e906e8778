/*
 * mf_model.c -- reading and writing matrix factorization models (the
 * layout is in mf_model.h), and predictions from a loaded model.
 */
#include "mf_model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* ---- writing ---------------------------------------------------------- */

int mf_out_open(mf_outfile *o, const char *prefix, const char *suffix) {
  memset(o, 0, sizeof *o);
  size_t n = strlen(prefix) + strlen(suffix) + 1;
  o->path = malloc(n);
  if (!o->path) {
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  snprintf(o->path, n, "%s%s", prefix, suffix);
  int rc = cli_out_open(&o->out, o->path);
  if (rc) {
    free(o->path);
    o->path = NULL;
    return rc;
  }
  o->f = o->out.f;
  return 0;
}

/* Closes and renames into place when ok, else removes the temporary. */
int mf_out_close(mf_outfile *o, int ok) {
  int rc = o->f ? cli_out_close(&o->out, ok) : 0;
  free(o->path);
  memset(o, 0, sizeof *o);
  return rc;
}

static void write_rows(FILE *f, const gasp_graph *g, const float *F,
                       const mf_model *m, gasp_vid lo, gasp_vid hi) {
  int kp = mf_kpad(m->k);
  for (gasp_vid v = lo; v < hi; v++) {
    const float *x = F + (size_t)v * (size_t)m->stride;
    fprintf(f, "%" PRIu64, (uint64_t)gasp_graph_gid(g, v));
    for (int c = 0; c < m->k; c++)
      fprintf(f, "\t%.9g", x[c]);
    if (m->biased) fprintf(f, "\t%.9g", x[kp]);
    fputc('\n', f);
  }
}

int mf_model_write(const char *prefix, const mf_model *m, const gasp_graph *g,
                   const float *F) {
  gasp_vid nl = gasp_graph_num_left(g), nv = gasp_graph_num_vertices(g);
  mf_outfile o[3];
  int rc = 0, opened = 0;
  static const char *suffix[3] = {".users.tsv", ".items.tsv", ".model"};
  for (; opened < 3; opened++)
    if ((rc = mf_out_open(&o[opened], prefix, suffix[opened]))) break;
  if (!rc) {
    write_rows(o[0].f, g, F, m, 0, nl);
    write_rows(o[1].f, g, F, m, nl, nv);
    fprintf(o[2].f,
            "format\tgasp-mf 1\nmethod\t%s\nrank\t%d\nbiased\t%d\n"
            "implicit\t%d\nmean\t%.17g\nmin_rating\t%.17g\nmax_rating\t%.17g\n"
            "users\t%u\nitems\t%u\n",
            m->method, m->k, m->biased, m->implicit, m->mean, m->rmin, m->rmax,
            nl, nv - nl);
  }
  for (int i = 0; i < opened; i++) {
    int r = mf_out_close(&o[i], rc == 0);
    if (!rc) rc = r;
  }
  return rc;
}

/* ---- reading ---------------------------------------------------------- */

/* Skips one separator: blanks with at most one comma or "::". */
static const char *skip_sep(const char *p) {
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == ',')
    p++;
  else if (p[0] == ':' && p[1] == ':')
    p += 2;
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static int parse_gid(const char **pp, gasp_gid *out) {
  const char *p = *pp;
  if (*p < '0' || *p > '9') return -1;
  uint64_t v = 0;
  while (*p >= '0' && *p <= '9') {
    if (v > (GASP_GID_MAX - 9) / 10) return -1;
    v = v * 10 + (uint64_t)(*p++ - '0');
  }
  if (*p && *p != ' ' && *p != '\t' && *p != ',' && *p != ':') return -1;
  *out = v;
  *pp = p;
  return 0;
}

int mf_parse_pair(const char *line, gasp_gid *u, gasp_gid *i, int need_item,
                  char *why, size_t whylen) {
  const char *p = line;
  while (*p == ' ' || *p == '\t')
    p++;
  if (parse_gid(&p, u)) {
    snprintf(why, whylen, "expected a user id, found '%.40s'", line);
    return -1;
  }
  if (!need_item) return 0;
  p = skip_sep(p);
  if (!*p) {
    snprintf(why, whylen, "missing column: expected 'user item'");
    return -1;
  }
  const char *s = p;
  if (parse_gid(&p, i)) {
    snprintf(why, whylen, "expected an item id, found '%.40s'", s);
    return -1;
  }
  return 0;
}

/* A value in 0..max, else -1 (no overflow on a corrupt file; rows are
 * sized by the rank, so it is range-checked before use). */
static int small_int(const char *s, long max) {
  char *e;
  errno = 0;
  long v = strtol(s, &e, 10);
  return errno || *e || e == s || v < 0 || v > max ? -1 : (int)v;
}

static int read_meta(const char *path, mf_model *m) {
  gasp_text_reader *r = NULL;
  gasp_error err;
  int rc = gasp_text_reader_open(&r, path, &err);
  if (rc) return cli_fail(&err, rc);
  const char *line;
  size_t len;
  uint64_t ln;
  int seen = 0;
  m->k = 0;
  while ((rc = gasp_text_reader_next(r, &line, &len, &ln, &err)) == 1) {
    char key[32], val[64];
    if (!len) continue;
    if (sscanf(line, "%31s %63s", key, val) != 2) {
      cli_error("%s:%" PRIu64 ": expected 'key<TAB>value'", path, ln);
      rc = -2;
      break;
    }
    if (!strcmp(key, "format") && strcmp(val, "gasp-mf")) {
      cli_error("%s:%" PRIu64 ": not a gasp model file", path, ln);
      rc = -2;
      break;
    }
    if (!strcmp(key, "format"))
      seen |= 1;
    else if (!strcmp(key, "method"))
      snprintf(m->method, sizeof m->method, "%s", val);
    else if (!strcmp(key, "rank"))
      m->k = small_int(val, 4096);
    else if (!strcmp(key, "biased"))
      m->biased = small_int(val, 1);
    else if (!strcmp(key, "implicit"))
      m->implicit = small_int(val, 1);
    else if (!strcmp(key, "mean"))
      m->mean = strtod(val, NULL);
    else if (!strcmp(key, "min_rating"))
      m->rmin = strtod(val, NULL);
    else if (!strcmp(key, "max_rating"))
      m->rmax = strtod(val, NULL);
  }
  gasp_text_reader_free(&r);
  if (rc == -2) return EXIT_USAGE;
  if (rc < 0) return cli_fail(&err, rc);
  if (!(seen & 1) || m->k < 1 || m->k > 4096 || m->biased < 0 ||
      m->implicit < 0) {
    cli_error("%s: not a gasp model file (no format line or rank)", path);
    return EXIT_USAGE;
  }
  m->stride = mf_stride(m->k, m->biased);
  return 0;
}

static int read_side(const char *path, const mf_model *m, mf_side *s) {
  gasp_text_reader *r = NULL;
  gasp_error err;
  int rc = gasp_text_reader_open(&r, path, &err);
  if (rc) return cli_fail(&err, rc);
  uint64_t cap = 1024;
  s->n = 0;
  s->id = malloc(cap * sizeof *s->id);
  s->f = calloc(cap * (size_t)m->stride, sizeof *s->f);
  const char *line;
  size_t len;
  uint64_t ln;
  int cols = m->k + (m->biased ? 1 : 0), kp = mf_kpad(m->k);
  while (s->id && s->f &&
         (rc = gasp_text_reader_next(r, &line, &len, &ln, &err)) == 1) {
    if (!len || line[0] == '#') continue;
    if (s->n == cap) {
      gasp_gid *ni = realloc(s->id, 2 * cap * sizeof *ni);
      if (ni) s->id = ni;
      float *nf =
          ni ? realloc(s->f, 2 * cap * (size_t)m->stride * sizeof *nf) : NULL;
      if (!nf) {
        rc = GASP_ENOMEM;
        break;
      }
      memset(nf + cap * (size_t)m->stride, 0,
             cap * (size_t)m->stride * sizeof *nf);
      s->f = nf;
      cap *= 2;
    }
    const char *p = line;
    gasp_gid id;
    if (parse_gid(&p, &id) || (s->n && id <= s->id[s->n - 1])) {
      cli_error("%s:%" PRIu64 ": %s", path, ln,
                s->n && !parse_gid(&(const char *){line}, &id)
                    ? "ids must be unique and ascending"
                    : "expected an id");
      rc = -2;
      break;
    }
    float *x = s->f + s->n * (size_t)m->stride;
    for (int c = 0; c < cols; c++) {
      char *e;
      double v = strtod(p, &e);
      if (e == p || (*e && *e != '\t' && *e != ' ')) {
        cli_error("%s:%" PRIu64 ": expected %d values after the id, found %d",
                  path, ln, cols, c);
        rc = -2;
        break;
      }
      x[c < m->k ? c : kp] = (float)v;
      p = e;
    }
    if (rc == -2) break;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p) {
      cli_error("%s:%" PRIu64 ": more than %d values after the id", path, ln,
                cols);
      rc = -2;
      break;
    }
    s->id[s->n++] = id;
  }
  gasp_text_reader_free(&r);
  if (!s->id || !s->f || rc == GASP_ENOMEM) {
    cli_error("%s: out of memory", path);
    return EXIT_RUNTIME;
  }
  if (rc == -2) return EXIT_USAGE;
  if (rc < 0) return cli_fail(&err, rc);
  return 0;
}

int mf_model_read(const char *prefix, mf_model *m) {
  memset(m, 0, sizeof *m);
  size_t n = strlen(prefix) + 16;
  char *path = malloc(n);
  if (!path) return EXIT_RUNTIME;
  int rc;
  snprintf(path, n, "%s.model", prefix);
  if (!(rc = read_meta(path, m))) {
    snprintf(path, n, "%s.users.tsv", prefix);
    if (!(rc = read_side(path, m, &m->users))) {
      snprintf(path, n, "%s.items.tsv", prefix);
      rc = read_side(path, m, &m->items);
    }
  }
  free(path);
  if (rc) mf_model_free(m);
  return rc;
}

void mf_model_free(mf_model *m) {
  free(m->users.id);
  free(m->users.f);
  free(m->items.id);
  free(m->items.f);
  memset(m, 0, sizeof *m);
}

int64_t mf_side_find(const mf_side *s, gasp_gid id) {
  uint64_t lo = 0, hi = s->n;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (s->id[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < s->n && s->id[lo] == id ? (int64_t)lo : -1;
}

double mf_model_predict(const mf_model *m, int64_t u, int64_t i) {
  int kp = mf_kpad(m->k);
  const float *x = u >= 0 ? m->users.f + (size_t)u * (size_t)m->stride : NULL;
  const float *y = i >= 0 ? m->items.f + (size_t)i * (size_t)m->stride : NULL;
  double p;
  if (x && y) {
    mf_sgd_par sp = {m->k, m->stride, m->biased, 0, 0, 0, (float)m->mean};
    p = mf_predict(&sp, x, y);
  } else if (m->implicit) {
    p = 0;
  } else {
    p = m->mean;
    if (m->biased && x) p += x[kp];
    if (m->biased && y) p += y[kp];
  }
  if (!m->implicit) {
    if (p < m->rmin) p = m->rmin;
    if (p > m->rmax) p = m->rmax;
  }
  return p;
}
