/*
 * cli.c -- common option handling, errors, progress and JSON for the gasp
 * command line.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *cli_input_path(const char *arg) {
  return strcmp(arg, "-") == 0 ? "/dev/stdin" : arg;
}

void cli_common_init(cli_common *c) {
  memset(c, 0, sizeof *c);
  c->format = GASP_FORMAT_AUTO;
  c->weighted = -1;
  c->seed = 1;
}

/* The command's name in messages: "gasp", or a program run by
 * gasp_cli_main (set once, before anything runs: one command a process). */
static const char *cli_name = "gasp";

void cli_set_name(const char *name) { cli_name = name ? name : "gasp"; }

/* The last error reported, and how many so far: a rank that failed tells
 * its peers why (tk_graph_free). */
static char last_error[512];
static unsigned errors_reported;

void cli_error(const char *fmt, ...) {
  va_list ap, copy;
  va_start(ap, fmt);
  va_copy(copy, ap);
  vsnprintf(last_error, sizeof last_error, fmt, copy);
  va_end(copy);
  errors_reported++;
  /* one write per line: the ranks of a --np run share the terminal */
  char line[1024];
  int n = snprintf(line, sizeof line, "%s: ", cli_name);
  if (n < 0 || (size_t)n >= sizeof line) n = 0;
  int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  size_t len = m < 0 ? (size_t)n
               : (size_t)n + (size_t)m < sizeof line - 1
                   ? (size_t)n + (size_t)m
                   : sizeof line - 2;
  line[len++] = '\n';
  fflush(stderr);
  fwrite(line, 1, len, stderr);
  fflush(stderr);
}

const char *cli_last_error(unsigned *count) {
  if (count) *count = errors_reported;
  return last_error;
}

int cli_fail(const gasp_error *err, int status) {
  char buf[1200];
  if (err && (err->msg[0] || err->file[0]))
    cli_error("%s", gasp_error_format(err, buf, sizeof buf));
  else
    cli_error("%s", gasp_strerror(status));
  /* resources, cancelation and lost or failed peers are runtime
   * failures; everything else is the input's or the caller's */
  return status == GASP_ENOMEM || status == GASP_ECANCELED ||
                 status == GASP_ETIMEDOUT || status == GASP_EPEER ||
                 status == GASP_EAUTH
             ? EXIT_RUNTIME
             : EXIT_USAGE;
}

int cli_parse_u64(const char *opt, const char *s, uint64_t *out) {
  char *e;
  errno = 0;
  if (!s || *s == '-' || *s == '\0') goto bad;
  unsigned long long v = strtoull(s, &e, 10);
  if (errno || *e) goto bad;
  *out = v;
  return 0;
bad:
  cli_error("%s: expected a non-negative integer, got '%s'", opt, s ? s : "");
  return -1;
}

int cli_parse_int(const char *opt, const char *s, int *out) {
  uint64_t v;
  if (cli_parse_u64(opt, s, &v)) return -1;
  if (v > 1000000000ull) {
    cli_error("%s: value %s is too large", opt, s);
    return -1;
  }
  *out = (int)v;
  return 0;
}

int cli_parse_double(const char *opt, const char *s, double *out) {
  char *e;
  errno = 0;
  double v = s ? strtod(s, &e) : 0;
  if (!s || *s == '\0' || errno || *e || !isfinite(v)) {
    cli_error("%s: expected a number, got '%s'", opt, s ? s : "");
    return -1;
  }
  *out = v;
  return 0;
}

/* ---- progress ---------------------------------------------------- */

void cli_progress_init(cli_progress *p, const char *label, int quiet) {
  p->label = label;
  p->enabled = !quiet && isatty(STDERR_FILENO);
  p->last = 0;
  p->drawn = 0;
}

int cli_progress_cb(void *user, const gasp_progress *g) {
  cli_progress *p = user;
  if (!p->enabled) return 0;
  double now = cli_now();
  if (p->drawn && now - p->last < 0.2) return 0;
  p->last = now;
  p->drawn = 1;
  double mb = (double)g->bytes_done / 1e6;
  double rate = g->seconds > 0 ? (double)g->items_done / g->seconds / 1e6 : 0;
  if (g->bytes_total)
    fprintf(stderr,
            "\r\033[Kgasp: %s %s: %.1f / %.1f MB (%.0f%%), %.2f M edges, %.1f "
            "M edges/s",
            g->phase, p->label, mb, (double)g->bytes_total / 1e6,
            100.0 * (double)g->bytes_done / (double)g->bytes_total,
            (double)g->items_done / 1e6, rate);
  else
    fprintf(stderr,
            "\r\033[Kgasp: %s %s: %.1f MB, %.2f M edges, %.1f M edges/s",
            g->phase, p->label, mb, (double)g->items_done / 1e6, rate);
  fflush(stderr);
  return 0;
}

void cli_progress_end(cli_progress *p) {
  if (p->enabled && p->drawn) fputs("\r\033[K", stderr);
  p->drawn = 0;
}

