/* The Medirecords controls under /_sandbox/medirecords (declared in medirecords.h): ground
 * truth, settings for the guessed behaviours, expiry of OAuth tokens, and changes to
 * appointments as if made in the PMS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "medirecords.h"
#include "medirecords_json.h"
#include "truth.h"

/* pms-api-notes §3.5 and the brief's mapping: 6 (at billing) and 7 count as completed. */
static sbx_unified_status unified_status(int status)
{
    switch (status) {
    case MR_STATUS_BOOKED:
        return SBX_UNIFIED_BOOKED;
    case MR_STATUS_CONFIRMED:
        return SBX_UNIFIED_CONFIRMED;
    case MR_STATUS_WAITING_ROOM:
        return SBX_UNIFIED_ARRIVED;
    case MR_STATUS_WITH_DOCTOR:
        return SBX_UNIFIED_IN_PROGRESS;
    case MR_STATUS_AT_BILLING:
    case MR_STATUS_COMPLETED:
        return SBX_UNIFIED_COMPLETED;
    case MR_STATUS_CANCELLED:
        return SBX_UNIFIED_CANCELLED;
    default:
        return SBX_UNIFIED_NULL;
    }
}

static const char *local_kind_name(pms_tz_local_kind kind)
{
    return kind == PMS_TZ_LOCAL_GAP ? "gap" : kind == PMS_TZ_LOCAL_OVERLAP ? "overlap" : "unique";
}

json_t *mr_truth_json(const mr_practice *p, const mr_appt *a)
{
    json_t *obj = mr_appt_json(p, a);
    unsigned variant = 0;
    bool malformed = sbx_faults_malformed(a->id, &variant);
    pms_tz_local_kind kind = PMS_TZ_LOCAL_UNIQUE;
    pms_instant start = pms_tz_from_local(p->tz, &a->local, &kind);
    bool telehealth = a->links || p->types[a->type].telehealth;
    sbx_truth_set_common(obj, a->id, unified_status(a->status), start, telehealth, false);
    char local_date[PMS_TIME_BUFLEN];
    pms_date_format((pms_date){a->local.year, a->local.month, a->local.day}, local_date);
    json_object_set_new(obj, "_practitionerId", json_string(p->providers[a->provider].id));
    json_object_set_new(obj, "_patientId", json_string(p->patients[a->patient].id));
    json_object_set_new(obj, "_appointmentTypeId", json_string(p->types[a->type].id));
    json_object_set_new(obj, "_minutes", json_integer(mr_appt_minutes(p, a)));
    json_object_set_new(obj, "_localDate", json_string(local_date));
    json_object_set_new(obj, "_localKind", json_string(local_kind_name(kind)));
    json_object_set_new(obj, "_malformed", json_boolean(malformed));
    json_object_set_new(obj, "_malformedKind",
                        malformed ? json_string(mr_malformed_kind(variant)) : json_null());
    return obj;
}

static void answer_truth(const sbx_request *req, sbx_response *resp)
{
    const char *practice_id = sbx_query(req, "practice");
    if (practice_id == NULL) {
        sbx_respond_message(resp, 400, "practice is required");
        return;
    }
    mr_world *w = mr_lock_read();
    const mr_practice *p = mr_find_practice(w, practice_id);
    if (p == NULL) {
        sbx_respond_message(resp, 404, "Practice not found");
        goto out;
    }
    pms_date from = pms_date_add_days(p->today, -w->config.days_before);
    pms_date to = pms_date_add_days(p->today, w->config.days_after);
    if (!sbx_truth_dates(req, &from, &to, resp))
        goto out;
    pms_civil lo = {from.year, from.month, from.day, 0, 0, 0, 0};
    pms_date after = pms_date_add_days(to, 1);
    pms_civil hi = {after.year, after.month, after.day, 0, 0, 0, 0};
    int64_t hi_key = mr_local_key(&hi);
    json_t *list = json_array();
    for (size_t i = sbx_book_seek(&p->book, mr_local_key(&lo), NULL);
         i < p->book.count && p->book.entries[i].key < hi_key; i++)
        json_array_append_new(list, mr_truth_json(p, p->book.entries[i].item));
    char from_out[PMS_TIME_BUFLEN], to_out[PMS_TIME_BUFLEN];
    pms_date_format(from, from_out);
    pms_date_format(to, to_out);
    sbx_respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "practiceId", p->id, "timezone",
                               pms_tz_name(p->tz), "from", from_out, "to", to_out, "count",
                               (json_int_t)json_array_size(list), "appointments", list));
