/*
 * sort.h -- small in-place sorts for adjacency lists and id arrays:
 * introsort-style quicksort (median of three, insertion sort below 24
 * elements, heapsort fallback past a depth limit so the worst case stays
 * O(n log n)).  Instantiated per element type by GASP__DEFINE_SORT.
 */
#ifndef GASP_SORT_H
#define GASP_SORT_H

#include <stddef.h>
#include <stdint.h>

#define GASP__DEFINE_SORT(name, T, LESS)                                       \
  static inline void name##_insertion(T *a, size_t n) {                        \
    for (size_t i = 1; i < n; i++) {                                           \
      T x = a[i];                                                              \
      size_t j = i;                                                            \
      while (j > 0 && LESS(x, a[j - 1])) {                                     \
        a[j] = a[j - 1];                                                       \
        j--;                                                                   \
      }                                                                        \
      a[j] = x;                                                                \
    }                                                                          \
  }                                                                            \
  static inline void name##_sift(T *a, size_t root, size_t n) {                \
    for (;;) {                                                                 \
      size_t c = 2 * root + 1;                                                 \
      if (c >= n) return;                                                      \
      if (c + 1 < n && LESS(a[c], a[c + 1])) c++;                              \
      if (!LESS(a[root], a[c])) return;                                        \
      T t = a[root];                                                           \
      a[root] = a[c];                                                          \
      a[c] = t;                                                                \
      root = c;                                                                \
    }                                                                          \
  }                                                                            \
  static inline void name##_heap(T *a, size_t n) {                             \
    for (size_t i = n / 2; i-- > 0;) name##_sift(a, i, n);                     \
    for (size_t i = n; i-- > 1;) {                                             \
      T t = a[0];                                                              \
      a[0] = a[i];                                                             \
      a[i] = t;                                                                \
      name##_sift(a, 0, i);                                                    \
    }                                                                          \
  }                                                                            \
  static void name##_rec(T *a, size_t n, int depth) {                          \
    while (n > 24) {                                                           \
      if (depth-- == 0) {                                                      \
        name##_heap(a, n);                                                     \
        return;                                                                \
      }                                                                        \
      size_t m = n / 2;                                                        \
      if (LESS(a[m], a[0])) {                                                  \
        T t = a[m]; a[m] = a[0]; a[0] = t;                                     \
      }                                                                        \
      if (LESS(a[n - 1], a[m])) {                                              \
        T t = a[m]; a[m] = a[n - 1]; a[n - 1] = t;                             \
        if (LESS(a[m], a[0])) {                                                \
          T u = a[m]; a[m] = a[0]; a[0] = u;                                   \
        }                                                                      \
      }                                                                        \
      T p = a[m];                                                              \
      size_t i = 0, j = n - 1;                                                 \
      for (;;) {                                                               \
        while (LESS(a[i], p)) i++;                                             \
        while (LESS(p, a[j])) j--;                                             \
        if (i >= j) break;                                                     \
        T t = a[i]; a[i] = a[j]; a[j] = t;                                     \
        i++;                                                                   \
        j--;                                                                   \
      }                                                                        \
      /* recurse into the smaller side, loop on the larger */                  \
      size_t left = j + 1;                                                     \
      if (left < n - left) {                                                   \
        name##_rec(a, left, depth);                                            \
        a += left;                                                             \
        n -= left;                                                             \
      } else {                                                                 \
        name##_rec(a + left, n - left, depth);                                 \
        n = left;                                                              \
      }                                                                        \
    }                                                                          \
    name##_insertion(a, n);                                                    \
  }                                                                            \
  static inline void name(T *a, size_t n) {                                    \
    int depth = 2;                                                             \
    for (size_t k = n; k > 1; k >>= 1) depth += 2;                             \
    name##_rec(a, n, depth);                                                   \
  }

#define GASP__LESS_PLAIN(x, y) ((x) < (y))

#endif
