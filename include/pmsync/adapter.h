/* The adapter interface: one const ops struct per PMS.
 *
 * An adapter contains everything particular to one PMS (auth flow, paths, paging, record
 * mapping, telehealth detection, error envelopes). Nothing outside src/adapters/ knows which
 * PMS it talks to. A NULL operation means "not supported by this PMS": call operations through
 * the pms_adapter_* wrappers below, which answer PMS_ERR_NOT_SUPPORTED with a clear message.
 *
 * Operations run inside a pms_session (session.h), which holds the connection's settings,
 * the HTTP pipeline (rate limit, retry, token) and the adapter's private state.
 */
#ifndef PMSYNC_ADAPTER_H
#define PMSYNC_ADAPTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pmsync/error.h"
#include "pmsync/model.h"
#include "pmsync/time.h"

typedef struct pms_session pms_session;
struct pms_http_response;

/* What an adapter can do; derived from its non-NULL operations plus declared traits. */
typedef enum pms_capability {
    PMS_CAP_PAIRING = 1u << 0,            /* connects with a pairing code */
    PMS_CAP_APPOINTMENTS = 1u << 1,       /* reads appointments */
    PMS_CAP_PATIENT_FETCH = 1u << 2,      /* reads one patient */
    PMS_CAP_FIND_SLOTS = 1u << 3,         /* availability */
    PMS_CAP_BOOK = 1u << 4,               /* creates appointments */
    PMS_CAP_RESCHEDULE = 1u << 5,         /* moves appointments */
    PMS_CAP_CANCEL = 1u << 6,             /* cancels appointments */
    PMS_CAP_PATIENT_SEARCH = 1u << 7,     /* finds patients */
    PMS_CAP_PATIENT_CREATE = 1u << 8,     /* creates patients */
    PMS_CAP_TELEHEALTH_BY_TYPE = 1u << 9, /* user marks which appointment types are telehealth */
    PMS_CAP_TELEHEALTH_AUTO = 1u << 10,   /* the PMS data says which appointments are telehealth */
    PMS_CAP_PRACTITIONER_FILTER = 1u << 11, /* appointments are fetched per practitioner */
    PMS_CAP_WRITE_STATUS = 1u << 12,        /* writes may answer pending and be followed */
    PMS_CAP_APPOINTMENT_FETCH = 1u << 13,   /* reads one appointment */
    PMS_CAP_INCREMENTAL = 1u << 14,         /* a trait: fetches honour changed_since */
} pms_capability;

/* A setting an adapter needs on its connections (one generic form sets any PMS). */
typedef struct pms_setting_def {
    const char *key;   /* "client_id" */
    const char *label; /* "Client ID" */
    const char *help;  /* where the clinic finds it */
    bool required;
    bool secret;               /* stored encrypted, never returned or printed */
    const char *default_value; /* NULL when none */
} pms_setting_def;

/* A minted access token. */
typedef struct pms_auth_result {
    char *access_token;
    char *refresh_token;    /* NULL when the PMS issues none */
    pms_instant expires_at; /* when the token really stops working (capped where the PMS says
                               more than it means); the token cache renews ahead of it */
} pms_auth_result;
void pms_auth_result_clear(pms_auth_result *r);

/* The practice behind a connection, as the PMS describes it. */
typedef struct pms_practice_info {
    char *external_id; /* Gentu tenantId, Medirecords practice id ... */
    char *name;        /* the practice's name in the PMS */
    char *timezone;    /* IANA zone, NULL when the PMS does not say */
} pms_practice_info;
void pms_practice_info_clear(pms_practice_info *p);

typedef struct pms_health {
    bool ok;
    long latency_ms;
    char message[256];
} pms_health;

/* Which appointments to fetch. */
typedef struct pms_fetch_options {
    pms_instant from;                    /* inclusive */
    pms_instant to;                      /* exclusive */
    pms_date first_day, last_day;        /* the window's local dates, inclusive */
    const char *const *practitioner_ids; /* NULL: every practitioner the adapter can see */
    size_t practitioner_count;
    bool telehealth_only; /* a hint: the adapter may filter early; the engine filters anyway */
    /* a hint: the caller needs no patient details (a count, a check), so patients not already
     * in the PMS's answer need not be read; appointments then carry the patient's id alone */
    bool without_patients;
    int page_size; /* 0: the adapter's default */
    /* Only appointments the PMS changed at or after this instant (and that start in the
     * window): an incremental read. PMS_INSTANT_NONE, or 0 as a zeroed struct leaves it, means
     * a full sweep of the window. Honoured by adapters with PMS_CAP_INCREMENTAL; the engine sets
     * it for no other. */
    pms_instant changed_since;
} pms_fetch_options;

/* Where fetched appointments go. Calls are serialised by the session, even when the adapter
 * fetches in parallel. */
