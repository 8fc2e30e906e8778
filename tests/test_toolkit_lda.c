/*
 * test_toolkit_lda.c -- `gasp lda` and `gasp lda-infer` against
 * references written here:
 *
 *  - a plain collapsed Gibbs sampler (Griffiths & Steyvers 2004: scalar,
 *    double precision, every token in file order) reaches the same
 *    log-likelihood per token as gasp's sampler after the same number of
 *    sweeps, within the spread over seeds, on one thread and on two;
 *  - gasp's reported log p(w, z) equals the Griffiths-Steyvers formula
 *    evaluated here on the counts it writes;
 *  - on a corpus drawn from a known LDA model (`gasp generate lda`) the
 *    recovered topics match the true ones (Hellinger distance, greedy
 *    one-to-one matching);
 *  - held-out perplexity (document completion) under the learned model is
 *    close to that under the true model;
 *  - UCI, LDA-C, triples and gzip give identical runs; bad input fails
 *    with FILE:LINE, exit status 2 and no output file.
 *
 * The binary comes from $GASP_BIN (skipped without it); the shared Reuters
 * corpus from $GASP_SRCDIR/../shared/data (skipped when absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "testutil.h"

static int setup(void **state) {
  *state = tu_mkdtemp();
  return 0;
}

static int teardown(void **state) {
  tu_rmtree(*state);
  return 0;
}

#define RUN(...) tu_gasp_runv((const char *const[]){__VA_ARGS__, NULL})

/* Runs gasp, which must succeed; returns its stdout (malloc'd). */
static char *run_ok(const char *const *args) {
  tu_result r = tu_gasp_runv(args);
  if (r.status != 0)
    fail_msg("gasp %s exited %d: %s", args[0], r.status, r.err);
  free(r.err);
  return r.out;
}

#define RUN_OK(...) run_ok((const char *const[]){__VA_ARGS__, NULL})

/* The number after "key": in a one-object JSON summary. */
static double json_num(const char *json, const char *key) {
  char pat[128];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(json, pat);
  if (!p) fail_msg("no key %s in %s", key, json);
  return strtod(p + strlen(pat), NULL);
}

/* ---- corpora ----------------------------------------------------------- */

/* A UCI corpus read here, tokens expanded in file order. */
typedef struct corpus {
  int D, W;
  uint64_t N, nnz;
  int *ed, *ew, *ec; /* entries */
  int *doc, *word;   /* tokens */
} corpus;

static corpus read_uci(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  corpus c = {0};
  unsigned long long nnz;
  assert_int_equal(fscanf(f, "%d %d %llu", &c.D, &c.W, &nnz), 3);
  c.nnz = nnz;
  c.ed = malloc(nnz * sizeof *c.ed);
  c.ew = malloc(nnz * sizeof *c.ew);
  c.ec = malloc(nnz * sizeof *c.ec);
  for (uint64_t i = 0; i < nnz; i++) {
    assert_int_equal(fscanf(f, "%d %d %d", &c.ed[i], &c.ew[i], &c.ec[i]), 3);
    c.N += (uint64_t)c.ec[i];
  }
  fclose(f);
  c.doc = malloc(c.N * sizeof *c.doc);
  c.word = malloc(c.N * sizeof *c.word);
  /* Tokens document by document (entries in file order, which is by
   * document); within a document one token of each entry, then a second
   * of those with two or more, ...  Any fixed order is a valid Gibbs
   * sweep; this is the one gasp uses, so that the two samplers' early
   * sweeps compare too. */
  uint64_t t = 0;
  for (uint64_t b = 0; b < nnz;) {
    uint64_t e = b;
    int most = 0;
    while (e < nnz && c.ed[e] == c.ed[b]) {
      most = c.ec[e] > most ? c.ec[e] : most;
      e++;
    }
    for (int r = 0; r < most; r++)
      for (uint64_t i = b; i < e; i++)
        if (c.ec[i] > r) {
          c.doc[t] = c.ed[i] - 1;
          c.word[t++] = c.ew[i] - 1;
        }
    b = e;
  }
  assert_int_equal(t, c.N);
  return c;
}

static void corpus_free(corpus *c) {
  free(c->ed);
  free(c->ew);
  free(c->ec);
  free(c->doc);
  free(c->word);
}

/* Writes `gasp generate lda` output under dir; returns the UCI path. */
static char *generate(const char *dir, const char *name, const char *docs,
                      const char *vocab, const char *topics, const char *len,
                      const char *alpha, const char *seed) {
  char base[256], phi[256], voc[256];
  snprintf(base, sizeof base, "%s.uci", name);
  snprintf(phi, sizeof phi, "%s/%s.phi", dir, name);
  snprintf(voc, sizeof voc, "%s/%s.vocab", dir, name);
  char *path = tu_path(dir, base);
  free(RUN_OK("generate", "lda", "--docs", docs, "--vocab-size", vocab,
              "--topics", topics, "--doc-length", len, "--alpha", alpha,
              "--seed", seed, "--phi", phi, "--vocab-out", voc, "-o", path,
              "--quiet"));
  return path;
}

/* ---- the plain collapsed Gibbs sampler --------------------------------- */

/* log p(w, z) / N (Griffiths & Steyvers 2004, eqs. 2-3). */
static double gs_loglik(int D, int W, int K, double alpha, double beta,
                        const int *ndk, const int *nwk, const int *nk,
                        const int *nd, uint64_t N) {
  double ll = K * (lgamma(W * beta) - W * lgamma(beta)) +
              D * (lgamma(K * alpha) - K * lgamma(alpha));
  for (int k = 0; k < K; k++) {
    for (int w = 0; w < W; w++)
      ll += lgamma(nwk[(size_t)w * K + k] + beta);
    ll -= lgamma(nk[k] + W * beta);
  }
  for (int d = 0; d < D; d++) {
    for (int k = 0; k < K; k++)
      ll += lgamma(ndk[(size_t)d * K + k] + alpha);
    ll -= lgamma(nd[d] + K * alpha);
  }
  return ll / (double)N;
}

