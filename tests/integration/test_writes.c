/* Write-back through the adapters for one PMS — PMSYNC_TEST_PMS = gentu, medirecords, halaxy
 * or sikka — against pms-sandbox (PMS_SANDBOX_BIN) over real HTTP. A connection is made with
 * pmsctl (PMSCTL_BIN) in a private SQLite store and opened as a session the way pmsctl and pmsd
 * open one. Each case checks what the PMS itself then holds (the sandbox's ground truth) and,
 * for a booking, what a sync brings to the run sheet: free times → book (at the right instant
 * on the day the clocks change, in the hour that happens twice) → move → cancel; a taken time
 * refused with a sentence a person can hear; patients found and created; operations the PMS
 * lacks refused as not supported, with the reason. Sikka's writes are asynchronous: each answers
 * pending with a writeback id that write_status follows (bounded polling) until the practice's
 * SPU has applied it (confirmed) or refused it (failed, in words). */
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
    char day[16];       /* the sandbox's today: the day the cases book on */
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
        execve(bin, (char *const *)argv, (char *const *)envp);
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
    char base[128], set[4][300];
    snprintf(base, sizeof base, "%s/%s%s", f->box.base, pms, is("sikka") ? "/v4" : "");
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
    int n = 11, sets = 0;
    if (is("gentu")) {
        snprintf(set[sets++], sizeof set[0], "client_id=sandbox-client");
        snprintf(set[sets++], sizeof set[0], "client_secret=sandbox-secret");
        snprintf(set[sets++], sizeof set[0], "app_id=sandbox-app");
    } else if (is("medirecords")) {
        snprintf(set[sets++], sizeof set[0], "practice_id=%s", info_string(f, "practiceId"));
        snprintf(set[sets++], sizeof set[0], "token=%s", info_string(f, "token"));
    } else if (is("sikka")) {
        snprintf(set[sets++], sizeof set[0], "app_id=%s", info_string(f, "appId"));
        snprintf(set[sets++], sizeof set[0], "app_key=%s", info_string(f, "appKey"));
        snprintf(set[sets++], sizeof set[0], "practice_id=%s", info_string(f, "practiceId"));
        /* writes are followed by polling: more than Sikka's 200 a minute */
        snprintf(set[sets++], sizeof set[0], "rate_per_minute=100000");
    } else {
        snprintf(set[sets++], sizeof set[0], "client_id=%s", info_string(f, "clientId"));
        snprintf(set[sets++], sizeof set[0], "client_secret=%s", info_string(f, "clientSecret"));
    }
    for (int i = 0; i < sets; i++) {
        args[n++] = "--set";
        args[n++] = set[i];
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

/* A sandbox whose today is `today`, connected to practice `index` of this PMS. Sikka's
 * writebacks complete after 100 ms. */
static int setup_at(void **state, const char *today, size_t index)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->db, sizeof f->db, "%s", tu_db(f->dir));
    snprintf(f->env_db, sizeof f->env_db, "PMSYNC_DB=%s", f->db);
    snprintf(f->key_file, sizeof f->key_file, "%s/pmsync.key", f->dir);
    snprintf(f->env_key, sizeof f->env_key, "PMSYNC_SECRET_KEY_FILE=%s", f->key_file);
    snprintf(f->day, sizeof f->day, "%s", today);
    const char *args[] = {"--seed", "11", "--today", today, NULL};
    if (tu_sandbox_start(&f->box, args) != 0)
        return -1;
    json_t *info = tu_sandbox_json(&f->box, "GET", "/_sandbox/info", NULL);
    const json_t *list =
        json_object_get(json_object_get(info, pms), is("gentu") ? "tenants" : "practices");
    f->info = json_incref(json_array_get(list, index));
    json_decref(info);
    assert_non_null(f->info);
    const char *key = is("gentu")         ? "tenantId"
                      : is("medirecords") ? "practiceId"
                      : is("sikka")       ? "officeId"
                                          : "clientId";
    snprintf(f->practice, sizeof f->practice, "%s", info_string(f, key));
    snprintf(f->timezone, sizeof f->timezone, "%s", info_string(f, "timezone"));
    if (is("sikka"))
        json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/sikka/settings",
                                    "{\"writeback_delay_ms\":100}"));
    connect_pms(f);
    open_session(f);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_at(state, TODAY, 0);
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
    json_t *all = truth_day(f, f->day);
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

