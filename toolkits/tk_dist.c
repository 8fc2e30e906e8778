/*
 * tk_dist.c -- running a toolkit on several processes.
 *
 *   --np N            the command forks N ranks that meet on loopback: the
 *                     parent binds the coordinator socket (rank 0's) before
 *                     forking, so nobody races to listen, makes a random
 *                     cluster key unless one is given, waits for the ranks
 *                     and exits with the first failure's status.
 *   --rank R --peers H:P,...   one rank of a cluster started by hand.
 *   mpirun -np N gasp ...      rank and size from the launcher's environment
 *                     (OpenMPI OMPI_COMM_WORLD_RANK/SIZE, MPICH/PMI
 *                     PMI_RANK/PMI_SIZE); ranks meet at --coordinator H:P
 *                     (or $GASP_COORDINATOR), where rank 0 listens.  MPI is
 *                     only the launcher; nothing links it.
 *
 * The key: --cluster-key-file F (its first line), else $GASP_CLUSTER_KEY.
 * $GASP_CLUSTER_TIMEOUT (seconds, default 60) bounds every wait for a
 * peer: meeting and each superstep's exchange.
 * Every rank loads the whole graph and partitions it the same way (METIS
 * with a fixed seed, or hash), then keeps its local graph; rank 0 writes
 * the results, gathered in global vertex order, and prints the summary.
 */
#include "toolkit.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int tk_dist_opt(tk_opts *o, int opt, const char *arg) {
  switch (opt) {
  case TK_OPT_NP:
    if (cli_parse_int("--np", arg, &o->d.np)) return -1;
    if (o->d.np < 1 || o->d.np > 256) {
      cli_error("--np must be 1..256");
      return -1;
    }
    return 1;
  case TK_OPT_RANK:
    if (cli_parse_int("--rank", arg, &o->d.rank)) return -1;
    if (o->d.rank < 0) {
      cli_error("--rank must not be negative");
      return -1;
    }
    return 1;
  case TK_OPT_PEERS: o->d.peers = arg; return 1;
  case TK_OPT_COORDINATOR: o->d.coordinator = arg; return 1;
  case TK_OPT_KEY_FILE: o->d.key_file = arg; return 1;
  case TK_OPT_PARTITIONS: o->d.parts = arg; return 1;
  case TK_OPT_STALENESS: {
    int v;
    if (cli_parse_int("--staleness", arg, &v)) return -1;
    if (v < 0 || v > 1000000) {
      cli_error("--staleness must be 0..1000000");
      return -1;
    }
    o->eng.staleness = (unsigned)v;
    o->d.staleness_set = 1;
    return 1;
  }
  case TK_OPT_PARTITION:
    if (!strcmp(arg, "metis"))
      o->d.hash = 0;
    else if (!strcmp(arg, "hash"))
      o->d.hash = 1;
    else {
      cli_error("--partition: expected metis or hash, got '%s'", arg);
      return -1;
    }
    return 1;
  }
  return 0;
}

static int read_key(tk_opts *o) {
  const char *k = NULL;
  char line[256];
  if (o->d.key_file) {
    FILE *f = fopen(o->d.key_file, "r");
    if (!f) {
      cli_error("%s: cannot read the cluster key: %s", o->d.key_file,
                strerror(errno));
      return EXIT_USAGE;
    }
    k = fgets(line, sizeof line, f);
    fclose(f);
    if (k) line[strcspn(line, "\r\n")] = '\0';
  } else {
    k = getenv("GASP_CLUSTER_KEY");
  }
  if (!k) return 0;
  size_t n = strlen(k);
  if (n < 8 || n >= sizeof o->d.key) {
    cli_error("the cluster key must be 8 to %zu characters",
              sizeof o->d.key - 1);
    return EXIT_USAGE;
  }
  memcpy(o->d.key, k, n + 1);
  o->d.key_len = n;
  return 0;
}

static int env_int(const char *a, const char *b, int *out) {
  const char *s = getenv(a);
  if (!s) s = getenv(b);
  if (!s || !*s) return 0;
  *out = atoi(s);
  return 1;
}

static int count_peers(const char *list) {
  int n = 1;
  for (const char *p = list; *p; p++)
    n += *p == ',';
  return n;
}

