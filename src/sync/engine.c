/* The sync orchestrator: lock, log, refresh catalogues, sweep, upsert in batches, remove after a
 * complete sweep, record the outcome. PMS-agnostic: it sees unified appointments only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmsync/log.h"
#include "pmsync/names.h"
#include "pmsync/sync.h"

/* An incremental sync asks for what changed since the previous sync's start less this margin:
 * it covers a PMS clock somewhat behind ours and records changed while that sync was reading. */
#define INCREMENTAL_MARGIN_MS (10L * 60 * 1000)
/* How old the last full sweep of a window may be for an incremental sync of it; a connection
 * setting (full_sweep_minutes) overrides it. */
#define DEFAULT_FULL_SWEEP_MINUTES 60
/* How many recent sync log rows are searched for the previous syncs of a window. */
#define INCREMENTAL_LOG_SCAN 50

typedef struct sync_run {
    const pms_sync_context *ctx;
    pms_store *st;
    pms_connection conn;
    pms_session *session;
    pms_sync_counts counts;
    json_t *clinician_for;     /* practitioner id -> clinician id (enabled mappings only) */
    json_t *known;             /* practitioner ids with a mapping, synced or not */
    bool adopt_unknown;        /* the PMS is not swept per practitioner: adopt new ones */
    json_t *type_excluded;     /* type id -> true when the practice excluded the type */
    json_t *sheet_for_date;    /* "YYYY-MM-DD" -> run sheet id */
    json_t *seen;              /* PMS appointment ids present in the window */
    bool unidentified_invalid; /* a malformed record without an id: no removals */
    long batches;
    long practitioners_total;
    pms_instant started;
} sync_run;

int pms_practice_today(const char *timezone, pms_date *out, pms_error *err)
{
    const pms_tz *tz;
    int rc = pms_tz_get(timezone ? timezone : "Australia/Sydney", &tz, err);
    if (rc != PMS_OK)
        return rc;
    *out = pms_tz_date_of(tz, pms_now());
    return PMS_OK;
}

static void emit_event(const sync_run *run, pms_sync_event_kind kind, const char *entry_id,
                       pms_date day, const char *status, const char *patient_id)
{
    if (run->ctx->on_event == NULL)
        return;
    pms_sync_event e = {
        .kind = kind,
        .connection_id = run->conn.id,
        .account_id = run->conn.account_id,
        .entry_id = entry_id,
        .sheet_date = day,
        .status = status,
        .pms_patient_id = patient_id,
    };
    run->ctx->on_event(run->ctx->callback_ctx, &e);
}

/* Lets the caller record a unit of changes inside its transaction. patient_ids may repeat. */
static int before_commit(const sync_run *run, json_t *patient_ids, long created, long updated,
                         long removed, pms_error *err)
{
    if (run->ctx->before_commit == NULL || created + updated + removed == 0)
        return PMS_OK;
    /* Each patient once, in first-seen order. */
    json_t *unique = json_array(), *seen = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(patient_ids, i, v)
    {
        if (json_object_get(seen, json_string_value(v)) == NULL) {
            json_object_set_new(seen, json_string_value(v), json_true());
            json_array_append(unique, v);
        }
    }
    pms_sync_batch batch = {
        .account_id = run->conn.account_id,
        .connection_id = run->conn.id,
        .patient_ids = unique,
        .created = created,
        .updated = updated,
        .removed = removed,
    };
    int rc = unique && seen ? run->ctx->before_commit(run->ctx->callback_ctx, run->st, &batch, err)
                            : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    json_decref(unique);
    json_decref(seen);
    return rc;
}

/* Under the scheduler's lease: it still holds, and is extended, or nothing of this unit may
 * commit (another worker took the connection over). */
static int fence(const sync_run *run, pms_error *err)
{
    if (run->ctx->lease_token == 0)
        return PMS_OK;
    return run->st->ops->lease_check(run->st, run->conn.id, run->ctx->lease_token,
                                     pms_now() + run->ctx->lease_ms, err);
}

static void report_progress(const sync_run *run)
{
    if (run->ctx->on_progress == NULL)
        return;
    pms_sync_progress p = {
        .practitioners_total = run->practitioners_total,
        .counts = run->counts,
        .batches = run->batches,
    };
    run->ctx->on_progress(run->ctx->callback_ctx, &p);
}

