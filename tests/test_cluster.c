/*
 * test_cluster.c -- the cluster transport: SHA-256 and HMAC against the
 * FIPS 180-4 and RFC 4231 vectors; the msgpack frame checker against
 * truncated, lying and malformed objects; clusters of 2-4 processes
 * forked here meeting on loopback and running all-to-all exchanges
 * (payloads larger than a frame, so chunked), allreduce and barriers; and
 * what must fail cleanly: a wrong cluster key, strangers sending garbage
 * during start-up, and an authenticated peer sending an oversized frame,
 * a truncated frame, random bytes or an array header claiming 2^32-1
 * elements, and a peer killed in the middle of a run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gasp.h"
#include "testutil.h"
#include "dist_internal.h"
#include "internal.h"
#include "sha256.h"
#include "wire.h"

static const char KEY[] = "test-cluster-key-0123456789";

static void hex(const uint8_t *d, size_t n, char *out) {
  for (size_t i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha256(void **state) {
  (void)state;
  uint8_t d[32];
  char h[65];
  gasp__sha256 s;
  static const struct {
    const char *msg, *want;
  } v[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc",
       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    gasp__sha256_init(&s);
    /* fed a byte at a time and all at once */
    for (const char *p = v[i].msg; *p; p++)
      gasp__sha256_update(&s, p, 1);
    gasp__sha256_final(&s, d);
    hex(d, 32, h);
    assert_string_equal(h, v[i].want);
  }
  uint8_t key1[20];
  memset(key1, 0x0b, sizeof key1);
  gasp__hmac_sha256(key1, 20, "Hi There", 8, d);
  hex(d, 32, h);
  assert_string_equal(
      h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  gasp__hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
  hex(d, 32, h);
  assert_string_equal(
      h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  uint8_t key6[131];
  memset(key6, 0xaa, sizeof key6); /* a key longer than the block is hashed */
  const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  gasp__hmac_sha256(key6, sizeof key6, m6, strlen(m6), d);
  hex(d, 32, h);
  assert_string_equal(
      h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  assert_true(gasp__ct_equal("abc", "abc", 3));
  assert_false(gasp__ct_equal("abc", "abd", 3));
}

static void test_mp_check(void **state) {
  (void)state;
  char why[200];
  static const struct {
    const char *bytes;
    size_t n;
    int ok;
  } v[] = {
      {"\x93\x01\xa2hi\xc4\x02xy", 9, 1},     /* [1, "hi", bin "xy"] */
      {"\x82\x01\x02\x03\xc0", 5, 1},         /* {1: 2, 3: nil} */
      {"\xdd\xff\xff\xff\xff\x01", 6, 0},     /* array32 of 2^32-1 */
      {"\xdf\xff\xff\xff\xff\x01\x02", 7, 0}, /* map32 of 2^32-1 */
      {"\xdc\x00\x03\x01\x02", 5, 0},         /* array16 of 3, 2 given */
      {"\xc6\xff\xff\xff\xff\x00", 6, 0},     /* bin32 of 4 GiB */
      {"\xdb\x00\x00\x00\x05hi", 7, 0},       /* str32 too short */
      {"\xc1", 1, 0},                         /* never-used type byte */
      {"\x01\x02", 2, 0},                     /* trailing bytes */
      {"\xcf\x01\x02", 3, 0},                 /* truncated uint64 */
      {"\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91"
       "\x01",
       18, 0}, /* nested 17 deep */
      {"\x91\x91\x91\x01", 4, 1},
      {"\xd8\x01"
       "0123456789abcdef",
       18, 1}, /* fixext16 */
  };
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    int rc = gasp__mp_check((const uint8_t *)v[i].bytes, v[i].n, 16, why,
                            sizeof why);
    if ((rc == 0) != v[i].ok)
      fail_msg("case %zu: got %d (%s)", i, rc, rc ? why : "");
  }
}

/* A DATA frame as the sender packs it, with `items` elements and a body
 * of n bytes (0xab); returns its length. */
static size_t pack_data(uint8_t *out, const uint64_t f[4], size_t n, int items,
                        uint64_t type) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, (size_t)items);
  msgpack_pack_uint64(&pk, type);
  for (int i = 0; i < items - 2; i++)
    msgpack_pack_uint64(&pk, f[i]);
  msgpack_pack_bin(&pk, n);
  memcpy(out, sb.data, sb.size);
  memset(out + sb.size, 0xab, n);
  size_t total = sb.size + n;
  msgpack_sbuffer_destroy(&sb);
  return total;
}

