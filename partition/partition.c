/*
 * partition.c -- the partitioners behind one call: a table of methods by
 * name (gasp_partition, gasp_partition_method).
 */
#include "internal.h"

#include <string.h>

static int by_metis(const gasp_graph *g, int parts, uint64_t seed,
                    uint32_t *owner, gasp_error *err) {
  return gasp_partition_metis(g, parts, seed, owner, err);
}

static int by_hash(const gasp_graph *g, int parts, uint64_t seed,
                   uint32_t *owner, gasp_error *err) {
  (void)seed;
  int rc = gasp_partition_hash(g, parts, owner);
  return rc ? gasp__fail(err, rc, NULL, 0, "hash partitioning: %s",
                         gasp_strerror(rc))
            : GASP_OK;
}

static const struct {
  const char *name;
  int (*run)(const gasp_graph *g, int parts, uint64_t seed, uint32_t *owner,
             gasp_error *err);
} methods[] = {{"metis", by_metis}, {"hash", by_hash}};

#define NMETHODS ((int)(sizeof methods / sizeof methods[0]))

const char *gasp_partition_method(int i) {
  return i >= 0 && i < NMETHODS ? methods[i].name : NULL;
}

int gasp_partition(const gasp_graph *g, const char *method, int parts,
                   uint64_t seed, uint32_t *owner, gasp_error *err) {
  gasp__error_clear(err);
  if (!method) method = methods[0].name;
  for (int i = 0; i < NMETHODS; i++)
    if (!strcmp(method, methods[i].name))
      return methods[i].run(g, parts, seed, owner, err);
  return gasp__fail(err, GASP_EINVAL, NULL, 0,
                    "unknown partitioning method '%s' (metis or hash)", method);
}
