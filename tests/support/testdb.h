/* The database tests use (no cmocka): a SQLite file in the test's directory, or — with
 * PMSYNC_TEST_STORE=postgres — a database of a PostgreSQL cluster the test program starts for
 * itself on first use (pg_proc.h; one cluster per program, stopped at exit), a fresh database per
 * directory made from a migrated template (CREATE DATABASE ... TEMPLATE). */
#ifndef PMSYNC_TESTS_TESTDB_H
#define PMSYNC_TESTS_TESTDB_H

#include <stdbool.h>

/* Whether the tests run against PostgreSQL. */
bool tu_db_postgres(void);
/* The location (PMSYNC_DB) of dir's database: dir/pmsync.db, or a PostgreSQL database made for
 * dir on first use, migrated. Borrowed: valid until tu_db_drop(dir). NULL (after saying why on
 * stderr) when the cluster cannot start. */
const char *tu_db_location(const char *dir);
/* Another database of dir, empty (never migrated): dir/NAME.db, or a new PostgreSQL database. */
const char *tu_db_location_empty(const char *dir, const char *name);
/* Forgets dir's databases (PostgreSQL: drops them); tu_rmtree calls it. */
void tu_db_drop(const char *dir);
/* The first column of the first row of a query on a database (a location), from a connection of
 * its own; -1 when the query fails (why on stderr). */
long tu_db_query_count(const char *location, const char *sql);
/* Runs SQL on a database from a connection of its own (raw access, as someone with the
 * database's credentials would have); 0 when it succeeded. */
int tu_db_query_exec(const char *location, const char *sql);
/* SQL for an instant in the backend's column type: "1234" or "to_timestamp(1.234)". */
const char *tu_db_instant_sql(long long ms, char *buf, unsigned long len);
/* The running cluster (started when needed), for tests that need more than a database. */
struct tu_pg;
const struct tu_pg *tu_db_cluster(void);

#endif
