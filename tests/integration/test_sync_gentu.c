/* Real syncs of Gentu over loopback HTTP: pmsctl (PMSCTL_BIN) against pms-sandbox
 * (PMS_SANDBOX_BIN), checked row by row against the sandbox's ground truth. Covers a day and a
 * multi-day window across daylight-saving changes, changes in the PMS flowing through, every
 * injected fault, a sync killed mid-way and re-run, concurrent syncs, PMS errors explained, and
 * logs free of patient data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pmsync/time.h"
#include "sandbox_proc.h"
#include "testutil.h"

extern char **environ;

#define TODAY "2026-04-05" /* Melbourne's clocks go back an hour this day */

typedef struct fixture {
    tu_sandbox box;
    char *dir;
    char db[512];
    char env_db[600], env_key[600];
    const char *log_level;
    char conn[64];
    char tenant[64];
    char pairing[32];
} fixture;

/* ---- running pmsctl ------------------------------------------------------------------ */

static pid_t spawn_pmsctl(fixture *f, const char *out_name, const char *const *args)
{
    const char *bin = getenv("PMSCTL_BIN");
    assert_non_null(bin);
    const char *argv[32];
    int argc = 0;
    argv[argc++] = bin;
    for (int i = 0; args[i] && argc < 31; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/%s.out", f->dir, out_name);
    snprintf(err_path, sizeof err_path, "%s/%s.err", f->dir, out_name);
    static char level[64];
    snprintf(level, sizeof level, "PMSYNC_LOG_LEVEL=%s", f->log_level ? f->log_level : "info");
    const char *envp[] = {f->env_db, f->env_key, level, "PATH=/usr/bin:/bin", NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        execve(bin, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static char *slurp(fixture *f, const char *name, const char *ext)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.%s", f->dir, name, ext);
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return strdup("");
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    if (n > 0 && fread(buf, 1, (size_t)n, in) != (size_t)n)
        buf[0] = '\0';
    fclose(in);
    return buf;
}

/* Runs pmsctl to completion; returns its exit status; *out / *err (when not NULL) get its
 * output (caller frees). */
static int pmsctl(fixture *f, char **out, char **err, const char *const *args)
{
    int status = wait_exit(spawn_pmsctl(f, "run", args));
    if (out)
        *out = slurp(f, "run", "out");
    if (err)
        *err = slurp(f, "run", "err");
    return status;
}

static json_t *pmsctl_json(fixture *f, const char *const *args)
{
    char *out = NULL, *err = NULL;
    int status = pmsctl(f, &out, &err, args);
    if (status != 0)
        fail_msg("pmsctl %s exited %d: %s", args[0], status, err);
    json_error_t jerr;
    json_t *json = json_loads(out, 0, &jerr);
    if (json == NULL)
        fail_msg("pmsctl %s printed no JSON: %s", args[0], jerr.text);
    free(out);
    free(err);
    return json;
}

/* ---- fixture ------------------------------------------------------------------------- */

static int start(fixture *f, const char *const *sandbox_args)
{
    memset(f, 0, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->db, sizeof f->db, "%s/pmsync.db", f->dir);
    snprintf(f->env_db, sizeof f->env_db, "PMSYNC_DB=%s", f->db);
    snprintf(f->env_key, sizeof f->env_key, "PMSYNC_SECRET_KEY_FILE=%s/pmsync.key", f->dir);
    if (tu_sandbox_start(&f->box, sandbox_args) != 0)
        return -1;
    json_t *info = tu_sandbox_json(&f->box, "GET", "/_sandbox/info", NULL);
    json_t *tenant = json_array_get(json_object_get(json_object_get(info, "gentu"), "tenants"), 0);
    snprintf(f->tenant, sizeof f->tenant, "%s",
             json_string_value(json_object_get(tenant, "tenantId")));
    snprintf(f->pairing, sizeof f->pairing, "%s",
             json_string_value(json_object_get(tenant, "pairingCode")));
    json_decref(info);
    return 0;
}

static int setup(void **state)
{
    fixture *f = malloc(sizeof *f);
    const char *args[] = {"--seed", "11", "--today", TODAY, NULL};
    if (start(f, args) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc = tu_sandbox_stop(&f->box);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return rc;
}

/* Adds, pairs and configures a connection; extra --set settings are NULL-terminated. */
static void connect_gentu(fixture *f, const char *const *extra_settings)
{
    char base[128], client_id[] = "client_id=sandbox-client",
                    secret[] = "client_secret=sandbox-secret", app[] = "app_id=sandbox-app";
    snprintf(base, sizeof base, "%s/gentu", f->box.base);
    const char *args[40] = {"connection", "add",
                            "--pms",      "gentu",
                            "--name",     "Test clinic",
                            "--base-url", base,
                            "--set",      client_id,
                            "--set",      secret,
                            "--set",      app,
                            "--set",      "retry_base_ms=20",
                            "--set",      "rate_per_minute=100000",
                            NULL};
    int n = 18;
    for (int i = 0; extra_settings && extra_settings[i]; i++) {
        args[n++] = "--set";
        args[n++] = extra_settings[i];
    }
    args[n] = NULL;
    char *out = NULL, *err = NULL;
    int status = pmsctl(f, &out, &err, args);
    if (status != 0)
        fail_msg("connection add exited %d: %s", status, err);
    assert_int_equal(strlen(out), 37); /* the id alone, and a newline */
    snprintf(f->conn, sizeof f->conn, "%.36s", out);
    free(out);
    free(err);
    const char *pair[] = {"pair", f->conn, f->pairing, NULL};
    status = pmsctl(f, &out, &err, pair);
    if (status != 0)
        fail_msg("pair exited %d: %s", status, err);
    free(out);
    free(err);
    const char *types[] = {"types", "telehealth", f->conn, "--suggested", NULL};
    assert_int_equal(pmsctl(f, NULL, NULL, types), 0);
}

/* ---- expectations from the ground truth ---------------------------------------------- */

static bool in_list(const json_t *list, const char *key, const char *value, const char *flag)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const json_t *v = json_object_get(item, key);
        if (json_is_string(v) && strcmp(json_string_value(v), value) == 0)
            return flag == NULL || json_is_true(json_object_get(item, flag));
    }
    return false;
}

static const char *gentu_to_unified(const char *status)
{
    static const char *const table[][2] = {
        {"none", "booked"},
        {"confirmed", "confirmed"},
        {"in_waiting_room", "arrived"},
        {"with_doctor", "in_progress"},
        {"completed", "completed"},
        {"invoiced", "completed"},
        {"cancelled", "cancelled"},
        {"did_not_arrive", "no_show"},
    };
    if (status == NULL)
        return "booked";
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i][0], status) == 0)
            return table[i][1];
    return "?";
}

