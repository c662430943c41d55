/* The Gentu controls under /_sandbox/gentu (declared in gentu.h): ground truth for tests,
 * settings for the guessed behaviours, token expiry, tenant access, and changes to
 * appointments and patients as if made in the PMS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "gentu.h"
#include "gentu_auth.h"
#include "gentu_json.h"
#include "truth.h"

static void method_not_allowed(sbx_response *resp, const char *allow)
{
    sbx_respond_message(resp, 405, "Method not allowed");
    sbx_response_header(resp, "Allow", allow);
}

/* pms-api-notes §2.5. */
static sbx_unified_status unified_status(gentu_status status)
{
    switch (status) {
    case GENTU_STATUS_NULL: /* "status": null is booked (the mapping) */
    case GENTU_STATUS_NONE:
        return SBX_UNIFIED_BOOKED;
    case GENTU_STATUS_CONFIRMED:
        return SBX_UNIFIED_CONFIRMED;
    case GENTU_STATUS_IN_WAITING_ROOM:
        return SBX_UNIFIED_ARRIVED;
    case GENTU_STATUS_WITH_DOCTOR:
        return SBX_UNIFIED_IN_PROGRESS;
    case GENTU_STATUS_COMPLETED:
    case GENTU_STATUS_INVOICED:
        return SBX_UNIFIED_COMPLETED;
    case GENTU_STATUS_CANCELLED:
        return SBX_UNIFIED_CANCELLED;
    case GENTU_STATUS_DID_NOT_ARRIVE:
        return SBX_UNIFIED_NO_SHOW;
    default:
        return SBX_UNIFIED_NULL;
    }
}

json_t *gentu_truth_json(const gentu_tenant *t, const gentu_appt *a)
{
    json_t *obj = gentu_appt_json(t, a);
    bool telehealth = a->type >= 0 && t->types[a->type].telehealth;
    sbx_truth_set_common(obj, a->id, unified_status(a->status), a->start, telehealth,
                         a->patient < 0);
    unsigned variant = 0;
    bool malformed = sbx_faults_malformed(a->id, &variant);
    char local_date[PMS_TIME_BUFLEN];
    pms_date_format(pms_tz_date_of(t->tz, a->start), local_date);
    json_object_set_new(obj, "_practitionerId", json_string(t->practitioners[a->practitioner].id));
    json_object_set_new(obj, "_patientId",
                        a->patient >= 0 ? json_string(t->patients[a->patient].id) : json_null());
    json_object_set_new(obj, "_appointmentTypeId",
                        a->type >= 0 ? json_string(t->types[a->type].id) : json_null());
    json_object_set_new(obj, "_telehealthType", json_boolean(telehealth));
    json_object_set_new(obj, "_malformed", json_boolean(malformed));
    if (malformed)
        json_object_set_new(obj, "_malformedKind", json_string(gentu_malformed_kind(variant)));
    json_object_set_new(obj, "_localDate", json_string(local_date));
    json_object_set_new(obj, "_minutes", json_integer(a->minutes));
    return obj;
}

static int compare_truth(const void *x, const void *y)
{
    const gentu_appt *a = *(const gentu_appt *const *)x;
    const gentu_appt *b = *(const gentu_appt *const *)y;
    return gentu_appt_order(a->start, a->id, b->start, b->id);
}

