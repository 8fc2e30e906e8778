/*
 * testutil.h -- helpers shared by the cmocka test programs: temporary
 * directories, writing plain and gzip files, running a command with its
 * output captured, a small random generator, and graph checks that use
 * only the public API (structure consistency, edge multisets in original
 * ids, exact equality of two graphs).
 *
 * Include after <cmocka.h> and "gasp.h".  Everything is static: each test
 * program is one translation unit.
 */
#ifndef GASP_TESTUTIL_H
#define GASP_TESTUTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "gasp.h"

#if defined(__GNUC__)
#define TU_UNUSED __attribute__((unused))
#else
#define TU_UNUSED
#endif

/* ---- dense linear algebra ------------------------------------------ */

/* Solves M x = b (n x n, row-major, copied) by Gaussian elimination with
 * partial pivoting. */
static TU_UNUSED void tu_dense_solve(int n, const double *M0, const double *b0,
                                     double *x) {
  double *M = malloc(sizeof(double) * (size_t)(n * n));
  double *b = malloc(sizeof(double) * (size_t)n);
  assert_non_null(M);
  assert_non_null(b);
  memcpy(M, M0, sizeof(double) * (size_t)(n * n));
  memcpy(b, b0, sizeof(double) * (size_t)n);
  for (int c = 0; c < n; c++) {
    int p = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(M[r * n + c]) > fabs(M[p * n + c])) p = r;
    for (int j = 0; j < n; j++) {
      double t = M[c * n + j];
      M[c * n + j] = M[p * n + j];
      M[p * n + j] = t;
    }
    double t = b[c];
    b[c] = b[p];
    b[p] = t;
    for (int r = c + 1; r < n; r++) {
      double f = M[r * n + c] / M[c * n + c];
      for (int j = c; j < n; j++)
        M[r * n + j] -= f * M[c * n + j];
      b[r] -= f * b[c];
    }
  }
  for (int r = n - 1; r >= 0; r--) {
    double s = b[r];
    for (int j = r + 1; j < n; j++)
      s -= M[r * n + j] * x[j];
    x[r] = s / M[r * n + r];
  }
  free(M);
  free(b);
}

/* ---- random numbers (SplitMix64) ------------------------------------- */

typedef struct tu_rng {
  uint64_t s;
} tu_rng;