/* Exact collapsed Gibbs, obviously: remove the token, compute the full
 * conditional in doubles, draw by a linear scan, add the token back. */
static double plain_gibbs(const corpus *c, int K, double alpha, double beta,
                          int iters, uint64_t seed) {
  int D = c->D, W = c->W;
  int *z = malloc(c->N * sizeof *z);
  int *ndk = calloc((size_t)D * K, sizeof *ndk);
  int *nwk = calloc((size_t)W * K, sizeof *nwk);
  int *nk = calloc((size_t)K, sizeof *nk);
  int *nd = calloc((size_t)D, sizeof *nd);
  double *p = malloc((size_t)K * sizeof *p);
  tu_rng rng = {seed * 7919 + 17};
  for (uint64_t i = 0; i < c->N; i++) {
    int k = (int)tu_below(&rng, (uint64_t)K);
    z[i] = k;
    ndk[(size_t)c->doc[i] * K + k]++;
    nwk[(size_t)c->word[i] * K + k]++;
    nk[k]++;
    nd[c->doc[i]]++;
  }
  for (int it = 0; it < iters; it++)
    for (uint64_t i = 0; i < c->N; i++) {
      int d = c->doc[i], w = c->word[i], k = z[i];
      ndk[(size_t)d * K + k]--;
      nwk[(size_t)w * K + k]--;
      nk[k]--;
      double total = 0;
      for (int j = 0; j < K; j++) {
        p[j] = (ndk[(size_t)d * K + j] + alpha) *
               (nwk[(size_t)w * K + j] + beta) / (nk[j] + W * beta);
        total += p[j];
      }
      double u = (double)(tu_next(&rng) >> 11) * 0x1p-53 * total;
      k = 0;
      while (k < K - 1 && u >= p[k])
        u -= p[k++];
      z[i] = k;
      ndk[(size_t)d * K + k]++;
      nwk[(size_t)w * K + k]++;
      nk[k]++;
    }
  double ll = gs_loglik(D, W, K, alpha, beta, ndk, nwk, nk, nd, c->N);
  free(z);
  free(ndk);
  free(nwk);
  free(nk);
  free(nd);
  free(p);
  return ll;
}

static void mean_sd(const double *x, int n, double *mean, double *sd) {
  double s = 0, q = 0;
  for (int i = 0; i < n; i++)
    s += x[i];
  *mean = s / n;
  for (int i = 0; i < n; i++)
    q += (x[i] - *mean) * (x[i] - *mean);
  *sd = sqrt(q / (n - 1));
}

/* gasp lda's log-likelihood per token after `iters` sweeps. */
static double gasp_ll(const char *path, const char *K, const char *alpha,
                      const char *iters, const char *threads, int seed) {
  char s[32];
  snprintf(s, sizeof s, "%d", seed);
  char *out = RUN_OK("lda", "-i", path, "-k", K, "--alpha", alpha, "--iters",
                     iters, "-t", threads, "--seed", s, "--json", "--quiet");
  double ll = json_num(out, "log_likelihood_per_token");
  free(out);
  return ll;
}

#define SEEDS 6

/* Mean and spread over SEEDS seeds of gasp lda's log-likelihood per
 * token (the kernel from GASP_LDA_KERNEL when set). */
static void gasp_stats(const char *path, const char *K, const char *iters,
                       const char *threads, double *mean, double *sd) {
  double x[SEEDS];
  for (int s = 0; s < SEEDS; s++)
    x[s] = gasp_ll(path, K, "0.5", iters, threads, s + 1);
  mean_sd(x, SEEDS, mean, sd);
}

/* Tolerance: 4 standard errors of the difference of the two means over
 * SEEDS seeds, plus 0.002 for the float arithmetic of the fast sampler. */
static void check_close(const char *what, double m, double s, double mr,
                        double sr) {
  double tol = 4 * sqrt((sr * sr + s * s) / SEEDS) + 0.002;
  print_message("%-22s %.5f (sd %.5f) vs plain %.5f (sd %.5f), tolerance "
                "%.5f\n",
                what, m, s, mr, sr, tol);
  if (fabs(m - mr) > tol)
    fail_msg("%s: %.5f vs plain %.5f (tolerance %.5f)", what, m, mr, tol);
}

/* The fast sampler and the plain one reach the same log-likelihood per
 * token after the same number of sweeps (from the same uniform random
 * start, the same token order), on one thread and on two: K = 5 on a
 * 5-topic corpus, 80 sweeps, where the spread over seeds is about 0.003
 * and the check is sharp (it can fail: a run with alpha four times larger,
 * a different target, is outside it).  And with each build of the kernel
 * (AVX2, baseline, AVX-512 where the processor has it) at K = 20, which
 * takes several vector blocks for every width, on a 20-topic corpus after
 * 40 sweeps: there the chains settle in different local modes and the
 * spread over seeds is 0.02-0.05, so this check catches gross errors (a
 * wrong block in the draw costs more than one nat per token) and the
 * benchmark (bench/lda, KOS at K = 20 and 100 against an exact sampler,
 * 0.02) the rest. */
