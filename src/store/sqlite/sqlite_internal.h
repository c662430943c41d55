/* Shared internals of the SQLite store backend: the handle and what its files share. The
 * operations themselves are the SQL store's (store/sql). */
#ifndef PMSYNC_STORE_SQLITE_INTERNAL_H
#define PMSYNC_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store/sql/sql.h"

typedef struct cached_stmt {
    const char *sql; /* static SQL text: its address is the key */
    sqlite3_stmt *stmt;
} cached_stmt;

typedef struct sqlite_store {
    sql_db base;
    sqlite3 *db;
    char *path;
    char *lock_dir;
    cached_stmt *stmts;
    size_t stmt_count, stmt_cap;
} sqlite_store;

static inline sqlite_store *SQ(pms_store *st)
{
    return (sqlite_store *)st;
}

int sq_migrate(pms_store *st, pms_error *err);
int sq_lease_claim(pms_store *st, const char *worker, pms_instant now, long lease_ms, int max,
                   bool requests_only, pms_lease *out, int *count, pms_error *err);
int sq_notify(pms_store *st, const char *channel, const char *payload, pms_error *err);

#endif
