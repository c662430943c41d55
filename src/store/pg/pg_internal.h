/* Shared internals of the PostgreSQL store backend: the handle, connecting, and the value
 * conversions the listener and the tools share. The operations are the SQL store's
 * (store/sql). */
#ifndef PMSYNC_STORE_PG_INTERNAL_H
#define PMSYNC_STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stdint.h>

#include "pmsync/listen.h"
#include "store/sql/sql.h"

typedef struct pg_stmt {
    const char *sql; /* static SQL text: its address is the key */
    char name[16];
    int nparams;
    uint64_t uuid_params; /* bit i: $(i+1) is a uuid */
    bool insert;
    bool prepared; /* on the current server connection */
} pg_stmt;

typedef struct pg_store {
    sql_db base;
    PGconn *conn;
    pg_stmt *stmts;
    size_t stmt_count, stmt_cap;
    unsigned generation; /* moves on at each reconnection (session locks are gone then) */
} pg_store;

static inline pg_store *PG(pms_store *st)
{
    return (pg_store *)st;
}

/* Connects to location and prepares the session (UTC, ISO dates, a lock timeout, notices
 * kept off stderr). The error never repeats the location (it may hold a password). */
int pg_connect(const char *location, PGconn **out, pms_error *err);
/* PMS_ERR_STORE (PMS_ERR_CONFLICT for unique violations, serialization failures, deadlocks and
 * lock timeouts) for a failed result (NULL: the connection's error). Never a value of a
 * parameter: a data error is named by its SQLSTATE alone. */
int pg_fail(PGconn *conn, const PGresult *res, const char *doing, pms_error *err);

typedef struct pg_listener pg_listener;
int pg_listener_start(const char *location, const char *const *channels, pms_notification_fn fn,
                      void *ctx, pg_listener **out, pms_error *err);
void pg_listener_stop(pg_listener *l);

int pg_migrate(pms_store *st, pms_error *err);
int pg_lease_claim(pms_store *st, const char *worker, pms_instant now, long lease_ms, int max,
                   bool requests_only, pms_lease *out, int *count, pms_error *err);
int pg_notify(pms_store *st, const char *channel, const char *payload, pms_error *err);

#endif
