/*
 * cluster.c -- processes joined in a full mesh over TCP: meeting,
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
  char **addr; /* "host:port" per rank */
  /* exchange state */
  uint8_t **rbuf;
  size_t *rlen, *rcap;
  uint64_t *rnext; /* next chunk expected */
  uint8_t *rdone;
};

static const char *peer_name(const gasp_cluster *c, int r, char *buf,
                             size_t n) {
  if (r >= 0 && c->addr && c->addr[r])
    snprintf(buf, n, "peer %d (%s)", r, c->addr[r]);
  else if (r >= 0)
    snprintf(buf, n, "peer %d", r);
  else
    snprintf(buf, n, "an unauthenticated connection");
  return buf;
}

/* Closes the socket; frames already received stay in the inboxes. */
static void conn_shut(conn *k) {
  if (k->rev) event_free(k->rev);
  if (k->in) evbuffer_free(k->in);
  k->rev = NULL;
  k->in = NULL;
  if (k->bev) bufferevent_free(k->bev);
  k->bev = NULL;
  k->state = C_DEAD;
}

static void conn_close(conn *k) {
  conn_shut(k);
  for (frame *f = k->head, *n; f; f = n) {
    n = f->next;
    free(f->data);
    free(f);
  }
  k->head = k->tail = NULL;
  for (frame *f = k->phead, *n; f; f = n) {
    n = f->next;
    free(f->data);
    free(f);
  }
  k->phead = k->ptail = NULL;
  free(k->pbuf);
  k->pbuf = NULL;
  k->plen = k->pcap = 0;
  k->state = C_DEAD;
}

