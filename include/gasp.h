/*
 * gasp.h -- the public API of libgasp, a gather-apply-scatter vertex engine.
 *
 * This is the only header a user includes.  Conventions (see STYLE.md):
 *
 *  - Objects are opaque handles made by `gasp_<obj>_new(&h, ...)` and
 *    released by `gasp_<obj>_free(&h)`, which accepts NULL (and a pointer to
 *    NULL) and clears the caller's pointer.
 *  - Functions that can fail return an `int` status: GASP_OK (0) or one of
 *    the negative GASP_E* codes below.  `gasp_strerror()` names a code;
 *    constructors that read input also fill an optional `gasp_error` with the
 *    file, line and reason, so a front end can print `FILE:LINE: reason`.
 *  - The library keeps no global mutable state, never prints and never
 *    exits.  Distinct handles may be used from distinct threads at once; one
 *    handle is driven from one thread at a time unless a function says
 *    otherwise.  Read-only accessors on a finished graph are thread-safe.
 *
 * Vertex ids: files carry arbitrary non-negative 64-bit ids (`gasp_gid`,
 * at most 2^63 - 1).  Inside a graph every vertex has a dense 32-bit local id
 * (`gasp_vid`), assigned in ascending order of the original id, so that
 * iterating local ids visits vertices in ascending original-id order.  The
 * original ids are kept for output.  Owned vertices come first, ghosts
 * (read-only copies of remote vertices in distributed runs) after them.
 */
#ifndef GASP_H
#define GASP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GASP_BUILDING) && defined(__GNUC__)
#define GASP_EXTERN __attribute__((visibility("default")))
#else
#define GASP_EXTERN
#endif

#define GASP_VERSION_MAJOR 0
#define GASP_VERSION_MINOR 1
#define GASP_VERSION_PATCH 0

/* ------------------------------------------------------------------ */
/* Status codes                                                        */
/* ------------------------------------------------------------------ */

/* One list, expanded into the enum, gasp_strerror() and gasp_err_name(). */
#define GASP_ERRNO_MAP(XX)                                                     \
  XX(ENOMEM, -1, "out of memory")                                              \
  XX(EINVAL, -2, "invalid argument")                                           \
  XX(EIO, -3, "input/output error")                                            \
  XX(EPARSE, -4, "malformed input")                                            \
  XX(EFORMAT, -5, "unsupported or unrecognised format")                        \
  XX(ECHECKSUM, -6, "checksum mismatch")                                       \
  XX(ERANGE, -7, "value out of range")                                         \
  XX(ENOTSUP, -8, "operation not supported")                                   \
  XX(ECANCELED, -9, "operation canceled")                                      \
  XX(ENODEV, -10, "no such device")                                            \
  XX(ENOENT, -11, "not found")                                                 \
  XX(ETIMEDOUT, -12, "timed out")                                              \
  XX(EAUTH, -13, "authentication failed")                                      \
  XX(EPEER, -14, "peer lost or misbehaving")

typedef enum gasp_status {
  GASP_OK = 0,
#define XX(name, code, msg) GASP_##name = code,
  GASP_ERRNO_MAP(XX)
#undef XX
} gasp_status;

/* A static, human-readable description of `status` ("unknown error" for a
 * code not in the list).  Never NULL. */
GASP_EXTERN const char *gasp_strerror(int status);
/* The code's name without prefix, e.g. "EPARSE". Never NULL. */
GASP_EXTERN const char *gasp_err_name(int status);

/* Details of a failure, filled by functions that take a `gasp_error *`
 * (which may be NULL when the caller needs only the status).  `file` is
 * the path involved ("" when none), `line` the 1-based line number (0 when
 * not about a line), `msg` the reason without file or line. */
typedef struct gasp_error {
  int code;
  uint64_t line;
  char file[512];
  char msg[512];
} gasp_error;

/* Formats `err` as "FILE:LINE: reason", "FILE: reason" or "reason" into
 * buf (always NUL-terminated when len > 0); returns buf. */
GASP_EXTERN char *gasp_error_format(const gasp_error *err, char *buf,
                                    size_t len);

/* ------------------------------------------------------------------ */
/* Basic types                                                         */
/* ------------------------------------------------------------------ */

typedef uint32_t gasp_vid; /* dense local vertex id                  */
typedef uint64_t gasp_gid; /* original vertex id from the input      */
typedef uint64_t gasp_eid; /* edge slot: position in the out-edge CSR */

#define GASP_GID_MAX ((gasp_gid)INT64_MAX)
#define GASP_VID_NONE ((gasp_vid)UINT32_MAX)
/* A graph (or one partition of it) holds fewer than 2^32 - 1 vertices and
 * fewer than 2^32 edges; larger inputs fail with GASP_ERANGE. */
#define GASP_MAX_VERTICES ((uint64_t)UINT32_MAX - 1)
#define GASP_MAX_EDGES ((uint64_t)UINT32_MAX)

/* Progress reports from long operations.  Called from the thread that
 * drives the operation, never concurrently; must not call back into the
 * same handle.  Returning non-zero cancels (GASP_ECANCELED). */
typedef struct gasp_progress {
  const char *phase;    /* "read", "build", "write", ...                   */
  uint64_t bytes_done;  /* input bytes consumed (compressed bytes for .gz) */
  uint64_t bytes_total; /* input size, 0 when unknown                      */
  uint64_t items_done;  /* edges parsed / written                          */
  double seconds;       /* since the operation started                     */
} gasp_progress;
typedef int (*gasp_progress_fn)(void *user, const gasp_progress *p);

/* ------------------------------------------------------------------ */
/* Graph                                                               */
/* ------------------------------------------------------------------ */

/* A directed multigraph in compressed form: out-edges (CSR, each vertex's
 * targets sorted ascending) and in-edges (CSC, each vertex's sources sorted
 * ascending) that point at one shared edge slot, the edge's position in the
 * CSR.  Edge weights, edge data and vertex data are indexed by vertex id and
 * edge slot.  Self loops and duplicate edges are kept as given. */
typedef struct gasp_graph gasp_graph;

/* Read-only view of one direction of the adjacency.  For vertex v its
 * neighbours are nbr[off[v] .. off[v+1]-1]; `slot` is NULL for the out
 * direction (the slot is the position itself) and gives the edge slot of
 * each in-edge otherwise. */
typedef struct gasp_adjacency {
  gasp_vid num_vertices;
  uint64_t num_edges;
  const uint64_t *off; /* num_vertices + 1 entries */
  const gasp_vid *nbr;
  const uint32_t *slot;
} gasp_adjacency;

/* Vertex sides of a bipartite graph (ratings: users/items; text:
 * documents/words).  Each side has its own original-id space. */
typedef enum gasp_side {
  GASP_SIDE_LEFT = 0, /* also every vertex of a non-bipartite graph */
  GASP_SIDE_RIGHT = 1
} gasp_side;

GASP_EXTERN void gasp_graph_free(gasp_graph **g);

/* Sizes.  `num_vertices` counts owned vertices and ghosts; owned vertices
 * are local ids 0 .. num_owned-1. */
GASP_EXTERN gasp_vid gasp_graph_num_vertices(const gasp_graph *g);
GASP_EXTERN gasp_vid gasp_graph_num_owned(const gasp_graph *g);
GASP_EXTERN uint64_t gasp_graph_num_edges(const gasp_graph *g);

GASP_EXTERN void gasp_graph_out_edges(const gasp_graph *g, gasp_adjacency *a);
GASP_EXTERN void gasp_graph_in_edges(const gasp_graph *g, gasp_adjacency *a);
GASP_EXTERN uint64_t gasp_graph_out_degree(const gasp_graph *g, gasp_vid v);
GASP_EXTERN uint64_t gasp_graph_in_degree(const gasp_graph *g, gasp_vid v);

/* Vertex reordering for locality (gasp_graph_reorder). */
typedef enum gasp_reorder {
  GASP_REORDER_NONE = 0,
  GASP_REORDER_DEGREE = 1, /* by out-degree, largest first */
  GASP_REORDER_DBG = 2,    /* degree-based grouping (Faldu et al. 2019) */
  GASP_REORDER_RCM = 3     /* reverse Cuthill-McKee */
} gasp_reorder;
/* "none", "degree", "dbg", "rcm"; GASP_EINVAL otherwise. */
GASP_EXTERN int gasp_reorder_parse(const char *s, gasp_reorder *out);
/* Renumbers the vertices of *g (a whole, non-bipartite graph with no
 * program data yet) for locality and replaces *g by the result, which
 * keeps the original ids, names and weights: the same graph, its local
 * ids permuted (so a pull's random reads of the sources it reads most fall
 * together).  Lists stay sorted.  Local ids then no longer ascend with the
 * original ids: gasp_graph_id_order gives the vertices in id order, for
 * outputs, and gasp_graph_find still finds them.  A snapshot keeps the
 * order.  NONE leaves the graph as it is. */
GASP_EXTERN int gasp_graph_reorder(gasp_graph **g, gasp_reorder how,
                                   gasp_error *err);
/* A reordered graph's vertices by ascending original id (num_vertices
 * entries); NULL when local ids already ascend with the ids. */
GASP_EXTERN const gasp_vid *gasp_graph_id_order(const gasp_graph *g);

/* Original id of local vertex v (within its side for bipartite graphs). */
GASP_EXTERN gasp_gid gasp_graph_gid(const gasp_graph *g, gasp_vid v);
/* Local id of original id `id` on `side`; GASP_ENOENT when absent. */
GASP_EXTERN int gasp_graph_find(const gasp_graph *g, gasp_side side,
                                gasp_gid id, gasp_vid *out);

