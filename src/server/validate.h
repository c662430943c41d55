/* Validating request bodies. Every check that fails writes a 400 into resp naming the field by
 * its full path ("settings.client_id", "mappings[2].clinicianId") and why, and returns false;
 * handlers stop at the first failure. Unknown fields are refused too, so typos don't pass
 * silently. */
#ifndef PMSD_VALIDATE_H
#define PMSD_VALIDATE_H

#include "server/http.h"

/* A 400 naming prefix.key and why; returns false. */
bool pmsd_v_fail(pmsd_response *resp, const char *prefix, const char *key, const char *reason);

/* obj may only hold the listed keys (NULL-terminated). */
bool pmsd_v_known_keys(const json_t *obj, const char *const *allowed, const char *prefix,
                       pmsd_response *resp);
/* A string of at most max_len bytes; absent or null leaves *out NULL (an error when required). */
bool pmsd_v_string(const json_t *obj, const char *key, const char *prefix, bool required,
                   size_t max_len, const char **out, pmsd_response *resp);
/* A boolean; absent leaves *out at -1. */
bool pmsd_v_bool(const json_t *obj, const char *key, const char *prefix, int *out,
                 pmsd_response *resp);
/* An integer within [min, max]; *present says whether it was given. */
bool pmsd_v_int(const json_t *obj, const char *key, const char *prefix, bool required, long min,
                long max, long *out, bool *present, pmsd_response *resp);
/* "YYYY-MM-DD". */
bool pmsd_v_date(const json_t *obj, const char *key, const char *prefix, bool required,
                 pms_date *out, bool *present, pmsd_response *resp);
/* ISO 8601 with an offset or Z. */
bool pmsd_v_instant(const json_t *obj, const char *key, const char *prefix, bool required,
                    pms_instant *out, bool *present, pmsd_response *resp);
/* One of the listed strings (NULL-terminated). */
bool pmsd_v_enum(const json_t *obj, const char *key, const char *prefix, bool required,
                 const char *const *values, const char **out, pmsd_response *resp);
/* An object or an array member (borrowed); absent leaves *out NULL. */
bool pmsd_v_object(const json_t *obj, const char *key, const char *prefix, bool required,
                   const json_t **out, pmsd_response *resp);
bool pmsd_v_array(const json_t *obj, const char *key, const char *prefix, bool required,
                  size_t max_items, const json_t **out, pmsd_response *resp);

/* A query parameter as a date; absent leaves *present false. */
bool pmsd_q_date(const pmsd_request *req, const char *name, pms_date *out, bool *present,
                 pmsd_response *resp);

#endif
