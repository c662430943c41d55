/* The SQL store's plumbing: arguments, column readers, the run helpers and the migration driver
 * every SQL backend shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sql/sql.h"

/* ---- arguments ------------------------------------------------------------------------- */

static sql_value *slot(sql_args *a, int i)
{
    if (i > a->count)
        a->count = i;
    sql_value *v = &a->v[i - 1];
    memset(v, 0, sizeof *v);
    return v;
}

void sql_arg_null(sql_args *a, int i)
{
    slot(a, i)->kind = SQL_NULL;
}

void sql_arg_text(sql_args *a, int i, const char *v)
{
    sql_value *s = slot(a, i);
    s->kind = v ? SQL_TEXT : SQL_NULL;
    s->text = v;
}

void sql_arg_int(sql_args *a, int i, long long v)
{
    sql_value *s = slot(a, i);
    s->kind = SQL_INT;
    s->num = v;
}

void sql_arg_bool(sql_args *a, int i, bool v)
{
    sql_value *s = slot(a, i);
    s->kind = SQL_BOOL;
    s->num = v ? 1 : 0;
}

void sql_arg_instant(sql_args *a, int i, pms_instant v)
{
    sql_value *s = slot(a, i);
    s->kind = v == PMS_INSTANT_NONE ? SQL_NULL : SQL_INSTANT;
    s->num = v;
}

void sql_arg_date(sql_args *a, int i, pms_date d)
{
    sql_value *s = slot(a, i);
    s->kind = pms_date_valid(d) ? SQL_DATE : SQL_NULL;
    s->date = d;
}

void sql_arg_json(sql_args *a, int i, const json_t *v)
{
    sql_value *s = slot(a, i);
    s->kind = v ? SQL_JSON : SQL_NULL;
    s->json = v;
}

/* ---- columns --------------------------------------------------------------------------- */

char *sql_strdup(const sql_row *r, int col, bool *oom)
{
    const char *v = sql_text(r, col);
    if (v == NULL)
        return NULL;
    char *copy = strdup(v);
    if (copy == NULL)
        *oom = true;
    return copy;
}

void sql_copy_text(const sql_row *r, int col, char *dst, size_t len)
{
    const char *v = sql_text(r, col);
    snprintf(dst, len, "%s", v ? v : "");
}

pms_date sql_date(const sql_row *r, int col)
{
    pms_date d = {0, 0, 0};
    const char *v = sql_text(r, col);
    if (v)
        pms_date_parse(v, &d, NULL);
    return d;
}

json_t *sql_json(const sql_row *r, int col)
{
    const char *v = sql_text(r, col);
    return v ? json_loads(v, JSON_DECODE_ANY, NULL) : NULL;
}

pms_role sql_role(const sql_row *r, int col)
{
    pms_role role;
    if (pms_role_parse(sql_text(r, col), &role) != PMS_OK)
        role = PMS_ROLE_AGENT; /* unreachable: the CHECK constraint; the least privilege */
    return role;
}

/* ---- running statements ------------------------------------------------------------------ */

int sql_exec(sql_db *db, const char *sql, const sql_args *args, long *changes, const char *doing,
             pms_error *err)
{
    return db->db->run(db, sql, args, NULL, NULL, changes, doing, err);
}

typedef struct one_ctx {
    sql_reader read;
    void *item;
    bool found;
} one_ctx;

static int read_first(void *arg, const sql_row *row, pms_error *err)
{
    one_ctx *one = arg;
    if (one->found)
        return PMS_OK;
    one->found = true;
    return one->read(row, one->item, err);
}

int sql_one(sql_db *db, const char *sql, const sql_args *args, sql_reader read, void *item,
            const char *not_found, const char *doing, pms_error *err)
{
    one_ctx one = {.read = read, .item = item};
    int rc = db->db->run(db, sql, args, read_first, &one, NULL, doing, err);
    if (rc == PMS_OK && !one.found)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "%s", not_found);
    return rc;
}

typedef struct collect_ctx {
    size_t item_size;
    void **items;
    size_t *count;
    sql_reader read;
} collect_ctx;

