/* PostgreSQL backend: one server connection per handle, the SQL store's statements prepared
 * once per connection (text parameters), transactions (READ COMMITTED; the SQL store locks the
 * rows it reads to write back), sync locks as session advisory locks (released on unlock, and by
 * the server when the process or its connection dies) and the ops table. A handle whose
 * connection was lost reconnects at its next use outside a transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/crypto.h"
#include "store/pg/pg_internal.h"

/* Instants PostgreSQL's timestamptz holds that "YYYY-MM-DDThh:mm:ss.sssZ" can say: years 1 to
 * 9999. Instants outside are sentinels ("never", "forever"): -infinity and infinity. */
#define PG_MIN_INSTANT (-62135596800000LL) /* 0001-01-01 */
#define PG_END_INSTANT 253402300800000LL   /* 10000-01-01 */

struct pms_store_lock {
    long long key;
    unsigned generation;
};

/* Generic plans for every prepared statement: the store's statements are lookups by ids whose
 * best plan does not depend on the values, and a custom plan can be much worse. For a connection
 * the statistics have not seen yet (a new practice's first sync), the planner estimates no rows
 * and looks an appointment up through (connection, start time), filtering every row the
 * connection has, instead of the unique (connection, appointment id) index: the sync slows with
 * each row it writes. The generic plan takes the unique index, statistics or not. */
static const char session_sql[] = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
                                  "SET IntervalStyle = 'postgres'; SET lock_timeout = '10s'; "
                                  "SET client_min_messages = 'warning'; "
                                  "SET plan_cache_mode = 'force_generic_plan'";

static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message; /* notices ("already exists, skipping") are not our log's */
}

/* The first line of libpq's message (its later lines are hints). */
static void first_line(const char *message, char *out, size_t len)
{
    size_t n = strcspn(message ? message : "", "\n");
    snprintf(out, len, "%.*s", (int)n, message ? message : "");
}

int pg_connect(const char *location, PGconn **out, pms_error *err)
{
    /* Defaults first: what the location says wins. */
    const char *const keys[] = {
        "fallback_application_name", "connect_timeout",  "keepalives", "keepalives_idle",
        "keepalives_interval",       "keepalives_count", "dbname",     NULL};
    const char *const values[] = {"pmsync", "10", "1", "30", "10", "3", location, NULL};
    *out = NULL;
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (conn == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    char why[200];
    int rc = PMS_OK;
    if (PQstatus(conn) != CONNECTION_OK) {
        first_line(PQerrorMessage(conn), why, sizeof why);
        rc =
            pms_error_set(err, PMS_ERR_STORE, "cannot connect to the PostgreSQL database: %s", why);
    } else if (PQserverVersion(conn) < 130000) {
        rc =
            pms_error_set(err, PMS_ERR_STORE, "PostgreSQL 13 or later is needed (the server is %d)",
                          PQserverVersion(conn) / 10000);
    } else {
        PQsetNoticeProcessor(conn, quiet, NULL);
        PGresult *res = PQexec(conn, session_sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = pg_fail(conn, res, "preparing the session", err);
        PQclear(res);
    }
    if (rc != PMS_OK) {
        PQfinish(conn);
        return rc;
    }
    *out = conn;
    return PMS_OK;
}

/* Whether a SQLSTATE's primary message can be shown: these classes name constraints, tables,
 * columns or states, never a value (a data exception, class 22, may quote the value). */
static bool message_shown(const char *state)
{
    static const char *const classes[] = {"23", "25", "40", "42", "53", "55", "57", "P0", NULL};
    for (int i = 0; classes[i]; i++)
        if (strncmp(state, classes[i], 2) == 0)
            return true;
    return false;
}

int pg_fail(PGconn *conn, const PGresult *res, const char *doing, pms_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char why[200];
    if (conn == NULL || PQstatus(conn) == CONNECTION_BAD ||
        (state && strncmp(state, "08", 2) == 0)) {
        first_line(PQerrorMessage(conn), why, sizeof why);
        return pms_error_set(err, PMS_ERR_STORE,
                             "lost the connection to the PostgreSQL database while %s: %s", doing,
                             why[0] ? why : "the server closed it");
    }
    if (state == NULL) {
        first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn), why, sizeof why);
        return pms_error_set(err, PMS_ERR_STORE, "database error while %s: %s", doing, why);
    }
    pms_status status = PMS_ERR_STORE;
    if (strncmp(state, "23", 2) == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        status = PMS_ERR_CONFLICT; /* callers retry serialization failures and deadlocks */
    if (!message_shown(state))
        return pms_error_set(err, status, "database error while %s (SQLSTATE %s)", doing, state);
    first_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), why, sizeof why);
    return pms_error_set(err, status, "database error while %s: %s (SQLSTATE %s)", doing, why,
                         state);
}

