/* pms-sandbox's Gentu simulator over real HTTP: token flow, pairing, paging against ground
 * truth, validation errors, DST offsets, faults, stats, determinism, the Bookings API's writes
 * (availability, booking, cancelling, patients) and clean shutdown.
 *
 * Starts the built binary (PMS_SANDBOX_BIN) as child processes on ephemeral ports. Every child
 * is stopped in teardown (even after a failed assertion) and must exit 0 on SIGTERM, which under
 * ASan also means no leaks; PR_SET_PDEATHSIG kills children if the test process dies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_proc.h"

#define TODAY "2026-04-05" /* clocks go back in Melbourne, Sydney, Adelaide and Hobart */

static tu_sandbox main_box;

/* ---- Gentu helpers ---------------------------------------------------------------------- */

/* A fresh access token; the caller frees it. */
static char *mint_token(const tu_sandbox *box)
{
    const char *headers[] = {"Authorization: Basic c2FuZGJveC1jbGllbnQ6c2FuZGJveC1zZWNyZXQ=",
                             "Content-Type: application/x-www-form-urlencoded", NULL};
    tu_http_result r;
    tu_httpf("POST", box, headers, "grant_type=client_credentials", &r, "/gentu/v1/oauth2/token");
    assert_int_equal(r.status, 200);
    char *token = strdup(json_string_value(json_object_get(r.json, "access_token")));
    tu_http_free(&r);
    return token;
}

/* "Authorization: Bearer <token>" in buf. */
static const char *bearer(char *buf, size_t len, const char *token)
{
    snprintf(buf, len, "Authorization: Bearer %s", token);
    return buf;
}

/* GET /_sandbox/info; tenant i's object (borrowed from *info, which the caller decrefs). */
static json_t *tenant_info(const tu_sandbox *box, size_t i, json_t **info)
{
    tu_http_result r;
    tu_httpf("GET", box, NULL, NULL, &r, "/_sandbox/info");
    assert_int_equal(r.status, 200);
    *info = json_incref(r.json);
    tu_http_free(&r);
    json_t *t = json_array_get(json_object_get(json_object_get(*info, "gentu"), "tenants"), i);
    assert_non_null(t);
    return t;
}

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void pair(const tu_sandbox *box, const char *auth, const json_t *tenant)
{
    const char *headers[] = {auth, NULL};
    tu_http_result r;
    tu_httpf("PUT", box, headers, NULL, &r, "/gentu/v1/apps/sandbox-app/pairing/%s",
             jstr(tenant, "pairingCode"));
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
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
    const char *args[] = {"--seed", "7", "--today", TODAY, "--page-size", "5", NULL};
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

static void listening_line_is_printed(void **state)
{
    (void)state;
    char path[320], line[256] = "";
    snprintf(path, sizeof(path), "%s/stdout", main_box.dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    char expected[128];
    snprintf(expected, sizeof(expected), "pms-sandbox listening on %s\n", main_box.base);
    assert_string_equal(line, expected);
}

static void token_flow_accepts_basic_auth_and_rejects_bad_credentials(void **state)
{
    (void)state;
    tu_http_result r;
    const char *good[] = {"Authorization: Basic c2FuZGJveC1jbGllbnQ6c2FuZGJveC1zZWNyZXQ=",
                          "Content-Type: application/x-www-form-urlencoded", NULL};
    tu_httpf("POST", &main_box, good, "grant_type=client_credentials", &r,
             "/gentu/v1/oauth2/token");
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "token_type"), "Bearer");
    assert_int_equal(json_integer_value(json_object_get(r.json, "expires_in")), 3599);
    assert_int_equal(json_integer_value(json_object_get(r.json, "refresh_token_expires_in")), 0);
    assert_string_equal(jstr(r.json, "application_name"), "sandbox-app");
    assert_string_equal(jstr(r.json, "status"), "approved");
    assert_true(strlen(jstr(r.json, "access_token")) >= 20);
    assert_null(json_object_get(r.json, "refresh_token"));
    tu_http_free(&r);

    /* base64("sandbox-client:wrong") */
    const char *bad[] = {"Authorization: Basic c2FuZGJveC1jbGllbnQ6d3Jvbmc=",
                         "Content-Type: application/x-www-form-urlencoded", NULL};
    tu_httpf("POST", &main_box, bad, "grant_type=client_credentials", &r, "/gentu/v1/oauth2/token");
    assert_int_equal(r.status, 401);
    assert_string_equal(jstr(r.json, "error"), "invalid_client");
    tu_http_free(&r);

    const char *none[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    tu_httpf("POST", &main_box, none, "grant_type=client_credentials", &r,
             "/gentu/v1/oauth2/token");
    assert_int_equal(r.status, 401);
    tu_http_free(&r);

    /* An unknown bearer and no bearer: 401 with the Apigee fault envelope. */
    const char *unknown[] = {"Authorization: Bearer not-a-token", NULL};
    tu_httpf("GET", &main_box, unknown, NULL, &r, "/gentu/v1/tenants");
    assert_int_equal(r.status, 401);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(r.json, "fault"), "detail"), "errorcode")),
        "oauth.v2.InvalidAccessToken");
    tu_http_free(&r);
    tu_httpf("GET", &main_box, NULL, NULL, &r, "/gentu/v1/tenants");
    assert_int_equal(r.status, 401);
    tu_http_free(&r);

    /* A token that expires mid-sweep stops working. */
    char *token = mint_token(&main_box);
    char auth[128];
    const char *headers[] = {bearer(auth, sizeof(auth), token), NULL};
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants");
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    tu_httpf("POST", &main_box, NULL, "", &r, "/_sandbox/gentu/tokens/expire");
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants");
    assert_int_equal(r.status, 401);
    tu_http_free(&r);
    free(token);
}

