/* pmsd's endpoint handlers (one file per area) and what they share. Internal to src/server/. */
#ifndef PMSD_HANDLERS_H
#define PMSD_HANDLERS_H

#include "pmsync/connections.h"
#include "server/app.h"
#include "server/http.h"
#include "server/validate.h"

/* ---- shared (h_common.c) ---------------------------------------------------------------- */

/* Path parameter i ("" when absent). */
const char *pmsd_param(const pmsd_request *req, size_t i);
/* Loads the connection named by path parameter 0 when it belongs to the caller's account. Any
 * other connection is a 404, so ids of other accounts cannot be probed. */
bool pmsd_own_connection(pmsd_request *req, pmsd_response *resp, pms_store *st,
                         pms_connection *out);
/* This thread's store and the connection of path parameter 0 (as pmsd_own_connection); the
 * caller clears *c when true is returned. */
bool pmsd_store_and_connection(pmsd_request *req, pmsd_response *resp, pms_store **st,
                               pms_connection *c);
/* Options for sessions opened on a request's behalf: shutdown cancels them. */
pms_session_options pmsd_session_options(pmsd_app *app);
/* The account's zone (the practice's "today"); "Australia/Sydney" until a connection sets it.
 * New string, or NULL with a 5xx in resp. */
char *pmsd_account_timezone(pmsd_request *req, pmsd_response *resp, pms_store *st);
/* ?date= or the account's today. */
bool pmsd_sheet_date(pmsd_request *req, pmsd_response *resp, const char *tz, pms_date *out);
/* A boolean query flag: true for "true" or "1"; a 400 for anything but true/false/1/0. */
bool pmsd_q_flag(const pmsd_request *req, const char *name, bool *out, pmsd_response *resp);

/* A connection's syncing: running (leased by a worker), queued (requested), next due,
 * failures, and the last outcome, as every worker sharing the database sees it. */
json_t *pmsd_sync_status_json(pms_store *st, const pms_connection *c);

/* Writes the audit record of a response that carries patient data (or of a change to it)
 * before the response is sent: inside the caller's open transaction when in_transaction (the
 * record then commits with the change), else in one of its own. outcome is the HTTP status the
 * response will have. On failure the response becomes a 500 and false is returned: no patient
 * data leaves, and no change is kept, without its record. (auth.c) */
bool pmsd_audit(pmsd_request *req, pmsd_response *resp, pms_store *st, bool in_transaction,
                const char *action, const char *resource, const json_t *patient_ids, int outcome);
/* Inside the caller's open transaction: the audit record of its change, then the commit. On
 * either failure the transaction is rolled back, the response set, and false returned. */
bool pmsd_audit_commit(pmsd_request *req, pmsd_response *resp, pms_store *st, const char *action,
                       const char *resource, const json_t *patient_ids, int outcome);

/* ---- request bodies ----------------------------------------------------------------------
 * Each JSON-body route's checks, apart from the store: true with the outputs filled (strings
 * borrowed from body), or false with a 400 naming the field in resp. Checks that need the store
 * (does the clinician or connection exist) stay in the handlers. fuzz/fuzz_body.c drives them
 * all; the PMS API's are in pms_ops.h, the voice settings' in voice.h. */

/* POST /api/session: exactly one of {"apiKey"} and {"username", "password"}. */
bool pmsd_read_credentials(const json_t *body, const char **api_key, const char **username,
                           const char **password, pmsd_response *resp);

#define PMSD_CONNECTION_MAX_SETTINGS 32
/* A request's connection fields and settings; strings borrow from the body. */
typedef struct pmsd_connection_input {
    const char *pms_type;
    pms_connection_fields fields;
    pms_setting_value settings[PMSD_CONNECTION_MAX_SETTINGS];
    char numbers[PMSD_CONNECTION_MAX_SETTINGS][32]; /* settings given as numbers, as text */
    size_t setting_count;
} pmsd_connection_input;
/* POST /api/pms/connections (creating) and PATCH /api/pms/connections/{id}. */
bool pmsd_read_connection(const json_t *body, bool creating, pmsd_connection_input *in,
                          pmsd_response *resp);
/* POST /api/pms/connections/{id}/pair: {"code"}. */
bool pmsd_read_pairing(const json_t *body, const char **code, pmsd_response *resp);
/* POST /api/pms/connections/{id}/sync: {"date"} or {"from", "to"}; body NULL (no body) is
 * today. */
bool pmsd_read_sync_window(const json_t *body, pms_sync_window *w, pmsd_response *resp);
/* POST /api/pms/connections/{id}/practitioners: {"mappings": [...]} (borrowed). */
bool pmsd_read_mappings(const json_t *body, const json_t **mappings, pmsd_response *resp);
/* PATCH /api/pms/connections/{id}/appointment-types: *types (borrowed; NULL when absent) and
 * *suggested (-1 absent, 0, 1). */
