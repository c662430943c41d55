/* Booking, moving and cancelling appointments through the unified API: claimed under their
 * Idempotency-Key, a booking's slot re-checked against the PMS itself, answered within the write
 * budget (confirmed, failed with a reason, or pending and followed in the background), and the
 * run sheet changed in the transaction that keeps the audit record and the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/log.h"
#include "pmsync/session.h"
#include "server/events.h"
#include "server/pms_ops.h"
#include "server/pms_slots.h"
#include "server/sheet_write.h"
#include "server/writes.h"

#define ALTERNATIVES_EACH_SIDE 3

static pms_instant budget_deadline(const pmsd_request *req)
{
    return req->started + (pms_instant)req->app->cfg.write_budget_seconds * 1000;
}

/* The end of a write: the run sheet (confirmed, with_sheet), the audit record and the kept
 * answer in one transaction; then the live-update event. body is stolen. */
static void finish(pmsd_request *req, pmsd_response *resp, pmsd_pms *p, pmsd_write *w,
                   const char *action, const char *patient_id, pms_write_result *r,
                   int confirmed_status, json_t *body, pms_appointment *sheet_appt)
{
    pms_store *st = p->st;
    pms_error err = {0};
    pms_sheet_entry entry;
    pms_sheet_entry_init(&entry);
    bool created = false, on_sheet = false;
    json_t *patients = json_array();
    if (patient_id)
        json_array_append_new(patients, json_string(patient_id));
    if (r->pms_appointment_id)
        json_object_set_new(body, "pmsAppointmentId", json_string(r->pms_appointment_id));
    if (r->state == PMS_WRITE_PENDING && r->tracking_id)
        json_object_set_new(body, "trackingId", json_string(r->tracking_id));
    int rc = st->ops->begin(st, &err);
    if (rc == PMS_OK && r->state == PMS_WRITE_CONFIRMED && sheet_appt) {
        rc = pmsd_sheet_put(st, &p->conn, sheet_appt, &entry, &created, &err);
        on_sheet = rc == PMS_OK;
        if (on_sheet)
            json_object_set_new(body, "appointmentId", json_string(entry.id));
    }
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        json_decref(body);
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    pmsd_respond_write(resp, r, confirmed_status, body);
    if (!pmsd_audit(req, resp, st, true, action, p->conn.id, patients, resp->status)) {
        st->ops->rollback(st);
        goto out;
    }
    rc = pmsd_write_keep(req->app, st, w, pmsd_write_state_name(r->state), resp, r->tracking_id,
                         on_sheet ? entry.id : NULL, &err);
    if (rc == PMS_OK)
        rc = st->ops->commit(st, &err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        pms_log(PMS_LOG_ERROR, "write.keep_failed", "action", action, "reason", err.message, NULL);
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    if (on_sheet)
        pmsd_publish_entry(req->app, &entry,
                           created ? "appointment.created" : "appointment.updated");
    pmsd_publish(req->app, req->principal.account_id, "appointment.write",
                 json_pack("{s:s, s:s, s:s, s:s?}", "connectionId", p->conn.id, "operation",
                           w->rec.operation, "state", pmsd_write_state_name(r->state),
                           "appointmentId", on_sheet ? entry.id : NULL));
out:
    json_decref(patients);
    pms_sheet_entry_clear(&entry);
}

/* A write refused before the PMS was asked to make it (the time is taken): kept as the key's
 * final answer, audited. */
static void finish_refused(pmsd_request *req, pmsd_response *resp, pmsd_pms *p, pmsd_write *w,
                           const char *action, const char *patient_id)
{
    json_t *patients = json_array();
    if (patient_id)
        json_array_append_new(patients, json_string(patient_id));
    if (pmsd_audit(req, resp, p->st, false, action, p->conn.id, patients, resp->status))
        pmsd_write_keep_now(req->app, p->st, w, "failed", resp);
    json_decref(patients);
}

/* The PMS could not be asked (network, its 5xx, credentials refused, the practice's own server
 * offline): answered from err and audited, but not kept as the key's answer: the claim is let
 * go, so the same key may try again. When the adapter also said why in words (r failed with a
 * reason: Sikka's SPU offline), the answer carries that sentence as its reason. */
static void finish_unasked(pmsd_request *req, pmsd_response *resp, pmsd_pms *p, pmsd_write *w,
                           const char *action, const char *patient_id, const pms_error *err,
                           const pms_write_result *r)
{
    pmsd_respond_pms_error(resp, err);
    if (r && r->state == PMS_WRITE_FAILED && r->reason[0] && resp->json)
        json_object_set_new(resp->json, "reason", json_string(r->reason));
    json_t *patients = json_array();
    if (patient_id)
        json_array_append_new(patients, json_string(patient_id));
    pmsd_audit(req, resp, p->st, false, action, p->conn.id, patients, resp->status);
    pmsd_write_release(p->st, w);
    json_decref(patients);
}

/* 409 slot_taken: with the nearest free times where the PMS lists them, else an empty list and
 * a sentence saying to ask for another time. */
static void respond_taken(pmsd_response *resp, pms_session *s, const char *practitioner_id,
                          const char *type_id, pms_instant start, int minutes)
{
    bool lists = (pms_adapter_capabilities(pms_session_ops(s)) & PMS_CAP_FIND_SLOTS) != 0;
    pmsd_respond_error(resp, 409, "slot_taken", "startTime",
                       lists ? "that time is no longer free with this practitioner"
                             : "that time is no longer free with this practitioner, and the "
                               "practice system cannot list free times: ask for another time");
    json_object_set_new(resp->json, "state", json_string("failed"));
    json_object_set_new(resp->json, "alternatives",
                        pmsd_slot_alternatives(s, practitioner_id, type_id, start, minutes,
                                               ALTERNATIVES_EACH_SIDE));
}

void pmsd_op_book(pmsd_request *req, pmsd_response *resp, const pmsd_book_args *a,
                  const char *idem_key)
{
    pmsd_pms p;
    pmsd_write w = {0};
    pms_write_result r = {0};
    if (!pmsd_need_idempotency_key(resp, idem_key))
        return;
    if (!pmsd_pms_open(req, resp, a->connection_id, "connectionId", PMS_CAP_BOOK,
                       "booking appointments", true, &p))
        return;
    if (!pmsd_slot_checkable(p.ops)) {
        pmsd_respond_unsupported(resp, &p.conn, "a way to check a time is free before booking");
        pmsd_pms_close(&p);
        return;
    }
    json_t *args =
        json_pack("{s:s, s:s?, s:s?, s:s?, s:I, s:i, s:s?}", "connectionId", a->connection_id,
                  "patientId", a->patient_id, "practitionerId", a->practitioner_id,
                  "appointmentTypeId", a->appointment_type_id, "start", (json_int_t)a->start,
                  "minutes", a->duration_minutes, "notes", a->notes);
    if (!pmsd_write_claim(req, resp, p.st, "book", p.conn.id, args, idem_key, &w))
        goto out;
    pms_error err = {0};
    bool is_free = false;
    if (!pmsd_slot_free(p.session, a->practitioner_id, a->appointment_type_id, NULL, a->start,
                        a->duration_minutes, &is_free, &err)) {
        finish_unasked(req, resp, &p, &w, "appointment.book", a->patient_id, &err, NULL);
        goto out;
    }
    if (!is_free) {
        respond_taken(resp, p.session, a->practitioner_id, a->appointment_type_id, a->start,
                      a->duration_minutes);
        finish_refused(req, resp, &p, &w, "appointment.book", a->patient_id);
        goto out;
    }
    pms_booking_request br = {a->patient_id, a->practitioner_id,  a->appointment_type_id,
                              a->start,      a->duration_minutes, a->notes};
    if (pms_adapter_book(p.session, &br, &r, &err) != PMS_OK) {
        finish_unasked(req, resp, &p, &w, "appointment.book", a->patient_id, &err, &r);
        goto out;
    }
    pmsd_write_wait(req->app, p.session, budget_deadline(req), &r);
    pms_appointment appt;
    pms_appointment_init(&appt);
    if (r.state == PMS_WRITE_CONFIRMED && r.pms_appointment_id)
        pmsd_sheet_appointment(p.session, &p.conn, r.pms_appointment_id, a->patient_id,
                               a->practitioner_id, a->appointment_type_id, a->start,
                               a->duration_minutes, &appt);
    json_t *body =
        json_pack("{s:s, s:s?, s:o, s:o, s:s?}", "connectionId", p.conn.id, "practitionerId",
                  a->practitioner_id, "startTime", pms_json_instant_or_null(a->start), "endTime",
                  pms_json_instant_or_null(a->start + (pms_instant)a->duration_minutes * 60000),
                  "patientId", a->patient_id);
    finish(req, resp, &p, &w, "appointment.book", a->patient_id, &r, 201, body,
           r.pms_appointment_id ? &appt : NULL);
    pms_appointment_clear(&appt);
out:
    json_decref(args);
    pms_write_result_clear(&r);
    pmsd_write_clear(&w);
    pmsd_pms_close(&p);
}

/* The run-sheet appointment behind {id}: the account's, from a PMS. */
static bool load_entry(pmsd_request *req, pmsd_response *resp, const char *entry_id,
                       pms_sheet_entry *e)
{
    pms_sheet_entry_init(e);
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return false;
    pms_error err = {0};
    int rc = st->ops->entry_get(st, entry_id, e, &err);
    if (rc == PMS_OK && strcmp(e->account_id, req->principal.account_id) != 0)
        rc = PMS_ERR_NOT_FOUND;
    if (rc != PMS_OK) {
        if (rc == PMS_ERR_NOT_FOUND)
            pmsd_respond_error(resp, 404, "not_found", NULL, "no such appointment");
        else
            pmsd_respond_pms_error(resp, &err);
        return false;
    }
    if (e->source != PMS_SOURCE_PMS || e->appt.pms_connection_id == NULL ||
        e->appt.pms_appointment_id == NULL) {
        pmsd_respond_error(resp, 409, "not_pms", NULL,
                           "this appointment is not in a PMS (a manual or OCR entry): change "
                           "it on the run sheet");
        return false;
    }
    return true;
}

static void change(pmsd_request *req, pmsd_response *resp, const char *entry_id, bool cancel,
                   pms_instant start, int minutes, const char *reason, const char *idem_key)
{
    pms_sheet_entry e;
    if (!load_entry(req, resp, entry_id, &e) || !pmsd_need_idempotency_key(resp, idem_key)) {
        pms_sheet_entry_clear(&e);
        return;
    }
    pmsd_pms p;
    pmsd_write w = {0};
    pms_write_result r = {0};
    json_t *args = NULL;
    const char *patient_id = e.appt.patient.pms_patient_id;
    const char *action = cancel ? "appointment.cancel" : "appointment.reschedule";
    if (!pmsd_pms_open(req, resp, e.appt.pms_connection_id, "id",
                       cancel ? PMS_CAP_CANCEL : PMS_CAP_RESCHEDULE,
                       cancel ? "cancelling appointments" : "moving appointments", true, &p))
        goto out_entry;
    if (minutes <= 0)
        minutes = e.appt.duration_minutes > 0 ? e.appt.duration_minutes : 15;
    args = cancel ? json_pack("{s:s, s:s?}", "id", entry_id, "reason", reason)
                  : json_pack("{s:s, s:I, s:i}", "id", entry_id, "start", (json_int_t)start,
                              "minutes", minutes);
    if (!pmsd_write_claim(req, resp, p.st, cancel ? "cancel" : "reschedule", p.conn.id, args,
                          idem_key, &w))
        goto out;
    pms_error err = {0};
    if (!cancel && pmsd_slot_checkable(p.ops)) {
        bool is_free = false;
        if (!pmsd_slot_free(p.session, e.appt.practitioner.pms_practitioner_id,
                            e.appt.appointment_type_id, e.appt.pms_appointment_id, start, minutes,
                            &is_free, &err)) {
            finish_unasked(req, resp, &p, &w, action, patient_id, &err, NULL);
            goto out;
        }
        if (!is_free) {
            respond_taken(resp, p.session, e.appt.practitioner.pms_practitioner_id,
                          e.appt.appointment_type_id, start, minutes);
            finish_refused(req, resp, &p, &w, action, patient_id);
            goto out;
        }
    }
    int rc = cancel ? pms_adapter_cancel(p.session, e.appt.pms_appointment_id, reason, &r, &err)
                    : pms_adapter_reschedule(p.session, e.appt.pms_appointment_id, start, minutes,
                                             &r, &err);
    if (rc != PMS_OK) {
        finish_unasked(req, resp, &p, &w, action, patient_id, &err, &r);
        goto out;
    }
    pmsd_write_wait(req->app, p.session, budget_deadline(req), &r);
    if (r.pms_appointment_id == NULL)
        r.pms_appointment_id = strdup(e.appt.pms_appointment_id);
    pms_appointment appt;
    pms_appointment_init(&appt);
    if (r.state == PMS_WRITE_CONFIRMED)
        pmsd_sheet_changed(p.session, &e, start, minutes, cancel, &appt);
    json_t *body = json_pack("{s:s, s:s}", "connectionId", p.conn.id, "appointmentId", e.id);
    if (!cancel) {
        json_object_set_new(body, "startTime", pms_json_instant_or_null(start));
        json_object_set_new(body, "endTime",
                            pms_json_instant_or_null(start + (pms_instant)minutes * 60000));
    }
    finish(req, resp, &p, &w, action, patient_id, &r, 200, body,
           r.state == PMS_WRITE_CONFIRMED ? &appt : NULL);
    pms_appointment_clear(&appt);
out:
    json_decref(args);
    pms_write_result_clear(&r);
    pmsd_write_clear(&w);
    pmsd_pms_close(&p);
out_entry:
    pms_sheet_entry_clear(&e);
}

void pmsd_op_reschedule(pmsd_request *req, pmsd_response *resp, const char *entry_id,
                        pms_instant start, int duration_minutes, const char *idem_key)
{
    change(req, resp, entry_id, false, start, duration_minutes, NULL, idem_key);
}

void pmsd_op_cancel(pmsd_request *req, pmsd_response *resp, const char *entry_id,
                    const char *reason, const char *idem_key)
{
    change(req, resp, entry_id, true, PMS_INSTANT_NONE, 0, reason, idem_key);
}
