/* The SQL store: the store's operations written once over a small database interface that each
 * SQL backend (SQLite, PostgreSQL) implements — run a statement with arguments, read its rows,
 * run a script. Internal to src/store/.
 *
 * Statements are static text in PostgreSQL's placeholder form, every placeholder with a cast at
 * each use ("WHERE id = $1::uuid AND at < $2::timestamptz"): PostgreSQL prepares the text as it
 * is, SQLite reads "$1::uuid" as "?1". Where the dialects really differ, SQL_PICK chooses. */
#ifndef PMSYNC_STORE_SQL_H
#define PMSYNC_STORE_SQL_H

#include <stdbool.h>

#include "pmsync/store.h"

typedef enum sql_dialect {
    SQL_SQLITE = 0,
    SQL_POSTGRES,
} sql_dialect;

/* ---- arguments: the values of $1..$n --------------------------------------------------- */

typedef enum sql_kind {
    SQL_NULL = 0,
    SQL_TEXT,    /* text: borrowed, lives until the statement has run */
    SQL_INT,     /* num */
    SQL_BOOL,    /* num: 0 or 1 */
    SQL_INSTANT, /* num: UTC milliseconds (SQLite INTEGER, PostgreSQL timestamptz) */
    SQL_DATE,    /* date (SQLite TEXT "YYYY-MM-DD", PostgreSQL date) */
    SQL_JSON,    /* json: borrowed (SQLite TEXT, PostgreSQL jsonb) */
} sql_kind;

typedef struct sql_value {
    sql_kind kind;
    const char *text;
    long long num;
    pms_date date;
    const json_t *json;
} sql_value;

#define SQL_MAX_ARGS 48

typedef struct sql_args {
    int count; /* the highest index set */
    sql_value v[SQL_MAX_ARGS];
} sql_args;

/* Sets $i (1-based). A NULL text or JSON, PMS_INSTANT_NONE and an invalid date are SQL NULL. */
void sql_arg_text(sql_args *a, int i, const char *v);
void sql_arg_int(sql_args *a, int i, long long v);
void sql_arg_bool(sql_args *a, int i, bool v);
void sql_arg_instant(sql_args *a, int i, pms_instant v);
void sql_arg_date(sql_args *a, int i, pms_date d);
void sql_arg_json(sql_args *a, int i, const json_t *v);
void sql_arg_null(sql_args *a, int i);

/* ---- rows ------------------------------------------------------------------------------ */

typedef struct sql_row sql_row;

typedef struct sql_row_ops {
    bool (*is_null)(const sql_row *r, int col);
    const char *(*text)(const sql_row *r, int col); /* borrowed until the next row; NULL: NULL */
    long long (*integer)(const sql_row *r, int col);
    bool (*boolean)(const sql_row *r, int col);
    pms_instant (*instant)(const sql_row *r, int col); /* NULL: PMS_INSTANT_NONE */
} sql_row_ops;

/* One result row; col is 0-based. */
struct sql_row {
    const sql_row_ops *ops;
    void *source;
    int index;
};

static inline bool sql_is_null(const sql_row *r, int col)
{
    return r->ops->is_null(r, col);
}
static inline const char *sql_text(const sql_row *r, int col)
{
    return r->ops->text(r, col);
}
static inline long long sql_int(const sql_row *r, int col)
{
    return r->ops->integer(r, col);
}
static inline bool sql_bool(const sql_row *r, int col)
{
    return r->ops->boolean(r, col);
}
static inline pms_instant sql_instant(const sql_row *r, int col)
{
    return r->ops->instant(r, col);
}
/* A copy of a text column (NULL for NULL); *oom set when the copy failed. */
char *sql_strdup(const sql_row *r, int col, bool *oom);
/* A text column into a fixed buffer ("" for NULL). */
void sql_copy_text(const sql_row *r, int col, char *dst, size_t len);
/* "YYYY-MM-DD" (a zero date for NULL or anything else). */
pms_date sql_date(const sql_row *r, int col);
/* A JSON column parsed (NULL for NULL or unreadable JSON): a new reference. */
json_t *sql_json(const sql_row *r, int col);
pms_role sql_role(const sql_row *r, int col);

