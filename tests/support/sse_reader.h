/* A reader of pmsd's run-sheet event stream (GET /api/run-sheet/events) on a thread of its own,
 * collecting the text it receives, for tests (no cmocka). */
#ifndef PMSYNC_TESTS_SSE_READER_H
#define PMSYNC_TESTS_SSE_READER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct tu_sse_reader {
    pthread_t thread;
    char url[256];
    char header[2][160];
    pthread_mutex_t lock;
    char *text;
    size_t len;
    atomic_int stop; /* set by tu_sse_close, read by the reader thread */
    long status;
} tu_sse_reader;

/* Opens base's stream with an API key, resuming after last_event_id (NULL: from now). 0 when
 * the thread started. */
int tu_sse_open(tu_sse_reader *r, const char *base, const char *key, const char *last_event_id);
/* Waits (bounded) until the stream's text contains needle. */
bool tu_sse_wait_for(tu_sse_reader *r, const char *needle, int timeout_ms);
void tu_sse_close(tu_sse_reader *r);

#endif
