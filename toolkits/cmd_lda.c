/*
 * cmd_lda.c -- `gasp lda`: the command over gasp_lda (lib_lda.c, collapsed
 * Gibbs sampling on the document-word graph): flags, loading (every rank
 * in a distributed run), the corpus checks with the command's messages,
 * the call with its per-sweep report (--trace, progress), and the results
 * written: theta, the model (phi or counts), the top words, the summary.
 */
#include "lda_model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- per sweep ---------------------------------------------------------- */

typedef struct lda_report {
  FILE *trace;
  cli_progress progress;
  int banner; /* the opening line is still to print */
  int K;
  double alpha, beta;
} lda_report;

/* The opening line waits for the first sweep: the library knows the
 * threads and the kernel once it has started. */
static int on_sweep(void *user, const gasp_lda_info *in) {
  lda_report *s = user;
  if (s->banner) {
    fprintf(stderr,
            "gasp: lda: %llu documents, %llu words, %llu tokens, K = %d, "
            "alpha = %g, beta = %g, %d thread%s (%s kernel)\n",
            (unsigned long long)in->documents, (unsigned long long)in->words,
            (unsigned long long)in->tokens, s->K, s->alpha, s->beta,
            in->threads, in->threads == 1 ? "" : "s", in->kernel);
    s->banner = 0;
  }
  double dt = in->sweep_seconds;
  double tps = dt > 0 ? (double)in->tokens / dt : 0;
  if (s->trace)
    fprintf(s->trace, "%llu\t%llu\t%llu\t%.10g\t%.6f\t%.0f\n",
            (unsigned long long)in->sweep, (unsigned long long)in->documents,
            (unsigned long long)in->moved, in->loglik, in->run_seconds, tps);
  if (s->progress.enabled) {
    fprintf(stderr,
            "\r\033[Kgasp: lda: iteration %llu, log-likelihood/token %.4f, "
            "%.1f M tokens/s",
            (unsigned long long)in->sweep, in->loglik, tps / 1e6);
    fflush(stderr);
    s->progress.drawn = 1;
  }
  return 0;
}

/* ---- outputs ------------------------------------------------------------ */

/* rows: (D + W) x K counts, documents then words, in the vertex order of
 * g (the whole corpus). */
typedef struct lda_result {
  const uint32_t *rows;
  uint64_t D, W, tokens;
  int K;
  double alpha, beta;
} lda_result;

static int write_doc_topic(const lda_result *r, const gasp_graph *g,
                           const char *path) {
  lda_out o;
  int rc = lda_out_open(&o, path);
  if (rc) return rc;
  double ka = r->K * r->alpha;
  for (gasp_vid d = 0; d < r->D; d++) {
    const uint32_t *row = r->rows + (size_t)d * (size_t)r->K;
    double nd = 0; /* the document's length */
    for (int k = 0; k < r->K; k++)
      nd += row[k];
    fprintf(o.f, "%llu", (unsigned long long)gasp_graph_gid(g, d));
    for (int k = 0; k < r->K; k++)
      fprintf(o.f, "\t%.6g", (row[k] + r->alpha) / (nd + ka));
    fputc('\n', o.f);
  }
  return lda_out_close(&o, 0);
}

static int write_word_topic(const lda_result *r, const gasp_graph *g,
                            const char *path, int counts, const int64_t *nk) {
  lda_out o;
  int rc = lda_out_open(&o, path);
  if (rc) return rc;
  double wb = (double)r->W * r->beta;
  fprintf(o.f,
          "# gasp-lda topics=%d alpha=%.17g beta=%.17g words=%llu tokens=%llu "
          "values=%s\n",
          r->K, r->alpha, r->beta, (unsigned long long)r->W,
          (unsigned long long)r->tokens, counts ? "counts" : "phi");
  for (gasp_vid w = 0; w < r->W; w++) {
    const uint32_t *row = r->rows + ((size_t)r->D + w) * (size_t)r->K;
    fprintf(o.f, "%llu", (unsigned long long)gasp_graph_gid(g, r->D + w));
    for (int k = 0; k < r->K; k++) {
      if (counts)
        fprintf(o.f, "\t%u", row[k]);
      else
        fprintf(o.f, "\t%.9g", (row[k] + r->beta) / ((double)nk[k] + wb));
    }
    fputc('\n', o.f);
  }
  return lda_out_close(&o, 0);
}

