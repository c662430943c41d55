/* Write-back through the adapters for one PMS — PMSYNC_TEST_PMS = gentu, medirecords or
 * halaxy — against pms-sandbox (PMS_SANDBOX_BIN) over real HTTP. A connection is made with
 * pmsctl (PMSCTL_BIN) in a private SQLite store and opened as a session the way pmsctl and pmsd
 * open one. Each case checks what the PMS itself then holds (the sandbox's ground truth) and,
 * for a booking, what a sync brings to the run sheet: free times → book (at the right instant
 * on the day the clocks change, in the hour that happens twice) → move → cancel; a taken time
 * refused with a sentence a person can hear; patients found and created; operations the PMS
 * lacks refused as not supported, with the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pmsync/adapter.h"
#include "pmsync/connections.h"
#include "pmsync/crypto.h"
#include "pmsync/session.h"
#include "pmsync/store.h"
#include "pmsync/time.h"
#include "pmsync/tz.h"
#include "sandbox_proc.h"
#include "testutil.h"

#define TODAY "2026-04-05" /* Melbourne falls back this day (03:00 -> 02:00) */
#define DAY   "2026-04-05"

static const char *pms; /* PMSYNC_TEST_PMS */

static bool is(const char *name)
{
    return strcmp(pms, name) == 0;
}

typedef struct fixture {
    tu_sandbox box;
    char *dir;
    char db[512];
    char env_db[600], env_key[600], key_file[600];
    char conn[64];
    char practice[128]; /* the truth's key */
    char timezone[64];
    json_t *info; /* this PMS's practice entry from /_sandbox/info */
    pms_store *store;
    pms_keyring *ring;
    pms_session *session;
    pms_token_box *box_tokens;
} fixture;

/* ---- pmsctl -------------------------------------------------------------------------- */

