/* Client-side rate limits: token buckets per minute and per hour, pauses and cancellation.
 * Times are explicit (pms_ratelimit_try_acquire_at) except where blocking is the point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <time.h>

#include "pmsync/ratelimit.h"

static pms_rate_bucket *bucket(const char *name, int per_minute, int per_hour)
{
    pms_rate_bucket *b = pms_ratelimit_bucket(name, (pms_rate_limits){per_minute, per_hour});
    assert_non_null(b);
    return b;
}

static void take(pms_rate_bucket *b, pms_instant now)
{
    long wait_ms = -1;
    if (!pms_ratelimit_try_acquire_at(b, now, &wait_ms))
        fail_msg("no token at +%ld ms: wait %ld", (long)(now % 100000), wait_ms);
    assert_int_equal(wait_ms, 0);
}

/* Expects no token at `now` and returns the wait. */
static long refused(pms_rate_bucket *b, pms_instant now)
{
    long wait_ms = -1;
    if (pms_ratelimit_try_acquire_at(b, now, &wait_ms))
        fail_msg("a token was handed out that should not have been");
    assert_true(wait_ms > 0);
    return wait_ms;
}

static void sixty_per_minute(void **state)
{
    (void)state;
    pms_rate_bucket *b = bucket("test/sixty", 60, 0);
    pms_instant t0 = pms_now();
    for (int i = 0; i < 60; i++)
        take(b, t0);
    long wait = refused(b, t0);
    assert_in_range(wait, 990, 1010);

    /* Then one token per second. */
    pms_instant t = t0 + wait;
    take(b, t);
    assert_in_range(refused(b, t), 990, 1010);
    assert_in_range(refused(b, t + 500), 490, 510);
    int granted = 0;
    for (pms_instant s = t + 100; s <= t + 10000; s += 100) {
        long w;
        if (pms_ratelimit_try_acquire_at(b, s, &w))
            granted++;
    }
    assert_in_range(granted, 9, 10);

    /* Idle for long: the bucket refills to its size, not beyond. */
    pms_instant later = t + 3600000;
    for (int i = 0; i < 60; i++)
        take(b, later);
    refused(b, later);
}

static void hour_limit_binds_when_smaller(void **state)
{
    (void)state;
    pms_rate_bucket *b = bucket("test/hourly", 60, 10);
    pms_instant t0 = pms_now();
    for (int i = 0; i < 10; i++)
        take(b, t0);
    /* The minute bucket has 50 left; the hour bucket refills one every 6 minutes. */
    assert_in_range(refused(b, t0), 359000, 361000);
    assert_in_range(refused(b, t0 + 60000), 299000, 301000);
    take(b, t0 + 360001);
    refused(b, t0 + 360001);
}

static void pause_until_blocks(void **state)
{
    (void)state;
    pms_rate_bucket *b = bucket("test/paused", 60, 0);
    pms_instant t0 = pms_now();
    pms_ratelimit_pause_until(b, t0 + 5000);
    assert_int_equal(refused(b, t0), 5000);
    assert_int_equal(refused(b, t0 + 4999), 1);
    /* An earlier pause does not shorten the current one. */
    pms_ratelimit_pause_until(b, t0 + 1000);
    assert_int_equal(refused(b, t0 + 2000), 3000);
    take(b, t0 + 5000);
    take(b, t0 + 5000);
}

static void unlimited_never_waits(void **state)
{
    (void)state;
    pms_rate_bucket *b = bucket("test/unlimited", 0, 0);
    pms_instant t0 = pms_now();
    for (int i = 0; i < 10000; i++)
        take(b, t0);
    pms_error err = {0};
    for (int i = 0; i < 1000; i++)
        assert_int_equal(pms_ratelimit_acquire(b, NULL, &err), PMS_OK);
}

static void shared_by_name(void **state)
{
    (void)state;
    pms_rate_bucket *a = bucket("test/shared", 5, 0);
    pms_rate_bucket *again = bucket("test/shared", 5, 0);
    assert_ptr_equal(a, again);
    pms_instant t0 = pms_now();
    for (int i = 0; i < 5; i++)
        take(i % 2 ? a : again, t0);
    refused(a, t0);
    refused(again, t0);
}

typedef struct canceller {
    atomic_bool *flag;
    long after_ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    struct timespec ts = {c->after_ms / 1000, (c->after_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(c->flag, true);
    return NULL;
}

static void acquire_honours_cancel(void **state)
{
    (void)state;
    pms_rate_bucket *b = bucket("test/cancel", 60, 0);
    pms_ratelimit_pause_until(b, pms_now() + 3600000);

    atomic_bool cancel = false;
    canceller c = {&cancel, 100};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, cancel_later, &c), 0);
    pms_instant started = pms_now();
    pms_error err = {0};
    int rc = pms_ratelimit_acquire(b, &cancel, &err);
    long elapsed = (long)(pms_now() - started);
    pthread_join(thread, NULL);
    assert_int_equal(rc, PMS_ERR_CANCELLED);
    assert_int_equal(err.code, PMS_ERR_CANCELLED);
    assert_true(elapsed < 5000); /* an hour's pause, left promptly */

    /* Already cancelled: no wait at all, even with tokens available. */
    pms_rate_bucket *free_bucket = bucket("test/cancel-free", 60, 0);
    assert_int_equal(pms_ratelimit_acquire(free_bucket, &cancel, NULL), PMS_ERR_CANCELLED);
}

static int cleanup(void **state)
{
    (void)state;
    pms_ratelimit_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sixty_per_minute),   cmocka_unit_test(hour_limit_binds_when_smaller),
        cmocka_unit_test(pause_until_blocks), cmocka_unit_test(unlimited_never_waits),
        cmocka_unit_test(shared_by_name),     cmocka_unit_test(acquire_honours_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
