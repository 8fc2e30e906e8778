/*
 * ldaref.c -- the reference for bench/lda: a plain, obviously exact
 * collapsed Gibbs sampler for LDA (Griffiths & Steyvers 2004), one
 * thread, independent of libgasp.
 *
 *   ldaref CORPUS K ITERS SEED [EVERY]
 *
 * CORPUS is a UCI bag-of-words file (docword.*, gzip read transparently).
 * alpha = 50/K, beta = 0.01.  Tokens are visited document by document;
 * each is removed from the counts, its full conditional
 * (n_dk + alpha)(n_wk + beta)/(n_k + W beta) computed for every topic
 * (1/(n_k + W beta) kept per topic and updated when a count moves), and a
 * topic drawn by a linear scan of the cumulative sum.  Prints, every
 * EVERY sweeps (default: only after the last), "iteration<TAB>log p(w,z)
 * per token<TAB>tokens/s", then a final line
 *   ldaref K=.. iters=.. tokens=.. log_likelihood_per_token=..
 * tokens_per_second=..
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double loglik(int D, int W, int K, double alpha, double beta,
                     const int *ndk, const int *nwk, const int *nk,
                     const int *nd, uint64_t N) {
  double ll = K * (lgamma(W * beta) - W * lgamma(beta)) +
              D * (lgamma(K * alpha) - K * lgamma(alpha));
  for (size_t i = 0; i < (size_t)W * K; i++)
    ll += lgamma(nwk[i] + beta);
  for (int k = 0; k < K; k++)
    ll -= lgamma(nk[k] + W * beta);
  for (size_t i = 0; i < (size_t)D * K; i++)
    ll += lgamma(ndk[i] + alpha);
  for (int d = 0; d < D; d++)
    ll -= lgamma(nd[d] + K * alpha);
  return ll / (double)N;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: ldaref CORPUS K ITERS SEED [EVERY]\n");
    return 2;
  }
  int K = atoi(argv[2]), iters = atoi(argv[3]);
  uint64_t seed = strtoull(argv[4], NULL, 10);
  int every = argc > 5 ? atoi(argv[5]) : 0;
  gzFile f = gzopen(argv[1], "rb");
  if (!f || K < 1 || iters < 0) {
    fprintf(stderr, "ldaref: cannot read %s or bad K/ITERS\n", argv[1]);
    return 2;
  }
  char line[256];
  long long hdr[3];
  int h = 0;
  while (h < 3 && gzgets(f, line, sizeof line))
    if (sscanf(line, "%lld", &hdr[h]) == 1) h++;
  if (h < 3) {
    fprintf(stderr, "ldaref: %s: no UCI header\n", argv[1]);
    return 2;
  }
  int D = (int)hdr[0], W = (int)hdr[1];
  size_t cap = 1 << 20, N = 0;
  int *doc = malloc(cap * sizeof *doc), *word = malloc(cap * sizeof *word);
  while (gzgets(f, line, sizeof line)) {
    int d, w, c;
    if (sscanf(line, "%d %d %d", &d, &w, &c) != 3) continue;
    if (d < 1 || d > D || w < 1 || w > W || c < 1) {
      fprintf(stderr, "ldaref: bad entry '%s'\n", line);
      return 2;
    }
    for (int k = 0; k < c; k++) {
      if (N == cap) {
        cap *= 2;
        doc = realloc(doc, cap * sizeof *doc);
        word = realloc(word, cap * sizeof *word);
      }
      doc[N] = d - 1;
      word[N++] = w - 1;
    }
  }
  gzclose(f);
  const double alpha = 50.0 / K, beta = 0.01;
  int *z = malloc(N * sizeof *z);
  int *ndk = calloc((size_t)D * K, sizeof *ndk),
      *nwk = calloc((size_t)W * K, sizeof *nwk);
  int *nk = calloc((size_t)K, sizeof *nk), *nd = calloc((size_t)D, sizeof *nd);
  double *inv = malloc((size_t)K * sizeof *inv),
         *p = malloc((size_t)K * sizeof *p);
  uint64_t s = seed * 0x2545F4914F6CDD1Dull + 1;
  for (size_t i = 0; i < N; i++) {
    int k = (int)(rng_next(&s) % (uint64_t)K);
    z[i] = k;
    ndk[(size_t)doc[i] * K + k]++;
    nwk[(size_t)word[i] * K + k]++;
    nk[k]++;
    nd[doc[i]]++;
  }
  for (int k = 0; k < K; k++)
    inv[k] = 1.0 / (nk[k] + W * beta);
  double sampling = 0;
  for (int it = 1; it <= iters; it++) {
    double t0 = now();
    for (size_t i = 0; i < N; i++) {
      int *dk = ndk + (size_t)doc[i] * K, *wk = nwk + (size_t)word[i] * K;
      int k = z[i];
      dk[k]--;
      wk[k]--;
      nk[k]--;
      inv[k] = 1.0 / (nk[k] + W * beta);
      double total = 0;
      for (int j = 0; j < K; j++) {
        total += (dk[j] + alpha) * (wk[j] + beta) * inv[j];
        p[j] = total;
      }
      double u = (double)(rng_next(&s) >> 11) * 0x1p-53 * total;
      k = 0;
      while (k < K - 1 && p[k] <= u)
        k++;
      z[i] = k;
      dk[k]++;
      wk[k]++;
      nk[k]++;
      inv[k] = 1.0 / (nk[k] + W * beta);
    }
    double dt = now() - t0;
    sampling += dt;
    if (every > 0 && (it % every == 0 || it == iters))
      printf("%d\t%.6f\t%.0f\n", it,
             loglik(D, W, K, alpha, beta, ndk, nwk, nk, nd, N), (double)N / dt);
  }
  printf("ldaref K=%d iters=%d tokens=%zu log_likelihood_per_token=%.6f "
         "tokens_per_second=%.0f\n",
         K, iters, N, loglik(D, W, K, alpha, beta, ndk, nwk, nk, nd, N),
         sampling > 0 ? (double)N * iters / sampling : 0.0);
  free(doc);
  free(word);
  free(z);
  free(ndk);
  free(nwk);
  free(nk);
  free(nd);
  free(inv);
  free(p);
  return 0;
}
