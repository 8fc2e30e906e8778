/*
 * cluster_internal.h -- the parts of a cluster (overview
 * below) that its files share: the connection and cluster records and
 * the calls between them.
 *
 *   conn.c        connections and framing: sockets, reading and
 *                 decoding frames, writing them, one-way message
 *                 reassembly, and the deadline-bounded event-loop wait
 *   handshake.c   frames by connection state: HELLO / AUTH / AUTH_OK,
 *                 then the ready connection's inbox
 *   meet.c        meeting: listening, the address table, connecting the
 *                 full mesh; gasp_cluster_new / _free and the accessors
 *   collective.c  collective steps (exchange, allreduce, barrier) and the
 *                 one-way messages of the engines whose ranks do not step
 *                 together
 *
 * A cluster: processes joined in a full mesh over TCP: meeting,
 * authentication, framing and the collective steps the distributed
 * engines are built from (all-to-all exchange, allreduce, barrier).
 *
 * Transport: one TCP connection per peer, TCP_NODELAY; frames are a
 * 4-byte big-endian length and one msgpack array (wire.h).  A libevent
 * bufferevent writes (a collective's payload is referenced by its output
 * buffer, not copied); reading is our own (on_readable: up to 1 MiB per
 * recv straight into the input evbuffer's memory).  A frame's length is
 * checked against max_frame before a byte of it is buffered for decoding.
 * A DATA chunk that is the next one expected in the collective step under
 * way is recognised by its exact header (gasp__data_head) and moved
 * straight into the step's receive buffer; every other frame is walked by
 * gasp__mp_check() before msgpack-c sees it, and queued.  So a payload
 * byte is copied once in user space on each side.  Large payloads go as
 * chunks of at most 1 MiB, and a sender waits while a peer's output
 * buffer is above a high watermark (serving its own input meanwhile, so
 * two ranks sending to each other cannot deadlock).
 *
 * Handshake (every connection): the acceptor sends HELLO with a random
 * 32-byte challenge; the connector answers AUTH with its rank,
 * HMAC(key, challenge, rank) and a challenge of its own; the acceptor
 * checks the MAC and answers AUTH_OK with HMAC(key, that challenge, its
 * rank).  A connection that fails is dropped and counted; the key never
 * crosses the wire.
 *
 * Failure: a peer that closes its connection without BYE, sends a bad
 * frame or stays silent past the timeout ends the cluster's work with
 * GASP_EPEER / GASP_ETIMEDOUT and a message naming the peer.  No call
 * blocks without a deadline.
 */
#ifndef GASP_CLUSTER_INTERNAL_H
#define GASP_CLUSTER_INTERNAL_H

#include "internal.h"
#include "sha256.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define HIGH_WATER ((size_t)16 << 20)
/* Bytes per read or write system call at most (libevent's bufferevents
 * write at most 16 KiB per call unless told otherwise). */
#define IO_MAX ((size_t)1 << 20)
/* Before a connection has authenticated, only the handshake's frames (a
 * few dozen bytes) may come: a larger frame fails it, its input is read a
 * little at a time, at most PREAUTH_PENDING strangers are held at once,
 * and one that has not finished within PREAUTH_SECONDS is dropped.  So
 * connections without the key cost a rank at most a few KiB each. */
#define PREAUTH_FRAME ((size_t)256)
#define PREAUTH_READ ((size_t)1024)
#define PREAUTH_PENDING 64
#define PREAUTH_SECONDS 10.0

enum {
  C_CONNECTING, /* connector: TCP connect under way              */
  C_WAIT_HELLO, /* connector: waiting for the challenge          */
  C_AUTH_SENT,  /* connector: waiting for AUTH_OK                */
  C_HELLO_SENT, /* acceptor: waiting for AUTH                    */
  C_READY,
  C_RETRY, /* connector: connect failed, try again at retry_at */
  C_DEAD
};

typedef struct frame {
  uint8_t *data;
  size_t n;
  struct frame *next;
} frame;

typedef struct conn {
  struct gasp_cluster *c;
  struct bufferevent *bev; /* writes (and the connect) */
  struct event *rev;       /* reads: on_readable into in */
  struct evbuffer *in;
  int rank; /* the peer's rank once known (connector: the target) */
  int state;
  int acceptor;
  int bye;
  double retry_at;
  double since; /* acceptor: when it was accepted */
  uint8_t nonce[GASP__NONCE_LEN];
  frame *head, *tail;
  /* one-way messages (gasp__cluster_post): the one being reassembled and
   * the complete ones, oldest first */
  uint8_t *pbuf;
  size_t plen, pcap;
  uint64_t pnext;
  frame *phead, *ptail;
  struct conn *next; /* all connections */
} conn;

