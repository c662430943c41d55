#include "server/sse.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STREAM_BUFFER_LIMIT (1u << 20) /* a client this far behind is disconnected */

typedef struct ring_event {
    unsigned long long id;
    char account[64];
    char *text; /* "id: …\nevent: …\ndata: …\n\n" */
} ring_event;

struct pmsd_sse_stream {
    pmsd_hub *hub;
    char account[64];
    struct MHD_Connection *conn; /* set when the response is created */
    char *pending;
    size_t len, cap;
    bool suspended;
    bool closed; /* ends after the pending bytes */
    pmsd_sse_stream *next;
};

struct pmsd_hub {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pmsd_sse_stream *streams;
    size_t stream_count, max_streams;
    ring_event *ring;
    size_t ring_size, ring_start, ring_count;
    unsigned long long next_id;
    int heartbeat_seconds;
    bool closing;
    pthread_t heartbeat;
    bool heartbeat_running;
};

/* Appends bytes to a stream; a stream that falls too far behind is closed. Hub locked. */
static void stream_append(pmsd_sse_stream *s, const char *text, size_t n)
{
    if (s->closed)
        return;
    if (s->len + n > STREAM_BUFFER_LIMIT) {
        s->closed = true;
        return;
    }
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap < s->len + n)
            cap *= 2;
        char *grown = realloc(s->pending, cap);
        if (grown == NULL) {
            s->closed = true;
            return;
        }
        s->pending = grown;
        s->cap = cap;
    }
    memcpy(s->pending + s->len, text, n);
    s->len += n;
}

/* Wakes a suspended stream so libmicrohttpd calls its reader again. Hub locked. */
static void stream_wake(pmsd_sse_stream *s)
{
    if (s->suspended && s->conn) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    pmsd_sse_stream *s = cls;
    pmsd_hub *hub = s->hub;
    pthread_mutex_lock(&hub->lock);
    ssize_t n;
    if (s->len > 0) {
        size_t take = s->len < max ? s->len : max;
        memcpy(buf, s->pending, take);
        memmove(s->pending, s->pending + take, s->len - take);
        s->len -= take;
        n = (ssize_t)take;
    } else if (s->closed || hub->closing) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* Nothing to send: park the connection until the next event or heartbeat. */
        s->suspended = true;
        MHD_suspend_connection(s->conn);
        n = 0;
    }
    pthread_mutex_unlock(&hub->lock);
    return n;
}

static void stream_unlink(pmsd_hub *hub, pmsd_sse_stream *s)
{
    for (pmsd_sse_stream **p = &hub->streams; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            hub->stream_count--;
            break;
        }
    }
    pthread_cond_broadcast(&hub->wake);
}

static void stream_free(void *cls)
{
    pmsd_sse_stream *s = cls;
    pmsd_hub *hub = s->hub;
    pthread_mutex_lock(&hub->lock);
    stream_unlink(hub, s);
    pthread_mutex_unlock(&hub->lock);
    free(s->pending);
    free(s);
}

void pmsd_sse_discard(pmsd_sse_stream *stream)
{
    if (stream)
        stream_free(stream);
}

static void *heartbeat_loop(void *arg)
{
    pmsd_hub *hub = arg;
    static const char ping[] = ": ping\n\n";
    struct timespec next_beat;
    clock_gettime(CLOCK_REALTIME, &next_beat);
    next_beat.tv_sec += hub->heartbeat_seconds;
    pthread_mutex_lock(&hub->lock);
    while (!hub->closing) {
        /* Other wake-ups (streams closing) do not move the schedule. */
        pthread_cond_timedwait(&hub->wake, &hub->lock, &next_beat);
        if (hub->closing)
            break;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec < next_beat.tv_sec ||
            (now.tv_sec == next_beat.tv_sec && now.tv_nsec < next_beat.tv_nsec))
            continue;
        for (pmsd_sse_stream *s = hub->streams; s; s = s->next) {
            stream_append(s, ping, sizeof ping - 1);
            stream_wake(s);
        }
        next_beat = now;
        next_beat.tv_sec += hub->heartbeat_seconds;
    }
    pthread_mutex_unlock(&hub->lock);
    return NULL;
}

int pmsd_hub_new(int heartbeat_seconds, size_t max_streams, size_t ring_size, pmsd_hub **out,
                 pms_error *err)
{
    pmsd_hub *hub = calloc(1, sizeof *hub);
    if (hub == NULL || (hub->ring = calloc(ring_size, sizeof *hub->ring)) == NULL) {
        free(hub);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&hub->lock, NULL);
    pthread_cond_init(&hub->wake, NULL);
    hub->ring_size = ring_size;
    hub->max_streams = max_streams;
    hub->heartbeat_seconds = heartbeat_seconds > 0 ? heartbeat_seconds : 15;
    hub->next_id = 1;
    if (pthread_create(&hub->heartbeat, NULL, heartbeat_loop, hub) != 0) {
        pmsd_hub_free(hub);
        return pms_error_set(err, PMS_ERR_IO, "cannot start the event heartbeat");
    }
    hub->heartbeat_running = true;
    *out = hub;
    return PMS_OK;
}

