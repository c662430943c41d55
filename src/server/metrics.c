#include "server/metrics.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double sync_buckets[] = {0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600};
static const double http_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define BUCKETS 10

typedef struct histogram {
    long counts[BUCKETS]; /* per bucket (not cumulative) */
    long total;
    double sum;
} histogram;

struct pmsd_metrics {
    pthread_mutex_t lock;
    json_t *counters;   /* "name{labels}" -> integer */
    json_t *histograms; /* "name{labels}" -> pointer as integer to a histogram */
};

int pmsd_metrics_new(pmsd_metrics **out)
{
    pmsd_metrics *m = calloc(1, sizeof *m);
    if (m == NULL)
        return PMS_ERR_NOMEM;
    m->counters = json_object();
    m->histograms = json_object();
    if (m->counters == NULL || m->histograms == NULL) {
        pmsd_metrics_free(m);
        return PMS_ERR_NOMEM;
    }
    pthread_mutex_init(&m->lock, NULL);
    *out = m;
    return PMS_OK;
}

void pmsd_metrics_free(pmsd_metrics *m)
{
    if (m == NULL)
        return;
    const char *key;
    json_t *value;
    json_object_foreach(m->histograms, key, value)
    {
        free((histogram *)(uintptr_t)json_integer_value(value));
    }
    json_decref(m->histograms);
    json_decref(m->counters);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* Label values are ours (routes, PMS names, statuses): no escaping beyond quotes needed, but
 * quotes and backslashes are dropped to be safe. */
static void label(char *out, size_t len, const char *value)
{
    size_t o = 0;
    for (const char *p = value ? value : ""; *p && o + 1 < len; p++)
        if (*p != '"' && *p != '\\' && *p != '\n')
            out[o++] = *p;
    out[o] = '\0';
}

static void add_counter(pmsd_metrics *m, const char *series, long n)
{
    json_t *v = json_object_get(m->counters, series);
    json_object_set_new(m->counters, series, json_integer((v ? json_integer_value(v) : 0) + n));
}

static void observe(pmsd_metrics *m, const char *series, const double *buckets, double value)
{
    json_t *v = json_object_get(m->histograms, series);
    histogram *h = v ? (histogram *)(uintptr_t)json_integer_value(v) : NULL;
    if (h == NULL) {
        h = calloc(1, sizeof *h);
        if (h == NULL)
            return;
        json_object_set_new(m->histograms, series, json_integer((json_int_t)(uintptr_t)h));
    }
    size_t b = 0;
    while (b < BUCKETS && value > buckets[b])
        b++;
    if (b < BUCKETS)
        h->counts[b]++;
    h->total++;
    h->sum += value;
}

void pmsd_metrics_http(pmsd_metrics *m, const char *method, const char *route, int status,
                       double seconds)
{
    char r[160], series[256];
    label(r, sizeof r, route ? route : "unmatched");
    pthread_mutex_lock(&m->lock);
    snprintf(series, sizeof series,
             "pmsd_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"}", method, r,
             status);
    add_counter(m, series, 1);
    snprintf(series, sizeof series, "pmsd_http_request_duration_seconds{route=\"%s\"}", r);
    observe(m, series, http_buckets, seconds);
    pthread_mutex_unlock(&m->lock);
}

void pmsd_metrics_sync(pmsd_metrics *m, const char *pms, const char *status, double seconds,
                       const pms_sync_counts *counts, long requests, long throttled)
{
    char p[48], s[32], series[256];
    label(p, sizeof p, pms);
    label(s, sizeof s, status);
    pthread_mutex_lock(&m->lock);
    snprintf(series, sizeof series, "pmsd_syncs_total{pms=\"%s\",status=\"%s\"}", p, s);
    add_counter(m, series, 1);
    snprintf(series, sizeof series, "pmsd_sync_duration_seconds{pms=\"%s\"}", p);
    observe(m, series, sync_buckets, seconds);
    static const char *const outcomes[] = {"created", "updated", "unchanged",
                                           "skipped", "invalid", "removed"};
    const long values[] = {counts->created, counts->updated, counts->unchanged,
                           counts->skipped, counts->invalid, counts->removed};
    for (size_t i = 0; i < 6; i++) {
        snprintf(series, sizeof series,
                 "pmsd_appointments_processed_total{pms=\"%s\",outcome=\"%s\"}", p, outcomes[i]);
        add_counter(m, series, values[i]);
    }
    snprintf(series, sizeof series, "pmsd_upstream_requests_total{pms=\"%s\"}", p);
    add_counter(m, series, requests);
    snprintf(series, sizeof series, "pmsd_upstream_throttled_total{pms=\"%s\"}", p);
    add_counter(m, series, throttled);
    pthread_mutex_unlock(&m->lock);
}