/* The receive side's fast reading of DATA headers takes exactly the
 * frames the sender makes (every integer width, bin 8/16/32) and nothing
 * else: a lying length, another type or arity, a field of another kind
 * and a truncated header all go to the checked path. */
static void test_data_head(void **state) {
  (void)state;
  static const uint64_t vals[][4] = {{1, 3ull << 32, 0, 1},
                                     {300, 1ull << 32, 70000, 0},
                                     {1ull << 40, 0, 255, 1},
                                     {127, 128, 65535, 0}};
  static const size_t bodies[] = {0, 5, 200, 300, 70000};
  static uint8_t buf[80000];
  char why[200];
  for (size_t a = 0; a < sizeof vals / sizeof *vals; a++)
    for (size_t b = 0; b < sizeof bodies / sizeof *bodies; b++) {
      size_t L = pack_data(buf, vals[a], bodies[b], 6, GASP__MSG_DATA);
      size_t avail = L < GASP__DATA_HEAD_MAX ? L : GASP__DATA_HEAD_MAX, head;
      uint64_t f[4];
      assert_int_equal(gasp__mp_check(buf, L, 16, why, sizeof why), 0);
      assert_int_equal(gasp__data_head(buf, avail, L, f, &head), 0);
      assert_memory_equal(f, vals[a], sizeof f);
      assert_int_equal(head + bodies[b], L);
      assert_int_equal(gasp__data_head(buf, head, L, f, &head), 0);
      assert_int_equal(gasp__data_head(buf, head - 1, L, f, &head), -1);
      assert_int_equal(gasp__data_head(buf, avail, L + 1, f, &head), -1);
      assert_int_equal(gasp__data_head(buf, avail, L - 1, f, &head), -1);
    }
  uint64_t v[4] = {1, 2, 3, 1};
  size_t head, L;
  uint64_t f[4];
  L = pack_data(buf, v, 9, 5, GASP__MSG_DATA); /* one field short */
  assert_int_equal(gasp__data_head(buf, L, L, f, &head), -1);
  L = pack_data(buf, v, 9, 6, GASP__MSG_POST);
  assert_int_equal(gasp__data_head(buf, L, L, f, &head), -1);
  L = pack_data(buf, v, 9, 6, GASP__MSG_DATA);
  static const struct {
    size_t at;
    uint8_t byte;
  } bad[] = {
      {0, 0x97}, /* seven elements */
      {2, 0xff}, /* seq -1 (negative fixint) */
      {3, 0xc0}, /* tag nil */
      {5, 0xc3}, /* last true */
      {6, 0xa9}, /* str, not bin */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    uint8_t c[32];
    memcpy(c, buf, L);
    c[bad[i].at] = bad[i].byte;
    if (!gasp__data_head(c, L, L, f, &head))
      fail_msg("corruption %zu taken", i);
  }
}

/* ---- forked clusters ------------------------------------------------- */

typedef int (*rank_fn)(gasp_cluster *c, void *arg);

typedef struct cfg {
  int size, port, lfd;
  const char *key;
  double timeout;
  size_t max_frame;
} cfg;

/* A rank's status when it saw another rank's failure before the one it
 * was to report: not a failure, as long as some rank reported it. */
#define SAW_OTHER_FIRST 2

/* Joins the cluster of g as `rank`: the library's status and error. */
static int join(const cfg *g, int rank, gasp_cluster **c, gasp_error *err) {
  char coord[64];
  snprintf(coord, sizeof coord, "127.0.0.1:%d", g->port);
  gasp_cluster_opts o;
  gasp_cluster_opts_init(&o);
  o.rank = rank;
  o.size = g->size;
  o.coordinator = coord;
  o.listen_fd = rank == 0 ? g->lfd : -1;
  o.key = g->key ? g->key : KEY;
  o.key_len = strlen(o.key);
  o.timeout = g->timeout > 0 ? g->timeout : 20;
  o.max_frame = g->max_frame;
  return gasp_cluster_new(c, &o, err);
}

/* In a child: joins as `rank` and runs fn (none: just joins); its status,
 * a failure recorded with TU_RANK_FAIL. */
static int join_and_run(const cfg *g, int rank, rank_fn fn, void *arg) {
  gasp_cluster *c = NULL;
  gasp_error err;
  int rc = join(g, rank, &c, &err);
  if (rc)
    return TU_RANK_FAIL("rank %d: gasp_cluster_new: %s: %s", rank,
                        gasp_err_name(rc), err.msg);
  int st = fn ? fn(c, arg) : 0;
  gasp_cluster_free(&c);
  return st;
}

