/* Copying a whole database from one SQL backend into another (pms_store_copy): table by table
 * in the order of their references, every column by name, each value read in the source's
 * representation and written in the destination's (instants, booleans, uuids, dates, JSON). The
 * destination is written in one transaction, the source read in one snapshot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql/sql.h"

/* Every table of the schema, each after the tables it references. A table a migration adds must
 * be added here: the copy refuses a source with a table it does not know. Tables whose rows the
 * migrations create (the default account, the audit head) are written over (conflict key). */
static const struct copy_table {
    const char *name;
    const char *conflict_key;
} copy_tables[] = {
    {"accounts", "id"},
    {"pms_connections", NULL},
    {"run_sheet_clinicians", NULL},
    {"pms_clinician_mappings", NULL},
    {"pms_appointment_types", NULL},
    {"pms_sync_log", NULL},
    {"run_sheets", NULL},
    {"run_sheet_appointments", NULL},
    {"api_keys", NULL},
    {"audit_log", NULL},
    {"audit_head", "id"},
    {"users", NULL},
    {"web_sessions", NULL},
    {"write_requests", NULL},
    {"voice_settings", NULL},
    {"voice_replays", NULL},
};
#define COPY_TABLE_COUNT (sizeof copy_tables / sizeof copy_tables[0])

typedef enum col_kind {
    COL_TEXT = 0, /* text, uuid, date, JSON: the text form is the same in both */
    COL_INT,
    COL_BOOL,
    COL_INSTANT,
} col_kind;

typedef struct column {
    char name[64];
    char cast[32]; /* PostgreSQL's type name (udt_name), "" when neither side is PostgreSQL */
    col_kind kind;
} column;

typedef struct columns {
    column col[SQL_MAX_ARGS];
    int count;
} columns;

/* ---- what each side holds ---------------------------------------------------------------- */

static const char sqlite_tables_sql[] = "SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite%' ORDER BY name";
static const char pg_tables_sql[] =
    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = "
    "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name";
static const char sqlite_columns_sql[] = "SELECT name, type FROM pragma_table_info($1::text)";
static const char pg_columns_sql[] =
    "SELECT column_name::text, udt_name::text FROM information_schema.columns WHERE "
    "table_schema = current_schema() AND table_name = $1::text ORDER BY ordinal_position";

/* Keeps the first table the copy does not know in ctx (char[64]). */
static int check_table(void *ctx, const sql_row *row, pms_error *err)
{
    (void)err;
    char *unknown = ctx;
    const char *name = sql_text(row, 0);
    if (name == NULL || strcmp(name, "schema_migrations") == 0 || unknown[0] != '\0')
        return PMS_OK;
    for (size_t i = 0; i < COPY_TABLE_COUNT; i++)
        if (strcmp(copy_tables[i].name, name) == 0)
            return PMS_OK;
    snprintf(unknown, 64, "%s", name);
    return PMS_OK;
}

/* Every table of db is one the copy knows. */
static int check_tables(sql_db *db, const char *side, pms_error *err)
{
    char unknown[64] = "";
    int rc = db->db->run(db, SQL_PICK(db, sqlite_tables_sql, pg_tables_sql), NULL, check_table,
                         unknown, NULL, "listing the tables", err);
    if (rc == PMS_OK && unknown[0] != '\0')
        rc = pms_error_set(err, PMS_ERR_STORE,
                           "the %s database has a table this program cannot copy (%s)", side,
                           unknown);
    return rc;
}

static int read_column(void *ctx, const sql_row *row, pms_error *err)
{
    columns *c = ctx;
    if (c->count == SQL_MAX_ARGS)
        return pms_error_set(err, PMS_ERR_STORE, "a table has more than %d columns", SQL_MAX_ARGS);
    column *col = &c->col[c->count++];
    sql_copy_text(row, 0, col->name, sizeof col->name);
    sql_copy_text(row, 1, col->cast, sizeof col->cast);
    return PMS_OK;
}

static int table_columns(sql_db *db, const char *table, columns *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, table);
    return db->db->run(db, SQL_PICK(db, sqlite_columns_sql, pg_columns_sql), &a, read_column, out,
                       NULL, "reading a table's columns", err);
}

static col_kind postgres_kind(const char *udt)
{
    if (strcmp(udt, "timestamptz") == 0)
        return COL_INSTANT;
    if (strcmp(udt, "bool") == 0)
        return COL_BOOL;
    if (strcmp(udt, "int2") == 0 || strcmp(udt, "int4") == 0 || strcmp(udt, "int8") == 0)
        return COL_INT;
    return COL_TEXT;
}

