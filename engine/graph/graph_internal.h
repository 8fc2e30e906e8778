/*
 * graph_internal.h -- the layout of gasp_graph, shared by the builder,
 * the loaders and the snapshot reader/writer.
 */
#ifndef GASP_GRAPH_INTERNAL_H
#define GASP_GRAPH_INTERNAL_H

#include "internal.h"

struct gasp_graph {
  gasp_vid nv;     /* vertices (owned + ghosts)                          */
  gasp_vid nowned; /* owned vertices: ids 0 .. nowned-1                  */
  gasp_vid nleft;  /* bipartite: left vertices 0 .. nleft-1; else nv     */
  int bipartite;
  uint64_t ne;

  gasp_gid *gid;     /* nv original ids, ascending within each side
                        unless reordered (then by_gid gives the order)   */
  gasp_vid *by_gid;  /* reordered graphs: the vertices by ascending id,
                        else NULL                                        */
  uint64_t *out_off; /* nv + 1                                           */
  gasp_vid *out_nbr; /* ne, each list sorted ascending                   */
  uint64_t *in_off;  /* nv + 1                                           */
  gasp_vid *in_nbr;  /* ne, each list sorted ascending                   */
  uint32_t *in_slot; /* ne, edge slot (CSR position) of each in-edge     */
  double *weight;    /* ne by slot, or NULL                              */

  char *names;        /* NUL-separated vertex names, or NULL             */
  uint64_t *name_off; /* nv + 1 offsets into names, or NULL              */

  void *vdata, *edata;
  size_t vsize, esize;

  /* A graph loaded from a snapshot points its structure arrays into this
   * read-only mapping of the file instead of owning them. */
  void *map;
  size_t map_len;
};

/* A zeroed graph shell; NULL when out of memory. */
gasp_graph *gasp__graph_alloc(void);

/* Gives the graph vertex names: `count` strings (count <= nv) for the
 * vertices first .. first+count-1, copied. */
int gasp__graph_set_names(gasp_graph *g, gasp_vid first, char **strs,
                          uint64_t count);

/* A block of edges in original ids, as a parser or add_edge produces it.
 * The builder takes ownership of the arrays. */
typedef struct gasp__chunk {
  uint64_t n, cap;
  gasp_gid *src, *dst;
  double *w;      /* NULL when unweighted */
  uint64_t loops; /* edges with src == dst */
  gasp_gid max_id;
} gasp__chunk;

void gasp__chunk_release(gasp__chunk *c);

/* Hands a filled chunk to the builder (which then owns its arrays; the
 * struct itself is copied).  Chunks keep their order. */
int gasp__builder_add_chunk(gasp_builder *b, gasp__chunk *c);
/* Adds many isolated-or-not vertices at once (copied). */
int gasp__builder_add_vertices(gasp_builder *b, gasp_side side,
                               const gasp_gid *ids, uint64_t n);
/* Adds every id in lo .. hi (inclusive) on `side` as a vertex. */
int gasp__builder_add_range(gasp_builder *b, gasp_side side, gasp_gid lo,
                            gasp_gid hi);
unsigned gasp__builder_flags(const gasp_builder *b);
void gasp__builder_set_flags(gasp_builder *b, unsigned flags);

#endif
