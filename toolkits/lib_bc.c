/*
 * lib_bc.c -- gasp_bc (gasp_toolkits.h): betweenness centrality by
 * Brandes' algorithm (Brandes, "A faster algorithm for betweenness
 * centrality", J. Math. Sociol. 25(2), 2001), the level-synchronous form
 * of Madduri et al. (IPDPS 2009) that the GAP benchmark suite runs.
 *
 * For each source s:
 *   forward   a BFS on the sync engine, superstep r reaching the vertices
 *             at depth r; a vertex's path count sigma is the sum of its
 *             predecessors' (in-neighbours at depth r - 1).  Pushing, each
 *             vertex reached in the superstep before sends its sigma to
 *             its unreached out-neighbours (messages summed); pulling,
 *             each unreached vertex sums the sigmas of its in-neighbours in
 *             the frontier.  Sigmas are integers held in doubles, so the
 *             sums are exact in any order.
 *   backward  from the deepest level up, each vertex u at depth d takes
 *             delta(u) = sigma(u) * sum over successors w (out-neighbours
 *             at depth d + 1) of (1 + delta(w)) / sigma(w), adds it to its
 *             score (not the source's) and keeps (1 + delta(u)) / sigma(u)
 *             for the level above.  On one process a level is a loop over
 *             its vertices on the engine's workers (gasp_engine_map): the
 *             vertices of a level are known only to the driver once the
 *             BFS is done (a leaf at depth d has no successor to signal
 *             it), so a superstep per level would be an engine run per
 *             level, each with set-up over every vertex; the loop walks
 *             the level's list alone.  Across ranks the successors' values
 *             are ghosts that only the engine ships: a level is an engine
 *             run over its signalled vertices, gathering from successors.
 *
 * Neighbour lists ascend by local id, so repeated edges are neighbours in
 * the list and are skipped (paths counted in the simple graph); undirected
 * runs merge the in- and out-lists.  A vertex record carries the source's
 * number (epoch): a vertex is reached by this source when its epoch is the
 * current one, so nothing is reset between sources.  Each sum a vertex
 * makes runs over its own lists in order on one worker, so the scores do
 * not depend on the thread count.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PH_FORWARD = 0, PH_BACKWARD = 1 };

/* Vertices per block of the sort by depth. */
#define BLOCK 65536
/* The byte depth of a vertex unreached, or at this depth or deeper. */
#define LEV_FAR 255

typedef struct bc_vertex {
  double x;       /* forward: sigma; after its level's backward step:
                     (1 + delta) / sigma */
  uint32_t depth; /* from the source, when reached */
  uint32_t epoch; /* the source that reached it (numbered from 1) */
} bc_vertex;

typedef struct bc {
  int undirected;
  int phase;
  uint32_t epoch;  /* the current source's number */
  uint64_t base;   /* engine supersteps before this source's BFS */
  gasp_vid source; /* local id of the current source, or GASP_VID_NONE */
  double *score;
  /* one process's backward loop */
  bc_vertex *vd;
  gasp_adjacency out, in;
  uint64_t lo; /* the level's first entry in place */
  /* the sort by depth */
  uint64_t nblocks, nlevels, owned;
  uint64_t *count; /* nblocks x nlevels: block b's vertices at depth d */
  gasp_vid *place; /* the owned reached vertices, by depth */
  uint8_t *lev;    /* one process: every vertex's depth (LEV_FAR: unreached or
                      as deep or deeper) */
} bc;

static inline int reached(const bc_vertex *v, uint32_t epoch) {
  return v->epoch == epoch;
}

/* ---- walking distinct neighbours ---------------------------------------
 * Each list ascends; a repeated neighbour is next to itself, and a
 * neighbour on both lists (undirected) is met once by merging them. */