typedef struct text_buf {
    char *data;
    size_t len, cap;
} text_buf;

static void put(text_buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_buf *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n =
            vsnprintf(t->data ? t->data + t->len : NULL, t->data ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (t->data && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 8192;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (grown == NULL)
            return;
        t->data = grown;
        t->cap = cap;
    }
}

/* Writes the family's HELP/TYPE once, then the series whose name starts with it. */
static void counters_of(text_buf *t, const json_t *counters, const char *family, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s counter\n", family, help, family);
    const char *key;
    json_t *value;
    size_t flen = strlen(family);
    json_object_foreach((json_t *)counters, key, value)
    {
        if (strncmp(key, family, flen) == 0 && key[flen] == '{')
            put(t, "%s %lld\n", key, (long long)json_integer_value(value));
    }
}

static void histograms_of(text_buf *t, const json_t *histograms, const char *family,
                          const double *buckets, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s histogram\n", family, help, family);
    const char *key;
    json_t *value;
    size_t flen = strlen(family);
    json_object_foreach((json_t *)histograms, key, value)
    {
        if (strncmp(key, family, flen) != 0 || key[flen] != '{')
            continue;
        const histogram *h = (const histogram *)(uintptr_t)json_integer_value(value);
        const char *labels = key + flen + 1; /* 'a="b"}' */
        size_t labels_len = strlen(labels) - 1;
        long cumulative = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            cumulative += h->counts[b];
            put(t, "%s_bucket{%.*s,le=\"%g\"} %ld\n", family, (int)labels_len, labels, buckets[b],
                cumulative);
        }
        put(t, "%s_bucket{%.*s,le=\"+Inf\"} %ld\n", family, (int)labels_len, labels, h->total);
        put(t, "%s_sum{%.*s} %.6f\n", family, (int)labels_len, labels, h->sum);
        put(t, "%s_count{%.*s} %ld\n", family, (int)labels_len, labels, h->total);
    }
}

char *pmsd_metrics_render(pmsd_metrics *m, const pmsd_gauges *g)
{
    text_buf t = {0};
    pthread_mutex_lock(&m->lock);
    counters_of(&t, m->counters, "pmsd_http_requests_total", "HTTP requests by route and status");
    histograms_of(&t, m->histograms, "pmsd_http_request_duration_seconds", http_buckets,
                  "Time to answer an HTTP request");
    counters_of(&t, m->counters, "pmsd_syncs_total", "Syncs by PMS and outcome");
    histograms_of(&t, m->histograms, "pmsd_sync_duration_seconds", sync_buckets,
                  "Time a sync takes");
    counters_of(&t, m->counters, "pmsd_appointments_processed_total",
                "Appointments read from PMSs, by what the sync did with them");
    counters_of(&t, m->counters, "pmsd_upstream_requests_total", "Requests made to PMS APIs");
    counters_of(&t, m->counters, "pmsd_upstream_throttled_total",
                "PMS answers of 429 Too Many Requests");
    pthread_mutex_unlock(&m->lock);
    put(&t,
        "# HELP pmsd_syncs_running Syncs running in this worker\n"
        "# TYPE pmsd_syncs_running gauge\npmsd_syncs_running %ld\n",
        g->syncs_running);
    put(&t,
        "# HELP pmsd_syncs_queued Syncs claimed by this worker, waiting for a thread\n"
        "# TYPE pmsd_syncs_queued gauge\npmsd_syncs_queued %ld\n",
        g->syncs_queued);
    put(&t,
        "# HELP pmsd_connections Enabled PMS connections in the database\n"
        "# TYPE pmsd_connections gauge\npmsd_connections %ld\n",
        g->connections);
    put(&t,
        "# HELP pmsd_syncs_due Connections due and not yet claimed by any worker\n"
        "# TYPE pmsd_syncs_due gauge\npmsd_syncs_due %ld\n",
        g->syncs_due);
    put(&t,
        "# HELP pmsd_syncs_leased Syncs running on any worker of the database\n"
        "# TYPE pmsd_syncs_leased gauge\npmsd_syncs_leased %ld\n",
        g->syncs_leased);
    put(&t,
        "# HELP pmsd_leases_lost_total Syncs of this worker stopped because another worker "
        "took the connection over\n"
        "# TYPE pmsd_leases_lost_total counter\npmsd_leases_lost_total %ld\n",
        g->leases_lost);
    put(&t,
        "# HELP pmsd_sse_streams Open live-update streams\n"
        "# TYPE pmsd_sse_streams gauge\npmsd_sse_streams %ld\n",
        g->sse_streams);
    put(&t,
        "# HELP pmsd_uptime_seconds Seconds since pmsd started\n"
        "# TYPE pmsd_uptime_seconds gauge\npmsd_uptime_seconds %.0f\n",
        g->uptime_seconds);
    return t.data;
}