static void pairing_enables_a_tenant_idempotently(void **state)
{
    (void)state;
    json_t *info;
    json_t *t0 = tenant_info(&main_box, 0, &info);
    json_t *t1 = json_array_get(json_object_get(json_object_get(info, "gentu"), "tenants"), 1);
    char *token = mint_token(&main_box);
    char auth[128];
    const char *headers[] = {bearer(auth, sizeof(auth), token), NULL};
    tu_http_result r;

    /* Not paired yet: tenant calls are refused, the tenant is listed as disabled. */
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s", jstr(t1, "tenantId"));
    assert_int_equal(r.status, 403);
    assert_non_null(jstr(r.json, "message"));
    tu_http_free(&r);

    for (int round = 0; round < 2; round++) {
        tu_httpf("PUT", &main_box, headers, NULL, &r, "/gentu/v1/apps/sandbox-app/pairing/%s",
                 jstr(t0, "pairingCode"));
        assert_int_equal(r.status, 200);
        assert_string_equal(jstr(r.json, "message"), "Successfully consumed pairing code");
        assert_string_equal(jstr(r.json, "tenantId"), jstr(t0, "tenantId"));
        tu_http_free(&r);
    }
    tu_httpf("PUT", &main_box, headers, NULL, &r, "/gentu/v1/apps/sandbox-app/pairing/ZZZZZZZZ");
    assert_int_equal(r.status, 404);
    assert_non_null(jstr(r.json, "message"));
    tu_http_free(&r);

    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants");
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(r.json));
    bool seen = false;
    size_t i;
    json_t *entry;
    json_array_foreach(r.json, i, entry)
    {
        if (strcmp(jstr(entry, "tenantId"), jstr(t0, "tenantId")) == 0) {
            assert_string_equal(jstr(entry, "tenantAccess"), "enabled");
            seen = true;
        } else {
            assert_string_equal(jstr(entry, "tenantAccess"), "disabled");
        }
    }
    assert_true(seen);
    tu_http_free(&r);

    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s", jstr(t0, "tenantId"));
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "timezone"), "Australia/Melbourne");
    assert_non_null(jstr(r.json, "tenantName"));
    assert_non_null(json_object_get(r.json, "tenantNumber"));
    tu_http_free(&r);
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s/status",
             jstr(t0, "tenantId"));
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "message"), "Hello world!");
    tu_http_free(&r);
    free(token);
    json_decref(info);
}

static const char *const appointment_keys[] = {
    "id",      "startAt",     "endAt",       "status",          "minutesDuration",
    "comment", "description", "participant", "appointmentType", "extension",
};

