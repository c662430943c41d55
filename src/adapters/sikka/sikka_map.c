/* Sikka records to the unified model. Pure functions over parsed JSON: no I/O. Every Sikka
 * value is a string; times are local wall-clock time in the practice's zone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/sikka/sikka.h"
#include "pmsync/names.h"

bool pms_sikka_status(const char *word, pms_appt_status *out)
{
    static const struct {
        const char *word;
        pms_appt_status status;
    } table[] = {
        {"open", PMS_STATUS_BOOKED},         {"scheduled", PMS_STATUS_BOOKED},
        {"unconfirmed", PMS_STATUS_BOOKED},  {"confirmed", PMS_STATUS_CONFIRMED},
        {"arrived", PMS_STATUS_ARRIVED},     {"here", PMS_STATUS_ARRIVED},
        {"seated", PMS_STATUS_ARRIVED},      {"complete", PMS_STATUS_COMPLETED},
        {"completed", PMS_STATUS_COMPLETED}, {"cancelled", PMS_STATUS_CANCELLED},
        {"canceled", PMS_STATUS_CANCELLED},  {"broken", PMS_STATUS_NO_SHOW},
        {"no show", PMS_STATUS_NO_SHOW},     {"no-show", PMS_STATUS_NO_SHOW},
        {"noshow", PMS_STATUS_NO_SHOW},
    };
    *out = PMS_STATUS_BOOKED;
    for (size_t i = 0; word && i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(table[i].word, word) == 0) {
            *out = table[i].status;
            return true;
        }
    return false;
}

bool pms_sikka_number(const json_t *v, long *out)
{
    const char *text = json_string_value(v);
    if (text == NULL || text[0] == '\0')
        return false;
    char *end;
    long n = strtol(text, &end, 10);
    if (*end != '\0')
        return false;
    *out = n;
    return true;
}

bool pms_sikka_local_time(const char *date, const char *time, pms_civil *out)
{
    if (date == NULL || time == NULL || strlen(date) < 10)
        return false;
    char day_text[11];
    memcpy(day_text, date, 10);
    day_text[10] = '\0';
    pms_date day;
    int hh, mm;
    char tail;
    if (pms_date_parse(day_text, &day, NULL) != PMS_OK ||
        sscanf(time, "%d:%d%c", &hh, &mm, &tail) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59)
        return false;
    *out = (pms_civil){day.year, day.month, day.day, hh, mm, 0, 0};
    return true;
}

static const char *str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v && v[0] ? v : NULL;
}

int pms_sikka_map_patient(const json_t *item, pms_phone_region region, pms_patient *out,
                          pms_error *err)
{
    memset(out, 0, sizeof *out);
    const char *id = str(item, "patient_id");
    if (id == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "patient_id missing");
    const char *first =
        str(item, "preferred_name") ? str(item, "preferred_name") : str(item, "firstname");
    const char *last = str(item, "lastname");
    const char *phone = str(item, "cell") ? str(item, "cell") : str(item, "phone");
    out->pms_patient_id = strdup(id);
    out->first_name = pms_strdup_or_null(str(item, "firstname"));
    out->last_name = pms_strdup_or_null(last);
    out->full_name = pms_person_name_format(NULL, first, last);
    if (phone)
        out->phone = pms_phone_normalize(phone, region);
    out->email = pms_strdup_or_null(str(item, "email"));
    const char *birth = str(item, "birthdate");
    if (birth && strlen(birth) >= 10) {
        char day[11];
        memcpy(day, birth, 10);
        day[10] = '\0';
        out->has_date_of_birth = pms_date_parse(day, &out->date_of_birth, NULL) == PMS_OK;
    }
    if (out->pms_patient_id == NULL) {
        pms_patient_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int pms_sikka_map_provider(const json_t *item, pms_practitioner *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    const char *id = str(item, "provider_id");
    if (id == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "provider_id missing");
    const char *first = str(item, "firstname"), *last = str(item, "lastname");
    const char *type = str(item, "provider_type");
    bool dentist = type && strcasecmp(type, "Dentist") == 0;
    out->id = strdup(id);
    out->prefix = pms_strdup_or_null(dentist ? "Dr" : NULL);
    out->given = pms_strdup_or_null(first);
    out->family = pms_strdup_or_null(last);
    out->full_name = pms_person_name_format(dentist ? "Dr" : NULL, first, last);
    const char *status = str(item, "status");
    const char *hidden = str(item, "is_hidden");
    out->active = status == NULL || strcasecmp(status, "Active") == 0;
    out->bookable = hidden == NULL || strcasecmp(hidden, "True") != 0;
    if (out->id == NULL) {
        pms_practitioner_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

/* "2026-04-05T10:30:00" in the practice's zone; PMS_INSTANT_NONE when unreadable. */
static pms_instant local_stamp(const pms_tz *tz, const char *text)
{
    pms_civil c;
    if (text == NULL || pms_iso8601_parse_local(text, &c, NULL) != PMS_OK)
        return PMS_INSTANT_NONE;
    return pms_tz_from_local(tz, &c, NULL);
}

