/* What the endpoint handlers share: ownership checks, dates, sync status. */
#include <stdlib.h>
#include <string.h>

#include "pmsync/scheduler.h"
#include "pmsync/sync.h"
#include "server/handlers.h"

const char *pmsd_param(const pmsd_request *req, size_t i)
{
    return i < req->param_count && req->params[i] ? req->params[i] : "";
}

bool pmsd_own_connection(pmsd_request *req, pmsd_response *resp, pms_store *st, pms_connection *out)
{
    memset(out, 0, sizeof *out);
    pms_error err = {0};
    int rc = st->ops->connection_get(st, pmsd_param(req, 0), out, &err);
    if (rc == PMS_OK && strcmp(out->account_id, req->principal.account_id) == 0)
        return true;
    if (rc == PMS_OK || rc == PMS_ERR_NOT_FOUND) {
        pms_connection_clear(out);
        pmsd_respond_error(resp, 404, "not_found", NULL, "no such connection");
        return false;
    }
    pmsd_respond_pms_error(resp, &err);
    return false;
}

bool pmsd_store_and_connection(pmsd_request *req, pmsd_response *resp, pms_store **st,
                               pms_connection *c)
{
    memset(c, 0, sizeof *c);
    *st = pmsd_req_store(req, resp);
    return *st != NULL && pmsd_own_connection(req, resp, *st, c);
}

pms_session_options pmsd_session_options(pmsd_app *app)
{
    pms_session_options o = {0};
    o.cancel = &app->stopping;
    return o;
}

char *pmsd_account_timezone(pmsd_request *req, pmsd_response *resp, pms_store *st)
{
    char *tz = NULL;
    pms_error err = {0};
    if (st->ops->account_timezone(st, req->principal.account_id, &tz, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return NULL;
    }
    if (tz == NULL && (tz = strdup("Australia/Sydney")) == NULL)
        pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
    return tz;
}

bool pmsd_sheet_date(pmsd_request *req, pmsd_response *resp, const char *tz, pms_date *out)
{
    bool present = false;
    if (!pmsd_q_date(req, "date", out, &present, resp))
        return false;
    if (present)
        return true;
    pms_error err = {0};
    if (pms_practice_today(tz, out, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    return true;
}

bool pmsd_q_flag(const pmsd_request *req, const char *name, bool *out, pmsd_response *resp)
{
    const char *v = pmsd_query(req, name);
    *out = false;
    if (v == NULL)
        return true;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return true;
    pmsd_respond_error(resp, 400, "invalid_request", name, "%s must be true or false", name);
    return false;
}

bool pmsd_audit_commit(pmsd_request *req, pmsd_response *resp, pms_store *st, const char *action,
                       const char *resource, const json_t *patient_ids, int outcome)
{
    pms_error err = {0};
    if (!pmsd_audit(req, resp, st, true, action, resource, patient_ids, outcome)) {
        st->ops->rollback(st);
        return false;
    }
    if (st->ops->commit(st, &err) != PMS_OK) {
        st->ops->rollback(st);
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    return true;
}

json_t *pmsd_sync_status_json(pms_store *st, const pms_connection *c)
{
    pms_instant now = pms_now();
    pms_schedule_info info;
    if (st->ops->schedule_get(st, c->id, now, &info, NULL) != PMS_OK) {
        memset(&info, 0, sizeof info);
        info.next_sync_at = PMS_INSTANT_NONE;
    }
    /* Never synced and enabled: due now. */
    pms_instant next = !c->sync_enabled                        ? PMS_INSTANT_NONE
                       : info.next_sync_at == PMS_INSTANT_NONE ? now
                                                               : info.next_sync_at;
    return json_pack(
        "{s:s, s:s, s:s?, s:b, s:i, s:b, s:b, s:s?, s:o, s:i, s:o, s:s?, s:s?}", "connectionId",
        c->id, "pmsType", c->pms_type, "displayName", c->display_name, "syncEnabled",
        c->sync_enabled, "syncFrequencyMinutes", c->sync_frequency_minutes, "running", info.leased,
        "queued", info.requested && !info.leased, "worker", info.leased ? info.lease_owner : NULL,
        "nextSyncAt", pms_json_instant_or_null(next), "consecutiveFailures", info.failures,
        "lastSyncAt", pms_json_instant_or_null(c->last_sync_at), "lastSyncStatus",
        c->last_sync_status, "lastSyncError", c->last_sync_error);
}