/* In a child: joining as `rank` must fail with `code`, saying `want`. */
static int expect_join_failure(const cfg *g, int rank, int code,
                               const char *want) {
  gasp_cluster *c = NULL;
  gasp_error err;
  int rc = join(g, rank, &c, &err);
  if (rc == GASP_OK) {
    gasp_cluster_free(&c);
    return TU_RANK_FAIL("rank %d joined; want %s saying '%s'", rank,
                        gasp_err_name(code), want);
  }
  TU_RANK_CHECK_MSG(rc == code && strstr(err.msg, want),
                    "rank %d: %s: %s; want %s saying '%s'", rank,
                    gasp_err_name(rc), err.msg, gasp_err_name(code), want);
  return 0;
}

/* Forks size ranks running fn (rank r gets fns[r] when given) and reaps
 * them: ch[r] holds rank r's status and, when it failed, why. */
static void run_cluster(cfg *g, rank_fn fn, rank_fn *fns, void *arg,
                        tu_child *ch) {
  g->lfd = tu_listen_loopback(&g->port);
  for (int r = 0; r < g->size; r++) {
    if (tu_child_fork(&ch[r]) == 0) {
      signal(SIGPIPE, SIG_IGN);
      for (int q = 0; q < r; q++) /* the earlier ranks' report pipes */
        close(ch[q].fd);
      if (r != 0) close(g->lfd);
      tu_child_exit(join_and_run(g, r, fns && fns[r] ? fns[r] : fn, arg));
    }
  }
  close(g->lfd);
  for (int r = 0; r < g->size; r++)
    tu_child_wait(&ch[r]);
}

/* Every rank sends rank s -> r a payload of 3000 * (s + 1) + 7 r bytes
 * (beyond the 4 KiB frames: chunked) with bytes (s * 31 + r + i) & 255;
 * then allreduce of (rank + 1) and (rank * 2.5), a barrier, and a second
 * exchange of empty payloads. */
static int exchange_work(gasp_cluster *c, void *arg) {
  (void)arg;
  int n = gasp_cluster_size(c), me = gasp_cluster_rank(c);
  const void *send[8], *recv[8];
  size_t len[8], rlen[8];
  uint8_t *buf[8];
  for (int r = 0; r < n; r++) {
    len[r] = 3000u * (unsigned)(me + 1) + 7u * (unsigned)r;
    buf[r] = malloc(len[r]);
    for (size_t i = 0; i < len[r]; i++)
      buf[r][i] = (uint8_t)((me * 31 + r + (int)i) & 255);
    send[r] = buf[r];
  }
  gasp_error err;
  for (int round = 0; round < 3; round++)
    if (gasp_cluster_exchange(c, send, len, recv, rlen, &err))
      return TU_RANK_FAIL("round %d: gasp_cluster_exchange: %s", round,
                          err.msg);
  for (int s = 0; s < n; s++) {
    if (s == me) {
      TU_RANK_CHECK_MSG(recv[s] == NULL, "a payload from itself");
      continue;
    }
    size_t want = 3000u * (unsigned)(s + 1) + 7u * (unsigned)me;
    TU_RANK_CHECK_MSG(rlen[s] == want, "%zu bytes from rank %d, want %zu",
                      rlen[s], s, want);
    for (size_t i = 0; i < rlen[s]; i++)
      TU_RANK_CHECK_MSG(((const uint8_t *)recv[s])[i] ==
                            (uint8_t)((s * 31 + me + (int)i) & 255),
                        "byte %zu from rank %d", i, s);
  }
  for (int r = 0; r < n; r++)
    free(buf[r]);
  double v[3] = {me + 1.0, me * 2.5, -me};
  if (gasp_cluster_allreduce(c, v, 2, GASP_REDUCE_SUM, &err))
    return TU_RANK_FAIL("gasp_cluster_allreduce (sum): %s", err.msg);
  TU_RANK_CHECK_MSG(v[0] == n * (n + 1) / 2.0 &&
                        v[1] == 2.5 * n * (n - 1) / 2.0,
                    "sums %g, %g", v[0], v[1]);
  double w = me;
  if (gasp_cluster_allreduce(c, &w, 1, GASP_REDUCE_MAX, &err))
    return TU_RANK_FAIL("gasp_cluster_allreduce (max): %s", err.msg);
  TU_RANK_CHECK_MSG(w == n - 1, "max %g", w);
  if (gasp_cluster_barrier(c, &err))
    return TU_RANK_FAIL("gasp_cluster_barrier: %s", err.msg);
  if (gasp_cluster_exchange(c, NULL, NULL, recv, rlen, &err))
    return TU_RANK_FAIL("empty gasp_cluster_exchange: %s", err.msg);
  for (int s = 0; s < n; s++)
    TU_RANK_CHECK_MSG(s == me || rlen[s] == 0,
                      "%zu bytes from rank %d in an empty exchange", rlen[s],
                      s);
  uint64_t sent = 0, got = 0;
  gasp_cluster_traffic(c, &sent, &got);
  TU_RANK_CHECK_MSG(n == 1 || (sent > 0 && got > 0),
                    "traffic: %llu bytes sent, %llu received",
                    (unsigned long long)sent, (unsigned long long)got);
  return 0;
}

