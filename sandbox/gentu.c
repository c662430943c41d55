#include "gentu.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gentu_auth.h"
#include "gentu_cursor.h"
#include "gentu_json.h"
#include "setting.h"

static pthread_rwlock_t world_lock = PTHREAD_RWLOCK_INITIALIZER;
static gentu_world *world;
static sbx_gentu_config settings;

gentu_world *gentu_lock_read(void)
{
    pthread_rwlock_rdlock(&world_lock);
    return world;
}

gentu_world *gentu_lock_write(void)
{
    pthread_rwlock_wrlock(&world_lock);
    return world;
}

void gentu_unlock(void)
{
    pthread_rwlock_unlock(&world_lock);
}

sbx_gentu_config *gentu_settings(void)
{
    return &settings;
}

json_t *gentu_settings_json(const sbx_gentu_config *s)
{
    return json_pack("{s:b, s:b, s:b, s:b, s:s, s:i, s:i, s:i, s:b, s:s, s:s}", "unprovisioned_app",
                     s->unprovisioned_app, "todate_inclusive", s->todate_inclusive,
                     "empty_last_page", s->empty_last_page, "body_credentials", s->body_credentials,
                     "tenants_list", s->tenants_list_all ? "all" : "paired", "unpaired_status",
                     s->unpaired_status, "wrong_app_status", s->wrong_app_status, "max_window_days",
                     s->max_window_days, "cursor_bound", s->cursor_bound, "token_errors",
                     s->token_errors == SBX_GENTU_ERRORS_APIGEE ? "apigee" : "oauth", "cancel_body",
                     s->cancel_by_status ? "status" : "action");
}

static int apply_setting(sbx_gentu_config *s, const char *key, const json_t *v, pms_error *err)
{
    static const int statuses[] = {403, 404};
    static const char *const tenants_lists[] = {"paired", "all"};
    static const char *const token_errors[] = {"oauth", "apigee"};
    static const char *const cancel_bodies[] = {"action", "status"};
    int choice = 0, rc;
    if (strcmp(key, "unprovisioned_app") == 0)
        return sbx_setting_bool(key, v, &s->unprovisioned_app, err);
    if (strcmp(key, "todate_inclusive") == 0)
        return sbx_setting_bool(key, v, &s->todate_inclusive, err);
    if (strcmp(key, "empty_last_page") == 0)
        return sbx_setting_bool(key, v, &s->empty_last_page, err);
    if (strcmp(key, "body_credentials") == 0)
        return sbx_setting_bool(key, v, &s->body_credentials, err);
    if (strcmp(key, "cursor_bound") == 0)
        return sbx_setting_bool(key, v, &s->cursor_bound, err);
    if (strcmp(key, "unpaired_status") == 0)
        return sbx_setting_int_choice(key, v, statuses, 2, &s->unpaired_status, err);
    if (strcmp(key, "wrong_app_status") == 0)
        return sbx_setting_int_choice(key, v, statuses, 2, &s->wrong_app_status, err);
    if (strcmp(key, "tenants_list") == 0) {
        rc = sbx_setting_name(key, v, tenants_lists, 2, &choice, err);
        if (rc == PMS_OK)
            s->tenants_list_all = choice == 1;
        return rc;
    }
    if (strcmp(key, "token_errors") == 0) {
        rc = sbx_setting_name(key, v, token_errors, 2, &choice, err);
        if (rc == PMS_OK)
            s->token_errors = choice == 1 ? SBX_GENTU_ERRORS_APIGEE : SBX_GENTU_ERRORS_OAUTH;
        return rc;
    }
    if (strcmp(key, "cancel_body") == 0) {
        rc = sbx_setting_name(key, v, cancel_bodies, 2, &choice, err);
        if (rc == PMS_OK)
            s->cancel_by_status = choice == 1;
        return rc;
    }
    if (strcmp(key, "max_window_days") == 0)
        return sbx_setting_int(key, v, 0, 3650, &s->max_window_days, err);
    return pms_error_set(err, PMS_ERR_INVALID, "unknown Gentu setting: %s", key);
}

int gentu_settings_update(sbx_gentu_config *s, const json_t *patch, pms_error *err)
{
    if (!json_is_object(patch))
        return pms_error_set(err, PMS_ERR_INVALID, "settings must be a JSON object");
    sbx_gentu_config next = *s;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)patch, key, value)
    {
        int rc = apply_setting(&next, key, value, err);
        if (rc != PMS_OK)
            return rc;
    }
    *s = next;
    return PMS_OK;
}

