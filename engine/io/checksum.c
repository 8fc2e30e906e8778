/*
 * checksum.c -- the 64-bit checksum of snapshots and partition files
 * (an xxHash64-style streaming hash).
 */
#include "internal.h"

#include <string.h>

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static inline uint64_t round64(uint64_t acc, uint64_t in) {
  acc += in * P2;
  acc = gasp__rotl64(acc, 31);
  return acc * P1;
}

static inline uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

void gasp__hash_init(gasp__hash *h, uint64_t seed) {
  h->v[0] = seed + P1 + P2;
  h->v[1] = seed + P2;
  h->v[2] = seed;
  h->v[3] = seed - P1;
  h->total = 0;
  h->used = 0;
}

void gasp__hash_update(gasp__hash *h, const void *data, size_t len) {
  const unsigned char *p = data;
  h->total += len;
  if (h->used) {
    size_t take = 32 - h->used;
    if (take > len) take = len;
    memcpy(h->buf + h->used, p, take);
    h->used += (unsigned)take;
    p += take;
    len -= take;
    if (h->used < 32) return;
    for (int i = 0; i < 4; i++)
      h->v[i] = round64(h->v[i], load64(h->buf + 8 * i));
    h->used = 0;
  }
  uint64_t v0 = h->v[0], v1 = h->v[1], v2 = h->v[2], v3 = h->v[3];
  while (len >= 32) {
    v0 = round64(v0, load64(p));
    v1 = round64(v1, load64(p + 8));
    v2 = round64(v2, load64(p + 16));
    v3 = round64(v3, load64(p + 24));
    p += 32;
    len -= 32;
  }
  h->v[0] = v0;
  h->v[1] = v1;
  h->v[2] = v2;
  h->v[3] = v3;
  if (len) {
    memcpy(h->buf, p, len);
    h->used = (unsigned)len;
  }
}

uint64_t gasp__hash_final(const gasp__hash *h) {
  uint64_t acc = gasp__rotl64(h->v[0], 1) + gasp__rotl64(h->v[1], 7) +
                 gasp__rotl64(h->v[2], 12) + gasp__rotl64(h->v[3], 18);
  for (int i = 0; i < 4; i++) {
    acc ^= round64(0, h->v[i]);
    acc = acc * P1 + P4;
  }
  acc += h->total;
  const unsigned char *p = h->buf;
  unsigned len = h->used;
  while (len >= 8) {
    acc ^= round64(0, load64(p));
    acc = gasp__rotl64(acc, 27) * P1 + P4;
    p += 8;
    len -= 8;
  }
  while (len > 0) {
    acc ^= (*p) * P5;
    acc = gasp__rotl64(acc, 11) * P1;
    p++;
    len--;
  }
  acc ^= acc >> 33;
  acc *= P2;
  acc ^= acc >> 29;
  acc *= P3;
  acc ^= acc >> 32;
  return acc;
}
