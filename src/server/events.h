/* What pmsd does with sync engine events and its own run-sheet changes: live-update events to
 * the account's streams (ids and dates only, never patient data), metrics, and the audit record
 * of what a sync wrote. */
#ifndef PMSD_EVENTS_H
#define PMSD_EVENTS_H

#include "pmsync/sync.h"
#include "server/app.h"

/* An appointment of a run sheet changed through the API: type is "appointment.created",
 * "appointment.updated" or "appointment.removed". */
void pmsd_publish_entry(pmsd_app *app, const pms_sheet_entry *e, const char *type);

/* Any event to the account's streams (and other workers'); data (ids and states only) stolen. */
void pmsd_publish(pmsd_app *app, const char *account_id, const char *type, json_t *data);

/* At most this many sync.progress events a second per sync. */
#define PMSD_PROGRESS_PER_SECOND 4

/* A notification from another worker sharing the database (ctx is the app): a requested sync
 * wakes the scheduler; another worker's run-sheet event goes to this worker's streams. */
void pmsd_on_notification(void *ctx, const char *channel, const char *payload);

/* Scheduler callbacks (ctx is the app). */
void pmsd_on_sync_event(void *ctx, const pms_sync_event *e);
/* A sync's counts so far: the event sync.progress. */
void pmsd_on_sync_progress(void *ctx, const char *account_id, const char *connection_id,
                           const pms_sync_progress *p);
/* Inside a sync unit's transaction: the audit record of what it wrote. */
int pmsd_on_sync_batch(void *ctx, pms_store *st, const pms_sync_batch *batch, pms_error *err);
void pmsd_on_sync_finished(void *ctx, const char *account_id, const char *connection_id,
                           const char *pms_type, int rc, const pms_sync_result *result,
                           const json_t *patient_ids);

#endif
