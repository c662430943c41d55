/* JSON shapes of the Gentu Healthcare API (pms-api-notes §2): appointments (every key present,
 * null where absent, times ISO 8601 with milliseconds and the tenant's offset at that instant),
 * patients, practitioners (ListUser and User), appointment types, sites, and the error envelopes.
 *
 * Every function returns a new reference the caller owns. Callers hold the world lock.
 */
#ifndef SBX_GENTU_JSON_H
#define SBX_GENTU_JSON_H

#include <jansson.h>

#include "gentu_data.h"

/* "2026-03-02T09:30:00.000+11:00" in the tenant's zone. */
void gentu_format_time(const gentu_tenant *tenant, pms_instant t, char buf[PMS_TIME_BUFLEN]);

json_t *gentu_appt_json(const gentu_tenant *tenant, const gentu_appt *appt);
/* The appointment served malformed, one of several ways chosen by variant (stable per id). */
json_t *gentu_appt_malformed_json(const gentu_tenant *tenant, const gentu_appt *appt,
                                  unsigned variant);
/* What the variant breaks, for ground truth ("missing id", ...). */
const char *gentu_malformed_kind(unsigned variant);
json_t *gentu_patient_json(const gentu_patient *patient);
/* ListUser: {id, name, contact, active, shownInAppointmentBook}. */
json_t *gentu_practitioner_list_json(const gentu_practitioner *practitioner);
/* User: {id, address, contact, identifier, name}. */
json_t *gentu_user_json(const gentu_tenant *tenant, const gentu_practitioner *practitioner);
json_t *gentu_type_json(const gentu_type *type);
json_t *gentu_site_json(const gentu_site *site);

/* {"fault":{"faultstring":..,"detail":{"errorcode":..}}} (Apigee gateway errors). */
json_t *gentu_fault_json(const char *faultstring, const char *errorcode);

/* The 400 validation envelope, built issue by issue:
 * {"message":"Validation error","details":[{validation?, code, message, path:[...]}]}. */
json_t *gentu_validation_new(void);
/* Returns the issue (borrowed) so callers can add zod's extra keys ("expected", ...). */
json_t *gentu_validation_add(json_t *envelope, const char *validation, const char *code,
                             const char *message, const char *where, const char *field);
size_t gentu_validation_count(const json_t *envelope);

#endif
