/* pmsd's parts that stand alone: route matching, configuration precedence, body validation
 * with field paths, and the metrics exposition. The server itself is tested over HTTP in
 * tests/integration/test_api.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/throttle.h"
#include "server/validate.h"
#include "testutil.h"

static const pmsd_route *match(const char *method, const char *path, char params[][128],
                               size_t *count, bool *mismatch, char *allow)
{
    const char *p[PMSD_MAX_PARAMS];
    return pmsd_route_match(method, path, p, count, params, mismatch, allow, 64);
}

static void routes_match_with_parameters(void **state)
{
    (void)state;
    char params[PMSD_MAX_PARAMS][128], allow[64];
    size_t n = 0;
    bool mismatch;
    const pmsd_route *r =
        match("GET", "/api/pms/connections/abc-123/sync", params, &n, &mismatch, allow);
    assert_non_null(r);
    assert_string_equal(r->pattern, "/api/pms/connections/{id}/sync");
    assert_int_equal(n, 1);
    assert_string_equal(params[0], "abc-123");

    r = match("POST", "/api/pms/connections/abc-123/sync", params, &n, &mismatch, allow);
    assert_non_null(r);
    assert_string_equal(r->method, "POST");

    /* A trailing slash is the same path; an extra segment is not. */
    assert_non_null(match("GET", "/api/run-sheet/", params, &n, &mismatch, allow));
    assert_null(match("GET", "/api/pms/connections/abc/sync/more", params, &n, &mismatch, allow));
    assert_false(mismatch);
    /* An empty id never matches {id}. */
    assert_null(match("GET", "/api/pms/connections//sync", params, &n, &mismatch, allow));
}

static void wrong_method_lists_the_allowed_ones(void **state)
{
    (void)state;
    char params[PMSD_MAX_PARAMS][128], allow[64];
    size_t n = 0;
    bool mismatch = false;
    assert_null(match("PUT", "/api/pms/connections/x", params, &n, &mismatch, allow));
    assert_true(mismatch);
    assert_non_null(strstr(allow, "GET"));
    assert_non_null(strstr(allow, "PATCH"));
    assert_non_null(strstr(allow, "DELETE"));
    assert_null(strstr(allow, "POST"));
    mismatch = false;
    assert_null(match("GET", "/nowhere", params, &n, &mismatch, allow));
    assert_false(mismatch);
}

static void every_route_is_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < pmsd_route_count; i++)
        for (size_t j = i + 1; j < pmsd_route_count; j++)
            if (strcmp(pmsd_routes[i].method, pmsd_routes[j].method) == 0 &&
                strcmp(pmsd_routes[i].pattern, pmsd_routes[j].pattern) == 0)
                fail_msg("%s %s twice", pmsd_routes[i].method, pmsd_routes[i].pattern);
}

