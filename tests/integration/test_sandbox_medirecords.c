/* pms-sandbox's Medirecords simulator over real HTTP: static bearer tokens and the variants
 * (raw token, OAuth), the page envelope walked against ground truth, the range and 204
 * variants, interval codes in each shape, types, patients, providers, DST-day wall times,
 * controls, faults in Medirecords' style, stats, determinism and clean shutdown.
 *
 * Starts the built binary (PMS_SANDBOX_BIN) as child processes on ephemeral ports. Every child
 * is stopped in teardown (even after a failed assertion) and must exit 0 on SIGTERM, which under
 * ASan also means no leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "sandbox_proc.h"

#define TODAY "2026-04-05" /* clocks go back in Melbourne, Adelaide and Lord Howe */

static tu_sandbox main_box;

/* ---- helpers ----------------------------------------------------------------------------- */

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static json_int_t jint(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

/* Practice i of GET /_sandbox/info (borrowed from *info, which the caller decrefs). */
static json_t *practice_info(const tu_sandbox *box, size_t i, json_t **info)
{
    *info = tu_sandbox_json(box, "GET", "/_sandbox/info", NULL);
    json_t *p =
        json_array_get(json_object_get(json_object_get(*info, "medirecords"), "practices"), i);
    assert_non_null(p);
    return p;
}

/* A GET with "Authorization: <auth>" (no header when auth is NULL). */
static void get_as(const tu_sandbox *box, const char *auth, tu_http_result *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void get_as(const tu_sandbox *box, const char *auth, tu_http_result *r, const char *fmt, ...)
{
    char path[1024], header[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    snprintf(header, sizeof(header), "Authorization: %s", auth != NULL ? auth : "");
    const char *headers[] = {header, NULL};
    tu_httpf("GET", box, auth != NULL ? headers : NULL, NULL, r, "%s", path);
}

static void bearer(char *buf, size_t len, const char *token)
{
    snprintf(buf, len, "Bearer %s", token);
}

static void put_settings(const tu_sandbox *box, const char *json)
{
    json_decref(tu_sandbox_json(box, "PUT", "/_sandbox/medirecords/settings", json));
}

static json_t *truth(const tu_sandbox *box, const char *practice_id, const char *from,
                     const char *to)
{
    char path[256];
    snprintf(path, sizeof(path), "/_sandbox/medirecords/truth?practice=%s&from=%s&to=%s",
             practice_id, from, to);
    return tu_sandbox_json(box, "GET", path, NULL);
}

static const char *const appointment_keys[] = {
    "id",
    "practiceId",
    "patientId",
    "appointmentTypeId",
    "scheduleTime",
    "appointmentStatus",
    "appointmentIntervalCode",
    "roomId",
    "referralId",
    "notes",
    "providerId",
    "walkIn",
    "firstAvailableDoctor",
    "urgency",
    "cancellationReason",
    "emailReminder",
    "reminderMethod",
    "reminderType",
    "confirmationLink",
    "telehealthLinkForProvider",
    "telehealthLinkForPatient",
    "createdBy",
    "createdDateTime",
    "updatedBy",
    "updatedDateTime",
};
#define APPOINTMENT_KEYS (sizeof(appointment_keys) / sizeof(appointment_keys[0]))

static const char *const envelope_keys[] = {
    "data", "first", "last", "totalPages", "totalElements", "numberOfElements", "size", "page"};

static void assert_envelope(const json_t *page)
{
    assert_int_equal(json_object_size(page), 8);
    for (size_t k = 0; k < 8; k++)
        assert_non_null(json_object_get(page, envelope_keys[k]));
    assert_true(json_is_array(json_object_get(page, "data")));
    assert_true(json_is_boolean(json_object_get(page, "first")));
    assert_true(json_is_boolean(json_object_get(page, "last")));
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (getenv("PMS_SANDBOX_BIN") == NULL) {
        fprintf(stderr, "PMS_SANDBOX_BIN is not set\n");
        return -1;
    }
    const char *args[] = {"--seed", "7", "--today", TODAY, "--page-size", "3", NULL};
    return tu_sandbox_start(&main_box, args);
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = tu_sandbox_stop(&main_box);
    tu_sandbox_stop_all();
    curl_global_cleanup();
    return rc;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void static_bearer_token_and_auth_errors(void **state)
{
    (void)state;
    json_t *info;
    json_t *p0 = practice_info(&main_box, 0, &info);
    json_t *p1 =
        json_array_get(json_object_get(json_object_get(info, "medirecords"), "practices"), 1);
    const char *pid = jstr(p0, "practiceId");
    assert_string_equal(jstr(p0, "timezone"), "Australia/Melbourne");
    assert_string_equal(jstr(p1, "timezone"), "Australia/Adelaide");
    assert_int_equal(strlen(jstr(p0, "token")), 27);
    assert_true(json_is_null(json_object_get(json_object_get(info, "medirecords"), "oauth")));
    char auth[128];
    bearer(auth, sizeof(auth), jstr(p0, "token"));
    tu_http_result r;

    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s", pid);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "id"), pid);
    assert_non_null(jstr(r.json, "name"));
    assert_null(json_object_get(r.json, "timezone")); /* none is known */
    tu_http_free(&r);

    get_as(&main_box, NULL, &r, "/medirecords/v1/practices/%s", pid);
    assert_int_equal(r.status, 401);
    assert_string_equal(jstr(r.json, "message"), "Unauthorized");
    tu_http_free(&r);
    get_as(&main_box, "Bearer not-the-token", &r, "/medirecords/v1/practices/%s", pid);
    assert_int_equal(r.status, 401);
    tu_http_free(&r);

    /* Another practice's token: 403. */
    char other[128];
    bearer(other, sizeof(other), jstr(p1, "token"));
    get_as(&main_box, other, &r, "/medirecords/v1/practices/%s", pid);
    assert_int_equal(r.status, 403);
    tu_http_free(&r);

    /* The raw token (no "Bearer ") only in the variant. */
    get_as(&main_box, jstr(p0, "token"), &r, "/medirecords/v1/practices/%s", pid);
    assert_int_equal(r.status, 401);
    tu_http_free(&r);
    put_settings(&main_box, "{\"raw_token\":true}");
    get_as(&main_box, jstr(p0, "token"), &r, "/medirecords/v1/practices/%s", pid);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    put_settings(&main_box, "{\"raw_token\":false}");
    json_decref(info);
}

static void oauth_variant_mints_expiring_tokens(void **state)
{
    (void)state;
    const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    /* base64("medirecords-client:medirecords-secret") */
    const char *basic[] = {
        "Content-Type: application/x-www-form-urlencoded",
        "Authorization: Basic bWVkaXJlY29yZHMtY2xpZW50Om1lZGlyZWNvcmRzLXNlY3JldA==", NULL};
    tu_http_result r;
    tu_httpf("POST", &main_box, basic, "grant_type=client_credentials", &r,
             "/medirecords/oauth/token");
    assert_int_equal(r.status, 404); /* no token endpoint is known */
    tu_http_free(&r);

    put_settings(&main_box, "{\"oauth\":true}");
    json_t *info;
    json_t *p1 = practice_info(&main_box, 1, &info);
    json_t *oauth = json_object_get(json_object_get(info, "medirecords"), "oauth");
    assert_string_equal(jstr(oauth, "clientId"), "medirecords-client");
    tu_httpf("POST", &main_box, basic, "grant_type=client_credentials", &r,
             "/medirecords/oauth/token");
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "token_type"), "Bearer");
    assert_int_equal(jint(r.json, "expires_in"), 3600);
    tu_http_free(&r);
    tu_httpf("POST", &main_box, form,
             "grant_type=client_credentials&client_id=medirecords-client&client_secret=wrong", &r,
             "/medirecords/oauth/token");
    assert_int_equal(r.status, 401);
    assert_string_equal(jstr(r.json, "error"), "invalid_client");
    tu_http_free(&r);
    tu_httpf("POST", &main_box, form,
             "grant_type=client_credentials&client_id=medirecords-client"
             "&client_secret=medirecords-secret",
             &r, "/medirecords/oauth/token");
    assert_int_equal(r.status, 200);
    char auth[128];
    bearer(auth, sizeof(auth), jstr(r.json, "access_token"));
    tu_http_free(&r);

    /* An OAuth token sees every practice, until it expires. */
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s", jstr(p1, "practiceId"));
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    json_decref(tu_sandbox_json(&main_box, "POST", "/_sandbox/medirecords/tokens/expire", ""));
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s", jstr(p1, "practiceId"));
    assert_int_equal(r.status, 401);
    tu_http_free(&r);
    char static_auth[128];
    bearer(static_auth, sizeof(static_auth), jstr(p1, "token"));
    get_as(&main_box, static_auth, &r, "/medirecords/v1/practices/%s", jstr(p1, "practiceId"));
    assert_int_equal(r.status, 200); /* static tokens never expire */
    tu_http_free(&r);
    put_settings(&main_box, "{\"oauth\":false}");
    json_decref(info);
}

static void page_walk_matches_ground_truth(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    const char *pid = jstr(p, "practiceId");
    char auth[128];
    bearer(auth, sizeof(auth), jstr(p, "token"));
    json_t *t = truth(&main_box, pid, TODAY, TODAY);
    json_t *expected = json_object_get(t, "appointments");
    assert_true(json_array_size(expected) > 20);

    json_t *seen = json_object();
    size_t walked = 0;
    for (int page = 0;; page++) {
        tu_http_result r;
        get_as(&main_box, auth, &r,
               "/medirecords/v1/practices/%s/appointments?appointmentDateRangeStart=%s"
               "&appointmentDateRangeEnd=%s&page=%d&size=10",
               pid, jstr(p, "todayFrom"), jstr(p, "todayTo"), page);
        assert_int_equal(r.status, 200);
        assert_envelope(r.json);
        assert_int_equal(jint(r.json, "size"), 3); /* --page-size 3 caps size=10 */
        assert_int_equal(jint(r.json, "page"), page);
        assert_int_equal(jint(r.json, "totalElements"), json_array_size(expected));
        assert_true(json_is_true(json_object_get(r.json, "first")) == (page == 0));
        json_t *data = json_object_get(r.json, "data");
        assert_int_equal(jint(r.json, "numberOfElements"), json_array_size(data));
        size_t i;
        json_t *a;
        json_array_foreach(data, i, a)
        {
            assert_int_equal(json_object_size(a), APPOINTMENT_KEYS);
            for (size_t k = 0; k < APPOINTMENT_KEYS; k++)
                assert_non_null(json_object_get(a, appointment_keys[k]));
            /* Local wall-clock time without an offset; audit times with "+0000". */
            assert_int_equal(strlen(jstr(a, "scheduleTime")), 16);
            assert_non_null(strstr(jstr(a, "createdDateTime"), "+0000"));
            assert_null(json_object_get(seen, jstr(a, "id"))); /* no duplicates */
            json_object_set_new(seen, jstr(a, "id"), json_true());
            /* The same order and record as the truth, minus the "_" fields. */
            json_t *want = json_array_get(expected, walked++);
            assert_non_null(want);
            for (size_t k = 0; k < APPOINTMENT_KEYS; k++)
                assert_true(json_equal(json_object_get(a, appointment_keys[k]),
                                       json_object_get(want, appointment_keys[k])));
        }
        bool last = json_is_true(json_object_get(r.json, "last"));
        tu_http_free(&r);
        if (last)
            break;
        assert_true(page < 100);
    }
    assert_int_equal(walked, json_array_size(expected));
    json_decref(seen);
    json_decref(t);
    json_decref(info);
}

static void range_end_inclusive_by_default_and_204_variant(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    const char *pid = jstr(p, "practiceId");
    char auth[128];
    bearer(auth, sizeof(auth), jstr(p, "token"));
    json_t *t = truth(&main_box, pid, "2026-04-06", "2026-04-06");
    json_t *a = json_array_get(json_object_get(t, "appointments"), 0);
    const char *at = jstr(a, "scheduleTime");
    tu_http_result r;

    /* start == end == an appointment's time: inclusive finds it, exclusive doesn't. */
    get_as(&main_box, auth, &r,
           "/medirecords/v1/practices/%s/appointments?appointmentDateRangeStart=%s"
           "&appointmentDateRangeEnd=%s",
           pid, at, at);
    assert_int_equal(r.status, 200);
    assert_true(jint(r.json, "totalElements") >= 1);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "data"), 0), "scheduleTime"),
                        at);
    tu_http_free(&r);
    put_settings(&main_box, "{\"range_end_exclusive\":true}");
    get_as(&main_box, auth, &r,
           "/medirecords/v1/practices/%s/appointments?appointmentDateRangeStart=%s"
           "&appointmentDateRangeEnd=%s",
           pid, at, at);
    assert_int_equal(r.status, 200);
    assert_int_equal(jint(r.json, "totalElements"), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
    assert_true(json_is_true(json_object_get(r.json, "last")));
    tu_http_free(&r);

    /* The same empty result as 204 without a body. */
    put_settings(&main_box, "{\"empty_204\":true}");
    get_as(&main_box, auth, &r,
           "/medirecords/v1/practices/%s/appointments?appointmentDateRangeStart=%s"
           "&appointmentDateRangeEnd=%s",
           pid, at, at);
    assert_int_equal(r.status, 204);
    assert_true(r.len == 0);
    tu_http_free(&r);
    put_settings(&main_box, "{\"range_end_exclusive\":false,\"empty_204\":false}");

    /* Malformed or missing date parameters: 400 naming the parameter. */
    get_as(&main_box, auth, &r,
           "/medirecords/v1/practices/%s/appointments?appointmentDateRangeStart=2026-04-06"
           "&appointmentDateRangeEnd=2026-04-06T23:59",
           pid);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(jstr(r.json, "message"), "appointmentDateRangeStart"));
    tu_http_free(&r);
    get_as(&main_box, auth, &r,
           "/medirecords/v1/practices/%s/appointments?appointmentDateRangeStart=2026-04-06T00:00",
           pid);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    json_decref(t);
    json_decref(info);
}

