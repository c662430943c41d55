/* Halaxy resources to the unified model (notes §4.7): appointments with their PractitionerRole,
 * Practitioner, Patient and HealthcareService, references, statuses, telehealth, error bodies;
 * then the fetch against a small fake Halaxy on 127.0.0.1 (libmicrohttpd): day searches, next
 * links, each referenced resource read once per sync, the token call and "expired" outcomes.
 *
 * Fixtures are written with ' for " (see q()) to stay readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
    assert_false(f->out.telehealth_from_pms); /* no location-type: the practice's services */
    set_service(f, HALAXY "HealthcareService/" SERVICE_F2F);
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
    assert_false(f->out.telehealth_from_pms);
    assert_string_equal(f->out.appointment_type_id, SERVICE_F2F);
    assert_string_equal(f->out.appointment_type_name, "F2F");

    /* A location-type overrides the service, in either shape. */
    static const char *const remote[] = {
        "{'name': 'location-type', 'valueCode': 'telehealth'}",
        "{'type': 'location-type', 'value': 'telehealth'}",
        "{'name': 'location-type', 'valueCode': 'online'}",
    };
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++) {
        json_t *info = json_object_get(f->appt, "supportingInformation");
        if (json_array_size(info) > 1)
            json_array_remove(info, 1);
        json_array_append_new(info, parse(remote[i]));
        expect_mapped(f);
        if (!f->out.is_telehealth)
            fail_msg("%s did not count as telehealth", remote[i]);
        assert_true(f->out.telehealth_from_pms);
        assert_int_equal(pms_halaxy_location_type(f->appt), 1);
    }
    /* In person at the clinic, or by phone, although the service is the telehealth one. */
    set_service(f, HALAXY "HealthcareService/" SERVICE_TELE);
    json_t *info = json_object_get(f->appt, "supportingInformation");
    json_array_remove(info, 1);
    json_array_append_new(info, parse("{'type': 'location-type', 'valueCode': 'phone'}"));
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
    json_array_remove(info, 1);
    json_array_append_new(info, parse("{'name': 'location-type', 'valueCode': 'clinic'}"));
    expect_mapped(f);
    assert_false(f->out.is_telehealth);
    assert_true(f->out.telehealth_from_pms); /* Halaxy said: in the clinic */
    assert_int_equal(pms_halaxy_location_type(f->appt), 0);
    /* A value it does not know leaves the service's word. */
    json_array_remove(info, 1);
    json_array_append_new(info, parse("{'name': 'location-type', 'valueCode': 'home-visit'}"));
    expect_mapped(f);
    assert_true(f->out.is_telehealth);
    assert_false(f->out.telehealth_from_pms);
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

/* ============================================================================================
 * The fetch against a fake Halaxy.
 * ============================================================================================ */

/* Answers by "METHOD /path?query" from a table the test fills; records every request. */
typedef struct recorded {
    char method[8];
    char uri[256];
    char accept[64];
    char content_type[64];
    char authorization[64];
    char user_agent[64];
    char body[512];
} recorded;

#define MAX_RECORDS 128

typedef struct fake_halaxy {
    struct MHD_Daemon *daemon;
    char origin[64];   /* http://127.0.0.1:PORT */
    char base_url[80]; /* origin + "/halaxy" */
    pthread_mutex_t lock;
    json_t *routes; /* "GET /halaxy/main/Patient/1" -> {"status": n, "body": any} */
    recorded records[MAX_RECORDS];
    size_t record_count;
    int tokens;
    bool token_refused;
    int expire_next; /* answer this many reads with an "expired" OperationOutcome */
} fake_halaxy;

typedef struct exchange {
    char uri[256];
    char body[512];
    size_t len;
} exchange;

static void *note_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    exchange *x = calloc(1, sizeof *x);
    if (x)
        snprintf(x->uri, sizeof x->uri, "%s", uri);
    return x;
}