static int run_pmsctl(fixture *f, char **out, const char *const *args)
{
    const char *bin = getenv("PMSCTL_BIN");
    assert_non_null(bin);
    const char *argv[40];
    int argc = 0;
    argv[argc++] = bin;
    for (int i = 0; args[i] && argc < 39; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    char out_path[600];
    snprintf(out_path, sizeof out_path, "%s/pmsctl.out", f->dir);
    const char *envp[] = {f->env_db, f->env_key, "PMSYNC_LOG_LEVEL=warn", "PATH=/usr/bin:/bin",
                          NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0)
            _exit(127);
        tu_execve(bin, argv, envp);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (out) {
        FILE *in = fopen(out_path, "r");
        *out = calloc(1, 4096);
        if (in) {
            size_t n = fread(*out, 1, 4095, in);
            (*out)[n] = '\0';
            fclose(in);
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static const char *info_string(const fixture *f, const char *key)
{
    return json_string_value(json_object_get(f->info, key));
}

static void connect_pms(fixture *f)
{
    char base[128], s1[300], s2[300], s3[300];
    snprintf(base, sizeof base, "%s/%s", f->box.base, pms);
    const char *args[40] = {"connection",
                            "add",
                            "--pms",
                            pms,
                            "--name",
                            "Test clinic",
                            "--base-url",
                            base,
                            "--all-appointments",
                            "--set",
                            "retry_base_ms=20"};
    int n = 11;
    if (is("gentu")) {
        snprintf(s1, sizeof s1, "client_id=sandbox-client");
        snprintf(s2, sizeof s2, "client_secret=sandbox-secret");
        snprintf(s3, sizeof s3, "app_id=sandbox-app");
    } else if (is("medirecords")) {
        snprintf(s1, sizeof s1, "practice_id=%s", info_string(f, "practiceId"));
        snprintf(s2, sizeof s2, "token=%s", info_string(f, "token"));
        s3[0] = '\0';
    } else {
        snprintf(s1, sizeof s1, "client_id=%s", info_string(f, "clientId"));
        snprintf(s2, sizeof s2, "client_secret=%s", info_string(f, "clientSecret"));
        s3[0] = '\0';
    }
    args[n++] = "--set";
    args[n++] = s1;
    args[n++] = "--set";
    args[n++] = s2;
    if (s3[0]) {
        args[n++] = "--set";
        args[n++] = s3;
    }
    if (!is("gentu")) {
        args[n++] = "--timezone";
        args[n++] = f->timezone;
    }
    args[n] = NULL;
    char *out = NULL;
    assert_int_equal(run_pmsctl(f, &out, args), 0);
    snprintf(f->conn, sizeof f->conn, "%.36s", out);
    free(out);
    if (is("gentu")) {
        const char *pair[] = {"pair", f->conn, info_string(f, "pairingCode"), NULL};
        assert_int_equal(run_pmsctl(f, NULL, pair), 0);
    }
}

/* Opens the connection's session as pmsctl does. */
static void open_session(fixture *f)
{
    pms_error err = {0};
    if (pms_store_open(f->db, false, &f->store, &err) != PMS_OK)
        fail_msg("store: %s", err.message);
    if (pms_keyring_load(NULL, f->key_file, false, &f->ring, &err) != PMS_OK)
        fail_msg("key ring: %s", err.message);
    pms_connection c;
    assert_int_equal(f->store->ops->connection_get(f->store, f->conn, &c, &err), PMS_OK);
    pms_session_options opts = {0};
    if (pms_connection_open_session(f->store, f->ring, &c, &opts, &f->box_tokens, &f->session,
                                    &err) != PMS_OK)
        fail_msg("session: %s", err.message);
    pms_connection_clear(&c);
    /* the appointment types, as a sync would have them */
    pms_appt_type_list types = {0};
    if (pms_adapter_list_appointment_types(f->session, &types, &err) == PMS_OK)
        pms_session_set_appt_types(f->session, &types, NULL, 0, NULL);
    pms_appt_type_list_clear(&types);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->db, sizeof f->db, "%s", tu_db(f->dir));
    snprintf(f->env_db, sizeof f->env_db, "PMSYNC_DB=%s", f->db);
    snprintf(f->key_file, sizeof f->key_file, "%s/pmsync.key", f->dir);
    snprintf(f->env_key, sizeof f->env_key, "PMSYNC_SECRET_KEY_FILE=%s", f->key_file);
    const char *args[] = {"--seed", "11", "--today", TODAY, NULL};
    if (tu_sandbox_start(&f->box, args) != 0)
        return -1;
    json_t *info = tu_sandbox_json(&f->box, "GET", "/_sandbox/info", NULL);
    const json_t *list =
        json_object_get(json_object_get(info, pms), is("gentu") ? "tenants" : "practices");
    f->info = json_incref(json_array_get(list, 0));
    json_decref(info);
    const char *key = is("gentu") ? "tenantId" : is("medirecords") ? "practiceId" : "clientId";
    snprintf(f->practice, sizeof f->practice, "%s", info_string(f, key));
    snprintf(f->timezone, sizeof f->timezone, "%s", info_string(f, "timezone"));
    connect_pms(f);
    open_session(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pms_session_close(f->session);
    pms_token_box_free(f->box_tokens);
    pms_keyring_free(f->ring);
    pms_store_close(f->store);
    assert_int_equal(tu_sandbox_stop(&f->box), 0);
    json_decref(f->info);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* ---- ground truth ---------------------------------------------------------------------- */

static json_t *truth_day(fixture *f, const char *day)
{
    char path[300];
    snprintf(path, sizeof path, "/_sandbox/%s/truth?%s=%s&from=%s&to=%s", pms,
             is("gentu") ? "tenantId" : "practice", f->practice, day, day);
    return tu_sandbox_json(&f->box, "GET", path, NULL);
}

/* The truth's entry of an appointment on a day (a new reference), or NULL. */
static json_t *truth_of(fixture *f, const char *day, const char *id)
{
    json_t *all = truth_day(f, day), *found = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(all, "appointments"), i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "_id")), id) == 0)
            found = json_incref(a);
    }
    json_decref(all);
    return found;
}

