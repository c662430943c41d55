/* pmsd over real HTTP (PMSD_BIN) with a real database (a SQLite file, or PostgreSQL with
 * PMSYNC_TEST_STORE=postgres: testdb.h), synced from pms-sandbox
 * (PMS_SANDBOX_BIN); accounts and keys made with pmsctl (PMSCTL_BIN). Every endpoint's success
 * and error paths; 401 vs 403; cross-account access refused for every route with an id (taken
 * from pmsd's own route table); an audit record for each response with patient data; the event
 * stream carrying a sync's changes, and resuming with Last-Event-ID; SIGTERM during a sync
 * leaving a consistent database; and no patient data in any log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pmsd_proc.h"
#include "sandbox_proc.h"
#include "sse_reader.h"
#include "server/http.h"
#include "testutil.h"

typedef struct world {
    tu_sandbox box;
    tu_pmsd d;
    char *dir;
    json_t *info;
    char account_a[64], account_b[64];
    char admin_a[96], staff_a[96], agent_a[96], admin_b[96];
    char staff_a_id[64];
    char conn[64];      /* A's paired, mapped, synced Gentu connection */
    char tenant[64];    /* its sandbox tenant */
    char clinician[64]; /* a clinician the connection's appointments fill */
    char entry[64];     /* one of its synced run-sheet appointments */
    char canary_patient[64];
} world;

static world W;
static tu_pmsd *target = &W.d; /* the pmsd the helpers talk to */

/* ---- helpers ------------------------------------------------------------------------------ */

static void fail_with(const char *what, const tu_http_result *r)
{
    fail_msg("%s: HTTP %ld (curl %d): %.600s", what, r->status, (int)r->curl_code,
             r->body ? r->body : "");
}

/* A call that must answer `want`; returns its JSON (new reference, may be NULL). */
static json_t *call(const char *method, const char *key, const char *body, long want,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static json_t *call(const char *method, const char *key, const char *body, long want,
                    const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    tu_http_result r;
    tu_api(target, method, key, body, &r, "%s", path);
    if (r.status != want) {
        char what[1200];
        snprintf(what, sizeof what, "%s %s (wanted %ld)", method, path, want);
        fail_with(what, &r);
    }
    json_t *j = r.json;
    r.json = NULL;
    tu_http_free(&r);
    return j;
}

/* A call that must fail with status, error code and (when given) field. */
static void expect_error(const char *method, const char *key, const char *body, long status,
                         const char *code, const char *field, const char *path)
{
    json_t *j = call(method, key, body, status, "%s", path);
    json_t *error = json_object_get(j, "error");
    if (!json_is_object(error))
        fail_msg("%s %s: no error object", method, path);
    if (code && strcmp(json_string_value(json_object_get(error, "code")), code) != 0)
        fail_msg("%s %s: code %s, wanted %s", method, path,
                 json_string_value(json_object_get(error, "code")), code);
    if (field) {
        const char *got = json_string_value(json_object_get(error, "field"));
        if (got == NULL || strcmp(got, field) != 0)
            fail_msg("%s %s: field %s, wanted %s", method, path, got ? got : "(none)", field);
    }
    assert_true(json_is_string(json_object_get(error, "message")));
    json_decref(j);
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void pmsctl_ok(char *out, size_t len, const char *const *args)
{
    int rc = tu_pmsctl(W.dir, out, len, args);
    if (rc != 0)
        fail_msg("pmsctl %s %s failed (%d): %s", args[0], args[1] ? args[1] : "", rc, out);
}

static void make_key(const char *account, const char *role, char *key, size_t len)
{
    char out[512];
    pmsctl_ok(out, sizeof out,
              (const char *const[]){"apikey", "create", "--account", account, "--name", role,
                                    "--role", role, NULL});
    snprintf(key, len, "%s", out);
    assert_int_equal(strncmp(key, "pmsk_", 5), 0);
}

/* The Gentu tenant's credentials as a connection body. */
static char *gentu_body(const char *name, int tenant, bool sync_enabled)
{
    json_t *g = json_object_get(W.info, "gentu");
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s, s:s}}", "pmsType", "gentu", "displayName",
                  name, "baseUrl", str(g, "baseUrl"), "timezone",
                  str(json_array_get(json_object_get(g, "tenants"), (size_t)tenant), "timezone"),
                  "syncEnabled", sync_enabled, "settings", "client_id", str(g, "clientId"),
                  "client_secret", str(g, "clientSecret"), "app_id", str(g, "appId"));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

/* Creates, pairs and prepares (types marked, practitioners mapped) a Gentu connection. */
static void connect_gentu(const char *key, int tenant, const char *name, char *id, size_t len)
{
    char *body = gentu_body(name, tenant, false);
    json_t *c = call("POST", key, body, 201, "/api/pms/connections");
    free(body);
    snprintf(id, len, "%s", str(c, "id"));
    json_decref(c);
    const json_t *t = json_array_get(json_object_get(json_object_get(W.info, "gentu"), "tenants"),
                                     (size_t)tenant);
    char pair[128];
    snprintf(pair, sizeof pair, "{\"code\":\"%s\"}", str(t, "pairingCode"));
    json_decref(call("POST", key, pair, 200, "/api/pms/connections/%s/pair", id));
    json_decref(call("GET", key, NULL, 200, "/api/pms/connections/%s/appointment-types", id));
    json_decref(call("PATCH", key, "{\"markSuggestedTelehealth\":true}", 200,
                     "/api/pms/connections/%s/appointment-types", id));
    json_decref(call("GET", key, NULL, 200, "/api/pms/connections/%s/practitioners", id));
}

/* Waits until a connection's sync is neither queued nor running; its status JSON. */
static json_t *wait_sync(const char *key, const char *id)
{
    for (int i = 0; i < 600; i++) {
        json_t *s = call("GET", key, NULL, 200, "/api/pms/connections/%s/sync?limit=5", id);
        if (!json_is_true(json_object_get(s, "running")) &&
            !json_is_true(json_object_get(s, "queued")) &&
            json_is_string(json_object_get(s, "lastSyncStatus")))
            return s;
        json_decref(s);
        tu_sleep_ms(100);
    }
    fail_msg("the sync of %s did not finish", id);
    return NULL;
}

static json_t *sync_now(const char *key, const char *id)
{
    json_decref(call("POST", key, NULL, 202, "/api/pms/connections/%s/sync", id));
    json_t *s = wait_sync(key, id);
    json_t *last = json_array_get(json_object_get(s, "history"), 0);
    if (strcmp(str(last, "status"), "success") != 0)
        fail_msg("sync ended %s: %s", str(last, "status"), str(last, "errorMessage"));
    return s;
}

static json_t *audit_records(void)
{
    char *out = malloc(4 << 20);
    assert_non_null(out);
    pmsctl_ok(out, 4 << 20, (const char *const[]){"audit", "export", NULL});
    json_t *records = json_array();
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *r = json_loads(line, 0, NULL);
        assert_non_null(r);
        json_array_append_new(records, r);
    }
    free(out);
    return records;
}

/* The newest audit record with this action. New reference. */
static json_t *last_audit(const char *action)
{
    json_t *records = audit_records();
    json_t *found = NULL;
    for (size_t i = json_array_size(records); i-- > 0 && !found;) {
        json_t *r = json_array_get(records, i);
        if (strcmp(str(r, "action"), action) == 0)
            found = json_incref(r);
    }
    json_decref(records);
    if (found == NULL)
        fail_msg("no audit record %s", action);
    return found;
}

static bool contains(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

/* ---- set-up ------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof W);
    if (tu_sandbox_start(&W.box, NULL) != 0)
        return -1;
    W.info = tu_sandbox_json(&W.box, "GET", "/_sandbox/info", NULL);
    W.dir = tu_tempdir();
    char out[512];
    if (tu_pmsctl(W.dir, out, sizeof out,
                  (const char *const[]){"account", "add", "Clinic A", "--timezone",
                                        "Australia/Melbourne", NULL}) != 0)
        return -1;
    snprintf(W.account_a, sizeof W.account_a, "%s", out);
    if (tu_pmsctl(W.dir, out, sizeof out,
                  (const char *const[]){"account", "add", "Clinic B", NULL}) != 0)
        return -1;
    snprintf(W.account_b, sizeof W.account_b, "%s", out);
    make_key(W.account_a, "admin", W.admin_a, sizeof W.admin_a);
    make_key(W.account_a, "staff", W.staff_a, sizeof W.staff_a);
    make_key(W.account_a, "agent", W.agent_a, sizeof W.agent_a);
    make_key(W.account_b, "admin", W.admin_b, sizeof W.admin_b);
    const char *args[] = {"--set", "scheduler_scan_seconds=1", "--set", "sse_heartbeat_seconds=1",
                          "--set", "shutdown_grace_seconds=5", NULL};
    if (tu_pmsd_start(&W.d, W.dir, args) != 0)
        return -1;
    /* The key id of the staff key, for the audit checks. */
    json_t *keys = call("GET", W.admin_a, NULL, 200, "/api/keys");
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(keys, "keys"), i, k)
    {
        if (strcmp(str(k, "role"), "staff") == 0)
            snprintf(W.staff_a_id, sizeof W.staff_a_id, "%s", str(k, "id"));
    }
    json_decref(keys);
    return W.staff_a_id[0] ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    int rc = tu_pmsd_stop(&W.d);
    tu_sandbox_stop(&W.box);
    json_decref(W.info);
    if (W.dir) {
        tu_rmtree(W.dir);
        free(W.dir);
    }
    return rc;
}

/* ---- operations --------------------------------------------------------------------------- */

static void operations_endpoints(void **state)
{
    (void)state;
    json_t *j = call("GET", NULL, NULL, 200, "/healthz");
    assert_string_equal(str(j, "status"), "ok");
    json_decref(j);
    j = call("GET", NULL, NULL, 200, "/readyz");
    assert_string_equal(str(j, "database"), "ok");
    assert_true(json_integer_value(json_object_get(j, "schemaVersion")) >= 3);
    json_decref(j);
    j = call("GET", NULL, NULL, 200, "/api/openapi.json");
    assert_string_equal(str(j, "openapi"), "3.0.3");
    json_decref(j);
    tu_http_result r;
    tu_api(&W.d, "GET", NULL, NULL, &r, "/metrics");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "# TYPE pmsd_http_requests_total counter"));
    assert_non_null(strstr(r.body, "route=\"/api/openapi.json\",status=\"200\""));
    char type[128];
    assert_true(tu_http_header(&r, "Content-Type", type, sizeof type));
    assert_non_null(strstr(type, "text/plain"));
    tu_http_free(&r);
}

static void authentication_and_roles(void **state)
{
    (void)state;
    /* No key, a wrong key, a malformed key: 401 with a challenge. */
    tu_http_result r;
    tu_api(&W.d, "GET", NULL, NULL, &r, "/api/pms/connections");
    assert_int_equal(r.status, 401);
    char challenge[256];
    assert_true(tu_http_header(&r, "WWW-Authenticate", challenge, sizeof challenge));
    assert_non_null(strstr(challenge, "Bearer"));
    tu_http_free(&r);
    expect_error("GET", "pmsk_AAAAAAAAAAAA_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", NULL,
                 401, "unauthorized", NULL, "/api/pms/connections");
    expect_error("GET", "not-a-key", NULL, 401, "unauthorized", NULL, "/api/run-sheet");
    /* X-API-Key works like Bearer. */
    char header[160];
    snprintf(header, sizeof header, "X-API-Key: %s", W.staff_a);
    char url[256];
    snprintf(url, sizeof url, "%s/api/pms/connections", W.d.base);
    tu_http("GET", url, (const char *const[]){header, NULL}, NULL, &r);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    /* A valid key whose role may not: 403. */
    expect_error("POST", W.staff_a, "{}", 403, "forbidden", NULL, "/api/pms/connections");
    expect_error("GET", W.agent_a, NULL, 403, "forbidden", NULL, "/api/run-sheet");
    expect_error("GET", W.staff_a, NULL, 403, "forbidden", NULL, "/api/keys");
    /* Unknown paths and methods. */
    expect_error("GET", W.admin_a, NULL, 404, "not_found", NULL, "/api/nothing-here");
    tu_api(&W.d, "PUT", W.admin_a, "{}", &r, "/api/pms/connections");
    assert_int_equal(r.status, 405);
    char allow[64];
    assert_true(tu_http_header(&r, "Allow", allow, sizeof allow));
    assert_non_null(strstr(allow, "GET"));
    assert_non_null(strstr(allow, "POST"));
    tu_http_free(&r);
}

