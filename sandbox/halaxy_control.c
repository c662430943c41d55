/* The Halaxy controls under /_sandbox/halaxy (declared in halaxy.h): ground truth, settings for
 * the guessed behaviours, token expiry, and changes to appointments as if made in the PMS.
 * Practices are named by their API client id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "halaxy.h"
#include "truth.h"

static sbx_unified_status unified_status(hx_status status)
{
    switch (status) {
    case HX_STATUS_BOOKED:
    case HX_STATUS_TENTATIVE:
        return SBX_UNIFIED_BOOKED;
    case HX_STATUS_CONFIRMED:
        return SBX_UNIFIED_CONFIRMED;
    case HX_STATUS_ATTENDED:
        return SBX_UNIFIED_COMPLETED;
    case HX_STATUS_CANCELLED:
    case HX_STATUS_CANCELLED_NO_CHARGE:
        return SBX_UNIFIED_CANCELLED;
    case HX_STATUS_DID_NOT_ATTEND:
        return SBX_UNIFIED_NO_SHOW;
    default:
        return SBX_UNIFIED_NULL;
    }
}

static json_t *id_or_null(bool present, const char *id)
{
    return present ? json_string(id) : json_null();
}

json_t *hx_truth_json(const hx_ctx *ctx, const hx_practice *p, const hx_appt *a)
{
    json_t *obj = hx_appt_json(ctx, p, a);
    unsigned variant = 0;
    bool malformed = sbx_faults_malformed(a->id, &variant);
    bool meeting = a->patient < 0;
    bool telehealth = ctx->location_type
                          ? !meeting && a->location == HX_LOCATION_TELEHEALTH
                          : a->service >= 0 && hx_service_name_telehealth(&p->services[a->service]);
    sbx_truth_set_common(obj, a->id, meeting ? SBX_UNIFIED_NULL : unified_status(a->status),
                         a->start, telehealth, meeting);
    const hx_role *role = &p->roles[a->role];
    char local_date[PMS_TIME_BUFLEN];
    pms_date_format(pms_tz_date_of(p->tz, a->start), local_date);
    json_object_set_new(obj, "_practitionerId",
                        json_string(p->practitioners[role->practitioner].id));
    json_object_set_new(obj, "_practitionerRoleId", json_string(role->id));
    json_object_set_new(obj, "_patientId",
                        id_or_null(!meeting, meeting ? NULL : p->patients[a->patient].id));
    json_object_set_new(
        obj, "_appointmentTypeId",
        id_or_null(a->service >= 0, a->service >= 0 ? p->services[a->service].id : NULL));
    json_object_set_new(obj, "_locationType",
                        meeting ? json_null() : json_string(hx_location_code(a->location)));
    json_object_set_new(obj, "_minutes", json_integer(a->minutes));
    json_object_set_new(obj, "_localDate", json_string(local_date));
    json_object_set_new(obj, "_malformed", json_boolean(malformed));
    json_object_set_new(obj, "_malformedKind",
                        malformed ? json_string(hx_malformed_kind(a, variant)) : json_null());
    return obj;
}

static void answer_truth(const sbx_request *req, sbx_response *resp)
{
    const char *client_id = sbx_query(req, "practice");
    if (client_id == NULL) {
        sbx_respond_message(resp, 400, "practice (the client id) is required");
        return;
    }
    hx_world *w = hx_lock_read();
    const hx_practice *p = hx_find_practice(w, client_id);
    if (p == NULL) {
        sbx_respond_message(resp, 404, "Practice not found");
        goto out;
    }
    pms_date from = pms_date_add_days(p->today, -w->config.days_before);
    pms_date to = pms_date_add_days(p->today, w->config.days_after);
    if (!sbx_truth_dates(req, &from, &to, resp))
        goto out;
    hx_ctx ctx = hx_ctx_for(req, hx_settings());
    pms_instant hi = pms_tz_day_start(p->tz, pms_date_add_days(to, 1));
    json_t *list = json_array();
    for (size_t i = sbx_book_seek(&p->book, pms_tz_day_start(p->tz, from), NULL);
         i < p->book.count && p->book.entries[i].key < hi; i++)
        json_array_append_new(list, hx_truth_json(&ctx, p, p->book.entries[i].item));
    char from_out[PMS_TIME_BUFLEN], to_out[PMS_TIME_BUFLEN];
    pms_date_format(from, from_out);
    pms_date_format(to, to_out);
    sbx_respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "practice", p->client_id,
                               "name", p->name, "timezone", pms_tz_name(p->tz), "from", from_out,
                               "to", to_out, "count", (json_int_t)json_array_size(list),
                               "appointments", list));
out:
    hx_unlock();
}

static void answer_settings(const sbx_request *req, sbx_response *resp)
{
    if (sbx_method_is(req, "GET")) {
        hx_lock_read();
        sbx_respond_json(resp, 200, hx_settings_json(hx_settings()));
        hx_unlock();
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
    hx_lock_write();
    if (hx_settings_update(hx_settings(), patch, &err) != PMS_OK)
        sbx_respond_message(resp, 400, err.message);
    else
        sbx_respond_json(resp, 200, hx_settings_json(hx_settings()));
    hx_unlock();
    json_decref(patch);
}

/* What a create or patch body asks for; has_* says which keys were given. */
typedef struct appt_changes {
    bool has_role, has_patient, has_service, has_start, has_minutes, has_status, has_location;
    bool has_notes;
    int role, patient, service, minutes;
    pms_instant start;
    int start_offset;
    hx_status status;
    hx_location location;
    const char *notes; /* borrowed from the body; NULL = no description */
} appt_changes;

