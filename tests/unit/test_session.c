/* The session's request pipeline against a real HTTP server on 127.0.0.1 (libmicrohttpd):
 * JSON answers, retries with backoff and Retry-After, 401 re-minting, attempts running out,
 * damaged bodies, dropped connections, User-Agent, gzip, parallel tasks and cancellation.
 *
 * The server replays a scripted list of answers (one per request, in order) and records what
 * it received. "/token" always mints the next token ("t1", "t2", ...) and "/fail/..." always
 * answers 404; other paths take the next scripted answer, or 200 {"ok":true} when the script
 * has run out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "pmsync/session.h"

/* ---- the scripted server -------------------------------------------------------------- */

typedef enum reply_kind {
    REPLY_NORMAL = 0,
    REPLY_DROP,     /* close the connection without answering */
    REPLY_TRUNCATE, /* promise a longer body than is sent, then close */
    REPLY_GZIP,     /* the body sent with Content-Encoding: gzip */
} reply_kind;

typedef struct scripted_reply {
    unsigned status;
    const char *body;
    const char *retry_after; /* NULL: no Retry-After header */
    reply_kind kind;
} scripted_reply;

typedef struct recorded_request {
    char method[16];
    char path[128];
    char authorization[128];
    char user_agent[128];
    char accept_encoding[128];
    char body[256];
} recorded_request;

#define MAX_SCRIPT  16
#define MAX_RECORDS 128

typedef struct test_server {
    struct MHD_Daemon *daemon;
    char base_url[64];
    pthread_mutex_t lock;
    scripted_reply script[MAX_SCRIPT];
    size_t script_len, script_next;
    recorded_request records[MAX_RECORDS];
    size_t record_count;
    int tokens_issued;
} test_server;

typedef struct upload {
    char data[1024];
    size_t len;
} upload;

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static const char truncated_part[] = "{\"appointments\": [{\"id\": \"a";

static ssize_t truncated_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    size_t len = sizeof truncated_part - 1;
    if (pos >= len)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = len - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, truncated_part + pos, n);
    return (ssize_t)n;
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A gzip member holding text in one stored (uncompressed) deflate block: enough for the
 * client to have to decode it, without a zlib dependency. Caller frees. */
