/*
 * test_load.c -- gasp_graph_load() on text inputs written to a temporary
 * directory: edge lists (separators, CRLF, comments, weights, gzip),
 * adjacency lists, Matrix Market, UCI bag-of-words with a vocabulary,
 * large multi-block files, and bad inputs (status, file, line, message).
 *
 * Expected graphs are written out by hand as edge lists in original ids
 * and compared with tu_assert_edges(), which reads the loaded graph back
 * through the public API.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>

#include "gasp.h"
#include "testutil.h"

#include <sys/resource.h>
#include <time.h>

#define E(s, d, w) ((tu_edge){(s), (d), (w)})
#define COUNT(a) (sizeof(a) / sizeof *(a))

static int setup(void **state) {
  *state = tu_mkdtemp();
  return 0;
}

static int teardown(void **state) {
  tu_rmtree(*state);
  return 0;
}

/* Writes `text` to dir/name and returns the malloc'd path. */
static char *put(void **state, const char *name, const char *text) {
  char *p = tu_path(*state, name);
  tu_write_str(p, text);
  return p;
}

/* The same into buf (no allocation: nothing leaks when a check fails). */
static const char *put_buf(void **state, const char *name, const char *text,
                           char *buf, size_t len) {
  snprintf(buf, len, "%s/%s", (const char *)*state, name);
  tu_write_str(buf, text);
  return buf;
}

static gasp_graph *load_ok(const char *path, const gasp_load_opts *o) {
  gasp_graph *g = NULL;
  gasp_error err;
  int rc = gasp_graph_load(&g, path, o, &err);
  if (rc) {
    char buf[1200];
    fail_msg("load %s: %s: %s", path, gasp_err_name(rc),
             gasp_error_format(&err, buf, sizeof buf));
  }
  assert_non_null(g);
  return g;
}

static gasp_load_opts opts_threads(int threads) {
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.threads = threads;
  return o;
}

/* Loads `path`, which must fail with `code`; checks err names the file
 * (or `file` when non-NULL), the line and that the message contains each
 * of the NULL-terminated substrings.  line < 0: any line accepted. */
static void expect_error(const char *path, const gasp_load_opts *o, int code,
                         const char *file, int64_t line, ...) {
  gasp_graph *g = (gasp_graph *)&g;
  gasp_error err;
  memset(&err, 0x5a, sizeof err);
  int rc = gasp_graph_load(&g, path, o, &err);
  if (rc != code)
    fail_msg("%s: got %s (%s, line %llu), want %s", path, gasp_err_name(rc),
             rc ? err.msg : "", rc ? (unsigned long long)err.line : 0ull,
             gasp_err_name(code));
  assert_null(g);
  assert_int_equal(err.code, code);
  assert_string_equal(err.file, file ? file : path);
  if (line >= 0 && err.line != (uint64_t)line)
    fail_msg("%s: error reported on line %llu, want %lld (%s)", path,
             (unsigned long long)err.line, (long long)line, err.msg);
  assert_true(strlen(err.msg) > 0);
  for (const char *p = err.msg; *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
      fail_msg("unprintable byte 0x%02x in message '%s'", (unsigned char)*p,
               err.msg);
  va_list ap;
  va_start(ap, line);
  for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
    if (!tu_contains(err.msg, s))
      fail_msg("%s: message '%s' does not mention '%s'", path, err.msg, s);
  va_end(ap);
}

/* ---- edge lists -------------------------------------------------------- */

static const char messy_edges[] = "# comment line\r\n"
                                  "% another comment\n"
                                  "\n"
                                  "1 2\n"
                                  "  3\t4\n"
                                  "5,6\n"
                                  "7 , 8\r\n"
                                  "   \n"
                                  "\r\n"
                                  "9\t\t10\n"
                                  "\t# indented comment\n"
                                  "11 ,12\n"
                                  "9223372036854775807 0\n"
                                  "13 13"; /* no newline at the end */

static void test_edgelist_formatting(void **state) {
  char *p = put(state, "messy.txt", messy_edges);
  gasp_load_opts o = opts_threads(2);
  gasp_graph *g = load_ok(p, &o);
  tu_edge want[] = {E(1, 2, 1),
                    E(3, 4, 1),
                    E(5, 6, 1),
                    E(7, 8, 1),
                    E(9, 10, 1),
                    E(11, 12, 1),
                    E(GASP_GID_MAX, 0, 1),
                    E(13, 13, 1)};
  tu_assert_edges(g, want, COUNT(want), 0);
  assert_int_equal(gasp_graph_num_vertices(g), 15);
  assert_false(gasp_graph_is_bipartite(g));
  /* the same bytes gzip-compressed (name without .gz: detected by content) */
  char *pz = tu_path(*state, "messy-compressed.txt");
  tu_write_gz(pz, messy_edges, strlen(messy_edges));
  gasp_graph *gz = load_ok(pz, &o);
  tu_assert_graphs_equal(g, gz);
  /* format named explicitly */
  o.format = GASP_FORMAT_EDGELIST;
  gasp_graph *g3 = load_ok(p, &o);
  tu_assert_graphs_equal(g, g3);
  /* symmetric */
  gasp_load_opts_init(&o);
  o.symmetric = 1;
  gasp_graph *gs = load_ok(p, &o);
  tu_edge wants[] = {E(1, 2, 1),
                     E(3, 4, 1),
                     E(5, 6, 1),
                     E(7, 8, 1),
                     E(9, 10, 1),
                     E(11, 12, 1),
                     E(GASP_GID_MAX, 0, 1),
                     E(13, 13, 1),
                     E(2, 1, 1),
                     E(4, 3, 1),
                     E(6, 5, 1),
                     E(8, 7, 1),
                     E(10, 9, 1),
                     E(12, 11, 1),
                     E(0, GASP_GID_MAX, 1)};
  tu_assert_edges(gs, wants, COUNT(wants), 0);
  gasp_graph_free(&g);
  gasp_graph_free(&gz);
  gasp_graph_free(&g3);
  gasp_graph_free(&gs);
  free(p);
  free(pz);
}

static const char weighted_edges[] = "# src dst weight\n"
                                     "1 2 0.5\n"
                                     "2\t3\t-1.25\r\n"
                                     "3,1,1e3\n"
                                     "1 2 7\n"
                                     "4 4 9007199254740993\n"
                                     "2 1 0";

static void test_edgelist_weights(void **state) {
  char *p = put(state, "w.txt", weighted_edges);
  gasp_load_opts o = opts_threads(1);
  gasp_graph *g = load_ok(p, &o);
  double big = strtod("9007199254740993", NULL);
  tu_edge want[] = {E(1, 2, 0.5), E(2, 3, -1.25), E(3, 1, 1000),
                    E(1, 2, 7),   E(4, 4, big),   E(2, 1, 0)};
  tu_assert_edges(g, want, COUNT(want), 1);
  char *pz = tu_path(*state, "w.txt.gz");
  tu_write_gz(pz, weighted_edges, strlen(weighted_edges));
  gasp_graph *gz = load_ok(pz, &o);
  tu_assert_graphs_equal(g, gz);
  /* --unweighted drops the column */
  o.weighted = 0;
  gasp_graph *gu = load_ok(p, &o);
  tu_edge wantu[] = {E(1, 2, 1), E(2, 3, 1), E(3, 1, 1),
                     E(1, 2, 1), E(4, 4, 1), E(2, 1, 1)};
  tu_assert_edges(gu, wantu, COUNT(wantu), 0);
  /* --weighted on a two-column file: every weight 1 */
  char *p2 = put(state, "two.txt", "1 2\n2 3\n");
  o.weighted = 1;
  gasp_graph *g2 = load_ok(p2, &o);
  tu_edge want2[] = {E(1, 2, 1), E(2, 3, 1)};
  tu_assert_edges(g2, want2, COUNT(want2), 1);
  gasp_graph_free(&g);
  gasp_graph_free(&gz);
  gasp_graph_free(&gu);
  gasp_graph_free(&g2);
  free(p);
  free(pz);
  free(p2);
}

/* ---- adjacency lists --------------------------------------------------- */

static void test_adjacency(void **state) {
  const char *text = "# adjacency\n"
                     "1 3 2 3 4\n"
                     "2 0\n"
                     "5 1 1\r\n"
                     "\n"
                     "3 2 1,1\n"
                     "7 0";
  char *p = put(state, "g.adj", text);
  gasp_graph *g = load_ok(p, NULL);
  tu_edge want[] = {E(1, 2, 1), E(1, 3, 1), E(1, 4, 1),
                    E(5, 1, 1), E(3, 1, 1), E(3, 1, 1)};
  tu_assert_edges(g, want, COUNT(want), 0);
  gasp_gid ids[] = {1, 2, 3, 4, 5, 7};
  tu_assert_side_ids(g, GASP_SIDE_LEFT, ids, COUNT(ids));
  gasp_vid v7;
  assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, 7, &v7), GASP_OK);
  assert_int_equal(gasp_graph_out_degree(g, v7) + gasp_graph_in_degree(g, v7),
                   0);
  /* by format name, on a file name that says nothing, and gzipped */
  char *p2 = tu_path(*state, "adj-data.txt.gz");
  tu_write_gz(p2, text, strlen(text));
  gasp_load_opts o = opts_threads(2);
  o.format = GASP_FORMAT_ADJ;
  gasp_graph *g2 = load_ok(p2, &o);
  tu_assert_graphs_equal(g, g2);
  gasp_graph_free(&g);
  gasp_graph_free(&g2);
  free(p);
  free(p2);
}

