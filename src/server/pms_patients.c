/* Patients through the unified API: search, read, create; and what no PMS adapter offers yet
 * (notes, insurance, balance, payments). Every answer carrying patient data is audited first. */
#include <stdlib.h>
#include <string.h>

#include "server/pms_ops.h"
#include "server/writes.h"

static json_t *patient_json(const pms_patient *p)
{
    json_t *o = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "id", p->pms_patient_id,
                          "fullName", p->full_name, "givenName", p->first_name, "familyName",
                          p->last_name, "phone", p->phone, "email", p->email);
    if (o && p->has_date_of_birth) {
        char dob[PMS_TIME_BUFLEN];
        pms_date_format(p->date_of_birth, dob);
        json_object_set_new(o, "dateOfBirth", json_string(dob));
    }
    return o;
}

void pmsd_op_patient_search(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                            const pms_patient_query *q)
{
    pmsd_pms p;
    if (!pmsd_pms_open(req, resp, connection_id, "connectionId", PMS_CAP_PATIENT_SEARCH,
                       "patient search", true, &p))
        return;
    pms_patient_list found = {0};
    pms_error err = {0};
    if (pms_adapter_search_patients(p.session, q, &found, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    json_t *ids = json_array(), *list = json_array();
    for (size_t i = 0; i < found.count; i++) {
        if (found.items[i].pms_patient_id)
            json_array_append_new(ids, json_string(found.items[i].pms_patient_id));
        json_array_append_new(list, patient_json(&found.items[i]));
    }
    if (pmsd_audit(req, resp, p.st, false, "patient.search", p.conn.id, ids, 200))
        pmsd_respond_json(resp, 200,
                          json_pack("{s:s, s:O}", "connectionId", p.conn.id, "patients", list));
    json_decref(list);
    json_decref(ids);
out:
    pms_patient_list_clear(&found);
    pmsd_pms_close(&p);
}

void pmsd_op_patient_get(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                         const char *patient_id)
{
    pmsd_pms p;
    if (!pmsd_pms_open(req, resp, connection_id, "connectionId", PMS_CAP_PATIENT_FETCH,
                       "patient records", true, &p))
        return;
    pms_patient found = {0};
    pms_error err = {0};
    json_t *ids = json_pack("[s]", patient_id);
    int rc = pms_adapter_fetch_patient(p.session, patient_id, &found, &err);
    if (rc != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        pmsd_audit(req, resp, p.st, false, "patient.read", p.conn.id, ids, resp->status);
    } else if (pmsd_audit(req, resp, p.st, false, "patient.read", p.conn.id, ids, 200)) {
        pmsd_respond_json(resp, 200, patient_json(&found));
    }
    json_decref(ids);
    pms_patient_clear(&found);
    pmsd_pms_close(&p);
}

void pmsd_op_patient_create(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                            const pms_patient *pt, const char *idem_key)
{
    pmsd_pms p;
    pmsd_write w = {0};
    char *new_id = NULL;
    if (!pmsd_need_idempotency_key(resp, idem_key))
        return;
    if (!pmsd_pms_open(req, resp, connection_id, "connectionId", PMS_CAP_PATIENT_CREATE,
                       "creating patients", true, &p))
        return;
    json_t *args = patient_json(pt);
    json_object_set_new(args, "connectionId", json_string(connection_id));
    if (!pmsd_write_claim(req, resp, p.st, "create_patient", p.conn.id, args, idem_key, &w))
        goto out;
    pms_error err = {0};
    json_t *ids = json_array();
    bool asked = true;
    if (pms_adapter_create_patient(p.session, pt, &new_id, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        asked = false; /* could not ask: the same key may try again */
    } else {
        json_array_append_new(ids, json_string(new_id));
        pmsd_respond_json(resp, 201,
                          json_pack("{s:s, s:s, s:s}", "connectionId", p.conn.id, "id", new_id,
                                    "state", "confirmed"));
    }
    bool audited =
        pmsd_audit(req, resp, p.st, false, "patient.create", p.conn.id, ids, resp->status);
    if (!asked)
        pmsd_write_release(p.st, &w);
    else if (audited) /* else the claim stays in progress: never created twice */
        pmsd_write_keep_now(req->app, p.st, &w, "confirmed", resp);
    json_decref(ids);
out:
    free(new_id);
    json_decref(args);
    pmsd_write_clear(&w);
    pmsd_pms_close(&p);
}

void pmsd_op_not_offered(pmsd_request *req, pmsd_response *resp, const char *connection_id,
                         const char *what, bool is_write, const char *idem_key)
{
    if (is_write && !pmsd_need_idempotency_key(resp, idem_key))
        return;
    pmsd_pms p;
    if (!pmsd_pms_open(req, resp, connection_id, "connectionId", 0, what, false, &p))
        return;
    pmsd_respond_unsupported(resp, &p.conn, what);
    pmsd_pms_close(&p);
}
