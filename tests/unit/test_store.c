/* The store contract: migrations (and processes migrating at once), connections, catalogue,
 * run-sheet entries, sync log, sync locks, leases (and workers claiming at once), the audit log
 * (and appends from several handles at once), notifications. Written against the ops struct: it
 * runs on SQLite (`store`) and on PostgreSQL (`store_pg`, PMSYNC_TEST_STORE=postgres). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pmsync/audit.h"
#include "pmsync/crypto.h"
#include "pmsync/listen.h"
#include "pmsync/tz.h"
#include "testutil.h"

/* Ids are UUIDs (PostgreSQL's id columns are uuid). */
#define CONN1   "c0000000-0000-4000-8000-000000000001"
#define CONN2   "c0000000-0000-4000-8000-000000000002"
#define CONN_TX "c0000000-0000-4000-8000-0000000000f0"
#define ACCT2   "a0000000-0000-4000-8000-000000000002"
#define KEY1    "b0000000-0000-4000-8000-000000000001"
#define KEY2    "b0000000-0000-4000-8000-000000000002"
#define KEY9    "b0000000-0000-4000-8000-000000000009"

typedef struct fixture {
    char *dir;
    const char *location; /* the test database (testdb.h) */
    pms_store *st;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    f->location = tu_db(f->dir);
    f->st = tu_open_store(f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pms_store_close(f->st);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Inserts a connection with a fixed id. */
static void add_connection(pms_store *st, const char *id)
{
    pms_connection c = {0};
    c.id = (char *)id;
    c.pms_type = (char *)"gentu";
    c.display_name = (char *)"Yarra Valley Medical";
    c.timezone = (char *)"Australia/Melbourne";
    c.sync_enabled = true;
    c.sync_frequency_minutes = 15;
    c.sync_telehealth_only = true;
    c.token_expires_at = PMS_INSTANT_NONE;
    c.last_sync_at = PMS_INSTANT_NONE;
    c.paired_at = PMS_INSTANT_NONE;
    pms_error err = {0};
    assert_int_equal(st->ops->connection_insert(st, &c, &err), PMS_OK);
}

static void migrations_are_idempotent(void **state)
{
    fixture *f = *state;
    pms_error err = {0};
    int v1 = 0, v2 = 0;
    assert_int_equal(f->st->ops->schema_version(f->st, &v1, &err), PMS_OK);
    assert_true(v1 >= 1);
    assert_int_equal(f->st->ops->migrate(f->st, &err), PMS_OK);
    assert_int_equal(f->st->ops->schema_version(f->st, &v2, &err), PMS_OK);
    assert_int_equal(v1, v2);
    assert_int_equal(tu_db_count(f->dir, "SELECT COUNT(*) FROM schema_migrations"), v1);
    /* A second handle on the same file migrates nothing and sees the same data. */
    pms_store *other = tu_open_store(f->dir);
    assert_int_equal(other->ops->schema_version(other, &v2, &err), PMS_OK);
    assert_int_equal(v1, v2);
    pms_store_close(other);
}

static void processes_migrating_at_once_apply_each_migration_once(void **state)
{
    fixture *f = *state;
    const char *fresh = tu_db_location_empty(f->dir, "fresh");
    assert_non_null(fresh);
    enum { PROCESSES = 4 };
    pid_t children[PROCESSES];
    for (int i = 0; i < PROCESSES; i++) {
        children[i] = fork();
        assert_true(children[i] >= 0);
        if (children[i] == 0) {
            pms_store *st = NULL;
            int rc = pms_store_open(fresh, true, &st, NULL);
            pms_store_close(st);
            _exit(rc == PMS_OK ? 0 : 1);
        }
    }
    for (int i = 0; i < PROCESSES; i++) {
        int status = 0;
        assert_int_equal(waitpid(children[i], &status, 0), children[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    long migrations = tu_db_query_count(fresh, "SELECT COUNT(*) FROM schema_migrations");
    assert_int_equal(migrations, f->st->ops->schema_latest);
    assert_int_equal(tu_db_query_count(fresh, "SELECT COUNT(*) FROM accounts"), 1);
}

static void connections_round_trip_and_cascade(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    add_connection(st, CONN1);
    pms_connection c;
    assert_int_equal(st->ops->connection_get(st, CONN1, &c, &err), PMS_OK);
    assert_string_equal(c.display_name, "Yarra Valley Medical");
    assert_string_equal(c.account_id, PMS_DEFAULT_ACCOUNT_ID);
    assert_true(c.sync_telehealth_only);
    assert_false(c.skip_unmapped);
    assert_true(c.created_at > 0);

    free(c.tenant_id);
    c.tenant_id = strdup("tenant-9");
    c.skip_unmapped = true;
    json_object_set_new(c.settings, "client_id", json_string("abc"));
    assert_int_equal(st->ops->connection_update(st, &c, &err), PMS_OK);
    pms_connection_clear(&c);
    assert_int_equal(st->ops->connection_get(st, CONN1, &c, &err), PMS_OK);
    assert_string_equal(c.tenant_id, "tenant-9");
    assert_true(c.skip_unmapped);
    assert_string_equal(json_string_value(json_object_get(c.settings, "client_id")), "abc");
    pms_connection_clear(&c);

    assert_int_equal(st->ops->connection_set_sync_result(st, CONN1, 1234, "partial",
                                                         "2 records malformed", &err),
                     PMS_OK);
    assert_int_equal(st->ops->connection_get(st, CONN1, &c, &err), PMS_OK);
    assert_int_equal(c.last_sync_at, 1234);
    assert_string_equal(c.last_sync_status, "partial");
    pms_connection_clear(&c);

    /* Appointment types and mappings go with their connection. */
    pms_appt_type t = {.id = (char *)"t1", .name = (char *)"Video", .duration_minutes = 15};
    assert_int_equal(st->ops->type_upsert_from_pms(st, CONN1, &t, &err), PMS_OK);
    pms_mapping m = {.pms_connection_id = (char *)CONN1,
                     .pms_practitioner_id = (char *)"p1",
                     .sync_enabled = true,
                     .pms_active = true,
                     .pms_bookable = true};
    assert_int_equal(st->ops->mapping_upsert(st, &m, &err), PMS_OK);
    free(m.id);
    assert_int_equal(st->ops->connection_delete(st, CONN1, &err), PMS_OK);
    assert_int_equal(tu_db_count(f->dir, "SELECT COUNT(*) FROM pms_appointment_types"), 0);
    assert_int_equal(tu_db_count(f->dir, "SELECT COUNT(*) FROM pms_clinician_mappings"), 0);
    assert_int_equal(st->ops->connection_get(st, CONN1, &c, &err), PMS_ERR_NOT_FOUND);
    assert_int_equal(st->ops->connection_delete(st, CONN1, &err), PMS_ERR_NOT_FOUND);
}

static void mapping_upsert_is_keyed_by_practitioner(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    add_connection(st, CONN1);
    pms_clinician clinician = {.name = (char *)"Dr John Smith"};
    assert_int_equal(st->ops->clinician_insert(st, &clinician, &err), PMS_OK);
    pms_mapping m = {.pms_connection_id = (char *)CONN1,
                     .pms_practitioner_id = (char *)"p1",
                     .pms_practitioner_name = (char *)"Dr. John Smith",
                     .run_sheet_clinician_id = clinician.id,
                     .sync_enabled = true,
                     .pms_active = true,
                     .pms_bookable = true};
    assert_int_equal(st->ops->mapping_upsert(st, &m, &err), PMS_OK);
    char *first_id = m.id;
    m.id = NULL;
    m.sync_enabled = false;
    assert_int_equal(st->ops->mapping_upsert(st, &m, &err), PMS_OK);
    assert_string_equal(m.id, first_id); /* same row */
    free(m.id);
    free(first_id);
    pms_mapping_list list = {0};
    assert_int_equal(st->ops->mapping_list(st, CONN1, &list, &err), PMS_OK);
    assert_int_equal(list.count, 1);
    assert_false(list.items[0].sync_enabled);
    assert_string_equal(list.items[0].clinician_name, "Dr John Smith");
    pms_mapping_list_clear(&list);
    free(clinician.id);
}

static void type_refresh_keeps_the_practices_choice(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    add_connection(st, CONN1);
    pms_appt_type t = {.id = (char *)"t1", .name = (char *)"Video Follow-up"};
    assert_int_equal(st->ops->type_upsert_from_pms(st, CONN1, &t, &err), PMS_OK);
    assert_int_equal(st->ops->type_set_flags(st, CONN1, "t1", 1, -1, &err), PMS_OK);
    t.name = (char *)"Video Review";
    t.duration_minutes = 20;
    assert_int_equal(st->ops->type_upsert_from_pms(st, CONN1, &t, &err), PMS_OK);
    pms_stored_type_list list = {0};
    assert_int_equal(st->ops->type_list(st, CONN1, &list, &err), PMS_OK);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].pms_type_name, "Video Review");
    assert_int_equal(list.items[0].default_duration_minutes, 20);
    assert_true(list.items[0].is_telehealth); /* the practice's choice survives */
    assert_true(list.items[0].sync_enabled);
    pms_stored_type_list_clear(&list);

    /* A PMS that says so itself (auto detection) decides. */
    pms_appt_type auto_type = {.id = (char *)"t2",
                               .name = (char *)"Consult",
                               .telehealth_auto_detected = true,
                               .is_telehealth = true};
    assert_int_equal(st->ops->type_upsert_from_pms(st, CONN1, &auto_type, &err), PMS_OK);
    auto_type.is_telehealth = false;
    assert_int_equal(st->ops->type_upsert_from_pms(st, CONN1, &auto_type, &err), PMS_OK);
    assert_int_equal(st->ops->type_list(st, CONN1, &list, &err), PMS_OK);
    assert_int_equal(list.count, 2);
    for (size_t i = 0; i < list.count; i++)
        if (strcmp(list.items[i].pms_type_id, "t2") == 0)
            assert_false(list.items[i].is_telehealth);
    pms_stored_type_list_clear(&list);
    assert_int_equal(st->ops->type_set_flags(st, CONN1, "nope", 1, -1, &err), PMS_ERR_NOT_FOUND);
}

static char *ensure_sheet(pms_store *st, pms_date day)
{
    char *id = NULL;
    pms_error err = {0};
    assert_int_equal(st->ops->run_sheet_ensure(st, PMS_DEFAULT_ACCOUNT_ID, day,
                                               "Australia/Melbourne", &id, &err),
                     PMS_OK);
    return id;
}

static void entry_with(pms_sheet_entry *e, const char *sheet, const char *id, const char *start)
{
    pms_sheet_entry_init(e);
    tu_make_appt(&e->appt, CONN1, id, "p1", start, 30, true);
    e->run_sheet_id = strdup(sheet);
    e->source = PMS_SOURCE_PMS;
    pms_appointment_content_hash(&e->appt, e->content_hash);
}

static void entries_upsert_edit_and_remove(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    add_connection(st, CONN1);
    pms_date day = {2026, 3, 2};
    char *sheet = ensure_sheet(st, day);
    char *again = ensure_sheet(st, day);
    assert_string_equal(sheet, again);
    free(again);

    pms_sheet_entry e;
    entry_with(&e, sheet, "a1", "2026-03-02T09:30:00.000+11:00");
    assert_int_equal(st->ops->entry_insert(st, &e, &err), PMS_OK);
    assert_non_null(e.id);

    /* The unique index refuses a second row for the same PMS appointment. */
    pms_sheet_entry dup;
    entry_with(&dup, sheet, "a1", "2026-03-02T09:30:00.000+11:00");
    assert_int_equal(st->ops->entry_insert(st, &dup, &err), PMS_ERR_CONFLICT);
    pms_sheet_entry_clear(&dup);

    /* Manual edits are kept apart from the PMS's values... */
    e.edited_phone = strdup("+61400000001");
    e.edited_start = e.appt.start_time + 15 * 60000;
    e.manual_notes = strdup("call first");
    e.edited_at = pms_now();
    assert_int_equal(st->ops->entry_update_edits(st, &e, &err), PMS_OK);
    /* ...and a source update leaves them alone. */
    free(e.appt.patient.phone);
    e.appt.patient.phone = strdup("+61499999999");
    e.appt.status = PMS_STATUS_CONFIRMED;
    assert_int_equal(st->ops->entry_update_source(st, &e, &err), PMS_OK);

    pms_sheet_entry got;
    assert_int_equal(st->ops->entry_find_pms(st, CONN1, "a1", &got, &err), PMS_OK);
    assert_string_equal(got.appt.patient.phone, "+61499999999");
    assert_string_equal(got.edited_phone, "+61400000001");
    assert_int_equal(got.edited_start, e.appt.start_time + 15 * 60000);
    assert_string_equal(got.manual_notes, "call first");
    assert_int_equal(got.appt.status, PMS_STATUS_CONFIRMED);
    assert_int_equal(got.sheet_date.day, 2);
    assert_true(got.appt.patient.has_date_of_birth);
    assert_int_equal(got.appt.patient.date_of_birth.year, 1980);
    assert_non_null(got.appt.raw_data);
    pms_sheet_entry_clear(&got);

    /* Removal, and a source update bringing it back. */
    assert_int_equal(st->ops->entry_mark_removed(st, e.id, 5000, &err), PMS_OK);
    pms_sheet_query q = {.account_id = PMS_DEFAULT_ACCOUNT_ID, .date = day};
    pms_sheet_entry_list list = {0};
    assert_int_equal(st->ops->entry_list(st, &q, &list, &err), PMS_OK);
    assert_int_equal(list.count, 0);
    pms_sheet_entry_list_clear(&list);
    q.include_removed = true;
    assert_int_equal(st->ops->entry_list(st, &q, &list, &err), PMS_OK);
    assert_int_equal(list.count, 1);
    assert_int_equal(list.items[0].removed_at, 5000);
    pms_sheet_entry_list_clear(&list);
    assert_int_equal(st->ops->entry_update_source(st, &e, &err), PMS_OK);
    q.include_removed = false;
    assert_int_equal(st->ops->entry_list(st, &q, &list, &err), PMS_OK);
    assert_int_equal(list.count, 1);
    pms_sheet_entry_list_clear(&list);

    pms_sheet_entry_clear(&e);
    free(sheet);
}

static int count_active(void *ctx, const char *id, const char *pms_id)
{
    (void)id;
    (void)pms_id;
    (*(int *)ctx)++;
    return PMS_OK;
}

static void active_entries_by_window(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    add_connection(st, CONN1);
    char *sheet = ensure_sheet(st, (pms_date){2026, 3, 2});
    const char *starts[] = {"2026-03-01T23:59:00.000+11:00", "2026-03-02T00:00:00.000+11:00",
                            "2026-03-02T23:59:00.000+11:00", "2026-03-03T00:00:00.000+11:00"};
    for (int i = 0; i < 4; i++) {
        pms_sheet_entry e;
        char id[8];
        snprintf(id, sizeof id, "w%d", i);
        entry_with(&e, sheet, id, starts[i]);
        assert_int_equal(st->ops->entry_insert(st, &e, &err), PMS_OK);
        pms_sheet_entry_clear(&e);
    }
    pms_instant from, to;
    assert_int_equal(pms_iso8601_parse(starts[1], &from, NULL, NULL), PMS_OK);
    assert_int_equal(pms_iso8601_parse(starts[3], &to, NULL, NULL), PMS_OK);
    int n = 0;
    assert_int_equal(st->ops->entry_each_active_pms(st, CONN1, from, to, count_active, &n, &err),
                     PMS_OK);
    assert_int_equal(n, 2); /* [from, to) */
    free(sheet);
}

static void ocr_entries_match_by_clinician_time_and_name(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    add_connection(st, CONN1);
    char *sheet = ensure_sheet(st, (pms_date){2026, 3, 2});
    pms_clinician clinician = {.name = (char *)"Dr Lee"};
    assert_int_equal(st->ops->clinician_insert(st, &clinician, &err), PMS_OK);
    pms_sheet_entry ocr;
    entry_with(&ocr, sheet, "x", "2026-03-02T10:00:00.000+11:00");
    free(ocr.appt.pms_appointment_id);
    free(ocr.appt.pms_connection_id);
    ocr.appt.pms_appointment_id = ocr.appt.pms_connection_id = NULL;
    free(ocr.appt.patient.full_name);
    ocr.appt.patient.full_name = strdup("MARY O'BRIEN");
    ocr.source = PMS_SOURCE_OCR;
    ocr.clinician_id = strdup(clinician.id);
    assert_int_equal(st->ops->entry_insert(st, &ocr, &err), PMS_OK);
    char *found = NULL;
    assert_int_equal(st->ops->entry_find_ocr_match(st, sheet, clinician.id, ocr.appt.start_time,
                                                   "mary obrien", &found, &err),
                     PMS_OK);
    assert_string_equal(found, ocr.id);
    free(found);
    assert_int_equal(st->ops->entry_find_ocr_match(st, sheet, clinician.id,
                                                   ocr.appt.start_time + 60000, "mary obrien",
                                                   &found, &err),
                     PMS_ERR_NOT_FOUND);
    pms_sheet_entry_clear(&ocr);
    free(clinician.id);
    free(sheet);
}

static void sync_log_lifecycle(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    add_connection(st, CONN1);
    pms_sync_log_entry e = {.pms_connection_id = (char *)CONN1,
                            .sync_type = (char *)"manual",
                            .window_from = {2026, 3, 2},
                            .window_to = {2026, 3, 2},
                            .started_at = 1000,
                            .worker = (char *)"1@host"};
    assert_int_equal(st->ops->sync_log_start(st, &e, &err), PMS_OK);
    char *first = e.id;
    assert_string_equal(e.status, "running");
    free(e.status);
    e.status = NULL;
    e.id = NULL;
    e.started_at = 2000;
    assert_int_equal(st->ops->sync_log_start(st, &e, &err), PMS_OK);
    e.completed_at = 2500;
    free(e.status);
    e.status = (char *)"success";
    e.counts = (pms_sync_counts){.fetched = 10,
                                 .created = 4,
                                 .updated = 1,
                                 .unchanged = 3,
                                 .skipped = 2,
                                 .removed = 1,
                                 .requests = 7};
    assert_int_equal(st->ops->sync_log_finish(st, &e, &err), PMS_OK);
    int failed = 0;
    assert_int_equal(st->ops->sync_log_fail_running(st, CONN1, "interrupted", &failed, &err),
                     PMS_OK);
    assert_int_equal(failed, 1);
    pms_sync_log_list list = {0};
    assert_int_equal(st->ops->sync_log_list(st, CONN1, 10, &list, &err), PMS_OK);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].status, "success"); /* newest first */
    assert_int_equal(list.items[0].counts.created, 4);
    assert_int_equal(list.items[0].counts.requests, 7);
    assert_string_equal(list.items[1].id, first);
    assert_string_equal(list.items[1].status, "failed");
    assert_string_equal(list.items[1].error_message, "interrupted");
    pms_sync_log_list_clear(&list);
    free(first);
    free(e.id);
}

static void sync_lock_is_exclusive_and_dies_with_its_process(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    pms_store_lock *lock = NULL, *second = NULL;
    assert_int_equal(st->ops->lock_connection(st, CONN1, &lock, &err), PMS_OK);
    pms_store *other = tu_open_store(f->dir);
    assert_int_equal(other->ops->lock_connection(other, CONN1, &second, &err), PMS_ERR_CONFLICT);
    assert_int_equal(other->ops->lock_connection(other, CONN2, &second, &err), PMS_OK);
    other->ops->unlock_connection(other, second);
    st->ops->unlock_connection(st, lock);
    assert_int_equal(other->ops->lock_connection(other, CONN1, &second, &err), PMS_OK);
    other->ops->unlock_connection(other, second);

    /* A process that dies holding the lock (kill -9) releases it. */
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pms_store *mine = NULL;
        pms_store_lock *held = NULL;
        if (pms_store_open(f->location, false, &mine, NULL) != PMS_OK ||
            mine->ops->lock_connection(mine, CONN1, &held, NULL) != PMS_OK)
            _exit(2);
        if (write(ready[1], "x", 1) != 1)
            _exit(3);
        pause();
        _exit(0);
    }
    char byte;
    assert_int_equal(read(ready[0], &byte, 1), 1);
    assert_int_equal(other->ops->lock_connection(other, CONN1, &second, &err), PMS_ERR_CONFLICT);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(other->ops->lock_connection(other, CONN1, &second, &err), PMS_OK);
    other->ops->unlock_connection(other, second);
    close(ready[0]);
    close(ready[1]);
    pms_store_close(other);
}

