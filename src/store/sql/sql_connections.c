/* Account time zones and PMS connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql/sql.h"

#define CONNECTION_COLUMNS                                                                         \
    "id, account_id, pms_type, display_name, practice_name, tenant_id, practice_id, "              \
    "organization_id, base_url, timezone, settings, secrets, access_token, refresh_token, "        \
    "token_expires_at, sync_enabled, sync_frequency_minutes, sync_telehealth_only, "               \
    "unmapped_practitioners, last_sync_at, last_sync_status, last_sync_error, paired_at, "         \
    "updated_at, secret_keys, setup_step, created_at"

static const char account_tz_sql[] = "SELECT timezone FROM accounts WHERE id = $1::uuid";
static const char account_set_tz_sql[] =
    "UPDATE accounts SET timezone = $2::text WHERE id = $1::uuid";
static const char insert_sql[] =
    "INSERT INTO pms_connections (" CONNECTION_COLUMNS ") VALUES ($1::uuid, $2::uuid, $3::text, "
    "$4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text, $11::jsonb, "
    "$12::text, $13::text, $14::text, $15::timestamptz, $16::boolean, $17::integer, "
    "$18::boolean, $19::text, $20::timestamptz, $21::text, $22::text, $23::timestamptz, "
    "$24::timestamptz, $25::jsonb, $26::text, $27::timestamptz) ON CONFLICT DO NOTHING";
/* Every column but created_at ($27, not bound here). */
static const char update_sql[] =
    "UPDATE pms_connections SET account_id = $2::uuid, pms_type = $3::text, "
    "display_name = $4::text, practice_name = $5::text, tenant_id = $6::text, "
    "practice_id = $7::text, organization_id = $8::text, base_url = $9::text, "
    "timezone = $10::text, settings = $11::jsonb, secrets = $12::text, access_token = $13::text, "
    "refresh_token = $14::text, token_expires_at = $15::timestamptz, "
    "sync_enabled = $16::boolean, sync_frequency_minutes = $17::integer, "
    "sync_telehealth_only = $18::boolean, unmapped_practitioners = $19::text, "
    "last_sync_at = $20::timestamptz, last_sync_status = $21::text, last_sync_error = $22::text, "
    "paired_at = $23::timestamptz, updated_at = $24::timestamptz, secret_keys = $25::jsonb, "
    "setup_step = $26::text WHERE id = $1::uuid";
static const char get_sql[] =
    "SELECT " CONNECTION_COLUMNS " FROM pms_connections WHERE id = $1::uuid";
/* Inside a transaction the row is read to be written back: PostgreSQL locks it until the end
 * (SQLite's writer is alone already). */
static const char get_locked_sql[] =
    "SELECT " CONNECTION_COLUMNS " FROM pms_connections WHERE id = $1::uuid FOR UPDATE";
static const char list_sql[] = "SELECT " CONNECTION_COLUMNS " FROM pms_connections "
                               "WHERE $1::uuid IS NULL OR account_id = $1::uuid "
                               "ORDER BY created_at, id";
static const char delete_sql[] = "DELETE FROM pms_connections WHERE id = $1::uuid";
static const char sync_result_sql[] =
    "UPDATE pms_connections SET last_sync_at = $2::timestamptz, last_sync_status = $3::text, "
    "last_sync_error = $4::text, updated_at = $5::timestamptz WHERE id = $1::uuid";
static const char set_sealed_sql[] =
    "UPDATE pms_connections SET secrets = $2::text, access_token = $3::text, "
    "refresh_token = $4::text WHERE id = $1::uuid";
static const char token_sql[] =
    "UPDATE pms_connections SET access_token = $2::text, refresh_token = $3::text, "
    "token_expires_at = $4::timestamptz WHERE id = $1::uuid";

int sql_account_timezone(pms_store *st, const char *account_id, char **tz, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    *tz = NULL;
    return sql_one(SQL_DB(st), account_tz_sql, &a, sql_read_string, tz, "no such account",
                   "reading an account", err);
}

