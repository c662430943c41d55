/* SQLite backend: opening (WAL, busy timeout, foreign keys), the statement cache, transactions
 * (BEGIN IMMEDIATE), per-connection sync locks (flock on a file per connection, released by the
 * kernel when a process dies) and the ops table. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmsync/crypto.h"
#include "store/sqlite/sqlite_internal.h"

#define BUSY_TIMEOUT_MS 10000

struct pms_store_lock {
    int fd;
    char *path;
};

sqlite3_stmt *sq_stmt(sqlite_store *s, const char *sql, pms_error *err)
{
    for (size_t i = 0; i < s->stmt_count; i++) {
        if (s->stmts[i].sql == sql) {
            sqlite3_reset(s->stmts[i].stmt);
            sqlite3_clear_bindings(s->stmts[i].stmt);
            return s->stmts[i].stmt;
        }
    }
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
        sq_fail(s, err, "preparing a statement");
        return NULL;
    }
    if (s->stmt_count == s->stmt_cap) {
        size_t cap = s->stmt_cap ? s->stmt_cap * 2 : 32;
        cached_stmt *grown = realloc(s->stmts, cap * sizeof *grown);
        if (grown == NULL) {
            sqlite3_finalize(stmt);
            pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            return NULL;
        }
        s->stmts = grown;
        s->stmt_cap = cap;
    }
    s->stmts[s->stmt_count].sql = sql;
    s->stmts[s->stmt_count].stmt = stmt;
    s->stmt_count++;
    return stmt;
}

int sq_fail(sqlite_store *s, pms_error *err, const char *doing)
{
    int code = sqlite3_errcode(s->db);
    pms_status status = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? PMS_ERR_CONFLICT
                        : code == SQLITE_CONSTRAINT                    ? PMS_ERR_CONFLICT
                                                                       : PMS_ERR_STORE;
    return pms_error_set(err, status, "database error while %s: %s", doing, sqlite3_errmsg(s->db));
}

int sq_exec_stmt(sqlite_store *s, sqlite3_stmt *stmt, const char *doing, pms_error *err)
{
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        int out = sq_fail(s, err, doing);
        sqlite3_reset(stmt);
        return out;
    }
    sqlite3_reset(stmt);
    return PMS_OK;
}

int sq_exec(sqlite_store *s, const char *sql, const char *doing, pms_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = pms_error_set(
            err, sqlite3_errcode(s->db) == SQLITE_BUSY ? PMS_ERR_CONFLICT : PMS_ERR_STORE,
            "database error while %s: %s", doing, msg ? msg : "unknown");
        sqlite3_free(msg);
        return rc;
    }
    return PMS_OK;
}

void sq_bind_text(sqlite3_stmt *stmt, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(stmt, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt, i);
}

void sq_bind_instant(sqlite3_stmt *stmt, int i, pms_instant v)
{
    if (v == PMS_INSTANT_NONE)
        sqlite3_bind_null(stmt, i);
    else
        sqlite3_bind_int64(stmt, i, v);
}

void sq_bind_int(sqlite3_stmt *stmt, int i, long long v)
{
    sqlite3_bind_int64(stmt, i, v);
}

void sq_bind_date(sqlite3_stmt *stmt, int i, pms_date d)
{
    char buf[PMS_TIME_BUFLEN];
    pms_date_format(d, buf);
    sqlite3_bind_text(stmt, i, buf, -1, SQLITE_TRANSIENT);
}

void sq_bind_json(sqlite3_stmt *stmt, int i, const json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (text)
        sqlite3_bind_text(stmt, i, text, -1, free);
    else
        sqlite3_bind_null(stmt, i);
}

char *sq_col_text(sqlite3_stmt *stmt, int i, bool *oom)
{
    const unsigned char *v = sqlite3_column_text(stmt, i);
    if (v == NULL)
        return NULL;
    char *copy = strdup((const char *)v);
    if (copy == NULL)
        *oom = true;
    return copy;
}

pms_instant sq_col_instant(sqlite3_stmt *stmt, int i)
{
    if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
        return PMS_INSTANT_NONE;
    return sqlite3_column_int64(stmt, i);
}

long long sq_col_int(sqlite3_stmt *stmt, int i)
{
    return sqlite3_column_int64(stmt, i);
}

bool sq_col_bool(sqlite3_stmt *stmt, int i)
{
    return sqlite3_column_int(stmt, i) != 0;
}

pms_date sq_col_date(sqlite3_stmt *stmt, int i)
{
    pms_date d = {0, 0, 0};
    const unsigned char *v = sqlite3_column_text(stmt, i);
    if (v)
        pms_date_parse((const char *)v, &d, NULL);
    return d;
}

json_t *sq_col_json(sqlite3_stmt *stmt, int i)
{
    const unsigned char *v = sqlite3_column_text(stmt, i);
    if (v == NULL)
        return NULL;
    return json_loads((const char *)v, JSON_DECODE_ANY, NULL);
}

int sq_collect(sqlite_store *s, sqlite3_stmt *stmt, size_t item_size, void **items, size_t *count,
               sq_row_reader read, const char *doing, pms_error *err)
{
    int rc = PMS_OK, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        char *grown = realloc(*items, (*count + 1) * item_size);
        if (grown == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
        *items = grown;
        void *item = grown + *count * item_size;
        memset(item, 0, item_size);
        if ((rc = read(stmt, item, err)) != PMS_OK)
            break;
        (*count)++;
    }
    if (rc == PMS_OK && step != SQLITE_DONE)
        rc = sq_fail(s, err, doing);
    sqlite3_reset(stmt);
    return rc;
}

int sq_one(sqlite_store *s, sqlite3_stmt *stmt, void *item, sq_row_reader read,
           const char *not_found, const char *doing, pms_error *err)
{
    int step = sqlite3_step(stmt);
    int rc;
    if (step == SQLITE_ROW)
        rc = read(stmt, item, err);
    else if (step == SQLITE_DONE)
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "%s", not_found);
    else
        rc = sq_fail(s, err, doing);
    sqlite3_reset(stmt);
    return rc;
}

int sq_new_id(char out[37], pms_error *err)
{
    return pms_uuid_v4(out, err);
}

/* ---- transactions -------------------------------------------------------------------- */