typedef struct pms_batch_sink {
    /* A batch of mapped appointments. The adapter clears the items after the call returns;
     * the sink may take an item's contents, leaving it as pms_appointment_init leaves it.
     * A non-zero return stops the fetch with that error. */
    int (*batch)(void *ctx, pms_appointment *items, size_t count, pms_error *err);
    /* A record that could not be mapped: its id when known (else NULL) and a reason naming the
     * field, never its value. */
    void (*invalid)(void *ctx, const char *pms_appointment_id, const char *reason);
    /* A record that is well formed but is not a patient appointment (a meeting, a blocker):
     * counted as skipped, not as an error. */
    void (*skipped)(void *ctx, const char *pms_appointment_id, const char *reason);
    void *ctx;
} pms_batch_sink;

/* Write-back shapes. */
typedef struct pms_slot_query {
    const char *practitioner_id; /* NULL: any */
    const char *appointment_type_id;
    pms_instant from, to;
    int duration_minutes;
} pms_slot_query;

typedef struct pms_slot {
    char *practitioner_id;
    pms_instant start, end;
} pms_slot;

typedef struct pms_slot_list {
    pms_slot *items;
    size_t count;
} pms_slot_list;
void pms_slot_list_clear(pms_slot_list *list);

typedef struct pms_booking_request {
    const char *patient_id;
    const char *practitioner_id;
    const char *appointment_type_id;
    pms_instant start;
    int duration_minutes;
    const char *notes;
} pms_booking_request;

typedef enum pms_write_state {
    PMS_WRITE_CONFIRMED = 0,
    PMS_WRITE_PENDING,
    PMS_WRITE_FAILED,
} pms_write_state;

typedef struct pms_write_result {
    pms_write_state state;
    char *pms_appointment_id; /* when known */
    char *tracking_id;        /* asynchronous writes: what to poll */
    char reason[256];         /* a sentence a person can hear when failed */
} pms_write_result;
void pms_write_result_clear(pms_write_result *r);

typedef struct pms_patient_query {
    const char *family_name;
    const char *given_name;
    const char *phone;
    const char *email;
    bool has_date_of_birth;
    pms_date date_of_birth;
} pms_patient_query;

typedef struct pms_patient_list {
    pms_patient *items;
    size_t count;
} pms_patient_list;
void pms_patient_list_clear(pms_patient_list *list);

/* Why a PMS lacks an operation, said to whoever asked for it. */
typedef struct pms_unsupported_note {
    unsigned capability; /* the PMS_CAP_* bit of the missing operation; 0 ends a list */
    const char *reason;  /* "its Bookings API cannot move an appointment" */
} pms_unsupported_note;

typedef struct pms_adapter_ops {
    int version;              /* PMS_ADAPTER_OPS_VERSION; grows like sqlite3_io_methods */
    const char *name;         /* "gentu" */
    const char *display_name; /* "Gentu (Magentus)" */
    const char *default_base_url;
    unsigned traits; /* PMS_CAP_TELEHEALTH_*, PMS_CAP_PRACTITIONER_FILTER, PMS_CAP_INCREMENTAL */
    const pms_setting_def *settings; /* terminated by an entry with key == NULL */
    int default_per_minute;          /* client-side rate limit defaults */
    int default_per_hour;
    size_t state_size; /* private per-session state, zeroed, freed by the session */

    /* Checks settings that depend on each other (the declared required/secret flags are checked
     * generically). `settings` holds plain and secret values. NULL: nothing more to check. */
    int (*validate_settings)(const json_t *settings, pms_error *err);

    int (*session_init)(pms_session *s, pms_error *err);
    void (*session_cleanup)(pms_session *s);
    /* Turns a non-2xx response into a clear error (envelope parsing). NULL: generic text. */
    void (*describe_error)(const struct pms_http_response *resp, pms_error *err);
    /* True when a response means "the access token expired" although its status is not 401
     * (Halaxy's OperationOutcome "expired"). NULL: only 401 means that. */
    bool (*token_expired)(const struct pms_http_response *resp);

    /* authentication */
    int (*authenticate)(pms_session *s, pms_auth_result *out, pms_error *err);
    int (*refresh)(pms_session *s, const char *refresh_token, pms_auth_result *out, pms_error *err);
    int (*pair)(pms_session *s, const char *pairing_code, pms_practice_info *out, pms_error *err);
    int (*practice_info)(pms_session *s, pms_practice_info *out, pms_error *err);
    int (*validate)(pms_session *s, pms_error *err);
    int (*health_check)(pms_session *s, pms_health *out, pms_error *err);

    /* reads */
    int (*list_practitioners)(pms_session *s, pms_practitioner_list *out, pms_error *err);
    int (*list_appointment_types)(pms_session *s, pms_appt_type_list *out, pms_error *err);
    int (*fetch_appointments)(pms_session *s, const pms_fetch_options *opts,
                              const pms_batch_sink *sink, pms_error *err);
    int (*fetch_patient)(pms_session *s, const char *patient_id, pms_patient *out, pms_error *err);

    /* writes: each answers confirmed, pending (asynchronous PMSs: follow with write_status) or
     * failed with a reason a person can hear; an error return is a failure to ask at all (the
     * PMS did not take the write: a retry may succeed), with out->reason set when there is a
     * sentence for a person (Sikka's SPU offline) */
    int (*find_slots)(pms_session *s, const pms_slot_query *q, pms_slot_list *out, pms_error *err);
    int (*book)(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                pms_error *err);
    int (*reschedule)(pms_session *s, const char *appointment_id, pms_instant new_start,
                      int duration_minutes, pms_write_result *out, pms_error *err);
    int (*cancel)(pms_session *s, const char *appointment_id, const char *reason,
                  pms_write_result *out, pms_error *err);
    int (*search_patients)(pms_session *s, const pms_patient_query *q, pms_patient_list *out,
                           pms_error *err);
    int (*create_patient)(pms_session *s, const pms_patient *p, char **new_id, pms_error *err);

    /* ---- version 2 ---- */
    /* Follows a write that answered PMS_WRITE_PENDING, by its tracking_id: still pending,
     * confirmed (pms_appointment_id: the id the PMS gave, when it made one) or failed (reason). */
    int (*write_status)(pms_session *s, const char *tracking_id, pms_write_result *out,
                        pms_error *err);
    /* One appointment read from the PMS itself (PMS_ERR_NOT_FOUND when it has none). */
    int (*get_appointment)(pms_session *s, const char *appointment_id, pms_appointment *out,
                           pms_error *err);
    /* Reasons for operations left NULL, added to the PMS_ERR_NOT_SUPPORTED message (a list
     * ended by capability 0; NULL: none given). */
    const pms_unsupported_note *unsupported;
} pms_adapter_ops;

