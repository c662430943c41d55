/* The unified PMS API (availability, bookings, patients) shared by its HTTP routes and the
 * voice receptionist's tools: each operation takes its arguments already read, answers in resp
 * (the HTTP status and JSON body a route sends, which the voice endpoint turns into a sentence),
 * audits before patient data leaves, and makes every write idempotent (writes.c). Internal to
 * src/server/. */
#ifndef PMSD_PMS_OPS_H
#define PMSD_PMS_OPS_H

#include "pmsync/adapter.h"
#include "pmsync/connections.h"
#include "server/handlers.h"

/* A connection of the caller's account opened for one operation. */
typedef struct pmsd_pms {
    pms_store *st;
    const pms_keyring *ring;
    pms_connection conn;
    const pms_adapter_ops *ops;
    pms_session *session;
    pms_token_box *box;
} pmsd_pms;

/* Loads connection_id (a 400 naming field when empty, 404 when not the caller's), answers 501
 * naming what the PMS cannot do unless its adapter has every bit of caps, and opens a session
 * (open_session false: the connection only). On false resp holds the answer and *out is clear. */
bool pmsd_pms_open(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                   const char *field, unsigned caps, const char *what, bool open_session,
                   pmsd_pms *out);
void pmsd_pms_close(pmsd_pms *p);
/* 501 not_implemented: "<PMS> does not offer <what> to pmsync". */
void pmsd_respond_unsupported(pmsd_response *resp, const pms_connection *c, const char *what);
/* The same, with the adapter's reason for lacking the missing PMS_CAP_* bits when it gives one:
 * "... to pmsync: its Bookings API cannot move an appointment; ...". */
void pmsd_respond_unsupported_cap(pmsd_response *resp, const pms_connection *c, const char *what,
                                  unsigned missing);

/* ---- availability ---- */
typedef struct pmsd_slot_args {
    const char *connection_id;
    const char *practitioner_id; /* NULL: any */
    const char *appointment_type_id;
    pms_instant from, to;
    int duration_minutes;
} pmsd_slot_args;
void pmsd_op_availability(pmsd_request *req, pmsd_response *resp, const pmsd_slot_args *a);
/* A date (the connection's local day) or from/to as slot bounds; a 400 naming the field. */
bool pmsd_slot_window(pmsd_request *req, pmsd_response *resp, pms_store *st,
                      const char *connection_id, const char *date, const char *from, const char *to,
                      pmsd_slot_args *out);

/* ---- writes: idem_key is the Idempotency-Key (a 400 naming it when NULL) ---- */
typedef struct pmsd_book_args {
    const char *connection_id;
    const char *patient_id;
    const char *practitioner_id;
    const char *appointment_type_id;
    pms_instant start;
    int duration_minutes;
    const char *notes;
} pmsd_book_args;
void pmsd_op_book(pmsd_request *req, pmsd_response *resp, const pmsd_book_args *a,
                  const char *idem_key);
/* entry_id: a run-sheet appointment of the account that came from a PMS. */
void pmsd_op_reschedule(pmsd_request *req, pmsd_response *resp, const char *entry_id,
                        pms_instant start, int duration_minutes, const char *idem_key);
void pmsd_op_cancel(pmsd_request *req, pmsd_response *resp, const char *entry_id,
                    const char *reason, const char *idem_key);

/* ---- patients ---- */
void pmsd_op_patient_search(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                            const pms_patient_query *q);
void pmsd_op_patient_get(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                         const char *patient_id);
void pmsd_op_patient_create(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                            const pms_patient *p, const char *idem_key);
/* Notes, insurance, balance, payments: no PMS adapter offers them yet (501 after the checks). */
void pmsd_op_not_offered(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                         const char *what, bool is_write, const char *idem_key);

/* ---- request bodies (pure: see handlers.h) ---- */
/* POST /api/pms/appointments. */
bool pmsd_read_book(const json_t *body, pmsd_book_args *a, pmsd_response *resp);
/* PATCH /api/pms/appointments/{id}: startTime, durationMinutes (0 when absent). */
bool pmsd_read_move(const json_t *body, pms_instant *start, int *duration_minutes,
                    pmsd_response *resp);
/* DELETE /api/pms/appointments/{id} with a body: {"reason"}. */
bool pmsd_read_cancel(const json_t *body, const char **reason, pmsd_response *resp);
/* POST /api/pms/patients: *p's strings borrow from body (not to be cleared). */
bool pmsd_read_patient(const json_t *body, const char **connection_id, pms_patient *p,
                       pmsd_response *resp);
/* POST /api/pms/patients/{id}/notes and POST /api/pms/payments: {"connectionId", ...}. */
bool pmsd_read_connection_only(const json_t *body, const char **connection_id, pmsd_response *resp);

/* A write's key is there (a 400 naming Idempotency-Key otherwise). */
bool pmsd_need_idempotency_key(pmsd_response *resp, const char *idem_key);
/* The Idempotency-Key header (NULL when absent). */
const char *pmsd_idempotency_key(const pmsd_request *req);

#endif
