/* Gentu (Magentus): client-credentials token with HTTP Basic, pairing, tenant details,
 * practitioners, appointment types and patients. Appointments are in gentu_fetch.c. */
#include <stdlib.h>
#include <string.h>

#include "adapters/gentu/gentu.h"
#include "pmsync/log.h"

static const pms_setting_def gentu_settings[] = {
    {"client_id", "Client ID", "The client ID of your Gentu Marketplace app", true, false, NULL},
    {"client_secret", "Client secret", "The client secret of your Gentu Marketplace app", true,
     true, NULL},
    {"app_id", "App ID", "The app ID used for pairing (the application_name of the app)", true,
     false, NULL},
    {"page_size", "Page size", "Appointments per page, 5 to 100", false, false, "100"},
    {"concurrency", "Parallel practitioners",
     "How many practitioners' appointments are read at the same time, 1 to 16", false, false, "4"},
    {"cancel_body", "Cancel request body",
     "The JSON body of the PATCH that cancels an appointment (the Bookings API does not document "
     "it)",
     false, false, "{\"action\":\"cancel\"}"},
    {NULL, NULL, NULL, false, false, NULL},
};

char *pms_gentu_tenant_url(pms_session *s, const char *suffix, pms_error *err)
{
    const char *tenant = pms_session_external_id(s);
    if (tenant == NULL || tenant[0] == '\0') {
        pms_error_set(err, PMS_ERR_CONFIG,
                      "this Gentu connection is not paired yet: run the pairing step with the "
                      "practice's pairing code");
        return NULL;
    }
    char *encoded = pms_url_encode(tenant);
    char *path = NULL, *url = NULL;
    if (encoded && asprintf(&path, "/v1/tenants/%s%s", encoded, suffix) >= 0)
        url = pms_session_url(s, path);
    else
        path = NULL;
    free(encoded);
    free(path);
    if (url == NULL)
        pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return url;
}

static int gentu_validate_settings(const json_t *settings, pms_error *err)
{
    const char *body = json_string_value(json_object_get(settings, "cancel_body"));
    json_t *parsed = body ? pms_gentu_cancel_body(body) : NULL;
    if (body && parsed == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "cancel_body must be a JSON object");
    json_decref(parsed);
    return PMS_OK;
}

static const pms_unsupported_note gentu_unsupported[] = {
    {PMS_CAP_RESCHEDULE, "its Bookings API cannot move an appointment; cancel it and book the new "
                         "time instead"},
    {0, NULL},
};

static int gentu_session_init(pms_session *s, pms_error *err)
{
    gentu_state *st = pms_session_state(s);
    return pms_read_once_init(&st->patients, err);
}

static void gentu_session_cleanup(pms_session *s)
{
    gentu_state *st = pms_session_state(s);
    pms_read_once_clear(&st->patients);
}

