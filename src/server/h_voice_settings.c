/* /api/voice/settings: the account's voice receptionist credentials (sealed with the key ring,
 * never shown again), the connection its tools use and the Vapi phone number its calls must
 * come from. */
#include <stdlib.h>
#include <string.h>

#include "pmsync/crypto.h"
#include "server/voice.h"

#define MIN_SECRET 16

static const char *const settings_keys[] = {"bearerSecret", "hmacSecret", "connectionId",
                                            "phoneNumberId", NULL};

static json_t *settings_json(const pms_voice_settings *v)
{
    return json_pack("{s:s?, s:s?, s:b, s:b, s:o}", "connectionId", v->connection_id,
                     "phoneNumberId", v->phone_number_id, "bearerSecretSet",
                     v->bearer_sealed != NULL, "hmacSecretSet", v->hmac_sealed != NULL, "updatedAt",
                     pms_json_instant_or_null(v->updated_at));
}

void pmsd_h_voice_settings_get(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        return;
    pms_voice_settings v = {0};
    pms_error err = {0};
    int rc = st->ops->voice_settings_get(st, req->principal.account_id, &v, &err);
    if (rc == PMS_ERR_NOT_FOUND)
        v.updated_at = PMS_INSTANT_NONE;
    else if (rc != PMS_OK)
        return pmsd_respond_pms_error(resp, &err);
    pmsd_respond_json(resp, 200, settings_json(&v));
    pms_voice_settings_clear(&v);
}

bool pmsd_read_voice_settings(const json_t *body, pmsd_response *resp)
{
    static const char *const secret_keys[] = {"bearerSecret", "hmacSecret", NULL};
    static const char *const text_keys[] = {"connectionId", "phoneNumberId", NULL};
    if (!pmsd_v_known_keys(body, settings_keys, NULL, resp))
        return false;
    for (size_t i = 0; secret_keys[i]; i++) {
        const json_t *value = json_object_get(body, secret_keys[i]);
        const char *text = json_string_value(value);
        if (value && !json_is_null(value) &&
            (text == NULL || strlen(text) < MIN_SECRET || strlen(text) > 512))
            return pmsd_v_fail(resp, NULL, secret_keys[i],
                               "must be a string of 16 to 512 characters");
    }
    for (size_t i = 0; text_keys[i]; i++) {
        const char *text;
        if (!pmsd_v_string(body, text_keys[i], NULL, false, 128, &text, resp))
            return false;
    }
    return true;
}

/* A secret member (checked by pmsd_read_voice_settings): absent keeps *sealed, null clears it,
 * a string seals. */
static bool take_secret(pmsd_request *req, pmsd_response *resp, const json_t *body, const char *key,
                        const char *which, char **sealed)
{
    json_t *value = json_object_get(body, key);
    if (value == NULL)
        return true;
    if (json_is_null(value)) {
        free(*sealed);
        *sealed = NULL;
        return true;
    }
    const char *text = json_string_value(value);
    if (req->app->ring == NULL) {
        pmsd_respond_error(resp, 409, "not_configured", key, "no encryption key is configured");
        return false;
    }
    char aad[128];
    char *out = NULL;
    pmsd_voice_aad(req->principal.account_id, which, aad, sizeof aad);
    pms_error err = {0};
    if (pms_seal(req->app->ring, aad, text, strlen(text), &out, &err) != PMS_OK) {
        pmsd_respond_pms_error(resp, &err);
        return false;
    }
    free(*sealed);
    *sealed = out;
    return true;
}

static bool take_text(pmsd_response *resp, const json_t *body, const char *key, char **dst)
{
    const char *text = NULL;
    if (json_object_get(body, key) == NULL)
        return true;
    if (!pmsd_v_string(body, key, NULL, false, 128, &text, resp))
        return false;
    return pms_str_set(dst, text && text[0] ? text : NULL) == 0;
}

void pmsd_h_voice_settings_put(pmsd_request *req, pmsd_response *resp)
{
    pms_store *st = pmsd_req_store(req, resp);
    json_t *body = st ? pmsd_json_body(req, resp) : NULL;
    pms_voice_settings v = {0};
    pms_error err = {0};
    if (body == NULL || !pmsd_read_voice_settings(body, resp))
        goto out;
    int rc = st->ops->voice_settings_get(st, req->principal.account_id, &v, &err);
    if (rc != PMS_OK && rc != PMS_ERR_NOT_FOUND) {
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    if ((v.account_id == NULL && pms_str_set(&v.account_id, req->principal.account_id)) ||
        !take_secret(req, resp, body, "bearerSecret", "bearer", &v.bearer_sealed) ||
        !take_secret(req, resp, body, "hmacSecret", "hmac", &v.hmac_sealed) ||
        !take_text(resp, body, "connectionId", &v.connection_id) ||
        !take_text(resp, body, "phoneNumberId", &v.phone_number_id))
        goto out;
    if (v.connection_id) {
        pms_connection c = {0};
        rc = st->ops->connection_get(st, v.connection_id, &c, NULL);
        bool own = rc == PMS_OK && strcmp(c.account_id, req->principal.account_id) == 0;
        pms_connection_clear(&c);
        if (!own) {
            pmsd_respond_error(resp, 404, "not_found", "connectionId", "no such connection");
            goto out;
        }
    }
    v.updated_at = pms_now();
    if (st->ops->begin(st, &err) != PMS_OK || st->ops->voice_settings_put(st, &v, &err) != PMS_OK) {
        st->ops->rollback(st);
        pmsd_respond_pms_error(resp, &err);
        goto out;
    }
    if (!pmsd_audit_commit(req, resp, st, "voice.settings.update", req->principal.account_id, NULL,
                           200))
        goto out;
    pmsd_respond_json(resp, 200, settings_json(&v));
out:
    pms_voice_settings_clear(&v);
    json_decref(body);
}
