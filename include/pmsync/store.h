/* The store: accounts and their API keys, connections, clinician mappings, appointment types,
 * run sheets and their appointments, the sync log and the audit log, behind one ops struct per
 * backend (SQLite, the embedded default, and PostgreSQL, for several pmsd processes sharing one
 * database; the same tests run against both).
 *
 * A pms_store handle is used by one thread at a time (pmsd opens one per worker thread).
 * Write transactions: begin/commit/rollback; every write outside one is its own transaction.
 * Instants are UTC milliseconds; dates are the practice's local calendar dates.
 *
 * Ownership: records returned through out-parameters are owned by the caller and released with
 * their *_clear / *_list_clear functions.
 */
#ifndef PMSYNC_STORE_H
#define PMSYNC_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pmsync/crypto.h"
#include "pmsync/error.h"
#include "pmsync/model.h"
#include "pmsync/time.h"

#define PMS_DEFAULT_ACCOUNT_ID "00000000-0000-4000-8000-000000000001"
#define PMS_STORE_ID_LEN       64 /* room for any id the store hands out (UUIDs), with NUL */
#define PMS_STORE_VERSION_LEN  160

typedef struct pms_store pms_store;

/* ---- records ------------------------------------------------------------------------- */

typedef struct pms_connection {
    char *id;
    char *account_id;
    char *pms_type;
    char *display_name;
    char *practice_name;   /* as the PMS names the practice, once connected */
    char *tenant_id;       /* Gentu */
    char *practice_id;     /* Medirecords, Sikka */
    char *organization_id; /* Halaxy */
    char *base_url;        /* NULL: the adapter's default */
    char *timezone;        /* IANA */
    json_t *settings;      /* non-secret settings: object of strings */
    char *secrets_sealed;  /* envelope of a JSON object of the secret settings, or NULL */
    json_t *secret_keys;   /* names of the secret settings that are set (array; NULL: unknown,
                              for rows written before the store kept it) */
    char *access_token_sealed;
    char *refresh_token_sealed;
    pms_instant token_expires_at;
    bool sync_enabled;
    int sync_frequency_minutes;
    bool sync_telehealth_only;
    bool skip_unmapped; /* unmapped practitioners: false = create a clinician, true = skip */
    pms_instant last_sync_at;
    char *last_sync_status; /* success | partial | failed, or NULL */
    char *last_sync_error;
    pms_instant paired_at;
    pms_instant created_at;
    pms_instant updated_at;
    char *setup_step; /* the web UI's set-up wizard: connect | practitioners | types | confirm;
                         NULL when set-up is complete (and for connections made by pmsctl) */
} pms_connection;

typedef struct pms_connection_list {
    pms_connection *items;
    size_t count;
} pms_connection_list;

void pms_connection_clear(pms_connection *c);
void pms_connection_list_clear(pms_connection_list *l);

typedef struct pms_clinician {
    char *id;
    char *account_id;
    char *name;
    char *pms_practitioner_id; /* when created from a PMS practitioner */
    char *pms_connection_id;
    pms_instant created_at;
} pms_clinician;

typedef struct pms_clinician_list {
    pms_clinician *items;
    size_t count;
} pms_clinician_list;

void pms_clinician_clear(pms_clinician *c);
void pms_clinician_list_clear(pms_clinician_list *l);

typedef struct pms_mapping {
    char *id;
    char *pms_connection_id;
    char *pms_practitioner_id;
    char *pms_practitioner_name;
    char *run_sheet_clinician_id; /* NULL: not mapped */
    char *clinician_name;         /* read only: the mapped clinician's name */
    bool sync_enabled;
    bool auto_created;
    bool pms_active;   /* as last seen in the PMS */
    bool pms_bookable; /* shown in the appointment book */
    pms_instant created_at;
    pms_instant updated_at;
} pms_mapping;

typedef struct pms_mapping_list {
    pms_mapping *items;
    size_t count;
} pms_mapping_list;

void pms_mapping_clear(pms_mapping *m);
void pms_mapping_list_clear(pms_mapping_list *l);

typedef struct pms_stored_type {
    char *id;
    char *pms_connection_id;
    char *pms_type_id;
    char *pms_type_name;
    int default_duration_minutes;
    char *colour;
    bool is_telehealth;
    bool telehealth_auto_detected;
    bool sync_enabled;
} pms_stored_type;

