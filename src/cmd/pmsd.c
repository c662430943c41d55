/* pmsd: the pmsync service. Serves the REST API, streams live updates and syncs every enabled
 * connection on schedule. docs/pmsd.md describes its configuration and operation.
 *
 * Signals: SIGTERM and SIGINT shut down gracefully (no new requests or syncs; running syncs get
 * shutdown_grace_seconds to finish, then stop at a batch boundary); SIGHUP reloads the key ring
 * from its file (after `pmsctl key rotate`). */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmsync/crypto.h"
#include "pmsync/http.h"
#include "pmsync/listen.h"
#include "pmsync/log.h"
#include "pmsync/scheduler.h"
#include "server/writes.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/demo.h"
#include "server/events.h"

static const char usage[] =
    "Usage: pmsd [--config FILE] [--db LOCATION] [--set KEY=VALUE]... [--demo URL]\n"
    "            [--check-config]\n"
    "\n"
    "The pmsync service: the REST API (docs/pmsd.md, /api/openapi.json), live run-sheet\n"
    "updates and scheduled syncs of every enabled PMS connection.\n"
    "\n"
    "  --config FILE     read `key = value` settings from FILE\n"
    "  --db LOCATION     the database: a SQLite file, or postgres://USER@HOST/DB shared by\n"
    "                    several pmsd workers (the same as --set db=LOCATION)\n"
    "  --set KEY=VALUE   one setting (after the file and the environment)\n"
    "  --demo URL        create a demo account, keys and connections to the pms-sandbox at URL\n"
    "  --check-config    print the effective configuration and exit\n"
    "  --help            this text\n"
    "\n"
    "Environment: PMSYNC_DB, PMSYNC_LISTEN, PMSYNC_SECRET_KEY, PMSYNC_SECRET_KEY_FILE,\n"
    "PMSYNC_LOG_LEVEL and the others in docs/pmsd.md.\n";

static int fail(const char *doing, const pms_error *err)
{
    fprintf(stderr, "pmsd: %s: %s\n", doing, err->message[0] ? err->message : "failed");
    return 1;
}

/* The key file beside the database unless configured. Caller frees. */
static char *key_file_path(const pmsd_config *cfg)
{
    if (cfg->key_file)
        return strdup(cfg->key_file);
    const char *db = cfg->db;
    if (strncmp(db, "sqlite:", 7) == 0)
        db += 7;
    if (strstr(db, "://") != NULL)
        return strdup("pmsync.key");
    char *copy = strdup(db), *path = NULL;
    if (copy && asprintf(&path, "%s/pmsync.key", dirname(copy)) < 0)
        path = NULL;
    free(copy);
    return path;
}

