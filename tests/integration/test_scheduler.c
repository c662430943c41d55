/* The scheduler against pms-sandbox (PMS_SANDBOX_BIN) and a real SQLite file: connections are
 * synced when due, manual requests run at once and are never queued twice, no more syncs run
 * at a time than allowed, a failing connection backs off (1, 2, 4 ... intervals), its status is
 * kept on the connection, stopping cancels a running sync at a batch boundary, progress
 * reports are limited per sync with the last one passed on before the sync finishes, and
 * scheduled syncs of a PMS that reads changes are incremental between full sweeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/connections.h"
#include "pmsync/scheduler.h"
#include "sandbox_proc.h"
#include "testutil.h"

typedef struct fixture {
    tu_sandbox box;
    char *dir;
    char db[600];
    pms_store *st;
    pms_keyring *ring;
    json_t *info;
    pms_scheduler *sch;
    int events;
    int finished;
    pthread_mutex_t lock;
    long progress_interval_ms;
    int progress_calls;
    pms_instant progress_at[256];
    pms_sync_counts last_progress;
    bool progress_after_finish; /* a report came after the sync's finished event */
    bool sync_finished_seen;
    pms_sync_counts final_counts;
} fixture;

static void on_event(void *ctx, const pms_sync_event *e)
{
    fixture *f = ctx;
    pthread_mutex_lock(&f->lock);
    f->events++;
    if (e->kind == PMS_EVENT_SYNC_FINISHED)
        f->sync_finished_seen = true;
    pthread_mutex_unlock(&f->lock);
}

static void on_progress(void *ctx, const char *account, const char *conn,
                        const pms_sync_progress *p)
{
    fixture *f = ctx;
    assert_non_null(account);
    assert_non_null(conn);
    pthread_mutex_lock(&f->lock);
    if (f->progress_calls < 256)
        f->progress_at[f->progress_calls] = pms_now();
    f->progress_calls++;
    f->last_progress = p->counts;
    f->progress_after_finish |= f->sync_finished_seen;
    pthread_mutex_unlock(&f->lock);
}

static void on_finished(void *ctx, const char *account, const char *conn, const char *pms, int rc,
                        const pms_sync_result *r, const json_t *patients)
{
    (void)account, (void)conn, (void)pms, (void)rc, (void)patients;
    fixture *f = ctx;
    pthread_mutex_lock(&f->lock);
    f->finished++;
    f->final_counts = r->counts;
    pthread_mutex_unlock(&f->lock);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || tu_sandbox_start(&f->box, NULL) != 0)
        return -1;
    f->info = tu_sandbox_json(&f->box, "GET", "/_sandbox/info", NULL);
    f->dir = tu_tempdir();
    snprintf(f->db, sizeof f->db, "%s/pmsync.db", f->dir);
    f->st = tu_open_store(f->dir);
    unsigned char key[PMS_KEY_BYTES];
    memset(key, 7, sizeof key);
    if (pms_keyring_from_raw(key, &f->ring, NULL) != PMS_OK)
        return -1;
    pthread_mutex_init(&f->lock, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->sch)
        pms_scheduler_stop(f->sch, 0);
    pms_store_close(f->st);
    pms_keyring_free(f->ring);
    int rc = tu_sandbox_stop(&f->box);
    json_decref(f->info);
    tu_rmtree(f->dir);
    free(f->dir);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return rc;
}

/* A Medirecords connection to the sandbox's practice (a wrong token when broken). */
static void add_connection(fixture *f, int practice, int frequency, bool broken, char *id)
{
    const json_t *mr = json_object_get(f->info, "medirecords");
    const json_t *p = json_array_get(json_object_get(mr, "practices"), (size_t)practice);
    pms_connection_fields fields = {
        .display_name = "Scheduled practice",
        .base_url = json_string_value(json_object_get(mr, "baseUrl")),
        .timezone = json_string_value(json_object_get(p, "timezone")),
        .sync_enabled = 1,
        .sync_frequency_minutes = frequency,
        .sync_telehealth_only = -1,
        .skip_unmapped = -1,
    };
    pms_setting_value settings[] = {
        {"practice_id", json_string_value(json_object_get(p, "practiceId"))},
        {"token",
         broken ? "not-the-token-at-all-000000" : json_string_value(json_object_get(p, "token"))},
        {"retry_attempts", "1"},
    };
    pms_error err = {0};
    if (pms_connection_create(f->st, f->ring, NULL, "medirecords", &fields, settings, 3, id,
                              &err) != PMS_OK)
        fail_msg("cannot add a connection: %s", err.message);
}