/* ---- the database interface ------------------------------------------------------------- */

typedef struct sql_db sql_db;

/* Called for each result row; a non-zero return stops the statement and is returned. */
typedef int (*sql_row_fn)(void *ctx, const sql_row *row, pms_error *err);

typedef struct sql_db_ops {
    /* Runs a static statement (prepared once per handle: its address is its identity) with
     * args (NULL: none), calling fn (may be NULL) for each row; *changes (may be NULL) gets the
     * number of rows the statement wrote. Rows may be read before fn sees the first, so fn may
     * use the store. */
    int (*run)(sql_db *db, const char *sql, const sql_args *args, sql_row_fn fn, void *ctx,
               long *changes, const char *doing, pms_error *err);
    /* Runs text made at run time (the copy's statements): the same as run, but the text is
     * prepared for this call only and may be freed as soon as it returns. */
    int (*run_text)(sql_db *db, const char *sql, const sql_args *args, sql_row_fn fn, void *ctx,
                    long *changes, const char *doing, pms_error *err);
    /* Runs text of one or more statements without arguments (migrations). */
    int (*script)(sql_db *db, const char *sql, const char *doing, pms_error *err);
    /* Starts a read-only transaction whose reads all see one snapshot without blocking
     * writers; ended by the store's rollback. */
    int (*begin_snapshot)(sql_db *db, pms_error *err);
} sql_db_ops;

/* The start of every SQL backend's handle. */
struct sql_db {
    pms_store base;
    const sql_db_ops *db;
    sql_dialect dialect;
    int tx_depth; /* 1 inside begin .. commit/rollback */
};

static inline sql_db *SQL_DB(pms_store *st)
{
    return (sql_db *)st;
}

#define SQL_PICK(db, sqlite_text, postgres_text)                                                   \
    ((db)->dialect == SQL_POSTGRES ? (postgres_text) : (sqlite_text))

/* Reads one row into *item (zeroed beforehand); on failure leaves nothing to free. */
typedef int (*sql_reader)(const sql_row *row, void *item, pms_error *err);

int sql_exec(sql_db *db, const char *sql, const sql_args *args, long *changes, const char *doing,
             pms_error *err);
/* The first row read into *item (zeroed beforehand); PMS_ERR_NOT_FOUND with the message
 * not_found when there is none. */
int sql_one(sql_db *db, const char *sql, const sql_args *args, sql_reader read, void *item,
            const char *not_found, const char *doing, pms_error *err);
/* Every row appended to *items (*count of item_size bytes). On failure the items read so far
 * stay for the caller's list clear. */
int sql_collect(sql_db *db, const char *sql, const sql_args *args, size_t item_size, void **items,
                size_t *count, sql_reader read, const char *doing, pms_error *err);
/* A reader of a row's first column as a new string (char ** item; NULL for NULL). */
int sql_read_string(const sql_row *row, void *item, pms_error *err);
/* The first column of the first row as an integer (0 when no row). */
int sql_count(sql_db *db, const char *sql, const sql_args *args, long long *out, const char *doing,
              pms_error *err);

/* PMS_OK when the account exists, PMS_ERR_NOT_FOUND when it does not. */
int sql_account_exists(sql_db *db, const char *account_id, pms_error *err);

/* ---- migrations ------------------------------------------------------------------------ */

/* Both backends' schemas have the same versions: version N means the same tables and columns
 * in SQLite and in PostgreSQL (what pms_store_copy relies on). */
#define SQL_SCHEMA_VERSION 9

typedef struct sql_migration {
    int version;
    const char *name;
    const char *sql;
} sql_migration;

/* Applies the pending migrations in order, each in its own transaction recorded in
 * schema_migrations. lock_sql (may be NULL) runs first in each transaction so that processes
 * migrating at once take turns (SQLite's BEGIN IMMEDIATE already does). */
int sql_migrate(sql_db *db, const sql_migration *list, int count, const char *lock_sql,
                pms_error *err);
int sql_schema_version(pms_store *st, int *version, pms_error *err);