static void test_vs_plain_sampler(void **state) {
  TU_NEED_BIN();
  const char *dir = *state;
  const double alpha = 0.5, beta = 0.01;
  char *path = generate(dir, "small", "300", "100", "5", "80", "0.3", "11");
  corpus c = read_uci(path);
  double ref[SEEDS], mr, sr, m, sd;
  for (int s = 0; s < SEEDS; s++)
    ref[s] = plain_gibbs(&c, 5, alpha, beta, 80, (uint64_t)s + 1);
  mean_sd(ref, SEEDS, &mr, &sr);
  gasp_stats(path, "5", "80", "1", &m, &sd);
  check_close("K=5, 1 thread", m, sd, mr, sr);
  double tol1 = 4 * sqrt((sr * sr + sd * sd) / SEEDS) + 0.002;
  gasp_stats(path, "5", "80", "2", &m, &sd);
  check_close("K=5, 2 threads", m, sd, mr, sr);
  /* sensitivity: a different prior is detected */
  double wrong = gasp_ll(path, "5", "2.0", "80", "1", 1);
  assert_true(fabs(wrong - mr) > tol1);
  corpus_free(&c);
  free(path);

  path = generate(dir, "wide", "1000", "400", "20", "100", "0.05", "12");
  c = read_uci(path);
  for (int s = 0; s < SEEDS; s++)
    ref[s] = plain_gibbs(&c, 20, alpha, beta, 40, (uint64_t)s + 1);
  mean_sd(ref, SEEDS, &mr, &sr);
  gasp_stats(path, "20", "40", "1", &m, &sd);
  check_close("K=20, avx2/default", m, sd, mr, sr);
  /* the other builds: the baseline (no AVX) and, where the processor has
   * it, AVX-512 */
  const char *kernels[] = {"baseline", "avx512"};
  for (int kn = 0; kn < 2; kn++) {
    setenv("GASP_LDA_KERNEL", kernels[kn], 1);
    char *out = RUN_OK("lda", "-i", path, "-k", "20", "--iters", "1", "--json",
                       "--quiet");
    int have = strstr(out, kernels[kn]) != NULL;
    free(out);
    if (have) {
      char what[64];
      snprintf(what, sizeof what, "K=20, %s", kernels[kn]);
      gasp_stats(path, "20", "40", "1", &m, &sd);
      check_close(what, m, sd, mr, sr);
    }
    unsetenv("GASP_LDA_KERNEL");
  }
  corpus_free(&c);
  free(path);
}

/* gasp's log p(w, z) is the formula's value on the counts it writes. */
/* np: NULL for one process, else the --np value (the counts written by
 * rank 0 then come from every rank: reconciled word rows, gathered
 * document rows). */
static void check_loglik_formula(const char *dir, const char *np) {
  char *path = generate(dir, "llc", "50", "40", "4", "30", "0.3", "5");
  corpus c = read_uci(path);
  char *prefix = tu_path(dir, "llc-out");
  char *out = RUN_OK("lda", "-i", path, "-k", "4", "--iters", "7", "-t", "1",
                     "--counts", "-o", prefix, "--json", "--quiet",
                     np ? "--np" : NULL, np);
  double want = json_num(out, "log_likelihood_per_token");
  free(out);
  const int K = 4;
  const double alpha = 50.0 / K, beta = 0.01;
  int *ndk = calloc((size_t)c.D * K, sizeof *ndk);
  int *nwk = calloc((size_t)c.W * K, sizeof *nwk);
  int nk[4] = {0}, *nd = calloc((size_t)c.D, sizeof *nd);
  for (uint64_t i = 0; i < c.N; i++)
    nd[c.doc[i]]++;
  char fn[600];
  snprintf(fn, sizeof fn, "%s.word-topic.tsv", prefix);
  FILE *f = fopen(fn, "r");
  assert_non_null(f);
  char line[4096];
  assert_non_null(fgets(line, sizeof line, f));
  assert_true(strncmp(line, "# gasp-lda topics=4 ", 20) == 0);
  assert_non_null(strstr(line, "values=counts"));
  int w;
  while (fscanf(f, "%d", &w) == 1) {
    assert_true(w >= 1 && w <= c.W);
    for (int k = 0; k < K; k++) {
      assert_int_equal(fscanf(f, "%d", &nwk[(size_t)(w - 1) * K + k]), 1);
      nk[k] += nwk[(size_t)(w - 1) * K + k];
    }
  }
  fclose(f);
  snprintf(fn, sizeof fn, "%s.doc-topic.tsv", prefix);
  f = fopen(fn, "r");
  assert_non_null(f);
  int d;
  while (fscanf(f, "%d", &d) == 1) {
    double sum = 0;
    for (int k = 0; k < K; k++) {
      double th;
      assert_int_equal(fscanf(f, "%lf", &th), 1);
      sum += th;
      /* theta = (n_dk + alpha) / (n_d + K alpha), printed to 6 digits */
      ndk[(size_t)(d - 1) * K + k] =
          (int)lround(th * (nd[d - 1] + K * alpha) - alpha);
    }
    assert_true(fabs(sum - 1) < 1e-4);
  }
  fclose(f);
  int total = 0;
  for (int k = 0; k < K; k++)
    total += nk[k];
  assert_int_equal(total, (int)c.N);
  double got = gs_loglik(c.D, c.W, K, alpha, beta, ndk, nwk, nk, nd, c.N);
  if (fabs(got - want) > 1e-6)
    fail_msg("--np %s: formula %.9f, gasp %.9f", np ? np : "-", got, want);
  /* each word's counts add up to its tokens */
  int *tok = calloc((size_t)c.W, sizeof *tok);
  for (uint64_t i = 0; i < c.N; i++)
    tok[c.word[i]]++;
  for (int w0 = 0; w0 < c.W; w0++) {
    int s = 0;
    for (int k = 0; k < K; k++)
      s += nwk[(size_t)w0 * K + k];
    if (s != tok[w0])
      fail_msg("--np %s: word %d has %d counts, %d tokens", np ? np : "-",
               w0 + 1, s, tok[w0]);
  }
  free(tok);
  free(ndk);
  free(nwk);
  free(nd);
  free(prefix);
  corpus_free(&c);
  free(path);
}

static void test_loglik_formula(void **state) {
  TU_NEED_BIN();
  check_loglik_formula(*state, NULL);
}

/* Across ranks (AD-LDA over the owned documents): the written counts are
 * consistent with the reported likelihood, and after 100 sweeps the
 * likelihood is that of one process within sampling noise (the mean of
 * three seeds on 100k tokens: a chain's spread is about 0.01 here).  One
 * thread a process, so each figure is fixed by its seed: Hogwild threads
 * under a loaded machine made the one-process mean wander. */
