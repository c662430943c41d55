/* Shared internals of the SQLite store backend. */
#ifndef PMSYNC_STORE_SQLITE_INTERNAL_H
#define PMSYNC_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "pmsync/store.h"

typedef struct cached_stmt {
    const char *sql; /* static SQL text: its address is the key */
    sqlite3_stmt *stmt;
} cached_stmt;

typedef struct sqlite_store {
    pms_store base;
    sqlite3 *db;
    char *path;
    char *lock_dir;
    cached_stmt *stmts;
    size_t stmt_count, stmt_cap;
    int tx_depth;
} sqlite_store;

static inline sqlite_store *SQ(pms_store *st)
{
    return (sqlite_store *)st;
}

/* A reset, ready-to-bind statement for static SQL (prepared once per handle), or NULL with
 * err filled. */
sqlite3_stmt *sq_stmt(sqlite_store *s, const char *sql, pms_error *err);
/* PMS_ERR_STORE (PMS_ERR_CONFLICT when busy) with the database's message. */
int sq_fail(sqlite_store *s, pms_error *err, const char *doing);
/* Runs a statement that returns no rows; resets it. */
int sq_exec_stmt(sqlite_store *s, sqlite3_stmt *stmt, const char *doing, pms_error *err);
int sq_exec(sqlite_store *s, const char *sql, const char *doing, pms_error *err);

void sq_bind_text(sqlite3_stmt *stmt, int i, const char *v);
void sq_bind_instant(sqlite3_stmt *stmt, int i, pms_instant v);
void sq_bind_int(sqlite3_stmt *stmt, int i, long long v);
void sq_bind_date(sqlite3_stmt *stmt, int i, pms_date d);
void sq_bind_json(sqlite3_stmt *stmt, int i, const json_t *v);

/* Column readers. Text is strdup'ed (NULL for SQL NULL); *oom set when a copy failed. */
char *sq_col_text(sqlite3_stmt *stmt, int i, bool *oom);
pms_instant sq_col_instant(sqlite3_stmt *stmt, int i);
long long sq_col_int(sqlite3_stmt *stmt, int i);
bool sq_col_bool(sqlite3_stmt *stmt, int i);
pms_date sq_col_date(sqlite3_stmt *stmt, int i);
json_t *sq_col_json(sqlite3_stmt *stmt, int i);

/* Reads one row into *item (zeroed beforehand); on failure leaves nothing to free. */
typedef int (*sq_row_reader)(sqlite3_stmt *stmt, void *item, pms_error *err);
/* Steps a bound statement to its end, appending one item_size-byte item per row to *items
 * (*count items). On failure the items read so far stay for the caller's list clear. Resets
 * the statement. */
int sq_collect(sqlite_store *s, sqlite3_stmt *stmt, size_t item_size, void **items, size_t *count,
               sq_row_reader read, const char *doing, pms_error *err);

/* Steps a bound statement once: its row read into *item (zeroed beforehand), PMS_ERR_NOT_FOUND
 * with the message not_found when there is none. Resets the statement. */
int sq_one(sqlite_store *s, sqlite3_stmt *stmt, void *item, sq_row_reader read,
           const char *not_found, const char *doing, pms_error *err);

/* PMS_OK when the account exists, PMS_ERR_NOT_FOUND when it does not. */
int sq_account_exists(sqlite_store *s, const char *account_id, pms_error *err);

/* A new random id. */
int sq_new_id(char out[37], pms_error *err);

int sq_migrate(pms_store *st, pms_error *err);
int sq_schema_version(pms_store *st, int *version, pms_error *err);

/* implementations of the ops, by file */
int sq_account_timezone(pms_store *st, const char *account_id, char **tz, pms_error *err);
int sq_account_set_timezone(pms_store *st, const char *account_id, const char *tz, pms_error *err);
int sq_connection_insert(pms_store *st, const pms_connection *c, pms_error *err);
int sq_connection_get(pms_store *st, const char *id, pms_connection *out, pms_error *err);
int sq_connection_list(pms_store *st, const char *account_id, pms_connection_list *out,
                       pms_error *err);
int sq_connection_update(pms_store *st, const pms_connection *c, pms_error *err);
int sq_connection_delete(pms_store *st, const char *id, pms_error *err);
int sq_connection_set_sync_result(pms_store *st, const char *id, pms_instant at, const char *status,
                                  const char *error, pms_error *err);
int sq_connection_set_token(pms_store *st, const char *id, const char *access_sealed,
                            const char *refresh_sealed, pms_instant expires_at, pms_error *err);

int sq_clinician_insert(pms_store *st, pms_clinician *c, pms_error *err);
int sq_clinician_get(pms_store *st, const char *id, pms_clinician *out, pms_error *err);
int sq_clinician_list(pms_store *st, const char *account_id, pms_clinician_list *out,
                      pms_error *err);
int sq_mapping_list(pms_store *st, const char *connection_id, pms_mapping_list *out,
                    pms_error *err);
int sq_mapping_upsert(pms_store *st, pms_mapping *m, pms_error *err);
int sq_type_list(pms_store *st, const char *connection_id, pms_stored_type_list *out,
                 pms_error *err);
int sq_type_upsert_from_pms(pms_store *st, const char *connection_id, const pms_appt_type *t,
                            pms_error *err);
int sq_type_set_flags(pms_store *st, const char *connection_id, const char *pms_type_id,
                      int is_telehealth, int sync_enabled, pms_error *err);

