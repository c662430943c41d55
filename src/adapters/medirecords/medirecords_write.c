/* Medirecords writes (pms-api-notes §3.3, §3.5): appointments created with
 * POST /v1/practices/{pid}/appointments, moved with PUT (a full replace: the appointment is read
 * first and every field sent back), cancelled with PUT appointmentStatus 8 and a reason (or
 * DELETE, setting cancel_method); patients searched with POST /v1/patients/search and created
 * with POST /v1/patients. scheduleTime is local wall-clock time in the practice's zone, the
 * length an interval code. Medirecords documents no availability endpoint: find_slots is not
 * offered. */
#include <stdlib.h>
#include <string.h>

#include "adapters/medirecords/medirecords.h"
#include "adapters/write.h"
#include "pmsync/log.h"

#define STATUS_BOOKED     2
#define STATUS_AT_BILLING 6
#define STATUS_COMPLETED  7
#define STATUS_CANCELLED  8

/* "/v1/practices/<pid>/appointments/<id>" as a URL, or NULL with err. */
static char *appointment_url(pms_session *s, const char *id, pms_error *err)
{
    char *encoded = pms_url_encode(id);
    char *suffix = NULL, *url = NULL;
    if (encoded && asprintf(&suffix, "/appointments/%s", encoded) >= 0)
        url = pms_medirecords_practice_url(s, suffix, err);
    else
        pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(suffix);
    free(encoded);
    return url;
}

/* The interval code of a length: from the code system when it was read, else the known codes;
 * -1 when none has that length. */
static long interval_code(pms_session *s, int minutes)
{
    pms_medirecords_load_interval_codes(s);
    for (long code = 1; code <= 64; code++)
        if (pms_medirecords_interval_lookup(s, code) == minutes)
            return code;
    return -1;
}

/* The local wall-clock time of an instant, as Medirecords writes it ("YYYY-MM-DDThh:mm"). */
static void schedule_time(pms_session *s, pms_instant t, char buf[PMS_TIME_BUFLEN])
{
    pms_civil local;
    pms_tz_to_local(pms_session_tz(s), t, &local);
    pms_format_civil_minutes(&local, buf);
}

/* Words for Medirecords' refusals: its message is kept out (it may quote the request). */
static int refused(pms_write_result *out, const pms_write_answer *a, const char *what)
{
    if (a->status == 409)
        return pms_write_failed(out, "That time is already taken with this practitioner.");
    return pms_write_refused(out, a, what);
}

int pms_medirecords_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                         pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (req->patient_id == NULL || req->appointment_type_id == NULL ||
        req->practitioner_id == NULL || req->duration_minutes <= 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "a Medirecords booking needs a patient, a practitioner, an "
                             "appointment type and a length");
    long code = interval_code(s, req->duration_minutes);
    if (code < 0)
        return pms_write_failed(out,
                                "The practice's system cannot book an appointment of %d "
                                "minutes.",
                                req->duration_minutes);
    char when[PMS_TIME_BUFLEN];
    schedule_time(s, req->start, when);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:b, s:b}", "patientId", req->patient_id,
                  "appointmentTypeId", req->appointment_type_id, "scheduleTime", when,
                  "appointmentStatus", STATUS_BOOKED, "appointmentIntervalCode", (json_int_t)code,
                  "providerId", req->practitioner_id, "allowDoubleBookingForProvider", 0,
                  "allowDoubleBookingForPatient", 0);
    if (body && req->notes)
        json_object_set_new(body, "notes", json_string(req->notes));
    pms_write_answer a;
    int rc = pms_write_send_owned(s, "POST", pms_medirecords_practice_url(s, "/appointments", err),
                                  body, &a, err);
    if (rc != PMS_OK)
        return rc;
    if (pms_write_ok(&a))
        rc = pms_write_confirmed(out, json_string_value(json_object_get(a.json, "id")), err);
    else
        rc = refused(out, &a, "that booking");
    pms_write_answer_clear(&a);
    return rc;
}

