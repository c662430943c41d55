/* /api/keys: an account's API keys. A new key's text is in the creation response only; the
 * store keeps its hash. Creating and revoking keys are audited. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/accounts.h"
#include "server/handlers.h"

void pmsd_h_keys_list(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    pms_api_key_array keys = {0};
    pms_error err = {0};
    if (pms_api_key_list(st, req->principal.account_id, &keys, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < keys.count; i++)
        json_array_append_new(arr, pms_api_key_to_json(&keys.items[i]));
    pms_api_key_array_clear(&keys);
    pmsd_respond_json(resp, 200, json_pack("{s:o}", "keys", arr));
}

static const char *const role_values[] = {"admin", "staff", "agent", NULL};

bool pmsd_read_api_key(const json_t *body, const char **name, pms_role *role, pmsd_response *resp)
{
    static const char *const keys[] = {"name", "role", NULL};
    const char *role_name;
    return pmsd_v_known_keys(body, keys, NULL, resp) &&
           pmsd_v_string(body, "name", NULL, true, PMS_API_KEY_NAME_MAX, name, resp) &&
           pmsd_v_enum(body, "role", NULL, true, role_values, &role_name, resp) &&
           pms_role_parse(role_name, role) == PMS_OK;
}

void pmsd_h_keys_create(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    json_t *body = st ? pmsd_json_body(req, resp) : NULL;
    const char *name;
    pms_role role;
    if (body == NULL || !pmsd_read_api_key(body, &name, &role, resp)) {
        json_decref(body);
        return;
    }
    char *plaintext = NULL;
    pms_api_key key = {0};
    pms_error err = {0};
    int rc = st->ops->begin(st, &err);
    if (rc == PMS_OK)
        rc = pms_api_key_create(st, req->principal.account_id, name, role, &plaintext, &key, &err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    char resource[128];
    snprintf(resource, sizeof resource, "api_keys/%s", key.id);
    if (!pmsd_audit_commit(req, resp, st, "api_key.create", resource, NULL, 201))
        goto out;
    json_t *o = pms_api_key_to_json(&key);
    json_object_set_new(o, "key", json_string(plaintext));
    pmsd_respond_json(resp, 201, o); /* every response is Cache-Control: no-store */
out:
    if (plaintext)
        pms_secure_free(plaintext, strlen(plaintext));
    pms_api_key_clear(&key);
    json_decref(body);
}

void pmsd_h_key_revoke(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    const char *id = pmsd_param(req, 0);
    if (strcmp(id, req->principal.key_id) == 0) {
        pmsd_respond_error(resp, 409, "conflict", NULL,
                           "a key cannot revoke itself: use another admin key");
        return;
    }
    pms_error err = {0};
    int rc = st->ops->begin(st, &err);
    if (rc == PMS_OK)
        rc = pms_api_key_revoke(st, req->principal.account_id, id, &err);
    if (rc != PMS_OK) {
        st->ops->rollback(st);
        if (rc == PMS_ERR_NOT_FOUND)
            pmsd_respond_error(resp, 404, "not_found", NULL, "no such API key");
        else
            pmsd_respond_pms_error(resp, &err);
        return;
    }
    char resource[128];
    snprintf(resource, sizeof resource, "api_keys/%s", id);
    if (!pmsd_audit_commit(req, resp, st, "api_key.revoke", resource, NULL, 204))
        return;
    pmsd_respond_text(resp, 204, NULL, NULL, 0);
}