/* ---- the connection ------------------------------------------------------------------- */

/* A lost connection is made again, outside a transaction (inside one, the transaction is gone:
 * its caller hears so and rolls back). */
static int ensure_connected(pg_store *s, pms_error *err)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return PMS_OK;
    if (s->base.tx_depth > 0)
        return pg_fail(s->conn, NULL, "in a transaction", err);
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK)
        return pg_fail(s->conn, NULL, "connecting again", err);
    PQsetNoticeProcessor(s->conn, quiet, NULL);
    PGresult *res = PQexec(s->conn, session_sql);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK
                 ? PMS_OK
                 : pg_fail(s->conn, res, "preparing the session", err);
    PQclear(res);
    s->generation++;
    for (size_t i = 0; i < s->stmt_count; i++)
        s->stmts[i].prepared = false;
    return rc;
}

/* What a statement's text says of its parameters: which are uuids, whether it inserts. */
static void describe(pg_stmt *ps)
{
    for (const char *p = strchr(ps->sql, '$'); p; p = strchr(p + 1, '$')) {
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (end != p + 1 && n >= 1 && n <= 64 && strncmp(end, "::uuid", 6) == 0)
            ps->uuid_params |= 1ULL << (n - 1);
    }
    const char *first = ps->sql + strspn(ps->sql, " \n");
    ps->insert = strncmp(first, "INSERT", 6) == 0;
}

static pg_stmt *statement(pg_store *s, const char *sql, pms_error *err)
{
    pg_stmt *ps = NULL;
    for (size_t i = 0; i < s->stmt_count && ps == NULL; i++)
        if (s->stmts[i].sql == sql)
            ps = &s->stmts[i];
    if (ps == NULL) {
        if (s->stmt_count == s->stmt_cap) {
            size_t cap = s->stmt_cap ? s->stmt_cap * 2 : 64;
            pg_stmt *grown = realloc(s->stmts, cap * sizeof *grown);
            if (grown == NULL) {
                pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
                return NULL;
            }
            s->stmts = grown;
            s->stmt_cap = cap;
        }
        ps = &s->stmts[s->stmt_count];
        memset(ps, 0, sizeof *ps);
        ps->sql = sql;
        snprintf(ps->name, sizeof ps->name, "pms%zu", s->stmt_count);
        describe(ps);
        s->stmt_count++;
    }
    if (ps->prepared)
        return ps;
    PGresult *res = PQprepare(s->conn, ps->name, sql, 0, NULL);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        pg_fail(s->conn, res, "preparing a statement", err);
    PQclear(res);
    if (!ok)
        return NULL;
    res = PQdescribePrepared(s->conn, ps->name);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (ok)
        ps->nparams = PQnparams(res);
    else
        pg_fail(s->conn, res, "preparing a statement", err);
    PQclear(res);
    ps->prepared = ok;
    return ok ? ps : NULL;
}

static bool uuid_text(const char *v)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(v) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i]; i++) {
        bool hex = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f') ||
                   (v[i] >= 'A' && v[i] <= 'F');
        if (shape[i] == '-' ? v[i] != '-' : !hex)
            return false;
    }
    return true;
}

static void format_instant(pms_instant t, char buf[PMS_TIME_BUFLEN])
{
    if (t < PG_MIN_INSTANT)
        snprintf(buf, PMS_TIME_BUFLEN, "-infinity");
    else if (t >= PG_END_INSTANT)
        snprintf(buf, PMS_TIME_BUFLEN, "infinity");
    else
        pms_format_utc(t, buf);
}

