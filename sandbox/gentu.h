/* The Gentu (Magentus) Healthcare API simulator, served under /gentu (pms-api-notes §2).
 *
 * gentu.c holds the live dataset behind a read-write lock and the settings for the behaviours
 * the notes mark as guesses; gentu_api.c and gentu_list.c answer the vendor API and
 * gentu_control.c the /_sandbox/gentu controls. */
#ifndef SBX_GENTU_H
#define SBX_GENTU_H

#include "config.h"
#include "gentu_data.h"
#include "http.h"
#include "pms.h"

extern const sbx_pms sbx_gentu;

/* The live world, with the lock held: read for lookups, write for changes. Always pair with
 * gentu_unlock. */
gentu_world *gentu_lock_read(void);
gentu_world *gentu_lock_write(void);
void gentu_unlock(void);
/* The settings; read them with the lock held, change them with the write lock. */
sbx_gentu_config *gentu_settings(void);
json_t *gentu_settings_json(const sbx_gentu_config *settings);
/* Applies a partial update; nothing changes on error. Hold the write lock. */
int gentu_settings_update(sbx_gentu_config *settings, const json_t *patch, pms_error *err);

/* Vendor API (gentu_api.c). */
void gentu_api_route(const sbx_request *req, sbx_route_info *info);
void gentu_api_handle(const sbx_request *req, const sbx_route_info *info, sbx_response *resp);
void gentu_api_fault(int status, const sbx_route_info *info, sbx_response *resp);
/* GET .../appointments for tenant t (gentu_list.c). Hold the read lock. */
void gentu_list_appointments(const sbx_request *req, const gentu_tenant *t,
                             const sbx_gentu_config *settings, sbx_response *resp);
/* A query parameter that must be ISO 8601 with an offset (as zod's datetime({offset:true})
 * accepts); false after adding the validation issue. */
bool gentu_query_datetime(const sbx_request *req, const char *name, json_t *issues,
                          pms_instant *out);
/* An appointment as served: malformed when the fault says so (then *malformed is bumped). */
json_t *gentu_appt_out(const gentu_tenant *t, const gentu_appt *a, unsigned *malformed);

/* Bookings API writes, with the write lock held (gentu_write.c, gentu_patients.c), and its
 * availability, with the read lock (gentu_schedules.c). */
void gentu_schedules(const sbx_request *req, const gentu_tenant *t, sbx_response *resp);
void gentu_write_create_appt(const sbx_request *req, gentu_world *w, gentu_tenant *t,
                             sbx_response *resp);
void gentu_write_cancel(const sbx_request *req, const sbx_gentu_config *s, gentu_tenant *t,
                        gentu_appt *a, sbx_response *resp);
void gentu_patients_list(const sbx_request *req, const gentu_tenant *t, sbx_response *resp);
void gentu_patients_create(const sbx_request *req, gentu_world *w, gentu_tenant *t,
                           sbx_response *resp);

/* Controls under /_sandbox/gentu (gentu_control.c). */
void gentu_control_handle(const sbx_request *req, const char *rest, sbx_response *resp);
/* An appointment as ground truth: the API object plus "_id", "_status", "_startUtc",
 * "_telehealth" (= "_telehealthType"), "_kind", "_practitionerId", "_patientId",
 * "_appointmentTypeId", "_telehealthType", "_malformed", "_malformedKind", "_localDate",
 * "_minutes". */
json_t *gentu_truth_json(const gentu_tenant *tenant, const gentu_appt *appt);

#endif
