/* Shared scheduling in SQLite: due times, sync requests, leases with fencing tokens. One
 * process writes at a time (BEGIN IMMEDIATE), which is what makes a claim atomic here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

/* Requests first (oldest first), then the schedule (earliest due first; never synced first). */
static const char due_sql[] =
    "SELECT id, account_id, pms_type, sync_failures, sync_frequency_minutes, "
    "requested_at IS NOT NULL, request_window FROM pms_connections "
    "WHERE (lease_until IS NULL OR lease_until < ?1) AND (requested_at IS NOT NULL OR "
    "(?3 = 0 AND sync_enabled = 1 AND (next_sync_at IS NULL OR next_sync_at <= ?1))) "
    "ORDER BY requested_at IS NULL, COALESCE(requested_at, next_sync_at, 0), id LIMIT ?2";
static const char claim_sql[] =
    "UPDATE pms_connections SET lease_owner = ?2, lease_until = ?3, lease_token = lease_token + 1 "
    "WHERE id = ?1 RETURNING lease_token";
static const char check_sql[] = "UPDATE pms_connections SET lease_until = ?3 "
                                "WHERE id = ?1 AND lease_token = ?2 AND lease_owner IS NOT NULL";
static const char release_sql[] =
    "UPDATE pms_connections SET lease_owner = NULL, lease_until = NULL, next_sync_at = ?3, "
    "sync_failures = ?4, requested_at = NULL, request_window = NULL "
    "WHERE id = ?1 AND lease_token = ?2 AND lease_owner IS NOT NULL";
static const char request_sql[] =
    "UPDATE pms_connections SET requested_at = ?3, request_window = ?2 WHERE id = ?1 "
    "AND requested_at IS NULL AND (lease_until IS NULL OR lease_until < ?3)";
static const char get_sql[] =
    "SELECT next_sync_at, sync_failures, requested_at IS NOT NULL, lease_owner, lease_until "
    "FROM pms_connections WHERE id = ?1";
static const char set_sql[] = "UPDATE pms_connections SET next_sync_at = ?2 WHERE id = ?1";
static const char stats_sql[] =
    "SELECT COALESCE(SUM(sync_enabled = 1), 0), COALESCE(SUM(lease_until >= ?1), 0), "
    "COALESCE(SUM(requested_at IS NOT NULL), 0), "
    "COALESCE(SUM((lease_until IS NULL OR lease_until < ?1) AND (requested_at IS NOT NULL OR "
    "(sync_enabled = 1 AND (next_sync_at IS NULL OR next_sync_at <= ?1)))), 0) "
    "FROM pms_connections";

static void copy(char *dst, size_t len, const unsigned char *src)
{
    snprintf(dst, len, "%s", src ? (const char *)src : "");
}

