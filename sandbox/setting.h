/* Checks of one value in a PUT /_sandbox/<pms>/settings body, shared by the simulators. Each
 * returns PMS_OK and sets *out, or fills err (naming the key) and leaves *out alone. */
#ifndef SBX_SETTING_H
#define SBX_SETTING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "pmsync/error.h"

int sbx_setting_bool(const char *key, const json_t *v, bool *out, pms_error *err);
/* An integer in lo..hi. */
int sbx_setting_int(const char *key, const json_t *v, int lo, int hi, int *out, pms_error *err);
/* An integer equal to one of choices. */
int sbx_setting_int_choice(const char *key, const json_t *v, const int *choices, size_t count,
                           int *out, pms_error *err);
/* A string equal to one of names; *out gets its index. */
int sbx_setting_name(const char *key, const json_t *v, const char *const *names, size_t count,
                     int *out, pms_error *err);

#endif
