#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/crypto.h"
#include "pmsync/model.h"

void pms_patient_clear(pms_patient *p)
{
    free(p->pms_patient_id);
    free(p->full_name);
    free(p->first_name);
    free(p->last_name);
    free(p->phone);
    free(p->email);
    memset(p, 0, sizeof *p);
}

void pms_practitioner_ref_clear(pms_practitioner_ref *p)
{
    free(p->pms_practitioner_id);
    free(p->full_name);
    free(p->first_name);
    free(p->last_name);
    memset(p, 0, sizeof *p);
}

void pms_appointment_init(pms_appointment *a)
{
    memset(a, 0, sizeof *a);
    a->start_time = PMS_INSTANT_NONE;
    a->end_time = PMS_INSTANT_NONE;
    a->pms_created_at = PMS_INSTANT_NONE;
    a->pms_updated_at = PMS_INSTANT_NONE;
    a->fetched_at = PMS_INSTANT_NONE;
}

void pms_appointment_clear(pms_appointment *a)
{
    free(a->pms_type);
    free(a->pms_appointment_id);
    free(a->pms_connection_id);
    free(a->timezone);
    free(a->appointment_type_name);
    free(a->appointment_type_id);
    pms_patient_clear(&a->patient);
    pms_practitioner_ref_clear(&a->practitioner);
    free(a->notes);
    free(a->referral_id);
    free(a->telehealth_url_provider);
    free(a->telehealth_url_patient);
    free(a->location_name);
    json_decref(a->raw_data);
    pms_appointment_init(a);
}

/* Copies each listed string; on failure the partially filled dst is cleared by the caller. */
static int copy_strings(char **const dst[], const char *const src[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pms_str_set(dst[i], src[i]) != PMS_OK)
            return PMS_ERR_NOMEM;
    return PMS_OK;
}

int pms_appointment_copy(pms_appointment *dst, const pms_appointment *src, pms_error *err)
{
    pms_appointment_init(dst);
    char **const dst_strings[] = {
        &dst->pms_type,
        &dst->pms_appointment_id,
        &dst->pms_connection_id,
        &dst->timezone,
        &dst->appointment_type_name,
        &dst->appointment_type_id,
        &dst->patient.pms_patient_id,
        &dst->patient.full_name,
        &dst->patient.first_name,
        &dst->patient.last_name,
        &dst->patient.phone,
        &dst->patient.email,
        &dst->practitioner.pms_practitioner_id,
        &dst->practitioner.full_name,
        &dst->practitioner.first_name,
        &dst->practitioner.last_name,
        &dst->notes,
        &dst->referral_id,
        &dst->telehealth_url_provider,
        &dst->telehealth_url_patient,
        &dst->location_name,
    };
    const char *const src_strings[] = {
        src->pms_type,
        src->pms_appointment_id,
        src->pms_connection_id,
        src->timezone,
        src->appointment_type_name,
        src->appointment_type_id,
        src->patient.pms_patient_id,
        src->patient.full_name,
        src->patient.first_name,
        src->patient.last_name,
        src->patient.phone,
        src->patient.email,
        src->practitioner.pms_practitioner_id,
        src->practitioner.full_name,
        src->practitioner.first_name,
        src->practitioner.last_name,
        src->notes,
        src->referral_id,
        src->telehealth_url_provider,
        src->telehealth_url_patient,
        src->location_name,
    };
    _Static_assert(sizeof dst_strings / sizeof dst_strings[0] ==
                       sizeof src_strings / sizeof src_strings[0],
                   "string lists must match");
    if (copy_strings(dst_strings, src_strings, sizeof src_strings / sizeof src_strings[0]) !=
        PMS_OK) {
        pms_appointment_clear(dst);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory copying an appointment");
    }
    dst->start_time = src->start_time;
    dst->end_time = src->end_time;
    dst->duration_minutes = src->duration_minutes;
    dst->is_telehealth = src->is_telehealth;
    dst->telehealth_from_pms = src->telehealth_from_pms;
    dst->status = src->status;
    dst->patient.has_date_of_birth = src->patient.has_date_of_birth;
    dst->patient.date_of_birth = src->patient.date_of_birth;
    dst->pms_created_at = src->pms_created_at;
    dst->pms_updated_at = src->pms_updated_at;
    dst->fetched_at = src->fetched_at;
    if (src->raw_data != NULL && (dst->raw_data = json_deep_copy(src->raw_data)) == NULL) {
        pms_appointment_clear(dst);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory copying an appointment");
    }
    return PMS_OK;
}