struct gasp_cluster {
  int rank, size;
  struct event_base *base;
  struct evconnlistener *lis;
  conn **peer;
  conn *all;
  uint8_t *key;
  size_t klen, max_frame;
  double timeout;
  uint64_t seq, tag, rejected, sent, received;
  uint64_t direct, queued; /* DATA frames: into rbuf at once, via an inbox */
  int failed;
  gasp_error ferr;
  char refused[160]; /* the last handshake refused, for the timeout */
  char **addr;       /* "host:port" per rank */
  /* exchange state */
  uint8_t **rbuf;
  size_t *rlen, *rcap;
  uint64_t *rnext; /* next chunk expected */
  uint8_t *rdone;
};

/* ---- conn.c ---------------------------------------------------------- */

/* Names rank r (its address when known) for messages. */
const char *gasp__cl_peer_name(const gasp_cluster *c, int r, char *buf,
                               size_t n);
/* A connection went wrong: fatal for an authenticated (or expected) peer,
 * a rejected stranger otherwise. */
void gasp__cl_conn_fail(conn *k, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Closes the socket; frames already received stay in the inboxes. */
void gasp__cl_conn_close(conn *k);
conn *gasp__cl_conn_new(gasp_cluster *c, int acceptor, int rank);
void gasp__cl_tune_socket(evutil_socket_t fd);
void gasp__cl_set_callbacks(conn *k);
int gasp__cl_start_reading(conn *k);
/* The listener's callback: a new connection, sent HELLO. */
void gasp__cl_on_accept(struct evconnlistener *l, evutil_socket_t fd,
                        struct sockaddr *sa, int len, void *arg);
/* "host:port" to an address (numeric or by name). */
int gasp__cl_resolve(const char *hostport, struct sockaddr_storage *ss,
                     socklen_t *len);
int gasp__cl_connect_to(gasp_cluster *c, conn *k);
/* The connection ended (eof) or failed (errno err). */
void gasp__cl_lost(conn *k, int eof, int err);
/* Frames: sb's bytes; with a raw body of n bytes after them (copied, or
 * with `ref` referenced until the output buffer drains); a frame of a
 * type and up to two bins. */
int gasp__cl_send_frame(conn *k, msgpack_sbuffer *sb);
int gasp__cl_send_frame_with(conn *k, msgpack_sbuffer *sb, const void *body,
                             size_t n, int ref);
int gasp__cl_send_simple(conn *k, int type, const uint8_t *bin, size_t n,
                         const uint8_t *bin2, size_t n2);
/* An ABORT frame from `rank` with the first n bytes of `why` in sb
 * (initialised here; the caller destroys it). */
void gasp__cl_pack_abort(msgpack_sbuffer *sb, int rank, const char *why,
                         size_t n);
/* A POST chunk: appended to the message under way. */
void gasp__cl_post_chunk(conn *k, const msgpack_object *it, uint32_t cnt);
/* Room for n more bytes in the step's receive buffer from rank r. */
int gasp__cl_reserve(gasp_cluster *c, int r, size_t n);
/* The oldest frame of k's inbox, or NULL. */
frame *gasp__cl_pop(conn *k);

typedef int (*done_fn)(gasp_cluster *c, void *arg);
/* Runs the event loop until done() or a failure or the cluster's
 * deadline (an error), or -- when `until` > 0 -- until that moment (not
 * an error: a bounded wait).  wait_for: without `until`. */
int gasp__cl_wait_until(gasp_cluster *c, done_fn done, void *arg,
                        const char *what, double until, gasp_error *err);
int gasp__cl_wait_for(gasp_cluster *c, done_fn done, void *arg,
                      const char *what, gasp_error *err);

/* ---- handshake.c ------------------------------------------------------ */

/* One whole frame from k (buf malloc'ed; taken over). */
void gasp__cl_handle_frame(conn *k, uint8_t *buf, size_t n);

/* ---- meet.c ----------------------------------------------------------- */

/* Every output buffer has drained (a done_fn). */
int gasp__cl_flushed(gasp_cluster *c, void *arg);

#endif
