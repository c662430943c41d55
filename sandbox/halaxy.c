#include "halaxy.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "faults.h"
#include "setting.h"

static pthread_rwlock_t world_lock = PTHREAD_RWLOCK_INITIALIZER;
static hx_world *world;
static sbx_halaxy_config settings;
static sbx_token_table tokens = SBX_TOKEN_TABLE_INIT;

static const char *const reference_styles[] = {"absolute", "relative", "bare", "mixed"};

hx_world *hx_lock_read(void)
{
    pthread_rwlock_rdlock(&world_lock);
    return world;
}

hx_world *hx_lock_write(void)
{
    pthread_rwlock_wrlock(&world_lock);
    return world;
}

void hx_unlock(void)
{
    pthread_rwlock_unlock(&world_lock);
}

sbx_halaxy_config *hx_settings(void)
{
    return &settings;
}

sbx_token_table *hx_tokens(void)
{
    return &tokens;
}

hx_ctx hx_ctx_for(const sbx_request *req, const sbx_halaxy_config *s)
{
    return (hx_ctx){req->base_url, s->reference_style, s->location_type};
}

json_t *hx_settings_json(const sbx_halaxy_config *s)
{
    return json_pack("{s:i, s:i, s:b, s:s, s:b}", "expires_in", s->expires_in, "expired_status",
                     s->expired_status, "no_range_prefixes", s->no_range_prefixes,
                     "reference_style", reference_styles[s->reference_style], "location_type",
                     s->location_type);
}

static int apply_setting(sbx_halaxy_config *s, const char *key, const json_t *v, pms_error *err)
{
    static const int expired_statuses[] = {401, 403, 400};
    int choice = 0, rc;
    if (strcmp(key, "expires_in") == 0)
        return sbx_setting_int(key, v, 1, 30 * 86400, &s->expires_in, err);
    if (strcmp(key, "expired_status") == 0)
        return sbx_setting_int_choice(key, v, expired_statuses, 3, &s->expired_status, err);
    if (strcmp(key, "no_range_prefixes") == 0)
        return sbx_setting_bool(key, v, &s->no_range_prefixes, err);
    if (strcmp(key, "location_type") == 0)
        return sbx_setting_bool(key, v, &s->location_type, err);
    if (strcmp(key, "reference_style") == 0) {
        rc = sbx_setting_name(key, v, reference_styles, 4, &choice, err);
        if (rc == PMS_OK)
            s->reference_style = (sbx_hx_reference_style)choice;
        return rc;
    }
    return pms_error_set(err, PMS_ERR_INVALID, "unknown Halaxy setting: %s", key);
}

int hx_settings_update(sbx_halaxy_config *s, const json_t *patch, pms_error *err)
{
    if (!json_is_object(patch))
        return pms_error_set(err, PMS_ERR_INVALID, "settings must be a JSON object");
    sbx_halaxy_config next = *s;
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

static int hx_start(const sbx_config *cfg, pms_error *err)
{
    hx_world *fresh = NULL;
    int rc = hx_world_generate(&cfg->dataset, &fresh, err);
    if (rc != PMS_OK)
        return rc;
    pthread_rwlock_wrlock(&world_lock);
    settings = cfg->halaxy;
    world = fresh;
    pthread_rwlock_unlock(&world_lock);
    return PMS_OK;
}

static void hx_stop(void)
{
    pthread_rwlock_wrlock(&world_lock);
    hx_world_free(world);
    world = NULL;
    pthread_rwlock_unlock(&world_lock);
    sbx_tokens_clear(&tokens);
}

static int hx_reset(const sbx_dataset_config *dataset, pms_error *err)
{
    pthread_rwlock_rdlock(&world_lock);
    sbx_dataset_config cfg = dataset != NULL ? *dataset : world->config;
    pthread_rwlock_unlock(&world_lock);
    hx_world *fresh = NULL;
    int rc = hx_world_generate(&cfg, &fresh, err);
    if (rc != PMS_OK)
        return rc;
    pthread_rwlock_wrlock(&world_lock);
    hx_world *old = world;
    world = fresh;
    sbx_tokens_clear(&tokens);
    pthread_rwlock_unlock(&world_lock);
    hx_world_free(old);
    return PMS_OK;
}

static json_t *practice_info(const hx_practice *p)
{
    char today[PMS_TIME_BUFLEN], from[PMS_TIME_BUFLEN], to[PMS_TIME_BUFLEN];
    pms_date_format(p->today, today);
    pms_instant start = pms_tz_day_start(p->tz, p->today);
    pms_instant end = pms_tz_day_start(p->tz, pms_date_add_days(p->today, 1));
    hx_format_time(start, pms_tz_offset_at(p->tz, start, NULL), from);
    hx_format_time(end, pms_tz_offset_at(p->tz, end, NULL), to);
    json_t *practitioners = json_array(), *roles = json_array(), *services = json_array(),
           *telehealth = json_array();
    for (size_t i = 0; i < p->practitioner_count; i++)
        json_array_append_new(practitioners, json_string(p->practitioners[i].id));
    for (size_t i = 0; i < p->role_count; i++)
        json_array_append_new(roles, json_string(p->roles[i].id));
    for (size_t i = 0; i < p->service_count; i++) {
        json_array_append_new(services, json_string(p->services[i].id));
        if (hx_service_name_telehealth(&p->services[i]))
            json_array_append_new(telehealth, json_string(p->services[i].id));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:I}",
                     "name", p->name, "timezone", pms_tz_name(p->tz), "clientId", p->client_id,
                     "clientSecret", p->client_secret, "organizationId", p->org_id, "today", today,
                     "todayFrom", from, "todayTo", to, "practitionerIds", practitioners,
                     "practitionerRoleIds", roles, "healthcareServiceIds", services,
                     "telehealthHealthcareServiceIds", telehealth, "patientCount",
                     (json_int_t)p->patient_count, "appointmentCount", (json_int_t)p->book.count);
}

static json_t *hx_info(const sbx_request *req)
{
    char base[128], token_url[160];
    snprintf(base, sizeof(base), "%s/halaxy", req->base_url);
    snprintf(token_url, sizeof(token_url), "%s/main/oauth/token", base);
    hx_world *w = hx_lock_read();
    json_t *practices = json_array();
    for (size_t i = 0; i < w->practice_count; i++)
        json_array_append_new(practices, practice_info(&w->practices[i]));
    json_t *info = json_pack("{s:s, s:s, s:i, s:o, s:o}", "baseUrl", base, "tokenUrl", token_url,
                             "tokenLifetime", sbx_faults_token_lifetime(HX_TOKEN_LIFETIME),
                             "settings", hx_settings_json(&settings), "practices", practices);
    hx_unlock();
    return info;
}

const sbx_pms sbx_halaxy = {
    .name = "halaxy",
    .start = hx_start,
    .stop = hx_stop,
    .reset = hx_reset,
    .route = hx_api_route,
    .handle = hx_api_handle,
    .fault_response = hx_api_fault,
    .info = hx_info,
    .control = hx_control_handle,
};
