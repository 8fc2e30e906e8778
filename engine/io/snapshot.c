/*
 * snapshot.c -- the gasp binary snapshot: a graph saved as its arrays, so
 * it reloads at disk/memory speed with no parsing.
 *
 * Layout (little-endian, as in memory on x86-64 and arm64):
 *   header, 128 bytes: magic "GASPSNAP", u32 version, u32 header size,
 *     u32 flags (1 weighted, 2 bipartite, 4 names, 8 reordered), u32
 *     byte-order mark
 *     0x01020304, u64 nv, nowned, nleft, ne, names_bytes, u64 checksum,
 *     zero padding;
 *   sections, each starting at a multiple of 64 bytes (zero padding
 *     between): gid[nv] u64, out_off[nv+1] u64, out_nbr[ne] u32,
 *     in_off[nv+1] u64, in_nbr[ne] u32, in_slot[ne] u32, then weight[ne]
 *     f64 if weighted, name_off[nv+1] u64 and names if named, by_gid[nv]
 *     u32 if reordered (gasp_graph_reorder: the vertices by ascending id,
 *     whose ids then need not ascend with the index).
 * Loading maps the file (MAP_PRIVATE) and points the graph's arrays into
 * the mapping, so nothing is copied and the page cache is shared between
 * runs; the checksum pass touches every page once.
 * Checksum: every section is cut into 32 MiB pieces, each piece hashed on
 * its own (64-bit hash seeded by its ordinal), and the checksum is the hash
 * of the header (checksum field zero) followed by the piece hashes; pieces
 * are read and verified in parallel.  After the checksum the structure is
 * still validated (offsets monotone, ids in range), so a crafted file
 * cannot make later code index out of bounds.
 */
#include "graph_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "GASPSNAP"
#define HEADER_SIZE 128
#define PIECE ((uint64_t)32 << 20)
#define BOM 0x01020304u
#define ALIGN 64