typedef struct pms_stored_type_list {
    pms_stored_type *items;
    size_t count;
} pms_stored_type_list;

void pms_stored_type_list_clear(pms_stored_type_list *l);

typedef enum pms_source {
    PMS_SOURCE_PMS = 0,
    PMS_SOURCE_OCR,
    PMS_SOURCE_MANUAL,
} pms_source;
const char *pms_source_name(pms_source s);
int pms_source_parse(const char *name, pms_source *out);

/* One appointment on a run sheet. `appt` holds the values from its source (the PMS, OCR or the
 * person who entered it); manual edits are kept apart and win where the conflict rules say. */
typedef struct pms_sheet_entry {
    char *id;
    char *run_sheet_id;
    char *account_id;
    pms_date sheet_date;
    char *clinician_id;
    char *clinician_name; /* read only */
    pms_source source;
    pms_instant pms_last_synced_at;
    pms_appointment appt;
    char content_hash[65];
    /* manual edits; NULL / PMS_INSTANT_NONE when not edited */
    char *edited_phone;
    pms_instant edited_start;
    pms_instant edited_end;
    char *manual_notes;
    pms_instant edited_at;
    pms_instant removed_at; /* gone from the PMS after a complete sweep */
    pms_instant created_at;
    pms_instant updated_at;
} pms_sheet_entry;

typedef struct pms_sheet_entry_list {
    pms_sheet_entry *items;
    size_t count;
} pms_sheet_entry_list;

void pms_sheet_entry_init(pms_sheet_entry *e);
void pms_sheet_entry_clear(pms_sheet_entry *e);
void pms_sheet_entry_list_clear(pms_sheet_entry_list *l);

/* What the sync engine needs to know of a stored PMS appointment to decide whether to write. */
typedef struct pms_entry_state {
    char id[PMS_STORE_ID_LEN];
    char run_sheet_id[PMS_STORE_ID_LEN];
    char clinician_id[PMS_STORE_ID_LEN]; /* "" when none */
    char content_hash[65];
    bool removed;
} pms_entry_state;

/* Filter for listing run-sheet appointments. */
typedef struct pms_sheet_query {
    const char *account_id;    /* required */
    const char *connection_id; /* NULL: every source */
    pms_date date;
    bool include_removed;
    const char *pms_appointment_id; /* NULL: any */
} pms_sheet_query;

typedef struct pms_sync_counts {
    long fetched;
    long created;
    long updated;
    long unchanged;
    long skipped; /* filtered out or malformed (invalid is the malformed part) */
    long invalid;
    long removed;
    long requests;
} pms_sync_counts;

typedef struct pms_sync_log_entry {
    char *id;
    char *pms_connection_id;
    char *sync_type; /* full | incremental | manual */
    pms_date window_from, window_to;
    pms_instant started_at;
    pms_instant completed_at;
    char *status; /* running | success | partial | failed */
    pms_sync_counts counts;
    char *error_message;
    json_t *error_details;
    char *worker;
} pms_sync_log_entry;

typedef struct pms_sync_log_list {
    pms_sync_log_entry *items;
    size_t count;
} pms_sync_log_list;

void pms_sync_log_entry_clear(pms_sync_log_entry *e);
void pms_sync_log_list_clear(pms_sync_log_list *l);

/* ---- accounts, API keys and the audit log ---------------------------------------------- */

/* What an API key may do (accounts.h): admin manages connections and keys, staff works the run
 * sheet, agent is the voice agent's tools. */
typedef enum pms_role {
    PMS_ROLE_ADMIN = 0,
    PMS_ROLE_STAFF,
    PMS_ROLE_AGENT,
} pms_role;
/* "admin", "staff", "agent". */
const char *pms_role_name(pms_role r);
/* PMS_ERR_PARSE for anything else (exact, lower case). */
int pms_role_parse(const char *name, pms_role *out);

typedef struct pms_account {
    char *id;
    char *name;
    char *timezone; /* IANA, or NULL until set (a practice's zone when paired) */
    pms_instant created_at;
} pms_account;

typedef struct pms_account_array {
    pms_account *items;
    size_t count;
} pms_account_array;

void pms_account_clear(pms_account *a);
void pms_account_array_clear(pms_account_array *l);

