/* Accounts and API keys: creation, listing, revocation and authentication. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pmsync/accounts.h"
#include "pmsync/log.h"
#include "pmsync/tz.h"

#define PREFIX_OFFSET (sizeof PMS_API_KEY_TAG - 1)
#define SECRET_OFFSET (PREFIX_OFFSET + PMS_API_KEY_PREFIX_LEN + 1)
/* Attempts at a fresh prefix when one is taken (72 random bits: never, in practice). */
#define CREATE_ATTEMPTS 3

static const char base62_digits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* n base62 characters from random bytes. Bytes of 248 and above are dropped so that every
 * character is equally likely (248 = 4 * 62). */
static int random_base62(char *out, size_t n, pms_error *err)
{
    unsigned char pool[64];
    size_t used = sizeof pool, have = 0;
    int rc = PMS_OK;
    while (have < n) {
        if (used == sizeof pool) {
            if ((rc = pms_random_bytes(pool, sizeof pool, err)) != PMS_OK)
                break;
            used = 0;
        }
        unsigned char b = pool[used++];
        if (b < 248)
            out[have++] = base62_digits[b % 62];
    }
    OPENSSL_cleanse(pool, sizeof pool);
    return rc;
}

static bool is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Whether text has the exact shape of a key: tag, prefix, '_', secret, nothing else. */
static bool has_key_shape(const char *text, size_t len)
{
    if (len != PMS_API_KEY_LEN || strncmp(text, PMS_API_KEY_TAG, PREFIX_OFFSET) != 0 ||
        text[SECRET_OFFSET - 1] != '_')
        return false;
    for (size_t i = PREFIX_OFFSET; i < len; i++)
        if (i != SECRET_OFFSET - 1 && !is_base62(text[i]))
            return false;
    return true;
}

/* A name people give: 1..max bytes, no control characters. */
static int check_name(const char *what, const char *name, size_t max, pms_error *err)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > max)
        return pms_error_set(err, PMS_ERR_INVALID, "%s must be 1 to %zu characters", what, max);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return pms_error_set(err, PMS_ERR_INVALID, "%s must not contain control characters",
                                 what);
    return PMS_OK;
}

/* ---- accounts ------------------------------------------------------------------------ */

int pms_account_create(pms_store *st, const char *name, const char *timezone,
                       char id_out[PMS_UUID_LEN], pms_error *err)
{
    id_out[0] = '\0';
    int rc = check_name("an account name", name, PMS_ACCOUNT_NAME_MAX, err);
    if (rc != PMS_OK)
        return rc;
    const pms_tz *zone;
    if (timezone != NULL &&
        (!pms_tz_name_valid(timezone) || pms_tz_get(timezone, &zone, NULL) != PMS_OK))
        return pms_error_set(err, PMS_ERR_INVALID,
                             "timezone must be an IANA zone such as Australia/Melbourne");
    char id[PMS_UUID_LEN];
    if ((rc = pms_uuid_v4(id, err)) != PMS_OK)
        return rc;
    pms_account a = {id, (char *)name, (char *)timezone, pms_now()};
    if ((rc = st->ops->account_insert(st, &a, err)) != PMS_OK)
        return rc;
    memcpy(id_out, id, PMS_UUID_LEN);
    return PMS_OK;
}

