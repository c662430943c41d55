/* Sikka transport: URLs, the string list envelope (offset is a page index, `next` empty on the
 * last page, 204 for none), Data-Insert, the practice from authorized_practices, JSON writes,
 * and the error envelope turned into sentences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/sikka/sikka.h"

#define MAX_PAGES 10000

char *pms_sikka_url(pms_session *s, const char *path, const char *query)
{
    char *full = NULL, *url = NULL;
    if (asprintf(&full, "%s%s%s", path, query && query[0] ? "?" : "", query ? query : "") < 0)
        return NULL;
    url = pms_session_url(s, full);
    free(full);
    return url;
}

int pms_sikka_get(pms_session *s, pms_http_client *client, const char *url, json_t **page,
                  pms_error *err)
{
    static const pms_http_header accept = {"Accept", "application/json"};
    pms_http_request req = {.method = "GET", .url = url, .headers = &accept, .header_count = 1};
    pms_http_response resp = {0};
    *page = NULL;
    int rc = pms_session_call(s, client, &req, PMS_CALL_AUTH | PMS_CALL_JSON, &resp, page, err);
    const char *insert = pms_http_response_header(&resp, "data-insert");
    if (rc == PMS_OK && insert && strcasecmp(insert, "in progress") == 0) {
        json_decref(*page);
        *page = NULL;
        rc = pms_error_set(err, PMS_ERR_UPSTREAM,
                           "Sikka is still loading the practice's data (Data-Insert: in "
                           "progress); the next sync will read it");
    }
    pms_http_response_clear(&resp);
    return rc;
}

int pms_sikka_get_all(pms_session *s, pms_http_client *client, const char *path, const char *query,
                      long limit, json_t **items, pms_error *err)
{
    *items = json_array();
    if (*items == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (limit <= 0)
        limit = pms_session_setting_long(s, "page_size", 1, 5000, 500);
    for (int page = 0; page < MAX_PAGES; page++) {
        char *q = NULL;
        if (asprintf(&q, "%s%soffset=%d&limit=%ld", query ? query : "", query ? "&" : "", page,
                     limit) < 0)
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        char *url = pms_sikka_url(s, path, q);
        free(q);
        json_t *json = NULL;
        int rc = url ? pms_sikka_get(s, client, url, &json, err)
                     : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        free(url);
        if (rc != PMS_OK)
            return rc;
        if (json == NULL) /* 204: no (more) items */
            return PMS_OK;
        const json_t *list = json_object_get(json, "items");
        if (!json_is_array(list)) {
            json_decref(json);
            return pms_error_set(err, PMS_ERR_PARSE, "Sikka sent a list without items");
        }
        json_array_extend(*items, (json_t *)list);
        const json_t *next = json_object_get(json_object_get(json, "pagination"), "next");
        bool more =
            json_is_string(next) && json_string_length(next) > 0 && json_array_size(list) > 0;
        json_decref(json);
        if (!more)
            return PMS_OK;
    }
    return pms_error_set(err, PMS_ERR_UPSTREAM, "Sikka kept returning pages");
}

int pms_sikka_send(pms_session *s, const char *method, const char *url, const json_t *body,
                   json_t **answer, pms_error *err)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (text == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    static const pms_http_header headers[] = {
        {"Content-Type", "application/json"},
        {"Accept", "application/json"},
    };
    pms_http_request req = {.method = method,
                            .url = url,
                            .headers = headers,
                            .header_count = 2,
                            .body = text,
                            .body_len = strlen(text)};
    int rc = pms_session_call(s, NULL, &req, PMS_CALL_AUTH | PMS_CALL_JSON, NULL, answer, err);
    free(text);
    return rc;
}

