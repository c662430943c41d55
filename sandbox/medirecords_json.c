#include "medirecords_json.h"

#include <stdio.h>
#include <string.h>

void mr_format_audit_time(pms_instant t, char buf[PMS_TIME_BUFLEN])
{
    pms_format_utc(t, buf); /* "...Z" */
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == 'Z')
        snprintf(buf + n - 1, PMS_TIME_BUFLEN - (n - 1), "+0000");
}

void mr_format_local(const pms_civil *local, char buf[PMS_TIME_BUFLEN])
{
    pms_format_civil_minutes(local, buf);
}

static json_t *string_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* A Coviu room link for the appointment: the room name is derived from its id. */
static json_t *telehealth_link(const mr_appt *a, const char *role)
{
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
    uint64_t h = sbx_hash_str(0x636f766975ULL, a->id);
    char room[11];
    for (int i = 0; i < 10; i++) {
        room[i] = alphabet[h % (sizeof(alphabet) - 1)];
        h /= sizeof(alphabet) - 1;
    }
    room[10] = '\0';
    char url[96];
    snprintf(url, sizeof(url), "https://sandbox.coviu.com/room/%s?role=%s", room, role);
    return json_string(url);
}

/* A referral id derived from the appointment id, stable across requests. */
static json_t *referral_id(const mr_appt *a)
{
    sbx_prng prng;
    sbx_prng_seed(&prng, sbx_hash_str(0x726566ULL, a->id));
    char id[SBX_UUID_LEN];
    sbx_prng_uuid(&prng, id);
    return json_string(id);
}

json_t *mr_appt_json(const mr_practice *p, const mr_appt *a)
{
    char schedule[PMS_TIME_BUFLEN], created[PMS_TIME_BUFLEN], updated[PMS_TIME_BUFLEN];
    mr_format_local(&a->local, schedule);
    mr_format_audit_time(a->created, created);
    mr_format_audit_time(a->updated, updated);
    json_t *confirmation = json_null();
    if (a->confirmation_link) {
        char url[128];
        snprintf(url, sizeof(url), "https://sandbox.medirecords.com/appointments/confirm/%s",
                 a->id);
        confirmation = json_string(url);
    }
    json_t *obj = json_object();
    json_object_set_new(obj, "id", json_string(a->id));
    json_object_set_new(obj, "practiceId", json_string(p->id));
    json_object_set_new(obj, "patientId", json_string(p->patients[a->patient].id));
    json_object_set_new(obj, "appointmentTypeId", json_string(p->types[a->type].id));
    json_object_set_new(obj, "scheduleTime", json_string(schedule));
    json_object_set_new(obj, "appointmentStatus", json_integer(a->status));
    json_object_set_new(obj, "appointmentIntervalCode", json_integer(a->interval_code));
    json_object_set_new(obj, "roomId", a->room >= 0 ? json_string(p->rooms[a->room]) : json_null());
    json_object_set_new(obj, "referralId", a->referral ? referral_id(a) : json_null());
    json_object_set_new(obj, "notes", string_or_null(a->notes));
    json_object_set_new(obj, "providerId", json_string(p->providers[a->provider].id));
    json_object_set_new(obj, "walkIn", json_boolean(a->walk_in));
    json_object_set_new(obj, "firstAvailableDoctor", json_boolean(a->first_available));
    json_object_set_new(obj, "urgency", json_integer(a->urgency));
    json_object_set_new(obj, "cancellationReason", string_or_null(a->cancellation_reason));
    json_object_set_new(obj, "emailReminder", json_boolean(a->email_reminder));
    json_object_set_new(obj, "reminderMethod", json_integer(a->reminder_method));
    json_object_set_new(obj, "reminderType", json_integer(a->reminder_type));
    json_object_set_new(obj, "confirmationLink", confirmation);
    json_object_set_new(obj, "telehealthLinkForProvider",
                        a->links ? telehealth_link(a, "provider") : json_null());
    json_object_set_new(obj, "telehealthLinkForPatient",
                        a->links ? telehealth_link(a, "patient") : json_null());
    json_object_set_new(obj, "createdBy", json_string(p->staff[a->created_by]));
    json_object_set_new(obj, "createdDateTime", json_string(created));
    json_object_set_new(obj, "updatedBy", json_string(p->staff[a->updated_by]));
    json_object_set_new(obj, "updatedDateTime", json_string(updated));
    return obj;
}

#define MALFORMED_KINDS 5

const char *mr_malformed_kind(unsigned variant)
{
    static const char *const kinds[MALFORMED_KINDS] = {
        "missing id",
        "scheduleTime is not a time",
        "appointmentStatus is a string",
        "appointmentStatus is an unknown code",
        "appointmentIntervalCode is a string",
    };
    return kinds[variant % MALFORMED_KINDS];
}

