/* Run sheets and their appointments in SQLite. */
#include <stdlib.h>
#include <string.h>

#include "pmsync/names.h"
#include "store/sqlite/sqlite_internal.h"

#define ENTRY_COLUMNS                                                                              \
    "e.id, e.run_sheet_id, r.account_id, r.sheet_date, e.clinician_id, c.name, e.source, "         \
    "e.pms_last_synced_at, e.pms_type, e.pms_appointment_id, e.pms_connection_id, "                \
    "e.start_time, e.end_time, e.appointment_duration_minutes, e.timezone, e.is_telehealth, "      \
    "e.appointment_type_name, e.appointment_type_id, e.appointment_status, e.pms_patient_id, "     \
    "e.patient_name, e.patient_first_name, e.patient_last_name, e.patient_phone, "                 \
    "e.patient_email, e.patient_dob, e.pms_practitioner_id, e.practitioner_name, "                 \
    "e.practitioner_first_name, e.practitioner_last_name, e.notes, e.referral_id, "                \
    "e.telehealth_url_provider, e.telehealth_url_patient, e.location_name, e.pms_created_at, "     \
    "e.pms_updated_at, e.fetched_at, e.raw_data, e.content_hash, e.edited_phone, "                 \
    "e.edited_start_time, e.edited_end_time, e.manual_notes, e.edited_at, e.removed_at, "          \
    "e.created_at, e.updated_at"

#define ENTRY_FROM                                                                                 \
    " FROM run_sheet_appointments e JOIN run_sheets r ON r.id = e.run_sheet_id "                   \
    "LEFT JOIN run_sheet_clinicians c ON c.id = e.clinician_id "

static const char sheet_find_sql[] =
    "SELECT id FROM run_sheets WHERE account_id = ?1 AND sheet_date = ?2";
static const char sheet_insert_sql[] =
    "INSERT INTO run_sheets (id, account_id, sheet_date, timezone, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (account_id, sheet_date) DO NOTHING";

static const char find_pms_sql[] = "SELECT " ENTRY_COLUMNS ENTRY_FROM
                                   "WHERE e.pms_connection_id = ?1 AND e.pms_appointment_id = ?2";
static const char state_pms_sql[] =
    "SELECT id, run_sheet_id, clinician_id, content_hash, removed_at IS NOT NULL "
    "FROM run_sheet_appointments WHERE pms_connection_id = ?1 AND pms_appointment_id = ?2";
static const char get_sql[] = "SELECT " ENTRY_COLUMNS ENTRY_FROM "WHERE e.id = ?1";
static const char ocr_match_sql[] =
    "SELECT id FROM run_sheet_appointments INDEXED BY idx_run_sheet_appointments_ocr_pending "
    "WHERE run_sheet_id = ?1 AND patient_key = ?4 AND source = 'ocr' "
    "AND pms_appointment_id IS NULL AND clinician_id IS ?2 "
    "AND COALESCE(edited_start_time, start_time) = ?3 ORDER BY created_at LIMIT 1";
static const char list_sql[] =
    "SELECT " ENTRY_COLUMNS ENTRY_FROM "WHERE r.account_id = ?1 AND r.sheet_date = ?2 "
    "AND (?3 IS NULL OR e.pms_connection_id = ?3) AND (?4 OR e.removed_at IS NULL) "
    "AND (?5 IS NULL OR e.pms_appointment_id = ?5) "
    "ORDER BY c.name, COALESCE(e.edited_start_time, e.start_time), e.id";

/* Source-owned columns, ?1 = id. */
static const char insert_sql[] =
    "INSERT INTO run_sheet_appointments (id, run_sheet_id, clinician_id, source, "
    "pms_last_synced_at, pms_type, pms_appointment_id, pms_connection_id, start_time, end_time, "
    "appointment_duration_minutes, timezone, is_telehealth, appointment_type_name, "
    "appointment_type_id, appointment_status, pms_patient_id, patient_name, patient_first_name, "
    "patient_last_name, patient_phone, patient_email, patient_dob, pms_practitioner_id, "
    "practitioner_name, practitioner_first_name, practitioner_last_name, notes, referral_id, "
    "telehealth_url_provider, telehealth_url_patient, location_name, pms_created_at, "
    "pms_updated_at, fetched_at, raw_data, content_hash, patient_key, edited_phone, "
    "edited_start_time, edited_end_time, manual_notes, edited_at, removed_at, created_at, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
    "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, "
    "?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?44, ?45, ?45)";
