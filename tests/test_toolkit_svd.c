/*
 * test_toolkit_svd.c -- gasp_svd and gasp_spectral against dense
 * references written here: singular values as the square roots of the
 * eigenvalues of A^T A (cyclic Jacobi on the Gram matrix, not the
 * library's one-sided Jacobi on the small projected matrix), singular
 * vectors by their residuals and orthonormality, repeated and clustered
 * values, k above the rank, threads and ranks; spectral clustering of
 * planted blocks, its eigenvalues against the dense normalised affinity;
 * refusals of bad input through the library and the command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gasp.h"
#include "gasp_toolkits.h"
#include "testutil.h"

/* ---- dense references --------------------------------------------------- */

/* Eigenvalues of the symmetric n x n S (destroyed), descending, by cyclic
 * Jacobi rotations until the off-diagonal is negligible. */
static void ref_eig(int n, double *S, double *d) {
  for (int sweep = 0; sweep < 200; sweep++) {
    double off = 0, tot = 0;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        tot += S[i * n + j] * S[i * n + j];
        if (i != j) off += S[i * n + j] * S[i * n + j];
      }
    if (off <= 1e-30 * tot) break;
    for (int p = 0; p < n; p++)
      for (int q = p + 1; q < n; q++) {
        double apq = S[p * n + q];
        if (fabs(apq) < 1e-300) continue;
        double tau = (S[q * n + q] - S[p * n + p]) / (2 * apq);
        double t = (tau >= 0 ? 1 : -1) / (fabs(tau) + sqrt(1 + tau * tau));
        double c = 1 / sqrt(1 + t * t), s = t * c;
        for (int r = 0; r < n; r++) {
          double a = S[r * n + p], b = S[r * n + q];
          S[r * n + p] = c * a - s * b;
          S[r * n + q] = s * a + c * b;
        }
        for (int r = 0; r < n; r++) {
          double a = S[p * n + r], b = S[q * n + r];
          S[p * n + r] = c * a - s * b;
          S[q * n + r] = s * a + c * b;
        }
      }
  }
  for (int i = 0; i < n; i++)
    d[i] = S[i * n + i];
  for (int i = 0; i < n; i++) /* insertion sort, descending */
    for (int j = i; j > 0 && d[j] > d[j - 1]; j--) {
      double t = d[j];
      d[j] = d[j - 1];
      d[j - 1] = t;
    }
}

/* Singular values of the m x n A (row-major), descending: min(m, n). */
static void ref_singular(int m, int n, const double *A, double *s) {
  double *G = calloc((size_t)n * n, sizeof *G), *d = malloc(n * sizeof *d);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      for (int r = 0; r < m; r++)
        G[i * n + j] += A[r * n + i] * A[r * n + j];
  ref_eig(n, G, d);
  for (int i = 0; i < (m < n ? m : n); i++)
    s[i] = sqrt(d[i] > 0 ? d[i] : 0);
  free(G);
  free(d);
}

/* ---- matrices ---------------------------------------------------------- */

typedef struct mat {
  int m, n;
  uint64_t nnz;
  gasp_gid *r, *c; /* 1-based rows, columns */
  double *v, *A;   /* entries; dense row-major */
} mat;

static void mat_add(mat *M, int i, int j, double x) {
  M->r[M->nnz] = (gasp_gid)i + 1;
  M->c[M->nnz] = (gasp_gid)j + 1;
  M->v[M->nnz++] = x;
  M->A[(size_t)i * M->n + j] += x;
}

static mat mat_new(int m, int n, uint64_t cap) {
  mat M = {m,
           n,
           0,
           malloc(cap * sizeof(gasp_gid)),
           malloc(cap * sizeof(gasp_gid)),
           malloc(cap * sizeof(double)),
           calloc((size_t)m * n, sizeof(double))};
  return M;
}

static void mat_free(mat *M) {
  free(M->r);
  free(M->c);
  free(M->v);
  free(M->A);
}

