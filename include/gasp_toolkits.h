/*
 * gasp_toolkits.h -- the toolkits as library calls (in libgasp): one call
 * per algorithm on an in-memory graph (loaded, built by gasp_builder or
 * gasp_graph_from_coo / _csr, or a rank's local graph), with an options
 * struct initialised by its _opts_init and results written to arrays the
 * caller owns, indexed by local vertex id.  The `gasp` command is a shell
 * over these calls: parse flags, load, call, write.
 *
 * Each call runs its vertex program on an engine of its own, made from
 * opts.engine (threads, engine kind, consistency, scheduler, max_iter,
 * on_iteration, and dist for a distributed run, every rank calling with
 * its local graph); it allocates the graph's vertex data to the program's
 * record, replacing any there.  Results cover every local vertex; in a
 * distributed run only the owned ones are final (ghosts hold copies).
 * Errors: a GASP_E* status and err (optional) with the reason; the
 * library never prints.
 */
#ifndef GASP_TOOLKITS_H
#define GASP_TOOLKITS_H

#include <gasp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- connected components (weakly: edges taken both ways) ---------- */

typedef enum gasp_cc_algorithm {
  GASP_CC_AUTO = 0,     /* Afforest on one process's sync engine, else
                           label propagation */
  GASP_CC_AFFOREST = 1, /* Sutton et al. 2018: sampled linking over a
                           lock-free union-find, two supersteps (sync, one
                           process) */
  GASP_CC_LABELPROP = 2 /* minimum labels, pushed as messages or pulled */
} gasp_cc_algorithm;

typedef struct gasp_cc_opts {
  gasp_engine_opts engine;
  gasp_cc_algorithm algorithm;
  uint64_t seed; /* Afforest's sample */
} gasp_cc_opts;

GASP_EXTERN void gasp_cc_opts_init(gasp_cc_opts *o);
/* component[v]: the vertex index naming v's component, the smallest in
 * it (a local id on one process; the global vertex index across ranks,
 * gasp_dist_global_id).  GASP_ENOTSUP for Afforest on the async engine
 * or across ranks. */
GASP_EXTERN int gasp_cc(gasp_graph *g, const gasp_cc_opts *o,
                        gasp_vid *component, gasp_run_stats *stats,
                        gasp_error *err);

/* ---- communities by label propagation -------------------------------- */

typedef struct gasp_labelprop_opts {
  /* gasp_labelprop_opts_init: the async engine under edge consistency
   * with the default locking, which is the chromatic schedule (converges;
   * the same labels for any number of threads), and max_iter 100 (sync
   * rounds may oscillate; 0: no limit) */
  gasp_engine_opts engine;
} gasp_labelprop_opts;

GASP_EXTERN void gasp_labelprop_opts_init(gasp_labelprop_opts *o);
/* Deterministic label propagation (Raghavan et al. 2007): each vertex
 * takes the label with the largest count among its neighbours (edges
 * taken both ways, self loops not counted, each edge 1 or its weight),
 * keeping its own on a tie it is part of and else taking the smallest.
 * label[v]: the vertex index naming v's community, as for gasp_cc (a
 * local id on one process; the global vertex index across ranks).
 *
 * Sync rounds are fully determined by the graph, the same on any number
 * of threads or ranks (weights are added in global vertex order), but
 * may oscillate: stats->reason is GASP_STOP_CONVERGED only when the last
 * round changed no label.  Async updates end; their labels depend on the
 * schedule: on the chromatic schedule the same for any number of
 * threads, but across ranks the colouring is not one process's, and the
 * labels may differ from one process's.  The iteration callback's
 * residual is the number of labels changed since the previous call.
 * GASP_ENOTSUP for bounded staleness across ranks. */
GASP_EXTERN int gasp_labelprop(gasp_graph *g, const gasp_labelprop_opts *o,
                               gasp_vid *label, gasp_run_stats *stats,
                               gasp_error *err);

/* ---- single-source shortest paths ------------------------------------ */

typedef struct gasp_sssp_opts {
  gasp_engine_opts engine; /* async: the priority scheduler, nearest first,
                              unless another is named */
  int directed;            /* follow edges from source to target only */
} gasp_sssp_opts;

GASP_EXTERN void gasp_sssp_opts_init(gasp_sssp_opts *o);
/* dist[v]: the length of a shortest path from `source` (a local id, or
 * GASP_VID_NONE on a rank that does not own it) over the edge weights (1
 * when the graph has none), INFINITY when unreachable.  Negative or NaN
 * weights are GASP_EINVAL (err names the edge). */
GASP_EXTERN int gasp_sssp(gasp_graph *g, const gasp_sssp_opts *o,
                          gasp_vid source, double *dist, gasp_run_stats *stats,
                          gasp_error *err);

/* ---- breadth-first search -------------------------------------------- */

typedef struct gasp_bfs_opts {
  gasp_engine_opts engine; /* the sync engine (level by level) */
  int undirected;          /* follow edges both ways */
} gasp_bfs_opts;

#define GASP_BFS_UNREACHED UINT32_MAX

GASP_EXTERN void gasp_bfs_opts_init(gasp_bfs_opts *o);
/* Direction-optimising BFS (Beamer et al. 2012) through the engine's
 * push_pull: depth[v] (GASP_BFS_UNREACHED when unreachable) and, when
 * parent is not NULL, parent[v]: the smallest-index vertex one level up
 * with an edge to v (the source is its own parent; GASP_VID_NONE when
 * unreachable), in vertex indices as for gasp_cc.  The same result
 * whichever way the engine goes.  GASP_ENOTSUP on the async engine. */
GASP_EXTERN int gasp_bfs(gasp_graph *g, const gasp_bfs_opts *o, gasp_vid source,
                         uint32_t *depth, gasp_vid *parent,
                         gasp_run_stats *stats, gasp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GASP_TOOLKITS_H */
