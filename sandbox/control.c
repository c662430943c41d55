#include "control.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "pms.h"
#include "stats.h"

static pthread_mutex_t control_lock = PTHREAD_MUTEX_INITIALIZER;
static sbx_dataset_config dataset_config;

void sbx_control_init(const sbx_config *cfg)
{
    pthread_mutex_lock(&control_lock);
    dataset_config = cfg->dataset;
    pthread_mutex_unlock(&control_lock);
}

static void method_not_allowed(sbx_response *resp, const char *allow)
{
    sbx_respond_message(resp, 405, "Method not allowed");
    sbx_response_header(resp, "Allow", allow);
}

static void answer_info(const sbx_request *req, sbx_response *resp)
{
    pthread_mutex_lock(&control_lock);
    sbx_dataset_config ds = dataset_config;
    pthread_mutex_unlock(&control_lock);
    char today[PMS_TIME_BUFLEN];
    pms_date date = ds.today;
    if (!ds.today_set) {
        pms_civil now;
        pms_civil_from_utc_instant(pms_now(), &now);
        date = (pms_date){now.year, now.month, now.day};
    }
    pms_date_format(date, today);
    json_t *info = json_object();
    for (const sbx_pms *const *p = sbx_pms_list; *p != NULL; p++)
        json_object_set_new(info, (*p)->name, (*p)->info(req));
    json_object_set_new(info, "today", json_string(today));
    json_object_set_new(info, "todayPerPractice", json_boolean(!ds.today_set));
    json_object_set_new(info, "seed", json_integer((json_int_t)ds.seed));
    json_object_set_new(info, "faults", sbx_faults_json());
    sbx_respond_json(resp, 200, info);
}

static bool parse_u64_text(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (uint64_t)v;
    return true;
}

static void answer_requests(const sbx_request *req, sbx_response *resp)
{
    uint64_t since = 0, limit = 100000;
    const char *s = sbx_query(req, "since");
    if (s != NULL && !parse_u64_text(s, &since)) {
        sbx_respond_message(resp, 400, "since must be a non-negative integer");
        return;
    }
    s = sbx_query(req, "limit");
    if (s != NULL && (!parse_u64_text(s, &limit) || limit == 0)) {
        sbx_respond_message(resp, 400, "limit must be a positive integer");
        return;
    }
    sbx_respond_json(resp, 200, sbx_requests_json(since, (size_t)limit));
}

static void answer_faults(const sbx_request *req, sbx_response *resp)
{
    if (sbx_method_is(req, "GET")) {
        sbx_respond_json(resp, 200, sbx_faults_json());
        return;
    }
    if (!sbx_method_is(req, "PUT") && !sbx_method_is(req, "PATCH")) {
        method_not_allowed(resp, "GET, PUT, PATCH");
        return;
    }
    json_t *patch = sbx_parse_json_object(req, resp);
    if (patch == NULL)
        return;
    pms_error err;
    if (sbx_faults_update(patch, &err) != PMS_OK)
        sbx_respond_message(resp, 400, err.message);
    else
        sbx_respond_json(resp, 200, sbx_faults_json());
    json_decref(patch);
}

/* Optional body {"seed":N,"today":"YYYY-MM-DD"} changes what the dataset is generated from. */
static void answer_reset(const sbx_request *req, sbx_response *resp)
{
    pthread_mutex_lock(&control_lock);
    sbx_dataset_config ds = dataset_config;
    pthread_mutex_unlock(&control_lock);
    if (req->body_len > 0) {
        json_t *body = sbx_parse_json_object(req, resp);
        if (body == NULL)
            return;
        json_t *seed = json_object_get(body, "seed");
        json_t *today = json_object_get(body, "today");
        bool ok = true;
        if (seed != NULL) {
            ok = json_is_integer(seed) && json_integer_value(seed) >= 0;
            ds.seed = ok ? (uint64_t)json_integer_value(seed) : ds.seed;
        }
        if (ok && today != NULL) {
            if (json_is_null(today)) {
                ds.today_set = false;
            } else {
                ok = json_is_string(today) &&
                     pms_date_parse(json_string_value(today), &ds.today, NULL) == PMS_OK;
                ds.today_set = ok;
            }
        }
        json_decref(body);
        if (!ok) {
            sbx_respond_message(resp, 400, "reset takes {\"seed\":N,\"today\":\"YYYY-MM-DD\"}");
            return;
        }
    }
    for (const sbx_pms *const *p = sbx_pms_list; *p != NULL; p++) {
        pms_error err;
        if ((*p)->reset(&ds, &err) != PMS_OK) {
            sbx_respond_message(resp, 500, err.message);
            return;
        }
    }
    pthread_mutex_lock(&control_lock);
    dataset_config = ds;
    pthread_mutex_unlock(&control_lock);
    sbx_respond_json(
        resp, 200,
        json_pack("{s:s, s:I}", "message", "Dataset regenerated", "seed", (json_int_t)ds.seed));
}

void sbx_control_handle(const sbx_request *req, const char *rest, sbx_response *resp)
{
    if (strcmp(rest, "/info") == 0 || strcmp(rest, "") == 0 || strcmp(rest, "/") == 0) {
        if (!sbx_method_is(req, "GET"))
            method_not_allowed(resp, "GET");
        else
            answer_info(req, resp);
    } else if (strcmp(rest, "/stats") == 0) {
        if (!sbx_method_is(req, "GET"))
            method_not_allowed(resp, "GET");
        else
            sbx_respond_json(resp, 200, sbx_stats_json());
    } else if (strcmp(rest, "/stats/reset") == 0) {
        if (!sbx_method_is(req, "POST")) {
            method_not_allowed(resp, "POST");
            return;
        }
        sbx_stats_reset();
        sbx_respond_json(resp, 200, sbx_stats_json());
    } else if (strcmp(rest, "/requests") == 0) {
        if (!sbx_method_is(req, "GET"))
            method_not_allowed(resp, "GET");
        else
            answer_requests(req, resp);
    } else if (strcmp(rest, "/faults") == 0) {
        answer_faults(req, resp);
    } else if (strcmp(rest, "/faults/reset") == 0) {
        if (!sbx_method_is(req, "POST")) {
            method_not_allowed(resp, "POST");
            return;
        }
        sbx_faults_reset();
        sbx_respond_json(resp, 200, sbx_faults_json());
    } else if (strcmp(rest, "/reset") == 0) {
        if (!sbx_method_is(req, "POST"))
            method_not_allowed(resp, "POST");
        else
            answer_reset(req, resp);
    } else {
        const char *pms_rest = NULL;
        const sbx_pms *pms = sbx_pms_for_path(rest, &pms_rest);
        if (pms != NULL)
            pms->control(req, pms_rest, resp);
        else
            sbx_respond_message(resp, 404, "No such control endpoint");
    }
}
