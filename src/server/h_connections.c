/* /api/pms/connections: create, read, change, remove, pair and test PMS connections. Secret
 * settings are write-only: responses say which are set, never their values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/scheduler.h"
#include "server/handlers.h"

static const char *const create_keys[] = {
    "pmsType",
    "displayName",
    "baseUrl",
    "timezone",
    "settings",
    "syncEnabled",
    "syncFrequencyMinutes",
    "syncTelehealthOnly",
    "unmappedPractitioners",
    "setupStep",
    NULL,
};

static const char *const unmapped_values[] = {"create", "skip", NULL};

bool pmsd_read_connection(const json_t *body, bool creating, pmsd_connection_input *in,
                          pmsd_response *resp)
{
    memset(in, 0, sizeof *in);
    in->fields.sync_enabled = -1;
    in->fields.sync_telehealth_only = -1;
    in->fields.skip_unmapped = -1;
    if (!pmsd_v_known_keys(body, create_keys, NULL, resp))
        return false;
    if (!creating && json_object_get(body, "pmsType"))
        return pmsd_v_fail(resp, NULL, "pmsType",
                           "cannot change: remove the connection and add a new one");
    if (creating && !pmsd_v_string(body, "pmsType", NULL, true, 32, &in->pms_type, resp))
        return false;
    if (!pmsd_v_string(body, "displayName", NULL, creating, 255, &in->fields.display_name, resp) ||
        !pmsd_v_string(body, "baseUrl", NULL, false, 2000, &in->fields.base_url, resp) ||
        !pmsd_v_string(body, "timezone", NULL, false, 64, &in->fields.timezone, resp) ||
        !pmsd_v_bool(body, "syncEnabled", NULL, &in->fields.sync_enabled, resp) ||
        !pmsd_v_bool(body, "syncTelehealthOnly", NULL, &in->fields.sync_telehealth_only, resp))
        return false;
    if (json_is_null(json_object_get(body, "baseUrl")))
        in->fields.base_url = ""; /* back to the PMS's default */
    long frequency = 0;
    bool present = false;
    if (!pmsd_v_int(body, "syncFrequencyMinutes", NULL, false, 1, 1440, &frequency, &present, resp))
        return false;
    in->fields.sync_frequency_minutes = present ? (int)frequency : 0;
    const char *unmapped = NULL;
    if (!pmsd_v_enum(body, "unmappedPractitioners", NULL, false, unmapped_values, &unmapped, resp))
        return false;
    if (unmapped)
        in->fields.skip_unmapped = strcmp(unmapped, "skip") == 0;
    if (!pmsd_v_enum(body, "setupStep", NULL, false, pms_connection_setup_steps,
                     &in->fields.setup_step, resp))
        return false;
    if (json_is_null(json_object_get(body, "setupStep")))
        in->fields.setup_step = ""; /* set-up complete */

    const json_t *settings = NULL;
    if (!pmsd_v_object(body, "settings", NULL, false, &settings, resp))
        return false;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)settings, key, value)
    {
        if (in->setting_count == PMSD_CONNECTION_MAX_SETTINGS)
            return pmsd_v_fail(resp, NULL, "settings", "has too many entries");
        pms_setting_value *sv = &in->settings[in->setting_count];
        sv->key = key;
        if (json_is_string(value)) {
            sv->value = json_string_value(value);
        } else if (json_is_null(value)) {
            sv->value = ""; /* clears an optional setting */
        } else if (json_is_integer(value)) {
            snprintf(in->numbers[in->setting_count], sizeof in->numbers[0], "%lld",
                     (long long)json_integer_value(value));
            sv->value = in->numbers[in->setting_count];
        } else {
            char shown[65];
            snprintf(shown, sizeof shown, "%s", key);
            return pmsd_v_fail(resp, "settings", shown, "must be a string");
        }
        in->setting_count++;
    }
    if (!creating && json_object_size(body) == 0) {
        pmsd_respond_error(resp, 400, "invalid_request", NULL, "nothing to change");
        return false;
    }
    return true;
}

bool pmsd_read_pairing(const json_t *body, const char **code, pmsd_response *resp)
{
    static const char *const keys[] = {"code", NULL};
    return pmsd_v_known_keys(body, keys, NULL, resp) &&
           pmsd_v_string(body, "code", NULL, true, 256, code, resp);
}