/* Reads the version text of a day's run sheet. */
static void version_of(pms_store *st, pms_date day, char out[PMS_STORE_VERSION_LEN])
{
    pms_error err = {0};
    assert_int_equal(st->ops->run_sheet_version(st, PMS_DEFAULT_ACCOUNT_ID, day, out, &err),
                     PMS_OK);
}

static void run_sheet_version_moves_with_every_change(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    add_connection(st, CONN1);
    pms_date day = {2026, 3, 2}, other_day = {2026, 3, 3};
    char v0[PMS_STORE_VERSION_LEN], v[PMS_STORE_VERSION_LEN], w[PMS_STORE_VERSION_LEN];
    version_of(st, day, v0);
    char *sheet = ensure_sheet(st, day);
    char *other = ensure_sheet(st, other_day);
    version_of(st, day, v);
    assert_string_not_equal(v, v0); /* the sheet exists now */

    pms_sheet_entry e;
    entry_with(&e, sheet, "a1", "2026-03-02T09:30:00.000+11:00");
    assert_int_equal(st->ops->entry_insert(st, &e, &err), PMS_OK);
    version_of(st, day, w);
    assert_string_not_equal(w, v);
    /* Another day's change leaves this day's version alone. */
    pms_sheet_entry o;
    entry_with(&o, other, "b1", "2026-03-03T09:30:00.000+11:00");
    assert_int_equal(st->ops->entry_insert(st, &o, &err), PMS_OK);
    version_of(st, day, v);
    assert_string_equal(v, w);
    /* Edits, source updates, removals and clinicians all move it. */
    e.manual_notes = strdup("call first");
    assert_int_equal(st->ops->entry_update_edits(st, &e, &err), PMS_OK);
    version_of(st, day, w);
    assert_string_not_equal(w, v);
    assert_int_equal(st->ops->entry_mark_removed(st, e.id, pms_now(), &err), PMS_OK);
    version_of(st, day, v);
    assert_string_not_equal(v, w);
    pms_clinician c = {.name = "Dr New Column"};
    assert_int_equal(st->ops->clinician_insert(st, &c, &err), PMS_OK);
    free(c.id);
    version_of(st, day, w);
    assert_string_not_equal(w, v);
    /* Removing the connection removes its appointments: the version moves (cascade). */
    assert_int_equal(st->ops->connection_delete(st, CONN1, &err), PMS_OK);
    version_of(st, day, v);
    assert_string_not_equal(v, w);
    /* A handle on another connection to the same file sees it too. */
    pms_store *second = tu_open_store(f->dir);
    version_of(second, day, w);
    assert_string_equal(w, v);
    pms_store_close(second);
    pms_sheet_entry_clear(&e);
    pms_sheet_entry_clear(&o);
    free(sheet);
    free(other);
}