static int parse_args(int argc, char **argv, pmsd_config *cfg, bool *check_only, pms_error *err)
{
    /* The file first, whatever the order, so --set always wins over it. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc)
                return pms_error_set(err, PMS_ERR_CONFIG, "--config needs a file");
            int rc = pmsd_config_file(cfg, argv[++i], err);
            if (rc != PMS_OK)
                return rc;
        }
    }
    int rc = pmsd_config_env(cfg, err);
    if (rc != PMS_OK)
        return rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0) {
            i++;
        } else if (strcmp(a, "--set") == 0 && i + 1 < argc) {
            char *kv = argv[++i], *eq = strchr(kv, '=');
            if (eq == NULL)
                return pms_error_set(err, PMS_ERR_CONFIG, "--set needs KEY=VALUE");
            *eq = '\0';
            rc = pmsd_config_set(cfg, kv, eq + 1, err);
            *eq = '=';
            if (rc != PMS_OK)
                return rc;
        } else if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            if ((rc = pmsd_config_set(cfg, "db", argv[++i], err)) != PMS_OK)
                return rc;
        } else if (strncmp(a, "--db=", 5) == 0) {
            if ((rc = pmsd_config_set(cfg, "db", a + 5, err)) != PMS_OK)
                return rc;
        } else if (strcmp(a, "--demo") == 0 && i + 1 < argc) {
            cfg->demo = true;
            if ((rc = pmsd_config_set(cfg, "demo_sandbox", argv[++i], err)) != PMS_OK)
                return rc;
        } else if (strcmp(a, "--check-config") == 0) {
            *check_only = true;
        } else {
            return pms_error_set(err, PMS_ERR_CONFIG, "unknown argument '%.64s' (see --help)", a);
        }
    }
    return PMS_OK;
}

static void print_config(const pmsd_config *c)
{
    char db[1024];
    pms_store_location_redacted(c->db, db, sizeof db);
    printf("listen = %s:%d\ndb = %s\nkey_file = %s\nlog_level = %s\nhttp_threads = %d\n"
           "body_limit = %zu\nconnection_limit = %d\nmax_parallel_syncs = %d\n"
           "scheduler = %s\nscheduler_scan_seconds = %d\nlease_seconds = %d\nmax_backoff_minutes = "
           "%ld\n"
           "shutdown_grace_seconds = %d\nsse_heartbeat_seconds = %d\nsse_max_subscribers = %d\n"
           "sse_buffer_events = %d\nrun_sheet_cache_mb = %d\ncookie_secure = %s\n"
           "session_hours = %d\n",
           c->listen_host, c->port, db, c->key_file ? c->key_file : "(beside the database)",
           c->log_level ? c->log_level : "info", c->http_threads, c->body_limit,
           c->connection_limit, c->max_parallel_syncs, c->scheduler_enabled ? "true" : "false",
           c->scheduler_scan_seconds, c->lease_seconds, c->max_backoff_minutes,
           c->shutdown_grace_seconds, c->sse_heartbeat_seconds, c->sse_max_subscribers,
           c->sse_buffer_events, c->run_sheet_cache_mb, c->cookie_secure ? "true" : "false",
           c->session_hours);
}

static int load_keyring(pmsd_app *app, pms_error *err)
{
    const char *env = getenv("PMSYNC_SECRET_KEY");
    char *file = key_file_path(&app->cfg);
    if (file == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    bool existed = access(file, F_OK) == 0;
    int rc = pms_keyring_load(env && env[0] ? env : NULL, file, true, &app->ring, err);
    if (rc == PMS_OK && !existed && !(env && env[0]))
        pms_log(PMS_LOG_WARN, "pmsd.key_created", "file", file, "hint",
                "back this file up: stored credentials and the audit chain need it", NULL);
    free(file);
    return rc;
}

static void shut_down(pmsd_app *app)
{
    pms_log(PMS_LOG_INFO, "pmsd.stopping", NULL);
    atomic_store(&app->stopping, true);
    pmsd_server_quiesce(app);
    /* The listener first: it wakes the scheduler. */
    pms_listener_stop(app->listener);
    app->listener = NULL;
    if (app->scheduler) {
        pms_scheduler_stop(app->scheduler, (long)app->cfg.shutdown_grace_seconds * 1000);
        app->scheduler = NULL;
    }
    if (app->hub)
        pmsd_hub_close(app->hub);
    pmsd_server_stop(app);
    pmsd_follower_stop(app);
}

static void free_app(pmsd_app *app)
{
    pmsd_hub_free(app->hub);
    pmsd_metrics_free(app->metrics);
    pmsd_sheet_cache_free(app->sheets);
    pmsd_throttle_free(app->signins);
    pms_keyring_free(app->ring);
    pthread_key_delete(app->store_key);
    pmsd_config_clear(&app->cfg);
}

