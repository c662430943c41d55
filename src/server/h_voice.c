/* POST /api/voice/vapi: Vapi's server messages. tool-calls are authenticated with the clinic's
 * credential, run in order as the clinic's agent, and answered with HTTP 200
 * {"results": [{"name", "toolCallId", "result" | "error"}]}; any other message type is answered
 * 200 {} and dropped. Only an unauthenticated request gets another status (401). The raw body
 * (transcripts, caller numbers) is never logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/log.h"
#include "server/voice.h"

static const char *text_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

void pmsd_voice_read_call(const json_t *item, const char **name, json_t **args)
{
    const json_t *fn = json_object_get(item, "function");
    *name = text_of(fn, "name");
    if (*name == NULL)
        *name = text_of(item, "name");
    const json_t *a = json_object_get(fn, "arguments");
    if (a == NULL)
        a = json_object_get(item, "arguments");
    if (a == NULL)
        a = json_object_get(item, "parameters");
    if (json_is_string(a))
        *args = json_loads(json_string_value(a), 0, NULL);
    else
        *args = json_incref((json_t *)a);
    if (!json_is_object(*args)) {
        json_decref(*args);
        *args = json_object();
    }
}

static void unauthorized(pmsd_response *resp)
{
    pmsd_respond_error(resp, 401, "unauthorized", NULL,
                       "the request does not carry this clinic's voice credential");
}

bool pmsd_voice_tool_calls(const json_t *body, const json_t **msg, const json_t **calls)
{
    *msg = json_object_get(body, "message");
    *calls = NULL;
    const char *type = text_of(*msg, "type");
    if (type == NULL || strcmp(type, "tool-calls") != 0)
        return false;
    *calls = json_object_get(*msg, "toolCallList");
    if (!json_is_array(*calls))
        *calls = json_object_get(*msg, "toolWithToolCallList");
    return true;
}

bool pmsd_voice_clinic(const json_t *calls, const char *query_clinic, char clinic[64])
{
    clinic[0] = '\0';
    if (query_clinic)
        snprintf(clinic, 64, "%s", query_clinic);
    size_t i;
    json_t *item;
    bool clash = false;
    json_array_foreach(calls, i, item)
    {
        const char *name;
        json_t *args;
        pmsd_voice_read_call(item, &name, &args);
        const char *id = text_of(args, "clinic_id");
        if (id && clinic[0] == '\0')
            snprintf(clinic, 64, "%s", id);
        else if (id && strcmp(id, clinic) != 0)
            clash = true;
        json_decref(args);
    }
    return !clash;
}

const json_t *pmsd_voice_call_of(const json_t *item, const char **name, json_t **args,
                                 const char **tool_call_id)
{
    const json_t *call =
        json_object_get(item, "toolCall") ? json_object_get(item, "toolCall") : item;
    pmsd_voice_read_call(call, name, args);
    *tool_call_id = text_of(call, "id");
    return call;
}

void pmsd_h_voice_vapi(pmsd_request *req, pmsd_response *resp)
{
    json_t *body = req->body ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
    const json_t *msg, *calls;
    pms_voice_settings v = {0};
    if (!pmsd_voice_tool_calls(body, &msg, &calls)) {
        pmsd_respond_json(resp, 200, json_object());
        goto out;
    }
    /* The clinic: from the first call naming one (static parameter), or ?clinic=. */
    char clinic[64];
    bool clash = !pmsd_voice_clinic(calls, pmsd_query(req, "clinic"), clinic);
    pms_store *st = pmsd_req_store(req, resp);
    if (st == NULL)
        goto out;
    const char *method = NULL;
    if (clinic[0] == '\0' || clash || st->ops->voice_settings_get(st, clinic, &v, NULL) != PMS_OK ||
        !pmsd_voice_authenticate(req, st, &v, &method)) {
        unauthorized(resp);
        goto out;
    }
    /* The call's phone number must be the clinic's, when the clinic set one. */
    const char *phone_id = text_of(json_object_get(msg, "call"), "phoneNumberId");
    if (phone_id == NULL)
        phone_id = text_of(json_object_get(msg, "phoneNumber"), "id");
    if (v.phone_number_id && (phone_id == NULL || strcmp(phone_id, v.phone_number_id) != 0)) {
        unauthorized(resp);
        goto out;
    }
    const char *call_id = text_of(json_object_get(msg, "call"), "id");
    pmsd_principal *p = &req->principal;
    p->authenticated = true;
    snprintf(p->account_id, sizeof p->account_id, "%s", clinic);
    snprintf(p->role, sizeof p->role, "agent");
    snprintf(p->actor, sizeof p->actor, "voice:%s", method);
    snprintf(p->name, sizeof p->name, "vapi");

    json_t *results = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(calls, i, item)
    {
        const char *name, *tool_call_id;
        json_t *args;
        pmsd_voice_call_of(item, &name, &args, &tool_call_id);
        char key[256];
        snprintf(key, sizeof key, "vapi:%s:%s", call_id ? call_id : "-",
                 tool_call_id ? tool_call_id : "-");
        char *result = NULL, *error = NULL;
        if (name == NULL || tool_call_id == NULL)
            error = strdup("The tool call had no name or id.");
        else
            pmsd_voice_run_tool(req, &v, name, args, key, &result, &error);
        json_t *r = json_pack("{s:s, s:s}", "name", name ? name : "", "toolCallId",
                              tool_call_id ? tool_call_id : "");
        json_object_set_new(r, error ? "error" : "result",
                            json_string(error    ? error
                                        : result ? result
                                                 : "Done."));
        json_array_append_new(results, r);
        free(result);
        free(error);
        json_decref(args);
    }
    pmsd_response_clear(resp);
    pmsd_respond_json(resp, 200, json_pack("{s:o}", "results", results));
out:
    pms_voice_settings_clear(&v);
    json_decref(body);
}
