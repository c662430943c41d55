/* The audit log (audit_log, audit_head). The chain itself is computed by src/security/audit.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql/sql.h"

#define AUDIT_COLUMNS                                                                              \
    "seq, at, account_id, actor_key_id, actor_role, action, resource, patient_ids, client_addr, "  \
    "outcome, key_id, prev_hash, hash"
#define WALK_PAGE 1000

static const char head_get_sql[] = "SELECT seq, hash, key_id, mac FROM audit_head WHERE id = 1";
/* Appends read the head to write the next one: PostgreSQL locks the row until the append
 * commits, so appends from every process take turns (SQLite's BEGIN IMMEDIATE does that). */
static const char head_lock_sql[] =
    "SELECT seq, hash, key_id, mac FROM audit_head WHERE id = 1 FOR UPDATE";
static const char head_set_sql[] =
    "UPDATE audit_head SET seq = $1::bigint, hash = $2::text, key_id = $3::text, mac = $4::text, "
    "updated_at = $5::timestamptz WHERE id = 1";
static const char insert_sql[] =
    "INSERT INTO audit_log (" AUDIT_COLUMNS ") VALUES ($1::bigint, $2::timestamptz, $3::text, "
    "$4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::integer, $11::text, "
    "$12::text, $13::text) ON CONFLICT DO NOTHING";
static const char bounds_sql[] =
    "SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM audit_log "
    "WHERE at >= $1::timestamptz AND at < $2::timestamptz";
static const char page_sql[] =
    "SELECT " AUDIT_COLUMNS " FROM audit_log WHERE seq > $1::bigint AND seq <= $2::bigint "
    "AND at >= $3::timestamptz AND at < $4::timestamptz ORDER BY seq LIMIT 1000"; /* WALK_PAGE */
static const char count_key_sql[] = "SELECT COUNT(*) FROM audit_log WHERE key_id = $1::text";

static int read_head(const sql_row *row, void *item, pms_error *err)
{
    (void)err;
    pms_audit_head *out = item;
    out->seq = sql_int(row, 0);
    sql_copy_text(row, 1, out->hash, sizeof out->hash);
    sql_copy_text(row, 2, out->key_id, sizeof out->key_id);
    sql_copy_text(row, 3, out->mac, sizeof out->mac);
    return PMS_OK;
}

static int head_get(sql_db *db, const char *sql, pms_audit_head *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = sql_one(db, sql, NULL, read_head, out, "none", "reading the audit log's head", err);
    if (rc == PMS_ERR_NOT_FOUND)
        return pms_error_set(err, PMS_ERR_STORE, "the audit log has no head row");
    return rc;
}

int sql_audit_head_get(pms_store *st, pms_audit_head *out, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    return head_get(db, SQL_PICK(db, head_get_sql, head_lock_sql), out, err);
}

int sql_audit_head_set(pms_store *st, const pms_audit_head *h, pms_error *err)
{
    sql_args a = {0};
    sql_arg_int(&a, 1, h->seq);
    sql_arg_text(&a, 2, h->hash);
    sql_arg_text(&a, 3, h->key_id[0] ? h->key_id : NULL);
    sql_arg_text(&a, 4, h->mac[0] ? h->mac : NULL);
    sql_arg_instant(&a, 5, pms_now());
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), head_set_sql, &a, &changed, "updating the audit log's head", err);
    if (rc == PMS_OK && changed == 0)
        return pms_error_set(err, PMS_ERR_STORE, "the audit log has no head row");
    return rc;
}

int sql_audit_insert(pms_store *st, const pms_audit_record *r, pms_error *err)
{
    sql_args a = {0};
    sql_arg_int(&a, 1, r->seq);
    sql_arg_instant(&a, 2, r->at);
    sql_arg_text(&a, 3, r->account_id);
    sql_arg_text(&a, 4, r->actor_key_id);
    sql_arg_text(&a, 5, r->actor_role);
    sql_arg_text(&a, 6, r->action);
    sql_arg_text(&a, 7, r->resource);
    sql_arg_text(&a, 8, r->patient_ids ? r->patient_ids : "[]");
    sql_arg_text(&a, 9, r->client_addr);
    sql_arg_int(&a, 10, r->outcome);
    sql_arg_text(&a, 11, r->key_id);
    sql_arg_text(&a, 12, r->prev_hash);
    sql_arg_text(&a, 13, r->hash);
    long added = 0;
    int rc = sql_exec(SQL_DB(st), insert_sql, &a, &added, "writing an audit record", err);
    if (rc == PMS_OK && added == 0)
        return pms_error_set(err, PMS_ERR_CONFLICT, "audit record %lld exists already", r->seq);
    return rc;
}

