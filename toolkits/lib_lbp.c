/*
 * lib_lbp.c -- gasp_lbp (gasp_toolkits.h): sum-product loopy belief
 * propagation on a pairwise Markov random field (Pearl 1988; Yedidia,
 * Freeman and Weiss 2003), the way GraphLab runs it.
 *
 * The model becomes a graph of one vertex per variable and two arcs per
 * factor (u -> v and v -> u, the factor's index as the arc's weight); the
 * message a variable sends along a factor lives on that arc, in an array
 * this file owns (a message u -> v has card[v] entries, normalised to sum
 * 1).  A vertex update recomputes every message its variable sends:
 *
 *   m_{a->b}(x_b) ∝ sum_{x_a} psi_f(x_a, x_b) phi_a(x_a)
 *                            prod_{c->a, c->a not the arc b->a of f} m(x_a)
 *
 * the product in log space, each leave-one-out product from a prefix and a
 * suffix of the incoming logs (no division, so zeros are exact).
 *
 *  async: residual BP (Elidan, McGraw and Koller, UAI 2006) as GraphLab
 *         schedules it: after an update each neighbour whose message
 *         changed by more than tol since the neighbour last read it is
 *         signalled with that change as its priority, and the priority
 *         scheduler runs the largest first.  (Changes add up per arc until
 *         read: a run of changes each below tol is not lost.)
 *         Edge consistency (the default here) keeps a neighbour from
 *         reading a message while it is written.
 *  sync:  flooding BP: every vertex each superstep, reading the messages
 *         of the superstep before from one buffer and writing the other,
 *         until no message changes by more than tol.  The same result for
 *         any number of threads.
 *
 * Beliefs are phi_a times the product of the incoming messages,
 * normalised; on a tree both schedules reach the exact marginals.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PAD = 8 }; /* doubles between per-thread maxima (a cache line) */

typedef struct lbp {
  const gasp_mrf *mrf;
  uint64_t *uoff;     /* n + 1: offsets of the unary tables */
  const double **tab; /* per factor: its pairwise table */
  uint64_t *moff;     /* per arc (edge slot): offset of its message */
  uint64_t *fac;      /* per arc: its factor */
  uint32_t *rev;      /* per arc: the arc of the same factor the other way */
  double *msg[2];     /* message buffers (sync: both; async: msg[0]) */
  double *resid;      /* async, per arc: the change of its message since
                         its target last read it */
  double *worst;      /* per thread: the largest change (sync) */
  double *scratch;    /* per thread: scratch_len doubles */
  size_t scratch_len;
  gasp_adjacency in, out;
  uint32_t kmax;
  int async, cur; /* sync: msg[cur] is the superstep before's */
  double tol, damping;
  gasp_engine *e;
  int (*user_iter)(void *, const gasp_iter_info *);
  void *user_iter_arg;
  double last_change;
  int converged;
  int zero; /* a message came out all zero */
} lbp;

/* Recomputes the messages vertex a sends, reading the incoming ones from
 * `in` and writing the new ones to `outb` (NULL: only measure); returns
 * the largest change.  resid (optional) adds each arc's change to its
 * entry; *gap (optional) gets how far a damped message still is from the
 * one computed. */
