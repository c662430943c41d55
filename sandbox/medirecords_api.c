/* The Medirecords REST endpoints (declared in medirecords.h): routing, the static bearer token
 * (and the OAuth variant), practices, appointment types, interval codes, patients, providers
 * and single appointments. The appointment list is in medirecords_list.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faults.h"
#include "medirecords.h"
#include "medirecords_json.h"
#include "stats.h"

typedef enum mr_endpoint {
    EP_UNKNOWN = 0,
    EP_TOKEN,
    EP_PRACTICE,
    EP_APPOINTMENTS,
    EP_APPOINTMENT,
    EP_TYPES,
    EP_PROVIDERS,
    EP_PROVIDER,
    EP_PATIENT,
    EP_INTERVALS,
    EP_PATIENTS,
    EP_PATIENT_SEARCH,
    EP_COUNT,
} mr_endpoint;

static const struct {
    const char *name;
    const char *methods; /* the methods served, ", " between them */
} endpoints[EP_COUNT] = {
    [EP_UNKNOWN] = {"medirecords.unknown", NULL},
    [EP_TOKEN] = {"medirecords.token", "POST"},
    [EP_PRACTICE] = {"medirecords.practice", "GET"},
    [EP_APPOINTMENTS] = {"medirecords.appointments", "GET, POST"},
    [EP_APPOINTMENT] = {"medirecords.appointment", "GET, PUT, DELETE"},
    [EP_TYPES] = {"medirecords.appointment_types", "GET"},
    [EP_PROVIDERS] = {"medirecords.providers", "GET"},
    [EP_PROVIDER] = {"medirecords.provider", "GET"},
    [EP_PATIENT] = {"medirecords.patient", "GET"},
    [EP_INTERVALS] = {"medirecords.interval_codes", "GET"},
    [EP_PATIENTS] = {"medirecords.patient_create", "POST"},
    [EP_PATIENT_SEARCH] = {"medirecords.patient_search", "POST"},
};

typedef struct mr_route {
    mr_endpoint endpoint;
    sbx_path path;
    const char *practice_id; /* in path */
    const char *id;          /* appointment, provider or patient id in path */
} mr_route;

static void parse_route(const char *full_path, mr_route *r)
{
    memset(r, 0, sizeof(*r));
    sbx_path_split(full_path + strlen("/medirecords"), &r->path);
    const sbx_path *p = &r->path;
    int n = p->count;
    if (n == 2 && sbx_seg_is(p, 0, "oauth") && sbx_seg_is(p, 1, "token")) {
        r->endpoint = EP_TOKEN;
        return;
    }
    if (n < 2 || !sbx_seg_is(p, 0, "v1"))
        return;
    if (n == 2 && sbx_seg_is(p, 1, "patients")) {
        r->endpoint = EP_PATIENTS;
        return;
    }
    if (n == 3 && sbx_seg_is(p, 1, "patients") && sbx_seg_is(p, 2, "search")) {
        r->endpoint = EP_PATIENT_SEARCH;
        return;
    }
    if (n == 3 && sbx_seg_is(p, 1, "patients")) {
        r->endpoint = EP_PATIENT;
        r->id = p->seg[2];
        return;
    }
    /* One review spells it appointment-Interval-Code. */
    if (n == 3 && sbx_seg_is(p, 1, "code-system") &&
        strcasecmp(p->seg[2], "appointment-interval-code") == 0) {
        r->endpoint = EP_INTERVALS;
        return;
    }
    if (n < 3 || !sbx_seg_is(p, 1, "practices"))
        return;
    r->practice_id = p->seg[2];
    if (n == 3) {
        r->endpoint = EP_PRACTICE;
    } else if (n == 4) {
        if (sbx_seg_is(p, 3, "appointments"))
            r->endpoint = EP_APPOINTMENTS;
        else if (sbx_seg_is(p, 3, "appointment-types"))
            r->endpoint = EP_TYPES;
        else if (sbx_seg_is(p, 3, "providers"))
            r->endpoint = EP_PROVIDERS;
    } else if (n == 5) {
        r->id = p->seg[4];
        if (sbx_seg_is(p, 3, "appointments"))
            r->endpoint = EP_APPOINTMENT;
        else if (sbx_seg_is(p, 3, "providers"))
            r->endpoint = EP_PROVIDER;
    }
}

