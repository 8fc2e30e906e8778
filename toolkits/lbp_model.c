/*
 * lbp_model.c -- the inputs and outputs of `gasp lbp` (see lbp_model.h):
 * the factor-list format, PGM images (P2, P5) as grid MRFs with Gaussian
 * unaries and Potts or truncated linear smoothing, seeded synthetic noisy
 * images, and the PGM and belief writers (atomic, through cli_out).
 */
#include "lbp_model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the model as read -------------------------------------------------- */

void lbp_model_free(lbp_model *md) {
  free(md->id);
  free(md->card);
  free(md->unary);
  free(md->u);
  free(md->v);
  free(md->poff);
  free(md->pair);
  free(md->hkey);
  free(md->hval);
  free(md->pix);
  free(md->truth);
}

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

static int64_t hfind(const lbp_model *md, gasp_gid id) {
  if (!md->hcap) return -1;
  for (uint64_t i = mix(id) & (md->hcap - 1);; i = (i + 1) & (md->hcap - 1)) {
    if (!md->hval[i]) return -1;
    if (md->hkey[i] == id) return (int64_t)md->hval[i] - 1;
  }
}

static int hput(lbp_model *md, gasp_gid id, uint64_t idx) {
  if (2 * (md->n + 1) > md->hcap) {
    uint64_t nc = md->hcap ? 2 * md->hcap : 1024;
    uint64_t *nk = calloc(nc, sizeof *nk), *nv = calloc(nc, sizeof *nv);
    if (!nk || !nv) {
      free(nk);
      free(nv);
      return -1;
    }
    for (uint64_t i = 0; i < md->hcap; i++)
      if (md->hval[i]) {
        uint64_t j = mix(md->hkey[i]) & (nc - 1);
        while (nv[j])
          j = (j + 1) & (nc - 1);
        nk[j] = md->hkey[i], nv[j] = md->hval[i];
      }
    free(md->hkey);
    free(md->hval);
    md->hkey = nk, md->hval = nv, md->hcap = nc;
  }
  uint64_t j = mix(id) & (md->hcap - 1);
  while (md->hval[j])
    j = (j + 1) & (md->hcap - 1);
  md->hkey[j] = id, md->hval[j] = idx + 1;
  return 0;
}

/* grows *p (of *cap elements of size sz) to hold need; 0 or -1 */
static int grow(void *pp, uint64_t *cap, uint64_t need, size_t sz) {
  if (need <= *cap) return 0;
  uint64_t nc = *cap ? *cap : 256;
  while (nc < need)
    nc *= 2;
  void *np = realloc(*(void **)pp, nc * sz);
  if (!np) return -1;
  *(void **)pp = np;
  *cap = nc;
  return 0;
}

/* ---- the factor-list format ---------------------------------------------- */

static int skip_ws(const char **p) {
  while (**p == ' ' || **p == '\t')
    (*p)++;
  return **p != 0;
}

/* The next potential of a table: finite and >= 0; 0 or -1 (reported). */
static int read_pot(const char **p, double *out, const char *path, uint64_t no,
                    const char *what, uint64_t i) {
  char *end;
  if (!skip_ws(p)) return 1;
  double x = strtod(*p, &end);
  if (end == *p || (*end && *end != ' ' && *end != '\t')) {
    cli_error("%s:%llu: %s potential %llu is not a number", path,
              (unsigned long long)no, what, (unsigned long long)i + 1);
    return -1;
  }
  if (!(x >= 0) || !isfinite(x)) {
    cli_error("%s:%llu: %s potential %llu is %g (potentials are finite and "
              ">= 0)",
              path, (unsigned long long)no, what, (unsigned long long)i + 1, x);
    return -1;
  }
  *p = end;
  *out = x;
  return 0;
}

static int read_id(const char **p, gasp_gid *out) {
  char *end;
  if (!skip_ws(p) || **p < '0' || **p > '9') return -1;
  errno = 0;
  unsigned long long x = strtoull(*p, &end, 10);
  if (errno || x > GASP_GID_MAX || (*end && *end != ' ' && *end != '\t'))
    return -1;
  *p = end;
  *out = x;
  return 0;
}

/* Reads `count` potentials into dst; checks that none is left over and
 * that not all are 0.  0 or an exit code. */
