#include "pmsync/retry.h"

#include <ctype.h>
#include <stdlib.h>

pms_retry_policy pms_retry_policy_default(void)
{
    pms_retry_policy p = {
        .max_attempts = 3,
        .base_ms = 1000,
        .cap_ms = 30000,
        .max_retry_after_ms = 120000,
    };
    return p;
}

bool pms_retry_status_retryable(long http_status)
{
    switch (http_status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
        return true;
    default:
        return false;
    }
}

static uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

long pms_retry_backoff_ms(const pms_retry_policy *p, int retry, uint64_t *rng_state)
{
    if (retry < 1)
        retry = 1;
    long ceiling = p->base_ms;
    for (int i = 1; i < retry && ceiling < p->cap_ms; i++)
        ceiling *= 2;
    if (ceiling > p->cap_ms)
        ceiling = p->cap_ms;
    if (ceiling <= 0)
        return 0;
    return (long)(xorshift64(rng_state) % (uint64_t)(ceiling + 1));
}

bool pms_retry_after_ms(const char *value, pms_instant now, long *delay_ms)
{
    if (value == NULL || *value == '\0')
        return false;
    const char *p = value;
    while (*p == ' ')
        p++;
    if (isdigit((unsigned char)*p)) {
        char *end;
        long long seconds = strtoll(p, &end, 10);
        while (*end == ' ')
            end++;
        if (*end != '\0' || seconds < 0)
            return false;
        if (seconds > 86400)
            seconds = 86400;
        *delay_ms = (long)(seconds * 1000);
        return true;
    }
    pms_instant when;
    if (pms_http_date_parse(p, &when) != 0)
        return false;
    *delay_ms = when > now ? (long)(when - now) : 0;
    return true;
}
