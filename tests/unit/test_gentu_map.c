/* Gentu records to the unified model (notes §2.4-2.7): appointments with included patients and
 * practitioners, patients, practitioners, appointment types and error envelopes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/gentu/gentu.h"

#define APPT_ID      "128eb8c9-61c0-4b1b-9519-6bbb86bfe7aa"
#define PATIENT_ID   "d011246e-bc0b-4913-9742-5ad9dcb5ded2"
#define PROVIDER_ID  "b3c7c80d-7148-4ff5-90f1-438a9be8d279"
#define SWEPT_ID     "9d0e4a8b-2c51-4a3e-8f77-0b1c2d3e4f50"
#define TELE_TYPE    "ac433a35-b2c5-4b8f-ab23-fe95714f6593"
#define STD_TYPE     "5b6c7d8e-0000-4000-8000-000000000001"
#define UNKNOWN_TYPE "5b6c7d8e-0000-4000-8000-00000000ffff"

/* An appointment with exactly the key set of notes §2.4. */
static const char appointment_text[] =
    "{\"id\": \"" APPT_ID "\","
    " \"startAt\": \"2026-03-02T09:30:00.000+11:00\","
    " \"endAt\": \"2026-03-02T10:00:00.000+11:00\","
    " \"status\": \"confirmed\","
    " \"minutesDuration\": 30,"
    " \"comment\": \"Patient to arrive 15 minutes prior.\","
    " \"description\": \"Telehealth review\","
    " \"participant\": ["
    "   {\"referenceType\": \"patient\", \"referenceId\": \"" PATIENT_ID "\"},"
    "   {\"referenceType\": \"provider\", \"referenceId\": \"" PROVIDER_ID "\"},"
    "   {\"referenceType\": \"location\", \"referenceId\": "
    "\"fb5f0949-875e-4a35-9719-5727f3179651\","
    "    \"arrivedAt\": \"2026-03-02T09:25:00.000+11:00\"}],"
    " \"appointmentType\": {\"reference\": \"" TELE_TYPE "\"},"
    " \"extension\": []}";

/* A Patient (notes §2.6): home landline ranked first, a mobile second. */
static const char patient_text[] =
    "{\"id\": \"" PATIENT_ID "\","
    " \"address\": null,"
    " \"birthDate\": \"1984-07-21\","
    " \"contact\": ["
    "   {\"system\": \"phone\", \"use\": \"home\", \"rank\": 1, \"value\": \"(03) 9123 4567\"},"
    "   {\"system\": \"email\", \"use\": \"home\", \"rank\": null,"
    "    \"value\": \"olivia.nguyen@example.com\"},"
    "   {\"system\": \"phone\", \"use\": \"mobile\", \"rank\": 2, \"value\": \"0412 345 678\"}],"
    " \"gender\": \"female\","
    " \"identifier\": [],"
    " \"name\": {\"family\": \"Nguyen\", \"given\": \"Olivia Mai\", \"prefix\": \"Ms\"},"
    " \"deceased\": null,"
    " \"emailEnabled\": true, \"smsEnabled\": true,"
    " \"extension\": []}";

static const char practitioner_text[] =
    "{\"id\": \"" PROVIDER_ID "\","
    " \"name\": {\"family\": \"Citizen\", \"given\": \"Jane Mary\", \"prefix\": \"Dr\"},"
    " \"contact\": [], \"active\": true, \"shownInAppointmentBook\": true}";

/* Patient data that must never reach an error message. */
static const char *const patient_secrets[] = {
    "Olivia", "Nguyen", "0412", "412345678", "9123", "olivia.nguyen", "1984-07-21", "1984",
};

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    if (v == NULL)
        fail_msg("bad test JSON: %s at %d", jerr.text, jerr.position);
    return v;
}

static pms_instant instant(const char *text)
{
    pms_instant t = PMS_INSTANT_NONE;
    assert_int_equal(pms_iso8601_parse(text, &t, NULL, NULL), PMS_OK);
    return t;
}

static void assert_utc(pms_instant t, const char *expected)
{
    char buf[PMS_TIME_BUFLEN];
    pms_format_utc(t, buf);
    assert_string_equal(buf, expected);
}

