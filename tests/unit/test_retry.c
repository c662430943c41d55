/* Retry policy: which statuses are retried, full-jitter backoff and Retry-After. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pmsync/retry.h"

static void retryable_statuses(void **state)
{
    (void)state;
    for (long status = 100; status < 600; status++) {
        bool expected = status == 408 || status == 429 || status == 500 || status == 502 ||
                        status == 503 || status == 504;
        if (pms_retry_status_retryable(status) != expected)
            fail_msg("status %ld retryable should be %d", status, expected);
    }
    assert_false(pms_retry_status_retryable(0));
    assert_false(pms_retry_status_retryable(-1));
}

static void defaults(void **state)
{
    (void)state;
    pms_retry_policy p = pms_retry_policy_default();
    assert_int_equal(p.max_attempts, 3);
    assert_int_equal(p.base_ms, 1000);
    assert_int_equal(p.cap_ms, 30000);
    assert_int_equal(p.max_retry_after_ms, 120000);
}

/* min(cap, base * 2^(retry-1)), computed independently of the code under test. */
static long ceiling_for(const pms_retry_policy *p, int retry)
{
    double ceiling = ldexp((double)p->base_ms, retry - 1);
    return ceiling < (double)p->cap_ms ? (long)ceiling : p->cap_ms;
}

static void backoff_within_bounds_and_jittered(void **state)
{
    (void)state;
    const pms_retry_policy policies[] = {
        pms_retry_policy_default(),
        {.max_attempts = 5, .base_ms = 250, .cap_ms = 8000, .max_retry_after_ms = 1000},
        {.max_attempts = 5, .base_ms = 1, .cap_ms = 30000, .max_retry_after_ms = 1000},
        {.max_attempts = 5, .base_ms = 5000, .cap_ms = 2000, .max_retry_after_ms = 1000},
    };
    for (size_t k = 0; k < sizeof policies / sizeof policies[0]; k++) {
        const pms_retry_policy *p = &policies[k];
        uint64_t rng = 0x1234567890abcdefull + k;
        for (int retry = 1; retry <= 40; retry++) {
            long ceiling = ceiling_for(p, retry);
            long lo = ceiling, hi = 0;
            for (int draw = 0; draw < 2000; draw++) {
                long ms = pms_retry_backoff_ms(p, retry, &rng);
                if (ms < 0 || ms > ceiling)
                    fail_msg("policy %zu retry %d: %ld outside [0, %ld]", k, retry, ms, ceiling);
                lo = ms < lo ? ms : lo;
                hi = ms > hi ? ms : hi;
            }
            /* Full jitter: draws spread over the range, not one fixed value. */
            if (ceiling >= 1 && lo == hi)
                fail_msg("policy %zu retry %d: every draw was %ld", k, retry, lo);
            if (ceiling >= 100) {
                assert_true(lo < ceiling / 4);
                assert_true(hi > ceiling * 3 / 4);
            }
        }
    }
    /* The ceiling really grows: base * 2^(n-1) until the cap. */
    pms_retry_policy p = pms_retry_policy_default();
    assert_int_equal(ceiling_for(&p, 1), 1000);
    assert_int_equal(ceiling_for(&p, 3), 4000);
    assert_int_equal(ceiling_for(&p, 6), 30000);
    uint64_t rng = 99;
    long max_first = 0, max_third = 0;
    for (int draw = 0; draw < 2000; draw++) {
        long a = pms_retry_backoff_ms(&p, 1, &rng);
        long b = pms_retry_backoff_ms(&p, 3, &rng);
        max_first = a > max_first ? a : max_first;
        max_third = b > max_third ? b : max_third;
    }
    assert_true(max_first <= 1000);
    assert_true(max_third > 2000);
}

static void backoff_deterministic_per_seed(void **state)
{
    (void)state;
    pms_retry_policy p = pms_retry_policy_default();
    uint64_t a = 42, b = 42, c = 43;
    bool differs = false;
    for (int i = 0; i < 100; i++) {
        int retry = 1 + i % 5;
        long x = pms_retry_backoff_ms(&p, retry, &a);
        long y = pms_retry_backoff_ms(&p, retry, &b);
        long z = pms_retry_backoff_ms(&p, retry, &c);
        assert_int_equal(x, y);
        differs = differs || x != z;
    }
    assert_true(a == b);
    assert_true(differs);
    /* A zero state (not allowed, but possible) still yields values in range. */
    uint64_t zero = 0;
    long ms = pms_retry_backoff_ms(&p, 2, &zero);
    assert_true(ms >= 0 && ms <= 2000);
}

/* IMF-fixdate, as servers write it: "Sun, 06 Nov 1994 08:49:37 GMT". */
static void http_date(pms_instant t, char *buf, size_t len)
{
    static const char *const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    pms_civil c;
    pms_civil_from_utc_instant(t, &c);
    int64_t day_number = t / 86400000;
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[day_number % 7], c.day,
             months[c.month - 1], c.year, c.hour, c.minute, c.second);
}

static void retry_after_values(void **state)
{
    (void)state;
    /* A fixed "now" on a whole second, so the HTTP-date cases are exact. */
    pms_instant now = 1772404200000; /* 2026-03-01T22:30:00Z */
    long ms = -1;

    assert_true(pms_retry_after_ms("1", now, &ms));
    assert_int_equal(ms, 1000);
    assert_true(pms_retry_after_ms("120", now, &ms));
    assert_int_equal(ms, 120000);
    assert_true(pms_retry_after_ms("0", now, &ms));
    assert_int_equal(ms, 0);
    assert_true(pms_retry_after_ms(" 5 ", now, &ms));
    assert_int_equal(ms, 5000);

    char date[64];
    http_date(now + 30000, date, sizeof date);
    assert_string_equal(date, "Sun, 01 Mar 2026 22:30:30 GMT");
    assert_true(pms_retry_after_ms(date, now, &ms));
    assert_int_equal(ms, 30000);

    http_date(now - 3600000, date, sizeof date);
    ms = -1;
    assert_true(pms_retry_after_ms(date, now, &ms));
    assert_int_equal(ms, 0); /* already passed: no wait */

    static const char *const garbage[] = {
        "", "soon", "-5", "1.5", "12abc", "Sun, 99 Foo 2026", "30 seconds"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        ms = 777;
        if (pms_retry_after_ms(garbage[i], now, &ms))
            fail_msg("\"%s\" read as %ld ms", garbage[i], ms);
        assert_int_equal(ms, 777);
    }
    assert_false(pms_retry_after_ms(NULL, now, &ms));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retryable_statuses),
        cmocka_unit_test(defaults),
        cmocka_unit_test(backoff_within_bounds_and_jittered),
        cmocka_unit_test(backoff_deterministic_per_seed),
        cmocka_unit_test(retry_after_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
