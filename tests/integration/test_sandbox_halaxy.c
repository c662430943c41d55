/* pms-sandbox's Halaxy simulator over real HTTP: the User-Agent rule, JSON client-credentials
 * tokens per practice, expiry as an OperationOutcome, Bundle pages walked by their next links
 * against ground truth, date prefixes and their variant, meetings, reference styles, the
 * location-type variant, roles and other resources, DST-day offsets, controls, faults in
 * Halaxy's style, stats, determinism and clean shutdown.
 *
 * Starts the built binary (PMS_SANDBOX_BIN) as child processes on ephemeral ports. Every child
 * is stopped in teardown (even after a failed assertion) and must exit 0 on SIGTERM, which under
 * ASan also means no leaks. libcurl sends no User-Agent unless told, so requests here name one.
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

#define TODAY      "2026-04-05" /* clocks go back in Melbourne, Adelaide and Lord Howe */
#define USER_AGENT "User-Agent: pmsync-tests/1.0"

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
    json_t *p = json_array_get(json_object_get(json_object_get(*info, "halaxy"), "practices"), i);
    assert_non_null(p);
    return p;
}

static void token_request(const tu_sandbox *box, const json_t *practice, const char *secret,
                          bool user_agent, tu_http_result *r)
{
    char body[256];
    snprintf(
        body, sizeof(body),
        "{\"grant_type\":\"client_credentials\",\"client_id\":\"%s\",\"client_secret\":\"%s\"}",
        jstr(practice, "clientId"), secret != NULL ? secret : jstr(practice, "clientSecret"));
    const char *headers[] = {"Content-Type: application/json", user_agent ? USER_AGENT : NULL,
                             NULL};
    tu_httpf("POST", box, headers, body, r, "/halaxy/main/oauth/token");
}

/* A fresh token for the practice; the caller frees it. */
static char *mint(const tu_sandbox *box, const json_t *practice)
{
    tu_http_result r;
    token_request(box, practice, NULL, true, &r);
    assert_int_equal(r.status, 200);
    char *token = strdup(jstr(r.json, "access_token"));
    tu_http_free(&r);
    return token;
}

