/*
 * meet.c -- a cluster's meeting: listening, the address table and
 * the full mesh of connections; creating and freeing a cluster
 * (cluster_internal.h).
 */
#include "cluster_internal.h"

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

/* ---- meeting ------------------------------------------------------------ */

static int listen_on(gasp_cluster *c, int fd, const char *hostport, char *bound,
                     size_t blen, gasp_error *err) {
  if (fd < 0) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (gasp__cl_resolve(hostport, &ss, &len))
      return gasp__fail(err, GASP_EINVAL, NULL, 0, "rank %d: bad address '%s'",
                        c->rank, hostport);
    c->lis = evconnlistener_new_bind(c->base, gasp__cl_on_accept, c,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                     64, (struct sockaddr *)&ss, (int)len);
    if (!c->lis)
      return gasp__fail(err, GASP_EIO, NULL, 0,
                        "rank %d: cannot listen on %s: %s", c->rank, hostport,
                        strerror(errno));
  } else {
    evutil_make_socket_nonblocking(fd);
    c->lis =
        evconnlistener_new(c->base, gasp__cl_on_accept, c,
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
  c->addr[r] = gasp__malloc(n + 1);
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
    while (!c->addr[r] && (f = gasp__cl_pop(k))) {
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
        gasp__cl_conn_fail(k, GASP_EPEER, "expected its address");
      else if (addr_set(c, r, s, n))
        gasp__cl_conn_fail(k, GASP_ENOMEM, "out of memory");
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
  frame *f = k ? gasp__cl_pop(k) : NULL;
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
  if (!ok) gasp__cl_conn_fail(k, GASP_EPEER, "bad address table");
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
      if ((rc = gasp__cl_wait_for(c, all_addrs, NULL,
                                  "every rank to report its address", err)))
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
        gasp__cl_send_frame(c->peer[r], &sb);
      msgpack_sbuffer_destroy(&sb);
      return GASP_OK; /* everyone connects to rank 0 first, then upwards */
    }
    char lis[300];
    snprintf(lis, sizeof lis, "%s:0",
             o->bind_host ? o->bind_host : "127.0.0.1");
    if ((rc = listen_on(c, -1, lis, bound, sizeof bound, err))) return rc;
    if ((rc = addr_set(c, 0, o->coordinator, strlen(o->coordinator))))
      return gasp__fail(err, rc, NULL, 0, "out of memory");
    conn *k = gasp__cl_conn_new(c, 0, 0);
    if (!k || (rc = gasp__cl_connect_to(c, k)))
      return gasp__fail(err, GASP_ENOMEM, NULL, 0, "cannot connect to rank 0");
    int zero = 0;
    if ((rc = gasp__cl_wait_for(c, one_ready, &zero, "the coordinator (rank 0)",
                                err)))
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
    rc = gasp__cl_send_frame(k, &sb);
    msgpack_sbuffer_destroy(&sb);
    if (rc)
      return gasp__fail(err, rc, NULL, 0,
                        rc == GASP_EPEER ? "rank 0 closed the connection"
                                         : "out of memory");
    if ((rc = gasp__cl_wait_for(c, got_table, NULL,
                                "the address table from rank 0", err)))
      return rc;
  }
  /* connect to every lower rank not yet connected */
  for (int r = 0; r < c->rank; r++) {
    if (c->peer[r]) continue;
    conn *k = gasp__cl_conn_new(c, 0, r);
    if (!k || (rc = gasp__cl_connect_to(c, k)))
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
  gasp_cluster *c = gasp__calloc(1, sizeof *c);
  if (!c) return gasp__fail(err, GASP_ENOMEM, NULL, 0, "out of memory");
  c->rank = o->rank;
  c->size = o->size;
  c->max_frame = o->max_frame ? o->max_frame : (size_t)64 << 20;
  if (c->max_frame < 256) c->max_frame = 256;
  if (c->max_frame > 0xffffffffu) c->max_frame = 0xffffffffu;
  c->timeout = o->timeout > 0 ? o->timeout : 60;
  c->peer = gasp__calloc((size_t)c->size, sizeof *c->peer);
  c->addr = gasp__calloc((size_t)c->size, sizeof *c->addr);
  c->key = gasp__malloc(o->key_len);
  c->rbuf = gasp__calloc((size_t)c->size, sizeof *c->rbuf);
  c->rlen = gasp__calloc((size_t)c->size, sizeof *c->rlen);
  c->rcap = gasp__calloc((size_t)c->size, sizeof *c->rcap);
  c->rnext = gasp__calloc((size_t)c->size, sizeof *c->rnext);
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
    if ((rc = gasp__cl_wait_for(c, all_ready, NULL, "every peer to connect",
                                err)))
      goto fail;
  }
  if (c->lis) { /* the mesh is complete: nobody else may join */
    evconnlistener_free(c->lis);
    c->lis = NULL;
  }
  for (conn *k = c->all; k; k = k->next) /* strangers still mid-handshake */
    if (k->state != C_READY && k->state != C_DEAD) {
      c->rejected++;
      gasp__cl_conn_close(k);
    }
  *out = c;
  return GASP_OK;
fail:
  gasp_cluster_free(&c);
  return rc;
}

int gasp__cl_flushed(gasp_cluster *c, void *arg) {
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
        gasp__cl_send_simple(c->peer[r], GASP__MSG_BYE, NULL, 0, NULL, 0);
    double t = c->timeout;
    c->timeout = 5;
    gasp__cl_wait_for(c, gasp__cl_flushed, NULL, "goodbyes to drain", NULL);
    c->timeout = t;
  }
  for (conn *k = c->all, *n; k; k = n) {
    n = k->next;
    gasp__cl_conn_close(k);
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

void gasp_cluster_abort(gasp_cluster *c, const char *reason) {
  if (!c || !c->base) return;
  if (!reason) reason = "failed";
  size_t n = strlen(reason);
  if (n > 512) n = 512;
  for (int r = 0; r < c->size; r++) {
    conn *k = c->peer ? c->peer[r] : NULL;
    if (!k || k->state != C_READY || !k->bev) continue;
    msgpack_sbuffer sb;
    gasp__cl_pack_abort(&sb, c->rank, reason, n);
    gasp__cl_send_frame(k, &sb); /* best effort: the peer may be gone */
    msgpack_sbuffer_destroy(&sb);
  }
  double t = c->timeout;
  int failed = c->failed;
  c->failed = 0; /* let the frames drain, a second at most */
  c->timeout = 1;
  gasp__cl_wait_for(c, gasp__cl_flushed, NULL, "the abort to drain", NULL);
  c->timeout = t;
  c->failed = 1; /* no goodbye follows */
  if (!failed)
    gasp__fail(&c->ferr, GASP_ECANCELED, NULL, 0, "rank %d stopped: %.*s",
               c->rank, (int)n, reason);
}

int gasp_cluster_rank(const gasp_cluster *c) { return c->rank; }
int gasp_cluster_size(const gasp_cluster *c) { return c->size; }
uint64_t gasp_cluster_rejected(const gasp_cluster *c) { return c->rejected; }
void gasp_cluster_traffic(const gasp_cluster *c, uint64_t *sent,
                          uint64_t *received) {
  if (sent) *sent = c->sent;
  if (received) *received = c->received;
}