static void configuration_layers(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char path[512];
    snprintf(path, sizeof path, "%s/pmsd.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# comment\nlisten = 127.0.0.1:9100\nhttp_threads = 3\nmax_parallel_syncs = 2\n"
          "scheduler = false\n",
          f);
    fclose(f);
    pmsd_config c;
    pmsd_config_defaults(&c);
    pms_error err = {0};
    assert_int_equal(pmsd_config_file(&c, path, &err), PMS_OK);
    assert_int_equal(c.port, 9100);
    assert_int_equal(c.http_threads, 3);
    assert_false(c.scheduler_enabled);
    /* The environment overrides the file; --set overrides both. */
    setenv("PMSYNC_MAX_PARALLEL_SYNCS", "6", 1);
    assert_int_equal(pmsd_config_env(&c, &err), PMS_OK);
    assert_int_equal(c.max_parallel_syncs, 6);
    unsetenv("PMSYNC_MAX_PARALLEL_SYNCS");
    assert_int_equal(pmsd_config_set(&c, "max_parallel_syncs", "8", &err), PMS_OK);
    assert_int_equal(c.max_parallel_syncs, 8);
    /* Bad values and keys are refused and named. */
    assert_int_equal(pmsd_config_set(&c, "http_threads", "0", &err), PMS_ERR_CONFIG);
    assert_non_null(strstr(err.message, "http_threads"));
    assert_int_equal(pmsd_config_set(&c, "no_such_key", "1", &err), PMS_ERR_CONFIG);
    assert_int_equal(pmsd_config_set(&c, "scheduler", "maybe", &err), PMS_ERR_CONFIG);
    /* Sessions: 12 hours and no Secure flag unless configured. */
    assert_int_equal(c.session_hours, 12);
    assert_false(c.cookie_secure);
    assert_int_equal(pmsd_config_set(&c, "cookie_secure", "true", &err), PMS_OK);
    assert_true(c.cookie_secure);
    assert_int_equal(pmsd_config_set(&c, "session_hours", "0", &err), PMS_ERR_CONFIG);
    assert_int_equal(pmsd_config_set(&c, "session_hours", "8", &err), PMS_OK);
    assert_int_equal(c.session_hours, 8);
    /* A bad line names the file and line. */
    f = fopen(path, "w");
    fputs("listen = 127.0.0.1:9100\nthis line has no equals\n", f);
    fclose(f);
    assert_int_equal(pmsd_config_file(&c, path, &err), PMS_ERR_CONFIG);
    assert_non_null(strstr(err.message, ":2"));
    pmsd_config_clear(&c);
    tu_rmtree(dir);
    free(dir);
}

static const char *error_field(const pmsd_response *resp)
{
    return json_string_value(json_object_get(json_object_get(resp->json, "error"), "field"));
}

static void validation_names_the_field(void **state)
{
    (void)state;
    json_t *body = json_loads("{\"mappings\":[{\"clinicianId\":5}],\"when\":\"2026-13-01\","
                              "\"n\":0,\"kind\":\"x\",\"typo\":1}",
                              0, NULL);
    pmsd_response resp = {0};
    const char *s;
    assert_false(pmsd_v_string(json_array_get(json_object_get(body, "mappings"), 0), "clinicianId",
                               "mappings[0]", true, 64, &s, &resp));
    assert_int_equal(resp.status, 400);
    assert_string_equal(error_field(&resp), "mappings[0].clinicianId");
    pmsd_response_clear(&resp);

    pms_date d;
    bool present;
    assert_false(pmsd_v_date(body, "when", NULL, true, &d, &present, &resp));
    assert_string_equal(error_field(&resp), "when");
    pmsd_response_clear(&resp);

    long n;
    assert_false(pmsd_v_int(body, "n", NULL, true, 1, 10, &n, &present, &resp));
    assert_string_equal(error_field(&resp), "n");
    pmsd_response_clear(&resp);

    static const char *const kinds[] = {"a", "b", NULL};
    assert_false(pmsd_v_enum(body, "kind", NULL, true, kinds, &s, &resp));
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(resp.json, "error"), "message")),
               "a, b"));
    pmsd_response_clear(&resp);

    static const char *const known[] = {"mappings", "when", "n", "kind", NULL};
    assert_false(pmsd_v_known_keys(body, known, NULL, &resp));
    assert_string_equal(error_field(&resp), "typo");
    pmsd_response_clear(&resp);

    assert_false(pmsd_v_string(body, "missing", NULL, true, 10, &s, &resp));
    assert_string_equal(error_field(&resp), "missing");
    pmsd_response_clear(&resp);
    json_decref(body);
}