/* Each case starts from no connections. */
static void fresh(fixture *f)
{
    assert_int_equal(tu_sqlite_exec(f->db, "DELETE FROM pms_connections"), 0);
}

static void start(fixture *f, int max_parallel, bool schedule)
{
    pms_scheduler_config cfg = {
        .store_location = f->db,
        .ring = f->ring,
        .max_parallel = max_parallel,
        .poll_ms = 200,
        .run_schedule = schedule,
        .on_event = on_event,
        .on_finished = on_finished,
        .on_progress = on_progress,
        .progress_interval_ms = f->progress_interval_ms,
        .ctx = f,
    };
    pms_error err = {0};
    assert_int_equal(pms_scheduler_start(&cfg, &f->sch, &err), PMS_OK);
}

static int finished(fixture *f)
{
    pthread_mutex_lock(&f->lock);
    int n = f->finished;
    pthread_mutex_unlock(&f->lock);
    return n;
}

static bool wait_finished(fixture *f, int n, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        if (finished(f) >= n)
            return true;
        tu_sleep_ms(50);
    }
    return false;
}

static long log_rows(fixture *f, const char *id, const char *where)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM pms_sync_log WHERE pms_connection_id = '%s'%s",
             id, where);
    return tu_sqlite_count(f->db, sql);
}

/* Requests a sync of the practice's days from today + back to today + ahead. */
static void request_days(fixture *f, const char *id, int back, int ahead)
{
    pms_date today;
    assert_int_equal(pms_practice_today("Australia/Melbourne", &today, NULL), PMS_OK);
    pms_sync_window window = {.today = false,
                              .from = pms_date_add_days(today, back),
                              .to = pms_date_add_days(today, ahead)};
    snprintf(window.sync_type, sizeof window.sync_type, "manual");
    pms_error err = {0};
    assert_int_equal(pms_scheduler_request(f->sch, f->st, id, &window, &err), PMS_OK);
}

static pms_schedule_info schedule_of(fixture *f, const char *id)
{
    pms_schedule_info info;
    assert_int_equal(f->st->ops->schedule_get(f->st, id, pms_now(), &info, NULL), PMS_OK);
    return info;
}

static void due_connections_are_synced_and_others_wait(void **state)
{
    fixture *f = *state;
    fresh(f);
    char due[PMS_UUID_LEN], later[PMS_UUID_LEN];
    add_connection(f, 0, 1, false, due);
    add_connection(f, 1, 1, false, later);
    pms_instant now = pms_now();
    /* One falls due in 2 s, the other in a minute. */
    assert_int_equal(f->st->ops->schedule_set(f->st, due, now + 2000, NULL), PMS_OK);
    assert_int_equal(f->st->ops->schedule_set(f->st, later, now + 60000, NULL), PMS_OK);
    start(f, 2, true);
    assert_true(wait_finished(f, 1, 20000));
    tu_sleep_ms(300);
    assert_int_equal(log_rows(f, due, " AND status = 'success' AND sync_type = 'full'"), 1);
    assert_int_equal(log_rows(f, later, ""), 0);
    pms_schedule_info s = schedule_of(f, due);
    assert_true(!s.leased && !s.requested && s.failures == 0);
    /* Next due a minute (plus up to 6 s of jitter) after this sync. */
    assert_true(s.next_sync_at >= pms_now() + 50000 && s.next_sync_at <= pms_now() + 67000);
    s = schedule_of(f, later);
    assert_int_equal(s.next_sync_at, now + 60000);
    /* The status is kept on the connection. */
    pms_connection c;
    assert_int_equal(f->st->ops->connection_get(f->st, due, &c, NULL), PMS_OK);
    assert_string_equal(c.last_sync_status, "success");
    assert_true(c.last_sync_at >= now);
    pms_connection_clear(&c);
    assert_true(f->events >= 2); /* started and finished at least */
    pms_scheduler_stop(f->sch, 5000);
    f->sch = NULL;
}

