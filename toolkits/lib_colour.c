/*
 * lib_colour.c -- gasp_colour (gasp_toolkits.h): greedy vertex colouring of
 * the graph taken as undirected (self loops and repeated edges ignored).
 *
 * Degree, random and natural orders run on the sync engine as
 * Jones-Plassmann rounds (Jones and Plassmann, "A parallel graph colouring
 * heuristic", SIAM J. Sci. Comput. 14(3), 1993): every vertex has a
 * priority, and a vertex takes the smallest colour none of its neighbours
 * has once every neighbour of higher priority has its colour.  That is
 * the colouring a sequential greedy pass in priority order gives, whatever
 * the threads or the ranks, in as many supersteps as the longest chain of
 * decreasing priorities (short for degree and random orders; for the
 * natural order as long as the longest path of ascending ids).
 *
 *   superstep 0  each vertex sets its priority key (its distinct degree
 *                for the degree order) and signals itself;
 *   superstep 1  each vertex counts its neighbours of higher priority; a
 *                vertex with none takes its colour;
 *   then         a vertex that took its colour sends 1 to each uncoloured
 *                neighbour of lower priority (messages summed); a vertex
 *                whose count falls to 0 takes its colour.
 *
 * The saturation order (DSatur: Brelaz, "New methods to color the vertices
 * of a graph", CACM 22(4), 1979) is sequential by nature -- each choice
 * depends on every earlier one -- and runs on one process outside the
 * engine: the uncoloured vertex with the most distinct colours among its
 * neighbours goes next, ties to the larger degree, then the smaller id.
 */
#include "gasp_toolkits.h"
#include "lib_fail.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COL_NONE UINT32_MAX
#define W_KEY UINT32_MAX         /* the priority key is not set yet */
#define W_COUNT (UINT32_MAX - 1) /* the key is set; count the higher ones */

typedef struct col_vertex {
  uint64_t key;    /* priority: a larger key goes first           */
  uint64_t gid;    /* ties: the smaller original id goes first     */
  uint32_t colour; /* COL_NONE until the vertex has one            */
  uint32_t wait;   /* neighbours of higher priority without colour */
  uint32_t fresh;  /* took its colour in this update: tell the rest */
  uint32_t pad;
} col_vertex;

typedef struct col_acc {
  uint64_t key;
  uint32_t colour, wait;
} col_acc;

typedef struct col {
  gasp_colour_order order;
  uint64_t seed;
  uint64_t **scratch; /* per thread: a bitmap of the neighbours' colours */
  size_t words;       /* its words: room for max degree + 1 colours     */
} col;

static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The priority key of a vertex of original id gid and distinct degree d. */
static uint64_t make_key(const col *p, uint64_t gid, uint64_t d) {
  uint64_t h = mix(gid ^ mix(p->seed));
  switch (p->order) {
  case GASP_COLOUR_RANDOM: return h;
  case GASP_COLOUR_NATURAL: return ~gid; /* the smaller id first */
  default:                               /* degree: larger first, ties random */
    return (d > UINT32_MAX ? (uint64_t)UINT32_MAX << 32 : d << 32) | (h >> 32);
  }
}

static int before(const col_vertex *a, const col_vertex *b) {
  return a->key > b->key || (a->key == b->key && a->gid < b->gid);
}

/* The distinct neighbours of a vertex (sorted in- and out-lists merged,
 * self and repeats skipped): calls each with u. */
#define FOR_DISTINCT(nb, self, u, ...)                                         \
  do {                                                                         \
    uint64_t i_ = 0, j_ = 0, na_ = (nb)->n_in, nb_ = (nb)->n_out;              \
    gasp_vid last_ = GASP_VID_NONE;                                            \
    while (i_ < na_ || j_ < nb_) {                                             \
      gasp_vid u = (j_ >= nb_ || (i_ < na_ && (nb)->in[i_] <= (nb)->out[j_]))  \
                       ? (nb)->in[i_++]                                        \
                       : (nb)->out[j_++];                                      \
      if (u == last_ || u == (self)) continue;                                 \
      last_ = u;                                                               \
      __VA_ARGS__                                                              \
    }                                                                          \
  } while (0)

static const col_vertex *vd_of(const gasp_nbrs *nb, gasp_vid u) {
  return (const col_vertex *)((const char *)nb->vertex_data +
                              (size_t)u * nb->vertex_size);
}

static void col_init(gasp_ctx *ctx, void *vd) {
  col_vertex *v = vd;
  memset(v, 0, sizeof *v);
  v->gid = gasp_ctx_gid(ctx);
  v->colour = COL_NONE;
  v->wait = W_KEY;
}

