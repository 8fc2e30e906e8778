/*
 * cmd_mf_io.c -- `gasp split` (a reproducible train/test split of a
 * ratings file) and `gasp predict` (predictions and top-N lists from a
 * model written by `gasp als|sgd -o PREFIX`).
 *
 * split: the ratings are loaded (any ratings layout, Matrix Market, gzip),
 * a seeded Fisher-Yates shuffle of the rating indices picks exactly
 * round(fraction * ratings) test ratings, and both parts are written as
 * "user<TAB>item<TAB>rating" in ascending (user, item) order.  The split
 * depends only on the ratings and the seed, not on the line order of the
 * file or the thread count.
 */
#include "mf_model.h"
#include "toolkit.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* ---- split ----------------------------------------------------------------
 */

enum { O_FRACTION = OPT_FIRST_PRIVATE, O_MODEL, O_TOPN, O_SEEN };

static const char split_help[] =
    "usage: gasp split -i RATINGS -o PREFIX [--test-fraction F] [--seed S]\n"
    "Writes PREFIX.train.tsv and PREFIX.test.tsv "
    "('user<TAB>item<TAB>rating'):\n"
    "exactly round(F * ratings) ratings, chosen by a seeded shuffle, go to "
    "the\n"
    "test part.  The same ratings and seed always give the same split.\n\n"
    "      --test-fraction F  share of ratings held out (0.1)\n"
    "      --seed S           shuffle seed (1)\n" CLI_COMMON_HELP;

static int split_opt(int opt, const char *arg, void *u) {
  double *f = u;
  if (opt != O_FRACTION) return 1;
  if (cli_parse_double("--test-fraction", arg, f)) return 1;
  if (!(*f >= 0 && *f <= 1)) {
    cli_error("--test-fraction must be within [0, 1]");
    return 1;
  }
  return 0;
}