static const char update_source_sql[] =
    "UPDATE run_sheet_appointments SET run_sheet_id = ?2, clinician_id = ?3, source = ?4, "
    "pms_last_synced_at = ?5, pms_type = ?6, pms_appointment_id = ?7, pms_connection_id = ?8, "
    "start_time = ?9, end_time = ?10, appointment_duration_minutes = ?11, timezone = ?12, "
    "is_telehealth = ?13, appointment_type_name = ?14, appointment_type_id = ?15, "
    "appointment_status = ?16, pms_patient_id = ?17, patient_name = ?18, "
    "patient_first_name = ?19, patient_last_name = ?20, patient_phone = ?21, "
    "patient_email = ?22, patient_dob = ?23, pms_practitioner_id = ?24, "
    "practitioner_name = ?25, practitioner_first_name = ?26, practitioner_last_name = ?27, "
    "notes = ?28, referral_id = ?29, telehealth_url_provider = ?30, "
    "telehealth_url_patient = ?31, location_name = ?32, pms_created_at = ?33, "
    "pms_updated_at = ?34, fetched_at = ?35, raw_data = ?36, content_hash = ?37, "
    "patient_key = ?38, removed_at = NULL, updated_at = ?45 WHERE id = ?1";
static const char update_edits_sql[] =
    "UPDATE run_sheet_appointments SET edited_phone = ?2, edited_start_time = ?3, "
    "edited_end_time = ?4, manual_notes = ?5, edited_at = ?6, clinician_id = ?7, updated_at = ?8 "
    "WHERE id = ?1";
static const char mark_removed_sql[] =
    "UPDATE run_sheet_appointments SET removed_at = ?2, updated_at = ?2 "
    "WHERE id = ?1 AND removed_at IS NULL";
static const char active_pms_sql[] =
    "SELECT id, pms_appointment_id FROM run_sheet_appointments WHERE pms_connection_id = ?1 "
    "AND source = 'pms' AND removed_at IS NULL AND start_time >= ?2 AND start_time < ?3";

int sq_run_sheet_ensure(pms_store *st, const char *account_id, pms_date day, const char *timezone,
                        char **id, pms_error *err)
{
    sqlite_store *s = SQ(st);
    *id = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        sqlite3_stmt *stmt = sq_stmt(s, sheet_find_sql, err);
        if (stmt == NULL)
            return err ? (int)err->code : PMS_ERR_STORE;
        sq_bind_text(stmt, 1, account_id);
        sq_bind_date(stmt, 2, day);
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) {
            bool oom = false;
            *id = sq_col_text(stmt, 0, &oom);
            sqlite3_reset(stmt);
            return oom ? pms_error_set(err, PMS_ERR_NOMEM, "out of memory") : PMS_OK;
        }
        sqlite3_reset(stmt);
        if (step != SQLITE_DONE)
            return sq_fail(s, err, "finding a run sheet");
        char new_id[37];
        int rc = sq_new_id(new_id, err);
        if (rc)
            return rc;
        stmt = sq_stmt(s, sheet_insert_sql, err);
        if (stmt == NULL)
            return err ? (int)err->code : PMS_ERR_STORE;
        sq_bind_text(stmt, 1, new_id);
        sq_bind_text(stmt, 2, account_id);
        sq_bind_date(stmt, 3, day);
        sq_bind_text(stmt, 4, timezone);
        sq_bind_instant(stmt, 5, pms_now());
        if ((rc = sq_exec_stmt(s, stmt, "creating a run sheet", err)) != PMS_OK)
            return rc;
    }
    return pms_error_set(err, PMS_ERR_STORE, "run sheet could not be created");
}