/* The launcher's ranks, for its signal handler (the gasp command's own
 * state: one launcher per process). */
static pid_t *launched;
static int nlaunched;

/* SIGINT or SIGTERM to the launcher ends its ranks too, then itself. */
static void forward_signal(int sig) {
  for (int r = 0; r < nlaunched; r++)
    if (launched[r] > 0) kill(launched[r], SIGTERM);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Waits for every rank.  Once one has failed, the others get half a second
 * to finish or report, then SIGTERM: a rank that failed early (a bad
 * partition set, a wrong key) must not leave the rest waiting for it
 * until the cluster timeout.  Returns EXIT_USAGE when any rank found the
 * input or the flags wrong (the others then fail only because it told
 * them to stop), else the first failure's exit status. */
static int wait_ranks(pid_t *pid, int np, int *died, int *died_sig) {
  int status = 0, left = np, usage = 0;
  *died = -1;
  double fail_at = 0;
  while (left > 0) {
    int w = 0;
    pid_t p = waitpid(-1, &w, fail_at > 0 ? WNOHANG : 0);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) break;
    if (p == 0) { /* after a failure: the grace period */
      struct timespec now, nap = {0, 20 * 1000 * 1000};
      clock_gettime(CLOCK_MONOTONIC, &now);
      if ((double)now.tv_sec + 1e-9 * (double)now.tv_nsec - fail_at > 0.5) {
        for (int r = 0; r < np; r++)
          if (pid[r] > 0) kill(pid[r], SIGTERM);
        fail_at = -1; /* killed: wait for them without a deadline */
      } else {
        nanosleep(&nap, NULL);
      }
      continue;
    }
    int r = 0;
    while (r < np && pid[r] != p)
      r++;
    if (r == np) continue;
    pid[r] = 0;
    left--;
    int st = WIFEXITED(w) ? WEXITSTATUS(w) : EXIT_RUNTIME;
    if (WIFSIGNALED(w) && fail_at >= 0) {
      cli_error("rank %d ended by signal %d", r, WTERMSIG(w));
      if (*died < 0) *died = r, *died_sig = WTERMSIG(w);
    }
    if (st == EXIT_USAGE) usage = 1;
    if (st && !status) {
      status = st;
      if (fail_at == 0 && left > 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        fail_at = (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
      }
    }
  }
  return usage ? EXIT_USAGE : status;
}

/* The parent of --np N: binds the coordinator, forks, waits.  The ranks
 * die with it (PR_SET_PDEATHSIG), so killing the launcher leaves no
 * orphan ranks to go on and write the output. */
/* The newest complete checkpoint generation in dir (its iteration), or -1
 * when there is none (a restart then starts over). */
static long long newest_checkpoint(const char *dir) {
  DIR *d = dir ? opendir(dir) : NULL;
  if (!d) return -1;
  long long best = -1;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strncmp(de->d_name, "step-", 5) || strlen(de->d_name) != 25) continue;
    char m[4096];
    struct stat sb;
    snprintf(m, sizeof m, "%s/%s/MANIFEST", dir, de->d_name);
    long long it = atoll(de->d_name + 5);
    if (stat(m, &sb) == 0 && it > best) best = it;
  }
  closedir(d);
  return best;
}

static int fork_ranks_once(tk_opts *o, int *died, int *died_sig);

/* --np N with --restart K: a run whose rank died (a signal) is launched
 * again, every rank resuming from the newest complete checkpoint (or from
 * the start when none was written yet), at most K times. */
static int fork_ranks(tk_opts *o) {
  for (int attempt = 0;; attempt++) {
    int died = -1, sig = 0;
    int rc = fork_ranks_once(o, &died, &sig);
    if (rc == 0) return 0; /* a rank: go on */
    if (rc == TK_HELP_SHOWN || died < 0 || attempt >= o->d.restarts ||
        rc == EXIT_USAGE)
      return rc;
    long long at = newest_checkpoint(o->eng.checkpoint_dir);
    if (at >= 0) {
      o->eng.resume_dir = o->eng.checkpoint_dir;
      cli_error("rank %d died (signal %d): restart %d of %d from the "
                "checkpoint of iteration %lld",
                died, sig, attempt + 1, o->d.restarts, at);
    } else {
      o->eng.resume_dir = NULL;
      cli_error("rank %d died (signal %d): restart %d of %d from the start "
                "(no checkpoint yet)",
                died, sig, attempt + 1, o->d.restarts);
    }
  }
}