/* What the run sheet must hold for [from, to]: truth appointments of synced practitioners with
 * telehealth types, minus malformed ones. *malformed counts the malformed ones among synced
 * practitioners (any type), *malformed_no_id those without an id. */
static json_t *expected(fixture *f, const char *from, const char *to, long *malformed,
                        long *malformed_no_id)
{
    char path[256];
    snprintf(path, sizeof path, "/_sandbox/gentu/truth?tenantId=%s&from=%s&to=%s", f->tenant, from,
             to);
    json_t *truth = tu_sandbox_json(&f->box, "GET", path, NULL);
    const char *pargs[] = {"practitioners", "list", f->conn, "--json", "--cached", NULL};
    const char *targs[] = {"types", "list", f->conn, "--json", "--cached", NULL};
    json_t *practitioners = pmsctl_json(f, pargs);
    json_t *types = pmsctl_json(f, targs);
    json_t *want = json_object();
    long bad = 0, bad_no_id = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(truth, "appointments"), i, a)
    {
        const char *pid = json_string_value(json_object_get(a, "_practitionerId"));
        if (!in_list(practitioners, "pmsPractitionerId", pid, "synced"))
            continue;
        if (json_is_true(json_object_get(a, "_malformed"))) {
            bad++;
            const json_t *kind = json_object_get(a, "_malformedKind");
            if (json_is_string(kind) && strstr(json_string_value(kind), "id"))
                bad_no_id++;
            continue;
        }
        const char *type = json_string_value(json_object_get(a, "_appointmentTypeId"));
        if (!in_list(types, "id", type, "isTelehealth"))
            continue;
        json_object_set(want, json_string_value(json_object_get(a, "id")), a);
    }
    json_decref(truth);
    json_decref(practitioners);
    json_decref(types);
    if (malformed)
        *malformed = bad;
    if (malformed_no_id)
        *malformed_no_id = bad_no_id;
    return want;
}