static void page_walk_matches_ground_truth(void **state)
{
    (void)state;
    json_t *info;
    json_t *t = tenant_info(&main_box, 0, &info);
    char *token = mint_token(&main_box);
    char auth[128];
    const char *headers[] = {bearer(auth, sizeof(auth), token), NULL};
    pair(&main_box, auth, t);
    char *from = tu_escape(jstr(t, "todayFrom"));
    char *to = tu_escape(jstr(t, "todayTo"));

    tu_http_result truth;
    tu_httpf("GET", &main_box, NULL, NULL, &truth,
             "/_sandbox/gentu/truth?tenantId=%s&from=%s&to=%s", jstr(t, "tenantId"), TODAY, TODAY);
    assert_int_equal(truth.status, 200);
    json_t *truth_list = json_object_get(truth.json, "appointments");

    size_t walked_total = 0;
    size_t pi;
    json_t *practitioner;
    json_array_foreach(json_object_get(t, "practitionerIds"), pi, practitioner)
    {
        const char *pid = json_string_value(practitioner);
        json_t *seen = json_object();
        char *cursor = NULL;
        int pages = 0;
        for (;;) {
            tu_http_result r;
            tu_httpf("GET", &main_box, headers, NULL, &r,
                     "/gentu/v1/tenants/%s/appointments?fromDate=%s&toDate=%s&practitionerId=%s"
                     "&limit=100&include=patients,practitioners%s%s",
                     jstr(t, "tenantId"), from, to, pid, cursor != NULL ? "&cursor=" : "",
                     cursor != NULL ? cursor : "");
            assert_int_equal(r.status, 200);
            pages++;
            json_t *appts = json_object_get(r.json, "appointments");
            json_t *pagination = json_object_get(r.json, "pagination");
            assert_true(json_array_size(appts) <= 5); /* --page-size 5 caps limit=100 */
            assert_int_equal(json_integer_value(json_object_get(pagination, "limit")), 5);
            json_t *patients = json_object_get(r.json, "patients");
            assert_true(json_is_array(patients));
            assert_true(json_is_array(json_object_get(r.json, "practitioners")));
            size_t ai;
            json_t *a;
            json_array_foreach(appts, ai, a)
            {
                for (size_t k = 0; k < sizeof(appointment_keys) / sizeof(appointment_keys[0]); k++)
                    assert_non_null(json_object_get(a, appointment_keys[k]));
                assert_int_equal(json_object_size(a), 10);
                const char *id = jstr(a, "id");
                assert_null(json_object_get(seen, id)); /* no duplicates across pages */
                json_object_set_new(seen, id, json_true());
                /* Every patient referenced on the page is included. */
                size_t qi;
                json_t *part;
                json_array_foreach(json_object_get(a, "participant"), qi, part)
                {
                    if (strcmp(jstr(part, "referenceType"), "patient") != 0)
                        continue;
                    bool found = false;
                    size_t xi;
                    json_t *patient;
                    json_array_foreach(patients, xi, patient) found =
                        found || strcmp(jstr(patient, "id"), jstr(part, "referenceId")) == 0;
                    assert_true(found);
                }
            }
            free(cursor);
            cursor = NULL;
            json_t *next = json_object_get(pagination, "next");
            if (json_is_string(next))
                cursor = strdup(json_string_value(next));
            tu_http_free(&r);
            if (cursor == NULL)
                break;
            assert_true(pages < 100);
        }
        size_t expected = 0;
        size_t ti;
        json_t *ta;
        json_array_foreach(truth_list, ti, ta)
        {
            if (strcmp(jstr(ta, "_practitionerId"), pid) == 0) {
                expected++;
                assert_non_null(json_object_get(seen, jstr(ta, "id")));
            }
        }
        assert_int_equal(json_object_size(seen), expected);
        walked_total += expected;
        json_decref(seen);
    }
    assert_int_equal(walked_total, json_array_size(truth_list));
    assert_true(walked_total > 20);
    tu_http_free(&truth);
    free(from);
    free(to);
    free(token);
    json_decref(info);
}

static void assert_validation_error(const tu_http_result *r, const char *field)
{
    assert_int_equal(r->status, 400);
    assert_string_equal(jstr(r->json, "message"), "Validation error");
    json_t *details = json_object_get(r->json, "details");
    assert_true(json_array_size(details) >= 1);
    bool named = false;
    size_t i;
    json_t *issue;
    json_array_foreach(details, i, issue)
    {
        json_t *path = json_object_get(issue, "path");
        assert_string_equal(json_string_value(json_array_get(path, 0)), "query");
        named = named || strcmp(json_string_value(json_array_get(path, 1)), field) == 0;
        assert_non_null(jstr(issue, "code"));
        assert_non_null(jstr(issue, "message"));
    }
    assert_true(named);
}

