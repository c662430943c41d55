/* Records a sync reads from its PMS at most once each (patients, say), shared by the threads of
 * one session: the first thread asking for an id reads it while the others wait for its answer;
 * a record that could not be read is not asked for again in this session. Internal to
 * src/adapters/. */
#ifndef PMSYNC_ADAPTERS_READ_ONCE_H
#define PMSYNC_ADAPTERS_READ_ONCE_H

#include <jansson.h>
#include <pthread.h>

#include "pmsync/error.h"
#include "pmsync/session.h"

typedef struct pms_read_once {
    pthread_mutex_t lock;
    pthread_cond_t resolved;
    json_t *records; /* id -> record, null (could not be read) or "pending" (being read) */
} pms_read_once;

int pms_read_once_init(pms_read_once *c, pms_error *err);
void pms_read_once_clear(pms_read_once *c);

/* Reads one record from the PMS: *record a new reference (NULL: none) on PMS_OK. */
typedef int (*pms_read_one_fn)(pms_session *s, pms_http_client *client, const char *id,
                               json_t **record, pms_error *err);

/* The record with this id (a new reference), read with read_one when no thread has asked for it
 * yet in this session; NULL with err set when it could not be read, now or before. */
json_t *pms_read_once_get(pms_read_once *c, pms_session *s, pms_http_client *client, const char *id,
                          pms_read_one_fn read_one, pms_error *err);

/* The records of every key of `wanted` (an object used as a set), read in parallel (the
 * session's "concurrency" setting, default 4): a new object id -> record. One that cannot be
 * read is left out, and logged as log_event with the connection and the reason (never the
 * record): its appointments keep the id alone. */
json_t *pms_read_once_all(pms_read_once *c, pms_session *s, const json_t *wanted,
                          pms_read_one_fn read_one, const char *log_event);

#endif