/* The fixture's day (plus `days`) at the local wall time hhmm. */
static pms_instant day_at(const fixture *f, int days, const char *hhmm)
{
    pms_date d;
    assert_int_equal(pms_date_parse(f->day, &d, NULL), PMS_OK);
    char date[PMS_TIME_BUFLEN], iso[64];
    pms_date_format(pms_date_add_days(d, days), date);
    snprintf(iso, sizeof iso, "%sT%s", date, hhmm);
    return local_instant(f, iso);
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
    const char *args[] = {"sync", f->conn, "--from", f->day, "--to", f->day, NULL};
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
                        .from = day_at(f, 0, "00:00"),
                        .to = day_at(f, 1, "00:00"),
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

/* The truth holds the booking as planned, on the fixture's day. */
static void assert_booked(fixture *f, const char *id, const booking_plan *b)
{
    json_t *t = truth_of(f, f->day, id);
    assert_non_null(t);
    assert_start(t, b->start);
    assert_string_equal(json_string_value(json_object_get(t, "_practitionerId")), b->practitioner);
    assert_string_equal(json_string_value(json_object_get(t, "_patientId")), b->patient);
    assert_int_equal(json_integer_value(json_object_get(t, "_minutes")), b->minutes);
    assert_string_equal(json_string_value(json_object_get(t, "_appointmentTypeId")), b->type);
    json_decref(t);
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

    assert_booked(f, id, &b);
    json_t *t;

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
    const char *missing =
        is("halaxy") || is("sikka") ? "999999999" : "00000000-0000-4000-8000-000000000000";
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

/* Whether a search with q finds the patient id. */
static bool finds(fixture *f, const pms_patient_query *q, const char *id)
{
    pms_patient_list found = {0};
    pms_error err = {0};
    assert_int_equal(pms_adapter_search_patients(f->session, q, &found, &err), PMS_OK);
    bool seen = false;
    for (size_t i = 0; i < found.count; i++)
        seen = seen || strcmp(found.items[i].pms_patient_id, id) == 0;
    pms_patient_list_clear(&found);
    return seen;
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
    assert_true(finds(f, &q, patient_id));
    if (is("sikka")) { /* by the cell number, written as a caller would say it */
        assert_non_null(known.phone);
        pms_patient_query by_phone = {.phone = known.phone};
        assert_true(finds(f, &by_phone, patient_id));
    }
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
        assert_true(is("halaxy") || is("sikka"));
        assert_non_null(strstr(err.message, is("sikka") ? "only together with a booking"
                                                        : "not to create them"));
        assert_null(new_id);
        return;
    }
    assert_int_equal(rc, PMS_OK);
    assert_non_null(new_id);
    pms_patient_list found = {0};
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

/* ---- Sikka: writebacks that the practice's SPU applies later -------------------------- */

static void sikka_settings(fixture *f, const char *json)
{
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/sikka/settings", json));
}

static long endpoint_count(fixture *f, const char *endpoint)
{
    json_t *stats = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    long n =
        (long)json_integer_value(json_object_get(json_object_get(stats, "byEndpoint"), endpoint));
    json_decref(stats);
    return n;
}

/* The office's writebacks as the sandbox holds them (a new reference). */
static json_t *writebacks(fixture *f)
{
    json_t *all = truth_day(f, f->day);
    json_t *list = json_incref(json_object_get(all, "writebacks"));
    json_decref(all);
    assert_true(json_is_array(list));
    return list;
}

/* The writeback `id` (borrowed from list), checked: every value of the body it sent a string. */
static const json_t *writeback_sent(const json_t *list, const char *id)
{
    size_t i;
    const json_t *wb;
    json_array_foreach(list, i, wb)
    {
        if (strcmp(json_string_value(json_object_get(wb, "id")), id) != 0)
            continue;
        json_t *body = json_loads(json_string_value(json_object_get(wb, "payload_body")), 0, NULL);
        assert_true(json_is_object(body));
        const char *key;
        json_t *v;
        json_object_foreach(body, key, v)
        {
            if (!json_is_string(v))
                fail_msg("writeback %s sent %s as a non-string", id, key);
        }
        json_decref(body);
        return wb;
    }
    fail_msg("no writeback %s in the sandbox", id);
    return NULL;
}

/* The value `key` of the body writeback `id` sent (copied into out). */
static void sent_value(const json_t *list, const char *id, const char *key, char *out, size_t len)
{
    const json_t *wb = writeback_sent(list, id);
    json_t *body = json_loads(json_string_value(json_object_get(wb, "payload_body")), 0, NULL);
    const char *v = json_string_value(json_object_get(body, key));
    snprintf(out, len, "%s", v ? v : "");
    json_decref(body);
}

/* A write that answered pending, followed with write_status (every 20 ms, at most 10 s) until
 * it settles; *r becomes the settled answer. The tracking id is copied to tracking. */
static void follow(fixture *f, pms_write_result *r, char *tracking, size_t len)
{
    if (r->state != PMS_WRITE_PENDING)
        fail_msg("expected a pending writeback, got state %d: %s", (int)r->state, r->reason);
    assert_non_null(r->tracking_id);
    snprintf(tracking, len, "%s", r->tracking_id);
    for (int i = 0; i < 500; i++) {
        pms_write_result next = {0};
        pms_error err = {0};
        if (pms_adapter_write_status(f->session, tracking, &next, &err) != PMS_OK)
            fail_msg("write status: %s", err.message);
        assert_string_equal(next.tracking_id, tracking);
        if (next.state != PMS_WRITE_PENDING) {
            pms_write_result_clear(r);
            *r = next;
            return;
        }
        pms_write_result_clear(&next);
        tu_sleep_ms(20);
    }
    fail_msg("writeback %s still pending after 10 s", tracking);
}

/* A 15-minute General visit with the practice's first provider. */
static pms_booking_request sikka_visit(const fixture *f, const char *patient, pms_instant start)
{
    return (pms_booking_request){.patient_id = patient,
                                 .practitioner_id = first_of(f, "activeProviderIds"),
                                 .appointment_type_id = "General",
                                 .start = start,
                                 .duration_minutes = 15};
}

/* Books req and follows its writeback until it settles (*r: the settled answer). */
static void book_followed(fixture *f, const pms_booking_request *req, pms_write_result *r,
                          char *tracking, size_t len)
{
    pms_error err = {0};
    if (pms_adapter_book(f->session, req, r, &err) != PMS_OK)
        fail_msg("book: %s", err.message);
    follow(f, r, tracking, len);
}

static void local_wall(const fixture *f, pms_instant t, char date[16], char time[8])
{
    const pms_tz *tz = NULL;
    assert_int_equal(pms_tz_get(f->timezone, &tz, NULL), PMS_OK);
    pms_civil c;
    pms_tz_to_local(tz, t, &c);
    snprintf(date, 16, "%04d-%02d-%02d", c.year, c.month, c.day);
    snprintf(time, 8, "%02d:%02d", c.hour, c.minute);
}

/* Free times (from `endpoint`) → book → pending → confirmed with the new appointment_sr_no →
 * read back, in the truth and on the run sheet → moved → cancelled, each pending first. */
static void sikka_book_move_cancel(fixture *f, const char *endpoint)
{
    booking_plan b;
    memset(&b, 0, sizeof b);
    some_patient(f, b.patient, sizeof b.patient);
    snprintf(b.type, sizeof b.type, "General");
    b.minutes = 15;
    /* the sandbox's days are full: the first provider with two free times or more */
    long asked = endpoint_count(f, endpoint);
    size_t i;
    const json_t *provider;
    json_array_foreach(json_object_get(f->info, "activeProviderIds"), i, provider)
    {
        pms_slot_query q = {.practitioner_id = json_string_value(provider),
                            .from = day_at(f, 0, "00:00"),
                            .to = day_at(f, 1, "00:00"),
                            .duration_minutes = b.minutes};
        pms_slot_list some = {0};
        pms_error err = {0};
        if (pms_adapter_find_slots(f->session, &q, &some, &err) != PMS_OK)
            fail_msg("free times: %s", err.message);
        if (some.count >= 2 && !b.practitioner[0])
            snprintf(b.practitioner, sizeof b.practitioner, "%s", q.practitioner_id);
        pms_slot_list_clear(&some);
    }
    assert_true(b.practitioner[0] != '\0');
    pms_slot_list slots = {0};
    free_times(f, &b, &slots);
    assert_true(endpoint_count(f, endpoint) > asked);
    b.start = slots.items[0].start;
    b.moved_to = slots.items[slots.count - 1].start;
    pms_slot_list_clear(&slots);

    pms_booking_request req = {.patient_id = b.patient,
                               .practitioner_id = b.practitioner,
                               .appointment_type_id = b.type,
                               .start = b.start,
                               .duration_minutes = b.minutes,
                               .notes = "Booked by phone"};
    pms_write_result r = {0};
    pms_error err = {0};
    assert_int_equal(pms_adapter_book(f->session, &req, &r, &err), PMS_OK);
    assert_null(r.pms_appointment_id);
    char booked_wb[64], moved_wb[64], cancelled_wb[64];
    follow(f, &r, booked_wb, sizeof booked_wb);
    if (r.state != PMS_WRITE_CONFIRMED)
        fail_msg("booking failed: %s", r.reason);
    assert_non_null(r.pms_appointment_id);
    char id[64];
    snprintf(id, sizeof id, "%s", r.pms_appointment_id);
    pms_write_result_clear(&r);

    assert_booked(f, id, &b);
    json_t *t;
    pms_appointment got;
    assert_int_equal(pms_adapter_get_appointment(f->session, id, &got, &err), PMS_OK);
    assert_string_equal(got.pms_appointment_id, id);
    assert_true(got.start_time == b.start);
    assert_int_equal(got.duration_minutes, b.minutes);
    pms_appointment_clear(&got);
    sync_day(f);
    assert_int_equal(rows_of(f, id), 1);
    pms_slot_query again = {.practitioner_id = b.practitioner,
                            .from = day_at(f, 0, "00:00"),
                            .to = day_at(f, 1, "00:00"),
                            .duration_minutes = b.minutes};
    assert_int_equal(pms_adapter_find_slots(f->session, &again, &slots, &err), PMS_OK);
    for (size_t k = 0; k < slots.count; k++) /* no longer offered */
        assert_true(slots.items[k].start != b.start);
    pms_slot_list_clear(&slots);

    assert_int_equal(pms_adapter_reschedule(f->session, id, b.moved_to, b.minutes, &r, &err),
                     PMS_OK);
    follow(f, &r, moved_wb, sizeof moved_wb);
    if (r.state != PMS_WRITE_CONFIRMED)
        fail_msg("move failed: %s", r.reason);
    pms_write_result_clear(&r);
    t = truth_of(f, f->day, id);
    assert_start(t, b.moved_to);
    json_decref(t);
    assert_int_equal(pms_adapter_get_appointment(f->session, id, &got, &err), PMS_OK);
    assert_true(got.start_time == b.moved_to);
    pms_appointment_clear(&got);

    assert_int_equal(pms_adapter_cancel(f->session, id, "Patient is unwell", &r, &err), PMS_OK);
    follow(f, &r, cancelled_wb, sizeof cancelled_wb);
    if (r.state != PMS_WRITE_CONFIRMED)
        fail_msg("cancel failed: %s", r.reason);
    pms_write_result_clear(&r);
    t = truth_of(f, f->day, id);
    assert_non_null(t);
    assert_string_equal(json_string_value(json_object_get(t, "_status")), "cancelled");
    json_decref(t);
    sync_day(f);
    assert_int_equal(rows_of(f, id), 0);

    /* what was sent: strings only, the practice's wall clock, the configured cancel words */
    json_t *list = writebacks(f);
    assert_int_equal(json_array_size(list), 3);
    char date[16], time[8], value[64];
    local_wall(f, b.start, date, time);
    sent_value(list, booked_wb, "date", value, sizeof value);
    assert_string_equal(value, date);
    sent_value(list, booked_wb, "time", value, sizeof value);
    assert_string_equal(value, time);
    sent_value(list, booked_wb, "length", value, sizeof value);
    assert_string_equal(value, "15");
    sent_value(list, booked_wb, "check_spu", value, sizeof value);
    assert_string_equal(value, "true");
    local_wall(f, b.moved_to, date, time);
    sent_value(list, moved_wb, "time", value, sizeof value);
    assert_string_equal(value, time);
    sent_value(list, cancelled_wb, "path", value, sizeof value);
    assert_string_equal(value, "/appointment_status");
    sent_value(list, cancelled_wb, "value", value, sizeof value);
    assert_string_equal(value, "Cancelled");
    json_decref(list);
}

/* New York (Dentrix): free times are the practice schedule minus booked appointments; today
 * the clocks go back (02:00 EDT -> 01:00 EST). */
static int setup_sikka_schedule(void **state)
{
    return setup_at(state, "2026-11-01", 0);
}

/* Denver (OrthoTrac): free times from appointments_available_slots; today the clocks go
 * forward (02:00 MST -> 03:00 MDT). */
static int setup_sikka_slots(void **state)
{
    return setup_at(state, "2026-03-08", 1);
}

static void sikka_schedule_book_move_cancel(void **state)
{
    fixture *f = *state;
    assert_string_equal(info_string(f, "timezone"), "America/New_York");
    sikka_book_move_cancel(f, "sikka.practice_schedule");
    assert_int_equal(endpoint_count(f, "sikka.available_slots"), 0);
}

static void sikka_slots_book_move_cancel(void **state)
{
    fixture *f = *state;
    assert_string_equal(info_string(f, "practiceManagementSystem"), "OrthoTrac");
    sikka_book_move_cancel(f, "sikka.available_slots");
    assert_int_equal(endpoint_count(f, "sikka.practice_schedule"), 0);
}

/* Bookings on the days the clocks change land at the instant asked for: 07:00 on 2026-11-01
 * is EST (12:00Z), 07:00 on 2026-03-08 EDT (11:00Z); the PMS is sent the wall clock. */
static void sikka_daylight_saving_days(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *local, *utc;
    } cases[] = {
        {"2026-11-01T07:00", "2026-11-01T12:00:00.000Z"},
        {"2026-03-08T07:00", "2026-03-08T11:00:00.000Z"},
        {"2026-03-08T03:30", "2026-03-08T07:30:00.000Z"}, /* just after the gap */
    };
    char patient[64];
    some_patient(f, patient, sizeof patient);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        pms_instant start = local_instant(f, cases[c].local);
        char utc[PMS_TIME_BUFLEN];
        pms_format_utc(start, utc);
        assert_string_equal(utc, cases[c].utc);
        pms_booking_request req = sikka_visit(f, patient, start);
        pms_write_result r = {0};
        pms_error err = {0};
        char wb[64];
        book_followed(f, &req, &r, wb, sizeof wb);
        if (r.state != PMS_WRITE_CONFIRMED)
            fail_msg("booking at %s failed: %s", cases[c].local, r.reason);
        char day[16];
        snprintf(day, sizeof day, "%.10s", cases[c].local);
        json_t *t = truth_of(f, day, r.pms_appointment_id);
        assert_non_null(t);
        assert_string_equal(json_string_value(json_object_get(t, "_startUtc")), cases[c].utc);
        assert_string_equal(json_string_value(json_object_get(t, "_localKind")), "unique");
        json_decref(t);
        pms_appointment got;
        assert_int_equal(pms_adapter_get_appointment(f->session, r.pms_appointment_id, &got, &err),
                         PMS_OK);
        assert_true(got.start_time == start);
        pms_appointment_clear(&got);
        json_t *list = writebacks(f);
        char value[64];
        sent_value(list, wb, "date", value, sizeof value);
        assert_string_equal(value, day);
        sent_value(list, wb, "time", value, sizeof value);
        assert_string_equal(value, cases[c].local + 11);
        json_decref(list);
        if (c == 0) { /* today's: on the run sheet after a sync */
            sync_day(f);
            assert_int_equal(rows_of(f, r.pms_appointment_id), 1);
        }
        pms_write_result_clear(&r);
    }
}