/* A GET with the User-Agent and (when not NULL) the bearer token; path or absolute URL. */
static void fhir_get(const tu_sandbox *box, const char *token, tu_http_result *r, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static void fhir_get(const tu_sandbox *box, const char *token, tu_http_result *r, const char *fmt,
                     ...)
{
    char target[2048], auth[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(target, sizeof(target), fmt, ap);
    va_end(ap);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token != NULL ? token : "");
    const char *headers[] = {USER_AGENT, token != NULL ? auth : NULL, NULL};
    if (strncmp(target, "http", 4) == 0)
        tu_http("GET", target, headers, NULL, r);
    else
        tu_httpf("GET", box, headers, NULL, r, "%s", target);
}

static void put_settings(const tu_sandbox *box, const char *json)
{
    json_decref(tu_sandbox_json(box, "PUT", "/_sandbox/halaxy/settings", json));
}

static json_t *truth(const tu_sandbox *box, const char *client_id, const char *from, const char *to)
{
    char path[256];
    snprintf(path, sizeof(path), "/_sandbox/halaxy/truth?practice=%s&from=%s&to=%s", client_id,
             from, to);
    return tu_sandbox_json(box, "GET", path, NULL);
}

static const char *issue_code(const json_t *outcome)
{
    assert_string_equal(jstr(outcome, "resourceType"), "OperationOutcome");
    return jstr(json_array_get(json_object_get(outcome, "issue"), 0), "code");
}

/* The link of a relation in a Bundle, or NULL. */
static const char *bundle_link(const json_t *bundle, const char *relation)
{
    size_t i;
    json_t *link;
    json_array_foreach(json_object_get(bundle, "link"), i, link)
    {
        if (strcmp(jstr(link, "relation"), relation) == 0)
            return jstr(link, "url");
    }
    return NULL;
}

/* The Patient participant of an appointment resource, or NULL. */
static const json_t *patient_participant(const json_t *appt)
{
    size_t i;
    json_t *part;
    json_array_foreach(json_object_get(appt, "participant"), i, part)
    {
        const char *type = jstr(json_object_get(part, "actor"), "type");
        if (type != NULL && strcmp(type, "Patient") == 0)
            return part;
    }
    return NULL;
}

static const char *const appointment_keys[] = {
    "resourceType",    "id",      "meta",
    "description",     "start",   "end",
    "minutesDuration", "created", "supportingInformation",
    "participant",
};

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

static void user_agent_is_required_everywhere(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    tu_http_result r;
    token_request(&main_box, p, NULL, false, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(issue_code(r.json), "forbidden");
    tu_http_free(&r);
    char *token = mint(&main_box, p);
    char auth[256];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    const char *no_agent[] = {auth, NULL};
    tu_httpf("GET", &main_box, no_agent, NULL, &r, "/halaxy/main/Appointment?date=eq%s", TODAY);
    assert_int_equal(r.status, 403);
    tu_http_free(&r);
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment?date=eq%s", TODAY);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    free(token);
    json_decref(info);
}

static void tokens_belong_to_one_practice_and_expire(void **state)
{
    (void)state;
    json_t *info;
    json_t *p0 = practice_info(&main_box, 0, &info);
    json_t *p1 = json_array_get(json_object_get(json_object_get(info, "halaxy"), "practices"), 1);
    assert_int_equal(jint(json_object_get(info, "halaxy"), "tokenLifetime"), 900);
    tu_http_result r;
    token_request(&main_box, p0, NULL, true, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "token_type"), "Bearer");
    assert_int_equal(jint(r.json, "expires_in"), 3600); /* says 3600, lasts 900 */
    char *token = strdup(jstr(r.json, "access_token"));
    tu_http_free(&r);
    token_request(&main_box, p0, "wrong", true, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(jstr(r.json, "error"), "invalid_client");
    tu_http_free(&r);

    /* The token sees only its practice: another practice's appointment is not found. */
    json_t *t1 = truth(&main_box, jstr(p1, "clientId"), TODAY, TODAY);
    const char *other = jstr(json_array_get(json_object_get(t1, "appointments"), 0), "_id");
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment/%s", other);
    assert_int_equal(r.status, 404);
    assert_string_equal(issue_code(r.json), "not-found");
    tu_http_free(&r);
    json_decref(t1);

    fhir_get(&main_box, NULL, &r, "/halaxy/main/Patient?family=a");
    assert_int_equal(r.status, 401);
    assert_string_equal(issue_code(r.json), "login");
    tu_http_free(&r);

    /* Expired: an OperationOutcome with code "expired", 401 or the configured status. */
    json_decref(tu_sandbox_json(&main_box, "POST", "/_sandbox/halaxy/tokens/expire", ""));
    fhir_get(&main_box, token, &r, "/halaxy/main/Practitioner");
    assert_int_equal(r.status, 401);
    assert_string_equal(issue_code(r.json), "expired");
    tu_http_free(&r);
    put_settings(&main_box, "{\"expired_status\":403,\"expires_in\":900}");
    fhir_get(&main_box, token, &r, "/halaxy/main/Practitioner");
    assert_int_equal(r.status, 403);
    assert_string_equal(issue_code(r.json), "expired");
    tu_http_free(&r);
    token_request(&main_box, p0, NULL, true, &r);
    assert_int_equal(jint(r.json, "expires_in"), 900);
    tu_http_free(&r);
    put_settings(&main_box, "{\"expired_status\":401,\"expires_in\":3600}");
    free(token);

    /* Tokens really last token_lifetime, whatever expires_in says. */
    json_decref(tu_sandbox_json(&main_box, "PUT", "/_sandbox/faults", "{\"token_lifetime\":1}"));
    token = mint(&main_box, p0);
    tu_sleep_ms(1100);
    fhir_get(&main_box, token, &r, "/halaxy/main/Practitioner");
    assert_int_equal(r.status, 401);
    tu_http_free(&r);
    json_decref(tu_sandbox_json(&main_box, "POST", "/_sandbox/faults/reset", ""));
    free(token);
    json_decref(info);
}

static void bundle_pages_walked_by_next_links_match_truth(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    char *token = mint(&main_box, p);
    json_t *t = truth(&main_box, jstr(p, "clientId"), TODAY, TODAY);
    json_t *expected = json_object_get(t, "appointments");
    assert_true(json_array_size(expected) > 20);

    char url[2048];
    snprintf(url, sizeof(url), "/halaxy/main/Appointment?date=eq%s&_count=50", TODAY);
    size_t walked = 0, cancelled = 0;
    json_t *seen = json_object();
    for (int pages = 0;; pages++) {
        tu_http_result r;
        fhir_get(&main_box, token, &r, "%s", url);
        assert_int_equal(r.status, 200);
        assert_string_equal(jstr(r.json, "resourceType"), "Bundle");
        assert_string_equal(jstr(r.json, "type"), "searchset");
        assert_int_equal(jint(r.json, "total"), json_array_size(expected));
        assert_non_null(bundle_link(r.json, "self"));
        assert_non_null(bundle_link(r.json, "last"));
        json_t *entries = json_object_get(r.json, "entry");
        assert_true(json_array_size(entries) <= 3); /* --page-size 3 caps _count=50 */
        size_t i;
        json_t *e;
        json_array_foreach(entries, i, e)
        {
            json_t *a = json_object_get(e, "resource");
            const char *id = jstr(a, "id");
            assert_null(json_object_get(seen, id)); /* no duplicates */
            json_object_set_new(seen, id, json_true());
            assert_non_null(strstr(jstr(e, "fullUrl"), "/halaxy/main/Appointment/"));
            json_t *want = json_array_get(expected, walked++);
            assert_string_equal(id, jstr(want, "_id"));
            const char *key;
            json_t *value;
            json_object_foreach(a, key, value)
            {
                bool known = false;
                for (size_t k = 0; k < sizeof(appointment_keys) / sizeof(appointment_keys[0]); k++)
                    known = known || strcmp(key, appointment_keys[k]) == 0;
                assert_true(known);
                assert_true(json_equal(value, json_object_get(want, key)));
            }
            cancelled += strcmp(jstr(want, "_status") != NULL ? jstr(want, "_status") : "",
                                "cancelled") == 0;
        }
        const char *next = bundle_link(r.json, "next");
        if (next == NULL) {
            tu_http_free(&r);
            break;
        }
        assert_non_null(strstr(next, "page="));
        assert_int_equal(strncmp(next, main_box.base, strlen(main_box.base)), 0);
        snprintf(url, sizeof(url), "%s", next);
        tu_http_free(&r);
        assert_true(pages < 100);
    }
    assert_int_equal(walked, json_array_size(expected));
    assert_true(cancelled > 0); /* cancelled appointments are included */
    json_decref(seen);
    json_decref(t);
    free(token);
    json_decref(info);
}

static json_int_t search_total(const char *token, const char *query)
{
    tu_http_result r;
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment?%s", query);
    assert_int_equal(r.status, 200);
    json_int_t total = jint(r.json, "total");
    tu_http_free(&r);
    return total;
}

static void date_prefixes_and_their_variant(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    char *token = mint(&main_box, p);
    const char *client = jstr(p, "clientId");
    json_t *day5 = truth(&main_box, client, "2026-04-05", "2026-04-05");
    json_t *day6 = truth(&main_box, client, "2026-04-06", "2026-04-06");
    json_t *week = truth(&main_box, client, "2026-04-05", "2026-04-11");
    json_int_t n5 = jint(day5, "count"), n6 = jint(day6, "count"), nweek = jint(week, "count");

    assert_int_equal(search_total(token, "date=eq2026-04-05"), n5);
    assert_int_equal(search_total(token, "date=2026-04-05"), n5);
    assert_int_equal(search_total(token, "date=ge2026-04-05&date=le2026-04-11"), nweek);
    assert_int_equal(search_total(token, "date=ge2026-04-05&date=lt2026-04-06"), n5);
    assert_int_equal(search_total(token, "date=gt2026-04-04&date=lt2026-04-06"), n5);
    /* Date-times with offsets (the + encoded): the local day 2026-04-05 spans +11:00 to +10:00. */
    assert_int_equal(search_total(token, "date=ge2026-04-05T00:00:00%2B11:00"
                                         "&date=lt2026-04-06T00:00:00%2B10:00"),
                     n5);
    /* Two plain dates overwrite each other: the last wins. */
    assert_int_equal(search_total(token, "date=2026-04-05&date=2026-04-06"), n6);

    tu_http_result r;
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment?date=ge2026-04-05T00:00:00+11:00");
    assert_int_equal(r.status, 400); /* an unencoded + arrives as a space */
    assert_string_equal(issue_code(r.json), "invalid");
    tu_http_free(&r);
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment?date=ne2026-04-05");
    assert_int_equal(r.status, 400);
    assert_string_equal(issue_code(r.json), "not-supported");
    tu_http_free(&r);

    put_settings(&main_box, "{\"no_range_prefixes\":true}");
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment?date=ge2026-04-05&date=le2026-04-11");
    assert_int_equal(r.status, 400);
    assert_string_equal(issue_code(r.json), "not-supported");
    tu_http_free(&r);
    assert_int_equal(search_total(token, "date=eq2026-04-05"), n5);
    put_settings(&main_box, "{\"no_range_prefixes\":false}");
    json_decref(day5);
    json_decref(day6);
    json_decref(week);
    free(token);
    json_decref(info);
}

static void meetings_have_no_patient(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    char *token = mint(&main_box, p);
    json_t *t = truth(&main_box, jstr(p, "clientId"), TODAY, TODAY);
    size_t meetings = 0, i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (strcmp(jstr(a, "_kind"), "meeting") != 0) {
            assert_non_null(patient_participant(a));
            continue;
        }
        meetings++;
        assert_null(patient_participant(a));
        assert_true(json_is_null(json_object_get(a, "_patientId")));
        tu_http_result r;
        fhir_get(&main_box, token, &r, "/halaxy/main/Appointment/%s", jstr(a, "_id"));
        assert_int_equal(r.status, 200);
        assert_null(patient_participant(r.json));
        assert_int_equal(json_array_size(json_object_get(r.json, "participant")), 1);
        tu_http_free(&r);
    }
    assert_true(meetings >= 1);
    json_decref(t);
    free(token);
    json_decref(info);
}

/* The references of the first page of TODAY's appointments. */
static json_t *served_references(const char *token)
{
    tu_http_result r;
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment?date=eq%s", TODAY);
    assert_int_equal(r.status, 200);
    json_t *refs = json_array();
    size_t i, j;
    json_t *e, *part;
    json_array_foreach(json_object_get(r.json, "entry"), i, e)
    {
        json_array_foreach(json_object_get(json_object_get(e, "resource"), "participant"), j, part)
            json_array_append(refs, json_object_get(json_object_get(part, "actor"), "reference"));
    }
    tu_http_free(&r);
    return refs;
}

static void reference_styles(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    char *token = mint(&main_box, p);
    char absolute[128];
    snprintf(absolute, sizeof(absolute), "%s/halaxy/main/", main_box.base);
    static const char *const styles[] = {"absolute", "relative", "bare"};
    for (size_t s = 0; s < 3; s++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"reference_style\":\"%s\"}", styles[s]);
        put_settings(&main_box, body);
        json_t *refs = served_references(token);
        assert_true(json_array_size(refs) >= 3);
        size_t i;
        json_t *ref;
        json_array_foreach(refs, i, ref)
        {
            const char *v = json_string_value(ref);
            if (s == 0)
                assert_int_equal(strncmp(v, absolute, strlen(absolute)), 0);
            else if (s == 1)
                assert_int_equal(strncmp(v, "/main/", 6), 0);
            else
                assert_true(v[0] != '/' && strncmp(v, "http", 4) != 0 && strchr(v, '/') != NULL);
        }
        json_decref(refs);
    }
    /* Mixed: over a few pages, more than one form. */
    put_settings(&main_box, "{\"reference_style\":\"mixed\"}");
    json_t *truth_day = truth(&main_box, jstr(p, "clientId"), TODAY, TODAY);
    bool forms[3] = {false, false, false};
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(truth_day, "appointments"), i, a)
    {
        const char *v =
            jstr(json_object_get(json_array_get(json_object_get(a, "participant"), 0), "actor"),
                 "reference");
        forms[strncmp(v, "http", 4) == 0 ? 0 : v[0] == '/' ? 1 : 2] = true;
    }
    assert_true(forms[0] + forms[1] + forms[2] >= 2);
    put_settings(&main_box, "{\"reference_style\":\"absolute\"}");
    json_decref(truth_day);
    free(token);
    json_decref(info);
}