static uint64_t align_up(uint64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

enum { F_WEIGHTED = 1, F_BIPARTITE = 2, F_NAMES = 4, F_REORDERED = 8 };

typedef struct snap_header {
  char magic[8];
  uint32_t version, header_size, flags, bom;
  uint64_t nv, nowned, nleft, ne, names_bytes, checksum;
  unsigned char pad[HEADER_SIZE - 8 - 16 - 48];
} snap_header;

_Static_assert(sizeof(snap_header) == HEADER_SIZE, "snapshot header size");

typedef struct section {
  void *data;
  uint64_t bytes;
} section;

/* The sections of graph g (pointers into it); the names section has
 * names_bytes bytes (taken from the header when loading, never from the
 * file's own offsets). */
static int sections_of(gasp_graph *g, uint64_t names_bytes, section *s) {
  uint64_t nv = g->nv, ne = g->ne;
  int n = 0;
  s[n++] = (section){g->gid, nv * 8};
  s[n++] = (section){g->out_off, (nv + 1) * 8};
  s[n++] = (section){g->out_nbr, ne * 4};
  s[n++] = (section){g->in_off, (nv + 1) * 8};
  s[n++] = (section){g->in_nbr, ne * 4};
  s[n++] = (section){g->in_slot, ne * 4};
  if (g->weight) s[n++] = (section){g->weight, ne * 8};
  if (g->name_off) {
    s[n++] = (section){g->name_off, (nv + 1) * 8};
    s[n++] = (section){g->names, names_bytes};
  }
  if (g->by_gid) s[n++] = (section){g->by_gid, nv * 4};
  return n;
}

static uint64_t count_pieces(const section *s, int n) {
  uint64_t k = 0;
  for (int i = 0; i < n; i++)
    k += (s[i].bytes + PIECE - 1) / PIECE;
  return k;
}

static uint64_t hash_piece(const void *p, uint64_t len, uint64_t ordinal) {
  gasp__hash h;
  gasp__hash_init(&h, ordinal);
  gasp__hash_update(&h, p, len);
  return gasp__hash_final(&h);
}

static uint64_t combine(const snap_header *hd, const uint64_t *ph, uint64_t n) {
  snap_header tmp = *hd;
  tmp.checksum = 0;
  gasp__hash h;
  gasp__hash_init(&h, 0x6761737021ull);
  gasp__hash_update(&h, &tmp, sizeof tmp);
  gasp__hash_update(&h, ph, n * sizeof *ph);
  return gasp__hash_final(&h);
}

/* Calls fn(section index, offset within section, length, piece ordinal)
 * for every piece, in parallel. */
typedef struct piece_ref {
  int sec;
  uint64_t off, len, file_off;
} piece_ref;

static piece_ref *list_pieces(const section *s, int n, uint64_t *count) {
  uint64_t k = count_pieces(s, n);
  piece_ref *p = gasp__calloc_array(k, sizeof *p);
  if (!p) return NULL;
  uint64_t j = 0, fo = HEADER_SIZE;
  for (int i = 0; i < n; i++) {
    fo = align_up(fo);
    for (uint64_t o = 0; o < s[i].bytes; o += PIECE) {
      uint64_t len = s[i].bytes - o < PIECE ? s[i].bytes - o : PIECE;
      p[j++] = (piece_ref){i, o, len, fo};
      fo += len;
    }
  }
  *count = k;
  return p;
}

/* ---------------------------------------------------------------- */
/* Save                                                              */
/* ---------------------------------------------------------------- */

int gasp_graph_save_snapshot(const gasp_graph *cg, const char *path,
                             gasp_error *err) {
  gasp__error_clear(err);
  gasp_graph *g = (gasp_graph *)cg; /* sections_of only reads through it */
  section s[10];
  int ns = sections_of(g, g->name_off ? g->name_off[g->nv] : 0, s);
  uint64_t np = 0;
  piece_ref *pr = list_pieces(s, ns, &np);
  uint64_t *ph = pr ? gasp__calloc_array(np, sizeof *ph) : NULL;
  if (!pr || !ph) {
    free(pr);
    free(ph);
    return gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
  }
  int64_t npi = (int64_t)np;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < npi; i++)
    ph[i] = hash_piece((const char *)s[pr[i].sec].data + pr[i].off, pr[i].len,
                       (uint64_t)i);
  snap_header hd;
  memset(&hd, 0, sizeof hd);
  memcpy(hd.magic, MAGIC, 8);
  hd.version = GASP_SNAPSHOT_VERSION;
  hd.header_size = HEADER_SIZE;
  hd.flags = (g->weight ? F_WEIGHTED : 0) | (g->bipartite ? F_BIPARTITE : 0) |
             (g->name_off ? F_NAMES : 0) | (g->by_gid ? F_REORDERED : 0);
  hd.bom = BOM;
  hd.nv = g->nv;
  hd.nowned = g->nowned;
  hd.nleft = g->nleft;
  hd.ne = g->ne;
  hd.names_bytes = g->name_off ? g->name_off[g->nv] : 0;
  hd.checksum = combine(&hd, ph, np);
  free(ph);
  free(pr);

  gasp__outfile f;
  int rc = gasp__outfile_open(&f, path, err);
  if (rc) return rc;
  rc = gasp__outfile_write(&f, &hd, sizeof hd, err);
  static const char zeros[ALIGN];
  uint64_t pos = sizeof hd;
  for (int i = 0; rc == GASP_OK && i < ns; i++) {
    uint64_t pad = align_up(pos) - pos;
    if (pad) rc = gasp__outfile_write(&f, zeros, pad, err);
    if (rc == GASP_OK) rc = gasp__outfile_write(&f, s[i].data, s[i].bytes, err);
    pos += pad + s[i].bytes;
  }
  if (rc) {
    gasp__outfile_abort(&f);
    return rc;
  }
  return gasp__outfile_commit(&f, err);
}

/* ---------------------------------------------------------------- */
/* Load                                                              */
/* ---------------------------------------------------------------- */

static int check_offsets(const uint64_t *off, uint64_t nv, uint64_t ne) {
  if (off[0] != 0 || off[nv] != ne) return -1;
  for (uint64_t v = 0; v < nv; v++)
    if (off[v] > off[v + 1]) return -1;
  return 0;
}

