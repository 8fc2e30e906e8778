/*
 * ghost.c -- ghost coherence for distributed runs: what one rank tells a
 * peer after some of its vertices were updated, shared by the engines
 * (the sync barrier, the chromatic colour steps and the bounded-staleness
 * steps).
 *
 * To peer p, one payload: a bitmap over send[p] (the owned vertices p holds
 * as ghosts, in the order agreed at start-up) marking those updated, their
 * vertex data and mirror elements in list order, then a bitmap over
 * recv[p] (the ghosts p owns) marking those signalled here; for a program
 * with messages, then a bitmap over recv[p] marking the ghosts with a
 * message and those messages in list order (from the engine's outgoing
 * buffer, e->mout).  No ids travel: both ends know the lists.  A payload
 * is checked against the lists exactly before anything in it is used.
 */
#include "dist_internal.h"
#include "engine_internal.h"
#include "ghost.h"

#include <string.h>

static size_t bm_bytes(uint64_t n) { return (size_t)((n + 7) / 8); }

size_t gasp__ghost_value_size(const gasp_engine *e) {
  size_t vs = e->prog.vertex_size;
  for (int m = 0; m < e->nmirror; m++)
    vs += e->mirror[m].size;
  return vs;
}

/* Bytes of the messages part for peer p (0 without messages). */
static size_t msg_part(const gasp_engine *e, int p) {
  const gasp_dist *d = e->opts.dist;
  if (!e->prog.msg_size) return 0;
  const uint8_t *f = e->mflag[e->mout];
  uint64_t n = 0;
  for (uint64_t k = 0; k < d->nrecv[p]; k++)
    n += f[d->recv[p][k]] & GASP__MF_MSG;
  return bm_bytes(d->nrecv[p]) + n * e->prog.msg_size;
}

size_t gasp__ghost_size(const gasp_engine *e, int p, int all,
                        const uint8_t *changed) {
  const gasp_dist *d = e->opts.dist;
  uint64_t n = 0;
  for (uint64_t k = 0; k < d->nsend[p]; k++)
    n += all || changed[d->send[p][k]];
  return bm_bytes(d->nsend[p]) + n * gasp__ghost_value_size(e) +
         bm_bytes(d->nrecv[p]) + msg_part(e, p);
}

size_t gasp__ghost_pack(const gasp_engine *e, int p, int all,
                        const uint8_t *changed, const uint8_t *sig,
                        uint8_t *out) {
  const gasp_dist *d = e->opts.dist;
  const size_t vd_size = e->prog.vertex_size;
  const uint8_t *vd = e->g->vdata;
  size_t head = bm_bytes(d->nsend[p]);
  memset(out, 0, head);
  uint8_t *vals = out + head;
  for (uint64_t k = 0; k < d->nsend[p]; k++) {
    gasp_vid v = d->send[p][k];
    if (!(all || changed[v])) continue;
    out[k / 8] |= (uint8_t)(1u << (k % 8));
    if (vd_size) memcpy(vals, vd + (size_t)v * vd_size, vd_size);
    vals += vd_size;
    for (int m = 0; m < e->nmirror; m++) {
      size_t ms = e->mirror[m].size;
      memcpy(vals, (const uint8_t *)e->mirror[m].base + (size_t)v * ms, ms);
      vals += ms;
    }
  }
  memset(vals, 0, bm_bytes(d->nrecv[p]));
  if (sig)
    for (uint64_t k = 0; k < d->nrecv[p]; k++)
      if (sig[d->recv[p][k]]) vals[k / 8] |= (uint8_t)(1u << (k % 8));
  vals += bm_bytes(d->nrecv[p]);
  size_t ms = e->prog.msg_size;
  if (ms) {
    const uint8_t *f = e->mflag[e->mout];
    const char *slots = e->msg[e->mout];
    uint8_t *bm = vals;
    memset(bm, 0, bm_bytes(d->nrecv[p]));
    vals += bm_bytes(d->nrecv[p]);
    for (uint64_t k = 0; k < d->nrecv[p]; k++) {
      gasp_vid v = d->recv[p][k];
      if (!(f[v] & GASP__MF_MSG)) continue;
      bm[k / 8] |= (uint8_t)(1u << (k % 8));
      memcpy(vals, slots + (size_t)v * ms, ms);
      vals += ms;
    }
  }
  return (size_t)(vals - out);
}

