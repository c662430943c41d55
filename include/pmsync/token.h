/* Token manager: caches one access token per session, mints a new one 60 s (configurable)
 * before expiry (a quarter of the lifetime for tokens that live less than twice that), and
 * after a 401 mints once more. Minting is single-flight: when several
 * threads need a token at once, one mints and the others wait for it. Thread-safe.
 */
#ifndef PMSYNC_TOKEN_H
#define PMSYNC_TOKEN_H

#include "pmsync/adapter.h"
#include "pmsync/error.h"
#include "pmsync/time.h"

typedef struct pms_token_cache pms_token_cache;

/* Mints a token: authenticate, or refresh when the cache holds a refresh token and the
 * callback knows how (refresh_token may be NULL). */
typedef int (*pms_token_mint_fn)(void *ctx, const char *refresh_token, pms_auth_result *out,
                                 pms_error *err);
/* Told about every newly minted token (to store it encrypted). */
typedef void (*pms_token_saved_fn)(void *ctx, const pms_auth_result *token);

int pms_token_cache_new(long refresh_margin_ms, pms_token_mint_fn mint, pms_token_saved_fn saved,
                        void *ctx, pms_token_cache **out, pms_error *err);
void pms_token_cache_free(pms_token_cache *tc);

/* Starts from a token kept from an earlier run (copied). */
int pms_token_cache_seed(pms_token_cache *tc, const pms_auth_result *token, pms_error *err);

/* A valid access token (a new string the caller frees), minting when there is none or it
 * expires within the margin. */
int pms_token_get(pms_token_cache *tc, char **access_token, pms_error *err);

/* Forgets the token if it is still `rejected` (a 401 answered it), so the next get mints. */
void pms_token_invalidate(pms_token_cache *tc, const char *rejected);

/* How many tokens this cache minted (tests, benchmarks). */
long pms_token_mint_count(const pms_token_cache *tc);

#endif
