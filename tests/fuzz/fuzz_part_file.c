/*
 * fuzz_part_file.c -- libFuzzer harness of the partition-file reader
 * (gasp_dist_load, partition/part_file.c).
 *
 * The reader asks its cluster only for its rank and size, so the harness
 * hands it a cluster record with no connections, of the rank and size
 * the file's header names (rank 0 of 1 when they are out of 0..63).
 * Input: one selector byte, then the file.
 *   bit 0: recompute the checksum (the header's with its checksum field
 *          zero, then the rest of the file), so that changes reach the
 *          section and structure checks behind it
 *   bit 1: keep rank 0 of 1 whatever the header says
 * A file that loads gives a consistent local graph.
 */
#include "fuzz_util.h"

#include "cluster_internal.h"

typedef struct part_head {
  char magic[8];
  uint32_t version, bom;
  uint64_t rank, parts, global_nv, global_ne, nv, nowned, ne, weighted;
  uint64_t checksum;
  uint64_t reserved;
} part_head;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t sel = data[0];
  size_t n = size - 1;
  unsigned char *buf = malloc(n ? n : 1);
  if (!buf) abort();
  memcpy(buf, data + 1, n);
  struct gasp_cluster c;
  memset(&c, 0, sizeof c);
  c.rank = 0;
  c.size = 1;
  if (n >= sizeof(part_head)) {
    part_head h;
    memcpy(&h, buf, sizeof h);
    if (!(sel & 2) && h.parts >= 1 && h.parts <= 64 && h.rank < h.parts) {
      c.rank = (int)h.rank;
      c.size = (int)h.parts;
    }
    if (sel & 1) {
      h.checksum = 0;
      gasp__hash hh;
      gasp__hash_init(&hh, 0x6770617274ull);
      gasp__hash_update(&hh, &h, sizeof h);
      gasp__hash_update(&hh, buf + sizeof h, n - sizeof h);
      uint64_t sum = gasp__hash_final(&hh);
      memcpy(buf + offsetof(part_head, checksum), &sum, 8);
    }
  }
  char name[64], prefix[256];
  snprintf(name, sizeof name, "p.%d.gpart", c.rank);
  fuzz_put_file(name, buf, n);
  snprintf(prefix, sizeof prefix, "%s/p", fuzz_dir());

  gasp_dist *d = NULL;
  gasp_error err;
  int rc = gasp_dist_load(&d, &c, prefix, &err);
  if (rc == GASP_OK) {
    gasp_graph *l = gasp_dist_graph(d);
    fuzz_check_graph(l, 0);
    FUZZ_CHECK(gasp_dist_cluster(d) == &c);
    const gasp_gid *gids = gasp_dist_global_gids(d);
    FUZZ_CHECK(gids != NULL || gasp_graph_num_vertices(l) == 0);
  } else {
    FUZZ_CHECK(rc < 0 && d == NULL && err.code == rc);
  }
  gasp_dist_free(&d);
  free(buf);
  return 0;
}
