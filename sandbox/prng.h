/* Seeded pseudo-random numbers (splitmix64) for deterministic datasets and faults.
 *
 * A sbx_prng is a plain value: not thread-safe, copy or guard it. Streams are derived from a seed
 * and a list of labels (sbx_prng_derive), so one part of the dataset does not shift when another
 * part changes size (the appointments of one practitioner-day depend only on the seed, the
 * tenant, the practitioner and the date).
 */
#ifndef SBX_PRNG_H
#define SBX_PRNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sbx_prng {
    uint64_t state;
} sbx_prng;

/* Room for a UUID with NUL: "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
#define SBX_UUID_LEN 37

void sbx_prng_seed(sbx_prng *prng, uint64_t seed);
/* A stream for (seed, a, b, c): independent of every other label combination. */
void sbx_prng_derive(sbx_prng *prng, uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
uint64_t sbx_prng_next(sbx_prng *prng);
/* Uniform in [0, n); n > 0. */
uint32_t sbx_prng_below(sbx_prng *prng, uint32_t n);
/* Uniform in [lo, hi]. */
int sbx_prng_range(sbx_prng *prng, int lo, int hi);
/* Uniform in [0, 1). */
double sbx_prng_unit(sbx_prng *prng);
/* True with probability p (p <= 0 never, p >= 1 always, and then no number is drawn). */
bool sbx_prng_chance(sbx_prng *prng, double p);
/* A version-4-shaped UUID, lower case. */
void sbx_prng_uuid(sbx_prng *prng, char out[SBX_UUID_LEN]);

/* A 64-bit hash of a string mixed with a seed (FNV-1a then the splitmix64 finaliser). */
uint64_t sbx_hash_str(uint64_t seed, const char *s);
/* The splitmix64 finaliser on its own. */
uint64_t sbx_mix64(uint64_t x);

#endif
