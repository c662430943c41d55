/* Idempotent writes: every write through the unified API is claimed under its Idempotency-Key
 * (per account) in the database before the PMS is asked, and keeps the answer it gave. A repeat
 * with the same key and request gets that answer without writing again (even after a restart);
 * the same key with another request is 422; a repeat while the first is still in progress (or
 * was cut short by a crash before its answer was kept) is 409 with state pending: it is never
 * written twice. Internal to src/server/. */
#ifndef PMSD_WRITES_H
#define PMSD_WRITES_H

#include "pmsync/adapter.h"
#include "server/handlers.h"

typedef struct pmsd_write {
    pms_write_record rec;
} pmsd_write;

/* Claims idem_key for operation with these arguments (hashed, canonical JSON). true: go on and
 * write; false: resp holds the answer (a 400 naming Idempotency-Key when it is missing, the
 * first answer replayed, 409, 422, or 5xx). */
bool pmsd_write_claim(pmsd_request *req, pmsd_response *resp, pms_store *st, const char *operation,
                      const char *connection_id, const json_t *args, const char *idem_key,
                      pmsd_write *w);
/* Inside the caller's open transaction: keeps resp (status and body) as the write's answer, in
 * state (pending: with tracking_id, followed from then on). */
int pmsd_write_keep(pmsd_app *app, pms_store *st, pmsd_write *w, const char *state,
                    const pmsd_response *resp, const char *tracking_id, const char *entry_id,
                    pms_error *err);
/* Keeps the answer in a transaction of its own (answers without a run-sheet change). */
void pmsd_write_keep_now(pmsd_app *app, pms_store *st, pmsd_write *w, const char *state,
                         const pmsd_response *resp);
/* Lets the claim go when the PMS could not be asked (network, its 5xx, credentials refused):
 * nothing is kept, so a repeat with the same key tries again. A refusal by the PMS is kept. */
void pmsd_write_release(pms_store *st, pmsd_write *w);
void pmsd_write_clear(pmsd_write *w);

/* A pending PMS write followed (write_status, backing off) until it resolves or deadline
 * passes; *r is updated in place. */
void pmsd_write_wait(pmsd_app *app, pms_session *s, pms_instant deadline, pms_write_result *r);
/* How the state reads in answers: "confirmed", "pending", "failed". */
const char *pmsd_write_state_name(pms_write_state s);
/* The answer of a write: status 201/200 confirmed, 202 pending, 422 failed (body
 * {"state", "reason", ... , "error"} for failed). body stolen. */
void pmsd_respond_write(pmsd_response *resp, const pms_write_result *r, int confirmed_status,
                        json_t *body);

/* The background follower of pending writes (follower.c): started with the server. */
int pmsd_follower_start(pmsd_app *app, pms_error *err);
void pmsd_follower_stop(pmsd_app *app);

#endif
