/* pms-sandbox's Sikka simulator over raw HTTP: authorized_practices with App-Id/App-Key, request
 * and refresh keys (expires_in with its unit, an expired key), the string list envelope paged by
 * page index, 204 when empty, the Request-Key-Expires, X-Rate-Limit-* and Data-Insert headers, a
 * 429 over the rate window, the error envelope, and writebacks: queued (201 API2016 / 200
 * API0007, "Id:N"), followed pending → completed or failed, refused while the SPU is offline
 * (412 API2017) or left pending until it is back, and listed.
 *
 * Each case starts the built binary (PMS_SANDBOX_BIN) on an ephemeral port and stops it in
 * teardown, where it must exit 0 on SIGTERM (under ASan: without leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_proc.h"

#define TODAY "2026-11-01" /* New York and Denver fall back (02:00 -> 01:00) */

typedef struct fixture {
    tu_sandbox box;
    json_t *info;         /* GET /_sandbox/info's sikka.practices */
    char key[64];         /* a request key of practice 0 */
    char refresh_key[64]; /* and its refresh key */
    char app_id_header[128], app_key_header[128];
} fixture;

/* ---- helpers ----------------------------------------------------------------------------- */

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static const json_t *practice(const fixture *f, size_t i)
{
    const json_t *p = json_array_get(f->info, i);
    assert_non_null(p);
    return p;
}

/* Every scalar in v (objects and arrays walked) is a string. */
static void assert_all_strings(const json_t *v, const char *where)
{
    const char *key;
    json_t *item;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, item)
        {
            if (!json_is_object(item) && !json_is_array(item) && !json_is_string(item))
                fail_msg("%s: %s is not a string", where, key);
            assert_all_strings(item, where);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            assert_all_strings(item, where);
        }
    }
}

/* Sikka's error envelope with the status and code. */
static void assert_error(const tu_http_result *r, long status, const char *code)
{
    if (r->status != status)
        fail_msg("expected HTTP %ld (%s), got %ld: %.300s", status, code, r->status,
                 r->body ? r->body : "");
    char http_code[8];
    snprintf(http_code, sizeof http_code, "%ld", status);
    static const char *const keys[] = {"http_code",     "http_code_desc", "error_code",
                                       "short_message", "long_message",   "more_information"};
    assert_non_null(r->json);
    assert_int_equal(json_object_size(r->json), 6);
    for (size_t i = 0; i < 6; i++)
        assert_non_null(jstr(r->json, keys[i]));
    assert_string_equal(jstr(r->json, "http_code"), http_code);
    assert_string_equal(jstr(r->json, "error_code"), code);
}

static void header(const tu_http_result *r, const char *name, char *out, size_t len)
{
    if (!tu_http_header(r, name, out, len))
        fail_msg("no %s header", name);
}

/* A request with the Request-Key header (none when key is NULL). */
static void keyed(fixture *f, const char *method, const char *key, const char *body,
                  tu_http_result *r, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void keyed(fixture *f, const char *method, const char *key, const char *body,
                  tu_http_result *r, const char *fmt, ...)
{
    char path[1024], line[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "Request-Key: %s", key ? key : "");
    const char *headers[] = {line, "Content-Type: application/json", NULL};
    tu_httpf(method, &f->box, key ? headers : headers + 1, body, r, "/sikka/v4%s", path);
}

static void get(fixture *f, tu_http_result *r, const char *path)
{
    keyed(f, "GET", f->key, NULL, r, "%s", path);
}

/* A GET with the request key that Sikka refuses with status and code. */
static void get_refused(fixture *f, const char *path, long status, const char *code)
{
    tu_http_result r;
    get(f, &r, path);
    assert_error(&r, status, code);
    tu_http_free(&r);
}

/* A request with App-Id and App-Key of practice 0. */
static void app_get(fixture *f, tu_http_result *r, const char *path)
{
    const char *headers[] = {f->app_id_header, f->app_key_header, NULL};
    tu_httpf("GET", &f->box, headers, NULL, r, "/sikka/v4%s", path);
}

static void put_settings(fixture *f, const char *json)
{
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/sikka/settings", json));
}

/* POST /request_key for practice i with grant_type request_key; the answer in r. */
static void request_key(fixture *f, size_t i, const char *secret, tu_http_result *r)
{
    const json_t *p = practice(f, i);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "grant_type", "request_key", "office_id",
                  jstr(p, "officeId"), "secret_key", secret ? secret : jstr(p, "secretKey"),
                  "app_id", jstr(p, "appId"), "app_key", jstr(p, "appKey"));
    char *text = json_dumps(body, JSON_COMPACT);
    keyed(f, "POST", NULL, text, r, "/request_key");
    free(text);
    json_decref(body);
}

