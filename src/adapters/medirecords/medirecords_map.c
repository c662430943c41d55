/* Medirecords records to the unified model. Pure functions over parsed JSON: no I/O. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/medirecords/medirecords.h"
#include "pmsync/names.h"

int pms_medirecords_status(long code, pms_appt_status *out)
{
    switch (code) {
    case 2:
        *out = PMS_STATUS_BOOKED;
        return PMS_OK;
    case 3:
        *out = PMS_STATUS_CONFIRMED;
        return PMS_OK;
    case 4: /* waiting room */
        *out = PMS_STATUS_ARRIVED;
        return PMS_OK;
    case 5: /* with doctor */
        *out = PMS_STATUS_IN_PROGRESS;
        return PMS_OK;
    case 6: /* at billing */
    case 7:
        *out = PMS_STATUS_COMPLETED;
        return PMS_OK;
    case 8:
        *out = PMS_STATUS_CANCELLED;
        return PMS_OK;
    default:
        return PMS_ERR_PARSE;
    }
}

int pms_medirecords_known_interval(long code)
{
    switch (code) {
    case 2:
        return 5;
    case 4:
        return 10;
    case 6:
        return 15;
    case 7:
        return 20;
    default:
        return -1;
    }
}

/* Unit of a duration word: minutes per unit, or 0 when it is not a unit. */
static double unit_minutes(const char *word, size_t len)
{
    static const struct {
        const char *name;
        double minutes;
    } units[] = {
        {"m", 1},  {"min", 1}, {"mins", 1}, {"minute", 1}, {"minutes", 1},
        {"h", 60}, {"hr", 60}, {"hrs", 60}, {"hour", 60},  {"hours", 60},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == len && strncasecmp(word, units[i].name, len) == 0)
            return units[i].minutes;
    return 0;
}

