/* The Gentu Healthcare API endpoints (declared in gentu.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faults.h"
#include "gentu.h"
#include "gentu_auth.h"
#include "gentu_json.h"
#include "stats.h"

typedef enum gentu_endpoint {
    EP_UNKNOWN = 0,
    EP_TOKEN,
    EP_PAIRING,
    EP_TENANTS,
    EP_TENANT,
    EP_STATUS,
    EP_PRACTITIONERS,
    EP_PRACTITIONER,
    EP_SITES,
    EP_TYPES,
    EP_APPOINTMENTS,
    EP_APPOINTMENT,
    EP_PATIENT,
    EP_SCHEDULES,
    EP_PATIENTS,
    EP_PATIENT_LIST,
    EP_COUNT,
} gentu_endpoint;

static const struct {
    const char *name;
    const char *methods; /* the methods served, ", " between them */
} endpoints[EP_COUNT] = {
    [EP_UNKNOWN] = {"gentu.unknown", NULL},
    [EP_TOKEN] = {"gentu.token", "POST"},
    [EP_PAIRING] = {"gentu.pairing", "PUT"},
    [EP_TENANTS] = {"gentu.tenants", "GET"},
    [EP_TENANT] = {"gentu.tenant", "GET"},
    [EP_STATUS] = {"gentu.status", "GET"},
    [EP_PRACTITIONERS] = {"gentu.practitioners", "GET"},
    [EP_PRACTITIONER] = {"gentu.practitioner", "GET"},
    [EP_SITES] = {"gentu.sites", "GET"},
    [EP_TYPES] = {"gentu.appointment_types", "GET"},
    [EP_APPOINTMENTS] = {"gentu.appointments", "GET, POST"},
    [EP_APPOINTMENT] = {"gentu.appointment", "GET, PATCH"},
    [EP_PATIENT] = {"gentu.patient", "GET"},
    [EP_SCHEDULES] = {"gentu.schedules", "GET"},
    [EP_PATIENTS] = {"gentu.patient_create", "POST"},
    [EP_PATIENT_LIST] = {"gentu.patient_list", "POST"},
};

typedef struct gentu_route {
    gentu_endpoint endpoint;
    sbx_path path;
    const char *tenant_id; /* in path */
    const char *id;        /* practitioner, appointment or patient id in path */
    const char *app_id;
    const char *code;
} gentu_route;

static void parse_route(const char *full_path, gentu_route *r)
{
    memset(r, 0, sizeof(*r));
    const char *rest = full_path + strlen("/gentu");
    sbx_path_split(rest, &r->path);
    const sbx_path *p = &r->path;
    int n = p->count;
    if (n < 2 || !sbx_seg_is(p, 0, "v1"))
        return;
    if (n == 3 && sbx_seg_is(p, 1, "oauth2") && sbx_seg_is(p, 2, "token")) {
        r->endpoint = EP_TOKEN;
        return;
    }
    if (n == 5 && sbx_seg_is(p, 1, "apps") && sbx_seg_is(p, 3, "pairing")) {
        r->endpoint = EP_PAIRING;
        r->app_id = p->seg[2];
        r->code = p->seg[4];
        return;
    }
    if (!sbx_seg_is(p, 1, "tenants"))
        return;
    if (n == 2) {
        r->endpoint = EP_TENANTS;
        return;
    }
    r->tenant_id = p->seg[2];
    if (n == 3) {
        r->endpoint = EP_TENANT;
    } else if (n == 4) {
        if (sbx_seg_is(p, 3, "status"))
            r->endpoint = EP_STATUS;
        else if (sbx_seg_is(p, 3, "practitioners"))
            r->endpoint = EP_PRACTITIONERS;
        else if (sbx_seg_is(p, 3, "appointment-types"))
            r->endpoint = EP_TYPES;
        else if (sbx_seg_is(p, 3, "appointments"))
            r->endpoint = EP_APPOINTMENTS;
        else if (sbx_seg_is(p, 3, "schedules"))
            r->endpoint = EP_SCHEDULES;
        else if (sbx_seg_is(p, 3, "patients"))
            r->endpoint = EP_PATIENTS;
    } else if (n == 5 && sbx_seg_is(p, 3, "patients") && sbx_seg_is(p, 4, "list")) {
        r->endpoint = EP_PATIENT_LIST;
    } else if (n == 5) {
        r->id = p->seg[4];
        if (sbx_seg_is(p, 3, "practitioners"))
            r->endpoint = EP_PRACTITIONER;
        else if (sbx_seg_is(p, 3, "appointments"))
            r->endpoint = EP_APPOINTMENT;
        else if (sbx_seg_is(p, 3, "patients"))
            r->endpoint = EP_PATIENT;
    } else if (n == 6 && sbx_seg_is(p, 3, "practitioners") && sbx_seg_is(p, 5, "sites")) {
        r->id = p->seg[4];
        r->endpoint = EP_SITES;
    }
}