int cli_load_graph(const cli_common *c, gasp_graph **out, double *seconds) {
  if (!c->input) {
    cli_error("no input: give -i FILE");
    return EXIT_USAGE;
  }
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.format = c->format;
  o.threads = c->threads;
  o.symmetric = c->symmetric;
  o.weighted = c->weighted;
  o.vocab = c->vocab;
  o.bipartite = c->bipartite;
  cli_progress pr;
  cli_progress_init(&pr, c->input, c->quiet);
  o.progress = cli_progress_cb;
  o.progress_user = &pr;
  gasp_error err;
  double t0 = cli_now();
  int rc = gasp_graph_load(out, c->input, &o, &err);
  cli_progress_end(&pr);
  double dt = cli_now() - t0;
  if (seconds) *seconds = dt;
  if (rc) return cli_fail(&err, rc);
  if (!c->quiet) {
    uint64_t e = gasp_graph_num_edges(*out);
    fprintf(
        stderr,
        "gasp: loaded %s: %u vertices, %llu edges in %.3f s (%.1f M edges/s)\n",
        c->input, gasp_graph_num_vertices(*out), (unsigned long long)e, dt,
        dt > 0 ? (double)e / dt / 1e6 : 0.0);
  }
  return 0;
}

/* ---- result files ------------------------------------------------ */

/* Creates "TARGET.tmp.PID.N" exclusively with `mode` (the umask applies,
 * as for any new file); returns the fd and sets *tmp, or -1. */
static int create_temp(const char *target, mode_t mode, char **tmp) {
  size_t n = strlen(target) + 48;
  *tmp = malloc(n);
  if (!*tmp) return -1;
  static unsigned counter;
  for (int tries = 0; tries < 100; tries++) {
    snprintf(*tmp, n, "%s.tmp.%ld.%u", target, (long)getpid(), counter++);
    int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0 || errno != EEXIST) {
      if (fd < 0) {
        free(*tmp);
        *tmp = NULL;
      }
      return fd;
    }
  }
  free(*tmp);
  *tmp = NULL;
  errno = EEXIST;
  return -1;
}

/* An unnamed file (O_TMPFILE) in the directory of `target`, named only
 * when complete (name_unnamed), so an interrupted run leaves nothing; -1
 * where the file system, the kernel or /proc lacks what it takes. */
static int open_unnamed(const char *target, mode_t mode) {
#ifdef O_TMPFILE
  if (access("/proc/self/fd", X_OK) != 0) return -1;
  const char *slash = strrchr(target, '/');
  char *dir =
      slash ? strndup(target, (size_t)(slash - target) + 1) : strdup(".");
  if (!dir) return -1;
  int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
  free(dir);
  return fd;
#else
  (void)target, (void)mode;
  return -1;
#endif
}

/* Links the unnamed file fd in as "TARGET.tmp.PID.N" (*tmp); 0 or -1. */
static int name_unnamed(int fd, const char *target, char **tmp) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  size_t n = strlen(target) + 48;
  if (!(*tmp = malloc(n))) return -1;
  static unsigned counter;
  for (int tries = 0; tries < 100; tries++) {
    snprintf(*tmp, n, "%s.tmp.%ld.u%u", target, (long)getpid(), counter++);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, *tmp, AT_SYMLINK_FOLLOW) == 0)
      return 0;
    if (errno != EEXIST) break;
  }
  free(*tmp);
  *tmp = NULL;
  return -1;
}

/* Set once a failed write to stdout has been reported. */
static int stdout_reported;

int cli_out_open(cli_out *o, const char *path) {
  memset(o, 0, sizeof *o);
  o->path = path;
  if (!strcmp(path, "-")) {
    o->f = stdout;
    return 0;
  }
  struct stat sb;
  int fd = -1, exists = stat(path, &sb) == 0;
  struct stat lsb;
  int dangling = !exists && lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode);
  if ((exists && !S_ISREG(sb.st_mode)) || dangling) {
    /* a device, FIFO or socket (or a link to nothing yet): in place */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  } else {
    o->target = exists ? realpath(path, NULL) : strdup(path);
    mode_t mode = exists ? 0600 : 0666;
    if (o->target && (fd = open_unnamed(o->target, mode)) >= 0) o->unnamed = 1;
    if (o->target && fd < 0) fd = create_temp(o->target, mode, &o->tmp);
    if (fd >= 0 && exists) fchmod(fd, sb.st_mode & 07777);
  }
  if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
    int e = errno;
    cli_error("%s: cannot create: %s", path, strerror(e));
    if (fd >= 0) close(fd);
    if (o->tmp) unlink(o->tmp);
    free(o->tmp);
    free(o->target);
    memset(o, 0, sizeof *o);
    return e == ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
  }
  return 0;
}

