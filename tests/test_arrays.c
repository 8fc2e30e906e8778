/*
 * test_arrays.c -- graphs from caller arrays (gasp_graph_from_coo,
 * gasp_graph_from_csr) equal the graph a file with the same edges loads
 * to: sizes, original ids, both adjacencies and weights; isolated
 * vertices, bipartite and symmetric flags; bad arrays refused naming the
 * edge or offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gasp.h"

static void same_graph(const gasp_graph *a, const gasp_graph *b) {
  assert_int_equal(gasp_graph_num_vertices(a), gasp_graph_num_vertices(b));
  assert_int_equal(gasp_graph_num_edges(a), gasp_graph_num_edges(b));
  assert_int_equal(gasp_graph_is_bipartite(a), gasp_graph_is_bipartite(b));
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(a); v++) {
    assert_int_equal(gasp_graph_gid(a, v), gasp_graph_gid(b, v));
    assert_int_equal(gasp_graph_side(a, v), gasp_graph_side(b, v));
  }
  gasp_adjacency x, y;
  for (int d = 0; d < 2; d++) {
    if (d) {
      gasp_graph_in_edges(a, &x);
      gasp_graph_in_edges(b, &y);
    } else {
      gasp_graph_out_edges(a, &x);
      gasp_graph_out_edges(b, &y);
    }
    assert_memory_equal(x.off, y.off, (x.num_vertices + 1) * sizeof *x.off);
    assert_memory_equal(x.nbr, y.nbr, x.num_edges * sizeof *x.nbr);
  }
  const double *wa = gasp_graph_weights(a), *wb = gasp_graph_weights(b);
  assert_true((wa == NULL) == (wb == NULL));
  if (wa) assert_memory_equal(wa, wb, gasp_graph_num_edges(a) * sizeof *wa);
}

/* Loads the same edges from a temporary edge-list file. */
static gasp_graph *from_file(uint64_t m, const gasp_gid *s, const gasp_gid *t,
                             const double *w, int bipartite) {
  char path[] = "/tmp/gasp-arrays-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  for (uint64_t i = 0; i < m; i++)
    if (w)
      fprintf(f, "%llu %llu %.17g\n", (unsigned long long)s[i],
              (unsigned long long)t[i], w[i]);
    else
      fprintf(f, "%llu %llu\n", (unsigned long long)s[i],
              (unsigned long long)t[i]);
  fclose(f);
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.format = GASP_FORMAT_EDGELIST;
  o.bipartite = bipartite;
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_load(&g, path, &o, NULL), GASP_OK);
  unlink(path);
  return g;
}

static const gasp_gid S[] = {5, 1, 5, 9, 1, 1, 7, 9};
static const gasp_gid T[] = {1, 9, 7, 5, 1, 9, 5, 2};
static const double W[] = {0.5, 2, 3, 4, 1, 6, 7.25, 8};
#define M (sizeof S / sizeof *S)

static void test_coo(void **state) {
  (void)state;
  for (int weighted = 0; weighted < 2; weighted++)
    for (int bip = 0; bip < 2; bip++) {
      const double *w = weighted ? W : NULL;
      gasp_graph *a = NULL, *b = from_file(M, S, T, w, bip);
      gasp_error err;
      assert_int_equal(gasp_graph_from_coo(&a, M, S, T, w, 0,
                                           bip ? GASP_BUILD_BIPARTITE : 0, 2,
                                           &err),
                       GASP_OK);
      same_graph(a, b);
      gasp_graph_free(&a);
      gasp_graph_free(&b);
    }
}

static void test_csr_and_isolated(void **state) {
  (void)state;
  /* rows 0..3: 0 -> 1, 2; 1 -> (none); 2 -> 0, 0; 3 -> 3 */
  const uint64_t off[] = {0, 2, 2, 4, 5};
  const gasp_gid nbr[] = {1, 2, 0, 0, 3};
  const double w[] = {1, 2, 3, 4, 5};
  const gasp_gid s[] = {0, 0, 2, 2, 3};
  gasp_graph *a = NULL, *b = NULL;
  assert_int_equal(gasp_graph_from_csr(&a, 4, off, nbr, w, 0, 1, NULL),
                   GASP_OK);
  assert_int_equal(gasp_graph_from_coo(&b, 5, s, nbr, w, 4, 0, 1, NULL),
                   GASP_OK);
  same_graph(a, b);
  assert_int_equal(gasp_graph_num_vertices(a), 4);
  gasp_graph_free(&a);
  gasp_graph_free(&b);
  /* isolated vertices: ids 0..9 exist though edges name only 4 of them */
  assert_int_equal(gasp_graph_from_coo(&a, M, S, T, NULL, 10, 0, 1, NULL),
                   GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(a), 10);
  gasp_graph_free(&a);
  /* symmetric: every edge both ways (loops once) */
  assert_int_equal(
      gasp_graph_from_coo(&a, M, S, T, NULL, 0, GASP_BUILD_SYMMETRIC, 1, NULL),
      GASP_OK);
  assert_int_equal(gasp_graph_num_edges(a), 2 * M - 1);
  gasp_graph_free(&a);
  /* no edges at all */
  assert_int_equal(gasp_graph_from_coo(&a, 0, NULL, NULL, NULL, 3, 0, 1, NULL),
                   GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(a), 3);
  gasp_graph_free(&a);
}

static void test_refused(void **state) {
  (void)state;
  gasp_graph *g = (gasp_graph *)1;
  gasp_error err;
  const uint64_t bad_off[] = {0, 3, 2};
  const gasp_gid nbr[] = {1, 1, 1};
  assert_int_equal(gasp_graph_from_csr(&g, 2, bad_off, nbr, NULL, 0, 1, &err),
                   GASP_EINVAL);
  assert_null(g);
  assert_non_null(strstr(err.msg, "off[2]"));
  const uint64_t off1[] = {1, 2};
  assert_int_equal(gasp_graph_from_csr(&g, 1, off1, nbr, NULL, 0, 1, &err),
                   GASP_EINVAL);
  const gasp_gid s[] = {1, 2, (gasp_gid)1 << 63};
  const gasp_gid t[] = {2, 3, 4};
  assert_int_equal(gasp_graph_from_coo(&g, 3, s, t, NULL, 0, 0, 1, &err),
                   GASP_ERANGE);
  assert_null(g);
  assert_non_null(strstr(err.msg, "edge 2"));
  assert_int_equal(gasp_graph_from_coo(&g, 3, NULL, t, NULL, 0, 0, 1, &err),
                   GASP_EINVAL);
  assert_int_equal(gasp_graph_from_coo(NULL, 3, s, t, NULL, 0, 0, 1, &err),
                   GASP_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_coo),
      cmocka_unit_test(test_csr_and_isolated),
      cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
