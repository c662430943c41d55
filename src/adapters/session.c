#include "pmsync/session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pmsync/log.h"

#define TOKEN_REFRESH_MARGIN_MS 60000
#define DEFAULT_TIMEZONE        "Australia/Sydney"

struct pms_session {
    const pms_adapter_ops *ops;
    char *connection_id;
    char *base_url;
    char *tz_name;
    char *external_id;
    const pms_tz *tz;
    json_t *settings;
    char **telehealth_types;
    size_t telehealth_type_count;
    pms_appt_type_list appt_types;
    pms_rate_bucket *pms_bucket;  /* NULL when the PMS as a whole is not limited */
    pms_rate_bucket *conn_bucket; /* NULL when the connection is not limited */
    pms_retry_policy retry;
    pms_http_options http;
    pms_token_cache *tokens;
    pms_token_saved_fn token_saved;
    void *token_saved_ctx;
    const atomic_bool *cancel;
    const char *auth_scheme; /* NULL: Bearer */
    const char *auth_header; /* NULL: Authorization */
    void *state;

    pthread_mutex_t pool_lock; /* idle HTTP clients */
    pms_http_client **idle;
    size_t idle_count, idle_cap;

    pthread_mutex_t emit_lock; /* one sink call at a time */
    pthread_mutex_t rng_lock;
    uint64_t rng;

    atomic_long requests, retries, throttled, failures;
};

const pms_adapter_ops *pms_session_ops(const pms_session *s)
{
    return s->ops;
}
const char *pms_session_connection_id(const pms_session *s)
{
    return s->connection_id;
}
const char *pms_session_base_url(const pms_session *s)
{
    return s->base_url;
}
const pms_tz *pms_session_tz(const pms_session *s)
{
    return s->tz;
}
const char *pms_session_tz_name(const pms_session *s)
{
    return s->tz_name;
}
const char *pms_session_external_id(const pms_session *s)
{
    return s->external_id;
}
void *pms_session_state(pms_session *s)
{
    return s->state;
}

bool pms_session_cancelled(const pms_session *s)
{
    return s->cancel != NULL && atomic_load(s->cancel);
}

int pms_session_set_external_id(pms_session *s, const char *id, pms_error *err)
{
    if (pms_str_set(&s->external_id, id) != PMS_OK)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

void pms_session_set_auth_scheme(pms_session *s, const char *scheme)
{
    s->auth_scheme = scheme;
}

void pms_session_set_auth_header(pms_session *s, const char *header)
{
    s->auth_header = header;
}

const char *pms_session_setting(const pms_session *s, const char *key)
{
    const json_t *v = json_object_get(s->settings, key);
    if (json_is_string(v) && json_string_length(v) > 0)
        return json_string_value(v);
    const pms_setting_def *def = pms_adapter_setting(s->ops, key);
    return def ? def->default_value : NULL;
}

long pms_session_setting_long(const pms_session *s, const char *key, long min, long max,
                              long fallback)
{
    const char *text = pms_session_setting(s, key);
    if (text == NULL)
        return fallback;
    char *end;
    long v = strtol(text, &end, 10);
    if (*end != '\0' || end == text || v < min || v > max)
        return fallback;
    return v;
}

bool pms_session_type_is_telehealth(const pms_session *s, const char *type_id)
{
    if (type_id == NULL)
        return false;
    for (size_t i = 0; i < s->telehealth_type_count; i++)
        if (strcmp(s->telehealth_types[i], type_id) == 0)
            return true;
    return false;
}

const pms_appt_type *pms_session_appt_type(const pms_session *s, const char *type_id)
{
    if (type_id == NULL)
        return NULL;
    for (size_t i = 0; i < s->appt_types.count; i++)
        if (s->appt_types.items[i].id && strcmp(s->appt_types.items[i].id, type_id) == 0)
            return &s->appt_types.items[i];
    return NULL;
}

pms_session_stats pms_session_get_stats(const pms_session *s)
{
    pms_session_stats st = {
        .requests = atomic_load(&s->requests),
        .retries = atomic_load(&s->retries),
        .throttled = atomic_load(&s->throttled),
        .token_mints = s->tokens ? pms_token_mint_count(s->tokens) : 0,
        .failures = atomic_load(&s->failures),
    };
    return st;
}

char *pms_session_url(const pms_session *s, const char *path)
{
    char *url;
    size_t base_len = strlen(s->base_url);
    /* "https://host/" + "/v1/..." must not double the slash */
    int trim = base_len > 0 && s->base_url[base_len - 1] == '/' && path[0] == '/';
    if (asprintf(&url, "%.*s%s", (int)(base_len - (size_t)trim), s->base_url, path) < 0)
        return NULL;
    return url;
}

/* ---- HTTP client pool ---------------------------------------------------------------- */

static pms_http_client *client_acquire(pms_session *s, pms_error *err)
{
    pthread_mutex_lock(&s->pool_lock);
    pms_http_client *c = s->idle_count > 0 ? s->idle[--s->idle_count] : NULL;
    pthread_mutex_unlock(&s->pool_lock);
    if (c == NULL && pms_http_client_new(&s->http, &c, err) != PMS_OK)
        return NULL;
    return c;
}

static void client_release(pms_session *s, pms_http_client *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&s->pool_lock);
    if (s->idle_count == s->idle_cap) {
        size_t cap = s->idle_cap ? s->idle_cap * 2 : 4;
        pms_http_client **grown = realloc(s->idle, cap * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&s->pool_lock);
            pms_http_client_free(c);
            return;
        }
        s->idle = grown;
        s->idle_cap = cap;
    }
    s->idle[s->idle_count++] = c;
    pthread_mutex_unlock(&s->pool_lock);
}