static void col_gather(const gasp_ctx *ctx, const void *vp, const gasp_nbrs *nb,
                       void *accp) {
  const col *p = gasp_ctx_user(ctx);
  const col_vertex *v = vp;
  col_acc *acc = accp;
  gasp_vid self = gasp_ctx_vertex(ctx);
  acc->key = v->key;
  acc->colour = v->colour;
  acc->wait = v->wait;
  if (v->colour != COL_NONE) return;
  if (v->wait == W_KEY) {
    uint64_t d = 0;
    FOR_DISTINCT(nb, self, u, {
      (void)u;
      d++;
    });
    acc->key = make_key(p, v->gid, d);
    acc->wait = W_COUNT;
    return;
  }
  uint32_t w;
  if (v->wait == W_COUNT) {
    w = 0;
    FOR_DISTINCT(nb, self, u, { w += before(vd_of(nb, u), v); });
  } else {
    const uint64_t *m = gasp_ctx_msg(ctx);
    w = v->wait - (m ? (uint32_t)*m : 0);
  }
  acc->wait = w;
  if (w) return;
  /* every neighbour of higher priority has its colour: the smallest
   * colour none of the neighbours has (at most the degree) */
  uint64_t *bits = p->scratch[gasp_ctx_thread(ctx)];
  memset(bits, 0, p->words * sizeof *bits);
  uint64_t limit = (uint64_t)p->words * 64;
  FOR_DISTINCT(nb, self, u, {
    uint32_t c = vd_of(nb, u)->colour;
    if (c < limit) bits[c / 64] |= (uint64_t)1 << (c % 64);
  });
  uint32_t c = 0;
  while (bits[c / 64] == ~(uint64_t)0)
    c += 64;
  while (bits[c / 64] >> (c % 64) & 1)
    c++;
  acc->colour = c;
}

static void col_apply(gasp_ctx *ctx, void *vp, const void *accp) {
  col_vertex *v = vp;
  const col_acc *acc = accp;
  int set_key = v->wait == W_KEY;
  v->fresh = v->colour == COL_NONE && acc->colour != COL_NONE;
  v->key = acc->key;
  v->wait = acc->wait;
  v->colour = acc->colour;
  if (set_key) gasp_signal(ctx, gasp_ctx_vertex(ctx)); /* now count */
}

static gasp_dir col_scatter_dir(const gasp_ctx *ctx, const void *vp) {
  (void)ctx;
  return ((const col_vertex *)vp)->fresh ? GASP_DIR_ALL : GASP_DIR_NONE;
}

/* Took its colour: one less to wait for, for each uncoloured neighbour of
 * lower priority. */
static void col_scatter(gasp_ctx *ctx, const void *vp, const gasp_nbrs *nb) {
  const col_vertex *v = vp;
  gasp_vid self = gasp_ctx_vertex(ctx);
  uint64_t one = 1;
  FOR_DISTINCT(nb, self, u, {
    const col_vertex *x = vd_of(nb, u);
    if (x->colour == COL_NONE && before(v, x)) gasp_signal_msg(ctx, u, &one);
  });
}

/* ---- the saturation order (one process) ------------------------------- */

/* A max-heap of (saturation, degree, -gid) entries with lazy deletion: an
 * entry whose saturation is no longer the vertex's is skipped. */
typedef struct sat_entry {
  uint32_t sat, deg;
  uint64_t gid;
  gasp_vid v;
} sat_entry;

static int sat_less(const sat_entry *a, const sat_entry *b) {
  if (a->sat != b->sat) return a->sat < b->sat;
  if (a->deg != b->deg) return a->deg < b->deg;
  return a->gid > b->gid;
}

typedef struct sat_heap {
  sat_entry *e;
  size_t n, cap;
} sat_heap;

static int heap_push(sat_heap *h, sat_entry x) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 1024;
    sat_entry *e = gasp__realloc(h->e, cap * sizeof *e);
    if (!e) return GASP_ENOMEM;
    h->e = e;
    h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0 && sat_less(&h->e[(i - 1) / 2], &x)) {
    h->e[i] = h->e[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->e[i] = x;
  return GASP_OK;
}

static sat_entry heap_pop(sat_heap *h) {
  sat_entry top = h->e[0], x = h->e[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && sat_less(&h->e[c], &h->e[c + 1])) c++;
    if (!sat_less(&x, &h->e[c])) break;
    h->e[i] = h->e[c];
    i = c;
  }
  if (h->n) h->e[i] = x;
  return top;
}

/* The set of (vertex, colour) pairs seen: open addressing over keys
 * v << 32 | colour + 1 (0 is empty). */
typedef struct pair_set {
  uint64_t *slot;
  uint64_t mask;
} pair_set;

