/*
 * cmd_mf.c -- `gasp als` and `gasp sgd`: matrix factorization of a
 * ratings matrix as vertex programs on the bipartite ratings graph (users
 * on the left, items on the right, one edge per rating), in the manner of
 * GraphLab's collaborative-filtering toolkit.
 *
 * Schedule.  Both methods run on the synchronous engine and update one
 * side at a time: a half-step signals every user (then every item), each
 * gathers over its ratings reading the other side's vectors, and apply
 * writes the vertex's own vector.  A bipartite graph is 2-colourable, so
 * this is exactly the chromatic edge-consistent schedule: within a half
 * step no two updated vertices are adjacent, nothing is locked, nothing
 * races, and the result does not depend on the number of threads.
 *
 *  - ALS (weighted-lambda regularisation, Zhou et al. 2008): the gather
 *    builds the vertex's normal equations (sum y y^T, sum r y) in per-thread
 *    scratch and solves (A + lambda n_u I) x = b by Cholesky; the
 *    accumulator carries the solved vector, so a superstep holds k floats
 *    per vertex rather than k^2.  --implicit ALPHA: Hu, Koren and Volinsky
 *    2008, confidence 1 + ALPHA r, preference 1 on observed entries, ridge
 *    lambda, and the other side's Y^T Y computed once per half-step.
 *
 *  - SGD (and --biased, mean + user and item biases): per-rating SGD
 *    writes both ends of a rating, which needs full consistency; on a
 *    ratings graph a user's 2-hop neighbourhood is nearly every user, so a
 *    full-consistency schedule is serial and lock-free Hogwild updates are
 *    data races.  Instead a half-step runs, for every user at once, an SGD
 *    pass over its ratings with the item vectors fixed (the user's vector
 *    stays in registers), then every item does the same with users fixed:
 *    block-coordinate SGD on the same objective as LIBMF's (squared error
 *    plus lambda |p|^2 + lambda |q|^2 per rating).  Each pass starts at a
 *    pseudo-random rating of the vertex (varied per epoch); the learning
 *    rate falls by --decay each epoch.
 *
 * Train RMSE is computed on the item half-step from the final vectors
 * (exact, at the cost of one more dot product per rating); test RMSE by
 * predicting every test pair, clamped to the training rating range.
 */
#include "mf.h"
#include "mf_model.h"
#include "toolkit.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mf_thread {
  double sse;
  uint64_t n;
  float *A, *b;
  double *Ad, *bd, *x;
} mf_thread;

typedef struct test_set {
  uint64_t n;
  gasp_vid *u, *i; /* GASP_VID_NONE when unknown */
  float *r;
  uint64_t unknown_users, unknown_items, unknown_pairs;
} test_set;

#define NONE UINT32_MAX

typedef struct mf {
  int als, implicit, biased;
  int k, kp, stride;
  double lambda, alpha, lr, decay, lambda_bias;
  int top_n_metric;
  uint64_t seed, epoch;
  gasp_graph *g; /* the whole ratings graph (every rank has it) */
  gasp_vid nl, nv;
  /* across ranks: 1 for the users among the local vertices (owned users,
   * owned items, ghost users, ghost items); NULL on one process, where
   * users are 0 .. nl-1 */
  const uint8_t *user;
  gasp_vid own_users, owned; /* vertices updated by the half-steps */
  float *F;                  /* vertex data */
  float *r;                  /* rating by edge slot */
  float *r_in;               /* rating by in-edge position */
  gasp_adjacency in, out;
  mf_sgd_par sp;
  double *yty; /* implicit: k x k of the side not being updated */
  mf_thread *th;
  int threads;
  double mean, rmin, rmax;
  test_set test;
  struct mf_gpu *gpu; /* ALS on the device, NULL otherwise */
  char gpu_err[256];
} mf;

static inline int is_user(const mf *m, gasp_vid v) {
  return m->user ? m->user[v] : v < m->nl;
}

static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* ---- the vertex program ------------------------------------------------ */

static void mf_init(gasp_ctx *ctx, void *vd) {
  const mf *m = gasp_ctx_user(ctx);
  float *x = vd;
  gasp_vid v = gasp_ctx_vertex(ctx);
  uint64_t h =
      mix64(m->seed * 0x9e3779b97f4a7c15ull ^ mix64(gasp_ctx_gid(ctx)) ^
            (is_user(m, v) ? 0 : 0x5555555555555555ull));
  float scale = 1.0f / sqrtf((float)m->k);
  for (int c = 0; c < m->k; c++) {
    h = mix64(h + 0x9e3779b97f4a7c15ull);
    x[c] = (float)((h >> 40) * (1.0 / 16777216.0)) * scale;
  }
}

static gasp_dir mf_edges(const gasp_ctx *ctx, const void *vd) {
  const mf *m = gasp_ctx_user(ctx);
  return is_user(m, gasp_ctx_vertex(ctx)) ? GASP_DIR_OUT : GASP_DIR_IN;
}

/* A vertex's ratings: users read theirs in edge-slot order, items in
 * in-edge order from the copy r_in (contiguous, no gather through the
 * slot map). */
static void nbrs_of(const mf *m, gasp_vid v, const gasp_nbrs *n, mf_nbrs *nb,
                    const float **r) {
  if (is_user(m, v)) {
    *nb = (mf_nbrs){n->n_out, n->out, NULL, n->out_slot0};
    *r = m->r;
  } else {
    *nb = (mf_nbrs){n->n_in, n->in, NULL, m->in.off[v]};
    *r = m->r_in;
  }
}