static double mean_loglik(const char *path, const char *np, const char *part) {
  static const char *seeds[] = {"1", "2", "3"};
  double sum = 0;
  for (int i = 0; i < 3; i++) {
    char *out = RUN_OK("lda", "-i", path, "-k", "5", "--iters", "100", "--json",
                       "--quiet", "--seed", seeds[i], "--np", np, "--partition",
                       part, "-t", "1");
    sum += json_num(out, "log_likelihood_per_token");
    if (strcmp(np, "1")) assert_true(json_num(out, "ranks") == atoi(np));
    free(out);
  }
  return sum / 3;
}

static void test_distributed(void **state) {
  TU_NEED_BIN();
  const char *dir = *state;
  check_loglik_formula(dir, "3");
  char *path = generate(dir, "dl", "1000", "300", "5", "100", "0.2", "9");
  double one = mean_loglik(path, "1", "metis");
  static const char *np[] = {"2", "4"}, *part[] = {"metis", "hash"};
  for (int i = 0; i < 2; i++) {
    double ll = mean_loglik(path, np[i], part[i]);
    if (fabs(ll - one) > 0.03)
      fail_msg("--np %s: log-likelihood/token %.4f, one process %.4f", np[i],
               ll, one);
  }
  free(path);
}

/* ---- topic recovery and perplexity --------------------------------------- */

/* Reads the true phi (gasp generate --phi: K rows "k<TAB>V values"). */
static double *read_true_phi(const char *path, int K, int V) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  double *phi = malloc((size_t)K * V * sizeof *phi);
  for (int k = 0; k < K; k++) {
    int id;
    assert_int_equal(fscanf(f, "%d", &id), 1);
    for (int w = 0; w < V; w++)
      assert_int_equal(fscanf(f, "%lf", &phi[(size_t)k * V + w]), 1);
  }
  fclose(f);
  return phi;
}

/* Reads a phi model file (words 1..V) into K x V. */
static double *read_model_phi(const char *path, int K, int V) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[1024];
  assert_non_null(fgets(line, sizeof line, f));
  assert_non_null(strstr(line, "values=phi"));
  double *phi = calloc((size_t)K * V, sizeof *phi);
  int w;
  while (fscanf(f, "%d", &w) == 1) {
    assert_true(w >= 1 && w <= V);
    for (int k = 0; k < K; k++)
      assert_int_equal(fscanf(f, "%lf", &phi[(size_t)k * V + w - 1]), 1);
  }
  fclose(f);
  return phi;
}

static double hellinger(const double *p, const double *q, int n) {
  double bc = 0;
  for (int i = 0; i < n; i++)
    bc += sqrt(p[i] * q[i]);
  return sqrt(fmax(0.0, 1 - bc));
}

/* Writes the true model in gasp's model format (for lda-infer). */
static void write_true_model(const char *path, const double *phi, int K, int V,
                             double alpha) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(
      f,
      "# gasp-lda topics=%d alpha=%g beta=0.01 words=%d tokens=0 values=phi\n",
      K, alpha, V);
  for (int w = 0; w < V; w++) {
    fprintf(f, "%d", w + 1);
    for (int k = 0; k < K; k++)
      fprintf(f, "\t%.9g", phi[(size_t)k * V + w]);
    fputc('\n', f);
  }
  assert_int_equal(fclose(f), 0);
}

/* Splits a UCI corpus into triples files: documents <= cut and > cut. */
static void split_uci(const corpus *c, int cut, const char *train,
                      const char *held) {
  FILE *a = fopen(train, "w"), *b = fopen(held, "w");
  assert_non_null(a);
  assert_non_null(b);
  for (uint64_t i = 0; i < c->nnz; i++)
    fprintf(c->ed[i] <= cut ? a : b, "%d %d %d\n", c->ed[i], c->ew[i],
            c->ec[i]);
  assert_int_equal(fclose(a), 0);
  assert_int_equal(fclose(b), 0);
}

/* Topics drawn from a known model are recovered, and held-out
 * perplexity under the learned model is close to the true model's.
 *
 * Threshold: each of the K = 6 topics has about 900 x 150 / 6 = 22,500
 * training tokens; the Hellinger distance of an estimate from n draws of a
 * distribution with s words of non-negligible mass is about
 * sqrt(s / (8 n)), here s <= 300: about 0.04.  Distinct true topics (phi
 * ~ Dirichlet(0.01) over 300 words: nearly disjoint supports) are at
 * distance > 0.9.  A bound of 0.15 is 3-4 times the estimation error and
 * far below the distance of a wrong match, so it fails only when a topic
 * is merged, split or missed. */
