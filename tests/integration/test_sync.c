/* Real syncs over loopback HTTP for one PMS — PMSYNC_TEST_PMS = gentu, medirecords, halaxy or sikka
 * — on SQLite, or on PostgreSQL with PMSYNC_TEST_STORE=postgres (testdb.h): pmsctl (PMSCTL_BIN)
 * against pms-sandbox (PMS_SANDBOX_BIN), checked row by row against the sandbox's normalised ground
 * truth (_id, _startUtc, _status, _telehealth, _practitionerId, _patientId, _minutes, _kind,
 * _malformed). The same cases run for every PMS: a day and a week across daylight-saving changes
 * (in each practice zone), changes in the PMS flowing through, one run under each injected fault, a
 * sync killed mid-way and re-run, a concurrent sync refused, malformed records counted and logged
 * without patient data, secrets sealed, and referenced records read at most once per sync. A few
 * cases are particular to one PMS. */
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

#include "pg_proc.h"
#include "pmsync/store.h"
#include "pmsync/time.h"
#include "sandbox_proc.h"
#include "testutil.h"

#define TODAY "2026-04-05" /* Melbourne, Adelaide and Lord Howe fall back this day */

static const char *pms; /* PMSYNC_TEST_PMS */

static bool is(const char *name)
{
    return strcmp(pms, name) == 0;
}

typedef struct fixture {
    tu_sandbox box;
    char *dir;
    char db[512]; /* the database's location (testdb.h) */
    char env_db[600], env_key[600];
    const char *log_level;
    bool all_appointments; /* the connection keeps every appointment, not only telehealth */
    int practice_index;    /* which of the sandbox's practices to connect */
    char conn[64];
    char practice[128]; /* the truth's key: tenantId, practiceId or clientId */
    char timezone[64];
    json_t *info; /* this PMS's practice entry from /_sandbox/info */
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

static int start(fixture *f, const char *const *sandbox_args, int practice_index)
{
    memset(f, 0, sizeof *f);
    f->practice_index = practice_index;
    f->dir = tu_tempdir();
    snprintf(f->db, sizeof f->db, "%s", tu_db(f->dir));
    snprintf(f->env_db, sizeof f->env_db, "PMSYNC_DB=%s", f->db);
    snprintf(f->env_key, sizeof f->env_key, "PMSYNC_SECRET_KEY_FILE=%s/pmsync.key", f->dir);
    if (tu_sandbox_start(&f->box, sandbox_args) != 0)
        return -1;
    json_t *info = tu_sandbox_json(&f->box, "GET", "/_sandbox/info", NULL);
    const json_t *mine = json_object_get(info, pms);
    const json_t *list = json_object_get(mine, is("gentu") ? "tenants" : "practices");
    f->info = json_incref(json_array_get(list, (size_t)practice_index));
    assert_non_null(f->info);
    const char *key = is("gentu")         ? "tenantId"
                      : is("medirecords") ? "practiceId"
                      : is("sikka")       ? "officeId"
                                          : "clientId";
    snprintf(f->practice, sizeof f->practice, "%s",
             json_string_value(json_object_get(f->info, key)));
    snprintf(f->timezone, sizeof f->timezone, "%s",
             json_string_value(json_object_get(f->info, "timezone")));
    json_decref(info);
    return 0;
}

static void stop(fixture *f)
{
    assert_int_equal(tu_sandbox_stop(&f->box), 0);
    json_decref(f->info);
    tu_rmtree(f->dir);
    free(f->dir);
}

static int setup_at(void **state, const char *today, int practice_index)
{
    fixture *f = malloc(sizeof *f);
    const char *args[] = {"--seed", "11", "--today", today, NULL};
    if (start(f, args, practice_index) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_at(state, TODAY, 0);
}

static int teardown(void **state)
{
    fixture *f = *state;
    stop(f);
    free(f);
    return 0;
}

static const char *info_string(const fixture *f, const char *key)
{
    return json_string_value(json_object_get(f->info, key));
}

/* Adds and prepares a connection to the fixture's practice; extra --set settings NULL-ended. */
static void connect_pms(fixture *f, const char *const *extra_settings)
{
    char base[128];
    snprintf(base, sizeof base, "%s/%s%s", f->box.base, pms, is("sikka") ? "/v4" : "");
    static char s1[300], s2[300], s3[300];
    const char *args[48] = {"connection", "add",
                            "--pms",      pms,
                            "--name",     "Test clinic",
                            "--base-url", base,
                            "--set",      "retry_base_ms=20",
                            "--set",      "rate_per_minute=100000"};
    int n = 12;
    if (is("gentu")) {
        snprintf(s1, sizeof s1, "client_id=%s", "sandbox-client");
        snprintf(s2, sizeof s2, "client_secret=%s", "sandbox-secret");
        snprintf(s3, sizeof s3, "app_id=%s", "sandbox-app");
        const char *more[] = {"--set", s1, "--set", s2, "--set", s3};
        for (int i = 0; i < 6; i++)
            args[n++] = more[i];
    } else if (is("medirecords")) {
        snprintf(s1, sizeof s1, "practice_id=%s", info_string(f, "practiceId"));
        snprintf(s2, sizeof s2, "token=%s", info_string(f, "token"));
        const char *more[] = {"--set", s1, "--set", s2, "--timezone", f->timezone};
        for (int i = 0; i < 6; i++)
            args[n++] = more[i];
    } else if (is("sikka")) {
        snprintf(s1, sizeof s1, "app_id=%s", info_string(f, "appId"));
        snprintf(s2, sizeof s2, "app_key=%s", info_string(f, "appKey"));
        snprintf(s3, sizeof s3, "practice_id=%s", info_string(f, "practiceId"));
        const char *more[] = {"--set", s1, "--set", s2, "--set", s3, "--timezone", f->timezone};
        for (int i = 0; i < 8; i++)
            args[n++] = more[i];
    } else {
        snprintf(s1, sizeof s1, "client_id=%s", info_string(f, "clientId"));
        snprintf(s2, sizeof s2, "client_secret=%s", info_string(f, "clientSecret"));
        const char *more[] = {"--set", s1, "--set", s2, "--timezone", f->timezone};
        for (int i = 0; i < 6; i++)
            args[n++] = more[i];
    }
    for (int i = 0; extra_settings && extra_settings[i]; i++) {
        args[n++] = "--set";
        args[n++] = extra_settings[i];
    }
    if (f->all_appointments)
        args[n++] = "--all-appointments";
    args[n] = NULL;
    char *out = NULL, *err = NULL;
    int status = pmsctl(f, &out, &err, args);
    if (status != 0)
        fail_msg("connection add exited %d: %s", status, err);
    assert_int_equal(strlen(out), 37); /* the id alone, and a newline */
    snprintf(f->conn, sizeof f->conn, "%.36s", out);
    free(out);
    free(err);
    if (is("gentu")) {
        const char *pair[] = {"pair", f->conn, info_string(f, "pairingCode"), NULL};
        status = pmsctl(f, &out, &err, pair);
        if (status != 0)
            fail_msg("pair exited %d: %s", status, err);
        free(out);
        free(err);
    }
    /* Gentu and Halaxy: the practice marks its telehealth types (here: the suggested ones);
     * Medirecords says itself. */
    if (!is("medirecords")) {
        const char *types[] = {"types", "telehealth", f->conn, "--suggested", NULL};
        status = pmsctl(f, &out, &err, types);
        if (status != 0)
            fail_msg("types telehealth exited %d: %s", status, err);
        free(out);
        free(err);
    }
}

/* ---- expectations from the ground truth ---------------------------------------------- */

static bool in_list(const json_t *list, const char *key, const char *value, const char *flag)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const json_t *v = json_object_get(item, key);
        if (json_is_string(v) && value && strcmp(json_string_value(v), value) == 0)
            return flag == NULL || json_is_true(json_object_get(item, flag));
    }
    return false;
}

