/* Gentu Bookings API patient endpoints (declared in gentu.h).
 *
 * POST …/patients/list: {filters:{birthDate|email|familyName|medicareCardNumber|mobilePhone
 * (at least one), firstName?, middleName?, gender?}, fields?, pagination:{limit 5-100, cursor?}}
 * → {pagination:{limit,next,previous,total}, patients:[…]}; names and e-mail match without
 * regard to case, phone numbers by their digits (+61 and a leading 0 alike), firstName as a
 * prefix. The cursor is an offset in the result.
 * POST …/patients: {name:{family, given} | extension firstname/middlename (not both), birthDate,
 * gender?, contact:[{system: email|phone, use, value}]} → 201 {"id"}. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gentu.h"
#include "gentu_json.h"

#define DEFAULT_LIMIT 20

static const char *string_field(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* The digits of a phone number in national form ("+61 491 570 006" → "0491570006"). */
static void national_digits(const char *in, char *out, size_t len)
{
    size_t n = 0;
    const char *p = in;
    while (*p && !isdigit((unsigned char)*p))
        p++;
    if (in[0] == '+' && strncmp(p, "61", 2) == 0) {
        p += 2;
        if (n + 1 < len)
            out[n++] = '0';
    }
    for (; *p && n + 1 < len; p++)
        if (isdigit((unsigned char)*p))
            out[n++] = *p;
    out[n] = '\0';
}

static bool same_phone(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    char x[32], y[32];
    national_digits(a, x, sizeof(x));
    national_digits(b, y, sizeof(y));
    return x[0] != '\0' && strcmp(x, y) == 0;
}

static bool matches(const gentu_patient *p, const json_t *f)
{
    const char *family = string_field(f, "familyName"), *first = string_field(f, "firstName");
    const char *middle = string_field(f, "middleName"), *email = string_field(f, "email");
    const char *mobile = string_field(f, "mobilePhone"), *dob = string_field(f, "birthDate");
    const char *medicare = string_field(f, "medicareCardNumber");
    const char *gender = string_field(f, "gender");
    char have[PMS_TIME_BUFLEN];
    pms_date_format(p->birth_date, have);
    return (family == NULL || strcasecmp(family, p->family) == 0) &&
           (first == NULL || strncasecmp(first, p->first, strlen(first)) == 0) &&
           (middle == NULL || (p->middle && strcasecmp(middle, p->middle) == 0)) &&
           (email == NULL || (p->email && strcasecmp(email, p->email) == 0)) &&
           (mobile == NULL || same_phone(mobile, p->mobile)) &&
           (dob == NULL || strcmp(dob, have) == 0) &&
           (medicare == NULL || (p->has_medicare && strcmp(medicare, p->medicare) == 0)) &&
           (gender == NULL || (p->gender && strcmp(gender, p->gender) == 0));
}

static bool read_list_request(const json_t *body, const json_t **filters, long *limit, long *offset,
                              json_t *issues)
{
    *filters = json_object_get(body, "filters");
    static const char *const keys[] = {"birthDate", "email", "familyName", "medicareCardNumber",
                                       "mobilePhone"};
    bool any = false;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        any = any || string_field(*filters, keys[k]) != NULL;
    if (!json_is_object(*filters) || !any)
        gentu_validation_add(issues, NULL, "custom",
                             "At least one of birthDate, email, familyName, medicareCardNumber "
                             "or mobilePhone is required",
                             "body", "filters");
    const json_t *pagination = json_object_get(body, "pagination");
    const json_t *l = json_object_get(pagination, "limit");
    *limit = json_is_integer(l) ? (long)json_integer_value(l) : DEFAULT_LIMIT;
    if (*limit < 5 || *limit > 100)
        gentu_validation_add(issues, NULL, *limit < 5 ? "too_small" : "too_big",
                             "Number must be between 5 and 100", "body", "pagination.limit");
    const char *cursor = string_field(pagination, "cursor");
    char *end = NULL;
    *offset = cursor ? strtol(cursor, &end, 10) : 0;
    if (cursor && (cursor[0] == '\0' || *end != '\0' || *offset < 0))
        gentu_validation_add(issues, NULL, "custom", "Invalid cursor", "body", "pagination.cursor");
    return gentu_validation_count(issues) == 0;
}

void gentu_patients_list(const sbx_request *req, const gentu_tenant *t, sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    json_t *issues = gentu_validation_new();
    const json_t *filters;
    long limit, offset;
    if (!read_list_request(body, &filters, &limit, &offset, issues)) {
        sbx_respond_json(resp, 400, json_incref(issues));
    } else {
        json_t *patients = json_array();
        long total = 0;
        for (size_t i = 0; i < t->patient_count; i++) {
            if (!matches(&t->patients[i], filters))
                continue;
            if (total >= offset && total < offset + limit)
                json_array_append_new(patients, gentu_patient_json(&t->patients[i]));
            total++;
        }
        char next[32], previous[32];
        snprintf(next, sizeof(next), "%ld", offset + limit);
        snprintf(previous, sizeof(previous), "%ld", offset > limit ? offset - limit : 0);
        sbx_respond_json(resp, 200,
                         json_pack("{s:{s:i, s:o, s:o, s:I}, s:o}", "pagination", "limit",
                                   (int)limit, "next",
                                   offset + limit < total ? json_string(next) : json_null(),
                                   "previous", offset > 0 ? json_string(previous) : json_null(),
                                   "total", (json_int_t)total, "patients", patients));
    }
    json_decref(issues);
    json_decref(body);
}

/* ---- create ------------------------------------------------------------------------------ */

