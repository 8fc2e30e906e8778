/*
 * run_main.c -- gasp_cli_main (include/gasp_cli.h): the toolkits' command
 * line (toolkit.c, tk_dist.c, cli.c) around a user's vertex program, so
 * that a program of a few dozen lines gets loading, the engine flags, runs
 * across ranks, traces, results and summaries the way `gasp <toolkit>`
 * does.
 */
#include "gasp_cli.h"
#include "toolkit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct gasp_cli_run {
  tk_opts *o;
  gasp_engine *e;
  gasp_graph *g;
};

/* What the driver parses besides the common flags. */
typedef struct drv {
  const gasp_cli *cli;
  uint64_t source;
  int have_source;
} drv;

enum { O_SOURCE = 0x10000 }; /* above any program option value */

static int drv_option(int opt, const char *arg, void *u) {
  drv *d = u;
  if (opt == O_SOURCE) {
    d->have_source = 1;
    return cli_parse_u64("--source", arg, &d->source);
  }
  return d->cli->option ? d->cli->option(opt, arg, d->cli->user) : -1;
}

gasp_engine *gasp_cli_engine(gasp_cli_run *run) { return run->e; }
gasp_graph *gasp_cli_graph(gasp_cli_run *run) { return run->g; }

void gasp_cli_error(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  cli_error("%s", buf);
}

int gasp_cli_parse_u64(const char *opt, const char *arg, uint64_t *out) {
  return cli_parse_u64(opt, arg, out);
}

int gasp_cli_signal_id(gasp_cli_run *run, const char *what, gasp_gid id,
                       const void *msg) {
  gasp_vid v;
  if (gasp_graph_find(tk_result_graph(run->o, run->g), GASP_SIDE_LEFT, id,
                      &v) != GASP_OK) {
    cli_error("%s: unknown vertex id %llu", what, (unsigned long long)id);
    return EXIT_USAGE;
  }
  /* a ghost copy never updates: only the owner starts it */
  if (gasp_graph_find(run->g, GASP_SIDE_LEFT, id, &v) != GASP_OK ||
      v >= gasp_graph_num_owned(run->g))
    return 0;
  int rc = msg ? gasp_engine_signal_msg(run->e, v, msg, 0.0)
               : gasp_engine_signal(run->e, v, 0.0);
  if (rc) {
    cli_error("%s: %s", what, gasp_strerror(rc));
    return EXIT_USAGE;
  }
  return 0;
}

typedef struct fmt_job {
  const gasp_cli *cli;
  const char *data;
  size_t size;
} fmt_job;

static int fmt_vertex(char *buf, size_t cap, gasp_vid v, void *user) {
  const fmt_job *j = user;
  return j->cli->format(buf, cap, j->data + (size_t)v * j->size, j->cli->user);
}

static void summary(const gasp_cli *cli, tk_opts *o, gasp_graph *g,
                    const gasp_run_stats *st, double load_s) {
  int async = o->eng.engine == GASP_ENGINE_ASYNC;
  int converged = st->reason == GASP_STOP_CONVERGED;
  gasp_graph *rg = tk_result_graph(o, g);
  if (o->c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "program", cli->name);
    cli_json_u64(&j, "vertices", gasp_graph_num_vertices(rg));
    cli_json_u64(&j, "edges", tk_result_edges(o, g));
    tk_dist_json(o, &j, st->iterations);
    cli_json_u64(&j, "pull_iterations", st->pull_iterations);
    tk_json_run(&j, st, async, converged, load_s);
    cli_json_end(&j);
  } else if (!o->c.quiet) {
    fprintf(stderr, "%s: %s after %llu iterations (%llu updates) in %.3f s\n",
            cli->name, converged ? "converged" : "stopped",
            (unsigned long long)st->iterations, (unsigned long long)st->updates,
            st->seconds);
  }
}

/* Runs the program on the loaded graph; returns an exit status. */
static int run(const gasp_program *prog, const gasp_cli *cli, tk_opts *o,
               gasp_graph *g, double load_s, uint64_t source) {
  gasp_engine *e = NULL;
  void *all = NULL;
  tk_iter it = {0};
  int rc = tk_iter_start(&it, o, cli->name);
  if (!rc) rc = tk_engine_new(&e, g, prog, o);
  if (rc) goto out;
  gasp_cli_run r = {o, e, g};
  if (cli->start)
    rc = cli->start(&r, cli->user);
  else if (cli->source)
    rc = gasp_cli_signal_id(&r, "--source", source, cli->source_msg);
  else
    gasp_engine_signal_all(e, 0.0);
  gasp_run_stats st;
  if (rc || (rc = tk_run(e, &st))) goto out;
  tk_iter_end(&it);
  const char *data = gasp_graph_vertex_data(g);
  if (o->eng.dist) {
    all = tk_dist_results(o, e, &st, o->c.output ? data : NULL,
                          prog->vertex_size, &rc);
    if (rc) goto out;
    data = all;
  }
  if (!tk_is_root(o)) goto out;
  if (o->c.output) {
    fmt_job j = {cli, data, prog->vertex_size};
    if ((rc = tk_write_vertices(o->c.output, tk_result_graph(o, g), fmt_vertex,
                                &j)))
      goto out;
  }
  summary(cli, o, g, &st, load_s);
out:
  tk_iter_end(&it);
  gasp_engine_free(&e);
  free(all);
  return rc;
}

int gasp_cli_main(int argc, char **argv, const gasp_program *prog,
                  const gasp_cli *cli) {
  cli_set_name(cli->name);
  size_t n = strlen(cli->usage ? cli->usage : "") + sizeof TK_HELP + 16;
  char *help = malloc(n);
  if (!help) {
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  snprintf(help, n, "%s\noptions:\n%s", cli->usage ? cli->usage : "", TK_HELP);
  /* the program's options, and --source when it takes one */
  size_t ne = 0;
  while (cli->options && cli->options[ne].name)
    ne++;
  struct option *opts = calloc(ne + 2, sizeof *opts);
  if (!opts) {
    free(help);
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  if (ne) memcpy(opts, cli->options, ne * sizeof *opts);
  if (cli->source)
    opts[ne] = (struct option){"source", required_argument, 0, O_SOURCE};
  drv d = {cli, 0, 0};
  tk_opts o;
  tk_opts_init(&o);
  o.dist_ok = 1;
  o.staleness_ok = cli->staleness_ok;
  int rc = tk_parse(argc, argv, &o, opts, help, drv_option, &d);
  free(help);
  free(opts);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (cli->source && !d.have_source) {
    cli_error("--source ID is required");
    return EXIT_USAGE;
  }
  if (o.tol >= 0 && !cli->tol) {
    cli_error("--tol: %s has no tolerance", cli->name);
    return EXIT_USAGE;
  }
  if (o.tol >= 0) *cli->tol = o.tol;
  if (cli->sync_only && o.eng.engine == GASP_ENGINE_ASYNC) {
    cli_error("--engine async: %s runs on the sync engine", cli->name);
    return EXIT_USAGE;
  }
  if (o.c.output && !cli->format) {
    cli_error("-o: %s writes no per-vertex results", cli->name);
    return EXIT_USAGE;
  }
  gasp_graph *g = NULL;
  double load_s = 0;
  if (!(rc = tk_load(&o, &g, &load_s)))
    rc = run(prog, cli, &o, g, load_s, d.source);
  tk_graph_free(&o, &g);
  return rc;
}
