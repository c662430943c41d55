/* Sikka writebacks (declared in sikka.h): POST /appointment, PUT and PATCH
 * /appointments/{sr_no} queue a writeback that the practice's SPU completes after the set
 * delay (or fails: at the set rate, on request, or when the change cannot be made), applied to
 * the dataset then; GET /writeback_status and /writebacks follow them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataset.h"
#include "sikka.h"

static const char *field(const json_t *body, const char *key)
{
    const json_t *v = json_object_get(body, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool spu_check(const json_t *body, sbx_response *resp)
{
    const json_t *check = json_object_get(body, "check_spu");
    bool wanted = json_is_true(check) ||
                  (json_is_string(check) && strcasecmp(json_string_value(check), "true") == 0);
    if (wanted && sk_settings_get()->spu_offline) {
        sk_respond_error(resp, 412, "API2017", "Precondition failed",
                         "Sikka platform utility is offline");
        return false;
    }
    return true;
}

static sk_writeback *queue(sk_world *w, sk_practice *p, const char *method, const char *api,
                           const char *sr_no, json_t *body)
{
    if (w->writeback_count == w->writeback_cap) {
        size_t cap = w->writeback_cap ? w->writeback_cap * 2 : 16;
        sk_writeback *grown = realloc(w->writebacks, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        w->writebacks = grown;
        w->writeback_cap = cap;
    }
    sk_writeback *wb = &w->writebacks[w->writeback_count++];
    memset(wb, 0, sizeof(*wb));
    wb->id = w->next_writeback++;
    wb->practice = (size_t)(p - w->practices);
    wb->method = method;
    snprintf(wb->api, sizeof(wb->api), "%s", api);
    snprintf(wb->sr_no, sizeof(wb->sr_no), "%s", sr_no ? sr_no : "");
    wb->body = json_incref(body);
    wb->requested = pms_now();
    wb->due = wb->requested + sk_settings_get()->writeback_delay_ms;
    return wb;
}

static void respond_queued(sbx_response *resp, const sbx_request *req, const sk_writeback *wb,
                           bool created)
{
    char long_message[32], more[200];
    snprintf(long_message, sizeof(long_message), "Id:%ld", wb->id);
    snprintf(more, sizeof(more), "%s/sikka/v4/writeback_status?id=%ld", req->base_url, wb->id);
    sbx_respond_json(resp, created ? 201 : 200,
                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "http_code",
                               created ? "201" : "200", "http_code_desc",
                               created ? "Created" : "OK", "error_code",
                               created ? "API2016" : "API0007", "short_message",
                               created ? "New resource created successfully"
                                       : "Appointment status logged successfully",
                               "long_message", long_message, "more_information", more));
}

static json_t *body_of(const sbx_request *req, sbx_response *resp)
{
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        sk_respond_error(resp, 400, "API1026", "Invalid parameter", "The body must be JSON");
        return NULL;
    }
    return body;
}

void sk_write_book(const sbx_request *req, sk_world *w, sk_practice *p, sbx_response *resp)
{
    if (!sbx_method_is(req, "POST")) {
        sk_respond_error(resp, 405, "API2014", "Method not allowed", "Use POST");
        return;
    }
    json_t *body = body_of(req, resp);
    if (body == NULL)
        return;
    static const char *const required[] = {"patient_id", "date",        "time",
                                           "length",     "description", "provider_id",
                                           "operatory",  "practice_id"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (field(body, required[i]) == NULL) {
            char message[96];
            snprintf(message, sizeof(message), "%s is required (as a string)", required[i]);
            sk_respond_error(resp, 400, "API1026", "Missing Parameter", message);
            goto out;
        }
    }
    if (spu_check(body, resp)) {
        sk_writeback *wb = queue(w, p, "POST", "appointment", NULL, body);
        if (wb == NULL)
            sk_respond_error(resp, 500, "API2001", "Internal error", "Out of memory");
        else
            respond_queued(resp, req, wb, true);
    }
out:
    json_decref(body);
}

void sk_write_change(const sbx_request *req, sk_world *w, sk_practice *p, const char *sr_no,
                     sbx_response *resp)
{
    bool put = sbx_method_is(req, "PUT"), patch = sbx_method_is(req, "PATCH");
    if (!put && !patch) {
        sk_respond_error(resp, 405, "API2014", "Method not allowed", "Use PUT or PATCH");
        return;
    }
    json_t *body = body_of(req, resp);
    if (body == NULL)
        return;
    if (field(body, "practice_id") == NULL) {
        sk_respond_error(resp, 400, "API1026", "Missing Parameter", "practice_id is required");
    } else if (put && field(body, "provider_id") == NULL) {
        sk_respond_error(resp, 400, "API1026", "Missing Parameter", "provider_id is required");
    } else if (patch && (field(body, "op") == NULL || strcmp(field(body, "op"), "replace") != 0 ||
                         field(body, "path") == NULL || field(body, "value") == NULL ||
                         (strcmp(field(body, "path"), "/appointment_status") != 0 &&
                          strcmp(field(body, "path"), "/status") != 0))) {
        sk_respond_error(resp, 400, "API1026", "Invalid parameter",
                         "op must be replace, path /appointment_status (or /status), with a value");
    } else if (sk_find_appt(p, sr_no) == NULL) {
        sk_respond_error(resp, 404, "API2009", "Not found", "Appointment not found");
    } else if (spu_check(body, resp)) {
        sk_writeback *wb = queue(w, p, put ? "PUT" : "PATCH", "appointments", sr_no, body);
        if (wb == NULL)
            sk_respond_error(resp, 500, "API2001", "Internal error", "Out of memory");
        else
            respond_queued(resp, req, wb, false);
    }
    json_decref(body);
}

/* ---- the SPU at work ----------------------------------------------------------------- */