#define EACH_NBR(a, na, b, nb, w, BODY)                                        \
  do {                                                                         \
    gasp_vid last_ = GASP_VID_NONE;                                            \
    if (!(nb)) {                                                               \
      for (uint64_t i_ = 0; i_ < (na); i_++) {                                 \
        gasp_vid w = (a)[i_];                                                  \
        if (w == last_) continue;                                              \
        last_ = w;                                                             \
        BODY                                                                   \
      }                                                                        \
    } else if (!(na)) {                                                        \
      for (uint64_t i_ = 0; i_ < (nb); i_++) {                                 \
        gasp_vid w = (b)[i_];                                                  \
        if (w == last_) continue;                                              \
        last_ = w;                                                             \
        BODY                                                                   \
      }                                                                        \
    } else {                                                                   \
      uint64_t i_ = 0, j_ = 0;                                                 \
      while (i_ < (na) || j_ < (nb)) {                                         \
        gasp_vid w = j_ == (nb) || (i_ < (na) && (a)[i_] <= (b)[j_])           \
                         ? (a)[i_++]                                           \
                         : (b)[j_++];                                          \
        if (w == last_) continue;                                              \
        last_ = w;                                                             \
        BODY                                                                   \
      }                                                                        \
    }                                                                          \
  } while (0)

/* Backward: sum over u's successors (distinct neighbours at depth + 1) of
 * their (1 + delta) / sigma. */
static double successors(const bc_vertex *vd, uint32_t epoch, uint32_t depth,
                         const gasp_vid *a, uint64_t na, const gasp_vid *b,
                         uint64_t nb) {
  double s = 0;
  EACH_NBR(a, na, b, nb, w, {
    const bc_vertex *x = &vd[w];
    if (x->depth == depth + 1 && reached(x, epoch)) s += x->x;
  });
  return s;
}

/* The same on one process from the depths copied into a byte a vertex
 * (LEV_FAR from depth 255 on, and unreached): most neighbours are not
 * successors, and their test then reads a byte that mostly sits in cache
 * instead of their 16-byte record.  Levels past it test the records. */
static double successors_lev(const bc_vertex *vd, const uint8_t *lev,
                             uint32_t epoch, uint32_t depth, const gasp_vid *a,
                             uint64_t na, const gasp_vid *b, uint64_t nb) {
  if (depth + 1 >= LEV_FAR) return successors(vd, epoch, depth, a, na, b, nb);
  double s = 0;
  uint8_t want = (uint8_t)(depth + 1);
  EACH_NBR(a, na, b, nb, w, {
    if (lev[w] == want) s += vd[w].x;
  });
  return s;
}

/* u's own step once its successors are final. */
static void finish(bc *p, gasp_vid u, bc_vertex *v, double succ) {
  double delta = v->x * succ;
  if (u != p->source) p->score[u] += delta;
  v->x = (1 + delta) / v->x;
}

/* ---- the vertex program ------------------------------------------------- */

static void bc_init(gasp_ctx *ctx, void *vd) {
  (void)ctx;
  memset(vd, 0, sizeof(bc_vertex));
}

static gasp_dir bc_gather_dir(const gasp_ctx *ctx, const void *vd) {
  const bc *p = gasp_ctx_user(ctx);
  gasp_dir both = p->undirected ? GASP_DIR_ALL : GASP_DIR_NONE;
  if (p->phase == PH_BACKWARD) return both | GASP_DIR_OUT;
  if (reached(vd, p->epoch)) return GASP_DIR_NONE;
  return both | GASP_DIR_IN;
}

/* Forward, pulling: the sigmas of the in-neighbours in the frontier (the
 * engine's bitmap on one process; else those at the depth above). */
static double frontier_sum(const bc *p, const bc_vertex *vd,
                           const uint64_t *bits, uint32_t up, const gasp_vid *a,
                           uint64_t na, const gasp_vid *b, uint64_t nb) {
  double s = 0;
  if (bits) {
    EACH_NBR(a, na, b, nb, w, {
      if ((bits[w / 64] >> (w % 64)) & 1) s += vd[w].x;
    });
  } else {
    EACH_NBR(a, na, b, nb, w, {
      if (vd[w].depth == up && reached(&vd[w], p->epoch)) s += vd[w].x;
    });
  }
  return s;
}

