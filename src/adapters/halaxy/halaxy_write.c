/* Halaxy appointment writes (pms-api-notes §4.4, §4.7).
 *
 * Book: POST /main/Appointment/$book with FHIR Parameters — appt-resource (an Appointment with
 * start, end, minutesDuration and the PractitionerRole participant), patient-id and
 * healthcare-service-id (valueReference), location-type (valueCode: telehealth for a type the
 * practice marked telehealth, else the location_type setting) and status (valueCode booked).
 * The answer's shape is not documented: the new id is read from an Appointment, a Bundle or
 * Parameters holding one, or the Location header.
 * Cancel: the status cannot be written directly; the patient participant's modifierExtension
 * code becomes cancelled (setting cancel_code). A merge patch replaces arrays whole, so the
 * appointment is read first and its whole participant array sent back with that one change:
 * PATCH /main/Appointment/{id}, application/merge-patch+json.
 * Moving an appointment is not offered: the notes know of no writable start. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/halaxy/halaxy.h"
#include "adapters/write.h"

#define STATUS_EXTENSION                                                                           \
    "https://terminology.halaxy.com/StructureDefinition/appointment-participant-status"
#define STATUS_SYSTEM "https://au-api.halaxy.com/presets/CodeSystem/appointment-participant-status"

static json_t *reference(const char *type, const char *id)
{
    char ref[HALAXY_KEY_LEN + 8];
    snprintf(ref, sizeof ref, "%s/%s", type, id);
    return json_pack("{s:s, s:s}", "reference", ref, "type", type);
}

static json_t *book_parameters(pms_session *s, const pms_booking_request *req, const char *role)
{
    char start[PMS_TIME_BUFLEN], end[PMS_TIME_BUFLEN];
    pms_write_format_local(s, req->start, false, start);
    pms_write_format_local(s, req->start + (pms_instant)req->duration_minutes * 60000, false, end);
    const char *location = pms_session_setting(s, "location_type");
    if (pms_session_type_is_telehealth(s, req->appointment_type_id))
        location = "telehealth";
    json_t *appt = json_pack("{s:s, s:s, s:s, s:i, s:[{s:o}]}", "resourceType", "Appointment",
                             "start", start, "end", end, "minutesDuration", req->duration_minutes,
                             "participant", "actor", reference("PractitionerRole", role));
    if (appt && req->notes)
        json_object_set_new(appt, "comment", json_string(req->notes));
    return json_pack("{s:s, s:[{s:s, s:o}, {s:s, s:o}, {s:s, s:o}, {s:s, s:s}, {s:s, s:s}]}",
                     "resourceType", "Parameters", "parameter", "name", "appt-resource", "resource",
                     appt, "name", "patient-id", "valueReference",
                     reference("Patient", req->patient_id), "name", "healthcare-service-id",
                     "valueReference", reference("HealthcareService", req->appointment_type_id),
                     "name", "location-type", "valueCode", location ? location : "clinic", "name",
                     "status", "valueCode", "booked");
}

/* The id of the appointment an answer to $book holds, or NULL (borrowed from a or NULL). */
static const char *booked_id(const pms_write_answer *a)
{
    const json_t *json = a->json;
    const char *type = json_string_value(json_object_get(json, "resourceType"));
    if (type && strcmp(type, "Bundle") == 0)
        json = json_object_get(json_array_get(json_object_get(json, "entry"), 0), "resource");
    else if (type && strcmp(type, "Parameters") == 0)
        json = json_object_get(json_array_get(json_object_get(json, "parameter"), 0), "resource");
    const char *id = json_string_value(json_object_get(json, "id"));
    if (id == NULL && a->location) {
        const char *slash = strrchr(a->location, '/');
        id = slash && slash[1] ? slash + 1 : NULL;
    }
    return id;
}