static json_t *truth(fixture *f, const char *from, const char *to)
{
    char path[300];
    snprintf(path, sizeof path, "/_sandbox/%s/truth?%s=%s&from=%s&to=%s", pms,
             is("gentu") ? "tenantId" : "practice", f->practice, from, to);
    return tu_sandbox_json(&f->box, "GET", path, NULL);
}

/* What the run sheet must hold for [from, to]: patient appointments of synced practitioners
 * that are telehealth, minus malformed ones. *malformed counts malformed records of synced
 * practitioners, *malformed_no_id those without an id. */
static json_t *expected(fixture *f, const char *from, const char *to, long *malformed,
                        long *malformed_no_id)
{
    json_t *all = truth(f, from, to);
    const char *pargs[] = {"practitioners", "list", f->conn, "--json", "--cached", NULL};
    const char *targs[] = {"types", "list", f->conn, "--json", "--cached", NULL};
    json_t *practitioners = pmsctl_json(f, pargs);
    json_t *types = pmsctl_json(f, targs);
    json_t *want = json_object();
    long bad = 0, bad_no_id = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(all, "appointments"), i, a)
    {
        const char *pid = json_string_value(json_object_get(a, "_practitionerId"));
        if (!in_list(practitioners, "pmsPractitionerId", pid, "synced"))
            continue;
        if (json_is_true(json_object_get(a, "_malformed"))) {
            bad++;
            const json_t *kind = json_object_get(a, "_malformedKind");
            if (json_is_string(kind) && strstr(json_string_value(kind), "id") &&
                !strstr(json_string_value(kind), "Id"))
                bad_no_id++;
            continue;
        }
        const char *kind = json_string_value(json_object_get(a, "_kind"));
        if (kind && strcmp(kind, "meeting") == 0)
            continue;
        /* Gentu: the types the practice marked; the others: what the PMS's data says (Halaxy's
         * services are marked by name, which is what the truth's _telehealth follows). */
        bool telehealth =
            is("gentu") || is("sikka")
                ? in_list(types, "id", json_string_value(json_object_get(a, "_appointmentTypeId")),
                          "isTelehealth")
                : json_is_true(json_object_get(a, "_telehealth"));
        if (!telehealth && !f->all_appointments)
            continue;
        json_object_set_new(a, "_expectTelehealth", json_boolean(telehealth));
        json_object_set(want, json_string_value(json_object_get(a, "_id")), a);
    }
    json_decref(all);
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
            if (json_object_get(all, id))
                fail_msg("appointment %s is on the run sheet twice", id);
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
        const char *want_start = json_string_value(json_object_get(w, "_startUtc"));
        const char *have_start = json_string_value(json_object_get(h, "startTime"));
        if (strcmp(want_start, have_start) != 0)
            fail_msg("appointment %s starts at %s, the PMS says %s", id, have_start, want_start);
        assert_string_equal(json_string_value(json_object_get(h, "status")),
                            json_string_value(json_object_get(w, "_status")));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(h, "patient"), "pmsPatientId")),
            json_string_value(json_object_get(w, "_patientId")));
        assert_string_equal(json_string_value(json_object_get(json_object_get(h, "practitioner"),
                                                              "pmsPractitionerId")),
                            json_string_value(json_object_get(w, "_practitionerId")));
        assert_int_equal(json_is_true(json_object_get(h, "isTelehealth")),
                         json_is_true(json_object_get(w, "_expectTelehealth")));
        assert_int_equal(json_integer_value(json_object_get(h, "durationMinutes")),
                         json_integer_value(json_object_get(w, "_minutes")));
        assert_string_equal(json_string_value(json_object_get(h, "timezone")), f->timezone);
        assert_string_equal(json_string_value(json_object_get(h, "pmsType")), pms);
    }
    if (json_object_size(have) != json_object_size(want)) {
        json_object_foreach(have, id, w)
        {
            if (!json_object_get(want, id))
                fail_msg("the run sheet holds %s, which the PMS does not have", id);
        }
    }
    assert_int_equal(json_object_size(have), json_object_size(want));
    assert_int_equal(tu_db_count(f->dir, "SELECT COUNT(*) FROM (SELECT 1 FROM "
                                         "run_sheet_appointments GROUP BY pms_connection_id, "
                                         "pms_appointment_id HAVING COUNT(*) > 1) AS twice"),
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
#undef C
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

static void clear_faults(fixture *f)
{
    set_faults(f, "{\"fault_429\":0,\"fault_5xx\":0,\"fault_drop\":0,\"fault_truncate\":0,"
                  "\"fault_429_burst\":0,\"latency_ms\":0,\"fault_malformed\":0}");
}

/* ---- the cases every PMS runs -------------------------------------------------------- */

static void a_day_matches_the_pms_and_a_resync_changes_nothing(void **state)
{
    fixture *f = *state;
    connect_pms(f, NULL);
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
    assert_matches_truth(f, TODAY, TODAY);
    json_decref(first);
    json_decref(second);

    const char *largs[] = {"log", f->conn, "--json", NULL};
    json_t *log = pmsctl_json(f, largs);
    assert_int_equal(json_array_size(log), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(log, 0), "status")),
                        "success");
    json_decref(log);
}

/* A week across the fall-back day, in each of the sandbox's practice zones. */
static void a_week_across_daylight_saving(fixture *f)
{
    connect_pms(f, (const char *const[]){"page_size=5", NULL}); /* many pages */
    const char *window[] = {"--from", "2026-04-02", "--to", "2026-04-08", NULL};
    json_t *sync = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "success");
    json_decref(sync);
    assert_matches_truth(f, "2026-04-02", "2026-04-08");
}

static void a_week_across_daylight_saving_first_zone(void **state)
{
    a_week_across_daylight_saving(*state);
}

static void a_week_across_daylight_saving_third_zone(void **state)
{
    (void)state;
    fixture f;
    const char *args[] = {"--seed", "11", "--today", TODAY, NULL};
    assert_int_equal(start(&f, args, 2), 0);
    a_week_across_daylight_saving(&f);
    stop(&f);
}

