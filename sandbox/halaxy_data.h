/* The Halaxy dataset: practices (each its own Halaxy account with its own API credentials)
 * with practitioners, their practitioner roles (PR- practice roles and some EP- external
 * roles), healthcare services, patients and appointments, generated deterministically from
 * the seed (halaxy_gen.c).
 *
 * Appointments hold an instant plus the UTC offset their start is written with: the zone's
 * offset at that instant, except for a wall time inside a spring-forward gap, which keeps the
 * offset before the change so the served text shows the gap time. Each practice keeps them in
 * an sbx_book in (start, id) order. Ids are numeric strings, unique across the world.
 *
 * Not thread-safe by itself: halaxy.c guards the one live world with a read-write lock.
 * Strings are malloc'd and owned by the world unless the comment says "static".
 */
#ifndef SBX_HALAXY_DATA_H
#define SBX_HALAXY_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "book.h"
#include "config.h"
#include "dataset.h"
#include "pmsync/error.h"
#include "pmsync/time.h"
#include "pmsync/tz.h"
#include "prng.h"
#include "strmap.h"

/* The patient participant's status codes (pms-api-notes §4.7). */
typedef enum hx_status {
    HX_STATUS_BOOKED = 0,
    HX_STATUS_TENTATIVE,
    HX_STATUS_CONFIRMED,
    HX_STATUS_ATTENDED,
    HX_STATUS_CANCELLED,
    HX_STATUS_CANCELLED_NO_CHARGE,
    HX_STATUS_DID_NOT_ATTEND,
    HX_STATUS_COUNT,
} hx_status;

/* "booked", "cancelled (no charge)", ... */
const char *hx_status_code(hx_status status);
bool hx_status_parse(const char *code, hx_status *out);

/* How an appointment is held (the location-type variant). */
typedef enum hx_location {
    HX_LOCATION_CLINIC = 0,
    HX_LOCATION_TELEHEALTH,
    HX_LOCATION_PHONE,
} hx_location;
const char *hx_location_code(hx_location location);
bool hx_location_parse(const char *code, hx_location *out);

#define HX_ID_LEN 16

typedef struct hx_practitioner {
    char id[HX_ID_LEN];
    char *family, *given;
    char *email, *phone;
    bool active;
} hx_practitioner;

typedef struct hx_role {
    char id[HX_ID_LEN]; /* "PR-1234567" or "EP-1234567" */
    int practitioner;   /* index */
    bool external;      /* EP- */
    bool active;
} hx_role;

typedef struct hx_service {
    char id[HX_ID_LEN];
    const char *name; /* static */
    int minutes;
    bool active;
    hx_location location; /* how its appointments are usually held */
    int weight;           /* share of generated appointments */
} hx_service;
/* Whether the name says telehealth: contains "Telehealth", "Video" or "Phone". */
bool hx_service_name_telehealth(const hx_service *service);

typedef struct hx_patient {
    char id[HX_ID_LEN];
    char *family, *given, *middle; /* middle NULL when none */
    pms_date birth_date;
    const char *gender;          /* static: male, female, other, unknown */
    char *mobile, *home, *email; /* NULL when none */
} hx_patient;

typedef struct hx_appt {
    char id[HX_ID_LEN];
    int role;    /* index into the practice's roles */
    int patient; /* index into the practice's patients; -1 = meeting or blocker */
    int service; /* index into the practice's services; -1 = none (meetings) */
    pms_instant start;
    int start_offset; /* seconds: the offset `start` is written with */
    int minutes;
    hx_status status; /* on the patient participant (none for meetings) */
    hx_location location;
    char invoice[HX_ID_LEN]; /* "" = no invoice extension */
    char *description;       /* NULL = absent */
    pms_instant created, updated;
    int version;
} hx_appt;

typedef struct hx_practice {
    char org_id[HX_ID_LEN];
    char *name;
    const sbx_region *region; /* static */
    const pms_tz *tz;         /* shared, from tz.h */
    char client_id[33];       /* 32 hex digits */
    char client_secret[41];   /* 40 letters and digits */
    pms_date today;
    char phone[32];
    hx_practitioner *practitioners;
    size_t practitioner_count;
    hx_role *roles;
    size_t role_count;
    hx_service *services;
    size_t service_count;
    hx_patient *patients;
    size_t patient_count;
    sbx_strmap patients_by_id; /* id -> hx_patient* */
    sbx_book book;             /* hx_appt*, owned, keyed by start */
} hx_practice;

typedef struct hx_world {
    hx_practice *practices;
    size_t practice_count;
    sbx_dataset_config config;
    sbx_prng mutation_prng; /* ids of appointments created through the control API */
} hx_world;

/* Builds the world. *out is owned by the caller (hx_world_free). */
int hx_world_generate(const sbx_dataset_config *cfg, hx_world **out, pms_error *err);
void hx_world_free(hx_world *world);

hx_practice *hx_find_practice(const hx_world *world, const char *client_id);
/* Indexes, or -1. */
int hx_find_practitioner(const hx_practice *practice, const char *id);
int hx_find_role(const hx_practice *practice, const char *id);
int hx_find_service(const hx_practice *practice, const char *id);
hx_patient *hx_find_patient(const hx_practice *practice, const char *id);
hx_appt *hx_find_appt(const hx_practice *practice, const char *id);
/* Whether any practice has an appointment with this id. */
bool hx_appt_id_taken(const hx_world *world, const char *id);
/* A fresh appointment id ("4" and 8 digits) from prng, not taken anywhere in the world. */
void hx_new_appt_id(const hx_world *world, sbx_prng *prng, char out[HX_ID_LEN]);

/* The offset a start is written with when given as a wall time: the one that makes the text
 * show that wall time (for a time in a gap, the offset before the change). */
int hx_wall_offset(const pms_civil *local, pms_instant start);

/* Adds in order (taking ownership), or removes (not freed). */
int hx_appt_insert(hx_practice *practice, hx_appt *appt, pms_error *err);
void hx_appt_unlink(hx_practice *practice, hx_appt *appt);
void hx_appt_free(hx_appt *appt);

#endif
