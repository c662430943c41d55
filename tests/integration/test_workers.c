/* Several pmsd workers on one PostgreSQL database (a private cluster the test starts:
 * testdb.h): 300 Medirecords connections, one per practice of five pms-sandboxes
 * (PMS_SANDBOX_BIN; at most 64 practices each; 40 ms per request), synced every minute, are all
 * due when three workers (PMSD_BIN) start. One worker is killed with SIGKILL while it runs syncs;
 * the others take its connections over when its leases run out. Checked, from the database, the
 * sandboxes' request logs and an event stream:
 *   - every connection was synced at once, and again one interval (+ jitter) after each sync; an
 *     interrupted sync was taken over once its lease ran out;
 *   - no two syncs of a connection overlap: neither in the sync log nor in what the PMS saw
 *     (requests grouped by the sync named in their User-Agent), and each sync's requests went to
 *     its own practice, inside its sync-log interval;
 *   - the run sheet equals every practice's ground truth: no duplicates, nothing lost;
 *   - no sync-log row is left running, the killed worker's rows are closed as interrupted, and
 *     no lease is left behind once the other workers stopped;
 *   - an event stream on one worker shows every connection's next sync, those the other worker
 *     ran included (LISTEN/NOTIFY). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "pmsd_proc.h"
#include "pmsync/connections.h"
#include "pmsync/time.h"
#include "sandbox_proc.h"
#include "testutil.h"

#define SANDBOXES      5
#define PER_SANDBOX    60 /* Medirecords practices of each sandbox */
#define CONNECTIONS    (SANDBOXES * PER_SANDBOX)
#define WORKERS        3
#define VICTIM         2      /* the worker killed mid-sync */
#define LEASE_MS       10000L /* lease_seconds: the least pmsd accepts */
#define INTERVAL_MS    60000L /* syncFrequencyMinutes 1 */
#define JITTER_MS      6000L  /* up to 10% of the interval */
#define CLAIM_SLACK    20000L /* a due connection waits at most this long for a free sync thread */
#define FIRST_DUE_MS   45000L /* a new connection's first sync starts within this (300 at once) */
#define RESPONSE_SLACK 100L   /* the sandbox notes a response complete just after sending it */
#define MAX_SYNCS      4096
#define ROUND_WAIT_MS  120000

/* Epoch milliseconds of a timestamptz column, in SQL. */
#define MS(col) "(extract(epoch from " col ") * 1000)::bigint"

typedef struct connection {
    char id[40];
    char practice[64];
    char timezone[64];
    int box;
    long long created_ms;
    bool interrupted; /* a sync of the killed worker was running when it died */
} connection;

/* One sync: its sync-log row and what the PMS saw of it. */
typedef struct sync_row {
    char id[40];
    int conn;
    long long started, completed; /* completed: 0 when the row has none */
    char status[16];
    char worker[32];
    bool interrupted;
    long requests;
    long long first_request, last_response;
} sync_row;

typedef struct world {
    tu_sandbox box[SANDBOXES];
    json_t *info[SANDBOXES]; /* each sandbox's "medirecords" entry of /_sandbox/info */
    char *dir;
    char db[768];
    tu_pmsd w[WORKERS];
    char wdir[WORKERS][600];
    char name[WORKERS][32];
    char account[64], admin[96];
    connection conns[CONNECTIONS];
    json_t *conn_index; /* connection id -> index */
    sync_row *syncs;
    int sync_count;
    json_t *sync_index; /* sync-log id -> index */
    PGconn *pg;
    long long started_ms, kill_ms;
    long long held;  /* leases the killed worker held */
    int interrupted; /* syncs it was running */
} world;

static world W;

/* ---- the database ------------------------------------------------------------------------- */