static void conn_fail(conn *k, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A POST chunk: appended to the message under way; the last one queues
 * it whole.  Chunks come in order on one connection. */
static void post_chunk(conn *k, const msgpack_object *it, uint32_t cnt) {
  uint64_t chunk, last;
  const uint8_t *p;
  size_t n;
  if (cnt != 4 || gasp__mp_u64(&it[1], &chunk) || gasp__mp_u64(&it[2], &last) ||
      gasp__mp_bin(&it[3], &p, &n) || chunk != k->pnext) {
    conn_fail(k, GASP_EPEER, "malformed message");
    return;
  }
  if (k->plen + n > k->pcap) {
    size_t cap = k->pcap ? k->pcap : 4096;
    while (cap < k->plen + n)
      cap *= 2;
    uint8_t *nb = realloc(k->pbuf, cap);
    if (!nb) {
      conn_fail(k, GASP_ENOMEM, "out of memory for a message");
      return;
    }
    k->pbuf = nb;
    k->pcap = cap;
  }
  if (n) memcpy(k->pbuf + k->plen, p, n);
  k->plen += n;
  k->pnext++;
  if (!last) return;
  frame *f = malloc(sizeof *f);
  if (!f) {
    conn_fail(k, GASP_ENOMEM, "out of memory for a message");
    return;
  }
  *f = (frame){k->pbuf, k->plen, NULL};
  k->pbuf = NULL;
  k->plen = k->pcap = 0;
  k->pnext = 0;
  if (k->ptail)
    k->ptail->next = f;
  else
    k->phead = f;
  k->ptail = f;
}

/* A connection went wrong: fatal for an authenticated (or expected) peer,
 * a rejected stranger otherwise. */
static void conn_fail(conn *k, int code, const char *fmt, ...) {
  gasp_cluster *c = k->c;
  int known = k->state == C_READY || !k->acceptor;
  if (known && !c->failed) {
    char who[300], why[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    c->failed = 1;
    gasp__fail(&c->ferr, code, NULL, 0, "rank %d: %s: %s", c->rank,
               peer_name(c, k->rank, who, sizeof who), why);
  }
  if (!known) c->rejected++;
  if (k->rank >= 0 && c->peer[k->rank] == k) c->peer[k->rank] = NULL;
  conn_close(k);
}

static int send_frame(conn *k, msgpack_sbuffer *sb) {
  gasp_cluster *c = k->c;
  if (!k->bev || sb->size > c->max_frame) return GASP_EINVAL;
  uint8_t hdr[4] = {(uint8_t)(sb->size >> 24), (uint8_t)(sb->size >> 16),
                    (uint8_t)(sb->size >> 8), (uint8_t)sb->size};
  struct evbuffer *out = bufferevent_get_output(k->bev);
  if (evbuffer_add(out, hdr, 4) || evbuffer_add(out, sb->data, sb->size))
    return GASP_ENOMEM;
  c->sent += 4 + sb->size;
  return GASP_OK;
}

/* A frame whose msgpack ends with `n` raw bytes (the body of a bin the
 * header already announced): copied into the output buffer, or with
 * `ref` referenced there (then the caller keeps body unchanged until the
 * output buffer has drained). */
static int send_frame_with(conn *k, msgpack_sbuffer *sb, const void *body,
                           size_t n, int ref) {
  gasp_cluster *c = k->c;
  size_t total = sb->size + n;
  if (!k->bev || total > c->max_frame) return GASP_EINVAL;
  uint8_t hdr[4] = {(uint8_t)(total >> 24), (uint8_t)(total >> 16),
                    (uint8_t)(total >> 8), (uint8_t)total};
  struct evbuffer *out = bufferevent_get_output(k->bev);
  if (evbuffer_add(out, hdr, 4) || evbuffer_add(out, sb->data, sb->size) ||
      (n && (ref ? evbuffer_add_reference(out, body, n, NULL, NULL)
                 : evbuffer_add(out, body, n))))
    return GASP_ENOMEM;
  c->sent += 4 + total;
  return GASP_OK;
}

static void pack_nonce_frame(msgpack_packer *pk, int type, uint64_t a,
                             const uint8_t *bin, size_t n, const uint8_t *bin2,
                             size_t n2, int items) {
  msgpack_pack_array(pk, (size_t)items);
  msgpack_pack_uint64(pk, (uint64_t)type);
  if (type == GASP__MSG_HELLO) msgpack_pack_uint64(pk, GASP__WIRE_VERSION);
  msgpack_pack_uint64(pk, a);
  if (bin) {
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, bin, n);
  }
  if (bin2) {
    msgpack_pack_bin(pk, n2);
    msgpack_pack_bin_body(pk, bin2, n2);
  }
}

static int send_simple(conn *k, int type, const uint8_t *bin, size_t n,
                       const uint8_t *bin2, size_t n2) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  int items = 2 + (type == GASP__MSG_HELLO) + (bin != NULL) + (bin2 != NULL);
  pack_nonce_frame(&pk, type, (uint64_t)k->c->rank, bin, n, bin2, n2, items);
  int rc = send_frame(k, &sb);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

/* ---- the handshake -------------------------------------------------- */

static void handle_frame(conn *k, uint8_t *buf, size_t n) {
  gasp_cluster *c = k->c;
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  const msgpack_object *it = NULL;
  uint32_t cnt = 0;
  int type = gasp__frame_unpack(&up, buf, n, &it, &cnt);
  uint64_t r = 0, ver = 0;
  const uint8_t *p1 = NULL, *p2 = NULL;
  size_t n1 = 0, n2 = 0;
  uint8_t mac[GASP__MAC_LEN];
  if (type < 0) {
    conn_fail(k, GASP_EPEER, "malformed frame");
    goto out;
  }
  if (k->state == C_WAIT_HELLO) {
    if (type != GASP__MSG_HELLO || cnt != 4 || gasp__mp_u64(&it[1], &ver) ||
        gasp__mp_u64(&it[2], &r) || gasp__mp_bin(&it[3], &p1, &n1) ||
        n1 != GASP__NONCE_LEN) {
      conn_fail(k, GASP_EPEER, "expected a HELLO frame");
    } else if (ver != GASP__WIRE_VERSION || r != (uint64_t)k->rank) {
      conn_fail(k, GASP_EPEER, "speaks wire version %llu as rank %llu",
                (unsigned long long)ver, (unsigned long long)r);
    } else {
      gasp__handshake_mac(c->key, c->klen, p1, (uint64_t)c->rank, mac);
      if (getrandom(k->nonce, GASP__NONCE_LEN, 0) != GASP__NONCE_LEN)
        conn_fail(k, GASP_EIO, "no random bytes for a challenge");
      else if (send_simple(k, GASP__MSG_AUTH, mac, GASP__MAC_LEN, k->nonce,
                           GASP__NONCE_LEN))
        conn_fail(k, GASP_ENOMEM, "out of memory");
      else
        k->state = C_AUTH_SENT;
    }
  } else if (k->state == C_HELLO_SENT) {
    uint8_t want[GASP__MAC_LEN];
    if (type != GASP__MSG_AUTH || cnt != 4 || gasp__mp_u64(&it[1], &r) ||
        gasp__mp_bin(&it[2], &p1, &n1) || n1 != GASP__MAC_LEN ||
        gasp__mp_bin(&it[3], &p2, &n2) || n2 != GASP__NONCE_LEN ||
        r >= (uint64_t)c->size || r == (uint64_t)c->rank || c->peer[r]) {
      conn_fail(k, GASP_EAUTH, "bad AUTH frame");
    } else {
      gasp__handshake_mac(c->key, c->klen, k->nonce, r, want);
      if (!gasp__ct_equal(want, p1, GASP__MAC_LEN)) {
        conn_fail(k, GASP_EAUTH, "wrong cluster key");
      } else {
        gasp__handshake_mac(c->key, c->klen, p2, (uint64_t)c->rank, mac);
        k->rank = (int)r;
        if (send_simple(k, GASP__MSG_AUTH_OK, mac, GASP__MAC_LEN, NULL, 0)) {
          conn_fail(k, GASP_ENOMEM, "out of memory");
        } else {
          k->state = C_READY;
          c->peer[r] = k;
        }
      }
    }
  } else if (k->state == C_AUTH_SENT) {
    uint8_t want[GASP__MAC_LEN];
    gasp__handshake_mac(c->key, c->klen, k->nonce, (uint64_t)k->rank, want);
    if (type != GASP__MSG_AUTH_OK || cnt != 3 || gasp__mp_u64(&it[1], &r) ||
        gasp__mp_bin(&it[2], &p1, &n1) || n1 != GASP__MAC_LEN ||
        r != (uint64_t)k->rank || !gasp__ct_equal(want, p1, GASP__MAC_LEN)) {
      conn_fail(k, GASP_EAUTH, "authentication failed (wrong cluster key?)");
    } else {
      k->state = C_READY;
      c->peer[k->rank] = k;
    }
  } else if (k->state == C_READY) {
    if (type == GASP__MSG_BYE) {
      k->bye = 1;
    } else if (type == GASP__MSG_POST) {
      post_chunk(k, it, cnt);
    } else {
      frame *f = malloc(sizeof *f);
      if (!f) {
        conn_fail(k, GASP_ENOMEM, "out of memory");
        goto out;
      }
      *f = (frame){buf, n, NULL};
      buf = NULL; /* the inbox owns it */
      c->queued += type == GASP__MSG_DATA;
      if (k->tail)
        k->tail->next = f;
      else
        k->head = f;
      k->tail = f;
    }
  } else {
    conn_fail(k, GASP_EPEER, "frame in an unexpected state");
  }
out:
  msgpack_unpacked_destroy(&up);
  free(buf);
}

/* Room for n more bytes in the step's receive buffer from rank r. */
static int reserve(gasp_cluster *c, int r, size_t n) {
  if (c->rlen[r] + n <= c->rcap[r]) return 0;
  size_t cap = c->rcap[r] ? c->rcap[r] : 4096;
  while (cap < c->rlen[r] + n)
    cap *= 2;
  uint8_t *nb = realloc(c->rbuf[r], cap);
  if (!nb) return -1;
  c->rbuf[r] = nb;
  c->rcap[r] = cap;
  return 0;
}

/* The frame of L bytes at the front of k->in, when it is the next DATA
 * chunk of the collective step under way from this peer (and no frame of
 * the peer waits in the inbox before it), goes straight from the input
 * buffer into the step's receive buffer: no allocation, one copy.
 * Returns 1 then; 0 leaves the frame to the checked path (step_done()),
 * which also reports whatever is wrong with it. */
static int take_data(conn *k, size_t L) {
  gasp_cluster *c = k->c;
  int r = k->rank;
  if (k->state != C_READY || k->head || !c->rdone || r < 0 || r >= c->size ||
      c->peer[r] != k || c->rdone[r])
    return 0;
  uint8_t hb[4 + GASP__DATA_HEAD_MAX];
  ev_ssize_t got = evbuffer_copyout(k->in, hb, sizeof hb);
  if (got < 4) return 0;
  size_t avail = (size_t)got - 4 < L ? (size_t)got - 4 : L, head;
  uint64_t f[4]; /* seq, tag, chunk, last */
  if (gasp__data_head(hb + 4, avail, L, f, &head) || f[0] != c->seq ||
      f[1] != c->tag || f[2] != c->rnext[r] || reserve(c, r, L - head))
    return 0;
  evbuffer_drain(k->in, 4 + head);
  evbuffer_remove(k->in, c->rbuf[r] + c->rlen[r], L - head);
  c->rlen[r] += L - head;
  c->rnext[r]++;
  if (f[3]) c->rdone[r] = 1;
  c->received += 4 + L;
  c->direct++;
  return 1;
}

/* Decodes the whole frames at the front of k->in. */
static void take_frames(conn *k) {
  gasp_cluster *c = k->c;
  struct evbuffer *in = k->in;
  while (k->state != C_DEAD) {
    size_t avail = evbuffer_get_length(in);
    if (avail < 4) break;
    uint8_t hdr[4];
    evbuffer_copyout(in, hdr, 4);
    size_t L = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
               (size_t)hdr[2] << 8 | hdr[3];
    if (L == 0 || L > c->max_frame) {
      conn_fail(k, GASP_EPEER, "frame of %zu bytes (the maximum is %zu)", L,
                c->max_frame);
      return;
    }
    if (avail < 4 + L) break;
    if (take_data(k, L)) continue;
    uint8_t *buf = malloc(L);
    if (!buf) {
      conn_fail(k, GASP_ENOMEM, "out of memory for a %zu-byte frame", L);
      return;
    }
    evbuffer_drain(in, 4);
    evbuffer_remove(in, buf, L);
    c->received += 4 + L;
    char why[200];
    if (gasp__mp_check(buf, L, 16, why, sizeof why)) {
      free(buf);
      conn_fail(k, GASP_EPEER, "bad frame: %s", why);
      return;
    }
    handle_frame(k, buf, L);
  }
}

/* The connection ended (eof) or failed (errno err): quietly after BYE,
 * a retry while connecting, an error otherwise. */
static void lost(conn *k, int eof, int err) {
  if (k->state == C_CONNECTING) { /* not listening yet: try again */
    conn_close(k);
    k->state = C_RETRY;
    k->retry_at = gasp__now() + 0.05;
    return;
  }
  if (k->bye) { /* its last frames (a step's data, posts) are still due */
    conn_shut(k);
    return;
  }
  size_t left = k->in ? evbuffer_get_length(k->in) : 0;
  if (k->state == C_WAIT_HELLO || k->state == C_AUTH_SENT)
    conn_fail(k, GASP_EAUTH,
              "connection closed during the handshake (wrong "
              "cluster key?)");
  else if (eof)
    conn_fail(k, GASP_EPEER,
              left ? "connection closed in the middle of a frame"
                   : "connection closed (process lost?)");
  else
    conn_fail(k, GASP_EPEER, "connection error: %s", strerror(err));
}

/* The socket is readable.  Reading is ours, not the bufferevent's:
 * libevent 2.1 reads at most 4 KiB per call and per loop turn, so a
 * payload of 64 MiB cost 16 K turns of the loop (three system calls
 * each).  Here one turn reads up to READ_TURN bytes in IO_MAX pieces,
 * straight into the input buffer's own memory, then decodes the frames. */
#define READ_TURN ((size_t)8 << 20)

static void on_readable(evutil_socket_t fd, short what, void *arg) {
  conn *k = arg;
  (void)what;
  int eof = 0, err = 0;
  for (size_t got = 0; got < READ_TURN;) {
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(k->in, IO_MAX, &v, 1) < 1) {
      conn_fail(k, GASP_ENOMEM, "out of memory for input");
      return;
    }
    ssize_t n = recv(fd, v.iov_base, v.iov_len, MSG_DONTWAIT);
    if (n > 0) {
      v.iov_len = (size_t)n;
      evbuffer_commit_space(k->in, &v, 1);
      got += (size_t)n;
      if ((size_t)n < IO_MAX) break; /* the socket is drained */
      continue;
    }
    evbuffer_commit_space(k->in, NULL, 0);
    if (n == 0)
      eof = 1;
    else if (errno == EINTR)
      continue;
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
      err = errno;
    break;
  }
  take_frames(k);
  if (k->state != C_DEAD && (eof || err)) lost(k, eof, err);
}