/* The minutes a shape gives for a code, or -1. */
static int interval_minutes(const json_t *list, bool objects, int code)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if (jint(item, objects ? "id" : "code") != code)
            continue;
        if (objects)
            return (int)jint(item, "minutes");
        return atoi(jstr(item, "value"));
    }
    return -1;
}

static void interval_codes_in_each_shape(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    char auth[128];
    bearer(auth, sizeof(auth), jstr(p, "token"));
    static const int known[][2] = {{2, 5}, {4, 10}, {6, 15}, {7, 20}};
    static const char *const shapes[] = {"array", "data", "objects"};
    for (size_t s = 0; s < 3; s++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"interval_shape\":\"%s\"}", shapes[s]);
        put_settings(&main_box, body);
        tu_http_result r;
        get_as(&main_box, auth, &r, "/medirecords/v1/code-system/appointment-interval-code");
        assert_int_equal(r.status, 200);
        json_t *list = s == 1 ? json_object_get(r.json, "data") : r.json;
        assert_true(json_is_array(list));
        for (size_t k = 0; k < 4; k++)
            assert_int_equal(interval_minutes(list, s == 2, known[k][0]), known[k][1]);
        assert_int_equal(interval_minutes(list, s == 2, 99), -1); /* the unlisted code */
        tu_http_free(&r);
    }
    put_settings(&main_box, "{\"interval_shape\":\"array\"}");

    /* Some appointments use the unlisted code: their truth length is the type's. */
    json_t *t = truth(&main_box, jstr(p, "practiceId"), "2026-03-29", "2026-04-19");
    size_t unlisted = 0, i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (jint(a, "appointmentIntervalCode") == 99)
            unlisted++;
        assert_true(jint(a, "_minutes") > 0);
    }
    assert_true(unlisted > 0);
    json_decref(t);
    json_decref(info);
}

