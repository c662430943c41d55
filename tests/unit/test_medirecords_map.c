/* The Medirecords mapper: local scheduleTime read in the practice's zone (DST gaps and overlaps
 * by the documented policy, with exact instants worked out from zdump), status codes, interval
 * codes in every response shape, text durations, telehealth detection, malformed records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/medirecords/medirecords.h"
#include "pmsync/crypto.h"
#include "pmsync/tz.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL)
        fail_msg("bad fixture: %s", e.text);
    return j;
}

static const char appointment_text[] =
    "{\"id\":\"6b0f1c2e-3f7a-4c55-9a51-0d2f1b7d9e10\","
    "\"practiceId\":\"1ec6ded0-24c7-47d7-93de-9f139b578ed2\","
    "\"patientId\":\"a3b4c5d6-1111-2222-3333-444455556666\","
    "\"appointmentTypeId\":\"type-video\",\"scheduleTime\":\"2026-03-02T09:30\","
    "\"appointmentStatus\":3,\"appointmentIntervalCode\":6,\"roomId\":null,"
    "\"referralId\":\"ref-77\",\"notes\":\"Review bloods\","
    "\"providerId\":\"prov-1\",\"walkIn\":false,\"firstAvailableDoctor\":false,\"urgency\":1,"
    "\"cancellationReason\":null,\"emailReminder\":true,\"reminderMethod\":1,"
    "\"reminderType\":7,\"confirmationLink\":null,"
    "\"telehealthLinkForProvider\":\"https://video.example/room/1?role=provider\","
    "\"telehealthLinkForPatient\":\"https://video.example/room/1?role=patient\","
    "\"createdBy\":\"u1\",\"createdDateTime\":\"2026-02-20T01:12:33.529+0000\","
    "\"updatedBy\":\"u2\",\"updatedDateTime\":\"2026-02-28T03:01:02.101+0000\"}";

static const char patient_text[] =
    "{\"id\":\"a3b4c5d6-1111-2222-3333-444455556666\",\"firstName\":\"Olivia\","
    "\"lastName\":\"Nguyen\",\"gender\":2,\"dob\":\"1984-07-21\","
    "\"email\":\"olivia.nguyen@example.com\",\"mobilePhone\":\"0412 345 678\","
    "\"homePhone\":\"(03) 9123 4567\"}";

static const char *const patient_secrets[] = {"Olivia", "Nguyen", "0412", "1984", "olivia"};

typedef struct fixture {
    json_t *patients;
    json_t *providers;
    pms_appt_type types[2];
    medirecords_map_context ctx;
} fixture;

static const pms_appt_type *find_type(void *ctx, const char *id)
{
    fixture *f = ctx;
    for (int i = 0; i < 2; i++)
        if (strcmp(f->types[i].id, id) == 0)
            return &f->types[i];
    return NULL;
}

static int interval(void *ctx, long code)
{
    (void)ctx;
    return code == 9 ? 30 : pms_medirecords_known_interval(code);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->patients = json_object();
    json_object_set_new(f->patients, "a3b4c5d6-1111-2222-3333-444455556666", parse(patient_text));
    f->providers = parse("{\"prov-1\":{\"id\":\"prov-1\",\"title\":\"Dr\",\"firstName\":\"Amir\","
                         "\"lastName\":\"Haddad\",\"active\":true}}");
    f->types[0] = (pms_appt_type){.id = (char *)"type-video",
                                  .name = (char *)"Video Consult",
                                  .duration_minutes = 15,
                                  .telehealth_auto_detected = true,
                                  .is_telehealth = true};
    f->types[1] = (pms_appt_type){.id = (char *)"type-long",
                                  .name = (char *)"Long Consult",
                                  .duration_minutes = 45,
                                  .telehealth_auto_detected = true};
    const pms_tz *tz;
    assert_int_equal(pms_tz_get("Australia/Melbourne", &tz, NULL), PMS_OK);
    f->ctx = (medirecords_map_context){
        .connection_id = "conn-1",
        .timezone = "Australia/Melbourne",
        .tz = tz,
        .phone_region = PMS_PHONE_AU,
        .fetched_at = 1000,
        .patients = f->patients,
        .providers = f->providers,
        .interval_minutes = interval,
        .type = find_type,
        .lookup_ctx = f,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    json_decref(f->patients);
    json_decref(f->providers);
    free(f);
    return 0;
}

static void assert_utc(pms_instant t, const char *expected)
{
    char buf[PMS_TIME_BUFLEN];
    pms_format_utc(t, buf);
    assert_string_equal(buf, expected);
}

static void maps_a_full_appointment(void **state)
{
    fixture *f = *state;
    json_t *a = parse(appointment_text);
    pms_appointment out;
    const char *id = NULL;
    pms_error err = {0};
    assert_int_equal(pms_medirecords_map_appointment(a, &f->ctx, &out, &id, &err),
                     MEDIRECORDS_MAPPED);
    assert_string_equal(id, "6b0f1c2e-3f7a-4c55-9a51-0d2f1b7d9e10");
    assert_string_equal(out.pms_type, "medirecords");
    assert_utc(out.start_time, "2026-03-01T22:30:00.000Z"); /* 09:30 AEDT (+11) */
    assert_utc(out.end_time, "2026-03-01T22:45:00.000Z");   /* code 6 = 15 minutes */
    assert_int_equal(out.duration_minutes, 15);
    assert_int_equal(out.status, PMS_STATUS_CONFIRMED);
    assert_true(out.is_telehealth);
    assert_string_equal(out.telehealth_url_provider, "https://video.example/room/1?role=provider");
    assert_string_equal(out.telehealth_url_patient, "https://video.example/room/1?role=patient");
    assert_string_equal(out.appointment_type_name, "Video Consult");
    assert_string_equal(out.notes, "Review bloods");
    assert_string_equal(out.referral_id, "ref-77");
    assert_utc(out.pms_created_at, "2026-02-20T01:12:33.529Z"); /* "+0000" without a colon */
    assert_utc(out.pms_updated_at, "2026-02-28T03:01:02.101Z");
    assert_string_equal(out.patient.full_name, "Olivia Nguyen");
    assert_string_equal(out.patient.phone, "+61412345678"); /* the mobile, normalised */
    assert_string_equal(out.patient.email, "olivia.nguyen@example.com");
    assert_true(out.patient.has_date_of_birth);
    assert_string_equal(out.practitioner.pms_practitioner_id, "prov-1");
    assert_string_equal(out.practitioner.full_name, "Dr Amir Haddad");
    assert_ptr_equal(out.raw_data, a);
    assert_int_equal(pms_appointment_validate(&out, NULL), PMS_OK);
    pms_appointment_clear(&out);
    json_decref(a);
}

