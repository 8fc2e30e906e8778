/*
 * test_cli.c -- the gasp command line, run as a separate process: `info`
 * (text and --json), exit statuses and the one-line error format for bad
 * inputs, `convert` leaving nothing behind on failure, deterministic
 * `generate`, usage errors, `info --gpu`, and the published figures of
 * two SNAP data sets when the shared data directory is present.
 *
 * The binary comes from $GASP_BIN (the tests are skipped without it); the
 * data sets from $GASP_SRCDIR/../shared/data/graphs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>

#include "gasp.h"
#include "testutil.h"

#define COUNT(a) (sizeof(a) / sizeof *(a))

static const char *gasp_bin(void) {
  const char *b = getenv("GASP_BIN");
  if (!b || !*b || access(b, X_OK) != 0) return NULL;
  return b;
}

static int setup(void **state) {
  *state = tu_mkdtemp();
  return 0;
}

static int teardown(void **state) {
  tu_rmtree(*state);
  return 0;
}

/* Runs gasp with the NULL-terminated arguments. */
static tu_result gasp_run(const char *arg, ...) {
  const char *argv[32];
  int n = 0;
  argv[n++] = gasp_bin();
  va_list ap;
  va_start(ap, arg);
  for (const char *a = arg; a; a = va_arg(ap, const char *)) {
    assert_true(n < 31);
    argv[n++] = a;
  }
  va_end(ap);
  argv[n] = NULL;
  tu_result r;
  tu_run((char *const *)argv, &r);
  return r;
}

static char *put(void **state, const char *name, const char *text) {
  char *p = tu_path(*state, name);
  tu_write_str(p, text);
  return p;
}

#define NEED_BIN()                                                             \
  do {                                                                         \
    if (!gasp_bin()) skip();                                                   \
  } while (0)

/* ---- a strict little JSON reader for one flat object ----------------- */

typedef struct jval {
  char key[64];
  char type; /* 's' string, 'n' number, 't' true, 'f' false, 'z' null, 'o' other
              */
  char str[1024];
  double num;
} jval;

typedef struct jdoc {
  jval v[64];
  int n;
} jdoc;

static void jws(const char **p) {
  while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
    (*p)++;
}

static int jstring(const char **p, char *out, size_t cap) {
  const char *s = *p;
  size_t n = 0;
  if (*s++ != '"') return -1;
  for (;;) {
    unsigned char c = (unsigned char)*s++;
    if (c == '"') break;
    if (c < 0x20) return -1; /* includes the terminating NUL */
    if (c == '\\') {
      c = (unsigned char)*s++;
      if (c == 'u') {
        for (int i = 0; i < 4; i++)
          if (!isxdigit((unsigned char)*s++)) return -1;
        c = '?';
      } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
        return -1;
      } else {
        c = c == 'n'   ? '\n'
            : c == 't' ? '\t'
            : c == 'r' ? '\r'
            : c == 'b' ? '\b'
            : c == 'f' ? '\f'
                       : c;
      }
    }
    if (n + 1 < cap) out[n++] = (char)c;
  }
  out[n] = '\0';
  *p = s;
  return 0;
}

static int jnumber(const char **p, double *out) {
  const char *s = *p;
  if (*s == '-') s++;
  if (*s == '0')
    s++;
  else if (*s >= '1' && *s <= '9')
    while (isdigit((unsigned char)*s))
      s++;
  else
    return -1;
  if (*s == '.') {
    s++;
    if (!isdigit((unsigned char)*s)) return -1;
    while (isdigit((unsigned char)*s))
      s++;
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-') s++;
    if (!isdigit((unsigned char)*s)) return -1;
    while (isdigit((unsigned char)*s))
      s++;
  }
  *out = strtod(*p, NULL);
  *p = s;
  return 0;
}

static int jvalue(const char **p, jval *v, int depth);

static int jcompound(const char **p, int depth, jdoc *doc) {
  char open = **p, close = open == '{' ? '}' : ']';
  (*p)++;
  jws(p);
  if (**p == close) {
    (*p)++;
    return 0;
  }
  for (;;) {
    jval tmp, *v = doc && doc->n < (int)COUNT(doc->v) ? &doc->v[doc->n] : &tmp;
    memset(v, 0, sizeof *v);
    if (open == '{') {
      if (jstring(p, v->key, sizeof v->key)) return -1;
      jws(p);
      if (*(*p)++ != ':') return -1;
      jws(p);
    }
    if (jvalue(p, v, depth + 1)) return -1;
    if (doc) doc->n++;
    jws(p);
    if (**p == ',') {
      (*p)++;
      jws(p);
      continue;
    }
    if (*(*p)++ != close) return -1;
    return 0;
  }
}