/* Structural validation: everything later code indexes with. */
static int validate(const gasp_graph *g, uint64_t names_bytes, int T) {
  uint64_t nv = g->nv, ne = g->ne;
  if (check_offsets(g->out_off, nv, ne) || check_offsets(g->in_off, nv, ne))
    return -1;
  int bad = 0;
  int64_t nei = (int64_t)ne;
#pragma omp parallel for num_threads(T) schedule(static) reduction(| : bad)
  for (int64_t j = 0; j < nei; j++)
    bad |= (g->out_nbr[j] >= nv) | (g->in_nbr[j] >= nv) | (g->in_slot[j] >= ne);
  if (bad) return -1;
  if (g->by_gid) { /* ids strictly ascend along it: a permutation */
    for (uint64_t i = 0; i < nv; i++)
      if (g->by_gid[i] >= nv ||
          (i && g->gid[g->by_gid[i]] <= g->gid[g->by_gid[i - 1]]))
        return -1;
  } else {
    for (uint64_t v = 1; v < nv; v++)
      if (v != g->nleft && g->gid[v] <= g->gid[v - 1]) return -1;
  }
  if (g->name_off) {
    if (g->name_off[nv] != names_bytes) return -1;
    if (check_offsets(g->name_off, nv, names_bytes)) return -1;
    if (g->name_off[nv] && g->names[g->name_off[nv] - 1] != '\0') return -1;
  }
  return 0;
}

static int read_header(int fd, const char *path, snap_header *hd,
                       uint64_t fsize, gasp_error *err) {
  ssize_t r = pread(fd, hd, sizeof *hd, 0);
  if (r < 8 || memcmp(hd->magic, MAGIC, 8) != 0)
    return gasp__fail(err, GASP_EFORMAT, path, 0, "not a gasp snapshot");
  if (r != (ssize_t)sizeof *hd)
    return gasp__fail(err, GASP_EFORMAT, path, 0, "truncated snapshot header");
  if (hd->bom != BOM)
    return gasp__fail(err, GASP_EFORMAT, path, 0,
                      "snapshot was written with another byte order");
  if (hd->version != GASP_SNAPSHOT_VERSION)
    return gasp__fail(err, GASP_EFORMAT, path, 0,
                      "snapshot version %u is not supported (this build "
                      "reads version %d)",
                      hd->version, GASP_SNAPSHOT_VERSION);
  if (hd->header_size != HEADER_SIZE || hd->nv > GASP_MAX_VERTICES ||
      hd->ne > GASP_MAX_EDGES || hd->nowned > hd->nv || hd->nleft > hd->nv ||
      (hd->flags & ~15u) || hd->names_bytes > fsize ||
      ((hd->flags & F_REORDERED) &&
       ((hd->flags & F_BIPARTITE) || hd->nowned != hd->nv)))
    return gasp__fail(err, GASP_EFORMAT, path, 0, "corrupt snapshot header");
  uint64_t sz[10], n = 0, end = HEADER_SIZE;
  sz[n++] = hd->nv * 8;
  sz[n++] = (hd->nv + 1) * 8;
  sz[n++] = hd->ne * 4;
  sz[n++] = (hd->nv + 1) * 8;
  sz[n++] = hd->ne * 4;
  sz[n++] = hd->ne * 4;
  if (hd->flags & F_WEIGHTED) sz[n++] = hd->ne * 8;
  if (hd->flags & F_NAMES) {
    sz[n++] = (hd->nv + 1) * 8;
    sz[n++] = hd->names_bytes;
  }
  if (hd->flags & F_REORDERED) sz[n++] = hd->nv * 4;
  for (uint64_t i = 0; i < n; i++)
    end = align_up(end) + sz[i];
  uint64_t body = end - HEADER_SIZE;
  if (fsize != end)
    return gasp__fail(err, GASP_EFORMAT, path, 0,
                      "snapshot size is %llu bytes, its header implies %llu "
                      "(truncated or corrupt)",
                      (unsigned long long)fsize,
                      (unsigned long long)(HEADER_SIZE + body));
  return GASP_OK;
}

