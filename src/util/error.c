#include "pmsync/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pms_error_set(pms_error *err, pms_status code, const char *fmt, ...)
{
    if (err == NULL)
        return (int)code;
    err->code = code;
    err->http_status = 0;
    err->detail[0] = '\0';
    err->field[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return (int)code;
}

void pms_error_detail(pms_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
}

int pms_error_field(pms_error *err, const char *field)
{
    if (err == NULL)
        return PMS_ERR_INVALID;
    snprintf(err->field, sizeof err->field, "%s", field);
    return (int)err->code;
}

void pms_error_clear(pms_error *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof *err);
}

void pms_error_prefix(pms_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char prefix[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char joined[sizeof err->message];
    snprintf(joined, sizeof joined, "%s: %s", prefix, err->message);
    memcpy(err->message, joined, sizeof joined);
}

const char *pms_status_name(pms_status code)
{
    switch (code) {
    case PMS_OK:
        return "ok";
    case PMS_ERR_INVALID:
        return "invalid";
    case PMS_ERR_NOMEM:
        return "out_of_memory";
    case PMS_ERR_NOT_FOUND:
        return "not_found";
    case PMS_ERR_NOT_SUPPORTED:
        return "not_supported";
    case PMS_ERR_IO:
        return "io";
    case PMS_ERR_PARSE:
        return "parse";
    case PMS_ERR_TRANSPORT:
        return "transport";
    case PMS_ERR_HTTP:
        return "http";
    case PMS_ERR_AUTH:
        return "auth";
    case PMS_ERR_RATE_LIMITED:
        return "rate_limited";
    case PMS_ERR_UPSTREAM:
        return "upstream";
    case PMS_ERR_STORE:
        return "store";
    case PMS_ERR_CONFLICT:
        return "conflict";
    case PMS_ERR_CRYPTO:
        return "crypto";
    case PMS_ERR_CANCELLED:
        return "cancelled";
    case PMS_ERR_CONFIG:
        return "config";
    }
    return "unknown";
}