void gentu_api_route(const sbx_request *req, sbx_route_info *info)
{
    gentu_route r;
    parse_route(req->path, &r);
    info->endpoint = endpoints[r.endpoint].name;
    info->is_token = r.endpoint == EP_TOKEN;
    sbx_copy_id(info->tenant_id, sizeof(info->tenant_id), r.tenant_id);
    if (r.endpoint == EP_APPOINTMENTS)
        sbx_copy_id(info->practitioner_id, sizeof(info->practitioner_id),
                    sbx_query(req, "practitionerId"));
    else if (r.endpoint == EP_PRACTITIONER || r.endpoint == EP_SITES)
        sbx_copy_id(info->practitioner_id, sizeof(info->practitioner_id), r.id);
}

void gentu_api_fault(int status, const sbx_route_info *info, sbx_response *resp)
{
    (void)info;
    static atomic_uint fault_500_count;
    json_t *body;
    switch (status) {
    case 429:
        body = gentu_fault_json("Spike arrest violation. Allowed rate : MessageRate{"
                                "messagesPerPeriod=60, periodInMicroseconds=60000000, "
                                "maxBurstMessageCount=1.0}",
                                "policies.ratelimit.SpikeArrestViolation");
        break;
    case 502:
        body = gentu_fault_json("Unexpected EOF at target",
                                "messaging.adaptors.http.flow.UnexpectedEOFAtTarget");
        break;
    case 503:
        body = gentu_fault_json("The Service is temporarily unavailable",
                                "messaging.adaptors.http.flow.ServiceUnavailable");
        break;
    case 504:
        body = gentu_fault_json("Gateway Timeout", "messaging.adaptors.http.flow.GatewayTimeout");
        break;
    default:
        /* Alternate between the Apigee fault envelope and a backend error message. */
        if (atomic_fetch_add(&fault_500_count, 1) % 2 == 0)
            body = gentu_fault_json("Execution of JS-Resolve-Tenant failed with error: "
                                    "Javascript runtime error",
                                    "steps.javascript.ScriptExecutionFailed");
        else
            body = json_pack("{s:s}", "message", "Internal Server Error");
        break;
    }
    sbx_respond_json(resp, status, body);
}

static void token_error(const sbx_gentu_config *s, sbx_response *resp, int status, const char *code,
                        const char *description)
{
    if (s->token_errors == SBX_GENTU_ERRORS_APIGEE)
        sbx_respond_json(resp, status,
                         json_pack("{s:s, s:s}", "ErrorCode", code, "Error", description));
    else
        sbx_respond_json(resp, status,
                         json_pack("{s:s, s:s}", "error", code, "error_description", description));
}

/* Client id and secret from HTTP Basic (or the form body when allowed). */
static bool read_client_credentials(const sbx_request *req, const sbx_gentu_config *s, char *id,
                                    char *secret, size_t len)
{
    int basic = sbx_basic_auth(req, id, secret, len);
    if (basic != 0)
        return basic > 0;
    if (s->body_credentials)
        return sbx_form_field(req->body, "client_id", id, len) &&
               sbx_form_field(req->body, "client_secret", secret, len);
    return false;
}

