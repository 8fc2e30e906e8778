/*
 * test_snapshot.c -- gasp_graph_save_snapshot() and loading snapshots:
 * exact round trips (all arrays, weights, names, bipartite sides, graphs
 * of several 32 MiB checksum pieces), detection by content, and damaged
 * files: flipped bytes (checksum), another version, truncation, and
 * structurally inconsistent files that carry a valid checksum.
 *
 * The header layout used here is the documented one: magic "GASPSNAP",
 * u32 version at offset 8, header size, flags, byte-order mark, then u64
 * nv, nowned, nleft, ne, names_bytes and the checksum at offset 64.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gasp.h"
#include "internal.h" /* gasp__hash_*: to re-sign deliberately bad files */
#include "testutil.h"

#define HDR 128
#define PIECE ((uint64_t)32 << 20)

static int setup(void **state) {
  *state = tu_mkdtemp();
  return 0;
}

static int teardown(void **state) {
  tu_rmtree(*state);
  return 0;
}

static gasp_graph *load(const char *path, int threads) {
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.threads = threads;
  gasp_graph *g = NULL;
  gasp_error err;
  int rc = gasp_graph_load(&g, path, &o, &err);
  if (rc) fail_msg("load %s: %s: %s", path, gasp_err_name(rc), err.msg);
  assert_non_null(g);
  return g;
}

static void save(const gasp_graph *g, const char *path) {
  gasp_error err;
  int rc = gasp_graph_save_snapshot(g, path, &err);
  if (rc) fail_msg("save %s: %s: %s", path, gasp_err_name(rc), err.msg);
}

/* Loads and frees `path` in a fresh process (this program run again
 * with --probe-load), so that a crash in the library is reported as this
 * test's failure instead of ending the whole program.  Returns the load
 * status the child saw. */
static int probe_in_child(const char *path) {
  char self[4096];
  ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
  assert_true(k > 0);
  self[k] = '\0';
  char *argv[] = {self, (char *)"--probe-load", (char *)path, NULL};
  tu_result r;
  tu_run(argv, &r);
  /* the probe exits with 100 - status; anything else is a crash or a
   * sanitizer report */
  int status = r.status, sig = r.sig;
  /* the first line of the child's report and its library frames */
  char why[900] = "";
  size_t w = 0;
  for (const char *l = r.err; *l && w + 1 < sizeof why;) {
    const char *e = strchr(l, '\n');
    size_t n = e ? (size_t)(e - l) : strlen(l);
    int keep = (l == r.err) || memmem(l, n, "engine/", 7) || memmem(l, n, "partition/", 10);
    if (keep && n > 0) {
      const char *in = memmem(l, n, " in ", 4); /* "#3 0x... in f file:line" */
      if (in && l != r.err) n -= (size_t)(in + 4 - l), l = in + 4;
      w += (size_t)snprintf(why + w, sizeof why - w, "%s%.*s", w ? " <- " : "", (int)n, l);
    }
    l = e ? e + 1 : l + n;
  }
  tu_result_free(&r);
  if (status < 100 || status > 120)
    fail_msg("%s: loading and freeing the graph crashed (%s, exit %d): %s", path,
             sig ? strsignal(sig) : "no signal", status, why);
  return 100 - status;
}

static int probe_main(const char *path) {
  gasp_graph *g = NULL;
  int rc = gasp_graph_load(&g, path, NULL, NULL);
  if (rc == GASP_OK) {
    gasp_graph_stats st;
    gasp_graph_stats_compute(g, 1, &st);
  }
  gasp_graph_free(&g);
  return 100 - rc;
}

/* Loading must fail with one of the codes (0-terminated list); returns
 * the error. */
static gasp_error load_fails(const char *path, ...) {
  probe_in_child(path);
  gasp_graph *g = (gasp_graph *)&g;
  gasp_error err;
  int rc = gasp_graph_load(&g, path, NULL, &err);
  va_list ap;
  va_start(ap, path);
  int ok = 0;
  for (int c; (c = va_arg(ap, int)) != 0;) ok |= rc == c;
  va_end(ap);
  if (!ok) fail_msg("%s: got %s (%s)", path, gasp_err_name(rc), rc ? err.msg : "");
  assert_null(g);
  assert_int_equal(err.code, rc);
  assert_string_equal(err.file, path);
  assert_true(err.msg[0] != '\0');
  return err;
}