/* Writebacks the practice's system refuses resolve to failed, with its reason in words: one
 * the sandbox is told to fail, and a booking over the provider's appointment. */
static void sikka_failed_writebacks(void **state)
{
    fixture *f = *state;
    char patient[64];
    some_patient(f, patient, sizeof patient);
    sikka_settings(f, "{\"writeback_fail_next\":1}");
    pms_booking_request req = sikka_visit(f, patient, day_at(f, 0, "07:00"));
    pms_write_result r = {0};
    char wb[64];
    book_followed(f, &req, &r, wb, sizeof wb);
    assert_int_equal(r.state, PMS_WRITE_FAILED);
    assert_null(r.pms_appointment_id);
    assert_non_null(strstr(r.reason, "did not accept"));
    assert_non_null(strstr(r.reason, "rejected the change"));
    pms_write_result_clear(&r);
    json_t *day = truth_day(f, f->day);
    size_t i;
    json_t *a;
    const json_t *taken = NULL;
    char start[PMS_TIME_BUFLEN];
    pms_format_utc(req.start, start);
    json_array_foreach(json_object_get(day, "appointments"), i, a)
    {
        assert_string_not_equal(json_string_value(json_object_get(a, "_startUtc")), start);
        if (!taken && strcmp(json_string_value(json_object_get(a, "_status")), "cancelled") != 0 &&
            strcmp(json_string_value(json_object_get(a, "_localKind")), "unique") == 0)
            taken = a;
    }
    assert_non_null(taken);

    /* the provider's own appointment's time: the SPU refuses it */
    assert_int_equal(pms_iso8601_parse(json_string_value(json_object_get(taken, "_startUtc")),
                                       &req.start, NULL, NULL),
                     PMS_OK);
    req.practitioner_id = json_string_value(json_object_get(taken, "_practitionerId"));
    book_followed(f, &req, &r, wb, sizeof wb);
    assert_int_equal(r.state, PMS_WRITE_FAILED);
    assert_non_null(strstr(r.reason, "already has an appointment at that time"));
    pms_write_result_clear(&r);
    json_decref(day);
}