/* m x n with each entry present with probability pct / 100, uniform in
 * [-1, 1]; a few entries given twice (they add up). */
static mat mat_random(int m, int n, int pct, uint64_t seed) {
  mat M = mat_new(m, n, (uint64_t)m * n + 64);
  tu_rng rng = {seed};
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      if ((int)tu_below(&rng, 100) < pct)
        mat_add(&M, i, j, (double)tu_below(&rng, 20001) / 10000.0 - 1.0);
  for (int q = 0; q < 20 && M.nnz; q++) {
    uint64_t e = tu_below(&rng, M.nnz);
    mat_add(&M, (int)M.r[e] - 1, (int)M.c[e] - 1, 0.25);
  }
  return M;
}

/* The graph of M: bipartite (rows left, columns right), as a rectangular
 * Matrix Market file loads. */
static gasp_graph *mat_graph(const mat *M) {
  gasp_graph *g = NULL;
  assert_int_equal(
      gasp_graph_from_coo(&g, M->nnz, M->r, M->c, M->v, 0,
                          GASP_BUILD_WEIGHTED | GASP_BUILD_BIPARTITE, 1, NULL),
      GASP_OK);
  return g;
}

static void mat_write_mtx(const mat *M, const char *path, const char *bad) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "%%%%MatrixMarket matrix coordinate real general\n%d %d %llu\n",
          M->m, M->n, (unsigned long long)M->nnz);
  for (uint64_t e = 0; e < M->nnz; e++)
    if (bad && e == M->nnz / 2)
      fprintf(f, "%llu %llu %s\n", (unsigned long long)M->r[e],
              (unsigned long long)M->c[e], bad);
    else
      fprintf(f, "%llu %llu %.17g\n", (unsigned long long)M->r[e],
              (unsigned long long)M->c[e], M->v[e]);
  fclose(f);
}

/* Runs gasp_svd on M's graph and checks it against the dense reference:
 * sigma to 1e-6 relative (zeros to 1e-8 sigma_1), the vectors
 * orthonormal and A v = sigma u, A^T u = sigma v in dense arithmetic. */