static TU_UNUSED uint64_t tu_next(tu_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in 0 .. n-1 (n > 0; the tiny modulo bias does not matter). */
static TU_UNUSED uint64_t tu_below(tu_rng *r, uint64_t n) {
  return tu_next(r) % n;
}

/* ---- files and directories ------------------------------------------- */

/* A new empty directory under $TMPDIR (or /tmp); malloc'd path. */
static TU_UNUSED char *tu_mkdtemp(void) {
  const char *base = getenv("TMPDIR");
  if (!base || !*base) base = "/tmp";
  size_t n = strlen(base) + 32;
  char *p = malloc(n);
  assert_non_null(p);
  snprintf(p, n, "%s/gasp-test-XXXXXX", base);
  assert_non_null(mkdtemp(p));
  return p;
}

static TU_UNUSED int tu_rm_cb(const char *path, const struct stat *sb, int flag,
                              struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Removes `dir` and everything in it, then frees the string. */
static TU_UNUSED void tu_rmtree(char *dir) {
  if (!dir) return;
  nftw(dir, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

/* dir + "/" + name into a malloc'd string. */
static TU_UNUSED char *tu_path(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  assert_non_null(p);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

static TU_UNUSED void tu_write_bytes(const char *path, const void *data,
                                     size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  if (len) assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static TU_UNUSED void tu_write_str(const char *path, const char *s) {
  tu_write_bytes(path, s, strlen(s));
}

/* Writes data gzip-compressed with zlib's gzopen/gzwrite. */
static TU_UNUSED void tu_write_gz(const char *path, const void *data,
                                  size_t len) {
  gzFile z = gzopen(path, "wb6");
  assert_non_null(z);
  const char *p = data;
  while (len > 0) {
    unsigned k = len > (1u << 30) ? (1u << 30) : (unsigned)len;
    assert_int_equal(gzwrite(z, p, k), (int)k);
    p += k;
    len -= k;
  }
  assert_int_equal(gzclose(z), Z_OK);
}

/* Whole file into a malloc'd, NUL-terminated buffer; *len its size. */
static TU_UNUSED char *tu_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  assert_non_null(buf);
  for (;;) {
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
      assert_non_null(buf);
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    if (r == 0) break;
    n += r;
  }
  fclose(f);
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

/* Whether two files hold the same bytes (false when either is missing). */
static TU_UNUSED int tu_same_file(const char *a, const char *b) {
  size_t na, nb;
  char *x = tu_read_file(a, &na), *y = tu_read_file(b, &nb);
  int same = x && y && na == nb && !memcmp(x, y, na);
  free(x);
  free(y);
  return same;
}

/* SIGKILLs the second child of `launcher` (rank 1 of a --np run), when
 * it has one. */
static TU_UNUSED void tu_kill_rank1(pid_t launcher) {
  char kids[64];
  snprintf(kids, sizeof kids, "/proc/%d/task/%d/children", (int)launcher,
           (int)launcher);
  FILE *kf = fopen(kids, "r");
  int rank0 = 0, rank1 = 0;
  if (kf) {
    if (fscanf(kf, "%d %d", &rank0, &rank1) != 2) rank1 = 0;
    fclose(kf);
  }
  if (rank1 > 0) kill(rank1, SIGKILL);
}

static TU_UNUSED int tu_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

static TU_UNUSED uint64_t tu_file_size(const char *path) {
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  return (uint64_t)sb.st_size;
}

/* Entries in `dir` other than . and .. */
static TU_UNUSED int tu_count_entries(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

/* ---- running a command ------------------------------------------------ */

typedef struct tu_result {
  int status; /* exit status, or -1 when killed by a signal */
  int sig;    /* the signal that ended it, else 0             */
  char *out;  /* captured stdout (malloc'd, NUL-terminated) */
  char *err;  /* captured stderr */
} tu_result;

static TU_UNUSED void tu_result_free(tu_result *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

/* Runs argv[0] (a path) with argv, stdin from /dev/null, capturing stdout
 * and stderr through files in a private temporary directory. */
static TU_UNUSED void tu_run(char *const argv[], tu_result *r) {
  char *dir = tu_mkdtemp();
  char *po = tu_path(dir, "stdout"), *pe = tu_path(dir, "stderr");
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int o = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || o < 0 || e < 0) _exit(127);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0)
    assert_int_equal(errno, EINTR);
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r->sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  r->out = tu_read_file(po, NULL);
  r->err = tu_read_file(pe, NULL);
  assert_non_null(r->out);
  assert_non_null(r->err);
  free(po);
  free(pe);
  tu_rmtree(dir);
}

/* ---- graphs ----------------------------------------------------------- */

typedef struct tu_edge {
  gasp_gid s, d;
  double w;
} tu_edge;

static TU_UNUSED int tu_edge_cmp(const void *a, const void *b) {
  const tu_edge *x = a, *y = b;
  if (x->s != y->s) return x->s < y->s ? -1 : 1;
  if (x->d != y->d) return x->d < y->d ? -1 : 1;
  if (x->w != y->w) return x->w < y->w ? -1 : 1;
  return 0;
}

static TU_UNUSED void tu_sort_edges(tu_edge *e, size_t n) {
  if (n) qsort(e, n, sizeof *e, tu_edge_cmp);
}

/* Checks the graph against itself: offsets monotone, out- and in-lists
 * sorted, every in-edge's slot names an out-edge of that source pointing
 * at the vertex, and the slots are a permutation of the edge slots; ids
 * ascend within each side and gasp_graph_find maps them back. */
static TU_UNUSED void tu_check_structure(const gasp_graph *g) {
  gasp_adjacency out, in;
  gasp_graph_out_edges(g, &out);
  gasp_graph_in_edges(g, &in);
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint64_t ne = gasp_graph_num_edges(g);
  assert_int_equal(out.num_vertices, nv);
  assert_int_equal(in.num_vertices, nv);
  assert_int_equal(out.num_edges, ne);
  assert_int_equal(in.num_edges, ne);
  assert_null(out.slot);
  assert_non_null(in.slot);
  assert_int_equal(out.off[0], 0);
  assert_int_equal(in.off[0], 0);
  assert_int_equal(out.off[nv], ne);
  assert_int_equal(in.off[nv], ne);
  gasp_vid nleft = gasp_graph_num_left(g);
  int bip = gasp_graph_is_bipartite(g);
  if (!bip) assert_int_equal(nleft, nv);
  assert_true(nleft <= nv);
  unsigned char *seen = calloc(ne ? ne : 1, 1);
  assert_non_null(seen);
  for (gasp_vid v = 0; v < nv; v++) {
    assert_true(out.off[v] <= out.off[v + 1]);
    assert_true(in.off[v] <= in.off[v + 1]);
    assert_int_equal(gasp_graph_out_degree(g, v), out.off[v + 1] - out.off[v]);
    assert_int_equal(gasp_graph_in_degree(g, v), in.off[v + 1] - in.off[v]);
    for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++) {
      assert_true(out.nbr[j] < nv);
      if (j > out.off[v]) assert_true(out.nbr[j - 1] <= out.nbr[j]);
      if (bip) {
        assert_true(v < nleft);
        assert_true(out.nbr[j] >= nleft);
      }
    }
    for (uint64_t j = in.off[v]; j < in.off[v + 1]; j++) {
      gasp_vid s = in.nbr[j];
      assert_true(s < nv);
      if (j > in.off[v]) assert_true(in.nbr[j - 1] <= s);
      uint64_t slot = in.slot[j];
      assert_true(slot < ne);
      assert_true(slot >= out.off[s] && slot < out.off[s + 1]);
      assert_int_equal(out.nbr[slot], v);
      assert_int_equal(seen[slot], 0);
      seen[slot] = 1;
    }
    gasp_side side = v < nleft ? GASP_SIDE_LEFT : GASP_SIDE_RIGHT;
    assert_int_equal(gasp_graph_side(g, v), side);
    if (v > 0 && v != nleft)
      assert_true(gasp_graph_gid(g, v - 1) < gasp_graph_gid(g, v));
    assert_true(gasp_graph_gid(g, v) <= GASP_GID_MAX);
    gasp_vid f = GASP_VID_NONE;
    assert_int_equal(gasp_graph_find(g, side, gasp_graph_gid(g, v), &f),
                     GASP_OK);
    assert_int_equal(f, v);
  }
  free(seen);
}

/* The graph's edges in original ids (weight 1 when unweighted), sorted. */
static TU_UNUSED tu_edge *tu_graph_edges(const gasp_graph *g, size_t *n) {
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  const double *w = gasp_graph_weights(g);
  size_t ne = (size_t)out.num_edges;
  tu_edge *e = malloc((ne ? ne : 1) * sizeof *e);
  assert_non_null(e);
  for (gasp_vid v = 0; v < out.num_vertices; v++)
    for (uint64_t j = out.off[v]; j < out.off[v + 1]; j++)
      e[j] = (tu_edge){gasp_graph_gid(g, v), gasp_graph_gid(g, out.nbr[j]),
                       w ? w[j] : 1.0};
  tu_sort_edges(e, ne);
  *n = ne;
  return e;
}

/* Asserts the graph's edge multiset (original ids, weights) equals
 * want[0..n) (any order; want is sorted in place), and that it is
 * weighted iff `weighted`. */
static TU_UNUSED void tu_assert_edges(const gasp_graph *g, tu_edge *want,
                                      size_t n, int weighted) {
  tu_check_structure(g);
  assert_int_equal(gasp_graph_weights(g) != NULL, weighted != 0);
  assert_int_equal(gasp_graph_num_edges(g), n);
  size_t got_n;
  tu_edge *got = tu_graph_edges(g, &got_n);
  tu_sort_edges(want, n);
  for (size_t i = 0; i < n; i++) {
    if (got[i].s != want[i].s || got[i].d != want[i].d || got[i].w != want[i].w)
      fail_msg("edge %zu: got %llu -> %llu (%g), want %llu -> %llu (%g)", i,
               (unsigned long long)got[i].s, (unsigned long long)got[i].d,
               got[i].w, (unsigned long long)want[i].s,
               (unsigned long long)want[i].d, want[i].w);
  }
  free(got);
}

/* Asserts the ids on `side` are exactly ids[0..n) (ascending, distinct). */
static TU_UNUSED void tu_assert_side_ids(const gasp_graph *g, gasp_side side,
                                         const gasp_gid *ids, size_t n) {
  gasp_vid nv = gasp_graph_num_vertices(g), nleft = gasp_graph_num_left(g);
  gasp_vid lo = side == GASP_SIDE_LEFT ? 0 : nleft;
  gasp_vid hi = side == GASP_SIDE_LEFT ? nleft : nv;
  assert_int_equal(hi - lo, n);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(gasp_graph_gid(g, lo + (gasp_vid)i), ids[i]);
}

/* Asserts two graphs are identical in every array the API exposes. */
static TU_UNUSED void tu_assert_graphs_equal(const gasp_graph *a,
                                             const gasp_graph *b) {
  gasp_vid nv = gasp_graph_num_vertices(a);
  uint64_t ne = gasp_graph_num_edges(a);
  assert_int_equal(gasp_graph_num_vertices(b), nv);
  assert_int_equal(gasp_graph_num_owned(a), gasp_graph_num_owned(b));
  assert_int_equal(gasp_graph_num_edges(b), ne);
  assert_int_equal(gasp_graph_is_bipartite(a), gasp_graph_is_bipartite(b));
  assert_int_equal(gasp_graph_num_left(a), gasp_graph_num_left(b));
  gasp_adjacency ao, bo, ai, bi;
  gasp_graph_out_edges(a, &ao);
  gasp_graph_out_edges(b, &bo);
  gasp_graph_in_edges(a, &ai);
  gasp_graph_in_edges(b, &bi);
  for (gasp_vid v = 0; v < nv; v++)
    if (gasp_graph_gid(a, v) != gasp_graph_gid(b, v))
      fail_msg("gid[%u]: %llu vs %llu", v,
               (unsigned long long)gasp_graph_gid(a, v),
               (unsigned long long)gasp_graph_gid(b, v));
  assert_memory_equal(ao.off, bo.off, ((size_t)nv + 1) * sizeof *ao.off);
  assert_memory_equal(ai.off, bi.off, ((size_t)nv + 1) * sizeof *ai.off);
  if (ne) {
    assert_memory_equal(ao.nbr, bo.nbr, ne * sizeof *ao.nbr);
    assert_memory_equal(ai.nbr, bi.nbr, ne * sizeof *ai.nbr);
    assert_memory_equal(ai.slot, bi.slot, ne * sizeof *ai.slot);
  }
  const double *wa = gasp_graph_weights(a), *wb = gasp_graph_weights(b);
  assert_int_equal(wa != NULL, wb != NULL);
  if (wa && ne) assert_memory_equal(wa, wb, ne * sizeof *wa);
  for (gasp_vid v = 0; v < nv; v++) {
    const char *na = gasp_graph_name(a, v), *nb = gasp_graph_name(b, v);
    assert_int_equal(na != NULL, nb != NULL);
    if (na) assert_string_equal(na, nb);
  }
}

/* True when `hay` contains `needle`. */
static TU_UNUSED int tu_contains(const char *hay, const char *needle) {
  return hay && strstr(hay, needle) != NULL;
}

/* ---- the gasp binary ------------------------------------------------- */

/* $GASP_BIN when it names an executable, else NULL (tests then skip). */
static TU_UNUSED const char *tu_gasp_bin(void) {
  const char *b = getenv("GASP_BIN");
  return b && *b && access(b, X_OK) == 0 ? b : NULL;
}

#define TU_NEED_BIN()                                                          \
  do {                                                                         \
    if (!tu_gasp_bin()) skip();                                                \
  } while (0)

/* Runs gasp with args (NULL-terminated, without the binary). */
static TU_UNUSED tu_result tu_gasp_runv(const char *const *args) {
  const char *argv[64];
  int n = 0;
  argv[n++] = tu_gasp_bin();
  for (; *args; args++) {
    assert_true(n < 63);
    argv[n++] = *args;
  }
  argv[n] = NULL;
  tu_result r;
  tu_run((char *const *)argv, &r);
  return r;
}

/* The number after "key": in a one-line JSON object (fails the test when
 * the text is not one object or lacks the key). */
static TU_UNUSED double tu_json_num(const char *text, const char *key) {
  size_t n = strlen(text);
  if (n < 3 || text[0] != '{' || strcmp(text + n - 2, "}\n") != 0)
    fail_msg("not one JSON object: '%s'", text);
  char pat[80];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(text, pat);
  if (!p) fail_msg("no key %s in '%s'", key, text);
  return strtod(p + strlen(pat), NULL);
}

/* A listening TCP socket on a free loopback port (*port); fails the test
 * when none can be had.  For forked ranks to meet at. */
static TU_UNUSED int tu_listen_loopback(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(fd, 64), 0);
  socklen_t len = sizeof a;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

/* Joins the test cluster whose rank 0 listens on lfd (127.0.0.1:port,
 * from tu_listen_loopback); NULL on failure, described in *err. */
static TU_UNUSED gasp_cluster *tu_join_cluster(int rank, int size, int port,
                                               int lfd, const char *key,
                                               double timeout,
                                               gasp_error *err) {
  char coord[64];
  snprintf(coord, sizeof coord, "127.0.0.1:%d", port);
  gasp_cluster_opts co;
  gasp_cluster_opts_init(&co);
  co.rank = rank;
  co.size = size;
  co.coordinator = coord;
  co.listen_fd = rank == 0 ? lfd : -1;
  co.key = key;
  co.key_len = strlen(key);
  co.timeout = timeout;
  gasp_cluster *c = NULL;
  return gasp_cluster_new(&c, &co, err) ? NULL : c;
}

/* ---- forked children that say where they failed ---------------------
 *
 * A forked child (a cluster rank, a helper process) cannot use cmocka's
 * asserts: they would unwind into the test runner of the child.  Instead
 * its checks record "FILE:LINE: reason" with TU_RANK_FAIL and return a
 * non-zero status; tu_child_exit sends the record to the parent through
 * a pipe, and the parent's failure names the file, line and reason.
 *
 *   pid_t pid = tu_child_fork(&ch);        ranks: tu_fork_ranks below
 *   if (pid == 0) {
 *     int rc = gasp_x(..., &err);
 *     tu_child_exit(rc ? TU_RANK_FAIL("gasp_x: %s", err.msg) : 0);
 *   }
 *   tu_child_assert_ok(&ch, "what");
 *
 * The record lives in a static of the process, so each forked child has
 * its own; the first failure recorded is kept (the later ones usually
 * follow from it). */

#if defined(__GNUC__)
#define TU_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TU_NORETURN __attribute__((noreturn))
#else
#define TU_PRINTF(f, a)
#define TU_NORETURN
#endif

/* The status TU_RANK_FAIL gives; other non-zero statuses a child ends
 * with are outcomes its parent checks, or unexplained failures. */
#define TU_RANK_FAILED 1

static char tu_rank_msg[640]; /* this process's first recorded failure */
static int tu_rank_fd = -1;   /* in a child: the report pipe's write end */

/* `file` without the build's leading "./" and "../" (an out-of-tree
 * build compiles "../tests/x.c"), or from "tests/" on when absolute. */
static TU_UNUSED const char *tu_rank_where(const char *file) {
  if (file[0] == '/') {
    const char *t = strstr(file, "/tests/");
    return t ? t + 1 : file;
  }
  for (;;) {
    if (!strncmp(file, "./", 2))
      file += 2;
    else if (!strncmp(file, "../", 3))
      file += 3;
    else
      return file;
  }
}

static TU_UNUSED TU_PRINTF(4, 0) int tu_rank_vfail(const char *file, int line,
                                                   const char *cond,
                                                   const char *fmt,
                                                   va_list ap) {
  if (tu_rank_msg[0]) return TU_RANK_FAILED;
  size_t n = sizeof tu_rank_msg;
  int k = snprintf(tu_rank_msg, n, "%s:%d: ", tu_rank_where(file), line);
  if (k < 0 || (size_t)k >= n) return TU_RANK_FAILED;
  if (cond) {
    int c = snprintf(tu_rank_msg + k, n - (size_t)k, "check (%s) failed%s",
                     cond, fmt ? ": " : "");
    if (c < 0 || (size_t)(k + c) >= n) return TU_RANK_FAILED;
    k += c;
  }
  if (fmt) vsnprintf(tu_rank_msg + k, n - (size_t)k, fmt, ap);
  return TU_RANK_FAILED;
}

/* Records "FILE:LINE: message" (only the first failure of the process is
 * kept); returns TU_RANK_FAILED.  Use through TU_RANK_FAIL. */
static TU_UNUSED TU_PRINTF(3, 4) int tu_rank_fail(const char *file, int line,
                                                  const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tu_rank_vfail(file, line, NULL, fmt, ap);
  va_end(ap);
  return TU_RANK_FAILED;
}

/* The same for a failed condition: "FILE:LINE: check (COND) failed[: msg]"
 * (fmt may be NULL). */
static TU_UNUSED TU_PRINTF(4, 5) int tu_rank_fail_cond(const char *file,
                                                       int line,
                                                       const char *cond,
                                                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tu_rank_vfail(file, line, cond, fmt, ap);
  va_end(ap);
  return TU_RANK_FAILED;
}

/* Records where and why this child failed; evaluates to TU_RANK_FAILED:
 *   return TU_RANK_FAIL("gasp_dist_new: %s", err.msg); */
#define TU_RANK_FAIL(...) tu_rank_fail(__FILE__, __LINE__, __VA_ARGS__)

/* Returns TU_RANK_FAILED from the enclosing function, recording the
 * condition's text, when cond is false. */
#define TU_RANK_CHECK(cond)                                                    \
  do {                                                                         \
    if (!(cond)) return tu_rank_fail_cond(__FILE__, __LINE__, #cond, NULL);    \
  } while (0)

/* TU_RANK_CHECK with a message after the condition's text. */
#define TU_RANK_CHECK_MSG(cond, ...)                                           \
  do {                                                                         \
    if (!(cond))                                                               \
      return tu_rank_fail_cond(__FILE__, __LINE__, #cond, __VA_ARGS__);        \
  } while (0)

/* The failure recorded so far ("" when none). */
static TU_UNUSED const char *tu_rank_message(void) { return tu_rank_msg; }

/* Forgets the recorded failure: for a failure the child expected. */
static TU_UNUSED void tu_rank_clear(void) { tu_rank_msg[0] = '\0'; }

/* A gasp_error as gasp_error_format writes it ("FILE:LINE: reason"),
 * into a static buffer (valid until the next call). */
static TU_UNUSED const char *tu_err(const gasp_error *err) {
  static char buf[1100];
  return gasp_error_format(err, buf, sizeof buf);
}

typedef struct tu_child {
  pid_t pid;
  int fd;        /* the report pipe's read end, in the parent */
  int status;    /* after tu_child_wait: the exit status, -1 when killed */
  int sig;       /* the signal that ended it, else 0 */
  char msg[704]; /* after tu_child_wait: why it failed ("" when it did not) */
} tu_child;

/* Forks a child with a report pipe; returns 0 in the child, its pid in
 * the parent.  In the child a crash kills it (cmocka's handlers would go
 * on with the next test in the child) and no failure is recorded yet. */
static TU_UNUSED pid_t tu_child_fork(tu_child *ch) {
  int p[2];
  memset(ch, 0, sizeof *ch);
  ch->fd = -1;
  assert_int_equal(pipe(p), 0);
  fcntl(p[0], F_SETFD, FD_CLOEXEC);
  fcntl(p[1], F_SETFD, FD_CLOEXEC);
  fflush(NULL);
  ch->pid = fork();
  assert_true(ch->pid >= 0);
  if (ch->pid == 0) {
    close(p[0]);
    tu_rank_fd = p[1];
    tu_rank_clear();
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    signal(SIGILL, SIG_DFL);
    signal(SIGABRT, SIG_DFL);
    return 0;
  }
  close(p[1]);
  ch->fd = p[0];
  return ch->pid;
}

/* In a child from tu_child_fork: ends it with `status`, sending the
 * recorded failure to the parent first when status is not 0.  A message
 * is one write under PIPE_BUF: the parent reads it after the exit. */
static TU_UNUSED TU_NORETURN void tu_child_exit(int status) {
  if (status && tu_rank_fd >= 0 && tu_rank_msg[0]) {
    ssize_t w = write(tu_rank_fd, tu_rank_msg, strlen(tu_rank_msg));
    (void)w;
  }
  _exit(status);
}

/* In the parent: reaps the child and reads its report.  Returns 1 when it
 * ended with status 0; else ch->msg says why: its recorded failure,
 * "exited with N" when it recorded none, or the signal that killed it. */
static TU_UNUSED int tu_child_wait(tu_child *ch) {
  int w = 0;
  while (waitpid(ch->pid, &w, 0) < 0)
    assert_int_equal(errno, EINTR);
  ch->status = WIFEXITED(w) ? WEXITSTATUS(w) : -1;
  ch->sig = WIFSIGNALED(w) ? WTERMSIG(w) : 0;
  char rep[sizeof tu_rank_msg];
  ssize_t n = 0;
  if (ch->fd >= 0) { /* a grandchild may hold the pipe: do not wait */
    fcntl(ch->fd, F_SETFL, O_NONBLOCK);
    n = read(ch->fd, rep, sizeof rep - 1);
    close(ch->fd);
    ch->fd = -1;
  }
  rep[n > 0 ? n : 0] = '\0';
  if (ch->sig)
    snprintf(ch->msg, sizeof ch->msg, "killed by signal %d (%s)", ch->sig,
             strsignal(ch->sig));
  else if (ch->status && rep[0])
    snprintf(ch->msg, sizeof ch->msg, "%s", rep);
  else if (ch->status)
    snprintf(ch->msg, sizeof ch->msg, "exited with %d", ch->status);
  else
    ch->msg[0] = '\0';
  return ch->status == 0;
}

/* tu_child_wait, failing the test with "what: why" unless the child ended
 * with status 0. */
static TU_UNUSED void tu_child_assert_ok(tu_child *ch, const char *what) {
  if (!tu_child_wait(ch)) fail_msg("%s: %s", what, ch->msg);
}

/* After tu_child_wait on n children (ranks 0 .. n-1): fails the test
 * listing every rank that ended other than with 0 or `also_ok` (0: no
 * other), as "what: rank 1: FILE:LINE: reason; rank 2: ...". */
static TU_UNUSED void tu_assert_ranks(const tu_child *ch, int n, int also_ok,
                                      const char *what) {
  char buf[4096];
  size_t k = 0;
  int bad = 0;
  buf[0] = '\0';
  for (int r = 0; r < n; r++) {
    if (ch[r].status == 0 || (also_ok && ch[r].status == also_ok)) continue;
    if (k < sizeof buf) {
      int c = snprintf(buf + k, sizeof buf - k, "%srank %d: %s",
                       bad ? "; " : "", r, ch[r].msg);
      k += c > 0 ? (size_t)c : 0;
    }
    bad++;
  }
  if (bad) fail_msg("%s: %s", what, buf);
}

/* A rank's body: its exit status (0: all went well; TU_RANK_FAIL says
 * where and why it did not). */
typedef int (*tu_rank_fn)(int rank, int size, int port, int lfd, void *arg);

/* Forks `size` ranks running fn, meeting at a fresh loopback socket, and
 * waits for all of them; fails the test listing every rank that did not
 * end with 0, each with its recorded FILE:LINE and reason, its exit
 * status, or the signal that killed it.  Call it before this process
 * starts OpenMP threads (forking after them hangs libgomp in the child). */
static TU_UNUSED void tu_fork_ranks(int size, tu_rank_fn fn, void *arg,
                                    const char *what) {
  int port = 0, lfd = tu_listen_loopback(&port);
  tu_child ch[16];
  assert_true(size >= 1 && size <= 16);
  for (int r = 0; r < size; r++) {
    if (tu_child_fork(&ch[r]) == 0) {
      signal(SIGPIPE, SIG_IGN);
      for (int q = 0; q < r; q++) /* the earlier ranks' report pipes */
        close(ch[q].fd);
      if (r) close(lfd);
      tu_child_exit(fn(r, size, port, lfd, arg));
    }
  }
  close(lfd);
  for (int r = 0; r < size; r++) /* reap every rank, then judge */
    tu_child_wait(&ch[r]);
  char head[256];
  snprintf(head, sizeof head, "%s, %d ranks", what, size);
  tu_assert_ranks(ch, size, 0, head);
}

#endif /* GASP_TESTUTIL_H */