static void bc_gather(const gasp_ctx *ctx, const void *v, const gasp_nbrs *nb,
                      void *acc) {
  const bc *p = gasp_ctx_user(ctx);
  const bc_vertex *vd = nb->vertex_data;
  if (p->phase == PH_BACKWARD) {
    *(double *)acc = successors(vd, p->epoch, ((const bc_vertex *)v)->depth,
                                nb->out, nb->n_out, nb->in, nb->n_in);
    return;
  }
  uint32_t r = (uint32_t)(gasp_ctx_iteration(ctx) - p->base);
  *(double *)acc += frontier_sum(p, vd, nb->frontier, r - 1, nb->in, nb->n_in,
                                 nb->out, nb->n_out);
}

static void bc_apply(gasp_ctx *ctx, void *vd, const void *acc) {
  bc *p = gasp_ctx_user(ctx);
  bc_vertex *v = vd;
  double a = *(const double *)acc;
  if (p->phase == PH_BACKWARD) {
    finish(p, gasp_ctx_vertex(ctx), v, a);
    return;
  }
  if (reached(v, p->epoch) || !(a > 0)) return; /* a late or no offer */
  v->x = a;
  v->depth = (uint32_t)(gasp_ctx_iteration(ctx) - p->base);
  v->epoch = p->epoch;
}

/* Reached in this superstep: the frontier. */
static gasp_dir bc_scatter_dir(const gasp_ctx *ctx, const void *vd) {
  const bc *p = gasp_ctx_user(ctx);
  const bc_vertex *v = vd;
  if (p->phase == PH_BACKWARD || !reached(v, p->epoch) ||
      v->depth != gasp_ctx_iteration(ctx) - p->base)
    return GASP_DIR_NONE;
  return p->undirected ? GASP_DIR_ALL : GASP_DIR_OUT;
}

static void bc_scatter(gasp_ctx *ctx, const void *v, const gasp_nbrs *nb) {
  const bc *p = gasp_ctx_user(ctx);
  const bc_vertex *vd = nb->vertex_data;
  const double *sigma = &((const bc_vertex *)v)->x;
  EACH_NBR(nb->out, nb->n_out, nb->in, nb->n_in, w, {
    if (!reached(&vd[w], p->epoch)) gasp_signal_msg(ctx, w, sigma);
  });
}

/* ---- the levels ----------------------------------------------------------
 * A counting sort of the owned reached vertices by depth, block by block
 * on the workers: the vertices of each depth in ascending id. */

static void count_block(void *user, uint64_t b, int tid, void *partial) {
  (void)tid, (void)partial;
  bc *p = user;
  uint64_t *c = p->count + b * p->nlevels;
  memset(c, 0, p->nlevels * sizeof *c);
  uint64_t hi = (b + 1) * BLOCK < p->owned ? (b + 1) * BLOCK : p->owned;
  for (uint64_t v = b * BLOCK; v < hi; v++) {
    uint32_t d = reached(&p->vd[v], p->epoch) ? p->vd[v].depth : UINT32_MAX;
    if (d != UINT32_MAX) c[d]++;
    if (p->lev) p->lev[v] = d < LEV_FAR ? (uint8_t)d : LEV_FAR;
  }
}

static void place_block(void *user, uint64_t b, int tid, void *partial) {
  (void)tid, (void)partial;
  bc *p = user;
  uint64_t *c = p->count + b * p->nlevels; /* now: where each depth goes */
  uint64_t hi = (b + 1) * BLOCK < p->owned ? (b + 1) * BLOCK : p->owned;
  for (uint64_t v = b * BLOCK; v < hi; v++)
    if (reached(&p->vd[v], p->epoch))
      p->place[c[p->vd[v].depth]++] = (gasp_vid)v;
}

