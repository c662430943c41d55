#include "prng.h"

#include <stdio.h>

uint64_t sbx_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

void sbx_prng_seed(sbx_prng *prng, uint64_t seed)
{
    prng->state = seed;
}

void sbx_prng_derive(sbx_prng *prng, uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = sbx_mix64(seed + 0x9e3779b97f4a7c15ULL);
    h = sbx_mix64(h ^ (a + 0x632be59bd9b4e019ULL));
    h = sbx_mix64(h ^ (b + 0x85157af5ULL));
    h = sbx_mix64(h ^ (c + 0x2545f4914f6cdd1dULL));
    prng->state = h;
}

uint64_t sbx_prng_next(sbx_prng *prng)
{
    prng->state += 0x9e3779b97f4a7c15ULL;
    return sbx_mix64(prng->state);
}

uint32_t sbx_prng_below(sbx_prng *prng, uint32_t n)
{
    if (n <= 1)
        return 0;
    /* Lemire's multiply-shift; the tiny bias is irrelevant for test data. */
    uint64_t r = sbx_prng_next(prng) >> 32;
    return (uint32_t)((r * n) >> 32);
}

int sbx_prng_range(sbx_prng *prng, int lo, int hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int)sbx_prng_below(prng, (uint32_t)(hi - lo + 1));
}

double sbx_prng_unit(sbx_prng *prng)
{
    return (double)(sbx_prng_next(prng) >> 11) * 0x1.0p-53;
}

bool sbx_prng_chance(sbx_prng *prng, double p)
{
    if (p <= 0.0)
        return false;
    if (p >= 1.0)
        return true;
    return sbx_prng_unit(prng) < p;
}

void sbx_prng_uuid(sbx_prng *prng, char out[SBX_UUID_LEN])
{
    uint64_t hi = sbx_prng_next(prng);
    uint64_t lo = sbx_prng_next(prng);
    hi = (hi & ~0xf000ULL) | 0x4000ULL;                        /* version 4 */
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* RFC 4122 variant */
    snprintf(out, SBX_UUID_LEN, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
             (unsigned)((hi >> 16) & 0xffff), (unsigned)(hi & 0xffff), (unsigned)(lo >> 48),
             (unsigned long long)(lo & 0xffffffffffffULL));
}

uint64_t sbx_hash_str(uint64_t seed, const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return sbx_mix64(h ^ sbx_mix64(seed));
}
