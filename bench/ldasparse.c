/*
 * ldasparse.c -- SparseLDA (Yao, Mimno, McCallum, "Efficient methods for
 * topic model inference on streaming document collections", KDD 2009),
 * one thread, for bench/lda's choice of sampler: the alternative that
 * gasp lda's dense vectorised sampler was measured against.
 *
 *   ldasparse CORPUS K ITERS SEED
 *
 * CORPUS: UCI bag-of-words (gzip read transparently); alpha = 50/K,
 * beta = 0.01.  The conditional splits into three buckets,
 *   s = sum_k alpha beta / (n_k + W beta)           (all topics)
 *   r = sum_k n_dk beta / (n_k + W beta)            (the document's topics)
 *   q = sum_k (n_dk + alpha) n_wk / (n_k + W beta)   (the word's topics),
 * with the coefficient (n_dk + alpha) / (n_k + W beta) cached per
 * document, s and r updated incrementally, the document's and each word's
 * non-zero topics kept in lists (the word's sorted by count, most first,
 * as Yao et al. do, so that the walk over q stops early).  Exact.  Prints
 *   ldasparse K=.. iters=.. tokens=.. log_likelihood_per_token=..
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

static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A word's non-zero topics, sorted by count (most first). */
typedef struct wlist {
  int n;
  int *topic, *count; /* K entries each */
} wlist;

static void wl_add(wlist *l, int k, int delta) {
  int i = 0;
  while (i < l->n && l->topic[i] != k)
    i++;
  if (i == l->n) { /* new topic */
    l->topic[i] = k;
    l->count[i] = 0;
    l->n++;
  }
  l->count[i] += delta;
  if (delta > 0) /* bubble towards the front */
    while (i > 0 && l->count[i - 1] < l->count[i]) {
      int t = l->topic[i], c = l->count[i];
      l->topic[i] = l->topic[i - 1];
      l->count[i] = l->count[i - 1];
      l->topic[i - 1] = t;
      l->count[i - 1] = c;
      i--;
    }
  else {
    while (i + 1 < l->n && l->count[i + 1] > l->count[i]) {
      int t = l->topic[i], c = l->count[i];
      l->topic[i] = l->topic[i + 1];
      l->count[i] = l->count[i + 1];
      l->topic[i + 1] = t;
      l->count[i + 1] = c;
      i++;
    }
    if (l->count[i] == 0) l->n--; /* it is last now */
  }
}