/* The run sheet of every day in [from, to], as an object id -> appointment. */
static json_t *run_sheet(fixture *f, const char *from, const char *to)
{
    json_t *all = json_object();
    pms_date day, last;
    assert_int_equal(pms_date_parse(from, &day, NULL), PMS_OK);
    assert_int_equal(pms_date_parse(to, &last, NULL), PMS_OK);
    for (; pms_date_compare(day, last) <= 0; day = pms_date_add_days(day, 1)) {
        char date[PMS_TIME_BUFLEN];
        pms_date_format(day, date);
        const char *args[] = {"runsheet", "--connection", f->conn, "--date", date, "--json", NULL};
        json_t *list = pmsctl_json(f, args);
        size_t i;
        json_t *a;
        json_array_foreach(list, i, a)
        {
            const char *id = json_string_value(json_object_get(a, "pmsAppointmentId"));
            assert_null(json_object_get(all, id)); /* never twice */
            json_object_set(all, id, a);
        }
        json_decref(list);
    }
    return all;
}

/* The run sheet equals the truth: same ids, instants, statuses, people; no duplicate rows. */
static void assert_matches_truth(fixture *f, const char *from, const char *to)
{
    json_t *want = expected(f, from, to, NULL, NULL);
    json_t *have = run_sheet(f, from, to);
    assert_true(json_object_size(want) > 0);
    const char *id;
    json_t *w;
    json_object_foreach(want, id, w)
    {
        json_t *h = json_object_get(have, id);
        if (h == NULL)
            fail_msg("appointment %s is missing from the run sheet", id);
        pms_instant start, got;
        assert_int_equal(
            pms_iso8601_parse(json_string_value(json_object_get(w, "startAt")), &start, NULL, NULL),
            PMS_OK);
        assert_int_equal(
            pms_iso8601_parse(json_string_value(json_object_get(h, "startTime")), &got, NULL, NULL),
            PMS_OK);
        assert_int_equal(got, start);
        assert_string_equal(json_string_value(json_object_get(h, "status")),
                            gentu_to_unified(json_string_value(json_object_get(w, "status"))));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(h, "patient"), "pmsPatientId")),
            json_string_value(json_object_get(w, "_patientId")));
        assert_string_equal(json_string_value(json_object_get(json_object_get(h, "practitioner"),
                                                              "pmsPractitionerId")),
                            json_string_value(json_object_get(w, "_practitionerId")));
        assert_true(json_is_true(json_object_get(h, "isTelehealth")));
        assert_int_equal(json_integer_value(json_object_get(h, "durationMinutes")),
                         json_integer_value(json_object_get(w, "_minutes")));
        assert_string_equal(json_string_value(json_object_get(h, "timezone")),
                            "Australia/Melbourne");
    }
    if (json_object_size(have) != json_object_size(want)) {
        json_object_foreach(have, id, w) if (!json_object_get(want, id))
            fail_msg("the run sheet holds %s, which the PMS does not have", id);
    }
    assert_int_equal(json_object_size(have), json_object_size(want));
    assert_int_equal(tu_sqlite_count(f->db, "SELECT COUNT(*) FROM (SELECT 1 FROM "
                                            "run_sheet_appointments GROUP BY pms_connection_id, "
                                            "pms_appointment_id HAVING COUNT(*) > 1)"),
                     0);
    json_decref(want);
    json_decref(have);
}