static void requests_run_once_and_parallelism_is_bounded(void **state)
{
    fixture *f = *state;
    fresh(f);
    char ids[4][PMS_UUID_LEN];
    for (int i = 0; i < 4; i++)
        add_connection(f, i % 3, 1440, false, ids[i]);
    /* Slow answers: each sync takes a while. */
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/faults", "{\"latency_ms\":150}"));
    int before = finished(f);
    start(f, 2, false); /* requests only: nothing runs by schedule */
    pms_error err = {0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pms_scheduler_request(f->sch, f->st, ids[i], NULL, &err), PMS_OK);
    /* Requested or running: a second request is refused, not queued twice. */
    assert_int_equal(pms_scheduler_request(f->sch, f->st, ids[3], NULL, &err), PMS_ERR_CONFLICT);
    pms_scheduler_stats stats = pms_scheduler_get_stats(f->sch);
    assert_true(stats.running + stats.claimed <= 2);
    assert_true(wait_finished(f, before + 4, 60000));
    json_decref(tu_sandbox_json(&f->box, "POST", "/_sandbox/faults/reset", NULL));
    for (int i = 0; i < 4; i++) {
        assert_int_equal(log_rows(f, ids[i], " AND status = 'success' AND sync_type = 'manual'"),
                         1);
        assert_false(schedule_of(f, ids[i]).requested); /* served */
    }
    /* Never more than two at once: no instant lies inside three runs. */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM pms_sync_log a WHERE a.pms_connection_id IN "
             "('%s','%s','%s','%s') AND (SELECT COUNT(*) FROM pms_sync_log b WHERE "
             "b.pms_connection_id IN ('%s','%s','%s','%s') AND b.started_at <= a.started_at AND "
             "b.completed_at > a.started_at) > 2",
             ids[0], ids[1], ids[2], ids[3], ids[0], ids[1], ids[2], ids[3]);
    assert_int_equal(tu_sqlite_count(f->db, sql), 0);
    pms_scheduler_stop(f->sch, 5000);
    f->sch = NULL;
}

static void a_failing_connection_backs_off(void **state)
{
    fixture *f = *state;
    fresh(f);
    char id[PMS_UUID_LEN];
    add_connection(f, 0, 1, true, id);
    int before = finished(f);
    start(f, 1, true);
    /* Never synced: due at once; it fails (the token is wrong). */
    assert_true(wait_finished(f, before + 1, 20000));
    tu_sleep_ms(200);
    pms_schedule_info s = schedule_of(f, id);
    assert_int_equal(s.failures, 1);
    pms_instant now = pms_now();
    assert_true(s.next_sync_at > now + 50000 && s.next_sync_at <= now + 66500);
    pms_connection c;
    assert_int_equal(f->st->ops->connection_get(f->st, id, &c, NULL), PMS_OK);
    assert_string_equal(c.last_sync_status, "failed");
    assert_non_null(c.last_sync_error);
    pms_connection_clear(&c);
    /* Failing again (a requested try) doubles the wait. */
    pms_error err = {0};
    assert_int_equal(pms_scheduler_request(f->sch, f->st, id, NULL, &err), PMS_OK);
    assert_true(wait_finished(f, before + 2, 20000));
    tu_sleep_ms(200);
    s = schedule_of(f, id);
    assert_int_equal(s.failures, 2);
    now = pms_now();
    assert_true(s.next_sync_at > now + 110000 && s.next_sync_at <= now + 126500);
    pms_scheduler_stop(f->sch, 0);
    f->sch = NULL;
}

static void stopping_cancels_a_running_sync_and_hands_it_back(void **state)
{
    fixture *f = *state;
    fresh(f);
    char id[PMS_UUID_LEN];
    add_connection(f, 2, 1440, false, id);
    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/faults",
                                "{\"latency_ms\":400,\"page_size\":2}"));
    start(f, 1, false);
    request_days(f, id, -7, 14);
    tu_sleep_ms(1500);
    assert_true(schedule_of(f, id).leased);
    pms_instant asked = pms_now();
    pms_scheduler_stop(f->sch, 0);
    f->sch = NULL;
    assert_true(pms_now() - asked < 5000);
    json_decref(tu_sandbox_json(&f->box, "POST", "/_sandbox/faults/reset", NULL));
    assert_int_equal(log_rows(f, id, " AND status = 'running'"), 0);
    assert_int_equal(log_rows(f, id, ""), 1);
    /* Handed back: not leased, due at once for the next worker. */
    pms_schedule_info s = schedule_of(f, id);
    assert_false(s.leased);
    assert_true(s.next_sync_at <= pms_now());
}