typedef struct pg_values {
    const char *v[SQL_MAX_ARGS];
    char buf[SQL_MAX_ARGS][PMS_TIME_BUFLEN];
    char *owned[SQL_MAX_ARGS];
} pg_values;

/* The arguments as PostgreSQL's text forms. */
static int to_text(const sql_args *args, int n, pg_values *out, pms_error *err)
{
    for (int i = 0; i < n; i++) {
        const sql_value *v = args && i < args->count ? &args->v[i] : NULL;
        out->v[i] = NULL;
        switch (v ? v->kind : SQL_NULL) {
        case SQL_NULL:
            break;
        case SQL_TEXT:
            out->v[i] = v->text;
            break;
        case SQL_INT:
            snprintf(out->buf[i], sizeof out->buf[i], "%lld", v->num);
            out->v[i] = out->buf[i];
            break;
        case SQL_BOOL:
            out->v[i] = v->num ? "t" : "f";
            break;
        case SQL_INSTANT:
            format_instant(v->num, out->buf[i]);
            out->v[i] = out->buf[i];
            break;
        case SQL_DATE:
            pms_date_format(v->date, out->buf[i]);
            out->v[i] = out->buf[i];
            break;
        case SQL_JSON:
            out->owned[i] = json_dumps(v->json, JSON_COMPACT | JSON_ENCODE_ANY);
            if (out->owned[i] == NULL)
                return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            out->v[i] = out->owned[i];
            break;
        }
    }
    return PMS_OK;
}

/* ---- rows ------------------------------------------------------------------------------ */

static bool row_is_null(const sql_row *r, int col)
{
    return PQgetisnull(r->source, r->index, col);
}

static const char *row_text(const sql_row *r, int col)
{
    return row_is_null(r, col) ? NULL : PQgetvalue(r->source, r->index, col);
}

