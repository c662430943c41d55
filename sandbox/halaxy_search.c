/* GET /main/Appointment (declared in halaxy.h): FHIR date parameters with prefixes, the
 * practitioner-role, patient and part-status filters, _sort, and numbered pages in a Bundle. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "halaxy.h"
#include "stats.h"

static bool count_param(const sbx_request *req, const char *name, long lo, long hi, long fallback,
                        long *out, sbx_response *resp)
{
    const char *value = sbx_query(req, name);
    *out = fallback;
    if (value == NULL)
        return true;
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || v < lo || v > hi) {
        char message[128];
        snprintf(message, sizeof(message), "%s must be an integer in %ld..%ld", name, lo, hi);
        hx_respond_outcome(resp, 400, "invalid", message);
        return false;
    }
    *out = v;
    return true;
}

bool hx_paging(const sbx_request *req, size_t *count, size_t *page, sbx_response *resp)
{
    long c = 20, p = 1;
    if (!count_param(req, "_count", 1, 1000, 20, &c, resp) ||
        !count_param(req, "page", 1, 1000000, 1, &p, resp))
        return false;
    int cap = sbx_faults_page_size();
    if (cap > 0 && cap < c)
        c = cap;
    *count = (size_t)c;
    *page = (size_t)p;
    return true;
}

/* The window every date parameter narrows: lo <= start < hi. */
typedef struct window {
    pms_instant lo, hi;
} window;

typedef enum prefix {
    PREFIX_EQ,
    PREFIX_GE,
    PREFIX_GT,
    PREFIX_LE,
    PREFIX_LT,
    PREFIX_OTHER, /* ne, sa, eb, ap: FHIR, but not here */
} prefix;

static prefix read_prefix(const char **value, bool *given)
{
    static const char *const names[] = {"eq", "ge", "gt", "le", "lt"};
    static const char *const others[] = {"ne", "sa", "eb", "ap"};
    const char *v = *value;
    *given = false;
    if (strlen(v) < 3 || v[2] < '0' || v[2] > '9')
        return PREFIX_EQ;
    for (int i = 0; i < 5; i++) {
        if (strncmp(v, names[i], 2) == 0) {
            *given = true;
            *value = v + 2;
            return (prefix)i;
        }
    }
    for (int i = 0; i < 4; i++) {
        if (strncmp(v, others[i], 2) == 0) {
            *given = true;
            *value = v + 2;
            return PREFIX_OTHER;
        }
    }
    return PREFIX_EQ;
}

/* [lo, hi) of a date (the practice's local day) or of a date-time with an offset (one
 * instant). */
static bool parse_date_value(const hx_practice *p, const char *value, pms_instant *lo,
                             pms_instant *hi)
{
    pms_date day;
    if (strlen(value) == 10 && pms_date_parse(value, &day, NULL) == PMS_OK) {
        *lo = pms_tz_day_start(p->tz, day);
        *hi = pms_tz_day_start(p->tz, pms_date_add_days(day, 1));
        return true;
    }
    if (strlen(value) > 10 && value[10] == 'T' &&
        pms_iso8601_parse(value, lo, NULL, NULL) == PMS_OK) {
        *hi = *lo + 1;
        return true;
    }
    return false;
}

static void narrow(window *w, prefix pre, pms_instant lo, pms_instant hi)
{
    pms_instant new_lo = pre == PREFIX_EQ || pre == PREFIX_GE ? lo
                         : pre == PREFIX_GT                   ? hi
                                                              : INT64_MIN;
    pms_instant new_hi = pre == PREFIX_EQ || pre == PREFIX_LE ? hi
                         : pre == PREFIX_LT                   ? lo
                                                              : INT64_MAX;
    if (new_lo > w->lo)
        w->lo = new_lo;
    if (new_hi < w->hi)
        w->hi = new_hi;
}

/* Every prefixed date parameter narrows the window; of the plain ones only the last counts
 * (they overwrite each other, as on the real API). False after answering 400. */
