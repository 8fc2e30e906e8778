/*
 * lib_mf.c -- gasp_als and gasp_sgd (gasp_toolkits.h): matrix
 * factorization of a ratings matrix as vertex programs on the bipartite
 * ratings graph (users on the left, items on the right, one edge per
 * rating), in the manner of GraphLab's collaborative-filtering toolkit.
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
 *    per vertex rather than k^2.  Implicit feedback (alpha > 0): Hu, Koren
 *    and Volinsky 2008, confidence 1 + alpha r, preference 1 on observed
 *    entries, ridge lambda, and the other side's Y^T Y computed once per
 *    half-step.
 *
 *  - SGD (and biased: mean + user and item biases): per-rating SGD writes
 *    both ends of a rating, which needs full consistency; on a ratings
 *    graph a user's 2-hop neighbourhood is nearly every user, so a
 *    full-consistency schedule is serial and lock-free Hogwild updates are
 *    data races.  Instead a half-step runs, for every user at once, an SGD
 *    pass over its ratings with the item vectors fixed (the user's vector
 *    stays in registers), then every item does the same with users fixed:
 *    block-coordinate SGD on the same objective as LIBMF's (squared error
 *    plus lambda |p|^2 + lambda |q|^2 per rating).  Each pass starts at a
 *    pseudo-random rating of the vertex (varied per epoch); the learning
 *    rate falls by `decay` each epoch.
 *
 * Train RMSE is computed on the item half-step from the final vectors
 * (exact, at the cost of one more dot product per rating).  Vertex data
 * are the kernels' padded vectors (mf.h); the caller gets plain rows.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"
#include "mf.h"
#include "mf_gpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct mf_thread {
  double sse;
  uint64_t n;
  float *A, *b;
  double *Ad, *bd, *x;
} mf_thread;

typedef struct mf {
  int als, implicit, biased;
  int nmf; /* multiplicative updates (with als set: a sweep of half-steps) */
  int svdpp; /* SVD++ (with biased set; see svdpp_user, svdpp_item) */
  int wals;  /* weighted ALS (with als set): wt and wt_in below */
  int k, kp, stride;
  double lr_implicit, lambda_implicit; /* SVD++: the step and regularisation
                                          of the implicit factors y */
  double lambda, alpha, lr, decay, lambda_bias;
  uint64_t seed, epoch;
  gasp_vid nl, nv; /* users 0 .. nl-1 on one process; local vertices */
  /* across ranks: 1 for the users among the local vertices (owned users,
   * owned items, ghost users, ghost items); NULL on one process */
  uint8_t *user;
  gasp_vid own_users, owned; /* vertices updated by the half-steps */
  float *F;                  /* vertex data */
  float *r;                  /* rating by edge slot */
  float *r_in;               /* rating by in-edge position */
  float *wt, *wt_in;         /* weighted ALS: weights, laid out as r, r_in */
  gasp_adjacency in, out;
  mf_sgd_par sp;
  double *yty; /* implicit: k x k of the side not being updated */
  mf_thread *th;
  int threads;
  double mean, rmin, rmax;
  mf_gpu *gpu; /* ALS on the device, NULL otherwise */
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

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the vertex program -------------------------------------------------- */

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
  /* SVD++: a user's p starts as its vector (z is 0 until the items' y
   * move); an item's y starts at 0 */
  if (m->svdpp && is_user(m, v))
    memcpy(x + m->kp + 8, x, (size_t)m->kp * sizeof *x);
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
    *nb = (mf_nbrs){n->n_out, n->out, n->out_slot0};
    *r = m->r;
  } else {
    *nb = (mf_nbrs){n->n_in, n->in, m->in.off[v]};
    *r = m->r_in;
  }
}

/* Lee and Seung's multiplicative update of one row with the other side
 * fixed, for the observed entries and an L2 term:
 *   x_c <- x_c (sum_j r_j y_jc) / ((sum_j y_j y_j^T x)_c + lambda x_c)
 * which never raises sum_j (r_j - x.y_j)^2 + lambda |x|^2 and keeps x
 * non-negative. */
static void nmf_update(const mf *m, mf_thread *t, const float *self,
                       const mf_nbrs *nb, const float *r, float *x) {
  int k = m->k, kp = m->kp;
  memcpy(x, self, (size_t)m->stride * sizeof *x);
  if (nb->n == 0) return; /* nothing to fit: keep */
  mf_normal_eq(k, m->stride, m->F, nb, r, NULL, 0, t->A, t->b);
  for (int i = 0; i < k; i++) {
    double den = m->lambda * (double)self[i];
    const float *row = t->A + (size_t)i * (size_t)kp;
    for (int j = 0; j < k; j++)
      den += (double)row[j] * (double)self[j];
    double num = t->b[i] > 0 ? (double)t->b[i] : 0;
    x[i] = den > 0 ? (float)((double)self[i] * num / den) : 0.0f;
  }
}