static void validation_errors_name_the_parameter(void **state)
{
    (void)state;
    json_t *info;
    json_t *t = tenant_info(&main_box, 0, &info);
    char *token = mint_token(&main_box);
    char auth[128];
    const char *headers[] = {bearer(auth, sizeof(auth), token), NULL};
    pair(&main_box, auth, t);
    const char *tid = jstr(t, "tenantId");
    const char *pid = json_string_value(json_array_get(json_object_get(t, "practitionerIds"), 0));
    tu_http_result r;

    /* An unencoded '+' arrives as a space. */
    tu_httpf("GET", &main_box, headers, NULL, &r,
             "/gentu/v1/tenants/%s/appointments?fromDate=2026-04-05T00:00:00.000+11:00"
             "&toDate=2026-04-06T00%%3A00%%3A00.000%%2B10%%3A00&practitionerId=%s&limit=10",
             tid, pid);
    assert_validation_error(&r, "fromDate");
    json_t *issue = json_array_get(json_object_get(r.json, "details"), 0);
    assert_string_equal(jstr(issue, "code"), "invalid_string");
    tu_http_free(&r);

    tu_httpf("GET", &main_box, headers, NULL, &r,
             "/gentu/v1/tenants/%s/appointments?fromDate=2026-04-05T00%%3A00%%3A00.000%%2B11%%3A00"
             "&toDate=2026-04-06T00%%3A00%%3A00.000%%2B10%%3A00&limit=10",
             tid);
    assert_validation_error(&r, "practitionerId");
    tu_http_free(&r);

    tu_httpf("GET", &main_box, headers, NULL, &r,
             "/gentu/v1/tenants/%s/appointments?fromDate=2026-04-05T00%%3A00%%3A00.000%%2B11%%3A00"
             "&toDate=2026-04-06T00%%3A00%%3A00.000%%2B10%%3A00&practitionerId=%s&limit=200",
             tid, pid);
    assert_validation_error(&r, "limit");
    tu_http_free(&r);

    /* An unknown cursor is refused too. */
    tu_httpf("GET", &main_box, headers, NULL, &r,
             "/gentu/v1/tenants/%s/appointments?fromDate=2026-04-05T00%%3A00%%3A00.000%%2B11%%3A00"
             "&toDate=2026-04-06T00%%3A00%%3A00.000%%2B10%%3A00&practitionerId=%s&limit=10"
             "&cursor=00000000-0000-4000-8000-000000000000",
             tid, pid);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);

    /* Wrong method: 405. Unknown appointment: 404 with a message. */
    tu_httpf("DELETE", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s/appointments", tid);
    assert_int_equal(r.status, 405);
    tu_http_free(&r);
    tu_httpf("GET", &main_box, headers, NULL, &r,
             "/gentu/v1/tenants/%s/appointments/00000000-0000-4000-8000-000000000000", tid);
    assert_int_equal(r.status, 404);
    assert_non_null(jstr(r.json, "message"));
    tu_http_free(&r);
    free(token);
    json_decref(info);
}

/* Creates an appointment through the control API; returns the created object (caller owns). */
static json_t *create_appt(const char *tid, const char *pid, const char *start)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"practitionerId\":\"%s\",\"startAt\":\"%s\",\"minutesDuration\":30,"
             "\"status\":\"confirmed\"}",
             pid, start);
    tu_http_result r;
    tu_httpf("POST", &main_box, NULL, body, &r, "/_sandbox/gentu/tenants/%s/appointments", tid);
    assert_int_equal(r.status, 201);
    json_t *created = json_incref(r.json);
    tu_http_free(&r);
    return created;
}

