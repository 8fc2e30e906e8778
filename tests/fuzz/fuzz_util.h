/*
 * fuzz_util.h -- what the libFuzzer harnesses of tests/fuzz share: the
 * fuzz input as a file (an anonymous memfd named /proc/self/fd/N, or a
 * file in a private directory when the reader wants a name of its own),
 * gzip compression of a buffer, and the consistency checks of a graph
 * that loaded.
 *
 * A harness must only see clean error returns: a crash, a sanitizer
 * report, a leak or a failed FUZZ_CHECK is a finding.
 */
#ifndef GASP_FUZZ_UTIL_H
#define GASP_FUZZ_UTIL_H

#include "gasp.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

/* An invariant that must hold: aborts (a finding) with the condition. */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__,    \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* ---- the input as a file ---------------------------------------------- */

/* Writes the whole buffer; aborts on an I/O error (the harness's own
 * failure, not a finding in the library). */
static inline void fuzz_write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w <= 0) {
      perror("fuzz: write");
      abort();
    }
    c += w;
    n -= (size_t)w;
  }
}

/* An in-memory file holding data[0..n): returns its fd and writes
 * "/proc/self/fd/N" to path.  Close the fd when done. */
static inline int fuzz_memfile(const void *data, size_t n, char *path,
                               size_t pathlen) {
  int fd = memfd_create("gasp-fuzz", MFD_CLOEXEC);
  if (fd < 0) {
    perror("fuzz: memfd_create");
    abort();
  }
  fuzz_write_all(fd, data, n);
  snprintf(path, pathlen, "/proc/self/fd/%d", fd);
  return fd;
}

/* A private directory for files a reader opens by a name it builds
 * itself (PREFIX.model, PREFIX.0.gpart); made once per process, removed
 * at exit with whatever the harness left in it. */
static char fuzz_dir_path[64];

static void fuzz_dir_remove(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_path);
  if (system(cmd) != 0) fprintf(stderr, "fuzz: cannot remove %s\n", cmd);
}

static inline const char *fuzz_dir(void) {
  if (!fuzz_dir_path[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%.40s/gasp-fuzz.XXXXXX",
             t && *t ? t : "/tmp");
    if (!mkdtemp(fuzz_dir_path)) {
      perror("fuzz: mkdtemp");
      abort();
    }
    atexit(fuzz_dir_remove);
  }
  return fuzz_dir_path;
}

/* Writes data[0..n) to DIR/name (replacing it). */
static inline void fuzz_put_file(const char *name, const void *data, size_t n) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    perror("fuzz: open");
    abort();
  }
  fuzz_write_all(fd, data, n);
  close(fd);
}

/* ---- gzip -------------------------------------------------------------- */

/* data[0..n) as one gzip member (malloc'ed, *out_n bytes); the level
 * comes from the input so that stored and compressed blocks both occur. */
static inline unsigned char *fuzz_gzip(const void *data, size_t n, int level,
                                       size_t *out_n) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    abort();
  size_t cap = deflateBound(&zs, (uLong)n) + 32;
  unsigned char *out = malloc(cap);
  if (!out) abort();
  zs.next_in = (Bytef *)data;
  zs.avail_in = (uInt)n;
  zs.next_out = out;
  zs.avail_out = (uInt)cap;
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) abort();
  *out_n = zs.total_out;
  deflateEnd(&zs);
  return out;
}

/* ---- graph invariants -------------------------------------------------- */

/* One direction of the adjacency: offsets monotone from 0 to the edge
 * count (so the degrees sum to it), neighbours in range, and with
 * `strict` sorted. */
static inline void fuzz_check_adjacency(const gasp_graph *g,
                                        const gasp_adjacency *a, int strict) {
  uint64_t nv = gasp_graph_num_vertices(g), ne = gasp_graph_num_edges(g);
  FUZZ_CHECK(a->num_vertices == nv && a->num_edges == ne);
  FUZZ_CHECK(a->off[0] == 0 && a->off[nv] == ne);
  uint64_t sum = 0;
  for (uint64_t v = 0; v < nv; v++) {
    FUZZ_CHECK(a->off[v] <= a->off[v + 1]);
    sum += a->off[v + 1] - a->off[v];
    for (uint64_t j = a->off[v]; j < a->off[v + 1]; j++) {
      FUZZ_CHECK(a->nbr[j] < nv);
      FUZZ_CHECK(!strict || j == a->off[v] || a->nbr[j - 1] <= a->nbr[j]);
      FUZZ_CHECK(!a->slot || a->slot[j] < ne);
    }
  }
  FUZZ_CHECK(sum == ne);
}

/* The whole graph: both directions in range, the degrees summing to the
 * edge count, original ids ascending within each side (owned vertices
 * and ghosts apart; along gasp_graph_id_order when reordered), names
 * readable.  `strict` for a graph the library
 * built (from text or arrays): also neighbour lists sorted and each
 * in-edge's slot naming the out-edge it mirrors.  A graph read from a
 * binary file (snapshot, partition file) is validated only as far as
 * later code indexes with it (ids and slots in range), not for those. */
static inline void fuzz_check_graph(const gasp_graph *g, int strict) {
  gasp_adjacency out, in;
  gasp_graph_out_edges(g, &out);
  gasp_graph_in_edges(g, &in);
  fuzz_check_adjacency(g, &out, strict);
  fuzz_check_adjacency(g, &in, strict);
  uint64_t nv = gasp_graph_num_vertices(g);
  uint64_t nleft = gasp_graph_num_left(g), nowned = gasp_graph_num_owned(g);
  FUZZ_CHECK(nowned <= nv && nleft <= nv);
  uint64_t deg_out = 0, deg_in = 0;
  for (uint64_t v = 0; v < nv; v++) {
    deg_out += gasp_graph_out_degree(g, (gasp_vid)v);
    deg_in += gasp_graph_in_degree(g, (gasp_vid)v);
    for (uint64_t j = in.off[v]; strict && j < in.off[v + 1]; j++) {
      uint64_t s = in.slot[j];
      gasp_vid u = in.nbr[j];
      FUZZ_CHECK(out.off[u] <= s && s < out.off[u + 1] && out.nbr[s] == v);
    }
    const gasp_vid *order = gasp_graph_id_order(g); /* reordered */
    if (order && v > 0)
      FUZZ_CHECK(order[v] < nv && order[v - 1] < nv &&
                 gasp_graph_gid(g, order[v - 1]) < gasp_graph_gid(g, order[v]));
    else if (!order && v > 0 && v != nleft && v != nowned)
      FUZZ_CHECK(gasp_graph_gid(g, (gasp_vid)(v - 1)) <
                 gasp_graph_gid(g, (gasp_vid)v));
    const char *name = gasp_graph_name(g, (gasp_vid)v);
    if (name) (void)strlen(name);
  }
  FUZZ_CHECK(deg_out == gasp_graph_num_edges(g));
  FUZZ_CHECK(deg_in == gasp_graph_num_edges(g));
  const double *w = gasp_graph_weights(g);
  if (w)
    for (uint64_t s = 0; s < out.num_edges; s++)
      (void)w[s];
}

#endif