#define PMS_API_KEY_PREFIX_LEN 12

/* An API key as stored: never the key itself, only its lookup prefix and the SHA-256 of the
 * whole key text. */
typedef struct pms_api_key {
    char *id;
    char *account_id;
    char *name;
    pms_role role;
    char prefix[PMS_API_KEY_PREFIX_LEN + 1];
    char key_hash[65]; /* lower-case hex */
    pms_instant created_at;
    pms_instant last_used_at; /* PMS_INSTANT_NONE: never used */
    pms_instant revoked_at;   /* PMS_INSTANT_NONE: active */
} pms_api_key;

typedef struct pms_api_key_array {
    pms_api_key *items;
    size_t count;
} pms_api_key_array;

void pms_api_key_clear(pms_api_key *k);
void pms_api_key_array_clear(pms_api_key_array *l);

/* One audit record as stored (audit.h). Strings are borrowed: when the store hands a record to a
 * callback they live until the callback returns. */
typedef struct pms_audit_record {
    long long seq; /* 1, 2, 3, ... with no gaps */
    pms_instant at;
    const char *account_id;   /* NULL: not tied to an account */
    const char *actor_key_id; /* NULL: no API key (the system, pmsctl) */
    const char *actor_role;   /* admin | staff | agent | system */
    const char *action;
    const char *resource;
    const char *patient_ids; /* compact JSON array of strings, exactly the text that was hashed */
    const char *client_addr; /* NULL when none */
    int outcome;             /* HTTP status, or 0 */
    const char *key_id;      /* the key ring key the chain key was derived from */
    const char *prev_hash;   /* hex; the previous record's hash, 64 zeros for the first */
    const char *hash;        /* hex HMAC-SHA256 */
} pms_audit_record;

/* The authenticated head of the audit chain: the last record's seq and hash and a MAC over them
 * (by the chain key of key_id). An empty log has seq 0, 64 zeros and no key or MAC. */
typedef struct pms_audit_head {
    long long seq;
    char hash[65];
    char key_id[PMS_KEY_ID_LEN]; /* "" when none */
    char mac[65];                /* "" when none */
} pms_audit_head;

/* A person who signs in to the web UI (users.h): a lower-case username, unique across the
 * database, and a password hash; never the password. */
typedef struct pms_user {
    char *id;
    char *account_id;
    char *username;      /* lower case */
    char *password_hash; /* "scrypt$N$r$p$salt$hash" (users.h) */
    pms_role role;
    pms_instant created_at;
    pms_instant disabled_at; /* PMS_INSTANT_NONE: may sign in */
} pms_user;

typedef struct pms_user_array {
    pms_user *items;
    size_t count;
} pms_user_array;

void pms_user_clear(pms_user *u);
void pms_user_array_clear(pms_user_array *l);

#define PMS_WEB_SESSION_ID_LEN 65 /* hex SHA-256 of the cookie token, with NUL */

/* A browser's signed-in session (websessions.h). Its id is the hex SHA-256 of the token the
 * browser holds in its cookie; the token itself is never stored. Exactly one of api_key_id and
 * user_id is set. */
typedef struct pms_web_session {
    char id[PMS_WEB_SESSION_ID_LEN];
    char *account_id;
    pms_role role;
    char *api_key_id; /* signed in with an API key, else NULL */
    char *user_id;    /* signed in as a user, else NULL */
    char *csrf_token; /* sent back in X-CSRF-Token on changes */
    pms_instant created_at;
    pms_instant expires_at;
    pms_instant last_seen_at;
    pms_instant revoked_at; /* PMS_INSTANT_NONE: not revoked */
    /* read only, filled by the store's lookup */
    char *principal_name;  /* the key's name or the username */
    char *account_name;    /* the account's name */
    bool principal_active; /* the key is not revoked, the user not disabled */
} pms_web_session;

void pms_web_session_clear(pms_web_session *s);

/* A window of days for a requested sync (dates are the practice's). */
typedef struct pms_sync_window {
    bool today;
    pms_date from, to;
    char sync_type[16]; /* "manual" (default) */
} pms_sync_window;

/* A window as JSON ({"today", "from", "to", "type"}) and back; NULL / PMS_ERR_PARSE. */
json_t *pms_sync_window_to_json(const pms_sync_window *w);
int pms_sync_window_from_json(const json_t *j, pms_sync_window *out);

