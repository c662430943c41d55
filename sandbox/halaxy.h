/* The Halaxy FHIR API simulator, served under /halaxy (pms-api-notes §4).
 *
 * halaxy.c holds the live dataset behind a read-write lock, the settings for the behaviours
 * the notes mark as guesses, and the access tokens (each belongs to one practice, i.e. one
 * Halaxy account); halaxy_api.c and halaxy_search.c answer the vendor API and
 * halaxy_control.c the /_sandbox/halaxy controls. */
#ifndef SBX_HALAXY_H
#define SBX_HALAXY_H

#include "config.h"
#include "halaxy_data.h"
#include "halaxy_fhir.h"
#include "http.h"
#include "pms.h"
#include "tokens.h"

extern const sbx_pms sbx_halaxy;

#define HX_TOKEN_LIFETIME 900 /* seconds tokens really last, unless --token-lifetime says so */
#define HX_TOKEN_LEN      64

/* The live world, with the lock held: read for lookups, write for changes. Always pair with
 * hx_unlock. */
hx_world *hx_lock_read(void);
hx_world *hx_lock_write(void);
void hx_unlock(void);
/* The settings; read them with the lock held, change them with the write lock. */
sbx_halaxy_config *hx_settings(void);
json_t *hx_settings_json(const sbx_halaxy_config *settings);
/* Applies a partial update; nothing changes on error. Hold the write lock. */
int hx_settings_update(sbx_halaxy_config *settings, const json_t *patch, pms_error *err);
/* Access tokens; the owner is the practice's index (thread-safe on their own). */
sbx_token_table *hx_tokens(void);
/* The shaping context for a request, from the settings (hold the lock). */
hx_ctx hx_ctx_for(const sbx_request *req, const sbx_halaxy_config *settings);

/* Vendor API (halaxy_api.c). */
void hx_api_route(const sbx_request *req, sbx_route_info *info);
void hx_api_handle(const sbx_request *req, const sbx_route_info *info, sbx_response *resp);
void hx_api_fault(int status, const sbx_route_info *info, sbx_response *resp);
/* GET /main/Appointment (halaxy_search.c). Hold the read lock. */
void hx_search_appointments(const sbx_request *req, const hx_practice *practice,
                            const sbx_halaxy_config *settings, sbx_response *resp);
/* _count (default 20, capped by --page-size) and page (from 1); false after answering 400. */
bool hx_paging(const sbx_request *req, size_t *count, size_t *page, sbx_response *resp);
/* An appointment as served: malformed when the fault says so (then *malformed is bumped). */
json_t *hx_appt_out(const hx_ctx *ctx, const hx_practice *practice, const hx_appt *appt,
                    unsigned *malformed);

/* GET /main/Appointment/$find (halaxy_find.c), with the read lock. */
void hx_find_appointments(const sbx_request *req, const hx_practice *practice, const hx_ctx *ctx,
                          sbx_response *resp);
/* POST /main/Appointment/$book and PATCH /main/Appointment/{id} (halaxy_write.c), with the
 * write lock. */
void hx_write_book(const sbx_request *req, hx_world *w, hx_practice *practice, const hx_ctx *ctx,
                   sbx_response *resp);
void hx_write_patch(const sbx_request *req, hx_practice *practice, hx_appt *appt, const hx_ctx *ctx,
                    sbx_response *resp);
/* Controls under /_sandbox/halaxy (halaxy_control.c). */
void hx_control_handle(const sbx_request *req, const char *rest, sbx_response *resp);
/* An appointment as ground truth: the API object plus the normalised "_" fields. */
json_t *hx_truth_json(const hx_ctx *ctx, const hx_practice *practice, const hx_appt *appt);

#endif