static void check_svd(const mat *M, int k, int nv, int threads, double *sig_out,
                      double *u_out) {
  gasp_graph *g = mat_graph(M);
  int m = M->m, n = M->n, N = (int)gasp_graph_num_vertices(g);
  int nl = (int)gasp_graph_num_left(g);
  /* vertices ascend with the ids: row i is local i, column j is nl + j,
   * when every row and column has an entry (the matrices here do) */
  assert_int_equal(nl, m);
  assert_int_equal(N, m + n);
  double *sig = malloc(k * sizeof *sig), *res = malloc(k * sizeof *res);
  double *u = malloc((size_t)N * k * sizeof *u), *v = malloc((size_t)N * k * 8);
  gasp_svd_opts o;
  gasp_svd_opts_init(&o);
  o.k = k;
  o.nv = nv;
  o.engine.threads = threads;
  gasp_svd_info info;
  gasp_error err;
  int rc = gasp_svd(g, &o, sig, u, v, res, &info, NULL, &err);
  if (rc) fail_msg("gasp_svd: %s", tu_err(&err));
  assert_true(info.converged);
  assert_int_equal(info.rows, (uint64_t)m);
  assert_int_equal(info.cols, (uint64_t)n);
  int mn = m < n ? m : n;
  double *ref = malloc(mn * sizeof *ref);
  ref_singular(m, n, M->A, ref);
  for (int i = 0; i < k; i++) {
    if (ref[i] > 1e-6 * ref[0]) {
      if (!(fabs(sig[i] - ref[i]) <= 1e-6 * ref[i]))
        fail_msg("sigma_%d %.15g, reference %.15g", i + 1, sig[i], ref[i]);
      /* and much better than that in fact */
      assert_true(fabs(sig[i] - ref[i]) <= 1e-9 * ref[0]);
    } else {
      assert_true(sig[i] <= 1e-8 * ref[0]);
    }
    if (!(res[i] <= 1e-8 * ref[0]))
      fail_msg("triplet %d of %d: residual %.3g, sigma %.15g", i + 1, k, res[i],
               sig[i]);
    if (i) assert_true(sig[i] <= sig[i - 1]);
  }
  assert_true(info.max_residual <= 1e-8);
  /* orthonormal columns of U (rows) and V (columns) */
  for (int a = 0; a < k; a++)
    for (int b = 0; b < k; b++) {
      double du = 0, dv = 0;
      for (int i = 0; i < m; i++)
        du += u[(size_t)i * k + a] * u[(size_t)i * k + b];
      for (int j = 0; j < n; j++)
        dv += v[(size_t)(nl + j) * k + a] * v[(size_t)(nl + j) * k + b];
      assert_true(fabs(du - (a == b)) <= 1e-9);
      assert_true(fabs(dv - (a == b)) <= 1e-9);
    }
  /* zeros off their side */
  for (int i = 0; i < m; i++)
    for (int a = 0; a < k; a++)
      assert_true(v[(size_t)i * k + a] == 0);
  /* A v_a = sigma_a u_a, A^T u_a = sigma_a v_a, in dense arithmetic */
  for (int a = 0; a < k; a++) {
    double r1 = 0, r2 = 0;
    for (int i = 0; i < m; i++) {
      double s = 0;
      for (int j = 0; j < n; j++)
        s += M->A[(size_t)i * n + j] * v[(size_t)(nl + j) * k + a];
      s -= sig[a] * u[(size_t)i * k + a];
      r1 += s * s;
    }
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int i = 0; i < m; i++)
        s += M->A[(size_t)i * n + j] * u[(size_t)i * k + a];
      s -= sig[a] * v[(size_t)(nl + j) * k + a];
      r2 += s * s;
    }
    assert_true(sqrt(r1 + r2) <= 1e-8 * ref[0]);
    assert_true(fabs(sqrt(r1 + r2) - res[a]) <= 1e-9 * ref[0]);
  }
  if (sig_out) memcpy(sig_out, sig, k * sizeof *sig);
  if (u_out) memcpy(u_out, u, (size_t)N * k * sizeof *u);
  free(ref);
  free(sig);
  free(res);
  free(u);
  free(v);
  gasp_graph_free(&g);
}

static void test_svd_random(void **state) {
  (void)state;
  mat A = mat_random(40, 25, 70, 11); /* dense-ish */
  check_svd(&A, 6, 0, 1, NULL, NULL);
  check_svd(&A, 25, 0, 1, NULL, NULL); /* every singular value */
  check_svd(&A, 3, 8, 1, NULL, NULL);  /* a small basis: many restarts */
  mat_free(&A);
  mat B = mat_random(200, 120, 5, 12); /* sparse */
  check_svd(&B, 10, 0, 1, NULL, NULL);
  mat_free(&B);
  /* the transpose shape: more columns than rows */
  mat C = mat_random(30, 70, 20, 13);
  check_svd(&C, 8, 0, 1, NULL, NULL);
  mat_free(&C);
}

/* Ratings-like: 80 users each rating 6 .. 15 of 50 items 1 .. 5. */
static void test_svd_ratings(void **state) {
  (void)state;
  mat R = mat_new(80, 50, 80 * 50);
  tu_rng rng = {21};
  for (int i = 0; i < R.m; i++) {
    int c = 6 + (int)tu_below(&rng, 10);
    for (int q = 0; q < c; q++) {
      int j = (i * 7 + q * 13 + (int)tu_below(&rng, 3)) % R.n;
      if (R.A[(size_t)i * R.n + j] != 0) continue;
      mat_add(&R, i, j, 1 + (double)tu_below(&rng, 5));
    }
  }
  for (int j = 0; j < R.n; j++) /* every item rated */
    if (R.A[j] == 0) mat_add(&R, 0, j, 3);
  check_svd(&R, 10, 0, 1, NULL, NULL);
  mat_free(&R);
}