static void refresh(fixture *f, const char *refresh_key, tu_http_result *r)
{
    const json_t *p = practice(f, 0);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "grant_type", "refresh_key", "refresh_key",
                             refresh_key, "app_id", jstr(p, "appId"), "app_key", jstr(p, "appKey"));
    char *text = json_dumps(body, JSON_COMPACT);
    keyed(f, "POST", NULL, text, r, "/request_key");
    free(text);
    json_decref(body);
}

/* The writeback id in long_message "Id:N". */
static long writeback_id(const tu_http_result *r)
{
    const char *message = jstr(r->json, "long_message");
    assert_non_null(message);
    assert_memory_equal(message, "Id:", 3);
    char *end;
    long id = strtol(message + 3, &end, 10);
    assert_true(*end == '\0' && id > 0);
    char more[64];
    snprintf(more, sizeof more, "/writeback_status?id=%ld", id);
    assert_non_null(strstr(jstr(r->json, "more_information"), more));
    return id;
}

/* writeback_status of id (a new reference to its item). */
static json_t *writeback(fixture *f, long id)
{
    tu_http_result r;
    char path[64];
    snprintf(path, sizeof path, "/writeback_status?id=%ld", id);
    get(f, &r, path);
    assert_int_equal(r.status, 200);
    assert_all_strings(r.json, "writeback_status");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    json_t *item = json_incref(json_array_get(json_object_get(r.json, "items"), 0));
    tu_http_free(&r);
    char text[24];
    snprintf(text, sizeof text, "%ld", id);
    assert_string_equal(jstr(item, "id"), text);
    return item;
}

/* Polls writeback_status (every 20 ms, at most 10 s) until it is completed. */
static json_t *settled(fixture *f, long id)
{
    for (int i = 0; i < 500; i++) {
        json_t *item = writeback(f, id);
        if (strcmp(jstr(item, "is_completed"), "True") == 0)
            return item;
        assert_string_equal(jstr(item, "is_completed"), "False");
        assert_string_equal(jstr(item, "status"), "Pending");
        json_decref(item);
        tu_sleep_ms(20);
    }
    fail_msg("writeback %ld still pending after 10 s", id);
    return NULL;
}

/* The `writebacks` listing's result of id ("pending", "completed", "failed"), copied. */
static void listed(fixture *f, long id, char *out, size_t len)
{
    tu_http_result r;
    app_get(f, &r, "/writebacks");
    assert_int_equal(r.status, 200);
    assert_all_strings(r.json, "writebacks");
    char text[24];
    snprintf(text, sizeof text, "%ld", id);
    out[0] = '\0';
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(r.json, "items"), i, item)
    {
        if (strcmp(jstr(item, "id"), text) == 0)
            snprintf(out, len, "%s", jstr(item, "result"));
    }
    tu_http_free(&r);
    assert_true(out[0] != '\0');
}

