/*
 * test_generate.c -- tests for the synthetic generators (Kronecker / R-MAT,
 * uniform, low-rank ratings, LDA corpora) and the edge-list writer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gasp.h"

/* ---- helpers --------------------------------------------------------- */

static gasp_edge_list *kron(int scale, int ef, double a, double b, double c,
                            uint64_t seed, int threads) {
  gasp_edge_list *e = NULL;
  assert_int_equal(
      gasp_generate_kronecker(&e, scale, ef, a, b, c, seed, threads), GASP_OK);
  assert_non_null(e);
  return e;
}

static int same_edges(const gasp_edge_list *x, const gasp_edge_list *y) {
  return x->n == y->n &&
         memcmp(x->src, y->src, x->n * sizeof *x->src) == 0 &&
         memcmp(x->dst, y->dst, x->n * sizeof *x->dst) == 0;
}

/* Number of entries in directory `dir` other than . and .. */
static int dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

/* ---- Kronecker ------------------------------------------------------- */

static void test_kron_determinism(void **state) {
  (void)state;
  gasp_edge_list *e1 = kron(12, 16, 0, 0, 0, 42, 1);
  gasp_edge_list *e2 = kron(12, 16, 0, 0, 0, 42, 2);
  gasp_edge_list *e3 = kron(12, 16, 0, 0, 0, 42, 3);
  gasp_edge_list *e4 = kron(12, 16, 0, 0, 0, 43, 2);
  assert_true(same_edges(e1, e2));
  assert_true(same_edges(e1, e3));
  assert_false(same_edges(e1, e4));
  uint64_t differ = 0;
  for (uint64_t i = 0; i < e1->n; i++)
    differ += e1->src[i] != e4->src[i] || e1->dst[i] != e4->dst[i];
  assert_true(differ > e1->n / 2);
  gasp_edge_list_free(&e1);
  gasp_edge_list_free(&e2);
  gasp_edge_list_free(&e3);
  gasp_edge_list_free(&e4);
  assert_null(e1);
}

static void test_kron_skew(void **state) {
  (void)state;
  gasp_edge_list *e = kron(12, 16, 0, 0, 0, 7, 2);
  uint64_t n = e->num_vertices, *deg = calloc(n, sizeof *deg), max = 0;
  assert_non_null(deg);
  for (uint64_t i = 0; i < e->n; i++) {
    deg[e->src[i]]++;
    deg[e->dst[i]]++;
  }
  for (uint64_t v = 0; v < n; v++)
    if (deg[v] > max) max = deg[v];
  double mean = 2.0 * (double)e->n / (double)n; /* 32 */
  /* Graph500 parameters give a heavy tail: the hub of a scale-12 graph has
   * degree in the thousands, far beyond the mean of 32. */
  assert_true((double)max > 10.0 * mean);
  free(deg);
  gasp_edge_list_free(&e);
}

static void test_kron_ranges(void **state) {
  (void)state;
  gasp_edge_list *e = kron(10, 8, 0, 0, 0, 1, 2);
  assert_int_equal(e->num_vertices, 1024);
  assert_int_equal(e->n, 8 * 1024);
  assert_int_equal(e->num_right, 0);
  assert_null(e->weight);
  for (uint64_t i = 0; i < e->n; i++) {
    assert_true(e->src[i] < 1024);
    assert_true(e->dst[i] < 1024);
  }
  gasp_edge_list_free(&e);
  /* One quadrant with probability 1: every edge joins the scrambled
   * labels x = perm(0) and y = perm(n-1): a -> (x,x), b -> (x,y),
   * c -> (y,x), d -> (y,y) (d = 1 via a negligible a, as a = b = c = 0
   * means the Graph500 defaults). */
  const double corner[4][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1e-300, 0, 0}};
  uint64_t x = 0, y = 0;
  for (int q = 0; q < 4; q++) {
    e = kron(10, 2, corner[q][0], corner[q][1], corner[q][2], 5, 2);
    if (q == 0) x = e->src[0];
    if (q == 1) y = e->dst[0];
    uint64_t ws = (q & 2) ? y : x, wd = (q & 1) ? y : x;
    for (uint64_t i = 0; i < e->n; i++) {
      assert_int_equal(e->src[i], ws);
      assert_int_equal(e->dst[i], wd);
    }
    gasp_edge_list_free(&e);
  }
  assert_int_not_equal(x, y);
  /* Uniform quadrants: 32768 endpoints over 256 labels hit every label
   * (miss probability per label about e^-128), so the scramble maps onto
   * all of 0..n-1. */
  e = kron(8, 64, 0.25, 0.25, 0.25, 9, 2);
  int seen[256] = {0};
  for (uint64_t i = 0; i < e->n; i++) seen[e->src[i]] = seen[e->dst[i]] = 1;
  for (int v = 0; v < 256; v++) assert_true(seen[v]);
  gasp_edge_list_free(&e);
}