/* Repeated and clustered values: a permuted diagonal 30 x 20 with 5
 * three times, 4 twice, 4 + 1e-7 and a tail.  A Krylov space from one
 * vector sees each distinct value once; the repeats come from the
 * restarts after a breakdown. */
static void test_svd_repeated(void **state) {
  (void)state;
  double d[20] = {5, 5,   5,   4,   4,   4 + 1e-7, 3,   2.5, 2,   1.5,
                  1, 0.9, 0.8, 0.7, 0.6, 0.5,      0.4, 0.3, 0.2, 0.1};
  mat M = mat_new(30, 20, 64);
  for (int j = 0; j < 20; j++)
    mat_add(&M, (j * 7) % 30, (j * 3) % 20, (j & 1) ? -d[j] : d[j]);
  /* rows without entries would be no vertices: the 10 empty ones get an
   * entry 0 */
  for (int i = 0; i < 30; i++) {
    int has = 0;
    for (int j = 0; j < 20; j++)
      has |= M.A[(size_t)i * 20 + j] != 0;
    if (!has) mat_add(&M, i, 0, 0.0);
  }
  check_svd(&M, 6, 0, 1, NULL, NULL);
  check_svd(&M, 12, 0, 1, NULL, NULL);
  mat_free(&M);
}

/* Rank 3, k = 6: three zero singular values, found through breakdowns. */
static void test_svd_low_rank(void **state) {
  (void)state;
  mat M = mat_new(30, 20, 30 * 20);
  tu_rng rng = {31};
  double a[3][30], b[3][20];
  for (int q = 0; q < 3; q++) {
    for (int i = 0; i < 30; i++)
      a[q][i] = (double)tu_below(&rng, 2001) / 1000.0 - 1;
    for (int j = 0; j < 20; j++)
      b[q][j] = (double)tu_below(&rng, 2001) / 1000.0 - 1;
  }
  for (int i = 0; i < 30; i++)
    for (int j = 0; j < 20; j++)
      mat_add(&M, i, j,
              a[0][i] * b[0][j] + 0.5 * a[1][i] * b[1][j] +
                  0.1 * a[2][i] * b[2][j]);
  check_svd(&M, 6, 0, 1, NULL, NULL);
  mat_free(&M);
}

/* A square matrix as a plain graph (every vertex a row and a column, as
 * a square Matrix Market file loads), with a diagonal: the values against
 * the reference, the vectors by their residuals in dense arithmetic. */
static void test_svd_square(void **state) {
  (void)state;
  mat M = mat_random(50, 50, 10, 81);
  for (int i = 0; i < 50; i++)
    mat_add(&M, i, i, 0.5 + 0.01 * i);
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_from_coo(&g, M.nnz, M.r, M.c, M.v, 0,
                                       GASP_BUILD_WEIGHTED, 1, NULL),
                   GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(g), 50);
  enum { K = 7 };
  double sig[K], res[K], *u = malloc(50 * K * 8), *v = malloc(50 * K * 8);
  gasp_svd_opts o;
  gasp_svd_opts_init(&o);
  o.k = K;
  gasp_svd_info info;
  gasp_error err;
  int rc = gasp_svd(g, &o, sig, u, v, res, &info, NULL, &err);
  if (rc) fail_msg("gasp_svd: %s", tu_err(&err));
  assert_true(info.converged);
  assert_int_equal(info.rows, 50);
  assert_int_equal(info.cols, 50);
  double ref[50];
  ref_singular(50, 50, M.A, ref);
  for (int a = 0; a < K; a++) {
    assert_true(fabs(sig[a] - ref[a]) <= 1e-9 * ref[0]);
    double r = 0; /* ||A v - sigma u||^2 + ||A^T u - sigma v||^2 */
    for (int i = 0; i < 50; i++) {
      double s1 = -sig[a] * u[i * K + a], s2 = -sig[a] * v[i * K + a];
      for (int j = 0; j < 50; j++) {
        s1 += M.A[i * 50 + j] * v[j * K + a];
        s2 += M.A[j * 50 + i] * u[j * K + a];
      }
      r += s1 * s1 + s2 * s2;
    }
    assert_true(sqrt(r) <= 1e-8 * ref[0]);
  }
  free(u);
  free(v);
  gasp_graph_free(&g);
  mat_free(&M);
}

