/* The voice receptionist end to end: pmsd (PMSD_BIN) on a real database (SQLite, or PostgreSQL
 * with PMSYNC_TEST_STORE=postgres) answering Vapi's recorded tool-calls messages
 * (tests/fixtures/voice, VOICE_FIXTURES) against pms-sandbox's Medirecords (PMS_SANDBOX_BIN),
 * the account, keys and key rotation made with pmsctl (PMSCTL_BIN). A call finds the patient,
 * asks for free times (Medirecords has none to give) and books: the appointment is in the PMS's
 * own data, on the run sheet and in the event stream; the same tool call again (also after a
 * restart) books nothing more; a time taken in the PMS meanwhile is refused (409, a sentence);
 * the clinic's credentials (bearer, X-Vapi-Secret, HMAC with its window and a replay cache that
 * every worker shares); the message shapes; the write API's rules (Idempotency-Key, 501, a PMS
 * failure that can be tried again); every call audited; and no transcript, caller number or
 * patient detail in pmsd's log. Against the sandbox's Sikka (writebacks answer pending): a
 * booking slower than the write budget answers pending and resolves in the background (the key's
 * answer, appointment.write, the run sheet), a failed writeback and the SPU offline are said in
 * words, and appointments move; against a paired Gentu: a time taken between availability and
 * booking is 409 with the nearest free times, and moving is 501 with Gentu's reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmsd_proc.h"
#include "pmsync/crypto.h"
#include "pmsync/time.h"
#include "pmsync/tz.h"
#include "sandbox_proc.h"
#include "sse_reader.h"
#include "testutil.h"

#define DAY      "2026-06-10"
#define BEARER   "vapi-bearer-7f3c9a2e51d84b06"
#define HMAC_KEY "vapi-hmac-0c4d8e2f6a1b5937"
#define PHONE_ID "pn_5a2e9c" /* the fixtures' call.phoneNumberId */

/* A connection to a PMS that lists free times, with what to book with. */
typedef struct pms_of {
    char name[16];      /* the sandbox's name: "sikka", "gentu" */
    char truth_key[16]; /* the truth's query key: "practice", "tenantId" */
    char practice[128]; /* the truth's practice */
    char conn[64];
    char practitioner[128], type[128], patient[128];
    char timezone[64];
} pms_of;

typedef struct world {
    tu_sandbox box;
    tu_pmsd d;
    char *dir;
    json_t *practice; /* Medirecords practice 0 of /_sandbox/info */
    char account[64];
    char admin[96], staff[96], agent[96];
    char conn[64], halaxy[64];
    char practitioner[128], type[128], patient[128], family[128];
    char timezone[64];
    pms_of sikka, gentu; /* PMSs with free times (Sikka's writebacks are asynchronous) */
} world;

static world W;

/* ---- HTTP ----------------------------------------------------------------------------------- */

static void fail_with(const char *what, const tu_http_result *r)
{
    fail_msg("%s: HTTP %ld (curl %d): %.800s", what, r->status, (int)r->curl_code,
             r->body ? r->body : "");
}

/* An API call with a key and, when idem is given, an Idempotency-Key; must answer want. */
static json_t *api(const char *method, const char *key, const char *idem, const char *body,
                   long want, tu_http_result *keep, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static json_t *api(const char *method, const char *key, const char *idem, const char *body,
                   long want, tu_http_result *keep, const char *fmt, ...)
{
    char url[1024], auth[160], idem_h[300];
    int n = snprintf(url, sizeof url, "%s", W.d.base);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(url + n, sizeof url - (size_t)n, fmt, ap);
    va_end(ap);
    const char *headers[4] = {NULL, NULL, NULL, NULL};
    int h = 0;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    headers[h++] = auth;
    if (idem) {
        snprintf(idem_h, sizeof idem_h, "Idempotency-Key: %s", idem);
        headers[h++] = idem_h;
    }
    if (body)
        headers[h++] = "Content-Type: application/json";
    tu_http_result r;
    tu_http(method, url, headers, body, &r);
    if (r.status != want) {
        char what[1200];
        snprintf(what, sizeof what, "%s %s (wanted %ld)", method, url, want);
        fail_with(what, &r);
    }
    json_t *j = r.json;
    r.json = NULL;
    if (keep)
        *keep = r;
    else
        tu_http_free(&r);
    return j;
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static const char *error_field(const json_t *j, const char *key)
{
    return str(json_object_get(j, "error"), key);
}

/* ---- fixtures ------------------------------------------------------------------------------- */

static char *replace_all(char *text, const char *from, const char *to)
{
    size_t from_len = strlen(from), to_len = strlen(to);
    for (char *at = strstr(text, from); at; at = strstr(text, from)) {
        size_t head = (size_t)(at - text), len = strlen(text);
        char *grown = malloc(len - from_len + to_len + 1);
        assert_non_null(grown);
        memcpy(grown, text, head);
        memcpy(grown + head, to, to_len);
        memcpy(grown + head + to_len, at + from_len, len - head - from_len + 1);
        free(text);
        text = grown;
    }
    return text;
}

/* A recorded message with its placeholders filled; start: the booking's time (may be NULL). */
static char *fixture(const char *name, const char *call_id, const char *start)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", getenv("VOICE_FIXTURES"), name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("no fixture %s", path);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    size_t len = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    text[len] = '\0';
    text = replace_all(text, "{{CLINIC_ID}}", W.account);
    text = replace_all(text, "{{CALL_ID}}", call_id);
    text = replace_all(text, "{{CONNECTION_ID}}", W.conn);
    text = replace_all(text, "{{PATIENT_ID}}", W.patient);
    text = replace_all(text, "{{PRACTITIONER_ID}}", W.practitioner);
    text = replace_all(text, "{{TYPE_ID}}", W.type);
    text = replace_all(text, "{{START}}", start ? start : "");
    text = replace_all(text, "{{DATE}}", DAY);
    return replace_all(text, "{{FAMILY}}", W.family);
}

/* ---- Vapi's requests ------------------------------------------------------------------------ */

/* POST /api/voice/vapi with these headers; the status, and the JSON answer in *out (may be
 * NULL). */
static long vapi_with(const char *body, const char *const *headers, json_t **out)
{
    char url[256];
    snprintf(url, sizeof url, "%s/api/voice/vapi?clinic=%s", W.d.base, W.account);
    const char *all[6] = {"Content-Type: application/json", NULL};
    for (int i = 0; headers && headers[i] && i < 4; i++)
        all[i + 1] = headers[i];
    tu_http_result r;
    tu_http("POST", url, all, body, &r);
    long status = r.status;
    if (out) {
        *out = r.json;
        r.json = NULL;
    }
    tu_http_free(&r);
    return status;
}

/* With the clinic's bearer secret: must be 200; the answer. */
static json_t *vapi(const char *body)
{
    json_t *out = NULL;
    long status =
        vapi_with(body, (const char *const[]){"Authorization: Bearer " BEARER, NULL}, &out);
    if (status != 200)
        fail_msg("the voice endpoint answered %ld", status);
    assert_non_null(out);
    return out;
}

/* The i-th result: its text, and whether it is an error. Every result is a single line with
 * the name and tool call id. */
static const char *result_at(const json_t *answer, size_t i, bool *is_error)
{
    const json_t *r = json_array_get(json_object_get(answer, "results"), i);
    assert_non_null(r);
    assert_non_null(str(r, "name"));
    assert_non_null(str(r, "toolCallId"));
    const char *text = str(r, "error");
    *is_error = text != NULL;
    if (text == NULL)
        text = str(r, "result");
    assert_non_null(text);
    if (strchr(text, '\n') || strchr(text, '\r'))
        fail_msg("a result of more than one line: %s", text);
    return text;
}

static const char *expect_result(const json_t *answer, size_t i)
{
    bool is_error = true;
    const char *text = result_at(answer, i, &is_error);
    if (is_error)
        fail_msg("tool call %zu failed: %s", i, text);
    return text;
}

static const char *expect_tool_error(const json_t *answer, size_t i)
{
    bool is_error = false;
    const char *text = result_at(answer, i, &is_error);
    if (!is_error)
        fail_msg("tool call %zu did not fail: %s", i, text);
    return text;
}

/* HMAC-SHA256 over "{timestamp}.{body}", hex. */
static void sign(const char *stamp, const char *body, char hex[65])
{
    size_t len = strlen(stamp) + 1 + strlen(body);
    char *msg = malloc(len + 1);
    assert_non_null(msg);
    snprintf(msg, len + 1, "%s.%s", stamp, body);
    unsigned char mac[PMS_HMAC_BYTES];
    assert_int_equal(pms_hmac_sha256(HMAC_KEY, strlen(HMAC_KEY), msg, len, mac, NULL), PMS_OK);
    for (size_t i = 0; i < PMS_HMAC_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    free(msg);
}

static long vapi_signed(const char *body, const char *stamp, const char *signature, json_t **out)
{
    char sig_h[128], ts_h[64];
    snprintf(sig_h, sizeof sig_h, "X-Signature: sha256=%s", signature);
    snprintf(ts_h, sizeof ts_h, "X-Timestamp: %s", stamp);
    return vapi_with(body, (const char *const[]){sig_h, ts_h, NULL}, out);
}

/* ---- the PMS's own data -----------------------------------------------------------------------
 */

static json_t *truth_day(void)
{
    char path[300];
    snprintf(path, sizeof path, "/_sandbox/medirecords/truth?practice=%s&from=%s&to=%s",
             str(W.practice, "practiceId"), DAY, DAY);
    return tu_sandbox_json(&W.box, "GET", path, NULL);
}

/* Appointments of the practitioner in the PMS starting at start (UTC text), not cancelled. */
static int booked_at(const char *start_utc, const char *patient)
{
    json_t *all = truth_day();
    int n = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(all, "appointments"), i, a)
    {
        const char *status = str(a, "_status");
        if (strcmp(str(a, "_startUtc"), start_utc) == 0 && status &&
            strcmp(status, "cancelled") != 0 &&
            strcmp(str(a, "_practitionerId"), W.practitioner) == 0 &&
            (patient == NULL ||
             (str(a, "_patientId") && strcmp(str(a, "_patientId"), patient) == 0)))
            n++;
    }
    json_decref(all);
    return n;
}

/* A local time of DAY as UTC text ("2026-06-09T21:00:00.000Z"). */
static void local_time(const char *hhmm, char out[PMS_TIME_BUFLEN])
{
    const pms_tz *tz = NULL;
    assert_int_equal(pms_tz_get(W.timezone, &tz, NULL), PMS_OK);
    char text[32];
    snprintf(text, sizeof text, "%sT%s", DAY, hhmm);
    pms_civil c;
    assert_int_equal(pms_iso8601_parse_local(text, &c, NULL), PMS_OK);
    pms_format_utc(pms_tz_from_local(tz, &c, NULL), out);
}

/* Takes a time from under a booking, as if someone booked it in the PMS. */
static void take_in_pms(const char *hhmm)
{
    char path[256], body[256];
    snprintf(path, sizeof path, "/_sandbox/medirecords/practices/%s/appointments",
             str(W.practice, "practiceId"));
    snprintf(body, sizeof body, "{\"practitionerId\":\"%s\",\"start\":\"%sT%s\",\"minutes\":15}",
             W.practitioner, DAY, hhmm);
    json_decref(tu_sandbox_json(&W.box, "POST", path, body));
}

/* The run sheet's PMS appointment starting at start (UTC text): its id. */
static void run_sheet_entry_at(const char *start, char *out, size_t len)
{
    json_t *sheet = api("GET", W.staff, NULL, NULL, 200, NULL,
                        "/api/run-sheet/appointments?date=%s&source=pms", DAY);
    size_t i;
    json_t *a;
    out[0] = '\0';
    json_array_foreach(json_object_get(sheet, "appointments"), i, a)
    {
        if (strcmp(str(a, "startTime"), start) == 0)
            snprintf(out, len, "%s", str(a, "id"));
    }
    json_decref(sheet);
    if (out[0] == '\0')
        fail_msg("no run-sheet appointment at %s", start);
}

/* ---- audit ---------------------------------------------------------------------------------- */

static json_t *audit_records(void)
{
    char *out = malloc(8 << 20);
    assert_non_null(out);
    if (tu_pmsctl(W.dir, out, 8 << 20, (const char *const[]){"audit", "export", NULL}) != 0)
        fail_msg("pmsctl audit export failed");
    json_t *records = json_array();
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        json_array_append_new(records, json_loads(line, 0, NULL));
    free(out);
    return records;
}

/* The newest audit record with this action and outcome (0: any). New reference. */
static json_t *last_audit(const char *action, long outcome)
{
    json_t *records = audit_records(), *found = NULL;
    for (size_t i = json_array_size(records); i-- > 0 && !found;) {
        json_t *r = json_array_get(records, i);
        if (strcmp(str(r, "action"), action) == 0 &&
            (outcome == 0 || json_integer_value(json_object_get(r, "outcome")) == outcome))
            found = json_incref(r);
    }
    json_decref(records);
    if (found == NULL)
        fail_msg("no audit record %s (%ld)", action, outcome);
    return found;
}

static bool has_patient(const json_t *record, const char *patient)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(record, "patientIds"), i, v)
    {
        if (strcmp(json_string_value(v), patient) == 0)
            return true;
    }
    return false;
}

