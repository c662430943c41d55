/* The scheduler: a loop thread that claims due connections from the store with a lease, and a
 * pool of workers that sync them. See include/pmsync/scheduler.h. */
#include "pmsync/scheduler.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pmsync/log.h"

/* A claimed connection, from the claim to the release. */
typedef struct job {
    pms_lease lease;
    atomic_bool cancel; /* stopping, or the lease was taken */
    atomic_bool lease_lost;
    bool running;
    pms_instant renewed; /* when the lease was last extended */
    struct job *next;
} job;

struct pms_scheduler {
    pms_scheduler_config cfg;
    char *store_location;
    char worker_name[128];
    pthread_mutex_t lock;
    pthread_cond_t loop_wake;
    pthread_cond_t work;
    pthread_cond_t idle;
    job *claimed; /* waiting for a worker, oldest first */
    job *active;  /* running */
    bool stopping;
    bool woken;
    long running, claimed_count, started, leases_lost;
    uint64_t rng;
    pthread_t loop;
    bool loop_started;
    pthread_t *workers;
    int worker_count;
};

/* ---- timing -------------------------------------------------------------------------- */

static uint64_t next_random(uint64_t *rng)
{
    uint64_t x = *rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    return x;
}

/* Up to 10% of the interval, at most a minute: spreads connections that share a frequency. */
static long jitter_ms(uint64_t *rng, long interval_ms)
{
    long span = interval_ms / 10;
    if (span > 60000)
        span = 60000;
    return span > 0 ? (long)(next_random(rng) % (uint64_t)span) : 0;
}

pms_instant pms_schedule_next(pms_instant now, int frequency_minutes, long max_backoff_ms, int rc,
                              const pms_sync_result *result, int *failures, uint64_t *rng)
{
    long interval = (long)(frequency_minutes > 0 ? frequency_minutes : 15) * 60000;
    /* A failed sync backs off; a partial one (some records or practitioners) does not: the
     * rest of the practice keeps syncing on time. */
    bool failed = result->status[0] ? strcmp(result->status, "failed") == 0 : rc != PMS_OK;
    if (!failed) {
        *failures = 0;
        return now + interval + jitter_ms(rng, interval);
    }
    (*failures)++;
    long delay = interval; /* 1, 2, 4, 8 ... intervals, up to the cap */
    for (int i = 1; i < *failures && delay < max_backoff_ms; i++)
        delay *= 2;
    if (delay > max_backoff_ms)
        delay = max_backoff_ms;
    return now + delay + jitter_ms(rng, interval);
}

/* ---- the loop: claims and lease renewal ----------------------------------------------- */

static void append(job **list, job *j)
{
    j->next = NULL;
    while (*list)
        list = &(*list)->next;
    *list = j;
}

static void unlink_job(job **list, job *j)
{
    for (; *list; list = &(*list)->next) {
        if (*list == j) {
            *list = j->next;
            return;
        }
    }
}

/* Claims as many due connections as there are free workers. Scheduler unlocked. */
static void claim(pms_scheduler *sch, pms_store *st)
{
    pthread_mutex_lock(&sch->lock);
    int free_workers = sch->cfg.max_parallel - (int)sch->running - (int)sch->claimed_count;
    bool stopping = sch->stopping;
    pthread_mutex_unlock(&sch->lock);
    if (free_workers <= 0 || stopping)
        return;
    pms_lease *leases = calloc((size_t)free_workers, sizeof *leases);
    int count = 0;
    pms_error err = {0};
    if (leases == NULL ||
        st->ops->lease_claim(st, sch->worker_name, pms_now(), sch->cfg.lease_ms, free_workers,
                             !sch->cfg.run_schedule, leases, &count, &err) != PMS_OK) {
        if (leases)
            pms_log(PMS_LOG_WARN, "scheduler.claim_failed", "reason", err.message, NULL);
        free(leases);
        return;
    }
    pthread_mutex_lock(&sch->lock);
    for (int i = 0; i < count; i++) {
        job *j = calloc(1, sizeof *j);
        if (j == NULL)
            break; /* its lease runs out and another claim takes it */
        j->lease = leases[i];
        j->renewed = pms_now();
        atomic_init(&j->cancel, false);
        atomic_init(&j->lease_lost, false);
        append(&sch->claimed, j);
        sch->claimed_count++;
        pthread_cond_signal(&sch->work);
    }
    pthread_mutex_unlock(&sch->lock);
    free(leases);
}

