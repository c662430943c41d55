/* Accounts and API keys: who may call pmsd, for which account and in which role.
 *
 * Roles (pms_role, pms_role_name and pms_role_parse live in store.h with the records): admin
 * manages connections and keys, staff works the run sheet, agent is the voice agent's tools.
 *
 * An API key is the text "pmsk_<prefix>_<secret>": a 12-character lookup prefix and a
 * 43-character secret, both base62 drawn without bias from pms_random_bytes (the secret alone
 * carries 256 bits). It is shown once, when it is created. The store keeps the prefix (unique,
 * indexed) and the SHA-256 of the whole key text in hex, never the key. Authentication looks
 * the key up by its prefix, compares the hashes with CRYPTO_memcmp and refuses revoked keys;
 * unknown, revoked and malformed keys all get the same PMS_ERR_AUTH message, which does not
 * say which. A key's last_used_at is written at most once a minute, not on every request.
 *
 * Thread safety: these functions use only the store handle they are given (one thread at a
 * time per handle, as store.h says).
 */
#ifndef PMSYNC_ACCOUNTS_H
#define PMSYNC_ACCOUNTS_H

#include <jansson.h>

#include "pmsync/crypto.h"
#include "pmsync/store.h"

#define PMS_API_KEY_TAG         "pmsk_"
#define PMS_API_KEY_SECRET_LEN  43
#define PMS_API_KEY_LEN         (5 + PMS_API_KEY_PREFIX_LEN + 1 + PMS_API_KEY_SECRET_LEN) /* 61 */
#define PMS_API_KEY_NAME_MAX    100
#define PMS_ACCOUNT_NAME_MAX    255
#define PMS_API_KEY_TOUCH_EVERY 60000 /* ms between writes of last_used_at */

/* Who is calling: what an authenticated API key stands for. */
typedef struct pms_principal {
    char account_id[PMS_STORE_ID_LEN];
    char key_id[PMS_STORE_ID_LEN];
    pms_role role;
    char key_name[PMS_API_KEY_NAME_MAX + 1];
} pms_principal;

/* Creates an account; id_out receives its id. name: 1 to 255 bytes without control characters;
 * timezone: an IANA zone or NULL. PMS_ERR_INVALID naming the field otherwise. */
int pms_account_create(pms_store *st, const char *name, const char *timezone,
                       char id_out[PMS_UUID_LEN], pms_error *err);
/* *out is cleared by the caller with pms_account_clear. PMS_ERR_NOT_FOUND. */
int pms_account_get(pms_store *st, const char *id, pms_account *out, pms_error *err);
/* Every account, oldest first; cleared with pms_account_array_clear. */
int pms_account_list(pms_store *st, pms_account_array *out, pms_error *err);

/* Creates an API key for an account. *plaintext_out is the key text, shown to the person once and
 * never stored: a new string the caller wipes with pms_secure_free(p, strlen(p)). out (may be NULL)
 * receives the stored record (cleared with pms_api_key_clear). name: 1 to 100 bytes without
 * control characters. PMS_ERR_NOT_FOUND when the account does not exist. */
int pms_api_key_create(pms_store *st, const char *account_id, const char *name, pms_role role,
                       char **plaintext_out, pms_api_key *out, pms_error *err);
/* An account's keys (every account's when account_id is NULL), oldest first, revoked ones
 * included; cleared with pms_api_key_array_clear. */
int pms_api_key_list(pms_store *st, const char *account_id, pms_api_key_array *out, pms_error *err);
/* Revokes a key: it never authenticates again. account_id (NULL: any) limits which account's key
 * may be revoked. Revoking a revoked key is PMS_OK (the first time is kept). PMS_ERR_NOT_FOUND. */
int pms_api_key_revoke(pms_store *st, const char *account_id, const char *key_id, pms_error *err);
/* Checks a presented key (the text after "Bearer "). PMS_OK fills *out; PMS_ERR_AUTH for an
 * unknown, revoked or malformed key, one message for all three; another code when the store
 * failed (the caller answers 503, not 401). Records the use (at most once a minute per key). */
int pms_api_key_authenticate(pms_store *st, const char *presented, pms_principal *out,
                             pms_error *err);

/* JSON views (new references): an account {id, name, timezone, createdAt}; a key {id, accountId,
 * name, role, prefix, createdAt, lastUsedAt, revokedAt, active} — never the key or its hash. */
json_t *pms_account_to_json(const pms_account *a);
json_t *pms_api_key_to_json(const pms_api_key *k);

#endif