static void answer_truth(const sbx_request *req, sbx_response *resp)
{
    const char *tenant_id = sbx_query(req, "tenantId");
    if (tenant_id == NULL) {
        sbx_respond_message(resp, 400, "tenantId is required");
        return;
    }
    gentu_world *w = gentu_lock_read();
    const gentu_tenant *t = gentu_find_tenant(w, tenant_id);
    if (t == NULL) {
        sbx_respond_message(resp, 404, "Tenant not found");
        goto out;
    }
    pms_date from = pms_date_add_days(t->today, -w->config.days_before);
    pms_date to = pms_date_add_days(t->today, w->config.days_after);
    if (!sbx_truth_dates(req, &from, &to, resp))
        goto out;
    pms_instant lo = pms_tz_day_start(t->tz, from);
    pms_instant hi = pms_tz_day_start(t->tz, pms_date_add_days(to, 1));
    size_t capacity = t->appt_count > 0 ? t->appt_count : 1;
    const gentu_appt **found = malloc(capacity * sizeof(*found));
    if (found == NULL) {
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    size_t n = 0;
    for (size_t p = 0; p < t->practitioner_count; p++) {
        const gentu_schedule *s = &t->schedules[p];
        for (size_t i = gentu_schedule_seek(s, lo, NULL); i < s->count && s->items[i]->start < hi;
             i++)
            found[n++] = s->items[i];
    }
    qsort(found, n, sizeof(*found), compare_truth);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, gentu_truth_json(t, found[i]));
    free(found);
    char from_out[PMS_TIME_BUFLEN], to_out[PMS_TIME_BUFLEN];
    pms_date_format(from, from_out);
    pms_date_format(to, to_out);
    sbx_respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "tenantId", t->id, "timezone",
                               pms_tz_name(t->tz), "from", from_out, "to", to_out, "count",
                               (json_int_t)n, "appointments", list));
out:
    gentu_unlock();
}

static void answer_settings(const sbx_request *req, sbx_response *resp)
{
    if (sbx_method_is(req, "GET")) {
        gentu_lock_read();
        sbx_respond_json(resp, 200, gentu_settings_json(gentu_settings()));
        gentu_unlock();
        return;
    }
    if (!sbx_method_is(req, "PUT") && !sbx_method_is(req, "PATCH")) {
        method_not_allowed(resp, "GET, PUT, PATCH");
        return;
    }
    json_t *patch = sbx_parse_json_object(req, resp);
    if (patch == NULL)
        return;
    pms_error err;
    gentu_lock_write();
    if (gentu_settings_update(gentu_settings(), patch, &err) != PMS_OK)
        sbx_respond_message(resp, 400, err.message);
    else
        sbx_respond_json(resp, 200, gentu_settings_json(gentu_settings()));
    gentu_unlock();
    json_decref(patch);
}

static void answer_access(const sbx_request *req, gentu_tenant *t, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    const char *access = json_string_value(json_object_get(body, "access"));
    if (access != NULL && strcmp(access, "enabled") == 0)
        t->access = GENTU_ACCESS_ENABLED;
    else if (access != NULL && strcmp(access, "disabled") == 0)
        t->access = GENTU_ACCESS_DISABLED;
    else if (access != NULL && strcmp(access, "unpaired") == 0)
        t->access = GENTU_ACCESS_UNPAIRED;
    else
        access = NULL;
    if (access == NULL)
        sbx_respond_message(resp, 400, "access must be \"enabled\", \"disabled\" or \"unpaired\"");
    else
        sbx_respond_json(resp, 200, json_pack("{s:s, s:s}", "tenantId", t->id, "access", access));
    json_decref(body); /* access points into it */
}

/* What a create or patch body asks for; has_* says which keys were given. */
typedef struct appt_changes {
    bool has_practitioner, has_patient, has_type, has_start, has_minutes, has_status;
    bool has_comment, has_description, has_end_null, has_minutes_null;
    int practitioner, patient, type;
    pms_instant start;
    const char *local_kind; /* "unique" | "gap" | "overlap" when startAt was local time */
    int minutes;            /* -1 with has_minutes: "minutesDuration": null */
    gentu_status status;
    const char *comment, *description; /* borrowed from the body; NULL = null */
    bool end_null, minutes_null;
} appt_changes;

static bool nullable_string(const json_t *v, const char **out)
{
    if (json_is_null(v)) {
        *out = NULL;
        return true;
    }
    if (!json_is_string(v))
        return false;
    *out = json_string_value(v);
    return true;
}

