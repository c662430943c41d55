/* Run-sheet clinicians, practitioner mappings and appointment types in SQLite. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_internal.h"

static const char clinician_insert_sql[] =
    "INSERT INTO run_sheet_clinicians (id, account_id, name, pms_practitioner_id, "
    "pms_connection_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
static const char clinician_get_sql[] =
    "SELECT id, account_id, name, pms_practitioner_id, pms_connection_id, created_at "
    "FROM run_sheet_clinicians WHERE id = ?1";
static const char clinician_list_sql[] =
    "SELECT id, account_id, name, pms_practitioner_id, pms_connection_id, created_at "
    "FROM run_sheet_clinicians WHERE account_id = ?1 ORDER BY name, id";

static const char mapping_list_sql[] =
    "SELECT m.id, m.pms_connection_id, m.pms_practitioner_id, m.pms_practitioner_name, "
    "m.run_sheet_clinician_id, c.name, m.sync_enabled, m.auto_created, m.pms_active, "
    "m.pms_bookable, m.created_at, m.updated_at FROM pms_clinician_mappings m "
    "LEFT JOIN run_sheet_clinicians c ON c.id = m.run_sheet_clinician_id "
    "WHERE m.pms_connection_id = ?1 ORDER BY m.pms_practitioner_name, m.pms_practitioner_id";
static const char mapping_upsert_sql[] =
    "INSERT INTO pms_clinician_mappings (id, pms_connection_id, pms_practitioner_id, "
    "pms_practitioner_name, run_sheet_clinician_id, sync_enabled, auto_created, pms_active, "
    "pms_bookable, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) "
    "ON CONFLICT (pms_connection_id, pms_practitioner_id) DO UPDATE SET "
    "pms_practitioner_name = excluded.pms_practitioner_name, "
    "run_sheet_clinician_id = excluded.run_sheet_clinician_id, "
    "sync_enabled = excluded.sync_enabled, auto_created = excluded.auto_created, "
    "pms_active = excluded.pms_active, pms_bookable = excluded.pms_bookable, "
    "updated_at = excluded.updated_at "
    "RETURNING id";

static const char type_list_sql[] =
    "SELECT id, pms_connection_id, pms_type_id, pms_type_name, default_duration_minutes, colour, "
    "is_telehealth, telehealth_auto_detected, sync_enabled FROM pms_appointment_types "
    "WHERE pms_connection_id = ?1 ORDER BY pms_type_name, pms_type_id";
static const char type_upsert_sql[] =
    "INSERT INTO pms_appointment_types (id, pms_connection_id, pms_type_id, pms_type_name, "
    "default_duration_minutes, colour, is_telehealth, telehealth_auto_detected, sync_enabled, "
    "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?9) "
    "ON CONFLICT (pms_connection_id, pms_type_id) DO UPDATE SET "
    "pms_type_name = excluded.pms_type_name, "
    "default_duration_minutes = excluded.default_duration_minutes, colour = excluded.colour, "
    "telehealth_auto_detected = excluded.telehealth_auto_detected, "
    "is_telehealth = CASE WHEN excluded.telehealth_auto_detected = 1 THEN excluded.is_telehealth "
    "ELSE pms_appointment_types.is_telehealth END, "
    "updated_at = excluded.updated_at "
    "WHERE pms_appointment_types.pms_type_name IS NOT excluded.pms_type_name "
    "OR pms_appointment_types.default_duration_minutes IS NOT excluded.default_duration_minutes "
    "OR pms_appointment_types.colour IS NOT excluded.colour "
    "OR pms_appointment_types.telehealth_auto_detected IS NOT excluded.telehealth_auto_detected "
    "OR (excluded.telehealth_auto_detected = 1 "
    "    AND pms_appointment_types.is_telehealth IS NOT excluded.is_telehealth)";
static const char type_flags_sql[] =
    "UPDATE pms_appointment_types SET "
    "is_telehealth = CASE WHEN ?3 < 0 THEN is_telehealth ELSE ?3 END, "
    "sync_enabled = CASE WHEN ?4 < 0 THEN sync_enabled ELSE ?4 END, updated_at = ?5 "
    "WHERE pms_connection_id = ?1 AND pms_type_id = ?2";

int sq_clinician_insert(pms_store *st, pms_clinician *c, pms_error *err)
{
    sqlite_store *s = SQ(st);
    char id[37];
    int rc = sq_new_id(id, err);
    if (rc)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, clinician_insert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    pms_instant now = pms_now();
    sq_bind_text(stmt, 1, id);
    sq_bind_text(stmt, 2, c->account_id ? c->account_id : PMS_DEFAULT_ACCOUNT_ID);
    sq_bind_text(stmt, 3, c->name);
    sq_bind_text(stmt, 4, c->pms_practitioner_id);
    sq_bind_text(stmt, 5, c->pms_connection_id);
    sq_bind_instant(stmt, 6, now);
    if ((rc = sq_exec_stmt(s, stmt, "adding a clinician", err)) != PMS_OK)
        return rc;
    if (pms_str_set(&c->id, id) != PMS_OK)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    c->created_at = now;
    return PMS_OK;
}

static int read_clinician(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_clinician *c = item;
    bool oom = false;
    memset(c, 0, sizeof *c);
    c->id = sq_col_text(stmt, 0, &oom);
    c->account_id = sq_col_text(stmt, 1, &oom);
    c->name = sq_col_text(stmt, 2, &oom);
    c->pms_practitioner_id = sq_col_text(stmt, 3, &oom);
    c->pms_connection_id = sq_col_text(stmt, 4, &oom);
    c->created_at = sq_col_instant(stmt, 5);
    if (oom) {
        pms_clinician_clear(c);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sq_clinician_get(pms_store *st, const char *id, pms_clinician *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, clinician_get_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    int step = sqlite3_step(stmt), rc;
    if (step == SQLITE_ROW)
        rc = read_clinician(stmt, out, err);
    else if (step == SQLITE_DONE)
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "no clinician with id %.64s", id);
    else
        rc = sq_fail(s, err, "reading a clinician");
    sqlite3_reset(stmt);
    return rc;
}

int sq_clinician_list(pms_store *st, const char *account_id, pms_clinician_list *out,
                      pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, clinician_list_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, account_id ? account_id : PMS_DEFAULT_ACCOUNT_ID);
    int rc = sq_collect(s, stmt, sizeof *out->items, (void **)&out->items, &out->count,
                        read_clinician, "listing clinicians", err);
    if (rc != PMS_OK)
        pms_clinician_list_clear(out);
    return rc;
}

static int read_mapping(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_mapping *m = item;
    bool oom = false;
    m->id = sq_col_text(stmt, 0, &oom);
    m->pms_connection_id = sq_col_text(stmt, 1, &oom);
    m->pms_practitioner_id = sq_col_text(stmt, 2, &oom);
    m->pms_practitioner_name = sq_col_text(stmt, 3, &oom);
    m->run_sheet_clinician_id = sq_col_text(stmt, 4, &oom);
    m->clinician_name = sq_col_text(stmt, 5, &oom);
    m->sync_enabled = sq_col_bool(stmt, 6);
    m->auto_created = sq_col_bool(stmt, 7);
    m->pms_active = sq_col_bool(stmt, 8);
    m->pms_bookable = sq_col_bool(stmt, 9);
    m->created_at = sq_col_instant(stmt, 10);
    m->updated_at = sq_col_instant(stmt, 11);
    if (oom) {
        pms_mapping_clear(m);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sq_mapping_list(pms_store *st, const char *connection_id, pms_mapping_list *out, pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, mapping_list_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    int rc = sq_collect(s, stmt, sizeof *out->items, (void **)&out->items, &out->count,
                        read_mapping, "listing practitioner mappings", err);
    if (rc != PMS_OK)
        pms_mapping_list_clear(out);
    return rc;
}

int sq_mapping_upsert(pms_store *st, pms_mapping *m, pms_error *err)
{
    sqlite_store *s = SQ(st);
    char id[37];
    int rc = sq_new_id(id, err);
    if (rc)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, mapping_upsert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, m->id ? m->id : id);
    sq_bind_text(stmt, 2, m->pms_connection_id);
    sq_bind_text(stmt, 3, m->pms_practitioner_id);
    sq_bind_text(stmt, 4, m->pms_practitioner_name);
    sq_bind_text(stmt, 5, m->run_sheet_clinician_id);
    sq_bind_int(stmt, 6, m->sync_enabled);
    sq_bind_int(stmt, 7, m->auto_created);
    sq_bind_int(stmt, 8, m->pms_active);
    sq_bind_int(stmt, 9, m->pms_bookable);
    sq_bind_instant(stmt, 10, pms_now());
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        rc = sq_fail(s, err, "saving a practitioner mapping");
        sqlite3_reset(stmt);
        return rc;
    }
    bool oom = false;
    char *stored = sq_col_text(stmt, 0, &oom);
    sqlite3_reset(stmt);
    if (oom)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(m->id);
    m->id = stored;
    return PMS_OK;
}

static void stored_type_clear(pms_stored_type *t)
{
    free(t->id);
    free(t->pms_connection_id);
    free(t->pms_type_id);
    free(t->pms_type_name);
    free(t->colour);
    memset(t, 0, sizeof *t);
}

static int read_type(sqlite3_stmt *stmt, void *item, pms_error *err)
{
    pms_stored_type *t = item;
    bool oom = false;
    t->id = sq_col_text(stmt, 0, &oom);
    t->pms_connection_id = sq_col_text(stmt, 1, &oom);
    t->pms_type_id = sq_col_text(stmt, 2, &oom);
    t->pms_type_name = sq_col_text(stmt, 3, &oom);
    t->default_duration_minutes = (int)sq_col_int(stmt, 4);
    t->colour = sq_col_text(stmt, 5, &oom);
    t->is_telehealth = sq_col_bool(stmt, 6);
    t->telehealth_auto_detected = sq_col_bool(stmt, 7);
    t->sync_enabled = sq_col_bool(stmt, 8);
    if (oom) {
        stored_type_clear(t);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sq_type_list(pms_store *st, const char *connection_id, pms_stored_type_list *out,
                 pms_error *err)
{
    sqlite_store *s = SQ(st);
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = sq_stmt(s, type_list_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    int rc = sq_collect(s, stmt, sizeof *out->items, (void **)&out->items, &out->count, read_type,
                        "listing appointment types", err);
    if (rc != PMS_OK)
        pms_stored_type_list_clear(out);
    return rc;
}

int sq_type_upsert_from_pms(pms_store *st, const char *connection_id, const pms_appt_type *t,
                            pms_error *err)
{
    sqlite_store *s = SQ(st);
    char id[37];
    int rc = sq_new_id(id, err);
    if (rc)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, type_upsert_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, id);
    sq_bind_text(stmt, 2, connection_id);
    sq_bind_text(stmt, 3, t->id);
    sq_bind_text(stmt, 4, t->name ? t->name : t->id);
    if (t->duration_minutes > 0)
        sq_bind_int(stmt, 5, t->duration_minutes);
    else
        sqlite3_bind_null(stmt, 5);
    sq_bind_text(stmt, 6, t->colour);
    sq_bind_int(stmt, 7, t->telehealth_auto_detected && t->is_telehealth);
    sq_bind_int(stmt, 8, t->telehealth_auto_detected);
    sq_bind_instant(stmt, 9, pms_now());
    return sq_exec_stmt(s, stmt, "saving an appointment type", err);
}

int sq_type_set_flags(pms_store *st, const char *connection_id, const char *pms_type_id,
                      int is_telehealth, int sync_enabled, pms_error *err)
{
    sqlite_store *s = SQ(st);
    sqlite3_stmt *stmt = sq_stmt(s, type_flags_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    sq_bind_text(stmt, 1, connection_id);
    sq_bind_text(stmt, 2, pms_type_id);
    sq_bind_int(stmt, 3, is_telehealth);
    sq_bind_int(stmt, 4, sync_enabled);
    sq_bind_instant(stmt, 5, pms_now());
    int rc = sq_exec_stmt(s, stmt, "updating an appointment type", err);
    if (rc == PMS_OK && sqlite3_changes(s->db) == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no appointment type %.64s on this connection",
                             pms_type_id);
    return rc;
}