static void api_keys(void **state)
{
    (void)state;
    expect_error("POST", W.admin_a, "{\"name\":\"x\",\"role\":\"owner\"}", 400, "invalid_request",
                 "role", "/api/keys");
    expect_error("POST", W.admin_a, "{\"role\":\"staff\"}", 400, "invalid_request", "name",
                 "/api/keys");
    json_t *k =
        call("POST", W.admin_a, "{\"name\":\"front desk\",\"role\":\"staff\"}", 201, "/api/keys");
    const char *key = str(k, "key");
    assert_non_null(key);
    assert_string_equal(str(k, "role"), "staff");
    char id[64], text[96];
    snprintf(id, sizeof id, "%s", str(k, "id"));
    snprintf(text, sizeof text, "%s", key);
    json_decref(k);
    json_decref(call("GET", text, NULL, 200, "/api/run-sheet"));
    /* Listing never shows key text. */
    tu_http_result r;
    tu_api(&W.d, "GET", W.admin_a, NULL, &r, "/api/keys");
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, text));
    assert_null(strstr(r.body, text + 18)); /* nor its secret part */
    tu_http_free(&r);
    json_decref(call("DELETE", W.admin_a, NULL, 204, "/api/keys/%s", id));
    expect_error("GET", text, NULL, 401, "unauthorized", NULL, "/api/run-sheet");
    expect_error("DELETE", W.admin_a, NULL, 404, "not_found", NULL,
                 "/api/keys/00000000-0000-4000-8000-00000000dead");
    json_t *a = last_audit("api_key.revoke");
    assert_non_null(strstr(str(a, "resource"), id));
    json_decref(a);
}

/* ---- browser sessions -------------------------------------------------------------------- */

#define USER_PASSWORD "Qzsecret correct horse"

/* A browser: its session cookie and CSRF token. */
typedef struct browser {
    char token[64];
    char csrf[64];
} browser;

/* A request as a browser sends it: the cookie, and (when asked) the CSRF token and an Origin. */
static void browse(const browser *b, const char *method, const char *body, bool with_csrf,
                   const char *origin, tu_http_result *r, const char *path)
{
    char url[512], cookie[128], csrf[128], origin_h[256];
    snprintf(url, sizeof url, "%s%s", W.d.base, path);
    const char *headers[5] = {NULL};
    int h = 0;
    if (b->token[0]) {
        snprintf(cookie, sizeof cookie, "Cookie: pmsd_session=%s", b->token);
        headers[h++] = cookie;
    }
    if (with_csrf) {
        snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", b->csrf);
        headers[h++] = csrf;
    }
    if (origin) {
        snprintf(origin_h, sizeof origin_h, "Origin: %s", origin);
        headers[h++] = origin_h;
    }
    if (body)
        headers[h++] = "Content-Type: application/json";
    tu_http(method, url, headers, body, r);
}

static void expect_browse(const browser *b, const char *method, const char *body, bool with_csrf,
                          const char *origin, long status, const char *code, const char *path)
{
    tu_http_result r;
    browse(b, method, body, with_csrf, origin, &r, path);
    if (r.status != status) {
        char what[600];
        snprintf(what, sizeof what, "%s %s as a browser (wanted %ld)", method, path, status);
        fail_with(what, &r);
    }
    if (code)
        assert_string_equal(str(json_object_get(r.json, "error"), "code"), code);
    tu_http_free(&r);
}

/* Signs in with a JSON body; fills b from the cookie and the answer. The answer (new ref). */
static json_t *sign_in(const char *body, browser *b)
{
    browser none = {0};
    tu_http_result r;
    browse(&none, "POST", body, false, NULL, &r, "/api/session");
    if (r.status != 201)
        fail_with("POST /api/session", &r);
    char cookie[256];
    assert_true(tu_http_header(&r, "Set-Cookie", cookie, sizeof cookie));
    assert_int_equal(strncmp(cookie, "pmsd_session=", 13), 0);
    const char *end = strchr(cookie, ';');
    assert_non_null(end);
    snprintf(b->token, sizeof b->token, "%.*s", (int)(end - cookie - 13), cookie + 13);
    assert_int_equal(strlen(b->token), 43);
    /* The cookie's flags: HttpOnly, SameSite=Strict, the whole site, session_hours (12). */
    assert_non_null(strstr(cookie, "; HttpOnly"));
    assert_non_null(strstr(cookie, "; SameSite=Strict"));
    assert_non_null(strstr(cookie, "; Path=/"));
    assert_non_null(strstr(cookie, "; Max-Age=43200"));
    assert_null(strstr(cookie, "Secure")); /* cookie_secure is off here */
    snprintf(b->csrf, sizeof b->csrf, "%s", str(r.json, "csrfToken"));
    assert_int_equal(strlen(b->csrf), 43);
    json_t *j = json_incref(r.json);
    tu_http_free(&r);
    return j;
}

/* Signs in with a request that must be refused with status and code; the error's message. */
static void refused_sign_in(const char *body, long status, const char *code, const char *field,
                            char *message, size_t len)
{
    json_t *j = call("POST", NULL, body, status, "/api/session");
    json_t *error = json_object_get(j, "error");
    assert_string_equal(str(error, "code"), code);
    if (field)
        assert_string_equal(str(error, "field"), field);
    if (message)
        snprintf(message, len, "%s", str(error, "message"));
    json_decref(j);
}

static void add_user(const char *username, const char *role, char *id, size_t len)
{
    char out[256];
    int rc =
        tu_pmsctl_input(W.dir, USER_PASSWORD "\n", out, sizeof out,
                        (const char *const[]){"user", "add", "--account", W.account_a, "--username",
                                              username, "--role", role, "--password-stdin", NULL});
    if (rc != 0)
        fail_msg("pmsctl user add %s failed (%d): %s", username, rc, out);
    snprintf(id, len, "%s", out);
}

/* Whether text appears anywhere in the database: the SQLite file and its WAL as bytes, or every
 * row of every table of the PostgreSQL database as text. */
static bool db_contains(const char *text)
{
    if (!tu_db_postgres()) {
        char wal[640];
        snprintf(wal, sizeof wal, "%s-wal", tu_db(W.dir));
        return tu_file_contains(tu_db(W.dir), text) || tu_file_contains(wal, text);
    }
    char sql[512];
    snprintf(
        sql, sizeof sql,
        "SELECT COUNT(*) FROM information_schema.tables t, LATERAL (SELECT 1 FROM "
        "query_to_xml(format('SELECT * FROM %%I.%%I', t.table_schema, t.table_name), false, "
        "true, '') x(doc) WHERE x.doc::text LIKE '%%%s%%') hit WHERE t.table_schema = 'public'",
        text);
    return tu_db_count(W.dir, sql) > 0;
}