static void leases_share_the_work_and_fence_stale_writers(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    add_connection(st, CONN1);
    add_connection(st, CONN2);
    pms_instant now = pms_now();
    /* conn-2 is not due for a while; conn-1 never synced: due at once. */
    assert_int_equal(st->ops->schedule_set(st, CONN2, now + 600000, &err), PMS_OK);
    pms_lease got[4];
    int n = 0;
    assert_int_equal(st->ops->lease_claim(st, "worker-a", now, 60000, 4, false, got, &n, &err),
                     PMS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].connection_id, CONN1);
    long long token = got[0].token;
    assert_true(token > 0);
    /* Leased: nobody else gets it, and a request is refused. */
    assert_int_equal(st->ops->lease_claim(st, "worker-b", now, 60000, 4, false, got, &n, &err),
                     PMS_OK);
    assert_int_equal(n, 0);
    assert_int_equal(st->ops->sync_request(st, CONN1, NULL, &err), PMS_ERR_CONFLICT);
    pms_schedule_info info;
    assert_int_equal(st->ops->schedule_get(st, CONN1, now, &info, &err), PMS_OK);
    assert_true(info.leased);
    assert_string_equal(info.lease_owner, "worker-a");
    /* The holder writes under its token, which also extends the lease. */
    assert_int_equal(st->ops->begin(st, &err), PMS_OK);
    assert_int_equal(st->ops->lease_check(st, CONN1, token, now + 60000, &err), PMS_OK);
    assert_int_equal(st->ops->commit(st, &err), PMS_OK);
    /* The lease runs out (the worker died): another worker takes it with a new token, and the
     * old token can write nothing more. */
    pms_instant later = now + 120000;
    assert_int_equal(st->ops->lease_claim(st, "worker-b", later, 60000, 4, false, got, &n, &err),
                     PMS_OK);
    assert_int_equal(n, 1);
    assert_true(got[0].token > token);
    assert_int_equal(st->ops->lease_check(st, CONN1, token, later + 60000, &err), PMS_ERR_CONFLICT);
    assert_int_equal(st->ops->lease_release(st, CONN1, token, later, 0, &err), PMS_ERR_CONFLICT);
    /* The new holder releases and schedules the next sync. */
    assert_int_equal(st->ops->lease_release(st, CONN1, got[0].token, later + 900000, 2, &err),
                     PMS_OK);
    assert_int_equal(st->ops->schedule_get(st, CONN1, later, &info, &err), PMS_OK);
    assert_false(info.leased);
    assert_int_equal(info.failures, 2);
    assert_int_equal(info.next_sync_at, later + 900000);
    /* A request makes a connection due at once, whatever its schedule, with its window. */
    pms_sync_window w = {.today = false, .from = {2026, 3, 2}, .to = {2026, 3, 4}};
    snprintf(w.sync_type, sizeof w.sync_type, "manual");
    /* Only requests, when asked so: conn-2 is not due by schedule. */
    assert_int_equal(st->ops->lease_claim(st, "worker-a", later, 60000, 4, true, got, &n, &err),
                     PMS_OK);
    assert_int_equal(n, 0);
    assert_int_equal(st->ops->sync_request(st, CONN2, &w, &err), PMS_OK);
    assert_int_equal(st->ops->sync_request(st, CONN2, NULL, &err), PMS_ERR_CONFLICT);
    pms_schedule_stats stats;
    assert_int_equal(st->ops->schedule_stats(st, later, &stats, &err), PMS_OK);
    assert_int_equal(stats.requested, 1);
    assert_int_equal(stats.due, 1);
    assert_int_equal(st->ops->lease_claim(st, "worker-a", later, 60000, 4, false, got, &n, &err),
                     PMS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].connection_id, CONN2);
    assert_true(got[0].requested);
    assert_false(got[0].window.today);
    assert_int_equal(got[0].window.to.day, 4);
    assert_int_equal(st->ops->lease_release(st, CONN2, got[0].token, later + 900000, 0, &err),
                     PMS_OK);
    assert_int_equal(st->ops->schedule_get(st, CONN2, later, &info, &err), PMS_OK);
    assert_false(info.requested);
    assert_int_equal(st->ops->sync_request(st, "missing", NULL, &err), PMS_ERR_NOT_FOUND);
}

