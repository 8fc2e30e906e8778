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
 * gasp_dist_global_id); on a reordered graph (gasp_graph_reorder) the
 * member with the smallest original id.  GASP_ENOTSUP for Afforest on the async engine
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

/* ---- latent Dirichlet allocation (topic models) ---------------------- */

/* A corpus is a bipartite graph: documents on the left side (local ids
 * 0 .. D-1), words on the right (D .. D+W-1), one edge per (document,
 * word) entry weighted by its count, a positive integer (1 on an
 * unweighted graph); at most 2^32-1 tokens in all.  gasp_graph_load's
 * corpus formats (UCI bag-of-words, LDA-C, triples) give one, as does
 * gasp_graph_from_coo with GASP_BUILD_BIPARTITE | GASP_BUILD_WEIGHTED
 * (documents as sources).  Across ranks every rank passes its local graph
 * of the partitioned corpus (gasp_dist_side tells documents from words). */

#define GASP_LDA_MAX_TOPICS 65535

/* What a training run reports, after every sweep (to on_sweep) and at the
 * end (gasp_lda's info). */
typedef struct gasp_lda_info {
  uint64_t sweep;                    /* sweeps done */
  uint64_t documents, words, tokens; /* of the whole corpus */
  uint64_t moved;          /* tokens whose topic changed in the last sweep
                              (this process's documents) */
  double loglik;           /* log p(w, z) per token (Griffiths & Steyvers
                              2004): at the end always; in on_sweep after
                              every sweep with sweep_loglik, else NAN */
  double sweep_seconds;    /* sampling time of the last sweep */
  double sampling_seconds; /* of all sweeps so far (likelihood evaluations
                              and callbacks left out) */
  double run_seconds;      /* since the run started, at the end of the
                              last sweep's sampling */
  int threads;             /* worker threads sampling */
  const char *kernel;      /* the sampler: "avx2", "avx512" or "baseline"
                              (a static string) */
} gasp_lda_info;

typedef struct gasp_lda_opts {
  gasp_engine_opts engine; /* the sync engine (one superstep per Gibbs
                              sweep); max_iter: sweeps (0: 200);
                              on_iteration sees the log-likelihood per
                              token as info->residual (NAN without
                              sweep_loglik) */
  int topics;              /* K, 1 .. GASP_LDA_MAX_TOPICS; 20 */
  double alpha;            /* document-topic prior; 0: 50 / K */
  double beta;             /* topic-word prior; 0.01 */
  uint64_t seed;           /* 1; one random stream per document and sweep,
                              so one thread gives the same result for a
                              seed (and so do ranks of one thread each) */
  int sweep_loglik;        /* evaluate the likelihood after every sweep
                              for the callbacks (a pass over the counts,
                              not counted as sampling time); across ranks
                              a collective: set it alike on every rank */
  const char *kernel;      /* the build of the sampler: NULL or "avx2":
                              AVX2+FMA where the processor has it, else
                              "baseline" (portable); "avx512" where it has
                              AVX-512, else as NULL */
  /* optional: called after every sweep from the driving thread (as
   * on_iteration); returning non-zero ends the run after that sweep */
  int (*on_sweep)(void *user, const gasp_lda_info *info);
  void *on_sweep_user;
} gasp_lda_opts;

GASP_EXTERN void gasp_lda_opts_init(gasp_lda_opts *o);
/* Collapsed Gibbs sampling (Griffiths & Steyvers 2004), documents in
 * parallel (Hogwild: word counts shared without locks, topic totals
 * refreshed every sweep; across ranks AD-LDA, the word counts summed
 * after every sweep), from topics drawn uniformly.  Results:
 *   counts: num_vertices x K, row-major, row v the topic counts of local
 *     vertex v: rows 0 .. D-1 the document-topic counts n_dk (each row
 *     sums to the document's length), rows D .. D+W-1 the word-topic
 *     counts n_wk (each sums to the word's frequency); every column of
 *     the word rows sums to the tokens of that topic.  Across ranks the
 *     owned documents' rows and every word row are final; ghost
 *     documents' rows are 0 (gasp_dist_gather collects the owned rows).
 *   info (optional): the figures above, loglik after the last sweep.
 * gasp_lda_theta and gasp_lda_phi turn the counts into distributions.
 * GASP_EINVAL for a graph that is not a corpus (err says which entry) or
 * bad options; GASP_ENOTSUP for the async engine or bounded staleness. */
GASP_EXTERN int gasp_lda(gasp_graph *corpus, const gasp_lda_opts *o,
                         uint32_t *counts, gasp_lda_info *info,
                         gasp_run_stats *stats, gasp_error *err);
/* theta_dk = (n_dk + alpha) / (n_d + K alpha), n_d the row sum, for docs
 * rows of doc_counts (docs x K) into theta (docs x K). */
GASP_EXTERN void gasp_lda_theta(const uint32_t *doc_counts, uint64_t docs,
                                int K, double alpha, double *theta);
/* phi_wk = p(word w | topic k) = (n_wk + beta) / (n_k + W beta), n_k the
 * column sums, for the words x K rows of word_counts (every word of the
 * corpus: across ranks, gathered) into phi.  GASP_ENOMEM, GASP_EINVAL. */
GASP_EXTERN int gasp_lda_phi(const uint32_t *word_counts, uint64_t words, int K,
                             double beta, double *phi);

/* Topics fixed for inference: phi of `words` word ids. */
typedef struct gasp_lda_model {
  int topics;               /* K, 1 .. GASP_LDA_MAX_TOPICS */
  uint64_t words;           /* rows of phi */
  const gasp_gid *word_ids; /* each row's word id, strictly ascending;
                               matched against the corpus's word ids (its
                               right side) */
  const double *phi;        /* words x K, row-major: p(word | topic), e.g.
                               from gasp_lda_phi (sampled in single
                               precision) */
} gasp_lda_model;