/* Reads an appointment; PMS_OK with *json NULL when Medirecords has none (out: failed). */
static int read_appointment(pms_session *s, const char *id, json_t **json, pms_write_result *out,
                            pms_error *err)
{
    *json = NULL;
    char *url = appointment_url(s, id, err);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_NOMEM;
    pms_error e = {0};
    int rc = pms_session_get_json(s, NULL, url, json, &e);
    free(url);
    if (rc != PMS_OK && e.http_status == 404)
        return pms_write_failed(out, "That appointment could not be found in the practice's "
                                     "system.");
    if (rc != PMS_OK && err)
        *err = e;
    if (rc == PMS_OK && !json_is_object(*json)) {
        json_decref(*json);
        *json = NULL;
        return pms_error_set(err, PMS_ERR_PARSE,
                             "Medirecords sent an appointment that is not "
                             "an object");
    }
    return rc;
}

/* Whether the appointment can still change; out: failed when not. */
static bool changeable(const json_t *appt, pms_write_result *out, const char *doing)
{
    long status = (long)json_integer_value(json_object_get(appt, "appointmentStatus"));
    if (status == STATUS_CANCELLED) {
        pms_write_failed(out, "That appointment has already been cancelled, so it can't be %s.",
                         doing);
        return false;
    }
    if (status == STATUS_COMPLETED || status == STATUS_AT_BILLING) {
        pms_write_failed(out, "That appointment has already taken place, so it can't be %s.",
                         doing);
        return false;
    }
    return true;
}

/* PUT of the whole (changed) appointment. */
static int replace(pms_session *s, const char *id, const json_t *appt, pms_write_result *out,
                   const char *what, pms_error *err)
{
    char *url = appointment_url(s, id, err);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_NOMEM;
    pms_write_answer a;
    int rc = pms_write_send(s, "PUT", url, appt, NULL, &a, err);
    free(url);
    if (rc != PMS_OK)
        return rc;
    rc = pms_write_ok(&a) ? pms_write_confirmed(out, id, err) : refused(out, &a, what);
    pms_write_answer_clear(&a);
    return rc;
}

int pms_medirecords_reschedule(pms_session *s, const char *id, pms_instant new_start,
                               int duration_minutes, pms_write_result *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *appt = NULL;
    int rc = read_appointment(s, id, &appt, out, err);
    if (rc != PMS_OK || appt == NULL)
        return rc;
    if (!changeable(appt, out, "moved"))
        goto out;
    if (duration_minutes > 0) {
        long code = interval_code(s, duration_minutes);
        if (code < 0) {
            rc = pms_write_failed(out,
                                  "The practice's system cannot book an appointment of %d "
                                  "minutes.",
                                  duration_minutes);
            goto out;
        }
        json_object_set_new(appt, "appointmentIntervalCode", json_integer(code));
    }
    char when[PMS_TIME_BUFLEN];
    schedule_time(s, new_start, when);
    json_object_set_new(appt, "scheduleTime", json_string(when));
    rc = replace(s, id, appt, out, "that change", err);
out:
    json_decref(appt);
    return rc;
}

int pms_medirecords_cancel(pms_session *s, const char *id, const char *reason,
                           pms_write_result *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *appt = NULL;
    int rc = read_appointment(s, id, &appt, out, err);
    if (rc != PMS_OK || appt == NULL)
        return rc;
    if (!changeable(appt, out, "cancelled"))
        goto out;
    const char *method = pms_session_setting(s, "cancel_method");
    if (method && strcmp(method, "delete") == 0) {
        char *url = appointment_url(s, id, err);
        pms_write_answer a;
        rc = url ? pms_write_send(s, "DELETE", url, NULL, NULL, &a, err) : PMS_ERR_NOMEM;
        free(url);
        if (rc == PMS_OK) {
            rc = pms_write_ok(&a) ? pms_write_confirmed(out, id, err)
                                  : refused(out, &a, "that cancellation");
            pms_write_answer_clear(&a);
        }
        goto out;
    }
    const char *why = reason && reason[0] ? reason : pms_session_setting(s, "cancel_reason");
    json_object_set_new(appt, "appointmentStatus", json_integer(STATUS_CANCELLED));
    json_object_set_new(appt, "cancellationReason",
                        json_string(why ? why : "Cancelled at the patient's request"));
    rc = replace(s, id, appt, out, "that cancellation", err);
out:
    json_decref(appt);
    return rc;
}

