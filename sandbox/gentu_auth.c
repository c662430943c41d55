#include "gentu_auth.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/random.h>

#include "pmsync/time.h"
#include "prng.h"
#include "strmap.h"

/* Expired tokens are kept for a while so callers see "expired" rather than "unknown". */
#define PURGE_THRESHOLD 4096
#define KEEP_EXPIRED_MS ((pms_instant)3600 * 1000)

static pthread_mutex_t tokens_lock = PTHREAD_MUTEX_INITIALIZER;
static sbx_strmap tokens; /* token -> malloc'd pms_instant expiry */
static sbx_prng fallback_prng;
static bool fallback_seeded;

static void random_bytes(unsigned char *buf, size_t len)
{
    if (getrandom(buf, len, 0) == (ssize_t)len)
        return;
    if (!fallback_seeded) {
        sbx_prng_seed(&fallback_prng, (uint64_t)pms_now() ^ (uint64_t)(uintptr_t)buf);
        fallback_seeded = true;
    }
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)sbx_prng_next(&fallback_prng);
}

static void purge_expired(pms_instant now)
{
    for (size_t i = 0; i < tokens.capacity; i++) {
        sbx_strmap_slot *slot = &tokens.slots[i];
        if (slot->key == NULL)
            continue;
        pms_instant *expiry = slot->value;
        if (*expiry + KEEP_EXPIRED_MS < now) {
            /* Removal shifts later slots back into i: look at i again. */
            free(sbx_strmap_remove(&tokens, slot->key));
            i--;
        }
    }
}

int gentu_token_mint(int lifetime_seconds, char out[GENTU_TOKEN_LEN], pms_error *err)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    pms_instant *expiry = malloc(sizeof(*expiry));
    if (expiry == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory minting a token");
    pms_instant now = pms_now();
    *expiry = now + (pms_instant)lifetime_seconds * 1000;
    pthread_mutex_lock(&tokens_lock);
    unsigned char raw[GENTU_TOKEN_LEN - 1];
    random_bytes(raw, sizeof(raw));
    for (size_t i = 0; i < sizeof(raw); i++)
        out[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
    out[GENTU_TOKEN_LEN - 1] = '\0';
    if (tokens.count >= PURGE_THRESHOLD)
        purge_expired(now);
    bool ok = sbx_strmap_put(&tokens, out, expiry);
    pthread_mutex_unlock(&tokens_lock);
    if (!ok) {
        free(expiry);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory minting a token");
    }
    return PMS_OK;
}

gentu_token_state gentu_token_check(const char *token)
{
    pthread_mutex_lock(&tokens_lock);
    pms_instant *expiry = sbx_strmap_get(&tokens, token);
    gentu_token_state state = expiry == NULL         ? GENTU_TOKEN_UNKNOWN
                              : *expiry <= pms_now() ? GENTU_TOKEN_EXPIRED
                                                     : GENTU_TOKEN_VALID;
    pthread_mutex_unlock(&tokens_lock);
    return state;
}

void gentu_tokens_expire_all(void)
{
    pms_instant now = pms_now();
    pthread_mutex_lock(&tokens_lock);
    for (size_t i = 0; i < tokens.capacity; i++) {
        if (tokens.slots[i].key != NULL) {
            pms_instant *expiry = tokens.slots[i].value;
            if (*expiry > now)
                *expiry = now;
        }
    }
    pthread_mutex_unlock(&tokens_lock);
}

void gentu_tokens_clear(void)
{
    pthread_mutex_lock(&tokens_lock);
    for (size_t i = 0; i < tokens.capacity; i++) {
        if (tokens.slots[i].key != NULL)
            free(tokens.slots[i].value);
    }
    sbx_strmap_free(&tokens);
    pthread_mutex_unlock(&tokens_lock);
}
