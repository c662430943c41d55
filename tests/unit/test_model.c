/* The unified appointment model: JSON shape, round trip, copy, content hash, validation,
 * status names and the telehealth name suggestion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/crypto.h"
#include "pmsync/model.h"

/* 2026-03-02 09:30 in Melbourne (+11:00) is 2026-03-01 22:30 UTC. */
#define START_TEXT "2026-03-02T09:30:00.000+11:00"
#define START_UTC  "2026-03-01T22:30:00.000Z"
#define END_UTC    "2026-03-01T23:00:00.000Z"

static pms_instant instant(const char *text)
{
    pms_instant t = PMS_INSTANT_NONE;
    assert_int_equal(pms_iso8601_parse(text, &t, NULL, NULL), PMS_OK);
    return t;
}

static char *dup(const char *s)
{
    char *copy = strdup(s);
    assert_non_null(copy);
    return copy;
}

/* An appointment with every field filled. */
static void make_full(pms_appointment *a)
{
    pms_appointment_init(a);
    a->pms_type = dup("gentu");
    a->pms_appointment_id = dup("128eb8c9-61c0-4b1b-9519-6bbb86bfe7aa");
    a->pms_connection_id = dup("conn-42");
    a->start_time = instant(START_TEXT);
    a->end_time = a->start_time + 30 * 60000;
    a->duration_minutes = 30;
    a->timezone = dup("Australia/Melbourne");
    a->is_telehealth = true;
    a->appointment_type_name = dup("Telehealth Consultation");
    a->appointment_type_id = dup("ac433a35-b2c5-4b8f-ab23-fe95714f6593");
    a->status = PMS_STATUS_CONFIRMED;
    a->patient.pms_patient_id = dup("d011246e-bc0b-4913-9742-5ad9dcb5ded2");
    a->patient.full_name = dup("Olivia Mai Nguyen");
    a->patient.first_name = dup("Olivia");
    a->patient.last_name = dup("Nguyen");
    a->patient.phone = dup("+61412345678");
    a->patient.email = dup("olivia@example.com");
    a->patient.has_date_of_birth = true;
    a->patient.date_of_birth = (pms_date){1984, 7, 21};
    a->practitioner.pms_practitioner_id = dup("b3c7c80d-7148-4ff5-90f1-438a9be8d279");
    a->practitioner.full_name = dup("Dr Jane Citizen");
    a->practitioner.first_name = dup("Jane");
    a->practitioner.last_name = dup("Citizen");
    a->notes = dup("Patient to arrive 15 minutes prior.");
    a->referral_id = dup("ref-7");
    a->telehealth_url_provider = dup("https://video.example/p/1");
    a->telehealth_url_patient = dup("https://video.example/c/1");
    a->location_name = dup("Room 2");
    a->pms_created_at = instant("2026-02-20T10:00:00.000+11:00");
    a->pms_updated_at = instant("2026-02-21T10:00:00.000+11:00");
    a->fetched_at = instant("2026-03-01T08:00:00.000+11:00");
    a->raw_data = json_pack("{s:s, s:s}", "id", a->pms_appointment_id, "status", "confirmed");
    assert_non_null(a->raw_data);
}

/* Only what validation requires. */
static void make_minimal(pms_appointment *a)
{
    pms_appointment_init(a);
    a->pms_appointment_id = dup("a-1");
    a->start_time = instant(START_TEXT);
    a->end_time = a->start_time + 15 * 60000;
    a->duration_minutes = 15;
    a->timezone = dup("Australia/Sydney");
    a->practitioner.pms_practitioner_id = dup("p-1");
}

