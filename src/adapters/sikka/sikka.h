/* Sikka API v4 adapter (US dental aggregator). Internal to src/adapters/sikka/. */
#ifndef PMSYNC_ADAPTERS_SIKKA_H
#define PMSYNC_ADAPTERS_SIKKA_H

#include <jansson.h>
#include <pthread.h>

#include "adapters/read_once.h"
#include "pmsync/adapter.h"
#include "pmsync/http.h"
#include "pmsync/phone.h"
#include "pmsync/session.h"
#include "pmsync/tz.h"

extern const pms_adapter_ops pms_sikka_adapter;

/* Per-session state: the practice as authorized_practices describes it, and patients read
 * during this sync (each at most once). */
typedef struct sikka_state {
    pthread_mutex_t lock; /* practice, unknown_statuses */
    json_t *practice;     /* the authorized_practices item, once read */
    pms_read_once patients;
    long unknown_statuses;
} sikka_state;

/* ---- transport (sikka_list.c) ---- */
/* base URL + path + "?" + query (query may be NULL). Caller frees. */
char *pms_sikka_url(pms_session *s, const char *path, const char *query);
/* GET with the request key; *page: the parsed body (NULL for 204). A Data-Insert of
 * "in progress" fails with a clear, retryable error. */
int pms_sikka_get(pms_session *s, pms_http_client *client, const char *url, json_t **page,
                  pms_error *err);
/* Every item of a list, page by page (offset is a page index), `limit` per page (0: the
 * page_size setting). *items: a new array. */
int pms_sikka_get_all(pms_session *s, pms_http_client *client, const char *path, const char *query,
                      long limit, json_t **items, pms_error *err);
/* Sends a JSON body (POST, PUT, PATCH) with the request key; *answer: the parsed answer. */
int pms_sikka_send(pms_session *s, const char *method, const char *url, const json_t *body,
                   json_t **answer, pms_error *err);
/* The practice's authorized_practices item (borrowed from the state). */
const json_t *pms_sikka_practice(pms_session *s, pms_error *err);
void pms_sikka_describe_error(const pms_http_response *resp, pms_error *err);
bool pms_sikka_token_expired(const pms_http_response *resp);

/* ---- mapping (sikka_map.c: pure functions) ---- */
/* The unified status of a Sikka status word; false for a word not known (then booked). */
bool pms_sikka_status(const char *word, pms_appt_status *out);
typedef struct sikka_map_context {
    const char *connection_id;
    const char *timezone;
    const pms_tz *tz;
    pms_phone_region phone_region;
    pms_instant fetched_at;
    const json_t *patients;     /* id -> patient item; may be NULL */
    const json_t *providers;    /* id -> provider item; may be NULL */
    const pms_session *session; /* telehealth types */
} sikka_map_context;
/* PMS_OK, or PMS_ERR_PARSE with a reason naming the field (*id_out: the id when known). */
int pms_sikka_map_appointment(const json_t *item, const sikka_map_context *ctx,
                              pms_appointment *out, const char **id_out, pms_error *err);
int pms_sikka_map_patient(const json_t *item, pms_phone_region region, pms_patient *out,
                          pms_error *err);
int pms_sikka_map_provider(const json_t *item, pms_practitioner *out, pms_error *err);
/* "2020-09-29T00:00:00" + "10:30" as a local wall time. */
bool pms_sikka_local_time(const char *date, const char *time, pms_civil *out);
/* A string value that is a whole number. */
bool pms_sikka_number(const json_t *v, long *out);

/* ---- reads (sikka_fetch.c) ---- */
int pms_sikka_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                 const pms_batch_sink *sink, pms_error *err);
int pms_sikka_fetch_patient(pms_session *s, const char *patient_id, pms_patient *out,
                            pms_error *err);
int pms_sikka_get_appointment(pms_session *s, const char *id, pms_appointment *out, pms_error *err);
int pms_sikka_search_patients(pms_session *s, const pms_patient_query *q, pms_patient_list *out,
                              pms_error *err);
/* Providers by id (a new object). */
int pms_sikka_providers(pms_session *s, json_t **by_id, pms_error *err);

/* ---- writes (sikka_write.c) ---- */
int pms_sikka_find_slots(pms_session *s, const pms_slot_query *q, pms_slot_list *out,
                         pms_error *err);
int pms_sikka_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                   pms_error *err);
int pms_sikka_reschedule(pms_session *s, const char *id, pms_instant start, int minutes,
                         pms_write_result *out, pms_error *err);
int pms_sikka_cancel(pms_session *s, const char *id, const char *reason, pms_write_result *out,
                     pms_error *err);
int pms_sikka_write_status(pms_session *s, const char *tracking_id, pms_write_result *out,
                           pms_error *err);

#endif