static double update(lbp *p, gasp_vid a, double *sc, const double *in,
                     double *outb, double *resid, double *gap) {
  const gasp_mrf *m = p->mrf;
  uint32_t ka = m->card[a];
  const double *phi = m->unary + p->uoff[a];
  uint64_t i0 = p->in.off[a], deg = p->in.off[a + 1] - i0;
  /* P_i = log phi + sum_{j < i} log m_j, rows 0 .. deg */
  double *P = sc, *S = sc + (deg + 1) * ka, *cav = S + ka, *nm = cav + ka;
  for (uint32_t x = 0; x < ka; x++)
    P[x] = log(phi[x]);
  for (uint64_t i = 0; i < deg; i++) {
    const double *mi = in + p->moff[p->in.slot[i0 + i]];
    for (uint32_t x = 0; x < ka; x++)
      P[(i + 1) * ka + x] = P[i * ka + x] + log(mi[x]);
  }
  for (uint32_t x = 0; x < ka; x++)
    S[x] = 0;
  double worst = 0, far = 0;
  for (uint64_t i = deg; i-- > 0;) {
    uint32_t in_arc = p->in.slot[i0 + i];
    uint32_t s = p->rev[in_arc]; /* the arc a -> b of the same factor */
    double mx = -INFINITY;
    for (uint32_t x = 0; x < ka; x++) {
      cav[x] = P[i * ka + x] + S[x];
      if (cav[x] > mx) mx = cav[x];
    }
    for (uint32_t x = 0; x < ka; x++)
      cav[x] = mx > -INFINITY ? exp(cav[x] - mx) : 0;
    uint64_t f = p->fac[s];
    gasp_vid b = p->in.nbr[i0 + i];
    uint32_t kb = m->card[b];
    const double *T = p->tab[f];
    double sum = 0;
    if (m->u[f] == a) { /* rows are a's states */
      for (uint32_t y = 0; y < kb; y++)
        nm[y] = 0;
      for (uint32_t x = 0; x < ka; x++) {
        double c = cav[x];
        if (c == 0) continue;
        const double *row = T + (uint64_t)x * kb;
        for (uint32_t y = 0; y < kb; y++)
          nm[y] += c * row[y];
      }
    } else { /* rows are b's states */
      for (uint32_t y = 0; y < kb; y++) {
        const double *row = T + (uint64_t)y * ka;
        double t = 0;
        for (uint32_t x = 0; x < ka; x++)
          t += cav[x] * row[x];
        nm[y] = t;
      }
    }
    for (uint32_t y = 0; y < kb; y++)
      sum += nm[y];
    const double *old = in + p->moff[s];
    if (!(sum > 0) || !isfinite(sum)) {
      __atomic_store_n(&p->zero, 1, __ATOMIC_RELAXED);
      for (uint32_t y = 0; y < kb; y++)
        nm[y] = old[y];
    } else {
      for (uint32_t y = 0; y < kb; y++) {
        double t = nm[y] / sum;
        nm[y] = (1 - p->damping) * t + p->damping * old[y];
        far = fmax(far, fabs(t - nm[y]));
      }
    }
    double ch = 0;
    for (uint32_t y = 0; y < kb; y++)
      ch = fmax(ch, fabs(nm[y] - old[y]));
    if (ch > worst) worst = ch;
    if (resid) resid[s] += ch;
    if (outb) memcpy(outb + p->moff[s], nm, kb * sizeof *nm);
    /* the suffix takes in this arc's incoming message */
    const double *mi = in + p->moff[in_arc];
    for (uint32_t x = 0; x < ka; x++)
      S[x] += log(mi[x]);
  }
  if (gap) *gap = far;
  return worst;
}

static void lbp_apply(gasp_ctx *ctx, void *vp, const void *acc) {
  (void)acc;
  lbp *p = gasp_ctx_user(ctx);
  int t = gasp_ctx_thread(ctx);
  double *sc = p->scratch + (size_t)t * p->scratch_len;
  gasp_vid a = gasp_ctx_vertex(ctx);
  if (p->async) {
    /* a reads its incoming messages now: their changes are seen */
    for (uint64_t i = p->in.off[a]; i < p->in.off[a + 1]; i++)
      p->resid[p->in.slot[i]] = 0;
    update(p, a, sc, p->msg[0], p->msg[0], p->resid, (double *)vp);
    return;
  }
  double w = update(p, a, sc, p->msg[p->cur], p->msg[1 - p->cur], NULL, NULL);
  if (w > p->worst[(size_t)t * PAD]) p->worst[(size_t)t * PAD] = w;
}

