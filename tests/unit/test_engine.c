/* The sync engine's rules, driven by a scripted in-process adapter ("fake") over a real SQLite
 * store: idempotent upserts, quiet re-syncs, filters, mappings, removals only after complete
 * sweeps, conflict rules, OCR replacement, the sync log, and locks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/crypto.h"
#include "pmsync/ratelimit.h"
#include "pmsync/sync.h"
#include "pmsync/tz.h"
#include "testutil.h"

/* ---- the fake PMS ------------------------------------------------------------------- */

#define MAX_APPTS 64

static struct {
    pms_appointment appts[MAX_APPTS];
    size_t count;
    const char *practitioners[8];
    bool active[8];
    size_t practitioner_count;
    const char *fail_practitioner; /* its sweep fails */
    const char *invalid_id;        /* a malformed record with this id (NULL id when "") */
    bool emit_invalid;
    char requested[8][32];
    size_t requested_count;
} fake;

static int fake_list_practitioners(pms_session *s, pms_practitioner_list *out, pms_error *err)
{
    (void)s;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < fake.practitioner_count; i++) {
        pms_practitioner *p = pms_practitioner_list_push(out);
        p->id = strdup(fake.practitioners[i]);
        char name[64];
        snprintf(name, sizeof name, "Dr %s", fake.practitioners[i]);
        p->full_name = strdup(name);
        p->active = fake.active[i];
        p->bookable = true;
    }
    (void)err;
    return PMS_OK;
}

static int fake_list_types(pms_session *s, pms_appt_type_list *out, pms_error *err)
{
    (void)s;
    (void)err;
    memset(out, 0, sizeof *out);
    pms_appt_type *t = pms_appt_type_list_push(out);
    t->id = strdup("type-tele");
    t->name = strdup("Telehealth Consultation");
    t = pms_appt_type_list_push(out);
    t->id = strdup("type-f2f");
    t->name = strdup("Standard");
    return PMS_OK;
}

static int fake_fetch(pms_session *s, const pms_fetch_options *opts, const pms_batch_sink *sink,
                      pms_error *err)
{
    int rc = PMS_OK;
    /* No practitioner list: everyone's appointments (a PMS not searched per practitioner). */
    const char *everyone[8];
    const char *const *pids = opts->practitioner_ids;
    size_t pcount = opts->practitioner_count;
    if (pids == NULL) {
        for (size_t i = 0; i < fake.practitioner_count; i++)
            everyone[i] = fake.practitioners[i];
        pids = everyone;
        pcount = fake.practitioner_count;
    }
    for (size_t p = 0; p < pcount; p++) {
        const char *pid = pids[p];
        snprintf(fake.requested[fake.requested_count++], 32, "%s", pid);
        if (fake.fail_practitioner && strcmp(pid, fake.fail_practitioner) == 0) {
            rc = pms_error_set(err, PMS_ERR_UPSTREAM, "the PMS answered HTTP 503");
            continue;
        }
        pms_appointment batch[2];
        size_t n = 0;
        for (size_t i = 0; i < fake.count; i++) {
            const pms_appointment *a = &fake.appts[i];
            if (strcmp(a->practitioner.pms_practitioner_id, pid) != 0 ||
                a->start_time < opts->from || a->start_time >= opts->to)
                continue;
            assert_int_equal(pms_appointment_copy(&batch[n++], a, NULL), PMS_OK);
            if (n == 2) {
                int brc = pms_session_emit(s, sink, batch, n, err);
                for (size_t k = 0; k < n; k++)
                    pms_appointment_clear(&batch[k]);
                n = 0;
                if (brc != PMS_OK)
                    return brc;
            }
        }
        if (n > 0) {
            int brc = pms_session_emit(s, sink, batch, n, err);
            for (size_t k = 0; k < n; k++)
                pms_appointment_clear(&batch[k]);
            if (brc != PMS_OK)
                return brc;
        }
    }
    if (fake.emit_invalid)
        pms_session_emit_invalid(s, sink, fake.invalid_id[0] ? fake.invalid_id : NULL,
                                 "status is not a known status");
    return rc;
}

