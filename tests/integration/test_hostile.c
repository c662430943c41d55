/* Hostile input at pmsd's API (a real pmsd, PMSD_BIN, against pms-sandbox; SQLite, or PostgreSQL
 * with PMSYNC_TEST_STORE=postgres). Two accounts, A and B, each with a canary patient on its run
 * sheet. Enumerated, route by route from pmsd's own table where the attack applies to routes:
 *   - bodies over the limit (announced and chunked): 413;
 *   - deep JSON, invalid UTF-8, huge numbers, truncated or duplicate-key JSON, non-objects: 400;
 *   - a wrong type, or an integer out of range, in every field of every body: 400 naming it;
 *   - path traversal on the UI's files (embedded and from static_dir): 404/400, never a file
 *     outside the UI directory;
 *   - SQL metacharacters, invalid UTF-8, NUL and long values in every path and query parameter:
 *     4xx or an empty result, and the database intact;
 *   - forged, truncated, revoked and expired session cookies and CSRF tokens, forged keys:
 *     401/403;
 *   - the other account's ids on every {id} route and in every id parameter: 404;
 *   - replayed, tampered, stale or misdirected voice signatures: 401.
 * After every request: no 5xx, pmsd still alive, no response to one account carries the other's
 * canary. At the end: /healthz answers, the audit chain verifies, the tables still hold what they
 * held, and pmsd's log holds neither canary nor anything of the hostile bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pmsd_proc.h"
#include "pmsync/crypto.h"
#include "pmsync/time.h"
#include "sandbox_proc.h"
#include "server/http.h"
#include "server/voice.h"
#include "testutil.h"

#define CANARY_A "Qzcanaryaardvark"
#define CANARY_B "Qzcanarybilby"
#define MARKER   "Qzhostilemarker" /* in hostile bodies and values: must never reach the log */
#define HMAC_A   "hostile-hmac-secret-a-5c1e9b"
#define HMAC_B   "hostile-hmac-secret-b-77d0aa"
#define DAY      "2026-03-02"

typedef struct account {
    char id[64];
    char admin[96], staff[96], agent[96];
    char admin_key_id[64];
    char conn[64];      /* a Gentu connection */
    char clinician[64]; /* a run-sheet column */
    char entry[64];     /* a manual appointment of the canary patient */
    char pms_entry[64]; /* A only: a synced PMS appointment */
} account;

typedef struct world {
    tu_sandbox box;
    tu_pmsd d;
    char *dir;
    json_t *info;
    account a, b;
    long requests; /* hostile requests sent */
    int diagnosed; /* HOSTILE_DIAGNOSE: 5xx answers printed rather than failed */
    long rows_before[4];
} world;

static world W;

static const char *const counted_tables[] = {"run_sheet_appointments", "pms_connections",
                                             "api_keys", "accounts"};

/* ---- requests ------------------------------------------------------------------------------ */

typedef struct res {
    long status;
    char *body;
    size_t len;
    json_t *json;
    char set_cookie[256];
} res;

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    res *r = userp;
    char *grown = realloc(r->body, r->len + size * n + 1);
    if (grown == NULL)
        return 0;
    r->body = grown;
    memcpy(r->body + r->len, data, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    res *r = userp;
    if (size * n > 12 && strncasecmp(data, "Set-Cookie: ", 12) == 0)
        snprintf(r->set_cookie, sizeof r->set_cookie, "%.*s", (int)(size * n - 12), data + 12);
    return size * n;
}

typedef struct chunked_body {
    const char *data;
    size_t len, at;
} chunked_body;

static size_t read_chunk(char *buf, size_t size, size_t n, void *userp)
{
    chunked_body *c = userp;
    size_t k = c->len - c->at < size * n ? c->len - c->at : size * n;
    memcpy(buf, c->data + c->at, k);
    c->at += k;
    return k;
}

static void res_free(res *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* One request to pmsd: raw path (sent as is), extra header lines, a body of body_len bytes (NULL:
 * none; chunked: without Content-Length). */
static void send_raw(const char *method, const char *path, const char *const *headers,
                     const char *body, size_t body_len, bool chunked, res *out)
{
    memset(out, 0, sizeof *out);
    char url[16384];
    snprintf(url, sizeof url, "%s%s", W.d.base, path);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    struct curl_slist *list = NULL;
    for (int i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    chunked_body chunks = {body, body_len, 0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body && chunked) {
        list = curl_slist_append(list, "Transfer-Encoding: chunked");
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_chunk);
        curl_easy_setopt(curl, CURLOPT_READDATA, &chunks);
    } else if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    if (out->body)
        out->json = json_loadb(out->body, out->len, 0, NULL);
    W.requests++;
}

static const char *error_field(const res *r)
{
    return json_string_value(json_object_get(json_object_get(r->json, "error"), "field"));
}

static const char *error_code(const res *r)
{
    const char *code =
        json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    return code ? code : "";
}

/* pmsd is still running (not crashed) and answers /healthz. */
static void expect_alive(const char *after)
{
    int status;
    if (waitpid(W.d.pid, &status, WNOHANG) == W.d.pid) {
        W.d.pid = 0;
        fail_msg("pmsd died after %s (status %d; see %s)", after, status, W.d.log_path);
    }
    res r;
    send_raw("GET", "/healthz", NULL, NULL, 0, false, &r);
    if (r.status != 200)
        fail_msg("pmsd does not answer /healthz after %s (HTTP %ld)", after, r.status);
    res_free(&r);
}

/* The checks every hostile request gets: an answer, not 5xx, nothing of the other account. who:
 * 'A', 'B' or 0 (anonymous: neither canary). */
static void common_checks(char who, const char *method, const char *path, const res *r)
{
    if (r->status == 0)
        fail_msg("%s %.200s: no answer (pmsd crashed?)", method, path);
    /* 501: a feature no PMS offers (documented, whatever the input). */
    bool not_offered = r->status == 501 && r->json && strcmp(error_code(r), "not_implemented") == 0;
    if (r->status >= 500 && !not_offered) {
        if (getenv("HOSTILE_DIAGNOSE") && ++W.diagnosed < 200) {
            print_error("%s %.200s: HTTP %ld: %.300s\n", method, path, r->status,
                        r->body ? r->body : "");
            return;
        }
        fail_msg("%s %.200s: HTTP %ld: %.300s", method, path, r->status, r->body ? r->body : "");
    }
    if (r->body && who != 'A' && strstr(r->body, CANARY_A))
        fail_msg("%s %.200s: account A's patient leaked to %c", method, path, who ? who : '-');
    if (r->body && who != 'B' && strstr(r->body, CANARY_B))
        fail_msg("%s %.200s: account B's patient leaked to %c", method, path, who ? who : '-');
}

/* A request with a key (NULL: none) and a JSON body; checked as above. */
static void hostile(char who, const char *key, const char *method, const char *path,
                    const char *body, size_t body_len, res *out)
{
    char auth[160];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    const char *headers[] = {key ? auth : "X-Nothing: 1", "Content-Type: application/json",
                             "Idempotency-Key: hostile-" MARKER, NULL};
    send_raw(method, path, headers, body, body ? body_len : 0, false, out);
    common_checks(who, method, path, out);
}

/* The same, wanting one status (and, when given, the error's field). */
static void expect_status(char who, const char *key, const char *method, const char *path,
                          const char *body, long want, const char *field)
{
    res r;
    hostile(who, key, method, path, body, body ? strlen(body) : 0, &r);
    if (r.status != want)
        fail_msg("%s %.200s with %.200s: HTTP %ld, wanted %ld: %.300s", method, path,
                 body ? body : "no body", r.status, want, r.body ? r.body : "");
    if (field) {
        const char *got = error_field(&r);
        size_t n = strlen(field);
        if (got == NULL || strncmp(got, field, n) != 0 ||
            (got[n] != '\0' && got[n] != '.' && got[n] != '['))
            fail_msg("%s %.200s with %.200s: field %s, wanted %s", method, path, body,
                     got ? got : "(none)", field);
    }
    res_free(&r);
}

/* An API call that must succeed (set-up). */
static json_t *ok_call(const char *key, const char *method, const char *path, const char *body,
                       long want)
{
    tu_http_result r;
    tu_api(&W.d, method, key, body, &r, "%s", path);
    if (r.status != want)
        fail_msg("%s %s: HTTP %ld, wanted %ld: %.400s", method, path, r.status, want,
                 r.body ? r.body : "");
    json_t *j = r.json;
    r.json = NULL;
    tu_http_free(&r);
    return j;
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- set-up ------------------------------------------------------------------------------- */

static void make_key(const char *account_id, const char *role, char *key, size_t len)
{
    char out[512];
    if (tu_pmsctl(W.dir, out, sizeof out,
                  (const char *const[]){"apikey", "create", "--account", account_id, "--name", role,
                                        "--role", role, NULL}) != 0 ||
        strncmp(out, "pmsk_", 5) != 0)
        fail_msg("apikey create failed: %s", out);
    snprintf(key, len, "%s", out);
}

static void connect_gentu(account *acc, int tenant, bool sync)
{
    const json_t *g = json_object_get(W.info, "gentu");
    const json_t *t = json_array_get(json_object_get(g, "tenants"), (size_t)tenant);
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s, s:s}}", "pmsType", "gentu", "displayName",
                  "Hostile clinic", "baseUrl", str(g, "baseUrl"), "timezone", str(t, "timezone"),
                  "syncEnabled", 0, "settings", "client_id", str(g, "clientId"), "client_secret",
                  str(g, "clientSecret"), "app_id", str(g, "appId"));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_t *c = ok_call(acc->admin, "POST", "/api/pms/connections", text, 201);
    free(text);
    snprintf(acc->conn, sizeof acc->conn, "%s", str(c, "id"));
    json_decref(c);
    char path[256], pair[128];
    snprintf(path, sizeof path, "/api/pms/connections/%s/pair", acc->conn);
    snprintf(pair, sizeof pair, "{\"code\":\"%s\"}", str(t, "pairingCode"));
    json_decref(ok_call(acc->admin, "POST", path, pair, 200));
    if (!sync)
        return;
    snprintf(path, sizeof path, "/api/pms/connections/%s/appointment-types", acc->conn);
    json_decref(ok_call(acc->admin, "GET", path, NULL, 200));
    json_decref(ok_call(acc->admin, "PATCH", path, "{\"markSuggestedTelehealth\":true}", 200));
    snprintf(path, sizeof path, "/api/pms/connections/%s/practitioners", acc->conn);
    json_decref(ok_call(acc->admin, "GET", path, NULL, 200));
    snprintf(path, sizeof path, "/api/pms/connections/%s/sync", acc->conn);
    json_decref(ok_call(acc->admin, "POST", path, "{\"date\":\"" DAY "\"}", 202));
    for (int i = 0; i < 600; i++) {
        json_t *s = ok_call(acc->admin, "GET", path, NULL, 200);
        bool done = !json_is_true(json_object_get(s, "running")) &&
                    !json_is_true(json_object_get(s, "queued")) &&
                    json_is_string(json_object_get(s, "lastSyncStatus"));
        json_decref(s);
        if (done)
            return;
        tu_sleep_ms(100);
    }
    fail_msg("the sync of %s did not finish", acc->conn);
}