static int start_services(pmsd_app *app, pms_error *err)
{
    int rc;
    if (pmsd_metrics_new(&app->metrics) != PMS_OK ||
        (app->sheets = pmsd_sheet_cache_new((size_t)app->cfg.run_sheet_cache_mb << 20)) == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if ((rc = pmsd_throttle_new(PMSD_SIGNIN_CLIENTS, PMSD_SIGNIN_MAX_FAILURES,
                                PMSD_SIGNIN_WINDOW_MS, &app->signins, err)) != PMS_OK)
        return rc;
    if ((rc = pmsd_hub_new(app->cfg.sse_heartbeat_seconds, (size_t)app->cfg.sse_max_subscribers,
                           (size_t)app->cfg.sse_buffer_events, &app->hub, err)) != PMS_OK)
        return rc;
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    if (app->cfg.worker_name)
        snprintf(app->worker, sizeof app->worker, "%s", app->cfg.worker_name);
    else
        snprintf(app->worker, sizeof app->worker, "pmsd-%ld@%s", (long)getpid(), host);
    /* Workers sharing a PostgreSQL database hear each other's requests and events. */
    app->shared = pms_store_location_is_postgres(app->cfg.db);
    static const char *const channels[] = {PMS_CHANNEL_DUE, "pmsync_events", NULL};
    if (app->shared && (rc = pms_listener_start(app->cfg.db, channels, pmsd_on_notification, app,
                                                &app->listener, err)) != PMS_OK)
        return rc;
    pms_scheduler_config sc = {
        .store_location = app->cfg.db,
        .ring = app->ring,
        .max_parallel = app->cfg.max_parallel_syncs,
        .poll_ms = app->cfg.scheduler_scan_seconds * 1000,
        .lease_ms = (long)app->cfg.lease_seconds * 1000,
        .max_backoff_ms = app->cfg.max_backoff_minutes * 60000L,
        .run_schedule = app->cfg.scheduler_enabled,
        .worker = app->worker,
        .on_event = pmsd_on_sync_event,
        .on_progress = pmsd_on_sync_progress,
        .progress_interval_ms = 1000 / PMSD_PROGRESS_PER_SECOND,
        .on_finished = pmsd_on_sync_finished,
        .before_commit = pmsd_on_sync_batch,
        .ctx = app,
    };
    if ((rc = pms_scheduler_start(&sc, &app->scheduler, err)) != PMS_OK)
        return rc;
    if ((rc = pmsd_follower_start(app, err)) != PMS_OK)
        return rc;
    return pmsd_server_start(app, err);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
    }
    pms_log_init_from_env();
    static pmsd_app app;
    pmsd_config_defaults(&app.cfg);
    pms_error err = {0};
    bool check_only = false;
    if (parse_args(argc, argv, &app.cfg, &check_only, &err) != PMS_OK) {
        fail("configuration", &err);
        pmsd_config_clear(&app.cfg);
        return 2;
    }
    if (check_only) {
        print_config(&app.cfg);
        pmsd_config_clear(&app.cfg);
        return 0;
    }
    if (app.cfg.log_level && setenv("PMSYNC_LOG_LEVEL", app.cfg.log_level, 1) == 0)
        pms_log_init_from_env();

    /* Signals are taken by sigwait below; every thread inherits the mask. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    pms_store *st = NULL;
    app.started_at = pms_now();
    atomic_init(&app.stopping, false);
    if (pmsd_app_init_store_key(&app) != PMS_OK) {
        fprintf(stderr, "pmsd: cannot set up thread storage\n");
        pmsd_config_clear(&app.cfg);
        return 1;
    }
    if (pms_http_global_init(&err) != PMS_OK || load_keyring(&app, &err) != PMS_OK) {
        fail("cannot start", &err);
        goto out;
    }
    /* Migrate once, before any thread opens the database. */
    if (pms_store_open(app.cfg.db, true, &st, &err) != PMS_OK) {
        fail("cannot open the database", &err);
        goto out;
    }
    if (app.cfg.demo &&
        pmsd_demo_setup(st, app.ring, app.cfg.demo_sandbox, stdout, &err) != PMS_OK) {
        fail("cannot set up the demo", &err);
        goto out;
    }
    pms_store_close(st);
    st = NULL;
    if (start_services(&app, &err) != PMS_OK) {
        fail("cannot start", &err);
        shut_down(&app);
        goto out;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", app.port);
    pms_log(PMS_LOG_INFO, "pmsd.started", "port", port, "scheduler",
            app.cfg.scheduler_enabled ? "on" : "manual only", NULL);
    for (;;) {
        int sig = 0;
        if (sigwait(&signals, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            pms_error reload = {0};
            if (pms_keyring_reload(app.ring, &reload) == PMS_OK)
                pms_log(PMS_LOG_INFO, "pmsd.keyring_reloaded", NULL);
            else
                pms_log(PMS_LOG_ERROR, "pmsd.keyring_reload_failed", "reason", reload.message,
                        NULL);
            continue;
        }
        break;
    }
    shut_down(&app);
    pms_log(PMS_LOG_INFO, "pmsd.stopped", NULL);
    status = 0;
out:
    pms_store_close(st);
    free_app(&app);
    pms_crypto_cleanup();
    return status;
}
