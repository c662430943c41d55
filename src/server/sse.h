/* Live updates: a hub of Server-Sent Event streams, one set per account.
 *
 * Events get increasing ids and are kept in a ring, so a client that reconnects with
 * Last-Event-ID receives what it missed (or a "reset" event when the ring no longer holds it).
 * An idle stream's connection is suspended; publishing resumes it. A heartbeat comment every few
 * seconds keeps proxies open and finds clients that went away (libmicrohttpd does not see a
 * suspended connection close). A client too slow to take its events is disconnected and must
 * reconnect. Events carry ids and dates, never patient data. Thread-safe.
 */
#ifndef PMSD_SSE_H
#define PMSD_SSE_H

#include <jansson.h>
#include <stddef.h>

#include "pmsync/error.h"

struct MHD_Connection;
struct MHD_Response;
typedef struct pmsd_hub pmsd_hub;
typedef struct pmsd_sse_stream pmsd_sse_stream;

int pmsd_hub_new(int heartbeat_seconds, size_t max_streams, size_t ring_size, pmsd_hub **out,
                 pms_error *err);
/* Frees the hub. Only after the HTTP daemon has stopped: its streams' responses refer to it. */
void pmsd_hub_free(pmsd_hub *hub);

/* Sends an event to an account's streams (every stream when account_id is NULL). data is
 * stolen. */
void pmsd_hub_publish(pmsd_hub *hub, const char *account_id, const char *type, json_t *data);

/* A new stream for an account, replaying the events after last_event_id (may be NULL).
 * PMS_ERR_CONFLICT when the hub is full, PMS_ERR_CANCELLED when it is closing. */
int pmsd_hub_subscribe(pmsd_hub *hub, const char *account_id, const char *last_event_id,
                       pmsd_sse_stream **out, pms_error *err);
/* The response that streams it on conn (takes the stream; freed with the response). */
struct MHD_Response *pmsd_sse_response(pmsd_sse_stream *stream, struct MHD_Connection *conn);
/* Drops a stream that never got a response. */
void pmsd_sse_discard(pmsd_sse_stream *stream);

/* Ends every stream (shutdown): their connections are resumed and finish. */
void pmsd_hub_close(pmsd_hub *hub);
/* Streams open now. */
size_t pmsd_hub_streams(pmsd_hub *hub);
/* The id the next event will get. */
unsigned long long pmsd_hub_next_id(pmsd_hub *hub);

#endif
