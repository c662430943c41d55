/* Retry policy: exponential backoff with full jitter.
 *
 * An attempt that fails with 408, 429, 500, 502, 503, 504 or a transport error is retried, up
 * to max_attempts in all; other 4xx never are. The delay before retry n (1-based) is a uniform
 * random value in [0, min(cap, base * 2^(n-1))]; a Retry-After header (seconds or HTTP date)
 * raises it to at least what the server asked, up to max_retry_after_ms (beyond that the call
 * gives up rather than block for long).
 */
#ifndef PMSYNC_RETRY_H
#define PMSYNC_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "pmsync/time.h"

typedef struct pms_retry_policy {
    int max_attempts;        /* default 3 */
    long base_ms;            /* default 1000 */
    long cap_ms;             /* default 30000 */
    long max_retry_after_ms; /* default 120000 */
} pms_retry_policy;

pms_retry_policy pms_retry_policy_default(void);

bool pms_retry_status_retryable(long http_status);

/* Full-jitter delay before retry number `retry` (1 = first retry). rng_state is a caller-owned
 * xorshift state (never 0); deterministic for a given state. */
long pms_retry_backoff_ms(const pms_retry_policy *p, int retry, uint64_t *rng_state);

/* Parses a Retry-After value (delta seconds or HTTP date) into a delay from now; false when
 * absent or unreadable. A date in the past gives 0. */
bool pms_retry_after_ms(const char *header_value, pms_instant now, long *delay_ms);

#endif
