/* Whether a time is free with a practitioner, asked of a PMS that has no availability endpoint:
 * the practitioner's appointments of the local days the time touches are read from the PMS
 * itself (fetch_appointments, without patient details) and the time is free when none of them
 * that still holds its time (not cancelled) overlaps it. */
#include <string.h>

#include "pmsync/session.h"
#include "pmsync/tz.h"
#include "server/pms_slots.h"

typedef struct overlap_scan {
    const char *practitioner_id;
    const char *except_id; /* the appointment being moved: its own time does not count */
    pms_instant start, end;
    bool overlaps;
} overlap_scan;

static bool holds_time(const pms_appointment *a)
{
    return a->status != PMS_STATUS_CANCELLED;
}

static pms_instant end_of(const pms_appointment *a)
{
    if (a->end_time != PMS_INSTANT_NONE && a->end_time > a->start_time)
        return a->end_time;
    int minutes = a->duration_minutes > 0 ? a->duration_minutes : 1;
    return a->start_time + (pms_instant)minutes * 60000;
}

static int scan_batch(void *ctx, pms_appointment *items, size_t count, pms_error *err)
{
    overlap_scan *scan = ctx;
    (void)err;
    for (size_t i = 0; i < count; i++) {
        const pms_appointment *a = &items[i];
        if (!holds_time(a) || a->start_time == PMS_INSTANT_NONE)
            continue;
        if (scan->except_id && a->pms_appointment_id &&
            strcmp(a->pms_appointment_id, scan->except_id) == 0)
            continue;
        const char *who = a->practitioner.pms_practitioner_id;
        if (scan->practitioner_id && (who == NULL || strcmp(who, scan->practitioner_id) != 0))
            continue;
        if (a->start_time < scan->end && end_of(a) > scan->start)
            scan->overlaps = true;
    }
    return PMS_OK;
}

static void ignore_record(void *ctx, const char *id, const char *reason)
{
    (void)ctx, (void)id, (void)reason;
}

bool pmsd_time_free_in_pms(pms_session *s, const char *practitioner_id, const char *except_id,
                           pms_instant start, int minutes, bool *is_free, pms_error *err)
{
    *is_free = false;
    const pms_tz *tz = pms_session_tz(s);
    overlap_scan scan = {practitioner_id, except_id, start, start + (pms_instant)minutes * 60000,
                         false};
    pms_date first = pms_tz_date_of(tz, scan.start);
    pms_date last = pms_tz_date_of(tz, scan.end - 1);
    bool per_practitioner = practitioner_id && (pms_adapter_capabilities(pms_session_ops(s)) &
                                                PMS_CAP_PRACTITIONER_FILTER);
    const char *ids[1] = {practitioner_id};
    pms_fetch_options opts = {
        .from = pms_tz_day_start(tz, first),
        .to = pms_tz_day_start(tz, pms_date_add_days(last, 1)),
        .first_day = first,
        .last_day = last,
        .practitioner_ids = per_practitioner ? ids : NULL,
        .practitioner_count = per_practitioner ? 1 : 0,
        .without_patients = true,
    };
    pms_batch_sink sink = {scan_batch, ignore_record, ignore_record, &scan};
    if (pms_adapter_fetch_appointments(s, &opts, &sink, err) != PMS_OK)
        return false;
    *is_free = !scan.overlaps;
    return true;
}