static void als_solve(const mf *m, mf_thread *t, const float *self,
                      const mf_nbrs *nb, const float *r, float *x) {
  int k = m->k, kp = m->kp;
  memcpy(x, self, (size_t)m->stride * sizeof *x);
  if (nb->n == 0 && !m->implicit) return; /* nothing to fit: keep */
  const float *wt = m->wals ? (r == m->r ? m->wt : m->wt_in) : NULL;
  mf_normal_eq(k, m->stride, m->F, nb, r, wt, m->implicit ? m->alpha : 0, t->A,
               t->b);
  for (int i = 0; i < k; i++) {
    for (int j = 0; j < k; j++)
      t->Ad[i * k + j] = (double)t->A[(size_t)i * (size_t)kp + (size_t)j] +
                         (m->implicit ? m->yty[i * k + j] : 0);
    t->bd[i] = t->b[i];
  }
  double ridge = m->implicit ? m->lambda : m->lambda * (double)nb->n;
  if (wt) { /* weighted-lambda: lambda times the vertex's weight */
    double ws = 0;
    for (size_t j = 0; j < nb->n; j++)
      ws += wt[mf_slot(nb, j)];
    ridge = m->lambda * ws;
  }
  if (mf_cholesky_solve(k, t->Ad, ridge, t->bd, t->x)) return;
  for (int i = 0; i < k; i++)
    x[i] = (float)t->x[i];
}

/* SVD++ (Koren, KDD 2008): r_ui ~ mu + b_u + b_i + q_i . (p_u + z_u),
 * z_u = |N(u)|^-1/2 sum_{j in N(u)} y_j over the items u rated.  Vertex
 * data (stride kp + 8 + 2 kp floats):
 *   user: x = p + z (the effective vector items read), b_u, p, g
 *   item: q, b_i, y, (unused)
 * Block-coordinate, like SGD above: a user's half-step computes z from the
 * items' y, runs an SGD pass over its ratings on x with the items fixed
 * (the regulariser on p = x - z), then leaves p and the gradient its
 * ratings put on the y's, scaled by |N(u)|^-1/2: g = |N(u)|^-1 sum_i
 * e_ui q_i.  An item's half-step runs an SGD pass on q_i and b_i with the
 * users fixed, then one step on y_i: y_i += lr_y (sum_{u rated i} g_u -
 * lambda_y y_i).
 *
 * Why scaled: applied at once, the raw gradient (what Koren's per-rating
 * updates add up to over an epoch) moves all n_u of a user's y_j together,
 * so z_u moves by about sqrt(n_u) times the step -- a heavy user's z
 * overshoots at any rate that still teaches a light user's anything.  The
 * extra |N(u)|^-1/2 (a diagonal preconditioner) makes a user's own pull on
 * z_u the size of one SGD step on p_u.  On ml-latest-small (90/10 splits,
 * k 20, 40 epochs) this beats biased SGD by 0.004 test RMSE on each of
 * three splits; the raw gradient loses to it at every rate tried
 * (bench/mf). */
static inline float *svdpp_p(const mf *m, float *x) { return x + m->kp + 8; }
static inline float *svdpp_g(const mf *m, float *x) {
  return x + 2 * m->kp + 8;
}

static void svdpp_user(const mf *m, const float *self, const mf_nbrs *nb,
                       const float *r, size_t start, float *x) {
  int k = m->k, kp = m->kp;
  size_t stride = (size_t)m->stride;
  memcpy(x, self, stride * sizeof *x);
  if (nb->n == 0) return;
  float *p = svdpp_p(m, x), *g = svdpp_g(m, x);
  float z[kp];
  memset(z, 0, sizeof z);
  float norm = 1.0f / sqrtf((float)nb->n);
  for (size_t j = 0; j < nb->n; j++) {
    const float *y = m->F + (size_t)nb->nbr[j] * stride + kp + 8;
    for (int c = 0; c < k; c++)
      z[c] += y[c];
  }
  for (int c = 0; c < k; c++)
    z[c] *= norm, x[c] = p[c] + z[c];
  const float lr = m->sp.lr, lam = m->sp.lambda, lamb = m->sp.lambda_bias;
  float bu = x[kp];
  for (size_t t = 0, j = start; t < nb->n; t++, j = j + 1 == nb->n ? 0 : j + 1) {
    const float *q = m->F + (size_t)nb->nbr[j] * stride;
    float e = r[mf_slot(nb, j)] - (m->sp.mu + bu + q[kp] + mf_dot(x, q, kp));
    for (int c = 0; c < k; c++)
      x[c] += lr * (e * q[c] - lam * (x[c] - z[c]));
    bu += lr * (e - lamb * bu);
  }
  x[kp] = bu;
  memset(g, 0, (size_t)kp * sizeof *g);
  for (size_t j = 0; j < nb->n; j++) {
    const float *q = m->F + (size_t)nb->nbr[j] * stride;
    float e = r[mf_slot(nb, j)] - (m->sp.mu + bu + q[kp] + mf_dot(x, q, kp));
    for (int c = 0; c < k; c++)
      g[c] += e * q[c];
  }
  for (int c = 0; c < k; c++)
    p[c] = x[c] - z[c], g[c] *= norm * norm;
}