/* Bipartite graphs: left vertices are 0 .. num_left-1 and right vertices
 * num_left .. num_vertices-1 (single partition).  For other graphs
 * gasp_graph_is_bipartite() is 0 and every vertex is on the left side. */
GASP_EXTERN int gasp_graph_is_bipartite(const gasp_graph *g);
GASP_EXTERN gasp_vid gasp_graph_num_left(const gasp_graph *g);
GASP_EXTERN gasp_side gasp_graph_side(const gasp_graph *g, gasp_vid v);

/* Per-edge weights indexed by edge slot; NULL for an unweighted graph
 * (every weight then reads as 1). */
GASP_EXTERN const double *gasp_graph_weights(const gasp_graph *g);

/* Optional vertex names (e.g. the vocabulary of a text corpus); NULL when
 * the vertex has none.  Owned by the graph. */
GASP_EXTERN const char *gasp_graph_name(const gasp_graph *g, gasp_vid v);

/* Vertex and edge data: fixed-size records the program declares.
 * gasp_graph_alloc_data() (re)allocates zero-filled arrays of
 * num_vertices * vertex_size and num_edges * edge_size bytes, replacing any
 * earlier data.  The arrays belong to the graph. */
GASP_EXTERN int gasp_graph_alloc_data(gasp_graph *g, size_t vertex_size,
                                      size_t edge_size);
GASP_EXTERN void *gasp_graph_vertex_data(gasp_graph *g);
GASP_EXTERN void *gasp_graph_edge_data(gasp_graph *g);
GASP_EXTERN size_t gasp_graph_vertex_size(const gasp_graph *g);
GASP_EXTERN size_t gasp_graph_edge_size(const gasp_graph *g);

/* Bytes held by the graph's structure (CSR, CSC, slot map, ids, weights,
 * names), not counting vertex and edge data. */
GASP_EXTERN uint64_t gasp_graph_structure_bytes(const gasp_graph *g);

/* Summary figures, as `gasp info` prints them. */
typedef struct gasp_graph_stats {
  uint64_t vertices, edges;
  uint64_t self_loops;
  uint64_t duplicate_edges; /* edges beyond the first of each (u, v) pair */
  uint64_t min_out_degree, max_out_degree;
  uint64_t min_in_degree, max_in_degree;
  double mean_degree; /* edges / vertices, the same for in and out */
  uint64_t isolated;  /* vertices with no in- or out-edges */
  uint64_t left_vertices, right_vertices; /* bipartite; else vertices, 0 */
  int weighted, bipartite;
} gasp_graph_stats;
GASP_EXTERN int gasp_graph_stats_compute(const gasp_graph *g, int threads,
                                         gasp_graph_stats *out);

/* ------------------------------------------------------------------ */
/* Building a graph from edges                                         */
/* ------------------------------------------------------------------ */

/* Accumulates edges between original ids, then builds a gasp_graph.  Not
 * thread-safe: one thread adds edges. */
typedef struct gasp_builder gasp_builder;

enum {
  GASP_BUILD_WEIGHTED = 1u << 0,  /* keep per-edge weights             */
  GASP_BUILD_BIPARTITE = 1u << 1, /* sources left, targets right side  */
  GASP_BUILD_SYMMETRIC = 1u << 2  /* add v->u for every u->v (u != v)   */
};

GASP_EXTERN int gasp_builder_new(gasp_builder **out, unsigned flags);
GASP_EXTERN void gasp_builder_free(gasp_builder **b);
/* Adds the edge src -> dst (weight ignored unless GASP_BUILD_WEIGHTED).
 * Ids above GASP_GID_MAX fail with GASP_ERANGE. */
GASP_EXTERN int gasp_builder_add_edge(gasp_builder *b, gasp_gid src,
                                      gasp_gid dst, double weight);
/* Adds a vertex that may have no edges (on `side`). */
GASP_EXTERN int gasp_builder_add_vertex(gasp_builder *b, gasp_side side,
                                        gasp_gid id);
/* Builds the graph with up to `threads` threads (0: all cores).  The
 * builder is left empty and may be reused or freed. */
GASP_EXTERN int gasp_builder_finish(gasp_builder *b, int threads,
                                    gasp_graph **out, gasp_error *err);

/* A graph from the caller's arrays, without a file: edge i runs from
 * src[i] to dst[i] (original ids, at most GASP_GID_MAX) with weight[i]
 * when weight is not NULL (the graph is then weighted).  flags as for
 * gasp_builder_new (GASP_BUILD_BIPARTITE: sources on the left side and
 * targets on the right, each its own id space; GASP_BUILD_SYMMETRIC).
 * Ids 0 .. num_vertices-1 of the left side are vertices even without
 * edges (0: only the ids the edges name).  The arrays are read, not kept.
 * On failure *out is NULL and err says which edge was wrong. */
GASP_EXTERN int gasp_graph_from_coo(gasp_graph **out, uint64_t num_edges,
                                    const gasp_gid *src, const gasp_gid *dst,
                                    const double *weight, uint64_t num_vertices,
                                    unsigned flags, int threads,
                                    gasp_error *err);
/* The same from compressed rows: vertex v (original id v, 0 .. n-1) has
 * out-edges to nbr[off[v] .. off[v+1]-1] (weights alike, or NULL); off
 * has n + 1 entries, from 0, non-decreasing.  Every row is a vertex. */
GASP_EXTERN int gasp_graph_from_csr(gasp_graph **out, uint64_t n,
                                    const uint64_t *off, const gasp_gid *nbr,
                                    const double *weight, unsigned flags,
                                    int threads, gasp_error *err);

/* ------------------------------------------------------------------ */
/* Loading and saving                                                  */
/* ------------------------------------------------------------------ */

typedef enum gasp_format {
  GASP_FORMAT_AUTO = 0, /* by extension, then by content             */
  GASP_FORMAT_EDGELIST, /* "src dst [weight]" (SNAP files too)         */
  GASP_FORMAT_ADJ,      /* "src n dst1 ... dstn"                       */
  GASP_FORMAT_MTX,      /* Matrix Market coordinate                    */
  GASP_FORMAT_UCI,      /* UCI bag-of-words docword.*.txt              */
  GASP_FORMAT_SNAPSHOT, /* gasp binary snapshot (gasp convert)          */
  /* "user item rating [extra columns]": ratings (MovieLens u.data,
   * ratings.dat with "::", ratings.csv with its header line).  Users are
   * the left side, items the right; columns past the third are ignored. */
  GASP_FORMAT_RATINGS,
  /* ---- text corpora (LDA) ---- */
  GASP_FORMAT_LDAC,    /* Blei's lda-c: "N w:c w:c ..." per document    */
  GASP_FORMAT_TRIPLES, /* "doc word count" lines: a UCI body, no header */
  /* A corpus in any of the three (or a snapshot): docword.* is UCI,
   * *.ldac LDA-C; otherwise the first data line decides, read from the
   * stream itself (so a pipe works): one number is a UCI header,
   * "N w:c ..." LDA-C, anything else triples. */
  GASP_FORMAT_CORPUS
} gasp_format;

/* Text corpora load as bipartite graphs, documents on the left side and
 * words on the right, one edge per (document, word) entry weighted by its
 * count (a positive integer):
 *  - UCI: header lines D, W, NNZ; ids 1-based; the body must hold NNZ
 *    entries; blank lines are skipped.  Documents 1..D all exist, also
 *    those without entries.
 *  - LDA-C: line d (1-based) is document d-1 (documents are 0-based, as
 *    lda-c's word ids are); "0" is a document without words; a blank line
 *    is an error (it is not a document); N must equal the pairs given.
 *  - triples: "doc word count", ids non-negative; comments '#', '%'.
 * With `vocab` (gasp_load_opts) the vocabulary fixes W, its line w names
 * word w (UCI, triples: words 1..W) or word w-1 (LDA-C: words 0..W-1),
 * and a word id outside that range is an error naming FILE:LINE; triples
 * with a vocabulary are 1-based for documents too (a UCI body). */

/* Parses "auto", "edgelist", "snap", "adj", "mtx", "uci", "gasp",
 * "ratings", "ldac", "triples", "corpus"; returns GASP_EINVAL for anything
 * else. */
GASP_EXTERN int gasp_format_parse(const char *name, gasp_format *out);
GASP_EXTERN const char *gasp_format_name(gasp_format f);

/* Options for gasp_graph_load().  Initialise with gasp_load_opts_init(). */
typedef struct gasp_load_opts {
  gasp_format format;
  int threads;       /* 0: all cores                                      */
  int weighted;      /* -1: if the file has a weight column; 0: drop; 1: keep */
  int symmetric;     /* add the reverse of every edge (undirected input)  */
  const char *vocab; /* uci, ldac, triples: optional vocabulary file (one
                        word a line) naming the words                     */
  /* sources and targets in separate id spaces (left and right sides), as
   * for ratings; implied by the ratings and text-corpus formats and by
   * rectangular Matrix Market files */
  int bipartite;
  gasp_progress_fn progress; /* optional */
  void *progress_user;
} gasp_load_opts;

GASP_EXTERN void gasp_load_opts_init(gasp_load_opts *o);

/* The longest text line the loaders accept (64 MiB); a longer line, or a
 * NUL byte anywhere in a text input, is GASP_EPARSE naming FILE:LINE. */
