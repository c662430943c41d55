/* Sikka API v4: settings, the request-key flow (authorized_practices -> request_key, then
 * refresh_key), practice details, providers and appointment types. Appointments and patients
 * are in sikka_fetch.c, writebacks in sikka_write.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/sikka/sikka.h"
#include "pmsync/crypto.h"
#include "pmsync/log.h"

static const pms_setting_def sikka_settings[] = {
    {"app_id", "App ID", "The Sikka application's App-Id", true, false, NULL},
    {"app_key", "App key", "The Sikka application's App-Key", true, true, NULL},
    {"practice_id", "Practice ID", "The practice's id in Sikka's authorized_practices (e.g. 1)",
     true, false, NULL},
    {"office_id", "Office ID",
     "Only when several offices share the practice id: the office (e.g. D36225)", false, false,
     NULL},
    {"show_all_practices", "Show all practices",
     "true: ask authorized_practices for every practice (show=all), not only practice 1", false,
     false, "false"},
    {"cancel_path", "Cancel PATCH path",
     "The path of the status change that cancels: /appointment_status (Sikka's example) or "
     "/status",
     false, false, "/appointment_status"},
    {"cancelled_status", "Cancelled status", "The practice's status word for a cancellation", false,
     false, "Cancelled"},
    {"availability_source", "Availability source",
     "auto (free slots where the PMS offers them: OrthoTrac, Dolphin; else the schedule minus "
     "booked appointments), slots or schedule",
     false, false, "auto"},
    {"schedule_path", "Practice schedule path", "Where the providers' working hours are read",
     false, false, "/practice_schedule"},
    {"default_operatory", "Operatory for bookings", "Empty: the practice's first operatory", false,
     false, NULL},
    {"page_size", "Page size", "Items per page (limit), 1 to 5000", false, false, "500"},
    {"concurrency", "Parallel requests", "Patients read at the same time, 1 to 16", false, false,
     "4"},
    {"full_sweep_minutes", "Full sweep every (minutes)",
     "Scheduled syncs read only what changed (last_changed_date) and sweep the whole window "
     "when the last full sweep is this old (it also finds deleted appointments)",
     false, false, "60"},
    {NULL, NULL, NULL, false, false, NULL},
};

static const pms_unsupported_note sikka_unsupported[] = {
    {PMS_CAP_PATIENT_CREATE, "its API creates a patient only together with a booking "
                             "(is_new_patient), not on its own"},
    {0, NULL},
};

static const char *setting(const json_t *settings, const char *key)
{
    const json_t *v = json_object_get(settings, key);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

static int sikka_validate_settings(const json_t *settings, pms_error *err)
{
    const char *path = setting(settings, "cancel_path");
    if (path && strcmp(path, "/appointment_status") != 0 && strcmp(path, "/status") != 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "cancel_path must be /appointment_status or "
                             "/status");
    const char *source = setting(settings, "availability_source");
    if (source && strcmp(source, "auto") != 0 && strcmp(source, "slots") != 0 &&
        strcmp(source, "schedule") != 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "availability_source must be auto, slots or schedule");
    const char *all = setting(settings, "show_all_practices");
    if (all && strcmp(all, "true") != 0 && strcmp(all, "false") != 0)
        return pms_error_set(err, PMS_ERR_INVALID, "show_all_practices must be true or false");
    return PMS_OK;
}

static int sikka_session_init(pms_session *s, pms_error *err)
{
    sikka_state *st = pms_session_state(s);
    pthread_mutex_init(&st->lock, NULL);
    int rc = pms_read_once_init(&st->patients, err);
    if (rc != PMS_OK)
        return rc;
    pms_session_set_auth_header(s, "Request-Key");
    return PMS_OK;
}

static void sikka_session_cleanup(pms_session *s)
{
    sikka_state *st = pms_session_state(s);
    if (st->unknown_statuses > 0) {
        char count[24];
        snprintf(count, sizeof count, "%ld", st->unknown_statuses);
        pms_log(PMS_LOG_INFO, "sikka.unknown_statuses", "connection", pms_session_connection_id(s),
                "count", count, NULL);
    }
    pms_read_once_clear(&st->patients);
    json_decref(st->practice);
    pthread_mutex_destroy(&st->lock);
}

/* "85603 second(s)", "24 hour(s)", or a number of seconds. */
static long lifetime_seconds(const json_t *v)
{
    if (json_is_integer(v))
        return (long)json_integer_value(v);
    const char *text = json_string_value(v);
    if (text == NULL)
        return 3600;
    char *end;
    long n = strtol(text, &end, 10);
    if (end == text || n <= 0)
        return 3600;
    while (*end == ' ')
        end++;
    if (strncasecmp(end, "hour", 4) == 0)
        n *= 3600;
    else if (strncasecmp(end, "min", 3) == 0)
        n *= 60;
    return n;
}