static void spring_forward_days(void **state)
{
    (void)state;
    for (int practice = 0; practice < 3; practice++) {
        fixture f;
        const char *args[] = {"--seed", "5", "--today", "2026-10-04", NULL};
        assert_int_equal(start(&f, args, practice), 0);
        connect_pms(&f, NULL);
        const char *window[] = {"--from", "2026-10-03", "--to", "2026-10-05", NULL};
        json_decref(sync_json(&f, 0, window));
        assert_matches_truth(&f, "2026-10-03", "2026-10-05");
        stop(&f);
    }
}

/* Creates, changes and deletes appointments in the sandbox; the next sync follows. */
static void changes_in_the_pms_reach_the_run_sheet(void **state)
{
    fixture *f = *state;
    connect_pms(f, NULL);
    const char *window[] = {"--date", TODAY, NULL};
    json_decref(sync_json(f, 0, window));
    json_t *want = expected(f, TODAY, TODAY, NULL, NULL);
    assert_true(json_object_size(want) >= 3);
    void *iter = json_object_iter(want);
    char changed[128], deleted[128];
    snprintf(changed, sizeof changed, "%s", json_object_iter_key(iter));
    snprintf(deleted, sizeof deleted, "%s",
             json_object_iter_key(json_object_iter_next(want, iter)));
    json_t *template = json_object_iter_value(iter);

    char base[256], path[400], body[1024];
    if (is("gentu"))
        snprintf(base, sizeof base, "/_sandbox/gentu/tenants/%s/appointments", f->practice);
    else
        snprintf(base, sizeof base, "/_sandbox/%s/practices/%s/appointments", pms, f->practice);
    const char *patch = is("gentu")         ? "{\"status\":\"with_doctor\"}"
                        : is("medirecords") ? "{\"status\":5}"
                        : is("sikka")       ? "{\"status\":\"Complete\"}"
                                            : "{\"status\":\"attended\"}";
    const char *patched = is("halaxy") || is("sikka") ? "completed" : "in_progress";
    snprintf(path, sizeof path, "%s/%s", base, changed);
    json_decref(tu_sandbox_json(&f->box, "PATCH", path, patch));
    snprintf(path, sizeof path, "%s/%s", base, deleted);
    json_decref(tu_sandbox_json(&f->box, "DELETE", path, NULL));
    const char *practitioner = json_string_value(json_object_get(template, "_practitionerId"));
    const char *patient = json_string_value(json_object_get(template, "_patientId"));
    const char *type = json_string_value(json_object_get(template, "_appointmentTypeId"));
    if (is("gentu"))
        snprintf(body, sizeof body,
                 "{\"practitionerId\":\"%s\",\"patientId\":\"%s\",\"appointmentTypeId\":\"%s\","
                 "\"startAt\":\"" TODAY "T19:45\",\"minutesDuration\":15,\"status\":\"none\"}",
                 practitioner, patient, type);
    else
        snprintf(body, sizeof body,
                 "{\"practitionerId\":\"%s\",\"patientId\":\"%s\",\"appointmentTypeId\":\"%s\","
                 "\"start\":\"" TODAY "T19:45\",\"minutes\":15,\"status\":%s}",
                 practitioner, patient, type,
                 is("medirecords") ? "2,\"telehealth\":true"
                 : is("sikka")     ? "\"Open\""
                                   : "\"booked\"");
    json_t *created = tu_sandbox_json(&f->box, "POST", base, body);
    const json_t *created_id = json_object_get(created, "_id");
    if (!json_is_string(created_id))
        created_id = json_object_get(created, "id");
    char new_id[128];
    snprintf(new_id, sizeof new_id, "%s", json_string_value(created_id));
    json_decref(created);

    json_t *sync = sync_json(f, 0, window);
    assert_int_equal(count(sync, "created"), 1);
    assert_int_equal(count(sync, "updated"), 1);
    assert_int_equal(count(sync, "removed"), 1);
    json_decref(sync);
    json_t *have = run_sheet(f, TODAY, TODAY);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(have, changed), "status")), patched);
    assert_null(json_object_get(have, deleted));
    assert_non_null(json_object_get(have, new_id));
    json_decref(have);
    json_decref(want);
    assert_matches_truth(f, TODAY, TODAY);
}

/* One fault at a time: the sync still reads everything (retries), with no duplicates. */
static void run_with_fault(fixture *f, const char *faults, bool expect_retries)
{
    connect_pms(f, (const char *const[]){"retry_attempts=10", "page_size=5", NULL});
    set_faults(f, faults);
    const char *window[] = {"--from", "2026-04-04", "--to", "2026-04-05", NULL};
    json_t *sync = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "success");
    if (expect_retries)
        assert_true(json_integer_value(json_object_get(sync, "retries")) > 0);
    json_decref(sync);
    clear_faults(f);
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
    if (is("medirecords")) {
        /* A static token never expires: the OAuth variant is where tokens are minted. */
        json_decref(
            tu_sandbox_json(&f->box, "PUT", "/_sandbox/medirecords/settings", "{\"oauth\":true}"));
        connect_pms(f,
                    (const char *const[]){"page_size=5", "concurrency=2", "token_url=/oauth/token",
                                          "client_id=medirecords-client",
                                          "client_secret=medirecords-secret", NULL});
    } else {
        connect_pms(f, (const char *const[]){"page_size=5", "concurrency=2", NULL});
    }
    set_faults(f, "{\"latency_ms\":150}");
    json_t *before = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    const char *args[] = {"sync", f->conn, "--from", "2026-04-04", "--to", "2026-04-05", NULL};
    pid_t pid = spawn_pmsctl(f, "expiring", args);
    tu_sleep_ms(1200);
    char path[128];
    snprintf(path, sizeof path, "/_sandbox/%s/tokens/expire", pms);
    json_decref(tu_sandbox_json(&f->box, "POST", path, NULL));
    assert_int_equal(wait_exit(pid), 0);
    json_t *after = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    /* The expired token was answered (401, or Halaxy's OperationOutcome) and a new one used. */
    json_t *by_status = json_object_get(after, "byStatus");
    json_int_t refused = json_integer_value(json_object_get(by_status, "401")) +
                         json_integer_value(json_object_get(by_status, "403")) +
                         json_integer_value(json_object_get(by_status, "400"));
    assert_true(refused >= 1);
    char token_endpoint[64];
    snprintf(token_endpoint, sizeof token_endpoint, "%s.token", pms);
    {
        json_int_t t0 = json_integer_value(
            json_object_get(json_object_get(before, "byEndpoint"), token_endpoint));
        json_int_t t1 = json_integer_value(
            json_object_get(json_object_get(after, "byEndpoint"), token_endpoint));
        assert_true(t1 > t0);
    }
    json_decref(before);
    json_decref(after);
    clear_faults(f);
    assert_matches_truth(f, "2026-04-04", "2026-04-05");
}

static void malformed_records_are_skipped_counted_and_logged_without_patient_data(void **state)
{
    fixture *f = *state;
    f->log_level = "debug";
    connect_pms(f, NULL);
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
    json_t *have = run_sheet(f, "2026-04-03", "2026-04-06");
    json_object_foreach(want, id, a)
    {
        assert_non_null(json_object_get(have, id));
    }
    json_decref(have);
    json_decref(want);
    json_decref(clean);
}

