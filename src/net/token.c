#include "pmsync/token.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pms_token_cache {
    pthread_mutex_t lock;
    pthread_cond_t minted;
    bool minting;
    long mint_round;  /* counts finished mint attempts */
    int last_mint_rc; /* outcome of the last attempt */
    pms_error last_mint_error;
    long margin_ms;
    char *access_token;
    char *refresh_token;
    pms_instant expires_at;
    long lifetime_ms; /* how long the current token was valid for when it arrived */
    long mint_count;
    pms_token_mint_fn mint;
    pms_token_saved_fn saved;
    void *ctx;
};

void pms_auth_result_clear(pms_auth_result *r)
{
    if (r->access_token)
        memset(r->access_token, 0, strlen(r->access_token));
    if (r->refresh_token)
        memset(r->refresh_token, 0, strlen(r->refresh_token));
    free(r->access_token);
    free(r->refresh_token);
    memset(r, 0, sizeof *r);
}

static void forget(pms_token_cache *tc)
{
    if (tc->access_token)
        memset(tc->access_token, 0, strlen(tc->access_token));
    free(tc->access_token);
    tc->access_token = NULL;
    tc->expires_at = 0;
}

int pms_token_cache_new(long refresh_margin_ms, pms_token_mint_fn mint, pms_token_saved_fn saved,
                        void *ctx, pms_token_cache **out, pms_error *err)
{
    pms_token_cache *tc = calloc(1, sizeof *tc);
    if (tc == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&tc->lock, NULL);
    pthread_cond_init(&tc->minted, NULL);
    tc->margin_ms = refresh_margin_ms;
    tc->mint = mint;
    tc->saved = saved;
    tc->ctx = ctx;
    *out = tc;
    return PMS_OK;
}

void pms_token_cache_free(pms_token_cache *tc)
{
    if (tc == NULL)
        return;
    forget(tc);
    if (tc->refresh_token)
        memset(tc->refresh_token, 0, strlen(tc->refresh_token));
    free(tc->refresh_token);
    pthread_cond_destroy(&tc->minted);
    pthread_mutex_destroy(&tc->lock);
    free(tc);
}

/* Takes ownership of the strings in r. */
static void adopt(pms_token_cache *tc, pms_auth_result *r)
{
    forget(tc);
    tc->access_token = r->access_token;
    tc->expires_at = r->expires_at;
    tc->lifetime_ms = 0; /* unknown until set by a mint */
    r->access_token = NULL;
    if (r->refresh_token) {
        free(tc->refresh_token);
        tc->refresh_token = r->refresh_token;
        r->refresh_token = NULL;
    }
}

int pms_token_cache_seed(pms_token_cache *tc, const pms_auth_result *token, pms_error *err)
{
    pms_auth_result copy = {
        .access_token = token->access_token ? strdup(token->access_token) : NULL,
        .refresh_token = token->refresh_token ? strdup(token->refresh_token) : NULL,
        .expires_at = token->expires_at,
    };
    if ((token->access_token && !copy.access_token) ||
        (token->refresh_token && !copy.refresh_token)) {
        pms_auth_result_clear(&copy);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&tc->lock);
    adopt(tc, &copy);
    pthread_mutex_unlock(&tc->lock);
    pms_auth_result_clear(&copy);
    return PMS_OK;
}

/* Renew `margin` before expiry; for tokens that live less than twice the margin, a quarter of
 * their lifetime, so a short-lived token is still used for most of its life. */
static bool usable(const pms_token_cache *tc, pms_instant now)
{
    long margin = tc->margin_ms;
    if (tc->lifetime_ms > 0 && tc->lifetime_ms < 2 * margin)
        margin = tc->lifetime_ms / 4;
    return tc->access_token != NULL && tc->expires_at - margin > now;
}

int pms_token_get(pms_token_cache *tc, char **access_token, pms_error *err)
{
    int rc = PMS_OK;
    pthread_mutex_lock(&tc->lock);
    for (;;) {
        if (usable(tc, pms_now())) {
            *access_token = strdup(tc->access_token);
            if (*access_token == NULL)
                rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
        if (tc->minting) {
            /* Someone is minting: wait for it and share its outcome, so a failure (bad
             * credentials, say) costs one request, not one per waiting thread. */
            long round = tc->mint_round;
            while (tc->minting)
                pthread_cond_wait(&tc->minted, &tc->lock);
            if (tc->mint_round != round && tc->last_mint_rc != PMS_OK) {
                rc = tc->last_mint_rc;
                if (err)
                    *err = tc->last_mint_error;
                break;
            }
            continue;
        }
        /* This thread mints; the others wait for it. */
        tc->minting = true;
        char *refresh = tc->refresh_token ? strdup(tc->refresh_token) : NULL;
        pthread_mutex_unlock(&tc->lock);
        pms_auth_result fresh = {0};
        rc = tc->mint(tc->ctx, refresh, &fresh, err);
        free(refresh);
        if (rc == PMS_OK && fresh.access_token == NULL)
            rc = pms_error_set(err, PMS_ERR_AUTH, "the PMS returned no access token");
        if (rc == PMS_OK && tc->saved)
            tc->saved(tc->ctx, &fresh);
        pthread_mutex_lock(&tc->lock);
        tc->minting = false;
        tc->mint_round++;
        tc->last_mint_rc = rc;
        if (rc != PMS_OK) {
            if (err)
                tc->last_mint_error = *err;
            else
                pms_error_set(&tc->last_mint_error, (pms_status)rc, "minting a token failed");
        }
        pthread_cond_broadcast(&tc->minted);
        if (rc != PMS_OK) {
            pms_auth_result_clear(&fresh);
            break;
        }
        tc->mint_count++;
        adopt(tc, &fresh);
        tc->lifetime_ms = (long)(tc->expires_at - pms_now());
        pms_auth_result_clear(&fresh);
        /* A token that is already inside the margin is still used once rather than looping. */
        if (!usable(tc, pms_now())) {
            *access_token = strdup(tc->access_token);
            if (*access_token == NULL)
                rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
    }
    pthread_mutex_unlock(&tc->lock);
    return rc;
}

void pms_token_invalidate(pms_token_cache *tc, const char *rejected)
{
    pthread_mutex_lock(&tc->lock);
    if (tc->access_token && rejected && strcmp(tc->access_token, rejected) == 0)
        forget(tc);
    pthread_mutex_unlock(&tc->lock);
}

long pms_token_mint_count(const pms_token_cache *tc)
{
    pthread_mutex_t *lock = (pthread_mutex_t *)&tc->lock;
    pthread_mutex_lock(lock);
    long n = tc->mint_count;
    pthread_mutex_unlock(lock);
    return n;
}
