/* JSON shapes of the Medirecords REST API (pms-api-notes §3): appointments (exactly the
 * MRAppointment key set, scheduleTime local without an offset, audit times "...+0000"),
 * appointment types (duration as text), patients, the practice, providers, the page envelope
 * and the interval-code table in each guessed shape.
 *
 * Every function returns a new reference the caller owns. Callers hold the world lock.
 */
#ifndef SBX_MEDIRECORDS_JSON_H
#define SBX_MEDIRECORDS_JSON_H

#include <jansson.h>

#include "config.h"
#include "medirecords_data.h"

/* "2026-02-20T01:12:33.529+0000" (UTC, offset without a colon). */
void mr_format_audit_time(pms_instant t, char buf[PMS_TIME_BUFLEN]);
/* "2026-03-02T09:30" */
void mr_format_local(const pms_civil *local, char buf[PMS_TIME_BUFLEN]);

json_t *mr_appt_json(const mr_practice *practice, const mr_appt *appt);
/* The appointment served malformed, one of several ways chosen by variant (stable per id). */
json_t *mr_appt_malformed_json(const mr_practice *practice, const mr_appt *appt, unsigned variant);
/* What the variant breaks, for ground truth. */
const char *mr_malformed_kind(unsigned variant);

json_t *mr_type_json(const mr_type *type);
json_t *mr_patient_json(const mr_practice *practice, const mr_patient *patient);
json_t *mr_practice_json(const mr_practice *practice);
json_t *mr_provider_json(const mr_provider *provider);

/* {"data":[...],"first","last","totalPages","totalElements","numberOfElements","size","page"};
 * takes ownership of data. */
json_t *mr_page_json(json_t *data, size_t page, size_t size, size_t total);

/* GET /v1/code-system/appointment-interval-code in the configured shape. */
json_t *mr_intervals_json(sbx_mr_interval_shape shape);

#endif
