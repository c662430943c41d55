/* The run sheet: a day's appointments in a column per clinician, and the appointments
 * themselves. PMS appointments come from syncs; people add manual and OCR entries here. The
 * plan's conflict rules apply between the sources: on a PMS appointment a person may change the
 * phone, the start time and add notes (kept as edits that win over the PMS); the name, status,
 * duration, type and telehealth flag belong to the PMS. Every response with patient data is
 * audited before it is sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/phone.h"
#include "pmsync/sync.h"
#include "pmsync/tz.h"
#include "server/events.h"
#include "server/handlers.h"

#define MAX_DURATION_MINUTES 720

/* ---- views -------------------------------------------------------------------------- */

/* An entry as the API shows it: the unified appointment (effective values), its run-sheet
 * fields, and the plan's snake_case source fields. */
static json_t *entry_json(const pms_sheet_entry *e)
{
    json_t *o = pms_sheet_entry_to_json(e, false);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "pms_connection_id", pms_json_string_or_null(e->appt.pms_connection_id));
    json_object_set_new(o, "pms_appointment_id",
                        pms_json_string_or_null(e->appt.pms_appointment_id));
    json_object_set_new(o, "pms_last_synced_at", pms_json_instant_or_null(e->pms_last_synced_at));
    return o;
}

/* The PMS patient ids of entries for the audit record: each once, in the order first seen
 * (manual entries have none). seen is the set of ids so far. */
static void note_patient(json_t *ids, json_t *seen, const pms_sheet_entry *e)
{
    const char *pid = e->appt.patient.pms_patient_id;
    if (pid == NULL || json_object_get(seen, pid))
        return;
    json_object_set_new(seen, pid, json_true());
    json_array_append_new(ids, json_string(pid));
}