static void test_topic_recovery_and_perplexity(void **state) {
  TU_NEED_BIN();
  const char *dir = *state;
  const int K = 6, V = 300;
  char *path = generate(dir, "rec", "1100", "300", "6", "150", "0.2", "3");
  corpus c = read_uci(path);
  char *train = tu_path(dir, "train.txt"), *held = tu_path(dir, "held.txt");
  split_uci(&c, 900, train, held);
  char *prefix = tu_path(dir, "rec-model");
  char *rvocab = tu_path(dir, "rec.vocab"); /* all 300 words in the model */
  free(RUN_OK("lda", "-i", train, "--vocab", rvocab, "-k", "6", "--alpha",
              "0.2", "--iters", "150", "-t", "2", "--seed", "4", "-o", prefix,
              "--quiet"));
  char fn[600];
  snprintf(fn, sizeof fn, "%s/rec.phi", dir);
  double *truth = read_true_phi(fn, K, V);
  snprintf(fn, sizeof fn, "%s.word-topic.tsv", prefix);
  double *learned = read_model_phi(fn, K, V);
  int used[6] = {0};
  double worst = 0;
  for (int k = 0; k < K; k++) {
    int best = -1;
    double bd = 2;
    for (int j = 0; j < K; j++) {
      double h = hellinger(truth + (size_t)k * V, learned + (size_t)j * V, V);
      if (h < bd) {
        bd = h;
        best = j;
      }
    }
    assert_false(used[best]); /* one-to-one */
    used[best] = 1;
    worst = fmax(worst, bd);
  }
  print_message("worst Hellinger distance of a matched topic: %.4f\n", worst);
  assert_true(worst < 0.15);

  /* perplexity of the held-out documents' second halves */
  char *truth_model = tu_path(dir, "truth.word-topic.tsv");
  write_true_model(truth_model, truth, K, V, 0.2);
  char *o1 = RUN_OK("lda-infer", "-m", prefix, "-i", held, "--perplexity",
                    "--json", "--quiet", "-t", "2");
  char *o2 = RUN_OK("lda-infer", "-m", truth_model, "-i", held, "--perplexity",
                    "--json", "--quiet", "-t", "1");
  double p_learned = json_num(o1, "perplexity"),
         p_true = json_num(o2, "perplexity");
  print_message("held-out perplexity: learned %.3f, true model %.3f\n",
                p_learned, p_true);
  assert_int_equal((int)json_num(o1, "heldout_tokens"), 200 * 150 / 2);
  /* the learned model may not beat the truth by more than chance, and
   * must come within 5% of it */
  assert_true(p_learned > 0.97 * p_true && p_learned < 1.05 * p_true);
  free(o1);
  free(o2);

  /* a counts model reloads to the same topics */
  char *prefix2 = tu_path(dir, "rec-counts");
  free(RUN_OK("lda", "-i", train, "--vocab", rvocab, "-k", "6", "--alpha",
              "0.2", "--iters", "150", "-t", "2", "--seed", "4", "-o", prefix2,
              "--counts", "--quiet"));
  char *o3 = RUN_OK("lda-infer", "-m", prefix2, "-i", held, "--perplexity",
                    "--json", "--quiet");
  double p_counts = json_num(o3, "perplexity");
  assert_true(p_counts > 0.97 * p_true && p_counts < 1.05 * p_true);
  free(o3);

  /* theta of new documents: rows are distributions */
  char *theta = tu_path(dir, "theta.tsv");
  free(RUN_OK("lda-infer", "-m", prefix, "-i", held, "-o", theta, "--quiet"));
  FILE *f = fopen(theta, "r");
  assert_non_null(f);
  int d, rows = 0;
  while (fscanf(f, "%d", &d) == 1) {
    double s = 0, x;
    for (int k = 0; k < K; k++) {
      assert_int_equal(fscanf(f, "%lf", &x), 1);
      assert_true(x > 0);
      s += x;
    }
    assert_true(fabs(s - 1) < 1e-4);
    assert_true(d > 900 && d <= 1100);
    rows++;
  }
  fclose(f);
  assert_int_equal(rows, 200);
  free(theta);
  free(prefix2);
  free(rvocab);
  free(truth_model);
  free(truth);
  free(learned);
  free(prefix);
  free(train);
  free(held);
  corpus_free(&c);
  free(path);
}

/* ---- formats --------------------------------------------------------------
 */

/* The values of a TSV file without its first column (ids). */
static char *values_only(const char *path) {
  char *s = tu_read_file(path, NULL);
  assert_non_null(s);
  char *out = malloc(strlen(s) + 1), *q = out;
  for (char *p = s; *p;) {
    char *nl = strchr(p, '\n');
    char *e = nl ? nl : p + strlen(p);
    if (*p != '#') {
      char *tab = memchr(p, '\t', (size_t)(e - p));
      if (tab) {
        memcpy(q, tab, (size_t)(e - tab));
        q += e - tab;
      }
      *q++ = '\n';
    }
    p = nl ? nl + 1 : e;
  }
  *q = '\0';
  free(s);
  return out;
}

/* UCI, gzip'd UCI, LDA-C and triples of one corpus give the same run. */
static void test_formats_equivalent(void **state) {
  TU_NEED_BIN();
  const char *dir = *state;
  char *uci = generate(dir, "fmt", "60", "40", "3", "30", "0.3", "9");
  corpus c = read_uci(uci);
  char *vocab = tu_path(dir, "fmt.vocab");
  /* LDA-C: line d is document d-1, words 0-based */
  char *ldac = tu_path(dir, "fmt.ldac");
  FILE *f = fopen(ldac, "w");
  assert_non_null(f);
  uint64_t i = 0;
  for (int d = 1; d <= c.D; d++) {
    uint64_t j = i;
    while (j < c.nnz && c.ed[j] == d)
      j++;
    fprintf(f, "%llu", (unsigned long long)(j - i));
    for (; i < j; i++)
      fprintf(f, " %d:%d", c.ew[i] - 1, c.ec[i]);
    fputc('\n', f);
  }
  assert_int_equal(fclose(f), 0);
  assert_int_equal(i, c.nnz);
  char *trip = tu_path(dir, "fmt.triples");
  f = fopen(trip, "w");
  assert_non_null(f);
  fprintf(f, "# doc word count\n");
  for (i = 0; i < c.nnz; i++)
    fprintf(f, "%d\t%d\t%d\n", c.ed[i], c.ew[i], c.ec[i]);
  assert_int_equal(fclose(f), 0);
  size_t len;
  char *raw = tu_read_file(uci, &len);
  char *gz = tu_path(dir, "fmt-gz.uci");
  tu_write_gz(gz, raw, len);
  free(raw);

  const char *inputs[4] = {uci, gz, ldac, trip};
  const char *formats[4] = {"uci", "uci", "ldac", "triples"};
  char *ll[4], *doc[4], *word[4], *top[4];
  for (int k = 0; k < 4; k++) {
    char prefix[600], fn[700];
    snprintf(prefix, sizeof prefix, "%s/out%d", dir, k);
    char *out =
        RUN_OK("lda", "-i", inputs[k], "--format", formats[k], "--vocab", vocab,
               "-k", "3", "--iters", "15", "-t", "1", "--seed", "7", "-o",
               prefix, "--json", "--top-words", "4", "--quiet");
    const char *p = strstr(out, "\"log_likelihood_per_token\":");
    assert_non_null(p);
    ll[k] = strndup(p, 40);
    assert_int_equal((uint64_t)json_num(out, "tokens"), c.N);
    free(out);
    snprintf(fn, sizeof fn, "%s.doc-topic.tsv", prefix);
    doc[k] = values_only(fn);
    snprintf(fn, sizeof fn, "%s.word-topic.tsv", prefix);
    word[k] = values_only(fn);
    /* --top-words goes to stderr with --json: run again without */
    top[k] = RUN_OK("lda", "-i", inputs[k], "--format", formats[k], "--vocab",
                    vocab, "-k", "3", "--iters", "15", "-t", "1", "--seed", "7",
                    "--top-words", "4", "--quiet");
  }
  assert_non_null(strstr(top[0], "topic 2\tword"));
  for (int k = 1; k < 4; k++) {
    assert_string_equal(ll[k], ll[0]);
    assert_string_equal(doc[k], doc[0]);
    assert_string_equal(word[k], word[0]);
    assert_string_equal(top[k], top[0]);
  }
  for (int k = 0; k < 4; k++) {
    free(ll[k]);
    free(doc[k]);
    free(word[k]);
    free(top[k]);
  }
  free(gz);
  free(trip);
  free(ldac);
  free(vocab);
  corpus_free(&c);
  free(uci);
}