static const column *find_column(const columns *c, const char *name)
{
    for (int i = 0; i < c->count; i++)
        if (strcmp(c->col[i].name, name) == 0)
            return &c->col[i];
    return NULL;
}

/* The destination's columns, each found in the source, with the kind of value each holds: read
 * from whichever side is PostgreSQL (SQLite keeps instants and booleans as integers). */
static int plan_columns(sql_db *from, sql_db *to, const char *table, columns *out, pms_error *err)
{
    columns src;
    int rc = table_columns(from, table, &src, err);
    if (rc == PMS_OK)
        rc = table_columns(to, table, out, err);
    if (rc != PMS_OK)
        return rc;
    if (out->count == 0 || out->count != src.count)
        return pms_error_set(err, PMS_ERR_STORE,
                             "table %s differs between the databases (%d and %d columns)", table,
                             src.count, out->count);
    for (int i = 0; i < out->count; i++) {
        column *col = &out->col[i];
        const column *other = find_column(&src, col->name);
        if (other == NULL)
            return pms_error_set(err, PMS_ERR_STORE, "column %s.%s is not in the source", table,
                                 col->name);
        if (to->dialect == SQL_POSTGRES) {
            col->kind = postgres_kind(col->cast);
        } else if (from->dialect == SQL_POSTGRES) {
            col->kind = postgres_kind(other->cast);
            col->cast[0] = '\0';
        } else {
            col->kind = strcmp(col->cast, "INTEGER") == 0 ? COL_INT : COL_TEXT;
            col->cast[0] = '\0';
        }
    }
    return PMS_OK;
}

/* ---- statements ------------------------------------------------------------------------- */

/* Statements are built in a memory stream; NULL when out of memory. */
static char *finish(FILE *f, char **text)
{
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0 || failed) { /* the stream's text is only complete once closed */
        free(*text);
        return NULL;
    }
    return *text;
}

/* "SELECT a, b FROM t" (names come from the schema, never from data). */
static char *select_text(const char *table, const columns *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    fputs("SELECT ", f);
    for (int i = 0; i < c->count; i++)
        fprintf(f, "%s%s", i ? ", " : "", c->col[i].name);
    fprintf(f, " FROM %s", table);
    return finish(f, &text);
}

/* "INSERT INTO t (a, b) VALUES ($1::uuid, $2::timestamptz)", over the conflict key an update of
 * every other column. */
static char *insert_text(const struct copy_table *t, const columns *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    fprintf(f, "INSERT INTO %s (", t->name);
    for (int i = 0; i < c->count; i++)
        fprintf(f, "%s%s", i ? ", " : "", c->col[i].name);
    fputs(") VALUES (", f);
    for (int i = 0; i < c->count; i++)
        fprintf(f, "%s$%d%s%s", i ? ", " : "", i + 1, c->col[i].cast[0] ? "::" : "",
                c->col[i].cast);
    fputs(")", f);
    if (t->conflict_key) {
        fprintf(f, " ON CONFLICT (%s) DO UPDATE SET ", t->conflict_key);
        bool first = true;
        for (int i = 0; i < c->count; i++) {
            if (strcmp(c->col[i].name, t->conflict_key) == 0)
                continue;
            fprintf(f, "%s%s = excluded.%s", first ? "" : ", ", c->col[i].name, c->col[i].name);
            first = false;
        }
    }
    return finish(f, &text);
}

/* ---- copying ---------------------------------------------------------------------------- */

typedef struct row_copy {
    sql_db *to;
    const columns *cols;
    const char *insert;
    long long rows;
} row_copy;

static int copy_row(void *ctx, const sql_row *row, pms_error *err)
{
    row_copy *rc = ctx;
    sql_args a = {0};
    for (int i = 0; i < rc->cols->count; i++) {
        if (sql_is_null(row, i)) {
            sql_arg_null(&a, i + 1);
            continue;
        }
        switch (rc->cols->col[i].kind) {
        case COL_INT:
            sql_arg_int(&a, i + 1, sql_int(row, i));
            break;
        case COL_BOOL:
            sql_arg_bool(&a, i + 1, sql_bool(row, i));
            break;
        case COL_INSTANT:
            sql_arg_instant(&a, i + 1, sql_instant(row, i));
            break;
        case COL_TEXT:
            sql_arg_text(&a, i + 1, sql_text(row, i));
            break;
        }
    }
    a.count = rc->cols->count;
    rc->rows++;
    return rc->to->db->run_text(rc->to, rc->insert, &a, NULL, NULL, NULL, "writing a copied row",
                                err);
}