/* ---- the operations every SQL backend shares ---------------------------------------------- */

int sql_account_timezone(pms_store *st, const char *account_id, char **tz, pms_error *err);
int sql_account_set_timezone(pms_store *st, const char *account_id, const char *tz, pms_error *err);
int sql_connection_insert(pms_store *st, const pms_connection *c, pms_error *err);
int sql_connection_get(pms_store *st, const char *id, pms_connection *out, pms_error *err);
int sql_connection_list(pms_store *st, const char *account_id, pms_connection_list *out,
                        pms_error *err);
int sql_connection_update(pms_store *st, const pms_connection *c, pms_error *err);
int sql_connection_delete(pms_store *st, const char *id, pms_error *err);
int sql_connection_set_sync_result(pms_store *st, const char *id, pms_instant at,
                                   const char *status, const char *error, pms_error *err);
int sql_connection_set_token(pms_store *st, const char *id, const char *access_sealed,
                             const char *refresh_sealed, pms_instant expires_at, pms_error *err);
int sql_connection_set_sealed(pms_store *st, const char *id, const char *secrets_sealed,
                              const char *access_sealed, const char *refresh_sealed,
                              pms_error *err);

int sql_clinician_insert(pms_store *st, pms_clinician *c, pms_error *err);
int sql_clinician_get(pms_store *st, const char *id, pms_clinician *out, pms_error *err);
int sql_clinician_list(pms_store *st, const char *account_id, pms_clinician_list *out,
                       pms_error *err);
int sql_mapping_list(pms_store *st, const char *connection_id, pms_mapping_list *out,
                     pms_error *err);
int sql_mapping_upsert(pms_store *st, pms_mapping *m, pms_error *err);
int sql_type_list(pms_store *st, const char *connection_id, pms_stored_type_list *out,
                  pms_error *err);
int sql_type_upsert_from_pms(pms_store *st, const char *connection_id, const pms_appt_type *t,
                             pms_error *err);
int sql_type_set_flags(pms_store *st, const char *connection_id, const char *pms_type_id,
                       int is_telehealth, int sync_enabled, pms_error *err);

int sql_run_sheet_ensure(pms_store *st, const char *account_id, pms_date day, const char *timezone,
                         char **id, pms_error *err);
int sql_run_sheet_version(pms_store *st, const char *account_id, pms_date day,
                          char out[PMS_STORE_VERSION_LEN], pms_error *err);
int sql_entry_find_pms(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                       pms_sheet_entry *out, pms_error *err);
int sql_entry_state_pms(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                        pms_entry_state *out, pms_error *err);
int sql_entry_get(pms_store *st, const char *id, pms_sheet_entry *out, pms_error *err);
int sql_entry_find_ocr_match(pms_store *st, const char *run_sheet_id, const char *clinician_id,
                             pms_instant start, const char *patient_key, char **id, pms_error *err);
int sql_entry_insert(pms_store *st, pms_sheet_entry *e, pms_error *err);
int sql_entry_update_source(pms_store *st, const pms_sheet_entry *e, pms_error *err);
int sql_entry_update_edits(pms_store *st, const pms_sheet_entry *e, pms_error *err);
int sql_entry_mark_removed(pms_store *st, const char *id, pms_instant at, pms_error *err);
int sql_entry_each_active_pms(pms_store *st, const char *connection_id, pms_instant from,
                              pms_instant to,
                              int (*fn)(void *ctx, const char *id, const char *pms_id), void *ctx,
                              pms_error *err);
int sql_entry_list(pms_store *st, const pms_sheet_query *q, pms_sheet_entry_list *out,
                   pms_error *err);

int sql_sync_log_start(pms_store *st, pms_sync_log_entry *e, pms_error *err);
int sql_sync_log_finish(pms_store *st, const pms_sync_log_entry *e, pms_error *err);
int sql_sync_log_list(pms_store *st, const char *connection_id, int limit, pms_sync_log_list *out,
                      pms_error *err);
int sql_sync_log_fail_running(pms_store *st, const char *connection_id, const char *reason,
                              int *count, pms_error *err);

