/* Token manager: caching, the refresh margin, invalidation after a 401, single-flight minting,
 * mint failures, the saved callback and refresh tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pmsync/token.h"

#define MARGIN_MS 60000
#define MAX_SAVED 16

/* The fake PMS behind the mint callback. */
typedef struct fake_pms {
    pthread_mutex_t lock;
    int calls;                     /* mint attempts */
    long lifetime_ms;              /* tokens expire this long after minting */
    long delay_ms;                 /* how long a mint takes */
    int fail_next;                 /* the next n mints fail */
    bool issue_refresh;            /* hand out refresh tokens */
    char *refresh_seen[MAX_SAVED]; /* refresh token each mint was given (NULL when none) */
    char *saved[MAX_SAVED];        /* access tokens the saved callback was told about */
    int saved_count;
} fake_pms;

static int fake_mint(void *ctx, const char *refresh_token, pms_auth_result *out, pms_error *err)
{
    fake_pms *f = ctx;
    if (f->delay_ms > 0) {
        struct timespec ts = {f->delay_ms / 1000, (f->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&f->lock);
    int n = ++f->calls;
    if (n <= MAX_SAVED)
        f->refresh_seen[n - 1] = refresh_token ? strdup(refresh_token) : NULL;
    bool fail = f->fail_next > 0;
    if (fail)
        f->fail_next--;
    pthread_mutex_unlock(&f->lock);
    if (fail)
        return pms_error_set(err, PMS_ERR_AUTH, "fake PMS refused the credentials");
    char text[32];
    snprintf(text, sizeof text, "tok-%d", n);
    out->access_token = strdup(text);
    if (f->issue_refresh) {
        snprintf(text, sizeof text, "ref-%d", n);
        out->refresh_token = strdup(text);
    }
    out->expires_at = pms_now() + f->lifetime_ms;
    return PMS_OK;
}

static void fake_saved(void *ctx, const pms_auth_result *token)
{
    fake_pms *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (f->saved_count < MAX_SAVED)
        f->saved[f->saved_count++] = strdup(token->access_token);
    pthread_mutex_unlock(&f->lock);
}

typedef struct fixture {
    fake_pms pms;
    pms_token_cache *tc;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    pthread_mutex_init(&f->pms.lock, NULL);
    f->pms.lifetime_ms = 3600000;
    assert_int_equal(pms_token_cache_new(MARGIN_MS, fake_mint, fake_saved, &f->pms, &f->tc, NULL),
                     PMS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pms_token_cache_free(f->tc);
    for (int i = 0; i < MAX_SAVED; i++) {
        free(f->pms.refresh_seen[i]);
        free(f->pms.saved[i]);
    }
    pthread_mutex_destroy(&f->pms.lock);
    free(f);
    return 0;
}

/* Gets a token and checks it is `expected`. */
static void expect_token(fixture *f, const char *expected)
{
    char *token = NULL;
    pms_error err = {0};
    int rc = pms_token_get(f->tc, &token, &err);
    if (rc != PMS_OK)
        fail_msg("get failed: %s", err.message);
    assert_non_null(token);
    assert_string_equal(token, expected);
    free(token);
}

static void first_get_mints_then_reuses(void **state)
{
    fixture *f = *state;
    assert_int_equal(pms_token_mint_count(f->tc), 0);
    expect_token(f, "tok-1");
    assert_int_equal(f->pms.calls, 1);
    for (int i = 0; i < 5; i++)
        expect_token(f, "tok-1");
    assert_int_equal(f->pms.calls, 1);
    assert_int_equal(pms_token_mint_count(f->tc), 1);
}

static void short_lived_tokens_are_used_for_most_of_their_life(void **state)
{
    fixture *f = *state;
    /* A 30 s token is shorter than twice the 60 s margin: it is renewed a quarter of its
     * lifetime before expiry, not minted again on every request. */
    f->pms.lifetime_ms = 30000;
    expect_token(f, "tok-1");
    expect_token(f, "tok-1");
    assert_int_equal(f->pms.calls, 1);

    /* A token that lives 400 ms is renewed after about 300 ms. */
    pms_token_invalidate(f->tc, "tok-1");
    f->pms.lifetime_ms = 400;
    expect_token(f, "tok-2");
    expect_token(f, "tok-2");
    struct timespec ts = {0, 350 * 1000000L};
    nanosleep(&ts, NULL);
    expect_token(f, "tok-3");
    assert_int_equal(f->pms.calls, 3);
}

static void seeded_token_is_used(void **state)
{
    fixture *f = *state;
    char kept_text[] = "kept-from-last-run";
    pms_auth_result kept = {
        .access_token = kept_text, .refresh_token = NULL, .expires_at = pms_now() + 600000};
    assert_int_equal(pms_token_cache_seed(f->tc, &kept, NULL), PMS_OK);
    expect_token(f, "kept-from-last-run");
    assert_int_equal(f->pms.calls, 0);

    /* A kept token about to expire is not trusted. */
    kept.expires_at = pms_now() + 10000;
    assert_int_equal(pms_token_cache_seed(f->tc, &kept, NULL), PMS_OK);
    expect_token(f, "tok-1");
}

static void invalidate_only_matching(void **state)
{
    fixture *f = *state;
    expect_token(f, "tok-1");
    /* A 401 that answered an older token does not throw away the current one. */
    pms_token_invalidate(f->tc, "tok-0");
    pms_token_invalidate(f->tc, NULL);
    expect_token(f, "tok-1");
    assert_int_equal(f->pms.calls, 1);

    pms_token_invalidate(f->tc, "tok-1");
    expect_token(f, "tok-2");
    assert_int_equal(f->pms.calls, 2);
    pms_token_invalidate(f->tc, "tok-1"); /* late, stale 401 */
    expect_token(f, "tok-2");
    assert_int_equal(f->pms.calls, 2);
}

#define THREADS 8

typedef struct racer {
    fixture *f;
    pthread_barrier_t *start;
    char *token;
    int rc;
} racer;

static void *race_get(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->start);
    r->rc = pms_token_get(r->f->tc, &r->token, NULL);
    return NULL;
}

static void single_flight(void **state)
{
    fixture *f = *state;
    f->pms.delay_ms = 50;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t threads[THREADS];
    racer racers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        racers[i] = (racer){.f = f, .start = &start};
        assert_int_equal(pthread_create(&threads[i], NULL, race_get, &racers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);

    assert_int_equal(f->pms.calls, 1);
    assert_int_equal(pms_token_mint_count(f->tc), 1);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(racers[i].rc, PMS_OK);
        assert_string_equal(racers[i].token, "tok-1");
        free(racers[i].token);
    }
}

/* Threads waiting on a mint that fails get its error; they don't each try again. */
static void a_failed_mint_is_shared_by_its_waiters(void **state)
{
    fixture *f = *state;
    f->pms.delay_ms = 50;
    f->pms.fail_next = THREADS;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t threads[THREADS];
    racer racers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        racers[i] = (racer){.f = f, .start = &start};
        assert_int_equal(pthread_create(&threads[i], NULL, race_get, &racers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(racers[i].rc, PMS_ERR_AUTH);
        assert_null(racers[i].token);
    }
    /* All started together: one mint (a thread arriving after it ended may try once more). */
    assert_true(f->pms.calls >= 1 && f->pms.calls <= 2);
}

static void mint_failure_propagates_then_retries(void **state)
{
    fixture *f = *state;
    f->pms.fail_next = 1;
    char *token = NULL;
    pms_error err = {0};
    assert_int_equal(pms_token_get(f->tc, &token, &err), PMS_ERR_AUTH);
    assert_int_equal(err.code, PMS_ERR_AUTH);
    assert_string_equal(err.message, "fake PMS refused the credentials");
    assert_null(token);
    assert_int_equal(pms_token_mint_count(f->tc), 0);
    assert_int_equal(f->pms.saved_count, 0);

    /* Nothing cached from the failure: the next get tries again. */
    expect_token(f, "tok-2");
    assert_int_equal(f->pms.calls, 2);
    assert_int_equal(pms_token_mint_count(f->tc), 1);
}

static void saved_callback_sees_each_new_token(void **state)
{
    fixture *f = *state;
    expect_token(f, "tok-1");
    expect_token(f, "tok-1");
    pms_token_invalidate(f->tc, "tok-1");
    expect_token(f, "tok-2");
    assert_int_equal(f->pms.saved_count, 2);
    assert_string_equal(f->pms.saved[0], "tok-1");
    assert_string_equal(f->pms.saved[1], "tok-2");
}

static void refresh_token_passed_on_next_mint(void **state)
{
    fixture *f = *state;
    f->pms.issue_refresh = true;
    expect_token(f, "tok-1");
    pms_token_invalidate(f->tc, "tok-1");
    expect_token(f, "tok-2");
    pms_token_invalidate(f->tc, "tok-2");
    expect_token(f, "tok-3");
    assert_int_equal(f->pms.calls, 3);
    assert_null(f->pms.refresh_seen[0]); /* nothing to refresh with yet */
    assert_non_null(f->pms.refresh_seen[1]);
    assert_string_equal(f->pms.refresh_seen[1], "ref-1");
    assert_string_equal(f->pms.refresh_seen[2], "ref-2");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(first_get_mints_then_reuses),
        T(short_lived_tokens_are_used_for_most_of_their_life),
        T(seeded_token_is_used),
        T(invalidate_only_matching),
        T(single_flight),
        T(a_failed_mint_is_shared_by_its_waiters),
        T(mint_failure_propagates_then_retries),
        T(saved_callback_sees_each_new_token),
        T(refresh_token_passed_on_next_mint),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
