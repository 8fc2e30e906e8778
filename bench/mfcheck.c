/*
 * mfcheck.c -- an independent, plain ALS-WR (Zhou et al. 2008) for
 * checking `gasp als`: double precision throughout, dense normal equations
 * solved by Gaussian elimination with partial pivoting, serial, no shared
 * code with the toolkit.  Reads "user item rating" train and test files
 * (tab or blank separated, as `gasp split` writes them) and prints the
 * test RMSE (predictions clamped to the training rating range) after each
 * sweep, then the best.
 *
 *   mfcheck TRAIN TEST [rank=20] [lambda=0.1] [sweeps=10] [seed=1]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rt {
  uint64_t u, i;
  double r;
  size_t ui, ii; /* dense indices */
} rt;

static rt *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(2);
  }
  size_t cap = 1 << 16;
  rt *v = malloc(cap * sizeof *v);
  *n = 0;
  unsigned long long u, i;
  double r;
  while (fscanf(f, "%llu %llu %lf", &u, &i, &r) == 3) {
    if (*n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
    v[(*n)++] = (rt){u, i, r, 0, 0};
  }
  fclose(f);
  return v;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorted distinct ids of one column of the training ratings. */
static uint64_t *distinct(const rt *v, size_t n, int col, size_t *m) {
  uint64_t *ids = malloc((n ? n : 1) * sizeof *ids);
  for (size_t j = 0; j < n; j++)
    ids[j] = col ? v[j].i : v[j].u;
  qsort(ids, n, sizeof *ids, cmp_u64);
  size_t k = 0;
  for (size_t j = 0; j < n; j++)
    if (!k || ids[k - 1] != ids[j]) ids[k++] = ids[j];
  *m = k;
  return ids;
}

static long find(const uint64_t *ids, size_t m, uint64_t id) {
  size_t lo = 0, hi = m;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (ids[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < m && ids[lo] == id ? (long)lo : -1;
}

static void solve(int k, double *M, double *b, double *x) {
  for (int c = 0; c < k; c++) {
    int p = c;
    for (int r = c + 1; r < k; r++)
      if (fabs(M[r * k + c]) > fabs(M[p * k + c])) p = r;
    for (int j = 0; j < k; j++) {
      double t = M[c * k + j];
      M[c * k + j] = M[p * k + j];
      M[p * k + j] = t;
    }
    double t = b[c];
    b[c] = b[p];
    b[p] = t;
    for (int r = c + 1; r < k; r++) {
      double f = M[r * k + c] / M[c * k + c];
      for (int j = c; j < k; j++)
        M[r * k + j] -= f * M[c * k + j];
      b[r] -= f * b[c];
    }
  }
  for (int r = k - 1; r >= 0; r--) {
    double s = b[r];
    for (int j = r + 1; j < k; j++)
      s -= M[r * k + j] * x[j];
    x[r] = s / M[r * k + r];
  }
}

/* Solves every row of X (one side) from the other side Y. */
static void half(int k, double lambda, const rt *tr, size_t n, int by_item,
                 double *X, size_t nx, const double *Y) {
  double *M = malloc(sizeof(double) * (size_t)(k * k) * nx);
  double *b = calloc((size_t)k * nx, sizeof *b);
  size_t *cnt = calloc(nx, sizeof *cnt);
  memset(M, 0, sizeof(double) * (size_t)(k * k) * nx);
  for (size_t j = 0; j < n; j++) {
    size_t x = by_item ? tr[j].ii : tr[j].ui, y = by_item ? tr[j].ui : tr[j].ii;
    const double *yy = Y + y * (size_t)k;
    double *Mx = M + x * (size_t)(k * k);
    for (int a = 0; a < k; a++) {
      b[x * (size_t)k + (size_t)a] += tr[j].r * yy[a];
      for (int c = 0; c < k; c++)
        Mx[a * k + c] += yy[a] * yy[c];
    }
    cnt[x]++;
  }
  for (size_t x = 0; x < nx; x++) {
    if (!cnt[x]) continue;
    double *Mx = M + x * (size_t)(k * k);
    for (int a = 0; a < k; a++)
      Mx[a * k + a] += lambda * (double)cnt[x];
    solve(k, Mx, b + x * (size_t)k, X + x * (size_t)k);
  }
  free(M);
  free(b);
  free(cnt);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr,
            "usage: mfcheck TRAIN TEST [rank] [lambda] [sweeps] [seed]\n");
    return 2;
  }
  int k = argc > 3 ? atoi(argv[3]) : 20;
  double lambda = argc > 4 ? atof(argv[4]) : 0.1;
  int sweeps = argc > 5 ? atoi(argv[5]) : 10;
  uint64_t seed = argc > 6 ? strtoull(argv[6], NULL, 10) : 1;
  size_t n, nt, nu, ni;
  rt *tr = read_file(argv[1], &n), *te = read_file(argv[2], &nt);
  uint64_t *uids = distinct(tr, n, 0, &nu), *iids = distinct(tr, n, 1, &ni);
  double rmin = INFINITY, rmax = -INFINITY, mean = 0;
  for (size_t j = 0; j < n; j++) {
    tr[j].ui = (size_t)find(uids, nu, tr[j].u);
    tr[j].ii = (size_t)find(iids, ni, tr[j].i);
    if (tr[j].r < rmin) rmin = tr[j].r;
    if (tr[j].r > rmax) rmax = tr[j].r;
    mean += tr[j].r;
  }
  mean /= (double)(n ? n : 1);
  double *U = calloc(nu * (size_t)k, sizeof *U),
         *V = calloc(ni * (size_t)k, sizeof *V);
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 12345;
  for (size_t j = 0; j < ni * (size_t)k;
       j++) { /* xorshift64*, uniform [0, 1/sqrt k) */
    s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
    V[j] = (double)((s * 2685821657736338717ull) >> 11) / 9007199254740992.0 /
           sqrt(k);
  }
  double best = INFINITY;
  for (int it = 1; it <= sweeps; it++) {
    half(k, lambda, tr, n, 0, U, nu, V);
    half(k, lambda, tr, n, 1, V, ni, U);
    double se = 0;
    for (size_t j = 0; j < nt; j++) {
      long u = find(uids, nu, te[j].u), i = find(iids, ni, te[j].i);
      double p = mean;
      if (u >= 0 && i >= 0) {
        p = 0;
        for (int c = 0; c < k; c++)
          p += U[(size_t)u * (size_t)k + (size_t)c] *
               V[(size_t)i * (size_t)k + (size_t)c];
      }
      p = p < rmin ? rmin : p > rmax ? rmax : p;
      se += (te[j].r - p) * (te[j].r - p);
    }
    double rmse = sqrt(se / (double)(nt ? nt : 1));
    if (rmse < best) best = rmse;
    printf("sweep %d test_rmse %.4f\n", it, rmse);
  }
  printf("best_test_rmse %.4f\n", best);
  free(tr), free(te), free(uids), free(iids), free(U), free(V);
  return 0;
}
