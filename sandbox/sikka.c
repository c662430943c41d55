/* The Sikka simulator's state: the world, its settings and request keys (sikka.h). */
#include "sikka.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "faults.h"
#include "pmsync/model.h"
#include "setting.h"

static pthread_mutex_t world_lock = PTHREAD_MUTEX_INITIALIZER;
static sk_world *world;
static sk_settings settings;
static sbx_token_table request_keys = SBX_TOKEN_TABLE_INIT;

static const sk_settings defaults = {
    .empty_204 = true,
    .writeback_delay_ms = 300,
    .rate_limit = 10000,
    .rate_window = 60,
};

sk_world *sk_lock(void)
{
    pthread_mutex_lock(&world_lock);
    if (world != NULL)
        sk_writebacks_settle(world, &settings);
    return world;
}

void sk_unlock(void)
{
    pthread_mutex_unlock(&world_lock);
}

sk_settings *sk_settings_get(void)
{
    return &settings;
}

sbx_token_table *sk_request_keys(void)
{
    return &request_keys;
}

json_t *sk_settings_json(const sk_settings *s)
{
    return json_pack("{s:b, s:b, s:b, s:i, s:f, s:i, s:i, s:i}", "spu_offline", s->spu_offline,
                     "data_insert_in_progress", s->data_insert_in_progress, "empty_204",
                     s->empty_204, "writeback_delay_ms", s->writeback_delay_ms,
                     "writeback_failure_rate", s->writeback_failure_rate, "writeback_fail_next",
                     s->writeback_fail_next, "rate_limit", s->rate_limit, "rate_window",
                     s->rate_window);
}

static int int_setting(const char *key, const json_t *v, int lo, int hi, int *out, pms_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return pms_error_set(err, PMS_ERR_INVALID, "%s must be an integer in %d..%d", key, lo, hi);
    *out = (int)json_integer_value(v);
    return PMS_OK;
}

static int apply_setting(sk_settings *s, const char *key, const json_t *v, pms_error *err)
{
    if (strcmp(key, "spu_offline") == 0)
        return sbx_setting_bool(key, v, &s->spu_offline, err);
    if (strcmp(key, "data_insert_in_progress") == 0)
        return sbx_setting_bool(key, v, &s->data_insert_in_progress, err);
    if (strcmp(key, "empty_204") == 0)
        return sbx_setting_bool(key, v, &s->empty_204, err);
    if (strcmp(key, "writeback_delay_ms") == 0)
        return int_setting(key, v, 0, 600000, &s->writeback_delay_ms, err);
    if (strcmp(key, "writeback_fail_next") == 0)
        return int_setting(key, v, 0, 1000, &s->writeback_fail_next, err);
    if (strcmp(key, "rate_limit") == 0)
        return int_setting(key, v, 1, 1000000, &s->rate_limit, err);
    if (strcmp(key, "rate_window") == 0)
        return int_setting(key, v, 1, 3600, &s->rate_window, err);
    if (strcmp(key, "writeback_failure_rate") == 0) {
        if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
            return pms_error_set(err, PMS_ERR_INVALID, "%s must be a number in 0..1", key);
        s->writeback_failure_rate = json_number_value(v);
        return PMS_OK;
    }
    return pms_error_set(err, PMS_ERR_INVALID, "unknown Sikka setting: %s", key);
}

int sk_settings_update(sk_settings *s, const json_t *patch, pms_error *err)
{
    if (!json_is_object(patch))
        return pms_error_set(err, PMS_ERR_INVALID, "settings must be a JSON object");
    sk_settings next = *s;
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

static int sk_start(const sbx_config *cfg, pms_error *err)
{
    sk_world *fresh = NULL;
    int rc = sk_world_generate(&cfg->dataset, &fresh, err);
    if (rc != PMS_OK)
        return rc;
    pthread_mutex_lock(&world_lock);
    settings = defaults;
    world = fresh;
    pthread_mutex_unlock(&world_lock);
    return PMS_OK;
}

static void sk_stop(void)
{
    pthread_mutex_lock(&world_lock);
    sk_world_free(world);
    world = NULL;
    pthread_mutex_unlock(&world_lock);
    sbx_tokens_clear(&request_keys);
}

static int sk_reset(const sbx_dataset_config *dataset, pms_error *err)
{
    pthread_mutex_lock(&world_lock);
    sbx_dataset_config cfg = dataset != NULL ? *dataset : world->config;
    pthread_mutex_unlock(&world_lock);
    sk_world *fresh = NULL;
    int rc = sk_world_generate(&cfg, &fresh, err);
    if (rc != PMS_OK)
        return rc;
    pthread_mutex_lock(&world_lock);
    sk_world *old = world;
    world = fresh;
    settings = defaults;
    sbx_tokens_clear(&request_keys);
    pthread_mutex_unlock(&world_lock);
    sk_world_free(old);
    return PMS_OK;
}

static json_t *practice_info(const sk_practice *p)
{
    char today[PMS_TIME_BUFLEN];
    pms_date_format(p->today, today);
    json_t *providers = json_array(), *types = json_array(), *telehealth = json_array();
    for (size_t i = 0; i < p->provider_count; i++)
        if (p->providers[i].active)
            json_array_append_new(providers, json_string(p->providers[i].id));
    for (size_t i = 0; i < sk_type_count; i++) {
        json_array_append_new(types, json_string(sk_types[i]));
        if (pms_appt_type_name_suggests_telehealth(sk_types[i]))
            json_array_append_new(telehealth, json_string(sk_types[i]));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:o, s:I, "
                     "s:I}",
                     "appId", p->app_id, "appKey", p->app_key, "officeId", p->office_id,
                     "practiceId", p->practice_id, "name", p->name, "timezone", pms_tz_name(p->tz),
                     "practiceManagementSystem", p->pms_name, "today", today, "availableSlots",
                     p->has_slots, "secretKey", p->secret_key, "activeProviderIds", providers,
                     "appointmentTypes", types, "telehealthAppointmentTypes", telehealth,
                     "patientCount", (json_int_t)p->patient_count, "appointmentCount",
                     (json_int_t)p->book.count);
}

static json_t *sk_info(const sbx_request *req)
{
    char base[128];
    snprintf(base, sizeof(base), "%s/sikka/v4", req->base_url);
    sk_world *w = sk_lock();
    json_t *practices = json_array();
    for (size_t i = 0; i < w->practice_count; i++)
        json_array_append_new(practices, practice_info(&w->practices[i]));
    json_t *info = json_pack("{s:s, s:o, s:i, s:o}", "baseUrl", base, "settings",
                             sk_settings_json(&settings), "keyLifetime",
                             sbx_faults_token_lifetime(SK_KEY_LIFETIME), "practices", practices);
    sk_unlock();
    return info;
}

const sbx_pms sbx_sikka = {
    .name = "sikka",
    .start = sk_start,
    .stop = sk_stop,
    .reset = sk_reset,
    .route = sk_api_route,
    .handle = sk_api_handle,
    .fault_response = sk_api_fault,
    .info = sk_info,
    .control = sk_control_handle,
};
