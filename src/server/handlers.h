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