/* ---- appointment type lookups --------------------------------------------------------- */

typedef struct type_row {
    const char *id, *name;
    int duration;
    bool telehealth;
} type_row;

static const type_row type_table[] = {
    {TELE_TYPE, "Telehealth Consultation", 20, true},
    {STD_TYPE, "Standard Consultation", 15, false},
};

static const type_row *find_type(const char *id)
{
    for (size_t i = 0; i < sizeof type_table / sizeof type_table[0]; i++)
        if (strcmp(type_table[i].id, id) == 0)
            return &type_table[i];
    return NULL;
}

static const char *lookup_name(void *ctx, const char *type_id)
{
    (void)ctx;
    const type_row *t = find_type(type_id);
    return t ? t->name : NULL;
}

static int lookup_duration(void *ctx, const char *type_id)
{
    (void)ctx;
    const type_row *t = find_type(type_id);
    return t ? t->duration : -1;
}

static bool lookup_telehealth(void *ctx, const char *type_id)
{
    (void)ctx;
    const type_row *t = find_type(type_id);
    return t && t->telehealth;
}

/* ---- fixture -------------------------------------------------------------------------- */

typedef struct fixture {
    json_t *appt;          /* modified by each test */
    json_t *patients;      /* id -> Patient */
    json_t *practitioners; /* id -> User */
    gentu_map_context ctx;
    pms_appointment out;
    pms_error err;
    const char *id;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->appt = parse(appointment_text);
    f->patients = json_object();
    json_object_set_new(f->patients, PATIENT_ID, parse(patient_text));
    f->practitioners = json_object();
    json_object_set_new(f->practitioners, PROVIDER_ID, parse(practitioner_text));
    f->ctx = (gentu_map_context){
        .connection_id = "conn-gentu-1",
        .timezone = "Australia/Melbourne",
        .phone_region = PMS_PHONE_AU,
        .fetched_at = instant("2026-03-01T08:00:00.000+11:00"),
        .swept_practitioner_id = SWEPT_ID,
        .patients = f->patients,
        .practitioners = f->practitioners,
        .type_name = lookup_name,
        .type_duration = lookup_duration,
        .type_is_telehealth = lookup_telehealth,
        .lookup_ctx = NULL,
    };
    pms_appointment_init(&f->out);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pms_appointment_clear(&f->out);
    json_decref(f->appt);
    json_decref(f->patients);
    json_decref(f->practitioners);
    free(f);
    return 0;
}

static gentu_map_outcome map(fixture *f)
{
    pms_appointment_clear(&f->out);
    pms_error_clear(&f->err);
    f->id = NULL;
    return pms_gentu_map_appointment(f->appt, &f->ctx, &f->out, &f->id, &f->err);
}

static void expect_mapped(fixture *f)
{
    gentu_map_outcome got = map(f);
    if (got != GENTU_MAPPED)
        fail_msg("not mapped (%d): %s", (int)got, f->err.message);
}

static void assert_no_patient_data(const char *text)
{
    for (size_t i = 0; i < sizeof patient_secrets / sizeof patient_secrets[0]; i++)
        if (strstr(text, patient_secrets[i]) != NULL)
            fail_msg("\"%s\" contains patient data (%s)", text, patient_secrets[i]);
}

/* Maps and expects GENTU_INVALID with a reason naming `field`, free of patient data. */
static void expect_invalid(fixture *f, const char *field)
{
    gentu_map_outcome got = map(f);
    if (got != GENTU_INVALID)
        fail_msg("expected invalid (%s), got %d", field, (int)got);
    assert_int_not_equal(f->err.code, PMS_OK);
    if (strstr(f->err.message, field) == NULL)
        fail_msg("reason \"%s\" does not name %s", f->err.message, field);
    assert_no_patient_data(f->err.message);
    assert_no_patient_data(f->err.detail);
    assert_null(f->out.pms_appointment_id); /* nothing half-filled */
}

static void set(fixture *f, const char *key, json_t *value)
{
    assert_int_equal(json_object_set_new(f->appt, key, value), 0);
}

static void set_participants(fixture *f, const char *text)
{
    set(f, "participant", parse(text));
}

/* ---- appointments --------------------------------------------------------------------- */