#define GASP_LINE_MAX ((size_t)64 << 20)

/* The most threads a load, a build and an engine (gasp_engine_new)
 * accept; more is GASP_EINVAL. */
#define GASP_MAX_THREADS 4096

/* Reads `path` (gzip-compressed files are recognised by content and read
 * transparently) into a new graph.  The file is read once, front to back,
 * so `path` may be a pipe, a FIFO or /dev/stdin (a snapshot must be a
 * regular file).  On failure *out is NULL, the status is returned and
 * `err` (optional) names the file, line and reason. */
GASP_EXTERN int gasp_graph_load(gasp_graph **out, const char *path,
                                const gasp_load_opts *opts, gasp_error *err);

/* Writes the graph as a binary snapshot (versioned header, sizes, 64-bit
 * checksum) that gasp_graph_load() reloads without parsing.  The file is
 * written under a temporary name and renamed into place, so a failed save
 * leaves nothing behind (a device or FIFO is written in place, and a
 * symlink keeps pointing at the new file). */
GASP_EXTERN int gasp_graph_save_snapshot(const gasp_graph *g, const char *path,
                                         gasp_error *err);

/* Reads a text file line by line (gzip-compressed files transparently),
 * for inputs whose line order matters (query lists, vocabularies).  One
 * reader is used by one thread at a time. */
typedef struct gasp_text_reader gasp_text_reader;

GASP_EXTERN int gasp_text_reader_open(gasp_text_reader **out, const char *path,
                                      gasp_error *err);
/* Returns 1 with the next line (without its newline or CR; NUL-terminated,
 * valid until the next call) and its 1-based number, 0 at the end, or a
 * negative status (I/O error, corrupt gzip, a NUL byte in the line). */
GASP_EXTERN int gasp_text_reader_next(gasp_text_reader *r, const char **line,
                                      size_t *len, uint64_t *lineno,
                                      gasp_error *err);
GASP_EXTERN void gasp_text_reader_free(gasp_text_reader **r);

/* The snapshot format version this library writes and reads. */
#define GASP_SNAPSHOT_VERSION 1

/* ------------------------------------------------------------------ */
/* Generators                                                          */
/* ------------------------------------------------------------------ */

/* A list of edges (or ratings) in original ids, owned by the library. */
typedef struct gasp_edge_list {
  uint64_t n;            /* number of edges                      */
  gasp_gid *src;         /* n entries                            */
  gasp_gid *dst;         /* n entries                            */
  double *weight;        /* n entries, or NULL when unweighted   */
  uint64_t num_vertices; /* ids are in 0 .. num_vertices-1 (left side) */
  uint64_t num_right;    /* bipartite: right ids in 0 .. num_right-1, else 0 */
} gasp_edge_list;

GASP_EXTERN void gasp_edge_list_free(gasp_edge_list **e);

/* R-MAT / Kronecker graph as Graph500 specifies it: 2^scale vertices,
 * edge_factor * 2^scale edges drawn with probabilities a, b, c (d = 1 - a -
 * b - c), vertex labels scrambled by a seeded permutation.  a = b = c = 0
 * selects Graph500's 0.57, 0.19, 0.19.  Deterministic for a given seed,
 * whatever the number of threads. */
GASP_EXTERN int gasp_generate_kronecker(gasp_edge_list **out, int scale,
                                        int edge_factor, double a, double b,
                                        double c, uint64_t seed, int threads);

/* Uniform random directed graph: `edges` edges, both ends uniform over
 * 0 .. vertices-1 (self loops and duplicates possible, as in G(n, m) with
 * replacement). */
GASP_EXTERN int gasp_generate_uniform(gasp_edge_list **out, uint64_t vertices,
                                      uint64_t edges, uint64_t seed,
                                      int threads);

/* Ratings from a known low-rank model: user factors U (users x rank) and
 * item factors V (items x rank) with entries N(0, 1/sqrt(rank)), rating
 * r = mean + U_u . V_i + N(0, noise^2), `per_user` distinct items rated per
 * user.  When factors_out is non-NULL it receives a malloc'd array of
 * (users + items) * rank doubles (U then V) that the caller frees. */
GASP_EXTERN int gasp_generate_ratings(gasp_edge_list **out, uint64_t users,
                                      uint64_t items, int rank,
                                      uint64_t per_user, double mean,
                                      double noise, uint64_t seed,
                                      double **factors_out);

/* A bag-of-words corpus from a known LDA model: `topics` topic-word
 * distributions phi_k ~ Dirichlet(beta) over `vocab` words, per document
 * theta_d ~ Dirichlet(alpha), `doc_length` tokens per document.  Edges are
 * (doc, word, count) with doc ids 1..docs and word ids 1..vocab (UCI
 * convention).  When phi_out is non-NULL it receives a malloc'd topics x
 * vocab row-major array of the true phi that the caller frees. */
GASP_EXTERN int gasp_generate_lda_corpus(gasp_edge_list **out, uint64_t docs,
                                         uint64_t vocab, int topics,
                                         uint64_t doc_length, double alpha,
                                         double beta, uint64_t seed,
                                         double **phi_out);

/* Writes an edge list as text, one "src<TAB>dst[<TAB>weight]" line per
 * edge (weights with %.17g, integral ones as integers), via a temporary
 * file renamed into place.  `header` (may be NULL) is written first, as
 * given.  Formatting runs on `threads` threads. */
GASP_EXTERN int gasp_edge_list_write(const gasp_edge_list *e, const char *path,
                                     const char *header, int threads,
                                     gasp_error *err);

/* ------------------------------------------------------------------ */
/* Partitioning                                                        */
/* ------------------------------------------------------------------ */

/* Quality figures of an assignment of vertices to `parts` partitions. */
typedef struct gasp_partition_stats {
  int parts;
  double edge_cut_fraction; /* edges whose ends have different owners   */
  double vertex_balance;    /* largest part's vertices / mean            */
  double edge_balance;      /* largest part's out-edges / mean           */
  uint64_t ghosts_total;    /* sum over parts of remote neighbours held  */
  uint64_t ghosts_max;      /* the most ghosts of any one part           */
} gasp_partition_stats;

/* Hash partitioning: owner[v] = a hash of v's original id (and side)
 * modulo `parts`, independent of the input order.  owner has
 * num_vertices entries. */
GASP_EXTERN int gasp_partition_hash(const gasp_graph *g, int parts,
                                    uint32_t *owner);
/* METIS k-way edge-cut partitioning of the symmetrised graph (self loops
 * and repeated edges dropped), vertex weights 1 + degree so that parts
 * balance their edges.  Deterministic for a given seed.  Graphs beyond
 * METIS's 32-bit indices (2^31-1 vertices or adjacency entries) fail with
 * GASP_ERANGE; with parts >= vertices each vertex gets its own part (mod
 * parts).  METIS itself is not thread-safe: call it from one thread. */
GASP_EXTERN int gasp_partition_metis(const gasp_graph *g, int parts,
                                     uint64_t seed, uint32_t *owner,
                                     gasp_error *err);
/* The partitioners by name: gasp_partition_method(i) names the i-th
 * ("metis", the default for a NULL method, then "hash"; NULL past the
 * last), and gasp_partition runs the one named (seed: METIS's; hash takes
 * none).  An unknown name is GASP_EINVAL. */
GASP_EXTERN const char *gasp_partition_method(int i);
GASP_EXTERN int gasp_partition(const gasp_graph *g, const char *method,
                               int parts, uint64_t seed, uint32_t *owner,
                               gasp_error *err);
/* Computes the figures above for `owner`; threads 0 = all cores. */
GASP_EXTERN int gasp_partition_stats_compute(const gasp_graph *g, int parts,
                                             const uint32_t *owner, int threads,
                                             gasp_partition_stats *out);

/* ------------------------------------------------------------------ */
/* Vertex programs                                                     */
/* ------------------------------------------------------------------ */

/* Which edges a gather or scatter visits, seen from the centre vertex. */
typedef enum gasp_dir {
  GASP_DIR_NONE = 0,
  GASP_DIR_IN = 1,  /* edges nbr -> centre */
  GASP_DIR_OUT = 2, /* edges centre -> nbr */
  GASP_DIR_ALL = 3
} gasp_dir;

/* The context of one vertex update, valid only during the callback that
 * receives it.  Callbacks run on engine worker threads, concurrently for
 * different vertices: they must be reentrant and touch only what the
 * consistency model lets them (see gasp_consistency). */
typedef struct gasp_ctx gasp_ctx;

/* One edge as a gather or scatter sees it. */
typedef struct gasp_edge {
  gasp_vid nbr;         /* the neighbour's local id                        */
  gasp_dir dir;         /* GASP_DIR_IN or GASP_DIR_OUT                     */
  gasp_eid slot;        /* edge slot (index of edge data and weights)      */
  void *data;           /* edge data (edge_size bytes), NULL when none;
                           writable in scatter under edge/full consistency */
  const void *nbr_data; /* the neighbour's vertex data                     */
} gasp_edge;

/* A vertex's whole adjacency at once, for the optional bulk gather: the
 * neighbour ids and slots of the in-edges and out-edges it asked for
 * (counts are 0 for a direction it did not ask for), plus the base of the
 * vertex-data and edge-data arrays, so a hot program runs one tight loop
 * with no call per edge.  Out-edge i has slot out_slot0 + i. */
