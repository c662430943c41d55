/* Gentu free times (Bookings API, pms-api-notes §2.3): GET …/schedules?fromDate=&toDate=
 * &practitionerIds=&appointmentTypeIds= answers {"schedules":[{practitionerId, minutesDuration,
 * availabilities:[{startAt,endAt}]}]}. Each availability is cut into back-to-back slots of the
 * asked length, from its start. A window wider than the API's 90 days is asked in parts. */
#include <stdlib.h>
#include <string.h>

#include "adapters/gentu/gentu.h"
#include "adapters/write.h"

#define MAX_WINDOW_MS ((pms_instant)90 * 24 * 3600 * 1000)
#define MINUTE_MS     ((pms_instant)60000)
#define MAX_SLOTS     5000

/* A comma list of the practitioners to ask about, URL-encoded: the one asked for, else every
 * active practitioner shown in the appointment book. */
static int practitioner_param(pms_session *s, const char *practitioner_id, char **out,
                              pms_error *err)
{
    *out = NULL;
    if (practitioner_id) {
        *out = pms_url_encode(practitioner_id);
        return *out ? PMS_OK : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    pms_practitioner_list listed = {0};
    int rc = pms_gentu_list_practitioners(s, &listed, err);
    if (rc != PMS_OK)
        return rc;
    size_t len = 1;
    for (size_t i = 0; i < listed.count; i++)
        len += strlen(listed.items[i].id) * 3 + 3;
    char *list = calloc(1, len);
    for (size_t i = 0; list && i < listed.count; i++) {
        if (!listed.items[i].active || !listed.items[i].bookable)
            continue;
        char *one = pms_url_encode(listed.items[i].id);
        if (one == NULL) {
            free(list);
            list = NULL;
            break;
        }
        if (list[0])
            strcat(list, "%2C");
        strcat(list, one);
        free(one);
    }
    pms_practitioner_list_clear(&listed);
    if (list == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    *out = list;
    return PMS_OK;
}

static char *encoded_time(pms_session *s, pms_instant t)
{
    char text[PMS_TIME_BUFLEN];
    pms_write_format_local(s, t, true, text);
    return pms_url_encode(text);
}

static int push_slot(pms_slot_list *out, size_t *capacity, const char *practitioner,
                     pms_instant start, int minutes)
{
    if (out->count == *capacity) {
        size_t grown = *capacity ? *capacity * 2 : 32;
        pms_slot *items = realloc(out->items, grown * sizeof *items);
        if (items == NULL)
            return PMS_ERR_NOMEM;
        out->items = items;
        *capacity = grown;
    }
    pms_slot *slot = &out->items[out->count];
    if ((slot->practitioner_id = strdup(practitioner)) == NULL)
        return PMS_ERR_NOMEM;
    slot->start = start;
    slot->end = start + (pms_instant)minutes * MINUTE_MS;
    out->count++;
    return PMS_OK;
}

/* Cuts one schedule's availabilities into slots inside the query's window. */
static int cut_schedule(const json_t *schedule, const pms_slot_query *q, int minutes,
                        pms_slot_list *out, size_t *capacity, pms_error *err)
{
    const char *practitioner = json_string_value(json_object_get(schedule, "practitionerId"));
    const json_t *length = json_object_get(schedule, "minutesDuration");
    if (minutes <= 0 && json_is_integer(length))
        minutes = (int)json_integer_value(length);
    if (practitioner == NULL || minutes <= 0)
        return PMS_OK; /* nothing bookable can be said about it */
    size_t i;
    json_t *free_time;
    json_array_foreach(json_object_get(schedule, "availabilities"), i, free_time)
    {
        pms_instant from, to;
        if (pms_iso8601_parse(json_string_value(json_object_get(free_time, "startAt")), &from, NULL,
                              NULL) != PMS_OK ||
            pms_iso8601_parse(json_string_value(json_object_get(free_time, "endAt")), &to, NULL,
                              NULL) != PMS_OK)
            return pms_error_set(err, PMS_ERR_PARSE,
                                 "Gentu sent an availability without readable startAt and endAt");
        for (pms_instant t = from; t + minutes * MINUTE_MS <= to && out->count < MAX_SLOTS;
             t += minutes * MINUTE_MS) {
            if (t < q->from || t >= q->to)
                continue;
            if (push_slot(out, capacity, practitioner, t, minutes) != PMS_OK)
                return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        }
    }
    return PMS_OK;
}

/* One request of at most 90 days. */
static int ask_window(pms_session *s, const pms_slot_query *q, const char *practitioners,
                      pms_instant from, pms_instant to, int minutes, pms_slot_list *out,
                      size_t *capacity, pms_error *err)
{
    char *from_param = encoded_time(s, from), *to_param = encoded_time(s, to);
    char *type = q->appointment_type_id ? pms_url_encode(q->appointment_type_id) : NULL;
    char *suffix = NULL;
    int rc = PMS_OK;
    if (from_param == NULL || to_param == NULL || (q->appointment_type_id && type == NULL) ||
        asprintf(&suffix, "/schedules?fromDate=%s&toDate=%s&practitionerIds=%s%s%s", from_param,
                 to_param, practitioners, type ? "&appointmentTypeIds=" : "",
                 type ? type : "") < 0) {
        suffix = NULL;
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    free(from_param);
    free(to_param);
    free(type);
    if (rc != PMS_OK)
        return rc;
    char *url = pms_gentu_tenant_url(s, suffix, err);
    free(suffix);
    if (url == NULL)
        return err ? (int)err->code : PMS_ERR_CONFIG;
    json_t *json = NULL;
    rc = pms_session_get_json(s, NULL, url, &json, err);
    free(url);
    if (rc != PMS_OK)
        return rc;
    const json_t *schedules = json_object_get(json, "schedules");
    if (!json_is_array(schedules))
        rc = pms_error_set(err, PMS_ERR_PARSE, "Gentu's schedules answer has no schedules list");
    size_t i;
    json_t *schedule;
    json_array_foreach(schedules, i, schedule)
    {
        if (rc == PMS_OK)
            rc = cut_schedule(schedule, q, minutes, out, capacity, err);
    }
    json_decref(json);
    return rc;
}

static int slot_order(const void *x, const void *y)
{
    const pms_slot *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return strcmp(a->practitioner_id, b->practitioner_id);
}

/* Sorted by time, each (time, practitioner) once (two schedules may offer the same time). */
static void sort_unique(pms_slot_list *list)
{
    if (list->count == 0)
        return;
    qsort(list->items, list->count, sizeof *list->items, slot_order);
    size_t kept = 1;
    for (size_t i = 1; i < list->count; i++) {
        if (slot_order(&list->items[i], &list->items[kept - 1]) == 0)
            free(list->items[i].practitioner_id);
        else
            list->items[kept++] = list->items[i];
    }
    list->count = kept;
}

int pms_gentu_find_slots(pms_session *s, const pms_slot_query *q, pms_slot_list *out,
                         pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (q->to <= q->from)
        return pms_error_set(err, PMS_ERR_INVALID, "the window to search has no length");
    int minutes = q->duration_minutes;
    if (minutes <= 0 && q->appointment_type_id) {
        const pms_appt_type *t = pms_session_appt_type(s, q->appointment_type_id);
        minutes = t && t->duration_minutes > 0 ? t->duration_minutes : 0;
    }
    char *practitioners = NULL;
    int rc = practitioner_param(s, q->practitioner_id, &practitioners, err);
    if (rc != PMS_OK)
        return rc;
    size_t capacity = 0;
    if (practitioners[0] != '\0') {
        for (pms_instant from = q->from; rc == PMS_OK && from < q->to; from += MAX_WINDOW_MS) {
            pms_instant to = q->to - from > MAX_WINDOW_MS ? from + MAX_WINDOW_MS : q->to;
            rc = ask_window(s, q, practitioners, from, to, minutes, out, &capacity, err);
        }
    }
    free(practitioners);
    if (rc != PMS_OK)
        pms_slot_list_clear(out);
    else
        sort_unique(out);
    return rc;
}