static void copy_file(const char *from, const char *to) {
  size_t n;
  char *d = tu_read_file(from, &n);
  assert_non_null(d);
  tu_write_bytes(to, d, n);
  free(d);
}

static void poke(const char *path, uint64_t off, const void *bytes, size_t n) {
  int fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
  close(fd);
}

static void flip(const char *path, uint64_t off) {
  int fd = open(path, O_RDWR);
  assert_true(fd >= 0);
  unsigned char c;
  assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
  c ^= 0x10;
  assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
  close(fd);
}

static uint64_t rd64(const char *buf, size_t off) {
  uint64_t v;
  memcpy(&v, buf + off, 8);
  return v;
}

/* The documented section layout: offsets and sizes of the sections of a
 * snapshot whose header is `buf` (each section starts at a multiple of 64
 * bytes).  Returns the number of sections; *end the implied file size. */
enum { S_GID, S_OUT_OFF, S_OUT_NBR, S_IN_OFF, S_IN_NBR, S_IN_SLOT };
static int layout(const char *buf, uint64_t *at, uint64_t *len, uint64_t *end,
                  int *weight_sec, int *names_sec) {
  uint32_t flags;
  memcpy(&flags, buf + 16, 4);
  uint64_t nv = rd64(buf, 24), ne = rd64(buf, 48), names = rd64(buf, 56);
  int ns = 0;
  len[ns++] = nv * 8;
  len[ns++] = (nv + 1) * 8;
  len[ns++] = ne * 4;
  len[ns++] = (nv + 1) * 8;
  len[ns++] = ne * 4;
  len[ns++] = ne * 4;
  *weight_sec = *names_sec = -1;
  if (flags & 1) {
    *weight_sec = ns;
    len[ns++] = ne * 8;
  }
  if (flags & 4) {
    *names_sec = ns;
    len[ns++] = (nv + 1) * 8;
    len[ns++] = names;
  }
  uint64_t pos = HDR;
  for (int i = 0; i < ns; i++) {
    pos = (pos + 63) / 64 * 64;
    at[i] = pos;
    pos += len[i];
  }
  *end = pos;
  return ns;
}

/* Recomputes the checksum of a snapshot file after a deliberate change,
 * the way the format describes it: each section cut into 32 MiB pieces,
 * piece i hashed with seed i, then the header (checksum zero) and the
 * piece hashes hashed together. */
static void resign(const char *path) {
  size_t n;
  char *buf = tu_read_file(path, &n);
  assert_non_null(buf);
  uint64_t at[9], len[9], end;
  int ws, nms;
  int ns = layout(buf, at, len, &end, &ws, &nms);
  assert_int_equal(end, n);
  uint64_t ph[4096], np = 0;
  for (int i = 0; i < ns; i++)
    for (uint64_t o = 0; o < len[i]; o += PIECE) {
      uint64_t k = len[i] - o < PIECE ? len[i] - o : PIECE;
      gasp__hash h;
      gasp__hash_init(&h, np);
      gasp__hash_update(&h, buf + at[i] + o, k);
      ph[np++] = gasp__hash_final(&h);
    }
  memset(buf + 64, 0, 8);
  gasp__hash h;
  gasp__hash_init(&h, 0x6761737021ull);
  gasp__hash_update(&h, buf, HDR);
  gasp__hash_update(&h, ph, np * sizeof *ph);
  uint64_t sum = gasp__hash_final(&h);
  poke(path, 64, &sum, 8);
  free(buf);
}

/* ---- graphs to save ----------------------------------------------------- */