out:
    mr_unlock();
}

static void answer_settings(const sbx_request *req, sbx_response *resp)
{
    if (sbx_method_is(req, "GET")) {
        mr_lock_read();
        sbx_respond_json(resp, 200, mr_settings_json(mr_settings()));
        mr_unlock();
        return;
    }
    if (!sbx_method_is(req, "PUT") && !sbx_method_is(req, "PATCH")) {
        sbx_respond_method_not_allowed(resp, "GET, PUT, PATCH");
        return;
    }
    json_t *patch = sbx_parse_json_object(req, resp);
    if (patch == NULL)
        return;
    pms_error err;
    mr_lock_write();
    if (mr_settings_update(mr_settings(), patch, &err) != PMS_OK)
        sbx_respond_message(resp, 400, err.message);
    else
        sbx_respond_json(resp, 200, mr_settings_json(mr_settings()));
    mr_unlock();
    json_decref(patch);
}

/* What a create or patch body asks for; has_* says which keys were given. */
typedef struct appt_changes {
    bool has_provider, has_patient, has_type, has_start, has_minutes, has_code, has_status;
    bool has_telehealth, has_notes, has_reason;
    int provider, patient, type, minutes, code, status;
    pms_civil start;
    bool telehealth;
    const char *notes, *reason; /* borrowed from the body; NULL = null */
} appt_changes;

static int nullable_string(const char *key, const json_t *v, const char **out, pms_error *err)
{
    if (!json_is_null(v) && !json_is_string(v))
        return pms_error_set(err, PMS_ERR_INVALID, "%s must be a string or null", key);
    *out = json_string_value(v);
    return PMS_OK;
}

static int int_value(const char *key, const json_t *v, int lo, int hi, int *out, pms_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return pms_error_set(err, PMS_ERR_INVALID, "%s must be an integer in %d..%d", key, lo, hi);
    *out = (int)json_integer_value(v);
    return PMS_OK;
}

static int parse_change(const mr_practice *p, const char *key, const json_t *v, appt_changes *c,
                        pms_error *err)
{
    const char *s = json_string_value(v);
    if (strcmp(key, "practitionerId") == 0) {
        c->has_provider = true;
        if ((c->provider = mr_find_provider(p, s)) < 0)
            return pms_error_set(err, PMS_ERR_INVALID, "practitionerId is not in this practice");
    } else if (strcmp(key, "patientId") == 0) {
        c->has_patient = true;
        const mr_patient *pt = s != NULL ? mr_find_patient(p, s) : NULL;
        if (pt == NULL)
            return pms_error_set(err, PMS_ERR_INVALID, "patientId is not in this practice");
        c->patient = (int)(pt - p->patients);
    } else if (strcmp(key, "appointmentTypeId") == 0) {
        c->has_type = true;
        if ((c->type = mr_find_type(p, s)) < 0)
            return pms_error_set(err, PMS_ERR_INVALID, "appointmentTypeId is not in this practice");
    } else if (strcmp(key, "start") == 0) {
        c->has_start = true;
        if (s == NULL || strlen(s) < 16 || s[10] != 'T' ||
            pms_iso8601_parse_local(s, &c->start, NULL) != PMS_OK)
            return pms_error_set(err, PMS_ERR_INVALID, "start must be local \"YYYY-MM-DDThh:mm\"");
        c->start.second = 0;
        c->start.millis = 0;
    } else if (strcmp(key, "minutes") == 0) {
        c->has_minutes = true;
        return int_value(key, v, 1, 24 * 60, &c->minutes, err);
    } else if (strcmp(key, "intervalCode") == 0) {
        c->has_code = true;
        return int_value(key, v, 0, 1000, &c->code, err);
    } else if (strcmp(key, "status") == 0) {
        c->has_status = true;
        return int_value(key, v, MR_STATUS_BOOKED, MR_STATUS_CANCELLED, &c->status, err);
    } else if (strcmp(key, "telehealth") == 0) {
        c->has_telehealth = true;
        if (!json_is_boolean(v))
            return pms_error_set(err, PMS_ERR_INVALID, "telehealth must be true or false");
        c->telehealth = json_is_true(v);
    } else if (strcmp(key, "notes") == 0) {
        c->has_notes = true;
        return nullable_string(key, v, &c->notes, err);
    } else if (strcmp(key, "cancellationReason") == 0) {
        c->has_reason = true;
        return nullable_string(key, v, &c->reason, err);
    } else {
        return pms_error_set(err, PMS_ERR_INVALID, "unknown field: %s", key);
    }
    return PMS_OK;
}

