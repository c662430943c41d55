#include "server/sheet_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 256

typedef struct slot {
    char *key;
    char *version;
    char *text;
    size_t len;
    json_t *patients;
    uint64_t used; /* last use, for eviction */
} slot;

struct pmsd_sheet_cache {
    pthread_mutex_t lock;
    slot slots[SLOTS];
    size_t bytes, max_bytes;
    uint64_t clock;
};

static void slot_clear(pmsd_sheet_cache *c, slot *s)
{
    c->bytes -= s->key ? s->len : 0;
    free(s->key);
    free(s->version);
    free(s->text);
    json_decref(s->patients);
    memset(s, 0, sizeof *s);
}

pmsd_sheet_cache *pmsd_sheet_cache_new(size_t max_bytes)
{
    pmsd_sheet_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->max_bytes = max_bytes;
    return c;
}

void pmsd_sheet_cache_free(pmsd_sheet_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < SLOTS; i++)
        slot_clear(c, &c->slots[i]);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static slot *find(pmsd_sheet_cache *c, const char *key)
{
    for (size_t i = 0; i < SLOTS; i++)
        if (c->slots[i].key && strcmp(c->slots[i].key, key) == 0)
            return &c->slots[i];
    return NULL;
}

bool pmsd_sheet_cache_get(pmsd_sheet_cache *c, const char *key, const char *version, char **text,
                          size_t *len, json_t **patients)
{
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    slot *s = find(c, key);
    if (s && strcmp(s->version, version) == 0) {
        *text = malloc(s->len + 1);
        *patients = json_deep_copy(s->patients);
        if (*text && *patients) {
            memcpy(*text, s->text, s->len + 1);
            *len = s->len;
            s->used = ++c->clock;
            hit = true;
        } else {
            free(*text);
            json_decref(*patients);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

/* The least recently used slot in use; NULL when all are empty. */
static slot *least_recent(pmsd_sheet_cache *c)
{
    slot *oldest = NULL;
    for (size_t i = 0; i < SLOTS; i++)
        if (c->slots[i].key && (oldest == NULL || c->slots[i].used < oldest->used))
            oldest = &c->slots[i];
    return oldest;
}

/* An empty slot, or the least recently used one emptied. */
static slot *free_slot(pmsd_sheet_cache *c)
{
    for (size_t i = 0; i < SLOTS; i++)
        if (c->slots[i].key == NULL)
            return &c->slots[i];
    slot *s = least_recent(c);
    slot_clear(c, s);
    return s;
}

void pmsd_sheet_cache_put(pmsd_sheet_cache *c, const char *key, const char *version,
                          const char *text, size_t len, const json_t *patients)
{
    if (len > c->max_bytes)
        return;
    slot fresh = {
        .key = strdup(key),
        .version = strdup(version),
        .text = malloc(len + 1),
        .len = len,
        .patients = json_deep_copy(patients),
    };
    if (fresh.key == NULL || fresh.version == NULL || fresh.text == NULL ||
        fresh.patients == NULL) {
        free(fresh.key);
        free(fresh.version);
        free(fresh.text);
        json_decref(fresh.patients);
        return;
    }
    memcpy(fresh.text, text, len);
    fresh.text[len] = '\0';
    pthread_mutex_lock(&c->lock);
    slot *s = find(c, key);
    if (s)
        slot_clear(c, s);
    slot *old;
    while (c->bytes + len > c->max_bytes && (old = least_recent(c)) != NULL)
        slot_clear(c, old);
    s = free_slot(c);
    fresh.used = ++c->clock;
    *s = fresh;
    c->bytes += len;
    pthread_mutex_unlock(&c->lock);
}
