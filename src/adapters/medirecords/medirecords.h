/* Medirecords REST API adapter. Internal to src/adapters/medirecords/. */
#ifndef PMSYNC_ADAPTERS_MEDIRECORDS_H
#define PMSYNC_ADAPTERS_MEDIRECORDS_H

#include <jansson.h>
#include <pthread.h>

#include "adapters/read_once.h"
#include "pmsync/adapter.h"
#include "pmsync/http.h"
#include "pmsync/phone.h"
#include "pmsync/session.h"
#include "pmsync/tz.h"

extern const pms_adapter_ops pms_medirecords_adapter;

/* Per-session state: patients and providers read during this sync (each at most once). */
typedef struct medirecords_state {
    pthread_mutex_t lock; /* the providers */
    pms_read_once patients;
    json_t *providers; /* id -> provider, when the practice has a provider list; else NULL */
    bool providers_loaded;
} medirecords_state;

/* ---- record mapping (pure functions: no I/O) ---------------------------------------- */

typedef struct medirecords_map_context {
    const char *connection_id;
    const char *timezone;
    const pms_tz *tz;
    pms_phone_region phone_region;
    pms_instant fetched_at;
    const json_t *patients;  /* id -> Patient (may be NULL) */
    const json_t *providers; /* id -> provider (may be NULL) */
    /* minutes of an appointmentIntervalCode, or -1 when unknown */
    int (*interval_minutes)(void *ctx, long code);
    /* a known appointment type, or NULL */
    const pms_appt_type *(*type)(void *ctx, const char *type_id);
    void *lookup_ctx;
} medirecords_map_context;

typedef enum medirecords_map_outcome {
    MEDIRECORDS_MAPPED = 0,
    MEDIRECORDS_INVALID, /* err names the field */
} medirecords_map_outcome;

medirecords_map_outcome pms_medirecords_map_appointment(const json_t *appt,
                                                        const medirecords_map_context *ctx,
                                                        pms_appointment *out, const char **id_out,
                                                        pms_error *err);
int pms_medirecords_map_patient(const json_t *patient, pms_phone_region region, pms_patient *out,
                                pms_error *err);
int pms_medirecords_map_provider(const json_t *provider, pms_practitioner *out, pms_error *err);
int pms_medirecords_map_appt_type(const json_t *type, pms_appt_type *out, pms_error *err);
/* Medirecords appointmentStatus code to the unified status; PMS_ERR_PARSE if unknown. */
int pms_medirecords_status(long code, pms_appt_status *out);
/* Minutes in a duration written as text: "15 mins", "30 min", "1 hr", "1.5 hrs", "4 hrs",
 * "90 minutes", "1 hour 30 minutes", "1h30m", "01:30", "45". -1 when unreadable. */
int pms_medirecords_duration_text(const char *text);
/* The interval-code table in any of the shapes seen or guessed (a bare array, {"data":[…]} or a
 * page envelope; items {code|id|key, value|description|display|minutes|duration}) as an object
 * "code" -> minutes. New reference; an empty object when nothing could be read. */
json_t *pms_medirecords_interval_table(const json_t *response);
/* The minutes of the four codes known from real integrations (2=5, 4=10, 6=15, 7=20), else -1. */
int pms_medirecords_known_interval(long code);
/* The items of a list response: a bare array, {"data":[…]} or a page envelope. Borrowed. */
const json_t *pms_medirecords_items(const json_t *response);

/* Error bodies ({message}, {error, error_description}, FHIR-ish) to a message. */
void pms_medirecords_describe_error(const pms_http_response *resp, pms_error *err);

/* ---- I/O ------------------------------------------------------------------------------ */
int pms_medirecords_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                       const pms_batch_sink *sink, pms_error *err);
/* The mapping context of this session (zone, lookups); patients left NULL. */
medirecords_map_context pms_medirecords_map_context_of(pms_session *s, const json_t *providers);
/* Writes (medirecords_write.c). */
int pms_medirecords_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                         pms_error *err);
int pms_medirecords_reschedule(pms_session *s, const char *id, pms_instant new_start,
                               int duration_minutes, pms_write_result *out, pms_error *err);
int pms_medirecords_cancel(pms_session *s, const char *id, const char *reason,
                           pms_write_result *out, pms_error *err);
int pms_medirecords_search_patients(pms_session *s, const pms_patient_query *q,
                                    pms_patient_list *out, pms_error *err);
int pms_medirecords_create_patient(pms_session *s, const pms_patient *p, char **new_id,
                                   pms_error *err);
int pms_medirecords_get_appointment(pms_session *s, const char *id, pms_appointment *out,
                                    pms_error *err);
/* "/v1/practices/<practiceId>" + suffix as a full URL, or NULL with err. */
char *pms_medirecords_practice_url(pms_session *s, const char *suffix, pms_error *err);
/* A patient read once per sync (threads needing the same one wait for the first reader).
 * New reference, or NULL with err. */
json_t *pms_medirecords_patient_cached(pms_session *s, pms_http_client *client, const char *id,
                                       pms_error *err);
/* The practice's providers (id -> provider) when a provider list is configured, read once per
 * sync; NULL (no error) when none is configured. Borrowed from the session state. */
const json_t *pms_medirecords_providers(pms_session *s, pms_error *err, int *rc);
/* Minutes of an interval code from the code system (read once per process and base URL),
 * falling back to the known values; -1 when unknown. */
int pms_medirecords_interval_lookup(pms_session *s, long code);
/* Makes sure the interval-code table of this base URL has been read (once per process). */
void pms_medirecords_load_interval_codes(pms_session *s);

#endif