static void a_killed_sync_is_rerun_without_duplicates_or_loss(void **state)
{
    fixture *f = *state;
    connect_pms(f, (const char *const[]){"page_size=5", "concurrency=1", NULL});
    set_faults(f, "{\"latency_ms\":100}");
    const char *args[] = {"sync", f->conn, "--from", "2026-04-02", "--to", "2026-04-08", NULL};
    pid_t pid = spawn_pmsctl(f, "killed", args);
    for (int i = 0; i < 400 && tu_db_count(f->dir, "SELECT COUNT(*) FROM "
                                                   "run_sheet_appointments") < 3;
         i++)
        tu_sleep_ms(25);
    kill(pid, SIGKILL);
    assert_int_equal(wait_exit(pid), 128 + SIGKILL);
    long partial_rows = tu_db_count(f->dir, "SELECT COUNT(*) FROM run_sheet_appointments");
    assert_true(partial_rows >= 3);
    assert_int_equal(
        tu_db_count(f->dir, "SELECT COUNT(*) FROM pms_sync_log WHERE status = 'running'"), 1);

    clear_faults(f);
    const char *window[] = {"--from", "2026-04-02", "--to", "2026-04-08", NULL};
    json_t *sync = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "success");
    assert_true(count(sync, "unchanged") >= partial_rows);
    json_decref(sync);
    assert_matches_truth(f, "2026-04-02", "2026-04-08");
    assert_int_equal(tu_db_count(f->dir, "SELECT COUNT(*) FROM pms_sync_log WHERE status = "
                                         "'failed' AND error_message LIKE 'interrupted%'"),
                     1);
}

static void a_second_sync_of_the_same_connection_is_refused(void **state)
{
    fixture *f = *state;
    connect_pms(f, (const char *const[]){"page_size=5", "concurrency=1", NULL});
    set_faults(f, "{\"latency_ms\":200}");
    const char *args[] = {"sync", f->conn, "--from", "2026-04-02", "--to", "2026-04-08", NULL};
    pid_t pid = spawn_pmsctl(f, "first", args);
    for (int i = 0; i < 200 && tu_db_count(f->dir, "SELECT COUNT(*) FROM pms_sync_log") < 1; i++)
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
        tu_db_count(f->dir, "SELECT COUNT(*) FROM pms_sync_log WHERE status = 'running'"), 0);
}

/* Single records (patients, roles, practitioners, services) are read at most once per sync. */
static void referenced_records_are_read_once_per_sync(void **state)
{
    fixture *f = *state;
    if (is("sikka"))
        return; /* its patients are queried (?patient_id=), which the log's paths do not show:
                   only_kept_appointments_patients_are_read counts one read per patient */
    connect_pms(f, NULL);
    json_t *before = tu_sandbox_json(&f->box, "GET", "/_sandbox/requests", NULL);
    json_int_t since = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(before, "requests"), i, r)
    {
        json_int_t seq = json_integer_value(json_object_get(r, "seq"));
        if (seq > since)
            since = seq;
    }
    json_decref(before);
    const char *window[] = {"--from", "2026-04-04", "--to", "2026-04-06", NULL};
    json_decref(sync_json(f, 0, window));
    char path[128];
    snprintf(path, sizeof path, "/_sandbox/requests?since=%lld", (long long)since);
    json_t *log = tu_sandbox_json(&f->box, "GET", path, NULL);
    json_t *seen = json_object();
    long single = 0;
    json_array_foreach(json_object_get(log, "requests"), i, r)
    {
        const char *endpoint = json_string_value(json_object_get(r, "endpoint"));
        const char *p = json_string_value(json_object_get(r, "path"));
        if (endpoint == NULL || p == NULL)
            continue;
        bool one_record =
            strstr(endpoint, "patient") || strstr(endpoint, "practitioner_role") ||
            (strstr(endpoint, "practitioner") && strstr(p, "/Practitioner/")) ||
            (strstr(endpoint, "healthcare_service") && strstr(p, "/HealthcareService/"));
        if (!one_record || strstr(endpoint, "appointments"))
            continue;
        single++;
        if (json_object_get(seen, p))
            fail_msg("%s was read twice in one sync", endpoint);
        json_object_set_new(seen, p, json_true());
    }
    if (!is("gentu"))
        assert_true(single > 0); /* this PMS resolves references one by one */
    json_decref(seen);
    json_decref(log);
}

/* A PMS that needs one request per patient reads only the patients of appointments the sync
 * keeps: a telehealth-only run sheet costs no reads for in-person appointments. */
static void only_kept_appointments_patients_are_read(void **state)
{
    fixture *f = *state;
    if (is("gentu"))
        return; /* Gentu's pages include their patients */
    connect_pms(f, NULL);
    json_t *before = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    const char *window[] = {"--date", TODAY, NULL};
    json_decref(sync_json(f, 0, window));
    json_t *after = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "%s.patient", pms);
    json_int_t reads =
        json_integer_value(json_object_get(json_object_get(after, "byEndpoint"), endpoint)) -
        json_integer_value(json_object_get(json_object_get(before, "byEndpoint"), endpoint));
    json_t *want = expected(f, TODAY, TODAY, NULL, NULL);
    json_t *patients = json_object();
    const char *id;
    json_t *a;
    json_object_foreach(want, id, a)
    {
        json_object_set_new(patients, json_string_value(json_object_get(a, "_patientId")),
                            json_true());
    }
    assert_true(json_object_size(patients) > 0);
    assert_int_equal(reads, (json_int_t)json_object_size(patients));
    json_decref(patients);
    json_decref(want);
    json_decref(before);
    json_decref(after);
}

static void the_secrets_are_stored_encrypted(void **state)
{
    fixture *f = *state;
    connect_pms(f, NULL);
    assert_int_equal(tu_db_count(f->dir, "SELECT COUNT(*) FROM pms_connections WHERE secrets "
                                         "LIKE 'pmsenc:v1:%' AND secrets NOT LIKE "
                                         "'%secret%' AND secrets NOT LIKE '%token%'"),
                     1);
    assert_int_equal(tu_db_count(f->dir, "SELECT COUNT(*) FROM pms_connections WHERE "
                                         "CAST(settings AS TEXT) LIKE '%secret%' OR "
                                         "CAST(settings AS TEXT) LIKE '%\"token\"%'"),
                     0);
}

/* The change days in every practice zone with every appointment kept, so the after-hours
 * appointments the sandbox puts in the skipped and the repeated hour are on the run sheet. */
static void daylight_saving_days_with_every_appointment(void **state)
{
    (void)state;
    const char *days[] = {"2026-04-05", "2026-10-04"};
    for (int d = 0; d < 2; d++) {
        for (int practice = 0; practice < 3; practice++) {
            fixture f;
            const char *args[] = {"--seed", "11", "--today", days[d], NULL};
            assert_int_equal(start(&f, args, practice), 0);
            f.all_appointments = true;
            connect_pms(&f, NULL);
            const char *window[] = {"--date", days[d], NULL};
            json_decref(sync_json(&f, 0, window));
            assert_matches_truth(&f, days[d], days[d]);
            stop(&f);
        }
    }
}

