/* Client-side rate limits: token buckets per minute and per hour.
 *
 * Buckets are named ("gentu" for a PMS as a whole, "gentu/<connection id>" for one connection)
 * and live in a process-wide registry, so every session of a connection shares its bucket. A
 * request takes one token from each bucket that applies. A 429 pauses a bucket until the time
 * the server gave (Retry-After), so parallel workers stop together. Thread-safe.
 */
#ifndef PMSYNC_RATELIMIT_H
#define PMSYNC_RATELIMIT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "pmsync/error.h"
#include "pmsync/time.h"

typedef struct pms_rate_limits {
    int per_minute; /* <= 0: no limit */
    int per_hour;   /* <= 0: no limit */
} pms_rate_limits;

typedef struct pms_rate_bucket pms_rate_bucket;

/* Finds or creates a named bucket (borrowed, lives until pms_ratelimit_cleanup). When the
 * bucket exists with other limits, the new limits apply from now on. */
pms_rate_bucket *pms_ratelimit_bucket(const char *name, pms_rate_limits limits);

/* Takes one token, waiting as long as needed. Returns PMS_ERR_CANCELLED when *cancel becomes
 * true while waiting (cancel may be NULL). */
int pms_ratelimit_acquire(pms_rate_bucket *b, const atomic_bool *cancel, pms_error *err);

/* Non-blocking form at an explicit time (tests): true and a token taken, or false and
 * *wait_ms set to how long until one is available. */
bool pms_ratelimit_try_acquire_at(pms_rate_bucket *b, pms_instant now, long *wait_ms);

/* No token is handed out before `until`. */
void pms_ratelimit_pause_until(pms_rate_bucket *b, pms_instant until);

/* Frees every bucket (process exit). */
void pms_ratelimit_cleanup(void);

#endif
