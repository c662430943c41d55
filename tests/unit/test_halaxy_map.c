/* Halaxy resources to the unified model (notes §4.7): appointments with their PractitionerRole,
 * Practitioner, Patient and HealthcareService, references, statuses, telehealth, error bodies.
 *
 * Fixtures are written with ' for " (see q()) to stay readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/halaxy/halaxy.h"

#define APPT_ID      "412345678"
#define PATIENT_ID   "150899633"
#define PRACT_ID     "1044871"
#define ROLE_PR      "PR-3331559"
#define ROLE_EP      "EP-3331560"
#define SERVICE_TELE "557057"
#define SERVICE_F2F  "557058"
#define HALAXY       "https://au-api.halaxy.com/main/"

/* ---- fixtures (notes §4.7) --------------------------------------------------------------- */

/* An appointment in the shape of notes §4.7; STATUS is replaced per test. */
static const char appointment_text[] =
    "{'resourceType': 'Appointment', 'id': '" APPT_ID "',"
    " 'meta': {'versionId': '3', 'lastUpdated': '2026-03-01T22:14:05Z'},"
    " 'description': '3/8',"
    " 'start': '2026-03-02T09:00:00+11:00', 'end': '2026-03-02T09:50:00+11:00',"
    " 'minutesDuration': 50, 'created': '2026-02-10T11:02:00+11:00',"
    " 'supportingInformation': ["
    "   {'reference': '" HALAXY "HealthcareService/" SERVICE_TELE
    "', 'type': 'HealthcareService'}],"
    " 'participant': ["
    "   {'actor': {'reference': '" HALAXY "PractitionerRole/" ROLE_PR "',"
    "              'type': 'PractitionerRole'}},"
    "   {'actor': {'reference': '" HALAXY "Patient/" PATIENT_ID "', 'type': 'Patient'},"
    "    'modifierExtension': [{"
    "      'url': 'https://terminology.halaxy.com/StructureDefinition/"
    "appointment-participant-status',"
    "      'valueCoding': {'system': 'https://au-api.halaxy.com/presets/CodeSystem/"
    "appointment-participant-status', 'code': 'booked', 'display': 'booked'}}],"
    "    'extension': [{"
    "      'url': 'https://terminology.halaxy.com/StructureDefinition/"
    "appointment-participant-invoice',"
    "      'valueReference': {'reference': '" HALAXY "Invoice/99887766', 'type': 'Invoice'}}]}]}";

/* A Patient: a nickname before the official name, a home landline before a mobile. */
static const char patient_text[] =
    "{'resourceType': 'Patient', 'id': '" PATIENT_ID "', 'active': true,"
    " 'name': [{'use': 'nickname', 'given': ['Liv']},"
    "          {'use': 'official', 'family': 'Nguyen', 'given': ['Olivia', 'Mai'],"
    "           'prefix': ['Ms']}],"
    " 'telecom': [{'system': 'phone', 'value': '(03) 9123 4567', 'use': 'home'},"
    "             {'system': 'email', 'value': 'olivia.nguyen@example.com'},"
    "             {'system': 'phone', 'value': '0412 345 678', 'use': 'mobile'}],"
    " 'gender': 'female', 'birthDate': '1984-07-21'}";

static const char practitioner_text[] =
    "{'resourceType': 'Practitioner', 'id': '" PRACT_ID "', 'active': true,"
    " 'name': [{'use': 'official', 'family': 'Citizen', 'given': ['Jane', 'Mary'],"
    "           'prefix': ['Dr']}],"
    " 'telecom': [{'system': 'email', 'value': 'reception@clinic.example', 'use': 'work'}]}";

/* A practice role and an external role of the same practitioner, in two reference forms. */
static const char role_pr_text[] =
    "{'resourceType': 'PractitionerRole', 'id': '" ROLE_PR "', 'active': true,"
    " 'practitioner': {'reference': '" HALAXY "Practitioner/" PRACT_ID "',"
    "                  'type': 'Practitioner'}}";
static const char role_ep_text[] =
    "{'resourceType': 'PractitionerRole', 'id': '" ROLE_EP "', 'active': true,"
    " 'practitioner': {'reference': 'Practitioner/" PRACT_ID "'}}";

static const char service_tele_text[] =
    "{'resourceType': 'HealthcareService', 'id': '" SERVICE_TELE "', 'name': 'Telehealth',"
    " 'active': true}";
static const char service_f2f_text[] =
    "{'resourceType': 'HealthcareService', 'id': '" SERVICE_F2F "', 'name': 'F2F',"
    " 'active': true}";

/* Patient data that must never reach an error message. */
static const char *const patient_secrets[] = {
    "Olivia", "Nguyen", "Liv", "0412", "412345678", "9123", "olivia.nguyen", "1984-07-21", "1984",
};

/* The fixture text with ' turned into ". */
static char *q(const char *text)
{
    char *copy = strdup(text);
    assert_non_null(copy);
    for (char *p = copy; *p; p++)
        if (*p == '\'')
            *p = '"';
    return copy;
}

