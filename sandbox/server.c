#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "delay.h"
#include "faults.h"
#include "http.h"
#include "pms.h"
#include "pmsync/log.h"
#include "stats.h"

typedef enum request_phase {
    PHASE_RECEIVING = 0, /* headers and body arriving */
    PHASE_DELAYED,       /* answer ready, connection suspended for the latency */
    PHASE_ANSWERED,
} request_phase;

typedef struct request_ctx {
    pms_instant started_at;
    request_phase phase;
    char *body;
    size_t body_len, body_cap;
    bool body_too_large;
    bool is_api;
    sbx_route_info info;
    sbx_response resp;
    bool drop;
    bool truncate;
    size_t truncate_at;
    int sent_status;
    char method[16];
    char *path;
    char user_agent[128]; /* as sent, for the request log */
} request_ctx;

typedef struct truncated_body {
    char *body;
    size_t cut;
} truncated_body;

static struct MHD_Daemon *daemon_handle;
static atomic_int requests_in_flight; /* request contexts alive */
static int bound_port;
static char base_url[64];
static size_t body_limit;

int sbx_server_port(void)
{
    return bound_port;
}

const char *sbx_server_base_url(void)
{
    return base_url;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    sbx_request *req = cls;
    if (req->header_count < SBX_MAX_HEADERS && key != NULL)
        req->headers[req->header_count++] = (sbx_kv){key, value != NULL ? value : ""};
    return MHD_YES;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    sbx_request *req = cls;
    if (req->query_count < SBX_MAX_QUERY && key != NULL)
        req->query[req->query_count++] = (sbx_kv){key, value};
    return MHD_YES;
}

static ssize_t truncated_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    truncated_body *t = cls;
    if (pos >= t->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = t->cut - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, t->body + pos, n);
    return (ssize_t)n;
}

static void truncated_free(void *cls)
{
    truncated_body *t = cls;
    free(t->body);
    free(t);
}

static struct MHD_Response *make_response(request_ctx *ctx)
{
    sbx_response *r = &ctx->resp;
    struct MHD_Response *response = NULL;
    if (ctx->truncate) {
        truncated_body *t = malloc(sizeof(*t));
        if (t == NULL)
            return NULL;
        t->body = r->body;
        t->cut = ctx->truncate_at;
        response = MHD_create_response_from_callback(r->body_len, 4096, truncated_reader, t,
                                                     truncated_free);
        if (response == NULL) {
            free(t);
            return NULL;
        }
    } else {
        response = MHD_create_response_from_buffer(r->body_len, r->body != NULL ? r->body : "",
                                                   r->body != NULL ? MHD_RESPMEM_MUST_FREE
                                                                   : MHD_RESPMEM_PERSISTENT);
        if (response == NULL)
            return NULL;
    }
    r->body = NULL; /* owned by the response now */
    if (r->content_type != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    for (size_t i = 0; i < r->header_count; i++)
        MHD_add_response_header(response, r->header_names[i], r->header_values[i]);
    return response;
}

static enum MHD_Result queue_answer(struct MHD_Connection *conn, request_ctx *ctx)
{
    ctx->phase = PHASE_ANSWERED;
    if (ctx->drop)
        return MHD_NO; /* libmicrohttpd closes the connection without a response */
    struct MHD_Response *response = make_response(ctx);
    if (response == NULL)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)ctx->resp.status, response);
    MHD_destroy_response(response);
    if (rc == MHD_YES)
        ctx->sent_status = ctx->resp.status;
    return rc;
}

static void retry_after_header(sbx_response *resp, const sbx_fault_decision *fault)
{
    if (fault->retry_after <= 0)
        return;
    char value[64];
    if (fault->retry_after_date)
        sbx_http_date(pms_now() + (pms_instant)fault->retry_after * 1000, value, sizeof(value));
    else
        snprintf(value, sizeof(value), "%d", fault->retry_after);
    sbx_response_header(resp, "Retry-After", value);
}