/* ---- particular to one PMS ----------------------------------------------------------- */

/* Medirecords sends wall-clock times without an offset. In a gap or an overlap the instant is
 * decided by the documented policy; these instants were worked out by hand from zdump's
 * transitions, independently of the code. */
static void medirecords_ambiguous_local_times_get_the_documented_instants(void **state)
{
    (void)state;
    static const struct {
        const char *zone, *local, *utc;
    } expected_instants[] = {
        {"Australia/Melbourne", "2026-04-05T02:30", "2026-04-04T15:30:00.000Z"},
        {"Australia/Adelaide", "2026-04-05T02:30", "2026-04-04T16:00:00.000Z"},
        {"Australia/Lord_Howe", "2026-04-05T01:45", "2026-04-04T14:45:00.000Z"},
        {"Australia/Melbourne", "2026-10-04T02:30", "2026-10-03T16:30:00.000Z"},
        {"Australia/Adelaide", "2026-10-04T02:30", "2026-10-03T17:00:00.000Z"},
        {"Australia/Lord_Howe", "2026-10-04T02:15", "2026-10-03T15:45:00.000Z"},
    };
    const char *days[] = {"2026-04-05", "2026-10-04"};
    int checked = 0;
    for (int d = 0; d < 2; d++) {
        for (int practice = 0; practice < 3; practice++) {
            fixture f;
            const char *args[] = {"--seed", "11", "--today", days[d], NULL};
            assert_int_equal(start(&f, args, practice), 0);
            f.all_appointments = true;
            connect_pms(&f, NULL);
            const char *window[] = {"--date", days[d], NULL};
            json_decref(sync_json(&f, 0, window));
            json_t *sheet = run_sheet(&f, days[d], days[d]);
            const char *id;
            json_t *a;
            json_object_foreach(sheet, id, a)
            {
                const char *local = json_string_value(
                    json_object_get(json_object_get(a, "rawData"), "scheduleTime"));
                for (size_t i = 0;
                     local && i < sizeof expected_instants / sizeof expected_instants[0]; i++) {
                    if (strcmp(expected_instants[i].zone, f.timezone) != 0 ||
                        strcmp(expected_instants[i].local, local) != 0)
                        continue;
                    const char *got = json_string_value(json_object_get(a, "startTime"));
                    if (strcmp(got, expected_instants[i].utc) != 0)
                        fail_msg("%s %s became %s, not %s", f.timezone, local, got,
                                 expected_instants[i].utc);
                    checked++;
                }
            }
            json_decref(sheet);
            stop(&f);
        }
    }
    assert_true(checked >= 6); /* every zone's gap and overlap was on a run sheet */
}

/* ---- moving the database to the other backend ----------------------------------------- */

/* pmsctl's output with the database at location instead of the fixture's. */
static int pmsctl_at(fixture *f, const char *location, char **out, char **err,
                     const char *const *args)
{
    char saved[sizeof f->env_db];
    snprintf(saved, sizeof saved, "%s", f->env_db);
    snprintf(f->env_db, sizeof f->env_db, "PMSYNC_DB=%s", location);
    int status = pmsctl(f, out, err, args);
    snprintf(f->env_db, sizeof f->env_db, "%s", saved);
    return status;
}

static json_t *pmsctl_json_at(fixture *f, const char *location, const char *const *args)
{
    char saved[sizeof f->env_db];
    snprintf(saved, sizeof saved, "%s", f->env_db);
    snprintf(f->env_db, sizeof f->env_db, "PMSYNC_DB=%s", location);
    json_t *json = pmsctl_json(f, args);
    snprintf(f->env_db, sizeof f->env_db, "%s", saved);
    return json;
}

/* A new, empty database of the other backend: PostgreSQL (a database of the test's cluster)
 * when the suite runs on SQLite, a SQLite file when it runs on PostgreSQL. */
static void other_backend(fixture *f, char *out, size_t len)
{
    if (tu_db_postgres()) {
        snprintf(out, len, "%s/moved.db", f->dir);
        return;
    }
    const struct tu_pg *cluster = tu_db_cluster();
    assert_non_null(cluster);
    static int made;
    char name[64], sql[128], why[600];
    snprintf(name, sizeof name, "moved_%d_%d", (int)getpid(), ++made);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", name);
    if (tu_pg_exec(cluster, "postgres", sql, why, sizeof why) != 0)
        fail_msg("cannot create a database: %s", why);
    tu_pg_location(cluster, name, out, len);
}

static long table_rows(const char *location, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    long n = tu_db_query_count(location, sql);
    assert_true(n >= 0);
    return n;
}

