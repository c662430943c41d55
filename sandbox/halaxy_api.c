/* The Halaxy endpoints (declared in halaxy.h): routing, the User-Agent rule, the token
 * endpoint, bearer checks, and reads and searches of everything but appointments (those are in
 * halaxy_search.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faults.h"
#include "halaxy.h"
#include "stats.h"

typedef enum hx_endpoint {
    EP_UNKNOWN = 0,
    EP_TOKEN,
    EP_APPOINTMENTS,
    EP_APPOINTMENT,
    EP_ROLES,
    EP_ROLE,
    EP_PRACTITIONERS,
    EP_PRACTITIONER,
    EP_PATIENTS,
    EP_PATIENT,
    EP_SERVICES,
    EP_SERVICE,
    EP_ORGANIZATIONS,
    EP_ORGANIZATION,
    EP_FIND,
    EP_BOOK,
    EP_COUNT,
} hx_endpoint;

static const struct {
    const char *name;
    const char *type; /* resource type in the path */
    bool instance;
} endpoints[EP_COUNT] = {
    [EP_UNKNOWN] = {"halaxy.unknown", NULL, false},
    [EP_TOKEN] = {"halaxy.token", NULL, false},
    [EP_APPOINTMENTS] = {"halaxy.appointments", "Appointment", false},
    [EP_APPOINTMENT] = {"halaxy.appointment", "Appointment", true},
    [EP_ROLES] = {"halaxy.practitioner_roles", "PractitionerRole", false},
    [EP_ROLE] = {"halaxy.practitioner_role", "PractitionerRole", true},
    [EP_PRACTITIONERS] = {"halaxy.practitioners", "Practitioner", false},
    [EP_PRACTITIONER] = {"halaxy.practitioner", "Practitioner", true},
    [EP_PATIENTS] = {"halaxy.patients", "Patient", false},
    [EP_PATIENT] = {"halaxy.patient", "Patient", true},
    [EP_SERVICES] = {"halaxy.healthcare_services", "HealthcareService", false},
    [EP_SERVICE] = {"halaxy.healthcare_service", "HealthcareService", true},
    [EP_ORGANIZATIONS] = {"halaxy.organizations", "Organization", false},
    [EP_ORGANIZATION] = {"halaxy.organization", "Organization", true},
    [EP_FIND] = {"halaxy.appointment_find", "Appointment", false},
    [EP_BOOK] = {"halaxy.appointment_book", "Appointment", false},
};

typedef struct hx_route {
    hx_endpoint endpoint;
    sbx_path path;
    const char *id; /* in path */
} hx_route;

static void parse_route(const char *full_path, hx_route *r)
{
    memset(r, 0, sizeof(*r));
    sbx_path_split(full_path + strlen("/halaxy"), &r->path);
    const sbx_path *p = &r->path;
    if (p->count < 2 || p->count > 3 || !sbx_seg_is(p, 0, "main"))
        return;
    if (p->count == 3 && sbx_seg_is(p, 1, "oauth") && sbx_seg_is(p, 2, "token")) {
        r->endpoint = EP_TOKEN;
        return;
    }
    if (p->count == 3 && sbx_seg_is(p, 1, "Appointment") &&
        (sbx_seg_is(p, 2, "$find") || sbx_seg_is(p, 2, "$book"))) {
        r->endpoint = sbx_seg_is(p, 2, "$find") ? EP_FIND : EP_BOOK;
        return;
    }
    for (int e = EP_APPOINTMENTS; e < EP_FIND; e++) {
        if (sbx_seg_is(p, 1, endpoints[e].type) && endpoints[e].instance == (p->count == 3)) {
            r->endpoint = (hx_endpoint)e;
            r->id = p->count == 3 ? p->seg[2] : NULL;
            return;
        }
    }
}

