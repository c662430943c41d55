/* Gentu Bookings API appointment writes (declared in gentu.h), applied to the live dataset so
 * the next read and the ground truth show them.
 *
 * POST …/appointments: {appointmentTypeId, duration, patientId, practitionerId, startsAt,
 * status, siteOfServiceId?, notes?} → 201 {"id"}; a missing or malformed field is the 400
 * validation envelope; a time the practitioner already has an appointment in (not cancelled) is
 * refused with 409 {"message"} [guess: the double-booking answer is not documented].
 * PATCH …/appointments/{id}: the cancel body (setting cancel_body: {"action":"cancel"} or
 * {"status":"cancelled"}, [guess]) → 200 {"id"}; 422 when the appointment is in the past (it
 * starts before the tenant's today), 409 when its status is not none, confirmed or
 * in_waiting_room. */
#include <stdlib.h>
#include <string.h>

#include "gentu.h"
#include "gentu_json.h"

static const char *string_field(const json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

static void required(json_t *issues, const char *field, const char *expected)
{
    json_t *issue = gentu_validation_add(issues, NULL, "invalid_type", "Required", "body", field);
    json_object_set_new(issue, "expected", json_string(expected));
    json_object_set_new(issue, "received", json_string("undefined"));
}

/* A reference field: its index through find, or -1 with an issue. */
static int reference(const json_t *body, const char *field, const gentu_tenant *t,
                     int (*find)(const gentu_tenant *, const char *), json_t *issues)
{
    const char *id = string_field(body, field);
    int index = id ? find(t, id) : -1;
    if (id == NULL)
        required(issues, field, "string");
    else if (index < 0)
        gentu_validation_add(issues, NULL, "custom", "Not found", "body", field);
    return index;
}

static int find_patient_index(const gentu_tenant *t, const char *id)
{
    const gentu_patient *p = gentu_find_patient(t, id);
    return p ? (int)(p - t->patients) : -1;
}

/* Whether another appointment of the practitioner, not cancelled, overlaps [start, +minutes). */
static bool practitioner_busy(const gentu_tenant *t, int practitioner, pms_instant start,
                              int minutes)
{
    const gentu_schedule *book = &t->schedules[practitioner];
    pms_instant end = start + (pms_instant)minutes * SBX_MINUTE_MS;
    for (size_t i = gentu_schedule_seek(book, start - 24 * 3600 * 1000LL, NULL);
         i < book->count && book->items[i]->start < end; i++) {
        const gentu_appt *a = book->items[i];
        if (a->status != GENTU_STATUS_CANCELLED &&
            a->start + (pms_instant)a->minutes * SBX_MINUTE_MS > start)
            return true;
    }
    return false;
}

typedef struct create_body {
    int type, patient, practitioner, site, minutes;
    pms_instant start;
    gentu_status status;
} create_body;

static bool read_create(const gentu_tenant *t, const json_t *body, create_body *b, json_t *issues)
{
    b->type = reference(body, "appointmentTypeId", t, gentu_find_type, issues);
    b->patient = reference(body, "patientId", t, find_patient_index, issues);
    b->practitioner = reference(body, "practitionerId", t, gentu_find_practitioner, issues);
    const json_t *duration = json_object_get(body, "duration");
    if (duration == NULL)
        required(issues, "duration", "number");
    else if (!json_is_integer(duration) || json_integer_value(duration) < 1 ||
             json_integer_value(duration) > 24 * 60)
        gentu_validation_add(issues, NULL, "invalid_type", "Expected a whole number of minutes",
                             "body", "duration");
    else
        b->minutes = (int)json_integer_value(duration);
    const char *starts = string_field(body, "startsAt");
    if (starts == NULL)
        required(issues, "startsAt", "string");
    else if (strlen(starts) < 11 || starts[10] != 'T' ||
             pms_iso8601_parse(starts, &b->start, NULL, NULL) != PMS_OK)
        gentu_validation_add(issues, "datetime", "invalid_string", "Invalid datetime", "body",
                             "startsAt");
    const char *status = string_field(body, "status");
    b->status = GENTU_STATUS_NONE;
    if (status != NULL && !gentu_status_parse(status, &b->status))
        gentu_validation_add(issues, NULL, "invalid_enum_value", "Invalid enum value", "body",
                             "status");
    const char *site = string_field(body, "siteOfServiceId");
    b->site = 0;
    if (site != NULL) {
        b->site = -1;
        for (size_t i = 0; i < t->site_count; i++)
            if (strcmp(t->sites[i].id, site) == 0)
                b->site = (int)i;
        if (b->site < 0)
            gentu_validation_add(issues, NULL, "custom", "Not found", "body", "siteOfServiceId");
    }
    return gentu_validation_count(issues) == 0;
}

void gentu_write_create_appt(const sbx_request *req, gentu_world *w, gentu_tenant *t,
                             sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    json_t *issues = gentu_validation_new();
    create_body b;
    pms_error err;
    if (!read_create(t, body, &b, issues)) {
        sbx_respond_json(resp, 400, json_incref(issues));
        goto out;
    }
    if (b.status != GENTU_STATUS_CANCELLED &&
        practitioner_busy(t, b.practitioner, b.start, b.minutes)) {
        sbx_respond_message(resp, 409, "The practitioner already has an appointment at this time");
        goto out;
    }
    gentu_appt *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        sbx_respond_message(resp, 500, "Internal Server Error");
        goto out;
    }
    sbx_prng_uuid(&w->mutation_prng, a->id);
    a->practitioner = b.practitioner;
    a->patient = b.patient;
    a->type = b.type;
    a->site = t->types[b.type].telehealth ? -1 : b.site;
    a->start = b.start / 1000 * 1000;
    a->minutes = b.minutes;
    a->status = b.status;
    a->arrived_at = PMS_INSTANT_NONE;
    a->cancelled_at =
        b.status == GENTU_STATUS_CANCELLED ? pms_now() / 1000 * 1000 : PMS_INSTANT_NONE;
    if (!gentu_set_string(&a->comment, string_field(body, "notes")) ||
        gentu_appt_insert(t, a, &err) != PMS_OK) {
        gentu_appt_free(a);
        sbx_respond_message(resp, 500, "Internal Server Error");
        goto out;
    }
    sbx_respond_json(resp, 201, json_pack("{s:s}", "id", a->id));
out:
    json_decref(issues);
    json_decref(body);
}

