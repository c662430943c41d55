/* Practitioners and appointment types as the PMS lists them. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pmsync/model.h"

void pms_practitioner_clear(pms_practitioner *p)
{
    free(p->id);
    free(p->prefix);
    free(p->given);
    free(p->family);
    free(p->full_name);
    json_decref(p->contact);
    memset(p, 0, sizeof *p);
}

void pms_practitioner_list_clear(pms_practitioner_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        pms_practitioner_clear(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

pms_practitioner *pms_practitioner_list_push(pms_practitioner_list *list)
{
    pms_practitioner *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    list->items = grown;
    pms_practitioner *p = &grown[list->count++];
    memset(p, 0, sizeof *p);
    return p;
}

json_t *pms_practitioner_to_json(const pms_practitioner *p)
{
    json_t *name = json_object();
    json_object_set_new(name, "prefix", pms_json_string_or_null(p->prefix));
    json_object_set_new(name, "given", pms_json_string_or_null(p->given));
    json_object_set_new(name, "family", pms_json_string_or_null(p->family));
    json_t *o = json_object();
    json_object_set_new(o, "id", pms_json_string_or_null(p->id));
    json_object_set_new(o, "name", name);
    json_object_set_new(o, "fullName", pms_json_string_or_null(p->full_name));
    json_object_set_new(o, "active", json_boolean(p->active));
    json_object_set_new(o, "shownInAppointmentBook", json_boolean(p->bookable));
    json_object_set(o, "contact", p->contact ? p->contact : json_null());
    return o;
}

void pms_appt_type_clear(pms_appt_type *t)
{
    free(t->id);
    free(t->name);
    free(t->colour);
    memset(t, 0, sizeof *t);
}

void pms_appt_type_list_clear(pms_appt_type_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        pms_appt_type_clear(&list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

pms_appt_type *pms_appt_type_list_push(pms_appt_type_list *list)
{
    pms_appt_type *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    list->items = grown;
    pms_appt_type *t = &grown[list->count++];
    memset(t, 0, sizeof *t);
    return t;
}

/* Whole-word, case-insensitive match of any keyword. */
bool pms_appt_type_name_suggests_telehealth(const char *name)
{
    static const char *const keywords[] = {"telehealth", "telemedicine", "video",  "phone",
                                           "telephone",  "virtual",      "online", "remote",
                                           "tele",       "zoom",         "coviu"};
    if (name == NULL)
        return false;
    const char *p = name;
    while (*p) {
        while (*p && !isalnum((unsigned char)*p))
            p++;
        const char *word = p;
        while (*p && isalnum((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - word);
        for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
            if (len == strlen(keywords[k]) && strncasecmp(word, keywords[k], len) == 0)
                return true;
    }
    return false;
}
