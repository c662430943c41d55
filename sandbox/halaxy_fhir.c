#include "halaxy_fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_EXTENSION                                                                           \
    "https://terminology.halaxy.com/StructureDefinition/appointment-participant-status"
#define STATUS_SYSTEM "https://au-api.halaxy.com/presets/CodeSystem/appointment-participant-status"
#define INVOICE_EXTENSION                                                                          \
    "https://terminology.halaxy.com/StructureDefinition/appointment-participant-invoice"

void hx_format_time(pms_instant t, int offset_seconds, char buf[PMS_TIME_BUFLEN])
{
    pms_civil c;
    pms_civil_from_utc_instant(t + (pms_instant)offset_seconds * 1000, &c);
    int off = offset_seconds < 0 ? -offset_seconds : offset_seconds;
    snprintf(buf, PMS_TIME_BUFLEN, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", c.year, c.month,
             c.day, c.hour, c.minute, c.second, offset_seconds < 0 ? '-' : '+', off / 3600,
             off / 60 % 60);
}

void hx_format_utc(pms_instant t, char buf[PMS_TIME_BUFLEN])
{
    pms_civil c;
    pms_civil_from_utc_instant(t, &c);
    snprintf(buf, PMS_TIME_BUFLEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, c.hour,
             c.minute, c.second);
}

void hx_full_url(const hx_ctx *ctx, const char *type, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/halaxy/main/%s/%s", ctx->base_url, type, id);
}

json_t *hx_reference(const hx_ctx *ctx, const char *type, const char *id, const char *salt)
{
    sbx_hx_reference_style style = ctx->style;
    if (style == SBX_HX_REFS_MIXED)
        style = (sbx_hx_reference_style)(sbx_hash_str(sbx_hash_str(7, type), salt) % 3);
    char ref[256];
    if (style == SBX_HX_REFS_RELATIVE)
        snprintf(ref, sizeof(ref), "/main/%s/%s", type, id);
    else if (style == SBX_HX_REFS_BARE)
        snprintf(ref, sizeof(ref), "%s/%s", type, id);
    else
        hx_full_url(ctx, type, id, ref, sizeof(ref));
    return json_pack("{s:s, s:s}", "reference", ref, "type", type);
}

const char *hx_reference_id(const char *value)
{
    const char *slash = value != NULL ? strrchr(value, '/') : NULL;
    return slash != NULL ? slash + 1 : value;
}

static json_t *patient_participant(const hx_ctx *ctx, const hx_practice *p, const hx_appt *a,
                                   const char *status_code)
{
    json_t *participant =
        json_pack("{s:o, s:[{s:s, s:{s:s, s:s, s:s}}]}", "actor",
                  hx_reference(ctx, "Patient", p->patients[a->patient].id, a->id),
                  "modifierExtension", "url", STATUS_EXTENSION, "valueCoding", "system",
                  STATUS_SYSTEM, "code", status_code, "display", status_code);
    if (a->invoice[0] != '\0')
        json_object_set_new(participant, "extension",
                            json_pack("[{s:s, s:o}]", "url", INVOICE_EXTENSION, "valueReference",
                                      hx_reference(ctx, "Invoice", a->invoice, a->id)));
    return participant;
}

static json_t *appt_json_with(const hx_ctx *ctx, const hx_practice *p, const hx_appt *a,
                              const char *status_code)
{
    char start[PMS_TIME_BUFLEN], end[PMS_TIME_BUFLEN], created[PMS_TIME_BUFLEN],
        updated[PMS_TIME_BUFLEN], version[16];
    pms_instant end_at = a->start + (pms_instant)a->minutes * 60000;
    hx_format_time(a->start, a->start_offset, start);
    hx_format_time(end_at, pms_tz_offset_at(p->tz, end_at, NULL), end);
    hx_format_time(a->created, pms_tz_offset_at(p->tz, a->created, NULL), created);
    hx_format_utc(a->updated, updated);
    snprintf(version, sizeof(version), "%d", a->version);
    json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}}", "resourceType", "Appointment", "id", a->id,
                            "meta", "versionId", version, "lastUpdated", updated);
    if (a->description != NULL)
        json_object_set_new(obj, "description", json_string(a->description));
    json_object_set_new(obj, "start", json_string(start));
    json_object_set_new(obj, "end", json_string(end));
    json_object_set_new(obj, "minutesDuration", json_integer(a->minutes));
    json_object_set_new(obj, "created", json_string(created));
    if (a->service >= 0) {
        json_t *info = json_array();
        json_array_append_new(
            info, hx_reference(ctx, "HealthcareService", p->services[a->service].id, a->id));
        if (ctx->location_type)
            json_array_append_new(info, json_pack("{s:s, s:s}", "name", "location-type",
                                                  "valueCode", hx_location_code(a->location)));
        json_object_set_new(obj, "supportingInformation", info);
    }
    json_t *participants = json_array();
    json_array_append_new(participants, json_pack("{s:o}", "actor",
                                                  hx_reference(ctx, "PractitionerRole",
                                                               p->roles[a->role].id, a->id)));
    if (a->patient >= 0)
        json_array_append_new(participants, patient_participant(ctx, p, a, status_code));
    json_object_set_new(obj, "participant", participants);
    return obj;
}