static void copy_header(struct MHD_Connection *conn, const char *name, char *dst, size_t cap)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
    snprintf(dst, cap, "%s", v ? v : "");
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    if (body[0])
        MHD_add_response_header(resp, "Content-Type", "application/fhir+json");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)url;
    (void)version;
    fake_halaxy *srv = cls;
    exchange *x = *con_cls;
    if (x == NULL)
        return MHD_NO;
    if (*upload_data_size > 0) {
        size_t room = sizeof x->body - 1 - x->len;
        size_t n = *upload_data_size < room ? *upload_data_size : room;
        memcpy(x->body + x->len, upload_data, n);
        x->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") == 0 && x->len == 0 && strstr(x->uri, "token") &&
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length") &&
        strcmp(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length"), "0") != 0)
        return MHD_YES; /* the body is still to come */

    pthread_mutex_lock(&srv->lock);
    if (srv->record_count < MAX_RECORDS) {
        recorded *r = &srv->records[srv->record_count++];
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->uri, sizeof r->uri, "%s", x->uri);
        snprintf(r->body, sizeof r->body, "%s", x->body);
        copy_header(conn, "Accept", r->accept, sizeof r->accept);
        copy_header(conn, "Content-Type", r->content_type, sizeof r->content_type);
        copy_header(conn, "Authorization", r->authorization, sizeof r->authorization);
        copy_header(conn, "User-Agent", r->user_agent, sizeof r->user_agent);
    }
    unsigned status = 404;
    char *body = NULL;
    if (strcmp(x->uri, "/halaxy/main/oauth/token") == 0) {
        if (srv->token_refused) {
            status = 401;
            body = strdup("{\"error\":\"invalid_client\","
                          "\"error_description\":\"Client authentication failed\"}");
        } else {
            status = 200;
            if (asprintf(&body,
                         "{\"access_token\":\"t%d\",\"token_type\":\"Bearer\","
                         "\"expires_in\":3600}",
                         ++srv->tokens) < 0)
                body = NULL;
        }
    } else if (srv->expire_next > 0) {
        srv->expire_next--;
        status = 403; /* not 401: only the hook can tell that the token expired */
        body = strdup("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
                      "\"code\":\"expired\",\"diagnostics\":\"Access token expired\"}]}");
    } else {
        char key[300];
        snprintf(key, sizeof key, "%s %s", method, x->uri);
        const json_t *route = json_object_get(srv->routes, key);
        if (route) {
            status = (unsigned)json_integer_value(json_object_get(route, "status"));
            const json_t *b = json_object_get(route, "body");
            body = b ? json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("");
        } else {
            body = strdup("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
                          "\"error\",\"code\":\"not-found\",\"diagnostics\":\"Not found\"}]}");
        }
    }
    pthread_mutex_unlock(&srv->lock);
    enum MHD_Result ret = answer(conn, status, body ? body : "");
    free(body);
    return ret;
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void fake_start(fake_halaxy *srv)
{
    memset(srv, 0, sizeof *srv);
    pthread_mutex_init(&srv->lock, NULL);
    srv->routes = json_object();
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                   0, NULL, NULL, handle, srv, MHD_OPTION_SOCK_ADDR, &addr,
                                   MHD_OPTION_URI_LOG_CALLBACK, note_uri, srv,
                                   MHD_OPTION_NOTIFY_COMPLETED, request_done, srv, MHD_OPTION_END);
    assert_non_null(srv->daemon);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    snprintf(srv->origin, sizeof srv->origin, "http://127.0.0.1:%u", (unsigned)info->port);
    snprintf(srv->base_url, sizeof srv->base_url, "%s/halaxy", srv->origin);
}

static void fake_stop(fake_halaxy *srv)
{
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    json_decref(srv->routes);
    pthread_mutex_destroy(&srv->lock);
}

/* Adds an answer for "GET /halaxy/main/<path>"; body is fixture text (or NULL for none). */
static void route(fake_halaxy *srv, const char *path, unsigned status, const char *body)
{
    char key[300];
    snprintf(key, sizeof key, "GET /halaxy/main/%s", path);
    json_t *r = json_pack("{s:i}", "status", (int)status);
    if (body)
        json_object_set_new(r, "body", parse(body));
    pthread_mutex_lock(&srv->lock);
    json_object_set_new(srv->routes, key, r);
    pthread_mutex_unlock(&srv->lock);
}