/* The token in Authorization: "Bearer <token>", or the bare token when allowed. */
static const char *presented_token(const sbx_request *req, bool raw_allowed)
{
    const char *auth = sbx_header(req, "Authorization");
    if (auth == NULL)
        return NULL;
    if (strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *token = auth + 7;
        while (*token == ' ')
            token++;
        return token;
    }
    return raw_allowed && strchr(auth, ' ') == NULL ? auth : NULL;
}

void mr_api_route(const sbx_request *req, sbx_route_info *info)
{
    mr_route r;
    parse_route(req->path, &r);
    info->endpoint = endpoints[r.endpoint].name;
    info->is_token = r.endpoint == EP_TOKEN;
    sbx_copy_id(info->tenant_id, sizeof(info->tenant_id), r.practice_id);
    if (r.practice_id == NULL && r.endpoint != EP_TOKEN && r.endpoint != EP_UNKNOWN) {
        /* Not practice-scoped: the practice of a static token, when it is one. */
        mr_world *w = mr_lock_read();
        const mr_practice *p = mr_find_practice_by_token(w, presented_token(req, true));
        sbx_copy_id(info->tenant_id, sizeof(info->tenant_id), p != NULL ? p->id : NULL);
        mr_unlock();
    }
    if (r.endpoint == EP_APPOINTMENTS)
        sbx_copy_id(info->practitioner_id, sizeof(info->practitioner_id),
                    sbx_query(req, "providerId"));
    else if (r.endpoint == EP_PROVIDER)
        sbx_copy_id(info->practitioner_id, sizeof(info->practitioner_id), r.id);
}

void mr_api_fault(int status, const sbx_route_info *info, sbx_response *resp)
{
    (void)info;
    const char *message = status == 429   ? "Too Many Requests"
                          : status == 502 ? "Bad Gateway"
                          : status == 503 ? "Service Unavailable"
                          : status == 504 ? "Gateway Timeout"
                                          : "Internal Server Error";
    sbx_respond_message(resp, status, message);
}

static void token_error(sbx_response *resp, int status, const char *code, const char *description)
{
    sbx_respond_json(resp, status,
                     json_pack("{s:s, s:s}", "error", code, "error_description", description));
}

/* Client id and secret from HTTP Basic, else from the form body. */
static bool read_client_credentials(const sbx_request *req, char *id, char *secret, size_t len)
{
    int basic = sbx_basic_auth(req, id, secret, len);
    if (basic != 0)
        return basic > 0;
    return sbx_form_field(req->body, "client_id", id, len) &&
           sbx_form_field(req->body, "client_secret", secret, len);
}

static void handle_token(const sbx_request *req, const sbx_medirecords_config *s,
                         sbx_response *resp)
{
    const char *content_type = sbx_header(req, "Content-Type");
    if (content_type == NULL ||
        strncasecmp(content_type, "application/x-www-form-urlencoded", 33) != 0) {
        token_error(resp, 400, "invalid_request",
                    "Content-Type must be application/x-www-form-urlencoded");
        return;
    }
    char grant[64];
    if (!sbx_form_field(req->body, "grant_type", grant, sizeof(grant))) {
        token_error(resp, 400, "invalid_request", "grant_type is required");
        return;
    }
    if (strcmp(grant, "client_credentials") != 0) {
        token_error(resp, 400, "unsupported_grant_type", "Unsupported grant type");
        return;
    }
    char id[256], secret[256];
    if (!read_client_credentials(req, id, secret, sizeof(id)) || strcmp(id, s->client_id) != 0 ||
        strcmp(secret, s->client_secret) != 0) {
        token_error(resp, 401, "invalid_client", "Invalid client credentials");
        return;
    }
    int lifetime = sbx_faults_token_lifetime(MR_OAUTH_TOKEN_LIFETIME);
    char token[41];
    if (sbx_token_mint(mr_oauth_tokens(), 40, lifetime, -1, token, NULL) != PMS_OK) {
        sbx_respond_message(resp, 500, "Internal Server Error");
        return;
    }
    sbx_respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:i}", "access_token", token, "token_type", "Bearer",
                               "expires_in", lifetime));
    sbx_response_header(resp, "Cache-Control", "no-store");
    resp->truncatable = true;
}

/* Who the request may see: one practice (a static token) or all (an OAuth token). */
typedef struct mr_access {
    const mr_practice *only; /* NULL: every practice */
} mr_access;