static const char *str_member(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void assert_keys(const json_t *o, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (json_object_get(o, keys[i]) == NULL)
            fail_msg("key %s missing", keys[i]);
}

static void assert_exact_keys(const json_t *o, const char *const *keys, size_t n)
{
    assert_keys(o, keys, n);
    assert_int_equal(json_object_size(o), n);
}

static void json_has_every_plan_field(void **state)
{
    (void)state;
    static const char *const top[] = {
        "pmsType",
        "pmsAppointmentId",
        "pmsConnectionId",
        "startTime",
        "endTime",
        "durationMinutes",
        "timezone",
        "isTelehealth",
        "appointmentTypeName",
        "appointmentTypeId",
        "status",
        "patient",
        "practitioner",
        "notes",
        "referralId",
        "fetchedAt",
        "rawData",
    };
    static const char *const patient_keys[] = {"pmsPatientId", "fullName", "firstName",  "lastName",
                                               "phone",        "email",    "dateOfBirth"};
    static const char *const practitioner_keys[] = {"pmsPractitionerId", "fullName", "firstName",
                                                    "lastName"};
    pms_appointment a;
    make_full(&a);
    json_t *o = pms_appointment_to_json(&a, true);
    assert_non_null(o);
    assert_keys(o, top, sizeof top / sizeof top[0]);
    const json_t *patient = json_object_get(o, "patient");
    const json_t *practitioner = json_object_get(o, "practitioner");
    assert_exact_keys(patient, patient_keys, sizeof patient_keys / sizeof patient_keys[0]);
    assert_exact_keys(practitioner, practitioner_keys,
                      sizeof practitioner_keys / sizeof practitioner_keys[0]);

    assert_string_equal(str_member(o, "pmsType"), "gentu");
    assert_string_equal(str_member(o, "pmsAppointmentId"), "128eb8c9-61c0-4b1b-9519-6bbb86bfe7aa");
    assert_string_equal(str_member(o, "pmsConnectionId"), "conn-42");
    /* Instants are UTC with a Z, whatever offset the PMS used. */
    assert_string_equal(str_member(o, "startTime"), START_UTC);
    assert_string_equal(str_member(o, "endTime"), END_UTC);
    assert_string_equal(str_member(o, "fetchedAt"), "2026-02-28T21:00:00.000Z");
    assert_int_equal(json_integer_value(json_object_get(o, "durationMinutes")), 30);
    assert_true(json_is_integer(json_object_get(o, "durationMinutes")));
    assert_string_equal(str_member(o, "timezone"), "Australia/Melbourne");
    assert_true(json_is_true(json_object_get(o, "isTelehealth")));
    assert_string_equal(str_member(o, "appointmentTypeName"), "Telehealth Consultation");
    assert_string_equal(str_member(o, "appointmentTypeId"), "ac433a35-b2c5-4b8f-ab23-fe95714f6593");
    assert_string_equal(str_member(o, "status"), "confirmed");
    assert_string_equal(str_member(o, "notes"), "Patient to arrive 15 minutes prior.");
    assert_string_equal(str_member(o, "referralId"), "ref-7");
    assert_string_equal(str_member(patient, "pmsPatientId"),
                        "d011246e-bc0b-4913-9742-5ad9dcb5ded2");
    assert_string_equal(str_member(patient, "fullName"), "Olivia Mai Nguyen");
    assert_string_equal(str_member(patient, "firstName"), "Olivia");
    assert_string_equal(str_member(patient, "lastName"), "Nguyen");
    assert_string_equal(str_member(patient, "phone"), "+61412345678");
    assert_string_equal(str_member(patient, "email"), "olivia@example.com");
    assert_string_equal(str_member(patient, "dateOfBirth"), "1984-07-21");
    assert_string_equal(str_member(practitioner, "pmsPractitionerId"),
                        "b3c7c80d-7148-4ff5-90f1-438a9be8d279");
    assert_string_equal(str_member(practitioner, "fullName"), "Dr Jane Citizen");
    assert_string_equal(str_member(practitioner, "firstName"), "Jane");
    assert_string_equal(str_member(practitioner, "lastName"), "Citizen");
    assert_true(json_equal(json_object_get(o, "rawData"), a.raw_data));

    /* Without raw data the record never carries it. */
    json_t *lean = pms_appointment_to_json(&a, false);
    const json_t *raw = json_object_get(lean, "rawData");
    assert_true(raw == NULL || json_is_null(raw));
    json_decref(lean);
    json_decref(o);
    pms_appointment_clear(&a);
}

static void json_absent_optionals_are_null(void **state)
{
    (void)state;
    pms_appointment a;
    make_minimal(&a);
    json_t *o = pms_appointment_to_json(&a, true);
    static const char *const nulls[] = {
        "pmsType", "pmsConnectionId", "appointmentTypeName", "appointmentTypeId",
        "notes",   "referralId",      "fetchedAt",           "rawData"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (!json_is_null(json_object_get(o, nulls[i])))
            fail_msg("%s should be null", nulls[i]);
    const json_t *patient = json_object_get(o, "patient");
    assert_true(json_is_null(json_object_get(patient, "phone")));
    assert_true(json_is_null(json_object_get(patient, "dateOfBirth")));
    assert_true(json_is_false(json_object_get(o, "isTelehealth")));
    assert_string_equal(str_member(o, "status"), "booked");
    json_decref(o);
    pms_appointment_clear(&a);
}

static void json_round_trip(void **state)
{
    (void)state;
    pms_appointment a, back;
    make_full(&a);
    json_t *o = pms_appointment_to_json(&a, true);
    pms_error err = {0};
    assert_int_equal(pms_appointment_from_json(o, &back, &err), PMS_OK);

    assert_string_equal(back.pms_type, a.pms_type);
    assert_string_equal(back.pms_appointment_id, a.pms_appointment_id);
    assert_string_equal(back.pms_connection_id, a.pms_connection_id);
    assert_true(back.start_time == a.start_time);
    assert_true(back.end_time == a.end_time);
    assert_int_equal(back.duration_minutes, 30);
    assert_string_equal(back.timezone, a.timezone);
    assert_true(back.is_telehealth);
    assert_string_equal(back.appointment_type_name, a.appointment_type_name);
    assert_string_equal(back.appointment_type_id, a.appointment_type_id);
    assert_int_equal(back.status, PMS_STATUS_CONFIRMED);
    assert_string_equal(back.patient.pms_patient_id, a.patient.pms_patient_id);
    assert_string_equal(back.patient.full_name, a.patient.full_name);
    assert_string_equal(back.patient.first_name, a.patient.first_name);
    assert_string_equal(back.patient.last_name, a.patient.last_name);
    assert_string_equal(back.patient.phone, a.patient.phone);
    assert_string_equal(back.patient.email, a.patient.email);
    assert_true(back.patient.has_date_of_birth);
    assert_int_equal(pms_date_compare(back.patient.date_of_birth, a.patient.date_of_birth), 0);
    assert_string_equal(back.practitioner.pms_practitioner_id, a.practitioner.pms_practitioner_id);
    assert_string_equal(back.practitioner.full_name, a.practitioner.full_name);
    assert_string_equal(back.practitioner.first_name, a.practitioner.first_name);
    assert_string_equal(back.practitioner.last_name, a.practitioner.last_name);
    assert_string_equal(back.notes, a.notes);
    assert_string_equal(back.referral_id, a.referral_id);
    assert_true(back.fetched_at == a.fetched_at);
    assert_true(back.pms_created_at == a.pms_created_at);
    assert_true(back.pms_updated_at == a.pms_updated_at);
    assert_true(json_equal(back.raw_data, a.raw_data));

    /* And the whole document survives a second trip unchanged. */
    json_t *again = pms_appointment_to_json(&back, true);
    assert_true(json_equal(o, again));
    char h1[65], h2[65];
    pms_appointment_content_hash(&a, h1);
    pms_appointment_content_hash(&back, h2);
    assert_string_equal(h1, h2);

    json_decref(again);
    json_decref(o);
    pms_appointment_clear(&back);
    pms_appointment_clear(&a);
}

static void from_json_rejects_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[]",
        "{\"pmsAppointmentId\": 12}",
        "{\"startTime\": \"yesterday\"}",
        "{\"startTime\": 1772404200000}",
        "{\"status\": \"rescheduled\"}",
        "{\"patient\": {\"dateOfBirth\": \"1984-13-40\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = json_loads(bad[i], 0, NULL);
        assert_non_null(o);
        pms_appointment a;
        pms_error err = {0};
        if (pms_appointment_from_json(o, &a, &err) == PMS_OK)
            fail_msg("accepted %s", bad[i]);
        assert_int_not_equal(err.code, PMS_OK);
        /* Nothing is left allocated on failure. */
        assert_null(a.pms_appointment_id);
        json_decref(o);
    }
}

