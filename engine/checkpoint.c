/*
 * checkpoint.c -- gasp_engine_checkpoint and gasp_engine_resume: the
 * engine's state between runs (or at a sync superstep boundary) in a file
 * per rank, so a run killed after checkpoint k continues from k and ends
 * with the bits an uninterrupted run ends with.
 *
 * What the state is.  Between supersteps the sync engine keeps everything
 * that decides the rest of a run in a few arrays: the vertex and edge
 * data, the flags of the vertices active next (and their priorities), the
 * messages waiting for them (buffer mcur), the aggregators' values, and
 * the iteration and update counters.  The caller's own state (a toolkit's
 * side arrays, RNG states, counters) joins through
 * gasp_engine_checkpoint_state.  Ghost copies are saved with the rest but
 * need not be: a run starts by refreshing them from their owners.
 *
 * Layout.  DIR/step-<iteration>/rank-<r>.ckpt, one generation per
 * directory: a fixed header (what the file is for: rank, ranks, the
 * graph's fingerprint, the program's sizes, the run key), then sections
 * (a tag, a name, a size, the bytes), then a trailer holding the checksum
 * of everything before it.  Each file is written under a temporary name,
 * fsync'ed, renamed into place and its directory fsync'ed; when every rank
 * has written its file, rank 0 writes DIR/step-<iteration>/MANIFEST (a
 * text naming the run) the same way.  A generation is complete when its
 * MANIFEST exists and each rank's file checks; the newest two complete
 * ones are kept.
 *
 * Resume.  Each rank proposes its newest complete generation, the ranks
 * take the oldest proposal (an allreduce), and if any rank cannot load it
 * they all step back below it, so every rank restores the same iteration.
 * A file for another graph, partition, program, rank count or run key is
 * refused with what differs; a damaged or truncated one is passed over
 * for the generation before it.
 */
#include "dist_internal.h"
#include "engine_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CK_MAGIC "GASPCKP1"
#define CK_END 0x444e45504b435347ull /* "GSCKPEND" */
#define CK_VERSION 1u

enum {
  SEC_VDATA = 1,
  SEC_EDATA,
  SEC_ACTIVE,
  SEC_PRIO,
  SEC_MSG,
  SEC_MFLAG,
  SEC_AGG,
  SEC_USER,
  SEC_PULL,
  SEC_SSP,   /* bounded staleness: the cut (gasp__ssp_cut, less msgs) */
  SEC_SSPMSG /* and a peer's payload in flight (named by the peer) */
};

typedef struct ck_header {
  char magic[8];
  uint32_t version, rank, nranks, mcur;
  uint64_t iteration, updates;
  uint64_t nv, nowned, ne;
  uint64_t graph_hash, key_hash;
  uint64_t vertex_size, edge_size, msg_size;
  uint32_t naggs, nuser;
  uint64_t reserved[4]; /* [0], [1]: the run's starting iteration, updates;
                           [2]: the next superstep pulls (push_pull);
                           [3]: the blocked gather's values are floats
                           (gasp_engine_source_float) */
} ck_header;

typedef struct ck_sec {
  uint32_t tag, name_len;
  uint64_t size;
} ck_sec;

/* F's bitmap of a pull superstep on one process. */
static uint64_t fbits_bytes(const gasp_graph *g) {
  return ((uint64_t)g->nv + 63) / 64 * sizeof(uint64_t);
}

static uint64_t hash_bytes(uint64_t seed, const void *p, size_t n) {
  gasp__hash h;
  gasp__hash_init(&h, seed);
  gasp__hash_update(&h, p, n);
  return gasp__hash_final(&h);
}

/* The graph's fingerprint: sizes, original ids, structure and weights
 * (for a rank's part: what it holds, so another partition differs). */
static uint64_t graph_hash(const gasp_graph *g) {
  gasp__hash h;
  gasp__hash_init(&h, 0x636b7074);
  uint64_t sz[4] = {g->nv, g->nowned, g->nleft, g->ne};
  gasp__hash_update(&h, sz, sizeof sz);
  if (g->gid) gasp__hash_update(&h, g->gid, (size_t)g->nv * sizeof *g->gid);
  gasp__hash_update(&h, g->out_off, ((size_t)g->nv + 1) * sizeof *g->out_off);
  gasp__hash_update(&h, g->out_nbr, (size_t)g->ne * sizeof *g->out_nbr);
  if (g->weight)
    gasp__hash_update(&h, g->weight, (size_t)g->ne * sizeof *g->weight);
  return gasp__hash_final(&h);
}

static int rank_of(const gasp_engine *e) {
  return e->opts.dist ? e->opts.dist->rank : 0;
}
static int ranks_of(const gasp_engine *e) {
  return e->opts.dist ? e->opts.dist->size : 1;
}

/* ---- the caller's sections ------------------------------------------- */

int gasp_engine_checkpoint_state(gasp_engine *e, const char *name, void *data,
                                 size_t size) {
  if (!e || !name || !*name || strlen(name) > 63 || (!data && size))
    return GASP_EINVAL;
  for (int i = 0; i < e->nck; i++)
    if (!strcmp(e->ck[i].name, name)) return GASP_EINVAL;
  gasp__ck_state *n = gasp__realloc(e->ck, (size_t)(e->nck + 1) * sizeof *n);
  if (!n) return GASP_ENOMEM;
  e->ck = n;
  snprintf(n[e->nck].name, sizeof n[e->nck].name, "%s", name);
  n[e->nck].data = data;
  n[e->nck].size = size;
  e->nck++;
  return GASP_OK;
}

/* ---- writing ----------------------------------------------------------- */

typedef struct ck_writer {
  int fd;
  gasp__hash h;
  const char *path;
  gasp_error *err;
  int rc;
} ck_writer;