static void add_canary(account *acc, const char *canary)
{
    char body[512];
    snprintf(body, sizeof body, "{\"name\":\"Dr %s column\"}", canary + 8);
    json_t *c = ok_call(acc->admin, "POST", "/api/run-sheet/clinicians", body, 201);
    snprintf(acc->clinician, sizeof acc->clinician, "%s", str(c, "id"));
    json_decref(c);
    snprintf(body, sizeof body,
             "{\"source\":\"manual\",\"clinicianId\":\"%s\",\"startTime\":\"" DAY
             "T09:00:00+11:00\",\"durationMinutes\":15,\"patient\":{\"fullName\":\"%s "
             "Patient\",\"phone\":\"0400 000 000\"},\"notes\":\"%s notes\"}",
             acc->clinician, canary, canary);
    json_t *e = ok_call(acc->staff, "POST", "/api/run-sheet/appointments", body, 201);
    snprintf(acc->entry, sizeof acc->entry, "%s", str(e, "id"));
    json_decref(e);
}

static void voice_settings(account *acc, const char *hmac)
{
    char body[512];
    snprintf(body, sizeof body, "{\"hmacSecret\":\"%s\",\"connectionId\":\"%s\"}", hmac, acc->conn);
    json_decref(ok_call(acc->admin, "PUT", "/api/voice/settings", body, 200));
}

static void set_up_account(account *acc, const char *name)
{
    char out[512];
    if (tu_pmsctl(W.dir, out, sizeof out,
                  (const char *const[]){"account", "add", name, "--timezone", "Australia/Melbourne",
                                        NULL}) != 0)
        fail_msg("account add failed: %s", out);
    snprintf(acc->id, sizeof acc->id, "%s", out);
    make_key(acc->id, "admin", acc->admin, sizeof acc->admin);
    make_key(acc->id, "staff", acc->staff, sizeof acc->staff);
    make_key(acc->id, "agent", acc->agent, sizeof acc->agent);
}

static long table_rows(const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    return tu_db_query_count(tu_db_location(W.dir), sql);
}

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof W);
    const char *box_args[] = {"--today", DAY, NULL};
    if (tu_sandbox_start(&W.box, box_args) != 0)
        return -1;
    W.info = tu_sandbox_json(&W.box, "GET", "/_sandbox/info", NULL);
    W.dir = tu_tempdir();
    set_up_account(&W.a, "Clinic A");
    set_up_account(&W.b, "Clinic B");
    const char *args[] = {"--set", "scheduler_scan_seconds=1", "--set", "shutdown_grace_seconds=5",
                          "--set", "log_level=debug",          NULL};
    if (tu_pmsd_start(&W.d, W.dir, args) != 0) {
        fprintf(stderr, "pmsd did not start (see %s)\n", W.d.log_path);
        return -1;
    }
    connect_gentu(&W.a, 0, true);
    connect_gentu(&W.b, 1, false);
    add_canary(&W.a, CANARY_A);
    add_canary(&W.b, CANARY_B);
    voice_settings(&W.a, HMAC_A);
    voice_settings(&W.b, HMAC_B);
    /* A synced PMS appointment of A's, and A's admin key's id. */
    char path[256];
    snprintf(path, sizeof path, "/api/run-sheet/appointments?date=%s&source=pms", DAY);
    json_t *list = ok_call(W.a.staff, "GET", path, NULL, 200);
    const json_t *first = json_array_get(json_object_get(list, "appointments"), 0);
    if (first)
        snprintf(W.a.pms_entry, sizeof W.a.pms_entry, "%s", str(first, "id"));
    json_decref(list);
    if (W.a.pms_entry[0] == '\0') {
        fprintf(stderr, "the sync brought no appointment\n");
        return -1;
    }
    for (int n = 0; n < 2; n++) {
        account *acc = n ? &W.b : &W.a;
        json_t *keys = ok_call(acc->admin, "GET", "/api/keys", NULL, 200);
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(keys, "keys"), i, k)
        {
            if (strcmp(str(k, "role"), "admin") == 0)
                snprintf(acc->admin_key_id, sizeof acc->admin_key_id, "%s", str(k, "id"));
        }
        json_decref(keys);
    }
    for (size_t t = 0; t < sizeof counted_tables / sizeof counted_tables[0]; t++)
        W.rows_before[t] = table_rows(counted_tables[t]);
    return W.a.admin_key_id[0] && W.b.admin_key_id[0] ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    int rc = W.d.pid > 0 ? tu_pmsd_stop(&W.d) : -1;
    tu_sandbox_stop(&W.box);
    json_decref(W.info);
    if (W.dir) {
        tu_rmtree(W.dir);
        free(W.dir);
    }
    return rc;
}

/* ---- routes ------------------------------------------------------------------------------- */

/* A route's path with each {id} replaced by acc's id of that kind (NULL when the route has no
 * id of acc's: patients are the PMS's ids). */
static bool route_path(const pmsd_route *route, const account *acc, char *out, size_t len)
{
    const char *p = route->pattern;
    const char *brace = strstr(p, "{id}");
    if (brace == NULL) {
        snprintf(out, len, "%s", p);
        return true;
    }
    const char *id = strncmp(p, "/api/pms/connections/", 21) == 0          ? acc->conn
                     : strncmp(p, "/api/pms/appointments/", 22) == 0       ? acc->entry
                     : strncmp(p, "/api/run-sheet/appointments/", 28) == 0 ? acc->entry
                     : strncmp(p, "/api/keys/", 10) == 0                   ? acc->admin_key_id
                     : strncmp(p, "/api/pms/patients/", 18) == 0           ? "patient-1"
                                                                           : NULL;
    if (id == NULL)
        fail_msg("no id for %s: add one to this test", p);
    snprintf(out, len, "%.*s%s%s", (int)(brace - p), p, id, brace + 4);
    return true;
}

