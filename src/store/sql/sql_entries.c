/* Run sheets and their appointments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/crypto.h"
#include "pmsync/names.h"
#include "store/sql/sql.h"

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
    "SELECT id FROM run_sheets WHERE account_id = $1::uuid AND sheet_date = $2::date";
static const char sheet_insert_sql[] =
    "INSERT INTO run_sheets (id, account_id, sheet_date, timezone, created_at, updated_at) "
    "VALUES ($1::uuid, $2::uuid, $3::date, $4::text, $5::timestamptz, $5::timestamptz) "
    "ON CONFLICT (account_id, sheet_date) DO NOTHING RETURNING id";

static const char find_pms_sql[] =
    "SELECT " ENTRY_COLUMNS ENTRY_FROM
    "WHERE e.pms_connection_id = $1::uuid AND e.pms_appointment_id = $2::text";
static const char state_pms_sql[] =
    "SELECT id, run_sheet_id, clinician_id, content_hash, removed_at IS NOT NULL "
    "FROM run_sheet_appointments "
    "WHERE pms_connection_id = $1::uuid AND pms_appointment_id = $2::text";
static const char get_sql[] = "SELECT " ENTRY_COLUMNS ENTRY_FROM "WHERE e.id = $1::uuid";
static const char ocr_match_sqlite[] =
    "SELECT id FROM run_sheet_appointments INDEXED BY idx_run_sheet_appointments_ocr_pending "
    "WHERE run_sheet_id = ?1 AND patient_key = ?4 AND source = 'ocr' "
    "AND pms_appointment_id IS NULL AND clinician_id IS ?2 "
    "AND COALESCE(edited_start_time, start_time) = ?3 ORDER BY created_at LIMIT 1";
static const char ocr_match_pg[] =
    "SELECT id FROM run_sheet_appointments "
    "WHERE run_sheet_id = $1::uuid AND patient_key = $4::text AND source = 'ocr' "
    "AND pms_appointment_id IS NULL AND clinician_id IS NOT DISTINCT FROM $2::uuid "
    "AND COALESCE(edited_start_time, start_time) = $3::timestamptz ORDER BY created_at LIMIT 1";
static const char list_sql[] =
    "SELECT " ENTRY_COLUMNS ENTRY_FROM "WHERE r.account_id = $1::uuid AND r.sheet_date = $2::date "
    "AND ($3::uuid IS NULL OR e.pms_connection_id = $3::uuid) "
    "AND ($4::boolean OR e.removed_at IS NULL) "
    "AND ($5::text IS NULL OR e.pms_appointment_id = $5::text) "
    "ORDER BY c.name, COALESCE(e.edited_start_time, e.start_time), e.id";

/* $1 = id, $2..$38 the source-owned columns, $39 now; the insert adds $40..$45. */
#define SOURCE_VALUES                                                                              \
    "$1::uuid, $2::uuid, $3::uuid, $4::text, $5::timestamptz, $6::text, $7::text, $8::uuid, "      \
    "$9::timestamptz, $10::timestamptz, $11::integer, $12::text, $13::boolean, $14::text, "        \
    "$15::text, $16::text, $17::text, $18::text, $19::text, $20::text, $21::text, $22::text, "     \
    "$23::date, $24::text, $25::text, $26::text, $27::text, $28::text, $29::text, $30::text, "     \
    "$31::text, $32::text, $33::timestamptz, $34::timestamptz, $35::timestamptz, $36::jsonb, "     \
    "$37::text, $38::text"
static const char insert_sql[] =
    "INSERT INTO run_sheet_appointments (id, run_sheet_id, clinician_id, source, "
    "pms_last_synced_at, pms_type, pms_appointment_id, pms_connection_id, start_time, end_time, "
    "appointment_duration_minutes, timezone, is_telehealth, appointment_type_name, "
    "appointment_type_id, appointment_status, pms_patient_id, patient_name, patient_first_name, "
    "patient_last_name, patient_phone, patient_email, patient_dob, pms_practitioner_id, "
    "practitioner_name, practitioner_first_name, practitioner_last_name, notes, referral_id, "
    "telehealth_url_provider, telehealth_url_patient, location_name, pms_created_at, "
    "pms_updated_at, fetched_at, raw_data, content_hash, patient_key, created_at, updated_at, "
    "edited_phone, edited_start_time, edited_end_time, manual_notes, edited_at, removed_at) "
    "VALUES (" SOURCE_VALUES ", $39::timestamptz, $39::timestamptz, $40::text, "
    "$41::timestamptz, $42::timestamptz, $43::text, $44::timestamptz, $45::timestamptz) "
    "ON CONFLICT DO NOTHING";
