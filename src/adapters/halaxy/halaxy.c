/* Halaxy: client-credentials token with a JSON body, Bundle paging, the per-sync cache of
 * referenced resources, practitioners, appointment types (HealthcareServices) and patients.
 * Appointments are in halaxy_fetch.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/halaxy/halaxy.h"
#include "pmsync/log.h"

#define MAX_PAGES_PER_SEARCH 1000
#define DEFAULT_PAGE_SIZE    100

static const pms_setting_def halaxy_settings[] = {
    {"client_id", "Client ID", "The client ID of an API key made in Halaxy (Settings, API Keys)",
     true, false, NULL},
    {"client_secret", "Client secret", "The client secret of the same Halaxy API key", true, true,
     NULL},
    {"date_query", "Date search",
     "per_day: one search per day (date=eq, as used live); range: one search for the whole "
     "window (date=ge&date=le, standard FHIR)",
     false, false, "per_day"},
    {"page_size", "Page size", "Records per page (_count), 1 to 500", false, false, "100"},
    {"concurrency", "Parallel requests", "Patients read at the same time, 1 to 16", false, false,
     "4"},
    {"organization_path", "Practice lookup",
     "Where the practice's name is read (a guess: the Organization resource is known to exist, "
     "its search is not documented); empty: not read",
     false, false, "/main/Organization?_count=1"},
    {"token_lifetime_cap", "Token lifetime cap",
     "Seconds an access token is used at most, 120 to 3600 (Halaxy tokens last 15 minutes even "
     "when they say otherwise)",
     false, false, "900"},
    {"location_type", "Booking location",
     "The location-type a booking is made with (clinic, telehealth, online, phone, "
     "organization); appointment types marked telehealth are booked as telehealth",
     false, false, "clinic"},
    {"cancel_code", "Cancel status",
     "The patient's status a cancellation sets: cancelled, or cancelled (no charge)", false, false,
     "cancelled"},
    {NULL, NULL, NULL, false, false, NULL},
};

static const pms_unsupported_note halaxy_unsupported[] = {
    {PMS_CAP_RESCHEDULE, "its API is known to change only the patient's status on an "
                         "appointment, not its time; cancel it and book the new time instead"},
    {PMS_CAP_PATIENT_CREATE, "its API is known to read and search patients, not to create them"},
    {0, NULL},
};

static int halaxy_validate_settings(const json_t *settings, pms_error *err)
{
    static const char *const locations[] = {"clinic", "telehealth", "online", "phone",
                                            "organization"};
    const char *location = json_string_value(json_object_get(settings, "location_type"));
    bool known = location == NULL;
    for (size_t i = 0; !known && i < sizeof locations / sizeof locations[0]; i++)
        known = strcmp(location, locations[i]) == 0;
    if (!known)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "location_type is one of clinic, telehealth, online, phone, "
                             "organization");
    const char *code = json_string_value(json_object_get(settings, "cancel_code"));
    if (code && strcmp(code, "cancelled") != 0 && strcmp(code, "cancelled (no charge)") != 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "cancel_code is cancelled or cancelled (no charge)");
    return PMS_OK;
}

static int halaxy_session_init(pms_session *s, pms_error *err)
{
    halaxy_state *st = pms_session_state(s);
    pthread_mutex_init(&st->lock, NULL);
    st->resources = json_object();
    st->denied = json_object();
    if (st->resources == NULL || st->denied == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

static void halaxy_session_cleanup(pms_session *s)
{
    halaxy_state *st = pms_session_state(s);
    json_decref(st->resources);
    json_decref(st->denied);
    pthread_mutex_destroy(&st->lock);
}

/* ---- requests and Bundles ------------------------------------------------------------------ */

int pms_halaxy_get(pms_session *s, pms_http_client *client, const char *url, json_t **json,
                   pms_error *err)
{
    static const pms_http_header accept = {"Accept", "application/fhir+json"};
    pms_http_request req = {.method = "GET", .url = url, .headers = &accept, .header_count = 1};
    int rc = pms_session_call(s, client, &req, PMS_CALL_AUTH | PMS_CALL_JSON, NULL, json, err);
    if (rc == PMS_OK && *json == NULL)
        rc = pms_error_set(err, PMS_ERR_PARSE, "Halaxy sent an empty answer");
    return rc;
}

