/* API key authentication and the audit records of requests. */
#include "server/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pmsync/accounts.h"
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

bool pmsd_authenticate(pmsd_request *req, pmsd_response *resp)
{
    if (req->route->access == PMSD_PUBLIC)
        return true;
    const char *key = presented_key(req);
    if (key == NULL || key[0] == '\0') {
        unauthorized(resp, NULL,
                     "an API key is required (Authorization: Bearer KEY or X-API-Key: KEY)");
        return false;
    }
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return false;
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
    req->principal.authenticated = true;
    snprintf(req->principal.account_id, sizeof req->principal.account_id, "%s", who.account_id);
    snprintf(req->principal.key_id, sizeof req->principal.key_id, "%s", who.key_id);
    snprintf(req->principal.role, sizeof req->principal.role, "%s", pms_role_name(who.role));
    return true;
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
        .actor_key_id = req->principal.key_id[0] ? req->principal.key_id : NULL,
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