static const char update_source_sql[] =
    "UPDATE run_sheet_appointments SET run_sheet_id = $2::uuid, clinician_id = $3::uuid, "
    "source = $4::text, pms_last_synced_at = $5::timestamptz, pms_type = $6::text, "
    "pms_appointment_id = $7::text, pms_connection_id = $8::uuid, start_time = $9::timestamptz, "
    "end_time = $10::timestamptz, appointment_duration_minutes = $11::integer, "
    "timezone = $12::text, is_telehealth = $13::boolean, appointment_type_name = $14::text, "
    "appointment_type_id = $15::text, appointment_status = $16::text, "
    "pms_patient_id = $17::text, patient_name = $18::text, patient_first_name = $19::text, "
    "patient_last_name = $20::text, patient_phone = $21::text, patient_email = $22::text, "
    "patient_dob = $23::date, pms_practitioner_id = $24::text, practitioner_name = $25::text, "
    "practitioner_first_name = $26::text, practitioner_last_name = $27::text, notes = $28::text, "
    "referral_id = $29::text, telehealth_url_provider = $30::text, "
    "telehealth_url_patient = $31::text, location_name = $32::text, "
    "pms_created_at = $33::timestamptz, pms_updated_at = $34::timestamptz, "
    "fetched_at = $35::timestamptz, raw_data = $36::jsonb, content_hash = $37::text, "
    "patient_key = $38::text, removed_at = NULL, updated_at = $39::timestamptz "
    "WHERE id = $1::uuid";
static const char update_edits_sql[] =
    "UPDATE run_sheet_appointments SET edited_phone = $2::text, "
    "edited_start_time = $3::timestamptz, edited_end_time = $4::timestamptz, "
    "manual_notes = $5::text, edited_at = $6::timestamptz, clinician_id = $7::uuid, "
    "updated_at = $8::timestamptz WHERE id = $1::uuid";
static const char mark_removed_sql[] =
    "UPDATE run_sheet_appointments SET removed_at = $2::timestamptz, updated_at = $2::timestamptz "
    "WHERE id = $1::uuid AND removed_at IS NULL";
static const char active_pms_sql[] =
    "SELECT id, pms_appointment_id FROM run_sheet_appointments WHERE pms_connection_id = $1::uuid "
    "AND source = 'pms' AND removed_at IS NULL AND start_time >= $2::timestamptz "
    "AND start_time < $3::timestamptz";
static const char version_sql[] =
    "SELECT COALESCE((SELECT version FROM run_sheets WHERE account_id = $1::uuid "
    "AND sheet_date = $2::date), -1), a.clinicians_version, COALESCE(a.timezone, '') "
    "FROM accounts a WHERE a.id = $1::uuid";

static const char no_entry[] = "no such run-sheet appointment";

int sql_run_sheet_ensure(pms_store *st, const char *account_id, pms_date day, const char *timezone,
                         char **id, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    *id = NULL;
    sql_args find = {0};
    sql_arg_text(&find, 1, account_id);
    sql_arg_date(&find, 2, day);
    /* Read, else insert (a concurrent insert wins: nothing returned), else read again. */
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc = sql_one(db, sheet_find_sql, &find, sql_read_string, id, "none",
                         "finding a run sheet", err);
        if (rc != PMS_ERR_NOT_FOUND)
            return rc;
        char new_id[PMS_UUID_LEN];
        if ((rc = pms_uuid_v4(new_id, err)) != PMS_OK)
            return rc;
        sql_args a = {0};
        sql_arg_text(&a, 1, new_id);
        sql_arg_text(&a, 2, account_id);
        sql_arg_date(&a, 3, day);
        sql_arg_text(&a, 4, timezone);
        sql_arg_instant(&a, 5, pms_now());
        rc = sql_one(db, sheet_insert_sql, &a, sql_read_string, id, "none", "creating a run sheet",
                     err);
        if (rc != PMS_ERR_NOT_FOUND)
            return rc;
    }
    return pms_error_set(err, PMS_ERR_STORE, "run sheet could not be created");
}

