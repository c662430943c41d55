#include <string.h>

#include "pmsync/model.h"

static const char *const status_names[PMS_STATUS_COUNT] = {
    "booked", "confirmed", "arrived", "in_progress", "completed", "cancelled", "no_show",
};

const char *pms_appt_status_name(pms_appt_status status)
{
    if ((unsigned)status >= PMS_STATUS_COUNT)
        return "booked";
    return status_names[status];
}

int pms_appt_status_parse(const char *name, pms_appt_status *out)
{
    if (name == NULL)
        return PMS_ERR_PARSE;
    for (int i = 0; i < PMS_STATUS_COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (pms_appt_status)i;
            return PMS_OK;
        }
    }
    return PMS_ERR_PARSE;
}