/* Reading starts once the socket is connected. */
static int start_reading(conn *k) {
  evutil_socket_t fd = bufferevent_getfd(k->bev);
  k->in = evbuffer_new();
  k->rev = k->in
               ? event_new(k->c->base, fd, EV_READ | EV_PERSIST, on_readable, k)
               : NULL;
  return !k->rev || event_add(k->rev, NULL) ? -1 : 0;
}

/* Events of the bufferevent, which only writes: the connection made, or a
 * write that failed. */
static void on_event(struct bufferevent *bev, short what, void *arg) {
  conn *k = arg;
  (void)bev;
  if (what & BEV_EVENT_CONNECTED) {
    k->state = C_WAIT_HELLO;
    if (start_reading(k)) conn_fail(k, GASP_ENOMEM, "out of memory");
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
    lost(k, !!(what & BEV_EVENT_EOF), EVUTIL_SOCKET_ERROR());
}

static void tune_socket(evutil_socket_t fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void set_callbacks(conn *k) {
  bufferevent_set_max_single_write(k->bev, (ev_ssize_t)IO_MAX);
  bufferevent_setcb(k->bev, NULL, NULL, on_event, k);
  bufferevent_enable(k->bev, EV_WRITE);
}

static conn *conn_new(gasp_cluster *c, int acceptor, int rank) {
  conn *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  k->c = c;
  k->acceptor = acceptor;
  k->rank = rank;
  k->next = c->all;
  c->all = k;
  return k;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int len, void *arg) {
  gasp_cluster *c = arg;
  (void)l, (void)sa, (void)len;
  tune_socket(fd);
  conn *k = conn_new(c, 1, -1);
  if (!k) {
    close(fd);
    return;
  }
  k->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!k->bev || getrandom(k->nonce, GASP__NONCE_LEN, 0) != GASP__NONCE_LEN) {
    if (!k->bev) close(fd);
    conn_close(k);
    return;
  }
  set_callbacks(k);
  k->state = C_HELLO_SENT;
  if (start_reading(k)) {
    conn_close(k);
    return;
  }
  if (send_simple(k, GASP__MSG_HELLO, k->nonce, GASP__NONCE_LEN, NULL, 0))
    conn_close(k);
}

/* ---- addresses -------------------------------------------------------- */

static int resolve(const char *hostport, struct sockaddr_storage *ss,
                   socklen_t *len) {
  const char *colon = strrchr(hostport, ':');
  if (!colon || colon == hostport || !colon[1]) return -1;
  char host[256];
  size_t hl = (size_t)(colon - hostport);
  if (hl >= sizeof host) return -1;
  memcpy(host, hostport, hl);
  host[hl] = '\0';
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, colon + 1, &hints, &res) || !res) return -1;
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  *len = (socklen_t)res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