static int parse_changes(const mr_practice *p, const json_t *body, appt_changes *c, pms_error *err)
{
    memset(c, 0, sizeof(*c));
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)body, key, value)
    {
        int rc = parse_change(p, key, value, c, err);
        if (rc != PMS_OK)
            return rc;
    }
    if (c->has_minutes && c->has_code)
        return pms_error_set(err, PMS_ERR_INVALID, "give minutes or intervalCode, not both");
    return PMS_OK;
}

/* The interval code for a length: the table's, or the unlisted code when the length is the
 * type's own (clients then fall back to the type's duration). */
static int code_for(const mr_type *type, int minutes, int *code, pms_error *err)
{
    int found = mr_interval_code(minutes);
    if (found < 0 && minutes == type->minutes)
        found = MR_INTERVAL_UNLISTED;
    if (found < 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "minutes must be 5, 10, 15, 20, 30, 45, 60, 90, 120 or the type's "
                             "duration (or give intervalCode)");
    *code = found;
    return PMS_OK;
}

/* Applies parsed changes to an unlinked appointment. A bad length is found before anything
 * changes; PMS_ERR_NOMEM may leave a partial change. */
static int apply_changes(const mr_practice *p, mr_appt *a, const appt_changes *c, pms_error *err)
{
    int type = c->has_type ? c->type : a->type;
    int code = a->interval_code;
    if (c->has_code) {
        code = c->code;
    } else if (c->has_minutes || c->has_type) {
        int rc = code_for(&p->types[type], c->has_minutes ? c->minutes : p->types[type].minutes,
                          &code, err);
        if (rc != PMS_OK)
            return rc;
    }
    if (c->has_notes && !sbx_set_string(&a->notes, c->notes))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (c->has_provider)
        a->provider = c->provider;
    if (c->has_patient)
        a->patient = c->patient;
    if (c->has_type && !c->has_telehealth)
        a->links = p->types[type].telehealth;
    a->type = type;
    a->interval_code = code;
    if (c->has_start)
        a->local = c->start;
    if (c->has_telehealth)
        a->links = c->telehealth;
    if (c->has_status)
        a->status = c->status;
    const char *reason = a->cancellation_reason;
    if (c->has_reason)
        reason = c->reason;
    else if (a->status != MR_STATUS_CANCELLED)
        reason = NULL;
    else if (reason == NULL)
        reason = "Cancelled in the sandbox";
    if (reason != a->cancellation_reason && !sbx_set_string(&a->cancellation_reason, reason))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    a->updated = pms_now();
    a->updated_by = 0;
    return PMS_OK;
}

static void respond_truth(const mr_practice *p, const mr_appt *a, int status, sbx_response *resp)
{
    sbx_respond_json(resp, status, mr_truth_json(p, a));
}

