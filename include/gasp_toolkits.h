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

/* ---- k-core decomposition --------------------------------------------- */

typedef struct gasp_kcore_opts {
  gasp_engine_opts engine; /* sync or async (any scheduler and consistency
                              model); across ranks, bounded staleness too */
} gasp_kcore_opts;

GASP_EXTERN void gasp_kcore_opts_init(gasp_kcore_opts *o);
/* core[v]: v's core number (the largest k such that v is in a subgraph
 * of minimum degree k) in the graph taken as undirected, self loops and
 * repeated edges ignored, by local h-index updates (Montresor et al.
 * 2013).  Every engine reaches the same numbers; a run stopped early
 * (max_iter, on_iteration: stats->reason) leaves upper bounds of them.
 * Not GASP_ENOTSUP for any engine or consistency model (beyond
 * gasp_engine_new's own limits, e.g. no locks across ranks). */
GASP_EXTERN int gasp_kcore(gasp_graph *g, const gasp_kcore_opts *o,
                           uint32_t *core, gasp_run_stats *stats,
                           gasp_error *err);

/* ---- triangle counting ------------------------------------------------ */

typedef struct gasp_triangles_opts {
  gasp_engine_opts engine; /* sync or async, any scheduler and consistency
                              model; max_iter and always_active are not
                              used (each of the three passes runs to its
                              end) */
} gasp_triangles_opts;

/* Figures of the graph taken as undirected, over the whole graph (on every
 * rank in a distributed run). */
typedef struct gasp_triangles_totals {
  uint64_t triangles;
  uint64_t wedges; /* paths of two edges: sum of d(v)(d(v) - 1) / 2 over the
                      distinct-neighbour degrees; transitivity is
                      3 triangles / wedges */
  uint64_t edges;  /* undirected edges: neighbour pairs, each once */
} gasp_triangles_totals;

GASP_EXTERN void gasp_triangles_opts_init(gasp_triangles_opts *o);
/* Exact triangle count of the graph taken as undirected (self loops and
 * repeated edges ignored) by degree-ordered neighbour-list intersection
 * (Schank and Wagner 2005) in three passes: *totals, and, when per_vertex
 * is not NULL, per_vertex[v]: the triangles v is in.  In a distributed
 * run every rank passes per_vertex or every rank passes NULL (else
 * GASP_EINVAL on all); an owned vertex's entry is its whole count, a
 * ghost's is 0 (its owner has it).  stats sums the passes.  GASP_ENOTSUP
 * across ranks with bounded staleness; GASP_ECANCELED should a pass be
 * stopped before its end (by on_iteration). */
GASP_EXTERN int gasp_triangles(gasp_graph *g, const gasp_triangles_opts *o,
                               uint64_t *per_vertex,
                               gasp_triangles_totals *totals,
                               gasp_run_stats *stats, gasp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GASP_TOOLKITS_H */
