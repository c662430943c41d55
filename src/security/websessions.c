/* Browser sessions: tokens, their hashes, lookup, revocation and purging. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pmsync/log.h"
#include "pmsync/websessions.h"

#define TOKEN_BYTES 32

int pms_random_token(char out[PMS_WEB_SESSION_TOKEN_LEN + 1], pms_error *err)
{
    unsigned char raw[TOKEN_BYTES];
    char *b64 = NULL;
    out[0] = '\0';
    int rc = pms_random_bytes(raw, sizeof raw, err);
    if (rc == PMS_OK)
        rc = pms_base64_encode(raw, sizeof raw, &b64, err);
    if (rc == PMS_OK) {
        /* base64 to base64url, without the one '=' of 32 bytes */
        size_t n = 0;
        for (const char *p = b64; *p && *p != '=' && n < PMS_WEB_SESSION_TOKEN_LEN; p++)
            out[n++] = *p == '+' ? '-' : *p == '/' ? '_' : *p;
        out[n] = '\0';
        pms_secure_free(b64, strlen(b64));
    }
    OPENSSL_cleanse(raw, sizeof raw);
    return rc;
}

void pms_web_session_id(const char *token, char out[PMS_WEB_SESSION_ID_LEN])
{
    pms_sha256_hex(token, strlen(token), out);
}

static bool has_token_shape(const char *token)
{
    if (token == NULL || strnlen(token, PMS_WEB_SESSION_TOKEN_LEN + 1) != PMS_WEB_SESSION_TOKEN_LEN)
        return false;
    for (const char *p = token; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

int pms_web_session_create(pms_store *st, const pms_web_session_owner *owner,
                           pms_instant lifetime_ms, char token_out[PMS_WEB_SESSION_TOKEN_LEN + 1],
                           pms_web_session *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    token_out[0] = '\0';
    if (owner->account_id == NULL || (owner->api_key_id == NULL) == (owner->user_id == NULL) ||
        lifetime_ms <= 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "a session needs an account, a key or a user, and a lifetime");
    char token[PMS_WEB_SESSION_TOKEN_LEN + 1], csrf[PMS_WEB_SESSION_TOKEN_LEN + 1];
    int rc = pms_random_token(token, err);
    if (rc == PMS_OK)
        rc = pms_random_token(csrf, err);
    if (rc != PMS_OK)
        return rc;
    pms_instant now = pms_now();
    pms_web_session ws = {
        .account_id = (char *)owner->account_id,
        .role = owner->role,
        .api_key_id = (char *)owner->api_key_id,
        .user_id = (char *)owner->user_id,
        .csrf_token = csrf,
        .created_at = now,
        .expires_at = now + lifetime_ms,
        .last_seen_at = now,
        .revoked_at = PMS_INSTANT_NONE,
    };
    pms_web_session_id(token, ws.id);
    if ((rc = st->ops->web_session_insert(st, &ws, err)) == PMS_OK &&
        (rc = st->ops->web_session_find(st, ws.id, out, err)) == PMS_OK)
        memcpy(token_out, token, sizeof token);
    OPENSSL_cleanse(token, sizeof token);
    OPENSSL_cleanse(csrf, sizeof csrf);
    return rc;
}

int pms_web_session_lookup(pms_store *st, const char *token, pms_web_session *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (!has_token_shape(token))
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such session");
    char id[PMS_WEB_SESSION_ID_LEN];
    pms_web_session_id(token, id);
    int rc = st->ops->web_session_find(st, id, out, err);
    if (rc != PMS_OK)
        return rc;
    pms_instant now = pms_now();
    if (out->revoked_at != PMS_INSTANT_NONE || out->expires_at <= now || !out->principal_active) {
        pms_web_session_clear(out);
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such session");
    }
    /* Record the use, at most once a minute; a busy database does not refuse a good session. */
    if (now - out->last_seen_at >= PMS_WEB_SESSION_TOUCH_EVERY) {
        pms_error touch_err = {0};
        if (st->ops->web_session_touch(st, id, now, PMS_WEB_SESSION_TOUCH_EVERY, &touch_err) !=
            PMS_OK)
            pms_log(PMS_LOG_WARN, "session.touch_failed", "reason", touch_err.message, NULL);
        else
            out->last_seen_at = now;
    }
    return PMS_OK;
}

int pms_web_session_revoke(pms_store *st, const char *id, pms_error *err)
{
    return st->ops->web_session_revoke(st, id, pms_now(), err);
}

int pms_web_session_purge(pms_store *st, int *count, pms_error *err)
{
    return st->ops->web_session_delete_expired(st, pms_now(), count, err);
}