static void dst_days_get_the_right_offsets(void **state)
{
    (void)state;
    json_t *info;
    json_t *t = tenant_info(&main_box, 0, &info);
    assert_string_equal(jstr(t, "timezone"), "Australia/Melbourne");
    const char *tid = jstr(t, "tenantId");
    const char *pid =
        json_string_value(json_array_get(json_object_get(t, "bookPractitionerIds"), 0));
    char *token = mint_token(&main_box);
    char auth[128];
    const char *headers[] = {bearer(auth, sizeof(auth), token), NULL};
    pair(&main_box, auth, t);

    static const struct {
        const char *local, *start, *end, *kind;
    } cases[] = {
        /* 2026-04-05: AEDT (+11) ends at 03:00, clocks go back to 02:00 AEST (+10). */
        {"2026-04-05T01:30", "2026-04-05T01:30:00.000+11:00", "2026-04-05T02:00:00.000+11:00",
         "unique"},
        {"2026-04-05T02:30", "2026-04-05T02:30:00.000+11:00", "2026-04-05T02:00:00.000+10:00",
         "overlap"},
        {"2026-04-05T09:00", "2026-04-05T09:00:00.000+10:00", "2026-04-05T09:30:00.000+10:00",
         "unique"},
        /* 2026-10-04: clocks go forward at 02:00 AEST to 03:00 AEDT. */
        {"2026-10-04T02:30", "2026-10-04T03:30:00.000+11:00", "2026-10-04T04:00:00.000+11:00",
         "gap"},
        {"2026-10-04T09:00", "2026-10-04T09:00:00.000+11:00", "2026-10-04T09:30:00.000+11:00",
         "unique"},
        {"2026-10-03T09:00", "2026-10-03T09:00:00.000+10:00", "2026-10-03T09:30:00.000+10:00",
         "unique"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *created = create_appt(tid, pid, cases[i].local);
        assert_string_equal(jstr(created, "startAt"), cases[i].start);
        assert_string_equal(jstr(created, "endAt"), cases[i].end);
        assert_string_equal(jstr(created, "_localKind"), cases[i].kind);
        /* The API serves the same, by id and in the day's list. */
        tu_http_result r;
        tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s/appointments/%s", tid,
                 jstr(created, "id"));
        assert_int_equal(r.status, 200);
        assert_string_equal(jstr(r.json, "startAt"), cases[i].start);
        tu_http_free(&r);
        char day[11];
        snprintf(day, sizeof(day), "%.10s", cases[i].local);
        tu_httpf("GET", &main_box, headers, NULL, &r,
                 "/gentu/v1/tenants/%s/appointments?fromDate=%sT00%%3A00%%3A00Z&toDate=%sT23%%3A59"
                 "%%3A59Z&practitionerId=%s&limit=100",
                 tid, day, day, pid);
        assert_int_equal(r.status, 200);
        tu_http_free(&r);
        json_decref(created);
    }
    free(token);
    json_decref(info);
}

static void fault_429_carries_retry_after_and_spares_token_and_control(void **state)
{
    (void)state;
    tu_http_result r;
    tu_httpf("PUT", &main_box, NULL, "{\"fault_429\":1,\"retry_after\":2}", &r, "/_sandbox/faults");
    assert_int_equal(r.status, 200);
    tu_http_free(&r);

    char *token = mint_token(&main_box); /* the token endpoint is not faulted */
    char auth[128];
    const char *headers[] = {bearer(auth, sizeof(auth), token), NULL};
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants");
    assert_int_equal(r.status, 429);
    assert_string_equal(r.retry_after, "2");
    assert_non_null(json_object_get(r.json, "fault"));
    tu_http_free(&r);
    tu_httpf("GET", &main_box, NULL, NULL, &r, "/_sandbox/info");
    assert_int_equal(r.status, 200);
    tu_http_free(&r);

    /* A burst: exactly the next two requests. */
    tu_httpf("PUT", &main_box, NULL, "{\"fault_429\":0,\"fault_429_burst\":2}", &r,
             "/_sandbox/faults");
    tu_http_free(&r);
    for (int i = 0; i < 3; i++) {
        tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants");
        assert_int_equal(r.status, i < 2 ? 429 : 200);
        tu_http_free(&r);
    }
    tu_httpf("POST", &main_box, NULL, "", &r, "/_sandbox/faults/reset");
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "fault_429_burst")), 0);
    tu_http_free(&r);
    free(token);
}

static json_int_t stat_at(const json_t *stats, const char *group, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(stats, group), key));
}