int pms_halaxy_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                    pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (pms_write_check_booking(req, "Halaxy", "a healthcare service", err) != PMS_OK)
        return PMS_ERR_INVALID;
    char role[HALAXY_ID_LEN];
    pms_error e = {0};
    int rc = pms_halaxy_practice_role(s, req->practitioner_id, role, &e);
    if (rc == PMS_ERR_NOT_FOUND)
        return pms_write_failed(out, "That practitioner can't be booked in the practice's "
                                     "system.");
    if (rc != PMS_OK) {
        if (err)
            *err = e;
        return rc;
    }
    pms_write_answer a;
    rc = pms_write_send_owned(s, "POST", pms_write_url(s, "/main/Appointment/$book"),
                              book_parameters(s, req, role), &a, err);
    if (rc != PMS_OK)
        return rc;
    const char *id = booked_id(&a);
    if (pms_write_ok(&a) && id == NULL)
        rc = pms_error_set(err, PMS_ERR_PARSE, "Halaxy's booking answer names no appointment");
    else if (pms_write_ok(&a))
        rc = pms_write_confirmed(out, id, err);
    else if (a.status == 409)
        rc = pms_write_failed(out, "That time is already taken with this practitioner.");
    else
        rc = pms_write_refused(out, &a, "that booking");
    pms_write_answer_clear(&a);
    return rc;
}

/* GET /main/Appointment/{id}; PMS_OK with *appt NULL when Halaxy has none. */
static int read_appointment(pms_session *s, const char *id, json_t **appt, pms_error *err)
{
    *appt = NULL;
    char *encoded = pms_url_encode(id);
    char *url = encoded ? pms_write_url(s, "/main/Appointment/%s", encoded) : NULL;
    free(encoded);
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    pms_error e = {0};
    int rc = pms_halaxy_get(s, NULL, url, appt, &e);
    free(url);
    if (rc != PMS_OK && e.http_status == 404)
        return PMS_OK;
    if (rc != PMS_OK && err)
        *err = e;
    return rc;
}

/* The patient participant's status code, or NULL. */
static const char *participant_code(const json_t *participant)
{
    size_t i;
    json_t *ext;
    json_array_foreach(json_object_get(participant, "modifierExtension"), i, ext)
    {
        const char *code =
            json_string_value(json_object_get(json_object_get(ext, "valueCoding"), "code"));
        if (code)
            return code;
    }
    return NULL;
}

/* Whether the appointment can still be cancelled; out: failed when not. */
static bool cancellable(const char *code, pms_write_result *out)
{
    if (code && strncasecmp(code, "cancelled", 9) == 0)
        pms_write_failed(out, "That appointment has already been cancelled.");
    else if (code && strcasecmp(code, "attended") == 0)
        pms_write_failed(out, "That appointment has already taken place, so it can't be "
                              "cancelled.");
    else if (code && strcasecmp(code, "did not attend") == 0)
        pms_write_failed(out, "That appointment was marked as missed, so it can't be "
                              "cancelled.");
    else
        return true;
    return false;
}

/* {"participant":[…]} with the patient participant's status set to code. New reference. */
static json_t *cancel_patch(const json_t *appt, const json_t *patient, const char *code)
{
    json_t *participants = json_deep_copy(json_object_get(appt, "participant"));
    size_t index = json_array_size(participants);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(appt, "participant"), i, p)
    {
        if (p == patient)
            index = i;
    }
    json_t *status = json_pack("[{s:s, s:{s:s, s:s, s:s}}]", "url", STATUS_EXTENSION, "valueCoding",
                               "system", STATUS_SYSTEM, "code", code, "display", code);
    json_t *target = json_array_get(participants, index);
    if (participants == NULL || status == NULL || target == NULL ||
        json_object_set_new(target, "modifierExtension", status) != 0) {
        json_decref(participants);
        return NULL;
    }
    return json_pack("{s:o}", "participant", participants);
}