/* Extends the leases of running syncs every third of their length; a lease that was taken
 * stops its sync. The store is asked without the scheduler's lock held. */
static void renew(pms_scheduler *sch, pms_store *st)
{
    typedef struct renewal {
        job *j;
        char connection_id[PMS_STORE_ID_LEN];
        long long token;
        int rc;
    } renewal;
    renewal due[64];
    size_t n = 0;
    pms_instant now = pms_now();
    pthread_mutex_lock(&sch->lock);
    for (job *j = sch->active; j && n < sizeof due / sizeof due[0]; j = j->next) {
        if (now - j->renewed < sch->cfg.lease_ms / 3 || atomic_load(&j->lease_lost))
            continue;
        due[n].j = j;
        due[n].token = j->lease.token;
        snprintf(due[n].connection_id, sizeof due[n].connection_id, "%s", j->lease.connection_id);
        n++;
    }
    pthread_mutex_unlock(&sch->lock);
    for (size_t i = 0; i < n; i++)
        due[i].rc = st->ops->lease_check(st, due[i].connection_id, due[i].token,
                                         now + sch->cfg.lease_ms, NULL);
    pthread_mutex_lock(&sch->lock);
    for (size_t i = 0; i < n; i++) {
        job *j = sch->active;
        while (j && !(j == due[i].j && j->lease.token == due[i].token))
            j = j->next;
        if (j == NULL) /* finished meanwhile */
            continue;
        if (due[i].rc == PMS_OK) {
            j->renewed = now;
        } else if (due[i].rc == PMS_ERR_CONFLICT) {
            atomic_store(&j->lease_lost, true);
            atomic_store(&j->cancel, true);
            pms_log(PMS_LOG_WARN, "scheduler.lease_lost", "connection", j->lease.connection_id,
                    NULL);
        }
    }
    pthread_mutex_unlock(&sch->lock);
}

static void *loop_main(void *arg)
{
    pms_scheduler *sch = arg;
    pms_store *st = NULL;
    pms_error err = {0};
    if (pms_store_open(sch->store_location, false, &st, &err) != PMS_OK) {
        pms_log(PMS_LOG_ERROR, "scheduler.store_unavailable", "reason", err.message, NULL);
        st = NULL;
    }
    pthread_mutex_lock(&sch->lock);
    while (!sch->stopping) {
        sch->woken = false;
        pthread_mutex_unlock(&sch->lock);
        if (st) {
            renew(sch, st);
            claim(sch, st);
        }
        pthread_mutex_lock(&sch->lock);
        if (sch->stopping || sch->woken)
            continue;
        pms_instant wake = pms_now() + sch->cfg.poll_ms;
        struct timespec until = {wake / 1000, (wake % 1000) * 1000000L};
        pthread_cond_timedwait(&sch->loop_wake, &sch->lock, &until);
    }
    pthread_mutex_unlock(&sch->lock);
    pms_store_close(st);
    return NULL;
}

/* ---- workers ------------------------------------------------------------------------- */

typedef struct job_ctx {
    pms_scheduler *sch;
    json_t *patients; /* PMS patient id -> true */
    const char *account_id, *connection_id;
    pms_instant progress_sent; /* when progress was last passed on */
    pms_sync_progress held;    /* a report held back by the interval */
    bool holding;
} job_ctx;