int cli_out_close(cli_out *o, int ok) {
  if (!o->f) return 0;
  int rc = 0, e = 0;
  if (o->f == stdout) {
    o->f = NULL;
    if (fflush(stdout) != 0 || ferror(stdout)) {
      cli_error("stdout: write failed: %s", strerror(errno ? errno : EIO));
      stdout_reported = 1;
      return EXIT_RUNTIME;
    }
    return 0;
  }
  errno = 0;
  if (ferror(o->f)) e = errno ? errno : EIO;
  if (o->unnamed && !e && ok) { /* complete: give it a name */
    if (fflush(o->f) != 0)
      e = errno ? errno : EIO;
    else if (name_unnamed(fileno(o->f), o->target, &o->tmp) != 0)
      e = errno ? errno : EIO;
  }
  if (fclose(o->f) != 0 && !e) e = errno ? errno : EIO;
  o->f = NULL;
  if (!e && ok && o->tmp && rename(o->tmp, o->target) != 0) e = errno;
  if (e) {
    cli_error("%s: write failed: %s", o->path, strerror(e));
    rc = EXIT_RUNTIME;
  }
  if (o->tmp && (e || !ok)) unlink(o->tmp);
  free(o->tmp);
  free(o->target);
  o->tmp = o->target = NULL;
  return rc;
}

int cli_stdout_check(int rc) {
  errno = 0;
  int bad = fflush(stdout) != 0 || ferror(stdout);
  int e = errno;
  if (fclose(stdout) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (!bad) return rc;
  if (!stdout_reported)
    cli_error("stdout: write failed: %s", strerror(e ? e : EIO));
  return rc ? rc : EXIT_RUNTIME;
}

/* ---- JSON -------------------------------------------------------- */

void cli_json_begin(cli_json *j, FILE *f) {
  j->f = f;
  j->n = 0;
  fputc('{', f);
}

static void json_key(cli_json *j, const char *key) {
  fprintf(j->f, "%s\"%s\":", j->n++ ? "," : "", key);
}

void cli_json_str(cli_json *j, const char *key, const char *val) {
  json_key(j, key);
  fputc('"', j->f);
  for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(j->f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(j->f, "\\u%04x", *p);
    else
      fputc(*p, j->f);
  }
  fputc('"', j->f);
}

void cli_json_u64(cli_json *j, const char *key, uint64_t val) {
  json_key(j, key);
  fprintf(j->f, "%llu", (unsigned long long)val);
}

void cli_json_num(cli_json *j, const char *key, double val) {
  json_key(j, key);
  if (isfinite(val))
    fprintf(j->f, "%.10g", val);
  else
    fputs("null", j->f);
}

void cli_json_bool(cli_json *j, const char *key, int val) {
  json_key(j, key);
  fputs(val ? "true" : "false", j->f);
}

void cli_json_end(cli_json *j) { fputs("}\n", j->f); }

int cli_common_opt(cli_common *c, int opt, const char *arg) {
  switch (opt) {
  case 'i': c->input = cli_input_path(arg); return 1;
  case 'o': c->output = arg; return 1;
  case 't':
    if (cli_parse_int("--threads", arg, &c->threads)) return -1;
    if (c->threads > GASP_MAX_THREADS) {
      cli_error("--threads: %s is over the limit of %d (0: all cores)", arg,
                GASP_MAX_THREADS);
      return -1;
    }
    return 1;
  case OPT_FORMAT:
    if (gasp_format_parse(arg, &c->format)) {
      cli_error("--format: unknown format '%s' (auto, edgelist, snap, adj, "
                "mtx, uci, gasp)",
                arg);
      return -1;
    }
    return 1;
  case OPT_QUIET: c->quiet = 1; return 1;
  case OPT_JSON: c->json = 1; return 1;
  case OPT_SEED: return cli_parse_u64("--seed", arg, &c->seed) ? -1 : 1;
  case OPT_SYMMETRIC: c->symmetric = 1; return 1;
  case OPT_WEIGHTED: c->weighted = 1; return 1;
  case OPT_UNWEIGHTED: c->weighted = 0; return 1;
  case OPT_VOCAB: c->vocab = arg; return 1;
  }
  return 0;
}

/* The subcommand being run, for messages (set by main). */
static const char *command_name = "gasp";

void cli_set_command(const char *name) { command_name = name; }
const char *cli_command(void) { return command_name; }

int cli_getopt(int argc, char **argv, const char *shorts,
               const struct option *longopts) {
  char spec[128];
  snprintf(spec, sizeof spec, ":%s", shorts); /* ':' reports a missing value */
  opterr = 0;
  int opt = getopt_long(argc, argv, spec, longopts, NULL);
  if (opt != '?' && opt != ':') return opt;
  const char *cmd = command_name;
  char text[64];
  const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
  /* a short option inside a cluster ("-qx") is named alone */
  if (optopt > ' ' && optopt < 127 && (arg[0] != '-' || arg[1] != '-')) {
    snprintf(text, sizeof text, "-%c", optopt);
    arg = text;
  }
  if (opt == ':')
    cli_error("%s: option '%s' needs a value", cmd, arg);
  else
    cli_error("%s: unknown option '%s' (gasp %s --help lists them)", cmd, arg,
              cmd);
  return CLI_OPT_BAD;
}

int cli_positional(cli_common *c, int argc, char **argv) {
  for (int i = optind; i < argc; i++) {
    if (!c->input) {
      c->input = cli_input_path(argv[i]);
      continue;
    }
    cli_error("unexpected argument '%s'", argv[i]);
    return -1;
  }
  return 0;
}
