/* Notifications between pmsd workers sharing a database: a listener receives what any worker
 * sent with st->ops->notify (PostgreSQL LISTEN/NOTIFY). With SQLite there is one process and
 * nothing to receive: the listener starts and never calls back. */
#ifndef PMSYNC_LISTEN_H
#define PMSYNC_LISTEN_H

#include "pmsync/error.h"

typedef struct pms_listener pms_listener;

/* Called on the listener's own thread for each notification, in the order they were sent. */
typedef void (*pms_notification_fn)(void *ctx, const char *channel, const char *payload);

/* Listens on channels (NULL-terminated) of the database at location, on a connection and a
 * thread of its own; reconnects (and tells fn with channel NULL, payload "reconnected": some
 * notifications may have been missed) when the database goes away. */
int pms_listener_start(const char *location, const char *const *channels, pms_notification_fn fn,
                       void *ctx, pms_listener **out, pms_error *err);
/* Stops listening and joins the thread; NULL is a no-op. */
void pms_listener_stop(pms_listener *l);

#endif