/* Sorts by depth into p->place; start[d] .. start[d + 1] is depth d. */
static int sort_levels(gasp_engine *e, bc *p, uint64_t *start) {
  int rc = gasp_engine_map(e, p->nblocks, 1, count_block, 0, NULL, p, NULL);
  if (rc) return rc;
  uint64_t at = 0;
  for (uint64_t d = 0; d < p->nlevels; d++) {
    start[d] = at;
    for (uint64_t b = 0; b < p->nblocks; b++) {
      uint64_t *c = &p->count[b * p->nlevels + d], k = *c;
      *c = at;
      at += k;
    }
  }
  start[p->nlevels] = at;
  return gasp_engine_map(e, p->nblocks, 1, place_block, 0, NULL, p, NULL);
}

static void back_vertex(void *user, uint64_t i, int tid, void *partial) {
  (void)tid, (void)partial;
  bc *p = user;
  gasp_vid u = p->place[p->lo + i];
  bc_vertex *v = &p->vd[u];
  const gasp_vid *a = p->out.nbr + p->out.off[u];
  uint64_t na = p->out.off[u + 1] - p->out.off[u], nb = 0;
  const gasp_vid *b = NULL;
  if (p->undirected) {
    b = p->in.nbr + p->in.off[u];
    nb = p->in.off[u + 1] - p->in.off[u];
  }
  finish(p, u, v,
         successors_lev(p->vd, p->lev, p->epoch, v->depth, a, na, b, nb));
}

/* ---- the call ------------------------------------------------------------ */