static int read_entry(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_sheet_entry *e = item;
    bool oom = false;
    pms_sheet_entry_init(e);
    pms_appointment *a = &e->appt;
    int i = 0;
    e->id = sq_col_text(stmt, i++, &oom);
    e->run_sheet_id = sq_col_text(stmt, i++, &oom);
    e->account_id = sq_col_text(stmt, i++, &oom);
    e->sheet_date = sq_col_date(stmt, i++);
    e->clinician_id = sq_col_text(stmt, i++, &oom);
    e->clinician_name = sq_col_text(stmt, i++, &oom);
    const unsigned char *source = sqlite3_column_text(stmt, i++);
    pms_source_parse((const char *)source, &e->source);
    e->pms_last_synced_at = sq_col_instant(stmt, i++);
    a->pms_type = sq_col_text(stmt, i++, &oom);
    a->pms_appointment_id = sq_col_text(stmt, i++, &oom);
    a->pms_connection_id = sq_col_text(stmt, i++, &oom);
    a->start_time = sq_col_instant(stmt, i++);
    a->end_time = sq_col_instant(stmt, i++);
    a->duration_minutes = (int)sq_col_int(stmt, i++);
    a->timezone = sq_col_text(stmt, i++, &oom);
    a->is_telehealth = sq_col_bool(stmt, i++);
    a->appointment_type_name = sq_col_text(stmt, i++, &oom);
    a->appointment_type_id = sq_col_text(stmt, i++, &oom);
    const unsigned char *status = sqlite3_column_text(stmt, i++);
    if (status == NULL || pms_appt_status_parse((const char *)status, &a->status) != PMS_OK)
        a->status = PMS_STATUS_BOOKED;
    a->patient.pms_patient_id = sq_col_text(stmt, i++, &oom);
    a->patient.full_name = sq_col_text(stmt, i++, &oom);
    a->patient.first_name = sq_col_text(stmt, i++, &oom);
    a->patient.last_name = sq_col_text(stmt, i++, &oom);
    a->patient.phone = sq_col_text(stmt, i++, &oom);
    a->patient.email = sq_col_text(stmt, i++, &oom);
    if (sqlite3_column_type(stmt, i) != SQLITE_NULL) {
        a->patient.date_of_birth = sq_col_date(stmt, i);
        a->patient.has_date_of_birth = pms_date_valid(a->patient.date_of_birth);
    }
    i++;
    a->practitioner.pms_practitioner_id = sq_col_text(stmt, i++, &oom);
    a->practitioner.full_name = sq_col_text(stmt, i++, &oom);
    a->practitioner.first_name = sq_col_text(stmt, i++, &oom);
    a->practitioner.last_name = sq_col_text(stmt, i++, &oom);
    a->notes = sq_col_text(stmt, i++, &oom);
    a->referral_id = sq_col_text(stmt, i++, &oom);
    a->telehealth_url_provider = sq_col_text(stmt, i++, &oom);
    a->telehealth_url_patient = sq_col_text(stmt, i++, &oom);
    a->location_name = sq_col_text(stmt, i++, &oom);
    a->pms_created_at = sq_col_instant(stmt, i++);
    a->pms_updated_at = sq_col_instant(stmt, i++);
    a->fetched_at = sq_col_instant(stmt, i++);
    a->raw_data = sq_col_json(stmt, i++);
    const unsigned char *hash = sqlite3_column_text(stmt, i++);
    if (hash)
        snprintf(e->content_hash, sizeof e->content_hash, "%s", (const char *)hash);
    e->edited_phone = sq_col_text(stmt, i++, &oom);
    e->edited_start = sq_col_instant(stmt, i++);
    e->edited_end = sq_col_instant(stmt, i++);
    e->manual_notes = sq_col_text(stmt, i++, &oom);
    e->edited_at = sq_col_instant(stmt, i++);
    e->removed_at = sq_col_instant(stmt, i++);
    e->created_at = sq_col_instant(stmt, i++);
    e->updated_at = sq_col_instant(stmt, i++);
    if (oom) {
        pms_sheet_entry_clear(e);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

static int get_one(sqlite_store *s, const char *sql, const char *a, const char *b,
                   pms_sheet_entry *out, pms_error *err)
{
    sqlite3_stmt *stmt = sq_stmt(s, sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, a);
    if (b)
        sq_bind_text(stmt, 2, b);
    int step = sqlite3_step(stmt), rc;
    if (step == SQLITE_ROW)
        rc = read_entry(stmt, out, err);
    else if (step == SQLITE_DONE)
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "no such run-sheet appointment");
    else
        rc = sq_fail(s, err, "reading a run-sheet appointment");
    sqlite3_reset(stmt);
    return rc;
}

int sq_entry_find_pms(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                      pms_sheet_entry *out, pms_error *err)
{
    return get_one(SQ(st), find_pms_sql, connection_id, pms_appointment_id, out, err);
}

static void copy_column(sqlite3_stmt *stmt, int i, char *dst, size_t len)
{
    const unsigned char *v = sqlite3_column_text(stmt, i);
    snprintf(dst, len, "%s", v ? (const char *)v : "");
}

int sq_entry_state_pms(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                       pms_entry_state *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, state_pms_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    sq_bind_text(stmt, 2, pms_appointment_id);
    int step = sqlite3_step(stmt), rc = PMS_OK;
    if (step == SQLITE_ROW) {
        copy_column(stmt, 0, out->id, sizeof out->id);
        copy_column(stmt, 1, out->run_sheet_id, sizeof out->run_sheet_id);
        copy_column(stmt, 2, out->clinician_id, sizeof out->clinician_id);
        copy_column(stmt, 3, out->content_hash, sizeof out->content_hash);
        out->removed = sqlite3_column_int(stmt, 4) != 0;
    } else if (step == SQLITE_DONE) {
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "no such run-sheet appointment");
    } else {
        rc = sq_fail(s, err, "reading a run-sheet appointment");
    }
    sqlite3_reset(stmt);
    return rc;
}

