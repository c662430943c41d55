/* Halaxy appointment writes (declared in halaxy.h), applied to the live dataset so the next
 * read and the ground truth show them. Errors are OperationOutcomes.
 *
 * POST /main/Appointment/$book: FHIR Parameters (pms-api-notes §4.4) — appt-resource (start
 * with an offset; end or minutesDuration; a PractitionerRole participant), patient-id
 * (valueReference), healthcare-service-id (valueReference, valueString or valueId [guess]),
 * location-type (valueCode), status (valueCode, default booked). A missing or malformed part is
 * 400; a reference to nothing is 422. A time the role already has an appointment in that is not
 * cancelled is 409 "conflict" [guess: not documented]. → 201 with the Appointment and Location.
 * PATCH /main/Appointment/{id} (application/merge-patch+json): only the patient participant's
 * status can change [guess: the notes know of no other writable field], so the body is
 * {"participant":[…]} with the same actors; its modifierExtension code is the new status. Any
 * other key, or a changed actor, is 422. → 200 with the Appointment. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "halaxy.h"

/* The parameter named `name` of a Parameters resource, or NULL. */
static const json_t *parameter(const json_t *params, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(params, "parameter"), i, p)
    {
        const char *n = json_string_value(json_object_get(p, "name"));
        if (n && strcmp(n, name) == 0)
            return p;
    }
    return NULL;
}

/* The id a parameter points at: valueReference.reference, valueString or valueId. */
static const char *parameter_id(const json_t *p)
{
    const char *ref =
        json_string_value(json_object_get(json_object_get(p, "valueReference"), "reference"));
    if (ref == NULL)
        ref = json_string_value(json_object_get(p, "valueString"));
    if (ref == NULL)
        ref = json_string_value(json_object_get(p, "valueId"));
    return hx_reference_id(ref);
}

/* The first participant whose actor is of the type: its id (into the appointment), or NULL. */
static const char *actor_id(const json_t *participants, const char *type, const json_t **which)
{
    size_t i;
    json_t *p;
    json_array_foreach(participants, i, p)
    {
        const json_t *actor = json_object_get(p, "actor");
        const char *ref = json_string_value(json_object_get(actor, "reference"));
        const char *t = json_string_value(json_object_get(actor, "type"));
        if (ref && ((t && strcmp(t, type) == 0) || strstr(ref, type) != NULL)) {
            if (which)
                *which = p;
            return hx_reference_id(ref);
        }
    }
    return NULL;
}

typedef struct booking {
    int role, patient, service, minutes, offset;
    pms_instant start;
    hx_location location;
    hx_status status;
} booking;

static bool read_location(const json_t *params, hx_location *out)
{
    const char *code =
        json_string_value(json_object_get(parameter(params, "location-type"), "valueCode"));
    *out = HX_LOCATION_CLINIC;
    if (code == NULL || strcmp(code, "organization") == 0)
        return true;
    if (strcmp(code, "online") == 0) {
        *out = HX_LOCATION_TELEHEALTH;
        return true;
    }
    return hx_location_parse(code, out);
}

/* Reads the Parameters; false after answering 400 or 422. */
static bool read_booking(const hx_practice *p, const json_t *params, booking *b, sbx_response *resp)
{
    memset(b, 0, sizeof(*b));
    const json_t *appt = json_object_get(parameter(params, "appt-resource"), "resource");
    const char *start = json_string_value(json_object_get(appt, "start"));
    const json_t *minutes = json_object_get(appt, "minutesDuration");
    pms_instant end;
    const char *role = actor_id(json_object_get(appt, "participant"), "PractitionerRole", NULL);
    const char *patient = parameter_id(parameter(params, "patient-id"));
    const char *service = parameter_id(parameter(params, "healthcare-service-id"));
    const char *status =
        json_string_value(json_object_get(parameter(params, "status"), "valueCode"));
    b->status = HX_STATUS_BOOKED;
    if (start == NULL || pms_iso8601_parse(start, &b->start, &b->offset, NULL) != PMS_OK) {
        hx_respond_outcome(resp, 400, "required",
                           "appt-resource.start (with an offset) is "
                           "required");
        return false;
    }
    if (json_is_integer(minutes))
        b->minutes = (int)json_integer_value(minutes);
    else if (pms_iso8601_parse(json_string_value(json_object_get(appt, "end")), &end, NULL, NULL) ==
             PMS_OK)
        b->minutes = (int)((end - b->start) / SBX_MINUTE_MS);
    if (b->minutes < 1 || b->minutes > 24 * 60 || role == NULL || patient == NULL ||
        service == NULL || !read_location(params, &b->location) ||
        (status && !hx_status_parse(status, &b->status))) {
        hx_respond_outcome(resp, 400, "invalid",
                           "appt-resource needs a length and a PractitionerRole participant; "
                           "patient-id, healthcare-service-id, a known location-type and status "
                           "are required");
        return false;
    }
    const hx_patient *pt = hx_find_patient(p, patient);
    b->role = hx_find_role(p, role);
    b->service = hx_find_service(p, service);
    b->patient = pt ? (int)(pt - p->patients) : -1;
    if (b->role < 0 || b->service < 0 || b->patient < 0) {
        hx_respond_outcome(resp, 422, "processing",
                           b->role < 0      ? "PractitionerRole is not known"
                           : b->service < 0 ? "HealthcareService is not known"
                                            : "Patient is not known");
        return false;
    }
    return true;
}

