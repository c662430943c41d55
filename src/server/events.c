#include "server/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/audit.h"
#include "pmsync/log.h"
#include "pmsync/scheduler.h"

/* The channel on which workers sharing a database pass on their run-sheet events. */
#define CHANNEL_EVENTS "pmsync_events"

/* Publishes to this worker's streams and, when workers share the database, to theirs. */
static void publish(pmsd_app *app, const char *account_id, const char *type, json_t *data)
{
    if (data == NULL)
        return;
    if (app->shared) {
        pms_store *st = pmsd_store(app, NULL);
        json_t *msg = json_pack("{s:s, s:s, s:s, s:O}", "w", app->worker, "a", account_id, "t",
                                type, "d", data);
        char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        if (st && text)
            st->ops->notify(st, CHANNEL_EVENTS, text, NULL);
        free(text);
        json_decref(msg);
    }
    pmsd_hub_publish(app->hub, account_id, type, data);
}

void pmsd_publish(pmsd_app *app, const char *account_id, const char *type, json_t *data)
{
    if (app->hub == NULL) {
        json_decref(data);
        return;
    }
    publish(app, account_id, type, data);
}

void pmsd_on_notification(void *ctx, const char *channel, const char *payload)
{
    pmsd_app *app = ctx;
    if (channel == NULL) {
        /* The listener reconnected: other workers' events may have been missed, so every
         * stream is told to load again, and the scheduler looks for requests it missed. */
        pms_log(PMS_LOG_WARN, "pmsd.notifications_resumed", NULL);
        if (app->hub)
            pmsd_hub_publish(app->hub, NULL, "reset",
                             json_pack("{s:s}", "reason", "missed events"));
        if (app->scheduler)
            pms_scheduler_wake(app->scheduler);
        return;
    }
    if (strcmp(channel, PMS_CHANNEL_DUE) == 0) {
        if (app->scheduler)
            pms_scheduler_wake(app->scheduler);
        return;
    }
    if (strcmp(channel, CHANNEL_EVENTS) != 0 || app->hub == NULL)
        return;
    json_t *msg = json_loads(payload, 0, NULL);
    const char *worker = json_string_value(json_object_get(msg, "w"));
    const char *account = json_string_value(json_object_get(msg, "a"));
    const char *type = json_string_value(json_object_get(msg, "t"));
    json_t *data = json_object_get(msg, "d");
    /* Our own come back too: they were published here already. */
    if (worker && account && type && data && strcmp(worker, app->worker) != 0)
        pmsd_hub_publish(app->hub, account, type, json_incref(data));
    json_decref(msg);
}

static json_t *appointment_event(const char *entry_id, const char *connection_id, pms_date day)
{
    char date[PMS_TIME_BUFLEN];
    pms_date_format(day, date);
    return json_pack("{s:s, s:s?, s:s}", "id", entry_id, "connectionId", connection_id, "date",
                     date);
}

void pmsd_publish_entry(pmsd_app *app, const pms_sheet_entry *e, const char *type)
{
    if (app->hub == NULL || e->account_id == NULL)
        return;
    publish(app, e->account_id, type,
            appointment_event(e->id, e->appt.pms_connection_id, e->sheet_date));
}

void pmsd_on_sync_event(void *ctx, const pms_sync_event *e)
{
    pmsd_app *app = ctx;
    if (app->hub == NULL || e->account_id == NULL)
        return;
    switch (e->kind) {
    case PMS_EVENT_SYNC_STARTED:
        publish(app, e->account_id, "sync.started",
                json_pack("{s:s}", "connectionId", e->connection_id));
        break;
    case PMS_EVENT_SYNC_FINISHED:
        publish(app, e->account_id, "sync.finished",
                json_pack("{s:s, s:s?}", "connectionId", e->connection_id, "status", e->status));
        break;
    case PMS_EVENT_APPOINTMENT_CREATED:
        publish(app, e->account_id, "appointment.created",
                appointment_event(e->entry_id, e->connection_id, e->sheet_date));
        break;
    case PMS_EVENT_APPOINTMENT_UPDATED:
        publish(app, e->account_id, "appointment.updated",
                appointment_event(e->entry_id, e->connection_id, e->sheet_date));
        break;
    case PMS_EVENT_APPOINTMENT_REMOVED:
        publish(app, e->account_id, "appointment.removed",
                appointment_event(e->entry_id, e->connection_id, e->sheet_date));
        break;
    }
}

void pmsd_on_sync_progress(void *ctx, const char *account_id, const char *connection_id,
                           const pms_sync_progress *p)
{
    pmsd_app *app = ctx;
    if (app->hub == NULL || account_id == NULL)
        return;
    const pms_sync_counts *c = &p->counts;
    publish(app, account_id, "sync.progress",
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "connectionId", connection_id,
                      "fetched", (json_int_t)c->fetched, "created", (json_int_t)c->created,
                      "updated", (json_int_t)c->updated, "unchanged", (json_int_t)c->unchanged,
                      "skipped", (json_int_t)c->skipped, "removed", (json_int_t)c->removed));
}

void pmsd_on_sync_finished(void *ctx, const char *account_id, const char *connection_id,
                           const char *pms_type, int rc, const pms_sync_result *result,
                           const json_t *patient_ids)
{
    (void)account_id;
    (void)connection_id;
    (void)patient_ids;
    pmsd_app *app = ctx;
    const char *status = result->status[0]         ? result->status
                         : rc == PMS_ERR_CONFLICT  ? "locked"
                         : rc == PMS_ERR_CANCELLED ? "cancelled"
                                                   : "failed";
    pmsd_metrics_sync(app->metrics, pms_type, status, (double)result->duration_ms / 1000.0,
                      &result->counts, result->http.requests, result->http.throttled);
}

int pmsd_on_sync_batch(void *ctx, pms_store *st, const pms_sync_batch *batch, pms_error *err)
{
    pmsd_app *app = ctx;
    char resource[128];
    snprintf(resource, sizeof resource, "pms_connections/%s/sync", batch->connection_id);
    pms_audit_event event = {
        .account_id = batch->account_id,
        .actor_role = "system",
        .action = "sync.write",
        .resource = resource,
        .patient_ids = batch->patient_ids,
    };
    return pms_audit_append_tx(st, app->ring, &event, NULL, err);
}