typedef struct gasp_nbrs {
  uint64_t n_in, n_out;
  const gasp_vid *in;
  const uint32_t *in_slot;
  const gasp_vid *out;
  gasp_eid out_slot0;
  const void
      *vertex_data; /* neighbour u's data: vertex_data + u * vertex_size */
  size_t vertex_size;
  const void *edge_data; /* edge s's data: edge_data + s * edge_size */
  size_t edge_size;
  /* In a pull superstep of a push_pull program on one process: the
   * frontier F of the superstep before as a bitmap, vertex u in it when
   * (frontier[u / 64] >> (u % 64)) & 1 (a few bits a vertex, where the
   * vertex data is bytes: BFS's bottom-up check).  NULL otherwise. */
  const uint64_t *frontier;
} gasp_nbrs;

/* A batch of vertices for a device apply (see gasp_program.device_apply).
 * Pointers are device memory.  Vertex data and accumulators are laid out
 * structure-of-arrays in words of `word` bytes (gasp_program.device_word):
 * word w of batch item i is at ((T *)vertex)[w * pitch + i], T a type of
 * that size (GASP_SOA below), so consecutive threads of a kernel with one
 * thread per item read consecutive addresses.  The apply launches its
 * kernel(s) on `stream` (a cudaStream_t) and returns without waiting; the
 * engine copies `vertex` back to the host vertex data when the stream is
 * done.  Items are distinct vertices, in no particular order. */
typedef struct gasp_device_batch {
  uint64_t n;          /* items in this batch                              */
  uint64_t pitch;      /* words between consecutive fields (>= n)          */
  const gasp_vid *vid; /* local id of item i                              */
  void *vertex;        /* vertex data, SoA, read and written              */
  const void *acc;     /* gathered accumulators, SoA (NULL if acc_size 0) */
  void *stream;        /* cudaStream_t to launch on                        */
  void *user;          /* gasp_program.user                                */
  uint64_t iteration;  /* superstep (sync) or sweeps so far (async)        */
} gasp_device_batch;

/* Field w (in words of type T) of item i of a batch's SoA array. */
#define GASP_SOA(base, T, w, i, pitch) (((T *)(base))[(w) * (pitch) + (i)])

/* A vertex program.  Sizes are of fixed records the engine allocates:
 * vertex data, edge data and the gather accumulator.  Callbacks that are
 * NULL are skipped (gather_edges / scatter_edges NULL mean the constant
 * gather_dir / scatter_dir below, GASP_DIR_NONE unless set).
 * The accumulator starts zero-filled (or from acc_init) for every update;
 * apply receives it even when no edge was gathered. */
typedef struct gasp_program {
  size_t vertex_size, edge_size, acc_size;
  /* once per vertex before the first run (vertex data starts zeroed) */
  void (*init_vertex)(gasp_ctx *ctx, void *v);
  /* once per edge slot before the first run; weight is 1 if unweighted */
  void (*init_edge)(const gasp_ctx *ctx, void *e, gasp_eid slot, double weight);
  void (*acc_init)(const gasp_ctx *ctx, void *acc);
  gasp_dir (*gather_edges)(const gasp_ctx *ctx, const void *v);
  /* fold one edge into acc */
  void (*gather)(const gasp_ctx *ctx, const void *v, const gasp_edge *e,
                 void *acc);
  /* merge a partial accumulator into acc (associative, commutative) */
  void (*sum)(const gasp_ctx *ctx, void *acc, const void *other);
  /* optional fast path replacing gather over the whole adjacency */
  void (*gather_vertex)(const gasp_ctx *ctx, const void *v,
                        const gasp_nbrs *nbrs, void *acc);
  void (*apply)(gasp_ctx *ctx, void *v, const void *acc);
  gasp_dir (*scatter_edges)(const gasp_ctx *ctx, const void *v);
  /* may gasp_signal() the neighbour (or any vertex) */
  void (*scatter)(gasp_ctx *ctx, const void *v, const gasp_edge *e);
  void *user; /* program parameters, gasp_ctx_user() */
  /* Optional GPU apply over a batch (gasp_device_batch): a host function,
   * compiled by the program's nvcc, that launches the program's kernel on
   * the batch's stream and returns 0, or non-zero when the launch failed.
   * It must compute what apply computes: with --gpu off or no device the
   * engine calls apply instead, and the results must agree within float
   * tolerance.  Only a program whose apply reads nothing but the vertex and
   * its accumulator (no signals, no gasp_ctx_stop, no per-thread partials)
   * can have one.  device_word: 4 or 8 (0: 4), the size of the SoA words;
   * vertex_size and acc_size must be multiples of it. */
  int (*device_apply)(const gasp_device_batch *batch);
  size_t device_word;

  /* Constant directions, for programs whose every update gathers (or
   * scatters) over the same edges: used when gather_edges (scatter_edges)
   * is NULL.  Zero is GASP_DIR_NONE. */
  gasp_dir gather_dir, scatter_dir;
  /* Optional fast path replacing scatter over the whole adjacency: one
   * call per update with the edges of the scatter direction, as
   * gather_vertex has for the gather.  It may signal (with messages);
   * under edge or full consistency it may write the centre's edges'
   * data through nbrs->edge_data. */
  void (*scatter_vertex)(gasp_ctx *ctx, const void *v, const gasp_nbrs *nbrs);

  /* Messages (Pregel's and PowerGraph's signal with a message):
   * gasp_signal_msg() sends msg_size bytes with the signal; the messages a
   * vertex receives before its update are folded into one with `combine`
   * (associative and commutative; gasp_combine_min_f64 and the other
   * combiners below, or the program's own), which may run on any worker
   * thread, concurrently for different vertices.  The update sees the
   * combined message through gasp_ctx_msg().  When msg_size == acc_size
   * the update's accumulator starts as its message (instead of acc_init or
   * zeros) and a gather folds the edges into it, so a message is a
   * pre-gathered partial: a program that pushes its values as messages
   * needs no re-gather over all its in-edges. */
  size_t msg_size;
  void (*combine)(void *msg, const void *other);

  /* Direction optimisation (Beamer, Asanovic, Patterson, SC 2012; Shun and
   * Blelloch's Ligra, PPoPP 2013) for a program that can both pull and
   * push the same information: a gather (gather or gather_vertex, over
   * gather_edges / gather_dir) and a scatter that sends it as messages
   * (msg_size == acc_size, combine).  After a superstep's applies, the
   * vertices whose scatter direction is not GASP_DIR_NONE form the
   * frontier F (a vertex with nothing new must say GASP_DIR_NONE).  The
   * sync engine then chooses for the next superstep:
   *   push: F scatters, and only the vertices that received a message
   *         update, their accumulator being the combined message (they
   *         do not gather);
   *   pull: F does not scatter; every vertex updates and gathers (its
   *         gather_edges may return GASP_DIR_NONE to skip, e.g. a vertex
   *         already final).
   * After a push it pulls when |F| plus the edges F would push along
   * exceeds 1/GASP_PULL_DIVISOR of the edges a pull reads (the graph's
   * edges, twice for a constant gather_dir of GASP_DIR_ALL); after a pull
   * it pulls again while |F| exceeds 1/GASP_PUSH_DIVISOR of the vertices
   * or has not shrunk; or gasp_engine_opts.direction forces one way.  Across ranks the counts are
   * summed over all ranks; with bounded staleness, and in the async
   * engine, it always pushes (a vertex with a message does not gather,
   * one signalled without a message does).  Either way, the first
   * superstep updates the vertices signalled before the run, gathering
   * unless they have a message. */
  int push_pull;
  /* push_pull programs: in a pull superstep, a vertex with no message
   * whose gather_edges returns GASP_DIR_NONE is final and the engine
   * leaves it alone: no accumulator, apply or scatter_edges (without this,
   * every vertex of a pull applies).  So is one with no message whose
   * gather left the accumulator as it started (acc_init's value, or
   * zeros): nothing reached it, and its apply must then have nothing to
   * do.  A pull then costs a final vertex one gather_edges call, none
   * once it has called gasp_ctx_halt(), and the applies and the
   * frontier's scan run over the vertices that gathered something (BFS:
   * the newly reached). */
  int pull_skips_final;
  /* Optional, pull_skips_final programs: a pull's gathers on one process
   * for a block of vertices in one call, where a call per vertex to
   * gather_edges, acc_init and gather_vertex would cost more than the
   * gather itself (BFS: most vertices find a parent at their first or
   * second neighbour).  vs: n vertices of the pull, ascending, none
   * halted and none signalled (with a message or without: those go the
   * usual way); frontier:
   * gasp_nbrs.frontier, F's bitmap.  For each vs[i] the program does what
   * those three would (reading the graph through gasp_ctx_graph(); the
   * vertex data are the superstep's start), and when the accumulator ends
   * other than it started, writes i to hit[k] and the accumulator to acc
   * + k * acc_size, k counting from 0; it returns k.  The engine applies
   * exactly those.  gasp_ctx_vertex() is meaningless in it. */
  uint64_t (*pull_block)(const gasp_ctx *ctx, const gasp_vid *vs, uint64_t n,
                         const uint64_t *frontier, void *acc, uint32_t *hit);

  /* Cache-blocked gather (propagation blocking: Beamer, Asanovic and
   * Patterson, IPDPS 2017; partition-centric processing: Lakhotia, Kannan
   * and Prasanna, USENIX ATC 2018) for a program whose gather is a plain
   * sum over the in-edges of one number computed from the source:
   *     acc (a double, acc_size 8) = sum over u -> v of gather_source(u).
   * Declaring gather_source promises exactly that: gather_dir GASP_DIR_IN,
   * no gather_edges, no acc_init (the sum starts at 0), no messages, no
   * push_pull, and a gather / gather_vertex that computes the same sum
   * (the engine uses it whenever it does not block).  gather_source(ctx,
   * v) gets the source's context and vertex data as of the end of the
   * previous superstep (it runs before any apply of this one) and may run
   * on any worker, once per source with out-edges.
   *
   * Blocked, a superstep's gather runs in two streaming passes instead of
   * one pass of random reads: every source writes its value once per
   * block of destinations it has edges into (a bin per block, in a fixed
   * order), then each block -- a range of destinations whose
   * accumulators fit in the core's L2 cache -- adds its bin's values into
   * them.  The random accesses then hit the L2; what goes to memory is
   * read or written in sequence.  The bins are built once per engine
   * (gasp_run_stats.blocked_build_seconds; 2 bytes an edge -- 4 for
   * blocks over 32768 destinations, 8 more weighted -- and about 10 a
   * source-block pair, blocked_bytes).  The sums are the same numbers
   * added in the same order (ascending source) on any thread count; they
   * may differ from the program's own gather in the last bits.
   *
   * When it pays (gasp_engine_opts.blocked = GASP_BLOCK_AUTO), the sync
   * engine blocks a superstep when every vertex gathers (always_active),
   * the run is on one process (no dist), the sources' values (8 bytes a
   * vertex) exceed half the shared L3 cache (below that a pull's random
   * reads hit the L3, which measured as fast as blocking), there are at
   * least 4 edges per vertex (so that the per-pair cost amortises) and
   * the graph was not reordered for locality (gasp_graph_reorder: its hot
   * sources then share cache lines, and pulling measured as fast).  GASP_BLOCK_ON blocks every superstep
   * (gasp_engine_new fails with GASP_ENOTSUP, saying why, when the program
   * or options do not allow it); GASP_BLOCK_OFF never.  gasp_engine_source_float()
   * makes the bins carry floats (half the bytes; sums stay double). */
  double (*gather_source)(const gasp_ctx *ctx, const void *v);
  /* With gather_source: the sum weighs each edge's value by the edge's
   * weight (the graph's weight column, by edge slot; 1 for a graph
   * without one): acc = sum over u -> v of w(u, v) gather_source(u).  The
   * bins then also carry the weights (8 bytes an edge). */
  int gather_source_weighted;
} gasp_program;