/* A write the SPU offline kept from being sent: an error (a retry may get past it) with the
 * SPU sentence as the reason, and nothing to follow. */
static void assert_not_sent(int rc, pms_write_result *r, const pms_error *err)
{
    assert_int_not_equal(rc, PMS_OK);
    assert_int_equal(err->http_status, 412);
    assert_non_null(strstr(err->message, "API2017"));
    assert_int_equal(r->state, PMS_WRITE_FAILED);
    assert_null(r->tracking_id);
    assert_string_equal(r->reason,
                        "The practice's Sikka server (SPU) is offline; try again when it is back.");
    pms_write_result_clear(r);
}

/* While the practice's SPU is offline a write is not sent: an error with the SPU sentence, and
 * no writeback queued; once it is back the same booking goes through. */
static void sikka_spu_offline(void **state)
{
    fixture *f = *state;
    char patient[64];
    some_patient(f, patient, sizeof patient);
    json_t *day = truth_day(f, f->day);
    const char *existing = json_string_value(
        json_object_get(json_array_get(json_object_get(day, "appointments"), 0), "_id"));
    assert_non_null(existing);
    sikka_settings(f, "{\"spu_offline\":true}");
    pms_booking_request req = sikka_visit(f, patient, day_at(f, 0, "07:00"));
    pms_write_result r = {0};
    pms_error err = {0};
    int rc = pms_adapter_book(f->session, &req, &r, &err);
    assert_not_sent(rc, &r, &err);
    rc = pms_adapter_cancel(f->session, existing, NULL, &r, &err);
    assert_not_sent(rc, &r, &err);
    rc = pms_adapter_reschedule(f->session, existing, day_at(f, 0, "06:00"), 15, &r, &err);
    assert_not_sent(rc, &r, &err);
    json_t *list = writebacks(f);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);

    /* back online: the same booking is queued */
    sikka_settings(f, "{\"spu_offline\":false}");
    char wb[64];
    book_followed(f, &req, &r, wb, sizeof wb);
    assert_int_equal(r.state, PMS_WRITE_CONFIRMED);
    pms_write_result_clear(&r);
    json_decref(day);
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
    const struct CMUnitTest sikka_tests[] = {
        cmocka_unit_test_setup_teardown(sikka_schedule_book_move_cancel, setup_sikka_schedule,
                                        teardown),
        cmocka_unit_test_setup_teardown(sikka_slots_book_move_cancel, setup_sikka_slots, teardown),
        cmocka_unit_test_setup_teardown(sikka_daylight_saving_days, setup_sikka_schedule, teardown),
        cmocka_unit_test_setup_teardown(sikka_failed_writebacks, setup_sikka_schedule, teardown),
        cmocka_unit_test_setup_teardown(sikka_spu_offline, setup_sikka_schedule, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_appointment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patients, setup, teardown),
    };
    int failed = is("sikka") ? cmocka_run_group_tests_name(pms, sikka_tests, NULL, NULL)
                             : cmocka_run_group_tests_name(pms, tests, NULL, NULL);
    tu_sandbox_stop_all();
    curl_global_cleanup();
    return failed;
}
