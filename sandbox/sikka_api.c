/* The Sikka API v4 reads (declared in sikka.h): routing, App-Id/App-Key and request-key
 * auth, the string list envelope paged by page index, the rate window headers, and the data
 * endpoints. Writebacks are in sikka_write.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataset.h"
#include "faults.h"
#include "pmsync/http.h"
#include "sikka.h"
#include "stats.h"

typedef enum sk_endpoint {
    EP_UNKNOWN = 0,
    EP_PRACTICES,
    EP_TOKEN,
    EP_KEY_INFO,
    EP_PROVIDERS,
    EP_OPERATORIES,
    EP_STATUSES,
    EP_APPOINTMENTS,
    EP_APPOINTMENT_WRITE,
    EP_BOOK,
    EP_PATIENTS,
    EP_SLOTS,
    EP_SCHEDULE,
    EP_WRITEBACK_STATUS,
    EP_WRITEBACKS,
    EP_COUNT,
} sk_endpoint;

static const char *const endpoint_names[EP_COUNT] = {
    [EP_UNKNOWN] = "sikka.unknown",
    [EP_PRACTICES] = "sikka.authorized_practices",
    [EP_TOKEN] = "sikka.token",
    [EP_KEY_INFO] = "sikka.request_key_info",
    [EP_PROVIDERS] = "sikka.providers",
    [EP_OPERATORIES] = "sikka.operatories",
    [EP_STATUSES] = "sikka.appointment_statuses",
    [EP_APPOINTMENTS] = "sikka.appointments",
    [EP_APPOINTMENT_WRITE] = "sikka.appointment_write",
    [EP_BOOK] = "sikka.book",
    [EP_PATIENTS] = "sikka.patient",
    [EP_SLOTS] = "sikka.available_slots",
    [EP_SCHEDULE] = "sikka.practice_schedule",
    [EP_WRITEBACK_STATUS] = "sikka.writeback_status",
    [EP_WRITEBACKS] = "sikka.writebacks",
};

typedef struct sk_route {
    sk_endpoint endpoint;
    sbx_path path;
    const char *id; /* appointment_sr_no in /appointments/{id} */
} sk_route;

static void parse_route(const char *full_path, sk_route *r)
{
    memset(r, 0, sizeof(*r));
    sbx_path_split(full_path + strlen("/sikka"), &r->path);
    const sbx_path *p = &r->path;
    int first = p->count > 0 && sbx_seg_is(p, 0, "v4") ? 1 : 0;
    int n = p->count - first;
    if (n < 1 || n > 2)
        return;
    const char *name = p->seg[first];
    static const struct {
        const char *name;
        sk_endpoint endpoint;
    } table[] = {
        {"authorized_practices", EP_PRACTICES},
        {"request_key", EP_TOKEN},
        {"request_key_info", EP_KEY_INFO},
        {"providers", EP_PROVIDERS},
        {"operatories", EP_OPERATORIES},
        {"appointment_statuses", EP_STATUSES},
        {"appointments", EP_APPOINTMENTS},
        {"appointment", EP_BOOK},
        {"patients", EP_PATIENTS},
        {"appointments_available_slots", EP_SLOTS},
        {"practice_schedule", EP_SCHEDULE},
        {"writeback_status", EP_WRITEBACK_STATUS},
        {"writebacks", EP_WRITEBACKS},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0)
            r->endpoint = table[i].endpoint;
    if (n == 2) {
        if (r->endpoint != EP_APPOINTMENTS) {
            r->endpoint = EP_UNKNOWN;
            return;
        }
        r->endpoint = EP_APPOINTMENT_WRITE;
        r->id = p->seg[first + 1];
    }
}

void sk_api_route(const sbx_request *req, sbx_route_info *info)
{
    sk_route r;
    parse_route(req->path, &r);
    info->endpoint = endpoint_names[r.endpoint];
    info->is_token = r.endpoint == EP_TOKEN;
    int owner = -1;
    const char *key = sbx_header(req, "Request-Key");
    if (key == NULL)
        key = sbx_query(req, "request_key");
    if (key != NULL && sbx_token_check(sk_request_keys(), key, &owner) == SBX_TOKEN_VALID) {
        sk_world *w = sk_lock();
        if (owner >= 0 && (size_t)owner < w->practice_count)
            sbx_copy_id(info->tenant_id, sizeof(info->tenant_id), w->practices[owner].office_id);
        sk_unlock();
    }
    sbx_copy_id(info->practitioner_id, sizeof(info->practitioner_id),
                sbx_query(req, "provider_id"));
}