/* ---- set-up --------------------------------------------------------------------------------- */

static void pmsctl_ok(char *out, size_t len, const char *const *args)
{
    if (tu_pmsctl(W.dir, out, len, args) != 0)
        fail_msg("pmsctl %s %s failed: %s", args[0], args[1] ? args[1] : "", out);
}

static void make_key(const char *role, char *key, size_t len)
{
    char out[512];
    pmsctl_ok(out, sizeof out,
              (const char *const[]){"apikey", "create", "--account", W.account, "--name", role,
                                    "--role", role, NULL});
    snprintf(key, len, "%s", out);
}

#define BUDGET_SECONDS 2

static const char *const pmsd_args[] = {"--set", "write_budget_seconds=2", "--set",
                                        "sse_heartbeat_seconds=1", NULL};

static void connect_pms(const char *pms, char *id, size_t len)
{
    json_t *info = tu_sandbox_json(&W.box, "GET", "/_sandbox/info", NULL);
    const json_t *vendor = json_object_get(info, pms);
    const json_t *p = json_array_get(json_object_get(vendor, "practices"), 0);
    bool medirecords = strcmp(pms, "medirecords") == 0;
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s, s:s}}", "pmsType", pms, "displayName", pms,
        "baseUrl", str(vendor, "baseUrl"), "timezone", str(p, "timezone"), "syncEnabled", 0,
        "settings", medirecords ? "practice_id" : "client_id",
        str(p, medirecords ? "practiceId" : "clientId"), medirecords ? "token" : "client_secret",
        str(p, medirecords ? "token" : "clientSecret"), "retry_base_ms", "20");
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *c = api("POST", W.admin, NULL, text, 201, NULL, "/api/pms/connections");
    snprintf(id, len, "%s", str(c, "id"));
    if (medirecords) {
        W.practice = json_incref((json_t *)p);
        snprintf(W.timezone, sizeof W.timezone, "%s", str(p, "timezone"));
    }
    json_decref(c);
    free(text);
    json_decref(body);
    json_decref(info);
}

/* A patient with an appointment that day, and the practitioner and type to book with. */
static void choose_patient(void)
{
    json_t *all = truth_day();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(all, "appointments"), i, a)
    {
        if (str(a, "_patientId") && !W.patient[0])
            snprintf(W.patient, sizeof W.patient, "%s", str(a, "_patientId"));
    }
    json_decref(all);
    assert_true(W.patient[0] != '\0');
    snprintf(
        W.practitioner, sizeof W.practitioner, "%s",
        json_string_value(json_array_get(json_object_get(W.practice, "activeProviderIds"), 0)));
    snprintf(
        W.type, sizeof W.type, "%s",
        json_string_value(json_array_get(json_object_get(W.practice, "appointmentTypeIds"), 0)));
    json_t *p = api("GET", W.agent, NULL, NULL, 200, NULL, "/api/pms/patients/%s?connectionId=%s",
                    W.patient, W.conn);
    snprintf(W.family, sizeof W.family, "%s", str(p, "familyName"));
    json_decref(p);
}

/* ---- PMSs that list free times: Sikka (asynchronous writebacks) and Gentu ------------------- */

static json_t *pms_truth(const pms_of *m)
{
    char path[400];
    snprintf(path, sizeof path, "/_sandbox/%s/truth?%s=%s&from=%s&to=%s", m->name, m->truth_key,
             m->practice, DAY, DAY);
    return tu_sandbox_json(&W.box, "GET", path, NULL);
}

/* A patient with an appointment that day in m's truth. */
static void pms_patient_of(pms_of *m)
{
    json_t *all = pms_truth(m);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(all, "appointments"), i, a)
    {
        if (str(a, "_patientId") && !m->patient[0])
            snprintf(m->patient, sizeof m->patient, "%s", str(a, "_patientId"));
    }
    json_decref(all);
    assert_true(m->patient[0] != '\0');
}

