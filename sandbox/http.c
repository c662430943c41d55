#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pmsync/crypto.h"

const char *sbx_query(const sbx_request *req, const char *key)
{
    for (size_t i = 0; i < req->query_count; i++) {
        if (strcmp(req->query[i].key, key) == 0)
            return req->query[i].value != NULL ? req->query[i].value : "";
    }
    return NULL;
}

const char *sbx_header(const sbx_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++) {
        if (strcasecmp(req->headers[i].key, name) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

bool sbx_method_is(const sbx_request *req, const char *method)
{
    return strcmp(req->method, method) == 0;
}

bool sbx_method_in(const sbx_request *req, const char *methods)
{
    char one[16];
    for (const char *p = methods; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        snprintf(one, sizeof(one), "%.*s", (int)n, p);
        if (sbx_method_is(req, one))
            return true;
        p = comma ? comma + 2 : NULL;
    }
    return false;
}

void sbx_path_split(const char *path, sbx_path *out)
{
    out->count = 0;
    size_t len = strlen(path);
    if (len >= sizeof(out->buf)) {
        out->count = -1;
        return;
    }
    memcpy(out->buf, path, len + 1);
    char *p = out->buf;
    while (*p != '\0') {
        while (*p == '/')
            *p++ = '\0';
        if (*p == '\0')
            break;
        if (out->count == SBX_MAX_SEGMENTS) {
            out->count = -1;
            return;
        }
        out->seg[out->count++] = p;
        while (*p != '\0' && *p != '/')
            p++;
    }
}

bool sbx_seg_is(const sbx_path *p, int i, const char *s)
{
    return i >= 0 && i < p->count && strcmp(p->seg[i], s) == 0;
}

void sbx_copy_id(char *dst, size_t dst_len, const char *src)
{
    dst[0] = '\0';
    if (src == NULL)
        return;
    size_t n = strlen(src);
    if (n >= dst_len)
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return;
    }
    memcpy(dst, src, n + 1);
}

void sbx_response_init(sbx_response *resp)
{
    memset(resp, 0, sizeof(*resp));
}

void sbx_response_free(sbx_response *resp)
{
    free(resp->body);
    for (size_t i = 0; i < resp->header_count; i++) {
        free(resp->header_names[i]);
        free(resp->header_values[i]);
    }
    sbx_response_init(resp);
}

void sbx_respond_json(sbx_response *resp, int status, json_t *body)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    if (text == NULL) {
        static const char fallback[] = "{\"message\":\"Internal server error\"}";
        text = strdup(fallback);
        status = 500;
    }
    resp->status = status;
    resp->body = text;
    resp->body_len = text != NULL ? strlen(text) : 0;
    resp->content_type = "application/json";
}

void sbx_respond_message(sbx_response *resp, int status, const char *message)
{
    sbx_respond_json(resp, status, json_pack("{s:s}", "message", message));
}

void sbx_response_header(sbx_response *resp, const char *name, const char *value)
{
    if (resp->header_count == SBX_MAX_RESPONSE_HEADERS)
        return;
    char *n = strdup(name);
    char *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return;
    }
    resp->header_names[resp->header_count] = n;
    resp->header_values[resp->header_count] = v;
    resp->header_count++;
}

void sbx_respond_method_not_allowed(sbx_response *resp, const char *allow)
{
    sbx_respond_message(resp, 405, "Method not allowed");
    sbx_response_header(resp, "Allow", allow);
}

json_t *sbx_parse_json_object(const sbx_request *req, sbx_response *resp)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        sbx_respond_message(resp, 400, "Request body is not valid JSON");
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        sbx_respond_message(resp, 400, "Request body must be a JSON object");
        return NULL;
    }
    return body;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes [s, s+len) as a form value into out. */
static bool form_decode(const char *s, size_t len, char *out, size_t out_len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (len - i < 3)
                return false;
            int hi = hex_value((unsigned char)s[i + 1]);
            int lo = hex_value((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (n + 1 >= out_len || c == '\0')
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return true;
}

bool sbx_form_field(const char *body, const char *key, char *out, size_t out_len)
{
    size_t key_len = strlen(key);
    const char *p = body;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t field_len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', field_len);
        size_t name_len = eq != NULL ? (size_t)(eq - p) : field_len;
        if (name_len == key_len && memcmp(p, key, key_len) == 0) {
            if (eq == NULL)
                return form_decode("", 0, out, out_len);
            return form_decode(eq + 1, field_len - name_len - 1, out, out_len);
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return false;
}

void sbx_http_date(pms_instant t, char *buf, size_t len)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)(t / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int sbx_basic_auth(const sbx_request *req, char *id, char *secret, size_t len)
{
    const char *auth = sbx_header(req, "Authorization");
    if (auth == NULL || strncasecmp(auth, "Basic ", 6) != 0)
        return 0;
    const char *b64 = auth + 6;
    while (*b64 == ' ')
        b64++;
    unsigned char *decoded = NULL;
    size_t decoded_len = 0;
    if (pms_base64_decode(b64, strlen(b64), true, &decoded, &decoded_len, NULL) != PMS_OK)
        return -1;
    char *colon = memchr(decoded, ':', decoded_len);
    bool ok = colon != NULL && memchr(decoded, '\0', decoded_len) == NULL;
    if (ok) {
        *colon = '\0';
        snprintf(id, len, "%s", (char *)decoded);
        snprintf(secret, len, "%s", colon + 1);
    }
    free(decoded);
    return ok ? 1 : -1;
}
