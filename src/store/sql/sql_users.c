/* Users of the web UI and browser sessions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql/sql.h"

#define USER_COLUMNS "id, account_id, username, password_hash, role, created_at, disabled_at"
#define SESSION_COLUMNS                                                                            \
    "id, account_id, role, api_key_id, user_id, csrf_token, created_at, expires_at, "              \
    "last_seen_at, revoked_at"

static const char user_insert_sql[] =
    "INSERT INTO users (" USER_COLUMNS ") VALUES ($1::uuid, $2::uuid, $3::text, $4::text, "
    "$5::text, $6::timestamptz, $7::timestamptz) ON CONFLICT DO NOTHING";
static const char user_get_sql[] = "SELECT " USER_COLUMNS " FROM users "
                                   "WHERE ($1::uuid IS NOT NULL AND id = $1::uuid) OR "
                                   "($1::uuid IS NULL AND username = $2::text)";
#define USER_LIST(TIEBREAK)                                                                        \
    "SELECT " USER_COLUMNS " FROM users WHERE $1::uuid IS NULL OR account_id = $1::uuid "          \
    "ORDER BY created_at, " TIEBREAK
static const char user_list_sqlite[] = USER_LIST("rowid");
static const char user_list_pg[] = USER_LIST("id");
static const char user_disable_sql[] =
    "UPDATE users SET disabled_at = COALESCE(disabled_at, $2::timestamptz) WHERE id = $1::uuid";
static const char user_password_sql[] =
    "UPDATE users SET password_hash = $2::text WHERE id = $1::uuid";

static const char session_insert_sql[] =
    "INSERT INTO web_sessions (" SESSION_COLUMNS ") VALUES ($1::text, $2::uuid, $3::text, "
    "$4::uuid, $5::uuid, $6::text, $7::timestamptz, $8::timestamptz, $9::timestamptz, "
    "$10::timestamptz) ON CONFLICT DO NOTHING";
static const char session_find_sql[] =
    "SELECT s.id, s.account_id, s.role, s.api_key_id, s.user_id, s.csrf_token, s.created_at, "
    "s.expires_at, s.last_seen_at, s.revoked_at, COALESCE(k.name, u.username), a.name, "
    "CASE WHEN s.api_key_id IS NOT NULL THEN k.id IS NOT NULL AND k.revoked_at IS NULL "
    "ELSE u.id IS NOT NULL AND u.disabled_at IS NULL END "
    "FROM web_sessions s JOIN accounts a ON a.id = s.account_id "
    "LEFT JOIN api_keys k ON k.id = s.api_key_id LEFT JOIN users u ON u.id = s.user_id "
    "WHERE s.id = $1::text";
static const char session_touch_sql[] = "UPDATE web_sessions SET last_seen_at = $2::timestamptz "
                                        "WHERE id = $1::text AND last_seen_at <= $3::timestamptz";
static const char session_revoke_sql[] =
    "UPDATE web_sessions SET revoked_at = "
    "COALESCE(revoked_at, $2::timestamptz) WHERE id = $1::text";
static const char session_delete_expired_sql[] =
    "DELETE FROM web_sessions WHERE expires_at <= $1::timestamptz OR revoked_at <= $1::timestamptz";

/* An UPDATE of one row by id ($1); PMS_ERR_NOT_FOUND when there is no such row. */
static int update_one(pms_store *st, const char *sql, const char *id, pms_instant at,
                      const char *text, const char *doing, const char *what, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    if (text)
        sql_arg_text(&a, 2, text);
    else
        sql_arg_instant(&a, 2, at);
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), sql, &a, &changed, doing, err);
    if (rc == PMS_OK && changed == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such %s", what);
    return rc;
}

/* ---- users ----------------------------------------------------------------------------- */

