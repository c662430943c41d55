/* Claiming due connections in PostgreSQL, and notifications. Each claim is one statement that
 * locks the rows it picks and skips rows other workers hold (FOR UPDATE SKIP LOCKED), so workers
 * claiming at once never take the same connection nor wait for each other; requests are claimed
 * before the schedule, each by its own partial index. */
#include <stdlib.h>
#include <string.h>

#include "store/pg/pg_internal.h"

#define CLAIM                                                                                      \
    "UPDATE pms_connections SET lease_owner = $2::text, lease_until = $3::timestamptz, "           \
    "lease_token = lease_token + 1 WHERE id IN (SELECT id FROM pms_connections WHERE "
#define CLAIMED                                                                                    \
    " LIMIT $4::integer FOR UPDATE SKIP LOCKED) RETURNING id, account_id, pms_type, "              \
    "sync_failures, sync_frequency_minutes, requested_at IS NOT NULL, request_window, "            \
    "lease_token, "

static const char claim_requests_sql[] =
    CLAIM "requested_at IS NOT NULL AND (lease_until IS NULL OR lease_until < $1::timestamptz) "
          "ORDER BY requested_at, id" CLAIMED "requested_at";
/* Never synced (NULL) sorts first: the due index is on COALESCE(next_sync_at, '-infinity'). */
static const char claim_schedule_sql[] =
    CLAIM "sync_enabled AND COALESCE(next_sync_at, '-infinity') <= $1::timestamptz "
          "AND (lease_until IS NULL OR lease_until < $1::timestamptz) "
          "ORDER BY COALESCE(next_sync_at, '-infinity'), id" CLAIMED
          "COALESCE(next_sync_at, '-infinity')";
static const char notify_sql[] = "SELECT pg_notify($1::text, $2::text)";

typedef struct claimed {
    pms_lease *out;
    pms_instant *due; /* the order of each: when requested, or when due */
    int count, max;
} claimed;

static int read_claimed(void *arg, const sql_row *row, pms_error *err)
{
    (void)err;
    claimed *c = arg;
    if (c->count == c->max)
        return PMS_OK;
    sql_read_lease(row, &c->out[c->count], true);
    c->due[c->count++] = sql_instant(row, 8);
    return PMS_OK;
}

/* RETURNING keeps no order: oldest due first (then by id), within [from, to). */
static void order(claimed *c, int from)
{
    for (int i = from + 1; i < c->count; i++)
        for (int j = i;
             j > from && (c->due[j] < c->due[j - 1] ||
                          (c->due[j] == c->due[j - 1] &&
                           strcmp(c->out[j].connection_id, c->out[j - 1].connection_id) < 0));
             j--) {
            pms_lease l = c->out[j];
            c->out[j] = c->out[j - 1];
            c->out[j - 1] = l;
            pms_instant d = c->due[j];
            c->due[j] = c->due[j - 1];
            c->due[j - 1] = d;
        }
}

static int claim(sql_db *db, const char *sql, const char *worker, pms_instant now, long lease_ms,
                 claimed *c, pms_error *err)
{
    int from = c->count;
    sql_args a = {0};
    sql_arg_instant(&a, 1, now);
    sql_arg_text(&a, 2, worker);
    sql_arg_instant(&a, 3, now + lease_ms);
    sql_arg_int(&a, 4, c->max - c->count);
    int rc = db->db->run(db, sql, &a, read_claimed, c, NULL, "claiming connections", err);
    for (int i = from; i < c->count; i++)
        c->out[i].until = now + lease_ms;
    order(c, from);
    return rc;
}

int pg_lease_claim(pms_store *st, const char *worker, pms_instant now, long lease_ms, int max,
                   bool requests_only, pms_lease *out, int *count, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    *count = 0;
    if (max <= 0)
        return PMS_OK;
    pms_instant *due = calloc((size_t)max, sizeof *due);
    if (due == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    claimed c = {.out = out, .due = due, .max = max};
    bool own = db->tx_depth == 0;
    int rc = own ? st->ops->begin(st, err) : PMS_OK;
    if (rc == PMS_OK)
        rc = claim(db, claim_requests_sql, worker, now, lease_ms, &c, err);
    if (rc == PMS_OK && !requests_only && c.count < max)
        rc = claim(db, claim_schedule_sql, worker, now, lease_ms, &c, err);
    if (own) {
        if (rc == PMS_OK)
            rc = st->ops->commit(st, err);
        if (rc != PMS_OK)
            st->ops->rollback(st);
    }
    free(due);
    if (rc == PMS_OK)
        *count = c.count;
    return rc;
}

int pg_notify(pms_store *st, const char *channel, const char *payload, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, channel);
    sql_arg_text(&a, 2, payload ? payload : "");
    return sql_exec(SQL_DB(st), notify_sql, &a, NULL, "sending a notification", err);
}
