/* The router: "METHOD path" (the first space or NUL splits them) into pmsd_route_match, as the
 * server calls it with a decoded URL, checking what a handler relies on: path parameters are
 * non-empty, NUL-terminated, and each is a segment of the path. */
#include <string.h>

#include "fuzz_common.h"
#include "server/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size, 4096);
    if (text == NULL)
        return 0;
    const char *method = text;
    char *path = strchr(text, ' ');
    if (path == NULL)
        path = text + strlen(text);
    else
        *path++ = '\0';

    const char *params[PMSD_MAX_PARAMS] = {0};
    size_t count = 0;
    char params_buf[PMSD_MAX_PARAMS][128];
    bool mismatch = true;
    char allow[64];
    const pmsd_route *r =
        pmsd_route_match(method, path, params, &count, params_buf, &mismatch, allow, sizeof allow);
    if (r != NULL) {
        if (mismatch || count > PMSD_MAX_PARAMS || strcmp(r->method, method) != 0)
            abort();
        for (size_t i = 0; i < count; i++) {
            size_t len = strnlen(params[i], 128);
            if (len == 0 || len == 128 || strchr(params[i], '/') != NULL ||
                strstr(path, params[i]) == NULL)
                abort();
        }
    } else if (strlen(allow) >= sizeof allow || (mismatch && allow[0] == '\0')) {
        abort();
    }
    free(text);
    return 0;
}
