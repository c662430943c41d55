/* Small JSON value helpers shared by every serialiser. */
#include "pmsync/model.h"

json_t *pms_json_string_or_null(const char *s)
{
    /* json_string refuses invalid UTF-8: such a value becomes null rather than vanishing. */
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

json_t *pms_json_instant_or_null(pms_instant t)
{
    if (t == PMS_INSTANT_NONE)
        return json_null();
    char buf[PMS_TIME_BUFLEN];
    pms_format_utc(t, buf);
    return json_string(buf);
}