/* ---- the request pipeline ------------------------------------------------------------ */

static bool sleep_cancellable(pms_session *s, long ms)
{
    pms_instant until = pms_now() + ms;
    for (;;) {
        if (pms_session_cancelled(s))
            return false;
        pms_instant now = pms_now();
        if (now >= until)
            return true;
        long slice = (long)(until - now);
        if (slice > 200)
            slice = 200;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static long backoff_ms(pms_session *s, int retry)
{
    pthread_mutex_lock(&s->rng_lock);
    long ms = pms_retry_backoff_ms(&s->retry, retry, &s->rng);
    pthread_mutex_unlock(&s->rng_lock);
    return ms;
}

static int acquire_tokens(pms_session *s, pms_error *err)
{
    int rc = PMS_OK;
    if (s->pms_bucket)
        rc = pms_ratelimit_acquire(s->pms_bucket, s->cancel, err);
    if (rc == PMS_OK && s->conn_bucket)
        rc = pms_ratelimit_acquire(s->conn_bucket, s->cancel, err);
    return rc;
}

/* A server that advertises its rate window (X-Rate-Limit-Remaining and -Reset, seconds until
 * the window ends): how long to wait when nothing remains, else -1. */
static long advertised_reset_ms(const pms_http_response *resp)
{
    const char *remaining = pms_http_response_header(resp, "x-rate-limit-remaining");
    const char *reset = pms_http_response_header(resp, "x-rate-limit-reset");
    if (remaining == NULL || reset == NULL)
        return -1;
    char *end;
    long left = strtol(remaining, &end, 10);
    if (end == remaining || left > 0)
        return -1;
    long seconds = strtol(reset, &end, 10);
    if (end == reset || seconds < 0 || seconds > 3600)
        return -1;
    return seconds * 1000;
}

static pms_status status_code_for(long http_status)
{
    if (http_status == 401 || http_status == 403)
        return PMS_ERR_AUTH;
    if (http_status == 404)
        return PMS_ERR_NOT_FOUND;
    if (http_status == 429)
        return PMS_ERR_RATE_LIMITED;
    if (http_status == 409)
        return PMS_ERR_CONFLICT;
    return PMS_ERR_UPSTREAM;
}

static void describe_failure(pms_session *s, const pms_http_response *resp, pms_error *err)
{
    if (err == NULL)
        return;
    pms_error_clear(err);
    if (s->ops->describe_error)
        s->ops->describe_error(resp, err);
    if (err->message[0] == '\0')
        snprintf(err->message, sizeof err->message, "%s answered HTTP %ld", s->ops->display_name,
                 resp->status);
    err->code = status_code_for(resp->status);
    err->http_status = (int)resp->status;
}

int pms_session_call(pms_session *s, pms_http_client *client, const pms_http_request *req,
                     unsigned flags, pms_http_response *resp_out, json_t **json, pms_error *err)
{
    pms_http_client *own = NULL;
    if (client == NULL) {
        own = client_acquire(s, err);
        if (own == NULL)
            return err ? (int)err->code : PMS_ERR_NOMEM;
        client = own;
    }
    if (json)
        *json = NULL;
    pms_http_response resp = {0};
    char *bearer = NULL;
    bool reauthenticated = false;
    int attempt = 0;
    int rc;

    for (;;) {
        pms_http_response_clear(&resp);
        free(bearer);
        bearer = NULL;
        if (pms_session_cancelled(s)) {
            rc = pms_error_set(err, PMS_ERR_CANCELLED, "stopped on request");
            break;
        }
        if ((rc = acquire_tokens(s, err)) != PMS_OK)
            break;
        if ((flags & PMS_CALL_AUTH) && (rc = pms_token_get(s->tokens, &bearer, err)) != PMS_OK)
            break;
        pms_http_request r = *req;
        if (bearer) {
            r.bearer = bearer;
            r.bearer_scheme = s->auth_scheme;
            r.bearer_header = s->auth_header;
        }
        attempt++;
        if (attempt > 1)
            atomic_fetch_add(&s->retries, 1);
        atomic_fetch_add(&s->requests, 1);

        pms_error transport;
        rc = pms_http_perform(client, &r, &resp, &transport);
        if (rc != PMS_OK) {
            if (rc == PMS_ERR_TRANSPORT && attempt < s->retry.max_attempts) {
                pms_log(PMS_LOG_DEBUG, "http.retry", "connection", s->connection_id, "reason",
                        transport.message, NULL);
                if (!sleep_cancellable(s, backoff_ms(s, attempt))) {
                    rc = pms_error_set(err, PMS_ERR_CANCELLED, "stopped on request");
                    break;
                }
                continue;
            }
            if (err)
                *err = transport;
            break;
        }

        long status = resp.status;
        bool token_rejected =
            status == 401 || (s->ops->token_expired && s->ops->token_expired(&resp));
        if ((flags & PMS_CALL_AUTH) && token_rejected && !reauthenticated) {
            /* Mint once more and repeat once; this does not use up an attempt. */
            pms_token_invalidate(s->tokens, bearer);
            reauthenticated = true;
            attempt--;
            continue;
        }

        long retry_after = -1;
        const char *ra_header = pms_http_response_header(&resp, "retry-after");
        long parsed_ra;
        if (ra_header && pms_retry_after_ms(ra_header, pms_now(), &parsed_ra))
            retry_after = parsed_ra;
        long window_reset = advertised_reset_ms(&resp);
        if (retry_after < 0 && status == 429 && window_reset >= 0)
            retry_after = window_reset;
        if (window_reset > 0 && status != 429 && s->conn_bucket)
            pms_ratelimit_pause_until(s->conn_bucket, pms_now() + window_reset);
        if (status == 429) {
            atomic_fetch_add(&s->throttled, 1);
            /* Parallel workers stop together; a wait beyond what we accept fails this call
             * instead, and does not stall the session's later calls. */
            if (retry_after > 0 && retry_after <= s->retry.max_retry_after_ms && s->conn_bucket)
                pms_ratelimit_pause_until(s->conn_bucket, pms_now() + retry_after);
        }

        if (status >= 200 && status < 300) {
            if (!(flags & PMS_CALL_JSON) || json == NULL || status == 204 || resp.body_len == 0) {
                rc = PMS_OK;
                break;
            }
            json_error_t jerr;
            *json = json_loadb(resp.body, resp.body_len, JSON_REJECT_DUPLICATES, &jerr);
            if (*json != NULL) {
                rc = PMS_OK;
                break;
            }
            /* A 2xx body that is not JSON is a damaged transfer: retry it like one. */
            if (attempt < s->retry.max_attempts) {
                if (!sleep_cancellable(s, backoff_ms(s, attempt))) {
                    rc = pms_error_set(err, PMS_ERR_CANCELLED, "stopped on request");
                    break;
                }
                continue;
            }
            rc = pms_error_set(err, PMS_ERR_PARSE, "%s sent a response that is not valid JSON",
                               s->ops->display_name);
            if (err)
                err->http_status = (int)status;
            break;
        }

        if (pms_retry_status_retryable(status) && attempt < s->retry.max_attempts &&
            retry_after <= s->retry.max_retry_after_ms) {
            long delay = backoff_ms(s, attempt);
            if (retry_after > delay)
                delay = retry_after;
            pms_log(PMS_LOG_DEBUG, "http.retry", "connection", s->connection_id, "reason",
                    status == 429 ? "rate limited" : "server error", NULL);
            if (!sleep_cancellable(s, delay)) {
                rc = pms_error_set(err, PMS_ERR_CANCELLED, "stopped on request");
                break;
            }
            continue;
        }
        describe_failure(s, &resp, err);
        rc = status_code_for(status);
        break;
    }
    if (rc != PMS_OK && rc != PMS_ERR_CANCELLED)
        atomic_fetch_add(&s->failures, 1);
    if (bearer) {
        memset(bearer, 0, strlen(bearer));
        free(bearer);
    }
    if (resp_out)
        *resp_out = resp;
    else
        pms_http_response_clear(&resp);
    client_release(s, own);
    return rc;
}

int pms_session_get_json(pms_session *s, pms_http_client *client, const char *url, json_t **json,
                         pms_error *err)
{
    static const pms_http_header accept = {"Accept", "application/json"};
    pms_http_request req = {.method = "GET", .url = url, .headers = &accept, .header_count = 1};
    return pms_session_call(s, client, &req, PMS_CALL_AUTH | PMS_CALL_JSON, NULL, json, err);
}

/* ---- tokens -------------------------------------------------------------------------- */

static int mint_token(void *ctx, const char *refresh_token, pms_auth_result *out, pms_error *err)
{
    pms_session *s = ctx;
    if (refresh_token && s->ops->refresh) {
        if (s->ops->refresh(s, refresh_token, out, err) == PMS_OK)
            return PMS_OK;
        pms_auth_result_clear(out);
        pms_log(PMS_LOG_INFO, "auth.refresh_failed", "connection", s->connection_id, NULL);
    }
    return pms_adapter_authenticate(s, out, err);
}

static void token_saved(void *ctx, const pms_auth_result *token)
{
    pms_session *s = ctx;
    if (s->token_saved)
        s->token_saved(s->token_saved_ctx, token);
}

/* ---- parallel tasks ------------------------------------------------------------------ */

typedef struct parallel_run {
    pms_session *s;
    size_t count;
    atomic_size_t next;
    pms_session_task_fn task;
    void *ctx;
    pthread_mutex_t lock;
    size_t failed;
    bool have_error;
    pms_error first_error;
} parallel_run;

static void record_failure(parallel_run *run, const pms_error *e)
{
    pthread_mutex_lock(&run->lock);
    run->failed++;
    if (!run->have_error) {
        run->first_error = *e;
        run->have_error = true;
    }
    pthread_mutex_unlock(&run->lock);
}

static void *parallel_worker(void *arg)
{
    parallel_run *run = arg;
    pms_error e = {0};
    pms_http_client *c = client_acquire(run->s, &e);
    for (;;) {
        size_t i = atomic_fetch_add(&run->next, 1);
        if (i >= run->count)
            break;
        if (c == NULL) {
            record_failure(run, &e);
            continue;
        }
        if (pms_session_cancelled(run->s)) {
            pms_error_set(&e, PMS_ERR_CANCELLED, "stopped on request");
            record_failure(run, &e);
            continue;
        }
        pms_error_clear(&e);
        if (run->task(run->s, c, i, run->ctx, &e) != PMS_OK) {
            if (e.code == PMS_OK)
                e.code = PMS_ERR_UPSTREAM;
            record_failure(run, &e);
        }
    }
    client_release(run->s, c);
    return NULL;
}

size_t pms_session_parallel(pms_session *s, size_t count, int concurrency, pms_session_task_fn task,
                            void *ctx, pms_error *first_err)
{
    if (count == 0)
        return 0;
    parallel_run run = {.s = s, .count = count, .task = task, .ctx = ctx};
    atomic_init(&run.next, 0);
    pthread_mutex_init(&run.lock, NULL);
    size_t threads = concurrency < 1 ? 1 : (size_t)concurrency;
    if (threads > count)
        threads = count;
    pthread_t *ids = calloc(threads, sizeof *ids);
    size_t started = 0;
    if (ids != NULL && threads > 1) {
        for (; started < threads; started++)
            if (pthread_create(&ids[started], NULL, parallel_worker, &run) != 0)
                break;
    }
    if (started == 0)
        parallel_worker(&run); /* one thread, or threads unavailable: run inline */
    for (size_t i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
    free(ids);
    pthread_mutex_destroy(&run.lock);
    if (run.have_error && first_err)
        *first_err = run.first_error;
    return run.failed;
}

int pms_session_emit(pms_session *s, const pms_batch_sink *sink, pms_appointment *items,
                     size_t count, pms_error *err)
{
    if (sink == NULL || sink->batch == NULL || count == 0)
        return PMS_OK;
    pthread_mutex_lock(&s->emit_lock);
    int rc = sink->batch(sink->ctx, items, count, err);
    pthread_mutex_unlock(&s->emit_lock);
    return rc;
}

void pms_session_emit_invalid(pms_session *s, const pms_batch_sink *sink, const char *id,
                              const char *reason)
{
    if (sink == NULL || sink->invalid == NULL)
        return;
    pthread_mutex_lock(&s->emit_lock);
    sink->invalid(sink->ctx, id, reason);
    pthread_mutex_unlock(&s->emit_lock);
}

void pms_session_emit_skipped(pms_session *s, const pms_batch_sink *sink, const char *id,
                              const char *reason)
{
    if (sink == NULL || sink->skipped == NULL)
        return;
    pthread_mutex_lock(&s->emit_lock);
    sink->skipped(sink->ctx, id, reason);
    pthread_mutex_unlock(&s->emit_lock);
}

/* ---- open / close -------------------------------------------------------------------- */

static int copy_appt_types(pms_appt_type_list *dst, const pms_appt_type_list *src)
{
    if (src == NULL)
        return PMS_OK;
    for (size_t i = 0; i < src->count; i++) {
        pms_appt_type *t = pms_appt_type_list_push(dst);
        if (t == NULL)
            return PMS_ERR_NOMEM;
        const pms_appt_type *from = &src->items[i];
        *t = *from;
        t->id = pms_strdup_or_null(from->id);
        t->name = pms_strdup_or_null(from->name);
        t->colour = pms_strdup_or_null(from->colour);
        if ((from->id && !t->id) || (from->name && !t->name) || (from->colour && !t->colour))
            return PMS_ERR_NOMEM;
    }
    return PMS_OK;
}

int pms_session_set_appt_types(pms_session *s, const pms_appt_type_list *types,
                               const char *const *telehealth_type_ids, size_t telehealth_count,
                               pms_error *err)
{
    pms_appt_type_list copy = {0};
    char **ids = calloc(telehealth_count + 1, sizeof *ids);
    if (ids == NULL || copy_appt_types(&copy, types) != PMS_OK)
        goto nomem;
    for (size_t i = 0; i < telehealth_count; i++)
        if ((ids[i] = strdup(telehealth_type_ids[i])) == NULL)
            goto nomem;
    pms_appt_type_list_clear(&s->appt_types);
    s->appt_types = copy;
    for (size_t i = 0; i < s->telehealth_type_count; i++)
        free(s->telehealth_types[i]);
    free(s->telehealth_types);
    s->telehealth_types = ids;
    s->telehealth_type_count = telehealth_count;
    return PMS_OK;
nomem:
    for (size_t i = 0; ids && i < telehealth_count; i++)
        free(ids[i]);
    free(ids);
    pms_appt_type_list_clear(&copy);
    return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}

int pms_session_open(const pms_adapter_ops *ops, const pms_session_config *cfg, pms_session **out,
                     pms_error *err)
{
    int rc = pms_http_global_init(err);
    if (rc)
        return rc;
    pms_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    s->ops = ops;
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_mutex_init(&s->emit_lock, NULL);
    pthread_mutex_init(&s->rng_lock, NULL);
    s->rng = (uint64_t)pms_now() ^ (uint64_t)(uintptr_t)s;
    s->cancel = cfg->cancel;
    s->http = cfg->http;
    s->token_saved = cfg->token_saved;
    s->token_saved_ctx = cfg->token_saved_ctx;

    const char *tz_name = cfg->timezone ? cfg->timezone : DEFAULT_TIMEZONE;
    const char *base_url = cfg->base_url ? cfg->base_url : ops->default_base_url;
    s->connection_id = pms_strdup_or_null(cfg->connection_id ? cfg->connection_id : "-");
    s->base_url = pms_strdup_or_null(base_url ? base_url : "");
    s->tz_name = pms_strdup_or_null(tz_name);
    s->external_id = pms_strdup_or_null(cfg->external_id);
    s->settings = cfg->settings ? json_deep_copy(cfg->settings) : json_object();
    if (!s->connection_id || !s->base_url || !s->tz_name || !s->settings ||
        (cfg->external_id && !s->external_id)) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = pms_tz_get(tz_name, &s->tz, err)) != PMS_OK)
        goto fail;

    s->retry = pms_retry_policy_default();
    if (cfg->retry.max_attempts > 0)
        s->retry.max_attempts = cfg->retry.max_attempts;
    if (cfg->retry.base_ms > 0)
        s->retry.base_ms = cfg->retry.base_ms;
    if (cfg->retry.cap_ms > 0)
        s->retry.cap_ms = cfg->retry.cap_ms;
    if (cfg->retry.max_retry_after_ms > 0)
        s->retry.max_retry_after_ms = cfg->retry.max_retry_after_ms;

    pms_rate_limits conn_limits = cfg->connection_limits;
    if (conn_limits.per_minute == 0)
        conn_limits.per_minute = ops->default_per_minute;
    if (conn_limits.per_hour == 0)
        conn_limits.per_hour = ops->default_per_hour;
    char bucket_name[160];
    if (conn_limits.per_minute > 0 || conn_limits.per_hour > 0) {
        snprintf(bucket_name, sizeof bucket_name, "%s/%s", ops->name, s->connection_id);
        s->conn_bucket = pms_ratelimit_bucket(bucket_name, conn_limits);
    }
    if (cfg->pms_limits.per_minute > 0 || cfg->pms_limits.per_hour > 0)
        s->pms_bucket = pms_ratelimit_bucket(ops->name, cfg->pms_limits);

    for (size_t i = 0; i < cfg->telehealth_type_count; i++) {
        char **grown = realloc(s->telehealth_types, (s->telehealth_type_count + 1) * sizeof *grown);
        if (grown == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto fail;
        }
        s->telehealth_types = grown;
        if ((grown[s->telehealth_type_count] = strdup(cfg->telehealth_type_ids[i])) == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto fail;
        }
        s->telehealth_type_count++;
    }
    if (copy_appt_types(&s->appt_types, cfg->appointment_types) != PMS_OK) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto fail;
    }

    if ((rc = pms_token_cache_new(TOKEN_REFRESH_MARGIN_MS, mint_token, token_saved, s, &s->tokens,
                                  err)) != PMS_OK)
        goto fail;
    if (cfg->saved_token && cfg->saved_token->access_token &&
        (rc = pms_token_cache_seed(s->tokens, cfg->saved_token, err)) != PMS_OK)
        goto fail;

    if (ops->state_size > 0 && (s->state = calloc(1, ops->state_size)) == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (ops->session_init && (rc = ops->session_init(s, err)) != PMS_OK) {
        free(s->state);
        s->state = NULL;
        goto fail;
    }
    *out = s;
    return PMS_OK;
fail:
    pms_session_close(s);
    return rc;
}

void pms_session_close(pms_session *s)
{
    if (s == NULL)
        return;
    if (s->state && s->ops->session_cleanup)
        s->ops->session_cleanup(s);
    free(s->state);
    for (size_t i = 0; i < s->idle_count; i++)
        pms_http_client_free(s->idle[i]);
    free(s->idle);
    pms_token_cache_free(s->tokens);
    for (size_t i = 0; i < s->telehealth_type_count; i++)
        free(s->telehealth_types[i]);
    free(s->telehealth_types);
    pms_appt_type_list_clear(&s->appt_types);
    /* Settings hold decrypted secrets: wipe string values before freeing. */
    if (s->settings) {
        const char *key;
        json_t *value;
        json_object_foreach(s->settings, key, value)
        {
            if (json_is_string(value))
                memset((char *)json_string_value(value), 0, json_string_length(value));
        }
        json_decref(s->settings);
    }
    free(s->connection_id);
    free(s->base_url);
    free(s->tz_name);
    free(s->external_id);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_mutex_destroy(&s->emit_lock);
    pthread_mutex_destroy(&s->rng_lock);
    free(s);
}