/* A claimed connection: a worker's until `until`, writes fenced by `token`. */
typedef struct pms_lease {
    char connection_id[PMS_STORE_ID_LEN];
    char account_id[PMS_STORE_ID_LEN];
    char pms_type[32];
    long long token;
    pms_instant until;
    int failures;           /* consecutive failed syncs so far */
    int frequency_minutes;  /* the connection's sync_frequency_minutes */
    bool requested;         /* a sync request (not the schedule) made it due */
    pms_sync_window window; /* the request's window when requested */
} pms_lease;

typedef struct pms_schedule_info {
    pms_instant next_sync_at; /* PMS_INSTANT_NONE: never synced (due at once when enabled) */
    int failures;
    bool requested;       /* a sync request waits */
    bool leased;          /* a worker holds it now (a sync runs) */
    char lease_owner[96]; /* which worker, when leased */
    pms_instant lease_until;
} pms_schedule_info;

typedef struct pms_schedule_stats {
    long enabled;
    long leased;
    long requested;
    long due;
} pms_schedule_stats;

/* A held lock on a connection's sync (one sync per connection, across processes). */
typedef struct pms_store_lock pms_store_lock;

/* A write through the unified write API, kept by its idempotency key (per account): the hash of
 * the request, where it stands, and the answer given (repeats get the same answer, even after a
 * restart). Recorded in_progress before the PMS is asked, so a crash in between leaves it
 * in_progress and a repeat is never written twice. */
typedef struct pms_write_record {
    char *account_id;
    char *idem_key;
    char *request_hash; /* hex SHA-256 of the operation and its arguments */
    char *operation;    /* book | reschedule | cancel | create_patient | ... */
    char *connection_id;
    char *state;       /* in_progress | pending | confirmed | failed */
    int http_status;   /* of the stored answer; 0 while in progress */
    json_t *response;  /* the stored answer's body (ids and states, no patient data); NULL */
    char *tracking_id; /* pending: what the PMS said to follow */
    char *entry_id;    /* the run-sheet appointment, once known */
    int attempts;      /* follow-ups so far */
    pms_instant next_check_at; /* pending: when to follow it next */
    pms_instant created_at;
    pms_instant updated_at;
} pms_write_record;

typedef struct pms_write_record_array {
    pms_write_record *items;
    size_t count;
} pms_write_record_array;

void pms_write_record_clear(pms_write_record *r);
void pms_write_record_array_clear(pms_write_record_array *l);

/* An account's voice receptionist settings: its sealed credentials (bearer secret, HMAC key;
 * aad "voice:<account id>:<bearer|hmac>"), the connection the tools use, and the Vapi phone
 * number its calls must come from (NULL: not checked). */
typedef struct pms_voice_settings {
    char *account_id;
    char *connection_id;
    char *bearer_sealed;
    char *hmac_sealed;
    char *phone_number_id;
    pms_instant updated_at;
} pms_voice_settings;

void pms_voice_settings_clear(pms_voice_settings *v);

typedef struct pms_voice_settings_array {
    pms_voice_settings *items;
    size_t count;
} pms_voice_settings_array;

void pms_voice_settings_array_clear(pms_voice_settings_array *l);
/* The aad a voice secret is sealed with: "voice:<account id>:<which>" (bearer | hmac). */
void pms_voice_aad(const char *account_id, const char *which, char *out, size_t len);

/* ---- the ops struct ------------------------------------------------------------------ */