/* The whole record as text: a snapshot that shares nothing with the appointment. */
static char *snapshot(const pms_appointment *a)
{
    json_t *o = pms_appointment_to_json(a, true);
    assert_non_null(o);
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    assert_non_null(text);
    return text;
}

static void copy_is_deep(void **state)
{
    (void)state;
    pms_appointment a, c;
    make_full(&a);
    char *before = snapshot(&a);
    pms_error err = {0};
    assert_int_equal(pms_appointment_copy(&c, &a, &err), PMS_OK);

    char *copied = snapshot(&c);
    assert_string_equal(before, copied);
    free(copied);

    /* Every string is its own allocation... */
    char **const strings[] = {
        &c.pms_type,
        &c.pms_appointment_id,
        &c.pms_connection_id,
        &c.timezone,
        &c.appointment_type_name,
        &c.appointment_type_id,
        &c.patient.pms_patient_id,
        &c.patient.full_name,
        &c.patient.first_name,
        &c.patient.last_name,
        &c.patient.phone,
        &c.patient.email,
        &c.practitioner.pms_practitioner_id,
        &c.practitioner.full_name,
        &c.practitioner.first_name,
        &c.practitioner.last_name,
        &c.notes,
        &c.referral_id,
        &c.telehealth_url_provider,
        &c.telehealth_url_patient,
        &c.location_name,
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        assert_non_null(*strings[i]);
        (*strings[i])[0] = '#';
    }
    c.start_time += 60000;
    c.status = PMS_STATUS_CANCELLED;
    c.patient.date_of_birth.year = 1999;
    char *after = snapshot(&a);
    if (strcmp(before, after) != 0)
        fail_msg("changing the copy's fields changed the original");
    free(after);

    /* ...and so is the raw record: editing the copy's leaves the original's alone. */
    assert_non_null(c.raw_data);
    json_object_set_new(c.raw_data, "status", json_string("cancelled"));
    json_object_set_new(c.raw_data, "comment", json_string("changed in the copy"));
    after = snapshot(&a);
    if (strcmp(before, after) != 0)
        fail_msg("changing the copy's raw record changed the original's");
    free(after);

    free(before);
    pms_appointment_clear(&c);
    pms_appointment_clear(&a);
}