static int read_table(const char **p, double *dst, uint64_t count,
                      const char *path, uint64_t no, const char *what,
                      const char *size) {
  double s = 0;
  for (uint64_t i = 0; i < count; i++) {
    int r = read_pot(p, &dst[i], path, no, what, i);
    if (r < 0) return EXIT_USAGE;
    if (r > 0) {
      cli_error("%s:%llu: the %s table needs %s = %llu values, got %llu", path,
                (unsigned long long)no, what, size, (unsigned long long)count,
                (unsigned long long)i);
      return EXIT_USAGE;
    }
    s += dst[i];
  }
  if (skip_ws(p)) {
    cli_error("%s:%llu: the %s table needs %s = %llu values, got more", path,
              (unsigned long long)no, what, size, (unsigned long long)count);
    return EXIT_USAGE;
  }
  if (!(s > 0)) {
    cli_error("%s:%llu: the %s potentials are all 0", path,
              (unsigned long long)no, what);
    return EXIT_USAGE;
  }
  return 0;
}

int lbp_oom(void) {
  cli_error("lbp: out of memory");
  return EXIT_RUNTIME;
}

static int factor_line(lbp_model *md, const char *path, uint64_t no,
                       const char *q) {
  char size[64];
  if (!strncmp(q, "var", 3) && (q[3] == ' ' || q[3] == '\t')) {
    q += 3;
    gasp_gid id;
    if (read_id(&q, &id)) {
      cli_error("%s:%llu: expected 'var ID K p_1 ... p_K'", path,
                (unsigned long long)no);
      return EXIT_USAGE;
    }
    if (hfind(md, id) >= 0) {
      cli_error("%s:%llu: variable %llu is declared twice", path,
                (unsigned long long)no, (unsigned long long)id);
      return EXIT_USAGE;
    }
    gasp_gid k;
    if (read_id(&q, &k) || k < 1 || k > 65536) {
      cli_error("%s:%llu: variable %llu: expected its number of states K "
                "(1 .. 65536) after the id",
                path, (unsigned long long)no, (unsigned long long)id);
      return EXIT_USAGE;
    }
    if (grow(&md->id, &md->ucap, md->n + 1, sizeof *md->id) ||
        !(md->card = realloc(md->card, md->ucap * sizeof *md->card)) ||
        grow(&md->unary, &md->ulcap, md->ulen + k, sizeof *md->unary) ||
        hput(md, id, md->n))
      return lbp_oom();
    snprintf(size, sizeof size, "K");
    int rc = read_table(&q, md->unary + md->ulen, k, path, no, "unary", size);
    if (rc) return rc;
    md->id[md->n] = id;
    md->card[md->n] = (uint32_t)k;
    md->ulen += k;
    md->n++;
    return 0;
  }
  if (!strncmp(q, "edge", 4) && (q[4] == ' ' || q[4] == '\t')) {
    q += 4;
    gasp_gid a, b;
    if (read_id(&q, &a) || read_id(&q, &b)) {
      cli_error("%s:%llu: expected 'edge U V t_11 ... t_KuKv'", path,
                (unsigned long long)no);
      return EXIT_USAGE;
    }
    int64_t ia = hfind(md, a), ib = hfind(md, b);
    if (ia < 0 || ib < 0) {
      cli_error("%s:%llu: unknown variable %llu (declare it with a 'var' "
                "line before its edges)",
                path, (unsigned long long)no,
                (unsigned long long)(ia < 0 ? a : b));
      return EXIT_USAGE;
    }
    if (ia == ib) {
      cli_error("%s:%llu: an edge joins variable %llu to itself", path,
                (unsigned long long)no, (unsigned long long)a);
      return EXIT_USAGE;
    }
    uint64_t ka = md->card[ia], kb = md->card[ib];
    if (grow(&md->u, &md->mcap, md->m + 1, sizeof *md->u) ||
        !(md->v = realloc(md->v, md->mcap * sizeof *md->v)) ||
        grow(&md->pair, &md->plcap, md->plen + ka * kb, sizeof *md->pair))
      return lbp_oom();
    snprintf(size, sizeof size, "%llu x %llu", (unsigned long long)ka,
             (unsigned long long)kb);
    int rc = read_table(&q, md->pair + md->plen, ka * kb, path, no, "pairwise",
                        size);
    if (rc) return rc;
    md->u[md->m] = (uint64_t)ia, md->v[md->m] = (uint64_t)ib;
    md->plen += ka * kb;
    md->m++;
    return 0;
  }
  cli_error("%s:%llu: expected a 'var' or 'edge' line", path,
            (unsigned long long)no);
  return EXIT_USAGE;
}