static void status_codes(void **state)
{
    (void)state;
    const struct {
        long code;
        pms_appt_status status;
    } table[] = {{2, PMS_STATUS_BOOKED},      {3, PMS_STATUS_CONFIRMED}, {4, PMS_STATUS_ARRIVED},
                 {5, PMS_STATUS_IN_PROGRESS}, {6, PMS_STATUS_COMPLETED}, {7, PMS_STATUS_COMPLETED},
                 {8, PMS_STATUS_CANCELLED}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        pms_appt_status s;
        assert_int_equal(pms_medirecords_status(table[i].code, &s), PMS_OK);
        assert_int_equal(s, table[i].status);
    }
    pms_appt_status s;
    assert_int_equal(pms_medirecords_status(1, &s), PMS_ERR_PARSE);
    assert_int_equal(pms_medirecords_status(9, &s), PMS_ERR_PARSE);
}

/* Wall-clock times in daylight-saving gaps and overlaps, with the instants the documented policy
 * gives (a gap is read with the offset before the change; an overlap is the earlier instant). */
static void daylight_saving_gaps_and_overlaps(void **state)
{
    fixture *f = *state;
    const struct {
        const char *zone, *local, *utc;
    } cases[] = {
        {"Australia/Melbourne", "2026-10-04T02:30", "2026-10-03T16:30:00.000Z"}, /* gap */
        {"Australia/Melbourne", "2026-04-05T02:30", "2026-04-04T15:30:00.000Z"}, /* overlap */
        {"Australia/Melbourne", "2026-04-05T03:00", "2026-04-04T17:00:00.000Z"}, /* after */
        {"Australia/Adelaide", "2026-10-04T02:30", "2026-10-03T17:00:00.000Z"},  /* gap */
        {"Australia/Adelaide", "2026-04-05T02:30", "2026-04-04T16:00:00.000Z"},  /* overlap */
        {"Australia/Lord_Howe", "2026-10-04T02:15", "2026-10-03T15:45:00.000Z"}, /* gap, 30 min */
        {"Australia/Lord_Howe", "2026-04-05T01:45", "2026-04-04T14:45:00.000Z"}, /* overlap */
        {"Australia/Lord_Howe", "2026-04-05T02:00", "2026-04-04T15:30:00.000Z"}, /* after */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const pms_tz *tz;
        assert_int_equal(pms_tz_get(cases[i].zone, &tz, NULL), PMS_OK);
        f->ctx.tz = tz;
        f->ctx.timezone = cases[i].zone;
        json_t *a = parse(appointment_text);
        json_object_set_new(a, "scheduleTime", json_string(cases[i].local));
        pms_appointment out;
        assert_int_equal(pms_medirecords_map_appointment(a, &f->ctx, &out, NULL, NULL),
                         MEDIRECORDS_MAPPED);
        char buf[PMS_TIME_BUFLEN];
        pms_format_utc(out.start_time, buf);
        if (strcmp(buf, cases[i].utc) != 0)
            fail_msg("%s %s: got %s, want %s", cases[i].zone, cases[i].local, buf, cases[i].utc);
        assert_string_equal(out.timezone, cases[i].zone);
        pms_appointment_clear(&out);
        json_decref(a);
    }
}