static void create_connection(json_t *body, char *id, size_t len)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *c = api("POST", W.admin, NULL, text, 201, NULL, "/api/pms/connections");
    snprintf(id, len, "%s", str(c, "id"));
    json_decref(c);
    free(text);
    json_decref(body);
}

/* The practitioner's free 15-minute times of DAY, as the API lists them (a new reference). */
static json_t *free_slots_of(const pms_of *m, const char *practitioner)
{
    json_t *a = api("GET", W.agent, NULL, NULL, 200, NULL,
                    "/api/pms/appointments/availability?connectionId=%s&date=%s&durationMinutes=15"
                    "&practitionerId=%s",
                    m->conn, DAY, practitioner);
    json_t *slots = json_incref(json_object_get(a, "slots"));
    json_decref(a);
    return slots;
}

/* The same for the practitioner booked with: at least least. */
static json_t *free_slots(const pms_of *m, size_t least)
{
    json_t *slots = free_slots_of(m, m->practitioner);
    if (json_array_size(slots) < least)
        fail_msg("%s lists only %zu free times", m->name, json_array_size(slots));
    return slots;
}

/* Sikka's Boulder office (OrthoTrac: it serves free slots), America/Denver. */
static void connect_sikka(void)
{
    json_t *info = tu_sandbox_json(&W.box, "GET", "/_sandbox/info", NULL);
    const json_t *vendor = json_object_get(info, "sikka");
    const json_t *p = json_array_get(json_object_get(vendor, "practices"), 1);
    assert_true(json_is_true(json_object_get(p, "availableSlots")));
    pms_of *m = &W.sikka;
    snprintf(m->name, sizeof m->name, "sikka");
    snprintf(m->truth_key, sizeof m->truth_key, "practice");
    snprintf(m->practice, sizeof m->practice, "%s", str(p, "officeId"));
    snprintf(m->timezone, sizeof m->timezone, "%s", str(p, "timezone"));
    snprintf(m->type, sizeof m->type, "%s",
             json_string_value(json_array_get(json_object_get(p, "appointmentTypes"), 0)));
    create_connection(json_pack("{s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s, s:s, s:s}}", "pmsType",
                                "sikka", "displayName", "sikka", "baseUrl", str(vendor, "baseUrl"),
                                "timezone", m->timezone, "syncEnabled", 0, "settings", "app_id",
                                str(p, "appId"), "app_key", str(p, "appKey"), "practice_id",
                                str(p, "practiceId"), "retry_base_ms", "20"),
                      m->conn, sizeof m->conn);
    /* The provider with the most free times that day. */
    size_t most = 0, i;
    json_t *id;
    json_array_foreach(json_object_get(p, "activeProviderIds"), i, id)
    {
        json_t *slots = free_slots_of(m, json_string_value(id));
        if (json_array_size(slots) > most) {
            most = json_array_size(slots);
            snprintf(m->practitioner, sizeof m->practitioner, "%s", json_string_value(id));
        }
        json_decref(slots);
    }
    json_decref(info);
    pms_patient_of(m);
}

/* Gentu's first tenant, paired as a practice pairs it (Australia/Melbourne). */
static void connect_gentu(void)
{
    json_t *info = tu_sandbox_json(&W.box, "GET", "/_sandbox/info", NULL);
    const json_t *vendor = json_object_get(info, "gentu");
    const json_t *t = json_array_get(json_object_get(vendor, "tenants"), 0);
    pms_of *m = &W.gentu;
    snprintf(m->name, sizeof m->name, "gentu");
    snprintf(m->truth_key, sizeof m->truth_key, "tenantId");
    snprintf(m->practice, sizeof m->practice, "%s", str(t, "tenantId"));
    snprintf(m->timezone, sizeof m->timezone, "%s", str(t, "timezone"));
    snprintf(m->practitioner, sizeof m->practitioner, "%s",
             json_string_value(json_array_get(json_object_get(t, "bookPractitionerIds"), 0)));
    snprintf(m->type, sizeof m->type, "%s",
             json_string_value(json_array_get(json_object_get(t, "appointmentTypeIds"), 0)));
    create_connection(json_pack("{s:s, s:s, s:s, s:b, s:{s:s, s:s, s:s, s:s}}", "pmsType", "gentu",
                                "displayName", "gentu", "baseUrl", str(vendor, "baseUrl"),
                                "syncEnabled", 0, "settings", "client_id", str(vendor, "clientId"),
                                "client_secret", str(vendor, "clientSecret"), "app_id",
                                str(vendor, "appId"), "retry_base_ms", "20"),
                      m->conn, sizeof m->conn);
    char body[128];
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", str(t, "pairingCode"));
    json_decref(
        api("POST", W.admin, NULL, body, 200, NULL, "/api/pms/connections/%s/pair", m->conn));
    json_decref(info);
    pms_patient_of(m);
}

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof W);
    if (tu_sandbox_start(&W.box, (const char *const[]){"--seed", "7", "--today", DAY, NULL}) != 0)
        return -1;
    W.dir = tu_tempdir();
    char out[512];
    if (tu_pmsctl(W.dir, out, sizeof out,
                  (const char *const[]){"account", "add", "Voice Clinic", NULL}) != 0)
        return -1;
    snprintf(W.account, sizeof W.account, "%s", out);
    make_key("admin", W.admin, sizeof W.admin);
    make_key("staff", W.staff, sizeof W.staff);
    make_key("agent", W.agent, sizeof W.agent);
    if (tu_pmsd_start(&W.d, W.dir, pmsd_args) != 0)
        return -1;
    connect_pms("medirecords", W.conn, sizeof W.conn);
    connect_pms("halaxy", W.halaxy, sizeof W.halaxy);
    char body[512];
    snprintf(body, sizeof body,
             "{\"bearerSecret\":\"%s\",\"hmacSecret\":\"%s\",\"connectionId\":\"%s\","
             "\"phoneNumberId\":\"%s\"}",
             BEARER, HMAC_KEY, W.conn, PHONE_ID);
    json_t *v = api("PUT", W.admin, NULL, body, 200, NULL, "/api/voice/settings");
    assert_true(json_is_true(json_object_get(v, "bearerSecretSet")));
    char *shown = json_dumps(v, 0);
    assert_null(strstr(shown, BEARER)); /* never shown back */
    free(shown);
    json_decref(v);
    choose_patient();
    connect_sikka();
    connect_gentu();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = tu_pmsd_stop(&W.d);
    tu_sandbox_stop(&W.box);
    json_decref(W.practice);
    if (W.dir) {
        tu_rmtree(W.dir);
        free(W.dir);
    }
    return rc;
}

/* The run sheet's event stream, as staff see it, once connected. */
static void open_live(tu_sse_reader *live)
{
    assert_int_equal(tu_sse_open(live, W.d.base, W.staff, NULL), 0);
    assert_true(tu_sse_wait_for(live, ": connected", 5000));
}

/* ---- a call books an appointment ---------------------------------------------------------- */

