/* The follower of pending writes: a thread that asks the PMS about each pending write
 * (write_status) when its next check comes, backing off (1 s doubling to 30 s), until it
 * resolves or write_follow_minutes pass. A resolved write's answer is kept under its
 * Idempotency-Key, its appointment put on the run sheet (confirmed), audited, and published
 * (appointment.write with ids and state only). Any pmsd sharing the database may follow it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pmsync/audit.h"
#include "pmsync/connections.h"
#include "pmsync/log.h"
#include "server/events.h"
#include "server/sheet_write.h"
#include "server/writes.h"

#define FOLLOW_BATCH  20
#define MAX_DELAY_MS  30000
#define SCAN_INTERVAL 500

static pthread_t follower_thread;
static bool follower_running;

static const char *text_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static pms_instant instant_of(const json_t *o, const char *key)
{
    pms_instant t = PMS_INSTANT_NONE;
    const char *s = text_of(o, key);
    int offset = 0;
    if (s == NULL || pms_iso8601_parse(s, &t, &offset, NULL) != PMS_OK)
        return PMS_INSTANT_NONE;
    return t;
}

/* The appointment a resolved write leaves, for the run sheet. */
static bool resolved_appointment(pms_store *st, pms_session *s, const pms_connection *c,
                                 const pms_write_record *w, const pms_write_result *r,
                                 pms_appointment *out)
{
    const json_t *body = w->response;
    pms_instant start = instant_of(body, "startTime"), end = instant_of(body, "endTime");
    int minutes = start != PMS_INSTANT_NONE && end > start ? (int)((end - start) / 60000) : 0;
    if (strcmp(w->operation, "book") == 0) {
        if (r->pms_appointment_id == NULL)
            return false;
        pmsd_sheet_appointment(s, c, r->pms_appointment_id, text_of(body, "patientId"),
                               text_of(body, "practitionerId"), NULL, start, minutes, out);
        return true;
    }
    const char *entry_id = text_of(body, "appointmentId");
    pms_sheet_entry e;
    if (entry_id == NULL || st->ops->entry_get(st, entry_id, &e, NULL) != PMS_OK)
        return false;
    pmsd_sheet_changed(s, &e, start, minutes, strcmp(w->operation, "cancel") == 0, out);
    pms_sheet_entry_clear(&e);
    return true;
}

static void resolve(pmsd_app *app, pms_store *st, pms_session *s, const pms_connection *c,
                    pms_write_record *w, pms_write_result *r)
{
    json_t *body = json_deep_copy(w->response);
    if (body == NULL)
        body = json_object();
    json_object_del(body, "trackingId");
    if (r->pms_appointment_id)
        json_object_set_new(body, "pmsAppointmentId", json_string(r->pms_appointment_id));
    pms_appointment appt;
    pms_appointment_init(&appt);
    bool with_sheet =
        r->state == PMS_WRITE_CONFIRMED && resolved_appointment(st, s, c, w, r, &appt);
    pmsd_response resp = {0};
    pms_sheet_entry entry;
    pms_sheet_entry_init(&entry);
    bool created = false;
    pms_error err = {0};
    int rc = st->ops->begin(st, &err);
    if (rc == PMS_OK && with_sheet) {
        rc = pmsd_sheet_put(st, c, &appt, &entry, &created, &err);
        if (rc == PMS_OK)
            json_object_set_new(body, "appointmentId", json_string(entry.id));
    }
    pmsd_respond_write(&resp, r, strcmp(w->operation, "book") == 0 ? 201 : 200, body);
    json_t *patients = json_array();
    const char *patient = text_of(w->response, "patientId");
    if (patient)
        json_array_append_new(patients, json_string(patient));
    pms_audit_event ev = {.account_id = w->account_id,
                          .actor_role = "system",
                          .action = "appointment.write_resolved",
                          .resource = c->id,
                          .patient_ids = patients,
                          .outcome = resp.status};
    if (rc == PMS_OK)
        rc = pms_audit_append_tx(st, app->ring, &ev, NULL, &err);
    pmsd_write fake = {.rec = *w};
    if (rc == PMS_OK)
        rc = pmsd_write_keep(app, st, &fake, pmsd_write_state_name(r->state), &resp, NULL,
                             with_sheet ? entry.id : NULL, &err);
    *w = fake.rec;
    if (rc == PMS_OK)
        rc = st->ops->commit(st, &err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        pms_log(PMS_LOG_WARN, "write.follow_failed", "connection", c->id, "reason", err.message,
                NULL);
    } else {
        pms_log(PMS_LOG_INFO, "write.resolved", "connection", c->id, "state",
                pmsd_write_state_name(r->state), NULL);
        if (with_sheet)
            pmsd_publish_entry(app, &entry,
                               created ? "appointment.created" : "appointment.updated");
        pmsd_publish(app, w->account_id, "appointment.write",
                     json_pack("{s:s, s:s, s:s, s:s?}", "connectionId", c->id, "operation",
                               w->operation, "state", pmsd_write_state_name(r->state),
                               "appointmentId", with_sheet ? entry.id : NULL));
    }
    json_decref(patients);
    pms_appointment_clear(&appt);
    pms_sheet_entry_clear(&entry);
    pmsd_response_clear(&resp);
}