/* The one appointment with this sr_no, from GET /appointments (a new reference) or NULL. */
static json_t *appointment(fixture *f, const char *sr_no)
{
    tu_http_result r;
    char path[128];
    snprintf(path, sizeof path, "/appointments?appointment_sr_no=%s&fields=get_all", sr_no);
    get(f, &r, path);
    json_t *item = NULL;
    if (r.status == 200) {
        assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
        item = json_incref(json_array_get(json_object_get(r.json, "items"), 0));
    } else {
        assert_int_equal(r.status, 204);
    }
    tu_http_free(&r);
    return item;
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *args[] = {"--seed", "5", "--today", TODAY, NULL};
    if (tu_sandbox_start(&f->box, args) != 0) {
        free(f);
        return -1;
    }
    json_t *info = tu_sandbox_json(&f->box, "GET", "/_sandbox/info", NULL);
    f->info = json_incref(json_object_get(json_object_get(info, "sikka"), "practices"));
    json_decref(info);
    snprintf(f->app_id_header, sizeof f->app_id_header, "App-Id: %s",
             jstr(practice(f, 0), "appId"));
    snprintf(f->app_key_header, sizeof f->app_key_header, "App-Key: %s",
             jstr(practice(f, 0), "appKey"));
    tu_http_result r;
    request_key(f, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    snprintf(f->key, sizeof f->key, "%s", jstr(r.json, "request_key"));
    snprintf(f->refresh_key, sizeof f->refresh_key, "%s", jstr(r.json, "refresh_key"));
    tu_http_free(&r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tu_sandbox_stop(&f->box);
    json_decref(f->info);
    free(f);
    return rc;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void authorized_practices_need_the_app_key(void **state)
{
    fixture *f = *state;
    tu_http_result r;
    app_get(f, &r, "/authorized_practices");
    assert_int_equal(r.status, 200);
    assert_all_strings(r.json, "authorized_practices");
    assert_string_equal(jstr(r.json, "total_count"), "1");
    const json_t *item = json_array_get(json_object_get(r.json, "items"), 0);
    const json_t *p = practice(f, 0);
    assert_string_equal(jstr(item, "office_id"), jstr(p, "officeId"));
    assert_string_equal(jstr(item, "secret_key"), jstr(p, "secretKey"));
    assert_string_equal(jstr(item, "practice_id"), "1");
    assert_string_equal(jstr(item, "domain"), "Dental");
    assert_string_equal(jstr(item, "practice_management_system"), "Dentrix");
    assert_string_equal(jstr(item, "practice_management_system_refresh_date_time_zone"),
                        "America/New_York");
    char value[128];
    header(&r, "Request-Key-Expires", value, sizeof value);
    assert_non_null(strstr(value, " GMT"));
    header(&r, "X-Rate-Limit-Limit", value, sizeof value);
    assert_string_equal(value, "10000");
    tu_http_free(&r);

    /* another office's app sees its own practice */
    char id[128], key[128];
    snprintf(id, sizeof id, "App-Id: %s", jstr(practice(f, 1), "appId"));
    snprintf(key, sizeof key, "App-Key: %s", jstr(practice(f, 1), "appKey"));
    const char *other[] = {id, key, NULL};
    tu_httpf("GET", &f->box, other, NULL, &r, "/sikka/v4/authorized_practices");
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "items"), 0), "office_id"),
                        jstr(practice(f, 1), "officeId"));
    tu_http_free(&r);

    /* a wrong key, or one key of another app: 401 API2003; none: 400 API1001 / API1002 */
    const char *wrong[] = {f->app_id_header, "App-Key: not-the-key", NULL};
    tu_httpf("GET", &f->box, wrong, NULL, &r, "/sikka/v4/authorized_practices");
    assert_error(&r, 401, "API2003");
    assert_string_equal(jstr(r.json, "http_code_desc"), "Unauthorized");
    tu_http_free(&r);
    const char *mixed[] = {f->app_id_header, key, NULL};
    tu_httpf("GET", &f->box, mixed, NULL, &r, "/sikka/v4/authorized_practices");
    assert_error(&r, 401, "API2003");
    tu_http_free(&r);
    const char *no_key[] = {f->app_id_header, NULL};
    tu_httpf("GET", &f->box, no_key, NULL, &r, "/sikka/v4/authorized_practices");
    assert_error(&r, 400, "API1002");
    tu_http_free(&r);
    tu_httpf("GET", &f->box, NULL, NULL, &r, "/sikka/v4/authorized_practices");
    assert_error(&r, 400, "API1001");
    tu_http_free(&r);
    /* a request key is not an app key */
    get_refused(f, "/authorized_practices", 400, "API1001");
}