static json_t *parse(const char *text)
{
    char *json_text = q(text);
    json_error_t jerr;
    json_t *v = json_loads(json_text, 0, &jerr);
    free(json_text);
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

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static void assert_no_patient_data(const char *text)
{
    for (size_t i = 0; i < sizeof patient_secrets / sizeof patient_secrets[0]; i++)
        if (strstr(text, patient_secrets[i]) != NULL)
            fail_msg("\"%s\" contains patient data (%s)", text, patient_secrets[i]);
}

/* ---- appointment type lookups ---------------------------------------------------------------- */

/* The practice marked the "Telehealth" service as telehealth. */
static bool lookup_telehealth(void *ctx, const char *type_id)
{
    (void)ctx;
    return strcmp(type_id, SERVICE_TELE) == 0;
}

/* The session's catalogue knows one more service than the cache holds. */
static const char *lookup_name(void *ctx, const char *type_id)
{
    (void)ctx;
    return strcmp(type_id, "557099") == 0 ? "Group session" : NULL;
}

/* ---- mapping fixture ---------------------------------------------------------------------- */

typedef struct fixture {
    json_t *appt;      /* modified by each test */
    json_t *resources; /* "Type/id" -> resource */
    halaxy_map_context ctx;
    pms_appointment out;
    pms_error err;
    const char *id;
} fixture;

static void put(json_t *resources, const char *key, const char *text)
{
    assert_int_equal(json_object_set_new(resources, key, parse(text)), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->appt = parse(appointment_text);
    f->resources = json_object();
    put(f->resources, "Patient/" PATIENT_ID, patient_text);
    put(f->resources, "Practitioner/" PRACT_ID, practitioner_text);
    put(f->resources, "PractitionerRole/" ROLE_PR, role_pr_text);
    put(f->resources, "PractitionerRole/" ROLE_EP, role_ep_text);
    put(f->resources, "HealthcareService/" SERVICE_TELE, service_tele_text);
    put(f->resources, "HealthcareService/" SERVICE_F2F, service_f2f_text);
    f->ctx = (halaxy_map_context){
        .connection_id = "conn-halaxy-1",
        .timezone = "Australia/Melbourne",
        .phone_region = PMS_PHONE_AU,
        .fetched_at = instant("2026-03-01T08:00:00+11:00"),
        .resources = f->resources,
        .type_name = lookup_name,
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
    json_decref(f->resources);
    free(f);
    return 0;
}

static halaxy_map_outcome map(fixture *f)
{
    pms_appointment_clear(&f->out);
    pms_error_clear(&f->err);
    f->id = NULL;
    return pms_halaxy_map_appointment(f->appt, &f->ctx, &f->out, &f->id, &f->err);
}

static void expect_mapped(fixture *f)
{
    halaxy_map_outcome got = map(f);
    if (got != HALAXY_MAPPED)
        fail_msg("not mapped (%d): %s", (int)got, f->err.message);
}

/* Maps and expects HALAXY_INVALID with a reason naming `field`, free of patient data. */
static void expect_invalid(fixture *f, const char *field)
{
    halaxy_map_outcome got = map(f);
    if (got != HALAXY_INVALID)
        fail_msg("expected invalid (%s), got %d", field, (int)got);
    assert_int_not_equal(f->err.code, PMS_OK);
    if (strstr(f->err.message, field) == NULL)
        fail_msg("reason \"%s\" does not name %s", f->err.message, field);
    assert_no_patient_data(f->err.message);
    assert_no_patient_data(f->err.detail);
    assert_null(f->out.pms_appointment_id); /* nothing half-filled */
}

static void reset(fixture *f)
{
    json_decref(f->appt);
    f->appt = parse(appointment_text);
}

static void set(fixture *f, const char *key, json_t *value)
{
    assert_int_equal(json_object_set_new(f->appt, key, value), 0);
}

/* The patient participant (the second one in the fixture). */
static json_t *patient_participant(fixture *f)
{
    json_t *p = json_array_get(json_object_get(f->appt, "participant"), 1);
    assert_non_null(p);
    return p;
}

static void set_status(fixture *f, const char *code)
{
    json_t *coding = json_object_get(
        json_array_get(json_object_get(patient_participant(f), "modifierExtension"), 0),
        "valueCoding");
    assert_non_null(coding);
    json_object_set_new(coding, "code", json_string(code));
}

static void set_reference(json_t *participant_or_info, const char *reference)
{
    json_t *holder = json_object_get(participant_or_info, "actor");
    if (holder == NULL)
        holder = participant_or_info;
    json_object_set_new(holder, "reference", json_string(reference));
}

static void set_role(fixture *f, const char *reference)
{
    set_reference(json_array_get(json_object_get(f->appt, "participant"), 0), reference);
}

static void set_service(fixture *f, const char *reference)
{
    set_reference(json_array_get(json_object_get(f->appt, "supportingInformation"), 0), reference);
}

/* ---- appointments -------------------------------------------------------------------------- */

static void maps_a_full_appointment(void **state)
{
    fixture *f = *state;
    expect_mapped(f);
    const pms_appointment *a = &f->out;
    assert_string_equal(f->id, APPT_ID);
    assert_string_equal(a->pms_type, "halaxy");
    assert_string_equal(a->pms_appointment_id, APPT_ID);
    assert_string_equal(a->pms_connection_id, "conn-halaxy-1");
    assert_string_equal(a->timezone, "Australia/Melbourne");
    /* +11:00 (daylight time in Melbourne) to UTC */
    assert_utc(a->start_time, "2026-03-01T22:00:00.000Z");
    assert_utc(a->end_time, "2026-03-01T22:50:00.000Z");
    assert_int_equal(a->duration_minutes, 50);
    assert_int_equal(a->status, PMS_STATUS_BOOKED);
    assert_string_equal(a->appointment_type_id, SERVICE_TELE);
    assert_string_equal(a->appointment_type_name, "Telehealth");
    assert_true(a->is_telehealth);
    assert_string_equal(a->notes, "3/8"); /* nothing better than the description */
    assert_utc(a->pms_created_at, "2026-02-10T00:02:00.000Z");
    assert_utc(a->pms_updated_at, "2026-03-01T22:14:05.000Z");
    assert_true(a->fetched_at == f->ctx.fetched_at);
    assert_true(json_equal(a->raw_data, f->appt));

    assert_string_equal(a->patient.pms_patient_id, PATIENT_ID);
    assert_string_equal(a->patient.full_name, "Olivia Mai Nguyen"); /* the official name */
    assert_string_equal(a->patient.first_name, "Olivia");
    assert_string_equal(a->patient.last_name, "Nguyen");
    assert_string_equal(a->patient.phone, "+61412345678"); /* the mobile, normalised */
    assert_string_equal(a->patient.email, "olivia.nguyen@example.com");
    assert_true(a->patient.has_date_of_birth);
    assert_int_equal(pms_date_compare(a->patient.date_of_birth, (pms_date){1984, 7, 21}), 0);

    /* The Practitioner behind the PractitionerRole, not the role. */
    assert_string_equal(a->practitioner.pms_practitioner_id, PRACT_ID);
    assert_string_equal(a->practitioner.full_name, "Dr Jane Mary Citizen");
    assert_string_equal(a->practitioner.first_name, "Jane");
    assert_string_equal(a->practitioner.last_name, "Citizen");

    assert_int_equal(pms_appointment_validate(a, NULL), PMS_OK);
}

static void notes_prefer_comment(void **state)
{
    fixture *f = *state;
    set(f, "comment", json_string("Bring referral letter"));
    expect_mapped(f);
    assert_string_equal(f->out.notes, "Bring referral letter");
    set(f, "comment", json_null());
    json_object_del(f->appt, "description");
    expect_mapped(f);
    assert_null(f->out.notes);
}

static void utc_instants_across_dst(void **state)
{
    fixture *f = *state;
    /* Melbourne leaves daylight time at 03:00 on Sunday 5 April 2026 (+11:00 -> +10:00). */
    set(f, "start", json_string("2026-04-04T09:00:00+11:00"));
    set(f, "end", json_string("2026-04-04T09:30:00+11:00"));
    set(f, "minutesDuration", json_integer(30));
    expect_mapped(f);
    assert_utc(f->out.start_time, "2026-04-03T22:00:00.000Z");

    set(f, "start", json_string("2026-04-06T09:00:00+10:00"));
    set(f, "end", json_string("2026-04-06T09:30:00+10:00"));
    expect_mapped(f);
    assert_utc(f->out.start_time, "2026-04-05T23:00:00.000Z");
    assert_utc(f->out.end_time, "2026-04-05T23:30:00.000Z");

    /* Across the change: 01:30 daylight time to 02:30 standard time is two hours. */
    set(f, "start", json_string("2026-04-05T01:30:00+11:00"));
    set(f, "end", json_string("2026-04-05T02:30:00+10:00"));
    set(f, "minutesDuration", json_null());
    expect_mapped(f);
    assert_utc(f->out.start_time, "2026-04-04T14:30:00.000Z");
    assert_utc(f->out.end_time, "2026-04-04T16:30:00.000Z");
    assert_int_equal(f->out.duration_minutes, 120);

    /* A "Z" time is UTC already. */
    set(f, "start", json_string("2026-06-15T04:00:00Z"));
    set(f, "end", json_null());
    set(f, "minutesDuration", json_integer(15));
    expect_mapped(f);
    assert_utc(f->out.start_time, "2026-06-15T04:00:00.000Z");
    assert_utc(f->out.end_time, "2026-06-15T04:15:00.000Z");
}

static void durations(void **state)
{
    fixture *f = *state;
    /* minutesDuration wins over end - start */
    set(f, "minutesDuration", json_integer(45));
    expect_mapped(f);
    assert_int_equal(f->out.duration_minutes, 45);
    assert_utc(f->out.end_time, "2026-03-01T22:50:00.000Z");

    /* end - start without minutesDuration */
    json_object_del(f->appt, "minutesDuration");
    set(f, "end", json_string("2026-03-02T10:10:00+11:00"));
    expect_mapped(f);
    assert_int_equal(f->out.duration_minutes, 70);

    /* no end: start + minutesDuration */
    set(f, "end", json_null());
    set(f, "minutesDuration", json_integer(20));
    expect_mapped(f);
    assert_utc(f->out.end_time, "2026-03-01T22:20:00.000Z");

    /* neither: an instant */
    set(f, "minutesDuration", json_null());
    expect_mapped(f);
    assert_int_equal(f->out.duration_minutes, 0);
    assert_true(f->out.end_time == f->out.start_time);
    assert_int_equal(pms_appointment_validate(&f->out, NULL), PMS_OK);
}

static void status_table(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *code;
        pms_appt_status unified;
    } table[] = {
        {"booked", PMS_STATUS_BOOKED},
        {"tentative", PMS_STATUS_BOOKED},
        {"accepted", PMS_STATUS_BOOKED},
        {"confirmed", PMS_STATUS_CONFIRMED},
        {"attended", PMS_STATUS_COMPLETED},
        {"cancelled", PMS_STATUS_CANCELLED},
        {"cancelled (no charge)", PMS_STATUS_CANCELLED},
        {"did not attend", PMS_STATUS_NO_SHOW},
        {"Did Not Attend", PMS_STATUS_NO_SHOW},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        set_status(f, table[i].code);
        expect_mapped(f);
        if (f->out.status != table[i].unified)
            fail_msg("%s mapped to %s", table[i].code, pms_appt_status_name(f->out.status));
        pms_appt_status direct;
        assert_int_equal(pms_halaxy_status(table[i].code, &direct), PMS_OK);
        assert_int_equal(direct, table[i].unified);
    }
}

static void unknown_or_missing_status_is_invalid(void **state)
{
    fixture *f = *state;
    set_status(f, "rescheduled");
    expect_invalid(f, "status");
    assert_string_equal(f->id, APPT_ID); /* the id is known, for the invalid-record report */
    assert_null(strstr(f->err.message, "rescheduled")); /* the field, not its value */
    pms_appt_status s;
    assert_int_equal(pms_halaxy_status("rescheduled", &s), PMS_ERR_PARSE);
    assert_int_equal(pms_halaxy_status("cancelled(no charge)", &s), PMS_ERR_PARSE);
    assert_int_equal(pms_halaxy_status(NULL, &s), PMS_ERR_PARSE);

    json_object_del(patient_participant(f), "modifierExtension");
    expect_invalid(f, "status");

    json_object_set_new(patient_participant(f), "modifierExtension", json_string("booked"));
    expect_invalid(f, "modifierExtension");

    /* The status extension is found by its url among others. */
    json_object_set_new(patient_participant(f), "modifierExtension",
                        parse("[{'url': 'https://example.com/other', 'valueBoolean': true},"
                              " {'url': 'https://terminology.halaxy.com/StructureDefinition/"
                              "appointment-participant-status',"
                              "  'valueCoding': {'code': 'attended'}}]"));
    expect_mapped(f);
    assert_int_equal(f->out.status, PMS_STATUS_COMPLETED);
}

/* A copy of the fixture with one change, mapped; expects invalid naming field. */
static void malformed_case(fixture *f, const char *key, json_t *value, const char *field)
{
    reset(f);
    if (value)
        set(f, key, value);
    else
        json_object_del(f->appt, key);
    expect_invalid(f, field);
}

static void malformed_records_are_invalid(void **state)
{
    fixture *f = *state;
    malformed_case(f, "start", json_string("next Tuesday"), "start");
    assert_string_equal(f->id, APPT_ID);
    malformed_case(f, "start", json_string("2026-03-02"), "start");
    malformed_case(f, "start", json_string("2026-03-02T09:00:00"), "start"); /* no offset */
    malformed_case(f, "start", json_integer(1772404200), "start");
    malformed_case(f, "start", NULL, "start");
    malformed_case(f, "end", json_string("2026-03-02T08:00:00+11:00"), "end");
    malformed_case(f, "end", json_string("soon"), "end");
    malformed_case(f, "minutesDuration", json_string("50"), "minutesDuration");
    malformed_case(f, "minutesDuration", json_integer(-5), "minutesDuration");
    malformed_case(f, "participant", parse("{'actor': {'reference': 'Patient/1'}}"), "participant");
    malformed_case(f, "participant", json_string("Patient/1"), "participant");
    malformed_case(f, "participant", parse("['Patient/1']"), "participant");
    malformed_case(f, "supportingInformation", json_string("557057"), "supportingInformation");
    malformed_case(f, "resourceType", json_string("Slot"), "resourceType");

    malformed_case(f, "id", NULL, "id");
    assert_null(f->id);
    malformed_case(f, "id", json_integer(412345678), "id");
    assert_null(f->id);
    malformed_case(f, "id", json_string(""), "id");
    assert_null(f->id);

    reset(f);
    set_role(f, "urn:uuid:8b1c9e1e-6bb5-4a8e-a4a6-1f0d2c3b4a59");
    expect_invalid(f, "participant.actor.reference");
    reset(f);
    json_object_set_new(json_object_get(patient_participant(f), "actor"), "reference",
                        json_integer(150899633));
    expect_invalid(f, "participant.actor.reference");
    reset(f);
    set_service(f, "HealthcareService");
    expect_invalid(f, "supportingInformation.reference");

    /* A role that cannot be read, or points nowhere: nobody to put the appointment under. */
    reset(f);
    json_object_set_new(f->resources, "PractitionerRole/" ROLE_PR, json_null());
    expect_invalid(f, "PractitionerRole");
    json_object_set_new(f->resources, "PractitionerRole/" ROLE_PR,
                        parse("{'resourceType': 'PractitionerRole', 'id': '" ROLE_PR "'}"));
    expect_invalid(f, "PractitionerRole.practitioner");
    json_object_set_new(f->resources, "PractitionerRole/" ROLE_PR,
                        parse("{'resourceType': 'PractitionerRole', 'id': '" ROLE_PR "',"
                              " 'practitioner': {'reference': 'Organization/77'}}"));
    expect_invalid(f, "PractitionerRole.practitioner");

    /* A patient appointment with no practitioner at all. */
    reset(f);
    assert_int_equal(json_array_remove(json_object_get(f->appt, "participant"), 0), 0);
    expect_invalid(f, "PractitionerRole");
}

static void meetings_are_skipped(void **state)
{
    fixture *f = *state;
    /* A meeting or blocker: a practitioner, no Patient participant. */
    set(f, "participant",
        parse("[{'actor': {'reference': '" HALAXY "PractitionerRole/" ROLE_PR "',"
              "            'type': 'PractitionerRole'}}]"));
    assert_int_equal(map(f), HALAXY_SKIP);
    assert_string_equal(f->id, APPT_ID);
    assert_contains(f->err.message, "Patient");
    assert_null(f->out.pms_appointment_id);

    set(f, "participant", json_array());
    assert_int_equal(map(f), HALAXY_SKIP);
    json_object_del(f->appt, "participant");
    assert_int_equal(map(f), HALAXY_SKIP);

    /* A participant without an actor reference (display only) is not a patient either. */
    set(f, "participant", parse("[{'actor': {'display': 'Room 2'}}, {'type': []}]"));
    assert_int_equal(map(f), HALAXY_SKIP);
}

static void reference_forms(void **state)
{
    fixture *f = *state;
    static const char *const patient_forms[] = {
        HALAXY "Patient/" PATIENT_ID,
        "/main/Patient/" PATIENT_ID,
        "Patient/" PATIENT_ID,
        "http://127.0.0.1:8700/halaxy/main/Patient/" PATIENT_ID,
        HALAXY "Patient/" PATIENT_ID "/_history/4",
    };
    for (size_t i = 0; i < sizeof patient_forms / sizeof patient_forms[0]; i++) {
        json_object_set_new(json_object_get(patient_participant(f), "actor"), "reference",
                            json_string(patient_forms[i]));
        set_role(f, i % 2 ? "/main/PractitionerRole/" ROLE_PR : "PractitionerRole/" ROLE_PR);
        set_service(f, i % 2 ? "HealthcareService/" SERVICE_TELE
                             : "/main/HealthcareService/" SERVICE_TELE);
        expect_mapped(f);
        assert_string_equal(f->out.patient.pms_patient_id, PATIENT_ID);
        assert_string_equal(f->out.patient.last_name, "Nguyen");
        assert_string_equal(f->out.practitioner.pms_practitioner_id, PRACT_ID);
        assert_string_equal(f->out.appointment_type_name, "Telehealth");
    }

    halaxy_ref ref;
    assert_int_equal(pms_halaxy_parse_reference(HALAXY "PractitionerRole/EP-1.2", &ref), PMS_OK);
    assert_string_equal(ref.type, "PractitionerRole");
    assert_string_equal(ref.id, "EP-1.2");
    static const char *const rejected[] = {
        "",
        PATIENT_ID,
        "/150899633",
        "Patient/",
        "Patient//1",
        "/main/Patient/1/",
        "https://au-api.halaxy.com",
        "https://au-api.halaxy.com/",
        "https:///Patient/1",
        "#contained-1",
        "urn:uuid:8b1c9e1e-6bb5-4a8e-a4a6-1f0d2c3b4a59",
        "Patient/1?_format=json",
        "Patient/1#x",
        "patient/1",
        "Patient/1 2",
        "Patient/a_b",
        "Patient\\1",
        "/_history/2",
        "Patient/1234567890123456789012345678901234567890123456789012345678901234x",
    };
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++)
        if (pms_halaxy_parse_reference(rejected[i], &ref) != PMS_ERR_PARSE)
            fail_msg("accepted \"%s\" as %s/%s", rejected[i], ref.type, ref.id);
    assert_int_equal(pms_halaxy_parse_reference(NULL, &ref), PMS_ERR_PARSE);
    assert_int_equal(
        pms_halaxy_parse_reference(
            "Patient/1234567890123456789012345678901234567890123456789012345678901234", &ref),
        PMS_OK); /* 64 characters is the longest id */

    char key[HALAXY_KEY_LEN];
    assert_int_equal(pms_halaxy_parse_reference("/main/Patient/77", &ref), PMS_OK);
    pms_halaxy_ref_key(&ref, key);
    assert_string_equal(key, "Patient/77");
}

static void roles_of_one_practitioner_are_one_column(void **state)
{
    fixture *f = *state;
    expect_mapped(f);
    char *via_pr = strdup(f->out.practitioner.pms_practitioner_id);
    set_role(f, HALAXY "PractitionerRole/" ROLE_EP);
    expect_mapped(f);
    assert_string_equal(f->out.practitioner.pms_practitioner_id, via_pr);
    assert_string_equal(f->out.practitioner.full_name, "Dr Jane Mary Citizen");
    free(via_pr);

    /* A Practitioner named directly is taken as it is. */
    set_role(f, HALAXY "Practitioner/" PRACT_ID);
    expect_mapped(f);
    assert_string_equal(f->out.practitioner.pms_practitioner_id, PRACT_ID);

    /* A Practitioner that could not be read keeps its id, without a name. */
    set_role(f, HALAXY "PractitionerRole/" ROLE_PR);
    json_object_set_new(f->resources, "Practitioner/" PRACT_ID, json_null());
    expect_mapped(f);
    assert_string_equal(f->out.practitioner.pms_practitioner_id, PRACT_ID);
    assert_null(f->out.practitioner.full_name);
    assert_int_equal(pms_appointment_validate(&f->out, NULL), PMS_OK);
}

static void telehealth_by_service_and_location_type(void **state)
{
    fixture *f = *state;
    /* The practice marked "Telehealth", not "F2F". */
    expect_mapped(f);
    assert_true(f->out.is_telehealth);
    set_service(f, HALAXY "HealthcareService/" SERVICE_F2F);
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
    assert_string_equal(f->out.appointment_type_id, SERVICE_F2F);
    assert_string_equal(f->out.appointment_type_name, "F2F");

    /* A location-type overrides the service, in either shape. */
    static const char *const remote[] = {
        "{'name': 'location-type', 'valueCode': 'telehealth'}",
        "{'type': 'location-type', 'value': 'telehealth'}",
        "{'name': 'location-type', 'valueCode': 'online'}",
        "{'type': 'location-type', 'valueCode': 'phone'}",
    };
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
        json_t *info = json_object_get(f->appt, "supportingInformation");
        if (json_array_size(info) > 1)
            json_array_remove(info, 1);
        json_array_append_new(info, parse(remote[i]));
        expect_mapped(f);
        if (!f->out.is_telehealth)
            fail_msg("%s did not count as telehealth", remote[i]);
        assert_int_equal(pms_halaxy_location_type(f->appt), 1);
    }
    /* In person at the clinic, although the service is the telehealth one. */
    set_service(f, HALAXY "HealthcareService/" SERVICE_TELE);
    json_t *info = json_object_get(f->appt, "supportingInformation");
    json_array_remove(info, 1);
    json_array_append_new(info, parse("{'name': 'location-type', 'valueCode': 'clinic'}"));
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
    assert_int_equal(pms_halaxy_location_type(f->appt), 0);
    /* A value it does not know leaves the service's word. */
    json_array_remove(info, 1);
    json_array_append_new(info, parse("{'name': 'location-type', 'valueCode': 'home-visit'}"));
    expect_mapped(f);
    assert_true(f->out.is_telehealth);
    assert_int_equal(pms_halaxy_location_type(f->appt), -1);

    /* No telehealth lookup: only a location-type can say so. */
    json_array_remove(info, 1);
    f->ctx.type_is_telehealth = NULL;
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
}

