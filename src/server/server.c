/* The HTTP server: libmicrohttpd in thread-pool mode with epoll. Each request's body is
 * gathered (up to the body limit), the route matched, the caller authenticated and checked
 * against the route's roles, the handler run, and the response sent with an access log line and
 * metrics. While shutting down every new request gets 503. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pmsync/log.h"
#include "server/app.h"
#include "server/auth.h"
#include "server/static_files.h"
#include "server/voice.h"

/* State of one request across libmicrohttpd's calls. */
typedef struct request_state {
    pms_instant started;
    char *body;
    size_t len, cap;
    bool too_large;
} request_state;

static void client_address(struct MHD_Connection *conn, char *out, size_t len)
{
    snprintf(out, len, "unknown");
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)len);
}

static bool append_body(request_state *rs, const char *data, size_t n, size_t limit)
{
    if (rs->too_large || rs->len + n > limit) {
        rs->too_large = true;
        free(rs->body);
        rs->body = NULL;
        rs->len = rs->cap = 0;
        return true; /* keep reading (and discarding) so the 413 can be sent */
    }
    if (rs->len + n + 1 > rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 1024;
        while (cap < rs->len + n + 1)
            cap *= 2;
        char *grown = realloc(rs->body, cap);
        if (grown == NULL)
            return false;
        rs->body = grown;
        rs->cap = cap;
    }
    memcpy(rs->body + rs->len, data, n);
    rs->len += n;
    rs->body[rs->len] = '\0';
    return true;
}

/* Turns the handler's response into libmicrohttpd's. */
static struct MHD_Response *build_response(pmsd_response *resp, struct MHD_Connection *conn)
{
    struct MHD_Response *r;
    if (resp->stream) {
        r = pmsd_sse_response(resp->stream, conn);
        resp->stream = NULL;
        return r;
    }
    if (resp->json) {
        char *text = json_dumps(resp->json, JSON_COMPACT);
        if (text == NULL)
            return NULL;
        r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (r == NULL) {
            free(text);
            return NULL;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    } else {
        r = MHD_create_response_from_buffer(resp->text_len, resp->text ? resp->text : (char *)"",
                                            resp->text ? MHD_RESPMEM_MUST_FREE
                                                       : MHD_RESPMEM_PERSISTENT);
        if (r == NULL)
            return NULL;
        resp->text = NULL; /* the response frees it */
        if (resp->content_type)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    }
    if (resp->cache_control == NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    else
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache_control);
    return r;
}

static void add_common_headers(struct MHD_Response *r, const pmsd_response *resp)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    for (size_t i = 0; i < resp->header_count; i++)
        MHD_add_response_header(r, resp->header_names[i], resp->header_values[i]);
}

static void log_access(const pmsd_request *req, const pmsd_response *resp, double seconds)
{
    char status[8], ms[32];
    snprintf(status, sizeof status, "%d", resp->status);
    snprintf(ms, sizeof ms, "%.1f", seconds * 1000.0);
    pms_log(
        resp->status >= 500 ? PMS_LOG_WARN : PMS_LOG_INFO, "http.request", "method", req->method,
        "route", req->route ? req->route->pattern : "(none)", "status", status, "ms", ms, "client",
        req->client_addr, "key", req->principal.key_id[0] ? req->principal.key_id : NULL, "user",
        req->principal.user_id[0] ? req->principal.user_id : NULL, "error", resp->error_code, NULL);
}

static enum MHD_Result dispatch(pmsd_app *app, struct MHD_Connection *conn, const char *url,
                                const char *method, request_state *rs)
{
    int static_status, static_result;
    if (pmsd_static_serve(app, conn, method, url, &static_status, &static_result)) {
        pmsd_metrics_http(app->metrics, method, "/ui/", static_status,
                          (double)(pms_now() - rs->started) / 1000.0);
        return (enum MHD_Result)static_result;
    }
    pmsd_request req = {
        .app = app,
        .conn = conn,
        .method = method,
        .path = url,
        .body = rs->body,
        .body_len = rs->len,
        .started = rs->started,
    };
    pmsd_response resp = {0};
    client_address(conn, req.client_addr, sizeof req.client_addr);
    char params_buf[PMSD_MAX_PARAMS][128];
    bool method_mismatch = false;
    char allow[64];
    if (atomic_load(&app->stopping)) {
        pmsd_respond_error(&resp, 503, "shutting_down", NULL, "the server is shutting down");
        pmsd_respond_header(&resp, "Retry-After", "5");
        pmsd_respond_header(&resp, "Connection", "close");
    } else if (rs->too_large) {
        pmsd_respond_error(&resp, 413, "body_too_large", NULL,
                           "the request body is larger than %zu bytes", app->cfg.body_limit);
    } else if ((req.route = pmsd_route_match(method, url, req.params, &req.param_count, params_buf,
                                             &method_mismatch, allow, sizeof allow)) == NULL) {
        if (method_mismatch) {
            pmsd_respond_error(&resp, 405, "method_not_allowed", NULL,
                               "%s is not allowed here (allowed: %s)", method, allow);
            pmsd_respond_header(&resp, "Allow", allow);
        } else {
            pmsd_respond_error(&resp, 404, "not_found", NULL, "no such endpoint");
        }
    } else if (pmsd_authenticate(&req, &resp) &&
               (req.route->access == PMSD_PUBLIC || pmsd_allowed(&req, req.route->access, &resp))) {
        req.route->handler(&req, &resp);
        if (resp.status == 0 && resp.stream == NULL)
            pmsd_respond_error(&resp, 500, "internal_error", NULL, "no response");
    }
    if (resp.stream)
        resp.status = 200;

    double seconds = (double)(pms_now() - rs->started) / 1000.0;
    log_access(&req, &resp, seconds);
    pmsd_metrics_http(app->metrics, method, req.route ? req.route->pattern : "(unmatched)",
                      resp.status, seconds);

    int status = resp.status;
    struct MHD_Response *r = build_response(&resp, conn);
    if (r == NULL) {
        pmsd_response_clear(&resp);
        return MHD_NO;
    }
    add_common_headers(r, &resp);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    pmsd_response_clear(&resp);
    return ok;
}