/* ---- Matrix Market ------------------------------------------------------ */

static void test_mtx(void **state) {
  const char *pattern = "%%MatrixMarket matrix coordinate pattern general\n"
                        "% a comment\n"
                        "%\n"
                        "4 4 3\n"
                        "1 2\n"
                        "3 1\n"
                        "2 2\n";
  char *p = put(state, "a.mtx", pattern);
  gasp_graph *g = load_ok(p, NULL);
  tu_edge want[] = {E(1, 2, 1), E(3, 1, 1), E(2, 2, 1)};
  tu_assert_edges(g, want, COUNT(want), 0);
  gasp_gid ids[] = {1, 2, 3, 4}; /* 4 has no entries but is a vertex */
  tu_assert_side_ids(g, GASP_SIDE_LEFT, ids, 4);
  /* detected by content under another name, plain and gzipped */
  char *p2 = put(state, "a-matrix.txt", pattern);
  gasp_graph *g2 = load_ok(p2, NULL);
  tu_assert_graphs_equal(g, g2);
  char *p3 = tu_path(*state, "a-matrix.txt.gz");
  tu_write_gz(p3, pattern, strlen(pattern));
  gasp_graph *g3 = load_ok(p3, NULL);
  tu_assert_graphs_equal(g, g3);
  gasp_graph_free(&g);
  gasp_graph_free(&g2);
  gasp_graph_free(&g3);
  free(p);
  free(p2);
  free(p3);

  /* real symmetric: off-diagonal entries both ways, the diagonal once */
  p = put(state, "s.mtx",
          "%%MatrixMarket matrix coordinate real symmetric\n"
          "3 3 3\n"
          "1 1 2.5\n"
          "2 1 -1\n"
          "3 2 4e-1\n");
  g = load_ok(p, NULL);
  tu_edge wants[] = {E(1, 1, 2.5), E(2, 1, -1), E(1, 2, -1), E(3, 2, 0.4),
                     E(2, 3, 0.4)};
  tu_assert_edges(g, wants, COUNT(wants), 1);
  gasp_graph_free(&g);
  free(p);

  /* integer, rectangular: bipartite, rows left 1..2, columns right 1..5 */
  p = put(state, "r.mtx",
          "%%MatrixMarket matrix coordinate integer general\n"
          "2 5 3\n"
          "1 5 10\n"
          "2 1 -3\n"
          "1 1 7\n");
  g = load_ok(p, NULL);
  assert_true(gasp_graph_is_bipartite(g));
  tu_edge wantr[] = {E(1, 5, 10), E(2, 1, -3), E(1, 1, 7)};
  tu_assert_edges(g, wantr, COUNT(wantr), 1);
  gasp_gid left[] = {1, 2}, right[] = {1, 2, 3, 4, 5};
  tu_assert_side_ids(g, GASP_SIDE_LEFT, left, 2);
  tu_assert_side_ids(g, GASP_SIDE_RIGHT, right, 5);
  gasp_graph_stats st;
  assert_int_equal(gasp_graph_stats_compute(g, 1, &st), GASP_OK);
  assert_int_equal(st.left_vertices, 2);
  assert_int_equal(st.right_vertices, 5);
  assert_int_equal(st.isolated, 3);
  gasp_graph_free(&g);
  free(p);

  /* CRLF line ends throughout, header included */
  p = put(state, "crlf.mtx",
          "%%MatrixMarket matrix coordinate real general\r\n% c\r\n3 3 2\r\n"
          "1 2 1.5\r\n3 3 2\r\n");
  g = load_ok(p, NULL);
  tu_edge wantc[] = {E(1, 2, 1.5), E(3, 3, 2)};
  tu_assert_edges(g, wantc, COUNT(wantc), 1);
  assert_int_equal(gasp_graph_num_vertices(g), 3);
  gasp_graph_free(&g);
  free(p);

  /* no entries: the vertices are still there */
  p = put(state, "e.mtx",
          "%%MatrixMarket matrix coordinate pattern general\n3 3 0\n");
  g = load_ok(p, NULL);
  assert_int_equal(gasp_graph_num_vertices(g), 3);
  assert_int_equal(gasp_graph_num_edges(g), 0);
  gasp_graph_free(&g);
  free(p);
}