static void maps_a_full_appointment(void **state)
{
    fixture *f = *state;
    expect_mapped(f);
    const pms_appointment *a = &f->out;
    assert_string_equal(f->id, APPT_ID);
    assert_string_equal(a->pms_type, "gentu");
    assert_string_equal(a->pms_appointment_id, APPT_ID);
    assert_string_equal(a->pms_connection_id, "conn-gentu-1");
    assert_string_equal(a->timezone, "Australia/Melbourne");
    /* +11:00 (daylight time in Melbourne) to UTC */
    assert_utc(a->start_time, "2026-03-01T22:30:00.000Z");
    assert_utc(a->end_time, "2026-03-01T23:00:00.000Z");
    assert_int_equal(a->duration_minutes, 30);
    assert_int_equal(a->status, PMS_STATUS_CONFIRMED);
    assert_string_equal(a->appointment_type_id, TELE_TYPE);
    assert_string_equal(a->appointment_type_name, "Telehealth Consultation");
    assert_true(a->is_telehealth);
    assert_string_equal(a->notes, "Patient to arrive 15 minutes prior.");
    assert_true(a->fetched_at == f->ctx.fetched_at);
    assert_true(json_equal(a->raw_data, f->appt));

    assert_string_equal(a->patient.pms_patient_id, PATIENT_ID);
    assert_string_equal(a->patient.full_name, "Olivia Mai Nguyen");
    assert_string_equal(a->patient.first_name, "Olivia");
    assert_string_equal(a->patient.last_name, "Nguyen");
    assert_string_equal(a->patient.phone, "+61412345678"); /* the mobile, normalised */
    assert_string_equal(a->patient.email, "olivia.nguyen@example.com");
    assert_true(a->patient.has_date_of_birth);
    assert_int_equal(pms_date_compare(a->patient.date_of_birth, (pms_date){1984, 7, 21}), 0);

    assert_string_equal(a->practitioner.pms_practitioner_id, PROVIDER_ID);
    assert_string_equal(a->practitioner.full_name, "Dr Jane Mary Citizen");
    assert_string_equal(a->practitioner.first_name, "Jane"); /* not the middle name too */
    assert_string_equal(a->practitioner.last_name, "Citizen");

    assert_int_equal(pms_appointment_validate(a, NULL), PMS_OK);
}

static void standard_time_offset(void **state)
{
    fixture *f = *state;
    /* June: Melbourne is on +10:00. */
    set(f, "startAt", json_string("2026-06-15T14:00:00.000+10:00"));
    set(f, "endAt", json_string("2026-06-15T14:15:00.000+10:00"));
    set(f, "minutesDuration", json_integer(15));
    expect_mapped(f);
    assert_utc(f->out.start_time, "2026-06-15T04:00:00.000Z");
    assert_utc(f->out.end_time, "2026-06-15T04:15:00.000Z");
    assert_int_equal(f->out.duration_minutes, 15);
}

static void end_from_duration(void **state)
{
    fixture *f = *state;
    set(f, "endAt", json_null());
    set(f, "minutesDuration", json_integer(45));
    expect_mapped(f);
    assert_utc(f->out.start_time, "2026-03-01T22:30:00.000Z");
    assert_utc(f->out.end_time, "2026-03-01T23:15:00.000Z");
    assert_int_equal(f->out.duration_minutes, 45);
}

static void duration_from_end(void **state)
{
    fixture *f = *state;
    set(f, "minutesDuration", json_null());
    set(f, "endAt", json_string("2026-03-02T10:10:00.000+11:00"));
    expect_mapped(f);
    assert_int_equal(f->out.duration_minutes, 40);
    assert_utc(f->out.end_time, "2026-03-01T23:10:00.000Z");
}

static void duration_from_type_default(void **state)
{
    fixture *f = *state;
    set(f, "minutesDuration", json_null());
    set(f, "endAt", json_null());
    expect_mapped(f);
    assert_int_equal(f->out.duration_minutes, 20); /* the telehealth type's default */
    assert_utc(f->out.end_time, "2026-03-01T22:50:00.000Z");

    set(f, "appointmentType", parse("{\"reference\": \"" STD_TYPE "\"}"));
    expect_mapped(f);
    assert_int_equal(f->out.duration_minutes, 15);
    assert_utc(f->out.end_time, "2026-03-01T22:45:00.000Z");
    assert_int_equal(pms_appointment_validate(&f->out, NULL), PMS_OK);
}

