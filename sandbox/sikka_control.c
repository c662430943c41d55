/* The Sikka controls under /_sandbox/sikka (declared in sikka.h): ground truth, settings
 * (SPU offline, Data-Insert, writebacks, the rate window), expiry of request keys, the
 * writeback queue, and changes to appointments as if made in the PMS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "faults.h"
#include "pmsync/model.h"
#include "sikka.h"
#include "truth.h"

static json_t *truth_json(const sk_practice *p, const sk_appt *a)
{
    json_t *obj = sk_appt_json(NULL, p, a, true);
    unsigned variant = 0;
    bool malformed = sbx_faults_malformed(a->id, &variant);
    pms_tz_local_kind kind = PMS_TZ_LOCAL_UNIQUE;
    pms_instant start = pms_tz_from_local(p->tz, &a->local, &kind);
    int unified = sk_status_unified(a->status);
    sbx_truth_set_common(obj, a->id, unified < 0 ? SBX_UNIFIED_BOOKED : (sbx_unified_status)unified,
                         start, pms_appt_type_name_suggests_telehealth(a->type), false);
    json_object_set_new(obj, "_practitionerId", json_string(p->providers[a->provider].id));
    json_object_set_new(obj, "_patientId", json_string(p->patients[a->patient].id));
    json_object_set_new(obj, "_appointmentTypeId", json_string(a->type));
    json_object_set_new(obj, "_minutes", json_integer(a->length));
    json_object_set_new(obj, "_statusKnown", json_boolean(unified >= 0));
    json_object_set_new(obj, "_localKind",
                        json_string(kind == PMS_TZ_LOCAL_GAP       ? "gap"
                                    : kind == PMS_TZ_LOCAL_OVERLAP ? "overlap"
                                                                   : "unique"));
    json_object_set_new(obj, "_malformed", json_boolean(malformed));
    json_object_set_new(obj, "_malformedKind",
                        malformed ? json_string(sk_malformed_kind(variant)) : json_null());
    return obj;
}

static void answer_truth(const sbx_request *req, sbx_response *resp)
{
    sk_world *w = sk_lock();
    const sk_practice *p = sk_find_office(w, sbx_query(req, "practice"));
    if (p == NULL) {
        sbx_respond_message(resp, 404, "practice (an office id) not found");
        goto out;
    }
    pms_date from = pms_date_add_days(p->today, -w->config.days_before);
    pms_date to = pms_date_add_days(p->today, w->config.days_after);
    if (!sbx_truth_dates(req, &from, &to, resp))
        goto out;
    pms_civil lo = {from.year, from.month, from.day, 0, 0, 0, 0};
    pms_date after = pms_date_add_days(to, 1);
    pms_civil hi = {after.year, after.month, after.day, 0, 0, 0, 0};
    int64_t hi_key = sk_local_key(&hi);
    json_t *list = json_array();
    for (size_t i = sbx_book_seek(&p->book, sk_local_key(&lo), NULL);
         i < p->book.count && p->book.entries[i].key < hi_key; i++)
        json_array_append_new(list, truth_json(p, p->book.entries[i].item));
    json_t *writebacks = json_array();
    for (size_t i = 0; i < w->writeback_count; i++)
        if (&w->practices[w->writebacks[i].practice] == p)
            json_array_append_new(writebacks, sk_writeback_json(w, &w->writebacks[i]));
    sbx_respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:I, s:o, s:o}", "officeId", p->office_id, "timezone",
                               pms_tz_name(p->tz), "count", (json_int_t)json_array_size(list),
                               "appointments", list, "writebacks", writebacks));
out:
    sk_unlock();
}

static void answer_settings(const sbx_request *req, sbx_response *resp)
{
    sk_lock();
    if (sbx_method_is(req, "GET")) {
        sbx_respond_json(resp, 200, sk_settings_json(sk_settings_get()));
    } else if (!sbx_method_is(req, "PUT") && !sbx_method_is(req, "PATCH")) {
        sbx_respond_method_not_allowed(resp, "GET, PUT, PATCH");
    } else {
        json_t *patch = sbx_parse_json_object(req, resp);
        pms_error err;
        if (patch != NULL && sk_settings_update(sk_settings_get(), patch, &err) != PMS_OK)
            sbx_respond_message(resp, 400, err.message);
        else if (patch != NULL)
            sbx_respond_json(resp, 200, sk_settings_json(sk_settings_get()));
        json_decref(patch);
    }
    sk_unlock();
}

/* Applies {practitionerId, patientId, appointmentTypeId, start, minutes, status} to a. */
static int apply_changes(sk_practice *p, sk_appt *a, const json_t *body, pms_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        const char *s = json_string_value(v);
        if (strcmp(key, "practitionerId") == 0) {
            if ((a->provider = sk_find_provider(p, s)) < 0)
                return pms_error_set(err, PMS_ERR_INVALID, "practitionerId is not in the practice");
        } else if (strcmp(key, "patientId") == 0) {
            if ((a->patient = sk_find_patient(p, s)) < 0)
                return pms_error_set(err, PMS_ERR_INVALID, "patientId is not in the practice");
        } else if (strcmp(key, "appointmentTypeId") == 0) {
            a->type = NULL;
            for (size_t i = 0; s != NULL && i < sk_type_count; i++)
                if (strcmp(sk_types[i], s) == 0)
                    a->type = sk_types[i];
            if (a->type == NULL)
                return pms_error_set(err, PMS_ERR_INVALID, "appointmentTypeId is not a type");
        } else if (strcmp(key, "start") == 0) {
            if (s == NULL || pms_iso8601_parse_local(s, &a->local, NULL) != PMS_OK)
                return pms_error_set(err, PMS_ERR_INVALID, "start must be YYYY-MM-DDThh:mm");
            a->local.second = a->local.millis = 0;
        } else if (strcmp(key, "minutes") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1440)
                return pms_error_set(err, PMS_ERR_INVALID, "minutes must be 1..1440");
            a->length = (int)json_integer_value(v);
        } else if (strcmp(key, "status") == 0) {
            if (s == NULL || !sbx_set_string(&a->status, s))
                return pms_error_set(err, PMS_ERR_INVALID, "status must be a status word");
        } else if (strcmp(key, "telehealth") != 0) {
            return pms_error_set(err, PMS_ERR_INVALID, "unknown field: %s", key);
        }
    }
    a->changed = pms_now();
    return PMS_OK;
}

