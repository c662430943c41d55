/* Sikka writebacks: book (POST /appointment), reschedule (PUT /appointments/{sr_no}) and
 * cancel (PATCH /appointments/{sr_no}, a status change) answer pending with the writeback id
 * from long_message ("Id:275495"); write_status follows it (GET /writeback_status?id=). Free
 * slots come from appointments_available_slots where the PMS offers it (OrthoTrac, Dolphin),
 * else from the practice schedule minus booked appointments. Every value sent is a string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/sikka/sikka.h"
#include "adapters/write.h"

static const char *practice_id(pms_session *s)
{
    const char *p = pms_session_setting(s, "practice_id");
    return p ? p : "1";
}

static void local_parts(pms_session *s, pms_instant t, char date[16], char time[8])
{
    pms_civil c;
    pms_tz_to_local(pms_session_tz(s), t, &c);
    snprintf(date, 16, "%04d-%02d-%02d", c.year, c.month, c.day);
    snprintf(time, 8, "%02d:%02d", c.hour, c.minute);
}

/* The writeback id in long_message ("Id:275495"), as a pending result. */
static int pending_from(const json_t *answer, pms_write_result *out, pms_error *err)
{
    const char *message = json_string_value(json_object_get(answer, "long_message"));
    const char *digits = message ? strpbrk(message, "0123456789") : NULL;
    if (digits == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "Sikka's answer carries no writeback id");
    size_t n = strspn(digits, "0123456789");
    out->state = PMS_WRITE_PENDING;
    out->tracking_id = strndup(digits, n);
    return out->tracking_id ? PMS_OK : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}

/* Sends a write; SPU offline becomes a failed result a person can hear. */
static int send_write(pms_session *s, const char *method, const char *path, json_t *body,
                      pms_write_result *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    json_object_set_new(body, "check_spu", json_string("true"));
    char *url = pms_sikka_url(s, path, NULL);
    json_t *answer = NULL;
    pms_error e = {0};
    int rc = url ? pms_sikka_send(s, method, url, body, &answer, &e)
                 : pms_error_set(&e, PMS_ERR_NOMEM, "out of memory");
    free(url);
    json_decref(body);
    if (rc == PMS_OK)
        rc = pending_from(answer, out, &e);
    json_decref(answer);
    /* SPU offline: the write was not sent (an error a retry may get past), with the sentence
     * for a person as the reason. No such appointment: the write was answered, and failed. */
    if (rc != PMS_OK && e.http_status == 412) {
        out->state = PMS_WRITE_FAILED;
        snprintf(out->reason, sizeof out->reason,
                 "The practice's Sikka server (SPU) is offline; try again when it is back.");
    }
    if (rc != PMS_OK && e.http_status == 404)
        return pms_write_failed(out, "That appointment could not be found in the practice's "
                                     "system.");
    if (rc != PMS_OK && err)
        *err = e;
    return rc;
}

int pms_sikka_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                   pms_error *err)
{
    char date[16], time[8], length[16];
    local_parts(s, req->start, date, time);
    snprintf(length, sizeof length, "%d", req->duration_minutes);
    const char *operatory = pms_session_setting(s, "default_operatory");
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "patient_id",
        req->patient_id ? req->patient_id : "", "date", date, "time", time, "length", length,
        "description", req->appointment_type_id ? req->appointment_type_id : "Appointment",
        "provider_id", req->practitioner_id ? req->practitioner_id : "", "operatory",
        operatory ? operatory : "OP1", "practice_id", practice_id(s));
    if (body == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (req->appointment_type_id)
        json_object_set_new(body, "type", json_string(req->appointment_type_id));
    if (req->notes)
        json_object_set_new(body, "note", json_string(req->notes));
    return send_write(s, "POST", "/appointment", body, out, err);
}

static char *appointment_path(const char *id)
{
    char *encoded = pms_url_encode(id), *path = NULL;
    if (encoded == NULL || asprintf(&path, "/appointments/%s", encoded) < 0)
        path = NULL;
    free(encoded);
    return path;
}

int pms_sikka_reschedule(pms_session *s, const char *id, pms_instant start, int minutes,
                         pms_write_result *out, pms_error *err)
{
    pms_appointment current;
    int rc = pms_sikka_get_appointment(s, id, &current, err);
    if (rc != PMS_OK)
        return rc;
    char date[16], time[8], length[16];
    local_parts(s, start, date, time);
    snprintf(length, sizeof length, "%d", minutes > 0 ? minutes : current.duration_minutes);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "practice_id", practice_id(s),
                             "provider_id", current.practitioner.pms_practitioner_id, "date", date,
                             "time", time, "length", length);
    pms_appointment_clear(&current);
    char *path = appointment_path(id);
    if (body == NULL || path == NULL) {
        json_decref(body);
        free(path);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    rc = send_write(s, "PUT", path, body, out, err);
    free(path);
    return rc;
}