int pms_sikka_map_appointment(const json_t *item, const sikka_map_context *ctx,
                              pms_appointment *out, const char **id_out, pms_error *err)
{
    pms_appointment_init(out);
    if (id_out)
        *id_out = NULL;
    if (!json_is_object(item))
        return pms_error_set(err, PMS_ERR_PARSE, "appointment is not an object");
    const char *id = str(item, "appointment_sr_no");
    if (id == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "appointment_sr_no missing");
    if (id_out)
        *id_out = id;
    pms_civil local;
    if (!pms_sikka_local_time(str(item, "date"), str(item, "time"), &local))
        return pms_error_set(err, PMS_ERR_PARSE, "date or time missing or unreadable");
    long minutes;
    if (!pms_sikka_number(json_object_get(item, "length"), &minutes) || minutes < 0 ||
        minutes > 24 * 60)
        return pms_error_set(err, PMS_ERR_PARSE, "length is not a number of minutes");
    const char *provider_id = str(item, "provider_id");
    const char *patient_id = str(item, "patient_id");
    if (provider_id == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "provider_id missing");
    if (patient_id == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "patient_id missing");
    const char *type = str(item, "type");
    pms_appt_status status;
    pms_sikka_status(str(item, "status"), &status); /* unknown words: booked, raw kept */

    pms_instant start = pms_tz_from_local(ctx->tz, &local, NULL);
    out->start_time = start;
    out->end_time = start + (pms_instant)minutes * 60000;
    out->duration_minutes = (int)minutes;
    out->status = status;
    out->is_telehealth = pms_session_type_is_telehealth(ctx->session, type);
    out->telehealth_from_pms = false;
    out->pms_created_at = local_stamp(ctx->tz, str(item, "appointment_made_date"));
    out->pms_updated_at = local_stamp(ctx->tz, str(item, "last_changed_date"));
    out->fetched_at = ctx->fetched_at;
    out->raw_data = json_incref((json_t *)item);
    if ((out->pms_type = strdup("sikka")) == NULL ||
        (out->pms_appointment_id = strdup(id)) == NULL ||
        pms_str_set(&out->pms_connection_id, ctx->connection_id) ||
        pms_str_set(&out->timezone, ctx->timezone) ||
        pms_str_set(&out->appointment_type_id, type) ||
        pms_str_set(&out->appointment_type_name, type) ||
        pms_str_set(&out->notes, str(item, "note")) ||
        pms_str_set(&out->location_name, str(item, "operatory")))
        goto nomem;
    const json_t *patient = ctx->patients ? json_object_get(ctx->patients, patient_id) : NULL;
    if (json_is_object(patient)) {
        if (pms_sikka_map_patient(patient, ctx->phone_region, &out->patient, err) != PMS_OK) {
            pms_appointment_clear(out);
            return pms_error_set(err, PMS_ERR_PARSE, "patient record malformed");
        }
    } else if ((out->patient.pms_patient_id = strdup(patient_id)) == NULL) {
        goto nomem;
    }
    const json_t *provider = ctx->providers ? json_object_get(ctx->providers, provider_id) : NULL;
    pms_practitioner mapped = {0};
    if (json_is_object(provider) && pms_sikka_map_provider(provider, &mapped, NULL) == PMS_OK) {
        out->practitioner.pms_practitioner_id = mapped.id;
        out->practitioner.full_name = mapped.full_name;
        out->practitioner.first_name = mapped.given;
        out->practitioner.last_name = mapped.family;
        mapped.id = mapped.full_name = mapped.given = mapped.family = NULL;
        pms_practitioner_clear(&mapped);
    } else if ((out->practitioner.pms_practitioner_id = strdup(provider_id)) == NULL) {
        goto nomem;
    }
    return PMS_OK;
nomem:
    pms_appointment_clear(out);
    return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}