static void types_patients_and_providers(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    const char *pid = jstr(p, "practiceId");
    char auth[128];
    bearer(auth, sizeof(auth), jstr(p, "token"));
    tu_http_result r;

    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s/appointment-types", pid);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_size(r.json), 1);
    json_t *types = json_object_get(r.json, "data");
    bool hours = false, telehealth = false;
    size_t i;
    json_t *ty;
    json_array_foreach(types, i, ty)
    {
        assert_true(json_is_string(json_object_get(ty, "duration")));
        hours = hours || strcmp(jstr(ty, "duration"), "1.5 hrs") == 0;
        telehealth = telehealth || json_is_true(json_object_get(ty, "telehealth"));
        assert_non_null(json_object_get(ty, "activeStatus"));
    }
    assert_true(hours && telehealth);
    size_t all = json_array_size(types);
    tu_http_free(&r);
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s/appointment-types?telehealth=true",
           pid);
    assert_true(json_array_size(json_object_get(r.json, "data")) < all);
    tu_http_free(&r);
    put_settings(&main_box, "{\"types_envelope\":\"page\"}");
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s/appointment-types", pid);
    assert_envelope(r.json);
    assert_int_equal(jint(r.json, "totalElements"), all);
    tu_http_free(&r);
    put_settings(&main_box, "{\"types_envelope\":\"data\"}");

    /* Patients are not practice-scoped in the path; unknown ones are 404. */
    json_t *t = truth(&main_box, pid, TODAY, TODAY);
    const char *patient = jstr(json_array_get(json_object_get(t, "appointments"), 0), "patientId");
    get_as(&main_box, auth, &r, "/medirecords/v1/patients/%s", patient);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "id"), patient);
    assert_true(json_is_integer(json_object_get(r.json, "gender")));
    assert_int_equal(strlen(jstr(r.json, "dob")), 10);
    assert_string_equal(jstr(r.json, "defaultPracticeId"), pid);
    tu_http_free(&r);
    get_as(&main_box, auth, &r, "/medirecords/v1/patients/00000000-0000-4000-8000-000000000000");
    assert_int_equal(r.status, 404);
    tu_http_free(&r);

    /* Providers exist only in the variant. */
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s/providers", pid);
    assert_int_equal(r.status, 404);
    tu_http_free(&r);
    put_settings(&main_box, "{\"providers\":true}");
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s/providers?size=50", pid);
    assert_int_equal(r.status, 200);
    assert_envelope(r.json);
    assert_int_equal(jint(r.json, "totalElements"), 6);
    json_t *provider = json_array_get(json_object_get(r.json, "data"), 0);
    assert_string_equal(jstr(provider, "title"), "Dr");
    char provider_id[64];
    snprintf(provider_id, sizeof(provider_id), "%s", jstr(provider, "id"));
    tu_http_free(&r);
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s/providers/%s", pid, provider_id);
    assert_int_equal(r.status, 200);
    assert_non_null(jstr(r.json, "lastName"));
    tu_http_free(&r);
    put_settings(&main_box, "{\"providers\":false}");
    json_decref(t);
    json_decref(info);
}

