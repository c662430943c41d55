/* pmsd's configuration: defaults, then a file (`key = value` lines), then environment
 * variables (PMSYNC_*), then the command line. docs/pmsd.md lists every key. */
#ifndef PMSD_CONFIG_H
#define PMSD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "pmsync/error.h"

typedef struct pmsd_config {
    char listen_host[64]; /* 127.0.0.1 */
    int port;             /* 8080; 0 picks a free port */
    char *port_file;      /* where to write the bound port (tests) */
    char *db;             /* PMSYNC_DB */
    char *key_file;       /* PMSYNC_SECRET_KEY_FILE; NULL: pmsync.key beside the database */
    char *log_level;
    int http_threads;
    size_t body_limit;
    int connection_limit;
    int max_parallel_syncs;
    int scheduler_scan_seconds; /* how often due connections are looked for */
    int lease_seconds;          /* how long a claimed connection is this worker's unrenewed */
    int shutdown_grace_seconds;
    int sse_heartbeat_seconds;
    int sse_max_subscribers;
    int sse_buffer_events;
    long max_backoff_minutes;
    int run_sheet_cache_mb; /* rendered run sheets kept; 0: none */
    bool scheduler_enabled;
    bool demo;          /* create a demo account, keys and sandbox connections */
    char *demo_sandbox; /* the sandbox's base URL for --demo */
    char *static_dir;
    char *worker_name;
        /* this worker among those sharing the database; NULL: pmsd-PID@HOST */ /* the web UI's
                                                                                   files (later) */
    bool cookie_secure;       /* the session cookie gets Secure (pmsd behind TLS) */
    int session_hours;        /* how long a browser session lasts */
    int write_budget_seconds; /* how long a write may take before it answers pending */
    int write_follow_minutes; /* how long a pending write is followed before it counts as failed */
} pmsd_config;

void pmsd_config_defaults(pmsd_config *c);
/* Loads a `key = value` file (keys as in docs/pmsd.md). */
int pmsd_config_file(pmsd_config *c, const char *path, pms_error *err);
/* Applies PMSYNC_* environment variables. */
int pmsd_config_env(pmsd_config *c, pms_error *err);
/* Sets one key (from a file, the environment or --set). */
int pmsd_config_set(pmsd_config *c, const char *key, const char *value, pms_error *err);
void pmsd_config_clear(pmsd_config *c);

#endif
