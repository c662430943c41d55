/* Connection management: settings validated against adapter declarations, secrets sealed,
 * sessions opened for stored connections, pairing and testing. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/connections.h"
#include "pmsync/log.h"

static const pms_setting_def generic_settings[] = {
    {"rate_per_minute", "Requests per minute", "Client-side limit for this connection", false,
     false, NULL},
    {"rate_per_hour", "Requests per hour", "Client-side limit for this connection", false, false,
     NULL},
    {"retry_attempts", "Attempts per request", "Including the first (default 3)", false, false,
     NULL},
    {"retry_base_ms", "Retry base delay (ms)", "Backoff base (default 1000)", false, false, NULL},
    {"retry_cap_ms", "Retry delay cap (ms)", "Backoff cap (default 30000)", false, false, NULL},
    {"timeout_seconds", "Request timeout (s)", "Total time per request (default 60)", false, false,
     NULL},
    {"connect_timeout_seconds", "Connect timeout (s)", "Default 10", false, false, NULL},
    {NULL, NULL, NULL, false, false, NULL},
};

/* Generic numeric settings: name, min, max. */
static const struct {
    const char *key;
    long min, max;
} numeric_settings[] = {
    {"rate_per_minute", 1, 100000},
    {"rate_per_hour", 1, 10000000},
    {"retry_attempts", 1, 10},
    {"retry_base_ms", 1, 600000},
    {"retry_cap_ms", 1, 3600000},
    {"timeout_seconds", 1, 3600},
    {"connect_timeout_seconds", 1, 600},
    {"page_size", 1, 1000},
    {"concurrency", 1, 64},
    {"full_sweep_minutes", 1, 10080},
};

const pms_setting_def *pms_generic_settings(void)
{
    return generic_settings;
}

static const pms_setting_def *find_setting(const pms_adapter_ops *ops, const char *key)
{
    const pms_setting_def *d = pms_adapter_setting(ops, key);
    if (d)
        return d;
    for (const pms_setting_def *g = generic_settings; g->key; g++)
        if (strcmp(g->key, key) == 0)
            return g;
    return NULL;
}

/* Names the setting an error is about ("settings.KEY"). */
static int setting_field(pms_error *err, const char *key)
{
    char field[96];
    snprintf(field, sizeof field, "settings.%s", key);
    return pms_error_field(err, field);
}

static int check_numeric(const char *key, const char *value, pms_error *err)
{
    for (size_t i = 0; i < sizeof numeric_settings / sizeof numeric_settings[0]; i++) {
        if (strcmp(numeric_settings[i].key, key) != 0)
            continue;
        char *end;
        long v = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || v < numeric_settings[i].min ||
            v > numeric_settings[i].max) {
            pms_error_set(err, PMS_ERR_INVALID, "%s must be a whole number from %ld to %ld", key,
                          numeric_settings[i].min, numeric_settings[i].max);
            return setting_field(err, key);
        }
    }
    return PMS_OK;
}

static int check_base_url(const char *url, pms_error *err)
{
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
        pms_error_set(err, PMS_ERR_INVALID, "base_url must start with https:// or http://");
        return pms_error_field(err, "baseUrl");
    }
    for (const char *p = url; *p; p++) {
        if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20) {
            pms_error_set(err, PMS_ERR_INVALID, "base_url must not contain spaces");
            return pms_error_field(err, "baseUrl");
        }
    }
    if (strlen(url) > 2000) {
        pms_error_set(err, PMS_ERR_INVALID, "base_url is too long");
        return pms_error_field(err, "baseUrl");
    }
    return PMS_OK;
}

static int check_timezone(const char *tz, pms_error *err)
{
    const pms_tz *zone;
    if (!pms_tz_name_valid(tz) || pms_tz_get(tz, &zone, NULL) != PMS_OK) {
        pms_error_set(err, PMS_ERR_INVALID,
                      "timezone must be an IANA zone such as Australia/Melbourne");
        return pms_error_field(err, "timezone");
    }
    return PMS_OK;
}

char *pms_connection_aad(const char *connection_id, const char *field)
{
    char *aad = NULL;
    if (asprintf(&aad, "pms_connections/%s/%s", connection_id, field) < 0)
        return NULL;
    return aad;
}

static char *aad_for(const char *connection_id, const char *field)
{
    return pms_connection_aad(connection_id, field);
}

