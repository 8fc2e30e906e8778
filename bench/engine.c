/*
 * bench/engine.c -- the async engine's two ways of enforcing consistency,
 * per-vertex locks vs the chromatic schedule, for edge and full
 * consistency, on a symmetrised Kronecker graph.
 *
 *   bench/engine [--scale S] [--edge-factor F] [--trials N] [--threads T]
 *
 * Workload: residual PageRank (a vertex re-signals its out-neighbours while
 * its rank moves by more than 1e-9).  Every run's ranks are checked against
 * the synchronous engine's (max abs error < 1e-6); medians of N trials
 * after one warm-up (which also colours the graph) are printed.
 */
#include <gasp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vtx {
  double rank, inv_out, change;
} vtx;

static double n_vertices;

static void init(gasp_ctx *c, void *vd) {
  vtx *v = vd;
  uint64_t d = gasp_ctx_out_degree(c);
  v->rank = 1.0 / gasp_ctx_num_vertices(c);
  v->inv_out = d ? 1.0 / (double)d : 0;
  v->change = 1;
}

static gasp_dir in(const gasp_ctx *c, const void *v) { return GASP_DIR_IN; }
static gasp_dir out(const gasp_ctx *c, const void *v) { return GASP_DIR_OUT; }

static void gather(const gasp_ctx *c, const void *v, const gasp_nbrs *nb,
                   void *acc) {
  const vtx *all = nb->vertex_data;
  double s = 0;
  for (uint64_t i = 0; i < nb->n_in; i++)
    s += all[nb->in[i]].rank * all[nb->in[i]].inv_out;
  *(double *)acc = s;
}

static void apply(gasp_ctx *c, void *vd, const void *acc) {
  vtx *v = vd;
  double r = 0.15 / n_vertices + 0.85 * *(const double *)acc;
  v->change = fabs(r - v->rank);
  v->rank = r;
}

static void scatter(gasp_ctx *c, const void *vd, const gasp_edge *e) {
  if (((const vtx *)vd)->change > 1e-9) gasp_signal(c, e->nbr);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct result {
  double seconds;
  uint64_t updates;
  int colors;
} result;

static double *run(gasp_graph *g, gasp_engine_kind k, gasp_consistency c,
                   gasp_locking l, int threads, result *res) {
  gasp_program p = {0};
  p.vertex_size = sizeof(vtx);
  p.acc_size = sizeof(double);
  p.init_vertex = init;
  p.gather_edges = in;
  p.gather_vertex = gather;
  p.apply = apply;
  p.scatter_edges = out;
  p.scatter = scatter;
  gasp_engine_opts o;
  gasp_engine_opts_init(&o);
  o.engine = k;
  o.consistency = c;
  o.locking = l;
  o.threads = threads;
  gasp_engine *e;
  gasp_run_stats st;
  if (gasp_engine_new(&e, g, &p, &o, NULL)) exit(1);
  gasp_engine_signal_all(e, 0);
  if (gasp_engine_run(e, &st)) exit(1);
  res->seconds = st.seconds;
  res->updates = st.updates;
  res->colors = st.colors;
  uint64_t n = gasp_graph_num_vertices(g);
  double *r = malloc(n * sizeof *r);
  const vtx *vd = gasp_graph_vertex_data(g);
  for (uint64_t v = 0; v < n; v++) r[v] = vd[v].rank;
  gasp_engine_free(&e);
  return r;
}

static gasp_graph *kronecker(int scale, int ef) {
  gasp_edge_list *el;
  gasp_builder *b;
  gasp_graph *g;
  if (gasp_generate_kronecker(&el, scale, ef, 0, 0, 0, 1, 0)) exit(1);
  if (gasp_builder_new(&b, GASP_BUILD_SYMMETRIC)) exit(1);
  for (uint64_t i = 0; i < el->n; i++)
    if (el->src[i] != el->dst[i]) gasp_builder_add_edge(b, el->src[i], el->dst[i], 1);
  gasp_edge_list_free(&el);
  if (gasp_builder_finish(b, 0, &g, NULL)) exit(1);
  gasp_builder_free(&b);
  return g;
}

int main(int argc, char **argv) {
  int scale = 16, ef = 16, trials = 3, threads = 0;
  for (int i = 1; i < argc; i += 2) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v && !strcmp(argv[i], "--scale")) scale = atoi(v);
    else if (v && !strcmp(argv[i], "--edge-factor")) ef = atoi(v);
    else if (v && !strcmp(argv[i], "--trials")) trials = atoi(v);
    else if (v && !strcmp(argv[i], "--threads")) threads = atoi(v);
    else {
      fprintf(stderr, "usage: %s [--scale S] [--edge-factor F] [--trials N] "
                      "[--threads T]\n", argv[0]);
      return 2;
    }
  }
  if (trials < 1 || trials > 64) trials = 3;
  gasp_graph *g = kronecker(scale, ef);
  n_vertices = gasp_graph_num_vertices(g);
  printf("graph: kronecker scale %d edge factor %d, symmetrised, loops "
         "dropped: %u vertices, %llu edges; %d trials, threads %d (0 = all)\n",
         scale, ef, gasp_graph_num_vertices(g),
         (unsigned long long)gasp_graph_num_edges(g), trials, threads);
  result r;
  double *ref = run(g, GASP_ENGINE_SYNC, GASP_CONSISTENCY_EDGE,
                    GASP_LOCKING_DEFAULT, threads, &r);
  printf("%-6s %-10s %10s %12s %8s %10s\n", "cons", "locking", "median_s",
         "updates", "colors", "max_err");
  printf("%-6s %-10s %10.3f %12llu %8s %10s\n", "sync", "-", r.seconds,
         (unsigned long long)r.updates, "-", "-");
  int ok = 1;
  for (int c = GASP_CONSISTENCY_EDGE; c <= GASP_CONSISTENCY_FULL; c++)
    for (int l = GASP_LOCKING_LOCKS; l <= GASP_LOCKING_CHROMATIC; l++) {
      double t[64], err = 0;
      free(run(g, GASP_ENGINE_ASYNC, c, l, threads, &r)); /* warm-up */
      for (int k = 0; k < trials; k++) {
        double *x = run(g, GASP_ENGINE_ASYNC, c, l, threads, &r);
        for (uint64_t v = 0; v < gasp_graph_num_vertices(g); v++)
          if (fabs(x[v] - ref[v]) > err) err = fabs(x[v] - ref[v]);
        free(x);
        t[k] = r.seconds;
      }
      qsort(t, (size_t)trials, sizeof *t, cmp);
      if (err > 1e-6) ok = 0;
      printf("%-6s %-10s %10.3f %12llu %8d %10.2e\n",
             c == GASP_CONSISTENCY_EDGE ? "edge" : "full",
             l == GASP_LOCKING_LOCKS ? "locks" : "chromatic", t[trials / 2],
             (unsigned long long)r.updates, r.colors, err);
    }
  printf("Verification: %s (async ranks vs the sync engine's, max abs "
         "error < 1e-6)\n", ok ? "PASS" : "FAIL");
  free(ref);
  gasp_graph_free(&g);
  return ok ? 0 : 1;
}