int pms_appointment_validate(const pms_appointment *a, pms_error *err)
{
    if (a->pms_appointment_id == NULL || a->pms_appointment_id[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "appointment has no id");
    if (a->start_time == PMS_INSTANT_NONE)
        return pms_error_set(err, PMS_ERR_INVALID, "appointment has no start time");
    if (a->end_time == PMS_INSTANT_NONE || a->end_time < a->start_time)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "appointment end time is missing or before start");
    if (a->duration_minutes < 0 || a->duration_minutes > 24 * 60)
        return pms_error_set(err, PMS_ERR_INVALID, "appointment duration out of range");
    if (a->timezone == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "appointment has no time zone");
    if (a->practitioner.pms_practitioner_id == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "appointment has no practitioner");
    if ((unsigned)a->status >= PMS_STATUS_COUNT)
        return pms_error_set(err, PMS_ERR_INVALID, "appointment status out of range");
    return PMS_OK;
}

json_t *pms_appointment_to_json(const pms_appointment *a, bool include_raw)
{
    json_t *patient = json_object();
    json_object_set_new(patient, "pmsPatientId",
                        pms_json_string_or_null(a->patient.pms_patient_id));
    json_object_set_new(patient, "fullName", pms_json_string_or_null(a->patient.full_name));
    json_object_set_new(patient, "firstName", pms_json_string_or_null(a->patient.first_name));
    json_object_set_new(patient, "lastName", pms_json_string_or_null(a->patient.last_name));
    json_object_set_new(patient, "phone", pms_json_string_or_null(a->patient.phone));
    json_object_set_new(patient, "email", pms_json_string_or_null(a->patient.email));
    if (a->patient.has_date_of_birth) {
        char dob[PMS_TIME_BUFLEN];
        pms_date_format(a->patient.date_of_birth, dob);
        json_object_set_new(patient, "dateOfBirth", json_string(dob));
    } else {
        json_object_set_new(patient, "dateOfBirth", json_null());
    }

    json_t *practitioner = json_object();
    json_object_set_new(practitioner, "pmsPractitionerId",
                        pms_json_string_or_null(a->practitioner.pms_practitioner_id));
    json_object_set_new(practitioner, "fullName",
                        pms_json_string_or_null(a->practitioner.full_name));
    json_object_set_new(practitioner, "firstName",
                        pms_json_string_or_null(a->practitioner.first_name));
    json_object_set_new(practitioner, "lastName",
                        pms_json_string_or_null(a->practitioner.last_name));

    json_t *o = json_object();
    json_object_set_new(o, "pmsType", pms_json_string_or_null(a->pms_type));
    json_object_set_new(o, "pmsAppointmentId", pms_json_string_or_null(a->pms_appointment_id));
    json_object_set_new(o, "pmsConnectionId", pms_json_string_or_null(a->pms_connection_id));
    json_object_set_new(o, "startTime", pms_json_instant_or_null(a->start_time));
    json_object_set_new(o, "endTime", pms_json_instant_or_null(a->end_time));
    json_object_set_new(o, "durationMinutes", json_integer(a->duration_minutes));
    json_object_set_new(o, "timezone", pms_json_string_or_null(a->timezone));
    json_object_set_new(o, "isTelehealth", json_boolean(a->is_telehealth));
    json_object_set_new(o, "appointmentTypeName",
                        pms_json_string_or_null(a->appointment_type_name));
    json_object_set_new(o, "appointmentTypeId", pms_json_string_or_null(a->appointment_type_id));
    json_object_set_new(o, "status", json_string(pms_appt_status_name(a->status)));
    json_object_set_new(o, "patient", patient);
    json_object_set_new(o, "practitioner", practitioner);
    json_object_set_new(o, "notes", pms_json_string_or_null(a->notes));
    json_object_set_new(o, "referralId", pms_json_string_or_null(a->referral_id));
    json_object_set_new(o, "telehealthUrlProvider",
                        pms_json_string_or_null(a->telehealth_url_provider));
    json_object_set_new(o, "telehealthUrlPatient",
                        pms_json_string_or_null(a->telehealth_url_patient));
    json_object_set_new(o, "locationName", pms_json_string_or_null(a->location_name));
    json_object_set_new(o, "pmsCreatedAt", pms_json_instant_or_null(a->pms_created_at));
    json_object_set_new(o, "pmsUpdatedAt", pms_json_instant_or_null(a->pms_updated_at));
    json_object_set_new(o, "fetchedAt", pms_json_instant_or_null(a->fetched_at));
    if (include_raw)
        json_object_set(o, "rawData", a->raw_data ? a->raw_data : json_null());
    return o;
}