static void test_cluster_exchange(void **state) {
  (void)state;
  for (int size = 1; size <= 4; size++) {
    cfg g = {size, 0, -1, NULL, 20, 4096};
    tu_child ch[8];
    run_cluster(&g, exchange_work, NULL, NULL, ch);
    char what[32];
    snprintf(what, sizeof what, "%d ranks", size);
    tu_assert_ranks(ch, size, 0, what);
  }
}

/* Byte i of what rank s sends rank r in round t. */
static uint8_t overlap_byte(int s, int r, int t, size_t i) {
  return (uint8_t)((i * 7 + (size_t)s * 13 + (size_t)t * 29 + (size_t)r) & 255);
}

static int never(void *arg) {
  (void)arg;
  return 0;
}

/* Two ranks swap payloads of about 12 MiB (12 chunks, more than the
 * sockets buffer) for six rounds; before every odd round rank 1 runs its
 * event loop idle for 0.1 s, so it reads rank 0's frames of that round
 * before the round begins there (they wait in the inbox); otherwise the
 * frames arriving during a round go straight into its receive buffer.
 * Every byte is checked, and rank 1 must have taken frames both ways. */
static int overlap_work(gasp_cluster *c, void *arg) {
  (void)arg;
  int me = gasp_cluster_rank(c), peer = 1 - me;
  gasp_error err;
  size_t n = ((size_t)12 << 20) + 1000;
  uint8_t *buf = malloc(n + 16);
  TU_RANK_CHECK(buf);
  for (int t = 0; t < 6; t++) {
    size_t len[2] = {0, 0}, rlen[2];
    len[peer] = n + (size_t)(t + me);
    for (size_t i = 0; i < len[peer]; i++)
      buf[i] = overlap_byte(me, peer, t, i);
    const void *send[2] = {buf, buf}, *recv[2];
    if (me == 1 && t % 2 && gasp__cluster_idle(c, never, NULL, 0.1, &err))
      return TU_RANK_FAIL("round %d: gasp__cluster_idle: %s", t, err.msg);
    if (gasp_cluster_exchange(c, send, len, recv, rlen, &err))
      return TU_RANK_FAIL("round %d: gasp_cluster_exchange: %s", t, err.msg);
    TU_RANK_CHECK_MSG(rlen[peer] == n + (size_t)(t + peer),
                      "round %d: %zu bytes", t, rlen[peer]);
    for (size_t i = 0; i < rlen[peer]; i++)
      TU_RANK_CHECK_MSG(((const uint8_t *)recv[peer])[i] ==
                            overlap_byte(peer, me, t, i),
                        "round %d: byte %zu", t, i);
  }
  free(buf);
  uint64_t direct, queued;
  gasp__cluster_frames(c, &direct, &queued);
  TU_RANK_CHECK_MSG(me == 0 || (direct > 0 && queued > 0),
                    "frames: %llu straight into the buffer, %llu queued",
                    (unsigned long long)direct, (unsigned long long)queued);
  return 0;
}

static void test_exchange_overlap(void **state) {
  (void)state;
  cfg g = {2, 0, -1, NULL, 60, 0};
  tu_child ch[8];
  run_cluster(&g, overlap_work, NULL, NULL, ch);
  tu_assert_ranks(ch, 2, 0, "overlap");
}

/* A rank with another key cannot join: it fails with EAUTH; rank 0 counts
 * a rejected connection and times out waiting, naming the missing peer. */