static const pms_adapter_ops fake_adapter = {
    .version = PMS_ADAPTER_OPS_VERSION,
    .name = "fake",
    .display_name = "Fake PMS",
    .default_base_url = "http://127.0.0.1:9",
    .traits = PMS_CAP_TELEHEALTH_BY_TYPE | PMS_CAP_PRACTITIONER_FILTER,
    .list_practitioners = fake_list_practitioners,
    .list_appointment_types = fake_list_types,
    .fetch_appointments = fake_fetch,
};

/* A PMS that lists no practitioners and returns everyone's appointments in one search. */
static const pms_adapter_ops fake_all_adapter = {
    .version = PMS_ADAPTER_OPS_VERSION,
    .name = "fake-all",
    .display_name = "Fake PMS without a practitioner list",
    .default_base_url = "http://127.0.0.1:9",
    .traits = PMS_CAP_TELEHEALTH_AUTO,
    .list_appointment_types = fake_list_types,
    .fetch_appointments = fake_fetch,
};

static void fake_reset(void)
{
    for (size_t i = 0; i < fake.count; i++)
        pms_appointment_clear(&fake.appts[i]);
    memset(&fake, 0, sizeof fake);
    fake.practitioners[0] = "p1";
    fake.practitioners[1] = "p2";
    fake.active[0] = fake.active[1] = true;
    fake.practitioner_count = 2;
}

static pms_appointment *fake_add(const char *id, const char *pid, const char *start, bool tele)
{
    pms_appointment *a = &fake.appts[fake.count++];
    tu_make_appt(a, "", id, pid, start, 30, tele);
    return a;
}

static pms_appointment *fake_find(const char *id)
{
    for (size_t i = 0; i < fake.count; i++)
        if (strcmp(fake.appts[i].pms_appointment_id, id) == 0)
            return &fake.appts[i];
    return NULL;
}

static void fake_remove(const char *id)
{
    for (size_t i = 0; i < fake.count; i++) {
        if (strcmp(fake.appts[i].pms_appointment_id, id) == 0) {
            pms_appointment_clear(&fake.appts[i]);
            fake.appts[i] = fake.appts[--fake.count];
            return;
        }
    }
}

/* ---- fixture ------------------------------------------------------------------------- */

typedef struct fixture {
    char *dir;
    char db_path[512];
    pms_store *st;
    char conn[PMS_UUID_LEN];
    int events[5];
} fixture;

static const pms_date DAY = {2026, 3, 2};

static void count_event(void *ctx, const pms_sync_event *e)
{
    fixture *f = ctx;
    f->events[e->kind]++;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->db_path, sizeof f->db_path, "%s/pmsync.db", f->dir);
    f->st = tu_open_store(f->dir);
    fake_reset();
    pms_connection_fields fields = {.display_name = "Test practice",
                                    .timezone = "Australia/Melbourne",
                                    .sync_enabled = -1,
                                    .sync_telehealth_only = -1,
                                    .skip_unmapped = -1};
    pms_error err = {0};
    assert_int_equal(
        pms_connection_create(f->st, NULL, NULL, "fake", &fields, NULL, 0, f->conn, &err), PMS_OK);
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
    fake_reset();
    return 0;
}

static pms_sync_result sync_day(fixture *f, int expect_rc)
{
    pms_sync_context ctx = {.store = f->st, .on_event = count_event, .callback_ctx = f};
    pms_sync_request req = {.connection_id = f->conn, .from = DAY, .to = DAY};
    pms_sync_result r;
    pms_error err = {0};
    int rc = pms_sync_run(&ctx, &req, &r, &err);
    if (rc != expect_rc)
        fail_msg("sync returned %d (%s), expected %d", rc, err.message, expect_rc);
    /* The counts always add up. */
    assert_int_equal(r.counts.fetched,
                     r.counts.created + r.counts.updated + r.counts.unchanged + r.counts.skipped);
    return r;
}

static long rows(fixture *f, const char *where)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM run_sheet_appointments WHERE %s", where);
    return tu_sqlite_count(f->db_path, sql);
}

static pms_sheet_entry entry(fixture *f, const char *pms_id)
{
    pms_sheet_entry e;
    pms_error err = {0};
    assert_int_equal(f->st->ops->entry_find_pms(f->st, f->conn, pms_id, &e, &err), PMS_OK);
    return e;
}