static void browser_sessions(void **state)
{
    (void)state;
    char manager_id[64], desk_id[64];
    add_user("Practice.Manager", "admin", manager_id, sizeof manager_id);
    add_user("front.desk", "staff", desk_id, sizeof desk_id);
    /* pmsctl asks for a password only on a terminal; a short one is a usage error. */
    char out[256];
    assert_int_equal(
        tu_pmsctl_input(W.dir, USER_PASSWORD "\n", out, sizeof out,
                        (const char *const[]){"user", "add", "--account", W.account_a, "--username",
                                              "no.tty", "--role", "staff", NULL}),
        2);
    assert_int_equal(tu_pmsctl_input(W.dir, "too short\n", out, sizeof out,
                                     (const char *const[]){"user", "add", "--account", W.account_a,
                                                           "--username", "short.pw", "--role",
                                                           "staff", "--password-stdin", NULL}),
                     2);
    char url_origin[96];
    snprintf(url_origin, sizeof url_origin, "%s", W.d.base);

    /* Signing in with an API key: the key's role and name. */
    browser by_key, manager, desk;
    char body[512];
    snprintf(body, sizeof body, "{\"apiKey\":\"%s\"}", W.staff_a);
    json_t *s = sign_in(body, &by_key);
    assert_string_equal(str(s, "role"), "staff");
    assert_string_equal(str(s, "via"), "api_key");
    assert_string_equal(str(s, "name"), "staff");
    assert_string_equal(str(s, "accountId"), W.account_a);
    assert_string_equal(str(s, "accountName"), "Clinic A");
    assert_true(json_is_string(json_object_get(s, "expiresAt")));
    json_decref(s);
    /* As a user, any case of the username. */
    s = sign_in("{\"username\":\"PRACTICE.manager\",\"password\":\"" USER_PASSWORD "\"}", &manager);
    assert_string_equal(str(s, "role"), "admin");
    assert_string_equal(str(s, "via"), "user");
    assert_string_equal(str(s, "name"), "practice.manager");
    json_decref(s);
    json_t *a = last_audit("session.create");
    char actor[80];
    snprintf(actor, sizeof actor, "user:%s", manager_id);
    assert_string_equal(str(a, "actorKeyId"), actor);
    assert_string_equal(str(a, "actorRole"), "admin");
    assert_string_equal(str(a, "accountId"), W.account_a);
    json_decref(a);
    s = sign_in("{\"username\":\"front.desk\",\"password\":\"" USER_PASSWORD "\"}", &desk);
    json_decref(s);

    /* The cookie reads; GET /api/session says who, with the CSRF token. */
    tu_http_result r;
    browse(&desk, "GET", NULL, false, NULL, &r, "/api/run-sheet");
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    browse(&manager, "GET", NULL, false, NULL, &r, "/api/session");
    assert_int_equal(r.status, 200);
    assert_string_equal(str(r.json, "csrfToken"), manager.csrf);
    assert_string_equal(str(r.json, "name"), "practice.manager");
    tu_http_free(&r);
    /* A key header caller gets the same shape without a CSRF token. */
    s = call("GET", W.admin_a, NULL, 200, "/api/session");
    assert_string_equal(str(s, "via"), "api_key");
    assert_string_equal(str(s, "role"), "admin");
    assert_null(json_object_get(s, "csrfToken"));
    assert_true(json_is_null(json_object_get(s, "expiresAt")));
    json_decref(s);
    /* Roles hold: the staff user may not manage keys. */
    expect_browse(&desk, "GET", NULL, false, NULL, 403, "forbidden", "/api/keys");

    /* Changes by cookie need the CSRF token, and a same-site Origin when one is sent. */
    const char *clinician = "{\"name\":\"Dr Session\"}";
    expect_browse(&manager, "POST", clinician, false, NULL, 403, "csrf_failed",
                  "/api/run-sheet/clinicians");
    browser wrong = manager;
    wrong.csrf[0] = wrong.csrf[0] == 'A' ? 'B' : 'A';
    expect_browse(&wrong, "POST", clinician, true, NULL, 403, "csrf_failed",
                  "/api/run-sheet/clinicians");
    snprintf(wrong.csrf, sizeof wrong.csrf, "%s", by_key.csrf); /* another session's token */
    expect_browse(&wrong, "POST", clinician, true, NULL, 403, "csrf_failed",
                  "/api/run-sheet/clinicians");
    expect_browse(&manager, "POST", clinician, true, "http://evil.example", 403, "csrf_failed",
                  "/api/run-sheet/clinicians");
    expect_browse(&manager, "POST", clinician, true, "null", 403, "csrf_failed",
                  "/api/run-sheet/clinicians");
    expect_browse(&manager, "POST", clinician, true, NULL, 201, NULL, "/api/run-sheet/clinicians");
    expect_browse(&manager, "POST", clinician, true, url_origin, 201, NULL,
                  "/api/run-sheet/clinicians");
    /* A change audited while signed in names the user. */
    expect_browse(&manager, "POST", "{\"name\":\"ui\",\"role\":\"staff\"}", true, url_origin, 201,
                  NULL, "/api/keys");
    a = last_audit("api_key.create");
    assert_string_equal(str(a, "actorKeyId"), actor);
    json_decref(a);
    /* A key header needs no CSRF token (a browser never sends one by itself). */
    json_decref(call("POST", W.admin_a, clinician, 201, "/api/run-sheet/clinicians"));
    /* A sign-in from another site is refused. */
    browser none = {0};
    char signin[256];
    snprintf(signin, sizeof signin, "{\"apiKey\":\"%s\"}", W.staff_a);
    expect_browse(&none, "POST", signin, false, "http://evil.example", 403, "csrf_failed",
                  "/api/session");

    /* Signing out ends the session and clears the cookie. */
    expect_browse(&desk, "DELETE", NULL, false, NULL, 403, "csrf_failed", "/api/session");
    browse(&desk, "DELETE", NULL, true, NULL, &r, "/api/session");
    assert_int_equal(r.status, 204);
    char cookie[256];
    assert_true(tu_http_header(&r, "Set-Cookie", cookie, sizeof cookie));
    assert_non_null(strstr(cookie, "pmsd_session=;"));
    assert_non_null(strstr(cookie, "Max-Age=0"));
    assert_non_null(strstr(cookie, "HttpOnly"));
    assert_non_null(strstr(cookie, "SameSite=Strict"));
    tu_http_free(&r);
    expect_browse(&desk, "GET", NULL, false, NULL, 401, "unauthorized", "/api/run-sheet");
    a = last_audit("session.delete");
    snprintf(actor, sizeof actor, "user:%s", desk_id);
    assert_string_equal(str(a, "actorKeyId"), actor);
    json_decref(a);

    /* An expired session is refused. */
    char sql[160], at[64];
    snprintf(sql, sizeof sql, "UPDATE web_sessions SET expires_at = %s WHERE user_id IS NULL",
             tu_db_instant_sql(1, at, sizeof at));
    assert_int_equal(tu_db_exec(W.dir, sql), 0);
    expect_browse(&by_key, "GET", NULL, false, NULL, 401, "unauthorized", "/api/session");
    expect_browse(&manager, "GET", NULL, false, NULL, 200, NULL, "/api/session");
    /* Disabling the user ends their sessions. */
    pmsctl_ok(out, sizeof out, (const char *const[]){"user", "disable", "practice.manager", NULL});
    expect_browse(&manager, "GET", NULL, false, NULL, 401, "unauthorized", "/api/session");

    /* Refused sign-ins: one message for every cause. */
    char first[256], msg[256];
    refused_sign_in("{\"username\":\"front.desk\",\"password\":\"Qzsecret wrong horse\"}", 401,
                    "unauthorized", NULL, first, sizeof first);
    refused_sign_in("{\"username\":\"nobody.here\",\"password\":\"" USER_PASSWORD "\"}", 401,
                    "unauthorized", NULL, msg, sizeof msg);
    assert_string_equal(msg, first);
    refused_sign_in("{\"username\":\"practice.manager\",\"password\":\"" USER_PASSWORD "\"}", 401,
                    "unauthorized", NULL, msg, sizeof msg);
    assert_string_equal(msg, first);
    refused_sign_in(
        "{\"apiKey\":\"pmsk_AAAAAAAAAAAA_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}", 401,
        "unauthorized", NULL, msg, sizeof msg);
    assert_string_equal(msg, first);
    /* Bodies that are not exactly one way of signing in name the field. */
    refused_sign_in("{}", 400, "invalid_request", "apiKey", NULL, 0);
    refused_sign_in("{\"username\":\"front.desk\"}", 400, "invalid_request", "password", NULL, 0);
    refused_sign_in("{\"password\":\"x\"}", 400, "invalid_request", "username", NULL, 0);
    refused_sign_in("{\"apiKey\":\"x\",\"username\":\"front.desk\"}", 400, "invalid_request",
                    "username", NULL, 0);
    refused_sign_in("{\"apiKey\":\"x\",\"cookie\":1}", 400, "invalid_request", "cookie", NULL, 0);

    /* No token, CSRF token or password in pmsd's log or the database. */
    const browser *all[] = {&by_key, &manager, &desk};
    assert_false(db_contains("Qzsecret"));
    for (size_t i = 0; i < 3; i++)
        assert_false(db_contains(all[i]->token));
    assert_true(db_contains("practice.manager")); /* the search finds what is there */
    assert_false(tu_file_contains(W.d.log_path, "Qzsecret"));
    for (size_t i = 0; i < 3; i++) {
        assert_false(tu_file_contains(W.d.log_path, all[i]->token));
        assert_false(tu_file_contains(W.d.log_path, all[i]->csrf));
    }
    pmsctl_ok(out, sizeof out, (const char *const[]){"audit", "verify", NULL});
}

/* Ten failed sign-ins from one address within five minutes: the next ones wait (429). */
static void failed_sign_ins_are_throttled(void **state)
{
    (void)state;
    /* A pmsd of its own: the throttle is per process, and this one stays throttled. */
    tu_pmsd second;
    assert_int_equal(
        tu_pmsd_start(&second, W.dir, (const char *const[]){"--set", "scheduler=false", NULL}), 0);
    target = &second;
    const char *wrong = "{\"username\":\"front.desk\",\"password\":\"Qzsecret wrong horse\"}";
    for (int i = 0; i < 10; i++)
        json_decref(call("POST", NULL, wrong, 401, "/api/session"));
    tu_http_result r;
    tu_api(&second, "POST", NULL, wrong, &r, "/api/session");
    assert_int_equal(r.status, 429);
    assert_string_equal(str(json_object_get(r.json, "error"), "code"), "too_many_attempts");
    char retry[32];
    assert_true(tu_http_header(&r, "Retry-After", retry, sizeof retry));
    assert_true(atol(retry) > 200 && atol(retry) <= 300);
    tu_http_free(&r);
    /* Even the right password waits; keys in headers are not affected. */
    expect_error("POST", NULL, "{\"username\":\"front.desk\",\"password\":\"" USER_PASSWORD "\"}",
                 429, "too_many_attempts", NULL, "/api/session");
    json_decref(call("GET", W.staff_a, NULL, 200, "/api/session"));
    target = &W.d;
    assert_int_equal(tu_pmsd_stop(&second), 0);
}

/* ---- connections -------------------------------------------------------------------------- */

static void connection_validation(void **state)
{
    (void)state;
    const char *p = "/api/pms/connections";
    expect_error("POST", W.admin_a, "{\"displayName\":\"x\"}", 400, "invalid_request", "pmsType",
                 p);
    expect_error("POST", W.admin_a, "{\"pmsType\":\"nope\",\"displayName\":\"x\"}", 400,
                 "invalid_request", "pmsType", p);
    expect_error("POST", W.admin_a, "{\"pmsType\":\"gentu\",\"displayName\":\"x\",\"colour\":1}",
                 400, "invalid_request", "colour", p);
    expect_error("POST", W.admin_a,
                 "{\"pmsType\":\"gentu\",\"displayName\":\"x\",\"timezone\":\"Mars/Base\","
                 "\"settings\":{\"client_id\":\"a\",\"client_secret\":\"b\",\"app_id\":\"c\"}}",
                 400, "invalid_request", "timezone", p);
    expect_error("POST", W.admin_a,
                 "{\"pmsType\":\"gentu\",\"displayName\":\"x\",\"settings\":{\"client_id\":\"a\"}}",
                 400, "invalid_request", "settings.client_secret", p);
    expect_error("POST", W.admin_a,
                 "{\"pmsType\":\"gentu\",\"displayName\":\"x\",\"syncFrequencyMinutes\":0}", 400,
                 "invalid_request", "syncFrequencyMinutes", p);
    expect_error("POST", W.admin_a, "{\"pmsType\":", 400, "invalid_json", NULL, p);
    expect_error("POST", W.admin_a, "[1,2]", 400, "invalid_request", NULL, p);
    /* Not JSON at all: 415. */
    char url[256], auth[160];
    snprintf(url, sizeof url, "%s%s", W.d.base, p);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", W.admin_a);
    tu_http_result r;
    tu_http("POST", url, (const char *const[]){auth, "Content-Type: text/plain", NULL}, "x=1", &r);
    assert_int_equal(r.status, 415);
    tu_http_free(&r);
    /* Over the body limit (1 MiB by default): 413, and the server carries on. */
    size_t big = (1u << 20) + 100;
    char *body = malloc(big + 1);
    memset(body, ' ', big);
    body[big] = '\0';
    body[0] = '{';
    body[big - 1] = '}';
    expect_error("POST", W.admin_a, body, 413, "body_too_large", NULL, p);
    free(body);
    json_decref(call("GET", NULL, NULL, 200, "/healthz"));
}

