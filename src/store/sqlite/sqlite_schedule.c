/* Claiming due connections in SQLite. One process writes at a time (BEGIN IMMEDIATE), which is
 * what makes the read-then-claim atomic here. The rest of the scheduling is the SQL store's. */
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

typedef struct due_list {
    pms_lease *out;
    int count, max;
} due_list;

static int read_due(void *arg, const sql_row *row, pms_error *err)
{
    (void)err;
    due_list *d = arg;
    if (d->count < d->max)
        sql_read_lease(row, &d->out[d->count++], false);
    return PMS_OK;
}

static int read_token(const sql_row *row, void *item, pms_error *err)
{
    (void)err;
    *(long long *)item = sql_int(row, 0);
    return PMS_OK;
}

static int claim_all(sql_db *db, const char *worker, pms_instant now, long lease_ms,
                     bool requests_only, due_list *due, pms_error *err)
{
    sql_args a = {0};
    sql_arg_instant(&a, 1, now);
    sql_arg_int(&a, 2, due->max);
    sql_arg_bool(&a, 3, requests_only);
    int rc = db->db->run(db, due_sql, &a, read_due, due, NULL, "finding due connections", err);
    for (int i = 0; rc == PMS_OK && i < due->count; i++) {
        sql_args c = {0};
        sql_arg_text(&c, 1, due->out[i].connection_id);
        sql_arg_text(&c, 2, worker);
        sql_arg_instant(&c, 3, now + lease_ms);
        rc = sql_one(db, claim_sql, &c, read_token, &due->out[i].token, "the connection is gone",
                     "claiming a connection", err);
        due->out[i].until = now + lease_ms;
    }
    return rc;
}

int sq_lease_claim(pms_store *st, const char *worker, pms_instant now, long lease_ms, int max,
                   bool requests_only, pms_lease *out, int *count, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    *count = 0;
    bool own = db->tx_depth == 0;
    int rc = own ? st->ops->begin(st, err) : PMS_OK;
    if (rc != PMS_OK)
        return rc;
    due_list due = {.out = out, .max = max};
    rc = claim_all(db, worker, now, lease_ms, requests_only, &due, err);
    if (own) {
        if (rc == PMS_OK)
            rc = st->ops->commit(st, err);
        if (rc != PMS_OK)
            st->ops->rollback(st);
    }
    if (rc == PMS_OK)
        *count = due.count;
    return rc;
}

int sq_notify(pms_store *st, const char *channel, const char *payload, pms_error *err)
{
    (void)st, (void)channel, (void)payload, (void)err;
    return PMS_OK; /* one process: nobody else to tell */
}