/* ---- tests --------------------------------------------------------------------------- */

static void first_sync_creates_and_second_is_quiet(void **state)
{
    fixture *f = *state;
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("a2", "p1", "2026-03-02T09:30:00.000+11:00", true);
    fake_add("a3", "p2", "2026-03-02T10:00:00.000+11:00", true);
    fake_add("other-day", "p2", "2026-03-03T10:00:00.000+11:00", true);
    pms_sync_result r = sync_day(f, PMS_OK);
    assert_string_equal(r.status, "success");
    assert_true(r.complete_sweep);
    assert_int_equal(r.counts.created, 3);
    assert_int_equal(rows(f, "1"), 3);
    assert_int_equal(f->events[PMS_EVENT_APPOINTMENT_CREATED], 3);
    /* Two clinicians were created for the two practitioners. */
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM run_sheet_clinicians"), 2);

    long written_before =
        tu_sqlite_count(f->db_path, "SELECT MAX(updated_at) FROM run_sheet_appointments");
    r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.created, 0);
    assert_int_equal(r.counts.updated, 0);
    assert_int_equal(r.counts.unchanged, 3);
    assert_int_equal(f->events[PMS_EVENT_APPOINTMENT_UPDATED], 0);
    assert_int_equal(
        tu_sqlite_count(f->db_path, "SELECT MAX(updated_at) FROM run_sheet_appointments"),
        written_before);
    assert_int_equal(rows(f, "1"), 3);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM run_sheet_clinicians"), 2);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM pms_sync_log WHERE "
                                                 "status = 'success'"),
                     2);
}

static void a_change_in_the_pms_updates_one_row(void **state)
{
    fixture *f = *state;
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("a2", "p1", "2026-03-02T09:30:00.000+11:00", true);
    sync_day(f, PMS_OK);
    fake_find("a2")->status = PMS_STATUS_ARRIVED;
    pms_sync_result r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.updated, 1);
    assert_int_equal(r.counts.unchanged, 1);
    pms_sheet_entry e = entry(f, "a2");
    assert_int_equal(e.appt.status, PMS_STATUS_ARRIVED);
    pms_sheet_entry_clear(&e);
}

static void telehealth_only_and_excluded_types(void **state)
{
    fixture *f = *state;
    fake_add("tele", "p1", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("f2f", "p1", "2026-03-02T09:30:00.000+11:00", false);
    pms_sync_result r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.created, 1);
    assert_int_equal(r.counts.skipped, 1);
    assert_int_equal(rows(f, "pms_appointment_id = 'f2f'"), 0);

    /* Every appointment once telehealth-only is off... */
    pms_connection_fields all = {
        .sync_enabled = -1, .sync_telehealth_only = 0, .skip_unmapped = -1};
    pms_error err = {0};
    assert_int_equal(pms_connection_update(f->st, NULL, f->conn, &all, NULL, 0, &err), PMS_OK);
    r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.created, 1);
    assert_int_equal(rows(f, "removed_at IS NULL"), 2);
    /* ...except a type the practice excluded: its appointment leaves the run sheet. */
    assert_int_equal(f->st->ops->type_set_flags(f->st, f->conn, "type-f2f", -1, 0, &err), PMS_OK);
    r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.skipped, 1);
    assert_int_equal(r.counts.removed, 1);
    assert_int_equal(rows(f, "removed_at IS NULL"), 1);
}