static size_t requests_for(fake_halaxy *srv, const char *uri)
{
    size_t n = 0;
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->record_count; i++)
        if (strcmp(srv->records[i].uri, uri) == 0)
            n++;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

static size_t requests_starting(fake_halaxy *srv, const char *prefix)
{
    size_t n = 0;
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->record_count; i++)
        if (strncmp(srv->records[i].uri, prefix, strlen(prefix)) == 0)
            n++;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

/* ---- a sink that remembers --------------------------------------------------------------- */

typedef struct seen {
    json_t *kept;    /* id -> {status, telehealth, patient, practitioner} */
    json_t *invalid; /* id or "?" -> reason */
    json_t *skipped; /* id -> reason */
    int batches;
} seen;

static int on_batch(void *ctx, pms_appointment *items, size_t count, pms_error *err)
{
    (void)err;
    seen *s = ctx;
    s->batches++;
    for (size_t i = 0; i < count; i++) {
        const pms_appointment *a = &items[i];
        assert_int_equal(pms_appointment_validate(a, NULL), PMS_OK);
        json_object_set_new(s->kept, a->pms_appointment_id,
                            json_pack("{s:s, s:b, s:s?, s:s, s:s?}", "status",
                                      pms_appt_status_name(a->status), "telehealth",
                                      a->is_telehealth, "patient", a->patient.full_name,
                                      "practitioner", a->practitioner.pms_practitioner_id, "type",
                                      a->appointment_type_name));
    }
    return PMS_OK;
}

static void on_invalid(void *ctx, const char *id, const char *reason)
{
    seen *s = ctx;
    assert_no_patient_data(reason);
    json_object_set_new(s->invalid, id ? id : "?", json_string(reason));
}

static void on_skipped(void *ctx, const char *id, const char *reason)
{
    seen *s = ctx;
    json_object_set_new(s->skipped, id ? id : "?", json_string(reason));
}

/* ---- fetch fixture --------------------------------------------------------------------------- */

typedef struct fetch_fixture {
    fake_halaxy srv;
    pms_session *session;
    seen seen;
    pms_batch_sink sink;
} fetch_fixture;

static int fetch_setup(void **state)
{
    fetch_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fake_start(&f->srv);
    f->seen.kept = json_object();
    f->seen.invalid = json_object();
    f->seen.skipped = json_object();
    f->sink = (pms_batch_sink){on_batch, on_invalid, on_skipped, &f->seen};
    *state = f;
    return 0;
}

static int fetch_teardown(void **state)
{
    fetch_fixture *f = *state;
    pms_session_close(f->session);
    fake_stop(&f->srv);
    json_decref(f->seen.kept);
    json_decref(f->seen.invalid);
    json_decref(f->seen.skipped);
    free(f);
    return 0;
}

static void open_session(fetch_fixture *f, const char *extra_settings)
{
    static int serial;
    char connection_id[64];
    snprintf(connection_id, sizeof connection_id, "conn-halaxy-test-%d", ++serial);
    json_t *settings = parse("{'client_id': 'cid-123', 'client_secret': 's3cr3t'}");
    if (extra_settings) {
        json_t *extra = parse(extra_settings);
        json_object_update(settings, extra);
        json_decref(extra);
    }
    static const char *const telehealth[] = {SERVICE_TELE};
    pms_session_config cfg = {
        .connection_id = connection_id,
        .base_url = f->srv.base_url,
        .timezone = "Australia/Melbourne",
        .settings = settings,
        .connection_limits = {100000, 1000000},
        .telehealth_type_ids = telehealth,
        .telehealth_type_count = 1,
    };
    cfg.retry.base_ms = 1;
    cfg.retry.cap_ms = 2;
    pms_error err = {0};
    if (pms_session_open(&pms_halaxy_adapter, &cfg, &f->session, &err) != PMS_OK)
        fail_msg("session open failed: %s", err.message);
    json_decref(settings);
}

/* The window: 2 and 3 March 2026 in Melbourne. */
static pms_fetch_options window(void)
{
    pms_fetch_options opts = {
        .from = instant("2026-03-02T00:00:00+11:00"),
        .to = instant("2026-03-04T00:00:00+11:00"),
        .first_day = {2026, 3, 2},
        .last_day = {2026, 3, 3},
        .telehealth_only = true,
    };
    return opts;
}

