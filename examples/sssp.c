/* sssp.c -- shortest paths from --source over the edge weights (1 when the
 * graph has none) with messages: a vertex whose distance dropped offers
 * d + w to each out-neighbour it would improve, and the engine keeps the
 * smallest offer per vertex; when the frontier is large the engine has
 * every vertex gather min(d(u) + w) over its in-edges instead (push_pull).
 * Runs on every engine and across ranks (--np 4), with staleness too.
 *   cc sssp.c $(pkg-config --cflags --libs gasp-cli) -o sssp
 *   ./sssp -i graph.el --source 0 -o dist.tsv    (and every gasp flag) */
#include <gasp_cli.h>
#include <math.h>
#include <stdio.h>

typedef struct vertex {
  double dist;
  int changed;
} vertex;

static void init(gasp_ctx *c, void *v) { *(vertex *)v = (vertex){INFINITY, 0}; }
static void acc_init(const gasp_ctx *c, void *acc) {
  *(double *)acc = INFINITY;
}
static void gather(const gasp_ctx *c, const void *v, const gasp_nbrs *nb,
                   void *acc) {
  const double *w = gasp_graph_weights(gasp_ctx_graph(c));
  const vertex *all = nb->vertex_data;
  for (uint64_t i = 0; i < nb->n_in; i++) {
    double d = all[nb->in[i]].dist + (w ? w[nb->in_slot[i]] : 1.0);
    if (d < *(double *)acc) *(double *)acc = d;
  }
}
static void apply(gasp_ctx *c, void *vd, const void *acc) {
  vertex *v = vd;
  double best = *(const double *)acc; /* the best offer, pushed or pulled */
  if ((v->changed = best < v->dist)) v->dist = best;
}
static gasp_dir changed(const gasp_ctx *c, const void *v) {
  return ((const vertex *)v)->changed ? GASP_DIR_OUT : GASP_DIR_NONE;
}
static void scatter(gasp_ctx *c, const void *v, const gasp_edge *e) {
  const double *w = gasp_graph_weights(gasp_ctx_graph(c));
  double d = ((const vertex *)v)->dist + (w ? w[e->slot] : 1.0);
  if (d < ((const vertex *)e->nbr_data)->dist) gasp_signal_msg(c, e->nbr, &d);
}
static int format(char *b, size_t n, const void *v, void *u) {
  return snprintf(b, n, "%.17g", ((const vertex *)v)->dist);
}

int main(int argc, char **argv) {
  gasp_program p = {.vertex_size = sizeof(vertex), .acc_size = sizeof(double),
                    .msg_size = sizeof(double), .push_pull = 1,
                    .combine = gasp_combine_min_f64, .init_vertex = init,
                    .acc_init = acc_init, .gather_dir = GASP_DIR_IN,
                    .gather_vertex = gather, .apply = apply,
                    .scatter_edges = changed, .scatter = scatter};
  gasp_cli cli = {.name = "sssp",
                  .format = format,
                  .staleness_ok = 1,
                  .source = 1,
                  .source_msg = &(double){0},
                  .usage = "usage: sssp --source ID -i GRAPH [options]\n"
                           "Shortest paths over non-negative weights.\n"};
  return gasp_cli_main(argc, argv, &p, &cli);
}