static void test_wrong_key(void **state) {
  (void)state;
  cfg g = {2, 0, -1, NULL, 3, 0};
  g.lfd = tu_listen_loopback(&g.port);
  tu_child ch0, ch1;
  if (tu_child_fork(&ch0) == 0) /* times out, naming the refused handshake */
    tu_child_exit(
        expect_join_failure(&g, 0, GASP_ETIMEDOUT,
                            "claiming rank 1 was refused: wrong cluster key"));
  cfg bad = g;
  bad.key = "not-the-cluster-key";
  if (tu_child_fork(&ch1) == 0) { /* told so by rank 0 */
    close(g.lfd);
    close(ch0.fd);
    tu_child_exit(expect_join_failure(
        &bad, 1, GASP_EAUTH, "refused the handshake: wrong cluster key"));
  }
  close(g.lfd);
  tu_child_wait(&ch1);
  tu_child_wait(&ch0);
  tu_child ch[2] = {ch0, ch1};
  tu_assert_ranks(ch, 2, 0, "wrong key");
}

/* A rank that fails tells the others why (gasp_cluster_abort): their next
 * collective fails at once with GASP_EPEER naming the rank and the reason,
 * not after the timeout as for a silent peer. */
static int abort_now(gasp_cluster *c, void *arg) {
  (void)arg;
  gasp_cluster_abort(c, "disk full writing the output");
  return 0;
}