/* The truth objects of a day whose scheduleTime is `at`. */
static size_t count_at(const json_t *t, const char *at, const char *start_utc, const char *kind)
{
    size_t n = 0, i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (strcmp(jstr(a, "scheduleTime"), at) != 0)
            continue;
        assert_string_equal(jstr(a, "_startUtc"), start_utc);
        assert_string_equal(jstr(a, "_localKind"), kind);
        n++;
    }
    return n;
}

static void dst_days_have_ambiguous_wall_times(void **state)
{
    (void)state;
    json_t *info;
    practice_info(&main_box, 0, &info);
    json_t *practices = json_object_get(json_object_get(info, "medirecords"), "practices");
    /* Fall back on 2026-04-05: the repeated time twice, read as its earlier instant. */
    json_t *t = truth(&main_box, jstr(json_array_get(practices, 0), "practiceId"), TODAY, TODAY);
    assert_int_equal(count_at(t, "2026-04-05T02:30", "2026-04-04T15:30:00.000Z", "overlap"), 2);
    json_decref(t);
    t = truth(&main_box, jstr(json_array_get(practices, 1), "practiceId"), TODAY, TODAY);
    assert_int_equal(count_at(t, "2026-04-05T02:30", "2026-04-04T16:00:00.000Z", "overlap"), 2);
    json_decref(t);
    t = truth(&main_box, jstr(json_array_get(practices, 2), "practiceId"), TODAY, TODAY);
    assert_string_equal(jstr(t, "timezone"), "Australia/Lord_Howe");
    assert_int_equal(count_at(t, "2026-04-05T01:45", "2026-04-04T14:45:00.000Z", "overlap"), 2);
    json_decref(t);
    json_decref(info);

    /* Spring forward on 2026-10-04: a time in the gap, read with the offset before it. */
    static tu_sandbox spring; /* static: teardown stops it if an assertion fails */
    const char *args[] = {"--seed", "7", "--today", "2026-10-04", NULL};
    assert_int_equal(tu_sandbox_start(&spring, args), 0);
    practice_info(&spring, 0, &info);
    practices = json_object_get(json_object_get(info, "medirecords"), "practices");
    static const struct {
        const char *at, *utc;
    } gaps[] = {
        {"2026-10-04T02:30", "2026-10-03T16:30:00.000Z"}, /* Melbourne 02:00-03:00 */
        {"2026-10-04T02:30", "2026-10-03T17:00:00.000Z"}, /* Adelaide 02:00-03:00 */
        {"2026-10-04T02:15", "2026-10-03T15:45:00.000Z"}, /* Lord Howe 02:00-02:30 */
    };
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_array_get(practices, i);
        t = truth(&spring, jstr(p, "practiceId"), "2026-10-04", "2026-10-04");
        assert_int_equal(count_at(t, gaps[i].at, gaps[i].utc, "gap"), 1);
        json_decref(t);
        /* The API serves the wall time as written. */
        char auth[128];
        bearer(auth, sizeof(auth), jstr(p, "token"));
        tu_http_result r;
        get_as(&spring, auth, &r,
               "/medirecords/v1/practices/%s/appointments?appointmentDateRangeStart=%.13s:00"
               "&appointmentDateRangeEnd=%.13s:59",
               jstr(p, "practiceId"), gaps[i].at, gaps[i].at);
        assert_int_equal(r.status, 200);
        assert_string_equal(
            jstr(json_array_get(json_object_get(r.json, "data"), 0), "scheduleTime"), gaps[i].at);
        tu_http_free(&r);
    }
    json_decref(info);
    assert_int_equal(tu_sandbox_stop(&spring), 0);
}

