/* Sync triggers and status: per connection, for the whole account, and for today's run sheet.
 * Triggers queue the sync with the scheduler and answer 202 at once; the status endpoints (and
 * the event stream) tell when it ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/scheduler.h"
#include "pmsync/sync.h"
#include "server/handlers.h"

#define MAX_WINDOW_DAYS 31

static bool scheduler_ready(pmsd_request *req, pmsd_response *resp)
{
    if (req->app->scheduler)
        return true;
    pmsd_respond_error(resp, 503, "scheduler_unavailable", NULL, "syncing is not running");
    return false;
}

bool pmsd_read_sync_window(const json_t *body, pms_sync_window *w, pmsd_response *resp)
{
    memset(w, 0, sizeof *w);
    w->today = true;
    snprintf(w->sync_type, sizeof w->sync_type, "manual");
    if (body == NULL)
        return true;
    static const char *const keys[] = {"date", "from", "to", NULL};
    bool has_date = false, has_from = false, has_to = false;
    pms_date date = {0, 0, 0};
    bool ok = pmsd_v_known_keys(body, keys, NULL, resp) &&
              pmsd_v_date(body, "date", NULL, false, &date, &has_date, resp) &&
              pmsd_v_date(body, "from", NULL, false, &w->from, &has_from, resp) &&
              pmsd_v_date(body, "to", NULL, false, &w->to, &has_to, resp);
    if (!ok)
        return false;
    if (has_date && (has_from || has_to))
        return pmsd_v_fail(resp, NULL, "date", "cannot be combined with from and to");
    if (has_from != has_to)
        return pmsd_v_fail(resp, NULL, has_from ? "to" : "from", "is required with the other");
    if (has_date) {
        w->from = w->to = date;
        w->today = false;
    } else if (has_from) {
        int64_t days = pms_days_from_date(w->to) - pms_days_from_date(w->from);
        if (days < 0)
            return pmsd_v_fail(resp, NULL, "to", "must not be before from");
        if (days >= MAX_WINDOW_DAYS)
            return pmsd_v_fail(resp, NULL, "to", "must be within 31 days of from");
        w->today = false;
    }
    return true;
}

/* The optional body of a sync trigger. */
static bool read_window(pmsd_request *req, pmsd_response *resp, pms_sync_window *w)
{
    if (req->body == NULL || req->body_len == 0)
        return pmsd_read_sync_window(NULL, w, resp);
    json_t *body = pmsd_json_body(req, resp);
    bool ok = body && pmsd_read_sync_window(body, w, resp);
    json_decref(body);
    return ok;
}

void pmsd_h_connection_sync_post(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    pms_sync_window window;
    pms_error err = {0};
    if (scheduler_ready(req, resp) && read_window(req, resp, &window)) {
        int rc = pms_scheduler_request(req->app->scheduler, st, c.id, &window, &err);
        if (rc == PMS_ERR_CONFLICT) {
            pmsd_respond_error(resp, 409, "sync_in_progress", NULL, "%s", err.message);
        } else if (rc != PMS_OK) {
            pmsd_respond_pms_error(resp, &err);
        } else {
            json_t *o = pmsd_sync_status_json(st, &c);
            pmsd_respond_json(resp, 202, o);
            char location[128];
            snprintf(location, sizeof location, "/api/pms/connections/%s/sync", c.id);
            pmsd_respond_header(resp, "Location", location);
        }
    }
    pms_connection_clear(&c);
}

void pmsd_h_connection_sync_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    long limit = 20;
    const char *q = pmsd_query(req, "limit");
    if (q) {
        char *end;
        limit = strtol(q, &end, 10);
        if (*q == '\0' || *end != '\0' || limit < 1 || limit > 200) {
            pmsd_respond_error(resp, 400, "invalid_request", "limit",
                               "limit must be a whole number from 1 to 200");
            pms_connection_clear(&c);
            return;
        }
    }
    pms_sync_log_list log = {0};
    pms_error err = {0};
    if (st->ops->sync_log_list(st, c.id, (int)limit, &log, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
    } else {
        json_t *history = json_array();
        for (size_t i = 0; i < log.count; i++)
            json_array_append_new(history, pms_sync_log_entry_to_json(&log.items[i]));
        json_t *o = pmsd_sync_status_json(st, &c);
        json_object_set_new(o, "history", history);
        pmsd_respond_json(resp, 200, o);
    }
    pms_sync_log_list_clear(&log);
    pms_connection_clear(&c);
}

