/*
 * toolkit.h -- plumbing shared by the graph toolkits (pagerank, cc, sssp,
 * triangles, kcore, labelprop): the engine flags, --trace and progress,
 * per-vertex result files and summaries.  Toolkits use only the public
 * API of libgasp (include/gasp.h).
 */
#ifndef GASP_TOOLKIT_H
#define GASP_TOOLKIT_H

#include "cli.h"

/* Flags every graph toolkit takes, on top of the common ones. */
/* A distributed run (--np N, or --rank R with --peers / --coordinator,
 * or a launcher's environment): see toolkits/tk_dist.c. */
typedef struct tk_dist {
  int np;         /* --np N: fork N local ranks                      */
  int rank, size; /* this rank; size > 1 means distributed           */
  const char *peers, *coordinator, *key_file;
  const char *parts; /* --partitions PREFIX: read PREFIX.<rank>.gpart   */
  int hash;          /* --partition hash (default metis)                */
  int staleness_set; /* --staleness was given                           */
  int restarts;      /* --restart K: relaunch --np ranks after a crash  */
  int listen_fd;     /* rank 0 of --np: the coordinator socket          */
  char key[65];
  size_t key_len;
  gasp_cluster *cluster;
  unsigned errors_at_join; /* cli_error count once the cluster formed    */
  gasp_dist *dist;
  gasp_graph *global;        /* the whole graph: every rank loads it          */
  gasp_partition_stats part; /* of the run's owner map                  */
  double part_seconds;
  uint64_t bytes_sent; /* all ranks, after tk_dist_finish               */
} tk_dist;

typedef struct tk_opts {
  cli_common c;
  gasp_engine_opts eng;
  tk_dist d;
  int dist_ok;      /* the toolkit runs across ranks (set before tk_parse) */
  int staleness_ok; /* its sync program converges with bounded staleness */
  /* set before tk_parse: the toolkit runs on the sync engine only, for
   * this reason ("level by level"); --engine async is refused */
  const char *sync_only;
  /* set before tk_parse: the toolkit keeps checkpoints (--checkpoint,
   * --checkpoint-every, --checkpoint-seconds, --resume; see
   * TK_CHECKPOINT_HELP), on the sync engine; else the flags are refused */
  int checkpoint_ok;
  /* set before tk_parse, with dist_ok 0: why the toolkit runs as one
   * process, for the refusal of --np and the other cluster flags */
  const char *one_process;
  /* reads the input graph (default cli_load_graph of -i), on every rank */
  int (*load)(const cli_common *c, const char *path, gasp_graph **g,
              double *seconds);
  /* or this one, which keeps what it read beside the graph in load_user */
  int (*load_with)(void *load_user, const cli_common *c, const char *path,
                   gasp_graph **g, double *seconds);
  void *load_user;
  double tol;        /* convergence tolerance (toolkit default if < 0) */
  const char *trace; /* per-iteration TSV, or NULL */
  int engine_set;    /* --engine was given (toolkits pick their default) */
  /* the command takes a reordered snapshot (gasp convert --reorder): its
   * results do not depend on vertex order; tk_load refuses one otherwise */
  int reorder_ok;
  /* The flag groups the subcommand takes (TK_TAKES_*, all by default): a
   * flag of a group it leaves out is refused, not silently ignored. */
  unsigned takes;
} tk_opts;

enum {
  TK_TAKES_ENGINE = 1u << 0,    /* --engine                                  */
  TK_TAKES_ASYNC = 1u << 1,     /* --consistency, --scheduler, --locking     */
  TK_TAKES_MAX_ITER = 1u << 2,  /* --max-iter                               */
  TK_TAKES_TOL = 1u << 3,       /* --tol                                     */
  TK_TAKES_TRACE = 1u << 4,     /* --trace                                   */
  TK_TAKES_GPU = 1u << 5,       /* --gpu                                     */
  TK_TAKES_VOCAB = 1u << 6,     /* --vocab                                   */
  TK_TAKES_SEED = 1u << 7,      /* --seed                                    */
  TK_TAKES_SYMMETRIC = 1u << 8, /* --symmetric / --undirected              */
  TK_TAKES_WEIGHTS = 1u << 9,   /* --weighted, --unweighted                  */
  TK_TAKES_ALL = ~0u
};

