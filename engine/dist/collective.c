/*
 * collective.c -- a cluster's collective steps and one-way messages
 * (cluster_internal.h).
 */
#include "cluster_internal.h"

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
    while (k && !c->rdone[r] && (f = gasp__cl_pop(k))) {
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
        gasp__cl_conn_fail(
            k, GASP_EPEER,
            "is in another collective at step %llu (%s, this rank %s): "
            "the ranks called collectives in different orders",
            (unsigned long long)c->seq, tag_name(tag), tag_name(c->tag));
        return 0;
      }
      if (!bad && gasp__cl_reserve(c, r, n)) bad = 2;
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
        gasp__cl_conn_fail(k, bad == 2 ? GASP_ENOMEM : GASP_EPEER,
                           bad == 2 ? "out of memory"
                                    : "unexpected frame in step %llu",
                           (unsigned long long)c->seq);
        return 0;
      }
    }
    if (!c->rdone[r] && (!k || k->state == C_DEAD)) {
      c->failed = 1;
      if (k && k->bye && c->rnext[r] == 0)
        gasp__fail(&c->ferr, GASP_EPEER, NULL, 0,
                   "rank %d: peer %d left the cluster (it said goodbye) "
                   "before step %llu",
                   c->rank, r, (unsigned long long)c->seq);
      else
        gasp__fail(&c->ferr, GASP_EPEER, NULL, 0,
                   "rank %d: peer %d left the cluster in the middle of step "
                   "%llu",
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
    int rc = k ? gasp__cl_send_frame_with(k, &sb, n ? p + off : NULL, n, data)
               : GASP_EPEER;
    msgpack_sbuffer_destroy(&sb);
    if (rc == GASP_EPEER) return rc;
    if (rc)
      return gasp__fail(err, rc, NULL, 0,
                        rc == GASP_ENOMEM ? "out of memory"
                                          : "a chunk of %zu bytes is over the "
                                            "frame limit of %zu",
                        n, c->max_frame);
    off += n;
    if (evbuffer_get_length(bufferevent_get_output(k->bev)) > HIGH_WATER &&
        (rc = gasp__cl_wait_for(c, below_water, k, "a peer to drain its input",
                                err)))
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
  if (!c->rdone && !(c->rdone = gasp__calloc((size_t)c->size, 1)))
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
      gasp__cl_wait_for(c, step_done, NULL, "a lost peer",
                        err); /* reports it */
      rc = c->failed ? c->ferr.code : rc;
    }
  }
  if (!rc) rc = gasp__cl_wait_for(c, step_done, NULL, "a collective step", err);
  /* the output buffers refer to the callers' send buffers */
  if (!rc)
    rc = gasp__cl_wait_for(c, gasp__cl_flushed, NULL,
                           "peers to take this rank's data", err);
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
  const void **send = gasp__malloc((size_t)c->size * sizeof *send);
  size_t *len = gasp__malloc((size_t)c->size * sizeof *len);
  const void **recv = gasp__malloc((size_t)c->size * sizeof *recv);
  size_t *rlen = gasp__malloc((size_t)c->size * sizeof *rlen);
  double *mine = gasp__malloc((n ? n : 1) * sizeof *mine);
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
  return gasp__cl_wait_for(c, posts_ready, &w, what, err);
}

void gasp__cluster_frames(const gasp_cluster *c, uint64_t *direct,
                          uint64_t *queued) {
  *direct = c->direct;
  *queued = c->queued;
}

int gasp__cluster_idle(gasp_cluster *c, int (*ready)(void *), void *arg,
                       double seconds, gasp_error *err) {
  wait_arg w = {ready, arg};
  return gasp__cl_wait_until(c, posts_ready, &w, "messages",
                             gasp__now() + seconds, err);
}
