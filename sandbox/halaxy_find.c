/* GET /main/Appointment/$find (declared in halaxy.h), pms-api-notes §4.4.
 *
 * start, end and duration are required [live]; start and end may be dates (the practice's
 * days) or times with an offset [guess: the notes do not show their form]. The practice roles
 * (PR-, active, of an active practitioner; or the one practitioner-role asked) work every day
 * from SBX_DAY_OPEN_MINUTES to SBX_DAY_CLOSE_MINUTES local time. Each free period — those hours
 * minus the role's appointments that are not cancelled — is cut into back-to-back candidates of
 * `duration` minutes from its start. The answer is a searchset Bundle of candidate Appointments
 * (status proposed, the PractitionerRole as participant), paged like every search;
 * show=first-available keeps each role's first. apply-buffer-time and include-overbooked are
 * accepted and change nothing (the simulator keeps no buffers and never overbooks). */
#include <stdlib.h>
#include <string.h>

#include "halaxy.h"

#define MAX_CANDIDATES 5000

/* A date ("2026-04-05": the practice's day start) or a time with offset. */
static bool read_bound(const hx_practice *p, const char *value, bool end, pms_instant *out)
{
    pms_date day;
    if (value == NULL)
        return false;
    if (strlen(value) == 10 && pms_date_parse(value, &day, NULL) == PMS_OK) {
        *out = pms_tz_day_start(p->tz, end ? pms_date_add_days(day, 1) : day);
        return true;
    }
    return pms_iso8601_parse(value, out, NULL, NULL) == PMS_OK;
}

static bool busy(hx_status status)
{
    return status != HX_STATUS_CANCELLED && status != HX_STATUS_CANCELLED_NO_CHARGE;
}

static json_t *candidate(const hx_ctx *ctx, const hx_practice *p, int role, pms_instant start,
                         int minutes)
{
    char a[PMS_TIME_BUFLEN], b[PMS_TIME_BUFLEN];
    pms_instant end = start + (pms_instant)minutes * SBX_MINUTE_MS;
    hx_format_time(start, pms_tz_offset_at(p->tz, start, NULL), a);
    hx_format_time(end, pms_tz_offset_at(p->tz, end, NULL), b);
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:[{s:o, s:s}]}", "resourceType", "Appointment",
                     "status", "proposed", "start", a, "end", b, "minutesDuration", minutes,
                     "participant", "actor",
                     hx_reference(ctx, "PractitionerRole", p->roles[role].id, p->roles[role].id),
                     "status", "needs-action");
}

/* Candidates of one role in [from, to), appended to out. */
static void role_candidates(const hx_ctx *ctx, const hx_practice *p, int role, pms_instant from,
                            pms_instant to, int minutes, bool first_only, json_t *out)
{
    pms_instant step = (pms_instant)minutes * SBX_MINUTE_MS;
    size_t before = json_array_size(out);
    for (pms_date day = pms_tz_date_of(p->tz, from);
         pms_date_compare(day, pms_tz_date_of(p->tz, to - 1)) <= 0;
         day = pms_date_add_days(day, 1)) {
        pms_instant open = sbx_local_instant(p->tz, day, SBX_DAY_OPEN_MINUTES);
        pms_instant close = sbx_local_instant(p->tz, day, SBX_DAY_CLOSE_MINUTES);
        pms_instant cursor = open;
        size_t i = sbx_book_seek(&p->book, open - 24 * 3600 * 1000LL, NULL);
        for (;;) {
            /* the next busy period of the role that ends after cursor */
            pms_instant busy_from = close, busy_to = close;
            for (; i < p->book.count && p->book.entries[i].key < close; i++) {
                const hx_appt *a = p->book.entries[i].item;
                pms_instant a_end = a->start + (pms_instant)a->minutes * SBX_MINUTE_MS;
                if (a->role == role && busy(a->status) && a_end > cursor) {
                    busy_from = a->start;
                    busy_to = a_end;
                    i++;
                    break;
                }
            }
            for (pms_instant t = cursor; t + step <= busy_from; t += step) {
                if (t < from || t >= to || json_array_size(out) >= MAX_CANDIDATES)
                    continue;
                if (first_only && json_array_size(out) > before)
                    return;
                json_array_append_new(out, candidate(ctx, p, role, t, minutes));
            }
            if (busy_from >= close)
                break;
            if (busy_to > cursor)
                cursor = busy_to;
        }
    }
}

void hx_find_appointments(const sbx_request *req, const hx_practice *p, const hx_ctx *ctx,
                          sbx_response *resp)
{
    pms_instant from, to;
    const char *duration = sbx_query(req, "duration");
    char *end = NULL;
    long minutes = duration ? strtol(duration, &end, 10) : 0;
    if (!read_bound(p, sbx_query(req, "start"), false, &from) ||
        !read_bound(p, sbx_query(req, "end"), true, &to) || duration == NULL || *end != '\0' ||
        minutes < 1 || minutes > 24 * 60) {
        hx_respond_outcome(resp, 400, "required",
                           "start, end (dates or times with an offset) and duration (minutes) "
                           "are required");
        return;
    }
    const char *asked = hx_reference_id(sbx_query(req, "practitioner-role"));
    int only = asked ? hx_find_role(p, asked) : -1;
    if (asked && only < 0) {
        hx_respond_outcome(resp, 404, "not-found", "PractitionerRole is not known");
        return;
    }
    const char *show = sbx_query(req, "show");
    bool first_only = show && strcmp(show, "first-available") == 0;
    json_t *all = json_array();
    for (size_t r = 0; r < p->role_count && from < to; r++) {
        const hx_role *role = &p->roles[r];
        bool wanted = only >= 0 ? (int)r == only
                                : !role->external && role->active &&
                                      p->practitioners[role->practitioner].active;
        if (wanted)
            role_candidates(ctx, p, (int)r, from, to, (int)minutes, first_only, all);
    }
    size_t count, page;
    if (!hx_paging(req, &count, &page, resp)) {
        json_decref(all);
        return;
    }
    json_t *bundle = hx_bundle_new(ctx, req, page, count, json_array_size(all));
    json_t *entries = json_array();
    for (size_t i = (page - 1) * count; i < json_array_size(all) && i < page * count; i++)
        json_array_append_new(entries, json_pack("{s:O}", "resource", json_array_get(all, i)));
    if (json_array_size(entries) > 0)
        json_object_set_new(bundle, "entry", entries);
    else
        json_decref(entries);
    json_decref(all);
    hx_respond(resp, 200, bundle);
}