static void hash_of(const pms_appointment *a, char out[65])
{
    pms_appointment_content_hash(a, out);
    assert_int_equal(strlen(out), 64);
}

static void content_hash(void **state)
{
    (void)state;
    pms_appointment a, b;
    make_full(&a);
    make_full(&b);
    char ha[65], hb[65];
    hash_of(&a, ha);
    hash_of(&b, hb);
    assert_string_equal(ha, hb);

    /* Fetch time and the raw record do not count. */
    b.fetched_at += 3600000;
    json_decref(b.raw_data);
    b.raw_data = json_pack("{s:s}", "id", "something else");
    hash_of(&b, hb);
    assert_string_equal(ha, hb);

    /* Each of these is a change a run sheet shows. */
    pms_appointment c;
    assert_int_equal(pms_appointment_copy(&c, &a, NULL), PMS_OK);
    c.status = PMS_STATUS_CANCELLED;
    hash_of(&c, hb);
    assert_string_not_equal(ha, hb);
    pms_appointment_clear(&c);

    assert_int_equal(pms_appointment_copy(&c, &a, NULL), PMS_OK);
    assert_int_equal(pms_str_set(&c.patient.phone, "+61412345679"), PMS_OK);
    hash_of(&c, hb);
    assert_string_not_equal(ha, hb);
    pms_appointment_clear(&c);

    assert_int_equal(pms_appointment_copy(&c, &a, NULL), PMS_OK);
    c.start_time += 15 * 60000;
    hash_of(&c, hb);
    assert_string_not_equal(ha, hb);
    pms_appointment_clear(&c);

    assert_int_equal(pms_appointment_copy(&c, &a, NULL), PMS_OK);
    c.is_telehealth = false;
    hash_of(&c, hb);
    assert_string_not_equal(ha, hb);
    pms_appointment_clear(&c);

    pms_appointment_clear(&b);
    pms_appointment_clear(&a);
}