static void the_database_moves_to_the_other_backend_whole(void **state)
{
    fixture *f = *state;
    connect_pms(f, NULL);
    const char *window[] = {"--date", TODAY, NULL};
    json_decref(sync_json(f, 0, window));
    char out[256];
    const char *key_args[] = {"apikey", "create", "--account", PMS_DEFAULT_ACCOUNT_ID,
                              "--role", "staff",  "--name",    "front desk",
                              NULL};
    char *key_out = NULL;
    assert_int_equal(pmsctl(f, &key_out, NULL, key_args), 0);
    free(key_out);
    json_t *sheet = run_sheet(f, TODAY, TODAY);
    assert_true(json_object_size(sheet) > 0);
    const char *log_args[] = {"log", f->conn, "--json", NULL};
    json_t *log = pmsctl_json(f, log_args);

    char dest[768];
    other_backend(f, dest, sizeof dest);
    /* A new database says it is at version 0; migrating brings it to the latest, once. */
    const char *status_args[] = {"db", "status", "--json", NULL};
    json_t *status = pmsctl_json_at(f, dest, status_args);
    assert_int_equal(json_integer_value(json_object_get(status, "schemaVersion")), 0);
    long latest = (long)json_integer_value(json_object_get(status, "latestVersion"));
    assert_true(latest >= 8);
    assert_int_equal(json_integer_value(json_object_get(status, "pending")), latest);
    assert_string_equal(json_string_value(json_object_get(status, "backend")),
                        tu_db_postgres() ? "sqlite" : "postgresql");
    json_decref(status);
    const char *migrate_args[] = {"db", "migrate", NULL};
    char *text = NULL;
    assert_int_equal(pmsctl_at(f, dest, &text, NULL, migrate_args), 0);
    snprintf(out, sizeof out, "schema version 0 -> %ld", latest);
    assert_non_null(strstr(text, out));
    free(text);
    assert_int_equal(pmsctl_at(f, dest, &text, NULL, migrate_args), 0);
    assert_non_null(strstr(text, "up to date"));
    free(text);

    /* The copy: every table, row for row. */
    const char *copy_args[] = {"db", "copy", "--to", dest, "--json", NULL};
    json_t *copy = pmsctl_json(f, copy_args);
    const char *tables[] = {"accounts",   "pms_connections",        "pms_sync_log",
                            "run_sheets", "run_sheet_appointments", "api_keys",
                            "audit_log",  "run_sheet_clinicians",   "pms_clinician_mappings"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        long rows = table_rows(f->db, tables[i]);
        assert_int_equal(
            json_integer_value(json_object_get(json_object_get(copy, "tables"), tables[i])), rows);
        assert_int_equal(table_rows(dest, tables[i]), rows);
    }
    assert_true(table_rows(dest, "audit_log") > 0);
    json_decref(copy);

    /* The copy reads as the original: the audit chain verifies, the run sheet and the sync
     * history are the same, and the secrets open with the same key. */
    const char *verify_args[] = {"audit", "verify", NULL};
    assert_int_equal(pmsctl_at(f, dest, NULL, NULL, verify_args), 0);
    char saved[sizeof f->env_db];
    snprintf(saved, sizeof saved, "%s", f->env_db);
    snprintf(f->env_db, sizeof f->env_db, "PMSYNC_DB=%s", dest);
    json_t *moved_sheet = run_sheet(f, TODAY, TODAY);
    json_t *moved_log = pmsctl_json(f, log_args);
    assert_true(json_equal(moved_sheet, sheet));
    assert_true(json_equal(moved_log, log));
    json_t *again = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(again, "status")), "success");
    assert_int_equal(count(again, "created"), 0);
    assert_int_equal(count(again, "unchanged"), (long)json_object_size(sheet));
    json_decref(again);
    snprintf(f->env_db, sizeof f->env_db, "%s", saved);
    json_decref(moved_sheet);
    json_decref(moved_log);

    /* A second copy into a database that holds data is refused and changes nothing. */
    long before = table_rows(dest, "run_sheet_appointments");
    char *err_text = NULL;
    const char *copy_again[] = {"db", "copy", "--to", dest, NULL};
    assert_int_equal(pmsctl(f, NULL, &err_text, copy_again), 1);
    assert_non_null(strstr(err_text, "already holds data"));
    free(err_text);
    assert_int_equal(table_rows(dest, "run_sheet_appointments"), before);

    /* A password in a PostgreSQL location is never printed. */
    if (!tu_db_postgres()) {
        char with_password[900];
        snprintf(with_password, sizeof with_password, "%s&password=Qzpw4711", dest);
        const char *plain_status[] = {"db", "status", NULL};
        assert_int_equal(pmsctl_at(f, with_password, &text, NULL, plain_status), 0);
        assert_null(strstr(text, "Qzpw4711"));
        assert_non_null(strstr(text, "password=***"));
        free(text);
    }
    json_decref(sheet);
    json_decref(log);
}

static void gentu_errors_are_explained(void **state)
{
    fixture *f = *state;
    connect_pms(f, NULL);
    char *out = NULL, *err = NULL;
    const char *update[] = {"connection", "update", f->conn, "--set", "client_secret=wrong", NULL};
    assert_int_equal(pmsctl(f, &out, &err, update), 0);
    free(out);
    free(err);
    const char *sync[] = {"sync", f->conn, NULL};
    assert_int_equal(pmsctl(f, &out, &err, sync), 1);
    assert_non_null(strstr(out, "failed"));
    assert_non_null(strstr(out, "client_id and client_secret"));
    assert_null(strstr(out, "wrong"));
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
    const char *show[] = {"connection", "show", f->conn, "--json", NULL};
    json_t *conn = pmsctl_json(f, show);
    assert_string_equal(json_string_value(json_object_get(conn, "lastSyncStatus")), "failed");
    json_decref(conn);
    const char *pair[] = {"pair", f->conn, "ZZZZ9999", NULL};
    assert_int_equal(pmsctl(f, &out, &err, pair), 1);
    assert_non_null(strstr(err, "pairing code"));
    free(out);
    free(err);
}

static void gentu_requests_are_the_minimum(void **state)
{
    fixture *f = *state;
    connect_pms(f, NULL);
    const char *window[] = {"--date", TODAY, NULL};
    json_decref(sync_json(f, 0, window));
    json_t *second = sync_json(f, 0, window);
    const char *pargs[] = {"practitioners", "list", f->conn, "--json", "--cached", NULL};
    json_t *practitioners = pmsctl_json(f, pargs);
    long synced = 0;
    size_t i;
    json_t *p;
    json_array_foreach(practitioners, i, p)
    {
        synced += json_is_true(json_object_get(p, "synced"));
    }
    /* the token is reused: practitioners + types + one page per synced practitioner */
    assert_int_equal(json_integer_value(json_object_get(second, "requests")), 2 + synced);
    json_decref(practitioners);
    json_decref(second);
}

static void medirecords_variants_of_the_unknowns(void **state)
{
    fixture *f = *state;
    /* Every guessed shape at once: 204 for empty pages, the page envelope for types, another
     * interval-code shape, the raw token, an exclusive range end, a provider list. */
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/medirecords/settings",
                                "{\"empty_204\":true,\"types_envelope\":\"page\","
                                "\"interval_shape\":\"objects\",\"raw_token\":true,"
                                "\"range_end_exclusive\":true,\"providers\":true}"));
    connect_pms(f,
                (const char *const[]){"auth_scheme=none", "range_end=exclusive",
                                      "providers_path=/v1/practices/{practiceId}/providers", NULL});
    const char *window[] = {"--from", "2026-04-04", "--to", "2026-04-06", NULL};
    json_t *sync = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "success");
    json_decref(sync);
    assert_matches_truth(f, "2026-04-04", "2026-04-06");
    /* With a provider list, practitioners carry their names. */
    const char *pargs[] = {"practitioners", "list", f->conn, "--json", "--cached", NULL};
    json_t *practitioners = pmsctl_json(f, pargs);
    size_t i;
    json_t *p;
    json_array_foreach(practitioners, i, p)
    {
        assert_null(strstr(json_string_value(json_object_get(p, "name")), "Practitioner "));
    }
    json_decref(practitioners);
}

static void halaxy_variants_of_the_unknowns(void **state)
{
    fixture *f = *state;
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/halaxy/settings",
                                "{\"reference_style\":\"mixed\",\"location_type\":true}"));
    connect_pms(f, (const char *const[]){"date_query=range", NULL});
    const char *window[] = {"--from", "2026-04-04", "--to", "2026-04-06", NULL};
    json_t *sync = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "success");
    json_decref(sync);
    assert_matches_truth(f, "2026-04-04", "2026-04-06");
}

/* Sikka's practices are in US zones: New York and Denver change clocks on 2026-03-08 and
 * 2026-11-01, Phoenix never; the after-hours visits in the gap and the overlap land right. */