static void respond_connection(pmsd_response *resp, int status, pms_store *st, const char *id)
{
    pms_connection c;
    pms_error err = {0};
    if (st->ops->connection_get(st, id, &c, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return;
    }
    pmsd_respond_json(resp, status, pms_connection_to_json(&c));
    pms_connection_clear(&c);
}

void pmsd_h_connections_list(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    pms_connection_list list = {0};
    pms_error err = {0};
    if (st->ops->connection_list(st, req->principal.account_id, &list, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(arr, pms_connection_to_json(&list.items[i]));
    pms_connection_list_clear(&list);
    pmsd_respond_json(resp, 200, json_pack("{s:o}", "connections", arr));
}

/* Writes an audit record of a change to a connection inside the open transaction and commits;
 * rolls back (with the response already set) when either fails. */
static bool audit_and_commit(pmsd_request *req, pmsd_response *resp, pms_store *st,
                             const char *action, const char *id, const json_t *patient_ids,
                             int outcome)
{
    char resource[128];
    snprintf(resource, sizeof resource, "pms_connections/%s", id);
    return pmsd_audit_commit(req, resp, st, action, resource, patient_ids, outcome);
}

void pmsd_h_connections_create(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    json_t *body = st ? pmsd_json_body(req, resp) : NULL;
    if (body == NULL)
        return;
    pmsd_connection_input in;
    char id[PMS_UUID_LEN];
    pms_error err = {0};
    if (!pmsd_read_connection(body, true, &in, resp))
        goto out;
    if (st->ops->begin(st, &err) != PMS_OK ||
        pms_connection_create(st, req->app->ring, req->principal.account_id, in.pms_type,
                              &in.fields, in.settings, in.setting_count, id, &err) != PMS_OK) {
        st->ops->rollback(st);
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    if (!audit_and_commit(req, resp, st, "connection.create", id, NULL, 201))
        goto out;
    respond_connection(resp, 201, st, id);
    char location[128];
    snprintf(location, sizeof location, "/api/pms/connections/%s", id);
    pmsd_respond_header(resp, "Location", location);
    if (req->app->scheduler)
        pms_scheduler_wake(req->app->scheduler);
out:
    json_decref(body);
}

void pmsd_h_connection_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    json_t *o = pms_connection_to_json(&c);
    json_object_set_new(o, "sync", pmsd_sync_status_json(st, &c));
    const pms_adapter_ops *ops = pms_adapter_find(c.pms_type);
    json_object_set_new(o, "capabilities",
                        ops ? pms_capabilities_to_json(pms_adapter_capabilities(ops))
                            : json_array());
    pmsd_respond_json(resp, 200, o);
    pms_connection_clear(&c);
}

void pmsd_h_connection_update(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    json_t *body = pmsd_json_body(req, resp);
    pmsd_connection_input in;
    pms_error err = {0};
    if (body == NULL || !pmsd_read_connection(body, false, &in, resp))
        goto out;
    if (st->ops->begin(st, &err) != PMS_OK ||
        pms_connection_update(st, req->app->ring, c.id, &in.fields, in.settings, in.setting_count,
                              &err) != PMS_OK) {
        st->ops->rollback(st);
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    if (!audit_and_commit(req, resp, st, "connection.update", c.id, NULL, 200))
        goto out;
    respond_connection(resp, 200, st, c.id);
    if (req->app->scheduler)
        pms_scheduler_wake(req->app->scheduler);
out:
    json_decref(body);
    pms_connection_clear(&c);
}

typedef struct removal {
    pms_store *st;
    json_t *patients;
} removal;

static int note_removed_patient(void *arg, const char *entry_id, const char *pms_id)
{
    (void)pms_id;
    removal *r = arg;
    pms_sheet_entry e;
    pms_sheet_entry_init(&e);
    if (r->st->ops->entry_get(r->st, entry_id, &e, NULL) == PMS_OK && e.appt.patient.pms_patient_id)
        json_array_append_new(r->patients, json_string(e.appt.patient.pms_patient_id));
    pms_sheet_entry_clear(&e);
    return PMS_OK;
}

void pmsd_h_connection_delete(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    pms_schedule_info state = {0};
    st->ops->schedule_get(st, c.id, pms_now(), &state, NULL);
    pms_error err = {0};
    /* The run-sheet appointments from this connection go with it: their patients are audited. */
    removal r = {.st = st, .patients = json_array()};
    if (state.leased || state.requested) {
        pmsd_respond_error(resp, 409, "sync_in_progress", NULL,
                           "a sync of this connection is %s; remove it when it ends",
                           state.leased ? "running" : "queued");
    } else if (st->ops->begin(st, &err) != PMS_OK ||
               st->ops->entry_each_active_pms(st, c.id, 0, INT64_MAX, note_removed_patient, &r,
                                              &err) != PMS_OK ||
               st->ops->connection_delete(st, c.id, &err) != PMS_OK) {
        st->ops->rollback(st);
        pmsd_respond_pms_error(resp, &err);
    } else if (audit_and_commit(req, resp, st, "connection.delete", c.id, r.patients, 204)) {
        pmsd_respond_text(resp, 204, NULL, NULL, 0);
        if (req->app->scheduler)
            pms_scheduler_wake(req->app->scheduler);
    }
    json_decref(r.patients);
    pms_connection_clear(&c);
}

void pmsd_h_connection_pair(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    json_t *body = pmsd_json_body(req, resp);
    const char *code = NULL;
    char resource[128];
    if (body && pmsd_read_pairing(body, &code, resp)) {
        pms_practice_info info = {0};
        pms_error err = {0};
        pms_session_options opts = pmsd_session_options(req->app);
        if (pms_connection_pair(st, req->app->ring, c.id, code, &opts, &info, &err) != PMS_OK) {
            if (err.code == PMS_ERR_INVALID && err.field[0] == '\0')
                pms_error_field(&err, "code");
            pmsd_respond_pms_error(resp, &err);
        } else if (snprintf(resource, sizeof resource, "pms_connections/%s", c.id) > 0 &&
                   pmsd_audit(req, resp, st, false, "connection.pair", resource, NULL, 200)) {
            respond_connection(resp, 200, st, c.id);
            json_t *practice = json_pack("{s:s?, s:s?, s:s?}", "externalId", info.external_id,
                                         "name", info.name, "timezone", info.timezone);
            if (resp->json)
                json_object_set_new(resp->json, "practice", practice);
            else
                json_decref(practice);
            pms_practice_info_clear(&info);
            if (req->app->scheduler)
                pms_scheduler_wake(req->app->scheduler);
        }
    }
    json_decref(body);
    pms_connection_clear(&c);
}

void pmsd_h_connection_test(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st;
    pms_connection c;
    if (!pmsd_store_and_connection(req, resp, &st, &c))
        return;
    pms_health health = {0};
    pms_error err = {0};
    pms_session_options opts = pmsd_session_options(req->app);
    int rc = pms_connection_test(st, req->app->ring, c.id, &opts, &health, &err);
    if (rc == PMS_ERR_CONFIG || rc == PMS_ERR_STORE || rc == PMS_ERR_NOMEM ||
        rc == PMS_ERR_CRYPTO || rc == PMS_ERR_CANCELLED) {
        pmsd_respond_pms_error(resp, &err);
    } else {
        /* The PMS's answer is the result, good or bad. */
        bool ok = rc == PMS_OK && health.ok;
        const char *message = rc != PMS_OK ? err.message : health.message;
        pmsd_respond_json(resp, 200,
                          json_pack("{s:b, s:I, s:s, s:s?, s:o?}", "ok", ok, "latencyMs",
                                    (json_int_t)health.latency_ms, "message", message, "errorKind",
                                    rc != PMS_OK ? pms_status_name(err.code) : NULL, "pms",
                                    rc != PMS_OK ? pmsd_pms_failure_json(&err) : NULL));
    }
    pms_connection_clear(&c);
}

void pmsd_h_pms_types(pmsd_request *req, pmsd_response *resp)
{
    (void)req;
    json_t *doc = pms_systems_to_json();
    if (doc == NULL)
        pmsd_respond_error(resp, 500, "internal_error", NULL, "out of memory");
    else
        pmsd_respond_json(resp, 200, doc);
}