static int fork_ranks_once(tk_opts *o, int *died, int *died_sig) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 256) ||
      getsockname(fd, (struct sockaddr *)&a, &len)) {
    cli_error("--np: cannot listen on loopback: %s", strerror(errno));
    if (fd >= 0) close(fd);
    return EXIT_RUNTIME;
  }
  static char coord[64];
  snprintf(coord, sizeof coord, "127.0.0.1:%d", ntohs(a.sin_port));
  if (!o->d.key_len) { /* a fresh key for this run */
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
      cli_error("--np: no random bytes for a cluster key");
      close(fd);
      return EXIT_RUNTIME;
    }
    for (int i = 0; i < 16; i++)
      sprintf(o->d.key + 2 * i, "%02x", r[i]);
    o->d.key_len = 32;
  }
  int np = o->d.np;
  pid_t *pid = calloc((size_t)np, sizeof *pid);
  if (!pid) {
    close(fd);
    return EXIT_RUNTIME;
  }
  fflush(NULL);
  pid_t parent = getpid();
  launched = pid;
  nlaunched = np;
  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward_signal;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  for (int r = 0; r < np; r++) {
    pid[r] = fork();
    if (pid[r] < 0) {
      cli_error("--np: fork: %s", strerror(errno));
      for (int q = 0; q < r; q++)
        kill(pid[q], SIGTERM);
      for (int q = 0; q < r; q++)
        waitpid(pid[q], NULL, 0);
      sigaction(SIGINT, &old_int, NULL);
      sigaction(SIGTERM, &old_term, NULL);
      launched = NULL;
      nlaunched = 0;
      free(pid);
      close(fd);
      return EXIT_RUNTIME;
    }
    if (pid[r] == 0) {
      sigaction(SIGINT, &old_int, NULL);
      sigaction(SIGTERM, &old_term, NULL);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(EXIT_RUNTIME); /* it died already */
      launched = NULL;
      nlaunched = 0;
      free(pid);
      o->d.rank = r;
      o->d.size = np;
      o->d.coordinator = coord;
      o->d.listen_fd = r == 0 ? fd : -1;
      if (r) close(fd);
      return 0; /* go on as rank r */
    }
  }
  close(fd);
  int status = wait_ranks(pid, np, died, died_sig);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  launched = NULL;
  nlaunched = 0;
  free(pid);
  return status ? status : TK_HELP_SHOWN; /* done: exit 0 */
}

int tk_dist_launch(tk_opts *o) {
  signal(SIGPIPE, SIG_IGN); /* a lost peer is an error, not a signal */
  int env_rank = -1, env_size = 0;
  int from_env = env_int("OMPI_COMM_WORLD_RANK", "PMI_RANK", &env_rank) &&
                 env_int("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", &env_size);
  int wanted =
      o->d.np > 1 || o->d.peers || o->d.rank >= 0 || (from_env && env_size > 1);
  if (!wanted) {
    if (o->d.parts) {
      cli_error("--partitions: a partition set is read by a cluster (--np N, "
                "--rank/--peers or a launcher)");
      return EXIT_USAGE;
    }
    o->d.rank = 0;
    return 0;
  }
  if (o->d.staleness_set && o->eng.staleness &&
      (!o->staleness_ok || o->eng.engine != GASP_ENGINE_SYNC)) {
    cli_error("--staleness: %s",
              o->staleness_ok ? "bounded staleness is a mode of the sync "
                                "engine (drop --engine async)"
                              : "this toolkit's result depends on "
                                "lock-step supersteps; run it without");
    return EXIT_USAGE;
  }
  if (!o->dist_ok) {
    if (o->one_process)
      cli_error("%s runs as one process (%s): drop --np, --rank, mpirun",
                cli_command(), o->one_process);
    else
      cli_error("this toolkit does not run across processes yet (--np, "
                "--rank, mpirun): run it as one process");
    return EXIT_USAGE;
  }
  int rc = read_key(o);
  if (rc) return rc;
  if (o->d.np > 1) {
    if (o->d.peers || o->d.rank >= 0) {
      cli_error("--np starts its own ranks: drop --rank and --peers");
      return EXIT_USAGE;
    }
    return fork_ranks(o);
  }
  if (!o->d.key_len) {
    cli_error(
        "a cluster needs a key: --cluster-key-file FILE or $GASP_CLUSTER_KEY");
    return EXIT_USAGE;
  }
  if (o->d.peers) {
    if (o->d.rank < 0) {
      cli_error("--peers needs --rank R");
      return EXIT_USAGE;
    }
    o->d.size = count_peers(o->d.peers);
  } else {
    if (o->d.rank < 0 && from_env) o->d.rank = env_rank;
    o->d.size = from_env ? env_size : 0;
    if (!o->d.coordinator) o->d.coordinator = getenv("GASP_COORDINATOR");
    if (o->d.size < 1 || o->d.rank < 0 || !o->d.coordinator) {
      cli_error("--rank needs --peers, or a launcher's rank and size with "
                "--coordinator H:P");
      return EXIT_USAGE;
    }
  }
  if (o->d.rank >= o->d.size) {
    cli_error("--rank %d is not below the %d ranks", o->d.rank, o->d.size);
    return EXIT_USAGE;
  }
  return 0;
}