/* ---- UCI bag of words -------------------------------------------------- */

static const char docword[] = "3\n4\n5\n"
                              "1 1 2\n"
                              "1 3 1\n"
                              "2 2 5\n"
                              "3 4 1\n"
                              "3 1 3\n";

static void test_uci(void **state) {
  char *p = put(state, "docword.test.txt", docword);
  char *voc = put(state, "vocab.test.txt", "apple\nbanana\r\ncherry\ndate\n");
  gasp_load_opts o = opts_threads(2);
  o.vocab = voc;
  gasp_graph *g = load_ok(p, &o);
  assert_true(gasp_graph_is_bipartite(g));
  tu_edge want[] = {E(1, 1, 2), E(1, 3, 1), E(2, 2, 5), E(3, 4, 1), E(3, 1, 3)};
  tu_assert_edges(g, want, COUNT(want), 1);
  gasp_gid docs[] = {1, 2, 3}, words[] = {1, 2, 3, 4};
  tu_assert_side_ids(g, GASP_SIDE_LEFT, docs, 3);
  tu_assert_side_ids(g, GASP_SIDE_RIGHT, words, 4);
  const char *names[] = {"apple", "banana", "cherry", "date"};
  for (gasp_vid v = 0; v < 3; v++)
    assert_null(gasp_graph_name(g, v));
  for (int w = 0; w < 4; w++) {
    gasp_vid v;
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, (gasp_gid)w + 1, &v),
                     GASP_OK);
    assert_int_equal(gasp_graph_side(g, v), GASP_SIDE_RIGHT);
    assert_non_null(gasp_graph_name(g, v));
    assert_string_equal(gasp_graph_name(g, v), names[w]);
  }
  /* without a vocabulary: no names; unweighted on request */
  gasp_load_opts o2 = opts_threads(1);
  o2.weighted = 0;
  o2.format = GASP_FORMAT_UCI;
  char *p2 = put(state, "corpus.txt", docword);
  gasp_graph *g2 = load_ok(p2, &o2);
  tu_edge want2[] = {E(1, 1, 1), E(1, 3, 1), E(2, 2, 1), E(3, 4, 1),
                     E(3, 1, 1)};
  tu_assert_edges(g2, want2, COUNT(want2), 0);
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(g2); v++)
    assert_null(gasp_graph_name(g2, v));
  gasp_graph_free(&g);
  gasp_graph_free(&g2);
  free(p);
  free(p2);
  free(voc);
}

/* ---- large files -------------------------------------------------------- */

/* A generated edge list over 32 MiB, so that with 2 threads (16 MiB per
 * thread and block) it takes two blocks, each cut into two pieces. */
static void test_large_file(void **state) {
  gasp_edge_list *e = NULL;
  assert_int_equal(gasp_generate_uniform(&e, 1000000000000ull, 1500000, 99, 2),
                   GASP_OK);
  char *p = tu_path(*state, "big.tsv");
  gasp_error err;
  assert_int_equal(gasp_edge_list_write(e, p, "# generated\n", 2, &err),
                   GASP_OK);
  assert_true(tu_file_size(p) > ((uint64_t)32 << 20) + (1 << 20));
  gasp_load_opts o = opts_threads(2);
  gasp_graph *g = load_ok(p, &o);
  tu_edge *want = malloc(e->n * sizeof *want);
  assert_non_null(want);
  for (uint64_t i = 0; i < e->n; i++)
    want[i] = E(e->src[i], e->dst[i], 1);
  tu_assert_edges(g, want, e->n, 0);
  free(want);
  /* the builder on the same edges gives the same graph */
  gasp_builder *b = NULL;
  assert_int_equal(gasp_builder_new(&b, 0), GASP_OK);
  for (uint64_t i = 0; i < e->n; i++)
    assert_int_equal(gasp_builder_add_edge(b, e->src[i], e->dst[i], 1),
                     GASP_OK);
  gasp_graph *gb = NULL;
  assert_int_equal(gasp_builder_finish(b, 2, &gb, NULL), GASP_OK);
  gasp_builder_free(&b);
  tu_assert_graphs_equal(g, gb);
  /* and so does loading with one (three blocks) or three threads (one
   * block, three pieces) */
  o.threads = 1;
  gasp_graph *g1 = load_ok(p, &o);
  tu_assert_graphs_equal(g, g1);
  o.threads = 3;
  gasp_graph *g3 = load_ok(p, &o);
  tu_assert_graphs_equal(g, g3);
  gasp_graph_free(&g);
  gasp_graph_free(&gb);
  gasp_graph_free(&g1);
  gasp_graph_free(&g3);
  gasp_edge_list_free(&e);
  free(p);
}

/* An error far into a file of more than 32 MiB, with comments, blank lines
 * and CRLF endings mixed in: the reported line is the line's number. */
static void test_error_line_large_file(void **state) {
  const uint64_t bad = 1500000, total = 1700000;
  char *p = tu_path(*state, "bigbad.txt");
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  tu_rng r = {5};
  uint64_t bad_offset = 0;
  for (uint64_t i = 1; i <= total; i++) {
    if (i == bad) {
      bad_offset = (uint64_t)ftell(f);
      fputs("123456 x7\n", f);
    } else if (i % 1000 == 0) {
      fprintf(f, "# comment %llu\n", (unsigned long long)i);
    } else if (i % 777 == 0) {
      fputs(i % 2 ? "\n" : "  \r\n", f);
    } else {
      fprintf(f, "%llu\t%llu%s",
              (unsigned long long)tu_below(&r, 1000000000000ull),
              (unsigned long long)tu_below(&r, 1000000000000ull),
              i % 3 ? "\n" : "\r\n");
    }
  }
  assert_int_equal(fclose(f), 0);
  /* the bad line lies in the second 32 MiB block */
  assert_true(bad_offset > ((uint64_t)32 << 20) + (1 << 20));
  for (int t = 1; t <= 3; t++) {
    gasp_load_opts o = opts_threads(t);
    expect_error(p, &o, GASP_EPARSE, NULL, (int64_t)bad, "x7", NULL);
  }
  free(p);
}