static void status_table(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *gentu;
        pms_appt_status unified;
    } table[] = {
        {"none", PMS_STATUS_BOOKED},
        {"confirmed", PMS_STATUS_CONFIRMED},
        {"in_waiting_room", PMS_STATUS_ARRIVED},
        {"with_doctor", PMS_STATUS_IN_PROGRESS},
        {"completed", PMS_STATUS_COMPLETED},
        {"invoiced", PMS_STATUS_COMPLETED},
        {"cancelled", PMS_STATUS_CANCELLED},
        {"did_not_arrive", PMS_STATUS_NO_SHOW},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        set(f, "status", json_string(table[i].gentu));
        expect_mapped(f);
        if (f->out.status != table[i].unified)
            fail_msg("%s mapped to %s", table[i].gentu, pms_appt_status_name(f->out.status));
        pms_appt_status direct;
        assert_int_equal(pms_gentu_status(table[i].gentu, &direct), PMS_OK);
        assert_int_equal(direct, table[i].unified);
    }
    set(f, "status", json_null());
    expect_mapped(f);
    assert_int_equal(f->out.status, PMS_STATUS_BOOKED);
}

/* The status field alone decides (null -> booked); a cancelled-at extension does not. */
static void cancelled_at_with_null_status(void **state)
{
    fixture *f = *state;
    set(f, "status", json_null());
    set(f, "extension",
        parse("[{\"system\": \"cancelled-at\","
              "  \"valueDateTime\": \"2026-03-01T17:00:00.000+11:00\"}]"));
    expect_mapped(f);
    assert_int_equal(f->out.status, PMS_STATUS_BOOKED);
    set(f, "status", json_string("cancelled"));
    expect_mapped(f);
    assert_int_equal(f->out.status, PMS_STATUS_CANCELLED);
}

static void unknown_status_is_invalid_without_patient_data(void **state)
{
    fixture *f = *state;
    set(f, "status", json_string("rescheduled"));
    expect_invalid(f, "status");
    assert_string_equal(f->id, APPT_ID); /* the id is known, for the invalid-record report */
    /* The reason names the field, not its value. */
    assert_null(strstr(f->err.message, "rescheduled"));
    pms_appt_status s;
    assert_int_equal(pms_gentu_status("rescheduled", &s), PMS_ERR_PARSE);
    assert_int_equal(pms_gentu_status("Confirmed", &s), PMS_ERR_PARSE);
}

static void mistyped_fields_are_invalid(void **state)
{
    fixture *f = *state;
    set(f, "startAt", json_integer(1772404200000));
    expect_invalid(f, "startAt");
    json_decref(f->appt);
    f->appt = parse(appointment_text);

    set(f, "startAt", json_string("next Tuesday"));
    expect_invalid(f, "startAt");
    json_decref(f->appt);
    f->appt = parse(appointment_text);

    set(f, "minutesDuration", json_string("30"));
    expect_invalid(f, "minutesDuration");
    json_decref(f->appt);
    f->appt = parse(appointment_text);

    set(f, "participant",
        parse("{\"referenceType\": \"patient\", \"referenceId\": \"" PATIENT_ID "\"}"));
    expect_invalid(f, "participant");
    json_decref(f->appt);
    f->appt = parse(appointment_text);

    set(f, "endAt", json_string("2026-03-02T09:00:00.000+11:00"));
    expect_invalid(f, "endAt");
    json_decref(f->appt);
    f->appt = parse(appointment_text);

    assert_int_equal(json_object_del(f->appt, "id"), 0);
    expect_invalid(f, "id");
    assert_null(f->id);
    set(f, "id", json_integer(42));
    expect_invalid(f, "id");
    assert_null(f->id);
}

