/*
 * cmd_jacobi.c -- `gasp jacobi`: the command over gasp_jacobi
 * (lib_jacobi.c, Jacobi sweeps on the sync engine): flags, the matrix
 * (every rank in a distributed run), the right-hand side, the call, and x
 * gathered, summarised and written.
 */
#include "toolkit.h"
#include "gasp_toolkits.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { O_RHS = OPT_FIRST_PRIVATE };

static int handle(int opt, const char *arg, void *u) {
  if (opt != O_RHS) return -1;
  *(const char **)u = arg;
  return 0;
}

static const char help[] =
    "usage: gasp jacobi -i A.mtx [--rhs B] [options]\n\n"
    "Solves A x = b by Jacobi sweeps from x = 0, x_i <- (b_i - sum_{j!=i}\n"
    "a_ij x_j) / a_ii, one superstep a sweep: A is a square matrix (Matrix\n"
    "Market, or any weighted graph: row i's entries are i's out-edges, the\n"
    "diagonal a self loop, repeats added up).  It converges when A is\n"
    "strictly diagonally dominant (the summary says whether it is).  Stops\n"
    "when a sweep changes no x_i by more than --tol (1 + max |x|).  Output:\n"
    "'id<TAB>x'; the summary gives the relative residual ||b - A x|| / "
    "||b||.\n\n"
    "options:\n"
    "      --rhs FILE       b as 'id value' lines (ids as in the matrix; rows\n"
    "                       not listed are 0); default b = A 1, whose\n"
    "                       solution is all ones\n"
    "      --tol X          largest change of a sweep, relative (1e-10)\n"
    "      --max-iter N     sweeps (1000)\n" TK_HELP;

static int fmt_x(char *buf, size_t cap, gasp_vid v, void *user) {
  return snprintf(buf, cap, "%.17g", ((const double *)user)[v]);
}

/* b by local vertex from 'id value' lines; 0 or an exit code. */
static int read_rhs(const char *path, const gasp_graph *g, double *b) {
  gasp_vid n = gasp_graph_num_vertices(g);
  for (gasp_vid v = 0; v < n; v++)
    b[v] = 0;
  gasp_text_reader *r = NULL;
  gasp_error err;
  int rc = gasp_text_reader_open(&r, path, &err);
  if (rc) return cli_fail(&err, rc);
  const char *line;
  size_t len;
  uint64_t no;
  while ((rc = gasp_text_reader_next(r, &line, &len, &no, &err)) == 1) {
    const char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p || *p == '#' || *p == '%') continue;
    char *end;
    errno = 0;
    unsigned long long id = strtoull(p, &end, 10);
    if (end == p || errno) {
      cli_error("%s:%llu: expected 'id value'", path, (unsigned long long)no);
      rc = EXIT_USAGE;
      break;
    }
    p = end;
    double val = strtod(p, &end);
    if (end == p || !isfinite(val)) {
      cli_error("%s:%llu: expected a finite value after the id", path,
                (unsigned long long)no);
      rc = EXIT_USAGE;
      break;
    }
    gasp_vid v;
    if (gasp_graph_find(g, GASP_SIDE_LEFT, id, &v) != GASP_OK) {
      /* another rank's row across ranks: only the whole graph knows */
      if (gasp_graph_num_owned(g) == n) {
        cli_error("%s:%llu: row %llu is not in the matrix", path,
                  (unsigned long long)no, id);
        rc = EXIT_USAGE;
        break;
      }
      continue;
    }
    b[v] = val;
  }
  if (rc < 0) rc = cli_fail(&err, rc);
  gasp_text_reader_free(&r);
  return rc > 0 ? rc : 0;
}