/* A patient appointment of the day (from the truth): its patient's id (copied into out). */
static void some_patient(fixture *f, char *out, size_t len)
{
    json_t *all = truth_day(f, DAY);
    size_t i;
    json_t *a;
    out[0] = '\0';
    json_array_foreach(json_object_get(all, "appointments"), i, a)
    {
        const char *p = json_string_value(json_object_get(a, "_patientId"));
        if (p && !out[0])
            snprintf(out, len, "%s", p);
    }
    json_decref(all);
    assert_true(out[0] != '\0');
}

static const char *first_of(const fixture *f, const char *key)
{
    return json_string_value(json_array_get(json_object_get(f->info, key), 0));
}

static pms_instant local_instant(const fixture *f, const char *local_iso)
{
    const pms_tz *tz = NULL;
    assert_int_equal(pms_tz_get(f->timezone, &tz, NULL), PMS_OK);
    pms_civil c;
    assert_int_equal(pms_iso8601_parse_local(local_iso, &c, NULL), PMS_OK);
    return pms_tz_from_local(tz, &c, NULL);
}

static void assert_start(json_t *truth, pms_instant expected)
{
    char want[PMS_TIME_BUFLEN];
    pms_format_utc(expected, want);
    assert_string_equal(json_string_value(json_object_get(truth, "_startUtc")), want);
}

static long rows_of(fixture *f, const char *id)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM run_sheet_appointments WHERE pms_appointment_id = '%s' AND "
             "appointment_status <> 'cancelled'",
             id);
    return tu_db_count(f->dir, sql);
}

static void sync_day(fixture *f)
{
    const char *args[] = {"sync", f->conn, "--from", DAY, "--to", DAY, NULL};
    assert_int_equal(run_pmsctl(f, NULL, args), 0);
}

/* ---- the cases ------------------------------------------------------------------------- */

/* The practitioner, type and time of the booking: a free time the PMS offers where it has an
 * availability endpoint; otherwise 07:00 local, before the sandbox's working hours. */
typedef struct booking_plan {
    char practitioner[128], type[128], patient[128];
    pms_instant start, moved_to;
    int minutes;
} booking_plan;

static bool can(const fixture *f, unsigned capability)
{
    return (pms_adapter_capabilities(pms_session_ops(f->session)) & capability) != 0;
}

/* The day's free times with the practitioner, checked: inside the day, of the asked length. */
static void free_times(fixture *f, const booking_plan *b, pms_slot_list *slots)
{
    pms_slot_query q = {.practitioner_id = b->practitioner,
                        .appointment_type_id = b->type,
                        .from = local_instant(f, DAY "T00:00"),
                        .to = local_instant(f, "2026-04-06T00:00"),
                        .duration_minutes = b->minutes};
    pms_error err = {0};
    if (pms_adapter_find_slots(f->session, &q, slots, &err) != PMS_OK)
        fail_msg("free times: %s", err.message);
    assert_true(slots->count >= 2);
    for (size_t i = 0; i < slots->count; i++) {
        assert_true(slots->items[i].start >= q.from && slots->items[i].start < q.to);
        assert_true(slots->items[i].end - slots->items[i].start == (pms_instant)b->minutes * 60000);
        assert_string_equal(slots->items[i].practitioner_id, b->practitioner);
        assert_true(i == 0 || slots->items[i].start > slots->items[i - 1].start);
    }
}

static void plan_booking(fixture *f, booking_plan *b)
{
    memset(b, 0, sizeof *b);
    some_patient(f, b->patient, sizeof b->patient);
    snprintf(b->practitioner, sizeof b->practitioner, "%s",
             first_of(f, is("gentu")    ? "bookPractitionerIds"
                         : is("halaxy") ? "practitionerIds"
                                        : "providerIds"));
    snprintf(b->type, sizeof b->type, "%s",
             first_of(f, is("halaxy") ? "healthcareServiceIds" : "appointmentTypeIds"));
    b->minutes = 15;
    b->start = local_instant(f, DAY "T07:00");
    b->moved_to = local_instant(f, DAY "T07:30");
    if (can(f, PMS_CAP_FIND_SLOTS)) {
        pms_slot_list slots = {0};
        free_times(f, b, &slots);
        b->start = slots.items[0].start;
        b->moved_to = slots.items[slots.count - 1].start;
        pms_slot_list_clear(&slots);
    }
}

