/* pmsd's HTTP layer: requests, responses, routes. Internal to src/server/.
 *
 * A handler gets a parsed request (path parameters, query, headers, body, the caller's principal)
 * and fills a response. Errors share one body shape:
 *   {"error": {"code": "invalid_request", "message": "...", "field": "settings.client_id"}}
 * and a PMS's failure adds what the PMS did:
 *   {"error": {"code": "pms_error", "message": "...", "pms": {"kind": "auth", "httpStatus": 401}}}
 * The server adds the access log line, metrics, and refuses work while shutting down.
 */
#ifndef PMSD_HTTP_H
#define PMSD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pmsync/error.h"
#include "pmsync/time.h"

struct MHD_Connection;
typedef struct pmsd_app pmsd_app;
typedef struct pmsd_sse_stream pmsd_sse_stream;

#define PMSD_MAX_PARAMS 4

/* Who is calling: an API key in a header, or a browser session's cookie (signed in with an API
 * key or as a user). */
typedef struct pmsd_principal {
    bool authenticated;
    char account_id[64];
    char key_id[64];  /* the API key, directly or behind the session; "" for a user */
    char user_id[64]; /* the user of a session; "" otherwise */
    char actor[72];   /* who audit records name: the key id, or "user:<id>" */
    char role[16];    /* "admin", "staff", "agent" */
    char name[128];   /* the key's name or the username */
    bool via_cookie;  /* authenticated by the session cookie */
    char session_id[65];
    char csrf_token[48];
    pms_instant session_expires_at;
} pmsd_principal;

/* Which callers a route admits. */
typedef enum pmsd_access {
    PMSD_PUBLIC = 0,
    PMSD_ADMIN = 1 << 0,
    PMSD_STAFF = 1 << 1,
    PMSD_AGENT = 1 << 2,
} pmsd_access;

typedef struct pmsd_route pmsd_route;

typedef struct pmsd_request {
    pmsd_app *app;
    const pmsd_route *route;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *body; /* NUL-terminated; NULL when none */
    size_t body_len;
    const char *params[PMSD_MAX_PARAMS]; /* path parameters, in the pattern's order */
    size_t param_count;
    char client_addr[64];
    pmsd_principal principal;
    pms_instant started;
} pmsd_request;

#define PMSD_MAX_HEADERS 8

typedef struct pmsd_response {
    int status;
    json_t *json; /* owned; serialised when set */
    char *text;   /* owned; sent as is when json is NULL */
    size_t text_len;
    const char *content_type; /* static string */
    char *header_names[PMSD_MAX_HEADERS];
    char *header_values[PMSD_MAX_HEADERS];
    size_t header_count;
    pmsd_sse_stream *stream;   /* an event stream instead of a body */
    const char *error_code;    /* for the access log: the error's code, when one */
    const char *cache_control; /* static string; NULL: no-store */
} pmsd_response;

typedef void (*pmsd_handler)(pmsd_request *req, pmsd_response *resp);

struct pmsd_route {
    const char *method;
    const char *pattern; /* "/api/pms/connections/{id}/sync" */
    pmsd_handler handler;
    unsigned access; /* PMSD_PUBLIC, or a mask of roles */
    const char *summary;
};

/* The route table (routes.c) and lookup. */
extern const pmsd_route pmsd_routes[];
extern const size_t pmsd_route_count;
/* Matches method + path; fills params. NULL with *method_mismatch when the path exists for other
 * methods (405) and *allow (a static buffer of methods). */
const pmsd_route *pmsd_route_match(const char *method, const char *path, const char **params,
                                   size_t *param_count, char params_buf[][128],
                                   bool *method_mismatch, char *allow, size_t allow_len);

/* Request accessors (borrowed strings, valid during the handler). */
const char *pmsd_header(const pmsd_request *req, const char *name);
const char *pmsd_query(const pmsd_request *req, const char *name);

/* Responses. */
void pmsd_respond_json(pmsd_response *resp, int status, json_t *body /* stolen */);
void pmsd_respond_error(pmsd_response *resp, int status, const char *code, const char *field,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A library error mapped to an HTTP status and code (404 not found, 409 conflict, 502 for a PMS
 * that failed, 400 invalid, 500 otherwise). */
void pmsd_respond_pms_error(pmsd_response *resp, const pms_error *err);
/* {"kind": pms_status_name(code), "httpStatus": the PMS's HTTP status or null}: the "pms" member
 * of the error of a PMS failure (pms_error, not_configured, or any error from an HTTP exchange
 * with the PMS). New reference. */
json_t *pmsd_pms_failure_json(const pms_error *err);
void pmsd_respond_text(pmsd_response *resp, int status, const char *content_type, char *text,
                       size_t len /* text stolen */);
void pmsd_respond_header(pmsd_response *resp, const char *name, const char *value);
void pmsd_response_clear(pmsd_response *resp);

/* The request body as a JSON object; on failure a 400 (or 415 for a wrong content type) is
 * already in resp and NULL returned. New reference. */
json_t *pmsd_json_body(pmsd_request *req, pmsd_response *resp);
/* The same for a body already taken from a request (no Content-Type check). */
json_t *pmsd_json_parse(const char *text, size_t len, pmsd_response *resp);

/* The caller may do this (role in the route's mask); 403 in resp otherwise. */
bool pmsd_allowed(const pmsd_request *req, unsigned roles, pmsd_response *resp);

#endif