/* ---- bad inputs --------------------------------------------------------- */

/* A bad input: the status, the line to report (alt: a second acceptable
 * line, or -1; NOLINE: no line expected) and up to two substrings the
 * message must contain. */
typedef struct bad_case {
  const char *name, *text;
  int code;
  int64_t line, alt;
  const char *sub1, *sub2;
} bad_case;

static void run_cases(void **state, const bad_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char buf[4096];
    const char *p =
        put_buf(state, cases[i].name, cases[i].text, buf, sizeof buf);
    for (int t = 1; t <= 2; t++) {
      gasp_load_opts o = opts_threads(t);
      int64_t line = cases[i].line;
      if (cases[i].alt >= 0) {
        gasp_graph *g = NULL;
        gasp_error err;
        memset(&err, 0, sizeof err);
        gasp_graph_load(&g, p, &o, &err);
        gasp_graph_free(&g);
        if (err.line == (uint64_t)cases[i].alt) line = cases[i].alt;
      }
      expect_error(p, &o, cases[i].code, NULL, line, cases[i].sub1,
                   cases[i].sub2, NULL);
    }
  }
}

static void test_bad_text(void **state) {
  static const bad_case cases[] = {
      {"malformed.txt", "1 2\n1 x\n", GASP_EPARSE, 2, -1, "'x'", NULL},
      {"nonnum.txt", "1 2\n# c\n3 4\nabc 5\n", GASP_EPARSE, 4, -1, "abc", NULL},
      {"suffix.txt", "1 2\n12abc 3\n", GASP_EPARSE, 2, -1, "12abc", NULL},
      {"negative.txt", "1 2\n-5 3\n", GASP_ERANGE, 2, -1, "negative", "-5"},
      {"negdst.txt", "1 2\n\n5 -3\n", GASP_ERANGE, 3, -1, "negative", "-3"},
      {"big.txt", "1 2\n9223372036854775808 1\n", GASP_ERANGE, 2, -1,
       "9223372036854775808", NULL},
      {"huge.txt", "1 123456789012345678901234567890\n", GASP_ERANGE, 1, -1,
       "out of range", NULL},
      {"missing.txt", "1 2\n3\n4 5\n", GASP_EPARSE, 2, -1, "missing column",
       NULL},
      {"missingw.txt", "1 2 3\n4 5 6\n7 8\n", GASP_EPARSE, 3, -1,
       "missing column", NULL},
      {"toomany.txt", "1 2 3\n4 5 6 7\n", GASP_EPARSE, 2, -1, "column", NULL},
      {"nan.txt", "1 2 1\n2 3 nan\n", GASP_EPARSE, 2, -1, "nan", NULL},
      {"inf.txt", "% x\n1 2 inf\n", GASP_EPARSE, 2, -1, "inf", NULL},
      {"ovf.txt", "1 2 1\n2 3 1e999\n", GASP_EPARSE, 2, -1, "1e999", NULL},
      {"badw.txt", "1 2 1\n2 3 1.5q\n", GASP_EPARSE, 2, -1, "1.5q", NULL},
      {"empty.txt", "", GASP_EPARSE, 0, -1, NULL, NULL},
      {"comments.txt", "# a\n% b\n\n   \n", GASP_EPARSE, 0, -1, NULL, NULL},
      {"adj-less.adj", "1 1 2\n1 3 2 3\n", GASP_EPARSE, 2, -1, "3", NULL},
      {"adj-more.adj", "1 1 2\n2 1 3 4\n", GASP_EPARSE, 2, -1, "1", NULL},
      {"adj-neg.adj", "1 1 2\n2 1 -4\n", GASP_ERANGE, 2, -1, "-4", NULL},
  };
  run_cases(state, cases, COUNT(cases));
}

static void test_bad_garbage(void **state) {
  /* random bytes with NULs, starting with one (so not gzip, not a
   * snapshot, not Matrix Market) */
  tu_rng r = {77};
  unsigned char buf[8192];
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = (unsigned char)tu_next(&r);
  buf[0] = 0;
  buf[1] = 0xff;
  buf[100] = buf[200] = 0;
  char *p = tu_path(*state, "garbage.bin");
  tu_write_bytes(p, buf, sizeof buf);
  expect_error(p, NULL, GASP_EPARSE, NULL, 1, NULL);
  /* garbage after good lines: reported on its line */
  char text[64 + 128];
  memcpy(text, "1 2\n3 4\n", 8);
  memcpy(text + 8, buf + 1, 128);
  for (size_t i = 8; i < 8 + 128; i++)
    if (text[i] == '\n' || text[i] == '#' || text[i] == '%' ||
        text[i] == '\r' || text[i] == ' ' || text[i] == '\t')
      text[i] = 'q';
  char *p2 = tu_path(*state, "garbage2.bin");
  tu_write_bytes(p2, text, 8 + 128);
  expect_error(p2, NULL, GASP_EPARSE, NULL, 3, NULL);
  free(p);
  free(p2);
}

static void test_bad_gzip(void **state) {
  /* a gzip file of ~100 KB compressed, cut in half */
  size_t cap = 4 << 20, n = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  tu_rng r = {3};
  while (n + 64 < cap)
    n += (size_t)snprintf(text + n, 64, "%llu %llu\n",
                          (unsigned long long)tu_below(&r, 1000000),
                          (unsigned long long)tu_below(&r, 1000000));
  char *p = tu_path(*state, "whole.txt.gz");
  tu_write_gz(p, text, n);
  size_t zlen = 0;
  char *z = tu_read_file(p, &zlen);
  assert_true(zlen > 100000);
  char *pc = tu_path(*state, "cut.txt.gz");
  tu_write_bytes(pc, z, zlen / 2);
  gasp_graph *g = load_ok(p, NULL); /* the whole file is fine */
  uint64_t lines = 0;
  for (size_t i = 0; i < n; i++)
    lines += text[i] == '\n';
  assert_int_equal(gasp_graph_num_edges(g), lines);
  gasp_graph_free(&g);
  for (int t = 1; t <= 2; t++) {
    gasp_load_opts o = opts_threads(t);
    expect_error(pc, &o, GASP_EIO, NULL, 0, "gzip", NULL);
  }
  /* a gzip header and nothing else */
  char *ph = tu_path(*state, "header-only.gz");
  tu_write_bytes(ph, z, 10);
  expect_error(ph, NULL, GASP_EIO, NULL, 0, NULL);
  free(z);
  free(text);
  free(p);
  free(pc);
  free(ph);
}