static int write_part(const char *prefix, const char *suffix,
                      const gasp_graph *g, const uint8_t *in_test, uint8_t want,
                      int threads) {
  uint64_t E = gasp_graph_num_edges(g), n = 0;
  for (uint64_t s = 0; s < E; s++)
    n += in_test[s] == want;
  gasp_edge_list el = {0};
  el.src = malloc((n ? n : 1) * sizeof *el.src);
  el.dst = malloc((n ? n : 1) * sizeof *el.dst);
  el.weight = malloc((n ? n : 1) * sizeof *el.weight);
  size_t plen = strlen(prefix) + strlen(suffix) + 1;
  char *path = malloc(plen);
  int rc = 0;
  if (!el.src || !el.dst || !el.weight || !path) {
    cli_error("split: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  snprintf(path, plen, "%s%s", prefix, suffix);
  gasp_adjacency a;
  gasp_graph_out_edges(g, &a);
  const double *w = gasp_graph_weights(g);
  gasp_vid nl = gasp_graph_num_left(g);
  for (gasp_vid u = 0; u < nl; u++)
    for (uint64_t s = a.off[u]; s < a.off[u + 1]; s++)
      if (in_test[s] == want) {
        el.src[el.n] = gasp_graph_gid(g, u);
        el.dst[el.n] = gasp_graph_gid(g, a.nbr[s]);
        el.weight[el.n++] = w[s];
      }
  gasp_error err;
  int st = gasp_edge_list_write(&el, path, NULL, threads, &err);
  if (st) rc = cli_fail(&err, st);
out:
  free(el.src);
  free(el.dst);
  free(el.weight);
  free(path);
  return rc;
}

int cmd_split(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.takes =
      TK_TAKES_ALL & ~(TK_TAKES_ENGINE | TK_TAKES_ASYNC | TK_TAKES_MAX_ITER |
                       TK_TAKES_TOL | TK_TAKES_TRACE | TK_TAKES_GPU |
                       TK_TAKES_VOCAB | TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS);
  o.c.seed = 1;
  double fraction = 0.1;
  static const struct option extra[] = {
      {"test-fraction", required_argument, 0, O_FRACTION}, {0, 0, 0, 0}};
  int rc = tk_parse(argc, argv, &o, extra, split_help, split_opt, &fraction);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (!o.c.output || !strcmp(o.c.output, "-")) {
    cli_error("split: give the output prefix with -o PREFIX");
    return EXIT_USAGE;
  }
  gasp_graph *g = NULL;
  if ((rc = mf_load_ratings(&o.c, o.c.input, &g, NULL))) return rc;
  uint64_t E = gasp_graph_num_edges(g);
  uint64_t *perm = malloc((E ? E : 1) * sizeof *perm);
  uint8_t *in_test = calloc(E ? E : 1, 1);
  if (!perm || !in_test) {
    cli_error("split: out of memory");
    rc = EXIT_RUNTIME;
    goto out;
  }
  for (uint64_t s = 0; s < E; s++)
    perm[s] = s;
  uint64_t state = o.c.seed ^ 0x6a09e667f3bcc909ull;
  for (uint64_t s = E; s > 1; s--) { /* unbiased: 128-bit multiply */
    uint64_t j = (uint64_t)(((unsigned __int128)splitmix(&state) * s) >> 64);
    uint64_t t = perm[s - 1];
    perm[s - 1] = perm[j];
    perm[j] = t;
  }
  uint64_t ntest = (uint64_t)llround(fraction * (double)E);
  for (uint64_t s = 0; s < ntest; s++)
    in_test[perm[s]] = 1;
  if ((rc = write_part(o.c.output, ".train.tsv", g, in_test, 0, o.c.threads)) ||
      (rc = write_part(o.c.output, ".test.tsv", g, in_test, 1, o.c.threads)))
    goto out;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_str(&j, "toolkit", "split");
    cli_json_u64(&j, "ratings", E);
    cli_json_u64(&j, "train_ratings", E - ntest);
    cli_json_u64(&j, "test_ratings", ntest);
    cli_json_u64(&j, "seed", o.c.seed);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    fprintf(stderr,
            "gasp: split: %" PRIu64 " training and %" PRIu64
            " test ratings in %s.train.tsv and %s.test.tsv\n",
            E - ntest, ntest, o.c.output, o.c.output);
  }
out:
  free(perm);
  free(in_test);
  gasp_graph_free(&g);
  return rc;
}

/* ---- predict ------------------------------------------------------------- */

static const char predict_help[] =
    "usage: gasp predict --model PREFIX -i PAIRS [-o FILE]\n"
    "       gasp predict --model PREFIX --top-n N [-i USERS] [--seen RATINGS]\n"
    "Predictions from a model written by 'gasp als|sgd -o PREFIX'.\n"
    "PAIRS: 'user item' lines (extra columns, such as a rating, are ignored);\n"
    "one 'user<TAB>item<TAB>prediction' line is written per pair, in order.\n"
    "Unknown users or items predict the mean rating (biased models: plus the\n"
    "known bias) and are counted in the summary.\n"
    "--top-n N: the N best items per user (the users of -i, first column, or\n"
    "every user of the model), best first, leaving out the items the user\n"
    "rated in --seen (usually the training file).\n\n"
    "      --model PREFIX  model files PREFIX.{model,users.tsv,items.tsv}\n"
    "      --top-n N       top-N lists instead of pair predictions\n"
    "      --seen FILE     ratings whose items are left out of top-N "
    "lists\n" CLI_COMMON_HELP;

typedef struct predict_args {
  const char *model, *seen;
  int top_n;
} predict_args;

static int predict_opt(int opt, const char *arg, void *u) {
  predict_args *a = u;
  switch (opt) {
  case O_MODEL: a->model = arg; return 0;
  case O_SEEN: a->seen = arg; return 0;
  case O_TOPN:
    if (cli_parse_int("--top-n", arg, &a->top_n)) return 1;
    if (a->top_n < 1) {
      cli_error("--top-n must be at least 1");
      return 1;
    }
    return 0;
  }
  return 1;
}

typedef struct counts {
  uint64_t pairs, unknown_users, unknown_items, unknown_pairs, users;
} counts;

/* Calls fn(line, lineno) for each data line of path: blank lines and '#'
 * comments are skipped, and so is a first line that does not start with a
 * digit (a column header). */
typedef int (*line_fn)(const char *line, uint64_t ln, void *u);
static int each_line(const char *path, line_fn fn, void *u) {
  gasp_text_reader *r = NULL;
  gasp_error err;
  int rc = gasp_text_reader_open(&r, path, &err);
  if (rc) return cli_fail(&err, rc);
  const char *line;
  size_t len;
  uint64_t ln;
  int first = 1;
  while ((rc = gasp_text_reader_next(r, &line, &len, &ln, &err)) == 1) {
    const char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p || *p == '#' || *p == '%') continue;
    int header = first && (*p < '0' || *p > '9');
    first = 0;
    if (header) continue;
    if ((rc = fn(line, ln, u))) break;
  }
  gasp_text_reader_free(&r);
  if (rc < 0) return cli_fail(&err, rc);
  return rc;
}

