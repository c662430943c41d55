/* The fault soak: rounds of randomised syncs of every PMS (Gentu, Medirecords, Halaxy, Sikka; two
 * practices each) in one pms-sandbox, through two pmsd workers sharing a PostgreSQL database (a
 * private cluster: pg_proc.h), while the sandbox injects every fault it has (429s and 429 bursts,
 * 5xx, dropped connections, truncated bodies, malformed records, slow pages, tokens expired
 * mid-sync), is killed and restarted, the PMS data changes, and the workers are killed (SIGKILL)
 * and restarted at random moments. After each round the faults are cleared, every connection is
 * synced once more, and the invariants are checked against the sandbox's ground truth:
 *   - no appointment twice (per connection and PMS id);
 *   - nothing lost, nothing stale: the run sheet's live PMS appointments of each practice's day
 *     are exactly the PMS's (same ids, instants, statuses);
 *   - every closed sync-log row adds up (fetched = created + updated + unchanged + skipped), none
 *     is left running once every connection synced again (and none at all once the workers
 *     stopped, nor a lease);
 *   - the audit chain verifies (pmsctl audit verify).
 * Prints each round, then rounds, faults by kind, kills and violations; exits 1 on any violation.
 *
 *   soak [--seconds N] [--seed S]      (env: PMS_SANDBOX_BIN, PMSD_BIN, PMSCTL_BIN)
 *
 * The same seed makes the same choices (the timing of a loaded machine still varies). */
#include <libpq-fe.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pmsd_proc.h"
#include "pmsync/time.h"
#include "sandbox_proc.h"
#include "testdb.h"

#define WORKERS       2
#define PRACTICES     2 /* of each PMS */
#define PMS_COUNT     4
#define CONNECTIONS   (PMS_COUNT * PRACTICES)
#define LEASE_SECONDS 10
#define SETTLE_MS     120000 /* the clean syncs after a round finish within this */
#define STEP_MS       250

static const char *const pms_names[PMS_COUNT] = {"gentu", "medirecords", "halaxy", "sikka"};

typedef struct connection {
    char id[40];
    const char *pms;
    char practice[80]; /* the truth's key */
    char tenant[80];   /* Gentu: the tenant id (re-paired after a sandbox restart) */
    char timezone[64];
} connection;

enum fault_kind {
    F_429,
    F_429_BURST,
    F_5XX,
    F_DROP,
    F_TRUNCATE,
    F_MALFORMED,
    F_SLOW,
    F_TOKEN_EXPIRY,
    F_SANDBOX_RESTART,
    F_PMS_CHANGE,
    F_KINDS
};
static const char *const fault_names[F_KINDS] = {
    "429",          "429_burst",       "5xx",       "drop", "truncate", "malformed", "slow",
    "token_expiry", "sandbox_restart", "pms_change"};

typedef struct soak {
    unsigned long long rng;
    unsigned long seed;
    int seconds;
    char *dir;
    char db[768];
    PGconn *pg;
    tu_sandbox box;
    int box_port;
    char box_seed[32];
    char account[64], admin[96];
    connection conns[CONNECTIONS];
    tu_pmsd w[WORKERS];
    char wdir[WORKERS][600];
    int generation[WORKERS];
    long faults[F_KINDS]; /* rounds (or moments) a fault was turned on */
    long injected[5];     /* what the sandbox injected: 429, 5xx, drop, truncate, malformed */
    long kills, restarts, syncs_requested, rounds, violations;
    long sum_mismatches_seen;
    long long started;
} soak;

static soak S;

/* ---- small things ------------------------------------------------------------------------- */