/* ---- bad input ---------------------------------------------------------- */

/* Runs gasp lda on `text` (written to dir/name) with extra flags; it must
 * fail with status 2, name `where` ("FILE:LINE") in one "gasp: " line,
 * and leave no output. */
static void bad_case(const char *dir, const char *name, const char *text,
                     const char *format, const char *vocab_text,
                     const char *where_file, int where_line, const char *why) {
  char *path = tu_path(dir, name);
  tu_write_str(path, text);
  char *vocab = NULL;
  if (vocab_text) {
    vocab = tu_path(dir, "bad.vocab");
    tu_write_str(vocab, vocab_text);
  }
  char *prefix = tu_path(dir, "bad-out");
  tu_result r = vocab ? RUN("lda", "-i", path, "--format", format, "--vocab",
                            vocab, "-k", "2", "--iters", "2", "-o", prefix)
                      : RUN("lda", "-i", path, "--format", format, "-k", "2",
                            "--iters", "2", "-o", prefix);
  char want[700];
  snprintf(want, sizeof want, "gasp: %s/%s:%d: ", dir, where_file, where_line);
  if (r.status != 2 || !strstr(r.err, want) || !strstr(r.err, why))
    fail_msg("%s: status %d, stderr '%s' (want '%s...%s')", name, r.status,
             r.err, want, why);
  char fn[700];
  snprintf(fn, sizeof fn, "%s.doc-topic.tsv", prefix);
  assert_false(tu_exists(fn));
  snprintf(fn, sizeof fn, "%s.word-topic.tsv", prefix);
  assert_false(tu_exists(fn));
  assert_int_equal(tu_count_entries(dir), vocab ? 2 : 1);
  remove(path);
  if (vocab) remove(vocab);
  tu_result_free(&r);
  free(prefix);
  free(vocab);
  free(path);
}

static void test_bad_input(void **state) {
  TU_NEED_BIN();
  const char *dir = *state;
  /* UCI: word id beyond W (the vocabulary size the header declares) */
  bad_case(dir, "docword.a.txt", "2\n3\n2\n1 1 2\n2 4 1\n", "uci", NULL,
           "docword.a.txt", 5, "word id 4 out of range 1..3");
  /* UCI: a vocabulary shorter than the header's W */
  bad_case(dir, "docword.b.txt", "1\n3\n1\n1 3 2\n", "uci", "alpha\nbeta\n",
           "bad.vocab", 3, "vocabulary has 2 words");
  /* LDA-C: word id beyond the vocabulary */
  bad_case(dir, "c.ldac", "1 0:2\n2 1:1 3:1\n", "ldac", "a\nb\nc\n", "c.ldac",
           2, "word id 3 out of range 0..2");
  /* triples: word id beyond the vocabulary (1-based with --vocab) */
  bad_case(dir, "d.txt", "1 1 1\n1 3 1\n", "triples", "a\nb\n", "d.txt", 2,
           "word id 3 out of range 1..2");
  /* negative counts */
  bad_case(dir, "docword.e.txt", "1\n3\n2\n1 1 2\n1 2 -1\n", "uci", NULL,
           "docword.e.txt", 5, "not a positive integer");
  bad_case(dir, "f.ldac", "1 0:2\n2 1:-1 2:1\n", "ldac", NULL, "f.ldac", 2,
           "not a positive integer");
  bad_case(dir, "g.txt", "1 1 1\n2 2 -3\n", "triples", NULL, "g.txt", 2,
           "not a positive integer");
  /* header counts that disagree with the body */
  bad_case(dir, "docword.h.txt", "2\n3\n3\n1 1 2\n2 3 1\n", "uci", NULL,
           "docword.h.txt", 3, "header declares 3 entries but the file has 2");
  bad_case(dir, "i.ldac", "2 0:1 1:1\n3 0:1 2:2\n", "ldac", NULL, "i.ldac", 2,
           "declares 3 terms but has 2");
  bad_case(dir, "j.ldac", "1 0:1 1:1\n", "ldac", NULL, "j.ldac", 1,
           "more terms than the declared 1");
  /* an empty document line in LDA-C (an empty document is "0") */
  bad_case(dir, "k.ldac", "1 0:1\n\n1 1:1\n", "ldac", NULL, "k.ldac", 2,
           "empty line");
  /* UCI documents beyond D */
  bad_case(dir, "docword.l.txt", "1\n3\n1\n2 1 1\n", "uci", NULL,
           "docword.l.txt", 4, "document id 2 out of range 1..1");

  /* Documented: blank lines in UCI and triples bodies are skipped, a
   * document of N = 0 in LDA-C is a document without tokens. */
  char *ok = tu_path(dir, "docword.ok.txt");
  tu_write_str(ok, "3\n3\n3\n1 1 2\n\n2 3 1\n\n3 2 4\n");
  char *out =
      RUN_OK("lda", "-i", ok, "-k", "2", "--iters", "3", "--json", "--quiet");
  assert_int_equal((int)json_num(out, "tokens"), 7);
  free(out);
  char *ok2 = tu_path(dir, "ok.ldac");
  tu_write_str(ok2, "1 0:2\n0\n2 1:1 2:3\n");
  char *prefix = tu_path(dir, "ok-out");
  out = RUN_OK("lda", "-i", ok2, "-k", "2", "--iters", "3", "--json", "--quiet",
               "-o", prefix);
  assert_int_equal((int)json_num(out, "documents"), 3);
  assert_int_equal((int)json_num(out, "tokens"), 6);
  free(out);
  char fn[600];
  snprintf(fn, sizeof fn, "%s.doc-topic.tsv", prefix);
  char *theta = tu_read_file(fn, NULL);
  assert_non_null(strstr(theta, "\n1\t0.5\t0.5\n")); /* the empty document */
  free(theta);
  free(prefix);
  free(ok2);
  free(ok);
}