static bool takes_body(const pmsd_route *route)
{
    return strcmp(route->method, "POST") == 0 || strcmp(route->method, "PATCH") == 0 ||
           strcmp(route->method, "PUT") == 0;
}

static bool is_voice(const pmsd_route *route)
{
    return strcmp(route->pattern, "/api/voice/vapi") == 0;
}

/* ---- bodies ------------------------------------------------------------------------------- */

static void oversized_bodies_are_413(void **state)
{
    (void)state;
    size_t limit = 1048576; /* body_limit's default */
    size_t voice_limit = PMSD_VOICE_BODY_LIMIT > limit ? PMSD_VOICE_BODY_LIMIT : limit;
    char *big = malloc(voice_limit + 2);
    assert_non_null(big);
    memset(big, ' ', voice_limit + 1);
    memcpy(big, "{\"" MARKER "\":\"", 19);
    big[voice_limit + 1] = '\0';
    int checked = 0;
    for (size_t i = 0; i < pmsd_route_count; i++) {
        const pmsd_route *route = &pmsd_routes[i];
        char path[512];
        route_path(route, &W.a, path, sizeof path);
        size_t n = (is_voice(route) ? voice_limit : limit) + 1;
        for (int chunked = 0; chunked < 2; chunked++) {
            char auth[160];
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", W.a.admin);
            const char *headers[] = {auth, "Content-Type: application/json", NULL};
            res r;
            send_raw(route->method, path, headers, big, n, chunked == 1, &r);
            common_checks('A', route->method, path, &r);
            /* A GET with a body is not refused by every route reader: only routes taking a
             * body must answer 413, but no route may accept the oversized body. */
            if (takes_body(route) || route->method[0] == 'D' || r.status != 200) {
                if (r.status != 413)
                    fail_msg("%s %s with %zu bytes%s: HTTP %ld, wanted 413", route->method, path, n,
                             chunked ? " (chunked)" : "", r.status);
            }
            res_free(&r);
            checked++;
        }
    }
    free(big);
    expect_alive("oversized bodies");
    print_message("%d oversized bodies refused\n", checked);
}

/* Bodies no JSON reader should accept, or that are not an object. */
static char *deep(const char *open, const char *close, int depth)
{
    size_t o = strlen(open), c = strlen(close);
    char *s = malloc((o + c) * (size_t)depth + 1);
    assert_non_null(s);
    size_t at = 0;
    for (int i = 0; i < depth; i++, at += o)
        memcpy(s + at, open, o);
    for (int i = 0; i < depth; i++, at += c)
        memcpy(s + at, close, c);
    s[at] = '\0';
    return s;
}

static void malformed_json_is_400(void **state)
{
    (void)state;
    char *arrays = deep("[", "]", 10000);
    char *objects = deep("{\"a\":", "}", 10000);
    char *objects_in_field = deep("[", "]", 5000);
    char *field_body = malloc(strlen(objects_in_field) + 64);
    assert_non_null(field_body);
    sprintf(field_body, "{\"name\":%s}", objects_in_field);
    const struct {
        const char *what;
        const char *body;
        size_t len; /* 0: strlen */
    } bodies[] = {
        {"10,000 nested arrays", arrays, 0},
        {"10,000 nested objects", objects, 0},
        {"5,000 nested arrays in a field", field_body, 0},
        {"invalid UTF-8 in a string", "{\"name\":\"" MARKER "\xff\xfe\"}", 0},
        {"an overlong UTF-8 encoding", "{\"name\":\"" MARKER "\xc0\xaf\"}", 0},
        {"a lone surrogate escape", "{\"name\":\"" MARKER "\\ud800\"}", 0},
        {"a UTF-8 encoded surrogate", "{\"name\":\"" MARKER "\xed\xa0\x80\"}", 0},
        {"invalid UTF-8 in a key", "{\"\xff" MARKER "\":1}", 0},
        {"1e400", "{\"name\":1e400}", 0},
        {"2^64", "{\"name\":18446744073709551616}", 0},
        {"-2^64", "{\"name\":-18446744073709551616}", 0},
        {"a NUL byte", "{\"name\":\"" MARKER "\0x\"}", sizeof "{\"name\":\"" MARKER "\0x\"}" - 1},
        {"truncated", "{\"name\":\"" MARKER, 0},
        {"duplicate keys", "{\"name\":\"" MARKER "\",\"name\":\"b\"}", 0},
        {"an array", "[\"" MARKER "\"]", 0},
        {"a string", "\"" MARKER "\"", 0},
        {"a number", "12345", 0},
        {"null", "null", 0},
        {"trailing garbage", "{\"name\":\"" MARKER "\"} x", 0},
        {"NaN", "{\"name\":NaN}", 0},
    };
    int checked = 0;
    for (size_t i = 0; i < pmsd_route_count; i++) {
        const pmsd_route *route = &pmsd_routes[i];
        if (!takes_body(route))
            continue;
        char path[512];
        route_path(route, &W.a, path, sizeof path);
        /* Admin for admin's routes, the agent for the PMS API: a body read by a handler. */
        const char *key = strncmp(route->pattern, "/api/pms/appointments", 21) == 0 ||
                                  strncmp(route->pattern, "/api/pms/patients", 17) == 0 ||
                                  strncmp(route->pattern, "/api/pms/payments", 17) == 0
                              ? W.a.agent
                          : (route->access & PMSD_ADMIN) ? W.a.admin
                                                         : W.a.staff;
        for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
            res r;
            size_t len = bodies[b].len ? bodies[b].len : strlen(bodies[b].body);
            hostile('A', is_voice(route) ? NULL : key, route->method, path, bodies[b].body, len,
                    &r);
            /* The voice endpoint answers Vapi's messages it does not know with 200 {} (and
             * without the clinic's credential 401); routes that take no body ignore it, and
             * those whose feature no PMS offers answer 501 first; everything else must refuse
             * the body. */
            bool ignores_body = strcmp(route->pattern, "/api/run-sheet/sync") == 0 ||
                                strstr(route->pattern, "/test") != NULL;
            bool ok = is_voice(route)   ? r.status == 200 || r.status == 401
                      : ignores_body    ? r.status < 500
                      : r.status == 501 ? strstr(route->pattern, "/notes") != NULL ||
                                              strstr(route->pattern, "/payments") != NULL
                                        : r.status == 400;
            if (!ok)
                fail_msg("%s %s with %s: HTTP %ld: %.300s", route->method, path, bodies[b].what,
                         r.status, r.body ? r.body : "");
            if (is_voice(route) && r.status == 200 && r.json && json_object_size(r.json) != 0)
                fail_msg("the voice endpoint did something with %s: %.300s", bodies[b].what,
                         r.body);
            res_free(&r);
            checked++;
        }
    }
    free(arrays);
    free(objects);
    free(objects_in_field);
    free(field_body);
    expect_alive("malformed JSON");
    print_message("%d malformed bodies refused\n", checked);
}

/* ---- every field, every wrong type ------------------------------------------------------- */

typedef struct body_route {
    const char *method;
    const char *path; /* %s: the id */
    char id_kind;     /* 'c' connection, 'e' manual entry, 'p' PMS entry, 0 none */
    const char *key_role;
    const char *base; /* a valid body (%s: A's clinician or connection); fields replace its own */
    const char *fields;
} body_route;

/* field:type, space-separated; types: s string, i integer, b boolean, o object, a array, d date,
 * t instant, e enum. */
