/* FHIR shapes of the Halaxy API (pms-api-notes §4): Appointment (status on the patient
 * participant's modifierExtension, references in the configured style), Practitioner,
 * PractitionerRole, Patient, HealthcareService, Organization, searchset Bundles with
 * self/next/last links, and OperationOutcome errors.
 *
 * Every function returning json_t* returns a new reference the caller owns. Callers hold the
 * world lock.
 */
#ifndef SBX_HALAXY_FHIR_H
#define SBX_HALAXY_FHIR_H

#include <jansson.h>

#include "config.h"
#include "halaxy_data.h"
#include "http.h"

#define HX_CONTENT_TYPE "application/fhir+json;charset=utf-8"

/* What shapes a resource beyond the data: where references point and the variants. */
typedef struct hx_ctx {
    const char *base_url; /* "http://127.0.0.1:PORT" */
    sbx_hx_reference_style style;
    bool location_type;
} hx_ctx;

/* "2026-03-02T09:00:00+11:00" */
void hx_format_time(pms_instant t, int offset_seconds, char buf[PMS_TIME_BUFLEN]);
/* "2026-03-01T22:14:05Z" */
void hx_format_utc(pms_instant t, char buf[PMS_TIME_BUFLEN]);
/* The absolute URL of Type/id (a Bundle entry's fullUrl). */
void hx_full_url(const hx_ctx *ctx, const char *type, const char *id, char *buf, size_t len);
/* {"reference": Type/id in the configured style, "type": Type}. With the mixed style, salt (the
 * id of the resource holding the reference) picks the form. */
json_t *hx_reference(const hx_ctx *ctx, const char *type, const char *id, const char *salt);
/* The id at the end of a reference in any form ("PR-1", "PractitionerRole/PR-1", "/main/...",
 * absolute URLs); NULL for NULL. Points into value. */
const char *hx_reference_id(const char *value);

json_t *hx_appt_json(const hx_ctx *ctx, const hx_practice *practice, const hx_appt *appt);
/* The appointment served malformed, one of several ways chosen by variant (stable per id). */
json_t *hx_appt_malformed_json(const hx_ctx *ctx, const hx_practice *practice, const hx_appt *appt,
                               unsigned variant);
/* What the variant breaks in this appointment, for ground truth. */
const char *hx_malformed_kind(const hx_appt *appt, unsigned variant);

json_t *hx_practitioner_json(const hx_practitioner *practitioner);
json_t *hx_role_json(const hx_ctx *ctx, const hx_practice *practice, const hx_role *role);
json_t *hx_patient_json(const hx_patient *patient);
json_t *hx_service_json(const hx_ctx *ctx, const hx_practice *practice, const hx_service *service);
json_t *hx_organization_json(const hx_practice *practice);

/* {"resourceType":"OperationOutcome","issue":[{"severity":"error","code","diagnostics"}]} */
json_t *hx_outcome(const char *code, const char *diagnostics);
void hx_respond_outcome(sbx_response *resp, int status, const char *code, const char *diagnostics);
/* A FHIR answer (application/fhir+json); takes ownership of body. */
void hx_respond(sbx_response *resp, int status, json_t *body);

/* A searchset Bundle with total and links for page (from 1) of `count` per page: self (the
 * request as received), next (only when more follow) and last. Entries go in with
 * hx_bundle_add; a Bundle without entries has no "entry" key (FHIR has no empty arrays). */
json_t *hx_bundle_new(const hx_ctx *ctx, const sbx_request *req, size_t page, size_t count,
                      size_t total);
void hx_bundle_add(const hx_ctx *ctx, json_t *bundle, const char *type, const char *id,
                   json_t *resource);

#endif