/* Reads an optional string member; a present non-string, non-null value is an error. */
static int get_string(const json_t *obj, const char *key, char **out, pms_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return PMS_OK;
    if (!json_is_string(v))
        return pms_error_set(err, PMS_ERR_PARSE, "field %s must be a string", key);
    return pms_str_set(out, json_string_value(v)) == PMS_OK
               ? PMS_OK
               : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}

static int get_instant(const json_t *obj, const char *key, pms_instant *out, pms_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = PMS_INSTANT_NONE;
        return PMS_OK;
    }
    if (!json_is_string(v) || pms_iso8601_parse(json_string_value(v), out, NULL, NULL) != PMS_OK)
        return pms_error_set(err, PMS_ERR_PARSE, "field %s must be an ISO 8601 timestamp", key);
    return PMS_OK;
}

int pms_appointment_from_json(const json_t *o, pms_appointment *out, pms_error *err)
{
    pms_appointment_init(out);
    if (!json_is_object(o))
        return pms_error_set(err, PMS_ERR_PARSE, "appointment must be an object");
    const json_t *patient = json_object_get(o, "patient");
    const json_t *practitioner = json_object_get(o, "practitioner");
    int rc;
    if ((rc = get_string(o, "pmsType", &out->pms_type, err)) ||
        (rc = get_string(o, "pmsAppointmentId", &out->pms_appointment_id, err)) ||
        (rc = get_string(o, "pmsConnectionId", &out->pms_connection_id, err)) ||
        (rc = get_instant(o, "startTime", &out->start_time, err)) ||
        (rc = get_instant(o, "endTime", &out->end_time, err)) ||
        (rc = get_string(o, "timezone", &out->timezone, err)) ||
        (rc = get_string(o, "appointmentTypeName", &out->appointment_type_name, err)) ||
        (rc = get_string(o, "appointmentTypeId", &out->appointment_type_id, err)) ||
        (rc = get_string(o, "notes", &out->notes, err)) ||
        (rc = get_string(o, "referralId", &out->referral_id, err)) ||
        (rc = get_string(o, "telehealthUrlProvider", &out->telehealth_url_provider, err)) ||
        (rc = get_string(o, "telehealthUrlPatient", &out->telehealth_url_patient, err)) ||
        (rc = get_string(o, "locationName", &out->location_name, err)) ||
        (rc = get_instant(o, "pmsCreatedAt", &out->pms_created_at, err)) ||
        (rc = get_instant(o, "pmsUpdatedAt", &out->pms_updated_at, err)) ||
        (rc = get_instant(o, "fetchedAt", &out->fetched_at, err)))
        goto fail;
    if (json_is_object(patient)) {
        if ((rc = get_string(patient, "pmsPatientId", &out->patient.pms_patient_id, err)) ||
            (rc = get_string(patient, "fullName", &out->patient.full_name, err)) ||
            (rc = get_string(patient, "firstName", &out->patient.first_name, err)) ||
            (rc = get_string(patient, "lastName", &out->patient.last_name, err)) ||
            (rc = get_string(patient, "phone", &out->patient.phone, err)) ||
            (rc = get_string(patient, "email", &out->patient.email, err)))
            goto fail;
        const json_t *dob = json_object_get(patient, "dateOfBirth");
        if (json_is_string(dob)) {
            if ((rc = pms_date_parse(json_string_value(dob), &out->patient.date_of_birth, err)))
                goto fail;
            out->patient.has_date_of_birth = true;
        }
    }
    if (json_is_object(practitioner)) {
        if ((rc = get_string(practitioner, "pmsPractitionerId",
                             &out->practitioner.pms_practitioner_id, err)) ||
            (rc = get_string(practitioner, "fullName", &out->practitioner.full_name, err)) ||
            (rc = get_string(practitioner, "firstName", &out->practitioner.first_name, err)) ||
            (rc = get_string(practitioner, "lastName", &out->practitioner.last_name, err)))
            goto fail;
    }
    const json_t *duration = json_object_get(o, "durationMinutes");
    out->duration_minutes = json_is_integer(duration) ? (int)json_integer_value(duration) : 0;
    out->is_telehealth = json_is_true(json_object_get(o, "isTelehealth"));
    const json_t *status = json_object_get(o, "status");
    if (json_is_string(status) &&
        pms_appt_status_parse(json_string_value(status), &out->status) != PMS_OK) {
        rc = pms_error_set(err, PMS_ERR_PARSE, "unknown status");
        goto fail;
    }
    const json_t *raw = json_object_get(o, "rawData");
    if (raw != NULL && !json_is_null(raw))
        out->raw_data = json_deep_copy(raw);
    return PMS_OK;
fail:
    pms_appointment_clear(out);
    return rc;
}