json_t *hx_appt_json(const hx_ctx *ctx, const hx_practice *p, const hx_appt *a)
{
    return appt_json_with(ctx, p, a, hx_status_code(a->status));
}

#define MALFORMED_KINDS 5

/* A meeting has no patient participant to carry a bad status: it gets a string duration. */
static unsigned malformed_way(const hx_appt *a, unsigned variant)
{
    unsigned way = variant % MALFORMED_KINDS;
    return way == 3 && a->patient < 0 ? 4 : way;
}

const char *hx_malformed_kind(const hx_appt *a, unsigned variant)
{
    static const char *const kinds[MALFORMED_KINDS] = {
        "missing id",
        "start is not a date",
        "participant is not an array",
        "unknown participant status",
        "minutesDuration is a string",
    };
    return kinds[malformed_way(a, variant)];
}

json_t *hx_appt_malformed_json(const hx_ctx *ctx, const hx_practice *p, const hx_appt *a,
                               unsigned variant)
{
    static const char *const bad_dates[] = {"02/03/2026 9:30am", "2026-13-45T25:61:00+10:00", "",
                                            "Invalid date"};
    static const char *const bad_statuses[] = {"rescheduled", "Booked", "arrived", "noshow"};
    unsigned sub = (variant / MALFORMED_KINDS) % 4;
    unsigned way = malformed_way(a, variant);
    json_t *obj =
        appt_json_with(ctx, p, a, way == 3 ? bad_statuses[sub] : hx_status_code(a->status));
    switch (way) {
    case 0:
        json_object_del(obj, "id");
        break;
    case 1:
        json_object_set_new(obj, "start", json_string(bad_dates[sub]));
        break;
    case 2: {
        json_t *first = json_array_get(json_object_get(obj, "participant"), 0);
        json_object_set_new(obj, "participant", json_incref(first));
        break;
    }
    case 3:
        break; /* the status code above */
    default: {
        char minutes[16];
        snprintf(minutes, sizeof(minutes), "%d", a->minutes);
        json_object_set_new(obj, "minutesDuration", json_string(minutes));
        break;
    }
    }
    return obj;
}

json_t *hx_practitioner_json(const hx_practitioner *pr)
{
    return json_pack("{s:s, s:s, s:b, s:[{s:s, s:s, s:[s], s:[s]}], s:[{s:s, s:s, s:s}, {s:s, "
                     "s:s, s:s}]}",
                     "resourceType", "Practitioner", "id", pr->id, "active", pr->active, "name",
                     "use", "official", "family", pr->family, "given", pr->given, "prefix", "Dr",
                     "telecom", "system", "email", "value", pr->email, "use", "work", "system",
                     "phone", "value", pr->phone, "use", "mobile");
}

json_t *hx_role_json(const hx_ctx *ctx, const hx_practice *p, const hx_role *role)
{
    json_t *obj = json_pack(
        "{s:s, s:s, s:b, s:o}", "resourceType", "PractitionerRole", "id", role->id, "active",
        role->active, "practitioner",
        hx_reference(ctx, "Practitioner", p->practitioners[role->practitioner].id, role->id));
    if (!role->external)
        json_object_set_new(obj, "organization",
                            hx_reference(ctx, "Organization", p->org_id, role->id));
    json_object_set_new(
        obj, "code",
        json_pack("[{s:s}]", "text", role->external ? "External provider" : "Practitioner"));
    return obj;
}

json_t *hx_patient_json(const hx_patient *pt)
{
    char birth[PMS_TIME_BUFLEN];
    pms_date_format(pt->birth_date, birth);
    json_t *given = json_pack("[s]", pt->given);
    if (pt->middle != NULL)
        json_array_append_new(given, json_string(pt->middle));
    json_t *telecom = json_array();
    if (pt->mobile != NULL)
        json_array_append_new(telecom, json_pack("{s:s, s:s, s:s}", "system", "phone", "value",
                                                 pt->mobile, "use", "mobile"));
    if (pt->home != NULL)
        json_array_append_new(telecom, json_pack("{s:s, s:s, s:s}", "system", "phone", "value",
                                                 pt->home, "use", "home"));
    if (pt->email != NULL)
        json_array_append_new(telecom,
                              json_pack("{s:s, s:s}", "system", "email", "value", pt->email));
    json_t *obj =
        json_pack("{s:s, s:s, s:b, s:[{s:s, s:s, s:o}]}", "resourceType", "Patient", "id", pt->id,
                  "active", true, "name", "use", "official", "family", pt->family, "given", given);
    if (json_array_size(telecom) > 0)
        json_object_set_new(obj, "telecom", telecom);
    else
        json_decref(telecom);
    json_object_set_new(obj, "birthDate", json_string(birth));
    json_object_set_new(obj, "gender", json_string(pt->gender));
    return obj;
}