static int read_entry(const sql_row *row, void *item, pms_error *err)
{
    pms_sheet_entry *e = item;
    bool oom = false;
    pms_sheet_entry_init(e);
    pms_appointment *a = &e->appt;
    int i = 0;
    e->id = sql_strdup(row, i++, &oom);
    e->run_sheet_id = sql_strdup(row, i++, &oom);
    e->account_id = sql_strdup(row, i++, &oom);
    e->sheet_date = sql_date(row, i++);
    e->clinician_id = sql_strdup(row, i++, &oom);
    e->clinician_name = sql_strdup(row, i++, &oom);
    pms_source_parse(sql_text(row, i++), &e->source);
    e->pms_last_synced_at = sql_instant(row, i++);
    a->pms_type = sql_strdup(row, i++, &oom);
    a->pms_appointment_id = sql_strdup(row, i++, &oom);
    a->pms_connection_id = sql_strdup(row, i++, &oom);
    a->start_time = sql_instant(row, i++);
    a->end_time = sql_instant(row, i++);
    a->duration_minutes = (int)sql_int(row, i++);
    a->timezone = sql_strdup(row, i++, &oom);
    a->is_telehealth = sql_bool(row, i++);
    a->appointment_type_name = sql_strdup(row, i++, &oom);
    a->appointment_type_id = sql_strdup(row, i++, &oom);
    if (pms_appt_status_parse(sql_text(row, i++), &a->status) != PMS_OK)
        a->status = PMS_STATUS_BOOKED;
    a->patient.pms_patient_id = sql_strdup(row, i++, &oom);
    a->patient.full_name = sql_strdup(row, i++, &oom);
    a->patient.first_name = sql_strdup(row, i++, &oom);
    a->patient.last_name = sql_strdup(row, i++, &oom);
    a->patient.phone = sql_strdup(row, i++, &oom);
    a->patient.email = sql_strdup(row, i++, &oom);
    if (!sql_is_null(row, i)) {
        a->patient.date_of_birth = sql_date(row, i);
        a->patient.has_date_of_birth = pms_date_valid(a->patient.date_of_birth);
    }
    i++;
    a->practitioner.pms_practitioner_id = sql_strdup(row, i++, &oom);
    a->practitioner.full_name = sql_strdup(row, i++, &oom);
    a->practitioner.first_name = sql_strdup(row, i++, &oom);
    a->practitioner.last_name = sql_strdup(row, i++, &oom);
    a->notes = sql_strdup(row, i++, &oom);
    a->referral_id = sql_strdup(row, i++, &oom);
    a->telehealth_url_provider = sql_strdup(row, i++, &oom);
    a->telehealth_url_patient = sql_strdup(row, i++, &oom);
    a->location_name = sql_strdup(row, i++, &oom);
    a->pms_created_at = sql_instant(row, i++);
    a->pms_updated_at = sql_instant(row, i++);
    a->fetched_at = sql_instant(row, i++);
    a->raw_data = sql_json(row, i++);
    sql_copy_text(row, i++, e->content_hash, sizeof e->content_hash);
    e->edited_phone = sql_strdup(row, i++, &oom);
    e->edited_start = sql_instant(row, i++);
    e->edited_end = sql_instant(row, i++);
    e->manual_notes = sql_strdup(row, i++, &oom);
    e->edited_at = sql_instant(row, i++);
    e->removed_at = sql_instant(row, i++);
    e->created_at = sql_instant(row, i++);
    e->updated_at = sql_instant(row, i++);
    if (oom) {
        pms_sheet_entry_clear(e);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_entry_find_pms(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                       pms_sheet_entry *out, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    sql_arg_text(&a, 2, pms_appointment_id);
    return sql_one(SQL_DB(st), find_pms_sql, &a, read_entry, out, no_entry,
                   "reading a run-sheet appointment", err);
}

static int read_state(const sql_row *row, void *item, pms_error *err)
{
    (void)err;
    pms_entry_state *out = item;
    sql_copy_text(row, 0, out->id, sizeof out->id);
    sql_copy_text(row, 1, out->run_sheet_id, sizeof out->run_sheet_id);
    sql_copy_text(row, 2, out->clinician_id, sizeof out->clinician_id);
    sql_copy_text(row, 3, out->content_hash, sizeof out->content_hash);
    out->removed = sql_bool(row, 4);
    return PMS_OK;
}

int sql_entry_state_pms(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                        pms_entry_state *out, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    sql_arg_text(&a, 2, pms_appointment_id);
    return sql_one(SQL_DB(st), state_pms_sql, &a, read_state, out, no_entry,
                   "reading a run-sheet appointment", err);
}

int sql_entry_get(pms_store *st, const char *id, pms_sheet_entry *out, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    return sql_one(SQL_DB(st), get_sql, &a, read_entry, out, no_entry,
                   "reading a run-sheet appointment", err);
}

int sql_entry_find_ocr_match(pms_store *st, const char *run_sheet_id, const char *clinician_id,
                             pms_instant start, const char *patient_key, char **id, pms_error *err)
{
    sql_db *db = SQL_DB(st);
    *id = NULL;
    if (patient_key == NULL)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no patient to match");
    sql_args a = {0};
    sql_arg_text(&a, 1, run_sheet_id);
    sql_arg_text(&a, 2, clinician_id);
    sql_arg_instant(&a, 3, start);
    sql_arg_text(&a, 4, patient_key);
    return sql_one(db, SQL_PICK(db, ocr_match_sqlite, ocr_match_pg), &a, sql_read_string, id,
                   "no matching OCR entry", "matching OCR entries", err);
}

/* $1..$39: the id, the source-owned columns and now. *key: the patient's name key, freed by
 * the caller after the statement. */
static void source_args(sql_args *s, const pms_sheet_entry *e, const char *id, pms_instant now,
                        char **key)
{
    const pms_appointment *a = &e->appt;
    sql_arg_text(s, 1, id);
    sql_arg_text(s, 2, e->run_sheet_id);
    sql_arg_text(s, 3, e->clinician_id);
    sql_arg_text(s, 4, pms_source_name(e->source));
    sql_arg_instant(s, 5, e->pms_last_synced_at);
    sql_arg_text(s, 6, a->pms_type);
    sql_arg_text(s, 7, a->pms_appointment_id);
    sql_arg_text(s, 8, a->pms_connection_id);
    sql_arg_instant(s, 9, a->start_time);
    sql_arg_instant(s, 10, a->end_time);
    sql_arg_int(s, 11, a->duration_minutes);
    sql_arg_text(s, 12, a->timezone);
    sql_arg_bool(s, 13, a->is_telehealth);
    sql_arg_text(s, 14, a->appointment_type_name);
    sql_arg_text(s, 15, a->appointment_type_id);
    sql_arg_text(s, 16, pms_appt_status_name(a->status));
    sql_arg_text(s, 17, a->patient.pms_patient_id);
    sql_arg_text(s, 18, a->patient.full_name);
    sql_arg_text(s, 19, a->patient.first_name);
    sql_arg_text(s, 20, a->patient.last_name);
    sql_arg_text(s, 21, a->patient.phone);
    sql_arg_text(s, 22, a->patient.email);
    if (a->patient.has_date_of_birth)
        sql_arg_date(s, 23, a->patient.date_of_birth);
    else
        sql_arg_null(s, 23);
    sql_arg_text(s, 24, a->practitioner.pms_practitioner_id);
    sql_arg_text(s, 25, a->practitioner.full_name);
    sql_arg_text(s, 26, a->practitioner.first_name);
    sql_arg_text(s, 27, a->practitioner.last_name);
    sql_arg_text(s, 28, a->notes);
    sql_arg_text(s, 29, a->referral_id);
    sql_arg_text(s, 30, a->telehealth_url_provider);
    sql_arg_text(s, 31, a->telehealth_url_patient);
    sql_arg_text(s, 32, a->location_name);
    sql_arg_instant(s, 33, a->pms_created_at);
    sql_arg_instant(s, 34, a->pms_updated_at);
    sql_arg_instant(s, 35, a->fetched_at);
    sql_arg_json(s, 36, a->raw_data);
    sql_arg_text(s, 37, e->content_hash[0] ? e->content_hash : NULL);
    *key = a->patient.full_name ? pms_name_match_key(a->patient.full_name) : NULL;
    sql_arg_text(s, 38, *key);
    sql_arg_instant(s, 39, now);
}

int sql_entry_insert(pms_store *st, pms_sheet_entry *e, pms_error *err)
{
    char id[PMS_UUID_LEN];
    int rc = pms_uuid_v4(id, err);
    if (rc)
        return rc;
    pms_instant now = pms_now();
    sql_args a = {0};
    char *key = NULL;
    source_args(&a, e, id, now, &key);
    sql_arg_text(&a, 40, e->edited_phone);
    sql_arg_instant(&a, 41, e->edited_start);
    sql_arg_instant(&a, 42, e->edited_end);
    sql_arg_text(&a, 43, e->manual_notes);
    sql_arg_instant(&a, 44, e->edited_at);
    sql_arg_instant(&a, 45, e->removed_at);
    long added = 0;
    rc = sql_exec(SQL_DB(st), insert_sql, &a, &added, "adding a run-sheet appointment", err);
    free(key);
    if (rc != PMS_OK)
        return rc;
    if (added == 0)
        return pms_error_set(err, PMS_ERR_CONFLICT,
                             "the PMS appointment is on the run sheet already");
    if (pms_str_set(&e->id, id) != PMS_OK)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    e->created_at = e->updated_at = now;
    return PMS_OK;
}

/* A write of one entry by id: PMS_ERR_NOT_FOUND when no row matched. */
static int write_entry(pms_store *st, const char *sql, const sql_args *a, const char *doing,
                       pms_error *err)
{
    long changed = 0;
    int rc = sql_exec(SQL_DB(st), sql, a, &changed, doing, err);
    if (rc == PMS_OK && changed == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "%s", no_entry);
    return rc;
}

int sql_entry_update_source(pms_store *st, const pms_sheet_entry *e, pms_error *err)
{
    sql_args a = {0};
    char *key = NULL;
    source_args(&a, e, e->id, pms_now(), &key);
    int rc = write_entry(st, update_source_sql, &a, "updating a run-sheet appointment", err);
    free(key);
    return rc;
}

int sql_entry_update_edits(pms_store *st, const pms_sheet_entry *e, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, e->id);
    sql_arg_text(&a, 2, e->edited_phone);
    sql_arg_instant(&a, 3, e->edited_start);
    sql_arg_instant(&a, 4, e->edited_end);
    sql_arg_text(&a, 5, e->manual_notes);
    sql_arg_instant(&a, 6, e->edited_at);
    sql_arg_text(&a, 7, e->clinician_id);
    sql_arg_instant(&a, 8, pms_now());
    return write_entry(st, update_edits_sql, &a, "editing a run-sheet appointment", err);
}

int sql_entry_mark_removed(pms_store *st, const char *id, pms_instant at, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_instant(&a, 2, at);
    return sql_exec(SQL_DB(st), mark_removed_sql, &a, NULL, "marking an appointment removed", err);
}

typedef struct active_entry {
    char *id;
    char *pms_id;
} active_entry;

static int read_active(const sql_row *row, void *item, pms_error *err)
{
    active_entry *e = item;
    bool oom = false;
    e->id = sql_strdup(row, 0, &oom);
    e->pms_id = sql_strdup(row, 1, &oom);
    if (oom) {
        free(e->id);
        free(e->pms_id);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_entry_each_active_pms(pms_store *st, const char *connection_id, pms_instant from,
                              pms_instant to,
                              int (*fn)(void *ctx, const char *id, const char *pms_id), void *ctx,
                              pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    sql_arg_instant(&a, 2, from);
    sql_arg_instant(&a, 3, to);
    /* Read them all first: fn may use the store. */
    active_entry *items = NULL;
    size_t count = 0;
    int rc = sql_collect(SQL_DB(st), active_pms_sql, &a, sizeof *items, (void **)&items, &count,
                         read_active, "listing synced appointments", err);
    for (size_t i = 0; rc == PMS_OK && i < count; i++) {
        if ((rc = fn(ctx, items[i].id, items[i].pms_id)) != PMS_OK)
            pms_error_set(err, (pms_status)rc, "stopped while listing appointments");
    }
    for (size_t i = 0; i < count; i++) {
        free(items[i].id);
        free(items[i].pms_id);
    }
    free(items);
    return rc;
}

int sql_entry_list(pms_store *st, const pms_sheet_query *q, pms_sheet_entry_list *out,
                   pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, q->account_id);
    sql_arg_date(&a, 2, q->date);
    sql_arg_text(&a, 3, q->connection_id);
    sql_arg_bool(&a, 4, q->include_removed);
    sql_arg_text(&a, 5, q->pms_appointment_id);
    int rc = sql_collect(SQL_DB(st), list_sql, &a, sizeof *out->items, (void **)&out->items,
                         &out->count, read_entry, "listing run-sheet appointments", err);
    if (rc != PMS_OK)
        pms_sheet_entry_list_clear(out);
    return rc;
}

static int read_version(const sql_row *row, void *item, pms_error *err)
{
    (void)err;
    snprintf(item, PMS_STORE_VERSION_LEN, "%lld/%lld/%s", sql_int(row, 0), sql_int(row, 1),
             sql_text(row, 2) ? sql_text(row, 2) : "");
    return PMS_OK;
}

int sql_run_sheet_version(pms_store *st, const char *account_id, pms_date day,
                          char out[PMS_STORE_VERSION_LEN], pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id);
    sql_arg_date(&a, 2, day);
    return sql_one(SQL_DB(st), version_sql, &a, read_version, out, "no such account",
                   "reading a run sheet's version", err);
}
