/*
 * cmd_kmeans.c -- `gasp kmeans`: the command over gasp_kmeans
 * (lib_kmeans.c, Lloyd's rounds on the sync engine with k-means++
 * seeding): the points file read once into a vertex per point (every rank
 * in a distributed run), the call, and the clusters gathered, summarised
 * and written, with the centres.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The points as read: ids and rows in file order. */
typedef struct points {
  uint64_t n, cap;
  int dim;
  gasp_gid *id;
  double *x;
} points;

enum { O_CENTRES = OPT_FIRST_PRIVATE, O_K };

typedef struct km_args {
  int k;
  const char *centres_out;
} km_args;

static int handle(int opt, const char *arg, void *u) {
  km_args *a = u;
  switch (opt) {
  case 'k':
  case O_K:
    if (cli_parse_int("-k", arg, &a->k)) return 1;
    if (a->k < 1 || a->k > 1 << 20) {
      cli_error("-k must be 1 .. 1048576");
      return 1;
    }
    return 0;
  case O_CENTRES: a->centres_out = arg; return 0;
  }
  return -1;
}

static const char help[] =
    "usage: gasp kmeans -i POINTS -k K [options]\n\n"
    "k-means clustering (Lloyd's iteration from k-means++ seeding): each\n"
    "superstep assigns every point to its nearest centre, and the centres\n"
    "become their clusters' means (over every rank with --np).  POINTS:\n"
    "'id x1 x2 ... xd' lines (blanks, tabs or commas; '#' comments), the\n"
    "same d on every line.  Output: 'id<TAB>cluster' (clusters from 0); the\n"
    "summary gives the objective (sum of squared distances).\n\n"
    "options:\n"
    "  -k, --clusters K     clusters (8)\n"
    "      --centres FILE   write the centres: 'cluster<TAB>x1 ... xd'\n"
    "      --seed N         k-means++ seeding (1)\n"
    "      --tol X          stop when the objective falls by at most X of\n"
    "                       itself (1e-9), or no point moves\n"
    "      --max-iter N     supersteps (100)\n" TK_HELP;

static int add_point(points *p, gasp_gid id, const double *x) {
  if (p->n == p->cap) {
    uint64_t cap = p->cap ? 2 * p->cap : 1024;
    gasp_gid *ni = realloc(p->id, cap * sizeof *ni);
    if (!ni) return -1;
    p->id = ni;
    double *nx = realloc(p->x, cap * (uint64_t)p->dim * sizeof *nx);
    if (!nx) return -1;
    p->x = nx;
    p->cap = cap;
  }
  p->id[p->n] = id;
  memcpy(p->x + p->n * (uint64_t)p->dim, x, (size_t)p->dim * sizeof *x);
  p->n++;
  return 0;
}

/* Reads the points (once: the input may be a pipe) and builds a graph of
 * one vertex per point; 0 or an exit code. */
static int load_points(void *user, const cli_common *c, const char *path,
                       gasp_graph **g, double *seconds) {
  points *p = user;
  double t0 = cli_now();
  gasp_text_reader *r = NULL;
  gasp_error err;
  int rc = gasp_text_reader_open(&r, path, &err);
  if (rc) return cli_fail(&err, rc);
  gasp_builder *b = NULL;
  if (gasp_builder_new(&b, 0)) {
    gasp_text_reader_free(&r);
    cli_error("kmeans: out of memory");
    return EXIT_RUNTIME;
  }
  double *row = NULL;
  int cap = 0;
  const char *line;
  size_t len;
  uint64_t no;
  while ((rc = gasp_text_reader_next(r, &line, &len, &no, &err)) == 1) {
    const char *q = line;
    while (*q == ' ' || *q == '\t')
      q++;
    if (!*q || *q == '#' || *q == '%') continue;
    char *end;
    errno = 0;
    unsigned long long id = strtoull(q, &end, 10);
    if (end == q || errno || id > GASP_GID_MAX) {
      cli_error("%s:%llu: expected a point id", path, (unsigned long long)no);
      rc = EXIT_USAGE;
      break;
    }
    int d = 0;
    for (q = end;;) {
      while (*q == ' ' || *q == '\t' || *q == ',')
        q++;
      if (!*q) break;
      double v = strtod(q, &end);
      if (end == q || !isfinite(v)) {
        cli_error("%s:%llu: coordinate %d is not a finite number", path,
                  (unsigned long long)no, d + 1);
        rc = EXIT_USAGE;
        goto done;
      }
      if (d == cap) {
        int ncap = cap ? 2 * cap : 16;
        double *nr = realloc(row, (size_t)ncap * sizeof *nr);
        if (!nr) {
          rc = EXIT_RUNTIME;
          cli_error("kmeans: out of memory");
          goto done;
        }
        row = nr;
        cap = ncap;
      }
      row[d++] = v;
      q = end;
    }
    if (!p->dim) p->dim = d;
    if (d == 0 || d != p->dim) {
      cli_error("%s:%llu: %d coordinates, where the first point has %d", path,
                (unsigned long long)no, d, p->dim);
      rc = EXIT_USAGE;
      break;
    }
    if (add_point(p, (gasp_gid)id, row) ||
        gasp_builder_add_vertex(b, GASP_SIDE_LEFT, (gasp_gid)id)) {
      cli_error("kmeans: out of memory");
      rc = EXIT_RUNTIME;
      break;
    }
  }
done:
  if (rc < 0) rc = cli_fail(&err, rc);
  gasp_text_reader_free(&r);
  free(row);
  if (!rc && p->n == 0) {
    cli_error("%s: no points", path);
    rc = EXIT_USAGE;
  }
  if (!rc && (rc = gasp_builder_finish(b, c->threads, g, &err)))
    rc = cli_fail(&err, rc);
  gasp_builder_free(&b);
  if (rc > 0) return rc;
  if (gasp_graph_num_vertices(*g) != p->n) {
    cli_error("%s: a point id appears twice", path);
    gasp_graph_free(g);
    return EXIT_USAGE;
  }
  if (seconds) *seconds = cli_now() - t0;
  return 0;
}