/* Each topic's n most frequent words: "topic k<TAB>word word ...". */
static int print_top_words(const lda_result *r, const gasp_graph *g, int n,
                           FILE *f) {
  if (n > (int)r->W) n = (int)r->W;
  gasp_vid *best = malloc((size_t)(n ? n : 1) * sizeof *best);
  if (!best) return -1;
  const uint32_t *words = r->rows + (size_t)r->D * (size_t)r->K;
  size_t K = (size_t)r->K;
  for (int k = 0; k < r->K; k++) {
    int have = 0;
    for (gasp_vid w = 0; w < r->W; w++) {
      uint32_t x = words[(size_t)w * K + (size_t)k];
      int pos = have;
      /* insertion into the sorted top list; ties by smaller word first */
      while (pos > 0 && words[(size_t)best[pos - 1] * K + (size_t)k] < x)
        pos--;
      if (pos >= n) continue;
      if (have < n) have++;
      memmove(best + pos + 1, best + pos,
              (size_t)(have - 1 - pos) * sizeof *best);
      best[pos] = w;
    }
    fprintf(f, "topic %d\t", k);
    for (int i = 0; i < have; i++) {
      gasp_vid v = (gasp_vid)r->D + best[i];
      const char *name = gasp_graph_name(g, v);
      if (name)
        fprintf(f, "%s%s", i ? " " : "", name);
      else
        fprintf(f, "%s%llu", i ? " " : "",
                (unsigned long long)gasp_graph_gid(g, v));
    }
    fputc('\n', f);
  }
  free(best);
  return 0;
}

/* ---- command line ------------------------------------------------------- */

static const char help[] =
    "usage: gasp lda [options] -i CORPUS\n\n"
    "Topics by collapsed Gibbs sampling (Griffiths & Steyvers 2004): an exact\n"
    "dense sampler, vectorised, documents in parallel (word-topic counts\n"
    "shared without locks, topic totals refreshed every sweep).  Input: UCI\n"
    "bag-of-words (docword.*), LDA-C (*.ldac) or 'doc word count' triples\n"
    "(detected by name or first line; --format uci|ldac|triples), gzip read\n"
    "transparently; --vocab names the words.\n\n"
    "options:\n"
    "  -k, --topics K       topics (20)\n"
    "      --alpha A        document-topic prior (50/K)\n"
    "      --beta B         topic-word prior (0.01)\n"
    "      --iters N        Gibbs sweeps (200; also --max-iter)\n"
    "      --top-words N    print each topic's N most frequent words\n"
    "  -o, --output PREFIX  write PREFIX.doc-topic.tsv (theta: 'doc<TAB>K\n"
    "                       values') and PREFIX.word-topic.tsv (the model: a\n"
    "                       '# gasp-lda ...' header, then "
    "'word<TAB>phi_1..K')\n"
    "      --counts         word-topic counts n_wk instead of phi\n"
    "      --trace FILE     per sweep: iteration, documents, tokens moved,\n"
    "                       log-likelihood per token, seconds, tokens/s\n"
    "      --seed N         random seed (1)\n" CLI_COMMON_HELP TK_CHECKPOINT_HELP
    "Summary (stderr, or --json on stdout): log p(w,z) per token after the\n"
    "last sweep, tokens/s of the sweeps (likelihood evaluation excluded).\n"
    "With --json the top words go to stderr.\n";

enum {
  OPT_TOPICS = OPT_FIRST_PRIVATE,
  OPT_ALPHA,
  OPT_BETA,
  OPT_ITERS,
  OPT_TOP,
  OPT_COUNTS
};

typedef struct lda_args {
  int K, top;
  double alpha, beta;
  int counts;
} lda_args;