static void control_changes_show_in_the_api(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    const char *pid = jstr(p, "practiceId");
    const char *provider =
        json_string_value(json_array_get(json_object_get(p, "activeProviderIds"), 0));
    char auth[128], body[512], path[256];
    bearer(auth, sizeof(auth), jstr(p, "token"));
    snprintf(body, sizeof(body),
             "{\"practitionerId\":\"%s\",\"start\":\"2026-04-07T19:10\",\"minutes\":20,"
             "\"status\":3,\"telehealth\":true}",
             provider);
    snprintf(path, sizeof(path), "/_sandbox/medirecords/practices/%s/appointments", pid);
    json_t *created = tu_sandbox_json(&main_box, "POST", path, body);
    assert_string_equal(jstr(created, "scheduleTime"), "2026-04-07T19:10");
    assert_int_equal(jint(created, "appointmentIntervalCode"), 7);
    assert_int_equal(jint(created, "_minutes"), 20);
    assert_string_equal(jstr(created, "_status"), "confirmed");
    assert_true(json_is_true(json_object_get(created, "_telehealth")));
    assert_non_null(strstr(jstr(created, "telehealthLinkForPatient"), "role=patient"));
    char id[64];
    snprintf(id, sizeof(id), "%s", jstr(created, "_id"));
    json_decref(created);

    snprintf(path, sizeof(path), "/_sandbox/medirecords/practices/%s/appointments/%s", pid, id);
    json_t *patched = tu_sandbox_json(&main_box, "PATCH", path, "{\"status\":8}");
    assert_string_equal(jstr(patched, "_status"), "cancelled");
    assert_non_null(jstr(patched, "cancellationReason"));
    json_decref(patched);
    tu_http_result r;
    get_as(&main_box, auth, &r,
           "/medirecords/v1/practices/%s/appointments?appointmentDateRangeStart=2026-04-07T19:00"
           "&appointmentDateRangeEnd=2026-04-07T19:30&appointmentStatus=8",
           pid);
    assert_int_equal(r.status, 200);
    bool found = false;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(r.json, "data"), i, a) found =
        found || strcmp(jstr(a, "id"), id) == 0;
    assert_true(found);
    tu_http_free(&r);

    json_decref(tu_sandbox_json(&main_box, "DELETE", path, NULL));
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s/appointments/%s", pid, id);
    assert_int_equal(r.status, 404);
    tu_http_free(&r);
    json_decref(info);
}