json_t *mr_appt_malformed_json(const mr_practice *p, const mr_appt *a, unsigned variant)
{
    static const char *const bad_times[] = {"02/03/2026 9:30am", "2026-13-45T25:61", "",
                                            "Invalid date"};
    static const char *const bad_status_text[] = {"Booked", "3", "Confirmed", "cancelled"};
    static const int unknown_status[] = {9, 1, 0, 12};
    static const char *const bad_codes[] = {"15 mins", "6", "", "fifteen"};
    json_t *obj = mr_appt_json(p, a);
    unsigned sub = (variant / MALFORMED_KINDS) % 4;
    switch (variant % MALFORMED_KINDS) {
    case 0:
        json_object_del(obj, "id");
        break;
    case 1:
        json_object_set_new(obj, "scheduleTime", json_string(bad_times[sub]));
        break;
    case 2:
        json_object_set_new(obj, "appointmentStatus", json_string(bad_status_text[sub]));
        break;
    case 3:
        json_object_set_new(obj, "appointmentStatus", json_integer(unknown_status[sub]));
        break;
    default:
        json_object_set_new(obj, "appointmentIntervalCode", json_string(bad_codes[sub]));
        break;
    }
    return obj;
}

json_t *mr_type_json(const mr_type *ty)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "id", json_string(ty->id));
    json_object_set_new(obj, "name", json_string(ty->name));
    json_object_set_new(obj, "duration", json_string(ty->duration_text));
    json_object_set_new(obj, "colour", json_string(ty->colour));
    json_object_set_new(obj, "order", json_integer(ty->order));
    json_object_set_new(obj, "activeStatus", json_integer(ty->active_status));
    json_object_set_new(obj, "community", json_boolean(ty->community));
    json_object_set_new(obj, "telehealth", json_boolean(ty->telehealth));
    json_object_set_new(obj, "description", string_or_null(ty->description));
    return obj;
}

json_t *mr_patient_json(const mr_practice *p, const mr_patient *pt)
{
    char dob[PMS_TIME_BUFLEN];
    pms_date_format(pt->dob, dob);
    json_t *obj = json_object();
    json_object_set_new(obj, "id", json_string(pt->id));
    json_object_set_new(obj, "titleCode",
                        pt->title_code > 0 ? json_integer(pt->title_code) : json_null());
    json_object_set_new(obj, "firstName", json_string(pt->first));
    json_object_set_new(obj, "middleName", string_or_null(pt->middle));
    json_object_set_new(obj, "lastName", json_string(pt->last));
    json_object_set_new(obj, "gender", json_integer(pt->gender));
    json_object_set_new(obj, "dob", json_string(dob));
    json_object_set_new(obj, "email", string_or_null(pt->email));
    json_object_set_new(obj, "mobilePhone", string_or_null(pt->mobile));
    json_object_set_new(obj, "homePhone", string_or_null(pt->home));
    json_object_set_new(obj, "addressLine1", string_or_null(pt->street));
    json_object_set_new(obj, "suburb", json_string(pt->suburb));
    json_object_set_new(obj, "state", json_string(pt->state));
    json_object_set_new(obj, "postcode", json_string(pt->postcode));
    json_object_set_new(obj, "defaultPracticeId", json_string(p->id));
    json_object_set_new(obj, "usualDoctorId",
                        pt->usual_provider >= 0 ? json_string(p->providers[pt->usual_provider].id)
                                                : json_null());
    json_object_set_new(obj, "patientStatusCode", json_integer(1));
    json_object_set_new(obj, "oneNameOnly", json_false());
    return obj;
}

json_t *mr_practice_json(const mr_practice *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:s, s:s, s:s, s:s, s:s}", "id", p->id, "name",
                     p->name, "abn", p->abn, "phone", p->phone, "email", p->email, "fax",
                     "addressLine1", p->street, "suburb", p->suburb, "state", p->region->state,
                     "postcode", p->postcode, "country", "Australia");
}

json_t *mr_provider_json(const mr_provider *pr)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", pr->id, "title", pr->title, "firstName",
                     pr->first, "lastName", pr->last, "active", pr->active);
}

json_t *mr_page_json(json_t *data, size_t page, size_t size, size_t total)
{
    size_t pages = size > 0 ? (total + size - 1) / size : 0;
    return json_pack("{s:o, s:b, s:b, s:I, s:I, s:I, s:I, s:I}", "data", data, "first", page == 0,
                     "last", page + 1 >= pages, "totalPages", (json_int_t)pages, "totalElements",
                     (json_int_t)total, "numberOfElements", (json_int_t)json_array_size(data),
                     "size", (json_int_t)size, "page", (json_int_t)page);
}

json_t *mr_intervals_json(sbx_mr_interval_shape shape)
{
    json_t *list = json_array();
    for (size_t i = 0; i < mr_interval_count; i++) {
        const mr_interval *iv = &mr_intervals[i];
        char text[32];
        if (shape == SBX_MR_INTERVALS_OBJECTS) {
            snprintf(text, sizeof(text), "%d minutes", iv->minutes);
            json_array_append_new(list, json_pack("{s:i, s:i, s:s}", "id", iv->code, "minutes",
                                                  iv->minutes, "description", text));
        } else {
            snprintf(text, sizeof(text), "%d min", iv->minutes);
            json_array_append_new(list, json_pack("{s:i, s:s}", "code", iv->code, "value", text));
        }
    }
    if (shape == SBX_MR_INTERVALS_DATA)
        return json_pack("{s:o}", "data", list);
    return list;
}