static int told_why(gasp_cluster *c, void *arg) {
  (void)arg;
  gasp_error err;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = gasp_cluster_barrier(c, &err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double dt = (double)(t1.tv_sec - t0.tv_sec) +
              1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  TU_RANK_CHECK_MSG(rc == GASP_EPEER, "barrier: %s: %s", gasp_err_name(rc),
                    rc ? err.msg : "");
  TU_RANK_CHECK_MSG(dt < 2, "told after %.1f s", dt);
  if (strstr(err.msg, "peer 2") && strstr(err.msg, "disk full")) return 0;
  /* or it saw the other survivor go first */
  TU_RANK_CHECK_MSG(strstr(err.msg, "peer"), "barrier: %s", err.msg);
  return SAW_OTHER_FIRST;
}

static void test_abort_tells_why(void **state) {
  (void)state;
  cfg g = {3, 0, -1, NULL, 30, 0};
  rank_fn fns[3] = {told_why, told_why, abort_now};
  tu_child ch[8];
  run_cluster(&g, NULL, fns, NULL, ch);
  tu_assert_ranks(ch, 3, SAW_OTHER_FIRST, "abort");
  assert_true(ch[0].status == 0 || ch[1].status == 0); /* someone was told */
}

/* ---- a fake peer that knows the key, then misbehaves ----------------------
 */

static int connect_port(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  for (int i = 0; i < 200; i++) {
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    usleep(10000);
  }
  return -1;
}

static int read_full(int fd, void *buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

static void write_frame(int fd, const msgpack_sbuffer *sb) {
  uint8_t hdr[4] = {(uint8_t)(sb->size >> 24), (uint8_t)(sb->size >> 16),
                    (uint8_t)(sb->size >> 8), (uint8_t)sb->size};
  if (write(fd, hdr, 4) != 4 ||
      write(fd, sb->data, sb->size) != (ssize_t)sb->size)
    fail_msg("writing a frame to rank 0: %s", strerror(errno));
}

/* Does rank 1's side of the handshake with rank 0 on fd, and reports the
 * address rank 0 asks for; returns 0 when rank 0 accepted us. */
static int fake_join(int fd) {
  uint8_t hdr[4], buf[512];
  if (read_full(fd, hdr, 4)) return -1;
  uint32_t L = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
  if (L > sizeof buf || read_full(fd, buf, L)) return -1;
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  const msgpack_object *it;
  uint32_t cnt;
  const uint8_t *nonce;
  size_t nn;
  if (gasp__frame_unpack(&up, buf, L, &it, &cnt) != GASP__MSG_HELLO ||
      gasp__mp_bin(&it[3], &nonce, &nn))
    return -1;
  uint8_t mac[32], mine[32] = {7};
  gasp__handshake_mac(KEY, strlen(KEY), nonce, 1, mac);
  msgpack_unpacked_destroy(&up);
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 4);
  msgpack_pack_uint64(&pk, GASP__MSG_AUTH);
  msgpack_pack_uint64(&pk, 1);
  msgpack_pack_bin(&pk, 32);
  msgpack_pack_bin_body(&pk, mac, 32);
  msgpack_pack_bin(&pk, 32);
  msgpack_pack_bin_body(&pk, mine, 32);
  write_frame(fd, &sb);
  msgpack_sbuffer_clear(&sb);
  if (read_full(fd, hdr, 4)) return -1; /* AUTH_OK */
  L = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
  if (L > sizeof buf || read_full(fd, buf, L)) return -1;
  msgpack_pack_array(&pk, 3);
  msgpack_pack_uint64(&pk, GASP__MSG_ADDR);
  msgpack_pack_uint64(&pk, 1);
  msgpack_pack_str(&pk, 11);
  msgpack_pack_str_body(&pk, "127.0.0.1:9", 11);
  write_frame(fd, &sb);
  msgpack_sbuffer_destroy(&sb);
  return 0;
}

/* Rank 0's work: a barrier, which must fail naming peer 1. */
static int expect_peer_error(gasp_cluster *c, void *arg) {
  (void)arg;
  gasp_error err;
  int rc = gasp_cluster_barrier(c, &err);
  TU_RANK_CHECK_MSG(rc == GASP_EPEER && strstr(err.msg, "peer 1"),
                    "barrier: %s: %s", gasp_err_name(rc), rc ? err.msg : "");
  return 0;
}

static void test_bad_frames(void **state) {
  (void)state;
  static const struct {
    const char *what;
    const char *bytes;
    size_t n;
  } attacks[] = {
      {"oversized", "\x7f\xff\xff\xf0", 4},
      {"truncated", "\x00\x00\x01\x00\x95\x06\x01", 7},
      {"random bytes", "\x00\x00\x00\x08\xc1\x99\x13\x37\xde\xad\xbe\xef", 12},
      {"array of 2^32-1", "\x00\x00\x00\x06\xdd\xff\xff\xff\xff\x06", 10},
      {"map in a step", "\x00\x00\x00\x03\x81\x01\x02", 7},
      /* the barrier's DATA frame with a bin of 5 bytes and 2 in the frame */
      {"lying DATA length",
       "\x00\x00\x00\x12\x96\x06\x01\xcf\x00\x00\x00\x03\x00\x00\x00\x00"
       "\x00\x01\xc4\x05"
       "ab",
       22},
      /* a well-formed DATA frame of the barrier, but chunk 5 first */
      {"DATA out of order",
       "\x00\x00\x00\x10\x96\x06\x01\xcf\x00\x00\x00\x03\x00\x00\x00\x00"
       "\x05\x01\xc4\x00",
       20},
  };
  for (size_t a = 0; a < sizeof attacks / sizeof *attacks; a++) {
    cfg g = {2, 0, -1, NULL, 10, 0};
    g.lfd = tu_listen_loopback(&g.port);
    /* a stranger first: garbage before any handshake is just dropped */
    tu_child ch0;
    if (tu_child_fork(&ch0) == 0)
      tu_child_exit(join_and_run(&g, 0, expect_peer_error, NULL));
    close(g.lfd);
    int s0 = connect_port(g.port);
    assert_true(s0 >= 0);
    if (write(s0, "\x00\x00\x00\x04\xc1\xc1\xc1\xc1garbage", 15) < 0) fail();
    int fd = connect_port(g.port);
    assert_true(fd >= 0);
    assert_int_equal(fake_join(fd), 0);
    /* the TABLE frame arrives; then the attack */
    uint8_t junk[4096];
    usleep(100000);
    if (read(fd, junk, sizeof junk) < 0) fail();
    if (write(fd, attacks[a].bytes, attacks[a].n) != (ssize_t)attacks[a].n)
      fail();
    if (!strcmp(attacks[a].what, "truncated")) shutdown(fd, SHUT_WR);
    int ok = tu_child_wait(&ch0);
    close(fd);
    close(s0);
    if (!ok) fail_msg("%s: rank 0: %s", attacks[a].what, ch0.msg);
  }
}

/* Connections without the key cost a rank almost nothing: eight strangers
 * each announcing a 60 MiB frame and streaming 24 MiB of it before any
 * handshake, and forty that connect and say nothing, are dropped (counted
 * as rejected) while rank 0 stays under 32 MiB at its peak and still
 * meets its real peer. */
static long peak_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6)) kib = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return kib;
}

static int small_and_rejecting(gasp_cluster *c, void *arg) {
  (void)arg;
  long kib = peak_kib();
  if (kib < 0) return 0; /* no /proc: nothing to measure */
  TU_RANK_CHECK_MSG(kib <= 32 * 1024, "rank 0 peaked at %ld KiB", kib);
  TU_RANK_CHECK_MSG(gasp_cluster_rejected(c) >= 8, "%llu rejected",
                    (unsigned long long)gasp_cluster_rejected(c));
  return 0;
}

