/* The scheduler: a loop thread that finds due connections and a pool of workers that sync
 * them. See include/pmsync/scheduler.h. */
#include "pmsync/scheduler.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pmsync/log.h"

typedef struct conn_state {
    char id[64];
    char account_id[64];
    char pms_type[32];
    long frequency_ms;
    bool enabled;
    bool present; /* in the store at the last scan */
    pms_instant next_due;
    int failures;
    bool running;
    bool queued;
    bool has_window;
    pms_sync_request window; /* a manual request: its window (sync_type points at kind) */
    char kind[16];
} conn_state;

typedef struct job_queue {
    size_t *items;
    size_t head, count, cap;
} job_queue;

struct pms_scheduler {
    pms_scheduler_config cfg;
    char *store_location;
    char *worker_name;
    pthread_mutex_t lock;
    pthread_cond_t loop_wake;
    pthread_cond_t work;
    pthread_cond_t idle;
    conn_state *states;
    size_t count, cap;
    json_t *index; /* id -> position in states */
    job_queue manual, scheduled;
    bool stopping;
    bool refresh;
    atomic_bool cancel;
    long running;
    long started;
    uint64_t rng;
    pthread_t loop;
    bool loop_started;
    pthread_t *workers;
    int worker_count;
};

/* ---- helpers (scheduler locked) ---------------------------------------------------- */

static uint64_t next_random(pms_scheduler *sch)
{
    uint64_t x = sch->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sch->rng = x;
    return x;
}

/* Up to 10% of the interval, at most a minute: spreads connections that share a frequency. */
static long jitter_ms(pms_scheduler *sch, long frequency_ms)
{
    long span = frequency_ms / 10;
    if (span > 60000)
        span = 60000;
    return span > 0 ? (long)(next_random(sch) % (uint64_t)span) : 0;
}

static int queue_push(job_queue *q, size_t item, bool front)
{
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        size_t *grown = malloc(cap * sizeof *grown);
        if (grown == NULL)
            return PMS_ERR_NOMEM;
        for (size_t i = 0; i < q->count; i++)
            grown[i] = q->items[(q->head + i) % q->cap];
        free(q->items);
        q->items = grown;
        q->cap = cap;
        q->head = 0;
    }
    if (front) {
        q->head = (q->head + q->cap - 1) % q->cap;
        q->items[q->head] = item;
    } else {
        q->items[(q->head + q->count) % q->cap] = item;
    }
    q->count++;
    return PMS_OK;
}

static bool queue_pop(job_queue *q, size_t *item)
{
    if (q->count == 0)
        return false;
    *item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return true;
}

