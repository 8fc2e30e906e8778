/*
 * cmd_svd.c -- `gasp svd` and `gasp spectral`: the commands over gasp_svd
 * (lib_svd.c, Lanczos bidiagonalisation with thick restarts) and
 * gasp_spectral (lib_spectral.c, Ng-Jordan-Weiss spectral clustering):
 * flags, the matrix or graph (every rank in a distributed run), the call,
 * and the results gathered, summarised and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { O_K = OPT_FIRST_PRIVATE, O_NV, O_RESTARTS, O_VECTORS, O_VALUES };

typedef struct lz_args {
  int k, nv, restarts;
  const char *vectors, *values;
} lz_args;

static int handle(int opt, const char *arg, void *u) {
  lz_args *a = u;
  switch (opt) {
  case 'k':
  case O_K:
    if (cli_parse_int("-k", arg, &a->k)) return 1;
    if (a->k < 1 || a->k > 1 << 16) {
      cli_error("-k must be 1 .. 65536");
      return 1;
    }
    return 0;
  case O_NV:
    if (cli_parse_int("--nv", arg, &a->nv)) return 1;
    if (a->nv < 1 || a->nv > 1 << 16) {
      cli_error("--nv must be 1 .. 65536");
      return 1;
    }
    return 0;
  case O_RESTARTS:
    if (cli_parse_int("--max-restarts", arg, &a->restarts)) return 1;
    if (a->restarts < 1) {
      cli_error("--max-restarts must be at least 1");
      return 1;
    }
    return 0;
  case O_VECTORS: a->vectors = arg; return 0;
  case O_VALUES: a->values = arg; return 0;
  }
  return -1;
}

static void json_array(cli_json *j, const char *key, const double *x, int n) {
  fprintf(j->f, "%s\"%s\":[", j->n++ ? "," : "", key);
  for (int i = 0; i < n; i++)
    fprintf(j->f, i ? ",%.17g" : "%.17g", x[i]);
  fputc(']', j->f);
}

/* ---- gasp svd ------------------------------------------------------------ */

static const char svd_help[] =
    "usage: gasp svd -i MATRIX [-k K] [options]\n\n"
    "The k largest singular values and vectors of a sparse matrix by\n"
    "Golub-Kahan-Lanczos bidiagonalisation with full reorthogonalisation\n"
    "and thick restarts; each product A x or A^T y is a superstep of the\n"
    "sync engine (also across ranks with --np).  MATRIX: Matrix Market (a\n"
    "rectangular one: rows and columns apart), ratings (--format ratings:\n"
    "users are rows, items columns) or any weighted graph (square: row i's\n"
    "entries are i's out-edges; repeated entries add up).  Output (-o):\n"
    "'i<TAB>sigma_i<TAB>residual_i' for i = 1 .. k, the residual\n"
    "sqrt(||A v - sigma u||^2 + ||A^T u - sigma v||^2).\n\n"
    "options:\n"
    "  -k, --k K            singular triplets (10); at most min(rows, "
    "columns)\n"
    "      --nv N           Krylov basis size (max(2k, k + 10), at most\n"
    "                       min(rows, columns))\n"
    "      --max-restarts N thick restarts (100)\n"
    "      --tol X          converged when every Lanczos residual is at most\n"
    "                       X sigma_1 (1e-10)\n"
    "      --vectors PREFIX write PREFIX.U ('row<TAB>u_1 ... u_k') and "
    "PREFIX.V\n"
    "                       ('column<TAB>v_1 ... v_k')\n"
    "      --seed N         the starting vector (1)\n" TK_HELP;

/* Writes the rows (or columns) of the whole graph with their k values. */
static int write_vectors(const char *path, gasp_graph *rg, const double *x,
                         int k, int want_side) {
  cli_out out;
  int rc = cli_out_open(&out, path);
  if (rc) return rc;
  int bip = gasp_graph_is_bipartite(rg);
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(rg); v++) {
    if (bip && (int)gasp_graph_side(rg, v) != want_side) continue;
    fprintf(out.f, "%llu", (unsigned long long)gasp_graph_gid(rg, v));
    for (int i = 0; i < k; i++)
      fprintf(out.f, "%c%.17g", i ? ' ' : '\t', x[(size_t)v * k + i]);
    fputc('\n', out.f);
  }
  return cli_out_close(&out, 1);
}

static int write_values(const char *path, const double *s, const double *r,
                        int k) {
  cli_out out;
  int rc = cli_out_open(&out, path);
  if (rc) return rc;
  for (int i = 0; i < k; i++)
    fprintf(out.f, "%d\t%.17g\t%.6g\n", i + 1, s[i], r[i]);
  return cli_out_close(&out, 1);
}

static char *join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 1;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s%s", a, b);
  return s;
}