/* async: the neighbours whose message moved by more than tol since they
 * last read it (changes below tol add up, so that many small ones are not
 * lost), with that change as the priority; and the vertex itself when
 * damping left a message more than tol short of the one computed (its
 * inputs may not change again to bring it back) */
static void lbp_scatter(gasp_ctx *ctx, const void *vp, const gasp_nbrs *nb) {
  const lbp *p = gasp_ctx_user(ctx);
  double gap = *(const double *)vp;
  if (gap > p->tol) gasp_signal_priority(ctx, gasp_ctx_vertex(ctx), gap);
  for (uint64_t i = 0; i < nb->n_out; i++) {
    double r = p->resid[nb->out_slot0 + i];
    if (r > p->tol) gasp_signal_priority(ctx, nb->out[i], r);
  }
}

/* sync, after each superstep: swap the buffers; converged when no message
 * moved by more than tol */
static int lbp_iteration(void *user, const gasp_iter_info *info) {
  lbp *p = user;
  int T = gasp_engine_threads(p->e);
  double w = 0;
  for (int t = 0; t < T; t++) {
    w = fmax(w, p->worst[(size_t)t * PAD]);
    p->worst[(size_t)t * PAD] = 0;
  }
  p->cur = 1 - p->cur;
  p->last_change = w;
  gasp_iter_info mine = *info;
  mine.residual = w;
  int stop = p->user_iter ? p->user_iter(p->user_iter_arg, &mine) : 0;
  if (!(w > p->tol)) p->converged = 1;
  return stop || p->converged;
}

void gasp_lbp_opts_init(gasp_lbp_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->engine.engine = GASP_ENGINE_ASYNC;
  o->engine.scheduler = GASP_SCHED_PRIORITY;
  o->engine.consistency = GASP_CONSISTENCY_EDGE;
  o->tol = 1e-5;
}

/* The model's tables: sizes, signs, offsets.  0 or a status. */
static int check_model(const gasp_mrf *m, lbp *p, gasp_error *err) {
  if (!m->n) return tk_lib_fail(err, GASP_EINVAL, "lbp: no variables");
  if (!m->card || !m->unary || (m->m && (!m->u || !m->v || !m->pair)))
    return tk_lib_fail(err, GASP_EINVAL, "lbp: a table of the model is NULL");
  if (m->n > GASP_MAX_VERTICES || 2 * m->m > GASP_MAX_EDGES)
    return tk_lib_fail(err, GASP_ERANGE, "lbp: too many variables or factors");
  if (!(p->uoff = gasp__malloc_array(m->n + 1, sizeof *p->uoff)) ||
      !(p->tab = gasp__malloc_array(m->m ? m->m : 1, sizeof *p->tab)))
    return tk_lib_fail(err, GASP_ENOMEM, "lbp: out of memory");
  p->uoff[0] = 0;
  for (uint64_t i = 0; i < m->n; i++) {
    uint32_t k = m->card[i];
    if (k == 0)
      return tk_lib_fail(err, GASP_EINVAL, "lbp: variable %llu has no states",
                         (unsigned long long)i);
    if (k > p->kmax) p->kmax = k;
    const double *t = m->unary + p->uoff[i];
    double s = 0;
    for (uint32_t x = 0; x < k; x++) {
      if (!(t[x] >= 0) || !isfinite(t[x]))
        return tk_lib_fail(err, GASP_EINVAL,
                           "lbp: variable %llu: unary potential %u is %g (not "
                           "a finite non-negative number)",
                           (unsigned long long)i, x, t[x]);
      s += t[x];
    }
    if (!(s > 0))
      return tk_lib_fail(err, GASP_EINVAL,
                         "lbp: variable %llu: its unary potentials are all 0",
                         (unsigned long long)i);
    p->uoff[i + 1] = p->uoff[i] + k;
  }
  uint64_t next = 0;
  for (uint64_t f = 0; f < m->m; f++) {
    uint64_t a = m->u[f], b = m->v[f];
    if (a >= m->n || b >= m->n)
      return tk_lib_fail(
          err, GASP_EINVAL, "lbp: factor %llu names variable %llu of %llu",
          (unsigned long long)f, (unsigned long long)(a >= m->n ? a : b),
          (unsigned long long)m->n);
    if (a == b)
      return tk_lib_fail(err, GASP_EINVAL,
                         "lbp: factor %llu joins variable %llu to itself",
                         (unsigned long long)f, (unsigned long long)a);
    uint64_t sz = (uint64_t)m->card[a] * m->card[b];
    const double *t = m->pair + (m->pair_off ? m->pair_off[f] : next);
    next += sz;
    p->tab[f] = t;
    /* a table shared by many factors is checked once */
    if (f > 0 && m->pair_off && m->pair_off[f] == m->pair_off[f - 1] &&
        m->card[a] == m->card[m->u[f - 1]] &&
        m->card[b] == m->card[m->v[f - 1]])
      continue;
    double s = 0;
    for (uint64_t x = 0; x < sz; x++) {
      if (!(t[x] >= 0) || !isfinite(t[x]))
        return tk_lib_fail(err, GASP_EINVAL,
                           "lbp: factor %llu: pairwise potential %llu is %g "
                           "(not a finite non-negative number)",
                           (unsigned long long)f, (unsigned long long)x, t[x]);
      s += t[x];
    }
    if (!(s > 0))
      return tk_lib_fail(err, GASP_EINVAL,
                         "lbp: factor %llu: its pairwise potentials are all 0",
                         (unsigned long long)f);
  }
  return GASP_OK;
}

