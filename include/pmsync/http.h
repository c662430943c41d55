/* HTTP client on libcurl: one pms_http_client per thread (a CURL easy handle with its own
 * connection cache). TLS verification is always on; connect and total timeouts, a User-Agent
 * and gzip/deflate are set on every request; redirects are not followed.
 *
 * This layer only moves bytes: any HTTP status is a successful exchange here. Retry, rate
 * limiting and tokens are the session pipeline's job (session.h).
 */
#ifndef PMSYNC_HTTP_H
#define PMSYNC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "pmsync/error.h"

#define PMS_USER_AGENT "pmsync/0.1.0"

typedef struct pms_http_options {
    long connect_timeout_ms; /* default 10 s */
    long total_timeout_ms;   /* default 60 s */
    const char *user_agent;  /* default PMS_USER_AGENT */
    const char *ca_file;     /* extra CA bundle (tests of private PMS hosts); NULL: system */
    size_t max_body_bytes;   /* response cap, default 64 MiB */
} pms_http_options;

typedef struct pms_http_client pms_http_client;

/* Once per process, before threads start (also done lazily, thread-safely). */
int pms_http_global_init(pms_error *err);

int pms_http_client_new(const pms_http_options *opts, pms_http_client **out, pms_error *err);
void pms_http_client_free(pms_http_client *c);

typedef struct pms_http_header {
    const char *name;
    const char *value;
} pms_http_header;

typedef struct pms_http_request {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *url;
    const pms_http_header *headers;
    size_t header_count;
    const char *body; /* may be NULL */
    size_t body_len;
    const char *basic_user; /* HTTP Basic when both set */
    const char *basic_password;
    const char *bearer;        /* Authorization: <bearer_scheme> <bearer> when set */
    const char *bearer_scheme; /* NULL: "Bearer"; "": the token alone (no scheme) */
    const char *bearer_header; /* NULL: Authorization; else "<name>: <token>" (Sikka's
                                  Request-Key), without a scheme */
} pms_http_request;

typedef struct pms_http_response {
    long status;
    char *body; /* NUL-terminated, owned */
    size_t body_len;
    char **header_names; /* lower-case, owned */
    char **header_values;
    size_t header_count;
    long elapsed_ms;
} pms_http_response;

/* Performs one exchange. Network failures, timeouts, a truncated body or an oversize body give
 * PMS_ERR_TRANSPORT; *resp is then empty. */
int pms_http_perform(pms_http_client *c, const pms_http_request *req, pms_http_response *resp,
                     pms_error *err);
void pms_http_response_clear(pms_http_response *resp);
/* Last value of a header (name case-insensitive), borrowed; NULL when absent. */
const char *pms_http_response_header(const pms_http_response *resp, const char *name);

/* Percent-encodes a string for a URL path segment or query value (RFC 3986 unreserved kept).
 * Caller frees. */
char *pms_url_encode(const char *s);

#endif