/* Decrypted secret settings of a connection (an object; empty when none). */
static int open_secrets(const pms_connection *c, const pms_keyring *ring, json_t **out,
                        pms_error *err)
{
    *out = NULL;
    if (c->secrets_sealed == NULL) {
        *out = json_object();
        return *out ? PMS_OK : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG,
                             "this connection has encrypted settings but no encryption key is "
                             "available (set PMSYNC_SECRET_KEY or PMSYNC_SECRET_KEY_FILE)");
    char *aad = aad_for(c->id, "secrets");
    char *plain = NULL;
    size_t len = 0;
    int rc = aad ? pms_open(ring, aad, c->secrets_sealed, &plain, &len, err)
                 : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    free(aad);
    if (rc != PMS_OK)
        return rc;
    *out = json_loadb(plain, len, 0, NULL);
    pms_secure_free(plain, len);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return pms_error_set(err, PMS_ERR_CRYPTO, "the connection's secret settings are damaged");
    }
    return PMS_OK;
}

static int seal_secrets(pms_connection *c, const pms_keyring *ring, const json_t *secrets,
                        pms_error *err)
{
    /* Which are set is not secret: it is kept in the clear for people and APIs. */
    json_t *names = json_array();
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)secrets, name, value)
    {
        json_array_append_new(names, json_string(name));
    }
    if (names == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    json_decref(c->secret_keys);
    c->secret_keys = names;
    if (json_object_size(secrets) == 0) {
        free(c->secrets_sealed);
        c->secrets_sealed = NULL;
        return PMS_OK;
    }
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG,
                             "an encryption key is needed to store secret settings "
                             "(set PMSYNC_SECRET_KEY or PMSYNC_SECRET_KEY_FILE)");
    char *text = json_dumps(secrets, JSON_COMPACT);
    char *aad = aad_for(c->id, "secrets");
    char *sealed = NULL;
    int rc = text && aad ? pms_seal(ring, aad, text, strlen(text), &sealed, err)
                         : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    if (text)
        pms_secure_free(text, strlen(text));
    free(aad);
    if (rc != PMS_OK)
        return rc;
    free(c->secrets_sealed);
    c->secrets_sealed = sealed;
    return PMS_OK;
}