static bool parse_when(const char *date, const char *time, pms_civil *out)
{
    pms_date day;
    char d[11];
    int hh, mm;
    if (date == NULL || time == NULL || strlen(date) < 10)
        return false;
    memcpy(d, date, 10);
    d[10] = '\0';
    if (pms_date_parse(d, &day, NULL) != PMS_OK || sscanf(time, "%d:%d", &hh, &mm) != 2 || hh < 0 ||
        hh > 23 || mm < 0 || mm > 59)
        return false;
    *out = (pms_civil){day.year, day.month, day.day, hh, mm, 0, 0};
    return true;
}

/* Whether the provider is free for [start, start + length) (the appointment `except` aside). */
static bool provider_free(const sk_practice *p, int provider, const pms_civil *start, int length,
                          const sk_appt *except)
{
    int64_t lo = sk_local_key(start), hi = lo + (int64_t)length * 60;
    for (size_t i = sbx_book_seek(&p->book, lo - 86400, NULL);
         i < p->book.count && p->book.entries[i].key < hi; i++) {
        const sk_appt *a = p->book.entries[i].item;
        if (a == except || a->provider != provider || sk_status_unified(a->status) == 5)
            continue;
        int64_t a_lo = p->book.entries[i].key, a_hi = a_lo + (int64_t)a->length * 60;
        if (a_lo < hi && lo < a_hi)
            return false;
    }
    return true;
}

static int length_of(const char *text)
{
    char *end;
    long n = text ? strtol(text, &end, 10) : -1;
    return text && *end == '\0' && n > 0 && n <= 24 * 60 ? (int)n : -1;
}