static int jvalue(const char **p, jval *v, int depth) {
  if (depth > 16) return -1;
  if (**p == '"') {
    v->type = 's';
    return jstring(p, v->str, sizeof v->str);
  }
  if (**p == '{' || **p == '[') {
    v->type = 'o';
    return jcompound(p, depth, NULL);
  }
  static const struct {
    const char *w;
    char t;
  } words[] = {{"true", 't'}, {"false", 'f'}, {"null", 'z'}};
  for (size_t i = 0; i < COUNT(words); i++)
    if (strncmp(*p, words[i].w, strlen(words[i].w)) == 0) {
      *p += strlen(words[i].w);
      v->type = words[i].t;
      return 0;
    }
  v->type = 'n';
  return jnumber(p, &v->num);
}

/* Parses `text` as exactly one JSON object (whitespace around it only);
 * fails the test otherwise.  Keys must be distinct. */
static void json_parse(const char *text, jdoc *doc) {
  memset(doc, 0, sizeof *doc);
  const char *p = text;
  jws(&p);
  if (*p != '{' || jcompound(&p, 0, doc) != 0)
    fail_msg("not a JSON object: '%s'", text);
  jws(&p);
  if (*p != '\0') fail_msg("text after the JSON object: '%s'", p);
  for (int i = 0; i < doc->n; i++)
    for (int j = 0; j < i; j++)
      if (strcmp(doc->v[i].key, doc->v[j].key) == 0)
        fail_msg("key '%s' appears twice", doc->v[i].key);
}

static const jval *jget(const jdoc *d, const char *key) {
  for (int i = 0; i < d->n; i++)
    if (strcmp(d->v[i].key, key) == 0) return &d->v[i];
  fail_msg("JSON has no key '%s'", key);
  return NULL;
}

static void jexpect_num(const jdoc *d, const char *key, double want) {
  const jval *v = jget(d, key);
  if (v->type != 'n' || fabs(v->num - want) > 1e-9 * (1 + fabs(want)))
    fail_msg("%s: got %c %g, want %g", key, v->type, v->num, want);
}

static void jexpect_bool(const jdoc *d, const char *key, int want) {
  const jval *v = jget(d, key);
  if (v->type != (want ? 't' : 'f'))
    fail_msg("%s: got type %c, want %s", key, v->type, want ? "true" : "false");
}

/* ---- helpers for errors ------------------------------------------------ */

/* stderr must be exactly one line beginning with `prefix`. */
static void expect_one_line(const tu_result *r, const char *prefix) {
  size_t n = strlen(r->err);
  if (n == 0 || r->err[n - 1] != '\n' || strchr(r->err, '\n') != r->err + n - 1)
    fail_msg("stderr is not exactly one line: '%s'", r->err);
  if (strncmp(r->err, prefix, strlen(prefix)) != 0)
    fail_msg("stderr '%s' does not start with '%s'", r->err, prefix);
  if (n <= strlen(prefix) + 1)
    fail_msg("no reason after the prefix: '%s'", r->err);
}

/* ---- tests ------------------------------------------------------------ */

static const char small[] = "# small\n1 2\n2 3\n3 1\n3 3\n";

static void test_info_text(void **state) {
  NEED_BIN();
  char *p = put(state, "small.txt", small);
  tu_result r = gasp_run("info", p, NULL);
  assert_int_equal(r.status, 0);
  if (!tu_contains(r.out, "vertices\t3\n") || !tu_contains(r.out, "edges\t4\n"))
    fail_msg("unexpected output:\n%s", r.out);
  assert_true(tu_contains(r.out, "self_loops\t1\n"));
  tu_result_free(&r);
  /* --quiet: nothing on stderr */
  r = gasp_run("info", "--quiet", "-i", p, NULL);
  assert_int_equal(r.status, 0);
  assert_string_equal(r.err, "");
  assert_true(tu_contains(r.out, "vertices\t3\n"));
  tu_result_free(&r);
  free(p);
}

