/* Re-encrypting sealed values (connections, then voice credentials: rotation_voice.c) under the
 * primary key, and key usage counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/connections.h"
#include "pmsync/rotation.h"
#include "security/reseal.h"
#include "security/rotation_voice.h"

#define SEALED_COLUMNS 3

static const char *const sealed_column_names[SEALED_COLUMNS] = {"secrets", "access_token",
                                                                "refresh_token"};

static char **sealed_column(pms_connection *c, int i)
{
    return i == 0   ? &c->secrets_sealed
           : i == 1 ? &c->access_token_sealed
                    : &c->refresh_token_sealed;
}

bool pms_sealed_under(const char *envelope, const char *key_id)
{
    char id[PMS_KEY_ID_LEN];
    return pms_envelope_key_id(envelope, id, NULL) == PMS_OK && strcmp(id, key_id) == 0;
}

/* Opens one value and seals it again under the primary key; *value is replaced. */
static int reseal(const pms_keyring *ring, const char *aad, char **value, pms_error *err)
{
    char *plain = NULL, *sealed = NULL;
    size_t len = 0;
    int rc = pms_open(ring, aad, *value, &plain, &len, err);
    if (rc == PMS_OK)
        rc = pms_seal(ring, aad, plain, len, &sealed, err);
    pms_secure_free(plain, len);
    if (rc == PMS_OK) {
        free(*value);
        *value = sealed;
    }
    return rc;
}

bool pms_reseal_values(const pms_keyring *ring, const char *primary, const pms_sealed_value *v,
                       int count, const char *kind, const char *id, pms_reencrypt_report *r)
{
    bool changed = false;
    for (int i = 0; i < count; i++) {
        if (*v[i].value == NULL)
            continue;
        r->values++;
        if (pms_sealed_under(*v[i].value, primary)) {
            r->current++;
            continue;
        }
        pms_error why = {0};
        if (v[i].aad == NULL)
            pms_error_set(&why, PMS_ERR_NOMEM, "out of memory");
        if (v[i].aad == NULL || reseal(ring, v[i].aad, v[i].value, &why) != PMS_OK) {
            r->failed++;
            if (r->first_failure[0] == '\0')
                snprintf(r->first_failure, sizeof r->first_failure, "%s %.40s %s: %s", kind, id,
                         v[i].name, why.message);
            continue;
        }
        r->reencrypted++;
        changed = true;
    }
    return changed;
}

/* One connection, in its own write transaction, read again inside it. */
static int reencrypt_connection(pms_store *st, const pms_keyring *ring, const char *id,
                                const char *primary, pms_reencrypt_report *r, pms_error *err)
{
    int rc = st->ops->begin(st, err);
    if (rc != PMS_OK)
        return rc;
    pms_connection c;
    if ((rc = st->ops->connection_get(st, id, &c, err)) != PMS_OK) {
        st->ops->rollback(st);
        return rc == PMS_ERR_NOT_FOUND ? PMS_OK : rc; /* removed meanwhile */
    }
    pms_sealed_value v[SEALED_COLUMNS];
    for (int i = 0; i < SEALED_COLUMNS; i++)
        v[i] = (pms_sealed_value){sealed_column(&c, i),
                                  pms_connection_aad(c.id, sealed_column_names[i]),
                                  sealed_column_names[i]};
    bool changed = pms_reseal_values(ring, primary, v, SEALED_COLUMNS, "connection", c.id, r);
    for (int i = 0; i < SEALED_COLUMNS; i++)
        free((char *)v[i].aad);
    if (changed)
        rc = st->ops->connection_set_sealed(st, c.id, c.secrets_sealed, c.access_token_sealed,
                                            c.refresh_token_sealed, err);
    if (rc == PMS_OK)
        rc = st->ops->commit(st, err);
    if (rc != PMS_OK)
        st->ops->rollback(st);
    pms_connection_clear(&c);
    return rc;
}