static bool date_window(const sbx_request *req, const hx_practice *p, const sbx_halaxy_config *s,
                        window *w, sbx_response *resp)
{
    w->lo = INT64_MIN;
    w->hi = INT64_MAX;
    size_t last_plain = SIZE_MAX;
    for (size_t i = 0; i < req->query_count; i++) {
        const char *v = req->query[i].value;
        bool given = false;
        if (strcmp(req->query[i].key, "date") == 0 && v != NULL) {
            read_prefix(&v, &given);
            if (!given)
                last_plain = i;
        }
    }
    for (size_t i = 0; i < req->query_count; i++) {
        if (strcmp(req->query[i].key, "date") != 0)
            continue;
        const char *v = req->query[i].value != NULL ? req->query[i].value : "";
        bool given = false;
        prefix pre = read_prefix(&v, &given);
        if (!given && i != last_plain)
            continue;
        char message[160];
        if (pre == PREFIX_OTHER || (s->no_range_prefixes && pre != PREFIX_EQ)) {
            snprintf(message, sizeof(message), "The date prefix %.2s is not supported",
                     req->query[i].value);
            hx_respond_outcome(resp, 400, "not-supported", message);
            return false;
        }
        pms_instant lo, hi;
        if (!parse_date_value(p, v, &lo, &hi)) {
            hx_respond_outcome(resp, 400, "invalid",
                               "date must be YYYY-MM-DD or a date-time with an offset, with an "
                               "optional eq, ge, gt, le or lt prefix");
            return false;
        }
        narrow(w, pre, lo, hi);
    }
    return true;
}

typedef struct filters {
    const char *role_id, *patient_id;
    bool has_status;
    hx_status status;
    bool descending;
} filters;

static bool read_filters(const sbx_request *req, filters *f, sbx_response *resp)
{
    memset(f, 0, sizeof(*f));
    f->role_id = hx_reference_id(sbx_query(req, "practitioner-role"));
    const char *patient = sbx_query(req, "patient");
    if (patient != NULL && strchr(patient, '/') == NULL) {
        hx_respond_outcome(resp, 422, "processing",
                           "patient is a reference parameter: give Patient/{id} or its URL");
        return false;
    }
    f->patient_id = hx_reference_id(patient);
    const char *status = sbx_query(req, "part-status");
    if (status != NULL) {
        f->has_status = true;
        if (!hx_status_parse(status, &f->status)) {
            hx_respond_outcome(resp, 400, "invalid", "part-status is not a participant status");
            return false;
        }
    }
    const char *sort = sbx_query(req, "_sort");
    if (sort != NULL && strcmp(sort, "date") != 0 && strcmp(sort, "-date") != 0) {
        hx_respond_outcome(resp, 400, "not-supported", "_sort supports date and -date");
        return false;
    }
    f->descending = sort != NULL && sort[0] == '-';
    return true;
}

static bool matches(const hx_practice *p, const hx_appt *a, const filters *f)
{
    if (f->role_id != NULL && strcmp(p->roles[a->role].id, f->role_id) != 0)
        return false;
    if (f->patient_id != NULL &&
        (a->patient < 0 || strcmp(p->patients[a->patient].id, f->patient_id) != 0))
        return false;
    return !f->has_status || (a->patient >= 0 && a->status == f->status);
}

void hx_search_appointments(const sbx_request *req, const hx_practice *p,
                            const sbx_halaxy_config *s, sbx_response *resp)
{
    window w;
    filters f;
    size_t count, page;
    if (!date_window(req, p, s, &w, resp) || !read_filters(req, &f, resp) ||
        !hx_paging(req, &count, &page, resp))
        return;
    const hx_appt **found = NULL;
    size_t total = 0;
    size_t first = sbx_book_seek(&p->book, w.lo, NULL);
    if (first < p->book.count) {
        found = malloc((p->book.count - first) * sizeof(*found));
        if (found == NULL) {
            hx_respond_outcome(resp, 500, "exception", "Out of memory");
            return;
        }
    }
    for (size_t i = first; i < p->book.count && p->book.entries[i].key < w.hi; i++) {
        const hx_appt *a = p->book.entries[i].item;
        if (matches(p, a, &f))
            found[total++] = a;
    }
    hx_ctx ctx = hx_ctx_for(req, s);
    json_t *bundle = hx_bundle_new(&ctx, req, page, count, total);
    unsigned malformed = 0;
    for (size_t k = (page - 1) * count; k < total && k < page * count; k++) {
        const hx_appt *a = found[f.descending ? total - 1 - k : k];
        hx_bundle_add(&ctx, bundle, "Appointment", a->id, hx_appt_out(&ctx, p, a, &malformed));
    }
    free(found);
    sbx_stats_fault(SBX_STAT_FAULT_MALFORMED, malformed);
    hx_respond(resp, 200, bundle);
}
