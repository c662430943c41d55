/* Availability: free slots from the PMS, the window they are asked for, and the nearest
 * alternatives to a slot that has gone. */
#include <stdlib.h>
#include <string.h>

#include "pmsync/session.h"
#include "pmsync/tz.h"
#include "server/pms_ops.h"
#include "server/pms_slots.h"

#define MAX_WINDOW_MS (31LL * 86400000LL)

bool pmsd_slot_window(pmsd_request *req, pmsd_response *resp, pms_store *st,
                      const char *connection_id, const char *date, const char *from, const char *to,
                      pmsd_slot_args *out)
{
    pms_error err = {0};
    if (date) {
        pms_date day;
        if (pms_date_parse(date, &day, &err) != PMS_OK)
            return pmsd_v_fail(resp, NULL, "date", "must be a date (YYYY-MM-DD)");
        pms_connection c = {0};
        const pms_tz *tz = NULL;
        const char *zone = "Australia/Sydney";
        if (connection_id && st->ops->connection_get(st, connection_id, &c, NULL) == PMS_OK &&
            strcmp(c.account_id, req->principal.account_id) == 0 && c.timezone)
            zone = c.timezone;
        int rc = pms_tz_get(zone, &tz, &err);
        if (rc == PMS_OK) {
            out->from = pms_tz_day_start(tz, day);
            out->to = pms_tz_day_start(tz, pms_date_add_days(day, 1));
        }
        pms_connection_clear(&c);
        if (rc != PMS_OK) {
            pmsd_respond_pms_error(resp, &err);
            return false;
        }
        return true;
    }
    int offset = 0;
    if (from == NULL)
        return pmsd_v_fail(resp, NULL, "from", "is required (or date)");
    if (to == NULL)
        return pmsd_v_fail(resp, NULL, "to", "is required (or date)");
    if (pms_iso8601_parse(from, &out->from, &offset, &err) != PMS_OK)
        return pmsd_v_fail(resp, NULL, "from", "must be an ISO 8601 time with an offset");
    if (pms_iso8601_parse(to, &out->to, &offset, &err) != PMS_OK)
        return pmsd_v_fail(resp, NULL, "to", "must be an ISO 8601 time with an offset");
    if (out->to <= out->from)
        return pmsd_v_fail(resp, NULL, "to", "must be after from");
    if (out->to - out->from > MAX_WINDOW_MS)
        return pmsd_v_fail(resp, NULL, "to", "must be at most 31 days after from");
    return true;
}

json_t *pmsd_slot_json(const pms_slot *s)
{
    return json_pack("{s:s?, s:o, s:o}", "practitionerId", s->practitioner_id, "startTime",
                     pms_json_instant_or_null(s->start), "endTime",
                     pms_json_instant_or_null(s->end));
}

void pmsd_op_availability(pmsd_request *req, pmsd_response *resp, const pmsd_slot_args *a)
{
    pmsd_pms p;
    if (!pmsd_pms_open(req, resp, a->connection_id, "connectionId", PMS_CAP_FIND_SLOTS,
                       "availability", true, &p))
        return;
    pms_slot_query q = {a->practitioner_id, a->appointment_type_id, a->from, a->to,
                        a->duration_minutes};
    pms_slot_list slots = {0};
    pms_error err = {0};
    if (pms_adapter_find_slots(p.session, &q, &slots, &err) != PMS_OK) {
        /* The PMS refusing the query (400, 404, 422) when the caller named a practitioner or
         * type: the caller's id is one the PMS does not know, not a failure of the PMS. */
        bool refused = (err.code == PMS_ERR_UPSTREAM || err.code == PMS_ERR_HTTP ||
                        err.code == PMS_ERR_NOT_FOUND) &&
                       (err.http_status == 400 || err.http_status == 404 || err.http_status == 422);
        if (refused && (a->practitioner_id || a->appointment_type_id))
            pmsd_respond_error(
                resp, 404, "not_found", a->practitioner_id ? "practitionerId" : "appointmentTypeId",
                "the practice system does not know this %s",
                a->practitioner_id && a->appointment_type_id ? "practitioner or appointment type"
                : a->practitioner_id                         ? "practitioner"
                                                             : "appointment type");
        else
            pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < slots.count; i++)
        json_array_append_new(list, pmsd_slot_json(&slots.items[i]));
    if (!pmsd_audit(req, resp, p.st, false, "availability.read", p.conn.id, NULL, 200)) {
        json_decref(list);
        goto out;
    }
    pmsd_respond_json(resp, 200, json_pack("{s:s, s:o}", "connectionId", p.conn.id, "slots", list));
out:
    pms_slot_list_clear(&slots);
    pmsd_pms_close(&p);
}

bool pmsd_slot_checkable(const pms_adapter_ops *ops)
{
    return (pms_adapter_capabilities(ops) & (PMS_CAP_FIND_SLOTS | PMS_CAP_APPOINTMENTS)) != 0;
}

static bool has_slots(pms_session *s)
{
    return (pms_adapter_capabilities(pms_session_ops(s)) & PMS_CAP_FIND_SLOTS) != 0;
}

bool pmsd_slot_free(pms_session *s, const char *practitioner_id, const char *type_id,
                    const char *except_id, pms_instant start, int minutes, bool *is_free,
                    pms_error *err)
{
    *is_free = false;
    if (!has_slots(s))
        return pmsd_time_free_in_pms(s, practitioner_id, except_id, start, minutes, is_free, err);
    pms_slot_query q = {practitioner_id, type_id, start, start + (pms_instant)minutes * 60000,
                        minutes};
    pms_slot_list slots = {0};
    if (pms_adapter_find_slots(s, &q, &slots, err) != PMS_OK)
        return false;
    for (size_t i = 0; i < slots.count; i++)
        if (slots.items[i].start == start &&
            (practitioner_id == NULL ||
             (slots.items[i].practitioner_id &&
              strcmp(slots.items[i].practitioner_id, practitioner_id) == 0)))
            *is_free = true;
    pms_slot_list_clear(&slots);
    return true;
}

json_t *pmsd_slot_alternatives(pms_session *s, const char *practitioner_id, const char *type_id,
                               pms_instant start, int minutes, size_t each_side)
{
    json_t *out = json_array();
    if (!has_slots(s))
        return out;
    pms_slot_query q = {practitioner_id, type_id, start - 86400000LL, start + 86400000LL, minutes};
    pms_slot_list slots = {0};
    if (pms_adapter_find_slots(s, &q, &slots, NULL) != PMS_OK)
        return out;
    /* Slots come in time order: the last few before, the first few after. */
    size_t first_after = 0;
    while (first_after < slots.count && slots.items[first_after].start <= start)
        first_after++;
    size_t before = first_after;
    while (before > 0 && first_after - before < each_side && slots.items[before - 1].start != start)
        before--;
    for (size_t i = before; i < first_after; i++)
        if (slots.items[i].start != start)
            json_array_append_new(out, pmsd_slot_json(&slots.items[i]));
    for (size_t i = first_after; i < slots.count && i < first_after + each_side; i++)
        json_array_append_new(out, pmsd_slot_json(&slots.items[i]));
    pms_slot_list_clear(&slots);
    return out;
}