static void test_book_move_cancel(void **state)
{
    fixture *f = *state;
    booking_plan b;
    plan_booking(f, &b);
    /* The clocks went back at 03:00: 07:00 is AEST (+10:00) in Melbourne. */
    if (strcmp(f->timezone, "Australia/Melbourne") == 0 && !can(f, PMS_CAP_FIND_SLOTS)) {
        char utc[PMS_TIME_BUFLEN];
        pms_format_utc(b.start, utc);
        assert_string_equal(utc, "2026-04-04T21:00:00.000Z");
    }
    pms_booking_request req = {.patient_id = b.patient,
                               .practitioner_id = b.practitioner,
                               .appointment_type_id = b.type,
                               .start = b.start,
                               .duration_minutes = b.minutes};
    pms_write_result r = {0};
    pms_error err = {0};
    assert_int_equal(pms_adapter_book(f->session, &req, &r, &err), PMS_OK);
    if (r.state != PMS_WRITE_CONFIRMED)
        fail_msg("booking failed: %s", r.reason);
    assert_non_null(r.pms_appointment_id);
    char id[128];
    snprintf(id, sizeof id, "%s", r.pms_appointment_id);
    pms_write_result_clear(&r);

    json_t *t = truth_of(f, DAY, id);
    assert_non_null(t);
    assert_start(t, b.start);
    assert_string_equal(json_string_value(json_object_get(t, "_practitionerId")), b.practitioner);
    assert_string_equal(json_string_value(json_object_get(t, "_patientId")), b.patient);
    assert_int_equal(json_integer_value(json_object_get(t, "_minutes")), b.minutes);
    json_decref(t);

    /* read back from the PMS, and through a sync onto the run sheet */
    pms_appointment got;
    assert_int_equal(pms_adapter_get_appointment(f->session, id, &got, &err), PMS_OK);
    assert_true(got.start_time == b.start);
    assert_int_equal(got.duration_minutes, b.minutes);
    pms_appointment_clear(&got);
    sync_day(f);
    assert_int_equal(rows_of(f, id), 1);

    /* the same time again, for another booking: taken, in words */
    req.patient_id = b.patient;
    assert_int_equal(pms_adapter_book(f->session, &req, &r, &err), PMS_OK);
    assert_int_equal(r.state, PMS_WRITE_FAILED);
    assert_non_null(strstr(r.reason, "taken"));
    pms_write_result_clear(&r);
    if (can(f, PMS_CAP_FIND_SLOTS)) { /* no longer offered */
        pms_slot_list slots = {0};
        free_times(f, &b, &slots);
        for (size_t i = 0; i < slots.count; i++)
            assert_true(slots.items[i].start != b.start);
        pms_slot_list_clear(&slots);
    }

    /* moved */
    int rc = pms_adapter_reschedule(f->session, id, b.moved_to, b.minutes, &r, &err);
    if (rc == PMS_ERR_NOT_SUPPORTED) {
        assert_true(is("gentu") || is("halaxy"));
        assert_non_null(strstr(err.message, "does not support rescheduling: "));
    } else {
        assert_int_equal(rc, PMS_OK);
        if (r.state != PMS_WRITE_CONFIRMED)
            fail_msg("move failed: %s", r.reason);
        t = truth_of(f, DAY, id);
        assert_start(t, b.moved_to);
        json_decref(t);
    }
    pms_write_result_clear(&r);

    /* cancelled: the PMS keeps it, cancelled; the next sync drops it from the run sheet */
    assert_int_equal(pms_adapter_cancel(f->session, id, "Patient is unwell", &r, &err), PMS_OK);
    if (r.state != PMS_WRITE_CONFIRMED)
        fail_msg("cancel failed: %s", r.reason);
    pms_write_result_clear(&r);
    t = truth_of(f, DAY, id);
    assert_non_null(t);
    assert_string_equal(json_string_value(json_object_get(t, "_status")), "cancelled");
    json_decref(t);
    sync_day(f);
    assert_int_equal(rows_of(f, id), 0);

    /* again: nothing left to cancel, in words */
    assert_int_equal(pms_adapter_cancel(f->session, id, NULL, &r, &err), PMS_OK);
    assert_int_equal(r.state, PMS_WRITE_FAILED);
    assert_non_null(strstr(r.reason, "cancel"));
    pms_write_result_clear(&r);
}