static void test_bad_mtx(void **state) {
  static const bad_case cases[] = {
      /* more entries than declared: the header line that declares them
       * (line 2) or the first extra entry may be blamed */
      {"more.mtx",
       "%%MatrixMarket matrix coordinate pattern general\n3 3 2\n1 2\n2 3\n3 "
       "1\n",
       GASP_EPARSE, 2, 5, "2", "3"},
      {"fewer.mtx",
       "%%MatrixMarket matrix coordinate pattern general\n3 3 5\n1 2\n2 3\n3 "
       "1\n",
       GASP_EPARSE, 2, -1, "5", "3"},
      {"row.mtx",
       "%%MatrixMarket matrix coordinate pattern general\n% c\n4 4 2\n1 2\n5 "
       "1\n",
       GASP_ERANGE, 5, -1, "5", "1..4"},
      {"col.mtx",
       "%%MatrixMarket matrix coordinate real general\n2 3 2\n1 2 1.0\n2 4 "
       "1.0\n",
       GASP_ERANGE, 4, -1, "4", "1..3"},
      {"zero.mtx",
       "%%MatrixMarket matrix coordinate pattern general\n4 4 1\n0 1\n",
       GASP_ERANGE, 3, -1, "0", NULL},
      {"noval.mtx",
       "%%MatrixMarket matrix coordinate real general\n4 4 1\n1 2\n",
       GASP_EPARSE, 3, -1, "missing column", NULL},
      {"nansym.mtx",
       "%%MatrixMarket matrix coordinate real symmetric\n4 4 1\n1 2 NaN\n",
       GASP_EPARSE, 3, -1, "NaN", NULL},
  };
  run_cases(state, cases, COUNT(cases));
}

/* Errors in the Matrix Market header name the banner or size line. */
static void test_mtx_header_lines(void **state) {
  static const bad_case cases[] = {
      {"banner.mtx", "hello\n1 2\n", GASP_EFORMAT, 1, -1, "banner", NULL},
      {"array.mtx",
       "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n",
       GASP_ENOTSUP, 1, -1, "coordinate", NULL},
      {"complex.mtx",
       "%%MatrixMarket matrix coordinate complex general\n2 2 1\n1 2 1 1\n",
       GASP_ENOTSUP, 1, -1, "complex", NULL},
      {"hermitian.mtx",
       "%%MatrixMarket matrix coordinate real hermitian\n2 2 1\n1 2 1\n",
       GASP_ENOTSUP, 1, -1, "hermitian", NULL},
      {"size2.mtx",
       "%%MatrixMarket matrix coordinate pattern general\n% c\n\n2 2\n1 2\n",
       GASP_EPARSE, 4, -1, "ROWS", NULL},
      {"sizex.mtx",
       "%%MatrixMarket matrix coordinate pattern general\n2 2 x\n1 2\n",
       GASP_EPARSE, 2, -1, NULL, NULL},
      {"symrect.mtx",
       "%%MatrixMarket matrix coordinate pattern symmetric\n2 3 1\n1 2\n",
       GASP_EPARSE, 2, -1, "square", NULL},
      {"norows.mtx",
       "%%MatrixMarket matrix coordinate pattern general\n0 0 0\n", GASP_EPARSE,
       2, -1, NULL, NULL},
      /* no size line at all: the missing line 3, or the whole file */
      {"nosize.mtx",
       "%%MatrixMarket matrix coordinate pattern general\n% only\n",
       GASP_EPARSE, 3, 0, NULL, NULL},
  };
  run_cases(state, cases, COUNT(cases));
}

static void test_bad_uci(void **state) {
  static const bad_case cases[] = {
      {"docword.word.txt", "2\n4\n2\n1 1 1\n2 5 1\n", GASP_ERANGE, 5, -1, "5",
       NULL},
      {"docword.doc.txt", "2\n4\n2\n3 1 1\n2 2 1\n", GASP_ERANGE, 4, -1, "3",
       NULL},
      {"docword.neg.txt", "2\n4\n2\n1 1 1\n2 2 -3\n", GASP_ERANGE, 5, -1, "-3",
       NULL},
      {"docword.zero.txt", "2\n4\n2\n1 1 0\n2 2 1\n", GASP_EPARSE, 4, -1, "0",
       NULL},
      {"docword.frac.txt", "2\n4\n2\n1 1 1.5\n2 2 1\n", GASP_EPARSE, 4, -1,
       "1.5", NULL},
      /* an entry count that disagrees with the body: the NNZ line */
      {"docword.nnz.txt", "2\n4\n3\n1 1 1\n2 2 1\n", GASP_EPARSE, 3, -1, "3",
       "2"},
      {"docword.nnz2.txt", "2\n4\n1\n1 1 1\n2 2 1\n", GASP_EPARSE, 3, 5, "1",
       "2"},
  };
  run_cases(state, cases, COUNT(cases));
  /* a vocabulary with too few lines: the vocabulary is blamed */
  char *p = put(state, "docword.v.txt", docword);
  char *few = put(state, "vocab.few.txt", "apple\nbanana\ncherry\n");
  char *many = put(state, "vocab.many.txt", "a\nb\nc\nd\ne\n");
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.vocab = few;
  gasp_graph *g = NULL;
  gasp_error err;
  assert_int_equal(gasp_graph_load(&g, p, &o, &err), GASP_EPARSE);
  assert_true(err.line == 0 || err.line == 4);
  expect_error(p, &o, GASP_EPARSE, few, (int64_t)err.line, "3", "4", NULL);
  /* more lines than words: accepted (published UCI KOS has an extra
   * line); words 1..W take the first W lines */
  o.vocab = many;
  g = load_ok(p, &o);
  const char *names[] = {"a", "b", "c", "d"};
  for (gasp_gid w = 1; w <= 4; w++) {
    gasp_vid v;
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, w, &v), GASP_OK);
    assert_string_equal(gasp_graph_name(g, v), names[w - 1]);
  }
  gasp_graph_free(&g);
  /* a vocabulary that does not exist */
  char *none = tu_path(*state, "no-such-vocab.txt");
  o.vocab = none;
  expect_error(p, &o, GASP_EIO, none, 0, NULL);
  free(p);
  free(few);
  free(many);
  free(none);
}

/* ---- ratings ------------------------------------------------------------ */

/* The same four ratings in each layout the ratings format accepts: users
 * and items keep separate id spaces (user 7 and item 7 differ). */