/* The location-type entry of an appointment's supportingInformation, or NULL. */
static const char *location_type(const json_t *appt)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(appt, "supportingInformation"), i, item)
    {
        const char *name = jstr(item, "name");
        if (name != NULL && strcmp(name, "location-type") == 0)
            return jstr(item, "valueCode");
    }
    return NULL;
}

static void location_type_variant_drives_telehealth(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    const char *client = jstr(p, "clientId");
    json_t *t = truth(&main_box, client, "2026-03-29", "2026-04-19");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a) assert_null(location_type(a));
    json_decref(t);

    put_settings(&main_box, "{\"location_type\":true}");
    t = truth(&main_box, client, "2026-03-29", "2026-04-19");
    size_t disagree = 0;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (strcmp(jstr(a, "_kind"), "meeting") == 0)
            continue;
        const char *code = location_type(a);
        assert_non_null(code);
        bool telehealth = strcmp(code, "telehealth") == 0;
        assert_true(json_is_true(json_object_get(a, "_telehealth")) == telehealth);
        if (telehealth != (strcmp(code, "clinic") != 0))
            continue; /* phone */
        /* The name rule says otherwise now and then. */
        json_t *services = json_object_get(p, "telehealthHealthcareServiceIds");
        bool by_name = false;
        size_t k;
        json_t *id;
        json_array_foreach(services, k, id) by_name =
            by_name || strcmp(json_string_value(id), jstr(a, "_appointmentTypeId")) == 0;
        disagree += by_name != telehealth;
    }
    assert_true(disagree > 0);
    json_decref(t);
    put_settings(&main_box, "{\"location_type\":false}");
    json_decref(info);
}