static PGresult *query(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static PGresult *query(const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(W.pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("query failed: %s(%s)", PQresultErrorMessage(res), sql);
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

static int conn_of(const char *id)
{
    const json_t *i = json_object_get(W.conn_index, id);
    if (!json_is_integer(i))
        fail_msg("connection %s is not one of the test's", id);
    return (int)json_integer_value(i);
}

/* Fails at once when a sync failed for any reason but the killed worker. */
static void expect_no_failures(void)
{
    PGresult *res = query("SELECT pms_connection_id, worker, status, COALESCE(error_message, '') "
                          "FROM pms_sync_log WHERE status IN ('failed', 'partial') AND "
                          "(worker <> '%s' OR error_message NOT LIKE 'interrupted:%%') LIMIT 1",
                          W.name[VICTIM]);
    if (PQntuples(res) > 0)
        fail_msg("a sync of %s by %s ended %s: %s", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                 PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
    PQclear(res);
}

/* Waits (bounded) until sql counts every connection: synced successfully once, or again on
 * schedule (a successful sync one interval or more after another). */
static void wait_synced(const char *what, const char *sql, int timeout_ms)
{
    long long done = 0;
    for (int waited = 0; waited <= timeout_ms; waited += 250) {
        expect_no_failures();
        if ((done = query_num("%s", sql)) == CONNECTIONS)
            return;
        tu_sleep_ms(250);
    }
    fail_msg("after %d s only %lld of %d connections were synced %s", timeout_ms / 1000, done,
             CONNECTIONS, what);
}

/* ---- an event stream ---------------------------------------------------------------------- */

/* A worker's event stream, read until every connection has a successful sync.finished. */
typedef struct stream {
    char *text; /* what has not been read as a whole event yet */
    size_t len;
    json_t *finished; /* connection id -> true */
} stream;

static void read_event(stream *s, const char *event, size_t len)
{
    static const char finished[] = "event: sync.finished\ndata: ";
    const char *at = memmem(event, len, finished, sizeof finished - 1);
    if (at == NULL)
        return;
    at += sizeof finished - 1;
    json_t *data = json_loadb(at, strcspn(at, "\n"), 0, NULL);
    const char *conn = json_string_value(json_object_get(data, "connectionId"));
    const char *status = json_string_value(json_object_get(data, "status"));
    if (conn && status && strcmp(status, "success") == 0)
        json_object_set_new(s->finished, conn, json_true());
    json_decref(data);
}

static size_t stream_write(char *data, size_t size, size_t n, void *userp)
{
    stream *s = userp;
    char *grown = realloc(s->text, s->len + size * n + 1);
    if (grown == NULL)
        return 0;
    s->text = grown;
    memcpy(s->text + s->len, data, size * n);
    s->len += size * n;
    s->text[s->len] = '\0';
    char *end;
    while ((end = strstr(s->text, "\n\n")) != NULL) {
        *end = '\0';
        read_event(s, s->text, (size_t)(end - s->text));
        s->len -= (size_t)(end + 2 - s->text);
        memmove(s->text, end + 2, s->len + 1);
    }
    /* Done when every connection's sync has been seen: stop reading. */
    return json_object_size(s->finished) == CONNECTIONS ? 0 : size * n;
}

/* Reads d's event stream (bounded) until every connection has finished a sync successfully;
 * the connections whose sync.finished it showed (a new object). */
static json_t *read_events_until_every_sync_finished(const tu_pmsd *d, long timeout_ms)
{
    stream s = {.finished = json_object()};
    char url[128], auth[160];
    snprintf(url, sizeof url, "%s/api/run-sheet/events", d->base);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", W.admin);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(s.text);
    assert_int_equal(status, 200);
    return s.finished;
}

/* ---- set-up ------------------------------------------------------------------------------- */

static void start_worker(int i)
{
    snprintf(W.wdir[i], sizeof W.wdir[i], "%s/w%d", W.dir, i + 1);
    assert_int_equal(mkdir(W.wdir[i], 0700), 0);
    snprintf(W.name[i], sizeof W.name[i], "worker-%d", i + 1);
    char db[900], key[700], name[64], lease[64];
    snprintf(db, sizeof db, "db=%s", W.db);
    snprintf(key, sizeof key, "key_file=%s/pmsync.key", W.dir);
    snprintf(name, sizeof name, "worker_name=%s", W.name[i]);
    snprintf(lease, sizeof lease, "lease_seconds=%ld", LEASE_MS / 1000);
    const char *args[] = {"--set", db,
                          "--set", key,
                          "--set", name,
                          "--set", lease,
                          "--set", "scheduler_scan_seconds=1",
                          "--set", "max_parallel_syncs=16",
                          "--set", "shutdown_grace_seconds=10",
                          "--set", "http_threads=2",
                          NULL};
    /* tu_pmsd_start gives the worker's directory a database of its own: db= points it at the
     * shared one instead (teardown drops the other). */
    if (tu_pmsd_start(&W.w[i], W.wdir[i], args) != 0)
        fail_msg("%s did not start (see %s/pmsd.log)", W.name[i], W.wdir[i]);
}

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof W);
    W.started_ms = pms_now();
    W.dir = tu_tempdir();
    const char *location = tu_db_location(W.dir);
    if (location == NULL)
        return -1;
    snprintf(W.db, sizeof W.db, "%s", location);
    W.pg = PQconnectdb(W.db);
    if (PQstatus(W.pg) != CONNECTION_OK)
        return -1;
    for (int b = 0; b < SANDBOXES; b++) {
        char seed[32], practices[32];
        snprintf(seed, sizeof seed, "--seed=%d", b + 1);
        snprintf(practices, sizeof practices, "--practices=%d", PER_SANDBOX);
        const char *args[] = {seed,
                              practices,
                              "--practitioners=2",
                              "--appointments-per-day=4",
                              "--days-before=0",
                              "--days-after=1",
                              "--patients=20",
                              "--latency-ms=40",
                              NULL};
        if (tu_sandbox_start(&W.box[b], args) != 0)
            return -1;
        json_t *info = tu_sandbox_json(&W.box[b], "GET", "/_sandbox/info", NULL);
        W.info[b] = json_incref(json_object_get(info, "medirecords"));
        json_decref(info);
    }
    char out[512];
    if (tu_pmsctl(W.dir, out, sizeof out,
                  (const char *const[]){"account", "add", "Practices Group", "--timezone",
                                        "Australia/Melbourne", NULL}) != 0)
        return -1;
    snprintf(W.account, sizeof W.account, "%s", out);
    if (tu_pmsctl(W.dir, out, sizeof out,
                  (const char *const[]){"apikey", "create", "--account", W.account, "--name",
                                        "admin", "--role", "admin", NULL}) != 0 ||
        strncmp(out, "pmsk_", 5) != 0)
        return -1;
    snprintf(W.admin, sizeof W.admin, "%s", out);
    W.conn_index = json_object();
    W.sync_index = json_object();
    W.syncs = calloc(MAX_SYNCS, sizeof *W.syncs);
    return W.syncs ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    int rc = 0;
    for (int i = 0; i < WORKERS; i++) {
        if (W.w[i].pid > 0 && tu_pmsd_stop(&W.w[i]) != 0)
            rc = -1;
        if (W.wdir[i][0])
            tu_db_drop(W.wdir[i]);
    }
    for (int b = 0; b < SANDBOXES; b++) {
        if (W.box[b].pid > 0 && tu_sandbox_stop(&W.box[b]) != 0)
            rc = -1;
        tu_sandbox_remove_dir(&W.box[b]);
        json_decref(W.info[b]);
    }
    PQfinish(W.pg);
    json_decref(W.conn_index);
    json_decref(W.sync_index);
    free(W.syncs);
    if (W.dir) {
        tu_rmtree(W.dir);
        free(W.dir);
    }
    return rc;
}

/* ---- the run ------------------------------------------------------------------------------ */

/* Kills the victim with SIGKILL once it runs two syncs (waiting up to wait_ms), and marks the
 * connections whose sync it interrupted. Whether it was killed. */
static bool kill_victim_mid_sync(int wait_ms)
{
    const char *victim = W.name[VICTIM];
    long long running = 0;
    for (int waited = 0;; waited += 10) {
        running = query_num("SELECT COUNT(*) FROM pms_sync_log l JOIN pms_connections c ON c.id "
                            "= l.pms_connection_id WHERE l.status = 'running' AND l.worker = "
                            "'%s' AND c.lease_owner = '%s'",
                            victim, victim);
        if (running >= 2)
            break;
        if (waited >= wait_ms)
            return false;
        tu_sleep_ms(10);
    }
    W.kill_ms = pms_now();
    int status = tu_pmsd_signal_and_wait(&W.w[VICTIM], SIGKILL, 10000);
    assert_true(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    W.held = query_num("SELECT COUNT(*) FROM pms_connections WHERE lease_owner = '%s' AND "
                       "lease_until > now()",
                       victim);
    /* Nothing closes these rows but the worker that takes the connection over. */
    PGresult *res = query("SELECT pms_connection_id FROM pms_sync_log WHERE status = 'running' "
                          "AND worker = '%s'",
                          victim);
    W.interrupted = PQntuples(res);
    for (int i = 0; i < W.interrupted; i++)
        W.conns[conn_of(PQgetvalue(res, i, 0))].interrupted = true;
    PQclear(res);
    assert_true(W.interrupted >= 1);
    return true;
}

/* One Medirecords connection per sandbox practice, every appointment kept, synced every
 * minute: all of them due at once when the workers start. */
static void add_connections(void)
{
    pms_keyring *ring = NULL;
    pms_store *st = NULL;
    pms_error err = {0};
    char key_file[600];
    snprintf(key_file, sizeof key_file, "%s/pmsync.key", W.dir);
    if (pms_keyring_load(NULL, key_file, false, &ring, &err) != PMS_OK ||
        pms_store_open(W.db, false, &st, &err) != PMS_OK)
        fail_msg("cannot open the database: %s", err.message);
    for (int i = 0; i < CONNECTIONS; i++) {
        connection *c = &W.conns[i];
        c->box = i / PER_SANDBOX;
        const json_t *practices = json_object_get(W.info[c->box], "practices");
        assert_int_equal(json_array_size(practices), PER_SANDBOX);
        const json_t *practice = json_array_get(practices, (size_t)(i % PER_SANDBOX));
        snprintf(c->practice, sizeof c->practice, "%s",
                 json_string_value(json_object_get(practice, "practiceId")));
        snprintf(c->timezone, sizeof c->timezone, "%s",
                 json_string_value(json_object_get(practice, "timezone")));
        char name[64];
        snprintf(name, sizeof name, "Practice %d", i + 1);
        pms_connection_fields fields = {
            .display_name = name,
            .base_url = json_string_value(json_object_get(W.info[c->box], "baseUrl")),
            .timezone = c->timezone,
            .sync_enabled = 1,
            .sync_frequency_minutes = (int)(INTERVAL_MS / 60000),
            .sync_telehealth_only = 0,
            .skip_unmapped = -1,
        };
        const pms_setting_value settings[] = {
            {"practice_id", c->practice},
            {"token", json_string_value(json_object_get(practice, "token"))},
            {"rate_per_minute", "100000"},
            {"retry_base_ms", "20"},
        };
        if (pms_connection_create(st, ring, W.account, "medirecords", &fields, settings,
                                  sizeof settings / sizeof settings[0], c->id, &err) != PMS_OK)
            fail_msg("cannot add a connection: %s", err.message);
        json_object_set_new(W.conn_index, c->id, json_integer(i));
    }
    pms_store_close(st);
    pms_keyring_free(ring);
}

/* When each connection was added, from the database. */
static void load_added_times(void)
{
    PGresult *res = query("SELECT id, " MS("created_at") " FROM pms_connections");
    assert_int_equal(PQntuples(res), CONNECTIONS);
    for (int i = 0; i < PQntuples(res); i++)
        W.conns[conn_of(PQgetvalue(res, i, 0))].created_ms = atoll(PQgetvalue(res, i, 1));
    PQclear(res);
}

/* ---- the checks --------------------------------------------------------------------------- */

static void load_sync_log(void)
{
    PGresult *res = query("SELECT id, pms_connection_id, " MS("started_at") ", " MS(
        "completed_at") ", status, worker, COALESCE(error_message, '') FROM pms_sync_log ORDER BY "
                        "pms_connection_id, started_at, id");
    W.sync_count = PQntuples(res);
    assert_true(W.sync_count <= MAX_SYNCS);
    for (int i = 0; i < W.sync_count; i++) {
        sync_row *s = &W.syncs[i];
        snprintf(s->id, sizeof s->id, "%s", PQgetvalue(res, i, 0));
        s->conn = conn_of(PQgetvalue(res, i, 1));
        s->started = atoll(PQgetvalue(res, i, 2));
        s->completed = PQgetisnull(res, i, 3) ? 0 : atoll(PQgetvalue(res, i, 3));
        snprintf(s->status, sizeof s->status, "%s", PQgetvalue(res, i, 4));
        snprintf(s->worker, sizeof s->worker, "%s", PQgetvalue(res, i, 5));
        s->interrupted = strncmp(PQgetvalue(res, i, 6), "interrupted:", 12) == 0;
        json_object_set_new(W.sync_index, s->id, json_integer(i));
    }
    PQclear(res);
}

/* A connection's syncs, for failure messages: times from the kill, statuses, workers. */
static const char *history(int conn)
{
    static char text[2048];
    size_t len = 0;
    text[0] = '\0';
    for (int i = 0; i < W.sync_count && len < sizeof text - 160; i++) {
        const sync_row *s = &W.syncs[i];
        if (s->conn == conn)
            len +=
                (size_t)snprintf(text + len, sizeof text - len, "\n  %s %+lld..%+lld ms %s%s by %s",
                                 s->id, s->started - W.kill_ms, s->completed - W.kill_ms, s->status,
                                 s->interrupted ? " (interrupted)" : "", s->worker);
    }
    return text;
}

typedef struct schedule_stats {
    long long first_due_max, late_max, takeover_max;
    int takeovers;  /* of interrupted syncs */
    int unreleased; /* of finished syncs whose lease the killed worker still held */
} schedule_stats;

/* Every connection's sync log, in order: synced at once when added, then one interval (+ up to
 * 10% jitter) after each sync; an interrupted sync taken over by another worker once the lease
 * ran out; rows never overlap; nothing failed but what the killed worker left; the last sync
 * succeeded. */
static void check_schedule(schedule_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < W.sync_count; i++) {
        const sync_row *s = &W.syncs[i];
        const connection *c = &W.conns[s->conn];
        const sync_row *prev = i > 0 && W.syncs[i - 1].conn == s->conn ? &W.syncs[i - 1] : NULL;
        const sync_row *next =
            i + 1 < W.sync_count && W.syncs[i + 1].conn == s->conn ? &W.syncs[i + 1] : NULL;
        if (strcmp(s->status, "running") == 0)
            fail_msg("sync %s of %s is still marked running%s", s->id, c->id, history(s->conn));
        if (s->completed < s->started)
            fail_msg("sync %s of %s completed before it started%s", s->id, c->id, history(s->conn));
        if (strcmp(s->status, "success") != 0 &&
            !(s->interrupted && strcmp(s->worker, W.name[VICTIM]) == 0))
            fail_msg("sync %s of %s by %s ended %s%s", s->id, c->id, s->worker, s->status,
                     history(s->conn));
        if (strcmp(s->worker, W.name[VICTIM]) == 0 && s->started > W.kill_ms)
            fail_msg("the killed worker has a sync that started after it died%s", history(s->conn));
        if (prev == NULL) {
            long long due = s->started - c->created_ms;
            if (due < 0 || due > FIRST_DUE_MS)
                fail_msg("the first sync of %s started %lld ms after it was added%s", c->id, due,
                         history(s->conn));
            if (due > out->first_due_max)
                out->first_due_max = due;
            continue;
        }
        if (s->started < prev->completed)
            fail_msg("syncs %s and %s of %s overlap in the sync log (%lld ms)%s", prev->id, s->id,
                     c->id, prev->completed - s->started, history(s->conn));
        /* The killed worker's sync was interrupted, or had finished but its lease was not handed
         * back yet (the next due time is written then): another worker takes the connection
         * over once the lease runs out. */
        bool unreleased = strcmp(prev->worker, W.name[VICTIM]) == 0 && !prev->interrupted &&
                          s->started < prev->completed + INTERVAL_MS;
        if (prev->interrupted || unreleased) {
            if (strcmp(s->worker, W.name[VICTIM]) == 0)
                fail_msg("the killed worker's sync of %s was not taken over%s", c->id,
                         history(s->conn));
            long long after = s->started - W.kill_ms;
            if (after <= 0 || after > LEASE_MS + CLAIM_SLACK)
                fail_msg("%s was taken over %lld ms after the kill%s", c->id, after,
                         history(s->conn));
            if (after > out->takeover_max)
                out->takeover_max = after;
            if (prev->interrupted)
                out->takeovers++;
            else
                out->unreleased++;
            continue;
        }
        long long late = s->started - (prev->completed + INTERVAL_MS);
        if (late < 0)
            fail_msg("%s was synced %lld ms before it was due%s", c->id, -late, history(s->conn));
        if (late > JITTER_MS + CLAIM_SLACK)
            fail_msg("%s was synced %lld ms after one interval%s", c->id, late, history(s->conn));
        if (late > out->late_max)
            out->late_max = late;
        if (next == NULL && strcmp(s->status, "success") != 0)
            fail_msg("the last sync of %s ended %s%s", c->id, s->status, history(s->conn));
    }
    for (int i = 0; i < CONNECTIONS; i++)
        if (W.conns[i].interrupted)
            assert_true(query_num("SELECT COUNT(*) FROM pms_sync_log WHERE pms_connection_id = "
                                  "'%s' AND status = 'failed' AND worker = '%s'",
                                  W.conns[i].id, W.name[VICTIM]) == 1);
}

/* The sync a request belongs to, from its User-Agent "pmsync/x.y.z (sync <sync_log id>)". */
static sync_row *sync_of_request(const char *agent)
{
    const char *at = agent ? strstr(agent, "(sync ") : NULL;
    if (at == NULL)
        return NULL;
    char id[40];
    snprintf(id, sizeof id, "%.36s", at + 6);
    const json_t *i = json_object_get(W.sync_index, id);
    if (!json_is_integer(i))
        fail_msg("the PMS saw a request of sync %s, which the sync log does not have", id);
    return &W.syncs[json_integer_value(i)];
}

static int by_first_request(const void *a, const void *b)
{
    const sync_row *x = *(const sync_row *const *)a, *y = *(const sync_row *const *)b;
    if (x->conn != y->conn)
        return x->conn < y->conn ? -1 : 1;
    return x->first_request < y->first_request ? -1 : x->first_request > y->first_request;
}

/* What the PMS saw: every request names its sync; a sync only reads its own practice, inside
 * its sync-log interval; two syncs of one connection never have requests in flight together. */
static long check_request_logs(void)
{
    long total = 0;
    for (int b = 0; b < SANDBOXES; b++) {
        json_t *log =
            tu_sandbox_json(&W.box[b], "GET", "/_sandbox/requests?since=0&limit=1000000", NULL);
        assert_int_equal(json_integer_value(json_object_get(log, "oldestSeq")), 1);
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(log, "requests"), i, r)
        {
            const char *agent = json_string_value(json_object_get(r, "userAgent"));
            sync_row *s = sync_of_request(agent);
            if (s == NULL)
                fail_msg("a request to the PMS names no sync (User-Agent %s)",
                         agent ? agent : "none");
            const connection *c = &W.conns[s->conn];
            const char *tenant = json_string_value(json_object_get(r, "tenantId"));
            if (c->box != b || tenant == NULL || strcmp(tenant, c->practice) != 0)
                fail_msg("sync %s of %s read another practice", s->id, c->id);
            long long started = json_integer_value(json_object_get(r, "startedAt"));
            long long finished = json_integer_value(json_object_get(r, "finishedAt"));
            if (s->requests == 0 || started < s->first_request)
                s->first_request = started;
            if (finished > s->last_response)
                s->last_response = finished;
            s->requests++;
            total++;
        }
        json_decref(log);
    }
    sync_row **order = calloc((size_t)W.sync_count, sizeof *order);
    assert_non_null(order);
    int n = 0;
    for (int i = 0; i < W.sync_count; i++) {
        sync_row *s = &W.syncs[i];
        if (s->requests == 0 && s->interrupted)
            continue; /* killed before its first request */
        if (s->requests == 0)
            fail_msg("sync %s of %s made no request", s->id, W.conns[s->conn].id);
        /* The sandbox notes a response complete once it has sent it: allow it a moment more. */
        if (s->first_request < s->started ||
            (!s->interrupted && s->last_response > s->completed + RESPONSE_SLACK))
            fail_msg("sync %s made requests outside its sync-log interval (%+lld..%+lld ms)%s",
                     s->id, s->first_request - s->started, s->last_response - s->completed,
                     history(s->conn));
        order[n++] = s;
    }
    qsort(order, (size_t)n, sizeof *order, by_first_request);
    for (int i = 1; i < n; i++) {
        if (order[i]->conn == order[i - 1]->conn &&
            order[i]->first_request < order[i - 1]->last_response)
            fail_msg("syncs %s and %s of %s overlap at the PMS", order[i - 1]->id, order[i]->id,
                     W.conns[order[i]->conn].id);
    }
    free(order);
    return total;
}

/* The run sheet holds exactly the practices' appointments of every day their syncs covered:
 * same ids, instants, statuses, people and lengths; nothing twice. */
static long check_run_sheet(void)
{
    assert_int_equal(query_num("SELECT COUNT(*) FROM (SELECT 1 FROM run_sheet_appointments GROUP "
                               "BY pms_connection_id, pms_appointment_id HAVING COUNT(*) > 1) AS "
                               "twice"),
                     0);
    json_t *want = json_object(); /* connection id -> {appointment id -> truth} */
    for (int i = 0; i < CONNECTIONS; i++)
        json_object_set_new(want, W.conns[i].id, json_object());
    PGresult *res = query("SELECT DISTINCT pms_connection_id, window_from::text, window_to::text "
                          "FROM pms_sync_log WHERE status = 'success'");
    for (int i = 0; i < PQntuples(res); i++) {
        const connection *c = &W.conns[conn_of(PQgetvalue(res, i, 0))];
        char path[300];
        snprintf(path, sizeof path, "/_sandbox/medirecords/truth?practice=%s&from=%s&to=%s",
                 c->practice, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
        json_t *truth = tu_sandbox_json(&W.box[c->box], "GET", path, NULL);
        json_t *mine = json_object_get(want, c->id);
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(truth, "appointments"), k, a)
        {
            assert_false(json_is_true(json_object_get(a, "_malformed")));
            json_object_set(mine, json_string_value(json_object_get(a, "_id")), a);
        }
        json_decref(truth);
    }
    PQclear(res);
    res = query("SELECT pms_connection_id, pms_appointment_id, to_char(start_time AT TIME ZONE "
                "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), appointment_status, "
                "pms_practitioner_id, pms_patient_id, appointment_duration_minutes, timezone "
                "FROM run_sheet_appointments WHERE source = 'pms'");
    long have = PQntuples(res), expected = 0;
    for (long i = 0; i < have; i++) {
        const char *conn = PQgetvalue(res, (int)i, 0), *id = PQgetvalue(res, (int)i, 1);
        const connection *c = &W.conns[conn_of(conn)];
        const json_t *w = json_object_get(json_object_get(want, conn), id);
        if (w == NULL)
            fail_msg("the run sheet holds %s of %s, which the PMS does not have", id, conn);
        if (strcmp(PQgetvalue(res, (int)i, 2),
                   json_string_value(json_object_get(w, "_startUtc"))) != 0 ||
            strcmp(PQgetvalue(res, (int)i, 3), json_string_value(json_object_get(w, "_status"))) !=
                0 ||
            strcmp(PQgetvalue(res, (int)i, 4),
                   json_string_value(json_object_get(w, "_practitionerId"))) != 0 ||
            strcmp(PQgetvalue(res, (int)i, 5),
                   json_string_value(json_object_get(w, "_patientId"))) != 0 ||
            atoll(PQgetvalue(res, (int)i, 6)) !=
                json_integer_value(json_object_get(w, "_minutes")) ||
            strcmp(PQgetvalue(res, (int)i, 7), c->timezone) != 0)
            fail_msg("appointment %s of %s differs from the PMS", id, conn);
    }
    PQclear(res);
    const char *conn;
    json_t *mine;
    json_object_foreach(want, conn, mine)
    {
        assert_true(json_object_size(mine) > 0);
        expected += (long)json_object_size(mine);
    }
    json_decref(want);
    /* Every row matched one expected appointment, and none is there twice: equal counts mean
     * nothing is missing. */
    if (have != expected)
        fail_msg("the run sheet holds %ld PMS appointments, the practices have %ld", have,
                 expected);
    return have;
}

/* ---- the test ----------------------------------------------------------------------------- */

static void workers_share_the_schedule_and_take_over_from_a_dead_one(void **state)
{
    (void)state;
    long long added_at = pms_now();
    add_connections();
    long long added_ms = pms_now() - added_at;
    load_added_times();
    for (int i = 0; i < WORKERS; i++)
        start_worker(i);
    /* The third worker is killed as soon as it runs syncs; the others go on alone. */
    if (!kill_victim_mid_sync(30000))
        fail_msg("%s never ran two syncs at once", W.name[VICTIM]);

    /* Everything is synced once, the killed worker's connections by the others. */
    wait_synced("once",
                "SELECT COUNT(DISTINCT pms_connection_id) FROM pms_sync_log WHERE status = "
                "'success'",
                ROUND_WAIT_MS);
    long long first_round_ms = pms_now() - added_at;
    /* Then again on schedule, by either worker: the first one's event stream shows every one of
     * these syncs, the second one's passed on through the database (LISTEN/NOTIFY). */
    long long stream_opened = pms_now();
    json_t *seen = read_events_until_every_sync_finished(&W.w[0], ROUND_WAIT_MS);
    char again[512];
    snprintf(again, sizeof again,
             "SELECT COUNT(DISTINCT b.pms_connection_id) FROM pms_sync_log a JOIN pms_sync_log b "
             "ON b.pms_connection_id = a.pms_connection_id AND b.started_at >= a.completed_at + "
             "interval '%ld milliseconds' WHERE a.status = 'success' AND b.status = 'success'",
             INTERVAL_MS);
    wait_synced("again", again, ROUND_WAIT_MS);
    long long second_round_ms = pms_now() - added_at;
    if (json_object_size(seen) != CONNECTIONS)
        fail_msg("%s's event stream showed the syncs of %zu connections of %d", W.name[0],
                 json_object_size(seen), CONNECTIONS);
    json_decref(seen);
    long long relayed = query_num(
        "SELECT COUNT(*) FROM (SELECT pms_connection_id FROM pms_sync_log WHERE status = "
        "'success' AND started_at > to_timestamp(%lld / 1000.0) GROUP BY pms_connection_id "
        "HAVING bool_and(worker = '%s')) AS by_the_second",
        stream_opened, W.name[1]);
    assert_true(relayed > 0);

    /* The others stop cleanly and hand their leases back. */
    for (int i = 0; i < WORKERS; i++)
        if (i != VICTIM)
            assert_int_equal(tu_pmsd_stop(&W.w[i]), 0);
    assert_int_equal(
        query_num("SELECT COUNT(*) FROM pms_connections WHERE lease_owner IS NOT NULL"), 0);

    load_sync_log();
    schedule_stats stats;
    check_schedule(&stats);
    assert_int_equal(stats.takeovers, W.interrupted);
    long requests = check_request_logs();
    long appointments = check_run_sheet();

    long per_worker[WORKERS] = {0};
    for (int i = 0; i < W.sync_count; i++)
        for (int w = 0; w < WORKERS; w++)
            per_worker[w] += strcmp(W.syncs[i].worker, W.name[w]) == 0;
    print_message("%d connections added in %lld ms; %d syncs (%s %ld, %s %ld, %s %ld), %ld PMS "
                  "requests; %s killed holding %lld leases with %d syncs running (%d finished, "
                  "not handed back), taken over within %lld ms of the kill; first syncs within "
                  "%lld ms of adding, later ones "
                  "at most %lld ms after one interval; rounds done after %lld and %lld ms; %lld "
                  "syncs of %s on %s's event stream; %ld "
                  "appointments match the PMS; %lld ms in all\n",
                  CONNECTIONS, added_ms, W.sync_count, W.name[0], per_worker[0], W.name[1],
                  per_worker[1], W.name[2], per_worker[2], requests, W.name[VICTIM], W.held,
                  W.interrupted, stats.unreleased, stats.takeover_max, stats.first_due_max,
                  stats.late_max, first_round_ms, second_round_ms, relayed, W.name[1], W.name[0],
                  appointments, pms_now() - W.started_ms);
}

int main(void)
{
    /* Workers share a database only on PostgreSQL. */
    setenv("PMSYNC_TEST_STORE", "postgres", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(workers_share_the_schedule_and_take_over_from_a_dead_one,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