static void connection_lifecycle(void **state)
{
    (void)state;
    /* Made by the web UI's set-up wizard: its first step is kept. */
    char *text = gentu_body("Lifecycle practice", 1, false);
    json_t *with_step = json_loads(text, 0, NULL);
    free(text);
    json_object_set_new(with_step, "setupStep", json_string("connect"));
    char *body = json_dumps(with_step, JSON_COMPACT);
    json_decref(with_step);
    tu_http_result r;
    tu_api(&W.d, "POST", W.admin_a, body, &r, "/api/pms/connections");
    free(body);
    assert_int_equal(r.status, 201);
    assert_string_equal(str(r.json, "setupStep"), "connect");
    char location[256], id[64];
    assert_true(tu_http_header(&r, "Location", location, sizeof location));
    snprintf(id, sizeof id, "%s", str(r.json, "id"));
    assert_non_null(strstr(location, id));
    /* Secrets are write-only: the response says it is set, never what it is. */
    const char *secret = str(json_object_get(W.info, "gentu"), "clientSecret");
    assert_null(strstr(r.body, secret));
    assert_true(
        json_is_true(json_object_get(json_object_get(r.json, "secretsSet"), "client_secret")));
    assert_string_equal(str(r.json, "accountId"), W.account_a);
    tu_http_free(&r);

    json_t *list = call("GET", W.staff_a, NULL, 200, "/api/pms/connections");
    bool listed = false;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(list, "connections"), i, c)
    {
        listed |= strcmp(str(c, "id"), id) == 0;
    }
    assert_true(listed);
    json_decref(list);
    /* B sees none of A's. */
    list = call("GET", W.admin_b, NULL, 200, "/api/pms/connections");
    json_array_foreach(json_object_get(list, "connections"), i, c)
    {
        assert_string_not_equal(str(c, "id"), id);
    }
    json_decref(list);

    c = call("PATCH", W.admin_a,
             "{\"displayName\":\"Renamed\",\"syncFrequencyMinutes\":30,"
             "\"unmappedPractitioners\":\"skip\",\"settings\":{\"client_secret\":\"rotated\"}}",
             200, "/api/pms/connections/%s", id);
    assert_string_equal(str(c, "displayName"), "Renamed");
    assert_int_equal(json_integer_value(json_object_get(c, "syncFrequencyMinutes")), 30);
    assert_string_equal(str(c, "unmappedPractitioners"), "skip");
    json_decref(c);
    char path[128];
    snprintf(path, sizeof path, "/api/pms/connections/%s", id);
    expect_error("PATCH", W.admin_a, "{\"pmsType\":\"halaxy\"}", 400, "invalid_request", "pmsType",
                 path);
    expect_error("PATCH", W.admin_a, "{\"baseUrl\":\"ftp://x\"}", 400, "invalid_request", "baseUrl",
                 path);
    expect_error("PATCH", W.staff_a, "{\"displayName\":\"x\"}", 403, "forbidden", NULL, path);
    /* The set-up wizard's step: one of four, or null when set-up is complete. */
    expect_error("PATCH", W.admin_a, "{\"setupStep\":\"done\"}", 400, "invalid_request",
                 "setupStep", path);
    c = call("PATCH", W.admin_a, "{\"setupStep\":\"types\"}", 200, "%s", path);
    assert_string_equal(str(c, "setupStep"), "types");
    json_decref(c);
    c = call("PATCH", W.admin_a, "{\"setupStep\":null}", 200, "%s", path);
    assert_true(json_is_null(json_object_get(c, "setupStep")));
    json_decref(c);
    c = call("GET", W.staff_a, NULL, 200, "%s", path);
    assert_string_equal(str(c, "displayName"), "Renamed");
    assert_true(json_is_object(json_object_get(c, "sync")));
    json_decref(c);

    /* Pairing: a wrong code is the PMS's refusal; the test endpoint reports it. */
    snprintf(path, sizeof path, "/api/pms/connections/%s/pair", id);
    expect_error("POST", W.admin_a, "{}", 400, "invalid_request", "code", path);
    snprintf(path, sizeof path, "/api/pms/connections/%s/test", id);
    expect_error("POST", W.admin_a, NULL, 409, "not_configured", NULL, path); /* not paired */
    json_t *e = call("POST", W.admin_a, NULL, 409, "%s", path);
    json_t *pms = json_object_get(json_object_get(e, "error"), "pms");
    assert_string_equal(str(pms, "kind"), "config");
    assert_true(json_is_null(json_object_get(pms, "httpStatus")));
    json_decref(e);

    json_decref(call("DELETE", W.admin_a, NULL, 204, "/api/pms/connections/%s", id));
    snprintf(path, sizeof path, "/api/pms/connections/%s", id);
    expect_error("GET", W.admin_a, NULL, 404, "not_found", NULL, path);
    json_t *a = last_audit("connection.delete");
    assert_non_null(strstr(str(a, "resource"), id));
    json_decref(a);
}

/* A PMS that refuses the credentials: the error says what the PMS did (kind, HTTP status). */
static void pms_failures_are_explained(void **state)
{
    (void)state;
    json_t *m = json_object_get(W.info, "medirecords");
    json_t *practice = json_array_get(json_object_get(m, "practices"), 0);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s}}", "pmsType", "medirecords",
                             "displayName", "Wrong token", "baseUrl", str(m, "baseUrl"), "timezone",
                             str(practice, "timezone"), "syncEnabled", 0, "settings", "practice_id",
                             str(practice, "practiceId"), "token", "not-the-token");
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_t *c = call("POST", W.admin_a, text, 201, "/api/pms/connections");
    free(text);
    char id[64];
    snprintf(id, sizeof id, "%s", str(c, "id"));
    json_decref(c);
    /* The test endpoint answers with the PMS's refusal... */
    json_t *t = call("POST", W.admin_a, NULL, 200, "/api/pms/connections/%s/test", id);
    assert_false(json_is_true(json_object_get(t, "ok")));
    json_t *pms = json_object_get(t, "pms");
    assert_string_equal(str(pms, "kind"), "auth");
    assert_int_equal(json_integer_value(json_object_get(pms, "httpStatus")), 401);
    json_decref(t);
    /* ...and a read through it fails with pms_error and the same explanation. */
    json_t *e = call("GET", W.admin_a, NULL, 502, "/api/pms/connections/%s/appointment-types", id);
    json_t *error = json_object_get(e, "error");
    assert_string_equal(str(error, "code"), "pms_error");
    pms = json_object_get(error, "pms");
    assert_string_equal(str(pms, "kind"), "auth");
    assert_int_equal(json_integer_value(json_object_get(pms, "httpStatus")), 401);
    assert_null(strstr(str(error, "message"), "not-the-token"));
    json_decref(e);
    /* A PMS that cannot be reached: transport, no HTTP status. */
    json_decref(call("PATCH", W.admin_a,
                     "{\"baseUrl\":\"http://127.0.0.1:9\",\"settings\":{\"retry_attempts\":\"1\"}}",
                     200, "/api/pms/connections/%s", id));
    e = call("GET", W.admin_a, NULL, 502, "/api/pms/connections/%s/appointment-types", id);
    pms = json_object_get(json_object_get(e, "error"), "pms");
    assert_string_equal(str(pms, "kind"), "transport");
    assert_true(json_is_null(json_object_get(pms, "httpStatus")));
    json_decref(e);
    json_decref(call("DELETE", W.admin_a, NULL, 204, "/api/pms/connections/%s", id));
}

/* Medirecords and Halaxy connect with credentials alone: a successful test records the practice's
 * name (and id) as the PMS gives them. */
static void testing_a_connection_records_the_practice(void **state)
{
    (void)state;
    static const char *const kinds[] = {"medirecords", "halaxy"};
    for (size_t k = 0; k < 2; k++) {
        const json_t *pms = json_object_get(W.info, kinds[k]);
        const json_t *practice = json_array_get(json_object_get(pms, "practices"), 1);
        /* Syncing off: the scheduler leaves them alone while the test looks. */
        json_t *body =
            json_pack("{s:s, s:s, s:s, s:s, s:b, s:{}}", "pmsType", kinds[k], "displayName",
                      "Credentials only", "baseUrl", str(pms, "baseUrl"), "timezone",
                      str(practice, "timezone"), "syncEnabled", 0, "settings");
        json_t *settings = json_object_get(body, "settings");
        if (k == 0) {
            json_object_set_new(settings, "practice_id", json_string(str(practice, "practiceId")));
            json_object_set_new(settings, "token", json_string(str(practice, "token")));
        } else {
            json_object_set_new(settings, "client_id", json_string(str(practice, "clientId")));
            json_object_set_new(settings, "client_secret",
                                json_string(str(practice, "clientSecret")));
        }
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        json_t *c = call("POST", W.admin_a, text, 201, "/api/pms/connections");
        free(text);
        char id[64];
        snprintf(id, sizeof id, "%s", str(c, "id"));
        assert_true(json_is_null(json_object_get(c, "practiceName")));
        json_decref(c);
        json_t *t = call("POST", W.admin_a, NULL, 200, "/api/pms/connections/%s/test", id);
        assert_true(json_is_true(json_object_get(t, "ok")));
        json_decref(t);
        c = call("GET", W.admin_a, NULL, 200, "/api/pms/connections/%s", id);
        assert_string_equal(str(c, "practiceName"), str(practice, "name"));
        if (k == 1)
            assert_string_equal(str(c, "organizationId"), str(practice, "organizationId"));
        json_decref(c);
        json_decref(call("DELETE", W.admin_a, NULL, 204, "/api/pms/connections/%s", id));
    }
}

static void connect_and_sync_with_live_updates(void **state)
{
    (void)state;
    /* Tenant 0: the account's practice. */
    connect_gentu(W.admin_a, 0, "Main practice", W.conn, sizeof W.conn);
    snprintf(W.tenant, sizeof W.tenant, "%s",
             str(json_array_get(json_object_get(json_object_get(W.info, "gentu"), "tenants"), 0),
                 "tenantId"));
    json_t *t = call("POST", W.admin_a, NULL, 200, "/api/pms/connections/%s/test", W.conn);
    assert_true(json_is_true(json_object_get(t, "ok")));
    json_decref(t);
    /* The PMS's practitioners, each with a clinician (created on first sight). */
    json_t *p = call("GET", W.admin_a, NULL, 200,
                     "/api/pms/connections/%s/practitioners?refresh=false", W.conn);
    json_t *first = json_array_get(json_object_get(p, "practitioners"), 0);
    assert_non_null(first);
    json_decref(p);

    tu_sse_reader live;
    tu_sse_open(&live, W.d.base, W.staff_a, NULL);
    assert_true(tu_sse_wait_for(&live, ": connected", 5000));
    json_t *s = sync_now(W.admin_a, W.conn);
    json_t *last = json_array_get(json_object_get(s, "history"), 0);
    long created =
        (long)json_integer_value(json_object_get(json_object_get(last, "counts"), "created"));
    assert_true(created > 0);
    assert_string_equal(str(last, "syncType"), "manual");
    json_decref(s);
    assert_true(tu_sse_wait_for(&live, "event: sync.started", 5000));
    assert_true(tu_sse_wait_for(&live, "event: sync.progress", 5000));
    assert_true(tu_sse_wait_for(&live, "event: appointment.created", 5000));
    assert_true(tu_sse_wait_for(&live, "event: sync.finished", 5000));
    assert_true(tu_sse_wait_for(&live, ": ping", 3000)); /* heartbeats every second here */
    /* Events carry ids and dates, never patient data. */
    pthread_mutex_lock(&live.lock);
    char *copy = strdup(live.text);
    pthread_mutex_unlock(&live.lock);
    tu_sse_close(&live);
    assert_null(strstr(copy, "fullName"));
    assert_null(strstr(copy, "phone"));
    /* Progress carries the counts so far. */
    char *progress = strstr(copy, "event: sync.progress\ndata: ");
    assert_non_null(progress);
    json_t *counts = json_loadb(progress + 27, strcspn(progress + 27, "\n"), 0, NULL);
    assert_non_null(counts);
    assert_string_equal(str(counts, "connectionId"), W.conn);
    static const char *const count_keys[] = {"fetched", "created", "updated", "unchanged",
                                             "skipped", "removed", NULL};
    for (size_t k = 0; count_keys[k]; k++)
        assert_true(json_is_integer(json_object_get(counts, count_keys[k])));
    json_decref(counts);
    /* Resume after the first event: what followed is replayed. */
    char *first_id = strstr(copy, "id: ");
    assert_non_null(first_id);
    char resume_from[32];
    snprintf(resume_from, sizeof resume_from, "%lld", atoll(first_id + 4));
    free(copy);
    tu_sse_open(&live, W.d.base, W.staff_a, resume_from);
    assert_true(tu_sse_wait_for(&live, "event: sync.finished", 5000));
    pthread_mutex_lock(&live.lock);
    char marker[48];
    snprintf(marker, sizeof marker, "id: %s\n", resume_from);
    assert_null(strstr(live.text, marker)); /* the event resumed from is not sent again */
    pthread_mutex_unlock(&live.lock);
    tu_sse_close(&live);

    /* The run sheet shows what the sync created, in columns per clinician. */
    json_t *sheet = call("GET", W.staff_a, NULL, 200, "/api/run-sheet?include=pms_status");
    assert_int_equal(json_integer_value(json_object_get(sheet, "appointmentCount")), created);
    json_t *status = json_object_get(sheet, "pmsStatus");
    assert_true(json_is_array(json_object_get(status, "connections")));
    assert_true(json_is_string(json_object_get(status, "lastSyncAt")));
    size_t i;
    json_t *col;
    json_array_foreach(json_object_get(sheet, "clinicians"), i, col)
    {
        if (json_array_size(json_object_get(col, "appointments")) > 0 && !W.clinician[0])
            snprintf(W.clinician, sizeof W.clinician, "%s", str(col, "id"));
    }
    assert_true(W.clinician[0] != '\0');
    json_decref(sheet);

    json_t *list = call("GET", W.staff_a, NULL, 200,
                        "/api/run-sheet/appointments?pms_connection_id=%s&source=pms", W.conn);
    json_t *appts = json_object_get(list, "appointments");
    assert_int_equal((long)json_array_size(appts), created);
    json_t *a;
    json_array_foreach(appts, i, a)
    {
        assert_string_equal(str(a, "pms_connection_id"), W.conn);
        assert_true(json_is_string(json_object_get(a, "pms_appointment_id")));
        assert_true(json_is_string(json_object_get(a, "pms_last_synced_at")));
        assert_string_equal(str(a, "source"), "pms");
    }
    snprintf(W.entry, sizeof W.entry, "%s", str(json_array_get(appts, 0), "id"));
    json_decref(list);
    expect_error("GET", W.staff_a, NULL, 400, "invalid_request", "source",
                 "/api/run-sheet/appointments?source=fax");
    expect_error("GET", W.staff_a, NULL, 400, "invalid_request", "date",
                 "/api/run-sheet?date=2026-02-30");
    expect_error("GET", W.staff_a, NULL, 400, "invalid_request", "include",
                 "/api/run-sheet?include=everything");
    /* A second trigger while one is queued or running is refused, not queued twice. */
    json_decref(tu_sandbox_json(&W.box, "PUT", "/_sandbox/faults", "{\"latency_ms\":400}"));
    json_decref(call("POST", W.admin_a, NULL, 202, "/api/pms/connections/%s/sync", W.conn));
    char path[128];
    snprintf(path, sizeof path, "/api/pms/connections/%s/sync", W.conn);
    expect_error("POST", W.admin_a, NULL, 409, "sync_in_progress", NULL, path);
    expect_error("POST", W.admin_a, "{\"from\":\"2026-01-02\"}", 400, "invalid_request", "to",
                 path);
    json_decref(wait_sync(W.admin_a, W.conn));
    json_decref(tu_sandbox_json(&W.box, "POST", "/_sandbox/faults/reset", NULL));
}