static int connect_to(gasp_cluster *c, conn *k) {
  struct sockaddr_storage ss;
  socklen_t len;
  if (resolve(c->addr[k->rank], &ss, &len)) return GASP_EINVAL;
  k->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
  if (!k->bev) return GASP_ENOMEM;
  set_callbacks(k);
  k->state = C_CONNECTING;
  if (bufferevent_socket_connect(k->bev, (struct sockaddr *)&ss, (int)len) <
      0) {
    conn_close(k);
    k->state = C_RETRY;
    k->retry_at = gasp__now() + 0.05;
    return GASP_OK;
  }
  evutil_socket_t fd = bufferevent_getfd(k->bev);
  if (fd >= 0) tune_socket(fd);
  return GASP_OK;
}

/* ---- waiting ---------------------------------------------------------- */

typedef int (*done_fn)(gasp_cluster *c, void *arg);

/* Runs the event loop until done() or a failure or the cluster's
 * deadline (an error), or -- when `until` > 0 -- until that moment (not
 * an error: a bounded wait). */
static int wait_until(gasp_cluster *c, done_fn done, void *arg,
                      const char *what, double until, gasp_error *err) {
  double deadline = gasp__now() + c->timeout;
  for (;;) {
    if (c->failed) {
      if (err) *err = c->ferr;
      return c->ferr.code;
    }
    if (done(c, arg)) return GASP_OK;
    double now = gasp__now();
    if (until > 0 && now >= until) return GASP_OK;
    if (now > deadline) {
      char who[64] = "";
      for (int r = 0; r < c->size && !who[0]; r++)
        if (r != c->rank && (!c->peer[r] || (c->rdone && !c->rdone[r])))
          snprintf(who, sizeof who, " (peer %d among those missing)", r);
      c->failed = 1;
      gasp__fail(&c->ferr, GASP_ETIMEDOUT, NULL, 0,
                 "rank %d: timed out after %.0f s waiting for %s%s", c->rank,
                 c->timeout, what, who);
      if (err) *err = c->ferr;
      return GASP_ETIMEDOUT;
    }
    for (conn *k = c->all; k; k = k->next)
      if (k->state == C_RETRY && now >= k->retry_at) {
        int rc = connect_to(c, k);
        if (rc)
          return gasp__fail(err, rc, NULL, 0, "cannot connect to peer %d",
                            k->rank);
      }
    double slice = until > 0 && until - now < 0.02 ? until - now : 0.02;
    struct timeval tv = {0, (suseconds_t)(slice * 1e6) + 1};
    event_base_loopexit(c->base, &tv);
    event_base_loop(c->base, EVLOOP_ONCE);
  }
}

static int wait_for(gasp_cluster *c, done_fn done, void *arg, const char *what,
                    gasp_error *err) {
  return wait_until(c, done, arg, what, 0, err);
}

static int all_ready(gasp_cluster *c, void *arg) {
  (void)arg;
  for (int r = 0; r < c->size; r++)
    if (r != c->rank && (!c->peer[r] || c->peer[r]->state != C_READY)) return 0;
  return 1;
}

static int one_ready(gasp_cluster *c, void *arg) {
  int r = *(int *)arg;
  return c->peer[r] && c->peer[r]->state == C_READY;
}

static frame *pop(conn *k) {
  frame *f = k->head;
  if (f) {
    k->head = f->next;
    if (!k->head) k->tail = NULL;
  }
  return f;
}

/* ---- meeting ------------------------------------------------------------ */

static int listen_on(gasp_cluster *c, int fd, const char *hostport, char *bound,
                     size_t blen, gasp_error *err) {
  if (fd < 0) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (resolve(hostport, &ss, &len))
      return gasp__fail(err, GASP_EINVAL, NULL, 0, "rank %d: bad address '%s'",
                        c->rank, hostport);
    c->lis = evconnlistener_new_bind(c->base, on_accept, c,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                     64, (struct sockaddr *)&ss, (int)len);
    if (!c->lis)
      return gasp__fail(err, GASP_EIO, NULL, 0,
                        "rank %d: cannot listen on %s: %s", c->rank, hostport,
                        strerror(errno));
  } else {
    evutil_make_socket_nonblocking(fd);
    c->lis =
        evconnlistener_new(c->base, on_accept, c,
                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1, fd);
    if (!c->lis)
      return gasp__fail(err, GASP_EIO, NULL, 0, "cannot use listen_fd");
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  evutil_socket_t lfd = evconnlistener_get_fd(c->lis);
  char host[128] = "?";
  int port = 0;
  if (getsockname(lfd, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      port = ntohs(a->sin6_port);
    }
  }
  snprintf(bound, blen, "%s:%d", host, port);
  return GASP_OK;
}