/* A vendor API request: faults, the simulator, latency. Returns the latency to apply. */
static int answer_pms(const sbx_pms *pms, const sbx_request *req, request_ctx *ctx)
{
    ctx->is_api = true;
    ctx->info.pms = pms->name;
    pms->route(req, &ctx->info);
    sbx_fault_decision fault;
    sbx_faults_decide(ctx->info.is_token, &fault);
    if (ctx->body_too_large) {
        sbx_respond_message(&ctx->resp, 413, "Request body too large");
        return fault.latency_ms;
    }
    switch (fault.kind) {
    case SBX_FAULT_429:
        pms->fault_response(429, &ctx->info, &ctx->resp);
        retry_after_header(&ctx->resp, &fault);
        sbx_stats_fault(SBX_STAT_FAULT_429, 1);
        break;
    case SBX_FAULT_5XX:
        pms->fault_response(fault.status, &ctx->info, &ctx->resp);
        sbx_stats_fault(SBX_STAT_FAULT_5XX, 1);
        break;
    case SBX_FAULT_DROP:
        ctx->drop = true;
        sbx_stats_fault(SBX_STAT_FAULT_DROP, 1);
        break;
    case SBX_FAULT_NONE:
        pms->handle(req, &ctx->info, &ctx->resp);
        if (ctx->resp.status == 200 && ctx->resp.truncatable &&
            sbx_faults_truncate(ctx->info.is_token, ctx->resp.body_len, &ctx->truncate_at)) {
            ctx->truncate = true;
            sbx_stats_fault(SBX_STAT_FAULT_TRUNCATE, 1);
        }
        break;
    }
    return fault.latency_ms;
}

static void answer_other(const sbx_request *req, sbx_response *resp)
{
    if (strcmp(req->path, "/") == 0) {
        sbx_respond_json(resp, 200,
                         json_pack("{s:s, s:s}", "name", "pms-sandbox", "info", "/_sandbox/info"));
        return;
    }
    sbx_respond_message(resp, 404, "Not found");
}

static enum MHD_Result answer(struct MHD_Connection *conn, request_ctx *ctx, const char *url,
                              const char *method)
{
    sbx_request req;
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = url;
    req.body = ctx->body != NULL ? ctx->body : "";
    req.body_len = ctx->body_len;
    req.base_url = base_url;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &req);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &req);

    const char *rest = NULL;
    const sbx_pms *pms = NULL;
    if (strncmp(url, "/_sandbox", 9) == 0 && (url[9] == '/' || url[9] == '\0')) {
        if (ctx->body_too_large)
            sbx_respond_message(&ctx->resp, 413, "Request body too large");
        else
            sbx_control_handle(&req, url + 9, &ctx->resp);
    } else if ((pms = sbx_pms_for_path(url, &rest)) != NULL) {
        int latency_ms = answer_pms(pms, &req, ctx);
        if (latency_ms > 0 && sbx_delay_suspend(conn, latency_ms)) {
            ctx->phase = PHASE_DELAYED;
            return MHD_YES;
        }
    } else {
        answer_other(&req, &ctx->resp);
    }
    if (ctx->resp.status == 0)
        sbx_respond_message(&ctx->resp, 500, "Internal server error");
    return queue_answer(conn, ctx);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)cls;
    (void)version;
    request_ctx *ctx = *con_cls;
    if (ctx == NULL) {
        ctx = calloc(1, sizeof(*ctx));
        if (ctx == NULL)
            return MHD_NO;
        ctx->started_at = pms_now();
        sbx_response_init(&ctx->resp);
        snprintf(ctx->method, sizeof(ctx->method), "%s", method);
        const char *ua =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
        snprintf(ctx->user_agent, sizeof(ctx->user_agent), "%s", ua != NULL ? ua : "");
        ctx->path = strdup(url);
        *con_cls = ctx;
        atomic_fetch_add(&requests_in_flight, 1);
        return MHD_YES;
    }
    if (ctx->phase == PHASE_DELAYED)
        return queue_answer(conn, ctx);
    if (ctx->phase == PHASE_ANSWERED)
        return MHD_YES;
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (ctx->body_too_large || ctx->body_len + n > body_limit) {
            ctx->body_too_large = true;
            return MHD_YES;
        }
        if (ctx->body_len + n + 1 > ctx->body_cap) {
            size_t cap = ctx->body_cap == 0 ? 1024 : ctx->body_cap;
            while (cap < ctx->body_len + n + 1)
                cap *= 2;
            char *grown = realloc(ctx->body, cap);
            if (grown == NULL)
                return MHD_NO;
            ctx->body = grown;
            ctx->body_cap = cap;
        }
        memcpy(ctx->body + ctx->body_len, upload_data, n);
        ctx->body_len += n;
        ctx->body[ctx->body_len] = '\0';
        return MHD_YES;
    }
    return answer(conn, ctx, url, method);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request_ctx *ctx = *con_cls;
    if (ctx == NULL)
        return;
    *con_cls = NULL;
    if (ctx->is_api)
        sbx_stats_record(&ctx->info, ctx->method, ctx->path != NULL ? ctx->path : "",
                         ctx->user_agent, ctx->sent_status, ctx->started_at, pms_now());
    sbx_response_free(&ctx->resp);
    free(ctx->body);
    free(ctx->path);
    free(ctx);
    atomic_fetch_sub(&requests_in_flight, 1);
}