/* The run sheet for a day, cached for the run. Borrowed from the cache. */
static const char *sheet_for(sync_run *run, pms_date day, pms_error *err)
{
    char key[PMS_TIME_BUFLEN];
    pms_date_format(day, key);
    const json_t *cached = json_object_get(run->sheet_for_date, key);
    if (cached)
        return json_string_value(cached);
    char *id = NULL;
    if (run->st->ops->run_sheet_ensure(run->st, run->conn.account_id, day, run->conn.timezone, &id,
                                       err) != PMS_OK)
        return NULL;
    json_object_set_new(run->sheet_for_date, key, json_string(id));
    free(id);
    return json_string_value(json_object_get(run->sheet_for_date, key));
}

typedef enum upsert_outcome { UPSERT_CREATED, UPSERT_UPDATED, UPSERT_UNCHANGED } upsert_outcome;

/* Writes one appointment. Takes the contents of *a (leaving it initialised). */
static int upsert(sync_run *run, pms_appointment *a, const char *clinician_id,
                  upsert_outcome *outcome, char entry_id[PMS_UUID_LEN], pms_date *day,
                  pms_error *err)
{
    pms_store *st = run->st;
    *day = pms_tz_date_of(pms_session_tz(run->session), a->start_time);
    const char *sheet_id = sheet_for(run, *day, err);
    if (sheet_id == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;

    pms_sheet_entry incoming;
    pms_sheet_entry_init(&incoming);
    incoming.appt = *a;
    pms_appointment_init(a);
    int rc = PMS_OK;
    /* Identity comes from the connection being synced, whatever the adapter filled in. */
    if (pms_str_set(&incoming.appt.pms_connection_id, run->conn.id) ||
        pms_str_set(&incoming.appt.pms_type, run->conn.pms_type) ||
        pms_str_set(&incoming.run_sheet_id, sheet_id) ||
        pms_str_set(&incoming.clinician_id, clinician_id)) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    pms_appointment_content_hash(&incoming.appt, incoming.content_hash);
    incoming.source = PMS_SOURCE_PMS;
    incoming.pms_last_synced_at = pms_now();

    pms_entry_state existing;
    rc = st->ops->entry_state_pms(st, run->conn.id, incoming.appt.pms_appointment_id, &existing,
                                  err);
    if (rc == PMS_OK) {
        snprintf(entry_id, PMS_UUID_LEN, "%s", existing.id);
        if (strcmp(existing.content_hash, incoming.content_hash) == 0 &&
            strcmp(existing.run_sheet_id, sheet_id) == 0 &&
            strcmp(existing.clinician_id, clinician_id) == 0 && !existing.removed) {
            *outcome = UPSERT_UNCHANGED;
            goto out;
        }
        if (pms_str_set(&incoming.id, existing.id)) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto out;
        }
        rc = st->ops->entry_update_source(st, &incoming, err);
        *outcome = UPSERT_UPDATED;
        goto out;
    }
    if (rc != PMS_ERR_NOT_FOUND)
        goto out;

    /* New to us: an OCR entry for the same clinician, time and patient becomes this one. */
    char *ocr_id = NULL;
    char *key = incoming.appt.patient.full_name
                    ? pms_name_match_key(incoming.appt.patient.full_name)
                    : NULL;
    rc = key ? st->ops->entry_find_ocr_match(st, sheet_id, clinician_id, incoming.appt.start_time,
                                             key, &ocr_id, NULL)
             : PMS_ERR_NOT_FOUND;
    free(key);
    if (rc == PMS_OK) {
        incoming.id = ocr_id;
        rc = st->ops->entry_update_source(st, &incoming, err);
        *outcome = UPSERT_UPDATED;
    } else {
        rc = st->ops->entry_insert(st, &incoming, err);
        *outcome = UPSERT_CREATED;
    }
    if (rc == PMS_OK)
        snprintf(entry_id, PMS_UUID_LEN, "%s", incoming.id);
out:
    pms_sheet_entry_clear(&incoming);
    return rc;
}

typedef struct pending_event {
    pms_sync_event_kind kind;
    char entry_id[PMS_UUID_LEN];
    pms_date day;
    char patient_id[128];
} pending_event;

