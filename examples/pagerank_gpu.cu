/*
 * pagerank_gpu.cu -- examples/pagerank.c with a device apply: the same
 * vertex program, whose apply also exists as a CUDA kernel that the
 * engine runs over batches of vertices (gasp_program.device_apply).
 *
 *   nvcc pagerank_gpu.cu $(pkg-config --cflags --libs gasp) -o pagerank_gpu
 *   ./pagerank_gpu graph.el [auto|on|off]
 *
 * The engine gathers on the CPU, packs the batch's vertex data and
 * accumulators structure-of-arrays (one field per plane, 8-byte words
 * here), and calls device_apply with device pointers and a stream; the
 * kernel runs one thread per vertex.  The run is made twice -- --gpu off
 * (the CPU apply) and the mode given (auto by default) -- and the ranks
 * must agree: the exit status is 1 when they differ by more than 1e-12.
 */
#include <gasp.h>

#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vertex {
  double rank;    /* word 0 */
  double inv_out; /* word 1 */
  double change;  /* word 2 */
} vertex;

typedef struct params {
  double damping, tol, n;
} params;

/* The update both applies compute. */
__host__ __device__ static void step(const params *p, double *rank,
                                     double *change, double sum) {
  double r = (1 - p->damping) / p->n + p->damping * sum;
  *change = fabs(r - *rank);
  *rank = r;
}

static void init(gasp_ctx *ctx, void *vd) {
  vertex *v = (vertex *)vd;
  uint64_t out = gasp_ctx_out_degree(ctx);
  v->rank = 1.0 / gasp_ctx_num_vertices(ctx);
  v->inv_out = out ? 1.0 / (double)out : 0.0;
  v->change = INFINITY;
}

static gasp_dir in_edges(const gasp_ctx *, const void *) { return GASP_DIR_IN; }
static gasp_dir out_edges(const gasp_ctx *, const void *) {
  return GASP_DIR_OUT;
}

static void gather(const gasp_ctx *, const void *, const gasp_nbrs *nb,
                   void *acc) {
  const vertex *all = (const vertex *)nb->vertex_data;
  double sum = 0;
  for (uint64_t i = 0; i < nb->n_in; i++)
    sum += all[nb->in[i]].rank * all[nb->in[i]].inv_out;
  *(double *)acc = sum;
}

static void apply(gasp_ctx *ctx, void *vd, const void *acc) {
  vertex *v = (vertex *)vd;
  step((const params *)gasp_ctx_user(ctx), &v->rank, &v->change,
       *(const double *)acc);
}

__global__ static void apply_kernel(params p, uint64_t n, uint64_t pitch,
                                    double *vertex, const double *acc) {
  uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x;
  if (i >= n) return;
  step(&p, &GASP_SOA(vertex, double, 0, i, pitch),
       &GASP_SOA(vertex, double, 2, i, pitch),
       GASP_SOA(acc, double, 0, i, pitch));
}

/* Launches the kernel on the batch's stream; the engine copies back. */
static int device_apply(const gasp_device_batch *b) {
  const params *p = (const params *)b->user;
  unsigned blocks = (unsigned)((b->n + 255) / 256);
  apply_kernel<<<blocks, 256, 0, (cudaStream_t)b->stream>>>(
      *p, b->n, b->pitch, (double *)b->vertex, (const double *)b->acc);
  return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

static void scatter(gasp_ctx *ctx, const void *vd, const gasp_edge *e) {
  const params *p = (const params *)gasp_ctx_user(ctx);
  if (((const vertex *)vd)->change > p->tol) gasp_signal(ctx, e->nbr);
}

/* One run; the ranks into *out (malloc'd). */
static int run(gasp_graph *g, gasp_gpu_mode mode, double **out) {
  params p = {0.85, 1e-10, (double)gasp_graph_num_vertices(g)};
  gasp_program prog;
  memset(&prog, 0, sizeof prog);
  prog.vertex_size = sizeof(vertex);
  prog.acc_size = sizeof(double);
  prog.init_vertex = init;
  prog.gather_edges = in_edges;
  prog.gather_vertex = gather;
  prog.apply = apply;
  prog.device_apply = device_apply;
  prog.device_word = 8;
  prog.scatter_edges = out_edges;
  prog.scatter = scatter;
  prog.user = &p;
  gasp_engine_opts opts;
  gasp_engine_opts_init(&opts);
  opts.gpu = mode;
  gasp_engine *e = NULL;
  gasp_error err;
  int rc = gasp_engine_new(&e, g, &prog, &opts, &err);
  if (rc) {
    fprintf(stderr, "pagerank_gpu: %s\n", err.msg);
    return rc;
  }
  gasp_engine_signal_all(e, 0);
  gasp_run_stats st;
  if ((rc = gasp_engine_run(e, &st))) {
    fprintf(stderr, "pagerank_gpu: %s\n", gasp_engine_last_error(e)->msg);
    gasp_engine_free(&e);
    return rc;
  }
  gasp_gpu_stats gs;
  gasp_engine_gpu_stats(e, &gs);
  printf("gpu %-4s supersteps %llu updates %llu seconds %.3f device %s "
         "batches %llu\n",
         mode == GASP_GPU_OFF ? "off" : mode == GASP_GPU_ON ? "on" : "auto",
         (unsigned long long)st.iterations, (unsigned long long)st.updates,
         st.seconds, gs.used ? gs.device : "none (CPU apply)",
         (unsigned long long)gs.batches);
  gasp_vid n = gasp_graph_num_vertices(g);
  const vertex *vd = (const vertex *)gasp_graph_vertex_data(g);
  *out = (double *)malloc((n ? n : 1) * sizeof **out);
  for (gasp_vid v = 0; *out && v < n; v++)
    (*out)[v] = vd[v].rank;
  gasp_engine_free(&e);
  return *out ? 0 : GASP_ENOMEM;
}

int main(int argc, char **argv) {
  gasp_gpu_mode mode = GASP_GPU_AUTO;
  if (argc < 2 || (argc > 2 && gasp_gpu_mode_parse(argv[2], &mode))) {
    fprintf(stderr, "usage: %s GRAPH [auto|on|off]\n", argv[0]);
    return 2;
  }
  gasp_graph *g = NULL;
  gasp_error err;
  if (gasp_graph_load(&g, argv[1], NULL, &err)) {
    char msg[1200];
    fprintf(stderr, "pagerank_gpu: %s\n",
            gasp_error_format(&err, msg, sizeof msg));
    return 2;
  }
  double *cpu = NULL, *dev = NULL;
  int rc = run(g, GASP_GPU_OFF, &cpu);
  if (!rc) rc = run(g, mode, &dev);
  double worst = 0;
  for (gasp_vid v = 0; !rc && v < gasp_graph_num_vertices(g); v++)
    worst = fmax(worst, fabs(cpu[v] - dev[v]));
  if (!rc) printf("largest difference %.3g\n", worst);
  free(cpu);
  free(dev);
  gasp_graph_free(&g);
  return rc ? 1 : worst > 1e-12;
}
