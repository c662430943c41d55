/* Versioned schema migrations, applied in order, each in its own transaction and recorded in
 * schema_migrations. A migration is never edited once released: add a new one. */
#include <stdio.h>

#include "store/sqlite/sqlite_internal.h"

typedef struct migration {
    int version;
    const char *name;
    const char *sql;
} migration;

static const migration migrations[] = {
    {1, "initial schema",
     "CREATE TABLE accounts ("
     "  id TEXT PRIMARY KEY,"
     "  name TEXT NOT NULL,"
     "  timezone TEXT,"
     "  created_at INTEGER NOT NULL);"
     "INSERT INTO accounts (id, name, timezone, created_at) VALUES"
     "  ('" PMS_DEFAULT_ACCOUNT_ID "', 'Default account', NULL,"
     "   CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));"

     "CREATE TABLE pms_connections ("
     "  id TEXT PRIMARY KEY,"
     "  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
     "  pms_type TEXT NOT NULL,"
     "  display_name TEXT NOT NULL,"
     "  practice_name TEXT,"
     "  tenant_id TEXT,"
     "  practice_id TEXT,"
     "  organization_id TEXT,"
     "  base_url TEXT,"
     "  timezone TEXT NOT NULL DEFAULT 'Australia/Sydney',"
     "  settings TEXT NOT NULL DEFAULT '{}',"
     "  secrets TEXT,"
     "  access_token TEXT,"
     "  refresh_token TEXT,"
     "  token_expires_at INTEGER,"
     "  sync_enabled INTEGER NOT NULL DEFAULT 1,"
     "  sync_frequency_minutes INTEGER NOT NULL DEFAULT 15 CHECK (sync_frequency_minutes > 0),"
     "  last_sync_at INTEGER,"
     "  last_sync_status TEXT CHECK (last_sync_status IN ('success', 'partial', 'failed')),"
     "  last_sync_error TEXT,"
     "  sync_telehealth_only INTEGER NOT NULL DEFAULT 1,"
     "  unmapped_practitioners TEXT NOT NULL DEFAULT 'create'"
     "    CHECK (unmapped_practitioners IN ('create', 'skip')),"
     "  paired_at INTEGER,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE INDEX idx_pms_connections_type ON pms_connections(pms_type);"
     "CREATE INDEX idx_pms_connections_sync ON pms_connections(sync_enabled, last_sync_at);"
     "CREATE INDEX idx_pms_connections_account ON pms_connections(account_id);"

     "CREATE TABLE run_sheet_clinicians ("
     "  id TEXT PRIMARY KEY,"
     "  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
     "  name TEXT NOT NULL,"
     "  pms_practitioner_id TEXT,"
     "  pms_connection_id TEXT REFERENCES pms_connections(id) ON DELETE SET NULL,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE INDEX idx_run_sheet_clinicians_account ON run_sheet_clinicians(account_id);"

     "CREATE TABLE pms_clinician_mappings ("
     "  id TEXT PRIMARY KEY,"
     "  pms_connection_id TEXT NOT NULL REFERENCES pms_connections(id) ON DELETE CASCADE,"
     "  pms_practitioner_id TEXT NOT NULL,"
     "  pms_practitioner_name TEXT,"
     "  run_sheet_clinician_id TEXT REFERENCES run_sheet_clinicians(id) ON DELETE SET NULL,"
     "  sync_enabled INTEGER NOT NULL DEFAULT 1,"
     "  auto_created INTEGER NOT NULL DEFAULT 0,"
     "  pms_active INTEGER NOT NULL DEFAULT 1,"
     "  pms_bookable INTEGER NOT NULL DEFAULT 1,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  UNIQUE (pms_connection_id, pms_practitioner_id));"
     "CREATE INDEX idx_pms_clinician_mappings_connection"
     "  ON pms_clinician_mappings(pms_connection_id);"
     "CREATE INDEX idx_pms_clinician_mappings_clinician"
     "  ON pms_clinician_mappings(run_sheet_clinician_id);"

     "CREATE TABLE pms_appointment_types ("
     "  id TEXT PRIMARY KEY,"
     "  pms_connection_id TEXT NOT NULL REFERENCES pms_connections(id) ON DELETE CASCADE,"
     "  pms_type_id TEXT NOT NULL,"
     "  pms_type_name TEXT NOT NULL,"
     "  default_duration_minutes INTEGER,"
     "  colour TEXT,"
     "  is_telehealth INTEGER NOT NULL DEFAULT 0,"
     "  telehealth_auto_detected INTEGER NOT NULL DEFAULT 0,"
     "  sync_enabled INTEGER NOT NULL DEFAULT 1,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  UNIQUE (pms_connection_id, pms_type_id));"
     "CREATE INDEX idx_pms_appointment_types_connection"
     "  ON pms_appointment_types(pms_connection_id);"
     "CREATE INDEX idx_pms_appointment_types_telehealth"
     "  ON pms_appointment_types(pms_connection_id, is_telehealth) WHERE is_telehealth = 1;"

     "CREATE TABLE pms_sync_log ("
     "  id TEXT PRIMARY KEY,"
     "  pms_connection_id TEXT NOT NULL REFERENCES pms_connections(id) ON DELETE CASCADE,"
     "  sync_type TEXT NOT NULL CHECK (sync_type IN ('full', 'incremental', 'manual')),"
     "  window_from TEXT,"
     "  window_to TEXT,"
     "  started_at INTEGER NOT NULL,"
     "  completed_at INTEGER,"
     "  status TEXT NOT NULL CHECK (status IN ('running', 'success', 'partial', 'failed')),"
     "  appointments_fetched INTEGER NOT NULL DEFAULT 0,"
     "  appointments_created INTEGER NOT NULL DEFAULT 0,"
     "  appointments_updated INTEGER NOT NULL DEFAULT 0,"
     "  appointments_unchanged INTEGER NOT NULL DEFAULT 0,"
     "  appointments_skipped INTEGER NOT NULL DEFAULT 0,"
     "  appointments_invalid INTEGER NOT NULL DEFAULT 0,"
     "  appointments_removed INTEGER NOT NULL DEFAULT 0,"
     "  requests_made INTEGER NOT NULL DEFAULT 0,"
     "  error_message TEXT,"
     "  error_details TEXT,"
     "  worker TEXT,"
     "  created_at INTEGER NOT NULL);"
     "CREATE INDEX idx_pms_sync_log_connection ON pms_sync_log(pms_connection_id, started_at DESC);"

     "CREATE TABLE run_sheets ("
     "  id TEXT PRIMARY KEY,"
     "  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
     "  sheet_date TEXT NOT NULL,"
     "  timezone TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  UNIQUE (account_id, sheet_date));"

     "CREATE TABLE run_sheet_appointments ("
     "  id TEXT PRIMARY KEY,"
     "  run_sheet_id TEXT NOT NULL REFERENCES run_sheets(id) ON DELETE CASCADE,"
     "  clinician_id TEXT REFERENCES run_sheet_clinicians(id) ON DELETE SET NULL,"
     "  source TEXT NOT NULL CHECK (source IN ('pms', 'ocr', 'manual')),"
     "  pms_connection_id TEXT REFERENCES pms_connections(id) ON DELETE CASCADE,"
     "  pms_appointment_id TEXT,"
     "  pms_last_synced_at INTEGER,"
     "  is_telehealth INTEGER NOT NULL DEFAULT 0,"
     "  appointment_status TEXT NOT NULL DEFAULT 'booked',"
     "  appointment_duration_minutes INTEGER,"
     "  patient_dob TEXT,"
     "  patient_email TEXT,"
     "  pms_type TEXT,"
     "  start_time INTEGER NOT NULL,"
     "  end_time INTEGER NOT NULL,"
     "  timezone TEXT NOT NULL,"
     "  appointment_type_id TEXT,"
     "  appointment_type_name TEXT,"
     "  pms_patient_id TEXT,"
     "  patient_name TEXT,"
     "  patient_first_name TEXT,"
     "  patient_last_name TEXT,"
     "  patient_phone TEXT,"
     "  patient_key TEXT,"
     "  pms_practitioner_id TEXT,"
     "  practitioner_name TEXT,"
     "  practitioner_first_name TEXT,"
     "  practitioner_last_name TEXT,"
     "  notes TEXT,"
     "  referral_id TEXT,"
     "  telehealth_url_provider TEXT,"
     "  telehealth_url_patient TEXT,"
     "  location_name TEXT,"
     "  pms_created_at INTEGER,"
     "  pms_updated_at INTEGER,"
     "  fetched_at INTEGER,"
     "  raw_data TEXT,"
     "  content_hash TEXT,"
     "  edited_phone TEXT,"
     "  edited_start_time INTEGER,"
     "  edited_end_time INTEGER,"
     "  manual_notes TEXT,"
     "  edited_at INTEGER,"
     "  removed_at INTEGER,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL);"
     "CREATE UNIQUE INDEX idx_appointments_pms_unique"
     "  ON run_sheet_appointments(pms_connection_id, pms_appointment_id)"
     "  WHERE pms_appointment_id IS NOT NULL;"
     "CREATE INDEX idx_run_sheet_appointments_sheet"
     "  ON run_sheet_appointments(run_sheet_id, start_time);"
     "CREATE INDEX idx_run_sheet_appointments_connection_time"
     "  ON run_sheet_appointments(pms_connection_id, start_time);"},
    {2, "index OCR entries awaiting a PMS match",
     "CREATE INDEX idx_run_sheet_appointments_ocr_pending"
     "  ON run_sheet_appointments(run_sheet_id, patient_key)"
     "  WHERE source = 'ocr' AND pms_appointment_id IS NULL;"},
    {3, "API keys and the audit log",
     "CREATE TABLE api_keys ("
     "  id TEXT PRIMARY KEY,"
     "  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
     "  name TEXT NOT NULL,"
     "  role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'agent')),"
     "  prefix TEXT NOT NULL,"
     "  key_hash TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  last_used_at INTEGER,"
     "  revoked_at INTEGER);"
     "CREATE UNIQUE INDEX idx_api_keys_prefix ON api_keys(prefix);"
     "CREATE INDEX idx_api_keys_account ON api_keys(account_id, created_at);"

     /* No foreign keys: the audit trail outlives the accounts and keys it names. */
     "CREATE TABLE audit_log ("
     "  seq INTEGER PRIMARY KEY CHECK (seq > 0),"
     "  at INTEGER NOT NULL,"
     "  account_id TEXT,"
     "  actor_key_id TEXT,"
     "  actor_role TEXT NOT NULL,"
     "  action TEXT NOT NULL,"
     "  resource TEXT NOT NULL,"
     "  patient_ids TEXT NOT NULL DEFAULT '[]',"
     "  client_addr TEXT,"
     "  outcome INTEGER NOT NULL DEFAULT 0,"
     "  key_id TEXT NOT NULL,"
     "  prev_hash TEXT NOT NULL,"
     "  hash TEXT NOT NULL);"
     "CREATE INDEX idx_audit_log_at ON audit_log(at);"
     "CREATE INDEX idx_audit_log_account_at ON audit_log(account_id, at);"
     "CREATE INDEX idx_audit_log_key ON audit_log(key_id);"
     /* Hygiene, not protection (anyone who can write the file can drop a trigger): the
      * application never changes or removes a record. */
     "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
     "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
     "  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"

     "CREATE TABLE audit_head ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  seq INTEGER NOT NULL,"
     "  hash TEXT NOT NULL,"
     "  key_id TEXT,"
     "  mac TEXT,"
     "  updated_at INTEGER);"
     "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0,"
     "  '0000000000000000000000000000000000000000000000000000000000000000');"
     "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head"
     "  BEGIN SELECT RAISE(ABORT, 'audit_head cannot be removed'); END;"},
    {4, "which secret settings of a connection are set",
     "ALTER TABLE pms_connections ADD COLUMN secret_keys TEXT;"},
    {5, "version counters of run sheets and of an account's clinicians",
     /* Every change to a run sheet's appointments, from any process, moves its version on, so
      * a reader can tell whether what it rendered before is still current. */
     "ALTER TABLE run_sheets ADD COLUMN version INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE accounts ADD COLUMN clinicians_version INTEGER NOT NULL DEFAULT 0;"
     "CREATE TRIGGER run_sheet_appointments_version_insert AFTER INSERT ON run_sheet_appointments"
     "  BEGIN UPDATE run_sheets SET version = version + 1 WHERE id = NEW.run_sheet_id; END;"
     "CREATE TRIGGER run_sheet_appointments_version_update AFTER UPDATE ON run_sheet_appointments"
     "  BEGIN UPDATE run_sheets SET version = version + 1"
     "    WHERE id = NEW.run_sheet_id OR id = OLD.run_sheet_id; END;"
     "CREATE TRIGGER run_sheet_appointments_version_delete AFTER DELETE ON run_sheet_appointments"
     "  BEGIN UPDATE run_sheets SET version = version + 1 WHERE id = OLD.run_sheet_id; END;"
     "CREATE TRIGGER run_sheet_clinicians_version_insert AFTER INSERT ON run_sheet_clinicians"
     "  BEGIN UPDATE accounts SET clinicians_version = clinicians_version + 1"
     "    WHERE id = NEW.account_id; END;"
     "CREATE TRIGGER run_sheet_clinicians_version_update AFTER UPDATE ON run_sheet_clinicians"
     "  BEGIN UPDATE accounts SET clinicians_version = clinicians_version + 1"
     "    WHERE id = NEW.account_id OR id = OLD.account_id; END;"
     "CREATE TRIGGER run_sheet_clinicians_version_delete AFTER DELETE ON run_sheet_clinicians"
     "  BEGIN UPDATE accounts SET clinicians_version = clinicians_version + 1"
     "    WHERE id = OLD.account_id; END;"},
    {6, "users and browser sessions",
     "CREATE TABLE users ("
     "  id TEXT PRIMARY KEY,"
     "  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
     "  username TEXT NOT NULL UNIQUE CHECK (username = lower(username)),"
     "  password_hash TEXT NOT NULL,"
     "  role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'agent')),"
     "  created_at INTEGER NOT NULL,"
     "  disabled_at INTEGER);"
     "CREATE INDEX idx_users_account ON users(account_id, created_at);"
     /* id is the hex SHA-256 of the cookie's token: the token itself is never stored. */
     "CREATE TABLE web_sessions ("
     "  id TEXT PRIMARY KEY,"
     "  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
     "  role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'agent')),"
     "  api_key_id TEXT REFERENCES api_keys(id) ON DELETE CASCADE,"
     "  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,"
     "  csrf_token TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL,"
     "  last_seen_at INTEGER NOT NULL,"
     "  revoked_at INTEGER,"
     "  CHECK ((api_key_id IS NULL) <> (user_id IS NULL)));"
     "CREATE INDEX idx_web_sessions_expires ON web_sessions(expires_at);"
     "CREATE INDEX idx_web_sessions_user ON web_sessions(user_id);"
     "CREATE INDEX idx_web_sessions_api_key ON web_sessions(api_key_id);"},
    {7, "the set-up step of a connection",
     "ALTER TABLE pms_connections ADD COLUMN setup_step TEXT"
     "  CHECK (setup_step IN ('connect', 'practitioners', 'types', 'confirm'));"},
    {8, "shared scheduling: due times, sync requests and leases",
     "ALTER TABLE pms_connections ADD COLUMN next_sync_at INTEGER;"
     "ALTER TABLE pms_connections ADD COLUMN sync_failures INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE pms_connections ADD COLUMN lease_owner TEXT;"
     "ALTER TABLE pms_connections ADD COLUMN lease_until INTEGER;"
     "ALTER TABLE pms_connections ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE pms_connections ADD COLUMN requested_at INTEGER;"
     "ALTER TABLE pms_connections ADD COLUMN request_window TEXT;"
     "UPDATE pms_connections SET next_sync_at = last_sync_at + sync_frequency_minutes * 60000"
     "  WHERE last_sync_at IS NOT NULL;"
     "CREATE INDEX idx_pms_connections_due ON pms_connections(next_sync_at)"
     "  WHERE sync_enabled = 1;"
     "CREATE INDEX idx_pms_connections_requested ON pms_connections(requested_at)"
     "  WHERE requested_at IS NOT NULL;"},
};

