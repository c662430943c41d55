/* Counters and histograms for /metrics (Prometheus text format 0.0.4). Thread-safe. */
#ifndef PMSD_METRICS_H
#define PMSD_METRICS_H

#include "pmsync/store.h"

typedef struct pmsd_metrics pmsd_metrics;

int pmsd_metrics_new(pmsd_metrics **out);
void pmsd_metrics_free(pmsd_metrics *m);

/* One HTTP request: route pattern (not the path: ids stay out of labels), status, duration. */
void pmsd_metrics_http(pmsd_metrics *m, const char *method, const char *route, int status,
                       double seconds);
/* One finished sync. */
void pmsd_metrics_sync(pmsd_metrics *m, const char *pms, const char *status, double seconds,
                       const pms_sync_counts *counts, long requests, long throttled);

typedef struct pmsd_gauges {
    long syncs_running; /* in this process */
    long syncs_queued;  /* claimed here, waiting for a worker */
    long leases_lost;   /* since start: syncs stopped because another worker took over */
    long syncs_due;     /* in the database: due and not yet claimed by any worker */
    long syncs_leased;  /* in the database: running on any worker */
    long connections;   /* in the database: enabled connections */
    long sse_streams;
    double uptime_seconds;
} pmsd_gauges;

/* The whole exposition; caller frees. */
char *pmsd_metrics_render(pmsd_metrics *m, const pmsd_gauges *g);

#endif
