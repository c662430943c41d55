/* GET /v1/practices/{pid}/appointments (declared in medirecords.h): local wall-clock range,
 * filters, numbered pages in the page envelope (or 204 when empty, a variant), and
 * malformed-record injection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "medirecords.h"
#include "medirecords_json.h"
#include "stats.h"

/* "YYYY-MM-DDThh:mm" (seconds allowed), local, without an offset. */
static bool parse_local_param(const sbx_request *req, const char *name, pms_civil *out,
                              sbx_response *resp)
{
    const char *value = sbx_query(req, name);
    char message[128];
    if (value == NULL) {
        snprintf(message, sizeof(message), "%s is required", name);
        sbx_respond_message(resp, 400, message);
        return false;
    }
    if (strlen(value) < 16 || value[10] != 'T' ||
        pms_iso8601_parse_local(value, out, NULL) != PMS_OK) {
        snprintf(message, sizeof(message), "%s must be a local date-time YYYY-MM-DDThh:mm", name);
        sbx_respond_message(resp, 400, message);
        return false;
    }
    return true;
}

static bool parse_int_param(const sbx_request *req, const char *name, long lo, long hi, long *out,
                            bool *given, sbx_response *resp)
{
    const char *value = sbx_query(req, name);
    *given = value != NULL;
    if (value == NULL)
        return true;
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || v < lo || v > hi) {
        char message[128];
        snprintf(message, sizeof(message), "%s must be an integer in %ld..%ld", name, lo, hi);
        sbx_respond_message(resp, 400, message);
        return false;
    }
    *out = v;
    return true;
}

typedef struct mr_filter {
    const char *provider_id, *patient_id, *type_id, *room_id;
    bool has_status, has_urgency;
    long status, urgency;
} mr_filter;

static bool matches(const mr_practice *p, const mr_appt *a, const mr_filter *f)
{
    if (f->provider_id != NULL && strcmp(p->providers[a->provider].id, f->provider_id) != 0)
        return false;
    if (f->patient_id != NULL && strcmp(p->patients[a->patient].id, f->patient_id) != 0)
        return false;
    if (f->type_id != NULL && strcmp(p->types[a->type].id, f->type_id) != 0)
        return false;
    if (f->room_id != NULL && (a->room < 0 || strcmp(p->rooms[a->room], f->room_id) != 0))
        return false;
    if (f->has_status && a->status != f->status)
        return false;
    return !f->has_urgency || a->urgency == f->urgency;
}

void mr_list_appointments(const sbx_request *req, const mr_practice *p,
                          const sbx_medirecords_config *s, sbx_response *resp)
{
    pms_civil start, end;
    long page = 0, size = 20;
    bool given;
    mr_filter f = {sbx_query(req, "providerId"),
                   sbx_query(req, "patientId"),
                   sbx_query(req, "appointmentTypeId"),
                   sbx_query(req, "roomId"),
                   false,
                   false,
                   0,
                   0};
    if (!parse_local_param(req, "appointmentDateRangeStart", &start, resp) ||
        !parse_local_param(req, "appointmentDateRangeEnd", &end, resp) ||
        !parse_int_param(req, "page", 0, 1000000, &page, &given, resp) ||
        !parse_int_param(req, "size", 1, 1000, &size, &given, resp) ||
        !parse_int_param(req, "appointmentStatus", -1000, 1000, &f.status, &f.has_status, resp) ||
        !parse_int_param(req, "urgency", -1000, 1000, &f.urgency, &f.has_urgency, resp))
        return;
    int cap = sbx_faults_page_size();
    if (cap > 0 && cap < size)
        size = cap;
    int64_t lo = mr_local_key(&start), hi = mr_local_key(&end);
    size_t first = (size_t)page * (size_t)size, total = 0;
    json_t *data = json_array();
    unsigned malformed = 0;
    for (size_t i = sbx_book_seek(&p->book, lo, NULL); i < p->book.count; i++) {
        const sbx_book_entry *e = &p->book.entries[i];
        if (s->range_end_exclusive ? e->key >= hi : e->key > hi)
            break;
        if (!matches(p, e->item, &f))
            continue;
        if (total >= first && total < first + (size_t)size)
            json_array_append_new(data, mr_appt_out(p, e->item, &malformed));
        total++;
    }
    sbx_stats_fault(SBX_STAT_FAULT_MALFORMED, malformed);
    if (json_array_size(data) == 0 && s->empty_204) {
        json_decref(data);
        resp->status = 204; /* no body */
        return;
    }
    sbx_respond_json(resp, 200, mr_page_json(data, (size_t)page, (size_t)size, total));
    resp->truncatable = true;
}