typedef struct gasp_lda_infer_opts {
  gasp_engine_opts engine; /* threads; one superstep of the sync engine
                              in which every document runs its sweeps
                              (max_iter is not used) */
  double alpha;            /* document-topic prior; 0: 50 / K */
  uint64_t sweeps;         /* Gibbs sweeps per document; 100 */
  uint64_t seed;           /* 1 */
  int perplexity;          /* document completion (Wallach et al. 2009):
                              theta from a seeded random half of each
                              document's tokens, the other half scored */
} gasp_lda_infer_opts;

typedef struct gasp_lda_infer_info {
  uint64_t documents, tokens;
  uint64_t unknown_tokens; /* of words the model does not have: skipped */
  uint64_t heldout_tokens; /* scored by the perplexity */
  double perplexity;       /* exp(-sum log p(w) / heldout_tokens); NAN
                              without opts.perplexity or held-out tokens */
  int threads;
} gasp_lda_infer_info;

GASP_EXTERN void gasp_lda_infer_opts_init(gasp_lda_infer_opts *o);
/* Folding in (Griffiths & Steyvers 2004): each document's topics are
 * resampled by Gibbs from p(z_i = k) ~ (n_dk + alpha) phi_wk with phi
 * fixed; theta (num_docs x K, row d for document d) is the average of
 * (n_dk + alpha) / (n_d + K alpha) over the second half of the sweeps.
 * The corpus as for gasp_lda, on one process (GASP_ENOTSUP across
 * ranks).  GASP_EINVAL for a bad model, corpus or options. */
GASP_EXTERN int gasp_lda_infer(gasp_graph *corpus, const gasp_lda_infer_opts *o,
                               const gasp_lda_model *model, double *theta,
                               gasp_lda_infer_info *info, gasp_run_stats *stats,
                               gasp_error *err);
/* ---- matrix factorization: ALS and SGD ------------------------------- */

/* A ratings graph is bipartite: users on the left, items on the right, an
 * edge from user u to item i per rating, the rating its weight (a ratings
 * file loaded with GASP_FORMAT_RATINGS, or gasp_graph_from_coo with
 * GASP_BUILD_BIPARTITE and weights).  The model gives every user u and item
 * i a vector of `rank` factors, x_u and y_i, and predicts r_ui by
 * x_u . y_i, or with SGD's biases by mu + b_u + b_i + x_u . y_i (mu: the
 * mean rating).
 *
 * Both methods run on the sync engine and alternate sides: a sweep (an
 * epoch) updates every user with the items fixed, then every item with the
 * users fixed -- the chromatic schedule of a bipartite graph, so nothing
 * races and the factors do not depend on the number of threads.  The
 * initial factors are pseudo-random in [0, 1/sqrt(rank)), a function of
 * the seed, the side and the vertex's original id (so the same on any
 * partition).
 *
 * Factors: `factors` is num_vertices x rank floats, row-major (row v: the
 * factors of local vertex v, user or item), and `bias` (biased SGD)
 * num_vertices floats; the caller owns both.  In a distributed run the
 * rows are the rank's local vertices (owned users, owned items, then
 * ghosts; gasp_dist_side tells users from items). */

typedef struct gasp_mf_sweep {
  uint64_t sweep;       /* 1, 2, ... */
  double train_rmse;    /* RMSE of the factors after the sweep over every
                           rank's training ratings (biased: with mu and
                           biases); NaN for implicit ALS */
  double sweep_seconds; /* the sweep's own time (both half-steps and the
                           training error) */
  double seconds;       /* since the first sweep began, callbacks included */
  uint64_t updates;     /* vertex updates so far, this rank */
  const float *factors; /* the call's factors array: this sweep's factors */
  const float *bias;    /* the call's bias array (biased SGD), else NULL */
  gasp_engine *engine;  /* the call's engine, idle during the callback: the
                           caller may evaluate the factors on its workers
                           (gasp_engine_map) and, in a distributed run, call
                           collectives (every rank calls back every sweep);
                           not to be run, signalled or freed */
} gasp_mf_sweep;

typedef struct gasp_mf_opts {
  /* The sync engine only (GASP_ENOTSUP otherwise, and for bounded
   * staleness).  max_iter: sweeps (0: ALS 10, SGD 40).  on_iteration, when
   * set, is called once per sweep, with the sweep as info->iteration, its
   * updates as info->active and the train RMSE as info->residual.  gpu
   * (gasp_als, one process, a CUDA build): auto solves the normal
   * equations on the device when one is present and takes the rank, else
   * on the CPU (see gasp_mf_info.gpu); on fails without a device
   * (GASP_ENODEV) or where the device declines or fails (GASP_EIO);
   * gasp_sgd and distributed runs take no device (on: GASP_ENOTSUP). */
  gasp_engine_opts engine;
  int rank;           /* factors per vertex, 1 .. 1024; 20 */
  double lambda;      /* regularisation, >= 0; 0.1.  ALS: lambda n_u on a
                         vertex with n_u ratings (weighted-lambda, Zhou et
                         al. 2008); implicit ALS: lambda; SGD: lambda per
                         rating, on both vectors */
  double alpha;       /* gasp_als: 0 explicit; > 0 implicit feedback (Hu,
                         Koren and Volinsky 2008): ratings are counts
                         (>= 0), confidence 1 + alpha r, preference 1 on
                         every rated pair, 0 elsewhere */
  int biased;         /* gasp_sgd: learn mu + b_u + b_i as well */
  double lr;          /* gasp_sgd: learning rate of epoch 1, > 0; 0.04 */
  double decay;       /* gasp_sgd: rate multiplier per epoch, > 0; 0.95 */
  double lambda_bias; /* gasp_sgd, biased, and gasp_svdpp: bias
                         regularisation; negative (the default, -1):
                         lambda */
  double lr_implicit;     /* gasp_svdpp: step of the implicit factors y in
                             epoch 1 (falls by decay too), >= 0; 0.03 */
  double lambda_implicit; /* gasp_svdpp: their regularisation, >= 0; 20 */
  uint64_t seed;      /* initial factors; SGD: where passes start; 1 */
  /* Optional: called after every sweep on the driving thread (every rank);
   * the factors (and biases) of the sweep are in the caller's arrays.
   * Returning non-zero ends the run after this sweep (reason
   * GASP_STOP_PROGRAM; across ranks every rank must return the same). */
  int (*on_sweep)(void *user, const gasp_mf_sweep *s);
  void *on_sweep_user;
} gasp_mf_opts;