/* Two schedulers on one database (two workers): every requested connection is synced once,
 * never by both; a connection whose worker died (its lease runs out) is taken over. */
static void two_workers_share_the_work(void **state)
{
    fixture *f = *state;
    fresh(f);
    enum { N = 6 };
    char ids[N][PMS_UUID_LEN];
    for (int i = 0; i < N; i++)
        add_connection(f, i % 3, 1440, false, ids[i]);
    /* A dead worker holds the last one: its lease runs out in a second. */
    pms_lease held;
    int n = 0;
    assert_int_equal(f->st->ops->schedule_set(f->st, ids[N - 1], pms_now() - 1000, NULL), PMS_OK);
    for (int i = 0; i < N - 1; i++)
        assert_int_equal(f->st->ops->schedule_set(f->st, ids[i], pms_now() + 3600000, NULL),
                         PMS_OK);
    assert_int_equal(
        f->st->ops->lease_claim(f->st, "dead-worker", pms_now(), 1000, 1, false, &held, &n, NULL),
        PMS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(held.connection_id, ids[N - 1]);

    json_decref(tu_sandbox_json(&f->box, "PUT", "/_sandbox/faults", "{\"latency_ms\":100}"));
    int before = finished(f);
    pms_scheduler *second = NULL;
    start(f, 2, true);
    pms_scheduler_config cfg = {
        .store_location = f->db,
        .ring = f->ring,
        .max_parallel = 2,
        .poll_ms = 200,
        .run_schedule = true,
        .worker = "second-worker",
        .on_finished = on_finished,
        .ctx = f,
    };
    pms_error err = {0};
    assert_int_equal(pms_scheduler_start(&cfg, &second, &err), PMS_OK);
    for (int i = 0; i < N - 1; i++)
        assert_int_equal(pms_scheduler_request(i % 2 ? second : f->sch, f->st, ids[i], NULL, &err),
                         PMS_OK);
    assert_true(wait_finished(f, before + N, 60000));
    pms_scheduler_stop(second, 5000);
    pms_scheduler_stop(f->sch, 5000);
    f->sch = NULL;
    json_decref(tu_sandbox_json(&f->box, "POST", "/_sandbox/faults/reset", NULL));
    for (int i = 0; i < N; i++)
        assert_int_equal(log_rows(f, ids[i], " AND status = 'success'"), 1);
    /* Both workers took part. */
    assert_true(tu_sqlite_count(f->db, "SELECT COUNT(DISTINCT worker) FROM pms_sync_log") >= 2);
    /* The dead worker's token writes nothing any more. */
    assert_int_equal(f->st->ops->lease_check(f->st, ids[N - 1], held.token, pms_now() + 1000, NULL),
                     PMS_ERR_CONFLICT);
}

static void progress_is_limited_and_the_last_report_comes_before_the_end(void **state)
{
    fixture *f = *state;
    fresh(f);
    char id[PMS_UUID_LEN];
    add_connection(f, 2, 1440, false, id);
    pms_setting_value fast[] = {{"rate_per_minute", "100000"}};
    assert_int_equal(pms_connection_update(f->st, f->ring, id, NULL, fast, 1, NULL), PMS_OK);
    /* Small pages, a little slow: many batches over a few seconds. */
    json_decref(
        tu_sandbox_json(&f->box, "PUT", "/_sandbox/faults", "{\"latency_ms\":40,\"page_size\":2}"));
    f->progress_interval_ms = 300;
    f->progress_calls = 0;
    f->sync_finished_seen = false;
    f->progress_after_finish = false;
    int before = finished(f);
    start(f, 1, false);
    request_days(f, id, -1, 1);
    assert_true(wait_finished(f, before + 1, 60000));
    pms_scheduler_stop(f->sch, 5000);
    f->sch = NULL;
    f->progress_interval_ms = 0;
    json_decref(tu_sandbox_json(&f->box, "POST", "/_sandbox/faults/reset", NULL));
    assert_true(f->progress_calls >= 2);
    /* At most one report per interval, but the held-back last one right before the end. */
    int n = f->progress_calls < 256 ? f->progress_calls : 256;
    for (int i = 1; i < n - 1; i++)
        assert_true(f->progress_at[i] - f->progress_at[i - 1] >= 300);
    assert_false(f->progress_after_finish);
    assert_int_equal(f->last_progress.fetched, f->final_counts.fetched);
    assert_int_equal(f->last_progress.created, f->final_counts.created);
    assert_true(f->final_counts.fetched > 10);
}

/* A Sikka connection, whose adapter reads what changed: a scheduled sync is incremental while a
 * full sweep of the day is recent and sweeps the day when there is none or it is older than
 * full_sweep_minutes (60); a requested sync is manual, a full sweep. */
static void scheduled_syncs_are_incremental_between_full_sweeps(void **state)
{
    fixture *f = *state;
    fresh(f);
    const json_t *sk = json_object_get(f->info, "sikka");
    const json_t *p = json_array_get(json_object_get(sk, "practices"), 0);
    pms_connection_fields fields = {
        .display_name = "Scheduled dental practice",
        .base_url = json_string_value(json_object_get(sk, "baseUrl")),
        .timezone = json_string_value(json_object_get(p, "timezone")),
        .sync_enabled = 1,
        .sync_frequency_minutes = 1440,
        .sync_telehealth_only = -1,
        .skip_unmapped = -1,
    };
    pms_setting_value settings[] = {
        {"app_id", json_string_value(json_object_get(p, "appId"))},
        {"app_key", json_string_value(json_object_get(p, "appKey"))},
        {"practice_id", json_string_value(json_object_get(p, "practiceId"))},
        {"retry_attempts", "1"},
    };
    char id[PMS_UUID_LEN];
    pms_error err = {0};
    if (pms_connection_create(f->st, f->ring, NULL, "sikka", &fields, settings, 4, id, &err) !=
        PMS_OK)
        fail_msg("cannot add a connection: %s", err.message);
    int before = finished(f);
    start(f, 1, true);
    /* Never synced: due at once, and with no sweep to start from it is full. */
    assert_true(wait_finished(f, before + 1, 20000));
    assert_int_equal(log_rows(f, id, " AND status = 'success' AND sync_type = 'full'"), 1);
    /* Due again: incremental. */
    assert_int_equal(f->st->ops->schedule_set(f->st, id, pms_now(), NULL), PMS_OK);
    pms_scheduler_wake(f->sch);
    assert_true(wait_finished(f, before + 2, 20000));
    assert_int_equal(log_rows(f, id, " AND status = 'success' AND sync_type = 'incremental'"), 1);
    /* Requested: manual, a full sweep. */
    assert_int_equal(pms_scheduler_request(f->sch, f->st, id, NULL, &err), PMS_OK);
    assert_true(wait_finished(f, before + 3, 20000));
    assert_int_equal(log_rows(f, id, " AND status = 'success' AND sync_type = 'manual'"), 1);
    /* The last full sweep two hours old: the scheduled sync sweeps the day. */
    assert_int_equal(tu_sqlite_exec(f->db, "UPDATE pms_sync_log SET started_at = started_at - "
                                           "7200000"),
                     0);
    assert_int_equal(f->st->ops->schedule_set(f->st, id, pms_now(), NULL), PMS_OK);
    pms_scheduler_wake(f->sch);
    assert_true(wait_finished(f, before + 4, 20000));
    assert_int_equal(log_rows(f, id, " AND status = 'success' AND sync_type = 'full'"), 2);
    assert_int_equal(log_rows(f, id, ""), 4);
    pms_scheduler_stop(f->sch, 5000);
    f->sch = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(due_connections_are_synced_and_others_wait),
        cmocka_unit_test(requests_run_once_and_parallelism_is_bounded),
        cmocka_unit_test(a_failing_connection_backs_off),
        cmocka_unit_test(stopping_cancels_a_running_sync_and_hands_it_back),
        cmocka_unit_test(two_workers_share_the_work),
        cmocka_unit_test(progress_is_limited_and_the_last_report_comes_before_the_end),
        cmocka_unit_test(scheduled_syncs_are_incremental_between_full_sweeps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
