/* Halaxy (FHIR) record mappers: one Appointment (or {"appointment", "resources"}, resources
 * keyed "Type/id") into pms_halaxy_map_appointment with a Melbourne practice; the reference,
 * patient, practitioner, role and service readers over the same value. */
#include <string.h>

#include "adapters/halaxy/halaxy.h"
#include "fuzz_common.h"

static const char *type_name(void *ctx, const char *type_id)
{
    (void)ctx;
    return strcmp(type_id, "101") == 0 ? "Telehealth consult" : NULL;
}

static bool type_is_telehealth(void *ctx, const char *type_id)
{
    (void)ctx;
    return strcmp(type_id, "101") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *input = fuzz_json(data, size);
    if (input == NULL)
        return 0;
    halaxy_map_context ctx = {
        .connection_id = "conn-fuzz-halaxy",
        .timezone = "Australia/Melbourne",
        .phone_region = PMS_PHONE_AU,
        .fetched_at = 1775340000000,
        .resources = json_object_get(input, "resources"),
        .type_name = type_name,
        .type_is_telehealth = type_is_telehealth,
    };
    const json_t *record = fuzz_record(input);
    pms_appointment a;
    pms_appointment_init(&a);
    pms_error err = {0};
    const char *id = NULL;
    fuzz_finish_appointment(&a, pms_halaxy_map_appointment(record, &ctx, &a, &id, &err) ==
                                    HALAXY_MAPPED);

    halaxy_appt_refs refs;
    (void)pms_halaxy_appointment_refs(record, &refs, &err);
    (void)pms_halaxy_location_type(record);
    halaxy_ref ref;
    char key[HALAXY_KEY_LEN];
    if (pms_halaxy_role_practitioner(record, &ref) == PMS_OK)
        pms_halaxy_ref_key(&ref, key);
    if (json_is_string(input) &&
        pms_halaxy_parse_reference(json_string_value(input), &ref) == PMS_OK)
        pms_halaxy_ref_key(&ref, key);
    pms_appt_status status;
    if (json_is_string(input))
        (void)pms_halaxy_status(json_string_value(input), &status);

    fuzz_map_catalog(record, PMS_PHONE_AU, pms_halaxy_map_patient, pms_halaxy_map_practitioner,
                     pms_halaxy_map_service);
    (void)pms_halaxy_entry_resource(record, "Appointment");
    json_decref(input);
    return 0;
}