const json_t *pms_sikka_practice(pms_session *s, pms_error *err)
{
    sikka_state *st = pms_session_state(s);
    pthread_mutex_lock(&st->lock);
    const json_t *known = st->practice;
    pthread_mutex_unlock(&st->lock);
    if (known)
        return known;
    const char *app_id = pms_session_setting(s, "app_id");
    const char *app_key = pms_session_setting(s, "app_key");
    const char *practice_id = pms_session_setting(s, "practice_id");
    if (!app_id || !app_key || !practice_id) {
        pms_error_set(err, PMS_ERR_CONFIG, "Sikka needs app_id, app_key and practice_id");
        return NULL;
    }
    const char *show_all = pms_session_setting(s, "show_all_practices");
    bool all = show_all && strcmp(show_all, "true") == 0;
    char *url = pms_sikka_url(s, "/authorized_practices", all ? "show=all" : NULL);
    pms_http_header headers[] = {
        {"Accept", "application/json"}, {"App-Id", app_id}, {"App-Key", app_key}};
    pms_http_request req = {.method = "GET", .url = url, .headers = headers, .header_count = 3};
    json_t *json = NULL;
    int rc = url ? pms_session_call(s, NULL, &req, PMS_CALL_JSON, NULL, &json, err)
                 : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(url);
    if (rc != PMS_OK)
        return NULL;
    const char *office = pms_session_setting(s, "office_id");
    json_t *found = NULL;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(json, "items"), i, item)
    {
        const char *pid = json_string_value(json_object_get(item, "practice_id"));
        const char *oid = json_string_value(json_object_get(item, "office_id"));
        if (pid && strcmp(pid, practice_id) == 0 && (!office || (oid && !strcmp(oid, office)))) {
            found = item;
            break;
        }
    }
    if (found == NULL) {
        json_decref(json);
        pms_error_set(err, PMS_ERR_CONFIG,
                      "practice %.40s is not among the practices that authorized this Sikka "
                      "application%s",
                      practice_id, all ? "" : " (set show_all_practices=true to see every one)");
        return NULL;
    }
    pthread_mutex_lock(&st->lock);
    if (st->practice == NULL)
        st->practice = json_incref(found);
    known = st->practice;
    pthread_mutex_unlock(&st->lock);
    json_decref(json);
    return known;
}

bool pms_sikka_token_expired(const pms_http_response *resp)
{
    if (resp->status != 400 || resp->body_len == 0)
        return false;
    json_t *body = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *code = json_string_value(json_object_get(body, "error_code"));
    /* Expired (API1025), or no longer known (API1004: Sikka forgot its keys, e.g. after the
     * practice re-authorized): either way a new key is minted once. */
    bool expired = code && (strcmp(code, "API1025") == 0 || strcmp(code, "API1004") == 0);
    json_decref(body);
    return expired;
}

/* What to do about each error code, in words. */
static const char *advice(const char *code)
{
    static const struct {
        const char *code, *text;
    } table[] = {
        {"API1001", "the Sikka app_id is missing"},
        {"API1002", "the Sikka app_key is missing"},
        {"API1004", "the request key is missing or invalid"},
        {"API1005", "the practice's secret key is missing"},
        {"API1025", "the request key expired"},
        {"API1026", "a parameter is missing or invalid"},
        {"API2003", "Sikka refused the credentials: check app_id and app_key"},
        {"API2004", "this Sikka application is not allowed to use that API"},
        {"API2007", "the practice has not authorized this Sikka application: check practice_id"},
        {"API2005", "no content"},
        {"API2009", "not found"},
        {"API2010", "the practice's data is not uploaded to Sikka yet; try again later"},
        {"API2011", "the practice's daily Sikka data limit is used up; try again tomorrow"},
        {"API2012", "the practice's daily Sikka request limit is used up; try again tomorrow"},
        {"API2017", "the practice's Sikka server (SPU) is offline; try again when it is back"},
        {"API2002", "Sikka is overloaded; try again shortly"},
        {"API2022", "Sikka timed out; try again shortly"},
    };
    for (size_t i = 0; code && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].code, code) == 0)
            return table[i].text;
    return NULL;
}

void pms_sikka_describe_error(const pms_http_response *resp, pms_error *err)
{
    if (err == NULL)
        return;
    json_t *body = resp->body_len ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(body, "error_code"));
    const char *message = json_string_value(json_object_get(body, "long_message"));
    const char *text = advice(code);
    if (resp->status == 429 && code && strcmp(code, "API2011") != 0 && strcmp(code, "API2012") != 0)
        text = "Sikka's rate limit was reached";
    if (text)
        snprintf(err->message, sizeof err->message, "Sikka (HTTP %ld, %s): %s", resp->status, code,
                 text);
    else if (message)
        snprintf(err->message, sizeof err->message, "Sikka answered HTTP %ld (%s): %.150s",
                 resp->status, code ? code : "no code", message);
    else
        snprintf(err->message, sizeof err->message, "Sikka answered HTTP %ld", resp->status);
    json_decref(body);
}