static gasp_graph *random_graph(unsigned flags, uint64_t seed, size_t n) {
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, flags), GASP_OK);
  tu_rng r = {seed};
  for (size_t i = 0; i < n; i++) {
    gasp_gid s = 1000000000000000ull + tu_below(&r, 3000) * 7919u;
    gasp_gid d = tu_below(&r, 2) ? s : 1000000000000000ull + tu_below(&r, 3000) * 7919u;
    if (i % 3) d = tu_below(&r, 5000);
    assert_int_equal(gasp_builder_add_edge(b, s, d, (double)tu_below(&r, 1000) / 7),
                     GASP_OK);
  }
  assert_int_equal(gasp_builder_add_vertex(b, GASP_SIDE_LEFT, GASP_GID_MAX), GASP_OK);
  gasp_graph *g = NULL;
  assert_int_equal(gasp_builder_finish(b, 2, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  return g;
}

static void round_trip(void **state, const gasp_graph *g, const char *name) {
  char *p = tu_path(*state, name);
  save(g, p);
  size_t n;
  char *d = tu_read_file(p, &n);
  assert_true(n >= HDR);
  assert_memory_equal(d, "GASPSNAP", 8);
  uint32_t ver;
  memcpy(&ver, d + 8, 4);
  assert_int_equal(ver, GASP_SNAPSHOT_VERSION);
  free(d);
  assert_int_equal(probe_in_child(p), GASP_OK);
  for (int t = 1; t <= 2; t++) {
    gasp_graph *h = load(p, t);
    tu_assert_graphs_equal(g, h);
    tu_check_structure(h);
    gasp_graph_stats a, b;
    assert_int_equal(gasp_graph_stats_compute(g, 1, &a), GASP_OK);
    assert_int_equal(gasp_graph_stats_compute(h, 1, &b), GASP_OK);
    assert_memory_equal(&a, &b, sizeof a);
    gasp_graph_free(&h);
  }
  /* by format name as well */
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.format = GASP_FORMAT_SNAPSHOT;
  gasp_graph *h = NULL;
  assert_int_equal(gasp_graph_load(&h, p, &o, NULL), GASP_OK);
  tu_assert_graphs_equal(g, h);
  gasp_graph_free(&h);
  free(p);
}

/* ---- tests -------------------------------------------------------------- */

static void test_round_trip(void **state) {
  gasp_graph *g = random_graph(GASP_BUILD_WEIGHTED, 1, 20000);
  round_trip(state, g, "weighted.gasp");
  round_trip(state, g, "weighted.bin"); /* detected by content */
  round_trip(state, g, "weighted.txt"); /* even with a text extension */
  gasp_graph_free(&g);
  g = random_graph(GASP_BUILD_SYMMETRIC, 2, 5000);
  round_trip(state, g, "sym.gasp");
  gasp_graph_free(&g);
  g = random_graph(GASP_BUILD_BIPARTITE | GASP_BUILD_WEIGHTED, 3, 5000);
  assert_true(gasp_graph_is_bipartite(g));
  round_trip(state, g, "bip.gasp");
  gasp_graph_free(&g);
}

/* A graph with vertices but no edges (empty edge sections).  The files
 * are probed in a separate process before anything is kept in this one. */
static gasp_graph *isolated_graph(void) {
  gasp_builder *b = NULL;
  gasp_graph *g = NULL;
  assert_int_equal(gasp_builder_new(&b, 0), GASP_OK);
  for (gasp_gid i = 0; i < 10; i++) gasp_builder_add_vertex(b, GASP_SIDE_LEFT, i * i);
  assert_int_equal(gasp_builder_finish(b, 1, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  return g;
}

static void test_round_trip_no_edges(void **state) {
  char p1[4096], p2[4096], m[4096];
  snprintf(p1, sizeof p1, "%s/isolated.gasp", (const char *)*state);
  snprintf(p2, sizeof p2, "%s/empty-mtx.gasp", (const char *)*state);
  snprintf(m, sizeof m, "%s/empty.mtx", (const char *)*state);
  gasp_graph *g = isolated_graph();
  save(g, p1);
  gasp_graph_free(&g);
  /* the same from a Matrix Market file without entries, weighted */
  tu_write_str(m, "%%MatrixMarket matrix coordinate real general\n5 5 0\n");
  assert_int_equal(gasp_graph_load(&g, m, NULL, NULL), GASP_OK);
  save(g, p2);
  gasp_graph_free(&g);
  assert_int_equal(probe_in_child(p1), GASP_OK);
  assert_int_equal(probe_in_child(p2), GASP_OK);
  g = isolated_graph();
  round_trip(state, g, "isolated.gasp");
  gasp_graph_free(&g);
  assert_int_equal(gasp_graph_load(&g, m, NULL, NULL), GASP_OK);
  round_trip(state, g, "empty-mtx.gasp");
  gasp_graph_free(&g);
}

static void test_round_trip_names(void **state) {
  char *doc = tu_path(*state, "docword.t.txt"), *voc = tu_path(*state, "vocab.t.txt");
  tu_write_str(doc, "3\n4\n5\n1 1 2\n1 3 1\n2 2 5\n3 4 1\n3 1 3\n");
  tu_write_str(voc, "apple\nbanana\n\xc3\xa9t\xc3\xa9\ndate with spaces\n");
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.vocab = voc;
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_load(&g, doc, &o, NULL), GASP_OK);
  assert_string_equal(gasp_graph_name(g, 5), "\xc3\xa9t\xc3\xa9");
  round_trip(state, g, "corpus.gasp");
  char *p = tu_path(*state, "corpus.gasp");
  gasp_graph *h = load(p, 1);
  assert_string_equal(gasp_graph_name(h, 6), "date with spaces");
  assert_null(gasp_graph_name(h, 0));
  gasp_graph_free(&h);
  gasp_graph_free(&g);
  free(p);
  free(doc);
  free(voc);
}

static void test_corrupt_body(void **state) {
  gasp_graph *g = random_graph(GASP_BUILD_WEIGHTED, 4, 3000);
  char *good = tu_path(*state, "good.gasp"), *bad = tu_path(*state, "bad.gasp");
  save(g, good);
  uint64_t size = tu_file_size(good);
  uint64_t offs[] = {HDR, HDR + 1000, size / 2, size - 1};
  for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
    copy_file(good, bad);
    flip(bad, offs[i]);
    gasp_error e = load_fails(bad, GASP_ECHECKSUM, 0);
    assert_int_equal(e.line, 0);
  }
  /* a byte of the header padding is covered too */
  copy_file(good, bad);
  flip(bad, 100);
  load_fails(bad, GASP_ECHECKSUM, 0);
  /* and the checksum itself */
  copy_file(good, bad);
  flip(bad, 64);
  load_fails(bad, GASP_ECHECKSUM, 0);
  /* a size field changed: caught one way or the other */
  copy_file(good, bad);
  flip(bad, 48);
  load_fails(bad, GASP_EFORMAT, GASP_ECHECKSUM, 0);
  gasp_graph_free(&g);
  free(good);
  free(bad);
}

static void test_wrong_version(void **state) {
  gasp_graph *g = random_graph(0, 5, 1000);
  char *p = tu_path(*state, "v.gasp");
  uint32_t versions[] = {GASP_SNAPSHOT_VERSION + 1, 0, 0xffffffffu};
  for (size_t i = 0; i < 3; i++) {
    save(g, p);
    poke(p, 8, &versions[i], 4);
    gasp_error e = load_fails(p, GASP_EFORMAT, 0);
    if (!tu_contains(e.msg, "version")) fail_msg("message '%s' does not say 'version'", e.msg);
    char num[16];
    snprintf(num, sizeof num, "%u", versions[i]);
    if (!tu_contains(e.msg, num)) fail_msg("message '%s' does not name version %s", e.msg, num);
  }
  gasp_graph_free(&g);
  free(p);
}

static void test_truncated(void **state) {
  gasp_graph *g = random_graph(GASP_BUILD_WEIGHTED, 6, 3000);
  char *good = tu_path(*state, "t.gasp"), *bad = tu_path(*state, "cut.gasp");
  save(g, good);
  size_t n;
  char *d = tu_read_file(good, &n);
  size_t cuts[] = {n - 1, n / 2, HDR, HDR - 1, 20, 8, 3, 0};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
    tu_write_bytes(bad, d, cuts[i]);
    load_fails(bad, GASP_EFORMAT, GASP_EIO, GASP_EPARSE, 0);
  }
  /* a byte too many */
  char *longer = malloc(n + 1);
  memcpy(longer, d, n);
  longer[n] = 0;
  tu_write_bytes(bad, longer, n + 1);
  load_fails(bad, GASP_EFORMAT, GASP_EIO, 0);
  free(longer);
  free(d);
  gasp_graph_free(&g);
  free(good);
  free(bad);
}