static unsigned char *gzip_stored(const char *text, size_t *out_len)
{
    size_t n = strlen(text);
    assert_true(n < 65535);
    unsigned char *g = malloc(10 + 5 + n + 8);
    assert_non_null(g);
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    memcpy(g, header, sizeof header);
    unsigned char *p = g + 10;
    *p++ = 0x01; /* final block, stored */
    *p++ = (unsigned char)(n & 0xff);
    *p++ = (unsigned char)(n >> 8);
    *p++ = (unsigned char)(~n & 0xff);
    *p++ = (unsigned char)((~n >> 8) & 0xff);
    memcpy(p, text, n);
    p += n;
    put_le32(p, crc32_of((const unsigned char *)text, n));
    put_le32(p + 4, (uint32_t)n);
    *out_len = 10 + 5 + n + 8;
    return g;
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, const char *body,
                             const char *retry_after)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (retry_after)
        MHD_add_response_header(resp, "Retry-After", retry_after);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)version;
    test_server *srv = cls;
    upload *up = *con_cls;
    if (up == NULL) {
        if ((up = calloc(1, sizeof *up)) == NULL)
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t room = sizeof up->data - 1 - up->len;
        size_t n = *upload_data_size < room ? *upload_data_size : room;
        memcpy(up->data + up->len, upload_data, n);
        up->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }

    pthread_mutex_lock(&srv->lock);
    if (srv->record_count < MAX_RECORDS) {
        recorded_request *r = &srv->records[srv->record_count++];
        copy_text(r->method, sizeof r->method, method);
        copy_text(r->path, sizeof r->path, url);
        copy_text(r->authorization, sizeof r->authorization,
                  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"));
        copy_text(r->user_agent, sizeof r->user_agent,
                  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent"));
        copy_text(r->accept_encoding, sizeof r->accept_encoding,
                  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding"));
        copy_text(r->body, sizeof r->body, up->data);
    }
    char token_body[128];
    scripted_reply reply = {200, "{\"ok\":true}", NULL, REPLY_NORMAL};
    if (strcmp(url, "/token") == 0) {
        snprintf(token_body, sizeof token_body,
                 "{\"access_token\":\"t%d\",\"token_type\":\"Bearer\",\"expires_in\":3599}",
                 ++srv->tokens_issued);
        reply.body = token_body;
    } else if (strncmp(url, "/fail", 5) == 0) {
        reply = (scripted_reply){404, "{\"message\":\"no such thing\"}", NULL, REPLY_NORMAL};
    } else if (srv->script_next < srv->script_len) {
        reply = srv->script[srv->script_next++];
    }
    pthread_mutex_unlock(&srv->lock);

    switch (reply.kind) {
    case REPLY_DROP:
        return MHD_NO;
    case REPLY_TRUNCATE: {
        struct MHD_Response *resp =
            MHD_create_response_from_callback(1000, 1024, truncated_reader, NULL, NULL);
        if (resp == NULL)
            return MHD_NO;
        enum MHD_Result ret = MHD_queue_response(conn, reply.status, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    case REPLY_GZIP: {
        size_t len;
        unsigned char *gz = gzip_stored(reply.body, &len);
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, gz, MHD_RESPMEM_MUST_FREE);
        if (resp == NULL) {
            free(gz);
            return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
        enum MHD_Result ret = MHD_queue_response(conn, reply.status, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    case REPLY_NORMAL:
    default:
        return queue(conn, reply.status, reply.body, reply.retry_after);
    }
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void server_start(test_server *srv)
{
    memset(srv, 0, sizeof *srv);
    pthread_mutex_init(&srv->lock, NULL);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0; /* ephemeral */
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                   0, NULL, NULL, handle, srv, MHD_OPTION_SOCK_ADDR, &addr,
                                   MHD_OPTION_NOTIFY_COMPLETED, request_done, srv, MHD_OPTION_END);
    assert_non_null(srv->daemon);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    assert_int_not_equal(info->port, 0);
    snprintf(srv->base_url, sizeof srv->base_url, "http://127.0.0.1:%u", (unsigned)info->port);
}

static void server_stop(test_server *srv)
{
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
    pthread_mutex_destroy(&srv->lock);
}

static void script(test_server *srv, const scripted_reply *replies, size_t n)
{
    assert_true(n <= MAX_SCRIPT);
    pthread_mutex_lock(&srv->lock);
    memcpy(srv->script, replies, n * sizeof *replies);
    srv->script_len = n;
    srv->script_next = 0;
    pthread_mutex_unlock(&srv->lock);
}

#define SCRIPT(srv, ...)                                                                           \
    do {                                                                                           \
        const scripted_reply replies_[] = {__VA_ARGS__};                                           \
        script((srv), replies_, sizeof replies_ / sizeof replies_[0]);                             \
    } while (0)

/* Requests received for a path (all when path is NULL). */
static size_t count_requests(test_server *srv, const char *path)
{
    size_t n = 0;
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->record_count; i++)
        if (path == NULL || strcmp(srv->records[i].path, path) == 0)
            n++;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

/* ---- a tiny adapter ------------------------------------------------------------------- */

static int fake_authenticate(pms_session *s, pms_auth_result *out, pms_error *err)
{
    char *url = pms_session_url(s, "/token");
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    static const char body[] = "grant_type=client_credentials";
    static const pms_http_header headers[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
    };
    pms_http_request req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .header_count = 1,
        .body = body,
        .body_len = sizeof body - 1,
    };
    json_t *json = NULL;
    int rc = pms_session_call(s, NULL, &req, PMS_CALL_JSON, NULL, &json, err);
    free(url);
    if (rc != PMS_OK)
        return rc;
    const char *token = json_string_value(json_object_get(json, "access_token"));
    if (token == NULL) {
        json_decref(json);
        return pms_error_set(err, PMS_ERR_AUTH, "no access_token");
    }
    out->access_token = strdup(token);
    out->expires_at = pms_now() + 3600000;
    json_decref(json);
    return out->access_token ? PMS_OK : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}

static const pms_adapter_ops fake_ops = {
    .version = PMS_ADAPTER_OPS_VERSION,
    .name = "fake",
    .display_name = "Fake PMS",
    .authenticate = fake_authenticate,
};

/* ---- fixture -------------------------------------------------------------------------- */

typedef struct fixture {
    test_server srv;
    pms_session *session;
    atomic_bool cancel;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    server_start(&f->srv);
    atomic_init(&f->cancel, false);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pms_session_close(f->session);
    server_stop(&f->srv);
    free(f);
    return 0;
}

static pms_session_config base_config(fixture *f)
{
    pms_session_config cfg = {
        .connection_id = "conn-session-test",
        .base_url = f->srv.base_url,
        .cancel = &f->cancel,
    };
    cfg.retry.base_ms = 1; /* retries without real waiting */
    return cfg;
}

static void open_with(fixture *f, const pms_session_config *cfg)
{
    pms_error err = {0};
    if (pms_session_open(&fake_ops, cfg, &f->session, &err) != PMS_OK)
        fail_msg("session open failed: %s", err.message);
}

static void open_default(fixture *f)
{
    pms_session_config cfg = base_config(f);
    open_with(f, &cfg);
}

static int call(fixture *f, const char *path, unsigned flags, json_t **json, pms_error *err)
{
    char *url = pms_session_url(f->session, path);
    assert_non_null(url);
    pms_http_request req = {.method = "GET", .url = url};
    pms_error_clear(err);
    int rc = pms_session_call(f->session, NULL, &req, flags, NULL, json, err);
    free(url);
    return rc;
}

static void assert_user_agent_everywhere(fixture *f, const char *expected)
{
    pthread_mutex_lock(&f->srv.lock);
    size_t n = f->srv.record_count;
    for (size_t i = 0; i < n; i++)
        if (strcmp(f->srv.records[i].user_agent, expected) != 0)
            fail_msg("request %zu (%s) had User-Agent \"%s\"", i, f->srv.records[i].path,
                     f->srv.records[i].user_agent);
    pthread_mutex_unlock(&f->srv.lock);
    assert_true(n > 0);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void json_answer_parsed(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {200, "{\"appointments\":[{\"id\":\"a1\"},{\"id\":\"a2\"}]}", NULL, 0});
    json_t *json = NULL;
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, &json, &err), PMS_OK);
    assert_non_null(json);
    assert_int_equal(json_array_size(json_object_get(json, "appointments")), 2);
    json_decref(json);
    assert_int_equal(count_requests(&f->srv, NULL), 1);
    assert_string_equal(f->srv.records[0].method, "GET");
    assert_string_equal(f->srv.records[0].path, "/data");
    assert_string_equal(f->srv.records[0].authorization, ""); /* no PMS_CALL_AUTH */
    assert_user_agent_everywhere(f, PMS_USER_AGENT);
    pms_session_stats st = pms_session_get_stats(f->session);
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.failures, 0);
}

static void server_error_retried(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {503, "{\"message\":\"busy\"}", NULL, 0}, {200, "{\"n\":2}", NULL, 0});
    json_t *json = NULL;
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, &json, &err), PMS_OK);
    assert_int_equal(json_integer_value(json_object_get(json, "n")), 2);
    json_decref(json);
    assert_int_equal(count_requests(&f->srv, "/data"), 2);
    pms_session_stats st = pms_session_get_stats(f->session);
    assert_int_equal(st.requests, 2);
    assert_int_equal(st.retries, 1);
    assert_int_equal(st.failures, 0);
    assert_user_agent_everywhere(f, PMS_USER_AGENT);
}

