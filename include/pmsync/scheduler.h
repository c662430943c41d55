/* The scheduler: syncs every enabled connection every sync_frequency_minutes (with jitter),
 * runs requested syncs at once, never two syncs of one connection together, at most
 * max_parallel syncs at a time in this process, and backs off connections that keep failing.
 *
 * Its work is shared through the store, so several pmsd processes on one database (PostgreSQL)
 * divide it between them: due times, requests and leases live on the connections (store.h,
 * "shared scheduling"). A loop thread claims due connections with a lease while it has free
 * workers; a worker runs the sync, whose every write checks the lease's fencing token, renews
 * the lease while it runs, and releases it with the next due time. A worker that dies loses
 * its leases when they run out and another worker takes the connections over; a worker whose
 * lease was taken stops its sync and writes nothing more. Thread-safe.
 */
#ifndef PMSYNC_SCHEDULER_H
#define PMSYNC_SCHEDULER_H

#include <stdbool.h>

#include "pmsync/sync.h"

typedef struct pms_scheduler pms_scheduler;

/* The notification channel that tells every worker a sync was requested. */
#define PMS_CHANNEL_DUE "pmsync_due"

typedef struct pms_scheduler_config {
    const char *store_location;
    const pms_keyring *ring;
    int max_parallel;            /* concurrent syncs in this process; default 4 */
    int poll_ms;                 /* how often due connections are looked for; default 1000 */
    long lease_ms;               /* a claim's length, renewed while the sync runs; default 5 min */
    long max_backoff_ms;         /* cap of the back-off after failures; default 6 h */
    bool run_schedule;           /* false: requested syncs only */
    pms_session_options session; /* the scheduler sets session.cancel */
    const char *worker;          /* unique among the workers of a database; default pid@host */
    /* Engine events of every sync (called on the sync's worker thread). */
    void (*on_event)(void *ctx, const pms_sync_event *e);
    /* A sync's progress (its counts so far, after each batch), on its worker thread: at most one
     * call per progress_interval_ms per sync (0: every report), and the last report held back
     * by that limit is passed on before the sync's PMS_EVENT_SYNC_FINISHED event. */
    void (*on_progress)(void *ctx, const char *account_id, const char *connection_id,
                        const pms_sync_progress *p);
    long progress_interval_ms;
    /* Inside each sync unit's transaction (see pms_sync_context.before_commit). */
    int (*before_commit)(void *ctx, pms_store *st, const pms_sync_batch *batch, pms_error *err);
    /* A sync has finished: its outcome and the PMS patient ids it wrote (created, updated or
     * removed), for metrics and the audit log. */
    void (*on_finished)(void *ctx, const char *account_id, const char *connection_id,
                        const char *pms_type, int rc, const pms_sync_result *result,
                        const json_t *patient_ids);
    void *ctx;
} pms_scheduler_config;

int pms_scheduler_start(const pms_scheduler_config *cfg, pms_scheduler **out, pms_error *err);

/* Asks for a sync of a connection now, through the store (any worker sharing the database may
 * run it; this one is woken and the others notified). window NULL: the practice's today.
 * PMS_ERR_CONFLICT when one is already requested or running; PMS_ERR_CANCELLED while
 * stopping. */
int pms_scheduler_request(pms_scheduler *sch, pms_store *st, const char *connection_id,
                          const pms_sync_window *window, pms_error *err);

/* Looks for due work at once (a connection was added or changed, another worker asked). */
void pms_scheduler_wake(pms_scheduler *sch);

typedef struct pms_scheduler_stats {
    long running;     /* syncs running in this process */
    long claimed;     /* claimed, waiting for a free worker here */
    long started;     /* since start */
    long leases_lost; /* syncs stopped because another worker took the lease */
} pms_scheduler_stats;

pms_scheduler_stats pms_scheduler_get_stats(pms_scheduler *sch);

/* When the next sync of a connection is due after one that ended with rc and result: the
 * interval (with up to 10% jitter, at most a minute) after a success or a partial sync; 1, 2,
 * 4 ... intervals after consecutive failures, capped; *failures is updated. Exposed for tests. */
pms_instant pms_schedule_next(pms_instant now, int frequency_minutes, long max_backoff_ms, int rc,
                              const pms_sync_result *result, int *failures, uint64_t *rng);

/* Stops claiming and taking requests, lets running syncs finish for up to grace_ms, then
 * cancels them (they stop at the next request, leaving whole batches), hands every lease back
 * (due at once, for another worker) and frees everything. */
void pms_scheduler_stop(pms_scheduler *sch, long grace_ms);

#endif