#define MIGRATION_COUNT (int)(sizeof migrations / sizeof migrations[0])

static const char create_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       "  version INTEGER PRIMARY KEY,"
                                       "  name TEXT NOT NULL,"
                                       "  applied_at INTEGER NOT NULL)";
static const char version_sql[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char record_sql[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)";

int sq_schema_version(pms_store *st, int *version, pms_error *err)
{
    sqlite_store *s = SQ(st);
    int rc = sq_exec(s, create_table_sql, "creating schema_migrations", err);
    if (rc)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, version_sql, err);
    if (stmt == NULL)
        return err ? (int)err->code : PMS_ERR_STORE;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return sq_fail(s, err, "reading the schema version");
    *version = sqlite3_column_int(stmt, 0);
    sqlite3_reset(stmt);
    return PMS_OK;
}

int sq_migrate(pms_store *st, pms_error *err)
{
    sqlite_store *s = SQ(st);
    int rc;
    for (;;) {
        /* Each step re-reads the version inside the write lock, so two processes migrating at
         * once apply each migration exactly once. */
        if ((rc = st->ops->begin(st, err)) != PMS_OK)
            return rc;
        int current = 0;
        if ((rc = sq_schema_version(st, &current, err)) != PMS_OK)
            goto fail;
        if (current > MIGRATION_COUNT) {
            rc = pms_error_set(err, PMS_ERR_STORE,
                               "the database schema (version %d) is newer than this program "
                               "(version %d): upgrade pmsync",
                               current, MIGRATION_COUNT);
            goto fail;
        }
        if (current == MIGRATION_COUNT) {
            st->ops->rollback(st);
            return PMS_OK;
        }
        const migration *m = &migrations[current];
        char doing[96];
        snprintf(doing, sizeof doing, "applying migration %d (%s)", m->version, m->name);
        if ((rc = sq_exec(s, m->sql, doing, err)) != PMS_OK)
            goto fail;
        sqlite3_stmt *stmt = sq_stmt(s, record_sql, err);
        if (stmt == NULL) {
            rc = err ? (int)err->code : PMS_ERR_STORE;
            goto fail;
        }
        sq_bind_int(stmt, 1, m->version);
        sq_bind_text(stmt, 2, m->name);
        sq_bind_instant(stmt, 3, pms_now());
        if ((rc = sq_exec_stmt(s, stmt, doing, err)) != PMS_OK)
            goto fail;
        if ((rc = st->ops->commit(st, err)) != PMS_OK)
            goto fail;
    }
fail:
    st->ops->rollback(st);
    return rc;
}
