/* Gentu error envelopes to one clear line:
 *   Apigee gateway:  {"fault":{"faultstring":"...","detail":{"errorcode":"..."}}}
 *   validation 400:  {"message":"Validation error","details":[{validation,code,message,path[]}]}
 *   404/409/422:     {"message":"..."}
 * PMS error text carries no patient data in these shapes; it is still cut to a bounded length. */
#include <stdio.h>
#include <string.h>

#include "adapters/gentu/gentu.h"

static void append_path(char *buf, size_t len, const json_t *path)
{
    size_t i;
    json_t *part;
    json_array_foreach(path, i, part)
    {
        size_t used = strlen(buf);
        if (json_is_string(part))
            snprintf(buf + used, len - used, "%s%s", i ? "." : "", json_string_value(part));
        else if (json_is_integer(part))
            snprintf(buf + used, len - used, "[%lld]", (long long)json_integer_value(part));
    }
}

static const char *hint_for(long status, const char *errorcode)
{
    if (errorcode && strcmp(errorcode, "entities.UnresolvedVariable") == 0)
        return "the Gentu application is not provisioned yet: ask Magentus to finish setting up "
               "the app, then try again";
    if (errorcode && strstr(errorcode, "InvalidAccessToken"))
        return "the access token was rejected";
    if (errorcode && strstr(errorcode, "InvalidClient"))
        return "check client_id and client_secret";
    if (status == 401)
        return "check client_id and client_secret";
    if (status == 403)
        return "the practice has not paired this app, or access was revoked: pair again";
    return NULL;
}

void pms_gentu_describe_error(const pms_http_response *resp, pms_error *err)
{
    if (err == NULL)
        return;
    json_t *body = resp->body_len ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const json_t *fault = json_object_get(body, "fault");
    const json_t *message = json_object_get(body, "message");
    const json_t *details = json_object_get(body, "details");
    const json_t *oauth_error = json_object_get(body, "error");
    if (json_is_object(fault)) {
        const json_t *faultstring = json_object_get(fault, "faultstring");
        const json_t *code = json_object_get(json_object_get(fault, "detail"), "errorcode");
        const char *errorcode = json_is_string(code) ? json_string_value(code) : NULL;
        const char *hint = hint_for(resp->status, errorcode);
        snprintf(err->message, sizeof err->message, "Gentu gateway error (HTTP %ld): %.120s%s%s",
                 resp->status,
                 json_is_string(faultstring) ? json_string_value(faultstring) : "unknown fault",
                 hint ? "; " : "", hint ? hint : "");
        if (errorcode)
            snprintf(err->detail, sizeof err->detail, "errorcode=%.200s", errorcode);
    } else if (json_is_array(details) && json_array_size(details) > 0) {
        const json_t *first = json_array_get(details, 0);
        const json_t *msg = json_object_get(first, "message");
        char path[160] = "";
        const json_t *path_json = json_object_get(first, "path");
        if (json_is_array(path_json))
            append_path(path, sizeof path, path_json);
        snprintf(err->message, sizeof err->message,
                 "Gentu rejected the request (HTTP %ld): %.100s%s%s", resp->status,
                 json_is_string(msg) ? json_string_value(msg) : "validation error",
                 path[0] ? " at " : "", path);
        snprintf(err->detail, sizeof err->detail, "%zu validation problem(s)",
                 json_array_size(details));
    } else if (json_is_string(oauth_error)) {
        const char *hint = hint_for(resp->status, NULL);
        snprintf(err->message, sizeof err->message,
                 "Gentu refused authentication (HTTP %ld): %.80s%s%s", resp->status,
                 json_string_value(oauth_error), hint ? "; " : "", hint ? hint : "");
    } else if (json_is_string(message)) {
        const char *hint = hint_for(resp->status, NULL);
        snprintf(err->message, sizeof err->message, "Gentu answered HTTP %ld: %.150s%s%s",
                 resp->status, json_string_value(message), hint ? "; " : "", hint ? hint : "");
    } else {
        const char *hint = hint_for(resp->status, NULL);
        snprintf(err->message, sizeof err->message, "Gentu answered HTTP %ld%s%s", resp->status,
                 hint ? ": " : "", hint ? hint : "");
    }
    json_decref(body);
}
