/* Helpers shared by the test programs.
 *
 * PMSYNC_TEST_ONLY and PMSYNC_TEST_SKIP, when set, are cmocka patterns ('*' and '?' wildcards)
 * of the test functions a program linked with these helpers runs, and of those it skips (reported
 * as skipped); "PROGRAM:PATTERN" applies to that program only, e.g. "test_sync:*sync*". For a
 * shorter run under a slow checker (scripts/check_valgrind.sh). */
#ifndef PMSYNC_TESTS_TESTUTIL_H
#define PMSYNC_TESTS_TESTUTIL_H

#include <stdbool.h>

#include "pmsync/model.h"
#include "pmsync/store.h"
#include "testdb.h"

/* A new private temporary directory (caller frees the path and removes it with tu_rmtree, which
 * also drops the directory's test databases). */
char *tu_tempdir(void);
void tu_rmtree(const char *path);

/* Opens and migrates dir's test database (testdb.h: SQLite file dir/pmsync.db, or PostgreSQL);
 * fails the test on error. */
pms_store *tu_open_store(const char *dir);
/* dir's test database's location; fails the test when there is none. */
const char *tu_db(const char *dir);
/* Counts rows of a query's first column on dir's test database (either backend: keep the SQL
 * portable) — for checks such as duplicates. Fails the test when the query fails. */
long tu_db_count(const char *dir, const char *sql);
/* Runs SQL on dir's test database from a connection of its own; 0 when it succeeded. */
int tu_db_exec(const char *dir, const char *sql);

/* A filled-in appointment: start is ISO 8601 with offset. Patient fields derived from id. */
void tu_make_appt(pms_appointment *a, const char *connection_id, const char *id,
                  const char *practitioner_id, const char *start_iso, int minutes, bool telehealth);

/* Counts rows of a SQL query's first column (SQLite file) — for checks such as duplicates. */
long tu_sqlite_count(const char *db_path, const char *sql);
/* Runs SQL on a SQLite file from a connection of its own (raw access, as an attacker with the
 * file would have); returns SQLite's result code. */
int tu_sqlite_exec(const char *db_path, const char *sql);
/* Whether the bytes of needle appear in the file (false when the file does not exist). */
bool tu_file_contains(const char *path, const char *needle);

#endif
