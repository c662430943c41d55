/* Idempotent writes (the write_requests table) and an account's voice settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql/sql.h"

#define WRITE_COLUMNS                                                                              \
    "account_id, idem_key, request_hash, operation, connection_id, state, http_status, "           \
    "response, tracking_id, entry_id, attempts, next_check_at, created_at, updated_at"

static const char write_claim_sql[] =
    "INSERT INTO write_requests (" WRITE_COLUMNS ") VALUES ($1::uuid, $2::text, $3::text, "
    "$4::text, $5::uuid, 'in_progress', 0, NULL, NULL, NULL, 0, NULL, $6::timestamptz, "
    "$6::timestamptz) ON CONFLICT DO NOTHING";
static const char write_update_sql[] =
    "UPDATE write_requests SET state = $3::text, http_status = $4::integer, response = $5::jsonb, "
    "tracking_id = $6::text, entry_id = $7::text, attempts = $8::integer, "
    "next_check_at = $9::timestamptz, updated_at = $10::timestamptz "
    "WHERE account_id = $1::uuid AND idem_key = $2::text";
static const char write_get_sql[] = "SELECT " WRITE_COLUMNS " FROM write_requests "
                                    "WHERE account_id = $1::uuid AND idem_key = $2::text";
static const char write_due_sql[] =
    "SELECT " WRITE_COLUMNS " FROM write_requests WHERE state = 'pending' AND "
    "next_check_at <= $1::timestamptz ORDER BY next_check_at LIMIT $2::integer";

static const char write_release_sql[] =
    "DELETE FROM write_requests WHERE account_id = $1::uuid AND idem_key = $2::text AND "
    "state = 'in_progress'";
static const char voice_list_sql[] =
    "SELECT account_id, connection_id, bearer_secret, hmac_secret, phone_number_id, updated_at "
    "FROM voice_settings ORDER BY account_id";
static const char replay_prune_sql[] =
    "DELETE FROM voice_replays WHERE expires_at < $1::timestamptz";
static const char replay_claim_sql[] =
    "INSERT INTO voice_replays (signature, account_id, expires_at) VALUES ($1::text, $2::uuid, "
    "$3::timestamptz) ON CONFLICT DO NOTHING";
static const char voice_get_sql[] =
    "SELECT account_id, connection_id, bearer_secret, hmac_secret, phone_number_id, updated_at "
    "FROM voice_settings WHERE account_id = $1::uuid";
static const char voice_put_sql[] =
    "INSERT INTO voice_settings (account_id, connection_id, bearer_secret, hmac_secret, "
    "phone_number_id, updated_at) VALUES ($1::uuid, $2::uuid, $3::text, $4::text, $5::text, "
    "$6::timestamptz) ON CONFLICT (account_id) DO UPDATE SET connection_id = $2::uuid, "
    "bearer_secret = $3::text, hmac_secret = $4::text, phone_number_id = $5::text, "
    "updated_at = $6::timestamptz";

static int read_write(const sql_row *row, void *item, pms_error *err)
{
    pms_write_record *r = item;
    bool oom = false;
    r->account_id = sql_strdup(row, 0, &oom);
    r->idem_key = sql_strdup(row, 1, &oom);
    r->request_hash = sql_strdup(row, 2, &oom);
    r->operation = sql_strdup(row, 3, &oom);
    r->connection_id = sql_strdup(row, 4, &oom);
    r->state = sql_strdup(row, 5, &oom);
    r->http_status = (int)sql_int(row, 6);
    r->response = sql_json(row, 7);
    r->tracking_id = sql_strdup(row, 8, &oom);
    r->entry_id = sql_strdup(row, 9, &oom);
    r->attempts = (int)sql_int(row, 10);
    r->next_check_at = sql_instant(row, 11);
    r->created_at = sql_instant(row, 12);
    r->updated_at = sql_instant(row, 13);
    if (oom) {
        pms_write_record_clear(r);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_write_claim(pms_store *st, const pms_write_record *r, bool *claimed,
                    pms_write_record *existing, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, r->account_id);
    sql_arg_text(&a, 2, r->idem_key);
    sql_arg_text(&a, 3, r->request_hash);
    sql_arg_text(&a, 4, r->operation);
    sql_arg_text(&a, 5, r->connection_id);
    sql_arg_instant(&a, 6, r->created_at);
    long changed = 0;
    *claimed = false;
    int rc = sql_exec(SQL_DB(st), write_claim_sql, &a, &changed, "recording a write", err);
    if (rc != PMS_OK)
        return rc;
    *claimed = changed > 0;
    if (*claimed || existing == NULL)
        return PMS_OK;
    return sql_write_get(st, r->account_id, r->idem_key, existing, err);
}

int sql_write_update(pms_store *st, const pms_write_record *r, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, r->account_id);
    sql_arg_text(&a, 2, r->idem_key);
    sql_arg_text(&a, 3, r->state);
    sql_arg_int(&a, 4, r->http_status);
    sql_arg_json(&a, 5, r->response);
    sql_arg_text(&a, 6, r->tracking_id);
    sql_arg_text(&a, 7, r->entry_id);
    sql_arg_int(&a, 8, r->attempts);
    sql_arg_instant(&a, 9, r->next_check_at);
    sql_arg_instant(&a, 10, r->updated_at);
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), write_update_sql, &a, &changed, "updating a write", err);
    if (rc == PMS_OK && changed == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such write");
    return rc;
}

int sql_write_get(pms_store *st, const char *account_id, const char *idem_key,
                  pms_write_record *out, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    sql_arg_text(&a, 2, idem_key);
    return sql_one(SQL_DB(st), write_get_sql, &a, read_write, out, "no such write",
                   "reading a write", err);
}

int sql_write_due(pms_store *st, pms_instant now, int limit, pms_write_record_array *out,
                  pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_instant(&a, 1, now);
    sql_arg_int(&a, 2, limit);
    return sql_collect(SQL_DB(st), write_due_sql, &a, sizeof *out->items, (void **)&out->items,
                       &out->count, read_write, "listing pending writes", err);
}

static int read_voice(const sql_row *row, void *item, pms_error *err)
{
    pms_voice_settings *v = item;
    bool oom = false;
    v->account_id = sql_strdup(row, 0, &oom);
    v->connection_id = sql_strdup(row, 1, &oom);
    v->bearer_sealed = sql_strdup(row, 2, &oom);
    v->hmac_sealed = sql_strdup(row, 3, &oom);
    v->phone_number_id = sql_strdup(row, 4, &oom);
    v->updated_at = sql_instant(row, 5);
    if (oom) {
        pms_voice_settings_clear(v);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_voice_settings_get(pms_store *st, const char *account_id, pms_voice_settings *out,
                           pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    return sql_one(SQL_DB(st), voice_get_sql, &a, read_voice, out, "no voice settings",
                   "reading voice settings", err);
}

int sql_voice_settings_put(pms_store *st, const pms_voice_settings *v, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, v->account_id);
    sql_arg_text(&a, 2, v->connection_id);
    sql_arg_text(&a, 3, v->bearer_sealed);
    sql_arg_text(&a, 4, v->hmac_sealed);
    sql_arg_text(&a, 5, v->phone_number_id);
    sql_arg_instant(&a, 6, v->updated_at);
    return sql_exec(SQL_DB(st), voice_put_sql, &a, NULL, "saving voice settings", err);
}

int sql_write_release(pms_store *st, const char *account_id, const char *idem_key, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    sql_arg_text(&a, 2, idem_key);
    return sql_exec(SQL_DB(st), write_release_sql, &a, NULL, "letting a write go", err);
}

int sql_voice_settings_list(pms_store *st, pms_voice_settings_array *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    return sql_collect(SQL_DB(st), voice_list_sql, &a, sizeof *out->items, (void **)&out->items,
                       &out->count, read_voice, "listing voice settings", err);
}

int sql_voice_replay_claim(pms_store *st, const char *account_id, const char *signature,
                           pms_instant now, pms_instant expires_at, bool *fresh, pms_error *err)
{
    *fresh = false;
    sql_args prune = {0};
    sql_arg_instant(&prune, 1, now);
    int rc = sql_exec(SQL_DB(st), replay_prune_sql, &prune, NULL, "pruning the replay cache", err);
    if (rc != PMS_OK)
        return rc;
    sql_args a = {0};
    sql_arg_text(&a, 1, signature);
    sql_arg_text(&a, 2, account_id);
    sql_arg_instant(&a, 3, expires_at);
    long changed = 0;
    rc = sql_exec(SQL_DB(st), replay_claim_sql, &a, &changed, "recording a signature", err);
    if (rc == PMS_OK)
        *fresh = changed > 0;
    return rc;
}