static void request_and_refresh_keys(void **state)
{
    fixture *f = *state;
    tu_http_result r;
    request_key(f, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_all_strings(r.json, "request_key");
    const char *key = jstr(r.json, "request_key");
    assert_int_equal(strlen(key), 32);
    for (const char *c = key; *c; c++)
        assert_true(isalnum((unsigned char)*c));
    assert_string_equal(jstr(r.json, "expires_in"), "86400 second(s)");
    assert_string_equal(jstr(r.json, "issued_to"), jstr(practice(f, 0), "officeId"));
    assert_string_equal(jstr(r.json, "status"), "active");
    assert_string_equal(jstr(r.json, "refresh_key"), f->refresh_key); /* until deleted */
    assert_non_null(strstr(jstr(r.json, "href"), "/request_key_info?request_key="));
    char second[64];
    snprintf(second, sizeof second, "%s", key);
    assert_string_not_equal(second, f->key);
    tu_http_free(&r);

    /* both keys read; the header or the request_key parameter */
    get(f, &r, "/providers");
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    keyed(f, "GET", NULL, NULL, &r, "/providers?request_key=%s", second);
    assert_int_equal(r.status, 200);
    assert_all_strings(r.json, "providers");
    tu_http_free(&r);
    keyed(f, "GET", NULL, NULL, &r, "/providers");
    assert_error(&r, 400, "API1004");
    tu_http_free(&r);
    keyed(f, "GET", "not-a-key", NULL, &r, "/providers");
    assert_error(&r, 400, "API1004");
    tu_http_free(&r);

    /* a wrong secret: the practice is not authorised; a wrong refresh key: 401 */
    request_key(f, 0, "not-the-secret", &r);
    assert_error(&r, 401, "API2007");
    tu_http_free(&r);
    refresh(f, "not-the-refresh-key", &r);
    assert_error(&r, 401, "API2003");
    tu_http_free(&r);

    /* every request key expires: 400 API1025; the refresh key gives a new one */
    json_decref(tu_sandbox_json(&f->box, "POST", "/_sandbox/sikka/tokens/expire", NULL));
    get(f, &r, "/providers");
    assert_error(&r, 400, "API1025");
    assert_string_equal(jstr(r.json, "short_message"), "Request key expired");
    tu_http_free(&r);
    keyed(f, "GET", second, NULL, &r, "/appointments");
    assert_error(&r, 400, "API1025");
    tu_http_free(&r);
    refresh(f, f->refresh_key, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "expires_in"), "86400 second(s)");
    snprintf(f->key, sizeof f->key, "%s", jstr(r.json, "request_key"));
    tu_http_free(&r);
    get(f, &r, "/providers");
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
}

/* The shorter lifetime of --token-lifetime shows in expires_in and Request-Key-Expires. */
static void key_lifetime_is_told(void **state)
{
    (void)state;
    tu_sandbox box;
    const char *args[] = {"--seed", "5", "--today", TODAY, "--token-lifetime", "90", NULL};
    assert_int_equal(tu_sandbox_start(&box, args), 0);
    fixture f = {.box = box};
    json_t *info = tu_sandbox_json(&box, "GET", "/_sandbox/info", NULL);
    f.info = json_incref(json_object_get(json_object_get(info, "sikka"), "practices"));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(info, "sikka"), "keyLifetime")), 90);
    json_decref(info);
    tu_http_result r;
    request_key(&f, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "expires_in"), "90 second(s)");
    snprintf(f.key, sizeof f.key, "%s", jstr(r.json, "request_key"));
    tu_http_free(&r);
    get(&f, &r, "/providers");
    assert_int_equal(r.status, 200);
    char value[128];
    header(&r, "Request-Key-Expires", value, sizeof value);
    assert_non_null(strstr(value, " GMT"));
    tu_http_free(&r);
    json_decref(f.info);
    assert_int_equal(tu_sandbox_stop(&box), 0);
}

/* offset is a page index: offset=1&limit=N is rows N+1..2N; `next` is empty on the last page;
 * past the end (or nothing at all) is 204 API2005 without a body. */
