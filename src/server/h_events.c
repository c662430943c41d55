/* GET /api/run-sheet/events: the account's live updates as Server-Sent Events. A client that
 * reconnects sends Last-Event-ID (or ?lastEventId=) and receives what it missed. */
#include "server/handlers.h"

void pmsd_h_events(pmsd_request *req, pmsd_response *resp)
{
    const char *last = pmsd_header(req, "Last-Event-ID");
    if (last == NULL)
        last = pmsd_query(req, "lastEventId");
    pmsd_sse_stream *stream = NULL;
    pms_error err = {0};
    int rc = pmsd_hub_subscribe(req->app->hub, req->principal.account_id, last, &stream, &err);
    if (rc == PMS_OK) {
        resp->stream = stream;
        resp->status = 200;
    } else if (rc == PMS_ERR_CONFLICT) {
        pmsd_respond_error(resp, 503, "too_many_streams", NULL, "%s", err.message);
        pmsd_respond_header(resp, "Retry-After", "10");
    } else {
        pmsd_respond_pms_error(resp, &err);
    }
}