static int gentu_authenticate(pms_session *s, pms_auth_result *out, pms_error *err)
{
    const char *client_id = pms_session_setting(s, "client_id");
    const char *client_secret = pms_session_setting(s, "client_secret");
    if (client_id == NULL || client_secret == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG,
                             "Gentu needs client_id and client_secret settings");
    char *url = pms_session_url(s, "/v1/oauth2/token");
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    static const pms_http_header headers[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/json"},
    };
    static const char body[] = "grant_type=client_credentials";
    pms_http_request req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .header_count = 2,
        .body = body,
        .body_len = sizeof body - 1,
        .basic_user = client_id,
        .basic_password = client_secret,
    };
    json_t *json = NULL;
    pms_instant asked = pms_now();
    int rc = pms_session_call(s, NULL, &req, PMS_CALL_JSON, NULL, &json, err);
    free(url);
    if (rc != PMS_OK)
        return rc;
    const json_t *token = json_object_get(json, "access_token");
    const json_t *expires_in = json_object_get(json, "expires_in");
    if (!json_is_string(token) || json_string_length(token) == 0) {
        json_decref(json);
        return pms_error_set(err, PMS_ERR_AUTH, "Gentu's token response has no access_token");
    }
    long long lifetime = json_is_integer(expires_in) ? json_integer_value(expires_in) : 3599;
    if (lifetime <= 0)
        lifetime = 60;
    out->access_token = strdup(json_string_value(token));
    out->refresh_token = NULL; /* Gentu issues none: a new token is minted each time */
    out->expires_at = asked + lifetime * 1000;
    json_decref(json);
    if (out->access_token == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

static int gentu_practice_info(pms_session *s, pms_practice_info *out, pms_error *err)
{
    char *url = pms_gentu_tenant_url(s, "", err);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_CONFIG;
    json_t *json = NULL;
    int rc = pms_session_get_json(s, NULL, url, &json, err);
    free(url);
    if (rc != PMS_OK)
        return rc;
    const json_t *id = json_object_get(json, "tenantId");
    const json_t *name = json_object_get(json, "tenantName");
    const json_t *tz = json_object_get(json, "timezone");
    memset(out, 0, sizeof *out);
    out->external_id =
        strdup(json_is_string(id) ? json_string_value(id) : pms_session_external_id(s));
    out->name = json_is_string(name) ? strdup(json_string_value(name)) : NULL;
    out->timezone = json_is_string(tz) ? strdup(json_string_value(tz)) : NULL;
    json_decref(json);
    if (out->external_id == NULL) {
        pms_practice_info_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

static int gentu_pair(pms_session *s, const char *code, pms_practice_info *out, pms_error *err)
{
    const char *app_id = pms_session_setting(s, "app_id");
    if (app_id == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG, "Gentu pairing needs the app_id setting");
    size_t len = strlen(code);
    if (len < 4 || len > 64 ||
        strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-") != len)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "a Gentu pairing code is the 8 letters and digits shown in the "
                             "Gentu Marketplace");
    char *app = pms_url_encode(app_id);
    char *path = NULL, *url = NULL;
    if (app && asprintf(&path, "/v1/apps/%s/pairing/%s", app, code) >= 0)
        url = pms_session_url(s, path);
    else
        path = NULL;
    free(app);
    free(path);
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    static const pms_http_header accept = {"Accept", "application/json"};
    pms_http_request req = {.method = "PUT", .url = url, .headers = &accept, .header_count = 1};
    json_t *json = NULL;
    int rc = pms_session_call(s, NULL, &req, PMS_CALL_AUTH | PMS_CALL_JSON, NULL, &json, err);
    free(url);
    if (rc != PMS_OK) {
        if (rc == PMS_ERR_NOT_FOUND)
            pms_error_set(err, PMS_ERR_NOT_FOUND,
                          "Gentu does not know this pairing code: check it, or generate a new one "
                          "in the Gentu Marketplace (codes can be used once)");
        return rc;
    }
    const json_t *tenant = json_object_get(json, "tenantId");
    if (!json_is_string(tenant) || json_string_length(tenant) == 0) {
        json_decref(json);
        return pms_error_set(err, PMS_ERR_UPSTREAM, "Gentu's pairing answer has no tenantId");
    }
    rc = pms_session_set_external_id(s, json_string_value(tenant), err);
    json_decref(json);
    if (rc != PMS_OK)
        return rc;
    return gentu_practice_info(s, out, err);
}

static int gentu_validate(pms_session *s, pms_error *err)
{
    char *url = pms_gentu_tenant_url(s, "/status", err);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_CONFIG;
    json_t *json = NULL;
    int rc = pms_session_get_json(s, NULL, url, &json, err);
    free(url);
    json_decref(json);
    return rc;
}

static int gentu_health_check(pms_session *s, pms_health *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    pms_instant started = pms_now();
    pms_error e = {0};
    int rc = gentu_validate(s, &e);
    out->latency_ms = (long)(pms_now() - started);
    out->ok = rc == PMS_OK;
    snprintf(out->message, sizeof out->message, "%s", rc == PMS_OK ? "connected" : e.message);
    if (rc != PMS_OK && err)
        *err = e;
    return rc;
}

/* GET a tenant resource that is a bare JSON array (practitioners, appointment types). */
static int get_tenant_array(pms_session *s, const char *suffix, const char *what, json_t **out,
                            pms_error *err)
{
    *out = NULL;
    char *url = pms_gentu_tenant_url(s, suffix, err);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_CONFIG;
    int rc = pms_session_get_json(s, NULL, url, out, err);
    free(url);
    if (rc == PMS_OK && !json_is_array(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = pms_error_set(err, PMS_ERR_PARSE, "Gentu's %s are not a list", what);
    }
    return rc;
}

static void log_skipped_entry(pms_session *s, const char *event, const pms_error *e)
{
    pms_log(PMS_LOG_WARN, event, "connection", pms_session_connection_id(s), "reason", e->message,
            NULL);
}

int pms_gentu_list_practitioners(pms_session *s, pms_practitioner_list *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *json = NULL;
    int rc = get_tenant_array(s, "/practitioners", "practitioners", &json, err);
    size_t i;
    json_t *item;
    json_array_foreach(json, i, item)
    {
        pms_practitioner *p = pms_practitioner_list_push(out);
        if (p == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
        pms_error e;
        if (pms_gentu_map_practitioner(item, p, &e) != PMS_OK) {
            out->count--; /* drop the malformed entry, keep the rest */
            log_skipped_entry(s, "gentu.practitioner_skipped", &e);
        }
    }
    json_decref(json);
    if (rc != PMS_OK)
        pms_practitioner_list_clear(out);
    return rc;
}

static int gentu_list_appointment_types(pms_session *s, pms_appt_type_list *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *json = NULL;
    int rc = get_tenant_array(s, "/appointment-types", "appointment types", &json, err);
    size_t i;
    json_t *item;
    json_array_foreach(json, i, item)
    {
        pms_appt_type *t = pms_appt_type_list_push(out);
        if (t == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
        pms_error e;
        if (pms_gentu_map_appt_type(item, t, &e) != PMS_OK) {
            out->count--;
            log_skipped_entry(s, "gentu.appointment_type_skipped", &e);
        }
    }
    json_decref(json);
    if (rc != PMS_OK)
        pms_appt_type_list_clear(out);
    return rc;
}

static int read_patient_record(pms_session *s, pms_http_client *client, const char *patient_id,
                               json_t **record, pms_error *err)
{
    char *encoded = pms_url_encode(patient_id);
    char *suffix = NULL;
    if (encoded == NULL || asprintf(&suffix, "/patients/%s", encoded) < 0) {
        free(encoded);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    free(encoded);
    char *url = pms_gentu_tenant_url(s, suffix, err);
    free(suffix);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_NOMEM;
    int rc = pms_session_get_json(s, client, url, record, err);
    free(url);
    return rc;
}

/* Failures are remembered too, so a missing patient costs one request per sync. */
json_t *pms_gentu_patient_cached(pms_session *s, pms_http_client *client, const char *patient_id,
                                 pms_error *err)
{
    gentu_state *st = pms_session_state(s);
    return pms_read_once_get(&st->patients, s, client, patient_id, read_patient_record, err);
}

static int gentu_fetch_patient(pms_session *s, const char *patient_id, pms_patient *out,
                               pms_error *err)
{
    json_t *json = pms_gentu_patient_cached(s, NULL, patient_id, err);
    if (json == NULL)
        return err ? (int)err->code : PMS_ERR_NOT_FOUND;
    int rc = pms_gentu_map_patient(json, pms_phone_region_for_timezone(pms_session_tz_name(s)), out,
                                   err);
    json_decref(json);
    return rc;
}

const pms_adapter_ops pms_gentu_adapter = {
    .version = PMS_ADAPTER_OPS_VERSION,
    .name = "gentu",
    .display_name = "Gentu (Magentus)",
    .default_base_url = "https://api.pm.magentus.com",
    .traits = PMS_CAP_TELEHEALTH_BY_TYPE | PMS_CAP_PRACTITIONER_FILTER,
    .settings = gentu_settings,
    .default_per_minute = 60,
    .default_per_hour = 1000,
    .state_size = sizeof(gentu_state),
    .validate_settings = gentu_validate_settings,
    .session_init = gentu_session_init,
    .session_cleanup = gentu_session_cleanup,
    .describe_error = pms_gentu_describe_error,
    .authenticate = gentu_authenticate,
    .pair = gentu_pair,
    .practice_info = gentu_practice_info,
    .validate = gentu_validate,
    .health_check = gentu_health_check,
    .list_practitioners = pms_gentu_list_practitioners,
    .list_appointment_types = gentu_list_appointment_types,
    .fetch_appointments = pms_gentu_fetch_appointments,
    .fetch_patient = gentu_fetch_patient,
    .find_slots = pms_gentu_find_slots,
    .book = pms_gentu_book,
    .cancel = pms_gentu_cancel,
    .search_patients = pms_gentu_search_patients,
    .create_patient = pms_gentu_create_patient,
    .get_appointment = pms_gentu_get_appointment,
    .unsupported = gentu_unsupported,
};