static unsigned long long next_random(void)
{
    /* splitmix64 */
    unsigned long long z = (S.rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rnd(int n)
{
    return (int)(next_random() % (unsigned long long)n);
}

static bool chance(double p)
{
    return (double)(next_random() >> 11) / 9007199254740992.0 < p;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "soak: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  VIOLATION: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    S.violations++;
}

static PGresult *query(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static PGresult *query(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(S.pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die("query failed: %s(%s)", PQresultErrorMessage(res), sql);
    return res;
}

static long long query_num(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long query_num(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *res = query("%s", sql);
    long long n = PQntuples(res) > 0 ? atoll(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

static json_t *box_json(const char *method, const char *path, const char *body)
{
    long status = 0;
    json_t *j = tu_sandbox_try_json(&S.box, method, path, body, &status);
    if (j == NULL)
        die("the sandbox answered %ld to %s %s", status, method, path);
    return j;
}

static void pmsctl_ok(char *out, size_t len, const char *const *args)
{
    int rc = tu_pmsctl(S.dir, out, len, args);
    if (rc != 0)
        die("pmsctl %s %s exited %d: %s", args[0], args[1] ? args[1] : "", rc, out);
}

static long long elapsed_ms(void)
{
    return pms_now() - S.started;
}

/* ---- the sandbox -------------------------------------------------------------------------- */

static void start_sandbox(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", S.box_port);
    const char *args[] = {"--seed",
                          S.box_seed,
                          "--practices",
                          "2",
                          "--practitioners",
                          "3",
                          "--appointments-per-day",
                          "6",
                          "--patients",
                          "30",
                          "--days-before",
                          "0",
                          "--days-after",
                          "1",
                          "--threads",
                          "4",
                          "--port",
                          port,
                          NULL};
    for (int attempt = 0; attempt < 40; attempt++) {
        if (tu_sandbox_start(&S.box, args) == 0) {
            S.box_port = S.box.port;
            return;
        }
        tu_sandbox_remove_dir(&S.box);
        tu_sleep_ms(250); /* the port may still be held for a moment */
    }
    die("the sandbox did not start on port %d", S.box_port);
}

/* Adds what the sandbox injected so far (its stats start again with each start). */
static void collect_injected(void)
{
    long status = 0;
    json_t *stats = tu_sandbox_try_json(&S.box, "GET", "/_sandbox/stats", NULL, &status);
    const json_t *f = json_object_get(stats, "faults");
    const char *keys[5] = {"429", "5xx", "drop", "truncate", "malformed"};
    for (int i = 0; i < 5; i++)
        S.injected[i] += (long)json_integer_value(json_object_get(f, keys[i]));
    json_decref(stats);
}

static void repair_gentu(void)
{
    for (int i = 0; i < CONNECTIONS; i++) {
        if (strcmp(S.conns[i].pms, "gentu") != 0)
            continue;
        char path[256];
        snprintf(path, sizeof path, "/_sandbox/gentu/tenants/%s/access", S.conns[i].tenant);
        json_decref(box_json("PUT", path, "{\"access\":\"enabled\"}"));
    }
}

static void restart_sandbox(void)
{
    collect_injected();
    tu_sandbox_signal_and_wait(&S.box, SIGKILL);
    tu_sandbox_remove_dir(&S.box);
    start_sandbox();
    repair_gentu(); /* the PMS remembers its pairings; a regenerated sandbox does not */
    S.faults[F_SANDBOX_RESTART]++;
}

static void clear_faults(void)
{
    json_decref(box_json("PUT", "/_sandbox/faults",
                         "{\"fault_429\":0,\"fault_5xx\":0,\"fault_drop\":0,\"fault_truncate\":0,"
                         "\"fault_429_burst\":0,\"latency_ms\":0,\"fault_malformed\":0,"
                         "\"retry_after\":0}"));
}

/* A random mix of faults for a round. */
static void set_random_faults(void)
{
    json_t *f = json_object();
    json_object_set_new(f, "fault_seed", json_integer((json_int_t)(next_random() % 100000) + 1));
    json_object_set_new(f, "retry_after", json_integer(1));
    if (chance(0.5)) {
        json_object_set_new(f, "fault_429", json_real(0.05 + 0.1 * chance(0.5)));
        S.faults[F_429]++;
    }
    if (chance(0.4)) {
        json_object_set_new(f, "fault_429_burst", json_integer(3 + rnd(10)));
        S.faults[F_429_BURST]++;
    }
    if (chance(0.5)) {
        json_object_set_new(f, "fault_5xx", json_real(0.05 + 0.1 * chance(0.5)));
        S.faults[F_5XX]++;
    }
    if (chance(0.4)) {
        json_object_set_new(f, "fault_drop", json_real(0.05));
        S.faults[F_DROP]++;
    }
    if (chance(0.4)) {
        json_object_set_new(f, "fault_truncate", json_real(0.05));
        S.faults[F_TRUNCATE]++;
    }
    if (chance(0.4)) {
        json_object_set_new(f, "fault_malformed", json_real(0.1));
        S.faults[F_MALFORMED]++;
    }
    if (chance(0.4)) {
        json_object_set_new(f, "latency_ms", json_integer(50 + rnd(250)));
        S.faults[F_SLOW]++;
    }
    char *text = json_dumps(f, JSON_COMPACT);
    json_decref(box_json("PUT", "/_sandbox/faults", text));
    free(text);
    json_decref(f);
}

static void expire_tokens(void)
{
    const char *paths[] = {"/_sandbox/gentu/tokens/expire", "/_sandbox/medirecords/tokens/expire",
                           "/_sandbox/halaxy/tokens/expire", "/_sandbox/sikka/tokens/expire"};
    json_decref(box_json("POST", paths[rnd(4)], NULL));
    S.faults[F_TOKEN_EXPIRY]++;
}

/* Removes one appointment of a practice's day from the PMS entirely (a clean sync must remove
 * it from the run sheet; a sandbox restart brings it back, and the next sync must too). */
static void change_pms(void)
{
    const connection *c = &S.conns[rnd(CONNECTIONS)];
    char path[512];
    json_t *info = box_json("GET", "/_sandbox/info", NULL);
    const json_t *mine = json_object_get(info, c->pms);
    const json_t *list =
        json_object_get(mine, strcmp(c->pms, "gentu") == 0 ? "tenants" : "practices");
    char today[16] = "";
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        const char *key = strcmp(c->pms, "gentu") == 0         ? "tenantId"
                          : strcmp(c->pms, "medirecords") == 0 ? "practiceId"
                          : strcmp(c->pms, "sikka") == 0       ? "officeId"
                                                               : "clientId";
        if (strcmp(json_string_value(json_object_get(p, key)), c->practice) == 0)
            snprintf(today, sizeof today, "%s", json_string_value(json_object_get(p, "today")));
    }
    json_decref(info);
    snprintf(path, sizeof path, "/_sandbox/%s/truth?%s=%s&from=%s&to=%s", c->pms,
             strcmp(c->pms, "gentu") == 0 ? "tenantId" : "practice", c->practice, today, today);
    json_t *truth = box_json("GET", path, NULL);
    const json_t *appts = json_object_get(truth, "appointments");
    if (json_array_size(appts) > 0) {
        const json_t *a = json_array_get(appts, (size_t)rnd((int)json_array_size(appts)));
        if (strcmp(c->pms, "gentu") == 0)
            snprintf(path, sizeof path, "/_sandbox/gentu/tenants/%s/appointments/%s", c->practice,
                     json_string_value(json_object_get(a, "_id")));
        else
            snprintf(path, sizeof path, "/_sandbox/%s/practices/%s/appointments/%s", c->pms,
                     c->practice, json_string_value(json_object_get(a, "_id")));
        long status = 0;
        json_decref(tu_sandbox_try_json(&S.box, "DELETE", path, NULL, &status));
        if (status >= 200 && status < 300)
            S.faults[F_PMS_CHANGE]++;
    }
    json_decref(truth);
}

/* ---- the workers -------------------------------------------------------------------------- */

static void start_worker(int i)
{
    char db[900], key[700], name[64], lease[64];
    snprintf(db, sizeof db, "db=%s", S.db);
    snprintf(key, sizeof key, "key_file=%s/pmsync.key", S.dir);
    snprintf(name, sizeof name, "worker_name=soak-%d.%d", i + 1, ++S.generation[i]);
    snprintf(lease, sizeof lease, "lease_seconds=%d", LEASE_SECONDS);
    const char *args[] = {"--set", db,
                          "--set", key,
                          "--set", name,
                          "--set", lease,
                          "--set", "scheduler_scan_seconds=1",
                          "--set", "max_parallel_syncs=8",
                          "--set", "shutdown_grace_seconds=5",
                          "--set", "http_threads=2",
                          NULL};
    if (tu_pmsd_start(&S.w[i], S.wdir[i], args) != 0)
        die("worker %d did not start (see %s/pmsd.log)", i + 1, S.wdir[i]);
}

static bool alive(int i)
{
    return S.w[i].pid > 0;
}

static void kill_worker(int i)
{
    tu_pmsd_signal_and_wait(&S.w[i], SIGKILL, 10000);
    S.w[i].pid = 0;
    S.kills++;
}

static const tu_pmsd *a_live_worker(void)
{
    int first = rnd(WORKERS);
    for (int k = 0; k < WORKERS; k++)
        if (alive((first + k) % WORKERS))
            return &S.w[(first + k) % WORKERS];
    return NULL;
}

/* Asks a live worker to sync a connection now; whether it was queued (202). */
static bool request_sync(const connection *c)
{
    const tu_pmsd *w = a_live_worker();
    if (w == NULL)
        return false;
    tu_http_result r;
    tu_api(w, "POST", S.admin, NULL, &r, "/api/pms/connections/%s/sync", c->id);
    long status = r.status;
    tu_http_free(&r);
    if (status == 202)
        S.syncs_requested++;
    return status == 202;
}

/* ---- set-up ------------------------------------------------------------------------------- */

static const char *text(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void add_connections(void)
{
    json_t *info = box_json("GET", "/_sandbox/info", NULL);
    int n = 0;
    for (int p = 0; p < PMS_COUNT; p++) {
        const char *pms = pms_names[p];
        const json_t *mine = json_object_get(info, pms);
        const json_t *list =
            json_object_get(mine, strcmp(pms, "gentu") == 0 ? "tenants" : "practices");
        for (int k = 0; k < PRACTICES; k++, n++) {
            const json_t *pr = json_array_get(list, (size_t)k);
            connection *c = &S.conns[n];
            c->pms = pms;
            snprintf(c->timezone, sizeof c->timezone, "%s", text(pr, "timezone"));
            char base[160], name[64], s1[300], s2[300], s3[300];
            snprintf(base, sizeof base, "%s/%s%s", S.box.base, pms,
                     strcmp(pms, "sikka") == 0 ? "/v4" : "");
            snprintf(name, sizeof name, "%s %d", pms, k + 1);
            const char *args[40] = {"connection",
                                    "add",
                                    "--pms",
                                    pms,
                                    "--name",
                                    name,
                                    "--base-url",
                                    base,
                                    "--account",
                                    S.account,
                                    "--timezone",
                                    c->timezone,
                                    "--set",
                                    "retry_base_ms=20",
                                    "--set",
                                    "rate_per_minute=100000",
                                    "--set",
                                    "timeout_seconds=10",
                                    "--all-appointments"};
            int a = 19;
            if (strcmp(pms, "gentu") == 0) {
                const json_t *g = mine;
                snprintf(c->practice, sizeof c->practice, "%s", text(pr, "tenantId"));
                snprintf(c->tenant, sizeof c->tenant, "%s", text(pr, "tenantId"));
                snprintf(s1, sizeof s1, "client_id=%s", text(g, "clientId"));
                snprintf(s2, sizeof s2, "client_secret=%s", text(g, "clientSecret"));
                snprintf(s3, sizeof s3, "app_id=%s", text(g, "appId"));
            } else if (strcmp(pms, "medirecords") == 0) {
                snprintf(c->practice, sizeof c->practice, "%s", text(pr, "practiceId"));
                snprintf(s1, sizeof s1, "practice_id=%s", text(pr, "practiceId"));
                snprintf(s2, sizeof s2, "token=%s", text(pr, "token"));
                s3[0] = '\0';
            } else if (strcmp(pms, "sikka") == 0) {
                snprintf(c->practice, sizeof c->practice, "%s", text(pr, "officeId"));
                snprintf(s1, sizeof s1, "app_id=%s", text(pr, "appId"));
                snprintf(s2, sizeof s2, "app_key=%s", text(pr, "appKey"));
                snprintf(s3, sizeof s3, "practice_id=%s", text(pr, "practiceId"));
            } else {
                snprintf(c->practice, sizeof c->practice, "%s", text(pr, "clientId"));
                snprintf(s1, sizeof s1, "client_id=%s", text(pr, "clientId"));
                snprintf(s2, sizeof s2, "client_secret=%s", text(pr, "clientSecret"));
                s3[0] = '\0';
            }
            args[a++] = "--set";
            args[a++] = s1;
            args[a++] = "--set";
            args[a++] = s2;
            if (s3[0]) {
                args[a++] = "--set";
                args[a++] = s3;
            }
            args[a] = NULL;
            char out[512];
            pmsctl_ok(out, sizeof out, args);
            snprintf(c->id, sizeof c->id, "%.36s", out);
            if (strcmp(pms, "gentu") == 0)
                pmsctl_ok(out, sizeof out,
                          (const char *const[]){"pair", c->id, text(pr, "pairingCode"), NULL});
        }
    }
    json_decref(info);
}

static void set_up(void)
{
    S.started = pms_now();
    setenv("PMSYNC_TEST_STORE", "postgres", 1);
    char tmpl[] = "/tmp/pmsync-soak-XXXXXX";
    if (mkdtemp(tmpl) == NULL)
        die("cannot make a temporary directory");
    S.dir = strdup(tmpl);
    const char *location = tu_db_location(S.dir);
    if (location == NULL)
        die("no PostgreSQL cluster (see above)");
    snprintf(S.db, sizeof S.db, "%s", location);
    S.pg = PQconnectdb(S.db);
    if (PQstatus(S.pg) != CONNECTION_OK)
        die("cannot connect to %s", S.db);
    snprintf(S.box_seed, sizeof S.box_seed, "%lu", S.seed % 1000000 + 1);
    start_sandbox();
    char out[512];
    pmsctl_ok(out, sizeof out,
              (const char *const[]){"account", "add", "Soak clinics", "--timezone",
                                    "Australia/Melbourne", NULL});
    snprintf(S.account, sizeof S.account, "%s", out);
    pmsctl_ok(out, sizeof out,
              (const char *const[]){"apikey", "create", "--account", S.account, "--name", "soak",
                                    "--role", "admin", NULL});
    snprintf(S.admin, sizeof S.admin, "%s", out);
    add_connections();
    for (int i = 0; i < WORKERS; i++) {
        snprintf(S.wdir[i], sizeof S.wdir[i], "%s/w%d", S.dir, i + 1);
        if (mkdir(S.wdir[i], 0700) != 0)
            die("cannot make %s", S.wdir[i]);
        start_worker(i);
    }
}

/* ---- the checks --------------------------------------------------------------------------- */

/* Waits until every connection has a successful sync that started at or after since_ms, asking
 * again for those whose sync since then failed or was refused. Whether they all did. */
static bool clean_syncs(long long since_ms)
{
    bool asked[CONNECTIONS] = {false};
    for (long long waited = 0; waited < SETTLE_MS; waited += 500) {
        int done = 0;
        for (int i = 0; i < CONNECTIONS; i++) {
            const connection *c = &S.conns[i];
            /* An incremental sync removes nothing: only a sweep shows deletions. */
            long long ok = query_num("SELECT COUNT(*) FROM pms_sync_log WHERE pms_connection_id = "
                                     "'%s' AND status = 'success' AND sync_type <> 'incremental' "
                                     "AND started_at >= to_timestamp(%lld / 1000.0)",
                                     c->id, since_ms);
            if (ok > 0) {
                done++;
                continue;
            }
            long long busy = query_num("SELECT COUNT(*) FROM pms_sync_log WHERE pms_connection_id "
                                       "= '%s' AND status = 'running' AND started_at >= "
                                       "to_timestamp(%lld / 1000.0)",
                                       c->id, since_ms);
            if (busy == 0 && (!asked[i] || waited % 3000 == 0))
                asked[i] = request_sync(c);
        }
        if (done == CONNECTIONS)
            return true;
        tu_sleep_ms(500);
    }
    /* Say what the laggards' last syncs were. */
    for (int i = 0; i < CONNECTIONS; i++) {
        PGresult *res = query("SELECT status, COALESCE(worker, ''), COALESCE(error_message, ''), "
                              "started_at >= to_timestamp(%lld / 1000.0) FROM pms_sync_log WHERE "
                              "pms_connection_id = '%s' ORDER BY started_at DESC LIMIT 1",
                              since_ms, S.conns[i].id);
        if (PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "success") != 0)
            printf("  %s %s: last sync %s by %s (%s): %.200s\n", S.conns[i].pms, S.conns[i].id,
                   PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                   strcmp(PQgetvalue(res, 0, 3), "t") == 0 ? "after the round" : "before",
                   PQgetvalue(res, 0, 2));
        PQclear(res);
    }
    return false;
}

static json_t *practice_today(const connection *c, json_t *info)
{
    const json_t *mine = json_object_get(info, c->pms);
    const json_t *list =
        json_object_get(mine, strcmp(c->pms, "gentu") == 0 ? "tenants" : "practices");
    const char *key = strcmp(c->pms, "gentu") == 0         ? "tenantId"
                      : strcmp(c->pms, "medirecords") == 0 ? "practiceId"
                      : strcmp(c->pms, "sikka") == 0       ? "officeId"
                                                           : "clientId";
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        if (strcmp(text(p, key), c->practice) == 0)
            return json_object_get(p, "today");
    }
    return NULL;
}

/* The run sheet's live appointments of each connection equal the PMS's day; nothing twice. */
static long check_run_sheet(void)
{
    long twice = query_num("SELECT COUNT(*) FROM (SELECT 1 FROM run_sheet_appointments WHERE "
                           "source = 'pms' GROUP BY pms_connection_id, pms_appointment_id "
                           "HAVING COUNT(*) > 1) AS twice");
    if (twice != 0)
        violation("%ld appointments are on the run sheet twice", twice);
    json_t *info = box_json("GET", "/_sandbox/info", NULL);
    long compared = 0;
    for (int i = 0; i < CONNECTIONS; i++) {
        const connection *c = &S.conns[i];
        const char *today = json_string_value(practice_today(c, info));
        if (today == NULL)
            die("no today for %s %s", c->pms, c->practice);
        char path[512];
        snprintf(path, sizeof path, "/_sandbox/%s/truth?%s=%s&from=%s&to=%s", c->pms,
                 strcmp(c->pms, "gentu") == 0 ? "tenantId" : "practice", c->practice, today, today);
        json_t *truth = box_json("GET", path, NULL);
        /* What a sync keeps: appointments with a patient, of practitioners synced. */
        PGresult *synced = query("SELECT pms_practitioner_id FROM pms_clinician_mappings WHERE "
                                 "pms_connection_id = '%s' AND sync_enabled AND "
                                 "run_sheet_clinician_id IS NOT NULL",
                                 c->id);
        json_t *want = json_object();
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(truth, "appointments"), k, a)
        {
            if (strcmp(text(a, "_kind"), "meeting") == 0)
                continue;
            bool kept = false;
            for (int r = 0; r < PQntuples(synced) && !kept; r++)
                kept = strcmp(PQgetvalue(synced, r, 0), text(a, "_practitionerId")) == 0;
            if (kept)
                json_object_set(want, text(a, "_id"), a);
        }
        PQclear(synced);
        PGresult *have = query(
            "SELECT pms_appointment_id, to_char(start_time AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), appointment_status FROM run_sheet_appointments "
            "WHERE pms_connection_id = '%s' AND source = 'pms' AND removed_at IS NULL",
            c->id);
        long stale = 0, lost = 0;
        for (int r = 0; r < PQntuples(have); r++) {
            const json_t *w = json_object_get(want, PQgetvalue(have, r, 0));
            const char *status = json_string_value(json_object_get(w, "_status"));
            if (w == NULL || strcmp(PQgetvalue(have, r, 1), text(w, "_startUtc")) != 0 ||
                (status && strcmp(PQgetvalue(have, r, 2), status) != 0)) {
                if (stale++ == 0)
                    violation("%s %s: appointment %s is stale (%s %s; the PMS: %s %s)", c->pms,
                              c->id, PQgetvalue(have, r, 0), PQgetvalue(have, r, 1),
                              PQgetvalue(have, r, 2), w ? text(w, "_startUtc") : "absent",
                              status ? status : "-");
            } else {
                json_object_del(want, PQgetvalue(have, r, 0));
            }
        }
        lost = (long)json_object_size(want);
        if (lost > 0) {
            const char *id;
            json_t *w;
            json_object_foreach(want, id, w)
            {
                violation("%s %s: appointment %s is lost (%ld in all)", c->pms, c->id, id, lost);
                break;
            }
        }
        if (stale > 1)
            S.violations += stale - 1;
        if (lost > 1)
            S.violations += lost - 1;
        compared += PQntuples(have);
        PQclear(have);
        json_decref(want);
        json_decref(truth);
    }
    json_decref(info);
    return compared;
}

static void check_sync_log(bool workers_stopped)
{
    long long mismatched =
        query_num("SELECT COUNT(*) FROM pms_sync_log WHERE status <> 'running' AND "
                  "appointments_fetched <> appointments_created + appointments_updated + "
                  "appointments_unchanged + appointments_skipped");
    if (mismatched > S.sum_mismatches_seen) {
        PGresult *res = query("SELECT id, status, appointments_fetched, appointments_created, "
                              "appointments_updated, appointments_unchanged, appointments_skipped "
                              "FROM pms_sync_log WHERE status <> 'running' AND "
                              "appointments_fetched <> appointments_created + "
                              "appointments_updated + appointments_unchanged + "
                              "appointments_skipped LIMIT 1");
        violation("%lld sync-log rows do not add up (e.g. %s %s: fetched %s, created %s, updated "
                  "%s, unchanged %s, skipped %s)",
                  mismatched - S.sum_mismatches_seen, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                  PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4),
                  PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6));
        PQclear(res);
        S.violations += mismatched - S.sum_mismatches_seen - 1;
        S.sum_mismatches_seen = mismatched;
    }
    long long running = query_num("SELECT COUNT(*) FROM pms_sync_log WHERE status = 'running'");
    if (running > 0)
        violation("%lld sync-log rows are still running%s", running,
                  workers_stopped ? " after the workers stopped"
                                  : " after every connection synced");
    long long overlapping = query_num(
        "SELECT COUNT(*) FROM pms_sync_log a JOIN pms_sync_log b ON a.pms_connection_id = "
        "b.pms_connection_id AND a.id < b.id AND a.completed_at IS NOT NULL AND b.completed_at IS "
        "NOT NULL AND a.started_at < b.completed_at AND b.started_at < a.completed_at");
    if (overlapping > 0)
        violation("%lld pairs of syncs of one connection overlap in the sync log", overlapping);
    if (workers_stopped) {
        long long leases =
            query_num("SELECT COUNT(*) FROM pms_connections WHERE lease_owner IS NOT NULL AND "
                      "lease_until > now()");
        if (leases > 0)
            violation("%lld leases are held after the workers stopped", leases);
    }
}

static void check_audit(void)
{
    char out[4096];
    int rc = tu_pmsctl(S.dir, out, sizeof out, (const char *const[]){"audit", "verify", NULL});
    if (rc != 0)
        violation("the audit chain does not verify (%d): %s", rc, out);
}

/* ---- a round ------------------------------------------------------------------------------ */

static void round_of_chaos(int round)
{
    long kills_before = S.kills, restarts_before = S.faults[F_SANDBOX_RESTART];
    set_random_faults();
    if (chance(0.5))
        change_pms();
    for (int i = 0; i < CONNECTIONS; i++)
        if (chance(0.7))
            request_sync(&S.conns[i]);
    int chaos_ms = 4000 + rnd(8000);
    bool restarted = false;
    long long dead_since[WORKERS] = {0};
    for (int t = 0; t < chaos_ms; t += STEP_MS) {
        for (int i = 0; i < WORKERS; i++) {
            /* Kill a worker now and then (never both at once: someone must answer the API). */
            if (alive(i) && alive((i + 1) % WORKERS) && chance(0.04)) {
                kill_worker(i);
                dead_since[i] = elapsed_ms();
            } else if (!alive(i) && elapsed_ms() - dead_since[i] > 500 + rnd(3000)) {
                start_worker(i);
                S.restarts++;
            }
        }
        if (chance(0.03))
            expire_tokens();
        if (!restarted && chance(0.02)) {
            restart_sandbox();
            restarted = true;
            set_random_faults();
        }
        if (chance(0.05) && S.conns[0].id[0])
            request_sync(&S.conns[rnd(CONNECTIONS)]);
        tu_sleep_ms(STEP_MS);
    }
    /* Settle: everyone back, no faults, then every connection synced once more. */
    for (int i = 0; i < WORKERS; i++)
        if (!alive(i)) {
            start_worker(i);
            S.restarts++;
        }
    clear_faults();
    collect_injected();
    json_decref(box_json("POST", "/_sandbox/stats/reset", NULL));
    long long since = pms_now();
    long long settle_started = elapsed_ms();
    if (!clean_syncs(since))
        violation("not every connection synced cleanly within %d s after the round",
                  SETTLE_MS / 1000);
    long long settle_ms = elapsed_ms() - settle_started;
    long compared = check_run_sheet();
    check_sync_log(false);
    check_audit();
    printf("round %d: %d ms of faults, %ld kills, %ld sandbox restarts; clean in %lld ms; %ld "
           "appointments match the PMSs; violations so far %ld\n",
           round, chaos_ms, S.kills - kills_before, S.faults[F_SANDBOX_RESTART] - restarts_before,
           settle_ms, compared, S.violations);
    fflush(stdout);
}

static void summary(void)
{
    printf("\nsoak: seed %lu, %lld s, %ld rounds, %d connections (%d PMSs), %d workers\n", S.seed,
           elapsed_ms() / 1000, S.rounds, CONNECTIONS, PMS_COUNT, WORKERS);
    printf("faults turned on (rounds or moments):");
    for (int k = 0; k < F_KINDS; k++)
        printf(" %s %ld%s", fault_names[k], S.faults[k], k + 1 < F_KINDS ? "," : "\n");
    printf("faults the sandbox injected: 429 %ld, 5xx %ld, drop %ld, truncate %ld, malformed %ld\n",
           S.injected[0], S.injected[1], S.injected[2], S.injected[3], S.injected[4]);
    long long syncs = query_num("SELECT COUNT(*) FROM pms_sync_log");
    long long failed = query_num("SELECT COUNT(*) FROM pms_sync_log WHERE status <> 'success'");
    printf("workers killed (SIGKILL) %ld, restarted %ld; syncs requested %ld, run %lld (%lld not "
           "successful)\n",
           S.kills, S.restarts, S.syncs_requested, syncs, failed);
    printf("invariant violations: %ld\n", S.violations);
}

int main(int argc, char **argv)
{
    S.seconds = 600;
    S.seed = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            S.seconds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            S.seed = strtoul(argv[++i], NULL, 10);
        else
            die("usage: soak [--seconds N] [--seed S]");
    }
    S.rng = S.seed;
    printf("soak: seed %lu (reproduce with --seed %lu), %d s\n", S.seed, S.seed, S.seconds);
    fflush(stdout);
    set_up();
    /* Round 0: everything synced once without faults. */
    long long since = pms_now();
    if (!clean_syncs(since))
        violation("the first syncs did not all succeed");
    printf("round 0: %ld appointments match the PMSs\n", check_run_sheet());
    check_sync_log(false);
    check_audit();
    fflush(stdout);
    while (elapsed_ms() < (long long)S.seconds * 1000 || S.rounds == 0) {
        S.rounds++;
        round_of_chaos((int)S.rounds);
    }
    /* The workers stop: nothing left running, no lease held. */
    for (int i = 0; i < WORKERS; i++)
        if (alive(i) && tu_pmsd_stop(&S.w[i]) != 0)
            violation("worker %d did not stop cleanly", i + 1);
    check_sync_log(true);
    check_audit();
    collect_injected();
    summary();
    tu_sandbox_stop(&S.box);
    tu_sandbox_remove_dir(&S.box);
    PQfinish(S.pg);
    for (int i = 0; i < WORKERS; i++)
        tu_db_drop(S.wdir[i]);
    tu_db_drop(S.dir);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", S.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "soak: could not remove %s\n", S.dir);
    free(S.dir);
    return S.violations == 0 ? 0 : 1;
}
