/* Users of the web UI and browser sessions in SQLite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

#define USER_COLUMNS "id, account_id, username, password_hash, role, created_at, disabled_at"
#define SESSION_COLUMNS                                                                            \
    "id, account_id, role, api_key_id, user_id, csrf_token, created_at, expires_at, "              \
    "last_seen_at, revoked_at"

static const char user_insert_sql[] =
    "INSERT INTO users (" USER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char user_get_sql[] = "SELECT " USER_COLUMNS " FROM users "
                                   "WHERE (?1 IS NOT NULL AND id = ?1) OR "
                                   "(?1 IS NULL AND username = ?2)";
static const char user_list_sql[] =
    "SELECT " USER_COLUMNS " FROM users "
    "WHERE ?1 IS NULL OR account_id = ?1 ORDER BY created_at, rowid";
static const char user_disable_sql[] =
    "UPDATE users SET disabled_at = COALESCE(disabled_at, ?2) WHERE id = ?1";
static const char user_password_sql[] = "UPDATE users SET password_hash = ?2 WHERE id = ?1";

static const char session_insert_sql[] =
    "INSERT INTO web_sessions (" SESSION_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10)";
static const char session_find_sql[] =
    "SELECT s.id, s.account_id, s.role, s.api_key_id, s.user_id, s.csrf_token, s.created_at, "
    "s.expires_at, s.last_seen_at, s.revoked_at, COALESCE(k.name, u.username), a.name, "
    "CASE WHEN s.api_key_id IS NOT NULL THEN k.id IS NOT NULL AND k.revoked_at IS NULL "
    "ELSE u.id IS NOT NULL AND u.disabled_at IS NULL END "
    "FROM web_sessions s JOIN accounts a ON a.id = s.account_id "
    "LEFT JOIN api_keys k ON k.id = s.api_key_id LEFT JOIN users u ON u.id = s.user_id "
    "WHERE s.id = ?1";
static const char session_touch_sql[] =
    "UPDATE web_sessions SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at <= ?2 - ?3";
static const char session_revoke_sql[] =
    "UPDATE web_sessions SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1";
static const char session_delete_expired_sql[] =
    "DELETE FROM web_sessions WHERE expires_at <= ?1 OR revoked_at <= ?1";

static pms_role column_role(sqlite3_stmt *stmt, int i)
{
    pms_role role;
    const unsigned char *text = sqlite3_column_text(stmt, i);
    if (text == NULL || pms_role_parse((const char *)text, &role) != PMS_OK)
        role = PMS_ROLE_AGENT; /* unreachable: the CHECK constraint; the least privilege */
    return role;
}