static int parse_start(const hx_practice *p, const char *s, appt_changes *c, pms_error *err)
{
    pms_civil local;
    if (s != NULL && pms_iso8601_parse(s, &c->start, NULL, NULL) == PMS_OK) {
        c->start_offset = pms_tz_offset_at(p->tz, c->start, NULL);
        return PMS_OK;
    }
    if (s == NULL || strlen(s) < 16 || s[10] != 'T' ||
        pms_iso8601_parse_local(s, &local, NULL) != PMS_OK)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "start must be local \"YYYY-MM-DDThh:mm\" or ISO 8601 with an offset");
    c->start = pms_tz_from_local(p->tz, &local, NULL);
    c->start_offset = hx_wall_offset(&local, c->start);
    return PMS_OK;
}

/* A Practitioner id (its practice role) or a PractitionerRole id. */
static int find_role(const hx_practice *p, const char *id)
{
    int role = hx_find_role(p, id);
    int practitioner = role < 0 ? hx_find_practitioner(p, id) : -1;
    for (size_t r = 0; practitioner >= 0 && r < p->role_count; r++) {
        if (p->roles[r].practitioner == practitioner && !p->roles[r].external)
            return (int)r;
    }
    return role;
}

static int parse_change(const hx_practice *p, const char *key, const json_t *v, appt_changes *c,
                        pms_error *err)
{
    const char *s = json_string_value(v);
    if (strcmp(key, "practitionerId") == 0) {
        c->has_role = true;
        if ((c->role = find_role(p, s)) < 0)
            return pms_error_set(err, PMS_ERR_INVALID,
                                 "practitionerId is not a practitioner or role of this practice");
    } else if (strcmp(key, "patientId") == 0) {
        c->has_patient = true;
        const hx_patient *pt = s != NULL ? hx_find_patient(p, s) : NULL;
        if (!json_is_null(v) && pt == NULL)
            return pms_error_set(err, PMS_ERR_INVALID, "patientId is not in this practice");
        c->patient = pt != NULL ? (int)(pt - p->patients) : -1;
    } else if (strcmp(key, "appointmentTypeId") == 0) {
        c->has_service = true;
        c->service = json_is_null(v) ? -1 : hx_find_service(p, s);
        if (!json_is_null(v) && c->service < 0)
            return pms_error_set(err, PMS_ERR_INVALID,
                                 "appointmentTypeId is not a HealthcareService of this practice");
    } else if (strcmp(key, "start") == 0) {
        c->has_start = true;
        return parse_start(p, s, c, err);
    } else if (strcmp(key, "minutes") == 0) {
        c->has_minutes = true;
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1440)
            return pms_error_set(err, PMS_ERR_INVALID, "minutes must be an integer in 1..1440");
        c->minutes = (int)json_integer_value(v);
    } else if (strcmp(key, "status") == 0) {
        c->has_status = true;
        if (!hx_status_parse(s, &c->status))
            return pms_error_set(err, PMS_ERR_INVALID, "status is not a Halaxy participant status");
    } else if (strcmp(key, "telehealth") == 0) {
        c->has_location = true;
        if (!json_is_boolean(v))
            return pms_error_set(err, PMS_ERR_INVALID, "telehealth must be true or false");
        c->location = json_is_true(v) ? HX_LOCATION_TELEHEALTH : HX_LOCATION_CLINIC;
    } else if (strcmp(key, "locationType") == 0) {
        c->has_location = true;
        if (!hx_location_parse(s, &c->location))
            return pms_error_set(err, PMS_ERR_INVALID,
                                 "locationType must be clinic, telehealth or phone");
    } else if (strcmp(key, "notes") == 0 || strcmp(key, "description") == 0) {
        c->has_notes = true;
        if (!json_is_null(v) && s == NULL)
            return pms_error_set(err, PMS_ERR_INVALID, "%s must be a string or null", key);
        c->notes = s;
    } else {
        return pms_error_set(err, PMS_ERR_INVALID, "unknown field: %s", key);
    }
    return PMS_OK;
}

static int parse_changes(const hx_practice *p, const json_t *body, appt_changes *c, pms_error *err)
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
    return PMS_OK;
}

