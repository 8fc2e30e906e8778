/* pagerank.c -- PageRank as a vertex program, written against the
 * installed headers only, with the toolkit's convention: ranks sum to 1,
 * dangling vertices' rank is spread evenly, and the run ends once the L1
 * change of the ranks is below --tol.  Each vertex gathers rank /
 * out-degree over its in-edges from a dense array (8 bytes a vertex,
 * mirrored to other ranks by the engine); an aggregator sums, after every
 * superstep, the change and the dangling rank, which the next applies
 * read; a vertex signals itself while the last change was above --tol.
 *   cc pagerank.c $(pkg-config --cflags --libs gasp-cli) -o pagerank
 *   ./pagerank -i graph.el -o ranks.tsv    (and every gasp flag) */
#include <gasp_cli.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct vertex {
  double rank, change;
} vertex;
typedef struct sums {
  double change, dangling;
} sums;
static double tol = 1e-10, damping = 0.85;
static double *contrib; /* rank / out-degree by local id, 0 if none */
static int agg;

static void init(gasp_ctx *c, void *vd) {
  *(vertex *)vd = (vertex){1.0 / gasp_ctx_num_vertices(c), 1};
}
static void gather(const gasp_ctx *c, const void *v, const gasp_nbrs *nb,
                   void *acc) {
  double sum = 0;
  for (uint64_t i = 0; i < nb->n_in; i++)
    sum += contrib[nb->in[i]];
  *(double *)acc = sum;
}
static void apply(gasp_ctx *c, void *vd, const void *acc) {
  const sums *last = gasp_ctx_aggregate(c, agg);
  double n = gasp_ctx_num_vertices(c);
  vertex *v = vd;
  double r = (1 - damping) / n +
             damping * (*(const double *)acc + last->dangling / n);
  uint64_t out = gasp_ctx_out_degree(c);
  v->change = fabs(r - v->rank);
  v->rank = r;
  contrib[gasp_ctx_vertex(c)] = out ? r / (double)out : 0.0;
  if (last->change > tol) gasp_signal(c, gasp_ctx_vertex(c));
}
static void add(const gasp_graph *g, gasp_vid u, const void *vd, void *acc,
                void *user) {
  const vertex *v = vd;
  ((sums *)acc)->change += v->change;
  if (!gasp_graph_out_degree(g, u)) ((sums *)acc)->dangling += v->rank;
}
static void combine(void *acc, const void *other, void *user) {
  ((sums *)acc)->change += ((const sums *)other)->change;
  ((sums *)acc)->dangling += ((const sums *)other)->dangling;
}
static int start(gasp_cli_run *run, void *user) {
  gasp_aggregator a = {.size = sizeof(sums), .map_vertex = add,
                       .combine = combine, .period_iterations = 1};
  gasp_engine *e = gasp_cli_engine(run);
  gasp_graph *g = gasp_cli_graph(run);
  gasp_vid n = gasp_graph_num_vertices(g);
  const vertex *vd = gasp_graph_vertex_data(g);
  if (!(contrib = malloc((n ? n : 1) * sizeof *contrib))) return 1;
  for (gasp_vid v = 0; v < n; v++) {
    uint64_t out = gasp_graph_out_degree(g, v);
    contrib[v] = out ? vd[v].rank / (double)out : 0.0;
  }
  if (gasp_engine_mirror(e, contrib, sizeof *contrib) ||
      gasp_engine_add_aggregator(e, &a, &agg))
    return 1;
  return gasp_engine_signal_all(e, 1.0) ? 1 : 0;
}
static int format(char *b, size_t n, const void *v, void *u) {
  return snprintf(b, n, "%.12g", ((const vertex *)v)->rank);
}

int main(int argc, char **argv) {
  gasp_program p = {.vertex_size = sizeof(vertex), .acc_size = sizeof(double),
                    .init_vertex = init, .gather_dir = GASP_DIR_IN,
                    .gather_vertex = gather, .apply = apply};
  gasp_cli cli = {.name = "pagerank", .format = format, .start = start,
                  .sync_only = 1, .tol = &tol,
                  .usage = "usage: pagerank -i GRAPH [options]\n"
                           "PageRank, damping 0.85, to --tol (1e-10).\n"};
  int status = gasp_cli_main(argc, argv, &p, &cli);
  free(contrib);
  return status;
}
