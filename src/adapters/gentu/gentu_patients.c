/* Gentu patients (Bookings API, pms-api-notes §2.3, §2.6): POST …/patients/list with filters
 * (at least one of birthDate, email, familyName, medicareCardNumber, mobilePhone; firstName
 * narrows) pages by cursor; POST …/patients creates one (the name through name.given, contacts
 * of system email or phone) and answers {"id"}. */
#include <stdlib.h>
#include <string.h>

#include "adapters/gentu/gentu.h"
#include "adapters/write.h"

#define SEARCH_PAGE_SIZE 100
#define MAX_SEARCH_PAGES 10

static json_t *search_filters(const pms_patient_query *q)
{
    json_t *filters = json_object();
    if (filters == NULL)
        return NULL;
    if (q->family_name)
        json_object_set_new(filters, "familyName", json_string(q->family_name));
    if (q->email)
        json_object_set_new(filters, "email", json_string(q->email));
    if (q->phone)
        json_object_set_new(filters, "mobilePhone", json_string(q->phone));
    if (q->has_date_of_birth) {
        char dob[PMS_TIME_BUFLEN];
        pms_date_format(q->date_of_birth, dob);
        json_object_set_new(filters, "birthDate", json_string(dob));
    }
    if (json_object_size(filters) > 0 && q->given_name)
        json_object_set_new(filters, "firstName", json_string(q->given_name));
    return filters;
}

/* Maps one page's patients onto the end of out. */
static int append_page(pms_session *s, const json_t *patients, pms_patient_list *out,
                       pms_error *err)
{
    size_t n = json_array_size(patients);
    if (n == 0)
        return PMS_OK;
    pms_patient *grown = realloc(out->items, (out->count + n) * sizeof *grown);
    if (grown == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    out->items = grown;
    pms_phone_region region = pms_phone_region_for_timezone(pms_session_tz_name(s));
    size_t i;
    json_t *item;
    json_array_foreach(patients, i, item)
    {
        if (pms_gentu_map_patient(item, region, &out->items[out->count], NULL) == PMS_OK)
            out->count++;
    }
    return PMS_OK;
}

int pms_gentu_search_patients(pms_session *s, const pms_patient_query *q, pms_patient_list *out,
                              pms_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *filters = search_filters(q);
    if (filters == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (json_object_size(filters) == 0) {
        json_decref(filters);
        return pms_error_set(err, PMS_ERR_INVALID,
                             "Gentu finds patients by family name, date of birth, e-mail or "
                             "mobile number: give at least one");
    }
    char *url = pms_gentu_tenant_url(s, "/patients/list", err);
    json_t *body =
        json_pack("{s:o, s:{s:i}}", "filters", filters, "pagination", "limit", SEARCH_PAGE_SIZE);
    int rc = url && body
                 ? PMS_OK
                 : (url ? pms_error_set(err, PMS_ERR_NOMEM, "out of memory") : PMS_ERR_CONFIG);
    for (int page = 0; rc == PMS_OK && page < MAX_SEARCH_PAGES; page++) {
        pms_write_answer a;
        if ((rc = pms_write_send(s, "POST", url, body, NULL, &a, err)) != PMS_OK)
            break;
        if (!pms_write_ok(&a)) {
            rc = a.status == 404
                     ? PMS_OK /* none found */
                     : pms_error_set(err, PMS_ERR_INVALID,
                                     "Gentu refused the patient search (HTTP %ld)", a.status);
            pms_write_answer_clear(&a);
            break;
        }
        rc = append_page(s, json_object_get(a.json, "patients"), out, err);
        const char *next =
            json_string_value(json_object_get(json_object_get(a.json, "pagination"), "next"));
        bool more = rc == PMS_OK && next && next[0];
        if (more)
            json_object_set_new(json_object_get(body, "pagination"), "cursor", json_string(next));
        pms_write_answer_clear(&a);
        if (!more)
            break;
    }
    free(url);
    json_decref(body);
    if (rc != PMS_OK)
        pms_patient_list_clear(out);
    return rc;
}

int pms_gentu_create_patient(pms_session *s, const pms_patient *p, char **new_id, pms_error *err)
{
    *new_id = NULL;
    if (p->first_name == NULL || p->last_name == NULL || !p->has_date_of_birth)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "Gentu needs a first name, a last name and a date of birth");
    char dob[PMS_TIME_BUFLEN];
    pms_date_format(p->date_of_birth, dob);
    json_t *contact = json_array();
    if (contact && p->phone)
        json_array_append_new(contact, json_pack("{s:s, s:s, s:s}", "system", "phone", "use",
                                                 "mobile", "value", p->phone));
    if (contact && p->email)
        json_array_append_new(contact, json_pack("{s:s, s:s, s:s}", "system", "email", "use",
                                                 "home", "value", p->email));
    json_t *body = json_pack("{s:{s:s, s:s}, s:s, s:o}", "name", "family", p->last_name, "given",
                             p->first_name, "birthDate", dob, "contact", contact);
    pms_write_answer a;
    int rc =
        pms_write_send_owned(s, "POST", pms_gentu_tenant_url(s, "/patients", err), body, &a, err);
    if (rc != PMS_OK)
        return rc;
    rc = pms_write_created_id(&a, "Gentu", "the new patient", new_id, err);
    pms_write_answer_clear(&a);
    return rc;
}