typedef struct walk {
    int (*fn)(void *ctx, const pms_audit_record *r);
    void *ctx;
    long long last_seq;
    int rows;
} walk;

static int walk_row(void *arg, const sql_row *row, pms_error *err)
{
    (void)err;
    walk *w = arg;
    pms_audit_record r = {
        .seq = sql_int(row, 0),
        .at = sql_instant(row, 1),
        .account_id = sql_text(row, 2),
        .actor_key_id = sql_text(row, 3),
        .actor_role = sql_text(row, 4),
        .action = sql_text(row, 5),
        .resource = sql_text(row, 6),
        .patient_ids = sql_text(row, 7),
        .client_addr = sql_text(row, 8),
        .outcome = (int)sql_int(row, 9),
        .key_id = sql_text(row, 10),
        .prev_hash = sql_text(row, 11),
        .hash = sql_text(row, 12),
    };
    w->last_seq = r.seq;
    w->rows++;
    return w->fn(w->ctx, &r);
}

static int read_bounds(const sql_row *row, void *item, pms_error *err)
{
    (void)err;
    long long *bounds = item;
    bounds[0] = sql_int(row, 0);
    bounds[1] = sql_int(row, 1);
    return PMS_OK;
}

/* The records in [from, to) by seq, a page at a time (memory stays bounded however long the
 * log is); the range's seq bounds come from the index on at. */
static int walk_records(sql_db *db, pms_instant from, pms_instant to, walk *w, pms_error *err)
{
    sql_args range = {0};
    sql_arg_instant(&range, 1, from != PMS_INSTANT_NONE ? from : INT64_MIN + 1);
    sql_arg_instant(&range, 2, to != PMS_INSTANT_NONE ? to : INT64_MAX);
    long long bounds[2] = {0, INT64_MAX};
    int rc = PMS_OK;
    if (from != PMS_INSTANT_NONE || to != PMS_INSTANT_NONE) {
        rc = sql_one(db, bounds_sql, &range, read_bounds, bounds, "no bounds",
                     "reading the audit log", err);
        if (rc != PMS_OK || bounds[1] == 0)
            return rc;
        w->last_seq = bounds[0] - 1;
    }
    do {
        sql_args a = {0};
        sql_arg_int(&a, 1, w->last_seq);
        sql_arg_int(&a, 2, bounds[1]);
        a.v[2] = range.v[0];
        a.v[3] = range.v[1];
        a.count = 4;
        w->rows = 0;
        rc = db->db->run(db, page_sql, &a, walk_row, w, NULL, "reading the audit log", err);
    } while (rc == PMS_OK && w->rows == WALK_PAGE);
    return rc;
}

int sql_audit_walk(pms_store *st, pms_instant from, pms_instant to, pms_audit_head *head,
                   int (*fn)(void *ctx, const pms_audit_record *r), void *ctx, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    /* Outside a transaction: one snapshot for the head and the rows, writers carry on. Inside
     * the caller's: the head is read (and on PostgreSQL locked) as an append would. */
    bool own = db->tx_depth == 0;
    int rc = own ? db->db->begin_snapshot(db, err) : PMS_OK;
    if (rc != PMS_OK)
        return rc;
    pms_audit_head local;
    walk w = {.fn = fn, .ctx = ctx};
    rc = own ? head_get(db, head_get_sql, head ? head : &local, err)
             : sql_audit_head_get(st, head ? head : &local, err);
    if (rc == PMS_OK)
        rc = walk_records(db, from, to, &w, err);
    if (own)
        st->ops->rollback(st);
    return rc;
}

int sql_audit_count_key(pms_store *st, const char *key_id, long long *count, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, key_id);
    return sql_count(SQL_DB(st), count_key_sql, &a, count, "counting audit records", err);
}