static void test_kron_invalid(void **state) {
  (void)state;
  gasp_edge_list *e = (gasp_edge_list *)&e; /* must be reset to NULL */
  assert_int_equal(gasp_generate_kronecker(&e, 0, 16, 0, 0, 0, 1, 1),
                   GASP_EINVAL);
  assert_null(e);
  assert_int_equal(gasp_generate_kronecker(&e, 32, 16, 0, 0, 0, 1, 1),
                   GASP_EINVAL);
  assert_int_equal(gasp_generate_kronecker(&e, 5, 0, 0, 0, 0, 1, 1),
                   GASP_EINVAL);
  assert_int_equal(gasp_generate_kronecker(&e, 5, 4, -0.1, 0.5, 0.1, 1, 1),
                   GASP_EINVAL);
  assert_int_equal(gasp_generate_kronecker(&e, 5, 4, 0.6, 0.3, 0.2, 1, 1),
                   GASP_EINVAL);
  assert_int_equal(gasp_generate_kronecker(&e, 5, 4, NAN, 0.1, 0.1, 1, 1),
                   GASP_EINVAL);
  assert_int_equal(gasp_generate_kronecker(&e, 5, 4, 1.5, 0, 0, 1, 1),
                   GASP_EINVAL);
  assert_int_equal(gasp_generate_kronecker(NULL, 5, 4, 0, 0, 0, 1, 1),
                   GASP_EINVAL);
  assert_null(e);
}

/* ---- uniform --------------------------------------------------------- */

static void test_uniform(void **state) {
  (void)state;
  gasp_edge_list *e = NULL, *f = NULL;
  assert_int_equal(gasp_generate_uniform(&e, 1000, 200000, 3, 1), GASP_OK);
  assert_int_equal(gasp_generate_uniform(&f, 1000, 200000, 3, 4), GASP_OK);
  assert_int_equal(e->n, 200000);
  assert_int_equal(e->num_vertices, 1000);
  assert_null(e->weight);
  assert_true(same_edges(e, f));
  double sum = 0;
  for (uint64_t i = 0; i < e->n; i++) {
    assert_true(e->src[i] < 1000 && e->dst[i] < 1000);
    sum += (double)e->src[i] + (double)e->dst[i];
  }
  /* Mean of 400000 uniform draws on 0..999: 499.5, sd 289/sqrt(4e5) = 0.46. */
  assert_true(fabs(sum / (2.0 * (double)e->n) - 499.5) < 5.0);
  gasp_edge_list_free(&e);
  gasp_edge_list_free(&f);
  assert_int_equal(gasp_generate_uniform(&e, 0, 10, 3, 1), GASP_EINVAL);
  assert_int_equal(gasp_generate_uniform(&e, 1, 0, 3, 1), GASP_OK);
  assert_int_equal(e->n, 0);
  gasp_edge_list_free(&e);
}

/* ---- ratings --------------------------------------------------------- */

static void check_distinct(const gasp_edge_list *e, uint64_t users,
                           uint64_t items, uint64_t per_user) {
  assert_int_equal(e->n, users * per_user);
  assert_int_equal(e->num_vertices, users);
  assert_int_equal(e->num_right, items);
  assert_non_null(e->weight);
  char *seen = calloc(items, 1);
  assert_non_null(seen);
  for (uint64_t u = 0; u < users; u++) {
    memset(seen, 0, items);
    for (uint64_t j = u * per_user; j < (u + 1) * per_user; j++) {
      assert_int_equal(e->src[j], u);
      assert_true(e->dst[j] < items);
      assert_false(seen[e->dst[j]]);
      seen[e->dst[j]] = 1;
    }
  }
  free(seen);
}