static void unmapped_practitioners_skip_or_create(void **state)
{
    fixture *f = *state;
    pms_connection_fields skip = {
        .sync_enabled = -1, .sync_telehealth_only = -1, .skip_unmapped = 1};
    pms_error err = {0};
    assert_int_equal(pms_connection_update(f->st, NULL, f->conn, &skip, NULL, 0, &err), PMS_OK);
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    pms_sync_result r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.created, 0);
    assert_int_equal(fake.requested_count, 0); /* nobody mapped: nobody swept */
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM run_sheet_clinicians"), 0);
    /* Mappings exist (so they can be mapped by hand) but have no clinician. */
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM pms_clinician_mappings "
                                                 "WHERE run_sheet_clinician_id IS NULL"),
                     2);

    /* Mapping p1 by hand to an existing clinician brings its appointments. */
    pms_clinician c = {.name = (char *)"Dr Smith"};
    assert_int_equal(f->st->ops->clinician_insert(f->st, &c, &err), PMS_OK);
    pms_mapping_list maps = {0};
    assert_int_equal(f->st->ops->mapping_list(f->st, f->conn, &maps, &err), PMS_OK);
    for (size_t i = 0; i < maps.count; i++) {
        if (strcmp(maps.items[i].pms_practitioner_id, "p1") == 0) {
            free(maps.items[i].run_sheet_clinician_id);
            maps.items[i].run_sheet_clinician_id = strdup(c.id);
            assert_int_equal(f->st->ops->mapping_upsert(f->st, &maps.items[i], &err), PMS_OK);
        }
    }
    pms_mapping_list_clear(&maps);
    r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.created, 1);
    pms_sheet_entry e = entry(f, "a1");
    assert_string_equal(e.clinician_id, c.id);
    assert_string_equal(e.clinician_name, "Dr Smith");
    pms_sheet_entry_clear(&e);
    free(c.id);
}

static void created_clinicians_reuse_a_same_named_column(void **state)
{
    fixture *f = *state;
    pms_clinician c = {.name = (char *)"Dr. P1"}; /* from OCR, say */
    pms_error err = {0};
    assert_int_equal(f->st->ops->clinician_insert(f->st, &c, &err), PMS_OK);
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    sync_day(f, PMS_OK);
    pms_sheet_entry e = entry(f, "a1");
    assert_string_equal(e.clinician_id, c.id);
    pms_sheet_entry_clear(&e);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM run_sheet_clinicians"), 2);
    free(c.id);
}

static void disabled_and_inactive_practitioners_are_not_swept(void **state)
{
    fixture *f = *state;
    fake.active[1] = false;
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("a2", "p2", "2026-03-02T09:00:00.000+11:00", true);
    pms_sync_result r = sync_day(f, PMS_OK);
    assert_int_equal(fake.requested_count, 1);
    assert_string_equal(fake.requested[0], "p1");
    assert_int_equal(r.counts.created, 1);

    pms_mapping_list maps = {0};
    pms_error err = {0};
    assert_int_equal(f->st->ops->mapping_list(f->st, f->conn, &maps, &err), PMS_OK);
    for (size_t i = 0; i < maps.count; i++) {
        maps.items[i].sync_enabled = false;
        assert_int_equal(f->st->ops->mapping_upsert(f->st, &maps.items[i], &err), PMS_OK);
    }
    pms_mapping_list_clear(&maps);
    fake.requested_count = 0;
    r = sync_day(f, PMS_OK);
    assert_int_equal(fake.requested_count, 0);
    /* A practitioner taken off the run sheet takes their appointments with them. */
    assert_int_equal(r.counts.removed, 1);
}

static void removal_needs_a_complete_sweep(void **state)
{
    fixture *f = *state;
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("a2", "p2", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("a3", "p2", "2026-03-02T11:00:00.000+11:00", true);
    sync_day(f, PMS_OK);

    /* a3 disappears, but p2's sweep fails: nothing is removed and the sync is partial. */
    fake_remove("a3");
    fake.fail_practitioner = "p2";
    pms_sync_result r = sync_day(f, PMS_ERR_UPSTREAM);
    assert_string_equal(r.status, "partial");
    assert_false(r.complete_sweep);
    assert_int_equal(r.counts.removed, 0);
    assert_int_equal(rows(f, "removed_at IS NULL"), 3);
    pms_connection c;
    pms_error err = {0};
    assert_int_equal(f->st->ops->connection_get(f->st, f->conn, &c, &err), PMS_OK);
    assert_string_equal(c.last_sync_status, "partial");
    assert_non_null(strstr(c.last_sync_error, "503"));
    pms_connection_clear(&c);

    /* The next complete sweep removes it, and says so. */
    fake.fail_practitioner = NULL;
    r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.removed, 1);
    assert_int_equal(f->events[PMS_EVENT_APPOINTMENT_REMOVED], 1);
    assert_int_equal(rows(f, "pms_appointment_id = 'a3' AND removed_at IS NOT NULL"), 1);

    /* If it comes back, it is back. */
    fake_add("a3", "p2", "2026-03-02T11:00:00.000+11:00", true);
    r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.updated, 1);
    assert_int_equal(rows(f, "removed_at IS NULL"), 3);
    assert_int_equal(rows(f, "1"), 3);
}