/* On the day the clocks go back, 02:45 happens twice; a PMS that takes an offset books the one
 * asked for (Melbourne: 02:45 AEST is 16:45Z, 02:45 AEDT an hour earlier). The sandboxes keep
 * visits at 02:30 in both hours, so 02:30 AEST is taken. Medirecords' times carry no offset. */
static void test_dst_overlap(void **state)
{
    fixture *f = *state;
    if (is("medirecords") || strcmp(f->timezone, "Australia/Melbourne") != 0)
        skip();
    booking_plan b;
    plan_booking(f, &b);
    /* the practitioner of the sandbox's visit at 02:30 in the second hour */
    json_t *all = truth_day(f, DAY);
    size_t i;
    json_t *a;
    b.practitioner[0] = '\0';
    json_array_foreach(json_object_get(all, "appointments"), i, a)
    {
        const char *start = json_string_value(json_object_get(a, "_startUtc"));
        if (strcmp(start, "2026-04-04T16:30:00.000Z") == 0)
            snprintf(b.practitioner, sizeof b.practitioner, "%s",
                     json_string_value(json_object_get(a, "_practitionerId")));
    }
    json_decref(all);
    assert_true(b.practitioner[0] != '\0');
    pms_instant second;
    assert_int_equal(pms_iso8601_parse("2026-04-04T16:45:00Z", &second, NULL, NULL), PMS_OK);
    pms_booking_request req = {.patient_id = b.patient,
                               .practitioner_id = b.practitioner,
                               .appointment_type_id = b.type,
                               .start = second,
                               .duration_minutes = 15};
    pms_write_result r = {0};
    pms_error err = {0};
    assert_int_equal(pms_adapter_book(f->session, &req, &r, &err), PMS_OK);
    if (r.state != PMS_WRITE_CONFIRMED)
        fail_msg("booking failed: %s", r.reason);
    json_t *t = truth_of(f, DAY, r.pms_appointment_id);
    assert_non_null(t);
    assert_start(t, second);
    json_decref(t);
    pms_appointment got;
    assert_int_equal(pms_adapter_get_appointment(f->session, r.pms_appointment_id, &got, &err),
                     PMS_OK);
    assert_true(got.start_time == second);
    pms_appointment_clear(&got);
    pms_write_result_clear(&r);
    req.start = second - 15 * 60000;
    assert_int_equal(pms_adapter_book(f->session, &req, &r, &err), PMS_OK);
    assert_int_equal(r.state, PMS_WRITE_FAILED);
    assert_non_null(strstr(r.reason, "taken"));
    pms_write_result_clear(&r);
}

static void test_unknown_appointment(void **state)
{
    fixture *f = *state;
    pms_write_result r = {0};
    pms_error err = {0};
    const char *missing = is("halaxy") ? "999999999" : "00000000-0000-4000-8000-000000000000";
    assert_int_equal(pms_adapter_cancel(f->session, missing, NULL, &r, &err), PMS_OK);
    assert_int_equal(r.state, PMS_WRITE_FAILED);
    assert_non_null(strstr(r.reason, "could not be found"));
    pms_write_result_clear(&r);
    pms_appointment a;
    assert_int_equal(pms_adapter_get_appointment(f->session, missing, &a, &err), PMS_ERR_NOT_FOUND);
    if (!is("gentu"))
        return;
    /* Gentu refuses to cancel what lies in the past (422), in words */
    json_t *before = truth_day(f, "2026-04-04");
    const json_t *past = json_array_get(json_object_get(before, "appointments"), 0);
    assert_non_null(past);
    assert_int_equal(pms_adapter_cancel(f->session, json_string_value(json_object_get(past, "_id")),
                                        NULL, &r, &err),
                     PMS_OK);
    assert_int_equal(r.state, PMS_WRITE_FAILED);
    assert_non_null(strstr(r.reason, "in the past"));
    pms_write_result_clear(&r);
    json_decref(before);
}