static int addr_set(gasp_cluster *c, int r, const char *s, size_t n) {
  free(c->addr[r]);
  c->addr[r] = malloc(n + 1);
  if (!c->addr[r]) return GASP_ENOMEM;
  memcpy(c->addr[r], s, n);
  c->addr[r][n] = '\0';
  return GASP_OK;
}

static int all_addrs(gasp_cluster *c, void *arg) {
  (void)arg;
  for (int r = 1; r < c->size; r++) {
    conn *k = c->peer[r];
    if (!k || k->state != C_READY) return 0;
    frame *f;
    while (!c->addr[r] && (f = pop(k))) {
      msgpack_unpacked up;
      msgpack_unpacked_init(&up);
      const msgpack_object *it;
      uint32_t cnt;
      const char *s;
      size_t n;
      uint64_t rr;
      int t = gasp__frame_unpack(&up, f->data, f->n, &it, &cnt);
      if (t != GASP__MSG_ADDR || cnt != 3 || gasp__mp_u64(&it[1], &rr) ||
          rr != (uint64_t)r || gasp__mp_str(&it[2], &s, &n) || n == 0 ||
          n > 255)
        conn_fail(k, GASP_EPEER, "expected its address");
      else if (addr_set(c, r, s, n))
        conn_fail(k, GASP_ENOMEM, "out of memory");
      msgpack_unpacked_destroy(&up);
      free(f->data);
      free(f);
    }
    if (!c->addr[r]) return 0;
  }
  return 1;
}

static int got_table(gasp_cluster *c, void *arg) {
  (void)arg;
  conn *k = c->peer[0];
  frame *f = k ? pop(k) : NULL;
  if (!f) return 0;
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  const msgpack_object *it;
  uint32_t cnt;
  int t = gasp__frame_unpack(&up, f->data, f->n, &it, &cnt);
  int ok = t == GASP__MSG_TABLE && cnt == 2 &&
           it[1].type == MSGPACK_OBJECT_ARRAY &&
           it[1].via.array.size == (uint32_t)c->size;
  for (int r = 0; ok && r < c->size; r++) {
    const char *s;
    size_t n;
    ok = !gasp__mp_str(&it[1].via.array.ptr[r], &s, &n) && n > 0 && n < 256 &&
         addr_set(c, r, s, n) == GASP_OK;
  }
  msgpack_unpacked_destroy(&up);
  free(f->data);
  free(f);
  if (!ok) conn_fail(k, GASP_EPEER, "bad address table");
  return ok;
}

static int meet(gasp_cluster *c, const gasp_cluster_opts *o, gasp_error *err) {
  char bound[300];
  int rc;
  if (o->peers) {
    for (int r = 0; r < c->size; r++)
      if ((rc = addr_set(c, r, o->peers[r], strlen(o->peers[r]))))
        return gasp__fail(err, rc, NULL, 0, "out of memory");
    if ((rc = listen_on(c, -1, o->peers[c->rank], bound, sizeof bound, err)))
      return rc;
  } else {
    if (!o->coordinator && !(c->rank == 0 && o->listen_fd >= 0))
      return gasp__fail(err, GASP_EINVAL, NULL, 0, "no coordinator address");
    if (c->rank == 0) {
      if ((rc = listen_on(c, o->listen_fd, o->coordinator, bound, sizeof bound,
                          err)))
        return rc;
      if ((rc = addr_set(c, 0, bound, strlen(bound))))
        return gasp__fail(err, rc, NULL, 0, "out of memory");
      if ((rc = wait_for(c, all_addrs, NULL, "every rank to report its address",
                         err)))
        return rc;
      msgpack_sbuffer sb;
      msgpack_sbuffer_init(&sb);
      msgpack_packer pk;
      msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
      msgpack_pack_array(&pk, 2);
      msgpack_pack_uint64(&pk, GASP__MSG_TABLE);
      msgpack_pack_array(&pk, (size_t)c->size);
      for (int r = 0; r < c->size; r++) {
        msgpack_pack_str(&pk, strlen(c->addr[r]));
        msgpack_pack_str_body(&pk, c->addr[r], strlen(c->addr[r]));
      }
      for (int r = 1; r < c->size; r++)
        send_frame(c->peer[r], &sb);
      msgpack_sbuffer_destroy(&sb);
      return GASP_OK; /* everyone connects to rank 0 first, then upwards */
    }
    char lis[300];
    snprintf(lis, sizeof lis, "%s:0",
             o->bind_host ? o->bind_host : "127.0.0.1");
    if ((rc = listen_on(c, -1, lis, bound, sizeof bound, err))) return rc;
    if ((rc = addr_set(c, 0, o->coordinator, strlen(o->coordinator))))
      return gasp__fail(err, rc, NULL, 0, "out of memory");
    conn *k = conn_new(c, 0, 0);
    if (!k || (rc = connect_to(c, k)))
      return gasp__fail(err, GASP_ENOMEM, NULL, 0, "cannot connect to rank 0");
    int zero = 0;
    if ((rc = wait_for(c, one_ready, &zero, "the coordinator (rank 0)", err)))
      return rc;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint64(&pk, GASP__MSG_ADDR);
    msgpack_pack_uint64(&pk, (uint64_t)c->rank);
    msgpack_pack_str(&pk, strlen(bound));
    msgpack_pack_str_body(&pk, bound, strlen(bound));
    rc = send_frame(k, &sb);
    msgpack_sbuffer_destroy(&sb);
    if (rc) return gasp__fail(err, rc, NULL, 0, "out of memory");
    if ((rc = wait_for(c, got_table, NULL, "the address table from rank 0",
                       err)))
      return rc;
  }
  /* connect to every lower rank not yet connected */
  for (int r = 0; r < c->rank; r++) {
    if (c->peer[r]) continue;
    conn *k = conn_new(c, 0, r);
    if (!k || (rc = connect_to(c, k)))
      return gasp__fail(err, GASP_ENOMEM, NULL, 0, "cannot connect to peer %d",
                        r);
  }
  return GASP_OK;
}