/* The graph of the model: arcs u -> v and v -> u of every factor, weighted
 * by the factor's index. */
static int model_graph(const gasp_mrf *m, int threads, gasp_graph **g,
                       gasp_error *err) {
  uint64_t na = 2 * m->m;
  gasp_gid *src = gasp__malloc_array(na ? na : 1, sizeof *src);
  gasp_gid *dst = gasp__malloc_array(na ? na : 1, sizeof *dst);
  double *w = gasp__malloc_array(na ? na : 1, sizeof *w);
  int rc = GASP_OK;
  if (!src || !dst || !w) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "lbp: out of memory");
    goto out;
  }
  for (uint64_t f = 0; f < m->m; f++) {
    src[2 * f] = m->u[f], dst[2 * f] = m->v[f], w[2 * f] = (double)f;
    src[2 * f + 1] = m->v[f], dst[2 * f + 1] = m->u[f],
                w[2 * f + 1] = (double)f;
  }
  rc = gasp_graph_from_coo(g, na, src, dst, w, m->n, GASP_BUILD_WEIGHTED,
                           threads, err);
  /* every arc is weighted by its factor: ask for weights even with none */
  if (!rc && !gasp_graph_weights(*g) && na) {
    gasp_graph_free(g);
    rc = tk_lib_fail(err, GASP_EINVAL, "lbp: the model graph has no weights");
  }
out:
  free(src);
  free(dst);
  free(w);
  return rc;
}