static int parse_start(const gentu_tenant *t, const json_t *v, appt_changes *c, pms_error *err)
{
    const char *s = json_string_value(v);
    if (s == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "startAt must be a string");
    if (pms_iso8601_parse(s, &c->start, NULL, NULL) == PMS_OK) {
        c->local_kind = NULL;
        return PMS_OK;
    }
    pms_civil local;
    if (pms_iso8601_parse_local(s, &local, NULL) != PMS_OK)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "startAt must be local \"YYYY-MM-DDThh:mm\" or ISO 8601 with offset");
    pms_tz_local_kind kind = PMS_TZ_LOCAL_UNIQUE;
    c->start = pms_tz_from_local(t->tz, &local, &kind);
    c->local_kind = kind == PMS_TZ_LOCAL_GAP       ? "gap"
                    : kind == PMS_TZ_LOCAL_OVERLAP ? "overlap"
                                                   : "unique";
    return PMS_OK;
}

static int parse_change(const gentu_tenant *t, const char *key, const json_t *v, appt_changes *c,
                        pms_error *err)
{
    if (strcmp(key, "practitionerId") == 0) {
        const char *s = json_string_value(v);
        c->has_practitioner = true;
        c->practitioner = s != NULL ? gentu_find_practitioner(t, s) : -1;
        if (c->practitioner < 0)
            return pms_error_set(err, PMS_ERR_INVALID, "practitionerId is not in this tenant");
    } else if (strcmp(key, "patientId") == 0) {
        c->has_patient = true;
        c->patient = -1;
        if (!json_is_null(v)) {
            const char *s = json_string_value(v);
            const gentu_patient *p = s != NULL ? gentu_find_patient(t, s) : NULL;
            if (p == NULL)
                return pms_error_set(err, PMS_ERR_INVALID, "patientId is not in this tenant");
            c->patient = (int)(p - t->patients);
        }
    } else if (strcmp(key, "appointmentTypeId") == 0) {
        c->has_type = true;
        c->type = -1;
        if (!json_is_null(v)) {
            const char *s = json_string_value(v);
            c->type = s != NULL ? gentu_find_type(t, s) : -1;
            if (c->type < 0)
                return pms_error_set(err, PMS_ERR_INVALID,
                                     "appointmentTypeId is not in this tenant");
        }
    } else if (strcmp(key, "startAt") == 0) {
        c->has_start = true;
        return parse_start(t, v, c, err);
    } else if (strcmp(key, "minutesDuration") == 0) {
        c->has_minutes = true;
        if (json_is_null(v)) {
            c->minutes = -1;
        } else if (json_is_integer(v) && json_integer_value(v) > 0 &&
                   json_integer_value(v) <= 24 * 60) {
            c->minutes = (int)json_integer_value(v);
        } else {
            return pms_error_set(err, PMS_ERR_INVALID,
                                 "minutesDuration must be an integer in 1..1440 or null");
        }
    } else if (strcmp(key, "status") == 0) {
        c->has_status = true;
        c->status = GENTU_STATUS_NULL;
        if (!json_is_null(v) &&
            (!json_is_string(v) || !gentu_status_parse(json_string_value(v), &c->status)))
            return pms_error_set(err, PMS_ERR_INVALID, "status is not a Gentu status");
    } else if (strcmp(key, "comment") == 0) {
        c->has_comment = true;
        if (!nullable_string(v, &c->comment))
            return pms_error_set(err, PMS_ERR_INVALID, "comment must be a string or null");
    } else if (strcmp(key, "description") == 0) {
        c->has_description = true;
        if (!nullable_string(v, &c->description))
            return pms_error_set(err, PMS_ERR_INVALID, "description must be a string or null");
    } else if (strcmp(key, "nullEndAt") == 0 || strcmp(key, "nullMinutesDuration") == 0) {
        if (!json_is_boolean(v))
            return pms_error_set(err, PMS_ERR_INVALID, "%s must be true or false", key);
        if (key[4] == 'E') {
            c->has_end_null = true;
            c->end_null = json_is_true(v);
        } else {
            c->has_minutes_null = true;
            c->minutes_null = json_is_true(v);
        }
    } else {
        return pms_error_set(err, PMS_ERR_INVALID, "unknown field: %s", key);
    }
    return PMS_OK;
}