static void put(ck_writer *w, const void *p, size_t n) {
  if (w->rc) return;
  gasp__hash_update(&w->h, p, n);
  const char *c = p;
  while (n > 0) {
    ssize_t k = write(w->fd, c, n > (1u << 30) ? (1u << 30) : n);
    if (k < 0) {
      if (errno == EINTR) continue;
      w->rc = gasp__fail(w->err, GASP_EIO, w->path, 0, "write failed: %s",
                         strerror(errno));
      return;
    }
    c += k;
    n -= (size_t)k;
  }
}

static void put_sec(ck_writer *w, uint32_t tag, const char *name,
                    const void *p, uint64_t size) {
  ck_sec s = {tag, name ? (uint32_t)strlen(name) : 0, size};
  put(w, &s, sizeof s);
  if (s.name_len) put(w, name, s.name_len);
  if (size) put(w, p, (size_t)size);
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* A file being written under a temporary name beside `path`. */
struct gasp__ck_file {
  ck_writer w;
  char *sdir, *path, *tmp;
  uint64_t it;
  double seconds; /* spent writing it so far */
};

static int file_open(gasp__ck_file *f, const char *path, gasp_error *err) {
  size_t n = strlen(path) + 8;
  f->w.fd = -1;
  f->path = gasp__malloc(n);
  f->tmp = gasp__malloc(n);
  if (!f->path || !f->tmp)
    return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  snprintf(f->path, n, "%s", path);
  snprintf(f->tmp, n, "%s.tmp", path);
  f->w.path = f->path;
  f->w.err = err;
  f->w.rc = GASP_OK;
  f->w.fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (f->w.fd < 0)
    return gasp__fail(err, GASP_EIO, f->tmp, 0, "cannot create: %s",
                      strerror(errno));
  gasp__hash_init(&f->w.h, 0x434b5054);
  return GASP_OK;
}

/* fsync, close, rename into place and (sync_dir) fsync of the directory;
 * the temporary is removed on any failure (or when abandoning: rc set). */
static int file_close(gasp__ck_file *f, const char *dir, int sync_dir) {
  gasp_error *err = f->w.err;
  if (f->w.fd >= 0) {
    if (!f->w.rc && fsync(f->w.fd) != 0)
      f->w.rc = gasp__fail(err, GASP_EIO, f->tmp, 0, "fsync failed: %s",
                           strerror(errno));
    if (close(f->w.fd) != 0 && !f->w.rc)
      f->w.rc = gasp__fail(err, GASP_EIO, f->tmp, 0, "close failed: %s",
                           strerror(errno));
    f->w.fd = -1;
    if (!f->w.rc && rename(f->tmp, f->path) != 0)
      f->w.rc = gasp__fail(err, GASP_EIO, f->path, 0,
                           "cannot rename into place: %s", strerror(errno));
    if (!f->w.rc && sync_dir && fsync_dir(dir) != 0)
      f->w.rc = gasp__fail(err, GASP_EIO, dir, 0, "fsync failed: %s",
                           strerror(errno));
    if (f->w.rc) unlink(f->tmp);
  }
  free(f->path);
  free(f->tmp);
  f->path = f->tmp = NULL;
  return f->w.rc;
}

/* Writes `path` through a temporary in its directory: fn fills it, then
 * fsync, rename, and (sync_dir) fsync of the directory.  A rank file's
 * rename is made durable by the fsync that follows its generation's
 * manifest (one directory); if the manifest outlives it in a crash, the
 * generation reads as incomplete and the one before is used. */
static int write_atomic(const char *dir, const char *path,
                        void (*fn)(ck_writer *w, void *arg), void *arg,
                        int sync_dir, uint64_t *written, gasp_error *err) {
  gasp__ck_file f;
  memset(&f, 0, sizeof f);
  int rc = file_open(&f, path, err);
  if (rc) {
    f.w.rc = rc;
    return file_close(&f, dir, 0);
  }
  fn(&f.w, arg);
  if (written) *written = f.w.h.total;
  return file_close(&f, dir, sync_dir);
}

/* The header and the engine's sections (no trailer). */
static void write_body(ck_writer *w, gasp_engine *e) {
  const gasp_graph *g = e->g;
  ck_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, CK_MAGIC, 8);
  h.version = CK_VERSION;
  h.rank = (uint32_t)rank_of(e);
  h.nranks = (uint32_t)ranks_of(e);
  /* the buffer holding the next updates' messages (async: always 0) */
  int mb = e->opts.engine == GASP_ENGINE_ASYNC ? 0 : e->mcur;
  h.mcur = (uint32_t)mb;
  h.iteration = e->iteration;
  h.updates = e->updates;
  h.nv = g->nv;
  h.nowned = g->nowned;
  h.ne = g->ne;
  h.graph_hash = e->ck_graph_hash;
  h.key_hash = e->ck_key_hash;
  h.vertex_size = e->prog.vertex_size;
  h.edge_size = e->prog.edge_size;
  h.msg_size = e->prog.msg_size;
  h.naggs = (uint32_t)e->naggs;
  h.nuser = (uint32_t)e->nck;
  h.reserved[0] = e->run_iter0;
  h.reserved[1] = e->run_upd0;
  h.reserved[2] = (uint64_t)e->ck_pull;
  h.reserved[3] = (uint64_t)e->src_float;
  put(w, &h, sizeof h);
  put_sec(w, SEC_VDATA, NULL, g->vdata, (uint64_t)g->nv * e->prog.vertex_size);
  put_sec(w, SEC_EDATA, NULL, g->edata, g->ne * e->prog.edge_size);
  put_sec(w, SEC_ACTIVE, NULL, e->active, g->nv);
  if (e->prio) put_sec(w, SEC_PRIO, NULL, e->prio, g->nv * sizeof *e->prio);
  if (e->prog.msg_size) {
    put_sec(w, SEC_MSG, NULL, e->msg[mb], (uint64_t)g->nv * e->prog.msg_size);
    put_sec(w, SEC_MFLAG, NULL, e->mflag[mb], g->nv);
  }
  for (int i = 0; i < e->naggs; i++)
    put_sec(w, SEC_AGG, NULL, e->aggs[i].value, e->aggs[i].a.size);
  for (int i = 0; i < e->nck; i++)
    put_sec(w, SEC_USER, e->ck[i].name, e->ck[i].data, e->ck[i].size);
  if (e->ck_pull)
    put_sec(w, SEC_PULL, NULL, e->ck_fbits,
            e->ck_fbits ? fbits_bytes(g) : 0);
}