/* ---- envelopes ----------------------------------------------------------------------- */

static const char *status_desc(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "NoContent";
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 409:
        return "Conflict";
    case 412:
        return "PreconditionFailed";
    case 429:
        return "TooManyRequests";
    case 503:
        return "ServiceUnavailable";
    case 504:
        return "GatewayTimeout";
    default:
        return "InternalServerError";
    }
}

void sk_respond_error(sbx_response *resp, int status, const char *code, const char *short_message,
                      const char *long_message)
{
    char http_code[8];
    snprintf(http_code, sizeof(http_code), "%d", status);
    sbx_respond_json(resp, status,
                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "http_code", http_code,
                               "http_code_desc", status_desc(status), "error_code", code,
                               "short_message", short_message, "long_message", long_message,
                               "more_information", "https://apidocs.sikkasoft.com"));
}

void sk_api_fault(int status, const sbx_route_info *info, sbx_response *resp)
{
    (void)info;
    if (status == 429)
        sk_respond_error(resp, 429, "API2012", "Too many requests", "Request limit exceeded");
    else if (status == 503)
        sk_respond_error(resp, 503, "API2002", "Service unavailable", "Server is overloaded");
    else if (status == 504)
        sk_respond_error(resp, 504, "API2022", "Gateway timeout", "Gateway timeout");
    else
        sk_respond_error(resp, status, "API2001", "Internal error", "Internal server error");
}

static char *page_url(const sbx_request *req, long page, long limit)
{
    char *url = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&url, &len);
    if (out == NULL)
        return NULL;
    fprintf(out, "%s%s?", req->base_url, req->path);
    for (size_t i = 0; i < req->query_count; i++) {
        const char *k = req->query[i].key;
        if (strcmp(k, "offset") == 0 || strcmp(k, "limit") == 0 || req->query[i].value == NULL)
            continue;
        char *v = pms_url_encode(req->query[i].value);
        fprintf(out, "%s=%s&", k, v ? v : "");
        free(v);
    }
    fprintf(out, "offset=%ld&limit=%ld", page, limit);
    fclose(out);
    return url;
}

static long query_long(const sbx_request *req, const char *key, long fallback)
{
    const char *v = sbx_query(req, key);
    if (v == NULL || v[0] == '\0')
        return fallback;
    char *end;
    long n = strtol(v, &end, 10);
    return *end == '\0' && n >= 0 ? n : -1;
}

void sk_respond_list(const sbx_request *req, sbx_response *resp, json_t *items)
{
    long limit = query_long(req, "limit", 50), page = query_long(req, "offset", 0);
    if (limit <= 0 || page < 0) {
        json_decref(items);
        sk_respond_error(resp, 400, "API1026", "Invalid parameter", "offset or limit is invalid");
        return;
    }
    if (limit > 5000)
        limit = 5000;
    int cap = sbx_faults_page_size();
    if (cap > 0 && limit > cap)
        limit = cap;
    size_t total = json_array_size(items);
    size_t first = (size_t)page * (size_t)limit;
    json_t *slice = json_array();
    for (size_t i = first; i < total && i < first + (size_t)limit; i++)
        json_array_append(slice, json_array_get(items, i));
    json_decref(items);
    if (json_array_size(slice) == 0 && sk_settings_get()->empty_204) {
        json_decref(slice);
        sk_respond_error(resp, 204, "API2005", "No content", "No records found");
        free(resp->body);
        resp->body = NULL;
        resp->body_len = 0;
        return;
    }
    long last = total == 0 ? 0 : (long)((total - 1) / (size_t)limit);
    char *cur = page_url(req, page, limit), *firsturl = page_url(req, 0, limit);
    char *next = page < last ? page_url(req, page + 1, limit) : NULL;
    char *prev = page > 0 ? page_url(req, page - 1, limit) : NULL;
    char *lasturl = page_url(req, last, limit);
    char offset_s[24], limit_s[24], total_s[24];
    snprintf(offset_s, sizeof(offset_s), "%ld", page);
    snprintf(limit_s, sizeof(limit_s), "%ld", limit);
    snprintf(total_s, sizeof(total_s), "%zu", total);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:o}", "offset",
                             offset_s, "limit", limit_s, "total_count", total_s, "execution_time",
                             "12", "pagination", "first", firsturl ? firsturl : "", "previous",
                             prev ? prev : "", "current", cur ? cur : "", "next", next ? next : "",
                             "last", lasturl ? lasturl : "", "items", slice);
    free(cur);
    free(firsturl);
    free(next);
    free(prev);
    free(lasturl);
    sbx_respond_json(resp, 200, body);
    resp->truncatable = true;
}