static void test_ratings_distinct(void **state) {
  (void)state;
  gasp_edge_list *e = NULL;
  assert_int_equal(
      gasp_generate_ratings(&e, 300, 50, 4, 10, 3.0, 0.1, 11, NULL), GASP_OK);
  check_distinct(e, 300, 50, 10);
  gasp_edge_list_free(&e);
  /* Every item (Floyd's algorithm at k = n). */
  assert_int_equal(
      gasp_generate_ratings(&e, 20, 50, 4, 50, 3.0, 0.1, 11, NULL), GASP_OK);
  check_distinct(e, 20, 50, 50);
  gasp_edge_list_free(&e);
  assert_int_equal(
      gasp_generate_ratings(&e, 20, 50, 4, 51, 3.0, 0.1, 11, NULL),
      GASP_EINVAL);
  assert_int_equal(gasp_generate_ratings(&e, 20, 50, 0, 5, 3.0, 0.1, 11, NULL),
                   GASP_EINVAL);
  assert_int_equal(
      gasp_generate_ratings(&e, 20, 50, 4, 5, 3.0, -1.0, 11, NULL),
      GASP_EINVAL);
  assert_null(e);
}

static double dot_rating(const double *f, uint64_t users, int rank,
                         uint64_t u, uint64_t i, double mean) {
  const double *uu = f + u * rank, *vv = f + (users + i) * rank;
  double dot = 0.0;
  for (int k = 0; k < rank; k++) dot += uu[k] * vv[k];
  return mean + dot;
}

static void test_ratings_model(void **state) {
  (void)state;
  const uint64_t users = 500, items = 200;
  const int rank = 8;
  gasp_edge_list *e = NULL, *e2 = NULL;
  double *f = NULL, *f2 = NULL;
  assert_int_equal(
      gasp_generate_ratings(&e, users, items, rank, 20, 3.5, 0.0, 5, &f),
      GASP_OK);
  assert_non_null(f);
  /* noise = 0: the rating is mean + U_u . V_i.  Compared to 1e-12 rather
   * than bit for bit only because a compiler may contract the two loops
   * into fused multiply-adds differently. */
  for (uint64_t j = 0; j < e->n; j++)
    assert_true(fabs(e->weight[j] - dot_rating(f, users, rank, e->src[j],
                                                 e->dst[j], 3.5)) < 1e-12);
  /* Factor entries are N(0, 1/rank): sample variance of 5600 entries
   * within 10% (its relative sd is sqrt(2/5600) = 1.9%). */
  double ss = 0;
  size_t nf = (users + items) * rank;
  for (size_t k = 0; k < nf; k++) ss += f[k] * f[k];
  assert_true(fabs(ss / (double)nf * rank - 1.0) < 0.1);
  /* noise = 0.25 with the same seed: same items and factors, residual sd
   * 0.25 (10000 residuals, relative sd of the estimate 0.7%). */
  assert_int_equal(
      gasp_generate_ratings(&e2, users, items, rank, 20, 3.5, 0.25, 5, &f2),
      GASP_OK);
  assert_memory_equal(f, f2, nf * sizeof *f);
  assert_memory_equal(e->dst, e2->dst, e->n * sizeof *e->dst);
  double rss = 0;
  for (uint64_t j = 0; j < e2->n; j++) {
    double r = e2->weight[j] - e->weight[j];
    rss += r * r;
  }
  assert_true(fabs(sqrt(rss / (double)e2->n) - 0.25) < 0.025);
  gasp_edge_list_free(&e);
  gasp_edge_list_free(&e2);
  free(f);
  free(f2);
}

/* ---- LDA corpus ------------------------------------------------------ */