/* The checksum of everything before it and the end mark. */
static void put_trailer(ck_writer *w) {
  uint64_t tail[2] = {gasp__hash_final(&w->h), CK_END};
  put(w, tail, sizeof tail);
}

static void write_state(ck_writer *w, void *arg) {
  write_body(w, arg);
  put_trailer(w);
}

typedef struct manifest_arg {
  gasp_engine *e;
  uint64_t it;
} manifest_arg;

static void write_manifest(ck_writer *w, void *arg) {
  gasp_engine *e = ((manifest_arg *)arg)->e;
  char buf[1024];
  int n = snprintf(buf, sizeof buf,
                   "format\tgasp-checkpoint %u\niteration\t%" PRIu64
                   "\nranks\t%d\nkey\t%s\ngraph\t%016" PRIx64
                   " (rank 0's part)\nvertex_size\t%zu\nedge_size\t%zu\n"
                   "msg_size\t%zu\naggregators\t%d\nstate_sections\t%d\n",
                   CK_VERSION, ((manifest_arg *)arg)->it, ranks_of(e),
                   e->ck_key ? e->ck_key : "", e->ck_graph_hash,
                   e->prog.vertex_size, e->prog.edge_size, e->prog.msg_size,
                   e->naggs, e->nck);
  put(w, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1));
}

static char *path_join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = gasp__malloc(n);
  if (p) snprintf(p, n, "%s/%s", a, b);
  return p;
}

static char *step_dir(const char *dir, uint64_t it) {
  char name[40];
  snprintf(name, sizeof name, "step-%020" PRIu64, it);
  return path_join(dir, name);
}

static char *rank_file(const char *sdir, int rank) {
  char name[40];
  snprintf(name, sizeof name, "rank-%d.ckpt", rank);
  return path_join(sdir, name);
}

static int make_dir(const char *p, gasp_error *err) {
  if (mkdir(p, 0777) == 0 || errno == EEXIST) return GASP_OK;
  return gasp__fail(err, GASP_EIO, p, 0, "cannot create the directory: %s",
                    strerror(errno));
}

/* The generations in dir, ascending (malloc'd; *n of them). */
static int list_steps(const char *dir, uint64_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? GASP_OK : GASP_EIO;
  size_t cap = 0;
  struct dirent *de;
  int rc = GASP_OK;
  while ((de = readdir(d))) {
    const char *s = de->d_name;
    if (strncmp(s, "step-", 5) || strlen(s) != 25) continue;
    char *end;
    uint64_t it = strtoull(s + 5, &end, 10);
    if (*end) continue;
    if (*n == cap) {
      size_t nc = cap ? 2 * cap : 8;
      uint64_t *q = gasp__realloc(*out, nc * sizeof *q);
      if (!q) {
        rc = GASP_ENOMEM;
        break;
      }
      *out = q;
      cap = nc;
    }
    (*out)[(*n)++] = it;
  }
  closedir(d);
  for (size_t i = 1; i < *n; i++) /* insertion sort: a handful */
    for (size_t j = i; j > 0 && (*out)[j - 1] > (*out)[j]; j--) {
      uint64_t t = (*out)[j];
      (*out)[j] = (*out)[j - 1];
      (*out)[j - 1] = t;
    }
  return rc;
}

/* Removes this rank's files of generations older than `keep_from` (and,
 * on rank 0, their manifests and the emptied directories). */
static void prune(gasp_engine *e, const char *dir, uint64_t keep_from) {
  uint64_t *st;
  size_t n;
  if (list_steps(dir, &st, &n)) return;
  for (size_t i = 0; i < n && st[i] < keep_from; i++) {
    char *sd = step_dir(dir, st[i]);
    char *f = sd ? rank_file(sd, rank_of(e)) : NULL;
    char *m = sd ? path_join(sd, "MANIFEST") : NULL;
    if (f) unlink(f);
    if (m && rank_of(e) == 0) unlink(m);
    if (sd) rmdir(sd); /* the last rank to leave it empties it */
    free(f);
    free(m);
    free(sd);
  }
  free(st);
}

static int ensure_hashes(gasp_engine *e) {
  if (!e->ck_hashed) {
    e->ck_graph_hash = graph_hash(e->g);
    e->ck_hashed = 1;
  }
  return GASP_OK;
}

/* Every rank's status, combined: the worst (a failure on any rank fails
 * every rank). */
static int agree(gasp_engine *e, int rc) {
  if (!e->opts.dist || e->opts.dist->size == 1) return rc;
  double v = rc ? 1 : 0;
  int arc = gasp_engine_allreduce(e, &v, 1, GASP_REDUCE_MAX);
  if (arc) return arc;
  if (v > 0 && !rc)
    rc = gasp__fail(&e->err, GASP_EIO, NULL, 0,
                    "checkpoint: another rank failed to write its file");
  return rc;
}

/* Rank 0: generation it's MANIFEST (its directory fsync'ed). */
static int manifest_in(gasp_engine *e, const char *dir, uint64_t it) {
  char *sd = step_dir(dir, it);
  char *m = sd ? path_join(sd, "MANIFEST") : NULL;
  manifest_arg ma = {e, it};
  int rc = m ? write_atomic(sd, m, write_manifest, &ma, 1, NULL, &e->err)
             : gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
  free(m);
  free(sd);
  return rc;
}