/* ---- auth ---------------------------------------------------------------------------- */

/* The practice of the App-Id/App-Key headers; answers the error and returns NULL otherwise. */
static sk_practice *app_auth(const sbx_request *req, sk_world *w, sbx_response *resp)
{
    const char *id = sbx_header(req, "App-Id"), *key = sbx_header(req, "App-Key");
    if (id == NULL) {
        sk_respond_error(resp, 400, "API1001", "Missing Parameter", "App-Id is missing");
        return NULL;
    }
    if (key == NULL) {
        sk_respond_error(resp, 400, "API1002", "Missing Parameter", "App-Key is missing");
        return NULL;
    }
    sk_practice *p = sk_find_app(w, id, key);
    if (p == NULL)
        sk_respond_error(resp, 401, "API2003", "Unauthorized", "Invalid App-Id or App-Key");
    return p;
}

/* The practice of the request key; answers the error and returns NULL otherwise. */
static sk_practice *key_auth(const sbx_request *req, sk_world *w, sbx_response *resp)
{
    const char *key = sbx_header(req, "Request-Key");
    if (key == NULL)
        key = sbx_query(req, "request_key");
    int owner = -1;
    sbx_token_state state =
        key != NULL ? sbx_token_check(sk_request_keys(), key, &owner) : SBX_TOKEN_UNKNOWN;
    if (state == SBX_TOKEN_EXPIRED) {
        sk_respond_error(resp, 400, "API1025", "Request key expired",
                         "Request key is expired. Please use refresh key to get a new one");
        return NULL;
    }
    if (state != SBX_TOKEN_VALID || owner < 0 || (size_t)owner >= w->practice_count) {
        sk_respond_error(resp, 400, "API1004", "Missing Parameter",
                         "Requestkey is missing/invalid");
        return NULL;
    }
    sk_practice *p = &w->practices[owner];
    const char *practice_id = sbx_query(req, "practice_id");
    if (practice_id != NULL && practice_id[0] != '\0' && strcmp(practice_id, p->practice_id) != 0) {
        sk_respond_error(resp, 401, "API2007", "Unauthorized",
                         "Practice is not authorized for this application");
        return NULL;
    }
    return p;
}