static void test_save_failures(void **state) {
  gasp_graph *g = random_graph(0, 7, 500);
  char *sub = tu_path(*state, "no-such-dir");
  char *p = tu_path(sub, "x.gasp");
  gasp_error err;
  int before = tu_count_entries(*state);
  assert_int_not_equal(gasp_graph_save_snapshot(g, p, &err), GASP_OK);
  assert_true(err.code < 0);
  assert_string_equal(err.file, p);
  assert_false(tu_exists(p));
  assert_false(tu_exists(sub));
  assert_int_equal(tu_count_entries(*state), before);
  /* replacing an existing file leaves exactly that file */
  char *dir = tu_path(*state, "out");
  assert_int_equal(mkdir(dir, 0755), 0);
  char *q = tu_path(dir, "g.gasp");
  tu_write_str(q, "old contents");
  save(g, q);
  assert_int_equal(tu_count_entries(dir), 1);
  gasp_graph *h = load(q, 1);
  tu_assert_graphs_equal(g, h);
  gasp_graph_free(&h);
  /* a directory where the file should go */
  char *dq = tu_path(dir, "sub.gasp");
  assert_int_equal(mkdir(dq, 0755), 0);
  assert_int_not_equal(gasp_graph_save_snapshot(g, dq, &err), GASP_OK);
  assert_int_equal(tu_count_entries(dir), 2);
  gasp_graph_free(&g);
  free(sub);
  free(p);
  free(dir);
  free(q);
  free(dq);
}