/* Ligra's threshold: pull when a push would walk more than 1/20 of the
 * edges.  Once pulling, go on pulling while F holds more than 1/18 of the
 * vertices or grew since the superstep before (Beamer et al.'s beta). */
#define GASP_PULL_DIVISOR 20
#define GASP_PUSH_DIVISOR 18

/* Combiners for gasp_program.combine over one value of the named type
 * (msg_size must be its size): *msg = min/max/sum(*msg, *other).  The
 * floating-point minimum treats NaN as larger than every number. */
GASP_EXTERN void gasp_combine_min_f64(void *msg, const void *other);
GASP_EXTERN void gasp_combine_max_f64(void *msg, const void *other);
GASP_EXTERN void gasp_combine_sum_f64(void *msg, const void *other);
GASP_EXTERN void gasp_combine_min_u32(void *msg, const void *other);
GASP_EXTERN void gasp_combine_min_u64(void *msg, const void *other);
GASP_EXTERN void gasp_combine_sum_u64(void *msg, const void *other);

/* Context accessors (callable from any callback).  The three a program
 * calls on every update are inline: they read the head that every
 * gasp_ctx begins with (a call apiece costs more than a BFS does on most
 * vertices).  The head is the engine's: read it only through these. */
typedef struct gasp_ctx_head {
  void *user;         /* gasp_program.user */
  uint64_t iteration; /* gasp_ctx_iteration() */
  gasp_vid v;         /* gasp_ctx_vertex() */
  uint8_t *halted;    /* gasp_ctx_halt()'s flags, or NULL */
} gasp_ctx_head;

/* The vertex being updated (a local index). */
static inline gasp_vid gasp_ctx_vertex(const gasp_ctx *ctx) {
  return ((const gasp_ctx_head *)(const void *)ctx)->v;
}
/* Superstep (sync engine) or completed sweeps, updates / vertices (async). */
static inline uint64_t gasp_ctx_iteration(const gasp_ctx *ctx) {
  return ((const gasp_ctx_head *)(const void *)ctx)->iteration;
}
/* gasp_program.user. */
static inline void *gasp_ctx_user(const gasp_ctx *ctx) {
  return ((const gasp_ctx_head *)(const void *)ctx)->user;
}
GASP_EXTERN gasp_gid gasp_ctx_gid(const gasp_ctx *ctx);
GASP_EXTERN uint64_t gasp_ctx_in_degree(const gasp_ctx *ctx);
GASP_EXTERN uint64_t gasp_ctx_out_degree(const gasp_ctx *ctx);
/* Vertices of the whole graph (in a distributed run: of every rank, not
 * only the local graph).  Degrees are the vertex's own; a program that
 * needs a neighbour's degree keeps it in the neighbour's vertex data,
 * since a ghost's local adjacency is only the edges to this rank. */
GASP_EXTERN gasp_vid gasp_ctx_num_vertices(const gasp_ctx *ctx);
/* The calling worker's index, 0 .. gasp_engine_threads()-1: a program may
 * keep per-thread partial sums indexed by it (no two callbacks with the
 * same index run at once). */
GASP_EXTERN int gasp_ctx_thread(const gasp_ctx *ctx);
GASP_EXTERN const gasp_graph *gasp_ctx_graph(const gasp_ctx *ctx);
/* Latest value of aggregator `id`, NULL before its first computation. */
GASP_EXTERN const void *gasp_ctx_aggregate(const gasp_ctx *ctx, int id);
/* Schedules vertex v for an update (sync: in the next superstep; async: as
 * the scheduler decides).  With the priority scheduler, a vertex signalled
 * twice keeps the larger priority. */
GASP_EXTERN void gasp_signal(gasp_ctx *ctx, gasp_vid v);
GASP_EXTERN void gasp_signal_priority(gasp_ctx *ctx, gasp_vid v,
                                      double priority);
/* Signals every neighbour of the vertex being updated along `dir` (not
 * the vertex itself), as gasp_signal() on each would, in one loop: the
 * common "my value moved, tell my out-neighbours" of PageRank-like
 * programs, without a scatter callback per edge. */
GASP_EXTERN void gasp_signal_nbrs(gasp_ctx *ctx, gasp_dir dir, double priority);
/* Signals v with a message of the program's msg_size bytes (copied):
 * messages to one vertex are combined until its update, which reads the
 * result with gasp_ctx_msg().  Sync: v updates in the next superstep;
 * async: as the scheduler decides (priority 0).  Across ranks a message to
 * a ghost travels to the owner at the next exchange. */
GASP_EXTERN void gasp_signal_msg(gasp_ctx *ctx, gasp_vid v, const void *msg);
GASP_EXTERN void gasp_signal_msg_priority(gasp_ctx *ctx, gasp_vid v,
                                          const void *msg, double priority);
/* The combined message of the update under way (valid during its
 * callbacks: gather_edges, gather, apply, scatter_edges, scatter), or
 * NULL when the vertex was signalled without one. */
GASP_EXTERN const void *gasp_ctx_msg(const gasp_ctx *ctx);
/* Ends the run cleanly after the updates under way. */
GASP_EXTERN void gasp_ctx_stop(gasp_ctx *ctx);
/* Pregel's vote to halt, for a pull_skips_final program on the sync
 * engine (a no-op elsewhere), from apply: the vertex promises that its
 * gather_edges returns GASP_DIR_NONE in every later pull of this run, and
 * those pulls pass it over without asking (a byte read, where asking is
 * a call); a signal still updates it.  The vote lasts until the run ends
 * and is not checkpointed: a resumed run asks again. */
static inline void gasp_ctx_halt(gasp_ctx *ctx) {
  gasp_ctx_head *h = (gasp_ctx_head *)(void *)ctx;
  if (h->halted) h->halted[h->v] = 1;
}

/* ------------------------------------------------------------------ */
/* Engines                                                             */
/* ------------------------------------------------------------------ */

typedef enum gasp_engine_kind {
  GASP_ENGINE_SYNC = 0, /* bulk-synchronous supersteps */
  GASP_ENGINE_ASYNC = 1 /* workers pull signalled vertices from a scheduler */
} gasp_engine_kind;

/* What an async update may touch while it runs:
 *  vertex: write the centre only (neighbour data is read unlocked);
 *  edge:   write the centre and its adjacent edges, read the neighbours --
 *          no two adjacent vertices update at once;
 *  full:   write the centre and its neighbours -- no two vertices within
 *          distance 2 update at once.
 * The sync engine is edge-consistent by construction (gathers read the
 * previous superstep's state). */
typedef enum gasp_consistency {
  GASP_CONSISTENCY_VERTEX = 0,
  GASP_CONSISTENCY_EDGE = 1,
  GASP_CONSISTENCY_FULL = 2
} gasp_consistency;

typedef enum gasp_scheduler {
  GASP_SCHED_FIFO = 0,    /* first signalled, first updated          */
  GASP_SCHED_SWEEP = 1,   /* round-robin over vertex ids             */
  GASP_SCHED_PRIORITY = 2 /* largest pending priority first          */
} gasp_scheduler;

