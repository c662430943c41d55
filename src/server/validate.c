#include "server/validate.h"

#include <stdio.h>
#include <string.h>

static void field_path(char *buf, size_t len, const char *prefix, const char *key)
{
    if (prefix && prefix[0])
        snprintf(buf, len, "%s.%s", prefix, key);
    else
        snprintf(buf, len, "%s", key);
}

bool pmsd_v_fail(pmsd_response *resp, const char *prefix, const char *key, const char *reason)
{
    char path[192];
    field_path(path, sizeof path, prefix, key);
    pmsd_respond_error(resp, 400, "invalid_request", path, "%s %s", path, reason);
    return false;
}

bool pmsd_v_known_keys(const json_t *obj, const char *const *allowed, const char *prefix,
                       pmsd_response *resp)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp(allowed[i], key) == 0;
        if (!known) {
            /* The unknown name is the caller's text: cut it short in the message. */
            char shown[65];
            snprintf(shown, sizeof shown, "%s", key);
            return pmsd_v_fail(resp, prefix, shown, "is not a known field");
        }
    }
    return true;
}

bool pmsd_v_string(const json_t *obj, const char *key, const char *prefix, bool required,
                   size_t max_len, const char **out, pmsd_response *resp)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? pmsd_v_fail(resp, prefix, key, "is required") : true;
    if (!json_is_string(v))
        return pmsd_v_fail(resp, prefix, key, "must be a string");
    if (json_string_length(v) > max_len) {
        char reason[64];
        snprintf(reason, sizeof reason, "must be at most %zu characters", max_len);
        return pmsd_v_fail(resp, prefix, key, reason);
    }
    if (memchr(json_string_value(v), '\0', json_string_length(v)))
        return pmsd_v_fail(resp, prefix, key, "must not contain NUL characters");
    if (required && json_string_length(v) == 0)
        return pmsd_v_fail(resp, prefix, key, "must not be empty");
    *out = json_string_value(v);
    return true;
}

bool pmsd_v_bool(const json_t *obj, const char *key, const char *prefix, int *out,
                 pmsd_response *resp)
{
    const json_t *v = json_object_get(obj, key);
    *out = -1;
    if (v == NULL)
        return true;
    if (!json_is_boolean(v))
        return pmsd_v_fail(resp, prefix, key, "must be true or false");
    *out = json_is_true(v);
    return true;
}

bool pmsd_v_int(const json_t *obj, const char *key, const char *prefix, bool required, long min,
                long max, long *out, bool *present, pmsd_response *resp)
{
    const json_t *v = json_object_get(obj, key);
    if (present)
        *present = false;
    if (v == NULL || json_is_null(v))
        return required ? pmsd_v_fail(resp, prefix, key, "is required") : true;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        char reason[96];
        snprintf(reason, sizeof reason, "must be a whole number from %ld to %ld", min, max);
        return pmsd_v_fail(resp, prefix, key, reason);
    }
    *out = (long)json_integer_value(v);
    if (present)
        *present = true;
    return true;
}

bool pmsd_v_date(const json_t *obj, const char *key, const char *prefix, bool required,
                 pms_date *out, bool *present, pmsd_response *resp)
{
    const char *text;
    if (!pmsd_v_string(obj, key, prefix, required, 10, &text, resp))
        return false;
    if (present)
        *present = text != NULL;
    if (text && pms_date_parse(text, out, NULL) != PMS_OK)
        return pmsd_v_fail(resp, prefix, key, "must be a date as YYYY-MM-DD");
    return true;
}

bool pmsd_v_instant(const json_t *obj, const char *key, const char *prefix, bool required,
                    pms_instant *out, bool *present, pmsd_response *resp)
{
    const char *text;
    if (!pmsd_v_string(obj, key, prefix, required, 40, &text, resp))
        return false;
    if (present)
        *present = text != NULL;
    if (text && pms_iso8601_parse(text, out, NULL, NULL) != PMS_OK)
        return pmsd_v_fail(
            resp, prefix, key,
            "must be an ISO 8601 time with an offset, e.g. 2026-03-02T09:30:00+11:00");
    return true;
}

bool pmsd_v_enum(const json_t *obj, const char *key, const char *prefix, bool required,
                 const char *const *values, const char **out, pmsd_response *resp)
{
    const char *text;
    if (!pmsd_v_string(obj, key, prefix, required, 64, &text, resp))
        return false;
    *out = NULL;
    if (text == NULL)
        return true;
    char allowed[256] = "";
    for (size_t i = 0; values[i]; i++) {
        if (strcmp(values[i], text) == 0) {
            *out = values[i];
            return true;
        }
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s", i ? ", " : "",
                 values[i]);
    }
    char reason[300];
    snprintf(reason, sizeof reason, "must be one of: %s", allowed);
    return pmsd_v_fail(resp, prefix, key, reason);
}

bool pmsd_v_object(const json_t *obj, const char *key, const char *prefix, bool required,
                   const json_t **out, pmsd_response *resp)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? pmsd_v_fail(resp, prefix, key, "is required") : true;
    if (!json_is_object(v))
        return pmsd_v_fail(resp, prefix, key, "must be an object");
    *out = v;
    return true;
}

bool pmsd_v_array(const json_t *obj, const char *key, const char *prefix, bool required,
                  size_t max_items, const json_t **out, pmsd_response *resp)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? pmsd_v_fail(resp, prefix, key, "is required") : true;
    if (!json_is_array(v))
        return pmsd_v_fail(resp, prefix, key, "must be an array");
    if (json_array_size(v) > max_items) {
        char reason[64];
        snprintf(reason, sizeof reason, "must have at most %zu items", max_items);
        return pmsd_v_fail(resp, prefix, key, reason);
    }
    *out = v;
    return true;
}

bool pmsd_q_date(const pmsd_request *req, const char *name, pms_date *out, bool *present,
                 pmsd_response *resp)
{
    const char *text = pmsd_query(req, name);
    *present = text != NULL && text[0];
    if (*present && pms_date_parse(text, out, NULL) != PMS_OK) {
        pmsd_respond_error(resp, 400, "invalid_request", name, "%s must be a date as YYYY-MM-DD",
                           name);
        return false;
    }
    return true;
}