/* The same bits on 1 and 2 threads. */
static void test_svd_threads(void **state) {
  (void)state;
  mat M = mat_random(90, 60, 15, 41);
  int N = 150, k = 5;
  double s1[5], s2[5];
  double *u1 = malloc((size_t)N * k * 8), *u2 = malloc((size_t)N * k * 8);
  check_svd(&M, k, 0, 1, s1, u1);
  check_svd(&M, k, 0, 2, s2, u2);
  assert_memory_equal(s1, s2, sizeof s1);
  assert_memory_equal(u1, u2, (size_t)N * k * 8);
  free(u1);
  free(u2);
  mat_free(&M);
}

static void test_svd_refusals(void **state) {
  (void)state;
  mat M = mat_random(12, 8, 60, 51);
  gasp_graph *g = mat_graph(&M);
  double sig[16];
  gasp_svd_opts o;
  gasp_svd_opts_init(&o);
  gasp_error err;
  o.k = 0;
  assert_int_equal(gasp_svd(g, &o, sig, NULL, NULL, NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  o.k = 9; /* min(12, 8) = 8 */
  assert_int_equal(gasp_svd(g, &o, sig, NULL, NULL, NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  assert_non_null(strstr(err.msg, "min(rows 12, columns 8)"));
  o.k = 4;
  o.nv = 4; /* not more than k */
  assert_int_equal(gasp_svd(g, &o, sig, NULL, NULL, NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  o.nv = 0;
  o.engine.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_svd(g, &o, sig, NULL, NULL, NULL, NULL, NULL, &err),
                   GASP_ENOTSUP);
  gasp_graph_free(&g);
  /* no values */
  assert_int_equal(gasp_graph_from_coo(&g, M.nnz, M.r, M.c, NULL, 0,
                                       GASP_BUILD_BIPARTITE, 1, NULL),
                   GASP_OK);
  gasp_svd_opts_init(&o);
  o.k = 2;
  assert_int_equal(gasp_svd(g, &o, sig, NULL, NULL, NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  gasp_graph_free(&g);
  /* k = min(m, n) = nv works: the whole space */
  g = mat_graph(&M);
  o.k = 8;
  gasp_svd_info info;
  assert_int_equal(gasp_svd(g, &o, sig, NULL, NULL, NULL, &info, NULL, &err),
                   GASP_OK);
  assert_true(info.converged);
  double ref[8];
  ref_singular(12, 8, M.A, ref);
  for (int i = 0; i < 8; i++)
    assert_true(fabs(sig[i] - ref[i]) <= 1e-9 * ref[0]);
  gasp_graph_free(&g);
  mat_free(&M);
}

/* The command: singular values from -o on 1 and 2 ranks against the
 * reference; vectors written; bad files refused with status 2. */
static void test_svd_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  mat M = mat_random(60, 40, 25, 61);
  char *dir = tu_mkdtemp();
  char *mtx = tu_path(dir, "A.mtx"), *out = tu_path(dir, "s.tsv");
  char *vec = tu_path(dir, "vec"), *bad = tu_path(dir, "bad.mtx");
  char *pat = tu_path(dir, "pat.mtx");
  mat_write_mtx(&M, mtx, NULL);
  mat_write_mtx(&M, bad, "abc");
  tu_write_str(pat, "%%MatrixMarket matrix coordinate pattern general\n"
                    "3 2 2\n1 1\n3 2\n");
  double ref[40], one[7];
  ref_singular(60, 40, M.A, ref);
  for (int np = 1; np <= 2; np++) {
    char nps[8];
    snprintf(nps, sizeof nps, "%d", np);
    const char *args[] = {"svd",  "-i", mtx,         "-k", "7",
                          "-o",   out,  "--vectors", vec,  "--json",
                          "--np", nps,  "-t",        "1",  NULL};
    tu_result r = tu_gasp_runv(args);
    if (r.status != 0) fail_msg("np %d: %s", np, r.err);
    assert_non_null(strstr(r.out, "\"converged\":true"));
    assert_true(tu_json_num(r.out, "rows") == 60);
    assert_true(tu_json_num(r.out, "columns") == 40);
    tu_result_free(&r);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    for (int i = 0; i < 7; i++) {
      int idx;
      double s, res;
      assert_int_equal(fscanf(f, "%d\t%lf\t%lf", &idx, &s, &res), 3);
      assert_int_equal(idx, i + 1);
      if (!(fabs(s - ref[i]) <= 1e-9 * ref[0]))
        fail_msg("np %d: sigma_%d %.15g, reference %.15g", np, i + 1, s,
                 ref[i]);
      assert_true(res <= 1e-8 * ref[0]);
      /* 2 ranks: one process's values up to summation order */
      if (np == 1)
        one[i] = s;
      else
        assert_true(fabs(s - one[i]) <= 1e-12 * one[0]);
    }
    fclose(f);
    /* U: one line per row, 7 values; V: one per column */
    char *pu = tu_path(dir, "vec.U"), *pv = tu_path(dir, "vec.V");
    size_t len;
    char *tu = tu_read_file(pu, &len), *tv = tu_read_file(pv, &len);
    int lu = 0, lv = 0;
    for (char *p = tu; *p; p++)
      lu += *p == '\n';
    for (char *p = tv; *p; p++)
      lv += *p == '\n';
    assert_int_equal(lu, 60);
    assert_int_equal(lv, 40);
    assert_true(strncmp(tu, "1\t", 2) == 0);
    free(tu);
    free(tv);
    free(pu);
    free(pv);
  }
  const char *badv[] = {"svd", "-i", bad, "-k", "3", NULL};
  tu_result r = tu_gasp_runv(badv);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "bad.mtx:"));
  tu_result_free(&r);
  const char *patv[] = {"svd", "-i", pat, "-k", "1", NULL};
  r = tu_gasp_runv(patv);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "no weights"));
  tu_result_free(&r);
  const char *bigk[] = {"svd", "-i", mtx, "-k", "41", NULL};
  r = tu_gasp_runv(bigk);
  assert_int_equal(r.status, 2);
  assert_non_null(strstr(r.err, "min(rows 60, columns 40)"));
  tu_result_free(&r);
  const char *zerok[] = {"svd", "-i", mtx, "-k", "0", NULL};
  r = tu_gasp_runv(zerok);
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  free(mtx);
  free(out);
  free(vec);
  free(bad);
  free(pat);
  tu_rmtree(dir);
  mat_free(&M);
}

/* ---- spectral clustering ------------------------------------------------ */

/* 4 blocks (sizes 10, 12, 15, 9), edges inside with probability 0.7,
 * three edges between blocks, ids 0 .. 45, then two isolated vertices
 * 46 and 47 (one with a self loop only). */
typedef struct blocks {
  int n;
  uint64_t m;
  gasp_gid src[4096], dst[4096];
  double w[4096];
  int truth[48];
} blocks;

static void make_blocks(blocks *B) {
  static const int size[4] = {10, 12, 15, 9};
  tu_rng rng = {71};
  int base = 0;
  B->m = 0;
  for (int b = 0; b < 4; b++) {
    for (int i = 0; i < size[b]; i++) {
      B->truth[base + i] = b;
      for (int j = i + 1; j < size[b]; j++)
        if (tu_below(&rng, 10) < 7) {
          B->src[B->m] = (gasp_gid)(base + i);
          B->dst[B->m] = (gasp_gid)(base + j);
          B->w[B->m++] = 1 + (double)tu_below(&rng, 3);
        }
    }
    base += size[b];
  }
  gasp_gid x[3][2] = {{0, 10}, {12, 30}, {25, 40}};
  for (int q = 0; q < 3; q++) {
    B->src[B->m] = x[q][0];
    B->dst[B->m] = x[q][1];
    B->w[B->m++] = 1;
  }
  B->src[B->m] = 47; /* a self loop: still isolated */
  B->dst[B->m] = 47;
  B->w[B->m++] = 5;
  B->truth[46] = B->truth[47] = -1;
  B->n = 48;
}

static gasp_graph *blocks_graph(const blocks *B) {
  gasp_graph *g = NULL;
  assert_int_equal(gasp_graph_from_coo(&g, B->m, B->src, B->dst, B->w, 48,
                                       GASP_BUILD_WEIGHTED, 1, NULL),
                   GASP_OK);
  assert_int_equal(gasp_graph_num_vertices(g), 48);
  return g;
}

/* The labels equal the truth up to a permutation. */
static void assert_same_partition(const uint32_t *c, const int *truth, int n,
                                  int k) {
  int map[16];
  for (int i = 0; i < k; i++)
    map[i] = -1;
  for (int v = 0; v < n; v++) {
    if (truth[v] < 0) {
      assert_int_equal(c[v], GASP_SPECTRAL_NONE);
      continue;
    }
    assert_true(c[v] < (uint32_t)k);
    if (map[truth[v]] < 0) map[truth[v]] = (int)c[v];
    if (map[truth[v]] != (int)c[v])
      fail_msg("vertex %d in cluster %u, its block in %d", v, c[v],
               map[truth[v]]);
  }
  for (int a = 0; a < k; a++)
    for (int b = a + 1; b < k; b++)
      assert_int_not_equal(map[a], map[b]);
}

static void test_spectral(void **state) {
  (void)state;
  blocks *B = malloc(sizeof *B);
  make_blocks(B);
  gasp_graph *g = blocks_graph(B);
  /* the dense normalised affinity over the 46 vertices with edges */
  int n = 46;
  double *W = calloc((size_t)n * n, sizeof *W), deg[46] = {0};
  for (uint64_t e = 0; e < B->m; e++) {
    int a = (int)B->src[e], b = (int)B->dst[e];
    if (a == b) continue;
    W[a * n + b] += 0.5 * B->w[e];
    W[b * n + a] += 0.5 * B->w[e];
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      deg[i] += W[i * n + j];
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      W[i * n + j] /= sqrt(deg[i] * deg[j]);
  double ref[46];
  ref_eig(n, W, ref);
  uint32_t c1[48], c2[48];
  double ev[4], emb[48 * 4];
  for (int t = 1; t <= 2; t++) {
    gasp_spectral_opts o;
    gasp_spectral_opts_init(&o);
    o.k = 4;
    o.engine.threads = t;
    gasp_spectral_info info;
    gasp_error err;
    int rc = gasp_spectral(g, &o, t == 1 ? c1 : c2, ev, emb, &info, NULL, &err);
    if (rc) fail_msg("gasp_spectral: %s", tu_err(&err));
    assert_true(info.converged);
    assert_int_equal(info.isolated, 2);
    assert_int_equal(info.vertices, 48);
    for (int i = 0; i < 4; i++)
      if (!(fabs(ev[i] - ref[i]) <= 1e-9))
        fail_msg("eigenvalue %d: %.15g, reference %.15g", i, ev[i], ref[i]);
    assert_true(fabs(ev[0] - 1) <= 1e-12); /* connected: the top is 1 */
    assert_true(ref[4] < ev[3] - 0.05);    /* a gap after the 4th */
    assert_same_partition(t == 1 ? c1 : c2, B->truth, 48, 4);
    for (int v = 0; v < 46; v++) { /* unit rows */
      double s = 0;
      for (int i = 0; i < 4; i++)
        s += emb[v * 4 + i] * emb[v * 4 + i];
      assert_true(fabs(s - 1) <= 1e-12);
    }
    assert_true(info.objective >= 0 && info.objective < 1);
  }
  assert_memory_equal(c1, c2, sizeof c1);
  /* refusals: more clusters than vertices with edges; async; a negative
   * weight */
  gasp_spectral_opts o;
  gasp_spectral_opts_init(&o);
  gasp_error err;
  o.k = 47;
  assert_int_equal(gasp_spectral(g, &o, c1, NULL, NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  o.k = 0;
  assert_int_equal(gasp_spectral(g, &o, c1, NULL, NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  o.k = 2;
  o.engine.engine = GASP_ENGINE_ASYNC;
  assert_int_equal(gasp_spectral(g, &o, c1, NULL, NULL, NULL, NULL, &err),
                   GASP_ENOTSUP);
  gasp_graph_free(&g);
  B->w[3] = -1;
  g = blocks_graph(B);
  gasp_spectral_opts_init(&o);
  assert_int_equal(gasp_spectral(g, &o, c1, NULL, NULL, NULL, NULL, &err),
                   GASP_EINVAL);
  assert_non_null(strstr(err.msg, "negative"));
  gasp_graph_free(&g);
  free(W);
  free(B);
}

/* The command on 1 and 2 ranks: the planted blocks, isolated -1. */
static void test_spectral_cli(void **state) {
  (void)state;
  TU_NEED_BIN();
  blocks *B = malloc(sizeof *B);
  make_blocks(B);
  char *dir = tu_mkdtemp();
  char *el = tu_path(dir, "g.el"), *out = tu_path(dir, "c.tsv");
  FILE *f = fopen(el, "w");
  for (uint64_t e = 0; e < B->m; e++)
    fprintf(f, "%llu %llu %g\n", (unsigned long long)B->src[e],
            (unsigned long long)B->dst[e], B->w[e]);
  fprintf(f, "46 46 1\n"); /* 46: a self loop only */
  fclose(f);
  for (int np = 1; np <= 2; np++) {
    char nps[8];
    snprintf(nps, sizeof nps, "%d", np);
    const char *args[] = {"spectral", "-i",   el,  "-k", "4", "-o", out,
                          "--json",   "--np", nps, "-t", "1", NULL};
    tu_result r = tu_gasp_runv(args);
    if (r.status != 0) fail_msg("np %d: %s", np, r.err);
    assert_true(tu_json_num(r.out, "isolated") == 2);
    assert_non_null(strstr(r.out, "\"eigenvalues\":[1"));
    tu_result_free(&r);
    uint32_t c[48];
    f = fopen(out, "r");
    for (int v = 0; v < 48; v++) {
      unsigned long long id;
      long long cl;
      assert_int_equal(fscanf(f, "%llu\t%lld", &id, &cl), 2);
      assert_int_equal(id, (unsigned long long)v);
      c[v] = cl < 0 ? GASP_SPECTRAL_NONE : (uint32_t)cl;
    }
    fclose(f);
    assert_same_partition(c, B->truth, 48, 4);
  }
  const char *bad[] = {"spectral", "-i", el, "-k", "47", NULL};
  tu_result r = tu_gasp_runv(bad);
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  free(el);
  free(out);
  tu_rmtree(dir);
  free(B);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_svd_random),   cmocka_unit_test(test_svd_ratings),
      cmocka_unit_test(test_svd_repeated), cmocka_unit_test(test_svd_low_rank),
      cmocka_unit_test(test_svd_square),   cmocka_unit_test(test_svd_threads),
      cmocka_unit_test(test_svd_refusals), cmocka_unit_test(test_svd_cli),
      cmocka_unit_test(test_spectral),     cmocka_unit_test(test_spectral_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
