/* The scheduler: syncs every enabled connection every sync_frequency_minutes (with jitter),
 * runs manual requests at once, never two syncs of one connection together, at most
 * max_parallel syncs at a time, and backs off connections that keep failing.
 *
 * It reads the connections from the store every scan interval (and when told something
 * changed) and keeps each one's next due time in memory; the sync status itself (last_sync_at,
 * status, error) lives on the connection in the store. Each worker thread has its own store
 * handle. Thread-safe.
 */
#ifndef PMSYNC_SCHEDULER_H
#define PMSYNC_SCHEDULER_H

#include <stdbool.h>

#include "pmsync/sync.h"

typedef struct pms_scheduler pms_scheduler;

typedef struct pms_scheduler_config {
    const char *store_location;
    const pms_keyring *ring;
    int max_parallel;            /* concurrent syncs; default 4 */
    int scan_seconds;            /* how often the connection list is re-read; default 5 */
    long max_backoff_ms;         /* cap of the back-off after failures; default 6 h */
    bool run_schedule;           /* false: manual requests only */
    pms_session_options session; /* the scheduler sets session.cancel */
    const char *worker;          /* recorded in the sync log; default pid@host */
    /* Engine events of every sync (called on the sync's worker thread). */
    void (*on_event)(void *ctx, const pms_sync_event *e);
    /* A sync's progress (its counts so far, after each batch), on its worker thread: at most one
     * call per progress_interval_ms per sync (0: every report), and the last report held back
     * by that limit is passed on before the sync's PMS_EVENT_SYNC_FINISHED event. */
    void (*on_progress)(void *ctx, const char *account_id, const char *connection_id,
                        const pms_sync_progress *p);
    long progress_interval_ms;
    /* A sync has finished: its outcome and the PMS patient ids it wrote (created, updated or
     * removed), for metrics and the audit log. */
    /* Inside each sync unit's transaction (see pms_sync_context.before_commit). */
    int (*before_commit)(void *ctx, pms_store *st, const pms_sync_batch *batch, pms_error *err);
    void (*on_finished)(void *ctx, const char *account_id, const char *connection_id,
                        const char *pms_type, int rc, const pms_sync_result *result,
                        const json_t *patient_ids);
    void *ctx;
} pms_scheduler_config;

int pms_scheduler_start(const pms_scheduler_config *cfg, pms_scheduler **out, pms_error *err);

/* Queues a sync of a connection now (window NULL or today=true: the practice's today; the
 * sync log records it as window->sync_type, default "manual").
 * PMS_ERR_CONFLICT when one is already queued or running (it is not queued twice);
 * PMS_ERR_CANCELLED while stopping. */
int pms_scheduler_request(pms_scheduler *sch, const char *connection_id,
                          const pms_sync_request *window, pms_error *err);

/* Re-reads the connection list at once (after one was added, changed or removed). */
void pms_scheduler_refresh(pms_scheduler *sch);

typedef struct pms_schedule_state {
    bool known; /* the scheduler has this connection */
    bool running;
    bool queued;
    pms_instant next_due; /* PMS_INSTANT_NONE when not scheduled (disabled) */
    int failures;         /* consecutive failed syncs */
} pms_schedule_state;

void pms_scheduler_state(pms_scheduler *sch, const char *connection_id, pms_schedule_state *out);

typedef struct pms_scheduler_stats {
    long connections;
    long running;
    long queued;
    long started; /* since start */
} pms_scheduler_stats;

pms_scheduler_stats pms_scheduler_get_stats(pms_scheduler *sch);

/* Stops scheduling and taking requests, lets running syncs finish for up to grace_ms, then
 * cancels them (they stop at the next request, leaving whole batches) and frees everything. */
void pms_scheduler_stop(pms_scheduler *sch, long grace_ms);

#endif