static int gentu_start(const sbx_config *cfg, pms_error *err)
{
    gentu_world *fresh = NULL;
    int rc = gentu_world_generate(&cfg->dataset, &fresh, err);
    if (rc != PMS_OK)
        return rc;
    pthread_rwlock_wrlock(&world_lock);
    settings = cfg->gentu;
    world = fresh;
    pthread_rwlock_unlock(&world_lock);
    gentu_cursors_reset(cfg->dataset.seed);
    return PMS_OK;
}

static void gentu_stop(void)
{
    pthread_rwlock_wrlock(&world_lock);
    gentu_world_free(world);
    world = NULL;
    pthread_rwlock_unlock(&world_lock);
    gentu_tokens_clear();
    gentu_cursors_free();
}

static int gentu_reset(const sbx_dataset_config *dataset, pms_error *err)
{
    pthread_rwlock_rdlock(&world_lock);
    sbx_dataset_config cfg = dataset != NULL ? *dataset : world->config;
    pthread_rwlock_unlock(&world_lock);
    gentu_world *fresh = NULL;
    int rc = gentu_world_generate(&cfg, &fresh, err);
    if (rc != PMS_OK)
        return rc;
    pthread_rwlock_wrlock(&world_lock);
    gentu_world *old = world;
    world = fresh;
    gentu_tokens_clear();
    gentu_cursors_reset(cfg.seed);
    pthread_rwlock_unlock(&world_lock);
    gentu_world_free(old);
    return PMS_OK;
}

static json_t *tenant_info(const gentu_tenant *t)
{
    char today[PMS_TIME_BUFLEN], from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN];
    pms_date_format(t->today, today);
    gentu_format_time(t, pms_tz_day_start(t->tz, t->today), from);
    gentu_format_time(t, pms_tz_day_start(t->tz, pms_date_add_days(t->today, 1)), to);
    json_t *all = json_array(), *book = json_array(), *telehealth = json_array();
    json_t *types = json_array();
    for (size_t i = 0; i < t->practitioner_count; i++) {
        json_array_append_new(all, json_string(t->practitioners[i].id));
        if (t->practitioners[i].active && t->practitioners[i].shown)
            json_array_append_new(book, json_string(t->practitioners[i].id));
    }
    for (size_t i = 0; i < t->type_count; i++) {
        json_array_append_new(types, json_string(t->types[i].id));
        if (t->types[i].telehealth)
            json_array_append_new(telehealth, json_string(t->types[i].id));
    }
    static const char *const access_names[] = {"unpaired", "enabled", "disabled"};
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, "
                     "s:I}",
                     "tenantId", t->id, "tenantName", t->name, "tenantNumber", t->number,
                     "timezone", pms_tz_name(t->tz), "pairingCode", t->pairing_code, "access",
                     access_names[t->access], "today", today, "todayFrom", from, "todayTo", to,
                     "practitionerIds", all, "bookPractitionerIds", book, "appointmentTypeIds",
                     types, "telehealthAppointmentTypeIds", telehealth, "patientCount",
                     (json_int_t)t->patient_count, "appointmentCount", (json_int_t)t->appt_count);
}

static json_t *gentu_info(const sbx_request *req)
{
    char base[128];
    snprintf(base, sizeof(base), "%s/gentu", req->base_url);
    gentu_world *w = gentu_lock_read();
    json_t *tenants = json_array();
    for (size_t i = 0; i < w->tenant_count; i++)
        json_array_append_new(tenants, tenant_info(&w->tenants[i]));
    json_t *info =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "baseUrl", base, "clientId", settings.client_id,
                  "clientSecret", settings.client_secret, "appId", settings.app_id, "settings",
                  gentu_settings_json(&settings), "tenants", tenants);
    gentu_unlock();
    return info;
}

const sbx_pms sbx_gentu = {
    .name = "gentu",
    .start = gentu_start,
    .stop = gentu_stop,
    .reset = gentu_reset,
    .route = gentu_api_route,
    .handle = gentu_api_handle,
    .fault_response = gentu_api_fault,
    .info = gentu_info,
    .control = gentu_control_handle,
};
