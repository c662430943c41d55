/* API key and session authentication, CSRF checks, and the audit records of requests. */
#include "server/auth.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "pmsync/accounts.h"
#include "pmsync/websessions.h"
#include "pmsync/audit.h"
#include "pmsync/log.h"
#include "server/app.h"
#include "server/handlers.h"

/* The key a request presents: "Authorization: Bearer KEY", else "X-API-Key: KEY". */
static const char *presented_key(const pmsd_request *req)
{
    const char *auth = pmsd_header(req, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        auth += 7;
        while (*auth == ' ')
            auth++;
        return auth;
    }
    return pmsd_header(req, "X-API-Key");
}

static void unauthorized(pmsd_response *resp, const char *error, const char *message)
{
    pmsd_respond_error(resp, 401, "unauthorized", NULL, "%s", message);
    char challenge[128];
    snprintf(challenge, sizeof challenge, "Bearer realm=\"pmsd\"%s%s%s", error ? ", error=\"" : "",
             error ? error : "", error ? "\"" : "");
    pmsd_respond_header(resp, "WWW-Authenticate", challenge);
}

static void fill_from_key(pmsd_principal *p, const pms_principal *who)
{
    p->authenticated = true;
    snprintf(p->account_id, sizeof p->account_id, "%s", who->account_id);
    snprintf(p->key_id, sizeof p->key_id, "%s", who->key_id);
    snprintf(p->actor, sizeof p->actor, "%s", who->key_id);
    snprintf(p->role, sizeof p->role, "%s", pms_role_name(who->role));
    snprintf(p->name, sizeof p->name, "%s", who->key_name);
}

void pmsd_principal_from_session(pmsd_principal *p, const pms_web_session *ws)
{
    p->authenticated = true;
    p->via_cookie = true;
    snprintf(p->account_id, sizeof p->account_id, "%s", ws->account_id);
    snprintf(p->key_id, sizeof p->key_id, "%s", ws->api_key_id ? ws->api_key_id : "");
    snprintf(p->user_id, sizeof p->user_id, "%s", ws->user_id ? ws->user_id : "");
    if (ws->user_id)
        snprintf(p->actor, sizeof p->actor, "user:%s", ws->user_id);
    else
        snprintf(p->actor, sizeof p->actor, "%s", p->key_id);
    snprintf(p->role, sizeof p->role, "%s", pms_role_name(ws->role));
    snprintf(p->name, sizeof p->name, "%s", ws->principal_name ? ws->principal_name : "");
    snprintf(p->session_id, sizeof p->session_id, "%s", ws->id);
    snprintf(p->csrf_token, sizeof p->csrf_token, "%s", ws->csrf_token ? ws->csrf_token : "");
    p->session_expires_at = ws->expires_at;
}

bool pmsd_same_origin(const pmsd_request *req)
{
    const char *origin = pmsd_header(req, "Origin");
    if (origin == NULL)
        return true;
    const char *host = pmsd_header(req, "Host");
    const char *rest = strncmp(origin, "http://", 7) == 0    ? origin + 7
                       : strncmp(origin, "https://", 8) == 0 ? origin + 8
                                                             : NULL;
    return rest && host && host[0] && strcasecmp(rest, host) == 0;
}

static bool is_change(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}

/* A change made with the cookie carries the session's CSRF token and comes from this origin. */
static bool csrf_ok(const pmsd_request *req, const pms_web_session *ws)
{
    if (!is_change(req->method))
        return true;
    const char *sent = pmsd_header(req, PMSD_CSRF_HEADER);
    size_t len = ws->csrf_token ? strlen(ws->csrf_token) : 0;
    return len > 0 && sent && strlen(sent) == len &&
           CRYPTO_memcmp(sent, ws->csrf_token, len) == 0 && pmsd_same_origin(req);
}

static bool authenticate_key(pmsd_request *req, pmsd_response *resp, pms_store *st, const char *key)
{
    pms_principal who;
    pms_error err = {0};
    int rc = pms_api_key_authenticate(st, key, &who, &err);
    if (rc == PMS_ERR_AUTH) {
        unauthorized(resp, "invalid_token", "the API key is not valid");
        return false;
    }
    if (rc != PMS_OK) {
        pmsd_respond_error(resp, 503, "database_unavailable", NULL, "cannot check the API key now");
        return false;
    }
    fill_from_key(&req->principal, &who);
    return true;
}

