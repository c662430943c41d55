/* /api/session: a browser signs in with an API key or as a user and gets an HttpOnly cookie
 * (the session's token) and a CSRF token for its changes; it asks who it is; it signs out.
 * Failed sign-ins are counted per client address and throttled. Sign-in and sign-out are
 * audited with the session's key or user as the actor. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pmsync/accounts.h"
#include "pmsync/log.h"
#include "pmsync/users.h"
#include "pmsync/websessions.h"
#include "server/auth.h"
#include "server/handlers.h"

/* One message for every refused sign-in: it does not say whether the key, the username or
 * the password was wrong, or the user disabled. */
#define NOT_ACCEPTED "the sign-in was not accepted"

static json_t *session_json(const pmsd_principal *p, const char *account_name, bool with_csrf)
{
    json_t *o = json_pack("{s:s, s:s, s:s?}", "role", p->role, "accountId", p->account_id,
                          "accountName", account_name);
    if (o == NULL)
        return NULL;
    if (with_csrf)
        json_object_set_new(o, "csrfToken", json_string(p->csrf_token));
    json_object_set_new(o, "expiresAt",
                        p->via_cookie ? pms_json_instant_or_null(p->session_expires_at)
                                      : json_null());
    json_object_set_new(o, "via", json_string(p->user_id[0] ? "user" : "api_key"));
    json_object_set_new(o, "name", json_string(p->name));
    return o;
}

/* The session cookie: the token for max_age seconds, or "" with 0 to remove it. */
static void set_cookie(pmsd_request *req, pmsd_response *resp, const char *token, long max_age)
{
    char cookie[256];
    snprintf(cookie, sizeof cookie,
             PMSD_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", token,
             max_age, req->app->cfg.cookie_secure ? "; Secure" : "");
    pmsd_respond_header(resp, "Set-Cookie", cookie);
    OPENSSL_cleanse(cookie, sizeof cookie);
}

static void session_resource(const pmsd_principal *p, char *out, size_t len)
{
    snprintf(out, len, "web_sessions/%.16s", p->session_id);
}

bool pmsd_read_credentials(const json_t *body, const char **api_key, const char **username,
                           const char **password, pmsd_response *resp)
{
    static const char *const keys[] = {"apiKey", "username", "password", NULL};
    if (!pmsd_v_known_keys(body, keys, NULL, resp) ||
        !pmsd_v_string(body, "apiKey", NULL, false, 256, api_key, resp) ||
        !pmsd_v_string(body, "username", NULL, false, 256, username, resp) ||
        !pmsd_v_string(body, "password", NULL, false, PMS_PASSWORD_MAX + 1, password, resp))
        return false;
    if (*api_key && (*username || *password))
        return pmsd_v_fail(resp, NULL, *username ? "username" : "password",
                           "cannot be given with apiKey: sign in with one or the other");
    if (*api_key)
        return (*api_key)[0] ? true : pmsd_v_fail(resp, NULL, "apiKey", "must not be empty");
    if (*username == NULL && *password == NULL)
        return pmsd_v_fail(resp, NULL, "apiKey",
                           "is required, or username and password: sign in with one or the other");
    if (*username == NULL || (*username)[0] == '\0')
        return pmsd_v_fail(resp, NULL, "username", "is required with password");
    if (*password == NULL || (*password)[0] == '\0')
        return pmsd_v_fail(resp, NULL, "password", "is required with username");
    return true;
}

/* Checks the credentials; fills *owner (strings in the two records) or answers. */
static bool check_credentials(pmsd_request *req, pmsd_response *resp, pms_store *st,
                              const char *api_key, const char *username, const char *password,
                              pms_principal *key, pms_user *user, pms_web_session_owner *owner)
{
    pms_error err = {0};
    int rc;
    memset(owner, 0, sizeof *owner);
    if (api_key) {
        rc = pms_api_key_authenticate(st, api_key, key, &err);
        owner->account_id = key->account_id;
        owner->role = key->role;
        owner->api_key_id = key->key_id;
    } else {
        rc = pms_user_authenticate(st, username, password, user, &err);
        owner->account_id = user->account_id;
        owner->role = user->role;
        owner->user_id = user->id;
    }
    if (rc == PMS_OK)
        return true;
    if (rc == PMS_ERR_AUTH) {
        pmsd_throttle_failed(req->app->signins, req->client_addr, pms_now());
        pms_log(PMS_LOG_INFO, "session.signin_refused", "client", req->client_addr, "via",
                api_key ? "api_key" : "user", NULL);
        pmsd_respond_error(resp, 401, "unauthorized", NULL, NOT_ACCEPTED);
        pmsd_respond_header(resp, "WWW-Authenticate", "Bearer realm=\"pmsd\"");
    } else {
        pmsd_respond_error(resp, 503, "database_unavailable", NULL, "cannot check the sign-in now");
    }
    return false;
}

