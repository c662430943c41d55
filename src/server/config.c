#include "server/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pmsd_config_defaults(pmsd_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->port = 8080;
    c->db = strdup("pmsync.db");
    c->http_threads = 4;
    c->body_limit = 1u << 20;
    c->connection_limit = 1000;
    c->max_parallel_syncs = 4;
    c->scheduler_scan_seconds = 1;
    c->lease_seconds = 300;
    c->shutdown_grace_seconds = 20;
    c->sse_heartbeat_seconds = 15;
    c->sse_max_subscribers = 1000;
    c->sse_buffer_events = 1000;
    c->max_backoff_minutes = 360;
    c->run_sheet_cache_mb = 64;
    c->scheduler_enabled = true;
    c->session_hours = 12;
    c->write_budget_seconds = 8;
    c->write_follow_minutes = 30;
}

void pmsd_config_clear(pmsd_config *c)
{
    free(c->port_file);
    free(c->db);
    free(c->key_file);
    free(c->log_level);
    free(c->demo_sandbox);
    free(c->static_dir);
    free(c->worker_name);
    memset(c, 0, sizeof *c);
}

static int set_string(char **dst, const char *value, pms_error *err)
{
    char *copy = strdup(value);
    if (copy == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(*dst);
    *dst = copy;
    return PMS_OK;
}

static int set_int(int *dst, const char *key, const char *value, long min, long max, pms_error *err)
{
    char *end;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || v < min || v > max)
        return pms_error_set(err, PMS_ERR_CONFIG, "%s must be a whole number from %ld to %ld", key,
                             min, max);
    *dst = (int)v;
    return PMS_OK;
}

static int set_bool(bool *dst, const char *key, const char *value, pms_error *err)
{
    if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
        *dst = true;
    else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
        *dst = false;
    else
        return pms_error_set(err, PMS_ERR_CONFIG, "%s must be true or false", key);
    return PMS_OK;
}