static void roles_practitioners_services_and_patients(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    char *token = mint(&main_box, p);
    tu_http_result r;

    fhir_get(&main_box, token, &r, "/halaxy/main/PractitionerRole?_count=50");
    assert_int_equal(r.status, 200);
    json_int_t roles = jint(r.json, "total");
    assert_int_equal(roles, json_array_size(json_object_get(p, "practitionerRoleIds")));
    tu_http_free(&r);

    /* Appointments on an EP- role belong to the same Practitioner as its PR- role. */
    json_t *t = truth(&main_box, jstr(p, "clientId"), "2026-03-29", "2026-04-19");
    bool external = false;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        const char *role = jstr(a, "_practitionerRoleId");
        if (strncmp(role, "EP-", 3) != 0 || external)
            continue;
        external = true;
        fhir_get(&main_box, token, &r, "/halaxy/main/PractitionerRole/%s", role);
        assert_int_equal(r.status, 200);
        const char *ref = jstr(json_object_get(r.json, "practitioner"), "reference");
        const char *practitioner = strrchr(ref, '/') + 1;
        assert_string_equal(practitioner, jstr(a, "_practitionerId"));
        tu_http_free(&r);
        fhir_get(&main_box, token, &r, "/halaxy/main/Practitioner/%s", jstr(a, "_practitionerId"));
        assert_int_equal(r.status, 200);
        json_t *name = json_array_get(json_object_get(r.json, "name"), 0);
        assert_string_equal(jstr(name, "use"), "official");
        assert_string_equal(json_string_value(json_array_get(json_object_get(name, "prefix"), 0)),
                            "Dr");
        tu_http_free(&r);
    }
    assert_true(external);

    fhir_get(&main_box, token, &r, "/halaxy/main/Practitioner?active=false");
    assert_int_equal(jint(r.json, "total"), 1);
    tu_http_free(&r);
    fhir_get(&main_box, token, &r, "/halaxy/main/HealthcareService?_count=50");
    assert_int_equal(r.status, 200);
    json_t *e;
    json_array_foreach(json_object_get(r.json, "entry"), i, e)
    {
        const char *name = jstr(json_object_get(e, "resource"), "name");
        bool telehealth = strstr(name, "Telehealth") != NULL || strstr(name, "Video") != NULL ||
                          strstr(name, "Phone") != NULL;
        bool listed = false;
        size_t k;
        json_t *id;
        json_array_foreach(json_object_get(p, "telehealthHealthcareServiceIds"), k, id) listed =
            listed ||
            strcmp(json_string_value(id), jstr(json_object_get(e, "resource"), "id")) == 0;
        assert_true(telehealth == listed);
    }
    tu_http_free(&r);

    const char *patient = jstr(json_array_get(json_object_get(t, "appointments"), 0), "_patientId");
    fhir_get(&main_box, token, &r, "/halaxy/main/Patient/%s", patient);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "resourceType"), "Patient");
    assert_int_equal(strlen(jstr(r.json, "birthDate")), 10);
    tu_http_free(&r);

    /* No writes: PATCH on a Practitioner is 405 with an empty body; DELETE is 405. */
    const char *headers[] = {USER_AGENT, "Content-Type: application/merge-patch+json", NULL};
    tu_httpf("PATCH", &main_box, headers, "{\"active\":false}", &r, "/halaxy/main/Practitioner/%s",
             json_string_value(json_array_get(json_object_get(p, "practitionerIds"), 0)));
    assert_int_equal(r.status, 405);
    assert_true(r.len == 0);
    tu_http_free(&r);
    tu_httpf("DELETE", &main_box, headers, NULL, &r, "/halaxy/main/Appointment/1");
    assert_int_equal(r.status, 405);
    tu_http_free(&r);
    json_decref(t);
    free(token);
    json_decref(info);
}