/* How the async engine enforces consistency. */
typedef enum gasp_locking {
  GASP_LOCKING_DEFAULT = 0,  /* measured faster: chromatic for edge,
                                locks for vertex and full (README)        */
  GASP_LOCKING_LOCKS = 1,    /* per-vertex reader-writer locks, id order  */
  GASP_LOCKING_CHROMATIC = 2 /* colour classes run one at a time          */
} gasp_locking;

/* Figures of one superstep (sync) or sweep-equivalent (async), for
 * progress and --trace. */
typedef struct gasp_iter_info {
  uint64_t iteration;
  uint64_t active;  /* vertices updated in it */
  uint64_t updates; /* total so far */
  double seconds;   /* since the run started */
  /* the program's measure of change in it, where a caller between the
   * engine and the program reports one (the toolkit calls of
   * gasp_toolkits.h: labels changed, L1 change ...); the engine gives 0 */
  double residual;
} gasp_iter_info;

/* One rank's share of a partitioned graph (see gasp_dist_new). */
typedef struct gasp_dist gasp_dist;

/* Reductions across the ranks of a distributed run. */
typedef enum gasp_reduce_op {
  GASP_REDUCE_SUM = 0,
  GASP_REDUCE_MIN = 1,
  GASP_REDUCE_MAX = 2
} gasp_reduce_op;

typedef enum gasp_gpu_mode {
  GASP_GPU_AUTO = 0,
  GASP_GPU_ON = 1,
  GASP_GPU_OFF = 2
} gasp_gpu_mode;

typedef enum gasp_direction {
  GASP_DIRECTION_AUTO = 0,
  GASP_DIRECTION_PUSH = 1,
  GASP_DIRECTION_PULL = 2
} gasp_direction;

/* Cache-blocked gather (gasp_program.gather_source): see there. */
typedef enum gasp_block_mode {
  GASP_BLOCK_AUTO = 0,
  GASP_BLOCK_ON = 1,
  GASP_BLOCK_OFF = 2
} gasp_block_mode;

typedef struct gasp_engine_opts {
  gasp_engine_kind engine;
  gasp_consistency consistency;
  gasp_scheduler scheduler;
  gasp_locking locking;
  int threads;       /* 0: OMP_NUM_THREADS or all cores */
  uint64_t max_iter; /* sync: supersteps; async: updates <= max_iter * V;
                        0: no limit */
  /* sync only: every vertex is active in every superstep (power
   * iteration); signals are not needed, and the run ends by max_iter,
   * on_iteration or gasp_ctx_stop() */
  int always_active;
  /* optional: called between iterations from the driving thread;
   * returning non-zero stops the run.  With the sync engine the workers
   * are idle then, and the callback may call gasp_engine_aggregate() (the
   * LDA toolkit computes its likelihood there); with the async engine it
   * may not. */
  int (*on_iteration)(void *user, const gasp_iter_info *info);
  void *on_iteration_user;
  /* distributed run (sync engine): the graph must be gasp_dist_graph(dist);
   * only owned vertices update, ghost values and signals for remote
   * vertices travel at every superstep's barrier, and the run ends when no
   * vertex is active on any rank.  NULL: one process. */
  gasp_dist *dist;
  /* distributed sync runs: bounded staleness (stale synchronous
   * parallel).  A rank may run up to `staleness` supersteps ahead of any
   * rank it shares ghosts with: its gathers see every ghost value from at
   * least `staleness` supersteps back, and newer ones as they arrive.
   * Ranks exchange one-way messages instead of meeting at a barrier, and
   * the run ends by distributed quiescence detection (no vertex active and
   * no signal in flight anywhere).  0: a barrier per superstep.  With
   * staleness, on_iteration runs after each of the rank's own supersteps
   * and must not call collectives (gasp_engine_allreduce fails then). */
  unsigned staleness;
  /* Device apply (programs with device_apply only): auto uses the first
   * CUDA device when one is present; on fails at gasp_engine_new when
   * there is none (GASP_ENODEV) or the program has no device apply
   * (GASP_ENOTSUP); off always applies on the CPU. */
  gasp_gpu_mode gpu;
  /* vertices per device batch (0: 65536 for a sync superstep or colour
   * class, 4096 per worker under locks; at most 2^26); the sync engine streams
   * a superstep's applies through two pinned buffers and two streams, so the
   * copies of one batch overlap the kernel of the other */
  uint32_t gpu_batch;
  /* async engine: a worker's partial batch (whose locks it holds) is
   * flushed when it is this old (0: 1 ms) or the scheduler runs dry */
  double gpu_flush_ms;
  /* Programs with push_pull, sync engine: GASP_DIRECTION_AUTO (default)
   * chooses per superstep (see gasp_program.push_pull); PUSH and PULL
   * force one way (for tests and measurements). */
  gasp_direction direction;
  /* Sync engine: write a checkpoint (gasp_engine_checkpoint) to
   * checkpoint_dir every checkpoint_every supersteps of the engine's
   * iteration count and/or when checkpoint_seconds have passed since the
   * last one (0: not by that measure), at the end of a superstep.  A
   * push_pull program's superstep that hands a pull to the next is passed
   * over (its frontier is not yet the vertices' own).  Under bounded
   * staleness each rank cuts after its own superstep N, 2N, ...
   * (checkpoint_every; checkpoint_seconds is refused at gasp_engine_new)
   * and records the peers' payloads that were in flight (a Chandy-Lamport
   * snapshot); such a checkpoint resumes only under staleness on the same
   * ranks.  NULL: none. */
  const char *checkpoint_dir;
  uint64_t checkpoint_every;
  double checkpoint_seconds;
  /* The engine's first gasp_engine_run restores the newest complete
   * checkpoint in resume_dir (see gasp_engine_resume; none there fails the
   * run) and goes on with the run it was written in: its statistics and
   * max_iter count from that run's start.  NULL: a fresh start. */
  const char *resume_dir;
  /* Programs with gather_source, sync engine: when to run the cache-blocked
   * gather (see gasp_program.gather_source), and the destinations per
   * block (0: four partial sums of a block's doubles fill half of one
   * core's L2, a power of two; else rounded up to one, at least 64). */
  gasp_block_mode blocked;
  uint32_t block_vertices;
} gasp_engine_opts;

GASP_EXTERN void gasp_engine_opts_init(gasp_engine_opts *o);
/* Names for command lines: "sync"/"async", "vertex"/"edge"/"full",
 * "fifo"/"sweep"/"priority", "locks"/"chromatic"; GASP_EINVAL otherwise. */
GASP_EXTERN int gasp_engine_kind_parse(const char *s, gasp_engine_kind *out);
GASP_EXTERN int gasp_consistency_parse(const char *s, gasp_consistency *out);
GASP_EXTERN int gasp_scheduler_parse(const char *s, gasp_scheduler *out);
GASP_EXTERN int gasp_locking_parse(const char *s, gasp_locking *out);
/* "auto"/"on"/"off". */
GASP_EXTERN int gasp_gpu_mode_parse(const char *s, gasp_gpu_mode *out);
/* "auto"/"push"/"pull". */
GASP_EXTERN int gasp_direction_parse(const char *s, gasp_direction *out);
/* "auto"/"on"/"off". */
GASP_EXTERN int gasp_block_mode_parse(const char *s, gasp_block_mode *out);

/* Why a run ended. */
typedef enum gasp_stop_reason {
  GASP_STOP_CONVERGED = 0, /* no vertex left active */
  GASP_STOP_MAX_ITER = 1,
  GASP_STOP_PROGRAM = 2, /* gasp_ctx_stop() or on_iteration */
} gasp_stop_reason;

typedef struct gasp_run_stats {
  uint64_t updates;    /* vertex updates (gather-apply-scatter) run */
  uint64_t iterations; /* supersteps, or updates / vertices for async */
  double seconds;
  gasp_stop_reason reason;
  int colors;               /* chromatic runs: colour classes used, else 0 */
  uint64_t pull_iterations; /* push_pull programs: supersteps that pulled */
  int threads;              /* worker threads the run used */
  /* checkpoints (sync engine, opts.checkpoint_*): written during the run,
   * the seconds and bytes (this rank's files) they took; resumed: the run
   * went on from the checkpoint of iteration resumed_from, whose reading
   * took resume_seconds (counted neither in seconds nor in the run's) */
  uint64_t checkpoints, checkpoint_bytes;
  double checkpoint_seconds;
  int resumed;
  uint64_t resumed_from;
  double resume_seconds;
  /* cache-blocked gather (gasp_program.gather_source): supersteps whose
   * gather was blocked; the bins' bytes and the seconds building them took
   * in this run (0 when they were built by an earlier run of the engine;
   * counted in seconds); the (source, block) pairs, each a value written
   * and read per superstep */
  uint64_t blocked_iterations, blocked_bytes, blocked_pairs;
  double blocked_build_seconds;
} gasp_run_stats;

/* An engine runs one program over one graph.  gasp_engine_new() allocates
 * the graph's vertex and edge data to the program's sizes and runs
 * init_vertex / init_edge; the graph must outlive the engine and is not
 * otherwise modified.  The engine is driven from one thread. */
typedef struct gasp_engine gasp_engine;

GASP_EXTERN int gasp_engine_new(gasp_engine **out, gasp_graph *g,
                                const gasp_program *prog,
                                const gasp_engine_opts *opts, gasp_error *err);