int sql_account_insert(pms_store *st, const pms_account *a, pms_error *err);
int sql_account_get(pms_store *st, const char *id, pms_account *out, pms_error *err);
int sql_account_list(pms_store *st, pms_account_array *out, pms_error *err);
int sql_api_key_insert(pms_store *st, const pms_api_key *k, pms_error *err);
int sql_api_key_find_by_prefix(pms_store *st, const char *prefix, pms_api_key *out, pms_error *err);
int sql_api_key_list(pms_store *st, const char *account_id, pms_api_key_array *out, pms_error *err);
int sql_api_key_revoke(pms_store *st, const char *account_id, const char *id, pms_instant at,
                       pms_error *err);
int sql_api_key_touch(pms_store *st, const char *id, pms_instant at, pms_instant min_interval_ms,
                      pms_error *err);

int sql_audit_head_get(pms_store *st, pms_audit_head *out, pms_error *err);
int sql_audit_insert(pms_store *st, const pms_audit_record *r, pms_error *err);
int sql_audit_head_set(pms_store *st, const pms_audit_head *h, pms_error *err);
int sql_audit_walk(pms_store *st, pms_instant from, pms_instant to, pms_audit_head *head,
                   int (*fn)(void *ctx, const pms_audit_record *r), void *ctx, pms_error *err);
int sql_audit_count_key(pms_store *st, const char *key_id, long long *count, pms_error *err);

int sql_user_insert(pms_store *st, const pms_user *u, pms_error *err);
int sql_user_get(pms_store *st, const char *id, const char *username, pms_user *out,
                 pms_error *err);
int sql_user_list(pms_store *st, const char *account_id, pms_user_array *out, pms_error *err);
int sql_user_disable(pms_store *st, const char *id, pms_instant at, pms_error *err);
int sql_user_set_password(pms_store *st, const char *id, const char *password_hash, pms_error *err);
int sql_web_session_insert(pms_store *st, const pms_web_session *ws, pms_error *err);
int sql_web_session_find(pms_store *st, const char *id, pms_web_session *out, pms_error *err);
int sql_web_session_touch(pms_store *st, const char *id, pms_instant at,
                          pms_instant min_interval_ms, pms_error *err);
int sql_web_session_revoke(pms_store *st, const char *id, pms_instant at, pms_error *err);
int sql_web_session_delete_expired(pms_store *st, pms_instant before, int *count, pms_error *err);

/* A claimed connection's row: id, account_id, pms_type, sync_failures, sync_frequency_minutes,
 * requested (boolean), request_window, then from column 7 the lease token when with_token. */
int sql_read_lease(const sql_row *row, pms_lease *l, bool with_token);
int sql_lease_check(pms_store *st, const char *connection_id, long long token, pms_instant until,
                    pms_error *err);
int sql_lease_release(pms_store *st, const char *connection_id, long long token,
                      pms_instant next_sync_at, int failures, pms_error *err);
int sql_sync_request(pms_store *st, const char *connection_id, const pms_sync_window *window,
                     pms_error *err);
int sql_schedule_get(pms_store *st, const char *connection_id, pms_instant now,
                     pms_schedule_info *out, pms_error *err);
int sql_schedule_set(pms_store *st, const char *connection_id, pms_instant next_sync_at,
                     pms_error *err);
int sql_schedule_stats(pms_store *st, pms_instant now, pms_schedule_stats *out, pms_error *err);

int sql_write_claim(pms_store *st, const pms_write_record *r, bool *claimed,
                    pms_write_record *existing, pms_error *err);
int sql_write_update(pms_store *st, const pms_write_record *r, pms_error *err);
int sql_write_get(pms_store *st, const char *account_id, const char *idem_key,
                  pms_write_record *out, pms_error *err);
int sql_write_due(pms_store *st, pms_instant now, int limit, pms_write_record_array *out,
                  pms_error *err);
int sql_voice_settings_get(pms_store *st, const char *account_id, pms_voice_settings *out,
                           pms_error *err);