static void service_names(void **state)
{
    fixture *f = *state;
    /* Not in the cache, known to the catalogue. */
    set_service(f, HALAXY "HealthcareService/557099");
    expect_mapped(f);
    assert_string_equal(f->out.appointment_type_id, "557099");
    assert_string_equal(f->out.appointment_type_name, "Group session");
    assert_false(f->out.is_telehealth);

    /* Known to nobody: the id alone. */
    set_service(f, HALAXY "HealthcareService/557000");
    expect_mapped(f);
    assert_string_equal(f->out.appointment_type_id, "557000");
    assert_null(f->out.appointment_type_name);

    /* No service at all. */
    set(f, "supportingInformation", json_null());
    expect_mapped(f);
    assert_null(f->out.appointment_type_id);
    assert_false(f->out.is_telehealth);
}

static void patient_details(void **state)
{
    fixture *f = *state;
    /* Not read (or unreadable): the id alone. */
    json_object_set_new(f->resources, "Patient/" PATIENT_ID, json_null());
    expect_mapped(f);
    assert_string_equal(f->out.patient.pms_patient_id, PATIENT_ID);
    assert_null(f->out.patient.full_name);
    assert_null(f->out.patient.phone);
    assert_false(f->out.patient.has_date_of_birth);

    json_t *patient = parse(patient_text);
    json_object_set_new(f->resources, "Patient/" PATIENT_ID, patient);
    /* Only a landline; a partial birth date is no date of birth. */
    json_object_set_new(patient, "telecom",
                        parse("[{'system': 'phone', 'value': '(03) 9123 4567', 'use': 'home'}]"));
    json_object_set_new(patient, "birthDate", json_string("1984"));
    expect_mapped(f);
    assert_string_equal(f->out.patient.phone, "+61391234567");
    assert_null(f->out.patient.email);
    assert_false(f->out.patient.has_date_of_birth);

    /* A number it cannot read is kept as written. */
    json_object_set_new(patient, "telecom",
                        parse("[{'system': 'phone', 'value': '9123 4567 ext 2', 'use': 'work'}]"));
    expect_mapped(f);
    assert_string_equal(f->out.patient.phone, "9123 4567 ext 2");

    /* A name with text only. */
    json_object_set_new(patient, "name", parse("[{'text': 'Olivia Mai Nguyen'}]"));
    expect_mapped(f);
    assert_string_equal(f->out.patient.first_name, "Olivia");
    assert_string_equal(f->out.patient.last_name, "Nguyen");
    assert_string_equal(f->out.patient.full_name, "Olivia Mai Nguyen");

    /* No name at all; no id in the record: the reference's id. */
    json_object_del(patient, "name");
    json_object_del(patient, "id");
    expect_mapped(f);
    assert_string_equal(f->out.patient.pms_patient_id, PATIENT_ID);
    assert_null(f->out.patient.full_name);
}