static bool check_auth(const sbx_request *req, const mr_world *w, const sbx_medirecords_config *s,
                       mr_access *access, sbx_response *resp)
{
    const char *token = presented_token(req, s->raw_token);
    access->only = mr_find_practice_by_token(w, token);
    if (access->only != NULL)
        return true;
    if (token != NULL && s->oauth &&
        sbx_token_check(mr_oauth_tokens(), token, NULL) == SBX_TOKEN_VALID)
        return true;
    sbx_respond_message(resp, 401, "Unauthorized");
    sbx_response_header(resp, "WWW-Authenticate", "Bearer");
    return false;
}

static bool parse_bool_param(const char *v, bool *out)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        *out = v[0] == 't';
        return true;
    }
    return false;
}

/* page (from 0) and size (default 20, capped by --page-size); false after answering 400. */
static bool page_params(const sbx_request *req, size_t *page, size_t *size, sbx_response *resp)
{
    const char *page_text = sbx_query(req, "page");
    const char *size_text = sbx_query(req, "size");
    char *end = NULL;
    *page = 0;
    *size = 20;
    if (page_text != NULL) {
        long v = strtol(page_text, &end, 10);
        if (*page_text == '\0' || *end != '\0' || v < 0 || v > 1000000) {
            sbx_respond_message(resp, 400, "page must be an integer >= 0");
            return false;
        }
        *page = (size_t)v;
    }
    if (size_text != NULL) {
        long v = strtol(size_text, &end, 10);
        if (*size_text == '\0' || *end != '\0' || v < 1 || v > 1000) {
            sbx_respond_message(resp, 400, "size must be an integer in 1..1000");
            return false;
        }
        *size = (size_t)v;
    }
    int cap = sbx_faults_page_size();
    if (cap > 0 && (size_t)cap < *size)
        *size = (size_t)cap;
    return true;
}

static void handle_types(const sbx_request *req, const mr_practice *p,
                         const sbx_medirecords_config *s, sbx_response *resp)
{
    const char *telehealth_text = sbx_query(req, "telehealth");
    const char *active_text = sbx_query(req, "activeStatus");
    bool telehealth = false;
    if (telehealth_text != NULL && !parse_bool_param(telehealth_text, &telehealth)) {
        sbx_respond_message(resp, 400, "telehealth must be true or false");
        return;
    }
    if (active_text != NULL && strcmp(active_text, "1") != 0 && strcmp(active_text, "2") != 0) {
        sbx_respond_message(resp, 400, "activeStatus must be 1 or 2");
        return;
    }
    size_t page = 0, size = 20;
    if (s->types_page && !page_params(req, &page, &size, resp))
        return;
    json_t *data = json_array();
    size_t total = 0;
    for (size_t i = 0; i < p->type_count; i++) {
        const mr_type *ty = &p->types[i];
        if ((telehealth_text != NULL && ty->telehealth != telehealth) ||
            (active_text != NULL && ty->active_status != atoi(active_text)))
            continue;
        if (!s->types_page || (total >= page * size && total < (page + 1) * size))
            json_array_append_new(data, mr_type_json(ty));
        total++;
    }
    if (s->types_page)
        sbx_respond_json(resp, 200, mr_page_json(data, page, size, total));
    else
        sbx_respond_json(resp, 200, json_pack("{s:o}", "data", data));
}

static void handle_providers(const sbx_request *req, const mr_practice *p, sbx_response *resp)
{
    size_t page, size;
    if (!page_params(req, &page, &size, resp))
        return;
    json_t *data = json_array();
    for (size_t i = page * size; i < p->provider_count && i < (page + 1) * size; i++)
        json_array_append_new(data, mr_provider_json(&p->providers[i]));
    sbx_respond_json(resp, 200, mr_page_json(data, page, size, p->provider_count));
}

json_t *mr_appt_out(const mr_practice *p, const mr_appt *a, unsigned *malformed)
{
    unsigned variant;
    if (sbx_faults_malformed(a->id, &variant)) {
        (*malformed)++;
        return mr_appt_malformed_json(p, a, variant);
    }
    return mr_appt_json(p, a);
}

static void handle_patient(const mr_world *w, const mr_access *access, const char *id,
                           sbx_response *resp)
{
    for (size_t i = 0; i < w->practice_count; i++) {
        const mr_practice *p = &w->practices[i];
        if (access->only != NULL && access->only != p)
            continue;
        const mr_patient *pt = mr_find_patient(p, id);
        if (pt != NULL) {
            sbx_respond_json(resp, 200, mr_patient_json(p, pt));
            return;
        }
    }
    sbx_respond_message(resp, 404, "Patient not found");
}