static void no_patient_participant_is_skipped(void **state)
{
    fixture *f = *state;
    set_participants(f, "[{\"referenceType\": \"provider\", \"referenceId\": \"" PROVIDER_ID "\"},"
                        " {\"referenceType\": \"location\", \"referenceId\": \"room-1\"}]");
    gentu_map_outcome got = map(f);
    assert_int_equal(got, GENTU_SKIP);
    assert_string_equal(f->id, APPT_ID);
    assert_true(f->err.message[0] != '\0');
    assert_null(f->out.pms_appointment_id);
}

static void patient_not_included_keeps_its_id(void **state)
{
    fixture *f = *state;
    f->ctx.patients = NULL;
    expect_mapped(f);
    assert_string_equal(f->out.patient.pms_patient_id, PATIENT_ID);
    assert_null(f->out.patient.full_name);
    assert_null(f->out.patient.phone);
    assert_null(f->out.patient.email);
    assert_false(f->out.patient.has_date_of_birth);

    json_t *others = json_object(); /* included, but not this one */
    f->ctx.patients = others;
    expect_mapped(f);
    assert_string_equal(f->out.patient.pms_patient_id, PATIENT_ID);
    assert_null(f->out.patient.full_name);
    json_decref(others);
}

static void practitioner_falls_back_to_swept(void **state)
{
    fixture *f = *state;
    set_participants(f, "[{\"referenceType\": \"patient\", \"referenceId\": \"" PATIENT_ID "\"}]");
    expect_mapped(f);
    assert_string_equal(f->out.practitioner.pms_practitioner_id, SWEPT_ID);
    assert_int_equal(pms_appointment_validate(&f->out, NULL), PMS_OK);

    /* A provider that is not included keeps its own id. */
    f->ctx.practitioners = NULL;
    json_decref(f->appt);
    f->appt = parse(appointment_text);
    expect_mapped(f);
    assert_string_equal(f->out.practitioner.pms_practitioner_id, PROVIDER_ID);
    assert_null(f->out.practitioner.full_name);

    /* Neither a provider nor a swept practitioner: nobody to put it under. */
    f->ctx.swept_practitioner_id = NULL;
    set_participants(f, "[{\"referenceType\": \"patient\", \"referenceId\": \"" PATIENT_ID "\"}]");
    expect_invalid(f, "provider");
}

static void telehealth_only_for_configured_types(void **state)
{
    fixture *f = *state;
    expect_mapped(f);
    assert_true(f->out.is_telehealth);
    assert_false(f->out.telehealth_from_pms); /* the practice's types decided */

    /* The description says "Telehealth review", but only the practice's choice of types
     * counts. */
    set(f, "appointmentType", parse("{\"reference\": \"" STD_TYPE "\"}"));
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
    assert_false(f->out.telehealth_from_pms);
    assert_string_equal(f->out.appointment_type_name, "Standard Consultation");

    set(f, "appointmentType", json_null());
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
    assert_null(f->out.appointment_type_id);

    /* A type the catalogue does not know: its id is kept, the description names it. */
    set(f, "appointmentType", parse("{\"reference\": \"" UNKNOWN_TYPE "\"}"));
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
    assert_string_equal(f->out.appointment_type_id, UNKNOWN_TYPE);
    assert_string_equal(f->out.appointment_type_name, "Telehealth review");

    f->ctx.type_is_telehealth = NULL;
    set(f, "appointmentType", parse("{\"reference\": \"" TELE_TYPE "\"}"));
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
}

static void patient_phone_and_names(void **state)
{
    fixture *f = *state;
    json_t *patient = json_object_get(f->patients, PATIENT_ID);

    /* Only a home landline: that one, in E.164. */
    json_object_set_new(patient, "contact",
                        parse("[{\"system\": \"phone\", \"use\": \"home\", \"rank\": 1,"
                              "  \"value\": \"(03) 9123 4567\"}]"));
    expect_mapped(f);
    assert_string_equal(f->out.patient.phone, "+61391234567");
    assert_null(f->out.patient.email);

    /* Given names as an array; the firstname extension wins for firstName. */
    json_object_set_new(patient, "name",
                        parse("{\"family\": \"Nguyen\", \"given\": [\"Olivia\", \"Mai\"],"
                              " \"prefix\": null}"));
    expect_mapped(f);
    assert_string_equal(f->out.patient.full_name, "Olivia Mai Nguyen");
    assert_string_equal(f->out.patient.first_name, "Olivia");
    assert_string_equal(f->out.patient.last_name, "Nguyen");

    json_object_set_new(patient, "extension",
                        parse("[{\"system\": \"middlename\", \"valueString\": \"Mai\"},"
                              " {\"system\": \"firstname\", \"valueString\": \"Liv\"}]"));
    expect_mapped(f);
    assert_string_equal(f->out.patient.first_name, "Liv");
    assert_string_equal(f->out.patient.last_name, "Nguyen");
}