static json_t *sync_json(fixture *f, int expect_status, const char *const *window)
{
    const char *args[12] = {"sync", f->conn, "--json"};
    int n = 3;
    for (int i = 0; window && window[i]; i++)
        args[n++] = window[i];
    args[n] = NULL;
    char *out = NULL, *err = NULL;
    int status = pmsctl(f, &out, &err, args);
    if (status != expect_status)
        fail_msg("sync exited %d, expected %d: %s %s", status, expect_status, out, err);
    json_t *json = json_loads(out, 0, NULL);
    if (json == NULL)
        fail_msg("sync printed no JSON: %s %s", out, err);
    free(out);
    free(err);
    /* The counts add up. */
    const json_t *c = json_object_get(json, "counts");
#define C(k) json_integer_value(json_object_get(c, k))
    assert_int_equal(C("fetched"), C("created") + C("updated") + C("unchanged") + C("skipped"));
    assert_true(C("invalid") <= C("skipped"));
    return json;
}

static long count(const json_t *sync, const char *key)
{
    return (long)json_integer_value(json_object_get(json_object_get(sync, "counts"), key));
}

static void set_faults(fixture *f, const char *json)
{
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/faults", json));
}

/* ---- tests --------------------------------------------------------------------------- */

static void a_day_matches_the_pms_and_a_resync_changes_nothing(void **state)
{
    fixture *f = *state;
    connect_gentu(f, NULL);
    const char *window[] = {"--date", TODAY, NULL};
    json_t *first = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(first, "status")), "success");
    assert_true(count(first, "created") > 0);
    assert_matches_truth(f, TODAY, TODAY);

    json_t *second = sync_json(f, 0, window);
    assert_int_equal(count(second, "created"), 0);
    assert_int_equal(count(second, "updated"), 0);
    assert_int_equal(count(second, "removed"), 0);
    assert_int_equal(count(second, "unchanged"), count(first, "created"));
    /* Requests: the token is reused, so practitioners + types + one page per synced
     * practitioner (all fit in a page of 100). */
    const char *pargs[] = {"practitioners", "list", f->conn, "--json", "--cached", NULL};
    json_t *practitioners = pmsctl_json(f, pargs);
    long synced = 0;
    size_t i;
    json_t *p;
    json_array_foreach(practitioners, i, p) synced += json_is_true(json_object_get(p, "synced"));
    assert_int_equal(json_integer_value(json_object_get(second, "requests")), 2 + synced);
    json_decref(practitioners);
    assert_matches_truth(f, TODAY, TODAY);
    json_decref(first);
    json_decref(second);

    /* The sync log has both runs, newest first, adding up. */
    const char *largs[] = {"log", f->conn, "--json", NULL};
    json_t *log = pmsctl_json(f, largs);
    assert_int_equal(json_array_size(log), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(log, 0), "status")),
                        "success");
    json_decref(log);
}

static void a_week_across_daylight_saving_matches_the_pms(void **state)
{
    fixture *f = *state;
    connect_gentu(f, (const char *const[]){"page_size=5", NULL}); /* many pages */
    const char *window[] = {"--from", "2026-04-02", "--to", "2026-04-08", NULL};
    json_t *sync = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "success");
    json_decref(sync);
    assert_matches_truth(f, "2026-04-02", "2026-04-08");

    /* Every appointment is filed under its local date, including the 25-hour day. */
    assert_int_equal(tu_sqlite_count(f->db, "SELECT COUNT(*) FROM run_sheet_appointments e JOIN "
                                            "run_sheets r ON r.id = e.run_sheet_id WHERE "
                                            "r.sheet_date = '2026-04-05' AND (e.start_time < "
                                            "strftime('%s', '2026-04-04T13:00:00') * 1000 OR "
                                            "e.start_time >= strftime('%s', '2026-04-05T14:00:00') "
                                            "* 1000)"),
                     0);
    assert_true(tu_sqlite_count(f->db, "SELECT COUNT(*) FROM run_sheet_appointments e JOIN "
                                       "run_sheets r ON r.id = e.run_sheet_id WHERE r.sheet_date "
                                       "= '2026-04-05'") > 0);
}