enum {
  TK_OPT_ENGINE = 280,
  TK_OPT_CONSISTENCY,
  TK_OPT_SCHEDULER,
  TK_OPT_LOCKING,
  TK_OPT_MAX_ITER,
  TK_OPT_TOL,
  TK_OPT_TRACE,
  TK_OPT_NP,
  TK_OPT_RANK,
  TK_OPT_PEERS,
  TK_OPT_COORDINATOR,
  TK_OPT_KEY_FILE,
  TK_OPT_PARTITION,
  TK_OPT_PARTITIONS,
  TK_OPT_STALENESS,
  TK_OPT_GPU,
  TK_OPT_CHECKPOINT,
  TK_OPT_CHECKPOINT_EVERY,
  TK_OPT_CHECKPOINT_SECONDS,
  TK_OPT_RESUME,
  TK_OPT_RESTART,
  TK_OPT_END_ /* below OPT_FIRST_PRIVATE, where toolkits' own begin */
};
_Static_assert((int)TK_OPT_END_ <= (int)OPT_FIRST_PRIVATE,
               "the shared options run into the toolkits' own");

#define TK_OPTIONS                                                             \
  CLI_COMMON_OPTIONS, {"engine", required_argument, 0, TK_OPT_ENGINE},         \
      {"consistency", required_argument, 0, TK_OPT_CONSISTENCY},               \
      {"scheduler", required_argument, 0, TK_OPT_SCHEDULER},                   \
      {"locking", required_argument, 0, TK_OPT_LOCKING},                       \
      {"max-iter", required_argument, 0, TK_OPT_MAX_ITER},                     \
      {"tol", required_argument, 0, TK_OPT_TOL},                               \
      {"trace", required_argument, 0, TK_OPT_TRACE},                           \
      {"np", required_argument, 0, TK_OPT_NP},                                 \
      {"rank", required_argument, 0, TK_OPT_RANK},                             \
      {"peers", required_argument, 0, TK_OPT_PEERS},                           \
      {"coordinator", required_argument, 0, TK_OPT_COORDINATOR},               \
      {"cluster-key-file", required_argument, 0, TK_OPT_KEY_FILE},             \
      {"partition", required_argument, 0, TK_OPT_PARTITION},                   \
      {"partitions", required_argument, 0, TK_OPT_PARTITIONS},                 \
      {"staleness", required_argument, 0, TK_OPT_STALENESS},                   \
      {"gpu", required_argument, 0, TK_OPT_GPU},                               \
      {"checkpoint", required_argument, 0, TK_OPT_CHECKPOINT},                 \
      {"checkpoint-every", required_argument, 0, TK_OPT_CHECKPOINT_EVERY},     \
      {"checkpoint-seconds", required_argument, 0, TK_OPT_CHECKPOINT_SECONDS}, \
      {"resume", required_argument, 0, TK_OPT_RESUME}, {                       \
    "restart", required_argument, 0, TK_OPT_RESTART                            \
  }

#define TK_HELP                                                                \
  CLI_COMMON_HELP                                                              \
  "      --engine E       sync|async\n"                                        \
  "      --consistency C  vertex|edge|full (async)\n"                          \
  "      --scheduler S    fifo|sweep|priority (async)\n"                       \
  "      --locking L      locks|chromatic (async; default: the measured "      \
  "faster)\n"                                                                  \
  "      --max-iter N     stop after N iterations\n"                           \
  "      --tol X          convergence tolerance\n"                             \
  "      --trace FILE     per-iteration figures as TSV\n"                      \
  "      --np N           run as N local processes (ranks) on loopback\n"      \
  "      --rank R --peers H:P,...   this rank of a cluster (or under\n"        \
  "                       mpirun, with --coordinator H:P)\n"                   \
  "      --partition M    metis (default) or hash, for distributed runs\n"     \
  "      --partitions P   read this rank's part P.<rank>.gpart (gasp\n"        \
  "                       partition -o P) instead of the whole graph\n"        \
  "      --staleness S    distributed sync runs: a rank may run S "            \
  "supersteps\n"                                                               \
  "                       ahead of its neighbours (0: a barrier per step)\n"   \
  "      --gpu M          auto|on|off: the CUDA device for toolkits with\n"    \
  "                       device kernels (pagerank, als); auto uses one\n"     \
  "                       when present, on fails without one\n"                \
  "      --cluster-key-file F  cluster key (else $GASP_CLUSTER_KEY; --np\n"    \
  "                       makes a random one)\n"                               \
  "  -o FILE writes one 'id<TAB>value' line per vertex in ascending id "       \
  "order\n"                                                                    \
  "  ('-' for stdout); without -o only the summary is printed.\n"