static void faults_use_medirecords_error_style(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    const char *pid = jstr(p, "practiceId");
    char auth[128];
    bearer(auth, sizeof(auth), jstr(p, "token"));
    tu_http_result r;

    json_decref(tu_sandbox_json(&main_box, "PUT", "/_sandbox/faults",
                                "{\"fault_429\":1,\"retry_after\":2}"));
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s", pid);
    assert_int_equal(r.status, 429);
    assert_string_equal(r.retry_after, "2");
    assert_string_equal(jstr(r.json, "message"), "Too Many Requests");
    tu_http_free(&r);

    json_decref(
        tu_sandbox_json(&main_box, "PUT", "/_sandbox/faults", "{\"fault_429\":0,\"fault_5xx\":1}"));
    for (int i = 0; i < 4; i++) {
        get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s", pid);
        assert_true(r.status >= 500 && r.status <= 504);
        assert_non_null(jstr(r.json, "message"));
        tu_http_free(&r);
    }

    /* Malformed records: the truth names them, the API serves them broken. */
    json_decref(tu_sandbox_json(&main_box, "PUT", "/_sandbox/faults",
                                "{\"fault_5xx\":0,\"fault_malformed\":0.5}"));
    json_t *t = truth(&main_box, pid, TODAY, TODAY);
    size_t malformed = 0, i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (!json_is_true(json_object_get(a, "_malformed")))
            continue;
        malformed++;
        assert_non_null(jstr(a, "_malformedKind"));
        get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s/appointments/%s", pid,
               jstr(a, "_id"));
        assert_int_equal(r.status, 200);
        bool same = true;
        for (size_t k = 0; k < APPOINTMENT_KEYS; k++)
            same = same && json_equal(json_object_get(r.json, appointment_keys[k]),
                                      json_object_get(a, appointment_keys[k]));
        assert_false(same);
        tu_http_free(&r);
    }
    assert_true(malformed > 0);
    json_decref(t);
    json_decref(tu_sandbox_json(&main_box, "POST", "/_sandbox/faults/reset", ""));
    json_decref(info);
}

/* A JSON request with "Authorization: <auth>". */
static void send_as(const tu_sandbox *box, const char *auth, const char *method, const char *body,
                    tu_http_result *r, const char *path)
{
    char header[256];
    snprintf(header, sizeof(header), "Authorization: %s", auth);
    const char *headers[] = {header, "Content-Type: application/json", NULL};
    tu_httpf(method, box, headers, body, r, "%s", path);
}