static void client_error_not_retried(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {400, "{\"message\":\"Validation error\"}", NULL, 0}, {200, "{}", NULL, 0});
    char *url = pms_session_url(f->session, "/data");
    pms_http_request req = {.method = "GET", .url = url};
    pms_http_response resp = {0};
    json_t *json = NULL;
    pms_error err = {0};
    int rc = pms_session_call(f->session, NULL, &req, PMS_CALL_JSON, &resp, &json, &err);
    free(url);
    assert_int_equal(rc, PMS_ERR_UPSTREAM);
    assert_int_equal(err.code, PMS_ERR_UPSTREAM);
    assert_int_equal(err.http_status, 400);
    assert_true(err.message[0] != '\0');
    assert_null(json);
    /* The last answer is kept for the adapter to inspect. */
    assert_int_equal(resp.status, 400);
    assert_non_null(strstr(resp.body, "Validation error"));
    pms_http_response_clear(&resp);
    assert_int_equal(count_requests(&f->srv, "/data"), 1);
    pms_session_stats st = pms_session_get_stats(f->session);
    assert_int_equal(st.failures, 1);
}

static void retry_after_waited(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {429, "{\"message\":\"slow down\"}", "1", 0}, {200, "{\"ok\":1}", NULL, 0});
    json_t *json = NULL;
    pms_error err;
    pms_instant started = pms_now();
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, &json, &err), PMS_OK);
    long elapsed = (long)(pms_now() - started);
    json_decref(json);
    if (elapsed < 900)
        fail_msg("retried after %ld ms although the server asked for 1 s", elapsed);
    assert_int_equal(count_requests(&f->srv, "/data"), 2);
    pms_session_stats st = pms_session_get_stats(f->session);
    assert_int_equal(st.throttled, 1);
    assert_int_equal(st.retries, 1);
}

