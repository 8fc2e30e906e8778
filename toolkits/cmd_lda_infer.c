/*
 * cmd_lda_infer.c -- `gasp lda-infer`: the command over gasp_lda_infer
 * (lib_lda_infer.c: topic mixtures of new documents under a saved LDA
 * model by folding in, and held-out perplexity by document completion):
 * flags, the model file, loading, the call, theta and the summary.
 */
#include "lda_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "usage: gasp lda-infer [options] -m MODEL -i CORPUS\n\n"
    "Topic mixtures of new documents under a model saved by 'gasp lda -o\n"
    "PREFIX' (MODEL: PREFIX or PREFIX.word-topic.tsv), by Gibbs sampling with\n"
    "the topics fixed; words are matched by id, unknown words are skipped.\n"
    "Input formats as for gasp lda.\n\n"
    "options:\n"
    "  -m, --model MODEL    the model\n"
    "      --iters N        Gibbs sweeps per document (100; theta averages\n"
    "                       the second half)\n"
    "      --alpha A        document-topic prior (default: the model's)\n"
    "      --perplexity     document completion: estimate theta on a seeded\n"
    "                       random half of each document's tokens, report\n"
    "                       the perplexity of the other half\n"
    "  -o, --output FILE    theta, 'doc<TAB>K values' per document\n"
    "      --seed N         random seed (1)\n" CLI_COMMON_HELP;

enum { OPT_MODEL = OPT_FIRST_PRIVATE, OPT_ITERS, OPT_ALPHA, OPT_PERPLEXITY };

static int write_theta(const double *theta, gasp_vid D, int K,
                       const gasp_graph *g, const char *path) {
  lda_out o;
  int rc = lda_out_open(&o, path);
  if (rc) return rc;
  for (gasp_vid d = 0; d < D; d++) {
    fprintf(o.f, "%llu", (unsigned long long)gasp_graph_gid(g, d));
    for (int k = 0; k < K; k++)
      fprintf(o.f, "\t%.6g", theta[(size_t)d * (size_t)K + (size_t)k]);
    fputc('\n', o.f);
  }
  return lda_out_close(&o, 0);
}

static int model_path(const char *m, char **out) {
  size_t n = strlen(m);
  *out = malloc(n + 32);
  if (!*out) return -1;
  if (n >= 4 && !strcmp(m + n - 4, ".tsv"))
    snprintf(*out, n + 32, "%s", m);
  else
    snprintf(*out, n + 32, "%s.word-topic.tsv", m);
  return 0;
}

int cmd_lda_infer(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.takes &=
      ~(TK_TAKES_ENGINE | TK_TAKES_ASYNC | TK_TAKES_MAX_ITER | TK_TAKES_TOL |
        TK_TAKES_TRACE | TK_TAKES_GPU | TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS);
  const char *model = NULL;
  uint64_t iters = 100;
  double alpha = -1;
  int perplexity = 0;
  static const struct option opts[] = {
      TK_OPTIONS,
      {"model", required_argument, 0, OPT_MODEL},
      {"iters", required_argument, 0, OPT_ITERS},
      {"alpha", required_argument, 0, OPT_ALPHA},
      {"perplexity", no_argument, 0, OPT_PERPLEXITY},
      {0, 0, 0, 0}};
  int opt;
  optind = 1;
  while ((opt = cli_getopt(argc, argv, CLI_COMMON_SHORT "m:", opts)) != -1) {
    if (opt == CLI_OPT_BAD) return EXIT_USAGE;
    if (opt == 'h') {
      fputs(help, stdout);
      return EXIT_OK;
    }
    int r = tk_opt(&o, opt, optarg);
    if (r < 0) return EXIT_USAGE;
    if (r > 0) continue;
    switch (opt) {
    case 'm':
    case OPT_MODEL: model = optarg; break;
    case OPT_ITERS:
      if (cli_parse_u64("--iters", optarg, &iters)) return EXIT_USAGE;
      if (iters == 0) {
        cli_error("--iters: must be at least 1");
        return EXIT_USAGE;
      }
      break;
    case OPT_ALPHA:
      if (cli_parse_double("--alpha", optarg, &alpha)) return EXIT_USAGE;
      if (!(alpha > 0) || !isfinite(alpha)) {
        cli_error("--alpha: must be a positive number");
        return EXIT_USAGE;
      }
      break;
    case OPT_PERPLEXITY: perplexity = 1; break;
    default: fputs(help, stderr); return EXIT_USAGE;
    }
  }
  if (cli_positional(&o.c, argc, argv)) return EXIT_USAGE;
  if (!model) {
    cli_error("lda-infer: no model: give -m PREFIX (from gasp lda -o PREFIX)");
    return EXIT_USAGE;
  }
  lda_corpus_format(&o.c);

  char *mpath = NULL;
  if (model_path(model, &mpath)) return EXIT_RUNTIME;
  lda_model m;
  int rc = lda_model_read(&m, mpath);
  free(mpath);
  if (rc) return rc;
  gasp_graph *g = NULL;
  double *theta = NULL;
  double load_s = 0;
  if ((rc = tk_load(&o, &g, &load_s))) goto out;
  if ((rc = lda_corpus_check(g, o.c.input))) goto out;
  gasp_vid D = gasp_graph_num_left(g);
  if (!(theta = malloc(((size_t)D + 1) * (size_t)m.K * sizeof *theta))) {
    cli_error("lda-infer: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  gasp_lda_infer_opts io;
  gasp_lda_infer_opts_init(&io);
  io.engine = o.eng;
  io.alpha = alpha > 0 ? alpha : m.alpha;
  io.sweeps = iters;
  io.seed = o.c.seed;
  io.perplexity = perplexity;
  gasp_lda_model lm = {m.K, m.W, m.ids, m.phi};
  gasp_lda_infer_info info;
  gasp_run_stats st;
  gasp_error err;
  if ((rc = gasp_lda_infer(g, &io, &lm, theta, &info, &st, &err))) {
    rc = cli_fail(&err, rc);
    goto out;
  }
  if (o.c.output && (rc = write_theta(theta, D, m.K, g, o.c.output))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "lda-infer");
    cli_json_u64(&j, "documents", info.documents);
    cli_json_u64(&j, "tokens", info.tokens);
    cli_json_u64(&j, "unknown_tokens", info.unknown_tokens);
    cli_json_u64(&j, "topics", (uint64_t)m.K);
    cli_json_num(&j, "alpha", io.alpha);
    cli_json_u64(&j, "iterations", iters);
    cli_json_u64(&j, "threads", (uint64_t)info.threads);
    if (perplexity) {
      cli_json_u64(&j, "heldout_tokens", info.heldout_tokens);
      cli_json_num(&j, "perplexity", info.perplexity);
    }
    cli_json_num(&j, "seconds", st.seconds);
    cli_json_num(&j, "load_seconds", load_s);
    cli_json_end(&j);
  } else {
    if (perplexity) printf("perplexity\t%.6g\n", info.perplexity);
    if (!o.c.quiet)
      fprintf(stderr,
              "gasp: lda-infer: %llu documents, %llu tokens (%llu of unknown "
              "words skipped), %llu sweeps each in %.3f s\n",
              (unsigned long long)info.documents,
              (unsigned long long)info.tokens,
              (unsigned long long)info.unknown_tokens,
              (unsigned long long)iters, st.seconds);
  }
out:
  gasp_graph_free(&g);
  free(theta);
  lda_model_free(&m);
  return rc;
}