int pms_halaxy_cancel(pms_session *s, const char *id, const char *reason, pms_write_result *out,
                      pms_error *err)
{
    (void)reason; /* Halaxy's cancellationReason is unreliable (notes §1): not written */
    memset(out, 0, sizeof *out);
    json_t *appt = NULL;
    int rc = read_appointment(s, id, &appt, err);
    if (rc != PMS_OK)
        return rc;
    if (appt == NULL)
        return pms_write_failed(out, "That appointment could not be found in the practice's "
                                     "system.");
    halaxy_appt_refs refs;
    if (pms_halaxy_appointment_refs(appt, &refs, NULL) != PMS_OK || !refs.has_patient) {
        json_decref(appt);
        return pms_write_failed(out, "That is not a patient's appointment, so it can't be "
                                     "cancelled.");
    }
    if (!cancellable(participant_code(refs.patient_participant), out)) {
        json_decref(appt);
        return PMS_OK;
    }
    const char *code = pms_session_setting(s, "cancel_code");
    json_t *patch = cancel_patch(appt, refs.patient_participant, code ? code : "cancelled");
    json_decref(appt);
    char *encoded = pms_url_encode(id);
    char *url = encoded ? pms_write_url(s, "/main/Appointment/%s", encoded) : NULL;
    free(encoded);
    pms_write_answer a;
    if (url == NULL || patch == NULL)
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    else
        rc = pms_write_send(s, "PATCH", url, patch, "application/merge-patch+json", &a, err);
    free(url);
    json_decref(patch);
    if (rc != PMS_OK)
        return rc;
    rc = pms_write_ok(&a) ? pms_write_confirmed(out, id, err)
                          : pms_write_refused(out, &a, "that cancellation");
    pms_write_answer_clear(&a);
    return rc;
}

/* Reads a referenced resource into resources under "Type/id" (a miss is left out). */
static int add_resource(pms_session *s, json_t *resources, const halaxy_ref *ref, pms_error *err)
{
    json_t *resource = NULL;
    int rc = pms_halaxy_resource_cached(s, NULL, ref->type, ref->id, &resource, err);
    if (rc == PMS_OK && resource) {
        char key[HALAXY_KEY_LEN];
        pms_halaxy_ref_key(ref, key);
        json_object_set_new(resources, key, resource);
    }
    return rc;
}

int pms_halaxy_get_appointment(pms_session *s, const char *id, pms_appointment *out, pms_error *err)
{
    json_t *appt = NULL;
    int rc = read_appointment(s, id, &appt, err);
    if (rc != PMS_OK)
        return rc;
    if (appt == NULL)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "Halaxy has no such appointment");
    json_t *resources = json_object();
    halaxy_appt_refs refs;
    if (pms_halaxy_appointment_refs(appt, &refs, NULL) == PMS_OK) {
        if (refs.has_provider && (rc = add_resource(s, resources, &refs.provider, err)) == PMS_OK) {
            char key[HALAXY_KEY_LEN];
            pms_halaxy_ref_key(&refs.provider, key);
            halaxy_ref practitioner;
            if (pms_halaxy_role_practitioner(json_object_get(resources, key), &practitioner) ==
                PMS_OK)
                rc = add_resource(s, resources, &practitioner, err);
        }
        if (rc == PMS_OK && refs.has_service) {
            halaxy_ref service = refs.service;
            snprintf(service.type, sizeof service.type, "HealthcareService");
            rc = add_resource(s, resources, &service, err);
        }
        if (rc == PMS_OK && refs.has_patient)
            rc = add_resource(s, resources, &refs.patient, err);
    }
    if (rc == PMS_OK) {
        halaxy_map_context ctx = pms_halaxy_map_context_of(s, resources);
        pms_error e = {0};
        halaxy_map_outcome outcome = pms_halaxy_map_appointment(appt, &ctx, out, NULL, &e);
        if (outcome != HALAXY_MAPPED)
            rc = pms_error_set(err, e.code == PMS_ERR_NOMEM ? PMS_ERR_NOMEM : PMS_ERR_PARSE,
                               "Halaxy's appointment could not be read: %s", e.message);
    }
    json_decref(resources);
    json_decref(appt);
    return rc;
}
