/*
 * part_file.c -- per-rank partition files, so that a big graph is
 * partitioned once and each rank then reads only its share.
 *
 * PREFIX.R.gpart holds rank R's local graph (owned vertices, then ghosts,
 * every edge with an owned end: CSR, CSC with slots, weights), the global
 * index of each local vertex, the owner map and the original id of every
 * vertex of the whole graph (rank 0 writes results in global order from
 * them), and the per-peer send and receive lists.  Layout: a 96-byte
 * header (magic "GASPPRT", version, byte-order mark, sizes, a 64-bit
 * checksum of the whole file with the checksum field zero), then the
 * arrays in that order, each padded to 8 bytes.  A file is read whole,
 * its checksum verified, and every index checked against the sizes before
 * anything is built from it: a damaged or foreign file is an error naming
 * it, never a crash.
 */
#include "dist_internal.h"
#include "graph_internal.h"

#include <stdio.h>
#include <string.h>

#define PART_MAGIC "GASPPRT"
#define PART_VERSION 1u

typedef struct part_header {
  char magic[8];
  uint32_t version, bom;
  uint64_t rank, parts, global_nv, global_ne, nv, nowned, ne, weighted;
  uint64_t checksum;
  uint64_t reserved;
} part_header;

/* ---- writing ---------------------------------------------------------- */

/* Emits the file twice: a first pass only hashes (the checksum covers
 * the header with its checksum field zero and everything after it), the
 * second writes, so the file is renamed into place complete and sealed. */
typedef struct writer {
  gasp__outfile f;
  gasp__hash h;
  int writing;
  gasp_error *err;
  int rc;
} writer;

static void put(writer *w, const void *p, size_t n) {
  static const uint8_t zero[8] = {0};
  if (w->rc) return;
  if (!w->writing) {
    if (n) gasp__hash_update(&w->h, p, n);
    if (n % 8) gasp__hash_update(&w->h, zero, 8 - n % 8);
    return;
  }
  if (n && (w->rc = gasp__outfile_write(&w->f, p, n, w->err))) return;
  if (n % 8) w->rc = gasp__outfile_write(&w->f, zero, 8 - n % 8, w->err);
}

static void emit(writer *w, const part_header *hd, const gasp_dist *d,
                 const gasp_gid *gids) {
  const gasp_graph *l = d->local;
  put(w, hd, sizeof *hd);
  put(w, l->gid, l->nv * sizeof *l->gid);
  put(w, d->global, l->nv * sizeof *d->global);
  put(w, l->out_off, (l->nv + 1) * sizeof *l->out_off);
  put(w, l->out_nbr, l->ne * sizeof *l->out_nbr);
  put(w, l->in_off, (l->nv + 1) * sizeof *l->in_off);
  put(w, l->in_nbr, l->ne * sizeof *l->in_nbr);
  put(w, l->in_slot, l->ne * sizeof *l->in_slot);
  if (l->weight) put(w, l->weight, l->ne * sizeof *l->weight);
  put(w, d->owner_of, d->global_nv * sizeof *d->owner_of);
  put(w, gids, d->global_nv * sizeof *gids);
  for (int p = 0; p < d->size; p++) {
    put(w, &d->nsend[p], sizeof d->nsend[p]);
    put(w, d->send[p], d->nsend[p] * sizeof **d->send);
    put(w, &d->nrecv[p], sizeof d->nrecv[p]);
    put(w, d->recv[p], d->nrecv[p] * sizeof **d->recv);
  }
}

static int write_part(const gasp_dist *d, const gasp_gid *gids,
                      const char *path, gasp_error *err) {
  const gasp_graph *l = d->local;
  part_header hd;
  memset(&hd, 0, sizeof hd);
  memcpy(hd.magic, PART_MAGIC, 8);
  hd.version = PART_VERSION;
  hd.bom = 0x01020304u;
  hd.rank = (uint64_t)d->rank;
  hd.parts = (uint64_t)d->size;
  hd.global_nv = d->global_nv;
  hd.global_ne = d->global_ne;
  hd.nv = l->nv;
  hd.nowned = l->nowned;
  hd.ne = l->ne;
  hd.weighted = l->weight != NULL;
  writer w = {.err = err};
  gasp__hash_init(&w.h, 0x6770617274ull);
  emit(&w, &hd, d, gids);
  hd.checksum = gasp__hash_final(&w.h);
  int rc = gasp__outfile_open(&w.f, path, err);
  if (rc) return rc;
  w.writing = 1;
  emit(&w, &hd, d, gids);
  if (w.rc) {
    gasp__outfile_abort(&w.f);
    return w.rc;
  }
  return gasp__outfile_commit(&w.f, err);
}