/* Keeps generation it and the newest one before it. */
static void keep_two(gasp_engine *e, const char *dir, uint64_t it) {
  uint64_t *st;
  size_t n;
  if (list_steps(dir, &st, &n)) return;
  uint64_t keep_from = it;
  for (size_t i = 0; i < n; i++)
    if (st[i] < it) keep_from = st[i]; /* the newest older */
  free(st);
  prune(e, dir, keep_from);
}

int gasp__checkpoint_write(gasp_engine *e, const char *dir) {
  ensure_hashes(e);
  int rc = make_dir(dir, &e->err);
  char *sd = rc ? NULL : step_dir(dir, e->iteration);
  char *f = sd ? rank_file(sd, rank_of(e)) : NULL;
  if (!rc && !f) rc = gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
  if (!rc) rc = make_dir(sd, &e->err);
  if (!rc)
    rc = write_atomic(sd, f, write_state, e, 0, &e->ck_bytes, &e->err);
  rc = agree(e, rc);
  if (!rc && rank_of(e) == 0) rc = manifest_in(e, dir, e->iteration);
  rc = agree(e, rc);
  if (!rc) keep_two(e, dir, e->iteration);
  free(f);
  free(sd);
  return rc;
}

/* ---- bounded staleness: a file written in two halves ------------------ */

static void ck_file_free(gasp__ck_file **pf) {
  gasp__ck_file *f = *pf;
  if (!f) return;
  if (f->w.fd >= 0) {
    close(f->w.fd);
    if (f->tmp) unlink(f->tmp);
  }
  free(f->path);
  free(f->tmp);
  free(f->sdir);
  free(f);
  *pf = NULL;
}

int gasp__ck_open(gasp_engine *e, const gasp__ssp_cut *cut,
                  gasp__ck_file **out) {
  *out = NULL;
  double t0 = gasp__now();
  ensure_hashes(e);
  const char *dir = e->opts.checkpoint_dir;
  gasp__ck_file *f = gasp__calloc(1, sizeof *f);
  if (!f) return gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
  f->w.fd = -1;
  f->it = e->iteration;
  int rc = make_dir(dir, &e->err);
  char *path = NULL;
  if (!rc) {
    f->sdir = step_dir(dir, f->it);
    path = f->sdir ? rank_file(f->sdir, rank_of(e)) : NULL;
    if (!path) rc = gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
  }
  if (!rc) rc = make_dir(f->sdir, &e->err);
  if (!rc) rc = file_open(f, path, &e->err);
  free(path);
  size_t P = (size_t)cut->nranks, size = (2 + 2 * P) * sizeof(uint64_t);
  uint64_t *hdr = rc ? NULL : gasp__malloc(size);
  if (!rc && !hdr)
    rc = gasp__fail(&e->err, GASP_ENOMEM, NULL, 0, "out of memory");
  if (!rc) {
    write_body(&f->w, e);
    hdr[0] = cut->t_next;
    hdr[1] = P;
    memcpy(hdr + 2, cut->applied, P * sizeof *hdr);
    memcpy(hdr + 2 + P, cut->upto, P * sizeof *hdr);
    put_sec(&f->w, SEC_SSP, NULL, hdr, size);
    rc = f->w.rc;
  }
  free(hdr);
  if (rc) {
    ck_file_free(&f);
    return rc;
  }
  f->seconds = gasp__now() - t0;
  *out = f;
  return GASP_OK;
}

int gasp__ck_payload(gasp_engine *e, gasp__ck_file *f, int peer,
                     const uint8_t *data, size_t n) {
  (void)e;
  double t0 = gasp__now();
  char name[16];
  snprintf(name, sizeof name, "%d", peer);
  put_sec(&f->w, SEC_SSPMSG, name, data, n);
  f->seconds += gasp__now() - t0;
  return f->w.rc;
}

uint64_t gasp__ck_iteration(const gasp__ck_file *f) { return f->it; }

int gasp__ck_commit(gasp_engine *e, gasp__ck_file **pf) {
  gasp__ck_file *f = *pf;
  double t0 = gasp__now();
  put_trailer(&f->w);
  uint64_t bytes = f->w.h.total;
  int rc = file_close(f, f->sdir, 0);
  double secs = f->seconds + gasp__now() - t0;
  ck_file_free(pf);
  if (rc) return rc;
  e->ck_bytes = bytes;
  if (e->ck_stats) {
    e->ck_stats->checkpoints++;
    e->ck_stats->checkpoint_bytes += bytes;
    e->ck_stats->checkpoint_seconds += secs;
  }
  return GASP_OK;
}

void gasp__ck_abandon(gasp__ck_file **pf) { ck_file_free(pf); }

int gasp__ck_manifest(gasp_engine *e, uint64_t it) {
  return manifest_in(e, e->opts.checkpoint_dir, it);
}

void gasp__ck_prune(gasp_engine *e, uint64_t it) {
  keep_two(e, e->opts.checkpoint_dir, it);
}

void gasp__ssp_cut_free(gasp__ssp_cut **pc) {
  gasp__ssp_cut *c = *pc;
  if (!c) return;
  for (size_t i = 0; i < c->nmsgs; i++)
    free(c->msgs[i].data);
  free(c->msgs);
  free(c->applied);
  free(c->upto);
  free(c);
  *pc = NULL;
}

