#include "tokens.h"

#include <stdlib.h>
#include <sys/random.h>

#include "pmsync/time.h"
#include "prng.h"

#define PURGE_THRESHOLD 4096
#define KEEP_EXPIRED_MS ((pms_instant)3600 * 1000)

typedef struct token_entry {
    pms_instant expiry;
    int owner;
} token_entry;

static pthread_mutex_t fallback_lock = PTHREAD_MUTEX_INITIALIZER;
static sbx_prng fallback_prng;
static bool fallback_seeded;

static void random_bytes(unsigned char *buf, size_t len)
{
    if (getrandom(buf, len, 0) == (ssize_t)len)
        return;
    pthread_mutex_lock(&fallback_lock);
    if (!fallback_seeded) {
        sbx_prng_seed(&fallback_prng, (uint64_t)pms_now() ^ (uint64_t)(uintptr_t)buf);
        fallback_seeded = true;
    }
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)sbx_prng_next(&fallback_prng);
    pthread_mutex_unlock(&fallback_lock);
}

/* Hold the table's lock. */
static void purge_expired(sbx_token_table *table, pms_instant now)
{
    sbx_strmap *map = &table->tokens;
    for (size_t i = 0; i < map->capacity; i++) {
        sbx_strmap_slot *slot = &map->slots[i];
        if (slot->key == NULL)
            continue;
        token_entry *entry = slot->value;
        if (entry->expiry + KEEP_EXPIRED_MS < now) {
            /* Removal shifts later slots back into i: look at i again. */
            free(sbx_strmap_remove(map, slot->key));
            i--;
        }
    }
}

int sbx_token_mint(sbx_token_table *table, size_t len, int lifetime_seconds, int owner, char *out,
                   pms_error *err)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (len == 0 || len > SBX_TOKEN_MAX)
        return pms_error_set(err, PMS_ERR_INVALID, "token length out of range");
    token_entry *entry = malloc(sizeof(*entry));
    if (entry == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory minting a token");
    pms_instant now = pms_now();
    entry->expiry = now + (pms_instant)lifetime_seconds * 1000;
    entry->owner = owner;
    unsigned char raw[SBX_TOKEN_MAX];
    random_bytes(raw, len);
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
    out[len] = '\0';
    pthread_mutex_lock(&table->lock);
    if (table->tokens.count >= PURGE_THRESHOLD)
        purge_expired(table, now);
    bool ok = sbx_strmap_put(&table->tokens, out, entry);
    pthread_mutex_unlock(&table->lock);
    if (!ok) {
        free(entry);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory minting a token");
    }
    return PMS_OK;
}

sbx_token_state sbx_token_check(sbx_token_table *table, const char *token, int *owner)
{
    pthread_mutex_lock(&table->lock);
    const token_entry *entry = sbx_strmap_get(&table->tokens, token);
    sbx_token_state state = entry == NULL                ? SBX_TOKEN_UNKNOWN
                            : entry->expiry <= pms_now() ? SBX_TOKEN_EXPIRED
                                                         : SBX_TOKEN_VALID;
    if (entry != NULL && owner != NULL)
        *owner = entry->owner;
    pthread_mutex_unlock(&table->lock);
    return state;
}

void sbx_tokens_expire_all(sbx_token_table *table)
{
    pms_instant now = pms_now();
    pthread_mutex_lock(&table->lock);
    for (size_t i = 0; i < table->tokens.capacity; i++) {
        if (table->tokens.slots[i].key != NULL) {
            token_entry *entry = table->tokens.slots[i].value;
            if (entry->expiry > now)
                entry->expiry = now;
        }
    }
    pthread_mutex_unlock(&table->lock);
}

void sbx_tokens_clear(sbx_token_table *table)
{
    pthread_mutex_lock(&table->lock);
    for (size_t i = 0; i < table->tokens.capacity; i++) {
        if (table->tokens.slots[i].key != NULL)
            free(table->tokens.slots[i].value);
    }
    sbx_strmap_free(&table->tokens);
    pthread_mutex_unlock(&table->lock);
}
