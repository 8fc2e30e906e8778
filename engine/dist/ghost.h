/*
 * ghost.h -- ghost coherence payloads of distributed runs (ghost.c).
 */
#ifndef GASP_GHOST_H
#define GASP_GHOST_H

#include "engine_internal.h"

/* Called for each owned vertex a peer signalled, with its message (NULL
 * when none). */
typedef void (*gasp__ghost_signal_fn)(void *arg, gasp_vid v, const void *msg);

/* Bytes on the wire per updated vertex: vertex data and mirrors. */
size_t gasp__ghost_value_size(const gasp_engine *e);
/* Size of the payload for peer p: the vertices flagged in changed[]
 * (every one it holds with `all`), and a bitmap of ghost signals. */
size_t gasp__ghost_size(const gasp_engine *e, int p, int all,
                        const uint8_t *changed);
/* Writes that payload (gasp__ghost_size bytes) to out; sig[] flags the
 * ghosts signalled here (NULL: none).  Returns its length. */
size_t gasp__ghost_pack(const gasp_engine *e, int p, int all,
                        const uint8_t *changed, const uint8_t *sig,
                        uint8_t *out);
/* Applies peer p's payload: ghost values, then on_signal for each owned
 * vertex it signalled (*nsignals: how many, when not NULL).  A payload
 * that does not match the agreed lists is GASP_EPEER; nothing is applied
 * then. */
int gasp__ghost_unpack(gasp_engine *e, int p, const uint8_t *b, size_t n,
                       gasp__ghost_signal_fn on_signal, void *arg,
                       uint64_t *nsignals, gasp_error *err);
/* Collective: every rank packs for every peer and applies what it gets. */
int gasp__ghost_exchange(gasp_engine *e, int all, const uint8_t *changed,
                         const uint8_t *sig, gasp__ghost_signal_fn on_signal,
                         void *arg, gasp_error *err);

/* Collective: a colouring all ranks agree on (dist_color.c): distance 0
 * (one class), 1 (edge consistency) or 2 (full); color[] has an entry per local
 * vertex, *ncolors is the number of classes over all ranks. */
int gasp__dist_color(gasp_engine *e, int distance, uint32_t *color,
                     int *ncolors, gasp_error *err);

#endif