static void sikka_us_daylight_saving_days(void **state)
{
    (void)state;
    const char *days[] = {"2026-03-08", "2026-11-01"};
    for (int d = 0; d < 2; d++) {
        for (int practice = 0; practice < 3; practice++) {
            fixture f;
            const char *args[] = {"--seed", "11", "--today", days[d], NULL};
            assert_int_equal(start(&f, args, practice), 0);
            f.all_appointments = true;
            connect_pms(&f, NULL);
            const char *window[] = {"--date", days[d], NULL};
            json_decref(sync_json(&f, 0, window));
            assert_matches_truth(&f, days[d], days[d]);
            char path[200];
            snprintf(path, sizeof path, "/_sandbox/sikka/truth?practice=%s&from=%s&to=%s",
                     f.practice, days[d], days[d]);
            json_t *t = tu_sandbox_json(&f.box, "GET", path, NULL);
            long ambiguous = 0;
            size_t i;
            json_t *a;
            json_array_foreach(json_object_get(t, "appointments"), i, a)
            {
                const char *kind = json_string_value(json_object_get(a, "_localKind"));
                ambiguous += kind && strcmp(kind, "unique") != 0;
            }
            assert_true(practice == 2 ? ambiguous == 0 : ambiguous > 0);
            json_decref(t);
            stop(&f);
        }
    }
}

/* Request keys expire (API1025, HTTP 400) in the middle of a sweep: the refresh key gets a new
 * one and the sync completes. */
static void sikka_expired_request_key_is_refreshed(void **state)
{
    fixture *f = *state;
    connect_pms(f, (const char *const[]){"page_size=5", NULL});
    set_faults(f, "{\"latency_ms\":100}");
    const char *args[] = {"sync", f->conn, "--from", "2026-04-02", "--to", "2026-04-08", NULL};
    pid_t pid = spawn_pmsctl(f, "expiring", args);
    tu_sleep_ms(1000);
    json_decref(tu_sandbox_json(&f->box, "POST", "/_sandbox/sikka/tokens/expire", NULL));
    assert_int_equal(wait_exit(pid), 0);
    clear_faults(f);
    json_t *log = tu_sandbox_json(&f->box, "GET", "/_sandbox/requests?limit=100000", NULL);
    long expired = 0, keys = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(log, "requests"), i, r)
    {
        const char *endpoint = json_string_value(json_object_get(r, "endpoint"));
        expired += json_integer_value(json_object_get(r, "status")) == 400;
        keys += endpoint && strcmp(endpoint, "sikka.token") == 0;
    }
    json_decref(log);
    assert_true(expired >= 1);
    assert_true(keys >= 2);
    assert_matches_truth(f, "2026-04-02", "2026-04-08");
}

/* The sandbox advertises 12 requests per 2-second window: the sync waits for each reset and
 * never gets a 429. */
static void sikka_rate_limit_headers_are_respected(void **state)
{
    fixture *f = *state;
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/sikka/settings",
                                "{\"rate_limit\":12,\"rate_window\":2}"));
    connect_pms(f, (const char *const[]){"page_size=5", "concurrency=1", NULL});
    json_t *before = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    const char *window[] = {"--from", "2026-04-04", "--to", "2026-04-05", NULL};
    json_t *sync = sync_json(f, 0, window);
    assert_string_equal(json_string_value(json_object_get(sync, "status")), "success");
    json_decref(sync);
    json_t *after = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    json_int_t requests = json_integer_value(json_object_get(after, "total")) -
                          json_integer_value(json_object_get(before, "total"));
    assert_true(requests > 24); /* more than two windows' worth */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(after, "byStatus"), "429")),
                     0);
    json_decref(before);
    json_decref(after);
    assert_matches_truth(f, "2026-04-04", "2026-04-05");
}

/* While Sikka is still loading the practice's data, the sync fails with a sentence that says
 * so instead of reading half of it. */
static void sikka_data_insert_in_progress_is_not_read(void **state)
{
    fixture *f = *state;
    connect_pms(f, NULL);
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/sikka/settings",
                                "{\"data_insert_in_progress\":true}"));
    const char *args[] = {"sync", f->conn, "--date", TODAY, NULL};
    char *out = NULL, *err = NULL;
    assert_int_not_equal(pmsctl(f, &out, &err, args), 0);
    assert_non_null(strstr(err, "still loading"));
    free(out);
    free(err);
}

/* The Sikka sandbox's reads of one endpoint so far. */
static json_int_t endpoint_reads(fixture *f, const char *endpoint)
{
    json_t *stats = tu_sandbox_json(&f->box, "GET", "/_sandbox/stats", NULL);
    json_int_t n =
        json_integer_value(json_object_get(json_object_get(stats, "byEndpoint"), endpoint));
    json_decref(stats);
    return n;
}

static const char *sync_type_of(const json_t *sync)
{
    const char *type = json_string_value(json_object_get(sync, "syncType"));
    assert_non_null(type);
    return type;
}

/* Incremental syncs by last_changed_date: the first runs as a full sweep (nothing to start
 * from); after it, one reads only what changed — a moved and completed appointment and a new
 * one — and removes nothing (an appointment deleted in the PMS stays until the next full
 * sweep, which removes it); once the last full sweep is older than full_sweep_minutes, an
 * incremental request sweeps the window again. */
