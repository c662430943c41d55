/* The Medirecords REST API simulator, served under /medirecords (pms-api-notes §3).
 *
 * medirecords.c holds the live dataset behind a read-write lock, the settings for the
 * behaviours the notes mark as guesses, and the tokens of the OAuth variant;
 * medirecords_api.c and medirecords_list.c answer the vendor API and medirecords_control.c the
 * /_sandbox/medirecords controls. */
#ifndef SBX_MEDIRECORDS_H
#define SBX_MEDIRECORDS_H

#include "config.h"
#include "http.h"
#include "medirecords_data.h"
#include "pms.h"
#include "tokens.h"

extern const sbx_pms sbx_medirecords;

#define MR_OAUTH_TOKEN_LIFETIME 3600 /* seconds, unless --token-lifetime says otherwise */

/* The live world, with the lock held: read for lookups, write for changes. Always pair with
 * mr_unlock. */
mr_world *mr_lock_read(void);
mr_world *mr_lock_write(void);
void mr_unlock(void);
/* The settings; read them with the lock held, change them with the write lock. */
sbx_medirecords_config *mr_settings(void);
json_t *mr_settings_json(const sbx_medirecords_config *settings);
/* Applies a partial update; nothing changes on error. Hold the write lock. */
int mr_settings_update(sbx_medirecords_config *settings, const json_t *patch, pms_error *err);
/* Tokens minted by POST /oauth/token (thread-safe on their own). */
sbx_token_table *mr_oauth_tokens(void);

/* Vendor API (medirecords_api.c). */
void mr_api_route(const sbx_request *req, sbx_route_info *info);
void mr_api_handle(const sbx_request *req, const sbx_route_info *info, sbx_response *resp);
void mr_api_fault(int status, const sbx_route_info *info, sbx_response *resp);
/* GET /v1/practices/{pid}/appointments (medirecords_list.c). Hold the read lock. */
void mr_list_appointments(const sbx_request *req, const mr_practice *practice,
                          const sbx_medirecords_config *settings, sbx_response *resp);
/* An appointment as served: malformed when the fault says so (then *malformed is bumped). */
json_t *mr_appt_out(const mr_practice *practice, const mr_appt *appt, unsigned *malformed);

/* Writes (medirecords_write.c), with the write lock held; `only`: the practice of a static
 * token, NULL for an OAuth token (every practice). */
void mr_write_create_appt(const sbx_request *req, mr_world *w, mr_practice *practice,
                          sbx_response *resp);
void mr_write_replace_appt(const sbx_request *req, mr_practice *practice, mr_appt *appt,
                           sbx_response *resp);
void mr_write_delete_appt(mr_practice *practice, mr_appt *appt, sbx_response *resp);
void mr_write_search_patients(const sbx_request *req, mr_world *w, const mr_practice *only,
                              sbx_response *resp);
void mr_write_create_patient(const sbx_request *req, mr_world *w, mr_practice *only,
                             sbx_response *resp);

/* Controls under /_sandbox/medirecords (medirecords_control.c). */
void mr_control_handle(const sbx_request *req, const char *rest, sbx_response *resp);
/* An appointment as ground truth: the API object plus the normalised "_" fields. */
json_t *mr_truth_json(const mr_practice *practice, const mr_appt *appt);

#endif