typedef struct pms_store_ops {
    const char *name;  /* "sqlite", "postgresql" */
    int schema_latest; /* the schema version migrate brings a database to */
    void (*close)(pms_store *st);
    int (*migrate)(pms_store *st, pms_error *err);
    int (*schema_version)(pms_store *st, int *version, pms_error *err);

    int (*begin)(pms_store *st, pms_error *err);
    int (*commit)(pms_store *st, pms_error *err);
    void (*rollback)(pms_store *st);

    /* connection sync lock: PMS_ERR_CONFLICT when another sync holds it */
    int (*lock_connection)(pms_store *st, const char *connection_id, pms_store_lock **out,
                           pms_error *err);
    void (*unlock_connection)(pms_store *st, pms_store_lock *lock);

    int (*account_timezone)(pms_store *st, const char *account_id, char **tz, pms_error *err);
    int (*account_set_timezone)(pms_store *st, const char *account_id, const char *tz,
                                pms_error *err);

    int (*connection_insert)(pms_store *st, const pms_connection *c, pms_error *err);
    int (*connection_get)(pms_store *st, const char *id, pms_connection *out, pms_error *err);
    int (*connection_list)(pms_store *st, const char *account_id, pms_connection_list *out,
                           pms_error *err);
    /* Writes every column of c (by id) except created_at; sets updated_at. */
    int (*connection_update)(pms_store *st, const pms_connection *c, pms_error *err);
    int (*connection_delete)(pms_store *st, const char *id, pms_error *err);
    int (*connection_set_sync_result)(pms_store *st, const char *id, pms_instant at,
                                      const char *status, const char *error, pms_error *err);
    int (*connection_set_token)(pms_store *st, const char *id, const char *access_sealed,
                                const char *refresh_sealed, pms_instant expires_at, pms_error *err);

    int (*clinician_insert)(pms_store *st, pms_clinician *c, pms_error *err); /* fills id */
    int (*clinician_get)(pms_store *st, const char *id, pms_clinician *out, pms_error *err);
    int (*clinician_list)(pms_store *st, const char *account_id, pms_clinician_list *out,
                          pms_error *err);

    int (*mapping_list)(pms_store *st, const char *connection_id, pms_mapping_list *out,
                        pms_error *err);
    /* Insert or update by (connection, practitioner): every field of m. Fills m->id. */
    int (*mapping_upsert)(pms_store *st, pms_mapping *m, pms_error *err);

    int (*type_list)(pms_store *st, const char *connection_id, pms_stored_type_list *out,
                     pms_error *err);
    /* Insert or refresh the PMS-owned fields (name, duration, colour, auto detection) of a
     * type; the practice's choices (is_telehealth unless auto detected, sync_enabled) stay. */
    int (*type_upsert_from_pms)(pms_store *st, const char *connection_id, const pms_appt_type *t,
                                pms_error *err);
    int (*type_set_flags)(pms_store *st, const char *connection_id, const char *pms_type_id,
                          int is_telehealth /* -1 keep */, int sync_enabled /* -1 keep */,
                          pms_error *err);

    /* The run sheet of an account and day, created when missing. *id: new string. */
    int (*run_sheet_ensure)(pms_store *st, const char *account_id, pms_date day,
                            const char *timezone, char **id, pms_error *err);

    int (*entry_find_pms)(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                          pms_sheet_entry *out, pms_error *err); /* PMS_ERR_NOT_FOUND */
    /* The state of a PMS appointment's entry without reading the whole row. */
    int (*entry_state_pms)(pms_store *st, const char *connection_id, const char *pms_appointment_id,
                           pms_entry_state *out, pms_error *err); /* PMS_ERR_NOT_FOUND */
    int (*entry_get)(pms_store *st, const char *id, pms_sheet_entry *out, pms_error *err);
    /* An OCR entry of the run sheet with the clinician, start and patient name key, not yet
     * linked to a PMS appointment. *id: new string; PMS_ERR_NOT_FOUND when none. */
    int (*entry_find_ocr_match)(pms_store *st, const char *run_sheet_id, const char *clinician_id,
                                pms_instant start, const char *patient_key, char **id,
                                pms_error *err);
    int (*entry_insert)(pms_store *st, pms_sheet_entry *e, pms_error *err); /* fills id */
    /* Writes the source-owned columns (run sheet, clinician, source, the appointment, hash,
     * pms_last_synced_at) and clears removed_at; manual edits are left alone. */
    int (*entry_update_source)(pms_store *st, const pms_sheet_entry *e, pms_error *err);
    /* Writes the manual edit columns of e. */
    int (*entry_update_edits)(pms_store *st, const pms_sheet_entry *e, pms_error *err);
    int (*entry_mark_removed)(pms_store *st, const char *id, pms_instant at, pms_error *err);
    /* PMS entries of a connection starting in [from, to) not marked removed: calls fn with the
     * entry id and PMS appointment id. */
    int (*entry_each_active_pms)(pms_store *st, const char *connection_id, pms_instant from,
                                 pms_instant to,
                                 int (*fn)(void *ctx, const char *id, const char *pms_id),
                                 void *ctx, pms_error *err);
    int (*entry_list)(pms_store *st, const pms_sheet_query *q, pms_sheet_entry_list *out,
                      pms_error *err);

    int (*sync_log_start)(pms_store *st, pms_sync_log_entry *e, pms_error *err); /* fills id */
    int (*sync_log_finish)(pms_store *st, const pms_sync_log_entry *e, pms_error *err);
    int (*sync_log_list)(pms_store *st, const char *connection_id, int limit,
                         pms_sync_log_list *out, pms_error *err);
    /* Marks every 'running' row of a connection failed (a sync that died); returns how many. */
    int (*sync_log_fail_running)(pms_store *st, const char *connection_id, const char *reason,
                                 int *count, pms_error *err);

    /* ---- accounts, API keys, the audit log, re-encryption (migration 3) ---- */

    int (*account_insert)(pms_store *st, const pms_account *a, pms_error *err);
    int (*account_get)(pms_store *st, const char *id, pms_account *out,
                       pms_error *err); /* PMS_ERR_NOT_FOUND */
    int (*account_list)(pms_store *st, pms_account_array *out, pms_error *err);

    /* PMS_ERR_CONFLICT when the prefix is taken, PMS_ERR_NOT_FOUND without such an account. */
    int (*api_key_insert)(pms_store *st, const pms_api_key *k, pms_error *err);
    int (*api_key_find_by_prefix)(pms_store *st, const char *prefix, pms_api_key *out,
                                  pms_error *err); /* PMS_ERR_NOT_FOUND */
    /* An account's keys (every account's when account_id is NULL), oldest first. */
    int (*api_key_list)(pms_store *st, const char *account_id, pms_api_key_array *out,
                        pms_error *err);
    /* Sets revoked_at to at unless already revoked (the first time stays). account_id NULL
     * matches any account. PMS_ERR_NOT_FOUND when no such key (in that account). */
    int (*api_key_revoke)(pms_store *st, const char *account_id, const char *id, pms_instant at,
                          pms_error *err);
    /* Sets last_used_at to at unless it is later than at - min_interval_ms already. */
    int (*api_key_touch)(pms_store *st, const char *id, pms_instant at, pms_instant min_interval_ms,
                         pms_error *err);

    /* The chain's head, its records and its head update: pms_audit_append calls them inside
     * one write transaction. audit_insert is PMS_ERR_CONFLICT when the seq is taken. */
    int (*audit_head_get)(pms_store *st, pms_audit_head *out, pms_error *err);
    int (*audit_insert)(pms_store *st, const pms_audit_record *r, pms_error *err);
    int (*audit_head_set)(pms_store *st, const pms_audit_head *h, pms_error *err);
    /* Reads the head into *head and calls fn for each record with at in [from, to) (either
     * bound PMS_INSTANT_NONE: open), by seq, from one consistent snapshot that does not block
     * writers. A non-zero return from fn stops the walk and is returned. */
    int (*audit_walk)(pms_store *st, pms_instant from, pms_instant to, pms_audit_head *head,
                      int (*fn)(void *ctx, const pms_audit_record *r), void *ctx, pms_error *err);
    /* How many audit records were chained with the key of that id. */
    int (*audit_count_key)(pms_store *st, const char *key_id, long long *count, pms_error *err);

    /* Writes a connection's three sealed columns (secrets, access and refresh token) and nothing
     * else (not updated_at): re-encryption under a new key. PMS_ERR_NOT_FOUND. */
    int (*connection_set_sealed)(pms_store *st, const char *id, const char *secrets_sealed,
                                 const char *access_sealed, const char *refresh_sealed,
                                 pms_error *err);

    /* A text that changes whenever anything a run sheet shows changes (its appointments, the
     * account's clinicians, the account's zone), written by any process: readers that keep a
     * rendered run sheet compare it to know whether theirs is current. Read it before the
     * content. */
    int (*run_sheet_version)(pms_store *st, const char *account_id, pms_date day,
                             char out[PMS_STORE_VERSION_LEN], pms_error *err);

    /* ---- users and browser sessions (migration 6) ---- */

    /* PMS_ERR_CONFLICT when the username is taken, PMS_ERR_NOT_FOUND without such an account. */
    int (*user_insert)(pms_store *st, const pms_user *u, pms_error *err);
    /* By id, or by (lower-case) username when id is NULL. PMS_ERR_NOT_FOUND. */
    int (*user_get)(pms_store *st, const char *id, const char *username, pms_user *out,
                    pms_error *err);
    /* An account's users (every account's when account_id is NULL), oldest first. */
    int (*user_list)(pms_store *st, const char *account_id, pms_user_array *out, pms_error *err);
    /* Sets disabled_at to at unless already disabled (the first time stays). PMS_ERR_NOT_FOUND. */
    int (*user_disable)(pms_store *st, const char *id, pms_instant at, pms_error *err);
    int (*user_set_password)(pms_store *st, const char *id, const char *password_hash,
                             pms_error *err); /* PMS_ERR_NOT_FOUND */

    int (*web_session_insert)(pms_store *st, const pms_web_session *s, pms_error *err);
    /* By id (the token's hash), with the read-only fields; expired and revoked sessions are
     * returned too (the caller decides). PMS_ERR_NOT_FOUND. */
    int (*web_session_find)(pms_store *st, const char *id, pms_web_session *out, pms_error *err);
    /* Sets last_seen_at to at unless it is later than at - min_interval_ms already. */
    int (*web_session_touch)(pms_store *st, const char *id, pms_instant at,
                             pms_instant min_interval_ms, pms_error *err);
    /* Sets revoked_at unless already revoked. PMS_ERR_NOT_FOUND. */
    int (*web_session_revoke)(pms_store *st, const char *id, pms_instant at, pms_error *err);
    /* Deletes sessions that expired, or were revoked, at or before `before`; *count (may be NULL)
     * receives how many. */
    int (*web_session_delete_expired)(pms_store *st, pms_instant before, int *count,
                                      pms_error *err);

    /* ---- shared scheduling: due times, sync requests and leases (migration 8) ----
     *
     * Every pmsd worker sharing a database takes its work from here. A connection is due when
     * it has a sync request, or when it is enabled and its next_sync_at has come (NULL: never
     * synced, due at once). A worker claims due connections with a lease: the connection is
     * then its own until lease_until, and each claim moves the connection's fencing token on.
     * Every write of the sync checks the token (pms_lease_check), so a worker whose lease ran
     * out and was taken by another writes nothing more. A dead worker's leases simply run out.
     */

    /* Claims up to max due, unleased (or lease run out) connections for worker until
     * now + lease_ms: the oldest due first, requests before schedule (requests_only: only
     * connections with a sync request). Concurrent claims never take the same connection
     * (PostgreSQL: FOR UPDATE SKIP LOCKED). Fills out[0..*count). */
    int (*lease_claim)(pms_store *st, const char *worker, pms_instant now, long lease_ms, int max,
                       bool requests_only, pms_lease *out, int *count, pms_error *err);
    /* Inside the caller's write transaction: the lease with this token still holds, and it is
     * extended to until. PMS_ERR_CONFLICT when another worker has taken it (or it was
     * released); the caller must roll back. Locks the connection's row until the end of the
     * transaction, so a claim cannot slip in between the check and the commit. */
    int (*lease_check)(pms_store *st, const char *connection_id, long long token, pms_instant until,
                       pms_error *err);
    /* Ends the lease (when the token still holds) and schedules the next sync: next_sync_at
     * and the count of consecutive failures; the request the sync served is cleared.
     * PMS_ERR_CONFLICT when the lease was taken. */
    int (*lease_release)(pms_store *st, const char *connection_id, long long token,
                         pms_instant next_sync_at, int failures, pms_error *err);
    /* Asks for a sync of a connection as soon as a worker is free (window NULL: the practice's
     * today). PMS_ERR_CONFLICT when one is already requested or the connection is leased. */
    int (*sync_request)(pms_store *st, const char *connection_id, const pms_sync_window *window,
                        pms_error *err);
    /* The scheduling state of a connection (pms_schedule_info). PMS_ERR_NOT_FOUND. */
    int (*schedule_get)(pms_store *st, const char *connection_id, pms_instant now,
                        pms_schedule_info *out, pms_error *err);
    /* Sets next_sync_at (a new or re-enabled connection, a changed frequency, benchmarks). */
    int (*schedule_set)(pms_store *st, const char *connection_id, pms_instant next_sync_at,
                        pms_error *err);
    /* Counts for metrics: connections enabled, leased now, requested, due now. */
    int (*schedule_stats)(pms_store *st, pms_instant now, pms_schedule_stats *out, pms_error *err);

    /* ---- notifications between workers ----
     *
     * PostgreSQL: NOTIFY on a channel (delivered to every listening worker after the sender's
     * transaction commits); SQLite: one process, nothing to tell (PMS_OK, nothing sent). */
    int (*notify)(pms_store *st, const char *channel, const char *payload, pms_error *err);

    /* ---- idempotent writes and voice settings (migration 9) ---- */

    /* Records a new write (state in_progress) unless its (account, key) exists: *claimed says
     * which; when it existed, *existing (may be NULL) receives it. */
    int (*write_claim)(pms_store *st, const pms_write_record *r, bool *claimed,
                       pms_write_record *existing, pms_error *err);
    /* Writes state, http_status, response, tracking_id, entry_id, attempts, next_check_at and
     * updated_at of the record (account, key). PMS_ERR_NOT_FOUND. */
    int (*write_update)(pms_store *st, const pms_write_record *r, pms_error *err);
    int (*write_get)(pms_store *st, const char *account_id, const char *idem_key,
                     pms_write_record *out, pms_error *err); /* PMS_ERR_NOT_FOUND */
    /* Pending writes whose next check has come (at most limit), oldest first. */
    int (*write_due)(pms_store *st, pms_instant now, int limit, pms_write_record_array *out,
                     pms_error *err);
    int (*voice_settings_get)(pms_store *st, const char *account_id, pms_voice_settings *out,
                              pms_error *err); /* PMS_ERR_NOT_FOUND */
    /* Inserts or replaces every field of the account's settings. */
    int (*voice_settings_put)(pms_store *st, const pms_voice_settings *v, pms_error *err);
    /* Removes a write still in_progress (the PMS could not be asked): the key is free again.
     * PMS_OK also when there was none. */
    int (*write_release)(pms_store *st, const char *account_id, const char *idem_key,
                         pms_error *err);
    /* Every account's voice settings (key rotation re-seals and counts them). */
    int (*voice_settings_list)(pms_store *st, pms_voice_settings_array *out, pms_error *err);
    /* The replay cache of signed voice requests, shared by every worker: removes entries expired
     * by now, then records signature (unique) until expires_at. *fresh: it was not there. */
    int (*voice_replay_claim)(pms_store *st, const char *account_id, const char *signature,
                              pms_instant now, pms_instant expires_at, bool *fresh, pms_error *err);
} pms_store_ops;

