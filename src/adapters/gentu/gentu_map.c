/* Gentu records to the unified model. Pure functions over parsed JSON: no I/O, no logging. */
#include <stdlib.h>
#include <string.h>

#include "adapters/gentu/gentu.h"
#include "pmsync/names.h"
#include "pmsync/phone.h"

int pms_gentu_status(const char *gentu_status, pms_appt_status *out)
{
    static const struct {
        const char *gentu;
        pms_appt_status unified;
    } table[] = {
        {"none", PMS_STATUS_BOOKED},
        {"confirmed", PMS_STATUS_CONFIRMED},
        {"in_waiting_room", PMS_STATUS_ARRIVED},
        {"with_doctor", PMS_STATUS_IN_PROGRESS},
        {"completed", PMS_STATUS_COMPLETED},
        {"invoiced", PMS_STATUS_COMPLETED},
        {"cancelled", PMS_STATUS_CANCELLED},
        {"did_not_arrive", PMS_STATUS_NO_SHOW},
    };
    if (gentu_status == NULL) {
        *out = PMS_STATUS_BOOKED;
        return PMS_OK;
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].gentu, gentu_status) == 0) {
            *out = table[i].unified;
            return PMS_OK;
        }
    }
    return PMS_ERR_PARSE;
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

/* Gentu's name.given "includes middle names"; accept a string or an array of strings. */
static char *given_names(const json_t *name)
{
    const json_t *given = json_object_get(name, "given");
    if (json_is_string(given))
        return strdup(json_string_value(given));
    if (!json_is_array(given))
        return NULL;
    size_t total = 0, i;
    json_t *part;
    json_array_foreach(given, i, part)
    {
        if (json_is_string(part))
            total += json_string_length(part) + 1;
    }
    if (total == 0)
        return NULL;
    char *out = malloc(total);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    json_array_foreach(given, i, part)
    {
        if (!json_is_string(part))
            continue;
        if (out[0])
            strcat(out, " ");
        strcat(out, json_string_value(part));
    }
    return out;
}

static char *first_word(const char *s)
{
    if (s == NULL)
        return NULL;
    while (*s == ' ')
        s++;
    size_t n = strcspn(s, " ");
    return n ? strndup(s, n) : NULL;
}

/* The extension value for a system such as "firstname", or NULL. */
static const char *extension_string(const json_t *obj, const char *system)
{
    const json_t *ext = json_object_get(obj, "extension");
    size_t i;
    json_t *item;
    if (!json_is_array(ext))
        return NULL;
    json_array_foreach(ext, i, item)
    {
        const json_t *sys = json_object_get(item, "system");
        const json_t *val = json_object_get(item, "valueString");
        if (json_is_string(sys) && strcmp(json_string_value(sys), system) == 0 &&
            json_is_string(val))
            return json_string_value(val);
    }
    return NULL;
}

/* The best contact of a system: mobile first, then by rank, then first listed. */
static const char *best_contact(const json_t *obj, const char *system)
{
    const json_t *contact = json_object_get(obj, "contact");
    const char *best = NULL;
    int best_score = -1;
    size_t i;
    json_t *item;
    if (!json_is_array(contact))
        return NULL;
    json_array_foreach(contact, i, item)
    {
        const json_t *sys = json_object_get(item, "system");
        const json_t *val = json_object_get(item, "value");
        if (!json_is_string(sys) || strcmp(json_string_value(sys), system) != 0 ||
            !json_is_string(val) || json_string_length(val) == 0)
            continue;
        const json_t *use = json_object_get(item, "use");
        const json_t *rank = json_object_get(item, "rank");
        int score = 100;
        if (json_is_string(use) && strcmp(json_string_value(use), "mobile") == 0)
            score += 1000;
        if (json_is_integer(rank) && json_integer_value(rank) >= 0 &&
            json_integer_value(rank) < 100)
            score -= (int)json_integer_value(rank);
        if (score > best_score) {
            best_score = score;
            best = json_string_value(val);
        }
    }
    return best;
}