static void answer_token(const sbx_request *req, sk_world *w, sbx_response *resp)
{
    if (!sbx_method_is(req, "POST")) {
        sk_respond_error(resp, 405, "API2014", "Method not allowed", "Use POST");
        return;
    }
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
    const char *grant = json_string_value(json_object_get(body, "grant_type"));
    const char *app_id = json_string_value(json_object_get(body, "app_id"));
    const char *app_key = json_string_value(json_object_get(body, "app_key"));
    sk_practice *p = sk_find_app(w, app_id, app_key);
    if (grant == NULL || app_id == NULL || app_key == NULL) {
        sk_respond_error(resp, 400, "API1026", "Missing Parameter",
                         "grant_type, app_id and app_key are required");
        goto out;
    }
    if (p == NULL) {
        sk_respond_error(resp, 401, "API2003", "Unauthorized", "Invalid app_id or app_key");
        goto out;
    }
    if (strcmp(grant, "request_key") == 0) {
        const char *office = json_string_value(json_object_get(body, "office_id"));
        const char *secret = json_string_value(json_object_get(body, "secret_key"));
        if (office == NULL || secret == NULL) {
            sk_respond_error(resp, 400, "API1005", "Missing Parameter",
                             "office_id or secret_key is missing");
            goto out;
        }
        if (strcmp(office, p->office_id) != 0 || strcmp(secret, p->secret_key) != 0) {
            sk_respond_error(resp, 401, "API2007", "Unauthorized",
                             "Practice is not authorized for this application");
            goto out;
        }
        if (p->refresh_key[0] == '\0') {
            sbx_prng prng = w->mutation_prng;
            sbx_prng_next(&w->mutation_prng);
            static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
            for (int i = 0; i < SK_KEY_LEN - 1; i++)
                p->refresh_key[i] = alphabet[sbx_prng_below(&prng, sizeof(alphabet) - 1)];
        }
    } else if (strcmp(grant, "refresh_key") == 0) {
        const char *refresh = json_string_value(json_object_get(body, "refresh_key"));
        if (refresh == NULL || p->refresh_key[0] == '\0' || strcmp(refresh, p->refresh_key) != 0) {
            sk_respond_error(resp, 401, "API2003", "Unauthorized", "Invalid refresh key");
            goto out;
        }
    } else {
        sk_respond_error(resp, 400, "API1026", "Invalid parameter", "Unknown grant_type");
        goto out;
    }
    int lifetime = sbx_faults_token_lifetime(SK_KEY_LIFETIME);
    char key[SK_KEY_LEN];
    pms_error err;
    if (sbx_token_mint(sk_request_keys(), SK_KEY_LEN - 1, lifetime, (int)(p - w->practices), key,
                       &err) != PMS_OK) {
        sk_respond_error(resp, 500, "API2001", "Internal error", "Could not issue a key");
        goto out;
    }
    pms_instant now = pms_now();
    char start[PMS_TIME_BUFLEN], end[PMS_TIME_BUFLEN], expires[48], href[200];
    pms_format_utc(now, start);
    pms_format_utc(now + (pms_instant)lifetime * 1000, end);
    start[19] = end[19] = '\0';
    snprintf(expires, sizeof(expires), "%d second(s)", lifetime);
    snprintf(href, sizeof(href), "%s/sikka/v4/request_key_info?request_key=%s", req->base_url, key);
    sbx_respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "href",
                               href, "request_key", key, "start_time", start, "end_time", end,
                               "expires_in", expires, "issued_to", p->office_id, "status", "active",
                               "request_count", "1", "scope",
                               "start,end,appointment_statuses,appointments,patients,providers",
                               "domain", "Dental", "refresh_key", p->refresh_key));
out:
    json_decref(body);
}

/* ---- rate window --------------------------------------------------------------------- */

typedef struct rate_window {
    pms_instant start;
    int used;
} rate_window;
static rate_window windows[64];

/* Counts the request against the practice's window and sets the headers; false when over. */
static bool rate_count(size_t practice, const sk_settings *s, sbx_response *resp)
{
    rate_window *rw = &windows[practice % 64];
    pms_instant now = pms_now();
    if (now - rw->start >= (pms_instant)s->rate_window * 1000) {
        rw->start = now;
        rw->used = 0;
    }
    bool allowed = rw->used < s->rate_limit;
    if (allowed)
        rw->used++;
    long reset_ms = (long)(rw->start + (pms_instant)s->rate_window * 1000 - now);
    char limit[24], remaining[24], reset[24];
    snprintf(limit, sizeof(limit), "%d", s->rate_limit);
    snprintf(remaining, sizeof(remaining), "%d", s->rate_limit - rw->used);
    snprintf(reset, sizeof(reset), "%ld", (reset_ms + 999) / 1000);
    if (!allowed)
        sk_respond_error(resp, 429, "API2012", "Too many requests",
                         "Rate limit exceeded; wait for the window to reset");
    sbx_response_header(resp, "X-Rate-Limit-Limit", limit);
    sbx_response_header(resp, "X-Rate-Limit-Remaining", remaining);
    sbx_response_header(resp, "X-Rate-Limit-Reset", reset);
    return allowed;
}

/* ---- data ---------------------------------------------------------------------------- */

void sk_format_date(pms_date day, char out[32])
{
    snprintf(out, 32, "%04d-%02d-%02dT00:00:00", day.year, day.month, day.day);
}

static void format_stamp(const pms_tz *tz, pms_instant t, char out[32])
{
    pms_civil c;
    pms_tz_to_local(tz, t, &c);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
             c.second);
}

