/*
 * dist_internal.h -- the rank-local view of a partitioned graph (see
 * local.c) that the distributed engine steps use.
 */
#ifndef GASP_DIST_INTERNAL_H
#define GASP_DIST_INTERNAL_H

#include "internal.h"

struct gasp_dist {
  gasp_cluster *cluster;
  int rank, size;
  uint64_t global_nv, global_ne;
  uint64_t global_nleft;   /* bipartite: global ids below are left   */
  gasp_graph *local;       /* owned vertices first, then ghosts            */
  gasp_vid *global;        /* local id -> global id                        */
  uint32_t *loc;           /* global id -> local id (UINT32_MAX: not here) */
  uint32_t *owner_of;      /* global id -> rank                            */
  gasp_gid *gids;          /* from a partition file: every global vertex's
                              original id (else NULL: the caller has g)    */
  uint64_t *slot_global;   /* local edge slot -> global edge slot         */
  gasp_vid **send, **recv; /* per peer, ascending (see local.c)         */
  uint64_t *nsend, *nrecv;
  uint8_t *buf; /* exchange scratch */
  size_t buf_cap;
  uint64_t bytes_sent_steps; /* payload bytes of ghost exchanges */
};

/* The rank's share of g under `owner` without a cluster (partition files
 * are written this way; gasp_dist_new attaches the cluster). */
int gasp__dist_build(gasp_dist **out, const gasp_graph *g,
                     const uint32_t *owner, int parts, int rank,
                     gasp_error *err);

/* One-way messages between ranks (collective.c), for engines whose ranks
 * do not step together.  post: queues `len` bytes for `peer` (as chunked
 * frames, waiting while its connection is over the high-water mark).
 * take: the oldest complete message from `peer` (1, *data malloc'ed, the
 * caller frees it) or 0 when none has arrived.  wait: runs the event loop
 * until ready(arg) (which may take messages), failing on a lost peer, a
 * bad frame or the cluster timeout. */
int gasp__cluster_post(gasp_cluster *c, int peer, const void *data, size_t len,
                       gasp_error *err);
int gasp__cluster_take(gasp_cluster *c, int peer, uint8_t **data, size_t *len);
int gasp__cluster_wait(gasp_cluster *c, int (*ready)(void *), void *arg,
                       const char *what, gasp_error *err);
/* Moves what the sockets can take and give now, without blocking (a rank
 * that never waits must still send and receive). */
void gasp__cluster_poll(gasp_cluster *c);
/* Runs the event loop until ready(arg) or `seconds` have passed (not an
 * error); fails only when the cluster has. */
int gasp__cluster_idle(gasp_cluster *c, int (*ready)(void *), void *arg,
                       double seconds, gasp_error *err);
/* DATA frames received so far: taken straight into a step's receive
 * buffer, and queued in an inbox first (another step's, or behind one). */
void gasp__cluster_frames(const gasp_cluster *c, uint64_t *direct,
                          uint64_t *queued);

#endif
