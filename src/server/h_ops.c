/* Operations: liveness, readiness, metrics and the API description. */
#include <stdlib.h>
#include <string.h>

#include "pmsync/scheduler.h"
#include "server/handlers.h"
#include "server/openapi_doc.h"

void pmsd_h_healthz(pmsd_request *req, pmsd_response *resp)
{
    (void)req;
    pmsd_respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

void pmsd_h_readyz(pmsd_request *req, pmsd_response *resp)
{
    pms_error err = {0};
    pms_store *st = pmsd_store(req->app, &err);
    int version = 0;
    if (st && st->ops->schema_version(st, &version, &err) != PMS_OK)
        st = NULL;
    if (st == NULL) {
        pmsd_respond_json(resp, 503,
                          json_pack("{s:s, s:s, s:s}", "status", "unavailable", "database",
                                    "unreachable", "reason", err.message));
        return;
    }
    pmsd_respond_json(resp, 200,
                      json_pack("{s:s, s:s, s:i, s:b}", "status", "ready", "database", "ok",
                                "schemaVersion", version, "schedulerRunning",
                                req->app->scheduler != NULL));
}

void pmsd_h_metrics(pmsd_request *req, pmsd_response *resp)
{
    pmsd_app *app = req->app;
    pmsd_gauges g = {0};
    if (app->scheduler) {
        pms_scheduler_stats s = pms_scheduler_get_stats(app->scheduler);
        g.syncs_running = s.running;
        g.syncs_queued = s.claimed;
        g.leases_lost = s.leases_lost;
    }
    pms_error err = {0};
    pms_store *st = pmsd_store(app, &err);
    pms_schedule_stats shared;
    if (st && st->ops->schedule_stats(st, pms_now(), &shared, NULL) == PMS_OK) {
        g.connections = shared.enabled;
        g.syncs_due = shared.due;
        g.syncs_leased = shared.leased;
    }
    g.sse_streams = app->hub ? (long)pmsd_hub_streams(app->hub) : 0;
    g.uptime_seconds = (double)(pms_now() - app->started_at) / 1000.0;
    char *text = pmsd_metrics_render(app->metrics, &g);
    if (text == NULL) {
        pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
        return;
    }
    pmsd_respond_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
}

void pmsd_h_openapi(pmsd_request *req, pmsd_response *resp)
{
    (void)req;
    char *copy = malloc(pmsd_openapi_json_len);
    if (copy == NULL) {
        pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
        return;
    }
    memcpy(copy, pmsd_openapi_json, pmsd_openapi_json_len);
    pmsd_respond_text(resp, 200, "application/json", copy, pmsd_openapi_json_len);
    resp->cache_control = "public, max-age=300";
}