static void job_progress(void *arg, const pms_sync_progress *p)
{
    job_ctx *ctx = arg;
    const pms_scheduler_config *cfg = &ctx->sch->cfg;
    if (cfg->on_progress == NULL)
        return;
    pms_instant now = pms_now();
    if (cfg->progress_interval_ms > 0 && ctx->progress_sent != PMS_INSTANT_NONE &&
        now - ctx->progress_sent < cfg->progress_interval_ms) {
        ctx->held = *p;
        ctx->holding = true;
        return;
    }
    ctx->holding = false;
    ctx->progress_sent = now;
    cfg->on_progress(cfg->ctx, ctx->account_id, ctx->connection_id, p);
}

static void job_event(void *arg, const pms_sync_event *e)
{
    job_ctx *ctx = arg;
    if (e->kind == PMS_EVENT_SYNC_FINISHED && ctx->holding) {
        ctx->holding = false;
        ctx->sch->cfg.on_progress(ctx->sch->cfg.ctx, ctx->account_id, ctx->connection_id,
                                  &ctx->held);
    }
    if (e->pms_patient_id &&
        (e->kind == PMS_EVENT_APPOINTMENT_CREATED || e->kind == PMS_EVENT_APPOINTMENT_UPDATED ||
         e->kind == PMS_EVENT_APPOINTMENT_REMOVED))
        json_object_set_new(ctx->patients, e->pms_patient_id, json_true());
    if (ctx->sch->cfg.on_event)
        ctx->sch->cfg.on_event(ctx->sch->cfg.ctx, e);
}

static int job_before_commit(void *arg, pms_store *st, const pms_sync_batch *batch, pms_error *err)
{
    job_ctx *ctx = arg;
    if (ctx->sch->cfg.before_commit == NULL)
        return PMS_OK;
    return ctx->sch->cfg.before_commit(ctx->sch->cfg.ctx, st, batch, err);
}

/* Runs one claimed sync and releases its lease with the next due time. */
static void run_job(pms_scheduler *sch, job *j, pms_store *st)
{
    const pms_lease *l = &j->lease;
    /* A scheduled sync reads only what changed where the PMS allows it and a full sweep is
     * recent (the engine decides, and runs a full sweep otherwise); a requested one runs as
     * asked (manual: a full sweep). */
    pms_sync_request req = {
        .connection_id = l->connection_id,
        .today = true,
        .sync_type = l->requested ? l->window.sync_type : "incremental",
    };
    if (l->requested && !l->window.today) {
        req.today = false;
        req.from = l->window.from;
        req.to = l->window.to;
    }
    job_ctx ctx = {
        .sch = sch,
        .patients = json_object(),
        .account_id = l->account_id,
        .connection_id = l->connection_id,
        .progress_sent = PMS_INSTANT_NONE,
    };
    pms_sync_context sync = {
        .store = st,
        .ring = sch->cfg.ring,
        .session = sch->cfg.session,
        .worker = sch->worker_name,
        .lease_token = l->token,
        .lease_ms = sch->cfg.lease_ms,
        .on_progress = job_progress,
        .on_event = job_event,
        .before_commit = job_before_commit,
        .callback_ctx = &ctx,
    };
    sync.session.cancel = &j->cancel;
    pms_sync_result result;
    memset(&result, 0, sizeof result);
    pms_error err = {0};
    int rc = st ? pms_sync_run(&sync, &req, &result, &err) : PMS_ERR_STORE;
    if (rc != PMS_OK && rc != PMS_ERR_CANCELLED && !atomic_load(&j->lease_lost))
        pms_log(PMS_LOG_WARN, "scheduler.sync_failed", "connection", l->connection_id, "reason",
                err.message, NULL);

    /* The next due time: a sync stopped by the shutdown is due at once (another worker takes
     * it over); one refused by another holder's lock is tried again soon; others follow the
     * schedule and the back-off. */
    int failures = l->failures;
    pms_instant now = pms_now(), next;
    pthread_mutex_lock(&sch->lock);
    if (rc == PMS_ERR_CANCELLED || atomic_load(&j->cancel))
        next = now;
    else if (rc == PMS_ERR_CONFLICT && result.status[0] == '\0')
        next = now + 60000;
    else
        next = pms_schedule_next(now, l->frequency_minutes, sch->cfg.max_backoff_ms, rc, &result,
                                 &failures, &sch->rng);
    pthread_mutex_unlock(&sch->lock);
    pms_error release_err = {0};
    if (st && !atomic_load(&j->lease_lost) &&
        st->ops->lease_release(st, l->connection_id, l->token, next, failures, &release_err) !=
            PMS_OK)
        pms_log(PMS_LOG_WARN, "scheduler.release_failed", "connection", l->connection_id, "reason",
                release_err.message, NULL);
    if (sch->cfg.on_finished)
        sch->cfg.on_finished(sch->cfg.ctx, l->account_id, l->connection_id, l->pms_type, rc,
                             &result, ctx.patients);
    json_decref(ctx.patients);
}

