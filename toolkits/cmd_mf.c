/*
 * cmd_mf.c -- `gasp als`, `gasp sgd` and `gasp nmf`: the commands over
 * gasp_als, gasp_sgd and gasp_nmf (lib_mf.c, where the methods and their
 * schedule are described):
 * flags, loading (every rank in a distributed run), the test set, the call,
 * per-sweep evaluation and reports from its on_sweep callback, and the
 * model written (mf_model.c).
 *
 * The evaluation reads the factors as padded rows (mf.h) of the whole
 * graph, in global vertex order (across ranks: gathered on rank 0 after
 * each sweep): test RMSE by predicting every test pair, clamped to the
 * training rating range; implicit feedback: mean percentile rank and
 * recall@N of the held-out items.
 */
#include "gasp_toolkits.h"
#include "mf.h"
#include "mf_model.h"
#include "toolkit.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct test_set {
  uint64_t n;
  gasp_vid *u, *i; /* GASP_VID_NONE when unknown */
  float *r;
  uint64_t unknown_users, unknown_items, unknown_pairs;
} test_set;

#define NONE UINT32_MAX

typedef struct mf {
  int als, implicit, biased;
  int nmf;   /* with als set: multiplicative updates, not least squares */
  int svdpp; /* with biased set: SVD++ (effective user rows) */
  int wals;  /* with als set: weighted ALS (a weight column) */
  int k, kp, stride;
  double lambda, alpha, lr, decay, lambda_bias, lr_implicit, lambda_implicit;
  int top_n_metric;
  gasp_graph *g; /* the whole ratings graph (every rank has it) */
  gasp_vid nl, nv;
  const float *F;     /* padded rows of every vertex of g (on rank 0) */
  gasp_adjacency out; /* of g: a user's training items */
  mf_sgd_par sp;
  double mean, rmin, rmax;
  test_set test;
} mf;

/* ---- evaluation ---------------------------------------------------------- */

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

/* ---- weighted ratings (gasp wals) --------------------------------------
 *
 * 'user item rating weight' lines, separated as the ratings loader's
 * (blanks, tabs, a comma or '::'); '#' and '%' lines and a first line that
 * does not start with a number (a header) are skipped.  The graph is built
 * from the same lines, so one read serves both (stdin and gzip work), and
 * the weights are kept by the whole graph's edge slot. */

typedef struct wals_in {
  double *w; /* by edge slot of the whole graph */
} wals_in;

/* The next number of a line, after any separators; 0 or -1. */
static int next_field(const char **q, double *v) {
  const char *p = *q;
  while (*p == ' ' || *p == '\t' || *p == ',' || *p == ':')
    p++;
  char *end;
  errno = 0;
  *v = strtod(p, &end);
  if (end == p || errno == ERANGE) return -1;
  if (*end && *end != ' ' && *end != '\t' && *end != ',' && *end != ':' &&
      *end != '\r')
    return -1;
  *q = end;
  return 0;
}

static int grow(void **p, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return 0;
  size_t nc = *cap ? 2 * *cap : 4096;
  void *q = realloc(*p, nc * size);
  if (!q) return -1;
  *p = q;
  *cap = nc;
  return 0;
}

/* The edge slot of user u's out-edge to item i in g, by bisection of u's
 * sorted neighbours; the first of repeated ones; UINT64_MAX if none. */