static int parse_changes(const gentu_tenant *t, const json_t *body, appt_changes *c, pms_error *err)
{
    memset(c, 0, sizeof(*c));
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)body, key, value)
    {
        int rc = parse_change(t, key, value, c, err);
        if (rc != PMS_OK)
            return rc;
    }
    return PMS_OK;
}

/* Sets the status and what goes with it (arrival and cancellation times), at the real clock. */
static void set_status(gentu_appt *a, gentu_status status)
{
    pms_instant now = pms_now() / 1000 * 1000;
    a->status = status;
    if (status == GENTU_STATUS_CANCELLED) {
        if (a->cancelled_at == PMS_INSTANT_NONE)
            a->cancelled_at = now;
    } else {
        a->cancelled_at = PMS_INSTANT_NONE;
    }
    bool arrived = status == GENTU_STATUS_IN_WAITING_ROOM || status == GENTU_STATUS_WITH_DOCTOR ||
                   status == GENTU_STATUS_COMPLETED || status == GENTU_STATUS_INVOICED;
    if (!arrived)
        a->arrived_at = PMS_INSTANT_NONE;
    else if (a->arrived_at == PMS_INSTANT_NONE && a->site >= 0 &&
             (status == GENTU_STATUS_IN_WAITING_ROOM || status == GENTU_STATUS_WITH_DOCTOR))
        a->arrived_at = now;
}

/* Applies parsed changes to a (unlinked) appointment; false when out of memory. */
static bool apply_changes(const gentu_tenant *t, gentu_appt *a, const appt_changes *c)
{
    if (c->has_comment && !gentu_set_string(&a->comment, c->comment))
        return false;
    if (c->has_description && !gentu_set_string(&a->description, c->description))
        return false;
    if (c->has_practitioner)
        a->practitioner = c->practitioner;
    if (c->has_patient)
        a->patient = c->patient;
    if (c->has_type) {
        a->type = c->type;
        if (!c->has_minutes && c->type >= 0 && t->types[c->type].duration > 0)
            a->minutes = t->types[c->type].duration;
    }
    if (c->has_start)
        a->start = c->start;
    if (c->has_minutes) {
        a->minutes_null = c->minutes < 0;
        if (c->minutes > 0)
            a->minutes = c->minutes;
    }
    if (c->has_end_null)
        a->end_null = c->end_null;
    if (c->has_minutes_null)
        a->minutes_null = c->minutes_null;
    if (c->has_status)
        set_status(a, c->status);
    return true;
}