/* POST /request_key with grant_type request_key (refresh_token NULL) or refresh_key. */
static int request_key(pms_session *s, const char *refresh_token, pms_auth_result *out,
                       pms_error *err)
{
    const char *app_id = pms_session_setting(s, "app_id");
    const char *app_key = pms_session_setting(s, "app_key");
    json_t *body;
    if (refresh_token) {
        body = json_pack("{s:s, s:s, s:s, s:s}", "grant_type", "refresh_key", "refresh_key",
                         refresh_token, "app_id", app_id ? app_id : "", "app_key",
                         app_key ? app_key : "");
    } else {
        const json_t *practice = pms_sikka_practice(s, err);
        if (practice == NULL)
            return err ? (int)err->code : PMS_ERR_AUTH;
        const char *office = json_string_value(json_object_get(practice, "office_id"));
        const char *secret = json_string_value(json_object_get(practice, "secret_key"));
        if (!office || !secret)
            return pms_error_set(err, PMS_ERR_AUTH,
                                 "Sikka's authorized practice has no office_id or secret_key");
        body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "grant_type", "request_key", "office_id",
                         office, "secret_key", secret, "app_id", app_id, "app_key", app_key);
    }
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char *url = pms_sikka_url(s, "/request_key", NULL);
    int rc;
    json_t *json = NULL;
    if (text == NULL || url == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    static const pms_http_header headers[] = {
        {"Content-Type", "application/json"},
        {"Accept", "application/json"},
    };
    pms_http_request req = {.method = "POST",
                            .url = url,
                            .headers = headers,
                            .header_count = 2,
                            .body = text,
                            .body_len = strlen(text)};
    pms_instant asked = pms_now();
    if ((rc = pms_session_call(s, NULL, &req, PMS_CALL_JSON, NULL, &json, err)) != PMS_OK)
        goto out;
    const char *key = json_string_value(json_object_get(json, "request_key"));
    const char *refresh = json_string_value(json_object_get(json, "refresh_key"));
    if (key == NULL || key[0] == '\0') {
        rc = pms_error_set(err, PMS_ERR_AUTH, "Sikka's answer has no request_key");
        goto out;
    }
    out->access_token = strdup(key);
    out->refresh_token = pms_strdup_or_null(refresh && refresh[0] ? refresh : refresh_token);
    out->expires_at = asked + lifetime_seconds(json_object_get(json, "expires_in")) * 1000;
    if (out->access_token == NULL)
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
out:
    json_decref(json);
    if (text)
        pms_secure_free(text, strlen(text));
    free(url);
    return rc;
}

static int sikka_authenticate(pms_session *s, pms_auth_result *out, pms_error *err)
{
    return request_key(s, NULL, out, err);
}

static int sikka_refresh(pms_session *s, const char *refresh_token, pms_auth_result *out,
                         pms_error *err)
{
    return request_key(s, refresh_token, out, err);
}

static int sikka_practice_info(pms_session *s, pms_practice_info *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    const json_t *p = pms_sikka_practice(s, err);
    if (p == NULL)
        return err ? (int)err->code : PMS_ERR_AUTH;
    const char *zone =
        json_string_value(json_object_get(p, "practice_management_system_refresh_date_time_zone"));
    out->external_id = pms_strdup_or_null(json_string_value(json_object_get(p, "office_id")));
    out->name = pms_strdup_or_null(json_string_value(json_object_get(p, "practice_name")));
    out->timezone = pms_strdup_or_null(zone && strchr(zone, '/') ? zone : NULL);
    return PMS_OK;
}