int gasp__checkpoint_is_due(gasp_engine *e, uint64_t count, int *due) {
  const gasp_engine_opts *o = &e->opts;
  *due = 0;
  if (!o->checkpoint_dir || (!o->checkpoint_every && !o->checkpoint_seconds))
    return GASP_OK;
  double now = gasp__now();
  if (e->ck_last == 0) e->ck_last = now, e->ck_last_iter = count - 1;
  double d =
      (o->checkpoint_every && count - e->ck_last_iter >= o->checkpoint_every) ||
      (o->checkpoint_seconds > 0 && now - e->ck_last >= o->checkpoint_seconds &&
       count > e->ck_last_iter);
  if (o->checkpoint_seconds > 0 && o->dist && o->dist->size > 1) {
    double v[1] = {o->dist->rank == 0 ? d : 0};
    int rc = gasp_engine_allreduce(e, v, 1, GASP_REDUCE_MAX);
    if (rc) return rc;
    d = v[0];
  }
  *due = d > 0;
  return GASP_OK;
}

int gasp__checkpoint_due(gasp_engine *e, uint64_t count, uint64_t name) {
  int due;
  int rc = gasp__checkpoint_is_due(e, count, &due);
  return rc || !due ? rc : gasp__checkpoint_counted(e, count, name);
}

int gasp__checkpoint_counted(gasp_engine *e, uint64_t count, uint64_t name) {
  const gasp_engine_opts *o = &e->opts;
  double now = gasp__now();
  uint64_t it = e->iteration;
  e->iteration = name;
  int rc = gasp__checkpoint_write(e, o->checkpoint_dir);
  e->iteration = it;
  if (rc) return rc;
  if (e->ck_stats) {
    e->ck_stats->checkpoints++;
    e->ck_stats->checkpoint_bytes += e->ck_bytes;
    e->ck_stats->checkpoint_seconds += gasp__now() - now;
  }
  e->ck_last = gasp__now();
  e->ck_last_iter = count;
  return GASP_OK;
}

int gasp_engine_checkpoint(gasp_engine *e, const char *dir) {
  if (!e || !dir || !*dir) return GASP_EINVAL;
  gasp__error_clear(&e->err);
  int rc = gasp__checkpoint_write(e, dir);
  return gasp__error_default(&e->err, rc, dir);
}

int gasp_engine_set_checkpoint_key(gasp_engine *e, const char *key) {
  if (!e) return GASP_EINVAL;
  char *k = key ? gasp__strdup(key) : NULL;
  if (key && !k) return GASP_ENOMEM;
  free(e->ck_key);
  e->ck_key = k;
  e->ck_key_hash = key ? hash_bytes(0x6b6579, key, strlen(key)) : 0;
  return GASP_OK;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct ck_reader {
  const char *path;
  const char *buf;
  size_t n, at;
} ck_reader;

static const void *take(ck_reader *r, size_t n) {
  if (r->n - r->at < n) return NULL;
  const void *p = r->buf + r->at;
  r->at += n;
  return p;
}

/* Reads the whole file; GASP_OK, GASP_ENOENT or GASP_EIO. */
static int slurp(const char *path, char **buf, size_t *n, gasp_error *err) {
  *buf = NULL;
  *n = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? GASP_ENOENT
                           : gasp__fail(err, GASP_EIO, path, 0,
                                        "cannot open: %s", strerror(errno));
  struct stat sb;
  int rc = GASP_OK;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return gasp__fail(err, GASP_EIO, path, 0, "not a regular file");
  }
  size_t size = (size_t)sb.st_size;
  char *b = gasp__malloc(size ? size : 1);
  if (!b) {
    close(fd);
    return gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
  }
  size_t got = 0;
  while (got < size) {
    ssize_t k = read(fd, b + got, size - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      rc = gasp__fail(err, GASP_EIO, path, 0, "read failed: %s",
                      k < 0 ? strerror(errno) : "the file shrank");
      break;
    }
    got += (size_t)k;
  }
  close(fd);
  if (rc) {
    free(b);
    return rc;
  }
  *buf = b;
  *n = size;
  return GASP_OK;
}

/* The run key in the MANIFEST beside a rank file (for messages), or
 * "?" when it cannot be read. */
static void manifest_key(const char *rank_path, char *out, size_t cap) {
  snprintf(out, cap, "?");
  const char *slash = strrchr(rank_path, '/');
  size_t dl = slash ? (size_t)(slash - rank_path) : 0;
  char *m = gasp__malloc(dl + 16);
  if (!m) return;
  snprintf(m, dl + 16, "%.*s%sMANIFEST", (int)dl, rank_path, slash ? "/" : "");
  FILE *f = fopen(m, "r");
  free(m);
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "key\t", 4)) {
      line[strcspn(line, "\n")] = 0;
      snprintf(out, cap, "%.200s", line + 4);
      break;
    }
  fclose(f);
}

/* Checks the header against this engine: GASP_OK, or GASP_EINVAL (a
 * mismatch: the message says what differs) or GASP_EFORMAT (damaged). */