static int read_factors(lbp_model *md, const char *path) {
  gasp_text_reader *r = NULL;
  gasp_error err;
  int rc = gasp_text_reader_open(&r, path, &err);
  if (rc) return cli_fail(&err, rc);
  const char *line;
  size_t len;
  uint64_t no;
  while ((rc = gasp_text_reader_next(r, &line, &len, &no, &err)) == 1) {
    const char *q = line;
    if (!skip_ws(&q) || *q == '#' || *q == '%') continue;
    if ((rc = factor_line(md, path, no, q))) break;
  }
  if (rc < 0) rc = cli_fail(&err, rc);
  gasp_text_reader_free(&r);
  if (!rc && md->n == 0) {
    cli_error("%s: no variables ('var ID K p_1 ... p_K' lines)", path);
    rc = EXIT_USAGE;
  }
  return rc;
}

/* ---- images ------------------------------------------------------------- */

typedef struct pgm_in {
  const unsigned char *b;
  size_t n, i;
  uint64_t line;
} pgm_in;

/* the next header number (comments '#' to the end of the line) */
static int pgm_num(pgm_in *s, unsigned long *out) {
  for (;;) {
    while (s->i < s->n && (s->b[s->i] == ' ' || s->b[s->i] == '\t' ||
                           s->b[s->i] == '\n' || s->b[s->i] == '\r')) {
      if (s->b[s->i] == '\n') s->line++;
      s->i++;
    }
    if (s->i < s->n && s->b[s->i] == '#') {
      while (s->i < s->n && s->b[s->i] != '\n')
        s->i++;
      continue;
    }
    break;
  }
  if (s->i >= s->n || s->b[s->i] < '0' || s->b[s->i] > '9') return -1;
  unsigned long x = 0;
  while (s->i < s->n && s->b[s->i] >= '0' && s->b[s->i] <= '9') {
    x = x * 10 + (s->b[s->i++] - '0');
    if (x > 1ul << 31) return -1;
  }
  *out = x;
  return 0;
}

static int read_pgm(lbp_model *md, const char *path, const unsigned char *b,
                    size_t n) {
  pgm_in s = {b, n, 2, 1};
  int ascii = b[1] == '2';
  unsigned long w, h, maxval;
  if (pgm_num(&s, &w) || pgm_num(&s, &h) || pgm_num(&s, &maxval)) {
    cli_error("%s:%llu: a PGM header is 'P2' or 'P5', width, height and "
              "maxval",
              path, (unsigned long long)s.line);
    return EXIT_USAGE;
  }
  if (w < 1 || h < 1 || (uint64_t)w * h > (1u << 28) || maxval < 1 ||
      maxval > 65535) {
    cli_error("%s:%llu: width %lu, height %lu, maxval %lu: need 1 .. 2^28 "
              "pixels and maxval 1 .. 65535",
              path, (unsigned long long)s.line, w, h, maxval);
    return EXIT_USAGE;
  }
  uint64_t np = (uint64_t)w * h;
  md->w = (int)w, md->h = (int)h;
  if (!(md->pix = malloc(np * sizeof *md->pix))) return lbp_oom();
  if (ascii) {
    for (uint64_t i = 0; i < np; i++) {
      unsigned long x;
      if (pgm_num(&s, &x)) {
        cli_error("%s:%llu: pixel %llu of %llu: %s", path,
                  (unsigned long long)s.line, (unsigned long long)i + 1,
                  (unsigned long long)np,
                  s.i >= s.n ? "the file ends (truncated)" : "not a number");
        return EXIT_USAGE;
      }
      if (x > maxval) {
        cli_error("%s:%llu: pixel %llu is %lu, above maxval %lu", path,
                  (unsigned long long)s.line, (unsigned long long)i + 1, x,
                  maxval);
        return EXIT_USAGE;
      }
      md->pix[i] = 255.0 * (double)x / (double)maxval;
    }
    return 0;
  }
  /* P5: one whitespace byte after maxval, then the pixels */
  if (s.i < s.n && s.b[s.i] == '\n') s.line++;
  s.i++;
  size_t bpp = maxval < 256 ? 1 : 2;
  if (s.i > s.n || (s.n - s.i) / bpp < np) {
    cli_error("%s:%llu: truncated: the pixel data holds %llu of %llu pixels",
              path, (unsigned long long)s.line,
              (unsigned long long)(s.i > s.n ? 0 : (s.n - s.i) / bpp),
              (unsigned long long)np);
    return EXIT_USAGE;
  }
  for (uint64_t i = 0; i < np; i++) {
    unsigned x = bpp == 1
                     ? s.b[s.i + i]
                     : (unsigned)s.b[s.i + 2 * i] << 8 | s.b[s.i + 2 * i + 1];
    if (x > maxval) {
      cli_error("%s:%llu: pixel %llu is %u, above maxval %lu", path,
                (unsigned long long)s.line, (unsigned long long)i + 1, x,
                maxval);
      return EXIT_USAGE;
    }
    md->pix[i] = 255.0 * x / (double)maxval;
  }
  return 0;
}

