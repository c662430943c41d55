/* Opening a connection of the caller's account for a unified API operation: ownership,
 * capabilities (501 naming what the PMS cannot do), a session; and the Idempotency-Key. */
#include <stdlib.h>
#include <string.h>

#include "pmsync/session.h"
#include "server/pms_ops.h"

void pmsd_respond_unsupported(pmsd_response *resp, const pms_connection *c, const char *what)
{
    pmsd_respond_unsupported_cap(resp, c, what, 0);
}

void pmsd_respond_unsupported_cap(pmsd_response *resp, const pms_connection *c, const char *what,
                                  unsigned missing)
{
    const pms_adapter_ops *ops = pms_adapter_find(c->pms_type);
    const char *reason = NULL;
    for (const pms_unsupported_note *n = ops ? ops->unsupported : NULL;
         missing && n && n->capability && reason == NULL; n++)
        if (missing & n->capability)
            reason = n->reason;
    pmsd_respond_error(resp, 501, "not_implemented", NULL, "%s does not offer %s to pmsync%s%s",
                       ops && ops->display_name ? ops->display_name : c->pms_type, what,
                       reason ? ": " : "", reason ? reason : "");
}

bool pmsd_pms_open(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                   const char *field, unsigned caps, const char *what, bool open_session,
                   pmsd_pms *out)
{
    memset(out, 0, sizeof *out);
    if (connection_id == NULL || connection_id[0] == '\0') {
        pmsd_respond_error(resp, 400, "invalid_request", field, "%s is required", field);
        return false;
    }
    out->ring = req->app->ring;
    if ((out->st = pmsd_req_store(req, resp)) == NULL)
        return false;
    pms_error err = {0};
    int rc = out->st->ops->connection_get(out->st, connection_id, &out->conn, &err);
    if (rc == PMS_OK && strcmp(out->conn.account_id, req->principal.account_id) != 0)
        rc = PMS_ERR_NOT_FOUND;
    if (rc != PMS_OK) {
        pms_connection_clear(&out->conn);
        if (rc == PMS_ERR_NOT_FOUND)
            pmsd_respond_error(resp, 404, "not_found", field, "no such connection");
        else
            pmsd_respond_pms_error(resp, &err);
        return false;
    }
    out->ops = pms_adapter_find(out->conn.pms_type);
    if (out->ops == NULL || (pms_adapter_capabilities(out->ops) & caps) != caps) {
        pmsd_respond_unsupported_cap(resp, &out->conn, what,
                                     out->ops ? caps & ~pms_adapter_capabilities(out->ops) : 0);
        pms_connection_clear(&out->conn);
        return false;
    }
    if (!open_session)
        return true;
    pms_session_options opts = pmsd_session_options(req->app);
    if (pms_connection_open_session(out->st, req->app->ring, &out->conn, &opts, &out->box,
                                    &out->session, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        pmsd_pms_close(out);
        return false;
    }
    return true;
}

void pmsd_pms_close(pmsd_pms *p)
{
    if (p->session && p->st)
        pms_token_box_save(p->box, p->st, p->ring, p->conn.id, NULL);
    pms_token_box_free(p->box);
    pms_session_close(p->session);
    pms_connection_clear(&p->conn);
    memset(p, 0, sizeof *p);
}

const char *pmsd_idempotency_key(const pmsd_request *req)
{
    return pmsd_header(req, "Idempotency-Key");
}

bool pmsd_need_idempotency_key(pmsd_response *resp, const char *idem_key)
{
    if (idem_key && idem_key[0])
        return true;
    pmsd_respond_error(resp, 400, "invalid_request", "Idempotency-Key",
                       "the Idempotency-Key header is required for writes");
    return false;
}