static int check_header(gasp_engine *e, const char *path, const ck_header *h,
                        gasp_error *err) {
  const gasp_graph *g = e->g;
  if (memcmp(h->magic, CK_MAGIC, 8))
    return gasp__fail(err, GASP_EFORMAT, path, 0, "not a gasp checkpoint");
  if (h->version != CK_VERSION)
    return gasp__fail(err, GASP_EFORMAT, path, 0,
                      "checkpoint version %u; this library reads %u",
                      h->version, CK_VERSION);
  if (h->nranks != (uint32_t)ranks_of(e))
    return gasp__fail(err, GASP_EINVAL, path, 0,
                      "written by a run of %u ranks; this one has %d",
                      h->nranks, ranks_of(e));
  if (h->rank != (uint32_t)rank_of(e))
    return gasp__fail(err, GASP_EINVAL, path, 0,
                      "written by rank %u; this is rank %d", h->rank,
                      rank_of(e));
  if (h->key_hash != e->ck_key_hash) {
    char theirs[256];
    manifest_key(path, theirs, sizeof theirs);
    return gasp__fail(err, GASP_EINVAL, path, 0,
                      "written for another program or options: \"%s\"; "
                      "this run is \"%s\"",
                      theirs, e->ck_key ? e->ck_key : "");
  }
  if (h->vertex_size != e->prog.vertex_size ||
      h->edge_size != e->prog.edge_size || h->msg_size != e->prog.msg_size ||
      h->naggs != (uint32_t)e->naggs || h->nuser != (uint32_t)e->nck)
    return gasp__fail(
        err, GASP_EINVAL, path, 0,
        "written for another program (vertex %" PRIu64 " B, edge %" PRIu64
        " B, message %" PRIu64 " B, %u aggregators, %u state sections; this "
        "one: %zu, %zu, %zu, %d, %d)",
        h->vertex_size, h->edge_size, h->msg_size, h->naggs, h->nuser,
        e->prog.vertex_size, e->prog.edge_size, e->prog.msg_size, e->naggs,
        e->nck);
  if (h->nv != g->nv || h->ne != g->ne || h->nowned != g->nowned)
    return gasp__fail(err, GASP_EINVAL, path, 0,
                      "written for a graph (or part) of %" PRIu64
                      " vertices (%" PRIu64 " owned) and %" PRIu64
                      " edges; this one has %u (%u) and %" PRIu64,
                      h->nv, h->nowned, h->ne, g->nv, g->nowned, g->ne);
  if (h->graph_hash != e->ck_graph_hash)
    return gasp__fail(err, GASP_EINVAL, path, 0,
                      "written for another graph or partition of the same "
                      "size (the fingerprints differ)");
  return GASP_OK;
}

static int bad(gasp_error *err, const char *path, const char *what) {
  return gasp__fail(err, GASP_EFORMAT, path, 0, "damaged checkpoint: %s",
                    what);
}

/* A section of the expected tag and size; its bytes, or NULL (err set). */
static const void *section(ck_reader *r, uint32_t tag, uint64_t size,
                           const char *name, gasp_error *err) {
  const void *sp = take(r, sizeof(ck_sec));
  ck_sec sec; /* copied: a section after a name is not aligned */
  if (sp) memcpy(&sec, sp, sizeof sec);
  if (!sp || sec.tag != tag || sec.size != size) {
    bad(err, r->path, "a section is missing or of the wrong size");
    return NULL;
  }
  const char *nm = take(r, sec.name_len);
  size_t want = name ? strlen(name) : 0;
  if (!nm || sec.name_len != want || (want && memcmp(nm, name, want))) {
    if (nm && name)
      gasp__fail(err, GASP_EINVAL, r->path, 0,
                 "written with state section \"%.*s\" where this run has "
                 "\"%s\"",
                 (int)sec.name_len, nm, name);
    else
      bad(err, r->path, "a section has the wrong name");
    return NULL;
  }
  const void *p = take(r, (size_t)size);
  if (!p) bad(err, r->path, "truncated");
  return p;
}

/* A bounded-staleness cut (SEC_SSP, then the payloads in flight), when
 * the file has one; *out NULL otherwise.  Checks that the payloads are,
 * per peer, exactly those of supersteps applied[p] .. upto[p] - 1. */
static int read_cut(gasp_engine *e, ck_reader *r, gasp__ssp_cut **out,
                    gasp_error *err) {
  *out = NULL;
  ck_sec sec;
  if (r->n - r->at < sizeof sec) return GASP_OK;
  memcpy(&sec, r->buf + r->at, sizeof sec);
  if (sec.tag != SEC_SSP) return GASP_OK;
  int P = ranks_of(e), me = rank_of(e);
  uint64_t size = (2 + 2 * (uint64_t)P) * sizeof(uint64_t);
  const uint64_t *hp = section(r, SEC_SSP, size, NULL, err);
  if (!hp) return GASP_EFORMAT;
  uint64_t *hdr = gasp__malloc((size_t)size);
  gasp__ssp_cut *c = gasp__calloc(1, sizeof *c);
  if (c) {
    c->applied = gasp__malloc((size_t)P * sizeof *c->applied);
    c->upto = gasp__malloc((size_t)P * sizeof *c->upto);
  }
  uint64_t *want = gasp__malloc((size_t)P * sizeof *want);
  int rc = GASP_OK;
  if (!hdr || !c || !c->applied || !c->upto || !want) {
    rc = gasp__fail(err, GASP_ENOMEM, r->path, 0, "out of memory");
    goto done;
  }
  memcpy(hdr, hp, (size_t)size);
  c->t_next = hdr[0];
  c->nranks = P;
  if (hdr[1] != (uint64_t)P) {
    rc = bad(err, r->path, "a cut for another rank count");
    goto done;
  }
  for (int p = 0; p < P; p++) {
    c->applied[p] = want[p] = hdr[2 + p];
    c->upto[p] = hdr[2 + P + p];
    if (c->applied[p] > c->upto[p] || c->upto[p] > c->t_next ||
        (p == me && c->upto[p])) {
      rc = bad(err, r->path, "the cut's counts");
      goto done;
    }
  }
  size_t cap = 0;
  while (r->n - r->at >= sizeof sec) {
    memcpy(&sec, r->buf + r->at, sizeof sec);
    if (sec.tag != SEC_SSPMSG) break;
    r->at += sizeof sec;
    const char *nm = take(r, sec.name_len);
    const uint8_t *data = nm ? take(r, (size_t)sec.size) : NULL;
    char name[16];
    int peer = -1;
    if (data && sec.name_len > 0 && sec.name_len < sizeof name) {
      memcpy(name, nm, sec.name_len);
      name[sec.name_len] = 0;
      char *end;
      long v = strtol(name, &end, 10);
      if (!*end && v >= 0 && v < P && v != me) peer = (int)v;
    }
    uint64_t step = 0;
    if (peer >= 0 && sec.size >= GASP__SSP_HEAD) memcpy(&step, data + 1, 8);
    if (peer < 0 || sec.size < GASP__SSP_HEAD || data[0] != GASP__SSP_STEP ||
        step != want[peer] || step >= c->upto[peer]) {
      rc = bad(err, r->path, "a payload in flight");
      goto done;
    }
    want[peer]++;
    if (c->nmsgs == cap) {
      size_t nc = cap ? 2 * cap : 16;
      gasp__ssp_msg *q = gasp__realloc(c->msgs, nc * sizeof *q);
      if (!q) {
        rc = gasp__fail(err, GASP_ENOMEM, r->path, 0, "out of memory");
        goto done;
      }
      c->msgs = q;
      cap = nc;
    }
    gasp__ssp_msg *m = &c->msgs[c->nmsgs];
    m->peer = peer;
    m->n = (size_t)sec.size;
    if (!(m->data = gasp__malloc(m->n))) {
      rc = gasp__fail(err, GASP_ENOMEM, r->path, 0, "out of memory");
      goto done;
    }
    memcpy(m->data, data, m->n);
    c->nmsgs++;
  }
  for (int p = 0; p < P && !rc; p++)
    if (want[p] != c->upto[p])
      rc = bad(err, r->path, "payloads in flight are missing");
done:
  free(hdr);
  free(want);
  if (rc)
    gasp__ssp_cut_free(&c);
  else
    *out = c;
  return rc;
}

