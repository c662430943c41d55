/* The Gentu dataset: tenants (practices) with practitioners, patients, appointment types,
 * sites and appointments, generated deterministically from the seed (gentu_gen.c).
 *
 * Not thread-safe by itself: gentu.c guards the one live world with a read-write lock.
 * Appointments are kept per practitioner in (startAt, id) order, the order the API pages in,
 * and by id in a hash map. Strings in these structs are malloc'd and owned by the world unless
 * the comment says "static".
 */
#ifndef SBX_GENTU_DATA_H
#define SBX_GENTU_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "dataset.h"
#include "pmsync/error.h"
#include "pmsync/time.h"
#include "pmsync/tz.h"
#include "prng.h"
#include "strmap.h"

typedef enum gentu_status {
    GENTU_STATUS_NULL = -1, /* "status": null */
    GENTU_STATUS_NONE = 0,
    GENTU_STATUS_CONFIRMED,
    GENTU_STATUS_COMPLETED,
    GENTU_STATUS_IN_WAITING_ROOM,
    GENTU_STATUS_WITH_DOCTOR,
    GENTU_STATUS_INVOICED,
    GENTU_STATUS_CANCELLED,
    GENTU_STATUS_DID_NOT_ARRIVE,
    GENTU_STATUS_COUNT,
} gentu_status;

/* "confirmed", ... ; NULL for GENTU_STATUS_NULL. */
const char *gentu_status_name(gentu_status status);
bool gentu_status_parse(const char *name, gentu_status *out);

typedef struct gentu_practitioner {
    char id[SBX_UUID_LEN];
    char *family, *given, *prefix;
    char *email, *phone, *mobile;
    char hpii[17];           /* 16 digits */
    char provider_number[9]; /* "2426591T" */
    bool active;
    bool shown; /* shownInAppointmentBook */
} gentu_practitioner;

typedef struct gentu_patient {
    char id[SBX_UUID_LEN];
    char *family;
    char *given;                     /* first and middle names */
    char *first;                     /* extension firstname */
    char *middle;                    /* extension middlename; NULL when none */
    const char *prefix;              /* static; NULL when none */
    char *mobile, *landline, *email; /* NULL when none */
    pms_date birth_date;
    const char *gender;                    /* static; NULL when unknown */
    char *street;                          /* NULL: "address": null */
    const char *suburb, *state, *postcode; /* static */
    bool has_medicare;
    char medicare[11];
    int medicare_irn;
    char medicare_expiry[8]; /* "YYYY-MM" */
    char chart_number[12];
    bool email_enabled;
    int sms_enabled;               /* 1, 0, or -1 for null */
    const char *indigenous_status; /* static; NULL when not recorded */
    const char *occupation;        /* static; NULL when not recorded */
    const char *pronouns;          /* static; NULL when not recorded */
} gentu_patient;

typedef struct gentu_type {
    char id[SBX_UUID_LEN];
    const char *text;   /* static */
    int duration;       /* minutes; -1 for null */
    const char *colour; /* static "#RRGGBB"; NULL for null */
    bool online_bookable;
    bool telehealth; /* by name: what a practice would tick as telehealth */
    int weight;      /* share of generated appointments */
} gentu_type;

typedef struct gentu_site {
    char id[SBX_UUID_LEN];
    char *name;
} gentu_site;

typedef struct gentu_appt {
    char id[SBX_UUID_LEN];
    int practitioner; /* index into the tenant's practitioners */
    int patient;      /* index into the tenant's patients; -1 = no patient participant */
    int type;         /* index into the tenant's types; -1 = "appointmentType": null */
    int site;         /* index into the tenant's sites; -1 = no location participant */
    pms_instant start;
    int minutes;       /* the real length */
    bool end_null;     /* serve "endAt": null (minutesDuration still set) */
    bool minutes_null; /* serve "minutesDuration": null (endAt still set) */
    gentu_status status;
    pms_instant arrived_at;   /* PMS_INSTANT_NONE when not arrived */
    pms_instant cancelled_at; /* PMS_INSTANT_NONE unless cancelled */
    char *comment;            /* NULL = null */
    char *description;        /* NULL = null */
} gentu_appt;

/* One practitioner's appointments in (start, id) order. */
typedef struct gentu_schedule {
    gentu_appt **items;
    size_t count, capacity;
} gentu_schedule;

typedef enum gentu_access {
    GENTU_ACCESS_UNPAIRED = 0, /* the app never consumed the pairing code */
    GENTU_ACCESS_ENABLED,      /* paired: "tenantAccess":"enabled" */
    GENTU_ACCESS_DISABLED,     /* paired once, access revoked: "disabled" */
} gentu_access;

typedef struct gentu_tenant {
    char id[SBX_UUID_LEN];
    int number;
    char *name;
    const sbx_region *region; /* static */
    const pms_tz *tz;         /* shared, from tz.h */
    char pairing_code[9];
    gentu_access access;
    pms_date today; /* the practice's today the dataset was built around */
    gentu_practitioner *practitioners;
    gentu_schedule *schedules; /* one per practitioner */
    size_t practitioner_count;
    gentu_patient *patients;
    size_t patient_count;
    sbx_strmap patients_by_id; /* id -> gentu_patient* */
    gentu_type *types;
    size_t type_count;
    gentu_site sites[2];
    size_t site_count;
    sbx_strmap appts_by_id; /* id -> gentu_appt* (owned through the schedules) */
    size_t appt_count;
} gentu_tenant;

typedef struct gentu_world {
    gentu_tenant *tenants;
    size_t tenant_count;
    sbx_dataset_config config;
    sbx_prng mutation_prng; /* ids of appointments created through the control API */
} gentu_world;

/* Builds the world for the configuration. *out is owned by the caller (gentu_world_free). */
int gentu_world_generate(const sbx_dataset_config *cfg, gentu_world **out, pms_error *err);
void gentu_world_free(gentu_world *world);

gentu_tenant *gentu_find_tenant(const gentu_world *world, const char *tenant_id);
gentu_tenant *gentu_find_tenant_by_code(const gentu_world *world, const char *pairing_code);
/* Index of the practitioner, or -1. */
int gentu_find_practitioner(const gentu_tenant *tenant, const char *practitioner_id);
gentu_patient *gentu_find_patient(const gentu_tenant *tenant, const char *patient_id);
gentu_appt *gentu_find_appt(const gentu_tenant *tenant, const char *appt_id);
int gentu_find_type(const gentu_tenant *tenant, const char *type_id);

/* (start, id) order: negative, zero or positive. */
int gentu_appt_order(pms_instant a_start, const char *a_id, pms_instant b_start, const char *b_id);
/* Index of the first appointment at or after `start` (id NULL), or strictly after
 * (start, id) (id not NULL). */
size_t gentu_schedule_seek(const gentu_schedule *schedule, pms_instant start, const char *id);

/* Adds a new appointment (taking ownership) to its practitioner's schedule and the id map. */
int gentu_appt_insert(gentu_tenant *tenant, gentu_appt *appt, pms_error *err);
/* Unlinks an appointment from its schedule and the id map (not freed). */
void gentu_appt_unlink(gentu_tenant *tenant, gentu_appt *appt);
void gentu_appt_free(gentu_appt *appt);
/* Appends without keeping the order (generation), then gentu_schedule_sort once. */
int gentu_schedule_append(gentu_tenant *tenant, gentu_appt *appt, pms_error *err);
void gentu_schedule_sort(gentu_schedule *schedule);

/* Replaces *dst with a copy of src (NULL allowed); false when out of memory. */
bool gentu_set_string(char **dst, const char *src);

#endif