static void retry_after_too_long_gives_up(void **state)
{
    fixture *f = *state;
    pms_session_config cfg = base_config(f);
    cfg.retry.max_retry_after_ms = 5000;
    cfg.connection_limits = (pms_rate_limits){1000, 100000}; /* a bucket that 429s pause */
    open_with(f, &cfg);
    SCRIPT(&f->srv, {429, "{}", "3600", 0}, {200, "{}", NULL, 0});
    pms_error err;
    pms_instant started = pms_now();
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, NULL, &err), PMS_ERR_RATE_LIMITED);
    assert_true(pms_now() - started < 5000);
    assert_int_equal(err.http_status, 429);
    assert_int_equal(count_requests(&f->srv, "/data"), 1);
    /* Giving up did not leave the connection paused for the hour it asked for. */
    started = pms_now();
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, NULL, &err), PMS_OK);
    assert_true(pms_now() - started < 5000);
}

static void unauthorized_remints_once(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {401, "{\"message\":\"Unauthorized\"}", NULL, 0}, {200, "{\"ok\":1}", NULL, 0});
    json_t *json = NULL;
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_AUTH | PMS_CALL_JSON, &json, &err), PMS_OK);
    json_decref(json);

    assert_int_equal(count_requests(&f->srv, NULL), 4);
    const recorded_request *r = f->srv.records;
    assert_string_equal(r[0].path, "/token");
    assert_string_equal(r[0].method, "POST");
    assert_string_equal(r[0].body, "grant_type=client_credentials");
    assert_string_equal(r[0].authorization, "");
    assert_string_equal(r[1].path, "/data");
    assert_string_equal(r[1].authorization, "Bearer t1");
    assert_string_equal(r[2].path, "/token");
    assert_string_equal(r[3].path, "/data");
    assert_string_equal(r[3].authorization, "Bearer t2");
    assert_int_equal(pms_session_get_stats(f->session).token_mints, 2);

    /* The new token is kept for the next call. */
    assert_int_equal(call(f, "/data", PMS_CALL_AUTH | PMS_CALL_JSON, &json, &err), PMS_OK);
    json_decref(json);
    assert_int_equal(count_requests(&f->srv, "/token"), 2);
    assert_string_equal(f->srv.records[4].authorization, "Bearer t2");
    assert_user_agent_everywhere(f, PMS_USER_AGENT);
}