static void stats_count_api_requests_only(void **state)
{
    (void)state;
    json_t *info;
    json_t *t = tenant_info(&main_box, 0, &info);
    char *token = mint_token(&main_box);
    char auth[128];
    const char *headers[] = {bearer(auth, sizeof(auth), token), NULL};
    pair(&main_box, auth, t);
    tu_http_result r;
    tu_httpf("POST", &main_box, NULL, "", &r, "/_sandbox/stats/reset");
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    tu_httpf("GET", &main_box, NULL, NULL, &r, "/_sandbox/requests?since=0&limit=1000000");
    json_int_t last_seq = json_integer_value(json_object_get(r.json, "lastSeq"));
    tu_http_free(&r);

    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s/practitioners",
             jstr(t, "tenantId"));
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(r.json));
    tu_http_free(&r);
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s/appointment-types",
             jstr(t, "tenantId"));
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s/status",
             jstr(t, "tenantId"));
    tu_http_free(&r);
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s/status",
             jstr(t, "tenantId"));
    tu_http_free(&r);
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s/patients/nope",
             jstr(t, "tenantId"));
    assert_int_equal(r.status, 404);
    tu_http_free(&r);

    tu_httpf("GET", &main_box, NULL, NULL, &r, "/_sandbox/stats");
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 5);
    assert_int_equal(stat_at(r.json, "byEndpoint", "gentu.practitioners"), 1);
    assert_int_equal(stat_at(r.json, "byEndpoint", "gentu.appointment_types"), 1);
    assert_int_equal(stat_at(r.json, "byEndpoint", "gentu.status"), 2);
    assert_int_equal(stat_at(r.json, "byEndpoint", "gentu.patient"), 1);
    assert_int_equal(stat_at(r.json, "byStatus", "200"), 4);
    assert_int_equal(stat_at(r.json, "byStatus", "404"), 1);
    assert_int_equal(stat_at(r.json, "faults", "429"), 0);
    tu_http_free(&r);

    tu_httpf("GET", &main_box, NULL, NULL, &r, "/_sandbox/requests?since=%lld",
             (long long)last_seq);
    json_t *list = json_object_get(r.json, "requests");
    assert_int_equal(json_array_size(list), 5);
    json_t *first = json_array_get(list, 0);
    assert_string_equal(jstr(first, "endpoint"), "gentu.practitioners");
    assert_string_equal(jstr(first, "tenantId"), jstr(t, "tenantId"));
    assert_string_equal(jstr(first, "pms"), "gentu");
    assert_true(json_integer_value(json_object_get(first, "finishedAt")) >=
                json_integer_value(json_object_get(first, "startedAt")));
    tu_http_free(&r);
    free(token);
    json_decref(info);
}

/* ---- Bookings API writes ------------------------------------------------------------------ */

static void send_json(const char *auth, const char *method, const char *body, tu_http_result *r,
                      const char *path)
{
    const char *headers[] = {auth, "Content-Type: application/json", NULL};
    tu_httpf(method, &main_box, headers, body, r, "%s", path);
}

/* The truth's entry of an appointment (a new reference), or NULL. */
static json_t *truth_entry(const char *tid, const char *day, const char *id)
{
    tu_http_result r;
    tu_httpf("GET", &main_box, NULL, NULL, &r, "/_sandbox/gentu/truth?tenantId=%s&from=%s&to=%s",
             tid, day, day);
    assert_int_equal(r.status, 200);
    json_t *found = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(r.json, "appointments"), i, a)
    {
        if (strcmp(jstr(a, "_id"), id) == 0)
            found = json_incref(a);
    }
    tu_http_free(&r);
    return found;
}

/* GET …/schedules for one practitioner and type over the tenant's today. */
static void schedules(const json_t *t, const char *auth, const char *pid, const char *type,
                      tu_http_result *r)
{
    const char *headers[] = {auth, NULL};
    char *from = tu_escape(jstr(t, "todayFrom")), *to = tu_escape(jstr(t, "todayTo"));
    tu_httpf("GET", &main_box, headers, NULL, r,
             "/gentu/v1/tenants/%s/schedules?fromDate=%s&toDate=%s&practitionerIds=%s"
             "&appointmentTypeIds=%s",
             jstr(t, "tenantId"), from, to, pid, type);
    free(from);
    free(to);
}