static void create_appt(const sbx_request *req, gentu_world *w, gentu_tenant *t, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    appt_changes c;
    pms_error err;
    gentu_appt *a = NULL;
    if (parse_changes(t, body, &c, &err) != PMS_OK) {
        sbx_respond_message(resp, 400, err.message);
        goto out;
    }
    if (!c.has_practitioner || !c.has_start) {
        sbx_respond_message(resp, 400, "practitionerId and startAt are required");
        goto out;
    }
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    sbx_prng_uuid(&w->mutation_prng, a->id);
    a->patient = c.has_patient ? c.patient
                               : (int)sbx_prng_below(&w->mutation_prng, (uint32_t)t->patient_count);
    a->type = c.has_type ? c.type : 0;
    a->site = a->type >= 0 && t->types[a->type].telehealth ? -1 : 0;
    a->minutes = a->type >= 0 && t->types[a->type].duration > 0 ? t->types[a->type].duration : 15;
    a->arrived_at = PMS_INSTANT_NONE;
    a->cancelled_at = PMS_INSTANT_NONE;
    a->status = GENTU_STATUS_NONE;
    c.has_type = false; /* already applied, with its duration */
    if (!apply_changes(t, a, &c) || gentu_appt_insert(t, a, &err) != PMS_OK) {
        gentu_appt_free(a);
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    json_t *created = gentu_truth_json(t, a);
    if (c.local_kind != NULL)
        json_object_set_new(created, "_localKind", json_string(c.local_kind));
    sbx_respond_json(resp, 201, created);
out:
    json_decref(body);
}

static void patch_appt(const sbx_request *req, gentu_tenant *t, gentu_appt *a, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    appt_changes c;
    pms_error err;
    if (parse_changes(t, body, &c, &err) != PMS_OK) {
        sbx_respond_message(resp, 400, err.message);
        goto out;
    }
    gentu_appt_unlink(t, a);
    bool ok = apply_changes(t, a, &c);
    if (gentu_appt_insert(t, a, &err) != PMS_OK) {
        gentu_appt_free(a);
        ok = false;
    }
    if (!ok) {
        sbx_respond_message(resp, 500, "Out of memory");
        goto out;
    }
    json_t *changed = gentu_truth_json(t, a);
    if (c.local_kind != NULL)
        json_object_set_new(changed, "_localKind", json_string(c.local_kind));
    sbx_respond_json(resp, 200, changed);
out:
    json_decref(body);
}

static const char *const patient_prefixes[] = {"Mr", "Mrs", "Ms", "Miss", "Dr", "Mx"};

static const char *known_prefix(const char *s)
{
    for (size_t i = 0; s != NULL && i < sizeof(patient_prefixes) / sizeof(patient_prefixes[0]);
         i++) {
        if (strcmp(s, patient_prefixes[i]) == 0)
            return patient_prefixes[i];
    }
    return NULL;
}

static bool is_contact_key(const char *key)
{
    return strcmp(key, "mobile") == 0 || strcmp(key, "phone") == 0 ||
           strcmp(key, "landline") == 0 || strcmp(key, "email") == 0;
}

/* Checks a patient patch completely before anything changes. */
static int validate_patient_patch(const json_t *body, pms_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (is_contact_key(key)) {
            if (!json_is_null(v) && !json_is_string(v))
                return pms_error_set(err, PMS_ERR_INVALID, "%s must be a string or null", key);
            continue;
        }
        if (strcmp(key, "name") != 0 || !json_is_object(v))
            return pms_error_set(err, PMS_ERR_INVALID, "unknown or invalid field: %s", key);
        const char *part;
        json_t *pv;
        json_object_foreach(v, part, pv)
        {
            if (strcmp(part, "family") == 0 || strcmp(part, "given") == 0) {
                if (!json_is_string(pv) || json_string_length(pv) == 0)
                    return pms_error_set(err, PMS_ERR_INVALID, "name.%s must be a non-empty string",
                                         part);
            } else if (strcmp(part, "prefix") == 0) {
                if (!json_is_null(pv) && known_prefix(json_string_value(pv)) == NULL)
                    return pms_error_set(err, PMS_ERR_INVALID,
                                         "name.prefix must be Mr, Mrs, Ms, Miss, Dr, Mx or null");
            } else {
                return pms_error_set(err, PMS_ERR_INVALID, "unknown field: name.%s", part);
            }
        }
    }
    return PMS_OK;
}

/* given holds first and middle names; the firstname/middlename extensions follow it. */
static bool set_given(gentu_patient *p, const char *given)
{
    const char *space = strchr(given, ' ');
    char first[128];
    snprintf(first, sizeof(first), "%.*s",
             space != NULL ? (int)(space - given) : (int)strlen(given), given);
    return gentu_set_string(&p->given, given) && gentu_set_string(&p->first, first) &&
           gentu_set_string(&p->middle, space != NULL ? space + 1 : NULL);
}

static bool apply_patient_patch(gentu_patient *p, const json_t *body)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (is_contact_key(key)) {
            char **field = key[0] == 'l' ? &p->landline : key[0] == 'e' ? &p->email : &p->mobile;
            if (!gentu_set_string(field, json_string_value(v)))
                return false;
            if (field == &p->email)
                p->email_enabled = p->email != NULL && p->email_enabled;
            continue;
        }
        json_t *family = json_object_get(v, "family");
        json_t *given = json_object_get(v, "given");
        json_t *prefix = json_object_get(v, "prefix");
        if (family != NULL && !gentu_set_string(&p->family, json_string_value(family)))
            return false;
        if (given != NULL && !set_given(p, json_string_value(given)))
            return false;
        if (prefix != NULL)
            p->prefix = known_prefix(json_string_value(prefix));
    }
    return true;
}

