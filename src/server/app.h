/* pmsd's application context: configuration, key ring, services, per-thread store handles. */
#ifndef PMSD_APP_H
#define PMSD_APP_H

#include <pthread.h>
#include <stdatomic.h>

#include "pmsync/crypto.h"
#include "pmsync/scheduler.h"
#include "pmsync/store.h"
#include "server/config.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/sheet_cache.h"
#include "server/sse.h"
#include "server/throttle.h"

struct MHD_Daemon;

struct pmsd_app {
    pmsd_config cfg;
    pms_keyring *ring; /* NULL when no key is configured (no secrets can be stored) */
    pthread_key_t store_key;
    pmsd_hub *hub;
    pms_scheduler *scheduler;
    pmsd_metrics *metrics;
    pmsd_sheet_cache *sheets; /* rendered run sheets */
    char worker[128];         /* this process among the workers of the database */
    bool shared;              /* the database is shared with other workers (PostgreSQL) */
    struct pms_listener *listener; /* notifications from the other workers */
    pmsd_throttle *signins;   /* failed sign-ins per client address */
    struct MHD_Daemon *daemon;
    int port;
    atomic_bool stopping;
    pms_instant started_at;
};

/* This thread's store handle (opened on first use, closed when the thread ends). NULL with err
 * when the database cannot be opened. */
pms_store *pmsd_store(pmsd_app *app, pms_error *err);
int pmsd_app_init_store_key(pmsd_app *app);

/* In a handler: this thread's store, or a 503 in resp and NULL. */
pms_store *pmsd_req_store(pmsd_request *req, pmsd_response *resp);

/* Starts and stops the HTTP server (server.c). */
int pmsd_server_start(pmsd_app *app, pms_error *err);
/* Stops accepting connections; requests in flight finish. */
void pmsd_server_quiesce(pmsd_app *app);
void pmsd_server_stop(pmsd_app *app);

#endif
