/*
 * cmd_info.c -- `gasp info FILE`: what a graph file holds.
 */
#include "cli.h"

#include <string.h>

static const char help[] =
    "usage: gasp info [options] FILE\n"
    "       gasp info --gpu\n\n"
    "Loads a graph and prints vertices, edges, self loops, duplicate edges "
    "and\n"
    "in/out degree figures; --gpu reports the CUDA device gasp would use.\n\n"
    "options:\n" CLI_COMMON_HELP
    "      --gpu            report GPU support and exit\n";

static int gpu_info(int json) {
  char name[256];
  int n = gasp_gpu_probe(name, sizeof name);
  if (json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_bool(&j, "cuda_compiled", gasp_gpu_compiled());
    cli_json_u64(&j, "devices", (uint64_t)n);
    cli_json_str(&j, "device", name);
    cli_json_end(&j);
  } else {
    printf("cuda_compiled\t%s\ndevices\t%d\ndevice\t%s\n",
           gasp_gpu_compiled() ? "yes" : "no", n, name);
  }
  return EXIT_OK;
}

static void print_stats(const cli_common *c, const gasp_graph_stats *s,
                        double seconds) {
  if (c->json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "file", c->input);
    cli_json_u64(&j, "vertices", s->vertices);
    cli_json_u64(&j, "edges", s->edges);
    cli_json_u64(&j, "self_loops", s->self_loops);
    cli_json_u64(&j, "duplicate_edges", s->duplicate_edges);
    cli_json_u64(&j, "isolated_vertices", s->isolated);
    cli_json_u64(&j, "min_out_degree", s->min_out_degree);
    cli_json_u64(&j, "max_out_degree", s->max_out_degree);
    cli_json_u64(&j, "min_in_degree", s->min_in_degree);
    cli_json_u64(&j, "max_in_degree", s->max_in_degree);
    cli_json_num(&j, "mean_degree", s->mean_degree);
    cli_json_bool(&j, "weighted", s->weighted);
    cli_json_bool(&j, "bipartite", s->bipartite);
    if (s->bipartite) {
      cli_json_u64(&j, "left_vertices", s->left_vertices);
      cli_json_u64(&j, "right_vertices", s->right_vertices);
    }
    cli_json_num(&j, "load_seconds", seconds);
    cli_json_end(&j);
    return;
  }
  printf("file\t%s\n", c->input);
  printf("vertices\t%llu\n", (unsigned long long)s->vertices);
  if (s->bipartite)
    printf("left_vertices\t%llu\nright_vertices\t%llu\n",
           (unsigned long long)s->left_vertices,
           (unsigned long long)s->right_vertices);
  printf("edges\t%llu\n", (unsigned long long)s->edges);
  printf("weighted\t%s\n", s->weighted ? "yes" : "no");
  printf("self_loops\t%llu\n", (unsigned long long)s->self_loops);
  printf("duplicate_edges\t%llu\n", (unsigned long long)s->duplicate_edges);
  printf("isolated_vertices\t%llu\n", (unsigned long long)s->isolated);
  printf("out_degree_min_mean_max\t%llu\t%.4f\t%llu\n",
         (unsigned long long)s->min_out_degree, s->mean_degree,
         (unsigned long long)s->max_out_degree);
  printf("in_degree_min_mean_max\t%llu\t%.4f\t%llu\n",
         (unsigned long long)s->min_in_degree, s->mean_degree,
         (unsigned long long)s->max_in_degree);
}

int cmd_info(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c);
  int gpu = 0;
  static const struct option opts[] = {
      CLI_COMMON_OPTIONS,
      {"gpu", no_argument, 0, OPT_FIRST_PRIVATE},
      {0, 0, 0, 0}};
  int opt;
  optind = 1;
  while ((opt = cli_getopt(argc, argv, CLI_COMMON_SHORT, opts)) != -1) {
    if (opt == CLI_OPT_BAD) return EXIT_USAGE;
    if (opt == 'h') {
      fputs(help, stdout);
      return EXIT_OK;
    }
    if (opt == OPT_FIRST_PRIVATE) {
      gpu = 1;
      continue;
    }
    int r = cli_common_opt(&c, opt, optarg);
    if (r < 0) return EXIT_USAGE;
    if (r == 0) {
      fputs(help, stderr);
      return EXIT_USAGE;
    }
  }
  if (cli_positional(&c, argc, argv)) return EXIT_USAGE;
  if (gpu) return gpu_info(c.json);
  gasp_graph *g = NULL;
  double secs = 0;
  int rc = cli_load_graph(&c, &g, &secs);
  if (rc) return rc;
  gasp_graph_stats s;
  gasp_graph_stats_compute(g, c.threads, &s);
  print_stats(&c, &s, secs);
  gasp_graph_free(&g);
  return EXIT_OK;
}
