/* bfs.c -- breadth-first depths from --source, direction-optimising in the
 * engine: the vertices reached in superstep t push t + 1 to their
 * unreached out-neighbours, or the engine has every unreached vertex pull.
 * A vertex holds its depth + 1 (0: not reached yet).
 *   cc bfs.c $(pkg-config --cflags --libs gasp-cli) -o bfs
 *   ./bfs -i graph.el --source 0 -o depths.tsv    (and every gasp flag) */
#include <gasp_cli.h>
#include <stdio.h>

static gasp_dir pull(const gasp_ctx *c, const void *d) {
  return *(const uint32_t *)d ? GASP_DIR_NONE : GASP_DIR_IN;
}
static void gather(const gasp_ctx *c, const void *d, const gasp_nbrs *nb,
                   void *a) {
  const uint32_t *depth = nb->vertex_data;
  for (uint64_t i = 0; i < nb->n_in && !*(uint32_t *)a; i++)
    if (depth[nb->in[i]]) *(uint32_t *)a = gasp_ctx_iteration(c) + 1;
}
static void apply(gasp_ctx *c, void *d, const void *a) {
  if (!*(uint32_t *)d) *(uint32_t *)d = *(const uint32_t *)a;
}
static gasp_dir push(const gasp_ctx *c, const void *d) {
  return *(const uint32_t *)d == gasp_ctx_iteration(c) + 1 ? GASP_DIR_OUT : 0;
}
static void scatter(gasp_ctx *c, const void *d, const gasp_edge *e) {
  uint32_t next = *(const uint32_t *)d + 1;
  if (!*(const uint32_t *)e->nbr_data) gasp_signal_msg(c, e->nbr, &next);
}
static int format(char *b, size_t n, const void *d, void *u) {
  uint32_t x = *(const uint32_t *)d;
  return x ? snprintf(b, n, "%u", x - 1) : snprintf(b, n, "inf");
}

int main(int argc, char **argv) {
  gasp_program p = {.vertex_size = 4, .acc_size = 4, .msg_size = 4,
                    .combine = gasp_combine_min_u32, .push_pull = 1,
                    .gather_edges = pull, .gather_vertex = gather,
                    .apply = apply, .scatter_edges = push, .scatter = scatter};
  gasp_cli cli = {.name = "bfs", .format = format, .sync_only = 1,
                  .source = 1, .source_msg = &(uint32_t){1},
                  .usage = "usage: bfs --source ID -i GRAPH [options]\n"
                           "Breadth-first depths ('inf': unreachable).\n"};
  return gasp_cli_main(argc, argv, &p, &cli);
}
