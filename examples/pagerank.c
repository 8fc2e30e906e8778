/* pagerank.c -- PageRank as a vertex program, written against the
 * installed headers only: each vertex gathers rank / out-degree over its
 * in-edges in one loop, applies r = (1 - d) / N + d * sum, and signals its
 * out-neighbours (in one call) while its rank moves by more than --tol.  (Dangling
 * vertices simply lose their mass here; `gasp pagerank` spreads it.)
 *   cc pagerank.c $(pkg-config --cflags --libs gasp-cli) -o pagerank
 *   ./pagerank -i graph.el -o ranks.tsv    (and every gasp flag) */
#include <gasp_cli.h>
#include <math.h>
#include <stdio.h>

typedef struct vertex {
  double contrib, rank; /* contrib: rank / out-degree, 0 if none */
} vertex;
static double tol = 1e-10, damping = 0.85;

static void init(gasp_ctx *c, void *vd) {
  uint64_t out = gasp_ctx_out_degree(c);
  double r = 1.0 / gasp_ctx_num_vertices(c);
  *(vertex *)vd = (vertex){out ? r / (double)out : 0.0, r};
}
static void gather(const gasp_ctx *c, const void *v, const gasp_nbrs *nb,
                   void *acc) {
  const vertex *all = nb->vertex_data;
  double sum = 0;
  for (uint64_t i = 0; i < nb->n_in; i++)
    sum += all[nb->in[i]].contrib;
  *(double *)acc = sum;
}
static void apply(gasp_ctx *c, void *vd, const void *acc) {
  vertex *v = vd;
  double r =
      (1 - damping) / gasp_ctx_num_vertices(c) + damping * *(const double *)acc;
  uint64_t out = gasp_ctx_out_degree(c);
  double change = fabs(r - v->rank);
  v->rank = r;
  v->contrib = out ? r / (double)out : 0.0;
  if (change > tol) gasp_signal_nbrs(c, GASP_DIR_OUT, change);
}
static int format(char *b, size_t n, const void *v, void *u) {
  return snprintf(b, n, "%.12g", ((const vertex *)v)->rank);
}

int main(int argc, char **argv) {
  gasp_program p = {.vertex_size = sizeof(vertex), .acc_size = sizeof(double),
                    .init_vertex = init, .gather_dir = GASP_DIR_IN,
                    .gather_vertex = gather, .apply = apply};
  gasp_cli cli = {.name = "pagerank",
                  .format = format,
                  .tol = &tol,
                  .usage = "usage: pagerank -i GRAPH [options]\n"
                           "PageRank, damping 0.85, to --tol (1e-10).\n"};
  return gasp_cli_main(argc, argv, &p, &cli);
}