static const char *bearer_token(const sbx_request *req)
{
    const char *auth = sbx_header(req, "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    const char *token = auth + 7;
    while (*token == ' ')
        token++;
    return token;
}

void hx_api_route(const sbx_request *req, sbx_route_info *info)
{
    hx_route r;
    parse_route(req->path, &r);
    info->endpoint = endpoints[r.endpoint].name;
    info->is_token = r.endpoint == EP_TOKEN;
    int owner = -1;
    const char *token = bearer_token(req);
    if (token != NULL && sbx_token_check(hx_tokens(), token, &owner) == SBX_TOKEN_UNKNOWN)
        owner = -1;
    if (owner >= 0) {
        hx_world *w = hx_lock_read();
        if ((size_t)owner < w->practice_count)
            sbx_copy_id(info->tenant_id, sizeof(info->tenant_id), w->practices[owner].client_id);
        hx_unlock();
    }
    if (r.endpoint == EP_APPOINTMENTS || r.endpoint == EP_FIND)
        sbx_copy_id(info->practitioner_id, sizeof(info->practitioner_id),
                    sbx_query(req, "practitioner-role"));
    else if (r.endpoint == EP_ROLE || r.endpoint == EP_PRACTITIONER)
        sbx_copy_id(info->practitioner_id, sizeof(info->practitioner_id), r.id);
}

void hx_api_fault(int status, const sbx_route_info *info, sbx_response *resp)
{
    (void)info;
    if (status == 429)
        hx_respond_outcome(resp, 429, "throttled", "Too many requests, slow down");
    else
        hx_respond_outcome(resp, status, "exception",
                           status == 502   ? "Bad gateway"
                           : status == 503 ? "Service temporarily unavailable"
                           : status == 504 ? "Gateway timeout"
                                           : "An unexpected error occurred");
}

static void token_error(sbx_response *resp, int status, const char *code, const char *description)
{
    sbx_respond_json(resp, status,
                     json_pack("{s:s, s:s}", "error", code, "error_description", description));
}

static void handle_token(const sbx_request *req, sbx_response *resp)
{
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
    const char *grant = json_string_value(json_object_get(body, "grant_type"));
    const char *client_id = json_string_value(json_object_get(body, "client_id"));
    const char *secret = json_string_value(json_object_get(body, "client_secret"));
    if (!json_is_object(body)) {
        token_error(resp, 400, "invalid_request", "The request body must be a JSON object");
    } else if (grant == NULL) {
        token_error(resp, 400, "invalid_request", "grant_type is required");
    } else if (strcmp(grant, "client_credentials") != 0) {
        token_error(resp, 400, "unsupported_grant_type", "Unsupported grant type");
    } else {
        hx_world *w = hx_lock_read();
        const hx_practice *p = hx_find_practice(w, client_id);
        int expires_in = hx_settings()->expires_in;
        char token[HX_TOKEN_LEN + 1];
        if (p == NULL || secret == NULL || strcmp(secret, p->client_secret) != 0) {
            token_error(resp, 401, "invalid_client", "Client authentication failed");
        } else if (sbx_token_mint(hx_tokens(), HX_TOKEN_LEN,
                                  sbx_faults_token_lifetime(HX_TOKEN_LIFETIME),
                                  (int)(p - w->practices), token, NULL) != PMS_OK) {
            token_error(resp, 500, "server_error", "Could not issue a token");
        } else {
            sbx_respond_json(resp, 200,
                             json_pack("{s:s, s:s, s:i}", "access_token", token, "token_type",
                                       "Bearer", "expires_in", expires_in));
            sbx_response_header(resp, "Cache-Control", "no-store");
            resp->truncatable = true;
        }
        hx_unlock();
    }
    json_decref(body);
}

/* The practice the bearer token belongs to, or NULL after answering 401 (or the configured
 * status for an expired token). */
static hx_practice *check_bearer(const sbx_request *req, hx_world *w, const sbx_halaxy_config *s,
                                 sbx_response *resp)
{
    const char *token = bearer_token(req);
    int owner = -1;
    sbx_token_state state =
        token != NULL ? sbx_token_check(hx_tokens(), token, &owner) : SBX_TOKEN_UNKNOWN;
    if (state == SBX_TOKEN_EXPIRED) {
        hx_respond_outcome(resp, s->expired_status, "expired", "Access token expired");
        return NULL;
    }
    if (state != SBX_TOKEN_VALID || owner < 0 || (size_t)owner >= w->practice_count) {
        hx_respond_outcome(resp, 401, "login", "Invalid or missing access token");
        return NULL;
    }
    return &w->practices[owner];
}

/* A bool search parameter; -1 absent, 0/1, or 2 when malformed. */
static int bool_param(const sbx_request *req, const char *name)
{
    const char *v = sbx_query(req, name);
    if (v == NULL)
        return -1;
    return strcmp(v, "true") == 0 ? 1 : strcmp(v, "false") == 0 ? 0 : 2;
}

static bool digits_equal(const char *a, const char *b)
{
    for (;;) {
        while (*a != '\0' && !isdigit((unsigned char)*a))
            a++;
        while (*b != '\0' && !isdigit((unsigned char)*b))
            b++;
        if (*a == '\0' || *b == '\0')
            return *a == *b;
        if (*a++ != *b++)
            return false;
    }
}

static bool patient_matches(const sbx_request *req, const hx_patient *pt)
{
    const char *family = sbx_query(req, "family");
    const char *given = sbx_query(req, "given");
    const char *email = sbx_query(req, "email");
    const char *phone = sbx_query(req, "phone");
    const char *birthdate = sbx_query(req, "birthdate");
    const char *id = sbx_query(req, "_id");
    char birth[PMS_TIME_BUFLEN];
    pms_date_format(pt->birth_date, birth);
    if (family != NULL && strncasecmp(pt->family, family, strlen(family)) != 0)
        return false;
    if (given != NULL && strncasecmp(pt->given, given, strlen(given)) != 0)
        return false;
    if (email != NULL && (pt->email == NULL || strcasecmp(pt->email, email) != 0))
        return false;
    if (phone != NULL && !(pt->mobile != NULL && digits_equal(pt->mobile, phone)) &&
        !(pt->home != NULL && digits_equal(pt->home, phone)))
        return false;
    if (birthdate != NULL && strcmp(birthdate, birth) != 0)
        return false;
    return id == NULL || strcmp(id, pt->id) == 0;
}

/* Answers a search with the matching resources (an array, taken) paged into a Bundle. */
static void respond_bundle(const hx_ctx *ctx, const sbx_request *req, const char *type, json_t *all,
                           sbx_response *resp)
{
    size_t count, page;
    if (!hx_paging(req, &count, &page, resp)) {
        json_decref(all);
        return;
    }
    json_t *bundle = hx_bundle_new(ctx, req, page, count, json_array_size(all));
    for (size_t i = (page - 1) * count; i < json_array_size(all) && i < page * count; i++) {
        json_t *resource = json_array_get(all, i);
        hx_bundle_add(ctx, bundle, type, json_string_value(json_object_get(resource, "id")),
                      json_incref(resource));
    }
    json_decref(all);
    hx_respond(resp, 200, bundle);
}

static void search(const hx_ctx *ctx, const sbx_request *req, const hx_practice *p,
                   hx_endpoint endpoint, sbx_response *resp)
{
    int active = bool_param(req, "active");
    if (active == 2) {
        hx_respond_outcome(resp, 400, "invalid", "active must be true or false");
        return;
    }
    const char *practitioner = hx_reference_id(sbx_query(req, "practitioner"));
    json_t *all = json_array();
    if (endpoint == EP_ROLES) {
        for (size_t i = 0; i < p->role_count; i++) {
            const hx_role *role = &p->roles[i];
            if ((active < 0 || role->active == (active == 1)) &&
                (practitioner == NULL ||
                 strcmp(p->practitioners[role->practitioner].id, practitioner) == 0))
                json_array_append_new(all, hx_role_json(ctx, p, role));
        }
    } else if (endpoint == EP_PRACTITIONERS) {
        for (size_t i = 0; i < p->practitioner_count; i++) {
            if (active < 0 || p->practitioners[i].active == (active == 1))
                json_array_append_new(all, hx_practitioner_json(&p->practitioners[i]));
        }
    } else if (endpoint == EP_PATIENTS) {
        for (size_t i = 0; i < p->patient_count; i++) {
            if (patient_matches(req, &p->patients[i]))
                json_array_append_new(all, hx_patient_json(&p->patients[i]));
        }
    } else if (endpoint == EP_SERVICES) {
        for (size_t i = 0; i < p->service_count; i++) {
            if (active < 0 || p->services[i].active == (active == 1))
                json_array_append_new(all, hx_service_json(ctx, p, &p->services[i]));
        }
    } else {
        json_array_append_new(all, hx_organization_json(p));
    }
    respond_bundle(ctx, req, endpoints[endpoint].type, all, resp);
}

json_t *hx_appt_out(const hx_ctx *ctx, const hx_practice *p, const hx_appt *a, unsigned *malformed)
{
    unsigned variant;
    if (sbx_faults_malformed(a->id, &variant)) {
        (*malformed)++;
        return hx_appt_malformed_json(ctx, p, a, variant);
    }
    return hx_appt_json(ctx, p, a);
}

/* GET /main/{Type}/{id}: the resource, or 404 not-found. */
static void read_one(const hx_ctx *ctx, const hx_practice *p, const hx_route *r, sbx_response *resp)
{
    json_t *found = NULL;
    unsigned malformed = 0;
    int i;
    switch (r->endpoint) {
    case EP_APPOINTMENT: {
        const hx_appt *a = hx_find_appt(p, r->id);
        found = a != NULL ? hx_appt_out(ctx, p, a, &malformed) : NULL;
        sbx_stats_fault(SBX_STAT_FAULT_MALFORMED, malformed);
        break;
    }
    case EP_ROLE:
        found = (i = hx_find_role(p, r->id)) >= 0 ? hx_role_json(ctx, p, &p->roles[i]) : NULL;
        break;
    case EP_PRACTITIONER:
        found = (i = hx_find_practitioner(p, r->id)) >= 0
                    ? hx_practitioner_json(&p->practitioners[i])
                    : NULL;
        break;
    case EP_PATIENT: {
        const hx_patient *pt = hx_find_patient(p, r->id);
        found = pt != NULL ? hx_patient_json(pt) : NULL;
        break;
    }
    case EP_SERVICE:
        found =
            (i = hx_find_service(p, r->id)) >= 0 ? hx_service_json(ctx, p, &p->services[i]) : NULL;
        break;
    default:
        found = strcmp(r->id, p->org_id) == 0 ? hx_organization_json(p) : NULL;
        break;
    }
    if (found != NULL) {
        hx_respond(resp, 200, found);
    } else {
        char message[128];
        snprintf(message, sizeof(message), "%s/%s is not known", endpoints[r->endpoint].type,
                 r->id);
        hx_respond_outcome(resp, 404, "not-found", message);
    }
}

/* Methods: GET everywhere but the token endpoint and $book (POST); an Appointment also takes
 * PATCH. PATCH on Practitioner, PractitionerRole and Organization gets 405 with an empty body
 * (the live behaviour). False after answering. */
static bool check_method(const sbx_request *req, const hx_route *r, sbx_response *resp)
{
    const char *wanted = r->endpoint == EP_TOKEN || r->endpoint == EP_BOOK ? "POST"
                         : r->endpoint == EP_APPOINTMENT                   ? "GET, PATCH"
                                                                           : "GET";
    if (sbx_method_in(req, wanted))
        return true;
    hx_endpoint e = r->endpoint;
    bool bare = e == EP_PRACTITIONERS || e == EP_PRACTITIONER || e == EP_ROLES || e == EP_ROLE ||
                e == EP_ORGANIZATIONS || e == EP_ORGANIZATION;
    if (bare && sbx_method_is(req, "PATCH")) {
        resp->status = 405; /* no body */
    } else {
        hx_respond_outcome(resp, 405, "not-supported", "This method is not supported here");
    }
    sbx_response_header(resp, "Allow", wanted);
    return false;
}

void hx_api_handle(const sbx_request *req, const sbx_route_info *info, sbx_response *resp)
{
    (void)info;
    const char *agent = sbx_header(req, "User-Agent");
    if (agent == NULL || *agent == '\0') {
        hx_respond_outcome(resp, 403, "forbidden", "A User-Agent header is required");
        return;
    }
    hx_route r;
    parse_route(req->path, &r);
    if (r.endpoint == EP_UNKNOWN) {
        hx_respond_outcome(resp, 404, "not-found", "Unknown resource type or path");
        return;
    }
    if (!check_method(req, &r, resp))
        return;
    if (r.endpoint == EP_TOKEN) {
        handle_token(req, resp);
        return;
    }
    bool writes = r.endpoint == EP_BOOK || sbx_method_is(req, "PATCH");
    hx_world *w = writes ? hx_lock_write() : hx_lock_read();
    const sbx_halaxy_config *s = hx_settings();
    hx_practice *p = check_bearer(req, w, s, resp);
    if (p != NULL && writes) {
        hx_ctx ctx = hx_ctx_for(req, s);
        hx_appt *a = r.endpoint == EP_BOOK ? NULL : hx_find_appt(p, r.id);
        if (r.endpoint == EP_BOOK)
            hx_write_book(req, w, p, &ctx, resp);
        else if (a == NULL)
            hx_respond_outcome(resp, 404, "not-found", "Appointment is not known");
        else
            hx_write_patch(req, p, a, &ctx, resp);
    } else if (p != NULL) {
        hx_ctx ctx = hx_ctx_for(req, s);
        if (r.endpoint == EP_FIND)
            hx_find_appointments(req, p, &ctx, resp);
        else if (r.endpoint == EP_APPOINTMENTS)
            hx_search_appointments(req, p, s, resp);
        else if (endpoints[r.endpoint].instance)
            read_one(&ctx, p, &r, resp);
        else
            search(&ctx, req, p, r.endpoint, resp);
        if (resp->status == 200)
            resp->truncatable = true;
    }
    hx_unlock();
}