int gasp__ghost_unpack(gasp_engine *e, int p, const uint8_t *b, size_t n,
                       gasp__ghost_signal_fn on_signal, void *arg,
                       uint64_t *nsignals, gasp_error *err) {
  gasp_dist *d = e->opts.dist;
  const size_t vd_size = e->prog.vertex_size, vs = gasp__ghost_value_size(e);
  const size_t ms = e->prog.msg_size;
  uint64_t nr = d->nrecv[p], ns = d->nsend[p], changed = 0, nmsg = 0;
  if (n < bm_bytes(nr) + bm_bytes(ns)) goto bad;
  for (uint64_t k = 0; k < nr; k++)
    changed += (b[k / 8] >> (k % 8)) & 1;
  size_t msgs_at = bm_bytes(nr) + changed * vs + bm_bytes(ns);
  if (ms) { /* the message bitmap, then the messages */
    if (changed * vs > n || n < msgs_at + bm_bytes(ns)) goto bad;
    for (uint64_t k = 0; k < ns; k++)
      nmsg += (b[msgs_at + k / 8] >> (k % 8)) & 1;
    if (n != msgs_at + bm_bytes(ns) + nmsg * ms) goto bad;
  } else if (n != msgs_at) {
    goto bad;
  }
  const uint8_t *vals = b + bm_bytes(nr);
  for (uint64_t k = 0; k < nr; k++) {
    if (!((b[k / 8] >> (k % 8)) & 1)) continue;
    gasp_vid v = d->recv[p][k];
    if (vd_size)
      memcpy((uint8_t *)e->g->vdata + (size_t)v * vd_size, vals, vd_size);
    vals += vd_size;
    for (int m = 0; m < e->nmirror; m++) {
      size_t es = e->mirror[m].size;
      memcpy((uint8_t *)e->mirror[m].base + (size_t)v * es, vals, es);
      vals += es;
    }
  }
  uint64_t got = 0;
  const uint8_t *mbm = vals + bm_bytes(ns), *msg = mbm + bm_bytes(ns);
  for (uint64_t k = 0; k < ns; k++) { /* remote signals for owned vertices */
    const void *m = NULL;
    if (ms && ((mbm[k / 8] >> (k % 8)) & 1)) {
      m = msg;
      msg += ms;
    }
    if ((vals[k / 8] >> (k % 8)) & 1) {
      got++;
      if (on_signal) on_signal(arg, d->send[p][k], m);
    }
  }
  if (nsignals) *nsignals = got;
  return GASP_OK;
bad:
  return gasp__fail(err, GASP_EPEER, NULL, 0,
                    "rank %d: peer %d sent a ghost update of %zu bytes that "
                    "does not match the agreed vertex lists",
                    d->rank, p, n);
}

int gasp__ghost_exchange(gasp_engine *e, int all, const uint8_t *changed,
                         const uint8_t *sig, gasp__ghost_signal_fn on_signal,
                         void *arg, gasp_error *err) {
  gasp_dist *d = e->opts.dist;
  const int P = d->size;
  if (P == 1) return GASP_OK; /* no peers, no ghosts */
  size_t total = 0;
  size_t *off = gasp__calloc((size_t)P + 1, sizeof *off);
  const void **send = gasp__calloc((size_t)P, sizeof *send);
  size_t *len = gasp__calloc((size_t)P, sizeof *len);
  const void **recv = gasp__calloc((size_t)P, sizeof *recv);
  size_t *rlen = gasp__calloc((size_t)P, sizeof *rlen);
  int rc = GASP_ENOMEM;
  if (!off || !send || !len || !recv || !rlen) goto out;
  for (int p = 0; p < P; p++) {
    off[p] = total;
    if (p != d->rank) total += gasp__ghost_size(e, p, all, changed);
  }
  if (total > d->buf_cap || !d->buf) { /* at least a byte: no ghosts at all */
    uint8_t *nb = gasp__realloc(d->buf, total ? total : 1);
    if (!nb) goto out;
    d->buf = nb;
    d->buf_cap = total ? total : 1;
  }
  for (int p = 0; p < P; p++) {
    if (p == d->rank) continue;
    send[p] = d->buf + off[p];
    len[p] = gasp__ghost_pack(e, p, all, changed, sig, d->buf + off[p]);
    d->bytes_sent_steps += len[p];
  }
  if ((rc = gasp_cluster_exchange(d->cluster, send, len, recv, rlen, err)))
    goto out;
  for (int p = 0; p < P && !rc; p++)
    if (p != d->rank)
      rc =
          gasp__ghost_unpack(e, p, recv[p], rlen[p], on_signal, arg, NULL, err);
out:
  if (rc == GASP_ENOMEM && err && !err->msg[0])
    gasp__fail(err, rc, NULL, 0, "out of memory");
  free(off);
  free(send);
  free(len);
  free(recv);
  free(rlen);
  return rc;
}