/* An Appointment fixture with its own id, start, role, patient (NULL: none), service, status. */
static char *appointment(const char *id, const char *start, const char *role, const char *patient,
                         const char *service, const char *status)
{
    char *text = NULL;
    char patient_part[512] = "";
    if (patient)
        snprintf(patient_part, sizeof patient_part,
                 ", {'actor': {'reference': '" HALAXY "Patient/%s', 'type': 'Patient'},"
                 " 'modifierExtension': [{'url': 'https://terminology.halaxy.com/"
                 "StructureDefinition/appointment-participant-status',"
                 " 'valueCoding': {'code': '%s'}}]}",
                 patient, status);
    int n =
        asprintf(&text,
                 "{'resourceType': 'Appointment', 'id': '%s', 'start': '%s',"
                 " 'minutesDuration': 30,"
                 " 'supportingInformation': [{'reference': '" HALAXY "HealthcareService/%s'}],"
                 " 'participant': [{'actor': {'reference': '" HALAXY "PractitionerRole/%s'}}%s]}",
                 id, start, service, role, patient_part);
    assert_true(n > 0);
    return text;
}

/* A searchset Bundle of the given entries (fixture texts, freed), with a next link or none. */
static char *bundle(const char *next, size_t count, char **entries)
{
    size_t cap = 256 + (next ? strlen(next) : 0);
    for (size_t i = 0; i < count; i++)
        cap += strlen(entries[i]) + 64;
    char *text = malloc(cap);
    assert_non_null(text);
    int used = snprintf(text, cap, "{'resourceType': 'Bundle', 'type': 'searchset', 'link': [");
    if (next)
        used +=
            snprintf(text + used, cap - (size_t)used, "{'relation': 'next', 'url': '%s'}", next);
    used += snprintf(text + used, cap - (size_t)used, "], 'entry': [");
    for (size_t i = 0; i < count; i++) {
        used += snprintf(text + used, cap - (size_t)used, "%s{'resource': %s}", i ? ", " : "",
                         entries[i]);
        free(entries[i]);
    }
    snprintf(text + used, cap - (size_t)used, "]}");
    return text;
}

static void route_bundle(fake_halaxy *srv, const char *path, char *text)
{
    route(srv, path, 200, text);
    free(text);
}

/* The resources every appointment of the fake refers to. */
static void route_resources(fake_halaxy *srv)
{
    route(srv, "PractitionerRole/" ROLE_PR, 200, role_pr_text);
    route(srv, "PractitionerRole/" ROLE_EP, 200, role_ep_text);
    route(srv, "Practitioner/" PRACT_ID, 200, practitioner_text);
    route(srv, "HealthcareService/" SERVICE_TELE, 200, service_tele_text);
    route(srv, "HealthcareService/" SERVICE_F2F, 200, service_f2f_text);
    route(srv, "Patient/" PATIENT_ID, 200, patient_text);
    route(srv, "Patient/200", 200,
          "{'resourceType': 'Patient', 'id': '200', 'name': [{'family': 'Tran', 'given': "
          "['Bao']}]}");
    route(srv, "Patient/300", 200,
          "{'resourceType': 'Patient', 'id': '300', 'name': [{'family': 'Ali', 'given': "
          "['Sara']}]}");
    /* Patient/404 is unknown to the fake: 404 with an OperationOutcome. */
}

