/* Run-sheet clinicians, practitioner mappings and appointment types. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/crypto.h"
#include "store/sql/sql.h"

#define CLINICIAN_COLUMNS "id, account_id, name, pms_practitioner_id, pms_connection_id, created_at"

static const char clinician_insert_sql[] =
    "INSERT INTO run_sheet_clinicians (id, account_id, name, pms_practitioner_id, "
    "pms_connection_id, created_at, updated_at) VALUES ($1::uuid, $2::uuid, $3::text, $4::text, "
    "$5::uuid, $6::timestamptz, $6::timestamptz)";
static const char clinician_get_sql[] =
    "SELECT " CLINICIAN_COLUMNS " FROM run_sheet_clinicians WHERE id = $1::uuid";
static const char clinician_list_sql[] = "SELECT " CLINICIAN_COLUMNS " FROM run_sheet_clinicians "
                                         "WHERE account_id = $1::uuid ORDER BY name, id";

static const char mapping_list_sql[] =
    "SELECT m.id, m.pms_connection_id, m.pms_practitioner_id, m.pms_practitioner_name, "
    "m.run_sheet_clinician_id, c.name, m.sync_enabled, m.auto_created, m.pms_active, "
    "m.pms_bookable, m.created_at, m.updated_at FROM pms_clinician_mappings m "
    "LEFT JOIN run_sheet_clinicians c ON c.id = m.run_sheet_clinician_id "
    "WHERE m.pms_connection_id = $1::uuid "
    "ORDER BY m.pms_practitioner_name, m.pms_practitioner_id";
/* One statement reads and writes the row (ON CONFLICT): no other writer comes between. */
static const char mapping_upsert_sql[] =
    "INSERT INTO pms_clinician_mappings (id, pms_connection_id, pms_practitioner_id, "
    "pms_practitioner_name, run_sheet_clinician_id, sync_enabled, auto_created, pms_active, "
    "pms_bookable, created_at, updated_at) VALUES ($1::uuid, $2::uuid, $3::text, $4::text, "
    "$5::uuid, $6::boolean, $7::boolean, $8::boolean, $9::boolean, $10::timestamptz, "
    "$10::timestamptz) "
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
    "WHERE pms_connection_id = $1::uuid ORDER BY pms_type_name, pms_type_id";
#define TYPE_UPSERT(DISTINCT)                                                                      \
    "INSERT INTO pms_appointment_types (id, pms_connection_id, pms_type_id, pms_type_name, "       \
    "default_duration_minutes, colour, is_telehealth, telehealth_auto_detected, sync_enabled, "    \
    "created_at, updated_at) VALUES ($1::uuid, $2::uuid, $3::text, $4::text, $5::integer, "        \
    "$6::text, $7::boolean, $8::boolean, TRUE, $9::timestamptz, $9::timestamptz) "                 \
    "ON CONFLICT (pms_connection_id, pms_type_id) DO UPDATE SET "                                  \
    "pms_type_name = excluded.pms_type_name, "                                                     \
    "default_duration_minutes = excluded.default_duration_minutes, colour = excluded.colour, "     \
    "telehealth_auto_detected = excluded.telehealth_auto_detected, "                               \
    "is_telehealth = CASE WHEN excluded.telehealth_auto_detected THEN excluded.is_telehealth "     \
    "ELSE pms_appointment_types.is_telehealth END, "                                               \
    "updated_at = excluded.updated_at "                                                            \
    "WHERE pms_appointment_types.pms_type_name " DISTINCT " excluded.pms_type_name "               \
    "OR pms_appointment_types.default_duration_minutes " DISTINCT                                  \
    " excluded.default_duration_minutes "                                                          \
    "OR pms_appointment_types.colour " DISTINCT " excluded.colour "                                \
    "OR pms_appointment_types.telehealth_auto_detected " DISTINCT                                  \
    " excluded.telehealth_auto_detected "                                                          \
    "OR (excluded.telehealth_auto_detected "                                                       \
    "    AND pms_appointment_types.is_telehealth " DISTINCT " excluded.is_telehealth)"
