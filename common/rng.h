/* rng.h: a small seeded pseudo-random generator (splitmix64), the same on every machine.
 *
 * Scenarios promise that a seed reproduces a run: the server's Poisson publish times and
 * payloads, the clients' poll phases. libc's rand() differs between libcs and is shared
 * state; this is 64 bits of state per user, no locks, and good enough for simulation
 * (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014).
 */
#ifndef PUSHPULL_RNG_H
#define PUSHPULL_RNG_H

#include <math.h>
#include <stdint.h>

struct rng {
    uint64_t state; /* advanced by a fixed odd constant each draw */
};

static inline void rng_seed(struct rng *r, uint64_t seed)
{
    r->state = seed;
}

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double rng_uniform(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Exponentially distributed with the given mean (inter-arrival times of a Poisson process).
 */
static inline double rng_exponential(struct rng *r, double mean)
{
    return -mean * log1p(-rng_uniform(r));
}

#endif
