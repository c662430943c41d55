/* Practitioner and appointment-type catalogues: what the PMS lists, merged with what the
 * practice chose (mappings, telehealth flags). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/connections.h"
#include "pmsync/log.h"
#include "pmsync/names.h"

/* An existing clinician of the account with exactly this name (by match key), or NULL. */
static const pms_clinician *clinician_named(const pms_clinician_list *clinicians, const char *name)
{
    char *key = pms_name_match_key(name);
    const pms_clinician *found = NULL;
    for (size_t i = 0; key && i < clinicians->count && !found; i++) {
        char *other = pms_name_match_key(clinicians->items[i].name);
        if (other && strcmp(other, key) == 0)
            found = &clinicians->items[i];
        free(other);
    }
    free(key);
    return found;
}

static const pms_mapping *mapping_for(const pms_mapping_list *mappings, const char *pid)
{
    for (size_t i = 0; i < mappings->count; i++)
        if (strcmp(mappings->items[i].pms_practitioner_id, pid) == 0)
            return &mappings->items[i];
    return NULL;
}

static int add_clinician(pms_store *st, pms_clinician_list *clinicians, const pms_connection *c,
                         const pms_practitioner *p, pms_error *err)
{
    pms_clinician *grown = realloc(clinicians->items, (clinicians->count + 1) * sizeof *grown);
    if (grown == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    clinicians->items = grown;
    pms_clinician *added = &grown[clinicians->count];
    memset(added, 0, sizeof *added);
    if (pms_str_set(&added->account_id, c->account_id) || pms_str_set(&added->name, p->full_name) ||
        pms_str_set(&added->pms_practitioner_id, p->id) ||
        pms_str_set(&added->pms_connection_id, c->id)) {
        pms_clinician_clear(added);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    int rc = st->ops->clinician_insert(st, added, err);
    if (rc != PMS_OK) {
        pms_clinician_clear(added);
        return rc;
    }
    clinicians->count++;
    return PMS_OK;
}

/* Brings one practitioner's mapping up to date. A new one that takes appointments gets a
 * clinician unless the connection skips unmapped practitioners; *clinician_id (when not NULL)
 * receives the mapped clinician's id (a new string, NULL when unmapped). */
static int refresh_one(pms_store *st, const pms_connection *c, const pms_practitioner *p,
                       const pms_mapping *existing, pms_clinician_list *clinicians,
                       char **clinician_id, pms_error *err)
{
    const char *name = p->full_name ? p->full_name : p->id;
    if (existing) {
        bool same = existing->pms_practitioner_name &&
                    strcmp(existing->pms_practitioner_name, name) == 0 &&
                    existing->pms_active == p->active && existing->pms_bookable == p->bookable;
        if (same)
            return PMS_OK;
        /* A copy that borrows the existing strings; the upsert replaces m.id with a new one. */
        pms_mapping m = *existing;
        m.id = NULL;
        m.pms_practitioner_name = (char *)name;
        m.pms_active = p->active;
        m.pms_bookable = p->bookable;
        int rc = st->ops->mapping_upsert(st, &m, err);
        free(m.id);
        return rc;
    }
    pms_mapping m = {
        .pms_connection_id = c->id,
        .pms_practitioner_id = p->id,
        .pms_practitioner_name = (char *)name,
        .sync_enabled = true,
        .pms_active = p->active,
        .pms_bookable = p->bookable,
    };
    /* Practitioners who take appointments get a run-sheet column unless the practice chose to
     * map them by hand. */
    if (p->active && p->bookable && !c->skip_unmapped) {
        const pms_clinician *same_name = clinician_named(clinicians, name);
        if (same_name == NULL) {
            pms_practitioner named = *p;
            named.full_name = (char *)name;
            int rc = add_clinician(st, clinicians, c, &named, err);
            if (rc != PMS_OK)
                return rc;
            same_name = &clinicians->items[clinicians->count - 1];
            m.auto_created = true;
        }
        m.run_sheet_clinician_id = same_name->id;
    }
    int rc = st->ops->mapping_upsert(st, &m, err);
    free(m.id);
    if (rc == PMS_OK && clinician_id && m.run_sheet_clinician_id &&
        (*clinician_id = strdup(m.run_sheet_clinician_id)) == NULL)
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    return rc;
}

int pms_catalog_adopt_practitioner(pms_store *st, const pms_connection *c,
                                   const pms_practitioner_ref *ref, char **clinician_id,
                                   pms_error *err)
{
    *clinician_id = NULL;
    pms_clinician_list clinicians = {0};
    int rc = st->ops->clinician_list(st, c->account_id, &clinicians, err);
    if (rc != PMS_OK)
        return rc;
    char placeholder[64];
    snprintf(placeholder, sizeof placeholder, "Practitioner %.8s", ref->pms_practitioner_id);
    pms_practitioner p = {
        .id = ref->pms_practitioner_id,
        .full_name = ref->full_name ? ref->full_name : placeholder,
        .active = true,
        .bookable = true,
    };
    rc = refresh_one(st, c, &p, NULL, &clinicians, clinician_id, err);
    pms_clinician_list_clear(&clinicians);
    return rc;
}

int pms_catalog_refresh_practitioners(pms_store *st, pms_session *s, const pms_connection *c,
                                      pms_practitioner_list *out, pms_error *err)
{
    pms_practitioner_list listed = {0};
    pms_mapping_list mappings = {0};
    pms_clinician_list clinicians = {0};
    int rc = pms_adapter_list_practitioners(s, &listed, err);
    if (rc != PMS_OK)
        return rc;
    if ((rc = st->ops->mapping_list(st, c->id, &mappings, err)) != PMS_OK ||
        (rc = st->ops->clinician_list(st, c->account_id, &clinicians, err)) != PMS_OK)
        goto out;
    if ((rc = st->ops->begin(st, err)) != PMS_OK)
        goto out;
    for (size_t i = 0; i < listed.count && rc == PMS_OK; i++)
        rc = refresh_one(st, c, &listed.items[i], mapping_for(&mappings, listed.items[i].id),
                         &clinicians, NULL, err);
    if (rc == PMS_OK)
        rc = st->ops->commit(st, err);
    if (rc != PMS_OK)
        st->ops->rollback(st);
out:
    pms_mapping_list_clear(&mappings);
    pms_clinician_list_clear(&clinicians);
    if (rc == PMS_OK && out)
        *out = listed;
    else
        pms_practitioner_list_clear(&listed);
    return rc;
}

int pms_catalog_refresh_types(pms_store *st, pms_session *s, const pms_connection *c,
                              pms_error *err)
{
    pms_appt_type_list types = {0};
    int rc = pms_adapter_list_appointment_types(s, &types, err);
    if (rc != PMS_OK)
        return rc;
    if ((rc = st->ops->begin(st, err)) == PMS_OK) {
        for (size_t i = 0; i < types.count && rc == PMS_OK; i++)
            rc = st->ops->type_upsert_from_pms(st, c->id, &types.items[i], err);
        if (rc == PMS_OK)
            rc = st->ops->commit(st, err);
        if (rc != PMS_OK)
            st->ops->rollback(st);
    }
    pms_appt_type_list_clear(&types);
    return rc;
}
