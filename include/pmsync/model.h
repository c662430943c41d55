/* The unified model: appointments, patients, practitioners and appointment types as every
 * adapter produces them, whatever the PMS. JSON uses the plan's camelCase field names
 * (see docs/model.md). Instants are UTC milliseconds; the practice's IANA zone travels with
 * each appointment in `timezone`.
 *
 * Ownership: every string and json_t inside a struct belongs to the struct and is released by
 * the matching *_clear function. Structs are plain values: zero-initialise, fill, clear.
 */
#ifndef PMSYNC_MODEL_H
#define PMSYNC_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pmsync/error.h"
#include "pmsync/time.h"

typedef enum pms_appt_status {
    PMS_STATUS_BOOKED = 0,
    PMS_STATUS_CONFIRMED,
    PMS_STATUS_ARRIVED,
    PMS_STATUS_IN_PROGRESS,
    PMS_STATUS_COMPLETED,
    PMS_STATUS_CANCELLED,
    PMS_STATUS_NO_SHOW,
} pms_appt_status;
#define PMS_STATUS_COUNT 7

/* "booked", "confirmed", "arrived", "in_progress", "completed", "cancelled", "no_show" */
const char *pms_appt_status_name(pms_appt_status status);
int pms_appt_status_parse(const char *name, pms_appt_status *out);

typedef struct pms_patient {
    char *pms_patient_id;
    char *full_name;
    char *first_name; /* optional */
    char *last_name;  /* optional */
    char *phone;      /* E.164 when it could be normalised, else as the PMS wrote it */
    char *email;
    bool has_date_of_birth;
    pms_date date_of_birth;
} pms_patient;

typedef struct pms_practitioner_ref {
    char *pms_practitioner_id;
    char *full_name;
    char *first_name;
    char *last_name;
} pms_practitioner_ref;

typedef struct pms_appointment {
    /* source identification */
    char *pms_type; /* "gentu", "medirecords", "halaxy", "sikka" */
    char *pms_appointment_id;
    char *pms_connection_id;
    /* time: UTC instants, with the practice's zone */
    pms_instant start_time;
    pms_instant end_time;
    int duration_minutes;
    char *timezone;
    /* classification */
    bool is_telehealth;
    /* Whether the PMS's own data decided is_telehealth (Medirecords: its telehealth links or
     * the type's telehealth flag; Halaxy: a location-type on the appointment), rather than the
     * practice's choice of telehealth types (Gentu always, Halaxy without a location-type). Not
     * shown on the run sheet, not in the JSON or the content hash. */
    bool telehealth_from_pms;
    char *appointment_type_name;
    char *appointment_type_id; /* optional */
    pms_appt_status status;
    /* people */
    pms_patient patient;
    pms_practitioner_ref practitioner;
    /* additional metadata (all optional) */
    char *notes;
    char *referral_id;
    char *telehealth_url_provider;
    char *telehealth_url_patient;
    char *location_name;
    pms_instant pms_created_at; /* PMS_INSTANT_NONE when the PMS gives none */
    pms_instant pms_updated_at;
    /* sync metadata */
    pms_instant fetched_at;
    json_t *raw_data; /* the PMS record as received; one reference owned. Never logged. */
} pms_appointment;

void pms_patient_clear(pms_patient *p);
void pms_practitioner_ref_clear(pms_practitioner_ref *p);
void pms_appointment_init(pms_appointment *a);
void pms_appointment_clear(pms_appointment *a);
/* Deep copy into a zero-initialised dst. */
int pms_appointment_copy(pms_appointment *dst, const pms_appointment *src, pms_error *err);

/* Checks what every stored appointment must have: an id, a start before or at the end, a zone,
 * a practitioner id. Fills err with the reason (field name, no values). */
int pms_appointment_validate(const pms_appointment *a, pms_error *err);

/* JSON in the plan's shape (every key present; absent optional values are null). With
 * include_raw, "rawData" is the appointment's own raw_data (one more reference, not a copy):
 * serialise the result, don't modify it. */
json_t *pms_appointment_to_json(const pms_appointment *a, bool include_raw);
int pms_appointment_from_json(const json_t *obj, pms_appointment *out, pms_error *err);

/* SHA-256 hex over the fields a run sheet shows (everything but fetchedAt and rawData), so an
 * unchanged record can be recognised and left alone. */
void pms_appointment_content_hash(const pms_appointment *a, char out[65]);

/* A practitioner as the PMS lists it. */
typedef struct pms_practitioner {
    char *id;
    char *prefix;
    char *given;
    char *family;
    char *full_name; /* "Dr John Smith" */
    bool active;
    bool bookable;   /* shown in the appointment book (Gentu's shownInAppointmentBook) */
    json_t *contact; /* array of {system, value, use}; may be NULL */
} pms_practitioner;

typedef struct pms_practitioner_list {
    pms_practitioner *items;
    size_t count;
} pms_practitioner_list;

void pms_practitioner_clear(pms_practitioner *p);
void pms_practitioner_list_clear(pms_practitioner_list *list);
/* Appends a zeroed element and returns it, or NULL when out of memory. */
pms_practitioner *pms_practitioner_list_push(pms_practitioner_list *list);
json_t *pms_practitioner_to_json(const pms_practitioner *p);

/* An appointment type as the PMS lists it. */
typedef struct pms_appt_type {
    char *id;
    char *name;
    int duration_minutes;          /* 0 when unknown */
    char *colour;                  /* "#RRGGBB" or NULL */
    bool telehealth_auto_detected; /* the PMS itself says it is telehealth */
    bool is_telehealth;            /* valid when telehealth_auto_detected */
} pms_appt_type;

typedef struct pms_appt_type_list {
    pms_appt_type *items;
    size_t count;
} pms_appt_type_list;

void pms_appt_type_clear(pms_appt_type *t);
void pms_appt_type_list_clear(pms_appt_type_list *list);
pms_appt_type *pms_appt_type_list_push(pms_appt_type_list *list);
/* Whether a type's name suggests a remote consultation ("Telehealth", "Video", "Phone"...):
 * a suggestion shown to the user, never applied without them. */
bool pms_appt_type_name_suggests_telehealth(const char *name);

/* JSON values for serialisers: a string or null, an instant ("…Z") or null. New references. */
json_t *pms_json_string_or_null(const char *s);
json_t *pms_json_instant_or_null(pms_instant t);

/* Small helpers shared by mappers. */
char *pms_strdup_or_null(const char *s);
/* Replaces *dst with a copy of src (NULL allowed); returns PMS_ERR_NOMEM on failure. */
int pms_str_set(char **dst, const char *src);

#endif