static bool wants_field(const sbx_request *req, const char *field)
{
    const char *fields = sbx_query(req, "fields");
    if (fields == NULL)
        return false;
    if (strcmp(fields, "get_all") == 0)
        return true;
    size_t n = strlen(field);
    for (const char *p = fields; (p = strstr(p, field)) != NULL; p += n)
        if ((p == fields || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

/* Keeps only the named fields when lightweight=true. */
static json_t *lightweight(const sbx_request *req, json_t *obj)
{
    const char *light = sbx_query(req, "lightweight");
    if (light == NULL || strcasecmp(light, "true") != 0 || sbx_query(req, "fields") == NULL)
        return obj;
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (wants_field(req, key))
            json_object_set(out, key, v);
    }
    json_decref(obj);
    return out;
}

const char *sk_malformed_kind(unsigned variant)
{
    static const char *const kinds[3] = {"missing id", "time is not a time",
                                         "length is not a number"};
    return kinds[variant % 3];
}

json_t *sk_appt_json(const sbx_request *req, const sk_practice *p, const sk_appt *a, bool all)
{
    char base[160], href[220], phref[220], prhref[220], date[32], time[8], length[12], made[32];
    snprintf(base, sizeof(base), "%s/sikka/v4/practices/%s", req ? req->base_url : "",
             p->practice_id);
    snprintf(href, sizeof(href), "%s/appointments/%s", base, a->id);
    const sk_patient *pt = &p->patients[a->patient];
    const sk_provider *pr = &p->providers[a->provider];
    snprintf(phref, sizeof(phref), "%s/patients/%s", base, pt->id);
    snprintf(prhref, sizeof(prhref), "%s/providers/%s", base, pr->id);
    sk_format_date((pms_date){a->local.year, a->local.month, a->local.day}, date);
    snprintf(time, sizeof(time), "%02d:%02d", a->local.hour, a->local.minute);
    snprintf(length, sizeof(length), "%d", a->length);
    format_stamp(p->tz, a->made, made);
    made[10] = '\0';
    strcat(made, "T00:00:00");
    char name[200];
    snprintf(name, sizeof(name), "%s %s", pt->last, pt->first);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
        "s:s, s:s, s:s, s:s, s:s}",
        "href", href, "patient_href", phref, "patient_id", pt->id, "guarantor_id", "",
        "provider_id", pr->id, "provider_href", prhref, "practice_id", p->practice_id,
        "practice_href", base, "amount", "0.0000", "status", a->status, "note", a->note,
        "appointment_sr_no", a->id, "date", date, "time", time, "length", length, "description",
        a->description, "appointment_made_date", made, "type", a->type, "procedure_code1", "",
        "patient_name", name, "guarantor_name", "", "surface_quadrant", "");
    if (all || (req && wants_field(req, "operatory")))
        json_object_set_new(o, "operatory", json_string(sk_operatory_name(a->operatory)));
    if (all || (req && wants_field(req, "last_changed_date"))) {
        char changed[32];
        format_stamp(p->tz, a->changed, changed);
        json_object_set_new(o, "last_changed_date", json_string(changed));
    }
    unsigned variant = 0;
    if (req != NULL && sbx_faults_malformed(a->id, &variant)) {
        sbx_stats_fault(SBX_STAT_FAULT_MALFORMED, 1);
        if (variant % 3 == 0)
            json_object_del(o, "appointment_sr_no");
        else if (variant % 3 == 1)
            json_object_set_new(o, "time", json_string("25:99"));
        else
            json_object_set_new(o, "length", json_string("long"));
    }
    return req ? lightweight(req, o) : o;
}

static bool date_query(const sbx_request *req, const char *key, pms_date *out, bool *given,
                       sbx_response *resp)
{
    const char *v = sbx_query(req, key);
    *given = v != NULL && v[0] != '\0';
    if (!*given)
        return true;
    if (pms_date_parse(v, out, NULL) != PMS_OK) {
        sk_respond_error(resp, 400, "API1026", "Invalid parameter", "dates must be yyyy-mm-dd");
        return false;
    }
    return true;
}

static bool matches(const sbx_request *req, const char *key, const char *value)
{
    const char *want = sbx_query(req, key);
    return want == NULL || want[0] == '\0' || strcmp(want, value) == 0;
}

static void list_appointments(const sbx_request *req, const sk_practice *p, sbx_response *resp)
{
    pms_date from = {0}, to = {0};
    bool has_from, has_to;
    if (!date_query(req, "startdate", &from, &has_from, resp) ||
        !date_query(req, "enddate", &to, &has_to, resp))
        return;
    const char *filter = sbx_query(req, "date_filter_on");
    bool by_change = filter != NULL && strcmp(filter, "last_changed_date") == 0;
    if (filter != NULL && !by_change && strcmp(filter, "date") != 0) {
        sk_respond_error(resp, 400, "API1026", "Invalid parameter", "date_filter_on is invalid");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < p->book.count; i++) {
        const sk_appt *a = p->book.entries[i].item;
        pms_date day = {a->local.year, a->local.month, a->local.day};
        if (by_change) {
            pms_civil c;
            pms_tz_to_local(p->tz, a->changed, &c);
            day = (pms_date){c.year, c.month, c.day};
        }
        if ((has_from && pms_date_compare(day, from) < 0) ||
            (has_to && pms_date_compare(day, to) > 0))
            continue;
        if (!matches(req, "provider_id", p->providers[a->provider].id) ||
            !matches(req, "patient_id", p->patients[a->patient].id) ||
            !matches(req, "appointment_sr_no", a->id) || !matches(req, "status", a->status) ||
            !matches(req, "type", a->type) ||
            !matches(req, "operatory", sk_operatory_name(a->operatory)))
            continue;
        json_array_append_new(items, sk_appt_json(req, p, a, false));
    }
    sk_respond_list(req, resp, items);
}

static bool contains_ci(const char *hay, const char *needle)
{
    return needle == NULL || needle[0] == '\0' || (hay != NULL && strcasestr(hay, needle));
}

static json_t *patient_json(const sbx_request *req, const sk_practice *p, const sk_patient *pt)
{
    char href[220], birth[32];
    snprintf(href, sizeof(href), "%s/sikka/v4/practices/%s/patients/%s", req->base_url,
             p->practice_id, pt->id);
    sk_format_date(pt->birth, birth);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                     "s:s, s:s}",
                     "href", href, "patient_id", pt->id, "guarantor_id", pt->id, "firstname",
                     pt->first, "middlename", "", "lastname", pt->last, "preferred_name", "",
                     "birthdate", birth, "status", "Active", "cell", pt->cell, "email", pt->email,
                     "city", p->city, "state", p->state, "zipcode", p->zip, "provider_id",
                     p->providers[pt->provider].id, "practice_id", p->practice_id);
}