static void test_ratings(void **state) {
  static const char *texts[] = {
      "7\t7\t4.5\t881250949\n7\t9\t3\t881250950\n8\t7\t1\t1\n9\t100\t5\t2\n",
      "7::7::4.5::978300760\n7::9::3::1\n8::7::1::1\n9::100::5::2\n",
      "userId,movieId,rating,timestamp\r\n7,7,4.5,964982703\r\n7,9,3.0,1\r\n"
      "8,7,1.0,1\r\n9,100,5.0,2\r\n",
      "% comment\n7 7 4.5\n7 9 3\n\n8 7 1\n9 100 5",
  };
  for (size_t t = 0; t < COUNT(texts); t++) {
    char buf[4096];
    const char *p = put_buf(state, "ratings.txt", texts[t], buf, sizeof buf);
    gasp_load_opts o = opts_threads(2);
    o.format = GASP_FORMAT_RATINGS;
    gasp_graph *g = load_ok(p, &o);
    assert_true(gasp_graph_is_bipartite(g));
    assert_int_equal(gasp_graph_num_left(g), 3);
    assert_int_equal(gasp_graph_num_vertices(g), 6);
    assert_int_equal(gasp_graph_num_edges(g), 4);
    const double *w = gasp_graph_weights(g);
    assert_non_null(w);
    gasp_vid u, i;
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_LEFT, 7, &u), GASP_OK);
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, 7, &i), GASP_OK);
    assert_int_equal(gasp_graph_side(g, i), GASP_SIDE_RIGHT);
    gasp_adjacency a;
    gasp_graph_out_edges(g, &a);
    assert_int_equal(a.off[u + 1] - a.off[u], 2);
    assert_int_equal(a.nbr[a.off[u]], i);
    assert_true(w[a.off[u]] == 4.5);
    assert_int_equal(gasp_graph_find(g, GASP_SIDE_RIGHT, 9, &i), GASP_OK);
    assert_true(w[a.off[u] + 1] == 3.0);
    gasp_graph_free(&g);
  }
  /* an edge list read as bipartite keeps two id spaces too */
  char *p = put(state, "pairs.el", "1 1\n1 2\n2 1\n");
  gasp_load_opts o = opts_threads(1);
  o.bipartite = 1;
  gasp_graph *g = load_ok(p, &o);
  assert_int_equal(gasp_graph_num_left(g), 2);
  assert_int_equal(gasp_graph_num_vertices(g), 4);
  gasp_graph_free(&g);
  free(p);
}

static void test_bad_ratings(void **state) {
  static const bad_case cases[] = {
      {"r-nonnum.csv", "u,i,r\n1,2,4\n1,3,x\n", GASP_EPARSE, 3, -1, "rating",
       "x"},
      {"r-missing.csv", "1,2,4\n1,3\n", GASP_EPARSE, 2, -1, "missing column",
       NULL},
      {"r-empty.csv", "", GASP_EPARSE, 0, -1, "empty", NULL},
      {"r-header-only.csv", "userId,movieId,rating\n", GASP_EPARSE, 0, -1,
       "empty", NULL},
      {"r-semicolon.csv", "1;2;4\n", GASP_EPARSE, 1, -1, "1;2;4", NULL},
      {"r-pipe.dat", "1::2::4\n1|2|4\n", GASP_EPARSE, 2, -1, "1|2|4", NULL},
      {"r-second-header.csv", "u,i,r\n1,2,3\nu,i,r\n", GASP_EPARSE, 3, -1, "u",
       NULL},
      {"r-neg-user.csv", "1,2,3\n-1,2,3\n", GASP_ERANGE, 2, -1, "negative",
       NULL},
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    char buf[4096];
    const char *p =
        put_buf(state, cases[i].name, cases[i].text, buf, sizeof buf);
    gasp_load_opts o = opts_threads(1);
    o.format = GASP_FORMAT_RATINGS;
    expect_error(p, &o, cases[i].code, NULL, cases[i].line, cases[i].sub1,
                 cases[i].sub2, NULL);
  }
}

/* Errors in the UCI header name the count line. */
static void test_uci_header_lines(void **state) {
  static const bad_case cases[] = {
      {"docword.hdrx.txt", "2\nx\n1\n1 1 1\n", GASP_EPARSE, 2, -1, NULL, NULL},
      {"docword.short.txt", "3\n4\n", GASP_EPARSE, 3, 0, NULL, NULL},
      {"docword.nodocs.txt", "0\n4\n0\n", GASP_EPARSE, 1, 3, NULL, NULL},
  };
  run_cases(state, cases, COUNT(cases));
}

static void test_bad_paths(void **state) {
  char *p = tu_path(*state, "does-not-exist.txt");
  expect_error(p, NULL, GASP_EIO, NULL, 0, "No such file", NULL);
  gasp_load_opts o = opts_threads(1);
  o.format = GASP_FORMAT_MTX;
  expect_error(p, &o, GASP_EIO, NULL, 0, "No such file", NULL);
  char *d = tu_path(*state, "a-directory");
  assert_int_equal(mkdir(d, 0755), 0);
  expect_error(d, NULL, GASP_EIO, NULL, 0, "directory", NULL);
  free(p);
  free(d);
}

/* A directory named as a snapshot is reported like any other directory
 * (GASP_EIO, "is a directory"), not as a file in the wrong format. */
static void test_directory_as_snapshot(void **state) {
  char d[4096];
  snprintf(d, sizeof d, "%s/dir.gasp", (const char *)*state);
  assert_int_equal(mkdir(d, 0755), 0);
  gasp_load_opts o = opts_threads(1);
  o.format = GASP_FORMAT_SNAPSHOT;
  expect_error(d, &o, GASP_EIO, NULL, 0, "directory", NULL);
  expect_error(d, NULL, GASP_EIO, NULL, 0, "directory", NULL); /* by name */
}

/* opts.symmetric on a bipartite input (rectangular Matrix Market, UCI).
 * gasp_builder_new() refuses GASP_BUILD_BIPARTITE | GASP_BUILD_SYMMETRIC
 * with GASP_EINVAL, and a bipartite graph's edges run from the left side
 * to the right side.  The loader must either refuse as well or return a
 * graph that keeps that invariant. */