/* Files with a valid checksum but an impossible structure are refused, so
 * later code cannot index out of bounds. */
static void test_inconsistent_structure(void **state) {
  gasp_graph *g = random_graph(GASP_BUILD_WEIGHTED, 8, 2000);
  char *good = tu_path(*state, "s.gasp"), *bad = tu_path(*state, "s-bad.gasp");
  save(g, good);
  /* re-signing an unchanged file keeps it loadable (checks resign()) */
  copy_file(good, bad);
  resign(bad);
  gasp_graph *h = load(bad, 1);
  tu_assert_graphs_equal(g, h);
  gasp_graph_free(&h);
  char hdr[HDR];
  size_t n;
  char *all = tu_read_file(good, &n);
  memcpy(hdr, all, HDR);
  free(all);
  uint64_t at[9], len[9], end;
  int ws, nms;
  layout(hdr, at, len, &end, &ws, &nms);
  uint64_t nv = gasp_graph_num_vertices(g), ne = gasp_graph_num_edges(g);
  uint32_t big32 = (uint32_t)nv, bigslot = (uint32_t)ne;
  uint64_t big64 = ne + 1, zero = 0;
  struct {
    uint64_t off;
    const void *val;
    size_t n;
  } edits[] = {
      {at[S_OUT_NBR], &big32, 4},                   /* target out of range */
      {at[S_IN_NBR] + 4 * (ne - 1), &big32, 4},     /* source out of range */
      {at[S_IN_SLOT], &bigslot, 4},                 /* slot out of range   */
      {at[S_OUT_OFF] + 8 * (nv / 2), &big64, 8},    /* offsets not monotone */
      {at[S_OUT_OFF] + 8 * nv, &zero, 8},           /* last offset != ne   */
      {at[S_IN_OFF] + 8, &big64, 8},
      {at[S_GID] + 8, &zero, 8},                    /* ids not ascending   */
  };
  for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
    copy_file(good, bad);
    poke(bad, edits[i].off, edits[i].val, edits[i].n);
    resign(bad);
    load_fails(bad, GASP_EFORMAT, 0);
  }
  /* header fields: nleft or nowned beyond nv */
  uint64_t hv = nv + 1;
  copy_file(good, bad);
  poke(bad, 40, &hv, 8);
  resign(bad);
  load_fails(bad, GASP_EFORMAT, 0);
  copy_file(good, bad);
  poke(bad, 32, &hv, 8);
  resign(bad);
  load_fails(bad, GASP_EFORMAT, 0);
  gasp_graph_free(&g);
  free(good);
  free(bad);
}

/* The same for the names sections: a name offset table that runs past
 * the names must be refused, not followed. */
