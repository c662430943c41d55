/* /api/pms/appointments and /api/pms/patients: the unified PMS API's routes. Each reads and
 * validates its query or body (a 400 naming the failing field) and runs the operation
 * (pms_ops.h). Writes need an Idempotency-Key header. */
#include <stdlib.h>
#include <string.h>

#include "server/pms_ops.h"

static const char *const book_keys[] = {
    "connectionId", "patientId",       "practitionerId", "appointmentTypeId",
    "startTime",    "durationMinutes", "notes",          NULL};
static const char *const move_keys[] = {"startTime", "durationMinutes", NULL};
static const char *const cancel_keys[] = {"reason", NULL};
static const char *const patient_keys[] = {"connectionId", "givenName",   "familyName", "phone",
                                           "email",        "dateOfBirth", NULL};
static const char *const connection_only[] = {"connectionId", "text", "amount", NULL};

static bool q_minutes(const pmsd_request *req, pmsd_response *resp, bool required, int *out)
{
    const char *v = pmsd_query(req, "durationMinutes");
    if (v == NULL) {
        if (required)
            return pmsd_v_fail(resp, NULL, "durationMinutes", "is required");
        return true;
    }
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < 5 || n > 480)
        return pmsd_v_fail(resp, NULL, "durationMinutes", "must be a whole number from 5 to 480");
    *out = (int)n;
    return true;
}

void pmsd_h_pms_availability(pmsd_request *req, pmsd_response *resp)
{
    pmsd_slot_args a = {0};
    a.connection_id = pmsd_query(req, "connectionId");
    a.practitioner_id = pmsd_query(req, "practitionerId");
    a.appointment_type_id = pmsd_query(req, "appointmentTypeId");
    if (a.connection_id == NULL)
        return (void)pmsd_v_fail(resp, NULL, "connectionId", "is required");
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL || !q_minutes(req, resp, true, &a.duration_minutes) ||
        !pmsd_slot_window(req, resp, st, a.connection_id, pmsd_query(req, "date"),
                          pmsd_query(req, "from"), pmsd_query(req, "to"), &a))
        return;
    pmsd_op_availability(req, resp, &a);
}

bool pmsd_read_book(const json_t *body, pmsd_book_args *a, pmsd_response *resp)
{
    long minutes = 0;
    bool present = false;
    memset(a, 0, sizeof *a);
    if (!pmsd_v_known_keys(body, book_keys, NULL, resp) ||
        !pmsd_v_string(body, "connectionId", NULL, true, 64, &a->connection_id, resp) ||
        !pmsd_v_string(body, "patientId", NULL, true, 128, &a->patient_id, resp) ||
        !pmsd_v_string(body, "practitionerId", NULL, true, 128, &a->practitioner_id, resp) ||
        !pmsd_v_string(body, "appointmentTypeId", NULL, false, 128, &a->appointment_type_id,
                       resp) ||
        !pmsd_v_instant(body, "startTime", NULL, true, &a->start, &present, resp) ||
        !pmsd_v_int(body, "durationMinutes", NULL, true, 5, 480, &minutes, &present, resp) ||
        !pmsd_v_string(body, "notes", NULL, false, 2000, &a->notes, resp))
        return false;
    a->duration_minutes = (int)minutes;
    return true;
}

void pmsd_h_pms_book(pmsd_request *req, pmsd_response *resp)
{
    json_t *body = pmsd_json_body(req, resp);
    pmsd_book_args a;
    if (body && pmsd_read_book(body, &a, resp))
        pmsd_op_book(req, resp, &a, pmsd_idempotency_key(req));
    json_decref(body);
}

bool pmsd_read_move(const json_t *body, pms_instant *start, int *duration_minutes,
                    pmsd_response *resp)
{
    long minutes = 0;
    bool present = false;
    *start = PMS_INSTANT_NONE;
    *duration_minutes = 0;
    if (!pmsd_v_known_keys(body, move_keys, NULL, resp) ||
        !pmsd_v_instant(body, "startTime", NULL, true, start, &present, resp) ||
        !pmsd_v_int(body, "durationMinutes", NULL, false, 5, 480, &minutes, &present, resp))
        return false;
    *duration_minutes = present ? (int)minutes : 0;
    return true;
}

void pmsd_h_pms_reschedule(pmsd_request *req, pmsd_response *resp)
{
    json_t *body = pmsd_json_body(req, resp);
    pms_instant start;
    int minutes;
    if (body && pmsd_read_move(body, &start, &minutes, resp))
        pmsd_op_reschedule(req, resp, pmsd_param(req, 0), start, minutes,
                           pmsd_idempotency_key(req));
    json_decref(body);
}

bool pmsd_read_cancel(const json_t *body, const char **reason, pmsd_response *resp)
{
    return pmsd_v_known_keys(body, cancel_keys, NULL, resp) &&
           pmsd_v_string(body, "reason", NULL, false, 500, reason, resp);
}

