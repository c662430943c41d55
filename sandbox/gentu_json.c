#include "gentu_json.h"

#include <string.h>

void gentu_format_time(const gentu_tenant *tenant, pms_instant t, char buf[PMS_TIME_BUFLEN])
{
    pms_format_offset(t, pms_tz_offset_at(tenant->tz, t, NULL), buf);
}

static json_t *time_or_null(const gentu_tenant *tenant, pms_instant t)
{
    if (t == PMS_INSTANT_NONE)
        return json_null();
    char buf[PMS_TIME_BUFLEN];
    gentu_format_time(tenant, t, buf);
    return json_string(buf);
}

static json_t *string_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *participants_json(const gentu_tenant *tenant, const gentu_appt *appt)
{
    json_t *list = json_array();
    if (appt->patient >= 0)
        json_array_append_new(list, json_pack("{s:s, s:s}", "referenceType", "patient",
                                              "referenceId", tenant->patients[appt->patient].id));
    json_array_append_new(list, json_pack("{s:s, s:s}", "referenceType", "provider", "referenceId",
                                          tenant->practitioners[appt->practitioner].id));
    if (appt->site >= 0) {
        json_t *location = json_pack("{s:s, s:s}", "referenceType", "location", "referenceId",
                                     tenant->sites[appt->site].id);
        if (appt->arrived_at != PMS_INSTANT_NONE)
            json_object_set_new(location, "arrivedAt", time_or_null(tenant, appt->arrived_at));
        json_array_append_new(list, location);
    }
    return list;
}

json_t *gentu_appt_json(const gentu_tenant *tenant, const gentu_appt *appt)
{
    pms_instant end = appt->start + (pms_instant)appt->minutes * 60000;
    json_t *extension = json_array();
    if (appt->cancelled_at != PMS_INSTANT_NONE)
        json_array_append_new(extension,
                              json_pack("{s:s, s:o}", "system", "cancelled-at", "valueDateTime",
                                        time_or_null(tenant, appt->cancelled_at)));
    json_t *type = appt->type >= 0 ? json_pack("{s:s}", "reference", tenant->types[appt->type].id)
                                   : json_null();
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", appt->id,
                     "startAt", time_or_null(tenant, appt->start), "endAt",
                     appt->end_null ? json_null() : time_or_null(tenant, end), "status",
                     string_or_null(gentu_status_name(appt->status)), "minutesDuration",
                     appt->minutes_null ? json_null() : json_integer(appt->minutes), "comment",
                     string_or_null(appt->comment), "description",
                     string_or_null(appt->description), "participant",
                     participants_json(tenant, appt), "appointmentType", type, "extension",
                     extension);
}

#define MALFORMED_KINDS 6

const char *gentu_malformed_kind(unsigned variant)
{
    static const char *const kinds[MALFORMED_KINDS] = {
        "missing id",
        "startAt is not a date",
        "unknown status",
        "participant is not an array",
        "minutesDuration is a string",
        "appointmentType is a string",
    };
    return kinds[variant % MALFORMED_KINDS];
}

json_t *gentu_appt_malformed_json(const gentu_tenant *tenant, const gentu_appt *appt,
                                  unsigned variant)
{
    static const char *const bad_dates[] = {"02/03/2026 9:30am", "2026-13-45T25:61:00.000+10:00",
                                            "", "Invalid date"};
    static const char *const bad_statuses[] = {"rescheduled", "Confirmed", "arrived", "booked"};
    json_t *obj = gentu_appt_json(tenant, appt);
    unsigned sub = (variant / MALFORMED_KINDS) % 4;
    switch (variant % MALFORMED_KINDS) {
    case 0:
        json_object_del(obj, "id");
        break;
    case 1:
        json_object_set_new(obj, "startAt", json_string(bad_dates[sub]));
        break;
    case 2:
        json_object_set_new(obj, "status", json_string(bad_statuses[sub]));
        break;
    case 3: {
        json_t *participants = json_object_get(obj, "participant");
        json_t *first = json_array_get(participants, 0);
        json_object_set_new(obj, "participant", first != NULL ? json_incref(first) : json_object());
        break;
    }
    case 4: {
        char minutes[16];
        snprintf(minutes, sizeof(minutes), "%d", appt->minutes);
        json_object_set_new(obj, "minutesDuration", json_string(minutes));
        break;
    }
    default:
        json_object_set_new(obj, "appointmentType",
                            json_string(appt->type >= 0 ? tenant->types[appt->type].text : ""));
        break;
    }
    return obj;
}

static json_t *patient_contacts(const gentu_patient *p)
{
    json_t *list = json_array();
    int rank = 1;
    if (p->mobile != NULL)
        json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:s}", "system", "phone", "use",
                                              "mobile", "rank", rank++, "value", p->mobile));
    if (p->landline != NULL)
        json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:s}", "system", "phone", "use",
                                              "home", "rank", rank++, "value", p->landline));
    if (p->email != NULL)
        json_array_append_new(list, json_pack("{s:s, s:s, s:n, s:s}", "system", "email", "use",
                                              "home", "rank", "value", p->email));
    return list;
}