static const body_route body_routes[] = {
    {"POST", "/api/pms/connections", 0, "admin",
     "{\"pmsType\":\"gentu\",\"displayName\":\"X\",\"baseUrl\":\"http://127.0.0.1:9/gentu\","
     "\"timezone\":\"Australia/Melbourne\",\"syncEnabled\":false,\"syncFrequencyMinutes\":15,"
     "\"syncTelehealthOnly\":true,\"unmappedPractitioners\":\"skip\",\"setupStep\":\"connect\","
     "\"settings\":{\"client_id\":\"c\",\"client_secret\":\"s\",\"app_id\":\"a\"}}",
     "pmsType:e displayName:s baseUrl:s timezone:s syncEnabled:b syncFrequencyMinutes:i "
     "syncTelehealthOnly:b unmappedPractitioners:e setupStep:e settings:o"},
    {"PATCH", "/api/pms/connections/%s", 'c', "admin", "{}",
     "displayName:s baseUrl:s timezone:s syncEnabled:b syncFrequencyMinutes:i "
     "syncTelehealthOnly:b unmappedPractitioners:e setupStep:e settings:o"},
    {"POST", "/api/pms/connections/%s/pair", 'c', "admin", "{\"code\":\"x\"}", "code:s"},
    {"POST", "/api/pms/connections/%s/sync", 'c', "admin", "{}", "date:d from:d to:d"},
    {"POST", "/api/pms/connections/%s/practitioners", 'c', "admin", "{\"mappings\":[]}",
     "mappings:a"},
    {"PATCH", "/api/pms/connections/%s/appointment-types", 'c', "admin",
     "{\"markSuggestedTelehealth\":false}", "appointmentTypes:a markSuggestedTelehealth:b"},
    {"POST", "/api/run-sheet/clinicians", 0, "admin", "{\"name\":\"X\"}", "name:s"},
    {"POST", "/api/run-sheet/appointments", 0, "staff",
     "{\"source\":\"manual\",\"clinicianId\":\"%s\",\"startTime\":\"" DAY
     "T10:00:00+11:00\",\"durationMinutes\":15,\"patient\":{\"fullName\":\"X Y\",\"phone\":\"1\"},"
     "\"appointmentTypeName\":\"T\",\"isTelehealth\":false,\"notes\":\"n\",\"status\":\"booked\"}",
     "source:e clinicianId:s startTime:t durationMinutes:i patient:o appointmentTypeName:s "
     "isTelehealth:b notes:s status:e"},
    {"PATCH", "/api/run-sheet/appointments/%s", 'e', "staff", "{}",
     "startTime:t durationMinutes:i patient:o appointmentTypeName:s isTelehealth:b notes:s "
     "status:e clinicianId:s"},
    {"PATCH", "/api/run-sheet/appointments/%s", 'p', "staff", "{}",
     "startTime:t notes:s patient:o"},
    {"POST", "/api/keys", 0, "admin", "{\"name\":\"X\",\"role\":\"staff\"}", "name:s role:e"},
    {"PUT", "/api/voice/settings", 0, "admin", "{}",
     "bearerSecret:s hmacSecret:s connectionId:s phoneNumberId:s"},
    {"POST", "/api/pms/appointments", 0, "agent",
     "{\"connectionId\":\"%s\",\"patientId\":\"p\",\"practitionerId\":\"p\",\"startTime\":\"" DAY
     "T10:00:00+11:00\",\"durationMinutes\":15,\"appointmentTypeId\":\"t\",\"notes\":\"n\"}",
     "connectionId:s patientId:s practitionerId:s startTime:t durationMinutes:i "
     "appointmentTypeId:s notes:s"},
    {"PATCH", "/api/pms/appointments/%s", 'p', "agent",
     "{\"startTime\":\"" DAY "T10:00:00+11:00\",\"durationMinutes\":15}",
     "startTime:t durationMinutes:i"},
    {"DELETE", "/api/pms/appointments/%s", 'p', "agent", "{}", "reason:s"},
    {"POST", "/api/pms/patients", 0, "agent",
     "{\"connectionId\":\"%s\",\"givenName\":\"G\",\"familyName\":\"F\",\"phone\":\"1\","
     "\"email\":\"a@b.c\",\"dateOfBirth\":\"1980-01-01\"}",
     "connectionId:s givenName:s familyName:s phone:s email:s dateOfBirth:d"},
    {"POST", "/api/session", 0, NULL, "{\"apiKey\":\"pmsk_x\"}", "apiKey:s username:s password:s"},
};

/* Values of the wrong type (or out of range) for a field of type t. */
static const char *const *wrong_values(char t)
{
    static const char *const string[] = {
        "12345", "true", "[\"" MARKER "\"]", "{\"" MARKER "\":1}", "9223372036854775807", NULL};
    static const char *const integer[] = {"\"15\"",
                                          "1.5",
                                          "true",
                                          "[15]",
                                          "{}",
                                          "9223372036854775807",
                                          "-9223372036854775808",
                                          "1e300",
                                          "-1",
                                          "\"" MARKER "\"",
                                          NULL};
    static const char *const boolean[] = {"\"true\"", "1", "0", "[]", "{}", "\"" MARKER "\"", NULL};
    static const char *const object[] = {"\"" MARKER "\"", "1", "true", "[]", NULL};
    static const char *const array[] = {"\"" MARKER "\"",   "1", "true", "{}",
                                        "[1, \"x\", null]", NULL};
    static const char *const text_date[] = {
        "\"" MARKER "\"", "20260302", "\"2026-13-45\"", "\"2026-03-02' OR 1=1 --\"", "[]", NULL};
    static const char *const instant[] = {
        "\"" MARKER "\"",           "1772400000", "\"2026-03-02T10:00:00\"",
        "\"2026-03-02T25:61:00Z\"", "{}",         NULL};
    static const char *const choice[] = {"\"" MARKER "\"",  "1", "true", "[\"booked\"]",
                                         "\"' OR 1=1 --\"", NULL};
    switch (t) {
    case 's':
        return string;
    case 'i':
        return integer;
    case 'b':
        return boolean;
    case 'o':
        return object;
    case 'a':
        return array;
    case 'd':
        return text_date;
    case 't':
        return instant;
    default:
        return choice;
    }
}

static const account *acc_a(void)
{
    return &W.a;
}

static void wrong_types_name_the_field(void **state)
{
    (void)state;
    int checked = 0;
    for (size_t r = 0; r < sizeof body_routes / sizeof body_routes[0]; r++) {
        const body_route *br = &body_routes[r];
        const account *a = acc_a();
        char path[512];
        const char *id = br->id_kind == 'c'   ? a->conn
                         : br->id_kind == 'e' ? a->entry
                         : br->id_kind == 'p' ? a->pms_entry
                                              : "";
        snprintf(path, sizeof path, br->path, id);
        const char *key = br->key_role == NULL                 ? NULL
                          : strcmp(br->key_role, "admin") == 0 ? a->admin
                          : strcmp(br->key_role, "staff") == 0 ? a->staff
                                                               : a->agent;
        char base_text[2048];
        snprintf(base_text, sizeof base_text, br->base,
                 strstr(br->base, "clinicianId") ? a->clinician : a->conn);
        json_t *base = json_loads(base_text, 0, NULL);
        if (base == NULL)
            fail_msg("the test's base body for %s %s is not JSON", br->method, br->path);
        char fields[512];
        snprintf(fields, sizeof fields, "%s", br->fields);
        for (char *save = NULL, *f = strtok_r(fields, " ", &save); f;
             f = strtok_r(NULL, " ", &save)) {
            char *colon = strchr(f, ':');
            *colon = '\0';
            const char *const *values = wrong_values(colon[1]);
            for (int v = 0; values[v]; v++) {
                /* "-1" is wrong only for integers that must be positive: all of them here. */
                json_t *value = json_loads(values[v], JSON_DECODE_ANY, NULL);
                assert_non_null(value);
                json_t *body = json_deep_copy(base);
                json_object_set_new(body, f, value);
                char *text = json_dumps(body, JSON_COMPACT);
                json_decref(body);
                expect_status('A', key, br->method, path, text, 400, f);
                free(text);
                checked++;
            }
            /* Out of the JSON reader's range: 400 (the reader cannot say which field). */
            const char *huge[] = {"1e400", "18446744073709551616", "-1e400"};
            for (size_t h = 0; h < sizeof huge / sizeof huge[0]; h++) {
                char text[4096];
                if (json_object_size(base) == 0)
                    snprintf(text, sizeof text, "{\"%s\":%s}", f, huge[h]);
                else
                    snprintf(text, sizeof text, "{\"%s\":%s,%s", f, huge[h], base_text + 1);
                expect_status('A', key, br->method, path, text, 400, NULL);
                checked++;
            }
        }
        /* An unknown field is refused, named. */
        json_t *body = json_deep_copy(base);
        json_object_set_new(body, MARKER, json_string("x"));
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        expect_status('A', key, br->method, path, text, 400, MARKER);
        free(text);
        json_decref(base);
        checked++;
    }
    expect_alive("wrong types");
    print_message("%d wrongly typed fields refused, each named\n", checked);
}

