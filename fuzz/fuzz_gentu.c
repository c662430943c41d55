/* Gentu record mappers: one JSON record (or {"appointment", "patients", "practitioners"}) into
 * pms_gentu_map_appointment with a Melbourne practice, and the patient, practitioner and
 * appointment-type mappers over the same value. */
#include <string.h>

#include "adapters/gentu/gentu.h"
#include "fuzz_common.h"

#define TELE_TYPE "5321237d-da31-406e-a9bf-eb1761ccf86b"

static const char *type_name(void *ctx, const char *type_id)
{
    (void)ctx;
    return strcmp(type_id, TELE_TYPE) == 0 ? "Telehealth consult" : NULL;
}

static int type_duration(void *ctx, const char *type_id)
{
    (void)ctx;
    return strcmp(type_id, TELE_TYPE) == 0 ? 15 : -1;
}

static bool type_is_telehealth(void *ctx, const char *type_id)
{
    (void)ctx;
    return strcmp(type_id, TELE_TYPE) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *input = fuzz_json(data, size);
    if (input == NULL)
        return 0;
    const json_t *swept = json_object_get(input, "swept");
    gentu_map_context ctx = {
        .connection_id = "conn-fuzz-gentu",
        .timezone = "Australia/Melbourne",
        .phone_region = PMS_PHONE_AU,
        .fetched_at = 1775340000000,
        .swept_practitioner_id = json_is_string(swept) ? json_string_value(swept) : NULL,
        .patients = json_object_get(input, "patients"),
        .practitioners = json_object_get(input, "practitioners"),
        .type_name = type_name,
        .type_duration = type_duration,
        .type_is_telehealth = type_is_telehealth,
    };
    const json_t *record = fuzz_record(input);
    pms_appointment a;
    pms_appointment_init(&a);
    pms_error err = {0};
    const char *id = NULL;
    fuzz_finish_appointment(&a,
                            pms_gentu_map_appointment(record, &ctx, &a, &id, &err) == GENTU_MAPPED);

    fuzz_map_catalog(record, PMS_PHONE_AU, pms_gentu_map_patient, pms_gentu_map_practitioner,
                     pms_gentu_map_appt_type);
    pms_appt_status status;
    (void)pms_gentu_status(json_string_value(json_object_get(record, "status")), &status);
    json_decref(input);
    return 0;
}