/* Applies settings to a connection (plain ones into c->settings, secret ones into secrets). */
static int apply_settings(pms_connection *c, const pms_adapter_ops *ops, json_t *secrets,
                          const pms_setting_value *settings, size_t count, pms_error *err)
{
    for (size_t i = 0; i < count; i++) {
        const char *key = settings[i].key, *value = settings[i].value;
        if (key == NULL || value == NULL)
            return pms_error_set(err, PMS_ERR_INVALID, "a setting needs a key and a value");
        const pms_setting_def *def = find_setting(ops, key);
        if (def == NULL) {
            pms_error_set(err, PMS_ERR_INVALID, "%.64s is not a setting of %s", key,
                          ops->display_name);
            return setting_field(err, key);
        }
        if (strlen(value) > 4096) {
            pms_error_set(err, PMS_ERR_INVALID, "%s is too long", key);
            return setting_field(err, key);
        }
        int rc;
        if (value[0] != '\0' && (rc = check_numeric(key, value, err)) != PMS_OK)
            return rc;
        json_t *target = def->secret ? secrets : c->settings;
        if (value[0] == '\0') {
            if (def->required) {
                pms_error_set(err, PMS_ERR_INVALID, "%s is required and cannot be cleared", key);
                return setting_field(err, key);
            }
            json_object_del(target, key);
        } else if (json_object_set_new(target, key, json_string(value)) != 0) {
            pms_error_set(err, PMS_ERR_INVALID, "%s must be valid UTF-8 text", key);
            return setting_field(err, key);
        }
    }
    for (const pms_setting_def *d = ops->settings; d && d->key; d++) {
        json_t *target = d->secret ? secrets : c->settings;
        if (d->required && json_object_get(target, d->key) == NULL) {
            pms_error_set(err, PMS_ERR_INVALID, "%s is required for %s (%s)", d->key,
                          ops->display_name, d->label);
            return setting_field(err, d->key);
        }
    }
    if (ops->validate_settings) {
        json_t *all = json_deep_copy(c->settings);
        int rc = all && json_object_update(all, secrets) == 0
                     ? ops->validate_settings(all, err)
                     : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        json_decref(all);
        if (rc == PMS_ERR_INVALID && err && err->field[0] == '\0')
            pms_error_field(err, "settings");
        if (rc != PMS_OK)
            return rc;
    }
    /* Identity settings also fill the plan's columns. */
    const json_t *practice = json_object_get(c->settings, "practice_id");
    if (json_is_string(practice) && pms_str_set(&c->practice_id, json_string_value(practice)))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

const char *const pms_connection_setup_steps[] = {"connect", "practitioners", "types", "confirm",
                                                  NULL};

static int apply_setup_step(pms_connection *c, const char *step, pms_error *err)
{
    bool known = step[0] == '\0';
    for (size_t i = 0; pms_connection_setup_steps[i] && !known; i++)
        known = strcmp(pms_connection_setup_steps[i], step) == 0;
    if (!known) {
        pms_error_set(err, PMS_ERR_INVALID,
                      "setupStep must be connect, practitioners, types, confirm or null");
        return pms_error_field(err, "setupStep");
    }
    if (pms_str_set(&c->setup_step, step[0] ? step : NULL))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return PMS_OK;
}

static int apply_fields(pms_connection *c, const pms_connection_fields *f, pms_error *err)
{
    int rc;
    if (f == NULL)
        return PMS_OK;
    if (f->display_name) {
        size_t len = strlen(f->display_name);
        if (len == 0 || len > 255) {
            pms_error_set(err, PMS_ERR_INVALID, "name must be 1 to 255 characters");
            return pms_error_field(err, "displayName");
        }
        if (pms_str_set(&c->display_name, f->display_name))
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    if (f->base_url) {
        if (f->base_url[0] && (rc = check_base_url(f->base_url, err)) != PMS_OK)
            return rc;
        if (pms_str_set(&c->base_url, f->base_url[0] ? f->base_url : NULL))
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    if (f->timezone) {
        if ((rc = check_timezone(f->timezone, err)) != PMS_OK)
            return rc;
        if (pms_str_set(&c->timezone, f->timezone))
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    if (f->sync_enabled >= 0)
        c->sync_enabled = f->sync_enabled;
    if (f->sync_frequency_minutes != 0) {
        if (f->sync_frequency_minutes < 1 || f->sync_frequency_minutes > 24 * 60) {
            pms_error_set(err, PMS_ERR_INVALID, "sync_frequency_minutes must be from 1 to 1440");
            return pms_error_field(err, "syncFrequencyMinutes");
        }
        c->sync_frequency_minutes = f->sync_frequency_minutes;
    }
    if (f->sync_telehealth_only >= 0)
        c->sync_telehealth_only = f->sync_telehealth_only;
    if (f->skip_unmapped >= 0)
        c->skip_unmapped = f->skip_unmapped;
    if (f->setup_step)
        return apply_setup_step(c, f->setup_step, err);
    return PMS_OK;
}

int pms_connection_create(pms_store *st, const pms_keyring *ring, const char *account_id,
                          const char *pms_type, const pms_connection_fields *fields,
                          const pms_setting_value *settings, size_t setting_count,
                          char id_out[PMS_UUID_LEN], pms_error *err)
{
    const pms_adapter_ops *ops = pms_adapter_find(pms_type);
    if (ops == NULL) {
        char names[128] = "";
        for (const pms_adapter_ops *const *a = pms_adapter_all(); *a; a++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     names[0] ? ", " : "", (*a)->name);
        pms_error_set(err, PMS_ERR_INVALID, "pms must be one of: %s", names);
        return pms_error_field(err, "pmsType");
    }
    if (fields == NULL || fields->display_name == NULL) {
        pms_error_set(err, PMS_ERR_INVALID, "name is required");
        return pms_error_field(err, "displayName");
    }
    pms_connection c = {0};
    json_t *secrets = json_object();
    int rc;
    c.settings = json_object();
    c.sync_enabled = true;
    c.sync_frequency_minutes = 15;
    c.sync_telehealth_only = true;
    c.token_expires_at = PMS_INSTANT_NONE;
    c.last_sync_at = PMS_INSTANT_NONE;
    c.paired_at = PMS_INSTANT_NONE;
    c.created_at = PMS_INSTANT_NONE;
    if (c.settings == NULL || secrets == NULL || (rc = pms_uuid_v4(id_out, err)) != PMS_OK) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (pms_str_set(&c.id, id_out) || pms_str_set(&c.pms_type, ops->name) ||
        pms_str_set(&c.account_id, account_id ? account_id : PMS_DEFAULT_ACCOUNT_ID) ||
        pms_str_set(&c.timezone, "Australia/Sydney")) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = apply_fields(&c, fields, err)) != PMS_OK ||
        (rc = apply_settings(&c, ops, secrets, settings, setting_count, err)) != PMS_OK ||
        (rc = seal_secrets(&c, ring, secrets, err)) != PMS_OK)
        goto out;
    if ((rc = st->ops->connection_insert(st, &c, err)) != PMS_OK)
        goto out;
    /* The first connection of an account gives the account its zone ("today"). */
    char *account_tz = NULL;
    if (st->ops->account_timezone(st, c.account_id, &account_tz, NULL) == PMS_OK &&
        account_tz == NULL)
        st->ops->account_set_timezone(st, c.account_id, c.timezone, NULL);
    free(account_tz);
out:
    json_decref(secrets);
    pms_connection_clear(&c);
    return rc;
}

int pms_connection_update(pms_store *st, const pms_keyring *ring, const char *id,
                          const pms_connection_fields *fields, const pms_setting_value *settings,
                          size_t setting_count, pms_error *err)
{
    pms_connection c;
    int rc = st->ops->connection_get(st, id, &c, err);
    if (rc)
        return rc;
    const pms_adapter_ops *ops = pms_adapter_find(c.pms_type);
    json_t *secrets = NULL;
    if (ops == NULL) {
        rc = pms_error_set(err, PMS_ERR_CONFIG, "unknown PMS type %.32s", c.pms_type);
        goto out;
    }
    bool was_enabled = c.sync_enabled;
    int old_frequency = c.sync_frequency_minutes;
    if ((rc = apply_fields(&c, fields, err)) != PMS_OK)
        goto out;
    if (setting_count > 0) {
        bool any_secret = false;
        for (size_t i = 0; i < setting_count; i++) {
            const pms_setting_def *d = settings[i].key ? find_setting(ops, settings[i].key) : NULL;
            any_secret |= d && d->secret;
        }
        if (any_secret || c.secrets_sealed == NULL) {
            if ((rc = open_secrets(&c, ring, &secrets, err)) != PMS_OK)
                goto out;
        } else {
            secrets = NULL; /* secrets untouched: no key needed */
        }
        json_t *scratch = secrets ? secrets : json_object();
        if (scratch == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto out;
        }
        /* Required secret checks need the real secrets; when untouched they are present. */
        if (secrets == NULL) {
            for (const pms_setting_def *d = ops->settings; d && d->key; d++)
                if (d->secret)
                    json_object_set_new(scratch, d->key, json_string("(kept)"));
        }
        rc = apply_settings(&c, ops, scratch, settings, setting_count, err);
        if (secrets == NULL)
            json_decref(scratch);
        if (rc != PMS_OK)
            goto out;
        if (secrets && (rc = seal_secrets(&c, ring, secrets, err)) != PMS_OK)
            goto out;
        /* New credentials invalidate a stored token. */
        if (secrets) {
            free(c.access_token_sealed);
            free(c.refresh_token_sealed);
            c.access_token_sealed = c.refresh_token_sealed = NULL;
            c.token_expires_at = PMS_INSTANT_NONE;
        }
    }
    rc = st->ops->connection_update(st, &c, err);
    /* A new frequency, or syncing turned back on, counts from the last sync (never synced:
     * due at once). */
    if (rc == PMS_OK && c.sync_enabled &&
        (!was_enabled || c.sync_frequency_minutes != old_frequency))
        rc = st->ops->schedule_set(st, c.id,
                                   c.last_sync_at == PMS_INSTANT_NONE
                                       ? PMS_INSTANT_NONE
                                       : c.last_sync_at +
                                             (pms_instant)c.sync_frequency_minutes * 60000,
                                   err);
out:
    if (secrets) {
        const char *key;
        json_t *value;
        json_object_foreach(secrets, key, value)
        {
            if (json_is_string(value))
                memset((char *)json_string_value(value), 0, json_string_length(value));
        }
    }
    json_decref(secrets);
    pms_connection_clear(&c);
    return rc;
}

json_t *pms_connection_to_json(const pms_connection *c)
{
    const pms_adapter_ops *ops = pms_adapter_find(c->pms_type);
    json_t *o = json_object();
    json_object_set_new(o, "id", pms_json_string_or_null(c->id));
    json_object_set_new(o, "accountId", pms_json_string_or_null(c->account_id));
    json_object_set_new(o, "pmsType", pms_json_string_or_null(c->pms_type));
    json_object_set_new(o, "displayName", pms_json_string_or_null(c->display_name));
    json_object_set_new(o, "practiceName", pms_json_string_or_null(c->practice_name));
    json_object_set_new(o, "tenantId", pms_json_string_or_null(c->tenant_id));
    json_object_set_new(o, "practiceId", pms_json_string_or_null(c->practice_id));
    json_object_set_new(o, "organizationId", pms_json_string_or_null(c->organization_id));
    json_object_set_new(o, "baseUrl",
                        pms_json_string_or_null(c->base_url ? c->base_url
                                                : ops       ? ops->default_base_url
                                                            : NULL));
    json_object_set_new(o, "timezone", pms_json_string_or_null(c->timezone));
    json_object_set(o, "settings", c->settings ? c->settings : json_object());
    /* Secrets are write-only: say which are set, never their values. */
    json_t *secrets = json_object();
    for (const pms_setting_def *d = ops ? ops->settings : NULL; d && d->key; d++) {
        if (!d->secret)
            continue;
        bool set = false;
        if (c->secret_keys) {
            size_t i;
            json_t *v;
            json_array_foreach(c->secret_keys, i, v)
            {
                set |= strcmp(json_string_value(v), d->key) == 0;
            }
        } else {
            set = c->secrets_sealed && d->required; /* an older row: required ones are set */
        }
        json_object_set_new(secrets, d->key, json_boolean(set));
    }
    json_object_set_new(o, "secretsSet", secrets);
    json_object_set_new(o, "syncEnabled", json_boolean(c->sync_enabled));
    json_object_set_new(o, "syncFrequencyMinutes", json_integer(c->sync_frequency_minutes));
    json_object_set_new(o, "syncTelehealthOnly", json_boolean(c->sync_telehealth_only));
    json_object_set_new(o, "unmappedPractitioners",
                        json_string(c->skip_unmapped ? "skip" : "create"));
    json_object_set_new(o, "lastSyncAt", pms_json_instant_or_null(c->last_sync_at));
    json_object_set_new(o, "lastSyncStatus", pms_json_string_or_null(c->last_sync_status));
    json_object_set_new(o, "lastSyncError", pms_json_string_or_null(c->last_sync_error));
    json_object_set_new(o, "pairedAt", pms_json_instant_or_null(c->paired_at));
    json_object_set_new(o, "setupStep", pms_json_string_or_null(c->setup_step));
    json_object_set_new(o, "capabilities",
                        ops ? pms_capabilities_to_json(pms_adapter_capabilities(ops))
                            : json_array());
    json_object_set_new(o, "createdAt", pms_json_instant_or_null(c->created_at));
    json_object_set_new(o, "updatedAt", pms_json_instant_or_null(c->updated_at));
    return o;
}

int pms_connection_settings(const pms_connection *c, const pms_keyring *ring, json_t **out,
                            pms_error *err)
{
    json_t *secrets = NULL;
    int rc = open_secrets(c, ring, &secrets, err);
    if (rc != PMS_OK)
        return rc;
    json_t *merged = json_deep_copy(c->settings);
    if (merged == NULL || json_object_update(merged, secrets) != 0) {
        json_decref(merged);
        json_decref(secrets);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    json_decref(secrets);
    *out = merged;
    return PMS_OK;
}

/* ---- sessions and tokens ------------------------------------------------------------- */

struct pms_token_box {
    pthread_mutex_t lock;
    pms_auth_result latest;
    bool have;
};

static void token_into_box(void *ctx, const pms_auth_result *token)
{
    pms_token_box *box = ctx;
    pthread_mutex_lock(&box->lock);
    pms_auth_result_clear(&box->latest);
    box->latest.access_token = pms_strdup_or_null(token->access_token);
    box->latest.refresh_token = pms_strdup_or_null(token->refresh_token);
    box->latest.expires_at = token->expires_at;
    box->have = box->latest.access_token != NULL;
    pthread_mutex_unlock(&box->lock);
}

void pms_token_box_free(pms_token_box *box)
{
    if (box == NULL)
        return;
    pms_auth_result_clear(&box->latest);
    pthread_mutex_destroy(&box->lock);
    free(box);
}

int pms_token_box_save(pms_token_box *box, pms_store *st, const pms_keyring *ring,
                       const char *connection_id, pms_error *err)
{
    int rc = PMS_OK;
    if (box == NULL)
        return PMS_OK;
    pthread_mutex_lock(&box->lock);
    if (box->have && ring != NULL) {
        char *aad_access = aad_for(connection_id, "access_token");
        char *aad_refresh = aad_for(connection_id, "refresh_token");
        char *access = NULL, *refresh = NULL;
        if (aad_access == NULL || aad_refresh == NULL)
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        if (rc == PMS_OK)
            rc = pms_seal(ring, aad_access, box->latest.access_token,
                          strlen(box->latest.access_token), &access, err);
        if (rc == PMS_OK && box->latest.refresh_token)
            rc = pms_seal(ring, aad_refresh, box->latest.refresh_token,
                          strlen(box->latest.refresh_token), &refresh, err);
        if (rc == PMS_OK)
            rc = st->ops->connection_set_token(st, connection_id, access, refresh,
                                               box->latest.expires_at, err);
        free(aad_access);
        free(aad_refresh);
        free(access);
        free(refresh);
        box->have = false;
    }
    pthread_mutex_unlock(&box->lock);
    return rc;
}

/* A token kept from an earlier run, when it can still be opened. */
static void open_saved_token(const pms_connection *c, const pms_keyring *ring, pms_auth_result *out)
{
    memset(out, 0, sizeof *out);
    if (ring == NULL || c->access_token_sealed == NULL)
        return;
    char *aad = aad_for(c->id, "access_token");
    size_t len;
    if (aad &&
        pms_open(ring, aad, c->access_token_sealed, &out->access_token, &len, NULL) != PMS_OK)
        out->access_token = NULL;
    free(aad);
    if (c->refresh_token_sealed && (aad = aad_for(c->id, "refresh_token")) != NULL) {
        if (pms_open(ring, aad, c->refresh_token_sealed, &out->refresh_token, &len, NULL) != PMS_OK)
            out->refresh_token = NULL;
        free(aad);
    }
    out->expires_at = c->token_expires_at;
}

pms_rate_limits pms_limits_from_env(const char *pms_type)
{
    pms_rate_limits limits = {0, 0};
    char name[64];
    snprintf(name, sizeof name, "PMSYNC_RATE_LIMIT_%s", pms_type);
    for (char *p = name; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    const char *value = getenv(name);
    if (value == NULL || sscanf(value, "%d/%d", &limits.per_minute, &limits.per_hour) < 1) {
        limits.per_minute = limits.per_hour = 0;
    }
    if (limits.per_minute < 0 || limits.per_hour < 0)
        limits.per_minute = limits.per_hour = 0;
    return limits;
}

static long setting_long(const json_t *settings, const char *key, long fallback)
{
    const json_t *v = json_object_get(settings, key);
    if (!json_is_string(v))
        return fallback;
    char *end;
    long n = strtol(json_string_value(v), &end, 10);
    return *end == '\0' && n > 0 ? n : fallback;
}

int pms_connection_reload_types(pms_store *st, pms_session *s, const char *connection_id,
                                pms_error *err)
{
    pms_stored_type_list types = {0};
    pms_appt_type_list known = {0};
    const char **telehealth = NULL;
    size_t telehealth_count = 0;
    int rc = st->ops->type_list(st, connection_id, &types, err);
    if (rc != PMS_OK)
        return rc;
    telehealth = calloc(types.count + 1, sizeof *telehealth);
    if (telehealth == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < types.count; i++) {
        const pms_stored_type *t = &types.items[i];
        if (t->is_telehealth)
            telehealth[telehealth_count++] = t->pms_type_id;
        pms_appt_type *k = pms_appt_type_list_push(&known);
        if (k == NULL || (k->id = pms_strdup_or_null(t->pms_type_id)) == NULL ||
            (k->name = pms_strdup_or_null(t->pms_type_name)) == NULL ||
            (t->colour && (k->colour = strdup(t->colour)) == NULL)) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
            goto out;
        }
        k->duration_minutes = t->default_duration_minutes;
        k->telehealth_auto_detected = t->telehealth_auto_detected;
        k->is_telehealth = t->is_telehealth;
    }
    rc = pms_session_set_appt_types(s, &known, telehealth, telehealth_count, err);
out:
    free(telehealth);
    pms_appt_type_list_clear(&known);
    pms_stored_type_list_clear(&types);
    return rc;
}

int pms_connection_open_session(pms_store *st, const pms_keyring *ring, const pms_connection *c,
                                const pms_session_options *opts, pms_token_box **box_out,
                                pms_session **out, pms_error *err)
{
    const pms_adapter_ops *ops = pms_adapter_find(c->pms_type);
    if (ops == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG, "unknown PMS type %.32s", c->pms_type);
    json_t *settings = NULL;
    pms_auth_result saved = {0};
    pms_token_box *box = NULL;
    int rc = pms_connection_settings(c, ring, &settings, err);
    if (rc != PMS_OK)
        return rc;
    box = calloc(1, sizeof *box);
    if (box == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    pthread_mutex_init(&box->lock, NULL);
    open_saved_token(c, ring, &saved);

    pms_session_config cfg = {
        .connection_id = c->id,
        .base_url = c->base_url,
        .timezone = c->timezone,
        .external_id = c->tenant_id     ? c->tenant_id
                       : c->practice_id ? c->practice_id
                                        : c->organization_id,
        .settings = settings,
        .connection_limits = {(int)setting_long(settings, "rate_per_minute", 0),
                              (int)setting_long(settings, "rate_per_hour", 0)},
        .saved_token = saved.access_token ? &saved : NULL,
        .token_saved = token_into_box,
        .token_saved_ctx = box,
    };
    if (opts) {
        cfg.cancel = opts->cancel;
        cfg.http = opts->http;
        cfg.retry = opts->retry;
        cfg.pms_limits = opts->pms_limits;
    }
    if (cfg.pms_limits.per_minute == 0 && cfg.pms_limits.per_hour == 0)
        cfg.pms_limits = pms_limits_from_env(ops->name);
    if (cfg.retry.max_attempts == 0)
        cfg.retry.max_attempts = (int)setting_long(settings, "retry_attempts", 0);
    if (cfg.retry.base_ms == 0)
        cfg.retry.base_ms = setting_long(settings, "retry_base_ms", 0);
    if (cfg.retry.cap_ms == 0)
        cfg.retry.cap_ms = setting_long(settings, "retry_cap_ms", 0);
    if (cfg.http.total_timeout_ms == 0)
        cfg.http.total_timeout_ms = setting_long(settings, "timeout_seconds", 0) * 1000;
    if (cfg.http.connect_timeout_ms == 0)
        cfg.http.connect_timeout_ms = setting_long(settings, "connect_timeout_seconds", 0) * 1000;
    if ((rc = pms_session_open(ops, &cfg, out, err)) != PMS_OK)
        goto out;
    if ((rc = pms_connection_reload_types(st, *out, c->id, err)) != PMS_OK) {
        pms_session_close(*out);
        *out = NULL;
    }
out:
    pms_auth_result_clear(&saved);
    if (settings) {
        const char *key;
        json_t *value;
        json_object_foreach(settings, key, value)
        {
            if (json_is_string(value))
                memset((char *)json_string_value(value), 0, json_string_length(value));
        }
        json_decref(settings);
    }
    if (rc != PMS_OK) {
        pms_token_box_free(box);
        box = NULL;
    }
    *box_out = box;
    return rc;
}

int pms_connection_pair(pms_store *st, const pms_keyring *ring, const char *id, const char *code,
                        const pms_session_options *opts, pms_practice_info *info, pms_error *err)
{
    memset(info, 0, sizeof *info);
    pms_connection c;
    int rc = st->ops->connection_get(st, id, &c, err);
    if (rc)
        return rc;
    pms_session *s = NULL;
    pms_token_box *box = NULL;
    if ((rc = pms_connection_open_session(st, ring, &c, opts, &box, &s, err)) != PMS_OK)
        goto out;
    if ((rc = pms_adapter_pair(s, code, info, err)) != PMS_OK)
        goto out;
    if (pms_str_set(&c.tenant_id, info->external_id) ||
        (info->name && pms_str_set(&c.practice_name, info->name))) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (info->timezone) {
        if (check_timezone(info->timezone, NULL) == PMS_OK) {
            if (pms_str_set(&c.timezone, info->timezone)) {
                rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
                goto out;
            }
        } else {
            pms_log(PMS_LOG_WARN, "pair.unknown_timezone", "connection", c.id, "timezone",
                    info->timezone, NULL);
        }
    }
    c.paired_at = pms_now();
    if ((rc = st->ops->connection_update(st, &c, err)) != PMS_OK)
        goto out;
    pms_token_box_save(box, st, ring, c.id, NULL);
    /* An account takes the zone of its practice while it has no other connection. */
    pms_connection_list all = {0};
    if (st->ops->connection_list(st, c.account_id, &all, NULL) == PMS_OK && all.count == 1)
        st->ops->account_set_timezone(st, c.account_id, c.timezone, NULL);
    pms_connection_list_clear(&all);
out:
    pms_session_close(s);
    pms_token_box_free(box);
    pms_connection_clear(&c);
    if (rc != PMS_OK)
        pms_practice_info_clear(info);
    return rc;
}

/* Once a connection works, the practice's name (and id) as the PMS gives them, when the PMS can
 * say (Medirecords, Halaxy; Gentu says it when paired). Best effort: a PMS that cannot answer
 * leaves the connection as it was. */
static void record_practice(pms_store *st, pms_session *s, const char *connection_id)
{
    pms_practice_info info = {0};
    if (pms_adapter_practice_info(s, &info, NULL) != PMS_OK || info.name == NULL) {
        pms_practice_info_clear(&info);
        return;
    }
    /* Read again inside the write transaction: a sync may have written since. */
    pms_connection c = {0};
    if (st->ops->begin(st, NULL) != PMS_OK) {
        pms_practice_info_clear(&info);
        return;
    }
    bool ok = st->ops->connection_get(st, connection_id, &c, NULL) == PMS_OK;
    char **id_column = !ok                                 ? NULL
                       : strcmp(c.pms_type, "halaxy") == 0 ? &c.organization_id
                       : c.practice_id == NULL             ? &c.practice_id
                                                           : NULL;
    ok = ok && pms_str_set(&c.practice_name, info.name) == PMS_OK &&
         (id_column == NULL || info.external_id == NULL ||
          pms_str_set(id_column, info.external_id) == PMS_OK) &&
         st->ops->connection_update(st, &c, NULL) == PMS_OK;
    if (!ok || st->ops->commit(st, NULL) != PMS_OK)
        st->ops->rollback(st);
    pms_connection_clear(&c);
    pms_practice_info_clear(&info);
}

int pms_connection_test(pms_store *st, const pms_keyring *ring, const char *id,
                        const pms_session_options *opts, pms_health *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    pms_connection c;
    int rc = st->ops->connection_get(st, id, &c, err);
    if (rc)
        return rc;
    pms_session *s = NULL;
    pms_token_box *box = NULL;
    if ((rc = pms_connection_open_session(st, ring, &c, opts, &box, &s, err)) == PMS_OK) {
        rc = pms_adapter_health_check(s, out, err);
        if (rc == PMS_OK && out->ok && c.practice_name == NULL)
            record_practice(st, s, c.id);
        pms_token_box_save(box, st, ring, c.id, NULL);
    }
    pms_session_close(s);
    pms_token_box_free(box);
    pms_connection_clear(&c);
    return rc;
}

static json_t *settings_json(const pms_setting_def *defs)
{
    json_t *arr = json_array();
    for (const pms_setting_def *d = defs; d && d->key; d++)
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:b, s:b, s:s?}", "key", d->key, "label",
                                        d->label, "help", d->help, "required", d->required,
                                        "secret", d->secret, "default", d->default_value));
    return arr;
}

json_t *pms_systems_to_json(void)
{
    json_t *all = json_array();
    for (const pms_adapter_ops *const *a = pms_adapter_all(); all && *a; a++) {
        json_array_append_new(all, json_pack("{s:s, s:s, s:s?, s:o, s:o}", "name", (*a)->name,
                                             "displayName", (*a)->display_name, "defaultBaseUrl",
                                             (*a)->default_base_url, "capabilities",
                                             pms_capabilities_to_json(pms_adapter_capabilities(*a)),
                                             "settings", settings_json((*a)->settings)));
    }
    return all ? json_pack("{s:o, s:o}", "pms", all, "genericSettings",
                           settings_json(pms_generic_settings()))
               : NULL;
}