int pms_gentu_map_patient(const json_t *patient, pms_phone_region region, pms_patient *out,
                          pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(patient))
        return pms_error_set(err, PMS_ERR_PARSE, "patient is not an object");
    bool bad = false;
    const char *id = opt_string(patient, "id", &bad);
    if (id == NULL || bad)
        return pms_error_set(err, PMS_ERR_PARSE, "patient.id missing or not a string");
    const json_t *name = json_object_get(patient, "name");
    const char *family = json_is_object(name) ? opt_string(name, "family", &bad) : NULL;
    char *given = json_is_object(name) ? given_names(name) : NULL;
    const char *ext_first = extension_string(patient, "firstname");
    const char *birth = opt_string(patient, "birthDate", &bad);

    out->pms_patient_id = strdup(id);
    out->last_name = pms_strdup_or_null(family);
    out->first_name = ext_first ? strdup(ext_first) : first_word(given);
    out->full_name = pms_person_name_format(NULL, given, family);
    free(given);
    const char *phone = best_contact(patient, "phone");
    if (phone)
        out->phone = pms_phone_normalize(phone, region);
    const char *email = best_contact(patient, "email");
    out->email = pms_strdup_or_null(email);
    if (birth && pms_date_parse(birth, &out->date_of_birth, NULL) == PMS_OK)
        out->has_date_of_birth = true;
    if (out->pms_patient_id == NULL) {
        pms_patient_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int pms_gentu_map_practitioner(const json_t *user, pms_practitioner *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(user))
        return pms_error_set(err, PMS_ERR_PARSE, "practitioner is not an object");
    bool bad = false;
    const char *id = opt_string(user, "id", &bad);
    if (id == NULL || bad)
        return pms_error_set(err, PMS_ERR_PARSE, "practitioner.id missing or not a string");
    const json_t *name = json_object_get(user, "name");
    out->id = strdup(id);
    if (json_is_object(name)) {
        out->family = pms_strdup_or_null(opt_string(name, "family", &bad));
        out->prefix = pms_strdup_or_null(opt_string(name, "prefix", &bad));
        out->given = given_names(name);
    }
    out->full_name = pms_person_name_format(out->prefix, out->given, out->family);
    /* A missing flag counts as true: Gentu's list always sends both; a single User has none. */
    const json_t *active = json_object_get(user, "active");
    const json_t *shown = json_object_get(user, "shownInAppointmentBook");
    out->active = active == NULL || json_is_null(active) || json_is_true(active);
    out->bookable = shown == NULL || json_is_null(shown) || json_is_true(shown);
    const json_t *contact = json_object_get(user, "contact");
    if (json_is_array(contact))
        out->contact = json_incref((json_t *)contact);
    if (out->id == NULL || out->full_name == NULL) {
        pms_practitioner_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int pms_gentu_map_appt_type(const json_t *type, pms_appt_type *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(type))
        return pms_error_set(err, PMS_ERR_PARSE, "appointment type is not an object");
    bool bad = false;
    const char *id = opt_string(type, "id", &bad);
    const char *text = opt_string(type, "text", &bad);
    if (id == NULL || bad)
        return pms_error_set(err, PMS_ERR_PARSE, "appointmentType.id missing or not a string");
    const json_t *duration = json_object_get(type, "duration");
    out->id = strdup(id);
    out->name = strdup(text ? text : id);
    out->colour = pms_strdup_or_null(opt_string(type, "colour", &bad));
    if (json_is_integer(duration) && json_integer_value(duration) > 0 &&
        json_integer_value(duration) <= 24 * 60)
        out->duration_minutes = (int)json_integer_value(duration);
    else if (json_is_real(duration) && json_real_value(duration) > 0 &&
             json_real_value(duration) <= 24 * 60)
        out->duration_minutes = (int)json_real_value(duration);
    if (out->id == NULL || out->name == NULL) {
        pms_appt_type_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

/* The referenceId of the first participant of a type, or NULL; *bad on a malformed entry. */
static const char *participant_ref(const json_t *participants, const char *type, bool *bad)
{
    size_t i;
    json_t *p;
    json_array_foreach(participants, i, p)
    {
        if (!json_is_object(p)) {
            *bad = true;
            return NULL;
        }
        const json_t *rt = json_object_get(p, "referenceType");
        const json_t *rid = json_object_get(p, "referenceId");
        if (json_is_string(rt) && strcmp(json_string_value(rt), type) == 0) {
            if (!json_is_string(rid) || json_string_length(rid) == 0) {
                *bad = true;
                return NULL;
            }
            return json_string_value(rid);
        }
    }
    return NULL;
}

static gentu_map_outcome invalid(pms_error *err, const char *reason)
{
    pms_error_set(err, PMS_ERR_PARSE, "%s", reason);
    return GENTU_INVALID;
}

gentu_map_outcome pms_gentu_map_appointment(const json_t *appt, const gentu_map_context *ctx,
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

    const char *start_text = opt_string(appt, "startAt", &bad);
    const char *end_text = opt_string(appt, "endAt", &bad);
    const char *status_text = opt_string(appt, "status", &bad);
    const char *comment = opt_string(appt, "comment", &bad);
    const char *description = opt_string(appt, "description", &bad);
    if (bad)
        return invalid(err, "a text field (startAt, endAt, status, comment, description) has "
                            "the wrong type");
    pms_instant start, end = PMS_INSTANT_NONE;
    if (start_text == NULL || pms_iso8601_parse(start_text, &start, NULL, NULL) != PMS_OK)
        return invalid(err, "startAt missing or not an ISO 8601 time with offset");
    if (end_text && pms_iso8601_parse(end_text, &end, NULL, NULL) != PMS_OK)
        return invalid(err, "endAt is not an ISO 8601 time with offset");
    if (end != PMS_INSTANT_NONE && end < start)
        return invalid(err, "endAt is before startAt");

    const json_t *minutes = json_object_get(appt, "minutesDuration");
    int duration = -1;
    if (json_is_integer(minutes)) {
        if (json_integer_value(minutes) < 0 || json_integer_value(minutes) > 24 * 60)
            return invalid(err, "minutesDuration out of range");
        duration = (int)json_integer_value(minutes);
    } else if (minutes != NULL && !json_is_null(minutes)) {
        return invalid(err, "minutesDuration is not an integer");
    }

    pms_appt_status status;
    if (pms_gentu_status(status_text, &status) != PMS_OK)
        return invalid(err, "status is not a known Gentu status");

    const json_t *participants = json_object_get(appt, "participant");
    if (participants != NULL && !json_is_null(participants) && !json_is_array(participants))
        return invalid(err, "participant is not an array");
    const char *patient_id = NULL, *provider_id = NULL;
    if (json_is_array(participants)) {
        patient_id = participant_ref(participants, "patient", &bad);
        provider_id = participant_ref(participants, "provider", &bad);
        if (bad)
            return invalid(err, "participant entry malformed");
    }
    if (provider_id == NULL)
        provider_id = ctx->swept_practitioner_id;
    if (provider_id == NULL)
        return invalid(err, "no provider participant");
    if (patient_id == NULL) {
        pms_error_set(err, PMS_OK, "no patient participant (meeting or blocker)");
        return GENTU_SKIP;
    }

    const json_t *type = json_object_get(appt, "appointmentType");
    const char *type_id = NULL;
    if (json_is_object(type)) {
        type_id = opt_string(type, "reference", &bad);
        if (bad)
            return invalid(err, "appointmentType.reference is not a string");
    } else if (type != NULL && !json_is_null(type)) {
        return invalid(err, "appointmentType is not an object");
    }

    if (duration < 0 && end != PMS_INSTANT_NONE)
        duration = (int)((end - start) / 60000);
    if (duration < 0 && type_id && ctx->type_duration)
        duration = ctx->type_duration(ctx->lookup_ctx, type_id);
    if (duration < 0)
        duration = 0;
    if (end == PMS_INSTANT_NONE)
        end = start + (pms_instant)duration * 60000;

    const char *type_name =
        type_id && ctx->type_name ? ctx->type_name(ctx->lookup_ctx, type_id) : NULL;
    if (type_name == NULL)
        type_name = description;

    out->start_time = start;
    out->end_time = end;
    out->duration_minutes = duration;
    out->status = status;
    /* Gentu has no telehealth flag: the practice's telehealth types decide. */
    out->is_telehealth =
        type_id && ctx->type_is_telehealth && ctx->type_is_telehealth(ctx->lookup_ctx, type_id);
    out->telehealth_from_pms = false;
    out->fetched_at = ctx->fetched_at;
    out->raw_data = json_incref((json_t *)appt);
    bool oom = (out->pms_type = strdup("gentu")) == NULL ||
               (out->pms_appointment_id = strdup(id)) == NULL ||
               pms_str_set(&out->pms_connection_id, ctx->connection_id) ||
               pms_str_set(&out->timezone, ctx->timezone) ||
               pms_str_set(&out->appointment_type_id, type_id) ||
               pms_str_set(&out->appointment_type_name, type_name) ||
               pms_str_set(&out->notes, comment);
    if (oom)
        goto nomem;

    const json_t *patient = ctx->patients ? json_object_get(ctx->patients, patient_id) : NULL;
    if (json_is_object(patient)) {
        if (pms_gentu_map_patient(patient, ctx->phone_region, &out->patient, err) != PMS_OK) {
            pms_appointment_clear(out);
            return invalid(err, "included patient malformed");
        }
    } else if ((out->patient.pms_patient_id = strdup(patient_id)) == NULL) {
        goto nomem;
    }

    const json_t *user =
        ctx->practitioners ? json_object_get(ctx->practitioners, provider_id) : NULL;
    pms_practitioner mapped = {0};
    if (json_is_object(user) && pms_gentu_map_practitioner(user, &mapped, NULL) == PMS_OK) {
        /* given holds middle names too: the first name is its first word, as for patients */
        out->practitioner.first_name = first_word(mapped.given);
        out->practitioner.pms_practitioner_id = mapped.id;
        out->practitioner.full_name = mapped.full_name;
        out->practitioner.last_name = mapped.family;
        mapped.id = mapped.full_name = mapped.family = NULL;
        pms_practitioner_clear(&mapped);
    } else if ((out->practitioner.pms_practitioner_id = strdup(provider_id)) == NULL) {
        goto nomem;
    }
    return GENTU_MAPPED;
nomem:
    pms_appointment_clear(out);
    pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return GENTU_INVALID;
}