/* What a call found and did; set before the first on_sweep call (mean,
 * range, gpu.used and gpu.device) and complete at return. */
typedef struct gasp_mf_info {
  double mean;       /* mu: the mean rating, over every rank */
  double min_rating; /* the rating range, over every rank (for clamping
                        predictions) */
  double max_rating;
  double train_rmse;  /* of the last sweep; NaN for implicit ALS */
  gasp_gpu_stats gpu; /* the device ALS used (gpu.used) and its batches;
                         under gpu auto, where the device declined (a rank
                         too large for it, too little memory), used is 0
                         and device says why */
} gasp_mf_info;

GASP_EXTERN void gasp_mf_opts_init(gasp_mf_opts *o);

/* Alternating least squares: each half-step solves every vertex's
 * regularised least-squares problem with the other side fixed,
 *   (sum_j y_j y_j^T + lambda n_u I) x_u = sum_j r_uj y_j
 * (implicit: (Y^T Y + sum_j alpha r_uj y_j y_j^T + lambda I) x_u =
 * sum_j (1 + alpha r_uj) y_j), by Cholesky in double from sums in float; a
 * vertex without ratings (explicit) keeps its initial factors.  factors:
 * see above; info, stats and err may be NULL.  GASP_EINVAL for a graph
 * that is not a weighted ratings graph, an option out of range, or
 * negative ratings with alpha > 0. */
GASP_EXTERN int gasp_als(gasp_graph *ratings, const gasp_mf_opts *o,
                         float *factors, gasp_mf_info *info,
                         gasp_run_stats *stats, gasp_error *err);

/* Block-coordinate SGD on LIBMF's objective (squared error + lambda
 * (|x_u|^2 + |y_i|^2) per rating, + lambda_bias (b_u^2 + b_i^2) biased):
 * in a half-step every user runs an SGD pass over its ratings with the
 * items fixed (starting at a pseudo-random rating, varied per epoch), then
 * every item with the users fixed; the rate falls by decay each epoch.
 * bias: num_vertices floats when o->biased (else ignored, may be NULL).
 * Errors as gasp_als. */
GASP_EXTERN int gasp_sgd(gasp_graph *ratings, const gasp_mf_opts *o,
                         float *factors, float *bias, gasp_mf_info *info,
                         gasp_run_stats *stats, gasp_error *err);

/* Non-negative matrix factorization by Lee and Seung's multiplicative
 * updates ("Algorithms for non-negative matrix factorization", NIPS 2000)
 * over the observed ratings: in each half-step every row of one side is
 * updated with the other side fixed,
 *   x_c <- x_c (sum_j r_j y_jc) / ((sum_j y_j y_j^T x)_c + lambda x_c),
 * which never raises sum over the ratings of (r - x.y)^2 + lambda (sum
 * |x_u|^2 + sum |y_i|^2) and keeps the factors non-negative (from
 * non-negative starting ones; a factor at 0 stays there).  Ratings must
 * be non-negative (GASP_EINVAL names the smallest); alpha must be 0;
 * lambda is per row, not times the rating count; max_iter 0: 10 sweeps;
 * no device.  Otherwise as gasp_als. */
GASP_EXTERN int gasp_nmf(gasp_graph *ratings, const gasp_mf_opts *o,
                         float *factors, gasp_mf_info *info,
                         gasp_run_stats *stats, gasp_error *err);

/* Weighted ALS: gasp_als (explicit) with a weight per rating, minimising
 *   sum_{rated u,i} w_ui (r_ui - x_u . y_i)^2
 *     + lambda (sum_u W_u |x_u|^2 + sum_i W_i |y_i|^2)
 * where W_v is the sum of the weights of v's ratings (weighted-lambda;
 * with every weight 1 it is gasp_als's objective, and scaling one
 * vertex's weights does not change its solve).  Each half-step solves
 * (sum_j w_j y_j y_j^T + lambda W_u I) x_u = sum_j w_j r_j y_j.  weights:
 * one per edge slot of the (local) graph, in the order of
 * gasp_graph_weights, finite and >= 0 (GASP_EINVAL names the first that
 * is not; a vertex whose weights are all 0 keeps its factors).  The train
 * RMSE (info, on_sweep) is unweighted.  alpha must be 0; no device.
 * Otherwise as gasp_als. */
GASP_EXTERN int gasp_wals(gasp_graph *ratings, const gasp_mf_opts *o,
                          const double *weights, float *factors,
                          gasp_mf_info *info, gasp_run_stats *stats,
                          gasp_error *err);

/* SVD++ (Koren, "Factorization meets the neighborhood", KDD 2008):
 *   r_ui ~ mu + b_u + b_i + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j)
 * where N(u) is the items u rated and y_j an item's implicit factors.
 * Trained as gasp_sgd trains biased SGD (half-epochs: users with items
 * fixed, then items with users fixed), on squared error + lambda (|p_u|^2
 * + |q_i|^2) + lambda_bias (b_u^2 + b_i^2) per rating: a user's pass
 * updates p_u and b_u with z_u = |N(u)|^-1/2 sum y_j fixed and leaves the
 * gradient its ratings put on the y_j (scaled by |N(u)|^-1/2, see
 * lib_mf.c); an item's pass updates q_i and b_i, then takes one step
 * y_i += lr_implicit (sum of its raters' gradients - lambda_implicit y_i).  factors: a user's row is its effective vector p_u + z_u
 * (prediction is mu + b_u + b_i + row_u . row_i, as for biased SGD), an
 * item's row q_i; bias: num_vertices floats (required); implicit:
 * num_vertices x rank floats or NULL: a user's p_u, an item's y_i.
 * Otherwise as gasp_sgd (o->biased is implied). */