static void page_index_envelope(void **state)
{
    fixture *f = *state;
    tu_http_result all, r;
    get(f, &all, "/appointments?startdate=" TODAY "&enddate=" TODAY "&limit=5000");
    assert_int_equal(all.status, 200);
    assert_all_strings(all.json, "appointments");
    const json_t *rows = json_object_get(all.json, "items");
    size_t total = json_array_size(rows);
    assert_true(total > 14);
    char text[24];
    snprintf(text, sizeof text, "%zu", total);
    assert_string_equal(jstr(all.json, "total_count"), text);
    assert_string_equal(jstr(all.json, "offset"), "0");
    assert_string_equal(jstr(all.json, "limit"), "5000");
    assert_string_equal(jstr(json_object_get(all.json, "pagination"), "next"), "");
    assert_string_equal(jstr(json_object_get(all.json, "pagination"), "previous"), "");
    char value[64];
    header(&all, "Data-Insert", value, sizeof value);
    assert_string_equal(value, "completed");

    const size_t n = 7;
    size_t pages = (total + n - 1) / n, seen = 0;
    for (size_t page = 0; page < pages; page++) {
        keyed(f, "GET", f->key, NULL, &r,
              "/appointments?startdate=" TODAY "&enddate=" TODAY "&offset=%zu&limit=%zu", page, n);
        assert_int_equal(r.status, 200);
        snprintf(text, sizeof text, "%zu", page);
        assert_string_equal(jstr(r.json, "offset"), text);
        assert_string_equal(jstr(r.json, "limit"), "7");
        const json_t *items = json_object_get(r.json, "items");
        for (size_t i = 0; i < json_array_size(items); i++, seen++)
            assert_string_equal(jstr(json_array_get(items, i), "appointment_sr_no"),
                                jstr(json_array_get(rows, page * n + i), "appointment_sr_no"));
        const json_t *pagination = json_object_get(r.json, "pagination");
        const char *next = jstr(pagination, "next");
        if (page + 1 < pages) {
            snprintf(text, sizeof text, "offset=%zu&limit=7", page + 1);
            assert_non_null(strstr(next, text));
        } else {
            assert_string_equal(next, "");
        }
        snprintf(text, sizeof text, "offset=%zu&limit=7", pages - 1);
        assert_non_null(strstr(jstr(pagination, "last"), text));
        assert_non_null(strstr(jstr(pagination, "first"), "offset=0&limit=7"));
        assert_non_null(strstr(jstr(pagination, "current"), "startdate=" TODAY));
        tu_http_free(&r);
    }
    assert_int_equal(seen, total);

    /* past the end, and a day with none: 204 API2005, no body */
    keyed(f, "GET", f->key, NULL, &r,
          "/appointments?startdate=" TODAY "&enddate=" TODAY "&offset=%zu&limit=%zu", pages, n);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    tu_http_free(&r);
    get(f, &r, "/appointments?startdate=2030-01-01&enddate=2030-01-01");
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    tu_http_free(&r);
    /* ... or, so set, an empty page */
    put_settings(f, "{\"empty_204\":false}");
    get(f, &r, "/appointments?startdate=2030-01-01&enddate=2030-01-01");
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    assert_string_equal(jstr(r.json, "total_count"), "0");
    tu_http_free(&r);

    /* Data-Insert while the practice's data is loading */
    put_settings(f, "{\"data_insert_in_progress\":true}");
    get(f, &r, "/appointments?startdate=" TODAY "&enddate=" TODAY "&limit=1");
    header(&r, "Data-Insert", value, sizeof value);
    assert_string_equal(value, "in progress");
    tu_http_free(&r);

    /* a bad offset: the error envelope */
    get_refused(f, "/appointments?offset=-1", 400, "API1026");
    get_refused(f, "/no_such_resource", 404, "API2009");
    tu_http_free(&all);
}

/* X-Rate-Limit-* count down the window; over it, 429 with Remaining 0 until it resets. */
static void rate_window(void **state)
{
    fixture *f = *state;
    put_settings(f, "{\"rate_limit\":4,\"rate_window\":2}");
    tu_http_result r;
    char value[64], expected[8];
    for (int i = 0; i < 4; i++) {
        get(f, &r, "/providers");
        assert_int_equal(r.status, 200);
        header(&r, "X-Rate-Limit-Limit", value, sizeof value);
        assert_string_equal(value, "4");
        header(&r, "X-Rate-Limit-Remaining", value, sizeof value);
        snprintf(expected, sizeof expected, "%d", 3 - i);
        assert_string_equal(value, expected);
        header(&r, "X-Rate-Limit-Reset", value, sizeof value);
        assert_true(atoi(value) >= 1 && atoi(value) <= 2);
        tu_http_free(&r);
    }
    get(f, &r, "/providers");
    assert_error(&r, 429, "API2012");
    header(&r, "X-Rate-Limit-Remaining", value, sizeof value);
    assert_string_equal(value, "0");
    header(&r, "X-Rate-Limit-Reset", value, sizeof value);
    int reset = atoi(value);
    assert_true(reset >= 1 && reset <= 2);
    assert_false(tu_http_header(&r, "Retry-After", value, sizeof value));
    tu_http_free(&r);
    tu_sleep_ms(reset * 1000 + 100);
    get(f, &r, "/providers");
    assert_int_equal(r.status, 200);
    header(&r, "X-Rate-Limit-Remaining", value, sizeof value);
    assert_string_equal(value, "3");
    tu_http_free(&r);
}