const json_t *pms_halaxy_entry_resource(const json_t *entry, const char *type)
{
    const json_t *resource = json_object_get(entry, "resource");
    const json_t *rt = json_object_get(resource, "resourceType");
    if (!json_is_object(resource) || !json_is_string(rt) || strcmp(json_string_value(rt), type))
        return NULL;
    return resource;
}

/* Length of "scheme://host[:port]" at the start of an http(s) URL, or 0. */
static size_t origin_length(const char *url)
{
    size_t scheme = strncasecmp(url, "https://", 8) == 0  ? 8
                    : strncasecmp(url, "http://", 7) == 0 ? 7
                                                          : 0;
    if (scheme == 0)
        return 0;
    size_t host = strcspn(url + scheme, "/?#");
    return host ? scheme + host : 0;
}

/* The URL of a next-page link. The bearer token goes with it, so it must stay on the base URL's
 * scheme, host and port; a path alone is taken on that host. Caller frees. */
static char *next_page_url(pms_session *s, const char *link, const char *what, pms_error *err)
{
    const char *base = pms_session_base_url(s);
    size_t base_origin = origin_length(base);
    char *url = NULL;
    for (const char *p = link; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            pms_error_set(err, PMS_ERR_PARSE, "Halaxy's %s sent a next-page link that is not a URL",
                          what);
            return NULL;
        }
    }
    if (link[0] == '/' && link[1] != '/' && base_origin > 0) {
        if (asprintf(&url, "%.*s%s", (int)base_origin, base, link) < 0)
            url = NULL;
    } else {
        size_t origin = origin_length(link);
        if (origin == 0 || origin != base_origin || strncasecmp(link, base, origin) != 0) {
            pms_error_set(err, PMS_ERR_UPSTREAM,
                          "Halaxy's %s sent a next-page link to another host; it was not followed",
                          what);
            return NULL;
        }
        url = strdup(link);
    }
    if (url == NULL)
        pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return url;
}

/* link[relation=next].url of a Bundle, or NULL (borrowed). */
static const char *next_link(const json_t *bundle)
{
    const json_t *links = json_object_get(bundle, "link");
    size_t i;
    json_t *link;
    json_array_foreach(links, i, link)
    {
        const json_t *relation = json_object_get(link, "relation");
        const json_t *url = json_object_get(link, "url");
        if (json_is_string(relation) && strcmp(json_string_value(relation), "next") == 0 &&
            json_is_string(url) && json_string_length(url) > 0)
            return json_string_value(url);
    }
    return NULL;
}

int pms_halaxy_walk_bundle(pms_session *s, pms_http_client *client, const char *first_url,
                           const char *what, halaxy_page_fn on_page, void *ctx, pms_error *err)
{
    json_t *seen = json_object();
    char *url = strdup(first_url);
    int rc = PMS_OK;
    if (seen == NULL || url == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int page_no = 0;; page_no++) {
        if (page_no >= MAX_PAGES_PER_SEARCH) {
            rc = pms_error_set(err, PMS_ERR_UPSTREAM, "Halaxy's %s kept returning pages (over %d)",
                               what, MAX_PAGES_PER_SEARCH);
            break;
        }
        json_object_set_new(seen, url, json_true());
        json_t *bundle = NULL;
        if ((rc = pms_halaxy_get(s, client, url, &bundle, err)) != PMS_OK)
            break;
        const json_t *rt = json_object_get(bundle, "resourceType");
        const json_t *entries = json_object_get(bundle, "entry");
        if (!json_is_object(bundle) ||
            (rt != NULL && (!json_is_string(rt) || strcmp(json_string_value(rt), "Bundle") != 0)))
            rc = pms_error_set(err, PMS_ERR_PARSE, "Halaxy's %s answer is not a Bundle", what);
        else if (entries != NULL && !json_is_null(entries) && !json_is_array(entries))
            rc = pms_error_set(err, PMS_ERR_PARSE, "Halaxy's %s Bundle.entry is not a list", what);
        else
            rc = on_page(s, client, bundle, ctx, err);
        const char *link = rc == PMS_OK ? next_link(bundle) : NULL;
        char *next = link ? next_page_url(s, link, what, err) : NULL;
        json_decref(bundle);
        if (link && next == NULL)
            rc = err ? (int)err->code : PMS_ERR_UPSTREAM;
        else if (next && json_object_get(seen, next)) {
            rc = pms_error_set(err, PMS_ERR_UPSTREAM,
                               "Halaxy's %s links back to a page it sent before", what);
            free(next);
            next = NULL;
        }
        free(url);
        url = next;
        if (rc != PMS_OK || url == NULL)
            break;
    }
out:
    free(url);
    json_decref(seen);
    return rc;
}

