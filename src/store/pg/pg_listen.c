/* The PostgreSQL listener: a connection and a thread of its own, LISTEN on each channel, the
 * socket and a stop pipe waited on with poll(), notifications handed on in the order they
 * arrive. A lost connection is made again with a growing pause (0.1 s doubling to 5 s); then the
 * callback hears (NULL, "reconnected"), since notifications sent meanwhile are lost. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmsync/crypto.h"
#include "store/pg/pg_internal.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   5000

struct pg_listener {
    char *location;
    char **channels; /* NULL-terminated */
    pms_notification_fn fn;
    void *ctx;
    PGconn *conn;
    int stop_pipe[2];
    pthread_t thread;
};

/* Connects and listens on every channel. */
static int listen_all(pg_listener *l, pms_error *err)
{
    int rc = pg_connect(l->location, &l->conn, err);
    for (size_t i = 0; rc == PMS_OK && l->channels[i]; i++) {
        char *name = PQescapeIdentifier(l->conn, l->channels[i], strlen(l->channels[i]));
        char *sql = NULL;
        if (name == NULL || asprintf(&sql, "LISTEN %s", name) < 0) {
            sql = NULL;
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        } else {
            PGresult *res = PQexec(l->conn, sql);
            if (PQresultStatus(res) != PGRES_COMMAND_OK)
                rc = pg_fail(l->conn, res, "listening for notifications", err);
            PQclear(res);
        }
        PQfreemem(name);
        free(sql);
    }
    if (rc != PMS_OK && l->conn) {
        PQfinish(l->conn);
        l->conn = NULL;
    }
    return rc;
}

/* Waits ms for the stop pipe; true when asked to stop. */
static bool stop_within(pg_listener *l, int ms)
{
    struct pollfd p = {.fd = l->stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

/* Hands on what has arrived; false when the connection is gone. */
static bool deliver(pg_listener *l)
{
    if (!PQconsumeInput(l->conn))
        return false;
    PGnotify *n;
    while ((n = PQnotifies(l->conn)) != NULL) {
        l->fn(l->ctx, n->relname, n->extra);
        PQfreemem(n);
    }
    return PQstatus(l->conn) == CONNECTION_OK;
}

static void *run(void *arg)
{
    pg_listener *l = arg;
    int backoff = BACKOFF_FIRST_MS;
    for (;;) {
        if (l->conn == NULL) {
            if (stop_within(l, backoff))
                break;
            if (listen_all(l, NULL) != PMS_OK) {
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            backoff = BACKOFF_FIRST_MS;
            l->fn(l->ctx, NULL, "reconnected");
        }
        struct pollfd p[2] = {{.fd = PQsocket(l->conn), .events = POLLIN},
                              {.fd = l->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (p[0].revents && !deliver(l)) {
            PQfinish(l->conn);
            l->conn = NULL;
        }
    }
    return NULL;
}

static void listener_free(pg_listener *l)
{
    if (l == NULL)
        return;
    if (l->conn)
        PQfinish(l->conn);
    for (size_t i = 0; l->channels && l->channels[i]; i++)
        free(l->channels[i]);
    free(l->channels);
    if (l->location)
        pms_secure_free(l->location, strlen(l->location));
    if (l->stop_pipe[0] >= 0)
        close(l->stop_pipe[0]);
    if (l->stop_pipe[1] >= 0)
        close(l->stop_pipe[1]);
    free(l);
}

int pg_listener_start(const char *location, const char *const *channels, pms_notification_fn fn,
                      void *ctx, pg_listener **out, pms_error *err)
{
    *out = NULL;
    pg_listener *l = calloc(1, sizeof *l);
    if (l == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    l->stop_pipe[0] = l->stop_pipe[1] = -1;
    l->fn = fn;
    l->ctx = ctx;
    size_t count = 0;
    while (channels && channels[count])
        count++;
    bool oom = (l->location = strdup(location)) == NULL ||
               (l->channels = calloc(count + 1, sizeof *l->channels)) == NULL;
    for (size_t i = 0; !oom && i < count; i++)
        oom = (l->channels[i] = strdup(channels[i])) == NULL;
    int rc = oom ? pms_error_set(err, PMS_ERR_NOMEM, "out of memory") : PMS_OK;
    if (rc == PMS_OK && pipe2(l->stop_pipe, O_CLOEXEC) != 0)
        rc = pms_error_set(err, PMS_ERR_IO, "cannot make a pipe: %s", strerror(errno));
    if (rc == PMS_OK)
        rc = listen_all(l, err);
    if (rc == PMS_OK && pthread_create(&l->thread, NULL, run, l) != 0)
        rc = pms_error_set(err, PMS_ERR_IO, "cannot start the listener's thread");
    if (rc != PMS_OK) {
        listener_free(l);
        return rc;
    }
    *out = l;
    return PMS_OK;
}

void pg_listener_stop(pg_listener *l)
{
    if (l == NULL)
        return;
    if (write(l->stop_pipe[1], "x", 1) != 1) {
        /* a full pipe is a stop asked already */
    }
    pthread_join(l->thread, NULL);
    listener_free(l);
}