static void sikka_incremental_sync_reads_what_changed(void **state)
{
    fixture *f = *state;
    connect_pms(f, NULL);
    const char *incremental[] = {"--date", TODAY, "--incremental", NULL};
    const char *manual[] = {"--date", TODAY, NULL};
    json_int_t patients_before = endpoint_reads(f, "sikka.patient");
    json_t *full = sync_json(f, 0, incremental);
    json_int_t full_patient_reads = endpoint_reads(f, "sikka.patient") - patients_before;
    assert_string_equal(sync_type_of(full), "full");
    assert_true(json_is_true(json_object_get(full, "completeSweep")));
    assert_true(count(full, "created") >= 3);
    assert_matches_truth(f, TODAY, TODAY);

    json_t *want = expected(f, TODAY, TODAY, NULL, NULL);
    void *iter = json_object_iter(want);
    char changed[128], deleted[128], base[256], path[400], body[1024];
    snprintf(changed, sizeof changed, "%s", json_object_iter_key(iter));
    snprintf(deleted, sizeof deleted, "%s",
             json_object_iter_key(json_object_iter_next(want, iter)));
    const json_t *template = json_object_iter_value(iter);
    snprintf(base, sizeof base, "/_sandbox/sikka/practices/%s/appointments", f->practice);
    snprintf(path, sizeof path, "%s/%s", base, changed);
    json_decref(tu_sandbox_json(&f->box, "PATCH", path,
                                "{\"status\":\"Complete\",\"start\":\"" TODAY "T20:15\"}"));
    snprintf(path, sizeof path, "%s/%s", base, deleted);
    json_decref(tu_sandbox_json(&f->box, "DELETE", path, NULL));
    snprintf(body, sizeof body,
             "{\"practitionerId\":\"%s\",\"patientId\":\"%s\",\"appointmentTypeId\":\"%s\","
             "\"start\":\"" TODAY "T19:45\",\"minutes\":15,\"status\":\"Open\"}",
             json_string_value(json_object_get(template, "_practitionerId")),
             json_string_value(json_object_get(template, "_patientId")),
             json_string_value(json_object_get(template, "_appointmentTypeId")));
    json_t *created = tu_sandbox_json(&f->box, "POST", base, body);
    char new_id[128];
    snprintf(new_id, sizeof new_id, "%s", json_string_value(json_object_get(created, "_id")));
    json_decref(created);

    patients_before = endpoint_reads(f, "sikka.patient");
    json_t *inc = sync_json(f, 0, incremental);
    json_int_t inc_patient_reads = endpoint_reads(f, "sikka.patient") - patients_before;
    assert_string_equal(sync_type_of(inc), "incremental");
    assert_string_equal(json_string_value(json_object_get(inc, "status")), "success");
    assert_false(json_is_true(json_object_get(inc, "completeSweep")));
    assert_int_equal(count(inc, "created"), 1);
    assert_int_equal(count(inc, "updated"), 1);
    assert_int_equal(count(inc, "removed"), 0);
    assert_true(count(inc, "fetched") >= 2);
    assert_true(count(inc, "fetched") < count(full, "fetched"));
    assert_true(inc_patient_reads <= 2 && inc_patient_reads < full_patient_reads);
    json_t *have = run_sheet(f, TODAY, TODAY);
    const json_t *moved = json_object_get(have, changed);
    assert_non_null(moved);
    assert_string_equal(json_string_value(json_object_get(moved, "status")), "completed");
    json_t *truth_now = expected(f, TODAY, TODAY, NULL, NULL);
    assert_string_equal(
        json_string_value(json_object_get(moved, "startTime")),
        json_string_value(json_object_get(json_object_get(truth_now, changed), "_startUtc")));
    assert_non_null(json_object_get(have, new_id));
    assert_non_null(json_object_get(have, deleted)); /* not a complete sweep: nothing removed */
    json_decref(truth_now);
    json_decref(have);

    /* The next full sweep removes it; the run sheet is the PMS's again. */
    json_t *sweep = sync_json(f, 0, manual);
    assert_string_equal(sync_type_of(sweep), "manual");
    assert_int_equal(count(sweep, "removed"), 1);
    assert_int_equal(count(sweep, "created"), 0);
    assert_int_equal(count(sweep, "updated"), 0);
    assert_matches_truth(f, TODAY, TODAY);

    /* The log says which ran, newest first, with truthful counts. */
    const char *largs[] = {"log", f->conn, "--json", NULL};
    json_t *log = pmsctl_json(f, largs);
    assert_int_equal(json_array_size(log), 3);
    const char *types[] = {"manual", "incremental", "full"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *row = json_array_get(log, i);
        assert_string_equal(json_string_value(json_object_get(row, "syncType")), types[i]);
    }
    const json_t *logged = json_object_get(json_array_get(log, 1), "counts");
    assert_int_equal(json_integer_value(json_object_get(logged, "fetched")), count(inc, "fetched"));
    assert_int_equal(json_integer_value(json_object_get(logged, "removed")), 0);
    json_decref(log);

    /* While the full sweep is recent, incremental requests stay incremental; once it is older
     * than full_sweep_minutes (60 by default), they sweep the window. */
    json_t *again = sync_json(f, 0, incremental);
    assert_string_equal(sync_type_of(again), "incremental");
    assert_true(count(again, "fetched") <= 2); /* within the margin of the last sync's start */
    assert_int_equal(count(again, "created") + count(again, "updated") + count(again, "removed"),
                     0);
    assert_int_equal(tu_db_exec(f->dir, strncmp(f->db, "postgres", 8) == 0
                                            ? "UPDATE pms_sync_log SET started_at = started_at - "
                                              "interval '2 hours'"
                                            : "UPDATE pms_sync_log SET started_at = started_at - "
                                              "7200000"),
                     0);
    json_t *stale = sync_json(f, 0, incremental);
    assert_string_equal(sync_type_of(stale), "full");
    assert_true(json_is_true(json_object_get(stale, "completeSweep")));
    assert_int_equal(count(stale, "unchanged"), count(sweep, "unchanged"));
    json_decref(again);
    json_decref(stale);
    json_decref(sweep);
    json_decref(inc);
    json_decref(full);
    json_decref(want);
}

int main(void)
{
    pms = getenv("PMSYNC_TEST_PMS");
    if (pms == NULL || (!is("gentu") && !is("medirecords") && !is("halaxy") && !is("sikka"))) {
        fprintf(stderr, "set PMSYNC_TEST_PMS to gentu, medirecords, halaxy or sikka\n");
        return 1;
    }
    const struct CMUnitTest common[] = {
        cmocka_unit_test_setup_teardown(a_day_matches_the_pms_and_a_resync_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_week_across_daylight_saving_first_zone, setup, teardown),
        cmocka_unit_test(a_week_across_daylight_saving_third_zone),
        cmocka_unit_test(spring_forward_days),
        cmocka_unit_test(daylight_saving_days_with_every_appointment),
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
        cmocka_unit_test_setup_teardown(referenced_records_are_read_once_per_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(only_kept_appointments_patients_are_read, setup, teardown),
        cmocka_unit_test_setup_teardown(the_secrets_are_stored_encrypted, setup, teardown),
        cmocka_unit_test_setup_teardown(the_database_moves_to_the_other_backend_whole, setup,
                                        teardown),
    };
    const struct CMUnitTest gentu_only[] = {
        cmocka_unit_test_setup_teardown(gentu_errors_are_explained, setup, teardown),
        cmocka_unit_test_setup_teardown(gentu_requests_are_the_minimum, setup, teardown),
    };
    const struct CMUnitTest medirecords_only[] = {
        cmocka_unit_test(medirecords_ambiguous_local_times_get_the_documented_instants),
        cmocka_unit_test_setup_teardown(medirecords_variants_of_the_unknowns, setup, teardown),
    };
    const struct CMUnitTest halaxy_only[] = {
        cmocka_unit_test_setup_teardown(halaxy_variants_of_the_unknowns, setup, teardown),
    };
    const struct CMUnitTest sikka_only[] = {
        cmocka_unit_test(sikka_us_daylight_saving_days),
        cmocka_unit_test_setup_teardown(sikka_expired_request_key_is_refreshed, setup, teardown),
        cmocka_unit_test_setup_teardown(sikka_rate_limit_headers_are_respected, setup, teardown),
        cmocka_unit_test_setup_teardown(sikka_data_insert_in_progress_is_not_read, setup, teardown),
        cmocka_unit_test_setup_teardown(sikka_incremental_sync_reads_what_changed, setup, teardown),
    };
    int failed =
        _cmocka_run_group_tests("common", common, sizeof common / sizeof common[0], NULL, NULL);
    if (is("gentu"))
        failed += cmocka_run_group_tests(gentu_only, NULL, NULL);
    else if (is("medirecords"))
        failed += cmocka_run_group_tests(medirecords_only, NULL, NULL);
    else if (is("sikka"))
        failed += cmocka_run_group_tests(sikka_only, NULL, NULL);
    else
        failed += cmocka_run_group_tests(halaxy_only, NULL, NULL);
    tu_sandbox_stop_all();
    return failed;
}