/* ---- the per-sync cache of referenced resources -------------------------------------------- */

/* Failures of one record (the sync goes on without it), as opposed to failures of the whole
 * connection (credentials, scope, rate limit, network, cancellation). */
static bool record_level_failure(int rc)
{
    return rc == PMS_ERR_NOT_FOUND || rc == PMS_ERR_UPSTREAM || rc == PMS_ERR_PARSE ||
           rc == PMS_ERR_HTTP || rc == PMS_ERR_CONFLICT || rc == PMS_ERR_INVALID;
}

void pms_halaxy_cache_put(pms_session *s, const char *type, const char *id, json_t *resource)
{
    halaxy_state *st = pms_session_state(s);
    char *key = NULL;
    if (asprintf(&key, "%s/%s", type, id) < 0)
        return; /* out of memory: the resource is read again when needed */
    pthread_mutex_lock(&st->lock);
    json_object_set(st->resources, key, resource);
    pthread_mutex_unlock(&st->lock);
    free(key);
}

int pms_halaxy_resource_cached(pms_session *s, pms_http_client *client, const char *type,
                               const char *id, json_t **out, pms_error *err)
{
    halaxy_state *st = pms_session_state(s);
    json_t *json = NULL;
    char *key = NULL, *path = NULL, *url = NULL, *encoded = NULL;
    pms_error e = {0};
    int rc = PMS_OK;
    if (out)
        *out = NULL;
    if (asprintf(&key, "%s/%s", type, id) < 0)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&st->lock);
    const json_t *denied = json_object_get(st->denied, type);
    json_t *cached = json_incref(json_object_get(st->resources, key));
    char denied_message[256] = "";
    if (json_is_string(denied))
        snprintf(denied_message, sizeof denied_message, "%s", json_string_value(denied));
    pthread_mutex_unlock(&st->lock);

    if (denied_message[0]) {
        /* Halaxy refused this type earlier in the sync: no point asking again. */
        json_decref(cached);
        rc = pms_error_set(&e, PMS_ERR_AUTH, "%s", denied_message);
        goto out;
    }
    if (cached != NULL) {
        if (json_is_null(cached)) {
            json_decref(cached);
            pms_error_set(&e, PMS_ERR_NOT_FOUND, "the %s could not be read earlier in this sync",
                          type);
        } else if (out) {
            *out = cached;
        } else {
            json_decref(cached);
        }
        goto out;
    }

    encoded = pms_url_encode(id);
    if (encoded && asprintf(&path, "/main/%s/%s", type, encoded) < 0)
        path = NULL;
    if (path)
        url = pms_session_url(s, path);
    if (url == NULL) {
        rc = pms_error_set(&e, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = pms_halaxy_get(s, client, url, &json, &e);
    if (rc == PMS_OK) {
        const json_t *rt = json_object_get(json, "resourceType");
        if (!json_is_object(json) ||
            (rt != NULL && (!json_is_string(rt) || strcmp(json_string_value(rt), type) != 0)))
            rc = pms_error_set(&e, PMS_ERR_PARSE, "Halaxy's answer for a %s is not a %s", type,
                               type);
    }
    if (rc == PMS_ERR_CANCELLED || rc == PMS_ERR_NOMEM)
        goto out; /* nothing learned about the record */

    pthread_mutex_lock(&st->lock);
    /* Remember failures too (as null), so a record that cannot be read costs one request. */
    json_object_set(st->resources, key, rc == PMS_OK ? json : json_null());
    if (rc == PMS_ERR_AUTH)
        json_object_set_new(st->denied, type, json_string(e.message));
    pthread_mutex_unlock(&st->lock);

    if (rc == PMS_OK) {
        if (out) {
            *out = json;
            json = NULL;
        }
    } else if (record_level_failure(rc)) {
        pms_log(PMS_LOG_WARN, "halaxy.reference_unavailable", "connection",
                pms_session_connection_id(s), "resource_type", type, "reason", e.message, NULL);
        rc = PMS_OK; /* *out stays NULL; err says why */
    } else {
        pms_error_prefix(&e, "while reading a %s", type);
    }
out:
    if (err && e.code != PMS_OK)
        *err = e;
    json_decref(json);
    free(encoded);
    free(path);
    free(url);
    free(key);
    return rc;
}

/* ---- authentication -------------------------------------------------------------------------- */

static void wipe_string(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        memset((char *)json_string_value(v), 0, json_string_length(v));
}

static int halaxy_authenticate(pms_session *s, pms_auth_result *out, pms_error *err)
{
    const char *client_id = pms_session_setting(s, "client_id");
    const char *client_secret = pms_session_setting(s, "client_secret");
    if (client_id == NULL || client_secret == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG,
                             "Halaxy needs the client_id and client_secret of an API key");
    json_t *body = json_pack("{s:s, s:s, s:s}", "grant_type", "client_credentials", "client_id",
                             client_id, "client_secret", client_secret);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    wipe_string(body, "client_secret");
    json_decref(body);
    char *url = pms_session_url(s, "/main/oauth/token");
    if (text == NULL || url == NULL) {
        free(url);
        free(text);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    /* No User-Agent here: the HTTP client sends one on every request, and Halaxy's gateway
     * answers 403 to a request without one. */
    static const pms_http_header headers[] = {
        {"Content-Type", "application/json"},
        {"Accept", "application/json"},
    };
    size_t text_len = strlen(text);
    pms_http_request req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .header_count = 2,
        .body = text,
        .body_len = text_len,
    };
    json_t *json = NULL;
    pms_instant asked = pms_now();
    int rc = pms_session_call(s, NULL, &req, PMS_CALL_JSON, NULL, &json, err);
    memset(text, 0, text_len);
    free(text);
    free(url);
    if (rc != PMS_OK) {
        /* A 4xx from the token endpoint is a refusal of the credentials. */
        if (rc == PMS_ERR_UPSTREAM && err && err->http_status >= 400 && err->http_status < 500)
            rc = err->code = PMS_ERR_AUTH;
        return rc;
    }
    const json_t *token = json_object_get(json, "access_token");
    const json_t *expires_in = json_object_get(json, "expires_in");
    if (!json_is_string(token) || json_string_length(token) == 0) {
        json_decref(json);
        return pms_error_set(err, PMS_ERR_AUTH, "Halaxy's token answer has no access_token");
    }
    /* Halaxy tokens last 15 minutes even when expires_in says 3600: trust at most the cap. The
     * token cache renews 60 s before expires_at, so a token is used for min(expires_in, cap)
     * - 60 s. */
    long cap = pms_session_setting_long(s, "token_lifetime_cap", 120, 3600, 900);
    long long lifetime = json_is_integer(expires_in) ? json_integer_value(expires_in) : cap;
    if (lifetime <= 0 || lifetime > cap)
        lifetime = cap;
    out->access_token = strdup(json_string_value(token));
    out->refresh_token = NULL; /* Halaxy issues none: a new token is minted each time */
    out->expires_at = asked + lifetime * 1000;
    json_decref(json);
    if (out->access_token == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

/* ---- connection checks ----------------------------------------------------------------------- */

static int halaxy_validate(pms_session *s, pms_error *err)
{
    /* Mints a token (the pipeline does) and reads the cheapest list there is. */
    char *url = pms_session_url(s, "/main/HealthcareService?_count=1");
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    json_t *json = NULL;
    int rc = pms_halaxy_get(s, NULL, url, &json, err);
    if (rc == PMS_OK) {
        const json_t *rt = json_object_get(json, "resourceType");
        if (!json_is_string(rt) || strcmp(json_string_value(rt), "Bundle") != 0)
            rc = pms_error_set(err, PMS_ERR_PARSE,
                               "Halaxy's HealthcareService answer is not a "
                               "Bundle");
    }
    json_decref(json);
    free(url);
    return rc;
}

/* The practice: the first Organization the key can read (its id and name). */
static int halaxy_practice_info(pms_session *s, pms_practice_info *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    const char *path = pms_session_setting(s, "organization_path");
    if (path == NULL)
        path = "/main/Organization?_count=1";
    if (path[0] == '\0')
        return pms_error_set(err, PMS_ERR_NOT_SUPPORTED,
                             "reading the practice's name from Halaxy is turned off "
                             "(organization_path)");
    char *url = pms_session_url(s, path);
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    json_t *json = NULL;
    int rc = pms_halaxy_get(s, NULL, url, &json, err);
    free(url);
    if (rc != PMS_OK)
        return rc;
    /* A search answers a Bundle; a path naming one Organization answers the resource. */
    const char *type = json_string_value(json_object_get(json, "resourceType"));
    const json_t *org = type && strcmp(type, "Bundle") == 0
                            ? pms_halaxy_entry_resource(
                                  json_array_get(json_object_get(json, "entry"), 0), "Organization")
                            : json;
    const json_t *id = json_object_get(org, "id"), *name = json_object_get(org, "name");
    if (!json_is_string(id)) {
        json_decref(json);
        return pms_error_set(err, PMS_ERR_PARSE, "Halaxy named no Organization for this key");
    }
    out->external_id = strdup(json_string_value(id));
    out->name = json_is_string(name) ? strdup(json_string_value(name)) : NULL;
    json_decref(json);
    return out->external_id ? PMS_OK : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}

static int halaxy_health_check(pms_session *s, pms_health *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    pms_instant started = pms_now();
    pms_error e = {0};
    int rc = halaxy_validate(s, &e);
    out->latency_ms = (long)(pms_now() - started);
    out->ok = rc == PMS_OK;
    snprintf(out->message, sizeof out->message, "%s", rc == PMS_OK ? "connected" : e.message);
    if (rc != PMS_OK && err)
        *err = e;
    return rc;
}

/* ---- practitioners and appointment types ------------------------------------------------------
 */

static void log_skipped_entry(pms_session *s, const char *event, const pms_error *e)
{
    pms_log(PMS_LOG_WARN, event, "connection", pms_session_connection_id(s), "reason", e->message,
            NULL);
}

static char *list_url(pms_session *s, const char *type)
{
    int page_size = (int)pms_session_setting_long(s, "page_size", 1, 500, DEFAULT_PAGE_SIZE);
    char *path = NULL;
    if (asprintf(&path, "/main/%s?_count=%d", type, page_size) < 0)
        return NULL;
    char *url = pms_session_url(s, path);
    free(path);
    return url;
}

static bool practitioner_listed(const pms_practitioner_list *list, const char *id)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].id, id) == 0)
            return true;
    return false;
}

