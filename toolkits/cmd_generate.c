/*
 * cmd_generate.c -- `gasp generate KIND`: deterministic synthetic inputs.
 *
 *   kronecker (rmat)  Graph500 R-MAT edge list
 *   uniform           uniform random edge list
 *   ratings           user item rating lines from a known low-rank model
 *   lda               UCI bag-of-words corpus from a known LDA model
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: gasp generate KIND [options] -o OUTPUT\n\n"
    "kinds and their options:\n"
    "  kronecker|rmat  --scale S (16) --edge-factor F (16) [-a A -b B -c C]\n"
    "                  (Graph500: 0.57 0.19 0.19), --undirected writes both\n"
    "                  directions of every edge\n"
    "  uniform         --vertices N --edges M\n"
    "  ratings         --users U --items I --rank K (10) --per-user R (20)\n"
    "                  --mean M (3) --noise S (0.1) [--factors FILE]\n"
    "  lda             --docs D --vocab-size W --topics K (10)\n"
    "                  --doc-length L (100) --alpha A (0.1) --beta B (0.01)\n"
    "                  [--vocab-out FILE] [--phi FILE]\n\n"
    "common:\n"
    "  -o, --output FILE  where to write (required)\n"
    "      --seed N       random seed (default 1); same seed, same output\n"
    "  -t, --threads N    threads (output does not depend on it)\n"
    "      --quiet, --json\n";

enum {
  O_SCALE = OPT_FIRST_PRIVATE,
  O_EF,
  O_A,
  O_B,
  O_C,
  O_VERTICES,
  O_EDGES,
  O_USERS,
  O_ITEMS,
  O_RANK,
  O_PER_USER,
  O_MEAN,
  O_NOISE,
  O_FACTORS,
  O_DOCS,
  O_VOCAB_SIZE,
  O_TOPICS,
  O_DOC_LEN,
  O_ALPHA,
  O_BETA,
  O_VOCAB_OUT,
  O_PHI
};

typedef struct gen_args {
  int scale, edge_factor, rank, topics;
  double a, b, c, mean, noise, alpha, beta;
  uint64_t vertices, edges, users, items, per_user, docs, vocab, doc_length;
  const char *factors, *vocab_out, *phi;
} gen_args;

static int parse_args(int argc, char **argv, cli_common *c, gen_args *g) {
  static const struct option opts[] = {
      CLI_COMMON_OPTIONS,
      {"scale", required_argument, 0, O_SCALE},
      {"edge-factor", required_argument, 0, O_EF},
      {"vertices", required_argument, 0, O_VERTICES},
      {"edges", required_argument, 0, O_EDGES},
      {"users", required_argument, 0, O_USERS},
      {"items", required_argument, 0, O_ITEMS},
      {"rank", required_argument, 0, O_RANK},
      {"per-user", required_argument, 0, O_PER_USER},
      {"mean", required_argument, 0, O_MEAN},
      {"noise", required_argument, 0, O_NOISE},
      {"factors", required_argument, 0, O_FACTORS},
      {"docs", required_argument, 0, O_DOCS},
      {"vocab-size", required_argument, 0, O_VOCAB_SIZE},
      {"topics", required_argument, 0, O_TOPICS},
      {"doc-length", required_argument, 0, O_DOC_LEN},
      {"alpha", required_argument, 0, O_ALPHA},
      {"beta", required_argument, 0, O_BETA},
      {"vocab-out", required_argument, 0, O_VOCAB_OUT},
      {"phi", required_argument, 0, O_PHI},
      {0, 0, 0, 0}};
  int opt, bad = 0;
  optind = 1;
  while ((opt = cli_getopt(argc, argv, CLI_COMMON_SHORT "a:b:c:", opts)) !=
         -1) {
    switch (opt) {
    case CLI_OPT_BAD: return -1;
    case 'h': fputs(help, stdout); return 1;
    case O_SCALE: bad |= cli_parse_int("--scale", optarg, &g->scale); break;
    case O_EF:
      bad |= cli_parse_int("--edge-factor", optarg, &g->edge_factor);
      break;
    case 'a': bad |= cli_parse_double("-a", optarg, &g->a); break;
    case 'b': bad |= cli_parse_double("-b", optarg, &g->b); break;
    case 'c': bad |= cli_parse_double("-c", optarg, &g->c); break;
    case O_VERTICES:
      bad |= cli_parse_u64("--vertices", optarg, &g->vertices);
      break;
    case O_EDGES: bad |= cli_parse_u64("--edges", optarg, &g->edges); break;
    case O_USERS: bad |= cli_parse_u64("--users", optarg, &g->users); break;
    case O_ITEMS: bad |= cli_parse_u64("--items", optarg, &g->items); break;
    case O_RANK: bad |= cli_parse_int("--rank", optarg, &g->rank); break;
    case O_PER_USER:
      bad |= cli_parse_u64("--per-user", optarg, &g->per_user);
      break;
    case O_MEAN: bad |= cli_parse_double("--mean", optarg, &g->mean); break;
    case O_NOISE: bad |= cli_parse_double("--noise", optarg, &g->noise); break;
    case O_FACTORS: g->factors = optarg; break;
    case O_DOCS: bad |= cli_parse_u64("--docs", optarg, &g->docs); break;
    case O_VOCAB_SIZE:
      bad |= cli_parse_u64("--vocab-size", optarg, &g->vocab);
      break;
    case O_TOPICS: bad |= cli_parse_int("--topics", optarg, &g->topics); break;
    case O_DOC_LEN:
      bad |= cli_parse_u64("--doc-length", optarg, &g->doc_length);
      break;
    case O_ALPHA: bad |= cli_parse_double("--alpha", optarg, &g->alpha); break;
    case O_BETA: bad |= cli_parse_double("--beta", optarg, &g->beta); break;
    case O_VOCAB_OUT: g->vocab_out = optarg; break;
    case O_PHI: g->phi = optarg; break;
    default: {
      int r = cli_common_opt(c, opt, optarg);
      if (r == 0) fputs(help, stderr);
      if (r <= 0) return -1;
    }
    }
  }
  return bad ? -1 : 0;
}

/* Writes `rows` x `cols` doubles as TSV, first column `first + row`. */
static int write_matrix(const char *path, const double *m, uint64_t rows,
                        int cols, uint64_t first) {
  cli_out o;
  if (cli_out_open(&o, path)) return -1;
  for (uint64_t r = 0; r < rows; r++) {
    fprintf(o.f, "%llu", (unsigned long long)(first + r));
    for (int k = 0; k < cols; k++)
      fprintf(o.f, "\t%.10g", m[r * (uint64_t)cols + (uint64_t)k]);
    fputc('\n', o.f);
  }
  return cli_out_close(&o, 1) ? -1 : 0;
}