static void durations_from_codes_and_types(void **state)
{
    fixture *f = *state;
    const struct {
        json_t *code;
        const char *type;
        int minutes;
    } cases[] = {
        {json_integer(2), "type-long", 5},   {json_integer(4), "type-long", 10},
        {json_integer(7), "type-long", 20},  {json_integer(9), "type-long", 30},
        {json_integer(99), "type-long", 45}, /* unknown code: the type's duration */
        {json_null(), "type-video", 15},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = parse(appointment_text);
        json_object_set_new(a, "appointmentIntervalCode", cases[i].code);
        json_object_set_new(a, "appointmentTypeId", json_string(cases[i].type));
        pms_appointment out;
        assert_int_equal(pms_medirecords_map_appointment(a, &f->ctx, &out, NULL, NULL),
                         MEDIRECORDS_MAPPED);
        assert_int_equal(out.duration_minutes, cases[i].minutes);
        assert_int_equal(out.end_time - out.start_time, (pms_instant)cases[i].minutes * 60000);
        pms_appointment_clear(&out);
        json_decref(a);
    }
    /* An unknown code and an unknown type: nothing says how long it is. */
    json_t *a = parse(appointment_text);
    json_object_set_new(a, "appointmentIntervalCode", json_integer(99));
    json_object_set_new(a, "appointmentTypeId", json_string("type-unknown"));
    pms_appointment out;
    pms_error err = {0};
    assert_int_equal(pms_medirecords_map_appointment(a, &f->ctx, &out, NULL, &err),
                     MEDIRECORDS_INVALID);
    assert_non_null(strstr(err.message, "appointmentIntervalCode"));
    json_decref(a);
}