/* Whether the body is the cancel the settings expect. */
static bool is_cancel(const json_t *body, const sbx_gentu_config *s)
{
    const char *value = string_field(body, s->cancel_by_status ? "status" : "action");
    return value && strcmp(value, s->cancel_by_status ? "cancelled" : "cancel") == 0;
}

void gentu_write_cancel(const sbx_request *req, const sbx_gentu_config *s, gentu_tenant *t,
                        gentu_appt *a, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    if (!is_cancel(body, s)) {
        json_t *issues = gentu_validation_new();
        gentu_validation_add(issues, NULL, "invalid_union",
                             "Invalid input: the only supported action is cancel", "body",
                             s->cancel_by_status ? "status" : "action");
        sbx_respond_json(resp, 400, issues);
    } else if (a->start < pms_tz_day_start(t->tz, t->today)) {
        sbx_respond_message(resp, 422, "Unable to cancel an appointment that is in the past");
    } else if (a->status != GENTU_STATUS_NONE && a->status != GENTU_STATUS_NULL &&
               a->status != GENTU_STATUS_CONFIRMED && a->status != GENTU_STATUS_IN_WAITING_ROOM) {
        sbx_respond_message(resp, 409,
                            "Can only change the status of an appointment with status 'none', "
                            "'confirmed' or 'in waiting room'");
    } else {
        a->status = GENTU_STATUS_CANCELLED;
        a->cancelled_at = pms_now() / 1000 * 1000;
        a->arrived_at = PMS_INSTANT_NONE;
        sbx_respond_json(resp, 200, json_pack("{s:s}", "id", a->id));
    }
    json_decref(body);
}