int sq_run_sheet_ensure(pms_store *st, const char *account_id, pms_date day, const char *timezone,
                        char **id, pms_error *err);
int sq_entry_find_pms(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                      pms_sheet_entry *out, pms_error *err);
int sq_entry_state_pms(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                       pms_entry_state *out, pms_error *err);
int sq_entry_get(pms_store *st, const char *id, pms_sheet_entry *out, pms_error *err);
int sq_entry_find_ocr_match(pms_store *st, const char *run_sheet_id, const char *clinician_id,
                            pms_instant start, const char *patient_key, char **id, pms_error *err);
int sq_entry_insert(pms_store *st, pms_sheet_entry *e, pms_error *err);
int sq_entry_update_source(pms_store *st, const pms_sheet_entry *e, pms_error *err);
int sq_entry_update_edits(pms_store *st, const pms_sheet_entry *e, pms_error *err);
int sq_entry_mark_removed(pms_store *st, const char *id, pms_instant at, pms_error *err);
int sq_entry_each_active_pms(pms_store *st, const char *connection_id, pms_instant from,
                             pms_instant to,
                             int (*fn)(void *ctx, const char *id, const char *pms_id), void *ctx,
                             pms_error *err);
int sq_entry_list(pms_store *st, const pms_sheet_query *q, pms_sheet_entry_list *out,
                  pms_error *err);

int sq_sync_log_start(pms_store *st, pms_sync_log_entry *e, pms_error *err);
int sq_sync_log_finish(pms_store *st, const pms_sync_log_entry *e, pms_error *err);
int sq_sync_log_list(pms_store *st, const char *connection_id, int limit, pms_sync_log_list *out,
                     pms_error *err);
int sq_sync_log_fail_running(pms_store *st, const char *connection_id, const char *reason,
                             int *count, pms_error *err);

int sq_account_insert(pms_store *st, const pms_account *a, pms_error *err);
int sq_account_get(pms_store *st, const char *id, pms_account *out, pms_error *err);
int sq_account_list(pms_store *st, pms_account_array *out, pms_error *err);
int sq_api_key_insert(pms_store *st, const pms_api_key *k, pms_error *err);
int sq_api_key_find_by_prefix(pms_store *st, const char *prefix, pms_api_key *out, pms_error *err);
int sq_api_key_list(pms_store *st, const char *account_id, pms_api_key_array *out, pms_error *err);
int sq_api_key_revoke(pms_store *st, const char *account_id, const char *id, pms_instant at,
                      pms_error *err);
int sq_api_key_touch(pms_store *st, const char *id, pms_instant at, pms_instant min_interval_ms,
                     pms_error *err);

int sq_audit_head_get(pms_store *st, pms_audit_head *out, pms_error *err);
int sq_audit_head_set(pms_store *st, const pms_audit_head *h, pms_error *err);
int sq_audit_insert(pms_store *st, const pms_audit_record *r, pms_error *err);
int sq_audit_walk(pms_store *st, pms_instant from, pms_instant to, pms_audit_head *head,
                  int (*fn)(void *ctx, const pms_audit_record *r), void *ctx, pms_error *err);
int sq_audit_count_key(pms_store *st, const char *key_id, long long *count, pms_error *err);

int sq_lease_claim(pms_store *st, const char *worker, pms_instant now, long lease_ms, int max,
                   bool requests_only, pms_lease *out, int *count, pms_error *err);
int sq_lease_check(pms_store *st, const char *connection_id, long long token, pms_instant until,
                   pms_error *err);
int sq_lease_release(pms_store *st, const char *connection_id, long long token,
                     pms_instant next_sync_at, int failures, pms_error *err);
int sq_sync_request(pms_store *st, const char *connection_id, const pms_sync_window *window,
                    pms_error *err);
int sq_schedule_get(pms_store *st, const char *connection_id, pms_instant now,
                    pms_schedule_info *out, pms_error *err);
int sq_schedule_set(pms_store *st, const char *connection_id, pms_instant next_sync_at,
                    pms_error *err);
int sq_schedule_stats(pms_store *st, pms_instant now, pms_schedule_stats *out, pms_error *err);
int sq_notify(pms_store *st, const char *channel, const char *payload, pms_error *err);
int sq_run_sheet_version(pms_store *st, const char *account_id, pms_date day,
                         char out[PMS_STORE_VERSION_LEN], pms_error *err);
int sq_connection_set_sealed(pms_store *st, const char *id, const char *secrets_sealed,
                             const char *access_sealed, const char *refresh_sealed, pms_error *err);

int sq_user_insert(pms_store *st, const pms_user *u, pms_error *err);
int sq_user_get(pms_store *st, const char *id, const char *username, pms_user *out, pms_error *err);
int sq_user_list(pms_store *st, const char *account_id, pms_user_array *out, pms_error *err);
int sq_user_disable(pms_store *st, const char *id, pms_instant at, pms_error *err);
int sq_user_set_password(pms_store *st, const char *id, const char *password_hash, pms_error *err);
int sq_web_session_insert(pms_store *st, const pms_web_session *ws, pms_error *err);
int sq_web_session_find(pms_store *st, const char *id, pms_web_session *out, pms_error *err);
int sq_web_session_touch(pms_store *st, const char *id, pms_instant at, pms_instant min_interval_ms,
                         pms_error *err);
int sq_web_session_revoke(pms_store *st, const char *id, pms_instant at, pms_error *err);
int sq_web_session_delete_expired(pms_store *st, pms_instant before, int *count, pms_error *err);

#endif
