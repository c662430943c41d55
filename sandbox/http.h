/* The request and response every simulator handler sees, independent of libmicrohttpd.
 *
 * server.c fills an sbx_request (valid for the duration of one handler call) and turns the
 * sbx_response a handler fills into the HTTP answer, after fault injection and latency.
 */
#ifndef SBX_HTTP_H
#define SBX_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pmsync/time.h"

typedef struct sbx_kv {
    const char *key;
    const char *value; /* NULL for a bare "?flag" query argument */
} sbx_kv;

#define SBX_MAX_QUERY   32
#define SBX_MAX_HEADERS 48

typedef struct sbx_request {
    const char *method; /* "GET" */
    const char *path;   /* URL path as received (no query) */
    sbx_kv query[SBX_MAX_QUERY];
    size_t query_count;
    sbx_kv headers[SBX_MAX_HEADERS];
    size_t header_count;
    const char *body; /* NUL-terminated; "" when none */
    size_t body_len;
    const char *base_url; /* "http://127.0.0.1:PORT" */
} sbx_request;

/* First value of a query argument (MHD has decoded %XX and '+'); NULL when absent. */
const char *sbx_query(const sbx_request *req, const char *key);
/* A header value by case-insensitive name; NULL when absent. */
const char *sbx_header(const sbx_request *req, const char *name);
bool sbx_method_is(const sbx_request *req, const char *method);
/* Whether the request's method is one of a ", "-separated list ("GET, POST"). */
bool sbx_method_in(const sbx_request *req, const char *methods);

/* A request path split on '/': "/a/b/" -> {"a","b"}. Segments are copies in buf. */
#define SBX_MAX_SEGMENTS 16
typedef struct sbx_path {
    char buf[512];
    const char *seg[SBX_MAX_SEGMENTS];
    int count; /* -1 when the path was too long or had too many segments */
} sbx_path;
void sbx_path_split(const char *path, sbx_path *out);
bool sbx_seg_is(const sbx_path *p, int i, const char *s);

/* What the log and stats know about a PMS API request, filled by the PMS's router. */
typedef struct sbx_route_info {
    const char *pms;      /* "gentu" */
    const char *endpoint; /* "gentu.appointments" (static) */
    char tenant_id[48];   /* "" when none */
    char practitioner_id[48];
    bool is_token; /* a token endpoint: faults apply only with fault_token */
} sbx_route_info;
/* Copies an id that is safe to log ([A-Za-z0-9._-], up to dst_len-1), else "". */
void sbx_copy_id(char *dst, size_t dst_len, const char *src);

#define SBX_MAX_RESPONSE_HEADERS 6
typedef struct sbx_response {
    int status; /* 0 = no answer yet */
    char *body; /* malloc'd, owned */
    size_t body_len;
    const char *content_type;
    char *header_names[SBX_MAX_RESPONSE_HEADERS];
    char *header_values[SBX_MAX_RESPONSE_HEADERS];
    size_t header_count;
    bool truncatable; /* a successful PMS payload the truncate fault may cut */
} sbx_response;

void sbx_response_init(sbx_response *resp);
void sbx_response_free(sbx_response *resp);
/* Serialises and takes ownership of body (NULL gives 500). Replaces an earlier answer. */
void sbx_respond_json(sbx_response *resp, int status, json_t *body);
/* {"message": message} */
void sbx_respond_message(sbx_response *resp, int status, const char *message);
void sbx_response_header(sbx_response *resp, const char *name, const char *value);
/* 405 {"message":"Method not allowed"} with Allow. */
void sbx_respond_method_not_allowed(sbx_response *resp, const char *allow);

/* Parses a JSON object body; on failure answers 400 {"message":...} and returns NULL. */
json_t *sbx_parse_json_object(const sbx_request *req, sbx_response *resp);

/* HTTP Basic credentials: 1 and id/secret filled, 0 when there is no Basic Authorization
 * header, -1 when it is malformed (not base64, no colon, a NUL inside). */
int sbx_basic_auth(const sbx_request *req, char *id, char *secret, size_t len);

/* Reads one application/x-www-form-urlencoded field (decoded) into out; false when absent. */
bool sbx_form_field(const char *body, const char *key, char *out, size_t out_len);

/* An instant as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void sbx_http_date(pms_instant t, char *buf, size_t len);

#endif
