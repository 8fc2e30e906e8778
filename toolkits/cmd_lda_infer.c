/*
 * cmd_lda_infer.c -- `gasp lda-infer`: topic mixtures of new documents
 * under a saved LDA model, and held-out perplexity by document
 * completion.
 *
 * Folding in (Griffiths & Steyvers 2004; Heinrich, "Parameter estimation
 * for text analysis", 2005): the topics phi of the model stay fixed and
 * each document's topic assignments are resampled by Gibbs from
 *
 *   p(z_i = k | rest) ~ (n_dk + alpha) phi_wk
 *
 * (n_dk without token i).  Documents are independent given phi, so each
 * document is one vertex update of the sync engine that runs all its
 * sweeps.  theta_d is the average of (n_dk + alpha) / (n_d + K alpha)
 * over the sweeps of the second half (the first half is burn-in).
 *
 * --perplexity, document completion (Wallach, Murray, Salakhutdinov,
 * Mimno, "Evaluation methods for topic models", ICML 2009): each
 * document's tokens are shuffled (seeded; a bag of words has no order to
 * keep), theta is estimated from the first half as above, and the second
 * half is scored with p(w) = sum_k theta_dk phi_wk; perplexity =
 * exp(-sum log p(w) / held-out tokens).  Tokens of words that the model
 * does not know are left out and counted.
 */
#include "lda.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct inf_thread {
  int32_t *ndk;
  double *theta; /* running sum of theta over the kept sweeps */
  float *p;
  uint32_t *z;       /* the document's topics            */
  const float **row; /* the document's phi rows (known words) */
  double ll;         /* held-out log-likelihood          */
  uint64_t heldout;
  char pad[48];
} inf_thread;

typedef struct inf_run {
  lda_corpus c;
  const lda_model *m;
  int K, Kp, perplexity;
  double alpha;
  uint64_t iters, seed;
  int64_t *model_row; /* word index -> model row, -1 when unknown */
  double *theta;      /* D x K output */
  inf_thread *th;
} inf_run;

static int sample_topic(const float *p, int K, float u) {
  for (int k = 0; k < K - 1; k++) {
    if (u < p[k]) return k;
    u -= p[k];
  }
  return K - 1;
}

static void infer_doc(inf_run *r, inf_thread *t, gasp_vid d) {
  const int K = r->K;
  const float alpha = (float)r->alpha;
  uint32_t n = 0;
  for (uint64_t i = r->c.doc_off[d]; i < r->c.doc_off[d + 1]; i++) {
    int64_t mr = r->model_row[r->c.word[i]];
    if (mr >= 0) t->row[n++] = r->m->phi + (size_t)mr * (size_t)r->Kp;
  }
  lda_rng rng = lda_rng_for(r->seed, d, 0);
  /* document completion: a seeded shuffle, the first half estimates */
  uint32_t nest = n;
  if (r->perplexity) {
    for (uint32_t i = n; i > 1; i--) {
      uint32_t j = (uint32_t)(((lda_next(&rng) >> 32) * i) >> 32);
      const float *tmp = t->row[i - 1];
      t->row[i - 1] = t->row[j];
      t->row[j] = tmp;
    }
    nest = (n + 1) / 2;
  }
  memset(t->ndk, 0, (size_t)K * sizeof *t->ndk);
  memset(t->theta, 0, (size_t)K * sizeof *t->theta);
  for (uint32_t i = 0; i < nest; i++) {
    uint32_t k = (uint32_t)(((lda_next(&rng) >> 32) * (uint64_t)K) >> 32);
    t->z[i] = k;
    t->ndk[k]++;
  }
  uint64_t kept = 0;
  double norm = 1.0 / ((double)nest + K * r->alpha);
  for (uint64_t it = 0; it < r->iters; it++) {
    for (uint32_t i = 0; i < nest; i++) {
      const float *phi = t->row[i];
      t->ndk[t->z[i]]--;
      float total = 0;
      for (int k = 0; k < K; k++) {
        t->p[k] = ((float)t->ndk[k] + alpha) * phi[k];
        total += t->p[k];
      }
      int k = sample_topic(t->p, K, lda_uniform(&rng) * total);
      t->z[i] = (uint32_t)k;
      t->ndk[k]++;
    }
    if (it >= r->iters / 2) {
      for (int k = 0; k < K; k++)
        t->theta[k] += (t->ndk[k] + r->alpha) * norm;
      kept++;
    }
  }
  double *out = r->theta + (size_t)d * (size_t)K;
  for (int k = 0; k < K; k++)
    out[k] = kept ? t->theta[k] / (double)kept : (t->ndk[k] + r->alpha) * norm;
  for (uint32_t i = nest; i < n; i++) {
    double pw = 0;
    for (int k = 0; k < K; k++)
      pw += out[k] * t->row[i][k];
    t->ll += log(pw);
    t->heldout++;
  }
}

static void inf_apply(gasp_ctx *ctx, void *v, const void *acc) {
  (void)v;
  (void)acc;
  inf_run *r = gasp_ctx_user(ctx);
  gasp_vid d = gasp_ctx_vertex(ctx);
  if (d < r->c.D) infer_doc(r, &r->th[gasp_ctx_thread(ctx)], d);
}

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