/* Partition quality from the ranks' own parts: a cut edge is held by
 * both of its ranks with one ghost end. */
static int part_stats(tk_opts *o) {
  tk_dist *d = &o->d;
  gasp_graph *l = gasp_dist_graph(d->dist);
  gasp_vid no = gasp_graph_num_owned(l), nv = gasp_graph_num_vertices(l);
  gasp_adjacency out;
  gasp_graph_out_edges(l, &out);
  double cut = 0, owned_edges = 0;
  for (gasp_vid v = 0; v < nv; v++)
    for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++) {
      int ghost_ends = (v >= no) + (out.nbr[j] >= no);
      cut += ghost_ends == 1;
      owned_edges += v < no;
    }
  double sum[2] = {cut, (double)(nv - no)};
  double mx[3] = {(double)no, owned_edges, (double)(nv - no)};
  gasp_error err;
  int st = gasp_cluster_allreduce(d->cluster, sum, 2, GASP_REDUCE_SUM, &err);
  if (!st)
    st = gasp_cluster_allreduce(d->cluster, mx, 3, GASP_REDUCE_MAX, &err);
  if (st) return cli_fail(&err, st);
  uint64_t gnv = gasp_dist_global_vertices(d->dist);
  uint64_t gne = gasp_dist_global_edges(d->dist);
  d->part.parts = d->size;
  d->part.edge_cut_fraction = gne ? sum[0] / 2 / (double)gne : 0;
  d->part.vertex_balance = gnv ? mx[0] / ((double)gnv / d->size) : 0;
  d->part.edge_balance = gne ? mx[1] / ((double)gne / d->size) : 0;
  d->part.ghosts_total = (uint64_t)sum[1];
  d->part.ghosts_max = (uint64_t)mx[2];
  return 0;
}

/* --partitions PREFIX: this rank reads only its part; the whole graph is
 * known by its vertex ids (rank 0 writes results against them). */
