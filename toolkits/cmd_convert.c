/*
 * cmd_convert.c -- `gasp convert -i IN -o OUT.gasp`: parse once, save a
 * binary snapshot that later runs reload without parsing.
 */
#include "cli.h"

static const char help[] =
    "usage: gasp convert [options] -i INPUT -o OUTPUT.gasp\n\n"
    "Loads any supported input and writes a gasp binary snapshot (versioned\n"
    "header, sizes, 64-bit checksum).  Nothing is left at OUTPUT on "
    "failure.\n\n"
    "options:\n" CLI_COMMON_HELP;

int cmd_convert(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c);
  static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
  int opt;
  optind = 1;
  while ((opt = cli_getopt(argc, argv, CLI_COMMON_SHORT, opts)) != -1) {
    if (opt == CLI_OPT_BAD) return EXIT_USAGE;
    if (opt == 'h') {
      fputs(help, stdout);
      return EXIT_OK;
    }
    int r = cli_common_opt(&c, opt, optarg);
    if (r <= 0) {
      if (r == 0) fputs(help, stderr);
      return EXIT_USAGE;
    }
  }
  if (cli_positional(&c, argc, argv)) return EXIT_USAGE;
  if (!c.output) {
    cli_error("convert: no output: give -o FILE.gasp");
    return EXIT_USAGE;
  }
  gasp_graph *g = NULL;
  int rc = cli_load_graph(&c, &g, NULL);
  if (rc) return rc;
  gasp_error err;
  double t0 = cli_now();
  int st = gasp_graph_save_snapshot(g, c.output, &err);
  double dt = cli_now() - t0;
  if (st) {
    cli_fail(&err, st);
    gasp_graph_free(&g);
    return EXIT_RUNTIME;
  }
  if (c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "output", c.output);
    cli_json_u64(&j, "vertices", gasp_graph_num_vertices(g));
    cli_json_u64(&j, "edges", gasp_graph_num_edges(g));
    cli_json_num(&j, "seconds", dt);
    cli_json_end(&j);
  } else if (!c.quiet) {
    fprintf(stderr, "gasp: wrote %s in %.3f s\n", c.output, dt);
  }
  gasp_graph_free(&g);
  return EXIT_OK;
}