/* Reads the due connections into out (no lease yet). */
static int read_due(sqlite_store *s, pms_instant now, int max, bool requests_only, pms_lease *out,
                    int *count, pms_error *err)
{
    sqlite3_stmt *stmt = sq_stmt(s, due_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_instant(stmt, 1, now);
    sqlite3_bind_int(stmt, 2, max);
    sqlite3_bind_int(stmt, 3, requests_only);
    int step;
    while (*count < max && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        pms_lease *l = &out[*count];
        memset(l, 0, sizeof *l);
        copy(l->connection_id, sizeof l->connection_id, sqlite3_column_text(stmt, 0));
        copy(l->account_id, sizeof l->account_id, sqlite3_column_text(stmt, 1));
        copy(l->pms_type, sizeof l->pms_type, sqlite3_column_text(stmt, 2));
        l->failures = sqlite3_column_int(stmt, 3);
        l->frequency_minutes = sqlite3_column_int(stmt, 4);
        l->requested = sqlite3_column_int(stmt, 5) != 0;
        json_t *window = sq_col_json(stmt, 6);
        if (pms_sync_window_from_json(window, &l->window) != PMS_OK)
            pms_sync_window_from_json(NULL, &l->window); /* unreadable: the practice's today */
        json_decref(window);
        (*count)++;
    }
    sqlite3_reset(stmt);
    return PMS_OK;
}

int sq_lease_claim(pms_store *st, const char *worker, pms_instant now, long lease_ms, int max,
                   bool requests_only, pms_lease *out, int *count, pms_error *err)
{
    sqlite_store *s = SQ(st);
    *count = 0;
    bool own = s->tx_depth == 0;
    int rc = own ? st->ops->begin(st, err) : PMS_OK;
    if (rc != PMS_OK)
        return rc;
    int found = 0;
    rc = read_due(s, now, max, requests_only, out, &found, err);
    for (int i = 0; rc == PMS_OK && i < found; i++) {
        sqlite3_stmt *stmt = sq_stmt(s, claim_sql, err);
        if (stmt == NULL) {
            rc = err ? (int)err->code : PMS_ERR_STORE;
            break;
        }
        sq_bind_text(stmt, 1, out[i].connection_id);
        sq_bind_text(stmt, 2, worker);
        sq_bind_instant(stmt, 3, now + lease_ms);
        if (sqlite3_step(stmt) != SQLITE_ROW) {
            rc = sq_fail(s, err, "claiming a connection");
            sqlite3_reset(stmt);
            break;
        }
        out[i].token = sqlite3_column_int64(stmt, 0);
        out[i].until = now + lease_ms;
        sqlite3_reset(stmt);
    }
    if (own) {
        if (rc == PMS_OK)
            rc = st->ops->commit(st, err);
        if (rc != PMS_OK)
            st->ops->rollback(st);
    }
    if (rc == PMS_OK)
        *count = found;
    return rc;
}

/* Runs a fenced update: PMS_ERR_CONFLICT when no row matched the token. */
static int fenced(sqlite_store *s, const char *sql, const char *connection_id, long long token,
                  pms_instant a, int b, const char *doing, pms_error *err)
{
    sqlite3_stmt *stmt = sq_stmt(s, sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    sqlite3_bind_int64(stmt, 2, token);
    sq_bind_instant(stmt, 3, a);
    if (sqlite3_bind_parameter_count(stmt) >= 4)
        sqlite3_bind_int(stmt, 4, b);
    int rc = sq_exec_stmt(s, stmt, doing, err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_CONFLICT,
                             "the connection's lease was taken by another worker");
    return rc;
}

int sq_lease_check(pms_store *st, const char *connection_id, long long token, pms_instant until,
                   pms_error *err)
{
    return fenced(SQ(st), check_sql, connection_id, token, until, 0, "checking a lease", err);
}

int sq_lease_release(pms_store *st, const char *connection_id, long long token,
                     pms_instant next_sync_at, int failures, pms_error *err)
{
    return fenced(SQ(st), release_sql, connection_id, token, next_sync_at, failures,
                  "releasing a lease", err);
}

int sq_sync_request(pms_store *st, const char *connection_id, const pms_sync_window *window,
                    pms_error *err)
{
    sqlite_store *s = SQ(st);
    json_t *w = NULL;
    if (window) {
        w = pms_sync_window_to_json(window);
        if (w == NULL)
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    sqlite3_stmt *stmt = sq_stmt(s, request_sql, err);
    if (stmt == NULL) {
        json_decref(w);
        return err ? (int)err->code : PMS_ERR_STORE;
    }
    sq_bind_text(stmt, 1, connection_id);
    if (w)
        sq_bind_json(stmt, 2, w);
    else
        sqlite3_bind_null(stmt, 2);
    sq_bind_instant(stmt, 3, pms_now());
    json_decref(w);
    int rc = sq_exec_stmt(s, stmt, "requesting a sync", err);
    if (rc != PMS_OK || sqlite3_changes(s->db) > 0)
        return rc;
    pms_schedule_info info;
    rc = sq_schedule_get(st, connection_id, pms_now(), &info, err);
    if (rc != PMS_OK)
        return rc;
    return pms_error_set(err, PMS_ERR_CONFLICT, "a sync of this connection is already %s",
                         info.leased ? "running" : "requested");
}

int sq_schedule_get(pms_store *st, const char *connection_id, pms_instant now,
                    pms_schedule_info *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, get_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->next_sync_at = sq_col_instant(stmt, 0);
        out->failures = sqlite3_column_int(stmt, 1);
        out->requested = sqlite3_column_int(stmt, 2) != 0;
        copy(out->lease_owner, sizeof out->lease_owner, sqlite3_column_text(stmt, 3));
        out->lease_until = sq_col_instant(stmt, 4);
        out->leased =
            out->lease_owner[0] && out->lease_until != PMS_INSTANT_NONE && out->lease_until >= now;
    }
    sqlite3_reset(stmt);
    if (step == SQLITE_DONE)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such connection");
    return step == SQLITE_ROW ? PMS_OK : sq_fail(s, err, "reading a connection's schedule");
}

int sq_schedule_set(pms_store *st, const char *connection_id, pms_instant next_sync_at,
                    pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, set_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    sq_bind_instant(stmt, 2, next_sync_at);
    return sq_exec_stmt(s, stmt, "scheduling a connection", err);
}

int sq_schedule_stats(pms_store *st, pms_instant now, pms_schedule_stats *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, stats_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_instant(stmt, 1, now);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->enabled = (long)sqlite3_column_int64(stmt, 0);
        out->leased = (long)sqlite3_column_int64(stmt, 1);
        out->requested = (long)sqlite3_column_int64(stmt, 2);
        out->due = (long)sqlite3_column_int64(stmt, 3);
    }
    sqlite3_reset(stmt);
    return step == SQLITE_ROW ? PMS_OK : sq_fail(s, err, "counting the schedule");
}

int sq_notify(pms_store *st, const char *channel, const char *payload, pms_error *err)
{
    (void)st, (void)channel, (void)payload, (void)err;
    return PMS_OK; /* one process: nobody else to tell */
}