static void test_info_json(void **state) {
  NEED_BIN();
  char *p = put(state, "small.txt", small);
  tu_result r = gasp_run("info", "--json", "--quiet", p, NULL);
  assert_int_equal(r.status, 0);
  jdoc d;
  json_parse(r.out, &d);
  const jval *f = jget(&d, "file");
  assert_int_equal(f->type, 's');
  assert_string_equal(f->str, p);
  jexpect_num(&d, "vertices", 3);
  jexpect_num(&d, "edges", 4);
  jexpect_num(&d, "self_loops", 1);
  jexpect_num(&d, "duplicate_edges", 0);
  jexpect_num(&d, "isolated_vertices", 0);
  jexpect_num(&d, "min_out_degree", 1);
  jexpect_num(&d, "max_out_degree", 2);
  jexpect_num(&d, "min_in_degree", 1);
  jexpect_num(&d, "max_in_degree", 2);
  jexpect_num(&d, "mean_degree", 4.0 / 3.0);
  jexpect_bool(&d, "weighted", 0);
  jexpect_bool(&d, "bipartite", 0);
  assert_int_equal(jget(&d, "load_seconds")->type, 'n');
  tu_result_free(&r);
  /* a weighted rectangular matrix: bipartite with both side counts */
  char *m = put(state, "r.mtx",
                "%%MatrixMarket matrix coordinate real general\n2 5 3\n1 5 "
                "1.5\n2 1 2\n1 1 2\n");
  r = gasp_run("info", "--json", "--quiet", m, NULL);
  assert_int_equal(r.status, 0);
  json_parse(r.out, &d);
  jexpect_num(&d, "vertices", 7);
  jexpect_num(&d, "edges", 3);
  jexpect_num(&d, "left_vertices", 2);
  jexpect_num(&d, "right_vertices", 5);
  jexpect_num(&d, "isolated_vertices", 3);
  jexpect_bool(&d, "weighted", 1);
  jexpect_bool(&d, "bipartite", 1);
  tu_result_free(&r);
  /* a path that needs escaping in JSON */
  char *q = put(state, "we\"ird\\name.txt", small);
  r = gasp_run("info", "--json", "--quiet", q, NULL);
  assert_int_equal(r.status, 0);
  json_parse(r.out, &d);
  assert_string_equal(jget(&d, "file")->str, q);
  tu_result_free(&r);
  free(p);
  free(m);
  free(q);
}

/* A snapshot made by `gasp convert`, for corrupting. */
static char *make_snapshot(void **state, const char *name) {
  char *src = put(state, "snap-src.txt", small);
  char *out = tu_path(*state, name);
  tu_result r = gasp_run("convert", "--quiet", "-i", src, "-o", out, NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  assert_true(tu_exists(out));
  free(src);
  return out;
}

static void test_bad_inputs(void **state) {
  NEED_BIN();
  struct {
    const char *name, *text;
    int line; /* 0: "FILE: " expected, else "FILE:LINE: " */
    const char *mention;
  } cases[] = {
      {"malformed.txt", "1 2\n1 x\n", 2, "x"},
      {"negative.txt", "1 2\n\n-7 3\n", 3, "-7"},
      {"empty.txt", "", 0, NULL},
  };
  char *files[16];
  int lines[16];
  const char *mentions[16];
  int nf = 0;
  for (size_t i = 0; i < COUNT(cases); i++) {
    files[nf] = put(state, cases[i].name, cases[i].text);
    lines[nf] = cases[i].line;
    mentions[nf++] = cases[i].mention;
  }
  /* binary garbage, NULs included */
  unsigned char junk[4096];
  tu_rng rng = {42};
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (unsigned char)tu_next(&rng);
  junk[0] = 0;
  junk[1] = 0xfe;
  files[nf] = tu_path(*state, "garbage.bin");
  tu_write_bytes(files[nf], junk, sizeof junk);
  lines[nf] = 1;
  mentions[nf++] = NULL;
  /* gzip cut in half */
  size_t cap = 1 << 20, n = 0;
  char *text = malloc(cap);
  while (n + 40 < cap)
    n += (size_t)snprintf(text + n, 40, "%llu %llu\n",
                          (unsigned long long)tu_below(&rng, 100000),
                          (unsigned long long)tu_below(&rng, 100000));
  char *gz = tu_path(*state, "full.txt.gz");
  tu_write_gz(gz, text, n);
  size_t zn = 0;
  char *z = tu_read_file(gz, &zn);
  files[nf] = tu_path(*state, "cut.txt.gz");
  tu_write_bytes(files[nf], z, zn / 2);
  lines[nf] = 0;
  mentions[nf++] = NULL;
  free(z);
  free(text);
  free(gz);
  /* snapshot with a flipped body byte, and with another version */
  files[nf] = make_snapshot(state, "sum.gasp");
  {
    int fd = open(files[nf], O_RDWR);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, 140), 1);
    c ^= 1;
    assert_int_equal(pwrite(fd, &c, 1, 140), 1);
    close(fd);
  }
  lines[nf] = 0;
  mentions[nf++] = "checksum";
  files[nf] = make_snapshot(state, "ver.gasp");
  {
    int fd = open(files[nf], O_RDWR);
    uint32_t v = GASP_SNAPSHOT_VERSION + 7;
    assert_int_equal(pwrite(fd, &v, 4, 8), 4);
    close(fd);
  }
  lines[nf] = 0;
  mentions[nf++] = "version";
  for (int i = 0; i < nf; i++) {
    char prefix[1200];
    if (lines[i])
      snprintf(prefix, sizeof prefix, "gasp: %s:%d: ", files[i], lines[i]);
    else
      snprintf(prefix, sizeof prefix, "gasp: %s: ", files[i]);
    tu_result r = gasp_run("info", files[i], NULL);
    if (r.status != 2)
      fail_msg("%s: exit status %d, want 2 (%s)", files[i], r.status, r.err);
    expect_one_line(&r, prefix);
    if (mentions[i] && !tu_contains(r.err + strlen(prefix), mentions[i]))
      fail_msg("'%s' does not mention '%s'", r.err, mentions[i]);
    assert_string_equal(r.out, "");
    tu_result_free(&r);
    free(files[i]);
  }
}