static const char type_upsert_sqlite[] = TYPE_UPSERT("IS NOT");
static const char type_upsert_pg[] = TYPE_UPSERT("IS DISTINCT FROM");
static const char type_flags_sql[] =
    "UPDATE pms_appointment_types SET "
    "is_telehealth = CASE WHEN $3::boolean THEN $4::boolean ELSE is_telehealth END, "
    "sync_enabled = CASE WHEN $5::boolean THEN $6::boolean ELSE sync_enabled END, "
    "updated_at = $7::timestamptz WHERE pms_connection_id = $1::uuid AND pms_type_id = $2::text";

int sql_clinician_insert(pms_store *st, pms_clinician *c, pms_error *err)
{
    char id[PMS_UUID_LEN];
    int rc = pms_uuid_v4(id, err);
    if (rc)
        return rc;
    pms_instant now = pms_now();
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_text(&a, 2, c->account_id ? c->account_id : PMS_DEFAULT_ACCOUNT_ID);
    sql_arg_text(&a, 3, c->name);
    sql_arg_text(&a, 4, c->pms_practitioner_id);
    sql_arg_text(&a, 5, c->pms_connection_id);
    sql_arg_instant(&a, 6, now);
    if ((rc = sql_exec(SQL_DB(st), clinician_insert_sql, &a, NULL, "adding a clinician", err)) !=
        PMS_OK)
        return rc;
    if (pms_str_set(&c->id, id) != PMS_OK)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    c->created_at = now;
    return PMS_OK;
}

