/*
 * wire.h -- the cluster wire format: length-prefixed msgpack frames.
 *
 * A frame is a 4-byte big-endian length L (1 <= L <= the cluster's
 * maximum frame size) followed by L bytes holding exactly one msgpack
 * array [type, ...].  Every frame is checked by gasp__mp_check() before
 * msgpack-c unpacks it: msgpack-c trusts the element counts of array and
 * map headers and allocates for them, so a header claiming 2^32-1
 * elements in a 10-byte frame must be refused first (every element takes
 * at least one byte, so a count larger than the bytes left is a lie).
 */
#ifndef GASP_WIRE_H
#define GASP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

enum {
  GASP__MSG_HELLO = 1,   /* [1, version, rank, nonce]            acceptor  */
  GASP__MSG_AUTH = 2,    /* [2, rank, mac, nonce]                connector */
  GASP__MSG_AUTH_OK = 3, /* [3, rank, mac]                       acceptor  */
  GASP__MSG_ADDR = 4,    /* [4, rank, host, port]                to rank 0 */
  GASP__MSG_TABLE = 5,   /* [5, [[host, port], ...]]             from rank 0 */
  GASP__MSG_DATA = 6,    /* [6, seq, tag, chunk, last, payload(bin)] */
  GASP__MSG_BYE = 7,     /* [7, rank]                            clean end */
  GASP__MSG_POST = 8,    /* [8, chunk, last, payload(bin)]       one-way   */
  GASP__MSG_ABORT = 9    /* [9, rank, reason(str)]               failed    */
};

#define GASP__WIRE_VERSION 1
#define GASP__NONCE_LEN 32
#define GASP__MAC_LEN 32

/* Checks that buf[0..n) is exactly one well-formed msgpack object, nested
 * at most `max_depth` deep, whose container counts and string, binary and
 * extension lengths all fit in the bytes that remain.  Returns 0, or -1
 * with the reason in why. */
int gasp__mp_check(const uint8_t *buf, size_t n, int max_depth, char *why,
                   size_t whylen);

/* Unpacks a checked frame into `up` (which the caller initialised with
 * msgpack_unpacked_init and destroys); the root must be an array whose
 * first element is a positive integer type.  Returns the type or -1. */
int gasp__frame_unpack(msgpack_unpacked *up, const uint8_t *buf, size_t n,
                       const msgpack_object **items, uint32_t *count);

/* Field readers: 0 on success, -1 when the object is of another kind. */
int gasp__mp_u64(const msgpack_object *o, uint64_t *v);
int gasp__mp_bin(const msgpack_object *o, const uint8_t **p, size_t *n);
int gasp__mp_str(const msgpack_object *o, const char **p, size_t *n);

/* The longest DATA header: fixarray, type, four uint64 (9 bytes each) and
 * a bin32 header. */
#define GASP__DATA_HEAD_MAX (1 + 1 + 4 * 9 + 5)

/* Reads a DATA frame's header from its first `avail` bytes, for a frame
 * of `frame_len` bytes: 0 when they are exactly [6, seq, tag, chunk,
 * last, bin] with the bin's body ending the frame (f receives seq, tag,
 * chunk, last; *head the header's length), -1 otherwise (the frame is
 * then left to the general, checked path). */
int gasp__data_head(const uint8_t *p, size_t avail, size_t frame_len,
                    uint64_t f[4], size_t *head);

/* The HMAC the handshake exchanges: HMAC-SHA-256(key, "gasp1" || nonce ||
 * rank as 8 big-endian bytes). */
void gasp__handshake_mac(const void *key, size_t klen, const uint8_t *nonce,
                         uint64_t rank, uint8_t mac[GASP__MAC_LEN]);

#endif
