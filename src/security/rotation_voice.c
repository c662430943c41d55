/* Re-sealing the voice receptionist's credentials under the primary key, and counting those
 * still under an older one. */
#include "security/rotation_voice.h"

#include "security/reseal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOICE_SECRETS 2

static const char *const voice_secret_names[VOICE_SECRETS] = {"bearer", "hmac"};

static char **voice_secret(pms_voice_settings *v, int i)
{
    return i == 0 ? &v->bearer_sealed : &v->hmac_sealed;
}

static int reencrypt_account(pms_store *st, const pms_keyring *ring, const char *account_id,
                             const char *primary, pms_reencrypt_report *r, pms_error *err)
{
    int rc = st->ops->begin(st, err);
    if (rc != PMS_OK)
        return rc;
    pms_voice_settings v = {0};
    if ((rc = st->ops->voice_settings_get(st, account_id, &v, err)) != PMS_OK) {
        st->ops->rollback(st);
        return rc == PMS_ERR_NOT_FOUND ? PMS_OK : rc; /* removed meanwhile */
    }
    char aads[VOICE_SECRETS][128];
    pms_sealed_value values[VOICE_SECRETS];
    for (int i = 0; i < VOICE_SECRETS; i++) {
        pms_voice_aad(v.account_id, voice_secret_names[i], aads[i], sizeof aads[i]);
        values[i] = (pms_sealed_value){voice_secret(&v, i), aads[i], voice_secret_names[i]};
    }
    bool changed =
        pms_reseal_values(ring, primary, values, VOICE_SECRETS, "voice", v.account_id, r);
    if (changed)
        rc = st->ops->voice_settings_put(st, &v, err);
    if (rc == PMS_OK)
        rc = st->ops->commit(st, err);
    if (rc != PMS_OK)
        st->ops->rollback(st);
    pms_voice_settings_clear(&v);
    return rc;
}

int pms_reencrypt_voice(pms_store *st, const pms_keyring *ring, const char *primary,
                        pms_reencrypt_report *r, pms_error *err)
{
    pms_voice_settings_array all = {0};
    int rc = st->ops->voice_settings_list(st, &all, err);
    for (size_t i = 0; rc == PMS_OK && i < all.count; i++) {
        bool needed = false;
        long seen = 0;
        for (int j = 0; j < VOICE_SECRETS; j++) {
            const char *value = *voice_secret(&all.items[i], j);
            if (value == NULL)
                continue;
            seen++;
            needed = needed || !pms_sealed_under(value, primary);
        }
        if (!needed) {
            r->values += seen;
            r->current += seen;
            continue;
        }
        rc = reencrypt_account(st, ring, all.items[i].account_id, primary, r, err);
    }
    pms_voice_settings_array_clear(&all);
    return rc;
}

int pms_voice_key_usage(pms_store *st, const char *key_id, long *count, pms_error *err)
{
    pms_voice_settings_array all = {0};
    int rc = st->ops->voice_settings_list(st, &all, err);
    for (size_t i = 0; rc == PMS_OK && i < all.count; i++)
        for (int j = 0; j < VOICE_SECRETS; j++) {
            const char *value = *voice_secret(&all.items[i], j);
            if (value != NULL && pms_sealed_under(value, key_id))
                (*count)++;
        }
    pms_voice_settings_array_clear(&all);
    return rc;
}