static void a_call_books_an_appointment(void **state)
{
    (void)state;
    tu_sse_reader live;
    open_live(&live);

    /* findPatient: the caller's record by family name. */
    char *body = fixture("find_patient.json", "call-book-1", NULL);
    json_t *answer = vapi(body);
    const char *found = expect_result(answer, 0);
    assert_non_null(strstr(found, W.patient));
    assert_string_equal(str(json_array_get(json_object_get(answer, "results"), 0), "toolCallId"),
                        "call_fp_7Hq2WcL0d1");
    json_decref(answer);
    free(body);

    /* checkAvailability: Medirecords has no availability endpoint; said so in one line (the
     * API answers 501 the same). Its arguments come as a string of JSON. */
    body = fixture("check_availability.json", "call-book-1", NULL);
    answer = vapi(body);
    assert_non_null(strstr(expect_tool_error(answer, 0), "does not offer availability"));
    json_decref(answer);
    free(body);
    json_t *e = api("GET", W.agent, NULL, NULL, 501, NULL,
                    "/api/pms/appointments/availability?connectionId=%s&date=%s&durationMinutes=15",
                    W.conn, DAY);
    assert_string_equal(error_field(e, "code"), "not_implemented");
    json_decref(e);

    /* bookAppointment at 07:00 (before the practice's hours: free) */
    char start[PMS_TIME_BUFLEN];
    local_time("07:00", start);
    assert_int_equal(booked_at(start, NULL), 0);
    body = fixture("book_appointment.json", "call-book-1", start);
    answer = vapi(body);
    const char *said = expect_result(answer, 0);
    assert_non_null(strstr(said, "Confirmed"));
    char first_answer[1024];
    snprintf(first_answer, sizeof first_answer, "%s", said);
    json_decref(answer);

    /* In the PMS's own data, once. */
    assert_int_equal(booked_at(start, W.patient), 1);
    /* On the run sheet, and in the event stream. */
    char entry[64];
    run_sheet_entry_at(start, entry, sizeof entry);
    assert_non_null(strstr(first_answer, entry));
    json_t *sheet = api("GET", W.staff, NULL, NULL, 200, NULL, "/api/run-sheet?date=%s", DAY);
    char *text = json_dumps(sheet, 0);
    assert_non_null(strstr(text, entry));
    free(text);
    json_decref(sheet);
    assert_true(tu_sse_wait_for(&live, "event: appointment.created", 5000));
    assert_true(tu_sse_wait_for(&live, entry, 1000));
    assert_true(tu_sse_wait_for(&live, "event: appointment.write", 1000));
    tu_sse_close(&live);

    /* Audited: the tool call and the booking, by the voice credential, with the patient. */
    json_t *r = last_audit("appointment.book", 201);
    assert_string_equal(str(r, "actorRole"), "agent");
    assert_non_null(strstr(str(r, "actorKeyId"), "voice:bearer"));
    assert_string_equal(str(r, "accountId"), W.account);
    assert_true(has_patient(r, W.patient));
    json_decref(r);
    r = last_audit("voice.tool_call", 201);
    assert_string_equal(str(r, "resource"), "bookAppointment");
    json_decref(r);
    r = last_audit("patient.search", 200);
    assert_true(has_patient(r, W.patient));
    json_decref(r);

    /* Vapi retries the same tool call: the same answer, nothing booked again ... */
    answer = vapi(body);
    assert_string_equal(expect_result(answer, 0), first_answer);
    json_decref(answer);
    assert_int_equal(booked_at(start, NULL), 1);
    /* ... also after pmsd restarts. */
    assert_int_equal(tu_pmsd_stop(&W.d), 0);
    assert_int_equal(tu_pmsd_start(&W.d, W.dir, pmsd_args), 0);
    answer = vapi(body);
    assert_string_equal(expect_result(answer, 0), first_answer);
    json_decref(answer);
    assert_int_equal(booked_at(start, NULL), 1);
    free(body);
}

/* ---- a time taken meanwhile ---------------------------------------------------------------- */

static void a_time_taken_meanwhile_is_refused(void **state)
{
    (void)state;
    /* Through the API: 409 slot_taken; Medirecords lists no free times, so the alternatives are
     * empty and the message says to ask for another time. */
    char start[PMS_TIME_BUFLEN], body[600];
    local_time("07:15", start);
    take_in_pms("07:15");
    snprintf(body, sizeof body,
             "{\"connectionId\":\"%s\",\"patientId\":\"%s\",\"practitionerId\":\"%s\","
             "\"appointmentTypeId\":\"%s\",\"startTime\":\"%s\",\"durationMinutes\":15}",
             W.conn, W.patient, W.practitioner, W.type, start);
    json_t *e = api("POST", W.agent, "taken-1", body, 409, NULL, "/api/pms/appointments");
    assert_string_equal(error_field(e, "code"), "slot_taken");
    assert_string_equal(error_field(e, "field"), "startTime");
    assert_non_null(strstr(error_field(e, "message"), "another time"));
    assert_true(json_is_array(json_object_get(e, "alternatives")));
    assert_int_equal(json_array_size(json_object_get(e, "alternatives")), 0);
    json_decref(e);
    assert_int_equal(booked_at(start, W.patient), 0);
    /* A refusal is the key's final answer: replayed. */
    tu_http_result r;
    json_decref(api("POST", W.agent, "taken-1", body, 409, &r, "/api/pms/appointments"));
    char replayed[16];
    assert_true(tu_http_header(&r, "Idempotent-Replayed", replayed, sizeof replayed));
    tu_http_free(&r);
    json_t *audit = last_audit("appointment.book", 409);
    assert_true(has_patient(audit, W.patient));
    json_decref(audit);

    /* Through the voice tool: one sentence that can be spoken. */
    local_time("07:30", start);
    take_in_pms("07:30");
    char *call = fixture("book_appointment.json", "call-taken-1", start);
    json_t *answer = vapi(call);
    const char *said = expect_tool_error(answer, 0);
    assert_non_null(strstr(said, "taken"));
    json_decref(answer);
    free(call);
    assert_int_equal(booked_at(start, W.patient), 0);
}

/* ---- credentials ---------------------------------------------------------------------------- */

static void only_the_clinics_credential_is_accepted(void **state)
{
    (void)state;
    char *body = fixture("find_patient.json", "call-auth-1", NULL);
    json_t *out = NULL;
    /* No credential, a wrong one, another clinic's secret: 401. */
    assert_int_equal(vapi_with(body, NULL, &out), 401);
    assert_string_equal(error_field(out, "code"), "unauthorized");
    json_decref(out);
    assert_int_equal(
        vapi_with(body, (const char *const[]){"Authorization: Bearer wrong-secret-0000000", NULL},
                  NULL),
        401);
    assert_int_equal(
        vapi_with(body, (const char *const[]){"Authorization: Bearer " HMAC_KEY, NULL}, NULL), 401);
    /* The legacy X-Vapi-Secret header. */
    assert_int_equal(vapi_with(body, (const char *const[]){"X-Vapi-Secret: " BEARER, NULL}, &out),
                     200);
    expect_result(out, 0);
    json_decref(out);
    assert_int_equal(vapi_with(body, (const char *const[]){"X-Vapi-Secret: nope", NULL}, NULL),
                     401);

    /* HMAC over "{timestamp}.{body}": valid is accepted, in seconds or milliseconds. */
    char stamp[32], sig[65];
    snprintf(stamp, sizeof stamp, "%lld", (long long)(pms_now() / 1000));
    sign(stamp, body, sig);
    assert_int_equal(vapi_signed(body, stamp, sig, &out), 200);
    expect_result(out, 0);
    json_decref(out);
    json_t *r = last_audit("voice.tool_call", 200);
    assert_non_null(strstr(str(r, "actorKeyId"), "voice:hmac"));
    json_decref(r);
    /* The same signature again (a replay): refused. */
    assert_int_equal(vapi_signed(body, stamp, sig, NULL), 401);
    /* A tampered body with the signature of the original. */
    char stamp2[32], sig2[65];
    snprintf(stamp2, sizeof stamp2, "%lld", (long long)pms_now());
    sign(stamp2, body, sig2);
    char *tampered = strdup(body);
    char *at = strstr(tampered, "findPatient");
    memcpy(at, "findPatienT", 11);
    assert_int_equal(vapi_signed(tampered, stamp2, sig2, NULL), 401);
    free(tampered);
    /* ... while the untampered one with that signature is still good. */
    assert_int_equal(vapi_signed(body, stamp2, sig2, NULL), 200);
    /* A timestamp more than 5 minutes old, correctly signed. */
    snprintf(stamp, sizeof stamp, "%lld", (long long)(pms_now() / 1000 - 6 * 60));
    sign(stamp, body, sig);
    assert_int_equal(vapi_signed(body, stamp, sig, NULL), 401);
    /* A signature with another key. */
    snprintf(stamp, sizeof stamp, "%lld", (long long)(pms_now() / 1000));
    char bad[65];
    snprintf(bad, sizeof bad, "%s", sig);
    bad[0] = bad[0] == 'a' ? 'b' : 'a';
    assert_int_equal(vapi_signed(body, stamp, bad, NULL), 401);

    /* A call from another phone number than the clinic's. */
    char *other = replace_all(strdup(body), PHONE_ID, "pn_somewhere_else");
    assert_int_equal(
        vapi_with(other, (const char *const[]){"Authorization: Bearer " BEARER, NULL}, NULL), 401);
    free(other);
    free(body);
}