int pms_sikka_cancel(pms_session *s, const char *id, const char *reason, pms_write_result *out,
                     pms_error *err)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "op", "replace", "path",
                             pms_session_setting(s, "cancel_path"), "value",
                             pms_session_setting(s, "cancelled_status"), "practice_id",
                             practice_id(s), "appointment_sr_no", id);
    char *path = appointment_path(id);
    if (body == NULL || path == NULL) {
        json_decref(body);
        free(path);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    if (reason)
        json_object_set_new(body, "cancellation_note", json_string(reason));
    int rc = send_write(s, "PATCH", path, body, out, err);
    free(path);
    return rc;
}

int pms_sikka_write_status(pms_session *s, const char *tracking_id, pms_write_result *out,
                           pms_error *err)
{
    memset(out, 0, sizeof *out);
    char *encoded = pms_url_encode(tracking_id), *q = NULL, *url = NULL;
    if (encoded && asprintf(&q, "id=%s", encoded) >= 0)
        url = pms_sikka_url(s, "/writeback_status", q);
    free(encoded);
    free(q);
    json_t *page = NULL;
    int rc = url ? pms_sikka_get(s, NULL, url, &page, err)
                 : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(url);
    if (rc != PMS_OK)
        return rc;
    const json_t *item = json_object_get(page, "items");
    item = json_is_array(item) ? json_array_get(item, 0) : page;
    const char *completed = json_string_value(json_object_get(item, "is_completed"));
    const char *has_error = json_string_value(json_object_get(item, "has_error"));
    const char *result = json_string_value(json_object_get(item, "result"));
    const char *created = json_string_value(json_object_get(item, "created_id"));
    out->tracking_id = strdup(tracking_id);
    if (completed == NULL || strcasecmp(completed, "True") != 0) {
        out->state = PMS_WRITE_PENDING;
    } else if (has_error && strcasecmp(has_error, "True") == 0) {
        out->state = PMS_WRITE_FAILED;
        snprintf(out->reason, sizeof out->reason,
                 "The practice's system did not accept the "
                 "change: %.180s",
                 result && result[0] ? result : "no reason given");
    } else {
        out->state = PMS_WRITE_CONFIRMED;
        const char *sr_no = created && created[0]
                                ? created
                                : json_string_value(json_object_get(item, "appointment_sr_no"));
        out->pms_appointment_id = pms_strdup_or_null(sr_no && sr_no[0] ? sr_no : NULL);
    }
    json_decref(page);
    return PMS_OK;
}

/* ---- availability ------------------------------------------------------------------ */

typedef struct run {
    char provider[64];
    pms_instant start, end;
} run;

/* Free runs from slots (date + time .. end_time) or the schedule (start_time .. end_time). */
static int read_runs(pms_session *s, const pms_slot_query *q, bool slots, run **runs, size_t *count,
                     pms_error *err)
{
    char from[16], to[16], t1[8], t2[8], *more = NULL, *query = NULL;
    local_parts(s, q->from, from, t1);
    local_parts(s, q->to, to, t2);
    char *encoded = pms_url_encode(practice_id(s));
    if (encoded == NULL || asprintf(&query, "practice_id=%s&startdate=%s&enddate=%s%s%s", encoded,
                                    from, to, q->practitioner_id ? "&provider_id=" : "",
                                    q->practitioner_id ? q->practitioner_id : "") < 0)
        query = NULL;
    free(encoded);
    free(more);
    if (query == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    json_t *items = NULL;
    int rc = pms_sikka_get_all(
        s, NULL, slots ? "/appointments_available_slots" : pms_session_setting(s, "schedule_path"),
        query, 0, &items, err);
    free(query);
    *runs = calloc(json_array_size(items) + 1, sizeof **runs);
    *count = 0;
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (rc != PMS_OK || *runs == NULL)
            break;
        const char *date = json_string_value(json_object_get(item, "date"));
        const char *start = json_string_value(json_object_get(item, slots ? "time" : "start_time"));
        const char *end = json_string_value(json_object_get(item, "end_time"));
        const char *provider = json_string_value(json_object_get(item, "provider_id"));
        pms_civil a, b;
        if (!provider || !pms_sikka_local_time(date, start, &a) ||
            !pms_sikka_local_time(date, end, &b))
            continue;
        run *r = &(*runs)[(*count)++];
        snprintf(r->provider, sizeof r->provider, "%s", provider);
        r->start = pms_tz_from_local(pms_session_tz(s), &a, NULL);
        r->end = pms_tz_from_local(pms_session_tz(s), &b, NULL);
    }
    json_decref(items);
    if (rc == PMS_OK && *runs == NULL)
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return rc;
}