static void bookings_api_writes_apply_to_the_dataset(void **state)
{
    (void)state;
    json_t *info;
    json_t *t = tenant_info(&main_box, 1, &info);
    const char *tid = jstr(t, "tenantId");
    const char *pid =
        json_string_value(json_array_get(json_object_get(t, "bookPractitionerIds"), 0));
    const char *type =
        json_string_value(json_array_get(json_object_get(t, "appointmentTypeIds"), 0));
    char *token = mint_token(&main_box);
    char auth[128], path[256], body[1024];
    bearer(auth, sizeof(auth), token);
    pair(&main_box, auth, t);
    tu_http_result r;

    /* availability: working hours minus the day's appointments */
    schedules(t, auth, pid, type, &r);
    assert_int_equal(r.status, 200);
    json_t *first = json_array_get(json_object_get(r.json, "schedules"), 0);
    assert_string_equal(jstr(first, "practitionerId"), pid);
    assert_string_equal(jstr(first, "appointmentTypeId"), type);
    assert_int_equal(json_integer_value(json_object_get(first, "minutesDuration")), 15);
    json_t *free_time = json_array_get(json_object_get(first, "availabilities"), 0);
    assert_non_null(free_time);
    char start[64];
    snprintf(start, sizeof(start), "%s", jstr(free_time, "startAt"));
    tu_http_free(&r);

    /* booked there: 201 {id}, in the truth; the same time again is refused with 409 */
    snprintf(path, sizeof(path), "/gentu/v1/tenants/%s/appointments", tid);
    const char *patient = NULL;
    tu_http_result truth;
    tu_httpf("GET", &main_box, NULL, NULL, &truth,
             "/_sandbox/gentu/truth?tenantId=%s&from=%s&to=%s", tid, TODAY, TODAY);
    patient = jstr(json_array_get(json_object_get(truth.json, "appointments"), 0), "_patientId");
    snprintf(body, sizeof(body),
             "{\"appointmentTypeId\":\"%s\",\"duration\":15,\"patientId\":\"%s\","
             "\"practitionerId\":\"%s\",\"startsAt\":\"%s\",\"status\":\"none\"}",
             type, patient, pid, start);
    send_json(auth, "POST", body, &r, path);
    assert_int_equal(r.status, 201);
    char id[64];
    snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
    tu_http_free(&r);
    json_t *entry = truth_entry(tid, TODAY, id);
    assert_non_null(entry);
    assert_string_equal(jstr(entry, "_status"), "booked");
    assert_string_equal(jstr(entry, "_patientId"), patient);
    assert_int_equal(json_integer_value(json_object_get(entry, "_minutes")), 15);
    json_decref(entry);
    send_json(auth, "POST", body, &r, path);
    assert_int_equal(r.status, 409);
    assert_non_null(jstr(r.json, "message"));
    tu_http_free(&r);
    snprintf(body, sizeof(body),
             "{\"appointmentTypeId\":\"%s\",\"duration\":15,\"patientId\":\"%s\","
             "\"practitionerId\":\"%s\",\"startAt\":\"%s\",\"status\":\"none\"}",
             type, patient, pid, start);
    send_json(auth, "POST", body, &r, path); /* startAt is the read field, not the write one */
    assert_int_equal(r.status, 400);
    assert_string_equal(jstr(r.json, "message"), "Validation error");
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(json_array_get(json_object_get(r.json, "details"), 0), "path"), 1)),
        "startsAt");
    tu_http_free(&r);
    tu_http_free(&truth);

    /* no longer offered */
    schedules(t, auth, pid, type, &r);
    size_t i;
    json_t *a;
    json_array_foreach(
        json_object_get(json_array_get(json_object_get(r.json, "schedules"), 0), "availabilities"),
        i, a)
    {
        assert_true(strcmp(jstr(a, "startAt"), start) != 0);
    }
    tu_http_free(&r);

    /* cancelled with the configured body; then 409; the other body shape is refused */
    snprintf(path, sizeof(path), "/gentu/v1/tenants/%s/appointments/%s", tid, id);
    send_json(auth, "PATCH", "{\"status\":\"cancelled\"}", &r, path);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    send_json(auth, "PATCH", "{\"action\":\"cancel\"}", &r, path);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "id"), id);
    tu_http_free(&r);
    entry = truth_entry(tid, TODAY, id);
    assert_string_equal(jstr(entry, "_status"), "cancelled");
    json_decref(entry);
    send_json(auth, "PATCH", "{\"action\":\"cancel\"}", &r, path);
    assert_int_equal(r.status, 409);
    tu_http_free(&r);

    /* in the past: 422 */
    tu_httpf("GET", &main_box, NULL, NULL, &truth,
             "/_sandbox/gentu/truth?tenantId=%s&from=2026-04-04&to=2026-04-04", tid);
    snprintf(path, sizeof(path), "/gentu/v1/tenants/%s/appointments/%s", tid,
             jstr(json_array_get(json_object_get(truth.json, "appointments"), 0), "_id"));
    tu_http_free(&truth);
    send_json(auth, "PATCH", "{\"action\":\"cancel\"}", &r, path);
    assert_int_equal(r.status, 422);
    assert_string_equal(jstr(r.json, "message"),
                        "Unable to cancel an appointment that is in the past");
    tu_http_free(&r);

    /* patients: created, then listed by filters */
    snprintf(path, sizeof(path), "/gentu/v1/tenants/%s/patients", tid);
    send_json(auth, "POST",
              "{\"name\":{\"family\":\"Brightwater\",\"given\":\"Ada Jane\"},\"birthDate\":"
              "\"1971-03-09\",\"contact\":[{\"system\":\"phone\",\"use\":\"mobile\",\"value\":"
              "\"0491 570 156\"}]}",
              &r, path);
    assert_int_equal(r.status, 201);
    char patient_id[64];
    snprintf(patient_id, sizeof(patient_id), "%s", jstr(r.json, "id"));
    tu_http_free(&r);
    send_json(auth, "POST",
              "{\"name\":{\"family\":\"X\"},\"birthDate\":\"1971-03-09\",\"contact\":[{\"system\":"
              "\"fax\",\"value\":\"1\"}]}",
              &r, path);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    snprintf(path, sizeof(path), "/gentu/v1/tenants/%s/patients/list", tid);
    send_json(auth, "POST",
              "{\"filters\":{\"familyName\":\"brightwater\",\"mobilePhone\":\"+61491570156\"},"
              "\"pagination\":{\"limit\":10}}",
              &r, path);
    assert_int_equal(r.status, 200);
    json_t *found = json_object_get(r.json, "patients");
    assert_int_equal(json_array_size(found), 1);
    assert_string_equal(jstr(json_array_get(found, 0), "id"), patient_id);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 1);
    tu_http_free(&r);
    send_json(auth, "POST", "{\"filters\":{\"firstName\":\"Ada\"}}", &r, path);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    const char *headers[] = {auth, NULL};
    tu_httpf("GET", &main_box, headers, NULL, &r, "/gentu/v1/tenants/%s/patients/%s", tid,
             patient_id);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(json_object_get(r.json, "name"), "given"), "Ada Jane");
    tu_http_free(&r);

    /* the availability window is at most 90 days */
    tu_httpf("GET", &main_box, headers, NULL, &r,
             "/gentu/v1/tenants/%s/schedules?fromDate=2026-04-01T00%%3A00%%3A00%%2B11%%3A00"
             "&toDate=2026-07-01T00%%3A00%%3A00%%2B10%%3A00",
             tid);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    free(token);
    json_decref(info);
}