int cmd_svd(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  lz_args a = {10, 0, 0, NULL, NULL};
  static const struct option extra[] = {
      {"k", required_argument, 0, 'k'},
      {"nv", required_argument, 0, O_NV},
      {"max-restarts", required_argument, 0, O_RESTARTS},
      {"vectors", required_argument, 0, O_VECTORS},
      {0, 0, 0, 0}};
  o.dist_ok = 1;
  o.sync_only = "a product a superstep";
  o.takes &=
      ~(TK_TAKES_ASYNC | TK_TAKES_GPU | TK_TAKES_VOCAB | TK_TAKES_MAX_ITER);
  o.c.seed = 1;
  int rc = tk_parse(argc, argv, &o, extra, svd_help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  double *u = NULL, *v = NULL, *sig = NULL, *res = NULL, *ua = NULL, *va = NULL;
  char *pu = NULL, *pv = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) goto out;
  gasp_vid n = gasp_graph_num_vertices(g);
  size_t nk = (size_t)(n ? n : 1) * (size_t)a.k;
  sig = malloc((size_t)a.k * sizeof *sig);
  res = malloc((size_t)a.k * sizeof *res);
  if (a.vectors) {
    u = malloc(nk * sizeof *u);
    v = malloc(nk * sizeof *v);
  }
  if (!sig || !res || (a.vectors && (!u || !v))) {
    cli_error("svd: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "svd"))) goto out;
  gasp_svd_opts so;
  gasp_svd_opts_init(&so);
  so.engine = o.eng;
  so.k = a.k;
  so.nv = a.nv;
  so.max_restarts = a.restarts;
  so.seed = o.c.seed;
  if (o.tol >= 0) so.tol = o.tol;
  gasp_svd_info info;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_svd(g, &so, sig, u, v, res, &info, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const double *us = u, *vs = v;
  if (o.eng.dist) {
    if (a.vectors) {
      ua = tk_dist_results(&o, NULL, &st, u, (size_t)a.k * sizeof *u, &rc);
      if (rc) goto out;
      va = tk_dist_gather(&o, v, (size_t)a.k * sizeof *v, &rc);
      if (rc) goto out;
      us = ua, vs = va;
    } else {
      free(tk_dist_results(&o, NULL, &st, NULL, 0, &rc));
      if (rc) goto out;
    }
  }
  if (!tk_is_root(&o)) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  if (o.c.output && (rc = write_values(o.c.output, sig, res, a.k))) goto out;
  if (a.vectors) {
    if (!(pu = join(a.vectors, ".U")) || !(pv = join(a.vectors, ".V"))) {
      cli_error("svd: out of memory");
      rc = EXIT_RUNTIME;
      goto out;
    }
    if ((rc = write_vectors(pu, rg, us, a.k, GASP_SIDE_LEFT)) ||
        (rc = write_vectors(pv, rg, vs, a.k, GASP_SIDE_RIGHT)))
      goto out;
  }
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "svd");
    cli_json_u64(&j, "rows", info.rows);
    cli_json_u64(&j, "columns", info.cols);
    cli_json_u64(&j, "entries", tk_result_edges(&o, g));
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "k", (uint64_t)a.k);
    cli_json_u64(&j, "nv", (uint64_t)info.nv);
    cli_json_u64(&j, "restarts", (uint64_t)info.restarts);
    cli_json_u64(&j, "products", info.products);
    json_array(&j, "singular_values", sig, a.k);
    json_array(&j, "residuals", res, a.k);
    cli_json_num(&j, "max_relative_residual", info.max_residual);
    tk_json_run(&j, &st, 0, info.converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: svd: %d singular values of a %llu x %llu matrix: sigma_1 "
            "%.10g, sigma_%d %.10g; %s after %d restarts (%llu products), "
            "largest residual %.3g sigma_1, in %.3f s\n",
            a.k, (unsigned long long)info.rows, (unsigned long long)info.cols,
            sig[0], a.k, sig[a.k - 1],
            info.converged ? "converged" : "NOT converged", info.restarts,
            (unsigned long long)info.products, info.max_residual, st.seconds);
  }
  if (!info.converged && o.c.quiet)
    fprintf(stderr, "gasp: svd: not converged after %d restarts\n",
            info.restarts);
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(u);
  free(v);
  free(ua);
  free(va);
  free(sig);
  free(res);
  free(pu);
  free(pv);
  return rc;
}

/* ---- gasp spectral ------------------------------------------------------- */