/* A connection to the first practice of a sandbox PMS (Medirecords or Halaxy), not syncing. */
static void connect_other(const char *pms, char *id, size_t len)
{
    json_t *info = json_object_get(W.info, pms);
    json_t *p = json_array_get(json_object_get(info, "practices"), 0);
    bool medirecords = strcmp(pms, "medirecords") == 0;
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s, s:s, s:s}}", "pmsType", pms, "displayName", pms,
        "baseUrl", str(info, "baseUrl"), "timezone", str(p, "timezone"), "syncEnabled", 0,
        "settings", medirecords ? "practice_id" : "client_id",
        str(p, medirecords ? "practiceId" : "clientId"), medirecords ? "token" : "client_secret",
        str(p, medirecords ? "token" : "clientSecret"), "rate_per_minute", "100000",
        "rate_per_hour", "1000000");
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_t *c = call("POST", W.admin_a, text, 201, "/api/pms/connections");
    free(text);
    snprintf(id, len, "%s", str(c, "id"));
    json_decref(c);
}

/* GET .../telehealth-check: counts only, and whether the types step is needed. */
static json_t *telehealth_check(const char *id, long appointments_at_least, bool needed)
{
    json_t *t = call("GET", W.admin_a, NULL, 200, "/api/pms/connections/%s/telehealth-check", id);
    assert_int_equal(json_object_size(t), 6); /* no patient data: the counts and the window */
    long n = (long)json_integer_value(json_object_get(t, "appointments"));
    long by_pms = (long)json_integer_value(json_object_get(t, "decidedByPms"));
    long by_type = (long)json_integer_value(json_object_get(t, "decidedByType"));
    assert_true(n >= appointments_at_least);
    assert_int_equal(by_pms + by_type, n);
    if (json_is_true(json_object_get(t, "typesStepNeeded")) != needed)
        fail_msg("typesStepNeeded is not %s: %ld appointments, %ld by the PMS",
                 needed ? "true" : "false", n, by_pms);
    pms_date from, to;
    assert_int_equal(pms_date_parse(str(t, "from"), &from, NULL), PMS_OK);
    assert_int_equal(pms_date_parse(str(t, "to"), &to, NULL), PMS_OK);
    assert_int_equal(pms_days_from_date(to) - pms_days_from_date(from), 6);
    return t;
}

static void telehealth_check_for_the_set_up_wizard(void **state)
{
    (void)state;
    /* A week read from the PMS: without the sandbox's rate limits of a real PMS. */
    json_decref(
        call("PATCH", W.admin_a,
             "{\"settings\":{\"rate_per_minute\":\"100000\",\"rate_per_hour\":\"1000000\"}}", 200,
             "/api/pms/connections/%s", W.conn));
    /* Gentu has no telehealth flag: the practice's types always decide. */
    json_t *t = telehealth_check(W.conn, 1, true);
    assert_int_equal(json_integer_value(json_object_get(t, "decidedByPms")), 0);
    const json_t *tenant =
        json_array_get(json_object_get(json_object_get(W.info, "gentu"), "tenants"), 0);
    assert_string_equal(str(t, "from"), str(tenant, "today"));
    json_decref(t);

    /* Medirecords says itself (links and type flags). */
    char medirecords[64], halaxy[64];
    connect_other("medirecords", medirecords, sizeof medirecords);
    t = telehealth_check(medirecords, 1, false);
    assert_int_equal(json_integer_value(json_object_get(t, "decidedByType")), 0);
    json_decref(t);
    /* Nothing of it was stored: no appointment, no sync. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT COUNT(*) FROM run_sheet_appointments WHERE pms_connection_id = '%s')"
             " + (SELECT COUNT(*) FROM pms_sync_log WHERE pms_connection_id = '%s')",
             medirecords, medirecords);
    assert_int_equal(tu_db_count(W.dir, sql), 0);

    /* Halaxy: its services need the practice's word, unless appointments carry a
     * location-type. */
    connect_other("halaxy", halaxy, sizeof halaxy);
    json_t *stats = tu_sandbox_json(&W.box, "GET", "/_sandbox/stats", NULL);
    json_int_t patients_read =
        json_integer_value(json_object_get(json_object_get(stats, "byEndpoint"), "halaxy.patient"));
    json_decref(stats);
    t = telehealth_check(halaxy, 1, true);
    assert_int_equal(json_integer_value(json_object_get(t, "decidedByPms")), 0);
    json_decref(t);
    /* Counting needs no patient: none was read. */
    stats = tu_sandbox_json(&W.box, "GET", "/_sandbox/stats", NULL);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(stats, "byEndpoint"), "halaxy.patient")),
        patients_read);
    json_decref(stats);
    json_decref(
        tu_sandbox_json(&W.box, "PUT", "/_sandbox/halaxy/settings", "{\"location_type\":true}"));
    t = telehealth_check(halaxy, 1, false);
    assert_int_equal(json_integer_value(json_object_get(t, "decidedByType")), 0);
    json_decref(t);
    json_decref(
        tu_sandbox_json(&W.box, "PUT", "/_sandbox/halaxy/settings", "{\"location_type\":false}"));
    /* Staff may not; the PMS's failure is explained. */
    char path[160];
    snprintf(path, sizeof path, "/api/pms/connections/%s/telehealth-check", halaxy);
    expect_error("GET", W.staff_a, NULL, 403, "forbidden", NULL, path);
    json_decref(call("PATCH", W.admin_a, "{\"settings\":{\"client_secret\":\"wrong\"}}", 200,
                     "/api/pms/connections/%s", halaxy));
    json_t *e = call("GET", W.admin_a, NULL, 502, "%s", path);
    assert_string_equal(str(json_object_get(json_object_get(e, "error"), "pms"), "kind"), "auth");
    json_decref(e);
    json_decref(call("DELETE", W.admin_a, NULL, 204, "/api/pms/connections/%s", medirecords));
    json_decref(call("DELETE", W.admin_a, NULL, 204, "/api/pms/connections/%s", halaxy));
}

static void practitioners_and_types(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof path, "/api/pms/connections/%s/practitioners", W.conn);
    json_t *p = call("GET", W.admin_a, NULL, 200, "%s", path);
    assert_true(json_is_true(json_object_get(p, "listedByPms")));
    json_t *list = json_object_get(p, "practitioners");
    assert_true(json_array_size(list) >= 2);
    char first[128], second[128];
    snprintf(first, sizeof first, "%s", str(json_array_get(list, 0), "pmsPractitionerId"));
    snprintf(second, sizeof second, "%s", str(json_array_get(list, 1), "pmsPractitionerId"));
    json_decref(p);

    /* A clinician of another account is not a column A can map to. */
    json_t *other =
        call("POST", W.admin_b, "{\"name\":\"Dr Elsewhere\"}", 201, "/api/run-sheet/clinicians");
    char body[512];
    snprintf(body, sizeof body,
             "{\"mappings\":[{\"pmsPractitionerId\":\"%s\",\"clinicianId\":\"%s\"}]}", first,
             str(other, "id"));
    json_decref(other);
    expect_error("POST", W.admin_a, body, 400, "invalid_request", "mappings[0].clinicianId", path);
    snprintf(body, sizeof body,
             "{\"mappings\":[{\"pmsPractitionerId\":\"%s\",\"syncEnabled\":true},"
             "{\"pmsPractitionerId\":\"no-such-practitioner\",\"syncEnabled\":false}]}",
             first);
    expect_error("POST", W.admin_a, body, 400, "invalid_request", "mappings[1].pmsPractitionerId",
                 path);
    expect_error("POST", W.admin_a, "{\"mappings\":[{\"clinicianId\":\"x\"}]}", 400,
                 "invalid_request", "mappings[0].pmsPractitionerId", path);
    snprintf(body, sizeof body,
             "{\"mappings\":[{\"pmsPractitionerId\":\"%s\",\"createClinician\":true,"
             "\"clinicianId\":\"x\"}]}",
             first);
    expect_error("POST", W.admin_a, body, 400, "invalid_request", "mappings[0].createClinician",
                 path);

    /* A new column for the second practitioner, then back to syncing off and on. */
    snprintf(body, sizeof body,
             "{\"mappings\":[{\"pmsPractitionerId\":\"%s\",\"createClinician\":true,"
             "\"clinicianName\":\"Telehealth room 2\"}]}",
             second);
    p = call("POST", W.admin_a, body, 200, "%s", path);
    size_t i;
    json_t *m;
    bool mapped = false;
    json_array_foreach(json_object_get(p, "practitioners"), i, m)
    {
        if (strcmp(str(m, "pmsPractitionerId"), second) == 0) {
            assert_string_equal(str(m, "clinicianName"), "Telehealth room 2");
            assert_true(json_is_true(json_object_get(m, "syncEnabled")));
            mapped = true;
        }
    }
    assert_true(mapped);
    json_decref(p);
    snprintf(body, sizeof body,
             "{\"mappings\":[{\"pmsPractitionerId\":\"%s\",\"clinicianId\":null}]}", second);
    p = call("POST", W.admin_a, body, 200, "%s", path);
    json_array_foreach(json_object_get(p, "practitioners"), i, m)
    {
        if (strcmp(str(m, "pmsPractitionerId"), second) == 0)
            assert_string_equal(str(m, "notSyncedReason"), "not_mapped");
    }
    json_decref(p);

    /* Appointment types: flags, and an unknown type named. */
    snprintf(path, sizeof path, "/api/pms/connections/%s/appointment-types", W.conn);
    json_t *types = call("GET", W.admin_a, NULL, 200, "%s?refresh=false", path);
    json_t *list_t = json_object_get(types, "appointmentTypes");
    assert_true(json_array_size(list_t) > 0);
    int telehealth = 0;
    json_t *t;
    char plain[128] = "";
    json_array_foreach(list_t, i, t)
    {
        telehealth += json_is_true(json_object_get(t, "isTelehealth"));
        if (!json_is_true(json_object_get(t, "isTelehealth")) && !plain[0])
            snprintf(plain, sizeof plain, "%s", str(t, "id"));
    }
    assert_true(telehealth > 0); /* marked when the connection was set up */
    json_decref(types);
    assert_true(plain[0] != '\0');
    expect_error("PATCH", W.admin_a,
                 "{\"appointmentTypes\":[{\"id\":\"nope\",\"isTelehealth\":true}]}", 400,
                 "invalid_request", "appointmentTypes[0].id", path);
    expect_error("PATCH", W.admin_a, "{\"appointmentTypes\":[{\"id\":\"x\"}]}", 400,
                 "invalid_request", "appointmentTypes[0].isTelehealth", path);
    snprintf(body, sizeof body, "{\"appointmentTypes\":[{\"id\":\"%s\",\"syncEnabled\":false}]}",
             plain);
    types = call("PATCH", W.admin_a, body, 200, "%s", path);
    json_array_foreach(json_object_get(types, "appointmentTypes"), i, t)
    {
        if (strcmp(str(t, "id"), plain) == 0)
            assert_false(json_is_true(json_object_get(t, "syncEnabled")));
    }
    json_decref(types);
    snprintf(body, sizeof body, "{\"appointmentTypes\":[{\"id\":\"%s\",\"syncEnabled\":true}]}",
             plain);
    json_decref(call("PATCH", W.admin_a, body, 200, "%s", path));
    /* The PMS catalogue endpoint lists the supported systems and their settings. */
    json_t *systems = call("GET", W.staff_a, NULL, 200, "/api/pms/systems");
    assert_true(json_array_size(json_object_get(systems, "pms")) >= 3);
    json_decref(systems);
}