json_t *hx_service_json(const hx_ctx *ctx, const hx_practice *p, const hx_service *s)
{
    return json_pack("{s:s, s:s, s:b, s:o, s:s}", "resourceType", "HealthcareService", "id", s->id,
                     "active", s->active, "providedBy",
                     hx_reference(ctx, "Organization", p->org_id, s->id), "name", s->name);
}

json_t *hx_organization_json(const hx_practice *p)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:[{s:s, s:s, s:s}]}", "resourceType", "Organization",
                     "id", p->org_id, "active", true, "name", p->name, "telecom", "system", "phone",
                     "value", p->phone, "use", "work");
}

json_t *hx_outcome(const char *code, const char *diagnostics)
{
    return json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "resourceType", "OperationOutcome", "issue",
                     "severity", "error", "code", code, "diagnostics", diagnostics);
}

void hx_respond(sbx_response *resp, int status, json_t *body)
{
    sbx_respond_json(resp, status, body);
    resp->content_type = HX_CONTENT_TYPE;
}

void hx_respond_outcome(sbx_response *resp, int status, const char *code, const char *diagnostics)
{
    hx_respond(resp, status, hx_outcome(code, diagnostics));
}

/* Appends s percent-encoded (all but unreserved characters) to buf at *used. */
static void append_encoded(char *buf, size_t len, size_t *used, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0' && *used + 4 < len; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        if (plain) {
            buf[(*used)++] = (char)c;
        } else {
            buf[(*used)++] = '%';
            buf[(*used)++] = hex[c >> 4];
            buf[(*used)++] = hex[c & 15];
        }
    }
    buf[*used] = '\0';
}

static void append_raw(char *buf, size_t len, size_t *used, const char *s)
{
    int n = snprintf(buf + *used, len - *used, "%s", s);
    if (n > 0)
        *used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
}

/* The request URL with its query; page and _count replaced when page > 0. */
static json_t *link_url(const hx_ctx *ctx, const sbx_request *req, size_t page, size_t count)
{
    char url[2048];
    size_t used = 0;
    url[0] = '\0';
    append_raw(url, sizeof(url), &used, ctx->base_url);
    append_raw(url, sizeof(url), &used, req->path);
    char sep = '?';
    for (size_t i = 0; i < req->query_count; i++) {
        const char *key = req->query[i].key;
        if (page > 0 && (strcmp(key, "page") == 0 || strcmp(key, "_count") == 0))
            continue;
        char sep_text[2] = {sep, '\0'};
        append_raw(url, sizeof(url), &used, sep_text);
        append_encoded(url, sizeof(url), &used, key);
        if (req->query[i].value != NULL) {
            append_raw(url, sizeof(url), &used, "=");
            append_encoded(url, sizeof(url), &used, req->query[i].value);
        }
        sep = '&';
    }
    if (page > 0) {
        char tail[64];
        snprintf(tail, sizeof(tail), "%c_count=%zu&page=%zu", sep, count, page);
        append_raw(url, sizeof(url), &used, tail);
    }
    return json_string(url);
}

json_t *hx_bundle_new(const hx_ctx *ctx, const sbx_request *req, size_t page, size_t count,
                      size_t total)
{
    size_t last = total > 0 ? (total + count - 1) / count : 1;
    json_t *links = json_array();
    json_array_append_new(
        links, json_pack("{s:s, s:o}", "relation", "self", "url", link_url(ctx, req, 0, count)));
    if (page < last)
        json_array_append_new(links, json_pack("{s:s, s:o}", "relation", "next", "url",
                                               link_url(ctx, req, page + 1, count)));
    json_array_append_new(
        links, json_pack("{s:s, s:o}", "relation", "last", "url", link_url(ctx, req, last, count)));
    return json_pack("{s:s, s:s, s:I, s:o}", "resourceType", "Bundle", "type", "searchset", "total",
                     (json_int_t)total, "link", links);
}

void hx_bundle_add(const hx_ctx *ctx, json_t *bundle, const char *type, const char *id,
                   json_t *resource)
{
    char url[256];
    hx_full_url(ctx, type, id != NULL ? id : "", url, sizeof(url));
    json_t *entries = json_object_get(bundle, "entry");
    if (entries == NULL) {
        entries = json_array();
        json_object_set_new(bundle, "entry", entries);
    }
    json_array_append_new(entries, json_pack("{s:s, s:o}", "fullUrl", url, "resource", resource));
}