static int parse(int argc, char **argv, tk_opts *o, lda_args *a) {
  static const struct option opts[] = {
      TK_OPTIONS,
      {"topics", required_argument, 0, OPT_TOPICS},
      {"alpha", required_argument, 0, OPT_ALPHA},
      {"beta", required_argument, 0, OPT_BETA},
      {"iters", required_argument, 0, OPT_ITERS},
      {"top-words", required_argument, 0, OPT_TOP},
      {"counts", no_argument, 0, OPT_COUNTS},
      {0, 0, 0, 0}};
  int opt;
  optind = 1;
  while ((opt = cli_getopt(argc, argv, CLI_COMMON_SHORT "k:", opts)) != -1) {
    if (opt == CLI_OPT_BAD) return EXIT_USAGE;
    if (opt == 'h') {
      fputs(help, stdout);
      return TK_HELP_SHOWN;
    }
    int r = tk_opt(o, opt, optarg);
    if (r < 0) return EXIT_USAGE;
    if (r > 0) continue;
    switch (opt) {
    case 'k':
    case OPT_TOPICS:
      if (cli_parse_int("--topics", optarg, &a->K)) return EXIT_USAGE;
      if (a->K < 1 || a->K > GASP_LDA_MAX_TOPICS) {
        cli_error("--topics: expected 1..%d, got %d", GASP_LDA_MAX_TOPICS,
                  a->K);
        return EXIT_USAGE;
      }
      break;
    case OPT_ALPHA:
    case OPT_BETA: {
      double *x = opt == OPT_ALPHA ? &a->alpha : &a->beta;
      const char *name = opt == OPT_ALPHA ? "--alpha" : "--beta";
      if (cli_parse_double(name, optarg, x)) return EXIT_USAGE;
      if (!(*x > 0) || !isfinite(*x)) {
        cli_error("%s: must be a positive number", name);
        return EXIT_USAGE;
      }
      break;
    }
    case OPT_ITERS:
      if (cli_parse_u64("--iters", optarg, &o->eng.max_iter)) return EXIT_USAGE;
      break;
    case OPT_TOP:
      if (cli_parse_int("--top-words", optarg, &a->top)) return EXIT_USAGE;
      if (a->top < 0) {
        cli_error("--top-words: must not be negative");
        return EXIT_USAGE;
      }
      break;
    case OPT_COUNTS: a->counts = 1; break;
    default: fputs(help, stderr); return EXIT_USAGE;
    }
  }
  if (cli_positional(&o->c, argc, argv)) return EXIT_USAGE;
  if (o->eng.engine != GASP_ENGINE_SYNC) {
    cli_error("lda: runs on the sync engine (one superstep per Gibbs sweep)");
    return EXIT_USAGE;
  }
  int rc = tk_checkpoint_check(o);
  if (rc) return rc;
  return tk_dist_launch(o); /* refuses --np: dist_ok is not set */
}

static char *suffixed(const char *prefix, const char *suffix) {
  size_t n = strlen(prefix) + strlen(suffix) + 1;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s%s", prefix, suffix);
  return p;
}

/* Writes the -o files and the top words from the result rows (on the
 * root); returns 0 or an exit code. */
static int write_results(const lda_result *res, const gasp_graph *gg,
                         const tk_opts *o, const lda_args *a) {
  if (!o->c.output && !a->top) return 0;
  int rc = 0;
  char *doc_path = NULL, *word_path = NULL;
  int64_t *nk = calloc((size_t)a->K, sizeof *nk);
  if (!nk) {
    cli_error("lda: out of memory");
    return EXIT_RUNTIME;
  }
  for (uint64_t w = 0; w < res->W; w++)
    for (int k = 0; k < a->K; k++)
      nk[k] += res->rows[((size_t)res->D + w) * (size_t)a->K + (size_t)k];
  if (o->c.output) {
    doc_path = suffixed(o->c.output, ".doc-topic.tsv");
    word_path = suffixed(o->c.output, ".word-topic.tsv");
    if (!doc_path || !word_path) {
      rc = EXIT_RUNTIME;
      goto out;
    }
    if ((rc = write_doc_topic(res, gg, doc_path))) goto out;
    if ((rc = write_word_topic(res, gg, word_path, a->counts, nk))) {
      unlink(doc_path); /* no half of a result */
      goto out;
    }
  }
  if (a->top && print_top_words(res, gg, a->top, o->c.json ? stderr : stdout))
    rc = EXIT_RUNTIME;
out:
  free(nk);
  free(doc_path);
  free(word_path);
  return rc;
}

