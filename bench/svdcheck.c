/*
 * svdcheck.c -- an independent check of `gasp svd` on a ratings file:
 * the singular values of the users x items matrix as the square roots of
 * the eigenvalues of the smaller Gram matrix (A A^T or A^T A, dense,
 * double precision), by cyclic Jacobi rotations.  Serial, no shared code
 * with the toolkit.  Reads "user item rating" lines (commas, tabs or
 * blanks; a line that does not start with a number, e.g. a CSV header, is
 * skipped; repeated pairs add up) and prints the k largest.
 *
 *   svdcheck RATINGS [k=10]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rt {
  unsigned long long u, i;
  double r;
} rt;

static int by_u(const void *a, const void *b) {
  const rt *x = a, *y = b;
  return x->u < y->u ? -1 : x->u > y->u;
}
static int by_i(const void *a, const void *b) {
  const rt *x = a, *y = b;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Dense indices of the ids (sorted by cmp's key) into idx. */
static size_t densify(rt *v, size_t n, int items, size_t *idx) {
  qsort(v, n, sizeof *v, items ? by_i : by_u);
  size_t d = 0;
  for (size_t e = 0; e < n; e++) {
    unsigned long long key = items ? v[e].i : v[e].u;
    unsigned long long prev = e ? (items ? v[e - 1].i : v[e - 1].u) : 0;
    if (e && key != prev) d++;
    idx[e] = d;
  }
  return n ? d + 1 : 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: svdcheck RATINGS [k]\n");
    return 2;
  }
  int k = argc > 2 ? atoi(argv[2]) : 10;
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  size_t cap = 1 << 16, n = 0;
  rt *v = malloc(cap * sizeof *v);
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    for (char *p = line; *p; p++)
      if (*p == ',' || *p == ':' || *p == '\t') *p = ' ';
    unsigned long long u, i;
    double r;
    if (sscanf(line, "%llu %llu %lf", &u, &i, &r) != 3) continue;
    if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
    v[n++] = (rt){u, i, r};
  }
  fclose(f);
  size_t *ui = malloc(n * sizeof *ui), *ii = malloc(n * sizeof *ii);
  /* the smaller side is the Gram matrix's; group by the other */
  size_t nu = densify(v, n, 0, ui);
  rt *w = malloc(n * sizeof *w);
  for (size_t e = 0; e < n; e++)
    w[e] = (rt){ui[e], v[e].i, v[e].r}; /* u: dense user */
  size_t ni = densify(w, n, 1, ii);     /* w sorted by item */
  int small_users = nu <= ni;
  size_t m = small_users ? nu : ni;
  double *G = calloc(m * m, sizeof *G);
  /* G = A A^T (users) summed item by item, or A^T A user by user */
  if (!small_users) {
    for (size_t e = 0; e < n; e++)
      w[e].i = ii[e], w[e].u = w[e].u; /* dense both */
    qsort(w, n, sizeof *w, by_u);
  }
  for (size_t a = 0; a < n;) {
    size_t b = a;
    unsigned long long key = small_users ? w[a].i : w[a].u;
    while (b < n && (small_users ? w[b].i : w[b].u) == key)
      b++;
    for (size_t x = a; x < b; x++)
      for (size_t y = a; y < b; y++) {
        size_t p = small_users ? w[x].u : w[x].i;
        size_t q = small_users ? w[y].u : w[y].i;
        G[p * m + q] += w[x].r * w[y].r;
      }
    a = b;
  }
  for (int sweep = 0; sweep < 60; sweep++) {
    double off = 0, tot = 0;
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < m; j++) {
        tot += G[i * m + j] * G[i * m + j];
        if (i != j) off += G[i * m + j] * G[i * m + j];
      }
    if (off <= 1e-30 * tot) break;
    for (size_t p = 0; p < m; p++)
      for (size_t q = p + 1; q < m; q++) {
        double apq = G[p * m + q];
        if (fabs(apq) < 1e-300) continue;
        double tau = (G[q * m + q] - G[p * m + p]) / (2 * apq);
        double t = (tau >= 0 ? 1 : -1) / (fabs(tau) + sqrt(1 + tau * tau));
        double c = 1 / sqrt(1 + t * t), s = t * c;
        for (size_t r = 0; r < m; r++) {
          double x = G[r * m + p], y = G[r * m + q];
          G[r * m + p] = c * x - s * y;
          G[r * m + q] = s * x + c * y;
        }
        for (size_t r = 0; r < m; r++) {
          double x = G[p * m + r], y = G[q * m + r];
          G[p * m + r] = c * x - s * y;
          G[q * m + r] = s * x + c * y;
        }
      }
  }
  double *d = malloc(m * sizeof *d);
  for (size_t i = 0; i < m; i++)
    d[i] = G[i * m + i];
  for (size_t i = 1; i < m; i++)
    for (size_t j = i; j > 0 && d[j] > d[j - 1]; j--) {
      double t = d[j];
      d[j] = d[j - 1];
      d[j - 1] = t;
    }
  printf("matrix %zu x %zu, %zu entries\n", nu, ni, n);
  for (int i = 0; i < k && (size_t)i < m; i++)
    printf("%d\t%.17g\n", i + 1, sqrt(d[i] > 0 ? d[i] : 0));
  free(v);
  free(w);
  free(ui);
  free(ii);
  free(G);
  free(d);
  return 0;
}
