/* What the fuzz targets share: turning the input into JSON, and exercising a mapped record the
 * way the sync engine and the API use it. Header-only: each target is one program. */
#ifndef PMSYNC_FUZZ_COMMON_H
#define PMSYNC_FUZZ_COMMON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/model.h"
#include "pmsync/phone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Inputs larger than this are not interesting: they only slow the run down. */
#define FUZZ_MAX_INPUT (64 * 1024)

/* The input as any JSON value, or NULL. */
static inline json_t *fuzz_json(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return NULL;
    return json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

/* A mapper's input: either {"appointment": record, <context objects>} or the record alone. */
static inline const json_t *fuzz_record(const json_t *input)
{
    const json_t *appt = json_object_get(input, "appointment");
    return appt ? appt : input;
}

/* An appointment after its mapper: when mapped, through what the engine does with it (check,
 * hash, JSON both ways); then cleared either way. */
static inline void fuzz_finish_appointment(pms_appointment *a, bool mapped)
{
    if (mapped) {
        pms_error err = {0};
        char hash[65];
        (void)pms_appointment_validate(a, &err);
        pms_appointment_content_hash(a, hash);
        json_t *j = pms_appointment_to_json(a, true);
        if (j != NULL) {
            pms_appointment back;
            pms_appointment_init(&back);
            (void)pms_appointment_from_json(j, &back, &err);
            pms_appointment_clear(&back);
            free(json_dumps(j, JSON_COMPACT));
            json_decref(j);
        }
    }
    pms_appointment_clear(a);
}

/* An adapter's catalogue mappers (all share these shapes); NULL for one it does not have. */
typedef int (*fuzz_patient_mapper)(const json_t *, pms_phone_region, pms_patient *, pms_error *);
typedef int (*fuzz_practitioner_mapper)(const json_t *, pms_practitioner *, pms_error *);
typedef int (*fuzz_type_mapper)(const json_t *, pms_appt_type *, pms_error *);

/* The same record through the patient, practitioner and appointment-type mappers. */
static inline void fuzz_map_catalog(const json_t *record, pms_phone_region region,
                                    fuzz_patient_mapper patient,
                                    fuzz_practitioner_mapper practitioner, fuzz_type_mapper type)
{
    pms_error err = {0};
    pms_patient p = {0};
    (void)patient(record, region, &p, &err);
    pms_patient_clear(&p);
    pms_practitioner pr = {0};
    (void)practitioner(record, &pr, &err);
    pms_practitioner_clear(&pr);
    if (type != NULL) {
        pms_appt_type t = {0};
        (void)type(record, &t, &err);
        pms_appt_type_clear(&t);
    }
}

/* The input as a NUL-terminated string (malloc'ed; NULL when too large). */
static inline char *fuzz_text(const uint8_t *data, size_t size, size_t max)
{
    if (size > max)
        return NULL;
    char *text = malloc(size + 1);
    if (text != NULL) {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    return text;
}

#endif
