/*
 * conn.c -- a cluster's connections and framing (cluster_internal.h).
 */
#include "cluster_internal.h"

const char *gasp__cl_peer_name(const gasp_cluster *c, int r, char *buf,
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

void gasp__cl_conn_close(conn *k) {
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

/* A POST chunk: appended to the message under way; the last one queues
 * it whole.  Chunks come in order on one connection. */
void gasp__cl_post_chunk(conn *k, const msgpack_object *it, uint32_t cnt) {
  uint64_t chunk, last;
  const uint8_t *p;
  size_t n;
  if (cnt != 4 || gasp__mp_u64(&it[1], &chunk) || gasp__mp_u64(&it[2], &last) ||
      gasp__mp_bin(&it[3], &p, &n) || chunk != k->pnext) {
    gasp__cl_conn_fail(k, GASP_EPEER, "malformed message");
    return;
  }
  if (k->plen + n > k->pcap) {
    size_t cap = k->pcap ? k->pcap : 4096;
    while (cap < k->plen + n)
      cap *= 2;
    uint8_t *nb = gasp__realloc(k->pbuf, cap);
    if (!nb) {
      gasp__cl_conn_fail(k, GASP_ENOMEM, "out of memory for a message");
      return;
    }
    k->pbuf = nb;
    k->pcap = cap;
  }
  if (n) memcpy(k->pbuf + k->plen, p, n);
  k->plen += n;
  k->pnext++;
  if (!last) return;
  frame *f = gasp__malloc(sizeof *f);
  if (!f) {
    gasp__cl_conn_fail(k, GASP_ENOMEM, "out of memory for a message");
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
void gasp__cl_conn_fail(conn *k, int code, const char *fmt, ...) {
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
               gasp__cl_peer_name(c, k->rank, who, sizeof who), why);
  }
  if (!known) c->rejected++;
  if (k->rank >= 0 && c->peer[k->rank] == k) c->peer[k->rank] = NULL;
  gasp__cl_conn_close(k);
}

int gasp__cl_send_frame(conn *k, msgpack_sbuffer *sb) {
  gasp_cluster *c = k->c;
  if (!k->bev) return GASP_EPEER; /* closed: the peer has gone */
  if (sb->size > c->max_frame) return GASP_EINVAL;
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
int gasp__cl_send_frame_with(conn *k, msgpack_sbuffer *sb, const void *body,
                             size_t n, int ref) {
  gasp_cluster *c = k->c;
  size_t total = sb->size + n;
  if (!k->bev) return GASP_EPEER; /* closed: the peer has gone */
  if (total > c->max_frame) return GASP_EINVAL;
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

void gasp__cl_pack_abort(msgpack_sbuffer *sb, int rank, const char *why,
                         size_t n) {
  msgpack_sbuffer_init(sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 3);
  msgpack_pack_uint64(&pk, GASP__MSG_ABORT);
  msgpack_pack_uint64(&pk, (uint64_t)rank);
  msgpack_pack_str(&pk, n);
  msgpack_pack_str_body(&pk, why, n);
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

int gasp__cl_send_simple(conn *k, int type, const uint8_t *bin, size_t n,
                         const uint8_t *bin2, size_t n2) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  int items = 2 + (type == GASP__MSG_HELLO) + (bin != NULL) + (bin2 != NULL);
  pack_nonce_frame(&pk, type, (uint64_t)k->c->rank, bin, n, bin2, n2, items);
  int rc = gasp__cl_send_frame(k, &sb);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

/* Room for n more bytes in the step's receive buffer from rank r. */
int gasp__cl_reserve(gasp_cluster *c, int r, size_t n) {
  if (c->rlen[r] + n <= c->rcap[r]) return 0;
  size_t cap = c->rcap[r] ? c->rcap[r] : 4096;
  while (cap < c->rlen[r] + n)
    cap *= 2;
  uint8_t *nb = gasp__realloc(c->rbuf[r], cap);
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
      f[1] != c->tag || f[2] != c->rnext[r] || gasp__cl_reserve(c, r, L - head))
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
      gasp__cl_conn_fail(k, GASP_EPEER,
                         "frame of %zu bytes (the maximum is %zu)", L,
                         c->max_frame);
      return;
    }
    if (k->state != C_READY && L > PREAUTH_FRAME) {
      gasp__cl_conn_fail(k, GASP_EAUTH,
                         "frame of %zu bytes before authentication (the "
                         "handshake's are under %zu)",
                         L, PREAUTH_FRAME);
      return;
    }
    if (avail < 4 + L) break;
    if (take_data(k, L)) continue;
    uint8_t *buf = gasp__malloc(L);
    if (!buf) {
      gasp__cl_conn_fail(k, GASP_ENOMEM, "out of memory for a %zu-byte frame",
                         L);
      return;
    }
    evbuffer_drain(in, 4);
    evbuffer_remove(in, buf, L);
    c->received += 4 + L;
    char why[200];
    if (gasp__mp_check(buf, L, 16, why, sizeof why)) {
      free(buf);
      gasp__cl_conn_fail(k, GASP_EPEER, "bad frame: %s", why);
      return;
    }
    gasp__cl_handle_frame(k, buf, L);
  }
}

/* The connection ended (eof) or failed (errno err): quietly after BYE,
 * a retry while connecting, an error otherwise. */
void gasp__cl_lost(conn *k, int eof, int err) {
  if (k->state == C_CONNECTING) { /* not listening yet: try again */
    gasp__cl_conn_close(k);
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
    gasp__cl_conn_fail(k, GASP_EAUTH,
                       "connection closed during the handshake (wrong "
                       "cluster key?)");
  else if (eof)
    gasp__cl_conn_fail(k, GASP_EPEER,
                       left ? "connection closed in the middle of a frame"
                            : "connection closed (process lost?)");
  else
    gasp__cl_conn_fail(k, GASP_EPEER, "connection error: %s", strerror(err));
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
  /* a stranger gets a small read at a time (a handshake frame fits) */
  int ready = k->state == C_READY;
  size_t piece = ready ? IO_MAX : PREAUTH_READ;
  if (!ready && evbuffer_get_length(k->in) >= PREAUTH_READ) {
    gasp__cl_conn_fail(k, GASP_EAUTH, "sent more than a handshake");
    return;
  }
  for (size_t got = 0; got < (ready ? READ_TURN : PREAUTH_READ);) {
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(k->in, piece, &v, 1) < 1) {
      gasp__cl_conn_fail(k, GASP_ENOMEM, "out of memory for input");
      return;
    }
    ssize_t n = recv(fd, v.iov_base, v.iov_len < piece ? v.iov_len : piece,
                     MSG_DONTWAIT);
    if (n > 0) {
      v.iov_len = (size_t)n;
      evbuffer_commit_space(k->in, &v, 1);
      got += (size_t)n;
      if ((size_t)n < piece) break; /* the socket is drained */
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
  if (k->state != C_DEAD && (eof || err)) gasp__cl_lost(k, eof, err);
}

/* Reading starts once the socket is connected. */
int gasp__cl_start_reading(conn *k) {
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
    if (gasp__cl_start_reading(k))
      gasp__cl_conn_fail(k, GASP_ENOMEM, "out of memory");
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
    gasp__cl_lost(k, !!(what & BEV_EVENT_EOF), EVUTIL_SOCKET_ERROR());
}

void gasp__cl_tune_socket(evutil_socket_t fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void gasp__cl_set_callbacks(conn *k) {
  bufferevent_set_max_single_write(k->bev, (ev_ssize_t)IO_MAX);
  bufferevent_setcb(k->bev, NULL, NULL, on_event, k);
  bufferevent_enable(k->bev, EV_WRITE);
}

conn *gasp__cl_conn_new(gasp_cluster *c, int acceptor, int rank) {
  conn *k = gasp__calloc(1, sizeof *k);
  if (!k) return NULL;
  k->c = c;
  k->acceptor = acceptor;
  k->rank = rank;
  k->next = c->all;
  c->all = k;
  return k;
}

void gasp__cl_on_accept(struct evconnlistener *l, evutil_socket_t fd,
                        struct sockaddr *sa, int len, void *arg) {
  gasp_cluster *c = arg;
  (void)l, (void)sa, (void)len;
  int pending = 0;
  for (conn *p = c->all; p; p = p->next)
    pending += p->acceptor && p->state == C_HELLO_SENT;
  if (pending >= PREAUTH_PENDING) { /* strangers enough already */
    c->rejected++;
    close(fd);
    return;
  }
  gasp__cl_tune_socket(fd);
  conn *k = gasp__cl_conn_new(c, 1, -1);
  if (!k) {
    close(fd);
    return;
  }
  k->since = gasp__now();
  k->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!k->bev || getrandom(k->nonce, GASP__NONCE_LEN, 0) != GASP__NONCE_LEN) {
    if (!k->bev) close(fd);
    gasp__cl_conn_close(k);
    return;
  }
  gasp__cl_set_callbacks(k);
  k->state = C_HELLO_SENT;
  if (gasp__cl_start_reading(k)) {
    gasp__cl_conn_close(k);
    return;
  }
  if (gasp__cl_send_simple(k, GASP__MSG_HELLO, k->nonce, GASP__NONCE_LEN, NULL,
                           0))
    gasp__cl_conn_close(k);
}

/* ---- addresses -------------------------------------------------------- */

int gasp__cl_resolve(const char *hostport, struct sockaddr_storage *ss,
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

int gasp__cl_connect_to(gasp_cluster *c, conn *k) {
  struct sockaddr_storage ss;
  socklen_t len;
  if (gasp__cl_resolve(c->addr[k->rank], &ss, &len)) return GASP_EINVAL;
  k->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
  if (!k->bev) return GASP_ENOMEM;
  gasp__cl_set_callbacks(k);
  k->state = C_CONNECTING;
  if (bufferevent_socket_connect(k->bev, (struct sockaddr *)&ss, (int)len) <
      0) {
    gasp__cl_conn_close(k);
    k->state = C_RETRY;
    k->retry_at = gasp__now() + 0.05;
    return GASP_OK;
  }
  evutil_socket_t fd = bufferevent_getfd(k->bev);
  if (fd >= 0) gasp__cl_tune_socket(fd);
  return GASP_OK;
}

/* ---- waiting ---------------------------------------------------------- */

/* Runs the event loop until done() or a failure or the cluster's
 * deadline (an error), or -- when `until` > 0 -- until that moment (not
 * an error: a bounded wait). */
int gasp__cl_wait_until(gasp_cluster *c, done_fn done, void *arg,
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
                 "rank %d: timed out after %.0f s waiting for %s%s%s%s",
                 c->rank, c->timeout, what, who, c->refused[0] ? "; " : "",
                 c->refused);
      if (err) *err = c->ferr;
      return GASP_ETIMEDOUT;
    }
    for (conn *k = c->all; k; k = k->next)
      if (k->acceptor && k->state == C_HELLO_SENT &&
          now - k->since > PREAUTH_SECONDS)
        gasp__cl_conn_fail(k, GASP_EAUTH, "no handshake within %.0f s",
                           PREAUTH_SECONDS);
    for (conn *k = c->all; k; k = k->next)
      if (k->state == C_RETRY && now >= k->retry_at) {
        int rc = gasp__cl_connect_to(c, k);
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

int gasp__cl_wait_for(gasp_cluster *c, done_fn done, void *arg,
                      const char *what, gasp_error *err) {
  return gasp__cl_wait_until(c, done, arg, what, 0, err);
}

frame *gasp__cl_pop(conn *k) {
  frame *f = k->head;
  if (f) {
    k->head = f->next;
    if (!k->head) k->tail = NULL;
  }
  return f;
}