static const char spectral_help[] =
    "usage: gasp spectral -i GRAPH [-k K] [options]\n\n"
    "Spectral clustering (Ng, Jordan and Weiss): the graph taken as\n"
    "undirected (affinity (A + A^T) / 2 of the weights, 1 when unweighted;\n"
    "self loops dropped), the k largest eigenvectors of D^-1/2 W D^-1/2 by\n"
    "Lanczos with thick restarts (a product a superstep), each vertex's row\n"
    "scaled to unit length, then k-means (k-means++ seeded).  Isolated\n"
    "vertices are left out and get cluster -1.  Output (-o):\n"
    "'id<TAB>cluster'; the summary gives the eigenvalues, the k-means\n"
    "objective and the cluster sizes.\n\n"
    "options:\n"
    "  -k, --k K            clusters and eigenvectors (2)\n"
    "      --nv N           Lanczos basis size (max(2k, k + 10))\n"
    "      --max-restarts N thick restarts (100)\n"
    "      --tol X          eigenpair residual, relative (1e-10)\n"
    "      --eigenvalues F  write 'i<TAB>lambda_i'\n"
    "      --seed N         the Lanczos start and k-means++ (1)\n" TK_HELP;

static int fmt_cluster(char *buf, size_t cap, gasp_vid v, void *user) {
  uint32_t c = ((const uint32_t *)user)[v];
  return c == GASP_SPECTRAL_NONE ? snprintf(buf, cap, "-1")
                                 : snprintf(buf, cap, "%u", c);
}

int cmd_spectral(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  lz_args a = {2, 0, 0, NULL, NULL};
  static const struct option extra[] = {
      {"k", required_argument, 0, 'k'},
      {"clusters", required_argument, 0, O_K},
      {"nv", required_argument, 0, O_NV},
      {"max-restarts", required_argument, 0, O_RESTARTS},
      {"eigenvalues", required_argument, 0, O_VALUES},
      {0, 0, 0, 0}};
  o.dist_ok = 1;
  o.sync_only = "a product a superstep";
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_GPU | TK_TAKES_VOCAB |
               TK_TAKES_MAX_ITER);
  o.c.seed = 1;
  int rc = tk_parse(argc, argv, &o, extra, spectral_help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  uint32_t *cl = NULL, *all = NULL;
  double *ev = NULL;
  uint64_t *sizes = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) goto out;
  gasp_vid n = gasp_graph_num_vertices(g);
  cl = malloc((n ? (size_t)n : 1) * sizeof *cl);
  ev = malloc((size_t)a.k * sizeof *ev);
  sizes = calloc((size_t)a.k, sizeof *sizes);
  if (!cl || !ev || !sizes) {
    cli_error("spectral: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "spectral"))) goto out;
  gasp_spectral_opts so;
  gasp_spectral_opts_init(&so);
  so.engine = o.eng;
  so.k = a.k;
  so.nv = a.nv;
  so.max_restarts = a.restarts;
  so.seed = o.c.seed;
  if (o.tol >= 0) so.tol = o.tol;
  gasp_spectral_info info;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_spectral(g, &so, cl, ev, NULL, &info, &st, &err);
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
  gasp_graph *rg = tk_result_graph(&o, g);
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(rg); v++)
    if (c[v] != GASP_SPECTRAL_NONE) sizes[c[v]]++;
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_cluster, (void *)c)))
    goto out;
  if (a.values) {
    cli_out f;
    if ((rc = cli_out_open(&f, a.values))) goto out;
    for (int i = 0; i < a.k; i++)
      fprintf(f.f, "%d\t%.17g\n", i + 1, ev[i]);
    if ((rc = cli_out_close(&f, 1))) goto out;
  }
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "spectral");
    cli_json_u64(&j, "vertices", info.vertices);
    cli_json_u64(&j, "edges", tk_result_edges(&o, g));
    cli_json_u64(&j, "isolated", info.isolated);
    tk_dist_json(&o, &j, st.iterations);
    cli_json_u64(&j, "clusters", (uint64_t)a.k);
    cli_json_u64(&j, "nv", (uint64_t)info.nv);
    cli_json_u64(&j, "restarts", (uint64_t)info.restarts);
    cli_json_u64(&j, "products", info.products);
    json_array(&j, "eigenvalues", ev, a.k);
    fprintf(j.f, ",\"cluster_sizes\":[");
    for (int i = 0; i < a.k; i++)
      fprintf(j.f, i ? ",%llu" : "%llu", (unsigned long long)sizes[i]);
    fputc(']', j.f);
    cli_json_num(&j, "max_relative_residual", info.max_residual);
    cli_json_num(&j, "objective", info.objective);
    cli_json_u64(&j, "kmeans_iterations", info.kmeans_iterations);
    tk_json_run(&j, &st, 0, info.converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: spectral: %d clusters of %llu vertices (%llu isolated, "
            "left out): eigenvalues %.6g .. %.6g (%s after %d restarts), "
            "k-means objective %.6g, sizes",
            a.k, (unsigned long long)info.vertices,
            (unsigned long long)info.isolated, ev[0], ev[a.k - 1],
            info.converged ? "converged" : "NOT converged", info.restarts,
            info.objective);
    for (int i = 0; i < a.k; i++)
      fprintf(stderr, " %llu", (unsigned long long)sizes[i]);
    fprintf(stderr, ", in %.3f s\n", st.seconds);
  }
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(cl);
  free(all);
  free(ev);
  free(sizes);
  return rc;
}