static void map_patient_practitioner_service(void **state)
{
    (void)state;
    json_t *p = parse(patient_text);
    pms_patient patient;
    pms_error err = {0};
    assert_int_equal(pms_halaxy_map_patient(p, PMS_PHONE_AU, &patient, &err), PMS_OK);
    assert_string_equal(patient.pms_patient_id, PATIENT_ID);
    assert_string_equal(patient.full_name, "Olivia Mai Nguyen");
    assert_string_equal(patient.phone, "+61412345678");
    pms_patient_clear(&patient);
    json_object_del(p, "id");
    assert_int_equal(pms_halaxy_map_patient(p, PMS_PHONE_AU, &patient, &err), PMS_ERR_PARSE);
    assert_no_patient_data(err.message);
    json_decref(p);

    json_t *u = parse(practitioner_text);
    pms_practitioner pr;
    assert_int_equal(pms_halaxy_map_practitioner(u, &pr, &err), PMS_OK);
    assert_string_equal(pr.id, PRACT_ID);
    assert_string_equal(pr.prefix, "Dr");
    assert_string_equal(pr.given, "Jane Mary");
    assert_string_equal(pr.family, "Citizen");
    assert_string_equal(pr.full_name, "Dr Jane Mary Citizen");
    assert_true(pr.active);
    assert_true(pr.bookable);
    assert_int_equal(json_array_size(pr.contact), 1);
    pms_practitioner_clear(&pr);
    json_object_set_new(u, "active", json_false());
    json_object_set_new(u, "name",
                        parse("[{'use': 'old', 'family': 'Smith'},"
                              " {'use': 'usual', 'family': 'Citizen',"
                              "  'given': 'Jane'}]"));
    assert_int_equal(pms_halaxy_map_practitioner(u, &pr, &err), PMS_OK);
    assert_false(pr.active);
    assert_string_equal(pr.full_name, "Jane Citizen");
    pms_practitioner_clear(&pr);
    json_object_del(u, "id");
    assert_int_equal(pms_halaxy_map_practitioner(u, &pr, &err), PMS_ERR_PARSE);
    assert_contains(err.message, "id");
    json_decref(u);

    json_t *svc = parse(service_tele_text);
    pms_appt_type t;
    assert_int_equal(pms_halaxy_map_service(svc, &t, &err), PMS_OK);
    assert_string_equal(t.id, SERVICE_TELE);
    assert_string_equal(t.name, "Telehealth");
    assert_false(t.telehealth_auto_detected);
    assert_int_equal(t.duration_minutes, 0);
    pms_appt_type_clear(&t);
    json_object_del(svc, "name");
    assert_int_equal(pms_halaxy_map_service(svc, &t, &err), PMS_OK);
    assert_string_equal(t.name, SERVICE_TELE);
    pms_appt_type_clear(&t);
    json_object_del(svc, "id");
    assert_int_equal(pms_halaxy_map_service(svc, &t, &err), PMS_ERR_PARSE);
    json_decref(svc);
}