int cmd_jacobi(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  const char *rhs = NULL;
  static const struct option extra[] = {{"rhs", required_argument, 0, O_RHS},
                                        {0, 0, 0, 0}};
  o.dist_ok = 1;
  o.sync_only = "a sweep a superstep";
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_GPU | TK_TAKES_VOCAB | TK_TAKES_SEED |
               TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS);
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &rhs);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  gasp_graph *g = NULL;
  double load_s = 0;
  tk_iter it = {0};
  double *x = NULL, *b = NULL, *all = NULL;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_vid n = gasp_graph_num_vertices(g);
  x = malloc((n ? (size_t)n : 1) * sizeof *x);
  b = rhs ? malloc((n ? (size_t)n : 1) * sizeof *b) : NULL;
  if (!x || (rhs && !b)) {
    cli_error("jacobi: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if (rhs) {
    /* across ranks each rank reads the rows it holds; an unknown row is
     * checked against the whole graph on every rank */
    gasp_graph *rg = tk_result_graph(&o, g);
    if (rg != g) {
      double *full = malloc(
          (gasp_graph_num_vertices(rg) ? gasp_graph_num_vertices(rg) : 1) *
          sizeof *full);
      if (!full) {
        cli_error("jacobi: out of memory");
        rc = EXIT_RUNTIME;
        goto out;
      }
      if (!(rc = read_rhs(rhs, rg, full)))
        for (gasp_vid v = 0; v < n; v++) {
          gasp_vid w;
          b[v] = gasp_graph_find(rg, GASP_SIDE_LEFT, gasp_graph_gid(g, v),
                                 &w) == GASP_OK
                     ? full[w]
                     : 0;
        }
      free(full);
    } else {
      rc = read_rhs(rhs, g, b);
    }
    if (rc) goto out;
  }
  if ((rc = tk_iter_start(&it, &o, "jacobi"))) goto out;
  gasp_jacobi_opts jo;
  gasp_jacobi_opts_init(&jo);
  jo.engine = o.eng;
  if (o.tol >= 0) jo.tol = o.tol;
  gasp_jacobi_info info;
  gasp_run_stats st;
  gasp_error err;
  int grc = gasp_jacobi(g, &jo, b, x, &info, &st, &err);
  if (grc) {
    rc = cli_fail(&err, grc);
    goto out;
  }
  tk_iter_end(&it);
  const double *xs = x;
  if (o.eng.dist) {
    all = tk_dist_results(&o, NULL, &st, x, sizeof *x, &rc);
    if (rc) goto out;
    xs = all;
  }
  if (!tk_is_root(&o)) goto out;
  gasp_graph *rg = tk_result_graph(&o, g);
  if ((rc = tk_write_vertices(o.c.output, rg, fmt_x, (void *)xs))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "jacobi");
    cli_json_u64(&j, "rows", gasp_graph_num_vertices(rg));
    cli_json_u64(&j, "entries", tk_result_edges(&o, g));
    tk_dist_json(&o, &j, st.iterations);
    cli_json_str(&j, "rhs", rhs ? rhs : "A 1");
    cli_json_u64(&j, "sweeps", info.sweeps);
    cli_json_num(&j, "max_change", info.max_change);
    cli_json_num(&j, "residual", info.residual);
    cli_json_bool(&j, "diagonally_dominant", info.dominant);
    tk_json_run(&j, &st, 0, info.converged, load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: jacobi: %s after %llu sweeps: residual %.3g, last change "
            "%.3g (A %s diagonally dominant) in %.3f s\n",
            info.converged ? "converged" : "NOT converged",
            (unsigned long long)info.sweeps, info.residual, info.max_change,
            info.dominant ? "strictly" : "not strictly", st.seconds);
  }
  if (!info.converged && o.c.quiet) /* a warning, even with --quiet */
    fprintf(stderr,
            "gasp: jacobi: not converged after %llu sweeps (residual %.3g)\n",
            (unsigned long long)info.sweeps, info.residual);
out:
  tk_iter_end(&it);
  tk_graph_free(&o, &g);
  free(x);
  free(b);
  free(all);
  return rc;
}