static int pair_insert(pair_set *s, gasp_vid v, uint32_t c) {
  uint64_t k = (uint64_t)v << 32 | ((uint64_t)c + 1);
  for (uint64_t i = mix(k) & s->mask;; i = (i + 1) & s->mask) {
    if (s->slot[i] == k) return 0;
    if (s->slot[i] == 0) {
      s->slot[i] = k;
      return 1;
    }
  }
}

/* The distinct neighbours of v in an undirected view built from the
 * graph's in- and out-lists. */
static void nbrs_of(const gasp_graph *g, const gasp_adjacency *in,
                    const gasp_adjacency *out, gasp_vid v, gasp_nbrs *nb) {
  (void)g;
  memset(nb, 0, sizeof *nb);
  nb->n_in = in->off[v + 1] - in->off[v];
  nb->in = in->nbr + in->off[v];
  nb->n_out = out->off[v + 1] - out->off[v];
  nb->out = out->nbr + out->off[v];
}

static int dsatur(gasp_graph *g, uint32_t *colour, uint32_t *used,
                  gasp_error *err) {
  gasp_vid n = gasp_graph_num_vertices(g);
  gasp_adjacency in, out;
  gasp_graph_in_edges(g, &in);
  gasp_graph_out_edges(g, &out);
  uint32_t *deg = gasp__calloc(n ? n : 1, sizeof *deg);
  uint32_t *sat = gasp__calloc(n ? n : 1, sizeof *sat);
  uint64_t maxdeg = 0, total = 0;
  int rc = GASP_ENOMEM;
  sat_heap h = {NULL, 0, 0};
  pair_set ps = {NULL, 0};
  uint64_t *bits = NULL;
  if (!deg || !sat) goto out;
  for (gasp_vid v = 0; v < n; v++) {
    gasp_nbrs nb;
    nbrs_of(g, &in, &out, v, &nb);
    uint64_t d = 0;
    FOR_DISTINCT(&nb, v, u, {
      (void)u;
      d++;
    });
    deg[v] = (uint32_t)d;
    total += d;
    if (d > maxdeg) maxdeg = d;
  }
  uint64_t cap = 1024;
  while (cap < 2 * total + 2)
    cap *= 2;
  ps.slot = gasp__calloc_array(cap, sizeof *ps.slot);
  ps.mask = cap - 1;
  size_t words = (size_t)(maxdeg + 2 + 63) / 64;
  bits = gasp__calloc_array(words, sizeof *bits);
  if (!ps.slot || !bits) goto out;
  for (gasp_vid v = 0; v < n; v++) {
    colour[v] = COL_NONE;
    if (heap_push(&h, (sat_entry){0, deg[v], gasp_graph_gid(g, v), v}))
      goto out;
  }
  uint32_t ncol = 0;
  while (h.n) {
    sat_entry t = heap_pop(&h);
    gasp_vid v = t.v;
    if (colour[v] != COL_NONE || t.sat != sat[v]) continue; /* stale */
    gasp_nbrs nb;
    nbrs_of(g, &in, &out, v, &nb);
    memset(bits, 0, words * sizeof *bits);
    FOR_DISTINCT(&nb, v, u, {
      uint32_t c = colour[u];
      if (c != COL_NONE && c < words * 64)
        bits[c / 64] |= (uint64_t)1 << (c % 64);
    });
    uint32_t c = 0;
    while (bits[c / 64] == ~(uint64_t)0)
      c += 64;
    while (bits[c / 64] >> (c % 64) & 1)
      c++;
    colour[v] = c;
    if (c + 1 > ncol) ncol = c + 1;
    FOR_DISTINCT(&nb, v, u, {
      if (colour[u] == COL_NONE && pair_insert(&ps, u, c)) {
        sat[u]++;
        if (heap_push(&h, (sat_entry){sat[u], deg[u], gasp_graph_gid(g, u), u}))
          goto out;
      }
    });
  }
  *used = ncol;
  rc = GASP_OK;
out:
  if (rc) tk_lib_fail(err, rc, "colour: out of memory");
  free(deg);
  free(sat);
  free(h.e);
  free(ps.slot);
  free(bits);
  return rc;
}

/* ---- the call ---------------------------------------------------------- */

void gasp_colour_opts_init(gasp_colour_opts *o) {
  memset(o, 0, sizeof *o);
  gasp_engine_opts_init(&o->engine);
  o->order = GASP_COLOUR_DEGREE;
  o->seed = 1;
}

int gasp_colour_order_parse(const char *s, gasp_colour_order *out) {
  static const char *names[] = {"degree", "random", "natural", "saturation"};
  for (int i = 0; i < 4; i++)
    if (s && !strcmp(s, names[i])) {
      *out = (gasp_colour_order)i;
      return GASP_OK;
    }
  return GASP_EINVAL;
}