static void telehealth_from_links_or_the_type(void **state)
{
    fixture *f = *state;
    json_t *a = parse(appointment_text);
    /* Links alone make it telehealth, even with an in-person type. */
    json_object_set_new(a, "appointmentTypeId", json_string("type-long"));
    pms_appointment out;
    assert_int_equal(pms_medirecords_map_appointment(a, &f->ctx, &out, NULL, NULL),
                     MEDIRECORDS_MAPPED);
    assert_true(out.is_telehealth);
    assert_true(out.telehealth_from_pms); /* Medirecords' own data decided */
    pms_appointment_clear(&out);
    /* No links, in-person type: not telehealth. */
    json_object_set_new(a, "telehealthLinkForProvider", json_null());
    json_object_set_new(a, "telehealthLinkForPatient", json_string(""));
    assert_int_equal(pms_medirecords_map_appointment(a, &f->ctx, &out, NULL, NULL),
                     MEDIRECORDS_MAPPED);
    assert_false(out.is_telehealth);
    assert_true(out.telehealth_from_pms); /* the type's own flag says: not telehealth */
    assert_null(out.telehealth_url_patient);
    pms_appointment_clear(&out);
    /* No links, a type Medirecords flags as telehealth. */
    json_object_set_new(a, "appointmentTypeId", json_string("type-video"));
    assert_int_equal(pms_medirecords_map_appointment(a, &f->ctx, &out, NULL, NULL),
                     MEDIRECORDS_MAPPED);
    assert_true(out.is_telehealth);
    assert_true(out.telehealth_from_pms);
    pms_appointment_clear(&out);
    /* No links and a type Medirecords did not describe: nothing of its own decided. */
    json_object_set_new(a, "appointmentTypeId", json_string("type-nobody-knows"));
    assert_int_equal(pms_medirecords_map_appointment(a, &f->ctx, &out, NULL, NULL),
                     MEDIRECORDS_MAPPED);
    assert_false(out.is_telehealth);
    assert_false(out.telehealth_from_pms);
    pms_appointment_clear(&out);
    json_decref(a);
}