/* Validates the whole file (checksum and layout) without changing the
 * engine; with `apply`, restores it.  GASP_OK, GASP_ENOENT (no file),
 * GASP_EINVAL (a mismatch) or GASP_EFORMAT (damaged). */
static int load_file(gasp_engine *e, const char *path, int apply,
                     gasp_error *err) {
  char *buf;
  size_t n;
  int rc = slurp(path, &buf, &n, err);
  if (rc) return rc;
  ck_reader r = {path, buf, n, 0};
  const ck_header *h = take(&r, sizeof *h);
  if (!h) {
    rc = bad(err, path, "truncated header");
    goto out;
  }
  uint64_t tail[2];
  if (n < sizeof *h + sizeof tail) {
    rc = bad(err, path, "truncated");
    goto out;
  }
  memcpy(tail, buf + n - sizeof tail, sizeof tail);
  if ((rc = check_header(e, path, h, err))) goto out;
  if (tail[1] != CK_END) {
    rc = bad(err, path, "truncated (no end mark)");
    goto out;
  }
  if (hash_bytes(0x434b5054, buf, n - sizeof tail) != tail[0]) {
    rc = bad(err, path, "checksum mismatch");
    goto out;
  }
  r.n = n - sizeof tail;
  const gasp_graph *g = e->g;
  size_t vs = e->prog.vertex_size, es = e->prog.edge_size,
         ms = e->prog.msg_size;
  const void *vd = section(&r, SEC_VDATA, (uint64_t)g->nv * vs, NULL, err);
  const void *ed = vd ? section(&r, SEC_EDATA, g->ne * es, NULL, err) : NULL;
  const void *ac = ed ? section(&r, SEC_ACTIVE, g->nv, NULL, err) : NULL;
  const void *pr = NULL, *mg = NULL, *mf = NULL;
  int ok = ac != NULL;
  if (ok && e->prio)
    ok = (pr = section(&r, SEC_PRIO, g->nv * sizeof *e->prio, NULL, err)) !=
         NULL;
  if (ok && ms)
    ok = (mg = section(&r, SEC_MSG, (uint64_t)g->nv * ms, NULL, err)) &&
         (mf = section(&r, SEC_MFLAG, g->nv, NULL, err));
  const void **agg = NULL, **user = NULL;
  gasp__ssp_cut *cut = NULL;
  if (ok && (e->naggs || e->nck)) {
    agg = gasp__calloc((size_t)e->naggs + 1, sizeof *agg);
    user = gasp__calloc((size_t)e->nck + 1, sizeof *user);
    if (!agg || !user) {
      rc = gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
      goto out2;
    }
  }
  for (int i = 0; ok && i < e->naggs; i++)
    ok = (agg[i] = section(&r, SEC_AGG, e->aggs[i].a.size, NULL, err)) !=
         NULL;
  for (int i = 0; ok && i < e->nck; i++)
    ok = (user[i] = section(&r, SEC_USER, e->ck[i].size, e->ck[i].name,
                            err)) != NULL;
  const void *fb = NULL;
  uint64_t fbn = e->opts.dist ? 0 : fbits_bytes(g);
  if (ok && h->reserved[2] && !e->prog.push_pull) {
    bad(err, path, "a pull state for a program without push_pull");
    ok = 0;
  }
  if (ok && h->reserved[2])
    ok = (fb = section(&r, SEC_PULL, fbn, NULL, err)) != NULL || fbn == 0;
  if (ok) ok = read_cut(e, &r, &cut, err) == GASP_OK;
  if (ok && r.at != r.n) {
    bad(err, path, "unexpected bytes after the last section");
    ok = 0;
  }
  if (!ok) {
    rc = err && err->code ? err->code : GASP_EFORMAT;
    goto out2;
  }
  uint64_t *fbits_copy = NULL; /* allocated before anything is restored */
  if (apply && h->reserved[2] && fbn && !(fbits_copy = gasp__malloc(fbn))) {
    rc = gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
    goto out2;
  }
  if (apply) {
    if (vs) memcpy(g->vdata, vd, (size_t)g->nv * vs);
    if (es) memcpy(g->edata, ed, (size_t)g->ne * es);
    memcpy(e->active, ac, g->nv);
    uint64_t na = 0;
    for (gasp_vid v = 0; v < g->nv; v++)
      na += e->active[v] != 0;
    e->nsignalled = na;
    if (pr) memcpy(e->prio, pr, g->nv * sizeof *e->prio);
    if (ms) {
      e->mcur = (int)(h->mcur & 1);
      memcpy(e->msg[e->mcur], mg, (size_t)g->nv * ms);
      memcpy(e->mflag[e->mcur], mf, g->nv);
      memset(e->mflag[1 - e->mcur], 0, g->nv);
      e->mout = 1 - e->mcur;
    }
    for (int i = 0; i < e->naggs; i++)
      memcpy(e->aggs[i].value, agg[i], e->aggs[i].a.size);
    for (int i = 0; i < e->nck; i++)
      if (e->ck[i].size) memcpy(e->ck[i].data, user[i], e->ck[i].size);
    free(e->resume_fbits);
    e->resume_fbits = NULL;
    e->resume_pull = h->reserved[2] != 0;
    e->src_float = h->reserved[3] != 0 && e->prog.gather_source;
    if (fbits_copy) {
      memcpy(fbits_copy, fb, fbn);
      e->resume_fbits = fbits_copy;
    }
    gasp__ssp_cut_free(&e->resume_ssp);
    e->resume_ssp = cut;
    cut = NULL;
    e->iteration = h->iteration;
    e->updates = h->updates;
    e->run_iter0 = h->reserved[0] <= h->iteration ? h->reserved[0] : 0;
    e->run_upd0 = h->reserved[1] <= h->updates ? h->reserved[1] : 0;
  }
out2:
  gasp__ssp_cut_free(&cut);
  free(agg);
  free(user);
out:
  free(buf);
  return rc;
}