static int append_row(void *arg, const sql_row *row, pms_error *err)
{
    collect_ctx *c = arg;
    char *grown = realloc(*c->items, (*c->count + 1) * c->item_size);
    if (grown == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    *c->items = grown;
    void *item = grown + *c->count * c->item_size;
    memset(item, 0, c->item_size);
    int rc = c->read(row, item, err);
    if (rc == PMS_OK)
        (*c->count)++;
    return rc;
}

int sql_collect(sql_db *db, const char *sql, const sql_args *args, size_t item_size, void **items,
                size_t *count, sql_reader read, const char *doing, pms_error *err)
{
    collect_ctx c = {.item_size = item_size, .items = items, .count = count, .read = read};
    return db->db->run(db, sql, args, append_row, &c, NULL, doing, err);
}

int sql_read_string(const sql_row *row, void *item, pms_error *err)
{
    bool oom = false;
    *(char **)item = sql_strdup(row, 0, &oom);
    return oom ? pms_error_set(err, PMS_ERR_NOMEM, "out of memory") : PMS_OK;
}

static int read_count(const sql_row *row, void *item, pms_error *err)
{
    (void)err;
    *(long long *)item = sql_int(row, 0);
    return PMS_OK;
}

int sql_count(sql_db *db, const char *sql, const sql_args *args, long long *out, const char *doing,
              pms_error *err)
{
    one_ctx one = {.read = read_count, .item = out};
    *out = 0;
    return db->db->run(db, sql, args, read_first, &one, NULL, doing, err);
}

static const char account_exists_sql[] = "SELECT COUNT(*) FROM accounts WHERE id = $1::uuid";

int sql_account_exists(sql_db *db, const char *account_id, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    long long n = 0;
    int rc = sql_count(db, account_exists_sql, &a, &n, "reading an account", err);
    if (rc == PMS_OK && n == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no account with id %.64s", account_id);
    return rc;
}

/* ---- migrations ------------------------------------------------------------------------ */

static const char create_migrations_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                            "  version INTEGER PRIMARY KEY,"
                                            "  name TEXT NOT NULL,"
                                            "  applied_at %s NOT NULL)";
static const char sqlite_has_migrations_sql[] =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
static const char pg_has_migrations_sql[] =
    "SELECT COUNT(*) FROM pg_catalog.pg_tables "
    "WHERE tablename = 'schema_migrations' AND schemaname = current_schema()";
static const char version_sql[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char record_sql[] = "INSERT INTO schema_migrations (version, name, applied_at) "
                                 "VALUES ($1::integer, $2::text, $3::timestamptz)";

int sql_schema_version(pms_store *st, int *version, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    long long n = 0;
    *version = 0;
    int rc = sql_count(db, SQL_PICK(db, sqlite_has_migrations_sql, pg_has_migrations_sql), NULL, &n,
                       "reading the schema version", err);
    if (rc != PMS_OK || n == 0)
        return rc;
    if ((rc = sql_count(db, version_sql, NULL, &n, "reading the schema version", err)) == PMS_OK)
        *version = (int)n;
    return rc;
}

/* One step: applies the next migration, or says (*done) that there is none. */
static int migrate_step(sql_db *db, const sql_migration *list, int count, const char *lock_sql,
                        bool *done, pms_error *err)
{
    int rc, current = 0;
    if (lock_sql && (rc = sql_exec(db, lock_sql, NULL, NULL, "locking the schema", err)) != PMS_OK)
        return rc;
    /* Created under the lock: processes starting at once never race to create it. */
    char create[256];
    snprintf(create, sizeof create, create_migrations_sql, SQL_PICK(db, "INTEGER", "timestamptz"));
    if ((rc = sql_schema_version(&db->base, &current, err)) != PMS_OK ||
        (current == 0 &&
         (rc = db->db->script(db, create, "creating schema_migrations", err)) != PMS_OK))
        return rc;
    if (current > count)
        return pms_error_set(err, PMS_ERR_STORE,
                             "the database schema (version %d) is newer than this program "
                             "(version %d): upgrade pmsync",
                             current, count);
    if (current == count) {
        *done = true;
        return PMS_OK;
    }
    const sql_migration *m = &list[current];
    char doing[96];
    snprintf(doing, sizeof doing, "applying migration %d (%s)", m->version, m->name);
    if ((rc = db->db->script(db, m->sql, doing, err)) != PMS_OK)
        return rc;
    sql_args a = {0};
    sql_arg_int(&a, 1, m->version);
    sql_arg_text(&a, 2, m->name);
    sql_arg_instant(&a, 3, pms_now());
    return sql_exec(db, record_sql, &a, NULL, doing, err);
}

int sql_migrate(sql_db *db, const sql_migration *list, int count, const char *lock_sql,
                pms_error *err)
{
    pms_store *st = &db->base;
    for (;;) {
        /* Each step reads the version again inside its transaction (and lock), so processes
         * migrating at once apply each migration exactly once. */
        int rc = st->ops->begin(st, err);
        if (rc != PMS_OK)
            return rc;
        bool done = false;
        rc = migrate_step(db, list, count, lock_sql, &done, err);
        if (rc == PMS_OK && done) {
            st->ops->rollback(st);
            return PMS_OK;
        }
        if (rc == PMS_OK)
            rc = st->ops->commit(st, err);
        if (rc != PMS_OK) {
            st->ops->rollback(st);
            return rc;
        }
    }
}