/* ---- public ------------------------------------------------------------- */

void gasp_cluster_opts_init(gasp_cluster_opts *o) {
  memset(o, 0, sizeof *o);
  o->listen_fd = -1;
}

int gasp_cluster_new(gasp_cluster **out, const gasp_cluster_opts *o,
                     gasp_error *err) {
  *out = NULL;
  gasp__error_clear(err);
  if (!o || o->size < 1 || o->rank < 0 || o->rank >= o->size)
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "rank must be within 0 .. size-1");
  if (!o->key || o->key_len < 8)
    return gasp__fail(err, GASP_EINVAL, NULL, 0,
                      "a cluster key of at least 8 bytes is required");
  gasp_cluster *c = calloc(1, sizeof *c);
  if (!c) return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  c->rank = o->rank;
  c->size = o->size;
  c->max_frame = o->max_frame ? o->max_frame : (size_t)64 << 20;
  if (c->max_frame < 256) c->max_frame = 256;
  if (c->max_frame > 0xffffffffu) c->max_frame = 0xffffffffu;
  c->timeout = o->timeout > 0 ? o->timeout : 60;
  c->peer = calloc((size_t)c->size, sizeof *c->peer);
  c->addr = calloc((size_t)c->size, sizeof *c->addr);
  c->key = malloc(o->key_len);
  c->rbuf = calloc((size_t)c->size, sizeof *c->rbuf);
  c->rlen = calloc((size_t)c->size, sizeof *c->rlen);
  c->rcap = calloc((size_t)c->size, sizeof *c->rcap);
  c->rnext = calloc((size_t)c->size, sizeof *c->rnext);
  c->base = event_base_new();
  int rc = GASP_ENOMEM;
  if (!c->peer || !c->addr || !c->key || !c->rbuf || !c->rlen || !c->rcap ||
      !c->rnext || !c->base) {
    gasp__fail(err, rc, NULL, 0, "out of memory");
    goto fail;
  }
  memcpy(c->key, o->key, o->key_len);
  c->klen = o->key_len;
  if (c->size > 1) {
    if ((rc = meet(c, o, err))) goto fail;
    if ((rc = wait_for(c, all_ready, NULL, "every peer to connect", err)))
      goto fail;
  }
  if (c->lis) { /* the mesh is complete: nobody else may join */
    evconnlistener_free(c->lis);
    c->lis = NULL;
  }
  for (conn *k = c->all; k; k = k->next) /* strangers still mid-handshake */
    if (k->state != C_READY && k->state != C_DEAD) {
      c->rejected++;
      conn_close(k);
    }
  *out = c;
  return GASP_OK;
fail:
  gasp_cluster_free(&c);
  return rc;
}

static int flushed(gasp_cluster *c, void *arg) {
  (void)arg;
  for (int r = 0; r < c->size; r++) {
    conn *k = c->peer[r];
    if (k && k->bev && evbuffer_get_length(bufferevent_get_output(k->bev)))
      return 0;
  }
  return 1;
}

void gasp_cluster_free(gasp_cluster **cp) {
  if (!cp || !*cp) return;
  gasp_cluster *c = *cp;
  if (c->base && !c->failed) {
    for (int r = 0; r < c->size; r++)
      if (c->peer && c->peer[r])
        send_simple(c->peer[r], GASP__MSG_BYE, NULL, 0, NULL, 0);
    double t = c->timeout;
    c->timeout = 5;
    wait_for(c, flushed, NULL, "goodbyes to drain", NULL);
    c->timeout = t;
  }
  for (conn *k = c->all, *n; k; k = n) {
    n = k->next;
    conn_close(k);
    free(k);
  }
  if (c->lis) evconnlistener_free(c->lis);
  if (c->base) event_base_free(c->base);
  if (c->addr)
    for (int r = 0; r < c->size; r++)
      free(c->addr[r]);
  if (c->rbuf)
    for (int r = 0; r < c->size; r++)
      free(c->rbuf[r]);
  free(c->addr);
  free(c->rbuf);
  free(c->rlen);
  free(c->rcap);
  free(c->rnext);
  free(c->rdone);
  free(c->peer);
  free(c->key);
  free(c);
  *cp = NULL;
}

int gasp_cluster_rank(const gasp_cluster *c) { return c->rank; }
int gasp_cluster_size(const gasp_cluster *c) { return c->size; }
uint64_t gasp_cluster_rejected(const gasp_cluster *c) { return c->rejected; }
void gasp_cluster_traffic(const gasp_cluster *c, uint64_t *sent,
                          uint64_t *received) {
  if (sent) *sent = c->sent;
  if (received) *received = c->received;
}

/* ---- collectives ----------------------------------------------------------
 */

/* What a collective is, carried in every DATA frame so that ranks that
 * disagree on the order of their collectives fail at once instead of
 * pairing one step's data with another's. */
enum { TAG_EXCHANGE = 1, TAG_ALLREDUCE = 2, TAG_BARRIER = 3 };

static const char *tag_name(uint64_t tag) {
  switch (tag >> 32) {
  case TAG_EXCHANGE: return "an exchange";
  case TAG_ALLREDUCE: return "an allreduce";
  case TAG_BARRIER: return "a barrier";
  }
  return "an unknown step";
}

