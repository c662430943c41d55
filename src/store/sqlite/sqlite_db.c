/* SQLite backend: opening (WAL, busy timeout, foreign keys), running the SQL store's statements
 * (prepared once per handle), transactions (BEGIN IMMEDIATE), per-connection sync locks (flock
 * on a file per connection, released by the kernel when a process dies) and the ops table. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

static int sq_fail(sqlite_store *s, pms_error *err, const char *doing)
{
    int code = sqlite3_errcode(s->db);
    pms_status status = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? PMS_ERR_CONFLICT
                        : code == SQLITE_CONSTRAINT                    ? PMS_ERR_CONFLICT
                                                                       : PMS_ERR_STORE;
    return pms_error_set(err, status, "database error while %s: %s", doing, sqlite3_errmsg(s->db));
}

/* The SQL store's text in SQLite's form: "$1::uuid" becomes "?1". A new string. */
static char *sqlite_text(const char *sql)
{
    char *out = malloc(strlen(sql) + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (const char *p = sql; *p;) {
        if (p[0] != '$' || p[1] < '0' || p[1] > '9') {
            *o++ = *p++;
            continue;
        }
        *o++ = '?';
        for (p++; *p >= '0' && *p <= '9';)
            *o++ = *p++;
        if (p[0] == ':' && p[1] == ':')
            for (p += 2; *p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');)
                p++;
    }
    *o = '\0';
    return out;
}

static sqlite3_stmt *prepare(sqlite_store *s, const char *sql, pms_error *err)
{
    char *text = sqlite_text(sql);
    sqlite3_stmt *stmt = NULL;
    if (text == NULL) {
        pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (sqlite3_prepare_v3(s->db, text, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
        sq_fail(s, err, "preparing a statement");
    free(text);
    return stmt;
}

/* A ready-to-bind statement for static SQL, prepared once per handle. One still running (the
 * same statement used again from a row callback) gets a *temporary copy instead. */
static sqlite3_stmt *cached(sqlite_store *s, const char *sql, bool *temporary, pms_error *err)
{
    *temporary = false;
    for (size_t i = 0; i < s->stmt_count; i++) {
        if (s->stmts[i].sql != sql)
            continue;
        if (!sqlite3_stmt_busy(s->stmts[i].stmt))
            return s->stmts[i].stmt;
        *temporary = true;
        return prepare(s, sql, err);
    }
    sqlite3_stmt *stmt = prepare(s, sql, err);
    if (stmt == NULL)
        return NULL;
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

static int bind_args(sqlite3_stmt *stmt, const sql_args *args)
{
    int n = args ? args->count : 0, max = sqlite3_bind_parameter_count(stmt);
    for (int i = 0; i < n && i < max; i++) {
        const sql_value *v = &args->v[i];
        char buf[PMS_TIME_BUFLEN];
        switch (v->kind) {
        case SQL_NULL:
            sqlite3_bind_null(stmt, i + 1);
            break;
        case SQL_TEXT:
            sqlite3_bind_text(stmt, i + 1, v->text, -1, SQLITE_TRANSIENT);
            break;
        case SQL_INT:
        case SQL_BOOL:
        case SQL_INSTANT:
            sqlite3_bind_int64(stmt, i + 1, v->num);
            break;
        case SQL_DATE:
            pms_date_format(v->date, buf);
            sqlite3_bind_text(stmt, i + 1, buf, -1, SQLITE_TRANSIENT);
            break;
        case SQL_JSON: {
            char *text = json_dumps(v->json, JSON_COMPACT | JSON_ENCODE_ANY);
            if (text == NULL)
                return PMS_ERR_NOMEM;
            sqlite3_bind_text(stmt, i + 1, text, -1, free);
            break;
        }
        }
    }
    return PMS_OK;
}

static bool row_is_null(const sql_row *r, int col)
{
    return sqlite3_column_type(r->source, col) == SQLITE_NULL;
}

static const char *row_text(const sql_row *r, int col)
{
    return (const char *)sqlite3_column_text(r->source, col);
}

static long long row_integer(const sql_row *r, int col)
{
    return sqlite3_column_int64(r->source, col);
}

static bool row_boolean(const sql_row *r, int col)
{
    return sqlite3_column_int64(r->source, col) != 0;
}

static pms_instant row_instant(const sql_row *r, int col)
{
    return row_is_null(r, col) ? PMS_INSTANT_NONE : sqlite3_column_int64(r->source, col);
}

static const sql_row_ops sqlite_rows = {
    .is_null = row_is_null,
    .text = row_text,
    .integer = row_integer,
    .boolean = row_boolean,
    .instant = row_instant,
};

/* Binds args, steps stmt to its end calling fn for each row, and resets it. */
static int step_all(sqlite_store *s, sqlite3_stmt *stmt, const sql_args *args, sql_row_fn fn,
                    void *ctx, long *changes, const char *doing, pms_error *err)
{
    int rc = bind_args(stmt, args), step = SQLITE_DONE;
    if (rc != PMS_OK)
        pms_error_set(err, rc, "out of memory");
    sql_row row = {.ops = &sqlite_rows, .source = stmt};
    while (rc == PMS_OK && (step = sqlite3_step(stmt)) == SQLITE_ROW)
        if (fn)
            rc = fn(ctx, &row, err);
    if (rc == PMS_OK && step != SQLITE_DONE)
        rc = sq_fail(s, err, doing);
    if (rc == PMS_OK && changes)
        *changes = sqlite3_changes(s->db);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

static int sq_run(sql_db *db, const char *sql, const sql_args *args, sql_row_fn fn, void *ctx,
                  long *changes, const char *doing, pms_error *err)
{
    sqlite_store *s = SQ(&db->base);
    bool temporary;
    sqlite3_stmt *stmt = cached(s, sql, &temporary, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    int rc = step_all(s, stmt, args, fn, ctx, changes, doing, err);
    if (temporary)
        sqlite3_finalize(stmt);
    return rc;
}

static int sq_run_text(sql_db *db, const char *sql, const sql_args *args, sql_row_fn fn, void *ctx,
                       long *changes, const char *doing, pms_error *err)
{
    sqlite_store *s = SQ(&db->base);
    sqlite3_stmt *stmt = prepare(s, sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    int rc = step_all(s, stmt, args, fn, ctx, changes, doing, err);
    sqlite3_finalize(stmt);
    return rc;
}

static int sq_script(sql_db *db, const char *sql, const char *doing, pms_error *err)
{
    sqlite_store *s = SQ(&db->base);
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

/* ---- transactions -------------------------------------------------------------------- */

static int begin_with(sql_db *db, const char *sql, pms_error *err)
{
    if (db->tx_depth > 0)
        return pms_error_set(err, PMS_ERR_STORE, "a transaction is already open");
    int rc = sq_script(db, sql, "starting a transaction", err);
    if (rc == PMS_OK)
        db->tx_depth = 1;
    return rc;
}

static int sq_begin(pms_store *st, pms_error *err)
{
    return begin_with(SQL_DB(st), "BEGIN IMMEDIATE", err);
}

/* A deferred transaction: one snapshot for its reads (WAL lets writers go on). */
static int sq_begin_snapshot(sql_db *db, pms_error *err)
{
    return begin_with(db, "BEGIN", err);
}

static int sq_commit(pms_store *st, pms_error *err)
{
    int rc = sq_script(SQL_DB(st), "COMMIT", "committing", err);
    if (rc == PMS_OK)
        SQL_DB(st)->tx_depth = 0;
    return rc;
}

static void sq_rollback(pms_store *st)
{
    sqlite_store *s = SQ(st);
    if (s->base.tx_depth > 0 || !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->base.tx_depth = 0;
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

static const sql_db_ops sqlite_db_ops = {
    .run = sq_run,
    .run_text = sq_run_text,
    .script = sq_script,
    .begin_snapshot = sq_begin_snapshot,
};

static const pms_store_ops sqlite_ops = {
    .name = "sqlite",
    .schema_latest = SQL_SCHEMA_VERSION,
    .close = sq_close,
    .migrate = sq_migrate,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .lock_connection = sq_lock_connection,
    .unlock_connection = sq_unlock_connection,
    .lease_claim = sq_lease_claim,
    .notify = sq_notify,
    SQL_SHARED_OPS,
};

int pms_store_sqlite_open(const char *path, pms_store **out, pms_error *err)
{
    sqlite_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    s->base.base.ops = &sqlite_ops;
    s->base.db = &sqlite_db_ops;
    s->base.dialect = SQL_SQLITE;
    int rc;
    bool memory = strcmp(path, ":memory:") == 0;
    if ((s->path = strdup(path)) == NULL ||
        (!memory && asprintf(&s->lock_dir, "%s-locks", path) < 0)) {
        s->lock_dir = NULL;
        sq_close(&s->base.base);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = pms_error_set(err, PMS_ERR_STORE, "cannot open database %s: %s", path,
                           s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sq_close(&s->base.base);
        return rc;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 0);
    if (!memory) {
        /* The database holds patient data: keep it private to its owner. */
        chmod(path, 0600);
    }
    if ((rc = sq_script(&s->base, "PRAGMA journal_mode=WAL", "enabling WAL", err)) != PMS_OK ||
        (rc = sq_script(&s->base, "PRAGMA synchronous=NORMAL", "configuring", err)) != PMS_OK ||
        (rc = sq_script(&s->base, "PRAGMA foreign_keys=ON", "configuring", err)) != PMS_OK) {
        sq_close(&s->base.base);
        return rc;
    }
    *out = &s->base.base;
    return PMS_OK;
}