/* A seeded noisy image: flat shapes at a few of the K levels plus
 * Gaussian noise of standard deviation `noise` (clipped to 0 .. 255). */
int lbp_synthetic(lbp_model *md, int n, int k, double noise, uint64_t seed) {
  uint64_t np = (uint64_t)n * n;
  md->w = md->h = n;
  md->pix = malloc(np * sizeof *md->pix);
  md->truth = malloc(np * sizeof *md->truth);
  if (!md->pix || !md->truth) return lbp_oom();
  uint64_t st = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++) {
      double fx = (x + 0.5) / n, fy = (y + 0.5) / n, lv = 0.25;
      if (fx > 0.1 && fx < 0.5 && fy > 0.1 && fy < 0.6) lv = 0.75;
      double dx = fx - 0.65, dy = fy - 0.55;
      if (dx * dx + dy * dy < 0.22 * 0.22) lv = 1.0;
      if (fy > 0.8 && fy < 0.9 && fx > 0.15) lv = 0.0;
      if (fy > 0.05 && fy < 0.35 && fx > 0.6 && fx < 0.95 &&
          fy - 0.05 > (0.95 - fx))
        lv = 0.5;
      uint32_t l = (uint32_t)lround(lv * (k - 1));
      /* Box-Muller from two 53-bit uniforms */
      double u1 = ((mix(st++) >> 11) + 0.5) / 9007199254740992.0;
      double u2 = ((mix(st++) >> 11) + 0.5) / 9007199254740992.0;
      double g = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
      double v = 255.0 * l / (k - 1) + noise * g;
      md->truth[(uint64_t)y * n + x] = l;
      md->pix[(uint64_t)y * n + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  return 0;
}

/* The grid MRF of an image: a variable per pixel (row-major), unary
 * exp(-(I - L_k)^2 / 2 sigma^2) scaled so its largest entry is 1, and one
 * smoothing table for every 4-neighbour pair. */
int lbp_grid_model(lbp_model *md, const lbp_args *a) {
  int k = a->colors, w = md->w, h = md->h;
  uint64_t np = (uint64_t)w * h;
  uint64_t m = (uint64_t)(w - 1) * h + (uint64_t)w * (h - 1);
  md->k = k;
  md->n = np;
  md->m = m;
  md->card = malloc(np * sizeof *md->card);
  md->unary = malloc(np * k * sizeof *md->unary);
  md->u = malloc((m ? m : 1) * sizeof *md->u);
  md->v = malloc((m ? m : 1) * sizeof *md->v);
  md->poff = calloc(m ? m : 1, sizeof *md->poff);
  md->pair = malloc((size_t)k * k * sizeof *md->pair);
  if (!md->card || !md->unary || !md->u || !md->v || !md->poff || !md->pair)
    return lbp_oom();
  for (uint64_t i = 0; i < np; i++) {
    md->card[i] = (uint32_t)k;
    double *t = md->unary + i * k, dmin = INFINITY;
    for (int l = 0; l < k; l++) {
      double d = md->pix[i] - 255.0 * l / (k - 1);
      t[l] = d * d;
      if (t[l] < dmin) dmin = t[l];
    }
    for (int l = 0; l < k; l++)
      t[l] = exp(-(t[l] - dmin) / (2 * a->sigma * a->sigma));
  }
  for (int x = 0; x < k; x++)
    for (int y = 0; y < k; y++) {
      double d = a->linear ? fmin(abs(x - y), a->truncate) : (x != y);
      md->pair[x * k + y] = exp(-a->smoothing * d);
    }
  uint64_t f = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint64_t i = (uint64_t)y * w + x;
      if (x + 1 < w) md->u[f] = i, md->v[f++] = i + 1;
      if (y + 1 < h) md->u[f] = i, md->v[f++] = i + w;
    }
  return 0;
}