GASP_EXTERN void gasp_engine_free(gasp_engine **e);
/* Number of worker threads the engine runs callbacks on. */
GASP_EXTERN int gasp_engine_threads(const gasp_engine *e);
/* Activates vertices for the next run (priority for the priority
 * scheduler; others ignore it). */
GASP_EXTERN int gasp_engine_signal(gasp_engine *e, gasp_vid v, double priority);
GASP_EXTERN int gasp_engine_signal_all(gasp_engine *e, double priority);
/* Activates v with a message (msg_size bytes, combined with any message
 * already pending for it); GASP_EINVAL when the program has no messages. */
GASP_EXTERN int gasp_engine_signal_msg(gasp_engine *e, gasp_vid v,
                                       const void *msg, double priority);
/* Runs until no vertex is active, max_iter, or the program stops it.
 * Signals left when it stops early stay pending for the next run. */
GASP_EXTERN int gasp_engine_run(gasp_engine *e, gasp_run_stats *stats);
/* The details of the last failed run (e.g. which peer was lost); code 0
 * when the last run succeeded. */
GASP_EXTERN const gasp_error *gasp_engine_last_error(const gasp_engine *e);
/* Programs with gather_source: whether the cache-blocked gather's bins
 * carry the sources' values as floats (on) or doubles (off, the default)
 * from the next superstep on; callable between runs or from on_iteration.
 * A program that converges past float precision switches back for its
 * last supersteps (the PageRank toolkit does).  GASP_EINVAL without
 * gather_source. */
GASP_EXTERN int gasp_engine_source_float(gasp_engine *e, int on);

/* The device apply: whether runs of this engine use it, the device, and
 * what it did so far (batches, how they were flushed, bytes each way, and
 * the seconds the driving thread or workers spent in device batches). */
typedef struct gasp_gpu_stats {
  int used;         /* 1: applies run on the device */
  char device[128]; /* its name, or why none is used */
  uint64_t batches, vertices;
  uint64_t flush_full, flush_time, flush_idle; /* why batches were sent */
  uint64_t bytes_in, bytes_out;
  double seconds;
} gasp_gpu_stats;
GASP_EXTERN void gasp_engine_gpu_stats(const gasp_engine *e,
                                       gasp_gpu_stats *out);

/* ---- distributed runs -------------------------------------------------- */

/* Registers a per-vertex array the program keeps outside vertex data
 * (num_vertices * elem_size bytes, indexed by local id) that gathers read
 * for neighbours: in a distributed run each updated vertex's element
 * travels with its vertex data to the ranks holding it as a ghost.  At
 * most 8 arrays; a no-op cost on one process. */
GASP_EXTERN int gasp_engine_mirror(gasp_engine *e, void *array,
                                   size_t elem_size);
/* Element-wise reduction over all ranks (gasp_cluster_allreduce) from the
 * driving thread, e.g. in on_iteration, which every rank calls once per
 * superstep; returns at once on one process. */
GASP_EXTERN int gasp_engine_allreduce(gasp_engine *e, double *vals, size_t n,
                                      gasp_reduce_op op);

/* ---- checkpoints ----------------------------------------------------
 *
 * A checkpoint holds what decides the rest of a run: vertex and edge data,
 * the vertices active next (with their priorities and messages), the
 * aggregators' values, the iteration and update counts, and the caller's
 * registered state.  Restored into an engine of the same program on the
 * same graph (the same partition and rank), the next gasp_engine_run goes
 * on as the interrupted one would have: for a program whose result does
 * not depend on the thread count, to the same bits.
 *
 * Files: DIR/step-<iteration>/rank-<r>.ckpt (a header saying what it is
 * for, the sections, a checksum), each written to a temporary, fsync'ed,
 * renamed and its directory fsync'ed; then, once every rank has written
 * its own, rank 0 writes DIR/step-<iteration>/MANIFEST.  The newest two
 * complete generations are kept. */

/* Registers `size` bytes at `data` as state saved with every checkpoint
 * and restored by gasp_engine_resume (a toolkit's side arrays, RNG
 * states, counters), under `name` (1 .. 63 characters, unique); the
 * memory must stay valid while the engine lives.  Every rank registers
 * the same names in the same order. */
GASP_EXTERN int gasp_engine_checkpoint_state(gasp_engine *e, const char *name,
                                             void *data, size_t size);
/* A string naming the run (program and the options that shape its
 * result); a checkpoint is refused by a run whose key differs.  NULL: "". */
GASP_EXTERN int gasp_engine_set_checkpoint_key(gasp_engine *e,
                                               const char *key);
/* Writes a checkpoint now (between runs; every rank calls it, a
 * collective).  GASP_EIO when a file cannot be written on any rank. */
GASP_EXTERN int gasp_engine_checkpoint(gasp_engine *e, const char *dir);
/* Restores the newest complete checkpoint in dir that every rank can read
 * (each rank calls it, a collective); *iteration (may be NULL) receives
 * its iteration.  A damaged or truncated generation is passed over for
 * the one before.  GASP_ENOENT when there is none; GASP_EINVAL for one
 * written for another graph, partition, rank count, program or run key
 * (the message says which); GASP_EFORMAT when every one is damaged. */
GASP_EXTERN int gasp_engine_resume(gasp_engine *e, const char *dir,
                                   uint64_t *iteration);

/* ---- aggregators ---------------------------------------------------- */

/* A map-reduce over vertices (map_vertex) and/or edges (map_edge): each
 * worker folds items into its own zeroed partial of `size` bytes, partials
 * are merged with `combine`, and `finalize` (optional) post-processes the
 * result.  Computed on demand (gasp_engine_aggregate), before a run, and
 * periodically: every `period_iterations` supersteps (sync) or every
 * `period_seconds` (async).  Programs read the latest value with
 * gasp_ctx_aggregate().  In a distributed run each rank maps the vertices
 * it owns and their out-edges, and on the sync engine (without bounded
 * staleness) the ranks' values are combined in rank order, so every rank
 * reads the same aggregate of the whole graph; gasp_engine_aggregate is
 * then a collective (every rank calls it).  The async engine's and a
 * stale run's periodic values are the rank's own. */
typedef struct gasp_aggregator {
  size_t size;
  void (*map_vertex)(const gasp_graph *g, gasp_vid v, const void *vdata,
                     void *acc, void *user);
  void (*map_edge)(const gasp_graph *g, gasp_vid src, gasp_vid dst,
                   gasp_eid slot, const void *edata, void *acc, void *user);
  void (*combine)(void *acc, const void *other, void *user);
  void (*finalize)(void *acc, void *user);
  uint64_t period_iterations;
  double period_seconds;
  void *user;
} gasp_aggregator;

/* Registers an aggregator; *id receives its handle for gasp_ctx_aggregate
 * and gasp_engine_aggregate. */
GASP_EXTERN int gasp_engine_add_aggregator(gasp_engine *e,
                                           const gasp_aggregator *a, int *id);
/* Computes aggregator `id` now (between runs) and copies it to out. */
GASP_EXTERN int gasp_engine_aggregate(gasp_engine *e, int id, void *out);

/* ---- parallel loops ------------------------------------------------- */

/* One item of gasp_engine_map: item i on worker tid (0 .. threads-1, so a
 * program may keep per-worker scratch), folding into that worker's
 * partial (NULL when the map has no reduction). */
typedef void (*gasp_map_fn)(void *user, uint64_t i, int tid, void *partial);

/* A parallel loop over items 0 .. n-1 on the engine's workers, for the
 * work a program does around its runs (evaluation, Gram matrices, sums
 * over a test set): callable between runs and from a sync engine's
 * on_iteration, not from inside a callback.  With partial_size > 0 each
 * worker folds its items into its own zero-filled partial; afterwards the
 * partials are folded in worker order by combine(out, partial, user) into
 * out (overwritten with worker 0's first), so a sum is reproducible for a
 * given number of threads when grain is 0.  grain 0 gives each worker one
 * contiguous block; grain > 0 hands out chunks of that many items as
 * workers come free (for items of uneven cost).  GASP_ENOMEM when the
 * partials cannot be allocated (nothing ran then). */
GASP_EXTERN int gasp_engine_map(gasp_engine *e, uint64_t n, uint64_t grain,
                                gasp_map_fn fn, size_t partial_size,
                                void (*combine)(void *out, const void *partial,
                                                void *user),
                                void *user, void *out);

/* ------------------------------------------------------------------ */
/* Clusters: processes that run one program together                  */
/* ------------------------------------------------------------------ */

/* N processes (ranks 0 .. N-1, on one machine or many) joined in a full
 * mesh of TCP connections (libevent bufferevents, TCP_NODELAY) carrying
 * length-prefixed msgpack frames.  Every connection starts with a
 * challenge-response handshake: each side proves it holds the cluster key
 * with an HMAC-SHA-256 of a random challenge, so the key never crosses the
 * wire and a connection without it is dropped.  Every frame is
 * bounds-checked before it is decoded; a frame larger than max_frame, a
 * malformed frame, a closed connection or a silent peer (timeout) ends the
 * cluster's work with an error naming the peer.
 *
 * Meeting: with `peers` (one "host:port" per rank) rank r listens on
 * peers[r] and connects to every lower rank.  Otherwise ranks meet at the
 * coordinator address: rank 0 listens there (or on listen_fd, an already
 * bound and listening socket), the others listen on an ephemeral port of
 * `bind_host`, tell rank 0 their address, receive the table of all
 * addresses and connect to every lower rank.
 *
 * A cluster handle is driven from one thread.  Collective calls
 * (gasp_cluster_exchange, _allreduce, _barrier) must be made by every rank
 * in the same order: the frames carry a step number, not what the step
 * is, so a rank that skips a collective pairs its next one with the
 * others' skipped one.  A process using clusters should ignore SIGPIPE
 * (the library does not touch signal dispositions): a write to a lost
 * peer then fails and is reported instead of killing the process. */