static int fmt_cluster(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%u", ((const uint32_t *)user)[v]);
}

/* Writes the centres, 'cluster<TAB>x1<TAB>...'; 0 or an exit code. */
static int write_centres(const char *path, const double *c, int k, int dim) {
  cli_out o;
  int rc = cli_out_open(&o, path);
  if (rc) return rc;
  for (int j = 0; j < k; j++) {
    fprintf(o.f, "%d", j);
    for (int d = 0; d < dim; d++)
      fprintf(o.f, "\t%.17g", c[(size_t)j * dim + d]);
    fputc('\n', o.f);
  }
  return cli_out_close(&o, 1);
}

int cmd_kmeans(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  km_args a = {8, NULL};
  static const struct option extra[] = {
      {"clusters", required_argument, 0, 'k'},
      {"centres", required_argument, 0, O_CENTRES},
      {"centers", required_argument, 0, O_CENTRES},
      {0, 0, 0, 0}};
  points pts = {0, 0, 0, NULL, NULL};
  o.dist_ok = 1;
  o.sync_only = "Lloyd's rounds";
  o.load_with = load_points;
  o.load_user = &pts;
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_GPU | TK_TAKES_VOCAB |
               TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS);
  o.c.seed = 1;
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (o.d.parts) {
    cli_error("kmeans: reads its points from -i (no --partitions)");
    return EXIT_USAGE;
  }
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  double *x = NULL, *whole = NULL, *init = NULL, *centres = NULL;
  uint32_t *cl = NULL, *all = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  gasp_vid n = gasp_graph_num_vertices(g), nw = gasp_graph_num_vertices(rg);
  int dim = pts.dim;
  if ((uint64_t)a.k > nw) {
    cli_error("kmeans: %d clusters for %llu points", a.k,
              (unsigned long long)nw);
    rc = EXIT_USAGE;
    goto out;
  }
  /* the points in the whole graph's vertex order, then the local ones */
  whole = malloc((size_t)nw * (size_t)dim * sizeof *whole);
  x = malloc((size_t)n * (size_t)dim * sizeof *x);
  cl = malloc((n ? (size_t)n : 1) * sizeof *cl);
  init = malloc((size_t)a.k * (size_t)dim * sizeof *init);
  centres = malloc((size_t)a.k * (size_t)dim * sizeof *centres);
  if (!whole || !x || !cl || !init || !centres) {
    cli_error("kmeans: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  for (uint64_t i = 0; i < pts.n; i++) {
    gasp_vid v;
    gasp_graph_find(rg, GASP_SIDE_LEFT, pts.id[i], &v);
    memcpy(whole + (size_t)v * dim, pts.x + i * (uint64_t)dim,
           (size_t)dim * sizeof *whole);
  }
  for (gasp_vid v = 0; v < n; v++) {
    gasp_vid w;
    gasp_graph_find(rg, GASP_SIDE_LEFT, gasp_graph_gid(g, v), &w);
    memcpy(x + (size_t)v * dim, whole + (size_t)w * dim,
           (size_t)dim * sizeof *x);
  }
  /* seeding over all the points, the same on every rank */
  if (gasp_kmeans_plusplus(whole, nw, dim, a.k, o.c.seed, init)) {
    cli_error("kmeans: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "kmeans"))) goto out;
  gasp_kmeans_opts ko;
  gasp_kmeans_opts_init(&ko);
  ko.engine = o.eng;
  ko.k = a.k;
  ko.seed = o.c.seed;
  ko.init = init;
  if (o.tol >= 0) ko.tol = o.tol;
  gasp_kmeans_info info;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_kmeans(g, &ko, x, dim, cl, centres, &info, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const uint32_t *c = cl;
  if (o.eng.dist) {
    all = tk_dist_results(&o, NULL, &st, cl, sizeof *cl, &rc);
    if (rc) goto out;
    c = all;
  }
  if (!tk_is_root(&o)) goto out;
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_cluster, (void *)c)))
    goto out;
  if (a.centres_out && (rc = write_centres(a.centres_out, centres, a.k, dim)))
    goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "kmeans");
    cli_json_u64(&j, "points", nw);
    cli_json_u64(&j, "dimensions", (uint64_t)dim);
    cli_json_u64(&j, "clusters", (uint64_t)a.k);
    tk_dist_json(&o, &j, st.iterations);
    cli_json_num(&j, "objective", info.objective);
    tk_json_run(&j, &st, 0, info.converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: kmeans: %d clusters of %llu points in %d dimensions: "
            "objective %.6g; %s after %llu iterations in %.3f s\n",
            a.k, (unsigned long long)nw, dim, info.objective,
            info.converged ? "converged" : "stopped",
            (unsigned long long)info.iterations, st.seconds);
  }
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(pts.id);
  free(pts.x);
  free(x);
  free(whole);
  free(init);
  free(centres);
  free(cl);
  free(all);
  return rc;
}
