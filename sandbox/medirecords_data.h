/* The Medirecords dataset: practices with providers, appointment types, patients and
 * appointments, generated deterministically from the seed (medirecords_gen.c).
 *
 * Medirecords times have no offset, so an appointment holds its local wall-clock time
 * (scheduleTime); the instant is derived only for ground truth. Each practice keeps its
 * appointments in an sbx_book in (scheduleTime, id) order, the order the API pages in.
 *
 * Not thread-safe by itself: medirecords.c guards the one live world with a read-write lock.
 * Strings are malloc'd and owned by the world unless the comment says "static".
 */
#ifndef SBX_MEDIRECORDS_DATA_H
#define SBX_MEDIRECORDS_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"
#include "config.h"
#include "dataset.h"
#include "pmsync/error.h"
#include "pmsync/time.h"
#include "pmsync/tz.h"
#include "prng.h"
#include "strmap.h"

/* appointmentStatus codes (pms-api-notes §3.5). */
enum {
    MR_STATUS_BOOKED = 2,
    MR_STATUS_CONFIRMED = 3,
    MR_STATUS_WAITING_ROOM = 4,
    MR_STATUS_WITH_DOCTOR = 5,
    MR_STATUS_AT_BILLING = 6,
    MR_STATUS_COMPLETED = 7,
    MR_STATUS_CANCELLED = 8,
};
bool mr_status_valid(int status);

/* The appointment-interval-code table: 2 = 5, 4 = 10, 6 = 15 and 7 = 20 minutes are known; the
 * rest is the sandbox's invention (docs/sandbox.md). */
typedef struct mr_interval {
    int code;
    int minutes;
} mr_interval;
extern const mr_interval mr_intervals[];
extern const size_t mr_interval_count;
/* Minutes of a code, or -1 when the table lacks it. */
int mr_interval_minutes(int code);
/* The code of a length, or -1 when the table has none. */
int mr_interval_code(int minutes);
#define MR_INTERVAL_UNLISTED 99 /* a code the table lacks: clients fall back to the type */

#define MR_TOKEN_LEN 28 /* 27 characters and NUL, like the real static tokens */

typedef struct mr_provider {
    char id[SBX_UUID_LEN];
    const char *title; /* static: "Dr" */
    char *first, *last;
    bool active;
} mr_provider;

typedef struct mr_type {
    char id[SBX_UUID_LEN];
    const char *name;          /* static */
    const char *duration_text; /* static: "15 mins", "1 hr", ... */
    int minutes;
    const char *colour;      /* static */
    const char *description; /* static; NULL for null */
    int order;
    int active_status; /* 1 active, 2 inactive */
    bool community;
    bool telehealth;
    int weight; /* share of generated appointments */
} mr_type;

typedef struct mr_patient {
    char id[SBX_UUID_LEN];
    char *first, *middle, *last; /* middle NULL when none */
    int title_code;              /* 0 = null */
    int gender;                  /* 1 male, 2 female, 3 other, 9 not stated */
    pms_date dob;
    char *email, *mobile, *home;           /* NULL when none */
    char *street;                          /* NULL when none */
    const char *suburb, *state, *postcode; /* static */
    int usual_provider;                    /* index, -1 = null */
} mr_patient;

typedef struct mr_appt {
    char id[SBX_UUID_LEN];
    int provider;    /* index into the practice's providers */
    int patient;     /* index into the practice's patients */
    int type;        /* index into the practice's types */
    pms_civil local; /* scheduleTime (minutes; seconds and millis are 0) */
    int interval_code;
    int status;
    bool links;    /* telehealthLinkForProvider / ForPatient present */
    int room;      /* index into the practice's rooms, -1 = null */
    bool referral; /* referralId present */
    bool walk_in, first_available, email_reminder, confirmation_link;
    int urgency, reminder_method, reminder_type;
    char *notes;                /* NULL = null */
    char *cancellation_reason;  /* NULL = null */
    int created_by, updated_by; /* index into the practice's staff */
    pms_instant created, updated;
} mr_appt;

#define MR_ROOMS 3
#define MR_STAFF 4

typedef struct mr_practice {
    char id[SBX_UUID_LEN];
    char *name;
    const sbx_region *region; /* static */
    const pms_tz *tz;         /* shared, from tz.h */
    char token[MR_TOKEN_LEN];
    pms_date today;
    char phone[32], email[96], street[96];
    const char *suburb, *postcode; /* static */
    char abn[12];
    mr_provider *providers;
    size_t provider_count;
    mr_type *types;
    size_t type_count;
    mr_patient *patients;
    size_t patient_count;
    sbx_strmap patients_by_id; /* id -> mr_patient* */
    char rooms[MR_ROOMS][SBX_UUID_LEN];
    char staff[MR_STAFF][SBX_UUID_LEN]; /* createdBy / updatedBy users */
    sbx_book book;                      /* mr_appt*, owned, keyed by mr_appt_key */
} mr_practice;

typedef struct mr_world {
    mr_practice *practices;
    size_t practice_count;
    sbx_dataset_config config;
    sbx_prng mutation_prng; /* ids of appointments created through the control API */
} mr_world;

/* Builds the world. *out is owned by the caller (mr_world_free). */
int mr_world_generate(const sbx_dataset_config *cfg, mr_world **out, pms_error *err);
void mr_world_free(mr_world *world);

mr_practice *mr_find_practice(const mr_world *world, const char *practice_id);
/* The practice whose static token this is, or NULL. */
mr_practice *mr_find_practice_by_token(const mr_world *world, const char *token);
/* Indexes, or -1. */
int mr_find_provider(const mr_practice *practice, const char *provider_id);
int mr_find_type(const mr_practice *practice, const char *type_id);
mr_patient *mr_find_patient(const mr_practice *practice, const char *patient_id);
mr_appt *mr_find_appt(const mr_practice *practice, const char *appt_id);

/* The book key of a wall time: seconds since 1970-01-01T00:00 of that wall clock. */
int64_t mr_local_key(const pms_civil *local);
int64_t mr_appt_key(const mr_appt *appt);
/* The appointment's length: its interval code's, or its type's when the code is unlisted. */
int mr_appt_minutes(const mr_practice *practice, const mr_appt *appt);

/* Adds in order (taking ownership), or removes (not freed). */
int mr_appt_insert(mr_practice *practice, mr_appt *appt, pms_error *err);
void mr_appt_unlink(mr_practice *practice, mr_appt *appt);
void mr_appt_free(mr_appt *appt);

#endif
