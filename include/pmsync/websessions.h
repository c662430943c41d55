/* Browser sessions: what a person holds after signing in to the web UI with an API key or as a
 * user (users.h), so the browser never keeps the key or the password.
 *
 * A session's token is 32 random bytes as base64url without padding (43 characters); pmsd puts
 * it in an HttpOnly cookie. The store keeps only its hex SHA-256 (the session's id), so a copy of
 * the database does not sign anyone in. Each session also has a CSRF token (32 random bytes,
 * base64url) that the browser sends back in a header with every change, and an expiry.
 *
 * A session carries the account and the role of what signed in: the user's role, or the API
 * key's. It stops working when it expires, when it is revoked (sign-out), when its API key is
 * revoked and when its user is disabled: pms_web_session_lookup answers PMS_ERR_NOT_FOUND for all
 * of these, as for a token that never existed.
 *
 * Thread safety: these functions use only the store handle they are given.
 */
#ifndef PMSYNC_WEBSESSIONS_H
#define PMSYNC_WEBSESSIONS_H

#include "pmsync/store.h"

#define PMS_WEB_SESSION_TOKEN_LEN   43    /* base64url of 32 bytes, no padding */
#define PMS_WEB_SESSION_TOUCH_EVERY 60000 /* ms between writes of last_seen_at */

/* Who a new session is for: exactly one of api_key_id and user_id. Borrowed strings. */
typedef struct pms_web_session_owner {
    const char *account_id;
    pms_role role;
    const char *api_key_id;
    const char *user_id;
} pms_web_session_owner;

/* Creates a session lasting lifetime_ms. token_out receives the token to hand to the browser
 * (never stored; the caller wipes it after use); *out (cleared with pms_web_session_clear)
 * receives the stored session with its read-only fields. Runs in the caller's transaction when
 * one is open. */
int pms_web_session_create(pms_store *st, const pms_web_session_owner *owner,
                           pms_instant lifetime_ms, char token_out[PMS_WEB_SESSION_TOKEN_LEN + 1],
                           pms_web_session *out, pms_error *err);
/* The live session of a presented token (the cookie's value): PMS_OK fills *out; a malformed,
 * unknown, expired or revoked token, or one whose key was revoked or user disabled, is
 * PMS_ERR_NOT_FOUND; another code when the store failed. Records the use (at most once a
 * minute). */
int pms_web_session_lookup(pms_store *st, const char *token, pms_web_session *out, pms_error *err);
/* Revokes a session by its id (out->id of a lookup). PMS_ERR_NOT_FOUND. */
int pms_web_session_revoke(pms_store *st, const char *id, pms_error *err);
/* Deletes the sessions that have expired or been revoked; *count (may be NULL) how many. */
int pms_web_session_purge(pms_store *st, int *count, pms_error *err);

/* The id of a token: the hex SHA-256 of its text. */
void pms_web_session_id(const char *token, char out[PMS_WEB_SESSION_ID_LEN]);
/* 32 random bytes as base64url without padding (a session or CSRF token). */
int pms_random_token(char out[PMS_WEB_SESSION_TOKEN_LEN + 1], pms_error *err);

#endif
