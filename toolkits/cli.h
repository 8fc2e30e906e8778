/*
 * cli.h -- shared pieces of the gasp command line: option parsing for the
 * common flags, error reporting, progress on stderr, JSON output.
 * Only the front end prints; the library returns statuses and messages.
 */
#ifndef GASP_TOOLKITS_CLI_H
#define GASP_TOOLKITS_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "gasp.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Flags most subcommands share. */
typedef struct cli_common {
  const char *input;
  const char *output;
  const char *vocab;
  gasp_format format;
  int threads;
  int quiet;
  int json;
  int symmetric;
  int weighted;  /* -1 auto, 0 --unweighted, 1 --weighted */
  int bipartite; /* sources and targets in separate id spaces (ratings) */
  uint64_t seed;
} cli_common;

void cli_common_init(cli_common *c);
/* "-" (standard input) as a path the library can open; others as given. */
const char *cli_input_path(const char *arg);

/* Prints "gasp: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The text of the last cli_error (without the name), and in *count (when
 * not NULL) how many have been reported. */
const char *cli_last_error(unsigned *count);
/* The name cli_error and progress lines start with (default "gasp"). */
void cli_set_name(const char *name);
/* Prints the library error (FILE:LINE: reason) and returns the exit code
 * for it: 1 for resource failures, 2 for bad input or usage. */
int cli_fail(const gasp_error *err, int status);

/* Number parsing with a clear message on failure (returns -1). */
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);
int cli_parse_int(const char *opt, const char *s, int *out);
int cli_parse_double(const char *opt, const char *s, double *out);

/* A progress reporter for gasp_load_opts.progress: redraws one status
 * line on stderr at most 5 times a second, only when stderr is a
 * terminal and not --quiet. */
typedef struct cli_progress {
  const char *label;
  int enabled;
  double last;
  int drawn;
} cli_progress;
void cli_progress_init(cli_progress *p, const char *label, int quiet);
int cli_progress_cb(void *user, const gasp_progress *p);
void cli_progress_end(cli_progress *p);

/* Loads c->input with the common flags; prints a summary line unless
 * quiet.  Returns 0 or an exit code (after printing the error). */
int cli_load_graph(const cli_common *c, gasp_graph **out, double *seconds);

/* Result files.  "-" is stdout.  A regular file (or a new one) is
 * written under a temporary name beside it and renamed over it when
 * complete, so a failed run leaves the old file; a new file gets mode
 * 0666 less the umask and a replaced one keeps its mode.  A symlink is
 * followed (the file it names is replaced, the link stays), and anything
 * else (a device such as /dev/null, a FIFO) is written in place, never
 * replaced.  cli_out_close() checks every write, commits when ok and
 * discards the temporary otherwise; both return 0 or an exit code (the
 * failure printed, naming the file). */
typedef struct cli_out {
  FILE *f;
  const char *path; /* as given, for messages            */
  char *target;     /* the file renamed over, or NULL     */
  char *tmp;        /* the temporary name, or NULL        */
  int unnamed;      /* f is an O_TMPFILE file, named at close */
} cli_out;
int cli_out_open(cli_out *o, const char *path);
int cli_out_close(cli_out *o, int ok);
/* Flushes stdout and reports a failed write ("gasp: stdout: ...");
 * returns rc, or EXIT_RUNTIME when rc was 0 and the output was lost. */
int cli_stdout_check(int rc);

/* Minimal JSON writer for the one-object summaries. */
typedef struct cli_json {
  FILE *f;
  int n;
} cli_json;
void cli_json_begin(cli_json *j, FILE *f);
void cli_json_str(cli_json *j, const char *key, const char *val);
void cli_json_u64(cli_json *j, const char *key, uint64_t val);
void cli_json_num(cli_json *j, const char *key, double val);
void cli_json_bool(cli_json *j, const char *key, int val);
void cli_json_end(cli_json *j);

double cli_now(void);

