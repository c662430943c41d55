/* Accounts and API keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql/sql.h"

#define API_KEY_COLUMNS                                                                            \
    "id, account_id, name, role, prefix, key_hash, created_at, last_used_at, revoked_at"

static const char account_insert_sql[] =
    "INSERT INTO accounts (id, name, timezone, created_at) "
    "VALUES ($1::uuid, $2::text, $3::text, $4::timestamptz) ON CONFLICT DO NOTHING";
static const char account_get_sql[] =
    "SELECT id, name, timezone, created_at FROM accounts WHERE id = $1::uuid";
/* Oldest first; rows made in the same millisecond in the order they were made (SQLite) or by
 * id (PostgreSQL keeps no insertion order). */
static const char account_list_sqlite[] =
    "SELECT id, name, timezone, created_at FROM accounts ORDER BY created_at, rowid";
static const char account_list_pg[] =
    "SELECT id, name, timezone, created_at FROM accounts ORDER BY created_at, id";

static const char key_insert_sql[] =
    "INSERT INTO api_keys (" API_KEY_COLUMNS ") VALUES ($1::uuid, $2::uuid, $3::text, $4::text, "
    "$5::text, $6::text, $7::timestamptz, $8::timestamptz, $9::timestamptz) "
    "ON CONFLICT DO NOTHING";
static const char key_by_prefix_sql[] =
    "SELECT " API_KEY_COLUMNS " FROM api_keys WHERE prefix = $1::text";
#define KEY_LIST(TIEBREAK)                                                                         \
    "SELECT " API_KEY_COLUMNS " FROM api_keys WHERE $1::uuid IS NULL OR account_id = $1::uuid "    \
    "ORDER BY created_at, " TIEBREAK
static const char key_list_sqlite[] = KEY_LIST("rowid");
static const char key_list_pg[] = KEY_LIST("id");
static const char key_revoke_sql[] =
    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3::timestamptz) "
    "WHERE id = $1::uuid AND ($2::uuid IS NULL OR account_id = $2::uuid)";
static const char key_touch_sql[] =
    "UPDATE api_keys SET last_used_at = $2::timestamptz "
    "WHERE id = $1::uuid AND (last_used_at IS NULL OR last_used_at <= $3::timestamptz)";

/* ---- accounts ------------------------------------------------------------------------ */

static int read_account(const sql_row *row, void *item, pms_error *err)
{
    pms_account *a = item;
    bool oom = false;
    a->id = sql_strdup(row, 0, &oom);
    a->name = sql_strdup(row, 1, &oom);
    a->timezone = sql_strdup(row, 2, &oom);
    a->created_at = sql_instant(row, 3);
    if (oom) {
        pms_account_clear(a);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_account_insert(pms_store *st, const pms_account *a, pms_error *err)
{
    sql_args s = {0};
    sql_arg_text(&s, 1, a->id);
    sql_arg_text(&s, 2, a->name);
    sql_arg_text(&s, 3, a->timezone);
    sql_arg_instant(&s, 4, a->created_at != PMS_INSTANT_NONE ? a->created_at : pms_now());
    long added = 0;
    int rc = sql_exec(SQL_DB(st), account_insert_sql, &s, &added, "adding an account", err);
    if (rc == PMS_OK && added == 0)
        return pms_error_set(err, PMS_ERR_CONFLICT, "an account with id %.64s exists", a->id);
    return rc;
}

int sql_account_get(pms_store *st, const char *id, pms_account *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    char not_found[96];
    snprintf(not_found, sizeof not_found, "no account with id %.64s", id);
    return sql_one(SQL_DB(st), account_get_sql, &a, read_account, out, not_found,
                   "reading an account", err);
}

int sql_account_list(pms_store *st, pms_account_array *out, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    memset(out, 0, sizeof *out);
    int rc = sql_collect(db, SQL_PICK(db, account_list_sqlite, account_list_pg), NULL,
                         sizeof *out->items, (void **)&out->items, &out->count, read_account,
                         "listing accounts", err);
    if (rc != PMS_OK)
        pms_account_array_clear(out);
    return rc;
}

/* ---- API keys ------------------------------------------------------------------------ */

static int read_api_key(const sql_row *row, void *item, pms_error *err)
{
    pms_api_key *k = item;
    bool oom = false;
    k->id = sql_strdup(row, 0, &oom);
    k->account_id = sql_strdup(row, 1, &oom);
    k->name = sql_strdup(row, 2, &oom);
    k->role = sql_role(row, 3);
    sql_copy_text(row, 4, k->prefix, sizeof k->prefix);
    sql_copy_text(row, 5, k->key_hash, sizeof k->key_hash);
    k->created_at = sql_instant(row, 6);
    k->last_used_at = sql_instant(row, 7);
    k->revoked_at = sql_instant(row, 8);
    if (oom) {
        pms_api_key_clear(k);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_api_key_insert(pms_store *st, const pms_api_key *k, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    int rc = sql_account_exists(db, k->account_id, err);
    if (rc != PMS_OK)
        return rc;
    sql_args a = {0};
    sql_arg_text(&a, 1, k->id);
    sql_arg_text(&a, 2, k->account_id);
    sql_arg_text(&a, 3, k->name);
    sql_arg_text(&a, 4, pms_role_name(k->role));
    sql_arg_text(&a, 5, k->prefix);
    sql_arg_text(&a, 6, k->key_hash);
    sql_arg_instant(&a, 7, k->created_at != PMS_INSTANT_NONE ? k->created_at : pms_now());
    sql_arg_instant(&a, 8, k->last_used_at);
    sql_arg_instant(&a, 9, k->revoked_at);
    long added = 0;
    rc = sql_exec(db, key_insert_sql, &a, &added, "adding an API key", err);
    if (rc == PMS_OK && added == 0)
        return pms_error_set(err, PMS_ERR_CONFLICT, "an API key with that prefix or id exists");
    return rc;
}

int sql_api_key_find_by_prefix(pms_store *st, const char *prefix, pms_api_key *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, prefix);
    return sql_one(SQL_DB(st), key_by_prefix_sql, &a, read_api_key, out,
                   "no API key with that prefix", "reading an API key", err);
}

int sql_api_key_list(pms_store *st, const char *account_id, pms_api_key_array *out, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    int rc = sql_collect(db, SQL_PICK(db, key_list_sqlite, key_list_pg), &a, sizeof *out->items,
                         (void **)&out->items, &out->count, read_api_key, "listing API keys", err);
    if (rc != PMS_OK)
        pms_api_key_array_clear(out);
    return rc;
}

int sql_api_key_revoke(pms_store *st, const char *account_id, const char *id, pms_instant at,
                       pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_text(&a, 2, account_id);
    sql_arg_instant(&a, 3, at);
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), key_revoke_sql, &a, &changed, "revoking an API key", err);
    if (rc == PMS_OK && changed == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no API key with id %.64s", id);
    return rc;
}

int sql_api_key_touch(pms_store *st, const char *id, pms_instant at, pms_instant min_interval_ms,
                      pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_instant(&a, 2, at);
    sql_arg_instant(&a, 3, at - min_interval_ms);
    return sql_exec(SQL_DB(st), key_touch_sql, &a, NULL, "recording an API key's use", err);
}