typedef struct new_patient {
    const char *family, *given, *first, *middle, *gender;
    const char *mobile, *landline, *email;
    pms_date birth;
} new_patient;

static const char *extension_string(const json_t *body, const char *system)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(body, "extension"), i, e)
    {
        const char *s = string_field(e, "system");
        if (s && strcmp(s, system) == 0)
            return string_field(e, "valueString");
    }
    return NULL;
}

static bool read_contacts(const json_t *body, new_patient *np, json_t *issues)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(body, "contact"), i, c)
    {
        const char *system = string_field(c, "system"), *use = string_field(c, "use");
        const char *value = string_field(c, "value");
        if (system == NULL || value == NULL ||
            (strcmp(system, "email") != 0 && strcmp(system, "phone") != 0)) {
            gentu_validation_add(issues, NULL, "invalid_enum_value",
                                 "Invalid enum value. Expected 'email' | 'phone'", "body",
                                 "contact");
            return false;
        }
        if (strcmp(system, "email") == 0)
            np->email = value;
        else if (use && strcmp(use, "mobile") == 0)
            np->mobile = value;
        else
            np->landline = value;
    }
    return true;
}

static bool read_new_patient(const json_t *body, new_patient *np, json_t *issues)
{
    memset(np, 0, sizeof(*np));
    const json_t *name = json_object_get(body, "name");
    np->family = string_field(name, "family");
    np->given = string_field(name, "given");
    np->first = extension_string(body, "firstname");
    np->middle = extension_string(body, "middlename");
    if (np->family == NULL)
        gentu_validation_add(issues, NULL, "invalid_type", "Required", "body", "name.family");
    if (np->given && (np->first || np->middle))
        gentu_validation_add(issues, NULL, "custom",
                             "Give the name through name.given or the firstname and middlename "
                             "extensions, not both",
                             "body", "name.given");
    else if (np->given == NULL && np->first == NULL)
        gentu_validation_add(issues, NULL, "invalid_type", "Required", "body", "name.given");
    const char *birth = string_field(body, "birthDate");
    if (birth == NULL || pms_date_parse(birth, &np->birth, NULL) != PMS_OK)
        gentu_validation_add(issues, "date", "invalid_string", "Invalid date", "body", "birthDate");
    static const char *const genders[] = {"female", "male", "unspecified"};
    const char *gender = string_field(body, "gender");
    for (size_t i = 0; gender && i < 3; i++)
        if (strcmp(gender, genders[i]) == 0)
            np->gender = genders[i];
    if (gender && np->gender == NULL)
        gentu_validation_add(issues, NULL, "invalid_enum_value", "Invalid enum value", "body",
                             "gender");
    read_contacts(body, np, issues);
    return gentu_validation_count(issues) == 0;
}

/* A new zeroed patient at the end of the tenant's list; the id index is rebuilt (the array
 * moves). NULL when out of memory. */
static gentu_patient *add_patient(gentu_world *w, gentu_tenant *t)
{
    gentu_patient *grown = realloc(t->patients, (t->patient_count + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    t->patients = grown;
    gentu_patient *p = &t->patients[t->patient_count];
    memset(p, 0, sizeof(*p));
    sbx_prng_uuid(&w->mutation_prng, p->id);
    t->patient_count++;
    sbx_strmap_free(&t->patients_by_id);
    sbx_strmap_init(&t->patients_by_id);
    for (size_t i = 0; i < t->patient_count; i++)
        if (!sbx_strmap_put(&t->patients_by_id, t->patients[i].id, &t->patients[i]))
            return NULL;
    return p;
}

/* The first word of the given names (first), the rest (middle). */
static bool split_given(gentu_patient *p, const char *given)
{
    size_t n = strcspn(given, " ");
    p->first = strndup(given, n);
    return p->first != NULL &&
           (given[n] == '\0' || (p->middle = strdup(given + strspn(given + n, " ") + n)) != NULL);
}

static bool fill_patient(gentu_tenant *t, gentu_patient *p, const new_patient *np)
{
    p->birth_date = np->birth;
    p->gender = np->gender;
    p->suburb = t->region->suburbs[0];
    p->state = t->region->state;
    p->postcode = t->region->postcodes[0];
    p->sms_enabled = -1;
    snprintf(p->chart_number, sizeof(p->chart_number), "N%zu", t->patient_count);
    if (np->given) {
        if (!split_given(p, np->given))
            return false;
        p->given = strdup(np->given);
    } else {
        p->first = strdup(np->first);
        if (np->middle && (p->middle = strdup(np->middle)) == NULL)
            return false;
        char given[256];
        snprintf(given, sizeof(given), "%s%s%s", np->first, np->middle ? " " : "",
                 np->middle ? np->middle : "");
        p->given = strdup(given);
    }
    p->family = strdup(np->family);
    return p->first && p->given && p->family && gentu_set_string(&p->email, np->email) &&
           gentu_set_string(&p->mobile, np->mobile) && gentu_set_string(&p->landline, np->landline);
}

void gentu_patients_create(const sbx_request *req, gentu_world *w, gentu_tenant *t,
                           sbx_response *resp)
{
    json_t *body = sbx_parse_json_object(req, resp);
    if (body == NULL)
        return;
    json_t *issues = gentu_validation_new();
    new_patient np;
    if (!read_new_patient(body, &np, issues)) {
        sbx_respond_json(resp, 400, json_incref(issues));
    } else {
        gentu_patient *p = add_patient(w, t);
        if (p == NULL || !fill_patient(t, p, &np))
            sbx_respond_message(resp, 500, "Internal Server Error");
        else
            sbx_respond_json(resp, 201, json_pack("{s:s}", "id", p->id));
    }
    json_decref(issues);
    json_decref(body);
}