/* The truth of every tenant, serialised with sorted keys. */
static char *all_truth(const tu_sandbox *box)
{
    json_t *info;
    tenant_info(box, 0, &info);
    json_t *tenants = json_object_get(json_object_get(info, "gentu"), "tenants");
    json_t *all = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(tenants, i, t)
    {
        tu_http_result r;
        tu_httpf("GET", box, NULL, NULL, &r, "/_sandbox/gentu/truth?tenantId=%s",
                 jstr(t, "tenantId"));
        assert_int_equal(r.status, 200);
        assert_true(json_integer_value(json_object_get(r.json, "count")) > 100);
        json_array_append(all, r.json);
        tu_http_free(&r);
    }
    json_array_append(all, tenants);
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
    tu_httpf("GET", &box, NULL, NULL, &r, "/gentu/v1/tenants");
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
        cmocka_unit_test(listening_line_is_printed),
        cmocka_unit_test(token_flow_accepts_basic_auth_and_rejects_bad_credentials),
        cmocka_unit_test(pairing_enables_a_tenant_idempotently),
        cmocka_unit_test(page_walk_matches_ground_truth),
        cmocka_unit_test(validation_errors_name_the_parameter),
        cmocka_unit_test(dst_days_get_the_right_offsets),
        cmocka_unit_test(fault_429_carries_retry_after_and_spares_token_and_control),
        cmocka_unit_test(stats_count_api_requests_only),
        cmocka_unit_test(same_seed_gives_the_same_dataset),
        cmocka_unit_test(bookings_api_writes_apply_to_the_dataset),
        cmocka_unit_test(sigterm_stops_with_exit_0),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
