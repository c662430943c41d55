/* Sikka record mappers: one appointment item (or {"appointment", "patients", "providers"}) into
 * pms_sikka_map_appointment with a New York practice (a session holds its telehealth types),
 * and the patient and provider mappers over the same value. */
#include <string.h>

#include "adapters/sikka/sikka.h"
#include "fuzz_common.h"

static const pms_tz *new_york;
static pms_session *session;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const telehealth[] = {"Telehealth", "Video Consult"};
    pms_session_config cfg = {
        .connection_id = "conn-fuzz-sikka",
        .timezone = "America/New_York",
        .telehealth_type_ids = telehealth,
        .telehealth_type_count = 2,
    };
    if (pms_tz_get("America/New_York", &new_york, NULL) != PMS_OK ||
        pms_session_open(&pms_sikka_adapter, &cfg, &session, NULL) != PMS_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *input = fuzz_json(data, size);
    if (input == NULL)
        return 0;
    sikka_map_context ctx = {
        .connection_id = "conn-fuzz-sikka",
        .timezone = "America/New_York",
        .tz = new_york,
        .phone_region = PMS_PHONE_US,
        .fetched_at = 1775340000000,
        .patients = json_object_get(input, "patients"),
        .providers = json_object_get(input, "providers"),
        .session = session,
    };
    const json_t *record = fuzz_record(input);
    pms_appointment a;
    pms_appointment_init(&a);
    pms_error err = {0};
    const char *id = NULL;
    fuzz_finish_appointment(&a, pms_sikka_map_appointment(record, &ctx, &a, &id, &err) == PMS_OK);

    fuzz_map_catalog(record, PMS_PHONE_US, pms_sikka_map_patient, pms_sikka_map_provider, NULL);
    pms_civil local;
    (void)pms_sikka_local_time(json_string_value(json_object_get(record, "date")),
                               json_string_value(json_object_get(record, "time")), &local);
    long n;
    (void)pms_sikka_number(json_object_get(record, "length"), &n);
    json_decref(input);
    return 0;
}
