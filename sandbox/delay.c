#include "delay.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef struct waiter {
    int64_t due_ns; /* CLOCK_MONOTONIC */
    struct MHD_Connection *conn;
} waiter;

static pthread_mutex_t delay_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t delay_cond;
static pthread_t delay_thread;
static bool running;
static bool stopping;
static waiter *heap;
static size_t heap_count, heap_capacity;

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void heap_push(waiter w)
{
    size_t i = heap_count++;
    heap[i] = w;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap[parent].due_ns <= heap[i].due_ns)
            break;
        waiter tmp = heap[parent];
        heap[parent] = heap[i];
        heap[i] = tmp;
        i = parent;
    }
}

static waiter heap_pop(void)
{
    waiter top = heap[0];
    heap[0] = heap[--heap_count];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_count && heap[l].due_ns < heap[m].due_ns)
            m = l;
        if (r < heap_count && heap[r].due_ns < heap[m].due_ns)
            m = r;
        if (m == i)
            break;
        waiter tmp = heap[m];
        heap[m] = heap[i];
        heap[i] = tmp;
        i = m;
    }
    return top;
}

static void *delay_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&delay_lock);
    while (!stopping) {
        if (heap_count == 0) {
            pthread_cond_wait(&delay_cond, &delay_lock);
            continue;
        }
        int64_t now = monotonic_ns();
        if (heap[0].due_ns <= now) {
            waiter w = heap_pop();
            pthread_mutex_unlock(&delay_lock);
            MHD_resume_connection(w.conn);
            pthread_mutex_lock(&delay_lock);
            continue;
        }
        struct timespec until = {.tv_sec = (time_t)(heap[0].due_ns / 1000000000),
                                 .tv_nsec = (long)(heap[0].due_ns % 1000000000)};
        pthread_cond_timedwait(&delay_cond, &delay_lock, &until);
    }
    pthread_mutex_unlock(&delay_lock);
    return NULL;
}

int sbx_delay_start(pms_error *err)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&delay_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return pms_error_set(err, PMS_ERR_IO, "cannot create the delay condition");
    stopping = false;
    if (pthread_create(&delay_thread, NULL, delay_main, NULL) != 0) {
        pthread_cond_destroy(&delay_cond);
        return pms_error_set(err, PMS_ERR_IO, "cannot start the delay thread");
    }
    running = true;
    return PMS_OK;
}

bool sbx_delay_suspend(struct MHD_Connection *conn, int delay_ms)
{
    bool ok = false;
    pthread_mutex_lock(&delay_lock);
    if (!running || stopping)
        goto out;
    if (heap_count == heap_capacity) {
        size_t capacity = heap_capacity == 0 ? 64 : heap_capacity * 2;
        waiter *grown = realloc(heap, capacity * sizeof(*grown));
        if (grown == NULL)
            goto out;
        heap = grown;
        heap_capacity = capacity;
    }
    MHD_suspend_connection(conn);
    heap_push((waiter){.due_ns = monotonic_ns() + (int64_t)delay_ms * 1000000, .conn = conn});
    pthread_cond_signal(&delay_cond);
    ok = true;
out:
    pthread_mutex_unlock(&delay_lock);
    return ok;
}

void sbx_delay_stop(void)
{
    pthread_mutex_lock(&delay_lock);
    if (!running) {
        pthread_mutex_unlock(&delay_lock);
        return;
    }
    stopping = true;
    pthread_cond_signal(&delay_cond);
    pthread_mutex_unlock(&delay_lock);
    pthread_join(delay_thread, NULL);
    /* No thread adds waiters any more (stopping is set): resume the rest, outside the lock. */
    pthread_mutex_lock(&delay_lock);
    waiter *rest = heap;
    size_t rest_count = heap_count;
    heap = NULL;
    heap_count = 0;
    heap_capacity = 0;
    running = false;
    pthread_mutex_unlock(&delay_lock);
    for (size_t i = 0; i < rest_count; i++)
        MHD_resume_connection(rest[i].conn);
    free(rest);
    pthread_cond_destroy(&delay_cond);
}
