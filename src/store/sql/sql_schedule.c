/* Shared scheduling: leases with fencing tokens, sync requests, due times. The claim itself is
 * the backend's (sqlite_schedule.c, pg_schedule.c): it is where the two differ. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql/sql.h"

static const char check_sql[] =
    "UPDATE pms_connections SET lease_until = $3::timestamptz "
    "WHERE id = $1::uuid AND lease_token = $2::bigint AND lease_owner IS NOT NULL";
static const char release_sql[] =
    "UPDATE pms_connections SET lease_owner = NULL, lease_until = NULL, "
    "next_sync_at = $3::timestamptz, sync_failures = $4::integer, requested_at = NULL, "
    "request_window = NULL "
    "WHERE id = $1::uuid AND lease_token = $2::bigint AND lease_owner IS NOT NULL";
static const char request_sql[] =
    "UPDATE pms_connections SET requested_at = $3::timestamptz, request_window = $2::jsonb "
    "WHERE id = $1::uuid AND requested_at IS NULL "
    "AND (lease_until IS NULL OR lease_until < $3::timestamptz)";
static const char get_sql[] =
    "SELECT next_sync_at, sync_failures, requested_at IS NOT NULL, lease_owner, lease_until "
    "FROM pms_connections WHERE id = $1::uuid";
static const char set_sql[] =
    "UPDATE pms_connections SET next_sync_at = $2::timestamptz WHERE id = $1::uuid";
static const char stats_sql[] =
    "SELECT COUNT(*) FILTER (WHERE sync_enabled), "
    "COUNT(*) FILTER (WHERE lease_until >= $1::timestamptz), "
    "COUNT(*) FILTER (WHERE requested_at IS NOT NULL), "
    "COUNT(*) FILTER (WHERE (lease_until IS NULL OR lease_until < $1::timestamptz) AND "
    "(requested_at IS NOT NULL OR (sync_enabled AND "
    "(next_sync_at IS NULL OR next_sync_at <= $1::timestamptz)))) "
    "FROM pms_connections";

int sql_read_lease(const sql_row *row, pms_lease *l, bool with_token)
{
    memset(l, 0, sizeof *l);
    sql_copy_text(row, 0, l->connection_id, sizeof l->connection_id);
    sql_copy_text(row, 1, l->account_id, sizeof l->account_id);
    sql_copy_text(row, 2, l->pms_type, sizeof l->pms_type);
    l->failures = (int)sql_int(row, 3);
    l->frequency_minutes = (int)sql_int(row, 4);
    l->requested = sql_bool(row, 5);
    json_t *window = sql_json(row, 6);
    if (pms_sync_window_from_json(window, &l->window) != PMS_OK)
        pms_sync_window_from_json(NULL, &l->window); /* unreadable: the practice's today */
    json_decref(window);
    if (with_token)
        l->token = sql_int(row, 7);
    return PMS_OK;
}

/* Runs a fenced update: PMS_ERR_CONFLICT when no row matched the token. */
static int fenced(pms_store *st, const char *sql, const char *connection_id, long long token,
                  pms_instant at, int failures, const char *doing, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    sql_arg_int(&a, 2, token);
    sql_arg_instant(&a, 3, at);
    sql_arg_int(&a, 4, failures);
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), sql, &a, &changed, doing, err);
    if (rc == PMS_OK && changed == 0)
        return pms_error_set(err, PMS_ERR_CONFLICT,
                             "the connection's lease was taken by another worker");
    return rc;
}

int sql_lease_check(pms_store *st, const char *connection_id, long long token, pms_instant until,
                    pms_error *err)
{
    return fenced(st, check_sql, connection_id, token, until, 0, "checking a lease", err);
}

int sql_lease_release(pms_store *st, const char *connection_id, long long token,
                      pms_instant next_sync_at, int failures, pms_error *err)
{
    return fenced(st, release_sql, connection_id, token, next_sync_at, failures,
                  "releasing a lease", err);
}

int sql_sync_request(pms_store *st, const char *connection_id, const pms_sync_window *window,
                     pms_error *err)
{
    json_t *w = NULL;
    if (window && (w = pms_sync_window_to_json(window)) == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    sql_arg_json(&a, 2, w);
    sql_arg_instant(&a, 3, pms_now());
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), request_sql, &a, &changed, "requesting a sync", err);
    json_decref(w);
    if (rc != PMS_OK || changed > 0)
        return rc;
    pms_schedule_info info;
    if ((rc = sql_schedule_get(st, connection_id, pms_now(), &info, err)) != PMS_OK)
        return rc;
    return pms_error_set(err, PMS_ERR_CONFLICT, "a sync of this connection is already %s",
                         info.leased ? "running" : "requested");
}

typedef struct info_ctx {
    pms_schedule_info *out;
    pms_instant now;
} info_ctx;

static int read_info(const sql_row *row, void *item, pms_error *err)
{
    (void)err;
    info_ctx *c = item;
    pms_schedule_info *out = c->out;
    out->next_sync_at = sql_instant(row, 0);
    out->failures = (int)sql_int(row, 1);
    out->requested = sql_bool(row, 2);
    sql_copy_text(row, 3, out->lease_owner, sizeof out->lease_owner);
    out->lease_until = sql_instant(row, 4);
    out->leased =
        out->lease_owner[0] && out->lease_until != PMS_INSTANT_NONE && out->lease_until >= c->now;
    return PMS_OK;
}

int sql_schedule_get(pms_store *st, const char *connection_id, pms_instant now,
                     pms_schedule_info *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    info_ctx c = {.out = out, .now = now};
    return sql_one(SQL_DB(st), get_sql, &a, read_info, &c, "no such connection",
                   "reading a connection's schedule", err);
}

int sql_schedule_set(pms_store *st, const char *connection_id, pms_instant next_sync_at,
                     pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    sql_arg_instant(&a, 2, next_sync_at);
    return sql_exec(SQL_DB(st), set_sql, &a, NULL, "scheduling a connection", err);
}

static int read_stats(const sql_row *row, void *item, pms_error *err)
{
    (void)err;
    pms_schedule_stats *out = item;
    out->enabled = (long)sql_int(row, 0);
    out->leased = (long)sql_int(row, 1);
    out->requested = (long)sql_int(row, 2);
    out->due = (long)sql_int(row, 3);
    return PMS_OK;
}

int sql_schedule_stats(pms_store *st, pms_instant now, pms_schedule_stats *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_instant(&a, 1, now);
    return sql_one(SQL_DB(st), stats_sql, &a, read_stats, out, "no counts", "counting the schedule",
                   err);
}