static conn_state *state_for(pms_scheduler *sch, const char *id, bool create, size_t *pos)
{
    const json_t *at = json_object_get(sch->index, id);
    if (at) {
        *pos = (size_t)json_integer_value(at);
        return &sch->states[*pos];
    }
    if (!create)
        return NULL;
    if (sch->count == sch->cap) {
        size_t cap = sch->cap ? sch->cap * 2 : 64;
        conn_state *grown = realloc(sch->states, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        sch->states = grown;
        sch->cap = cap;
    }
    conn_state *s = &sch->states[sch->count];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    s->next_due = PMS_INSTANT_NONE;
    if (json_object_set_new(sch->index, id, json_integer((json_int_t)sch->count)) != 0)
        return NULL;
    *pos = sch->count++;
    return s;
}

/* ---- scanning ---------------------------------------------------------------------- */

/* Reads the connection list (without the lock held for the read itself). */
static void scan(pms_scheduler *sch, pms_store *st)
{
    pms_connection_list list = {0};
    pms_error err = {0};
    if (st == NULL || st->ops->connection_list(st, NULL, &list, &err) != PMS_OK) {
        pms_log(PMS_LOG_WARN, "scheduler.scan_failed", "reason", err.message, NULL);
        return;
    }
    pms_instant now = pms_now();
    pthread_mutex_lock(&sch->lock);
    for (size_t i = 0; i < sch->count; i++)
        sch->states[i].present = false;
    for (size_t i = 0; i < list.count; i++) {
        const pms_connection *c = &list.items[i];
        size_t pos;
        bool known = json_object_get(sch->index, c->id) != NULL;
        conn_state *s = state_for(sch, c->id, true, &pos);
        if (s == NULL)
            break;
        s->present = true;
        snprintf(s->account_id, sizeof s->account_id, "%s", c->account_id);
        snprintf(s->pms_type, sizeof s->pms_type, "%s", c->pms_type);
        long frequency_ms =
            (long)(c->sync_frequency_minutes > 0 ? c->sync_frequency_minutes : 15) * 60000;
        bool was_enabled = s->enabled;
        s->enabled = c->sync_enabled;
        if (!known || frequency_ms != s->frequency_ms || (s->enabled && !was_enabled)) {
            s->frequency_ms = frequency_ms;
            /* Due one interval after the last sync; never synced (or overdue): soon, spread. */
            pms_instant due =
                c->last_sync_at == PMS_INSTANT_NONE ? now : c->last_sync_at + frequency_ms;
            if (due < now)
                due = now;
            s->next_due = due + jitter_ms(sch, frequency_ms);
        }
    }
    pthread_mutex_unlock(&sch->lock);
    pms_connection_list_clear(&list);
}

/* ---- the loop ---------------------------------------------------------------------- */

static void *loop_main(void *arg)
{
    pms_scheduler *sch = arg;
    pms_store *st = NULL;
    pms_error err = {0};
    if (pms_store_open(sch->store_location, false, &st, &err) != PMS_OK)
        pms_log(PMS_LOG_ERROR, "scheduler.store_unavailable", "reason", err.message, NULL);
    pms_instant last_scan = 0;
    long scan_ms = (long)sch->cfg.scan_seconds * 1000;
    pthread_mutex_lock(&sch->lock);
    while (!sch->stopping) {
        pms_instant now = pms_now();
        if (sch->refresh || now - last_scan >= scan_ms) {
            sch->refresh = false;
            pthread_mutex_unlock(&sch->lock);
            scan(sch, st);
            pthread_mutex_lock(&sch->lock);
            last_scan = pms_now();
            now = last_scan;
        }
        pms_instant wake = last_scan + scan_ms;
        if (sch->cfg.run_schedule) {
            for (size_t i = 0; i < sch->count; i++) {
                conn_state *s = &sch->states[i];
                if (!s->present || !s->enabled || s->running || s->queued ||
                    s->next_due == PMS_INSTANT_NONE)
                    continue;
                if (s->next_due <= now) {
                    if (queue_push(&sch->scheduled, i, false) == PMS_OK) {
                        s->queued = true;
                        s->has_window = false;
                        pthread_cond_signal(&sch->work);
                    }
                } else if (s->next_due < wake) {
                    wake = s->next_due;
                }
            }
        }
        if (wake < now + 20)
            wake = now + 20;
        struct timespec until = {wake / 1000, (wake % 1000) * 1000000L};
        pthread_cond_timedwait(&sch->loop_wake, &sch->lock, &until);
    }
    pthread_mutex_unlock(&sch->lock);
    pms_store_close(st);
    return NULL;
}

/* ---- workers ----------------------------------------------------------------------- */

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
    job_ctx *job = arg;
    const pms_scheduler_config *cfg = &job->sch->cfg;
    if (cfg->on_progress == NULL)
        return;
    pms_instant now = pms_now();
    if (cfg->progress_interval_ms > 0 && job->progress_sent != PMS_INSTANT_NONE &&
        now - job->progress_sent < cfg->progress_interval_ms) {
        job->held = *p;
        job->holding = true;
        return;
    }
    job->holding = false;
    job->progress_sent = now;
    cfg->on_progress(cfg->ctx, job->account_id, job->connection_id, p);
}

static void job_event(void *arg, const pms_sync_event *e)
{
    job_ctx *job = arg;
    if (e->kind == PMS_EVENT_SYNC_FINISHED && job->holding) {
        job->holding = false;
        job->sch->cfg.on_progress(job->sch->cfg.ctx, job->account_id, job->connection_id,
                                  &job->held);
    }
    if (e->pms_patient_id &&
        (e->kind == PMS_EVENT_APPOINTMENT_CREATED || e->kind == PMS_EVENT_APPOINTMENT_UPDATED ||
         e->kind == PMS_EVENT_APPOINTMENT_REMOVED))
        json_object_set_new(job->patients, e->pms_patient_id, json_true());
    if (job->sch->cfg.on_event)
        job->sch->cfg.on_event(job->sch->cfg.ctx, e);
}

static int job_before_commit(void *arg, pms_store *st, const pms_sync_batch *batch, pms_error *err)
{
    job_ctx *job = arg;
    if (job->sch->cfg.before_commit == NULL)
        return PMS_OK;
    return job->sch->cfg.before_commit(job->sch->cfg.ctx, st, batch, err);
}