/* The replay cache is in the database: a second worker refuses what the first accepted. */
static void a_signature_is_used_once_across_workers(void **state)
{
    (void)state;
    tu_pmsd second;
    const char *args[] = {"--set", "scheduler=false", NULL};
    assert_int_equal(tu_pmsd_start(&second, W.dir, args), 0);
    char *body = fixture("find_patient.json", "call-workers-1", NULL);
    char stamp[32], sig[65];
    snprintf(stamp, sizeof stamp, "%lld", (long long)pms_now());
    sign(stamp, body, sig);
    assert_int_equal(vapi_signed(body, stamp, sig, NULL), 200);
    /* The same request to the other worker. */
    char url[256], sig_h[128], ts_h[64];
    snprintf(url, sizeof url, "%s/api/voice/vapi?clinic=%s", second.base, W.account);
    snprintf(sig_h, sizeof sig_h, "X-Signature: %s", sig);
    snprintf(ts_h, sizeof ts_h, "X-Timestamp: %s", stamp);
    tu_http_result r;
    tu_http("POST", url, (const char *const[]){"Content-Type: application/json", sig_h, ts_h, NULL},
            body, &r);
    assert_int_equal(r.status, 401);
    tu_http_free(&r);
    /* A fresh signature is good on either. */
    snprintf(stamp, sizeof stamp, "%lld", (long long)pms_now() + 1);
    sign(stamp, body, sig);
    snprintf(sig_h, sizeof sig_h, "X-Signature: %s", sig);
    snprintf(ts_h, sizeof ts_h, "X-Timestamp: %s", stamp);
    tu_http("POST", url, (const char *const[]){"Content-Type: application/json", sig_h, ts_h, NULL},
            body, &r);
    assert_int_equal(r.status, 200);
    tu_http_free(&r);
    free(body);
    assert_int_equal(tu_pmsd_stop(&second), 0);
}

/* ---- message shapes ------------------------------------------------------------------------- */

static void messages_vapi_sends(void **state)
{
    (void)state;
    /* Other message types: 200 {} and dropped. */
    static const char *const others[] = {"status_update.json", "end_of_call_report.json", NULL};
    for (size_t i = 0; others[i]; i++) {
        char *body = fixture(others[i], "call-shapes-1", NULL);
        json_t *out = vapi(body);
        assert_int_equal(json_object_size(out), 0);
        json_decref(out);
        free(body);
    }
    /* Several calls in one message, answered in order: a patient found, a tool the clinic does
     * not have, notes (no PMS takes them), free times (none from Medirecords); arguments as an
     * object or a string of JSON. */
    char *body = fixture("several_calls.json", "call-shapes-1", NULL);
    json_t *out = vapi(body);
    json_t *results = json_object_get(out, "results");
    assert_int_equal(json_array_size(results), 4);
    static const char *const ids[] = {"call_sc_1aa", "call_sc_2bb", "call_sc_3cc", "call_sc_4dd"};
    static const char *const names[] = {"findPatient", "transferToHuman", "addPatientNote",
                                        "checkAvailability"};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(str(json_array_get(results, i), "toolCallId"), ids[i]);
        assert_string_equal(str(json_array_get(results, i), "name"), names[i]);
    }
    assert_non_null(strstr(expect_result(out, 0), W.patient));
    assert_non_null(strstr(expect_tool_error(out, 1), "no such tool"));
    assert_non_null(strstr(expect_tool_error(out, 2), "does not offer patient notes"));
    assert_non_null(strstr(expect_tool_error(out, 3), "availability"));
    json_decref(out);
    free(body);
    /* A body that is not JSON, or a message without calls: still 200 {} or empty results. */
    json_t *empty = vapi("not json at all");
    assert_int_equal(json_object_size(empty), 0);
    json_decref(empty);
}

/* ---- the write API's rules ------------------------------------------------------------------ */

static void write_api_rules(void **state)
{
    (void)state;
    char start[PMS_TIME_BUFLEN], body[600];
    local_time("07:45", start);
    snprintf(body, sizeof body,
             "{\"connectionId\":\"%s\",\"patientId\":\"%s\",\"practitionerId\":\"%s\","
             "\"appointmentTypeId\":\"%s\",\"startTime\":\"%s\",\"durationMinutes\":15}",
             W.conn, W.patient, W.practitioner, W.type, start);
    /* No Idempotency-Key: 400 naming it. */
    json_t *e = api("POST", W.agent, NULL, body, 400, NULL, "/api/pms/appointments");
    assert_string_equal(error_field(e, "field"), "Idempotency-Key");
    json_decref(e);

    /* The PMS fails before anything is written: 502, not kept; the same key tries again. */
    json_decref(tu_sandbox_json(&W.box, "PUT", "/_sandbox/faults", "{\"fault_5xx\":1}"));
    e = api("POST", W.agent, "rules-1", body, 502, NULL, "/api/pms/appointments");
    assert_string_equal(error_field(e, "code"), "pms_error");
    json_decref(e);
    json_t *audit = last_audit("appointment.book", 502);
    assert_true(has_patient(audit, W.patient));
    json_decref(audit);
    json_decref(tu_sandbox_json(&W.box, "PUT", "/_sandbox/faults", "{\"fault_5xx\":0}"));
    json_t *ok = api("POST", W.agent, "rules-1", body, 201, NULL, "/api/pms/appointments");
    assert_string_equal(str(ok, "state"), "confirmed");
    json_decref(ok);
    assert_int_equal(booked_at(start, W.patient), 1);
    /* The same key with another request: 422. */
    char other[600];
    snprintf(other, sizeof other, "%s", body);
    char *minutes = strstr(other, "\"durationMinutes\":15");
    memcpy(minutes, "\"durationMinutes\":30", 20);
    e = api("POST", W.agent, "rules-1", other, 422, NULL, "/api/pms/appointments");
    assert_string_equal(error_field(e, "code"), "idempotency_key_reused");
    json_decref(e);

    /* What no PMS offers: 501 with the reason. */
    char path[256];
    snprintf(path, sizeof path, "?connectionId=%s", W.conn);
    static const char *const reads[] = {"notes", "insurance", "balance", NULL};
    for (size_t i = 0; reads[i]; i++) {
        e = api("GET", W.agent, NULL, NULL, 501, NULL, "/api/pms/patients/%s/%s%s", W.patient,
                reads[i], path);
        assert_non_null(strstr(error_field(e, "message"), "does not offer"));
        json_decref(e);
    }
    snprintf(other, sizeof other, "{\"connectionId\":\"%s\",\"amount\":\"10.00\"}", W.conn);
    e = api("POST", W.agent, "pay-1", other, 501, NULL, "/api/pms/payments");
    assert_non_null(strstr(error_field(e, "message"), "payments"));
    json_decref(e);
    snprintf(other, sizeof other, "{\"connectionId\":\"%s\",\"text\":\"Qzvoicetranscript\"}",
             W.conn);
    e = api("POST", W.agent, "note-1", other, 501, NULL, "/api/pms/patients/%s/notes", W.patient);
    json_decref(e);
    /* A PMS without writes (Halaxy here, unless its writes are built): booking is 501. */
    json_t *c = api("GET", W.admin, NULL, NULL, 200, NULL, "/api/pms/connections/%s", W.halaxy);
    bool books = false;
    size_t i;
    json_t *cap;
    json_array_foreach(json_object_get(c, "capabilities"), i, cap)
    {
        books = books || strcmp(json_string_value(cap), "book") == 0;
    }
    json_decref(c);
    if (!books) {
        snprintf(other, sizeof other,
                 "{\"connectionId\":\"%s\",\"patientId\":\"1\",\"practitionerId\":\"1\","
                 "\"startTime\":\"%s\",\"durationMinutes\":15}",
                 W.halaxy, start);
        e = api("POST", W.agent, "halaxy-1", other, 501, NULL, "/api/pms/appointments");
        assert_string_equal(error_field(e, "code"), "not_implemented");
        assert_non_null(strstr(error_field(e, "message"), "Halaxy"));
        json_decref(e);
    }

    /* Moving and cancelling the booking through the API: audited with the patient. */
    char entry[64];
    run_sheet_entry_at(start, entry, sizeof entry);
    char later[PMS_TIME_BUFLEN];
    local_time("06:30", later);
    snprintf(other, sizeof other, "{\"startTime\":\"%s\"}", later);
    json_t *moved =
        api("PATCH", W.agent, "rules-move-1", other, 200, NULL, "/api/pms/appointments/%s", entry);
    assert_string_equal(str(moved, "state"), "confirmed");
    json_decref(moved);
    assert_int_equal(booked_at(later, W.patient), 1);
    audit = last_audit("appointment.reschedule", 200);
    assert_true(has_patient(audit, W.patient));
    json_decref(audit);
    json_t *gone = api("DELETE", W.agent, "rules-cancel-1", "{\"reason\":\"Unwell\"}", 200, NULL,
                       "/api/pms/appointments/%s", entry);
    assert_string_equal(str(gone, "state"), "confirmed");
    json_decref(gone);
    assert_int_equal(booked_at(later, W.patient), 0);
    audit = last_audit("appointment.cancel", 200);
    assert_true(has_patient(audit, W.patient));
    json_decref(audit);
}