/* Removes the booked (not cancelled) appointments of the window from schedule runs. */
static int subtract_booked(pms_session *s, const pms_slot_query *q, run **runs, size_t *count,
                           pms_error *err)
{
    char from[16], to[16], t[8], *query = NULL;
    local_parts(s, q->from, from, t);
    local_parts(s, q->to, to, t);
    char *encoded = pms_url_encode(practice_id(s));
    if (encoded == NULL ||
        asprintf(&query, "practice_id=%s&startdate=%s&enddate=%s", encoded, from, to) < 0)
        query = NULL;
    free(encoded);
    if (query == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    json_t *items = NULL;
    int rc = pms_sikka_get_all(s, NULL, "/appointments", query, 0, &items, err);
    free(query);
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        pms_appt_status status;
        pms_sikka_status(json_string_value(json_object_get(item, "status")), &status);
        pms_civil c;
        long minutes;
        const char *provider = json_string_value(json_object_get(item, "provider_id"));
        if (rc != PMS_OK || status == PMS_STATUS_CANCELLED || !provider ||
            !pms_sikka_local_time(json_string_value(json_object_get(item, "date")),
                                  json_string_value(json_object_get(item, "time")), &c) ||
            !pms_sikka_number(json_object_get(item, "length"), &minutes))
            continue;
        pms_instant a = pms_tz_from_local(pms_session_tz(s), &c, NULL);
        pms_instant b = a + (pms_instant)minutes * 60000;
        size_t n = *count;
        for (size_t k = 0; k < n; k++) {
            run *r = &(*runs)[k];
            if (strcmp(r->provider, provider) != 0 || b <= r->start || a >= r->end)
                continue;
            if (a > r->start && b < r->end) { /* split in two */
                run *grown = realloc(*runs, (*count + 1) * sizeof *grown);
                if (grown == NULL) {
                    rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
                    break;
                }
                *runs = grown;
                r = &(*runs)[k];
                (*runs)[*count] = *r;
                (*runs)[*count].start = b;
                (*count)++;
                r->end = a;
            } else if (a <= r->start) {
                r->start = b < r->end ? b : r->end;
            } else {
                r->end = a;
            }
        }
    }
    json_decref(items);
    return rc;
}

int pms_sikka_find_slots(pms_session *s, const pms_slot_query *q, pms_slot_list *out,
                         pms_error *err)
{
    memset(out, 0, sizeof *out);
    const char *source = pms_session_setting(s, "availability_source");
    bool slots;
    if (source && strcmp(source, "slots") == 0) {
        slots = true;
    } else if (source && strcmp(source, "schedule") == 0) {
        slots = false;
    } else {
        const json_t *p = pms_sikka_practice(s, err);
        if (p == NULL)
            return err ? (int)err->code : PMS_ERR_AUTH;
        const char *pms = json_string_value(json_object_get(p, "practice_management_system"));
        slots = pms && (strcasestr(pms, "orthotrac") || strcasestr(pms, "dolphin"));
    }
    run *runs = NULL;
    size_t count = 0;
    int rc = read_runs(s, q, slots, &runs, &count, err);
    if (rc == PMS_OK && !slots)
        rc = subtract_booked(s, q, &runs, &count, err);
    pms_instant length = (pms_instant)(q->duration_minutes > 0 ? q->duration_minutes : 30) * 60000;
    for (size_t i = 0; rc == PMS_OK && i < count; i++) {
        /* Candidates on 15-minute steps inside each run and the query's window. */
        for (pms_instant t = runs[i].start; t + length <= runs[i].end; t += 15 * 60000) {
            if (t < q->from || t + length > q->to)
                continue;
            pms_slot *grown = realloc(out->items, (out->count + 1) * sizeof *grown);
            if (grown == NULL) {
                rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
                break;
            }
            out->items = grown;
            pms_slot *slot = &out->items[out->count++];
            slot->practitioner_id = strdup(runs[i].provider);
            slot->start = t;
            slot->end = t + length;
        }
    }
    free(runs);
    if (rc != PMS_OK)
        pms_slot_list_clear(out);
    return rc;
}