static void handle_token(const sbx_request *req, sbx_response *resp)
{
    sbx_gentu_config s;
    gentu_lock_read();
    s = *gentu_settings();
    gentu_unlock();
    const char *content_type = sbx_header(req, "Content-Type");
    if (content_type == NULL ||
        strncasecmp(content_type, "application/x-www-form-urlencoded", 33) != 0) {
        token_error(&s, resp, 400, "invalid_request",
                    "Content-Type must be application/x-www-form-urlencoded");
        return;
    }
    char grant[64];
    if (!sbx_form_field(req->body, "grant_type", grant, sizeof(grant))) {
        token_error(&s, resp, 400, "invalid_request", "grant_type is required");
        return;
    }
    if (strcmp(grant, "client_credentials") != 0) {
        token_error(&s, resp, 400, "unsupported_grant_type", "Unsupported grant type");
        return;
    }
    char id[256], secret[256];
    if (!read_client_credentials(req, &s, id, secret, sizeof(id))) {
        token_error(&s, resp, 401, "invalid_client", "Client authentication failed");
        return;
    }
    if (strcmp(id, s.client_id) != 0 || strcmp(secret, s.client_secret) != 0) {
        token_error(&s, resp, 401, "invalid_client",
                    s.token_errors == SBX_GENTU_ERRORS_APIGEE ? "ClientId is Invalid"
                                                              : "Invalid client credentials");
        return;
    }
    int lifetime = sbx_faults_token_lifetime(GENTU_TOKEN_LIFETIME);
    char token[GENTU_TOKEN_LEN];
    if (gentu_token_mint(lifetime, token, NULL) != PMS_OK) {
        sbx_respond_message(resp, 500, "Internal Server Error");
        return;
    }
    sbx_respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s}", "access_token", token,
                               "token_type", "Bearer", "expires_in", lifetime,
                               "refresh_token_expires_in", 0, "application_name", s.app_id,
                               "status", "approved", "api_product_list", "[Healthcare API]"));
    sbx_response_header(resp, "Cache-Control", "no-store");
    resp->truncatable = true;
}

/* 401 unless the request carries a live bearer token. Missing, malformed, unknown and expired
 * tokens all get the same Apigee envelope (docs/sandbox.md). */
static bool check_bearer(const sbx_request *req, sbx_response *resp)
{
    const char *auth = sbx_header(req, "Authorization");
    const char *token = NULL;
    if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0) {
        token = auth + 7;
        while (*token == ' ')
            token++;
    }
    if (token == NULL || gentu_token_check(token) != GENTU_TOKEN_VALID) {
        sbx_respond_json(resp, 401,
                         gentu_fault_json("Invalid access token", "oauth.v2.InvalidAccessToken"));
        return false;
    }
    return true;
}

static void handle_pairing(const gentu_route *r, sbx_response *resp)
{
    gentu_world *w = gentu_lock_write();
    const sbx_gentu_config *s = gentu_settings();
    if (strcmp(r->app_id, s->app_id) != 0) {
        sbx_respond_message(resp, s->wrong_app_status,
                            s->wrong_app_status == 404
                                ? "App not found"
                                : "The access token does not belong to this app");
        goto out;
    }
    gentu_tenant *t = gentu_find_tenant_by_code(w, r->code);
    if (t == NULL) {
        sbx_respond_message(resp, 404, "Pairing code not found");
        goto out;
    }
    t->access = GENTU_ACCESS_ENABLED;
    sbx_respond_json(resp, 200,
                     json_pack("{s:s, s:s}", "message", "Successfully consumed pairing code",
                               "tenantId", t->id));
out:
    gentu_unlock();
}

static void handle_tenants(const gentu_world *w, const sbx_gentu_config *s, sbx_response *resp)
{
    json_t *list = json_array();
    for (size_t i = 0; i < w->tenant_count; i++) {
        const gentu_tenant *t = &w->tenants[i];
        if (t->access == GENTU_ACCESS_UNPAIRED && !s->tenants_list_all)
            continue;
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "tenantId", t->id, "tenantAccess",
                            t->access == GENTU_ACCESS_ENABLED ? "enabled" : "disabled"));
    }
    sbx_respond_json(resp, 200, list);
}

/* The Bookings API writes; the write lock is held. */
static void handle_write(const sbx_request *req, const gentu_route *r, gentu_world *w,
                         gentu_tenant *t, const sbx_gentu_config *s, sbx_response *resp)
{
    if (r->endpoint == EP_APPOINTMENTS) {
        gentu_write_create_appt(req, w, t, resp);
    } else if (r->endpoint == EP_PATIENTS) {
        gentu_patients_create(req, w, t, resp);
    } else {
        gentu_appt *a = gentu_find_appt(t, r->id);
        if (a == NULL)
            sbx_respond_message(resp, 404, "Appointment not found");
        else
            gentu_write_cancel(req, s, t, a, resp);
    }
}