static const char *kept_field(fetch_fixture *f, const char *id, const char *field)
{
    const json_t *a = json_object_get(f->seen.kept, id);
    if (a == NULL)
        fail_msg("appointment %s was not handed to the sink", id);
    const json_t *v = json_object_get(a, field);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void fetch_reads_each_reference_once(void **state)
{
    fetch_fixture *f = *state;
    fake_halaxy *srv = &f->srv;
    route_resources(srv);
    char next[200];
    snprintf(next, sizeof next, "%s/halaxy/main/Appointment?date=eq2026-03-02&_count=100&page=2",
             srv->origin);
    char *day1_page1[] = {
        appointment("a1", "2026-03-02T09:00:00+11:00", ROLE_PR, PATIENT_ID, SERVICE_TELE, "booked"),
        appointment("a2", "2026-03-02T10:00:00+11:00", ROLE_EP, PATIENT_ID, SERVICE_TELE,
                    "confirmed"),
    };
    route_bundle(srv, "Appointment?date=eq2026-03-02&_count=100", bundle(next, 2, day1_page1));
    char *day1_page2[] = {
        appointment("a3", "2026-03-02T11:00:00+11:00", ROLE_PR, "200", SERVICE_TELE,
                    "cancelled (no charge)"),
        appointment("m1", "2026-03-02T12:00:00+11:00", ROLE_PR, NULL, SERVICE_TELE, NULL),
        strdup("{'resourceType': 'OperationOutcome', 'issue': [{'severity': 'information',"
               " 'code': 'informational'}]}"),
        /* a patient Halaxy cannot find; a6 on the next day refers to it again */
        appointment("a7", "2026-03-02T13:00:00+11:00", ROLE_EP, "404", SERVICE_TELE, "booked"),
    };
    route_bundle(srv, "Appointment?date=eq2026-03-02&_count=100&page=2",
                 bundle(NULL, 4, day1_page2));
    char *day2[] = {
        appointment("x1", "next Tuesday", ROLE_PR, PATIENT_ID, SERVICE_TELE, "booked"),
        appointment("a4", "2026-03-03T09:00:00+11:00", ROLE_PR, PATIENT_ID, SERVICE_TELE,
                    "attended"),
        /* in person: the engine skips it, so its patient is not read */
        appointment("a5", "2026-03-03T10:00:00+11:00", ROLE_PR, "300", SERVICE_F2F, "booked"),
        appointment("a6", "2026-03-03T11:00:00+11:00", ROLE_PR, "404", SERVICE_TELE, "booked"),
        /* the day after the window (Halaxy's idea of a day may differ) */
        appointment("late", "2026-03-04T00:30:00+11:00", ROLE_PR, "200", SERVICE_TELE, "booked"),
        /* a1 again (pages can overlap): handed over once */
        appointment("a1", "2026-03-02T09:00:00+11:00", ROLE_PR, PATIENT_ID, SERVICE_TELE, "booked"),
    };
    route_bundle(srv, "Appointment?date=eq2026-03-03&_count=100", bundle(NULL, 6, day2));

    open_session(f, NULL);
    pms_fetch_options opts = window();
    pms_error err = {0};
    int rc = pms_adapter_fetch_appointments(f->session, &opts, &f->sink, &err);
    if (rc != PMS_OK)
        fail_msg("fetch failed: %s", err.message);

    /* What reached the sink. */
    assert_int_equal(json_object_size(f->seen.kept), 7); /* a1-a7 */
    assert_string_equal(kept_field(f, "a1", "status"), "booked");
    assert_string_equal(kept_field(f, "a1", "patient"), "Olivia Mai Nguyen");
    assert_string_equal(kept_field(f, "a1", "practitioner"), PRACT_ID);
    assert_string_equal(kept_field(f, "a2", "practitioner"), PRACT_ID); /* EP- role, same one */
    assert_string_equal(kept_field(f, "a2", "status"), "confirmed");
    assert_string_equal(kept_field(f, "a3", "status"), "cancelled");
    assert_string_equal(kept_field(f, "a3", "patient"), "Bao Tran");
    assert_string_equal(kept_field(f, "a4", "status"), "completed");
    assert_null(kept_field(f, "a5", "patient")); /* not read: not telehealth */
    assert_string_equal(kept_field(f, "a5", "type"), "F2F");
    assert_false(json_is_true(json_object_get(json_object_get(f->seen.kept, "a5"), "telehealth")));
    assert_null(kept_field(f, "a6", "patient"));
    assert_null(json_object_get(f->seen.kept, "late"));
    assert_non_null(json_object_get(f->seen.skipped, "m1"));
    assert_int_equal(json_object_size(f->seen.skipped), 1);
    assert_int_equal(json_object_size(f->seen.invalid), 1);
    assert_contains(json_string_value(json_object_get(f->seen.invalid, "x1")), "start");
    assert_int_equal(f->seen.batches, 3);

    /* Each referenced resource read once, failures included; a5's patient never. */
    assert_int_equal(requests_for(srv, "/halaxy/main/PractitionerRole/" ROLE_PR), 1);
    assert_int_equal(requests_for(srv, "/halaxy/main/PractitionerRole/" ROLE_EP), 1);
    assert_int_equal(requests_for(srv, "/halaxy/main/Practitioner/" PRACT_ID), 1);
    assert_int_equal(requests_for(srv, "/halaxy/main/HealthcareService/" SERVICE_TELE), 1);
    assert_int_equal(requests_for(srv, "/halaxy/main/HealthcareService/" SERVICE_F2F), 1);
    assert_int_equal(requests_for(srv, "/halaxy/main/Patient/" PATIENT_ID), 1);
    assert_int_equal(requests_for(srv, "/halaxy/main/Patient/200"), 1);
    assert_int_equal(requests_for(srv, "/halaxy/main/Patient/300"), 0);
    assert_int_equal(requests_for(srv, "/halaxy/main/Patient/404"), 1);
    /* One search per day, the next link followed as given. */
    assert_int_equal(requests_starting(srv, "/halaxy/main/Appointment"), 3);
    assert_int_equal(requests_for(srv, "/halaxy/main/Appointment?date=eq2026-03-02&_count=100"), 1);
    assert_int_equal(
        requests_for(srv, "/halaxy/main/Appointment?date=eq2026-03-02&_count=100&page=2"), 1);
    assert_int_equal(requests_for(srv, "/halaxy/main/Appointment?date=eq2026-03-03&_count=100"), 1);

    /* The token: a JSON body; every read: the bearer and FHIR JSON; a User-Agent on all. */
    assert_int_equal(requests_for(srv, "/halaxy/main/oauth/token"), 1);
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->record_count; i++) {
        const recorded *r = &srv->records[i];
        assert_true(r->user_agent[0] != '\0');
        if (strcmp(r->uri, "/halaxy/main/oauth/token") == 0) {
            assert_string_equal(r->method, "POST");
            assert_string_equal(r->content_type, "application/json");
            json_t *body = json_loads(r->body, 0, NULL);
            assert_non_null(body);
            assert_string_equal(json_string_value(json_object_get(body, "grant_type")),
                                "client_credentials");
            assert_string_equal(json_string_value(json_object_get(body, "client_id")), "cid-123");
            assert_string_equal(json_string_value(json_object_get(body, "client_secret")),
                                "s3cr3t");
            json_decref(body);
            assert_string_equal(r->authorization, "");
        } else {
            assert_string_equal(r->method, "GET");
            assert_string_equal(r->accept, "application/fhir+json");
            assert_string_equal(r->authorization, "Bearer t1");
        }
    }
    pthread_mutex_unlock(&srv->lock);
}