GASP_EXTERN int gasp_svdpp(gasp_graph *ratings, const gasp_mf_opts *o,
                           float *factors, float *bias, float *implicit,
                           gasp_mf_info *info, gasp_run_stats *stats,
                           gasp_error *err);

/* ---- linear systems: the Jacobi iteration ---------------------------- */

typedef struct gasp_jacobi_opts {
  gasp_engine_opts engine; /* the sync engine (a sweep a superstep);
                              max_iter: sweeps (0: 1000); on_iteration sees
                              the sweep's largest change as residual */
  double tol;              /* stop when the largest change of a sweep is at
                              most tol (1 + the largest |x_i|); 1e-10 */
} gasp_jacobi_opts;

typedef struct gasp_jacobi_info {
  uint64_t sweeps;
  double max_change; /* of the last sweep */
  double residual;   /* ||b - A x||_2 / ||b||_2 (||b|| = 0: ||A x||) */
  int converged;     /* the tolerance ended the run */
  int dominant;      /* A is strictly diagonally dominant by rows (then the
                        iteration converges for any b) */
} gasp_jacobi_info;

GASP_EXTERN void gasp_jacobi_opts_init(gasp_jacobi_opts *o);
/* Solves A x = b by Jacobi sweeps, x_i <- (b_i - sum_{j != i} a_ij x_j) /
 * a_ii from x = 0.  A is the graph: square (one vertex set), weighted;
 * row i's entries a_ij are i's out-edges (the diagonal a self loop;
 * repeated entries add up).  b: one value per local vertex, or NULL for
 * b = A 1 (whose solution is all ones).  x: one value per local vertex
 * (owned ones final across ranks).  The same x for any thread count and,
 * across ranks, the same up to summation order.  A run that stops at
 * max_iter or diverges returns GASP_OK with info->converged 0 (and the
 * residual says how far it is).  GASP_EINVAL for a matrix without values,
 * a rectangular one, or a row without a diagonal entry (err names it);
 * GASP_ENOTSUP on the async engine or with bounded staleness. */
GASP_EXTERN int gasp_jacobi(gasp_graph *g, const gasp_jacobi_opts *o,
                            const double *b, double *x, gasp_jacobi_info *info,
                            gasp_run_stats *stats, gasp_error *err);

/* ---- k-means clustering ------------------------------------------------ */

typedef struct gasp_kmeans_opts {
  gasp_engine_opts engine; /* the sync engine: a superstep an assignment;
                              max_iter 0: 100; on_iteration sees the
                              objective as residual */
  int k;                   /* clusters; 8 */
  uint64_t seed;           /* k-means++ seeding; 1 */
  double tol;              /* stop when the objective falls by at most tol
                              times itself (or no point moves); 1e-9 */
  const double *init;      /* k x dim starting centres, or NULL: k-means++
                              over the points (one process only; across
                              ranks every rank passes the same centres) */
} gasp_kmeans_opts;

typedef struct gasp_kmeans_info {
  uint64_t iterations;
  double objective; /* sum of squared distances to the final centres */
  int converged;    /* no point moved, or the objective settled */
} gasp_kmeans_info;

GASP_EXTERN void gasp_kmeans_opts_init(gasp_kmeans_opts *o);
/* k-means++ seeding (Arthur and Vassilvitskii 2007) of n points of dim
 * coordinates (row-major) into k x dim centres, reproducible for a seed.
 * GASP_EINVAL when n < k. */
GASP_EXTERN int gasp_kmeans_plusplus(const double *points, uint64_t n, int dim,
                                     int k, uint64_t seed, double *centres);
/* Lloyd's k-means of the points of the vertices (points: dim per local
 * vertex, row-major; the graph's edges are not used): cluster[v] (one per
 * local vertex; owned ones final across ranks) and centres (k x dim, the
 * means of the final clusters; an empty cluster keeps its centre).  Each
 * superstep assigns every point to its nearest centre (the smallest index
 * among equals); an aggregator sums the clusters over every rank.
 * GASP_EINVAL for k or dim out of range, a non-finite coordinate or too
 * few points; GASP_ENOTSUP on the async engine or with staleness. */
GASP_EXTERN int gasp_kmeans(gasp_graph *g, const gasp_kmeans_opts *o,
                            const double *points, int dim, uint32_t *cluster,
                            double *centres, gasp_kmeans_info *info,
                            gasp_run_stats *stats, gasp_error *err);

/* ---- singular values: Lanczos bidiagonalisation -------------------- */

typedef struct gasp_svd_opts {
  gasp_engine_opts engine; /* the sync engine: each product A x or A^T y is
                              a superstep (after one that publishes x to
                              the neighbours); max_iter unused;
                              on_iteration is called after each restart
                              with the largest relative residual */
  int k;            /* singular triplets wanted; 10 */
  int nv;           /* Krylov basis size (0: max(2k, k + 10)); at most
                       min(m, n), and more than k unless k = min(m, n) */
  int max_restarts; /* thick restarts (0: 100) */
  double tol;       /* a triplet has converged when its Lanczos residual
                       |beta_nv x_nv,i| is at most tol sigma_1; 1e-10 */
  uint64_t seed;    /* the starting vector (and any after a breakdown); 1 */
} gasp_svd_opts;