static int read_user(const sql_row *row, void *item, pms_error *err)
{
    pms_user *u = item;
    bool oom = false;
    u->id = sql_strdup(row, 0, &oom);
    u->account_id = sql_strdup(row, 1, &oom);
    u->username = sql_strdup(row, 2, &oom);
    u->password_hash = sql_strdup(row, 3, &oom);
    u->role = sql_role(row, 4);
    u->created_at = sql_instant(row, 5);
    u->disabled_at = sql_instant(row, 6);
    if (oom) {
        pms_user_clear(u);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_user_insert(pms_store *st, const pms_user *u, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    int rc = sql_account_exists(db, u->account_id, err);
    if (rc != PMS_OK)
        return rc;
    sql_args a = {0};
    sql_arg_text(&a, 1, u->id);
    sql_arg_text(&a, 2, u->account_id);
    sql_arg_text(&a, 3, u->username);
    sql_arg_text(&a, 4, u->password_hash);
    sql_arg_text(&a, 5, pms_role_name(u->role));
    sql_arg_instant(&a, 6, u->created_at != PMS_INSTANT_NONE ? u->created_at : pms_now());
    sql_arg_instant(&a, 7, u->disabled_at);
    long added = 0;
    rc = sql_exec(db, user_insert_sql, &a, &added, "adding a user", err);
    if (rc == PMS_OK && added == 0)
        return pms_error_set(err, PMS_ERR_CONFLICT, "the username is taken");
    return rc;
}

int sql_user_get(pms_store *st, const char *id, const char *username, pms_user *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_text(&a, 2, username);
    return sql_one(SQL_DB(st), user_get_sql, &a, read_user, out, "no such user", "reading a user",
                   err);
}

int sql_user_list(pms_store *st, const char *account_id, pms_user_array *out, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    int rc = sql_collect(db, SQL_PICK(db, user_list_sqlite, user_list_pg), &a, sizeof *out->items,
                         (void **)&out->items, &out->count, read_user, "listing users", err);
    if (rc != PMS_OK)
        pms_user_array_clear(out);
    return rc;
}

int sql_user_disable(pms_store *st, const char *id, pms_instant at, pms_error *err)
{
    return update_one(st, user_disable_sql, id, at, NULL, "disabling a user", "user", err);
}

int sql_user_set_password(pms_store *st, const char *id, const char *password_hash, pms_error *err)
{
    return update_one(st, user_password_sql, id, PMS_INSTANT_NONE, password_hash,
                      "setting a password", "user", err);
}

/* ---- browser sessions ------------------------------------------------------------------ */

static int read_session(const sql_row *row, void *item, pms_error *err)
{
    pms_web_session *ws = item;
    bool oom = false;
    sql_copy_text(row, 0, ws->id, sizeof ws->id);
    ws->account_id = sql_strdup(row, 1, &oom);
    ws->role = sql_role(row, 2);
    ws->api_key_id = sql_strdup(row, 3, &oom);
    ws->user_id = sql_strdup(row, 4, &oom);
    ws->csrf_token = sql_strdup(row, 5, &oom);
    ws->created_at = sql_instant(row, 6);
    ws->expires_at = sql_instant(row, 7);
    ws->last_seen_at = sql_instant(row, 8);
    ws->revoked_at = sql_instant(row, 9);
    ws->principal_name = sql_strdup(row, 10, &oom);
    ws->account_name = sql_strdup(row, 11, &oom);
    ws->principal_active = sql_bool(row, 12);
    if (oom) {
        pms_web_session_clear(ws);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_web_session_insert(pms_store *st, const pms_web_session *ws, pms_error *err)
{
    pms_instant now = pms_now();
    sql_args a = {0};
    sql_arg_text(&a, 1, ws->id);
    sql_arg_text(&a, 2, ws->account_id);
    sql_arg_text(&a, 3, pms_role_name(ws->role));
    sql_arg_text(&a, 4, ws->api_key_id);
    sql_arg_text(&a, 5, ws->user_id);
    sql_arg_text(&a, 6, ws->csrf_token);
    sql_arg_instant(&a, 7, ws->created_at != PMS_INSTANT_NONE ? ws->created_at : now);
    sql_arg_instant(&a, 8, ws->expires_at);
    sql_arg_instant(&a, 9, ws->last_seen_at != PMS_INSTANT_NONE ? ws->last_seen_at : now);
    sql_arg_instant(&a, 10, ws->revoked_at);
    long added = 0;
    int rc = sql_exec(SQL_DB(st), session_insert_sql, &a, &added, "adding a session", err);
    if (rc == PMS_OK && added == 0)
        return pms_error_set(err, PMS_ERR_CONFLICT, "the session exists already");
    return rc;
}

int sql_web_session_find(pms_store *st, const char *id, pms_web_session *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    return sql_one(SQL_DB(st), session_find_sql, &a, read_session, out, "no such session",
                   "reading a session", err);
}

int sql_web_session_touch(pms_store *st, const char *id, pms_instant at,
                          pms_instant min_interval_ms, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_instant(&a, 2, at);
    sql_arg_instant(&a, 3, at - min_interval_ms);
    return sql_exec(SQL_DB(st), session_touch_sql, &a, NULL, "recording a session's use", err);
}

int sql_web_session_revoke(pms_store *st, const char *id, pms_instant at, pms_error *err)
{
    return update_one(st, session_revoke_sql, id, at, NULL, "revoking a session", "session", err);
}

int sql_web_session_delete_expired(pms_store *st, pms_instant before, int *count, pms_error *err)
{
    if (count)
        *count = 0;
    sql_args a = {0};
    sql_arg_instant(&a, 1, before);
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), session_delete_expired_sql, &a, &changed,
                      "removing expired sessions", err);
    if (rc == PMS_OK && count)
        *count = (int)changed;
    return rc;
}