static void als_solve(const mf *m, mf_thread *t, const float *self,
                      const mf_nbrs *nb, const float *r, float *x) {
  int k = m->k, kp = m->kp;
  memcpy(x, self, (size_t)m->stride * sizeof *x);
  if (nb->n == 0 && !m->implicit) return; /* nothing to fit: keep */
  mf_normal_eq(k, m->stride, m->F, nb, r, m->implicit ? m->alpha : 0, t->A,
               t->b);
  for (int i = 0; i < k; i++) {
    for (int j = 0; j < k; j++)
      t->Ad[i * k + j] = (double)t->A[(size_t)i * (size_t)kp + (size_t)j] +
                         (m->implicit ? m->yty[i * k + j] : 0);
    t->bd[i] = t->b[i];
  }
  double ridge = m->implicit ? m->lambda : m->lambda * (double)nb->n;
  if (mf_cholesky_solve(k, t->Ad, ridge, t->bd, t->x)) return;
  for (int i = 0; i < k; i++)
    x[i] = (float)t->x[i];
}

static void mf_gather(const gasp_ctx *ctx, const void *vd, const gasp_nbrs *n,
                      void *acc) {
  const mf *m = gasp_ctx_user(ctx);
  mf_thread *t = &m->th[gasp_ctx_thread(ctx)];
  gasp_vid v = gasp_ctx_vertex(ctx);
  mf_nbrs nb;
  const float *r;
  nbrs_of(m, v, n, &nb, &r);
  float *x = acc;
  if (m->als) {
    als_solve(m, t, vd, &nb, r, x);
  } else {
    memcpy(x, vd, (size_t)m->stride * sizeof *x);
    if (nb.n) {
      size_t start = mix64(gasp_ctx_gid(ctx) * 31 +
                           m->epoch * 0x9e3779b97f4a7c15ull + is_user(m, v)) %
                     nb.n;
      mf_sgd_pass(&m->sp, x, m->F, &nb, r, start);
    }
  }
  if (!is_user(m, v) && !m->implicit) { /* end of the sweep: training error */
    t->sse += mf_sse(&m->sp, x, m->F, &nb, r);
    t->n += nb.n;
  }
}

static void mf_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  const mf *m = gasp_ctx_user(ctx);
  memcpy(vd, acc, (size_t)m->stride * sizeof(float));
}

/* ---- ALS on the device ---------------------------------------------------
 *
 * With a CUDA device (--gpu auto/on; one process) the ALS program has no
 * CPU gather: its device apply solves each batch of a half-step on the
 * device (mf_gpu.cu), building the normal equations there from the
 * factor matrix kept resident (only the batch's ids go over, and its new
 * rows come back into the vertex data).  The engine runs with --gpu on,
 * so a device that cannot be opened fails the run instead of reaching
 * the (absent) CPU apply. */

static void mf_apply_device_only(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)ctx, (void)vd, (void)acc; /* never called: the engine has --gpu on */
}

#ifdef GASP_TOOLKIT_CUDA
#include "mf_gpu.h"

static int als_device_apply(const gasp_device_batch *b) {
  mf *m = b->user;
  return mf_gpu_solve(m->gpu, b->vid, b->n, b->vertex, b->pitch, b->stream,
                      m->gpu_err, sizeof m->gpu_err);
}

/* Uploads the factors and both sides' ratings as one CSR over the local
 * vertices: users' out-edges, then items' in-edges. */
static int als_gpu_open(mf *m) {
  uint64_t E = m->out.num_edges, nv = m->nv;
  uint64_t *off = malloc((nv + 1) * sizeof *off);
  gasp_vid *nbr = malloc((2 * E + 1) * sizeof *nbr);
  float *r = malloc((2 * E + 1) * sizeof *r);
  int rc = -1;
  if (off && nbr && r) {
    for (gasp_vid v = 0; v <= nv; v++)
      off[v] = v <= m->nl ? m->out.off[v] : E + m->in.off[v];
    memcpy(nbr, m->out.nbr, E * sizeof *nbr);
    memcpy(nbr + E, m->in.nbr, E * sizeof *nbr);
    memcpy(r, m->r, E * sizeof *r);
    memcpy(r + E, m->r_in, E * sizeof *r);
    mf_gpu_graph gg = {m->k, m->stride, nv, m->F, off, nbr, r};
    rc = mf_gpu_new(&m->gpu, &gg, m->gpu_err, sizeof m->gpu_err);
  } else {
    snprintf(m->gpu_err, sizeof m->gpu_err, "out of memory");
  }
  free(off);
  free(nbr);
  free(r);
  return rc;
}
#endif

/* Training error after an item half-step run on the device (the CPU
 * gather adds it up as it goes). */
static void sse_item(void *user, uint64_t i, int tid, void *part) {
  (void)tid;
  const mf *m = user;
  gasp_vid v = m->nl + (gasp_vid)i;
  mf_nbrs nb = {m->in.off[v + 1] - m->in.off[v], m->in.nbr + m->in.off[v], NULL,
                m->in.off[v]};
  double *sn = part;
  sn[0] +=
      mf_sse(&m->sp, m->F + (size_t)v * (size_t)m->stride, m->F, &nb, m->r_in);
  sn[1] += (double)nb.n;
}

static void add_doubles2(void *out, const void *part, void *user) {
  (void)user;
  ((double *)out)[0] += ((const double *)part)[0];
  ((double *)out)[1] += ((const double *)part)[1];
}

