/* Idempotent writes: claiming a key, replaying its answer, keeping the answer, and waiting for a
 * pending PMS write within the budget. */
#include "server/writes.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pmsync/log.h"

#define IDEM_KEY_MAX 255

static void request_hash(const char *operation, const json_t *args, char out[65])
{
    char *text = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
    size_t op_len = strlen(operation) + 1, len = text ? strlen(text) : 0;
    unsigned char *buf = malloc(op_len + len + 1);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    memset(out, '0', 64);
    out[64] = '\0';
    if (buf) {
        memcpy(buf, operation, op_len);
        if (text)
            memcpy(buf + op_len, text, len);
        if (EVP_Digest(buf, op_len + len, digest, &digest_len, EVP_sha256(), NULL) == 1)
            for (unsigned int i = 0; i < digest_len && i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
    free(buf);
    free(text);
}

static void replay(pmsd_response *resp, const pms_write_record *r)
{
    if (r->http_status == 0 || r->response == NULL) {
        pmsd_respond_error(resp, 409, "write_in_progress", "Idempotency-Key",
                           "a write with this Idempotency-Key is in progress or its outcome is "
                           "unknown: it will not be written again");
        json_object_set_new(resp->json, "state", json_string("pending"));
        return;
    }
    pmsd_respond_json(resp, r->http_status, json_incref(r->response));
    pmsd_respond_header(resp, "Idempotent-Replayed", "true");
}

bool pmsd_write_claim(pmsd_request *req, pmsd_response *resp, pms_store *st, const char *operation,
                      const char *connection_id, const json_t *args, const char *idem_key,
                      pmsd_write *w)
{
    memset(w, 0, sizeof *w);
    if (idem_key == NULL || idem_key[0] == '\0') {
        pmsd_respond_error(resp, 400, "invalid_request", "Idempotency-Key",
                           "the Idempotency-Key header is required for writes");
        return false;
    }
    if (strlen(idem_key) > IDEM_KEY_MAX) {
        pmsd_respond_error(resp, 400, "invalid_request", "Idempotency-Key",
                           "the Idempotency-Key header is longer than %d characters", IDEM_KEY_MAX);
        return false;
    }
    char hash[65];
    request_hash(operation, args, hash);
    pms_write_record *r = &w->rec;
    r->account_id = strdup(req->principal.account_id);
    r->idem_key = strdup(idem_key);
    r->request_hash = strdup(hash);
    r->operation = strdup(operation);
    r->connection_id = connection_id ? strdup(connection_id) : NULL;
    r->created_at = r->updated_at = pms_now();
    r->next_check_at = PMS_INSTANT_NONE;
    if (!r->account_id || !r->idem_key || !r->request_hash || !r->operation) {
        pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
        return false;
    }
    bool claimed = false;
    pms_write_record seen = {0};
    pms_error err = {0};
    if (st->ops->write_claim(st, r, &claimed, &seen, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    if (claimed)
        return true;
    if (strcmp(seen.request_hash, hash) != 0 || strcmp(seen.operation, operation) != 0)
        pmsd_respond_error(resp, 422, "idempotency_key_reused", "Idempotency-Key",
                           "this Idempotency-Key was used for a different request");
    else
        replay(resp, &seen);
    pms_write_record_clear(&seen);
    return false;
}

int pmsd_write_keep(pmsd_app *app, pms_store *st, pmsd_write *w, const char *state,
                    const pmsd_response *resp, const char *tracking_id, const char *entry_id,
                    pms_error *err)
{
    pms_write_record *r = &w->rec;
    if (r->idem_key == NULL)
        return PMS_OK;
    free(r->state);
    r->state = strdup(state);
    r->http_status = resp->status;
    json_decref(r->response);
    r->response = json_incref(resp->json);
    if (tracking_id && pms_str_set(&r->tracking_id, tracking_id))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (entry_id && pms_str_set(&r->entry_id, entry_id))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    r->updated_at = pms_now();
    r->next_check_at = strcmp(state, "pending") == 0 ? r->updated_at + 1000 : PMS_INSTANT_NONE;
    (void)app;
    if (r->state == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return st->ops->write_update(st, r, err);
}

void pmsd_write_keep_now(pmsd_app *app, pms_store *st, pmsd_write *w, const char *state,
                         const pmsd_response *resp)
{
    pms_error err = {0};
    int rc = st->ops->begin(st, &err);
    if (rc == PMS_OK)
        rc = pmsd_write_keep(app, st, w, state, resp, NULL, NULL, &err);
    if (rc == PMS_OK)
        rc = st->ops->commit(st, &err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        /* The claim stays in progress: a repeat answers 409 and never writes twice. */
        pms_log(PMS_LOG_ERROR, "write.keep_failed", "reason", err.message, NULL);
    }
}

void pmsd_write_release(pms_store *st, pmsd_write *w)
{
    pms_write_record *r = &w->rec;
    pms_error err = {0};
    if (r->idem_key == NULL)
        return;
    /* Should the release fail, the claim stays in progress: a repeat answers 409, never writes
     * twice. */
    if (st->ops->write_release(st, r->account_id, r->idem_key, &err) != PMS_OK)
        pms_log(PMS_LOG_ERROR, "write.release_failed", "reason", err.message, NULL);
}

void pmsd_write_clear(pmsd_write *w)
{
    pms_write_record_clear(&w->rec);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void pmsd_write_wait(pmsd_app *app, pms_session *s, pms_instant deadline, pms_write_result *r)
{
    long delay = 250;
    while (r->state == PMS_WRITE_PENDING && r->tracking_id && !atomic_load(&app->stopping)) {
        pms_instant now = pms_now();
        if (now + delay >= deadline)
            return;
        sleep_ms(delay);
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
        pms_write_result next = {0};
        pms_error err = {0};
        if (pms_adapter_write_status(s, r->tracking_id, &next, &err) != PMS_OK) {
            pms_write_result_clear(&next);
            continue; /* asking failed: still pending, the follower goes on */
        }
        if (next.state == PMS_WRITE_PENDING) {
            pms_write_result_clear(&next);
            continue;
        }
        r->state = next.state;
        snprintf(r->reason, sizeof r->reason, "%s", next.reason);
        if (next.pms_appointment_id) {
            free(r->pms_appointment_id);
            r->pms_appointment_id = next.pms_appointment_id;
            next.pms_appointment_id = NULL;
        }
        pms_write_result_clear(&next);
    }
}

const char *pmsd_write_state_name(pms_write_state s)
{
    return s == PMS_WRITE_CONFIRMED ? "confirmed" : s == PMS_WRITE_PENDING ? "pending" : "failed";
}

void pmsd_respond_write(pmsd_response *resp, const pms_write_result *r, int confirmed_status,
                        json_t *body)
{
    json_object_set_new(body, "state", json_string(pmsd_write_state_name(r->state)));
    if (r->state == PMS_WRITE_FAILED) {
        const char *reason = r->reason[0] ? r->reason : "The practice system refused the change.";
        json_object_set_new(body, "reason", json_string(reason));
        json_object_set_new(body, "error",
                            json_pack("{s:s, s:s}", "code", "write_failed", "message", reason));
        pmsd_respond_json(resp, 422, body);
        resp->error_code = "write_failed";
        return;
    }
    pmsd_respond_json(resp, r->state == PMS_WRITE_PENDING ? 202 : confirmed_status, body);
}