static void second_unauthorized_fails(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {401, "{}", NULL, 0}, {401, "{}", NULL, 0}, {200, "{}", NULL, 0});
    json_t *json = NULL;
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_AUTH | PMS_CALL_JSON, &json, &err), PMS_ERR_AUTH);
    assert_null(json);
    assert_int_equal(err.code, PMS_ERR_AUTH);
    assert_int_equal(err.http_status, 401);
    assert_int_equal(count_requests(&f->srv, "/data"), 2);
    assert_int_equal(count_requests(&f->srv, "/token"), 2);
    assert_string_equal(f->srv.records[3].authorization, "Bearer t2");
}

static void reminting_does_not_use_an_attempt(void **state)
{
    fixture *f = *state;
    pms_session_config cfg = base_config(f);
    cfg.retry.max_attempts = 2;
    open_with(f, &cfg);
    SCRIPT(&f->srv, {401, "{}", NULL, 0}, {503, "{}", NULL, 0}, {200, "{\"ok\":1}", NULL, 0});
    json_t *json = NULL;
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_AUTH | PMS_CALL_JSON, &json, &err), PMS_OK);
    json_decref(json);
    assert_int_equal(count_requests(&f->srv, "/data"), 3);
    assert_int_equal(count_requests(&f->srv, "/token"), 2);
}

static void attempts_run_out(void **state)
{
    fixture *f = *state;
    pms_session_config cfg = base_config(f);
    cfg.retry.max_attempts = 4;
    open_with(f, &cfg);
    SCRIPT(&f->srv, {500, "{}", NULL, 0}, {500, "{}", NULL, 0}, {500, "{}", NULL, 0},
           {500, "{}", NULL, 0}, {200, "{}", NULL, 0});
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, NULL, &err), PMS_ERR_UPSTREAM);
    assert_int_equal(err.http_status, 500);
    assert_int_equal(count_requests(&f->srv, "/data"), 4);
    pms_session_stats st = pms_session_get_stats(f->session);
    assert_int_equal(st.retries, 3);
    assert_int_equal(st.failures, 1);
}

static void non_json_2xx_retried(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {200, "<html>maintenance</html>", NULL, 0}, {200, "{\"ok\":true}", NULL, 0});
    json_t *json = NULL;
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, &json, &err), PMS_OK);
    assert_true(json_is_true(json_object_get(json, "ok")));
    json_decref(json);
    assert_int_equal(count_requests(&f->srv, "/data"), 2);

    /* Never readable: a parse error after every attempt. */
    SCRIPT(&f->srv, {200, "{\"appointments\": [", NULL, 0}, {200, "{\"appointments\": [", NULL, 0},
           {200, "{\"appointments\": [", NULL, 0}, {200, "{}", NULL, 0});
    assert_int_equal(call(f, "/again", PMS_CALL_JSON, &json, &err), PMS_ERR_PARSE);
    assert_null(json);
    assert_int_equal(count_requests(&f->srv, "/again"), 3);
}

static void truncated_body_retried(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {200, NULL, NULL, REPLY_TRUNCATE}, {200, "{\"ok\":true}", NULL, 0});
    json_t *json = NULL;
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, &json, &err), PMS_OK);
    assert_true(json_is_true(json_object_get(json, "ok")));
    json_decref(json);
    assert_int_equal(count_requests(&f->srv, "/data"), 2);
}

