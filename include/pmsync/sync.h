/* The sync engine: PMS-agnostic. It consumes unified appointments from an adapter and decides
 * creates, updates, skips and removals on the run sheet, by the plan's rules:
 *
 *  - only practitioners with an enabled mapping to a run-sheet clinician are synced;
 *  - telehealth-only connections keep telehealth appointments only; types can be excluded;
 *  - every write is an upsert keyed on (connection, PMS appointment id), one transaction per
 *    batch; an unchanged record (same content hash) is not written at all;
 *  - manual edits win for phone and time, notes merge, the PMS wins for name, status, duration
 *    and telehealth; a PMS appointment that matches an OCR entry replaces it;
 *  - an appointment missing from a completely swept window is marked removed; after a partial
 *    or failed sweep nothing is removed;
 *  - one sync per connection at a time (store lock); a sync log row records every run.
 *
 * A sync killed at any point leaves whole batches only; running it again gives the same rows.
 */
#ifndef PMSYNC_SYNC_H
#define PMSYNC_SYNC_H

#include <stdatomic.h>

#include "pmsync/connections.h"
#include "pmsync/store.h"

typedef struct pms_sync_progress {
    long practitioners_total;
    pms_sync_counts counts;
    long batches;
} pms_sync_progress;

typedef enum pms_sync_event_kind {
    PMS_EVENT_SYNC_STARTED = 0,
    PMS_EVENT_SYNC_FINISHED,
    PMS_EVENT_APPOINTMENT_CREATED,
    PMS_EVENT_APPOINTMENT_UPDATED,
    PMS_EVENT_APPOINTMENT_REMOVED,
} pms_sync_event_kind;

typedef struct pms_sync_event {
    pms_sync_event_kind kind;
    const char *connection_id;
    const char *account_id;
    const char *entry_id;       /* appointments */
    pms_date sheet_date;        /* appointments */
    const char *pms_patient_id; /* appointments: the PMS's patient id (for the audit log) */
    const char *status;         /* sync finished */
} pms_sync_event;

/* What one committed unit of a sync wrote: a batch of appointments, or the removals at the end
 * of a complete sweep. */
typedef struct pms_sync_batch {
    const char *account_id;
    const char *connection_id;
    const json_t *patient_ids; /* array of the PMS patient ids whose appointments changed */
    long created, updated, removed;
} pms_sync_batch;

typedef struct pms_sync_context {
    pms_store *store;
    const pms_keyring *ring;
    pms_session_options session;
    const char *worker; /* who runs the sync ("pid@host"); NULL: this process */
    /* The scheduler's lease on the connection (0: none, e.g. pmsctl): every write transaction
     * of the sync checks it still holds under this fencing token and extends it by lease_ms,
     * so a worker whose lease was taken writes nothing more (the sync then fails with
     * PMS_ERR_CONFLICT and leaves the connection's status to the new holder). */
    long long lease_token;
    long lease_ms;
    void (*on_progress)(void *ctx, const pms_sync_progress *p);
    /* Called after the change is committed. */
    void (*on_event)(void *ctx, const pms_sync_event *e);
    /* Called inside the transaction of each unit that changed appointments, before it commits
     * (pmsd writes its audit record here, so the record and the change commit together). An
     * error rolls the unit back: it is then stored as not written and the sync fails. */
    int (*before_commit)(void *ctx, pms_store *st, const pms_sync_batch *batch, pms_error *err);
    void *callback_ctx;
} pms_sync_context;

typedef struct pms_sync_request {
    const char *connection_id;
    bool today;        /* the practice's today; else from..to */
    pms_date from, to; /* local dates, inclusive */
    /* "manual" (default) and "full" sweep the window. "incremental" reads only what the PMS
     * changed since the previous sync that read a window covering this one (less a margin) and
     * removes nothing; it runs, and is logged, as "full" unless the adapter has
     * PMS_CAP_INCREMENTAL and a full sweep of such a window started within the connection's
     * full_sweep_minutes (default 60). */
    const char *sync_type;
} pms_sync_request;

typedef struct pms_sync_result {
    char status[16];    /* success | partial | failed */
    char sync_type[16]; /* what ran: manual | full | incremental */
    pms_sync_counts counts;
    char sync_log_id[PMS_UUID_LEN];
    pms_date from, to;
    long duration_ms;
    bool complete_sweep;
    pms_session_stats http;
    char error[256]; /* no patient data */
} pms_sync_result;

/* Runs one sync. Returns PMS_OK when the sync ran (its outcome, which may be partial or failed,
 * is in *out); an error when it could not run at all (unknown connection, locked by another
 * sync, database failure); a failed sync is also reported through the return code as
 * PMS_ERR_UPSTREAM etc. so callers can exit non-zero. */
int pms_sync_run(const pms_sync_context *ctx, const pms_sync_request *req, pms_sync_result *out,
                 pms_error *err);

/* What to read of a connection's appointments. */
typedef struct pms_read_window {
    pms_date from, to;     /* the practice's days, inclusive */
    bool telehealth_only;  /* replaces the connection's telehealth filter */
    bool without_patients; /* patient details are not needed (pms_fetch_options) */
} pms_read_window;

/* Reads a connection's appointments for a window exactly as a sync fetches them (the same
 * session, the appointment types read from the PMS first, the practitioners of the stored
 * mappings swept, the same adapter stream) but stores none of them: each batch goes to sink
 * (pms_batch_sink says what it may keep). Needs no sync lock. As a sync does, it brings the
 * stored appointment-type catalogue up to date (the practice's flags kept) and saves a token
 * minted on the way. */
int pms_sync_read(pms_store *st, const pms_keyring *ring, const pms_connection *c,
                  const pms_session_options *session_opts, const pms_read_window *window,
                  const pms_batch_sink *sink, pms_error *err);

/* The practice's today for a connection's zone. */
int pms_practice_today(const char *timezone, pms_date *out, pms_error *err);

/* The run sheet's view of an entry: the appointment with manual edits applied (phone and time
 * from the edits, notes merged). *out is a new appointment the caller clears. */
int pms_sheet_entry_effective(const pms_sheet_entry *e, pms_appointment *out, pms_error *err);
/* The unified appointment JSON of an entry (effective values) plus run-sheet fields: id, source,
 * clinicianId, clinicianName, runSheetDate, pmsLastSyncedAt, removedAt, edits. */
json_t *pms_sheet_entry_to_json(const pms_sheet_entry *e, bool include_raw);

/* JSON of a sync log row and of a sync's outcome (camelCase, as pmsctl --json and pmsd show
 * them). New references; NULL when out of memory. */
json_t *pms_sync_log_entry_to_json(const pms_sync_log_entry *e);
json_t *pms_sync_result_to_json(const char *connection_id, const pms_sync_result *r);

#endif