/* ---- PMSs that list free times: helpers ------------------------------------------------------ */

/* A tool call as Vapi sends it for this clinic, with the connection as a static parameter;
 * args is stolen. The answer (200). */
static json_t *voice_call(const char *call_id, const char *tool_call_id, const char *tool,
                          const char *connection_id, json_t *args)
{
    json_object_set_new(args, "clinic_id", json_string(W.account));
    json_object_set_new(args, "connection_id", json_string(connection_id));
    json_t *msg = json_pack("{s:{s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:{s:s, s:o}}]}}", "message",
                            "type", "tool-calls", "call", "id", call_id, "orgId", "org-test",
                            "phoneNumberId", PHONE_ID, "toolCallList", "id", tool_call_id, "type",
                            "function", "function", "name", tool, "arguments", args);
    char *text = json_dumps(msg, JSON_COMPACT);
    json_t *answer = vapi(text);
    free(text);
    json_decref(msg);
    return answer;
}

static json_t *booking_args(const pms_of *m, const char *start)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i}", "patientId", m->patient, "practitionerId",
                     m->practitioner, "appointmentTypeId", m->type, "startTime", start,
                     "durationMinutes", 15);
}

static void booking_body(const pms_of *m, const char *start, char *out, size_t len)
{
    snprintf(out, len,
             "{\"connectionId\":\"%s\",\"patientId\":\"%s\",\"practitionerId\":\"%s\","
             "\"appointmentTypeId\":\"%s\",\"startTime\":\"%s\",\"durationMinutes\":15}",
             m->conn, m->patient, m->practitioner, m->type, start);
}

static const char *slot_start(const json_t *slots, size_t i)
{
    return str(json_array_get(slots, i), "startTime");
}

static pms_instant instant(const char *text)
{
    pms_instant t = 0;
    int offset = 0;
    if (text == NULL || pms_iso8601_parse(text, &t, &offset, NULL) != PMS_OK)
        fail_msg("not a time: %s", text ? text : "(null)");
    return t;
}

/* No appointment of the practitioner (not cancelled) overlaps [start, start + minutes) in the
 * PMS's own data. */
static bool free_in_pms(const pms_of *m, pms_instant start, int minutes)
{
    json_t *all = pms_truth(m);
    bool is_free = true;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(all, "appointments"), i, a)
    {
        const char *status = str(a, "_status");
        if (strcmp(str(a, "_practitionerId"), m->practitioner) != 0 ||
            (status && strcmp(status, "cancelled") == 0))
            continue;
        pms_instant a_start = instant(str(a, "_startUtc"));
        pms_instant a_end = a_start + json_integer_value(json_object_get(a, "_minutes")) * 60000;
        if (a_start < start + (pms_instant)minutes * 60000 && start < a_end)
            is_free = false;
    }
    json_decref(all);
    return is_free;
}

/* The PMS's appointment with this id (a new reference), or NULL. */
static json_t *pms_appt_of(const pms_of *m, const char *id)
{
    json_t *all = pms_truth(m), *found = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(all, "appointments"), i, a)
    {
        if (strcmp(str(a, "_id"), id) == 0)
            found = json_incref(a);
    }
    json_decref(all);
    return found;
}

/* Takes start from under a booking in the PMS, as the practice's front desk would. */
static void take_slot(const pms_of *m, const char *start)
{
    char path[300], body[400];
    bool gentu = strcmp(m->name, "gentu") == 0;
    snprintf(path, sizeof path, "/_sandbox/%s/%s/%s/appointments", m->name,
             gentu ? "tenants" : "practices", m->practice);
    if (gentu)
        snprintf(body, sizeof body,
                 "{\"practitionerId\":\"%s\",\"startAt\":\"%s\",\"minutesDuration\":15}",
                 m->practitioner, start);
    else {
        const pms_tz *tz = NULL;
        assert_int_equal(pms_tz_get(m->timezone, &tz, NULL), PMS_OK);
        pms_civil c;
        pms_tz_to_local(tz, instant(start), &c);
        char local[PMS_TIME_BUFLEN];
        pms_format_civil_minutes(&c, local);
        snprintf(body, sizeof body, "{\"practitionerId\":\"%s\",\"start\":\"%s\",\"minutes\":15}",
                 m->practitioner, local);
    }
    json_decref(tu_sandbox_json(&W.box, "POST", path, body));
    assert_false(free_in_pms(m, instant(start), 15));
}

static void sikka_settings(const char *body)
{
    json_decref(tu_sandbox_json(&W.box, "PUT", "/_sandbox/sikka/settings", body));
}

/* The run sheet's appointment of m with this PMS id (a new reference), or NULL. */
static json_t *sheet_appointment(const pms_of *m, const char *pms_id)
{
    json_t *sheet = api("GET", W.staff, NULL, NULL, 200, NULL,
                        "/api/run-sheet/appointments?date=%s&pms_connection_id=%s", DAY, m->conn);
    json_t *found = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(sheet, "appointments"), i, a)
    {
        if (pms_id && str(a, "pms_appointment_id") &&
            strcmp(str(a, "pms_appointment_id"), pms_id) == 0)
            found = json_incref(a);
    }
    json_decref(sheet);
    return found;
}

/* m's run-sheet appointments starting at start. */
static int sheet_count_at(const pms_of *m, const char *start)
{
    json_t *sheet = api("GET", W.staff, NULL, NULL, 200, NULL,
                        "/api/run-sheet/appointments?date=%s&pms_connection_id=%s", DAY, m->conn);
    int n = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(sheet, "appointments"), i, a)
    {
        n += instant(str(a, "startTime")) == instant(start);
    }
    json_decref(sheet);
    return n;
}

/* The same write again with its key until it is no longer pending (bounded): the answer, its
 * status in *status. */