static double loglik(int D, int W, int K, double alpha, double beta,
                     const int *ndk, const wlist *wl, const int *nk,
                     const int *nd, uint64_t N) {
  double ll = K * (lgamma(W * beta) - W * lgamma(beta)) +
              D * (lgamma(K * alpha) - K * lgamma(alpha));
  for (int w = 0; w < W; w++)
    for (int i = 0; i < wl[w].n; i++)
      ll += lgamma(wl[w].count[i] + beta) - lgamma(beta);
  ll += (double)W * K * lgamma(beta);
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
    fprintf(stderr, "usage: ldasparse CORPUS K ITERS SEED\n");
    return 2;
  }
  int K = atoi(argv[2]), iters = atoi(argv[3]);
  uint64_t seed = strtoull(argv[4], NULL, 10);
  gzFile f = gzopen(argv[1], "rb");
  if (!f || K < 1) return 2;
  char line[256];
  long long hdr[3];
  int h = 0;
  while (h < 3 && gzgets(f, line, sizeof line))
    if (sscanf(line, "%lld", &hdr[h]) == 1) h++;
  int D = (int)hdr[0], W = (int)hdr[1];
  size_t cap = 1 << 20, N = 0;
  int *doc = malloc(cap * sizeof *doc), *word = malloc(cap * sizeof *word);
  while (gzgets(f, line, sizeof line)) {
    int d, w, c;
    if (sscanf(line, "%d %d %d", &d, &w, &c) != 3) continue;
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
  const double alpha = 50.0 / K, beta = 0.01, wb = W * beta;
  int *z = malloc(N * sizeof *z), *nk = calloc((size_t)K, sizeof *nk);
  int *ndk = calloc((size_t)D * K, sizeof *ndk),
      *nd = calloc((size_t)D, sizeof *nd);
  wlist *wl = calloc((size_t)W, sizeof *wl);
  for (int w = 0; w < W; w++) {
    wl[w].topic = malloc((size_t)K * sizeof(int));
    wl[w].count = malloc((size_t)K * sizeof(int));
  }
  uint64_t s = seed * 0x2545F4914F6CDD1Dull + 1;
  for (size_t i = 0; i < N; i++) {
    int k = (int)(rng_next(&s) % (uint64_t)K);
    z[i] = k;
    ndk[(size_t)doc[i] * K + k]++;
    wl_add(&wl[word[i]], k, 1);
    nk[k]++;
    nd[doc[i]]++;
  }
  double *coef = malloc((size_t)K * sizeof *coef),
         *qv = malloc((size_t)K * sizeof *qv);
  int *dtop = malloc((size_t)K * sizeof *dtop),
      *dpos = malloc((size_t)K * sizeof *dpos);
  double sampling = 0;
  for (int it = 1; it <= iters; it++) {
    double t0 = now();
    double sb = 0;
    for (int k = 0; k < K; k++)
      sb += alpha * beta / (nk[k] + wb);
    size_t i = 0;
    for (int d = 0; d < D; d++) {
      int *dk = ndk + (size_t)d * K, nt = 0;
      double rb = 0;
      for (int k = 0; k < K; k++) {
        coef[k] = (dk[k] + alpha) / (nk[k] + wb);
        dpos[k] = -1;
        if (dk[k]) {
          rb += dk[k] * beta / (nk[k] + wb);
          dpos[k] = nt;
          dtop[nt++] = k;
        }
      }
      for (; i < N && doc[i] == d; i++) {
        int w = word[i], k = z[i];
        /* remove the token */
        sb -= alpha * beta / (nk[k] + wb);
        rb -= dk[k] * beta / (nk[k] + wb);
        dk[k]--;
        nk[k]--;
        wl_add(&wl[w], k, -1);
        sb += alpha * beta / (nk[k] + wb);
        rb += dk[k] * beta / (nk[k] + wb);
        coef[k] = (dk[k] + alpha) / (nk[k] + wb);
        if (!dk[k]) { /* leaves the document's list */
          int p = dpos[k], last = dtop[--nt];
          dtop[p] = last;
          dpos[last] = p;
          dpos[k] = -1;
        }
        /* q bucket over the word's topics */
        const wlist *l = &wl[w];
        double qb = 0;
        for (int j = 0; j < l->n; j++) {
          qv[j] = coef[l->topic[j]] * l->count[j];
          qb += qv[j];
        }
        double u = (double)(rng_next(&s) >> 11) * 0x1p-53 * (sb + rb + qb);
        int nk_new = -1;
        if (u < qb) {
          int j = 0;
          while (j < l->n - 1 && u >= qv[j])
            u -= qv[j++];
          nk_new = l->topic[j];
        } else if ((u -= qb) < rb) {
          int j = 0;
          for (; j < nt - 1; j++) {
            double x = dk[dtop[j]] * beta / (nk[dtop[j]] + wb);
            if (u < x) break;
            u -= x;
          }
          nk_new = dtop[j];
        } else {
          u -= rb;
          int j = 0;
          for (; j < K - 1; j++) {
            double x = alpha * beta / (nk[j] + wb);
            if (u < x) break;
            u -= x;
          }
          nk_new = j;
        }
        k = nk_new;
        /* add it back */
        sb -= alpha * beta / (nk[k] + wb);
        rb -= dk[k] * beta / (nk[k] + wb);
        if (!dk[k]) {
          dpos[k] = nt;
          dtop[nt++] = k;
        }
        dk[k]++;
        nk[k]++;
        wl_add(&wl[w], k, 1);
        sb += alpha * beta / (nk[k] + wb);
        rb += dk[k] * beta / (nk[k] + wb);
        coef[k] = (dk[k] + alpha) / (nk[k] + wb);
        z[i] = k;
      }
    }
    sampling += now() - t0;
  }
  printf("ldasparse K=%d iters=%d tokens=%zu log_likelihood_per_token=%.6f "
         "tokens_per_second=%.0f\n",
         K, iters, N, loglik(D, W, K, alpha, beta, ndk, wl, nk, nd, N),
         sampling > 0 ? (double)N * iters / sampling : 0.0);
  for (int w = 0; w < W; w++) {
    free(wl[w].topic);
    free(wl[w].count);
  }
  free(wl);
  free(doc);
  free(word);
  free(z);
  free(nk);
  free(ndk);
  free(nd);
  free(coef);
  free(qv);
  free(dtop);
  free(dpos);
  return 0;
}