static void sync_status_endpoints(void **state)
{
    (void)state;
    json_t *all = call("GET", W.staff_a, NULL, 200, "/api/pms/sync");
    assert_true(json_array_size(json_object_get(all, "connections")) >= 1);
    assert_true(json_is_true(json_object_get(all, "schedulerRunning")));
    json_decref(all);
    json_t *today = call("GET", W.staff_a, NULL, 200, "/api/run-sheet/sync");
    assert_true(json_is_string(json_object_get(today, "date")));
    assert_true(json_is_string(json_object_get(today, "lastSyncAt")));
    json_decref(today);
    /* Nothing enabled yet (the connection was made with syncing off): nothing to sync. */
    expect_error("POST", W.staff_a, NULL, 409, "not_configured", NULL, "/api/run-sheet/sync");
    json_decref(call("PATCH", W.admin_a, "{\"syncEnabled\":true,\"syncFrequencyMinutes\":1440}",
                     200, "/api/pms/connections/%s", W.conn));
    json_t *queued = call("POST", W.staff_a, NULL, 202, "/api/run-sheet/sync");
    json_t *first = json_array_get(json_object_get(queued, "connections"), 0);
    assert_string_equal(str(first, "connectionId"), W.conn);
    json_decref(queued);
    json_decref(wait_sync(W.staff_a, W.conn));
    json_t *history =
        call("GET", W.staff_a, NULL, 200, "/api/pms/connections/%s/sync?limit=1", W.conn);
    assert_int_equal(json_array_size(json_object_get(history, "history")), 1);
    assert_true(json_is_string(json_object_get(history, "nextSyncAt")));
    json_decref(history);
    char path[160];
    snprintf(path, sizeof path, "/api/pms/connections/%s/sync?limit=0", W.conn);
    expect_error("GET", W.staff_a, NULL, 400, "invalid_request", "limit", path);
}

/* ---- the audit log ------------------------------------------------------------------------ */

static void patient_data_responses_are_audited(void **state)
{
    (void)state;
    json_t *list = call("GET", W.staff_a, NULL, 200, "/api/run-sheet/appointments");
    json_t *patients = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(list, "appointments"), i, a)
    {
        const char *pid = str(json_object_get(a, "patient"), "pmsPatientId");
        if (pid && !contains(patients, pid))
            json_array_append_new(patients, json_string(pid));
    }
    json_decref(list);
    assert_true(json_array_size(patients) > 0);
    json_t *r = last_audit("run_sheet.appointments.list");
    assert_string_equal(str(r, "actorKeyId"), W.staff_a_id);
    assert_string_equal(str(r, "actorRole"), "staff");
    assert_string_equal(str(r, "accountId"), W.account_a);
    assert_string_equal(str(r, "clientAddr"), "127.0.0.1");
    assert_int_equal(json_integer_value(json_object_get(r, "outcome")), 200);
    json_t *ids = json_object_get(r, "patientIds");
    assert_int_equal(json_array_size(ids), json_array_size(patients));
    json_t *p;
    json_array_foreach(patients, i, p)
    {
        assert_true(contains(ids, json_string_value(p)));
    }
    json_decref(r);

    json_decref(call("GET", W.staff_a, NULL, 200, "/api/run-sheet"));
    r = last_audit("run_sheet.read");
    assert_int_equal(json_array_size(json_object_get(r, "patientIds")), json_array_size(patients));
    json_decref(r);

    json_t *one = call("GET", W.staff_a, NULL, 200, "/api/run-sheet/appointments/%s", W.entry);
    const char *pid = str(json_object_get(one, "patient"), "pmsPatientId");
    r = last_audit("run_sheet.appointment.read");
    assert_true(contains(json_object_get(r, "patientIds"), pid));
    assert_non_null(strstr(str(r, "resource"), W.entry));
    json_decref(r);
    json_decref(one);

    /* What the syncs wrote is audited too, with the patients it touched. */
    r = last_audit("sync.write");
    assert_string_equal(str(r, "actorRole"), "system");
    assert_true(json_array_size(json_object_get(r, "patientIds")) > 0);
    json_decref(r);
    json_decref(patients);

    char out[4096];
    pmsctl_ok(out, sizeof out, (const char *const[]){"audit", "verify", NULL});
}

/* A day with more patients than one audit record holds is audited in parts, and the rendering
 * kept for the next request follows every change. */
static void a_large_day_is_audited_in_parts_and_never_stale(void **state)
{
    (void)state;
    /* 1,200 PMS appointments of 1,200 patients on one day, written by another process. */
    pms_store *st = tu_open_store(W.dir);
    pms_date day = {2030, 1, 7};
    char *sheet = NULL;
    pms_error err = {0};
    assert_int_equal(
        st->ops->run_sheet_ensure(st, W.account_a, day, "Australia/Melbourne", &sheet, &err),
        PMS_OK);
    assert_int_equal(st->ops->begin(st, &err), PMS_OK);
    for (int i = 0; i < 1200; i++) {
        pms_sheet_entry e;
        pms_sheet_entry_init(&e);
        char id[32], start[64];
        snprintf(id, sizeof id, "bulk-%04d", i);
        snprintf(start, sizeof start, "2030-01-07T%02d:%02d:00+11:00", 8 + i / 120, (i % 120) / 2);
        tu_make_appt(&e.appt, W.conn, id, "bulk-practitioner", start, 15, true);
        e.run_sheet_id = strdup(sheet);
        e.clinician_id = strdup(W.clinician);
        e.source = PMS_SOURCE_PMS;
        pms_appointment_content_hash(&e.appt, e.content_hash);
        assert_int_equal(st->ops->entry_insert(st, &e, &err), PMS_OK);
        pms_sheet_entry_clear(&e);
    }
    assert_int_equal(st->ops->commit(st, &err), PMS_OK);

    json_t *day_json = call("GET", W.staff_a, NULL, 200, "/api/run-sheet?date=2030-01-07");
    assert_int_equal(json_integer_value(json_object_get(day_json, "appointmentCount")), 1200);
    json_decref(day_json);
    /* The newest records before pmsctl's own export record: two parts of one read. */
    json_t *records = audit_records();
    size_t n = json_array_size(records);
    while (n > 0 && strcmp(str(json_array_get(records, n - 1), "action"), "audit.export") == 0)
        n--;
    assert_true(n >= 2);
    json_t *last = json_array_get(records, n - 1), *before = json_array_get(records, n - 2);
    assert_string_equal(str(last, "action"), "run_sheet.read");
    assert_string_equal(str(before, "action"), "run_sheet.read");
    assert_int_equal(json_array_size(json_object_get(before, "patientIds")), 1000);
    assert_int_equal(json_array_size(json_object_get(last, "patientIds")), 200);
    json_decref(records);

    /* Served again from the kept rendering, then a change by another process shows at once. */
    json_decref(call("GET", W.staff_a, NULL, 200, "/api/run-sheet?date=2030-01-07"));
    pms_sheet_entry e;
    assert_int_equal(st->ops->entry_find_pms(st, W.conn, "bulk-0007", &e, &err), PMS_OK);
    e.edited_phone = strdup("+61400111222");
    e.edited_at = pms_now();
    assert_int_equal(st->ops->entry_update_edits(st, &e, &err), PMS_OK);
    pms_sheet_entry_clear(&e);
    tu_http_result r;
    tu_api(&W.d, "GET", W.staff_a, NULL, &r, "/api/run-sheet?date=2030-01-07&include=pms_status");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "+61400111222"));
    assert_true(json_is_object(json_object_get(r.json, "pmsStatus")));
    assert_int_equal(json_integer_value(json_object_get(r.json, "appointmentCount")), 1200);
    tu_http_free(&r);
    /* A new clinician column shows too. */
    json_decref(call("POST", W.admin_a, "{\"name\":\"Dr Late Addition\"}", 201,
                     "/api/run-sheet/clinicians"));
    tu_api(&W.d, "GET", W.staff_a, NULL, &r, "/api/run-sheet?date=2030-01-07");
    assert_non_null(strstr(r.body, "Dr Late Addition"));
    tu_http_free(&r);
    pms_store_close(st);
    free(sheet);
}

/* ---- manual and OCR entries --------------------------------------------------------------- */

