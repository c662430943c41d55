/* Account time zones and PMS connections in SQLite. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define CONNECTION_COLUMNS                                                                         \
    "id, account_id, pms_type, display_name, practice_name, tenant_id, practice_id, "              \
    "organization_id, base_url, timezone, settings, secrets, access_token, refresh_token, "        \
    "token_expires_at, sync_enabled, sync_frequency_minutes, sync_telehealth_only, "               \
    "unmapped_practitioners, last_sync_at, last_sync_status, last_sync_error, paired_at, "         \
    "created_at, updated_at, secret_keys, setup_step"

static const char account_tz_sql[] = "SELECT timezone FROM accounts WHERE id = ?1";
static const char account_set_tz_sql[] = "UPDATE accounts SET timezone = ?2 WHERE id = ?1";
static const char insert_sql[] =
    "INSERT INTO pms_connections (" CONNECTION_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
    "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, "
    "?26, ?27)";
static const char update_sql[] =
    "UPDATE pms_connections SET account_id = ?2, pms_type = ?3, display_name = ?4, "
    "practice_name = ?5, tenant_id = ?6, practice_id = ?7, organization_id = ?8, base_url = ?9, "
    "timezone = ?10, settings = ?11, secrets = ?12, access_token = ?13, refresh_token = ?14, "
    "token_expires_at = ?15, sync_enabled = ?16, sync_frequency_minutes = ?17, "
    "sync_telehealth_only = ?18, unmapped_practitioners = ?19, last_sync_at = ?20, "
    "last_sync_status = ?21, last_sync_error = ?22, paired_at = ?23, updated_at = ?25, "
    "secret_keys = ?26, setup_step = ?27 "
    "WHERE id = ?1";
static const char get_sql[] = "SELECT " CONNECTION_COLUMNS " FROM pms_connections WHERE id = ?1";
static const char list_sql[] = "SELECT " CONNECTION_COLUMNS " FROM pms_connections "
                               "WHERE ?1 IS NULL OR account_id = ?1 ORDER BY created_at, id";
static const char delete_sql[] = "DELETE FROM pms_connections WHERE id = ?1";
static const char sync_result_sql[] =
    "UPDATE pms_connections SET last_sync_at = ?2, last_sync_status = ?3, last_sync_error = ?4, "
    "updated_at = ?5 WHERE id = ?1";
static const char set_sealed_sql[] =
    "UPDATE pms_connections SET secrets = ?2, access_token = ?3, refresh_token = ?4 WHERE id = ?1";
static const char token_sql[] =
    "UPDATE pms_connections SET access_token = ?2, refresh_token = ?3, token_expires_at = ?4 "
    "WHERE id = ?1";

int sq_account_timezone(pms_store *st, const char *account_id, char **tz, pms_error *err)
{
    sqlite_store *s = SQ(st);
    *tz = NULL;
    sqlite3_stmt *stmt = sq_stmt(s, account_tz_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, account_id);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        sqlite3_reset(stmt);
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such account");
    }
    if (step != SQLITE_ROW)
        return sq_fail(s, err, "reading an account");
    bool oom = false;
    *tz = sq_col_text(stmt, 0, &oom);
    sqlite3_reset(stmt);
    return oom ? pms_error_set(err, PMS_ERR_NOMEM, "out of memory") : PMS_OK;
}

int sq_account_set_timezone(pms_store *st, const char *account_id, const char *tz, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, account_set_tz_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, account_id);
    sq_bind_text(stmt, 2, tz);
    return sq_exec_stmt(s, stmt, "updating an account", err);
}

static void bind_connection(sqlite3_stmt *stmt, const pms_connection *c, pms_instant now)
{
    sq_bind_text(stmt, 1, c->id);
    sq_bind_text(stmt, 2, c->account_id ? c->account_id : PMS_DEFAULT_ACCOUNT_ID);
    sq_bind_text(stmt, 3, c->pms_type);
    sq_bind_text(stmt, 4, c->display_name);
    sq_bind_text(stmt, 5, c->practice_name);
    sq_bind_text(stmt, 6, c->tenant_id);
    sq_bind_text(stmt, 7, c->practice_id);
    sq_bind_text(stmt, 8, c->organization_id);
    sq_bind_text(stmt, 9, c->base_url);
    sq_bind_text(stmt, 10, c->timezone ? c->timezone : "Australia/Sydney");
    if (c->settings)
        sq_bind_json(stmt, 11, c->settings);
    else
        sq_bind_text(stmt, 11, "{}");
    sq_bind_text(stmt, 12, c->secrets_sealed);
    sq_bind_text(stmt, 13, c->access_token_sealed);
    sq_bind_text(stmt, 14, c->refresh_token_sealed);
    sq_bind_instant(stmt, 15, c->token_expires_at);
    sq_bind_int(stmt, 16, c->sync_enabled);
    sq_bind_int(stmt, 17, c->sync_frequency_minutes > 0 ? c->sync_frequency_minutes : 15);
    sq_bind_int(stmt, 18, c->sync_telehealth_only);
    sq_bind_text(stmt, 19, c->skip_unmapped ? "skip" : "create");
    sq_bind_instant(stmt, 20, c->last_sync_at);
    sq_bind_text(stmt, 21, c->last_sync_status);
    sq_bind_text(stmt, 22, c->last_sync_error);
    sq_bind_instant(stmt, 23, c->paired_at);
    sq_bind_instant(stmt, 24,
                    c->created_at != PMS_INSTANT_NONE && c->created_at ? c->created_at : now);
    sq_bind_instant(stmt, 25, now);
    if (c->secret_keys)
        sq_bind_json(stmt, 26, c->secret_keys);
    else
        sqlite3_bind_null(stmt, 26);
    sq_bind_text(stmt, 27, c->setup_step);
}

static int read_connection(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_connection *c = item;
    bool oom = false;
    memset(c, 0, sizeof *c);
    c->id = sq_col_text(stmt, 0, &oom);
    c->account_id = sq_col_text(stmt, 1, &oom);
    c->pms_type = sq_col_text(stmt, 2, &oom);
    c->display_name = sq_col_text(stmt, 3, &oom);
    c->practice_name = sq_col_text(stmt, 4, &oom);
    c->tenant_id = sq_col_text(stmt, 5, &oom);
    c->practice_id = sq_col_text(stmt, 6, &oom);
    c->organization_id = sq_col_text(stmt, 7, &oom);
    c->base_url = sq_col_text(stmt, 8, &oom);
    c->timezone = sq_col_text(stmt, 9, &oom);
    c->settings = sq_col_json(stmt, 10);
    if (!json_is_object(c->settings)) {
        json_decref(c->settings);
        c->settings = json_object();
    }
    c->secrets_sealed = sq_col_text(stmt, 11, &oom);
    c->access_token_sealed = sq_col_text(stmt, 12, &oom);
    c->refresh_token_sealed = sq_col_text(stmt, 13, &oom);
    c->token_expires_at = sq_col_instant(stmt, 14);
    c->sync_enabled = sq_col_bool(stmt, 15);
    c->sync_frequency_minutes = (int)sq_col_int(stmt, 16);
    c->sync_telehealth_only = sq_col_bool(stmt, 17);
    const unsigned char *unmapped = sqlite3_column_text(stmt, 18);
    c->skip_unmapped = unmapped && strcmp((const char *)unmapped, "skip") == 0;
    c->last_sync_at = sq_col_instant(stmt, 19);
    c->last_sync_status = sq_col_text(stmt, 20, &oom);
    c->last_sync_error = sq_col_text(stmt, 21, &oom);
    c->paired_at = sq_col_instant(stmt, 22);
    c->created_at = sq_col_instant(stmt, 23);
    c->updated_at = sq_col_instant(stmt, 24);
    c->secret_keys = sq_col_json(stmt, 25);
    if (c->secret_keys && !json_is_array(c->secret_keys)) {
        json_decref(c->secret_keys);
        c->secret_keys = NULL;
    }
    c->setup_step = sq_col_text(stmt, 26, &oom);
    if (oom || c->settings == NULL) {
        pms_connection_clear(c);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sq_connection_insert(pms_store *st, const pms_connection *c, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, insert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    bind_connection(stmt, c, pms_now());
    return sq_exec_stmt(s, stmt, "adding a connection", err);
}

int sq_connection_update(pms_store *st, const pms_connection *c, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, update_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    bind_connection(stmt, c, pms_now());
    int rc = sq_exec_stmt(s, stmt, "updating a connection", err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such connection");
    return rc;
}

int sq_connection_get(pms_store *st, const char *id, pms_connection *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, get_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    int step = sqlite3_step(stmt);
    int rc;
    if (step == SQLITE_ROW)
        rc = read_connection(stmt, out, err);
    else if (step == SQLITE_DONE)
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "no connection with id %.64s", id);
    else
        rc = sq_fail(s, err, "reading a connection");
    sqlite3_reset(stmt);
    return rc;
}

int sq_connection_list(pms_store *st, const char *account_id, pms_connection_list *out,
                       pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, list_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, account_id);
    int rc = sq_collect(s, stmt, sizeof *out->items, (void **)&out->items, &out->count,
                        read_connection, "listing connections", err);
    if (rc != PMS_OK)
        pms_connection_list_clear(out);
    return rc;
}

int sq_connection_delete(pms_store *st, const char *id, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, delete_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    int rc = sq_exec_stmt(s, stmt, "removing a connection", err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no connection with id %.64s", id);
    return rc;
}

int sq_connection_set_sync_result(pms_store *st, const char *id, pms_instant at, const char *status,
                                  const char *error, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, sync_result_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_instant(stmt, 2, at);
    sq_bind_text(stmt, 3, status);
    sq_bind_text(stmt, 4, error);
    sq_bind_instant(stmt, 5, pms_now());
    return sq_exec_stmt(s, stmt, "recording a sync result", err);
}

int sq_connection_set_token(pms_store *st, const char *id, const char *access_sealed,
                            const char *refresh_sealed, pms_instant expires_at, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, token_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_text(stmt, 2, access_sealed);
    sq_bind_text(stmt, 3, refresh_sealed);
    sq_bind_instant(stmt, 4, expires_at);
    return sq_exec_stmt(s, stmt, "saving a token", err);
}

int sq_connection_set_sealed(pms_store *st, const char *id, const char *secrets_sealed,
                             const char *access_sealed, const char *refresh_sealed, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, set_sealed_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_text(stmt, 2, secrets_sealed);
    sq_bind_text(stmt, 3, access_sealed);
    sq_bind_text(stmt, 4, refresh_sealed);
    int rc = sq_exec_stmt(s, stmt, "re-encrypting a connection's secrets", err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no connection with id %.64s", id);
    return rc;
}