static bool authenticate_cookie(pmsd_request *req, pmsd_response *resp, pms_store *st,
                                const char *token)
{
    pms_web_session ws;
    pms_error err = {0};
    int rc = pms_web_session_lookup(st, token, &ws, &err);
    if (rc == PMS_ERR_NOT_FOUND) {
        unauthorized(resp, "invalid_token", "the session has ended: sign in again");
        return false;
    }
    if (rc != PMS_OK) {
        pmsd_respond_error(resp, 503, "database_unavailable", NULL, "cannot check the session now");
        return false;
    }
    bool ok = csrf_ok(req, &ws);
    if (ok)
        pmsd_principal_from_session(&req->principal, &ws);
    else
        pmsd_respond_error(
            resp, 403, "csrf_failed", NULL,
            "a change made with the session cookie needs the session's " PMSD_CSRF_HEADER
            " header and must come from this site");
    pms_web_session_clear(&ws);
    return ok;
}

bool pmsd_authenticate(pmsd_request *req, pmsd_response *resp)
{
    if (req->route->access == PMSD_PUBLIC)
        return true;
    const char *key = presented_key(req);
    const char *cookie =
        key ? NULL : MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, PMSD_SESSION_COOKIE);
    if ((key == NULL || key[0] == '\0') && (cookie == NULL || cookie[0] == '\0')) {
        unauthorized(resp, NULL,
                     "an API key (Authorization: Bearer KEY or X-API-Key: KEY) or a session "
                     "(POST /api/session) is required");
        return false;
    }
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return false;
    return key ? authenticate_key(req, resp, st, key) : authenticate_cookie(req, resp, st, cookie);
}

/* Appends the event's records: one, or one per PMS_AUDIT_PATIENTS_COUNT patients when a
 * response shows more (a large day's run sheet), all in the caller's transaction. */
static int append_all(pms_store *st, const pms_keyring *ring, pms_audit_event *event,
                      const json_t *patient_ids, pms_error *err)
{
    size_t total = json_array_size(patient_ids);
    if (total <= PMS_AUDIT_PATIENTS_COUNT) {
        event->patient_ids = patient_ids;
        return pms_audit_append_tx(st, ring, event, NULL, err);
    }
    int rc = PMS_OK;
    for (size_t from = 0; from < total && rc == PMS_OK; from += PMS_AUDIT_PATIENTS_COUNT) {
        json_t *part = json_array();
        for (size_t i = from; part && i < total && i < from + PMS_AUDIT_PATIENTS_COUNT; i++)
            json_array_append(part, json_array_get(patient_ids, i));
        event->patient_ids = part;
        rc = part ? pms_audit_append_tx(st, ring, event, NULL, err)
                  : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        json_decref(part);
    }
    return rc;
}

bool pmsd_audit(pmsd_request *req, pmsd_response *resp, pms_store *st, bool in_transaction,
                const char *action, const char *resource, const json_t *patient_ids, int outcome)
{
    pms_audit_event event = {
        .account_id = req->principal.account_id,
        .actor_key_id = req->principal.actor[0] ? req->principal.actor : NULL,
        .actor_role = req->principal.role[0] ? req->principal.role : "system",
        .action = action,
        .resource = resource,
        .client_addr = req->client_addr,
        .outcome = outcome,
    };
    pms_error err = {0};
    int rc = in_transaction ? PMS_OK : st->ops->begin(st, &err);
    if (rc == PMS_OK)
        rc = append_all(st, req->app->ring, &event, patient_ids, &err);
    if (!in_transaction) {
        if (rc == PMS_OK)
            rc = st->ops->commit(st, &err);
        if (rc != PMS_OK)
            st->ops->rollback(st);
    }
    if (rc == PMS_OK)
        return true;
    pms_log(PMS_LOG_ERROR, "audit.write_failed", "action", action, "reason", err.message, NULL);
    pmsd_respond_error(resp, 500, "audit_unavailable", NULL,
                       "the request was not carried out: its audit record cannot be written");
    return false;
}