static void test_preauth_bounded(void **state) {
  (void)state;
  cfg g = {2, 0, -1, NULL, 20, 0};
  g.lfd = tu_listen_loopback(&g.port);
  tu_child ch0;
  if (tu_child_fork(&ch0) == 0)
    tu_child_exit(join_and_run(&g, 0, small_and_rejecting, NULL));
  close(g.lfd);
  pid_t pa = fork(); /* the strangers */
  if (pa == 0) {
    signal(SIGPIPE, SIG_IGN);
    static uint8_t junk[1 << 20];
    int quiet[40];
    for (int i = 0; i < 40; i++)
      quiet[i] = connect_port(g.port);
    int loud[8], open = 8;
    for (int i = 0; i < 8; i++) {
      loud[i] = connect_port(g.port);
      if (loud[i] < 0 || write(loud[i], "\x03\xc0\x00\x00", 4) != 4)
        loud[i] = -1, open--;
    }
    for (int j = 0; j < 24 && open > 0; j++) /* all held open at once */
      for (int i = 0; i < 8; i++)
        if (loud[i] >= 0 &&
            write(loud[i], junk, sizeof junk) != (ssize_t)sizeof junk) {
          close(loud[i]);
          loud[i] = -1;
          open--;
        }
    for (int i = 0; i < 8; i++)
      if (loud[i] >= 0) close(loud[i]);
    for (int i = 0; i < 40; i++)
      close(quiet[i]);
    _exit(0);
  }
  int w;
  assert_int_equal(waitpid(pa, &w, 0), pa);
  int fd = connect_port(g.port);
  assert_true(fd >= 0);
  assert_int_equal(fake_join(fd), 0);
  uint8_t junk[4096];
  usleep(100000);
  if (read(fd, junk, sizeof junk) < 0) fail(); /* the TABLE */
  close(fd);
  tu_child_assert_ok(&ch0, "rank 0");
}

/* A rank dies in the middle of the run (after one barrier, its last
 * frames possibly unsent): the others report the lost peer within 10 s
 * instead of hanging. */
static int die_now(gasp_cluster *c, void *arg) {
  (void)arg;
  gasp_error err;
  gasp_cluster_barrier(c, &err);
  _exit(0); /* no goodbye */
}

