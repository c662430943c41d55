#include "setting.h"

#include <stdio.h>
#include <string.h>

int sbx_setting_bool(const char *key, const json_t *v, bool *out, pms_error *err)
{
    if (!json_is_boolean(v))
        return pms_error_set(err, PMS_ERR_INVALID, "%s must be true or false", key);
    *out = json_is_true(v);
    return PMS_OK;
}

int sbx_setting_int(const char *key, const json_t *v, int lo, int hi, int *out, pms_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return pms_error_set(err, PMS_ERR_INVALID, "%s must be an integer in %d..%d", key, lo, hi);
    *out = (int)json_integer_value(v);
    return PMS_OK;
}

/* "a", "b" or "c" into buf. */
static void list_choices(const char *const *names, const int *numbers, size_t count, char *buf,
                         size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && used < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
        int n = names != NULL ? snprintf(buf + used, len - used, "%s\"%s\"", sep, names[i])
                              : snprintf(buf + used, len - used, "%s%d", sep, numbers[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int sbx_setting_int_choice(const char *key, const json_t *v, const int *choices, size_t count,
                           int *out, pms_error *err)
{
    for (size_t i = 0; json_is_integer(v) && i < count; i++) {
        if (json_integer_value(v) == choices[i]) {
            *out = choices[i];
            return PMS_OK;
        }
    }
    char listed[128];
    list_choices(NULL, choices, count, listed, sizeof(listed));
    return pms_error_set(err, PMS_ERR_INVALID, "%s must be %s", key, listed);
}

int sbx_setting_name(const char *key, const json_t *v, const char *const *names, size_t count,
                     int *out, pms_error *err)
{
    const char *s = json_string_value(v);
    for (size_t i = 0; s != NULL && i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return PMS_OK;
        }
    }
    char listed[256];
    list_choices(names, NULL, count, listed, sizeof(listed));
    return pms_error_set(err, PMS_ERR_INVALID, "%s must be %s", key, listed);
}
