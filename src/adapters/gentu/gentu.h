/* Gentu (Magentus) Healthcare API adapter. Internal to src/adapters/gentu/. */
#ifndef PMSYNC_ADAPTERS_GENTU_H
#define PMSYNC_ADAPTERS_GENTU_H

#include <jansson.h>
#include <pthread.h>

#include "pmsync/adapter.h"
#include "pmsync/http.h"
#include "adapters/read_once.h"
#include "pmsync/phone.h"
#include "pmsync/session.h"

extern const pms_adapter_ops pms_gentu_adapter;

/* Per-session state: patients seen during this sync, so each is fetched at most once. */
typedef struct gentu_state {
    pms_read_once patients;
} gentu_state;

/* ---- record mapping (pure functions: no I/O) ---------------------------------------- */

typedef struct gentu_map_context {
    const char *connection_id;
    const char *timezone;
    pms_phone_region phone_region;
    pms_instant fetched_at;
    const char *swept_practitioner_id; /* the practitioner whose appointments were asked for */
    const json_t *patients;            /* object: id -> Patient (may be NULL) */
    const json_t *practitioners;       /* object: id -> User (may be NULL) */
    /* appointment type lookups (may be NULL) */
    const char *(*type_name)(void *ctx, const char *type_id);
    int (*type_duration)(void *ctx, const char *type_id);
    bool (*type_is_telehealth)(void *ctx, const char *type_id);
    void *lookup_ctx;
} gentu_map_context;

typedef enum gentu_map_outcome {
    GENTU_MAPPED = 0, /* *out filled */
    GENTU_SKIP,       /* not a patient appointment: counted as skipped */
    GENTU_INVALID,    /* malformed: err says which field */
} gentu_map_outcome;

/* Maps one appointment object. On GENTU_SKIP / GENTU_INVALID, err->message gives the reason
 * (field names only) and *id_out (when not NULL) the record's id if it had a readable one
 * (borrowed from appt). */
gentu_map_outcome pms_gentu_map_appointment(const json_t *appt, const gentu_map_context *ctx,
                                            pms_appointment *out, const char **id_out,
                                            pms_error *err);
int pms_gentu_map_patient(const json_t *patient, pms_phone_region region, pms_patient *out,
                          pms_error *err);
int pms_gentu_map_practitioner(const json_t *user, pms_practitioner *out, pms_error *err);
int pms_gentu_map_appt_type(const json_t *type, pms_appt_type *out, pms_error *err);
/* Gentu status word (or NULL for JSON null) to the unified status; PMS_ERR_PARSE if unknown. */
int pms_gentu_status(const char *gentu_status, pms_appt_status *out);

/* Error envelopes (Apigee faults, validation errors, {message}) to a message. */
void pms_gentu_describe_error(const pms_http_response *resp, pms_error *err);

/* ---- API operations ------------------------------------------------------------------ */
int pms_gentu_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                 const pms_batch_sink *sink, pms_error *err);
int pms_gentu_list_practitioners(pms_session *s, pms_practitioner_list *out, pms_error *err);
/* A patient from the sync's cache, fetching it once when needed. Returns a new reference, or
 * NULL (with err) when it cannot be read. */
json_t *pms_gentu_patient_cached(pms_session *s, pms_http_client *client, const char *patient_id,
                                 pms_error *err);
/* The mapping context of this session (zone, type lookups); patients and practitioners NULL. */
gentu_map_context pms_gentu_map_context_of(pms_session *s);
/* "/v1/tenants/<tenantId>" + suffix, or NULL with err when the connection is not paired. */
char *pms_gentu_tenant_url(pms_session *s, const char *suffix, pms_error *err);

/* ---- writes (Bookings API) ------------------------------------------------------------ */
/* Free times from GET …/schedules: each schedule's availabilities cut into slots of the asked
 * length (gentu_slots.c). */
int pms_gentu_find_slots(pms_session *s, const pms_slot_query *q, pms_slot_list *out,
                         pms_error *err);
/* Appointments created with POST, cancelled with PATCH, read one at a time (gentu_write.c). */
int pms_gentu_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                   pms_error *err);
int pms_gentu_cancel(pms_session *s, const char *id, const char *reason, pms_write_result *out,
                     pms_error *err);
int pms_gentu_get_appointment(pms_session *s, const char *id, pms_appointment *out, pms_error *err);
/* Patients found with POST …/patients/list and created with POST …/patients
 * (gentu_patients.c). */
int pms_gentu_search_patients(pms_session *s, const pms_patient_query *q, pms_patient_list *out,
                              pms_error *err);
int pms_gentu_create_patient(pms_session *s, const pms_patient *p, char **new_id, pms_error *err);
/* The body of the cancel PATCH: the cancel_body setting, else {"action":"cancel"}. New
 * reference, or NULL when the setting is not a JSON object. */
json_t *pms_gentu_cancel_body(const char *setting);

#endif
