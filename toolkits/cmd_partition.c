/*
 * cmd_partition.c -- `gasp partition`: assigns every vertex to one of N
 * parts by METIS k-way (edge cut, degree-weighted) or by hash, and reports
 * the quality every distributed run depends on: the fraction of edges cut,
 * vertex and edge balance, and the ghosts (remote neighbours) each part
 * must hold.  `-o PREFIX` writes one partition file per rank
 * (PREFIX.R.gpart, read by toolkits with --partitions PREFIX);
 * `--assignment FILE` writes "id<TAB>part" per vertex in ascending id
 * order (bipartite graphs: left side first).
 */
#include "toolkit.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { O_PARTS = OPT_FIRST_PRIVATE, O_METHOD, O_ASSIGN };

typedef struct part_args {
  int parts;
  int metis;
  const char *assignment;
} part_args;

static const char help[] =
    "usage: gasp partition -i GRAPH --parts N [--method metis|hash] [-o FILE]\n"
    "Edge-cut partitioning: METIS k-way on the symmetrised graph with vertex\n"
    "weights 1 + degree (parts balance their edges), or hashing of the\n"
    "vertex ids.  Prints the edge-cut fraction, vertex and edge balance\n"
    "(largest part / mean) and ghosts per part.\n\n"
    "      --parts N        number of parts (ranks)\n"
    "      --method M       metis (default) or hash\n"
    "      --seed S         METIS seed (1)\n"
    "  -o PREFIX            write PREFIX.R.gpart for every rank R: its local\n"
    "                       graph, ghost lists and the owner map, which\n"
    "                       toolkits read with --partitions PREFIX\n"
    "      --assignment FILE  'id<TAB>part' per vertex\n" CLI_COMMON_HELP;

static int handle(int opt, const char *arg, void *u) {
  part_args *a = u;
  if (opt == O_PARTS) {
    if (cli_parse_int("--parts", arg, &a->parts)) return 1;
    if (a->parts < 1 || a->parts > 65536) {
      cli_error("--parts must be 1..65536");
      return 1;
    }
    return 0;
  }
  if (opt == O_ASSIGN) {
    a->assignment = arg;
    return 0;
  }
  if (opt == O_METHOD) {
    if (!strcmp(arg, "metis"))
      a->metis = 1;
    else if (!strcmp(arg, "hash"))
      a->metis = 0;
    else {
      cli_error("--method must be metis or hash");
      return 1;
    }
    return 0;
  }
  return 1;
}

static int fmt_part(char *buf, size_t cap, gasp_vid v, void *user) {
  const uint32_t *owner = user;
  return snprintf(buf, cap, "%u", owner[v]);
}

int cmd_partition(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.takes &= ~(TK_TAKES_ENGINE | TK_TAKES_ASYNC | TK_TAKES_MAX_ITER |
               TK_TAKES_TOL | TK_TAKES_TRACE | TK_TAKES_GPU | TK_TAKES_VOCAB);
  o.c.seed = 1;
  part_args a = {0, 1, NULL};
  static const struct option extra[] = {
      {"parts", required_argument, 0, O_PARTS},
      {"method", required_argument, 0, O_METHOD},
      {"assignment", required_argument, 0, O_ASSIGN},
      {0, 0, 0, 0}};
  int rc = tk_parse(argc, argv, &o, extra, help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (!a.parts) {
    cli_error("partition: give the number of parts with --parts N");
    return EXIT_USAGE;
  }
  gasp_graph *g = NULL;
  double load_s = 0;
  if ((rc = tk_load(&o, &g, &load_s))) return rc;
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint32_t *owner = malloc((nv ? nv : 1) * sizeof *owner);
  if (!owner) {
    cli_error("partition: out of memory");
    gasp_graph_free(&g);
    return EXIT_RUNTIME;
  }
  double t0 = cli_now();
  gasp_error err;
  const char *method = a.metis ? "metis" : "hash";
  int st = gasp_partition(g, method, a.parts, o.c.seed, owner, &err);
  double secs = cli_now() - t0;
  if (st) {
    if (!err.file[0]) snprintf(err.file, sizeof err.file, "%s", o.c.input);
    rc = cli_fail(&err, st);
    goto out;
  }
  gasp_partition_stats ps;
  if ((st =
           gasp_partition_stats_compute(g, a.parts, owner, o.c.threads, &ps))) {
    cli_error("partition: %s", gasp_strerror(st));
    rc = EXIT_RUNTIME;
    goto out;
  }
  if (a.assignment &&
      (rc = tk_write_vertices(a.assignment, g, fmt_part, owner)))
    goto out;
  if (o.c.output &&
      (st = gasp_dist_save_parts(g, owner, a.parts, o.c.output, &err))) {
    rc = cli_fail(&err, st);
    goto out;
  }
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "partition");
    cli_json_str(&j, "method", method);
    cli_json_u64(&j, "parts", (uint64_t)a.parts);
    cli_json_u64(&j, "vertices", nv);
    cli_json_u64(&j, "edges", gasp_graph_num_edges(g));
    cli_json_num(&j, "edge_cut_fraction", ps.edge_cut_fraction);
    cli_json_num(&j, "vertex_balance", ps.vertex_balance);
    cli_json_num(&j, "edge_balance", ps.edge_balance);
    cli_json_u64(&j, "ghosts_total", ps.ghosts_total);
    cli_json_u64(&j, "ghosts_max", ps.ghosts_max);
    cli_json_num(&j, "seconds", secs);
    cli_json_num(&j, "load_seconds", load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: partition: %s into %d parts in %.3f s: edge cut %.4f, "
            "vertex balance %.3f, edge balance %.3f, ghosts %" PRIu64
            " (at most %" PRIu64 " per part)\n",
            method, a.parts, secs, ps.edge_cut_fraction, ps.vertex_balance,
            ps.edge_balance, ps.ghosts_total, ps.ghosts_max);
  }
out:
  free(owner);
  gasp_graph_free(&g);
  return rc;
}