int pms_account_get(pms_store *st, const char *id, pms_account *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (id == NULL || id[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "no account id");
    return st->ops->account_get(st, id, out, err);
}

int pms_account_list(pms_store *st, pms_account_array *out, pms_error *err)
{
    return st->ops->account_list(st, out, err);
}

json_t *pms_account_to_json(const pms_account *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", pms_json_string_or_null(a->id));
    json_object_set_new(o, "name", pms_json_string_or_null(a->name));
    json_object_set_new(o, "timezone", pms_json_string_or_null(a->timezone));
    json_object_set_new(o, "createdAt", pms_json_instant_or_null(a->created_at));
    return o;
}

/* ---- API keys ------------------------------------------------------------------------ */

int pms_api_key_create(pms_store *st, const char *account_id, const char *name, pms_role role,
                       char **plaintext_out, pms_api_key *out, pms_error *err)
{
    *plaintext_out = NULL;
    if (out != NULL) {
        memset(out, 0, sizeof *out);
        pms_api_key_clear(out);
    }
    if (account_id == NULL || account_id[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "an API key needs an account");
    int rc = check_name("an API key name", name, PMS_API_KEY_NAME_MAX, err);
    if (rc != PMS_OK)
        return rc;
    if (role != PMS_ROLE_ADMIN && role != PMS_ROLE_STAFF && role != PMS_ROLE_AGENT)
        return pms_error_set(err, PMS_ERR_INVALID, "role must be admin, staff or agent");

    char *text = malloc(PMS_API_KEY_LEN + 1);
    if (text == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    char id[PMS_UUID_LEN];
    pms_api_key k = {
        .id = id,
        .account_id = (char *)account_id,
        .name = (char *)name,
        .role = role,
        .last_used_at = PMS_INSTANT_NONE,
        .revoked_at = PMS_INSTANT_NONE,
    };
    rc = PMS_ERR_CONFLICT;
    for (int attempt = 0; attempt < CREATE_ATTEMPTS && rc == PMS_ERR_CONFLICT; attempt++) {
        memcpy(text, PMS_API_KEY_TAG, PREFIX_OFFSET);
        text[SECRET_OFFSET - 1] = '_';
        text[PMS_API_KEY_LEN] = '\0';
        if ((rc = random_base62(text + PREFIX_OFFSET, PMS_API_KEY_PREFIX_LEN, err)) != PMS_OK ||
            (rc = random_base62(text + SECRET_OFFSET, PMS_API_KEY_SECRET_LEN, err)) != PMS_OK ||
            (rc = pms_uuid_v4(id, err)) != PMS_OK)
            break;
        memcpy(k.prefix, text + PREFIX_OFFSET, PMS_API_KEY_PREFIX_LEN);
        k.prefix[PMS_API_KEY_PREFIX_LEN] = '\0';
        pms_sha256_hex(text, PMS_API_KEY_LEN, k.key_hash);
        k.created_at = pms_now();
        rc = st->ops->api_key_insert(st, &k, err);
    }
    if (rc != PMS_OK) {
        pms_secure_free(text, PMS_API_KEY_LEN + 1);
        return rc;
    }
    if (out != NULL) {
        *out = k;
        out->id = strdup(id);
        out->account_id = strdup(account_id);
        out->name = strdup(name);
        if (out->id == NULL || out->account_id == NULL || out->name == NULL) {
            pms_api_key_clear(out);
            /* The key exists; without the record the caller cannot show it: take it back. */
            st->ops->api_key_revoke(st, NULL, id, pms_now(), NULL);
            pms_secure_free(text, PMS_API_KEY_LEN + 1);
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        }
    }
    *plaintext_out = text;
    return PMS_OK;
}

int pms_api_key_list(pms_store *st, const char *account_id, pms_api_key_array *out, pms_error *err)
{
    return st->ops->api_key_list(st, account_id, out, err);
}

int pms_api_key_revoke(pms_store *st, const char *account_id, const char *key_id, pms_error *err)
{
    if (key_id == NULL || key_id[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "no API key id");
    /* Someone pasted the key itself: never echo it back in "no API key with id ...". */
    if (strncmp(key_id, PMS_API_KEY_TAG, PREFIX_OFFSET) == 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "give the API key's id (as listed), not the key itself");
    return st->ops->api_key_revoke(st, account_id, key_id, pms_now(), err);
}

static int not_accepted(pms_error *err)
{
    return pms_error_set(err, PMS_ERR_AUTH, "API key not accepted");
}

int pms_api_key_authenticate(pms_store *st, const char *presented, pms_principal *out,
                             pms_error *err)
{
    memset(out, 0, sizeof *out);
    size_t len = presented ? strnlen(presented, PMS_API_KEY_LEN + 1) : 0;
    if (presented == NULL || !has_key_shape(presented, len))
        return not_accepted(err);
    char presented_hash[65];
    pms_sha256_hex(presented, len, presented_hash);
    char prefix[PMS_API_KEY_PREFIX_LEN + 1];
    memcpy(prefix, presented + PREFIX_OFFSET, PMS_API_KEY_PREFIX_LEN);
    prefix[PMS_API_KEY_PREFIX_LEN] = '\0';

    pms_api_key k;
    pms_error store_err = {0};
    int rc = st->ops->api_key_find_by_prefix(st, prefix, &k, &store_err);
    if (rc == PMS_ERR_NOT_FOUND)
        return not_accepted(err);
    if (rc != PMS_OK) {
        if (err)
            *err = store_err;
        pms_error_prefix(err, "cannot check the API key");
        return rc;
    }
    bool match = strlen(k.key_hash) == 64 && strlen(presented_hash) == 64 &&
                 CRYPTO_memcmp(k.key_hash, presented_hash, 64) == 0;
    if (!match || k.revoked_at != PMS_INSTANT_NONE) {
        pms_api_key_clear(&k);
        return not_accepted(err);
    }
    snprintf(out->account_id, sizeof out->account_id, "%s", k.account_id);
    snprintf(out->key_id, sizeof out->key_id, "%s", k.id);
    snprintf(out->key_name, sizeof out->key_name, "%s", k.name);
    out->role = k.role;
    /* Record the use, at most once a minute: a read-mostly check must not write per request. A
     * failure here (a busy database) does not refuse a good key. */
    pms_instant now = pms_now();
    if (k.last_used_at == PMS_INSTANT_NONE || now - k.last_used_at >= PMS_API_KEY_TOUCH_EVERY) {
        pms_error touch_err = {0};
        if (st->ops->api_key_touch(st, k.id, now, PMS_API_KEY_TOUCH_EVERY, &touch_err) != PMS_OK)
            pms_log(PMS_LOG_WARN, "api_key.touch_failed", "key", k.id, "reason", touch_err.message,
                    NULL);
    }
    pms_api_key_clear(&k);
    return PMS_OK;
}

json_t *pms_api_key_to_json(const pms_api_key *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", pms_json_string_or_null(k->id));
    json_object_set_new(o, "accountId", pms_json_string_or_null(k->account_id));
    json_object_set_new(o, "name", pms_json_string_or_null(k->name));
    json_object_set_new(o, "role", json_string(pms_role_name(k->role)));
    json_object_set_new(o, "prefix", json_string(k->prefix));
    json_object_set_new(o, "createdAt", pms_json_instant_or_null(k->created_at));
    json_object_set_new(o, "lastUsedAt", pms_json_instant_or_null(k->last_used_at));
    json_object_set_new(o, "revokedAt", pms_json_instant_or_null(k->revoked_at));
    json_object_set_new(o, "active", json_boolean(k->revoked_at == PMS_INSTANT_NONE));
    return o;
}