static void manual_entries_and_conflict_rules(void **state)
{
    (void)state;
    const char *p = "/api/run-sheet/appointments";
    char body[1024];
    expect_error("POST", W.staff_a, "{\"startTime\":\"2026-04-05T10:00:00+10:00\"}", 400,
                 "invalid_request", "clinicianId", p);
    snprintf(body, sizeof body,
             "{\"clinicianId\":\"%s\",\"startTime\":\"tomorrow at ten\",\"durationMinutes\":15,"
             "\"patient\":{\"fullName\":\"Pat Manual\"}}",
             W.clinician);
    expect_error("POST", W.staff_a, body, 400, "invalid_request", "startTime", p);
    snprintf(body, sizeof body,
             "{\"clinicianId\":\"%s\",\"startTime\":\"2026-04-05T10:00:00+10:00\","
             "\"durationMinutes\":15}",
             W.clinician);
    expect_error("POST", W.staff_a, body, 400, "invalid_request", "patient", p);
    snprintf(body, sizeof body,
             "{\"clinicianId\":\"%s\",\"startTime\":\"2026-04-05T10:00:00+10:00\","
             "\"endTime\":\"2026-04-05T09:00:00+10:00\",\"patient\":{\"fullName\":\"Pat Manual\"}}",
             W.clinician);
    expect_error("POST", W.staff_a, body, 400, "invalid_request", "endTime", p);
    json_t *other =
        call("POST", W.admin_b, "{\"name\":\"Dr B\"}", 201, "/api/run-sheet/clinicians");
    snprintf(body, sizeof body,
             "{\"clinicianId\":\"%s\",\"startTime\":\"2026-04-05T10:00:00+10:00\","
             "\"durationMinutes\":15,\"patient\":{\"fullName\":\"Pat Manual\"}}",
             str(other, "id"));
    json_decref(other);
    expect_error("POST", W.staff_a, body, 400, "invalid_request", "clinicianId", p);

    /* A manual entry on today's sheet. */
    json_t *today = call("GET", W.staff_a, NULL, 200, "/api/run-sheet/sync");
    char date[16];
    snprintf(date, sizeof date, "%s", str(today, "date"));
    json_decref(today);
    snprintf(body, sizeof body,
             "{\"clinicianId\":\"%s\",\"startTime\":\"%sT23:00:00+11:00\",\"durationMinutes\":20,"
             "\"patient\":{\"fullName\":\"Pat Manual\",\"phone\":\"0412 345 678\"},"
             "\"notes\":\"walk-in\"}",
             W.clinician, date);
    json_t *m = call("POST", W.staff_a, body, 201, "%s", p);
    char manual[64];
    snprintf(manual, sizeof manual, "%s", str(m, "id"));
    assert_string_equal(str(m, "source"), "manual");
    assert_string_equal(str(json_object_get(m, "patient"), "phone"), "+61412345678");
    assert_int_equal(json_integer_value(json_object_get(m, "durationMinutes")), 20);
    assert_true(json_is_null(json_object_get(m, "pms_connection_id")));
    json_decref(m);
    json_t *r = last_audit("run_sheet.appointment.create");
    assert_non_null(strstr(str(r, "resource"), manual));
    assert_int_equal(json_integer_value(json_object_get(r, "outcome")), 201);
    json_decref(r);
    m = call("PATCH", W.staff_a, "{\"durationMinutes\":45,\"status\":\"arrived\"}", 200, "%s/%s", p,
             manual);
    assert_int_equal(json_integer_value(json_object_get(m, "durationMinutes")), 45);
    assert_string_equal(str(m, "status"), "arrived");
    json_decref(m);

    /* On a PMS appointment: phone, start and notes are edits; the rest belongs to the PMS. */
    char path[160];
    snprintf(path, sizeof path, "%s/%s", p, W.entry);
    json_t *before = call("GET", W.staff_a, NULL, 200, "%s", path);
    long duration = (long)json_integer_value(json_object_get(before, "durationMinutes"));
    json_decref(before);
    expect_error("PATCH", W.staff_a, "{\"status\":\"cancelled\"}", 409, "pms_owned", "status",
                 path);
    expect_error("PATCH", W.staff_a, "{\"patient\":{\"fullName\":\"Someone Else\"}}", 409,
                 "pms_owned", "patient.fullName", path);
    expect_error("PATCH", W.staff_a, "{\"durationMinutes\":5}", 409, "pms_owned", "durationMinutes",
                 path);
    expect_error("PATCH", W.staff_a, "{}", 400, "invalid_request", NULL, path);
    snprintf(body, sizeof body,
             "{\"patient\":{\"phone\":\"0499 000 111\"},\"startTime\":\"%sT22:30:00+11:00\","
             "\"notes\":\"call on mobile\"}",
             date);
    json_t *edited = call("PATCH", W.staff_a, body, 200, "%s", path);
    assert_string_equal(str(json_object_get(edited, "patient"), "phone"), "+61499000111");
    assert_int_equal(json_integer_value(json_object_get(edited, "durationMinutes")), duration);
    json_t *edits = json_object_get(edited, "manualEdits");
    assert_string_equal(str(edits, "phone"), "+61499000111");
    assert_non_null(strstr(str(edited, "notes"), "call on mobile"));
    json_decref(edited);
    /* Edits survive the next sync. */
    json_decref(sync_now(W.admin_a, W.conn));
    edited = call("GET", W.staff_a, NULL, 200, "%s", path);
    assert_string_equal(str(json_object_get(edited, "patient"), "phone"), "+61499000111");
    json_decref(edited);
    /* null undoes an edit. */
    edited = call("PATCH", W.staff_a, "{\"patient\":{\"phone\":null}}", 200, "%s", path);
    assert_true(json_is_null(json_object_get(json_object_get(edited, "manualEdits"), "phone")));
    json_decref(edited);

    expect_error("DELETE", W.staff_a, NULL, 409, "pms_owned", NULL, path);
    json_decref(call("DELETE", W.staff_a, NULL, 204, "%s/%s", p, manual));
    json_t *gone = call("GET", W.staff_a, NULL, 200, "%s/%s", p, manual);
    assert_true(json_is_true(json_object_get(gone, "removed")));
    json_decref(gone);
    snprintf(path, sizeof path, "%s/%s", p, manual);
    expect_error("DELETE", W.staff_a, NULL, 404, "not_found", NULL, path);
}

/* An OCR entry for an appointment the PMS then reports becomes that PMS appointment. */
static void ocr_entry_replaced_by_the_pms_appointment(void **state)
{
    (void)state;
    /* A new telehealth appointment in the PMS, for a practitioner the run sheet shows. */
    json_t *mappings = call("GET", W.admin_a, NULL, 200,
                            "/api/pms/connections/%s/practitioners?refresh=false", W.conn);
    char practitioner[128] = "", clinician[64] = "";
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(mappings, "practitioners"), i, m)
    {
        if (json_is_true(json_object_get(m, "synced")) && !practitioner[0]) {
            snprintf(practitioner, sizeof practitioner, "%s", str(m, "pmsPractitionerId"));
            snprintf(clinician, sizeof clinician, "%s", str(m, "clinicianId"));
        }
    }
    json_decref(mappings);
    assert_true(practitioner[0] != '\0');
    json_t *tenant =
        json_array_get(json_object_get(json_object_get(W.info, "gentu"), "tenants"), 0);
    const char *type = json_string_value(
        json_array_get(json_object_get(tenant, "telehealthAppointmentTypeIds"), 0));
    char body[512], path[256];
    snprintf(body, sizeof body,
             "{\"practitionerId\":\"%s\",\"appointmentTypeId\":\"%s\",\"startAt\":\"%sT21:40\","
             "\"minutesDuration\":15}",
             practitioner, type, str(tenant, "today"));
    snprintf(path, sizeof path, "/_sandbox/gentu/tenants/%s/appointments", W.tenant);
    json_t *created = tu_sandbox_json(&W.box, "POST", path, body);
    char pms_id[128], start[64];
    snprintf(pms_id, sizeof pms_id, "%s", str(created, "_id"));
    snprintf(start, sizeof start, "%s", str(created, "_startUtc"));
    snprintf(path, sizeof path, "/_sandbox/gentu/tenants/%s/patients/%s", W.tenant,
             str(created, "_patientId"));
    json_decref(created);
    json_t *patient = tu_sandbox_json(&W.box, "GET", path, NULL);
    /* The patient's name as the clinic's OCR would read it off the screen. */
    json_t *name = json_object_get(patient, "name");
    char full[256];
    snprintf(full, sizeof full, "%s %s", str(name, "given"), str(name, "family"));
    json_decref(patient);

    snprintf(body, sizeof body,
             "{\"source\":\"ocr\",\"clinicianId\":\"%s\",\"startTime\":\"%s\","
             "\"durationMinutes\":15,\"patient\":{\"fullName\":\"%s\"}}",
             clinician, start, full);
    json_t *ocr = call("POST", W.staff_a, body, 201, "/api/run-sheet/appointments");
    char ocr_id[64];
    snprintf(ocr_id, sizeof ocr_id, "%s", str(ocr, "id"));
    assert_string_equal(str(ocr, "source"), "ocr");
    json_decref(ocr);
    json_decref(sync_now(W.admin_a, W.conn));
    json_t *now = call("GET", W.staff_a, NULL, 200, "/api/run-sheet/appointments/%s", ocr_id);
    assert_string_equal(str(now, "source"), "pms");
    assert_string_equal(str(now, "pms_appointment_id"), pms_id);
    json_decref(now);
}

/* ---- key rotation while pmsd runs ---------------------------------------------------------- */

static void key_rotation_without_downtime(void **state)
{
    (void)state;
    char out[4096];
    pmsctl_ok(out, sizeof out, (const char *const[]){"key", "list", "--json", NULL});
    json_t *before = json_loads(out, 0, NULL);
    assert_non_null(before);
    /* A new primary key; every stored secret and token re-encrypted under it, pmsd running. */
    pmsctl_ok(out, sizeof out, (const char *const[]){"key", "rotate", NULL});
    pmsctl_ok(out, sizeof out, (const char *const[]){"key", "list", "--json", NULL});
    json_t *after = json_loads(out, 0, NULL);
    assert_non_null(after);
    assert_true(json_equal(before, after) == 0);
    json_decref(before);
    json_decref(after);
    /* pmsd opens the re-encrypted credentials and audits under the new key, without a restart. */
    json_decref(sync_now(W.admin_a, W.conn));
    json_t *t = call("POST", W.admin_a, NULL, 200, "/api/pms/connections/%s/test", W.conn);
    assert_true(json_is_true(json_object_get(t, "ok")));
    json_decref(t);
    json_decref(call("GET", W.staff_a, NULL, 200, "/api/run-sheet"));
    /* And after SIGHUP (the explicit reload) too. */
    kill(W.d.pid, SIGHUP);
    json_decref(call("GET", W.staff_a, NULL, 200, "/api/run-sheet"));
    pmsctl_ok(out, sizeof out, (const char *const[]){"audit", "verify", NULL});
}

/* ---- accounts are walled off ------------------------------------------------------------- */

/* Every route with an id, from pmsd's own table, refuses another account's ids with 404. */
static void other_accounts_ids_are_not_found(void **state)
{
    (void)state;
    int checked = 0;
    for (size_t i = 0; i < pmsd_route_count; i++) {
        const pmsd_route *route = &pmsd_routes[i];
        const char *brace = strstr(route->pattern, "{id}");
        /* A patient's {id} is the PMS's own, scoped by the connectionId asked with it. */
        if (brace == NULL || strncmp(route->pattern, "/api/pms/patients/", 18) == 0)
            continue;
        const char *id = strncmp(route->pattern, "/api/pms/connections/", 21) == 0    ? W.conn
                         : strncmp(route->pattern, "/api/pms/appointments/", 22) == 0 ? W.entry
                         : strncmp(route->pattern, "/api/run-sheet/appointments/", 28) == 0
                             ? W.entry
                         : strncmp(route->pattern, "/api/keys/", 10) == 0 ? W.staff_a_id
                                                                          : NULL;
        if (id == NULL)
            fail_msg("no id of account A for %s: add one to this test", route->pattern);
        char path[512];
        snprintf(path, sizeof path, "%.*s%s%s", (int)(brace - route->pattern), route->pattern, id,
                 brace + 4);
        bool has_body = strcmp(route->method, "POST") == 0 || strcmp(route->method, "PATCH") == 0;
        bool moves = strncmp(route->pattern, "/api/pms/appointments/", 22) == 0;
        expect_error(route->method, W.admin_b,
                     moves && has_body ? "{\"startTime\":\"2030-01-01T00:00:00Z\"}"
                     : has_body        ? "{}"
                                       : NULL,
                     404, "not_found", NULL, path);
        /* The id is real: account A reads it. */
        if (strcmp(route->method, "GET") == 0 && strstr(route->pattern, "practitioners") == NULL &&
            strstr(route->pattern, "appointment-types") == NULL)
            json_decref(call("GET", W.admin_a, NULL, 200, "%s", path));
        checked++;
    }
    assert_true(checked >= 13);
    /* Nothing B tried changed A's data. */
    json_t *c = call("GET", W.admin_a, NULL, 200, "/api/pms/connections/%s", W.conn);
    assert_string_equal(str(c, "id"), W.conn);
    json_decref(c);
    json_decref(call("GET", W.staff_a, NULL, 200, "/api/run-sheet/appointments/%s", W.entry));
    json_decref(call("GET", W.staff_a, NULL, 200, "/api/run-sheet"));
    /* B's run sheet holds none of A's appointments. */
    json_t *b = call("GET", W.admin_b, NULL, 200, "/api/run-sheet/appointments");
    assert_int_equal(json_array_size(json_object_get(b, "appointments")), 0);
    json_decref(b);
}