void pmsd_hub_close(pmsd_hub *hub)
{
    pthread_mutex_lock(&hub->lock);
    hub->closing = true;
    for (pmsd_sse_stream *s = hub->streams; s; s = s->next) {
        s->closed = true;
        stream_wake(s);
    }
    pthread_cond_broadcast(&hub->wake);
    pthread_mutex_unlock(&hub->lock);
}

void pmsd_hub_free(pmsd_hub *hub)
{
    if (hub == NULL)
        return;
    pmsd_hub_close(hub);
    if (hub->heartbeat_running)
        pthread_join(hub->heartbeat, NULL);
    for (size_t i = 0; i < hub->ring_size; i++)
        free(hub->ring[i].text);
    free(hub->ring);
    pthread_cond_destroy(&hub->wake);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}

/* Whether an event (of an account, or "" for every account) goes to a stream's account. */
static bool event_for(const char *event_account, const char *stream_account)
{
    return event_account[0] == '\0' || strcmp(event_account, stream_account) == 0;
}

void pmsd_hub_publish(pmsd_hub *hub, const char *account_id, const char *type, json_t *data)
{
    if (account_id == NULL)
        account_id = "";
    char *payload = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    if (payload == NULL)
        return;
    pthread_mutex_lock(&hub->lock);
    unsigned long long id = hub->next_id++;
    char *text = NULL;
    int n = asprintf(&text, "id: %llu\nevent: %s\ndata: %s\n\n", id, type, payload);
    free(payload);
    if (n < 0) {
        pthread_mutex_unlock(&hub->lock);
        return;
    }
    size_t slot = (hub->ring_start + hub->ring_count) % hub->ring_size;
    if (hub->ring_count == hub->ring_size) {
        slot = hub->ring_start;
        hub->ring_start = (hub->ring_start + 1) % hub->ring_size;
    } else {
        hub->ring_count++;
    }
    free(hub->ring[slot].text);
    hub->ring[slot].id = id;
    snprintf(hub->ring[slot].account, sizeof hub->ring[slot].account, "%s", account_id);
    hub->ring[slot].text = text;
    for (pmsd_sse_stream *s = hub->streams; s; s = s->next) {
        if (!event_for(account_id, s->account))
            continue;
        stream_append(s, text, (size_t)n);
        stream_wake(s);
    }
    pthread_mutex_unlock(&hub->lock);
}

/* Queues the ring's events after `after` for the stream's account. Hub locked. */
static void replay(pmsd_hub *hub, pmsd_sse_stream *s, unsigned long long after)
{
    unsigned long long oldest = hub->ring_count ? hub->ring[hub->ring_start].id : hub->next_id;
    if (after + 1 < oldest) {
        /* Events were dropped from the ring since: the client must reload. */
        char text[128];
        int n = snprintf(text, sizeof text,
                         "id: %llu\nevent: reset\ndata: {\"reason\":\"missed events\"}\n\n",
                         hub->next_id - 1);
        stream_append(s, text, (size_t)n);
        return;
    }
    for (size_t i = 0; i < hub->ring_count; i++) {
        ring_event *e = &hub->ring[(hub->ring_start + i) % hub->ring_size];
        if (e->id > after && event_for(e->account, s->account))
            stream_append(s, e->text, strlen(e->text));
    }
}

int pmsd_hub_subscribe(pmsd_hub *hub, const char *account_id, const char *last_event_id,
                       pmsd_sse_stream **out, pms_error *err)
{
    pmsd_sse_stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    s->hub = hub;
    snprintf(s->account, sizeof s->account, "%s", account_id);
    pthread_mutex_lock(&hub->lock);
    if (hub->closing) {
        pthread_mutex_unlock(&hub->lock);
        free(s);
        return pms_error_set(err, PMS_ERR_CANCELLED, "the server is shutting down");
    }
    if (hub->stream_count >= hub->max_streams) {
        pthread_mutex_unlock(&hub->lock);
        free(s);
        return pms_error_set(err, PMS_ERR_CONFLICT, "too many open event streams");
    }
    static const char hello[] = "retry: 3000\n: connected\n\n";
    stream_append(s, hello, sizeof hello - 1);
    if (last_event_id && last_event_id[0]) {
        char *end;
        unsigned long long after = strtoull(last_event_id, &end, 10);
        if (*end == '\0')
            replay(hub, s, after);
    }
    s->next = hub->streams;
    hub->streams = s;
    hub->stream_count++;
    pthread_mutex_unlock(&hub->lock);
    *out = s;
    return PMS_OK;
}

struct MHD_Response *pmsd_sse_response(pmsd_sse_stream *stream, struct MHD_Connection *conn)
{
    pthread_mutex_lock(&stream->hub->lock);
    stream->conn = conn;
    pthread_mutex_unlock(&stream->hub->lock);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
                                                               stream_reader, stream, stream_free);
    if (r == NULL) {
        stream_free(stream);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return r;
}

size_t pmsd_hub_streams(pmsd_hub *hub)
{
    pthread_mutex_lock(&hub->lock);
    size_t n = hub->stream_count;
    pthread_mutex_unlock(&hub->lock);
    return n;
}

unsigned long long pmsd_hub_next_id(pmsd_hub *hub)
{
    pthread_mutex_lock(&hub->lock);
    unsigned long long n = hub->next_id;
    pthread_mutex_unlock(&hub->lock);
    return n;
}