/* Applies a writeback; fills wb->result (and created_id) and says whether it worked. */
static bool apply(sk_world *w, sk_writeback *wb)
{
    sk_practice *p = &w->practices[wb->practice];
    const json_t *b = wb->body;
    if (strcmp(wb->method, "POST") == 0) {
        pms_civil when;
        int provider = sk_find_provider(p, field(b, "provider_id"));
        int patient = sk_find_patient(p, field(b, "patient_id"));
        int operatory = sk_find_operatory(field(b, "operatory"));
        int length = length_of(field(b, "length"));
        if (provider < 0 || patient < 0 || operatory < 0 || length < 0 ||
            !parse_when(field(b, "date"), field(b, "time"), &when)) {
            snprintf(wb->result, sizeof(wb->result),
                     "Invalid provider, patient, operatory, date, time or length");
            return false;
        }
        if (!provider_free(p, provider, &when, length, NULL)) {
            snprintf(wb->result, sizeof(wb->result),
                     "The provider already has an appointment at that time");
            return false;
        }
        sk_appt *a = sk_appt_new(p);
        const char *type = field(b, "type");
        a->provider = provider;
        a->patient = patient;
        a->operatory = operatory;
        a->length = length;
        a->local = when;
        a->type = sk_types[0];
        for (size_t i = 0; type != NULL && i < sk_type_count; i++)
            if (strcmp(sk_types[i], type) == 0)
                a->type = sk_types[i];
        a->made = a->changed = pms_now();
        pms_error err;
        if (!sbx_set_string(&a->status, "Open") ||
            !sbx_set_string(&a->description, field(b, "description")) ||
            !sbx_set_string(&a->note, field(b, "note") ? field(b, "note") : "") ||
            sk_appt_insert(p, a, &err) != PMS_OK) {
            sk_appt_free(a);
            snprintf(wb->result, sizeof(wb->result), "Internal error");
            return false;
        }
        snprintf(wb->created_id, sizeof(wb->created_id), "%s", a->id);
        snprintf(wb->result, sizeof(wb->result), "Appointment inserted successfully");
        return true;
    }
    sk_appt *a = sk_find_appt(p, wb->sr_no);
    if (a == NULL) {
        snprintf(wb->result, sizeof(wb->result), "Appointment not found");
        return false;
    }
    if (strcmp(wb->method, "PATCH") == 0) {
        if (!sbx_set_string(&a->status, field(b, "value"))) {
            snprintf(wb->result, sizeof(wb->result), "Internal error");
            return false;
        }
        a->changed = pms_now();
        snprintf(wb->result, sizeof(wb->result), "Appointment status updated successfully");
        return true;
    }
    pms_civil when = a->local;
    if ((field(b, "date") || field(b, "time")) &&
        !parse_when(field(b, "date") ? field(b, "date") : "",
                    field(b, "time") ? field(b, "time") : "", &when)) {
        snprintf(wb->result, sizeof(wb->result), "Invalid date or time");
        return false;
    }
    int provider = field(b, "provider_id") ? sk_find_provider(p, field(b, "provider_id")) : -1;
    int length = field(b, "length") ? length_of(field(b, "length")) : a->length;
    if (provider < 0 || length < 0) {
        snprintf(wb->result, sizeof(wb->result), "Invalid provider or length");
        return false;
    }
    if (!provider_free(p, provider, &when, length, a)) {
        snprintf(wb->result, sizeof(wb->result),
                 "The provider already has an appointment at that time");
        return false;
    }
    sk_appt_unlink(p, a);
    a->local = when;
    a->length = length;
    a->provider = provider;
    a->changed = pms_now();
    pms_error err;
    if (sk_appt_insert(p, a, &err) != PMS_OK) {
        sk_appt_free(a);
        snprintf(wb->result, sizeof(wb->result), "Internal error");
        return false;
    }
    snprintf(wb->result, sizeof(wb->result), "Appointment updated successfully");
    return true;
}

void sk_writebacks_settle(sk_world *w, const sk_settings *s)
{
    if (s->spu_offline) /* the SPU does the writing: queued writebacks wait for it */
        return;
    pms_instant now = pms_now();
    for (size_t i = 0; i < w->writeback_count; i++) {
        sk_writeback *wb = &w->writebacks[i];
        if (wb->done || wb->due > now)
            continue;
        wb->done = true;
        wb->completed = now;
        sbx_prng prng;
        sbx_prng_derive(&prng, w->config.seed, 0x534b0100, (uint64_t)wb->id, 0);
        sk_settings *live = sk_settings_get();
        if (live == s && live->writeback_fail_next > 0) {
            live->writeback_fail_next--;
            wb->has_error = true;
            snprintf(wb->result, sizeof(wb->result),
                     "The practice management system rejected the change");
        } else if (sbx_prng_chance(&prng, s->writeback_failure_rate)) {
            wb->has_error = true;
            snprintf(wb->result, sizeof(wb->result),
                     "The practice management system rejected the change");
        } else {
            wb->has_error = !apply(w, wb);
        }
    }
}