/* Arcs: factor, reverse arc, message offsets; messages uniform. */
static int setup_arcs(lbp *p, gasp_graph *g, gasp_error *err) {
  const gasp_mrf *m = p->mrf;
  gasp_graph_out_edges(g, &p->out);
  gasp_graph_in_edges(g, &p->in);
  uint64_t na = p->out.num_edges;
  const double *w = gasp_graph_weights(g);
  uint32_t *first = NULL;
  p->fac = gasp__malloc_array(na ? na : 1, sizeof *p->fac);
  p->rev = gasp__malloc_array(na ? na : 1, sizeof *p->rev);
  p->moff = gasp__malloc_array(na + 1, sizeof *p->moff);
  first = gasp__malloc_array(m->m ? m->m : 1, sizeof *first);
  if (!p->fac || !p->rev || !p->moff || !first) goto oom;
  for (uint64_t f = 0; f < m->m; f++)
    first[f] = UINT32_MAX;
  uint64_t len = 0;
  for (gasp_vid a = 0; a < p->out.num_vertices; a++)
    for (uint64_t s = p->out.off[a]; s < p->out.off[a + 1]; s++) {
      uint64_t f = (uint64_t)w[s];
      p->fac[s] = f;
      p->moff[s] = len;
      len += m->card[p->out.nbr[s]];
      if (first[f] == UINT32_MAX) {
        first[f] = (uint32_t)s;
      } else {
        p->rev[s] = first[f];
        p->rev[first[f]] = (uint32_t)s;
      }
    }
  p->moff[na] = len;
  free(first);
  first = NULL;
  for (int b = 0; b < (p->async ? 1 : 2); b++) {
    if (!(p->msg[b] = gasp__malloc_array(len ? len : 1, sizeof *p->msg[b])))
      goto oom;
    for (uint64_t s = 0; s < na; s++) {
      uint32_t k = m->card[p->out.nbr[s]];
      for (uint32_t y = 0; y < k; y++)
        p->msg[b][p->moff[s] + y] = 1.0 / k;
    }
  }
  if (p->async && !(p->resid = gasp__calloc(na ? na : 1, sizeof *p->resid)))
    goto oom;
  uint64_t maxdeg = 0;
  for (gasp_vid a = 0; a < p->in.num_vertices; a++)
    if (p->in.off[a + 1] - p->in.off[a] > maxdeg)
      maxdeg = p->in.off[a + 1] - p->in.off[a];
  p->scratch_len = (size_t)(maxdeg + 4) * p->kmax;
  return GASP_OK;
oom:
  free(first);
  return tk_lib_fail(err, GASP_ENOMEM, "lbp: out of memory");
}

static void lbp_free(lbp *p) {
  gasp_engine_free(&p->e);
  free(p->uoff);
  free(p->tab);
  free(p->moff);
  free(p->fac);
  free(p->rev);
  free(p->msg[0]);
  free(p->msg[1]);
  free(p->resid);
  free(p->worst);
  free(p->scratch);
}

/* Beliefs and MAP states from the final messages; returns the first
 * variable whose every state has belief 0 plus 1, or 0. */
static uint64_t beliefs(lbp *p, const double *msg, double *belief,
                        uint32_t *map) {
  const gasp_mrf *m = p->mrf;
  double *b = p->scratch;
  uint64_t none = 0;
  for (gasp_vid a = 0; a < m->n; a++) {
    uint32_t k = m->card[a];
    const double *phi = m->unary + p->uoff[a];
    for (uint32_t x = 0; x < k; x++)
      b[x] = log(phi[x]);
    for (uint64_t i = p->in.off[a]; i < p->in.off[a + 1]; i++) {
      const double *mi = msg + p->moff[p->in.slot[i]];
      for (uint32_t x = 0; x < k; x++)
        b[x] += log(mi[x]);
    }
    double mx = -INFINITY, s = 0;
    uint32_t arg = 0;
    for (uint32_t x = 0; x < k; x++)
      if (b[x] > mx) mx = b[x], arg = x;
    if (!(mx > -INFINITY) && !none) none = (uint64_t)a + 1;
    for (uint32_t x = 0; x < k; x++)
      s += (b[x] = mx > -INFINITY ? exp(b[x] - mx) : 1);
    if (belief)
      for (uint32_t x = 0; x < k; x++)
        belief[p->uoff[a] + x] = b[x] / s;
    if (map) map[a] = arg;
  }
  return none;
}