static int inf_alloc(inf_run *r, int threads, uint64_t max_doc) {
  r->th = tk_calloc_lines((size_t)threads, sizeof *r->th);
  if (!r->th) return -1;
  for (int t = 0; t < threads; t++) {
    inf_thread *th = &r->th[t];
    th->ndk = calloc((size_t)r->K, sizeof *th->ndk);
    th->theta = calloc((size_t)r->K, sizeof *th->theta);
    th->p = calloc((size_t)r->K, sizeof *th->p);
    th->z = malloc((max_doc + 1) * sizeof *th->z);
    th->row = malloc((max_doc + 1) * sizeof *th->row);
    if (!th->ndk || !th->theta || !th->p || !th->z || !th->row) return -1;
  }
  return 0;
}

static void inf_free(inf_run *r, int threads) {
  if (r->th)
    for (int t = 0; t < threads; t++) {
      free(r->th[t].ndk);
      free(r->th[t].theta);
      free(r->th[t].p);
      free(r->th[t].z);
      free(r->th[t].row);
    }
  free(r->th);
  free(r->model_row);
  free(r->theta);
  lda_corpus_free(&r->c);
}

static int write_theta(const inf_run *r, const gasp_graph *g,
                       const char *path) {
  lda_out o;
  int rc = lda_out_open(&o, path);
  if (rc) return rc;
  for (gasp_vid d = 0; d < r->c.D; d++) {
    fprintf(o.f, "%llu", (unsigned long long)gasp_graph_gid(g, d));
    for (int k = 0; k < r->K; k++)
      fprintf(o.f, "\t%.6g", r->theta[(size_t)d * (size_t)r->K + (size_t)k]);
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
  inf_run r;
  memset(&r, 0, sizeof r);
  gasp_graph *g = NULL;
  gasp_engine *e = NULL;
  int threads = 0;
  double load_s = 0;
  if ((rc = tk_load(&o, &g, &load_s))) goto out;
  if ((rc = lda_corpus_build(&r.c, g, o.c.input))) goto out;
  r.m = &m;
  r.K = m.K;
  r.Kp = lda_padded(m.K);
  r.alpha = alpha > 0 ? alpha : m.alpha;
  r.iters = iters;
  r.seed = o.c.seed;
  r.perplexity = perplexity;
  r.model_row = malloc(((size_t)r.c.W + 1) * sizeof *r.model_row);
  r.theta = malloc(((size_t)r.c.D + 1) * (size_t)r.K * sizeof *r.theta);
  if (!r.model_row || !r.theta) {
    cli_error("lda-infer: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  uint64_t unknown = 0, max_doc = 0;
  for (gasp_vid w = 0; w < r.c.W; w++) {
    gasp_gid id = gasp_graph_gid(g, r.c.D + w);
    uint64_t lo = 0, hi = m.W;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (m.ids[mid] < id)
        lo = mid + 1;
      else
        hi = mid;
    }
    r.model_row[w] = lo < m.W && m.ids[lo] == id ? (int64_t)lo : -1;
  }
  for (gasp_vid d = 0; d < r.c.D; d++) {
    uint64_t n = r.c.doc_off[d + 1] - r.c.doc_off[d];
    max_doc = n > max_doc ? n : max_doc;
  }
  for (uint64_t i = 0; i < r.c.tokens; i++)
    unknown += r.model_row[r.c.word[i]] < 0;

  gasp_program prog = {0};
  prog.apply = inf_apply;
  prog.user = &r;
  o.eng.always_active = 1;
  o.eng.max_iter = 1; /* one superstep: every document runs its sweeps */
  if ((rc = tk_engine_new(&e, g, &prog, &o))) goto out;
  threads = gasp_engine_threads(e);
  if (inf_alloc(&r, threads, max_doc)) {
    cli_error("lda-infer: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  gasp_run_stats st;
  if ((rc = tk_run(e, &st))) goto out;
  double ll = 0;
  uint64_t heldout = 0;
  for (int t = 0; t < threads; t++) {
    ll += r.th[t].ll;
    heldout += r.th[t].heldout;
  }
  double ppl = heldout ? exp(-ll / (double)heldout) : NAN;
  if (o.c.output && (rc = write_theta(&r, g, o.c.output))) goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "lda-infer");
    cli_json_u64(&j, "documents", r.c.D);
    cli_json_u64(&j, "tokens", r.c.tokens);
    cli_json_u64(&j, "unknown_tokens", unknown);
    cli_json_u64(&j, "topics", (uint64_t)r.K);
    cli_json_num(&j, "alpha", r.alpha);
    cli_json_u64(&j, "iterations", iters);
    cli_json_u64(&j, "threads", (uint64_t)threads);
    if (perplexity) {
      cli_json_u64(&j, "heldout_tokens", heldout);
      cli_json_num(&j, "perplexity", ppl);
    }
    cli_json_num(&j, "seconds", st.seconds);
    cli_json_num(&j, "load_seconds", load_s);
    cli_json_end(&j);
  } else {
    if (perplexity) printf("perplexity\t%.6g\n", ppl);
    if (!o.c.quiet)
      fprintf(stderr,
              "gasp: lda-infer: %u documents, %llu tokens (%llu of unknown "
              "words skipped), %llu sweeps each in %.3f s\n",
              r.c.D, (unsigned long long)r.c.tokens,
              (unsigned long long)unknown, (unsigned long long)iters,
              st.seconds);
  }
out:
  gasp_engine_free(&e);
  gasp_graph_free(&g);
  inf_free(&r, threads);
  lda_model_free(&m);
  return rc;
}