/* Whether generation `it` is complete here: its manifest (rank 0) and
 * this rank's file check.  GASP_OK, or why not (err set). */
static int usable(gasp_engine *e, const char *dir, uint64_t it, int apply,
                  gasp_error *err) {
  char *sd = step_dir(dir, it);
  char *f = sd ? rank_file(sd, rank_of(e)) : NULL;
  char *m = sd ? path_join(sd, "MANIFEST") : NULL;
  int rc = !f || !m ? gasp__fail(err, GASP_ENOMEM, dir, 0, "out of memory")
                     : GASP_OK;
  if (!rc && rank_of(e) == 0 && access(m, F_OK) != 0)
    rc = gasp__fail(err, GASP_EFORMAT, m, 0,
                    "incomplete checkpoint (no manifest)");
  if (!rc) {
    rc = load_file(e, f, apply, err);
    if (rc == GASP_ENOENT)
      rc = gasp__fail(err, GASP_EFORMAT, f, 0,
                      "incomplete checkpoint (no file for this rank)");
  }
  free(sd);
  free(f);
  free(m);
  return rc;
}

int gasp_engine_resume(gasp_engine *e, const char *dir, uint64_t *iteration) {
  if (!e || !dir || !*dir) return GASP_EINVAL;
  gasp__error_clear(&e->err);
  ensure_hashes(e);
  uint64_t *st = NULL;
  size_t n = 0;
  int rc = list_steps(dir, &st, &n);
  if (rc == GASP_ENOMEM)
    return gasp__fail(&e->err, rc, dir, 0, "out of memory");
  if (rc)
    return gasp__fail(&e->err, rc, dir, 0, "cannot read the directory: %s",
                      strerror(errno));
  int many = e->opts.dist && e->opts.dist->size > 1;
  /* Candidates newest first; a mismatch ends the search (an older
   * generation of the same directory is of the same run), damage passes
   * over to the one before.  The ranks settle on one generation.  Out of
   * memory on any rank ends it on every rank. */
  gasp_error first = {0};
  int mismatch = 0;
  double bound = 1e300;
  for (;;) {
    double mine = -1;
    for (size_t i = n; i-- > 0 && !mismatch;) {
      if ((double)st[i] >= bound) continue;
      gasp_error why;
      gasp__error_clear(&why);
      int u = usable(e, dir, st[i], 0, &why);
      if (!u) {
        mine = (double)st[i];
        break;
      }
      if (!first.code) first = why;
      if (u == GASP_EINVAL || u == GASP_ENOMEM) mismatch = u;
    }
    double pick = mine;
    if (many && (rc = gasp_engine_allreduce(e, &pick, 1, GASP_REDUCE_MIN)))
      break;
    if (pick < 0) {
      if (first.code)
        e->err = first, rc = first.code == GASP_ENOMEM ? GASP_ENOMEM
                                 : mismatch           ? GASP_EINVAL
                                                      : GASP_EFORMAT;
      else
        rc = gasp__fail(&e->err, GASP_ENOENT, dir, 0,
                        "no complete checkpoint to resume from");
      break;
    }
    /* the oldest proposal: every rank has it unless it proposed older */
    gasp_error why;
    gasp__error_clear(&why);
    int u = pick == mine ? usable(e, dir, (uint64_t)pick, 1, &why)
                         : usable(e, dir, (uint64_t)pick, 0, &why);
    if (!u && pick != mine) u = usable(e, dir, (uint64_t)pick, 1, &why);
    double ok = u == GASP_ENOMEM ? -1 : u ? 0 : 1;
    if (many && (rc = gasp_engine_allreduce(e, &ok, 1, GASP_REDUCE_MIN)))
      break;
    if (ok > 0) {
      if (iteration) *iteration = (uint64_t)pick;
      rc = GASP_OK;
      break;
    }
    if (ok < 0) { /* out of memory here or on another rank */
      if (u == GASP_ENOMEM)
        e->err = why, rc = GASP_ENOMEM;
      else
        rc = gasp__fail(&e->err, GASP_ENOMEM, dir, 0,
                        "another rank ran out of memory resuming");
      break;
    }
    if (!first.code && u) first = why;
    bound = pick; /* someone cannot: below it */
  }
  free(st);
  return gasp__error_default(&e->err, rc, dir);
}