int gasp_lbp(const gasp_mrf *mrf, const gasp_lbp_opts *o, double *belief,
             uint32_t *map, gasp_lbp_info *info, gasp_run_stats *stats,
             gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  gasp_lbp_info info0;
  if (!info) info = &info0;
  memset(st, 0, sizeof *st);
  memset(info, 0, sizeof *info);
  if (!mrf || !o) return tk_lib_fail(err, GASP_EINVAL, "no model or options");
  int async = o->engine.engine == GASP_ENGINE_ASYNC;
  if (o->engine.dist)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "lbp runs in one process (its messages live on arcs "
                       "that ranks do not exchange)");
  if (o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "lbp: flooding BP needs whole supersteps (no "
                       "staleness)");
  if (async && o->engine.consistency == GASP_CONSISTENCY_VERTEX)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "lbp: an update writes the messages on its edges: "
                       "edge or full consistency");
  if (!(o->tol >= 0) || !isfinite(o->tol))
    return tk_lib_fail(err, GASP_EINVAL, "lbp: tol %g is not a number >= 0",
                       o->tol);
  if (!(o->damping >= 0 && o->damping < 1))
    return tk_lib_fail(err, GASP_EINVAL, "lbp: damping %g is not in [0, 1)",
                       o->damping);
  lbp p;
  memset(&p, 0, sizeof p);
  p.mrf = mrf;
  p.async = async;
  p.tol = o->tol;
  p.damping = o->damping;
  p.user_iter = o->engine.on_iteration;
  p.user_iter_arg = o->engine.on_iteration_user;
  gasp_graph *g = NULL;
  int rc = check_model(mrf, &p, err);
  if (rc) goto out;
  if ((rc = model_graph(mrf, o->engine.threads, &g, err))) goto out;
  if ((rc = setup_arcs(&p, g, err))) goto out;
  gasp_program prog = {0};
  prog.vertex_size = sizeof(double); /* async: the damping gap */
  prog.acc_size = sizeof(double);
  prog.apply = lbp_apply;
  prog.user = &p;
  gasp_engine_opts eo = o->engine;
  if (!eo.max_iter) eo.max_iter = 1000;
  if (async) {
    prog.scatter_dir = GASP_DIR_OUT;
    prog.scatter_vertex = lbp_scatter;
    /* the chromatic schedule ignores priorities: residual BP takes locks */
    if (eo.scheduler == GASP_SCHED_PRIORITY &&
        eo.locking == GASP_LOCKING_DEFAULT)
      eo.locking = GASP_LOCKING_LOCKS;
  } else {
    eo.always_active = 1;
    eo.on_iteration = lbp_iteration;
    eo.on_iteration_user = &p;
  }
  if ((rc = gasp_engine_new(&p.e, g, &prog, &eo, err))) goto out;
  int T = gasp_engine_threads(p.e);
  p.worst = gasp__calloc((size_t)T * PAD, sizeof *p.worst);
  p.scratch = gasp__malloc_array((size_t)T * p.scratch_len, sizeof *p.scratch);
  if (!p.worst || !p.scratch) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "lbp: out of memory");
    goto out;
  }
  /* every vertex once, above any message change (at most 1) */
  if (async && (rc = gasp_engine_signal_all(p.e, 2.0))) {
    if (err) *err = *gasp_engine_last_error(p.e);
    goto out;
  }
  rc = gasp_engine_run(p.e, st);
  if (rc) {
    if (err) *err = *gasp_engine_last_error(p.e);
    goto out;
  }
  if (p.zero) {
    rc = tk_lib_fail(err, GASP_ERANGE,
                     "lbp: a message came out all zero (the potentials "
                     "contradict each other)");
    goto out;
  }
  const double *fin = p.msg[async ? 0 : p.cur];
  double worst = 0;
  for (gasp_vid a = 0; a < mrf->n; a++)
    worst = fmax(worst, update(&p, a, p.scratch, fin, NULL, NULL, NULL));
  info->updates = st->updates;
  info->iterations = st->iterations;
  info->residual = worst;
  info->converged = async ? st->reason == GASP_STOP_CONVERGED : p.converged;
  uint64_t none = beliefs(&p, fin, belief, map);
  if (none)
    rc = tk_lib_fail(err, GASP_ERANGE,
                     "lbp: variable %llu has belief 0 in every state (the "
                     "potentials contradict each other)",
                     (unsigned long long)none - 1);
out:
  lbp_free(&p);
  gasp_graph_free(&g);
  return rc;
}