/* The starts served that begin with `prefix` on a DST day, in order. */
static void assert_starts(const tu_sandbox *box, const json_t *p, const char *day,
                          const char *prefix, const char *const *starts, const char *const *utc,
                          size_t n)
{
    json_t *t = truth(box, jstr(p, "clientId"), day, day);
    size_t found = 0, i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (strncmp(jstr(a, "start"), prefix, strlen(prefix)) != 0)
            continue;
        assert_true(found < n);
        assert_string_equal(jstr(a, "start"), starts[found]);
        assert_string_equal(jstr(a, "_startUtc"), utc[found]);
        found++;
    }
    assert_int_equal(found, n);
    json_decref(t);
}

static void dst_days_carry_explicit_offsets(void **state)
{
    (void)state;
    json_t *info;
    practice_info(&main_box, 0, &info);
    json_t *practices = json_object_get(json_object_get(info, "halaxy"), "practices");
    /* Fall back: both occurrences of the repeated time, told apart by their offsets. */
    const char *melbourne[] = {"2026-04-05T02:30:00+11:00", "2026-04-05T02:30:00+10:00"};
    const char *melbourne_utc[] = {"2026-04-04T15:30:00.000Z", "2026-04-04T16:30:00.000Z"};
    assert_starts(&main_box, json_array_get(practices, 0), TODAY, "2026-04-05T02:30", melbourne,
                  melbourne_utc, 2);
    const char *lord_howe[] = {"2026-04-05T01:45:00+11:00", "2026-04-05T01:45:00+10:30"};
    const char *lord_howe_utc[] = {"2026-04-04T14:45:00.000Z", "2026-04-04T15:15:00.000Z"};
    assert_starts(&main_box, json_array_get(practices, 2), TODAY, "2026-04-05T01:45", lord_howe,
                  lord_howe_utc, 2);
    json_decref(info);

    /* Spring forward: a wall time in the gap, written with the offset before the change. */
    static tu_sandbox spring; /* static: teardown stops it if an assertion fails */
    const char *args[] = {"--seed", "7", "--today", "2026-10-04", NULL};
    assert_int_equal(tu_sandbox_start(&spring, args), 0);
    practice_info(&spring, 0, &info);
    practices = json_object_get(json_object_get(info, "halaxy"), "practices");
    const char *gap[] = {"2026-10-04T02:30:00+10:00"};
    const char *gap_utc[] = {"2026-10-03T16:30:00.000Z"};
    assert_starts(&spring, json_array_get(practices, 0), "2026-10-04", "2026-10-04T02:", gap,
                  gap_utc, 1);
    const char *lh_gap[] = {"2026-10-04T02:15:00+10:30"};
    const char *lh_gap_utc[] = {"2026-10-03T15:45:00.000Z"};
    assert_starts(&spring, json_array_get(practices, 2), "2026-10-04", "2026-10-04T02:", lh_gap,
                  lh_gap_utc, 1);
    json_decref(info);
    assert_int_equal(tu_sandbox_stop(&spring), 0);
}