/* ---- command line ----------------------------------------------------- */

static void test_json_trace_help(void **state) {
  TU_NEED_BIN();
  const char *dir = *state;
  char *path = generate(dir, "js", "40", "30", "3", "20", "0.3", "2");
  char *trace = tu_path(dir, "trace.tsv");
  char *out = RUN_OK("lda", "-i", path, "--format", "uci", "-k", "3", "--iters",
                     "9", "--trace", trace, "--json", "-t", "2");
  const char *keys[] = {"log_likelihood_per_token",
                        "tokens",
                        "iterations",
                        "seconds",
                        "tokens_per_second",
                        "documents",
                        "words",
                        "topics",
                        "alpha",
                        "beta",
                        "threads"};
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
    json_num(out, keys[k]);
  assert_int_equal((int)json_num(out, "tokens"), 800);
  assert_int_equal((int)json_num(out, "iterations"), 9);
  assert_true(json_num(out, "tokens_per_second") > 0);
  assert_true(fabs(json_num(out, "alpha") - 50.0 / 3) < 1e-6);
  assert_true(out[0] == '{' && !strcmp(strchr(out, '}'), "}\n"));
  double ll = json_num(out, "log_likelihood_per_token");
  free(out);
  char *t = tu_read_file(trace, NULL);
  assert_non_null(t);
  assert_true(
      strncmp(t, "iteration\tdocuments\ttokens_moved\tlog_likelihood_per_token",
              57) == 0);
  int lines = 0;
  char *last = NULL;
  for (char *p = t; (p = strchr(p, '\n')); p++)
    if (p[1]) {
      lines++;
      last = p + 1;
    }
  assert_int_equal(lines, 9);
  unsigned long long it, docs, moved;
  double tll;
  assert_int_equal(sscanf(last, "%llu %llu %llu %lf", &it, &docs, &moved, &tll),
                   4);
  assert_int_equal(it, 9);
  assert_int_equal(docs, 40);
  assert_true(fabs(tll - ll) < 1e-9);
  free(t);
  tu_result r = RUN("lda", "--help");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "--top-words"));
  tu_result_free(&r);
  r = RUN("lda-infer", "--help");
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "--perplexity"));
  tu_result_free(&r);
  r = RUN("lda", "-i", path, "-k", "0");
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  r = RUN("lda", "-i", path, "--alpha", "-1");
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  r = RUN("lda-infer", "-i", path);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "no model"));
  tu_result_free(&r);
  char *junk = tu_path(dir, "junk.word-topic.tsv");
  tu_write_str(junk, "1\t0.5\t0.5\n");
  r = RUN("lda-infer", "-m", junk, "-i", path); /* not a model */
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "junk.word-topic.tsv:1: not a gasp lda model"));
  free(junk);
  tu_result_free(&r);
  free(trace);
  free(path);
}

/* A corpus through a FIFO (a pipe, <(...)): the format is told from the
 * stream itself, and no line is lost to the detection. */
static void test_corpus_from_pipe(void **state) {
  TU_NEED_BIN();
  char *dir = *state;
  char *cpath = tu_path(dir, "pipe-cpath.txt");
  free(RUN_OK("generate", "lda", "--docs", "50", "--vocab-size", "80", "-o",
              cpath, "--quiet"));
  size_t n = 0;
  char *text = tu_read_file(cpath, &n);
  assert_non_null(text);
  char *want = RUN_OK("lda", "-i", cpath, "-k", "3", "--max-iter", "2",
                      "--json", "--quiet");
  char *fifo = tu_path(dir, "cpath.fifo");
  assert_int_equal(mkfifo(fifo, 0600), 0);
  tu_child wr;
  if (tu_child_fork(&wr) == 0) {
    int fd = open(fifo, O_WRONLY);
    if (fd < 0)
      tu_child_exit(TU_RANK_FAIL("open %s: %s", fifo, strerror(errno)));
    for (size_t off = 0; off < n;) {
      ssize_t w = write(fd, text + off, n - off);
      if (w <= 0)
        tu_child_exit(TU_RANK_FAIL("write at byte %zu: %s", off,
                                   w < 0 ? strerror(errno) : "none written"));
      off += (size_t)w;
    }
    tu_child_exit(0);
  }
  char *got = RUN_OK("lda", "-i", fifo, "-k", "3", "--max-iter", "2", "--json",
                     "--quiet");
  tu_child_assert_ok(&wr, "the FIFO's writer");
  assert_true(json_num(got, "tokens") == json_num(want, "tokens"));
  assert_true(json_num(got, "documents") == json_num(want, "documents"));
  free(got);
  free(want);
  free(fifo);
  free(text);
  free(cpath);
}