static void svdpp_item(const mf *m, const float *self, const mf_nbrs *nb,
                       const float *r, size_t start, float *x) {
  int k = m->k, kp = m->kp;
  size_t stride = (size_t)m->stride;
  memcpy(x, self, stride * sizeof *x);
  if (nb->n == 0) return;
  mf_sgd_pass(&m->sp, x, m->F, nb, r, start);
  float *y = svdpp_p(m, x);
  double G[k];
  memset(G, 0, sizeof G);
  for (size_t j = 0; j < nb->n; j++) {
    const float *g = m->F + (size_t)nb->nbr[j] * stride + 2 * kp + 8;
    for (int c = 0; c < k; c++)
      G[c] += g[c];
  }
  double lr = m->lr_implicit * m->sp.lr / m->lr, lam = m->lambda_implicit;
  for (int c = 0; c < k; c++)
    y[c] += (float)(lr * (G[c] - lam * y[c]));
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
  if (m->svdpp) {
    size_t start = nb.n ? mix64(gasp_ctx_gid(ctx) * 31 +
                                m->epoch * 0x9e3779b97f4a7c15ull +
                                is_user(m, v)) %
                              nb.n
                        : 0;
    if (is_user(m, v))
      svdpp_user(m, vd, &nb, r, start, x);
    else
      svdpp_item(m, vd, &nb, r, start, x);
  } else if (m->nmf) {
    nmf_update(m, t, vd, &nb, r, x);
  } else if (m->als) {
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
 * With a CUDA device (gpu auto/on; one process) the ALS program has no
 * CPU gather: its device apply solves each batch of a half-step on the
 * device (mf_gpu.cu), building the normal equations there from the
 * factor matrix kept resident (only the batch's ids go over, and its new
 * rows come back into the vertex data).  The engine runs with gpu on, so
 * a device that cannot be opened fails the run instead of reaching the
 * (absent) CPU apply. */

static void mf_apply_device_only(gasp_ctx *ctx, void *vd, const void *acc) {
  (void)ctx, (void)vd, (void)acc; /* never called: the engine has gpu on */
}

static int als_device_apply(const gasp_device_batch *b) {
  mf *m = b->user;
  return mf_gpu_solve(m->gpu, b->vid, b->n, b->vertex, b->pitch, b->stream,
                      m->gpu_err, sizeof m->gpu_err);
}

/* Uploads the factors and both sides' ratings as one CSR over the local
 * vertices: users' out-edges, then items' in-edges. */
static int als_gpu_open(mf *m) {
  uint64_t E = m->out.num_edges, nv = m->nv;
  uint64_t *off = gasp__malloc((nv + 1) * sizeof *off);
  gasp_vid *nbr = gasp__malloc((2 * E + 1) * sizeof *nbr);
  float *r = gasp__malloc((2 * E + 1) * sizeof *r);
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

/* Implicit ALS on the device: the other side's Y^T Y of this half-step. */
static int gpu_params(mf *m, gasp_error *err) {
  if (m->gpu && m->implicit &&
      mf_gpu_params(m->gpu, m->lambda, m->alpha, m->yty, m->gpu_err,
                    sizeof m->gpu_err))
    return tk_lib_fail(err, GASP_EIO, "als: %s", m->gpu_err);
  return GASP_OK;
}

/* Training error after an item half-step run on the device (the CPU
 * gather adds it up as it goes). */
static void sse_item(void *user, uint64_t i, int tid, void *part) {
  (void)tid;
  const mf *m = user;
  gasp_vid v = m->nl + (gasp_vid)i;
  mf_nbrs nb = {m->in.off[v + 1] - m->in.off[v], m->in.nbr + m->in.off[v],
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

static int train_sse(mf *m, gasp_engine *e, gasp_error *err) {
  double sn[2];
  if (gasp_engine_map(e, m->nv - m->nl, 64, sse_item, sizeof sn, add_doubles2,
                      m, sn))
    return tk_lib_fail(err, GASP_ENOMEM, "als: out of memory");
  m->th[0].sse = sn[0];
  m->th[0].n = (uint64_t)sn[1];
  return GASP_OK;
}

/* ---- collectives --------------------------------------------------------- */

/* Reduces over every rank (returns at once on one process). */
static int allreduce(gasp_engine *e, double *v, size_t n, gasp_reduce_op op,
                     gasp_error *err) {
  int rc = gasp_engine_allreduce(e, v, n, op);
  if (rc && err) *err = *gasp_engine_last_error(e);
  return rc;
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

static int gram(mf *m, gasp_engine *e, gasp_vid lo, gasp_vid hi,
                gasp_error *err) {
  size_t kk = (size_t)m->k * (size_t)m->k;
  gram_job gj = {m, lo};
  if (gasp_engine_map(e, hi - lo, 0, gram_item, kk * sizeof(double), add_gram,
                      &gj, m->yty))
    return tk_lib_fail(err, GASP_ENOMEM, "als: out of memory");
  return allreduce(e, m->yty, kk, GASP_REDUCE_SUM, err);
}

/* ---- setting up ---------------------------------------------------------- */

/* The ratings as floats (by edge slot, and by in-edge position), and which
 * local vertices are users.  The mean and range come later (they take the
 * engine's collectives). */
static int load_ratings(mf *m, gasp_graph *g, gasp_dist *dist,
                        gasp_error *err) {
  m->nv = gasp_graph_num_vertices(g);
  m->nl = gasp_graph_num_left(g);
  m->own_users = m->nl;
  m->owned = m->nv;
  gasp_graph_out_edges(g, &m->out);
  gasp_graph_in_edges(g, &m->in);
  uint64_t E = m->out.num_edges;
  const double *w = gasp_graph_weights(g);
  m->r = gasp__malloc((E ? E : 1) * sizeof *m->r);
  m->r_in = gasp__malloc((E ? E : 1) * sizeof *m->r_in);
  if (dist) m->user = gasp__malloc(m->nv ? m->nv : 1);
  if (!m->r || !m->r_in || (dist && !m->user))
    return tk_lib_fail(err, GASP_ENOMEM, "mf: out of memory");
  for (uint64_t s = 0; s < E; s++)
    m->r[s] = (float)w[s];
  for (uint64_t s = 0; s < E; s++)
    m->r_in[s] = m->r[m->in.slot[s]];
  if (dist) { /* owned users, owned items, then the ghosts */
    m->owned = gasp_graph_num_owned(g);
    m->own_users = 0;
    for (gasp_vid v = 0; v < m->nv; v++) {
      m->user[v] = gasp_dist_side(dist, v) == GASP_SIDE_LEFT;
      m->own_users += v < m->owned && m->user[v];
    }
  }
  return GASP_OK;
}

/* Mean and range of every rank's ratings: each rating is counted once, by
 * the rank owning its user (in the order of the edge slots, so on one
 * process the sum of every rating in turn). */
static int rating_stats(mf *m, gasp_graph *g, gasp_engine *e, gasp_error *err) {
  const double *w = gasp_graph_weights(g);
  double sn[2] = {0, 0}, lo = INFINITY, hi = -INFINITY;
  for (gasp_vid u = 0; u < m->owned; u++) {
    if (!is_user(m, u)) continue;
    for (uint64_t s = m->out.off[u]; s < m->out.off[u + 1]; s++) {
      sn[0] += w[s];
      if (w[s] < lo) lo = w[s];
      if (w[s] > hi) hi = w[s];
    }
    sn[1] += (double)(m->out.off[u + 1] - m->out.off[u]);
  }
  int rc;
  if ((rc = allreduce(e, sn, 2, GASP_REDUCE_SUM, err)) ||
      (rc = allreduce(e, &lo, 1, GASP_REDUCE_MIN, err)) ||
      (rc = allreduce(e, &hi, 1, GASP_REDUCE_MAX, err)))
    return rc;
  m->mean = sn[1] > 0 ? sn[0] / sn[1] : 0;
  m->rmin = lo;
  m->rmax = hi;
  if (m->implicit && lo < 0)
    return tk_lib_fail(err, GASP_EINVAL,
                       "als: implicit feedback needs non-negative ratings "
                       "(counts); found %g",
                       lo);
  return GASP_OK;
}

static int alloc_threads(mf *m, gasp_error *err) {
  void *p = NULL;
  size_t bytes = (size_t)m->threads * sizeof *m->th;
  if (gasp__posix_memalign(&p, 64, bytes) != 0)
    return tk_lib_fail(err, GASP_ENOMEM, "mf: out of memory");
  m->th = memset(p, 0, bytes);
  for (int t = 0; t < m->threads; t++) {
    mf_thread *th = &m->th[t];
    size_t kk = (size_t)m->k * (size_t)m->k;
    th->A = gasp__aligned_alloc(
        64, ((size_t)m->k * (size_t)m->kp * sizeof(float) + 63) & ~(size_t)63);
    th->b = gasp__aligned_alloc(64, ((size_t)m->kp * sizeof(float) + 63) &
                                        ~(size_t)63);
    th->Ad = gasp__malloc(kk * sizeof(double));
    th->bd = gasp__malloc((size_t)m->k * sizeof(double));
    th->x = gasp__malloc((size_t)m->k * sizeof(double));
    if (!th->A || !th->b || !th->Ad || !th->bd || !th->x)
      return tk_lib_fail(err, GASP_ENOMEM, "mf: out of memory");
  }
  return GASP_OK;
}

static void mf_free(mf *m) {
  if (m->th)
    for (int t = 0; t < m->threads; t++) {
      free(m->th[t].A);
      free(m->th[t].b);
      free(m->th[t].Ad);
      free(m->th[t].bd);
      free(m->th[t].x);
    }
  free(m->th);
  mf_gpu_free(m->gpu);
  free(m->r);
  free(m->r_in);
  free(m->wt);
  free(m->wt_in);
  free(m->yty);
  free(m->user);
}

/* Whether ALS goes to the device: gpu not off, one process, a device
 * present.  1 yes, 0 no, or a failure for gpu on where it cannot. */
static int want_gpu(const mf *m, const gasp_engine_opts *eo, gasp_error *err) {
  if (eo->gpu == GASP_GPU_OFF) return 0;
  char name[128];
  const char *why = m->nmf     ? "nmf has no device kernel"
                    : m->wals  ? "wals has no device kernel"
                    : m->svdpp ? "svdpp has no device kernel"
                    : !m->als  ? "sgd has no device kernel"
                    : eo->dist ? "the device runs on one process"
                               : NULL;
  if (!why && gasp_gpu_probe(name, sizeof name) <= 0) why = name;
  if (!why) return 1;
  if (eo->gpu == GASP_GPU_ON)
    return tk_lib_fail(
        err,
        m->als && !m->nmf && !m->wals && !eo->dist ? GASP_ENODEV
                                                   : GASP_ENOTSUP,
        "%s: gpu on: %s",
        m->svdpp  ? "svdpp"
        : m->wals ? "wals"
        : m->nmf  ? "nmf"
        : m->als ? "als"
                 : "sgd",
        why);
  return 0;
}

/* Starts the engine on the device (gpu) or the CPU.  Under gpu auto a
 * device that declines ALS (the rank too large for it, too little
 * memory) leaves the run to the CPU, its reason in info->gpu.device. */
static int engine_open(mf *m, gasp_graph *g, const gasp_engine_opts *eo0,
                       int gpu, gasp_engine **e, gasp_mf_info *info,
                       gasp_error *err) {
  gasp_engine_opts eo = *eo0;
  eo.max_iter = 1; /* one superstep per half-step */
  eo.on_iteration = NULL;
  eo.always_active = 0;
  /* checkpoints are taken between sweeps by run(), not by the engine */
  eo.checkpoint_dir = eo.resume_dir = NULL;
  eo.checkpoint_every = 0;
  eo.checkpoint_seconds = 0;
  for (;;) {
    gasp_program prog = {0};
    prog.vertex_size = (size_t)m->stride * sizeof(float);
    prog.acc_size = gpu ? 0 : prog.vertex_size;
    prog.init_vertex = mf_init;
    prog.gather_edges = gpu ? NULL : mf_edges;
    prog.gather_vertex = gpu ? NULL : mf_gather;
    prog.apply = gpu ? mf_apply_device_only : mf_apply;
    if (gpu) prog.device_apply = als_device_apply;
    prog.user = m;
    eo.gpu = gpu ? GASP_GPU_ON : GASP_GPU_OFF;
    int rc = gasp_engine_new(e, g, &prog, &eo, err);
    if (rc) return rc;
    m->F = gasp_graph_vertex_data(g);
    gasp_engine_gpu_stats(*e, &info->gpu);
    /* lambda only: gpu_params() sets alpha and YtY before each half-step */
    if (!gpu ||
        (!als_gpu_open(m) && !mf_gpu_params(m->gpu, m->lambda, 0, NULL,
                                            m->gpu_err, sizeof m->gpu_err)))
      return GASP_OK;
    if (eo0->gpu != GASP_GPU_AUTO)
      return tk_lib_fail(err, GASP_EIO, "als: %s", m->gpu_err);
    mf_gpu_free(m->gpu); /* declined: start again on the CPU */
    m->gpu = NULL;
    gasp_engine_free(e);
    gpu = 0;
    memset(&info->gpu, 0, sizeof info->gpu); /* why: the device's reason */
    memcpy(info->gpu.device, m->gpu_err,
           strnlen(m->gpu_err, sizeof info->gpu.device - 1));
  }
}

/* ---- the sweeps ---------------------------------------------------------- */

/* Runs one half-step: every vertex of [lo, hi) updates once. */
static int half_step(gasp_engine *e, gasp_vid lo, gasp_vid hi,
                     uint64_t *updates, gasp_error *err) {
  for (gasp_vid v = lo; v < hi; v++)
    gasp_engine_signal(e, v, 0);
  gasp_run_stats st;
  int rc = gasp_engine_run(e, &st);
  if (rc) {
    if (err) *err = *gasp_engine_last_error(e);
    return rc;
  }
  *updates += st.updates;
  return GASP_OK;
}

/* One sweep: users, then items. */
static int sweep(mf *m, gasp_engine *e, uint64_t it, uint64_t *updates,
                 gasp_error *err) {
  int rc;
  m->epoch = it;
  m->sp.lr = (float)(m->lr * pow(m->decay, (double)(it - 1)));
  for (int t = 0; t < m->threads; t++)
    m->th[t].sse = 0, m->th[t].n = 0;
  if ((m->implicit && (rc = gram(m, e, m->own_users, m->owned, err))) ||
      (rc = gpu_params(m, err)) ||
      (rc = half_step(e, 0, m->own_users, updates, err)) ||
      (m->implicit && (rc = gram(m, e, 0, m->own_users, err))) ||
      (rc = gpu_params(m, err)) ||
      (rc = half_step(e, m->own_users, m->owned, updates, err)) ||
      (m->gpu && !m->implicit && (rc = train_sse(m, e, err))))
    return rc;
  return GASP_OK;
}

/* The padded vertex data as the caller's rows. */
static void copy_out(const mf *m, float *factors, float *bias) {
  for (gasp_vid v = 0; v < m->nv; v++) {
    const float *x = m->F + (size_t)v * (size_t)m->stride;
    memcpy(factors + (size_t)v * (size_t)m->k, x, (size_t)m->k * sizeof *x);
    if (bias) bias[v] = x[m->kp];
  }
}

/* The caller's callbacks after sweep `it`; non-zero: stop. */
static int report(const mf *m, const gasp_mf_opts *o, const gasp_mf_sweep *s,
                  float *factors, float *bias) {
  int stop = 0;
  if (o->on_sweep) {
    copy_out(m, factors, bias);
    stop = o->on_sweep(o->on_sweep_user, s);
  }
  if (o->engine.on_iteration) {
    gasp_iter_info info = {s->sweep, m->owned, s->updates, s->seconds,
                           s->train_rmse};
    stop |= o->engine.on_iteration(o->engine.on_iteration_user, &info);
  }
  return stop;
}

/* ---- checkpoints -----------------------------------------------------
 *
 * Between sweeps (every opts.engine.checkpoint_every sweeps, or
 * checkpoint_seconds apart): the factors are the vertex data, and a sweep
 * depends on nothing else but its number (the SGD rate and pass starts
 * follow from it), so the engine's checkpoint plus the sweep count and
 * the update count is the whole state.  The run key names the method and
 * every option that shapes the factors. */

typedef struct mf_ck {
  uint64_t sweep, updates;
} mf_ck;

static int mf_checkpoint_setup(mf *m, gasp_engine *e, const gasp_mf_opts *o,
                               const double *weights, mf_ck *ck,
                               gasp_error *err) {
  const gasp_engine_opts *eo = &o->engine;
  if (!eo->checkpoint_dir && !eo->resume_dir) return GASP_OK;
  uint64_t wh = 0; /* weighted ALS: the weights shape the factors */
  for (uint64_t s = 0; weights && s < m->out.num_edges; s++) {
    uint64_t b;
    memcpy(&b, &weights[s], sizeof b);
    wh = (wh ^ b) * 0x100000001b3ull;
  }
  char key[320];
  snprintf(key, sizeof key,
           "mf %s rank=%d lambda=%.15g alpha=%.15g lr=%.15g decay=%.15g "
           "lambda_bias=%.15g lr_implicit=%.15g lambda_implicit=%.15g "
           "seed=%llu weights=%016llx",
           m->svdpp  ? "svdpp"
           : m->wals ? "wals"
           : m->nmf  ? "nmf"
           : m->als  ? "als"
                     : (m->biased ? "sgd-biased" : "sgd"),
           m->k, m->lambda, m->alpha, m->lr, m->decay, m->lambda_bias,
           m->lr_implicit, m->lambda_implicit, (unsigned long long)m->seed,
           (unsigned long long)wh);
  int rc = gasp_engine_set_checkpoint_key(e, key);
  if (!rc) rc = gasp_engine_checkpoint_state(e, "mf.sweep", ck, sizeof *ck);
  if (rc) return tk_lib_fail(err, rc, "mf: out of memory");
  if (!eo->resume_dir) return GASP_OK;
  if ((rc = gasp_engine_resume(e, eo->resume_dir, NULL))) {
    if (err) *err = *gasp_engine_last_error(e);
    return rc;
  }
  if (m->gpu) { /* the device's copy of the factors, as restored */
    gasp_vid *all = gasp__malloc((m->nv ? m->nv : 1) * sizeof *all);
    if (!all) return tk_lib_fail(err, GASP_ENOMEM, "mf: out of memory");
    for (gasp_vid v = 0; v < m->nv; v++)
      all[v] = v;
    rc = mf_gpu_upload_rows(m->gpu, all, m->nv, m->F, m->gpu_err,
                            sizeof m->gpu_err);
    free(all);
    if (rc) return tk_lib_fail(err, GASP_EIO, "als: %s", m->gpu_err);
  }
  return GASP_OK;
}

/* After sweep `it`: a checkpoint when one is due. */
static int mf_checkpoint(gasp_engine *e, const gasp_mf_opts *o, mf_ck *ck,
                         double *last, uint64_t *last_sweep,
                         gasp_run_stats *st, gasp_error *err) {
  const gasp_engine_opts *eo = &o->engine;
  if (!eo->checkpoint_dir || (!eo->checkpoint_every && !eo->checkpoint_seconds))
    return GASP_OK;
  double t = now();
  double due = (eo->checkpoint_every &&
                ck->sweep - *last_sweep >= eo->checkpoint_every) ||
               (eo->checkpoint_seconds > 0 && t - *last >= eo->checkpoint_seconds);
  if (eo->checkpoint_seconds > 0 && eo->dist) { /* rank 0's clock */
    double v = gasp_cluster_rank(gasp_dist_cluster(eo->dist)) == 0 ? due : 0;
    int rc = allreduce(e, &v, 1, GASP_REDUCE_MAX, err);
    if (rc) return rc;
    due = v;
  }
  if (!due) return GASP_OK;
  int rc = gasp_engine_checkpoint(e, eo->checkpoint_dir);
  if (rc) {
    if (err) *err = *gasp_engine_last_error(e);
    return rc;
  }
  *last = now();
  *last_sweep = ck->sweep;
  st->checkpoints++;
  st->checkpoint_seconds += *last - t;
  return GASP_OK;
}

static int run(mf *m, gasp_engine *e, const gasp_mf_opts *o, uint64_t sweeps,
               float *factors, float *bias, gasp_mf_info *info,
               gasp_run_stats *st, const double *weights, gasp_error *err) {
  double t0 = now();
  mf_ck ck = {0, 0};
  double r0 = now();
  int rc = mf_checkpoint_setup(m, e, o, weights, &ck, err);
  if (rc) return rc;
  if (o->engine.resume_dir) {
    st->resumed = 1;
    st->resumed_from = ck.sweep;
    st->resume_seconds = now() - r0;
    t0 = now();
  }
  uint64_t updates = ck.updates, last_sweep = ck.sweep;
  double last_ck = now();
  st->reason = GASP_STOP_MAX_ITER;
  st->iterations = ck.sweep;
  st->updates = updates;
  for (uint64_t it = ck.sweep + 1; it <= sweeps; it++) {
    double ts = now();
    if ((rc = sweep(m, e, it, &updates, err))) break;
    double sweep_s = now() - ts;
    double sn[2] = {0, 0}; /* squared error and ratings, of every rank */
    for (int t = 0; t < m->threads; t++)
      sn[0] += m->th[t].sse, sn[1] += (double)m->th[t].n;
    if ((rc = allreduce(e, sn, 2, GASP_REDUCE_SUM, err))) break;
    info->train_rmse = sn[1] > 0 ? sqrt(sn[0] / sn[1]) : NAN;
    st->iterations = it;
    st->updates = updates;
    gasp_mf_sweep s = {it,      info->train_rmse, sweep_s, now() - t0,
                       updates, factors,          bias,    e};
    if (report(m, o, &s, factors, bias)) {
      st->reason = GASP_STOP_PROGRAM;
      break;
    }
    ck.sweep = it;
    ck.updates = updates;
    if ((rc = mf_checkpoint(e, o, &ck, &last_ck, &last_sweep, st, err)))
      break;
  }
  st->seconds = now() - t0;
  return rc;
}

/* ---- the calls ----------------------------------------------------------- */

void gasp_mf_opts_init(gasp_mf_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->rank = 20;
  o->lambda = 0.1;
  o->lr = 0.04;
  o->decay = 0.95;
  o->lambda_bias = -1;
  o->lr_implicit = 0.03;
  o->lambda_implicit = 20;
  o->seed = 1;
}

static int check(gasp_graph *g, const gasp_mf_opts *o, const float *factors,
                 int als, int nmf, int svdpp, int wals, gasp_error *err) {
  const char *name = svdpp  ? "svdpp"
                     : wals ? "wals"
                     : nmf  ? "nmf"
                     : als  ? "als"
                            : "sgd";
  if (!g || !o || !factors)
    return tk_lib_fail(err, GASP_EINVAL, "%s: no graph, options or factors",
                       name);
  if (!gasp_graph_weights(g) ||
      (!o->engine.dist && !gasp_graph_is_bipartite(g)))
    return tk_lib_fail(err, GASP_EINVAL,
                       "%s: not a ratings graph (need users, items and "
                       "ratings: a bipartite graph with weights)",
                       name);
  if (o->engine.engine != GASP_ENGINE_SYNC || o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "%s: runs on the sync engine with a barrier per "
                       "half-step (alternating sides is the chromatic "
                       "schedule of the bipartite graph)",
                       name);
  if (o->rank < 1 || o->rank > 1024)
    return tk_lib_fail(err, GASP_EINVAL, "%s: rank %d is not in 1 .. 1024",
                       name, o->rank);
  if (!(o->lambda >= 0))
    return tk_lib_fail(err, GASP_EINVAL, "%s: lambda %g is negative", name,
                       o->lambda);
  if (nmf && o->alpha != 0)
    return tk_lib_fail(err, GASP_EINVAL,
                       "nmf: no implicit feedback (alpha must be 0)");
  if (als && !(o->alpha >= 0 && o->alpha < INFINITY))
    return tk_lib_fail(err, GASP_EINVAL, "als: alpha %g is not finite and >= 0",
                       o->alpha);
  if (!als && (!(o->lr > 0) || !(o->decay > 0)))
    return tk_lib_fail(err, GASP_EINVAL, "%s: lr and decay must be > 0",
                       name);
  if (svdpp && (!(o->lr_implicit >= 0 && o->lr_implicit < INFINITY) ||
                !(o->lambda_implicit >= 0 && o->lambda_implicit < INFINITY)))
    return tk_lib_fail(err, GASP_EINVAL,
                       "svdpp: lr_implicit and lambda_implicit must be "
                       "finite and >= 0");
  return GASP_OK;
}

/* Weighted ALS: the weights by edge slot and by in-edge position, each
 * finite and >= 0. */
static int load_weights(mf *m, const double *weights, gasp_error *err) {
  uint64_t E = m->out.num_edges;
  m->wt = gasp__malloc((E ? E : 1) * sizeof *m->wt);
  m->wt_in = gasp__malloc((E ? E : 1) * sizeof *m->wt_in);
  if (!m->wt || !m->wt_in)
    return tk_lib_fail(err, GASP_ENOMEM, "wals: out of memory");
  for (uint64_t s = 0; s < E; s++) {
    if (!(weights[s] >= 0 && weights[s] < INFINITY))
      return tk_lib_fail(err, GASP_EINVAL,
                         "wals: the weight of edge slot %llu is %g (weights "
                         "must be finite and >= 0)",
                         (unsigned long long)s, weights[s]);
    m->wt[s] = (float)weights[s];
  }
  for (uint64_t s = 0; s < E; s++)
    m->wt_in[s] = m->wt[m->in.slot[s]];
  return GASP_OK;
}

static int mf_run(gasp_graph *g, const gasp_mf_opts *o, int als, int nmf,
                  int svdpp, const double *weights, float *factors,
                  float *bias, float *implicit, gasp_mf_info *info,
                  gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats st0;
  gasp_run_stats *st = stats ? stats : &st0;
  gasp_mf_info info0;
  if (!info) info = &info0;
  memset(st, 0, sizeof *st);
  memset(info, 0, sizeof *info);
  info->train_rmse = NAN;
  int rc = check(g, o, factors, als, nmf, svdpp, weights != NULL, err);
  if (rc) return rc;
  if (!als && (o->biased || svdpp) && !bias)
    return tk_lib_fail(err, GASP_EINVAL, "%s: biased, but no bias array",
                       svdpp ? "svdpp" : "sgd");

  mf m;
  memset(&m, 0, sizeof m);
  m.als = als;
  m.nmf = nmf;
  m.svdpp = svdpp;
  m.wals = weights != NULL;
  m.k = o->rank;
  m.implicit = als && o->alpha > 0;
  m.biased = !als && (o->biased || svdpp);
  m.lr_implicit = o->lr_implicit;
  m.lambda_implicit = o->lambda_implicit;
  m.lambda = o->lambda;
  m.alpha = als ? o->alpha : 0;
  m.lr = o->lr;
  m.decay = o->decay;
  m.lambda_bias = o->lambda_bias < 0 ? o->lambda : o->lambda_bias;
  m.seed = o->seed;
  m.kp = mf_kpad(m.k);
  m.stride = mf_stride(m.k, m.biased) + (svdpp ? 2 * m.kp : 0);
  uint64_t sweeps = o->engine.max_iter ? o->engine.max_iter : als ? 10 : 40;
  gasp_engine *e = NULL;
  int gpu = want_gpu(&m, &o->engine, err);
  if (gpu < 0) return gpu;
  if ((rc = load_ratings(&m, g, o->engine.dist, err)) ||
      (m.wals && (rc = load_weights(&m, weights, err))) ||
      (m.implicit &&
       !(m.yty = gasp__calloc((size_t)m.k * (size_t)m.k, sizeof *m.yty)) &&
       (rc = tk_lib_fail(err, GASP_ENOMEM, "als: out of memory"))) ||
      (rc = engine_open(&m, g, &o->engine, gpu, &e, info, err)) ||
      (rc = rating_stats(&m, g, e, err)))
    goto out;
  if (nmf && m.rmin < 0) {
    rc = tk_lib_fail(err, GASP_EINVAL,
                     "nmf: ratings must be non-negative (the smallest is %g)",
                     m.rmin);
    goto out;
  }
  info->mean = m.mean;
  info->min_rating = m.rmin;
  info->max_rating = m.rmax;
  m.sp = (mf_sgd_par){m.k,          m.stride,        m.biased,
                      (float)m.lr,  (float)m.lambda, (float)m.lambda_bias,
                      (float)m.mean};
  m.threads = gasp_engine_threads(e);
  if ((rc = alloc_threads(&m, err))) goto out;
  st->threads = m.threads;
  rc = run(&m, e, o, sweeps, factors, m.biased ? bias : NULL, info, st,
           weights, err);
  if (rc) goto out;
  copy_out(&m, factors, m.biased ? bias : NULL);
  if (svdpp && implicit)
    for (gasp_vid v = 0; v < m.nv; v++)
      memcpy(implicit + (size_t)v * (size_t)m.k,
             m.F + (size_t)v * (size_t)m.stride + m.kp + 8,
             (size_t)m.k * sizeof *implicit);
  if (m.gpu) gasp_engine_gpu_stats(e, &info->gpu);
out:
  gasp_engine_free(&e);
  mf_free(&m);
  return rc;
}

int gasp_als(gasp_graph *ratings, const gasp_mf_opts *o, float *factors,
             gasp_mf_info *info, gasp_run_stats *stats, gasp_error *err) {
  return mf_run(ratings, o, 1, 0, 0, NULL, factors, NULL, NULL, info, stats,
                err);
}

int gasp_wals(gasp_graph *ratings, const gasp_mf_opts *o,
              const double *weights, float *factors, gasp_mf_info *info,
              gasp_run_stats *stats, gasp_error *err) {
  if (!weights) /* before mf_run, which would take it for plain ALS */
    return tk_lib_fail(err, GASP_EINVAL, "wals: no weights");
  if (o && o->alpha != 0)
    return tk_lib_fail(err, GASP_EINVAL,
                       "wals: no implicit feedback (alpha must be 0)");
  return mf_run(ratings, o, 1, 0, 0, weights, factors, NULL, NULL, info, stats,
                err);
}

int gasp_nmf(gasp_graph *ratings, const gasp_mf_opts *o, float *factors,
             gasp_mf_info *info, gasp_run_stats *stats, gasp_error *err) {
  return mf_run(ratings, o, 1, 1, 0, NULL, factors, NULL, NULL, info, stats,
                err);
}

int gasp_sgd(gasp_graph *ratings, const gasp_mf_opts *o, float *factors,
             float *bias, gasp_mf_info *info, gasp_run_stats *stats,
             gasp_error *err) {
  return mf_run(ratings, o, 0, 0, 0, NULL, factors, bias, NULL, info, stats,
                err);
}

int gasp_svdpp(gasp_graph *ratings, const gasp_mf_opts *o, float *factors,
               float *bias, float *implicit, gasp_mf_info *info,
               gasp_run_stats *stats, gasp_error *err) {
  return mf_run(ratings, o, 0, 0, 1, NULL, factors, bias, implicit, info,
                stats, err);
}