static void malformed_records_name_the_field_only(void **state)
{
    fixture *f = *state;
    const struct {
        const char *key;
        json_t *value;
        const char *field;
    } cases[] = {
        {"scheduleTime", json_string("02/03/2026 9:30am"), "scheduleTime"},
        {"scheduleTime", json_string("2026-03-02T09:30+11:00"), "scheduleTime"},
        {"scheduleTime", json_integer(1700000000), "scheduleTime"},
        {"appointmentStatus", json_string("Confirmed"), "appointmentStatus"},
        {"appointmentStatus", json_integer(9), "appointmentStatus"},
        {"appointmentIntervalCode", json_string("6"), "appointmentIntervalCode"},
        {"providerId", json_null(), "providerId"},
        {"id", json_null(), "id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = parse(appointment_text);
        json_object_set_new(a, cases[i].key, cases[i].value);
        pms_appointment out;
        pms_error err = {0};
        const char *id = NULL;
        assert_int_equal(pms_medirecords_map_appointment(a, &f->ctx, &out, &id, &err),
                         MEDIRECORDS_INVALID);
        if (strstr(err.message, cases[i].field) == NULL)
            fail_msg("case %zu: '%s' does not name %s", i, err.message, cases[i].field);
        for (size_t k = 0; k < sizeof patient_secrets / sizeof patient_secrets[0]; k++)
            assert_null(strstr(err.message, patient_secrets[k]));
        if (strcmp(cases[i].key, "id") == 0)
            assert_null(id);
        else
            assert_non_null(id); /* readable: it still counts as seen */
        json_decref(a);
    }
}

static void durations_written_as_text(void **state)
{
    (void)state;
    const struct {
        const char *text;
        int minutes;
    } cases[] = {
        {"15 mins", 15}, {"30 min", 30},     {"1 hr", 60},   {"1.5 hrs", 90},
        {"4 hrs", 240},  {"90 minutes", 90}, {"45", 45},     {"1 hour 30 minutes", 90},
        {"01:30", 90},   {"2 Hours", 120},   {"1h30m", 90},  {"", -1},
        {"soon", -1},    {"15 parsecs", -1}, {"-5 min", -1}, {"48 hrs", -1},
        {"24:00", 1440}, {"24:01", -1},      {"48:00", -1},  {"2052271274:00", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (pms_medirecords_duration_text(cases[i].text) != cases[i].minutes)
            fail_msg("'%s' gave %d, want %d", cases[i].text,
                     pms_medirecords_duration_text(cases[i].text), cases[i].minutes);
}

static void interval_code_tables_in_every_shape(void **state)
{
    (void)state;
    const char *shapes[] = {
        "[{\"code\":2,\"value\":\"5 min\"},{\"code\":4,\"value\":\"10 min\"},"
        "{\"code\":9,\"value\":\"30 min\"}]",
        "{\"data\":[{\"code\":2,\"value\":\"5 min\"},{\"code\":4,\"value\":\"10 min\"},"
        "{\"code\":9,\"value\":\"30 min\"}]}",
        "[{\"id\":2,\"minutes\":5,\"description\":\"5 minutes\"},{\"id\":4,\"minutes\":10},"
        "{\"id\":\"9\",\"description\":\"30 minutes\"}]",
        "{\"data\":[{\"code\":\"2\",\"display\":\"5 mins\"},{\"code\":4,\"value\":\"10 mins\"},"
        "{\"code\":9,\"value\":\"0.5 hr\"}],\"last\":true,\"page\":0}",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        json_t *response = parse(shapes[i]);
        json_t *table = pms_medirecords_interval_table(response);
        assert_int_equal(json_object_size(table), 3);
        assert_int_equal(json_integer_value(json_object_get(table, "2")), 5);
        assert_int_equal(json_integer_value(json_object_get(table, "4")), 10);
        assert_int_equal(json_integer_value(json_object_get(table, "9")), 30);
        json_decref(table);
        json_decref(response);
    }
    json_t *junk = parse("{\"unexpected\":true}");
    json_t *table = pms_medirecords_interval_table(junk);
    assert_int_equal(json_object_size(table), 0);
    json_decref(table);
    json_decref(junk);
    assert_int_equal(pms_medirecords_known_interval(6), 15);
    assert_int_equal(pms_medirecords_known_interval(1), -1);
}

static void types_patients_and_providers(void **state)
{
    (void)state;
    json_t *t = parse("{\"id\":\"t1\",\"name\":\"Telehealth Review\",\"duration\":\"1.5 hrs\","
                      "\"colour\":\"#00ff00\",\"order\":1,\"activeStatus\":1,\"community\":false,"
                      "\"telehealth\":true,\"description\":\"\"}");
    pms_appt_type type;
    assert_int_equal(pms_medirecords_map_appt_type(t, &type, NULL), PMS_OK);
    assert_string_equal(type.name, "Telehealth Review");
    assert_int_equal(type.duration_minutes, 90);
    assert_true(type.telehealth_auto_detected);
    assert_true(type.is_telehealth);
    pms_appt_type_clear(&type);
    json_decref(t);

    json_t *p = parse(patient_text);
    json_object_set_new(p, "mobilePhone", json_null());
    pms_patient patient;
    assert_int_equal(pms_medirecords_map_patient(p, PMS_PHONE_AU, &patient, NULL), PMS_OK);
    assert_string_equal(patient.phone, "+61391234567"); /* the home phone when no mobile */
    assert_int_equal(patient.date_of_birth.day, 21);
    pms_patient_clear(&patient);
    json_decref(p);

    json_t *prov = parse("{\"id\":\"p9\",\"firstName\":\"Grace\",\"lastName\":\"Ho\"}");
    pms_practitioner pr;
    assert_int_equal(pms_medirecords_map_provider(prov, &pr, NULL), PMS_OK);
    assert_string_equal(pr.full_name, "Grace Ho");
    assert_true(pr.active);
    pms_practitioner_clear(&pr);
    json_decref(prov);

    json_t *page = parse("{\"data\":[1,2],\"last\":true}");
    assert_int_equal(json_array_size(pms_medirecords_items(page)), 2);
    json_decref(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(maps_a_full_appointment, setup, teardown),
        cmocka_unit_test(status_codes),
        cmocka_unit_test_setup_teardown(daylight_saving_gaps_and_overlaps, setup, teardown),
        cmocka_unit_test_setup_teardown(durations_from_codes_and_types, setup, teardown),
        cmocka_unit_test_setup_teardown(telehealth_from_links_or_the_type, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_records_name_the_field_only, setup, teardown),
        cmocka_unit_test(durations_written_as_text),
        cmocka_unit_test(interval_code_tables_in_every_shape),
        cmocka_unit_test(types_patients_and_providers),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pms_tz_cleanup();
    pms_crypto_cleanup();
    return failed;
}
