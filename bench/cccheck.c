/*
 * bench/cccheck.c -- independent check of a connected-components result:
 * union-find (path halving, union by index) over the graph loaded with
 * libgasp, compared with the labels written by `gasp cc -o`: every vertex's
 * label must be the smallest original id of its weakly connected component.
 *
 *   cccheck GRAPH LABELS
 *
 * Prints the component count and "Verification: PASS/FAIL"; exit status 0
 * on PASS, 1 on FAIL, 2 on bad input.
 */
#include <gasp.h>

#include <stdio.h>
#include <stdlib.h>

static uint32_t find(uint32_t *p, uint32_t x) {
  while (p[x] != x) {
    p[x] = p[p[x]];
    x = p[x];
  }
  return x;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s GRAPH LABELS\n", argv[0]);
    return 2;
  }
  gasp_graph *g;
  gasp_error err;
  if (gasp_graph_load(&g, argv[1], NULL, &err)) {
    char m[1200];
    fprintf(stderr, "cccheck: %s\n", gasp_error_format(&err, m, sizeof m));
    return 2;
  }
  uint32_t n = gasp_graph_num_vertices(g);
  uint32_t *p = malloc((size_t)n * sizeof *p);
  if (!p) return 2;
  for (uint32_t v = 0; v < n; v++) p[v] = v;
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  for (uint32_t u = 0; u < n; u++)
    for (uint64_t j = out.off[u]; j < out.off[u + 1]; j++) {
      uint32_t a = find(p, u), b = find(p, out.nbr[j]);
      if (a < b)
        p[b] = a;
      else if (b < a)
        p[a] = b;
    }
  /* roots are the smallest local id of each component (union by index),
   * and local ids ascend with original ids */
  FILE *f = fopen(argv[2], "r");
  if (!f) {
    fprintf(stderr, "cccheck: cannot read %s\n", argv[2]);
    return 2;
  }
  unsigned long long id, label;
  uint32_t k = 0, bad = 0, comps = 0;
  while (fscanf(f, "%llu\t%llu\n", &id, &label) == 2) {
    if (k >= n || gasp_graph_gid(g, k) != id) {
      fprintf(stderr, "cccheck: %s: line %u: unexpected id %llu\n", argv[2],
              k + 1, id);
      return 2;
    }
    uint32_t r = find(p, k);
    if (r == k) comps++;
    if (gasp_graph_gid(g, r) != label) bad++;
    k++;
  }
  fclose(f);
  int ok = k == n && bad == 0;
  printf("cccheck: %u components, %u wrong labels, %u of %u vertices\n", comps,
         bad, k, n);
  printf("Verification: %s\n", ok ? "PASS" : "FAIL");
  free(p);
  gasp_graph_free(&g);
  return ok ? 0 : 1;
}