static void list_patients(const sbx_request *req, const sk_practice *p, sbx_response *resp)
{
    const char *search = sbx_query(req, "search");
    json_t *items = json_array();
    for (size_t i = 0; i < p->patient_count; i++) {
        const sk_patient *pt = &p->patients[i];
        if (!matches(req, "patient_id", pt->id) ||
            !contains_ci(pt->first, sbx_query(req, "firstname")) ||
            !contains_ci(pt->last, sbx_query(req, "lastname")) || !matches(req, "cell", pt->cell) ||
            !contains_ci(pt->email, sbx_query(req, "email")))
            continue;
        if (search != NULL && search[0] != '\0' && !contains_ci(pt->first, search) &&
            !contains_ci(pt->last, search) && !contains_ci(pt->cell, search) &&
            !contains_ci(pt->email, search))
            continue;
        json_array_append_new(items, patient_json(req, p, pt));
    }
    sk_respond_list(req, resp, items);
}

static void list_providers(const sbx_request *req, const sk_practice *p, sbx_response *resp)
{
    const char *status = sbx_query(req, "status");
    json_t *items = json_array();
    for (size_t i = 0; i < p->provider_count; i++) {
        const sk_provider *pr = &p->providers[i];
        if (!matches(req, "provider_id", pr->id) ||
            (status != NULL && status[0] != '\0' &&
             strcasecmp(status, pr->active ? "active" : "inactive") != 0))
            continue;
        char href[220], email[120];
        snprintf(href, sizeof(href), "%s/sikka/v4/practices/%s/providers/%s", req->base_url,
                 p->practice_id, pr->id);
        snprintf(email, sizeof(email), "%s@dental.example.com", pr->id);
        json_array_append_new(
            items,
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "href", href,
                      "provider_id", pr->id, "firstname", pr->first, "lastname", pr->last,
                      "provider_type", pr->type, "specialty", pr->specialty, "practice_id",
                      p->practice_id, "status", pr->active ? "Active" : "Inactive", "email", email,
                      "national_provider_identifier", "", "is_hidden", "False"));
    }
    sk_respond_list(req, resp, items);
}

