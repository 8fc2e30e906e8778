/*
 * fuzz_mf_model.c -- libFuzzer harness of the model reader of
 * `gasp predict` (mf_model_read, toolkits/mf_model.c): the input holds
 * the three files of a model, PREFIX.model, PREFIX.users.tsv and
 * PREFIX.items.tsv, in that order, separated by form feeds ('\f').  A
 * model that reads has its rows findable by id, and predicts (known and
 * unknown users and items) within the rating range.
 * The reader reports its failures on stderr: run with -close_fd_mask=2.
 */
#include "fuzz_util.h"

#include "mf_model.h"

#include <math.h>

static void check_side(const mf_side *s) {
  for (uint64_t r = 0; r < s->n; r++) {
    FUZZ_CHECK(r == 0 || s->id[r - 1] < s->id[r]);
    FUZZ_CHECK(mf_side_find(s, s->id[r]) == (int64_t)r);
  }
}

static void check_predict(const mf_model *m, int64_t u, int64_t i) {
  double p = mf_model_predict(m, u, i);
  if (!m->implicit && m->rmin <= m->rmax && !isnan(p))
    FUZZ_CHECK(p >= m->rmin && p <= m->rmax);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const suffix[3] = {"m.model", "m.users.tsv",
                                        "m.items.tsv"};
  const uint8_t *p = data, *end = data + size;
  for (int f = 0; f < 3; f++) {
    const uint8_t *ff = f < 2 ? memchr(p, '\f', (size_t)(end - p)) : NULL;
    const uint8_t *e = ff ? ff : end;
    fuzz_put_file(suffix[f], p, (size_t)(e - p));
    p = ff ? ff + 1 : end;
  }
  char prefix[256];
  snprintf(prefix, sizeof prefix, "%s/m", fuzz_dir());
  mf_model m;
  if (mf_model_read(prefix, &m)) {
    FUZZ_CHECK(m.users.id == NULL && m.items.id == NULL);
    return 0;
  }
  FUZZ_CHECK(m.k >= 1 && m.k <= 4096 && m.stride == mf_stride(m.k, m.biased));
  check_side(&m.users);
  check_side(&m.items);
  check_predict(&m, -1, -1);
  if (m.users.n) check_predict(&m, (int64_t)m.users.n - 1, -1);
  if (m.items.n) check_predict(&m, -1, 0);
  if (m.users.n && m.items.n) check_predict(&m, 0, (int64_t)m.items.n - 1);
  mf_model_free(&m);
  return 0;
}
