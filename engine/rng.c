/*
 * rng.c -- the library's random numbers: xoshiro256** streams, uniform,
 * bounded, normal and gamma draws.
 */
#include "internal.h"

#include <math.h>

void gasp__rng_seed(gasp__rng *r, uint64_t seed, uint64_t stream) {
  uint64_t s = gasp__mix(seed, stream);
  for (int i = 0; i < 4; i++)
    r->s[i] = gasp__splitmix64(&s);
}

uint64_t gasp__rng_next(gasp__rng *r) {
  uint64_t *s = r->s;
  uint64_t result = gasp__rotl64(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = gasp__rotl64(s[3], 45);
  return result;
}

double gasp__rng_uniform(gasp__rng *r) {
  return (double)(gasp__rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t gasp__rng_below(gasp__rng *r, uint64_t n) {
  /* Lemire's multiply-shift with rejection. */
  uint64_t x = gasp__rng_next(r);
  unsigned __int128 m = (unsigned __int128)x * n;
  uint64_t l = (uint64_t)m;
  if (l < n) {
    uint64_t t = -n % n;
    while (l < t) {
      x = gasp__rng_next(r);
      m = (unsigned __int128)x * n;
      l = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double gasp__rng_normal(gasp__rng *r) {
  double u, v, s;
  do {
    u = 2.0 * gasp__rng_uniform(r) - 1.0;
    v = 2.0 * gasp__rng_uniform(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  return u * sqrt(-2.0 * log(s) / s);
}

double gasp__rng_gamma(gasp__rng *r, double shape) {
  if (shape < 1.0) {
    /* Boost: Gamma(a) = Gamma(a + 1) * U^(1/a). */
    double u;
    do
      u = gasp__rng_uniform(r);
    while (u == 0.0);
    return gasp__rng_gamma(r, shape + 1.0) * pow(u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = gasp__rng_normal(r);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    double u = gasp__rng_uniform(r);
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0.0 && log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
  }
}