static int write_port_file(const char *path, int port, pms_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return pms_error_set(err, PMS_ERR_CONFIG, "port file path too long");
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return pms_error_set(err, PMS_ERR_IO, "cannot write the port file");
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return pms_error_set(err, PMS_ERR_IO, "cannot write the port file");
    }
    return PMS_OK;
}

/* A listening socket on 127.0.0.1:port, bound before the daemon starts so the port and base URL
 * are known before the first request can arrive. */
static int listen_loopback(int port, int *fd_out, int *bound, pms_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return pms_error_set(err, PMS_ERR_IO, "cannot create a socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 256) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        close(fd);
        return pms_error_set(err, PMS_ERR_IO, "cannot listen on 127.0.0.1:%d", port);
    }
    *fd_out = fd;
    *bound = ntohs(addr.sin_port);
    return PMS_OK;
}

int sbx_server_start(const sbx_config *cfg, pms_error *err)
{
    body_limit = (size_t)cfg->body_limit;
    int listen_fd = -1;
    int rc = listen_loopback(cfg->port, &listen_fd, &bound_port, err);
    if (rc != PMS_OK)
        return rc;
    snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", bound_port);
    rc = sbx_delay_start(err);
    if (rc != PMS_OK) {
        close(listen_fd);
        return rc;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    daemon_handle = MHD_start_daemon(
        flags, 0, NULL, NULL, access_handler, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_NOTIFY_COMPLETED,
        request_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_END);
    if (daemon_handle == NULL) {
        close(listen_fd);
        sbx_delay_stop();
        return pms_error_set(err, PMS_ERR_IO, "cannot start the HTTP daemon");
    }
    if (cfg->port_file != NULL) {
        rc = write_port_file(cfg->port_file, bound_port, err);
        if (rc != PMS_OK) {
            sbx_server_stop();
            return rc;
        }
    }
    char port_text[16];
    snprintf(port_text, sizeof(port_text), "%d", bound_port);
    pms_log(PMS_LOG_INFO, "sandbox.listening", "port", port_text, NULL);
    return PMS_OK;
}

void sbx_server_stop(void)
{
    /* Stop accepting, answer the delayed requests now, and give running ones a moment. */
    MHD_socket listen_socket = MHD_INVALID_SOCKET;
    if (daemon_handle != NULL)
        listen_socket = MHD_quiesce_daemon(daemon_handle);
    sbx_delay_stop();
    for (int waited_ms = 0; waited_ms < 2000 && atomic_load(&requests_in_flight) > 0;
         waited_ms += 10) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (daemon_handle != NULL) {
        MHD_stop_daemon(daemon_handle);
        daemon_handle = NULL;
    }
    if (listen_socket != MHD_INVALID_SOCKET)
        close(listen_socket); /* ours after quiesce, closed only once the daemon stopped */
}