static void list_operatories(const sbx_request *req, const sk_practice *p, sbx_response *resp)
{
    json_t *items = json_array();
    for (int i = 0; i < SK_OPERATORY; i++) {
        char description[32];
        snprintf(description, sizeof(description), "Operatory %d", i + 1);
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s}", "operatory",
                                               sk_operatory_name(i), "description", description,
                                               "practice_id", p->practice_id, "is_hidden", "F"));
    }
    sk_respond_list(req, resp, items);
}

static void list_statuses(const sbx_request *req, const sk_practice *p, sbx_response *resp)
{
    static const char *const words[] = {"Open",      "Scheduled", "Confirmed", "Arrived",
                                        "Here",      "Seated",    "Complete",  "Completed",
                                        "Cancelled", "Broken",    "No Show",   "Fixed"};
    json_t *items = json_array();
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        json_array_append_new(items, json_pack("{s:s, s:s, s:s}", "href", "", "status", words[i],
                                               "practice_id", p->practice_id));
    sk_respond_list(req, resp, items);
}

/* Free runs of one provider's day inside business hours, minus booked appointments. */
static void free_runs(const sk_practice *p, int provider, pms_date day, json_t *items,
                      const sbx_request *req)
{
    bool busy[24 * 60 / 5] = {false};
    pms_civil lo = {day.year, day.month, day.day, 0, 0, 0, 0};
    int64_t lo_key = sk_local_key(&lo);
    for (size_t i = sbx_book_seek(&p->book, lo_key, NULL);
         i < p->book.count && p->book.entries[i].key < lo_key + 86400; i++) {
        const sk_appt *a = p->book.entries[i].item;
        if (a->provider != provider || sk_status_unified(a->status) == 5)
            continue;
        int start = a->local.hour * 60 + a->local.minute;
        for (int m = start; m < start + a->length && m < 24 * 60; m += 5)
            busy[m / 5] = true;
    }
    char date[32];
    sk_format_date(day, date);
    for (int m = SBX_DAY_OPEN_MINUTES; m < SBX_DAY_CLOSE_MINUTES;) {
        if (busy[m / 5]) {
            m += 5;
            continue;
        }
        int end = m;
        while (end < SBX_DAY_CLOSE_MINUTES && !busy[end / 5])
            end += 5;
        char time[8], end_time[8], units[12];
        snprintf(time, sizeof(time), "%02d:%02d", m / 60, m % 60);
        snprintf(end_time, sizeof(end_time), "%02d:%02d", end / 60, end % 60);
        snprintf(units, sizeof(units), "%d", (end - m) / 5);
        json_array_append_new(items,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "href", "",
                                        "provider_id", p->providers[provider].id, "practice_id",
                                        p->practice_id, "date", date, "time", time, "end_time",
                                        end_time, "time_units", units, "template_code", ""));
        (void)req;
        m = end;
    }
}

static void list_days(const sbx_request *req, const sk_practice *p, bool slots, sbx_response *resp)
{
    pms_date from = p->today, to = p->today;
    bool has_from, has_to;
    if (!date_query(req, "startdate", &from, &has_from, resp) ||
        !date_query(req, "enddate", &to, &has_to, resp))
        return;
    if (!has_from || !has_to || pms_date_compare(from, to) > 0 ||
        pms_date_compare(pms_date_add_days(from, 31), to) < 0) {
        sk_respond_error(resp, 400, "API1026", "Invalid parameter",
                         "startdate and enddate are required, at most 31 days apart");
        return;
    }
    json_t *items = json_array();
    for (pms_date day = from; pms_date_compare(day, to) <= 0; day = pms_date_add_days(day, 1)) {
        for (size_t pr = 0; pr < p->provider_count; pr++) {
            if (!p->providers[pr].active || !matches(req, "provider_id", p->providers[pr].id))
                continue;
            if (slots) {
                free_runs(p, (int)pr, day, items, req);
                continue;
            }
            char date[32];
            sk_format_date(day, date);
            json_array_append_new(items,
                                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "provider_id",
                                            p->providers[pr].id, "practice_id", p->practice_id,
                                            "date", date, "start_time", "08:00", "end_time",
                                            "17:30", "is_working_day", "True"));
        }
    }
    sk_respond_list(req, resp, items);
}