/* After a sync: when it is due next. Scheduler locked. */
static void reschedule(pms_scheduler *sch, conn_state *s, int rc, const pms_sync_result *r)
{
    pms_instant now = pms_now();
    /* A failed sync backs off; a partial one (some records or practitioners) does not: the
     * rest of the practice keeps syncing on time. Another process holding the connection, or
     * a shutdown, is not the connection's fault. */
    bool failed = r->status[0] ? strcmp(r->status, "failed") == 0
                               : rc != PMS_OK && rc != PMS_ERR_CONFLICT && rc != PMS_ERR_CANCELLED;
    long interval = s->frequency_ms > 0 ? s->frequency_ms : 15 * 60000;
    if (failed) {
        s->failures++;
        /* 1, 2, 4, 8 ... intervals, up to the cap */
        long delay = interval;
        for (int i = 1; i < s->failures && delay < sch->cfg.max_backoff_ms; i++)
            delay *= 2;
        if (delay > sch->cfg.max_backoff_ms)
            delay = sch->cfg.max_backoff_ms;
        s->next_due = now + delay + jitter_ms(sch, interval);
    } else {
        s->failures = 0;
        s->next_due = now + interval + jitter_ms(sch, interval);
    }
}

static void *worker_main(void *arg)
{
    pms_scheduler *sch = arg;
    pms_store *st = NULL;
    for (;;) {
        pthread_mutex_lock(&sch->lock);
        size_t pos;
        while (!sch->stopping && sch->manual.count == 0 && sch->scheduled.count == 0)
            pthread_cond_wait(&sch->work, &sch->lock);
        if (sch->stopping ||
            (!queue_pop(&sch->manual, &pos) && !queue_pop(&sch->scheduled, &pos))) {
            pthread_mutex_unlock(&sch->lock);
            break;
        }
        conn_state *s = &sch->states[pos];
        s->queued = false;
        s->running = true;
        sch->running++;
        sch->started++;
        char id[64], account[64];
        snprintf(id, sizeof id, "%s", s->id);
        snprintf(account, sizeof account, "%s", s->account_id);
        pms_sync_request req = {.today = true, .sync_type = "full"};
        char kind[16] = "full";
        if (s->has_window) {
            req = s->window;
            snprintf(kind, sizeof kind, "%s", s->kind);
            req.sync_type = kind;
            s->has_window = false;
        }
        pthread_mutex_unlock(&sch->lock);

        pms_error err = {0};
        if (st == NULL && pms_store_open(sch->store_location, false, &st, &err) != PMS_OK) {
            st = NULL;
            pms_log(PMS_LOG_ERROR, "scheduler.store_unavailable", "reason", err.message, NULL);
        }
        job_ctx job = {
            .sch = sch,
            .patients = json_object(),
            .account_id = account,
            .connection_id = id,
            .progress_sent = PMS_INSTANT_NONE,
        };
        pms_sync_context ctx = {
            .store = st,
            .ring = sch->cfg.ring,
            .session = sch->cfg.session,
            .worker = sch->worker_name,
            .on_progress = job_progress,
            .on_event = job_event,
            .before_commit = job_before_commit,
            .callback_ctx = &job,
        };
        ctx.session.cancel = &sch->cancel;
        req.connection_id = id;
        pms_sync_result result;
        memset(&result, 0, sizeof result);
        int rc = st ? pms_sync_run(&ctx, &req, &result, &err) : PMS_ERR_STORE;

        pthread_mutex_lock(&sch->lock);
        s = &sch->states[pos]; /* the array may have moved */
        s->running = false;
        sch->running--;
        reschedule(sch, s, rc, &result);
        char pms[32];
        snprintf(pms, sizeof pms, "%s", s->pms_type);
        pthread_cond_broadcast(&sch->idle);
        pthread_cond_signal(&sch->loop_wake);
        pthread_mutex_unlock(&sch->lock);
        if (rc != PMS_OK && rc != PMS_ERR_CANCELLED)
            pms_log(PMS_LOG_WARN, "scheduler.sync_failed", "connection", id, "reason", err.message,
                    NULL);
        if (sch->cfg.on_finished)
            sch->cfg.on_finished(sch->cfg.ctx, account, id, pms, rc, &result, job.patients);
        json_decref(job.patients);
    }
    pms_store_close(st);
    return NULL;
}

/* ---- public ------------------------------------------------------------------------ */