static int read_count(void *ctx, const sql_row *row, pms_error *err)
{
    (void)err;
    *(long long *)ctx = sql_int(row, 0);
    return PMS_OK;
}

/* The first column of the first row of a query made at run time. */
static int sql_count_text(sql_db *db, const char *sql, long long *n, pms_error *err)
{
    *n = 0;
    return db->db->run_text(db, sql, NULL, read_count, n, NULL, "counting rows", err);
}

/* Whether the destination holds anything beyond what its migrations made. */
static int check_empty(sql_db *to, pms_error *err)
{
    for (size_t i = 0; i < COPY_TABLE_COUNT; i++) {
        const char *table = copy_tables[i].name;
        char sql[200];
        if (strcmp(table, "accounts") == 0)
            snprintf(sql, sizeof sql,
                     "SELECT COUNT(*) FROM accounts WHERE CAST(id AS text) <> '%s'",
                     PMS_DEFAULT_ACCOUNT_ID);
        else if (strcmp(table, "audit_head") == 0)
            snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM audit_head WHERE seq <> 0");
        else
            snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
        long long n = 0;
        int rc = sql_count_text(to, sql, &n, err);
        if (rc != PMS_OK)
            return rc;
        if (n > 0)
            return pms_error_set(err, PMS_ERR_CONFLICT,
                                 "the destination database already holds data (table %s): copy "
                                 "into a new, empty database",
                                 table);
    }
    return PMS_OK;
}

static int copy_table(sql_db *from, sql_db *to, const struct copy_table *t,
                      pms_copy_progress_fn progress, void *ctx, pms_error *err)
{
    columns cols;
    int rc = plan_columns(from, to, t->name, &cols, err);
    if (rc != PMS_OK)
        return rc;
    char *select = select_text(t->name, &cols), *insert = insert_text(t, &cols);
    if (select == NULL || insert == NULL) {
        free(select);
        free(insert);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    row_copy copy = {.to = to, .cols = &cols, .insert = insert};
    char doing[96];
    snprintf(doing, sizeof doing, "reading table %s", t->name);
    rc = from->db->run_text(from, select, NULL, copy_row, &copy, NULL, doing, err);
    free(select);
    free(insert);
    /* Every row read from the source's snapshot is in the destination: it counts as many (the
     * rows its migrations made were written over, not added to). */
    char count_sql[160];
    snprintf(count_sql, sizeof count_sql, "SELECT COUNT(*) FROM %s", t->name);
    long long have = 0;
    if (rc == PMS_OK && (rc = sql_count_text(to, count_sql, &have, err)) == PMS_OK &&
        have != copy.rows)
        rc = pms_error_set(err, PMS_ERR_STORE,
                           "table %s has %lld rows in the destination, %lld in the source", t->name,
                           have, copy.rows);
    if (rc == PMS_OK && progress)
        progress(ctx, t->name, copy.rows);
    return rc;
}

int pms_store_copy(pms_store *from_st, pms_store *to_st, pms_copy_progress_fn progress, void *ctx,
                   pms_error *err)
{
    sql_db *from = SQL_DB(from_st), *to = SQL_DB(to_st);
    int from_version = 0, to_version = 0;
    int rc = from_st->ops->schema_version(from_st, &from_version, err);
    if (rc == PMS_OK)
        rc = to_st->ops->schema_version(to_st, &to_version, err);
    if (rc != PMS_OK)
        return rc;
    if (from_version != SQL_SCHEMA_VERSION || to_version != SQL_SCHEMA_VERSION)
        return pms_error_set(err, PMS_ERR_STORE,
                             "both databases must be at schema version %d (the source is at "
                             "%d, the destination at %d): run pmsctl db migrate on each",
                             SQL_SCHEMA_VERSION, from_version, to_version);
    if ((rc = check_tables(from, "source", err)) != PMS_OK ||
        (rc = check_tables(to, "destination", err)) != PMS_OK)
        return rc;
    if ((rc = from->db->begin_snapshot(from, err)) != PMS_OK)
        return rc;
    if ((rc = to_st->ops->begin(to_st, err)) != PMS_OK) {
        from_st->ops->rollback(from_st);
        return rc;
    }
    rc = check_empty(to, err);
    for (size_t i = 0; rc == PMS_OK && i < COPY_TABLE_COUNT; i++)
        rc = copy_table(from, to, &copy_tables[i], progress, ctx, err);
    if (rc == PMS_OK)
        rc = to_st->ops->commit(to_st, err);
    if (rc != PMS_OK)
        to_st->ops->rollback(to_st);
    from_st->ops->rollback(from_st);
    return rc;
}