static void test_lda_lengths(void **state) {
  (void)state;
  const uint64_t docs = 300, vocab = 500, len = 137;
  gasp_edge_list *e = NULL, *e2 = NULL;
  assert_int_equal(gasp_generate_lda_corpus(&e, docs, vocab, 10, len, 0.1,
                                            0.05, 17, NULL),
                   GASP_OK);
  assert_int_equal(e->num_vertices, docs);
  assert_int_equal(e->num_right, vocab);
  uint64_t *total = calloc(docs + 1, sizeof *total);
  assert_non_null(total);
  for (uint64_t j = 0; j < e->n; j++) {
    assert_true(e->src[j] >= 1 && e->src[j] <= docs);
    assert_true(e->dst[j] >= 1 && e->dst[j] <= vocab);
    assert_true(e->weight[j] >= 1.0);
    if (j > 0) { /* docs ascending, words strictly ascending within a doc */
      assert_true(e->src[j] >= e->src[j - 1]);
      if (e->src[j] == e->src[j - 1]) assert_true(e->dst[j] > e->dst[j - 1]);
    }
    total[e->src[j]] += (uint64_t)e->weight[j];
  }
  for (uint64_t d = 1; d <= docs; d++) assert_int_equal(total[d], len);
  free(total);
  assert_int_equal(gasp_generate_lda_corpus(&e2, docs, vocab, 10, len, 0.1,
                                            0.05, 17, NULL),
                   GASP_OK);
  assert_int_equal(e->n, e2->n);
  assert_memory_equal(e->dst, e2->dst, e->n * sizeof *e->dst);
  assert_memory_equal(e->weight, e2->weight, e->n * sizeof *e->weight);
  gasp_edge_list_free(&e);
  gasp_edge_list_free(&e2);
  assert_int_equal(
      gasp_generate_lda_corpus(&e, 0, vocab, 10, len, 0.1, 0.05, 17, NULL),
      GASP_EINVAL);
  assert_int_equal(
      gasp_generate_lda_corpus(&e, 5, vocab, 0, len, 0.1, 0.05, 17, NULL),
      GASP_EINVAL);
  assert_int_equal(
      gasp_generate_lda_corpus(&e, 5, vocab, 3, len, 0.0, 0.05, 17, NULL),
      GASP_EINVAL);
  assert_null(e);
}

static void test_lda_phi(void **state) {
  (void)state;
  const uint64_t docs = 100, vocab = 50, len = 10000;
  gasp_edge_list *e = NULL;
  double *phi = NULL;
  assert_int_equal(gasp_generate_lda_corpus(&e, docs, vocab, 1, len, 1.0, 0.5,
                                            23, &phi),
                   GASP_OK);
  assert_non_null(phi);
  double s = 0, *freq = calloc(vocab, sizeof *freq);
  assert_non_null(freq);
  for (uint64_t w = 0; w < vocab; w++) s += phi[w];
  assert_true(fabs(s - 1.0) < 1e-9);
  for (uint64_t j = 0; j < e->n; j++) freq[e->dst[j] - 1] += e->weight[j];
  /* With one topic every one of N = 1e6 tokens is an independent draw from
   * phi.  E|f_w/N - phi_w| <= sqrt(2 phi_w / (pi N)), so by Cauchy-Schwarz
   * the expected L1 distance is at most sqrt(2 V / (pi N)) = 0.0056 for
   * V = 50, and its sd is below sqrt((1 - 2/pi) / N) = 0.0006.  A bound
   * of 0.02 is over 20 sd away yet catches any systematic sampling bias of
   * a few percent. */
  double l1 = 0, n = (double)(docs * len);
  for (uint64_t w = 0; w < vocab; w++) l1 += fabs(freq[w] / n - phi[w]);
  assert_true(l1 < 0.02);
  free(freq);
  free(phi);
  gasp_edge_list_free(&e);
}

/* ---- writing --------------------------------------------------------- */

static gasp_edge_list *small_weighted(void) {
  static const double w[] = {3.0, -2.0, 0.1, 1e300, 9007199254740992.0,
                             -0.5, 0.0, 1.0 / 3.0};
  const uint64_t n = sizeof w / sizeof w[0];
  gasp_edge_list *e = calloc(1, sizeof *e);
  assert_non_null(e);
  e->n = n;
  e->src = malloc(n * sizeof *e->src);
  e->dst = malloc(n * sizeof *e->dst);
  e->weight = malloc(n * sizeof *e->weight);
  assert_true(e->src && e->dst && e->weight);
  for (uint64_t i = 0; i < n; i++) {
    e->src[i] = i * 1000003u;
    e->dst[i] = (uint64_t)INT64_MAX - i;
    e->weight[i] = w[i];
  }
  e->num_vertices = (uint64_t)INT64_MAX;
  return e;
}