static void control_changes_show_in_the_api(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    const char *client = jstr(p, "clientId");
    const char *practitioner =
        json_string_value(json_array_get(json_object_get(p, "practitionerIds"), 0));
    char *token = mint(&main_box, p);
    char body[256], path[256];
    snprintf(path, sizeof(path), "/_sandbox/halaxy/practices/%s/appointments", client);
    snprintf(body, sizeof(body),
             "{\"practitionerId\":\"%s\",\"start\":\"2026-04-08T12:30\",\"patientId\":null,"
             "\"minutes\":45,\"notes\":\"Lunch\"}",
             practitioner);
    json_t *meeting = tu_sandbox_json(&main_box, "POST", path, body);
    assert_string_equal(jstr(meeting, "_kind"), "meeting");
    assert_string_equal(jstr(meeting, "start"), "2026-04-08T12:30:00+10:00");
    assert_string_equal(jstr(meeting, "_practitionerId"), practitioner);
    char meeting_id[32];
    snprintf(meeting_id, sizeof(meeting_id), "%s", jstr(meeting, "_id"));
    json_decref(meeting);

    snprintf(body, sizeof(body),
             "{\"practitionerId\":\"%s\",\"start\":\"2026-04-08T15:00\",\"status\":\"confirmed\"}",
             practitioner);
    json_t *created = tu_sandbox_json(&main_box, "POST", path, body);
    assert_string_equal(jstr(created, "_status"), "confirmed");
    char id[32];
    snprintf(id, sizeof(id), "%s", jstr(created, "_id"));
    json_decref(created);
    snprintf(path, sizeof(path), "/_sandbox/halaxy/practices/%s/appointments/%s", client, id);
    json_t *patched =
        tu_sandbox_json(&main_box, "PATCH", path, "{\"status\":\"cancelled (no charge)\"}");
    assert_string_equal(jstr(patched, "_status"), "cancelled");
    assert_string_equal(jstr(json_object_get(patched, "meta"), "versionId"), "2");
    json_decref(patched);

    tu_http_result r;
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment/%s", id);
    assert_int_equal(r.status, 200);
    const json_t *part = patient_participant(r.json);
    json_t *coding = json_object_get(json_array_get(json_object_get(part, "modifierExtension"), 0),
                                     "valueCoding");
    assert_string_equal(jstr(coding, "code"), "cancelled (no charge)");
    tu_http_free(&r);
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment/%s", meeting_id);
    assert_int_equal(r.status, 200);
    assert_null(patient_participant(r.json));
    tu_http_free(&r);

    json_decref(tu_sandbox_json(&main_box, "DELETE", path, NULL));
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment/%s", id);
    assert_int_equal(r.status, 404);
    tu_http_free(&r);
    free(token);
    json_decref(info);
}

static void faults_use_halaxy_error_style(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 0, &info);
    char *token = mint(&main_box, p); /* the token endpoint is not faulted */
    tu_http_result r;
    json_decref(tu_sandbox_json(&main_box, "PUT", "/_sandbox/faults",
                                "{\"fault_429\":1,\"retry_after\":3}"));
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment?date=eq%s", TODAY);
    assert_int_equal(r.status, 429);
    assert_string_equal(r.retry_after, "3");
    assert_string_equal(issue_code(r.json), "throttled");
    tu_http_free(&r);
    json_decref(
        tu_sandbox_json(&main_box, "PUT", "/_sandbox/faults", "{\"fault_429\":0,\"fault_5xx\":1}"));
    for (int i = 0; i < 4; i++) {
        fhir_get(&main_box, token, &r, "/halaxy/main/Practitioner");
        assert_true(r.status >= 500 && r.status <= 504);
        assert_string_equal(issue_code(r.json), "exception");
        tu_http_free(&r);
    }

    json_decref(tu_sandbox_json(&main_box, "PUT", "/_sandbox/faults",
                                "{\"fault_5xx\":0,\"fault_malformed\":0.5}"));
    json_t *t = truth(&main_box, jstr(p, "clientId"), TODAY, TODAY);
    size_t malformed = 0, i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (!json_is_true(json_object_get(a, "_malformed")))
            continue;
        malformed++;
        assert_non_null(jstr(a, "_malformedKind"));
        fhir_get(&main_box, token, &r, "/halaxy/main/Appointment/%s", jstr(a, "_id"));
        assert_int_equal(r.status, 200);
        bool same = true;
        const char *key;
        json_t *value;
        json_object_foreach(a, key, value)
        {
            if (key[0] != '_')
                same = same && json_equal(value, json_object_get(r.json, key));
        }
        assert_false(same);
        tu_http_free(&r);
    }
    assert_true(malformed > 0);
    json_decref(t);
    json_decref(tu_sandbox_json(&main_box, "POST", "/_sandbox/faults/reset", ""));
    free(token);
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
    char *token = mint(&main_box, p);
    json_decref(tu_sandbox_json(&main_box, "POST", "/_sandbox/stats/reset", ""));
    json_t *log =
        tu_sandbox_json(&main_box, "GET", "/_sandbox/requests?since=0&limit=1000000", NULL);
    json_int_t last_seq = jint(log, "lastSeq");
    json_decref(log);
    static const char *const paths[] = {
        "/halaxy/main/Appointment?date=eq2026-04-05",
        "/halaxy/main/PractitionerRole",
        "/halaxy/main/Practitioner",
        "/halaxy/main/HealthcareService",
        "/halaxy/main/Patient/1",
    };
    for (size_t i = 0; i < 5; i++) {
        tu_http_result r;
        fhir_get(&main_box, token, &r, "%s", paths[i]);
        tu_http_free(&r);
    }
    json_t *stats = tu_sandbox_json(&main_box, "GET", "/_sandbox/stats", NULL);
    assert_int_equal(jint(stats, "total"), 5);
    assert_int_equal(endpoint_count(stats, "halaxy.appointments"), 1);
    assert_int_equal(endpoint_count(stats, "halaxy.practitioner_roles"), 1);
    assert_int_equal(endpoint_count(stats, "halaxy.practitioners"), 1);
    assert_int_equal(endpoint_count(stats, "halaxy.healthcare_services"), 1);
    assert_int_equal(endpoint_count(stats, "halaxy.patient"), 1);
    json_decref(stats);
    char path[96];
    snprintf(path, sizeof(path), "/_sandbox/requests?since=%lld", (long long)last_seq);
    log = tu_sandbox_json(&main_box, "GET", path, NULL);
    json_t *first = json_array_get(json_object_get(log, "requests"), 0);
    assert_string_equal(jstr(first, "pms"), "halaxy");
    assert_string_equal(jstr(first, "endpoint"), "halaxy.appointments");
    assert_string_equal(jstr(first, "tenantId"), jstr(p, "clientId"));
    json_decref(log);
    free(token);
    json_decref(info);
}

