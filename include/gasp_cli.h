/*
 * gasp_cli.h -- a command-line driver for vertex programs (libgasp_cli,
 * pkg-config gasp-cli).
 *
 * gasp_cli_main() gives a program written against <gasp.h> the command
 * line the gasp toolkits take: the input and its format (-i, --format,
 * --symmetric, ...), threads, the engine, consistency, scheduler and
 * locking, --max-iter, across ranks (--np N, --rank/--peers, under mpirun,
 * --partition, --partitions, --staleness), --trace FILE, --json, --quiet,
 * -o FILE ("id<TAB>value" per vertex in ascending original id, '-' for
 * stdout) and --help.  It loads the graph (on every rank), makes the
 * engine, lets the program signal its first vertices, runs, and writes the
 * results and a summary; errors are one line on stderr and the exit status
 * is 0 (success), 1 (runtime failure) or 2 (usage or input error).
 *
 * The driver prints and exits through its return value, so unlike libgasp
 * it is for programs whose main() it is.  One call per process.
 */
#ifndef GASP_CLI_H
#define GASP_CLI_H

#include <gasp.h>

#include <getopt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The run under way, handed to the program's start callback. */
typedef struct gasp_cli_run gasp_cli_run;

/* Option values of a program's own long options start here. */
#define GASP_CLI_OPT_FIRST 300

typedef struct gasp_cli {
  const char *name;  /* the program's name, in --help and the summary */
  const char *usage; /* --help: what it does and its own options, shown
                        before the common options */
  /* optional: the program's own long options (getopt_long entries ending
   * with a zero entry; values >= GASP_CLI_OPT_FIRST) and their handler,
   * which returns non-zero on a bad value after gasp_cli_error() */
  const struct option *options;
  int (*option)(int opt, const char *arg, void *user);
  /* optional: after the engine is made, signal the vertices the run
   * starts from (gasp_cli_signal_id for an id from the command line);
   * returns 0, or an exit status.  Default: the --source vertex when the
   * program takes one, else every vertex. */
  int (*start)(gasp_cli_run *run, void *user);
  /* 1: the program takes --source ID (required), and the run starts from
   * that vertex, signalled with source_msg when it is not NULL */
  int source;
  const void *source_msg;
  /* optional: -o writes, for each vertex, its original id, a tab and what
   * this formats from its vertex data into buf (at most cap bytes;
   * returns the length).  Without it, -o is refused. */
  int (*format)(char *buf, size_t cap, const void *vdata, void *user);
  void *user;
  /* the program reaches the same result with bounded staleness
   * (monotone programs: min-label, shortest paths); else --staleness is
   * refused */
  int staleness_ok;
  /* where --tol X goes (the program's convergence tolerance; it keeps
   * its own default when the flag is absent); NULL: --tol is refused */
  double *tol;
  /* the program is only right on the sync engine (e.g. level-synchronous
   * BFS): --engine async is refused */
  int sync_only;
} gasp_cli;

/* Parses argv, runs prog as described above and returns the exit status
 * for main().  prog->user is the program's, as in gasp_engine_new. */
int gasp_cli_main(int argc, char **argv, const gasp_program *prog,
                  const gasp_cli *cli);

/* In start: the engine and this process's graph (a rank's local graph in
 * a distributed run). */
gasp_engine *gasp_cli_engine(gasp_cli_run *run);
gasp_graph *gasp_cli_graph(gasp_cli_run *run);

/* In start: signals the vertex with original id `id` (left side), with
 * msg (the program's msg_size bytes) when not NULL, on the rank that owns
 * it.  An id that is in no rank's graph is an input error named after
 * `what` (e.g. "--source"): returns 2 after printing it, else 0. */
int gasp_cli_signal_id(gasp_cli_run *run, const char *what, gasp_gid id,
                       const void *msg);

/* "NAME: message" on stderr, NAME being the running program's. */
void gasp_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses a non-negative integer option value; 0, or -1 after printing
 * "OPT: expected ...". */
int gasp_cli_parse_u64(const char *opt, const char *arg, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif /* GASP_CLI_H */