static void answer_practice(const sbx_request *req, const sbx_path *path, sbx_response *resp)
{
    sk_world *w = sk_lock();
    sk_practice *p = sk_find_office(w, path->seg[1]);
    json_t *body = NULL;
    pms_error err;
    if (p == NULL || !sbx_seg_is(path, 2, "appointments")) {
        sbx_respond_message(resp, 404, "No such office or control endpoint");
    } else if (path->count == 3) {
        if (!sbx_method_is(req, "POST")) {
            sbx_respond_method_not_allowed(resp, "POST");
        } else if ((body = sbx_parse_json_object(req, resp)) != NULL) {
            sk_appt *a = sk_appt_new(p);
            a->type = sk_types[0];
            a->length = 30;
            a->made = pms_now();
            if (!sbx_set_string(&a->status, "Open") || !sbx_set_string(&a->description, "Visit") ||
                !sbx_set_string(&a->note, "") || apply_changes(p, a, body, &err) != PMS_OK ||
                sk_appt_insert(p, a, &err) != PMS_OK) {
                sk_appt_free(a);
                sbx_respond_message(resp, 400, err.message);
            } else {
                sbx_respond_json(resp, 201, truth_json(p, a));
            }
        }
    } else if (path->count == 4) {
        sk_appt *a = sk_find_appt(p, path->seg[3]);
        if (a == NULL) {
            sbx_respond_message(resp, 404, "Appointment not found");
        } else if (sbx_method_is(req, "GET")) {
            sbx_respond_json(resp, 200, truth_json(p, a));
        } else if (sbx_method_is(req, "DELETE")) {
            sk_appt_unlink(p, a);
            sbx_respond_json(resp, 200, json_pack("{s:s}", "message", "Appointment deleted"));
            sk_appt_free(a);
        } else if (!sbx_method_is(req, "PATCH")) {
            sbx_respond_method_not_allowed(resp, "GET, PATCH, DELETE");
        } else if ((body = sbx_parse_json_object(req, resp)) != NULL) {
            sk_appt_unlink(p, a);
            int rc = apply_changes(p, a, body, &err);
            pms_error insert_err;
            if (sk_appt_insert(p, a, &insert_err) != PMS_OK) {
                sk_appt_free(a);
                sbx_respond_message(resp, 500, "Out of memory");
            } else if (rc != PMS_OK) {
                sbx_respond_message(resp, 400, err.message);
            } else {
                sbx_respond_json(resp, 200, truth_json(p, a));
            }
        }
    } else {
        sbx_respond_message(resp, 404, "No such control endpoint");
    }
    json_decref(body);
    sk_unlock();
}

void sk_control_handle(const sbx_request *req, const char *rest, sbx_response *resp)
{
    sbx_path p;
    sbx_path_split(rest, &p);
    if (p.count == 1 && sbx_seg_is(&p, 0, "truth")) {
        if (!sbx_method_is(req, "GET"))
            sbx_respond_method_not_allowed(resp, "GET");
        else
            answer_truth(req, resp);
    } else if (p.count == 1 && sbx_seg_is(&p, 0, "settings")) {
        answer_settings(req, resp);
    } else if (p.count == 2 && sbx_seg_is(&p, 0, "tokens") && sbx_seg_is(&p, 1, "expire")) {
        if (!sbx_method_is(req, "POST")) {
            sbx_respond_method_not_allowed(resp, "POST");
            return;
        }
        sbx_tokens_expire_all(sk_request_keys());
        sbx_respond_message(resp, 200,
                            "Every request key issued so far has expired (refresh keys stay)");
    } else if (p.count >= 3 && sbx_seg_is(&p, 0, "practices")) {
        answer_practice(req, &p, resp);
    } else {
        sbx_respond_message(resp, 404, "No such control endpoint");
    }
}