/* ---- error bodies ------------------------------------------------------------------------- */

static pms_http_response response(long status, const char *body)
{
    pms_http_response resp = {
        .status = status,
        .body = (char *)body,
        .body_len = body ? strlen(body) : 0,
    };
    return resp;
}

static bool expired(long status, const char *text)
{
    char *body = text ? q(text) : NULL;
    pms_http_response resp = response(status, body);
    bool got = pms_halaxy_token_expired(&resp);
    free(body);
    return got;
}

static void expired_outcome_detection(void **state)
{
    (void)state;
    static const char outcome[] =
        "{'resourceType': 'OperationOutcome', 'issue': [{'severity': 'error', 'code': 'expired',"
        " 'diagnostics': 'Access token expired'}]}";
    assert_true(expired(401, outcome));
    assert_true(expired(403, outcome));
    assert_true(expired(400, outcome));
    assert_true(expired(200, outcome));
    assert_false(expired(401, "{'resourceType': 'OperationOutcome', 'issue': [{'severity': "
                              "'error', 'code': 'security', 'diagnostics': 'expired key'}]}"));
    assert_false(expired(400, "{'resourceType': 'OperationOutcome', 'issue': ["
                              "{'severity': 'warning', 'code': 'informational'},"
                              "{'severity': 'error', 'code': 'expired'}]}"));
    assert_false(expired(200, "{'resourceType': 'Bundle', 'issue': [{'code': 'expired'}],"
                              " 'entry': []}"));
    assert_false(expired(401, "expired"));
    assert_false(expired(401, ""));
    assert_false(expired(401, NULL));
}