static int on_practitioner_page(pms_session *s, pms_http_client *client, const json_t *bundle,
                                void *ctx, pms_error *err)
{
    (void)client;
    pms_practitioner_list *out = ctx;
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(bundle, "entry"), i, entry)
    {
        const json_t *resource = pms_halaxy_entry_resource(entry, "Practitioner");
        if (resource == NULL)
            continue;
        pms_practitioner mapped;
        pms_error e = {0};
        if (pms_halaxy_map_practitioner(resource, &mapped, &e) != PMS_OK) {
            if (e.code == PMS_ERR_NOMEM)
                return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            log_skipped_entry(s, "halaxy.practitioner_skipped", &e);
            continue;
        }
        /* Appointments name practitioners through PractitionerRoles: keep the record, so it is
         * not read again for them. */
        pms_halaxy_cache_put(s, "Practitioner", mapped.id, (json_t *)resource);
        if (practitioner_listed(out, mapped.id)) {
            pms_practitioner_clear(&mapped);
            continue;
        }
        pms_practitioner *p = pms_practitioner_list_push(out);
        if (p == NULL) {
            pms_practitioner_clear(&mapped);
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        }
        *p = mapped;
    }
    return PMS_OK;
}

static int halaxy_list_practitioners(pms_session *s, pms_practitioner_list *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    char *url = list_url(s, "Practitioner");
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc =
        pms_halaxy_walk_bundle(s, NULL, url, "practitioner list", on_practitioner_page, out, err);
    free(url);
    if (rc != PMS_OK)
        pms_practitioner_list_clear(out);
    return rc;
}