int pms_scheduler_start(const pms_scheduler_config *cfg, pms_scheduler **out, pms_error *err)
{
    pms_scheduler *sch = calloc(1, sizeof *sch);
    if (sch == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    sch->cfg = *cfg;
    if (sch->cfg.max_parallel <= 0)
        sch->cfg.max_parallel = 4;
    if (sch->cfg.scan_seconds <= 0)
        sch->cfg.scan_seconds = 5;
    if (sch->cfg.max_backoff_ms <= 0)
        sch->cfg.max_backoff_ms = 6L * 3600 * 1000;
    sch->store_location = strdup(cfg->store_location);
    sch->worker_name = cfg->worker ? strdup(cfg->worker) : NULL;
    sch->index = json_object();
    sch->rng = (uint64_t)pms_now() | 1;
    atomic_init(&sch->cancel, false);
    pthread_mutex_init(&sch->lock, NULL);
    pthread_cond_init(&sch->loop_wake, NULL);
    pthread_cond_init(&sch->work, NULL);
    pthread_cond_init(&sch->idle, NULL);
    sch->workers = calloc((size_t)sch->cfg.max_parallel, sizeof *sch->workers);
    if (sch->store_location == NULL || sch->index == NULL || sch->workers == NULL ||
        (cfg->worker && sch->worker_name == NULL)) {
        pms_scheduler_stop(sch, 0);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    sch->cfg.store_location = sch->store_location;
    sch->cfg.worker = sch->worker_name;
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

int pms_scheduler_request(pms_scheduler *sch, const char *connection_id,
                          const pms_sync_request *window, pms_error *err)
{
    pthread_mutex_lock(&sch->lock);
    int rc = PMS_OK;
    size_t pos;
    conn_state *s;
    if (sch->stopping) {
        rc = pms_error_set(err, PMS_ERR_CANCELLED, "the scheduler is stopping");
    } else if ((s = state_for(sch, connection_id, true, &pos)) == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    } else if (s->running || s->queued) {
        rc = pms_error_set(err, PMS_ERR_CONFLICT, "a sync of this connection is already %s",
                           s->running ? "running" : "queued");
    } else if (queue_push(&sch->manual, pos, false) != PMS_OK) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    } else {
        s->queued = true;
        s->has_window = true;
        if (window) {
            s->window = *window;
        } else {
            memset(&s->window, 0, sizeof s->window);
            s->window.today = true;
        }
        snprintf(s->kind, sizeof s->kind, "%s",
                 window && window->sync_type ? window->sync_type : "manual");
        s->window.connection_id = NULL;
        s->window.sync_type = NULL;
        pthread_cond_signal(&sch->work);
    }
    pthread_mutex_unlock(&sch->lock);
    return rc;
}

void pms_scheduler_refresh(pms_scheduler *sch)
{
    pthread_mutex_lock(&sch->lock);
    sch->refresh = true;
    pthread_cond_signal(&sch->loop_wake);
    pthread_mutex_unlock(&sch->lock);
}

void pms_scheduler_state(pms_scheduler *sch, const char *connection_id, pms_schedule_state *out)
{
    memset(out, 0, sizeof *out);
    out->next_due = PMS_INSTANT_NONE;
    pthread_mutex_lock(&sch->lock);
    size_t pos;
    const conn_state *s = state_for(sch, connection_id, false, &pos);
    if (s) {
        out->known = true;
        out->running = s->running;
        out->queued = s->queued;
        out->next_due = s->enabled && sch->cfg.run_schedule ? s->next_due : PMS_INSTANT_NONE;
        out->failures = s->failures;
    }
    pthread_mutex_unlock(&sch->lock);
}

pms_scheduler_stats pms_scheduler_get_stats(pms_scheduler *sch)
{
    pms_scheduler_stats st = {0};
    pthread_mutex_lock(&sch->lock);
    for (size_t i = 0; i < sch->count; i++)
        st.connections += sch->states[i].present;
    st.running = sch->running;
    st.queued = (long)(sch->manual.count + sch->scheduled.count);
    st.started = sch->started;
    pthread_mutex_unlock(&sch->lock);
    return st;
}

void pms_scheduler_stop(pms_scheduler *sch, long grace_ms)
{
    if (sch == NULL)
        return;
    pthread_mutex_lock(&sch->lock);
    sch->stopping = true;
    pthread_cond_broadcast(&sch->loop_wake);
    /* Running syncs may finish within the grace period; queued ones are dropped. */
    pms_instant until = pms_now() + grace_ms;
    while (sch->running > 0 && pms_now() < until) {
        struct timespec ts = {until / 1000, (until % 1000) * 1000000L};
        pthread_cond_timedwait(&sch->idle, &sch->lock, &ts);
    }
    pthread_cond_broadcast(&sch->work);
    pthread_mutex_unlock(&sch->lock);
    /* The rest stop at their next request: whole batches only. */
    atomic_store(&sch->cancel, true);
    for (int i = 0; i < sch->worker_count; i++)
        pthread_join(sch->workers[i], NULL);
    if (sch->loop_started)
        pthread_join(sch->loop, NULL);
    free(sch->workers);
    free(sch->manual.items);
    free(sch->scheduled.items);
    free(sch->states);
    json_decref(sch->index);
    free(sch->store_location);
    free(sch->worker_name);
    pthread_cond_destroy(&sch->idle);
    pthread_cond_destroy(&sch->work);
    pthread_cond_destroy(&sch->loop_wake);
    pthread_mutex_destroy(&sch->lock);
    free(sch);
}