static void range_search_and_catalogues_fill_the_cache(void **state)
{
    fetch_fixture *f = *state;
    fake_halaxy *srv = &f->srv;
    route_resources(srv);
    char *services[] = {strdup(service_tele_text), strdup(service_f2f_text)};
    route_bundle(srv, "HealthcareService?_count=50", bundle(NULL, 2, services));
    char *practitioners[] = {strdup(practitioner_text)};
    route_bundle(srv, "Practitioner?_count=50", bundle(NULL, 1, practitioners));
    char *appts[] = {
        appointment("a1", "2026-03-02T09:00:00+11:00", ROLE_PR, PATIENT_ID, SERVICE_TELE, "booked"),
        appointment("a2", "2026-03-03T09:00:00+11:00", ROLE_EP, PATIENT_ID, SERVICE_F2F, "booked"),
    };
    route_bundle(srv, "Appointment?date=ge2026-03-02&date=le2026-03-03&_count=50",
                 bundle(NULL, 2, appts));
    open_session(f, "{'date_query': 'range', 'page_size': '50'}");

    pms_error err = {0};
    pms_practitioner_list practitioners_out;
    assert_int_equal(pms_adapter_list_practitioners(f->session, &practitioners_out, &err), PMS_OK);
    assert_int_equal(practitioners_out.count, 1);
    assert_string_equal(practitioners_out.items[0].id, PRACT_ID);
    assert_string_equal(practitioners_out.items[0].full_name, "Dr Jane Mary Citizen");
    assert_true(practitioners_out.items[0].bookable);
    pms_practitioner_list_clear(&practitioners_out);
    pms_appt_type_list types;
    assert_int_equal(pms_adapter_list_appointment_types(f->session, &types, &err), PMS_OK);
    assert_int_equal(types.count, 2);
    assert_string_equal(types.items[1].name, "F2F");
    pms_appt_type_list_clear(&types);

    pms_fetch_options opts = window();
    static const char *const asked[] = {PRACT_ID};
    opts.practitioner_ids = asked;
    opts.practitioner_count = 1;
    int rc = pms_adapter_fetch_appointments(f->session, &opts, &f->sink, &err);
    if (rc != PMS_OK)
        fail_msg("fetch failed: %s", err.message);
    assert_int_equal(json_object_size(f->seen.kept), 2);
    assert_int_equal(requests_for(srv, "/halaxy/main/Appointment?date=ge2026-03-02&date=le2026-"
                                       "03-03&_count=50"),
                     1);
    /* Listed already: not read again. */
    assert_int_equal(requests_starting(srv, "/halaxy/main/Practitioner/"), 0);
    assert_int_equal(requests_starting(srv, "/halaxy/main/HealthcareService/"), 0);

    /* The patient read for the sync is not read again for fetch_patient. */
    pms_patient patient;
    assert_int_equal(pms_adapter_fetch_patient(f->session, PATIENT_ID, &patient, &err), PMS_OK);
    assert_string_equal(patient.full_name, "Olivia Mai Nguyen");
    pms_patient_clear(&patient);
    assert_int_equal(requests_for(srv, "/halaxy/main/Patient/" PATIENT_ID), 1);
    assert_int_equal(pms_adapter_fetch_patient(f->session, "404", &patient, &err),
                     PMS_ERR_NOT_FOUND);
    assert_int_equal(pms_adapter_fetch_patient(f->session, "../Practitioner/1", &patient, &err),
                     PMS_ERR_INVALID);
}