int pms_reencrypt_all(pms_store *st, const pms_keyring *ring, pms_reencrypt_report *out,
                      pms_error *err)
{
    memset(out, 0, sizeof *out);
    char primary[PMS_KEY_ID_LEN];
    if (ring == NULL || !pms_keyring_key_id_at(ring, 0, primary))
        return pms_error_set(err, PMS_ERR_CONFIG, "no encryption key to re-encrypt with");
    pms_connection_list all = {0};
    int rc = st->ops->connection_list(st, NULL, &all, err);
    for (size_t i = 0; rc == PMS_OK && i < all.count; i++) {
        pms_connection *c = &all.items[i];
        bool needed = false;
        long seen = 0;
        for (int j = 0; j < SEALED_COLUMNS; j++) {
            const char *value = *sealed_column(c, j);
            if (value == NULL)
                continue;
            seen++;
            needed = needed || !pms_sealed_under(value, primary);
        }
        if (!needed) {
            out->values += seen;
            out->current += seen;
            continue;
        }
        rc = reencrypt_connection(st, ring, c->id, primary, out, err);
    }
    pms_connection_list_clear(&all);
    if (rc == PMS_OK)
        rc = pms_reencrypt_voice(st, ring, primary, out, err);
    return rc;
}

int pms_key_usage_count(pms_store *st, const char *key_id, pms_key_usage *out, pms_error *err)
{
    memset(out, 0, sizeof *out);
    if (key_id == NULL || key_id[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "no key id");
    pms_connection_list all = {0};
    int rc = st->ops->connection_list(st, NULL, &all, err);
    for (size_t i = 0; rc == PMS_OK && i < all.count; i++)
        for (int j = 0; j < SEALED_COLUMNS; j++) {
            const char *value = *sealed_column(&all.items[i], j);
            if (value != NULL && pms_sealed_under(value, key_id))
                out->sealed_values++;
        }
    pms_connection_list_clear(&all);
    if (rc == PMS_OK)
        rc = pms_voice_key_usage(st, key_id, &out->sealed_values, err);
    if (rc == PMS_OK)
        rc = st->ops->audit_count_key(st, key_id, &out->audit_records, err);
    pms_audit_head head;
    if (rc == PMS_OK && (rc = st->ops->audit_head_get(st, &head, err)) == PMS_OK)
        out->audit_head = strcmp(head.key_id, key_id) == 0;
    return rc;
}

int pms_key_retire(pms_store *st, const char *key_file, const char *key_id, unsigned flags,
                   pms_key_usage *usage, pms_error *err)
{
    pms_key_usage local;
    pms_key_usage *u = usage ? usage : &local;
    memset(u, 0, sizeof *u);
    if (key_id == NULL || key_id[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "no key id");
    pms_keyring *file_ring = NULL;
    int rc = pms_keyring_load(NULL, key_file, false, &file_ring, err);
    if (rc != PMS_OK)
        return rc;
    char primary[PMS_KEY_ID_LEN] = "";
    pms_keyring_key_id_at(file_ring, 0, primary);
    bool held = false;
    char id[PMS_KEY_ID_LEN];
    for (size_t i = 0; pms_keyring_key_id_at(file_ring, i, id) && !held; i++)
        held = strcmp(id, key_id) == 0;
    pms_keyring_free(file_ring);
    if (!held)
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "key file %s holds no key with id %.32s",
                             key_file, key_id);
    if (strcmp(primary, key_id) == 0)
        return pms_error_set(err, PMS_ERR_INVALID,
                             "key %.32s is the primary key; rotate to a new key before retiring it",
                             key_id);
    if ((rc = pms_key_usage_count(st, key_id, u, err)) != PMS_OK)
        return rc;
    if (u->audit_head)
        return pms_error_set(
            err, PMS_ERR_CONFLICT,
            "the audit log's head is signed with key %.32s; append an audit record "
            "under the primary key first",
            key_id);
    if (u->sealed_values > 0 && !(flags & PMS_RETIRE_FORCE))
        return pms_error_set(err, PMS_ERR_CONFLICT,
                             "key %.32s still seals %ld stored value(s); re-encrypt them first",
                             key_id, u->sealed_values);
    if (u->audit_records > 0 && !(flags & PMS_RETIRE_FORCE_AUDIT))
        return pms_error_set(err, PMS_ERR_CONFLICT,
                             "key %.32s chained %lld audit record(s); verifying them needs it",
                             key_id, u->audit_records);
    return pms_key_file_remove(key_file, key_id, err);
}
