/*
 * toolkit.c -- shared plumbing of the graph toolkits: engine flags,
 * per-iteration trace and progress, result files.
 */
#include "toolkit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void tk_opts_init(tk_opts *o) {
  memset(o, 0, sizeof *o);
  cli_common_init(&o->c);
  gasp_engine_opts_init(&o->eng);
  o->tol = -1;
  o->takes = TK_TAKES_ALL;
  o->d.rank = -1;
  o->d.size = 1;
  o->d.listen_fd = -1;
}

/* The group of each flag a subcommand may leave out, and its name. */
static const struct {
  int opt;
  unsigned group;
  const char *name;
} flag_groups[] = {
    {TK_OPT_ENGINE, TK_TAKES_ENGINE, "--engine"},
    {TK_OPT_CONSISTENCY, TK_TAKES_ASYNC, "--consistency"},
    {TK_OPT_SCHEDULER, TK_TAKES_ASYNC, "--scheduler"},
    {TK_OPT_LOCKING, TK_TAKES_ASYNC, "--locking"},
    {TK_OPT_MAX_ITER, TK_TAKES_MAX_ITER, "--max-iter"},
    {TK_OPT_TOL, TK_TAKES_TOL, "--tol"},
    {TK_OPT_TRACE, TK_TAKES_TRACE, "--trace"},
    {TK_OPT_GPU, TK_TAKES_GPU, "--gpu"},
    {OPT_VOCAB, TK_TAKES_VOCAB, "--vocab"},
    {OPT_SEED, TK_TAKES_SEED, "--seed"},
    {OPT_SYMMETRIC, TK_TAKES_SYMMETRIC, "--symmetric"},
    {OPT_WEIGHTED, TK_TAKES_WEIGHTS, "--weighted"},
    {OPT_UNWEIGHTED, TK_TAKES_WEIGHTS, "--unweighted"},
};

static const char *const checkpoint_flags[] = {
    "--checkpoint", "--checkpoint-every", "--checkpoint-seconds", "--resume",
    "--restart"};

int tk_opt(tk_opts *o, int opt, const char *arg) {
  for (size_t i = 0; i < sizeof flag_groups / sizeof *flag_groups; i++)
    if (flag_groups[i].opt == opt && !(o->takes & flag_groups[i].group)) {
      cli_error("%s: %s does not apply here (see --help)", cli_command(),
                flag_groups[i].name);
      return -1;
    }
  if (opt >= TK_OPT_CHECKPOINT && opt <= TK_OPT_RESTART && !o->checkpoint_ok) {
    cli_error("%s: %s: this command keeps no checkpoints", cli_command(),
              checkpoint_flags[opt - TK_OPT_CHECKPOINT]);
    return -1;
  }
  int r = cli_common_opt(&o->c, opt, arg);
  if (r) {
    if (opt == 't') o->eng.threads = o->c.threads;
    return r;
  }
  switch (opt) {
  case TK_OPT_ENGINE:
    o->engine_set = 1;
    if (gasp_engine_kind_parse(arg, &o->eng.engine) == GASP_OK) return 1;
    cli_error("--engine: expected sync or async, got '%s'", arg);
    return -1;
  case TK_OPT_CONSISTENCY:
    if (gasp_consistency_parse(arg, &o->eng.consistency) == GASP_OK) return 1;
    cli_error("--consistency: expected vertex, edge or full, got '%s'", arg);
    return -1;
  case TK_OPT_SCHEDULER:
    if (gasp_scheduler_parse(arg, &o->eng.scheduler) == GASP_OK) return 1;
    cli_error("--scheduler: expected fifo, sweep or priority, got '%s'", arg);
    return -1;
  case TK_OPT_LOCKING:
    if (gasp_locking_parse(arg, &o->eng.locking) == GASP_OK) return 1;
    cli_error("--locking: expected locks or chromatic, got '%s'", arg);
    return -1;
  case TK_OPT_MAX_ITER:
    return cli_parse_u64("--max-iter", arg, &o->eng.max_iter) ? -1 : 1;
  case TK_OPT_TOL:
    if (cli_parse_double("--tol", arg, &o->tol)) return -1;
    if (o->tol < 0) {
      cli_error("--tol: must not be negative");
      return -1;
    }
    return 1;
  case TK_OPT_TRACE: o->trace = arg; return 1;
  case TK_OPT_GPU:
    if (gasp_gpu_mode_parse(arg, &o->eng.gpu) == GASP_OK) return 1;
    cli_error("--gpu: expected auto, on or off, got '%s'", arg);
    return -1;
  case TK_OPT_CHECKPOINT: o->eng.checkpoint_dir = arg; return 1;
  case TK_OPT_RESTART:
    if (cli_parse_int("--restart", arg, &o->d.restarts)) return -1;
    if (o->d.restarts < 0 || o->d.restarts > 1000) {
      cli_error("--restart must be 0..1000");
      return -1;
    }
    return 1;
  case TK_OPT_RESUME: o->eng.resume_dir = arg; return 1;
  case TK_OPT_CHECKPOINT_EVERY:
    if (cli_parse_u64("--checkpoint-every", arg, &o->eng.checkpoint_every))
      return -1;
    if (o->eng.checkpoint_every == 0) {
      cli_error("--checkpoint-every: must be at least 1");
      return -1;
    }
    return 1;
  case TK_OPT_CHECKPOINT_SECONDS:
    if (cli_parse_double("--checkpoint-seconds", arg,
                         &o->eng.checkpoint_seconds))
      return -1;
    if (!(o->eng.checkpoint_seconds > 0 &&
          o->eng.checkpoint_seconds < 1e12)) {
      cli_error("--checkpoint-seconds: must be positive");
      return -1;
    }
    return 1;
  }
  return tk_dist_opt(o, opt, arg);
}

