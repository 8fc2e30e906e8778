/*
 * handshake.c -- a cluster connection's frames by state: the
 * authentication handshake, then the inbox (cluster_internal.h).
 */
#include "cluster_internal.h"

/* ---- the handshake -------------------------------------------------- */

/* Refuses a connection's handshake: tells the other side why (one small
 * frame written straight to the socket, which has room: nothing else was
 * sent since HELLO), remembers it for the meeting's timeout message, and
 * drops the connection.  A stranger cannot make this rank fail: only the
 * connection ends. */
static void refuse(conn *k, int claimed, const char *why) {
  gasp_cluster *c = k->c;
  msgpack_sbuffer sb;
  gasp__cl_pack_abort(&sb, c->rank, why, strlen(why));
  uint8_t out[128];
  if (k->bev && sb.size + 4 <= sizeof out) {
    out[0] = (uint8_t)(sb.size >> 24), out[1] = (uint8_t)(sb.size >> 16);
    out[2] = (uint8_t)(sb.size >> 8), out[3] = (uint8_t)sb.size;
    memcpy(out + 4, sb.data, sb.size);
    ssize_t w = send(bufferevent_getfd(k->bev), out, sb.size + 4,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)w; /* best effort */
  }
  msgpack_sbuffer_destroy(&sb);
  snprintf(c->refused, sizeof c->refused,
           "a connection claiming rank %d was refused: %s", claimed, why);
  gasp__cl_conn_fail(k, GASP_EAUTH, "%s", why);
}

void gasp__cl_handle_frame(conn *k, uint8_t *buf, size_t n) {
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
    gasp__cl_conn_fail(k, GASP_EPEER, "malformed frame");
    goto out;
  }
  if (k->state == C_WAIT_HELLO) {
    if (type != GASP__MSG_HELLO || cnt != 4 || gasp__mp_u64(&it[1], &ver) ||
        gasp__mp_u64(&it[2], &r) || gasp__mp_bin(&it[3], &p1, &n1) ||
        n1 != GASP__NONCE_LEN) {
      gasp__cl_conn_fail(k, GASP_EPEER, "expected a HELLO frame");
    } else if (ver != GASP__WIRE_VERSION || r != (uint64_t)k->rank) {
      gasp__cl_conn_fail(k, GASP_EPEER, "speaks wire version %llu as rank %llu",
                         (unsigned long long)ver, (unsigned long long)r);
    } else {
      gasp__handshake_mac(c->key, c->klen, p1, (uint64_t)c->rank, mac);
      if (getrandom(k->nonce, GASP__NONCE_LEN, 0) != GASP__NONCE_LEN)
        gasp__cl_conn_fail(k, GASP_EIO, "no random bytes for a challenge");
      else if (gasp__cl_send_simple(k, GASP__MSG_AUTH, mac, GASP__MAC_LEN,
                                    k->nonce, GASP__NONCE_LEN))
        gasp__cl_conn_fail(k, GASP_ENOMEM, "out of memory");
      else
        k->state = C_AUTH_SENT;
    }
  } else if (k->state == C_HELLO_SENT) {
    uint8_t want[GASP__MAC_LEN];
    if (type != GASP__MSG_AUTH || cnt != 4 || gasp__mp_u64(&it[1], &r) ||
        gasp__mp_bin(&it[2], &p1, &n1) || n1 != GASP__MAC_LEN ||
        gasp__mp_bin(&it[3], &p2, &n2) || n2 != GASP__NONCE_LEN ||
        r >= (uint64_t)c->size || r == (uint64_t)c->rank || c->peer[r]) {
      gasp__cl_conn_fail(k, GASP_EAUTH, "bad AUTH frame");
    } else {
      gasp__handshake_mac(c->key, c->klen, k->nonce, r, want);
      if (!gasp__ct_equal(want, p1, GASP__MAC_LEN)) {
        refuse(k, (int)r, "wrong cluster key");
      } else {
        gasp__handshake_mac(c->key, c->klen, p2, (uint64_t)c->rank, mac);
        k->rank = (int)r;
        if (gasp__cl_send_simple(k, GASP__MSG_AUTH_OK, mac, GASP__MAC_LEN, NULL,
                                 0)) {
          gasp__cl_conn_fail(k, GASP_ENOMEM, "out of memory");
        } else {
          k->state = C_READY;
          c->peer[r] = k;
        }
      }
    }
  } else if (k->state == C_AUTH_SENT) {
    uint8_t want[GASP__MAC_LEN];
    gasp__handshake_mac(c->key, c->klen, k->nonce, (uint64_t)k->rank, want);
    const char *why;
    size_t wn;
    if (type == GASP__MSG_ABORT && cnt == 3 && !gasp__mp_str(&it[2], &why, &wn))
      gasp__cl_conn_fail(k, GASP_EAUTH, "refused the handshake: %.*s",
                         (int)(wn < 200 ? wn : 200), why);
    else if (type != GASP__MSG_AUTH_OK || cnt != 3 ||
             gasp__mp_u64(&it[1], &r) || gasp__mp_bin(&it[2], &p1, &n1) ||
             n1 != GASP__MAC_LEN || r != (uint64_t)k->rank ||
             !gasp__ct_equal(want, p1, GASP__MAC_LEN)) {
      gasp__cl_conn_fail(k, GASP_EAUTH,
                         "authentication failed (wrong cluster key?)");
    } else {
      k->state = C_READY;
      c->peer[k->rank] = k;
    }
  } else if (k->state == C_READY) {
    const char *why;
    size_t wn;
    if (type == GASP__MSG_BYE) {
      k->bye = 1;
    } else if (type == GASP__MSG_ABORT) {
      if (cnt != 3 || gasp__mp_u64(&it[1], &r) || r != (uint64_t)k->rank ||
          gasp__mp_str(&it[2], &why, &wn)) {
        gasp__cl_conn_fail(k, GASP_EPEER, "bad ABORT frame");
      } else {
        k->bye = 1; /* it closes next; the reason is what matters */
        if (!c->failed) {
          char who[300];
          c->failed = 1;
          gasp__fail(&c->ferr, GASP_EPEER, NULL, 0, "rank %d: %s stopped: %.*s",
                     c->rank, gasp__cl_peer_name(c, k->rank, who, sizeof who),
                     (int)(wn < 600 ? wn : 600), why);
        }
      }
    } else if (type == GASP__MSG_POST) {
      gasp__cl_post_chunk(k, it, cnt);
    } else {
      frame *f = gasp__malloc(sizeof *f);
      if (!f) {
        gasp__cl_conn_fail(k, GASP_ENOMEM, "out of memory");
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
    gasp__cl_conn_fail(k, GASP_EPEER, "frame in an unexpected state");
  }
out:
  msgpack_unpacked_destroy(&up);
  free(buf);
}