/* The largest body a path may send: the voice endpoint takes Vapi's large messages. */
static size_t body_limit_for(const pmsd_app *app, const char *url)
{
    size_t limit = app->cfg.body_limit;
    if (strcmp(url, "/api/voice/vapi") == 0 && limit < PMSD_VOICE_BODY_LIMIT)
        limit = PMSD_VOICE_BODY_LIMIT;
    return limit;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    pmsd_app *app = cls;
    request_state *rs = *con_cls;
    if (rs == NULL) {
        rs = calloc(1, sizeof *rs);
        if (rs == NULL)
            return MHD_NO;
        rs->started = pms_now();
        *con_cls = rs;
        /* Refuse an announced oversized body before reading it. */
        const char *length =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > body_limit_for(app, url))
            rs->too_large = true;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!append_body(rs, upload_data, *upload_data_size, body_limit_for(app, url)))
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(app, conn, url, method, rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request_state *rs = *con_cls;
    if (rs) {
        free(rs->body);
        free(rs);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char message[256];
    vsnprintf(message, sizeof message, fmt, ap);
    size_t n = strlen(message);
    while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == '\r'))
        message[--n] = '\0';
    pms_log(PMS_LOG_WARN, "http.server", "reason", message, NULL);
}

static int write_port_file(const char *path, int port, pms_error *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return pms_error_set(err, PMS_ERR_IO, "cannot write the port file %s", path);
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return pms_error_set(err, PMS_ERR_IO, "cannot write the port file %s", path);
    return PMS_OK;
}

int pmsd_server_start(pmsd_app *app, pms_error *err)
{
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", app->cfg.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *addr = NULL;
    int gai = getaddrinfo(app->cfg.listen_host, port_text, &hints, &addr);
    if (gai != 0)
        return pms_error_set(err, PMS_ERR_CONFIG, "cannot listen on %s: %s", app->cfg.listen_host,
                             gai_strerror(gai));
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (addr->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The logger first, so every message of libmicrohttpd goes through it. */
    app->daemon = MHD_start_daemon(
        flags, (uint16_t)app->cfg.port, NULL, NULL, on_request, app, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, app, MHD_OPTION_SOCK_ADDR, addr->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)app->cfg.http_threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)app->cfg.connection_limit, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, app, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    freeaddrinfo(addr);
    if (app->daemon == NULL)
        return pms_error_set(err, PMS_ERR_IO, "cannot listen on %s port %d (in use?)",
                             app->cfg.listen_host, app->cfg.port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(app->daemon, MHD_DAEMON_INFO_BIND_PORT);
    app->port = info ? info->port : app->cfg.port;
    if (app->cfg.port_file && write_port_file(app->cfg.port_file, app->port, err) != PMS_OK) {
        MHD_stop_daemon(app->daemon);
        app->daemon = NULL;
        return err ? err->code : PMS_ERR_IO;
    }
    char port_str[16];
    snprintf(port_str, sizeof port_str, "%d", app->port);
    pms_log(PMS_LOG_INFO, "pmsd.listening", "host", app->cfg.listen_host, "port", port_str, NULL);
    return PMS_OK;
}

void pmsd_server_quiesce(pmsd_app *app)
{
    if (app->daemon == NULL)
        return;
    MHD_socket fd = MHD_quiesce_daemon(app->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void pmsd_server_stop(pmsd_app *app)
{
    if (app->daemon) {
        MHD_stop_daemon(app->daemon);
        app->daemon = NULL;
    }
}