static void expect_invalid(const pms_appointment *a, const char *word)
{
    pms_error err = {0};
    assert_int_equal(pms_appointment_validate(a, &err), PMS_ERR_INVALID);
    assert_int_equal(err.code, PMS_ERR_INVALID);
    if (strstr(err.message, word) == NULL)
        fail_msg("reason \"%s\" does not mention %s", err.message, word);
}

static void validate(void **state)
{
    (void)state;
    pms_appointment a;
    make_minimal(&a);
    pms_error err = {0};
    assert_int_equal(pms_appointment_validate(&a, &err), PMS_OK);
    pms_appointment_clear(&a);

    make_full(&a);
    assert_int_equal(pms_appointment_validate(&a, NULL), PMS_OK);
    pms_appointment_clear(&a);

    make_minimal(&a);
    free(a.pms_appointment_id);
    a.pms_appointment_id = NULL;
    expect_invalid(&a, "id");
    a.pms_appointment_id = dup("");
    expect_invalid(&a, "id");
    pms_appointment_clear(&a);

    make_minimal(&a);
    a.start_time = PMS_INSTANT_NONE;
    expect_invalid(&a, "start");
    pms_appointment_clear(&a);

    make_minimal(&a);
    free(a.timezone);
    a.timezone = NULL;
    expect_invalid(&a, "zone");
    pms_appointment_clear(&a);

    make_minimal(&a);
    free(a.practitioner.pms_practitioner_id);
    a.practitioner.pms_practitioner_id = NULL;
    expect_invalid(&a, "practitioner");
    pms_appointment_clear(&a);

    make_minimal(&a);
    a.end_time = a.start_time - 60000;
    expect_invalid(&a, "end");
    pms_appointment_clear(&a);

    /* A zero-length appointment (end == start) is allowed. */
    make_minimal(&a);
    a.end_time = a.start_time;
    a.duration_minutes = 0;
    assert_int_equal(pms_appointment_validate(&a, NULL), PMS_OK);
    pms_appointment_clear(&a);
}

static void status_names(void **state)
{
    (void)state;
    static const char *const names[PMS_STATUS_COUNT] = {
        "booked", "confirmed", "arrived", "in_progress", "completed", "cancelled", "no_show",
    };
    for (int i = 0; i < PMS_STATUS_COUNT; i++) {
        assert_string_equal(pms_appt_status_name((pms_appt_status)i), names[i]);
        pms_appt_status parsed = PMS_STATUS_BOOKED;
        assert_int_equal(pms_appt_status_parse(names[i], &parsed), PMS_OK);
        assert_int_equal(parsed, i);
    }
    static const char *const unknown[] = {"Booked", "cancelled ", "", "no-show", "rescheduled"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        pms_appt_status parsed = PMS_STATUS_ARRIVED;
        assert_int_not_equal(pms_appt_status_parse(unknown[i], &parsed), PMS_OK);
        assert_int_equal(parsed, PMS_STATUS_ARRIVED); /* untouched */
    }
    pms_appt_status parsed;
    assert_int_not_equal(pms_appt_status_parse(NULL, &parsed), PMS_OK);
}

static void telehealth_suggestion(void **state)
{
    (void)state;
    static const char *const yes[] = {"Telehealth Consultation", "Video Follow-up", "Phone Consult",
                                      "telehealth", "Follow-up (video)"};
    static const char *const no[] = {"Standard Consultation", "Televisions", "Procedure",
                                     "Videography",           "Headphones",  ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!pms_appt_type_name_suggests_telehealth(yes[i]))
            fail_msg("\"%s\" should suggest telehealth", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (pms_appt_type_name_suggests_telehealth(no[i]))
            fail_msg("\"%s\" should not suggest telehealth", no[i]);
    assert_false(pms_appt_type_name_suggests_telehealth(NULL));
}

static int cleanup(void **state)
{
    (void)state;
    pms_crypto_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_has_every_plan_field),
        cmocka_unit_test(json_absent_optionals_are_null),
        cmocka_unit_test(json_round_trip),
        cmocka_unit_test(from_json_rejects_bad_values),
        cmocka_unit_test(copy_is_deep),
        cmocka_unit_test(content_hash),
        cmocka_unit_test(validate),
        cmocka_unit_test(status_names),
        cmocka_unit_test(telehealth_suggestion),
    };
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