/* The checkpoint flags together: a period needs a directory; a directory
 * without a period gets every 10 supersteps; --resume keeps writing to
 * its directory; with bounded staleness, by superstep count only. */
int tk_checkpoint_check(tk_opts *o) {
  gasp_engine_opts *e = &o->eng;
  int period = e->checkpoint_every || e->checkpoint_seconds > 0;
  if (o->d.restarts && (o->d.np < 2 || (!e->checkpoint_dir && !e->resume_dir))) {
    cli_error("%s: --restart relaunches the ranks of --np N from their "
              "checkpoints: it needs --np and --checkpoint DIR",
              cli_command());
    return EXIT_USAGE;
  }
  if (!e->checkpoint_dir && !e->resume_dir) {
    if (!period) return 0;
    cli_error("%s: --checkpoint-every and --checkpoint-seconds need "
              "--checkpoint DIR (or --resume DIR)",
              cli_command());
    return EXIT_USAGE;
  }
  if (e->staleness && e->checkpoint_seconds > 0) {
    cli_error("%s: --checkpoint-seconds: with --staleness the ranks are at "
              "different supersteps and cannot agree on a time; use "
              "--checkpoint-every",
              cli_command());
    return EXIT_USAGE;
  }
  if (!e->checkpoint_dir) e->checkpoint_dir = e->resume_dir;
  if (!period) e->checkpoint_every = 10;
  return 0;
}

int tk_parse(int argc, char **argv, tk_opts *o, const struct option *extra,
             const char *help, int (*handle)(int opt, const char *arg, void *u),
             void *u) {
  static const struct option base[] = {TK_OPTIONS};
  size_t nb = sizeof base / sizeof *base, ne = 0;
  while (extra && extra[ne].name)
    ne++;
  struct option *all = calloc(nb + ne + 1, sizeof *all);
  if (!all) return EXIT_RUNTIME;
  memcpy(all, base, sizeof base);
  if (ne) memcpy(all + nb, extra, ne * sizeof *extra);
  /* extra options whose value is a letter also have that short form */
  char shorts[64] = CLI_COMMON_SHORT;
  for (size_t i = 0; i < ne; i++) {
    int v = extra[i].val;
    size_t l = strlen(shorts);
    if (v > ' ' && v < 127 && l + 3 < sizeof shorts && !strchr(shorts, v)) {
      shorts[l] = (char)v;
      if (extra[i].has_arg == required_argument) shorts[l + 1] = ':';
    }
  }
  int opt, rc = 0;
  optind = 1;
  while (rc == 0 && (opt = cli_getopt(argc, argv, shorts, all)) != -1) {
    if (opt == CLI_OPT_BAD) {
      rc = EXIT_USAGE;
      break;
    }
    if (opt == 'h') {
      fputs(help, stdout);
      rc = TK_HELP_SHOWN;
      break;
    }
    int r = tk_opt(o, opt, optarg);
    if (r == 0 && handle && opt != '?' && opt != ':' &&
        (opt >= OPT_FIRST_PRIVATE || strchr(shorts, opt)))
      r = handle(opt, optarg, u) ? -1 : 1;
    if (r == 0)
      cli_error("%s: option '%s' is not taken here (see --help)", cli_command(),
                optind > 0 ? argv[optind - 1] : "?");
    if (r <= 0) rc = EXIT_USAGE;
  }
  free(all);
  if (rc) return rc;
  if (cli_positional(&o->c, argc, argv)) return EXIT_USAGE;
  if (o->sync_only && o->eng.engine == GASP_ENGINE_ASYNC) {
    cli_error("%s: runs on the sync engine (%s)", cli_command(), o->sync_only);
    return EXIT_USAGE;
  }
  if ((rc = tk_checkpoint_check(o))) return rc;
  return tk_dist_launch(o);
}