static void expired_token_is_minted_again(void **state)
{
    fetch_fixture *f = *state;
    route(&f->srv, "HealthcareService?_count=1", 200,
          "{'resourceType': 'Bundle', 'type': 'searchset', 'entry': []}");
    open_session(f, NULL);
    pms_error err = {0};
    assert_int_equal(pms_adapter_validate(f->session, &err), PMS_OK);
    f->srv.expire_next = 1;
    pms_health health;
    assert_int_equal(pms_adapter_health_check(f->session, &health, &err), PMS_OK);
    assert_true(health.ok);
    assert_int_equal(pms_session_get_stats(f->session).token_mints, 2);
    assert_int_equal(requests_for(&f->srv, "/halaxy/main/oauth/token"), 2);
}

static void refusals_are_clear(void **state)
{
    fetch_fixture *f = *state;
    fake_halaxy *srv = &f->srv;

    /* Credentials refused at the token call. */
    srv->token_refused = true;
    open_session(f, NULL);
    pms_error err = {0};
    assert_int_equal(pms_adapter_validate(f->session, &err), PMS_ERR_AUTH);
    assert_contains(err.message, "check client_id and client_secret");
    assert_null(strstr(err.message, "s3cr3t"));
    assert_null(strstr(err.message, "cid-123"));
    pms_session_close(f->session);
    f->session = NULL;
    srv->token_refused = false;

    /* No access to PractitionerRole: the sweep stops at the first day with the reason (access
     * is not a matter of one day), and the role is asked for once. */
    route(srv, "PractitionerRole/" ROLE_PR, 403, NULL);
    for (int day = 2; day <= 3; day++) {
        char path[96];
        snprintf(path, sizeof path, "Appointment?date=eq2026-03-0%d&_count=100", day);
        char *appts[] = {appointment(day == 2 ? "a1" : "a2", "2026-03-02T09:00:00+11:00", ROLE_PR,
                                     PATIENT_ID, SERVICE_TELE, "booked")};
        route_bundle(srv, path, bundle(NULL, 1, appts));
    }
    open_session(f, NULL);
    pms_fetch_options opts = window();
    int rc = pms_adapter_fetch_appointments(f->session, &opts, &f->sink, &err);
    assert_int_equal(rc, PMS_ERR_AUTH);
    assert_contains(err.message, "2 of 2 days could not be read");
    assert_contains(err.message, "access to this resource");
    assert_int_equal(requests_for(srv, "/halaxy/main/PractitionerRole/" ROLE_PR), 1);
    assert_int_equal(json_object_size(f->seen.kept), 0);
    pms_session_close(f->session);
    f->session = NULL;

    /* A next link to another host is not followed (the token would go with it). */
    char *appts[] = {appointment("a1", "2026-03-02T09:00:00+11:00", ROLE_EP, PATIENT_ID,
                                 SERVICE_TELE, "booked")};
    route_resources(srv);
    route_bundle(srv, "Appointment?date=eq2026-03-02&_count=100",
                 bundle("https://elsewhere.example/main/Appointment?page=2", 1, appts));
    char *none[] = {NULL};
    route_bundle(srv, "Appointment?date=eq2026-03-03&_count=100", bundle(NULL, 0, none));
    open_session(f, "{'date_query': 'sometimes'}");
    assert_int_equal(pms_adapter_fetch_appointments(f->session, &opts, &f->sink, &err),
                     PMS_ERR_CONFIG);
    assert_contains(err.message, "date_query");
    pms_session_close(f->session);
    f->session = NULL;
    open_session(f, NULL);
    rc = pms_adapter_fetch_appointments(f->session, &opts, &f->sink, &err);
    assert_int_equal(rc, PMS_ERR_UPSTREAM);
    assert_contains(err.message, "1 of 2 days could not be read");
    assert_contains(err.message, "another host");
    assert_non_null(json_object_get(f->seen.kept, "a1")); /* the page it had was kept */
}

