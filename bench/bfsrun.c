/*
 * bench/bfsrun.c -- gasp_bfs per search, the graph loaded once: for each
 * source (original ids, as GAPBS numbers them when the graph is its
 * converter's edge list), one warm-up search and then N timed ones, each
 * checked by an independent serial BFS written here (a queue over the
 * out-edges): every depth equal, and every parent a vertex one level up
 * with an edge to the vertex (the source its own parent).
 *
 *   bfsrun GRAPH ID[,ID...] [--trials N] [--threads T] [--undirected]
 *
 * Prints, per source, the vertices reached and the median search time,
 * then "median per search: S s" over all the timed searches and
 * "Verification: PASS/FAIL"; exit 0 on PASS, 1 on FAIL, 2 on bad input.
 */
#include <gasp.h>
#include <gasp_toolkits.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Serial queue BFS over out (and in, when undirected) edges. */
static uint64_t ref_bfs(const gasp_adjacency *out, const gasp_adjacency *in,
                        gasp_vid s, uint32_t *d, gasp_vid *queue) {
  gasp_vid n = out->num_vertices;
  for (gasp_vid v = 0; v < n; v++)
    d[v] = GASP_BFS_UNREACHED;
  uint64_t h = 0, t = 0;
  d[s] = 0;
  queue[t++] = s;
  while (h < t) {
    gasp_vid u = queue[h++];
    for (int side = 0; side < (in ? 2 : 1); side++) {
      const gasp_adjacency *a = side ? in : out;
      for (uint64_t j = a->off[u]; j < a->off[u + 1]; j++) {
        gasp_vid w = a->nbr[j];
        if (d[w] == GASP_BFS_UNREACHED) {
          d[w] = d[u] + 1;
          queue[t++] = w;
        }
      }
    }
  }
  return t;
}

/* Whether u -> v is an edge (or v -> u when undirected): u among v's
 * in-neighbours (or out-neighbours); v's lists, as u may be a hub. */
static int has_edge(const gasp_adjacency *out, const gasp_adjacency *in,
                    int undirected, gasp_vid u, gasp_vid v) {
  for (uint64_t j = in->off[v]; j < in->off[v + 1]; j++)
    if (in->nbr[j] == u) return 1;
  if (undirected)
    for (uint64_t j = out->off[v]; j < out->off[v + 1]; j++)
      if (out->nbr[j] == u) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bfsrun GRAPH ID[,ID...] [--trials N] "
                    "[--threads T] [--undirected]\n");
    return 2;
  }
  int trials = 5, threads = 0, undirected = 0;
  for (int i = 3; i < argc; i++) {
    if (!strcmp(argv[i], "--trials") && i + 1 < argc)
      trials = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--undirected"))
      undirected = 1;
    else {
      fprintf(stderr, "bfsrun: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (trials < 1) trials = 1;
  gasp_load_opts lo;
  gasp_load_opts_init(&lo);
  gasp_graph *g = NULL;
  gasp_error err;
  if (gasp_graph_load(&g, argv[1], &lo, &err)) {
    fprintf(stderr, "bfsrun: %s\n", err.msg);
    return 2;
  }
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency out, in;
  gasp_graph_out_edges(g, &out);
  gasp_graph_in_edges(g, &in);
  uint32_t *depth = malloc((size_t)n * sizeof *depth);
  uint32_t *want = malloc((size_t)n * sizeof *want);
  gasp_vid *parent = malloc((size_t)n * sizeof *parent);
  gasp_vid *queue = malloc((size_t)n * sizeof *queue);
  double *all = malloc(sizeof(double) * (size_t)trials * 1024);
  if (!depth || !want || !parent || !queue || !all) {
    fprintf(stderr, "bfsrun: out of memory\n");
    return 2;
  }
  gasp_bfs_opts o;
  gasp_bfs_opts_init(&o);
  o.engine.threads = threads;
  o.undirected = undirected;
  int nall = 0, ok = 1;
  char *ids = strdup(argv[2]);
  for (char *tok = strtok(ids, ","); tok && nall < trials * 1024;
       tok = strtok(NULL, ",")) {
    char *end;
    unsigned long long id = strtoull(tok, &end, 10);
    gasp_vid s;
    if (*end || gasp_graph_find(g, GASP_SIDE_LEFT, id, &s)) {
      fprintf(stderr, "bfsrun: no vertex %s\n", tok);
      return 2;
    }
    double t[64];
    int nt = trials < 64 ? trials : 64;
    for (int k = -1; k < nt; k++) {
      double t0 = now();
      if (gasp_bfs(g, &o, s, depth, parent, NULL, &err)) {
        fprintf(stderr, "bfsrun: %s\n", err.msg);
        return 2;
      }
      if (k >= 0) all[nall++] = t[k] = now() - t0;
    }
    uint64_t reached = ref_bfs(&out, undirected ? &in : NULL, s, want, queue);
    for (gasp_vid v = 0; v < n && ok; v++) {
      if (depth[v] != want[v]) {
        printf("source %llu: vertex %u at depth %u, want %u\n", id, v,
               depth[v], want[v]);
        ok = 0;
      } else if (want[v] == GASP_BFS_UNREACHED) {
        ok = parent[v] == GASP_VID_NONE;
      } else if (v == s) {
        ok = parent[v] == s;
      } else {
        gasp_vid p = parent[v];
        ok = p < n && want[p] + 1 == want[v] &&
             has_edge(&out, &in, undirected, p, v);
      }
      if (!ok) printf("source %llu: vertex %u has a bad parent\n", id, v);
    }
    printf("source %llu: %llu vertices reached, median %.6f s\n", id,
           (unsigned long long)reached, median(t, nt));
  }
  if (nall == 0) {
    fprintf(stderr, "bfsrun: no sources\n");
    return 2;
  }
  printf("median per search: %.6f s\n", median(all, nall));
  printf("Verification: %s\n", ok ? "PASS" : "FAIL");
  free(ids);
  free(all);
  free(depth);
  free(want);
  free(parent);
  free(queue);
  gasp_graph_free(&g);
  return ok ? 0 : 1;
}