static void dropped_connection_retried(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {0, NULL, NULL, REPLY_DROP}, {200, "{\"ok\":true}", NULL, 0});
    json_t *json = NULL;
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, &json, &err), PMS_OK);
    json_decref(json);
    assert_int_equal(count_requests(&f->srv, "/data"), 2);
    assert_int_equal(pms_session_get_stats(f->session).retries, 1);

    /* Dropped every time: a transport error once the attempts are used up. */
    /* libcurl itself may repeat a request once when a reused keep-alive connection turns out
     * dead, so each of the 3 attempts can reach the server once or twice. */
    SCRIPT(&f->srv, {0, NULL, NULL, REPLY_DROP}, {0, NULL, NULL, REPLY_DROP},
           {0, NULL, NULL, REPLY_DROP}, {0, NULL, NULL, REPLY_DROP}, {0, NULL, NULL, REPLY_DROP},
           {0, NULL, NULL, REPLY_DROP}, {200, "{}", NULL, 0});
    assert_int_equal(call(f, "/gone", PMS_CALL_JSON, &json, &err), PMS_ERR_TRANSPORT);
    assert_null(json);
    assert_int_equal(err.code, PMS_ERR_TRANSPORT);
    assert_int_equal(err.http_status, 0);
    size_t n = count_requests(&f->srv, "/gone");
    if (n < 3 || n > 6)
        fail_msg("%zu requests for 3 attempts", n);
}

static void custom_user_agent(void **state)
{
    fixture *f = *state;
    pms_session_config cfg = base_config(f);
    cfg.http.user_agent = "pmsync-test/9.9";
    open_with(f, &cfg);
    SCRIPT(&f->srv, {503, "{}", NULL, 0}, {200, "{}", NULL, 0});
    pms_error err;
    json_t *json = NULL;
    assert_int_equal(call(f, "/data", PMS_CALL_AUTH | PMS_CALL_JSON, &json, &err), PMS_OK);
    json_decref(json);
    assert_int_equal(count_requests(&f->srv, NULL), 3); /* token, 503, 200 */
    assert_user_agent_everywhere(f, "pmsync-test/9.9");
}

static void gzip_answer_decoded(void **state)
{
    fixture *f = *state;
    if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_LIBZ))
        skip();
    open_default(f);
    SCRIPT(&f->srv, {200, "{\"appointments\":[{\"id\":\"gz-1\"}],\"pagination\":{\"next\":null}}",
                     NULL, REPLY_GZIP});
    json_t *json = NULL;
    pms_error err;
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, &json, &err), PMS_OK);
    const json_t *first = json_array_get(json_object_get(json, "appointments"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "id")), "gz-1");
    json_decref(json);
    assert_int_equal(count_requests(&f->srv, "/data"), 1);
    assert_non_null(strstr(f->srv.records[0].accept_encoding, "gzip"));
}

#define TASKS   24
#define WORKERS 4

typedef struct parallel_ctx {
    atomic_int runs[TASKS];
    atomic_int running, max_running;
    pthread_mutex_t lock;
    pms_http_client *clients[TASKS];
    size_t client_count;
} parallel_ctx;

static int parallel_task(pms_session *s, pms_http_client *client, size_t index, void *arg,
                         pms_error *err)
{
    parallel_ctx *ctx = arg;
    atomic_fetch_add(&ctx->runs[index], 1);
    int now = atomic_fetch_add(&ctx->running, 1) + 1;
    int seen = atomic_load(&ctx->max_running);
    while (now > seen && !atomic_compare_exchange_weak(&ctx->max_running, &seen, now))
        ;
    pthread_mutex_lock(&ctx->lock);
    bool known = false;
    for (size_t i = 0; i < ctx->client_count; i++)
        known = known || ctx->clients[i] == client;
    if (!known && ctx->client_count < TASKS)
        ctx->clients[ctx->client_count++] = client;
    pthread_mutex_unlock(&ctx->lock);

    char path[64];
    snprintf(path, sizeof path, "/%s/%zu", index % 4 == 0 ? "fail" : "item", index);
    char *url = pms_session_url(s, path);
    json_t *json = NULL;
    int rc = pms_session_get_json(s, client, url, &json, err);
    free(url);
    json_decref(json);
    atomic_fetch_sub(&ctx->running, 1);
    return rc;
}

