/* Helpers the adapters share for write-back: sending a JSON body and telling an answer about the
 * request (a 4xx the PMS means for the caller: taken, in the past, not found, refused) from a
 * failure to ask (network, auth, rate limit, server errors), and filling pms_write_result.
 * Internal to src/adapters/. Thread safety: as pms_session_call. */
#ifndef PMSYNC_ADAPTERS_WRITE_H
#define PMSYNC_ADAPTERS_WRITE_H

#include <jansson.h>

#include "pmsync/adapter.h"
#include "pmsync/session.h"

/* What the PMS answered to a write. */
typedef struct pms_write_answer {
    long status;       /* HTTP status */
    json_t *json;      /* the body when it was JSON (2xx or refusal), else NULL; owned */
    char *location;    /* the Location header when sent; owned */
    char message[256]; /* a refusal: the adapter's description of it (no patient data) */
} pms_write_answer;
void pms_write_answer_clear(pms_write_answer *a);

/* Sends `body` (borrowed; NULL: none) with `content_type` (NULL: application/json) to url with
 * the session's token. PMS_OK for a 2xx and for a refusal (400, 404, 405, 409, 410, 412, 422):
 * answer->status tells which. Any other outcome is an error (err filled): the PMS could not be
 * asked. */
int pms_write_send(pms_session *s, const char *method, const char *url, const json_t *body,
                   const char *content_type, pms_write_answer *answer, pms_error *err);
/* pms_write_send taking url and body (both freed here). A NULL url means its maker failed: err's
 * code is returned when it filled err, else out of memory; so is a NULL body. */
int pms_write_send_owned(pms_session *s, const char *method, char *url, json_t *body,
                         pms_write_answer *answer, pms_error *err);
/* The id a create answered ({"id"} in a 2xx), copied into *out. A refusal, or a 2xx without an
 * id, is an error naming the PMS and what was created ("the new patient"). */
int pms_write_created_id(const pms_write_answer *a, const char *pms, const char *what, char **out,
                         pms_error *err);
/* A 2xx answer. */
bool pms_write_ok(const pms_write_answer *a);

/* out: failed with a reason a person can hear (printf format). Returns PMS_OK. */
int pms_write_failed(pms_write_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* out: confirmed, with the appointment's id (copied; may be NULL). */
int pms_write_confirmed(pms_write_result *out, const char *appointment_id, pms_error *err);
/* The reason for a refusal the adapter has no better words for: by HTTP status. */
int pms_write_refused(pms_write_result *out, const pms_write_answer *a, const char *what);

/* A URL: base + printf path with each %s argument URL-encoded by the caller. Caller frees. */
char *pms_write_url(pms_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An instant as ISO 8601 with the practice zone's offset at that instant ("…T09:30:00+11:00";
 * with_millis: "…T09:30:00.000+11:00"). */
void pms_write_format_local(pms_session *s, pms_instant t, bool with_millis,
                            char buf[PMS_TIME_BUFLEN]);

#endif
