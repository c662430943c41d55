#include "pmsync/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pms_http_client {
    CURL *curl;
    pms_http_options opts;
    char *user_agent;
    char *ca_file;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int pms_http_global_init(pms_error *err)
{
    pthread_once(&global_once, global_init_once);
    if (global_rc != CURLE_OK)
        return pms_error_set(err, PMS_ERR_TRANSPORT, "libcurl initialisation failed: %s",
                             curl_easy_strerror(global_rc));
    return PMS_OK;
}

int pms_http_client_new(const pms_http_options *opts, pms_http_client **out, pms_error *err)
{
    int rc = pms_http_global_init(err);
    if (rc)
        return rc;
    pms_http_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (opts)
        c->opts = *opts;
    if (c->opts.connect_timeout_ms <= 0)
        c->opts.connect_timeout_ms = 10000;
    if (c->opts.total_timeout_ms <= 0)
        c->opts.total_timeout_ms = 60000;
    if (c->opts.max_body_bytes == 0)
        c->opts.max_body_bytes = 64u << 20;
    c->user_agent = strdup(opts && opts->user_agent ? opts->user_agent : PMS_USER_AGENT);
    c->ca_file = opts && opts->ca_file ? strdup(opts->ca_file) : NULL;
    c->curl = curl_easy_init();
    if (c->curl == NULL || c->user_agent == NULL || (opts && opts->ca_file && !c->ca_file)) {
        pms_http_client_free(c);
        return pms_error_set(err, PMS_ERR_NOMEM, "cannot create an HTTP client");
    }
    c->opts.user_agent = c->user_agent;
    c->opts.ca_file = c->ca_file;
    *out = c;
    return PMS_OK;
}

void pms_http_client_free(pms_http_client *c)
{
    if (c == NULL)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->user_agent);
    free(c->ca_file);
    free(c);
}

typedef struct body_buffer {
    char *data;
    size_t len, cap, max;
    bool overflow;
} body_buffer;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    body_buffer *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n > b->max) {
        b->overflow = true;
        return 0; /* aborts the transfer */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL)
            return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

typedef struct header_list {
    char **names, **values;
    size_t count;
    bool failed;
} header_list;

static void header_list_clear(header_list *h)
{
    for (size_t i = 0; i < h->count; i++) {
        free(h->names[i]);
        free(h->values[i]);
    }
    free(h->names);
    free(h->values);
    memset(h, 0, sizeof *h);
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    header_list *h = userdata;
    size_t n = size * nmemb;
    /* A new status line (e.g. after 100 Continue) starts a fresh header set. */
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        header_list_clear(h);
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (colon == NULL)
        return n;
    size_t name_len = (size_t)(colon - line);
    const char *v = colon + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    char **names = realloc(h->names, (h->count + 1) * sizeof *names);
    if (names == NULL) {
        h->failed = true;
        return n;
    }
    h->names = names;
    char **values = realloc(h->values, (h->count + 1) * sizeof *values);
    if (values == NULL) {
        h->failed = true;
        return n;
    }
    h->values = values;
    char *name = strndup(line, name_len);
    char *value = strndup(v, (size_t)(end - v));
    if (name == NULL || value == NULL) {
        free(name);
        free(value);
        h->failed = true;
        return n;
    }
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    h->names[h->count] = name;
    h->values[h->count] = value;
    h->count++;
    return n;
}

int pms_http_perform(pms_http_client *c, const pms_http_request *req, pms_http_response *resp,
                     pms_error *err)
{
    memset(resp, 0, sizeof *resp);
    CURL *curl = c->curl;
    curl_easy_reset(curl);
    body_buffer body = {.max = c->opts.max_body_bytes};
    header_list headers = {0};
    struct curl_slist *hdrs = NULL;
    char *auth_header = NULL;
    int rc = PMS_OK;

    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->opts.ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, c->opts.ca_file);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, c->opts.total_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, c->opts.user_agent);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding libcurl decodes */
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);

    const char *method = req->method ? req->method : "GET";
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (req->body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
            strcmp(method, "PATCH") == 0) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(req->body ? req->body_len : 0));
        }
    }
    if (req->basic_user && req->basic_password) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, req->basic_user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, req->basic_password);
    }
    for (size_t i = 0; i < req->header_count; i++) {
        char line[1024];
        snprintf(line, sizeof line, "%s: %s", req->headers[i].name, req->headers[i].value);
        struct curl_slist *next = curl_slist_append(hdrs, line);
        if (next == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto out;
        }
        hdrs = next;
    }
    if (req->bearer) {
        const char *scheme = req->bearer_scheme ? req->bearer_scheme : "Bearer";
        int n = req->bearer_header
                    ? asprintf(&auth_header, "%s: %s", req->bearer_header, req->bearer)
                    : asprintf(&auth_header, "Authorization: %s%s%s", scheme, scheme[0] ? " " : "",
                               req->bearer);
        if (n < 0) {
            auth_header = NULL;
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto out;
        }
        struct curl_slist *next = curl_slist_append(hdrs, auth_header);
        if (next == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto out;
        }
        hdrs = next;
    }
    /* No "Expect: 100-continue" round trip on bodies. */
    struct curl_slist *next = curl_slist_append(hdrs, "Expect:");
    if (next == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    hdrs = next;
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);

    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        if (body.overflow)
            rc = pms_error_set(err, PMS_ERR_TRANSPORT, "response body larger than %zu bytes",
                               c->opts.max_body_bytes);
        else
            rc = pms_error_set(err, PMS_ERR_TRANSPORT, "%s %s: %s", method,
                               cc == CURLE_OPERATION_TIMEDOUT ? "timed out" : "failed",
                               curl_easy_strerror(cc));
        goto out;
    }
    if (headers.failed) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory reading headers");
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_off_t total_us = 0;
    curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &total_us);
    resp->elapsed_ms = (long)(total_us / 1000);
    if (body.data == NULL) {
        body.data = calloc(1, 1);
        if (body.data == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    resp->body = body.data;
    resp->body_len = body.len;
    body.data = NULL;
    resp->header_names = headers.names;
    resp->header_values = headers.values;
    resp->header_count = headers.count;
    memset(&headers, 0, sizeof headers);
out:
    /* The easy handle keeps pointers to these until the next reset. */
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    if (auth_header) {
        memset(auth_header, 0, strlen(auth_header));
        free(auth_header);
    }
    free(body.data);
    header_list_clear(&headers);
    return rc;
}

void pms_http_response_clear(pms_http_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->body);
    for (size_t i = 0; i < resp->header_count; i++) {
        free(resp->header_names[i]);
        free(resp->header_values[i]);
    }
    free(resp->header_names);
    free(resp->header_values);
    memset(resp, 0, sizeof *resp);
}

const char *pms_http_response_header(const pms_http_response *resp, const char *name)
{
    const char *found = NULL;
    for (size_t i = 0; i < resp->header_count; i++)
        if (strcasecmp(resp->header_names[i], name) == 0)
            found = resp->header_values[i];
    return found;
}

char *pms_url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}