/* The sink: one transaction per batch. */
static int on_batch(void *arg, pms_appointment *items, size_t count, pms_error *err)
{
    sync_run *run = arg;
    pms_store *st = run->st;
    pending_event *events = calloc(count, sizeof *events);
    size_t event_count = 0;
    pms_sync_counts before = run->counts;
    if (events == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc = st->ops->begin(st, err);
    if (rc != PMS_OK) {
        free(events);
        return rc;
    }
    for (size_t i = 0; i < count && rc == PMS_OK; i++) {
        pms_appointment *a = &items[i];
        run->counts.fetched++;
        pms_error invalid;
        if (pms_appointment_validate(a, &invalid) != PMS_OK) {
            run->counts.skipped++;
            run->counts.invalid++;
            if (a->pms_appointment_id)
                json_object_set_new(run->seen, a->pms_appointment_id, json_true());
            else
                run->unidentified_invalid = true;
            pms_log(PMS_LOG_WARN, "sync.record_invalid", "connection", run->conn.id, "reason",
                    invalid.message, NULL);
            continue;
        }
        const char *pid = a->practitioner.pms_practitioner_id;
        if (run->adopt_unknown && !json_object_get(run->known, pid)) {
            char *adopted = NULL;
            if ((rc = pms_catalog_adopt_practitioner(st, &run->conn, &a->practitioner, &adopted,
                                                     err)) != PMS_OK)
                break;
            json_object_set_new(run->known, pid, json_true());
            if (adopted)
                json_object_set_new(run->clinician_for, pid, json_string(adopted));
            free(adopted);
        }
        const json_t *clinician = json_object_get(run->clinician_for, pid);
        bool excluded_type =
            a->appointment_type_id && json_object_get(run->type_excluded, a->appointment_type_id);
        if (clinician == NULL || excluded_type ||
            (run->conn.sync_telehealth_only && !a->is_telehealth)) {
            run->counts.skipped++;
            continue;
        }
        json_object_set_new(run->seen, a->pms_appointment_id, json_true());
        upsert_outcome outcome = UPSERT_UNCHANGED;
        pending_event *ev = &events[event_count];
        snprintf(ev->patient_id, sizeof ev->patient_id, "%s",
                 a->patient.pms_patient_id ? a->patient.pms_patient_id : "");
        rc = upsert(run, a, json_string_value(clinician), &outcome, ev->entry_id, &ev->day, err);
        if (rc != PMS_OK)
            break;
        if (outcome == UPSERT_CREATED) {
            run->counts.created++;
            ev->kind = PMS_EVENT_APPOINTMENT_CREATED;
            event_count++;
        } else if (outcome == UPSERT_UPDATED) {
            run->counts.updated++;
            ev->kind = PMS_EVENT_APPOINTMENT_UPDATED;
            event_count++;
        } else {
            run->counts.unchanged++;
        }
    }
    if (rc == PMS_OK && event_count > 0) {
        json_t *patients = json_array();
        for (size_t i = 0; i < event_count && patients; i++)
            if (events[i].patient_id[0])
                json_array_append_new(patients, json_string(events[i].patient_id));
        rc = patients ? before_commit(run, patients, run->counts.created - before.created,
                                      run->counts.updated - before.updated, 0, err)
                      : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        json_decref(patients);
    }
    if (rc == PMS_OK)
        rc = fence(run, err);
    if (rc == PMS_OK)
        rc = st->ops->commit(st, err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        /* Nothing of this batch was stored: its records count as fetched and skipped. */
        long fetched = run->counts.fetched;
        run->counts = before;
        run->counts.fetched = fetched;
        run->counts.skipped += fetched - before.fetched;
        free(events);
        return rc;
    }
    run->batches++;
    for (size_t i = 0; i < event_count; i++)
        emit_event(run, events[i].kind, events[i].entry_id, events[i].day, NULL,
                   events[i].patient_id[0] ? events[i].patient_id : NULL);
    free(events);
    report_progress(run);
    return PMS_OK;
}

static void on_invalid(void *arg, const char *id, const char *reason)
{
    sync_run *run = arg;
    run->counts.fetched++;
    run->counts.skipped++;
    run->counts.invalid++;
    if (id)
        json_object_set_new(run->seen, id, json_true());
    else
        run->unidentified_invalid = true;
    /* The id is the PMS's opaque record id, not patient data. */
    pms_log(PMS_LOG_WARN, "sync.record_invalid", "connection", run->conn.id, "pms_appointment_id",
            id, "reason", reason, NULL);
}

static void on_skipped(void *arg, const char *id, const char *reason)
{
    sync_run *run = arg;
    (void)id;
    run->counts.fetched++;
    run->counts.skipped++;
    pms_log(PMS_LOG_DEBUG, "sync.record_skipped", "connection", run->conn.id, "reason", reason,
            NULL);
}

typedef struct removal_scan {
    sync_run *run;
    char **ids;
    size_t count, cap;
} removal_scan;

static int collect_missing(void *arg, const char *id, const char *pms_id)
{
    removal_scan *scan = arg;
    if (pms_id && json_object_get(scan->run->seen, pms_id))
        return PMS_OK;
    if (scan->count == scan->cap) {
        size_t cap = scan->cap ? scan->cap * 2 : 16;
        char **grown = realloc(scan->ids, cap * sizeof *grown);
        if (grown == NULL)
            return PMS_ERR_NOMEM;
        scan->ids = grown;
        scan->cap = cap;
    }
    if ((scan->ids[scan->count] = strdup(id)) == NULL)
        return PMS_ERR_NOMEM;
    scan->count++;
    return PMS_OK;
}

/* After a complete sweep: what the window no longer holds is marked removed. */
static int remove_missing(sync_run *run, pms_instant from, pms_instant to, pms_error *err)
{
    pms_store *st = run->st;
    removal_scan scan = {.run = run};
    pms_date *days = NULL;
    json_t *patients = json_array();
    char **patient_of = NULL; /* per removed entry, for its event; NULL when none */
    int rc = patients ? st->ops->entry_each_active_pms(st, run->conn.id, from, to, collect_missing,
                                                       &scan, err)
                      : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (rc == PMS_OK && scan.count > 0) {
        days = calloc(scan.count, sizeof *days);
        patient_of = calloc(scan.count, sizeof *patient_of);
        if (days == NULL || patient_of == NULL)
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    if (rc == PMS_OK && scan.count > 0 && (rc = st->ops->begin(st, err)) == PMS_OK) {
        pms_instant now = pms_now();
        for (size_t i = 0; i < scan.count && rc == PMS_OK; i++) {
            pms_sheet_entry e;
            if ((rc = st->ops->entry_mark_removed(st, scan.ids[i], now, err)) != PMS_OK ||
                (rc = st->ops->entry_get(st, scan.ids[i], &e, err)) != PMS_OK)
                break;
            days[i] = e.sheet_date;
            const char *pid = e.appt.patient.pms_patient_id;
            if (pid) {
                patient_of[i] = strdup(pid);
                json_array_append_new(patients, json_string(pid));
            }
            pms_sheet_entry_clear(&e);
        }
        if (rc == PMS_OK)
            rc = before_commit(run, patients, 0, 0, (long)scan.count, err);
        if (rc == PMS_OK)
            rc = fence(run, err);
        if (rc == PMS_OK)
            rc = st->ops->commit(st, err);
        if (rc != PMS_OK)
            st->ops->rollback(st);
        if (rc == PMS_OK) {
            run->counts.removed += (long)scan.count;
            for (size_t i = 0; i < scan.count; i++)
                emit_event(run, PMS_EVENT_APPOINTMENT_REMOVED, scan.ids[i], days[i], NULL,
                           patient_of[i]);
        }
    }
    for (size_t i = 0; i < scan.count; i++) {
        free(scan.ids[i]);
        if (patient_of)
            free(patient_of[i]);
    }
    free(scan.ids);
    free(patient_of);
    free(days);
    json_decref(patients);
    return rc;
}

/* Mappings -> which practitioners to sweep and where their appointments go: clinician_for gets
 * practitioner id -> clinician id for the enabled mappings, known every mapped practitioner id,
 * and *ids (freed by the caller, before clinician_for) the keys of clinician_for. */
static int load_mappings(pms_store *st, const char *connection_id, json_t *clinician_for,
                         json_t *known, const char ***ids, size_t *count, pms_error *err)
{
    pms_mapping_list mappings = {0};
    int rc = st->ops->mapping_list(st, connection_id, &mappings, err);
    if (rc != PMS_OK)
        return rc;
    *ids = calloc(mappings.count + 1, sizeof **ids);
    *count = 0;
    if (*ids == NULL) {
        pms_mapping_list_clear(&mappings);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < mappings.count; i++) {
        const pms_mapping *m = &mappings.items[i];
        json_object_set_new(known, m->pms_practitioner_id, json_true());
        if (!m->sync_enabled || m->run_sheet_clinician_id == NULL || !m->pms_active ||
            !m->pms_bookable)
            continue;
        json_object_set_new(clinician_for, m->pms_practitioner_id,
                            json_string(m->run_sheet_clinician_id));
    }
    /* The ids handed to the adapter are the keys of clinician_for (unchanged while the sweep
     * runs). */
    const char *key;
    json_t *value;
    json_object_foreach(clinician_for, key, value)
    {
        (*ids)[(*count)++] = key;
    }
    pms_mapping_list_clear(&mappings);
    return PMS_OK;
}

/* The PMS's appointment types into the store (the practice's flags kept) and the session. */
static int refresh_types(pms_store *st, pms_session *s, const pms_connection *c, pms_error *err)
{
    int rc = pms_catalog_refresh_types(st, s, c, err);
    return rc == PMS_OK ? pms_connection_reload_types(st, s, c->id, err) : rc;
}

/* Whether the PMS is asked for each practitioner's appointments (else it returns everyone's). */
static bool swept_per_practitioner(pms_session *s)
{
    return pms_adapter_capabilities(pms_session_ops(s)) & PMS_CAP_PRACTITIONER_FILTER;
}

/* Reads the window through the adapter into sink: per practitioner (the ids) when the PMS is
 * searched so, else everyone's appointments. *opts_out (may be NULL) receives the window as
 * fetched. */
static int sweep(pms_session *s, const pms_read_window *w, const char **ids, size_t count,
                 pms_instant changed_since, const pms_batch_sink *sink, pms_fetch_options *opts_out,
                 pms_error *err)
{
    const pms_tz *tz = pms_session_tz(s);
    bool per_practitioner = swept_per_practitioner(s);
    pms_fetch_options opts = {
        .from = pms_tz_day_start(tz, w->from),
        .to = pms_tz_day_start(tz, pms_date_add_days(w->to, 1)),
        .first_day = w->from,
        .last_day = w->to,
        /* A PMS searched per practitioner is asked for the synced ones only; others return
         * everyone's appointments and the mappings decide. */
        .practitioner_ids = per_practitioner ? ids : NULL,
        .practitioner_count = per_practitioner ? count : 0,
        .telehealth_only = w->telehealth_only,
        .without_patients = w->without_patients,
        .changed_since = changed_since,
    };
    if (opts_out)
        *opts_out = opts;
    if (count == 0 && per_practitioner)
        return PMS_OK; /* nobody to sweep */
    return pms_adapter_fetch_appointments(s, &opts, sink, err);
}

int pms_sync_read(pms_store *st, const pms_keyring *ring, const pms_connection *c,
                  const pms_session_options *session_opts, const pms_read_window *window,
                  const pms_batch_sink *sink, pms_error *err)
{
    pms_token_box *box = NULL;
    pms_session *s = NULL;
    const char **ids = NULL;
    size_t count = 0;
    json_t *clinician_for = json_object(), *known = json_object();
    int rc = clinician_for && known ? PMS_OK : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (rc == PMS_OK)
        rc = pms_connection_open_session(st, ring, c, session_opts, &box, &s, err);
    if (rc == PMS_OK)
        rc = refresh_types(st, s, c, err);
    if (rc == PMS_OK)
        rc = load_mappings(st, c->id, clinician_for, known, &ids, &count, err);
    if (rc == PMS_OK)
        rc = sweep(s, window, ids, count, PMS_INSTANT_NONE, sink, NULL, err);
    if (s)
        pms_token_box_save(box, st, ring, c->id, NULL);
    pms_session_close(s);
    pms_token_box_free(box);
    free(ids);
    json_decref(clinician_for);
    json_decref(known);
    return rc;
}

static int load_type_exclusions(sync_run *run, pms_error *err)
{
    pms_stored_type_list types = {0};
    int rc = run->st->ops->type_list(run->st, run->conn.id, &types, err);
    if (rc != PMS_OK)
        return rc;
    for (size_t i = 0; i < types.count; i++)
        if (!types.items[i].sync_enabled)
            json_object_set_new(run->type_excluded, types.items[i].pms_type_id, json_true());
    pms_stored_type_list_clear(&types);
    return PMS_OK;
}

static void worker_name(char *buf, size_t len)
{
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(buf, len, "%ld@%s", (long)getpid(), host);
}

/* A sync log row of a sync that read its whole window: a success, or partial only because of
 * malformed records (a failed read leaves error details). */
static bool read_whole_window(const pms_sync_log_entry *e)
{
    if (e->status == NULL || e->started_at == PMS_INSTANT_NONE)
        return false;
    return strcmp(e->status, "success") == 0 ||
           (strcmp(e->status, "partial") == 0 && e->error_details == NULL);
}

static long full_sweep_minutes(const pms_connection *c)
{
    const char *v = json_string_value(json_object_get(c->settings, "full_sweep_minutes"));
    char *end = NULL;
    long minutes = v ? strtol(v, &end, 10) : 0;
    return v && *v && *end == '\0' && minutes > 0 ? minutes : DEFAULT_FULL_SWEEP_MINUTES;
}

/* Where an incremental sync of [from, to] reads from: the start (less the margin) of the latest
 * sync that read a window covering this one, provided the adapter reads changes
 * (PMS_CAP_INCREMENTAL) and the latest full sweep of such a window started less than
 * full_sweep_minutes ago. PMS_INSTANT_NONE: the sync sweeps the whole window. */
static pms_instant incremental_since(const sync_run *run, pms_date from, pms_date to)
{
    const pms_adapter_ops *ops = pms_adapter_find(run->conn.pms_type);
    if (ops == NULL || !(pms_adapter_capabilities(ops) & PMS_CAP_INCREMENTAL))
        return PMS_INSTANT_NONE;
    pms_sync_log_list list = {0};
    if (run->st->ops->sync_log_list(run->st, run->conn.id, INCREMENTAL_LOG_SCAN, &list, NULL) !=
        PMS_OK)
        return PMS_INSTANT_NONE;
    pms_instant cursor = PMS_INSTANT_NONE, last_full = PMS_INSTANT_NONE;
    for (size_t i = 0; i < list.count; i++) { /* newest first */
        const pms_sync_log_entry *e = &list.items[i];
        if (!read_whole_window(e) || pms_date_compare(e->window_from, from) > 0 ||
            pms_date_compare(e->window_to, to) < 0)
            continue;
        if (cursor == PMS_INSTANT_NONE)
            cursor = e->started_at;
        if (e->sync_type && strcmp(e->sync_type, "incremental") != 0) {
            last_full = e->started_at;
            break;
        }
    }
    pms_sync_log_list_clear(&list);
    if (last_full == PMS_INSTANT_NONE ||
        run->started - last_full >= full_sweep_minutes(&run->conn) * 60000L)
        return PMS_INSTANT_NONE;
    return cursor - INCREMENTAL_MARGIN_MS;
}

static const char *final_status(const sync_run *run, int fetch_rc)
{
    if (fetch_rc != PMS_OK)
        return run->counts.fetched > 0 ? "partial" : "failed";
    return run->counts.invalid > 0 ? "partial" : "success";
}

/* The outcome on the connection, unless another worker has taken it over meanwhile (the
 * status is then the new holder's to write). */
static int record_result(const sync_run *run, pms_instant at, const char *status, const char *error,
                         pms_error *err)
{
    pms_store *st = run->st;
    if (run->ctx->lease_token == 0)
        return st->ops->connection_set_sync_result(st, run->conn.id, at, status, error, err);
    int rc = st->ops->begin(st, err);
    if (rc != PMS_OK)
        return rc;
    if ((rc = fence(run, err)) == PMS_OK &&
        (rc = st->ops->connection_set_sync_result(st, run->conn.id, at, status, error, err)) ==
            PMS_OK)
        rc = st->ops->commit(st, err);
    if (rc != PMS_OK)
        st->ops->rollback(st);
    return rc == PMS_ERR_CONFLICT ? PMS_OK : rc; /* not ours to write any more: not an error */
}

int pms_sync_run(const pms_sync_context *ctx, const pms_sync_request *req, pms_sync_result *out,
                 pms_error *err)
{
    memset(out, 0, sizeof *out);
    pms_store *st = ctx->store;
    sync_run run = {.ctx = ctx, .st = st};
    pms_store_lock *lock = NULL;
    pms_token_box *box = NULL;
    pms_sync_log_entry log = {0};
    const char **practitioner_ids = NULL;
    size_t practitioner_count = 0;
    pms_error sync_err = {0};
    int rc, fetch_rc = PMS_OK;

    rc = st->ops->connection_get(st, req->connection_id, &run.conn, err);
    if (rc != PMS_OK)
        return rc;
    run.clinician_for = json_object();
    run.known = json_object();
    run.type_excluded = json_object();
    run.sheet_for_date = json_object();
    run.seen = json_object();
    if (!run.clinician_for || !run.known || !run.type_excluded || !run.sheet_for_date ||
        !run.seen) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = st->ops->lock_connection(st, run.conn.id, &lock, err)) != PMS_OK)
        goto done;
    /* We hold the lock: any 'running' row is a sync that died. It is closed now, and this sync
     * starts after that, so the log never shows two syncs of a connection at once. */
    int interrupted = 0;
    st->ops->sync_log_fail_running(st, run.conn.id, "interrupted: the process stopped mid-sync",
                                   &interrupted, NULL);
    run.started = pms_now();

    /* The window, in the practice's days. */
    pms_date from = req->from, to = req->to;
    if (req->today || from.year == 0) {
        if ((rc = pms_practice_today(run.conn.timezone, &from, err)) != PMS_OK)
            goto done;
        to = from;
    }
    if (to.year == 0)
        to = from;
    if (!pms_date_valid(from) || !pms_date_valid(to) || pms_date_compare(from, to) > 0) {
        rc = pms_error_set(err, PMS_ERR_INVALID,
                           "the sync window must run from one date to the "
                           "same or a later date");
        goto done;
    }
    if (pms_days_from_date(to) - pms_days_from_date(from) > 366) {
        rc = pms_error_set(err, PMS_ERR_INVALID, "a sync window covers at most 366 days");
        goto done;
    }
    out->from = from;
    out->to = to;

    /* An incremental request reads what changed when it can, else sweeps the window as a full
     * sync (and is logged as one); manual and full requests sweep the window. */
    const char *sync_type = req->sync_type ? req->sync_type : "manual";
    pms_instant changed_since = PMS_INSTANT_NONE;
    if (strcmp(sync_type, "incremental") == 0) {
        changed_since = incremental_since(&run, from, to);
        if (changed_since == PMS_INSTANT_NONE)
            sync_type = "full";
    }
    snprintf(out->sync_type, sizeof out->sync_type, "%s", sync_type);

    char worker[96];
    if (ctx->worker)
        snprintf(worker, sizeof worker, "%s", ctx->worker);
    else
        worker_name(worker, sizeof worker);
    log.pms_connection_id = run.conn.id;
    log.sync_type = (char *)sync_type;
    log.window_from = from;
    log.window_to = to;
    log.started_at = run.started;
    log.worker = worker;
    rc = st->ops->sync_log_start(st, &log, err);
    log.pms_connection_id = NULL;
    log.sync_type = NULL;
    log.worker = NULL;
    if (rc != PMS_OK)
        goto done;
    snprintf(out->sync_log_id, sizeof out->sync_log_id, "%s", log.id);
    emit_event(&run, PMS_EVENT_SYNC_STARTED, NULL, from, NULL, NULL);
    pms_log(PMS_LOG_INFO, "sync.started", "connection", run.conn.id, "sync_log", log.id, "type",
            sync_type, NULL);

    /* Everything from here on ends in the sync log, success or not. */
    /* The PMS (and its support desk) can tell the requests of one sync apart. */
    pms_session_options session = ctx->session;
    char agent[128];
    snprintf(agent, sizeof agent, "%s (sync %s)",
             ctx->session.http.user_agent ? ctx->session.http.user_agent : PMS_USER_AGENT, log.id);
    session.http.user_agent = agent;
    if ((fetch_rc = pms_connection_open_session(st, ctx->ring, &run.conn, &session, &box,
                                                &run.session, &sync_err)) != PMS_OK)
        goto finish;
    fetch_rc = pms_catalog_refresh_practitioners(st, run.session, &run.conn, NULL, &sync_err);
    if (fetch_rc == PMS_ERR_NOT_SUPPORTED) {
        /* This PMS lists no practitioners: they are adopted from the appointments. */
        fetch_rc = PMS_OK;
        pms_error_clear(&sync_err);
    }
    if (fetch_rc != PMS_OK)
        goto finish;
    if ((fetch_rc = refresh_types(st, run.session, &run.conn, &sync_err)) != PMS_OK ||
        (fetch_rc = load_type_exclusions(&run, &sync_err)) != PMS_OK ||
        (fetch_rc = load_mappings(st, run.conn.id, run.clinician_for, run.known, &practitioner_ids,
                                  &practitioner_count, &sync_err)) != PMS_OK)
        goto finish;
    run.practitioners_total = (long)practitioner_count;
    run.adopt_unknown = !swept_per_practitioner(run.session);
    pms_batch_sink sink = {
        .batch = on_batch,
        .invalid = on_invalid,
        .skipped = on_skipped,
        .ctx = &run,
    };
    pms_fetch_options opts;
    pms_read_window window = {from, to, run.conn.sync_telehealth_only, false};
    fetch_rc = sweep(run.session, &window, practitioner_ids, practitioner_count, changed_since,
                     &sink, &opts, &sync_err);
    /* An incremental read is never a complete sweep: what it did not return may be unchanged,
     * so it removes nothing (the next full sweep does). */
    bool complete = fetch_rc == PMS_OK && !run.unidentified_invalid &&
                    !pms_session_cancelled(run.session) && changed_since == PMS_INSTANT_NONE;
    out->complete_sweep = complete;
    if (complete) {
        pms_error removal_err = {0};
        if (remove_missing(&run, opts.from, opts.to, &removal_err) != PMS_OK) {
            fetch_rc = removal_err.code;
            sync_err = removal_err;
        }
    }

finish:
    if (run.session) {
        out->http = pms_session_get_stats(run.session);
        run.counts.requests = out->http.requests;
        pms_token_box_save(box, st, ctx->ring, run.conn.id, NULL);
    }
    {
        const char *status = final_status(&run, fetch_rc);
        snprintf(out->status, sizeof out->status, "%s", status);
        out->counts = run.counts;
        if (fetch_rc != PMS_OK)
            snprintf(out->error, sizeof out->error, "%s", sync_err.message);
        else if (run.counts.invalid > 0)
            snprintf(out->error, sizeof out->error,
                     "%ld record(s) from the PMS were malformed and skipped", run.counts.invalid);
        log.completed_at = pms_now();
        log.counts = run.counts;
        free(log.status); /* "running" */
        log.status = (char *)status;
        log.error_message = out->error[0] ? out->error : NULL;
        json_t *details = NULL;
        if (fetch_rc != PMS_OK) {
            details = json_pack("{s:s, s:i, s:s}", "code", pms_status_name(sync_err.code),
                                "httpStatus", sync_err.http_status, "detail", sync_err.detail);
        }
        log.error_details = details;
        pms_error log_err = {0};
        int log_rc = st->ops->sync_log_finish(st, &log, &log_err);
        if (log_rc == PMS_OK)
            log_rc = record_result(&run, log.completed_at, status, log.error_message, &log_err);
        log.status = NULL;
        log.error_message = NULL;
        json_decref(details);
        log.error_details = NULL;
        out->duration_ms = (long)(log.completed_at - run.started);
        pms_log(fetch_rc == PMS_OK ? PMS_LOG_INFO : PMS_LOG_WARN, "sync.finished", "connection",
                run.conn.id, "status", status, "error", out->error[0] ? out->error : NULL, NULL);
        emit_event(&run, PMS_EVENT_SYNC_FINISHED, NULL, from, status, NULL);
        if (log_rc != PMS_OK) {
            rc = log_rc;
            if (err)
                *err = log_err;
        } else if (fetch_rc != PMS_OK) {
            rc = fetch_rc;
            if (err)
                *err = sync_err;
        }
    }
done:
    pms_session_close(run.session);
    pms_token_box_free(box);
    if (lock)
        st->ops->unlock_connection(st, lock);
    free(practitioner_ids);
    pms_sync_log_entry_clear(&log);
    json_decref(run.clinician_for);
    json_decref(run.known);
    json_decref(run.type_excluded);
    json_decref(run.sheet_for_date);
    json_decref(run.seen);
    pms_connection_clear(&run.conn);
    return rc;
}