static int sq_begin(pms_store *st, pms_error *err)
{
    sqlite_store *s = SQ(st);
    if (s->tx_depth > 0)
        return pms_error_set(err, PMS_ERR_STORE, "a transaction is already open");
    int rc = sq_exec(s, "BEGIN IMMEDIATE", "starting a transaction", err);
    if (rc == PMS_OK)
        s->tx_depth = 1;
    return rc;
}

static int sq_commit(pms_store *st, pms_error *err)
{
    sqlite_store *s = SQ(st);
    int rc = sq_exec(s, "COMMIT", "committing", err);
    if (rc == PMS_OK)
        s->tx_depth = 0;
    return rc;
}

static void sq_rollback(pms_store *st)
{
    sqlite_store *s = SQ(st);
    if (s->tx_depth > 0 || !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->tx_depth = 0;
}

/* ---- per-connection sync locks ------------------------------------------------------- */

static int sq_lock_connection(pms_store *st, const char *connection_id, pms_store_lock **out,
                              pms_error *err)
{
    sqlite_store *s = SQ(st);
    *out = NULL;
    pms_store_lock *lock = calloc(1, sizeof *lock);
    if (lock == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    lock->fd = -1;
    if (s->lock_dir == NULL) { /* in-memory database: nothing else can see it */
        *out = lock;
        return PMS_OK;
    }
    if (mkdir(s->lock_dir, 0700) != 0 && errno != EEXIST) {
        free(lock);
        return pms_error_set(err, PMS_ERR_IO, "cannot create lock directory %s: %s", s->lock_dir,
                             strerror(errno));
    }
    char name[65];
    pms_sha256_hex(connection_id, strlen(connection_id), name);
    if (asprintf(&lock->path, "%s/%.32s.lock", s->lock_dir, name) < 0) {
        free(lock);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    lock->fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock->fd < 0) {
        int rc = pms_error_set(err, PMS_ERR_IO, "cannot open lock file: %s", strerror(errno));
        free(lock->path);
        free(lock);
        return rc;
    }
    if (flock(lock->fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        close(lock->fd);
        free(lock->path);
        free(lock);
        if (busy)
            return pms_error_set(err, PMS_ERR_CONFLICT,
                                 "a sync of this connection is already running");
        return pms_error_set(err, PMS_ERR_IO, "cannot lock: %s", strerror(errno));
    }
    *out = lock;
    return PMS_OK;
}

static void sq_unlock_connection(pms_store *st, pms_store_lock *lock)
{
    (void)st;
    if (lock == NULL)
        return;
    if (lock->fd >= 0) {
        flock(lock->fd, LOCK_UN);
        close(lock->fd);
    }
    free(lock->path);
    free(lock);
}

/* ---- open / close -------------------------------------------------------------------- */

static void sq_close(pms_store *st)
{
    sqlite_store *s = SQ(st);
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->stmt_count; i++)
        sqlite3_finalize(s->stmts[i].stmt);
    free(s->stmts);
    if (s->db)
        sqlite3_close(s->db);
    free(s->path);
    free(s->lock_dir);
    free(s);
}

static const pms_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = sq_migrate,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .lock_connection = sq_lock_connection,
    .unlock_connection = sq_unlock_connection,
    .account_timezone = sq_account_timezone,
    .account_set_timezone = sq_account_set_timezone,
    .connection_insert = sq_connection_insert,
    .connection_get = sq_connection_get,
    .connection_list = sq_connection_list,
    .connection_update = sq_connection_update,
    .connection_delete = sq_connection_delete,
    .connection_set_sync_result = sq_connection_set_sync_result,
    .connection_set_token = sq_connection_set_token,
    .clinician_insert = sq_clinician_insert,
    .clinician_get = sq_clinician_get,
    .clinician_list = sq_clinician_list,
    .mapping_list = sq_mapping_list,
    .mapping_upsert = sq_mapping_upsert,
    .type_list = sq_type_list,
    .type_upsert_from_pms = sq_type_upsert_from_pms,
    .type_set_flags = sq_type_set_flags,
    .run_sheet_ensure = sq_run_sheet_ensure,
    .entry_find_pms = sq_entry_find_pms,
    .entry_state_pms = sq_entry_state_pms,
    .entry_get = sq_entry_get,
    .entry_find_ocr_match = sq_entry_find_ocr_match,
    .entry_insert = sq_entry_insert,
    .entry_update_source = sq_entry_update_source,
    .entry_update_edits = sq_entry_update_edits,
    .entry_mark_removed = sq_entry_mark_removed,
    .entry_each_active_pms = sq_entry_each_active_pms,
    .entry_list = sq_entry_list,
    .sync_log_start = sq_sync_log_start,
    .sync_log_finish = sq_sync_log_finish,
    .sync_log_list = sq_sync_log_list,
    .sync_log_fail_running = sq_sync_log_fail_running,
    .account_insert = sq_account_insert,
    .account_get = sq_account_get,
    .account_list = sq_account_list,
    .api_key_insert = sq_api_key_insert,
    .api_key_find_by_prefix = sq_api_key_find_by_prefix,
    .api_key_list = sq_api_key_list,
    .api_key_revoke = sq_api_key_revoke,
    .api_key_touch = sq_api_key_touch,
    .audit_head_get = sq_audit_head_get,
    .audit_insert = sq_audit_insert,
    .audit_head_set = sq_audit_head_set,
    .audit_walk = sq_audit_walk,
    .audit_count_key = sq_audit_count_key,
    .connection_set_sealed = sq_connection_set_sealed,
    .run_sheet_version = sq_run_sheet_version,
    .user_insert = sq_user_insert,
    .user_get = sq_user_get,
    .user_list = sq_user_list,
    .user_disable = sq_user_disable,
    .user_set_password = sq_user_set_password,
    .web_session_insert = sq_web_session_insert,
    .web_session_find = sq_web_session_find,
    .web_session_touch = sq_web_session_touch,
    .web_session_revoke = sq_web_session_revoke,
    .web_session_delete_expired = sq_web_session_delete_expired,
    .lease_claim = sq_lease_claim,
    .lease_check = sq_lease_check,
    .lease_release = sq_lease_release,
    .sync_request = sq_sync_request,
    .schedule_get = sq_schedule_get,
    .schedule_set = sq_schedule_set,
    .schedule_stats = sq_schedule_stats,
    .notify = sq_notify,
};

int pms_store_sqlite_open(const char *path, pms_store **out, pms_error *err)
{
    sqlite_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    s->base.ops = &sqlite_ops;
    int rc;
    bool memory = strcmp(path, ":memory:") == 0;
    if ((s->path = strdup(path)) == NULL ||
        (!memory && asprintf(&s->lock_dir, "%s-locks", path) < 0)) {
        s->lock_dir = NULL;
        sq_close(&s->base);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = pms_error_set(err, PMS_ERR_STORE, "cannot open database %s: %s", path,
                           s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sq_close(&s->base);
        return rc;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 0);
    if (!memory) {
        /* The database holds patient data: keep it private to its owner. */
        chmod(path, 0600);
    }
    if ((rc = sq_exec(s, "PRAGMA journal_mode=WAL", "enabling WAL", err)) != PMS_OK ||
        (rc = sq_exec(s, "PRAGMA synchronous=NORMAL", "configuring", err)) != PMS_OK ||
        (rc = sq_exec(s, "PRAGMA foreign_keys=ON", "configuring", err)) != PMS_OK) {
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return PMS_OK;
}