int sql_account_set_timezone(pms_store *st, const char *account_id, const char *tz, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    sql_arg_text(&a, 2, tz);
    return sql_exec(SQL_DB(st), account_set_tz_sql, &a, NULL, "updating an account", err);
}

static void connection_args(sql_args *a, const pms_connection *c, pms_instant now)
{
    sql_arg_text(a, 1, c->id);
    sql_arg_text(a, 2, c->account_id ? c->account_id : PMS_DEFAULT_ACCOUNT_ID);
    sql_arg_text(a, 3, c->pms_type);
    sql_arg_text(a, 4, c->display_name);
    sql_arg_text(a, 5, c->practice_name);
    sql_arg_text(a, 6, c->tenant_id);
    sql_arg_text(a, 7, c->practice_id);
    sql_arg_text(a, 8, c->organization_id);
    sql_arg_text(a, 9, c->base_url);
    sql_arg_text(a, 10, c->timezone ? c->timezone : "Australia/Sydney");
    if (c->settings)
        sql_arg_json(a, 11, c->settings);
    else
        sql_arg_text(a, 11, "{}");
    sql_arg_text(a, 12, c->secrets_sealed);
    sql_arg_text(a, 13, c->access_token_sealed);
    sql_arg_text(a, 14, c->refresh_token_sealed);
    sql_arg_instant(a, 15, c->token_expires_at);
    sql_arg_bool(a, 16, c->sync_enabled);
    sql_arg_int(a, 17, c->sync_frequency_minutes > 0 ? c->sync_frequency_minutes : 15);
    sql_arg_bool(a, 18, c->sync_telehealth_only);
    sql_arg_text(a, 19, c->skip_unmapped ? "skip" : "create");
    sql_arg_instant(a, 20, c->last_sync_at);
    sql_arg_text(a, 21, c->last_sync_status);
    sql_arg_text(a, 22, c->last_sync_error);
    sql_arg_instant(a, 23, c->paired_at);
    sql_arg_instant(a, 24, now);
    sql_arg_json(a, 25, c->secret_keys);
    sql_arg_text(a, 26, c->setup_step);
    sql_arg_instant(a, 27,
                    c->created_at != PMS_INSTANT_NONE && c->created_at ? c->created_at : now);
}