static long long row_integer(const sql_row *r, int col)
{
    const char *v = row_text(r, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

static bool row_boolean(const sql_row *r, int col)
{
    const char *v = row_text(r, col);
    return v && v[0] == 't';
}

/* Reads n digits; -1 when they are not there. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

/* timestamptz's ISO output: "2026-03-02 09:30:00.123456+00", the fraction only when not zero,
 * an offset of hours (and minutes), " BC" before year 1, or +/-infinity. */
static pms_instant parse_timestamptz(const char *s)
{
    if (strcmp(s, "infinity") == 0)
        return INT64_MAX;
    if (strcmp(s, "-infinity") == 0)
        return INT64_MIN + 1;
    pms_civil c = {0};
    char *end;
    c.year = (int)strtol(s, &end, 10);
    const char *p = end;
    if (*p++ != '-' || (c.month = digits(&p, 2)) < 0 || *p++ != '-' ||
        (c.day = digits(&p, 2)) < 0 || *p++ != ' ' || (c.hour = digits(&p, 2)) < 0 || *p++ != ':' ||
        (c.minute = digits(&p, 2)) < 0 || *p++ != ':' || (c.second = digits(&p, 2)) < 0)
        return PMS_INSTANT_NONE;
    if (*p == '.') {
        int scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            c.millis += (*p - '0') * scale;
    }
    int sign = *p == '-' ? -1 : 1, offset = 0;
    if (*p == '+' || *p == '-') {
        p++;
        offset = digits(&p, 2) * 3600;
        if (*p == ':') {
            p++;
            offset += digits(&p, 2) * 60;
        }
    }
    if (strcmp(p, " BC") == 0)
        c.year = 1 - c.year;
    return pms_civil_to_utc_instant(&c) - (pms_instant)sign * offset * 1000;
}

static pms_instant row_instant(const sql_row *r, int col)
{
    const char *v = row_text(r, col);
    return v ? parse_timestamptz(v) : PMS_INSTANT_NONE;
}

static const sql_row_ops pg_rows = {
    .is_null = row_is_null,
    .text = row_text,
    .integer = row_integer,
    .boolean = row_boolean,
    .instant = row_instant,
};

/* ---- running statements ------------------------------------------------------------------ */

/* Whether a uuid parameter holds text that is no uuid: such a statement can match no row (a
 * lookup of "no-such-id" finds nothing, as it would in SQLite) and can store nothing. */
static bool impossible(const pg_stmt *ps, const pg_values *v)
{
    for (int i = 0; i < ps->nparams && i < 64; i++)
        if ((ps->uuid_params >> i & 1) && v->v[i] && !uuid_text(v->v[i]))
            return true;
    return false;
}

/* Checks a statement's result, calls fn for each row and clears it. */
static int take_result(pg_store *s, PGresult *res, sql_row_fn fn, void *ctx, long *changes,
                       const char *doing, pms_error *err)
{
    ExecStatusType status = PQresultStatus(res);
    int rc = PMS_OK;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        rc = pg_fail(s->conn, res, doing, err);
        PQclear(res);
        return rc;
    }
    sql_row row = {.ops = &pg_rows, .source = res};
    int rows = PQntuples(res);
    for (row.index = 0; rc == PMS_OK && fn && row.index < rows; row.index++)
        rc = fn(ctx, &row, err);
    if (rc == PMS_OK && changes)
        *changes = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rc;
}

static int pg_run(sql_db *db, const char *sql, const sql_args *args, sql_row_fn fn, void *ctx,
                  long *changes, const char *doing, pms_error *err)
{
    pg_store *s = PG(&db->base);
    int rc = ensure_connected(s, err);
    pg_stmt *ps = rc == PMS_OK ? statement(s, sql, err) : NULL;
    if (ps == NULL)
        return rc != PMS_OK ? rc : err ? (int)err->code : PMS_ERR_STORE;
    pg_values v = {0};
    if ((rc = to_text(args, ps->nparams, &v, err)) != PMS_OK)
        goto out;
    if (impossible(ps, &v)) {
        if (ps->insert)
            rc = pms_error_set(err, PMS_ERR_INVALID, "not a valid id while %s (ids are UUIDs)",
                               doing);
        else if (changes)
            *changes = 0;
        goto out;
    }
    PGresult *res = PQexecPrepared(s->conn, ps->name, ps->nparams, v.v, NULL, NULL, 0);
    rc = take_result(s, res, fn, ctx, changes, doing, err);
out:
    for (int i = 0; i < ps->nparams; i++)
        free(v.owned[i]);
    return rc;
}

static int pg_run_text(sql_db *db, const char *sql, const sql_args *args, sql_row_fn fn, void *ctx,
                       long *changes, const char *doing, pms_error *err)
{
    pg_store *s = PG(&db->base);
    int rc = ensure_connected(s, err);
    if (rc != PMS_OK)
        return rc;
    int n = args ? args->count : 0;
    pg_values v = {0};
    if ((rc = to_text(args, n, &v, err)) == PMS_OK)
        rc = take_result(s, PQexecParams(s->conn, sql, n, NULL, v.v, NULL, NULL, 0), fn, ctx,
                         changes, doing, err);
    for (int i = 0; i < n; i++)
        free(v.owned[i]);
    return rc;
}

static int pg_script(sql_db *db, const char *sql, const char *doing, pms_error *err)
{
    pg_store *s = PG(&db->base);
    int rc = ensure_connected(s, err);
    if (rc != PMS_OK)
        return rc;
    PGresult *res = PQexec(s->conn, sql);
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        rc = pg_fail(s->conn, res, doing, err);
    PQclear(res);
    return rc;
}

/* ---- transactions -------------------------------------------------------------------- */

static int begin_with(sql_db *db, const char *sql, pms_error *err)
{
    if (db->tx_depth > 0)
        return pms_error_set(err, PMS_ERR_STORE, "a transaction is already open");
    int rc = pg_script(db, sql, "starting a transaction", err);
    if (rc == PMS_OK)
        db->tx_depth = 1;
    return rc;
}

static int pg_begin(pms_store *st, pms_error *err)
{
    return begin_with(SQL_DB(st), "BEGIN", err);
}

static int pg_begin_snapshot(sql_db *db, pms_error *err)
{
    return begin_with(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

static int pg_commit(pms_store *st, pms_error *err)
{
    pg_store *s = PG(st);
    PGresult *res = PQexec(s->conn, "COMMIT");
    int rc = PMS_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_fail(s->conn, res, "committing", err);
    else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) /* "ROLLBACK": it had failed before */
        rc = pms_error_set(err, PMS_ERR_STORE,
                           "the transaction was rolled back: a statement in it had failed");
    PQclear(res);
    s->base.tx_depth = 0; /* a COMMIT ends the transaction either way */
    return rc;
}

static void pg_rollback(pms_store *st)
{
    pg_store *s = PG(st);
    PGTransactionStatusType state = PQtransactionStatus(s->conn);
    if (state == PQTRANS_INTRANS || state == PQTRANS_INERROR)
        PQclear(PQexec(s->conn, "ROLLBACK"));
    s->base.tx_depth = 0;
}

/* ---- per-connection sync locks ------------------------------------------------------- */

static const char try_lock_sql[] = "SELECT pg_try_advisory_lock($1::bigint)";
static const char unlock_sql[] = "SELECT pg_advisory_unlock($1::bigint)";

/* A session advisory lock's key: 64 bits of the SHA-256 of the connection id. (The schema's
 * lock uses the two-integer key space, which never meets this one.) */
static long long lock_key(const char *connection_id)
{
    char text[160], hash[65];
    snprintf(text, sizeof text, "pmsync.sync:%s", connection_id);
    pms_sha256_hex(text, strlen(text), hash);
    hash[16] = '\0';
    return (long long)strtoull(hash, NULL, 16);
}

static int read_flag(const sql_row *row, void *item, pms_error *err)
{
    (void)err;
    *(bool *)item = sql_bool(row, 0);
    return PMS_OK;
}

static int pg_lock_connection(pms_store *st, const char *connection_id, pms_store_lock **out,
                              pms_error *err)
{
    pg_store *s = PG(st);
    *out = NULL;
    pms_store_lock *lock = calloc(1, sizeof *lock);
    if (lock == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    lock->key = lock_key(connection_id);
    sql_args a = {0};
    sql_arg_int(&a, 1, lock->key);
    bool taken = false;
    int rc = sql_one(&s->base, try_lock_sql, &a, read_flag, &taken, "no answer",
                     "locking a connection", err);
    if (rc == PMS_OK && !taken)
        rc = pms_error_set(err, PMS_ERR_CONFLICT, "a sync of this connection is already running");
    if (rc != PMS_OK) {
        free(lock);
        return rc;
    }
    lock->generation = s->generation;
    *out = lock;
    return PMS_OK;
}

static void pg_unlock_connection(pms_store *st, pms_store_lock *lock)
{
    pg_store *s = PG(st);
    if (lock == NULL)
        return;
    /* After a reconnection the server has released it already. */
    if (lock->generation == s->generation && PQstatus(s->conn) == CONNECTION_OK) {
        sql_args a = {0};
        sql_arg_int(&a, 1, lock->key);
        sql_exec(&s->base, unlock_sql, &a, NULL, "unlocking a connection", NULL);
    }
    free(lock);
}

/* ---- open / close -------------------------------------------------------------------- */

static void pg_close(pms_store *st)
{
    pg_store *s = PG(st);
    if (s == NULL)
        return;
    if (s->conn)
        PQfinish(s->conn);
    free(s->stmts);
    free(s);
}

static const sql_db_ops pg_db_ops = {
    .run = pg_run,
    .run_text = pg_run_text,
    .script = pg_script,
    .begin_snapshot = pg_begin_snapshot,
};

static const pms_store_ops pg_ops = {
    .name = "postgresql",
    .schema_latest = SQL_SCHEMA_VERSION,
    .close = pg_close,
    .migrate = pg_migrate,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .lock_connection = pg_lock_connection,
    .unlock_connection = pg_unlock_connection,
    .lease_claim = pg_lease_claim,
    .notify = pg_notify,
    SQL_SHARED_OPS,
};

int pms_store_pg_open(const char *location, pms_store **out, pms_error *err)
{
    *out = NULL;
    pg_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    s->base.base.ops = &pg_ops;
    s->base.db = &pg_db_ops;
    s->base.dialect = SQL_POSTGRES;
    int rc = pg_connect(location, &s->conn, err);
    if (rc != PMS_OK) {
        free(s);
        return rc;
    }
    *out = &s->base.base;
    return PMS_OK;
}
