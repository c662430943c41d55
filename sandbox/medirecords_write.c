/* The Medirecords write endpoints (declared in medirecords.h): appointments created with POST,
 * replaced whole with PUT, removed with DELETE; patients created and searched. Changes apply to
 * the live dataset, so the next read and the ground truth show them.
 *
 * A provider's time is taken by any appointment of theirs that is not cancelled; a booking or a
 * move onto it is refused with 409 unless allowDoubleBookingForProvider is true (the create
 * body's flag, pms-api-notes §3.5). The error shape is Medirecords' undocumented one: the
 * {"message"} the rest of the simulator answers with [guess]. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "medirecords.h"
#include "medirecords_json.h"

/* The fields a create or a full replace carries. */
typedef struct mr_body {
    int provider, patient, type, status, code;
    pms_civil local;
    const char *notes, *reason;
    bool double_book;
} mr_body;

static const char *string_field(const json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

/* Reads a create or replace body; false after answering 400. */
static bool read_body(const mr_practice *p, const json_t *body, mr_body *out, sbx_response *resp)
{
    memset(out, 0, sizeof(*out));
    const char *patient_id = string_field(body, "patientId");
    const char *type_id = string_field(body, "appointmentTypeId");
    const char *provider_id = string_field(body, "providerId");
    const char *when = string_field(body, "scheduleTime");
    const json_t *status = json_object_get(body, "appointmentStatus");
    const json_t *code = json_object_get(body, "appointmentIntervalCode");
    const mr_patient *pt = patient_id ? mr_find_patient(p, patient_id) : NULL;
    if (pt == NULL) {
        sbx_respond_message(resp, 400,
                            "patientId is required and must be a patient of the "
                            "practice");
        return false;
    }
    out->patient = (int)(pt - p->patients);
    if (type_id == NULL || (out->type = mr_find_type(p, type_id)) < 0) {
        sbx_respond_message(resp, 400,
                            "appointmentTypeId is required and must be a type of the "
                            "practice");
        return false;
    }
    if (provider_id == NULL || (out->provider = mr_find_provider(p, provider_id)) < 0) {
        sbx_respond_message(resp, 400, "providerId must be a provider of the practice");
        return false;
    }
    if (when == NULL || strlen(when) != 16 || when[10] != 'T' ||
        pms_iso8601_parse_local(when, &out->local, NULL) != PMS_OK) {
        sbx_respond_message(resp, 400, "scheduleTime must be local time \"YYYY-MM-DDThh:mm\"");
        return false;
    }
    if (!json_is_integer(status) || !mr_status_valid((int)json_integer_value(status))) {
        sbx_respond_message(resp, 400, "appointmentStatus must be a status code (2 to 8)");
        return false;
    }
    out->status = (int)json_integer_value(status);
    if (!json_is_integer(code) || mr_interval_minutes((int)json_integer_value(code)) < 0) {
        sbx_respond_message(resp, 400, "appointmentIntervalCode must be an interval code");
        return false;
    }
    out->code = (int)json_integer_value(code);
    out->notes = string_field(body, "notes");
    out->reason = string_field(body, "cancellationReason");
    if (out->status == MR_STATUS_CANCELLED && (out->reason == NULL || out->reason[0] == '\0')) {
        sbx_respond_message(resp, 400, "A cancellation reason is required");
        return false;
    }
    out->double_book = json_is_true(json_object_get(body, "allowDoubleBookingForProvider"));
    return true;
}

/* Whether another appointment of the provider, not cancelled, overlaps [local, +minutes). */
static bool provider_busy(const mr_practice *p, int provider, const pms_civil *local, int minutes,
                          const mr_appt *except)
{
    int64_t start = mr_local_key(local), end = start + (int64_t)minutes * 60;
    size_t from = sbx_book_seek(&p->book, start - 24 * 3600, NULL);
    for (size_t i = from; i < p->book.count && p->book.entries[i].key < end; i++) {
        const mr_appt *a = p->book.entries[i].item;
        if (a == except || a->provider != provider || a->status == MR_STATUS_CANCELLED)
            continue;
        int64_t a_end = p->book.entries[i].key + (int64_t)mr_appt_minutes(p, a) * 60;
        if (a_end > start)
            return true;
    }
    return false;
}

static bool refuse_double_booking(const mr_practice *p, const mr_body *b, const mr_appt *except,
                                  sbx_response *resp)
{
    if (b->double_book || b->status == MR_STATUS_CANCELLED)
        return false;
    if (!provider_busy(p, b->provider, &b->local, mr_interval_minutes(b->code), except))
        return false;
    sbx_respond_message(resp, 409,
                        "The provider already has an appointment at this time. Set "
                        "allowDoubleBookingForProvider to book it anyway.");
    return true;
}

/* Copies a body into an appointment that is not in the book. */
static bool apply_body(mr_appt *a, const mr_body *b)
{
    a->provider = b->provider;
    a->patient = b->patient;
    a->type = b->type;
    a->local = b->local;
    a->local.second = 0;
    a->local.millis = 0;
    a->status = b->status;
    a->interval_code = b->code;
    a->updated = pms_now();
    a->updated_by = 0;
    return sbx_set_string(&a->notes, b->notes) &&
           sbx_set_string(&a->cancellation_reason,
                          b->status == MR_STATUS_CANCELLED ? b->reason : NULL);
}

void mr_write_create_appt(const sbx_request *req, mr_world *w, mr_practice *p, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    mr_body b;
    mr_appt *a = NULL;
    pms_error err;
    if (!read_body(p, body, &b, resp) || refuse_double_booking(p, &b, NULL, resp))
        goto out;
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    sbx_prng_uuid(&w->mutation_prng, a->id);
    a->room = -1;
    a->urgency = 1;
    a->reminder_method = 1;
    a->reminder_type = 1;
    a->links = p->types[b.type].telehealth;
    if (!apply_body(a, &b) || mr_appt_insert(p, a, &err) != PMS_OK) {
        mr_appt_free(a);
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    a->created = a->updated;
    sbx_respond_json(resp, 201, mr_appt_json(p, a));
out:
    json_decref(body);
}

void mr_write_replace_appt(const sbx_request *req, mr_practice *p, mr_appt *a, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    mr_body b;
    pms_error err;
    if (!read_body(p, body, &b, resp) || refuse_double_booking(p, &b, a, resp))
        goto out;
    mr_appt_unlink(p, a);
    bool ok = apply_body(a, &b);
    if (mr_appt_insert(p, a, &err) != PMS_OK) {
        mr_appt_free(a);
        ok = false;
    }
    if (ok)
        sbx_respond_json(resp, 200, mr_appt_json(p, a));
    else
        sbx_respond_message(resp, 500, "Out of memory");
out:
    json_decref(body);
}

void mr_write_delete_appt(mr_practice *p, mr_appt *a, sbx_response *resp)
{
    mr_appt_unlink(p, a);
    sbx_respond_json(resp, 200,
                     json_pack("{s:s, s:s}", "id", a->id, "message", "Appointment deleted"));
    mr_appt_free(a);
}

/* ---- patients ----------------------------------------------------------------------------- */

static bool same_digits(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    for (;;) {
        while (*a && !isdigit((unsigned char)*a))
            a++;
        while (*b && !isdigit((unsigned char)*b))
            b++;
        if (*a != *b)
            return false;
        if (*a == '\0')
            return true;
        a++;
        b++;
    }
}

static bool matches(const mr_patient *pt, const json_t *q)
{
    const char *first = string_field(q, "firstName"), *last = string_field(q, "lastName");
    const char *email = string_field(q, "email"), *mobile = string_field(q, "mobilePhone");
    const char *dob = string_field(q, "dob");
    if (last && strcasecmp(last, pt->last) != 0)
        return false;
    if (first && strncasecmp(first, pt->first, strlen(first)) != 0)
        return false;
    if (email && (pt->email == NULL || strcasecmp(email, pt->email) != 0))
        return false;
    if (mobile && !same_digits(mobile, pt->mobile))
        return false;
    if (dob) {
        char have[PMS_TIME_BUFLEN];
        pms_date_format(pt->dob, have);
        if (strncmp(dob, have, 10) != 0)
            return false;
    }
    return true;
}

void mr_write_search_patients(const sbx_request *req, mr_world *w, const mr_practice *only,
                              sbx_response *resp)
{
    json_t *q = sbx_parse_json_object(req, resp);
    if (q == NULL)
        return;
    static const char *const keys[] = {"firstName", "lastName", "email", "mobilePhone", "dob"};
    bool any = false;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        any = any || string_field(q, keys[k]) != NULL;
    if (!any ||
        (string_field(q, "firstName") && !string_field(q, "lastName") && !string_field(q, "dob") &&
         !string_field(q, "email") && !string_field(q, "mobilePhone"))) {
        sbx_respond_message(resp, 400,
                            "Give lastName, dob, email or mobilePhone (firstName only narrows)");
        json_decref(q);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < w->practice_count; i++) {
        const mr_practice *p = &w->practices[i];
        if (only != NULL && only != p)
            continue;
        for (size_t k = 0; k < p->patient_count && json_array_size(data) < 100; k++)
            if (matches(&p->patients[k], q))
                json_array_append_new(data, mr_patient_json(p, &p->patients[k]));
    }
    size_t n = json_array_size(data);
    sbx_respond_json(resp, 200, mr_page_json(data, 0, n > 0 ? n : 20, n));
    json_decref(q);
}

/* Adds a patient to the practice; the id index is rebuilt (the array moves). */
static mr_patient *add_patient(mr_world *w, mr_practice *p)
{
    mr_patient *grown = realloc(p->patients, (p->patient_count + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    p->patients = grown;
    mr_patient *pt = &p->patients[p->patient_count];
    memset(pt, 0, sizeof(*pt));
    sbx_prng_uuid(&w->mutation_prng, pt->id);
    p->patient_count++;
    sbx_strmap_free(&p->patients_by_id);
    sbx_strmap_init(&p->patients_by_id);
    for (size_t i = 0; i < p->patient_count; i++)
        if (!sbx_strmap_put(&p->patients_by_id, p->patients[i].id, &p->patients[i]))
            return NULL;
    return pt;
}

void mr_write_create_patient(const sbx_request *req, mr_world *w, mr_practice *only,
                             sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    const char *practice_id = string_field(body, "defaultPracticeId");
    mr_practice *p = practice_id ? mr_find_practice(w, practice_id) : only;
    const char *first = string_field(body, "firstName"), *last = string_field(body, "lastName");
    const char *dob_text = string_field(body, "dob");
    pms_date dob = {0};
    if (p == NULL || (only != NULL && p != only)) {
        sbx_respond_message(resp, 400, "defaultPracticeId must be the token's practice");
    } else if (first == NULL || last == NULL || first[0] == '\0' || last[0] == '\0') {
        sbx_respond_message(resp, 400, "firstName and lastName are required");
    } else if (dob_text == NULL || pms_date_parse(dob_text, &dob, NULL) != PMS_OK) {
        sbx_respond_message(resp, 400, "dob must be a date \"YYYY-MM-DD\"");
    } else {
        mr_patient *pt = add_patient(w, p);
        const json_t *gender = json_object_get(body, "gender");
        if (pt != NULL) {
            pt->first = strdup(first);
            pt->last = strdup(last);
            pt->dob = dob;
            pt->gender = json_is_integer(gender) ? (int)json_integer_value(gender) : 9;
            pt->usual_provider = -1;
            pt->suburb = p->suburb;
            pt->state = p->region->state;
            pt->postcode = p->postcode;
        }
        if (pt == NULL || pt->first == NULL || pt->last == NULL ||
            !sbx_set_string(&pt->email, string_field(body, "email")) ||
            !sbx_set_string(&pt->mobile, string_field(body, "mobilePhone")) ||
            !sbx_set_string(&pt->home, string_field(body, "homePhone")))
            sbx_respond_message(resp, 500, "Out of memory");
        else
            sbx_respond_json(resp, 201, mr_patient_json(p, pt));
    }
    json_decref(body);
}
