/* Error codes and the caller-owned error detail every fallible function fills.
 *
 * Convention: a function that can fail returns an int (PMS_OK == 0 on success, a pms_status
 * otherwise) and takes a `pms_error *err` as its last parameter, which may be NULL. Messages are
 * for people and logs: they never contain patient data (names, phones, emails, birth dates, notes).
 */
#ifndef PMSYNC_ERROR_H
#define PMSYNC_ERROR_H

#include <stddef.h>

typedef enum pms_status {
    PMS_OK = 0,
    PMS_ERR_INVALID,       /* bad argument, setting or request */
    PMS_ERR_NOMEM,         /* allocation failed */
    PMS_ERR_NOT_FOUND,     /* no such record or resource */
    PMS_ERR_NOT_SUPPORTED, /* the PMS (adapter) or backend does not offer this operation */
    PMS_ERR_IO,            /* file or system call failed */
    PMS_ERR_PARSE,         /* malformed data from outside (payload, file, date) */
    PMS_ERR_TRANSPORT,     /* network failure: connect, reset, timeout, truncated body */
    PMS_ERR_HTTP,          /* an HTTP status the caller did not expect */
    PMS_ERR_AUTH,          /* credentials rejected or missing */
    PMS_ERR_RATE_LIMITED,  /* the PMS kept answering 429 */
    PMS_ERR_UPSTREAM,      /* the PMS answered with an error envelope */
    PMS_ERR_STORE,         /* database failure */
    PMS_ERR_CONFLICT,      /* already exists, busy or locked by another worker */
    PMS_ERR_CRYPTO,        /* encryption, decryption or key failure */
    PMS_ERR_CANCELLED,     /* stopped on request (shutdown) */
    PMS_ERR_CONFIG,        /* missing or invalid configuration */
} pms_status;

typedef struct pms_error {
    pms_status code;
    int http_status;   /* HTTP status when the error came from an HTTP exchange, else 0 */
    char message[256]; /* one line, for people; never patient data */
    char detail[512];  /* optional extra context (PMS error code) */
    char field[96];    /* PMS_ERR_INVALID: the input at fault as an API field path
                          ("settings.client_id"), when known */
} pms_error;

/* Fills *err (when err is not NULL) and returns code, so callers can `return pms_error_set(...)`.
 */
int pms_error_set(pms_error *err, pms_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the detail line of an already-set error. */
void pms_error_detail(pms_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Names the input field an already-set error is about. Returns err->code. */
int pms_error_field(pms_error *err, const char *field);
void pms_error_clear(pms_error *err);
/* Adds context in front of the message: "while X: <message>". */
void pms_error_prefix(pms_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stable short name of a status ("invalid", "transport", ...), for JSON and logs. */
const char *pms_status_name(pms_status code);

#endif