int pms_medirecords_duration_text(const char *text)
{
    if (text == NULL)
        return -1;
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    int hh, mm;
    char tail;
    if (sscanf(p, "%d:%d%c", &hh, &mm, &tail) == 2 && hh >= 0 && mm >= 0 && mm < 60)
        return hh <= 24 && hh * 60 + mm <= 24 * 60 ? hh * 60 + mm : -1; /* as below: a day */
    double total = 0;
    bool any = false;
    while (*p) {
        char *end;
        double value = strtod(p, &end);
        if (end == p || !isfinite(value) || value < 0)
            return -1;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        const char *word = p;
        while (isalpha((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - word);
        double per = len == 0 ? 1 : unit_minutes(word, len); /* a bare number is minutes */
        if (per == 0)
            return -1;
        total += value * per;
        any = true;
        while (isspace((unsigned char)*p) || *p == ',')
            p++;
        if (len == 0 && *p) /* a bare number must be the whole text */
            return -1;
    }
    if (!any || total > 24 * 60)
        return -1;
    return (int)lround(total);
}

const json_t *pms_medirecords_items(const json_t *response)
{
    if (json_is_array(response))
        return response;
    const json_t *data = json_object_get(response, "data");
    if (json_is_array(data))
        return data;
    const json_t *content = json_object_get(response, "content");
    return json_is_array(content) ? content : NULL;
}

static bool integer_of(const json_t *v, long *out)
{
    if (json_is_integer(v)) {
        *out = (long)json_integer_value(v);
        return true;
    }
    if (json_is_string(v)) {
        char *end;
        long n = strtol(json_string_value(v), &end, 10);
        if (end != json_string_value(v) && *end == '\0') {
            *out = n;
            return true;
        }
    }
    return false;
}

json_t *pms_medirecords_interval_table(const json_t *response)
{
    json_t *table = json_object();
    const json_t *items = pms_medirecords_items(response);
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        long code;
        if (!integer_of(json_object_get(item, "code"), &code) &&
            !integer_of(json_object_get(item, "id"), &code) &&
            !integer_of(json_object_get(item, "key"), &code))
            continue;
        int minutes = -1;
        long number;
        const char *number_keys[] = {"minutes", "duration", "durationMinutes"};
        for (size_t k = 0; k < 3 && minutes < 0; k++)
            if (integer_of(json_object_get(item, number_keys[k]), &number) && number > 0)
                minutes = (int)number;
        const char *text_keys[] = {"value", "description", "display", "name", "duration"};
        for (size_t k = 0; k < 5 && minutes < 0; k++) {
            const json_t *v = json_object_get(item, text_keys[k]);
            if (json_is_string(v))
                minutes = pms_medirecords_duration_text(json_string_value(v));
        }
        if (minutes > 0) {
            char key[24];
            snprintf(key, sizeof key, "%ld", code);
            json_object_set_new(table, key, json_integer(minutes));
        }
    }
    return table;
}

/* A string member, NULL when absent or null; *bad set when present with another type. */
static const char *opt_string(const json_t *obj, const char *key, bool *bad)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

static const char *nonempty(const char *s)
{
    return s && s[0] ? s : NULL;
}

int pms_medirecords_map_patient(const json_t *patient, pms_phone_region region, pms_patient *out,
                                pms_error *err)
{
    memset(out, 0, sizeof *out);
    bool bad = false;
    const char *id = json_is_object(patient) ? opt_string(patient, "id", &bad) : NULL;
    if (id == NULL || bad)
        return pms_error_set(err, PMS_ERR_PARSE, "patient.id missing or not a string");
    const char *first = nonempty(opt_string(patient, "firstName", &bad));
    const char *last = nonempty(opt_string(patient, "lastName", &bad));
    const char *mobile = nonempty(opt_string(patient, "mobilePhone", &bad));
    const char *home = nonempty(opt_string(patient, "homePhone", &bad));
    const char *email = nonempty(opt_string(patient, "email", &bad));
    const char *dob = nonempty(opt_string(patient, "dob", &bad));
    out->pms_patient_id = strdup(id);
    out->first_name = pms_strdup_or_null(first);
    out->last_name = pms_strdup_or_null(last);
    out->full_name = pms_person_name_format(NULL, first, last);
    if (mobile || home)
        out->phone = pms_phone_normalize(mobile ? mobile : home, region);
    out->email = pms_strdup_or_null(email);
    /* dob may come as a date or a date-time */
    if (dob && strlen(dob) >= 10) {
        char day[11];
        memcpy(day, dob, 10);
        day[10] = '\0';
        out->has_date_of_birth = pms_date_parse(day, &out->date_of_birth, NULL) == PMS_OK;
    }
    if (out->pms_patient_id == NULL) {
        pms_patient_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int pms_medirecords_map_provider(const json_t *provider, pms_practitioner *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    bool bad = false;
    const char *id = json_is_object(provider) ? opt_string(provider, "id", &bad) : NULL;
    if (id == NULL || bad)
        return pms_error_set(err, PMS_ERR_PARSE, "provider.id missing or not a string");
    const char *title = nonempty(opt_string(provider, "title", &bad));
    const char *first = nonempty(opt_string(provider, "firstName", &bad));
    const char *last = nonempty(opt_string(provider, "lastName", &bad));
    out->id = strdup(id);
    out->prefix = pms_strdup_or_null(title);
    out->given = pms_strdup_or_null(first);
    out->family = pms_strdup_or_null(last);
    out->full_name = pms_person_name_format(title, first, last);
    const json_t *active = json_object_get(provider, "active");
    out->active = active == NULL || json_is_null(active) || json_is_true(active);
    out->bookable = true;
    if (out->id == NULL) {
        pms_practitioner_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int pms_medirecords_map_appt_type(const json_t *type, pms_appt_type *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    bool bad = false;
    const char *id = json_is_object(type) ? opt_string(type, "id", &bad) : NULL;
    if (id == NULL || bad)
        return pms_error_set(err, PMS_ERR_PARSE, "appointmentType.id missing or not a string");
    const char *name = nonempty(opt_string(type, "name", &bad));
    const json_t *duration = json_object_get(type, "duration");
    out->id = strdup(id);
    out->name = strdup(name ? name : id);
    out->colour = pms_strdup_or_null(nonempty(opt_string(type, "colour", &bad)));
    if (json_is_string(duration))
        out->duration_minutes = pms_medirecords_duration_text(json_string_value(duration));
    else if (json_is_integer(duration))
        out->duration_minutes = (int)json_integer_value(duration);
    if (out->duration_minutes < 0)
        out->duration_minutes = 0;
    /* Medirecords says itself which types are telehealth. */
    out->telehealth_auto_detected = true;
    out->is_telehealth = json_is_true(json_object_get(type, "telehealth"));
    if (out->id == NULL || out->name == NULL) {
        pms_appt_type_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

static medirecords_map_outcome invalid(pms_error *err, const char *reason)
{
    pms_error_set(err, PMS_ERR_PARSE, "%s", reason);
    return MEDIRECORDS_INVALID;
}

/* createdDateTime / updatedDateTime: "…+0000"; unreadable ones are simply not known. */
static pms_instant stamp(const json_t *appt, const char *key)
{
    const json_t *v = json_object_get(appt, key);
    pms_instant t;
    if (json_is_string(v) && pms_iso8601_parse(json_string_value(v), &t, NULL, NULL) == PMS_OK)
        return t;
    return PMS_INSTANT_NONE;
}

medirecords_map_outcome pms_medirecords_map_appointment(const json_t *appt,
                                                        const medirecords_map_context *ctx,
                                                        pms_appointment *out, const char **id_out,
                                                        pms_error *err)
{
    pms_appointment_init(out);
    if (id_out)
        *id_out = NULL;
    if (!json_is_object(appt))
        return invalid(err, "appointment is not an object");
    bool bad = false;
    const char *id = opt_string(appt, "id", &bad);
    if (id == NULL || bad || id[0] == '\0')
        return invalid(err, "id missing or not a string");
    if (id_out)
        *id_out = id;
    const char *schedule = opt_string(appt, "scheduleTime", &bad);
    const char *provider_id = opt_string(appt, "providerId", &bad);
    const char *patient_id = opt_string(appt, "patientId", &bad);
    const char *type_id = opt_string(appt, "appointmentTypeId", &bad);
    const char *notes = opt_string(appt, "notes", &bad);
    const char *referral = opt_string(appt, "referralId", &bad);
    const char *link_provider = nonempty(opt_string(appt, "telehealthLinkForProvider", &bad));
    const char *link_patient = nonempty(opt_string(appt, "telehealthLinkForPatient", &bad));
    if (bad)
        return invalid(err, "a text field (scheduleTime, providerId, patientId, "
                            "appointmentTypeId, notes, telehealth links) has the wrong type");
    pms_civil local;
    if (schedule == NULL || pms_iso8601_parse_local(schedule, &local, NULL) != PMS_OK)
        return invalid(err, "scheduleTime missing or not a local time (YYYY-MM-DDThh:mm)");
    const json_t *status_json = json_object_get(appt, "appointmentStatus");
    pms_appt_status status;
    if (!json_is_integer(status_json) ||
        pms_medirecords_status((long)json_integer_value(status_json), &status) != PMS_OK)
        return invalid(err, "appointmentStatus is not a known status code");
    if (provider_id == NULL)
        return invalid(err, "providerId missing");
    if (patient_id == NULL)
        return invalid(err, "patientId missing");

    const pms_appt_type *type = type_id && ctx->type ? ctx->type(ctx->lookup_ctx, type_id) : NULL;
    const json_t *code = json_object_get(appt, "appointmentIntervalCode");
    int minutes = -1;
    if (json_is_integer(code)) {
        minutes = ctx->interval_minutes
                      ? ctx->interval_minutes(ctx->lookup_ctx, (long)json_integer_value(code))
                      : pms_medirecords_known_interval((long)json_integer_value(code));
    } else if (code != NULL && !json_is_null(code)) {
        return invalid(err, "appointmentIntervalCode is not an integer");
    }
    if (minutes < 0 && type && type->duration_minutes > 0)
        minutes = type->duration_minutes;
    if (minutes < 0)
        return invalid(err, "appointmentIntervalCode unknown and the appointment type gives no "
                            "duration");

    /* scheduleTime has no offset: the practice's zone decides, by the documented policy for
     * times in a daylight-saving gap or overlap. */
    pms_instant start = pms_tz_from_local(ctx->tz, &local, NULL);
    out->start_time = start;
    out->end_time = start + (pms_instant)minutes * 60000;
    out->duration_minutes = minutes;
    out->status = status;
    out->is_telehealth = link_provider || link_patient ||
                         (type && type->telehealth_auto_detected && type->is_telehealth);
    out->telehealth_from_pms =
        link_provider || link_patient || (type && type->telehealth_auto_detected);
    out->pms_created_at = stamp(appt, "createdDateTime");
    out->pms_updated_at = stamp(appt, "updatedDateTime");
    out->fetched_at = ctx->fetched_at;
    out->raw_data = json_incref((json_t *)appt);
    if ((out->pms_type = strdup("medirecords")) == NULL ||
        (out->pms_appointment_id = strdup(id)) == NULL ||
        pms_str_set(&out->pms_connection_id, ctx->connection_id) ||
        pms_str_set(&out->timezone, ctx->timezone) ||
        pms_str_set(&out->appointment_type_id, type_id) ||
        pms_str_set(&out->appointment_type_name, type ? type->name : NULL) ||
        pms_str_set(&out->notes, notes) || pms_str_set(&out->referral_id, referral) ||
        pms_str_set(&out->telehealth_url_provider, link_provider) ||
        pms_str_set(&out->telehealth_url_patient, link_patient))
        goto nomem;

    const json_t *patient = ctx->patients ? json_object_get(ctx->patients, patient_id) : NULL;
    if (json_is_object(patient)) {
        if (pms_medirecords_map_patient(patient, ctx->phone_region, &out->patient, err) != PMS_OK) {
            pms_appointment_clear(out);
            return invalid(err, "patient record malformed");
        }
    } else if ((out->patient.pms_patient_id = strdup(patient_id)) == NULL) {
        goto nomem;
    }

    const json_t *provider = ctx->providers ? json_object_get(ctx->providers, provider_id) : NULL;
    pms_practitioner mapped = {0};
    if (json_is_object(provider) &&
        pms_medirecords_map_provider(provider, &mapped, NULL) == PMS_OK) {
        out->practitioner.pms_practitioner_id = mapped.id;
        out->practitioner.full_name = mapped.full_name;
        out->practitioner.first_name = mapped.given;
        out->practitioner.last_name = mapped.family;
        mapped.id = mapped.full_name = mapped.given = mapped.family = NULL;
        pms_practitioner_clear(&mapped);
    } else if ((out->practitioner.pms_practitioner_id = strdup(provider_id)) == NULL) {
        goto nomem;
    }
    return MEDIRECORDS_MAPPED;
nomem:
    pms_appointment_clear(out);
    pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return MEDIRECORDS_INVALID;
}