static void parallel_tasks(void **state)
{
    fixture *f = *state;
    open_default(f);
    static const int rounds[] = {WORKERS, 1};
    for (size_t round = 0; round < sizeof rounds / sizeof rounds[0]; round++) {
        int concurrency = rounds[round];
        parallel_ctx ctx;
        memset(&ctx, 0, sizeof ctx);
        pthread_mutex_init(&ctx.lock, NULL);
        size_t before = count_requests(&f->srv, NULL);
        pms_error first = {0};
        size_t failed =
            pms_session_parallel(f->session, TASKS, concurrency, parallel_task, &ctx, &first);
        pthread_mutex_destroy(&ctx.lock);

        assert_int_equal(failed, TASKS / 4); /* every fourth asks for a missing resource */
        assert_int_equal(first.code, PMS_ERR_NOT_FOUND);
        assert_int_equal(first.http_status, 404);
        for (int i = 0; i < TASKS; i++)
            if (atomic_load(&ctx.runs[i]) != 1)
                fail_msg("task %d ran %d times", i, atomic_load(&ctx.runs[i]));
        assert_true(atomic_load(&ctx.max_running) <= concurrency);
        assert_true(ctx.client_count >= 1 && ctx.client_count <= (size_t)concurrency);
        for (size_t i = 0; i < ctx.client_count; i++)
            assert_non_null(ctx.clients[i]);
        size_t requests = count_requests(&f->srv, NULL) - before;
        /* one request per task, plus the token the first round mints */
        assert_int_equal(requests, TASKS + (round == 0 ? 1 : 0));
    }
    /* The workers shared one token. */
    assert_int_equal(count_requests(&f->srv, "/token"), 1);
    assert_int_equal(pms_session_get_stats(f->session).token_mints, 1);
    assert_user_agent_everywhere(f, PMS_USER_AGENT);

    pms_error untouched = {.code = PMS_OK};
    assert_int_equal(pms_session_parallel(f->session, 0, 4, parallel_task, NULL, &untouched), 0);
    assert_int_equal(untouched.code, PMS_OK);
}

typedef struct canceller {
    atomic_bool *flag;
    long after_ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    struct timespec ts = {c->after_ms / 1000, (c->after_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(c->flag, true);
    return NULL;
}

static void cancel_stops_retry_after_wait(void **state)
{
    fixture *f = *state;
    open_default(f);
    SCRIPT(&f->srv, {429, "{}", "60", 0}, {200, "{}", NULL, 0});
    canceller c = {&f->cancel, 200};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, cancel_later, &c), 0);
    pms_error err;
    pms_instant started = pms_now();
    int rc = call(f, "/data", PMS_CALL_JSON, NULL, &err);
    long elapsed = (long)(pms_now() - started);
    pthread_join(thread, NULL);
    assert_int_equal(rc, PMS_ERR_CANCELLED);
    assert_int_equal(err.code, PMS_ERR_CANCELLED);
    if (elapsed > 5000)
        fail_msg("a cancelled 60 s wait took %ld ms to stop", elapsed);
    assert_int_equal(count_requests(&f->srv, "/data"), 1);
    /* A cancelled call is not a failure of the PMS. */
    assert_int_equal(pms_session_get_stats(f->session).failures, 0);

    /* Once cancelled, nothing more is sent. */
    assert_int_equal(call(f, "/data", PMS_CALL_JSON, NULL, &err), PMS_ERR_CANCELLED);
    assert_int_equal(count_requests(&f->srv, "/data"), 1);
}

static int cleanup(void **state)
{
    (void)state;
    pms_tz_cleanup();
    pms_ratelimit_cleanup();
    return 0;
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(json_answer_parsed),
        T(server_error_retried),
        T(client_error_not_retried),
        T(retry_after_waited),
        T(retry_after_too_long_gives_up),
        T(unauthorized_remints_once),
        T(second_unauthorized_fails),
        T(reminting_does_not_use_an_attempt),
        T(attempts_run_out),
        T(non_json_2xx_retried),
        T(truncated_body_retried),
        T(dropped_connection_retried),
        T(custom_user_agent),
        T(gzip_answer_decoded),
        T(parallel_tasks),
        T(cancel_stops_retry_after_wait),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