/* ---- path and query parameters ---------------------------------------------------------- */

static const char *const injections[] = {
    "%27%20OR%201%3D1%20--",                                     /* ' OR 1=1 -- */
    "%27%29%3B%20DROP%20TABLE%20run_sheet_appointments%3B%20--", /* '); DROP TABLE ... */
    "%22%3B%20DROP%20TABLE%20accounts%3B%20--",                  /* "; DROP TABLE accounts; -- */
    "%25",                                                       /* % */
    "_",
    "%25%25",
    "%5C",           /* \ */
    "%FF%FE" MARKER, /* invalid UTF-8 */
    "%C0%AF",        /* overlong / */
    "%ED%A0%80",     /* a UTF-8 encoded surrogate */
    "x%00y" MARKER,  /* NUL */
    "..%2F..%2Fetc", /* encoded slashes */
    "%E2%80%AE" MARKER /* right-to-left override */,
    "1e400",
    "18446744073709551616",
    "-1",
    "00000000-0000-0000-0000-000000000000",
};

static char *long_value(void)
{
    static char v[5001];
    memset(v, 'a', sizeof v - 1);
    v[sizeof v - 1] = '\0';
    return v;
}

static bool empty_result(const res *r)
{
    if (r->status < 200 || r->status >= 300)
        return true;
    const json_t *list = json_object_get(r->json, "appointments");
    if (list == NULL)
        list = json_object_get(r->json, "patients");
    return list == NULL || json_array_size(list) == 0;
}

static void path_parameters_are_4xx(void **state)
{
    (void)state;
    int checked = 0, failures = 0;
    for (size_t i = 0; i < pmsd_route_count; i++) {
        const pmsd_route *route = &pmsd_routes[i];
        const char *brace = strstr(route->pattern, "{id}");
        if (brace == NULL)
            continue;
        const char *key = route->access & PMSD_ADMIN ? W.a.admin : W.a.agent;
        for (size_t v = 0; v <= sizeof injections / sizeof injections[0]; v++) {
            const char *value =
                v < sizeof injections / sizeof injections[0] ? injections[v] : long_value();
            char path[8192];
            snprintf(path, sizeof path, "%.*s%s%s%s", (int)(brace - route->pattern), route->pattern,
                     value, brace + 4,
                     strstr(route->pattern, "/api/pms/patients/") ? "?connectionId=" : "");
            if (strstr(route->pattern, "/api/pms/patients/"))
                strncat(path, W.a.conn, sizeof path - strlen(path) - 1);
            const char *body = takes_body(route) ? "{}" : NULL;
            res r;
            hostile('A', key, route->method, path, body, body ? 2 : 0, &r);
            /* 404 (no such record), 400 (not an id), 405 (a NUL ended the path early: another
             * route), 501 (a feature no PMS offers). */
            if ((r.status < 400 || r.status > 499) && r.status != 501 && ++failures <= 20)
                print_error("%s %.200s: HTTP %ld: %.300s\n", route->method, path, r.status,
                            r.body ? r.body : "");
            res_free(&r);
            checked++;
        }
    }
    if (failures > 0)
        fail_msg("%d hostile path parameters were not refused", failures);
    expect_alive("hostile path parameters");
    print_message("%d hostile path parameters refused\n", checked);
}

typedef struct query_route {
    const char *key_role;
    const char *path; /* a valid query; %s: A's connection id */
    const char *params;
    bool must_be_empty; /* a 2xx answer must list nothing */
} query_route;

static const query_route query_routes[] = {
    {"staff", "/api/run-sheet?date=" DAY, "date include include_removed", false},
    {"staff", "/api/run-sheet/appointments?date=" DAY, "date source include_removed", false},
    {"staff", "/api/run-sheet/appointments?date=" DAY, "pms_connection_id", true},
    {"staff", "/api/pms/connections/%s/sync?limit=5", "limit", false},
    {"admin", "/api/pms/connections/%s/practitioners?refresh=false", "refresh", false},
    {"admin", "/api/pms/connections/%s/appointment-types?refresh=false", "refresh", false},
    {"agent", "/api/pms/appointments/availability?connectionId=%s&durationMinutes=15&date=" DAY,
     "connectionId durationMinutes date from to practitionerId appointmentTypeId", false},
    {"agent", "/api/pms/patients/search?connectionId=%s&familyName=Smith",
     "connectionId familyName givenName phone email dateOfBirth", false},
    {"agent", "/api/pms/patients/patient-1?connectionId=%s", "connectionId", false},
    {"staff", "/api/run-sheet/events?lastEventId=1", "lastEventId", false},
};

/* path with name's value set to value (replacing it or appended). */
static void with_param(const char *path, const char *name, const char *value, char *out, size_t len)
{
    char prefix[64];
    snprintf(out, len, "%s", path);
    for (int sep = 0; sep < 2; sep++) {
        snprintf(prefix, sizeof prefix, "%c%s=", sep ? '&' : '?', name);
        char *at = strstr(out, prefix);
        if (at) {
            char *end = strchr(at + 1, '&');
            char rest[1024];
            snprintf(rest, sizeof rest, "%s", end ? end : "");
            snprintf(at + strlen(prefix), len - (size_t)(at + strlen(prefix) - out), "%s%s", value,
                     rest);
            return;
        }
    }
    size_t n = strlen(out);
    snprintf(out + n, len - n, "%c%s=%s", strchr(out, '?') ? '&' : '?', name, value);
}

static void query_parameters_are_4xx_or_empty(void **state)
{
    (void)state;
    int checked = 0, failures = 0;
    for (size_t q = 0; q < sizeof query_routes / sizeof query_routes[0]; q++) {
        const query_route *qr = &query_routes[q];
        const char *key = strcmp(qr->key_role, "admin") == 0   ? W.a.admin
                          : strcmp(qr->key_role, "staff") == 0 ? W.a.staff
                                                               : W.a.agent;
        char base[512];
        snprintf(base, sizeof base, qr->path, W.a.conn);
        char params[256];
        snprintf(params, sizeof params, "%s", qr->params);
        for (char *save = NULL, *p = strtok_r(params, " ", &save); p;
             p = strtok_r(NULL, " ", &save)) {
            for (size_t v = 0; v <= sizeof injections / sizeof injections[0]; v++) {
                const char *value =
                    v < sizeof injections / sizeof injections[0] ? injections[v] : long_value();
                char path[8192];
                with_param(base, p, value, path, sizeof path);
                res r;
                if (strstr(base, "/events")) {
                    /* An event stream stays open: ask with a short time-out. */
                    char auth[160];
                    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
                    const char *headers[] = {auth, NULL};
                    memset(&r, 0, sizeof r);
                    CURL *curl = curl_easy_init();
                    char url[8300];
                    snprintf(url, sizeof url, "%s%s", W.d.base, path);
                    struct curl_slist *list = curl_slist_append(NULL, headers[0]);
                    curl_easy_setopt(curl, CURLOPT_URL, url);
                    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
                    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
                    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
                    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 300L);
                    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
                    curl_easy_perform(curl);
                    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
                    curl_slist_free_all(list);
                    curl_easy_cleanup(curl);
                    W.requests++;
                    common_checks('A', "GET", path, &r);
                } else {
                    hostile('A', key, "GET", path, NULL, 0, &r);
                }
                bool four = r.status >= 400 && r.status < 500;
                bool two = r.status >= 200 && r.status < 300;
                /* A PMS that refuses what it was asked is a 502 explained; hostile values are
                 * refused by pmsd before that. */
                if (!four && !two && ++failures <= 20)
                    print_error("GET %.300s: HTTP %ld: %.300s\n", path, r.status,
                                r.body ? r.body : "");
                if (two && qr->must_be_empty && !empty_result(&r))
                    fail_msg("GET %.300s listed appointments: %.300s", path, r.body);
                res_free(&r);
                checked++;
            }
        }
    }
    if (failures > 0)
        fail_msg("%d hostile query parameters were not refused", failures);
    expect_alive("hostile query parameters");
    print_message("%d hostile query parameters answered 4xx or nothing\n", checked);
}

/* ---- the UI's files ----------------------------------------------------------------------- */

