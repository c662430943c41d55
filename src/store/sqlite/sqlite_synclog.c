/* The sync log (pms_sync_log) in SQLite. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite/sqlite_internal.h"

#define LOG_COLUMNS                                                                                \
    "id, pms_connection_id, sync_type, window_from, window_to, started_at, completed_at, "         \
    "status, appointments_fetched, appointments_created, appointments_updated, "                   \
    "appointments_unchanged, appointments_skipped, appointments_invalid, appointments_removed, "   \
    "requests_made, error_message, error_details, worker"

static const char start_sql[] =
    "INSERT INTO pms_sync_log (id, pms_connection_id, sync_type, window_from, window_to, "
    "started_at, status, worker, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?6)";
static const char finish_sql[] =
    "UPDATE pms_sync_log SET completed_at = ?2, status = ?3, appointments_fetched = ?4, "
    "appointments_created = ?5, appointments_updated = ?6, appointments_unchanged = ?7, "
    "appointments_skipped = ?8, appointments_invalid = ?9, appointments_removed = ?10, "
    "requests_made = ?11, error_message = ?12, error_details = ?13 WHERE id = ?1";
static const char list_sql[] = "SELECT " LOG_COLUMNS " FROM pms_sync_log WHERE "
                               "pms_connection_id = ?1 ORDER BY started_at DESC, id LIMIT ?2";
static const char fail_running_sql[] =
    "UPDATE pms_sync_log SET status = 'failed', completed_at = ?2, error_message = ?3 "
    "WHERE pms_connection_id = ?1 AND status = 'running'";

int sq_sync_log_start(pms_store *st, pms_sync_log_entry *e, pms_error *err)
{
    sqlite_store *s = SQ(st);
    char id[37];
    int rc = sq_new_id(id, err);
    if (rc)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, start_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_text(stmt, 2, e->pms_connection_id);
    sq_bind_text(stmt, 3, e->sync_type ? e->sync_type : "manual");
    sq_bind_date(stmt, 4, e->window_from);
    sq_bind_date(stmt, 5, e->window_to);
    sq_bind_instant(stmt, 6, e->started_at);
    sq_bind_text(stmt, 7, e->worker);
    if ((rc = sq_exec_stmt(s, stmt, "starting a sync log entry", err)) != PMS_OK)
        return rc;
    if (pms_str_set(&e->id, id) != PMS_OK || pms_str_set(&e->status, "running") != PMS_OK)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

int sq_sync_log_finish(pms_store *st, const pms_sync_log_entry *e, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, finish_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, e->id);
    sq_bind_instant(stmt, 2, e->completed_at);
    sq_bind_text(stmt, 3, e->status);
    sq_bind_int(stmt, 4, e->counts.fetched);
    sq_bind_int(stmt, 5, e->counts.created);
    sq_bind_int(stmt, 6, e->counts.updated);
    sq_bind_int(stmt, 7, e->counts.unchanged);
    sq_bind_int(stmt, 8, e->counts.skipped);
    sq_bind_int(stmt, 9, e->counts.invalid);
    sq_bind_int(stmt, 10, e->counts.removed);
    sq_bind_int(stmt, 11, e->counts.requests);
    sq_bind_text(stmt, 12, e->error_message);
    sq_bind_json(stmt, 13, e->error_details);
    return sq_exec_stmt(s, stmt, "finishing a sync log entry", err);
}

static int read_log_entry(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_sync_log_entry *e = item;
    bool oom = false;
    int i = 0;
    e->id = sq_col_text(stmt, i++, &oom);
    e->pms_connection_id = sq_col_text(stmt, i++, &oom);
    e->sync_type = sq_col_text(stmt, i++, &oom);
    e->window_from = sq_col_date(stmt, i++);
    e->window_to = sq_col_date(stmt, i++);
    e->started_at = sq_col_instant(stmt, i++);
    e->completed_at = sq_col_instant(stmt, i++);
    e->status = sq_col_text(stmt, i++, &oom);
    e->counts.fetched = (long)sq_col_int(stmt, i++);
    e->counts.created = (long)sq_col_int(stmt, i++);
    e->counts.updated = (long)sq_col_int(stmt, i++);
    e->counts.unchanged = (long)sq_col_int(stmt, i++);
    e->counts.skipped = (long)sq_col_int(stmt, i++);
    e->counts.invalid = (long)sq_col_int(stmt, i++);
    e->counts.removed = (long)sq_col_int(stmt, i++);
    e->counts.requests = (long)sq_col_int(stmt, i++);
    e->error_message = sq_col_text(stmt, i++, &oom);
    e->error_details = sq_col_json(stmt, i++);
    e->worker = sq_col_text(stmt, i++, &oom);
    if (oom) {
        pms_sync_log_entry_clear(e);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sq_sync_log_list(pms_store *st, const char *connection_id, int limit, pms_sync_log_list *out,
                     pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, list_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    sq_bind_int(stmt, 2, limit > 0 ? limit : 50);
    int rc = sq_collect(s, stmt, sizeof *out->items, (void **)&out->items, &out->count,
                        read_log_entry, "listing the sync log", err);
    if (rc != PMS_OK)
        pms_sync_log_list_clear(out);
    return rc;
}

int sq_sync_log_fail_running(pms_store *st, const char *connection_id, const char *reason,
                             int *count, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, fail_running_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    sq_bind_instant(stmt, 2, pms_now());
    sq_bind_text(stmt, 3, reason);
    int rc = sq_exec_stmt(s, stmt, "closing interrupted syncs", err);
    if (count)
        *count = rc == PMS_OK ? sqlite3_changes(s->db) : 0;
    return rc;
}
