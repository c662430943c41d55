#include "truth.h"

const char *sbx_unified_status_name(sbx_unified_status status)
{
    static const char *const names[] = {"booked",    "confirmed", "arrived", "in_progress",
                                        "completed", "cancelled", "no_show"};
    if (status < 0 || (size_t)status >= sizeof(names) / sizeof(names[0]))
        return NULL;
    return names[status];
}

void sbx_truth_set_common(json_t *obj, const char *id, sbx_unified_status status, pms_instant start,
                          bool telehealth, bool meeting)
{
    char utc[PMS_TIME_BUFLEN];
    pms_format_utc(start, utc);
    const char *status_name = sbx_unified_status_name(status);
    json_object_set_new(obj, "_id", json_string(id));
    json_object_set_new(obj, "_status",
                        status_name != NULL ? json_string(status_name) : json_null());
    json_object_set_new(obj, "_startUtc", json_string(utc));
    json_object_set_new(obj, "_telehealth", json_boolean(telehealth));
    json_object_set_new(obj, "_kind", json_string(meeting ? "meeting" : "appointment"));
}

bool sbx_truth_dates(const sbx_request *req, pms_date *from, pms_date *to, sbx_response *resp)
{
    const char *from_text = sbx_query(req, "from");
    const char *to_text = sbx_query(req, "to");
    if ((from_text != NULL && pms_date_parse(from_text, from, NULL) != PMS_OK) ||
        (to_text != NULL && pms_date_parse(to_text, to, NULL) != PMS_OK)) {
        sbx_respond_message(resp, 400, "from and to must be YYYY-MM-DD");
        return false;
    }
    return true;
}
