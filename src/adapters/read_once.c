#include "adapters/read_once.h"

#include <stdlib.h>

#include "pmsync/log.h"

int pms_read_once_init(pms_read_once *c, pms_error *err)
{
    c->records = json_object();
    if (c->records == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->resolved, NULL);
    return PMS_OK;
}

void pms_read_once_clear(pms_read_once *c)
{
    if (c->records == NULL)
        return;
    json_decref(c->records);
    c->records = NULL;
    pthread_cond_destroy(&c->resolved);
    pthread_mutex_destroy(&c->lock);
}

json_t *pms_read_once_get(pms_read_once *c, pms_session *s, pms_http_client *client, const char *id,
                          pms_read_one_fn read_one, pms_error *err)
{
    pthread_mutex_lock(&c->lock);
    for (;;) {
        json_t *cached = json_object_get(c->records, id);
        if (cached == NULL)
            break;
        if (json_is_string(cached)) { /* "pending": another thread is reading it */
            pthread_cond_wait(&c->resolved, &c->lock);
            continue;
        }
        json_incref(cached);
        pthread_mutex_unlock(&c->lock);
        if (json_is_null(cached)) {
            json_decref(cached);
            pms_error_set(err, PMS_ERR_NOT_FOUND, "the record could not be read earlier");
            return NULL;
        }
        return cached;
    }
    json_object_set_new(c->records, id, json_string("pending"));
    pthread_mutex_unlock(&c->lock);

    json_t *record = NULL;
    int rc = read_one(s, client, id, &record, err);
    if (rc == PMS_OK && record == NULL)
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "the PMS sent an empty record");
    if (rc != PMS_OK) {
        json_decref(record);
        record = NULL;
    }
    pthread_mutex_lock(&c->lock);
    json_object_set(c->records, id, record ? record : json_null());
    pthread_cond_broadcast(&c->resolved);
    pthread_mutex_unlock(&c->lock);
    return record;
}

typedef struct read_batch {
    pms_read_once *cache;
    pms_read_one_fn read_one;
    const char *log_event;
    const char **ids;
    json_t *found;
    pthread_mutex_t lock;
} read_batch;

static int read_task(pms_session *s, pms_http_client *client, size_t index, void *arg,
                     pms_error *err)
{
    read_batch *b = arg;
    json_t *record = pms_read_once_get(b->cache, s, client, b->ids[index], b->read_one, err);
    if (record == NULL) {
        pms_log(PMS_LOG_WARN, b->log_event, "connection", pms_session_connection_id(s), "reason",
                err ? err->message : "", NULL);
        return PMS_OK;
    }
    pthread_mutex_lock(&b->lock);
    json_object_set_new(b->found, b->ids[index], record);
    pthread_mutex_unlock(&b->lock);
    return PMS_OK;
}

json_t *pms_read_once_all(pms_read_once *c, pms_session *s, const json_t *wanted,
                          pms_read_one_fn read_one, const char *log_event)
{
    read_batch b = {
        .cache = c, .read_one = read_one, .log_event = log_event, .found = json_object()};
    b.ids = calloc(json_object_size(wanted) + 1, sizeof *b.ids);
    size_t n = 0;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)wanted, key, value)
    {
        if (b.ids)
            b.ids[n++] = key;
    }
    pthread_mutex_init(&b.lock, NULL);
    int concurrency = (int)pms_session_setting_long(s, "concurrency", 1, 16, 4);
    pms_error first = {0};
    pms_session_parallel(s, n, concurrency, read_task, &b, &first);
    pthread_mutex_destroy(&b.lock);
    free(b.ids);
    return b.found;
}