static json_t *patient_identifiers(const gentu_patient *p)
{
    json_t *list = json_array();
    if (p->has_medicare)
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:{s:s}, s:[{s:s, s:i}]}", "type", "mc", "system",
                            "http://ns.electronichealth.net.au/id/medicare-number", "value",
                            p->medicare, "period", "end", p->medicare_expiry, "extension", "system",
                            "individual-reference-number", "valueInteger", p->medicare_irn));
    return list;
}

static json_t *patient_extensions(const gentu_patient *p)
{
    json_t *list = json_array();
    json_array_append_new(list,
                          json_pack("{s:s, s:s}", "system", "firstname", "valueString", p->first));
    if (p->middle != NULL)
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "system", "middlename", "valueString", p->middle));
    if (p->pronouns != NULL)
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "system", "pronouns", "valueString", p->pronouns));
    return list;
}

json_t *gentu_patient_json(const gentu_patient *p)
{
    char birth[PMS_TIME_BUFLEN];
    pms_date_format(p->birth_date, birth);
    json_t *address = p->street != NULL
                          ? json_pack("[{s:s, s:[s], s:s, s:s, s:s, s:s}]", "use", "home", "line",
                                      p->street, "city", p->suburb, "state", p->state, "postalCode",
                                      p->postcode, "country", "AU")
                          : json_null();
    json_t *sms = p->sms_enabled < 0 ? json_null() : json_boolean(p->sms_enabled);
    return json_pack(
        "{s:s, s:o, s:s, s:o, s:o, s:o, s:{s:s, s:s, s:o}, s:n, s:o, s:o, s:s, "
        "s:b, s:o, s:o}",
        "id", p->id, "address", address, "birthDate", birth, "contact", patient_contacts(p),
        "gender", string_or_null(p->gender), "identifier", patient_identifiers(p), "name", "family",
        p->family, "given", p->given, "prefix", string_or_null(p->prefix), "deceased", "occupation",
        string_or_null(p->occupation), "indigenousStatus", string_or_null(p->indigenous_status),
        "chartNumber", p->chart_number, "emailEnabled", p->email_enabled, "smsEnabled", sms,
        "extension", patient_extensions(p));
}

static json_t *practitioner_contacts(const gentu_practitioner *p)
{
    json_t *list = json_array();
    json_array_append_new(
        list, json_pack("{s:s, s:s, s:s}", "system", "email", "use", "work", "value", p->email));
    json_array_append_new(
        list, json_pack("{s:s, s:s, s:s}", "system", "phone", "use", "work", "value", p->phone));
    if (p->mobile != NULL)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "system", "phone", "use", "mobile",
                                              "value", p->mobile));
    return list;
}

static json_t *practitioner_name(const gentu_practitioner *p)
{
    return json_pack("{s:s, s:s, s:s}", "family", p->family, "given", p->given, "prefix",
                     p->prefix);
}

json_t *gentu_practitioner_list_json(const gentu_practitioner *p)
{
    return json_pack("{s:s, s:o, s:o, s:b, s:b}", "id", p->id, "name", practitioner_name(p),
                     "contact", practitioner_contacts(p), "active", p->active,
                     "shownInAppointmentBook", p->shown);
}

json_t *gentu_user_json(const gentu_tenant *tenant, const gentu_practitioner *p)
{
    const sbx_region *r = tenant->region;
    json_t *address = json_pack("[{s:s, s:[s], s:s, s:s, s:s, s:s}]", "use", "work", "line",
                                tenant->sites[0].name, "city", r->suburbs[0], "state", r->state,
                                "postalCode", r->postcodes[0], "country", "AU");
    json_t *identifier = json_pack("[{s:s, s:s}, {s:s, s:s}]", "type", "hpii", "value", p->hpii,
                                   "type", "upin", "value", p->provider_number);
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "id", p->id, "address", address, "contact",
                     practitioner_contacts(p), "identifier", identifier, "name",
                     practitioner_name(p));
}

json_t *gentu_type_json(const gentu_type *ty)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:b}", "id", ty->id, "text", ty->text, "duration",
                     ty->duration >= 0 ? json_integer(ty->duration) : json_null(), "colour",
                     string_or_null(ty->colour), "onlineBookable", ty->online_bookable);
}

json_t *gentu_site_json(const gentu_site *site)
{
    return json_pack("{s:s, s:s}", "id", site->id, "name", site->name);
}

json_t *gentu_fault_json(const char *faultstring, const char *errorcode)
{
    return json_pack("{s:{s:s, s:{s:s}}}", "fault", "faultstring", faultstring, "detail",
                     "errorcode", errorcode);
}

json_t *gentu_validation_new(void)
{
    return json_pack("{s:s, s:[]}", "message", "Validation error", "details");
}

json_t *gentu_validation_add(json_t *envelope, const char *validation, const char *code,
                             const char *message, const char *where, const char *field)
{
    json_t *issue = json_object();
    if (validation != NULL)
        json_object_set_new(issue, "validation", json_string(validation));
    json_object_set_new(issue, "code", json_string(code));
    json_object_set_new(issue, "message", json_string(message));
    json_object_set_new(issue, "path", json_pack("[s, s]", where, field));
    json_array_append_new(json_object_get(envelope, "details"), issue);
    return issue;
}

size_t gentu_validation_count(const json_t *envelope)
{
    return json_array_size(json_object_get(envelope, "details"));
}