void tk_opts_init(tk_opts *o);
/* Whether a toolkit with device kernels runs on the device: --gpu not off,
 * a device present and a CUDA build, and why_not NULL (the toolkit's reason
 * it cannot for this run).  Returns 1 (name: the device), 0 (the CPU), or
 * -1 for --gpu on where it cannot (message printed). */
int tk_use_gpu(const tk_opts *o, const char *toolkit, const char *why_not,
               char *name, size_t len);
/* "gpu" (the device used, or why none) and "gpu_batches" of an engine's
 * device apply into a summary. */
void tk_json_gpu(cli_json *j, const gasp_engine *e);
/* Handles common and engine flags: 1 handled, 0 not ours, -1 bad value
 * or a flag the subcommand does not take (o->takes; message printed). */
int tk_opt(tk_opts *o, int opt, const char *arg);

/* Per-iteration reporting: --trace lines, progress on a terminal, and an
 * optional stop test (return non-zero to end the run, e.g. converged). */
typedef struct tk_iter {
  const char *toolkit;
  FILE *trace;
  cli_progress progress;
  /* optional: residual (or objective) of the iteration just finished */
  double (*residual)(void *user);
  /* optional: non-zero ends the run */
  int (*done)(void *user, const gasp_iter_info *info, double residual);
  void *user;
  double last_residual;
} tk_iter;

/* Opens the trace (if any) and installs the callback into o->eng;
 * returns 0 or an exit code. */
int tk_iter_start(tk_iter *it, tk_opts *o, const char *toolkit);
void tk_iter_end(tk_iter *it);

/* Appends the text of vertex v's value to buf (at most cap bytes) and
 * returns its length. */
typedef int (*tk_fmt_fn)(char *buf, size_t cap, gasp_vid v, void *user);

/* Writes "id<TAB>value" per vertex (ascending original id) to path, or to
 * stdout for "-"; files are written under a temporary name and renamed
 * into place, so a failure leaves nothing.  Returns 0 or an exit code. */
int tk_write_vertices(const char *path, const gasp_graph *g, tk_fmt_fn fmt,
                      void *user);

/* Parses argv with TK_OPTIONS plus `extra` (toolkit options, ending with a
 * zero entry, values >= OPT_FIRST_PRIVATE); toolkit options go to `handle`
 * (return non-zero on a bad value).  Returns 0 to go on, TK_HELP_SHOWN
 * after --help, or an exit code. */
#define TK_HELP_SHOWN (-1)

/* The checkpoint flags taken together (tk_parse calls it; a command with
 * its own parser calls it after parsing): 0 or an exit code. */
int tk_checkpoint_check(tk_opts *o);

/* The checkpoint flags, for the help of a toolkit with checkpoint_ok. */
#define TK_CHECKPOINT_HELP                                                     \
  "      --checkpoint DIR write checkpoints to DIR (sync engine): each rank's\n" \
  "                       state at a superstep boundary, atomically; the\n"   \
  "                       newest two complete ones are kept\n"                \
  "      --checkpoint-every N   every N supersteps (sweeps: als, sgd, nmf,\n" \
  "                       svdpp, wals; 10 when no period is given)\n"        \
  "      --checkpoint-seconds S at most S seconds apart (not with\n"       \
  "                       --staleness, whose ranks cut each at its own\n"    \
  "                       superstep N, 2N, ...)\n"                            \
  "      --resume DIR     go on from the newest complete checkpoint in DIR\n" \
  "                       (of the same graph, options and ranks), and keep\n" \
  "                       writing checkpoints there unless --checkpoint\n"   \
  "                       names another directory\n"                         \
  "      --restart K      with --np: when a rank dies, relaunch every rank\n" \
  "                       from the newest checkpoint, up to K times\n"