/* Points the graph's arrays into the mapped file. */
static void map_sections(gasp_graph *g, const snap_header *hd, char *base) {
  uint64_t nv = hd->nv, ne = hd->ne, pos = HEADER_SIZE;
#define TAKE(field, bytes)                                                     \
  do {                                                                         \
    pos = align_up(pos);                                                       \
    g->field = (void *)(base + pos);                                           \
    pos += (bytes);                                                            \
  } while (0)
  TAKE(gid, nv * 8);
  TAKE(out_off, (nv + 1) * 8);
  TAKE(out_nbr, ne * 4);
  TAKE(in_off, (nv + 1) * 8);
  TAKE(in_nbr, ne * 4);
  TAKE(in_slot, ne * 4);
  if (hd->flags & F_WEIGHTED) TAKE(weight, ne * 8);
  if (hd->flags & F_NAMES) {
    TAKE(name_off, (nv + 1) * 8);
    TAKE(names, hd->names_bytes);
  }
  if (hd->flags & F_REORDERED) TAKE(by_gid, nv * 4);
#undef TAKE
}

int gasp__snapshot_load(gasp_graph **out, const char *path,
                        const gasp_load_opts *opts, gasp_error *err) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return gasp__fail(err, GASP_EIO, path, 0, "cannot open: %s",
                      strerror(errno));
  struct stat sb;
  snap_header hd;
  int rc;
  gasp_graph *g = NULL;
  piece_ref *pr = NULL;
  uint64_t *ph = NULL;
  double t0 = gasp__now();
  if (fstat(fd, &sb) != 0) {
    rc = gasp__fail(err, GASP_EIO, path, 0, "cannot stat: %s", strerror(errno));
    goto out;
  }
  if (S_ISDIR(sb.st_mode)) {
    rc = gasp__fail(err, GASP_EIO, path, 0, "is a directory");
    goto out;
  }
  if ((rc = read_header(fd, path, &hd, (uint64_t)sb.st_size, err))) goto out;
  if (!(g = gasp__graph_alloc())) goto nomem;
  g->map_len = (size_t)sb.st_size;
  void *m = mmap(NULL, g->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) {
    rc = gasp__fail(err, GASP_EIO, path, 0, "cannot map: %s", strerror(errno));
    goto out;
  }
  g->map = m;
  madvise(m, g->map_len, MADV_WILLNEED);
  map_sections(g, &hd, m);
  g->nv = (gasp_vid)hd.nv;
  g->nowned = (gasp_vid)hd.nowned;
  g->nleft = (gasp_vid)hd.nleft;
  g->ne = hd.ne;
  g->bipartite = (hd.flags & F_BIPARTITE) != 0;
  if (!g->bipartite) g->nleft = g->nv;
  section s[10];
  int ns = sections_of(g, hd.names_bytes, s);
  uint64_t np;
  if (!(pr = list_pieces(s, ns, &np))) goto nomem;
  if (!(ph = gasp__calloc_array(np, sizeof *ph))) goto nomem;
  int T = gasp__threads(opts ? opts->threads : 0);
  int64_t npi = (int64_t)np;
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
  for (int64_t i = 0; i < npi; i++)
    ph[i] =
        hash_piece((const char *)m + pr[i].file_off, pr[i].len, (uint64_t)i);
  if (combine(&hd, ph, np) != hd.checksum) {
    rc = gasp__fail(err, GASP_ECHECKSUM, path, 0,
                    "checksum mismatch: the snapshot is corrupt");
    goto out;
  }
  if (validate(g, hd.names_bytes, T)) {
    rc = gasp__fail(err, GASP_EFORMAT, path, 0,
                    "snapshot structure is inconsistent (corrupt file)");
    goto out;
  }
  if (opts && opts->progress) {
    gasp_progress p = {"read", (uint64_t)sb.st_size, (uint64_t)sb.st_size,
                       g->ne, gasp__now() - t0};
    opts->progress(opts->progress_user, &p);
  }
  *out = g;
  g = NULL;
  rc = GASP_OK;
  goto out;
nomem:
  rc = gasp__fail(err, GASP_ENOMEM, path, 0, "out of memory");
out:
  free(pr);
  free(ph);
  gasp_graph_free(&g);
  close(fd);
  return rc;
}