/* A write with the User-Agent, the bearer token and a content type. */
static void fhir_send(const char *token, const char *method, const char *type, const char *body,
                      tu_http_result *r, const char *path)
{
    char auth[256], content[128];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    snprintf(content, sizeof(content), "Content-Type: %s", type);
    const char *headers[] = {USER_AGENT, auth, content, NULL};
    tu_httpf(method, &main_box, headers, body, r, "%s", path);
}

static json_t *truth_entry(const json_t *p, const char *id)
{
    json_t *t = truth(&main_box, jstr(p, "clientId"), TODAY, TODAY), *found = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (strcmp(jstr(a, "_id"), id) == 0)
            found = json_incref(a);
    }
    json_decref(t);
    return found;
}

static void find_book_and_cancel_apply_to_the_dataset(void **state)
{
    (void)state;
    json_t *info;
    json_t *p = practice_info(&main_box, 1, &info);
    char *token = mint(&main_box, p);
    json_t *t = truth(&main_box, jstr(p, "clientId"), TODAY, TODAY);
    const json_t *seen = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(t, "appointments"), i, a)
    {
        if (seen == NULL && !json_is_null(json_object_get(a, "_patientId")))
            seen = a;
    }
    assert_non_null(seen);
    const char *role = jstr(seen, "_practitionerRoleId");
    const char *patient = jstr(seen, "_patientId");
    const char *service = jstr(seen, "_appointmentTypeId");
    tu_http_result r;

    /* $find: start, end and duration are required; candidates of the role */
    fhir_get(&main_box, token, &r, "/halaxy/main/Appointment/$find?start=%s&end=%s", TODAY, TODAY);
    assert_int_equal(r.status, 400);
    tu_http_free(&r);
    fhir_get(&main_box, token, &r,
             "/halaxy/main/Appointment/$find?start=%s&end=%s&duration=20&practitioner-role=%s"
             "&_count=500",
             TODAY, TODAY, role);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.json, "resourceType"), "Bundle");
    json_t *first =
        json_object_get(json_array_get(json_object_get(r.json, "entry"), 0), "resource");
    assert_string_equal(jstr(first, "resourceType"), "Appointment");
    assert_string_equal(jstr(first, "status"), "proposed");
    assert_int_equal(jint(first, "minutesDuration"), 20);
    char start[64];
    snprintf(start, sizeof(start), "%s", jstr(first, "start"));
    tu_http_free(&r);

    /* $book there → 201 with the Appointment; the same time again → 409 conflict */
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"resourceType\":\"Parameters\",\"parameter\":["
             "{\"name\":\"appt-resource\",\"resource\":{\"resourceType\":\"Appointment\","
             "\"start\":\"%s\",\"minutesDuration\":20,\"participant\":[{\"actor\":{\"reference\":"
             "\"PractitionerRole/%s\",\"type\":\"PractitionerRole\"}}]}},"
             "{\"name\":\"patient-id\",\"valueReference\":{\"reference\":\"Patient/%s\"}},"
             "{\"name\":\"healthcare-service-id\",\"valueReference\":{\"reference\":"
             "\"HealthcareService/%s\"}},"
             "{\"name\":\"location-type\",\"valueCode\":\"telehealth\"},"
             "{\"name\":\"status\",\"valueCode\":\"booked\"}]}",
             start, role, patient, service);
    fhir_send(token, "POST", "application/fhir+json", body, &r, "/halaxy/main/Appointment/$book");
    assert_int_equal(r.status, 201);
    char id[32];
    snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
    assert_string_equal(jstr(r.json, "start"), start);
    tu_http_free(&r);
    json_t *entry = truth_entry(p, id);
    assert_non_null(entry);
    assert_string_equal(jstr(entry, "_status"), "booked");
    assert_string_equal(jstr(entry, "_locationType"), "telehealth");
    assert_int_equal(jint(entry, "_minutes"), 20);
    json_decref(entry);
    fhir_send(token, "POST", "application/fhir+json", body, &r, "/halaxy/main/Appointment/$book");
    assert_int_equal(r.status, 409);
    assert_string_equal(issue_code(r.json), "conflict");
    tu_http_free(&r);
    fhir_send(token, "POST", "application/fhir+json", "{\"resourceType\":\"Parameters\"}", &r,
              "/halaxy/main/Appointment/$book");
    assert_int_equal(r.status, 400);
    tu_http_free(&r);

    /* no longer a candidate */
    fhir_get(&main_box, token, &r,
             "/halaxy/main/Appointment/$find?start=%s&end=%s&duration=20&practitioner-role=%s"
             "&_count=500",
             TODAY, TODAY, role);
    json_array_foreach(json_object_get(r.json, "entry"), i, a)
    {
        assert_true(strcmp(jstr(json_object_get(a, "resource"), "start"), start) != 0);
    }
    tu_http_free(&r);

    /* PATCH: only the patient participant's status; merge-patch content type */
    char path[128];
    snprintf(path, sizeof(path), "/halaxy/main/Appointment/%s", id);
    fhir_get(&main_box, token, &r, "%s", path);
    json_t *participants = json_incref(json_object_get(r.json, "participant"));
    tu_http_free(&r);
    json_t *patient_participant = json_array_get(participants, 1);
    json_t *coding = json_object_get(
        json_array_get(json_object_get(patient_participant, "modifierExtension"), 0),
        "valueCoding");
    json_object_set_new(coding, "code", json_string("cancelled"));
    json_t *patch = json_pack("{s:O}", "participant", participants);
    char *text = json_dumps(patch, JSON_COMPACT);
    fhir_send(token, "PATCH", "application/fhir+json", text, &r, path);
    assert_int_equal(r.status, 415);
    tu_http_free(&r);
    fhir_send(token, "PATCH", "application/merge-patch+json",
              "{\"start\":\"2026-04-05T09:00:00+10:00\"}", &r, path);
    assert_int_equal(r.status, 422);
    tu_http_free(&r);
    fhir_send(token, "PATCH", "application/merge-patch+json", text, &r, path);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    free(text);
    json_decref(patch);
    json_decref(participants);
    entry = truth_entry(p, id);
    assert_string_equal(jstr(entry, "_status"), "cancelled");
    json_decref(entry);
    fhir_send(token, "PATCH", "application/merge-patch+json", "{}", &r,
              "/halaxy/main/Appointment/999999999");
    assert_int_equal(r.status, 404);
    tu_http_free(&r);
    json_decref(t);
    free(token);
    json_decref(info);
}