/* Creates the session, audits it in the same transaction, and answers with its cookie. */
static void open_session(pmsd_request *req, pmsd_response *resp, pms_store *st,
                         const pms_web_session_owner *owner)
{
    char token[PMS_WEB_SESSION_TOKEN_LEN + 1] = "";
    pms_web_session ws;
    pms_error err = {0};
    long max_age = (long)req->app->cfg.session_hours * 3600;
    int rc = st->ops->begin(st, &err);
    if (rc == PMS_OK)
        rc = pms_web_session_create(st, owner, (pms_instant)max_age * 1000, token, &ws, &err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        pmsd_respond_pms_error(resp, &err);
        return;
    }
    pmsd_principal_from_session(&req->principal, &ws);
    char resource[64];
    session_resource(&req->principal, resource, sizeof resource);
    if (pmsd_audit_commit(req, resp, st, "session.create", resource, NULL, 201)) {
        pmsd_respond_json(resp, 201, session_json(&req->principal, ws.account_name, true));
        set_cookie(req, resp, token, max_age);
        int purged = 0;
        if (pms_web_session_purge(st, &purged, &err) != PMS_OK)
            pms_log(PMS_LOG_WARN, "session.purge_failed", "reason", err.message, NULL);
    }
    OPENSSL_cleanse(token, sizeof token);
    pms_web_session_clear(&ws);
}

void pmsd_h_session_create(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    if (!pmsd_same_origin(req)) {
        pmsd_respond_error(resp, 403, "csrf_failed", NULL, "a sign-in must come from this site");
        return;
    }
    long wait = pmsd_throttle_wait(req->app->signins, req->client_addr, pms_now());
    if (wait > 0) {
        char seconds[32];
        snprintf(seconds, sizeof seconds, "%ld", wait);
        pmsd_respond_error(resp, 429, "too_many_attempts", NULL,
                           "too many failed sign-ins from this address: try again in %ld seconds",
                           wait);
        pmsd_respond_header(resp, "Retry-After", seconds);
        return;
    }
    json_t *body = pmsd_json_body(req, resp);
    const char *api_key = NULL, *username = NULL, *password = NULL;
    pms_principal key;
    pms_user user = {0};
    pms_web_session_owner owner;
    if (body && pmsd_read_credentials(body, &api_key, &username, &password, resp) &&
        check_credentials(req, resp, st, api_key, username, password, &key, &user, &owner))
        open_session(req, resp, st, &owner);
    pms_user_clear(&user);
    json_decref(body);
}

void pmsd_h_session_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    pms_account account;
    pms_error err = {0};
    if (pms_account_get(st, req->principal.account_id, &account, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return;
    }
    pmsd_respond_json(resp, 200,
                      session_json(&req->principal, account.name, req->principal.via_cookie));
    pms_account_clear(&account);
}

void pmsd_h_session_delete(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    if (req->principal.via_cookie) {
        pms_error err = {0};
        char resource[64];
        session_resource(&req->principal, resource, sizeof resource);
        if (st->ops->begin(st, &err) != PMS_OK ||
            pms_web_session_revoke(st, req->principal.session_id, &err) != PMS_OK) {
            st->ops->rollback(st);
            pmsd_respond_pms_error(resp, &err);
            return;
        }
        if (!pmsd_audit_commit(req, resp, st, "session.delete", resource, NULL, 204))
            return;
    }
    /* Signed in with a key header there is no session to end: the cookie is cleared anyway. */
    pmsd_respond_text(resp, 204, NULL, NULL, 0);
    set_cookie(req, resp, "", 0);
}