static void test_symmetric_bipartite_input(void **state) {
  char mb[4096], ub[4096];
  const char *m = put_buf(
      state, "rect.mtx",
      "%%MatrixMarket matrix coordinate pattern general\n2 3 2\n1 3\n2 1\n", mb,
      sizeof mb);
  const char *u = put_buf(state, "docword.sym.txt", "2\n3\n2\n1 3 1\n2 1 4\n",
                          ub, sizeof ub);
  const char *paths[] = {m, u};
  for (int i = 0; i < 2; i++) {
    gasp_load_opts o = opts_threads(1);
    o.symmetric = 1;
    gasp_graph *g = NULL;
    gasp_error err;
    int rc = gasp_graph_load(&g, paths[i], &o, &err);
    if (rc != GASP_OK) {
      assert_null(g);
      assert_true(err.msg[0] != '\0');
      continue;
    }
    assert_true(gasp_graph_is_bipartite(g));
    gasp_adjacency out;
    gasp_graph_out_edges(g, &out);
    gasp_vid nleft = gasp_graph_num_left(g);
    char msg[512] = "";
    for (gasp_vid v = nleft; v < out.num_vertices && !msg[0]; v++)
      if (out.off[v + 1] != out.off[v])
        snprintf(msg, sizeof msg,
                 "%s with symmetric=1: right-side vertex %u (id %llu) has %llu "
                 "out-edges in a bipartite graph",
                 paths[i], v, (unsigned long long)gasp_graph_gid(g, v),
                 (unsigned long long)(out.off[v + 1] - out.off[v]));
    if (msg[0]) {
      gasp_graph_free(&g);
      fail_msg("%s", msg);
    }
    tu_check_structure(g);
    gasp_graph_free(&g);
  }
}

static int cancel_cb(void *user, const gasp_progress *pr) {
  int *calls = user;
  (*calls)++;
  assert_non_null(pr->phase);
  return 1;
}

static void test_progress_cancel(void **state) {
  char *p = put(state, "c.txt", "1 2\n2 3\n");
  int calls = 0;
  gasp_load_opts o = opts_threads(1);
  o.progress = cancel_cb;
  o.progress_user = &calls;
  gasp_graph *g = NULL;
  gasp_error err;
  assert_int_equal(gasp_graph_load(&g, p, &o, &err), GASP_ECANCELED);
  assert_null(g);
  assert_true(calls >= 1);
  free(p);
}

/* ---- pipes, FIFOs, binary input and long lines ------------------------ */

/* Starts a child (*ch) that writes `n` bytes of `data` into the FIFO
 * `path`, or, with data NULL, a line of `n` bytes of 'a' and then "1 2".
 * A reader that stops early kills it with SIGPIPE. */
static void feed_fifo(tu_child *ch, const char *path, const char *data,
                      size_t n) {
  if (tu_child_fork(ch) == 0) {
    signal(SIGPIPE, SIG_DFL);
    int fd = open(path, O_WRONLY);
    if (fd < 0)
      tu_child_exit(TU_RANK_FAIL("open %s: %s", path, strerror(errno)));
    static char a[1 << 16];
    memset(a, 'a', sizeof a);
    for (size_t off = 0; off < n;) {
      size_t k = n - off < sizeof a ? n - off : sizeof a;
      ssize_t w = write(fd, data ? data + off : a, k);
      if (w <= 0)
        tu_child_exit(TU_RANK_FAIL("write at byte %zu: %s", off,
                                   w < 0 ? strerror(errno) : "none written"));
      off += (size_t)w;
    }
    if (!data && write(fd, "\n1 2\n", 5) != 5)
      tu_child_exit(
          TU_RANK_FAIL("write of the last line: %s", strerror(errno)));
    tu_child_exit(0);
  }
}

/* Reaps the FIFO's writer; when the reader took everything (`whole`), the
 * writer must have ended well. */
static void reap(tu_child *ch, int whole) {
  if (whole)
    tu_child_assert_ok(ch, "the FIFO's writer");
  else
    tu_child_wait(ch);
}

