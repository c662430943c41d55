/* The sync log (pms_sync_log). */
#include <stdlib.h>
#include <string.h>

#include "pmsync/crypto.h"
#include "store/sql/sql.h"

#define LOG_COLUMNS                                                                                \
    "id, pms_connection_id, sync_type, window_from, window_to, started_at, completed_at, "         \
    "status, appointments_fetched, appointments_created, appointments_updated, "                   \
    "appointments_unchanged, appointments_skipped, appointments_invalid, appointments_removed, "   \
    "requests_made, error_message, error_details, worker"

static const char start_sql[] =
    "INSERT INTO pms_sync_log (id, pms_connection_id, sync_type, window_from, window_to, "
    "started_at, status, worker, created_at) VALUES ($1::uuid, $2::uuid, $3::text, $4::date, "
    "$5::date, $6::timestamptz, 'running', $7::text, $6::timestamptz)";
static const char finish_sql[] =
    "UPDATE pms_sync_log SET completed_at = $2::timestamptz, status = $3::text, "
    "appointments_fetched = $4::integer, appointments_created = $5::integer, "
    "appointments_updated = $6::integer, appointments_unchanged = $7::integer, "
    "appointments_skipped = $8::integer, appointments_invalid = $9::integer, "
    "appointments_removed = $10::integer, requests_made = $11::integer, "
    "error_message = $12::text, error_details = $13::jsonb WHERE id = $1::uuid";
static const char list_sql[] = "SELECT " LOG_COLUMNS " FROM pms_sync_log WHERE "
                               "pms_connection_id = $1::uuid ORDER BY started_at DESC, id "
                               "LIMIT $2::integer";
static const char fail_running_sql[] =
    "UPDATE pms_sync_log SET status = 'failed', completed_at = $2::timestamptz, "
    "error_message = $3::text WHERE pms_connection_id = $1::uuid AND status = 'running'";

int sql_sync_log_start(pms_store *st, pms_sync_log_entry *e, pms_error *err)
{
    char id[PMS_UUID_LEN];
    int rc = pms_uuid_v4(id, err);
    if (rc)
        return rc;
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_text(&a, 2, e->pms_connection_id);
    sql_arg_text(&a, 3, e->sync_type ? e->sync_type : "manual");
    sql_arg_date(&a, 4, e->window_from);
    sql_arg_date(&a, 5, e->window_to);
    sql_arg_instant(&a, 6, e->started_at);
    sql_arg_text(&a, 7, e->worker);
    if ((rc = sql_exec(SQL_DB(st), start_sql, &a, NULL, "starting a sync log entry", err)) !=
        PMS_OK)
        return rc;
    if (pms_str_set(&e->id, id) != PMS_OK || pms_str_set(&e->status, "running") != PMS_OK)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

int sql_sync_log_finish(pms_store *st, const pms_sync_log_entry *e, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, e->id);
    sql_arg_instant(&a, 2, e->completed_at);
    sql_arg_text(&a, 3, e->status);
    sql_arg_int(&a, 4, e->counts.fetched);
    sql_arg_int(&a, 5, e->counts.created);
    sql_arg_int(&a, 6, e->counts.updated);
    sql_arg_int(&a, 7, e->counts.unchanged);
    sql_arg_int(&a, 8, e->counts.skipped);
    sql_arg_int(&a, 9, e->counts.invalid);
    sql_arg_int(&a, 10, e->counts.removed);
    sql_arg_int(&a, 11, e->counts.requests);
    sql_arg_text(&a, 12, e->error_message);
    sql_arg_json(&a, 13, e->error_details);
    return sql_exec(SQL_DB(st), finish_sql, &a, NULL, "finishing a sync log entry", err);
}

static int read_log_entry(const sql_row *row, void *item, pms_error *err)
{
    pms_sync_log_entry *e = item;
    bool oom = false;
    int i = 0;
    e->id = sql_strdup(row, i++, &oom);
    e->pms_connection_id = sql_strdup(row, i++, &oom);
    e->sync_type = sql_strdup(row, i++, &oom);
    e->window_from = sql_date(row, i++);
    e->window_to = sql_date(row, i++);
    e->started_at = sql_instant(row, i++);
    e->completed_at = sql_instant(row, i++);
    e->status = sql_strdup(row, i++, &oom);
    e->counts.fetched = (long)sql_int(row, i++);
    e->counts.created = (long)sql_int(row, i++);
    e->counts.updated = (long)sql_int(row, i++);
    e->counts.unchanged = (long)sql_int(row, i++);
    e->counts.skipped = (long)sql_int(row, i++);
    e->counts.invalid = (long)sql_int(row, i++);
    e->counts.removed = (long)sql_int(row, i++);
    e->counts.requests = (long)sql_int(row, i++);
    e->error_message = sql_strdup(row, i++, &oom);
    e->error_details = sql_json(row, i++);
    e->worker = sql_strdup(row, i++, &oom);
    if (oom) {
        pms_sync_log_entry_clear(e);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_sync_log_list(pms_store *st, const char *connection_id, int limit, pms_sync_log_list *out,
                      pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    sql_arg_int(&a, 2, limit > 0 ? limit : 50);
    int rc = sql_collect(SQL_DB(st), list_sql, &a, sizeof *out->items, (void **)&out->items,
                         &out->count, read_log_entry, "listing the sync log", err);
    if (rc != PMS_OK)
        pms_sync_log_list_clear(out);
    return rc;
}

int sql_sync_log_fail_running(pms_store *st, const char *connection_id, const char *reason,
                              int *count, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    sql_arg_instant(&a, 2, pms_now());
    sql_arg_text(&a, 3, reason);
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), fail_running_sql, &a, &changed, "closing interrupted syncs", err);
    if (count)
        *count = rc == PMS_OK ? (int)changed : 0;
    return rc;
}