static void answer_practices(const sbx_request *req, const sk_practice *p, sbx_response *resp)
{
    char href[200];
    snprintf(href, sizeof(href), "%s/sikka/v4/practices/%s", req->base_url, p->practice_id);
    json_t *items = json_array();
    json_array_append_new(
        items,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "href",
                  href, "office_id", p->office_id, "secret_key", p->secret_key, "practice_id",
                  p->practice_id, "practice_name", p->name, "domain", "Dental",
                  "practice_management_system", p->pms_name, "practice_management_system_version",
                  "21.4", "data_insert_date", "2026-01-01T00:00:00", "city", p->city, "state",
                  p->state, "zip", p->zip, "address", "1 Main Street",
                  "practice_management_system_refresh_date_time_zone", pms_tz_name(p->tz)));
    sk_respond_list(req, resp, items);
}

static bool data_insert(sbx_response *resp, const sk_settings *s)
{
    sbx_response_header(resp, "Data-Insert",
                        s->data_insert_in_progress ? "in progress" : "completed");
    return true;
}

void sk_api_handle(const sbx_request *req, const sbx_route_info *info, sbx_response *resp)
{
    (void)info;
    sk_route r;
    parse_route(req->path, &r);
    sk_world *w = sk_lock();
    const sk_settings *s = sk_settings_get();
    sbx_response scratch;
    sbx_response_init(&scratch);
    sk_practice *p = NULL;
    if (r.endpoint == EP_UNKNOWN) {
        sk_respond_error(resp, 404, "API2009", "Not found", "No such resource");
        goto out;
    }
    if (r.endpoint == EP_TOKEN) {
        answer_token(req, w, resp);
        goto out;
    }
    bool app_scoped = r.endpoint == EP_PRACTICES || r.endpoint == EP_WRITEBACKS;
    p = app_scoped ? app_auth(req, w, resp) : key_auth(req, w, resp);
    if (p == NULL)
        goto out;
    if (!rate_count((size_t)(p - w->practices), s, &scratch)) {
        sbx_response_free(resp);
        *resp = scratch;
        sbx_response_init(&scratch);
        goto out;
    }
    bool get = sbx_method_is(req, "GET");
    switch (r.endpoint) {
    case EP_PRACTICES:
        answer_practices(req, p, resp);
        break;
    case EP_KEY_INFO:
        sbx_respond_json(resp, 200,
                         json_pack("{s:s, s:s}", "issued_to", p->office_id, "status", "active"));
        break;
    case EP_PROVIDERS:
        list_providers(req, p, resp);
        break;
    case EP_OPERATORIES:
        list_operatories(req, p, resp);
        break;
    case EP_STATUSES:
        list_statuses(req, p, resp);
        break;
    case EP_APPOINTMENTS:
        if (get && data_insert(&scratch, s))
            list_appointments(req, p, resp);
        else
            sk_respond_error(resp, 405, "API2014", "Method not allowed", "Use GET");
        break;
    case EP_PATIENTS:
        data_insert(&scratch, s);
        list_patients(req, p, resp);
        break;
    case EP_SLOTS:
        if (!p->has_slots)
            sk_respond_error(resp, 400, "API2004", "Not allowed",
                             "appointments_available_slots is not available for this practice "
                             "management system");
        else
            list_days(req, p, true, resp);
        break;
    case EP_SCHEDULE:
        list_days(req, p, false, resp);
        break;
    case EP_BOOK:
        sk_write_book(req, w, p, resp);
        break;
    case EP_APPOINTMENT_WRITE:
        sk_write_change(req, w, p, r.id, resp);
        break;
    case EP_WRITEBACK_STATUS:
        sk_write_status(req, w, p, resp);
        break;
    case EP_WRITEBACKS:
        sk_write_list(req, w, p, resp);
        break;
    default:
        sk_respond_error(resp, 404, "API2009", "Not found", "No such resource");
        break;
    }
out:
    if (p != NULL) {
        int lifetime = sbx_faults_token_lifetime(SK_KEY_LIFETIME);
        char expires[64];
        sbx_http_date(pms_now() + (pms_instant)lifetime * 1000, expires, sizeof(expires));
        sbx_response_header(resp, "Request-Key-Expires", expires);
    }
    for (size_t i = 0; i < scratch.header_count; i++)
        sbx_response_header(resp, scratch.header_names[i], scratch.header_values[i]);
    sbx_response_free(&scratch);
    sk_unlock();
}