static void test_inconsistent_names(void **state) {
  char *doc = tu_path(*state, "docword.n.txt"), *voc = tu_path(*state, "vocab.n.txt");
  tu_write_str(doc, "2\n3\n3\n1 1 2\n1 3 1\n2 2 5\n");
  tu_write_str(voc, "alpha\nbeta\ngamma\n");
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.vocab = voc;
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_load(&g, doc, &o, NULL), GASP_OK);
  char good[4096], bad[4096];
  snprintf(good, sizeof good, "%s/n.gasp", (const char *)*state);
  snprintf(bad, sizeof bad, "%s/n-bad.gasp", (const char *)*state);
  save(g, good);
  uint64_t nv = gasp_graph_num_vertices(g);
  gasp_graph_free(&g);
  free(doc);
  free(voc);
  char hdr[HDR];
  size_t n;
  char *all = tu_read_file(good, &n);
  memcpy(hdr, all, HDR);
  free(all);
  uint64_t at[9], len[9], end;
  int ws, nms;
  layout(hdr, at, len, &end, &ws, &nms);
  assert_true(nms >= 0);
  /* one flipped byte in the last name offset (the names' total size),
   * file not re-signed: a checksum mismatch, whatever the value */
  for (int byte = 0; byte < 8; byte++) {
    copy_file(good, bad);
    flip(bad, at[nms] + 8 * nv + (uint64_t)byte);
    load_fails(bad, GASP_ECHECKSUM, GASP_EFORMAT, 0);
  }
  /* the same offsets re-signed: refused as inconsistent */
  uint64_t values[] = {(uint64_t)1 << 40, len[nms + 1] + 1, 0};
  for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
    copy_file(good, bad);
    poke(bad, at[nms] + 8 * nv, &values[i], 8);
    resign(bad);
    load_fails(bad, GASP_EFORMAT, GASP_ECHECKSUM, 0);
  }
  /* the last name not NUL-terminated */
  char x = 'x';
  copy_file(good, bad);
  poke(bad, at[nms + 1] + len[nms + 1] - 1, &x, 1);
  resign(bad);
  load_fails(bad, GASP_EFORMAT, 0);
}

/* Arrays well over 32 MiB, so sections span several checksum pieces that
 * are written, read and verified separately. */
static void test_multi_piece(void **state) {
  const gasp_vid nv = 4600000;
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, GASP_BUILD_WEIGHTED), GASP_OK);
  for (gasp_vid v = 0; v < nv; v++)
    assert_int_equal(gasp_builder_add_vertex(b, GASP_SIDE_LEFT, (gasp_gid)v * 3), GASP_OK);
  tu_rng r = {9};
  for (int i = 0; i < 1000000; i++)
    assert_int_equal(gasp_builder_add_edge(b, tu_below(&r, nv) * 3, tu_below(&r, nv) * 3,
                                           (double)i),
                     GASP_OK);
  gasp_graph *g = NULL;
  assert_int_equal(gasp_builder_finish(b, 2, &g, NULL), GASP_OK);
  gasp_builder_free(&b);
  assert_true(gasp_graph_structure_bytes(g) > 3 * PIECE);
  char *p = tu_path(*state, "big.gasp"), *bad = tu_path(*state, "big-bad.gasp");
  save(g, p);
  assert_true(tu_file_size(p) > 3 * PIECE);
  gasp_graph *h = load(p, 2);
  tu_assert_graphs_equal(g, h);
  gasp_graph_free(&h);
  h = load(p, 1);
  tu_assert_graphs_equal(g, h);
  gasp_graph_free(&h);
  /* a flipped byte in the second piece of the first section, and one at
   * the very end */
  copy_file(p, bad);
  flip(bad, HDR + PIECE + 12345);
  load_fails(bad, GASP_ECHECKSUM, 0);
  copy_file(p, bad);
  flip(bad, tu_file_size(bad) - 1);
  load_fails(bad, GASP_ECHECKSUM, 0);
  gasp_graph_free(&g);
  free(p);
  free(bad);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--probe-load") == 0) return probe_main(argv[2]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_round_trip_no_edges),
      cmocka_unit_test(test_round_trip_names),
      cmocka_unit_test(test_corrupt_body),
      cmocka_unit_test(test_wrong_version),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_save_failures),
      cmocka_unit_test(test_inconsistent_structure),
      cmocka_unit_test(test_inconsistent_names),
      cmocka_unit_test(test_multi_piece),
  };
  return cmocka_run_group_tests_name("snapshot", tests, setup, teardown);
}