int tk_parse(int argc, char **argv, tk_opts *o, const struct option *extra,
             const char *help, int (*handle)(int opt, const char *arg, void *u),
             void *u);

/* Loads the input graph with the common flags. */
int tk_load(tk_opts *o, gasp_graph **g, double *seconds);

/* Groups of a labelling (label[v] is a vertex index < n, as components
 * and communities are named): how many distinct labels, and the size of
 * the largest group.  Returns 0, or -1 when out of memory. */
int tk_count_groups(const gasp_vid *label, gasp_vid n, uint64_t *groups,
                    uint64_t *largest);

/* Zeroed per-thread slots aligned to a cache line, so that padded
 * per-thread counters never share one (free with free()). */
void *tk_calloc_lines(size_t n, size_t size);

/* Starts the engine for prog over g with the toolkit's engine flags;
 * returns 0 or an exit code (the failure printed). */
int tk_engine_new(gasp_engine **e, gasp_graph *g, const gasp_program *prog,
                  tk_opts *o);

/* Writes the run figures every toolkit summary carries: engine,
 * iterations, updates, converged, seconds, load_seconds. */
void tk_json_run(cli_json *j, const gasp_run_stats *st, int async,
                 int converged, double load_seconds);

/* Runs the engine with progress and trace; prints a failure. */
int tk_run(gasp_engine *e, gasp_run_stats *st);

/* ---- distributed runs (tk_dist.c) ---------------------------------- */

/* Called by tk_parse: handles --np (the parent forks the ranks, waits,
 * and gets TK_HELP_SHOWN or an exit code back; each rank goes on with 0)
 * and checks that the toolkit supports distributed runs. */
int tk_dist_launch(tk_opts *o);
int tk_dist_opt(tk_opts *o, int opt, const char *arg);
/* In a distributed run: joins the cluster, loads the whole graph,
 * partitions it, reports the partition and returns the local graph in *g
 * (free it with tk_graph_free). */
int tk_dist_load(tk_opts *o, gasp_graph **g, double *seconds);
/* 1 on the rank that writes results (rank 0, or a single process). */
static inline int tk_is_root(const tk_opts *o) {
  return o->d.size <= 1 || o->d.rank == 0;
}
/* Every rank's owned vertex data, size bytes per vertex, collected in
 * global vertex order on the root (malloc'd; NULL elsewhere or when the
 * collection failed, *rc then holds the exit code). */
void *tk_dist_gather(tk_opts *o, const void *local, size_t size, int *rc);
/* The graph results are written against: the whole graph (from
 * partition files: its vertices only, no edges). */
static inline gasp_graph *tk_result_graph(tk_opts *o, gasp_graph *g) {
  return o->d.global ? o->d.global : g;
}
/* Edges of the whole graph. */
static inline uint64_t tk_result_edges(tk_opts *o, gasp_graph *g) {
  return o->d.dist ? gasp_dist_global_edges(o->d.dist)
                   : gasp_graph_num_edges(g);
}
/* Collective, after the run on every rank: totals the bytes the ranks
 * sent.  Returns 0 or an exit code. */
int tk_dist_finish(tk_opts *o);
/* Collective, after the run: tk_dist_finish, the updates of every rank
 * into st, and the per-vertex results (size bytes each) in global order
 * on the root (malloc'd; NULL elsewhere or on failure, *rc set; local
 * NULL: the totals only). */
void *tk_dist_results(tk_opts *o, gasp_engine *e, gasp_run_stats *st,
                      const void *local, size_t size, int *rc);
/* Adds the distributed figures to a summary: ranks, partition method and
 * quality, bytes sent (all ranks) in total and per iteration. */
void tk_dist_json(tk_opts *o, cli_json *j, uint64_t iterations);
/* The run's checkpoint figures (written, resumed) for --json, when any. */
void tk_checkpoint_json(cli_json *j, const gasp_run_stats *st);
/* The process's peak resident memory for --json: "max_rss_bytes" and
 * "rss_bytes_per_edge" (over `edges`, the graph this process holds). */
void tk_json_memory(cli_json *j, uint64_t edges);
/* Frees the graph tk_load returned (and the cluster of a distributed run). */
void tk_graph_free(tk_opts *o, gasp_graph **g);

#endif