static void writes_apply_to_the_dataset(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 2, &info);
    const char *pid = jstr(p, "practiceId");
    const char *provider = json_string_value(json_array_get(json_object_get(p, "providerIds"), 0));
    const char *type =
        json_string_value(json_array_get(json_object_get(p, "appointmentTypeIds"), 0));
    char auth[128], path[256], body[1024];
    bearer(auth, sizeof(auth), jstr(p, "token"));
    json_t *t = truth(&main_box, pid, TODAY, TODAY);
    const char *patient = jstr(json_array_get(json_object_get(t, "appointments"), 0), "_patientId");
    tu_http_result r;

    /* book at 06:30, before the day's appointments */
    snprintf(path, sizeof(path), "/medirecords/v1/practices/%s/appointments", pid);
    snprintf(body, sizeof(body),
             "{\"patientId\":\"%s\",\"appointmentTypeId\":\"%s\",\"scheduleTime\":\"%sT06:30\","
             "\"appointmentStatus\":2,\"appointmentIntervalCode\":9,\"providerId\":\"%s\"}",
             patient, type, TODAY, provider);
    send_as(&main_box, auth, "POST", body, &r, path);
    assert_int_equal(r.status, 201);
    char id[64];
    snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
    assert_string_equal(jstr(r.json, "scheduleTime"), TODAY "T06:30");
    tu_http_free(&r);
    /* the provider's time is taken: 409, unless double booking is allowed */
    send_as(&main_box, auth, "POST", body, &r, path);
    assert_int_equal(r.status, 409);
    assert_non_null(jstr(r.json, "message"));
    tu_http_free(&r);
    body[strlen(body) - 1] = '\0';
    strcat(body, ",\"allowDoubleBookingForProvider\":true}");
    send_as(&main_box, auth, "POST", body, &r, path);
    assert_int_equal(r.status, 201);
    char second[64];
    snprintf(second, sizeof(second), "%s", jstr(r.json, "id"));
    tu_http_free(&r);

    /* the next read shows it; PUT replaces it whole (a missing field is refused) */
    snprintf(path, sizeof(path), "/medirecords/v1/practices/%s/appointments/%s", pid, id);
    get_as(&main_box, auth, &r, "%s", path);
    assert_int_equal(r.status, 200);
    json_t *appt = json_incref(r.json);
    tu_http_free(&r);
    json_object_set_new(appt, "scheduleTime", json_string(TODAY "T07:15"));
    json_object_set_new(appt, "appointmentStatus", json_integer(8));
    char *text = json_dumps(appt, 0);
    send_as(&main_box, auth, "PUT", text, &r, path); /* cancelled needs a reason */
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    free(text);
    json_object_set_new(appt, "cancellationReason", json_string("Unwell"));
    text = json_dumps(appt, 0);
    send_as(&main_box, auth, "PUT", text, &r, path);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    free(text);
    json_object_del(appt, "patientId");
    text = json_dumps(appt, 0);
    send_as(&main_box, auth, "PUT", text, &r, path);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    free(text);
    json_decref(appt);
    json_decref(t);
    t = truth(&main_box, pid, TODAY, TODAY);
    bool moved = false;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (strcmp(jstr(a, "_id"), id) == 0)
            moved = strcmp(jstr(a, "scheduleTime"), TODAY "T07:15") == 0 &&
                    strcmp(jstr(a, "_status"), "cancelled") == 0;
    }
    assert_true(moved);
    json_decref(t);

    /* DELETE removes */
    snprintf(path, sizeof(path), "/medirecords/v1/practices/%s/appointments/%s", pid, second);
    send_as(&main_box, auth, "DELETE", NULL, &r, path);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "id"), second);
    tu_http_free(&r);
    get_as(&main_box, auth, &r, "%s", path);
    assert_int_equal(r.status, 404);
    tu_http_free(&r);

    /* patients: created, then found */
    send_as(&main_box, auth, "POST",
            "{\"firstName\":\"Ada\",\"lastName\":\"Brightwater\",\"dob\":\"1971-03-09\","
            "\"mobilePhone\":\"0491 570 156\"}",
            &r, "/medirecords/v1/patients");
    assert_int_equal(r.status, 201);
    char patient_id[64];
    snprintf(patient_id, sizeof(patient_id), "%s", jstr(r.json, "id"));
    assert_string_equal(jstr(r.json, "defaultPracticeId"), pid);
    tu_http_free(&r);
    send_as(&main_box, auth, "POST",
            "{\"lastName\":\"brightwater\",\"mobilePhone\":\"0491570156\"}", &r,
            "/medirecords/v1/patients/search");
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "data"), 0), "id"), patient_id);
    tu_http_free(&r);
    send_as(&main_box, auth, "POST", "{\"firstName\":\"Ada\"}", &r,
            "/medirecords/v1/patients/search");
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    get_as(&main_box, auth, &r, "/medirecords/v1/patients/%s", patient_id);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    json_decref(info);
}

static json_int_t endpoint_count(const json_t *stats, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(stats, "byEndpoint"), name));
}