/* Runs an UPDATE of one row by id; PMS_ERR_NOT_FOUND when there is no such row. */
static int update_one(sqlite_store *s, sqlite3_stmt *stmt, const char *doing, const char *what,
                      pms_error *err)
{
    int rc = sq_exec_stmt(s, stmt, doing, err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such %s", what);
    return rc;
}

/* ---- users ----------------------------------------------------------------------------- */

static int read_user(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_user *u = item;
    bool oom = false;
    u->id = sq_col_text(stmt, 0, &oom);
    u->account_id = sq_col_text(stmt, 1, &oom);
    u->username = sq_col_text(stmt, 2, &oom);
    u->password_hash = sq_col_text(stmt, 3, &oom);
    u->role = column_role(stmt, 4);
    u->created_at = sq_col_instant(stmt, 5);
    u->disabled_at = sq_col_instant(stmt, 6);
    if (oom) {
        pms_user_clear(u);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sq_user_insert(pms_store *st, const pms_user *u, pms_error *err)
{
    sqlite_store *s = SQ(st);
    int rc = sq_account_exists(s, u->account_id, err);
    if (rc != PMS_OK)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, user_insert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, u->id);
    sq_bind_text(stmt, 2, u->account_id);
    sq_bind_text(stmt, 3, u->username);
    sq_bind_text(stmt, 4, u->password_hash);
    sq_bind_text(stmt, 5, pms_role_name(u->role));
    sq_bind_instant(stmt, 6, u->created_at != PMS_INSTANT_NONE ? u->created_at : pms_now());
    sq_bind_instant(stmt, 7, u->disabled_at);
    return sq_exec_stmt(s, stmt, "adding a user", err);
}

int sq_user_get(pms_store *st, const char *id, const char *username, pms_user *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, user_get_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_text(stmt, 2, username);
    return sq_one(s, stmt, out, read_user, "no such user", "reading a user", err);
}

int sq_user_list(pms_store *st, const char *account_id, pms_user_array *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, user_list_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, account_id);
    int rc = sq_collect(s, stmt, sizeof *out->items, (void **)&out->items, &out->count, read_user,
                        "listing users", err);
    if (rc != PMS_OK)
        pms_user_array_clear(out);
    return rc;
}

int sq_user_disable(pms_store *st, const char *id, pms_instant at, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, user_disable_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_instant(stmt, 2, at);
    return update_one(s, stmt, "disabling a user", "user", err);
}

int sq_user_set_password(pms_store *st, const char *id, const char *password_hash, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, user_password_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_text(stmt, 2, password_hash);
    return update_one(s, stmt, "setting a password", "user", err);
}

/* ---- browser sessions ------------------------------------------------------------------ */

static int read_session(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_web_session *ws = item;
    bool oom = false;
    const unsigned char *id = sqlite3_column_text(stmt, 0);
    snprintf(ws->id, sizeof ws->id, "%s", id ? (const char *)id : "");
    ws->account_id = sq_col_text(stmt, 1, &oom);
    ws->role = column_role(stmt, 2);
    ws->api_key_id = sq_col_text(stmt, 3, &oom);
    ws->user_id = sq_col_text(stmt, 4, &oom);
    ws->csrf_token = sq_col_text(stmt, 5, &oom);
    ws->created_at = sq_col_instant(stmt, 6);
    ws->expires_at = sq_col_instant(stmt, 7);
    ws->last_seen_at = sq_col_instant(stmt, 8);
    ws->revoked_at = sq_col_instant(stmt, 9);
    ws->principal_name = sq_col_text(stmt, 10, &oom);
    ws->account_name = sq_col_text(stmt, 11, &oom);
    ws->principal_active = sq_col_bool(stmt, 12);
    if (oom) {
        pms_web_session_clear(ws);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sq_web_session_insert(pms_store *st, const pms_web_session *ws, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, session_insert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    pms_instant now = pms_now();
    sq_bind_text(stmt, 1, ws->id);
    sq_bind_text(stmt, 2, ws->account_id);
    sq_bind_text(stmt, 3, pms_role_name(ws->role));
    sq_bind_text(stmt, 4, ws->api_key_id);
    sq_bind_text(stmt, 5, ws->user_id);
    sq_bind_text(stmt, 6, ws->csrf_token);
    sq_bind_instant(stmt, 7, ws->created_at != PMS_INSTANT_NONE ? ws->created_at : now);
    sq_bind_instant(stmt, 8, ws->expires_at);
    sq_bind_instant(stmt, 9, ws->last_seen_at != PMS_INSTANT_NONE ? ws->last_seen_at : now);
    sq_bind_instant(stmt, 10, ws->revoked_at);
    return sq_exec_stmt(s, stmt, "adding a session", err);
}

int sq_web_session_find(pms_store *st, const char *id, pms_web_session *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, session_find_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    return sq_one(s, stmt, out, read_session, "no such session", "reading a session", err);
}

int sq_web_session_touch(pms_store *st, const char *id, pms_instant at, pms_instant min_interval_ms,
                         pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, session_touch_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_instant(stmt, 2, at);
    sq_bind_int(stmt, 3, min_interval_ms);
    return sq_exec_stmt(s, stmt, "recording a session's use", err);
}

int sq_web_session_revoke(pms_store *st, const char *id, pms_instant at, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, session_revoke_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_instant(stmt, 2, at);
    return update_one(s, stmt, "revoking a session", "session", err);
}

int sq_web_session_delete_expired(pms_store *st, pms_instant before, int *count, pms_error *err)
{
    sqlite_store *s = SQ(st);
    if (count)
        *count = 0;
    sqlite3_stmt *stmt = sq_stmt(s, session_delete_expired_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_instant(stmt, 1, before);
    int rc = sq_exec_stmt(s, stmt, "removing expired sessions", err);
    if (rc == PMS_OK && count)
        *count = sqlite3_changes(s->db);
    return rc;
}