/* ---- patients, practitioners, types --------------------------------------------------- */

static void map_patient(void **state)
{
    (void)state;
    json_t *p = parse(patient_text);
    pms_patient out;
    pms_error err = {0};
    assert_int_equal(pms_gentu_map_patient(p, PMS_PHONE_AU, &out, &err), PMS_OK);
    assert_string_equal(out.pms_patient_id, PATIENT_ID);
    assert_string_equal(out.full_name, "Olivia Mai Nguyen");
    assert_string_equal(out.first_name, "Olivia");
    assert_string_equal(out.last_name, "Nguyen");
    assert_string_equal(out.phone, "+61412345678");
    assert_string_equal(out.email, "olivia.nguyen@example.com");
    assert_true(out.has_date_of_birth);
    pms_patient_clear(&out);

    /* Two mobiles: the better ranked one. */
    json_object_set_new(p, "contact",
                        parse("[{\"system\": \"phone\", \"use\": \"mobile\", \"rank\": 3,"
                              "  \"value\": \"0400 000 001\"},"
                              " {\"system\": \"phone\", \"use\": \"mobile\", \"rank\": 1,"
                              "  \"value\": \"0412 345 678\"}]"));
    assert_int_equal(pms_gentu_map_patient(p, PMS_PHONE_AU, &out, &err), PMS_OK);
    assert_string_equal(out.phone, "+61412345678");
    pms_patient_clear(&out);

    json_object_del(p, "id");
    assert_int_equal(pms_gentu_map_patient(p, PMS_PHONE_AU, &out, &err), PMS_ERR_PARSE);
    assert_no_patient_data(err.message);
    json_decref(p);
}

static void map_practitioner(void **state)
{
    (void)state;
    json_t *u = parse(practitioner_text);
    pms_practitioner out;
    pms_error err = {0};
    assert_int_equal(pms_gentu_map_practitioner(u, &out, &err), PMS_OK);
    assert_string_equal(out.id, PROVIDER_ID);
    assert_string_equal(out.prefix, "Dr");
    assert_string_equal(out.given, "Jane Mary");
    assert_string_equal(out.family, "Citizen");
    assert_string_equal(out.full_name, "Dr Jane Mary Citizen");
    assert_true(out.active);
    assert_true(out.bookable);
    pms_practitioner_clear(&out);

    /* Explicit false flags are kept. */
    json_object_set_new(u, "active", json_false());
    json_object_set_new(u, "shownInAppointmentBook", json_false());
    assert_int_equal(pms_gentu_map_practitioner(u, &out, &err), PMS_OK);
    assert_false(out.active);
    assert_false(out.bookable);
    pms_practitioner_clear(&out);
    json_decref(u);

    /* A single User (GET .../practitioners/{id}) has neither flag: both count as true. */
    u = parse("{\"id\": \"p-2\", \"address\": [], \"contact\": [], \"identifier\": [],"
              " \"name\": {\"family\": \"Smith\", \"given\": [\"John\", \"Paul\"]}}");
    assert_int_equal(pms_gentu_map_practitioner(u, &out, &err), PMS_OK);
    assert_true(out.active);
    assert_true(out.bookable);
    assert_string_equal(out.full_name, "John Paul Smith");
    pms_practitioner_clear(&out);
    json_decref(u);

    u = parse("{\"name\": {\"family\": \"Smith\"}}");
    assert_int_equal(pms_gentu_map_practitioner(u, &out, &err), PMS_ERR_PARSE);
    json_decref(u);
}

