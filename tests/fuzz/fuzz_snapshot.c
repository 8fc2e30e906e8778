/*
 * fuzz_snapshot.c -- libFuzzer harness of the binary snapshot reader
 * (gasp_graph_load of a "GASPSNAP" file, engine/io/snapshot.c).
 *
 * A snapshot carries a checksum, so random changes stop at the checksum
 * test.  To reach the structural validation behind it, the harness can
 * repair the file first, as a writer that lies would have made it:
 *   byte 0, bit 0: set the size the header implies (padding with zeros
 *                  or cutting; headers implying over 4 MiB are left);
 *   byte 0, bit 1: recompute the checksum (layout in snapshot.c);
 * then the file itself.  A snapshot that loads must be consistent, and
 * must save and reload to the same sizes.
 */
#include "fuzz_util.h"
#include "internal.h"

#define HEADER 128
#define PIECE ((uint64_t)32 << 20)
#define SIZE_CAP ((uint64_t)4 << 20)

static uint64_t align64(uint64_t x) { return (x + 63) / 64 * 64; }

typedef struct snap_head {
  char magic[8];
  uint32_t version, header_size, flags, bom;
  uint64_t nv, nowned, nleft, ne, names_bytes, checksum;
} snap_head;

/* The sections' sizes in file order; returns their count, 0 when the
 * header is beyond repair (sizes overflow or exceed the cap). */
static int sections(const snap_head *h, uint64_t sz[10]) {
  if (h->nv > SIZE_CAP || h->ne > SIZE_CAP || h->names_bytes > SIZE_CAP)
    return 0;
  int n = 0;
  sz[n++] = h->nv * 8;
  sz[n++] = (h->nv + 1) * 8;
  sz[n++] = h->ne * 4;
  sz[n++] = (h->nv + 1) * 8;
  sz[n++] = h->ne * 4;
  sz[n++] = h->ne * 4;
  if (h->flags & 1) sz[n++] = h->ne * 8;
  if (h->flags & 4) {
    sz[n++] = (h->nv + 1) * 8;
    sz[n++] = h->names_bytes;
  }
  if (h->flags & 8) sz[n++] = h->nv * 4; /* reordered: by_gid */
  return n;
}

static uint64_t hash_of(const void *p, uint64_t len, uint64_t seed) {
  gasp__hash h;
  gasp__hash_init(&h, seed);
  gasp__hash_update(&h, p, len);
  return gasp__hash_final(&h);
}

/* Repairs the copy in *buf (*n bytes, reallocated as needed). */
static void repair(unsigned char **buf, size_t *n, int fix_size, int fix_sum) {
  if (*n < HEADER || memcmp(*buf, "GASPSNAP", 8) != 0) return;
  snap_head h;
  memcpy(&h, *buf, sizeof h);
  uint64_t sz[10];
  int ns = sections(&h, sz);
  if (!ns) return;
  uint64_t end = HEADER;
  for (int i = 0; i < ns; i++)
    end = align64(end) + sz[i];
  if (end > SIZE_CAP) return;
  if (fix_size && end != *n) {
    unsigned char *nb = realloc(*buf, end);
    if (!nb) abort();
    if (end > *n) memset(nb + *n, 0, end - *n);
    *buf = nb;
    *n = end;
  }
  if (!fix_sum || end != *n) return;
  uint64_t ph[10], np = 0, pos = HEADER; /* a piece per section */
  for (int i = 0; i < ns; i++) {
    pos = align64(pos);
    if (sz[i]) { /* each section is one piece: the cap is below PIECE */
      ph[np] = hash_of(*buf + pos, sz[i], np);
      np++;
    }
    pos += sz[i];
  }
  unsigned char head[HEADER];
  memcpy(head, *buf, HEADER);
  memset(head + offsetof(snap_head, checksum), 0, 8);
  gasp__hash hh;
  gasp__hash_init(&hh, 0x6761737021ull);
  gasp__hash_update(&hh, head, HEADER);
  gasp__hash_update(&hh, ph, np * sizeof *ph);
  uint64_t sum = gasp__hash_final(&hh);
  memcpy(*buf + offsetof(snap_head, checksum), &sum, 8);
}

_Static_assert(SIZE_CAP < PIECE, "a section is a single piece");

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t sel = data[0];
  size_t n = size - 1;
  unsigned char *buf = malloc(n ? n : 1);
  if (!buf) abort();
  memcpy(buf, data + 1, n);
  repair(&buf, &n, sel & 1, (sel >> 1) & 1);

  char path[64];
  int fd = fuzz_memfile(buf, n, path, sizeof path);
  gasp_load_opts o;
  gasp_load_opts_init(&o);
  o.format = (sel & 4) ? GASP_FORMAT_AUTO : GASP_FORMAT_SNAPSHOT;
  o.threads = 1;
  gasp_graph *g = NULL;
  gasp_error err;
  int rc = gasp_graph_load(&g, path, &o, &err);
  if (rc == GASP_OK) {
    fuzz_check_graph(g, 0);
    /* saves and reloads to the same graph */
    char copy[256];
    snprintf(copy, sizeof copy, "%s/copy.gasp", fuzz_dir());
    FUZZ_CHECK(gasp_graph_save_snapshot(g, copy, &err) == GASP_OK);
    gasp_graph *h = NULL;
    FUZZ_CHECK(gasp_graph_load(&h, copy, &o, &err) == GASP_OK);
    FUZZ_CHECK(gasp_graph_num_vertices(h) == gasp_graph_num_vertices(g));
    FUZZ_CHECK(gasp_graph_num_edges(h) == gasp_graph_num_edges(g));
    FUZZ_CHECK(gasp_graph_num_left(h) == gasp_graph_num_left(g));
    gasp_graph_free(&h);
  } else {
    FUZZ_CHECK(rc < 0 && g == NULL && err.code == rc);
  }
  gasp_graph_free(&g);
  close(fd);
  free(buf);
  return 0;
}