static void handle_tenant_call(const sbx_request *req, const gentu_route *r, sbx_response *resp)
{
    bool writes = !sbx_method_is(req, "GET") && r->endpoint != EP_PATIENT_LIST;
    gentu_world *w = writes ? gentu_lock_write() : gentu_lock_read();
    const sbx_gentu_config *s = gentu_settings();
    if (s->unprovisioned_app) {
        sbx_respond_json(
            resp, 500,
            gentu_fault_json("Unresolved variable : app.partnerId", "entities.UnresolvedVariable"));
        goto out;
    }
    if (r->endpoint == EP_TENANTS) {
        handle_tenants(w, s, resp);
        goto out;
    }
    gentu_tenant *t = gentu_find_tenant(w, r->tenant_id);
    if (t == NULL) {
        sbx_respond_message(resp, 404, "Tenant not found");
        goto out;
    }
    if (t->access != GENTU_ACCESS_ENABLED) {
        sbx_respond_message(resp, s->unpaired_status,
                            s->unpaired_status == 404
                                ? "Tenant not found"
                                : "The application does not have access to this tenant");
        goto out;
    }
    if (writes) {
        handle_write(req, r, w, t, s, resp);
        goto out;
    }
    unsigned malformed = 0;
    switch (r->endpoint) {
    case EP_TENANT:
        sbx_respond_json(resp, 200,
                         json_pack("{s:s, s:i, s:s, s:s}", "tenantId", t->id, "tenantNumber",
                                   t->number, "timezone", pms_tz_name(t->tz), "tenantName",
                                   t->name));
        break;
    case EP_STATUS:
        sbx_respond_json(resp, 200, json_pack("{s:s}", "message", "Hello world!"));
        break;
    case EP_PRACTITIONERS: {
        json_t *list = json_array();
        for (size_t i = 0; i < t->practitioner_count; i++)
            json_array_append_new(list, gentu_practitioner_list_json(&t->practitioners[i]));
        sbx_respond_json(resp, 200, list);
        break;
    }
    case EP_PRACTITIONER:
    case EP_SITES: {
        int pi = gentu_find_practitioner(t, r->id);
        if (pi < 0) {
            sbx_respond_message(resp, 404, "Practitioner not found");
            break;
        }
        if (r->endpoint == EP_PRACTITIONER) {
            sbx_respond_json(resp, 200, gentu_user_json(t, &t->practitioners[pi]));
            break;
        }
        json_t *sites = json_array();
        for (size_t i = 0; i < t->site_count; i++)
            json_array_append_new(sites, gentu_site_json(&t->sites[i]));
        sbx_respond_json(resp, 200, json_pack("{s:o}", "data", sites));
        break;
    }
    case EP_TYPES: {
        json_t *list = json_array();
        for (size_t i = 0; i < t->type_count; i++)
            json_array_append_new(list, gentu_type_json(&t->types[i]));
        sbx_respond_json(resp, 200, list);
        break;
    }
    case EP_APPOINTMENTS:
        gentu_list_appointments(req, t, s, resp);
        break;
    case EP_SCHEDULES:
        gentu_schedules(req, t, resp);
        break;
    case EP_PATIENT_LIST:
        gentu_patients_list(req, t, resp);
        break;
    case EP_APPOINTMENT: {
        const gentu_appt *a = gentu_find_appt(t, r->id);
        if (a == NULL) {
            sbx_respond_message(resp, 404, "Appointment not found");
            break;
        }
        sbx_respond_json(resp, 200, gentu_appt_out(t, a, &malformed));
        sbx_stats_fault(SBX_STAT_FAULT_MALFORMED, malformed);
        break;
    }
    case EP_PATIENT: {
        const gentu_patient *p = gentu_find_patient(t, r->id);
        if (p == NULL)
            sbx_respond_message(resp, 404, "Patient not found");
        else
            sbx_respond_json(resp, 200, gentu_patient_json(p));
        break;
    }
    default:
        sbx_respond_message(resp, 404, "Not found");
        break;
    }
    if (resp->status == 200)
        resp->truncatable = true;
out:
    gentu_unlock();
}

void gentu_api_handle(const sbx_request *req, const sbx_route_info *info, sbx_response *resp)
{
    (void)info;
    gentu_route r;
    parse_route(req->path, &r);
    if (r.endpoint == EP_UNKNOWN) {
        sbx_respond_json(resp, 404,
                         gentu_fault_json("Unable to identify proxy for host: default and url: "
                                          "the requested path",
                                          "messaging.adaptors.http.flow.ApplicationNotFound"));
        return;
    }
    if (!sbx_method_in(req, endpoints[r.endpoint].methods)) {
        sbx_respond_message(resp, 405, "Method not allowed");
        sbx_response_header(resp, "Allow", endpoints[r.endpoint].methods);
        return;
    }
    if (r.endpoint == EP_TOKEN) {
        handle_token(req, resp);
        return;
    }
    if (!check_bearer(req, resp))
        return;
    if (r.endpoint == EP_PAIRING)
        handle_pairing(&r, resp);
    else
        handle_tenant_call(req, &r, resp);
}