static bool role_busy(const hx_practice *p, int role, pms_instant start, int minutes)
{
    pms_instant end = start + (pms_instant)minutes * SBX_MINUTE_MS;
    for (size_t i = sbx_book_seek(&p->book, start - 24 * 3600 * 1000LL, NULL);
         i < p->book.count && p->book.entries[i].key < end; i++) {
        const hx_appt *a = p->book.entries[i].item;
        if (a->role == role && a->status != HX_STATUS_CANCELLED &&
            a->status != HX_STATUS_CANCELLED_NO_CHARGE &&
            a->start + (pms_instant)a->minutes * SBX_MINUTE_MS > start)
            return true;
    }
    return false;
}

void hx_write_book(const sbx_request *req, hx_world *w, hx_practice *p, const hx_ctx *ctx,
                   sbx_response *resp)
{
    json_t *params = json_loadb(req->body, req->body_len, 0, NULL);
    const char *type = json_string_value(json_object_get(params, "resourceType"));
    booking b;
    if (type == NULL || strcmp(type, "Parameters") != 0) {
        hx_respond_outcome(resp, 400, "structure", "The body must be a Parameters resource");
    } else if (read_booking(p, params, &b, resp)) {
        hx_appt *a = NULL;
        pms_error err;
        if (role_busy(p, b.role, b.start, b.minutes)) {
            hx_respond_outcome(resp, 409, "conflict",
                               "The practitioner is not available at this time");
        } else if ((a = calloc(1, sizeof(*a))) == NULL) {
            hx_respond_outcome(resp, 500, "exception", "Out of memory");
        } else {
            hx_new_appt_id(w, &w->mutation_prng, a->id);
            a->role = b.role;
            a->patient = b.patient;
            a->service = b.service;
            a->start = b.start / 1000 * 1000;
            a->start_offset = b.offset;
            a->minutes = b.minutes;
            a->status = b.status;
            a->location = b.location;
            a->created = a->updated = pms_now() / 1000 * 1000;
            a->version = 1;
            if (hx_appt_insert(p, a, &err) != PMS_OK) {
                hx_appt_free(a);
                hx_respond_outcome(resp, 500, "exception", "Out of memory");
            } else {
                char location[256];
                hx_full_url(ctx, "Appointment", a->id, location, sizeof(location));
                hx_respond(resp, 201, hx_appt_json(ctx, p, a));
                sbx_response_header(resp, "Location", location);
            }
        }
    }
    json_decref(params);
}

/* The new patient status of a merge patch; false after answering. */
static bool read_patch(const hx_practice *p, const hx_appt *a, const json_t *patch,
                       hx_status *status, sbx_response *resp)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)patch, key, value)
    {
        if (strcmp(key, "participant") != 0) {
            hx_respond_outcome(resp, 422, "business-rule",
                               "Only the patient participant's status can be changed");
            return false;
        }
    }
    const json_t *participants = json_object_get(patch, "participant");
    const json_t *patient = NULL;
    const char *patient_id = actor_id(participants, "Patient", &patient);
    const char *role_id = actor_id(participants, "PractitionerRole", NULL);
    if (a->patient < 0 || patient_id == NULL || role_id == NULL ||
        strcmp(patient_id, p->patients[a->patient].id) != 0 ||
        strcmp(role_id, p->roles[a->role].id) != 0) {
        hx_respond_outcome(resp, 422, "business-rule",
                           "participant must list the appointment's own practitioner role and "
                           "patient");
        return false;
    }
    const char *code = NULL;
    size_t i;
    json_t *ext;
    json_array_foreach(json_object_get(patient, "modifierExtension"), i, ext)
    {
        if (code == NULL)
            code = json_string_value(json_object_get(json_object_get(ext, "valueCoding"), "code"));
    }
    if (!hx_status_parse(code, status)) {
        hx_respond_outcome(resp, 422, "code-invalid",
                           "The patient participant's status code is not known");
        return false;
    }
    return true;
}

void hx_write_patch(const sbx_request *req, hx_practice *p, hx_appt *a, const hx_ctx *ctx,
                    sbx_response *resp)
{
    const char *content_type = sbx_header(req, "Content-Type");
    if (content_type == NULL ||
        strncasecmp(content_type, "application/merge-patch+json", 28) != 0) {
        hx_respond_outcome(resp, 415, "not-supported", "PATCH takes application/merge-patch+json");
        return;
    }
    json_t *patch = json_loadb(req->body, req->body_len, 0, NULL);
    hx_status status;
    if (!json_is_object(patch)) {
        hx_respond_outcome(resp, 400, "structure", "The body must be a JSON object");
    } else if (read_patch(p, a, patch, &status, resp)) {
        a->status = status;
        a->updated = pms_now() / 1000 * 1000;
        a->version++;
        hx_respond(resp, 200, hx_appt_json(ctx, p, a));
    }
    json_decref(patch);
}
