#include "medirecords.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "faults.h"
#include "medirecords_json.h"
#include "setting.h"

static pthread_rwlock_t world_lock = PTHREAD_RWLOCK_INITIALIZER;
static mr_world *world;
static sbx_medirecords_config settings;
static sbx_token_table oauth_tokens = SBX_TOKEN_TABLE_INIT;

static const char *const interval_shapes[] = {"array", "data", "objects"};
static const char *const types_envelopes[] = {"data", "page"};

mr_world *mr_lock_read(void)
{
    pthread_rwlock_rdlock(&world_lock);
    return world;
}

mr_world *mr_lock_write(void)
{
    pthread_rwlock_wrlock(&world_lock);
    return world;
}

void mr_unlock(void)
{
    pthread_rwlock_unlock(&world_lock);
}

sbx_medirecords_config *mr_settings(void)
{
    return &settings;
}

sbx_token_table *mr_oauth_tokens(void)
{
    return &oauth_tokens;
}

json_t *mr_settings_json(const sbx_medirecords_config *s)
{
    return json_pack("{s:b, s:b, s:b, s:b, s:s, s:s, s:b}", "raw_token", s->raw_token, "oauth",
                     s->oauth, "range_end_exclusive", s->range_end_exclusive, "empty_204",
                     s->empty_204, "interval_shape", interval_shapes[s->interval_shape],
                     "types_envelope", types_envelopes[s->types_page ? 1 : 0], "providers",
                     s->providers);
}

static int apply_setting(sbx_medirecords_config *s, const char *key, const json_t *v,
                         pms_error *err)
{
    int choice = 0, rc;
    if (strcmp(key, "raw_token") == 0)
        return sbx_setting_bool(key, v, &s->raw_token, err);
    if (strcmp(key, "oauth") == 0)
        return sbx_setting_bool(key, v, &s->oauth, err);
    if (strcmp(key, "range_end_exclusive") == 0)
        return sbx_setting_bool(key, v, &s->range_end_exclusive, err);
    if (strcmp(key, "empty_204") == 0)
        return sbx_setting_bool(key, v, &s->empty_204, err);
    if (strcmp(key, "providers") == 0)
        return sbx_setting_bool(key, v, &s->providers, err);
    if (strcmp(key, "interval_shape") == 0) {
        rc = sbx_setting_name(key, v, interval_shapes, 3, &choice, err);
        if (rc == PMS_OK)
            s->interval_shape = (sbx_mr_interval_shape)choice;
        return rc;
    }
    if (strcmp(key, "types_envelope") == 0) {
        rc = sbx_setting_name(key, v, types_envelopes, 2, &choice, err);
        if (rc == PMS_OK)
            s->types_page = choice == 1;
        return rc;
    }
    return pms_error_set(err, PMS_ERR_INVALID, "unknown Medirecords setting: %s", key);
}

int mr_settings_update(sbx_medirecords_config *s, const json_t *patch, pms_error *err)
{
    if (!json_is_object(patch))
        return pms_error_set(err, PMS_ERR_INVALID, "settings must be a JSON object");
    sbx_medirecords_config next = *s;
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

static int mr_start(const sbx_config *cfg, pms_error *err)
{
    mr_world *fresh = NULL;
    int rc = mr_world_generate(&cfg->dataset, &fresh, err);
    if (rc != PMS_OK)
        return rc;
    pthread_rwlock_wrlock(&world_lock);
    settings = cfg->medirecords;
    world = fresh;
    pthread_rwlock_unlock(&world_lock);
    return PMS_OK;
}

static void mr_stop(void)
{
    pthread_rwlock_wrlock(&world_lock);
    mr_world_free(world);
    world = NULL;
    pthread_rwlock_unlock(&world_lock);
    sbx_tokens_clear(&oauth_tokens);
}

static int mr_reset(const sbx_dataset_config *dataset, pms_error *err)
{
    pthread_rwlock_rdlock(&world_lock);
    sbx_dataset_config cfg = dataset != NULL ? *dataset : world->config;
    pthread_rwlock_unlock(&world_lock);
    mr_world *fresh = NULL;
    int rc = mr_world_generate(&cfg, &fresh, err);
    if (rc != PMS_OK)
        return rc;
    pthread_rwlock_wrlock(&world_lock);
    mr_world *old = world;
    world = fresh;
    sbx_tokens_clear(&oauth_tokens);
    pthread_rwlock_unlock(&world_lock);
    mr_world_free(old);
    return PMS_OK;
}

static json_t *practice_info(const mr_practice *p)
{
    char today[PMS_TIME_BUFLEN], from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN];
    pms_date_format(p->today, today);
    pms_civil start = {p->today.year, p->today.month, p->today.day, 0, 0, 0, 0};
    pms_civil end = {p->today.year, p->today.month, p->today.day, 23, 59, 0, 0};
    mr_format_local(&start, from);
    mr_format_local(&end, to);
    json_t *providers = json_array(), *active = json_array(), *types = json_array(),
           *telehealth = json_array();
    for (size_t i = 0; i < p->provider_count; i++) {
        json_array_append_new(providers, json_string(p->providers[i].id));
        if (p->providers[i].active)
            json_array_append_new(active, json_string(p->providers[i].id));
    }
    for (size_t i = 0; i < p->type_count; i++) {
        json_array_append_new(types, json_string(p->types[i].id));
        if (p->types[i].telehealth)
            json_array_append_new(telehealth, json_string(p->types[i].id));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:I}",
                     "practiceId", p->id, "name", p->name, "timezone", pms_tz_name(p->tz), "token",
                     p->token, "today", today, "todayFrom", from, "todayTo", to, "providerIds",
                     providers, "activeProviderIds", active, "appointmentTypeIds", types,
                     "telehealthAppointmentTypeIds", telehealth, "patientCount",
                     (json_int_t)p->patient_count, "appointmentCount", (json_int_t)p->book.count);
}

static json_t *mr_info(const sbx_request *req)
{
    char base[128], token_url[160];
    snprintf(base, sizeof(base), "%s/medirecords", req->base_url);
    snprintf(token_url, sizeof(token_url), "%s/oauth/token", base);
    mr_world *w = mr_lock_read();
    json_t *practices = json_array();
    for (size_t i = 0; i < w->practice_count; i++)
        json_array_append_new(practices, practice_info(&w->practices[i]));
    json_t *oauth = settings.oauth ? json_pack("{s:s, s:s, s:s, s:i}", "tokenUrl", token_url,
                                               "clientId", settings.client_id, "clientSecret",
                                               settings.client_secret, "tokenLifetime",
                                               sbx_faults_token_lifetime(MR_OAUTH_TOKEN_LIFETIME))
                                   : json_null();
    json_t *info = json_pack("{s:s, s:o, s:o, s:o}", "baseUrl", base, "settings",
                             mr_settings_json(&settings), "oauth", oauth, "practices", practices);
    mr_unlock();
    return info;
}

const sbx_pms sbx_medirecords = {
    .name = "medirecords",
    .start = mr_start,
    .stop = mr_stop,
    .reset = mr_reset,
    .route = mr_api_route,
    .handle = mr_api_handle,
    .fault_response = mr_api_fault,
    .info = mr_info,
    .control = mr_control_handle,
};