static bool type_listed(const pms_appt_type_list *list, const char *id)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].id, id) == 0)
            return true;
    return false;
}

static int on_service_page(pms_session *s, pms_http_client *client, const json_t *bundle, void *ctx,
                           pms_error *err)
{
    (void)client;
    pms_appt_type_list *out = ctx;
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(bundle, "entry"), i, entry)
    {
        const json_t *resource = pms_halaxy_entry_resource(entry, "HealthcareService");
        if (resource == NULL)
            continue;
        pms_appt_type mapped;
        pms_error e = {0};
        if (pms_halaxy_map_service(resource, &mapped, &e) != PMS_OK) {
            if (e.code == PMS_ERR_NOMEM)
                return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            log_skipped_entry(s, "halaxy.appointment_type_skipped", &e);
            continue;
        }
        pms_halaxy_cache_put(s, "HealthcareService", mapped.id, (json_t *)resource);
        if (type_listed(out, mapped.id)) {
            pms_appt_type_clear(&mapped);
            continue;
        }
        pms_appt_type *t = pms_appt_type_list_push(out);
        if (t == NULL) {
            pms_appt_type_clear(&mapped);
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        }
        *t = mapped;
    }
    return PMS_OK;
}

static int halaxy_list_appointment_types(pms_session *s, pms_appt_type_list *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    char *url = list_url(s, "HealthcareService");
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc =
        pms_halaxy_walk_bundle(s, NULL, url, "HealthcareService list", on_service_page, out, err);
    free(url);
    if (rc != PMS_OK)
        pms_appt_type_list_clear(out);
    return rc;
}