static int write_vocab(const char *path, uint64_t words) {
  cli_out o;
  if (cli_out_open(&o, path)) return -1;
  for (uint64_t w = 1; w <= words; w++)
    fprintf(o.f, "word%llu\n", (unsigned long long)w);
  return cli_out_close(&o, 1) ? -1 : 0;
}

/* One file: a row per user then per item, "user|item<TAB>id<TAB>k
 * values". */
static int write_factors(const char *path, const double *x, uint64_t users,
                         uint64_t items, int rank) {
  cli_out o;
  if (cli_out_open(&o, path)) return -1;
  for (uint64_t u = 0; u < users + items; u++) {
    int item = u >= users;
    fprintf(o.f, "%s\t%llu", item ? "item" : "user",
            (unsigned long long)(item ? u - users : u));
    for (int k = 0; k < rank; k++)
      fprintf(o.f, "\t%.10g", x[u * (uint64_t)rank + (uint64_t)k]);
    fputc('\n', o.f);
  }
  return cli_out_close(&o, 1) ? -1 : 0;
}

/* Appends the reverse of every edge (kronecker --undirected). */
static int add_reverse(gasp_edge_list *e) {
  gasp_gid *s = realloc(e->src, 2 * e->n * sizeof *s);
  if (!s) return -1;
  e->src = s;
  gasp_gid *d = realloc(e->dst, 2 * e->n * sizeof *d);
  if (!d) return -1;
  e->dst = d;
  for (uint64_t i = 0; i < e->n; i++) {
    e->src[e->n + i] = e->dst[i];
    e->dst[e->n + i] = e->src[i];
  }
  e->n *= 2;
  return 0;
}