int gasp_dist_save_parts(const gasp_graph *g, const uint32_t *owner, int parts,
                         const char *prefix, gasp_error *err) {
  gasp__error_clear(err);
  if (!g || !owner || parts < 1 || !prefix)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "missing argument");
  if (g->bipartite)
    return gasp__fail(err, GASP_ENOTSUP, NULL, 0,
                      "partition files of bipartite graphs are not supported "
                      "yet (ratings and documents are partitioned per run)");
  size_t plen = strlen(prefix) + 32;
  char *path = gasp__malloc(plen);
  if (!path) return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  int rc = GASP_OK;
  for (int r = 0; r < parts && rc == GASP_OK; r++) {
    gasp_dist *d = NULL;
    if ((rc = gasp__dist_build(&d, g, owner, parts, r, err))) break;
    snprintf(path, plen, "%s.%d.gpart", prefix, r);
    rc = write_part(d, g->gid, path, err);
    gasp_dist_free(&d);
  }
  free(path);
  return rc;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct reader {
  const uint8_t *p;
  size_t left;
  int bad;
} reader;

/* Takes n bytes (then the padding to 8); NULL when the file is short. */
static const void *take(reader *r, uint64_t n) {
  uint64_t padded = (n + 7) & ~(uint64_t)7;
  if (r->bad || padded < n || padded > r->left) {
    if (!r->bad) r->bad = 1; /* out of memory (2) stays the reason */
    return NULL;
  }
  const void *q = r->p;
  r->p += padded;
  r->left -= padded;
  return q;
}

/* Copies an array of n elements of `size` bytes (0 elements: a 1-element
 * allocation, so callers never see NULL for success). */
static void *take_copy(reader *r, uint64_t n, size_t size) {
  if (n > ((uint64_t)1 << 40) / (size ? size : 1)) {
    if (!r->bad) r->bad = 1;
    return NULL;
  }
  const void *q = take(r, n * size);
  if (!q) return NULL;
  void *c = gasp__malloc(n ? (size_t)n * size : 1);
  if (!c) {
    r->bad = 2;
    return NULL;
  }
  if (n) memcpy(c, q, (size_t)n * size);
  return c;
}

static int offsets_ok(const uint64_t *off, uint64_t nv, uint64_t ne) {
  if (off[0] != 0 || off[nv] != ne) return 0;
  for (uint64_t v = 0; v < nv; v++)
    if (off[v] > off[v + 1]) return 0;
  return 1;
}

/* Everything the engine relies on, checked before use. */
static const char *validate(const part_header *hd, const gasp_dist *d,
                            const gasp_graph *l) {
  uint64_t nv = l->nv, ne = l->ne, no = l->nowned;
  if (!offsets_ok(l->out_off, nv, ne) || !offsets_ok(l->in_off, nv, ne))
    return "edge offsets out of order";
  for (uint64_t e = 0; e < ne; e++)
    if (l->out_nbr[e] >= nv || l->in_nbr[e] >= nv || l->in_slot[e] >= ne)
      return "an edge names a vertex or slot past the local graph";
  for (uint64_t v = 0; v < nv; v++) {
    gasp_vid gv = d->global[v];
    if (gv >= hd->global_nv) return "a global index past the graph";
    if ((d->owner_of[gv] == (uint32_t)hd->rank) != (v < no))
      return "owned vertices and the owner map disagree";
    if (v > 0 && v != no && d->global[v - 1] >= gv)
      return "local ids out of order";
    if (l->gid[v] != d->gids[gv]) return "local and global ids disagree";
  }
  for (uint64_t v = 0; v < hd->global_nv; v++) {
    if (d->owner_of[v] >= hd->parts)
      return "the owner map names a part past the count";
    if (v > 0 && d->gids[v - 1] >= d->gids[v]) return "global ids out of order";
  }
  for (int p = 0; p < d->size; p++) {
    for (uint64_t k = 0; k < d->nsend[p]; k++)
      if (d->send[p][k] >= no) return "a send list names a vertex not owned";
    for (uint64_t k = 0; k < d->nrecv[p]; k++)
      if (d->recv[p][k] < no || d->recv[p][k] >= nv ||
          d->owner_of[d->global[d->recv[p][k]]] != (uint32_t)p)
        return "a receive list names a vertex the peer does not own";
  }
  return NULL;
}

