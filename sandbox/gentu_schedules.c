/* GET /v1/tenants/{t}/schedules (Bookings API, pms-api-notes §2.3), declared in gentu.h.
 *
 * A practitioner who is active and shown in the appointment book works every day from
 * SBX_DAY_OPEN_MINUTES to SBX_DAY_CLOSE_MINUTES local time; their availabilities are those hours
 * minus the appointments they have that are not cancelled. One schedule per practitioner, day
 * and asked appointment type (minutesDuration: the type's length, else 15). The window is at
 * most 90 days; fromDate and toDate are ISO 8601 with an offset. */
#include <stdlib.h>
#include <string.h>

#include "gentu.h"
#include "gentu_json.h"

#define MAX_WINDOW_MS   ((pms_instant)90 * 24 * 3600 * 1000)
#define MAX_LIST_ITEMS  64
#define DEFAULT_MINUTES 15

typedef struct schedule_query {
    pms_instant from, to;
    int practitioners[MAX_LIST_ITEMS];
    size_t practitioner_count;
    int types[MAX_LIST_ITEMS]; /* -1: none asked */
    size_t type_count;
} schedule_query;

/* A comma list of ids, each looked up with find (index or -1). */
static bool read_ids(const sbx_request *req, const char *name, const gentu_tenant *t,
                     int (*find)(const gentu_tenant *, const char *), int *out, size_t *count,
                     json_t *issues)
{
    *count = 0;
    const char *value = sbx_query(req, name);
    if (value == NULL)
        return true;
    char one[SBX_UUID_LEN + 8];
    for (const char *p = value; *p;) {
        size_t n = strcspn(p, ",");
        int index = -1;
        if (n < sizeof(one)) {
            memcpy(one, p, n);
            one[n] = '\0';
            index = find(t, one);
        }
        if (index < 0 || *count == MAX_LIST_ITEMS) {
            gentu_validation_add(issues, NULL, "custom", "Unknown id", "query", name);
            return false;
        }
        out[(*count)++] = index;
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

static bool read_query(const sbx_request *req, const gentu_tenant *t, schedule_query *q,
                       json_t *issues)
{
    memset(q, 0, sizeof(*q));
    bool ok = gentu_query_datetime(req, "fromDate", issues, &q->from);
    ok = gentu_query_datetime(req, "toDate", issues, &q->to) && ok;
    if (ok && (q->to <= q->from || q->to - q->from > MAX_WINDOW_MS)) {
        gentu_validation_add(issues, NULL, "custom",
                             "toDate must be after fromDate and at most 90 days later", "query",
                             "toDate");
        ok = false;
    }
    ok = read_ids(req, "practitionerIds", t, gentu_find_practitioner, q->practitioners,
                  &q->practitioner_count, issues) &&
         ok;
    ok =
        read_ids(req, "appointmentTypeIds", t, gentu_find_type, q->types, &q->type_count, issues) &&
        ok;
    if (q->practitioner_count == 0)
        for (size_t i = 0; i < t->practitioner_count && i < MAX_LIST_ITEMS; i++)
            q->practitioners[q->practitioner_count++] = (int)i;
    if (q->type_count == 0) {
        q->types[0] = -1;
        q->type_count = 1;
    }
    return ok;
}

static json_t *period_json(const gentu_tenant *t, pms_instant from, pms_instant to)
{
    char a[PMS_TIME_BUFLEN], b[PMS_TIME_BUFLEN];
    gentu_format_time(t, from, a);
    gentu_format_time(t, to, b);
    return json_pack("{s:s, s:s}", "startAt", a, "endAt", b);
}

/* The free parts of [open, close) in one practitioner's book. */
static json_t *free_periods(const gentu_tenant *t, int practitioner, pms_instant open,
                            pms_instant close)
{
    json_t *list = json_array();
    const gentu_schedule *book = &t->schedules[practitioner];
    pms_instant cursor = open;
    for (size_t i = gentu_schedule_seek(book, open - 24 * 3600 * 1000LL, NULL);
         i < book->count && book->items[i]->start < close; i++) {
        const gentu_appt *a = book->items[i];
        pms_instant end = a->start + (pms_instant)a->minutes * SBX_MINUTE_MS;
        if (a->status == GENTU_STATUS_CANCELLED || end <= cursor)
            continue;
        if (a->start > cursor)
            json_array_append_new(list, period_json(t, cursor, a->start));
        cursor = end;
    }
    if (cursor < close)
        json_array_append_new(list, period_json(t, cursor, close));
    return list;
}

static void add_day(const gentu_tenant *t, const schedule_query *q, int practitioner, pms_date day,
                    json_t *out)
{
    pms_instant open = sbx_local_instant(t->tz, day, SBX_DAY_OPEN_MINUTES);
    pms_instant close = sbx_local_instant(t->tz, day, SBX_DAY_CLOSE_MINUTES);
    if (open < q->from)
        open = q->from;
    if (close > q->to)
        close = q->to;
    if (open >= close)
        return;
    const gentu_practitioner *p = &t->practitioners[practitioner];
    for (size_t k = 0; k < q->type_count; k++) {
        int type = q->types[k];
        int minutes =
            type >= 0 && t->types[type].duration > 0 ? t->types[type].duration : DEFAULT_MINUTES;
        char start[PMS_TIME_BUFLEN], end[PMS_TIME_BUFLEN], name[160];
        gentu_format_time(t, open, start);
        gentu_format_time(t, close, end);
        snprintf(name, sizeof(name), "%s %s %s consulting", p->prefix ? p->prefix : "", p->given,
                 p->family);
        json_array_append_new(
            out,
            json_pack("{s:n, s:s, s:s, s:o, s:s, s:s, s:s, s:i, s:o}", "id", "name",
                      name[0] == ' ' ? name + 1 : name, "practitionerId", p->id,
                      "appointmentTypeId", type >= 0 ? json_string(t->types[type].id) : json_null(),
                      "siteId", t->sites[0].id, "startAt", start, "endAt", end, "minutesDuration",
                      minutes, "availabilities", free_periods(t, practitioner, open, close)));
    }
}

void gentu_schedules(const sbx_request *req, const gentu_tenant *t, sbx_response *resp)
{
    json_t *issues = gentu_validation_new();
    schedule_query q;
    if (!read_query(req, t, &q, issues)) {
        sbx_respond_json(resp, 400, issues);
        return;
    }
    json_decref(issues);
    json_t *schedules = json_array();
    pms_date first = pms_tz_date_of(t->tz, q.from), last = pms_tz_date_of(t->tz, q.to - 1);
    for (size_t i = 0; i < q.practitioner_count; i++) {
        const gentu_practitioner *p = &t->practitioners[q.practitioners[i]];
        if (!p->active || !p->shown)
            continue;
        for (pms_date day = first; pms_date_compare(day, last) <= 0;
             day = pms_date_add_days(day, 1))
            add_day(t, &q, q.practitioners[i], day, schedules);
    }
    sbx_respond_json(resp, 200, json_pack("{s:o}", "schedules", schedules));
}