static json_t *repeat_until_resolved(const char *method, const char *idem, const char *body,
                                     const char *path, long *status)
{
    char url[1024], auth[160], idem_h[300];
    snprintf(url, sizeof url, "%s%s", W.d.base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", W.agent);
    snprintf(idem_h, sizeof idem_h, "Idempotency-Key: %s", idem);
    for (int i = 0; i < 120; i++) {
        tu_http_result r;
        tu_http(method, url,
                (const char *const[]){auth, idem_h, "Content-Type: application/json", NULL}, body,
                &r);
        char replayed[16] = "";
        bool was_replayed = tu_http_header(&r, "Idempotent-Replayed", replayed, sizeof replayed);
        if (r.status != 202) {
            *status = r.status;
            json_t *j = r.json;
            r.json = NULL;
            tu_http_free(&r);
            assert_true(was_replayed); /* never written again */
            return j;
        }
        assert_true(was_replayed);
        assert_string_equal(str(r.json, "state"), "pending");
        tu_http_free(&r);
        tu_sleep_ms(250);
    }
    fail_msg("the write did not resolve within 30 s");
    return NULL;
}

/* The voice tool call again until its answer is no longer pending (bounded). */
static char *voice_until_resolved(const char *call_id, const char *tool_call_id, const char *tool,
                                  const pms_of *m, const json_t *args, bool *is_error)
{
    for (int i = 0; i < 120; i++) {
        json_t *answer = voice_call(call_id, tool_call_id, tool, m->conn, json_deep_copy(args));
        const char *text = result_at(answer, 0, is_error);
        if (*is_error || strstr(text, "being confirmed") == NULL) {
            char *copy = strdup(text);
            json_decref(answer);
            return copy;
        }
        json_decref(answer);
        tu_sleep_ms(250);
    }
    fail_msg("the tool call did not resolve within 30 s");
    return NULL;
}

static long elapsed_ms(pms_instant since)
{
    return (long)(pms_now() - since);
}

/* ---- Sikka: a writeback pending past the budget -------------------------------------------- */

static void sikka_booking_pending_past_the_budget_resolves(void **state)
{
    (void)state;
    const pms_of *m = &W.sikka;
    tu_sse_reader live;
    open_live(&live);
    json_t *slots = free_slots(m, 3);
    /* Sikka applies writebacks 5 s after they are sent: longer than pmsd's budget. */
    sikka_settings("{\"writeback_delay_ms\":5000,\"writeback_failure_rate\":0}");

    /* The voice tool: pending, said so, within the budget. */
    const char *voice_start = slot_start(slots, 0);
    json_t *args = booking_args(m, voice_start);
    pms_instant t0 = pms_now();
    json_t *answer =
        voice_call("call-sikka-1", "call_sk_book_1", "bookAppointment", m->conn, json_incref(args));
    long took = elapsed_ms(t0);
    const char *said = expect_result(answer, 0);
    assert_non_null(strstr(said, "The booking has been sent to the practice's system and is "
                                 "being confirmed"));
    json_decref(answer);
    if (took > (BUDGET_SECONDS + 2) * 1000)
        fail_msg("the voice tool answered after %ld ms", took);

    /* The API: 202 pending within the budget; the same key again while it waits: pending. */
    const char *api_start = slot_start(slots, 2);
    char body[700];
    booking_body(m, api_start, body, sizeof body);
    t0 = pms_now();
    json_t *p = api("POST", W.agent, "sikka-pending-1", body, 202, NULL, "/api/pms/appointments");
    took = elapsed_ms(t0);
    if (took > (BUDGET_SECONDS + 2) * 1000)
        fail_msg("the API answered after %ld ms", took);
    assert_string_equal(str(p, "state"), "pending");
    assert_null(json_object_get(p, "appointmentId"));
    json_decref(p);
    assert_true(tu_sse_wait_for(&live, "\"state\":\"pending\"", 3000));

    /* It resolves: the key's answer is now confirmed with the new appointment ... */
    long status = 0;
    json_t *done =
        repeat_until_resolved("POST", "sikka-pending-1", body, "/api/pms/appointments", &status);
    assert_int_equal(status, 201);
    assert_string_equal(str(done, "state"), "confirmed");
    const char *pms_id = str(done, "pmsAppointmentId");
    const char *entry = str(done, "appointmentId");
    assert_non_null(pms_id);
    assert_non_null(entry);
    /* ... in the PMS's own data, at the time asked for, for the patient ... */
    json_t *in_pms = pms_appt_of(m, pms_id);
    assert_non_null(in_pms);
    assert_true(instant(str(in_pms, "_startUtc")) == instant(api_start));
    assert_string_equal(str(in_pms, "_patientId"), m->patient);
    json_decref(in_pms);
    /* ... on the run sheet, and told on the event stream. */
    json_t *on_sheet = sheet_appointment(m, pms_id);
    assert_non_null(on_sheet);
    assert_string_equal(str(on_sheet, "id"), entry);
    json_decref(on_sheet);
    char needle[160];
    snprintf(needle, sizeof needle, "\"state\":\"confirmed\",\"appointmentId\":\"%s\"", entry);
    assert_true(tu_sse_wait_for(&live, needle, 5000));
    assert_true(tu_sse_wait_for(&live, "event: appointment.write", 1000));
    json_decref(done);

    /* The voice call's booking resolves too: the same tool call now says it is confirmed. */
    bool is_error = true;
    char *now_said = voice_until_resolved("call-sikka-1", "call_sk_book_1", "bookAppointment", m,
                                          args, &is_error);
    assert_false(is_error);
    assert_non_null(strstr(now_said, "Confirmed"));
    char local[PMS_TIME_BUFLEN]; /* the time as the practice's clock shows it */
    const pms_tz *tz = NULL;
    assert_int_equal(pms_tz_get(m->timezone, &tz, NULL), PMS_OK);
    pms_format_offset(instant(voice_start), pms_tz_offset_at(tz, instant(voice_start), NULL),
                      local);
    assert_non_null(strstr(now_said, "-06:00")); /* Denver in June */
    assert_non_null(strstr(now_said, strtok(local, ".")));
    assert_int_equal(sheet_count_at(m, voice_start), 1);
    free(now_said);
    json_decref(args);
    json_decref(slots);
    tu_sse_close(&live);
    sikka_settings("{\"writeback_delay_ms\":300}");
}

/* A writeback Sikka fails resolves to failed with a reason a person can hear, and nothing on
 * the run sheet; the practice's server (SPU) offline is a failure said in words. */
static void sikka_failed_writeback_and_offline_server(void **state)
{
    (void)state;
    const pms_of *m = &W.sikka;
    tu_sse_reader live;
    open_live(&live);
    json_t *slots = free_slots(m, 1);
    sikka_settings("{\"writeback_delay_ms\":4000,\"writeback_failure_rate\":1}");
    const char *start = slot_start(slots, 0);
    char body[700];
    booking_body(m, start, body, sizeof body);
    json_decref(api("POST", W.agent, "sikka-fails-1", body, 202, NULL, "/api/pms/appointments"));
    long status = 0;
    json_t *done =
        repeat_until_resolved("POST", "sikka-fails-1", body, "/api/pms/appointments", &status);
    assert_int_equal(status, 422);
    assert_string_equal(str(done, "state"), "failed");
    assert_string_equal(error_field(done, "code"), "write_failed");
    const char *reason = str(done, "reason");
    assert_non_null(reason);
    assert_non_null(strstr(reason, "did not accept"));
    assert_null(strchr(reason, '\n'));
    json_decref(done);
    assert_true(tu_sse_wait_for(&live, "\"state\":\"failed\"", 5000));
    assert_int_equal(sheet_count_at(m, start), 0);
    assert_true(free_in_pms(m, instant(start), 15));

    /* Through the voice tool, failing within the budget: the reason, in one line. */
    sikka_settings("{\"writeback_delay_ms\":200}");
    json_t *answer = voice_call("call-sikka-2", "call_sk_fail_1", "bookAppointment", m->conn,
                                booking_args(m, start));
    assert_non_null(strstr(expect_tool_error(answer, 0), "did not accept"));
    json_decref(answer);
    assert_int_equal(sheet_count_at(m, start), 0);

    /* The SPU offline: nothing is sent to the practice, said in words. */
    sikka_settings("{\"spu_offline\":true,\"writeback_failure_rate\":0}");
    answer = voice_call("call-sikka-2", "call_sk_spu_1", "bookAppointment", m->conn,
                        booking_args(m, start));
    const char *said = expect_tool_error(answer, 0);
    assert_string_equal(said,
                        "The practice's Sikka server (SPU) is offline; try again when it is back.");
    json_decref(answer);
    /* Through the API: the PMS could not be asked (502, not kept), with the sentence. */
    json_t *e = api("POST", W.agent, "sikka-spu-1", body, 502, NULL, "/api/pms/appointments");
    assert_string_equal(error_field(e, "code"), "pms_error");
    assert_non_null(strstr(str(e, "reason"), "offline"));
    json_decref(e);
    /* ... and once it is back, the same tool call books. */
    sikka_settings("{\"spu_offline\":false}");
    answer = voice_call("call-sikka-2", "call_sk_spu_1", "bookAppointment", m->conn,
                        booking_args(m, start));
    assert_non_null(strstr(expect_result(answer, 0), "Confirmed"));
    json_decref(answer);
    assert_int_equal(sheet_count_at(m, start), 1);
    sikka_settings("{\"writeback_delay_ms\":300}");
    json_decref(slots);
    tu_sse_close(&live);
}

/* ---- a slot taken between availability and booking: the nearest free times --------------- */

static bool listed(const json_t *slots, pms_instant t)
{
    size_t i;
    json_t *s;
    json_array_foreach(slots, i, s)
    {
        if (instant(str(s, "startTime")) == t)
            return true;
    }
    return false;
}

static void a_taken_slot_offers_free_alternatives(void **state)
{
    (void)state;
    const pms_of *m = &W.gentu;
    json_t *slots = free_slots(m, 8);
    size_t mid = json_array_size(slots) / 2;
    const char *asked = slot_start(slots, mid);
    take_slot(m, asked);
    char body[700];
    booking_body(m, asked, body, sizeof body);
    json_t *e = api("POST", W.agent, "gentu-taken-1", body, 409, NULL, "/api/pms/appointments");
    assert_string_equal(error_field(e, "code"), "slot_taken");
    assert_string_equal(error_field(e, "field"), "startTime");
    const json_t *alts = json_object_get(e, "alternatives");
    assert_true(json_array_size(alts) >= 2);
    size_t i;
    json_t *alt;
    bool before = false, after = false;
    json_array_foreach(alts, i, alt)
    {
        pms_instant t = instant(str(alt, "startTime"));
        assert_string_equal(str(alt, "practitionerId"), m->practitioner);
        assert_true(instant(str(alt, "endTime")) - t == 15 * 60000);
        assert_true(t != instant(asked));
        /* near: within three hours of the time asked for, and free in the PMS */
        assert_true(t > instant(asked) - 3 * 3600000LL && t < instant(asked) + 3 * 3600000LL);
        assert_true(listed(slots, t));
        assert_true(free_in_pms(m, t, 15));
        before = before || t < instant(asked);
        after = after || t > instant(asked);
    }
    /* the free times next to it, either side */
    assert_true(before && after);
    assert_true(listed(alts, instant(slot_start(slots, mid - 1))));
    assert_true(listed(alts, instant(slot_start(slots, mid + 1))));
    json_decref(e);

    /* The voice tool: one line naming one or two of the nearest free times. */
    const char *voice_asked = slot_start(slots, mid + 4);
    take_slot(m, voice_asked);
    json_t *answer = voice_call("call-gentu-1", "call_gt_book_1", "bookAppointment", m->conn,
                                booking_args(m, voice_asked));
    const char *said = expect_tool_error(answer, 0);
    assert_non_null(strstr(said, "taken"));
    int named = 0;
    for (const char *at = strstr(said, DAY "T"); at; at = strstr(at + 1, DAY "T")) {
        char text[40];
        snprintf(text, sizeof text, "%.25s", at); /* 2026-06-10T11:15:00+10:00 */
        pms_instant t = instant(text);
        assert_true(t != instant(voice_asked));
        assert_true(listed(slots, t));
        assert_true(free_in_pms(m, t, 15));
        named++;
    }
    if (named < 1 || named > 2)
        fail_msg("%d times named: %s", named, said);
    json_decref(answer);
    json_decref(slots);
}

/* ---- moving an appointment where the PMS can, and why not where it cannot ----------------- */

static void reschedule_where_the_pms_can(void **state)
{
    (void)state;
    /* Sikka: a writeback that Sikka applies within the budget. */
    const pms_of *m = &W.sikka;
    sikka_settings("{\"writeback_delay_ms\":300,\"writeback_failure_rate\":0}");
    json_t *slots = free_slots(m, 3);
    char body[700];
    booking_body(m, slot_start(slots, 0), body, sizeof body);
    json_t *booked =
        api("POST", W.agent, "sikka-move-book-1", body, 201, NULL, "/api/pms/appointments");
    char entry[64], pms_id[64];
    snprintf(entry, sizeof entry, "%s", str(booked, "appointmentId"));
    snprintf(pms_id, sizeof pms_id, "%s", str(booked, "pmsAppointmentId"));
    json_decref(booked);
    const char *to = slot_start(slots, 1);
    snprintf(body, sizeof body, "{\"startTime\":\"%s\"}", to);
    json_t *moved =
        api("PATCH", W.agent, "sikka-move-1", body, 200, NULL, "/api/pms/appointments/%s", entry);
    assert_string_equal(str(moved, "state"), "confirmed");
    json_decref(moved);
    json_t *in_pms = pms_appt_of(m, pms_id);
    assert_true(instant(str(in_pms, "_startUtc")) == instant(to));
    json_decref(in_pms);
    json_t *on_sheet = sheet_appointment(m, pms_id);
    assert_true(instant(str(on_sheet, "startTime")) == instant(to));
    json_decref(on_sheet);
    /* ... and by the voice tool. */
    const char *again = slot_start(slots, 2);
    json_t *answer =
        voice_call("call-move-1", "call_mv_1", "rescheduleAppointment", m->conn,
                   json_pack("{s:s, s:s}", "appointmentId", entry, "startTime", again));
    assert_non_null(strstr(expect_result(answer, 0), "Confirmed"));
    json_decref(answer);
    in_pms = pms_appt_of(m, pms_id);
    assert_true(instant(str(in_pms, "_startUtc")) == instant(again));
    json_decref(in_pms);
    json_decref(slots);

    /* Gentu: its Bookings API cannot move an appointment: 501 with the reason. */
    const pms_of *g = &W.gentu;
    slots = free_slots(g, 2);
    booking_body(g, slot_start(slots, 0), body, sizeof body);
    booked = api("POST", W.agent, "gentu-move-book-1", body, 201, NULL, "/api/pms/appointments");
    snprintf(entry, sizeof entry, "%s", str(booked, "appointmentId"));
    json_decref(booked);
    snprintf(body, sizeof body, "{\"startTime\":\"%s\"}", slot_start(slots, 1));
    json_t *e =
        api("PATCH", W.agent, "gentu-move-1", body, 501, NULL, "/api/pms/appointments/%s", entry);
    assert_string_equal(error_field(e, "code"), "not_implemented");
    assert_non_null(strstr(error_field(e, "message"), "cannot move an appointment"));
    json_decref(e);
    answer = voice_call(
        "call-move-2", "call_mv_2", "rescheduleAppointment", g->conn,
        json_pack("{s:s, s:s}", "appointmentId", entry, "startTime", slot_start(slots, 1)));
    assert_non_null(strstr(expect_tool_error(answer, 0), "cannot move an appointment"));
    json_decref(answer);
    json_decref(slots);
}

/* ---- key rotation --------------------------------------------------------------------------- */

static void rotating_the_key_reseals_voice_credentials(void **state)
{
    (void)state;
    char out[8192];
    /* Every call so far chained into an intact audit log (retiring the key below forgoes
     * verifying those records). */
    pmsctl_ok(out, sizeof out, (const char *const[]){"audit", "verify", NULL});
    pmsctl_ok(out, sizeof out, (const char *const[]){"key", "list", "--json", NULL});
    json_t *before = json_loads(out, 0, NULL);
    assert_non_null(before);
    char old_id[64];
    snprintf(old_id, sizeof old_id, "%s", str(json_array_get(before, 0), "keyId"));
    json_decref(before);
    pmsctl_ok(out, sizeof out, (const char *const[]){"key", "rotate", NULL});
    pmsctl_ok(out, sizeof out, (const char *const[]){"key", "list", "--json", NULL});
    json_t *after = json_loads(out, 0, NULL);
    size_t i;
    json_t *k;
    json_array_foreach(after, i, k)
    {
        if (strcmp(str(k, "keyId"), old_id) == 0)
            assert_int_equal(json_integer_value(json_object_get(k, "sealedValues")), 0);
    }
    json_decref(after);
    /* Nothing sealed needs the old key any more (voice secrets included): only the audit
     * records chained with it hold it back. */
    int rc = tu_pmsctl(W.dir, out, sizeof out,
                       (const char *const[]){"key", "retire", old_id, "--force-audit", NULL});
    if (rc != 0)
        fail_msg("the old key could not be retired: %s", out);
    kill(W.d.pid, SIGHUP);
    tu_sleep_ms(200);
    /* pmsd opens the re-sealed secrets: bearer and HMAC. */
    char *body = fixture("find_patient.json", "call-rotation-1", NULL);
    json_t *answer = vapi(body);
    expect_result(answer, 0);
    json_decref(answer);
    char stamp[32], sig[65];
    snprintf(stamp, sizeof stamp, "%lld", (long long)pms_now());
    sign(stamp, body, sig);
    assert_int_equal(vapi_signed(body, stamp, sig, NULL), 200);
    free(body);
}

/* ---- logs ----------------------------------------------------------------------------------- */

static void no_transcript_or_caller_in_the_log(void **state)
{
    (void)state;
    FILE *f = fopen(W.d.log_path, "r");
    assert_non_null(f);
    static const char *const canaries[] = {"Qzvoice", "491570199", "491 570 199",
                                           BEARER,    HMAC_KEY,    NULL};
    char line[16384];
    long lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
        for (size_t i = 0; canaries[i]; i++)
            if (strstr(line, canaries[i]))
                fail_msg("a canary in a log line: %s", line);
        if (W.family[0] && strstr(line, W.family))
            fail_msg("a patient's name in a log line: %s", line);
    }
    fclose(f);
    assert_true(lines > 10);
}

int main(void)
{
    if (getenv("VOICE_FIXTURES") == NULL) {
        fprintf(stderr, "VOICE_FIXTURES must be set\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_call_books_an_appointment),
        cmocka_unit_test(a_time_taken_meanwhile_is_refused),
        cmocka_unit_test(only_the_clinics_credential_is_accepted),
        cmocka_unit_test(a_signature_is_used_once_across_workers),
        cmocka_unit_test(messages_vapi_sends),
        cmocka_unit_test(write_api_rules),
        cmocka_unit_test(sikka_booking_pending_past_the_budget_resolves),
        cmocka_unit_test(sikka_failed_writeback_and_offline_server),
        cmocka_unit_test(a_taken_slot_offers_free_alternatives),
        cmocka_unit_test(reschedule_where_the_pms_can),
        cmocka_unit_test(rotating_the_key_reseals_voice_credentials),
        cmocka_unit_test(no_transcript_or_caller_in_the_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