/* The content hash covers every field a run sheet shows, in a fixed order, each value framed by
 * its length so no two different records encode alike. Not fetchedAt (changes on every read)
 * and not rawData (a PMS can change fields nobody shows). */
typedef struct hash_buffer {
    char *data;
    size_t len, cap;
    bool failed;
} hash_buffer;

static void hb_append(hash_buffer *b, const void *bytes, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

static void hb_str(hash_buffer *b, const char *s)
{
    /* NULL and "" differ: NULL is a lone 0xff, a string is its length then its bytes. */
    if (s == NULL) {
        hb_append(b, "\xff", 1);
        return;
    }
    uint32_t n = (uint32_t)strlen(s);
    hb_append(b, &n, sizeof n);
    hb_append(b, s, n);
}

static void hb_int(hash_buffer *b, int64_t v)
{
    hb_append(b, &v, sizeof v);
}

void pms_appointment_content_hash(const pms_appointment *a, char out[65])
{
    hash_buffer b = {0};
    hb_str(&b, "pmsync-content-v1");
    hb_str(&b, a->pms_type);
    hb_str(&b, a->pms_appointment_id);
    hb_str(&b, a->pms_connection_id);
    hb_int(&b, a->start_time);
    hb_int(&b, a->end_time);
    hb_int(&b, a->duration_minutes);
    hb_str(&b, a->timezone);
    hb_int(&b, a->is_telehealth);
    hb_str(&b, a->appointment_type_name);
    hb_str(&b, a->appointment_type_id);
    hb_int(&b, a->status);
    hb_str(&b, a->patient.pms_patient_id);
    hb_str(&b, a->patient.full_name);
    hb_str(&b, a->patient.first_name);
    hb_str(&b, a->patient.last_name);
    hb_str(&b, a->patient.phone);
    hb_str(&b, a->patient.email);
    hb_int(&b,
           a->patient.has_date_of_birth ? pms_days_from_date(a->patient.date_of_birth) : INT64_MIN);
    hb_str(&b, a->practitioner.pms_practitioner_id);
    hb_str(&b, a->practitioner.full_name);
    hb_str(&b, a->practitioner.first_name);
    hb_str(&b, a->practitioner.last_name);
    hb_str(&b, a->notes);
    hb_str(&b, a->referral_id);
    hb_str(&b, a->telehealth_url_provider);
    hb_str(&b, a->telehealth_url_patient);
    hb_str(&b, a->location_name);
    hb_int(&b, a->pms_created_at);
    hb_int(&b, a->pms_updated_at);
    if (b.failed) {
        /* Out of memory: an impossible hash forces a rewrite rather than a silent skip. */
        memset(out, '0', 64);
        out[64] = '\0';
    } else {
        pms_sha256_hex(b.data, b.len, out);
    }
    free(b.data);
}