static void changes_in_the_pms_reach_the_run_sheet(void **state)
{
    fixture *f = *state;
    connect_gentu(f, NULL);
    const char *window[] = {"--date", TODAY, NULL};
    json_decref(sync_json(f, 0, window));
    json_t *want = expected(f, TODAY, TODAY, NULL, NULL);
    assert_true(json_object_size(want) >= 3);
    void *iter = json_object_iter(want);
    const char *changed = json_object_iter_key(iter);
    const char *deleted = json_object_iter_key(json_object_iter_next(want, iter));
    json_t *template = json_object_iter_value(iter);
    char path[256], body[512];

    snprintf(path, sizeof path, "/_sandbox/gentu/tenants/%s/appointments/%s", f->tenant, changed);
    json_decref(tu_sandbox_json(&f->box, "PATCH", path, "{\"status\":\"with_doctor\"}"));
    snprintf(path, sizeof path, "/_sandbox/gentu/tenants/%s/appointments/%s", f->tenant, deleted);
    json_decref(tu_sandbox_json(&f->box, "DELETE", path, NULL));
    snprintf(path, sizeof path, "/_sandbox/gentu/tenants/%s/appointments", f->tenant);
    snprintf(body, sizeof body,
             "{\"practitionerId\":\"%s\",\"patientId\":\"%s\",\"appointmentTypeId\":\"%s\","
             "\"startAt\":\"" TODAY "T19:45\",\"minutesDuration\":15,\"status\":\"none\"}",
             json_string_value(json_object_get(template, "_practitionerId")),
             json_string_value(json_object_get(template, "_patientId")),
             json_string_value(json_object_get(template, "_appointmentTypeId")));
    json_t *created = tu_sandbox_json(&f->box, "POST", path, body);
    char new_id[64];
    snprintf(new_id, sizeof new_id, "%s", json_string_value(json_object_get(created, "id")));
    json_decref(created);

    json_t *sync = sync_json(f, 0, window);
    assert_int_equal(count(sync, "created"), 1);
    assert_int_equal(count(sync, "updated"), 1);
    assert_int_equal(count(sync, "removed"), 1);
    json_decref(sync);
    json_t *have = run_sheet(f, TODAY, TODAY);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(have, changed), "status")),
        "in_progress");
    assert_null(json_object_get(have, deleted));
    assert_non_null(json_object_get(have, new_id));
    json_decref(have);
    json_decref(want);
    assert_matches_truth(f, TODAY, TODAY);
}

/* One fault at a time: the sync still reads everything (retries), with no duplicates. */
static void run_with_fault(fixture *f, const char *faults, bool expect_retries)
{
    connect_gentu(f, (const char *const[]){"retry_attempts=10", "page_size=5", NULL});
    set_faults(f, faults);
    const char *window[] = {"--from", "2026-04-04", "--to", "2026-04-05", NULL};
    json_t *sync = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "success");
    if (expect_retries)
        assert_true(json_integer_value(json_object_get(sync, "retries")) > 0);
    json_decref(sync);
    set_faults(f, "{\"fault_429\":0,\"fault_5xx\":0,\"fault_drop\":0,\"fault_truncate\":0,"
                  "\"fault_429_burst\":0,\"latency_ms\":0}");
    assert_matches_truth(f, "2026-04-04", "2026-04-05");
}

static void fault_429_with_retry_after(void **state)
{
    run_with_fault(*state, "{\"fault_429_burst\":4,\"retry_after\":1}", true);
}

