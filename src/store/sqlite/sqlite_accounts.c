/* Accounts and API keys in SQLite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define API_KEY_COLUMNS                                                                            \
    "id, account_id, name, role, prefix, key_hash, created_at, last_used_at, revoked_at"

static const char account_insert_sql[] =
    "INSERT INTO accounts (id, name, timezone, created_at) VALUES (?1, ?2, ?3, ?4)";
static const char account_get_sql[] =
    "SELECT id, name, timezone, created_at FROM accounts WHERE id = ?1";
static const char account_list_sql[] =
    "SELECT id, name, timezone, created_at FROM accounts ORDER BY created_at, rowid";
static const char account_exists_sql[] = "SELECT 1 FROM accounts WHERE id = ?1";

static const char key_insert_sql[] = "INSERT INTO api_keys (" API_KEY_COLUMNS ") VALUES (?1, ?2, "
                                     "?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char key_by_prefix_sql[] =
    "SELECT " API_KEY_COLUMNS " FROM api_keys WHERE prefix = ?1";
static const char key_list_sql[] = "SELECT " API_KEY_COLUMNS " FROM api_keys "
                                   "WHERE ?1 IS NULL OR account_id = ?1 ORDER BY created_at, rowid";
static const char key_revoke_sql[] = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?3) "
                                     "WHERE id = ?1 AND (?2 IS NULL OR account_id = ?2)";
static const char key_touch_sql[] =
    "UPDATE api_keys SET last_used_at = ?2 "
    "WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3)";

/* ---- accounts ------------------------------------------------------------------------ */

static int read_account(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_account *a = item;
    bool oom = false;
    a->id = sq_col_text(stmt, 0, &oom);
    a->name = sq_col_text(stmt, 1, &oom);
    a->timezone = sq_col_text(stmt, 2, &oom);
    a->created_at = sq_col_instant(stmt, 3);
    if (oom) {
        pms_account_clear(a);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sq_account_insert(pms_store *st, const pms_account *a, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, account_insert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, a->id);
    sq_bind_text(stmt, 2, a->name);
    sq_bind_text(stmt, 3, a->timezone);
    sq_bind_instant(stmt, 4, a->created_at != PMS_INSTANT_NONE ? a->created_at : pms_now());
    return sq_exec_stmt(s, stmt, "adding an account", err);
}

int sq_account_get(pms_store *st, const char *id, pms_account *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, account_get_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    char not_found[96];
    snprintf(not_found, sizeof not_found, "no account with id %.64s", id);
    return sq_one(s, stmt, out, read_account, not_found, "reading an account", err);
}

int sq_account_list(pms_store *st, pms_account_array *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, account_list_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    int rc = sq_collect(s, stmt, sizeof *out->items, (void **)&out->items, &out->count,
                        read_account, "listing accounts", err);
    if (rc != PMS_OK)
        pms_account_array_clear(out);
    return rc;
}

/* ---- API keys ------------------------------------------------------------------------ */

static int read_api_key(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_api_key *k = item;
    bool oom = false;
    k->id = sq_col_text(stmt, 0, &oom);
    k->account_id = sq_col_text(stmt, 1, &oom);
    k->name = sq_col_text(stmt, 2, &oom);
    const unsigned char *role = sqlite3_column_text(stmt, 3);
    if (role == NULL || pms_role_parse((const char *)role, &k->role) != PMS_OK)
        k->role = PMS_ROLE_AGENT; /* unreachable: the CHECK constraint */
    const unsigned char *prefix = sqlite3_column_text(stmt, 4);
    snprintf(k->prefix, sizeof k->prefix, "%s", prefix ? (const char *)prefix : "");
    const unsigned char *hash = sqlite3_column_text(stmt, 5);
    snprintf(k->key_hash, sizeof k->key_hash, "%s", hash ? (const char *)hash : "");
    k->created_at = sq_col_instant(stmt, 6);
    k->last_used_at = sq_col_instant(stmt, 7);
    k->revoked_at = sq_col_instant(stmt, 8);
    if (oom) {
        pms_api_key_clear(k);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sq_account_exists(sqlite_store *s, const char *account_id, pms_error *err)
{
    sqlite3_stmt *stmt = sq_stmt(s, account_exists_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, account_id);
    int step = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (step == SQLITE_DONE)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no account with id %.64s", account_id);
    if (step != SQLITE_ROW)
        return sq_fail(s, err, "reading an account");
    return PMS_OK;
}

int sq_api_key_insert(pms_store *st, const pms_api_key *k, pms_error *err)
{
    sqlite_store *s = SQ(st);
    int rc = sq_account_exists(s, k->account_id, err);
    if (rc != PMS_OK)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, key_insert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, k->id);
    sq_bind_text(stmt, 2, k->account_id);
    sq_bind_text(stmt, 3, k->name);
    sq_bind_text(stmt, 4, pms_role_name(k->role));
    sq_bind_text(stmt, 5, k->prefix);
    sq_bind_text(stmt, 6, k->key_hash);
    sq_bind_instant(stmt, 7, k->created_at != PMS_INSTANT_NONE ? k->created_at : pms_now());
    sq_bind_instant(stmt, 8, k->last_used_at);
    sq_bind_instant(stmt, 9, k->revoked_at);
    return sq_exec_stmt(s, stmt, "adding an API key", err);
}

int sq_api_key_find_by_prefix(pms_store *st, const char *prefix, pms_api_key *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, key_by_prefix_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, prefix);
    return sq_one(s, stmt, out, read_api_key, "no API key with that prefix", "reading an API key",
                  err);
}

int sq_api_key_list(pms_store *st, const char *account_id, pms_api_key_array *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, key_list_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, account_id);
    int rc = sq_collect(s, stmt, sizeof *out->items, (void **)&out->items, &out->count,
                        read_api_key, "listing API keys", err);
    if (rc != PMS_OK)
        pms_api_key_array_clear(out);
    return rc;
}

int sq_api_key_revoke(pms_store *st, const char *account_id, const char *id, pms_instant at,
                      pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, key_revoke_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_text(stmt, 2, account_id);
    sq_bind_instant(stmt, 3, at);
    int rc = sq_exec_stmt(s, stmt, "revoking an API key", err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no API key with id %.64s", id);
    return rc;
}

int sq_api_key_touch(pms_store *st, const char *id, pms_instant at, pms_instant min_interval_ms,
                     pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, key_touch_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_instant(stmt, 2, at);
    sq_bind_int(stmt, 3, min_interval_ms);
    return sq_exec_stmt(s, stmt, "recording an API key's use", err);
}
