/*
 * gasp.c -- the `gasp` command: one binary, one subcommand per task.
 */
#include "cli.h"

#include <string.h>

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"info", cmd_info, "graph summary: sizes, loops, duplicates, degrees"},
    {"generate", cmd_generate,
     "synthetic inputs: kronecker, uniform, ratings, lda"},
    {"convert", cmd_convert, "write a binary snapshot that reloads fast"},
    {"pagerank", cmd_pagerank, "PageRank: power iteration or delta (async)"},
    /* components and communities */
    {"cc", cmd_cc, "connected components (weak): minimum-label propagation"},
    {"labelprop", cmd_labelprop,
     "communities by label propagation (deterministic tie rule)"},
    /* paths, triangles, cores */
    {"sssp", cmd_sssp, "single-source shortest paths (label correcting)"},
    {"bfs", cmd_bfs, "breadth-first search, direction-optimising"},
    {"triangles", cmd_triangles, "exact undirected triangle count"},
    {"kcore", cmd_kcore, "core numbers by local h-index updates"},
    {"colour", cmd_colour, "greedy vertex colouring (degree, DSatur, ...)"},
    {"color", cmd_colour, "the same as colour"},
    {"scc", cmd_scc, "strongly connected components (trim, colour, search)"},
    {"closeness", cmd_closeness,
     "closeness and harmonic centrality, exact or sampled"},
    {"diameter", cmd_diameter,
     "diameter: HyperANF estimate or exact eccentricities"},
    {"bc", cmd_bc, "betweenness centrality (Brandes; exact or sampled)"},
    {"partition", cmd_partition,
     "edge-cut partitioning (METIS k-way or hash) and its quality"},
    /* matrix factorization (mf) */
    {"als", cmd_als, "matrix factorization by alternating least squares"},
    {"sgd", cmd_sgd, "matrix factorization by stochastic gradient descent"},
    {"nmf", cmd_nmf, "non-negative matrix factorization (multiplicative)"},
    {"wals", cmd_wals, "weighted ALS: a weight per rating (4th column)"},
    {"svdpp", cmd_svdpp, "SVD++: biased factors with implicit feedback"},
    {"jacobi", cmd_jacobi, "solve A x = b by Jacobi sweeps (Matrix Market A)"},
    {"svd", cmd_svd, "largest singular values and vectors (Lanczos)"},
    {"spectral", cmd_spectral, "spectral clustering (Laplacian, Lanczos, k-means)"},
    {"kmeans", cmd_kmeans, "k-means clustering of points (k-means++, Lloyd)"},
    {"lbp", cmd_lbp, "loopy belief propagation: residual BP, image denoising"},
    {"split", cmd_split, "reproducible train/test split of a ratings file"},
    {"predict", cmd_predict, "predictions and top-N lists from a saved model"},
    /* topic models */
    {"lda", cmd_lda, "topic model by collapsed Gibbs sampling (LDA)"},
    {"lda-infer", cmd_lda_infer,
     "topic mixtures of new documents, held-out perplexity"},
    {"plot", cmd_plot,
     "draw a --trace file or degrees (python3 -m gasp plot, matplotlib)"},
};

static void usage(FILE *f) {
  fprintf(f,
          "usage: gasp <command> [options]\n\n"
          "gasp %s, a gather-apply-scatter graph engine.\n\ncommands:\n",
          gasp_version_string());
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(
      f,
      "\n'gasp <command> --help' describes a command's options.\n"
      "Exit status: 0 success, 1 runtime failure, 2 usage or input error.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
      !strcmp(argv[1], "help")) {
    usage(stdout);
    return EXIT_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("gasp %s\n", gasp_version_string());
    return EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (!strcmp(argv[1], commands[i].name)) {
      cli_set_command(commands[i].name);
      /* results may sit in stdout's buffer: a full disk or a closed
       * pipe shows only when it is flushed */
      return cli_stdout_check(commands[i].run(argc - 1, argv + 1));
    }
  cli_error("unknown command '%s' (try 'gasp --help')", argv[1]);
  return EXIT_USAGE;
}