static void malformed_records_are_counted_and_block_only_their_own_removal(void **state)
{
    fixture *f = *state;
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("a2", "p1", "2026-03-02T10:00:00.000+11:00", true);
    sync_day(f, PMS_OK);

    /* a2 now arrives malformed (its id readable): counted, partial, not removed. */
    fake_remove("a2");
    fake.emit_invalid = true;
    fake.invalid_id = "a2";
    pms_sync_result r = sync_day(f, PMS_OK);
    assert_string_equal(r.status, "partial");
    assert_int_equal(r.counts.invalid, 1);
    assert_int_equal(r.counts.removed, 0);
    assert_int_equal(rows(f, "removed_at IS NULL"), 2);

    /* A malformed record without an id makes the sweep incomplete: nothing removed. */
    fake_remove("a1");
    fake.invalid_id = "";
    r = sync_day(f, PMS_OK);
    assert_false(r.complete_sweep);
    assert_int_equal(r.counts.removed, 0);
    assert_int_equal(rows(f, "removed_at IS NULL"), 2);
}

static void manual_edits_survive_and_pms_fields_still_flow(void **state)
{
    fixture *f = *state;
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    sync_day(f, PMS_OK);
    pms_sheet_entry e = entry(f, "a1");
    pms_instant moved = e.appt.start_time + 30 * 60000;
    e.edited_phone = strdup("+61400000001");
    e.edited_start = moved;
    e.manual_notes = strdup("Prefers video on mobile");
    e.edited_at = pms_now();
    pms_error err = {0};
    assert_int_equal(f->st->ops->entry_update_edits(f->st, &e, &err), PMS_OK);
    pms_sheet_entry_clear(&e);

    /* The PMS changes phone, name, status, duration and time. */
    pms_appointment *a = fake_find("a1");
    free(a->patient.phone);
    a->patient.phone = strdup("+61499999999");
    free(a->patient.full_name);
    a->patient.full_name = strdup("Patricia Citizen");
    a->status = PMS_STATUS_CONFIRMED;
    a->duration_minutes = 45;
    a->end_time = a->start_time + 45 * 60000;
    free(a->notes);
    a->notes = strdup("Bring referral");
    pms_sync_result r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.updated, 1);

    e = entry(f, "a1");
    pms_appointment view;
    assert_int_equal(pms_sheet_entry_effective(&e, &view, &err), PMS_OK);
    assert_string_equal(view.patient.phone, "+61400000001");         /* manual wins */
    assert_int_equal(view.start_time, moved);                        /* manual wins */
    assert_string_equal(view.patient.full_name, "Patricia Citizen"); /* PMS wins */
    assert_int_equal(view.status, PMS_STATUS_CONFIRMED);             /* PMS wins */
    assert_int_equal(view.duration_minutes, 45);                     /* PMS wins */
    assert_non_null(strstr(view.notes, "Bring referral"));           /* notes merge */
    assert_non_null(strstr(view.notes, "Prefers video on mobile"));
    json_t *j = pms_sheet_entry_to_json(&e, false);
    assert_string_equal(json_string_value(json_object_get(j, "source")), "pms");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "manualEdits"), "phone")),
        "+61400000001");
    json_decref(j);
    pms_appointment_clear(&view);
    pms_sheet_entry_clear(&e);
}