static void fault_429_with_http_date(void **state)
{
    run_with_fault(*state, "{\"fault_429\":0.1,\"retry_after\":1,\"retry_after_date\":true}",
                   false);
}

static void fault_5xx(void **state)
{
    run_with_fault(*state, "{\"fault_5xx\":0.3}", true);
}

static void fault_dropped_connections(void **state)
{
    run_with_fault(*state, "{\"fault_drop\":0.3}", true);
}

static void fault_truncated_bodies(void **state)
{
    run_with_fault(*state, "{\"fault_truncate\":0.3}", true);
}

static void fault_slow_pages(void **state)
{
    run_with_fault(*state, "{\"latency_ms\":150}", false);
}

static void fault_token_expires_mid_sync(void **state)
{
    fixture *f = *state;
    connect_gentu(f, (const char *const[]){"page_size=5", "concurrency=2", NULL});
    set_faults(f, "{\"latency_ms\":150}");
    json_t *before = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    const char *args[] = {"sync", f->conn, "--from", "2026-04-04", "--to", "2026-04-05", NULL};
    pid_t pid = spawn_pmsctl(f, "expiring", args);
    tu_sleep_ms(1200);
    json_decref(tu_sandbox_json(&f->box, "POST", "/_sandbox/gentu/tokens/expire", NULL));
    assert_int_equal(wait_exit(pid), 0);
    json_t *after = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    json_t *by_status = json_object_get(after, "byStatus");
    assert_true(json_integer_value(json_object_get(by_status, "401")) >= 1);
    json_int_t tokens_before =
        json_integer_value(json_object_get(json_object_get(before, "byEndpoint"), "gentu.token"));
    json_int_t tokens_after =
        json_integer_value(json_object_get(json_object_get(after, "byEndpoint"), "gentu.token"));
    assert_true(tokens_after > tokens_before);
    json_decref(before);
    json_decref(after);
    set_faults(f, "{\"latency_ms\":0}");
    assert_matches_truth(f, "2026-04-04", "2026-04-05");
}

static void malformed_records_are_skipped_counted_and_logged_without_patient_data(void **state)
{
    fixture *f = *state;
    f->log_level = "debug";
    connect_gentu(f, NULL);
    const char *window[] = {"--from", "2026-04-03", "--to", "2026-04-06", NULL};
    json_decref(sync_json(f, 0, window)); /* clean first: names to look for later */
    json_t *clean = run_sheet(f, "2026-04-03", "2026-04-06");
    set_faults(f, "{\"fault_malformed\":0.15}");
    long malformed = 0, malformed_no_id = 0;
    json_t *want = expected(f, "2026-04-03", "2026-04-06", &malformed, &malformed_no_id);
    assert_true(malformed > 0);
    json_t *sync = sync_json(f, malformed_no_id > 0 ? 1 : 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "partial");
    assert_int_equal(count(sync, "invalid"), malformed);
    json_decref(sync);
    char *log = slurp(f, "run", "err");
    assert_non_null(strstr(log, "sync.record_invalid"));
    /* No name, phone, email or birth date of any synced patient in the log. */
    const char *id;
    json_t *a;
    json_object_foreach(clean, id, a)
    {
        const json_t *patient = json_object_get(a, "patient");
        const char *fields[] = {"fullName", "lastName", "phone", "email", "dateOfBirth"};
        for (size_t i = 0; i < 5; i++) {
            const json_t *v = json_object_get(patient, fields[i]);
            if (json_is_string(v) && json_string_length(v) > 3 && strstr(log, json_string_value(v)))
                fail_msg("the log carries a patient's %s", fields[i]);
        }
    }
    free(log);
    /* The well-formed ones are all there. */
    json_t *have = run_sheet(f, "2026-04-03", "2026-04-06");
    json_object_foreach(want, id, a) assert_non_null(json_object_get(have, id));
    json_decref(have);
    json_decref(want);
    json_decref(clean);
}