/* Workers with a handle each claim until nothing is due: every connection once. */
typedef struct claimer {
    const char *location;
    char worker[16];
    char claimed[40][PMS_STORE_ID_LEN];
    int count;
    int failures;
} claimer;

static void *claim_until_done(void *arg)
{
    claimer *c = arg;
    pms_store *st = NULL;
    if (pms_store_open(c->location, false, &st, NULL) != PMS_OK) {
        c->failures++;
        return NULL;
    }
    for (;;) {
        pms_lease got[3];
        int n = 0;
        if (st->ops->lease_claim(st, c->worker, pms_now(), 600000, 3, false, got, &n, NULL) !=
            PMS_OK) {
            c->failures++;
            continue;
        }
        if (n == 0)
            break;
        for (int i = 0; i < n && c->count < 40; i++)
            snprintf(c->claimed[c->count++], PMS_STORE_ID_LEN, "%s", got[i].connection_id);
    }
    pms_store_close(st);
    return NULL;
}

static void workers_claiming_at_once_never_share_a_connection(void **state)
{
    fixture *f = *state;
    enum { CONNECTIONS = 30, WORKERS = 4 };
    char ids[CONNECTIONS][64];
    for (int i = 0; i < CONNECTIONS; i++) {
        snprintf(ids[i], sizeof ids[i], "c1000000-0000-4000-8000-%012d", i);
        add_connection(f->st, ids[i]);
    }
    pthread_t threads[WORKERS];
    claimer *c = calloc(WORKERS, sizeof *c);
    for (int w = 0; w < WORKERS; w++) {
        c[w].location = f->location;
        snprintf(c[w].worker, sizeof c[w].worker, "worker-%d", w);
        assert_int_equal(pthread_create(&threads[w], NULL, claim_until_done, &c[w]), 0);
    }
    int total = 0;
    for (int w = 0; w < WORKERS; w++) {
        pthread_join(threads[w], NULL);
        assert_int_equal(c[w].failures, 0);
        total += c[w].count;
    }
    assert_int_equal(total, CONNECTIONS);
    for (int i = 0; i < CONNECTIONS; i++) {
        int seen = 0;
        for (int w = 0; w < WORKERS; w++)
            for (int k = 0; k < c[w].count; k++)
                seen += strcmp(c[w].claimed[k], ids[i]) == 0;
        assert_int_equal(seen, 1);
    }
    free(c);
}