/* Every connection's sync status for the caller's account. */
static json_t *account_status(pmsd_request *req, pmsd_response *resp, pms_store *st,
                              pms_connection_list *list)
{
    pms_error err = {0};
    if (st->ops->connection_list(st, req->principal.account_id, list, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return NULL;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < list->count; i++)
        json_array_append_new(arr, pmsd_sync_status_json(st, &list->items[i]));
    return arr;
}

void pmsd_h_pms_sync_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    pms_connection_list list = {0};
    json_t *arr = account_status(req, resp, st, &list);
    if (arr == NULL)
        return;
    long running = 0, queued = 0, failing = 0;
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c)
    {
        running += json_is_true(json_object_get(c, "running"));
        queued += json_is_true(json_object_get(c, "queued"));
        const json_t *status = json_object_get(c, "lastSyncStatus");
        failing += json_is_string(status) && strcmp(json_string_value(status), "failed") == 0;
    }
    pmsd_respond_json(resp, 200,
                      json_pack("{s:b, s:I, s:I, s:I, s:o}", "schedulerRunning",
                                req->app->scheduler != NULL, "running", (json_int_t)running,
                                "queued", (json_int_t)queued, "failing", (json_int_t)failing,
                                "connections", arr));
    pms_connection_list_clear(&list);
}

void pmsd_h_runsheet_sync_post(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL || !scheduler_ready(req, resp))
        return;
    if (req->body_len > 0) {
        pmsd_respond_error(resp, 400, "invalid_request", NULL,
                           "this endpoint takes no body: it syncs today's run sheet");
        return;
    }
    pms_connection_list list = {0};
    pms_error err = {0};
    if (st->ops->connection_list(st, req->principal.account_id, &list, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return;
    }
    json_t *arr = json_array();
    size_t enabled = 0;
    for (size_t i = 0; i < list.count; i++) {
        const pms_connection *c = &list.items[i];
        if (!c->sync_enabled)
            continue;
        enabled++;
        int rc = pms_scheduler_request(req->app->scheduler, st, c->id, NULL, &err);
        json_array_append_new(arr, json_pack("{s:s, s:s}", "connectionId", c->id, "result",
                                             rc == PMS_OK             ? "queued"
                                             : rc == PMS_ERR_CONFLICT ? "already_syncing"
                                                                      : "failed"));
    }
    pms_connection_list_clear(&list);
    if (enabled == 0) {
        json_decref(arr);
        pmsd_respond_error(resp, 409, "not_configured", NULL,
                           "no PMS connection with syncing enabled");
        return;
    }
    pmsd_respond_json(resp, 202, json_pack("{s:o}", "connections", arr));
    pmsd_respond_header(resp, "Location", "/api/run-sheet/sync");
}

void pmsd_h_runsheet_sync_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    char *tz = pmsd_account_timezone(req, resp, st);
    pms_date today;
    pms_error err = {0};
    if (tz == NULL)
        return;
    if (pms_practice_today(tz, &today, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        free(tz);
        return;
    }
    pms_connection_list list = {0};
    json_t *arr = account_status(req, resp, st, &list);
    if (arr) {
        bool syncing = false;
        pms_instant last = PMS_INSTANT_NONE;
        for (size_t i = 0; i < list.count; i++) {
            if (list.items[i].last_sync_at != PMS_INSTANT_NONE &&
                (last == PMS_INSTANT_NONE || list.items[i].last_sync_at > last))
                last = list.items[i].last_sync_at;
            const json_t *c = json_array_get(arr, i);
            syncing |= json_is_true(json_object_get(c, "running")) ||
                       json_is_true(json_object_get(c, "queued"));
        }
        char date[PMS_TIME_BUFLEN];
        pms_date_format(today, date);
        pmsd_respond_json(resp, 200,
                          json_pack("{s:s, s:s, s:b, s:o, s:o}", "date", date, "timezone", tz,
                                    "syncing", syncing, "lastSyncAt",
                                    pms_json_instant_or_null(last), "connections", arr));
    }
    pms_connection_list_clear(&list);
    free(tz);
}