static void a_killed_sync_is_rerun_without_duplicates_or_loss(void **state)
{
    fixture *f = *state;
    connect_gentu(f, (const char *const[]){"page_size=5", "concurrency=1", NULL});
    set_faults(f, "{\"latency_ms\":100}");
    const char *args[] = {"sync", f->conn, "--from", "2026-04-02", "--to", "2026-04-08", NULL};
    pid_t pid = spawn_pmsctl(f, "killed", args);
    /* Kill it once some batches are committed, mid-sweep. */
    for (int i = 0; i < 200 && tu_sqlite_count(f->db, "SELECT COUNT(*) FROM "
                                                      "run_sheet_appointments") < 3;
         i++)
        tu_sleep_ms(25);
    kill(pid, SIGKILL);
    assert_int_equal(wait_exit(pid), 128 + SIGKILL);
    long partial_rows = tu_sqlite_count(f->db, "SELECT COUNT(*) FROM run_sheet_appointments");
    assert_true(partial_rows >= 3);
    assert_int_equal(
        tu_sqlite_count(f->db, "SELECT COUNT(*) FROM pms_sync_log WHERE status = 'running'"), 1);

    set_faults(f, "{\"latency_ms\":0}");
    const char *window[] = {"--from", "2026-04-02", "--to", "2026-04-08", NULL};
    json_t *sync = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "success");
    assert_true(count(sync, "unchanged") >= partial_rows);
    json_decref(sync);
    assert_matches_truth(f, "2026-04-02", "2026-04-08");
    assert_int_equal(tu_sqlite_count(f->db, "SELECT COUNT(*) FROM pms_sync_log WHERE status = "
                                            "'failed' AND error_message LIKE 'interrupted%'"),
                     1);
}

static void a_second_sync_of_the_same_connection_is_refused(void **state)
{
    fixture *f = *state;
    connect_gentu(f, (const char *const[]){"page_size=5", "concurrency=1", NULL});
    set_faults(f, "{\"latency_ms\":200}");
    const char *args[] = {"sync", f->conn, "--from", "2026-04-02", "--to", "2026-04-08", NULL};
    pid_t pid = spawn_pmsctl(f, "first", args);
    for (int i = 0; i < 200 && tu_sqlite_count(f->db, "SELECT COUNT(*) FROM pms_sync_log") < 1; i++)
        tu_sleep_ms(25);
    char *out = NULL, *err = NULL;
    const char *second[] = {"sync", f->conn, NULL};
    assert_int_equal(pmsctl(f, &out, &err, second), 1);
    assert_non_null(strstr(err, "already running"));
    free(out);
    free(err);
    kill(pid, SIGTERM); /* a clean stop */
    assert_int_equal(wait_exit(pid), 1);
    assert_int_equal(
        tu_sqlite_count(f->db, "SELECT COUNT(*) FROM pms_sync_log WHERE status = 'running'"), 0);
}

