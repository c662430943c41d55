/* Failed sign-ins per client address, in a fixed table under one mutex (sign-ins are rare:
 * a linear scan is cheap enough and keeps the memory bound obvious). */
#include "server/throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct client {
    char addr[64];
    pms_instant failures[PMSD_THROTTLE_MAX_FAILURES]; /* a ring of the latest */
    int count;                                        /* held in the ring (<= max_failures) */
    int next;                                         /* where the next failure goes */
    pms_instant last;                                 /* the latest failure */
} client;

struct pmsd_throttle {
    pthread_mutex_t lock;
    client *clients;
    size_t capacity, used;
    int max_failures;
    pms_instant window_ms;
};

int pmsd_throttle_new(size_t capacity, int max_failures, pms_instant window_ms, pmsd_throttle **out,
                      pms_error *err)
{
    *out = NULL;
    if (capacity == 0 || max_failures < 1 || max_failures > PMSD_THROTTLE_MAX_FAILURES ||
        window_ms <= 0)
        return pms_error_set(err, PMS_ERR_INVALID, "bad sign-in throttle limits");
    pmsd_throttle *t = calloc(1, sizeof *t);
    if (t == NULL || (t->clients = calloc(capacity, sizeof *t->clients)) == NULL) {
        free(t);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&t->lock, NULL);
    t->capacity = capacity;
    t->max_failures = max_failures;
    t->window_ms = window_ms;
    *out = t;
    return PMS_OK;
}

void pmsd_throttle_free(pmsd_throttle *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->clients);
    free(t);
}

static client *find(pmsd_throttle *t, const char *addr)
{
    for (size_t i = 0; i < t->used; i++)
        if (strcmp(t->clients[i].addr, addr) == 0)
            return &t->clients[i];
    return NULL;
}

long pmsd_throttle_wait(pmsd_throttle *t, const char *addr, pms_instant now)
{
    long seconds = 0;
    pthread_mutex_lock(&t->lock);
    const client *c = find(t, addr);
    if (c && c->count == t->max_failures) {
        pms_instant oldest = c->failures[c->next]; /* the ring is full: next is the oldest */
        pms_instant free_at = oldest + t->window_ms;
        if (free_at > now)
            seconds = (long)((free_at - now + 999) / 1000);
    }
    pthread_mutex_unlock(&t->lock);
    return seconds;
}

/* A slot for a new address: a free one, else one with no failure in the window, else the one
 * whose latest failure is oldest. */
static client *make_room(pmsd_throttle *t, pms_instant now)
{
    if (t->used < t->capacity)
        return &t->clients[t->used++];
    client *oldest = &t->clients[0];
    for (size_t i = 0; i < t->used; i++) {
        if (t->clients[i].last <= now - t->window_ms)
            return &t->clients[i];
        if (t->clients[i].last < oldest->last)
            oldest = &t->clients[i];
    }
    return oldest;
}

void pmsd_throttle_failed(pmsd_throttle *t, const char *addr, pms_instant now)
{
    pthread_mutex_lock(&t->lock);
    client *c = find(t, addr);
    if (c == NULL) {
        c = make_room(t, now);
        memset(c, 0, sizeof *c);
        snprintf(c->addr, sizeof c->addr, "%s", addr);
    }
    c->failures[c->next] = now;
    c->next = (c->next + 1) % t->max_failures;
    if (c->count < t->max_failures)
        c->count++;
    c->last = now;
    pthread_mutex_unlock(&t->lock);
}

size_t pmsd_throttle_size(pmsd_throttle *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->used;
    pthread_mutex_unlock(&t->lock);
    return n;
}