static void still_pending(pmsd_app *app, pms_store *st, pms_write_record *w)
{
    pms_instant now = pms_now();
    w->attempts++;
    if (now - w->created_at > (pms_instant)app->cfg.write_follow_minutes * 60000) {
        pms_write_result r = {.state = PMS_WRITE_FAILED};
        snprintf(r.reason, sizeof r.reason,
                 "The practice system did not confirm the change in time.");
        pms_connection c = {0};
        if (w->connection_id && st->ops->connection_get(st, w->connection_id, &c, NULL) == PMS_OK)
            resolve(app, st, NULL, &c, w, &r);
        pms_connection_clear(&c);
        return;
    }
    long delay = 1000L << (w->attempts < 5 ? w->attempts : 5);
    w->next_check_at = now + (delay > MAX_DELAY_MS ? MAX_DELAY_MS : delay);
    w->updated_at = now;
    st->ops->write_update(st, w, NULL);
}

static void follow_one(pmsd_app *app, pms_store *st, pms_write_record *w)
{
    pms_connection c = {0};
    pms_session *s = NULL;
    pms_token_box *box = NULL;
    pms_write_result r = {0};
    pms_error err = {0};
    pms_session_options opts = {0};
    opts.cancel = &app->stopping;
    if (w->connection_id == NULL || w->tracking_id == NULL ||
        st->ops->connection_get(st, w->connection_id, &c, &err) != PMS_OK) {
        r.state = PMS_WRITE_FAILED;
        snprintf(r.reason, sizeof r.reason, "The practice system connection has gone.");
        if (c.id)
            resolve(app, st, NULL, &c, w, &r);
        else
            still_pending(app, st, w);
        goto out;
    }
    if (pms_connection_open_session(st, app->ring, &c, &opts, &box, &s, &err) != PMS_OK ||
        pms_adapter_write_status(s, w->tracking_id, &r, &err) != PMS_OK ||
        r.state == PMS_WRITE_PENDING)
        still_pending(app, st, w);
    else
        resolve(app, st, s, &c, w, &r);
out:
    if (s)
        pms_token_box_save(box, st, app->ring, c.id, NULL);
    pms_token_box_free(box);
    pms_session_close(s);
    pms_write_result_clear(&r);
    pms_connection_clear(&c);
}

static void *run(void *arg)
{
    pmsd_app *app = arg;
    while (!atomic_load(&app->stopping)) {
        pms_store *st = pmsd_store(app, NULL);
        pms_write_record_array due = {0};
        if (st && st->ops->write_due(st, pms_now(), FOLLOW_BATCH, &due, NULL) == PMS_OK)
            for (size_t i = 0; i < due.count && !atomic_load(&app->stopping); i++)
                follow_one(app, st, &due.items[i]);
        pms_write_record_array_clear(&due);
        struct timespec ts = {0, SCAN_INTERVAL * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int pmsd_follower_start(pmsd_app *app, pms_error *err)
{
    if (pthread_create(&follower_thread, NULL, run, app) != 0)
        return pms_error_set(err, PMS_ERR_IO, "cannot start the follower of pending writes");
    follower_running = true;
    return PMS_OK;
}

void pmsd_follower_stop(pmsd_app *app)
{
    (void)app;
    if (follower_running)
        pthread_join(follower_thread, NULL);
    follower_running = false;
}