static int load_parts(tk_opts *o, gasp_graph **g, double *seconds) {
  tk_dist *d = &o->d;
  double t0 = cli_now();
  gasp_error err;
  int st = gasp_dist_load(&d->dist, d->cluster, d->parts, &err);
  if (st) return cli_fail(&err, st);
  const gasp_gid *ids = gasp_dist_global_gids(d->dist);
  uint64_t n = gasp_dist_global_vertices(d->dist);
  gasp_builder *b = NULL;
  if ((st = gasp_builder_new(&b, 0))) return cli_fail(NULL, st);
  for (uint64_t v = 0; v < n && !st; v++)
    st = gasp_builder_add_vertex(b, GASP_SIDE_LEFT, ids[v]);
  if (!st) st = gasp_builder_finish(b, o->c.threads, &d->global, &err);
  gasp_builder_free(&b);
  if (st) return cli_fail(&err, st);
  if (seconds) *seconds = cli_now() - t0;
  int rc = part_stats(o);
  if (rc) return rc;
  if (d->rank == 0 && !o->c.quiet)
    fprintf(stderr,
            "gasp: read %s.*.gpart: %d ranks, %" PRIu64 " vertices, %" PRIu64
            " edges in %.3f s: edge cut %.4f, vertex balance %.3f, edge "
            "balance %.3f, ghosts %" PRIu64 "\n",
            d->parts, d->size, n, gasp_dist_global_edges(d->dist),
            cli_now() - t0, d->part.edge_cut_fraction, d->part.vertex_balance,
            d->part.edge_balance, d->part.ghosts_total);
  o->eng.dist = d->dist;
  *g = gasp_dist_graph(d->dist);
  st = gasp_cluster_barrier(d->cluster, &err); /* all ranks loaded */
  return st ? cli_fail(&err, st) : 0;
}

int tk_dist_load(tk_opts *o, gasp_graph **g, double *seconds) {
  tk_dist *d = &o->d;
  int root = d->rank == 0;
  if (!root) { /* one voice: rank 0 reports */
    o->c.quiet = 1;
    o->c.json = 0;
    o->trace = NULL;
  }
  gasp_cluster_opts co;
  gasp_cluster_opts_init(&co);
  co.rank = d->rank;
  co.size = d->size;
  co.coordinator = d->coordinator;
  co.listen_fd = d->listen_fd;
  co.key = d->key;
  co.key_len = d->key_len;
  const char *to = getenv("GASP_CLUSTER_TIMEOUT"); /* seconds; default 60 */
  if (to && atof(to) > 0) co.timeout = atof(to);
  const char **peers = NULL;
  char *copy = NULL;
  if (d->peers) {
    copy = strdup(d->peers);
    peers = calloc((size_t)d->size, sizeof *peers);
    if (!copy || !peers) {
      free(copy);
      free(peers);
      return EXIT_RUNTIME;
    }
    int n = 0;
    for (char *s = strtok(copy, ","); s && n < d->size; s = strtok(NULL, ","))
      peers[n++] = s;
    co.peers = peers;
  }
  gasp_error err;
  int st = gasp_cluster_new(&d->cluster, &co, &err);
  free(peers);
  free(copy);
  if (st) return cli_fail(&err, st);
  cli_last_error(&d->errors_at_join);
  if (d->parts) return load_parts(o, g, seconds);
  int rc = o->load_with ? o->load_with(o->load_user, &o->c, o->c.input,
                                       &d->global, seconds)
           : o->load    ? o->load(&o->c, o->c.input, &d->global, seconds)
                        : cli_load_graph(&o->c, &d->global, seconds);
  if (rc) return rc;
  gasp_vid nv = gasp_graph_num_vertices(d->global);
  uint32_t *owner = malloc((nv ? nv : 1) * sizeof *owner);
  if (!owner) return EXIT_RUNTIME;
  double t0 = cli_now();
  st = gasp_partition(d->global, d->hash ? "hash" : "metis", d->size, 1, owner,
                      &err);
  if (st) {
    free(owner);
    return cli_fail(&err, st);
  }
  double part_s = cli_now() - t0;
  d->part_seconds = part_s;
  gasp_partition_stats ps;
  memset(&ps, 0, sizeof ps);
  if (gasp_partition_stats_compute(d->global, d->size, owner, o->c.threads,
                                   &ps) == GASP_OK)
    d->part = ps;
  if (root && !o->c.quiet) {
    fprintf(stderr,
            "gasp: partition: %s into %d ranks in %.3f s: edge cut %.4f, "
            "vertex balance %.3f, edge balance %.3f, ghosts %" PRIu64
            " (at most %" PRIu64 " per rank)\n",
            d->hash ? "hash" : "metis", d->size, part_s, ps.edge_cut_fraction,
            ps.vertex_balance, ps.edge_balance, ps.ghosts_total, ps.ghosts_max);
  }
  st = gasp_dist_new(&d->dist, d->cluster, d->global, owner, &err);
  free(owner);
  /* every rank set up (METIS runs on each): run times then measure the
   * run, not the slowest rank's partitioning */
  if (!st) st = gasp_cluster_barrier(d->cluster, &err);
  if (st) return cli_fail(&err, st);
  o->eng.dist = d->dist;
  *g = gasp_dist_graph(d->dist);
  return 0;
}