static void format_local(const sk_practice *p, pms_instant t, char out[32])
{
    pms_civil c;
    pms_tz_to_local(p->tz, t, &c);
    snprintf(out, 32, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
             c.second);
}

json_t *sk_writeback_json(const sk_world *w, const sk_writeback *wb)
{
    const sk_practice *p = &w->practices[wb->practice];
    char id[24], requested[32], completed[32];
    snprintf(id, sizeof(id), "%ld", wb->id);
    format_local(p, wb->requested, requested);
    if (wb->done)
        format_local(p, wb->completed, completed);
    else
        completed[0] = '\0';
    char *payload = json_dumps(wb->body, JSON_COMPACT);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id,
        "office_id", p->office_id, "method", wb->method, "api", wb->api, "payload_body",
        payload ? payload : "", "appointment_sr_no", wb->sr_no, "request_time", requested,
        "is_completed", wb->done ? "True" : "False", "has_error", wb->has_error ? "True" : "False",
        "completed_time", completed, "result", wb->done ? wb->result : "pending", "practice_id",
        p->practice_id, "status",
        !wb->done       ? "Pending"
        : wb->has_error ? "Failed"
                        : "Success",
        "patient_id", field(wb->body, "patient_id") ? field(wb->body, "patient_id") : "",
        "created_id", wb->created_id);
    free(payload);
    return o;
}

static sk_writeback *find_writeback(sk_world *w, const sk_practice *p, const char *id)
{
    char *end;
    long n = id ? strtol(id, &end, 10) : -1;
    if (id == NULL || *end != '\0')
        return NULL;
    for (size_t i = 0; i < w->writeback_count; i++)
        if (w->writebacks[i].id == n && &w->practices[w->writebacks[i].practice] == p)
            return &w->writebacks[i];
    return NULL;
}

void sk_write_status(const sbx_request *req, sk_world *w, sk_practice *p, sbx_response *resp)
{
    sk_writeback *wb = find_writeback(w, p, sbx_query(req, "id"));
    if (wb == NULL) {
        sk_respond_error(resp, 404, "API2009", "Not found", "No writeback with this id");
        return;
    }
    json_t *items = json_array();
    json_array_append_new(items, sk_writeback_json(w, wb));
    sk_respond_list(req, resp, items);
}

void sk_write_list(const sbx_request *req, sk_world *w, sk_practice *p, sbx_response *resp)
{
    const char *only = sbx_query(req, "id");
    json_t *items = json_array();
    for (size_t i = 0; i < w->writeback_count; i++) {
        const sk_writeback *wb = &w->writebacks[i];
        if (&w->practices[wb->practice] != p)
            continue;
        char id[24];
        snprintf(id, sizeof(id), "%ld", wb->id);
        if (only != NULL && only[0] != '\0' && strcmp(only, id) != 0)
            continue;
        json_t *full = sk_writeback_json(w, wb);
        json_t *item =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:O}", "href", "", "id", id, "result",
                      !wb->done       ? "pending"
                      : wb->has_error ? "failed"
                                      : "completed",
                      "method", wb->method, "api_name", wb->api, "api_request_body",
                      json_object_get(full, "payload_body"), "command_time",
                      json_object_get(full, "request_time"), "completed_time",
                      json_object_get(full, "completed_time"));
        json_object_set_new(item, "office_id", json_string(p->office_id));
        json_decref(full);
        json_array_append_new(items, item);
    }
    sk_respond_list(req, resp, items);
}