void pmsd_h_pms_cancel(pmsd_request *req, pmsd_response *resp)
{
    json_t *body = NULL;
    const char *reason = pmsd_query(req, "reason");
    if (req->body && req->body_len > 0) {
        if ((body = pmsd_json_body(req, resp)) == NULL || !pmsd_read_cancel(body, &reason, resp)) {
            json_decref(body);
            return;
        }
    }
    pmsd_op_cancel(req, resp, pmsd_param(req, 0), reason, pmsd_idempotency_key(req));
    json_decref(body);
}

void pmsd_h_pms_patient_search(pmsd_request *req, pmsd_response *resp)
{
    pms_patient_query q = {0};
    q.family_name = pmsd_query(req, "familyName");
    q.given_name = pmsd_query(req, "givenName");
    q.phone = pmsd_query(req, "phone");
    q.email = pmsd_query(req, "email");
    bool present = false;
    if (!pmsd_q_date(req, "dateOfBirth", &q.date_of_birth, &present, resp))
        return;
    q.has_date_of_birth = present;
    if (!q.family_name && !q.given_name && !q.phone && !q.email && !present)
        return (void)pmsd_v_fail(resp, NULL, "familyName",
                                 "give at least one of familyName, givenName, phone, email, "
                                 "dateOfBirth");
    pmsd_op_patient_search(req, resp, pmsd_query(req, "connectionId"), &q);
}

void pmsd_h_pms_patient_get(pmsd_request *req, pmsd_response *resp)
{
    pmsd_op_patient_get(req, resp, pmsd_query(req, "connectionId"), pmsd_param(req, 0));
}

bool pmsd_read_patient(const json_t *body, const char **connection_id, pms_patient *p,
                       pmsd_response *resp)
{
    const char *given = NULL, *family = NULL, *phone = NULL, *email = NULL;
    bool present = false;
    memset(p, 0, sizeof *p);
    *connection_id = NULL;
    if (!pmsd_v_known_keys(body, patient_keys, NULL, resp) ||
        !pmsd_v_string(body, "connectionId", NULL, true, 64, connection_id, resp) ||
        !pmsd_v_string(body, "givenName", NULL, true, 100, &given, resp) ||
        !pmsd_v_string(body, "familyName", NULL, true, 100, &family, resp) ||
        !pmsd_v_string(body, "phone", NULL, false, 40, &phone, resp) ||
        !pmsd_v_string(body, "email", NULL, false, 254, &email, resp) ||
        !pmsd_v_date(body, "dateOfBirth", NULL, false, &p->date_of_birth, &present, resp))
        return false;
    p->first_name = (char *)given;
    p->last_name = (char *)family;
    p->phone = (char *)phone;
    p->email = (char *)email;
    p->has_date_of_birth = present;
    return true;
}

void pmsd_h_pms_patient_create(pmsd_request *req, pmsd_response *resp)
{
    json_t *body = pmsd_json_body(req, resp);
    const char *connection_id;
    pms_patient p;
    if (body && pmsd_read_patient(body, &connection_id, &p, resp))
        pmsd_op_patient_create(req, resp, connection_id, &p, pmsd_idempotency_key(req));
    json_decref(body);
}

bool pmsd_read_connection_only(const json_t *body, const char **connection_id, pmsd_response *resp)
{
    return pmsd_v_known_keys(body, connection_only, NULL, resp) &&
           pmsd_v_string(body, "connectionId", NULL, true, 64, connection_id, resp);
}

/* Notes, insurance, balance, payments: checked, then 501 while no PMS adapter offers them. */
static void not_offered(pmsd_request *req, pmsd_response *resp, const char *what, bool is_write)
{
    const char *connection_id = pmsd_query(req, "connectionId");
    json_t *body = NULL;
    if (is_write) {
        if ((body = pmsd_json_body(req, resp)) == NULL ||
            !pmsd_read_connection_only(body, &connection_id, resp)) {
            json_decref(body);
            return;
        }
    }
    pmsd_op_not_offered(req, resp, connection_id, what, is_write, pmsd_idempotency_key(req));
    json_decref(body);
}

void pmsd_h_pms_notes_get(pmsd_request *req, pmsd_response *resp)
{
    not_offered(req, resp, "patient notes", false);
}
void pmsd_h_pms_notes_post(pmsd_request *req, pmsd_response *resp)
{
    not_offered(req, resp, "patient notes", true);
}
void pmsd_h_pms_insurance(pmsd_request *req, pmsd_response *resp)
{
    not_offered(req, resp, "insurance details", false);
}
void pmsd_h_pms_balance(pmsd_request *req, pmsd_response *resp)
{
    not_offered(req, resp, "account balances", false);
}
void pmsd_h_pms_payments(pmsd_request *req, pmsd_response *resp)
{
    not_offered(req, resp, "payments", true);
}