static void test_pipe_input(void **state) {
  /* Auto-detection must not lose the bytes it looks at: a FIFO (as a
   * pipe or /dev/stdin) cannot be reopened or read twice. */
  size_t cap = 1 << 20, n = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  tu_rng r = {9};
  uint64_t lines = 0;
  while (n + 64 < cap) {
    n += (size_t)snprintf(text + n, 64, "%llu %llu\n",
                          (unsigned long long)tu_below(&r, 5000),
                          (unsigned long long)tu_below(&r, 5000));
    lines++;
  }
  char *gz = tu_path(*state, "pipe-src.gz");
  tu_write_gz(gz, text, n);
  size_t zlen = 0;
  char *z = tu_read_file(gz, &zlen);
  static const char mtx[] = "%%MatrixMarket matrix coordinate pattern general\n"
                            "3 3 3\n1 2\n2 3\n3 1\n";
  char *fifo = tu_path(*state, "fifo");
  assert_int_equal(mkfifo(fifo, 0600), 0);
  struct {
    const char *data;
    size_t n;
    uint64_t edges;
    int threads;
  } cases[] = {{text, n, lines, 1},
               {text, n, lines, 2},
               {z, zlen, lines, 1},
               {z, zlen, lines, 2},
               {mtx, sizeof mtx - 1, 3, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    tu_child w;
    feed_fifo(&w, fifo, cases[i].data, cases[i].n);
    gasp_load_opts o = opts_threads(cases[i].threads);
    gasp_graph *g = load_ok(fifo, &o);
    reap(&w, 1);
    if (gasp_graph_num_edges(g) != cases[i].edges)
      fail_msg("case %zu: %llu edges through a FIFO, want %llu", i,
               (unsigned long long)gasp_graph_num_edges(g),
               (unsigned long long)cases[i].edges);
    gasp_graph_free(&g);
  }
  /* a vocabulary through a FIFO: read once, though it is needed twice
   * (counted before the corpus, naming the words after) */
  char *corpus = tu_path(*state, "pipe.triples");
  tu_write_str(corpus, "1 1 2\n2 3 1\n");
  static const char words[] = "apple\nbanana\ncherry\n";
  for (int f = 0; f < 2; f++) {
    tu_child vw;
    feed_fifo(&vw, fifo, words, sizeof words - 1);
    gasp_load_opts vo;
    gasp_load_opts_init(&vo);
    vo.format = f ? GASP_FORMAT_TRIPLES : GASP_FORMAT_UCI;
    vo.vocab = fifo;
    if (f == 0)
      tu_write_str(corpus, "2\n3\n2\n1 1 2\n2 3 1\n");
    else
      tu_write_str(corpus, "1 1 2\n2 3 1\n");
    gasp_graph *vg = load_ok(corpus, &vo);
    reap(&vw, 1);
    gasp_vid nl = gasp_graph_num_left(vg);
    assert_int_equal(gasp_graph_num_vertices(vg) - nl, 3);
    assert_string_equal(gasp_graph_name(vg, nl + 2), "cherry");
    gasp_graph_free(&vg);
  }
  free(corpus);
  /* a snapshot cannot be streamed: a clear error, not a parse error */
  char *snap = tu_path(*state, "pipe.gasp");
  gasp_graph *g = load_ok(gz, NULL);
  gasp_error err;
  assert_int_equal(gasp_graph_save_snapshot(g, snap, &err), GASP_OK);
  gasp_graph_free(&g);
  size_t slen = 0;
  char *sb = tu_read_file(snap, &slen);
  tu_child sw;
  feed_fifo(&sw, fifo, sb, slen);
  expect_error(fifo, NULL, GASP_EINVAL, NULL, 0, "regular file", NULL);
  reap(&sw, 0);
  free(sb);
  free(snap);
  free(fifo);
  free(z);
  free(gz);
  free(text);
}

static void test_binary_and_long_lines(void **state) {
  /* a NUL byte is reported on its line, whatever follows */
  char *p = tu_path(*state, "nul.el");
  static const char nul[] = "1 2\n3 4\n5 \0 6\n7 8\n";
  tu_write_bytes(p, nul, sizeof nul - 1);
  expect_error(p, NULL, GASP_EPARSE, NULL, 3, "NUL", NULL);
  /* /dev/zero fails at once instead of buffering without end */
  expect_error("/dev/zero", NULL, GASP_EPARSE, NULL, 1, "NUL", NULL);
  /* a line past GASP_LINE_MAX: an error on that line, with the memory
   * bounded by the limit (not by the input) */
  char *fifo = tu_path(*state, "long-fifo");
  assert_int_equal(mkfifo(fifo, 0600), 0);
  static const int threads[] = {1, 2, 8}; /* 8: a block holds the line */
  for (int i = 0; i < 3; i++) {
    tu_child w;
    feed_fifo(&w, fifo, NULL, GASP_LINE_MAX + (1 << 20));
    gasp_load_opts o = opts_threads(threads[i]);
    expect_error(fifo, &o, GASP_EPARSE, NULL, 1, "longer than 64 MiB", NULL);
    reap(&w, 0);
  }
  /* one line just under the limit (then a good line) is read */
  size_t n = ((size_t)1 << 20) * 3;
  char *big = malloc(n + 16);
  assert_non_null(big);
  memset(big, ' ', n);
  memcpy(big, "1 2", 3);
  memcpy(big + n - 1, "\n3 4\n", 5);
  char *pb = tu_path(*state, "wide.el");
  tu_write_bytes(pb, big, n + 4);
  gasp_graph *g = load_ok(pb, NULL);
  assert_int_equal(gasp_graph_num_edges(g), 2);
  gasp_graph_free(&g);
  free(big);
  free(pb);
  free(fifo);
  free(p);
}

/* Loads `path` in a child limited to 1 GiB of address space and 20 s;
 * the load must fail with `code` within `seconds`.  Returns nothing: the
 * child's verdict is asserted. */
static void expect_fast_failure(const char *path, int code, double seconds) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  /* without the limit, a machine with over ~100 GB would try to build it */
  if (code == GASP_ENOMEM) return;
#endif
  tu_child ch;
  if (tu_child_fork(&ch) == 0) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    /* (the sanitizers reserve terabytes of address space for shadow) */
    struct rlimit rl = {(rlim_t)1 << 30, (rlim_t)1 << 30};
    setrlimit(RLIMIT_AS, &rl);
#endif
    alarm(20);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gasp_graph *g = NULL;
    gasp_error err;
    int rc = gasp_graph_load(&g, path, NULL, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) +
                1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    const char *msg = rc ? err.msg : "";
    fprintf(stderr, "%s: %s in %.2f s: %s\n", path, gasp_err_name(rc), dt, msg);
    if (rc != code)
      tu_child_exit(TU_RANK_FAIL("%s (%s), want %s", gasp_err_name(rc), msg,
                                 gasp_err_name(code)));
    if (dt > seconds)
      tu_child_exit(
          TU_RANK_FAIL("failed after %.2f s, want within %.2f s", dt, seconds));
    tu_child_exit(0);
  }
  if (!tu_child_wait(&ch))
    fail_msg("%s: %s%s", path, ch.msg,
             ch.sig == SIGALRM ? " (still loading after 20 s)" : "");
}

static void test_huge_declared_sizes(void **state) {
  /* Tiny files whose headers declare billions of vertices fail at once,
   * without allocating or inserting every declared id. */
  char *m = tu_path(*state, "huge.mtx");
  tu_write_str(m, "%%MatrixMarket matrix coordinate pattern general\n"
                  "4000000000 4000000000 1\n1 1\n");
  expect_fast_failure(m, GASP_ENOMEM, 3.0);
  char *u = tu_path(*state, "docword.huge.txt");
  tu_write_str(u, "4000000000\n4000000000\n1\n1 1 1\n");
  expect_fast_failure(u, GASP_ERANGE, 3.0);
  char *r = tu_path(*state, "rect.mtx");
  tu_write_str(r, "%%MatrixMarket matrix coordinate real general\n"
                  "3000000000 3000000000 1\n1 1 2.5\n");
  expect_fast_failure(r, GASP_ENOMEM, 3.0);
  free(m);
  free(u);
  free(r);
}

static void test_thread_bound(void **state) {
  char *p = tu_path(*state, "t.el");
  tu_write_str(p, "1 2\n");
  gasp_load_opts o = opts_threads(GASP_MAX_THREADS + 1);
  gasp_graph *g = NULL;
  gasp_error err;
  assert_int_equal(gasp_graph_load(&g, p, &o, &err), GASP_EINVAL);
  assert_null(g);
  assert_true(tu_contains(err.msg, "threads"));
  o.threads = -1;
  assert_int_equal(gasp_graph_load(&g, p, &o, &err), GASP_EINVAL);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_edgelist_formatting),
      cmocka_unit_test(test_edgelist_weights),
      cmocka_unit_test(test_adjacency),
      cmocka_unit_test(test_mtx),
      cmocka_unit_test(test_uci),
      cmocka_unit_test(test_large_file),
      cmocka_unit_test(test_error_line_large_file),
      cmocka_unit_test(test_bad_text),
      cmocka_unit_test(test_bad_garbage),
      cmocka_unit_test(test_bad_gzip),
      cmocka_unit_test(test_bad_mtx),
      cmocka_unit_test(test_mtx_header_lines),
      cmocka_unit_test(test_bad_uci),
      cmocka_unit_test(test_ratings),
      cmocka_unit_test(test_bad_ratings),
      cmocka_unit_test(test_uci_header_lines),
      cmocka_unit_test(test_bad_paths),
      cmocka_unit_test(test_directory_as_snapshot),
      cmocka_unit_test(test_symmetric_bipartite_input),
      cmocka_unit_test(test_progress_cancel),
      cmocka_unit_test(test_pipe_input),
      cmocka_unit_test(test_binary_and_long_lines),
      cmocka_unit_test(test_thread_bound),
      cmocka_unit_test(test_huge_declared_sizes),
  };
  return cmocka_run_group_tests_name("load", tests, setup, teardown);
}