typedef struct gasp_svd_info {
  uint64_t rows, cols; /* m, n: row and column vertices of every rank */
  int nv;              /* the basis size used */
  int restarts;        /* thick restarts run */
  uint64_t products;   /* products with A and with A^T */
  int converged;       /* every wanted triplet met tol */
  double max_residual; /* the largest explicit residual / sigma_1 */
} gasp_svd_info;

GASP_EXTERN void gasp_svd_opts_init(gasp_svd_opts *o);
/* The k largest singular values sigma[0] >= ... >= sigma[k-1] of the
 * sparse m x n matrix A held by the graph, with their singular vectors,
 * by Golub-Kahan-Lanczos bidiagonalisation with full reorthogonalisation
 * (classical Gram-Schmidt twice) and thick restarts (Baglama and Reichel,
 * SIAM J. Sci. Comput. 2005).  A: a bipartite graph (a rectangular
 * Matrix Market file, ratings) has its left vertices as rows and its
 * right vertices as columns; any other graph is square, every vertex a
 * row and a column.  Entry a_ij is the weight of edge i -> j (repeated
 * edges add up); the graph must be weighted with finite weights.  u: k
 * values per local vertex (u[v k + i], the i-th left vector at row
 * vertex v; 0 at vertices that are not rows), v: likewise for columns;
 * either may be NULL.  residual (k values, or NULL): the explicit
 * sqrt(||A v_i - sigma_i u_i||^2 + ||A^T u_i - sigma_i v_i||^2).  The
 * same results for any thread count; across ranks the same up to
 * summation order (owned vertices' entries final).  A run that ends at
 * max_restarts returns GASP_OK with info->converged 0.  GASP_EINVAL: k <
 * 1 or k > min(m, n), nv out of range, a graph without values or with a
 * non-finite one; GASP_ENOTSUP on the async engine or with staleness. */
GASP_EXTERN int gasp_svd(gasp_graph *g, const gasp_svd_opts *o, double *sigma,
                         double *u, double *v, double *residual,
                         gasp_svd_info *info, gasp_run_stats *stats,
                         gasp_error *err);

/* ---- spectral clustering ---------------------------------------------- */

typedef struct gasp_spectral_opts {
  gasp_engine_opts engine; /* as gasp_svd_opts.engine (a product with the
                              normalised affinity a superstep) */
  int k;            /* clusters, and eigenvectors; 2 */
  int nv;           /* Lanczos basis size (0: max(2k, k + 10)) */
  int max_restarts; /* 0: 100 */
  double tol;       /* eigenpair converged at residual <= tol |theta_1|;
                       1e-10 */
  uint64_t seed;    /* the Lanczos start and the k-means++ seeding; 1 */
  uint64_t kmeans_max_iter; /* Lloyd's rounds (0: 100) */
} gasp_spectral_opts;

typedef struct gasp_spectral_info {
  uint64_t vertices;  /* of every rank */
  uint64_t isolated;  /* vertices without an edge to another vertex */
  int nv, restarts;
  uint64_t products;
  int converged;      /* the eigenpairs met tol */
  double max_residual; /* the largest Lanczos residual / |theta_1| */
  double objective;    /* k-means: sum of squared distances */
  uint64_t kmeans_iterations;
  int kmeans_converged;
} gasp_spectral_info;

/* cluster[] of a vertex left out (isolated). */
#define GASP_SPECTRAL_NONE UINT32_MAX

GASP_EXTERN void gasp_spectral_opts_init(gasp_spectral_opts *o);
/* Spectral clustering (Ng, Jordan and Weiss, NIPS 2001) of the graph
 * taken as undirected: the affinity W = (A + A^T) / 2 of its weights (1
 * when unweighted; self loops dropped; weights must be finite and not
 * negative), D its row sums, the k largest eigenvalues of D^-1/2 W D^-1/2
 * and their eigenvectors by symmetric Lanczos with full
 * reorthogonalisation and thick restarts (Wu and Simon 2000), each
 * product a superstep; each vertex's row of the k eigenvectors scaled to
 * unit length, then k-means (gasp_kmeans, seeded by gasp_kmeans_plusplus)
 * of the rows.  Isolated vertices (D = 0) are left out of both and get
 * GASP_SPECTRAL_NONE.  cluster: one per local vertex (0 .. k-1);
 * eigenvalues: k, descending (or NULL); embedding: k per local vertex,
 * the normalised rows (or NULL).  Across ranks the Lanczos runs over the
 * ranks and the rows are gathered on every rank for one k-means (each
 * rank runs the same).  GASP_EINVAL: k < 1, more clusters than
 * non-isolated vertices, a negative or non-finite weight. */
GASP_EXTERN int gasp_spectral(gasp_graph *g, const gasp_spectral_opts *o,
                              uint32_t *cluster, double *eigenvalues,
                              double *embedding, gasp_spectral_info *info,
                              gasp_run_stats *stats, gasp_error *err);

/* ---- loopy belief propagation ----------------------------------------- */

/* A pairwise Markov random field over discrete variables: variable i has
 * card[i] states and a unary table of card[i] non-negative potentials;
 * factor f joins variables u[f] != v[f] with a card[u] x card[v] table of
 * non-negative potentials, row-major (the row is u's state).  Several
 * factors may join the same pair.  The arrays are read, not kept. */
typedef struct gasp_mrf {
  uint64_t n;           /* variables 0 .. n-1 */
  const uint32_t *card; /* n cardinalities, each at least 1 */
  const double *unary;  /* variable i's table follows variable i-1's */
  uint64_t m;           /* pairwise factors */
  const uint64_t *u, *v;
  const double *pair;       /* the pairwise tables */
  const uint64_t *pair_off; /* factor f's table at pair + pair_off[f] (one
                               table may serve many factors, as a grid's
                               smoothing does); NULL: factor f's follows
                               factor f-1's */
} gasp_mrf;