void gasp_bc_opts_init(gasp_bc_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->seed = 1;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void gasp_bc_sample(uint64_t n, uint64_t k, uint64_t seed, gasp_vid *out) {
  uint64_t s = seed, m = 0;
  for (uint64_t i = 0; i < n && m < k; i++) {
    /* take i with probability (k - m) / (n - i) */
    double u = (double)(splitmix(&s) >> 11) * 0x1p-53;
    if (k >= n || u * (double)(n - i) < (double)(k - m)) out[m++] = (gasp_vid)i;
  }
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void add_stats(gasp_run_stats *to, const gasp_run_stats *s) {
  to->iterations += s->iterations;
  to->updates += s->updates;
  to->pull_iterations += s->pull_iterations;
  to->threads = s->threads;
  if (s->reason != GASP_STOP_CONVERGED) to->reason = s->reason;
}

typedef struct bc_run {
  gasp_engine *e;
  gasp_dist *dist;
  bc p;
  gasp_run_stats *st;
  gasp_error *err;
  uint64_t *start; /* nlevels + 1 */
  uint64_t start_cap;
  gasp_vid nv;
} bc_run;

static int run(bc_run *r) {
  gasp_run_stats s;
  int rc = gasp_engine_run(r->e, &s);
  if (rc) {
    if (r->err) *r->err = *gasp_engine_last_error(r->e);
    return rc;
  }
  add_stats(r->st, &s);
  r->p.base += s.iterations;
  return GASP_OK;
}

/* The local id of global vertex index s if this rank owns it (owned
 * vertices ascend by global index), else GASP_VID_NONE. */
static gasp_vid owned_id(const bc_run *r, gasp_vid s) {
  if (!r->dist) return s;
  uint64_t lo = 0, hi = r->p.owned;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (gasp_dist_global_id(r->dist, (gasp_vid)mid) < s)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < r->p.owned && gasp_dist_global_id(r->dist, (gasp_vid)lo) == s)
    return (gasp_vid)lo;
  return GASP_VID_NONE;
}

/* Brandes from one source (a global vertex index). */
static int one_source(bc_run *r, gasp_vid s) {
  bc *p = &r->p;
  if (p->epoch == UINT32_MAX) { /* numbers used up: start again */
    for (gasp_vid v = 0; v < r->nv; v++)
      p->vd[v].epoch = 0;
    p->epoch = 0;
  }
  p->epoch++;
  p->phase = PH_FORWARD;
  p->source = owned_id(r, s);
  double one = 1;
  if (p->source != GASP_VID_NONE)
    gasp_engine_signal_msg(r->e, p->source, &one, 0.0);
  uint64_t before = p->base;
  int rc = run(r);
  if (rc || r->st->reason != GASP_STOP_CONVERGED) return rc;
  /* depths are below the BFS's supersteps, the same on every rank */
  uint64_t levels = p->base - before;
  if (levels + 1 > r->start_cap) {
    uint64_t *ns = gasp__realloc(r->start, (levels + 1) * sizeof *ns);
    uint64_t *nc =
        ns ? gasp__realloc(p->count, (levels ? levels : 1) *
                                         (p->nblocks ? p->nblocks : 1) *
                                         sizeof *nc)
           : NULL;
    if (ns) r->start = ns;
    if (!nc) return tk_lib_fail(r->err, GASP_ENOMEM, "bc: out of memory");
    p->count = nc;
    r->start_cap = levels + 1;
  }
  p->nlevels = levels;
  if ((rc = sort_levels(r->e, p, r->start)))
    return tk_lib_fail(r->err, rc, "bc: out of memory");
  p->phase = PH_BACKWARD;
  /* depth 0 is the source alone, whose dependency is not counted */
  for (uint64_t d = levels; d-- > 1;) {
    uint64_t lo = r->start[d], hi = r->start[d + 1];
    if (!r->dist) {
      p->lo = lo;
      rc = gasp_engine_map(r->e, hi - lo, 64, back_vertex, 0, NULL, p, NULL);
      if (rc) return tk_lib_fail(r->err, rc, "bc: out of memory");
      continue;
    }
    for (uint64_t i = lo; i < hi; i++)
      gasp_engine_signal(r->e, p->place[i], 0.0);
    if ((rc = run(r))) return rc;
  }
  return GASP_OK;
}

/* Scales the owned scores as o->norm says; n the vertices of the whole
 * graph, k the sources (0: every vertex), src the sources' list (NULL:
 * every vertex). */
static int scale(bc_run *r, const gasp_bc_opts *o, uint64_t n, uint64_t k,
                 const gasp_vid *src) {
  double *score = r->p.score;
  gasp_vid owned = (gasp_vid)r->p.owned;
  if (o->norm == GASP_BC_NORM_MAX) {
    double m = 0;
    for (gasp_vid v = 0; v < owned; v++)
      if (score[v] > m) m = score[v];
    int rc = gasp_engine_allreduce(r->e, &m, 1, GASP_REDUCE_MAX);
    if (rc) {
      if (r->err) *r->err = *gasp_engine_last_error(r->e);
      return rc;
    }
    if (m > 0)
      for (gasp_vid v = 0; v < owned; v++)
        score[v] /= m;
    return GASP_OK;
  }
  if (o->norm != GASP_BC_NORM_NETWORKX || n <= 2) return GASP_OK;
  double per = 1.0 / (double)(n - 2);
  if (!k) { /* every vertex a source */
    for (gasp_vid v = 0; v < owned; v++)
      score[v] *= per / (double)(n - 1);
    return GASP_OK;
  }
  /* sources by k - 1 (networkx's NaN for k = 1), the rest by k */
  double other = per / (double)k, of_source = per / (double)(k - 1);
  uint8_t *is = gasp__calloc(owned ? owned : 1, 1);
  if (!is) return tk_lib_fail(r->err, GASP_ENOMEM, "bc: out of memory");
  for (uint64_t i = 0; i < k; i++) {
    gasp_vid s = owned_id(r, src[i]);
    if (s != GASP_VID_NONE) is[s] = 1;
  }
  for (gasp_vid v = 0; v < owned; v++)
    score[v] *= is[v] ? (k > 1 ? of_source : (double)NAN) : other;
  free(is);
  return GASP_OK;
}

int gasp_bc(gasp_graph *g, const gasp_bc_opts *o, double *score,
            gasp_run_stats *stats, gasp_error *err) {
  double t0 = now();
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  if (!g || !o || !score)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  if (o->engine.engine == GASP_ENGINE_ASYNC)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "betweenness centrality runs on the sync engine (level "
                       "by level)");
  if (o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "betweenness centrality needs whole supersteps (no "
                       "--staleness)");
  if ((unsigned)o->norm > GASP_BC_NORM_NETWORKX)
    return tk_lib_fail(err, GASP_EINVAL, "bc: unknown normalisation %d",
                       (int)o->norm);
  gasp_dist *dist = o->engine.dist;
  gasp_vid nv = gasp_graph_num_vertices(g);
  uint64_t n = dist ? gasp_dist_global_vertices(dist) : nv;
  if (o->num_sources && !o->sources)
    return tk_lib_fail(err, GASP_EINVAL, "bc: num_sources without sources");
  for (uint64_t i = 0; i < o->num_sources; i++)
    if (o->sources[i] >= n)
      return tk_lib_fail(
          err, GASP_EINVAL, "bc: source %llu is not a vertex (%llu vertices)",
          (unsigned long long)o->sources[i], (unsigned long long)n);
  /* k sources from src, or (k = 0) every vertex */
  uint64_t k = o->num_sources;
  const gasp_vid *src = o->sources;
  gasp_vid *sample = NULL;
  if (!k && o->samples && o->samples < n) {
    k = o->samples;
    if (!(sample = gasp__malloc_array(k, sizeof *sample)))
      return tk_lib_fail(err, GASP_ENOMEM, "bc: out of memory");
    gasp_bc_sample(n, k, o->seed, sample);
    src = sample;
  }
  bc_run r;
  memset(&r, 0, sizeof r);
  r.dist = dist;
  r.st = st;
  r.err = err;
  r.nv = nv;
  bc *p = &r.p;
  p->undirected = o->undirected;
  p->score = score;
  p->source = GASP_VID_NONE;
  p->owned = gasp_graph_num_owned(g);
  p->nblocks = (p->owned + BLOCK - 1) / BLOCK;
  for (gasp_vid v = 0; v < nv; v++)
    score[v] = 0;
  gasp_program prog = {0};
  prog.vertex_size = sizeof(bc_vertex);
  prog.acc_size = prog.msg_size = sizeof(double);
  prog.combine = gasp_combine_sum_f64;
  prog.init_vertex = bc_init;
  prog.gather_edges = bc_gather_dir;
  prog.gather_vertex = bc_gather;
  prog.apply = bc_apply;
  prog.scatter_edges = bc_scatter_dir;
  prog.scatter_vertex = bc_scatter;
  prog.push_pull = 1;
  prog.user = p;
  gasp_engine_opts eo = o->engine;
  eo.max_iter = 0;
  int rc = gasp_engine_new(&r.e, g, &prog, &eo, err);
  if (rc) {
    free(sample);
    return rc;
  }
  p->vd = gasp_graph_vertex_data(g);
  gasp_graph_out_edges(g, &p->out);
  gasp_graph_in_edges(g, &p->in);
  if (!(p->place =
            gasp__malloc_array(p->owned ? p->owned : 1, sizeof *p->place))) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "bc: out of memory");
    goto out;
  }
  if (!dist && !(p->lev = gasp__malloc_array(nv ? nv : 1, sizeof *p->lev))) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "bc: out of memory");
    goto out;
  }
  st->reason = GASP_STOP_CONVERGED;
  uint64_t todo = k ? k : n;
  for (uint64_t i = 0; i < todo; i++) {
    if ((rc = one_source(&r, k ? src[i] : (gasp_vid)i))) goto out;
    if (st->reason != GASP_STOP_CONVERGED) break; /* on_iteration */
  }
  rc = scale(&r, o, n, k, src);
out:
  st->seconds = now() - t0;
  st->threads = gasp_engine_threads(r.e);
  gasp_engine_free(&r.e);
  free(sample);
  free(p->place);
  free(p->lev);
  free(p->count);
  free(r.start);
  return rc;
}