int sq_entry_get(pms_store *st, const char *id, pms_sheet_entry *out, pms_error *err)
{
    return get_one(SQ(st), get_sql, id, NULL, out, err);
}

int sq_entry_find_ocr_match(pms_store *st, const char *run_sheet_id, const char *clinician_id,
                            pms_instant start, const char *patient_key, char **id, pms_error *err)
{
    sqlite_store *s = SQ(st);
    *id = NULL;
    if (patient_key == NULL)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no patient to match");
    sqlite3_stmt *stmt = sq_stmt(s, ocr_match_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, run_sheet_id);
    sq_bind_text(stmt, 2, clinician_id);
    sq_bind_instant(stmt, 3, start);
    sq_bind_text(stmt, 4, patient_key);
    int step = sqlite3_step(stmt), rc = PMS_OK;
    if (step == SQLITE_ROW) {
        bool oom = false;
        *id = sq_col_text(stmt, 0, &oom);
        if (oom)
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    } else if (step == SQLITE_DONE) {
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "no matching OCR entry");
    } else {
        rc = sq_fail(s, err, "matching OCR entries");
    }
    sqlite3_reset(stmt);
    return rc;
}

/* Binds ?1..?38 and ?45 (source-owned columns) of an entry. */
static void bind_source_columns(sqlite3_stmt *stmt, const pms_sheet_entry *e, const char *id,
                                pms_instant now)
{
    const pms_appointment *a = &e->appt;
    sq_bind_text(stmt, 1, id);
    sq_bind_text(stmt, 2, e->run_sheet_id);
    sq_bind_text(stmt, 3, e->clinician_id);
    sq_bind_text(stmt, 4, pms_source_name(e->source));
    sq_bind_instant(stmt, 5, e->pms_last_synced_at);
    sq_bind_text(stmt, 6, a->pms_type);
    sq_bind_text(stmt, 7, a->pms_appointment_id);
    sq_bind_text(stmt, 8, a->pms_connection_id);
    sq_bind_instant(stmt, 9, a->start_time);
    sq_bind_instant(stmt, 10, a->end_time);
    sq_bind_int(stmt, 11, a->duration_minutes);
    sq_bind_text(stmt, 12, a->timezone);
    sq_bind_int(stmt, 13, a->is_telehealth);
    sq_bind_text(stmt, 14, a->appointment_type_name);
    sq_bind_text(stmt, 15, a->appointment_type_id);
    sq_bind_text(stmt, 16, pms_appt_status_name(a->status));
    sq_bind_text(stmt, 17, a->patient.pms_patient_id);
    sq_bind_text(stmt, 18, a->patient.full_name);
    sq_bind_text(stmt, 19, a->patient.first_name);
    sq_bind_text(stmt, 20, a->patient.last_name);
    sq_bind_text(stmt, 21, a->patient.phone);
    sq_bind_text(stmt, 22, a->patient.email);
    if (a->patient.has_date_of_birth)
        sq_bind_date(stmt, 23, a->patient.date_of_birth);
    else
        sqlite3_bind_null(stmt, 23);
    sq_bind_text(stmt, 24, a->practitioner.pms_practitioner_id);
    sq_bind_text(stmt, 25, a->practitioner.full_name);
    sq_bind_text(stmt, 26, a->practitioner.first_name);
    sq_bind_text(stmt, 27, a->practitioner.last_name);
    sq_bind_text(stmt, 28, a->notes);
    sq_bind_text(stmt, 29, a->referral_id);
    sq_bind_text(stmt, 30, a->telehealth_url_provider);
    sq_bind_text(stmt, 31, a->telehealth_url_patient);
    sq_bind_text(stmt, 32, a->location_name);
    sq_bind_instant(stmt, 33, a->pms_created_at);
    sq_bind_instant(stmt, 34, a->pms_updated_at);
    sq_bind_instant(stmt, 35, a->fetched_at);
    sq_bind_json(stmt, 36, a->raw_data);
    sq_bind_text(stmt, 37, e->content_hash[0] ? e->content_hash : NULL);
    char *key = a->patient.full_name ? pms_name_match_key(a->patient.full_name) : NULL;
    if (key)
        sqlite3_bind_text(stmt, 38, key, -1, free);
    else
        sqlite3_bind_null(stmt, 38);
    sq_bind_instant(stmt, 45, now);
}