int cmd_lda(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_GPU |
               TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS);
  lda_args a = {20, 0, -1, 0.01, 0};
  o.dist_ok = 1; /* across ranks: AD-LDA over the owned documents */
  o.checkpoint_ok = 1; /* a sweep is a superstep */
  int rc = parse(argc, argv, &o, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (!o.eng.max_iter) o.eng.max_iter = 200;
  if (a.alpha < 0) a.alpha = 50.0 / a.K;
  if (o.c.output && !strcmp(o.c.output, "-")) {
    cli_error("lda: -o takes a file name prefix, not '-'");
    return EXIT_USAGE;
  }
  lda_corpus_format(&o.c);

  lda_report s;
  memset(&s, 0, sizeof s);
  gasp_graph *g = NULL;
  uint32_t *counts = NULL, *all = NULL;
  double load_s = 0;
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_dist *dist = o.eng.dist;
  gasp_graph *gg = dist ? o.d.global : g; /* the whole corpus */
  int root = tk_is_root(&o);
  if ((rc = lda_corpus_check(gg, o.c.input))) goto out;
  size_t rows = gasp_graph_num_vertices(g);
  if (!(counts = malloc((rows ? rows : 1) * (size_t)a.K * sizeof *counts))) {
    cli_error("lda: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  if (o.trace) {
    if (!(s.trace = fopen(o.trace, "w"))) {
      cli_error("%s: cannot create: %s", o.trace, strerror(errno));
      rc = EXIT_USAGE;
      goto out;
    }
    fputs("iteration\tdocuments\ttokens_moved\tlog_likelihood_per_token\t"
          "seconds\ttokens_per_second\n",
          s.trace);
  }
  cli_progress_init(&s.progress, "lda", o.c.quiet);
  s.banner = !o.c.quiet && !o.c.json;
  s.K = a.K;
  s.alpha = a.alpha;
  s.beta = a.beta;

  gasp_lda_opts lo;
  gasp_lda_opts_init(&lo);
  lo.engine = o.eng;
  lo.topics = a.K;
  lo.alpha = a.alpha;
  lo.beta = a.beta;
  lo.seed = o.c.seed;
  /* across ranks the likelihood is collective: every rank or none */
  lo.sweep_loglik = dist || s.trace || s.progress.enabled;
  const char *want = getenv("GASP_LDA_KERNEL"); /* benchmarks, tests */
  if (want && (!strcmp(want, "avx512") || !strcmp(want, "baseline")))
    lo.kernel = want;
  lo.on_sweep = on_sweep;
  lo.on_sweep_user = &s;
  gasp_lda_info info;
  gasp_run_stats st;
  gasp_error err;
  rc = gasp_lda(g, &lo, counts, &info, &st, &err);
  cli_progress_end(&s.progress);
  if (rc) {
    rc = cli_fail(&err, rc);
    goto out;
  }
  double tps = info.sampling_seconds > 0
                   ? (double)info.tokens * st.iterations / info.sampling_seconds
                   : 0;
  lda_result res = {counts, info.documents, info.words, info.tokens,
                    a.K,    a.alpha,        a.beta};
  if (dist) { /* the totals every rank adds to; the rows on the root */
    int want_rows = o.c.output || a.top;
    all = tk_dist_results(&o, NULL, &st, want_rows ? counts : NULL,
                          (size_t)a.K * sizeof *counts, &rc);
    if (rc) goto out;
    res.rows = all;
  }
  if (!root) goto out;
  if ((rc = write_results(&res, gg, &o, &a))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "lda");
    cli_json_u64(&j, "documents", info.documents);
    cli_json_u64(&j, "words", info.words);
    cli_json_u64(&j, "tokens", info.tokens);
    cli_json_u64(&j, "topics", (uint64_t)a.K);
    cli_json_num(&j, "alpha", a.alpha);
    cli_json_num(&j, "beta", a.beta);
    cli_json_u64(&j, "iterations", st.iterations);
    cli_json_u64(&j, "threads", (uint64_t)info.threads);
    cli_json_u64(&j, "seed", o.c.seed);
    cli_json_str(&j, "kernel", info.kernel);
    cli_json_num(&j, "log_likelihood_per_token", info.loglik);
    cli_json_num(&j, "seconds", st.seconds);
    cli_json_num(&j, "sampling_seconds", info.sampling_seconds);
    cli_json_num(&j, "tokens_per_second", tps);
    tk_dist_json(&o, &j, st.iterations);
    cli_json_num(&j, "load_seconds", load_s);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: lda: %llu sweeps in %.3f s: log-likelihood/token %.4f, "
            "%.1f M tokens/s\n",
            (unsigned long long)st.iterations, st.seconds, info.loglik,
            tps / 1e6);
  }
out:
  if (s.trace) fclose(s.trace);
  tk_graph_free(&o, &g);
  free(counts);
  free(all);
  return rc;
}