int cmd_generate(int argc, char **argv) {
  cli_common c;
  cli_common_init(&c);
  gen_args g = {.scale = 16,
                .edge_factor = 16,
                .rank = 10,
                .topics = 10,
                .mean = 3.0,
                .noise = 0.1,
                .alpha = 0.1,
                .beta = 0.01,
                .per_user = 20,
                .doc_length = 100};
  if (argc < 2 || argv[1][0] == '-') {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
      fputs(help, stdout);
      return EXIT_OK;
    }
    cli_error("generate: name a kind (kronecker, uniform, ratings, lda)");
    return EXIT_USAGE;
  }
  const char *kind = argv[1];
  int pr = parse_args(argc - 1, argv + 1, &c, &g);
  if (pr) return pr > 0 ? EXIT_OK : EXIT_USAGE;
  if (optind < argc - 1) {
    cli_error("generate: unexpected argument '%s'", argv[optind + 1]);
    return EXIT_USAGE;
  }
  if (!c.output) {
    cli_error("generate: no output: give -o FILE");
    return EXIT_USAGE;
  }
  gasp_edge_list *e = NULL;
  double *extra = NULL;
  char header[128] = "";
  int rc;
  double t0 = cli_now();
  if (!strcmp(kind, "kronecker") || !strcmp(kind, "rmat") ||
      !strcmp(kind, "kron")) {
    rc = gasp_generate_kronecker(&e, g.scale, g.edge_factor, g.a, g.b, g.c,
                                 c.seed, c.threads);
    if (rc == GASP_OK && c.symmetric && add_reverse(e)) rc = GASP_ENOMEM;
  } else if (!strcmp(kind, "uniform")) {
    rc = gasp_generate_uniform(&e, g.vertices, g.edges, c.seed, c.threads);
  } else if (!strcmp(kind, "ratings")) {
    rc = gasp_generate_ratings(&e, g.users, g.items, g.rank, g.per_user, g.mean,
                               g.noise, c.seed, g.factors ? &extra : NULL);
  } else if (!strcmp(kind, "lda")) {
    rc = gasp_generate_lda_corpus(&e, g.docs, g.vocab, g.topics, g.doc_length,
                                  g.alpha, g.beta, c.seed,
                                  g.phi ? &extra : NULL);
    if (rc == GASP_OK)
      snprintf(header, sizeof header, "%llu\n%llu\n%llu\n",
               (unsigned long long)g.docs, (unsigned long long)g.vocab,
               (unsigned long long)e->n);
  } else {
    cli_error("generate: unknown kind '%s' (kronecker, uniform, ratings, lda)",
              kind);
    return EXIT_USAGE;
  }
  if (rc) {
    cli_error("generate %s: %s", kind,
              rc == GASP_EINVAL
                  ? "invalid parameters (see gasp generate --help)"
                  : gasp_strerror(rc));
    return rc == GASP_EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
  }
  gasp_error err;
  int status = EXIT_OK;
  if ((rc = gasp_edge_list_write(e, c.output, header[0] ? header : NULL,
                                 c.threads, &err))) {
    cli_fail(&err, rc);
    status = EXIT_RUNTIME;
  } else if (g.factors && extra) {
    if (write_factors(g.factors, extra, g.users, g.items, g.rank))
      status = EXIT_RUNTIME;
  } else if (g.phi && extra) {
    if (write_matrix(g.phi, extra, (uint64_t)g.topics, (int)g.vocab, 0))
      status = EXIT_RUNTIME;
  }
  if (status == EXIT_OK && g.vocab_out && !strcmp(kind, "lda") &&
      write_vocab(g.vocab_out, g.vocab))
    status = EXIT_RUNTIME;
  double dt = cli_now() - t0;
  if (status == EXIT_OK) {
    if (c.json) {
      cli_json j;
      cli_json_begin(&j, stdout);
      cli_json_str(&j, "kind", kind);
      cli_json_str(&j, "output", c.output);
      cli_json_u64(&j, "edges", e->n);
      cli_json_u64(&j, "seed", c.seed);
      cli_json_num(&j, "seconds", dt);
      cli_json_end(&j);
    } else if (!c.quiet) {
      fprintf(stderr, "gasp: generated %s: %llu lines in %.3f s -> %s\n", kind,
              (unsigned long long)e->n, dt, c.output);
    }
  }
  free(extra);
  gasp_edge_list_free(&e);
  return status;
}