static void a_pms_appointment_replaces_the_matching_ocr_entry(void **state)
{
    fixture *f = *state;
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    sync_day(f, PMS_OK); /* creates the clinician for p1 */
    fake_add("a2", "p1", "2026-03-02T13:00:00.000+11:00", true);
    pms_sheet_entry e1 = entry(f, "a1");

    /* OCR read a2 off a screenshot before the PMS sync saw it. */
    pms_sheet_entry ocr;
    pms_sheet_entry_init(&ocr);
    tu_make_appt(&ocr.appt, "", "a2", "p1", "2026-03-02T13:00:00.000+11:00", 30, true);
    free(ocr.appt.pms_appointment_id);
    free(ocr.appt.pms_connection_id);
    ocr.appt.pms_appointment_id = ocr.appt.pms_connection_id = NULL;
    free(ocr.appt.patient.full_name);
    ocr.appt.patient.full_name = strdup("PAT A2 CITIZEN");
    ocr.source = PMS_SOURCE_OCR;
    ocr.run_sheet_id = strdup(e1.run_sheet_id);
    ocr.clinician_id = strdup(e1.clinician_id);
    pms_error err = {0};
    assert_int_equal(f->st->ops->entry_insert(f->st, &ocr, &err), PMS_OK);

    pms_sync_result r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.created, 0);
    assert_int_equal(r.counts.updated, 1);
    assert_int_equal(rows(f, "1"), 2);
    pms_sheet_entry e2 = entry(f, "a2");
    assert_string_equal(e2.id, ocr.id);
    assert_int_equal(e2.source, PMS_SOURCE_PMS);
    pms_sheet_entry_clear(&e2);
    pms_sheet_entry_clear(&e1);
    pms_sheet_entry_clear(&ocr);
}

static void a_moved_appointment_changes_run_sheet(void **state)
{
    fixture *f = *state;
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    pms_sync_request req = {.from = DAY, .to = {2026, 3, 3}};
    pms_sync_context ctx = {.store = f->st};
    req.connection_id = f->conn;
    pms_sync_result r;
    pms_error err = {0};
    assert_int_equal(pms_sync_run(&ctx, &req, &r, &err), PMS_OK);
    pms_instant next_day;
    assert_int_equal(pms_iso8601_parse("2026-03-03T09:00:00.000+11:00", &next_day, NULL, NULL),
                     PMS_OK);
    fake_find("a1")->start_time = next_day;
    fake_find("a1")->end_time = next_day + 30 * 60000;
    assert_int_equal(pms_sync_run(&ctx, &req, &r, &err), PMS_OK);
    assert_int_equal(r.counts.updated, 1);
    pms_sheet_entry e = entry(f, "a1");
    assert_int_equal(e.sheet_date.day, 3);
    pms_sheet_entry_clear(&e);
    assert_int_equal(rows(f, "1"), 1);
}

static void one_sync_per_connection_and_interrupted_runs_are_closed(void **state)
{
    fixture *f = *state;
    pms_error err = {0};
    /* A sync log row left 'running' by a process that died... */
    pms_sync_log_entry dead = {.pms_connection_id = f->conn,
                               .sync_type = (char *)"manual",
                               .window_from = DAY,
                               .window_to = DAY,
                               .started_at = 1000};
    assert_int_equal(f->st->ops->sync_log_start(f->st, &dead, &err), PMS_OK);
    free(dead.id);
    free(dead.status);

    /* ...and a live sync holding the lock. */
    pms_store *other = tu_open_store(f->dir);
    pms_store_lock *lock = NULL;
    assert_int_equal(other->ops->lock_connection(other, f->conn, &lock, &err), PMS_OK);
    pms_sync_result r = sync_day(f, PMS_ERR_CONFLICT);
    assert_string_equal(r.sync_log_id, "");
    other->ops->unlock_connection(other, lock);
    pms_store_close(other);

    r = sync_day(f, PMS_OK);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM pms_sync_log WHERE status "
                                                 "= 'failed' AND error_message LIKE "
                                                 "'interrupted%'"),
                     1);
    assert_int_equal(
        tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM pms_sync_log WHERE status = 'running'"),
        0);
}

/* Practitioners the PMS does not list are adopted from their appointments. */
static void unlisted_practitioners_are_adopted_from_appointments(void **state)
{
    fixture *f = *state;
    pms_connection_fields fields = {.display_name = "All-in-one practice",
                                    .timezone = "Australia/Melbourne",
                                    .sync_enabled = -1,
                                    .sync_telehealth_only = -1,
                                    .skip_unmapped = -1};
    pms_error err = {0};
    assert_int_equal(
        pms_connection_create(f->st, NULL, NULL, "fake-all", &fields, NULL, 0, f->conn, &err),
        PMS_OK);
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("a2", "p2", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("a3", "p2", "2026-03-02T10:00:00.000+11:00", true);
    pms_sync_result r = sync_day(f, PMS_OK);
    assert_string_equal(r.status, "success");
    assert_int_equal(r.counts.created, 3);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM pms_clinician_mappings "
                                                 "WHERE run_sheet_clinician_id IS NOT NULL AND "
                                                 "auto_created = 1"),
                     2);
    pms_sheet_entry e = entry(f, "a2");
    assert_string_equal(e.clinician_name, "Dr p2");
    pms_sheet_entry_clear(&e);
    /* Adopted once: a second sync creates no further mappings or clinicians. */
    r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.unchanged, 3);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM run_sheet_clinicians"), 2);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM pms_clinician_mappings"), 2);
}

