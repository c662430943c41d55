#include "server/app.h"

#include <stdlib.h>

static void close_store(void *p)
{
    pms_store_close(p);
}

int pmsd_app_init_store_key(pmsd_app *app)
{
    return pthread_key_create(&app->store_key, close_store) == 0 ? PMS_OK : PMS_ERR_IO;
}

pms_store *pmsd_store(pmsd_app *app, pms_error *err)
{
    pms_store *st = pthread_getspecific(app->store_key);
    if (st)
        return st;
    if (pms_store_open(app->cfg.db, false, &st, err) != PMS_OK)
        return NULL;
    pthread_setspecific(app->store_key, st);
    return st;
}

pms_store *pmsd_req_store(pmsd_request *req, pmsd_response *resp)
{
    pms_error err = {0};
    pms_store *st = pmsd_store(req->app, &err);
    if (st == NULL)
        pmsd_respond_error(resp, 503, "database_unavailable", NULL, "%s", err.message);
    return st;
}