int sql_voice_settings_put(pms_store *st, const pms_voice_settings *v, pms_error *err);
int sql_write_release(pms_store *st, const char *account_id, const char *idem_key, pms_error *err);
int sql_voice_settings_list(pms_store *st, pms_voice_settings_array *out, pms_error *err);
int sql_voice_replay_claim(pms_store *st, const char *account_id, const char *signature,
                           pms_instant now, pms_instant expires_at, bool *fresh, pms_error *err);

/* The ops every SQL backend takes from here, for its ops table. */
#define SQL_SHARED_OPS                                                                             \
    .schema_version = sql_schema_version, .account_timezone = sql_account_timezone,                \
    .account_set_timezone = sql_account_set_timezone, .connection_insert = sql_connection_insert,  \
    .connection_get = sql_connection_get, .connection_list = sql_connection_list,                  \
    .connection_update = sql_connection_update, .connection_delete = sql_connection_delete,        \
    .connection_set_sync_result = sql_connection_set_sync_result,                                  \
    .connection_set_token = sql_connection_set_token, .clinician_insert = sql_clinician_insert,    \
    .clinician_get = sql_clinician_get, .clinician_list = sql_clinician_list,                      \
    .mapping_list = sql_mapping_list, .mapping_upsert = sql_mapping_upsert,                        \
    .type_list = sql_type_list, .type_upsert_from_pms = sql_type_upsert_from_pms,                  \
    .type_set_flags = sql_type_set_flags, .run_sheet_ensure = sql_run_sheet_ensure,                \
    .entry_find_pms = sql_entry_find_pms, .entry_state_pms = sql_entry_state_pms,                  \
    .entry_get = sql_entry_get, .entry_find_ocr_match = sql_entry_find_ocr_match,                  \
    .entry_insert = sql_entry_insert, .entry_update_source = sql_entry_update_source,              \
    .entry_update_edits = sql_entry_update_edits, .entry_mark_removed = sql_entry_mark_removed,    \
    .entry_each_active_pms = sql_entry_each_active_pms, .entry_list = sql_entry_list,              \
    .sync_log_start = sql_sync_log_start, .sync_log_finish = sql_sync_log_finish,                  \
    .sync_log_list = sql_sync_log_list, .sync_log_fail_running = sql_sync_log_fail_running,        \
    .account_insert = sql_account_insert, .account_get = sql_account_get,                          \
    .account_list = sql_account_list, .api_key_insert = sql_api_key_insert,                        \
    .api_key_find_by_prefix = sql_api_key_find_by_prefix, .api_key_list = sql_api_key_list,        \
    .api_key_revoke = sql_api_key_revoke, .api_key_touch = sql_api_key_touch,                      \
    .audit_head_get = sql_audit_head_get, .audit_insert = sql_audit_insert,                        \
    .audit_head_set = sql_audit_head_set, .audit_walk = sql_audit_walk,                            \
    .audit_count_key = sql_audit_count_key, .connection_set_sealed = sql_connection_set_sealed,    \
    .run_sheet_version = sql_run_sheet_version, .user_insert = sql_user_insert,                    \
    .user_get = sql_user_get, .user_list = sql_user_list, .user_disable = sql_user_disable,        \
    .user_set_password = sql_user_set_password, .web_session_insert = sql_web_session_insert,      \
    .web_session_find = sql_web_session_find, .web_session_touch = sql_web_session_touch,          \
    .web_session_revoke = sql_web_session_revoke,                                                  \
    .web_session_delete_expired = sql_web_session_delete_expired, .lease_check = sql_lease_check,  \
    .lease_release = sql_lease_release, .sync_request = sql_sync_request,                          \
    .schedule_get = sql_schedule_get, .schedule_set = sql_schedule_set,                            \
    .schedule_stats = sql_schedule_stats, .write_claim = sql_write_claim,                          \
    .write_update = sql_write_update, .write_get = sql_write_get, .write_due = sql_write_due,      \
    .voice_settings_get = sql_voice_settings_get, .voice_settings_put = sql_voice_settings_put,    \
    .write_release = sql_write_release, .voice_settings_list = sql_voice_settings_list,            \
    .voice_replay_claim = sql_voice_replay_claim

#endif