static int train_sse(mf *m, gasp_engine *e) {
  double sn[2];
  if (gasp_engine_map(e, m->nv - m->nl, 64, sse_item, sizeof sn, add_doubles2,
                      m, sn)) {
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  m->th[0].sse = sn[0];
  m->th[0].n = (uint64_t)sn[1];
  return 0;
}

/* ---- evaluation --------------------------------------------------------- */

static double clamp(const mf *m, double p) {
  return p < m->rmin ? m->rmin : p > m->rmax ? m->rmax : p;
}

static double predict(const mf *m, gasp_vid u, gasp_vid i) {
  if (u != NONE && i != NONE)
    return clamp(m, mf_predict(&m->sp, m->F + (size_t)u * (size_t)m->stride,
                               m->F + (size_t)i * (size_t)m->stride));
  double p = m->mean;
  if (m->biased && u != NONE)
    p += m->F[(size_t)u * (size_t)m->stride + (size_t)m->kp];
  if (m->biased && i != NONE)
    p += m->F[(size_t)i * (size_t)m->stride + (size_t)m->kp];
  return clamp(m, p);
}

static void rmse_item(void *user, uint64_t j, int tid, void *part) {
  (void)tid;
  const mf *m = user;
  const test_set *t = &m->test;
  double e = t->r[j] - predict(m, t->u[j], t->i[j]);
  *(double *)part += e * e;
}

static void add_double(void *out, const void *part, void *user) {
  (void)user;
  *(double *)out += *(const double *)part;
}

static double test_rmse(const mf *m, gasp_engine *e) {
  const test_set *t = &m->test;
  double s = 0;
  if (gasp_engine_map(e, t->n, 0, rmse_item, sizeof s, add_double, (void *)m,
                      &s))
    return NAN;
  return t->n ? sqrt(s / (double)t->n) : NAN;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Implicit feedback: for each test user, every item the user did not rate
 * in training is scored; a held-out item's percentile rank is the
 * fraction of those candidates scoring higher (Hu et al.'s expected
 * percentile ranking: 0 is perfect, 0.5 is random).  Recall@N: held-out
 * items among the user's N best candidates over min(N, held-out items).
 * Test pairs are sorted by user (the test set is read from a graph); the
 * item that starts a user's run scores them all. */
typedef struct rank_job {
  const mf *m;
  float **score;  /* per worker: a score per item */
  uint64_t **pos; /* per worker: held-out items' positions */
} rank_job;

typedef struct rank_sums {
  double rank_sum, rec_sum, ranked, users;
} rank_sums;

static void rank_item(void *user, uint64_t j0, int tid, void *part) {
  const rank_job *rj = user;
  const mf *m = rj->m;
  const test_set *t = &m->test;
  rank_sums *r = part;
  float *score = rj->score[tid];
  uint64_t *pos = rj->pos[tid];
  gasp_vid u = t->u[j0];
  if (u == NONE || (j0 > 0 && t->u[j0 - 1] == u)) return;
  uint64_t j1 = j0;
  while (j1 < t->n && t->u[j1] == u)
    j1++;
  const float *x = m->F + (size_t)u * (size_t)m->stride;
  for (gasp_vid i = m->nl; i < m->nv; i++)
    score[i - m->nl] =
        mf_predict(&m->sp, x, m->F + (size_t)i * (size_t)m->stride);
  /* training items are not candidates */
  for (uint64_t e = m->out.off[u]; e < m->out.off[u + 1]; e++)
    score[m->out.nbr[e] - m->nl] = -INFINITY;
  uint64_t cand = 0;
  for (gasp_vid i = m->nl; i < m->nv; i++)
    cand += score[i - m->nl] != -INFINITY;
  size_t held = 0;
  for (uint64_t j = j0; j < j1; j++) {
    gasp_vid i = t->i[j];
    if (i == NONE || score[i - m->nl] == -INFINITY) continue;
    float s = score[i - m->nl];
    uint64_t above = 0;
    for (gasp_vid q = 0; q < m->nv - m->nl; q++)
      above += score[q] > s;
    r->rank_sum += cand > 1 ? (double)above / (double)(cand - 1) : 0;
    r->ranked++;
    pos[held++] = above;
  }
  if (!held) return;
  qsort(pos, held, sizeof *pos, cmp_u64);
  size_t hits = 0, N = (size_t)m->top_n_metric;
  for (size_t h = 0; h < held; h++)
    hits += pos[h] < (uint64_t)N;
  r->rec_sum += (double)hits / (double)(held < N ? held : N);
  r->users++;
}

static void add_rank_sums(void *out, const void *part, void *user) {
  (void)user;
  rank_sums *a = out;
  const rank_sums *b = part;
  a->rank_sum += b->rank_sum;
  a->rec_sum += b->rec_sum;
  a->ranked += b->ranked;
  a->users += b->users;
}

static int rank_metrics(const mf *m, gasp_engine *e, double *mpr,
                        double *recall) {
  const test_set *t = &m->test;
  int T = gasp_engine_threads(e), rc = 0;
  uint64_t most = 0; /* the longest run of one user's test pairs */
  for (uint64_t j0 = 0, j; j0 < t->n; j0 = j) {
    for (j = j0 + 1; j < t->n && t->u[j] == t->u[j0]; j++) {
    }
    most = j - j0 > most ? j - j0 : most;
  }
  rank_job rj = {m, calloc((size_t)T, sizeof(float *)),
                 calloc((size_t)T, sizeof(uint64_t *))};
  for (int w = 0; rj.score && rj.pos && w < T; w++) {
    rj.score[w] = malloc(((size_t)(m->nv - m->nl) + 1) * sizeof(float));
    rj.pos[w] = malloc(((size_t)most + 1) * sizeof(uint64_t));
    if (!rj.score[w] || !rj.pos[w]) rc = -1;
  }
  rank_sums r = {0, 0, 0, 0};
  if (rc || !rj.score || !rj.pos ||
      gasp_engine_map(e, t->n, 4, rank_item, sizeof r, add_rank_sums, &rj,
                      &r)) {
    cli_error("out of memory");
    rc = EXIT_RUNTIME;
  }
  for (int w = 0; w < T; w++) {
    if (rj.score) free(rj.score[w]);
    if (rj.pos) free(rj.pos[w]);
  }
  free(rj.score);
  free(rj.pos);
  *mpr = r.ranked > 0 ? r.rank_sum / r.ranked : NAN;
  *recall = r.users > 0 ? r.rec_sum / r.users : NAN;
  return rc;
}

/* Sums over every rank (a no-op on one process). */
static int allreduce(gasp_engine *e, double *v, size_t n) {
  if (gasp_engine_allreduce(e, v, n, GASP_REDUCE_SUM) == GASP_OK) return 0;
  cli_error("%s", gasp_engine_last_error(e)->msg);
  return EXIT_RUNTIME;
}

/* Y^T Y over the side [lo, hi) of the owned vertices, in double, summed
 * over the ranks. */
typedef struct gram_job {
  const mf *m;
  gasp_vid lo;
} gram_job;

static void gram_item(void *user, uint64_t i, int tid, void *part) {
  (void)tid;
  const gram_job *gj = user;
  const mf *m = gj->m;
  int k = m->k;
  double *yty = part;
  const float *y = m->F + (size_t)(gj->lo + (gasp_vid)i) * (size_t)m->stride;
  for (int a = 0; a < k; a++)
    for (int b = 0; b < k; b++)
      yty[a * k + b] += (double)y[a] * y[b];
}

static void add_gram(void *out, const void *part, void *user) {
  const gram_job *gj = user;
  size_t kk = (size_t)gj->m->k * (size_t)gj->m->k;
  for (size_t i = 0; i < kk; i++)
    ((double *)out)[i] += ((const double *)part)[i];
}

static int gram(mf *m, gasp_engine *e, gasp_vid lo, gasp_vid hi) {
  size_t kk = (size_t)m->k * (size_t)m->k;
  gram_job gj = {m, lo};
  if (gasp_engine_map(e, hi - lo, 0, gram_item, kk * sizeof(double), add_gram,
                      &gj, m->yty)) {
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  return allreduce(e, m->yty, kk);
}

/* ---- input --------------------------------------------------------------- */

static int is_named(const char *path, const char *suf) {
  size_t n = strlen(path), k = strlen(suf);
  if (n > 3 && !strcmp(path + n - 3, ".gz")) n -= 3;
  return n >= k && !strncmp(path + n - k, suf, k);
}

int mf_load_ratings(const cli_common *c0, const char *path, gasp_graph **g,
                    double *secs) {
  cli_common c = *c0;
  c.input = path;
  if (c.format == GASP_FORMAT_AUTO && !is_named(path, ".mtx") &&
      !is_named(path, ".gasp"))
    c.format = GASP_FORMAT_RATINGS;
  c.bipartite = 1;
  c.weighted = 1;
  int rc = cli_load_graph(&c, g, secs);
  if (rc) return rc;
  if (!gasp_graph_is_bipartite(*g) || !gasp_graph_weights(*g)) {
    cli_error("%s: not a ratings matrix (need users, items and ratings)", path);
    gasp_graph_free(g);
    return EXIT_USAGE;
  }
  return 0;
}

static int load_test(mf *m, const cli_common *c, const char *path) {
  gasp_graph *tg = NULL;
  cli_common q = *c;
  q.quiet = 1;
  int rc = mf_load_ratings(&q, path, &tg, NULL);
  if (rc) return rc;
  test_set *t = &m->test;
  uint64_t n = gasp_graph_num_edges(tg);
  t->u = malloc((n ? n : 1) * sizeof *t->u);
  t->i = malloc((n ? n : 1) * sizeof *t->i);
  t->r = malloc((n ? n : 1) * sizeof *t->r);
  if (!t->u || !t->i || !t->r) {
    gasp_graph_free(&tg);
    cli_error("out of memory");
    return EXIT_RUNTIME;
  }
  gasp_adjacency a;
  gasp_graph_out_edges(tg, &a);
  const double *w = gasp_graph_weights(tg);
  gasp_vid tl = gasp_graph_num_left(tg);
  for (gasp_vid u = 0; u < tl; u++) {
    gasp_vid mu = NONE, mi;
    if (a.off[u] == a.off[u + 1]) continue;
    if (gasp_graph_find(m->g, GASP_SIDE_LEFT, gasp_graph_gid(tg, u), &mu))
      mu = NONE, t->unknown_users++;
    for (uint64_t e = a.off[u]; e < a.off[u + 1]; e++) {
      if (gasp_graph_find(m->g, GASP_SIDE_RIGHT, gasp_graph_gid(tg, a.nbr[e]),
                          &mi))
        mi = NONE;
      t->unknown_pairs += mu == NONE || mi == NONE;
      t->u[t->n] = mu;
      t->i[t->n] = mi;
      t->r[t->n++] = (float)w[e];
    }
  }
  /* distinct unknown items */
  gasp_vid tn = gasp_graph_num_vertices(tg);
  for (gasp_vid i = tl; i < tn; i++) {
    gasp_vid mi;
    if (gasp_graph_in_degree(tg, i) &&
        gasp_graph_find(m->g, GASP_SIDE_RIGHT, gasp_graph_gid(tg, i), &mi))
      t->unknown_items++;
  }
  gasp_graph_free(&tg);
  return 0;
}

/* ---- the command ------------------------------------------------------- */

enum {
  O_RANK = OPT_FIRST_PRIVATE,
  O_LAMBDA,
  O_LAMBDA_BIAS,
  O_TEST,
  O_IMPLICIT,
  O_LR,
  O_DECAY,
  O_EPOCHS,
  O_BIASED,
  O_RECALL_N
};

typedef struct mf_args {
  mf *m;
  const char *test;
  const char *name;
} mf_args;

static int handle(int opt, const char *arg, void *u) {
  mf_args *a = u;
  mf *m = a->m;
  switch (opt) {
  case 'k':
  case O_RANK:
    if (cli_parse_int("--rank", arg, &m->k)) return 1;
    if (m->k < 1 || m->k > 1024) {
      cli_error("--rank must be 1..1024");
      return 1;
    }
    return 0;
  case O_LAMBDA: return cli_parse_double("--lambda", arg, &m->lambda);
  case O_LAMBDA_BIAS:
    return cli_parse_double("--lambda-bias", arg, &m->lambda_bias);
  case O_TEST: a->test = arg; return 0;
  case O_IMPLICIT:
    if (cli_parse_double("--implicit", arg, &m->alpha)) return 1;
    if (!(m->alpha > 0)) {
      cli_error("--implicit: ALPHA must be positive");
      return 1;
    }
    m->implicit = 1;
    return 0;
  case O_LR: return cli_parse_double("--lr", arg, &m->lr);
  case O_DECAY: return cli_parse_double("--decay", arg, &m->decay);
  case O_RECALL_N: return cli_parse_int("--recall-n", arg, &m->top_n_metric);
  case O_BIASED: m->biased = 1; return 0;
  }
  return 1;
}

static const char als_help[] =
    "usage: gasp als -i RATINGS [options]\n"
    "Matrix factorization by alternating least squares with weighted-lambda\n"
    "regularisation (Zhou et al. 2008), or implicit-feedback ALS (Hu et al.\n"
    "2008) with --implicit.  RATINGS: 'user item rating' lines (blanks,\n"
    "tabs, commas or '::'; a header line and extra columns are ignored) or\n"
    "Matrix Market.\n\n"
    "  -k, --rank K         factors per user and item (20)\n"
    "      --lambda X       regularisation (0.1; times the rating count)\n"
    "      --max-iter N     sweeps (10)\n"
    "      --test FILE      held-out ratings: test RMSE every sweep\n"
    "      --implicit ALPHA implicit feedback, confidence 1 + ALPHA r; the\n"
    "                       test file is scored by mean percentile rank and\n"
    "                       recall@N of its items\n"
    "      --recall-n N     N for recall@N (10)\n"
    "  -o PREFIX            write PREFIX.users.tsv, PREFIX.items.tsv and\n"
    "                       PREFIX.model (see gasp predict)\n"
    "      --trace FILE     per-sweep figures as TSV\n"
    "      --seed N         initial factors (1)\n"
    "      --gpu M          auto|on|off: solve the normal equations on the\n"
    "                       CUDA device (one process; auto: when "
    "present)\n" CLI_COMMON_HELP;

static const char sgd_help[] =
    "usage: gasp sgd -i RATINGS [options]\n"
    "Matrix factorization by stochastic gradient descent, plain or biased\n"
    "(global mean + user and item biases), in alternating half-epochs (users\n"
    "with items fixed, then items with users fixed): no locks, no races.\n\n"
    "  -k, --rank K         factors per user and item (20)\n"
    "      --lambda X       regularisation per rating (0.1)\n"
    "      --lambda-bias X  bias regularisation (--biased; default lambda)\n"
    "      --lr X           learning rate (0.04)\n"
    "      --decay X        learning rate multiplier per epoch (0.95)\n"
    "      --epochs N       epochs (40; --max-iter is the same)\n"
    "      --biased         global mean + user and item biases\n"
    "      --test FILE      held-out ratings: test RMSE every epoch\n"
    "  -o PREFIX            write PREFIX.users.tsv, PREFIX.items.tsv and\n"
    "                       PREFIX.model (see gasp predict)\n"
    "      --trace FILE     per-epoch figures as TSV\n"
    "      --seed N         initial factors and rating order "
    "(1)\n" CLI_COMMON_HELP;

static int run_mf(int argc, char **argv, int als);

int cmd_als(int argc, char **argv) { return run_mf(argc, argv, 1); }
int cmd_sgd(int argc, char **argv) { return run_mf(argc, argv, 0); }

typedef struct iter_fig {
  double train, test, mpr, recall, seconds, sweep;
} iter_fig;

static void report(const mf *m, const char *name, FILE *trace, uint64_t it,
                   const iter_fig *f, int quiet, int has_test) {
  if (trace) {
    fprintf(trace, "%" PRIu64 "\t%.6f\t%.6f\t%.6f\t%.6f\t%.4f\t%.4f\n", it,
            f->train, f->test, f->mpr, f->recall, f->sweep, f->seconds);
    fflush(trace);
  }
  if (quiet) return;
  if (m->implicit)
    fprintf(stderr,
            "gasp: %s: sweep %" PRIu64
            ": test MPR %.4f recall@%d %.4f (%.3f s)\n",
            name, it, f->mpr, m->top_n_metric, f->recall, f->sweep);
  else if (has_test)
    fprintf(stderr,
            "gasp: %s: %s %" PRIu64
            ": train RMSE %.4f test RMSE %.4f (%.3f s)\n",
            name, m->als ? "sweep" : "epoch", it, f->train, f->test, f->sweep);
  else
    fprintf(stderr, "gasp: %s: %s %" PRIu64 ": train RMSE %.4f (%.3f s)\n",
            name, m->als ? "sweep" : "epoch", it, f->train, f->sweep);
}

/* Implicit ALS on the device: the other side's Y^T Y of this half-step. */
static int gpu_params(mf *m) {
#ifdef GASP_TOOLKIT_CUDA
  if (m->gpu && m->implicit &&
      mf_gpu_params(m->gpu, m->lambda, m->alpha, m->yty, m->gpu_err,
                    sizeof m->gpu_err)) {
    cli_error("als: %s", m->gpu_err);
    return EXIT_RUNTIME;
  }
#else
  (void)m;
#endif
  return 0;
}

/* Runs one half-step: every vertex of [lo, hi) updates once. */
static int half_step(gasp_engine *e, gasp_vid lo, gasp_vid hi,
                     uint64_t *updates) {
  for (gasp_vid v = lo; v < hi; v++)
    gasp_engine_signal(e, v, 0);
  gasp_run_stats st;
  if (tk_run(e, &st)) return EXIT_RUNTIME;
  *updates += st.updates;
  return 0;
}

static int run_mf(int argc, char **argv, int als) {
  const char *name = als ? "als" : "sgd";
  tk_opts o;
  tk_opts_init(&o);
  /* the sync engine, chromatic by construction; ratings are weighted */
  o.takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_VOCAB |
               TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS);
  o.c.seed = 1;
  mf m;
  memset(&m, 0, sizeof m);
  m.als = als;
  m.k = 20;
  m.lambda = 0.1;
  m.lambda_bias = -1;
  m.lr = 0.04;
  m.decay = 0.95;
  m.top_n_metric = 10;
  mf_args a = {&m, NULL, name};
  o.dist_ok = 1; /* across ranks: each half-step is a superstep */
  o.load = mf_load_ratings;
  static const struct option als_extra[] = {
      {"rank", required_argument, 0, 'k'},
      {"lambda", required_argument, 0, O_LAMBDA},
      {"test", required_argument, 0, O_TEST},
      {"implicit", required_argument, 0, O_IMPLICIT},
      {"recall-n", required_argument, 0, O_RECALL_N},
      {0, 0, 0, 0}};
  static const struct option sgd_extra[] = {
      {"rank", required_argument, 0, 'k'},
      {"lambda", required_argument, 0, O_LAMBDA},
      {"lambda-bias", required_argument, 0, O_LAMBDA_BIAS},
      {"test", required_argument, 0, O_TEST},
      {"lr", required_argument, 0, O_LR},
      {"decay", required_argument, 0, O_DECAY},
      {"epochs", required_argument, 0, TK_OPT_MAX_ITER},
      {"biased", no_argument, 0, O_BIASED},
      {0, 0, 0, 0}};
  int rc = tk_parse(argc, argv, &o, als ? als_extra : sgd_extra,
                    als ? als_help : sgd_help, handle, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (o.eng.engine != GASP_ENGINE_SYNC) {
    cli_error("%s: runs on the sync engine (alternating sides is the "
              "chromatic schedule of the bipartite graph)",
              name);
    return EXIT_USAGE;
  }
  if (!(m.lambda >= 0) || (!als && !(m.lr > 0)) || !(m.decay > 0) ||
      m.top_n_metric < 1) {
    cli_error("%s: --lambda must be >= 0, --lr and --decay > 0", name);
    return EXIT_USAGE;
  }
  uint64_t iters = o.eng.max_iter ? o.eng.max_iter : als ? 10 : 40;
  if (m.lambda_bias < 0) m.lambda_bias = m.lambda;
  m.seed = o.c.seed;
  m.kp = mf_kpad(m.k);
  m.stride = mf_stride(m.k, m.biased);

  gasp_graph *g = NULL;
  gasp_engine *e = NULL;
  FILE *trace = NULL;
  double load_s = 0;
  uint8_t *user = NULL;
  float *allF = NULL; /* across ranks: every factor, on rank 0 */
  if ((rc = tk_load(&o, &g, &load_s))) {
    tk_graph_free(&o, &g);
    return rc;
  }
  gasp_dist *dist = o.eng.dist;
  gasp_graph *gg = dist ? o.d.global : g; /* the whole graph */
  int root = tk_is_root(&o);
  m.g = gg;
  m.nl = gasp_graph_num_left(gg);
  m.nv = gasp_graph_num_vertices(gg);
  m.own_users = m.nl;
  m.owned = m.nv;
  if (dist) { /* owned users, owned items, then the ghosts */
    gasp_vid nloc = gasp_graph_num_vertices(g);
    if (!(user = malloc(nloc ? nloc : 1))) goto oom;
    m.owned = gasp_graph_num_owned(g);
    m.own_users = 0;
    for (gasp_vid v = 0; v < nloc; v++) {
      user[v] = gasp_dist_side(dist, v) == GASP_SIDE_LEFT;
      m.own_users += v < m.owned && user[v];
    }
    m.user = user;
  }
  uint64_t E = gasp_graph_num_edges(g), Eg = gasp_graph_num_edges(gg);
  gasp_graph_out_edges(g, &m.out);
  gasp_graph_in_edges(g, &m.in);
  const double *w = gasp_graph_weights(g), *wg = gasp_graph_weights(gg);
  m.r = malloc((E ? E : 1) * sizeof *m.r);
  if (!m.r) goto oom;
  for (uint64_t s = 0; s < E; s++)
    m.r[s] = (float)w[s];
  double sum = 0; /* of the whole matrix: the same on every rank */
  m.rmin = INFINITY;
  m.rmax = -INFINITY;
  for (uint64_t s = 0; s < Eg; s++) {
    sum += wg[s];
    if (wg[s] < m.rmin) m.rmin = wg[s];
    if (wg[s] > m.rmax) m.rmax = wg[s];
  }
  m.mean = Eg ? sum / (double)Eg : 0;
  if (!(m.r_in = malloc((E ? E : 1) * sizeof *m.r_in))) goto oom;
  for (uint64_t s = 0; s < E; s++)
    m.r_in[s] = m.r[m.in.slot[s]];
  if (m.implicit) {
    for (uint64_t s = 0; s < Eg; s++)
      if (wg[s] < 0) {
        cli_error("%s: --implicit needs non-negative ratings (counts)",
                  o.c.input);
        rc = EXIT_USAGE;
        goto out;
      }
    m.yty = calloc((size_t)m.k * (size_t)m.k, sizeof *m.yty);
    if (!m.yty) goto oom;
  }
  m.sp = (mf_sgd_par){m.k,          m.stride,        m.biased,
                      (float)m.lr,  (float)m.lambda, (float)m.lambda_bias,
                      (float)m.mean};
  if (a.test && (rc = load_test(&m, &o.c, a.test))) goto out;
  if (o.trace && root) {
    if (!(trace = fopen(o.trace, "w"))) {
      cli_error("%s: cannot create: %s", o.trace, strerror(errno));
      rc = EXIT_USAGE;
      goto out;
    }
    fputs("iteration\ttrain_rmse\ttest_rmse\ttest_mpr\ttest_recall\t"
          "sweep_seconds\tseconds\n",
          trace);
  }

  char gpu_name[128];
  int gpu = tk_use_gpu(&o, als ? "als" : "sgd",
                       !als         ? "sgd has no device kernel"
                       : o.eng.dist ? "the device runs on one process"
                                    : NULL,
                       gpu_name, sizeof gpu_name);
  if (gpu < 0) {
    rc = EXIT_USAGE;
    goto out;
  }
  gasp_program prog;
#ifdef GASP_TOOLKIT_CUDA
  const gasp_gpu_mode asked = o.eng.gpu; /* o.eng.gpu is rewritten below */
#endif
  for (;;) {
    memset(&prog, 0, sizeof prog);
    prog.vertex_size = (size_t)m.stride * sizeof(float);
    prog.acc_size = gpu ? 0 : prog.vertex_size;
    prog.init_vertex = mf_init;
    prog.gather_edges = gpu ? NULL : mf_edges;
    prog.gather_vertex = gpu ? NULL : mf_gather;
    prog.apply = gpu ? mf_apply_device_only : mf_apply;
#ifdef GASP_TOOLKIT_CUDA
    if (gpu) prog.device_apply = als_device_apply;
#endif
    prog.user = &m;
    o.eng.max_iter = 1; /* one superstep per half-step */
    o.eng.on_iteration = NULL;
    o.eng.gpu = gpu ? GASP_GPU_ON : GASP_GPU_OFF;
    if ((rc = tk_engine_new(&e, g, &prog, &o))) goto out;
    m.F = gasp_graph_vertex_data(g);
#ifdef GASP_TOOLKIT_CUDA
    /* lambda only: gpu_params() sets alpha and YtY before each half-step */
    if (gpu &&
        (als_gpu_open(&m) || mf_gpu_params(m.gpu, m.lambda, 0, NULL, m.gpu_err,
                                           sizeof m.gpu_err))) {
      if (asked != GASP_GPU_AUTO) {
        cli_error("als: %s", m.gpu_err);
        rc = EXIT_RUNTIME;
        goto out;
      }
      /* --gpu auto: the device declined (k too large for it, too little
       * memory); start again on the CPU */
      if (!o.c.quiet)
        fprintf(stderr, "gasp: als: %s; running on the CPU\n", m.gpu_err);
      mf_gpu_free(m.gpu);
      m.gpu = NULL;
      gasp_engine_free(&e);
      gpu = 0;
      snprintf(gpu_name, sizeof gpu_name, "none");
      continue;
    }
#endif
    break;
  }
  m.threads = gasp_engine_threads(e);
  m.th = tk_calloc_lines((size_t)m.threads, sizeof *m.th);
  if (!m.th) goto oom;
  for (int t = 0; t < m.threads; t++) {
    mf_thread *th = &m.th[t];
    size_t kk = (size_t)m.k * (size_t)m.k;
    th->A = aligned_alloc(
        64, ((size_t)m.k * (size_t)m.kp * sizeof(float) + 63) & ~(size_t)63);
    th->b =
        aligned_alloc(64, ((size_t)m.kp * sizeof(float) + 63) & ~(size_t)63);
    th->Ad = malloc(kk * sizeof(double));
    th->bd = malloc((size_t)m.k * sizeof(double));
    th->x = malloc((size_t)m.k * sizeof(double));
    if (!th->A || !th->b || !th->Ad || !th->bd || !th->x) goto oom;
  }

  int has_test = m.test.n > 0;
  double best = INFINITY, best_mpr = INFINITY, t0 = cli_now(), sweep_total = 0;
  uint64_t updates = 0, it = 0;
  iter_fig f = {NAN, NAN, NAN, NAN, 0, 0};
  for (it = 1; it <= iters; it++) {
    double ts = cli_now();
    m.epoch = it;
    m.sp.lr = (float)(m.lr * pow(m.decay, (double)(it - 1)));
    for (int t = 0; t < m.threads; t++)
      m.th[t].sse = 0, m.th[t].n = 0;
    if (m.implicit && (rc = gram(&m, e, m.own_users, m.owned))) goto out;
    if ((rc = gpu_params(&m))) goto out;
    if ((rc = half_step(e, 0, m.own_users, &updates))) goto out;
    if (m.implicit && (rc = gram(&m, e, 0, m.own_users))) goto out;
    if ((rc = gpu_params(&m))) goto out;
    if ((rc = half_step(e, m.own_users, m.owned, &updates))) goto out;
    if (m.gpu && !m.implicit && (rc = train_sse(&m, e))) goto out;
    f.sweep = cli_now() - ts;
    sweep_total += f.sweep;
    double sn[2] = {0, 0}; /* squared error and ratings, of every rank */
    for (int t = 0; t < m.threads; t++)
      sn[0] += m.th[t].sse, sn[1] += (double)m.th[t].n;
    if (dist && (rc = allreduce(e, sn, 2))) goto out;
    f.train = sn[1] > 0 ? sqrt(sn[0] / sn[1]) : NAN;
    mf ev = m; /* the whole model, on rank 0 */
    if (dist && has_test) {
      free(allF);
      allF = tk_dist_gather(&o, m.F, (size_t)m.stride * sizeof(float), &rc);
      if (rc) goto out;
      ev.F = allF;
      ev.user = NULL;
      gasp_graph_out_edges(gg, &ev.out);
      gasp_graph_in_edges(gg, &ev.in);
    }
    if (has_test && m.implicit && root) {
      if ((rc = rank_metrics(&ev, e, &f.mpr, &f.recall))) goto out;
      if (f.mpr < best_mpr) best_mpr = f.mpr;
    } else if (has_test && root) {
      f.test = test_rmse(&ev, e);
      if (f.test < best) best = f.test;
    }
    f.seconds = cli_now() - t0;
    if (root) report(&m, name, trace, it, &f, o.c.quiet, has_test);
  }
  it--;
  double seconds = cli_now() - t0;
  const float *F = m.F;
  if (dist) { /* the factors in global order, and the totals, on rank 0 */
    free(allF);
    gasp_run_stats tot = {0};
    tot.updates = updates;
    tot.iterations = it;
    allF = tk_dist_results(&o, e, &tot, m.F, (size_t)m.stride * sizeof(float),
                           &rc);
    if (rc) goto out;
    updates = tot.updates;
    F = allF;
  }
  if (!root) goto out;
  if (o.c.output) {
    mf_model meta = {{0},    m.k,    m.stride, m.biased, m.implicit,
                     m.mean, m.rmin, m.rmax,   {0},      {0}};
    snprintf(meta.method, sizeof meta.method, "%s",
             m.implicit ? "als-implicit"
             : als      ? "als"
             : m.biased ? "sgd-biased"
                        : "sgd");
    if ((rc = mf_model_write(o.c.output, &meta, gg, F))) goto out;
  }
  double ups = sweep_total > 0 ? (double)Eg * (double)it / sweep_total : 0;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", name);
    cli_json_str(&j, "method",
                 m.implicit ? "als-implicit"
                 : als      ? "als"
                 : m.biased ? "sgd-biased"
                            : "sgd");
    cli_json_u64(&j, "users", m.nl);
    cli_json_u64(&j, "items", m.nv - m.nl);
    cli_json_u64(&j, "ratings", Eg);
    cli_json_u64(&j, "rank", (uint64_t)m.k);
    cli_json_num(&j, "lambda", m.lambda);
    cli_json_u64(&j, "iterations", it);
    cli_json_u64(&j, "updates", updates);
    if (!m.implicit) cli_json_num(&j, "train_rmse", f.train);
    if (has_test && !m.implicit) {
      cli_json_num(&j, "test_rmse", f.test);
      cli_json_num(&j, "best_test_rmse", best);
    }
    if (has_test && m.implicit) {
      cli_json_num(&j, "test_mpr", f.mpr);
      cli_json_num(&j, "best_test_mpr", best_mpr);
      cli_json_num(&j, "test_recall_at_n", f.recall);
      cli_json_u64(&j, "recall_n", (uint64_t)m.top_n_metric);
    }
    if (a.test) {
      cli_json_u64(&j, "test_ratings", m.test.n);
      cli_json_u64(&j, "test_unknown_users", m.test.unknown_users);
      cli_json_u64(&j, "test_unknown_items", m.test.unknown_items);
      cli_json_u64(&j, "test_unknown_pairs", m.test.unknown_pairs);
    }
    cli_json_num(&j, "mean_rating", m.mean);
    cli_json_num(&j, "seconds", seconds);
    cli_json_num(&j, "seconds_per_iteration",
                 it ? sweep_total / (double)it : 0);
    cli_json_num(&j, "updates_per_second", ups);
    cli_json_u64(&j, "threads", (uint64_t)m.threads);
    tk_json_gpu(&j, e);
    tk_dist_json(&o, &j, it);
    cli_json_num(&j, "load_seconds", load_s);
    cli_json_end(&j);
  }
  if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: %s: %" PRIu64 " %s in %.3f s (%.3f s each, %.1f M rating "
            "updates/s)",
            name, it, als ? "sweeps" : "epochs", seconds,
            it ? sweep_total / (double)it : 0.0, ups / 1e6);
    if (has_test && !m.implicit) fprintf(stderr, "; best test RMSE %.4f", best);
    if (m.test.unknown_pairs)
      fprintf(stderr, "; %" PRIu64 " test pairs with an unknown user or item",
              m.test.unknown_pairs);
    fputc('\n', stderr);
  }
  goto out;
oom:
  cli_error("%s: out of memory", name);
  rc = EXIT_RUNTIME;
out:
  if (trace) fclose(trace);
  if (m.th)
    for (int t = 0; t < m.threads; t++) {
      free(m.th[t].A);
      free(m.th[t].b);
      free(m.th[t].Ad);
      free(m.th[t].bd);
      free(m.th[t].x);
    }
  free(m.th);
#ifdef GASP_TOOLKIT_CUDA
  mf_gpu_free(m.gpu);
#endif
  free(m.r);
  free(m.r_in);
  free(m.yty);
  free(m.test.u);
  free(m.test.i);
  free(m.test.r);
  free(user);
  free(allF);
  gasp_engine_free(&e);
  tk_graph_free(&o, &g);
  return rc;
}