int gasp_colour(gasp_graph *g, const gasp_colour_opts *o, uint32_t *colour,
                uint32_t *colours, gasp_run_stats *stats, gasp_error *err) {
  gasp_run_stats tmp;
  gasp_run_stats *st = stats ? stats : &tmp;
  memset(st, 0, sizeof *st);
  uint32_t used_tmp;
  if (!colours) colours = &used_tmp;
  *colours = 0;
  if (!g || !o || !colour)
    return tk_lib_fail(err, GASP_EINVAL, "no graph, options or result array");
  if ((unsigned)o->order > GASP_COLOUR_SATURATION)
    return tk_lib_fail(err, GASP_EINVAL, "colour: unknown order %d",
                       (int)o->order);
  if (o->order == GASP_COLOUR_SATURATION) {
    if (o->engine.dist)
      return tk_lib_fail(err, GASP_ENOTSUP,
                         "the saturation order (DSatur) runs on one process: "
                         "each choice depends on every earlier one");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = dsatur(g, colour, colours, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->seconds = (double)(t1.tv_sec - t0.tv_sec) +
                  1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    st->updates = gasp_graph_num_vertices(g);
    st->threads = 1;
    st->reason = GASP_STOP_CONVERGED;
    return rc;
  }
  if (o->engine.engine == GASP_ENGINE_ASYNC)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "colouring runs on the sync engine (Jones-Plassmann "
                       "rounds)");
  if (o->engine.staleness)
    return tk_lib_fail(err, GASP_ENOTSUP,
                       "colouring needs whole supersteps (no --staleness)");
  gasp_vid n = gasp_graph_num_vertices(g);
  uint64_t maxdeg = 0;
  for (gasp_vid v = 0; v < n; v++) {
    uint64_t d = gasp_graph_in_degree(g, v) + gasp_graph_out_degree(g, v);
    if (d > maxdeg) maxdeg = d;
  }
  col p = {o->order, o->seed, NULL, (size_t)(maxdeg + 2 + 63) / 64};
  gasp_program prog = {0};
  prog.vertex_size = sizeof(col_vertex);
  prog.acc_size = sizeof(col_acc);
  prog.msg_size = sizeof(uint64_t);
  prog.combine = gasp_combine_sum_u64;
  prog.init_vertex = col_init;
  prog.gather_dir = GASP_DIR_ALL;
  prog.gather_vertex = col_gather;
  prog.apply = col_apply;
  prog.scatter_edges = col_scatter_dir;
  prog.scatter_vertex = col_scatter;
  prog.user = &p;
  gasp_engine *e = NULL;
  int rc = gasp_engine_new(&e, g, &prog, &o->engine, err);
  if (rc) return rc;
  int threads = gasp_engine_threads(e);
  p.scratch = gasp__calloc((size_t)threads, sizeof *p.scratch);
  if (!p.scratch) {
    rc = tk_lib_fail(err, GASP_ENOMEM, "colour: out of memory");
    goto out;
  }
  for (int t = 0; t < threads; t++)
    if (!(p.scratch[t] = gasp__malloc_array(p.words, sizeof(uint64_t)))) {
      rc = tk_lib_fail(err, GASP_ENOMEM, "colour: out of memory");
      goto out;
    }
  gasp_engine_signal_all(e, 0.0);
  rc = gasp_engine_run(e, st);
  if (rc) {
    if (err) *err = *gasp_engine_last_error(e);
    goto out;
  }
  const col_vertex *vd = gasp_graph_vertex_data(g);
  gasp_vid owned = gasp_graph_num_owned(g);
  double top = 0;
  for (gasp_vid v = 0; v < n; v++) {
    colour[v] = vd[v].colour;
    if (v < owned && vd[v].colour != COL_NONE && vd[v].colour + 1.0 > top)
      top = vd[v].colour + 1.0;
  }
  if ((rc = gasp_engine_allreduce(e, &top, 1, GASP_REDUCE_MAX))) {
    if (err) *err = *gasp_engine_last_error(e);
    goto out;
  }
  *colours = (uint32_t)top;
  /* a run stopped early (max_iter, on_iteration) leaves vertices without
   * a colour: say so rather than pass a partial colouring off */
  for (gasp_vid v = 0; v < owned; v++)
    if (colour[v] == COL_NONE) {
      st->reason =
          st->reason == GASP_STOP_CONVERGED ? GASP_STOP_MAX_ITER : st->reason;
      break;
    }
out:
  gasp_engine_free(&e);
  if (p.scratch)
    for (int t = 0; t < threads; t++)
      free(p.scratch[t]);
  free(p.scratch);
  return rc;
}