static int survive(gasp_cluster *c, void *arg) {
  (void)arg;
  gasp_error err;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = GASP_OK;
  for (int i = 0; i < 1000 && rc == GASP_OK; i++)
    rc = gasp_cluster_barrier(c, &err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double dt = (double)(t1.tv_sec - t0.tv_sec) +
              1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  TU_RANK_CHECK_MSG(rc == GASP_EPEER, "barriers: %s: %s", gasp_err_name(rc),
                    rc ? err.msg : "");
  TU_RANK_CHECK_MSG(dt < 10, "the loss noticed after %.1f s", dt);
  /* a survivor may first see the other survivor give up */
  return strstr(err.msg, "peer 2") ? 0 : SAW_OTHER_FIRST;
}

static void test_peer_lost(void **state) {
  (void)state;
  cfg g = {3, 0, -1, NULL, 60, 0};
  rank_fn fns[3] = {survive, survive, die_now};
  tu_child ch[8];
  run_cluster(&g, NULL, fns, NULL, ch);
  assert_int_equal(ch[2].status, 0);
  tu_assert_ranks(ch, 2, SAW_OTHER_FIRST, "peer lost");
  /* someone names the lost peer */
  assert_true(ch[0].status == 0 || ch[1].status == 0);
}

/* Ranks that disagree on the order of their collectives fail at once,
 * saying so, instead of pairing a barrier with an allreduce. */
static int do_barrier(gasp_cluster *c, void *arg) {
  (void)arg;
  gasp_error err;
  int rc = gasp_cluster_barrier(c, &err);
  TU_RANK_CHECK_MSG(rc == GASP_EPEER, "barrier: %s: %s", gasp_err_name(rc),
                    rc ? err.msg : "");
  /* or it saw the other leave */
  return strstr(err.msg, "collective") ? 0 : SAW_OTHER_FIRST;
}

static int do_allreduce(gasp_cluster *c, void *arg) {
  (void)arg;
  gasp_error err;
  double v = 1;
  int rc = gasp_cluster_allreduce(c, &v, 1, GASP_REDUCE_SUM, &err);
  TU_RANK_CHECK_MSG(rc == GASP_EPEER, "allreduce: %s: %s", gasp_err_name(rc),
                    rc ? err.msg : "");
  return strstr(err.msg, "collective") ? 0 : SAW_OTHER_FIRST;
}

static void test_collective_mismatch(void **state) {
  (void)state;
  cfg g = {2, 0, -1, NULL, 10, 0};
  rank_fn fns[2] = {do_barrier, do_allreduce};
  tu_child ch[8];
  run_cluster(&g, NULL, fns, NULL, ch);
  tu_assert_ranks(ch, 2, SAW_OTHER_FIRST, "collective mismatch");
  /* the first to see it says why */
  assert_true(ch[0].status == 0 || ch[1].status == 0);
}

/* A peer that leaves cleanly (BYE, then close) before the next collective:
 * the survivor's collective fails at once with GASP_EPEER naming the peer
 * and saying it left, not "out of memory" (EINVAL) from a send to a closed
 * connection, and not after the timeout. */
static int leave_at_once(gasp_cluster *c, void *arg) {
  (void)c, (void)arg;
  return 0; /* join_and_run frees the cluster: BYE and close */
}

static int collective_after_bye(gasp_cluster *c, void *arg) {
  int allreduce = *(const int *)arg;
  gasp_error err;
  /* run the loop (without waiting on the peer) until its close is seen */
  for (int i = 0; i < 50; i++) {
    gasp__cluster_poll(c);
    usleep(20000);
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  double v = 1;
  int rc = allreduce ? gasp_cluster_allreduce(c, &v, 1, GASP_REDUCE_SUM, &err)
                     : gasp_cluster_barrier(c, &err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double dt = (double)(t1.tv_sec - t0.tv_sec) +
              1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  TU_RANK_CHECK_MSG(rc == GASP_EPEER, "%s: %s: %s",
                    allreduce ? "allreduce" : "barrier", gasp_err_name(rc),
                    rc ? err.msg : "");
  TU_RANK_CHECK_MSG(dt < 5, "failed after %.1f s", dt);
  TU_RANK_CHECK_MSG(strstr(err.msg, "peer 1") && strstr(err.msg, "left"), "%s",
                    err.msg);
  return 0;
}

static void test_collective_after_bye(void **state) {
  (void)state;
  for (int allreduce = 0; allreduce < 2; allreduce++) {
    cfg g = {2, 0, -1, NULL, 30, 0};
    rank_fn fns[2] = {collective_after_bye, leave_at_once};
    tu_child ch[8];
    run_cluster(&g, NULL, fns, &allreduce, ch);
    tu_assert_ranks(ch, 2, 0,
                    allreduce ? "allreduce after BYE" : "barrier after BYE");
  }
}

/* Explicit peer lists (--rank R --peers ...): ports chosen here. */
static void test_peer_list(void **state) {
  (void)state;
  char addrs[3][32];
  const char *peers[3];
  for (int r = 0; r < 3; r++) {
    int port, fd = tu_listen_loopback(&port);
    close(fd); /* free now; the rank binds it again (SO_REUSEADDR) */
    snprintf(addrs[r], sizeof addrs[r], "127.0.0.1:%d", port);
    peers[r] = addrs[r];
  }
  tu_child ch[3];
  for (int r = 0; r < 3; r++) {
    if (tu_child_fork(&ch[r]) == 0) {
      signal(SIGPIPE, SIG_IGN);
      gasp_cluster_opts o;
      gasp_cluster_opts_init(&o);
      o.rank = r;
      o.size = 3;
      o.peers = peers;
      o.key = KEY;
      o.key_len = strlen(KEY);
      o.timeout = 20;
      gasp_cluster *c = NULL;
      gasp_error err;
      if (gasp_cluster_new(&c, &o, &err))
        tu_child_exit(TU_RANK_FAIL("gasp_cluster_new: %s", err.msg));
      double v = r;
      int rc = 0;
      if (gasp_cluster_allreduce(c, &v, 1, GASP_REDUCE_SUM, &err))
        rc = TU_RANK_FAIL("gasp_cluster_allreduce: %s", err.msg);
      else if (v != 3)
        rc = TU_RANK_FAIL("allreduce summed %g, want 3", v);
      gasp_cluster_free(&c);
      tu_child_exit(rc);
    }
  }
  for (int r = 0; r < 3; r++)
    tu_child_wait(&ch[r]);
  tu_assert_ranks(ch, 3, 0, "peer list");
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sha256),
      cmocka_unit_test(test_mp_check),
      cmocka_unit_test(test_data_head),
      cmocka_unit_test(test_cluster_exchange),
      cmocka_unit_test(test_exchange_overlap),
      cmocka_unit_test(test_wrong_key),
      cmocka_unit_test(test_abort_tells_why),
      cmocka_unit_test(test_bad_frames),
      cmocka_unit_test(test_preauth_bounded),
      cmocka_unit_test(test_peer_lost),
      cmocka_unit_test(test_peer_list),
      cmocka_unit_test(test_collective_mismatch),
      cmocka_unit_test(test_collective_after_bye),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