/* ---- patients ----------------------------------------------------------------------------- */

static int halaxy_fetch_patient(pms_session *s, const char *patient_id, pms_patient *out,
                                pms_error *err)
{
    memset(out, 0, sizeof *out);
    static const char id_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-.";
    size_t len = patient_id ? strlen(patient_id) : 0;
    if (len == 0 || len >= HALAXY_ID_LEN || strspn(patient_id, id_chars) != len)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "a Halaxy patient id is up to 64 letters, digits, '-' and '.'");
    json_t *json = NULL;
    pms_error e = {0};
    int rc = pms_halaxy_resource_cached(s, NULL, "Patient", patient_id, &json, &e);
    if (rc == PMS_OK && json == NULL)
        rc = e.code != PMS_OK ? (int)e.code : PMS_ERR_NOT_FOUND;
    if (rc != PMS_OK) {
        if (err)
            *err = e;
        return rc;
    }
    rc = pms_halaxy_map_patient(json, pms_phone_region_for_timezone(pms_session_tz_name(s)), out,
                                err);
    json_decref(json);
    return rc;
}

const pms_adapter_ops pms_halaxy_adapter = {
    .version = PMS_ADAPTER_OPS_VERSION,
    .name = "halaxy",
    .display_name = "Halaxy",
    .default_base_url = "https://au-api.halaxy.com",
    /* One search covers every practitioner (the engine filters by mapping); the practice marks
     * which HealthcareServices are telehealth, and a location-type overrides that. */
    .traits = PMS_CAP_TELEHEALTH_BY_TYPE,
    .settings = halaxy_settings,
    .default_per_minute = 60,
    .default_per_hour = 1000,
    .state_size = sizeof(halaxy_state),
    .validate_settings = halaxy_validate_settings,
    .session_init = halaxy_session_init,
    .session_cleanup = halaxy_session_cleanup,
    .describe_error = pms_halaxy_describe_error,
    .token_expired = pms_halaxy_token_expired,
    .authenticate = halaxy_authenticate,
    .validate = halaxy_validate,
    .health_check = halaxy_health_check,
    .practice_info = halaxy_practice_info,
    .list_practitioners = halaxy_list_practitioners,
    .list_appointment_types = halaxy_list_appointment_types,
    .fetch_appointments = pms_halaxy_fetch_appointments,
    .fetch_patient = halaxy_fetch_patient,
    .find_slots = pms_halaxy_find_slots,
    .book = pms_halaxy_book,
    .cancel = pms_halaxy_cancel,
    .search_patients = pms_halaxy_search_patients,
    .get_appointment = pms_halaxy_get_appointment,
    .unsupported = halaxy_unsupported,
};
