/* Halaxy (FHIR R4B style) adapter. Internal to src/adapters/halaxy/.
 *
 * Appointments reference other resources (PractitionerRole, Patient, HealthcareService) by URL;
 * the adapter reads each referenced resource once per sync into a cache keyed "Type/id", then
 * maps appointments with pure functions that look resources up in that cache. */
#ifndef PMSYNC_ADAPTERS_HALAXY_H
#define PMSYNC_ADAPTERS_HALAXY_H

#include <jansson.h>
#include <pthread.h>

#include "pmsync/adapter.h"
#include "pmsync/http.h"
#include "pmsync/phone.h"
#include "pmsync/session.h"

extern const pms_adapter_ops pms_halaxy_adapter;

/* Per-session state (a session is one sync): every resource read during it, so each is fetched
 * at most once, failures included. */
typedef struct halaxy_state {
    pthread_mutex_t lock;
    json_t *resources; /* object: "Type/id" -> resource, or null when it could not be read */
    json_t *denied;    /* object: "Type" -> message, when Halaxy refused access to the type */
} halaxy_state;

/* ---- references ------------------------------------------------------------------------ */

#define HALAXY_TYPE_LEN 32 /* "HealthcareService" and the like, with NUL */
#define HALAXY_ID_LEN   65 /* FHIR ids: [A-Za-z0-9.-]{1,64}, with NUL */
#define HALAXY_KEY_LEN  (HALAXY_TYPE_LEN + HALAXY_ID_LEN)

/* A reference read as (resource type, id). */
typedef struct halaxy_ref {
    char type[HALAXY_TYPE_LEN];
    char id[HALAXY_ID_LEN];
} halaxy_ref;

/* Reads "https://au-api.halaxy.com/main/Patient/123", "/main/Patient/123" or "Patient/123"
 * (a trailing "/_history/N" is dropped) into ("Patient", "123") from the last two path
 * segments. PMS_ERR_PARSE for anything else (a bare id, a query, a fragment, a URN, a type that
 * is not a FHIR type name, an id that is not a FHIR id). */
int pms_halaxy_parse_reference(const char *reference, halaxy_ref *out);
/* "Type/id": the cache key of a reference. */
void pms_halaxy_ref_key(const halaxy_ref *ref, char key[HALAXY_KEY_LEN]);

/* What an appointment points at. */
typedef struct halaxy_appt_refs {
    bool has_patient, has_provider, has_service;
    halaxy_ref patient;  /* the first Patient participant */
    halaxy_ref provider; /* the first PractitionerRole (or Practitioner) participant */
    halaxy_ref service;  /* the first HealthcareService in supportingInformation */
    const json_t *patient_participant; /* borrowed from the appointment */
} halaxy_appt_refs;

/* Reads an appointment's references. PMS_ERR_PARSE (err names the field) when participant or
 * supportingInformation is malformed. */
int pms_halaxy_appointment_refs(const json_t *appt, halaxy_appt_refs *out, pms_error *err);
/* The Practitioner a PractitionerRole points at (practitioner.reference). PMS_ERR_PARSE when
 * missing or not a Practitioner reference. */
int pms_halaxy_role_practitioner(const json_t *role, halaxy_ref *out);

/* ---- record mapping (pure functions: no I/O) ---------------------------------------- */

typedef struct halaxy_map_context {
    const char *connection_id;
    const char *timezone;
    pms_phone_region phone_region;
    pms_instant fetched_at;
    /* object: "Type/id" -> resource, or null when it could not be read (may be NULL) */
    const json_t *resources;
    /* appointment type lookups (may be NULL) */
    const char *(*type_name)(void *ctx, const char *type_id);
    bool (*type_is_telehealth)(void *ctx, const char *type_id);
    void *lookup_ctx;
} halaxy_map_context;

typedef enum halaxy_map_outcome {
    HALAXY_MAPPED = 0, /* *out filled */
    HALAXY_SKIP,       /* not a patient appointment (meeting, blocker): counted as skipped */
    HALAXY_INVALID,    /* malformed: err says which field */
} halaxy_map_outcome;

/* Maps one Appointment resource. On HALAXY_SKIP / HALAXY_INVALID, err->message gives the reason
 * (field names only) and *id_out (when not NULL) the record's id if it had a readable one
 * (borrowed from appt). */
halaxy_map_outcome pms_halaxy_map_appointment(const json_t *appt, const halaxy_map_context *ctx,
                                              pms_appointment *out, const char **id_out,
                                              pms_error *err);