struct pms_store {
    const pms_store_ops *ops;
};

/* Opens a store from a location: "postgres://..." / "postgresql://..." (a libpq connection URI:
 * PostgreSQL), "sqlite:PATH" or a plain file path (SQLite). Runs pending migrations when
 * `migrate` is true. Error messages never repeat a location (it may hold a password). */
int pms_store_open(const char *location, bool migrate, pms_store **out, pms_error *err);
void pms_store_close(pms_store *st);
/* Whether a location names a PostgreSQL database. */
bool pms_store_location_is_postgres(const char *location);

/* Told how many rows of a table a copy wrote. */
typedef void (*pms_copy_progress_fn)(void *ctx, const char *table, long long rows);
/* Copies every row of one database into another of any backend (an SQLite file into
 * PostgreSQL): both at the latest schema version (pms_store_open with migrate), the destination
 * holding no data of its own (PMS_ERR_CONFLICT otherwise; its migrations' default account and
 * audit head are written over). The destination is written in one transaction (all or nothing,
 * each table's row count checked against the source) while the source is read in one snapshot.
 * Values keep their meaning, not their bytes: the audit chain verifies on the copy. */
int pms_store_copy(pms_store *from, pms_store *to, pms_copy_progress_fn progress, void *ctx,
                   pms_error *err);
/* location with any password replaced by "***" (a PostgreSQL URI's or a "password=" parameter's),
 * for printing. */
void pms_store_location_redacted(const char *location, char *out, size_t len);

int pms_store_sqlite_open(const char *path, pms_store **out, pms_error *err);
/* One server connection per handle (a handle is used by one thread at a time). */
int pms_store_pg_open(const char *location, pms_store **out, pms_error *err);

#endif