static void map_appt_type(void **state)
{
    (void)state;
    json_t *t = parse("{\"id\": \"" TELE_TYPE "\", \"text\": \"Telehealth Consultation\","
                      " \"duration\": 20, \"colour\": \"#00FF00\", \"onlineBookable\": true}");
    pms_appt_type out;
    pms_error err = {0};
    assert_int_equal(pms_gentu_map_appt_type(t, &out, &err), PMS_OK);
    assert_string_equal(out.id, TELE_TYPE);
    assert_string_equal(out.name, "Telehealth Consultation");
    assert_int_equal(out.duration_minutes, 20);
    assert_string_equal(out.colour, "#00FF00");
    pms_appt_type_clear(&out);
    json_decref(t);

    t = parse("{\"id\": \"t-2\", \"text\": \"Procedure\", \"duration\": null, \"colour\": null,"
              " \"onlineBookable\": false}");
    assert_int_equal(pms_gentu_map_appt_type(t, &out, &err), PMS_OK);
    assert_string_equal(out.name, "Procedure");
    assert_int_equal(out.duration_minutes, 0);
    assert_null(out.colour);
    pms_appt_type_clear(&out);
    json_decref(t);

    t = parse("{\"id\": \"t-3\", \"text\": \"Long\", \"duration\": 60.0}");
    assert_int_equal(pms_gentu_map_appt_type(t, &out, &err), PMS_OK);
    assert_int_equal(out.duration_minutes, 60);
    pms_appt_type_clear(&out);
    json_decref(t);

    t = parse("{\"text\": \"No id\"}");
    assert_int_equal(pms_gentu_map_appt_type(t, &out, &err), PMS_ERR_PARSE);
    json_decref(t);
}

/* ---- error envelopes ------------------------------------------------------------------ */

static void describe(long status, const char *body, pms_error *err)
{
    pms_http_response resp = {
        .status = status,
        .body = (char *)body,
        .body_len = strlen(body),
    };
    pms_error_clear(err);
    pms_gentu_describe_error(&resp, err);
    assert_true(err->message[0] != '\0');
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static void describe_error_envelopes(void **state)
{
    (void)state;
    pms_error err;

    /* A valid token for an app that is not provisioned: HTTP 500 with an Apigee fault. */
    describe(500,
             "{\"fault\":{\"faultstring\":\"Unresolved variable : app.partnerId\","
             "\"detail\":{\"errorcode\":\"entities.UnresolvedVariable\"}}}",
             &err);
    assert_contains(err.message, "500");
    assert_contains(err.message, "Unresolved variable");
    assert_contains(err.message, "not provisioned");
    assert_contains(err.detail, "entities.UnresolvedVariable");

    describe(400,
             "{\"message\":\"Validation error\",\"details\":[{\"validation\":\"regex\","
             "\"code\":\"invalid_string\",\"message\":\"Invalid datetime\","
             "\"path\":[\"query\",\"fromDate\"]}]}",
             &err);
    assert_contains(err.message, "400");
    assert_contains(err.message, "Invalid datetime");
    assert_contains(err.message, "query.fromDate");

    describe(409,
             "{\"message\":\"Can only change the status of an appointment with status 'none', "
             "'confirmed' or 'in waiting room'\"}",
             &err);
    assert_contains(err.message, "409");
    assert_contains(err.message, "Can only change the status");

    describe(502, "", &err);
    assert_contains(err.message, "502");

    describe(502, "<html><body>Bad Gateway from upstream</body></html>", &err);
    assert_contains(err.message, "502");
    assert_null(strstr(err.message, "<html>"));

    /* 401/403 without an envelope still say what to do. */
    describe(403, "", &err);
    assert_contains(err.message, "pair");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(maps_a_full_appointment),
        T(standard_time_offset),
        T(end_from_duration),
        T(duration_from_end),
        T(duration_from_type_default),
        T(status_table),
        T(cancelled_at_with_null_status),
        T(unknown_status_is_invalid_without_patient_data),
        T(mistyped_fields_are_invalid),
        T(no_patient_participant_is_skipped),
        T(patient_not_included_keeps_its_id),
        T(practitioner_falls_back_to_swept),
        T(telehealth_only_for_configured_types),
        T(patient_phone_and_names),
        cmocka_unit_test(map_patient),
        cmocka_unit_test(map_practitioner),
        cmocka_unit_test(map_appt_type),
        cmocka_unit_test(describe_error_envelopes),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