static void pms_errors_are_explained(void **state)
{
    fixture *f = *state;
    connect_gentu(f, NULL);
    char *out = NULL, *err = NULL;
    const char *update[] = {"connection", "update", f->conn, "--set", "client_secret=wrong", NULL};
    assert_int_equal(pmsctl(f, &out, &err, update), 0);
    free(out);
    free(err);
    const char *sync[] = {"sync", f->conn, NULL};
    assert_int_equal(pmsctl(f, &out, &err, sync), 1);
    assert_non_null(strstr(out, "failed"));
    assert_non_null(strstr(out, "client_id and client_secret"));
    assert_null(strstr(out, "wrong")); /* the secret is never echoed */
    assert_null(strstr(err, "wrong"));
    free(out);
    free(err);
    const char *fix[] = {"connection", "update", f->conn, "--set", "client_secret=sandbox-secret",
                         NULL};
    assert_int_equal(pmsctl(f, NULL, NULL, fix), 0);

    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/gentu/settings",
                                "{\"unprovisioned_app\":true}"));
    assert_int_equal(pmsctl(f, &out, &err, sync), 1);
    assert_non_null(strstr(out, "not provisioned"));
    free(out);
    free(err);
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/gentu/settings",
                                "{\"unprovisioned_app\":false}"));

    const char *log[] = {"log", f->conn, "--json", NULL};
    json_t *entries = pmsctl_json(f, log);
    assert_string_equal(json_string_value(json_object_get(json_array_get(entries, 0), "status")),
                        "failed");
    json_decref(entries);
    const char *show[] = {"connection", "show", f->conn, "--json", NULL};
    json_t *conn = pmsctl_json(f, show);
    assert_string_equal(json_string_value(json_object_get(conn, "lastSyncStatus")), "failed");
    assert_null(json_object_get(json_object_get(conn, "settings"), "client_secret"));
    json_decref(conn);

    /* A bad pairing code says what to do. */
    const char *pair[] = {"pair", f->conn, "ZZZZ9999", NULL};
    assert_int_equal(pmsctl(f, &out, &err, pair), 1);
    assert_non_null(strstr(err, "pairing code"));
    free(out);
    free(err);
}

static void the_secret_is_stored_encrypted(void **state)
{
    fixture *f = *state;
    connect_gentu(f, NULL);
    assert_int_equal(tu_sqlite_count(f->db, "SELECT COUNT(*) FROM pms_connections WHERE secrets "
                                            "LIKE 'pmsenc:v1:%' AND instr(secrets, "
                                            "'sandbox-secret') = 0"),
                     1);
    assert_int_equal(tu_sqlite_count(f->db, "SELECT COUNT(*) FROM pms_connections WHERE "
                                            "access_token LIKE 'pmsenc:v1:%'"),
                     1);
    assert_int_equal(tu_sqlite_count(f->db, "SELECT COUNT(*) FROM pms_connections WHERE "
                                            "instr(settings, 'sandbox-secret') > 0"),
                     0);
}

static void spring_forward_day(void **state)
{
    (void)state;
    fixture f;
    const char *args[] = {"--seed", "5", "--today", "2026-10-04", NULL};
    assert_int_equal(start(&f, args), 0);
    connect_gentu(&f, NULL);
    const char *window[] = {"--from", "2026-10-03", "--to", "2026-10-05", NULL};
    json_decref(sync_json(&f, 0, window));
    assert_matches_truth(&f, "2026-10-03", "2026-10-05");
    /* The day is 23 hours long: nothing of the 4th is filed under another day. */
    assert_int_equal(tu_sqlite_count(f.db, "SELECT COUNT(*) FROM run_sheet_appointments e JOIN "
                                           "run_sheets r ON r.id = e.run_sheet_id WHERE "
                                           "r.sheet_date = '2026-10-04' AND (e.start_time < "
                                           "strftime('%s', '2026-10-03T14:00:00') * 1000 OR "
                                           "e.start_time >= strftime('%s', '2026-10-04T13:00:00') "
                                           "* 1000)"),
                     0);
    assert_int_equal(tu_sandbox_stop(&f.box), 0);
    tu_rmtree(f.dir);
    free(f.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_day_matches_the_pms_and_a_resync_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_week_across_daylight_saving_matches_the_pms, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(changes_in_the_pms_reach_the_run_sheet, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_429_with_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_429_with_http_date, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_5xx, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_dropped_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_truncated_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_slow_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(fault_token_expires_mid_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(
            malformed_records_are_skipped_counted_and_logged_without_patient_data, setup, teardown),
        cmocka_unit_test_setup_teardown(a_killed_sync_is_rerun_without_duplicates_or_loss, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_second_sync_of_the_same_connection_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pms_errors_are_explained, setup, teardown),
        cmocka_unit_test_setup_teardown(the_secret_is_stored_encrypted, setup, teardown),
        cmocka_unit_test(spring_forward_day),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tu_sandbox_stop_all();
    return failed;
}