static void patch_patient(const sbx_request *req, gentu_patient *p, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    pms_error err;
    if (validate_patient_patch(body, &err) != PMS_OK)
        sbx_respond_message(resp, 400, err.message);
    else if (!apply_patient_patch(p, body))
        sbx_respond_message(resp, 500, "Out of memory");
    else
        sbx_respond_json(resp, 200, gentu_patient_json(p));
    json_decref(body);
}

/* /tenants/{tid}/... */
static void answer_tenant(const sbx_request *req, const sbx_path *p, sbx_response *resp)
{
    gentu_world *w = gentu_lock_write();
    gentu_tenant *t = gentu_find_tenant(w, p->seg[1]);
    if (t == NULL) {
        sbx_respond_message(resp, 404, "Tenant not found");
        goto out;
    }
    if (p->count == 3 && sbx_seg_is(p, 2, "access")) {
        if (!sbx_method_is(req, "PUT"))
            method_not_allowed(resp, "PUT");
        else
            answer_access(req, t, resp);
    } else if (p->count == 3 && sbx_seg_is(p, 2, "appointments")) {
        if (!sbx_method_is(req, "POST"))
            method_not_allowed(resp, "POST");
        else
            create_appt(req, w, t, resp);
    } else if (p->count == 4 && sbx_seg_is(p, 2, "appointments")) {
        gentu_appt *a = gentu_find_appt(t, p->seg[3]);
        if (a == NULL) {
            sbx_respond_message(resp, 404, "Appointment not found");
        } else if (sbx_method_is(req, "GET")) {
            sbx_respond_json(resp, 200, gentu_truth_json(t, a));
        } else if (sbx_method_is(req, "PATCH")) {
            patch_appt(req, t, a, resp);
        } else if (sbx_method_is(req, "DELETE")) {
            gentu_appt_unlink(t, a);
            sbx_respond_json(
                resp, 200, json_pack("{s:s, s:s}", "message", "Appointment deleted", "id", a->id));
            gentu_appt_free(a);
        } else {
            method_not_allowed(resp, "GET, PATCH, DELETE");
        }
    } else if (p->count == 4 && sbx_seg_is(p, 2, "patients")) {
        gentu_patient *patient = gentu_find_patient(t, p->seg[3]);
        if (patient == NULL)
            sbx_respond_message(resp, 404, "Patient not found");
        else if (sbx_method_is(req, "GET"))
            sbx_respond_json(resp, 200, gentu_patient_json(patient));
        else if (sbx_method_is(req, "PATCH"))
            patch_patient(req, patient, resp);
        else
            method_not_allowed(resp, "GET, PATCH");
    } else {
        sbx_respond_message(resp, 404, "No such control endpoint");
    }
out:
    gentu_unlock();
}

void gentu_control_handle(const sbx_request *req, const char *rest, sbx_response *resp)
{
    sbx_path p;
    sbx_path_split(rest, &p);
    if (p.count == 1 && sbx_seg_is(&p, 0, "truth")) {
        if (!sbx_method_is(req, "GET"))
            method_not_allowed(resp, "GET");
        else
            answer_truth(req, resp);
    } else if (p.count == 1 && sbx_seg_is(&p, 0, "settings")) {
        answer_settings(req, resp);
    } else if (p.count == 2 && sbx_seg_is(&p, 0, "tokens") && sbx_seg_is(&p, 1, "expire")) {
        if (!sbx_method_is(req, "POST")) {
            method_not_allowed(resp, "POST");
            return;
        }
        gentu_tokens_expire_all();
        sbx_respond_message(resp, 200, "Every token issued so far has expired");
    } else if (p.count >= 3 && sbx_seg_is(&p, 0, "tenants")) {
        answer_tenant(req, &p, resp);
    } else {
        sbx_respond_message(resp, 404, "No such control endpoint");
    }
}
