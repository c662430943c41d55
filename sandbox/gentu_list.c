/* GET /v1/tenants/{t}/appointments (declared in gentu.h): zod-style validation of the query,
 * cursor pages over one practitioner's schedule, includes, and malformed-record injection. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faults.h"
#include "gentu.h"
#include "gentu_cursor.h"
#include "gentu_json.h"
#include "stats.h"

static bool is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* An ISO 8601 timestamp with an offset, as zod's datetime({offset:true}) accepts. */
bool gentu_query_datetime(const sbx_request *req, const char *name, json_t *issues,
                          pms_instant *out)
{
    const char *value = sbx_query(req, name);
    if (value == NULL) {
        json_t *issue =
            gentu_validation_add(issues, NULL, "invalid_type", "Required", "query", name);
        json_object_set_new(issue, "expected", json_string("string"));
        json_object_set_new(issue, "received", json_string("undefined"));
        return false;
    }
    /* An unencoded '+' in the offset arrives as a space: that is the error this catches. */
    if (strlen(value) < 11 || value[10] != 'T' || strchr(value, ' ') != NULL ||
        pms_iso8601_parse(value, out, NULL, NULL) != PMS_OK) {
        gentu_validation_add(issues, "datetime", "invalid_string", "Invalid datetime", "query",
                             name);
        return false;
    }
    return true;
}

static bool parse_limit(const sbx_request *req, json_t *issues, int *out)
{
    const char *value = sbx_query(req, "limit");
    if (value == NULL) {
        json_t *issue =
            gentu_validation_add(issues, NULL, "invalid_type", "Required", "query", "limit");
        json_object_set_new(issue, "expected", json_string("number"));
        json_object_set_new(issue, "received", json_string("undefined"));
        return false;
    }
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0') {
        json_t *issue = gentu_validation_add(issues, NULL, "invalid_type",
                                             "Expected number, received nan", "query", "limit");
        json_object_set_new(issue, "expected", json_string("number"));
        json_object_set_new(issue, "received", json_string("nan"));
        return false;
    }
    if (v < 5 || v > 100) {
        json_t *issue = gentu_validation_add(issues, NULL, v < 5 ? "too_small" : "too_big",
                                             v < 5 ? "Number must be greater than or equal to 5"
                                                   : "Number must be less than or equal to 100",
                                             "query", "limit");
        json_object_set_new(issue, v < 5 ? "minimum" : "maximum", json_integer(v < 5 ? 5 : 100));
        json_object_set_new(issue, "type", json_string("number"));
        json_object_set_new(issue, "inclusive", json_true());
        return false;
    }
    *out = (int)v;
    return true;
}

typedef struct includes {
    bool patients, practitioners, referrals;
} includes;

static bool parse_include(const sbx_request *req, json_t *issues, includes *out)
{
    memset(out, 0, sizeof(*out));
    const char *value = sbx_query(req, "include");
    if (value == NULL)
        return true;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", value);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        if (strcmp(item, "patients") == 0) {
            out->patients = true;
        } else if (strcmp(item, "practitioners") == 0) {
            out->practitioners = true;
        } else if (strcmp(item, "referrals") == 0) {
            out->referrals = true;
        } else {
            gentu_validation_add(issues, NULL, "invalid_enum_value",
                                 "Invalid enum value. Expected 'patients' | 'practitioners' | "
                                 "'referrals'",
                                 "query", "include");
            return false;
        }
    }
    return true;
}

static void uuid_param(const sbx_request *req, const char *name, bool required, json_t *issues)
{
    const char *value = sbx_query(req, name);
    if (value == NULL) {
        if (required) {
            json_t *issue =
                gentu_validation_add(issues, NULL, "invalid_type", "Required", "query", name);
            json_object_set_new(issue, "expected", json_string("string"));
            json_object_set_new(issue, "received", json_string("undefined"));
        }
        return;
    }
    if (!is_uuid(value))
        gentu_validation_add(issues, "uuid", "invalid_string", "Invalid uuid", "query", name);
}

static void bad_cursor(sbx_response *resp, const char *message)
{
    json_t *issues = gentu_validation_new();
    gentu_validation_add(issues, NULL, "custom", message, "query", "cursor");
    sbx_respond_json(resp, 400, issues);
}

json_t *gentu_appt_out(const gentu_tenant *t, const gentu_appt *a, unsigned *malformed)
{
    unsigned variant;
    if (sbx_faults_malformed(a->id, &variant)) {
        (*malformed)++;
        return gentu_appt_malformed_json(t, a, variant);
    }
    return gentu_appt_json(t, a);
}