int sq_entry_insert(pms_store *st, pms_sheet_entry *e, pms_error *err)
{
    sqlite_store *s = SQ(st);
    char id[37];
    int rc = sq_new_id(id, err);
    if (rc)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, insert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    pms_instant now = pms_now();
    bind_source_columns(stmt, e, id, now);
    sq_bind_text(stmt, 39, e->edited_phone);
    sq_bind_instant(stmt, 40, e->edited_start);
    sq_bind_instant(stmt, 41, e->edited_end);
    sq_bind_text(stmt, 42, e->manual_notes);
    sq_bind_instant(stmt, 43, e->edited_at);
    sq_bind_instant(stmt, 44, e->removed_at);
    if ((rc = sq_exec_stmt(s, stmt, "adding a run-sheet appointment", err)) != PMS_OK)
        return rc;
    if (pms_str_set(&e->id, id) != PMS_OK)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    e->created_at = e->updated_at = now;
    return PMS_OK;
}

int sq_entry_update_source(pms_store *st, const pms_sheet_entry *e, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, update_source_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    bind_source_columns(stmt, e, e->id, pms_now());
    int rc = sq_exec_stmt(s, stmt, "updating a run-sheet appointment", err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such run-sheet appointment");
    return rc;
}

int sq_entry_update_edits(pms_store *st, const pms_sheet_entry *e, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, update_edits_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, e->id);
    sq_bind_text(stmt, 2, e->edited_phone);
    sq_bind_instant(stmt, 3, e->edited_start);
    sq_bind_instant(stmt, 4, e->edited_end);
    sq_bind_text(stmt, 5, e->manual_notes);
    sq_bind_instant(stmt, 6, e->edited_at);
    sq_bind_text(stmt, 7, e->clinician_id);
    sq_bind_instant(stmt, 8, pms_now());
    int rc = sq_exec_stmt(s, stmt, "editing a run-sheet appointment", err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such run-sheet appointment");
    return rc;
}

int sq_entry_mark_removed(pms_store *st, const char *id, pms_instant at, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, mark_removed_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_instant(stmt, 2, at);
    return sq_exec_stmt(s, stmt, "marking an appointment removed", err);
}

int sq_entry_each_active_pms(pms_store *st, const char *connection_id, pms_instant from,
                             pms_instant to,
                             int (*fn)(void *ctx, const char *id, const char *pms_id), void *ctx,
                             pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, active_pms_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    sq_bind_instant(stmt, 2, from);
    sq_bind_instant(stmt, 3, to);
    int rc = PMS_OK, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        rc = fn(ctx, (const char *)sqlite3_column_text(stmt, 0),
                (const char *)sqlite3_column_text(stmt, 1));
        if (rc != PMS_OK) {
            pms_error_set(err, (pms_status)rc, "stopped while listing appointments");
            break;
        }
    }
    if (rc == PMS_OK && step != SQLITE_DONE)
        rc = sq_fail(s, err, "listing synced appointments");
    sqlite3_reset(stmt);
    return rc;
}

int sq_entry_list(pms_store *st, const pms_sheet_query *q, pms_sheet_entry_list *out,
                  pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, list_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, q->account_id);
    sq_bind_date(stmt, 2, q->date);
    sq_bind_text(stmt, 3, q->connection_id);
    sq_bind_int(stmt, 4, q->include_removed);
    sq_bind_text(stmt, 5, q->pms_appointment_id);
    int rc = sq_collect(s, stmt, sizeof *out->items, (void **)&out->items, &out->count, read_entry,
                        "listing run-sheet appointments", err);
    if (rc != PMS_OK)
        pms_sheet_entry_list_clear(out);
    return rc;
}

static const char version_sql[] =
    "SELECT COALESCE((SELECT version FROM run_sheets WHERE account_id = ?1 AND sheet_date = ?2), "
    "-1), a.clinicians_version, COALESCE(a.timezone, '') FROM accounts a WHERE a.id = ?1";

int sq_run_sheet_version(pms_store *st, const char *account_id, pms_date day,
                         char out[PMS_STORE_VERSION_LEN], pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, version_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, account_id);
    sq_bind_date(stmt, 2, day);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        const unsigned char *tz = sqlite3_column_text(stmt, 2);
        snprintf(out, PMS_STORE_VERSION_LEN, "%lld/%lld/%s",
                 (long long)sqlite3_column_int64(stmt, 0), (long long)sqlite3_column_int64(stmt, 1),
                 tz ? (const char *)tz : "");
    }
    sqlite3_reset(stmt);
    if (step == SQLITE_DONE)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no such account");
    return step == SQLITE_ROW ? PMS_OK : sq_fail(s, err, "reading a run sheet's version");
}