/* Model headers whose sizes the file cannot back: refused on line 1,
 * before any allocation sized by them (words=W times the row size used
 * to wrap around and the rows were written past an 8-byte buffer). */
static void test_model_header_sizes(void **state) {
  TU_NEED_BIN();
  char *dir = *state;
  char *cpath = tu_path(dir, "c.triples");
  tu_write_str(cpath, "1 1 1\n1 2 1\n2 2 3\n");
  static const struct {
    const char *header;
    const char *why;
  } cases[] = {
      {"# gasp-lda topics=2 alpha=0.1 beta=0.01 words=2305843009213693953 "
       "tokens=10 values=phi\n",
       "cannot fit"},
      {"# gasp-lda topics=2 alpha=0.1 beta=0.01 words=1000 tokens=10 "
       "values=phi\n",
       "cannot fit"},
      {"# gasp-lda topics=2147483647 alpha=0.1 beta=0.01 words=1 tokens=10 "
       "values=phi\n",
       "topics"},
      {"# gasp-lda topics=99999999999999999999 alpha=0.1 beta=0.01 words=1 "
       "tokens=10 values=phi\n",
       "topics"},
  };
  char *model = tu_path(dir, "bad.word-topic.tsv");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t cap = 4096, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text, cap, "%s", cases[i].header);
    for (int w = 1; w <= 40; w++)
      n += (size_t)snprintf(text + n, cap - n, "%d\t0.5 0.5\n", w);
    tu_write_bytes(model, text, n);
    free(text);
    tu_result r = RUN("lda-infer", "-m", model, "-i", cpath, "--quiet");
    if (r.status != 2 || r.sig || !strstr(r.err, "bad.word-topic.tsv:1: ") ||
        !strstr(r.err, cases[i].why))
      fail_msg("case %zu: exit %d (signal %d): %s", i, r.status, r.sig, r.err);
    tu_result_free(&r);
  }
  /* the same rows under a truthful header load */
  char *good = tu_path(dir, "good.word-topic.tsv");
  size_t cap = 4096, n = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  n += (size_t)snprintf(text, cap,
                        "# gasp-lda topics=2 alpha=0.1 beta=0.01 "
                        "words=40 tokens=10 values=phi\n");
  for (int w = 1; w <= 40; w++)
    n += (size_t)snprintf(text + n, cap - n, "%d\t0.5 0.5\n", w);
  tu_write_bytes(good, text, n);
  free(text);
  free(RUN_OK("lda-infer", "-m", good, "-i", cpath, "--quiet"));
  free(good);
  free(model);
  free(cpath);
}

/* The shared Reuters corpus (LDA-C with its vocabulary), when present. */
static void test_reuters(void **state) {
  TU_NEED_BIN();
  const char *src = getenv("GASP_SRCDIR");
  char ldac[1024], vocab[1024];
  snprintf(ldac, sizeof ldac, "%s/../shared/data/text/lda-reuters/reuters.ldac",
           src ? src : ".");
  snprintf(vocab, sizeof vocab,
           "%s/../shared/data/text/lda-reuters/reuters.tokens",
           src ? src : ".");
  if (!src || !tu_exists(ldac) || !tu_exists(vocab)) skip();
  (void)state;
  tu_result r = RUN("lda", "-i", ldac, "--vocab", vocab, "-k", "10", "--iters",
                    "30", "--top-words", "6", "-t", "2", "--quiet");
  assert_int_equal(r.status, 0);
  int topics = 0;
  for (char *p = r.out; (p = strstr(p, "topic ")); p++)
    topics++;
  assert_int_equal(topics, 10);
  tu_result_free(&r);
}

/* KOS across ranks: AD-LDA's final assignment has a lower joint
 * likelihood than one process's (-8.13 vs -8.05 per token at 300 sweeps,
 * recomputed from the output counts), but its topics predict held-out
 * halves of documents as well: the document-completion perplexity at
 * --np 2 must be within 3% of one process's (measured: 1,790 vs 1,818 at
 * 60 sweeps; 1,685-1,698 vs 1,692-1,710 at 300, seeds 1-3). */
static double kos_perplexity(const char *dir, const char *kos, const char *np) {
  char *prefix = tu_path(dir, np[0] == '1' ? "kos1" : "kosn");
  tu_result r = RUN("lda", "-i", kos, "-k", "20", "--max-iter", "60", "-t", "1",
                    "--np", np, "--quiet", "-o", prefix);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  r = RUN("lda-infer", "-m", prefix, "-i", kos, "--perplexity", "--iters", "40",
          "--json", "--quiet");
  assert_int_equal(r.status, 0);
  double p = json_num(r.out, "perplexity");
  tu_result_free(&r);
  free(prefix);
  return p;
}

static void test_kos_heldout_across_ranks(void **state) {
  TU_NEED_BIN();
  const char *src = getenv("GASP_SRCDIR");
  char kos[1024];
  snprintf(kos, sizeof kos, "%s/../shared/data/text/uci-kos/docword.kos.txt",
           src ? src : ".");
  if (!src || !tu_exists(kos)) skip();
  double one = kos_perplexity(*state, kos, "1");
  double two = kos_perplexity(*state, kos, "2");
  fprintf(stderr, "KOS held-out perplexity: one process %.1f, --np 2 %.1f\n",
          one, two);
  assert_true(one > 1000 && one < 3000);
  if (two > 1.03 * one)
    fail_msg("--np 2 perplexity %.1f, one process %.1f", two, one);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_vs_plain_sampler, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loglik_formula, setup, teardown),
      cmocka_unit_test_setup_teardown(test_distributed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_topic_recovery_and_perplexity, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_formats_equivalent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
      cmocka_unit_test_setup_teardown(test_json_trace_help, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corpus_from_pipe, setup, teardown),
      cmocka_unit_test_setup_teardown(test_model_header_sizes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reuters, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kos_heldout_across_ranks, setup,
                                      teardown),
  };
  return cmocka_run_group_tests_name("toolkit_lda", tests, NULL, NULL);
}
