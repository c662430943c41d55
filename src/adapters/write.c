/* Write-back helpers shared by the adapters (write.h). */
#include "adapters/write.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/http.h"
#include "pmsync/tz.h"

void pms_write_answer_clear(pms_write_answer *a)
{
    json_decref(a->json);
    free(a->location);
    memset(a, 0, sizeof *a);
}

static bool is_refusal(long status)
{
    return status == 400 || status == 404 || status == 405 || status == 409 || status == 410 ||
           status == 412 || status == 422;
}

int pms_write_send(pms_session *s, const char *method, const char *url, const json_t *body,
                   const char *content_type, pms_write_answer *answer, pms_error *err)
{
    memset(answer, 0, sizeof *answer);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && text == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    pms_http_header headers[] = {
        {"Content-Type", content_type ? content_type : "application/json"},
        {"Accept", "application/json"},
    };
    pms_http_request req = {.method = method,
                            .url = url,
                            .headers = body ? headers : headers + 1,
                            .header_count = body ? 2 : 1,
                            .body = text,
                            .body_len = text ? strlen(text) : 0};
    pms_http_response resp = {0};
    pms_error e = {0};
    int rc = pms_session_call(s, NULL, &req, PMS_CALL_AUTH, &resp, NULL, &e);
    free(text);
    answer->status = resp.status;
    if (resp.body_len > 0)
        answer->json = json_loadb(resp.body, resp.body_len, 0, NULL);
    const char *location = pms_http_response_header(&resp, "location");
    if (location)
        answer->location = strdup(location);
    pms_http_response_clear(&resp);
    if (rc == PMS_OK)
        return PMS_OK;
    if (e.http_status != 0 && is_refusal(e.http_status)) {
        answer->status = e.http_status;
        snprintf(answer->message, sizeof answer->message, "%s", e.message);
        return PMS_OK;
    }
    pms_write_answer_clear(answer);
    if (err)
        *err = e;
    return rc;
}

int pms_write_send_owned(pms_session *s, const char *method, char *url, json_t *body,
                         pms_write_answer *answer, pms_error *err)
{
    memset(answer, 0, sizeof *answer);
    int rc;
    if (url == NULL && err && err->code != PMS_OK)
        rc = (int)err->code; /* the URL's maker said why */
    else if (url == NULL)
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    else if (body == NULL)
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    else
        rc = pms_write_send(s, method, url, body, NULL, answer, err);
    free(url);
    json_decref(body);
    return rc;
}

int pms_write_created_id(const pms_write_answer *a, const char *pms, const char *what, char **out,
                         pms_error *err)
{
    *out = NULL;
    const char *id = json_string_value(json_object_get(a->json, "id"));
    if (!pms_write_ok(a))
        return pms_error_set(err, PMS_ERR_INVALID, "%s refused %s (HTTP %ld)", pms, what,
                             a->status);
    if (id == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "%s's answer names no id for %s", pms, what);
    if ((*out = strdup(id)) == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

bool pms_write_ok(const pms_write_answer *a)
{
    return a->status >= 200 && a->status < 300;
}

int pms_write_failed(pms_write_result *out, const char *fmt, ...)
{
    out->state = PMS_WRITE_FAILED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
    return PMS_OK;
}

int pms_write_confirmed(pms_write_result *out, const char *appointment_id, pms_error *err)
{
    out->state = PMS_WRITE_CONFIRMED;
    out->reason[0] = '\0';
    free(out->pms_appointment_id);
    out->pms_appointment_id = NULL;
    if (appointment_id && (out->pms_appointment_id = strdup(appointment_id)) == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

int pms_write_refused(pms_write_result *out, const pms_write_answer *a, const char *what)
{
    switch (a->status) {
    case 404:
    case 410:
        return pms_write_failed(out, "That appointment could not be found in the practice's "
                                     "system.");
    case 409:
        return pms_write_failed(out, "That time is no longer free with this practitioner.");
    case 405:
        return pms_write_failed(out, "The practice's system does not allow %s.", what);
    default:
        return pms_write_failed(out, "The practice's system did not accept %s.", what);
    }
}

char *pms_write_url(pms_session *s, const char *fmt, ...)
{
    char *path = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&path, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *url = pms_session_url(s, path);
    free(path);
    return url;
}

void pms_write_format_local(pms_session *s, pms_instant t, bool with_millis,
                            char buf[PMS_TIME_BUFLEN])
{
    const pms_tz *tz = pms_session_tz(s);
    int offset = tz ? pms_tz_offset_at(tz, t, NULL) : 0;
    pms_format_offset(t, offset, buf);
    if (!with_millis) {
        /* "YYYY-MM-DDThh:mm:ss.mmm+hh:mm" -> without ".mmm" */
        char *dot = strchr(buf, '.');
        if (dot && strlen(dot) >= 4)
            memmove(dot, dot + 4, strlen(dot + 4) + 1);
    }
}