/* Handles appending to the audit log at once take turns: one gapless, verifying chain. */
typedef struct appender {
    const char *location;
    const pms_keyring *ring;
    int failures;
} appender;

static void *append_some(void *arg)
{
    appender *a = arg;
    pms_store *st = NULL;
    if (pms_store_open(a->location, false, &st, NULL) != PMS_OK) {
        a->failures++;
        return NULL;
    }
    for (int i = 0; i < 25; i++) {
        pms_audit_event e = {.actor_role = "system", .action = "test.write", .resource = "t/1"};
        if (pms_audit_append(st, a->ring, &e, NULL) != PMS_OK)
            a->failures++;
    }
    pms_store_close(st);
    return NULL;
}

static void audit_appends_from_several_handles_take_turns(void **state)
{
    fixture *f = *state;
    static const unsigned char key[PMS_KEY_BYTES] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                                     7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                                     7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    pms_keyring *ring = NULL;
    assert_int_equal(pms_keyring_from_raw(key, &ring, NULL), PMS_OK);
    enum { WRITERS = 4 };
    pthread_t threads[WRITERS];
    appender a[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        a[i] = (appender){.location = f->location, .ring = ring};
        assert_int_equal(pthread_create(&threads[i], NULL, append_some, &a[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(a[i].failures, 0);
    }
    pms_audit_report r;
    assert_int_equal(pms_audit_verify(f->st, ring, &r, NULL), PMS_OK);
    assert_true(r.intact);
    assert_int_equal(r.records, WRITERS * 25);
    assert_int_equal(r.head.seq, WRITERS * 25);
    pms_keyring_free(ring);
}

/* What a listener heard, in order. */
typedef struct heard {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char items[16][64];
    int count;
} heard;

static void hear(void *ctx, const char *channel, const char *payload)
{
    heard *h = ctx;
    pthread_mutex_lock(&h->lock);
    if (h->count < 16)
        snprintf(h->items[h->count++], sizeof h->items[0], "%s:%s", channel ? channel : "-",
                 payload);
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
}

/* Waits up to ms for the listener to have heard n things. */
static int heard_count(heard *h, int n, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->lock);
    while (h->count < n && pthread_cond_timedwait(&h->changed, &h->lock, &until) == 0)
        ;
    int count = h->count;
    pthread_mutex_unlock(&h->lock);
    return count;
}

static void notifications_reach_listeners_after_commit(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    heard h = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    pms_listener *l = NULL;
    const char *const channels[] = {"pmsync_test", "pmsync_other", NULL};
    assert_int_equal(pms_listener_start(f->location, channels, hear, &h, &l, &err), PMS_OK);
    assert_int_equal(st->ops->notify(st, "pmsync_test", "a", &err), PMS_OK);
    assert_int_equal(st->ops->notify(st, "pmsync_other", "b", &err), PMS_OK);
    assert_int_equal(st->ops->notify(st, "pmsync_test", "c", &err), PMS_OK);
    if (!tu_db_postgres()) {
        /* One process: nothing to tell, nothing heard. */
        assert_int_equal(heard_count(&h, 1, 200), 0);
        pms_listener_stop(l);
        return;
    }
    assert_int_equal(heard_count(&h, 3, 5000), 3);
    assert_string_equal(h.items[0], "pmsync_test:a");
    assert_string_equal(h.items[1], "pmsync_other:b");
    assert_string_equal(h.items[2], "pmsync_test:c");
    /* Inside a transaction: heard at commit, not before; never after a rollback. */
    assert_int_equal(st->ops->begin(st, &err), PMS_OK);
    assert_int_equal(st->ops->notify(st, "pmsync_test", "rolled-back", &err), PMS_OK);
    st->ops->rollback(st);
    assert_int_equal(st->ops->begin(st, &err), PMS_OK);
    assert_int_equal(st->ops->notify(st, "pmsync_test", "d", &err), PMS_OK);
    assert_int_equal(heard_count(&h, 4, 300), 3);
    assert_int_equal(st->ops->commit(st, &err), PMS_OK);
    assert_int_equal(heard_count(&h, 4, 5000), 4);
    assert_string_equal(h.items[3], "pmsync_test:d");
    /* The server drops the listener's connection: it comes back and says so. */
    assert_int_equal(tu_db_exec(f->dir, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE query LIKE 'LISTEN %'"),
                     0);
    assert_int_equal(heard_count(&h, 5, 10000), 5);
    assert_string_equal(h.items[4], "-:reconnected");
    assert_int_equal(st->ops->notify(st, "pmsync_other", "e", &err), PMS_OK);
    assert_int_equal(heard_count(&h, 6, 5000), 6);
    assert_string_equal(h.items[5], "pmsync_other:e");
    pms_listener_stop(l);
}

static void transactions_roll_back(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    assert_int_equal(st->ops->begin(st, &err), PMS_OK);
    add_connection(st, CONN_TX);
    st->ops->rollback(st);
    pms_connection c;
    assert_int_equal(st->ops->connection_get(st, CONN_TX, &c, &err), PMS_ERR_NOT_FOUND);
    assert_int_equal(st->ops->begin(st, &err), PMS_OK);
    add_connection(st, CONN_TX);
    assert_int_equal(st->ops->commit(st, &err), PMS_OK);
    assert_int_equal(st->ops->connection_get(st, CONN_TX, &c, &err), PMS_OK);
    pms_connection_clear(&c);
}

static void accounts_and_api_keys_round_trip(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    /* the default account of migration 1 is there */
    pms_account a;
    assert_int_equal(st->ops->account_get(st, PMS_DEFAULT_ACCOUNT_ID, &a, &err), PMS_OK);
    assert_string_equal(a.name, "Default account");
    pms_account_clear(&a);
    pms_account add = {(char *)ACCT2, (char *)"Bay Clinic", (char *)"Australia/Adelaide",
                       PMS_INSTANT_NONE};
    assert_int_equal(st->ops->account_insert(st, &add, &err), PMS_OK);
    assert_int_equal(st->ops->account_insert(st, &add, &err), PMS_ERR_CONFLICT);
    assert_int_equal(st->ops->account_get(st, "nope", &a, &err), PMS_ERR_NOT_FOUND);
    pms_account_array accounts = {0};
    assert_int_equal(st->ops->account_list(st, &accounts, &err), PMS_OK);
    assert_int_equal(accounts.count, 2);
    assert_string_equal(accounts.items[1].timezone, "Australia/Adelaide");
    assert_true(accounts.items[1].created_at > 0);
    pms_account_array_clear(&accounts);

    pms_api_key k = {
        .id = (char *)KEY1,
        .account_id = (char *)ACCT2,
        .name = (char *)"front desk",
        .role = PMS_ROLE_STAFF,
        .prefix = "abcdefABCDEF",
        .key_hash = "00",
        .created_at = 1000,
        .last_used_at = PMS_INSTANT_NONE,
        .revoked_at = PMS_INSTANT_NONE,
    };
    assert_int_equal(st->ops->api_key_insert(st, &k, &err), PMS_OK);
    /* the prefix is unique; the account must exist */
    k.id = (char *)KEY2;
    assert_int_equal(st->ops->api_key_insert(st, &k, &err), PMS_ERR_CONFLICT);
    snprintf(k.prefix, sizeof k.prefix, "%s", "zzzzzzzzzzzz");
    k.account_id = (char *)"no-such-account";
    assert_int_equal(st->ops->api_key_insert(st, &k, &err), PMS_ERR_NOT_FOUND);

    pms_api_key got;
    assert_int_equal(st->ops->api_key_find_by_prefix(st, "abcdefABCDEF", &got, &err), PMS_OK);
    assert_string_equal(got.id, KEY1);
    assert_int_equal(got.role, PMS_ROLE_STAFF);
    assert_int_equal(got.last_used_at, PMS_INSTANT_NONE);
    assert_int_equal(got.revoked_at, PMS_INSTANT_NONE);
    pms_api_key_clear(&got);
    assert_int_equal(st->ops->api_key_find_by_prefix(st, "ABCDEFabcdef", &got, &err),
                     PMS_ERR_NOT_FOUND);

    /* touch writes at most once per interval */
    assert_int_equal(st->ops->api_key_touch(st, KEY1, 100000, 60000, &err), PMS_OK);
    assert_int_equal(st->ops->api_key_touch(st, KEY1, 130000, 60000, &err), PMS_OK);
    assert_int_equal(st->ops->api_key_find_by_prefix(st, "abcdefABCDEF", &got, &err), PMS_OK);
    assert_int_equal(got.last_used_at, 100000);
    pms_api_key_clear(&got);
    assert_int_equal(st->ops->api_key_touch(st, KEY1, 160000, 60000, &err), PMS_OK);
    assert_int_equal(st->ops->api_key_find_by_prefix(st, "abcdefABCDEF", &got, &err), PMS_OK);
    assert_int_equal(got.last_used_at, 160000);
    pms_api_key_clear(&got);

    /* revoking is scoped to an account when one is given, and keeps the first time */
    assert_int_equal(st->ops->api_key_revoke(st, PMS_DEFAULT_ACCOUNT_ID, KEY1, 5000, &err),
                     PMS_ERR_NOT_FOUND);
    assert_int_equal(st->ops->api_key_revoke(st, ACCT2, KEY1, 5000, &err), PMS_OK);
    assert_int_equal(st->ops->api_key_revoke(st, NULL, KEY1, 9000, &err), PMS_OK);
    assert_int_equal(st->ops->api_key_revoke(st, NULL, KEY9, 9000, &err), PMS_ERR_NOT_FOUND);
    pms_api_key_array keys = {0};
    assert_int_equal(st->ops->api_key_list(st, ACCT2, &keys, &err), PMS_OK);
    assert_int_equal(keys.count, 1);
    assert_int_equal(keys.items[0].revoked_at, 5000);
    pms_api_key_array_clear(&keys);
    assert_int_equal(st->ops->api_key_list(st, PMS_DEFAULT_ACCOUNT_ID, &keys, &err), PMS_OK);
    assert_int_equal(keys.count, 0);
    pms_api_key_array_clear(&keys);
}

static void audit_log_is_append_only(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    pms_audit_head head;
    assert_int_equal(st->ops->audit_head_get(st, &head, &err), PMS_OK);
    assert_int_equal(head.seq, 0);
    assert_int_equal(strspn(head.hash, "0"), 64);
    assert_string_equal(head.key_id, "");
    assert_string_equal(head.mac, "");
    pms_audit_record r = {
        .seq = 1,
        .at = 1000,
        .actor_role = "system",
        .action = "test.write",
        .resource = "tests/1",
        .patient_ids = "[]",
        .key_id = "0123456789abcdef",
        .prev_hash = head.hash,
        .hash = "11",
    };
    assert_int_equal(st->ops->audit_insert(st, &r, &err), PMS_OK);
    assert_int_equal(st->ops->audit_insert(st, &r, &err), PMS_ERR_CONFLICT); /* seq taken */
    long long n = -1;
    assert_int_equal(st->ops->audit_count_key(st, "0123456789abcdef", &n, &err), PMS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(st->ops->audit_count_key(st, "fedcba9876543210", &n, &err), PMS_OK);
    assert_int_equal(n, 0);
    /* the database refuses changes and removals of records, and removal of the head */
    assert_int_not_equal(tu_db_exec(f->dir, "UPDATE audit_log SET resource = 'x'"), 0);
    assert_int_not_equal(tu_db_exec(f->dir, "DELETE FROM audit_log"), 0);
    assert_int_not_equal(tu_db_exec(f->dir, "DELETE FROM audit_head"), 0);
    if (tu_db_postgres()) {
        assert_int_not_equal(tu_db_exec(f->dir, "TRUNCATE audit_log"), 0);
        assert_int_not_equal(tu_db_exec(f->dir, "TRUNCATE audit_head"), 0);
    }
    assert_int_equal(tu_db_count(f->dir, "SELECT COUNT(*) FROM audit_log"), 1);
    /* an account's removal leaves its audit records */
    assert_int_equal(tu_db_count(f->dir, tu_db_postgres()
                                             ? "SELECT COUNT(*) FROM information_schema."
                                               "table_constraints WHERE table_name = 'audit_log' "
                                               "AND constraint_type = 'FOREIGN KEY'"
                                             : "SELECT COUNT(*) FROM "
                                               "pragma_foreign_key_list('audit_log')"),
                     0);
}

static void locations_are_printed_without_passwords(void **state)
{
    (void)state;
    char out[256];
    pms_store_location_redacted("postgres://pmsync:Qzpw1@db.example:5432/pmsync?sslmode=require",
                                out, sizeof out);
    assert_string_equal(out, "postgres://pmsync:***@db.example:5432/pmsync?sslmode=require");
    pms_store_location_redacted("postgresql:///pmsync?host=/run/postgresql&password=Qzpw2&user=u",
                                out, sizeof out);
    assert_string_equal(out, "postgresql:///pmsync?host=/run/postgresql&password=***&user=u");
    pms_store_location_redacted("postgres://u@h/db?password=Qzpw3", out, sizeof out);
    assert_string_equal(out, "postgres://u@h/db?password=***");
    pms_store_location_redacted("postgres://u@h/db", out, sizeof out);
    assert_string_equal(out, "postgres://u@h/db");
    pms_store_location_redacted("/var/lib/pmsync/pmsync.db", out, sizeof out);
    assert_string_equal(out, "/var/lib/pmsync/pmsync.db");
    /* A short buffer still ends the text and holds no password. */
    char small[20];
    pms_store_location_redacted("postgres://pmsync:Qzpw4@h/db", small, sizeof small);
    assert_null(strstr(small, "Qzpw4"));
    assert_true(strlen(small) < sizeof small);
}

/* A write is claimed once per (account, key), keeps its answer, and pending ones come due. */
static void writes_are_claimed_once_and_keep_their_answer(void **state)
{
    fixture *f = *state;
    pms_store *st = f->st;
    pms_error err = {0};
    pms_write_record r = {
        .account_id = (char *)PMS_DEFAULT_ACCOUNT_ID,
        .idem_key = (char *)"call-1:tool-1",
        .request_hash = (char *)"aa",
        .operation = (char *)"book",
        .connection_id = NULL,
        .created_at = 1000,
    };
    bool claimed = false;
    pms_write_record seen = {0};
    assert_int_equal(st->ops->write_claim(st, &r, &claimed, &seen, &err), PMS_OK);
    assert_true(claimed);
    assert_int_equal(st->ops->write_claim(st, &r, &claimed, &seen, &err), PMS_OK);
    assert_false(claimed);
    assert_string_equal(seen.state, "in_progress");
    assert_string_equal(seen.request_hash, "aa");
    assert_null(seen.response);
    pms_write_record_clear(&seen);

    json_t *answer = json_pack("{s:s}", "state", "pending");
    r.state = (char *)"pending";
    r.http_status = 202;
    r.response = answer;
    r.tracking_id = (char *)"wb-1";
    r.next_check_at = 2000;
    r.updated_at = 1500;
    assert_int_equal(st->ops->write_update(st, &r, &err), PMS_OK);
    pms_write_record_array due = {0};
    assert_int_equal(st->ops->write_due(st, 1999, 10, &due, &err), PMS_OK);
    assert_int_equal(due.count, 0);
    pms_write_record_array_clear(&due);
    assert_int_equal(st->ops->write_due(st, 2000, 10, &due, &err), PMS_OK);
    assert_int_equal(due.count, 1);
    assert_string_equal(due.items[0].tracking_id, "wb-1");
    assert_int_equal(due.items[0].http_status, 202);
    assert_string_equal(json_string_value(json_object_get(due.items[0].response, "state")),
                        "pending");
    pms_write_record_array_clear(&due);
    json_decref(answer);
    assert_int_equal(st->ops->write_get(st, PMS_DEFAULT_ACCOUNT_ID, "other", &seen, &err),
                     PMS_ERR_NOT_FOUND);

    pms_voice_settings v = {.account_id = (char *)PMS_DEFAULT_ACCOUNT_ID,
                            .bearer_sealed = (char *)"sealed",
                            .updated_at = 5};
    assert_int_equal(st->ops->voice_settings_put(st, &v, &err), PMS_OK);
    v.hmac_sealed = (char *)"h";
    assert_int_equal(st->ops->voice_settings_put(st, &v, &err), PMS_OK);
    pms_voice_settings got = {0};
    assert_int_equal(st->ops->voice_settings_get(st, PMS_DEFAULT_ACCOUNT_ID, &got, &err), PMS_OK);
    assert_string_equal(got.bearer_sealed, "sealed");
    assert_string_equal(got.hmac_sealed, "h");
    assert_null(got.connection_id);
    pms_voice_settings_clear(&got);
    pms_voice_settings_array all = {0};
    assert_int_equal(st->ops->voice_settings_list(st, &all, &err), PMS_OK);
    assert_int_equal(all.count, 1);
    assert_string_equal(all.items[0].hmac_sealed, "h");
    pms_voice_settings_array_clear(&all);

    /* A write the PMS could not be asked to make is let go: the key is free again. A kept one
     * is not. */
    pms_write_record retry = r;
    retry.idem_key = (char *)"call-2:tool-1";
    assert_int_equal(st->ops->write_claim(st, &retry, &claimed, NULL, &err), PMS_OK);
    assert_true(claimed);
    assert_int_equal(st->ops->write_release(st, PMS_DEFAULT_ACCOUNT_ID, "call-2:tool-1", &err),
                     PMS_OK);
    assert_int_equal(st->ops->write_claim(st, &retry, &claimed, NULL, &err), PMS_OK);
    assert_true(claimed);
    assert_int_equal(st->ops->write_release(st, PMS_DEFAULT_ACCOUNT_ID, "call-1:tool-1", &err),
                     PMS_OK);
    assert_int_equal(st->ops->write_get(st, PMS_DEFAULT_ACCOUNT_ID, "call-1:tool-1", &seen, &err),
                     PMS_OK);
    assert_string_equal(seen.state, "pending");
    pms_write_record_clear(&seen);

    /* The replay cache: a signature once until it expires; expired ones are pruned. */
    bool fresh = false;
    assert_int_equal(
        st->ops->voice_replay_claim(st, PMS_DEFAULT_ACCOUNT_ID, "sig-a", 1000, 2000, &fresh, &err),
        PMS_OK);
    assert_true(fresh);
    assert_int_equal(
        st->ops->voice_replay_claim(st, PMS_DEFAULT_ACCOUNT_ID, "sig-a", 1500, 2500, &fresh, &err),
        PMS_OK);
    assert_false(fresh);
    assert_int_equal(
        st->ops->voice_replay_claim(st, PMS_DEFAULT_ACCOUNT_ID, "sig-a", 2001, 3001, &fresh, &err),
        PMS_OK);
    assert_true(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(locations_are_printed_without_passwords),
        cmocka_unit_test_setup_teardown(migrations_are_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(processes_migrating_at_once_apply_each_migration_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(connections_round_trip_and_cascade, setup, teardown),
        cmocka_unit_test_setup_teardown(mapping_upsert_is_keyed_by_practitioner, setup, teardown),
        cmocka_unit_test_setup_teardown(type_refresh_keeps_the_practices_choice, setup, teardown),
        cmocka_unit_test_setup_teardown(entries_upsert_edit_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(active_entries_by_window, setup, teardown),
        cmocka_unit_test_setup_teardown(ocr_entries_match_by_clinician_time_and_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sync_log_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(sync_lock_is_exclusive_and_dies_with_its_process, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(run_sheet_version_moves_with_every_change, setup, teardown),
        cmocka_unit_test_setup_teardown(leases_share_the_work_and_fence_stale_writers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(workers_claiming_at_once_never_share_a_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(audit_appends_from_several_handles_take_turns, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(notifications_reach_listeners_after_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(transactions_roll_back, setup, teardown),
        cmocka_unit_test_setup_teardown(accounts_and_api_keys_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_log_is_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(writes_are_claimed_once_and_keep_their_answer, setup,
                                        teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pms_tz_cleanup();
    pms_crypto_cleanup();
    return failed;
}
