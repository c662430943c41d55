/* Request accessors and response helpers. */
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/http.h"

const char *pmsd_header(const pmsd_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *pmsd_query(const pmsd_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void pmsd_respond_json(pmsd_response *resp, int status, json_t *body)
{
    json_decref(resp->json);
    resp->json = body;
    resp->status = status;
}

void pmsd_respond_error(pmsd_response *resp, int status, const char *code, const char *field,
                        const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    json_t *error = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (error && field)
        json_object_set_new(error, "field", json_string(field));
    pmsd_respond_json(resp, status, json_pack("{s:o}", "error", error ? error : json_object()));
    resp->error_code = code;
}

json_t *pmsd_pms_failure_json(const pms_error *err)
{
    return json_pack("{s:s, s:o}", "kind", pms_status_name(err->code), "httpStatus",
                     err->http_status > 0 ? json_integer(err->http_status) : json_null());
}

void pmsd_respond_pms_error(pmsd_response *resp, const pms_error *err)
{
    int status = 500;
    const char *code = "internal_error";
    switch (err->code) {
    case PMS_ERR_INVALID:
        status = 400;
        code = "invalid_request";
        break;
    case PMS_ERR_NOT_FOUND:
        status = 404;
        code = "not_found";
        break;
    case PMS_ERR_CONFLICT:
        status = 409;
        code = "conflict";
        break;
    case PMS_ERR_NOT_SUPPORTED: /* this connection's PMS does not offer it */
        status = 409;
        code = "not_supported";
        break;
    case PMS_ERR_AUTH:
    case PMS_ERR_UPSTREAM:
    case PMS_ERR_TRANSPORT:
    case PMS_ERR_HTTP:
    case PMS_ERR_PARSE:
    case PMS_ERR_RATE_LIMITED:
        status = 502; /* the PMS failed us, not the caller */
        code = "pms_error";
        break;
    case PMS_ERR_CONFIG:
        status = 409;
        code = "not_configured";
        break;
    case PMS_ERR_CANCELLED:
        status = 503;
        code = "shutting_down";
        break;
    default:
        break;
    }
    pmsd_respond_error(resp, status, code, err->field[0] ? err->field : NULL, "%s",
                       err->message[0] ? err->message : pms_status_name(err->code));
    /* What the PMS did, so a client can say what to do: a failure of the PMS or of the
     * connection's configuration, or any error that came from an HTTP exchange with it. */
    if (status == 502 || err->code == PMS_ERR_CONFIG || err->http_status > 0)
        json_object_set_new(json_object_get(resp->json, "error"), "pms",
                            pmsd_pms_failure_json(err));
}

void pmsd_respond_text(pmsd_response *resp, int status, const char *content_type, char *text,
                       size_t len)
{
    free(resp->text);
    resp->text = text;
    resp->text_len = len;
    resp->content_type = content_type;
    resp->status = status;
}

void pmsd_respond_header(pmsd_response *resp, const char *name, const char *value)
{
    if (resp->header_count == PMSD_MAX_HEADERS)
        return;
    char *n = strdup(name), *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return;
    }
    resp->header_names[resp->header_count] = n;
    resp->header_values[resp->header_count] = v;
    resp->header_count++;
}

void pmsd_response_clear(pmsd_response *resp)
{
    json_decref(resp->json);
    free(resp->text);
    for (size_t i = 0; i < resp->header_count; i++) {
        free(resp->header_names[i]);
        free(resp->header_values[i]);
    }
    memset(resp, 0, sizeof *resp);
}

json_t *pmsd_json_body(pmsd_request *req, pmsd_response *resp)
{
    const char *type = pmsd_header(req, "Content-Type");
    if (type == NULL || strncasecmp(type, "application/json", 16) != 0) {
        pmsd_respond_error(resp, 415, "unsupported_media_type", NULL,
                           "send the body as JSON (Content-Type: application/json)");
        return NULL;
    }
    return pmsd_json_parse(req->body, req->body_len, resp);
}

json_t *pmsd_json_parse(const char *text, size_t len, pmsd_response *resp)
{
    if (text == NULL || len == 0) {
        pmsd_respond_error(resp, 400, "invalid_request", NULL, "a JSON object is required");
        return NULL;
    }
    json_error_t jerr;
    json_t *body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        pmsd_respond_error(resp, 400, "invalid_json", NULL,
                           "the body is not valid JSON (line %d, column %d: %.80s)", jerr.line,
                           jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        pmsd_respond_error(resp, 400, "invalid_request", NULL, "the body must be a JSON object");
        return NULL;
    }
    return body;
}

bool pmsd_allowed(const pmsd_request *req, unsigned roles, pmsd_response *resp)
{
    unsigned mine = strcmp(req->principal.role, "admin") == 0   ? PMSD_ADMIN
                    : strcmp(req->principal.role, "staff") == 0 ? PMSD_STAFF
                    : strcmp(req->principal.role, "agent") == 0 ? PMSD_AGENT
                                                                : 0;
    if (mine & roles)
        return true;
    pmsd_respond_error(resp, 403, "forbidden", NULL, "this key's role (%s) may not do this",
                       req->principal.role[0] ? req->principal.role : "none");
    return false;
}
