/* Gentu appointment writes (Bookings API, pms-api-notes §2.3): POST …/appointments creates one
 * (startsAt with the practice's offset, duration in minutes, status "none") and answers
 * {"id"}; PATCH …/appointments/{id} cancels — its only action. The PATCH body is not documented:
 * {"action":"cancel"} is a guess, replaced by the cancel_body setting. 409 (a status that cannot
 * be cancelled) and 422 (in the past) become sentences. The Bookings API cannot move an
 * appointment: reschedule is not offered. One appointment is read with GET …/appointments/{id}. */
#include <stdlib.h>
#include <string.h>

#include "adapters/gentu/gentu.h"
#include "adapters/write.h"

json_t *pms_gentu_cancel_body(const char *setting)
{
    if (setting == NULL || setting[0] == '\0')
        return json_pack("{s:s}", "action", "cancel");
    json_t *body = json_loads(setting, 0, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* "…/appointments/<id>" as a URL, or NULL with err. */
static char *appointment_url(pms_session *s, const char *id, pms_error *err)
{
    char *encoded = pms_url_encode(id);
    char *suffix = NULL, *url = NULL;
    if (encoded && asprintf(&suffix, "/appointments/%s", encoded) >= 0)
        url = pms_gentu_tenant_url(s, suffix, err);
    else
        pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(suffix);
    free(encoded);
    return url;
}

int pms_gentu_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                   pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (req->patient_id == NULL || req->appointment_type_id == NULL ||
        req->practitioner_id == NULL || req->duration_minutes <= 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "a Gentu booking needs a patient, a practitioner, an appointment "
                             "type and a length");
    char when[PMS_TIME_BUFLEN];
    pms_write_format_local(s, req->start, true, when);
    json_t *body =
        json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "appointmentTypeId", req->appointment_type_id,
                  "duration", req->duration_minutes, "patientId", req->patient_id, "practitionerId",
                  req->practitioner_id, "startsAt", when, "status", "none");
    if (body && req->notes)
        json_object_set_new(body, "notes", json_string(req->notes));
    pms_write_answer a;
    int rc = pms_write_send_owned(s, "POST", pms_gentu_tenant_url(s, "/appointments", err), body,
                                  &a, err);
    if (rc != PMS_OK)
        return rc;
    const char *id = json_string_value(json_object_get(a.json, "id"));
    if (pms_write_ok(&a) && id == NULL)
        rc = pms_error_set(err, PMS_ERR_PARSE, "Gentu's booking answer names no appointment id");
    else if (pms_write_ok(&a))
        rc = pms_write_confirmed(out, id, err);
    else if (a.status == 409)
        rc = pms_write_failed(out, "That time is already taken with this practitioner.");
    else
        rc = pms_write_refused(out, &a, "that booking");
    pms_write_answer_clear(&a);
    return rc;
}

/* Words for a 409 on cancel: the appointment's status says which (read it once). */
static int not_cancellable(pms_session *s, const char *id, pms_write_result *out)
{
    char *url = appointment_url(s, id, NULL);
    json_t *appt = NULL;
    if (url)
        pms_session_get_json(s, NULL, url, &appt, NULL);
    free(url);
    const char *status = json_string_value(json_object_get(appt, "status"));
    bool cancelled = status && strcmp(status, "cancelled") == 0;
    bool no_show = status && strcmp(status, "did_not_arrive") == 0;
    json_decref(appt);
    if (cancelled)
        return pms_write_failed(out, "That appointment has already been cancelled.");
    if (no_show)
        return pms_write_failed(out, "That appointment was marked as missed, so it can't be "
                                     "cancelled.");
    return pms_write_failed(out, "That appointment has already started or finished, so it can't "
                                 "be cancelled.");
}

int pms_gentu_cancel(pms_session *s, const char *id, const char *reason, pms_write_result *out,
                     pms_error *err)
{
    (void)reason; /* the Bookings API records no cancellation reason */
    memset(out, 0, sizeof *out);
    json_t *body = pms_gentu_cancel_body(pms_session_setting(s, "cancel_body"));
    if (body == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG,
                             "Gentu's cancel_body setting is not a JSON "
                             "object");
    char *url = appointment_url(s, id, err);
    if (url == NULL) {
        json_decref(body);
        return err ? (int)err->code : PMS_ERR_NOMEM;
    }
    pms_write_answer a;
    int rc = pms_write_send(s, "PATCH", url, body, NULL, &a, err);
    json_decref(body);
    free(url);
    if (rc != PMS_OK)
        return rc;
    if (pms_write_ok(&a))
        rc = pms_write_confirmed(out, id, err);
    else if (a.status == 409)
        rc = not_cancellable(s, id, out);
    else if (a.status == 422)
        rc = pms_write_failed(out, "That appointment is in the past, so it can't be cancelled.");
    else
        rc = pms_write_refused(out, &a, "that cancellation");
    pms_write_answer_clear(&a);
    return rc;
}

int pms_gentu_get_appointment(pms_session *s, const char *id, pms_appointment *out, pms_error *err)
{
    char *url = appointment_url(s, id, err);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_NOMEM;
    json_t *appt = NULL;
    pms_error e = {0};
    int rc = pms_session_get_json(s, NULL, url, &appt, &e);
    free(url);
    if (rc != PMS_OK) {
        if (e.http_status == 404)
            return pms_error_set(err, PMS_ERR_NOT_FOUND, "Gentu has no such appointment");
        if (err)
            *err = e;
        return rc;
    }
    json_t *patients = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(appt, "participant"), i, p)
    {
        const char *type = json_string_value(json_object_get(p, "referenceType"));
        const char *patient_id = json_string_value(json_object_get(p, "referenceId"));
        json_t *patient = type && patient_id && strcmp(type, "patient") == 0
                              ? pms_gentu_patient_cached(s, NULL, patient_id, NULL)
                              : NULL;
        if (patient)
            json_object_set_new(patients, patient_id, patient);
    }
    gentu_map_context ctx = pms_gentu_map_context_of(s);
    ctx.patients = patients;
    gentu_map_outcome outcome = pms_gentu_map_appointment(appt, &ctx, out, NULL, &e);
    if (outcome != GENTU_MAPPED)
        rc = pms_error_set(err, e.code == PMS_ERR_NOMEM ? PMS_ERR_NOMEM : PMS_ERR_PARSE,
                           "Gentu's appointment could not be read: %s", e.message);
    json_decref(patients);
    json_decref(appt);
    return rc;
}