static int read_clinician(const sql_row *row, void *item, pms_error *err)
{
    pms_clinician *c = item;
    bool oom = false;
    c->id = sql_strdup(row, 0, &oom);
    c->account_id = sql_strdup(row, 1, &oom);
    c->name = sql_strdup(row, 2, &oom);
    c->pms_practitioner_id = sql_strdup(row, 3, &oom);
    c->pms_connection_id = sql_strdup(row, 4, &oom);
    c->created_at = sql_instant(row, 5);
    if (oom) {
        pms_clinician_clear(c);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_clinician_get(pms_store *st, const char *id, pms_clinician *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    char not_found[96];
    snprintf(not_found, sizeof not_found, "no clinician with id %.64s", id);
    return sql_one(SQL_DB(st), clinician_get_sql, &a, read_clinician, out, not_found,
                   "reading a clinician", err);
}

int sql_clinician_list(pms_store *st, const char *account_id, pms_clinician_list *out,
                       pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, account_id ? account_id : PMS_DEFAULT_ACCOUNT_ID);
    int rc =
        sql_collect(SQL_DB(st), clinician_list_sql, &a, sizeof *out->items, (void **)&out->items,
                    &out->count, read_clinician, "listing clinicians", err);
    if (rc != PMS_OK)
        pms_clinician_list_clear(out);
    return rc;
}

static int read_mapping(const sql_row *row, void *item, pms_error *err)
{
    pms_mapping *m = item;
    bool oom = false;
    m->id = sql_strdup(row, 0, &oom);
    m->pms_connection_id = sql_strdup(row, 1, &oom);
    m->pms_practitioner_id = sql_strdup(row, 2, &oom);
    m->pms_practitioner_name = sql_strdup(row, 3, &oom);
    m->run_sheet_clinician_id = sql_strdup(row, 4, &oom);
    m->clinician_name = sql_strdup(row, 5, &oom);
    m->sync_enabled = sql_bool(row, 6);
    m->auto_created = sql_bool(row, 7);
    m->pms_active = sql_bool(row, 8);
    m->pms_bookable = sql_bool(row, 9);
    m->created_at = sql_instant(row, 10);
    m->updated_at = sql_instant(row, 11);
    if (oom) {
        pms_mapping_clear(m);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_mapping_list(pms_store *st, const char *connection_id, pms_mapping_list *out,
                     pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    int rc = sql_collect(SQL_DB(st), mapping_list_sql, &a, sizeof *out->items, (void **)&out->items,
                         &out->count, read_mapping, "listing practitioner mappings", err);
    if (rc != PMS_OK)
        pms_mapping_list_clear(out);
    return rc;
}

int sql_mapping_upsert(pms_store *st, pms_mapping *m, pms_error *err)
{
    char id[PMS_UUID_LEN];
    int rc = pms_uuid_v4(id, err);
    if (rc)
        return rc;
    sql_args a = {0};
    sql_arg_text(&a, 1, m->id ? m->id : id);
    sql_arg_text(&a, 2, m->pms_connection_id);
    sql_arg_text(&a, 3, m->pms_practitioner_id);
    sql_arg_text(&a, 4, m->pms_practitioner_name);
    sql_arg_text(&a, 5, m->run_sheet_clinician_id);
    sql_arg_bool(&a, 6, m->sync_enabled);
    sql_arg_bool(&a, 7, m->auto_created);
    sql_arg_bool(&a, 8, m->pms_active);
    sql_arg_bool(&a, 9, m->pms_bookable);
    sql_arg_instant(&a, 10, pms_now());
    char *stored = NULL;
    rc = sql_one(SQL_DB(st), mapping_upsert_sql, &a, sql_read_string, &stored,
                 "the practitioner mapping was not saved", "saving a practitioner mapping", err);
    if (rc != PMS_OK)
        return rc;
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

static int read_type(const sql_row *row, void *item, pms_error *err)
{
    pms_stored_type *t = item;
    bool oom = false;
    t->id = sql_strdup(row, 0, &oom);
    t->pms_connection_id = sql_strdup(row, 1, &oom);
    t->pms_type_id = sql_strdup(row, 2, &oom);
    t->pms_type_name = sql_strdup(row, 3, &oom);
    t->default_duration_minutes = (int)sql_int(row, 4);
    t->colour = sql_strdup(row, 5, &oom);
    t->is_telehealth = sql_bool(row, 6);
    t->telehealth_auto_detected = sql_bool(row, 7);
    t->sync_enabled = sql_bool(row, 8);
    if (oom) {
        stored_type_clear(t);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int sql_type_list(pms_store *st, const char *connection_id, pms_stored_type_list *out,
                  pms_error *err)
{
    memset(out, 0, sizeof *out);
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    int rc = sql_collect(SQL_DB(st), type_list_sql, &a, sizeof *out->items, (void **)&out->items,
                         &out->count, read_type, "listing appointment types", err);
    if (rc != PMS_OK)
        pms_stored_type_list_clear(out);
    return rc;
}

int sql_type_upsert_from_pms(pms_store *st, const char *connection_id, const pms_appt_type *t,
                             pms_error *err)
{
    sql_db *db = SQL_DB(st);
    char id[PMS_UUID_LEN];
    int rc = pms_uuid_v4(id, err);
    if (rc)
        return rc;
    sql_args a = {0};
    sql_arg_text(&a, 1, id);
    sql_arg_text(&a, 2, connection_id);
    sql_arg_text(&a, 3, t->id);
    sql_arg_text(&a, 4, t->name ? t->name : t->id);
    if (t->duration_minutes > 0)
        sql_arg_int(&a, 5, t->duration_minutes);
    else
        sql_arg_null(&a, 5);
    sql_arg_text(&a, 6, t->colour);
    sql_arg_bool(&a, 7, t->telehealth_auto_detected && t->is_telehealth);
    sql_arg_bool(&a, 8, t->telehealth_auto_detected);
    sql_arg_instant(&a, 9, pms_now());
    return sql_exec(db, SQL_PICK(db, type_upsert_sqlite, type_upsert_pg), &a, NULL,
                    "saving an appointment type", err);
}

int sql_type_set_flags(pms_store *st, const char *connection_id, const char *pms_type_id,
                       int is_telehealth, int sync_enabled, pms_error *err)
{
    sql_args a = {0};
    sql_arg_text(&a, 1, connection_id);
    sql_arg_text(&a, 2, pms_type_id);
    sql_arg_bool(&a, 3, is_telehealth >= 0);
    sql_arg_bool(&a, 4, is_telehealth > 0);
    sql_arg_bool(&a, 5, sync_enabled >= 0);
    sql_arg_bool(&a, 6, sync_enabled > 0);
    sql_arg_instant(&a, 7, pms_now());
    long changed = 0;
    int rc =
        sql_exec(SQL_DB(st), type_flags_sql, &a, &changed, "updating an appointment type", err);
    if (rc == PMS_OK && changed == 0)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no appointment type %.64s on this connection",
                             pms_type_id);
    return rc;
}