static uint64_t find_slot(const gasp_adjacency *a, gasp_vid u, gasp_vid i) {
  uint64_t lo = a->off[u], hi = a->off[u + 1];
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (a->nbr[mid] < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < a->off[u + 1] && a->nbr[lo] == i ? lo : UINT64_MAX;
}

static int load_weighted(void *user, const cli_common *c, const char *path,
                         gasp_graph **g, double *seconds) {
  wals_in *in = user;
  double t0 = cli_now();
  if (is_named(path, ".mtx") || is_named(path, ".gasp")) {
    cli_error("%s: wals reads 'user item rating weight' lines, not Matrix "
              "Market or a snapshot",
              path);
    return EXIT_USAGE;
  }
  gasp_text_reader *r = NULL;
  gasp_error err;
  int rc = gasp_text_reader_open(&r, path, &err);
  if (rc) return cli_fail(&err, rc);
  gasp_gid *us = NULL, *is = NULL;
  double *rs = NULL, *ws = NULL;
  uint64_t *lines = NULL;
  size_t n = 0, cu = 0, ci = 0, cr = 0, cw = 0, cl = 0;
  const char *line;
  size_t len;
  uint64_t no;
  int first = 1;
  while ((rc = gasp_text_reader_next(r, &line, &len, &no, &err)) == 1) {
    const char *q = line;
    while (*q == ' ' || *q == '\t')
      q++;
    if (!*q || *q == '\r' || *q == '#' || *q == '%') continue;
    double f[4];
    int bad = -1;
    for (int k = 0; k < 4 && bad < 0; k++)
      if (next_field(&q, &f[k])) bad = k;
    if (bad == 0 && first) { /* a header */
      first = 0;
      continue;
    }
    first = 0;
    static const char *const what[4] = {"a user id", "an item id", "a rating",
                                        "a weight (the 4th column)"};
    if (bad >= 0) {
      cli_error("%s:%llu: expected %s", path, (unsigned long long)no,
                what[bad]);
      rc = EXIT_USAGE;
      break;
    }
    for (int k = 0; k < 2 && bad < 0; k++)
      if (!(f[k] >= 0 && f[k] <= (double)GASP_GID_MAX && f[k] == floor(f[k])))
        bad = k;
    if (bad < 0 && !isfinite(f[2])) bad = 2;
    if (bad < 0 && !(f[3] >= 0 && isfinite(f[3]))) {
      cli_error("%s:%llu: the weight %g is not finite and >= 0", path,
                (unsigned long long)no, f[3]);
      rc = EXIT_USAGE;
      break;
    }
    if (bad >= 0) {
      cli_error("%s:%llu: %s is out of range", path, (unsigned long long)no,
                what[bad]);
      rc = EXIT_USAGE;
      break;
    }
    if (grow((void **)&us, &cu, n, sizeof *us) ||
        grow((void **)&is, &ci, n, sizeof *is) ||
        grow((void **)&rs, &cr, n, sizeof *rs) ||
        grow((void **)&ws, &cw, n, sizeof *ws) ||
        grow((void **)&lines, &cl, n, sizeof *lines)) {
      cli_error("wals: out of memory");
      rc = EXIT_RUNTIME;
      break;
    }
    us[n] = (gasp_gid)f[0], is[n] = (gasp_gid)f[1];
    rs[n] = f[2], ws[n] = f[3], lines[n++] = no;
  }
  if (rc < 0) rc = cli_fail(&err, rc);
  gasp_text_reader_free(&r);
  if (!rc && n == 0) {
    cli_error("%s: no ratings", path);
    rc = EXIT_USAGE;
  }
  if (!rc && (rc = gasp_graph_from_coo(g, n, us, is, rs, 0,
                                       GASP_BUILD_WEIGHTED |
                                           GASP_BUILD_BIPARTITE,
                                       c->threads, &err)))
    rc = cli_fail(&err, rc);
  uint64_t *line_of = NULL; /* by slot: the line that set it */
  if (!rc) {
    uint64_t E = gasp_graph_num_edges(*g);
    in->w = malloc((E ? E : 1) * sizeof *in->w);
    line_of = calloc(E ? E : 1, sizeof *line_of);
    if (!in->w || !line_of) {
      cli_error("wals: out of memory");
      rc = EXIT_RUNTIME;
    }
    gasp_adjacency a;
    gasp_graph_out_edges(*g, &a);
    for (size_t j = 0; !rc && j < n; j++) {
      gasp_vid u, i;
      uint64_t s = UINT64_MAX;
      if (!gasp_graph_find(*g, GASP_SIDE_LEFT, us[j], &u) &&
          !gasp_graph_find(*g, GASP_SIDE_RIGHT, is[j], &i))
        s = find_slot(&a, u, i);
      if (s == UINT64_MAX) { /* cannot be: the graph is these lines */
        cli_error("%s:%llu: rating not in the graph", path,
                  (unsigned long long)lines[j]);
        rc = EXIT_RUNTIME;
      } else if (line_of[s]) {
        cli_error("%s:%llu: user %llu rated item %llu before, on line %llu "
                  "(wals needs one rating, and weight, per pair)",
                  path, (unsigned long long)lines[j],
                  (unsigned long long)us[j], (unsigned long long)is[j],
                  (unsigned long long)line_of[s]);
        rc = EXIT_USAGE;
      } else {
        line_of[s] = lines[j];
        in->w[s] = ws[j];
      }
    }
    if (rc) gasp_graph_free(g);
  }
  free(line_of);
  free(us);
  free(is);
  free(rs);
  free(ws);
  free(lines);
  if (seconds) *seconds = cli_now() - t0;
  return rc;
}

/* The weights by edge slot of the graph this rank holds: the whole
 * graph's on one process; across ranks each local edge found in it.
 * NULL when out of memory (or an edge is not in the whole graph, which
 * cannot be: the rank's graph is a part of it). */
static double *local_weights(tk_opts *o, const wals_in *in, gasp_graph *g) {
  gasp_graph *whole = tk_result_graph(o, g);
  uint64_t E = gasp_graph_num_edges(g);
  double *w = malloc((E ? E : 1) * sizeof *w);
  if (!w) return NULL;
  if (whole == g) {
    memcpy(w, in->w, E * sizeof *w);
    return w;
  }
  gasp_adjacency a, wa;
  gasp_graph_out_edges(g, &a);
  gasp_graph_out_edges(whole, &wa);
  for (gasp_vid v = 0; v < gasp_graph_num_vertices(g); v++) {
    if (a.off[v] == a.off[v + 1]) continue;
    gasp_vid U, I;
    uint64_t ws = UINT64_MAX;
    int found =
        !gasp_graph_find(whole, GASP_SIDE_LEFT, gasp_graph_gid(g, v), &U);
    for (uint64_t s = a.off[v]; found && s < a.off[v + 1]; s++) {
      found = !gasp_graph_find(whole, GASP_SIDE_RIGHT,
                               gasp_graph_gid(g, a.nbr[s]), &I) &&
              (ws = find_slot(&wa, U, I)) != UINT64_MAX;
      if (found) w[s] = in->w[ws];
    }
    if (!found) {
      free(w);
      return NULL;
    }
  }
  return w;
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

/* ---- the command --------------------------------------------------------- */

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
  O_RECALL_N,
  O_LR_IMPLICIT,
  O_LAMBDA_IMPLICIT
};

typedef struct mf_args {
  mf *m;
  const char *test;
  const char *name;
  wals_in *win; /* wals: the weights the loader read */
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
  case O_LR_IMPLICIT:
    return cli_parse_double("--lr-implicit", arg, &m->lr_implicit);
  case O_LAMBDA_IMPLICIT:
    return cli_parse_double("--lambda-implicit", arg, &m->lambda_implicit);
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
    "present)\n" CLI_COMMON_HELP TK_CHECKPOINT_HELP;

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
    "(1)\n" CLI_COMMON_HELP TK_CHECKPOINT_HELP;

static const char nmf_help[] =
    "usage: gasp nmf -i RATINGS [options]\n"
    "Non-negative matrix factorization of the observed ratings by Lee and\n"
    "Seung's multiplicative updates, one side at a time: the factors stay\n"
    "non-negative and the objective (squared error + lambda |factors|^2)\n"
    "never rises from one sweep to the next.  Ratings must be\n"
    "non-negative.  RATINGS as for gasp als.\n\n"
    "  -k, --rank K         factors per user and item (20)\n"
    "      --lambda X       regularisation per row (0.1)\n"
    "      --max-iter N     sweeps (10)\n"
    "      --test FILE      held-out ratings: test RMSE every sweep\n"
    "  -o PREFIX            write PREFIX.users.tsv, PREFIX.items.tsv and\n"
    "                       PREFIX.model (see gasp predict)\n"
    "      --trace FILE     per-sweep figures as TSV\n"
    "      --seed N         initial factors (1)\n" CLI_COMMON_HELP TK_CHECKPOINT_HELP;

static const char wals_help[] =
    "usage: gasp wals -i RATINGS [options]\n"
    "Weighted alternating least squares: ALS-WR with a weight per rating,\n"
    "minimising sum w (r - x.y)^2 + lambda (sum_u W_u |x_u|^2 + sum_i W_i\n"
    "|y_i|^2), W_v the sum of v's weights (every weight 1 is gasp als).\n"
    "RATINGS: 'user item rating weight' lines (blanks, tabs, commas or '::';\n"
    "a header line is skipped; weights finite and >= 0; one rating per\n"
    "pair).  The RMSE figures are unweighted.\n\n"
    "  -k, --rank K         factors per user and item (20)\n"
    "      --lambda X       regularisation (0.1; times the weight sum)\n"
    "      --max-iter N     sweeps (10)\n"
    "      --test FILE      held-out ratings: test RMSE every sweep\n"
    "  -o PREFIX            write PREFIX.users.tsv, PREFIX.items.tsv and\n"
    "                       PREFIX.model (see gasp predict)\n"
    "      --trace FILE     per-sweep figures as TSV\n"
    "      --seed N         initial factors (1)\n" CLI_COMMON_HELP TK_CHECKPOINT_HELP;

static const char svdpp_help[] =
    "usage: gasp svdpp -i RATINGS [options]\n"
    "SVD++ (Koren 2008): biased matrix factorization whose user vectors add\n"
    "|N(u)|^-1/2 times the sum of implicit factors y_j of the items the user\n"
    "rated, trained by SGD in alternating half-epochs (users with items\n"
    "fixed, then items with users fixed, each item's y taking one step\n"
    "along its raters' gradients).  The model written holds each user's\n"
    "effective vector, so gasp predict reads it as a biased model.\n\n"
    "  -k, --rank K         factors per user and item (20)\n"
    "      --lambda X       regularisation per rating of p and q (0.1)\n"
    "      --lambda-bias X  bias regularisation (default lambda)\n"
    "      --lambda-implicit X  regularisation of y (20)\n"
    "      --lr X           learning rate of p, q and biases (0.04)\n"
    "      --lr-implicit X  learning rate of y (0.03)\n"
    "      --decay X        learning rate multiplier per epoch (0.95)\n"
    "      --epochs N       epochs (40; --max-iter is the same)\n"
    "      --test FILE      held-out ratings: test RMSE every epoch\n"
    "  -o PREFIX            write PREFIX.users.tsv, PREFIX.items.tsv and\n"
    "                       PREFIX.model (see gasp predict)\n"
    "      --trace FILE     per-epoch figures as TSV\n"
    "      --seed N         initial factors and rating order "
    "(1)\n" CLI_COMMON_HELP TK_CHECKPOINT_HELP;

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

/* ---- the run ------------------------------------------------------------- */

/* What the per-sweep callback needs, and what it adds up. */
typedef struct mf_run {
  mf *m;
  tk_opts *o;
  const char *name;
  gasp_vid local;        /* vertices of the graph this rank holds */
  float *factors, *bias; /* the call's results: local rows */
  float *rows;           /* the same as padded rows (mf.h) */
  float *all;            /* across ranks: every vertex's rows, on rank 0 */
  FILE *trace;
  int gpu; /* --gpu auto/on with a device present */
  gasp_mf_info info;
  iter_fig f;
  double best, best_mpr, sweep_total;
  int rc;      /* the callback's failure (printed) */
  int started; /* the first sweep (of this process: after a resume, not 1)
                  has been seen */
} mf_run;

/* The call's rows as the evaluation and the model file read them: padded
 * (the padding stays zero); m->F points at them. */
static void pad_rows(mf_run *r) {
  mf *m = r->m;
  for (gasp_vid v = 0; v < r->local; v++) {
    float *x = r->rows + (size_t)v * (size_t)m->stride;
    memcpy(x, r->factors + (size_t)v * (size_t)m->k, (size_t)m->k * sizeof *x);
    if (m->biased) x[m->kp] = r->bias[v];
  }
  m->F = r->rows;
}

/* The padded rows of this sweep for the evaluation, across ranks gathered
 * on rank 0 in global order (a collective); 0 or an exit code. */
static int model_rows(mf_run *r) {
  pad_rows(r);
  if (!r->o->eng.dist) return 0;
  int rc;
  free(r->all);
  r->all =
      tk_dist_gather(r->o, r->rows, (size_t)r->m->stride * sizeof(float), &rc);
  r->m->F = r->all;
  return rc;
}

/* After each sweep, on every rank: the test figures (rank 0) and the
 * report. */
static int on_sweep(void *user, const gasp_mf_sweep *s) {
  mf_run *r = user;
  mf *m = r->m;
  int root = tk_is_root(r->o), has_test = m->test.n > 0;
  double t = cli_now();
  if (!r->started) { /* the call has set the info by now */
    r->started = 1;
    m->mean = r->info.mean;
    m->rmin = r->info.min_rating;
    m->rmax = r->info.max_rating;
    m->sp.mu = (float)m->mean;
    if (r->gpu && !r->info.gpu.used && !r->o->c.quiet)
      fprintf(stderr, "gasp: %s: %s; running on the CPU\n", r->name,
              r->info.gpu.device);
  }
  iter_fig *f = &r->f;
  f->sweep = s->sweep_seconds;
  r->sweep_total += f->sweep;
  f->train = s->train_rmse;
  if (has_test && (r->rc = model_rows(r))) return 1;
  if (has_test && m->implicit && root) {
    if ((r->rc = rank_metrics(m, s->engine, &f->mpr, &f->recall))) return 1;
    if (f->mpr < r->best_mpr) r->best_mpr = f->mpr;
  } else if (has_test && root) {
    f->test = test_rmse(m, s->engine);
    if (f->test < r->best) r->best = f->test;
  }
  f->seconds = s->seconds + (cli_now() - t);
  if (root) report(m, r->name, r->trace, s->sweep, f, r->o->c.quiet, has_test);
  return 0;
}

/* Flags into o and m; 0 to go on, else an exit code (or EXIT_OK after
 * --help, with *help set). */
static int parse(int argc, char **argv, tk_opts *o, mf_args *a, int *help) {
  mf *m = a->m;
  const char *name = a->name;
  /* the sync engine, chromatic by construction; ratings are weighted */
  o->takes &= ~(TK_TAKES_ASYNC | TK_TAKES_TOL | TK_TAKES_VOCAB |
                TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS);
  o->c.seed = 1;
  o->dist_ok = 1; /* across ranks: each half-step is a superstep */
  o->checkpoint_ok = 1; /* between sweeps (lib_mf.c) */
  o->load = mf_load_ratings;
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
  static const struct option svdpp_extra[] = {
      {"rank", required_argument, 0, 'k'},
      {"lambda", required_argument, 0, O_LAMBDA},
      {"lambda-bias", required_argument, 0, O_LAMBDA_BIAS},
      {"lambda-implicit", required_argument, 0, O_LAMBDA_IMPLICIT},
      {"test", required_argument, 0, O_TEST},
      {"lr", required_argument, 0, O_LR},
      {"lr-implicit", required_argument, 0, O_LR_IMPLICIT},
      {"decay", required_argument, 0, O_DECAY},
      {"epochs", required_argument, 0, TK_OPT_MAX_ITER},
      {0, 0, 0, 0}};
  static const struct option wals_extra[] = {
      {"rank", required_argument, 0, 'k'},
      {"lambda", required_argument, 0, O_LAMBDA},
      {"test", required_argument, 0, O_TEST},
      {0, 0, 0, 0}};
  static const struct option nmf_extra[] = {
      {"rank", required_argument, 0, 'k'},
      {"lambda", required_argument, 0, O_LAMBDA},
      {"test", required_argument, 0, O_TEST},
      {0, 0, 0, 0}};
  if (m->nmf || m->svdpp || m->wals) o->takes &= ~TK_TAKES_GPU;
  if (m->wals) {
    o->load = NULL;
    o->load_with = load_weighted;
    o->load_user = a->win;
  }
  int rc = tk_parse(argc, argv, o,
                    m->svdpp  ? svdpp_extra
                    : m->wals ? wals_extra
                    : m->nmf  ? nmf_extra
                    : m->als  ? als_extra
                              : sgd_extra,
                    m->svdpp  ? svdpp_help
                    : m->wals ? wals_help
                    : m->nmf  ? nmf_help
                    : m->als  ? als_help
                              : sgd_help,
                    handle, a);
  *help = rc == TK_HELP_SHOWN;
  if (rc) return *help ? EXIT_OK : rc;
  if (m->wals && o->d.parts) {
    cli_error("wals: reads its ratings and weights from -i (no "
              "--partitions)");
    return EXIT_USAGE;
  }
  if (o->eng.engine != GASP_ENGINE_SYNC) {
    cli_error("%s: runs on the sync engine (alternating sides is the "
              "chromatic schedule of the bipartite graph)",
              name);
    return EXIT_USAGE;
  }
  if (!(m->lambda >= 0) || (!m->als && !(m->lr > 0)) || !(m->decay > 0) ||
      m->top_n_metric < 1) {
    cli_error("%s: --lambda must be >= 0, --lr and --decay > 0", name);
    return EXIT_USAGE;
  }
  if (!(m->lr_implicit >= 0 && m->lr_implicit < INFINITY) ||
      !(m->lambda_implicit >= 0 && m->lambda_implicit < INFINITY)) {
    cli_error("%s: --lr-implicit and --lambda-implicit must be finite and "
              ">= 0",
              name);
    return EXIT_USAGE;
  }
  if (m->lambda_bias < 0) m->lambda_bias = m->lambda;
  m->kp = mf_kpad(m->k);
  m->stride = mf_stride(m->k, m->biased);
  return 0;
}

/* After loading: the whole graph, the arrays, the test set, the trace and
 * the device; 0 or an exit code. */
static int setup(mf_run *r, gasp_graph *g, const char *test) {
  mf *m = r->m;
  tk_opts *o = r->o;
  gasp_graph *gg = tk_result_graph(o, g);
  m->g = gg;
  m->nl = gasp_graph_num_left(gg);
  m->nv = gasp_graph_num_vertices(gg);
  gasp_graph_out_edges(gg, &m->out);
  /* for predictions; mu comes with the first sweep */
  m->sp = (mf_sgd_par){m->k, m->stride, m->biased, 0, 0, 0, 0};
  uint64_t Eg = gasp_graph_num_edges(gg);
  const double *wg = gasp_graph_weights(gg);
  for (uint64_t s = 0; (m->implicit || m->nmf) && s < Eg; s++)
    if (wg[s] < 0) {
      cli_error(m->nmf ? "%s: nmf needs non-negative ratings"
                       : "%s: --implicit needs non-negative ratings (counts)",
                o->c.input);
      return EXIT_USAGE;
    }
  r->local = gasp_graph_num_vertices(g);
  size_t n = r->local ? (size_t)r->local : 1;
  r->factors = malloc(n * (size_t)m->k * sizeof(float));
  r->bias = m->biased ? malloc(n * sizeof(float)) : NULL;
  r->rows = calloc(n * (size_t)m->stride, sizeof(float));
  if (!r->factors || (m->biased && !r->bias) || !r->rows) {
    cli_error("%s: out of memory", r->name);
    return EXIT_RUNTIME;
  }
  int rc;
  if (test && (rc = load_test(m, &o->c, test))) return rc;
  if (o->trace && tk_is_root(o)) {
    if (!(r->trace = fopen(o->trace, "w"))) {
      cli_error("%s: cannot create: %s", o->trace, strerror(errno));
      return EXIT_USAGE;
    }
    fputs("iteration\ttrain_rmse\ttest_rmse\ttest_mpr\ttest_recall\t"
          "sweep_seconds\tseconds\n",
          r->trace);
  }
  char gpu_name[128];
  r->gpu = tk_use_gpu(o, r->name,
                      m->nmf        ? "nmf has no device kernel"
                      : m->svdpp    ? "svdpp has no device kernel"
                      : m->wals     ? "wals has no device kernel"
                      : !m->als     ? "sgd has no device kernel"
                      : o->eng.dist ? "the device runs on one process"
                                    : NULL,
                      gpu_name, sizeof gpu_name);
  return r->gpu < 0 ? EXIT_USAGE : 0;
}

/* The library call with the command's options. */
static int call(mf_run *r, gasp_graph *g, gasp_run_stats *st,
                const wals_in *win) {
  const mf *m = r->m;
  double *w = NULL;
  if (m->wals && !(w = local_weights(r->o, win, g))) {
    cli_error("wals: out of memory");
    return EXIT_RUNTIME;
  }
  gasp_mf_opts po;
  gasp_mf_opts_init(&po);
  po.engine = r->o->eng;
  po.engine.on_iteration = NULL;
  if (!r->gpu) po.engine.gpu = GASP_GPU_OFF;
  po.rank = m->k;
  po.lambda = m->lambda;
  po.alpha = m->implicit ? m->alpha : 0;
  po.biased = m->biased;
  po.lr = m->lr;
  po.decay = m->decay;
  po.lambda_bias = m->lambda_bias;
  po.lr_implicit = m->lr_implicit;
  po.lambda_implicit = m->lambda_implicit;
  po.seed = r->o->c.seed;
  po.on_sweep = on_sweep;
  po.on_sweep_user = r;
  gasp_error err;
  int grc = m->svdpp ? gasp_svdpp(g, &po, r->factors, r->bias, NULL,
                                  &r->info, st, &err)
            : m->wals ? gasp_wals(g, &po, w, r->factors, &r->info, st, &err)
            : m->nmf ? gasp_nmf(g, &po, r->factors, &r->info, st, &err)
            : m->als
                ? gasp_als(g, &po, r->factors, &r->info, st, &err)
                : gasp_sgd(g, &po, r->factors, r->bias, &r->info, st, &err);
  free(w);
  if (r->rc) return r->rc; /* the callback's, printed */
  if (!grc) return 0;
  cli_fail(&err, grc); /* the flags were checked: the run failed */
  return grc == GASP_EINVAL || grc == GASP_ENOTSUP ? EXIT_USAGE : EXIT_RUNTIME;
}

static const char *method(const mf *m) {
  return m->implicit ? "als-implicit"
         : m->svdpp  ? "svdpp"
         : m->wals   ? "wals"
         : m->nmf    ? "nmf"
         : m->als    ? "als"
         : m->biased ? "sgd-biased"
                     : "sgd";
}

static void summary_json(const mf_run *r, const gasp_run_stats *st,
                         int has_test_file, double load_s) {
  const mf *m = r->m;
  const iter_fig *f = &r->f;
  uint64_t it = st->iterations, Eg = gasp_graph_num_edges(m->g);
  double ups =
      r->sweep_total > 0 ? (double)Eg * (double)it / r->sweep_total : 0;
  int has_test = m->test.n > 0;
  cli_json j;
  cli_json_begin(&j, stdout);
  cli_json_str(&j, "toolkit", r->name);
  cli_json_str(&j, "method", method(m));
  cli_json_u64(&j, "users", m->nl);
  cli_json_u64(&j, "items", m->nv - m->nl);
  cli_json_u64(&j, "ratings", Eg);
  cli_json_u64(&j, "rank", (uint64_t)m->k);
  cli_json_num(&j, "lambda", m->lambda);
  cli_json_u64(&j, "iterations", it);
  cli_json_u64(&j, "updates", st->updates);
  if (!m->implicit) cli_json_num(&j, "train_rmse", f->train);
  if (has_test && !m->implicit) {
    cli_json_num(&j, "test_rmse", f->test);
    cli_json_num(&j, "best_test_rmse", r->best);
  }
  if (has_test && m->implicit) {
    cli_json_num(&j, "test_mpr", f->mpr);
    cli_json_num(&j, "best_test_mpr", r->best_mpr);
    cli_json_num(&j, "test_recall_at_n", f->recall);
    cli_json_u64(&j, "recall_n", (uint64_t)m->top_n_metric);
  }
  if (has_test_file) {
    cli_json_u64(&j, "test_ratings", m->test.n);
    cli_json_u64(&j, "test_unknown_users", m->test.unknown_users);
    cli_json_u64(&j, "test_unknown_items", m->test.unknown_items);
    cli_json_u64(&j, "test_unknown_pairs", m->test.unknown_pairs);
  }
  cli_json_num(&j, "mean_rating", m->mean);
  cli_json_num(&j, "seconds", st->seconds);
  cli_json_num(&j, "seconds_per_iteration",
               it ? r->sweep_total / (double)it : 0);
  cli_json_num(&j, "updates_per_second", ups);
  cli_json_u64(&j, "threads", (uint64_t)st->threads);
  cli_json_str(&j, "gpu", r->info.gpu.used ? r->info.gpu.device : "none");
  cli_json_u64(&j, "gpu_batches", r->info.gpu.batches);
  tk_dist_json(r->o, &j, it);
  cli_json_num(&j, "load_seconds", load_s);
  tk_checkpoint_json(&j, st);
  cli_json_end(&j);
}

static void summary_text(const mf_run *r, const gasp_run_stats *st) {
  const mf *m = r->m;
  uint64_t it = st->iterations, Eg = gasp_graph_num_edges(m->g);
  double ups =
      r->sweep_total > 0 ? (double)Eg * (double)it / r->sweep_total : 0;
  fprintf(stderr,
          "gasp: %s: %" PRIu64 " %s in %.3f s (%.3f s each, %.1f M rating "
          "updates/s)",
          r->name, it, m->als ? "sweeps" : "epochs", st->seconds,
          it ? r->sweep_total / (double)it : 0.0, ups / 1e6);
  if (m->test.n > 0 && !m->implicit)
    fprintf(stderr, "; best test RMSE %.4f", r->best);
  if (m->test.unknown_pairs)
    fprintf(stderr, "; %" PRIu64 " test pairs with an unknown user or item",
            m->test.unknown_pairs);
  fputc('\n', stderr);
}

/* After the call: the totals, the factors (across ranks gathered on rank
 * 0), the model files and the summary. */
static int finish(mf_run *r, gasp_run_stats *st, const char *test,
                  double load_s) {
  mf *m = r->m;
  tk_opts *o = r->o;
  m->mean = r->info.mean;
  m->rmin = r->info.min_rating;
  m->rmax = r->info.max_rating;
  int rc = 0;
  pad_rows(r);
  if (o->eng.dist) { /* the totals, and every rank's rows on rank 0 */
    free(r->all);
    r->all = tk_dist_results(o, NULL, st, r->rows,
                             (size_t)m->stride * sizeof(float), &rc);
    if (rc) return rc;
    m->F = r->all;
  }
  if (!tk_is_root(o)) return 0;
  if (o->c.output) {
    mf_model meta = {{0},     m->k,    m->stride, m->biased, m->implicit,
                     m->mean, m->rmin, m->rmax,   {0},       {0}};
    snprintf(meta.method, sizeof meta.method, "%s", method(m));
    if ((rc = mf_model_write(o->c.output, &meta, m->g, m->F))) return rc;
  }
  if (o->c.json) summary_json(r, st, test != NULL, load_s);
  if (!o->c.quiet) summary_text(r, st);
  return 0;
}

/* kind: 0 sgd, 1 als, 2 nmf, 3 svdpp, 4 wals */
static int run_mf(int argc, char **argv, int kind) {
  mf m;
  memset(&m, 0, sizeof m);
  m.als = kind == 1 || kind == 2 || kind == 4;
  m.wals = kind == 4;
  m.nmf = kind == 2;
  m.svdpp = m.biased = kind == 3;
  m.lr_implicit = 0.03;
  m.lambda_implicit = 20;
  m.k = 20;
  m.lambda = 0.1;
  m.lambda_bias = -1;
  m.lr = 0.04;
  m.decay = 0.95;
  m.top_n_metric = 10;
  tk_opts o;
  tk_opts_init(&o);
  static const char *const names[] = {"sgd", "als", "nmf", "svdpp", "wals"};
  wals_in win = {NULL};
  mf_args a = {&m, NULL, names[kind], &win};
  int help, rc = parse(argc, argv, &o, &a, &help);
  if (rc || help) return rc;

  gasp_graph *g = NULL;
  double load_s = 0;
  mf_run r;
  memset(&r, 0, sizeof r);
  r.m = &m;
  r.o = &o;
  r.name = a.name;
  r.f = (iter_fig){NAN, NAN, NAN, NAN, 0, 0};
  r.best = r.best_mpr = INFINITY;
  gasp_run_stats st;
  if (!(rc = tk_load(&o, &g, &load_s)) && !(rc = setup(&r, g, a.test)) &&
      !(rc = call(&r, g, &st, &win)))
    rc = finish(&r, &st, a.test, load_s);
  if (r.trace) fclose(r.trace);
  free(r.factors);
  free(r.bias);
  free(r.rows);
  free(r.all);
  free(m.test.u);
  free(m.test.i);
  free(m.test.r);
  free(win.w);
  tk_graph_free(&o, &g);
  return rc;
}

int cmd_als(int argc, char **argv) { return run_mf(argc, argv, 1); }
int cmd_sgd(int argc, char **argv) { return run_mf(argc, argv, 0); }
int cmd_nmf(int argc, char **argv) { return run_mf(argc, argv, 2); }
int cmd_svdpp(int argc, char **argv) { return run_mf(argc, argv, 3); }
int cmd_wals(int argc, char **argv) { return run_mf(argc, argv, 4); }
