/* Halaxy error bodies to one clear line (notes §4.2, §4.8):
 *   FHIR:        {"resourceType":"OperationOutcome","issue":[{severity, code, diagnostics,
 *                  details:{text}}]}
 *   token call:  {"error":"invalid_client","error_description":"..."}
 *   403 / 405:   often no body at all.
 * Halaxy's text is cut to a bounded length and kept on one line; nothing of the request (URL,
 * credentials, search values) is added to the message. */
#include <stdio.h>
#include <string.h>

#include "adapters/halaxy/halaxy.h"

/* OperationOutcomes are small; a larger body is a page of data, not an error to inspect. */
#define MAX_OUTCOME_BYTES (64 * 1024)

/* Copies at most max bytes of text into buf on one line (control characters become spaces),
 * marking a cut with "...". */
static void one_line(char *buf, size_t cap, const char *text, size_t max)
{
    size_t n = strlen(text);
    size_t limit = max < cap - 4 ? max : cap - 4;
    bool cut = n > limit;
    if (cut)
        n = limit;
    /* do not cut inside a UTF-8 sequence */
    while (cut && n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? ' ' : text[i];
    strcpy(buf + n, cut ? "..." : "");
}

static const char *string_member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

/* The issue to report: the first error or fatal one, else the first. */
static const json_t *main_issue(const json_t *issues)
{
    size_t i;
    json_t *issue;
    json_array_foreach(issues, i, issue)
    {
        const char *severity = string_member(issue, "severity");
        if (severity && (strcmp(severity, "error") == 0 || strcmp(severity, "fatal") == 0))
            return issue;
    }
    return json_array_get(issues, 0);
}

static bool is_outcome(const json_t *body)
{
    const char *type = string_member(body, "resourceType");
    return json_is_array(json_object_get(body, "issue")) &&
           (type == NULL || strcmp(type, "OperationOutcome") == 0);
}

static json_t *load_body(const pms_http_response *resp)
{
    if (resp->body == NULL || resp->body_len == 0 || resp->body_len > MAX_OUTCOME_BYTES)
        return NULL;
    return json_loadb(resp->body, resp->body_len, 0, NULL);
}

bool pms_halaxy_token_expired(const pms_http_response *resp)
{
    /* Called for every answer: look for the word before parsing anything. */
    if (resp->body == NULL || resp->body_len == 0 || resp->body_len > MAX_OUTCOME_BYTES ||
        memmem(resp->body, resp->body_len, "expired", 7) == NULL)
        return false;
    json_t *body = load_body(resp);
    bool expired = false;
    if (is_outcome(body)) {
        const char *code = string_member(json_array_get(json_object_get(body, "issue"), 0), "code");
        expired = code != NULL && strcmp(code, "expired") == 0;
    }
    json_decref(body);
    return expired;
}

static const char *hint_for(long status)
{
    if (status == 401)
        return "check client_id and client_secret, and that the API key has access to this "
               "resource";
    if (status == 403)
        return "check that the API key has access to this resource";
    if (status == 405)
        return "Halaxy does not allow this operation on this resource";
    if (status == 429)
        return "Halaxy is limiting the request rate";
    return NULL;
}

void pms_halaxy_describe_error(const pms_http_response *resp, pms_error *err)
{
    if (err == NULL)
        return;
    json_t *body = load_body(resp);
    const char *hint = hint_for(resp->status);
    char text[160];
    if (is_outcome(body)) {
        const json_t *issues = json_object_get(body, "issue");
        const json_t *issue = main_issue(issues);
        const char *code = string_member(issue, "code");
        const char *said = string_member(issue, "diagnostics");
        if (said == NULL)
            said = string_member(json_object_get(issue, "details"), "text");
        one_line(text, sizeof text, said ? said : "", 120);
        char code_part[48] = "";
        if (code)
            snprintf(code_part, sizeof code_part, ", code %.32s", code);
        const char *what = resp->status == 404 || resp->status == 410 ? "Halaxy has no such record"
                           : resp->status >= 500                      ? "Halaxy failed"
                                                 : "Halaxy refused the request";
        snprintf(err->message, sizeof err->message, "%s (HTTP %ld%s)%s%s%s%s", what, resp->status,
                 code_part, text[0] ? ": " : "", text, hint ? "; " : "", hint ? hint : "");
        const char *severity = string_member(issue, "severity");
        snprintf(err->detail, sizeof err->detail, "%zu issue(s); severity %.16s, code %.32s",
                 json_array_size(issues), severity ? severity : "?", code ? code : "?");
    } else if (string_member(body, "error")) {
        /* The token endpoint's OAuth error. */
        const char *description = string_member(body, "error_description");
        char error[48];
        one_line(error, sizeof error, string_member(body, "error"), 40);
        one_line(text, sizeof text, description ? description : "", 100);
        snprintf(err->message, sizeof err->message,
                 "Halaxy refused the credentials (HTTP %ld, %s)%s%s; check client_id and "
                 "client_secret",
                 resp->status, error, text[0] ? ": " : "", text);
        snprintf(err->detail, sizeof err->detail, "error=%s", error);
    } else if (resp->status == 403) {
        snprintf(err->message, sizeof err->message,
                 "Halaxy refused the request: check that the API key has access to this "
                 "resource");
    } else {
        snprintf(err->message, sizeof err->message, "Halaxy answered HTTP %ld%s%s", resp->status,
                 hint ? ": " : "", hint ? hint : "");
    }
    json_decref(body);
}