void tk_checkpoint_json(cli_json *j, const gasp_run_stats *st) {
  if (st->checkpoints) {
    cli_json_u64(j, "checkpoints", st->checkpoints);
    cli_json_u64(j, "checkpoint_bytes", st->checkpoint_bytes);
    cli_json_num(j, "checkpoint_seconds", st->checkpoint_seconds);
  }
  if (st->resumed) {
    cli_json_u64(j, "resumed_from", st->resumed_from);
    cli_json_num(j, "resume_seconds", st->resume_seconds);
  }
}

void tk_json_memory(cli_json *j, uint64_t edges) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru)) return;
  double bytes = (double)ru.ru_maxrss * 1024.0; /* Linux: kilobytes */
  cli_json_u64(j, "max_rss_bytes", (uint64_t)bytes);
  if (edges) cli_json_num(j, "rss_bytes_per_edge", bytes / (double)edges);
}

int tk_load(tk_opts *o, gasp_graph **g, double *seconds) {
  if (o->d.size > 1) return tk_dist_load(o, g, seconds);
  int rc;
  if (o->load_with)
    rc = o->load_with(o->load_user, &o->c, o->c.input, g, seconds);
  else if (o->load)
    rc = o->load(&o->c, o->c.input, g, seconds);
  else
    rc = cli_load_graph(&o->c, g, seconds);
  if (!rc && *g && gasp_graph_id_order(*g) && !o->reorder_ok) {
    cli_error("%s: %s: the snapshot's vertices were reordered (gasp convert "
              "--reorder), and this command's results follow vertex order "
              "(ties broken by the smallest id); convert it without "
              "--reorder",
              cli_command(), o->c.input);
    gasp_graph_free(g);
    return EXIT_USAGE;
  }
  return rc;
}

/* ---- iterations: trace and progress -------------------------------- */

static int on_iteration(void *user, const gasp_iter_info *info) {
  tk_iter *it = user;
  double res = it->residual ? it->residual(it->user) : info->residual;
  it->last_residual = res;
  if (it->trace) {
    fprintf(it->trace, "%llu\t%llu\t%llu\t%.10g\t%.6f\n",
            (unsigned long long)info->iteration,
            (unsigned long long)info->active, (unsigned long long)info->updates,
            res, info->seconds);
  }
  if (it->progress.enabled) {
    fprintf(
        stderr,
        "\r\033[Kgasp: %s: iteration %llu, %llu active, residual %.3g, %.1f s",
        it->toolkit, (unsigned long long)info->iteration,
        (unsigned long long)info->active, res, info->seconds);
    fflush(stderr);
    it->progress.drawn = 1;
  }
  return it->done ? it->done(it->user, info, res) : 0;
}

int tk_iter_start(tk_iter *it, tk_opts *o, const char *toolkit) {
  it->toolkit = toolkit;
  it->trace = NULL;
  cli_progress_init(&it->progress, toolkit, o->c.quiet);
  if (o->trace) {
    it->trace = fopen(o->trace, "w");
    if (!it->trace) {
      cli_error("%s: cannot create: %s", o->trace, strerror(errno));
      return EXIT_USAGE;
    }
    fputs("iteration\tactive\tupdates\tresidual\tseconds\n", it->trace);
  }
  o->eng.on_iteration = on_iteration;
  o->eng.on_iteration_user = it;
  return 0;
}