static void test_convert(void **state) {
  NEED_BIN();
  char *outdir = tu_path(*state, "out");
  assert_int_equal(mkdir(outdir, 0755), 0);
  char *out = tu_path(outdir, "g.gasp");
  /* bad input: exit 2, and nothing in the output directory */
  char *bad = put(state, "bad.txt", "1 2\n3 -4\n");
  tu_result r = gasp_run("convert", "-i", bad, "-o", out, NULL);
  assert_int_equal(r.status, 2);
  expect_one_line(&r, "gasp: ");
  tu_result_free(&r);
  assert_false(tu_exists(out));
  assert_int_equal(tu_count_entries(outdir), 0);
  /* an output directory that does not exist: failure, nothing created */
  char *nodir = tu_path(*state, "nodir/g.gasp");
  char *good = put(state, "good.txt", small);
  r = gasp_run("convert", "--quiet", "-i", good, "-o", nodir, NULL);
  assert_true(r.status == 1 || r.status == 2);
  expect_one_line(&r, "gasp: ");
  tu_result_free(&r);
  assert_false(tu_exists(nodir));
  /* good input: exactly the output file, which reloads the same */
  r = gasp_run("convert", "--quiet", "-i", good, "-o", out, NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  assert_int_equal(tu_count_entries(outdir), 1);
  r = gasp_run("info", "--json", "--quiet", out, NULL);
  assert_int_equal(r.status, 0);
  jdoc d;
  json_parse(r.out, &d);
  jexpect_num(&d, "vertices", 3);
  jexpect_num(&d, "edges", 4);
  jexpect_num(&d, "self_loops", 1);
  tu_result_free(&r);
  /* failing again over an existing output leaves the old file alone */
  size_t n1, n2;
  char *before = tu_read_file(out, &n1);
  r = gasp_run("convert", "-i", bad, "-o", out, NULL);
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  char *after = tu_read_file(out, &n2);
  assert_int_equal(n1, n2);
  assert_memory_equal(before, after, n1);
  assert_int_equal(tu_count_entries(outdir), 1);
  free(before);
  free(after);
  free(outdir);
  free(out);
  free(bad);
  free(nodir);
  free(good);
}

static void test_generate(void **state) {
  NEED_BIN();
  char *a = tu_path(*state, "a.el"), *b = tu_path(*state, "b.el"),
       *c = tu_path(*state, "c.el");
  char *t1 = tu_path(*state, "t1.el");
  tu_result r = gasp_run("generate", "kronecker", "--scale", "8", "--seed", "3",
                         "-o", a, NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  r = gasp_run("generate", "kronecker", "--scale", "8", "--seed", "3", "-o", b,
               NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  r = gasp_run("generate", "kronecker", "--scale", "8", "--seed", "4", "-o", c,
               NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  r = gasp_run("generate", "kronecker", "--scale", "8", "--seed", "3", "-t",
               "1", "-o", t1, NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  size_t na, nb, nc, nt;
  char *da = tu_read_file(a, &na), *db = tu_read_file(b, &nb),
       *dc = tu_read_file(c, &nc);
  char *dt = tu_read_file(t1, &nt);
  assert_true(na > 0);
  assert_int_equal(na, nb);
  assert_memory_equal(da, db, na);
  assert_int_equal(na, nt);
  assert_memory_equal(da, dt, na);
  assert_true(nc != na || memcmp(da, dc, na) != 0);
  /* 16 * 2^8 edges, one per line */
  size_t lines = 0;
  for (size_t i = 0; i < na; i++)
    lines += da[i] == '\n';
  assert_int_equal(lines, 16 * 256);
  r = gasp_run("info", "--json", "--quiet", a, NULL);
  assert_int_equal(r.status, 0);
  jdoc d;
  json_parse(r.out, &d);
  jexpect_num(&d, "edges", 16 * 256);
  assert_true(jget(&d, "vertices")->num <= 256);
  tu_result_free(&r);
  free(da);
  free(db);
  free(dc);
  free(dt);
  free(a);
  free(b);
  free(c);
  free(t1);
}

static void test_usage_errors(void **state) {
  NEED_BIN();
  char *p = put(state, "u.txt", small);
  static const char *const bad[][6] = {
      {NULL},
      {"bogus", NULL},
      {"info", "--bogus", NULL},
      {"info", NULL},
      {"info", "--threads", "x", NULL},
      {"info", "--format", "nope", NULL},
      {"convert", "-i", "IN", NULL}, /* no -o */
      {"generate", NULL},
      {"generate", "bogus", "-o", "OUT", NULL},
      {"generate", "kronecker", NULL}, /* no -o */
      {"generate", "kronecker", "--scale", "-3", "-o", "OUT"},
  };
  char *out = tu_path(*state, "usage-out.el");
  for (size_t i = 0; i < COUNT(bad); i++) {
    const char *argv[8] = {gasp_bin()};
    int n = 1;
    for (int k = 0; k < 6 && bad[i][k]; k++)
      argv[n++] = !strcmp(bad[i][k], "IN")    ? p
                  : !strcmp(bad[i][k], "OUT") ? out
                                              : bad[i][k];
    argv[n] = NULL;
    tu_result r;
    tu_run((char *const *)argv, &r);
    if (r.status != 2)
      fail_msg("gasp %s %s: exit status %d, want 2", n > 1 ? argv[1] : "",
               n > 2 ? argv[2] : "", r.status);
    assert_true(strlen(r.err) > 0);
    tu_result_free(&r);
  }
  assert_false(tu_exists(out));
  tu_result r = gasp_run("bogus", NULL);
  expect_one_line(&r, "gasp: ");
  assert_true(tu_contains(r.err, "bogus"));
  tu_result_free(&r);
  r = gasp_run("--help", NULL);
  assert_int_equal(r.status, 0);
  assert_true(tu_contains(r.out, "info"));
  tu_result_free(&r);
  r = gasp_run("--version", NULL);
  assert_int_equal(r.status, 0);
  assert_true(strncmp(r.out, "gasp ", 5) == 0);
  tu_result_free(&r);
  r = gasp_run("info", "--help", NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  free(p);
  free(out);
}

static void test_info_gpu(void **state) {
  (void)state;
  NEED_BIN();
  tu_result r = gasp_run("info", "--gpu", NULL);
  assert_int_equal(r.status, 0);
  assert_true(tu_contains(r.out, "devices"));
  tu_result_free(&r);
  r = gasp_run("info", "--gpu", "--json", NULL);
  assert_int_equal(r.status, 0);
  jdoc d;
  json_parse(r.out, &d);
  assert_true(jget(&d, "cuda_compiled")->type == 't' ||
              jget(&d, "cuda_compiled")->type == 'f');
  const jval *dev = jget(&d, "devices");
  assert_int_equal(dev->type, 'n');
  assert_true(dev->num >= 0);
  assert_int_equal(jget(&d, "device")->type, 's');
  if (jget(&d, "cuda_compiled")->type == 'f') assert_true(dev->num == 0);
  tu_result_free(&r);
}

/* SNAP publishes: CA-GrQc 5242 nodes 28980 edges, Wiki-Vote 7115 nodes
 * 103689 edges. */
static void test_snap_datasets(void **state) {
  (void)state;
  NEED_BIN();
  const char *src = getenv("GASP_SRCDIR");
  if (!src || !*src) skip();
  static const struct {
    const char *file;
    double vertices, edges;
  } sets[] = {{"CA-GrQc.txt", 5242, 28980}, {"Wiki-Vote.txt", 7115, 103689}};
  int ran = 0;
  for (size_t i = 0; i < COUNT(sets); i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/../shared/data/graphs/%s", src,
             sets[i].file);
    if (!tu_exists(path)) continue;
    tu_result r = gasp_run("info", "--json", "--quiet", path, NULL);
    assert_int_equal(r.status, 0);
    jdoc d;
    json_parse(r.out, &d);
    jexpect_num(&d, "vertices", sets[i].vertices);
    jexpect_num(&d, "edges", sets[i].edges);
    jexpect_bool(&d, "weighted", 0);
    tu_result_free(&r);
    ran++;
  }
  if (!ran) skip();
}

/* gasp partition: the summary, the assignment file, bad flags; on
 * CA-GrQc (when present) METIS cuts far fewer edges than hashing. */
static void test_partition_cmd(void **state) {
  NEED_BIN();
  char *g = put(state, "two.el", "1 2\n2 3\n3 1\n10 11\n11 12\n12 10\n");
  char *o = tu_path(*state, "parts.tsv");
  tu_result r = gasp_run("partition", "-i", g, "--parts", "2", "--json",
                         "--assignment", o, NULL);
  assert_int_equal(r.status, 0);
  jdoc d;
  json_parse(r.out, &d);
  jexpect_num(&d, "edge_cut_fraction", 0);
  jexpect_num(&d, "parts", 2);
  jexpect_num(&d, "ghosts_total", 0);
  tu_result_free(&r);
  char *text = tu_read_file(o, NULL);
  assert_non_null(text);
  unsigned id, part, p1 = 9, p10 = 9, lines = 0;
  for (char *l = text; *l; l = strchr(l, '\n') + 1) {
    assert_int_equal(sscanf(l, "%u\t%u", &id, &part), 2);
    assert_true(part < 2);
    if (id <= 3)
      assert_true(p1 == 9 || p1 == part), p1 = part;
    else
      assert_true(p10 == 9 || p10 == part), p10 = part;
    lines++;
  }
  assert_int_equal(lines, 6);
  assert_int_not_equal(p1, p10);
  free(text);
  r = gasp_run("partition", "-i", g, "--parts", "0", NULL);
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  r = gasp_run("partition", "-i", g, "--parts", "2", "--method", "random",
               NULL);
  assert_int_equal(r.status, 2);
  tu_result_free(&r);
  free(g);
  free(o);
  const char *src = getenv("GASP_SRCDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/../shared/data/graphs/CA-GrQc.txt",
           src ? src : ".");
  if (!tu_exists(path)) return;
  double cut[2];
  const char *method[2] = {"metis", "hash"};
  for (int m = 0; m < 2; m++) {
    r = gasp_run("partition", "-i", path, "--parts", "4", "--method", method[m],
                 "--json", "--quiet", NULL);
    assert_int_equal(r.status, 0);
    json_parse(r.out, &d);
    cut[m] = jget(&d, "edge_cut_fraction")->num;
    tu_result_free(&r);
  }
  if (!(cut[0] * 5 < cut[1]))
    fail_msg("METIS cut %g, hash cut %g", cut[0], cut[1]);
}

/* ---- where results go ---------------------------------------------------- */

/* Runs gasp with stdin from `in` (NULL: /dev/null) and stdout to `out`
 * (a path opened for writing); stderr is captured into r->err. */
static tu_result run_redirected(const char *in, const char *out,
                                const char *const *args) {
  char *dir = tu_mkdtemp();
  char *pe = tu_path(dir, "stderr");
  const char *argv[32];
  int n = 0;
  argv[n++] = gasp_bin();
  for (; *args; args++)
    argv[n++] = *args;
  argv[n] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int i = open(in ? in : "/dev/null", O_RDONLY);
    int o = open(out, O_WRONLY);
    int e = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (i < 0 || o < 0 || e < 0) _exit(127);
    dup2(i, 0);
    dup2(o, 1);
    dup2(e, 2);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0)
    assert_int_equal(errno, EINTR);
  tu_result r = {WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                 WIFSIGNALED(st) ? WTERMSIG(st) : 0, NULL, NULL};
  r.out = strdup("");
  r.err = tu_read_file(pe, NULL);
  free(pe);
  tu_rmtree(dir);
  return r;
}

#define REDIRECTED(in, out, ...)                                               \
  run_redirected(in, out, (const char *const[]){__VA_ARGS__, NULL})

static void test_stdout_errors(void **state) {
  /* Results lost on a full disk must not exit 0. */
  NEED_BIN();
  if (access("/dev/full", W_OK) != 0) skip();
  char *p = put(state, "small.txt", small);
  const char *const cases[][8] = {
      {"info", "--quiet", p, NULL},
      {"info", "--json", "--quiet", p, NULL},
      {"pagerank", "-i", p, "--top", "2", "--quiet", NULL},
      {"pagerank", "-i", p, "-o", "-", "--quiet", NULL},
      {"pagerank", "-i", p, "--json", "--quiet", NULL},
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    tu_result r = run_redirected(NULL, "/dev/full", cases[i]);
    if (r.status != 1 || !tu_contains(r.err, "No space left on device"))
      fail_msg("%s %s > /dev/full: exit %d, stderr '%s'", cases[i][0],
               cases[i][1], r.status, r.err);
    expect_one_line(&r, "gasp: stdout: ");
    tu_result_free(&r);
  }
  free(p);
}

static void test_output_targets(void **state) {
  NEED_BIN();
  char *p = put(state, "small.txt", small);
  /* a new file: 0666 less the umask (here 022), not 0600 */
  char *out = tu_path(*state, "pr.tsv");
  mode_t old = umask(022);
  tu_result r = gasp_run("pagerank", "-i", p, "-o", out, "--quiet", NULL);
  umask(old);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  struct stat sb;
  assert_int_equal(stat(out, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0644);
  /* a replaced file keeps its mode */
  assert_int_equal(chmod(out, 0640), 0);
  r = gasp_run("pagerank", "-i", p, "-o", out, "--quiet", NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  assert_int_equal(stat(out, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0640);
  size_t want_len = 0;
  char *want = tu_read_file(out, &want_len);
  /* a symlink stays a link; the file it names gets the results */
  char *target = tu_path(*state, "target.tsv");
  char *link = tu_path(*state, "link.tsv");
  tu_write_str(target, "old\n");
  assert_int_equal(symlink("target.tsv", link), 0);
  r = gasp_run("pagerank", "-i", p, "-o", link, "--quiet", NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  struct stat lsb;
  assert_int_equal(lstat(link, &lsb), 0);
  assert_true(S_ISLNK(lsb.st_mode));
  char *got = tu_read_file(target, NULL);
  assert_string_equal(got, want);
  free(got);
  /* the snapshot writer (the library's) follows links the same way */
  char *snap = tu_path(*state, "g.gasp");
  char *slink = tu_path(*state, "g-link.gasp");
  tu_write_str(snap, "old\n");
  assert_int_equal(symlink("g.gasp", slink), 0);
  r = gasp_run("convert", "-i", p, "-o", slink, "--quiet", NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  assert_int_equal(lstat(slink, &lsb), 0);
  assert_true(S_ISLNK(lsb.st_mode));
  assert_true(tu_file_size(snap) > 128);
  /* a FIFO is written into, not replaced by a regular file */
  char *fifo = tu_path(*state, "out.fifo");
  assert_int_equal(mkfifo(fifo, 0600), 0);
  for (int lib = 0; lib < 2; lib++) {
    tu_child rd;
    if (tu_child_fork(&rd) == 0) { /* the reader: count the bytes */
      int fd = open(fifo, O_RDONLY);
      if (fd < 0)
        tu_child_exit(TU_RANK_FAIL("open %s: %s", fifo, strerror(errno)));
      char buf[4096];
      size_t total = 0;
      ssize_t k;
      while ((k = read(fd, buf, sizeof buf)) > 0)
        total += (size_t)k;
      if (k < 0) tu_child_exit(TU_RANK_FAIL("read: %s", strerror(errno)));
      tu_child_exit(total > 0 ? 0 : TU_RANK_FAIL("nothing came through"));
    }
    r = lib ? gasp_run("convert", "-i", p, "-o", fifo, "--quiet", NULL)
            : gasp_run("pagerank", "-i", p, "-o", fifo, "--quiet", NULL);
    int read_ok = tu_child_wait(&rd);
    if (r.status != 0) fail_msg("-o FIFO: exit %d: %s", r.status, r.err);
    tu_result_free(&r);
    if (!read_ok)
      fail_msg("-o FIFO (%s): the reader: %s", lib ? "convert" : "pagerank",
               rd.msg);
    assert_int_equal(lstat(fifo, &lsb), 0);
    assert_true(S_ISFIFO(lsb.st_mode));
  }
  /* no temporaries left behind */
  DIR *d = opendir(*state);
  assert_non_null(d);
  for (struct dirent *e; (e = readdir(d));)
    if (strstr(e->d_name, ".tmp")) fail_msg("left behind: %s", e->d_name);
  closedir(d);
  free(want);
  free(fifo);
  free(snap);
  free(slink);
  free(target);
  free(link);
  free(out);
  free(p);
}

static void test_stdin_input(void **state) {
  /* -i - reads standard input, plain or gzip, losing nothing */
  NEED_BIN();
  char *p = put(state, "small.txt", small);
  char *gz = tu_path(*state, "small.gz");
  tu_write_gz(gz, small, sizeof small - 1);
  char *out = tu_path(*state, "info.out");
  const char *inputs[] = {p, gz};
  for (int i = 0; i < 2; i++) {
    tu_write_str(out, "");
    tu_result r = REDIRECTED(inputs[i], out, "info", "-i", "-");
    if (r.status != 0) fail_msg("info -i - < %s: %s", inputs[i], r.err);
    tu_result_free(&r);
    char *text = tu_read_file(out, NULL);
    if (!tu_contains(text, "edges\t4\n")) fail_msg("info -i -: %s", text);
    free(text);
  }
  free(out);
  free(gz);
  free(p);
}

static void test_thread_limit(void **state) {
  /* -t 100000 used to start that many threads (seconds, over a GB) */
  NEED_BIN();
  char *p = put(state, "small.txt", small);
  const char *const cmds[][8] = {
      {"pagerank", "-i", p, "-t", "100000", NULL},
      {"info", "-t", "4097", p, NULL},
      {"lda", "-i", p, "-t", "100000", NULL},
  };
  for (size_t i = 0; i < COUNT(cmds); i++) {
    tu_result r = tu_gasp_runv(cmds[i]);
    if (r.status != 2 || !tu_contains(r.err, "4096"))
      fail_msg("%s -t: exit %d: %s", cmds[i][0], r.status, r.err);
    expect_one_line(&r, "gasp: --threads: ");
    tu_result_free(&r);
  }
  tu_result r = gasp_run("info", "-t", "4096", "--quiet", p, NULL);
  assert_int_equal(r.status, 0);
  tu_result_free(&r);
  free(p);
}

static void test_flag_errors(void **state) {
  /* flags a subcommand does not use are refused, and a bad option is one
   * line (not getopt's text and the whole help); "@" stands for the input */
  NEED_BIN();
  char *p = put(state, "small.txt", small);
  static const struct {
    const char *args[8];
    const char *says;
  } cases[] = {
      {{"pagerank", "-i", "@", "--vocab", "v.txt", NULL}, "--vocab"},
      {{"pagerank", "-i", "@", "--seed", "3", NULL}, "--seed"},
      {{"split", "-i", "@", "--tol", "5", "-o", "x", NULL}, "--tol"},
      {{"predict", "--model", "m", "--engine", "async", NULL}, "--engine"},
      {{"partition", "-i", "@", "--scheduler", "fifo", NULL}, "--scheduler"},
      {{"lda", "-i", "@", "--tol", "1", NULL}, "--tol"},
      {{"lda-infer", "-m", "m", "-i", "@", "--max-iter", "3", NULL},
       "--max-iter"},
      {{"als", "-i", "@", "--consistency", "full", NULL}, "--consistency"},
      {{"pagerank", "-i", "@", "--frobnicate", NULL}, "'--frobnicate'"},
      {{"pagerank", "-i", "@", "-Z", NULL}, "'-Z'"},
      {{"info", "--bogus", "@", NULL}, "'--bogus'"},
      {{"lda", "-i", "@", "--bogus", NULL}, "'--bogus'"},
      {{"generate", "uniform", "--bogus", NULL}, "'--bogus'"},
      {{"pagerank", "-i", "@", "--tol", NULL}, "needs a value"},
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    const char *argv[10];
    size_t n = 0;
    for (; cases[i].args[n]; n++)
      argv[n] = strcmp(cases[i].args[n], "@") ? cases[i].args[n] : p;
    argv[n] = NULL;
    tu_result r = tu_gasp_runv(argv);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "gasp: %s: ", cases[i].args[0]);
    if (r.status != 2 || !tu_contains(r.err, cases[i].says))
      fail_msg("case %zu (%s): exit %d: %s", i, cases[i].args[0], r.status,
               r.err);
    expect_one_line(&r, prefix);
    tu_result_free(&r);
  }
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_partition_cmd),
      cmocka_unit_test(test_stdout_errors),
      cmocka_unit_test(test_output_targets),
      cmocka_unit_test(test_stdin_input),
      cmocka_unit_test(test_thread_limit),
      cmocka_unit_test(test_flag_errors),
      cmocka_unit_test(test_info_text),
      cmocka_unit_test(test_info_json),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_convert),
      cmocka_unit_test(test_generate),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_info_gpu),
      cmocka_unit_test(test_snap_datasets),
  };
  return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
