/*
 * parse_text.h -- line-oriented text parsing shared by the loaders.
 */
#ifndef GASP_PARSE_TEXT_H
#define GASP_PARSE_TEXT_H

#include "graph_internal.h"

/* GASP__TEXT_LDAC: lda-c lines "N w:c ..."; a piece's documents are
 * numbered from 0 at its first line (the loader shifts them to the global
 * line index) and a document of N = 0 is recorded in `iso`. */
enum { GASP__TEXT_EDGES = 0, GASP__TEXT_ADJ = 1, GASP__TEXT_LDAC = 2 };

typedef struct gasp__text_spec {
  int kind;              /* GASP__TEXT_EDGES or GASP__TEXT_ADJ            */
  int ncols;             /* edges: 2 or 3 columns (3: weight column)      */
  int keep_weight;       /* store the weight column                        */
  int weight_count;      /* weights must be positive integers (counts)    */
  int extra_cols_ok;     /* ignore columns past ncols                      */
  const char *comments;  /* characters that start a comment line          */
  gasp_gid min_id;       /* smallest valid id (1 for 1-based formats)     */
  gasp_gid max_src, max_dst;
  const char *id_name, *src_name, *dst_name, *weight_name; /* messages */
} gasp__text_spec;

typedef struct gasp__piece {
  gasp__chunk chunk;
  uint64_t lines;   /* lines consumed (all kinds)           */
  uint64_t entries; /* data lines                           */
  gasp_gid *iso;    /* adjacency sources listed with n = 0 */
  uint64_t niso, iso_cap;
  int err_code;      /* 0 or a GASP_E* code                  */
  uint64_t err_line; /* 1-based line within the piece        */
  char err_msg[256];
} gasp__piece;

/* Fills in the defaults: edge list, 2 columns, '#' and '%' comments, ids
 * 0 .. 2^63-1, names "id", "source", "target", "weight". */
void gasp__text_spec_init(gasp__text_spec *s);

/* Parses buf[0..n) (whole lines).  Returns 0 or the error code (also in
 * out->err_code).  out is overwritten; release it with
 * gasp__piece_release() unless its chunk was handed on. */
int gasp__parse_piece(const gasp__text_spec *spec, const char *buf, size_t n,
                      gasp__piece *out);
void gasp__piece_release(gasp__piece *o);

/* Number of fields on the first line of `line` (separators: blanks and
 * commas). */
int gasp__count_columns(const char *line, size_t n);

#endif