typedef struct gasp_lbp_opts {
  /* async (default) with the priority scheduler on message residuals
   * (residual BP), under edge or full consistency; or sync: flooding BP,
   * every message recomputed each superstep from the superstep before.
   * One process only.  max_iter: sync supersteps, async updates <=
   * max_iter * n (0: 1000).  on_iteration sees the largest message change
   * of a superstep as residual (sync). */
  gasp_engine_opts engine;
  double tol;     /* sync: stop when no message changes by more than tol
                     (max norm); async: a neighbour is signalled only when
                     its message changed by more than tol; 1e-5 */
  double damping; /* new = (1 - damping) * computed + damping * old,
                     0 <= damping < 1; 0 */
} gasp_lbp_opts;

typedef struct gasp_lbp_info {
  uint64_t updates;    /* vertex updates (each recomputes its messages) */
  uint64_t iterations; /* sync supersteps; async updates / n */
  double residual;     /* after the run: the largest change one more
                          recomputation of every message would make, the
                          same measure for both engines */
  int converged;       /* the tolerance ended the run */
} gasp_lbp_info;

GASP_EXTERN void gasp_lbp_opts_init(gasp_lbp_opts *o);
/* Sum-product loopy belief propagation on mrf.  A vertex update
 * recomputes the messages the variable sends along its factors from its
 * unary table and the messages it receives (in log space, each message
 * normalised to sum 1); on the async engine it then signals each
 * neighbour whose message changed by more than tol, with that change as
 * the priority (residual BP, Elidan, McGraw and Koller, UAI 2006;
 * GraphLab's scheduling of it).  belief (optional): the normalised
 * beliefs, variable i's card[i] entries after those of i-1; map
 * (optional): the most probable state of each variable (the smallest
 * among equals).  On a tree both engines reach the exact marginals.
 * GASP_EINVAL for an empty model, a cardinality of 0, a factor naming a
 * variable out of range or joining a variable to itself, a negative or
 * non-finite potential, a table of zeros (err names the variable or
 * factor), or a bad tol or damping; GASP_ERANGE when a message or a
 * variable's beliefs became all zero (contradictory potentials: err
 * names the variable); GASP_ENOTSUP across ranks, with
 * bounded staleness, or async under vertex consistency (an update writes
 * its messages, on its edges). */
