/* Route matching: patterns of literal segments and {name} segments. */
#include <stdio.h>
#include <string.h>

#include "server/http.h"

/* Matches one pattern against a path; captures {name} segments into params_buf. */
static bool match(const char *pattern, const char *path, char params_buf[][128], size_t *count)
{
    *count = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        const char *pend = strchr(p, '/');
        const char *send = strchr(s, '/');
        size_t plen = pend ? (size_t)(pend - p) : strlen(p);
        size_t slen = send ? (size_t)(send - s) : strlen(s);
        if (plen > 1 && p[0] == '{' && p[plen - 1] == '}') {
            if (slen == 0 || slen >= 128 || *count >= PMSD_MAX_PARAMS)
                return false;
            memcpy(params_buf[*count], s, slen);
            params_buf[*count][slen] = '\0';
            (*count)++;
        } else if (plen != slen || strncmp(p, s, plen) != 0) {
            return false;
        }
        p += plen;
        s += slen;
    }
    return *p == '\0' && (*s == '\0' || strcmp(s, "/") == 0);
}

const pmsd_route *pmsd_route_match(const char *method, const char *path, const char **params,
                                   size_t *param_count, char params_buf[][128],
                                   bool *method_mismatch, char *allow, size_t allow_len)
{
    *method_mismatch = false;
    allow[0] = '\0';
    const pmsd_route *found = NULL;
    for (size_t i = 0; i < pmsd_route_count; i++) {
        const pmsd_route *r = &pmsd_routes[i];
        char scratch[PMSD_MAX_PARAMS][128];
        size_t n = 0;
        if (!match(r->pattern, path, scratch, &n))
            continue;
        if (strcmp(r->method, method) == 0 && found == NULL) {
            found = r;
            for (size_t k = 0; k < n; k++) {
                memcpy(params_buf[k], scratch[k], sizeof scratch[k]);
                params[k] = params_buf[k];
            }
            *param_count = n;
        } else if (strcmp(r->method, method) != 0) {
            *method_mismatch = true;
            if (strstr(allow, r->method) == NULL)
                snprintf(allow + strlen(allow), allow_len - strlen(allow), "%s%s",
                         allow[0] ? ", " : "", r->method);
        }
    }
    if (found)
        *method_mismatch = false;
    return found;
}