static void unlisted_practitioners_wait_for_a_mapping_when_skipping(void **state)
{
    fixture *f = *state;
    pms_connection_fields fields = {.display_name = "All-in-one practice",
                                    .timezone = "Australia/Melbourne",
                                    .sync_enabled = -1,
                                    .sync_telehealth_only = -1,
                                    .skip_unmapped = 1};
    pms_error err = {0};
    assert_int_equal(
        pms_connection_create(f->st, NULL, NULL, "fake-all", &fields, NULL, 0, f->conn, &err),
        PMS_OK);
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    pms_sync_result r = sync_day(f, PMS_OK);
    assert_int_equal(r.counts.created, 0);
    assert_int_equal(r.counts.skipped, 1);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM pms_clinician_mappings "
                                                 "WHERE run_sheet_clinician_id IS NULL"),
                     1);
    assert_int_equal(tu_sqlite_count(f->db_path, "SELECT COUNT(*) FROM run_sheet_clinicians"), 0);
}

static void sync_log_records_the_run(void **state)
{
    fixture *f = *state;
    fake_add("a1", "p1", "2026-03-02T09:00:00.000+11:00", true);
    fake_add("a2", "p1", "2026-03-02T10:00:00.000+11:00", false);
    pms_sync_result r = sync_day(f, PMS_OK);
    pms_sync_log_list list = {0};
    pms_error err = {0};
    assert_int_equal(f->st->ops->sync_log_list(f->st, f->conn, 5, &list, &err), PMS_OK);
    assert_int_equal(list.count, 1);
    const pms_sync_log_entry *e = &list.items[0];
    assert_string_equal(e->id, r.sync_log_id);
    assert_string_equal(e->status, "success");
    assert_int_equal(e->counts.fetched, 2);
    assert_int_equal(e->counts.created, 1);
    assert_int_equal(e->counts.skipped, 1);
    assert_int_equal(e->window_from.day, 2);
    assert_true(e->completed_at >= e->started_at);
    assert_non_null(e->worker);
    pms_sync_log_list_clear(&list);
    assert_int_equal(f->events[PMS_EVENT_SYNC_STARTED], 1);
    assert_int_equal(f->events[PMS_EVENT_SYNC_FINISHED], 1);
}

int main(void)
{
    pms_error err = {0};
    if (pms_adapter_register(&fake_adapter, &err) != PMS_OK ||
        pms_adapter_register(&fake_all_adapter, &err) != PMS_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(first_sync_creates_and_second_is_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(a_change_in_the_pms_updates_one_row, setup, teardown),
        cmocka_unit_test_setup_teardown(telehealth_only_and_excluded_types, setup, teardown),
        cmocka_unit_test_setup_teardown(unmapped_practitioners_skip_or_create, setup, teardown),
        cmocka_unit_test_setup_teardown(created_clinicians_reuse_a_same_named_column, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(disabled_and_inactive_practitioners_are_not_swept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(removal_needs_a_complete_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(
            malformed_records_are_counted_and_block_only_their_own_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(manual_edits_survive_and_pms_fields_still_flow, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_pms_appointment_replaces_the_matching_ocr_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_moved_appointment_changes_run_sheet, setup, teardown),
        cmocka_unit_test_setup_teardown(one_sync_per_connection_and_interrupted_runs_are_closed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(sync_log_records_the_run, setup, teardown),
        cmocka_unit_test_setup_teardown(unlisted_practitioners_are_adopted_from_appointments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unlisted_practitioners_wait_for_a_mapping_when_skipping,
                                        setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pms_ratelimit_cleanup();
    pms_tz_cleanup();
    pms_crypto_cleanup();
    return failed;
}