static const char *const booking =
    "{\"patient_id\":\"%s\",\"date\":\"" TODAY "\",\"time\":\"%s\",\"length\":\"15\","
    "\"description\":\"Exam\",\"provider_id\":\"%s\",\"operatory\":\"OP2\",\"practice_id\":\"1\","
    "\"type\":\"General\",\"check_spu\":%s}";

/* A patient of practice 0 and a provider (copied out). */
static void someone(fixture *f, char patient[16], char provider[16])
{
    tu_http_result r;
    get(f, &r, "/patients?limit=1");
    assert_int_equal(r.status, 200);
    snprintf(patient, 16, "%s",
             jstr(json_array_get(json_object_get(r.json, "items"), 0), "patient_id"));
    tu_http_free(&r);
    snprintf(
        provider, 16, "%s",
        json_string_value(json_array_get(json_object_get(practice(f, 0), "activeProviderIds"), 0)));
}

static long post_booking(fixture *f, const char *patient, const char *time, const char *provider,
                         const char *check_spu, tu_http_result *r)
{
    char body[512];
    snprintf(body, sizeof body, booking, patient, time, provider, check_spu);
    keyed(f, "POST", f->key, body, r, "/appointment");
    if (r->status != 201)
        return 0;
    assert_all_strings(r->json, "writeback answer");
    assert_string_equal(jstr(r->json, "http_code"), "201");
    assert_string_equal(jstr(r->json, "error_code"), "API2016");
    assert_string_equal(jstr(r->json, "short_message"), "New resource created successfully");
    return writeback_id(r);
}

/* A booking, a move and a cancellation queue writebacks that the SPU completes after the delay:
 * writeback_status says pending, then completed with the new appointment_sr_no. */
