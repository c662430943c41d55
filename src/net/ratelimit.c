#include "pmsync/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One continuous-refill bucket: `capacity` tokens, refilled at capacity per `window_ms`. */
typedef struct refill_bucket {
    double tokens;
    int capacity;
    long window_ms;
} refill_bucket;

struct pms_rate_bucket {
    char *name;
    pthread_mutex_t lock;
    refill_bucket minute, hour;
    pms_instant last_refill;
    pms_instant paused_until;
    struct pms_rate_bucket *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pms_rate_bucket *registry;

static void refill_configure(refill_bucket *r, int capacity, long window_ms, bool fresh)
{
    if (capacity <= 0) {
        r->capacity = 0;
        r->tokens = 0;
        return;
    }
    if (fresh || r->capacity <= 0)
        r->tokens = capacity;
    else if (r->tokens > capacity)
        r->tokens = capacity;
    r->capacity = capacity;
    r->window_ms = window_ms;
}

static void refill_advance(refill_bucket *r, long elapsed_ms)
{
    if (r->capacity <= 0 || elapsed_ms <= 0)
        return;
    r->tokens += (double)r->capacity * (double)elapsed_ms / (double)r->window_ms;
    if (r->tokens > r->capacity)
        r->tokens = r->capacity;
}

/* Milliseconds until one whole token is available (0 when it is). */
static long refill_wait(const refill_bucket *r)
{
    if (r->capacity <= 0 || r->tokens >= 1.0)
        return 0;
    double missing = 1.0 - r->tokens;
    return (long)(missing * (double)r->window_ms / (double)r->capacity) + 1;
}

pms_rate_bucket *pms_ratelimit_bucket(const char *name, pms_rate_limits limits)
{
    pthread_mutex_lock(&registry_lock);
    pms_rate_bucket *b = registry;
    while (b && strcmp(b->name, name) != 0)
        b = b->next;
    if (b == NULL) {
        b = calloc(1, sizeof *b);
        if (b == NULL || (b->name = strdup(name)) == NULL) {
            free(b);
            pthread_mutex_unlock(&registry_lock);
            return NULL;
        }
        pthread_mutex_init(&b->lock, NULL);
        b->last_refill = pms_now();
        refill_configure(&b->minute, limits.per_minute, 60000, true);
        refill_configure(&b->hour, limits.per_hour, 3600000, true);
        b->next = registry;
        registry = b;
    } else {
        pthread_mutex_lock(&b->lock);
        refill_configure(&b->minute, limits.per_minute, 60000, false);
        refill_configure(&b->hour, limits.per_hour, 3600000, false);
        pthread_mutex_unlock(&b->lock);
    }
    pthread_mutex_unlock(&registry_lock);
    return b;
}

static bool try_locked(pms_rate_bucket *b, pms_instant now, long *wait_ms)
{
    if (now < b->paused_until) {
        *wait_ms = (long)(b->paused_until - now);
        return false;
    }
    long elapsed = (long)(now - b->last_refill);
    if (elapsed > 0) {
        refill_advance(&b->minute, elapsed);
        refill_advance(&b->hour, elapsed);
        b->last_refill = now;
    }
    long wait_minute = refill_wait(&b->minute);
    long wait_hour = refill_wait(&b->hour);
    long wait = wait_minute > wait_hour ? wait_minute : wait_hour;
    if (wait > 0) {
        *wait_ms = wait;
        return false;
    }
    if (b->minute.capacity > 0)
        b->minute.tokens -= 1.0;
    if (b->hour.capacity > 0)
        b->hour.tokens -= 1.0;
    *wait_ms = 0;
    return true;
}

bool pms_ratelimit_try_acquire_at(pms_rate_bucket *b, pms_instant now, long *wait_ms)
{
    pthread_mutex_lock(&b->lock);
    bool ok = try_locked(b, now, wait_ms);
    pthread_mutex_unlock(&b->lock);
    return ok;
}

int pms_ratelimit_acquire(pms_rate_bucket *b, const atomic_bool *cancel, pms_error *err)
{
    for (;;) {
        if (cancel && atomic_load(cancel))
            return pms_error_set(err, PMS_ERR_CANCELLED, "stopped while waiting for rate limit");
        long wait_ms;
        if (pms_ratelimit_try_acquire_at(b, pms_now(), &wait_ms))
            return PMS_OK;
        /* Sleep in short slices so a cancel is noticed promptly. */
        long slice = wait_ms < 200 ? wait_ms : 200;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void pms_ratelimit_pause_until(pms_rate_bucket *b, pms_instant until)
{
    pthread_mutex_lock(&b->lock);
    if (until > b->paused_until)
        b->paused_until = until;
    pthread_mutex_unlock(&b->lock);
}

void pms_ratelimit_cleanup(void)
{
    pthread_mutex_lock(&registry_lock);
    pms_rate_bucket *b = registry;
    while (b) {
        pms_rate_bucket *next = b->next;
        pthread_mutex_destroy(&b->lock);
        free(b->name);
        free(b);
        b = next;
    }
    registry = NULL;
    pthread_mutex_unlock(&registry_lock);
}
