/*
 * sha256.h -- SHA-256 and HMAC-SHA-256 for the cluster handshake.
 */
#ifndef GASP_SHA256_H
#define GASP_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct gasp__sha256 {
  uint32_t h[8];
  uint64_t len;
  uint8_t buf[64];
  size_t n;
} gasp__sha256;

void gasp__sha256_init(gasp__sha256 *s);
void gasp__sha256_update(gasp__sha256 *s, const void *data, size_t len);
void gasp__sha256_final(gasp__sha256 *s, uint8_t out[32]);
void gasp__hmac_sha256(const void *key, size_t klen, const void *msg,
                       size_t mlen, uint8_t out[32]);
/* Compares in time independent of where the bytes differ. */
int gasp__ct_equal(const void *a, const void *b, size_t n);

#endif
