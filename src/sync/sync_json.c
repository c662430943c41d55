/* JSON views of sync runs and the sync log, for pmsctl --json and pmsd. */
#include "pmsync/sync.h"

json_t *pms_sync_log_entry_to_json(const pms_sync_log_entry *e)
{
    char from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN];
    pms_date_format(e->window_from, from);
    pms_date_format(e->window_to, to);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:I, "
        "s:s?, s:s?}",
        "id", e->id, "connectionId", e->pms_connection_id, "syncType", e->sync_type, "windowFrom",
        from, "windowTo", to, "startedAt", pms_json_instant_or_null(e->started_at), "completedAt",
        pms_json_instant_or_null(e->completed_at), "status", e->status, "counts", "fetched",
        (json_int_t)e->counts.fetched, "created", (json_int_t)e->counts.created, "updated",
        (json_int_t)e->counts.updated, "unchanged", (json_int_t)e->counts.unchanged, "skipped",
        (json_int_t)e->counts.skipped, "invalid", (json_int_t)e->counts.invalid, "removed",
        (json_int_t)e->counts.removed, "requests", (json_int_t)e->counts.requests, "errorMessage",
        e->error_message, "worker", e->worker);
    if (o && e->error_details)
        json_object_set(o, "errorDetails", e->error_details);
    return o;
}

json_t *pms_sync_result_to_json(const char *connection_id, const pms_sync_result *r)
{
    char from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN];
    pms_date_format(r->from, from);
    pms_date_format(r->to, to);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
        "s:I, s:I, s:I, s:s?}",
        "connectionId", connection_id, "syncLogId", r->sync_log_id, "syncType",
        r->sync_type[0] ? r->sync_type : "manual", "from", from, "to", to, "status", r->status,
        "completeSweep", r->complete_sweep, "counts", "fetched", (json_int_t)r->counts.fetched,
        "created", (json_int_t)r->counts.created, "updated", (json_int_t)r->counts.updated,
        "unchanged", (json_int_t)r->counts.unchanged, "skipped", (json_int_t)r->counts.skipped,
        "invalid", (json_int_t)r->counts.invalid, "removed", (json_int_t)r->counts.removed,
        "requests", (json_int_t)r->http.requests, "retries", (json_int_t)r->http.retries,
        "durationMs", (json_int_t)r->duration_ms, "error", r->error[0] ? r->error : NULL);
}
