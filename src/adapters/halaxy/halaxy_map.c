/* Halaxy resources to the unified model (notes §4.7). Pure functions over parsed JSON: no I/O,
 * no logging. Reasons name fields, never values. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/halaxy/halaxy.h"
#include "pmsync/names.h"
#include "pmsync/phone.h"

/* ---- references ------------------------------------------------------------------------ */

static bool is_fhir_type(const char *s, size_t n)
{
    if (n == 0 || n >= HALAXY_TYPE_LEN || !isupper((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return true;
}

static bool is_fhir_id(const char *s, size_t n)
{
    if (n == 0 || n >= HALAXY_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

int pms_halaxy_parse_reference(const char *reference, halaxy_ref *out)
{
    memset(out, 0, sizeof *out);
    if (reference == NULL)
        return PMS_ERR_PARSE;
    const char *path = reference;
    if (strncasecmp(path, "https://", 8) == 0 || strncasecmp(path, "http://", 7) == 0) {
        const char *host = strstr(path, "://") + 3;
        path = strchr(host, '/');
        if (path == NULL || path == host)
            return PMS_ERR_PARSE;
    }
    /* No query, fragment (contained resources), URN, blank or backslash. */
    if (path[0] == '\0' || strpbrk(path, "?#: \t\r\n\\") != NULL)
        return PMS_ERR_PARSE;
    if (path[0] == '/')
        path++;
    size_t path_len = strlen(path);
    if (path_len == 0 || path[path_len - 1] == '/' || strstr(path, "//") != NULL)
        return PMS_ERR_PARSE;

    /* The last four segments at most, last first: [id, type] or [N, "_history", id, type]. */
    const char *seg[4];
    size_t len[4];
    size_t count = 0;
    for (const char *p = path + path_len; count < 4;) {
        const char *q = p;
        while (q > path && q[-1] != '/')
            q--;
        seg[count] = q;
        len[count] = (size_t)(p - q);
        count++;
        if (q == path)
            break;
        p = q - 1;
    }
    size_t at = count >= 4 && len[1] == 8 && strncmp(seg[1], "_history", 8) == 0 ? 2 : 0;
    if (count < at + 2)
        return PMS_ERR_PARSE;
    const char *id = seg[at], *type = seg[at + 1];
    size_t id_len = len[at], type_len = len[at + 1];
    if (!is_fhir_type(type, type_len) || !is_fhir_id(id, id_len))
        return PMS_ERR_PARSE;
    memcpy(out->type, type, type_len);
    memcpy(out->id, id, id_len);
    return PMS_OK;
}

void pms_halaxy_ref_key(const halaxy_ref *ref, char key[HALAXY_KEY_LEN])
{
    snprintf(key, HALAXY_KEY_LEN, "%s/%s", ref->type, ref->id);
}

/* A resource of the context's cache: the object, or NULL when unknown or unreadable. */
static const json_t *lookup(const halaxy_map_context *ctx, const halaxy_ref *ref)
{
    if (ctx->resources == NULL)
        return NULL;
    char key[HALAXY_KEY_LEN];
    pms_halaxy_ref_key(ref, key);
    const json_t *r = json_object_get(ctx->resources, key);
    return json_is_object(r) ? r : NULL;
}

static int refs_error(pms_error *err, const char *reason)
{
    return pms_error_set(err, PMS_ERR_PARSE, "%s", reason);
}

static int read_participants(const json_t *appt, halaxy_appt_refs *out, pms_error *err)
{
    const json_t *participants = json_object_get(appt, "participant");
    if (participants == NULL || json_is_null(participants))
        return PMS_OK;
    if (!json_is_array(participants))
        return refs_error(err, "participant is not an array");
    size_t i;
    json_t *p;
    json_array_foreach(participants, i, p)
    {
        if (!json_is_object(p))
            return refs_error(err, "participant entry is not an object");
        const json_t *actor = json_object_get(p, "actor");
        if (actor == NULL || json_is_null(actor))
            continue; /* a participant described by its role only */
        if (!json_is_object(actor))
            return refs_error(err, "participant.actor is not an object");
        const json_t *reference = json_object_get(actor, "reference");
        if (reference == NULL || json_is_null(reference))
            continue; /* display text only */
        halaxy_ref ref;
        if (!json_is_string(reference) ||
            pms_halaxy_parse_reference(json_string_value(reference), &ref) != PMS_OK)
            return refs_error(err, "participant.actor.reference is not a resource reference");
        if (strcmp(ref.type, "Patient") == 0 && !out->has_patient) {
            out->patient = ref;
            out->has_patient = true;
            out->patient_participant = p;
        } else if ((strcmp(ref.type, "PractitionerRole") == 0 ||
                    strcmp(ref.type, "Practitioner") == 0) &&
                   !out->has_provider) {
            out->provider = ref;
            out->has_provider = true;
        }
    }
    return PMS_OK;
}

static int read_supporting(const json_t *appt, halaxy_appt_refs *out, pms_error *err)
{
    const json_t *info = json_object_get(appt, "supportingInformation");
    if (info == NULL || json_is_null(info))
        return PMS_OK;
    if (!json_is_array(info))
        return refs_error(err, "supportingInformation is not an array");
    size_t i;
    json_t *item;
    json_array_foreach(info, i, item)
    {
        if (!json_is_object(item))
            return refs_error(err, "supportingInformation entry is not an object");
        const json_t *reference = json_object_get(item, "reference");
        if (reference == NULL || json_is_null(reference))
            continue; /* a location-type entry or something else without a reference */
        halaxy_ref ref;
        if (!json_is_string(reference) ||
            pms_halaxy_parse_reference(json_string_value(reference), &ref) != PMS_OK)
            return refs_error(err, "supportingInformation.reference is not a resource reference");
        if (strcmp(ref.type, "HealthcareService") == 0 && !out->has_service) {
            out->service = ref;
            out->has_service = true;
        }
    }
    return PMS_OK;
}

int pms_halaxy_appointment_refs(const json_t *appt, halaxy_appt_refs *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = read_participants(appt, out, err);
    if (rc == PMS_OK)
        rc = read_supporting(appt, out, err);
    if (rc != PMS_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

int pms_halaxy_role_practitioner(const json_t *role, halaxy_ref *out)
{
    const json_t *reference = json_object_get(json_object_get(role, "practitioner"), "reference");
    if (!json_is_string(reference) ||
        pms_halaxy_parse_reference(json_string_value(reference), out) != PMS_OK ||
        strcmp(out->type, "Practitioner") != 0) {
        memset(out, 0, sizeof *out);
        return PMS_ERR_PARSE;
    }
    return PMS_OK;
}

/* ---- vocabulary -------------------------------------------------------------------------- */

int pms_halaxy_status(const char *code, pms_appt_status *out)
{
    static const struct {
        const char *halaxy;
        pms_appt_status unified;
    } table[] = {
        {"booked", PMS_STATUS_BOOKED},
        {"tentative", PMS_STATUS_BOOKED},
        {"accepted", PMS_STATUS_BOOKED},
        {"confirmed", PMS_STATUS_CONFIRMED},
        {"attended", PMS_STATUS_COMPLETED},
        {"cancelled", PMS_STATUS_CANCELLED},
        {"cancelled (no charge)", PMS_STATUS_CANCELLED},
        {"did not attend", PMS_STATUS_NO_SHOW},
    };
    if (code == NULL)
        return PMS_ERR_PARSE;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcasecmp(table[i].halaxy, code) == 0) {
            *out = table[i].unified;
            return PMS_OK;
        }
    }
    return PMS_ERR_PARSE;
}

/* The status code on a participant: a modifierExtension whose url names the participant status,
 * else the first modifierExtension with a valueCoding.code. NULL when there is none; *bad when
 * modifierExtension is present but malformed. */
static const char *participant_status(const json_t *participant, bool *bad)
{
    const json_t *mods = json_object_get(participant, "modifierExtension");
    if (mods == NULL || json_is_null(mods))
        return NULL;
    if (!json_is_array(mods)) {
        *bad = true;
        return NULL;
    }
    const char *first = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(mods, i, m)
    {
        const json_t *code = json_object_get(json_object_get(m, "valueCoding"), "code");
        if (!json_is_string(code))
            continue;
        const json_t *url = json_object_get(m, "url");
        if (json_is_string(url) &&
            strstr(json_string_value(url), "appointment-participant-status") != NULL)
            return json_string_value(code);
        if (first == NULL)
            first = json_string_value(code);
    }
    return first;
}

/* A string member of an entry, from the first of the keys that holds one. */
static const char *first_string(const json_t *obj, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_object_get(obj, keys[i]);
        if (json_is_string(v))
            return json_string_value(v);
    }
    return NULL;
}

int pms_halaxy_location_type(const json_t *appt)
{
    static const char *const name_keys[] = {"name", "type"};
    static const char *const value_keys[] = {"valueCode", "value", "valueString"};
    /* Video telehealth is what the run sheet shows; a phone call is a remote appointment but
     * not a telehealth session to join. */
    static const char *const remote[] = {"telehealth", "online"};
    static const char *const in_person[] = {"clinic", "organization", "phone"};
    const json_t *info = json_object_get(appt, "supportingInformation");
    size_t i;
    json_t *item;
    if (!json_is_array(info))
        return -1;
    json_array_foreach(info, i, item)
    {
        const char *name = first_string(item, name_keys, 2);
        if (name == NULL || strcasecmp(name, "location-type") != 0)
            continue;
        const char *value = first_string(item, value_keys, 3);
        if (value == NULL)
            continue;
        for (size_t k = 0; k < sizeof remote / sizeof remote[0]; k++)
            if (strcasecmp(value, remote[k]) == 0)
                return 1;
        for (size_t k = 0; k < sizeof in_person / sizeof in_person[0]; k++)
            if (strcasecmp(value, in_person[k]) == 0)
                return 0;
    }
    return -1;
}

/* ---- names and contacts -------------------------------------------------------------------- */

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

/* The HumanName to show: the official one, else the usual one, else the first. */
static const json_t *pick_name(const json_t *resource)
{
    const json_t *names = json_object_get(resource, "name");
    if (json_is_object(names))
        return names; /* a single HumanName where a list was expected */
    if (!json_is_array(names))
        return NULL;
    const json_t *usual = NULL, *first = NULL;
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        if (!json_is_object(n))
            continue;
        const json_t *use = json_object_get(n, "use");
        if (json_is_string(use) && strcmp(json_string_value(use), "official") == 0)
            return n;
        if (json_is_string(use) && strcmp(json_string_value(use), "usual") == 0 && !usual)
            usual = n;
        if (first == NULL)
            first = n;
    }
    return usual ? usual : first;
}

/* The strings of a HumanName part (an array, or a string), joined by spaces; NULL when none. */
static char *joined(const json_t *part)
{
    if (json_is_string(part))
        return json_string_length(part) ? strdup(json_string_value(part)) : NULL;
    if (!json_is_array(part))
        return NULL;
    size_t total = 0, i;
    json_t *item;
    json_array_foreach(part, i, item)
    {
        if (json_is_string(item) && json_string_length(item) > 0)
            total += json_string_length(item) + 1;
    }
    if (total == 0)
        return NULL;
    char *out = malloc(total);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    json_array_foreach(part, i, item)
    {
        if (!json_is_string(item) || json_string_length(item) == 0)
            continue;
        if (out[0])
            strcat(out, " ");
        strcat(out, json_string_value(item));
    }
    return out;
}

/* The first string of a HumanName part. */
static char *first_of(const json_t *part)
{
    if (json_is_array(part)) {
        size_t i;
        json_t *item;
        json_array_foreach(part, i, item)
        {
            if (json_is_string(item) && json_string_length(item) > 0)
                return strdup(json_string_value(item));
        }
        return NULL;
    }
    if (json_is_string(part) && json_string_length(part) > 0) {
        /* a string of given names: its first word */
        const char *s = json_string_value(part);
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        return n ? strndup(s, n) : NULL;
    }
    return NULL;
}

typedef struct name_parts {
    char *prefix, *given, *first, *family;
} name_parts;

static void name_parts_clear(name_parts *p)
{
    free(p->prefix);
    free(p->given);
    free(p->first);
    free(p->family);
    memset(p, 0, sizeof *p);
}

/* The parts of a resource's name; from `text` when it has no parts. Returns false when out of
 * memory; *out is to be cleared either way. */
static bool read_name(const json_t *resource, name_parts *out)
{
    memset(out, 0, sizeof *out);
    const json_t *name = pick_name(resource);
    if (name == NULL)
        return true;
    const json_t *family = json_object_get(name, "family");
    out->prefix = joined(json_object_get(name, "prefix"));
    out->given = joined(json_object_get(name, "given"));
    out->first = first_of(json_object_get(name, "given"));
    out->family = json_is_string(family) && json_string_length(family) > 0
                      ? strdup(json_string_value(family))
                      : NULL;
    if (out->prefix || out->given || out->family)
        return true;
    const json_t *text = json_object_get(name, "text");
    pms_person_name parsed;
    if (!json_is_string(text) || pms_person_name_parse(json_string_value(text), &parsed) != PMS_OK)
        return true;
    out->prefix = parsed.prefix;
    out->first = parsed.given;
    out->family = parsed.family;
    parsed.prefix = parsed.given = parsed.family = NULL;
    if (out->first && parsed.middle) {
        if (asprintf(&out->given, "%s %s", out->first, parsed.middle) < 0)
            out->given = NULL;
    } else if (out->first) {
        out->given = strdup(out->first);
    }
    pms_person_name_free(&parsed);
    return !(out->first && !out->given);
}

/* The best telecom value of a system: mobile first, then by rank, then first listed. */
static const char *best_telecom(const json_t *resource, const char *system)
{
    const json_t *telecom = json_object_get(resource, "telecom");
    const char *best = NULL;
    int best_score = -1;
    size_t i;
    json_t *item;
    if (!json_is_array(telecom))
        return NULL;
    json_array_foreach(telecom, i, item)
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
        if (json_is_string(use) && strcmp(json_string_value(use), "old") == 0)
            score -= 100;
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

/* ---- patients, practitioners, services ------------------------------------------------------ */

/* Fills a patient from a Patient resource; the id is the reference's (fallback_id) when the
 * resource has none. */
static int map_patient_with_id(const json_t *patient, const char *fallback_id,
                               pms_phone_region region, pms_patient *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(patient))
        return pms_error_set(err, PMS_ERR_PARSE, "patient is not an object");
    bool bad = false;
    const char *id = opt_string(patient, "id", &bad);
    if (id == NULL || bad || id[0] == '\0')
        id = fallback_id;
    if (id == NULL)
        return pms_error_set(err, PMS_ERR_PARSE, "Patient.id missing or not a string");
    name_parts name;
    bool ok = read_name(patient, &name);
    out->pms_patient_id = strdup(id);
    out->first_name = name.first;
    out->last_name = name.family;
    name.first = name.family = NULL;
    out->full_name = pms_person_name_format(NULL, name.given, out->last_name);
    if (out->full_name && out->full_name[0] == '\0') {
        free(out->full_name);
        out->full_name = NULL;
    } else if (out->full_name == NULL) {
        ok = false;
    }
    name_parts_clear(&name);
    const char *phone = best_telecom(patient, "phone");
    if (phone && (out->phone = pms_phone_normalize(phone, region)) == NULL)
        ok = false;
    const char *email = best_telecom(patient, "email");
    if (email && (out->email = strdup(email)) == NULL)
        ok = false;
    const char *birth = opt_string(patient, "birthDate", &bad);
    if (birth && pms_date_parse(birth, &out->date_of_birth, NULL) == PMS_OK)
        out->has_date_of_birth = true; /* "1984" or "1984-07" alone are not a date of birth */
    if (!ok || out->pms_patient_id == NULL) {
        pms_patient_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int pms_halaxy_map_patient(const json_t *patient, pms_phone_region region, pms_patient *out,
                           pms_error *err)
{
    return map_patient_with_id(patient, NULL, region, out, err);
}

int pms_halaxy_map_practitioner(const json_t *practitioner, pms_practitioner *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(practitioner))
        return pms_error_set(err, PMS_ERR_PARSE, "practitioner is not an object");
    bool bad = false;
    const char *id = opt_string(practitioner, "id", &bad);
    if (id == NULL || bad || id[0] == '\0')
        return pms_error_set(err, PMS_ERR_PARSE, "Practitioner.id missing or not a string");
    name_parts name;
    bool ok = read_name(practitioner, &name);
    out->id = strdup(id);
    out->prefix = name.prefix;
    out->given = name.given;
    out->family = name.family;
    name.prefix = name.given = name.family = NULL;
    name_parts_clear(&name);
    out->full_name = pms_person_name_format(out->prefix, out->given, out->family);
    if (out->full_name && out->full_name[0] == '\0') {
        free(out->full_name);
        out->full_name = NULL;
    } else if (out->full_name == NULL) {
        ok = false;
    }
    /* Absent means active (FHIR's default reading); Halaxy has no "shown in the appointment
     * book" flag: every practitioner can take appointments. */
    const json_t *active = json_object_get(practitioner, "active");
    out->active = active == NULL || json_is_null(active) || json_is_true(active);
    out->bookable = true;
    const json_t *telecom = json_object_get(practitioner, "telecom");
    if (json_is_array(telecom))
        out->contact = json_incref((json_t *)telecom);
    if (!ok || out->id == NULL) {
        pms_practitioner_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

int pms_halaxy_map_service(const json_t *service, pms_appt_type *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(service))
        return pms_error_set(err, PMS_ERR_PARSE, "HealthcareService is not an object");
    bool bad = false;
    const char *id = opt_string(service, "id", &bad);
    const char *name = opt_string(service, "name", &bad);
    if (id == NULL || id[0] == '\0' || bad)
        return pms_error_set(err, PMS_ERR_PARSE,
                             "HealthcareService.id missing, or id or name not a string");
    out->id = strdup(id);
    out->name = strdup(name && name[0] ? name : id);
    /* The practice says which services are telehealth; nothing is detected here. */
    out->telehealth_auto_detected = false;
    if (out->id == NULL || out->name == NULL) {
        pms_appt_type_clear(out);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    return PMS_OK;
}

/* ---- appointments ------------------------------------------------------------------------- */

static halaxy_map_outcome invalid(pms_error *err, const char *reason)
{
    pms_error_set(err, PMS_ERR_PARSE, "%s", reason);
    return HALAXY_INVALID;
}

/* An optional instant; PMS_INSTANT_NONE when absent or unreadable (metadata only). */
static pms_instant optional_instant(const json_t *v)
{
    pms_instant t;
    if (json_is_string(v) && pms_iso8601_parse(json_string_value(v), &t, NULL, NULL) == PMS_OK)
        return t;
    return PMS_INSTANT_NONE;
}

/* The practitioner behind the provider participant: its id, and its resource when read. */
static const char *resolve_practitioner(const halaxy_appt_refs *refs, const halaxy_map_context *ctx,
                                        halaxy_ref *practitioner, pms_error *err)
{
    if (!refs->has_provider) {
        pms_error_set(err, PMS_ERR_PARSE, "no PractitionerRole participant");
        return NULL;
    }
    if (strcmp(refs->provider.type, "Practitioner") == 0) {
        *practitioner = refs->provider;
        return practitioner->id;
    }
    const json_t *role = lookup(ctx, &refs->provider);
    if (role == NULL) {
        pms_error_set(err, PMS_ERR_PARSE, "participant PractitionerRole could not be read");
        return NULL;
    }
    if (pms_halaxy_role_practitioner(role, practitioner) != PMS_OK) {
        pms_error_set(err, PMS_ERR_PARSE,
                      "PractitionerRole.practitioner.reference missing or not a Practitioner");
        return NULL;
    }
    return practitioner->id;
}

static int fill_practitioner(pms_practitioner_ref *out, const halaxy_ref *ref,
                             const halaxy_map_context *ctx)
{
    if ((out->pms_practitioner_id = strdup(ref->id)) == NULL)
        return PMS_ERR_NOMEM;
    const json_t *resource = lookup(ctx, ref);
    name_parts name;
    if (resource == NULL)
        return PMS_OK;
    if (!read_name(resource, &name)) {
        name_parts_clear(&name);
        return PMS_ERR_NOMEM;
    }
    out->first_name = name.first;
    out->last_name = name.family;
    out->full_name = pms_person_name_format(name.prefix, name.given, name.family);
    name.first = name.family = NULL;
    name_parts_clear(&name);
    if (out->full_name == NULL)
        return PMS_ERR_NOMEM;
    if (out->full_name[0] == '\0') {
        free(out->full_name);
        out->full_name = NULL;
    }
    return PMS_OK;
}

halaxy_map_outcome pms_halaxy_map_appointment(const json_t *appt, const halaxy_map_context *ctx,
                                              pms_appointment *out, const char **id_out,
                                              pms_error *err)
{
    pms_appointment_init(out);
    if (id_out)
        *id_out = NULL;
    if (!json_is_object(appt))
        return invalid(err, "appointment is not an object");
    bool bad = false;
    const char *resource_type = opt_string(appt, "resourceType", &bad);
    if (bad || (resource_type && strcmp(resource_type, "Appointment") != 0))
        return invalid(err, "resourceType is not Appointment");
    const char *id = opt_string(appt, "id", &bad);
    if (id == NULL || bad || id[0] == '\0')
        return invalid(err, "id missing or not a string");
    if (id_out)
        *id_out = id;

    const char *start_text = opt_string(appt, "start", &bad);
    const char *end_text = opt_string(appt, "end", &bad);
    const char *comment = opt_string(appt, "comment", &bad);
    const char *description = opt_string(appt, "description", &bad);
    if (bad)
        return invalid(err, "a text field (start, end, comment, description) has the wrong type");
    pms_instant start, end = PMS_INSTANT_NONE;
    if (start_text == NULL || pms_iso8601_parse(start_text, &start, NULL, NULL) != PMS_OK)
        return invalid(err, "start missing or not an ISO 8601 time with offset");
    if (end_text && pms_iso8601_parse(end_text, &end, NULL, NULL) != PMS_OK)
        return invalid(err, "end is not an ISO 8601 time with offset");
    if (end != PMS_INSTANT_NONE && end < start)
        return invalid(err, "end is before start");

    const json_t *minutes = json_object_get(appt, "minutesDuration");
    int duration = -1;
    if (json_is_integer(minutes)) {
        if (json_integer_value(minutes) < 0 || json_integer_value(minutes) > 24 * 60)
            return invalid(err, "minutesDuration out of range");
        duration = (int)json_integer_value(minutes);
    } else if (minutes != NULL && !json_is_null(minutes)) {
        return invalid(err, "minutesDuration is not an integer");
    }

    halaxy_appt_refs refs;
    if (pms_halaxy_appointment_refs(appt, &refs, err) != PMS_OK)
        return HALAXY_INVALID;
    if (!refs.has_patient) {
        pms_error_set(err, PMS_OK, "no Patient participant (meeting or blocker)");
        return HALAXY_SKIP;
    }

    const char *code = participant_status(refs.patient_participant, &bad);
    if (bad)
        return invalid(err, "patient participant modifierExtension is not an array");
    if (code == NULL)
        return invalid(err, "patient participant status (modifierExtension "
                            "valueCoding.code) missing");
    pms_appt_status status;
    if (pms_halaxy_status(code, &status) != PMS_OK)
        return invalid(err, "patient participant status code is not a known Halaxy status");

    halaxy_ref practitioner;
    if (resolve_practitioner(&refs, ctx, &practitioner, err) == NULL)
        return HALAXY_INVALID;

    const char *type_id = refs.has_service ? refs.service.id : NULL;
    const char *type_name = NULL;
    if (type_id) {
        const json_t *service = lookup(ctx, &refs.service);
        const json_t *name = json_object_get(service, "name");
        if (json_is_string(name) && json_string_length(name) > 0)
            type_name = json_string_value(name);
        else if (ctx->type_name)
            type_name = ctx->type_name(ctx->lookup_ctx, type_id);
    }
    int location = pms_halaxy_location_type(appt);
    bool telehealth = location >= 0 ? location == 1
                                    : type_id && ctx->type_is_telehealth &&
                                          ctx->type_is_telehealth(ctx->lookup_ctx, type_id);

    if (duration < 0 && end != PMS_INSTANT_NONE)
        duration = (int)((end - start) / 60000);
    if (duration < 0)
        duration = 0;
    if (end == PMS_INSTANT_NONE)
        end = start + (pms_instant)duration * 60000;

    out->start_time = start;
    out->end_time = end;
    out->duration_minutes = duration;
    out->status = status;
    out->is_telehealth = telehealth;
    out->telehealth_from_pms = location >= 0; /* else the practice's telehealth services */
    out->fetched_at = ctx->fetched_at;
    out->pms_created_at = optional_instant(json_object_get(appt, "created"));
    out->pms_updated_at =
        optional_instant(json_object_get(json_object_get(appt, "meta"), "lastUpdated"));
    out->raw_data = json_incref((json_t *)appt);
    /* description holds things like session counts ("3/8"): notes only when there is no
     * comment. */
    bool oom = (out->pms_type = strdup("halaxy")) == NULL ||
               (out->pms_appointment_id = strdup(id)) == NULL ||
               pms_str_set(&out->pms_connection_id, ctx->connection_id) ||
               pms_str_set(&out->timezone, ctx->timezone) ||
               pms_str_set(&out->appointment_type_id, type_id) ||
               pms_str_set(&out->appointment_type_name, type_name) ||
               pms_str_set(&out->notes, comment && comment[0] ? comment : description);
    if (oom)
        goto nomem;

    const json_t *patient = lookup(ctx, &refs.patient);
    if (patient) {
        if (map_patient_with_id(patient, refs.patient.id, ctx->phone_region, &out->patient, err) !=
            PMS_OK)
            goto nomem;
        /* The reference names the patient: the record read for it cannot say otherwise. */
        if (strcmp(out->patient.pms_patient_id, refs.patient.id) != 0 &&
            pms_str_set(&out->patient.pms_patient_id, refs.patient.id) != PMS_OK)
            goto nomem;
    } else if ((out->patient.pms_patient_id = strdup(refs.patient.id)) == NULL) {
        goto nomem;
    }
    if (fill_practitioner(&out->practitioner, &practitioner, ctx) != PMS_OK)
        goto nomem;
    return HALAXY_MAPPED;
nomem:
    pms_appointment_clear(out);
    pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return HALAXY_INVALID;
}
