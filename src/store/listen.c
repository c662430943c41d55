/* The listener: PostgreSQL's (store/pg/pg_listen.c) when the location says so, else (SQLite:
 * one process) nothing to hear. */
#include "pmsync/listen.h"

#include <stdlib.h>
#include <string.h>

#include "pmsync/store.h"
#include "store/pg/pg_internal.h"

struct pms_listener {
    pg_listener *pg; /* NULL: nothing to hear */
};

int pms_listener_start(const char *location, const char *const *channels, pms_notification_fn fn,
                       void *ctx, pms_listener **out, pms_error *err)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc = pms_store_location_is_postgres(location)
                 ? pg_listener_start(location, channels, fn, ctx, &(*out)->pg, err)
                 : PMS_OK;
    if (rc != PMS_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

void pms_listener_stop(pms_listener *l)
{
    if (l == NULL)
        return;
    pg_listener_stop(l->pg);
    free(l);
}