int pms_halaxy_map_patient(const json_t *patient, pms_phone_region region, pms_patient *out,
                           pms_error *err);
int pms_halaxy_map_practitioner(const json_t *practitioner, pms_practitioner *out, pms_error *err);
/* A HealthcareService as an appointment type (the practice marks telehealth ones). */
int pms_halaxy_map_service(const json_t *service, pms_appt_type *out, pms_error *err);
/* A participant status code ("booked", "cancelled (no charge)", ...) to the unified status;
 * PMS_ERR_PARSE when unknown. Case is ignored. */
int pms_halaxy_status(const char *code, pms_appt_status *out);
/* The location-type an appointment carries in supportingInformation: 1 remote (telehealth,
 * online, phone), 0 in person (clinic, organization), -1 none or not recognised. */
int pms_halaxy_location_type(const json_t *appt);

/* OperationOutcome and OAuth error bodies to one line. */
void pms_halaxy_describe_error(const pms_http_response *resp, pms_error *err);
/* An OperationOutcome whose issue[0].code is "expired", whatever the HTTP status. */
bool pms_halaxy_token_expired(const pms_http_response *resp);

/* ---- API operations ------------------------------------------------------------------ */

/* GET with the bearer token and Accept: application/fhir+json; *json set on success. */
int pms_halaxy_get(pms_session *s, pms_http_client *client, const char *url, json_t **json,
                   pms_error *err);

/* Called with each page of a Bundle search. */
typedef int (*halaxy_page_fn)(pms_session *s, pms_http_client *client, const json_t *bundle,
                              void *ctx, pms_error *err);
/* Reads a Bundle search from first_url and every page its link[relation=next].url leads to,
 * refusing a link to another host, a page seen before and an absurd number of pages. `what`
 * names the search in messages ("appointment search"). */
int pms_halaxy_walk_bundle(pms_session *s, pms_http_client *client, const char *first_url,
                           const char *what, halaxy_page_fn on_page, void *ctx, pms_error *err);
/* The resource of a Bundle entry when it is of the given type, else NULL (borrowed). */
const json_t *pms_halaxy_entry_resource(const json_t *entry, const char *type);

/* A referenced resource from the sync's cache, reading GET /main/{type}/{id} once when needed.
 * PMS_OK with *out (when not NULL) a new reference, or NULL when the record could not be read
 * (now or earlier in the sync: not found, malformed, a server error after retries; err then
 * says why). An error when the failure concerns more than this record: access refused for the
 * type (remembered: the type is not asked for again in this sync), rate limit, network,
 * cancellation. */
int pms_halaxy_resource_cached(pms_session *s, pms_http_client *client, const char *type,
                               const char *id, json_t **out, pms_error *err);
/* Adds resources read by a list (practitioners, services) to the cache. */
void pms_halaxy_cache_put(pms_session *s, const char *type, const char *id, json_t *resource);

int pms_halaxy_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                  const pms_batch_sink *sink, pms_error *err);
/* The mapping context of this session (zone, type lookups) over resources ("Type/id" ->
 * resource, borrowed). */
halaxy_map_context pms_halaxy_map_context_of(pms_session *s, const json_t *resources);

/* ---- writes ----------------------------------------------------------------------------- */
/* Free times from GET /main/Appointment/$find, per practice role (halaxy_slots.c). */
int pms_halaxy_find_slots(pms_session *s, const pms_slot_query *q, pms_slot_list *out,
                          pms_error *err);
/* The practice role (PR-…) to book a practitioner through: a role id is taken as it is, a
 * Practitioner id looked up with GET /main/PractitionerRole?practitioner=Practitioner/{id}.
 * PMS_ERR_NOT_FOUND when it has none. */
int pms_halaxy_practice_role(pms_session *s, const char *practitioner_id, char role[HALAXY_ID_LEN],
                             pms_error *err);
/* $book, cancel by the patient participant's status, one appointment read (halaxy_write.c). */
int pms_halaxy_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                    pms_error *err);
int pms_halaxy_cancel(pms_session *s, const char *id, const char *reason, pms_write_result *out,
                      pms_error *err);
int pms_halaxy_get_appointment(pms_session *s, const char *id, pms_appointment *out,
                               pms_error *err);
/* GET /main/Patient?family=&email=&phone= (halaxy_patients.c). */
int pms_halaxy_search_patients(pms_session *s, const pms_patient_query *q, pms_patient_list *out,
                               pms_error *err);

#endif
