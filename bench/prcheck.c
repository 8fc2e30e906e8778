/*
 * bench/prcheck.c -- independent check of a PageRank result: loads the
 * graph with libgasp and the ranks written by `gasp pagerank -o`, applies
 * one step of plain power iteration (networkx convention: dangling mass
 * spread uniformly) and reports how far the ranks are from a fixed point.
 *
 *   prcheck GRAPH RANKS [DAMPING]
 *
 * Prints "prcheck: L1 step change X, sum Y" and "Verification: PASS" when
 * the L1 change of one step is below 1e-6 and the ranks sum to 1 within
 * 1e-9; exit status 0 on PASS, 1 on FAIL, 2 on bad input.
 */
#include <gasp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s GRAPH RANKS [DAMPING]\n", argv[0]);
    return 2;
  }
  double d = argc > 3 ? atof(argv[3]) : 0.85;
  gasp_graph *g;
  gasp_error err;
  if (gasp_graph_load(&g, argv[1], NULL, &err)) {
    char m[1200];
    fprintf(stderr, "prcheck: %s\n", gasp_error_format(&err, m, sizeof m));
    return 2;
  }
  uint64_t n = gasp_graph_num_vertices(g);
  double *x = malloc(n * sizeof *x), *y = calloc(n, sizeof *y);
  FILE *f = fopen(argv[2], "r");
  if (!x || !y || !f) {
    fprintf(stderr, "prcheck: cannot read %s\n", argv[2]);
    return 2;
  }
  unsigned long long id;
  double r;
  uint64_t k = 0;
  /* lines in ascending id: vertex k, or the k-th of a reordered graph's
   * id order */
  const gasp_vid *order = gasp_graph_id_order(g);
  while (fscanf(f, "%llu\t%lf\n", &id, &r) == 2) {
    gasp_vid v = k < n && order ? order[k] : (gasp_vid)k;
    if (k >= n || gasp_graph_gid(g, v) != id) {
      fprintf(stderr, "prcheck: %s: line %llu: id %llu is not vertex %llu\n",
              argv[2], (unsigned long long)k + 1, id, (unsigned long long)k);
      return 2;
    }
    x[v] = r;
    k++;
  }
  fclose(f);
  if (k != n) {
    fprintf(stderr, "prcheck: %s: %llu ranks for %llu vertices\n", argv[2],
            (unsigned long long)k, (unsigned long long)n);
    return 2;
  }
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  double dangling = 0, sum = 0;
  for (uint64_t u = 0; u < n; u++) {
    uint64_t deg = out.off[u + 1] - out.off[u];
    sum += x[u];
    if (!deg) {
      dangling += x[u];
      continue;
    }
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++)
      y[out.nbr[j]] += x[u] / (double)deg;
  }
  double l1 = 0;
  for (uint64_t v = 0; v < n; v++) {
    double next = (1 - d) / (double)n + d * (y[v] + dangling / (double)n);
    l1 += fabs(next - x[v]);
  }
  int ok = l1 < 1e-6 && fabs(sum - 1) < 1e-9;
  printf("prcheck: L1 step change %.3g, sum %.12f\n", l1, sum);
  printf("Verification: %s\n", ok ? "PASS" : "FAIL");
  free(x);
  free(y);
  gasp_graph_free(&g);
  return ok ? 0 : 1;
}