static void create_appt(const sbx_request *req, mr_world *w, mr_practice *p, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    appt_changes c;
    pms_error err;
    mr_appt *a = NULL;
    if (parse_changes(p, body, &c, &err) != PMS_OK) {
        sbx_respond_message(resp, 400, err.message);
        goto out;
    }
    if (!c.has_provider || !c.has_start) {
        sbx_respond_message(resp, 400, "practitionerId and start are required");
        goto out;
    }
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    sbx_prng_uuid(&w->mutation_prng, a->id);
    a->patient = (int)sbx_prng_below(&w->mutation_prng, (uint32_t)p->patient_count);
    a->type = 0;
    a->status = MR_STATUS_BOOKED;
    a->room = -1;
    a->urgency = 1;
    a->reminder_method = 1;
    a->reminder_type = 1;
    a->created = pms_now();
    if (!c.has_type) {
        c.has_type = true;
        c.type = 0;
    }
    if (apply_changes(p, a, &c, &err) != PMS_OK) {
        mr_appt_free(a);
        sbx_respond_message(resp, err.code == PMS_ERR_NOMEM ? 500 : 400, err.message);
        goto out;
    }
    a->created = a->updated;
    if (mr_appt_insert(p, a, &err) != PMS_OK) {
        mr_appt_free(a);
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    respond_truth(p, a, 201, resp);
out:
    json_decref(body);
}

static void patch_appt(const sbx_request *req, mr_practice *p, mr_appt *a, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    appt_changes c;
    pms_error err;
    if (parse_changes(p, body, &c, &err) != PMS_OK) {
        sbx_respond_message(resp, 400, err.message);
        goto out;
    }
    mr_appt_unlink(p, a);
    pms_error apply_err;
    bool ok = apply_changes(p, a, &c, &apply_err) == PMS_OK;
    if (mr_appt_insert(p, a, &err) != PMS_OK) {
        mr_appt_free(a);
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    if (!ok)
        sbx_respond_message(resp, apply_err.code == PMS_ERR_NOMEM ? 500 : 400, apply_err.message);
    else
        respond_truth(p, a, 200, resp);
out:
    json_decref(body);
}

/* /practices/{pid}/appointments[/{id}] */
static void answer_practice(const sbx_request *req, const sbx_path *path, sbx_response *resp)
{
    mr_world *w = mr_lock_write();
    mr_practice *p = mr_find_practice(w, path->seg[1]);
    if (p == NULL) {
        sbx_respond_message(resp, 404, "Practice not found");
    } else if (path->count == 3 && sbx_seg_is(path, 2, "appointments")) {
        if (!sbx_method_is(req, "POST"))
            sbx_respond_method_not_allowed(resp, "POST");
        else
            create_appt(req, w, p, resp);
    } else if (path->count == 4 && sbx_seg_is(path, 2, "appointments")) {
        mr_appt *a = mr_find_appt(p, path->seg[3]);
        if (a == NULL) {
            sbx_respond_message(resp, 404, "Appointment not found");
        } else if (sbx_method_is(req, "GET")) {
            respond_truth(p, a, 200, resp);
        } else if (sbx_method_is(req, "PATCH")) {
            patch_appt(req, p, a, resp);
        } else if (sbx_method_is(req, "DELETE")) {
            mr_appt_unlink(p, a);
            sbx_respond_json(
                resp, 200, json_pack("{s:s, s:s}", "message", "Appointment deleted", "id", a->id));
            mr_appt_free(a);
        } else {
            sbx_respond_method_not_allowed(resp, "GET, PATCH, DELETE");
        }
    } else {
        sbx_respond_message(resp, 404, "No such control endpoint");
    }
    mr_unlock();
}

void mr_control_handle(const sbx_request *req, const char *rest, sbx_response *resp)
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
        sbx_tokens_expire_all(mr_oauth_tokens());
        sbx_respond_message(resp, 200,
                            "Every OAuth token issued so far has expired (static tokens stay)");
    } else if (p.count >= 3 && sbx_seg_is(&p, 0, "practices")) {
        answer_practice(req, &p, resp);
    } else {
        sbx_respond_message(resp, 404, "No such control endpoint");
    }
}
