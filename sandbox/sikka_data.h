/* The Sikka dataset: offices (each an authorized practice with its app credentials) with
 * providers, operatories, patients and appointments, generated deterministically from the seed
 * (sikka_gen.c), plus the queue of writebacks (sikka_write.c).
 *
 * Sikka times have no zone: an appointment holds its local date and "HH:mm" in the practice's
 * zone; the instant is derived only for ground truth. Each practice keeps its appointments in an
 * sbx_book keyed by local wall time. Not thread-safe by itself: sikka.c guards the one live world
 * with a mutex. Strings are owned by the world unless the comment says "static".
 */
#ifndef SBX_SIKKA_DATA_H
#define SBX_SIKKA_DATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"
#include "config.h"
#include "pmsync/error.h"
#include "pmsync/time.h"
#include "pmsync/tz.h"
#include "prng.h"

#define SK_KEY_LEN   33 /* 32 alphanumeric characters and NUL */
#define SK_OPERATORY 4

typedef struct sk_provider {
    char id[12]; /* "DMD1", "HYG2" */
    char *first, *last;
    const char *type;      /* static: "Dentist", "Hygienist" */
    const char *specialty; /* static */
    bool active;
} sk_provider;

typedef struct sk_patient {
    char id[12]; /* "5383" */
    char *first, *last;
    pms_date birth;
    char cell[16];  /* "xxx-xxx-xxxx" */
    char email[96]; /* "" when none */
    int provider;   /* index */
} sk_patient;

typedef struct sk_appt {
    char id[12];      /* appointment_sr_no, numeric */
    int provider;     /* index */
    int patient;      /* index */
    int operatory;    /* 0..SK_OPERATORY-1 */
    pms_civil local;  /* date + time (minutes) */
    int length;       /* minutes */
    char *status;     /* the underlying PMS's word */
    const char *type; /* static: "General", "Virtual Consult", ... */
    char *description;
    char *note;
    pms_instant made, changed; /* appointment_made_date, last_changed_date */
} sk_appt;

typedef struct sk_practice {
    char app_id[24];
    char app_key[SK_KEY_LEN];
    char office_id[12]; /* "D36225" */
    char secret_key[SK_KEY_LEN];
    char refresh_key[SK_KEY_LEN]; /* issued with the first request key; "" before */
    const char *practice_id;      /* static: "1" */
    char *name;
    const char *city, *state, *zip; /* static */
    const pms_tz *tz;
    const char *pms_name; /* static: "Dentrix", "OrthoTrac", ... */
    bool has_slots;       /* the PMS serves appointments_available_slots */
    pms_date today;
    sk_provider *providers;
    size_t provider_count;
    sk_patient *patients;
    size_t patient_count;
    sbx_book book; /* sk_appt*, owned */
    long next_sr_no;
} sk_practice;

typedef struct sk_writeback {
    long id;
    size_t practice;
    const char *method; /* static: "POST", "PUT", "PATCH" */
    char api[24];       /* "appointment", "appointments" */
    char sr_no[12];     /* the appointment written to (PUT, PATCH); "" for POST */
    json_t *body;
    pms_instant requested, due, completed;
    bool done, has_error;
    char result[200];
    char created_id[12];
} sk_writeback;

typedef struct sk_world {
    sk_practice *practices;
    size_t practice_count;
    sbx_dataset_config config;
    sbx_prng mutation_prng;
    sk_writeback *writebacks;
    size_t writeback_count, writeback_cap;
    long next_writeback;
} sk_world;

int sk_world_generate(const sbx_dataset_config *cfg, sk_world **out, pms_error *err);
void sk_world_free(sk_world *world);

sk_practice *sk_find_office(const sk_world *w, const char *office_id);
sk_practice *sk_find_app(const sk_world *w, const char *app_id, const char *app_key);
int sk_find_provider(const sk_practice *p, const char *id);
int sk_find_patient(const sk_practice *p, const char *id);
/* "OP1".. as an index, or -1. */
int sk_find_operatory(const char *name);
const char *sk_operatory_name(int index);
sk_appt *sk_find_appt(const sk_practice *p, const char *sr_no);

int64_t sk_local_key(const pms_civil *local);
int sk_appt_insert(sk_practice *p, sk_appt *a, pms_error *err);
void sk_appt_unlink(sk_practice *p, sk_appt *a);
void sk_appt_free(sk_appt *a);
/* A new appointment with the next sr_no of the practice (not inserted). */
sk_appt *sk_appt_new(sk_practice *p);

/* The status words the simulated PMSs use, and their unified meaning (truth.h's numbering,
 * -1 for a word the adapter does not know: it reads it as booked). */
int sk_status_unified(const char *word);
/* The appointment types; telehealth ones are named so (Virtual Consult, Teledentistry). */
extern const char *const sk_types[];
extern const size_t sk_type_count;

#endif