/* A read of the providers proves the whole chain: app credentials, the practice, its key. */
static int sikka_validate(pms_session *s, pms_error *err)
{
    json_t *by_id = NULL;
    int rc = pms_sikka_providers(s, &by_id, err);
    json_decref(by_id);
    return rc;
}

static int sikka_health_check(pms_session *s, pms_health *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    pms_instant started = pms_now();
    pms_error e = {0};
    int rc = sikka_validate(s, &e);
    out->latency_ms = (long)(pms_now() - started);
    out->ok = rc == PMS_OK;
    snprintf(out->message, sizeof out->message, "%s", rc == PMS_OK ? "connected" : e.message);
    if (rc != PMS_OK && err)
        *err = e;
    return rc;
}

static int sikka_list_practitioners(pms_session *s, pms_practitioner_list *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *by_id = NULL;
    int rc = pms_sikka_providers(s, &by_id, err);
    const char *key;
    json_t *item;
    json_object_foreach(by_id, key, item)
    {
        if (rc != PMS_OK)
            break;
        pms_practitioner *p = pms_practitioner_list_push(out);
        if (p == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
        if (pms_sikka_map_provider(item, p, NULL) != PMS_OK)
            out->count--;
    }
    json_decref(by_id);
    if (rc != PMS_OK)
        pms_practitioner_list_clear(out);
    return rc;
}

/* Sikka has no list of appointment types: the `type` values of the practice's appointments
 * (read lightweight: only that field, whole history) are its types, which the practice marks. */
static int sikka_list_appointment_types(pms_session *s, pms_appt_type_list *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    char *query = NULL;
    const char *practice = pms_session_setting(s, "practice_id");
    char *encoded = pms_url_encode(practice ? practice : "");
    if (encoded == NULL ||
        asprintf(&query, "practice_id=%s&lightweight=true&fields=type", encoded) < 0) {
        free(encoded);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    free(encoded);
    json_t *items = NULL;
    int rc = pms_sikka_get_all(s, NULL, "/appointments", query, 5000, &items, err);
    free(query);
    json_t *seen = json_object();
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        const char *type = json_string_value(json_object_get(item, "type"));
        if (rc != PMS_OK || type == NULL || type[0] == '\0' || json_object_get(seen, type))
            continue;
        json_object_set_new(seen, type, json_true());
        pms_appt_type *t = pms_appt_type_list_push(out);
        if (t == NULL || (t->id = strdup(type)) == NULL || (t->name = strdup(type)) == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            break;
        }
    }
    json_decref(seen);
    json_decref(items);
    if (rc != PMS_OK)
        pms_appt_type_list_clear(out);
    return rc;
}

const pms_adapter_ops pms_sikka_adapter = {
    .version = PMS_ADAPTER_OPS_VERSION,
    .name = "sikka",
    .display_name = "Sikka",
    .default_base_url = "https://api.sikkasoft.com/v4",
    .traits = PMS_CAP_TELEHEALTH_BY_TYPE | PMS_CAP_INCREMENTAL,
    .settings = sikka_settings,
    .default_per_minute = 200,
    .default_per_hour = 0,
    .state_size = sizeof(sikka_state),
    .validate_settings = sikka_validate_settings,
    .session_init = sikka_session_init,
    .session_cleanup = sikka_session_cleanup,
    .describe_error = pms_sikka_describe_error,
    .token_expired = pms_sikka_token_expired,
    .authenticate = sikka_authenticate,
    .refresh = sikka_refresh,
    .practice_info = sikka_practice_info,
    .validate = sikka_validate,
    .health_check = sikka_health_check,
    .list_practitioners = sikka_list_practitioners,
    .list_appointment_types = sikka_list_appointment_types,
    .fetch_appointments = pms_sikka_fetch_appointments,
    .fetch_patient = pms_sikka_fetch_patient,
    .find_slots = pms_sikka_find_slots,
    .book = pms_sikka_book,
    .reschedule = pms_sikka_reschedule,
    .cancel = pms_sikka_cancel,
    .search_patients = pms_sikka_search_patients,
    .write_status = pms_sikka_write_status,
    .get_appointment = pms_sikka_get_appointment,
    .unsupported = sikka_unsupported,
};