static void adapter_declaration(void **state)
{
    (void)state;
    const pms_adapter_ops *ops = pms_adapter_find("halaxy");
    assert_ptr_equal(ops, &pms_halaxy_adapter);
    assert_string_equal(ops->display_name, "Halaxy");
    assert_string_equal(ops->default_base_url, "https://au-api.halaxy.com");
    unsigned caps = pms_adapter_capabilities(ops);
    assert_true(caps & PMS_CAP_TELEHEALTH_BY_TYPE);
    assert_false(caps & PMS_CAP_PRACTITIONER_FILTER);
    assert_true(caps & PMS_CAP_APPOINTMENTS);
    assert_true(caps & PMS_CAP_PATIENT_FETCH);
    assert_false(caps & (PMS_CAP_PAIRING | PMS_CAP_RESCHEDULE | PMS_CAP_PATIENT_CREATE));
    assert_true(caps & PMS_CAP_FIND_SLOTS);
    assert_true(caps & PMS_CAP_BOOK);
    assert_true(caps & PMS_CAP_CANCEL);
    assert_true(caps & PMS_CAP_PATIENT_SEARCH);
    assert_true(caps & PMS_CAP_APPOINTMENT_FETCH);
    assert_string_equal(pms_adapter_setting(ops, "location_type")->default_value, "clinic");
    assert_string_equal(pms_adapter_setting(ops, "cancel_code")->default_value, "cancelled");
    assert_true(pms_adapter_setting(ops, "client_id")->required);
    assert_true(pms_adapter_setting(ops, "client_secret")->secret);
    assert_string_equal(pms_adapter_setting(ops, "date_query")->default_value, "per_day");
    assert_string_equal(pms_adapter_setting(ops, "page_size")->default_value, "100");
    assert_string_equal(pms_adapter_setting(ops, "token_lifetime_cap")->default_value, "900");
    assert_int_equal(ops->default_per_minute, 60);
    assert_int_equal(ops->default_per_hour, 1000);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define F(name) cmocka_unit_test_setup_teardown(name, fetch_setup, fetch_teardown)
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
        cmocka_unit_test(adapter_declaration),
        F(fetch_reads_each_reference_once),
        F(range_search_and_catalogues_fill_the_cache),
        F(expired_token_is_minted_again),
        F(refusals_are_clear),
    };
#undef T
#undef F
    return cmocka_run_group_tests(tests, NULL, NULL);
}