int pmsd_config_set(pmsd_config *c, const char *key, const char *value, pms_error *err)
{
    int n;
    if (strcmp(key, "listen") == 0) {
        /* host:port, or a port alone */
        const char *colon = strrchr(value, ':');
        const char *port = colon ? colon + 1 : value;
        if (colon) {
            size_t len = (size_t)(colon - value);
            if (len == 0 || len >= sizeof c->listen_host)
                return pms_error_set(err, PMS_ERR_CONFIG, "listen must be HOST:PORT");
            memcpy(c->listen_host, value, len);
            c->listen_host[len] = '\0';
        }
        return set_int(&c->port, "listen port", port, 0, 65535, err);
    }
    if (strcmp(key, "port_file") == 0)
        return set_string(&c->port_file, value, err);
    if (strcmp(key, "db") == 0)
        return set_string(&c->db, value, err);
    if (strcmp(key, "key_file") == 0)
        return set_string(&c->key_file, value, err);
    if (strcmp(key, "log_level") == 0)
        return set_string(&c->log_level, value, err);
    if (strcmp(key, "http_threads") == 0)
        return set_int(&c->http_threads, key, value, 1, 64, err);
    if (strcmp(key, "body_limit") == 0) {
        if (set_int(&n, key, value, 1024, 64 << 20, err) != PMS_OK)
            return PMS_ERR_CONFIG;
        c->body_limit = (size_t)n;
        return PMS_OK;
    }
    if (strcmp(key, "write_budget_seconds") == 0)
        return set_int(&c->write_budget_seconds, key, value, 1, 120, err);
    if (strcmp(key, "write_follow_minutes") == 0)
        return set_int(&c->write_follow_minutes, key, value, 1, 1440, err);
    if (strcmp(key, "connection_limit") == 0)
        return set_int(&c->connection_limit, key, value, 10, 100000, err);
    if (strcmp(key, "max_parallel_syncs") == 0)
        return set_int(&c->max_parallel_syncs, key, value, 1, 256, err);
    if (strcmp(key, "scheduler_scan_seconds") == 0)
        return set_int(&c->scheduler_scan_seconds, key, value, 1, 3600, err);
    if (strcmp(key, "lease_seconds") == 0)
        return set_int(&c->lease_seconds, key, value, 10, 86400, err);
    if (strcmp(key, "shutdown_grace_seconds") == 0)
        return set_int(&c->shutdown_grace_seconds, key, value, 0, 3600, err);
    if (strcmp(key, "sse_heartbeat_seconds") == 0)
        return set_int(&c->sse_heartbeat_seconds, key, value, 1, 300, err);
    if (strcmp(key, "sse_max_subscribers") == 0)
        return set_int(&c->sse_max_subscribers, key, value, 1, 100000, err);
    if (strcmp(key, "sse_buffer_events") == 0)
        return set_int(&c->sse_buffer_events, key, value, 10, 1000000, err);
    if (strcmp(key, "max_backoff_minutes") == 0) {
        if (set_int(&n, key, value, 1, 7 * 24 * 60, err) != PMS_OK)
            return PMS_ERR_CONFIG;
        c->max_backoff_minutes = n;
        return PMS_OK;
    }
    if (strcmp(key, "run_sheet_cache_mb") == 0)
        return set_int(&c->run_sheet_cache_mb, key, value, 0, 4096, err);
    if (strcmp(key, "scheduler") == 0)
        return set_bool(&c->scheduler_enabled, key, value, err);
    if (strcmp(key, "demo_sandbox") == 0)
        return set_string(&c->demo_sandbox, value, err);
    if (strcmp(key, "worker_name") == 0)
        return set_string(&c->worker_name, value, err);
    if (strcmp(key, "static_dir") == 0)
        return set_string(&c->static_dir, value, err);
    if (strcmp(key, "cookie_secure") == 0)
        return set_bool(&c->cookie_secure, key, value, err);
    if (strcmp(key, "session_hours") == 0)
        return set_int(&c->session_hours, key, value, 1, 24 * 30, err);
    return pms_error_set(err, PMS_ERR_CONFIG, "unknown configuration key %.64s", key);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int pmsd_config_file(pmsd_config *c, const char *path, pms_error *err)
{
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG, "cannot read the configuration file %s", path);
    char line[1024];
    int line_no = 0, rc = PMS_OK;
    while (rc == PMS_OK && fgets(line, sizeof line, in)) {
        line_no++;
        char *text = trim(line);
        if (*text == '\0' || *text == '#')
            continue;
        char *eq = strchr(text, '=');
        if (eq == NULL) {
            rc = pms_error_set(err, PMS_ERR_CONFIG, "%s:%d: expected key = value", path, line_no);
            break;
        }
        *eq = '\0';
        char *key = trim(text), *value = trim(eq + 1);
        if ((rc = pmsd_config_set(c, key, value, err)) != PMS_OK && err)
            pms_error_prefix(err, "%s:%d", path, line_no);
    }
    fclose(in);
    return rc;
}

int pmsd_config_env(pmsd_config *c, pms_error *err)
{
    static const struct {
        const char *env, *key;
    } vars[] = {
        {"PMSYNC_LISTEN", "listen"},
        {"PMSYNC_DB", "db"},
        {"PMSYNC_SECRET_KEY_FILE", "key_file"},
        {"PMSYNC_LOG_LEVEL", "log_level"},
        {"PMSYNC_HTTP_THREADS", "http_threads"},
        {"PMSYNC_MAX_PARALLEL_SYNCS", "max_parallel_syncs"},
        {"PMSYNC_SCHEDULER", "scheduler"},
        {"PMSYNC_SHUTDOWN_GRACE_SECONDS", "shutdown_grace_seconds"},
        {"PMSYNC_STATIC_DIR", "static_dir"},
        {"PMSYNC_COOKIE_SECURE", "cookie_secure"},
        {"PMSYNC_SESSION_HOURS", "session_hours"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *value = getenv(vars[i].env);
        if (value == NULL || value[0] == '\0')
            continue;
        int rc = pmsd_config_set(c, vars[i].key, value, err);
        if (rc != PMS_OK) {
            pms_error_prefix(err, "%s", vars[i].env);
            return rc;
        }
    }
    return PMS_OK;
}
