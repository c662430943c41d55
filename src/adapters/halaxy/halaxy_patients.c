/* Halaxy patient search (pms-api-notes §4.4): GET /main/Patient?family=&email=&phone=&_count=,
 * following the Bundle's next links. Those three are the parameters seen in use; a given name
 * and a date of birth narrow the answer here. A phone number in international form is sent in
 * the national form Australian practices write (+61 4… → 04…). Creating patients is not
 * offered: the notes know of no Patient create. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/halaxy/halaxy.h"
#include "adapters/write.h"

#define MAX_FOUND 200

typedef struct search {
    const pms_patient_query *q;
    pms_phone_region region;
    pms_patient_list *out;
    size_t capacity;
} search;

static bool wanted(const search *sr, const pms_patient *p)
{
    const pms_patient_query *q = sr->q;
    if (q->has_date_of_birth &&
        (!p->has_date_of_birth || pms_date_compare(p->date_of_birth, q->date_of_birth) != 0))
        return false;
    return q->given_name == NULL ||
           (p->first_name && strncasecmp(p->first_name, q->given_name, strlen(q->given_name)) == 0);
}

static int on_patient_page(pms_session *s, pms_http_client *client, const json_t *bundle, void *ctx,
                           pms_error *err)
{
    (void)s;
    (void)client;
    search *sr = ctx;
    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(bundle, "entry"), i, entry)
    {
        const json_t *resource = pms_halaxy_entry_resource(entry, "Patient");
        if (resource == NULL || sr->out->count >= MAX_FOUND)
            continue;
        if (sr->out->count == sr->capacity) {
            size_t grown = sr->capacity ? sr->capacity * 2 : 16;
            pms_patient *items = realloc(sr->out->items, grown * sizeof *items);
            if (items == NULL)
                return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            sr->out->items = items;
            sr->capacity = grown;
        }
        pms_patient *p = &sr->out->items[sr->out->count];
        if (pms_halaxy_map_patient(resource, sr->region, p, NULL) != PMS_OK)
            continue;
        if (wanted(sr, p))
            sr->out->count++;
        else
            pms_patient_clear(p);
    }
    return PMS_OK;
}

/* "&name=value" (value URL-encoded) appended to *query; false when out of memory. */
static bool add_param(char **query, const char *name, const char *value)
{
    if (value == NULL)
        return true;
    char *encoded = pms_url_encode(value), *grown = NULL;
    bool ok = encoded && asprintf(&grown, "%s&%s=%s", *query, name, encoded) >= 0;
    free(encoded);
    if (ok) {
        free(*query);
        *query = grown;
    }
    return ok;
}

int pms_halaxy_search_patients(pms_session *s, const pms_patient_query *q, pms_patient_list *out,
                               pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (q->family_name == NULL && q->email == NULL && q->phone == NULL)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "Halaxy finds patients by family name, e-mail or phone number: give "
                             "at least one");
    char national[32] = "";
    if (q->phone && strncmp(q->phone, "+61", 3) == 0 && strlen(q->phone) < sizeof national)
        snprintf(national, sizeof national, "0%s", q->phone + 3);
    char *query = strdup("_count=100");
    bool ok = query && add_param(&query, "family", q->family_name) &&
              add_param(&query, "email", q->email) &&
              add_param(&query, "phone", national[0] ? national : q->phone);
    char *url = ok ? pms_write_url(s, "/main/Patient?%s", query) : NULL;
    free(query);
    if (url == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    search sr = {
        .q = q, .region = pms_phone_region_for_timezone(pms_session_tz_name(s)), .out = out};
    int rc = pms_halaxy_walk_bundle(s, NULL, url, "patient search", on_patient_page, &sr, err);
    free(url);
    if (rc != PMS_OK)
        pms_patient_list_clear(out);
    return rc;
}