static void *worker_main(void *arg)
{
    pms_scheduler *sch = arg;
    pms_store *st = NULL;
    for (;;) {
        pthread_mutex_lock(&sch->lock);
        while (!sch->stopping && sch->claimed == NULL)
            pthread_cond_wait(&sch->work, &sch->lock);
        if (sch->stopping) {
            pthread_mutex_unlock(&sch->lock);
            break;
        }
        job *j = sch->claimed;
        sch->claimed = j->next;
        sch->claimed_count--;
        append(&sch->active, j);
        j->running = true;
        sch->running++;
        sch->started++;
        pthread_mutex_unlock(&sch->lock);

        pms_error err = {0};
        if (st == NULL && pms_store_open(sch->store_location, false, &st, &err) != PMS_OK) {
            st = NULL;
            pms_log(PMS_LOG_ERROR, "scheduler.store_unavailable", "reason", err.message, NULL);
        }
        run_job(sch, j, st);

        pthread_mutex_lock(&sch->lock);
        unlink_job(&sch->active, j);
        sch->running--;
        if (atomic_load(&j->lease_lost))
            sch->leases_lost++;
        sch->woken = true;
        pthread_cond_broadcast(&sch->idle);
        pthread_cond_signal(&sch->loop_wake);
        pthread_mutex_unlock(&sch->lock);
        free(j);
    }
    pms_store_close(st);
    return NULL;
}

/* ---- public -------------------------------------------------------------------------- */