/* Moves the DATA chunks of the current step from the inboxes into rbuf. */
static int step_done(gasp_cluster *c, void *arg) {
  (void)arg;
  int all = 1;
  for (int r = 0; r < c->size; r++) {
    if (r == c->rank || c->rdone[r]) continue;
    conn *k = c->peer[r];
    frame *f;
    while (k && !c->rdone[r] && (f = pop(k))) {
      msgpack_unpacked up;
      msgpack_unpacked_init(&up);
      const msgpack_object *it;
      uint32_t cnt;
      uint64_t seq, chunk, last, tag = 0;
      const uint8_t *p;
      size_t n;
      int t = gasp__frame_unpack(&up, f->data, f->n, &it, &cnt);
      int bad = t != GASP__MSG_DATA || cnt != 6 || gasp__mp_u64(&it[1], &seq) ||
                gasp__mp_u64(&it[2], &tag) || gasp__mp_u64(&it[3], &chunk) ||
                gasp__mp_u64(&it[4], &last) || gasp__mp_bin(&it[5], &p, &n) ||
                seq != c->seq || chunk != c->rnext[r];
      if (!bad && tag != c->tag) {
        msgpack_unpacked_destroy(&up);
        free(f->data);
        free(f);
        conn_fail(k, GASP_EPEER,
                  "is in another collective at step %llu (%s, this rank %s): "
                  "the ranks called collectives in different orders",
                  (unsigned long long)c->seq, tag_name(tag), tag_name(c->tag));
        return 0;
      }
      if (!bad && reserve(c, r, n)) bad = 2;
      if (!bad) {
        if (n) memcpy(c->rbuf[r] + c->rlen[r], p, n);
        c->rlen[r] += n;
        c->rnext[r]++;
        if (last) c->rdone[r] = 1;
      }
      msgpack_unpacked_destroy(&up);
      free(f->data);
      free(f);
      if (bad) {
        conn_fail(k, bad == 2 ? GASP_ENOMEM : GASP_EPEER,
                  bad == 2 ? "out of memory" : "unexpected frame in step %llu",
                  (unsigned long long)c->seq);
        return 0;
      }
    }
    if (!c->rdone[r] && (!k || k->state == C_DEAD)) {
      c->failed = 1;
      gasp__fail(&c->ferr, GASP_EPEER, NULL, 0,
                 "rank %d: peer %d left the cluster in the middle of step %llu",
                 c->rank, r, (unsigned long long)c->seq);
      return 0;
    }
    if (!c->rdone[r]) all = 0;
  }
  return all;
}

static int below_water(gasp_cluster *c, void *arg) {
  conn *k = arg;
  return !k->bev ||
         evbuffer_get_length(bufferevent_get_output(k->bev)) < HIGH_WATER / 2;
}

static int exchange(gasp_cluster *c, uint64_t tag, const void *const *send,
                    const size_t *send_len, const void **recv, size_t *recv_len,
                    gasp_error *err);

int gasp_cluster_exchange(gasp_cluster *c, const void *const *send,
                          const size_t *send_len, const void **recv,
                          size_t *recv_len, gasp_error *err) {
  return exchange(c, (uint64_t)TAG_EXCHANGE << 32, send, send_len, recv,
                  recv_len, err);
}

/* Sends len bytes to k as frames of at most 1 MiB (the receiver decodes
 * one while the next is on the wire, and buffers stay small): DATA frames
 * of the current collective step, or POST frames.  The header goes
 * through msgpack; the payload of DATA frames is referenced by the output
 * buffer, not copied (exchange() returns only once the output buffers
 * have drained), that of POST frames is copied into it.  Over the
 * high-water mark it waits for the peer to drain. */
static int send_chunks(gasp_cluster *c, conn *k, int data, uint64_t tag,
                       const uint8_t *p, size_t len, gasp_error *err) {
  size_t chunk_max = c->max_frame - 64, off = 0;
  if (chunk_max > ((size_t)1 << 20)) chunk_max = (size_t)1 << 20;
  for (uint64_t ch = 0;; ch++) {
    size_t n = len - off < chunk_max ? len - off : chunk_max;
    int last = off + n == len;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, data ? 6 : 4);
    msgpack_pack_uint64(&pk, data ? GASP__MSG_DATA : GASP__MSG_POST);
    if (data) {
      msgpack_pack_uint64(&pk, c->seq);
      msgpack_pack_uint64(&pk, tag);
    }
    msgpack_pack_uint64(&pk, ch);
    msgpack_pack_uint64(&pk, (uint64_t)last);
    msgpack_pack_bin(&pk, n);
    int rc =
        k ? send_frame_with(k, &sb, n ? p + off : NULL, n, data) : GASP_EPEER;
    msgpack_sbuffer_destroy(&sb);
    if (rc == GASP_EPEER) return rc;
    if (rc) return gasp__fail(err, rc, NULL, 0, "out of memory");
    off += n;
    if (evbuffer_get_length(bufferevent_get_output(k->bev)) > HIGH_WATER &&
        (rc = wait_for(c, below_water, k, "a peer to drain its input", err)))
      return rc;
    if (last) return GASP_OK;
  }
}

/* A collective step that failed half way leaves the cluster failed: its
 * peers are somewhere in the same step, and the output buffers still
 * refer to send buffers that the caller may free once this returns, so
 * whatever was not sent is dropped. */
static void abandon(gasp_cluster *c, int rc, const gasp_error *err) {
  if (!c->failed) {
    c->failed = 1;
    if (err)
      c->ferr = *err;
    else
      gasp__fail(&c->ferr, rc, NULL, 0, "rank %d: collective step %llu failed",
                 c->rank, (unsigned long long)c->seq);
  }
  for (conn *k = c->all; k; k = k->next)
    if (k->bev) {
      struct evbuffer *out = bufferevent_get_output(k->bev);
      evbuffer_drain(out, evbuffer_get_length(out));
    }
}

static int exchange(gasp_cluster *c, uint64_t tag, const void *const *send,
                    const size_t *send_len, const void **recv, size_t *recv_len,
                    gasp_error *err) {
  gasp__error_clear(err);
  if (c->failed) {
    if (err) *err = c->ferr;
    return c->ferr.code;
  }
  if (!c->rdone && !(c->rdone = calloc((size_t)c->size, 1)))
    return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  c->seq++;
  c->tag = tag;
  for (int r = 0; r < c->size; r++)
    c->rlen[r] = 0, c->rnext[r] = 0, c->rdone[r] = 0;
  int rc = GASP_OK;
  for (int r = 0; r < c->size && !rc; r++) {
    if (r == c->rank) continue;
    rc = send_chunks(c, c->peer[r], 1, tag, send ? send[r] : NULL,
                     send_len ? send_len[r] : 0, err);
    if (rc == GASP_EPEER || c->failed) {
      wait_for(c, step_done, NULL, "a lost peer", err); /* reports it */
      rc = c->failed ? c->ferr.code : rc;
    }
  }
  if (!rc) rc = wait_for(c, step_done, NULL, "a collective step", err);
  /* the output buffers refer to the callers' send buffers */
  if (!rc)
    rc = wait_for(c, flushed, NULL, "peers to take this rank's data", err);
  if (rc) {
    abandon(c, rc, err);
    return rc;
  }
  for (int r = 0; r < c->size; r++) {
    if (recv) recv[r] = r == c->rank ? NULL : c->rbuf[r];
    if (recv_len) recv_len[r] = r == c->rank ? 0 : c->rlen[r];
  }
  return GASP_OK;
}