int gasp_dist_load(gasp_dist **out, gasp_cluster *c, const char *prefix,
                   gasp_error *err) {
  *out = NULL;
  gasp__error_clear(err);
  if (!c || !prefix)
    return gasp__fail(err, GASP_EINVAL, NULL, 0, "missing argument");
  int rank = gasp_cluster_rank(c), size = gasp_cluster_size(c);
  size_t plen = strlen(prefix) + 32;
  char *path = gasp__malloc(plen);
  if (!path) return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  snprintf(path, plen, "%s.%d.gpart", prefix, rank);
  uint8_t *buf = NULL;
  size_t len = 0;
  gasp_dist *d = NULL;
  gasp_graph *l = NULL;
  int rc = GASP_OK;
  FILE *f = fopen(path, "rb");
  if (!f) {
    rc = gasp__fail(err, GASP_EIO, path, 0, "cannot open the partition file");
    goto out;
  }
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n > 0) len = (size_t)n;
  }
  rewind(f);
  buf = gasp__malloc(len ? len : 1);
  if (!buf || (len && fread(buf, 1, len, f) != len)) {
    fclose(f);
    rc = gasp__fail(err, buf ? GASP_EIO : GASP_ENOMEM, path, 0, "cannot read");
    goto out;
  }
  fclose(f);
  part_header hd;
  if (len < sizeof hd) {
    rc = gasp__fail(err, GASP_EFORMAT, path, 0,
                    "not a gasp partition file (too short)");
    goto out;
  }
  memcpy(&hd, buf, sizeof hd);
  if (memcmp(hd.magic, PART_MAGIC, 8) || hd.version != PART_VERSION ||
      hd.bom != 0x01020304u) {
    rc = gasp__fail(
        err, GASP_EFORMAT, path, 0,
        "not a gasp partition file of version %u (or another byte order)",
        PART_VERSION);
    goto out;
  }
  part_header zeroed = hd;
  zeroed.checksum = 0;
  gasp__hash h;
  gasp__hash_init(&h, 0x6770617274ull);
  gasp__hash_update(&h, &zeroed, sizeof zeroed);
  gasp__hash_update(&h, buf + sizeof hd, len - sizeof hd);
  if (gasp__hash_final(&h) != hd.checksum) {
    rc = gasp__fail(err, GASP_ECHECKSUM, path, 0,
                    "checksum mismatch (damaged file)");
    goto out;
  }
  if (hd.rank != (uint64_t)rank || hd.parts != (uint64_t)size) {
    rc = gasp__fail(err, GASP_EINVAL, path, 0,
                    "part %llu of %llu, but this is rank %d of %d",
                    (unsigned long long)hd.rank, (unsigned long long)hd.parts,
                    rank, size);
    goto out;
  }
  if (hd.nowned > hd.nv || hd.nv > hd.global_nv ||
      hd.global_nv > GASP_VID_NONE || hd.ne > 0xffffffffull ||
      hd.weighted > 1) {
    rc = gasp__fail(err, GASP_EFORMAT, path, 0, "sizes out of range");
    goto out;
  }
  reader r = {buf + sizeof hd, len - sizeof hd, 0};
  d = gasp__calloc(1, sizeof *d);
  l = gasp__graph_alloc();
  if (!d || !l) {
    rc = gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
    goto out;
  }
  d->rank = rank;
  d->size = size;
  d->global_nv = hd.global_nv;
  d->global_nleft = hd.global_nv; /* partition files are not bipartite */
  d->global_ne = hd.global_ne;
  l->nv = (gasp_vid)hd.nv;
  l->nowned = (gasp_vid)hd.nowned;
  l->nleft = l->nv;
  l->ne = hd.ne;
  l->gid = take_copy(&r, hd.nv, sizeof *l->gid);
  d->global = take_copy(&r, hd.nv, sizeof *d->global);
  l->out_off = take_copy(&r, hd.nv + 1, sizeof *l->out_off);
  l->out_nbr = take_copy(&r, hd.ne, sizeof *l->out_nbr);
  l->in_off = take_copy(&r, hd.nv + 1, sizeof *l->in_off);
  l->in_nbr = take_copy(&r, hd.ne, sizeof *l->in_nbr);
  l->in_slot = take_copy(&r, hd.ne, sizeof *l->in_slot);
  if (hd.weighted) l->weight = take_copy(&r, hd.ne, sizeof *l->weight);
  d->owner_of = take_copy(&r, hd.global_nv, sizeof *d->owner_of);
  d->gids = take_copy(&r, hd.global_nv, sizeof *d->gids);
  d->send = gasp__calloc((size_t)size, sizeof *d->send);
  d->recv = gasp__calloc((size_t)size, sizeof *d->recv);
  d->nsend = gasp__calloc((size_t)size, sizeof *d->nsend);
  d->nrecv = gasp__calloc((size_t)size, sizeof *d->nrecv);
  if (!d->send || !d->recv || !d->nsend || !d->nrecv) r.bad = 2;
  for (int p = 0; p < size && !r.bad; p++) {
    const uint64_t *n = take(&r, sizeof *n);
    if (!n || *n > hd.nv) {
      if (!r.bad) r.bad = 1;
      break;
    }
    d->nsend[p] = *n;
    d->send[p] = take_copy(&r, *n, sizeof **d->send);
    n = take(&r, sizeof *n);
    if (!n || *n > hd.nv) {
      if (!r.bad) r.bad = 1;
      break;
    }
    d->nrecv[p] = *n;
    d->recv[p] = take_copy(&r, *n, sizeof **d->recv);
  }
  if (r.bad || r.left) {
    rc = gasp__fail(err, r.bad == 2 ? GASP_ENOMEM : GASP_EFORMAT, path, 0,
                    r.bad == 2 ? "out of memory"
                               : "truncated or inconsistent sections");
    goto out;
  }
  d->local = l;
  const char *why = validate(&hd, d, l);
  if (why) {
    d->local = NULL;
    rc = gasp__fail(err, GASP_EFORMAT, path, 0, "%s", why);
    goto out;
  }
  d->cluster = c;
  *out = d;
  d = NULL;
  l = NULL;
out:
  if (d) d->local = NULL;
  gasp_dist_free(&d);
  gasp_graph_free(&l);
  free(buf);
  free(path);
  return rc;
}

const gasp_gid *gasp_dist_global_gids(const gasp_dist *d) { return d->gids; }