/* Writes a P5 image of levels (0 .. k-1, scaled to 0 .. 255) or of
 * intensities; 0 or an exit code, nothing left behind on failure. */
int lbp_write_pgm(const char *path, int w, int h, const uint32_t *lv, int k,
                  const double *pix) {
  cli_out o;
  int rc = cli_out_open(&o, path);
  if (rc) return rc;
  fprintf(o.f, "P5\n%d %d\n255\n", w, h);
  for (uint64_t i = 0; i < (uint64_t)w * h; i++)
    fputc(lv ? (int)lround(255.0 * lv[i] / (k - 1)) : (int)lround(pix[i]), o.f);
  return cli_out_close(&o, 1);
}

typedef struct id_ix {
  gasp_gid id;
  uint64_t i;
} id_ix;

static int by_id(const void *x, const void *y) {
  const id_ix *a = x, *b = y;
  return a->id < b->id ? -1 : a->id > b->id;
}

/* Writes 'id<TAB>state<TAB>b_1 ... b_K' per variable, ascending id (an
 * image's pixels: their row-major index); 0 or an exit code. */
int lbp_write_beliefs(const char *path, const lbp_model *md, const double *b,
                      const uint32_t *map) {
  id_ix *ord = malloc(md->n * sizeof *ord);
  uint64_t *off = malloc((md->n + 1) * sizeof *off);
  if (!ord || !off) {
    free(ord);
    free(off);
    return lbp_oom();
  }
  off[0] = 0;
  for (uint64_t i = 0; i < md->n; i++) {
    ord[i].id = md->id ? md->id[i] : i;
    ord[i].i = i;
    off[i + 1] = off[i] + md->card[i];
  }
  if (md->id) qsort(ord, md->n, sizeof *ord, by_id);
  cli_out o;
  int rc = cli_out_open(&o, path);
  if (!rc) {
    for (uint64_t r = 0; r < md->n; r++) {
      uint64_t i = ord[r].i;
      fprintf(o.f, "%llu\t%u", (unsigned long long)ord[r].id, map[i]);
      for (uint64_t x = off[i]; x < off[i + 1]; x++)
        fprintf(o.f, "\t%.10g", b[x]);
      fputc('\n', o.f);
    }
    rc = cli_out_close(&o, 1);
  }
  free(ord);
  free(off);
  return rc;
}

/* Reads -i: a PGM by its magic number, else a factor list. */
int lbp_read_input(lbp_model *md, const char *path, const lbp_args *a,
                   int *image) {
  *image = 0;
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : NULL;
  if (f) {
    char m[2];
    if (fread(m, 1, 2, f) == 2 && m[0] == 'P' && (m[1] == '2' || m[1] == '5')) {
      /* the whole image in memory */
      size_t cap = 1 << 16, n = 0;
      unsigned char *b = malloc(cap);
      rewind(f);
      size_t got;
      while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
          unsigned char *nb = realloc(b, cap *= 2);
          if (!nb) free(b);
          b = nb;
        }
      }
      int bad = ferror(f);
      fclose(f);
      if (!b) return lbp_oom();
      if (bad) {
        free(b);
        cli_error("%s: %s", path, strerror(errno));
        return EXIT_RUNTIME;
      }
      int rc = read_pgm(md, path, b, n);
      free(b);
      if (rc) return rc;
      *image = 1;
      return lbp_grid_model(md, a);
    }
    fclose(f);
  }
  return read_factors(md, cli_input_path(path));
}