void tk_iter_end(tk_iter *it) {
  cli_progress_end(&it->progress);
  if (it->trace) fclose(it->trace);
  it->trace = NULL;
}

void *tk_calloc_lines(size_t n, size_t size) {
  void *p = NULL;
  if (n == 0 || size > SIZE_MAX / n) return NULL;
  if (posix_memalign(&p, 64, n * size) != 0) return NULL;
  memset(p, 0, n * size);
  return p;
}

int tk_engine_new(gasp_engine **e, gasp_graph *g, const gasp_program *prog,
                  tk_opts *o) {
  gasp_error err;
  int rc = gasp_engine_new(e, g, prog, &o->eng, &err);
  return rc ? cli_fail(&err, rc) : 0;
}

void tk_json_run(cli_json *j, const gasp_run_stats *st, int async,
                 int converged, double load_seconds) {
  cli_json_str(j, "engine", async ? "async" : "sync");
  cli_json_u64(j, "iterations", st->iterations);
  cli_json_u64(j, "updates", st->updates);
  cli_json_bool(j, "converged", converged);
  cli_json_num(j, "seconds", st->seconds);
  cli_json_num(j, "load_seconds", load_seconds);
  tk_checkpoint_json(j, st);
}

int tk_use_gpu(const tk_opts *o, const char *toolkit, const char *why_not,
               char *name, size_t len) {
  snprintf(name, len, "none");
  if (o->eng.gpu == GASP_GPU_OFF) return 0;
  int devices = gasp_gpu_probe(name, len);
  const char *why = why_not        ? why_not
                    : devices <= 0 ? name
#ifndef GASP_TOOLKIT_CUDA
                                   : "this gasp was built without CUDA"
#else
                                   : NULL
#endif
      ;
  if (!why) return 1;
  if (o->eng.gpu == GASP_GPU_ON) {
    cli_error("%s: --gpu on: %s", toolkit, why);
    return -1;
  }
  snprintf(name, len, "none");
  return 0;
}

void tk_json_gpu(cli_json *j, const gasp_engine *e) {
  gasp_gpu_stats st;
  gasp_engine_gpu_stats(e, &st);
  cli_json_str(j, "gpu", st.used ? st.device : "none");
  cli_json_u64(j, "gpu_batches", st.batches);
}

int tk_run(gasp_engine *e, gasp_run_stats *st) {
  int rc = gasp_engine_run(e, st);
  if (rc) {
    const gasp_error *err = gasp_engine_last_error(e);
    if (err->code && err->msg[0])
      cli_error("engine run failed: %s", err->msg);
    else
      cli_error("engine run failed: %s", gasp_strerror(rc));
    return EXIT_RUNTIME;
  }
  return 0;
}

/* ---- results ------------------------------------------------------- */

static int u64_text(char *buf, uint64_t x) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + x % 10);
    x /= 10;
  } while (x);
  for (int i = 0; i < n; i++)
    buf[i] = tmp[n - 1 - i];
  return n;
}

int tk_write_vertices(const char *path, const gasp_graph *g, tk_fmt_fn fmt,
                      void *user) {
  if (!path) return 0;
  cli_out out;
  int rc = cli_out_open(&out, path);
  if (rc) return rc;
  char line[512];
  int bad = 0;
  const gasp_vid *order = gasp_graph_id_order(g); /* reordered: id order */
  for (gasp_vid i = 0; i < gasp_graph_num_vertices(g) && !bad; i++) {
    gasp_vid v = order ? order[i] : i;
    int k = u64_text(line, gasp_graph_gid(g, v));
    line[k++] = '\t';
    k += fmt(line + k, sizeof line - (size_t)k - 2, v, user);
    line[k++] = '\n';
    bad = fwrite(line, 1, (size_t)k, out.f) != (size_t)k;
  }
  /* a failed fwrite leaves the stream's error flag set: reported there */
  return cli_out_close(&out, 1);
}

int tk_count_groups(const gasp_vid *label, gasp_vid n, uint64_t *groups,
                    uint64_t *largest) {
  uint64_t *size = calloc(n ? (size_t)n : 1, sizeof *size);
  if (!size) return -1;
  *groups = *largest = 0;
  for (gasp_vid v = 0; v < n; v++) {
    uint64_t s = ++size[label[v]];
    *groups += s == 1;
    if (s > *largest) *largest = s;
  }
  free(size);
  return 0;
}
