#include "testutil.h"

#include "sandbox_proc.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* One filter variable's pattern for this program: "PATTERN", or "PROGRAM:PATTERN" for one
 * program only (NULL: none). */
static const char *filter_for_me(const char *variable)
{
    const char *v = getenv(variable);
    if (v == NULL || *v == '\0')
        return NULL;
    const char *colon = strchr(v, ':');
    if (colon == NULL)
        return v;
    size_t len = (size_t)(colon - v);
    const char *me = program_invocation_short_name;
    return strlen(me) == len && strncmp(me, v, len) == 0 && colon[1] ? colon + 1 : NULL;
}

/* Before main: PMSYNC_TEST_ONLY and PMSYNC_TEST_SKIP (testutil.h). */
__attribute__((constructor)) static void apply_test_filters(void)
{
    const char *only = filter_for_me("PMSYNC_TEST_ONLY"), *skip = filter_for_me("PMSYNC_TEST_SKIP");
    if (only)
        cmocka_set_test_filter(only);
    if (skip)
        cmocka_set_skip_filter(skip);
}

char *tu_tempdir(void)
{
    char tmpl[] = "/tmp/pmsync-test-XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return strdup(dir);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path)
{
    if (path == NULL)
        return;
    tu_db_drop(path);
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_db(const char *dir)
{
    const char *location = tu_db_location(dir);
    if (location == NULL)
        fail_msg("no test database (see above)");
    return location;
}

pms_store *tu_open_store(const char *dir)
{
    pms_store *st = NULL;
    pms_error err = {0};
    int rc = pms_store_open(tu_db(dir), true, &st, &err);
    if (rc != PMS_OK)
        fail_msg("cannot open store: %s", err.message);
    return st;
}

long tu_db_count(const char *dir, const char *sql)
{
    long n = tu_db_query_count(tu_db(dir), sql);
    if (n < 0)
        fail_msg("count query failed: %s", sql);
    return n;
}

int tu_db_exec(const char *dir, const char *sql)
{
    return tu_db_query_exec(tu_db(dir), sql);
}

void tu_make_appt(pms_appointment *a, const char *connection_id, const char *id,
                  const char *practitioner_id, const char *start_iso, int minutes, bool telehealth)
{
    pms_appointment_init(a);
    pms_instant start;
    assert_int_equal(pms_iso8601_parse(start_iso, &start, NULL, NULL), PMS_OK);
    char buf[128];
    a->pms_type = strdup("fake");
    a->pms_appointment_id = strdup(id);
    a->pms_connection_id = strdup(connection_id);
    a->start_time = start;
    a->end_time = start + (pms_instant)minutes * 60000;
    a->duration_minutes = minutes;
    a->timezone = strdup("Australia/Melbourne");
    a->is_telehealth = telehealth;
    a->appointment_type_id = strdup(telehealth ? "type-tele" : "type-f2f");
    a->appointment_type_name = strdup(telehealth ? "Telehealth Consultation" : "Standard");
    a->status = PMS_STATUS_BOOKED;
    snprintf(buf, sizeof buf, "patient-%s", id);
    a->patient.pms_patient_id = strdup(buf);
    snprintf(buf, sizeof buf, "Pat %s Citizen", id);
    a->patient.full_name = strdup(buf);
    a->patient.first_name = strdup("Pat");
    a->patient.last_name = strdup("Citizen");
    a->patient.phone = strdup("+61412345678");
    a->patient.email = strdup("pat@example.com");
    a->patient.has_date_of_birth = true;
    a->patient.date_of_birth = (pms_date){1980, 5, 17};
    a->practitioner.pms_practitioner_id = strdup(practitioner_id);
    snprintf(buf, sizeof buf, "Dr %s", practitioner_id);
    a->practitioner.full_name = strdup(buf);
    a->notes = strdup("PMS note");
    a->fetched_at = pms_now();
    a->raw_data = json_pack("{s:s}", "id", id);
}

long tu_sqlite_count(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("bad SQL: %s", sqlite3_errmsg(db));
    long n = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

int tu_sqlite_exec(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

bool tu_file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    size_t needle_len = strlen(needle);
    bool found = needle_len <= len && memmem(buf, len, needle, needle_len) != NULL;
    free(buf);
    return found;
}

json_t *tu_sandbox_json(const tu_sandbox *box, const char *method, const char *path,
                        const char *body)
{
    long status = 0;
    json_t *json = tu_sandbox_try_json(box, method, path, body, &status);
    if (json == NULL)
        fail_msg("%s %s answered %ld", method, path, status);
    return json;
}