#define PMS_ADAPTER_OPS_VERSION 2

/* The registry of built-in adapters. */
const pms_adapter_ops *pms_adapter_find(const char *name);
/* Adds an adapter to the registry (for PMSs built outside this library, and tests). Not
 * thread-safe: call at start-up. */
int pms_adapter_register(const pms_adapter_ops *ops, pms_error *err);
/* NULL-terminated list of every adapter. */
const pms_adapter_ops *const *pms_adapter_all(void);
/* Capability bits of an adapter: its traits plus one bit per non-NULL operation. */
unsigned pms_adapter_capabilities(const pms_adapter_ops *ops);
/* Names of the capability bits set in caps, as a JSON array of strings. */
json_t *pms_capabilities_to_json(unsigned caps);
const pms_setting_def *pms_adapter_setting(const pms_adapter_ops *ops, const char *key);

/* Wrappers: PMS_ERR_NOT_SUPPORTED when the operation is NULL. */
int pms_adapter_authenticate(pms_session *s, pms_auth_result *out, pms_error *err);
int pms_adapter_pair(pms_session *s, const char *code, pms_practice_info *out, pms_error *err);
int pms_adapter_practice_info(pms_session *s, pms_practice_info *out, pms_error *err);
int pms_adapter_validate(pms_session *s, pms_error *err);
int pms_adapter_health_check(pms_session *s, pms_health *out, pms_error *err);
int pms_adapter_list_practitioners(pms_session *s, pms_practitioner_list *out, pms_error *err);
int pms_adapter_list_appointment_types(pms_session *s, pms_appt_type_list *out, pms_error *err);
int pms_adapter_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                   const pms_batch_sink *sink, pms_error *err);
int pms_adapter_fetch_patient(pms_session *s, const char *id, pms_patient *out, pms_error *err);
int pms_adapter_find_slots(pms_session *s, const pms_slot_query *q, pms_slot_list *out,
                           pms_error *err);
int pms_adapter_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                     pms_error *err);
int pms_adapter_reschedule(pms_session *s, const char *id, pms_instant start, int minutes,
                           pms_write_result *out, pms_error *err);
int pms_adapter_cancel(pms_session *s, const char *id, const char *reason, pms_write_result *out,
                       pms_error *err);
int pms_adapter_search_patients(pms_session *s, const pms_patient_query *q, pms_patient_list *out,
                                pms_error *err);
int pms_adapter_create_patient(pms_session *s, const pms_patient *p, char **new_id, pms_error *err);
int pms_adapter_write_status(pms_session *s, const char *tracking_id, pms_write_result *out,
                             pms_error *err);
int pms_adapter_get_appointment(pms_session *s, const char *id, pms_appointment *out,
                                pms_error *err);

#endif