/* Every practice's truth with sorted keys; bare references, so the port doesn't show. */
static char *all_truth(const tu_sandbox *box)
{
    put_settings(box, "{\"reference_style\":\"bare\"}");
    json_t *info;
    practice_info(box, 0, &info);
    json_t *practices = json_object_get(json_object_get(info, "halaxy"), "practices");
    json_t *all = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(practices, i, p)
    {
        char path[160];
        snprintf(path, sizeof(path), "/_sandbox/halaxy/truth?practice=%s", jstr(p, "clientId"));
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
    const char *headers[] = {USER_AGENT, NULL};
    tu_httpf("GET", &box, headers, NULL, &r, "/halaxy/main/Appointment");
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
        cmocka_unit_test(user_agent_is_required_everywhere),
        cmocka_unit_test(tokens_belong_to_one_practice_and_expire),
        cmocka_unit_test(bundle_pages_walked_by_next_links_match_truth),
        cmocka_unit_test(date_prefixes_and_their_variant),
        cmocka_unit_test(meetings_have_no_patient),
        cmocka_unit_test(reference_styles),
        cmocka_unit_test(location_type_variant_drives_telehealth),
        cmocka_unit_test(roles_practitioners_services_and_patients),
        cmocka_unit_test(dst_days_carry_explicit_offsets),
        cmocka_unit_test(control_changes_show_in_the_api),
        cmocka_unit_test(faults_use_halaxy_error_style),
        cmocka_unit_test(stats_name_each_endpoint),
        cmocka_unit_test(same_seed_gives_the_same_dataset),
        cmocka_unit_test(find_book_and_cancel_apply_to_the_dataset),
        cmocka_unit_test(sigterm_stops_with_exit_0),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
