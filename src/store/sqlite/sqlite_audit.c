/* The audit log (audit_log, audit_head) in SQLite. The chain itself is computed by
 * src/security/audit.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define AUDIT_COLUMNS                                                                              \
    "seq, at, account_id, actor_key_id, actor_role, action, resource, patient_ids, client_addr, "  \
    "outcome, key_id, prev_hash, hash"

static const char head_get_sql[] = "SELECT seq, hash, key_id, mac FROM audit_head WHERE id = 1";
static const char head_set_sql[] =
    "UPDATE audit_head SET seq = ?1, hash = ?2, key_id = ?3, mac = ?4, updated_at = ?5 "
    "WHERE id = 1";
static const char insert_sql[] = "INSERT INTO audit_log (" AUDIT_COLUMNS ") VALUES (?1, ?2, ?3, "
                                 "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char walk_all_sql[] = "SELECT " AUDIT_COLUMNS " FROM audit_log ORDER BY seq";
static const char walk_range_sql[] = "SELECT " AUDIT_COLUMNS " FROM audit_log "
                                     "WHERE at >= ?1 AND at < ?2 ORDER BY seq";
static const char count_key_sql[] = "SELECT COUNT(*) FROM audit_log WHERE key_id = ?1";

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

int sq_audit_head_get(pms_store *st, pms_audit_head *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, head_get_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    int step = sqlite3_step(stmt);
    int rc = PMS_OK;
    if (step == SQLITE_ROW) {
        out->seq = sqlite3_column_int64(stmt, 0);
        copy_text(out->hash, sizeof out->hash, sqlite3_column_text(stmt, 1));
        copy_text(out->key_id, sizeof out->key_id, sqlite3_column_text(stmt, 2));
        copy_text(out->mac, sizeof out->mac, sqlite3_column_text(stmt, 3));
    } else if (step == SQLITE_DONE) {
        rc = pms_error_set(err, PMS_ERR_STORE, "the audit log has no head row");
    } else {
        rc = sq_fail(s, err, "reading the audit log's head");
    }
    sqlite3_reset(stmt);
    return rc;
}

int sq_audit_head_set(pms_store *st, const pms_audit_head *h, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, head_set_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_int(stmt, 1, h->seq);
    sq_bind_text(stmt, 2, h->hash);
    sq_bind_text(stmt, 3, h->key_id[0] ? h->key_id : NULL);
    sq_bind_text(stmt, 4, h->mac[0] ? h->mac : NULL);
    sq_bind_instant(stmt, 5, pms_now());
    int rc = sq_exec_stmt(s, stmt, "updating the audit log's head", err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_STORE, "the audit log has no head row");
    return rc;
}

int sq_audit_insert(pms_store *st, const pms_audit_record *r, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, insert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_int(stmt, 1, r->seq);
    sq_bind_instant(stmt, 2, r->at);
    sq_bind_text(stmt, 3, r->account_id);
    sq_bind_text(stmt, 4, r->actor_key_id);
    sq_bind_text(stmt, 5, r->actor_role);
    sq_bind_text(stmt, 6, r->action);
    sq_bind_text(stmt, 7, r->resource);
    sq_bind_text(stmt, 8, r->patient_ids ? r->patient_ids : "[]");
    sq_bind_text(stmt, 9, r->client_addr);
    sq_bind_int(stmt, 10, r->outcome);
    sq_bind_text(stmt, 11, r->key_id);
    sq_bind_text(stmt, 12, r->prev_hash);
    sq_bind_text(stmt, 13, r->hash);
    return sq_exec_stmt(s, stmt, "writing an audit record", err);
}

static const char *col_text(sqlite3_stmt *stmt, int i)
{
    return (const char *)sqlite3_column_text(stmt, i);
}

int sq_audit_walk(pms_store *st, pms_instant from, pms_instant to, pms_audit_head *head,
                  int (*fn)(void *ctx, const pms_audit_record *r), void *ctx, pms_error *err)
{
    sqlite_store *s = SQ(st);
    bool own_tx = s->tx_depth == 0 && sqlite3_get_autocommit(s->db);
    /* A deferred transaction: one snapshot for the head and the rows (WAL lets writers go on). */
    int rc = own_tx ? sq_exec(s, "BEGIN", "reading the audit log", err) : PMS_OK;
    if (rc != PMS_OK)
        return rc;
    pms_audit_head local_head;
    if ((rc = sq_audit_head_get(st, head ? head : &local_head, err)) != PMS_OK)
        goto out;
    bool ranged = from != PMS_INSTANT_NONE || to != PMS_INSTANT_NONE;
    sqlite3_stmt *stmt = sq_stmt(s, ranged ? walk_range_sql : walk_all_sql, err);
    if (stmt == NULL) {
        rc = err ? (int)err->code : PMS_ERR_STORE;
        goto out;
    }
    if (ranged) {
        sq_bind_int(stmt, 1, from != PMS_INSTANT_NONE ? from : INT64_MIN + 1);
        sq_bind_int(stmt, 2, to != PMS_INSTANT_NONE ? to : INT64_MAX);
    }
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        pms_audit_record r = {
            .seq = sqlite3_column_int64(stmt, 0),
            .at = sq_col_instant(stmt, 1),
            .account_id = col_text(stmt, 2),
            .actor_key_id = col_text(stmt, 3),
            .actor_role = col_text(stmt, 4),
            .action = col_text(stmt, 5),
            .resource = col_text(stmt, 6),
            .patient_ids = col_text(stmt, 7),
            .client_addr = col_text(stmt, 8),
            .outcome = sqlite3_column_int(stmt, 9),
            .key_id = col_text(stmt, 10),
            .prev_hash = col_text(stmt, 11),
            .hash = col_text(stmt, 12),
        };
        if ((rc = fn(ctx, &r)) != PMS_OK)
            break;
    }
    if (rc == PMS_OK && step != SQLITE_DONE)
        rc = sq_fail(s, err, "reading the audit log");
    sqlite3_reset(stmt);
out:
    if (own_tx)
        sqlite3_exec(s->db, rc == PMS_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int sq_audit_count_key(pms_store *st, const char *key_id, long long *count, pms_error *err)
{
    sqlite_store *s = SQ(st);
    *count = 0;
    sqlite3_stmt *stmt = sq_stmt(s, count_key_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, key_id);
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        int rc = sq_fail(s, err, "counting audit records");
        sqlite3_reset(stmt);
        return rc;
    }
    *count = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return PMS_OK;
}
