/*
 * fuzz_wire.c -- libFuzzer harness of the cluster wire decoder: what a
 * peer's bytes go through (engine/dist/wire.c, handshake.c, conn.c).
 *
 * Input: one selector byte, then the byte stream of a connection: frames
 * of a 4-byte big-endian length and that many bytes.
 *   bits 0-1: the connection's state (ready, waiting for AUTH_OK,
 *             waiting for AUTH as the acceptor, waiting for HELLO)
 * Each whole frame is cut as conn.c does (length checked against the
 * maximum frame size, and the pre-authentication limit), tried by the
 * DATA fast path (gasp__data_head), checked by gasp__mp_check and handed
 * to gasp__cl_handle_frame, the state machine of a connection; the
 * frames it queued are then decoded as a collective step would.  The
 * connection has no socket: whatever it would send fails, as a closed
 * one does.  Checked: a DATA header the fast path accepts is a frame the
 * checked path accepts with the same fields, and a frame gasp__mp_check
 * accepts unpacks as exactly one object of its whole length.
 */
#include "fuzz_util.h"

#include "cluster_internal.h"

#define MAX_FRAME ((size_t)1 << 16)

static const int states[] = {C_READY, C_AUTH_SENT, C_HELLO_SENT, C_WAIT_HELLO};

/* The fast path's reading of a DATA header agrees with msgpack-c's. */
static void check_data_head(const uint8_t *p, size_t L) {
  uint64_t f[4];
  size_t head;
  size_t avail = L < GASP__DATA_HEAD_MAX ? L : GASP__DATA_HEAD_MAX;
  if (gasp__data_head(p, avail, L, f, &head)) return;
  char why[200];
  FUZZ_CHECK(gasp__mp_check(p, L, 16, why, sizeof why) == 0);
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  const msgpack_object *it;
  uint32_t cnt;
  uint64_t v;
  const uint8_t *bin;
  size_t n;
  FUZZ_CHECK(gasp__frame_unpack(&up, p, L, &it, &cnt) == GASP__MSG_DATA);
  FUZZ_CHECK(cnt == 6);
  for (int i = 0; i < 4; i++)
    FUZZ_CHECK(gasp__mp_u64(&it[1 + i], &v) == 0 && v == f[i]);
  FUZZ_CHECK(gasp__mp_bin(&it[5], &bin, &n) == 0 && n == L - head);
  FUZZ_CHECK(n == 0 || bin == p + head); /* msgpack-c: any pointer for 0 */
  msgpack_unpacked_destroy(&up);
}

/* A checked frame is one msgpack object, exactly L bytes long. */
static void check_checked(const uint8_t *p, size_t L) {
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  size_t off = 0;
  FUZZ_CHECK(msgpack_unpack_next(&up, (const char *)p, L, &off) ==
             MSGPACK_UNPACK_SUCCESS);
  FUZZ_CHECK(off == L);
  msgpack_unpacked_destroy(&up);
}

/* The queued frames, as a collective step reads DATA frames. */
static void drain(conn *k) {
  frame *f;
  while ((f = gasp__cl_pop(k))) {
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    const msgpack_object *it;
    uint32_t cnt;
    int t = gasp__frame_unpack(&up, f->data, f->n, &it, &cnt);
    FUZZ_CHECK(t >= 0); /* handle_frame queues only frames that unpack */
    uint64_t v;
    const uint8_t *p;
    size_t n;
    if (t == GASP__MSG_DATA && cnt == 6) {
      for (int i = 1; i < 5; i++)
        (void)gasp__mp_u64(&it[i], &v);
      if (!gasp__mp_bin(&it[5], &p, &n))
        FUZZ_CHECK(p >= f->data && p + n <= f->data + f->n);
    }
    msgpack_unpacked_destroy(&up);
    free(f->data);
    free(f);
  }
  for (frame *m = k->phead; m; m = m->next) /* one-way messages */
    if (m->n) (void)((volatile uint8_t *)m->data)[m->n - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t sel = data[0];
  data++;
  size--;
  static const uint8_t key[] = "fuzz-cluster-key";
  struct gasp_cluster c;
  memset(&c, 0, sizeof c);
  conn *peers[3] = {NULL, NULL, NULL};
  c.rank = 0;
  c.size = 3;
  c.peer = peers;
  c.key = (uint8_t *)key;
  c.klen = sizeof key - 1;
  c.max_frame = MAX_FRAME;
  conn k;
  memset(&k, 0, sizeof k);
  k.c = &c;
  k.state = states[sel & 3];
  k.acceptor = k.state == C_HELLO_SENT;
  k.rank = k.acceptor ? -1 : 1;
  if (k.state == C_READY) peers[1] = &k;

  size_t pos = 0;
  while (k.state != C_DEAD && size - pos >= 4) {
    size_t L = (size_t)data[pos] << 24 | (size_t)data[pos + 1] << 16 |
               (size_t)data[pos + 2] << 8 | data[pos + 3];
    if (L == 0 || L > c.max_frame) break; /* conn.c fails the connection */
    if (k.state != C_READY && L > PREAUTH_FRAME) break;
    if (size - pos - 4 < L) break; /* waits for the rest */
    const uint8_t *p = data + pos + 4;
    pos += 4 + L;
    check_data_head(p, L);
    char why[200];
    if (gasp__mp_check(p, L, 16, why, sizeof why)) break;
    check_checked(p, L);
    uint8_t *buf = malloc(L); /* handle_frame takes it over */
    if (!buf) abort();
    memcpy(buf, p, L);
    gasp__cl_handle_frame(&k, buf, L);
    FUZZ_CHECK(k.state != C_READY || peers[1] == &k || k.rank != 1);
  }
  drain(&k);
  gasp__cl_conn_close(&k);
  return 0;
}