static void metrics_in_prometheus_format(void **state)
{
    (void)state;
    pmsd_metrics *m;
    assert_int_equal(pmsd_metrics_new(&m), PMS_OK);
    pmsd_metrics_http(m, "GET", "/api/run-sheet", 200, 0.004);
    pmsd_metrics_http(m, "GET", "/api/run-sheet", 200, 0.2);
    pms_sync_counts counts = {.created = 3, .updated = 1};
    pmsd_metrics_sync(m, "gentu", "success", 1.5, &counts, 7, 2);
    pmsd_gauges g = {.syncs_running = 1, .connections = 4};
    char *text = pmsd_metrics_render(m, &g);
    assert_non_null(text);
    assert_non_null(strstr(text, "pmsd_http_requests_total{method=\"GET\",route=\"/api/run-sheet\","
                                 "status=\"200\"} 2\n"));
    assert_non_null(strstr(text, "pmsd_http_request_duration_seconds_bucket{route=\"/api/"
                                 "run-sheet\",le=\"0.005\"} 1\n"));
    assert_non_null(strstr(text, "pmsd_http_request_duration_seconds_count{route=\"/api/"
                                 "run-sheet\"} 2\n"));
    assert_non_null(strstr(text, "pmsd_syncs_total{pms=\"gentu\",status=\"success\"} 1\n"));
    assert_non_null(
        strstr(text, "pmsd_appointments_processed_total{pms=\"gentu\",outcome=\"created\"} 3\n"));
    assert_non_null(strstr(text, "pmsd_upstream_throttled_total{pms=\"gentu\"} 2\n"));
    assert_non_null(strstr(text, "pmsd_sync_duration_seconds_bucket{pms=\"gentu\",le=\"2\"} 1\n"));
    assert_non_null(strstr(text, "# TYPE pmsd_connections gauge\npmsd_connections 4\n"));
    free(text);
    pmsd_metrics_free(m);
}

static void failed_sign_ins_are_throttled_per_address(void **state)
{
    (void)state;
    pmsd_throttle *t;
    assert_int_equal(pmsd_throttle_new(3, 10, 300000, &t, NULL), PMS_OK);
    pms_instant now = 1000000;
    for (int i = 0; i < 9; i++)
        pmsd_throttle_failed(t, "10.0.0.1", now + i * 1000);
    assert_int_equal(pmsd_throttle_wait(t, "10.0.0.1", now + 9000), 0);
    pmsd_throttle_failed(t, "10.0.0.1", now + 9000);
    /* Ten failures within five minutes: wait until the first is five minutes old. */
    assert_int_equal(pmsd_throttle_wait(t, "10.0.0.1", now + 10000), 290);
    assert_int_equal(pmsd_throttle_wait(t, "10.0.0.2", now + 10000), 0); /* others may */
    assert_int_equal(pmsd_throttle_wait(t, "10.0.0.1", now + 299500), 1);
    assert_int_equal(pmsd_throttle_wait(t, "10.0.0.1", now + 300000), 0);
    /* One more failure then: the window holds ten again (the second to the eleventh). */
    pmsd_throttle_failed(t, "10.0.0.1", now + 300000);
    assert_int_equal(pmsd_throttle_wait(t, "10.0.0.1", now + 300000), 1);
    /* The table stays within its size: stale addresses make room, then the oldest. */
    pmsd_throttle_failed(t, "10.0.0.2", now + 300000);
    pmsd_throttle_failed(t, "10.0.0.3", now + 300001);
    assert_int_equal(pmsd_throttle_size(t), 3);
    pmsd_throttle_failed(t, "10.0.0.4", now + 300002);
    assert_int_equal(pmsd_throttle_size(t), 3);
    assert_int_equal(pmsd_throttle_wait(t, "10.0.0.4", now + 300002), 0);
    pmsd_throttle_free(t);
    assert_int_equal(pmsd_throttle_new(3, 0, 300000, &t, NULL), PMS_ERR_INVALID);
    assert_null(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_match_with_parameters),
        cmocka_unit_test(wrong_method_lists_the_allowed_ones),
        cmocka_unit_test(every_route_is_unique),
        cmocka_unit_test(configuration_layers),
        cmocka_unit_test(validation_names_the_field),
        cmocka_unit_test(metrics_in_prometheus_format),
        cmocka_unit_test(failed_sign_ins_are_throttled_per_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