int gasp_cluster_allreduce(gasp_cluster *c, double *vals, size_t n,
                           gasp_reduce_op op, gasp_error *err) {
  if (c->size == 1) return GASP_OK;
  const void **send = malloc((size_t)c->size * sizeof *send);
  size_t *len = malloc((size_t)c->size * sizeof *len);
  const void **recv = malloc((size_t)c->size * sizeof *recv);
  size_t *rlen = malloc((size_t)c->size * sizeof *rlen);
  double *mine = malloc((n ? n : 1) * sizeof *mine);
  int rc = GASP_ENOMEM;
  if (!send || !len || !recv || !rlen || !mine) {
    gasp__fail(err, rc, NULL, 0, "out of memory");
    goto out;
  }
  memcpy(mine, vals, n * sizeof *vals);
  for (int r = 0; r < c->size; r++)
    send[r] = mine, len[r] = n * sizeof *vals;
  uint64_t tag =
      (uint64_t)TAG_ALLREDUCE << 32 | (uint64_t)op << 28 | (n & 0xfffffff);
  if ((rc = exchange(c, tag, send, len, recv, rlen, err))) goto out;
  for (int r = 0; r < c->size; r++)
    if (r != c->rank && rlen[r] != n * sizeof *vals) {
      rc = gasp__fail(err, GASP_EPEER, NULL, 0,
                      "rank %d: peer %d reduced %zu values, this rank %zu",
                      c->rank, r, rlen[r] / sizeof *vals, n);
      goto out;
    }
  /* in rank order, so every rank computes the same bits */
  for (size_t i = 0; i < n; i++) {
    double acc = 0;
    for (int r = 0; r < c->size; r++) {
      double v;
      if (r == c->rank)
        v = mine[i];
      else
        memcpy(&v, (const uint8_t *)recv[r] + i * sizeof v, sizeof v);
      if (r == 0)
        acc = v;
      else if (op == GASP_REDUCE_SUM)
        acc += v;
      else if (op == GASP_REDUCE_MIN)
        acc = v < acc ? v : acc;
      else
        acc = v > acc ? v : acc;
    }
    vals[i] = acc;
  }
out:
  free(send);
  free(len);
  free(recv);
  free(rlen);
  free(mine);
  return rc;
}

int gasp_cluster_barrier(gasp_cluster *c, gasp_error *err) {
  if (c->size == 1) return GASP_OK;
  return exchange(c, (uint64_t)TAG_BARRIER << 32, NULL, NULL, NULL, NULL, err);
}

/* ---- one-way messages ---------------------------------------------------
 * For engines whose ranks do not step together (bounded staleness): a
 * message to one peer, in chunks of at most 1 MiB, with the same
 * back-pressure as the collectives; the peer takes whole messages in the
 * order they were posted. */

int gasp__cluster_post(gasp_cluster *c, int peer, const void *data, size_t len,
                       gasp_error *err) {
  if (c->failed) {
    if (err) *err = c->ferr;
    return c->ferr.code;
  }
  conn *k = peer >= 0 && peer < c->size ? c->peer[peer] : NULL;
  if (!k || !k->bev)
    return gasp__fail(err, GASP_EPEER, NULL, 0,
                      "rank %d: peer %d left the cluster", c->rank, peer);
  int rc = send_chunks(c, k, 0, 0, data, len, err);
  if (rc == GASP_EPEER)
    return gasp__fail(err, rc, NULL, 0, "rank %d: peer %d left the cluster",
                      c->rank, peer);
  return rc;
}

int gasp__cluster_take(gasp_cluster *c, int peer, uint8_t **data, size_t *len) {
  conn *k = peer >= 0 && peer < c->size ? c->peer[peer] : NULL;
  frame *f = k ? k->phead : NULL;
  if (!f) return 0;
  k->phead = f->next;
  if (!k->phead) k->ptail = NULL;
  *data = f->data;
  *len = f->n;
  free(f);
  return 1;
}

typedef struct wait_arg {
  int (*ready)(void *);
  void *arg;
} wait_arg;

static int posts_ready(gasp_cluster *c, void *arg) {
  wait_arg *w = arg;
  if (w->ready(w->arg)) return 1;
  for (int r = 0; r < c->size; r++) /* a peer that went away never sends */
    if (r != c->rank && (!c->peer[r] || c->peer[r]->state == C_DEAD)) {
      if (!c->failed) {
        c->failed = 1;
        gasp__fail(&c->ferr, GASP_EPEER, NULL, 0,
                   "rank %d: peer %d left the cluster", c->rank, r);
      }
      return 0;
    }
  return 0;
}

void gasp__cluster_poll(gasp_cluster *c) {
  if (!c->failed) event_base_loop(c->base, EVLOOP_NONBLOCK);
}

int gasp__cluster_wait(gasp_cluster *c, int (*ready)(void *), void *arg,
                       const char *what, gasp_error *err) {
  wait_arg w = {ready, arg};
  return wait_for(c, posts_ready, &w, what, err);
}

void gasp__cluster_frames(const gasp_cluster *c, uint64_t *direct,
                          uint64_t *queued) {
  *direct = c->direct;
  *queued = c->queued;
}

int gasp__cluster_idle(gasp_cluster *c, int (*ready)(void *), void *arg,
                       double seconds, gasp_error *err) {
  wait_arg w = {ready, arg};
  return wait_until(c, posts_ready, &w, "messages", gasp__now() + seconds, err);
}