GASP_EXTERN int gasp_lbp(const gasp_mrf *mrf, const gasp_lbp_opts *o,
                         double *belief, uint32_t *map, gasp_lbp_info *info,
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

/* Directed triangle types (one process): each triangle of the graph taken
 * as undirected, with the arcs it has (self loops and repeated arcs
 * ignored; an arc both ways counts as two arcs).  At a corner x, counted
 * over ordered pairs (y, z) of the other two corners:
 *   cycle    x -> y -> z -> x
 *   through  y -> x -> z with y -> z
 *   in       y -> x and z -> x with y -> z
 *   out      x -> y and x -> z with y -> z
 * (PowerGraph's directed_triangle_count).  Totals: cycles (3-cycles,
 * the sum of the cycle counts over 3) and through (transitive triples:
 * the sum of the through counts, equal to the sums of in and of out). */
typedef struct gasp_directed_triangles {
  uint64_t triangles; /* of the graph taken as undirected */
  uint64_t cycles;
  uint64_t through;
} gasp_directed_triangles;

/* per_vertex (4 per local vertex: cycle, through, in, out; may be NULL)
 * and *totals.  GASP_ENOTSUP across ranks. */
GASP_EXTERN int gasp_triangles_directed(gasp_graph *g,
                                        const gasp_triangles_opts *o,
                                        uint64_t *per_vertex,
                                        gasp_directed_triangles *totals,
                                        gasp_run_stats *stats, gasp_error *err);

/* Local clustering coefficients from gasp_triangles' per-vertex counts:
 * coef[v] = 2 T(v) / (d(v) (d(v) - 1)), d the distinct undirected degree,
 * 0 when d < 2 (NetworkX's clustering); *average: their mean over every
 * vertex of the graph (NetworkX's average_clustering; across ranks, dist
 * given, over the owned vertices of all ranks, a collective).  coef or
 * average may be NULL; ghosts' coef entries are 0. */
GASP_EXTERN int gasp_clustering(const gasp_graph *g, gasp_dist *dist,
                                const uint64_t *triangles_at, double *coef,
                                double *average, gasp_error *err);

/* ---- vertex colouring -------------------------------------------------- */

typedef enum gasp_colour_order {
  GASP_COLOUR_DEGREE = 0,    /* largest distinct degree first, ties by a
                                hash of the id and the seed              */
  GASP_COLOUR_RANDOM = 1,    /* a hash of the id and the seed            */
  GASP_COLOUR_NATURAL = 2,   /* ascending original id (plain greedy)     */
  GASP_COLOUR_SATURATION = 3 /* DSatur: most distinct neighbour colours
                                first, then larger degree, then smaller
                                id; one process, outside the engine      */
} gasp_colour_order;

typedef struct gasp_colour_opts {
  gasp_engine_opts engine; /* the sync engine (Jones-Plassmann rounds) */
  gasp_colour_order order;
  uint64_t seed; /* ties of the degree order, the random order; 1 */
} gasp_colour_opts;

GASP_EXTERN void gasp_colour_opts_init(gasp_colour_opts *o);
/* "degree", "random", "natural", "saturation" -> *out; GASP_EINVAL else. */
GASP_EXTERN int gasp_colour_order_parse(const char *s, gasp_colour_order *out);
/* Greedy colouring of the graph taken as undirected (self loops and
 * repeated edges ignored): colour[v] is the smallest colour (0, 1, ...)
 * that no neighbour coloured before v in the order has -- the sequential
 * greedy colouring in that order, for any thread count and across ranks
 * (an owned vertex's entry; ghosts' are their owners' colours).  *colours
 * (may be NULL): the number of colours used over the whole graph.  The
 * degree, random and natural orders run on the sync engine in as many
 * supersteps as the longest chain of decreasing priority (a run stopped
 * by max_iter leaves UINT32_MAX for the vertices not yet coloured and
 * says GASP_STOP_MAX_ITER); GASP_ENOTSUP on the async engine, with
 * bounded staleness, and for the saturation order across ranks. */
GASP_EXTERN int gasp_colour(gasp_graph *g, const gasp_colour_opts *o,
                            uint32_t *colour, uint32_t *colours,
                            gasp_run_stats *stats, gasp_error *err);

/* ---- strongly connected components ----------------------------------- */

typedef struct gasp_scc_opts {
  gasp_engine_opts engine; /* the sync engine (phases of supersteps) */
} gasp_scc_opts;

GASP_EXTERN void gasp_scc_opts_init(gasp_scc_opts *o);
/* Strongly connected components of the directed graph: component[v] is
 * the largest vertex index in v's component (a local id on one process,
 * the global vertex index across ranks, as for gasp_cc), the same for
 * any threads or ranks; *components (may be NULL) counts them over the
 * whole graph.  Rounds of trimming (vertices without a remaining in- or
 * out-neighbour are components of their own), forward colouring by the
 * largest index reaching a vertex, and a backward search from each colour's
 * root (Orzan 2004).  A run stopped by max_iter or on_iteration (per
 * phase) leaves GASP_VID_NONE for the vertices not yet placed, and stats
 * says why.  GASP_ENOTSUP on the async engine and with bounded
 * staleness. */
GASP_EXTERN int gasp_scc(gasp_graph *g, const gasp_scc_opts *o,
                         gasp_vid *component, uint64_t *components,
                         gasp_run_stats *stats, gasp_error *err);

/* ---- closeness centrality ---------------------------------------------- */

typedef struct gasp_closeness_opts {
  gasp_engine_opts engine; /* the sync engine (level by level); max_iter
                              and always_active are not used: every
                              search runs to its end; on_iteration sees
                              the (source, vertex) pairs the superstep
                              found (this rank's) as info->residual */
  int harmonic;            /* the sum of 1 / d(u, v), for disconnected
                              graphs; 0: Wasserman-Faust closeness */
  int undirected;          /* follow edges both ways */
  uint64_t samples;        /* 0, or at least the number of vertices: every
                              vertex is a source (exact); else that many
                              sources, drawn from seed (an estimate) */
  uint64_t seed;           /* the sample; 1 */
} gasp_closeness_opts;

GASP_EXTERN void gasp_closeness_opts_init(gasp_closeness_opts *o);
/* Closeness of every vertex v from the distances d(u, v) of the sources u
 * that reach it (hop counts along the edges, into v: NetworkX's
 * convention for directed graphs; both ways with undirected).  With r the
 * sources other than v that reach v, D the sum of their distances and k_v
 * the sources other than v:
 *   classic   score[v] = (r / D) (r / k_v), 0 when r = 0: with every
 *             vertex a source (k_v = n - 1) Wasserman and Faust's
 *             closeness for graphs that are not connected, NetworkX's
 *             closeness_centrality (wf_improved, its default);
 *   harmonic  score[v] = (n - 1) / k_v * sum of 1 / d(u, v): with every
 *             vertex a source NetworkX's harmonic_centrality.
 * With a sample the sums over k_v sources stand for those over all n - 1
 * (Eppstein and Wang, "Fast approximation of centrality", SODA 2001):
 * both scores are the exact formulas applied to counts and sums scaled by
 * (n - 1) / k_v.  Sources are searched up to 512 at a time by a
 * bit-parallel breadth-first search (Then et al., VLDB 2014), one engine
 * run per batch, so the scores are the same on any threads or ranks.
 * score: one entry per local vertex (owned ones final across ranks).
 * GASP_ENOTSUP on the async engine or with bounded staleness,
 * GASP_ECANCELED when on_iteration stops a search. */
GASP_EXTERN int gasp_closeness(gasp_graph *g, const gasp_closeness_opts *o,
                               double *score, gasp_run_stats *stats,
                               gasp_error *err);
/* The sources gasp_closeness draws for `samples` of n vertices (n of them
 * when samples is 0 or at least n) with `seed`: vertex indices (local ids
 * on one process, global indices across ranks), strictly ascending, into
 * out (room for the count returned).  The same on every rank. */
GASP_EXTERN uint64_t gasp_closeness_sources(uint64_t n, uint64_t samples,
                                            uint64_t seed, gasp_vid *out);

/* ---- diameter: HyperANF and exact eccentricities ----------------------- */

typedef struct gasp_diameter_opts {
  gasp_engine_opts engine; /* the sync engine; HyperANF: max_iter bounds
                              its supersteps, and on_iteration sees N(t)
                              as info->residual; exact: max_iter and
                              always_active are not used, and the
                              residual is as gasp_closeness's */
  int exact;               /* eccentricities by a search from every vertex
                              (the bit-parallel BFS of gasp_closeness);
                              else HyperANF */
  int undirected;          /* follow edges both ways */
  int bits;                /* HyperANF: 2^bits registers a counter, 4 ..
                              16; 6 */
  uint64_t seed;           /* HyperANF: the hash; 1 */
} gasp_diameter_opts;

typedef struct gasp_diameter_info {
  int exact;
  uint64_t diameter;  /* exact: the largest finite distance; HyperANF: a
                         lower bound, the supersteps in which a counter
                         grew */
  uint64_t radius;    /* exact: the smallest eccentricity of a vertex that
                         reaches another one (0 when none does);
                         HyperANF: 0 */
  double effective;   /* the effective diameter: the distance within which
                         90% of the reachable pairs lie, interpolated
                         between steps of N(t) */
  double pairs;       /* N(t) at the end: pairs (u, v) with v reachable
                         from u (u itself included) */
  double rse;         /* HyperANF: the relative standard error of each
                         counter, 1.04 / sqrt(registers); exact: 0 */
  uint32_t registers; /* HyperANF: 2^bits; exact: 0 */
  uint64_t steps;     /* entries of the neighbourhood function N(0), ... */
} gasp_diameter_info;

GASP_EXTERN void gasp_diameter_opts_init(gasp_diameter_opts *o);
/* The neighbourhood function N(t), the pairs (u, v) with d(u, v) <= t,
 * along the edges (both ways with undirected), and the diameter:
 *  - HyperANF (Boldi, Rosa and Vigna, "HyperANF: approximating the
 *    neighbourhood function of very large graphs on a budget", WWW 2011):
 *    every vertex keeps a HyperLogLog counter (Flajolet et al. 2007) of
 *    the vertices within t steps of it, starting with itself; superstep t
 *    takes the register-wise maximum over its out-neighbours' counters
 *    (pulled, or pushed as messages combined by maximum), until no
 *    counter changes.  N(t) is estimated by the sum of the counters, each
 *    within about rse of its ball's size; ecc[v] (optional) is the last
 *    superstep in which v's counter grew, a lower bound on v's
 *    eccentricity, and info->diameter their largest, a lower bound on the
 *    diameter.  The same on any threads or ranks.
 *  - exact: ecc[v] the eccentricity of v, the largest finite d(v, u);
 *    N(t) counted exactly.
 * nf (optional): N(0 .. nf_len - 1), up to info->steps entries.  ecc:
 * one entry per local vertex (owned ones final across ranks; every rank
 * passes it or every rank passes NULL).  GASP_ENOTSUP on the async engine
 * or with bounded staleness, GASP_EINVAL for bits out of range,
 * GASP_ECANCELED when on_iteration stops an exact search. */
GASP_EXTERN int gasp_diameter(gasp_graph *g, const gasp_diameter_opts *o,
                              uint32_t *ecc, double *nf, uint64_t nf_len,
                              gasp_diameter_info *info, gasp_run_stats *stats,
                              gasp_error *err);
/* ---- betweenness centrality ------------------------------------------ */

/* How gasp_bc scales the sums of dependencies. */
typedef enum gasp_bc_norm {
  GASP_BC_NORM_NONE = 0,    /* the plain sum over the sources (Brandes 2001) */
  GASP_BC_NORM_MAX = 1,     /* divided by the largest score, so the largest is
                               1 (the GAP benchmark suite's scaling) */
  GASP_BC_NORM_NETWORKX = 2 /* networkx's betweenness_centrality with
                               normalized=True (3.x): exact, divided by
                               (n - 1)(n - 2); from k sources, a source's
                               score by (k - 1)(n - 2) and every other's
                               by k (n - 2); n <= 2: unscaled */
} gasp_bc_norm;

typedef struct gasp_bc_opts {
  gasp_engine_opts engine; /* the sync engine (a superstep per BFS level);
                              max_iter is not used: every search runs to
                              its end */
  int undirected;          /* follow edges both ways */
  uint64_t samples;        /* 0 (or >= the vertices): every vertex is a
                              source (exact); else this many distinct
                              sources, gasp_bc_sample's for the seed */
  uint64_t seed;           /* of the sample; 1 */
  const gasp_vid *sources; /* optional, overriding samples: the sources,
                              num_sources vertex indices (local ids on one
                              process, global vertex indices across ranks,
                              every rank the same list); each entry counts,
                              repeats too */
  uint64_t num_sources;
  gasp_bc_norm norm; /* GASP_BC_NORM_NONE */
} gasp_bc_opts;

GASP_EXTERN void gasp_bc_opts_init(gasp_bc_opts *o);
/* The sample of gasp_bc: k distinct vertex indices of 0 .. n-1 drawn
 * uniformly for the seed (selection sampling, Knuth's Algorithm S, so the
 * same on every machine), in ascending order, into out (k entries);
 * k >= n gives them all.  The same for any threads or ranks. */
GASP_EXTERN void gasp_bc_sample(uint64_t n, uint64_t k, uint64_t seed,
                                gasp_vid *out);
/* Betweenness centrality by Brandes' algorithm (Brandes, "A faster
 * algorithm for betweenness centrality", J. Math. Sociol. 25(2), 2001):
 * score[v] = sum over the sources s != v of the dependency
 *   delta_s(v) = sum over t != s, v of sigma_st(v) / sigma_st,
 * sigma_st the number of shortest s-t paths (sigma_st(v): those through
 * v), then scaled by o->norm.  Unweighted: edge weights are ignored; self
 * loops and repeated edges are too (paths are counted in the simple
 * graph, as networkx and the GAP benchmark suite count them).  With
 * o->undirected each edge goes both ways and every unordered pair counts
 * twice, as networkx counts it before its normalisation (networkx's
 * normalized=False halves an undirected graph's sums).  The GAP suite's
 * bc also adds each source's own dependency (the vertices it reaches,
 * less one) to the source before scaling; gasp does not.
 *
 * From each source a level-synchronous BFS on the engine counts the
 * shortest paths (push or pull chosen per level, as gasp_bfs), then the
 * dependencies accumulate level by level from the deepest.  The scores
 * are the same for any number of threads; across ranks they may differ
 * in the last bits (sums in another order).  score: a double per local
 * vertex (across ranks the owned ones are final, ghosts' are 0).  A run
 * stopped by on_iteration keeps the sums of the sources finished, and
 * stats->reason says so.  GASP_EINVAL for a source out of range;
 * GASP_ENOTSUP on the async engine and with bounded staleness. */
GASP_EXTERN int gasp_bc(gasp_graph *g, const gasp_bc_opts *o, double *score,
                        gasp_run_stats *stats, gasp_error *err);

#ifdef __cplusplus
}
#endif
#endif /* GASP_TOOLKITS_H */