/* Reads path back and compares it with e; the header must be "# h\n". */
static void read_back(const char *path, const gasp_edge_list *e) {
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  char line[256];
  assert_non_null(fgets(line, sizeof line, fp));
  assert_string_equal(line, "# h\n");
  for (uint64_t i = 0; i < e->n; i++) {
    uint64_t s, d;
    double w;
    assert_int_equal(fscanf(fp, "%" SCNu64 "\t%" SCNu64, &s, &d), 2);
    assert_int_equal(s, e->src[i]);
    assert_int_equal(d, e->dst[i]);
    if (e->weight) {
      assert_int_equal(fscanf(fp, "%lf", &w), 1);
      assert_true(w == e->weight[i]);
    }
  }
  int extra;
  assert_int_equal(fscanf(fp, "%d", &extra), EOF);
  fclose(fp);
}

static void test_write_roundtrip(void **state) {
  (void)state;
  char dir[] = "/tmp/gasp_test_gen_XXXXXX", p1[64], p2[64];
  assert_non_null(mkdtemp(dir));
  snprintf(p1, sizeof p1, "%s/w.txt", dir);
  snprintf(p2, sizeof p2, "%s/k.txt", dir);
  gasp_edge_list *w = small_weighted();
  gasp_error err;
  assert_int_equal(gasp_edge_list_write(w, p1, "# h\n", 2, &err), GASP_OK);
  read_back(p1, w);
  /* Integral weights are written as integers. */
  FILE *fp = fopen(p1, "r");
  char line[256];
  assert_non_null(fgets(line, sizeof line, fp));
  assert_non_null(fgets(line, sizeof line, fp));
  assert_string_equal(line, "0\t9223372036854775807\t3\n");
  fclose(fp);
  /* Several blocks written by several threads, in order. */
  gasp_edge_list *k = kron(13, 16, 0, 0, 0, 2, 2);
  assert_int_equal(gasp_edge_list_write(k, p2, "# h\n", 3, &err), GASP_OK);
  read_back(p2, k);
  assert_int_equal(dir_entries(dir), 2); /* no temporaries left */
  gasp_edge_list_free(&w);
  gasp_edge_list_free(&k);
  unlink(p1);
  unlink(p2);
  rmdir(dir);
}

static void test_write_nodir(void **state) {
  (void)state;
  char dir[] = "/tmp/gasp_test_gen_XXXXXX", path[96], sub[80];
  assert_non_null(mkdtemp(dir));
  snprintf(sub, sizeof sub, "%s/missing", dir);
  snprintf(path, sizeof path, "%s/out.txt", sub);
  gasp_edge_list *k = kron(6, 4, 0, 0, 0, 2, 1);
  gasp_error err;
  assert_int_equal(gasp_edge_list_write(k, path, NULL, 2, &err), GASP_EIO);
  assert_int_equal(err.code, GASP_EIO);
  assert_string_equal(err.file, path);
  struct stat st;
  assert_int_not_equal(stat(sub, &st), 0);
  assert_int_equal(dir_entries(dir), 0);
  assert_int_equal(gasp_edge_list_write(NULL, path, NULL, 1, NULL),
                   GASP_EINVAL);
  gasp_edge_list_free(&k);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kron_determinism),
      cmocka_unit_test(test_kron_skew),
      cmocka_unit_test(test_kron_ranges),
      cmocka_unit_test(test_kron_invalid),
      cmocka_unit_test(test_uniform),
      cmocka_unit_test(test_ratings_distinct),
      cmocka_unit_test(test_ratings_model),
      cmocka_unit_test(test_lda_lengths),
      cmocka_unit_test(test_lda_phi),
      cmocka_unit_test(test_write_roundtrip),
      cmocka_unit_test(test_write_nodir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
