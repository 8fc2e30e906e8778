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

/* ---- PageRank -------------------------------------------------------- */

typedef struct gasp_pagerank_opts {
  gasp_engine_opts engine; /* sync (power iteration; max_iter 0: 1000) or
                              async (delta PageRank, the priority scheduler
                              unless another is named) */
  double damping;          /* d, in [0, 1); 0.85 */
  double tol;              /* sync: stop when the L1 change of the rank
                              vector is below it; async: a vertex whose value
                              moved by more than tol / N signals its
                              out-neighbours; 1e-10 */
  const double *teleport;  /* personalised PageRank: a weight per local
                              vertex (finite, non-negative, a positive sum
                              over the owned vertices of all ranks),
                              normalised to sum 1; NULL: uniform 1/N */
  int weighted;            /* follow u -> v with probability w(u, v) / W_u,
                              W_u the sum of u's out-weights (networkx's
                              default for a weighted graph; W_u = 0 makes u
                              dangling); needs finite non-negative weights.
                              0: every edge counts 1 */
} gasp_pagerank_opts;

GASP_EXTERN void gasp_pagerank_opts_init(gasp_pagerank_opts *o);
/* ranks[v]: the PageRank of v, with dangling vertices' rank spread over
 * the teleport distribution p, so the ranks sum to 1 (networkx's
 * convention): r = (1 - d) p + d (A r + D p), D the dangling mass.  The
 * sync engine iterates to the double-precision fixed point (the first
 * supersteps read float contributions; across ranks, doubles); stats
 * reason is GASP_STOP_CONVERGED once the L1 change fell below tol, and the
 * caller's on_iteration sees that change as info->residual.  The async
 * engine solves x = (1 - d) p + d A x, which the dangling term only
 * rescales, and normalises it to sum 1: the same ranks.  GASP_ENOTSUP for
 * bounded staleness on the sync engine. */
GASP_EXTERN int gasp_pagerank(gasp_graph *g, const gasp_pagerank_opts *o,
                              double *ranks, gasp_run_stats *stats,
                              gasp_error *err);

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
