#include "testdb.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_proc.h"
#include "pmsync/store.h"

#define MAX_DATABASES 256
#define TEMPLATE      "pmsync_template"

typedef struct database {
    char dir[512];
    char name[64]; /* PostgreSQL's name ("" when free) */
    char location[768];
} database;

static database databases[MAX_DATABASES];
static tu_pg cluster;
static bool cluster_up, cluster_failed;
static int next_db;

bool tu_db_postgres(void)
{
    const char *v = getenv("PMSYNC_TEST_STORE");
    return v && (strcmp(v, "postgres") == 0 || strcmp(v, "postgresql") == 0);
}

static void shutdown_cluster(void)
{
    if (cluster_up)
        tu_pg_stop(&cluster);
    cluster_up = false;
}

/* Starts the cluster and its migrated template, once per process. */
static bool ensure_cluster(void)
{
    if (cluster_up)
        return true;
    if (cluster_failed)
        return false;
    char why[600], location[768];
    if (tu_pg_start(&cluster, why, sizeof why) != 0) {
        fprintf(stderr, "cannot start PostgreSQL for the tests: %s\n", why);
        cluster_failed = true;
        return false;
    }
    cluster_up = true;
    atexit(shutdown_cluster);
    pms_store *st = NULL;
    pms_error err = {0};
    tu_pg_location(&cluster, TEMPLATE, location, sizeof location);
    if (tu_pg_exec(&cluster, "postgres", "CREATE DATABASE " TEMPLATE, why, sizeof why) != 0 ||
        pms_store_open(location, true, &st, &err) != PMS_OK) {
        fprintf(stderr, "cannot make the template database: %s%s\n", why,
                err.message[0] ? err.message : "");
        cluster_failed = true;
        shutdown_cluster();
        return false;
    }
    pms_store_close(st);
    return true;
}

const struct tu_pg *tu_db_cluster(void)
{
    return ensure_cluster() ? &cluster : NULL;
}

static const char *location_for(const char *dir, const char *name, bool migrated)
{
    for (int i = 0; i < MAX_DATABASES; i++)
        if (strcmp(databases[i].dir, dir) == 0 && strcmp(databases[i].name + 1, name) == 0)
            return databases[i].location;
    database *d = NULL;
    for (int i = 0; i < MAX_DATABASES && d == NULL; i++)
        if (databases[i].dir[0] == '\0')
            d = &databases[i];
    if (d == NULL || (tu_db_postgres() && !ensure_cluster()))
        return NULL;
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    snprintf(d->name, sizeof d->name, "%c%s", migrated ? 'm' : 'e', name);
    if (!tu_db_postgres()) {
        snprintf(d->location, sizeof d->location, "%s/%s.db", dir, name);
        return d->location;
    }
    char db[64], sql[256], why[600];
    snprintf(db, sizeof db, "t%d_%d", (int)getpid(), ++next_db);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s", db,
             migrated ? TEMPLATE : "template0");
    if (tu_pg_exec(&cluster, "postgres", sql, why, sizeof why) != 0) {
        fprintf(stderr, "cannot create a test database: %s\n", why);
        d->dir[0] = '\0';
        return NULL;
    }
    tu_pg_location(&cluster, db, d->location, sizeof d->location);
    return d->location;
}

const char *tu_db_location(const char *dir)
{
    return location_for(dir, "pmsync", true);
}

const char *tu_db_location_empty(const char *dir, const char *name)
{
    return location_for(dir, name, false);
}

void tu_db_drop(const char *dir)
{
    for (int i = 0; i < MAX_DATABASES; i++) {
        database *d = &databases[i];
        if (d->dir[0] == '\0' || strcmp(d->dir, dir) != 0)
            continue;
        if (tu_db_postgres() && cluster_up) {
            const char *db = strstr(d->location, ":///") + 4;
            char sql[160], why[600];
            snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %.*s WITH (FORCE)",
                     (int)strcspn(db, "?"), db);
            if (tu_pg_exec(&cluster, "postgres", sql, why, sizeof why) != 0)
                fprintf(stderr, "cannot drop a test database: %s\n", why);
        }
        memset(d, 0, sizeof *d);
    }
}

long tu_db_query_count(const char *location, const char *sql)
{
    long n = -1;
    if (pms_store_location_is_postgres(location)) {
        PGconn *conn = PQconnectdb(location);
        PGresult *res = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, sql) : NULL;
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
            n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        else
            fprintf(stderr, "count query failed: %s",
                    res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        PQclear(res);
        PQfinish(conn);
        return n;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_open_v2(location, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(stmt, 0);
    else
        fprintf(stderr, "count query failed: %s\n", db ? sqlite3_errmsg(db) : "no database");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

int tu_db_query_exec(const char *location, const char *sql)
{
    if (pms_store_location_is_postgres(location)) {
        PGconn *conn = PQconnectdb(location);
        PGresult *res = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, sql) : NULL;
        ExecStatusType status = PQresultStatus(res);
        int rc = res && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) ? 0 : -1;
        PQclear(res);
        PQfinish(conn);
        return rc;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(location, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

const char *tu_db_instant_sql(long long ms, char *buf, unsigned long len)
{
    if (tu_db_postgres())
        snprintf(buf, len, "to_timestamp(%lld / 1000.0)", ms);
    else
        snprintf(buf, len, "%lld", ms);
    return buf;
}