/* ---- logs carry no patient data ---------------------------------------------------------- */

static void logs_carry_no_patient_data(void **state)
{
    (void)state;
    /* A patient of the run sheet gets canary details in the PMS, and one appointment a canary
     * note; then they flow through a sync, the API and some failing requests. */
    json_t *list = call("GET", W.staff_a, NULL, 200,
                        "/api/run-sheet/appointments?pms_connection_id=%s", W.conn);
    json_t *first = json_array_get(json_object_get(list, "appointments"), 0);
    char patient_id[128], appt_id[128];
    snprintf(patient_id, sizeof patient_id, "%s",
             str(json_object_get(first, "patient"), "pmsPatientId"));
    snprintf(appt_id, sizeof appt_id, "%s", str(first, "pms_appointment_id"));
    json_decref(list);
    char path[256];
    snprintf(path, sizeof path, "/_sandbox/gentu/tenants/%s/patients/%s", W.tenant, patient_id);
    json_t *before = tu_sandbox_json(&W.box, "GET", path, NULL);
    char birth[16];
    snprintf(birth, sizeof birth, "%s", str(before, "birthDate"));
    json_decref(before);
    json_decref(tu_sandbox_json(&W.box, "PATCH", path,
                                "{\"name\":{\"family\":\"Qzcanaryfam\",\"given\":\"Qzcanarygiv\"},"
                                "\"mobile\":\"0491 570 156\","
                                "\"email\":\"qz.canary@example.invalid\"}"));
    snprintf(path, sizeof path, "/_sandbox/gentu/tenants/%s/appointments/%s", W.tenant, appt_id);
    json_decref(tu_sandbox_json(&W.box, "PATCH", path, "{\"comment\":\"Qzcanarynote\"}"));
    json_decref(sync_now(W.admin_a, W.conn));
    json_t *sheet = call("GET", W.staff_a, NULL, 200, "/api/run-sheet");
    char *text = json_dumps(sheet, 0);
    assert_non_null(strstr(text, "Qzcanaryfam")); /* the API shows it to the clinic */
    free(text);
    json_decref(sheet);
    expect_error("POST", W.staff_a,
                 "{\"clinicianId\":\"nope\",\"startTime\":\"Qzcanaryfam\",\"durationMinutes\":5,"
                 "\"patient\":{\"fullName\":\"Qzcanarygiv Qzcanaryfam\",\"phone\":\"0491570156\"}}",
                 400, "invalid_request", NULL, "/api/run-sheet/appointments");
    char entry_path[160];
    snprintf(entry_path, sizeof entry_path, "/api/run-sheet/appointments/%s", W.entry);
    expect_error("PATCH", W.staff_a, "{\"patient\":{\"fullName\":\"Qzcanarygiv\"}}", 409,
                 "pms_owned", NULL, entry_path);
    /* Scan every line pmsd logged (at debug level in this suite). */
    FILE *f = fopen(W.d.log_path, "r");
    assert_non_null(f);
    static const char *const canaries[] = {"Qzcanary",  "qzcanary",  "491 570",
                                           "491570156", "qz.canary", NULL};
    char line[8192];
    long lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        for (size_t i = 0; canaries[i]; i++)
            if (strstr(line, canaries[i]))
                fail_msg("patient data in a log line: %s", line);
        if (strstr(line, birth))
            fail_msg("a birth date in a log line: %s", line);
        json_t *parsed = json_loads(line, 0, NULL); /* every line is JSON */
        if (parsed == NULL)
            fail_msg("a log line that is not JSON: %s", line);
        json_decref(parsed);
    }
    fclose(f);
    assert_true(lines > 20);
}

/* ---- notifications between workers (PostgreSQL) ------------------------------------------ */

/* When pmsd's connection for notifications from other workers is cut, it connects again and
 * tells every event stream to load again (what it missed meanwhile is lost). */
static void a_lost_notification_connection_resets_event_streams(void **state)
{
    (void)state;
    tu_sse_reader live;
    tu_sse_open(&live, W.d.base, W.staff_a, NULL);
    assert_true(tu_sse_wait_for(&live, ": connected", 5000));
    assert_false(tu_sse_wait_for(&live, "event: reset", 0));
    long cut = tu_db_count(W.dir, "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                                  "pg_stat_activity WHERE datname = current_database() AND query "
                                  "LIKE 'LISTEN%') AS cut");
    assert_true(cut >= 1);
    assert_true(tu_sse_wait_for(&live, "event: reset", 15000));
    assert_true(tu_sse_wait_for(&live, "missed events", 1000));
    tu_sse_close(&live);
    /* Listening again. */
    for (int i = 0; i < 100 && tu_db_count(W.dir, "SELECT COUNT(*) FROM pg_stat_activity WHERE "
                                                  "datname = current_database() AND query LIKE "
                                                  "'LISTEN%'") == 0;
         i++)
        tu_sleep_ms(100);
    assert_true(tu_db_count(W.dir, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = "
                                   "current_database() AND query LIKE 'LISTEN%'") >= 1);
}

/* ---- SIGTERM during a sync --------------------------------------------------------------- */

static void sigterm_during_a_sync_leaves_a_consistent_database(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char out[8192], account[64], key[96];
    char *saved_dir = W.dir;
    W.dir = dir; /* pmsctl helpers work on this database */
    pmsctl_ok(out, sizeof out, (const char *const[]){"account", "add", "Clinic C", NULL});
    snprintf(account, sizeof account, "%s", out);
    make_key(account, "admin", key, sizeof key);
    tu_pmsd second;
    assert_int_equal(tu_pmsd_start(&second, dir,
                                   (const char *const[]){"--set", "shutdown_grace_seconds=0",
                                                         "--set", "scheduler=false", NULL}),
                     0);
    target = &second;
    char conn[64];
    connect_gentu(key, 2, "Slow practice", conn, sizeof conn);
    /* Slow pages: the sync is mid-way when the signal comes. */
    json_decref(
        tu_sandbox_json(&W.box, "PUT", "/_sandbox/faults", "{\"latency_ms\":150,\"page_size\":3}"));
    /* The sandbox's whole range: a week back and two ahead. */
    const json_t *tenant =
        json_array_get(json_object_get(json_object_get(W.info, "gentu"), "tenants"), 2);
    pms_date today;
    assert_int_equal(pms_date_parse(str(tenant, "today"), &today, NULL), PMS_OK);
    char from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN], window[96];
    pms_date_format(pms_date_add_days(today, -7), from);
    pms_date_format(pms_date_add_days(today, 14), to);
    snprintf(window, sizeof window, "{\"from\":\"%s\",\"to\":\"%s\"}", from, to);
    json_decref(call("POST", key, window, 202, "/api/pms/connections/%s/sync", conn));
    bool running = false;
    for (int i = 0; i < 100 && !running; i++) {
        json_t *s = call("GET", key, NULL, 200, "/api/pms/connections/%s/sync", conn);
        running = json_is_true(json_object_get(s, "running"));
        json_decref(s);
        if (!running)
            tu_sleep_ms(50);
    }
    assert_true(running);
    tu_sleep_ms(800);
    pms_instant asked = pms_now();
    int status = tu_pmsd_signal_and_wait(&second, SIGTERM, 20000);
    target = &W.d;
    assert_true(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(pms_now() - asked < 15000);
    json_decref(tu_sandbox_json(&W.box, "POST", "/_sandbox/faults/reset", NULL));

    /* No sync left "running", no appointment twice, the audit chain whole. */
    assert_int_equal(tu_db_count(dir, "SELECT COUNT(*) FROM pms_sync_log WHERE status = 'running'"),
                     0);
    assert_int_equal(tu_db_count(dir,
                                 "SELECT COUNT(*) FROM (SELECT 1 FROM run_sheet_appointments WHERE "
                                 "pms_appointment_id IS NOT NULL GROUP BY pms_connection_id, "
                                 "pms_appointment_id HAVING COUNT(*) > 1) AS twice"),
                     0);
    pmsctl_ok(out, sizeof out, (const char *const[]){"audit", "verify", NULL});
    /* Running the sync again completes it; once more changes nothing. */
    pmsctl_ok(out, sizeof out,
              (const char *const[]){"sync", conn, "--from", from, "--to", to, NULL});
    pmsctl_ok(out, sizeof out,
              (const char *const[]){"sync", conn, "--from", from, "--to", to, "--json", NULL});
    json_t *again = json_loads(out, 0, NULL);
    assert_non_null(again);
    json_t *counts = json_object_get(again, "counts");
    assert_int_equal(json_integer_value(json_object_get(counts, "created")), 0);
    assert_int_equal(json_integer_value(json_object_get(counts, "updated")), 0);
    json_decref(again);
    W.dir = saved_dir;
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(operations_endpoints),
        cmocka_unit_test(authentication_and_roles),
        cmocka_unit_test(api_keys),
        cmocka_unit_test(browser_sessions),
        cmocka_unit_test(failed_sign_ins_are_throttled),
        cmocka_unit_test(connection_validation),
        cmocka_unit_test(connection_lifecycle),
        cmocka_unit_test(pms_failures_are_explained),
        cmocka_unit_test(testing_a_connection_records_the_practice),
        cmocka_unit_test(connect_and_sync_with_live_updates),
        cmocka_unit_test(telehealth_check_for_the_set_up_wizard),
        cmocka_unit_test(practitioners_and_types),
        cmocka_unit_test(sync_status_endpoints),
        cmocka_unit_test(patient_data_responses_are_audited),
        cmocka_unit_test(a_large_day_is_audited_in_parts_and_never_stale),
        cmocka_unit_test(manual_entries_and_conflict_rules),
        cmocka_unit_test(ocr_entry_replaced_by_the_pms_appointment),
        cmocka_unit_test(key_rotation_without_downtime),
        cmocka_unit_test(other_accounts_ids_are_not_found),
        cmocka_unit_test(logs_carry_no_patient_data),
        cmocka_unit_test(sigterm_during_a_sync_leaves_a_consistent_database),
    };
    const struct CMUnitTest postgres_only[] = {
        cmocka_unit_test(a_lost_notification_connection_resets_event_streams),
    };
    if (tu_db_postgres()) /* several workers share a PostgreSQL database only */
        return cmocka_run_group_tests_name("postgres", postgres_only, setup, teardown) +
               cmocka_run_group_tests(tests, setup, teardown);
    return cmocka_run_group_tests(tests, setup, teardown);
}