static int read_connection(const sql_row *row, void *item, pms_error *err)
{
    pms_connection *c = item;
    bool oom = false;
    memset(c, 0, sizeof *c);
    c->id = sql_strdup(row, 0, &oom);
    c->account_id = sql_strdup(row, 1, &oom);
    c->pms_type = sql_strdup(row, 2, &oom);
    c->display_name = sql_strdup(row, 3, &oom);
    c->practice_name = sql_strdup(row, 4, &oom);
    c->tenant_id = sql_strdup(row, 5, &oom);
    c->practice_id = sql_strdup(row, 6, &oom);
    c->organization_id = sql_strdup(row, 7, &oom);
    c->base_url = sql_strdup(row, 8, &oom);
    c->timezone = sql_strdup(row, 9, &oom);
    c->settings = sql_json(row, 10);
    if (!json_is_object(c->settings)) {
        json_decref(c->settings);
        c->settings = json_object();
    }
    c->secrets_sealed = sql_strdup(row, 11, &oom);
    c->access_token_sealed = sql_strdup(row, 12, &oom);
    c->refresh_token_sealed = sql_strdup(row, 13, &oom);
    c->token_expires_at = sql_instant(row, 14);
    c->sync_enabled = sql_bool(row, 15);
    c->sync_frequency_minutes = (int)sql_int(row, 16);
    c->sync_telehealth_only = sql_bool(row, 17);
    const char *unmapped = sql_text(row, 18);
    c->skip_unmapped = unmapped && strcmp(unmapped, "skip") == 0;
    c->last_sync_at = sql_instant(row, 19);
    c->last_sync_status = sql_strdup(row, 20, &oom);
    c->last_sync_error = sql_strdup(row, 21, &oom);
    c->paired_at = sql_instant(row, 22);
    c->updated_at = sql_instant(row, 23);
    c->secret_keys = sql_json(row, 24);
    if (c->secret_keys && !json_is_array(c->secret_keys)) {
        json_decref(c->secret_keys);
        c->secret_keys = NULL;
    }
    c->setup_step = sql_strdup(row, 25, &oom);
    c->created_at = sql_instant(row, 26);
    if (oom || c->settings == NULL) {
        pms_connection_clear(c);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

/* Runs a write of one connection by id: PMS_ERR_NOT_FOUND when no row matched. */
static int write_one(pms_store *st, const char *sql, const sql_args *a, const char *id,
                     const char *doing, pms_error *err)
{
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), sql, a, &changed, doing, err);
    if (rc == PMS_OK && changed == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no connection with id %.64s", id);
    return rc;
}

int sql_connection_insert(pms_store *st, const pms_connection *c, pms_error *err)
{
    sql_args a = {0};
    connection_args(&a, c, pms_now());
    long added = 0;
    int rc = sql_exec(SQL_DB(st), insert_sql, &a, &added, "adding a connection", err);
    if (rc == PMS_OK && added == 0)
        return pms_error_set(err, PMS_ERR_CONFLICT, "a connection with id %.64s exists", c->id);
    return rc;
}

int sql_connection_update(pms_store *st, const pms_connection *c, pms_error *err)
{
    sql_args a = {0};
    connection_args(&a, c, pms_now());
    return write_one(st, update_sql, &a, c->id, "updating a connection", err);
}

int sql_connection_get(pms_store *st, const char *id, pms_connection *out, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    char not_found[96];
    snprintf(not_found, sizeof not_found, "no connection with id %.64s", id);
    const char *sql = db->tx_depth > 0 ? SQL_PICK(db, get_sql, get_locked_sql) : get_sql;
    return sql_one(db, sql, &a, read_connection, out, not_found, "reading a connection", err);
}

int sql_connection_list(pms_store *st, const char *account_id, pms_connection_list *out,
                        pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    int rc = sql_collect(SQL_DB(st), list_sql, &a, sizeof *out->items, (void **)&out->items,
                         &out->count, read_connection, "listing connections", err);
    if (rc != PMS_OK)
        pms_connection_list_clear(out);
    return rc;
}

int sql_connection_delete(pms_store *st, const char *id, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    return write_one(st, delete_sql, &a, id, "removing a connection", err);
}

int sql_connection_set_sync_result(pms_store *st, const char *id, pms_instant at,
                                   const char *status, const char *error, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_instant(&a, 2, at);
    sql_arg_text(&a, 3, status);
    sql_arg_text(&a, 4, error);
    sql_arg_instant(&a, 5, pms_now());
    return sql_exec(SQL_DB(st), sync_result_sql, &a, NULL, "recording a sync result", err);
}

int sql_connection_set_token(pms_store *st, const char *id, const char *access_sealed,
                             const char *refresh_sealed, pms_instant expires_at, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_text(&a, 2, access_sealed);
    sql_arg_text(&a, 3, refresh_sealed);
    sql_arg_instant(&a, 4, expires_at);
    return sql_exec(SQL_DB(st), token_sql, &a, NULL, "saving a token", err);
}

int sql_connection_set_sealed(pms_store *st, const char *id, const char *secrets_sealed,
                              const char *access_sealed, const char *refresh_sealed, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_text(&a, 2, secrets_sealed);
    sql_arg_text(&a, 3, access_sealed);
    sql_arg_text(&a, 4, refresh_sealed);
    return write_one(st, set_sealed_sql, &a, id, "re-encrypting a connection's secrets", err);
}