static const char *const traversals[] = {
    "/ui/../../../../etc/passwd",
    "/ui/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/ui/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/ui/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/ui/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/ui/..%5c..%5c..%5cetc%5cpasswd",
    "/ui/%252e%252e/%252e%252e/etc/passwd",
    "/ui/....//....//....//etc/passwd",
    "/ui/.%2e/.%2e/.%2e/etc/passwd",
    "/ui/index.html%00/../../../../etc/passwd",
    "/ui/%00../../../etc/passwd",
    "/ui/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/ui//etc/passwd",
    "//etc/passwd",
    "/ui/../secret.txt",
    "/ui/%2e%2e/secret.txt",
    "/ui/..%2fsecret.txt",
    "/ui/link.txt",
    "/ui/.hidden",
    "/ui/%2ehidden",
    "/ui/sub/../../secret.txt",
    "/ui/sub/%2e%2e/%2e%2e/secret.txt",
    "/ui/" MARKER "%ff%fe",
};

static void check_traversal(const char *path, const char *secret_text)
{
    res r;
    send_raw("GET", path, NULL, NULL, 0, false, &r);
    common_checks(0, "GET", path, &r);
    if (r.body && (strstr(r.body, "root:") || (secret_text && strstr(r.body, secret_text))))
        fail_msg("GET %s served a file outside the UI directory", path);
    if (r.status != 404 && r.status != 400 && r.status != 200)
        fail_msg("GET %s: HTTP %ld", path, r.status);
    /* A 200 is only ever one of the UI's own files (a NUL ends the path: index.html). */
    if (r.status == 200 && (r.body == NULL || strstr(r.body, "<html") == NULL))
        fail_msg("GET %s: HTTP 200 with something that is not the UI: %.200s", path,
                 r.body ? r.body : "");
    res_free(&r);
}