void *tk_dist_gather(tk_opts *o, const void *local, size_t size, int *rc) {
  *rc = 0;
  if (!o->d.dist) return NULL;
  void *all = NULL;
  if (o->d.rank == 0) {
    uint64_t n = gasp_dist_global_vertices(o->d.dist);
    all = calloc(n ? n : 1, size);
    if (!all) {
      cli_error("out of memory");
      *rc = EXIT_RUNTIME;
    }
  }
  gasp_error err;
  int st = gasp_dist_gather(o->d.dist, local, size, all, &err);
  if (st) {
    free(all);
    *rc = cli_fail(&err, st);
    return NULL;
  }
  return all;
}

int tk_dist_finish(tk_opts *o) {
  tk_dist *d = &o->d;
  if (!d->cluster) return 0;
  uint64_t sent = 0, got = 0;
  gasp_cluster_traffic(d->cluster, &sent, &got);
  double bytes = (double)sent;
  gasp_error err;
  int st = gasp_cluster_allreduce(d->cluster, &bytes, 1, GASP_REDUCE_SUM, &err);
  if (st) return cli_fail(&err, st);
  d->bytes_sent = (uint64_t)bytes;
  return 0;
}

void *tk_dist_results(tk_opts *o, gasp_engine *e, gasp_run_stats *st,
                      const void *local, size_t size, int *rc) {
  (void)e; /* the totals travel over the cluster: the engine may be gone */
  if ((*rc = tk_dist_finish(o))) return NULL;
  double u = (double)st->updates;
  if (gasp_cluster_allreduce(o->d.cluster, &u, 1, GASP_REDUCE_SUM, NULL) ==
      GASP_OK)
    st->updates = (uint64_t)u;
  double it = (double)st->iterations; /* bounded staleness: ranks differ */
  if (gasp_cluster_allreduce(o->d.cluster, &it, 1, GASP_REDUCE_MAX, NULL) ==
      GASP_OK)
    st->iterations = (uint64_t)it;
  return local ? tk_dist_gather(o, local, size, rc) : NULL;
}

void tk_dist_json(tk_opts *o, cli_json *j, uint64_t iterations) {
  tk_dist *d = &o->d;
  cli_json_u64(j, "ranks", (uint64_t)(d->size > 1 ? d->size : 1));
  if (d->size <= 1) return;
  cli_json_str(j, "partition", d->parts ? "files" : d->hash ? "hash" : "metis");
  cli_json_num(j, "edge_cut_fraction", d->part.edge_cut_fraction);
  cli_json_num(j, "vertex_balance", d->part.vertex_balance);
  cli_json_num(j, "edge_balance", d->part.edge_balance);
  cli_json_u64(j, "ghosts_total", d->part.ghosts_total);
  cli_json_num(j, "partition_seconds", d->part_seconds);
  if (o->eng.engine == GASP_ENGINE_SYNC)
    cli_json_u64(j, "staleness", o->eng.staleness);
  cli_json_u64(j, "bytes_sent", d->bytes_sent);
  cli_json_num(j, "bytes_sent_per_iteration",
               iterations ? (double)d->bytes_sent / (double)iterations : 0);
}

void tk_graph_free(tk_opts *o, gasp_graph **g) {
  if (o->d.dist) {
    *g = NULL; /* the local graph belongs to the dist */
    gasp_dist_free(&o->d.dist);
  } else {
    gasp_graph_free(g);
  }
  /* a distributed run may fail after joining, before its dist exists */
  gasp_graph_free(&o->d.global);
  /* a rank that reported an error tells the others why, so they stop at
   * once instead of waiting for it until the cluster timeout */
  unsigned errors;
  const char *why = cli_last_error(&errors);
  if (o->d.cluster && errors != o->d.errors_at_join)
    gasp_cluster_abort(o->d.cluster, why);
  gasp_cluster_free(&o->d.cluster);
  o->eng.dist = NULL;
}