typedef struct pair_state {
  const mf_model *m;
  const char *path;
  FILE *out;
  counts *c;
  /* top-n */
  int top_n;
  uint8_t *listed;
  const gasp_graph *seen;
  float *score;
  uint32_t *order;
} pair_state;

static int on_pair(const char *line, uint64_t ln, void *u) {
  pair_state *s = u;
  gasp_gid uid, iid;
  char why[128];
  if (mf_parse_pair(line, &uid, &iid, 1, why, sizeof why)) {
    cli_error("%s:%" PRIu64 ": %s", s->path, ln, why);
    return EXIT_USAGE;
  }
  int64_t ur = mf_side_find(&s->m->users, uid),
          ir = mf_side_find(&s->m->items, iid);
  s->c->pairs++;
  s->c->unknown_users += ur < 0;
  s->c->unknown_items += ir < 0;
  s->c->unknown_pairs += ur < 0 || ir < 0;
  fprintf(s->out, "%" PRIu64 "\t%" PRIu64 "\t%.6g\n", (uint64_t)uid,
          (uint64_t)iid, mf_model_predict(s->m, ur, ir));
  return 0;
}

static int by_score(const void *a, const void *b, void *u) {
  const float *score = u;
  float x = score[*(const uint32_t *)a], y = score[*(const uint32_t *)b];
  if (x != y) return x > y ? -1 : 1;
  return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int top_for(pair_state *s, int64_t ur) {
  const mf_model *m = s->m;
  uint64_t ni = m->items.n;
  const float *x = m->users.f + (size_t)ur * (size_t)m->stride;
  mf_sgd_par sp = {m->k, m->stride, m->biased, 0, 0, 0, (float)m->mean};
  uint32_t n = 0;
  for (uint64_t i = 0; i < ni; i++)
    s->score[i] = mf_predict(&sp, x, m->items.f + i * (size_t)m->stride);
  if (s->seen) {
    gasp_vid sv;
    if (!gasp_graph_find(s->seen, GASP_SIDE_LEFT, m->users.id[ur], &sv)) {
      gasp_adjacency a;
      gasp_graph_out_edges(s->seen, &a);
      for (uint64_t e = a.off[sv]; e < a.off[sv + 1]; e++) {
        int64_t ir = mf_side_find(&m->items, gasp_graph_gid(s->seen, a.nbr[e]));
        if (ir >= 0) s->score[ir] = NAN;
      }
    }
  }
  for (uint64_t i = 0; i < ni; i++)
    if (!isnan(s->score[i])) s->order[n++] = (uint32_t)i;
  qsort_r(s->order, n, sizeof *s->order, by_score, s->score);
  for (uint32_t j = 0; j < n && j < (uint32_t)s->top_n; j++) {
    uint32_t i = s->order[j];
    double p = s->score[i];
    if (!m->implicit) p = p < m->rmin ? m->rmin : p > m->rmax ? m->rmax : p;
    fprintf(s->out, "%" PRIu64 "\t%" PRIu64 "\t%.6g\n",
            (uint64_t)m->users.id[ur], (uint64_t)m->items.id[i], p);
  }
  s->c->users++;
  return 0;
}

static int on_user(const char *line, uint64_t ln, void *u) {
  pair_state *s = u;
  gasp_gid uid, iid;
  char why[128];
  if (mf_parse_pair(line, &uid, &iid, 0, why, sizeof why)) {
    cli_error("%s:%" PRIu64 ": %s", s->path, ln, why);
    return EXIT_USAGE;
  }
  int64_t ur = mf_side_find(&s->m->users, uid);
  if (ur < 0) {
    s->c->unknown_users++;
    return 0;
  }
  if (s->listed[ur]) return 0;
  s->listed[ur] = 1;
  return top_for(s, ur);
}

int cmd_predict(int argc, char **argv) {
  tk_opts o;
  tk_opts_init(&o);
  o.takes = TK_TAKES_ALL &
            ~(TK_TAKES_ENGINE | TK_TAKES_ASYNC | TK_TAKES_MAX_ITER |
              TK_TAKES_TOL | TK_TAKES_TRACE | TK_TAKES_GPU | TK_TAKES_VOCAB |
              TK_TAKES_SYMMETRIC | TK_TAKES_WEIGHTS | TK_TAKES_SEED);
  predict_args a = {0};
  static const struct option extra[] = {
      {"model", required_argument, 0, O_MODEL},
      {"top-n", required_argument, 0, O_TOPN},
      {"seen", required_argument, 0, O_SEEN},
      {0, 0, 0, 0}};
  int rc = tk_parse(argc, argv, &o, extra, predict_help, predict_opt, &a);
  if (rc) return rc == TK_HELP_SHOWN ? EXIT_OK : rc;
  if (!a.model) {
    cli_error("predict: give the model with --model PREFIX");
    return EXIT_USAGE;
  }
  if (!o.c.input && !a.top_n) {
    cli_error("predict: give the pairs with -i FILE (or --top-n N)");
    return EXIT_USAGE;
  }
  mf_model m;
  if ((rc = mf_model_read(a.model, &m))) return rc;
  counts c = {0};
  pair_state s = {&m, o.c.input, NULL, &c, a.top_n, NULL, NULL, NULL, NULL};
  gasp_graph *seen = NULL;
  mf_outfile out = {0};
  int to_stdout = !o.c.output || !strcmp(o.c.output, "-");
  if (a.seen && (rc = mf_load_ratings(&o.c, a.seen, &seen, NULL))) goto done;
  s.seen = seen;
  if (to_stdout) {
    s.out = stdout;
  } else {
    if ((rc = mf_out_open(&out, o.c.output, ""))) goto done;
    s.out = out.f;
  }
  if (a.top_n) {
    uint64_t ni = m.items.n;
    s.score = malloc((ni ? ni : 1) * sizeof *s.score);
    s.order = malloc((ni ? ni : 1) * sizeof *s.order);
    s.listed = calloc(m.users.n ? m.users.n : 1, 1);
    if (!s.score || !s.order || !s.listed) {
      cli_error("predict: out of memory");
      rc = EXIT_RUNTIME;
    } else if (o.c.input) {
      rc = each_line(o.c.input, on_user, &s);
    } else {
      for (uint64_t u = 0; u < m.users.n && !rc; u++)
        rc = top_for(&s, (int64_t)u);
    }
  } else {
    rc = each_line(o.c.input, on_pair, &s);
  }
  if (to_stdout) {
    if (fflush(stdout) != 0 && !rc) rc = EXIT_RUNTIME;
  } else {
    int r = mf_out_close(&out, rc == 0);
    if (!rc) rc = r;
  }
  if (rc) goto done;
  if (o.c.json) {
    cli_json j;
    cli_json_begin(&j, to_stdout ? stderr : stdout);
    cli_json_str(&j, "toolkit", "predict");
    if (a.top_n) {
      cli_json_u64(&j, "users", c.users);
      cli_json_u64(&j, "top_n", (uint64_t)a.top_n);
    } else {
      cli_json_u64(&j, "pairs", c.pairs);
      cli_json_u64(&j, "unknown_pairs", c.unknown_pairs);
    }
    cli_json_u64(&j, "unknown_users", c.unknown_users);
    cli_json_u64(&j, "unknown_items", c.unknown_items);
    cli_json_end(&j);
  } else if (!o.c.quiet) {
    if (a.top_n)
      fprintf(stderr, "gasp: predict: top %d items for %" PRIu64 " users\n",
              a.top_n, c.users);
    else
      fprintf(stderr,
              "gasp: predict: %" PRIu64 " predictions (%" PRIu64
              " with an unknown user or item: mean%s)\n",
              c.pairs, c.unknown_pairs, m.biased ? " plus known bias" : "");
  }
done:
  free(s.score);
  free(s.order);
  free(s.listed);
  gasp_graph_free(&seen);
  mf_model_free(&m);
  return rc;
}