static void static_files_never_leave_the_ui(void **state)
{
    (void)state;
    /* The files built into pmsd. */
    for (size_t i = 0; i < sizeof traversals / sizeof traversals[0]; i++)
        check_traversal(traversals[i], NULL);
    /* static_dir: a UI directory beside a secret, with a link out and a hidden file. */
    char ui[700], file[800];
    snprintf(ui, sizeof ui, "%s/static", W.dir);
    assert_int_equal(mkdir(ui, 0700), 0);
    snprintf(file, sizeof file, "%s/ui", ui);
    assert_int_equal(mkdir(file, 0700), 0);
    snprintf(file, sizeof file, "%s/ui/sub", ui);
    assert_int_equal(mkdir(file, 0700), 0);
    const struct {
        const char *name, *text;
    } files[] = {{"ui/index.html", "<html>ui</html>"},
                 {"ui/.hidden", "Qzsecrethidden"},
                 {"secret.txt", "Qzsecretoutside"}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(file, sizeof file, "%s/%s", ui, files[i].name);
        FILE *f = fopen(file, "w");
        assert_non_null(f);
        fputs(files[i].text, f);
        fclose(f);
    }
    char target[800];
    snprintf(file, sizeof file, "%s/ui/link.txt", ui);
    snprintf(target, sizeof target, "%s/secret.txt", ui);
    assert_int_equal(symlink(target, file), 0);

    tu_pmsd saved = W.d, dev;
    char dir[700], set[800];
    snprintf(dir, sizeof dir, "%s/dev", W.dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(set, sizeof set, "static_dir=%s/ui", ui);
    const char *args[] = {"--set", set, "--set", "scheduler=false", NULL};
    assert_int_equal(tu_pmsd_start(&dev, dir, args), 0);
    W.d = dev;
    res r;
    send_raw("GET", "/ui/index.html", NULL, NULL, 0, false, &r);
    assert_int_equal(r.status, 200);
    res_free(&r);
    for (size_t i = 0; i < sizeof traversals / sizeof traversals[0]; i++) {
        check_traversal(traversals[i], "Qzsecret");
        /* Without the leading /ui/, the same paths are simply no route. */
    }
    expect_alive("traversals of static_dir");
    W.d = saved;
    assert_int_equal(tu_pmsd_stop(&dev), 0);
    tu_db_drop(dir);
    expect_alive("traversals of the built-in UI");
    print_message("%zu traversals refused, built-in and from static_dir\n",
                  2 * (sizeof traversals / sizeof traversals[0]));
}

/* ---- credentials -------------------------------------------------------------------------- */

static void cookie_request(const char *method, const char *path, const char *cookie,
                           const char *csrf, const char *origin, const char *body, res *out)
{
    char c[512], x[256], o[256];
    snprintf(c, sizeof c, "Cookie: pmsd_session=%s", cookie);
    snprintf(x, sizeof x, "X-CSRF-Token: %s", csrf ? csrf : "");
    snprintf(o, sizeof o, "Origin: %s", origin ? origin : "");
    const char *headers[5] = {c, "Content-Type: application/json", NULL, NULL, NULL};
    int n = 2;
    if (csrf)
        headers[n++] = x;
    if (origin)
        headers[n++] = o;
    send_raw(method, path, headers, body, body ? strlen(body) : 0, false, out);
}

static void sign_in(const char *key, char *cookie, size_t cookie_len, char *csrf, size_t csrf_len)
{
    char body[256];
    snprintf(body, sizeof body, "{\"apiKey\":\"%s\"}", key);
    const char *headers[] = {"Content-Type: application/json", NULL};
    res r;
    send_raw("POST", "/api/session", headers, body, strlen(body), false, &r);
    assert_int_equal(r.status, 201);
    const char *eq = strstr(r.set_cookie, "pmsd_session=");
    assert_non_null(eq);
    snprintf(cookie, cookie_len, "%.*s", (int)strcspn(eq + 13, ";\r\n"), eq + 13);
    snprintf(csrf, csrf_len, "%s", str(r.json, "csrfToken"));
    res_free(&r);
}

static void forged_credentials_are_refused(void **state)
{
    (void)state;
    char cookie[128], csrf[96], cookie_b[128], csrf_b[96];
    sign_in(W.a.staff, cookie, sizeof cookie, csrf, sizeof csrf);
    sign_in(W.b.staff, cookie_b, sizeof cookie_b, csrf_b, sizeof csrf_b);
    res r;
    cookie_request("GET", "/api/run-sheet?date=" DAY, cookie, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, CANARY_A));
    res_free(&r);

    /* Forged, truncated, extended, altered and hostile cookies: 401 on every route reading
     * data. */
    char truncated[128], extended[160], altered[128];
    snprintf(truncated, sizeof truncated, "%.*s", (int)strlen(cookie) - 1, cookie);
    snprintf(extended, sizeof extended, "%sA", cookie);
    snprintf(altered, sizeof altered, "%s", cookie);
    altered[0] = altered[0] == 'A' ? 'B' : 'A';
    const char *forged[] = {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                            truncated,
                            extended,
                            altered,
                            "",
                            "%27%20OR%201%3D1%20--",
                            "' OR '1'='1",
                            MARKER "\x7f",
                            "..%2F..%2F",
                            csrf};
    const char *paths[] = {"/api/session", "/api/run-sheet?date=" DAY, "/api/pms/connections",
                           "/api/keys"};
    int checked = 0;
    for (size_t f = 0; f < sizeof forged / sizeof forged[0]; f++)
        for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
            cookie_request("GET", paths[p], forged[f], NULL, NULL, NULL, &r);
            common_checks(0, "GET", paths[p], &r);
            if (r.status != 401)
                fail_msg("GET %s with a forged cookie (%zu): HTTP %ld", paths[p], f, r.status);
            res_free(&r);
            checked++;
        }
    /* Forged API keys. */
    char key_truncated[128], key_extended[160];
    snprintf(key_truncated, sizeof key_truncated, "%.*s", (int)strlen(W.a.admin) - 1, W.a.admin);
    snprintf(key_extended, sizeof key_extended, "%sx", W.a.admin);
    const char *keys[] = {"pmsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          key_truncated,
                          key_extended,
                          "pmsk_' OR 1=1 --",
                          "pmsk_%",
                          "pmsk_",
                          "",
                          cookie};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
            char h[256];
            snprintf(h, sizeof h, "X-API-Key: %s", keys[k]);
            const char *headers[] = {h, NULL};
            send_raw("GET", paths[p], headers, NULL, 0, false, &r);
            common_checks(0, "GET", paths[p], &r);
            if (r.status != 401)
                fail_msg("GET %s with a forged key (%zu): HTTP %ld", paths[p], k, r.status);
            res_free(&r);
            checked++;
        }

    /* CSRF: a change by cookie needs this session's token, from this origin. */
    const char *body = "{\"name\":\"Dr CSRF\"}";
    char csrf_truncated[96];
    snprintf(csrf_truncated, sizeof csrf_truncated, "%.*s", (int)strlen(csrf) - 1, csrf);
    const struct {
        const char *token, *origin;
    } bad[] = {{NULL, NULL},           {"", NULL},
               {csrf_truncated, NULL}, {csrf_b, NULL},
               {"' OR 1=1 --", NULL},  {csrf, "http://evil.example"},
               {csrf, "null"},         {csrf, "http://127.0.0.1.evil.example"}};
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        cookie_request("POST", "/api/run-sheet/appointments", cookie, bad[b].token, bad[b].origin,
                       body, &r);
        common_checks('A', "POST", "/api/run-sheet/appointments", &r);
        if (r.status != 403 || strcmp(error_code(&r), "csrf_failed") != 0)
            fail_msg("a change with a bad CSRF token or origin (%zu): HTTP %ld", b, r.status);
        res_free(&r);
        checked++;
    }
    /* Another account's cookie with this account's token, and the reverse. */
    cookie_request("DELETE", "/api/session", cookie_b, csrf, NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    res_free(&r);

    /* A signed-out session and an expired one are dead. */
    cookie_request("DELETE", "/api/session", cookie_b, csrf_b, NULL, NULL, &r);
    assert_int_equal(r.status, 204);
    res_free(&r);
    cookie_request("GET", "/api/session", cookie_b, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    res_free(&r);
    char past[64], sql[256];
    snprintf(sql, sizeof sql, "UPDATE web_sessions SET expires_at = %s",
             tu_db_instant_sql(pms_now() - 1000, past, sizeof past));
    assert_int_equal(tu_db_query_exec(tu_db_location(W.dir), sql), 0);
    cookie_request("GET", "/api/run-sheet?date=" DAY, cookie, NULL, NULL, NULL, &r);
    common_checks(0, "GET", "/api/run-sheet", &r);
    assert_int_equal(r.status, 401);
    res_free(&r);
    cookie_request("POST", "/api/run-sheet/clinicians", cookie, csrf, NULL, body, &r);
    assert_true(r.status == 401 || r.status == 403);
    res_free(&r);
    expect_alive("forged credentials");
    print_message("%d forged cookies, keys and CSRF tokens refused\n", checked + 4);
}

/* ---- the other account -------------------------------------------------------------------- */

static void ids_of_the_other_account_are_not_found(void **state)
{
    (void)state;
    int checked = 0;
    const account *owners[] = {&W.a, &W.b};
    const account *callers[] = {&W.b, &W.a};
    for (int dir = 0; dir < 2; dir++) {
        const account *owner = owners[dir], *caller = callers[dir];
        char who = caller == &W.a ? 'A' : 'B';
        for (size_t i = 0; i < pmsd_route_count; i++) {
            const pmsd_route *route = &pmsd_routes[i];
            if (strstr(route->pattern, "{id}") == NULL ||
                strncmp(route->pattern, "/api/pms/patients/", 18) == 0)
                continue;
            char path[512];
            route_path(route, owner, path, sizeof path);
            const char *keys[] = {caller->admin, caller->staff, caller->agent};
            for (int k = 0; k < 3; k++) {
                bool allowed = (k == 0 && (route->access & PMSD_ADMIN)) ||
                               (k == 1 && (route->access & PMSD_STAFF)) ||
                               (k == 2 && (route->access & PMSD_AGENT));
                const char *body = takes_body(route) ? "{}" : NULL;
                if (strstr(route->pattern, "/api/pms/appointments/") && route->method[0] == 'P')
                    body = "{\"startTime\":\"" DAY "T10:00:00+11:00\",\"durationMinutes\":15}";
                res r;
                hostile(who, keys[k], route->method, path, body, body ? strlen(body) : 0, &r);
                if (r.status != (allowed ? 404 : 403))
                    fail_msg("%s %s with the other account's id (%s key): HTTP %ld, wanted %d: "
                             "%.300s",
                             route->method, path,
                             k == 0   ? "admin"
                             : k == 1 ? "staff"
                                      : "agent",
                             r.status, allowed ? 404 : 403, r.body ? r.body : "");
                res_free(&r);
                checked++;
            }
        }
        /* Ids in queries and bodies. */
        char path[512], body[1024];
        snprintf(path, sizeof path,
                 "/api/pms/appointments/availability?connectionId=%s&durationMinutes=15&date=" DAY,
                 owner->conn);
        expect_status(who, caller->agent, "GET", path, NULL, 404, NULL);
        snprintf(path, sizeof path, "/api/pms/patients/search?connectionId=%s&familyName=X",
                 owner->conn);
        expect_status(who, caller->agent, "GET", path, NULL, 404, NULL);
        snprintf(path, sizeof path, "/api/pms/patients/patient-1?connectionId=%s", owner->conn);
        expect_status(who, caller->agent, "GET", path, NULL, 404, NULL);
        snprintf(path, sizeof path, "/api/run-sheet/appointments?date=" DAY "&pms_connection_id=%s",
                 owner->conn);
        res r;
        hostile(who, caller->staff, "GET", path, NULL, 0, &r);
        if (!(r.status == 404 || (r.status == 200 && empty_result(&r))))
            fail_msg("GET %s with the other account's connection: HTTP %ld: %.300s", path, r.status,
                     r.body ? r.body : "");
        res_free(&r);
        snprintf(body, sizeof body,
                 "{\"connectionId\":\"%s\",\"patientId\":\"p\",\"practitionerId\":\"p\","
                 "\"startTime\":\"" DAY "T10:00:00+11:00\",\"durationMinutes\":15}",
                 owner->conn);
        expect_status(who, caller->agent, "POST", "/api/pms/appointments", body, 404, NULL);
        snprintf(body, sizeof body,
                 "{\"connectionId\":\"%s\",\"givenName\":\"G\",\"familyName\":\"F\"}", owner->conn);
        expect_status(who, caller->agent, "POST", "/api/pms/patients", body, 404, NULL);
        snprintf(body, sizeof body, "{\"connectionId\":\"%s\"}", owner->conn);
        hostile(who, caller->admin, "PUT", "/api/voice/settings", body, strlen(body), &r);
        if (r.status != 404 && r.status != 400)
            fail_msg("PUT /api/voice/settings with the other account's connection: HTTP %ld",
                     r.status);
        res_free(&r);
        snprintf(body, sizeof body,
                 "{\"source\":\"manual\",\"clinicianId\":\"%s\",\"startTime\":\"" DAY
                 "T10:00:00+11:00\",\"durationMinutes\":15,\"patient\":{\"fullName\":\"X\"}}",
                 owner->clinician);
        hostile(who, caller->staff, "POST", "/api/run-sheet/appointments", body, strlen(body), &r);
        if (r.status != 404 && r.status != 400)
            fail_msg("POST /api/run-sheet/appointments on the other account's clinician: HTTP "
                     "%ld",
                     r.status);
        res_free(&r);
        snprintf(body, sizeof body, "{\"clinicianId\":\"%s\"}", owner->clinician);
        snprintf(path, sizeof path, "/api/run-sheet/appointments/%s", caller->entry);
        hostile(who, caller->staff, "PATCH", path, body, strlen(body), &r);
        if (r.status != 404 && r.status != 400)
            fail_msg("PATCH %s onto the other account's clinician: HTTP %ld", path, r.status);
        res_free(&r);
        checked += 9;
    }
    /* Every list of each account holds nothing of the other's. */
    const char *lists[] = {"/api/run-sheet?date=" DAY,
                           "/api/run-sheet/appointments?date=" DAY "&include_removed=true",
                           "/api/run-sheet/clinicians",
                           "/api/pms/connections",
                           "/api/pms/sync",
                           "/api/run-sheet/sync",
                           "/api/keys",
                           "/api/voice/settings"};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (int who = 0; who < 2; who++) {
            const account *me = who ? &W.b : &W.a, *other = who ? &W.a : &W.b;
            res r;
            hostile(who ? 'B' : 'A', me->admin, "GET", lists[l], NULL, 0, &r);
            assert_int_equal(r.status, 200);
            if (strstr(r.body, other->conn) || strstr(r.body, other->entry) ||
                strstr(r.body, other->clinician))
                fail_msg("GET %s of %c shows the other account's ids", lists[l], who ? 'B' : 'A');
            res_free(&r);
            checked++;
        }
    expect_alive("other accounts' ids");
    print_message("%d requests with the other account's ids refused\n", checked);
}

/* ---- the voice endpoint ------------------------------------------------------------------- */

static void sign(const char *secret, const char *stamp, const char *body, char hex[65])
{
    size_t len = strlen(stamp) + 1 + strlen(body);
    char *msg = malloc(len + 1);
    assert_non_null(msg);
    snprintf(msg, len + 1, "%s.%s", stamp, body);
    unsigned char mac[PMS_HMAC_BYTES];
    assert_int_equal(pms_hmac_sha256(secret, strlen(secret), msg, len, mac, NULL), PMS_OK);
    for (size_t i = 0; i < PMS_HMAC_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    free(msg);
}

static long vapi(const char *clinic, const char *body, const char *stamp, const char *sig,
                 const char *extra)
{
    char path[512], s[128], t[64];
    snprintf(path, sizeof path, "/api/voice/vapi?clinic=%s", clinic);
    snprintf(s, sizeof s, "X-Signature: sha256=%s", sig);
    snprintf(t, sizeof t, "X-Timestamp: %s", stamp);
    const char *headers[] = {"Content-Type: application/json", s, t, extra, NULL};
    res r;
    send_raw("POST", path, headers, body, strlen(body), false, &r);
    common_checks(0, "POST", path, &r);
    long status = r.status;
    res_free(&r);
    return status;
}

static void voice_signatures_are_checked(void **state)
{
    (void)state;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"message\":{\"type\":\"tool-calls\",\"call\":{\"id\":\"call-" MARKER
             "\"},\"toolCallList\":[{\"id\":\"t1\",\"type\":\"function\",\"function\":{\"name\":"
             "\"checkAvailability\",\"arguments\":{\"date\":\"" DAY "\"}}}]}}");
    char stamp[32], sig[65], sig_b[65];
    snprintf(stamp, sizeof stamp, "%lld", (long long)(pms_now() / 1000));
    sign(HMAC_A, stamp, body, sig);
    sign(HMAC_B, stamp, body, sig_b);
    /* A's signature for B's clinic, and the reverse: 401, and neither is used up by it. */
    assert_int_equal(vapi(W.b.id, body, stamp, sig, NULL), 401);
    assert_int_equal(vapi(W.a.id, body, stamp, sig_b, NULL), 401);
    /* Good once; replayed: 401. */
    assert_int_equal(vapi(W.a.id, body, stamp, sig, NULL), 200);
    assert_int_equal(vapi(W.a.id, body, stamp, sig, NULL), 401);
    assert_int_equal(vapi(W.a.id, body, stamp, sig, "X-Forwarded-For: 10.9.9.9"), 401);
    /* Upper-case hex of the same signature is the same signature. */
    char upper[65];
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(sig[i] >= 'a' && sig[i] <= 'f' ? sig[i] - 32 : sig[i]);
    assert_int_equal(vapi(W.a.id, body, stamp, upper, NULL), 401);
    /* Tampered body, timestamp, signature; stale and future timestamps; junk. */
    char stamp2[32], sig2[65];
    snprintf(stamp2, sizeof stamp2, "%lld", (long long)(pms_now() / 1000) + 1);
    sign(HMAC_A, stamp2, body, sig2);
    char tampered[1024];
    snprintf(tampered, sizeof tampered, "%s", body);
    *strstr(tampered, DAY) = '1'; /* another date: still a tool call */
    assert_int_equal(vapi(W.a.id, tampered, stamp2, sig2, NULL), 401);
    char stamp3[32];
    snprintf(stamp3, sizeof stamp3, "%lld", (long long)(pms_now() / 1000) + 2);
    assert_int_equal(vapi(W.a.id, body, stamp3, sig2, NULL), 401);
    char flipped[65];
    snprintf(flipped, sizeof flipped, "%s", sig2);
    flipped[63] = flipped[63] == '0' ? '1' : '0';
    assert_int_equal(vapi(W.a.id, body, stamp2, flipped, NULL), 401);
    const long long now_s = (long long)(pms_now() / 1000);
    const long long stamps[] = {now_s - 6 * 60, now_s + 6 * 60, 0, -now_s};
    for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
        char st[32], sg[65];
        snprintf(st, sizeof st, "%lld", stamps[i]);
        sign(HMAC_A, st, body, sg);
        assert_int_equal(vapi(W.a.id, body, st, sg, NULL), 401);
    }
    const char *junk_sigs[] = {
        "",     "00",          "zz",
        MARKER, "' OR 1=1 --", "0000000000000000000000000000000000000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof junk_sigs / sizeof junk_sigs[0]; i++)
        assert_int_equal(vapi(W.a.id, body, stamp2, junk_sigs[i], NULL), 401);
    const char *junk_stamps[] = {"", "abc", "1e400", "18446744073709551616", "12 34", "-1"};
    for (size_t i = 0; i < sizeof junk_stamps / sizeof junk_stamps[0]; i++) {
        char sg[65];
        sign(HMAC_A, junk_stamps[i], body, sg);
        assert_int_equal(vapi(W.a.id, body, junk_stamps[i], sg, NULL), 401);
    }
    const char *junk_clinics[] = {"", "%27%20OR%201%3D1%20--", "%25", "%FF%FE", "x%00y"};
    for (size_t i = 0; i < sizeof junk_clinics / sizeof junk_clinics[0]; i++)
        assert_int_equal(vapi(junk_clinics[i], body, stamp2, sig2, NULL), 401);
    /* The untouched one is still good (nothing above used it up). */
    assert_int_equal(vapi(W.a.id, body, stamp2, sig2, NULL), 200);
    /* A's bearer for B's clinic (none set: bearer refused) and no credential at all. */
    char path[256];
    snprintf(path, sizeof path, "/api/voice/vapi?clinic=%s", W.b.id);
    const char *headers[] = {"Content-Type: application/json", "Authorization: Bearer " HMAC_B,
                             NULL};
    res r;
    send_raw("POST", path, headers, body, strlen(body), false, &r);
    assert_int_equal(r.status, 401);
    res_free(&r);
    send_raw("POST", path, headers + 1 + 1, body, strlen(body), false, &r);
    assert_int_equal(r.status, 401);
    res_free(&r);
    expect_alive("voice signatures");
}

/* ---- afterwards --------------------------------------------------------------------------- */

static void nothing_was_harmed(void **state)
{
    (void)state;
    expect_alive("everything");
    /* The tables hold what they held (a few rows the probes above may legitimately add are
     * none: every hostile request was refused). */
    for (size_t t = 0; t < sizeof counted_tables / sizeof counted_tables[0]; t++) {
        long now = table_rows(counted_tables[t]);
        if (now != W.rows_before[t])
            fail_msg("%s held %ld rows and holds %ld", counted_tables[t], W.rows_before[t], now);
    }
    /* Each account still sees its own canary. */
    res r;
    hostile('A', W.a.staff, "GET", "/api/run-sheet?date=" DAY, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, CANARY_A));
    res_free(&r);
    hostile('B', W.b.staff, "GET", "/api/run-sheet?date=" DAY, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, CANARY_B));
    res_free(&r);
    /* The audit chain verifies. */
    char out[4096];
    int rc = tu_pmsctl(W.dir, out, sizeof out, (const char *const[]){"audit", "verify", NULL});
    if (rc != 0)
        fail_msg("pmsctl audit verify exited %d: %s", rc, out);
    /* The log holds no patient data and nothing of the hostile requests. */
    const char *never[] = {CANARY_A, CANARY_B,     MARKER, "DROP TABLE",
                           "OR 1=1", "etc/passwd", HMAC_A};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (tu_file_contains(W.d.log_path, never[i]))
            fail_msg("pmsd's log holds \"%s\"", never[i]);
    print_message("%ld hostile requests: no 5xx, no crash, no leak between accounts, nothing "
                  "logged, tables and audit chain intact\n",
                  W.requests);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oversized_bodies_are_413),
        cmocka_unit_test(malformed_json_is_400),
        cmocka_unit_test(wrong_types_name_the_field),
        cmocka_unit_test(path_parameters_are_4xx),
        cmocka_unit_test(query_parameters_are_4xx_or_empty),
        cmocka_unit_test(static_files_never_leave_the_ui),
        cmocka_unit_test(forged_credentials_are_refused),
        cmocka_unit_test(ids_of_the_other_account_are_not_found),
        cmocka_unit_test(voice_signatures_are_checked),
        cmocka_unit_test(nothing_was_harmed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