static void describe(long status, const char *text, pms_error *err)
{
    char *body = text ? q(text) : NULL;
    pms_http_response resp = response(status, body);
    pms_error_clear(err);
    pms_halaxy_describe_error(&resp, err);
    free(body);
    assert_true(err->message[0] != '\0');
    assert_null(strchr(err->message, '\n'));
}

static void error_descriptions(void **state)
{
    (void)state;
    pms_error err;
    describe(422,
             "{'resourceType': 'OperationOutcome', 'issue': [{'severity': 'error',"
             " 'code': 'invalid', 'diagnostics': 'The patient parameter must be a reference',"
             " 'details': {'text': 'Invalid search parameter'}}]}",
             &err);
    assert_string_equal(err.message, "Halaxy refused the request (HTTP 422, code invalid): The "
                                     "patient parameter must be a reference");
    assert_contains(err.detail, "1 issue");

    /* The error issue, not the warning before it; details.text when there is no diagnostics;
     * one line. */
    describe(400,
             "{'resourceType': 'OperationOutcome', 'issue': ["
             " {'severity': 'warning', 'code': 'informational', 'diagnostics': 'ignored'},"
             " {'severity': 'error', 'code': 'required',"
             "  'details': {'text': 'start is required\\nsee docs'}}]}",
             &err);
    assert_contains(err.message, "HTTP 400, code required");
    assert_contains(err.message, "start is required see docs");
    assert_null(strstr(err.message, "ignored"));

    /* Long diagnostics are cut. */
    char long_body[2048];
    char filler[1201];
    memset(filler, 'x', sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    snprintf(long_body, sizeof long_body,
             "{'resourceType': 'OperationOutcome', 'issue': [{'severity': 'error',"
             " 'code': 'exception', 'diagnostics': '%s'}]}",
             filler);
    describe(500, long_body, &err);
    assert_contains(err.message, "...");
    assert_true(strlen(err.message) < 200);

    /* The token endpoint's OAuth error. */
    describe(401,
             "{'error': 'invalid_client', 'error_description': 'Client authentication failed'}",
             &err);
    assert_contains(err.message, "invalid_client");
    assert_contains(err.message, "Client authentication failed");
    assert_contains(err.message, "check client_id and client_secret");

    /* Missing scope: 403 without a body. */
    describe(403, "", &err);
    assert_string_equal(err.message, "Halaxy refused the request: check that the API key has "
                                     "access to this resource");
    describe(403, NULL, &err);
    assert_contains(err.message, "access to this resource");
    describe(403,
             "{'resourceType': 'OperationOutcome', 'issue': [{'severity': 'error',"
             " 'code': 'forbidden', 'diagnostics': 'Insufficient scope'}]}",
             &err);
    assert_contains(err.message, "Insufficient scope");
    assert_contains(err.message, "access to this resource");

    describe(404,
             "{'resourceType': 'OperationOutcome', 'issue': [{'severity': 'error',"
             " 'code': 'not-found', 'diagnostics': 'Resource not found'}]}",
             &err);
    assert_string_equal(err.message, "Halaxy has no such record (HTTP 404, code not-found): "
                                     "Resource not found");
    describe(503,
             "{'resourceType': 'OperationOutcome', 'issue': [{'severity': 'fatal',"
             " 'code': 'transient', 'diagnostics': 'Try again later'}]}",
             &err);
    assert_contains(err.message, "Halaxy failed (HTTP 503, code transient): Try again later");

    describe(405, "", &err);
    assert_contains(err.message, "405");
    describe(502, "<html><body>Bad Gateway</body></html>", &err);
    assert_contains(err.message, "502");
    assert_null(strstr(err.message, "<html>"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(maps_a_full_appointment),
        T(notes_prefer_comment),
        T(utc_instants_across_dst),
        T(durations),
        T(status_table),
        T(unknown_or_missing_status_is_invalid),
        T(malformed_records_are_invalid),
        T(meetings_are_skipped),
        T(reference_forms),
        T(roles_of_one_practitioner_are_one_column),
        T(telehealth_by_service_and_location_type),
        T(service_names),
        T(patient_details),
        cmocka_unit_test(map_patient_practitioner_service),
        cmocka_unit_test(expired_outcome_detection),
        cmocka_unit_test(error_descriptions),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
