/* Medirecords record mappers: one JSON record (or {"appointment", "patients", "providers"}) into
 * pms_medirecords_map_appointment with a Melbourne practice, the patient, provider and
 * appointment-type mappers over the same value, and the list and interval-code readers. */
#include <string.h>

#include "adapters/medirecords/medirecords.h"
#include "fuzz_common.h"

static const pms_tz *melbourne;

static int interval_minutes(void *ctx, long code)
{
    (void)ctx;
    return pms_medirecords_known_interval(code);
}

static const pms_appt_type *find_type(void *ctx, const char *type_id)
{
    (void)ctx;
    static const pms_appt_type tele = {
        .id = "tele-type", .name = "Telehealth", .duration_minutes = 15, .is_telehealth = true};
    return strcmp(type_id, tele.id) == 0 ? &tele : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (pms_tz_get("Australia/Melbourne", &melbourne, NULL) != PMS_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *input = fuzz_json(data, size);
    if (input == NULL)
        return 0;
    medirecords_map_context ctx = {
        .connection_id = "conn-fuzz-medirecords",
        .timezone = "Australia/Melbourne",
        .tz = melbourne,
        .phone_region = PMS_PHONE_AU,
        .fetched_at = 1775340000000,
        .patients = json_object_get(input, "patients"),
        .providers = json_object_get(input, "providers"),
        .interval_minutes = interval_minutes,
        .type = find_type,
    };
    const json_t *record = fuzz_record(input);
    pms_appointment a;
    pms_appointment_init(&a);
    pms_error err = {0};
    const char *id = NULL;
    fuzz_finish_appointment(&a, pms_medirecords_map_appointment(record, &ctx, &a, &id, &err) ==
                                    MEDIRECORDS_MAPPED);

    fuzz_map_catalog(record, PMS_PHONE_AU, pms_medirecords_map_patient,
                     pms_medirecords_map_provider, pms_medirecords_map_appt_type);

    /* A list response, an interval-code table, a duration written as text. */
    const json_t *items = pms_medirecords_items(input);
    (void)json_array_size(items);
    json_decref(pms_medirecords_interval_table(input));
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)record, key, value)
    {
        if (json_is_string(value))
            (void)pms_medirecords_duration_text(json_string_value(value));
    }
    if (json_is_string(input))
        (void)pms_medirecords_duration_text(json_string_value(input));
    json_decref(input);
    return 0;
}