static void stats_name_each_endpoint(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    const char *pid = jstr(p, "practiceId");
    char auth[128];
    bearer(auth, sizeof(auth), jstr(p, "token"));
    json_decref(tu_sandbox_json(&main_box, "POST", "/_sandbox/stats/reset", ""));
    json_t *log =
        tu_sandbox_json(&main_box, "GET", "/_sandbox/requests?since=0&limit=1000000", NULL);
    json_int_t last_seq = jint(log, "lastSeq");
    json_decref(log);
    tu_http_result r;
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s", pid);
    tu_http_free(&r);
    get_as(&main_box, auth, &r,
           "/medirecords/v1/practices/%s/appointments?appointmentDateRangeStart=%s"
           "&appointmentDateRangeEnd=%s",
           pid, jstr(p, "todayFrom"), jstr(p, "todayTo"));
    tu_http_free(&r);
    get_as(&main_box, auth, &r, "/medirecords/v1/practices/%s/appointment-types", pid);
    tu_http_free(&r);
    get_as(&main_box, auth, &r, "/medirecords/v1/code-system/appointment-interval-code");
    tu_http_free(&r);
    get_as(&main_box, auth, &r, "/medirecords/v1/patients/nope");
    tu_http_free(&r);

    json_t *stats = tu_sandbox_json(&main_box, "GET", "/_sandbox/stats", NULL);
    assert_int_equal(jint(stats, "total"), 5);
    assert_int_equal(endpoint_count(stats, "medirecords.practice"), 1);
    assert_int_equal(endpoint_count(stats, "medirecords.appointments"), 1);
    assert_int_equal(endpoint_count(stats, "medirecords.appointment_types"), 1);
    assert_int_equal(endpoint_count(stats, "medirecords.interval_codes"), 1);
    assert_int_equal(endpoint_count(stats, "medirecords.patient"), 1);
    json_decref(stats);
    char path[96];
    snprintf(path, sizeof(path), "/_sandbox/requests?since=%lld", (long long)last_seq);
    log = tu_sandbox_json(&main_box, "GET", path, NULL);
    json_t *first = json_array_get(json_object_get(log, "requests"), 0);
    assert_string_equal(jstr(first, "pms"), "medirecords");
    assert_string_equal(jstr(first, "endpoint"), "medirecords.practice");
    assert_string_equal(jstr(first, "tenantId"), pid);
    json_decref(log);
    json_decref(info);
}

/* Every practice's truth, serialised with sorted keys. */
static char *all_truth(const tu_sandbox *box)
{
    json_t *info;
    practice_info(box, 0, &info);
    json_t *practices = json_object_get(json_object_get(info, "medirecords"), "practices");
    json_t *all = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(practices, i, p)
    {
        char path[128];
        snprintf(path, sizeof(path), "/_sandbox/medirecords/truth?practice=%s",
                 jstr(p, "practiceId"));
        json_t *t = tu_sandbox_json(box, "GET", path, NULL);
        assert_true(jint(t, "count") > 100);
        json_array_append_new(all, t);
    }
    json_array_append(all, practices);
    char *text = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(all);
    json_decref(info);
    return text;
}

static void same_seed_gives_the_same_dataset(void **state)
{
    (void)state;
    const char *seed_a[] = {"--seed", "42", "--today", "2026-06-15", NULL};
    const char *seed_b[] = {"--seed", "43", "--today", "2026-06-15", NULL};
    static tu_sandbox a, b, c; /* static: teardown stops them if an assertion fails */
    assert_int_equal(tu_sandbox_start(&a, seed_a), 0);
    assert_int_equal(tu_sandbox_start(&b, seed_a), 0);
    assert_int_equal(tu_sandbox_start(&c, seed_b), 0);
    char *truth_a = all_truth(&a);
    char *truth_b = all_truth(&b);
    char *truth_c = all_truth(&c);
    assert_string_equal(truth_a, truth_b);
    assert_true(strcmp(truth_a, truth_c) != 0);
    free(truth_a);
    free(truth_b);
    free(truth_c);
    assert_int_equal(tu_sandbox_stop(&a), 0);
    assert_int_equal(tu_sandbox_stop(&b), 0);
    assert_int_equal(tu_sandbox_stop(&c), 0);
}

static void sigterm_stops_with_exit_0(void **state)
{
    (void)state;
    static tu_sandbox box;
    const char *args[] = {"--latency-ms", "200", NULL};
    assert_int_equal(tu_sandbox_start(&box, args), 0);
    tu_http_result r;
    tu_httpf("GET", &box, NULL, NULL, &r, "/medirecords/v1/code-system/appointment-interval-code");
    assert_int_equal(r.status, 401); /* answered after the latency */
    tu_http_free(&r);
    int status = tu_sandbox_signal_and_wait(&box, SIGTERM);
    tu_sandbox_remove_dir(&box);
    assert_true(status >= 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(static_bearer_token_and_auth_errors),
        cmocka_unit_test(oauth_variant_mints_expiring_tokens),
        cmocka_unit_test(page_walk_matches_ground_truth),
        cmocka_unit_test(range_end_inclusive_by_default_and_204_variant),
        cmocka_unit_test(interval_codes_in_each_shape),
        cmocka_unit_test(types_patients_and_providers),
        cmocka_unit_test(dst_days_have_ambiguous_wall_times),
        cmocka_unit_test(control_changes_show_in_the_api),
        cmocka_unit_test(faults_use_medirecords_error_style),
        cmocka_unit_test(stats_name_each_endpoint),
        cmocka_unit_test(same_seed_gives_the_same_dataset),
        cmocka_unit_test(writes_apply_to_the_dataset),
        cmocka_unit_test(sigterm_stops_with_exit_0),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
