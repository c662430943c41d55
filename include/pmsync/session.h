/* A session: one connection's adapter at work. It holds the connection's settings (secrets
 * decrypted in memory only), the adapter's private state and the request pipeline every
 * adapter uses:
 *
 *   rate limit (PMS bucket + connection bucket) -> token (when PMS_CALL_AUTH) -> HTTP ->
 *   401 or "token expired": mint once more and repeat once ->
 *   408/429/5xx/transport/unreadable 2xx body: back off (full jitter, Retry-After) and retry.
 *
 * Servers that advertise their window (X-Rate-Limit-Remaining / X-Rate-Limit-Reset, seconds
 * until it ends) are respected: at Remaining 0 the connection's bucket pauses until the reset,
 * and a 429 without Retry-After waits for the reset.
 *
 * Sessions are used by one sync at a time; within it, pms_session_parallel runs tasks on worker
 * threads, each with its own HTTP client, sharing the token, buckets and counters.
 */
#ifndef PMSYNC_SESSION_H
#define PMSYNC_SESSION_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "pmsync/adapter.h"
#include "pmsync/http.h"
#include "pmsync/ratelimit.h"
#include "pmsync/retry.h"
#include "pmsync/token.h"
#include "pmsync/tz.h"

/* Everything a session needs to know about its connection. Strings are copied by
 * pms_session_open; the caller keeps ownership of what it passes. */
typedef struct pms_session_config {
    const char *connection_id;
    const char *base_url;              /* NULL: the adapter's default */
    const char *timezone;              /* IANA; NULL: Australia/Sydney */
    const char *external_id;           /* tenant / practice id once known */
    const json_t *settings;            /* object of string values, secrets included (decrypted) */
    pms_rate_limits connection_limits; /* zeros: the adapter's defaults */
    pms_rate_limits pms_limits;        /* shared by every connection of this PMS; zeros: none */
    pms_retry_policy retry;            /* zeros: defaults */
    pms_http_options http;
    const char *const *telehealth_type_ids; /* types the practice marked as telehealth */
    size_t telehealth_type_count;
    const pms_appt_type_list *appointment_types; /* known types (names, durations); may be NULL */
    const pms_auth_result *saved_token;          /* token kept from an earlier run; may be NULL */
    pms_token_saved_fn token_saved;              /* told about new tokens; may be NULL */
    void *token_saved_ctx;
    const atomic_bool *cancel; /* set to stop (shutdown); may be NULL */
} pms_session_config;

typedef struct pms_session_stats {
    long requests;    /* HTTP exchanges attempted, including token calls and retries */
    long retries;     /* attempts after the first */
    long throttled;   /* 429 answers */
    long token_mints; /* tokens minted */
    long failures;    /* calls that failed after every attempt */
} pms_session_stats;

int pms_session_open(const pms_adapter_ops *ops, const pms_session_config *cfg, pms_session **out,
                     pms_error *err);
void pms_session_close(pms_session *s);

const pms_adapter_ops *pms_session_ops(const pms_session *s);
const char *pms_session_connection_id(const pms_session *s);
const char *pms_session_base_url(const pms_session *s);
const pms_tz *pms_session_tz(const pms_session *s);
const char *pms_session_tz_name(const pms_session *s);
const char *pms_session_external_id(const pms_session *s);
int pms_session_set_external_id(pms_session *s, const char *id, pms_error *err);
/* The scheme before the token in Authorization headers ("Bearer" unless set; "" for the token
 * alone). For adapters' session_init. The string must outlive the session. */
void pms_session_set_auth_scheme(pms_session *s, const char *scheme);
/* The header that carries the token instead of Authorization (Sikka's "Request-Key"), sent
 * without a scheme. For adapters' session_init. The string must outlive the session. */
void pms_session_set_auth_header(pms_session *s, const char *header);
/* A setting's value (borrowed): the connection's, else the adapter's default, else NULL. */
const char *pms_session_setting(const pms_session *s, const char *key);
/* An integer setting within [min, max], else fallback. */
long pms_session_setting_long(const pms_session *s, const char *key, long min, long max,
                              long fallback);
void *pms_session_state(pms_session *s);
bool pms_session_type_is_telehealth(const pms_session *s, const char *type_id);
/* A known appointment type by id (borrowed), or NULL. */
const pms_appt_type *pms_session_appt_type(const pms_session *s, const char *type_id);
/* Replaces the known appointment types and the practice's telehealth choices (after the
 * catalogue was refreshed). Call only while no request of the session is running. */
int pms_session_set_appt_types(pms_session *s, const pms_appt_type_list *types,
                               const char *const *telehealth_type_ids, size_t telehealth_count,
                               pms_error *err);
bool pms_session_cancelled(const pms_session *s);
pms_session_stats pms_session_get_stats(const pms_session *s);

/* Request flags. */
#define PMS_CALL_AUTH 0x1u /* add the session's bearer token (minting when needed) */
#define PMS_CALL_JSON 0x2u /* the 2xx body must be JSON (an unreadable one is retried) */

/* Runs a request through the pipeline. Returns PMS_OK on a 2xx answer (*json set when
 * PMS_CALL_JSON; NULL for an empty body or 204). Otherwise an error described by the adapter,
 * with err->http_status set; *resp (when not NULL) keeps the last answer for inspection.
 * client: the calling thread's client, or NULL for the session's own (main thread only). */
int pms_session_call(pms_session *s, pms_http_client *client, const pms_http_request *req,
                     unsigned flags, pms_http_response *resp, json_t **json, pms_error *err);
/* GET url with the bearer token, expecting JSON. */
int pms_session_get_json(pms_session *s, pms_http_client *client, const char *url, json_t **json,
                         pms_error *err);
/* base URL + path (path starts with '/'). Caller frees. */
char *pms_session_url(const pms_session *s, const char *path);

/* Runs task(i) for i in [0, count) on up to `concurrency` threads, each with its own client.
 * Every task runs even when others fail (unless cancelled). Returns the number of tasks that
 * failed; the first failure's error is copied to *first_err. */
typedef int (*pms_session_task_fn)(pms_session *s, pms_http_client *client, size_t index, void *ctx,
                                   pms_error *err);
size_t pms_session_parallel(pms_session *s, size_t count, int concurrency, pms_session_task_fn task,
                            void *ctx, pms_error *first_err);

/* Hands a batch / an invalid record to the sink, one call at a time across threads. */
int pms_session_emit(pms_session *s, const pms_batch_sink *sink, pms_appointment *items,
                     size_t count, pms_error *err);
void pms_session_emit_invalid(pms_session *s, const pms_batch_sink *sink, const char *id,
                              const char *reason);
void pms_session_emit_skipped(pms_session *s, const pms_batch_sink *sink, const char *id,
                              const char *reason);

#endif
