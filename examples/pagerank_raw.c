/*
 * pagerank_raw.c -- a complete gasp vertex program: PageRank by the
 * synchronous engine on the library alone (no command-line driver: how a
 * service embedding libgasp runs a program; examples/pagerank.c is the
 * same program on gasp_cli_main).
 *
 *   cc pagerank_raw.c $(pkg-config --cflags --libs gasp) -o pagerank
 *   ./pagerank graph.el [top-k]
 *
 * Each vertex gathers rank / out-degree over its in-edges, applies
 * r = (1 - d) / N + d * sum, and signals its out-neighbours while its rank
 * still moves by more than the tolerance.  (Dangling vertices simply lose
 * their mass here; the toolkit's `gasp pagerank` redistributes it.)
 */
#include <gasp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct vertex {
  double rank;    /* current PageRank                     */
  double inv_out; /* 1 / out-degree (0 for dangling)      */
  double change;  /* |last update|, read by scatter       */
} vertex;

typedef struct params {
  double damping, tol, n;
} params;

static void init(gasp_ctx *ctx, void *vd) {
  vertex *v = vd;
  uint64_t out = gasp_ctx_out_degree(ctx);
  v->rank = 1.0 / gasp_ctx_num_vertices(ctx);
  v->inv_out = out ? 1.0 / (double)out : 0.0;
  v->change = INFINITY;
}

static gasp_dir in_edges(const gasp_ctx *ctx, const void *v) {
  return GASP_DIR_IN;
}

static gasp_dir out_edges(const gasp_ctx *ctx, const void *v) {
  return GASP_DIR_OUT;
}

/* Bulk gather: one loop over the in-neighbours, no call per edge. */
static void gather(const gasp_ctx *ctx, const void *v, const gasp_nbrs *nb,
                   void *acc) {
  const vertex *all = nb->vertex_data;
  double sum = 0;
  for (uint64_t i = 0; i < nb->n_in; i++) {
    const vertex *u = &all[nb->in[i]];
    sum += u->rank * u->inv_out;
  }
  *(double *)acc = sum;
}

static void apply(gasp_ctx *ctx, void *vd, const void *acc) {
  const params *p = gasp_ctx_user(ctx);
  vertex *v = vd;
  double r = (1 - p->damping) / p->n + p->damping * *(const double *)acc;
  v->change = fabs(r - v->rank);
  v->rank = r;
}

static void scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  const params *p = gasp_ctx_user(ctx);
  if (((const vertex *)vd)->change > p->tol) gasp_signal(ctx, e->nbr);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s GRAPH [top-k]\n", argv[0]);
    return 2;
  }
  int topk = argc > 2 ? atoi(argv[2]) : 10;
  gasp_graph *g = NULL;
  gasp_error err;
  int rc = gasp_graph_load(&g, argv[1], NULL, &err);
  if (rc) {
    char msg[1200];
    fprintf(stderr, "pagerank: %s\n", gasp_error_format(&err, msg, sizeof msg));
    return 2;
  }
  params p = {0.85, 1e-10, (double)gasp_graph_num_vertices(g)};
  gasp_program prog = {0};
  prog.vertex_size = sizeof(vertex);
  prog.acc_size = sizeof(double);
  prog.init_vertex = init;
  prog.gather_edges = in_edges;
  prog.gather_vertex = gather;
  prog.apply = apply;
  prog.scatter_edges = out_edges;
  prog.scatter = scatter;
  prog.user = &p;

  gasp_engine_opts opts;
  gasp_engine_opts_init(&opts); /* sync engine, all cores */
  gasp_engine *e = NULL;
  if ((rc = gasp_engine_new(&e, g, &prog, &opts, &err))) {
    fprintf(stderr, "pagerank: %s\n", gasp_strerror(rc));
    gasp_graph_free(&g);
    return 1;
  }
  gasp_engine_signal_all(e, 0);
  gasp_run_stats st;
  rc = gasp_engine_run(e, &st);
  if (rc == GASP_OK) {
    const vertex *vd = gasp_graph_vertex_data(g);
    double total = 0;
    for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++) total += vd[v].rank;
    printf("supersteps %llu updates %llu seconds %.3f total_rank %.6f\n",
           (unsigned long long)st.iterations, (unsigned long long)st.updates,
           st.seconds, total);
    /* print the top-k by a simple selection */
    char *taken = calloc(gasp_graph_num_vertices(g), 1);
    for (int k = 0; taken && k < topk && k < (int)gasp_graph_num_vertices(g); k++) {
      gasp_vid best = GASP_VID_NONE;
      for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++)
        if (!taken[v] && (best == GASP_VID_NONE || vd[v].rank > vd[best].rank))
          best = v;
      taken[best] = 1;
      printf("%llu\t%.10g\n", (unsigned long long)gasp_graph_gid(g, best),
             vd[best].rank);
    }
    free(taken);
  }
  gasp_engine_free(&e);
  gasp_graph_free(&g);
  return rc ? 1 : 0;
}