static void writebacks_complete(void **state)
{
    fixture *f = *state;
    put_settings(f, "{\"writeback_delay_ms\":1500}");
    char patient[16], provider[16], state_text[16];
    someone(f, patient, provider);
    tu_http_result r;
    long id = post_booking(f, patient, "06:30", provider, "\"true\"", &r);
    assert_int_equal(r.status, 201);
    tu_http_free(&r);
    json_t *item = writeback(f, id);
    assert_string_equal(jstr(item, "is_completed"), "False");
    assert_string_equal(jstr(item, "status"), "Pending");
    assert_string_equal(jstr(item, "result"), "pending");
    assert_string_equal(jstr(item, "method"), "POST");
    assert_string_equal(jstr(item, "created_id"), "");
    assert_string_equal(jstr(item, "office_id"), jstr(practice(f, 0), "officeId"));
    json_t *sent = json_loads(jstr(item, "payload_body"), 0, NULL);
    assert_string_equal(jstr(sent, "time"), "06:30");
    json_decref(sent);
    json_decref(item);
    listed(f, id, state_text, sizeof state_text);
    assert_string_equal(state_text, "pending");

    item = settled(f, id);
    assert_string_equal(jstr(item, "has_error"), "False");
    assert_string_equal(jstr(item, "status"), "Success");
    assert_true(jstr(item, "completed_time")[0] != '\0');
    char sr_no[16];
    snprintf(sr_no, sizeof sr_no, "%s", jstr(item, "created_id"));
    assert_true(sr_no[0] != '\0');
    json_decref(item);
    listed(f, id, state_text, sizeof state_text);
    assert_string_equal(state_text, "completed");
    json_t *a = appointment(f, sr_no);
    assert_non_null(a);
    assert_string_equal(jstr(a, "date"), TODAY "T00:00:00");
    assert_string_equal(jstr(a, "time"), "06:30");
    assert_string_equal(jstr(a, "length"), "15");
    assert_string_equal(jstr(a, "patient_id"), patient);
    assert_string_equal(jstr(a, "provider_id"), provider);
    assert_string_equal(jstr(a, "operatory"), "OP2");
    assert_string_equal(jstr(a, "type"), "General");
    assert_string_equal(jstr(a, "status"), "Open");
    json_decref(a);

    /* moved (PUT): 200 API0007 */
    put_settings(f, "{\"writeback_delay_ms\":50}");
    char body[256];
    snprintf(body, sizeof body,
             "{\"practice_id\":\"1\",\"provider_id\":\"%s\",\"date\":\"" TODAY
             "\",\"time\":\"06:45\",\"length\":\"30\",\"check_spu\":\"true\"}",
             provider);
    keyed(f, "PUT", f->key, body, &r, "/appointments/%s", sr_no);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "error_code"), "API0007");
    long moved = writeback_id(&r);
    assert_true(moved > id);
    tu_http_free(&r);
    item = settled(f, moved);
    assert_string_equal(jstr(item, "has_error"), "False");
    assert_string_equal(jstr(item, "method"), "PUT");
    assert_string_equal(jstr(item, "appointment_sr_no"), sr_no);
    json_decref(item);
    a = appointment(f, sr_no);
    assert_string_equal(jstr(a, "time"), "06:45");
    assert_string_equal(jstr(a, "length"), "30");
    json_decref(a);

    /* cancelled (PATCH, Sikka's /appointment_status or the /status some clients send) */
    static const char *const paths[] = {"/status", "/appointment_status"};
    static const char *const words[] = {"Broken", "Cancelled"};
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof body,
                 "{\"op\":\"replace\",\"path\":\"%s\",\"value\":\"%s\",\"practice_id\":\"1\","
                 "\"appointment_sr_no\":\"%s\",\"check_spu\":\"true\"}",
                 paths[i], words[i], sr_no);
        keyed(f, "PATCH", f->key, body, &r, "/appointments/%s", sr_no);
        assert_int_equal(r.status, 200);
        assert_string_equal(jstr(r.json, "short_message"),
                            "Appointment status logged successfully");
        long changed = writeback_id(&r);
        tu_http_free(&r);
        item = settled(f, changed);
        assert_string_equal(jstr(item, "method"), "PATCH");
        assert_string_equal(jstr(item, "has_error"), "False");
        json_decref(item);
        a = appointment(f, sr_no);
        assert_string_equal(jstr(a, "status"), words[i]);
        json_decref(a);
    }

    /* refused at once: a value that is not a string, a bad PATCH, an unknown appointment */
    snprintf(body, sizeof body,
             "{\"patient_id\":\"%s\",\"date\":\"" TODAY "\",\"time\":\"07:00\",\"length\":15,"
             "\"description\":\"Exam\",\"provider_id\":\"%s\",\"operatory\":\"OP1\","
             "\"practice_id\":\"1\"}",
             patient, provider);
    keyed(f, "POST", f->key, body, &r, "/appointment");
    assert_error(&r, 400, "API1026");
    assert_non_null(strstr(jstr(r.json, "long_message"), "length"));
    tu_http_free(&r);
    keyed(f, "PATCH", f->key, "{\"op\":\"remove\",\"path\":\"/status\",\"practice_id\":\"1\"}", &r,
          "/appointments/%s", sr_no);
    assert_error(&r, 400, "API1026");
    tu_http_free(&r);
    keyed(f, "PATCH", f->key,
          "{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"Cancelled\",\"practice_id\":\"1\"}",
          &r, "/appointments/999999999");
    assert_error(&r, 404, "API2009");
    tu_http_free(&r);
    keyed(f, "GET", f->key, NULL, &r, "/appointment");
    assert_error(&r, 405, "API2014");
    tu_http_free(&r);
    get_refused(f, "/writeback_status?id=1", 404, "API2009");

    /* the listing wants the app's credentials */
    get_refused(f, "/writebacks", 400, "API1001");
    app_get(f, &r, "/writebacks");
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 4);
    const json_t *first = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(jstr(first, "api_name"), "appointment");
    assert_string_equal(jstr(first, "method"), "POST");
    assert_non_null(strstr(jstr(first, "api_request_body"), "\"06:30\""));
    tu_http_free(&r);
    keyed(f, "GET", NULL, NULL, &r, "/writebacks?id=%ld", moved);
    assert_error(&r, 400, "API1001");
    tu_http_free(&r);
}

/* Writebacks the SPU fails: on request (writeback_fail_next), and a booking over the provider's
 * own appointment; both complete with has_error and a result in words. */
