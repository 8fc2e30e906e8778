/*
 * wire.c -- checking and unpacking cluster frames (layout in wire.h).
 */
#include "alloc.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

#include "sha256.h"

static uint64_t be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++)
    v = v << 8 | p[i];
  return v;
}

int gasp__mp_check(const uint8_t *buf, size_t n, int max_depth, char *why,
                   size_t whylen) {
  /* remaining[d]: objects still to read at depth d */
  uint64_t remaining[64];
  if (max_depth < 1) max_depth = 1;
  if (max_depth > 63) max_depth = 63;
  int depth = 0;
  remaining[0] = 1;
  size_t pos = 0;
#define FAIL(...)                                                              \
  do {                                                                         \
    snprintf(why, whylen, __VA_ARGS__);                                        \
    return -1;                                                                 \
  } while (0)
#define NEED(k)                                                                \
  do {                                                                         \
    if (n - pos < (size_t)(k))                                                 \
      FAIL("truncated msgpack object at byte %zu", pos);                       \
  } while (0)
  while (depth >= 0) {
    if (remaining[depth] == 0) {
      depth--;
      continue;
    }
    remaining[depth]--;
    NEED(1);
    uint8_t b = buf[pos++];
    uint64_t len = 0, count = 0;
    int container = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
      continue;
    } else if ((b & 0xf0) == 0x80) {
      count = 2ull * (b & 0x0f), container = 1;
    } else if ((b & 0xf0) == 0x90) {
      count = b & 0x0f, container = 1;
    } else if ((b & 0xe0) == 0xa0) {
      len = b & 0x1f;
    } else {
      switch (b) {
      case 0xc4:
      case 0xd9:
        NEED(1);
        len = be(buf + pos, 1);
        pos += 1;
        break;
      case 0xc5:
      case 0xda:
        NEED(2);
        len = be(buf + pos, 2);
        pos += 2;
        break;
      case 0xc6:
      case 0xdb:
        NEED(4);
        len = be(buf + pos, 4);
        pos += 4;
        break;
      case 0xc7:
        NEED(2);
        len = be(buf + pos, 1) + 1;
        pos += 1;
        break;
      case 0xc8:
        NEED(3);
        len = be(buf + pos, 2) + 1;
        pos += 2;
        break;
      case 0xc9:
        NEED(5);
        len = be(buf + pos, 4) + 1;
        pos += 4;
        break;
      case 0xca:
      case 0xce:
      case 0xd2: len = 4; break;
      case 0xcb:
      case 0xcf:
      case 0xd3: len = 8; break;
      case 0xcc:
      case 0xd0: len = 1; break;
      case 0xcd:
      case 0xd1: len = 2; break;
      case 0xd4: len = 2; break;
      case 0xd5: len = 3; break;
      case 0xd6: len = 5; break;
      case 0xd7: len = 9; break;
      case 0xd8: len = 17; break;
      case 0xdc:
        NEED(2);
        count = be(buf + pos, 2);
        pos += 2;
        container = 1;
        break;
      case 0xdd:
        NEED(4);
        count = be(buf + pos, 4);
        pos += 4;
        container = 1;
        break;
      case 0xde:
        NEED(2);
        count = 2 * be(buf + pos, 2);
        pos += 2;
        container = 1;
        break;
      case 0xdf:
        NEED(4);
        count = 2 * be(buf + pos, 4);
        pos += 4;
        container = 1;
        break;
      default: FAIL("invalid msgpack type byte 0x%02x at byte %zu", b, pos - 1);
      }
    }
    if (container) {
      if (count > n - pos)
        FAIL("msgpack container claims %llu elements with %zu bytes left",
             (unsigned long long)count, n - pos);
      if (count == 0) continue;
      if (depth + 1 >= max_depth)
        FAIL("msgpack nesting deeper than %d", max_depth);
      remaining[++depth] = count;
    } else {
      if (len > n - pos)
        FAIL("msgpack value of %llu bytes with %zu left",
             (unsigned long long)len, n - pos);
      pos += len;
    }
  }
  if (pos != n) FAIL("%zu trailing bytes after the msgpack object", n - pos);
  return 0;
#undef FAIL
#undef NEED
}

int gasp__frame_unpack(msgpack_unpacked *up, const uint8_t *buf, size_t n,
                       const msgpack_object **items, uint32_t *count) {
  size_t off = 0;
  if (msgpack_unpack_next(up, (const char *)buf, n, &off) !=
      MSGPACK_UNPACK_SUCCESS)
    return -1;
  const msgpack_object *o = &up->data;
  if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1) return -1;
  const msgpack_object *t = &o->via.array.ptr[0];
  if (t->type != MSGPACK_OBJECT_POSITIVE_INTEGER || t->via.u64 > 255) return -1;
  *items = o->via.array.ptr;
  *count = o->via.array.size;
  return (int)t->via.u64;
}

/* A msgpack unsigned integer at p[*pos] (positive fixint, uint 8..64). */
static int read_uint(const uint8_t *p, size_t avail, size_t *pos, uint64_t *v) {
  if (*pos >= avail) return -1;
  uint8_t b = p[(*pos)++];
  int n = b <= 0x7f   ? 0
          : b == 0xcc ? 1
          : b == 0xcd ? 2
          : b == 0xce ? 4
          : b == 0xcf ? 8
                      : -1;
  if (n < 0 || avail - *pos < (size_t)n) return -1;
  *v = n ? be(p + *pos, n) : b;
  *pos += (size_t)n;
  return 0;
}

int gasp__data_head(const uint8_t *p, size_t avail, size_t frame_len,
                    uint64_t f[4], size_t *head) {
  size_t pos = 0;
  uint64_t type, body;
  if (avail < 2 || p[pos++] != 0x96 || read_uint(p, avail, &pos, &type) ||
      type != GASP__MSG_DATA)
    return -1;
  for (int i = 0; i < 4; i++)
    if (read_uint(p, avail, &pos, &f[i])) return -1;
  if (pos >= avail) return -1;
  uint8_t b = p[pos++];
  int n = b == 0xc4 ? 1 : b == 0xc5 ? 2 : b == 0xc6 ? 4 : -1;
  if (n < 0 || avail - pos < (size_t)n) return -1;
  body = be(p + pos, n);
  pos += (size_t)n;
  if (pos > frame_len || body != frame_len - pos) return -1;
  *head = pos;
  return 0;
}

int gasp__mp_u64(const msgpack_object *o, uint64_t *v) {
  if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return -1;
  *v = o->via.u64;
  return 0;
}

int gasp__mp_bin(const msgpack_object *o, const uint8_t **p, size_t *n) {
  if (o->type != MSGPACK_OBJECT_BIN) return -1;
  *p = (const uint8_t *)o->via.bin.ptr;
  *n = o->via.bin.size;
  return 0;
}

int gasp__mp_str(const msgpack_object *o, const char **p, size_t *n) {
  if (o->type != MSGPACK_OBJECT_STR) return -1;
  *p = o->via.str.ptr;
  *n = o->via.str.size;
  return 0;
}

void gasp__handshake_mac(const void *key, size_t klen, const uint8_t *nonce,
                         uint64_t rank, uint8_t mac[GASP__MAC_LEN]) {
  uint8_t msg[5 + GASP__NONCE_LEN + 8];
  memcpy(msg, "gasp1", 5);
  memcpy(msg + 5, nonce, GASP__NONCE_LEN);
  for (int i = 0; i < 8; i++)
    msg[5 + GASP__NONCE_LEN + i] = (uint8_t)(rank >> (56 - 8 * i));
  gasp__hmac_sha256(key, klen, msg, sizeof msg, mac);
}