bool pmsd_read_type_flags(const json_t *body, const json_t **types, int *suggested,
                          pmsd_response *resp);
/* POST /api/run-sheet/clinicians: {"name"}. */
bool pmsd_read_clinician(const json_t *body, const char **name, pmsd_response *resp);
/* POST /api/run-sheet/appointments: the body applied to a new manual or OCR entry (initialised
 * by the caller) in the account's zone tz. */
bool pmsd_read_entry_create(const json_t *body, const char *tz, pms_sheet_entry *e,
                            pmsd_response *resp);
/* PATCH /api/run-sheet/appointments/{id}: the body applied to the stored entry e (edits of an
 * appointment from a PMS; fields of a manual or OCR one). */
bool pmsd_read_entry_update(const json_t *body, const char *tz, pms_sheet_entry *e,
                            pmsd_response *resp);
/* POST /api/keys: {"name", "role"}. */
bool pmsd_read_api_key(const json_t *body, const char **name, pms_role *role, pmsd_response *resp);

/* ---- endpoints -------------------------------------------------------------------------- */

/* h_connections.c */
void pmsd_h_connections_list(pmsd_request *req, pmsd_response *resp);
void pmsd_h_connections_create(pmsd_request *req, pmsd_response *resp);
void pmsd_h_connection_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_connection_update(pmsd_request *req, pmsd_response *resp);
void pmsd_h_connection_delete(pmsd_request *req, pmsd_response *resp);
void pmsd_h_connection_pair(pmsd_request *req, pmsd_response *resp);
void pmsd_h_connection_test(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_types(pmsd_request *req, pmsd_response *resp);

/* h_catalog.c */
void pmsd_h_practitioners_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_practitioners_post(pmsd_request *req, pmsd_response *resp);
void pmsd_h_types_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_types_patch(pmsd_request *req, pmsd_response *resp);
void pmsd_h_telehealth_check(pmsd_request *req, pmsd_response *resp);
void pmsd_h_clinicians_list(pmsd_request *req, pmsd_response *resp);
void pmsd_h_clinicians_create(pmsd_request *req, pmsd_response *resp);

/* h_sync.c */
void pmsd_h_connection_sync_post(pmsd_request *req, pmsd_response *resp);
void pmsd_h_connection_sync_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_sync_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_runsheet_sync_post(pmsd_request *req, pmsd_response *resp);
void pmsd_h_runsheet_sync_get(pmsd_request *req, pmsd_response *resp);

/* h_runsheet.c */
void pmsd_h_runsheet_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_appointments_list(pmsd_request *req, pmsd_response *resp);
void pmsd_h_appointment_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_appointment_create(pmsd_request *req, pmsd_response *resp);
void pmsd_h_appointment_update(pmsd_request *req, pmsd_response *resp);
void pmsd_h_appointment_delete(pmsd_request *req, pmsd_response *resp);

/* h_events.c */
void pmsd_h_events(pmsd_request *req, pmsd_response *resp);

/* h_ops.c */
void pmsd_h_healthz(pmsd_request *req, pmsd_response *resp);
void pmsd_h_readyz(pmsd_request *req, pmsd_response *resp);
void pmsd_h_metrics(pmsd_request *req, pmsd_response *resp);
void pmsd_h_openapi(pmsd_request *req, pmsd_response *resp);

/* h_session.c */
void pmsd_h_session_create(pmsd_request *req, pmsd_response *resp);
void pmsd_h_session_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_session_delete(pmsd_request *req, pmsd_response *resp);

/* h_pms_api.c */
void pmsd_h_pms_availability(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_book(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_reschedule(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_cancel(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_patient_search(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_patient_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_patient_create(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_notes_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_notes_post(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_insurance(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_balance(pmsd_request *req, pmsd_response *resp);
void pmsd_h_pms_payments(pmsd_request *req, pmsd_response *resp);

/* h_voice.c, h_voice_settings.c */
void pmsd_h_voice_vapi(pmsd_request *req, pmsd_response *resp);
void pmsd_h_voice_settings_get(pmsd_request *req, pmsd_response *resp);
void pmsd_h_voice_settings_put(pmsd_request *req, pmsd_response *resp);

/* h_keys.c */
void pmsd_h_keys_list(pmsd_request *req, pmsd_response *resp);
void pmsd_h_keys_create(pmsd_request *req, pmsd_response *resp);
void pmsd_h_key_revoke(pmsd_request *req, pmsd_response *resp);

#endif
