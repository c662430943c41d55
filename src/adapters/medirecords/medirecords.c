/* Medirecords: a static per-practice token (or OAuth client credentials when a token URL is
 * configured), practice details, appointment types, providers where a list is configured,
 * and patients. Appointments are in medirecords_fetch.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/medirecords/medirecords.h"
#include "pmsync/crypto.h"
#include "pmsync/log.h"

#define STATIC_TOKEN_LIFETIME_MS (3650LL * 24 * 3600 * 1000)

static const pms_setting_def medirecords_settings[] = {
    {"practice_id", "Practice ID", "The practice's Medirecords id (a GUID)", true, false, NULL},
    {"token", "API token", "The practice's API token from Medirecords", false, true, NULL},
    {"token_url", "Token URL",
     "Only for OAuth client credentials: the token endpoint (a URL, or a path on the API)", false,
     false, NULL},
    {"client_id", "Client ID", "Only for OAuth client credentials", false, false, NULL},
    {"client_secret", "Client secret", "Only for OAuth client credentials", false, true, NULL},
    {"auth_scheme", "Authorization scheme",
     "How the token is sent: Bearer (the default) or none (the token alone)", false, false,
     "Bearer"},
    {"providers_path", "Provider list path",
     "Where the practice's providers are listed, e.g. /v1/practices/{practiceId}/providers; "
     "without it practitioners are taken from the appointments",
     false, false, NULL},
    {"interval_codes_path", "Interval code path", "The appointment interval code system", false,
     false, "/v1/code-system/appointment-interval-code"},
    {"range_end", "End of a day in searches",
     "inclusive: a day ends at 23:59 (the default); exclusive: at the next day's 00:00", false,
     false, "inclusive"},
    {"page_size", "Page size", "Appointments per page, 1 to 500", false, false, "100"},
    {"cancel_method", "How appointments are cancelled",
     "status (the default): the appointment is kept with status 8 (Cancelled) and a reason; "
     "delete: it is removed with DELETE",
     false, false, "status"},
    {"cancel_reason", "Cancellation reason",
     "Sent when a cancellation gives none (Medirecords requires one)", false, false,
     "Cancelled at the patient's request"},
    {"patient_search_path", "Patient search path", "Where patients are searched (POST)", false,
     false, "/v1/patients/search"},
    {"concurrency", "Parallel requests", "Patients read at the same time, 1 to 16", false, false,
     "4"},
    {NULL, NULL, NULL, false, false, NULL},
};

static const char *setting(const json_t *settings, const char *key)
{
    const json_t *v = json_object_get(settings, key);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

static int medirecords_validate_settings(const json_t *settings, pms_error *err)
{
    bool oauth = setting(settings, "token_url") != NULL;
    if (oauth && (!setting(settings, "client_id") || !setting(settings, "client_secret")))
        return pms_error_set(err, PMS_ERR_INVALID,
                             "client_id and client_secret are required with token_url");
    if (!oauth && !setting(settings, "token"))
        return pms_error_set(err, PMS_ERR_INVALID,
                             "token is required (or token_url, client_id and client_secret)");
    const char *scheme = setting(settings, "auth_scheme");
    if (scheme && strcasecmp(scheme, "bearer") != 0 && strcasecmp(scheme, "none") != 0)
        return pms_error_set(err, PMS_ERR_INVALID, "auth_scheme must be Bearer or none");
    const char *range_end = setting(settings, "range_end");
    if (range_end && strcmp(range_end, "inclusive") != 0 && strcmp(range_end, "exclusive") != 0)
        return pms_error_set(err, PMS_ERR_INVALID, "range_end must be inclusive or exclusive");
    const char *cancel = setting(settings, "cancel_method");
    if (cancel && strcmp(cancel, "status") != 0 && strcmp(cancel, "delete") != 0)
        return pms_error_set(err, PMS_ERR_INVALID, "cancel_method must be status or delete");
    const char *search = setting(settings, "patient_search_path");
    if (search && search[0] != '/')
        return pms_error_set(err, PMS_ERR_INVALID, "patient_search_path must start with /");
    const char *providers = setting(settings, "providers_path");
    if (providers && providers[0] != '/')
        return pms_error_set(err, PMS_ERR_INVALID, "providers_path must start with /");
    return PMS_OK;
}

char *pms_medirecords_practice_url(pms_session *s, const char *suffix, pms_error *err)
{
    const char *practice = pms_session_setting(s, "practice_id");
    if (practice == NULL) {
        pms_error_set(err, PMS_ERR_CONFIG, "Medirecords needs the practice_id setting");
        return NULL;
    }
    char *encoded = pms_url_encode(practice);
    char *path = NULL, *url = NULL;
    if (encoded && asprintf(&path, "/v1/practices/%s%s", encoded, suffix) >= 0)
        url = pms_session_url(s, path);
    else
        path = NULL;
    free(encoded);
    free(path);
    if (url == NULL)
        pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return url;
}

static int medirecords_session_init(pms_session *s, pms_error *err)
{
    medirecords_state *st = pms_session_state(s);
    pthread_mutex_init(&st->lock, NULL);
    int rc = pms_read_once_init(&st->patients, err);
    if (rc != PMS_OK)
        return rc;
    const char *scheme = pms_session_setting(s, "auth_scheme");
    if (scheme && strcasecmp(scheme, "none") == 0)
        pms_session_set_auth_scheme(s, "");
    return PMS_OK;
}

static void medirecords_session_cleanup(pms_session *s)
{
    medirecords_state *st = pms_session_state(s);
    pms_read_once_clear(&st->patients);
    json_decref(st->providers);
    pthread_mutex_destroy(&st->lock);
}

/* The static token, or one minted with client credentials at token_url. */
static int medirecords_authenticate(pms_session *s, pms_auth_result *out, pms_error *err)
{
    const char *token_url = pms_session_setting(s, "token_url");
    if (token_url == NULL) {
        const char *token = pms_session_setting(s, "token");
        if (token == NULL)
            return pms_error_set(err, PMS_ERR_CONFIG, "Medirecords needs the token setting");
        out->access_token = strdup(token);
        out->expires_at = pms_now() + STATIC_TOKEN_LIFETIME_MS;
        return out->access_token ? PMS_OK : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    const char *client_id = pms_session_setting(s, "client_id");
    const char *client_secret = pms_session_setting(s, "client_secret");
    if (client_id == NULL || client_secret == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG, "token_url needs client_id and client_secret");
    char *url = token_url[0] == '/' ? pms_session_url(s, token_url) : strdup(token_url);
    char *id = pms_url_encode(client_id), *secret = pms_url_encode(client_secret);
    char *body = NULL;
    int rc = PMS_OK;
    if (!url || !id || !secret ||
        asprintf(&body, "grant_type=client_credentials&client_id=%s&client_secret=%s", id, secret) <
            0) {
        body = NULL;
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    static const pms_http_header headers[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Accept", "application/json"},
    };
    pms_http_request req = {.method = "POST",
                            .url = url,
                            .headers = headers,
                            .header_count = 2,
                            .body = body,
                            .body_len = strlen(body)};
    json_t *json = NULL;
    pms_instant asked = pms_now();
    if ((rc = pms_session_call(s, NULL, &req, PMS_CALL_JSON, NULL, &json, err)) != PMS_OK)
        goto out;
    const json_t *token = json_object_get(json, "access_token");
    const json_t *expires = json_object_get(json, "expires_in");
    if (!json_is_string(token) || json_string_length(token) == 0) {
        rc = pms_error_set(err, PMS_ERR_AUTH, "Medirecords' token response has no access_token");
    } else {
        long long lifetime = json_is_integer(expires) ? json_integer_value(expires) : 3600;
        out->access_token = strdup(json_string_value(token));
        out->expires_at = asked + (lifetime > 0 ? lifetime : 60) * 1000;
        if (out->access_token == NULL)
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    json_decref(json);
out:
    if (body)
        pms_secure_free(body, strlen(body));
    if (secret)
        pms_secure_free(secret, strlen(secret));
    free(id);
    free(url);
    return rc;
}

static int medirecords_practice_info(pms_session *s, pms_practice_info *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    char *url = pms_medirecords_practice_url(s, "", err);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_CONFIG;
    json_t *json = NULL;
    int rc = pms_session_get_json(s, NULL, url, &json, err);
    free(url);
    if (rc != PMS_OK)
        return rc;
    const json_t *name = json_object_get(json, "name");
    out->external_id = pms_strdup_or_null(pms_session_setting(s, "practice_id"));
    out->name = json_is_string(name) ? strdup(json_string_value(name)) : NULL;
    json_decref(json);
    return out->external_id ? PMS_OK : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}

static int medirecords_validate(pms_session *s, pms_error *err)
{
    pms_practice_info info;
    int rc = medirecords_practice_info(s, &info, err);
    pms_practice_info_clear(&info);
    return rc;
}

static int medirecords_health_check(pms_session *s, pms_health *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    pms_instant started = pms_now();
    pms_error e = {0};
    int rc = medirecords_validate(s, &e);
    out->latency_ms = (long)(pms_now() - started);
    out->ok = rc == PMS_OK;
    snprintf(out->message, sizeof out->message, "%s", rc == PMS_OK ? "connected" : e.message);
    if (rc != PMS_OK && err)
        *err = e;
    return rc;
}

/* Every item of a list, following page envelopes to the last page. *out: a new array. */
static int get_all_items(pms_session *s, const char *url_base, json_t **out, pms_error *err)
{
    *out = json_array();
    if (*out == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    for (int page = 0; page < 1000; page++) {
        char *url = NULL;
        if (asprintf(&url, "%s%cpage=%d&size=100", url_base, strchr(url_base, '?') ? '&' : '?',
                     page) < 0)
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        json_t *json = NULL;
        int rc = pms_session_get_json(s, NULL, url, &json, err);
        free(url);
        if (rc != PMS_OK)
            return rc;
        const json_t *items = pms_medirecords_items(json);
        if (json != NULL && items == NULL) {
            json_decref(json);
            return pms_error_set(err, PMS_ERR_PARSE, "Medirecords sent a list in an unknown shape");
        }
        json_array_extend(*out, (json_t *)items);
        const json_t *last = json_object_get(json, "last");
        bool more = json_is_false(last) && json_array_size(items) > 0;
        json_decref(json);
        if (!more)
            return PMS_OK;
    }
    return pms_error_set(err, PMS_ERR_UPSTREAM, "Medirecords kept returning pages");
}

static int medirecords_list_appointment_types(pms_session *s, pms_appt_type_list *out,
                                              pms_error *err)
{
    memset(out, 0, sizeof *out);
    char *url = pms_medirecords_practice_url(s, "/appointment-types", err);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_CONFIG;
    json_t *items = NULL;
    int rc = get_all_items(s, url, &items, err);
    free(url);
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (rc != PMS_OK)
            break;
        pms_appt_type *t = pms_appt_type_list_push(out);
        if (t == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
        pms_error e;
        if (pms_medirecords_map_appt_type(item, t, &e) != PMS_OK) {
            out->count--;
            pms_log(PMS_LOG_WARN, "medirecords.appointment_type_skipped", "connection",
                    pms_session_connection_id(s), "reason", e.message, NULL);
        }
    }
    json_decref(items);
    if (rc != PMS_OK)
        pms_appt_type_list_clear(out);
    return rc;
}

/* The providers path with {practiceId} filled in, as a URL; NULL when none is configured. */
static char *providers_url(pms_session *s, pms_error *err)
{
    const char *path = pms_session_setting(s, "providers_path");
    if (path == NULL)
        return NULL;
    const char *practice = pms_session_setting(s, "practice_id");
    char *encoded = pms_url_encode(practice ? practice : "");
    const char *mark = strstr(path, "{practiceId}");
    char *filled = NULL, *url = NULL;
    if (encoded && mark &&
        asprintf(&filled, "%.*s%s%s", (int)(mark - path), path, encoded, mark + 12) < 0)
        filled = NULL;
    else if (encoded && !mark)
        filled = strdup(path);
    if (filled)
        url = pms_session_url(s, filled);
    free(filled);
    free(encoded);
    if (url == NULL)
        pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return url;
}

const json_t *pms_medirecords_providers(pms_session *s, pms_error *err, int *rc)
{
    medirecords_state *st = pms_session_state(s);
    *rc = PMS_OK;
    pthread_mutex_lock(&st->lock);
    bool loaded = st->providers_loaded;
    pthread_mutex_unlock(&st->lock);
    if (loaded)
        return st->providers;
    char *url = providers_url(s, err);
    if (url == NULL) {
        *rc = pms_session_setting(s, "providers_path") ? PMS_ERR_NOMEM : PMS_OK;
        return NULL;
    }
    json_t *items = NULL;
    *rc = get_all_items(s, url, &items, err);
    free(url);
    json_t *by_id = json_object();
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        const json_t *id = json_object_get(item, "id");
        if (json_is_string(id))
            json_object_set(by_id, json_string_value(id), item);
    }
    json_decref(items);
    if (*rc != PMS_OK) {
        json_decref(by_id);
        return NULL;
    }
    pthread_mutex_lock(&st->lock);
    json_decref(st->providers);
    st->providers = by_id;
    st->providers_loaded = true;
    pthread_mutex_unlock(&st->lock);
    return st->providers;
}

static int medirecords_list_practitioners(pms_session *s, pms_practitioner_list *out,
                                          pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (pms_session_setting(s, "providers_path") == NULL)
        return pms_error_set(err, PMS_ERR_NOT_SUPPORTED,
                             "Medirecords has no provider list configured (providers_path); "
                             "practitioners are taken from the appointments");
    int rc;
    const json_t *providers = pms_medirecords_providers(s, err, &rc);
    if (rc != PMS_OK)
        return rc;
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)providers, key, item)
    {
        pms_practitioner *p = pms_practitioner_list_push(out);
        if (p == NULL) {
            pms_practitioner_list_clear(out);
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        }
        pms_error e;
        if (pms_medirecords_map_provider(item, p, &e) != PMS_OK) {
            out->count--;
            pms_log(PMS_LOG_WARN, "medirecords.provider_skipped", "connection",
                    pms_session_connection_id(s), "reason", e.message, NULL);
        }
    }
    return PMS_OK;
}

static int medirecords_fetch_patient(pms_session *s, const char *patient_id, pms_patient *out,
                                     pms_error *err)
{
    json_t *json = pms_medirecords_patient_cached(s, NULL, patient_id, err);
    if (json == NULL)
        return err ? (int)err->code : PMS_ERR_NOT_FOUND;
    int rc = pms_medirecords_map_patient(
        json, pms_phone_region_for_timezone(pms_session_tz_name(s)), out, err);
    json_decref(json);
    return rc;
}

void pms_medirecords_describe_error(const pms_http_response *resp, pms_error *err)
{
    if (err == NULL)
        return;
    json_t *body = resp->body_len ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const json_t *message = json_object_get(body, "message");
    const json_t *error = json_object_get(body, "error");
    const json_t *description = json_object_get(body, "error_description");
    const char *hint = resp->status == 401   ? "; check the practice's API token"
                       : resp->status == 403 ? "; the token has no access to this practice"
                       : resp->status == 404 ? "; check practice_id"
                                             : "";
    if (json_is_string(description) || json_is_string(error))
        snprintf(err->message, sizeof err->message, "Medirecords refused (HTTP %ld): %.120s%s",
                 resp->status, json_string_value(json_is_string(description) ? description : error),
                 hint);
    else if (json_is_string(message))
        snprintf(err->message, sizeof err->message, "Medirecords answered HTTP %ld: %.150s%s",
                 resp->status, json_string_value(message), hint);
    else
        snprintf(err->message, sizeof err->message, "Medirecords answered HTTP %ld%s", resp->status,
                 hint);
    json_decref(body);
}

const pms_adapter_ops pms_medirecords_adapter = {
    .version = PMS_ADAPTER_OPS_VERSION,
    .name = "medirecords",
    .display_name = "Medirecords",
    .default_base_url = "https://api.medirecords.com",
    .traits = PMS_CAP_TELEHEALTH_AUTO,
    .settings = medirecords_settings,
    .default_per_minute = 60,
    .default_per_hour = 1000,
    .state_size = sizeof(medirecords_state),
    .validate_settings = medirecords_validate_settings,
    .session_init = medirecords_session_init,
    .session_cleanup = medirecords_session_cleanup,
    .describe_error = pms_medirecords_describe_error,
    .authenticate = medirecords_authenticate,
    .practice_info = medirecords_practice_info,
    .validate = medirecords_validate,
    .health_check = medirecords_health_check,
    .list_practitioners = medirecords_list_practitioners,
    .list_appointment_types = medirecords_list_appointment_types,
    .fetch_appointments = pms_medirecords_fetch_appointments,
    .fetch_patient = medirecords_fetch_patient,
    .book = pms_medirecords_book,
    .reschedule = pms_medirecords_reschedule,
    .cancel = pms_medirecords_cancel,
    .search_patients = pms_medirecords_search_patients,
    .create_patient = pms_medirecords_create_patient,
    .get_appointment = pms_medirecords_get_appointment,
};