typedef struct gasp_cluster gasp_cluster;

typedef struct gasp_cluster_opts {
  int rank, size;
  const char *const *peers; /* size listen addresses, or NULL            */
  const char *coordinator;  /* "host:port" of rank 0 when peers is NULL  */
  int listen_fd;            /* rank 0: a listening socket to use, or -1  */
  const char *bind_host;    /* ranks > 0 listen here (default 127.0.0.1) */
  const void *key;          /* cluster key (required, at least 8 bytes)  */
  size_t key_len;
  size_t max_frame; /* largest frame accepted, bytes (0: 64 MiB)             */
  double timeout;   /* seconds to wait for peers to meet and for each
                       collective step (0: 60)                               */
} gasp_cluster_opts;

GASP_EXTERN void gasp_cluster_opts_init(gasp_cluster_opts *o);
/* Joins the cluster; returns when every rank is connected and
 * authenticated, or fails (GASP_EIO, GASP_ETIMEDOUT, GASP_EAUTH ...) with
 * the reason in err. */
GASP_EXTERN int gasp_cluster_new(gasp_cluster **out, const gasp_cluster_opts *o,
                                 gasp_error *err);
/* Says goodbye to every peer (so they see a clean end, not a lost peer)
 * and closes the connections.  Accepts NULL. */
GASP_EXTERN void gasp_cluster_free(gasp_cluster **c);
/* This rank has failed: tells every peer why (an ABORT frame, waiting a
 * second at most for it to leave), so that each stops at once with
 * GASP_EPEER naming this rank and `reason` instead of waiting for the
 * timeout; the cluster is failed afterwards (free it, no goodbye is
 * said).  Accepts NULL. */
GASP_EXTERN void gasp_cluster_abort(gasp_cluster *c, const char *reason);
GASP_EXTERN int gasp_cluster_rank(const gasp_cluster *c);
GASP_EXTERN int gasp_cluster_size(const gasp_cluster *c);
/* Connections dropped during start-up for failing the handshake. */
GASP_EXTERN uint64_t gasp_cluster_rejected(const gasp_cluster *c);
/* Bytes sent and received so far (frames included). */
GASP_EXTERN void gasp_cluster_traffic(const gasp_cluster *c, uint64_t *sent,
                                      uint64_t *received);

/* All-to-all: sends send[p][0 .. send_len[p]) to every rank p != self
 * (large payloads go as several frames, with back-pressure) and receives
 * what each rank sent to this one: recv[p] points into memory the cluster
 * owns until the next collective call; recv[self] is NULL. */
GASP_EXTERN int gasp_cluster_exchange(gasp_cluster *c, const void *const *send,
                                      const size_t *send_len, const void **recv,
                                      size_t *recv_len, gasp_error *err);

/* Element-wise reduction of vals[0..n) over all ranks, in rank order (the
 * same bits on every rank); the result replaces vals. */
GASP_EXTERN int gasp_cluster_allreduce(gasp_cluster *c, double *vals, size_t n,
                                       gasp_reduce_op op, gasp_error *err);
GASP_EXTERN int gasp_cluster_barrier(gasp_cluster *c, gasp_error *err);

/* ---- one rank's share of a partitioned graph ---------------------- */

/* Given the whole graph and an owner map (gasp_partition_metis or _hash;
 * every rank must pass the same), builds this rank's local graph: the
 * vertices it owns (local ids 0 .. num_owned-1, ascending global id),
 * then their ghosts (remote neighbours, ascending global id), and every
 * edge with an owned end.  Gives the engine (gasp_engine_opts.dist) the
 * per-peer lists along which ghost values and remote signals travel.
 * A bipartite graph's local graph is not itself bipartite (owned
 * vertices come first, left and right mixed): gasp_dist_side says which
 * side a local vertex is on (global order puts left before right, so the
 * owned left vertices precede the owned right ones, and likewise for the
 * ghosts). */
GASP_EXTERN int gasp_dist_new(gasp_dist **out, gasp_cluster *c,
                              const gasp_graph *g, const uint32_t *owner,
                              gasp_error *err);
GASP_EXTERN void gasp_dist_free(gasp_dist **d);
/* The local graph (owned by d; run the engine on it). */
GASP_EXTERN gasp_graph *gasp_dist_graph(gasp_dist *d);
GASP_EXTERN gasp_cluster *gasp_dist_cluster(gasp_dist *d);
/* Global vertex id (in the whole graph) of local vertex `local`. */
GASP_EXTERN gasp_vid gasp_dist_global_id(const gasp_dist *d, gasp_vid local);
GASP_EXTERN uint64_t gasp_dist_global_vertices(const gasp_dist *d);
/* The side of local vertex `local` in the whole (bipartite) graph; every
 * vertex is GASP_SIDE_LEFT when the graph is not bipartite. */
GASP_EXTERN gasp_side gasp_dist_side(const gasp_dist *d, gasp_vid local);
GASP_EXTERN uint64_t gasp_dist_global_edges(const gasp_dist *d);
/* Ghost values this rank receives per full exchange. */
GASP_EXTERN uint64_t gasp_dist_ghost_values(const gasp_dist *d);
/* Collective: collects every rank's owned vertex data (size bytes per
 * vertex, local order) on rank 0 into global_data (global vertex order,
 * global_vertices * size bytes; other ranks pass NULL). */
GASP_EXTERN int gasp_dist_gather(gasp_dist *d, const void *local_data,
                                 size_t size, void *global_data,
                                 gasp_error *err);

/* Collective: gives every ghost a list of vertices from its owner, e.g.
 * the owner's adjacency or a subset of it.  off[0 .. num_owned] and
 * items[off[0] .. off[num_owned]) hold a list of local vertex ids for
 * each owned vertex v (items[off[v] .. off[v + 1])); each list goes, as
 * global ids, to every rank that holds v as a ghost.  On success
 * *ghost_off (num_ghosts + 1 entries, from 0) and *ghost_items give, for
 * ghost i (local id num_owned + i), its owner's list in the owner's order,
 * in this rank's local ids, without the members this rank does not hold.
 * Both arrays are malloc'd and the caller frees them (also with no
 * ghosts); on failure both are NULL.  Every rank must call it (ranks
 * without ghosts too).  GASP_EINVAL: an offset out of order or an item
 * not a local id (the call still makes its step, so the peers fail at
 * once); GASP_EPEER: a peer's payload did not match the agreed lists or
 * named a vertex past the graph (err names the peer).  A dist read from
 * partition files builds its global-to-local table (4 bytes per vertex
 * of the whole graph) on the first call. */
GASP_EXTERN int gasp_dist_ghost_lists(gasp_dist *d, const uint64_t *off,
                                      const gasp_vid *items,
                                      uint64_t **ghost_off,
                                      gasp_vid **ghost_items, gasp_error *err);
/* Collective: adds every ghost's value to its owner's.  vals has one
 * value per local vertex (num_vertices of the local graph); on success
 * each owned vertex's entry holds its own value plus the values every
 * rank holding it as a ghost had for it (modulo 2^64), and the ghosts'
 * entries are zero.  For counts kept at all corners of a pattern (a
 * triangle's three vertices, an edge's two ends) that cross ranks.
 * Every rank must call it.  On failure (GASP_ENOMEM, GASP_EPEER naming
 * the peer, or the cluster's error) vals is unchanged. */
GASP_EXTERN int gasp_dist_sum_to_owners(gasp_dist *d, uint64_t *vals,
                                        gasp_error *err);

/* Partition files: writes PREFIX.R.gpart for every rank R (the rank's
 * local graph, its per-peer lists, the owner map and the original ids of
 * all vertices; checksummed), so that a big graph is partitioned once. */
GASP_EXTERN int gasp_dist_save_parts(const gasp_graph *g, const uint32_t *owner,
                                     int parts, const char *prefix,
                                     gasp_error *err);
/* Reads this rank's PREFIX.<rank>.gpart (written for a cluster of the
 * same size), checking the checksum and every index before use. */
GASP_EXTERN int gasp_dist_load(gasp_dist **out, gasp_cluster *c,
                               const char *prefix, gasp_error *err);
/* From a partition file: the original id of every vertex of the whole
 * graph in global order (ascending); NULL for a dist built from the whole
 * graph (the caller has it). */
GASP_EXTERN const gasp_gid *gasp_dist_global_gids(const gasp_dist *d);

/* ------------------------------------------------------------------ */
/* Library facts                                                       */
/* ------------------------------------------------------------------ */

GASP_EXTERN const char *gasp_version_string(void);

/* GPU detection: fills `name` (len bytes) with the first CUDA device's name
 * and returns the number of usable devices; 0 when the library was built
 * without CUDA or no device is present (name then says why). */
GASP_EXTERN int gasp_gpu_probe(char *name, size_t len);
/* 1 when this build includes the CUDA path. */
GASP_EXTERN int gasp_gpu_compiled(void);

#ifdef __cplusplus
}
#endif
#endif /* GASP_H */