void gentu_list_appointments(const sbx_request *req, const gentu_tenant *t,
                             const sbx_gentu_config *s, sbx_response *resp)
{
    json_t *issues = gentu_validation_new();
    pms_instant from = 0, to = 0;
    int limit = 0;
    includes inc;
    bool from_ok = gentu_query_datetime(req, "fromDate", issues, &from);
    bool to_ok = gentu_query_datetime(req, "toDate", issues, &to);
    uuid_param(req, "practitionerId", true, issues);
    parse_limit(req, issues, &limit);
    uuid_param(req, "cursor", false, issues);
    parse_include(req, issues, &inc);
    if (from_ok && to_ok && s->max_window_days > 0 &&
        to - from > (pms_instant)s->max_window_days * 86400000) {
        char message[96];
        snprintf(message, sizeof(message), "Date range must not exceed %d days",
                 s->max_window_days);
        gentu_validation_add(issues, NULL, "custom", message, "query", "toDate");
    }
    if (gentu_validation_count(issues) > 0) {
        sbx_respond_json(resp, 400, issues);
        return;
    }
    json_decref(issues);
    const char *practitioner_id = sbx_query(req, "practitionerId");
    const char *cursor_id = sbx_query(req, "cursor");
    gentu_cursor cursor;
    if (cursor_id != NULL) {
        if (!gentu_cursor_load(cursor_id, &cursor)) {
            bad_cursor(resp, "Invalid or expired cursor");
            return;
        }
        if (s->cursor_bound && (strcmp(cursor.tenant_id, t->id) != 0 ||
                                strcasecmp(cursor.practitioner_id, practitioner_id) != 0 ||
                                cursor.from != from || cursor.to != to)) {
            bad_cursor(resp, "Cursor does not belong to this query");
            return;
        }
    }
    int page_size = limit;
    int cap = sbx_faults_page_size();
    if (cap > 0 && cap < page_size)
        page_size = cap;

    json_t *appointments = json_array();
    json_t *patients = inc.patients ? json_array() : NULL;
    json_t *practitioners = inc.practitioners ? json_array() : NULL;
    json_t *next = json_null();
    unsigned malformed = 0;
    int pi = gentu_find_practitioner(t, practitioner_id);
    if (pi >= 0) {
        const gentu_schedule *schedule = &t->schedules[pi];
        size_t i = gentu_schedule_seek(schedule, from, NULL);
        if (cursor_id != NULL) {
            size_t after = gentu_schedule_seek(schedule, cursor.last_start, cursor.last_id);
            if (after > i)
                i = after;
        }
        int taken = 0;
        const gentu_appt *last = NULL;
        bool *patient_seen = inc.patients ? calloc(t->patient_count, sizeof(bool)) : NULL;
        for (; i < schedule->count && taken < page_size; i++) {
            const gentu_appt *a = schedule->items[i];
            if (s->todate_inclusive ? a->start > to : a->start >= to)
                break;
            json_array_append_new(appointments, gentu_appt_out(t, a, &malformed));
            if (patients != NULL && a->patient >= 0 && patient_seen != NULL &&
                !patient_seen[a->patient]) {
                patient_seen[a->patient] = true;
                json_array_append_new(patients, gentu_patient_json(&t->patients[a->patient]));
            }
            last = a;
            taken++;
        }
        free(patient_seen);
        bool more = i < schedule->count && (s->todate_inclusive ? schedule->items[i]->start <= to
                                                                : schedule->items[i]->start < to);
        if (last != NULL && (more || (s->empty_last_page && taken == page_size))) {
            gentu_cursor c;
            memset(&c, 0, sizeof(c));
            snprintf(c.tenant_id, sizeof(c.tenant_id), "%s", t->id);
            snprintf(c.practitioner_id, sizeof(c.practitioner_id), "%s", practitioner_id);
            c.from = from;
            c.to = to;
            c.last_start = last->start;
            memcpy(c.last_id, last->id, sizeof(c.last_id));
            char id[SBX_UUID_LEN];
            if (gentu_cursor_save(&c, id)) {
                json_decref(next);
                next = json_string(id);
            }
        }
        if (practitioners != NULL && taken > 0)
            json_array_append_new(practitioners, gentu_user_json(t, &t->practitioners[pi]));
    }
    sbx_stats_fault(SBX_STAT_FAULT_MALFORMED, malformed);
    json_t *body = json_pack("{s:o, s:{s:o, s:i}}", "appointments", appointments, "pagination",
                             "next", next, "limit", page_size);
    if (patients != NULL)
        json_object_set_new(body, "patients", patients);
    if (practitioners != NULL)
        json_object_set_new(body, "practitioners", practitioners);
    if (inc.referrals)
        json_object_set_new(body, "referrals", json_array());
    sbx_respond_json(resp, 200, body);
    resp->truncatable = true;
}