int pms_medirecords_get_appointment(pms_session *s, const char *id, pms_appointment *out,
                                    pms_error *err)
{
    pms_write_result missing = {0};
    json_t *appt = NULL;
    int rc = read_appointment(s, id, &appt, &missing, err);
    if (rc != PMS_OK)
        return rc;
    if (appt == NULL)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "Medirecords has no such appointment");
    pms_medirecords_load_interval_codes(s);
    json_t *patients = json_object();
    const char *patient_id = json_string_value(json_object_get(appt, "patientId"));
    json_t *patient = patient_id ? pms_medirecords_patient_cached(s, NULL, patient_id, NULL) : NULL;
    if (patient)
        json_object_set_new(patients, patient_id, patient);
    int prc;
    const json_t *providers = pms_medirecords_providers(s, NULL, &prc);
    medirecords_map_context ctx =
        pms_medirecords_map_context_of(s, prc == PMS_OK ? providers : NULL);
    ctx.patients = patients;
    pms_error e = {0};
    if (pms_medirecords_map_appointment(appt, &ctx, out, NULL, &e) != MEDIRECORDS_MAPPED)
        rc = pms_error_set(err, e.code == PMS_ERR_NOMEM ? PMS_ERR_NOMEM : PMS_ERR_PARSE,
                           "Medirecords' appointment could not be read: %s", e.message);
    json_decref(patients);
    json_decref(appt);
    return rc;
}

/* ---- patients ------------------------------------------------------------------------- */

int pms_medirecords_search_patients(pms_session *s, const pms_patient_query *q,
                                    pms_patient_list *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *body = json_object();
    if (body == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (q->family_name)
        json_object_set_new(body, "lastName", json_string(q->family_name));
    if (q->given_name)
        json_object_set_new(body, "firstName", json_string(q->given_name));
    if (q->email)
        json_object_set_new(body, "email", json_string(q->email));
    if (q->phone)
        json_object_set_new(body, "mobilePhone", json_string(q->phone));
    if (q->has_date_of_birth) {
        char dob[PMS_TIME_BUFLEN];
        pms_date_format(q->date_of_birth, dob);
        json_object_set_new(body, "dob", json_string(dob));
    }
    const char *path = pms_session_setting(s, "patient_search_path");
    char *url = pms_session_url(s, path ? path : "/v1/patients/search");
    pms_write_answer a;
    int rc = url ? pms_write_send(s, "POST", url, body, NULL, &a, err)
                 : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(url);
    json_decref(body);
    if (rc != PMS_OK)
        return rc;
    if (!pms_write_ok(&a)) {
        rc = a.status == 404
                 ? PMS_OK /* none found */
                 : pms_error_set(err, PMS_ERR_INVALID,
                                 "Medirecords refused the patient search (HTTP %ld)", a.status);
        pms_write_answer_clear(&a);
        return rc;
    }
    const json_t *items = pms_medirecords_items(a.json);
    pms_phone_region region = pms_phone_region_for_timezone(pms_session_tz_name(s));
    size_t i;
    json_t *item;
    if (json_array_size(items) > 0 &&
        (out->items = calloc(json_array_size(items), sizeof *out->items)) == NULL)
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    json_array_foreach(items, i, item)
    {
        if (rc != PMS_OK)
            break;
        if (pms_medirecords_map_patient(item, region, &out->items[out->count], NULL) == PMS_OK)
            out->count++;
    }
    pms_write_answer_clear(&a);
    if (rc != PMS_OK)
        pms_patient_list_clear(out);
    return rc;
}

int pms_medirecords_create_patient(pms_session *s, const pms_patient *p, char **new_id,
                                   pms_error *err)
{
    *new_id = NULL;
    if (p->first_name == NULL || p->last_name == NULL || !p->has_date_of_birth)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "Medirecords needs a first name, a last name and a date of birth");
    char dob[PMS_TIME_BUFLEN];
    pms_date_format(p->date_of_birth, dob);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:b}", "firstName", p->first_name, "lastName",
                  p->last_name, "dob", dob, "email", p->email, "mobilePhone", p->phone,
                  "defaultPracticeId", pms_session_setting(s, "practice_id"), "oneNameOnly", 0);
    pms_write_answer a;
    int rc = pms_write_send_owned(s, "POST", pms_session_url(s, "/v1/patients"), body, &a, err);
    if (rc != PMS_OK)
        return rc;
    rc = pms_write_created_id(&a, "Medirecords", "the new patient", new_id, err);
    pms_write_answer_clear(&a);
    return rc;
}