int pms_scheduler_start(const pms_scheduler_config *cfg, pms_scheduler **out, pms_error *err)
{
    pms_scheduler *sch = calloc(1, sizeof *sch);
    if (sch == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    sch->cfg = *cfg;
    if (sch->cfg.max_parallel <= 0)
        sch->cfg.max_parallel = 4;
    if (sch->cfg.poll_ms <= 0)
        sch->cfg.poll_ms = 1000;
    if (sch->cfg.lease_ms <= 0)
        sch->cfg.lease_ms = 5L * 60 * 1000;
    if (sch->cfg.max_backoff_ms <= 0)
        sch->cfg.max_backoff_ms = 6L * 3600 * 1000;
    if (cfg->worker) {
        snprintf(sch->worker_name, sizeof sch->worker_name, "%s", cfg->worker);
    } else {
        char host[64] = "localhost";
        gethostname(host, sizeof host - 1);
        snprintf(sch->worker_name, sizeof sch->worker_name, "%ld@%s", (long)getpid(), host);
    }
    sch->cfg.worker = sch->worker_name;
    sch->store_location = strdup(cfg->store_location);
    sch->rng = (uint64_t)pms_now() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
    pthread_mutex_init(&sch->lock, NULL);
    pthread_cond_init(&sch->loop_wake, NULL);
    pthread_cond_init(&sch->work, NULL);
    pthread_cond_init(&sch->idle, NULL);
    sch->workers = calloc((size_t)sch->cfg.max_parallel, sizeof *sch->workers);
    if (sch->store_location == NULL || sch->workers == NULL) {
        pms_scheduler_stop(sch, 0);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    sch->cfg.store_location = sch->store_location;
    for (int i = 0; i < sch->cfg.max_parallel; i++) {
        if (pthread_create(&sch->workers[i], NULL, worker_main, sch) != 0)
            break;
        sch->worker_count++;
    }
    if (sch->worker_count > 0 && pthread_create(&sch->loop, NULL, loop_main, sch) == 0)
        sch->loop_started = true;
    if (!sch->loop_started) {
        pms_scheduler_stop(sch, 0);
        return pms_error_set(err, PMS_ERR_IO, "cannot start the scheduler's threads");
    }
    *out = sch;
    return PMS_OK;
}

void pms_scheduler_wake(pms_scheduler *sch)
{
    pthread_mutex_lock(&sch->lock);
    sch->woken = true;
    pthread_cond_signal(&sch->loop_wake);
    pthread_mutex_unlock(&sch->lock);
}

int pms_scheduler_request(pms_scheduler *sch, pms_store *st, const char *connection_id,
                          const pms_sync_window *window, pms_error *err)
{
    pthread_mutex_lock(&sch->lock);
    bool stopping = sch->stopping;
    pthread_mutex_unlock(&sch->lock);
    if (stopping)
        return pms_error_set(err, PMS_ERR_CANCELLED, "the scheduler is stopping");
    int rc = st->ops->sync_request(st, connection_id, window, err);
    if (rc != PMS_OK)
        return rc;
    /* Whoever has a free worker takes it: this process at once, the others when told. */
    st->ops->notify(st, PMS_CHANNEL_DUE, connection_id, NULL);
    pms_scheduler_wake(sch);
    return PMS_OK;
}

pms_scheduler_stats pms_scheduler_get_stats(pms_scheduler *sch)
{
    pms_scheduler_stats s = {0};
    pthread_mutex_lock(&sch->lock);
    s.running = sch->running;
    s.claimed = sch->claimed_count;
    s.started = sch->started;
    s.leases_lost = sch->leases_lost;
    pthread_mutex_unlock(&sch->lock);
    return s;
}

/* Hands back the leases of claims no worker started: due at once, for another worker. */
static void release_unstarted(pms_scheduler *sch)
{
    if (sch->claimed == NULL)
        return;
    pms_store *st = NULL;
    pms_error err = {0};
    if (pms_store_open(sch->store_location, false, &st, &err) != PMS_OK)
        st = NULL; /* the leases run out by themselves */
    pms_instant now = pms_now();
    while (sch->claimed) {
        job *j = sch->claimed;
        sch->claimed = j->next;
        if (st)
            st->ops->lease_release(st, j->lease.connection_id, j->lease.token, now,
                                   j->lease.failures, NULL);
        free(j);
    }
    sch->claimed_count = 0;
    pms_store_close(st);
}

void pms_scheduler_stop(pms_scheduler *sch, long grace_ms)
{
    if (sch == NULL)
        return;
    pthread_mutex_lock(&sch->lock);
    sch->stopping = true;
    pthread_cond_broadcast(&sch->loop_wake);
    /* Running syncs may finish within the grace period. */
    pms_instant until = pms_now() + grace_ms;
    while (sch->running > 0 && pms_now() < until) {
        struct timespec ts = {until / 1000, (until % 1000) * 1000000L};
        pthread_cond_timedwait(&sch->idle, &sch->lock, &ts);
    }
    /* The rest stop at their next request: whole batches only. */
    for (job *j = sch->active; j; j = j->next)
        atomic_store(&j->cancel, true);
    pthread_cond_broadcast(&sch->work);
    pthread_mutex_unlock(&sch->lock);
    for (int i = 0; i < sch->worker_count; i++)
        pthread_join(sch->workers[i], NULL);
    if (sch->loop_started)
        pthread_join(sch->loop, NULL);
    release_unstarted(sch);
    free(sch->workers);
    free(sch->store_location);
    pthread_cond_destroy(&sch->idle);
    pthread_cond_destroy(&sch->work);
    pthread_cond_destroy(&sch->loop_wake);
    pthread_mutex_destroy(&sch->lock);
    free(sch);
}