/* Applies parsed changes to an unlinked appointment; false when out of memory. */
static bool apply_changes(const hx_practice *p, hx_appt *a, const appt_changes *c)
{
    if (c->has_notes && !sbx_set_string(&a->description, c->notes))
        return false;
    if (c->has_role)
        a->role = c->role;
    if (c->has_patient)
        a->patient = c->patient;
    if (c->has_service) {
        a->service = c->service;
        if (!c->has_minutes && a->service >= 0)
            a->minutes = p->services[a->service].minutes;
        if (!c->has_location && a->service >= 0)
            a->location = p->services[a->service].location;
    }
    if (c->has_start) {
        a->start = c->start;
        a->start_offset = c->start_offset;
    }
    if (c->has_minutes)
        a->minutes = c->minutes;
    if (c->has_status)
        a->status = c->status;
    if (c->has_location)
        a->location = c->location;
    a->updated = pms_now() / 1000 * 1000;
    a->version++;
    return true;
}

static void create_appt(const sbx_request *req, hx_world *w, hx_practice *p, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    appt_changes c;
    pms_error err;
    hx_appt *a = NULL;
    if (parse_changes(p, body, &c, &err) != PMS_OK) {
        sbx_respond_message(resp, 400, err.message);
        goto out;
    }
    if (!c.has_role || !c.has_start) {
        sbx_respond_message(resp, 400, "practitionerId and start are required");
        goto out;
    }
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    hx_new_appt_id(w, &w->mutation_prng, a->id);
    a->patient = (int)sbx_prng_below(&w->mutation_prng, (uint32_t)p->patient_count);
    if (c.has_patient)
        a->patient = c.patient;
    a->service = -1;
    a->minutes = 30;
    a->status = HX_STATUS_BOOKED;
    if (!c.has_service && a->patient >= 0) {
        c.has_service = true;
        c.service = 0;
    }
    a->created = pms_now() / 1000 * 1000;
    if (!apply_changes(p, a, &c) || hx_appt_insert(p, a, &err) != PMS_OK) {
        hx_appt_free(a);
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    a->version = 1;
    hx_ctx ctx = hx_ctx_for(req, hx_settings());
    sbx_respond_json(resp, 201, hx_truth_json(&ctx, p, a));
out:
    json_decref(body);
}

static void patch_appt(const sbx_request *req, hx_practice *p, hx_appt *a, sbx_response *resp)
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
    hx_appt_unlink(p, a);
    bool ok = apply_changes(p, a, &c);
    if (hx_appt_insert(p, a, &err) != PMS_OK) {
        hx_appt_free(a);
        ok = false;
    }
    if (!ok) {
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    hx_ctx ctx = hx_ctx_for(req, hx_settings());
    sbx_respond_json(resp, 200, hx_truth_json(&ctx, p, a));
out:
    json_decref(body);
}

/* /practices/{clientId}/appointments[/{id}] */
static void answer_practice(const sbx_request *req, const sbx_path *path, sbx_response *resp)
{
    hx_world *w = hx_lock_write();
    hx_practice *p = hx_find_practice(w, path->seg[1]);
    if (p == NULL) {
        sbx_respond_message(resp, 404, "Practice not found");
    } else if (path->count == 3 && sbx_seg_is(path, 2, "appointments")) {
        if (!sbx_method_is(req, "POST"))
            sbx_respond_method_not_allowed(resp, "POST");
        else
            create_appt(req, w, p, resp);
    } else if (path->count == 4 && sbx_seg_is(path, 2, "appointments")) {
        hx_appt *a = hx_find_appt(p, path->seg[3]);
        if (a == NULL) {
            sbx_respond_message(resp, 404, "Appointment not found");
        } else if (sbx_method_is(req, "GET")) {
            hx_ctx ctx = hx_ctx_for(req, hx_settings());
            sbx_respond_json(resp, 200, hx_truth_json(&ctx, p, a));
        } else if (sbx_method_is(req, "PATCH")) {
            patch_appt(req, p, a, resp);
        } else if (sbx_method_is(req, "DELETE")) {
            hx_appt_unlink(p, a);
            sbx_respond_json(
                resp, 200, json_pack("{s:s, s:s}", "message", "Appointment deleted", "id", a->id));
            hx_appt_free(a);
        } else {
            sbx_respond_method_not_allowed(resp, "GET, PATCH, DELETE");
        }
    } else {
        sbx_respond_message(resp, 404, "No such control endpoint");
    }
    hx_unlock();
}

void hx_control_handle(const sbx_request *req, const char *rest, sbx_response *resp)
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
        sbx_tokens_expire_all(hx_tokens());
        sbx_respond_message(resp, 200, "Every token issued so far has expired");
    } else if (p.count >= 3 && sbx_seg_is(&p, 0, "practices")) {
        answer_practice(req, &p, resp);
    } else {
        sbx_respond_message(resp, 404, "No such control endpoint");
    }
}