static void test_patients(void **state)
{
    fixture *f = *state;
    char patient_id[128];
    some_patient(f, patient_id, sizeof patient_id);
    pms_patient known;
    pms_error err = {0};
    assert_int_equal(pms_adapter_fetch_patient(f->session, patient_id, &known, &err), PMS_OK);
    assert_non_null(known.last_name);

    pms_patient_query q = {.family_name = known.last_name,
                           .has_date_of_birth = known.has_date_of_birth,
                           .date_of_birth = known.date_of_birth};
    pms_patient_list found = {0};
    assert_int_equal(pms_adapter_search_patients(f->session, &q, &found, &err), PMS_OK);
    bool seen = false;
    for (size_t i = 0; i < found.count; i++)
        seen = seen || strcmp(found.items[i].pms_patient_id, patient_id) == 0;
    assert_true(seen);
    pms_patient_list_clear(&found);
    pms_patient_clear(&known);

    pms_patient fresh = {.first_name = "Wren",
                         .last_name = "Quillfeather",
                         .full_name = "Wren Quillfeather",
                         .phone = "+61491570006",
                         .email = "wren@example.com",
                         .has_date_of_birth = true,
                         .date_of_birth = {1990, 2, 14}};
    char *new_id = NULL;
    int rc = pms_adapter_create_patient(f->session, &fresh, &new_id, &err);
    if (rc == PMS_ERR_NOT_SUPPORTED) {
        assert_true(is("halaxy"));
        return;
    }
    assert_int_equal(rc, PMS_OK);
    assert_non_null(new_id);
    pms_patient_query again = {.family_name = "Quillfeather"};
    assert_int_equal(pms_adapter_search_patients(f->session, &again, &found, &err), PMS_OK);
    assert_int_equal(found.count, 1);
    assert_string_equal(found.items[0].pms_patient_id, new_id);
    pms_patient_list_clear(&found);
    free(new_id);
}

static void test_not_supported(void **state)
{
    fixture *f = *state;
    pms_error err = {0};
    pms_slot_list slots = {0};
    pms_slot_query q = {.from = local_instant(f, DAY "T00:00"),
                        .to = local_instant(f, "2026-04-06T00:00"),
                        .duration_minutes = 15};
    int rc = pms_adapter_find_slots(f->session, &q, &slots, &err);
    if (is("medirecords")) {
        assert_int_equal(rc, PMS_ERR_NOT_SUPPORTED);
        assert_non_null(strstr(err.message, "does not support"));
    } else {
        assert_int_equal(rc, PMS_OK);
        assert_true(slots.count > 0);
    }
    pms_slot_list_clear(&slots);
    if (!is("medirecords")) { /* neither API can move an appointment: said why */
        pms_write_result moved = {0};
        assert_int_equal(pms_adapter_reschedule(f->session, "1", q.from, 15, &moved, &err),
                         PMS_ERR_NOT_SUPPORTED);
        assert_non_null(
            strstr(err.message, is("gentu") ? "cannot move an appointment" : "not its time"));
    }
    if (is("halaxy")) {
        char *id = NULL;
        pms_patient p = {.first_name = "A", .last_name = "B"};
        assert_int_equal(pms_adapter_create_patient(f->session, &p, &id, &err),
                         PMS_ERR_NOT_SUPPORTED);
        assert_non_null(strstr(err.message, "not to create them"));
    }
    pms_write_result r = {0};
    assert_int_equal(pms_adapter_write_status(f->session, "1", &r, &err), PMS_ERR_NOT_SUPPORTED);
}

int main(void)
{
    pms = getenv("PMSYNC_TEST_PMS");
    if (pms == NULL || getenv("PMS_SANDBOX_BIN") == NULL || getenv("PMSCTL_BIN") == NULL) {
        fprintf(stderr, "PMSYNC_TEST_PMS, PMS_SANDBOX_BIN and PMSCTL_BIN must be set\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_book_move_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dst_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_appointment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_supported, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name(pms, tests, NULL, NULL);
    tu_sandbox_stop_all();
    curl_global_cleanup();
    return failed;
}