/* Subcommands. */
int cmd_info(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_pagerank(int argc, char **argv);
/* components and communities (cc, labelprop) */
int cmd_cc(int argc, char **argv);
int cmd_labelprop(int argc, char **argv);
/* paths, triangles, cores (sssp, bfs, triangles, kcore) */
int cmd_sssp(int argc, char **argv);
int cmd_bfs(int argc, char **argv);
int cmd_triangles(int argc, char **argv);
int cmd_kcore(int argc, char **argv);
int cmd_colour(int argc, char **argv);
int cmd_scc(int argc, char **argv);
int cmd_closeness(int argc, char **argv);
int cmd_diameter(int argc, char **argv);
int cmd_bc(int argc, char **argv);
/* partitioning */
int cmd_partition(int argc, char **argv);
/* matrix factorization (mf) */
int cmd_als(int argc, char **argv);
int cmd_sgd(int argc, char **argv);
int cmd_nmf(int argc, char **argv);
int cmd_svdpp(int argc, char **argv);
int cmd_wals(int argc, char **argv);
int cmd_jacobi(int argc, char **argv);
int cmd_svd(int argc, char **argv);
int cmd_spectral(int argc, char **argv);
int cmd_kmeans(int argc, char **argv);
int cmd_lbp(int argc, char **argv);
int cmd_split(int argc, char **argv);
int cmd_predict(int argc, char **argv);
/* topic models (lda, lda-infer) */
int cmd_lda(int argc, char **argv);
int cmd_lda_infer(int argc, char **argv);
/* plots (run the Python package) */
int cmd_plot(int argc, char **argv);

/* Common long options: commands append these to their own tables and pass
 * unknown option values to cli_common_opt(). */
#include <getopt.h>
enum {
  OPT_FORMAT = 256,
  OPT_QUIET,
  OPT_JSON,
  OPT_SEED,
  OPT_SYMMETRIC,
  OPT_WEIGHTED,
  OPT_UNWEIGHTED,
  OPT_VOCAB,
  OPT_FIRST_PRIVATE = 400
};
#define CLI_COMMON_OPTIONS                                                     \
  {"input", required_argument, 0, 'i'}, {"output", required_argument, 0, 'o'}, \
      {"threads", required_argument, 0, 't'},                                  \
      {"format", required_argument, 0, OPT_FORMAT},                            \
      {"quiet", no_argument, 0, OPT_QUIET},                                    \
      {"json", no_argument, 0, OPT_JSON},                                      \
      {"seed", required_argument, 0, OPT_SEED},                                \
      {"symmetric", no_argument, 0, OPT_SYMMETRIC},                            \
      {"undirected", no_argument, 0, OPT_SYMMETRIC},                           \
      {"weighted", no_argument, 0, OPT_WEIGHTED},                              \
      {"unweighted", no_argument, 0, OPT_UNWEIGHTED},                          \
      {"vocab", required_argument, 0, OPT_VOCAB}, {                            \
    "help", no_argument, 0, 'h'                                                \
  }
#define CLI_COMMON_SHORT "i:o:t:h"
/* getopt_long() that reports an unknown option or a missing value itself,
 * in one line naming the subcommand and the option, and then returns
 * CLI_OPT_BAD (the caller exits with EXIT_USAGE). */
void cli_set_command(const char *name);
const char *cli_command(void);
#define CLI_OPT_BAD (-2)
int cli_getopt(int argc, char **argv, const char *shorts,
               const struct option *longopts);
#define CLI_COMMON_HELP                                                        \
  "  -i, --input FILE     input file (gzip read transparently)\n"              \
  "  -o, --output FILE    output file\n"                                       \
  "      --format F       auto|edgelist|snap|adj|mtx|uci|ldac|triples|gasp\n"  \
  "  -t, --threads N      threads (default: OMP_NUM_THREADS or all cores)\n"   \
  "      --symmetric      add the reverse of every edge (undirected input)\n"  \
  "      --weighted / --unweighted   keep or drop a weight column\n"           \
  "      --vocab FILE     vocabulary for UCI bag-of-words input\n"             \
  "      --quiet          no progress or summary on stderr\n"                  \
  "      --json           print the summary as one JSON object\n"              \
  "  -h, --help           this help\n"

/* Handles a common option; returns 1 if handled, 0 if not common, -1 on a
 * bad value (message printed). */
int cli_common_opt(cli_common *c, int opt, const char *arg);
/* Takes the first non-option argument as the input if -i was not given;
 * more positional arguments are an error.  Returns 0 or -1. */
int cli_positional(cli_common *c, int argc, char **argv);

#endif