static bool load_entries(pmsd_request *req, pmsd_response *resp, pms_store *st, pms_date day,
                         const char *connection_id, bool include_removed, pms_sheet_entry_list *out)
{
    pms_sheet_query q = {
        .account_id = req->principal.account_id,
        .connection_id = connection_id,
        .date = day,
        .include_removed = include_removed,
    };
    pms_error err = {0};
    memset(out, 0, sizeof *out);
    if (st->ops->entry_list(st, &q, out, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    return true;
}

static json_t *pms_status_json(pmsd_request *req, pmsd_response *resp, pms_store *st)
{
    pms_connection_list list = {0};
    pms_error err = {0};
    if (st->ops->connection_list(st, req->principal.account_id, &list, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return NULL;
    }
    json_t *arr = json_array();
    bool syncing = false;
    pms_instant last = PMS_INSTANT_NONE;
    for (size_t i = 0; i < list.count; i++) {
        json_t *s = pmsd_sync_status_json(st, &list.items[i]);
        syncing |= json_is_true(json_object_get(s, "running")) ||
                   json_is_true(json_object_get(s, "queued"));
        if (list.items[i].last_sync_at != PMS_INSTANT_NONE &&
            (last == PMS_INSTANT_NONE || list.items[i].last_sync_at > last))
            last = list.items[i].last_sync_at;
        json_array_append_new(arr, s);
    }
    pms_connection_list_clear(&list);
    return json_pack("{s:b, s:o, s:o}", "syncing", syncing, "lastSyncAt",
                     pms_json_instant_or_null(last), "connections", arr);
}

/* The day's run sheet rendered (without the sync status) and the patients it shows: from the
 * cache while the store's version of that day is the one it was rendered at. */
static bool render_sheet(pmsd_request *req, pmsd_response *resp, pms_store *st, const char *tz,
                         pms_date day, bool include_removed, char **text, size_t *len,
                         json_t **patients)
{
    char version[PMS_STORE_VERSION_LEN], key[200], date[PMS_TIME_BUFLEN];
    pms_error err = {0};
    pms_date_format(day, date);
    snprintf(key, sizeof key, "%s|%s|%d", req->principal.account_id, date, include_removed);
    /* The version first: what is read after it is at least as new. */
    if (st->ops->run_sheet_version(st, req->principal.account_id, day, version, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    if (pmsd_sheet_cache_get(req->app->sheets, key, version, text, len, patients))
        return true;

    pms_sheet_entry_list entries = {0};
    pms_clinician_list clinicians = {0};
    bool ok = false;
    *patients = json_array();
    json_t *seen = json_object(), *index = json_object(), *doc = NULL;
    if (!load_entries(req, resp, st, day, NULL, include_removed, &entries))
        goto out;
    if (st->ops->clinician_list(st, req->principal.account_id, &clinicians, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    json_t *columns = json_array(), *unassigned = json_array();
    for (size_t i = 0; i < clinicians.count; i++) {
        json_t *col = json_pack("{s:s, s:s, s:[]}", "id", clinicians.items[i].id, "name",
                                clinicians.items[i].name, "appointments");
        json_object_set(index, clinicians.items[i].id, col);
        json_array_append_new(columns, col);
    }
    for (size_t i = 0; i < entries.count; i++) {
        const pms_sheet_entry *e = &entries.items[i];
        json_t *col = e->clinician_id ? json_object_get(index, e->clinician_id) : NULL;
        json_array_append_new(col ? json_object_get(col, "appointments") : unassigned,
                              entry_json(e));
        note_patient(*patients, seen, e);
    }
    doc = json_pack("{s:s, s:s, s:I, s:o, s:o}", "date", date, "timezone", tz, "appointmentCount",
                    (json_int_t)entries.count, "clinicians", columns, "unassigned", unassigned);
    *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (*text == NULL) {
        pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
        goto out;
    }
    *len = strlen(*text);
    pmsd_sheet_cache_put(req->app->sheets, key, version, *text, *len, *patients);
    ok = true;
out:
    if (!ok) {
        json_decref(*patients);
        *patients = NULL;
    }
    json_decref(doc);
    json_decref(seen);
    json_decref(index);
    pms_clinician_list_clear(&clinicians);
    pms_sheet_entry_list_clear(&entries);
    return ok;
}

/* Appends ,"pmsStatus":{...} inside the rendered document's closing brace. */
static bool add_status(pmsd_request *req, pmsd_response *resp, pms_store *st, char **text,
                       size_t *len)
{
    json_t *status = pms_status_json(req, resp, st);
    char *status_text = status ? json_dumps(status, JSON_COMPACT) : NULL;
    json_decref(status);
    if (status_text == NULL) {
        if (resp->status == 0)
            pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
        return false;
    }
    static const char field[] = ",\"pmsStatus\":";
    size_t status_len = strlen(status_text);
    char *grown = realloc(*text, *len + sizeof field + status_len + 1);
    if (grown == NULL) {
        free(status_text);
        pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
        return false;
    }
    size_t at = *len - 1; /* the closing brace */
    memcpy(grown + at, field, sizeof field - 1);
    at += sizeof field - 1;
    memcpy(grown + at, status_text, status_len);
    at += status_len;
    grown[at++] = '}';
    grown[at] = '\0';
    *text = grown;
    *len = at;
    free(status_text);
    return true;
}

void pmsd_h_runsheet_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    char *tz = st ? pmsd_account_timezone(req, resp, st) : NULL;
    if (tz == NULL)
        return;
    pms_date day;
    bool include_removed = false;
    const char *include = pmsd_query(req, "include");
    char *text = NULL;
    size_t len = 0;
    json_t *patients = NULL;
    if (include && include[0] != '\0' && strcmp(include, "pms_status") != 0) {
        pmsd_respond_error(resp, 400, "invalid_request", "include",
                           "include must be pms_status (or left out)");
        goto out;
    }
    if (!pmsd_sheet_date(req, resp, tz, &day) ||
        !pmsd_q_flag(req, "include_removed", &include_removed, resp) ||
        !render_sheet(req, resp, st, tz, day, include_removed, &text, &len, &patients))
        goto out;
    if (include && include[0] && !add_status(req, resp, st, &text, &len))
        goto out;
    char date[PMS_TIME_BUFLEN], resource[64];
    pms_date_format(day, date);
    snprintf(resource, sizeof resource, "run-sheet/%s", date);
    if (pmsd_audit(req, resp, st, false, "run_sheet.read", resource, patients, 200)) {
        pmsd_respond_text(resp, 200, "application/json", text, len);
        text = NULL;
    }
out:
    free(text);
    json_decref(patients);
    free(tz);
}

void pmsd_h_appointments_list(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    char *tz = st ? pmsd_account_timezone(req, resp, st) : NULL;
    if (tz == NULL)
        return;
    pms_date day;
    bool include_removed = false;
    pms_sheet_entry_list entries = {0};
    json_t *patients = json_array();
    const char *connection = pmsd_query(req, "pms_connection_id");
    const char *source = pmsd_query(req, "source");
    pms_source want = PMS_SOURCE_PMS;
    if (source && pms_source_parse(source, &want) != PMS_OK) {
        pmsd_respond_error(resp, 400, "invalid_request", "source",
                           "source must be pms, ocr or manual");
        goto out;
    }
    if (connection && strlen(connection) >= PMS_STORE_ID_LEN) {
        pmsd_respond_error(resp, 400, "invalid_request", "pms_connection_id",
                           "pms_connection_id is not a connection id");
        goto out;
    }
    if (!pmsd_sheet_date(req, resp, tz, &day) ||
        !pmsd_q_flag(req, "include_removed", &include_removed, resp) ||
        !load_entries(req, resp, st, day, connection, include_removed, &entries))
        goto out;
    json_t *arr = json_array(), *seen = json_object();
    for (size_t i = 0; i < entries.count; i++) {
        const pms_sheet_entry *e = &entries.items[i];
        if (source && e->source != want)
            continue;
        json_array_append_new(arr, entry_json(e));
        note_patient(patients, seen, e);
    }
    json_decref(seen);
    char date[PMS_TIME_BUFLEN];
    pms_date_format(day, date);
    char resource[64];
    snprintf(resource, sizeof resource, "run-sheet/%s/appointments", date);
    if (pmsd_audit(req, resp, st, false, "run_sheet.appointments.list", resource, patients, 200))
        pmsd_respond_json(
            resp, 200,
            json_pack("{s:s, s:s, s:o}", "date", date, "timezone", tz, "appointments", arr));
    else
        json_decref(arr);
out:
    json_decref(patients);
    pms_sheet_entry_list_clear(&entries);
    free(tz);
}

/* The entry named by path parameter 0 when it belongs to the caller's account. */
static bool own_entry(pmsd_request *req, pmsd_response *resp, pms_store *st, pms_sheet_entry *out)
{
    pms_sheet_entry_init(out);
    pms_error err = {0};
    int rc = st->ops->entry_get(st, pmsd_param(req, 0), out, &err);
    if (rc == PMS_OK && out->account_id && strcmp(out->account_id, req->principal.account_id) == 0)
        return true;
    pms_sheet_entry_clear(out);
    if (rc == PMS_OK || rc == PMS_ERR_NOT_FOUND)
        pmsd_respond_error(resp, 404, "not_found", NULL, "no such run-sheet appointment");
    else
        pmsd_respond_pms_error(resp, &err);
    return false;
}

static json_t *patients_of(const pms_sheet_entry *e)
{
    json_t *ids = json_array(), *seen = json_object();
    note_patient(ids, seen, e);
    json_decref(seen);
    return ids;
}

static void resource_of(const pms_sheet_entry *e, char *out, size_t len)
{
    snprintf(out, len, "run-sheet/appointments/%s", e->id);
}

void pmsd_h_appointment_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    pms_sheet_entry e;
    if (st == NULL || !own_entry(req, resp, st, &e))
        return;
    json_t *patients = patients_of(&e);
    char resource[128];
    resource_of(&e, resource, sizeof resource);
    if (pmsd_audit(req, resp, st, false, "run_sheet.appointment.read", resource, patients, 200))
        pmsd_respond_json(resp, 200, entry_json(&e));
    json_decref(patients);
    pms_sheet_entry_clear(&e);
}

/* ---- manual and OCR entries ------------------------------------------------------------- */

static const char *const status_values[] = {
    "booked", "confirmed", "arrived", "in_progress", "completed", "cancelled", "no_show", NULL,
};
static const char *const source_values[] = {"manual", "ocr", NULL};
static const char *const entry_keys[] = {
    "source",  "clinicianId",         "startTime",    "endTime", "durationMinutes",
    "patient", "appointmentTypeName", "isTelehealth", "notes",   "status",
    NULL,
};
static const char *const patient_keys[] = {"fullName", "phone", NULL};

static pms_phone_region region_for(const char *tz)
{
    return strncmp(tz, "America/", 8) == 0 || strncmp(tz, "US/", 3) == 0 ? PMS_PHONE_US
                                                                         : PMS_PHONE_AU;
}

/* Replaces a string field; NULL clears it. */
static bool set_text(char **field, const char *value)
{
    return pms_str_set(field, value) == PMS_OK;
}

/* The local date of an instant in the account's zone. */
static bool local_date(const char *tz, pms_instant t, pms_date *out, pmsd_response *resp)
{
    const pms_tz *zone;
    pms_civil c;
    pms_error err = {0};
    if (pms_tz_get(tz, &zone, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    pms_tz_to_local(zone, t, &c);
    out->year = c.year;
    out->month = c.month;
    out->day = c.day;
    return true;
}

/* Checks that a clinician belongs to the caller's account. */
static bool own_clinician(pmsd_request *req, pmsd_response *resp, pms_store *st, const char *id)
{
    pms_clinician c = {0};
    pms_error err = {0};
    int rc = st->ops->clinician_get(st, id, &c, &err);
    bool ok = rc == PMS_OK && strcmp(c.account_id, req->principal.account_id) == 0;
    pms_clinician_clear(&c);
    if (!ok && (rc == PMS_OK || rc == PMS_ERR_NOT_FOUND))
        return pmsd_v_fail(resp, NULL, "clinicianId", "is not a clinician of this account");
    if (!ok)
        pmsd_respond_pms_error(resp, &err);
    return ok;
}

/* Applies the body's fields to a manual or OCR entry (creating: required ones must be there).
 * Whether a clinicianId belongs to the account is the caller's to check. */
static bool apply_entry_fields(pmsd_response *resp, const json_t *body, bool creating,
                               const char *tz, pms_sheet_entry *e)
{
    const char *clinician, *type_name, *notes, *status;
    const json_t *patient = NULL;
    pms_instant start = PMS_INSTANT_NONE, end = PMS_INSTANT_NONE;
    bool has_start = false, has_end = false, has_duration = false;
    long duration = 0;
    int tele = -1;
    if (!pmsd_v_string(body, "clinicianId", NULL, creating, 64, &clinician, resp) ||
        !pmsd_v_instant(body, "startTime", NULL, creating, &start, &has_start, resp) ||
        !pmsd_v_instant(body, "endTime", NULL, false, &end, &has_end, resp) ||
        !pmsd_v_int(body, "durationMinutes", NULL, false, 1, MAX_DURATION_MINUTES, &duration,
                    &has_duration, resp) ||
        !pmsd_v_object(body, "patient", NULL, creating, &patient, resp) ||
        !pmsd_v_string(body, "appointmentTypeName", NULL, false, 255, &type_name, resp) ||
        !pmsd_v_bool(body, "isTelehealth", NULL, &tele, resp) ||
        !pmsd_v_string(body, "notes", NULL, false, 4000, &notes, resp) ||
        !pmsd_v_enum(body, "status", NULL, false, status_values, &status, resp))
        return false;
    if (has_end && has_duration)
        return pmsd_v_fail(resp, NULL, "durationMinutes", "cannot be combined with endTime");
    if (creating && !has_end && !has_duration)
        return pmsd_v_fail(resp, NULL, "endTime", "or durationMinutes is required");
    if (patient) {
        const char *name, *phone;
        if (!pmsd_v_known_keys(patient, patient_keys, "patient", resp) ||
            !pmsd_v_string(patient, "fullName", "patient", creating, 255, &name, resp) ||
            !pmsd_v_string(patient, "phone", "patient", false, 40, &phone, resp))
            return false;
        if (name && !set_text(&e->appt.patient.full_name, name))
            goto nomem;
        if (json_object_get(patient, "phone")) {
            char *normal = phone ? pms_phone_normalize(phone, region_for(tz)) : NULL;
            free(e->appt.patient.phone);
            e->appt.patient.phone = normal;
        }
    }
    long long length_ms = creating ? 0 : e->appt.end_time - e->appt.start_time;
    if (has_start)
        e->appt.start_time = start;
    if (has_end)
        e->appt.end_time = end;
    else if (has_duration)
        e->appt.end_time = e->appt.start_time + duration * 60000LL;
    else if (has_start)
        e->appt.end_time = e->appt.start_time + length_ms; /* moved, same length */
    if (e->appt.end_time <= e->appt.start_time)
        return pmsd_v_fail(resp, NULL, has_end ? "endTime" : "startTime",
                           "must leave the appointment a positive length");
    if (e->appt.end_time - e->appt.start_time > MAX_DURATION_MINUTES * 60000LL)
        return pmsd_v_fail(resp, NULL, has_end ? "endTime" : "durationMinutes",
                           "must keep the appointment within 12 hours");
    e->appt.duration_minutes = (int)((e->appt.end_time - e->appt.start_time) / 60000);
    if (clinician && !set_text(&e->clinician_id, clinician))
        goto nomem;
    if (json_object_get(body, "appointmentTypeName") &&
        !set_text(&e->appt.appointment_type_name, type_name))
        goto nomem;
    if (json_object_get(body, "notes") && !set_text(&e->appt.notes, notes))
        goto nomem;
    if (tele >= 0)
        e->appt.is_telehealth = tele == 1;
    if (status)
        pms_appt_status_parse(status, &e->appt.status);
    if (!set_text(&e->appt.timezone, tz))
        goto nomem;
    return true;
nomem:
    pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
    return false;
}

/* Puts the entry on the run sheet of its start's local day. */
static bool place_on_sheet(pmsd_request *req, pmsd_response *resp, pms_store *st, const char *tz,
                           pms_sheet_entry *e)
{
    pms_date day;
    if (!local_date(tz, e->appt.start_time, &day, resp))
        return false;
    char *sheet_id = NULL;
    pms_error err = {0};
    if (st->ops->run_sheet_ensure(st, req->principal.account_id, day, tz, &sheet_id, &err) !=
        PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    free(e->run_sheet_id);
    e->run_sheet_id = sheet_id;
    e->sheet_date = day;
    return true;
}

/* Writes an entry change and its audit record in one transaction; reads the stored entry back
 * into *stored. */
typedef int (*entry_write)(pms_store *st, pms_sheet_entry *e, pms_error *err);

static int write_insert(pms_store *st, pms_sheet_entry *e, pms_error *err)
{
    return st->ops->entry_insert(st, e, err);
}

static int write_source(pms_store *st, pms_sheet_entry *e, pms_error *err)
{
    return st->ops->entry_update_source(st, e, err);
}

static int write_edits(pms_store *st, pms_sheet_entry *e, pms_error *err)
{
    return st->ops->entry_update_edits(st, e, err);
}

static int write_removed(pms_store *st, pms_sheet_entry *e, pms_error *err)
{
    return st->ops->entry_mark_removed(st, e->id, pms_now(), err);
}

static bool commit_change(pmsd_request *req, pmsd_response *resp, pms_store *st, pms_sheet_entry *e,
                          entry_write write, const char *action, int outcome,
                          pms_sheet_entry *stored)
{
    pms_error err = {0};
    pms_sheet_entry_init(stored);
    if (st->ops->begin(st, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    if (write(st, e, &err) != PMS_OK || st->ops->entry_get(st, e->id, stored, &err) != PMS_OK) {
        st->ops->rollback(st);
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    json_t *patients = patients_of(stored);
    char resource[128];
    resource_of(stored, resource, sizeof resource);
    bool audited = pmsd_audit(req, resp, st, true, action, resource, patients, outcome);
    json_decref(patients);
    if (!audited || st->ops->commit(st, &err) != PMS_OK) {
        st->ops->rollback(st);
        if (audited)
            pmsd_respond_pms_error(resp, &err);
        pms_sheet_entry_clear(stored);
        return false;
    }
    return true;
}

bool pmsd_read_entry_create(const json_t *body, const char *tz, pms_sheet_entry *e,
                            pmsd_response *resp)
{
    const char *source = NULL;
    if (!pmsd_v_known_keys(body, entry_keys, NULL, resp) ||
        !pmsd_v_enum(body, "source", NULL, false, source_values, &source, resp))
        return false;
    e->source = source && strcmp(source, "ocr") == 0 ? PMS_SOURCE_OCR : PMS_SOURCE_MANUAL;
    e->appt.is_telehealth = true; /* the run sheet lists telehealth appointments */
    e->appt.status = PMS_STATUS_BOOKED;
    return apply_entry_fields(resp, body, true, tz, e);
}

/* The clinician a body names (when it names one) belongs to the caller's account. */
static bool own_named_clinician(pmsd_request *req, pmsd_response *resp, pms_store *st,
                                const json_t *body)
{
    const char *clinician = json_string_value(json_object_get(body, "clinicianId"));
    return clinician == NULL || own_clinician(req, resp, st, clinician);
}

void pmsd_h_appointment_create(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    json_t *body = st ? pmsd_json_body(req, resp) : NULL;
    char *tz = body ? pmsd_account_timezone(req, resp, st) : NULL;
    pms_sheet_entry e, stored;
    pms_sheet_entry_init(&e);
    pms_sheet_entry_init(&stored);
    if (tz == NULL || !pmsd_read_entry_create(body, tz, &e, resp) ||
        !own_named_clinician(req, resp, st, body) || !place_on_sheet(req, resp, st, tz, &e))
        goto out;
    pms_appointment_content_hash(&e.appt, e.content_hash);
    if (commit_change(req, resp, st, &e, write_insert, "run_sheet.appointment.create", 201,
                      &stored)) {
        pmsd_respond_json(resp, 201, entry_json(&stored));
        char location[128];
        snprintf(location, sizeof location, "/api/run-sheet/appointments/%s", stored.id);
        pmsd_respond_header(resp, "Location", location);
        pmsd_publish_entry(req->app, &stored, "appointment.created");
    }
out:
    pms_sheet_entry_clear(&e);
    pms_sheet_entry_clear(&stored);
    json_decref(body);
    free(tz);
}

/* Fields of a PMS appointment that belong to the PMS, and where a person's change goes. */
static const char *const pms_owned[] = {
    "clinicianId",  "endTime", "durationMinutes", "appointmentTypeName",
    "isTelehealth", "status",  "source",          NULL,
};

/* A PATCH of a PMS appointment: phone, start time and notes become edits (null undoes one). */
static bool apply_edits(pmsd_response *resp, const json_t *body, const char *tz, pms_sheet_entry *e)
{
    for (size_t i = 0; pms_owned[i]; i++) {
        if (json_object_get(body, pms_owned[i])) {
            pmsd_respond_error(resp, 409, "pms_owned", pms_owned[i],
                               "%s of a PMS appointment comes from the PMS: change it there",
                               pms_owned[i]);
            return false;
        }
    }
    const json_t *patient = json_object_get(body, "patient");
    if (patient) {
        if (!json_is_object(patient))
            return pmsd_v_fail(resp, NULL, "patient", "must be an object");
        if (json_object_get(patient, "fullName")) {
            pmsd_respond_error(resp, 409, "pms_owned", "patient.fullName",
                               "the patient's name comes from the PMS: change it there");
            return false;
        }
        const char *phone;
        if (!pmsd_v_known_keys(patient, patient_keys, "patient", resp) ||
            !pmsd_v_string(patient, "phone", "patient", false, 40, &phone, resp))
            return false;
        if (json_object_get(patient, "phone")) {
            char *normal = phone ? pms_phone_normalize(phone, region_for(tz)) : NULL;
            free(e->edited_phone);
            e->edited_phone = normal;
        }
    }
    pms_instant start;
    bool has_start = false;
    const char *notes;
    if (!pmsd_v_instant(body, "startTime", NULL, false, &start, &has_start, resp) ||
        !pmsd_v_string(body, "notes", NULL, false, 4000, &notes, resp))
        return false;
    if (json_object_get(body, "startTime")) {
        e->edited_start = has_start ? start : PMS_INSTANT_NONE;
        e->edited_end = PMS_INSTANT_NONE; /* the PMS's duration stands */
    }
    if (json_object_get(body, "notes") && pms_str_set(&e->manual_notes, notes) != PMS_OK) {
        pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
        return false;
    }
    bool any = e->edited_phone || e->edited_start != PMS_INSTANT_NONE || e->manual_notes;
    e->edited_at = any ? pms_now() : PMS_INSTANT_NONE;
    return true;
}

bool pmsd_read_entry_update(const json_t *body, const char *tz, pms_sheet_entry *e,
                            pmsd_response *resp)
{
    if (!pmsd_v_known_keys(body, entry_keys, NULL, resp))
        return false;
    if (json_object_size(body) == 0) {
        pmsd_respond_error(resp, 400, "invalid_request", NULL, "nothing to change");
        return false;
    }
    if (e->source == PMS_SOURCE_PMS)
        return apply_edits(resp, body, tz, e);
    if (json_object_get(body, "source"))
        return pmsd_v_fail(resp, NULL, "source", "cannot change");
    return apply_entry_fields(resp, body, false, tz, e);
}

void pmsd_h_appointment_update(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    pms_sheet_entry e, stored;
    pms_sheet_entry_init(&stored);
    if (st == NULL || !own_entry(req, resp, st, &e))
        return;
    json_t *body = pmsd_json_body(req, resp);
    char *tz = body ? pmsd_account_timezone(req, resp, st) : NULL;
    if (tz == NULL || !pmsd_read_entry_update(body, tz, &e, resp))
        goto out;
    bool ok = true;
    entry_write write = write_edits;
    if (e.source != PMS_SOURCE_PMS) {
        ok = own_named_clinician(req, resp, st, body) && place_on_sheet(req, resp, st, tz, &e);
        pms_appointment_content_hash(&e.appt, e.content_hash);
        write = write_source;
    }
    if (ok &&
        commit_change(req, resp, st, &e, write, "run_sheet.appointment.update", 200, &stored)) {
        pmsd_respond_json(resp, 200, entry_json(&stored));
        pmsd_publish_entry(req->app, &stored, "appointment.updated");
    }
out:
    json_decref(body);
    free(tz);
    pms_sheet_entry_clear(&e);
    pms_sheet_entry_clear(&stored);
}

void pmsd_h_appointment_delete(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    pms_sheet_entry e, stored;
    if (st == NULL || !own_entry(req, resp, st, &e))
        return;
    if (e.source == PMS_SOURCE_PMS) {
        pmsd_respond_error(resp, 409, "pms_owned", NULL,
                           "a PMS appointment leaves the run sheet when it is cancelled or "
                           "removed in the PMS");
    } else if (e.removed_at != PMS_INSTANT_NONE) {
        pmsd_respond_error(resp, 404, "not_found", NULL, "no such run-sheet appointment");
    } else if (commit_change(req, resp, st, &e, write_removed, "run_sheet.appointment.delete", 204,
                             &stored)) {
        pmsd_respond_text(resp, 204, NULL, NULL, 0);
        pmsd_publish_entry(req->app, &stored, "appointment.removed");
        pms_sheet_entry_clear(&stored);
    }
    pms_sheet_entry_clear(&e);
}