static void writebacks_fail(void **state)
{
    fixture *f = *state;
    put_settings(f, "{\"writeback_delay_ms\":50,\"writeback_fail_next\":1}");
    char patient[16], provider[16], state_text[16];
    someone(f, patient, provider);
    tu_http_result r;
    long id = post_booking(f, patient, "06:30", provider, "\"true\"", &r);
    tu_http_free(&r);
    json_t *item = settled(f, id);
    assert_string_equal(jstr(item, "has_error"), "True");
    assert_string_equal(jstr(item, "status"), "Failed");
    assert_string_equal(jstr(item, "result"), "The practice management system rejected the change");
    assert_string_equal(jstr(item, "created_id"), "");
    json_decref(item);
    listed(f, id, state_text, sizeof state_text);
    assert_string_equal(state_text, "failed");
    json_t *settings = tu_sandbox_json(&f->box, "GET", "/_sandbox/sikka/settings", NULL);
    assert_int_equal(json_integer_value(json_object_get(settings, "writeback_fail_next")), 0);
    json_decref(settings);

    /* the same booking again now works; a second one over it fails, in words */
    id = post_booking(f, patient, "06:30", provider, "\"true\"", &r);
    tu_http_free(&r);
    item = settled(f, id);
    assert_string_equal(jstr(item, "has_error"), "False");
    json_decref(item);
    id = post_booking(f, patient, "06:35", provider, "\"true\"", &r);
    tu_http_free(&r);
    item = settled(f, id);
    assert_string_equal(jstr(item, "has_error"), "True");
    assert_string_equal(jstr(item, "result"),
                        "The provider already has an appointment at that time");
    json_decref(item);

    /* every writeback fails at a rate of 1 */
    put_settings(f, "{\"writeback_failure_rate\":1}");
    id = post_booking(f, patient, "05:00", provider, "\"true\"", &r);
    tu_http_free(&r);
    item = settled(f, id);
    assert_string_equal(jstr(item, "has_error"), "True");
    json_decref(item);
}

/* With check_spu while the SPU is offline: 412 API2017 and nothing queued. */
static void spu_offline(void **state)
{
    fixture *f = *state;
    put_settings(f, "{\"spu_offline\":true,\"writeback_delay_ms\":50}");
    char patient[16], provider[16];
    someone(f, patient, provider);
    tu_http_result r;
    post_booking(f, patient, "06:30", provider, "\"true\"", &r);
    assert_error(&r, 412, "API2017");
    assert_string_equal(jstr(r.json, "long_message"), "Sikka platform utility is offline");
    tu_http_free(&r);
    post_booking(f, patient, "06:30", provider, "true", &r); /* a JSON true too */
    assert_error(&r, 412, "API2017");
    tu_http_free(&r);
    tu_http_result day;
    get(f, &day, "/appointments?startdate=" TODAY "&enddate=" TODAY "&limit=1");
    const char *sr_no =
        jstr(json_array_get(json_object_get(day.json, "items"), 0), "appointment_sr_no");
    keyed(f, "PATCH", f->key,
          "{\"op\":\"replace\",\"path\":\"/appointment_status\",\"value\":\"Cancelled\","
          "\"practice_id\":\"1\",\"check_spu\":\"true\"}",
          &r, "/appointments/%s", sr_no);
    assert_error(&r, 412, "API2017");
    tu_http_free(&r);
    tu_http_free(&day);
    app_get(f, &r, "/writebacks");
    assert_int_equal(r.status, 204); /* none queued */
    tu_http_free(&r);

    /* without check_spu the writeback is queued; it stays pending until the SPU is back */
    long id = post_booking(f, patient, "06:30", provider, "\"false\"", &r);
    assert_int_equal(r.status, 201);
    tu_http_free(&r);
    tu_sleep_ms(200);
    json_t *item = writeback(f, id);
    assert_string_equal(jstr(item, "is_completed"), "False");
    json_decref(item);
    put_settings(f, "{\"spu_offline\":false}");
    item = settled(f, id);
    assert_string_equal(jstr(item, "has_error"), "False");
    json_decref(item);
}

int main(void)
{
    if (getenv("PMS_SANDBOX_BIN") == NULL) {
        fprintf(stderr, "PMS_SANDBOX_BIN is not set\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(authorized_practices_need_the_app_key, setup, teardown),
        cmocka_unit_test_setup_teardown(request_and_refresh_keys, setup, teardown),
        cmocka_unit_test(key_lifetime_is_told),
        cmocka_unit_test_setup_teardown(page_index_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(rate_window, setup, teardown),
        cmocka_unit_test_setup_teardown(writebacks_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(writebacks_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(spu_offline, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("sandbox_sikka", tests, NULL, NULL);
    tu_sandbox_stop_all();
    curl_global_cleanup();
    return failed;
}
