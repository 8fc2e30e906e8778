/*
 * bench/bccheck.c -- independent check of a betweenness-centrality result:
 * Brandes' algorithm (a queue, a stack, distinct out-neighbours) run
 * serially from the given sources over the graph loaded with libgasp, and
 * compared with the scores written by `gasp bc --normalize none -o`:
 * every vertex within 1e-9 (relative).  With a GAP benchmark suite top
 * list (`gapbs/bc -a` lines "id:score" for the same sources) it also
 * checks those scores under the suite's convention: each source is
 * credited with the vertices it reaches, less one, and the scores are
 * divided by the largest (within 2e-5; the suite sums in float).
 *
 *   bccheck GRAPH SCORES ID[,ID...] [GAPBS_TOP]
 *
 * Prints the largest score and "Verification: PASS/FAIL"; exit status 0
 * on PASS, 1 on FAIL, 2 on bad input.
 */
#include <gasp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail_input(const char *msg, const char *what) {
  fprintf(stderr, "bccheck: %s%s\n", msg, what);
  return 2;
}

/* From s: adds delta_s(v) to bc[v] for v != s; returns the vertices
 * reached. */
static uint64_t brandes(const gasp_adjacency *a, uint32_t s, double *bc,
                        double *sigma, double *delta, int64_t *dist,
                        uint32_t *queue) {
  uint32_t n = a->num_vertices;
  for (uint32_t v = 0; v < n; v++) {
    sigma[v] = delta[v] = 0;
    dist[v] = -1;
  }
  uint64_t h = 0, t = 0;
  sigma[s] = 1;
  dist[s] = 0;
  queue[t++] = s;
  while (h < t) {
    uint32_t u = queue[h++];
    uint32_t last = UINT32_MAX;
    for (uint64_t j = a->off[u]; j < a->off[u + 1]; j++) {
      uint32_t w = a->nbr[j];
      if (w == last) continue; /* a repeated edge (the lists ascend) */
      last = w;
      if (dist[w] < 0) {
        dist[w] = dist[u] + 1;
        queue[t++] = w;
      }
      if (dist[w] == dist[u] + 1) sigma[w] += sigma[u];
    }
  }
  for (uint64_t i = t; i-- > 0;) { /* the queue backwards: farthest first */
    uint32_t u = queue[i], last = UINT32_MAX;
    for (uint64_t j = a->off[u]; j < a->off[u + 1]; j++) {
      uint32_t w = a->nbr[j];
      if (w == last) continue;
      last = w;
      if (dist[w] == dist[u] + 1)
        delta[u] += sigma[u] / sigma[w] * (1 + delta[w]);
    }
    if (u != s) bc[u] += delta[u];
  }
  return t;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s GRAPH SCORES ID[,ID...] [GAPBS_TOP]\n",
            argv[0]);
    return 2;
  }
  gasp_graph *g;
  gasp_error err;
  if (gasp_graph_load(&g, argv[1], NULL, &err)) {
    char m[1200];
    return fail_input(gasp_error_format(&err, m, sizeof m), "");
  }
  uint32_t n = gasp_graph_num_vertices(g);
  gasp_adjacency out;
  gasp_graph_out_edges(g, &out);
  double *bc = calloc(n ? n : 1, sizeof *bc), *got = malloc((n ? n : 1) * 8);
  double *sigma = malloc((n ? n : 1) * 8), *delta = malloc((n ? n : 1) * 8);
  double *credit = calloc(n ? n : 1, sizeof *credit);
  int64_t *dist = malloc((n ? n : 1) * sizeof *dist);
  uint32_t *queue = malloc((n ? n : 1) * sizeof *queue);
  if (!bc || !got || !sigma || !delta || !credit || !dist || !queue)
    return fail_input("out of memory", "");
  int nsrc = 0;
  for (char *s = strtok(argv[3], ","); s; s = strtok(NULL, ",")) {
    uint32_t v;
    if (gasp_graph_find(g, GASP_SIDE_LEFT, strtoull(s, NULL, 10), &v))
      return fail_input("unknown source id ", s);
    credit[v] += (double)(brandes(&out, v, bc, sigma, delta, dist, queue) - 1);
    nsrc++;
  }
  FILE *f = fopen(argv[2], "r");
  if (!f) return fail_input("cannot read ", argv[2]);
  unsigned long long id;
  uint32_t k = 0, bad = 0;
  double worst = 0, best = 0;
  while (k < n && fscanf(f, "%llu\t%lf", &id, &got[k]) == 2) {
    if (gasp_graph_gid(g, k) != id) {
      fprintf(stderr, "bccheck: %s: line %u: unexpected id %llu\n", argv[2],
              k + 1, id);
      return 2;
    }
    double e = fabs(got[k] - bc[k]) / (1 + fabs(bc[k]));
    if (!(e <= 1e-9)) bad++;
    if (e > worst || e != e) worst = e;
    if (bc[k] > best) best = bc[k];
    k++;
  }
  fclose(f);
  int ok = k == n && bad == 0;
  printf("bccheck: %d sources, largest score %.6g; %u of %u scores off "
         "(largest relative error %.2g)\n",
         nsrc, best, bad, n, worst);
  if (argc > 4) { /* the suite's top list, under its convention */
    double m = 0;
    for (uint32_t v = 0; v < n; v++)
      if (bc[v] + credit[v] > m) m = bc[v] + credit[v];
    FILE *t = fopen(argv[4], "r");
    if (!t) return fail_input("cannot read ", argv[4]);
    double score;
    int seen = 0, off = 0;
    while (fscanf(t, "%llu:%lf", &id, &score) == 2) {
      uint32_t v;
      double want = -1;
      if (!gasp_graph_find(g, GASP_SIDE_LEFT, id, &v))
        want = (bc[v] + credit[v]) / m;
      if (!(fabs(want - score) <= 2e-5)) {
        printf("bccheck: gapbs %llu:%g, expected %.6g\n", id, score, want);
        off++;
      }
      seen++;
    }
    fclose(t);
    printf("bccheck: %d of gapbs's %d top scores agree\n", seen - off, seen);
    ok = ok && seen > 0 && off == 0;
  }
  printf("Verification: %s\n", ok ? "PASS" : "FAIL");
  free(bc);
  free(got);
  free(sigma);
  free(delta);
  free(credit);
  free(dist);
  free(queue);
  gasp_graph_free(&g);
  return ok ? 0 : 1;
}