/* POST, PUT and DELETE on appointments (medirecords_write.c); the write lock is held. */
static void handle_practice_write(const sbx_request *req, const mr_route *r, mr_world *w,
                                  mr_practice *p, sbx_response *resp)
{
    if (r->endpoint == EP_APPOINTMENTS) {
        mr_write_create_appt(req, w, p, resp);
        return;
    }
    mr_appt *a = mr_find_appt(p, r->id);
    if (a == NULL)
        sbx_respond_message(resp, 404, "Appointment not found");
    else if (sbx_method_is(req, "PUT"))
        mr_write_replace_appt(req, p, a, resp);
    else
        mr_write_delete_appt(p, a, resp);
}

static void handle_practice_call(const sbx_request *req, const mr_route *r, const mr_practice *p,
                                 const sbx_medirecords_config *s, sbx_response *resp)
{
    unsigned malformed = 0;
    switch (r->endpoint) {
    case EP_PRACTICE:
        sbx_respond_json(resp, 200, mr_practice_json(p));
        break;
    case EP_APPOINTMENTS:
        mr_list_appointments(req, p, s, resp);
        break;
    case EP_APPOINTMENT: {
        const mr_appt *a = mr_find_appt(p, r->id);
        if (a == NULL) {
            sbx_respond_message(resp, 404, "Appointment not found");
            break;
        }
        sbx_respond_json(resp, 200, mr_appt_out(p, a, &malformed));
        sbx_stats_fault(SBX_STAT_FAULT_MALFORMED, malformed);
        break;
    }
    case EP_TYPES:
        handle_types(req, p, s, resp);
        break;
    case EP_PROVIDERS:
        handle_providers(req, p, resp);
        break;
    case EP_PROVIDER: {
        int i = mr_find_provider(p, r->id);
        if (i < 0)
            sbx_respond_message(resp, 404, "Provider not found");
        else
            sbx_respond_json(resp, 200, mr_provider_json(&p->providers[i]));
        break;
    }
    default:
        sbx_respond_message(resp, 404, "Not Found");
        break;
    }
}

void mr_api_handle(const sbx_request *req, const sbx_route_info *info, sbx_response *resp)
{
    (void)info;
    mr_route r;
    parse_route(req->path, &r);
    bool writes = !sbx_method_is(req, "GET") && r.endpoint != EP_TOKEN &&
                  r.endpoint != EP_PATIENT_SEARCH && r.endpoint != EP_UNKNOWN;
    mr_world *w = writes ? mr_lock_write() : mr_lock_read();
    const sbx_medirecords_config *s = mr_settings();
    bool hidden = (r.endpoint == EP_TOKEN && !s->oauth) ||
                  ((r.endpoint == EP_PROVIDERS || r.endpoint == EP_PROVIDER) && !s->providers);
    mr_access access;
    if (r.endpoint == EP_UNKNOWN || hidden) {
        sbx_respond_message(resp, 404, "Not Found");
    } else if (!sbx_method_in(req, endpoints[r.endpoint].methods)) {
        sbx_respond_message(resp, 405, "Method Not Allowed");
        sbx_response_header(resp, "Allow", endpoints[r.endpoint].methods);
    } else if (r.endpoint == EP_TOKEN) {
        handle_token(req, s, resp);
    } else if (!check_auth(req, w, s, &access, resp)) {
        /* answered */
    } else if (r.endpoint == EP_INTERVALS) {
        sbx_respond_json(resp, 200, mr_intervals_json(s->interval_shape));
    } else if (r.endpoint == EP_PATIENT) {
        handle_patient(w, &access, r.id, resp);
    } else if (r.endpoint == EP_PATIENT_SEARCH) {
        mr_write_search_patients(req, w, access.only, resp);
    } else if (r.endpoint == EP_PATIENTS) {
        mr_write_create_patient(req, w, (mr_practice *)access.only, resp);
    } else {
        mr_practice *p = mr_find_practice(w, r.practice_id);
        if (p == NULL)
            sbx_respond_message(resp, 404, "Practice not found");
        else if (access.only != NULL && access.only != p)
            sbx_respond_message(resp, 403, "Forbidden");
        else if (writes)
            handle_practice_write(req, &r, w, p, resp);
        else
            handle_practice_call(req, &r, p, s, resp);
    }
    if (resp->status == 200 && !writes)
        resp->truncatable = true;
    mr_unlock();
}
